"""The room left under every cap a deal's or an agreement's awards count against, and what a payment would earn now.

Pure reading: the caps come from the rules in force, their usage from the engine's stored state, and "what a payment
would earn" is the engine judging the payment on that state without storing the outcome (the engine's state is
immutable, so the stored state is never changed).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy.orm import Session

from market.awards import services as award_services
from market.awards.models import PolicyStateSnapshot
from market.awards.queries import recipient_labels
from market.deals.models import Deal, DealStage
from market.deals.payments import achievement_engine_key, achievement_key, contract_key
from market.policy import engine
from market.policy.events import IntermediaryShare, PreorderPaid, PreorderSigned, TransferPaid, TransferSigned
from market.policy.rules import Cap, CapScope, RecipientRole, RuleKind, RuleSet
from market.policy.snapshot import state_from_data
from market.preorders.models import AgreementStatus, PreorderAgreement
from market.preorders.payments import agreement_key
from market.timeutil import today_in_china

DEAL_RULE_KINDS = (RuleKind.INTERMEDIARY_SHARE, RuleKind.CITY_AGENT_REWARD)
"""The kinds of rule a deal's proceeds earn awards under."""

DRY_RUN_PREFIX = "dry-run"
"""The ids of the engine events a dry run judges (never stored)."""


class DryRunObstacle:
    """Why no payment can be tried on the deal or agreement now (the panel words each)."""

    NO_PRICE = "no_price"
    CLOSED = "closed"
    NOT_IN_FORCE = "not_in_force"
    FULLY_PAID = "fully_paid"
    ABOVE_REMAINDER = "above_remainder"
    REFUSED = "refused"


@dataclass(frozen=True)
class CapRoom:
    """One cap that applies: its rule, what it counts over, the limit, what is used and the room left."""

    rule: str
    rule_title: str
    scope: CapScope
    subject: str
    year: int | None
    limit_fen: int | None
    """None for a one-time cap (one non-zero grant)."""
    used_fen: int
    grants: int

    @property
    def room_fen(self) -> int | None:
        """What may still be granted under an amount cap (None for a one-time cap)."""
        return None if self.limit_fen is None else max(self.limit_fen - self.used_fen, 0)

    @property
    def exhausted(self) -> bool:
        """True when nothing more can be granted under the cap."""
        return self.grants >= 1 if self.limit_fen is None else self.room_fen == 0


@dataclass(frozen=True)
class DryRunLine:
    """One award line the tried payment would produce."""

    rule: str
    rule_title: str
    recipient: str
    recipient_label: str
    computed_fen: int
    granted_fen: int
    status: str
    capped_by: str | None


@dataclass(frozen=True)
class DryRun:
    """What a payment of `amount_fen` on `day` would earn, as the engine judges it now."""

    amount_fen: int
    day: dt.date
    lines: tuple[DryRunLine, ...] = ()
    assumes_registration: bool = False
    """True when the contract or agreement is not yet known to the engine and was tried as if signed today."""

    @property
    def granted_fen(self) -> int:
        """What the payment would be granted in all (lines waived by stacking left out)."""
        return sum(line.granted_fen for line in self.lines if line.status != engine.AwardStatus.WAIVED)


@dataclass(frozen=True)
class Headroom:
    """The caps that apply with their room, the unpaid remainder, and the tried payment or why there is none."""

    day: dt.date
    caps: tuple[CapRoom, ...]
    remainder_fen: int | None
    dry_run: DryRun | None = None
    obstacle: str = ""
    subject_labels: Mapping[str, str] = field(default_factory=dict)

    def subject_label(self, cap: CapRoom) -> str:
        """Whom or what a cap counts over, in words (a recipient's name; '' for the deal's own achievement etc.)."""
        return self.subject_labels.get(cap.subject, "")


def _stored_state(session: Session) -> engine.PolicyState:
    """The engine's state after the last applied event, as stored (read without the lock: nothing is written)."""
    snapshot = session.get(PolicyStateSnapshot, award_services.SNAPSHOT_ID)
    return state_from_data(snapshot.state if snapshot else None)


def _cap_rooms(state: engine.PolicyState, entries: Iterable[tuple[engine.RuleInForce, Mapping[CapScope, str]]],
               day: dt.date) -> tuple[CapRoom, ...]:
    """Each cap of the rules with the subjects it counts over, and its usage from the state."""
    rooms = []
    for entry, subjects in entries:
        rule = entry.rule
        for cap in rule.caps:
            if cap.scope not in subjects:
                continue
            key = engine.cap_key(rule, cap, day, subjects)
            usage = state.usage(key)
            rooms.append(CapRoom(rule.id, rule.title, cap.scope, key.subject, key.year, _limit(cap),
                                 usage.granted_fen, usage.grants))
    return tuple(rooms)


