"""The policy engine: worked examples, conditions, rejections, caps, stacking, statuses and versions."""
import datetime as dt
import json
import tomllib

import pytest

from market.policy.engine import (
    AwardStatus,
    CapKey,
    CapUsage,
    PolicyState,
    apply_event,
    find_rule,
)
from market.policy.events import (
    IntermediaryShare,
    Organisation,
    PreorderPaid,
    PreorderSigned,
    StartupGrant,
    TransferPaid,
    TransferSigned,
)
from market.policy.rules import (
    CapScope,
    OrganisationKind,
    RuleSetError,
    RuleStatus,
    load_rule_set,
    load_shipped_rule_set,
    parse_rule_set,
    parse_rule_set_toml,
    shipped_rule_set_paths,
)
from market.policy.statutory import FindingLevel, check_proceeds_split, proceeds_split_limits_on

D = dt.date.fromisoformat
YUAN = 100  # fen per yuan, to write the worked examples as in POLICY.md

ORGANISATIONS = {
    org.id: org
    for org in [
        Organisation("S1", OrganisationKind.ENTERPRISE, "taiyuan", D("2024-03-01")),
        Organisation("S2", OrganisationKind.ENTERPRISE, "datong", D("2024-03-01")),
        Organisation("LATE", OrganisationKind.ENTERPRISE, "taiyuan", D("2025-01-01")),
        Organisation("B1", OrganisationKind.ENTERPRISE),
        Organisation("B2", OrganisationKind.ENTERPRISE),
        Organisation("U1", OrganisationKind.UNIVERSITY),
        Organisation("I1", OrganisationKind.INSTITUTE),
        Organisation("X1", OrganisationKind.ENTERPRISE),
        Organisation("Y1", OrganisationKind.ENTERPRISE, "yangquan", D("2024-05-01")),
        Organisation("M1", OrganisationKind.AGENCY),
    ]
}


@pytest.fixture(scope="module")
def default_rules():
    return (load_shipped_rule_set(),)


def run(rule_sets, events, state=None):
    """Apply events in the order given; return (awards, {event id: reason}, final state)."""
    state = state or PolicyState()
    awards, rejected = [], {}
    for event in events:
        outcome = apply_event(rule_sets, ORGANISATIONS, state, event)
        if outcome.is_rejected:
            rejected[event.id] = outcome.rejection
            assert outcome.state is state
        else:
            awards.extend(outcome.awards)
            state = outcome.state
    return awards, rejected, state


def signed(event_id="s", date="2024-10-15", agreement="A1", seller="S1", buyer="B1", value=150_000_000 * YUAN, **kw):
    return PreorderSigned(event_id, D(date), agreement, buyer, seller, value, **kw)


def paid(event_id, date, amount, agreement="A1"):
    return PreorderPaid(event_id, D(date), agreement, amount)


THREE = (IntermediaryShare("P1", 5000), IntermediaryShare("P2", 3000), IntermediaryShare("P3", 2000))


def contract(event_id="t", date="2025-03-10", contract_id="T1", achievement="K1", transferor="U1",
             transferee="X1", value=12_000_000 * YUAN, rate=2000, intermediaries=THREE, **kw):
    return TransferSigned(event_id, D(date), contract_id, achievement, transferor, transferee, value, rate,
                          intermediaries, **kw)


def proceeds(event_id, date, amount, contract_id="T1"):
    return TransferPaid(event_id, D(date), contract_id, amount)


def summary(awards):
    return [(a.event, a.rule, a.recipient, a.computed_fen, a.granted_fen, a.status, a.capped_by, a.waived_by)
            for a in awards]


# --- the shipped rule set ---------------------------------------------------------------------


def test_default_rule_set_holds_r1_to_r4_in_force_2024_to_2028(default_rules):
    (rule_set,) = default_rules
    first, second = rule_set.versions
    assert (first.effective_from, first.effective_to) == (D("2024-01-01"), D("2028-12-31"))
    assert (second.effective_from, second.effective_to) == (D("2027-01-01"), D("2028-12-31"))
    for version in (first, second):
        assert [(r.id, r.kind.value, r.status) for r in version.rules] == [
            ("R1", "preorder_subsidy", RuleStatus.CONFIRMED),
            ("R2", "intermediary_share", RuleStatus.CONFIRMED),
            ("R3", "city_agent_reward", RuleStatus.DRAFT),
            ("R4", "startup_capital", RuleStatus.CONFIRMED),
        ]
        assert len({r.stacking_group for r in version.rules}) == 4
    assert [r.max_reward_rate_bp for r in first.rules] == [None, None, None, None]
    assert [r.max_reward_rate_bp for r in second.rules] == [None, 3000, None, None]


def test_the_republished_rule_set_keeps_the_first_version_unchanged(default_rules):
    first_file, newest_file = shipped_rule_set_paths()
    assert first_file.name == "default.toml" and newest_file.name == "default-2027.1.toml"
    assert load_rule_set(first_file).versions == default_rules[0].versions[:1]


# --- worked examples (POLICY.md) -----------------------------------------------------------------


