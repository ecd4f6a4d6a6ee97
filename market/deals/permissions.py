"""Who may see and do what on bids, demand responses and deals: the roles a user holds, the actions a page offers,
and the same visibility rules as SQL conditions for lists (pages and API alike)."""
import logging
from dataclasses import dataclass

from sqlalchemy import false, or_, select, true

from market.accounts.models import Role, User
from market.achievements.models import Achievement
from market.confirmations.services import recording_role
from market.confirmations.table import FactKind, FactRole
from market.deals.limits import BEFORE_REGISTRATION, EDITABLE_TERMS_STAGES, TERMS_LOCKED_STAGES
from market.deals.models import (
    PIPELINE,
    Bid,
    BidSide,
    BrokerRequestKind,
    Deal,
    DealBrokerRequest,
    DealIntermediary,
    DealStage,
    DemandResponse,
    Introduction,
    TermsRole,
)
from market.demands.models import Demand
from market.security import is_member_of

audit = logging.getLogger("market.audit")

MOVERS = {
    DealStage.NEGOTIATION: {"party"},
    DealStage.PRICING: {"party"},
    DealStage.NOTICE: {"party", "broker"},
    DealStage.SIGNED: {"transferor", "broker"},
    DealStage.REGISTERED: {"transferor", "broker"},
    DealStage.COMPLETED: {"transferor", "admin"},
    DealStage.TERMINATED: {"party", "broker", "admin"},
}
"""Who may move a deal into each stage (performance is reached by the first payment only; signing is recorded by
these and takes effect when the transferee confirms it)."""

EDITORS = {"party", "broker"}
"""Who may change a deal's terms and its intermediaries until the notice starts."""

TermsSeat = tuple[TermsRole, int | None]
"""Someone whose acceptance the terms need: a party (no person: any member may accept for it) or a named intermediary."""

PAYABLE_STAGES = (DealStage.REGISTERED, DealStage.PERFORMANCE)
"""Stages in which proceeds are recorded."""

PARTY_SIDES = ("transferor", "transferee")
"""The two parties of a deal, as roles and as the prefixes of a broker request's acceptance columns."""

BOTH_PARTIES_CONSENT = (BrokerRequestKind.ASK, BrokerRequestKind.ADMIN_PROPOSAL)
"""Broker requests that need one member of each party to accept (an invitation counts as its party's consent)."""



# ---------------------------------------------------------------- roles


def _is_admin(user: User | None) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active and user.is_admin


def _acting_organisation(user: User) -> int | None:
    """The organisation the user acts for as an approved member (None for admins and non-members)."""
    return user.organisation_id if is_member_of(user, user.organisation_id) else None


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


def fact_roles(user: User | None, deal: Deal) -> set[FactRole]:
    """The roles of the confirmation table the user holds on a deal."""
    return {FactRole(role) for role in deal_roles(user, deal) & {"transferor", "transferee", "broker", "admin"}}


def earns_from_payments(user: User, deal: Deal) -> bool:
    """Whether the deal's payments earn the user a reward (a named intermediary or a member of the agent)."""
    return (any(row.user_id == user.id for row in deal.intermediaries)
            or (deal.agent_organisation_id is not None and is_member_of(user, deal.agent_organisation_id)))


def may_see_payment_evidence(user: User | None, deal: Deal) -> bool:
    """Members of the parties, the deal's broker and admins see a payment's receipt or invoice (not every broker
    who tracks deals)."""
    return bool(deal_roles(user, deal) & {"party", "broker", "admin"})


def may_see_money_outlook(user: User | None, deal: Deal) -> bool:
    """The parties, the deal's broker and named intermediaries and admins see the room left under the caps and what
    a payment would earn (not every broker who tracks deals)."""
    return bool(deal_roles(user, deal) & {"party", "broker", "intermediary", "admin"})


def may_record_payment(user: User | None, deal: Deal) -> bool:
    """The parties and the deal's broker record proceeds (the confirmation table's recorders)."""
    return recording_role(FactKind.DEAL_PAYMENT, fact_roles(user, deal)) is not None


def bid_side(user: User | None, bid: Bid) -> BidSide | None:
    """Which side of the bid the user acts for (the buyer's or the achievement owner's), if any."""
    if is_member_of(user, bid.bidder_organisation_id):
        return BidSide.BUYER
    if is_member_of(user, bid.achievement.organisation_id):
        return BidSide.OWNER
    return None


def can_view_bid(user: User | None, bid: Bid) -> bool:
    """Members of both sides and admins see a bid."""
    return bid_side(user, bid) is not None or _is_admin(user)


def visible_bids(user: User):
    """The SQL condition of can_view_bid, for lists."""
    if _is_admin(user):
        return true()
    organisation = _acting_organisation(user)
    if organisation is None:
        return false()
    return or_(Bid.bidder_organisation_id == organisation,
               Bid.achievement_id.in_(select(Achievement.id).where(Achievement.organisation_id == organisation)))


def response_side(user: User | None, response: DemandResponse) -> str | None:
    """'responder' or 'demand' for members of either organisation."""
    if is_member_of(user, response.responder_organisation_id):
        return "responder"
    if is_member_of(user, response.demand.organisation_id):
        return "demand"
    return None


