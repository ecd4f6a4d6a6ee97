"""Payments in the live app earn exactly the awards POLICY.md's worked examples give, and the books balance."""
from datetime import date

import pytest
from sqlalchemy import func, select, text

from market.accounts.models import VerificationStatus
from market.awards import queries
from market.awards import services as award_services
from market.awards.grants import record_startup_grant
from market.awards.ledger import LedgerEntry, balances
from market.awards.models import Award, AwardStatus, HoldReason
from market.deals.models import Deal, DealPayment, DealStage
from market.errors import RuleViolationError, ValidationError
from market.extensions import db
from market.timeutil import today_in_china
from tests.payments import record_and_confirm_deal_payment, record_and_confirm_preorder_payment

YUAN = 100
WAN = 10_000 * YUAN


def granted(awards):
    return [(a.recipient, a.granted_fen, a.capped_by) for a in awards]


def test_intermediary_reward_is_split_and_capped_per_achievement(make_registered_deal):
    deal, researcher, brokers = make_registered_deal()
    keys = [award_services.person_key(b.id) for b in brokers]
    _, first = record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=date(2025, 4, 30))
    assert granted(first) == [(keys[0], 60 * WAN, None), (keys[1], 36 * WAN, None), (keys[2], 24 * WAN, None)]
    _, second = record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=date(2025, 5, 30))
    assert [a.granted_fen for a in second] == [40 * WAN, 24 * WAN, 16 * WAN]
    assert {a.capped_by for a in second} == {"achievement"}
    assert db.session.get(Deal, deal.id).paid_fen == 1200 * WAN
    assert db.session.get(Deal, deal.id).stage == DealStage.PERFORMANCE
    assert balances(db.session, "awarded:") == {f"awarded:{keys[0]}": 100 * WAN, f"awarded:{keys[1]}": 60 * WAN,
                                               f"awarded:{keys[2]}": 40 * WAN}


def test_payment_above_contract_value_is_refused_and_nothing_recorded(make_registered_deal):
    deal, researcher, _ = make_registered_deal(value_fen=100 * WAN)
    with pytest.raises(ValidationError) as error:
        record_and_confirm_deal_payment(researcher, deal.id, amount_fen=100 * WAN + 1, paid_on=date(2025, 4, 1))
    assert "超过合同金额" in error.value.fields["amount_fen"]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(DealPayment)) == 0
    assert db.session.scalar(select(func.count()).select_from(Award)) == 0


@pytest.mark.parametrize("amount, paid_on, field", [
    (0, date(2025, 4, 1), "amount_fen"),
    (-5, date(2025, 4, 1), "amount_fen"),
    (1.5, date(2025, 4, 1), "amount_fen"),
    (True, date(2025, 4, 1), "amount_fen"),
    (10 ** 16, date(2025, 4, 1), "amount_fen"),
    (100, date(2025, 3, 9), "paid_on"),
    (100, date(2099, 1, 1), "paid_on"),
    (100, None, "paid_on"),
])
def test_bad_deal_payment_is_refused_with_a_field_message(make_registered_deal, amount, paid_on, field):
    deal, researcher, _ = make_registered_deal()
    with pytest.raises(ValidationError) as error:
        record_and_confirm_deal_payment(researcher, deal.id, amount_fen=amount, paid_on=paid_on)
    assert field in error.value.fields
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(DealPayment)) == 0


def test_yangquan_agent_reward_is_held_under_the_draft_rule(make_registered_deal, make_organisation):
    buyer = make_organisation("enterprise", region="阳泉市", valley_id="yangquan", resident_since=date(2024, 5, 1))
    agency = make_organisation("agency")
    deal, researcher, _ = make_registered_deal(transferee=buyer, reward_rate_bp=0, shares=(), agent=agency)
    _, first = record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=date(2025, 4, 1))
    _, second = record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=date(2025, 5, 1))
    assert [(a.rule, a.granted_fen, a.status) for a in first] == [("R3", 30 * WAN, AwardStatus.HELD)]
    assert [(a.rule, a.granted_fen, a.capped_by) for a in second] == [("R3", 0, "contract")]
    assert balances(db.session, "held:") == {f"held:{award_services.org_key(agency.id)}": 30 * WAN}


