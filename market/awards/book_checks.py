"""Whole-book checks: the ledger against the awards, payments against deals and agreements, caps and person limits.

Every check reads the database only; `find_book_problems` lists each broken invariant as one English sentence.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from market.awards.caps import cap_subject
from market.awards.ledger import balances, find_ledger_problems
from market.awards.models import Award, AwardStatus, PolicyEvent, PolicyStateSnapshot
from market.awards.queries import load_rule_catalog
from market.awards.services import active_rule_sets
from market.confirmations.models import FactStatus
from market.deals.models import Deal, DealIntermediary, DealPayment, DealStage
from market.money import format_yuan
from market.policy.engine import rules_in_force
from market.policy.rules import CapScope, RuleKind, RuleSet, RuleSetError
from market.policy.snapshot import state_from_data
from market.preorders.models import PreorderAgreement, PreorderPayment
from market.timeutil import today_in_china

UNCOUNTED = (FactStatus.REFUSED, FactStatus.WITHDRAWN)

ACCOUNT_OF_STATUS = {
    AwardStatus.PAYABLE: "awarded",
    AwardStatus.HELD: "held",
    AwardStatus.APPROVED: "entitled",
    AwardStatus.PAID: "paid",
    AwardStatus.RECEIVABLE: "receivable",
}
"""Where the granted amount of an award in each status sits in the ledger (waived, nil and reversed: nowhere)."""

USING_HEADROOM = tuple(status for status in ACCOUNT_OF_STATUS if status != AwardStatus.RECEIVABLE)
"""The statuses whose granted amount uses cap headroom (a reversal gives it back, settled question 2)."""


def find_book_problems(session: Session) -> list[str]:
    """Every broken invariant of the money books (an empty list when the books are sound)."""
    return [
        *find_ledger_problems(session),
        *_recipient_account_problems(session),
        *_payer_account_problems(session),
        *_deal_payment_problems(session),
        *_agreement_payment_problems(session),
        *_cap_problems(session),
        *_intermediary_limit_problems(session),
        *_nil_award_problems(session),
        *_payout_voucher_problems(session),
        *_hold_reason_problems(session),
    ]


def _nil_award_problems(session: Session) -> list[str]:
    """An award granted nothing never waits in the approval queue, and a nil award grants nothing."""
    waiting = session.scalars(select(Award.id).where(Award.granted_fen == 0,
                                                     Award.status.in_((AwardStatus.PAYABLE, AwardStatus.HELD))))
    granting = session.scalars(select(Award.id).where(Award.status == AwardStatus.NIL, Award.granted_fen != 0))
    return ([f"award {award_id} grants nothing but waits for approval" for award_id in waiting]
            + [f"award {award_id} is nil but grants money" for award_id in granting])


def _payout_voucher_problems(session: Session) -> list[str]:
    """A payout recorded from now on names its voucher and date (older payouts have none)."""
    return [f"award {award_id} names a voucher but no payout date" for award_id in session.scalars(
        select(Award.id).where(Award.voucher_reference.is_not(None), Award.paid_on.is_(None)))]


def _money(fen: int) -> str:
    return f"{format_yuan(fen)} ({fen} fen)"


def _compare(expected: dict[str, int], actual: dict[str, int], what: str) -> list[str]:
    """Sentences for every account whose balance differs from what the awards say."""
    problems = []
    for account in sorted(set(expected) | set(actual)):
        want, have = expected.get(account, 0), actual.get(account, 0)
        if want != have:
            problems.append(f"account {account} holds {_money(have)} but its {what} add up to {_money(want)}")
    return problems


def _recipient_account_problems(session: Session) -> list[str]:
    """awarded:/held:/entitled:/paid:<recipient> must equal the granted sums of the recipient's awards in that status."""
    expected: dict[str, int] = defaultdict(int)
    rows = session.execute(select(Award.recipient, Award.status, func.sum(Award.granted_fen))
                           .group_by(Award.recipient, Award.status))
    for recipient, status, total in rows:
        kind = ACCOUNT_OF_STATUS.get(status)
        if kind is not None and total:
            expected[f"{kind}:{recipient}"] += int(total)
    actual = {account: total for account, total in balances(session).items()
              if account.split(":", 1)[0] in ACCOUNT_OF_STATUS.values()}
    return _compare(expected, actual, "awards in the matching status")


def _payer_account_problems(session: Session) -> list[str]:
    """fiscal:/proceeds: accounts must be the negated sum of what they granted (waived and reversed awards excluded)."""
    expected: dict[str, int] = defaultdict(int)
    rows = session.execute(select(Award.payer, func.sum(Award.granted_fen))
                           .where(Award.status.in_(tuple(ACCOUNT_OF_STATUS))).group_by(Award.payer))
    for payer, total in rows:
        if total:
            expected[payer] -= int(total)
    actual = {account: total for account, total in balances(session).items()
              if account.startswith(("fiscal:", "proceeds:"))}
    return _compare(expected, actual, "granted awards (negated)")