def can_view_response(user: User | None, response: DemandResponse) -> bool:
    """Members of both organisations and admins see a demand response."""
    return response_side(user, response) is not None or _is_admin(user)


def visible_responses(user: User):
    """The SQL condition of can_view_response, for lists."""
    if _is_admin(user):
        return true()
    organisation = _acting_organisation(user)
    if organisation is None:
        return false()
    return or_(DemandResponse.responder_organisation_id == organisation,
               DemandResponse.demand_id.in_(select(Demand.id).where(Demand.organisation_id == organisation)))


def can_view_deal(user: User | None, deal: Deal) -> bool:
    """Parties, the deal's broker and intermediaries, every approved broker (they track deals) and admins."""
    return bool(deal_roles(user, deal))


def visible_deals(user: User):
    """The SQL condition of can_view_deal, for lists: every deal for admins and approved brokers; the organisation's
    deals for its approved members; the deals naming the user as intermediary."""
    if _is_admin(user) or (user.role == Role.BROKER and user.is_approved_member and user.is_active):
        return true()
    conditions = [Deal.id.in_(select(DealIntermediary.deal_id).where(DealIntermediary.user_id == user.id))]
    organisation = _acting_organisation(user)
    if organisation is not None:
        conditions += [Deal.transferor_id == organisation, Deal.transferee_id == organisation]
    return or_(*conditions)


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
    accept_terms: bool = False
    withdraw_notice: bool = False
    record_exception: bool = False
    ask_broker: bool = False
    invite_broker: bool = False
    propose_broker: bool = False
    remove_broker: bool = False
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
    allowed.start_notice = step == DealStage.NOTICE and may_move(user, deal, step) and not missing_terms_seats(deal)
    allowed.sign = (step == DealStage.SIGNED and may_move(user, deal, step)
                    and not any(signing.is_open for signing in deal.signings))
    allowed.register = step == DealStage.REGISTERED and may_move(user, deal, step)
    allowed.complete = step == DealStage.COMPLETED and may_move(user, deal, step)
    allowed.terminate = may_move(user, deal, DealStage.TERMINATED)
    allowed.edit_intermediaries = deal.stage in EDITABLE_TERMS_STAGES and bool(EDITORS & roles)
    allowed.accept_terms = may_accept_terms(user, deal)
    allowed.withdraw_notice = deal.stage == DealStage.NOTICE and "party" in roles
    allowed.record_exception = deal.stage in BEFORE_REGISTRATION and "admin" in roles
    without_broker = deal.broker_id is None
    allowed.ask_broker = (without_broker and "platform_broker" in roles and "party" not in roles
                          and user.id not in pending_broker_ids(deal))
    allowed.invite_broker = without_broker and "party" in roles
    allowed.propose_broker = without_broker and "admin" in roles
    allowed.remove_broker = not without_broker and bool({"party", "admin"} & roles)
    allowed.record_payment = (deal.stage in PAYABLE_STAGES and user is not None
                              and may_record_payment(user, deal))
    return allowed


# ---------------------------------------------------------------- consent to the terms


def terms_seats(deal: Deal) -> list[TermsSeat]:
    """Whose acceptance the current terms need: both parties and each named intermediary (for his share)."""
    return [(TermsRole.TRANSFEROR, None), (TermsRole.TRANSFEREE, None)] + [
        (TermsRole.INTERMEDIARY, row.user_id) for row in deal.intermediaries]


def accepted_terms_seats(deal: Deal) -> set[TermsSeat]:
    """The seats that accepted the current version of the terms."""
    return {(TermsRole(consent.role), consent.user_id if consent.role == TermsRole.INTERMEDIARY else None)
            for consent in deal.terms_consents if consent.terms_version == deal.terms_version}


def missing_terms_seats(deal: Deal) -> list[TermsSeat]:
    """The seats that must still accept the current version, in the order the page shows them."""
    accepted = accepted_terms_seats(deal)
    return [seat for seat in terms_seats(deal) if seat not in accepted]


def seats_held(user: User | None, deal: Deal) -> list[TermsSeat]:
    """The seats the user accepts for: his party (as its approved member) and his own share as a named intermediary."""
    roles = deal_roles(user, deal)
    if not roles:
        return []
    return [seat for seat in terms_seats(deal)
            if (seat[1] is None and seat[0] in roles) or (seat[1] is not None and seat[1] == user.id)]


def seats_to_accept(user: User | None, deal: Deal) -> list[TermsSeat]:
    """The seats the user may accept the current terms for now (before the notice, not yet accepted)."""
    if user is None or not deal.is_open or deal.stage not in EDITABLE_TERMS_STAGES:
        return []
    missing = set(missing_terms_seats(deal))
    return [seat for seat in seats_held(user, deal) if seat in missing]


def may_accept_terms(user: User | None, deal: Deal) -> bool:
    """Whether the user still has to accept the current terms."""
    return bool(seats_to_accept(user, deal))


