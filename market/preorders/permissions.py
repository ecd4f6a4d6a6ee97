"""Who may do what on a pre-order agreement: one predicate per action, used by the pages, the API and the services."""
from sqlalchemy import or_, true

from market.accounts.models import Role, User
from market.confirmations.services import recording_role
from market.confirmations.table import FactKind, FactRole
from market.preorders.models import PreorderAgreement
from market.security import is_member_of


def _signed_in(user: User | None) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def may_create_agreement(user: User | None) -> bool:
    """Approved enterprise members (as buyer or seller), approved brokers and admins record agreements."""
    return _signed_in(user) and (user.is_admin or (user.role in (Role.ENTERPRISE, Role.BROKER)
                                                   and user.is_approved_member))


def may_view_agreement(user: User | None, agreement: PreorderAgreement) -> bool:
    """Members of the buyer and the seller, the agreement's broker and admins see an agreement."""
    return _signed_in(user) and is_party(user, agreement)


def is_agreement_broker(user: User | None, agreement: PreorderAgreement) -> bool:
    """Whether the user is the broker named on the agreement."""
    return _signed_in(user) and agreement.broker_id is not None and agreement.broker_id == user.id


def may_record_delivery(user: User | None, agreement: PreorderAgreement) -> bool:
    """The seller's members, the agreement's broker and admins record deliveries."""
    return _signed_in(user) and (user.is_admin or is_member_of(user, agreement.seller_id)
                                 or is_agreement_broker(user, agreement))


def may_accept_delivery(user: User | None, agreement: PreorderAgreement) -> bool:
    """Only the buyer's members accept deliveries."""
    return _signed_in(user) and is_member_of(user, agreement.buyer_id)


def fact_roles(user: User | None, agreement: PreorderAgreement) -> set[FactRole]:
    """The roles of the confirmation table the user holds on an agreement."""
    if not _signed_in(user):
        return set()
    roles = set()
    if user.is_admin:
        roles.add(FactRole.ADMIN)
    if is_member_of(user, agreement.buyer_id):
        roles.add(FactRole.BUYER)
    if is_member_of(user, agreement.seller_id):
        roles.add(FactRole.SELLER)
    if is_agreement_broker(user, agreement):
        roles.add(FactRole.BROKER)
    return roles


def may_record_payment(user: User | None, agreement: PreorderAgreement) -> bool:
    """The buyer's members and the agreement's broker record payments (the confirmation table's recorders)."""
    return recording_role(FactKind.PREORDER_PAYMENT, fact_roles(user, agreement)) is not None


def may_amend(user: User | None, agreement: PreorderAgreement) -> bool:
    """Those who may record an agreement and see this one may record its amended version."""
    return may_view_agreement(user, agreement)


def may_terminate(user: User | None, agreement: PreorderAgreement) -> bool:
    """Either party (its members) or an admin may end an agreement."""
    return _signed_in(user) and (user.is_admin or is_member_of(user, agreement.buyer_id)
                                 or is_member_of(user, agreement.seller_id))


def is_party(user: User, agreement: PreorderAgreement) -> bool:
    """Buyer and seller members, the agreement's broker and admins."""
    return (user.is_admin or is_member_of(user, agreement.buyer_id) or is_member_of(user, agreement.seller_id)
            or (agreement.broker_id is not None and agreement.broker_id == user.id))


def visible_agreements(user: User):
    """The SQL condition of may_view_agreement: the agreements a user may see, for lists."""
    if user.is_admin:
        return true()
    clauses = [PreorderAgreement.broker_id == user.id]
    if user.is_approved_member and user.organisation_id is not None:
        clauses += [PreorderAgreement.buyer_id == user.organisation_id,
                    PreorderAgreement.seller_id == user.organisation_id]
    return or_(*clauses)
