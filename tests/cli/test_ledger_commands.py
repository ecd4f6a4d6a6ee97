"""`flask --app market check-ledger` passes on sound books and names every broken invariant; `policy install`."""
from datetime import date

import pytest
from sqlalchemy import func, select, text

from market.awards import services as award_services
from market.awards.book_checks import find_book_problems
from market.awards.commands import check_ledger, policy_cli
from market.awards.grants import record_startup_grant
from market.awards.models import Award, StoredRuleSet
from market.deals.models import Deal, DealIntermediary, DealStage
from market.deals.payments import record_deal_payment, register_contract
from market.extensions import db
from market.policy.rules import SHIPPED_RULE_SETS_DIR
from market.preorders.models import PreorderAgreement, PreorderDelivery
from market.preorders.payments import record_preorder_payment, register_agreement

WAN = 1_000_000


@pytest.fixture
def books(make_user, make_organisation, make_achievement):
    """Sound books: a deal with three intermediaries and two payments (the second capped), a pre-order agreement
    paid twice (the second capped), a start-up grant; one award approved and paid, one approved, one reversed."""
    researcher = make_user("researcher")
    achievement = make_achievement(owner=researcher)
    brokers = [make_user("broker") for _ in range(3)]
    deal = Deal(title="转让", achievement_id=achievement.id, transferor_id=achievement.organisation_id,
                transferee_id=make_organisation("enterprise").id, stage=DealStage.REGISTERED,
                agreed_amount_fen=1200 * WAN, reward_rate_bp=2000, signed_on=date(2025, 3, 10),
                registration_number="REG-L-1", registered_on=date(2025, 3, 10))
    deal.intermediaries = [DealIntermediary(user_id=b.id, share_bp=s, position=i)
                           for i, (b, s) in enumerate(zip(brokers, (5000, 3000, 2000)))]
    db.session.add(deal)
    db.session.flush()
    snapshot = award_services.lock_books(db.session)
    register_contract(db.session, snapshot, db.session.get(Deal, deal.id), researcher)
    db.session.commit()
    awards = []
    for day in (date(2025, 4, 30), date(2025, 5, 30)):
        awards += record_deal_payment(db.session, researcher, deal.id, amount_fen=600 * WAN, paid_on=day)[1]

    seller = make_organisation("enterprise", valley_id="taiyuan", resident_since=date(2024, 3, 1))
    seller_user = make_user("enterprise", organisation=seller)
    agreement = PreorderAgreement(number="YG-L-1", buyer_id=make_organisation("enterprise").id, seller_id=seller.id,
                                  product="储氢瓶", quantity=1, unit_price_fen=15000 * WAN, value_fen=15000 * WAN,
                                  signed_on=date(2024, 10, 15), accepted_fen=15000 * WAN, created_by_id=seller_user.id)
    db.session.add(agreement)
    db.session.flush()
    db.session.add(PreorderDelivery(agreement_id=agreement.id, delivered_on=date(2025, 1, 10), quantity=1,
                                    amount_fen=15000 * WAN, accepted_on=date(2025, 1, 20), recorded_by_id=seller_user.id))
    snapshot = award_services.lock_books(db.session)
    register_agreement(db.session, snapshot, db.session.get(PreorderAgreement, agreement.id), seller_user)
    db.session.commit()
    for amount, day in ((7000 * WAN, date(2025, 3, 31)), (5000 * WAN, date(2025, 9, 30))):
        awards += record_preorder_payment(db.session, seller_user, agreement.id, amount_fen=amount, paid_on=day)[1]

    admin = make_user("admin")
    startup = make_organisation("enterprise", valley_id="jincheng", resident_since=date(2024, 1, 5))
    awards += record_startup_grant(db.session, admin, startup.id, granted_on=date(2024, 6, 1),
                                   founders_paid_in_fen=80 * WAN, awarded_fen=100 * WAN)[1]
    award_services.approve_award(db.session, admin, awards[0].id)
    award_services.pay_award(db.session, admin, awards[0].id)
    award_services.approve_award(db.session, admin, awards[1].id)
    award_services.reverse_award(db.session, admin, awards[2].id, "登记错误")
    db.session.commit()
    return {"deal": deal, "agreement": agreement, "awards": awards, "achievement": achievement, "startup": startup}


