"""The payout-voucher migration moves awards granted ¥0 out of the approval queue (payable or held → nil) and leaves
every other award as it was."""
import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from market.extensions import db
from tests.scratch_database import scratch_database_app

BEFORE = "c4e8a1f27d90"
VOUCHERS = "d5f1a2b3c4e6"
AWARDS = [  # (id, status, computed, granted) → the status after the migration
    (1, "payable", 100, 0, "nil"),
    (2, "held", 100, 0, "nil"),
    (3, "payable", 100, 100, "payable"),
    (4, "waived", 100, 0, "waived"),
    (5, "paid", 100, 100, "paid"),
    (6, "reversed", 100, 0, "reversed"),
]


@pytest.fixture
def app_before_vouchers(tmp_path):
    """A database migrated up to the revision before the voucher columns, holding one policy event and its awards."""
    with scratch_database_app(tmp_path, "nil_awards_check") as app:
        with app.app_context():
            upgrade(revision=BEFORE)
            db.session.execute(text(
                "INSERT INTO policy_events (id, event_type, happened_on, payload, request_id, recorded_at) "
                "VALUES (1, 'startup_granted', '2024-06-01', '{}', '', '2024-06-01 00:00:00')"))
            for award_id, status, computed, granted, _ in AWARDS:
                db.session.execute(text(
                    "INSERT INTO awards (id, policy_event_id, rule, rule_kind, rule_set, rule_set_version, recipient, "
                    "payer, computed_fen, granted_fen, status, event_date, created_at) VALUES (:id, 1, 'R4', "
                    "'startup_capital', 'shanxi', '2024.1', 'org-1', 'fiscal:province', :computed, :granted, "
                    ":status, '2024-06-01', '2024-06-01 00:00:00')"),
                    {"id": award_id, "status": status, "computed": computed, "granted": granted})
            db.session.commit()
            db.engine.dispose()
        yield app


def _statuses() -> dict[int, str]:
    return dict(db.session.execute(text("SELECT id, status FROM awards ORDER BY id")).all())


def test_the_migration_makes_awards_granted_nothing_nil_and_back(app_before_vouchers):
    with app_before_vouchers.app_context():
        upgrade(revision=VOUCHERS)
        assert _statuses() == {award_id: after for award_id, _, _, _, after in AWARDS}
        columns = db.session.execute(text("SELECT voucher_reference, paid_on, voucher_stored_name, "
                                          "voucher_original_name FROM awards WHERE id = 5")).one()
        assert tuple(columns) == (None, None, None, None)
        db.session.remove()
        downgrade(revision=BEFORE)
        assert _statuses()[1] == "payable" and _statuses()[3] == "payable"
        db.session.remove()
        db.engine.dispose()
