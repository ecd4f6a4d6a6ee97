"""Pre-order agreements as the parties make them in tests: one side records (proposes) an agreement or an amendment,
and a member of each side that must confirm it does (a member is added to a party that has none)."""
from sqlalchemy import select

from market.accounts.models import ApprovalStatus, Role, User
from market.extensions import db
from market.preorders import proposals
from market.preorders.models import PreorderAgreement


def member_or_new(organisation_id: int) -> User:
    """An approved enterprise member of the organisation, added when it has none."""
    member = db.session.scalar(select(User).where(User.organisation_id == organisation_id,
                                                  User.membership_status == ApprovalStatus.APPROVED,
                                                  User.role == Role.ENTERPRISE).order_by(User.id).limit(1))
    if member is None:
        member = User(email=f"confirmer{organisation_id}@example.org", name=f"确认人{organisation_id}",
                      role=Role.ENTERPRISE, organisation_id=organisation_id, password_hash="unused",
                      membership_status=ApprovalStatus.APPROVED)
        db.session.add(member)
        db.session.flush()
    return member


def confirm_by_the_other_parties(agreement: PreorderAgreement) -> PreorderAgreement:
    """Each side that must still confirm the proposed agreement does, through one of its members."""
    agreement = db.session.get(PreorderAgreement, agreement.id)
    for side in proposals.awaiting_sides(agreement.proposal):
        proposals.confirm_agreement(db.session, member_or_new(proposals.party_id(agreement, side)), agreement.id)
    return db.session.get(PreorderAgreement, agreement.id)


def sign_agreement(actor: User, data: dict) -> PreorderAgreement:
    """An agreement `actor` records and the other party (or both, for a broker's or an admin's) confirms."""
    return confirm_by_the_other_parties(proposals.create_agreement(db.session, actor, data))


def sign_amendment(actor: User, agreement_id: int, data: dict) -> PreorderAgreement:
    """An amended version `actor` records and the other party confirms."""
    return confirm_by_the_other_parties(proposals.amend_agreement(db.session, actor, agreement_id, data))
