"""Who may read and act on awards: one rule for the money pages and the API."""
from market.accounts.models import Role, User
from market.security import is_member_of


def recipient_keys_of(user: User) -> list[str]:
    """The award recipients a user speaks for and may read: themselves, and the organisation they are an approved
    member of (whatever its kind: an award addressed to it is its own)."""
    keys = [f"user-{user.id}"]
    if is_member_of(user, user.organisation_id):
        keys.append(f"org-{user.organisation_id}")
    return keys


def may_read_awards_of(user: User, recipient: str) -> bool:
    """Admins read anyone's awards; others their own and their organisation's."""
    return user.is_admin or recipient in recipient_keys_of(user)


def may_read_statement_of(user: User, broker: User) -> bool:
    """A broker reads his own statement; admins read any broker's."""
    return broker.role == Role.BROKER and (user.is_admin or user.id == broker.id)


def may_see_achievement_room(user: User | None, organisation_id: int) -> bool:
    """Admins, approved brokers and the owning organisation's members see the room left on an achievement's caps."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return user.is_admin or (user.role == Role.BROKER and user.is_approved_member) or is_member_of(user, organisation_id)
