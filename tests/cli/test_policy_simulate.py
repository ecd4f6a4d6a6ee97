"""`flask --app market policy simulate SCENARIO.json`: the POLICY.md format, end to end."""
import json

import pytest
from flask import Flask

from market.awards.commands import policy_cli

SAMPLE_ORGANISATIONS = [
    {"id": "S1", "kind": "enterprise", "valley": "taiyuan", "resident_since": "2024-03-01"},
    {"id": "B1", "kind": "enterprise"},
    {"id": "U1", "kind": "university"},
    {"id": "X1", "kind": "enterprise"},
    {"id": "M1", "kind": "agency"},
]
SAMPLE_EVENTS = [
    {"id": "e1", "type": "preorder_signed", "date": "2024-10-15", "agreement": "A1",
     "buyer": "B1", "seller": "S1", "value_fen": 15000000000, "related": False},
    {"id": "e2", "type": "preorder_paid", "date": "2025-06-30", "agreement": "A1", "amount_fen": 7000000000},
    {"id": "e3", "type": "transfer_signed", "date": "2025-03-10", "contract": "T1", "achievement": "K1",
     "transferor": "U1", "transferee": "X1", "value_fen": 1200000000, "reward_rate_bp": 2000,
     "intermediaries": [{"person": "P1", "share_bp": 5000}, {"person": "P2", "share_bp": 3000},
                        {"person": "P3", "share_bp": 2000}], "agent": "M1", "registered": True},
    {"id": "e4", "type": "transfer_paid", "date": "2025-04-30", "contract": "T1", "amount_fen": 600000000},
    {"id": "e5", "type": "startup_grant", "date": "2024-06-01", "startup": "S1",
     "founders_paid_in_fen": 80000000, "awarded_fen": 100000000},
]


def line(event, rule, recipient, computed, granted, status="payable", capped_by=None, waived_by=None):
    return {"event": event, "rule": rule, "recipient": recipient, "computed_fen": computed,
            "granted_fen": granted, "status": status, "capped_by": capped_by, "waived_by": waived_by}


@pytest.fixture()
def runner():
    app = Flask("policy_simulate_test")
    app.cli.add_command(policy_cli)
    return app.test_cli_runner()


@pytest.fixture()
def simulate(runner, tmp_path):
    """Write a scenario (dict or raw text) to tmp_path and run the command on it."""

    def run(scenario, name="scenario.json"):
        path = tmp_path / name
        if isinstance(scenario, bytes):
            path.write_bytes(scenario)
        elif isinstance(scenario, str):
            path.write_text(scenario, encoding="utf-8")
        else:
            path.write_text(json.dumps(scenario, ensure_ascii=False), encoding="utf-8")
        return runner.invoke(args=["policy", "simulate", str(path)])

    return run


def run_ok(simulate, scenario):
    result = simulate(scenario)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def scenario_with(events, organisations=SAMPLE_ORGANISATIONS, rules="default"):
    return {"rules": rules, "organisations": organisations, "events": events}


def test_the_sample_scenario_gives_the_documented_result(simulate):
    result = simulate(scenario_with(SAMPLE_EVENTS))
    assert result.exit_code == 0
    assert result.stderr == ""
    document = json.loads(result.stdout)
    assert document == {
        "awards": [
            line("e5", "R4", "S1", 100000000, 80000000, capped_by="max_share_of_capital_bp"),
            line("e4", "R2", "P1", 60000000, 60000000),
            line("e4", "R2", "P2", 36000000, 36000000),
            line("e4", "R2", "P3", 24000000, 24000000),
            line("e2", "R1", "S1", 700000000, 700000000),
        ],
        "rejected": [],
        "totals": {"S1": 780000000, "P1": 60000000, "P2": 36000000, "P3": 24000000},
    }


def test_the_output_keeps_the_documented_key_order(simulate):
    document = run_ok(simulate, scenario_with(SAMPLE_EVENTS))
    assert list(document) == ["awards", "rejected", "totals"]
    assert list(document["awards"][0]) == [
        "event", "rule", "recipient", "computed_fen", "granted_fen", "status", "capped_by", "waived_by",
    ]