def terms_locked(deal: Deal) -> bool:
    """Whether the terms stand as noticed (from the notice to signing)."""
    return deal.stage in TERMS_LOCKED_STAGES


# ---------------------------------------------------------------- brokers joining a deal


def pending_broker_ids(deal: Deal) -> set[int]:
    """The brokers with a pending invitation, request or proposal on the deal."""
    return {request.broker_id for request in deal.broker_requests if request.is_pending}


def awaiting_consent(request: DealBrokerRequest) -> set[str]:
    """Who must still accept a pending broker request: "broker", and for a request to join or an admin's proposal
    each party ("transferor", "transferee") that has not accepted yet."""
    waiting = set() if request.broker_accepted_at else {"broker"}
    if request.kind in BOTH_PARTIES_CONSENT:
        waiting |= {side for side in PARTY_SIDES if getattr(request, f"{side}_accepted_by_id") is None}
    return waiting


def broker_request_answers(user: User | None, deal: Deal, request: DealBrokerRequest) -> set[str]:
    """The parts of a pending broker request the user may accept (or decline) now: "broker" for the named broker,
    a party for its members while that party has not accepted; never anything for the request's own initiator."""
    if user is None or not request.is_pending or not deal.is_open or user.id == request.initiated_by_id:
        return set()
    roles = deal_roles(user, deal)
    waiting = awaiting_consent(request)
    answers = {side for side in PARTY_SIDES if side in roles and side in waiting}
    if "broker" in waiting and user.id == request.broker_id and "platform_broker" in roles:
        answers.add("broker")
    return answers


def may_see_broker_request(user: User | None, deal: Deal, request: DealBrokerRequest) -> bool:
    """The parties and admins see every request of a deal; a broker sees those naming him and those he started."""
    roles = deal_roles(user, deal)
    return bool({"party", "admin"} & roles) or (bool(roles) and user.id in (request.broker_id, request.initiated_by_id))


def may_withdraw_broker_request(user: User | None, deal: Deal, request: DealBrokerRequest) -> bool:
    """The initiator withdraws a pending request (any admin an admin's proposal)."""
    if user is None or not request.is_pending or not deal.is_open or not deal_roles(user, deal):
        return False
    return user.id == request.initiated_by_id or (request.kind == BrokerRequestKind.ADMIN_PROPOSAL and _is_admin(user))


@dataclass
class BrokerRequestActions:
    """What the user may do with one pending broker request on the deal page."""

    accept: bool = False
    decline: bool = False
    withdraw: bool = False


def broker_request_actions(user: User | None, deal: Deal, request: DealBrokerRequest) -> BrokerRequestActions:
    """The answers to offer the user on a broker request (the services check the same again)."""
    answers = bool(broker_request_answers(user, deal, request))
    return BrokerRequestActions(accept=answers, decline=answers,
                                withdraw=may_withdraw_broker_request(user, deal, request))


# ---------------------------------------------------------------- introductions by brokers


def may_introduce(user: User | None) -> bool:
    """Approved, active brokers propose introductions."""
    return (user is not None and getattr(user, "is_authenticated", False) and user.is_active
            and user.role == Role.BROKER and user.is_approved_member)


def introduction_sides(user: User | None, introduction: Introduction) -> set[str]:
    """The sides of an introduction the user acts for: "transferor" (the achievement's organisation) and/or
    "transferee" (the demand's organisation or the enterprise)."""
    return {side for side in PARTY_SIDES if is_member_of(user, getattr(introduction, f"{side}_id"))}


def can_view_introduction(user: User | None, introduction: Introduction) -> bool:
    """The broker who proposed it, members of both sides and admins."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return _is_admin(user) or user.id == introduction.broker_id or bool(introduction_sides(user, introduction))


def visible_introductions(user: User):
    """The SQL condition of can_view_introduction, for lists."""
    if _is_admin(user):
        return true()
    conditions = [Introduction.broker_id == user.id]
    organisation = _acting_organisation(user)
    if organisation is not None:
        conditions += [Introduction.transferor_id == organisation, Introduction.transferee_id == organisation]
    return or_(*conditions)


def awaiting_introduction(introduction: Introduction) -> set[str]:
    """The sides that must still accept a pending introduction."""
    if not introduction.is_pending:
        return set()
    return {side for side in PARTY_SIDES if getattr(introduction, f"{side}_accepted_by_id") is None}


def introduction_answers(user: User | None, introduction: Introduction) -> set[str]:
    """The sides the user may accept or decline for now (never the proposing broker's own)."""
    if user is None or user.id == introduction.broker_id:
        return set()
    return introduction_sides(user, introduction) & awaiting_introduction(introduction)


@dataclass
class IntroductionActions:
    """What the user may do with an introduction on its page."""

    accept: bool = False
    decline: bool = False
    withdraw: bool = False


def introduction_actions(user: User | None, introduction: Introduction) -> IntroductionActions:
    """The answers to offer the user (the services check the same again)."""
    answers = bool(introduction_answers(user, introduction))
    withdraw = introduction.is_pending and user is not None and user.id == introduction.broker_id
    return IntroductionActions(accept=answers, decline=answers, withdraw=withdraw)
