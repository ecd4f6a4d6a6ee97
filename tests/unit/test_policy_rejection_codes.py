"""Every engine rejection carries a code and the facts it names (for the app to word), beside its unchanged English
sentence (the `policy simulate` output), and every code has its wording in the app."""
import ast
from pathlib import Path

import pytest

from market.policy.engine import apply_event
from market.policy.events import IntermediaryShare, StartupGrant
from market.policy.rules import load_shipped_rule_set
from market.policy.scenario import parse_scenario, run_scenario
from tests.unit.test_policy_engine import (
    ORGANISATIONS,
    YUAN,
    D,
    contract,
    paid,
    proceeds,
    run,
    signed,
)

MARKET = Path(__file__).resolve().parents[2] / "market"
GENERIC = {"not_policy_event", "no_event_id", "invalid_date", "missing_id", "amount_not_integer", "not_boolean",
           "rate_out_of_range", "intermediaries_not_list"}
"""Codes of malformed events the app never builds: they read as "the event does not meet the rules"."""


@pytest.fixture
def default_rules():
    return (load_shipped_rule_set(),)


@pytest.mark.parametrize(
    ("events", "code", "params"),
    [
        pytest.param([signed(value=1000), paid("x", "2025-01-01", 1001)], "payment_above_value",
                     {"event": "x", "kind": "agreement", "subject": "A1", "amount_fen": 1001, "total_fen": 1001,
                      "value_fen": 1000}, id="above-value"),
        pytest.param([contract(), proceeds("x", "2025-03-09", 100)], "payment_before_signing",
                     {"event": "x", "kind": "contract", "subject": "T1", "paid_on": "2025-03-09",
                      "signed_on": "2025-03-10"}, id="before-signing"),
        pytest.param([proceeds("x", "2025-01-01", 100)], "unknown_contract", {"event": "x", "contract": "T1"},
                     id="unknown-contract"),
        pytest.param([signed("x", buyer="NOBODY")], "unknown_organisation",
                     {"event": "x", "organisation": "NOBODY", "role": "buyer"}, id="unknown-organisation"),
        pytest.param([contract(), contract("x", contract_id="T2", intermediaries=(IntermediaryShare("P4", 10000),))],
                     "too_many_intermediaries",
                     {"achievement": "K1", "count": 4, "people": ("P1", "P2", "P3", "P4"), "max": 3}, id="fourth"),
        pytest.param([contract("x", agent="P1")], "agent_is_intermediary", {"contract": "T1", "agent": "P1"},
                     id="agent"),
        pytest.param([StartupGrant("x", D("2024-06-01"), "S1", 250_000 * YUAN, 1_000_000 * YUAN)],
                     "grant_below_minimum", {"event": "x", "startup": "S1", "amount_fen": 250_000 * YUAN,
                                             "rule": "R4", "minimum_fen": 300_000 * YUAN}, id="grant"),
    ],
)
def test_a_rejection_carries_its_code_and_the_facts_it_names(default_rules, events, code, params):
    *earlier, last = events
    _, _, state = run(default_rules, earlier)
    outcome = apply_event(default_rules, ORGANISATIONS, state, last)
    assert outcome.is_rejected and outcome.rejection
    assert outcome.rejection_code == code
    assert dict(outcome.rejection_params) == params


def test_an_accepted_event_has_no_rejection_code(default_rules):
    outcome = apply_event(default_rules, ORGANISATIONS, run(default_rules, [])[2], signed())
    assert (outcome.rejection, outcome.rejection_code, dict(outcome.rejection_params)) == (None, None, {})


def test_the_scenario_output_has_codes_only_when_asked(default_rules):
    scenario = parse_scenario('{"rules": "default", "organisations": [{"id": "S1", "kind": "enterprise"}], "events": ['
                              '{"id": "p", "type": "preorder_paid", "date": "2025-01-01", "agreement": "A9",'
                              ' "amount_fen": 100}]}')
    plain = run_scenario(scenario, default_rules)
    assert plain["rejected"] == [{"event": "p", "reason": "Payment p is for unknown agreement A9."}]
    coded = run_scenario(scenario, default_rules, with_codes=True)
    assert coded["rejected"] == [{"event": "p", "reason": "Payment p is for unknown agreement A9.",
                                  "code": "unknown_agreement", "params": {"event": "p", "agreement": "A9"}}]


def _raised_codes() -> set[str]:
    """The code of every Rejected(...) the engine raises, read from its source."""
    codes = set()
    for name in ("engine.py", "rejections.py"):
        for node in ast.walk(ast.parse((MARKET / "policy" / name).read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Rejected":
                codes.add(node.args[0].value)
    return codes


def test_every_rejection_code_has_its_wording_in_the_app():
    from market.awards.wording import _REJECTIONS

    raised = _raised_codes()
    assert len(raised) >= 20, "the scan found too little"
    assert raised - GENERIC - set(_REJECTIONS) == set()
    assert set(_REJECTIONS) - raised == set(), "a wording for a code the engine never raises"