def _judged(model) -> list:
    """The condition of a payment the engine judged and nobody took back (what paid totals count)."""
    return [model.policy_event_id.is_not(None), model.status.not_in(UNCOUNTED)]


def _confirmation_problems(session: Session, model, name: str) -> list[str]:
    """A confirmed payment the engine never judged, or a refused/withdrawn one whose awards still stand."""
    problems = [f"{name} {payment_id} is confirmed but was never judged"
                for (payment_id,) in session.execute(select(model.id).where(
                    model.status == FactStatus.CONFIRMED, model.policy_event_id.is_(None)))]
    standing = select(model.id).join(Award, Award.policy_event_id == model.policy_event_id).where(
        model.status.in_(UNCOUNTED), Award.status.in_(USING_HEADROOM))
    problems += [f"{name} {payment_id} was taken back but its awards stand"
                 for payment_id in sorted(set(session.scalars(standing)))]
    return problems


def _deal_payment_problems(session: Session) -> list[str]:
    """Deal.paid_fen equals the sum of its judged payments and stays within the agreed amount."""
    paid = dict(session.execute(select(DealPayment.deal_id, func.sum(DealPayment.amount_fen))
                                .where(*_judged(DealPayment)).group_by(DealPayment.deal_id)).all())
    problems = _confirmation_problems(session, DealPayment, "deal payment")
    for deal_id, paid_fen, agreed_fen in session.execute(select(Deal.id, Deal.paid_fen, Deal.agreed_amount_fen)
                                                          .order_by(Deal.id)):
        recorded = int(paid.get(deal_id) or 0)
        if paid_fen != recorded:
            problems.append(f"deal {deal_id} says {_money(paid_fen)} was paid but its payments add up to {_money(recorded)}")
        if agreed_fen is None and paid_fen:
            problems.append(f"deal {deal_id} has payments but no agreed amount")
        elif agreed_fen is not None and paid_fen > agreed_fen:
            problems.append(f"deal {deal_id} is paid {_money(paid_fen)}, above its agreed amount of {_money(agreed_fen)}")
    return problems


def _agreement_payment_problems(session: Session) -> list[str]:
    """PreorderAgreement.paid_fen equals the sum of its judged payments, and paid ≤ accepted ≤ value."""
    paid = dict(session.execute(select(PreorderPayment.agreement_id, func.sum(PreorderPayment.amount_fen))
                                .where(*_judged(PreorderPayment)).group_by(PreorderPayment.agreement_id)).all())
    problems = _confirmation_problems(session, PreorderPayment, "pre-order payment")
    rows = session.execute(select(PreorderAgreement.id, PreorderAgreement.number, PreorderAgreement.paid_fen,
                                  PreorderAgreement.accepted_fen, PreorderAgreement.value_fen).order_by(PreorderAgreement.id))
    for agreement_id, number, paid_fen, accepted_fen, value_fen in rows:
        name = f"agreement {agreement_id} ({number})"
        recorded = int(paid.get(agreement_id) or 0)
        if paid_fen != recorded:
            problems.append(f"{name} says {_money(paid_fen)} was paid but its payments add up to {_money(recorded)}")
        if paid_fen > accepted_fen:
            problems.append(f"{name} is paid {_money(paid_fen)}, above the accepted {_money(accepted_fen)}")
        if accepted_fen > value_fen:
            problems.append(f"{name} has {_money(accepted_fen)} accepted, above its value of {_money(value_fen)}")
    return problems


# --- caps ----------------------------------------------------------------------------------------------------------


def _contract_achievements(session: Session) -> dict[str, str]:
    """The achievement each contract counts against, from the signing events the engine judged."""
    found = {}
    for payload in session.scalars(select(PolicyEvent.payload).where(PolicyEvent.event_type == "transfer_signed")):
        if isinstance(payload, dict) and payload.get("contract"):
            found.setdefault(payload["contract"], payload.get("achievement") or payload["contract"])
    return found


def _cap_problems(session: Session) -> list[str]:
    """Recompute every cap's usage from the awards (in the order the engine judged them) and compare with its limit."""
    rows = session.execute(select(Award, PolicyEvent.payload).join(PolicyEvent, PolicyEvent.id == Award.policy_event_id)
                           .where(Award.status.in_(USING_HEADROOM))
                           .order_by(Award.policy_event_id, Award.id))
    by_event: dict[int, list[tuple[Award, dict]]] = defaultdict(list)
    for award, payload in rows:
        by_event[award.policy_event_id].append((award, payload if isinstance(payload, dict) else {}))
    if not by_event:
        return _state_usage_problems(session, {})
    catalog = load_rule_catalog(session)
    achievements = _contract_achievements(session)
    usage: dict[tuple, int] = defaultdict(int)
    grants: dict[tuple, int] = defaultdict(int)
    problems, reported = [], set()
    for event_id in sorted(by_event):
        charges: dict[tuple, int] = defaultdict(int)
        limits = {}
        for award, payload in by_event[event_id]:
            rule = catalog.rule_of(award)
            if rule is None:
                problems.append(f"award {award.id} names rule {award.rule} of {award.rule_set} "
                                f"{award.rule_set_version}, which is not stored")
                continue
            for cap in rule.caps:
                subject, year = cap_subject(cap.scope, award, payload, lambda contract: achievements.get(contract, contract))
                key = (award.rule, cap.scope.value, subject, year)
                charges[key] += award.granted_fen
                limits[key] = cap
        for key, amount in charges.items():
            if amount == 0:
                continue
            usage[key] += amount
            grants[key] += 1
            cap = limits[key]
            over = grants[key] > 1 if cap.scope.counts_grants else usage[key] > cap.amount_fen
            if over and key not in reported:
                reported.add(key)
                problems.append(_cap_sentence(key, cap, usage[key], grants[key]))
    return problems + _state_usage_problems(session, usage)


