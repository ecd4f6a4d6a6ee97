"""The agency's service fee (佣金) on a deal with a broker: a term agreed with the client (a rate of the contract
amount or a fixed amount, and the party that pays it; a change is a new version of the terms), and its payment,
which a member of the paying party marks paid or unpaid; the broker sees his deals' fees on his money page."""
import logging
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from market.accounts.models import User
from market.awards.payment_input import PaymentInput
from market.deals import recording, terms
from market.deals.inputs import FeeInput
from market.deals.labels import FEE_PAYER_LABELS
from market.deals.limits import EDITABLE_TERMS_STAGES
from market.deals.models import Deal, FeePayer
from market.deals.permissions import EDITORS, deal_roles
from market.deals.pipeline import get_deal, terms_changed_title
from market.deals.recording import lock_deal, raise_if_errors, record_step
from market.declared import validate_input
from market.errors import InvalidStateError, PermissionDeniedError
from market.money import BASIS_POINTS, format_yuan, rate_number

audit = logging.getLogger("market.audit")


def has_fee(deal: Deal) -> bool:
    """Whether a fee is agreed on the deal."""
    return deal.fee_rate_bp is not None or deal.fee_fixed_fen is not None


def fee_due_fen(deal: Deal) -> int | None:
    """What the paying party owes: the fixed amount, or the contract amount × rate / 10000 rounded down (None while
    no fee is agreed or the contract amount is open)."""
    if deal.fee_fixed_fen is not None:
        return deal.fee_fixed_fen
    if deal.fee_rate_bp is None or deal.agreed_amount_fen is None:
        return None
    return deal.agreed_amount_fen * deal.fee_rate_bp // BASIS_POINTS


def fee_text(deal: Deal) -> str:
    """The agreed fee in words: its rate or amount and who pays it."""
    if not has_fee(deal):
        return _("未约定")
    payer = FEE_PAYER_LABELS[FeePayer(deal.fee_payer)]
    if deal.fee_fixed_fen is not None:
        return _("固定金额 %(a)s，由%(p)s支付", a=format_yuan(deal.fee_fixed_fen), p=payer)
    return _("合同金额的 %(r)s%%，由%(p)s支付", r=rate_number(deal.fee_rate_bp), p=payer)


def set_fee(session: Session, actor: User, deal_id: int, *, fee_rate_bp=None, fee_fixed_fen=None,
            fee_payer=None) -> Deal:
    """A party or the broker sets the fee (a rate or a fixed amount, and its payer) or clears it, until the notice
    starts; a fee needs a broker on the deal. A change is a new version of the terms for everyone to accept."""
    deal = get_deal(session, actor, deal_id)
    if not EDITORS & deal_roles(actor, deal):
        raise PermissionDeniedError(_("只有项目双方或项目经纪人可以修改佣金。"))
    lock_deal(session, deal)
    terms.refuse_if_locked(deal)
    if deal.stage not in EDITABLE_TERMS_STAGES:
        raise InvalidStateError(_("公示开始后不能再修改交易条件。"))
    values, errors = validate_input(FeeInput, {"fee_rate": fee_rate_bp, "fee_fixed_fen": fee_fixed_fen,
                                               "fee_payer": fee_payer})
    rate, fixed, payer = values.get("fee_rate"), values.get("fee_fixed_fen"), values.get("fee_payer")
    if rate is not None and fixed is not None:
        errors.add("fee_fixed_fen", _("佣金按比例或按固定金额约定，只填其一。"))
    if (rate is not None or fixed is not None) and payer is None and "fee_payer" not in errors:
        errors.add("fee_payer", _("请选择支付佣金的一方。"))
    if rate is None and fixed is None and payer is not None and not errors:
        errors.add("fee_payer", _("未约定佣金时不选择支付方。"))
    raise_if_errors(errors)
    if (rate is not None or fixed is not None) and deal.broker_id is None:
        raise InvalidStateError(_("项目有经纪人后才能约定佣金。"))
    if (deal.fee_rate_bp, deal.fee_fixed_fen, deal.fee_payer) == (rate, fixed, payer):
        return deal
    deal.fee_rate_bp, deal.fee_fixed_fen, deal.fee_payer = rate, fixed, payer.value if payer else None
    version = terms.new_terms_version(session, deal, actor)
    record_step(session, deal, actor, "fee", deal.stage, code="fee",
                params={"version": version, "rate_bp": deal.fee_rate_bp, "fixed_fen": deal.fee_fixed_fen,
                        "payer": deal.fee_payer},
                notify_title=terms_changed_title(deal))
    session.flush()
    return deal