def test_worked_example_1_preorder_subsidy_per_year_cap_and_value_limit(default_rules):
    awards, rejected, _ = run(default_rules, [
        signed(),
        paid("p1", "2025-03-20", 70_000_000 * YUAN),
        paid("p2", "2025-09-20", 50_000_000 * YUAN),
        paid("p3", "2026-02-10", 20_000_000 * YUAN),
        paid("p4", "2026-05-10", 20_000_000 * YUAN),
    ])
    assert summary(awards) == [
        ("p1", "R1", "S1", 7_000_000 * YUAN, 7_000_000 * YUAN, AwardStatus.PAYABLE, None, None),
        ("p2", "R1", "S1", 5_000_000 * YUAN, 3_000_000 * YUAN, AwardStatus.PAYABLE, "recipient_calendar_year", None),
        ("p3", "R1", "S1", 2_000_000 * YUAN, 2_000_000 * YUAN, AwardStatus.PAYABLE, None, None),
    ]
    assert list(rejected) == ["p4"]
    assert "above its value of ¥150,000,000.00" in rejected["p4"]


def test_worked_example_2_intermediary_reward_split_and_achievement_cap(default_rules):
    awards, rejected, _ = run(default_rules, [
        contract(),
        proceeds("r1", "2025-04-30", 6_000_000 * YUAN),
        proceeds("r2", "2025-08-31", 6_000_000 * YUAN),
    ])
    assert rejected == {}
    assert summary(awards) == [
        ("r1", "R2", "P1", 600_000 * YUAN, 600_000 * YUAN, AwardStatus.PAYABLE, None, None),
        ("r1", "R2", "P2", 360_000 * YUAN, 360_000 * YUAN, AwardStatus.PAYABLE, None, None),
        ("r1", "R2", "P3", 240_000 * YUAN, 240_000 * YUAN, AwardStatus.PAYABLE, None, None),
        ("r2", "R2", "P1", 600_000 * YUAN, 400_000 * YUAN, AwardStatus.PAYABLE, "achievement", None),
        ("r2", "R2", "P2", 360_000 * YUAN, 240_000 * YUAN, AwardStatus.PAYABLE, "achievement", None),
        ("r2", "R2", "P3", 240_000 * YUAN, 160_000 * YUAN, AwardStatus.PAYABLE, "achievement", None),
    ]
    assert {a.payer for a in awards} == {"proceeds:U1"}


def test_worked_example_3_yangquan_agent_reward_is_held_and_capped_per_contract(default_rules):
    awards, rejected, _ = run(default_rules, [
        contract(transferee="Y1", intermediaries=(), agent="M1"),
        proceeds("r1", "2025-04-30", 6_000_000 * YUAN),
        proceeds("r2", "2025-06-30", 6_000_000 * YUAN),
    ])
    assert rejected == {}
    assert summary(awards) == [
        ("r1", "R3", "M1", 300_000 * YUAN, 300_000 * YUAN, AwardStatus.HELD, None, None),
        ("r2", "R3", "M1", 300_000 * YUAN, 0, AwardStatus.HELD, "contract", None),
    ]
    assert awards[0].payer == "fiscal:yangquan"


def test_worked_example_4_startup_capital_paid_in_share_and_minimum(default_rules):
    awards, rejected, _ = run(default_rules, [
        StartupGrant("g1", D("2024-06-01"), "S1", 800_000 * YUAN, 1_000_000 * YUAN),
        StartupGrant("g2", D("2024-06-01"), "S2", 250_000 * YUAN, 1_000_000 * YUAN),
    ])
    assert summary(awards) == [
        ("g1", "R4", "S1", 1_000_000 * YUAN, 800_000 * YUAN, AwardStatus.PAYABLE, "max_share_of_capital_bp", None),
    ]
    assert list(rejected) == ["g2"]
    assert "below its minimum of ¥300,000.00" in rejected["g2"]


def test_second_startup_grant_to_the_same_startup_gets_nothing(default_rules):
    awards, rejected, _ = run(default_rules, [
        StartupGrant("g1", D("2024-06-01"), "S1", 2_000_000 * YUAN, 500_000 * YUAN),
        StartupGrant("g2", D("2025-06-01"), "S1", 2_000_000 * YUAN, 500_000 * YUAN),
    ])
    assert rejected == {}
    assert [(a.granted_fen, a.capped_by) for a in awards] == [(500_000 * YUAN, None), (0, "one_time_per_startup")]


def test_startup_grant_above_the_maximum_is_capped_at_the_maximum(default_rules):
    awards, _, _ = run(default_rules, [StartupGrant("g1", D("2024-06-01"), "S1", 5_000_000 * YUAN, 1_500_000 * YUAN)])
    assert [(a.granted_fen, a.capped_by) for a in awards] == [(1_000_000 * YUAN, "max_amount_fen")]


def test_agent_and_intermediaries_are_both_rewarded_on_a_yangquan_transfer(default_rules):
    awards, _, _ = run(default_rules, [
        contract(transferee="Y1", agent="M1"),
        proceeds("r1", "2025-04-30", 1_000_000 * YUAN),
    ])
    assert [(a.rule, a.recipient, a.granted_fen) for a in awards] == [
        ("R2", "P1", 100_000 * YUAN), ("R2", "P2", 60_000 * YUAN), ("R2", "P3", 40_000 * YUAN),
        ("R3", "M1", 50_000 * YUAN),
    ]