def _state_usage_problems(session: Session, usage: dict[tuple, int]) -> list[str]:
    """The engine state's usage of every amount cap equals the granted sums of the standing awards counted under it
    (a reversal gives its headroom back)."""
    snapshot = session.get(PolicyStateSnapshot, 1)
    if snapshot is None:
        return []
    state = state_from_data(snapshot.state)
    recorded = {(key.rule, key.scope.value, key.subject, key.year): used.granted_fen
                for key, used in state.cap_usage.items() if not key.scope.counts_grants}
    counted = {key: amount for key, amount in usage.items()
               if amount and not CapScope(key[1]).counts_grants}
    problems = []
    for key in sorted(set(recorded) | set(counted), key=str):
        have, want = recorded.get(key, 0), counted.get(key, 0)
        if have != want:
            rule, scope, subject, year = key
            where = f"rule {rule} cap {scope} for {subject}" + (f" in {year}" if year is not None else "")
            problems.append(f"the engine state says {where} used {_money(have)} but its standing awards add up to "
                            f"{_money(want)}")
    return problems


def _hold_reason_problems(session: Session) -> list[str]:
    """A held award says why it waits, and only a held one does."""
    unexplained = session.scalars(select(Award.id).where(Award.status == AwardStatus.HELD, Award.hold_reason.is_(None)))
    stray = session.scalars(select(Award.id).where(Award.status != AwardStatus.HELD, Award.hold_reason.is_not(None)))
    return ([f"award {award_id} is held without a reason" for award_id in unexplained]
            + [f"award {award_id} is not held but names a hold reason" for award_id in stray])


def _cap_sentence(key: tuple, cap, used_fen: int, grant_count: int) -> str:
    rule, scope, subject, year = key
    where = f"rule {rule} cap {scope} for {subject}" + (f" in {year}" if year is not None else "")
    if cap.scope.counts_grants:
        return f"{where} is exceeded: {grant_count} non-zero grants, at most one allowed"
    return f"{where} is exceeded: {_money(used_fen)} granted, the cap is {_money(cap.amount_fen)}"


# --- intermediaries ------------------------------------------------------------------------------------------------


def _people_limit(rule_sets: Iterable[RuleSet], day: dt.date) -> int | None:
    """The smallest max_people_per_achievement of the intermediary rules in force on a day (None: no limit)."""
    limits = [entry.rule.max_people_per_achievement for entry in rules_in_force(list(rule_sets), day)
              if entry.rule.kind is RuleKind.INTERMEDIARY_SHARE and entry.rule.max_people_per_achievement]
    return min(limits) if limits else None


def _intermediary_limit_problems(session: Session) -> list[str]:
    """At most the rule's number of distinct intermediaries per achievement over its live or registered deals, unless
    one of those deals records a written exception."""
    rows = session.execute(
        select(Deal.achievement_id, Deal.id, Deal.signed_on, Deal.intermediary_exception, DealIntermediary.user_id)
        .join(DealIntermediary, DealIntermediary.deal_id == Deal.id)
        .where(Deal.achievement_id.is_not(None),
               (Deal.stage != DealStage.TERMINATED) | Deal.registration_number.is_not(None))
    ).all()
    if not rows:
        return []
    rule_sets = active_rule_sets(session)
    people: dict[int, set[int]] = defaultdict(set)
    days: dict[int, set[dt.date]] = defaultdict(set)
    excepted: set[int] = set()
    today = today_in_china()
    for achievement_id, _deal_id, signed_on, exception, user_id in rows:
        people[achievement_id].add(user_id)
        days[achievement_id].add(signed_on or today)
        if (exception or "").strip():
            excepted.add(achievement_id)
    problems = []
    for achievement_id in sorted(people):
        if achievement_id in excepted:
            continue
        try:
            limits = [limit for day in days[achievement_id] if (limit := _people_limit(rule_sets, day)) is not None]
        except RuleSetError as error:
            problems.append(f"achievement {achievement_id}: the active rule sets cannot be applied: {error}")
            continue
        if limits and len(people[achievement_id]) > min(limits):
            problems.append(f"achievement {achievement_id} has {len(people[achievement_id])} distinct intermediaries "
                            f"without a recorded exception; at most {min(limits)} are allowed")
    return problems
