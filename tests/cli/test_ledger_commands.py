"""`flask --app market check-ledger` passes on sound books and names every broken invariant; `policy install`."""
from datetime import date

import pytest
from sqlalchemy import func, select, text

from market.accounts.models import VerificationStatus
from market.awards import services as award_services
from market.awards.book_checks import find_book_problems
from market.awards.commands import check_ledger, policy_cli
from market.awards.grants import record_startup_grant
from market.awards.models import Award, StoredRuleSet
from market.deals.models import Deal, DealIntermediary, DealStage
from market.extensions import db
from market.policy.rules import shipped_rule_set_paths
from market.timeutil import today_in_china
from tests.payments import record_and_confirm_deal_payment, record_and_confirm_preorder_payment

WAN = 1_000_000


@pytest.fixture
def books(make_user, make_organisation, registered_deal, signed_agreement):
    """Sound books: a deal with three intermediaries and two payments (the second capped), a pre-order agreement
    paid twice (the second capped), a start-up grant; one award approved and paid, one approved, one reversed."""
    deal, researcher, _ = registered_deal
    awards = []
    for day in (date(2025, 4, 30), date(2025, 5, 30)):
        awards += record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=day)[1]
    agreement, seller_user = signed_agreement
    for amount, day in ((7000 * WAN, date(2025, 3, 31)), (5000 * WAN, date(2025, 9, 30))):
        awards += record_and_confirm_preorder_payment(seller_user, agreement.id, amount_fen=amount, paid_on=day)[1]

    admin = make_user("admin")
    startup = make_organisation("enterprise", valley_id="jincheng", resident_since=date(2024, 1, 5),
                                verification_status=VerificationStatus.VERIFIED)
    awards += record_startup_grant(db.session, admin, startup.id, granted_on=date(2024, 6, 1),
                                   founders_paid_in_fen=80 * WAN, awarded_fen=100 * WAN)[1]
    award_services.approve_award(db.session, admin, awards[0].id)
    award_services.pay_award(db.session, admin, awards[0].id, voucher_reference="BOC-2025-0001",
                                   paid_on=today_in_china())
    award_services.approve_award(db.session, admin, awards[1].id)
    award_services.reverse_award(db.session, admin, awards[2].id, "登记错误")
    db.session.commit()
    return {"deal": deal, "agreement": agreement, "awards": awards, "achievement": deal.achievement, "startup": startup}


def run_check(runner):
    return runner.invoke(check_ledger)


def test_sound_books_pass_the_check(runner, books):
    result = run_check(runner)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "ledger OK"


def test_an_empty_database_passes_the_check(runner):
    result = run_check(runner)
    assert (result.exit_code, result.output.strip()) == (0, "ledger OK")


def account_mismatches(*accounts: str) -> list[str]:
    """The start of the problem the check reports for each account whose balance no longer matches its awards."""
    return [f"account {account} holds " for account in accounts]


def _unbalanced_transaction(books):
    db.session.execute(text("INSERT INTO ledger_transactions (kind, memo, request_id, created_at) "
                            "VALUES ('manual', '', '', CURRENT_TIMESTAMP)"))
    transaction_id = db.session.scalar(text("SELECT max(id) FROM ledger_transactions"))
    db.session.execute(text("INSERT INTO ledger_entries (transaction_id, account, amount_fen) VALUES (:t, 'paid:user-999', 500)"),
                       {"t": transaction_id})
    return [f"transaction {transaction_id} does not balance: 500", "account paid:user-999 holds ¥5.00 (500 fen)"]


def _deal_paid_mismatch(books):
    db.session.execute(text("UPDATE deals SET paid_fen = paid_fen - 1 WHERE id = :id"), {"id": books["deal"].id})
    return [(f"deal {books['deal'].id} says ¥11,999,999.99 (1199999999 fen) was paid but its payments add up to "
            f"¥12,000,000.00 (1200000000 fen)")]


def _agreement_paid_mismatch(books):
    db.session.execute(text("UPDATE preorder_agreements SET paid_fen = paid_fen + 100, accepted_fen = :v WHERE id = :id"),
                       {"id": books["agreement"].id, "v": 100 * WAN})
    agreement = f"agreement {books['agreement'].id} ({books['agreement'].number})"
    return [f"{agreement} says ¥120,000,001.00 (12000000100 fen) was paid but its payments add up to",
            f"{agreement} is paid ¥120,000,001.00 (12000000100 fen), above the accepted ¥1,000,000.00"]


def _status_without_posting(books):
    award = books["awards"][4]
    db.session.execute(text("UPDATE awards SET status = 'paid' WHERE id = :id"), {"id": award.id})
    return [(f"account paid:{award.recipient} holds ¥0.00 (0 fen) but its awards in the matching status add up to "
            f"¥240,000.00 (24000000 fen)"),
            (f"account awarded:{award.recipient} holds ¥240,000.00 (24000000 fen) but its awards in the matching "
             f"status add up to ¥0.00 (0 fen)")]


def _cap_exceeded(books):
    capped = db.session.scalars(select(Award.recipient).where(Award.capped_by == "achievement")).all()
    db.session.execute(text("UPDATE awards SET granted_fen = computed_fen WHERE capped_by = 'achievement'"))
    return [(f"rule R2 cap achievement for achievement-{books['achievement'].id} is exceeded: "
            f"¥2,160,000.00 (216000000 fen) granted, the cap is ¥2,000,000.00 (200000000 fen)"),
            f"the engine state says rule R2 cap achievement for achievement-{books['achievement'].id} used",
            *account_mismatches(f"proceeds:org-{books['deal'].transferor_id}", *(f"awarded:{key}" for key in capped))]