def test_preorder_subsidy_follows_worked_example_one(signed_agreement):
    agreement, user = signed_agreement
    results = [record_and_confirm_preorder_payment(user, agreement.id, amount_fen=amount, paid_on=day)[1]
               for amount, day in ((7000 * WAN, date(2025, 3, 31)), (5000 * WAN, date(2025, 9, 30)),
                                   (2000 * WAN, date(2026, 2, 1)))]
    assert [(a[0].granted_fen, a[0].capped_by) for a in results] == [
        (700 * WAN, None), (300 * WAN, "recipient_calendar_year"), (200 * WAN, None)]
    with pytest.raises(ValidationError) as error:
        record_and_confirm_preorder_payment(user, agreement.id, amount_fen=2000 * WAN, paid_on=date(2026, 3, 1))
    assert "超过协议金额" in error.value.fields["amount_fen"]


def test_preorder_payment_counts_only_against_deliveries_accepted_by_its_date(signed_agreement):
    agreement, user = signed_agreement
    with pytest.raises(ValidationError) as error:
        record_and_confirm_preorder_payment(user, agreement.id, amount_fen=100 * WAN, paid_on=date(2025, 1, 15))
    assert "已验收" in error.value.fields["amount_fen"]
    db.session.rollback()
    payment, _ = record_and_confirm_preorder_payment(user, agreement.id, amount_fen=100 * WAN, paid_on=date(2025, 1, 20))
    assert payment.amount_fen == 100 * WAN


def test_startup_grant_is_capped_by_founders_capital_and_minimum_is_refused(app, make_user, make_organisation):
    admin = make_user("admin")
    startup = make_organisation("enterprise", valley_id="taiyuan", resident_since=date(2024, 3, 1))
    _, awards = record_startup_grant(db.session, admin, startup.id, granted_on=date(2024, 6, 1),
                                     founders_paid_in_fen=80 * WAN, awarded_fen=100 * WAN)
    assert [(a.rule, a.granted_fen) for a in awards] == [("R4", 80 * WAN)]
    other = make_organisation("enterprise", valley_id="taiyuan", resident_since=date(2024, 3, 1))
    with pytest.raises(RuleViolationError):
        record_startup_grant(db.session, admin, other.id, granted_on=date(2024, 6, 1),
                             founders_paid_in_fen=25 * WAN, awarded_fen=100 * WAN)


def test_approval_and_payout_move_an_award_through_the_accounts(make_registered_deal, make_user):
    deal, researcher, brokers = make_registered_deal()
    _, awards = record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=date(2025, 4, 30))
    admin = make_user("admin")
    key = award_services.person_key(brokers[0].id)
    award_services.approve_award(db.session, admin, awards[0].id)
    assert balances(db.session, f"entitled:{key}") == {f"entitled:{key}": 60 * WAN}
    award_services.pay_award(db.session, admin, awards[0].id, voucher_reference="BOC-2025-0001",
                                   paid_on=today_in_china())
    assert balances(db.session, f"paid:{key}") == {f"paid:{key}": 60 * WAN}
    assert balances(db.session, f"awarded:{key}") == {f"awarded:{key}": 0}
    with pytest.raises(RuleViolationError):
        award_services.pay_award(db.session, admin, awards[0].id, voucher_reference="BOC-2025-0001",
                                   paid_on=today_in_china())


def test_reversing_an_award_appends_mirror_entries(make_registered_deal, make_user):
    deal, researcher, brokers = make_registered_deal()
    _, awards = record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=date(2025, 4, 30))
    admin = make_user("admin")
    entries_before = db.session.scalar(select(func.count()).select_from(LedgerEntry))
    award_services.reverse_award(db.session, admin, awards[1].id, "回款登记错误")
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == entries_before + 2
    assert balances(db.session, f"awarded:{award_services.person_key(brokers[1].id)}")[f"awarded:{award_services.person_key(brokers[1].id)}"] == 0


@pytest.mark.parametrize("statement", ["UPDATE ledger_entries SET amount_fen = amount_fen + 1",
                                       "DELETE FROM ledger_entries", "UPDATE ledger_transactions SET memo = 'x'",
                                       "DELETE FROM ledger_transactions"])
def test_ledger_rejects_update_and_delete(make_registered_deal, statement):
    deal, researcher, _ = make_registered_deal()
    record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=date(2025, 4, 30))
    with pytest.raises(Exception, match="append-only"):
        db.session.execute(text(statement))
        db.session.flush()
    db.session.rollback()