def test_the_calendar_year_cap_is_per_recipient(default_rules):
    awards, _, _ = run(default_rules, [
        signed(),
        signed("s2", agreement="A2", seller="S2"),
        paid("p1", "2025-03-01", 120_000_000 * YUAN),
        paid("p2", "2025-03-01", 120_000_000 * YUAN, agreement="A2"),
    ])
    assert [(a.recipient, a.granted_fen) for a in awards] == [("S1", 10_000_000 * YUAN), ("S2", 10_000_000 * YUAN)]


# --- conditions not met: no award, no rejection -----------------------------------------------


@pytest.mark.parametrize(
    "events",
    [
        pytest.param([signed(seller="LATE"), paid("p", "2025-06-01", 1000 * YUAN)],
                     id="seller-not-resident-on-signing"),
        pytest.param([signed(seller="B2"), paid("p", "2025-06-01", 1000 * YUAN)], id="seller-never-resident"),
        pytest.param([signed(related=True), paid("p", "2025-06-01", 1000 * YUAN)], id="related-parties"),
        pytest.param([signed(date="2023-12-20"), paid("p", "2024-02-01", 1000 * YUAN)], id="signed-before-rule-set"),
        pytest.param([signed(), paid("p", "2029-01-02", 1000 * YUAN)], id="paid-after-rule-set-ends"),
        pytest.param([contract(transferor="I1", transferee="Y1", intermediaries=(), agent="M1"),
                      proceeds("r", "2025-06-01", 1000 * YUAN)], id="institute-transferor-for-r3"),
        pytest.param([contract(transferee="X1", intermediaries=(), agent="M1"),
                      proceeds("r", "2025-06-01", 1000 * YUAN)], id="transferee-not-in-yangquan"),
        pytest.param([contract(transferee="Y1", intermediaries=(), agent="M1", registered=False),
                      proceeds("r", "2025-06-01", 1000 * YUAN)], id="unregistered-contract-for-r3"),
        pytest.param([contract(transferee="Y1", intermediaries=(), date="2024-04-01", agent="M1"),
                      proceeds("r", "2025-06-01", 1000 * YUAN)], id="transferee-resident-after-signing"),
        pytest.param([contract(transferee="Y1", intermediaries=()),
                      proceeds("r", "2025-06-01", 1000 * YUAN)], id="no-agent-named"),
        pytest.param([StartupGrant("g", D("2024-06-01"), "B1", 800_000 * YUAN, 800_000 * YUAN)],
                     id="startup-not-in-a-valley"),
    ],
)
def test_an_unmet_condition_earns_nothing_without_rejecting(default_rules, events):
    awards, rejected, _ = run(default_rules, events)
    assert awards == []
    assert rejected == {}


# --- rejections --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("events", "reason"),
    [
        pytest.param([paid("x", "2025-01-01", 100)], "unknown agreement A1", id="payment-unknown-agreement"),
        pytest.param([proceeds("x", "2025-01-01", 100)], "unknown contract T1", id="payment-unknown-contract"),
        pytest.param([signed(), paid("x", "2024-10-14", 100)], "before agreement A1 was signed",
                     id="paid-before-signing"),
        pytest.param([contract(), proceeds("x", "2025-03-09", 100)], "before contract T1 was signed",
                     id="proceeds-before-signing"),
        pytest.param([signed(value=1000), paid("x", "2025-01-01", 1001)], "above its value",
                     id="above-agreement-value"),
        pytest.param([contract(value=1000), proceeds("x", "2025-04-01", 1001)], "above its value",
                     id="above-contract-value"),
        pytest.param([signed(), paid("x", "2025-01-01", -100)], "must not be negative", id="negative-amount"),
        pytest.param([signed(), paid("x", "2025-01-01", 0)], "more than zero", id="zero-amount"),
        pytest.param([signed(), paid("x", "2025-01-01", 100.0)], "integer number of fen", id="float-amount"),
        pytest.param([signed(), paid("x", "2025-01-01", "100")], "integer number of fen", id="string-amount"),
        pytest.param([signed(), paid("x", "2025-01-01", True)], "integer number of fen", id="bool-amount"),
        pytest.param([signed(), paid("x", "2025-01-01", 10**16)], "largest accepted amount", id="huge-amount"),
        pytest.param([signed("x", value=-5)], "must not be negative", id="negative-value"),
        pytest.param([signed(), signed("x")], "already signed", id="agreement-signed-twice"),
        pytest.param([signed("x", buyer="S1")], "different organisations", id="buyer-is-seller"),
        pytest.param([signed("x", buyer="NOBODY")], "unknown organisation NOBODY", id="unknown-buyer"),
        pytest.param([signed("x", related=None)], "true or false", id="related-not-bool"),
        pytest.param([contract(), contract("x", contract_id="T2", intermediaries=(IntermediaryShare("P4", 10000),))],
                     "at most 3 are allowed", id="fourth-intermediary"),
        pytest.param([contract("x", intermediaries=(IntermediaryShare("P1", 5000), IntermediaryShare("P2", 4000)))],
                     "sum to 10000", id="shares-not-summing"),
        pytest.param([contract("x", intermediaries=(IntermediaryShare("P1", 5000), IntermediaryShare("P1", 5000)))],
                     "listed twice", id="intermediary-twice"),
        pytest.param([contract("x", agent="P1")], "must not also be listed", id="agent-is-intermediary"),
        pytest.param([contract("x", rate=10001)], "reward_rate_bp", id="rate-above-100-percent"),
        pytest.param([contract("x", intermediaries="P1")], "intermediaries must be a list",
                     id="intermediaries-not-list"),
        pytest.param([contract("x", intermediary_exception="   ")], "written reason", id="blank-exception"),
        pytest.param([contract("x", transferee="U1")], "different organisations", id="transfer-to-itself"),
        pytest.param([StartupGrant("x", D("2024-06-01"), "S1", 250_000 * YUAN, 1_000_000 * YUAN)],
                     "below its minimum", id="grant-below-minimum"),
        pytest.param([StartupGrant("x", D("2024-06-01"), "S1", 800_000 * YUAN, 200_000 * YUAN)],
                     "below its minimum", id="awarded-below-minimum"),
        pytest.param([StartupGrant("x", D("2024-06-01"), "S9", 800_000 * YUAN, 800_000 * YUAN)],
                     "unknown organisation S9", id="unknown-startup"),
        pytest.param([StartupGrant("x", "2024-06-01", "S1", 800_000 * YUAN, 800_000 * YUAN)],
                     "no valid date", id="date-not-a-date"),
        pytest.param([StartupGrant("", D("2024-06-01"), "S1", 800_000 * YUAN, 800_000 * YUAN)],
                     "no id", id="no-id"),
    ],
)
def test_invalid_events_are_rejected_with_a_reason_and_change_nothing(default_rules, events, reason):
    *earlier, last = events
    _, _, state = run(default_rules, earlier)
    outcome = apply_event(default_rules, ORGANISATIONS, state, last)
    assert outcome.is_rejected
    assert reason in outcome.rejection
    assert outcome.awards == ()
    assert outcome.state is state


