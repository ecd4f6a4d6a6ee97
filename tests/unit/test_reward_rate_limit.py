"""The intermediary rule's maximum reward rate: the rule-set field and the engine's rejection (POLICY.md, settled
question 10)."""
import datetime as dt

import pytest

from market.policy.engine import PolicyState, apply_event
from market.policy.events import IntermediaryShare, Organisation, TransferSigned
from market.policy.rules import (
    OrganisationKind,
    RuleSetError,
    load_shipped_rule_set,
    parse_rule_set_toml,
    reward_rate_limit_on,
)

D = dt.date.fromisoformat
ORGANISATIONS = {"U1": Organisation("U1", OrganisationKind.UNIVERSITY), "X1": Organisation("X1", OrganisationKind.ENTERPRISE)}


def intermediary_rule(extra: str = "") -> str:
    return ('[[versions.rules]]\nid = "R2"\nkind = "intermediary_share"\nstatus = "confirmed"\n'
            'recipient = "intermediaries"\nmax_people_per_achievement = 3\nstacking_group = "i"\n'
            f'payer = "proceeds:transferor"\n{extra}')


def rule_set_text(*rules: str) -> str:
    return ('format = 1\nname = "test"\n[[versions]]\nversion = "v1"\neffective_from = 2024-01-01\n'
            + "".join(rules))


def signing(rate_bp: int, day: str, contract: str = "T1") -> TransferSigned:
    return TransferSigned(f"s-{contract}", D(day), contract, "K1", "U1", "X1", 100_000_000, rate_bp,
                          (IntermediaryShare("P1", 10000),))


def judge(event: TransferSigned, rule_sets=None):
    return apply_event(rule_sets or (load_shipped_rule_set(),), ORGANISATIONS, PolicyState(), event)


@pytest.mark.parametrize("value", [1, 3000, 10000])
def test_an_intermediary_rule_takes_a_maximum_reward_rate(value):
    rule_set = parse_rule_set_toml(rule_set_text(intermediary_rule(f"max_reward_rate_bp = {value}\n")))
    assert rule_set.versions[0].rules[0].max_reward_rate_bp == value


def test_the_maximum_reward_rate_is_optional():
    rule_set = parse_rule_set_toml(rule_set_text(intermediary_rule()))
    assert rule_set.versions[0].rules[0].max_reward_rate_bp is None
    assert reward_rate_limit_on([rule_set], D("2030-01-01")) is None


@pytest.mark.parametrize(("value", "problem"), [
    ("0", "between 1 and 10000"),
    ("10001", "between 1 and 10000"),
    ("-5", "between 1 and 10000"),
    ("30.0", "must be an integer"),
    ("true", "must be an integer"),
    ('"3000"', "must be an integer"),
])
def test_a_maximum_reward_rate_outside_1_to_10000_is_refused(value, problem):
    with pytest.raises(RuleSetError, match=problem) as caught:
        parse_rule_set_toml(rule_set_text(intermediary_rule(f"max_reward_rate_bp = {value}\n")), origin="t.toml")
    assert "(R2).max_reward_rate_bp" in str(caught.value)


def test_only_an_intermediary_rule_takes_a_maximum_reward_rate():
    subsidy = ('[[versions.rules]]\nid = "R1"\nkind = "preorder_subsidy"\nstatus = "confirmed"\nrecipient = "seller"\n'
               'rate_bp = 1000\nstacking_group = "p"\npayer = "fiscal:province"\nmax_reward_rate_bp = 3000\n')
    with pytest.raises(RuleSetError, match="a preorder_subsidy rule does not use max_reward_rate_bp"):
        parse_rule_set_toml(rule_set_text(subsidy))


def test_the_tightest_maximum_in_force_applies():
    first = parse_rule_set_toml(rule_set_text(intermediary_rule("max_reward_rate_bp = 3000\n")))
    other = parse_rule_set_toml(rule_set_text(intermediary_rule("max_reward_rate_bp = 2500\n").replace(
        'id = "R2"', 'id = "C2"')).replace('name = "test"', 'name = "city"'))
    limit = reward_rate_limit_on([first, other], D("2025-01-01"))
    assert (limit.max_bp, limit.rule.id, limit.rule_set, limit.version) == (2500, "C2", "city", "v1")


def test_the_first_shipped_version_accepts_a_50_percent_reward_rate():
    outcome = judge(signing(5000, "2026-12-31"))
    assert not outcome.is_rejected
    assert outcome.state.contracts["T1"].reward_rate_bp == 5000


def test_the_2027_version_rejects_a_rate_above_30_percent():
    outcome = judge(signing(3001, "2027-01-02"))
    assert outcome.is_rejected and outcome.state == PolicyState()
    assert outcome.rejection == ("Contract T1: the reward rate of 30.01% is above the maximum of 30% set by rule R2 "
                                 "(version 2027.1) on 2027-01-02.")


def test_the_2027_version_accepts_exactly_30_percent():
    outcome = judge(signing(3000, "2027-01-02"))
    assert not outcome.is_rejected
    assert outcome.state.contracts["T1"].reward_rate_bp == 3000


def test_a_contract_signed_before_2027_keeps_its_rate_for_payments_after():
    from market.policy.events import TransferPaid

    rules = (load_shipped_rule_set(),)
    signed = judge(signing(5000, "2026-06-01"), rules)
    paid = apply_event(rules, ORGANISATIONS, signed.state, TransferPaid("p1", D("2027-03-01"), "T1", 1_000_000))
    assert not paid.is_rejected
    assert [(a.rule, a.computed_fen, a.version) for a in paid.awards] == [("R2", 500_000, "2027.1")]
