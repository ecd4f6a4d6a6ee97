"""Who may do what on a deal: the roles a user holds and the actions a deal page offers."""
import logging
from dataclasses import dataclass

from market.accounts.models import (
    Role,
    User,
)
from market.deals import payments
from market.deals.limits import BEFORE_REGISTRATION, EDITABLE_TERMS_STAGES
from market.deals.models import (
    PIPELINE,
    Deal,
    DealStage,
)
from market.security import is_member_of

audit = logging.getLogger("market.audit")

MOVERS = {
    DealStage.NEGOTIATION: {"party"},
    DealStage.PRICING: {"party"},
    DealStage.NOTICE: {"party", "broker"},
    DealStage.SIGNED: {"party", "broker"},
    DealStage.REGISTERED: {"transferor", "broker", "admin"},
    DealStage.COMPLETED: {"transferor", "admin"},
    DealStage.TERMINATED: {"party", "broker", "admin"},
}
"""Who may move a deal into each stage (performance is reached by the first payment only)."""

EDITORS = {"party", "broker"}
"""Who may change a deal's terms and its intermediaries before registration."""



# ---------------------------------------------------------------- roles


def deal_roles(user: User | None, deal: Deal) -> set[str]:
    """The roles the user holds in a deal: transferor, transferee, party, broker, intermediary, admin, platform_broker."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    roles = set()
    if user.is_admin:
        roles.add("admin")
    if is_member_of(user, deal.transferor_id):
        roles |= {"transferor", "party"}
    if is_member_of(user, deal.transferee_id):
        roles |= {"transferee", "party"}
    if user.role == Role.BROKER and user.is_approved_member:
        roles.add("platform_broker")
        if deal.broker_id == user.id:
            roles.add("broker")
    if any(row.user_id == user.id for row in deal.intermediaries):
        roles.add("intermediary")
    return roles


def can_view_deal(user: User | None, deal: Deal) -> bool:
    """Parties, the deal's broker and intermediaries, every approved broker (they track deals) and admins."""
    return bool(deal_roles(user, deal))


def may_move(user: User | None, deal: Deal, target: DealStage) -> bool:
    """Whether the user may move the deal into the target stage (ignoring the current stage)."""
    return bool(MOVERS.get(target, set()) & deal_roles(user, deal))


def next_stage(deal: Deal) -> DealStage | None:
    """The next pipeline stage of an open deal."""
    if not deal.is_open:
        return None
    return PIPELINE[PIPELINE.index(deal.stage) + 1]


@dataclass
class DealPermissions:
    """What the user may do on a deal page right now (the services check the same again)."""

    advance_to: DealStage | None = None
    edit_terms: bool = False
    start_notice: bool = False
    sign: bool = False
    register: bool = False
    complete: bool = False
    terminate: bool = False
    edit_intermediaries: bool = False
    record_exception: bool = False
    claim: bool = False
    assign_broker: bool = False
    record_payment: bool = False

    @property
    def offers_anything(self) -> bool:
        """Whether any action is open to the user."""
        return any(value for value in vars(self).values())


def permissions(user: User | None, deal: Deal) -> DealPermissions:
    """The actions to offer the user on the deal page."""
    roles = deal_roles(user, deal)
    allowed = DealPermissions()
    if not deal.is_open or not roles:
        return allowed
    step = next_stage(deal)
    if step in (DealStage.NEGOTIATION, DealStage.PRICING) and may_move(user, deal, step):
        allowed.advance_to = step
    allowed.edit_terms = deal.stage in EDITABLE_TERMS_STAGES and bool(EDITORS & roles)
    allowed.start_notice = step == DealStage.NOTICE and may_move(user, deal, step)
    allowed.sign = step == DealStage.SIGNED and may_move(user, deal, step)
    allowed.register = step == DealStage.REGISTERED and may_move(user, deal, step)
    allowed.complete = step == DealStage.COMPLETED and may_move(user, deal, step)
    allowed.terminate = may_move(user, deal, DealStage.TERMINATED)
    allowed.edit_intermediaries = deal.stage in BEFORE_REGISTRATION and bool(EDITORS & roles)
    allowed.record_exception = deal.stage in BEFORE_REGISTRATION and "admin" in roles
    allowed.claim = deal.broker_id is None and "platform_broker" in roles
    allowed.assign_broker = "admin" in roles
    allowed.record_payment = (deal.stage in payments.PAYABLE_STAGES and user is not None
                              and payments.may_record_payment(user, deal))
    return allowed