def test_a_non_event_object_is_rejected_not_crashed_on(default_rules):
    outcome = apply_event(default_rules, ORGANISATIONS, PolicyState(), object())
    assert outcome.is_rejected


def test_fourth_intermediary_is_accepted_with_a_written_exception(default_rules):
    awards, rejected, state = run(default_rules, [
        contract(),
        contract("t2", contract_id="T2", intermediaries=(IntermediaryShare("P4", 10000),),
                 intermediary_exception="Approved by the valley office: P4 led the pilot-scale trial."),
        proceeds("r", "2025-05-01", 1_000_000 * YUAN, contract_id="T2"),
    ])
    assert rejected == {}
    assert state.intermediaries["K1"] == {"P1", "P2", "P3", "P4"}
    assert [(a.recipient, a.granted_fen) for a in awards] == [("P4", 200_000 * YUAN)]


def test_the_same_intermediaries_on_a_second_deal_do_not_count_twice(default_rules):
    _, rejected, state = run(default_rules, [
        contract(),
        contract("t2", contract_id="T2", intermediaries=(IntermediaryShare("P3", 6000), IntermediaryShare("P1", 4000))),
    ])
    assert rejected == {}
    assert state.intermediaries["K1"] == {"P1", "P2", "P3"}


def test_the_agent_does_not_count_toward_the_intermediary_limit(default_rules):
    _, rejected, _ = run(default_rules, [contract(agent="M1"), contract("t2", contract_id="T2", agent="M9")])
    assert rejected == {}


def test_the_intermediary_cap_spans_all_deals_of_an_achievement(default_rules):
    awards, _, _ = run(default_rules, [
        contract(),
        contract("t2", contract_id="T2", rate=5000),
        proceeds("r1", "2025-04-01", 6_000_000 * YUAN),
        proceeds("r2", "2025-05-01", 6_000_000 * YUAN, contract_id="T2"),
    ])
    assert sum(a.granted_fen for a in awards) == 2_000_000 * YUAN
    assert sum(a.granted_fen for a in awards if a.event == "r2") == 800_000 * YUAN


# --- rule sets written for the tests: scopes, stacking, statuses, versions -------------------------

HEADER = 'format = 1\nname = "test"\n'


def version(label="v1", start="2024-01-01", end="2028-12-31", rules=""):
    end_line = f"effective_to = {end}\n" if end else ""
    return f'[[versions]]\nversion = "{label}"\neffective_from = {start}\n{end_line}{rules}'


def preorder_rule(rule_id, rate_bp, group, status="confirmed", caps=(), recipient="seller"):
    text = (
        f'[[versions.rules]]\nid = "{rule_id}"\nkind = "preorder_subsidy"\nstatus = "{status}"\n'
        f'recipient = "{recipient}"\nrate_bp = {rate_bp}\nstacking_group = "{group}"\npayer = "fiscal:province"\n'
    )
    for scope, amount in caps:
        text += f'[[versions.rules.caps]]\nscope = "{scope}"\namount_fen = {amount}\n'
    return text


def write_rules(tmp_path, *versions_text):
    path = tmp_path / "rules.toml"
    path.write_text(HEADER + "".join(versions_text), encoding="utf-8")
    return (load_rule_set(path),)


