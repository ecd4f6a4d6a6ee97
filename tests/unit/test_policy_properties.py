"""Properties of the money core and the policy engine, checked on generated inputs (Hypothesis)."""
import datetime as dt
import json
from collections import defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from market.money import MAX_FEN, apply_rate, split_by_shares
from market.policy.engine import AwardStatus, PolicyState, apply_event
from market.policy.events import (
    IntermediaryShare,
    Organisation,
    PreorderPaid,
    PreorderSigned,
    StartupGrant,
    TransferPaid,
    TransferSigned,
)
from market.policy.rules import CapScope, OrganisationKind, load_shipped_rule_set
from market.policy.scenario import parse_scenario, run_scenario

RULES = (load_shipped_rule_set(),)
RULES_BY_ID = {rule.id: rule for rule in RULES[0].versions[0].rules}
ANNUAL_CAP = next(cap.amount_fen for cap in RULES_BY_ID["R1"].caps if cap.scope is CapScope.RECIPIENT_CALENDAR_YEAR)
ACHIEVEMENT_CAP = next(cap.amount_fen for cap in RULES_BY_ID["R2"].caps if cap.scope is CapScope.ACHIEVEMENT)
CONTRACT_CAP = next(cap.amount_fen for cap in RULES_BY_ID["R3"].caps if cap.scope is CapScope.CONTRACT)
ORGANISATIONS = {
    "S1": Organisation("S1", OrganisationKind.ENTERPRISE, "taiyuan", dt.date(2024, 1, 1)),
    "B1": Organisation("B1", OrganisationKind.ENTERPRISE),
    "U1": Organisation("U1", OrganisationKind.UNIVERSITY),
    "Y1": Organisation("Y1", OrganisationKind.ENTERPRISE, "yangquan", dt.date(2024, 1, 1)),
}
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

days = st.dates(min_value=dt.date(2024, 2, 1), max_value=dt.date(2028, 12, 31))
payments = st.integers(min_value=1, max_value=20_000_000_000)


def apply_all(events, state=None):
    """Apply events in date order (stable); return accepted awards and the final state."""
    state = state or PolicyState()
    awards = []
    for event in sorted(events, key=lambda e: e.date):
        outcome = apply_event(RULES, ORGANISATIONS, state, event)
        if not outcome.is_rejected:
            awards.extend(outcome.awards)
            state = outcome.state
    return awards, state


@SETTINGS
@given(st.integers(min_value=0, max_value=MAX_FEN), st.lists(st.integers(0, 10_000), min_size=1, max_size=6))
def test_split_parts_sum_exactly_and_stay_within_one_fen_of_the_exact_share(total, shares):
    if sum(shares) == 0:
        shares = shares[:-1] + [1]
    parts = split_by_shares(total, shares)
    assert sum(parts) == total
    weight = sum(shares)
    for part, share in zip(parts, shares):
        assert total * share // weight <= part <= -(-total * share // weight)


@SETTINGS
@given(st.integers(min_value=0, max_value=MAX_FEN), st.integers(min_value=0, max_value=10_000))
def test_a_rate_never_gives_a_negative_amount_or_more_than_the_base(amount, rate_bp):
    result = apply_rate(amount, rate_bp)
    assert 0 <= result <= amount
    assert result * 10_000 <= amount * rate_bp < (result + 1) * 10_000


@SETTINGS
@given(st.lists(st.tuples(days, payments), min_size=1, max_size=12))
def test_preorder_subsidies_never_exceed_the_annual_cap_or_go_negative(paid):
    events = [PreorderSigned("s", dt.date(2024, 1, 15), "A1", "B1", "S1", MAX_FEN)]
    events += [PreorderPaid(f"p{i}", day, "A1", amount) for i, (day, amount) in enumerate(paid)]
    awards, _ = apply_all(events)
    per_year = defaultdict(int)
    dates = {f"p{i}": day for i, (day, _) in enumerate(paid)}
    for award in awards:
        assert 0 <= award.granted_fen <= award.computed_fen
        per_year[dates[award.event].year] += award.granted_fen
    assert all(total <= ANNUAL_CAP for total in per_year.values())


@SETTINGS
@given(
    st.lists(st.tuples(days, payments), min_size=1, max_size=10),
    st.integers(min_value=0, max_value=10_000),
    st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=3),
)
def test_rewards_never_exceed_the_achievement_and_contract_caps(paid, rate_bp, weights):
    shares = split_by_shares(10_000, weights)
    if 0 in shares:
        shares = [10_000]
    people = tuple(IntermediaryShare(f"P{i}", share) for i, share in enumerate(shares))
    events = [TransferSigned("t", dt.date(2024, 1, 20), "T1", "K1", "U1", "Y1", MAX_FEN, rate_bp, people, "M1")]
    events += [TransferPaid(f"r{i}", day, "T1", amount) for i, (day, amount) in enumerate(paid)]
    awards, _ = apply_all(events)
    assert all(0 <= award.granted_fen <= award.computed_fen for award in awards)
    assert sum(a.granted_fen for a in awards if a.rule == "R2") <= ACHIEVEMENT_CAP
    assert sum(a.granted_fen for a in awards if a.rule == "R3") <= CONTRACT_CAP
    assert all(a.status is AwardStatus.HELD for a in awards if a.rule == "R3")