def test_the_policy_simulate_command_is_registered_on_the_app():
    from market import create_app

    app = create_app()
    assert "simulate" in app.cli.commands["policy"].commands


def test_worked_example_1_through_the_command(simulate):
    events = [
        {"id": "s", "type": "preorder_signed", "date": "2024-10-15", "agreement": "A1", "buyer": "B1",
         "seller": "S1", "value_fen": 15000000000},
        {"id": "p1", "type": "preorder_paid", "date": "2025-03-20", "agreement": "A1", "amount_fen": 7000000000},
        {"id": "p2", "type": "preorder_paid", "date": "2025-09-20", "agreement": "A1", "amount_fen": 5000000000},
        {"id": "p3", "type": "preorder_paid", "date": "2026-02-10", "agreement": "A1", "amount_fen": 2000000000},
        {"id": "p4", "type": "preorder_paid", "date": "2026-05-10", "agreement": "A1", "amount_fen": 2000000000},
    ]
    document = run_ok(simulate, scenario_with(events))
    assert document["awards"] == [
        line("p1", "R1", "S1", 700000000, 700000000),
        line("p2", "R1", "S1", 500000000, 300000000, capped_by="recipient_calendar_year"),
        line("p3", "R1", "S1", 200000000, 200000000),
    ]
    assert [r["event"] for r in document["rejected"]] == ["p4"]
    assert document["totals"] == {"S1": 1200000000}


def test_worked_examples_2_and_3_through_the_command(simulate):
    organisations = SAMPLE_ORGANISATIONS + [
        {"id": "Y1", "kind": "enterprise", "valley": "yangquan", "resident_since": "2024-05-01"},
    ]
    three = [{"person": "P1", "share_bp": 5000}, {"person": "P2", "share_bp": 3000},
             {"person": "P3", "share_bp": 2000}]
    events = [
        {"id": "k", "type": "transfer_signed", "date": "2025-03-10", "contract": "T1", "achievement": "K1",
         "transferor": "U1", "transferee": "X1", "value_fen": 1200000000, "reward_rate_bp": 2000,
         "intermediaries": three},
        {"id": "k1", "type": "transfer_paid", "date": "2025-04-30", "contract": "T1", "amount_fen": 600000000},
        {"id": "k2", "type": "transfer_paid", "date": "2025-08-31", "contract": "T1", "amount_fen": 600000000},
        {"id": "y", "type": "transfer_signed", "date": "2025-03-10", "contract": "T2", "achievement": "K2",
         "transferor": "U1", "transferee": "Y1", "value_fen": 1200000000, "reward_rate_bp": 0,
         "intermediaries": [], "agent": "M1"},
        {"id": "y1", "type": "transfer_paid", "date": "2025-05-31", "contract": "T2", "amount_fen": 600000000},
        {"id": "y2", "type": "transfer_paid", "date": "2025-09-30", "contract": "T2", "amount_fen": 600000000},
    ]
    document = run_ok(simulate, scenario_with(events, organisations))
    assert document["awards"] == [
        line("k1", "R2", "P1", 60000000, 60000000),
        line("k1", "R2", "P2", 36000000, 36000000),
        line("k1", "R2", "P3", 24000000, 24000000),
        line("y1", "R3", "M1", 30000000, 30000000, status="held"),
        line("k2", "R2", "P1", 60000000, 40000000, capped_by="achievement"),
        line("k2", "R2", "P2", 36000000, 24000000, capped_by="achievement"),
        line("k2", "R2", "P3", 24000000, 16000000, capped_by="achievement"),
        line("y2", "R3", "M1", 30000000, 0, status="held", capped_by="contract"),
    ]
    assert document["rejected"] == []
    assert document["totals"] == {"P1": 100000000, "M1": 30000000, "P2": 60000000, "P3": 40000000}