def test_within_a_stacking_group_only_the_highest_award_is_paid(tmp_path):
    rules = write_rules(tmp_path, version(rules=preorder_rule("P10", 1000, "g") + preorder_rule("P15", 1500, "g")))
    awards, _, _ = run(rules, [signed(), paid("p", "2025-01-01", 10_000)])
    assert summary(awards) == [
        ("p", "P10", "S1", 1000, 1000, AwardStatus.WAIVED, None, "P15"),
        ("p", "P15", "S1", 1500, 1500, AwardStatus.PAYABLE, None, None),
    ]


def test_stacking_compares_amounts_after_each_rules_own_caps(tmp_path):
    rules = write_rules(tmp_path, version(rules=(
        preorder_rule("P10", 1000, "g") + preorder_rule("P15", 1500, "g", caps=[("agreement", 500)])
    )))
    awards, _, _ = run(rules, [signed(), paid("p", "2025-01-01", 10_000)])
    assert [(a.rule, a.granted_fen, a.status, a.waived_by) for a in awards] == [
        ("P10", 1000, AwardStatus.PAYABLE, None),
        ("P15", 500, AwardStatus.WAIVED, "P10"),
    ]


def test_a_stacking_tie_goes_to_the_rule_listed_first(tmp_path):
    rules = write_rules(tmp_path, version(rules=preorder_rule("B", 1000, "g") + preorder_rule("A", 1000, "g")))
    awards, _, _ = run(rules, [signed(), paid("p", "2025-01-01", 10_000)])
    assert [(a.rule, a.status, a.waived_by) for a in awards] == [
        ("B", AwardStatus.PAYABLE, None),
        ("A", AwardStatus.WAIVED, "B"),
    ]


def test_a_waived_award_uses_no_cap_headroom(tmp_path):
    rules = write_rules(tmp_path, version(rules=(
        preorder_rule("LOW", 500, "g", caps=[("agreement", 1000)]) + preorder_rule("HIGH", 2000, "g")
    )))
    awards, _, state = run(rules, [signed(), paid("p1", "2025-01-01", 10_000)])
    assert [(a.rule, a.granted_fen, a.status) for a in awards] == [
        ("LOW", 500, AwardStatus.WAIVED), ("HIGH", 2000, AwardStatus.PAYABLE),
    ]
    assert state.usage(CapKey("LOW", CapScope.AGREEMENT, "A1")) == CapUsage()


def test_a_higher_draft_is_held_for_the_difference_only_and_uses_headroom_for_it(tmp_path):
    rules = write_rules(tmp_path, version(rules=(
        preorder_rule("CONF", 1000, "g", caps=[("agreement", 5000)])
        + preorder_rule("DRAFT", 1500, "g", status="draft", caps=[("agreement", 5000)])
        + preorder_rule("LOW", 500, "g", caps=[("agreement", 5000)])
    )))
    awards, _, state = run(rules, [signed(), paid("p", "2025-01-01", 10_000)])
    assert [(a.rule, a.computed_fen, a.granted_fen, a.status, a.waived_by, a.tops_up) for a in awards] == [
        ("CONF", 1000, 1000, AwardStatus.PAYABLE, None, None),
        ("DRAFT", 1500, 500, AwardStatus.HELD, None, "CONF"),
        ("LOW", 500, 500, AwardStatus.WAIVED, "CONF", None),
    ]
    assert [state.usage(CapKey(rule, CapScope.AGREEMENT, "A1")).granted_fen for rule in ("CONF", "DRAFT", "LOW")] == [
        1000, 500, 0]


@pytest.mark.parametrize(("draft_rate", "draft_cap", "granted"), [(800, 5000, 800), (1500, 900, 900)])
def test_a_draft_never_displaces_a_higher_confirmed_amount(tmp_path, draft_rate, draft_cap, granted):
    rules = write_rules(tmp_path, version(rules=(
        preorder_rule("CONF", 1000, "g")
        + preorder_rule("DRAFT", draft_rate, "g", status="draft", caps=[("agreement", draft_cap)])
    )))
    awards, _, state = run(rules, [signed(), paid("p", "2025-01-01", 10_000)])
    assert [(a.rule, a.granted_fen, a.status, a.waived_by, a.tops_up) for a in awards] == [
        ("CONF", 1000, AwardStatus.PAYABLE, None, None),
        ("DRAFT", granted, AwardStatus.WAIVED, "CONF", None),
    ]
    assert state.usage(CapKey("DRAFT", CapScope.AGREEMENT, "A1")) == CapUsage()


def test_without_a_confirmed_line_the_highest_draft_is_held_in_full(tmp_path):
    rules = write_rules(tmp_path, version(rules=(
        preorder_rule("D1", 1000, "g", status="draft") + preorder_rule("D2", 1500, "g", status="unconfirmed")
    )))
    awards, _, _ = run(rules, [signed(), paid("p", "2025-01-01", 10_000)])
    assert [(a.rule, a.granted_fen, a.status, a.waived_by, a.tops_up) for a in awards] == [
        ("D1", 1000, AwardStatus.WAIVED, "D2", None),
        ("D2", 1500, AwardStatus.HELD, None, None),
    ]


def test_rules_in_different_stacking_groups_all_apply(tmp_path):
    rules = write_rules(tmp_path, version(rules=preorder_rule("P10", 1000, "g1") + preorder_rule("P15", 1500, "g2")))
    awards, _, _ = run(rules, [signed(), paid("p", "2025-01-01", 10_000)])
    assert [(a.rule, a.granted_fen, a.status) for a in awards] == [
        ("P10", 1000, AwardStatus.PAYABLE), ("P15", 1500, AwardStatus.PAYABLE),
    ]