@SETTINGS
@given(st.lists(st.tuples(days, payments), max_size=6), days, payments, payments)
def test_a_larger_payment_never_earns_less(prior, day, smaller, larger):
    smaller, larger = sorted((smaller, larger))
    signing = PreorderSigned("s", dt.date(2024, 1, 15), "A1", "B1", "S1", MAX_FEN)
    contract = TransferSigned(
        "t", dt.date(2024, 1, 20), "T1", "K1", "U1", "Y1", MAX_FEN, 2000,
        (IntermediaryShare("P1", 7000), IntermediaryShare("P2", 3000)), "M1",
    )
    history = [signing, contract]
    for i, (paid_on, amount) in enumerate(prior):
        history.append(PreorderPaid(f"p{i}", paid_on, "A1", amount))
        history.append(TransferPaid(f"r{i}", paid_on, "T1", amount))
    _, state = apply_all([e for e in history if e.date <= day])
    payment_kinds = (
        lambda amount: PreorderPaid("x", day, "A1", amount),
        lambda amount: TransferPaid("x", day, "T1", amount),
    )
    for make in payment_kinds:
        low = apply_event(RULES, ORGANISATIONS, state, make(smaller))
        high = apply_event(RULES, ORGANISATIONS, state, make(larger))
        low_by_line = {(a.rule, a.recipient): a.granted_fen for a in low.awards}
        high_by_line = {(a.rule, a.recipient): a.granted_fen for a in high.awards}
        assert low_by_line.keys() == high_by_line.keys()
        assert all(low_by_line[key] <= high_by_line[key] for key in low_by_line)


@SETTINGS
@given(st.integers(min_value=0, max_value=10**10), st.integers(min_value=0, max_value=10**10))
def test_a_startup_grant_is_rejected_or_within_its_limits(founders, awarded):
    rule = RULES_BY_ID["R4"]
    grant = StartupGrant("g", dt.date(2024, 6, 1), "S1", founders, awarded)
    outcome = apply_event(RULES, ORGANISATIONS, PolicyState(), grant)
    if outcome.is_rejected:
        assert min(founders, awarded, rule.max_amount_fen) < rule.min_amount_fen
    else:
        (award,) = outcome.awards
        assert rule.min_amount_fen <= award.granted_fen <= min(founders, awarded, rule.max_amount_fen)


json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**18), max_value=10**18),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8),
    st.sampled_from(["2024-06-01", "2025-01-01", "S1", "U1", "Y1", "A1", "T1", "K1", "P1"]),
)
event_keys = st.sampled_from([
    "id", "type", "date", "agreement", "buyer", "seller", "value_fen", "related", "amount_fen", "contract",
    "achievement", "transferor", "transferee", "reward_rate_bp", "intermediaries", "agent", "registered",
    "intermediary_exception", "startup", "founders_paid_in_fen", "awarded_fen", "colour",
])
event_types = st.sampled_from(
    ["preorder_signed", "preorder_paid", "transfer_signed", "transfer_paid", "startup_grant", "lottery"]
)
intermediary_lists = st.lists(
    st.dictionaries(st.sampled_from(["person", "share_bp", "x"]), json_scalars, max_size=3), max_size=4
)
raw_events = st.builds(
    lambda fields, event_type, with_type, intermediaries: {
        **fields,
        **({"type": event_type} if with_type else {}),
        **({"intermediaries": intermediaries} if "intermediaries" in fields else {}),
    },
    st.dictionaries(event_keys, json_scalars, max_size=10),
    event_types,
    st.booleans(),
    intermediary_lists,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(raw_events, json_scalars), max_size=8))
def test_the_scenario_runner_never_crashes_on_arbitrary_events(events):
    text = json.dumps({
        "rules": "default",
        "organisations": [
            {"id": "S1", "kind": "enterprise", "valley": "taiyuan", "resident_since": "2024-01-01"},
            {"id": "U1", "kind": "university"}, {"id": "Y1", "kind": "enterprise", "valley": "yangquan"},
        ],
        "events": events,
    })
    result = run_scenario(parse_scenario(text), RULES)
    assert list(result) == ["awards", "rejected", "totals"]
    assert all(isinstance(r["reason"], str) and r["reason"].endswith(".") for r in result["rejected"])
    assert all(line["granted_fen"] >= 0 for line in result["awards"])
    json.dumps(result, ensure_ascii=False).encode("utf-8")
