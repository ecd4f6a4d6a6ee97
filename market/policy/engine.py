"""The policy engine: judges one event at a time against versioned rule sets and an explicit state.

Pure Python (no Flask, no database). Every number comes from the rule set; this module only knows
the kinds of computation (POLICY.md R1–R4), cap scopes, stacking and statuses.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType

from market.money import BASIS_POINTS, apply_rate, format_rate, format_yuan, split_by_shares
from market.policy.events import (
    Event,
    IntermediaryShare,
    Organisation,
    PreorderPaid,
    PreorderSigned,
    StartupGrant,
    TransferPaid,
    TransferSigned,
)
from market.policy.rejections import (
    Rejected,
    require_bool,
    require_id,
    require_money,
    require_payment_fits,
    require_rate,
)
from market.policy.rules import (
    Cap,
    CapScope,
    RecipientRole,
    Rule,
    RuleKind,
    RuleSet,
    RuleSetError,
    reward_rate_limit_on,
)
from market.policy.state import (
    AgreementRecord,
    Award,
    AwardStatus,
    CapCharge,
    CapKey,
    CapUsage,
    ContractRecord,
    EventOutcome,
    PolicyState,
    RuleInForce,
    cap_headroom,
)

PROCEEDS_PAYER = "proceeds:transferor"


def rules_in_force(rule_sets: Sequence[RuleSet], day: dt.date) -> list[RuleInForce]:
    """The rules in force on a day, in rule-set then listing order (rule ids must be distinct)."""
    found: list[RuleInForce] = []
    seen: set[str] = set()
    for rule_set in rule_sets:
        version = rule_set.version_on(day)
        if version is None:
            continue
        for rule in version.rules:
            if rule.id in seen:
                raise RuleSetError(f"rule id {rule.id} is in force twice on {day.isoformat()}")
            seen.add(rule.id)
            found.append(RuleInForce(rule_set, version, rule))
    return found


def find_rule(rule_sets: Sequence[RuleSet], rule_id: str, day: dt.date) -> RuleInForce | None:
    """The rule with this id in force on a day (e.g. to re-evaluate a held award), or None."""
    for entry in rules_in_force(rule_sets, day):
        if entry.rule.id == rule_id:
            return entry
    return None


def apply_event(
    rule_sets: Sequence[RuleSet],
    organisations: Mapping[str, Organisation],
    state: PolicyState,
    event: Event,
) -> EventOutcome:
    """Judge one event given what earlier events established; a rejected event changes no state."""
    event_id = event.id if isinstance(getattr(event, "id", None), str) else None
    handler = _HANDLERS.get(type(event))
    try:
        if handler is None:
            raise Rejected("not_policy_event", f"{type(event).__name__} is not a policy event.")
        if not event_id:
            raise Rejected("no_event_id", "The event has no id.")
        if type(event.date) is not dt.date:
            raise Rejected("invalid_date", f"Event {event_id} has no valid date.", event=event_id)
        return handler(_Context(rule_sets, organisations, state, event))
    except Rejected as rejection:
        return EventOutcome(event_id, (), str(rejection), state, rejection_code=rejection.code,
                            rejection_params=MappingProxyType(dict(rejection.params)))


@dataclass(frozen=True)
class _Context:
    """What a handler needs: the rules, organisations, prior state and the event."""

    rule_sets: Sequence[RuleSet]
    organisations: Mapping[str, Organisation]
    state: PolicyState
    event: Event

    def rules(self, kind: RuleKind, day: dt.date | None = None) -> list[RuleInForce]:
        """The rules of one kind in force on the day (default: the event's date)."""
        day = self.event.date if day is None else day
        return [entry for entry in rules_in_force(self.rule_sets, day) if entry.rule.kind is kind]

    def organisation(self, key: str, value: object) -> Organisation:
        """The known organisation named by an event field, or a rejection."""
        name = require_id(value, key, self.event)
        organisation = self.organisations.get(name)
        if organisation is None:
            raise Rejected("unknown_organisation", f"Event {self.event.id} names unknown organisation {name} as {key}.",
                            event=self.event.id, organisation=name, role=key)
        return organisation


# --- claims: what each applicable rule would pay, before caps and stacking -----------------------


@dataclass(frozen=True)
class _Claim:
    """One applicable rule's amount for an event, before caps and stacking."""

    entry: RuleInForce
    recipients: tuple[str, ...]
    shares_bp: tuple[int, ...]
    computed_fen: int
    limited_fen: int
    limited_by: str | None
    cap_keys: tuple[tuple[Cap, CapKey], ...]
    payer: str


def cap_key(rule: Rule, cap: Cap, day: dt.date, subjects: Mapping[CapScope, str]) -> CapKey:
    """The key a cap of a rule accumulates under for an event on a day, given the event's subject per scope."""
    year = day.year if cap.scope is CapScope.RECIPIENT_CALENDAR_YEAR else None
    return CapKey(rule.id, cap.scope, subjects[cap.scope], year)


def preorder_cap_subjects(agreement: str, recipient: str) -> dict[CapScope, str]:
    """What each cap scope counts over for a payment under a pre-order agreement earning `recipient` a subsidy."""
    return {
        CapScope.RECIPIENT_CALENDAR_YEAR: recipient,
        CapScope.RECIPIENT_RULE_SET_PERIOD: recipient,
        CapScope.AGREEMENT: agreement,
    }


def transfer_cap_subjects(contract: str, achievement: str, agent: str | None = None) -> dict[CapScope, str]:
    """What each cap scope counts over for proceeds under a transfer contract (the agent's own caps when named)."""
    subjects = {CapScope.ACHIEVEMENT: achievement, CapScope.CONTRACT: contract}
    if agent is not None:
        subjects |= {CapScope.RECIPIENT_CALENDAR_YEAR: agent, CapScope.RECIPIENT_RULE_SET_PERIOD: agent}
    return subjects


def _cap_keys(rule: Rule, day: dt.date, subjects: Mapping[CapScope, str]) -> tuple[tuple[Cap, CapKey], ...]:
    """The key each of a rule's caps accumulates under for this event."""
    return tuple((cap, cap_key(rule, cap, day, subjects)) for cap in rule.caps)


def _claim(
    entry: RuleInForce,
    event: Event,
    recipients: Sequence[str],
    computed_fen: int,
    subjects: Mapping[CapScope, str],
    *,
    shares_bp: Sequence[int] = (BASIS_POINTS,),
    limited_fen: int | None = None,
    limited_by: str | None = None,
    transferor: str | None = None,
) -> _Claim:
    """Build a claim for a rule whose conditions are met."""
    payer = entry.rule.payer
    if payer == PROCEEDS_PAYER and transferor is not None:
        payer = f"proceeds:{transferor}"
    return _Claim(
        entry=entry,
        recipients=tuple(recipients),
        shares_bp=tuple(shares_bp),
        computed_fen=computed_fen,
        limited_fen=computed_fen if limited_fen is None else limited_fen,
        limited_by=limited_by,
        cap_keys=_cap_keys(entry.rule, event.date, subjects),
        payer=payer,
    )


def _parties_meet(entry: RuleInForce, parties: Mapping[str, Organisation], day: dt.date) -> bool:
    """True when every party condition of the rule holds on the day."""
    return all(
        parties[party].meets(condition, day) for party, condition in entry.rule.conditions.parties.items()
    )


def _signed_in_time(entry: RuleInForce, signed_on: dt.date) -> bool:
    """True unless the rule requires signing on or after its rule set's start and that fails."""
    return not entry.rule.conditions.signed_since_rule_set_start or signed_on >= entry.rule_set.starts_on


# --- event handlers ------------------------------------------------------------------------------


def _preorder_signed(ctx: _Context) -> EventOutcome:
    """Record a pre-order agreement; signing earns nothing."""
    event: PreorderSigned = ctx.event
    agreement = require_id(event.agreement, "agreement", event)
    buyer = ctx.organisation("buyer", event.buyer)
    seller = ctx.organisation("seller", event.seller)
    if buyer.id == seller.id:
        raise Rejected("same_buyer_and_seller", f"Agreement {agreement}: buyer and seller must be different organisations.",
                        agreement=agreement)
    value = require_money(event.value_fen, "value_fen", event, positive=True)
    related = require_bool(event.related, "related", event)
    if agreement in ctx.state.agreements:
        raise Rejected("agreement_already_signed",
                        f"Agreement {agreement} is already signed; an amended agreement needs a new id.",
                        agreement=agreement)
    record = AgreementRecord(agreement, buyer.id, seller.id, value, event.date, related)
    state = replace(ctx.state, agreements={**ctx.state.agreements, agreement: record})
    return EventOutcome(event.id, (), None, state)


def _preorder_paid(ctx: _Context) -> EventOutcome:
    """Judge a payment under a pre-order agreement (R1-style subsidies)."""
    event: PreorderPaid = ctx.event
    agreement_id = require_id(event.agreement, "agreement", event)
    amount = require_money(event.amount_fen, "amount_fen", event, positive=True)
    agreement = ctx.state.agreements.get(agreement_id)
    if agreement is None:
        raise Rejected("unknown_agreement", f"Payment {event.id} is for unknown agreement {agreement_id}.",
                        event=event.id, agreement=agreement_id)
    require_payment_fits(
        event, "agreement", agreement_id, agreement.signed_on, agreement.value_fen, agreement.paid_fen, amount
    )
    parties = {
        "buyer": ctx.organisation("buyer", agreement.buyer),
        "seller": ctx.organisation("seller", agreement.seller),
    }
    claims = []
    for entry in ctx.rules(RuleKind.PREORDER_SUBSIDY):
        conditions = entry.rule.conditions
        if conditions.unrelated_parties and agreement.related:
            continue
        if not _signed_in_time(entry, agreement.signed_on) or not _parties_meet(entry, parties, agreement.signed_on):
            continue
        recipient = agreement.seller if entry.rule.recipient is RecipientRole.SELLER else agreement.buyer
        subjects = preorder_cap_subjects(agreement_id, recipient)
        claims.append(_claim(entry, event, [recipient], apply_rate(amount, entry.rule.rate_bp), subjects))
    paid = replace(agreement, paid_fen=agreement.paid_fen + amount)
    state = replace(ctx.state, agreements={**ctx.state.agreements, agreement_id: paid})
    return _settle(event, state, claims)


def _transfer_signed(ctx: _Context) -> EventOutcome:
    """Record a transfer contract, enforcing the intermediary limit per achievement."""
    event: TransferSigned = ctx.event
    contract = require_id(event.contract, "contract", event)
    achievement = require_id(event.achievement, "achievement", event)
    transferor = ctx.organisation("transferor", event.transferor)
    transferee = ctx.organisation("transferee", event.transferee)
    if transferor.id == transferee.id:
        raise Rejected("same_transferor_and_transferee",
                        f"Contract {contract}: transferor and transferee must be different organisations.",
                        contract=contract)
    value = require_money(event.value_fen, "value_fen", event, positive=True)
    rate = require_rate(event.reward_rate_bp, "reward_rate_bp", event)
    limit = reward_rate_limit_on(ctx.rule_sets, event.date)
    if limit is not None and rate > limit.max_bp:
        raise Rejected(
            "reward_rate_above_maximum",
            f"Contract {contract}: the reward rate of {format_rate(rate)} is above the maximum of "
            f"{format_rate(limit.max_bp)} set by rule {limit.rule.id} (version {limit.version}) on {event.date.isoformat()}.",
            contract=contract, rate_bp=rate, max_bp=limit.max_bp, rule=limit.rule.id, version=limit.version,
            day=event.date.isoformat(),
        )
    registered = require_bool(event.registered, "registered", event)
    intermediaries = _require_intermediaries(event)
    agent = None if event.agent is None else require_id(event.agent, "agent", event)
    persons = [share.person for share in intermediaries]
    if agent is not None and agent in persons:
        raise Rejected("agent_is_intermediary",
                        f"Contract {contract}: the agent {agent} must not also be listed as an intermediary.",
                        contract=contract, agent=agent)
    exception = event.intermediary_exception
    if exception is not None and (not isinstance(exception, str) or not exception.strip()):
        raise Rejected("exception_not_written", f"Event {event.id}: intermediary_exception must be a written reason.",
                        event=event.id)
    if contract in ctx.state.contracts:
        raise Rejected("contract_already_signed",
                        f"Contract {contract} is already signed; an amended contract needs a new id.", contract=contract)
    known = ctx.state.intermediaries.get(achievement, frozenset())
    combined = known | set(persons)
    limits = [entry.rule.max_people_per_achievement for entry in ctx.rules(RuleKind.INTERMEDIARY_SHARE)]
    if limits and len(combined) > min(limits) and len(combined) > len(known) and exception is None:
        names = ", ".join(sorted(combined))
        raise Rejected(
            "too_many_intermediaries",
            f"Achievement {achievement} would have {len(combined)} distinct intermediaries ({names}); "
            f"at most {min(limits)} are allowed unless intermediary_exception gives a written reason.",
            achievement=achievement, count=len(combined), people=tuple(sorted(combined)), max=min(limits),
        )
    record = ContractRecord(
        contract, achievement, transferor.id, transferee.id, value, rate, event.date,
        intermediaries, agent, registered,
    )
    state = replace(
        ctx.state,
        contracts={**ctx.state.contracts, contract: record},
        intermediaries={**ctx.state.intermediaries, achievement: frozenset(combined)},
    )
    return EventOutcome(event.id, (), None, state)


def _require_intermediaries(event: TransferSigned) -> tuple[IntermediaryShare, ...]:
    """Require distinct named intermediaries whose shares sum to 10000 bp."""
    shares = event.intermediaries
    if not isinstance(shares, (tuple, list)) or not all(isinstance(s, IntermediaryShare) for s in shares):
        raise Rejected("intermediaries_not_list", f"Event {event.id}: intermediaries must be a list of person and share_bp.",
                        event=event.id)
    for share in shares:
        require_id(share.person, "intermediaries.person", event)
        if type(share.share_bp) is not int or not 1 <= share.share_bp <= BASIS_POINTS:
            raise Rejected("intermediary_share_out_of_range",
                            f"Event {event.id}: each intermediary's share_bp must be an integer from 1 to 10000.",
                            event=event.id)
    persons = [share.person for share in shares]
    if len(set(persons)) != len(persons):
        raise Rejected("intermediary_listed_twice", f"Event {event.id}: an intermediary is listed twice.", event=event.id)
    if shares and sum(share.share_bp for share in shares) != BASIS_POINTS:
        raise Rejected("intermediary_shares_not_whole", f"Event {event.id}: the intermediaries' share_bp must sum to 10000.",
                        event=event.id)
    return tuple(shares)


def _transfer_paid(ctx: _Context) -> EventOutcome:
    """Judge proceeds received under a transfer contract (R2- and R3-style rewards)."""
    event: TransferPaid = ctx.event
    contract_id = require_id(event.contract, "contract", event)
    amount = require_money(event.amount_fen, "amount_fen", event, positive=True)
    contract = ctx.state.contracts.get(contract_id)
    if contract is None:
        raise Rejected("unknown_contract", f"Payment {event.id} is for unknown contract {contract_id}.",
                        event=event.id, contract=contract_id)
    require_payment_fits(
        event, "contract", contract_id, contract.signed_on, contract.value_fen, contract.paid_fen, amount
    )
    parties = {
        "transferor": ctx.organisation("transferor", contract.transferor),
        "transferee": ctx.organisation("transferee", contract.transferee),
    }
    subjects = transfer_cap_subjects(contract_id, contract.achievement)
    claims = []
    for entry in rules_in_force(ctx.rule_sets, event.date):
        rule = entry.rule
        if rule.kind not in (RuleKind.INTERMEDIARY_SHARE, RuleKind.CITY_AGENT_REWARD):
            continue
        if rule.conditions.registered_contract and not contract.registered:
            continue
        if not _signed_in_time(entry, contract.signed_on) or not _parties_meet(entry, parties, contract.signed_on):
            continue
        if rule.kind is RuleKind.INTERMEDIARY_SHARE and contract.intermediaries:
            claims.append(
                _claim(
                    entry, event,
                    [share.person for share in contract.intermediaries],
                    apply_rate(amount, contract.reward_rate_bp),
                    subjects,
                    shares_bp=[share.share_bp for share in contract.intermediaries],
                    transferor=contract.transferor,
                )
            )
        elif rule.kind is RuleKind.CITY_AGENT_REWARD and contract.agent is not None:
            agent_subjects = transfer_cap_subjects(contract_id, contract.achievement, contract.agent)
            claims.append(
                _claim(
                    entry, event, [contract.agent], apply_rate(amount, rule.rate_bp), agent_subjects,
                    transferor=contract.transferor,
                )
            )
    paid = replace(contract, paid_fen=contract.paid_fen + amount)
    state = replace(ctx.state, contracts={**ctx.state.contracts, contract_id: paid})
    return _settle(event, state, claims)


def _startup_grant(ctx: _Context) -> EventOutcome:
    """Judge a start-up capital grant (R4-style: min of awarded, maximum and paid-in share)."""
    event: StartupGrant = ctx.event
    startup = ctx.organisation("startup", event.startup)
    founders = require_money(event.founders_paid_in_fen, "founders_paid_in_fen", event, positive=False)
    awarded = require_money(event.awarded_fen, "awarded_fen", event, positive=False)
    claims = []
    for entry in ctx.rules(RuleKind.STARTUP_CAPITAL):
        rule = entry.rule
        if not _parties_meet(entry, {"startup": startup}, event.date):
            continue
        share = rule.max_share_of_capital_bp
        limits = [
            ("max_amount_fen", rule.max_amount_fen),
            ("max_share_of_capital_bp", founders * share // (BASIS_POINTS - share)),
        ]
        limited, limited_by = awarded, None
        for name, limit in limits:
            if limit < limited:
                limited, limited_by = limit, name
        if limited < rule.min_amount_fen:
            raise Rejected(
                "grant_below_minimum",
                f"Grant {event.id} to startup {startup.id} comes to {format_yuan(limited)} under rule {rule.id}, "
                f"below its minimum of {format_yuan(rule.min_amount_fen)}.",
                event=event.id, startup=startup.id, amount_fen=limited, rule=rule.id, minimum_fen=rule.min_amount_fen,
            )
        subjects = {
            CapScope.ONE_TIME_PER_STARTUP: startup.id,
            CapScope.RECIPIENT_CALENDAR_YEAR: startup.id,
            CapScope.RECIPIENT_RULE_SET_PERIOD: startup.id,
        }
        claims.append(
            _claim(entry, event, [startup.id], awarded, subjects, limited_fen=limited, limited_by=limited_by)
        )
    return _settle(event, ctx.state, claims)


_HANDLERS = {
    PreorderSigned: _preorder_signed,
    PreorderPaid: _preorder_paid,
    TransferSigned: _transfer_signed,
    TransferPaid: _transfer_paid,
    StartupGrant: _startup_grant,
}


# --- caps, splitting and stacking ----------------------------------------------------------------


@dataclass
class _Line:
    """A working award line while stacking is decided."""

    claim: _Claim
    recipient: str
    computed_fen: int
    granted_fen: int
    capped_by: str | None
    waived_by: str | None = None
    tops_up: str | None = None


def _capped(claim: _Claim, state: PolicyState) -> tuple[int, str | None]:
    """Apply a claim's caps (inclusive) to its limited amount; return (granted, binding limit name)."""
    granted, capped_by = claim.limited_fen, claim.limited_by
    for cap, key in claim.cap_keys:
        headroom = cap_headroom(cap, state.usage(key), granted)
        if headroom < granted:
            granted, capped_by = headroom, cap.scope.value
    return granted, capped_by


def _lines(claim: _Claim, state: PolicyState) -> list[_Line]:
    """Cap a claim and split it among its recipients."""
    granted, capped_by = _capped(claim, state)
    computed_parts = split_by_shares(claim.computed_fen, claim.shares_bp)
    granted_parts = split_by_shares(granted, claim.shares_bp)
    return [
        _Line(claim, recipient, computed, part, capped_by if part < computed else None)
        for recipient, computed, part in zip(claim.recipients, computed_parts, granted_parts)
    ]


def _granted(line: _Line) -> int:
    return line.granted_fen


def _stack(lines: Iterable[_Line]) -> None:
    """Within a stacking group, per recipient, the highest confirmed line is payable; a higher draft or unconfirmed
    line is held for the difference only (a top-up); every other line is waived naming the payable rule (or, without
    one, the held rule). Ties go to the line listed first (settled question 1)."""
    groups: dict[tuple[str, str], list[_Line]] = {}
    for line in lines:
        groups.setdefault((line.claim.entry.rule.stacking_group, line.recipient), []).append(line)
    for members in groups.values():
        payable = max((line for line in members if line.claim.entry.rule.status.is_payable),
                      key=_granted, default=None)
        pending = max((line for line in members if not line.claim.entry.rule.status.is_payable),
                      key=_granted, default=None)
        if payable is not None and pending is not None:
            if pending.granted_fen > payable.granted_fen:
                pending.granted_fen -= payable.granted_fen
                pending.tops_up = payable.claim.entry.rule.id
            else:
                pending = None
        winner = payable or pending
        for line in members:
            if line is not payable and line is not pending:
                line.waived_by = winner.claim.entry.rule.id


def _settle(event: Event, state: PolicyState, claims: Sequence[_Claim]) -> EventOutcome:
    """Turn claims into award lines, charge the caps of what is not waived, and return the outcome."""
    lines_by_claim = [(claim, _lines(claim, state)) for claim in claims]
    all_lines = [line for _, lines in lines_by_claim for line in lines]
    _stack(all_lines)
    usage = dict(state.cap_usage)
    charges = []
    for claim, lines in lines_by_claim:
        charged = sum(line.granted_fen for line in lines if line.waived_by is None)
        if charged == 0:
            continue
        for cap, key in claim.cap_keys:
            before = usage.get(key, CapUsage())
            usage[key] = CapUsage(before.granted_fen + charged, before.grants + 1)
            charges.append(CapCharge(key, charged, 1, cap.amount_fen))
    awards = tuple(_award(event, line) for line in all_lines)
    new_state = replace(state, cap_usage=usage) if charges else state
    return EventOutcome(event.id, awards, None, new_state, tuple(charges))


def _award(event: Event, line: _Line) -> Award:
    """Freeze a working line into an Award."""
    entry = line.claim.entry
    if line.waived_by is not None:
        status = AwardStatus.WAIVED
    elif entry.rule.status.is_payable:
        status = AwardStatus.PAYABLE
    else:
        status = AwardStatus.HELD
    return Award(
        event=event.id,
        rule=entry.rule.id,
        recipient=line.recipient,
        computed_fen=line.computed_fen,
        granted_fen=line.granted_fen,
        status=status,
        capped_by=line.capped_by,
        waived_by=line.waived_by,
        tops_up=line.tops_up,
        kind=entry.rule.kind,
        rule_set=entry.rule_set.name,
        version=entry.version.version,
        payer=line.claim.payer,
        stacking_group=entry.rule.stacking_group,
    )


def judge_correction(caps: Sequence[tuple[Cap, CapKey]], amount_fen: int, state: PolicyState, *,
                     new_grant: bool) -> tuple[int, str | None, PolicyState]:
    """A corrected amount issued after a reversal (settled question 2): capped under the original event's cap keys
    after the usage standing now, and charged to them; returns (granted, binding cap scope, state after).
    `new_grant` is False when another line of the original claim still stands (its grant is already counted)."""
    granted, capped_by = amount_fen, None
    for cap, key in caps:
        headroom = granted if cap.scope.counts_grants and not new_grant else cap_headroom(cap, state.usage(key), granted)
        if headroom < granted:
            granted, capped_by = headroom, cap.scope.value
    if granted == 0:
        return 0, capped_by, state
    usage = dict(state.cap_usage)
    for _cap, key in caps:
        before = usage.get(key, CapUsage())
        usage[key] = CapUsage(before.granted_fen + granted, before.grants + (1 if new_grant else 0))
    return granted, capped_by, replace(state, cap_usage=usage)