def test_stacking_is_per_recipient(tmp_path):
    rules = write_rules(tmp_path, version(rules=(
        preorder_rule("SELL", 1000, "g") + preorder_rule("BUY", 1500, "g", recipient="buyer")
    )))
    awards, _, _ = run(rules, [signed(), paid("p", "2025-01-01", 10_000)])
    assert [(a.rule, a.recipient, a.status) for a in awards] == [
        ("SELL", "S1", AwardStatus.PAYABLE), ("BUY", "B1", AwardStatus.PAYABLE),
    ]


@pytest.mark.parametrize(
    ("status", "award_status"),
    [("confirmed", AwardStatus.PAYABLE), ("draft", AwardStatus.HELD), ("unconfirmed", AwardStatus.HELD)],
)
def test_a_rules_status_decides_payable_or_held(tmp_path, status, award_status):
    rules = write_rules(tmp_path, version(rules=preorder_rule("R", 1000, "g", status=status)))
    awards, _, _ = run(rules, [signed(), paid("p", "2025-01-01", 10_000)])
    assert [(a.granted_fen, a.status) for a in awards] == [(1000, award_status)]


@pytest.mark.parametrize(
    ("scope", "dates", "granted", "capped_by"),
    [
        ("agreement", ["2025-01-01", "2026-01-01", "2027-01-01"], [1000, 500, 0], [None, "agreement", "agreement"]),
        (
            "recipient_rule_set_period",
            ["2025-01-01", "2026-01-01", "2027-01-01"],
            [1000, 500, 0],
            [None, "recipient_rule_set_period", "recipient_rule_set_period"],
        ),
        (
            "recipient_calendar_year",
            ["2025-01-01", "2025-12-31", "2026-01-01"],
            [1000, 500, 1000],
            [None, "recipient_calendar_year", None],
        ),
    ],
)
def test_cap_scopes_accumulate_over_their_key(tmp_path, scope, dates, granted, capped_by):
    rules = write_rules(tmp_path, version(rules=preorder_rule("R", 1000, "g", caps=[(scope, 1500)])))
    events = [signed()] + [paid(f"p{i}", day, 10_000) for i, day in enumerate(dates)]
    awards, _, _ = run(rules, events)
    assert [a.granted_fen for a in awards] == granted
    assert [a.capped_by for a in awards] == capped_by


def test_an_agreement_cap_starts_afresh_for_another_agreement(tmp_path):
    rules = write_rules(tmp_path, version(rules=preorder_rule("R", 1000, "g", caps=[("agreement", 1500)])))
    awards, _, _ = run(rules, [
        signed(), signed("s2", agreement="A2"),
        paid("p1", "2025-01-01", 20_000), paid("p2", "2025-01-01", 20_000, agreement="A2"),
    ])
    assert [a.granted_fen for a in awards] == [1500, 1500]


def test_the_buyer_can_be_the_recipient(tmp_path):
    rules = write_rules(tmp_path, version(rules=preorder_rule("R", 1000, "g", recipient="buyer")))
    awards, _, _ = run(rules, [signed(), paid("p", "2025-01-01", 10_000)])
    assert [(a.recipient, a.granted_fen) for a in awards] == [("B1", 1000)]


def test_an_event_is_judged_by_the_version_in_force_on_its_date(tmp_path):
    rules = write_rules(
        tmp_path,
        version("2024.1", "2024-01-01", "2024-12-31", preorder_rule("R", 1000, "g", status="draft")),
        version("2025.1", "2025-01-01", "2025-12-31", preorder_rule("R", 500, "g", status="confirmed")),
    )
    awards, _, _ = run(rules, [
        signed(date="2024-05-01"),
        paid("p1", "2024-12-31", 10_000),
        paid("p2", "2025-01-01", 10_000),
        paid("p3", "2026-01-01", 10_000),
    ])
    assert [(a.event, a.granted_fen, a.status, a.version) for a in awards] == [
        ("p1", 1000, AwardStatus.HELD, "2024.1"),
        ("p2", 500, AwardStatus.PAYABLE, "2025.1"),
    ]


def test_find_rule_gives_the_status_in_force_for_re_evaluating_held_awards(tmp_path):
    rules = write_rules(
        tmp_path,
        version("2024.1", "2024-01-01", "2024-12-31", preorder_rule("R", 1000, "g", status="draft")),
        version("2024.2", "2025-01-01", None, preorder_rule("R", 1000, "g", status="confirmed")),
    )
    assert find_rule(rules, "R", D("2024-06-01")).rule.status is RuleStatus.DRAFT
    assert find_rule(rules, "R", D("2030-06-01")).rule.status is RuleStatus.CONFIRMED
    assert find_rule(rules, "R", D("2023-06-01")) is None
    assert find_rule(rules, "NOPE", D("2024-06-01")) is None


def test_the_same_rule_id_in_force_twice_is_a_configuration_error(tmp_path):
    (rule_set,) = write_rules(tmp_path, version(rules=preorder_rule("R", 1000, "g")))
    with pytest.raises(RuleSetError, match="in force twice"):
        run((rule_set, rule_set), [signed(), paid("p", "2025-01-01", 10_000)])