def _limit(cap: Cap) -> int | None:
    return None if cap.scope.counts_grants else cap.amount_fen


def _rules_of(rule_sets: Sequence[RuleSet], day: dt.date, kinds: Sequence[RuleKind]) -> list[engine.RuleInForce]:
    return [entry for entry in engine.rules_in_force(rule_sets, day) if entry.rule.kind in kinds]


def _dry_run(session: Session, rule_sets: Sequence[RuleSet], organisations, state: engine.PolicyState,
             events: Sequence, assumes_registration: bool) -> DryRun | None:
    """Judge the events one after the other on the state; None when the engine refuses one. Nothing is stored."""
    lines: list[engine.Award] = []
    for event in events:
        outcome = engine.apply_event(rule_sets, organisations, state, event)
        if outcome.is_rejected:
            return None
        state = outcome.state
        lines.extend(outcome.awards)
    labels = recipient_labels(session, {line.recipient for line in lines})
    payment = events[-1]
    return DryRun(payment.amount_fen, payment.date, tuple(
        DryRunLine(line.rule, _rule_title(rule_sets, line.rule, payment.date), line.recipient,
                   labels.get(line.recipient, line.recipient), line.computed_fen, line.granted_fen, line.status.value,
                   line.capped_by)
        for line in lines), assumes_registration)


def _rule_title(rule_sets: Sequence[RuleSet], rule_id: str, day: dt.date) -> str:
    entry = engine.find_rule(rule_sets, rule_id, day)
    return entry.rule.title if entry else ""


def _organisations(organisations) -> dict[str, engine.Organisation]:
    return {award_services.org_key(o.id): award_services.engine_organisation(o) for o in organisations if o is not None}


# --- deals ----------------------------------------------------------------------------------------------------------


def deal_headroom(session: Session, deal: Deal, amount_fen: int | None = None,
                  day: dt.date | None = None) -> Headroom:
    """The caps a deal's rewards count against (R2 per achievement, R3 per contract or agent, whatever the rule set in
    force defines) with their room, and what a payment of `amount_fen` (default: the unpaid remainder) would earn
    today."""
    day = day or today_in_china()
    rule_sets = award_services.active_rule_sets(session)
    state = _stored_state(session)
    contract = state.contracts.get(contract_key(deal))
    achievement = contract.achievement if contract else achievement_key(deal)
    agent = award_services.org_key(deal.agent_organisation_id) if deal.agent_organisation_id else None
    entries = []
    for entry in _rules_of(rule_sets, day, DEAL_RULE_KINDS):
        if entry.rule.kind is RuleKind.CITY_AGENT_REWARD and agent is None:
            continue
        recipient = agent if entry.rule.kind is RuleKind.CITY_AGENT_REWARD else None
        entries.append((entry, engine.transfer_cap_subjects(contract_key(deal), achievement, recipient)))
    caps = _cap_rooms(state, entries, day)
    labels = recipient_labels(session, {cap.subject for cap in caps})
    if contract is not None:
        remainder = contract.value_fen - contract.paid_fen
    else:
        remainder = None if deal.agreed_amount_fen is None else deal.agreed_amount_fen - deal.paid_fen
    headroom = Headroom(day, caps, remainder, subject_labels=labels)
    obstacle = _deal_obstacle(deal, remainder, amount_fen)
    if obstacle:
        return replace(headroom, obstacle=obstacle)
    amount = remainder if amount_fen is None else amount_fen
    events: list = []
    if contract is None:
        events.append(_assumed_signing(deal, day))
    events.append(TransferPaid(id=f"{DRY_RUN_PREFIX}-pay", date=max(day, deal.signed_on or day),
                               contract=contract_key(deal), amount_fen=amount))
    organisations = _organisations([deal.transferor, deal.transferee, deal.agent_organisation])
    run = _dry_run(session, rule_sets, organisations, state, events, assumes_registration=contract is None)
    return replace(headroom, dry_run=run, obstacle="" if run else DryRunObstacle.REFUSED)


def _deal_obstacle(deal: Deal, remainder: int | None, amount_fen: int | None) -> str:
    if deal.stage in (DealStage.TERMINATED, DealStage.COMPLETED):
        return DryRunObstacle.CLOSED
    if remainder is None:
        return DryRunObstacle.NO_PRICE
    if remainder <= 0:
        return DryRunObstacle.FULLY_PAID
    if amount_fen is not None and amount_fen > remainder:
        return DryRunObstacle.ABOVE_REMAINDER
    return ""