def _yearly_cap_exceeded(books):
    db.session.execute(text("UPDATE awards SET granted_fen = computed_fen WHERE capped_by = 'recipient_calendar_year'"))
    seller = f"org-{books['agreement'].seller_id}"
    return [f"rule R1 cap recipient_calendar_year for {seller} in 2025 is exceeded",
            f"the engine state says rule R1 cap recipient_calendar_year for {seller} in 2025 used",
            *account_mismatches("fiscal:province", f"awarded:{seller}")]


def _second_startup_grant(books):
    first = db.session.scalar(select(Award).where(Award.rule == "R4"))
    db.session.execute(text("INSERT INTO policy_events (event_type, happened_on, payload, request_id, recorded_at) "
                            "VALUES ('startup_grant', '2024-07-01', '{}', '', CURRENT_TIMESTAMP)"))
    db.session.execute(text(
        "INSERT INTO awards (policy_event_id, rule, rule_kind, rule_set, rule_set_version, recipient, payer, computed_fen, "
        "granted_fen, status, event_date, created_at) SELECT (SELECT max(id) FROM policy_events), rule, rule_kind, "
        "rule_set, rule_set_version, recipient, payer, computed_fen, 100, status, '2024-07-01', created_at "
        "FROM awards WHERE id = :id"), {"id": first.id})
    return [f"rule R4 cap one_time_per_startup for {first.recipient} is exceeded: 2 non-zero grants, at most one allowed",
            (f"account awarded:{first.recipient} holds ¥800,000.00 (80000000 fen) but its awards in the matching status "
            f"add up to ¥800,001.00 (80000100 fen)"), *account_mismatches("fiscal:province")]


def _fourth_intermediary(books, make_user, make_organisation):
    deal = books["deal"]
    second = Deal(title="再许可", achievement_id=deal.achievement_id, transferor_id=deal.transferor_id,
                  transferee_id=make_organisation("enterprise").id, stage=DealStage.NEGOTIATION)
    second.intermediaries = [DealIntermediary(user_id=make_user("broker").id, share_bp=10000, position=0)]
    db.session.add(second)
    db.session.flush()
    return [(f"achievement {deal.achievement_id} has 4 distinct intermediaries without a recorded exception; "
            f"at most 3 are allowed")]


@pytest.mark.parametrize("corrupt", [_unbalanced_transaction, _deal_paid_mismatch, _agreement_paid_mismatch,
                                     _status_without_posting, _cap_exceeded, _yearly_cap_exceeded,
                                     _second_startup_grant])
def test_check_fails_and_names_the_broken_invariant(runner, books, corrupt, expect_book_problems):
    # The books are broken on purpose, by writing rows no service would write, and committed as a faulty release
    # would; the after-test book check must then find exactly these problems.
    expected = corrupt(books)
    db.session.commit()
    expect_book_problems(*expected)
    result = run_check(runner)
    assert result.exit_code == 1
    for sentence in expected:
        assert sentence in result.output
    assert "ledger OK" not in result.output
    assert "problem(s) found in the books" in result.output


def test_a_fourth_intermediary_is_a_problem_unless_an_exception_is_recorded(runner, books, make_user, make_organisation):
    # A deal row written by hand, as no service would (the services refuse a fourth person); rolled back at the end.
    expected = _fourth_intermediary(books, make_user, make_organisation)
    assert find_book_problems(db.session) == expected
    db.session.execute(text("UPDATE deals SET intermediary_exception = '经管理员批准的第四名技术经理人' WHERE title = '再许可'"))
    assert find_book_problems(db.session) == []
    db.session.rollback()


def test_the_check_leaves_the_database_unchanged(runner, books):
    before = db.session.scalar(select(func.count()).select_from(Award))
    run_check(runner)
    assert db.session.scalar(select(func.count()).select_from(Award)) == before


# --- policy install ---------------------------------------------------------------------------------------------

SHIPPED = shipped_rule_set_paths()[-1].read_text(encoding="utf-8")
NEXT_VERSION = """
[[versions]]
version = "2029.1"
effective_from = 2029-01-01

[[versions.rules]]
id = "R1"
kind = "preorder_subsidy"
status = "confirmed"
recipient = "seller"
rate_bp = 800
stacking_group = "preorder_subsidy"
payer = "fiscal:province"
"""


@pytest.fixture
def install(runner, app, tmp_path):
    app.cli.add_command(policy_cli)

    def run(content):
        path = tmp_path / "rules.toml"
        path.write_text(content, encoding="utf-8")
        return runner.invoke(args=["policy", "install", str(path)])

    return run


def test_policy_install_adds_a_new_copy_and_keeps_the_old_one(install):
    result = install(SHIPPED + NEXT_VERSION)
    assert result.exit_code == 0, result.output
    assert "installed as copy" in result.output and "(3 versions)" in result.output
    rows = db.session.scalars(select(StoredRuleSet).order_by(StoredRuleSet.id)).all()
    assert [(row.is_active, len(row.content["versions"])) for row in rows] == [(False, 1), (False, 2), (True, 3)]


def test_policy_install_of_the_same_file_changes_nothing(install):
    result = install(SHIPPED)
    assert (result.exit_code, "unchanged" in result.output) == (0, True)
    assert db.session.scalar(select(func.count()).select_from(StoredRuleSet)) == 2


@pytest.mark.parametrize("content, message", [
    (SHIPPED.replace("rate_bp = 1000", "rate_bp = 900"), "2024.1"),
    (SHIPPED.replace('name = "default"', 'name = "city"'), "R1"),
    ("format = 2\nname = \"x\"\nversions = []\n", "format"),
])
def test_policy_install_refuses_a_bad_file_with_status_two(install, content, message):
    result = install(content)
    assert result.exit_code == 2
    assert message in result.output
    assert db.session.scalar(select(func.count()).select_from(StoredRuleSet)) == 2