# --- the state as plain data (live use) ------------------------------------------------------------


def test_a_state_rebuilt_from_stored_usage_limits_the_next_award(default_rules):
    stored_key = CapKey("R1", CapScope.RECIPIENT_CALENDAR_YEAR, "S1", 2025)
    state = PolicyState(cap_usage={stored_key: CapUsage(999_999_000, 3)})
    _, _, state = run(default_rules, [signed()], state)
    outcome = apply_event(default_rules, ORGANISATIONS, state, paid("p", "2025-07-01", 100_000))
    assert [(a.computed_fen, a.granted_fen, a.capped_by) for a in outcome.awards] == [
        (10_000, 1_000, "recipient_calendar_year")
    ]
    (charge,) = outcome.cap_charges
    assert (charge.key.year, charge.amount_fen, charge.limit_fen) == (2025, 1_000, 1_000_000_000)
    assert outcome.state.usage(charge.key) == CapUsage(1_000_000_000, 4)
    assert state.usage(charge.key) == CapUsage(999_999_000, 3)


def test_applying_an_event_never_mutates_the_given_state(default_rules):
    _, _, before = run(default_rules, [signed()])
    snapshot = (dict(before.agreements), dict(before.cap_usage))
    outcome = apply_event(default_rules, ORGANISATIONS, before, paid("p", "2025-07-01", 100_000))
    assert (dict(before.agreements), dict(before.cap_usage)) == snapshot
    assert outcome.state.agreements["A1"].paid_fen == 100_000
    with pytest.raises(TypeError):
        before.agreements["A9"] = before.agreements["A1"]


def test_an_award_carries_its_rule_set_version_and_payer(default_rules):
    awards, _, _ = run(default_rules, [signed(), paid("p", "2025-01-01", 10_000)])
    (award,) = awards
    assert (award.rule_set, award.version, award.payer, award.stacking_group) == (
        "default", "2024.1", "fiscal:province", "preorder_subsidy"
    )


# --- statutory proceeds-split checks -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "share_bp", "expected"),
    [
        (OrganisationKind.UNIVERSITY, 4999, [(FindingLevel.ERROR, "below_statutory_floor")]),
        (OrganisationKind.UNIVERSITY, 5000, [(FindingLevel.WARNING, "below_recommended_share")]),
        (OrganisationKind.UNIVERSITY, 6999, [(FindingLevel.WARNING, "below_recommended_share")]),
        (OrganisationKind.UNIVERSITY, 7000, []),
        (OrganisationKind.UNIVERSITY, 10000, []),
        (OrganisationKind.INSTITUTE, 4000, [(FindingLevel.ERROR, "below_statutory_floor")]),
        (OrganisationKind.ENTERPRISE, 4000, []),
        (OrganisationKind.UNIVERSITY, 10001, [(FindingLevel.ERROR, "invalid_share")]),
        (OrganisationKind.UNIVERSITY, -1, [(FindingLevel.ERROR, "invalid_share")]),
    ],
)
def test_proceeds_split_checks_the_inventors_share(default_rules, kind, share_bp, expected):
    limits = proceeds_split_limits_on(default_rules, D("2025-01-01"))
    findings = check_proceeds_split(limits, kind, share_bp)
    assert [(f.level, f.code) for f in findings] == expected


def test_proceeds_split_message_states_the_percentages(default_rules):
    limits = proceeds_split_limits_on(default_rules, D("2025-01-01"))
    (finding,) = check_proceeds_split(limits, OrganisationKind.UNIVERSITY, 4550)
    assert "45.5%" in finding.message and "50%" in finding.message


def test_no_proceeds_split_limits_outside_the_rule_set_window(default_rules):
    assert proceeds_split_limits_on(default_rules, D("2023-06-01")) is None


# --- rule-set file validation -----------------------------------------------------------------------

