"""Who may do what with an organisation's verification and residency: one predicate per action, used by the pages and
the services alike."""
from market.accounts.models import User
from market.security import is_member_of


def _signed_in(user: User | None) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def can_submit_verification(user: User | None, organisation_id: int) -> bool:
    """The organisation's approved members submit its credit code and business licence (an admin never does)."""
    return is_member_of(user, organisation_id)


def can_decide_verification(user: User | None, organisation_id: int) -> bool:
    """Admins verify or refuse, never for an organisation they belong to."""
    return _signed_in(user) and user.is_admin and user.organisation_id != organisation_id


def can_record_residency(user: User | None) -> bool:
    """Only admins record, change or end a residency."""
    return _signed_in(user) and user.is_admin


def can_see_organisation_documents(user: User | None, organisation_id: int) -> bool:
    """The verification history and the PDFs (business licences, 入驻 agreements) are for the organisation's approved
    members and admins."""
    return _signed_in(user) and (user.is_admin or is_member_of(user, organisation_id))