def test_worked_example_4_through_the_command(simulate):
    organisations = SAMPLE_ORGANISATIONS + [
        {"id": "S2", "kind": "enterprise", "valley": "jincheng", "resident_since": "2024-01-01"},
    ]
    events = [
        {"id": "g1", "type": "startup_grant", "date": "2024-06-01", "startup": "S1",
         "founders_paid_in_fen": 80000000, "awarded_fen": 100000000},
        {"id": "g2", "type": "startup_grant", "date": "2024-06-01", "startup": "S2",
         "founders_paid_in_fen": 25000000, "awarded_fen": 100000000},
    ]
    document = run_ok(simulate, scenario_with(events, organisations))
    assert document["awards"] == [line("g1", "R4", "S1", 100000000, 80000000, capped_by="max_share_of_capital_bp")]
    assert document["rejected"] == [{
        "event": "g2",
        "reason": "Grant g2 to startup S2 comes to ¥250,000.00 under rule R4, below its minimum of ¥300,000.00.",
    }]


SIGNED = {"id": "e1", "type": "preorder_signed", "date": "2024-10-15", "agreement": "A1",
          "buyer": "B1", "seller": "S1", "value_fen": 15000000000}


def paid(**changes):
    event = {"id": "x", "type": "preorder_paid", "date": "2025-06-30", "agreement": "A1", "amount_fen": 100}
    event.update(changes)
    return {key: value for key, value in event.items() if value is not ...}


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        pytest.param(paid(colour="red"), "unknown key 'colour'", id="unknown-key-in-event"),
        pytest.param(paid(type="lottery"), "unknown type 'lottery'", id="unknown-type"),
        pytest.param(paid(type=...), "has no type", id="no-type"),
        pytest.param(paid(amount_fen=...), "missing key 'amount_fen'", id="missing-key"),
        pytest.param(paid(amount_fen=1.0), "integer number of fen", id="float-amount"),
        pytest.param(paid(amount_fen=100.5), "integer number of fen", id="fractional-amount"),
        pytest.param(paid(amount_fen="100"), "integer number of fen", id="string-amount"),
        pytest.param(paid(amount_fen=True), "integer number of fen", id="bool-amount"),
        pytest.param(paid(amount_fen=None), "integer number of fen", id="null-amount"),
        pytest.param(paid(amount_fen=-100), "must not be negative", id="negative-amount"),
        pytest.param(paid(amount_fen=10**30), "largest accepted amount", id="huge-amount"),
        pytest.param(paid(amount_fen=15000000001), "above its value", id="above-agreement-value"),
        pytest.param(paid(agreement="A9"), "unknown agreement A9", id="unknown-agreement"),
        pytest.param(paid(date="2024-10-14"), "before agreement A1 was signed", id="paid-before-signing"),
        pytest.param(paid(date="2025-02-30"), "ISO date", id="impossible-date"),
        pytest.param(paid(date="20250630"), "ISO date", id="compact-date"),
        pytest.param(paid(date=20250630), "ISO date", id="numeric-date"),
        pytest.param(paid(id="e1"), "used more than once", id="duplicate-id"),
        pytest.param(
            {"id": "x", "type": "transfer_signed", "date": "2025-03-10", "contract": "T1", "achievement": "K1",
             "transferor": "U1", "transferee": "X1", "value_fen": 1000, "reward_rate_bp": 2000,
             "intermediaries": [{"person": "P1", "share_bp": 10000, "note": "x"}]},
            "intermediaries must be a list", id="unknown-key-in-intermediary",
        ),
    ],
)
def test_an_invalid_event_is_rejected_and_the_rest_still_run(simulate, event, reason):
    document = run_ok(simulate, scenario_with([SIGNED, event]))
    (rejection,) = document["rejected"]
    assert rejection["event"] == "x" or (rejection["event"] == "e1" and "more than once" in rejection["reason"])
    assert reason in rejection["reason"]
    assert document["awards"] == []


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        pytest.param(["not", "an", "object"], "Event #2 is not a JSON object.", id="not-an-object"),
        pytest.param({"type": "preorder_paid"}, "Event #2 has no id (a non-empty string).", id="no-id"),
        pytest.param({"id": 7, "type": "preorder_paid"}, "Event #2 has no id (a non-empty string).", id="number-id"),
    ],
)
def test_an_event_without_an_id_is_rejected_with_its_position(simulate, event, reason):
    document = run_ok(simulate, scenario_with([SIGNED, event]))
    assert document["rejected"] == [{"event": None, "reason": reason}]