def may_mark_fee(user: User | None, deal: Deal) -> bool:
    """A member of the paying party marks the fee paid or unpaid once the deal is signed."""
    return has_fee(deal) and deal.signed_on is not None and deal.fee_payer in deal_roles(user, deal)


def _deal_for_fee_payment(session: Session, actor: User, deal_id: int) -> Deal:
    deal = get_deal(session, actor, deal_id)
    if not has_fee(deal):
        raise InvalidStateError(_("该项目没有约定佣金。"))
    if deal.fee_payer not in deal_roles(actor, deal):
        raise PermissionDeniedError(_("佣金由支付方（%(p)s）的成员标记。", p=FEE_PAYER_LABELS[FeePayer(deal.fee_payer)]))
    if deal.signed_on is None:
        raise InvalidStateError(_("签约后才能标记佣金支付。"))
    return lock_deal(session, deal)


def mark_fee_paid(session: Session, actor: User, deal_id: int, *, amount_fen, paid_on) -> Deal:
    """A member of the paying party marks the fee paid (amount and date); the broker and everyone involved are told."""
    deal = _deal_for_fee_payment(session, actor, deal_id)
    values, errors = validate_input(PaymentInput, {"amount_fen": amount_fen, "paid_on": paid_on})
    day: date | None = values.get("paid_on")
    if day is not None and day > recording.today():
        errors.add("paid_on", _("支付日期不能晚于今天。"))
    raise_if_errors(errors)
    deal.fee_paid_fen, deal.fee_paid_on, deal.fee_paid_by_id = values["amount_fen"], day, actor.id
    record_step(session, deal, actor, "fee_paid", deal.stage,
                code="fee_paid", params={"day": day.isoformat(), "amount_fen": deal.fee_paid_fen},
                notify_title=_("佣金已标记为已支付：%(t)s", t=deal.title))
    session.flush()
    audit.info("deal %s fee marked paid by user_id=%s", deal.id, actor.id)
    return deal


def mark_fee_unpaid(session: Session, actor: User, deal_id: int) -> Deal:
    """A member of the paying party takes back the mark (the fee shows as unpaid again)."""
    deal = _deal_for_fee_payment(session, actor, deal_id)
    if deal.fee_paid_fen is None:
        raise InvalidStateError(_("佣金尚未标记为已支付。"))
    deal.fee_paid_fen = deal.fee_paid_on = deal.fee_paid_by_id = None
    record_step(session, deal, actor, "fee_unpaid", deal.stage, notify_title=_("佣金已改为未支付：%(t)s", t=deal.title))
    session.flush()
    return deal


@dataclass(frozen=True)
class BrokerFee:
    """One of a broker's deals with an agreed fee, as his money page lists it."""

    deal: Deal
    agreed: str
    due_fen: int | None
    paid_fen: int | None
    paid_on: date | None

    @property
    def is_paid(self) -> bool:
        """Whether the paying party marked the fee paid."""
        return self.paid_fen is not None


def broker_fees(session: Session, broker: User) -> list[BrokerFee]:
    """The fees of the deals the user is the broker of, most recently changed first."""
    deals = session.scalars(select(Deal).where(Deal.broker_id == broker.id, (Deal.fee_rate_bp.is_not(None))
                                               | (Deal.fee_fixed_fen.is_not(None)))
                            .order_by(Deal.updated_at.desc(), Deal.id.desc()))
    return [BrokerFee(deal, fee_text(deal), fee_due_fen(deal), deal.fee_paid_fen, deal.fee_paid_on) for deal in deals]