GOOD_RULE = preorder_rule("R", 1000, "g")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param("not toml [", "not valid TOML", id="not-toml"),
        pytest.param('format = 2\nname = "x"\nversions = []', "format", id="wrong-format"),
        pytest.param(HEADER + 'colour = "red"\n' + version(rules=GOOD_RULE), "unknown key 'colour'",
                     id="unknown-top-key"),
        pytest.param(HEADER + "versions = []", "at least one version", id="no-versions"),
        pytest.param(HEADER + version(rules=GOOD_RULE.replace("rate_bp = 1000", "rate_bp = 10001")),
                     "between 0 and 10000", id="rate-out-of-range"),
        pytest.param(HEADER + version(rules=GOOD_RULE.replace("rate_bp = 1000", "rate_bp = true")),
                     "must be an integer", id="rate-bool"),
        pytest.param(HEADER + version(rules=GOOD_RULE.replace("rate_bp = 1000", "rate_bp = 10.0")),
                     "must be an integer", id="rate-float"),
        pytest.param(HEADER + version(rules=GOOD_RULE.replace("rate_bp = 1000\n", "")), "needs rate_bp",
                     id="rate-missing"),
        pytest.param(HEADER + version(rules=GOOD_RULE + "max_people_per_achievement = 3\n"),
                     "does not use max_people_per_achievement", id="field-of-another-kind"),
        pytest.param(HEADER + version(rules=GOOD_RULE.replace('"confirmed"', '"approved"')), "'approved' is not one of",
                     id="bad-status"),
        pytest.param(HEADER + version(rules=GOOD_RULE.replace('"preorder_subsidy"', '"lottery"')), "is not one of",
                     id="bad-kind"),
        pytest.param(HEADER + version(rules=GOOD_RULE.replace('"seller"', '"agent"')), "pays one of",
                     id="recipient-not-for-kind"),
        pytest.param(HEADER + version(rules=preorder_rule("R", 1000, "g", caps=[("achievement", 5)])),
                     "may use the scopes", id="scope-not-for-kind"),
        pytest.param(HEADER + version(rules=preorder_rule("R", 1000, "g", caps=[("agreement", 5), ("agreement", 6)])),
                     "once per rule", id="scope-twice"),
        pytest.param(HEADER + version(rules=preorder_rule("R", 1000, "g", caps=[("agreement", -5)])),
                     "between 0 and", id="negative-cap"),
        pytest.param(HEADER + version(rules=GOOD_RULE + GOOD_RULE), "unique within a version", id="duplicate-rule-id"),
        pytest.param(HEADER + version("a", "2024-01-01", "2024-12-31", GOOD_RULE)
                     + version("a", "2025-01-01", "2025-12-31", GOOD_RULE), "unique", id="duplicate-version-label"),
        pytest.param(HEADER + version("a", "2024-01-01", "2023-12-31", GOOD_RULE), "before effective_from",
                     id="window-backwards"),
        pytest.param(HEADER + version(rules=GOOD_RULE).replace("effective_from = 2024-01-01",
                                                               'effective_from = "2024-13-01"'),
                     "must be a date", id="bad-date"),
        pytest.param(HEADER + version(rules=GOOD_RULE + '[versions.rules.conditions]\n'
                                      'transferor_kinds = ["university"]\n'),
                     "unknown key 'transferor_kinds'", id="condition-of-another-kind"),
        pytest.param(HEADER + version(rules=GOOD_RULE + '[versions.rules.conditions]\nseller_valley = ["Yang Quan"]\n'),
                     "not a valley id", id="bad-valley"),
        pytest.param(HEADER + version(rules=GOOD_RULE.replace('"fiscal:province"', '"proceeds:transferor"')),
                     "needs a transfer rule", id="proceeds-payer-on-subsidy"),
        pytest.param(HEADER + version(rules=(
            '[[versions.rules]]\nid = "R4"\nkind = "startup_capital"\nstatus = "confirmed"\nrecipient = "startup"\n'
            'min_amount_fen = 5\nmax_amount_fen = 10\nmax_share_of_capital_bp = 5000\nstacking_group = "s"\n'
            'payer = "fiscal:province"\n[[versions.rules.caps]]\nscope = "one_time_per_startup"\namount_fen = 3\n'
        )), "takes no amount_fen", id="amount-on-one-time-cap"),
        pytest.param(HEADER + version(rules=(
            '[[versions.rules]]\nid = "R4"\nkind = "startup_capital"\nstatus = "confirmed"\nrecipient = "startup"\n'
            'min_amount_fen = 50\nmax_amount_fen = 10\nmax_share_of_capital_bp = 5000\nstacking_group = "s"\n'
            'payer = "fiscal:province"\n'
        )), "above max_amount_fen", id="minimum-above-maximum"),
    ],
)
def test_a_bad_rule_set_is_refused_with_the_place_named(text, problem):
    with pytest.raises(RuleSetError) as caught:
        parse_rule_set_toml(text, origin="test.toml")
    assert problem in str(caught.value)
    assert str(caught.value).startswith("test.toml")


def test_a_rule_set_stored_as_json_reads_back_the_same(default_rules):
    (rule_set,) = default_rules
    data = tomllib.loads(shipped_rule_set_paths()[-1].read_text(encoding="utf-8"))
    stored = json.loads(json.dumps(data, default=str))  # dates become ISO text, as in a JSON column
    assert stored["versions"][0]["effective_from"] == "2024-01-01"
    assert parse_rule_set(stored) == rule_set


def test_version_on_respects_the_window(default_rules):
    (rule_set,) = default_rules
    assert rule_set.version_on(D("2024-01-01")) is rule_set.versions[0]
    assert rule_set.version_on(D("2026-12-31")) is rule_set.versions[0]
    assert rule_set.version_on(D("2027-01-01")) is rule_set.versions[1]
    assert rule_set.version_on(D("2028-12-31")) is rule_set.versions[1]
    assert rule_set.version_on(D("2023-12-31")) is None
    assert rule_set.version_on(D("2029-01-01")) is None


def test_a_later_version_wins_where_windows_overlap():
    rule_set = parse_rule_set_toml(HEADER + version("a", "2024-01-01", "2028-12-31", GOOD_RULE)
                                   + version("b", "2025-01-01", "2025-12-31", GOOD_RULE))
    assert rule_set.version_on(dt.date(2024, 6, 1)).version == "a"
    assert rule_set.version_on(dt.date(2025, 6, 1)).version == "b"
    assert rule_set.version_on(dt.date(2026, 6, 1)).version == "a"
    assert rule_set.starts_on == dt.date(2024, 1, 1)