def _assumed_signing(deal: Deal, day: dt.date) -> TransferSigned:
    """The deal's contract on its current terms as if signed (on its signing day or today) and registered."""
    return TransferSigned(
        id=f"{DRY_RUN_PREFIX}-sign", date=deal.signed_on or day, contract=contract_key(deal),
        achievement=achievement_key(deal), transferor=award_services.org_key(deal.transferor_id),
        transferee=award_services.org_key(deal.transferee_id), value_fen=deal.agreed_amount_fen,
        reward_rate_bp=deal.reward_rate_bp,
        intermediaries=tuple(IntermediaryShare(award_services.person_key(row.user_id), row.share_bp)
                             for row in deal.intermediaries),
        agent=award_services.org_key(deal.agent_organisation_id) if deal.agent_organisation_id else None,
        registered=True, intermediary_exception=deal.intermediary_exception or None,
    )


@dataclass(frozen=True)
class AchievementRoom:
    """What is left for any deal on one achievement: the room under its per-achievement caps and the intermediaries
    it may still name (the people already named on its signed contracts count once each)."""

    day: dt.date
    caps: tuple[CapRoom, ...]
    named_people: int
    people_limit: int | None

    @property
    def people_left(self) -> int | None:
        """How many more distinct intermediaries the achievement may name (None: no limit)."""
        return None if self.people_limit is None else max(self.people_limit - self.named_people, 0)

    @property
    def exhausted(self) -> bool:
        """True when a new deal on the achievement could earn its intermediaries nothing more."""
        return any(cap.exhausted for cap in self.caps)


def achievement_room(session: Session, achievement_id: int, day: dt.date | None = None) -> AchievementRoom:
    """The per-achievement caps of the deal rules in force with their room, and the intermediaries named so far."""
    day = day or today_in_china()
    state = _stored_state(session)
    key = achievement_engine_key(achievement_id)
    entries = [(entry, {CapScope.ACHIEVEMENT: key})
               for entry in _rules_of(award_services.active_rule_sets(session), day, DEAL_RULE_KINDS)]
    limits = [entry.rule.max_people_per_achievement for entry, _subjects in entries
              if entry.rule.max_people_per_achievement is not None]
    return AchievementRoom(day, _cap_rooms(state, entries, day), len(state.intermediaries.get(key, ())),
                           min(limits) if limits else None)


# --- pre-order agreements -------------------------------------------------------------------------------------------


def agreement_headroom(session: Session, agreement: PreorderAgreement, amount_fen: int | None = None,
                       day: dt.date | None = None) -> Headroom:
    """The caps the agreement's subsidies count against (R1 per recipient and year, per agreement, whatever the rule
    set in force defines) with their room, and what a payment of `amount_fen` (default: the unpaid remainder) would
    earn today."""
    day = day or today_in_china()
    rule_sets = award_services.active_rule_sets(session)
    state = _stored_state(session)
    key = agreement_key(agreement)
    record = state.agreements.get(key)
    parties = {RecipientRole.SELLER: award_services.org_key(agreement.seller_id),
               RecipientRole.BUYER: award_services.org_key(agreement.buyer_id)}
    entries = [(entry, engine.preorder_cap_subjects(key, parties.get(entry.rule.recipient, parties[RecipientRole.SELLER])))
               for entry in _rules_of(rule_sets, day, (RuleKind.PREORDER_SUBSIDY,))]
    caps = _cap_rooms(state, entries, day)
    remainder = (record.value_fen - record.paid_fen) if record else agreement.value_fen - agreement.paid_fen
    headroom = Headroom(day, caps, remainder, subject_labels=recipient_labels(session, {cap.subject for cap in caps}))
    if agreement.status == AgreementStatus.PROPOSED:
        return replace(headroom, obstacle=DryRunObstacle.NOT_IN_FORCE)
    if agreement.status != AgreementStatus.SIGNED:
        return replace(headroom, obstacle=DryRunObstacle.CLOSED)
    if remainder <= 0:
        return replace(headroom, obstacle=DryRunObstacle.FULLY_PAID)
    if amount_fen is not None and amount_fen > remainder:
        return replace(headroom, obstacle=DryRunObstacle.ABOVE_REMAINDER)
    events: list = []
    if record is None:
        events.append(PreorderSigned(id=f"{DRY_RUN_PREFIX}-sign", date=agreement.signed_on, agreement=key,
                                     buyer=parties[RecipientRole.BUYER], seller=parties[RecipientRole.SELLER],
                                     value_fen=agreement.value_fen, related=agreement.is_related_party))
    events.append(PreorderPaid(id=f"{DRY_RUN_PREFIX}-pay", date=max(day, agreement.signed_on), agreement=key,
                               amount_fen=remainder if amount_fen is None else amount_fen))
    run = _dry_run(session, rule_sets, _organisations([agreement.buyer, agreement.seller]), state, events,
                   assumes_registration=record is None)
    return replace(headroom, dry_run=run, obstacle="" if run else DryRunObstacle.REFUSED)
