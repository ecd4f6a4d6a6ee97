"""The cap keys an award's granted amount counts under, derived as the engine keys them (for returning headroom on a
reversal and for the book check that compares the engine state with the awards)."""
from __future__ import annotations

from collections.abc import Callable, Sequence

from market.awards.models import Award
from market.policy.engine import CapKey, find_rule
from market.policy.rules import Cap, CapScope, Rule, RuleSet


def award_rule(rule_sets: Sequence[RuleSet], award: Award) -> Rule | None:
    """The rule an award was judged under: its own rule set and version, else the rule in force on its date."""
    for rule_set in rule_sets:
        if rule_set.name != award.rule_set:
            continue
        for version in rule_set.versions:
            if version.version == award.rule_set_version:
                found = next((rule for rule in version.rules if rule.id == award.rule), None)
                if found is not None:
                    return found
    entry = find_rule(rule_sets, award.rule, award.event_date)
    return entry.rule if entry is not None else None


def cap_subject(scope: CapScope, award: Award, payload: dict, achievement_of: Callable[[str], str]) -> tuple[str, int | None]:
    """The subject (and year) an award's amount is counted against under a cap scope (as the engine keys it)."""
    if scope is CapScope.RECIPIENT_CALENDAR_YEAR:
        return award.recipient, award.event_date.year
    if scope in (CapScope.RECIPIENT_RULE_SET_PERIOD, CapScope.ONE_TIME_PER_STARTUP):
        return award.recipient, None
    if scope is CapScope.AGREEMENT:
        return str(payload.get("agreement") or f"agreement-row-{award.agreement_id}"), None
    contract = str(payload.get("contract") or f"deal-{award.deal_id}")
    if scope is CapScope.CONTRACT:
        return contract, None
    return achievement_of(contract), None


def award_caps(rule: Rule, award: Award, payload: dict, achievement_of: Callable[[str], str]) -> list[tuple[Cap, CapKey]]:
    """Every cap of the award's rule with the key it charges for the award."""
    pairs = []
    for cap in rule.caps:
        subject, year = cap_subject(cap.scope, award, payload, achievement_of)
        pairs.append((cap, CapKey(award.rule, cap.scope, subject, year)))
    return pairs


def award_cap_keys(rule: Rule, award: Award, payload: dict, achievement_of: Callable[[str], str]) -> list[CapKey]:
    """Every cap key the award's rule charges for it."""
    return [key for _cap, key in award_caps(rule, award, payload, achievement_of)]