def test_a_new_version_confirming_r3_releases_the_held_awards_in_its_window(make_registered_deal, make_organisation,
                                                                           make_user, tmp_path):
    buyer = make_organisation("enterprise", region="阳泉市", valley_id="yangquan", resident_since=date(2024, 5, 1))
    agency = make_organisation("agency", verification_status=VerificationStatus.VERIFIED)
    deal, researcher, _ = make_registered_deal(transferee=buyer, reward_rate_bp=0, shares=(), agent=agency)
    _, held = record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=date(2025, 4, 1))
    assert (held[0].status, held[0].hold_reason) == (AwardStatus.HELD, HoldReason.DRAFT_RULE)
    default = award_services.DEFAULT_RULES.read_text(encoding="utf-8")
    block = default[default.rindex("\n[[versions]]\n"):]
    confirming = (block.replace('version = "2027.1"', 'version = "2025.1"')
                  .replace("effective_from = 2027-01-01", "effective_from = 2025-01-01")
                  .replace('status = "draft"', 'status = "confirmed"'))
    path = tmp_path / "default.toml"
    path.write_text(default + "\n" + confirming, encoding="utf-8")
    award_services.install_rule_set(db.session, path, make_user("admin"))
    award = db.session.get(Award, held[0].id)
    assert award.status == AwardStatus.PAYABLE
    key = award_services.org_key(agency.id)
    assert balances(db.session, f"held:{key}") == {f"held:{key}": 0}
    assert balances(db.session, f"awarded:{key}") == {f"awarded:{key}": 30 * WAN}


def test_a_rule_set_that_edits_a_used_version_is_refused(app, make_user, tmp_path):
    edited = award_services.DEFAULT_RULES.read_text(encoding="utf-8").replace("rate_bp = 1000", "rate_bp = 1200", 1)
    path = tmp_path / "default.toml"
    path.write_text(edited, encoding="utf-8")
    with pytest.raises(RuleViolationError, match="2024.1"):
        award_services.install_rule_set(db.session, path, make_user("admin"))


STACKING_RULES = """format = 1
name = "topup"
title = "测试：与 R1 同组的征求意见稿补助"

[[versions]]
version = "{version}"
effective_from = {start}
effective_to = 2028-12-31

[[versions.rules]]
id = "R1X"
kind = "preorder_subsidy"
title = "预约采购追加补助"
source = "测试"
status = "{status}"
recipient = "seller"
rate_bp = 1500
stacking_group = "preorder_subsidy"
payer = "fiscal:province"

[versions.rules.conditions]
seller_kinds = ["enterprise"]
seller_valley = "any"
"""


def test_a_higher_draft_in_r1s_group_is_held_for_the_difference_and_released_when_confirmed(make_agreement, make_user,
                                                                                            tmp_path):
    admin = make_user("admin")
    path = tmp_path / "topup.toml"
    path.write_text(STACKING_RULES.format(version="2024.1", start="2024-01-01", status="draft"), encoding="utf-8")
    award_services.install_rule_set(db.session, path, admin)
    agreement = make_agreement(deliveries=[(1000 * WAN, date(2025, 3, 1))], payments=[(1000 * WAN, date(2025, 3, 31))])
    awards = db.session.scalars(select(Award).where(Award.agreement_id == agreement.id).order_by(Award.rule)).all()
    assert [(a.rule, a.granted_fen, a.status, a.tops_up) for a in awards] == [
        ("R1", 100 * WAN, AwardStatus.PAYABLE, None), ("R1X", 50 * WAN, AwardStatus.HELD, "R1")]
    assert "补差" in queries.explain_award(queries.load_rule_catalog(db.session), awards[1])
    draft = STACKING_RULES.format(version="2024.1", start="2024-01-01", status="draft")
    confirming = STACKING_RULES.format(version="2025.1", start="2025-01-01", status="confirmed")
    path.write_text(draft + confirming[confirming.index("\n[[versions]]\n"):], encoding="utf-8")
    award_services.install_rule_set(db.session, path, admin)
    db.session.refresh(awards[1])
    assert (awards[1].status, awards[1].granted_fen) == (AwardStatus.PAYABLE, 50 * WAN)