def test_rejected_events_change_nothing_for_later_events(simulate):
    events = [
        SIGNED,
        paid(id="bad", amount_fen=15000000001),
        paid(id="good", amount_fen=15000000000),
    ]
    document = run_ok(simulate, scenario_with(events))
    assert [r["event"] for r in document["rejected"]] == ["bad"]
    assert document["awards"] == [line("good", "R1", "S1", 1500000000, 1000000000, capped_by="recipient_calendar_year")]


def test_a_payment_listed_before_its_same_day_signing_is_rejected_with_advice(simulate):
    document = run_ok(simulate, scenario_with([paid(date="2024-10-15"), SIGNED]))
    assert document["rejected"] == [{
        "event": "x",
        "reason": "Payment x is listed before the signing of agreement A1 on the same date; list the signing first.",
    }]


def test_proceeds_dated_before_the_contract_are_rejected(simulate):
    events = [
        {"id": "t", "type": "transfer_signed", "date": "2025-03-10", "contract": "T1", "achievement": "K1",
         "transferor": "U1", "transferee": "X1", "value_fen": 1000, "reward_rate_bp": 0, "intermediaries": []},
        {"id": "x", "type": "transfer_paid", "date": "2025-03-09", "contract": "T1", "amount_fen": 100},
    ]
    document = run_ok(simulate, scenario_with(events))
    assert document["rejected"] == [
        {"event": "x", "reason": "Payment x dated 2025-03-09 is before contract T1 was signed on 2025-03-10."}
    ]


def test_events_are_applied_by_date_then_in_the_order_given(simulate):
    events = [
        paid(id="p-late", date="2025-07-01", amount_fen=1000),
        paid(id="p-first", date="2025-06-30", amount_fen=2000),
        paid(id="p-second", date="2025-06-30", amount_fen=3000),
        SIGNED,
    ]
    document = run_ok(simulate, scenario_with(events))
    assert [a["event"] for a in document["awards"]] == ["p-first", "p-second", "p-late"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("{not json", "not valid JSON", id="not-json"),
        pytest.param(b"\xff\xfe\x00", "not UTF-8", id="not-utf8"),
        pytest.param("[]", "must be a JSON object", id="not-an-object"),
        pytest.param('{"rules": "default", "organisations": [], "events": [], "extra": 1}',
                     "unknown top-level key 'extra'", id="unknown-top-level-key"),
        pytest.param('{"rules": "default", "organisations": []}', "missing top-level key 'events'", id="no-events"),
        pytest.param('{"rules": "default", "rules": "default", "organisations": [], "events": []}',
                     "duplicate key 'rules'", id="duplicate-key"),
        pytest.param('{"rules": "default", "organisations": [], "events": [{"id": "a", "id": "b"}]}',
                     "duplicate key 'id'", id="duplicate-key-in-event"),
        pytest.param('{"rules": "default", "organisations": [], "events": [{"amount_fen": NaN}]}',
                     "NaN is not allowed", id="nan"),
        pytest.param('{"rules": "default", "organisations": [], "events": [{"amount_fen": -Infinity}]}',
                     "-Infinity is not allowed", id="infinity"),
        pytest.param('{"rules": "default", "organisations": [], "events": ["\\ud800"]}', "lone surrogate",
                     id="lone-surrogate"),
        pytest.param("[" * 100000 + "]" * 100000, "nested too deeply", id="deep-nesting"),
        pytest.param('{"rules": "missing.toml", "organisations": [], "events": []}', "cannot load the rule set",
                     id="rule-set-missing"),
        pytest.param('{"rules": "bad.toml", "organisations": [], "events": []}', "unknown key 'colour'",
                     id="rule-set-invalid"),
        pytest.param('{"rules": 5, "organisations": [], "events": []}', '"rules" must be', id="rules-not-text"),
        pytest.param('{"rules": "default", "organisations": {}, "events": []}', '"organisations" must be a list',
                     id="organisations-not-list"),
        pytest.param('{"rules": "default", "organisations": [{"id": "S1", "kind": "bank"}], "events": []}',
                     "kind must be one of", id="bad-organisation-kind"),
        pytest.param('{"rules": "default", "organisations": [{"id": "S1", "kind": "enterprise", "valley": "paris"}],'
                     ' "events": []}', "valley must be one of", id="unknown-valley"),
        pytest.param('{"rules": "default", "organisations": [{"id": "S1", "kind": "enterprise", "size": 3}],'
                     ' "events": []}', "unknown key 'size'", id="unknown-organisation-key"),
        pytest.param('{"rules": "default", "organisations": [{"id": "S1", "kind": "enterprise"},'
                     ' {"id": "S1", "kind": "university"}], "events": []}', "listed twice", id="organisation-twice"),
        pytest.param('{"rules": "default", "organisations": [{"id": "S1", "kind": "enterprise",'
                     ' "resident_since": "2024-01-01"}], "events": []}', "needs a valley",
                     id="resident-without-valley"),
    ],
)
def test_an_unreadable_scenario_exits_2_with_a_message(simulate, tmp_path, content, message):
    (tmp_path / "bad.toml").write_text('format = 1\nname = "bad"\ncolour = "red"\nversions = []\n', encoding="utf-8")
    result = simulate(content)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr


def test_a_missing_scenario_file_exits_2(runner, tmp_path):
    result = runner.invoke(args=["policy", "simulate", str(tmp_path / "nowhere.json")])
    assert result.exit_code == 2
    assert "cannot read" in result.stderr


def test_a_rule_set_path_is_read_relative_to_the_scenario_file(simulate, tmp_path):
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "flat.toml").write_text(
        'format = 1\nname = "flat"\n[[versions]]\nversion = "v1"\neffective_from = 2020-01-01\n'
        '[[versions.rules]]\nid = "F1"\nkind = "preorder_subsidy"\nstatus = "draft"\nrecipient = "seller"\n'
        'rate_bp = 2500\nstacking_group = "flat"\npayer = "fiscal:city"\n',
        encoding="utf-8",
    )
    organisations = [{"id": "S1", "kind": "university"}, {"id": "B1", "kind": "enterprise"}]
    document = run_ok(simulate, scenario_with([SIGNED, paid(amount_fen=1000)], organisations, rules="rules/flat.toml"))
    assert document["awards"] == [line("x", "F1", "S1", 250, 250, status="held")]
    assert document["totals"] == {"S1": 250}


def test_waived_lines_are_listed_but_not_counted_in_totals(simulate, tmp_path):
    rule = ('[[versions.rules]]\nid = "{id}"\nkind = "preorder_subsidy"\nstatus = "confirmed"\n'
            'recipient = "seller"\nrate_bp = {rate}\nstacking_group = "same"\npayer = "fiscal:province"\n')
    (tmp_path / "stack.toml").write_text(
        'format = 1\nname = "stack"\n[[versions]]\nversion = "v1"\neffective_from = 2020-01-01\n'
        + rule.format(id="LOW", rate=1000) + rule.format(id="HIGH", rate=2000),
        encoding="utf-8",
    )
    document = run_ok(simulate, scenario_with([SIGNED, paid(amount_fen=1000)], rules="stack.toml"))
    assert document["awards"] == [
        line("x", "LOW", "S1", 100, 100, status="waived", waived_by="HIGH"),
        line("x", "HIGH", "S1", 200, 200),
    ]
    assert document["totals"] == {"S1": 200}


def test_chinese_text_is_written_as_utf8_not_escaped(simulate):
    organisations = SAMPLE_ORGANISATIONS + [{"id": "太原公司", "kind": "enterprise", "valley": "taiyuan"}]
    event = dict(SIGNED, seller="太原公司")
    document = simulate(scenario_with([event, paid(amount_fen=1000)], organisations))
    assert document.exit_code == 0
    assert '"太原公司"' in document.stdout
    assert json.loads(document.stdout)["totals"] == {"太原公司": 100}
