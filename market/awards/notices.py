"""Award recipients are told when an award is computed for them, approved, paid or reversed: a listener on the
session's flush (registered by the money pages' module), so every path that writes awards (payments, signings,
grants, approvals, payouts, reversals) tells them in the same unit of work without the money core knowing about
notifications."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from market.accounts.models import ApprovalStatus, User
from market.awards.labels import AWARD_STATUS_LABELS
from market.awards.ledger import LedgerTransaction
from market.awards.models import Award, AwardStatus, PolicyEvent
from market.deals.models import Deal
from market.money import format_yuan
from market.notifications.services import notify
from market.policy.events import EventType
from market.preorders.models import PreorderAgreement

MONEY_PAGE = "/money/mine"
"""Where a recipient sees their awards."""

COMPUTED_STATUSES = (AwardStatus.PAYABLE, AwardStatus.HELD)
"""A new award line the recipient is told of (a line granted nothing, or waived by stacking, is not news)."""

TITLES = {
    "award_computed": lambda amount, source: _l("奖补已核算：%(amount)s（%(source)s）", amount=amount, source=source),
    "award_approved": lambda amount, source: _l("奖补已审批，待发放：%(amount)s（%(source)s）", amount=amount,
                                                source=source),
    "award_paid": lambda amount, source: _l("奖补已发放：%(amount)s（%(source)s）", amount=amount, source=source),
    "award_reversed": lambda amount, source: _l("奖补已冲正：%(amount)s（%(source)s）", amount=amount, source=source),
    "award_receivable": lambda amount, source: _l("已发放的奖补被冲正，需退回：%(amount)s（%(source)s）", amount=amount,
                                                  source=source),
    "award_recovered": lambda amount, source: _l("冲正奖补的退回款已收到：%(amount)s（%(source)s）", amount=amount,
                                                 source=source),
}
"""The title of each notice, rendered later in the recipient's language."""
CHANGES = {AwardStatus.APPROVED: "award_approved", AwardStatus.PAID: "award_paid", AwardStatus.REVERSED: "award_reversed",
           AwardStatus.RECEIVABLE: "award_receivable"}


@event.listens_for(Session, "before_flush")
def tell_award_recipients(session: Session, _flush_context, _instances) -> None:
    """Tell the recipients of the awards this flush creates or moves to approved, paid or reversed."""
    for award in [item for item in session.new if isinstance(item, Award)]:
        if award.granted_fen and award.status in COMPUTED_STATUSES:
            _tell(session, award, "award_computed", _l("状态：%(s)s", s=AWARD_STATUS_LABELS[AwardStatus(award.status)]))
    for award in [item for item in session.dirty if isinstance(item, Award)]:
        history = inspect(award).attrs.status.history
        kind = CHANGES.get(AwardStatus(history.added[0])) if history.added else None
        if kind == "award_reversed" and AwardStatus.RECEIVABLE in history.deleted:
            kind = "award_recovered"
        if kind is not None:
            _tell(session, award, kind, _detail(session, award, kind))


def _detail(session: Session, award: Award, kind: str):
    if kind == "award_paid":
        return _l("发放凭证号：%(ref)s；发放日期：%(day)s", ref=award.voucher_reference or "",
                  day=award.paid_on.isoformat() if award.paid_on else "")
    if kind in ("award_reversed", "award_receivable"):
        return _l("冲正原因：%(reason)s", reason=_reversal_reason(session, award))
    if kind == "award_recovered":
        return _l("收款凭证号：%(ref)s；追回日期：%(day)s", ref=award.recovery_reference or "",
                  day=award.recovered_on.isoformat() if award.recovered_on else "")
    return ""


def _reversal_reason(session: Session, award: Award) -> str:
    """The reason written on the award's reversing postings (pending in this flush, or already flushed)."""
    pending = [item.memo for item in session.new
               if isinstance(item, LedgerTransaction) and item.award_id == award.id and item.kind in ("reversal", "receivable")]
    if pending:
        return pending[-1] or ""
    return session.scalar(select(LedgerTransaction.memo).where(LedgerTransaction.award_id == award.id,
                                                               LedgerTransaction.kind.in_(("reversal", "receivable")))
                          .order_by(LedgerTransaction.id.desc()).limit(1)) or ""


def _tell(session: Session, award: Award, kind: str, detail) -> None:
    title = TITLES[kind](format_yuan(award.granted_fen), _source(session, award))
    for user_id in recipient_user_ids(session, award.recipient):
        notify(session, user_id, kind, title, body=detail, link=MONEY_PAGE)


def _source(session: Session, award: Award):
    """What earned the award, by name: the deal's title, the agreement's number, or the start-up grant."""
    if award.deal_id and (deal := session.get(Deal, award.deal_id)) is not None:
        return deal.title
    if award.agreement_id and (agreement := session.get(PreorderAgreement, award.agreement_id)) is not None:
        return _l("预约采购协议 %(n)s", n=agreement.number)
    record = session.get(PolicyEvent, award.policy_event_id) if award.policy_event_id else None
    if record is not None and record.event_type == EventType.STARTUP_GRANT:
        return _l("初创企业资本金补助")
    return _l("奖补")


def recipient_user_ids(session: Session, recipient: str) -> list[int]:
    """The people an award's recipient key stands for: the person, or the organisation's approved, active members."""
    kind, _sep, number = recipient.partition("-")
    if not number.isdigit():
        return []
    if kind == "user":
        user = session.get(User, int(number))
        return [user.id] if user is not None and user.is_active_account else []
    if kind == "org":
        return list(session.scalars(select(User.id).where(User.organisation_id == int(number),
                                                          User.membership_status == ApprovalStatus.APPROVED,
                                                          User.is_active_account.is_(True)).order_by(User.id)))
    return []