def run_check(runner):
    return runner.invoke(check_ledger)


def test_sound_books_pass_the_check(runner, books):
    result = run_check(runner)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "ledger OK"


def test_an_empty_database_passes_the_check(runner):
    result = run_check(runner)
    assert (result.exit_code, result.output.strip()) == (0, "ledger OK")


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
    agreement = f"agreement {books['agreement'].id} (YG-L-1)"
    return [f"{agreement} says ¥120,000,001.00 (12000000100 fen) was paid but its payments add up to",
            f"{agreement} is paid ¥120,000,001.00 (12000000100 fen), above the accepted ¥1,000,000.00"]


def _status_without_posting(books):
    award = books["awards"][4]
    db.session.execute(text("UPDATE awards SET status = 'paid' WHERE id = :id"), {"id": award.id})
    return [(f"account paid:{award.recipient} holds ¥0.00 (0 fen) but its awards in the matching status add up to "
            f"¥240,000.00 (24000000 fen)")]


def _cap_exceeded(books):
    db.session.execute(text("UPDATE awards SET granted_fen = computed_fen WHERE capped_by = 'achievement'"))
    return [(f"rule R2 cap achievement for achievement-{books['achievement'].id} is exceeded: "
            f"¥2,160,000.00 (216000000 fen) granted, the cap is ¥2,000,000.00 (200000000 fen)")]


def _yearly_cap_exceeded(books):
    db.session.execute(text("UPDATE awards SET granted_fen = computed_fen WHERE capped_by = 'recipient_calendar_year'"))
    return [f"rule R1 cap recipient_calendar_year for org-{books['agreement'].seller_id} in 2025 is exceeded"]


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
            f"add up to ¥800,001.00 (80000100 fen)")]


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
def test_check_fails_and_names_the_broken_invariant(runner, books, corrupt):
    expected = corrupt(books)
    result = run_check(runner)
    assert result.exit_code == 1
    for sentence in expected:
        assert sentence in result.output
    assert "ledger OK" not in result.output
    assert "problem(s) found in the books" in result.output
    db.session.rollback()  # the corruption was never committed: undone here, the after-test book check sees sound books
    assert find_book_problems(db.session) == []


def test_a_fourth_intermediary_is_a_problem_unless_an_exception_is_recorded(runner, books, make_user, make_organisation):
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

SHIPPED = (SHIPPED_RULE_SETS_DIR / "default.toml").read_text(encoding="utf-8")
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
    assert "installed as copy" in result.output and "(2 versions)" in result.output
    rows = db.session.scalars(select(StoredRuleSet).order_by(StoredRuleSet.id)).all()
    assert [(row.is_active, len(row.content["versions"])) for row in rows] == [(False, 1), (True, 2)]


def test_policy_install_of_the_same_file_changes_nothing(install):
    result = install(SHIPPED)
    assert (result.exit_code, "unchanged" in result.output) == (0, True)
    assert db.session.scalar(select(func.count()).select_from(StoredRuleSet)) == 1


@pytest.mark.parametrize("content, message", [
    (SHIPPED.replace("rate_bp = 1000", "rate_bp = 900"), "2024.1"),
    (SHIPPED.replace('name = "default"', 'name = "city"'), "R1"),
    ("format = 2\nname = \"x\"\nversions = []\n", "format"),
])
def test_policy_install_refuses_a_bad_file_with_status_two(install, content, message):
    result = install(content)
    assert result.exit_code == 2
    assert message in result.output
    assert db.session.scalar(select(func.count()).select_from(StoredRuleSet)) == 1
