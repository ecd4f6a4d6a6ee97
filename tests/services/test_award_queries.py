"""Award reads: the valley an award belongs to, totals per valley and year, filters, one user's money and exports."""
from datetime import date
from decimal import Decimal

import pytest

from market.accounts.models import ApprovalStatus, VerificationStatus
from market.awards import queries, wording
from market.awards import services as award_services
from market.awards.grants import record_startup_grant
from market.awards.models import Award, AwardStatus, HoldReason
from market.awards.permissions import recipient_keys_of
from market.extensions import db
from market.policy.rules import load_shipped_rule_set, parse_rule_set
from market.timeutil import today_in_china
from tests.payments import record_and_confirm_deal_payment, record_and_confirm_preorder_payment

WAN = 1_000_000


@pytest.fixture
def books(make_user, make_organisation, make_registered_deal, make_agreement):
    """Worked example 2 on a 太原 achievement (R2 to three brokers, two payments), worked example 1's first payment on
    a pre-order agreement of a 大同 seller (R1) and a start-up grant to a 晋城 company (R4)."""
    brokers = [make_user("broker", name=name) for name in ("周立", "吴敏", "郑凯")]
    deal, researcher, _ = make_registered_deal(brokers=brokers)
    deal_awards = []
    for day in (date(2025, 4, 30), date(2025, 5, 30)):
        deal_awards += record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=day)[1]

    seller = make_organisation("enterprise", name="大同储能科技", valley_id="datong", resident_since=date(2024, 3, 1),
                               verification_status=VerificationStatus.VERIFIED)
    seller_user = make_user("enterprise", organisation=seller)
    agreement = make_agreement(seller=seller_user, deliveries=[(15000 * WAN, date(2025, 1, 10))])
    _, agreement_awards = record_and_confirm_preorder_payment(seller_user, agreement.id, amount_fen=7000 * WAN,
                                                  paid_on=date(2025, 3, 31))

    admin = make_user("admin")
    startup = make_organisation("enterprise", name="晋城光学科技", valley_id="jincheng", resident_since=date(2024, 1, 5),
                                verification_status=VerificationStatus.VERIFIED)
    _, grant_awards = record_startup_grant(db.session, admin, startup.id, granted_on=date(2024, 6, 1),
                                           founders_paid_in_fen=80 * WAN, awarded_fen=100 * WAN)
    return {"admin": admin, "brokers": brokers, "deal": deal, "deal_awards": deal_awards, "seller": seller,
            "seller_user": seller_user, "agreement_awards": agreement_awards, "startup": startup,
            "grant_awards": grant_awards, "researcher": researcher}


def everything():
    return queries.list_awards(db.session, queries.AwardFilters()).rows


def test_award_takes_the_valley_of_its_deal_agreement_or_grant(books):
    valleys = {(row.source.kind, row.valley_id) for row in everything()}
    assert valleys == {("deal", "taiyuan"), ("agreement", "datong"), ("grant", "jincheng")}


def test_totals_are_per_valley_and_year_split_by_status(books):
    admin, deal_awards = books["admin"], books["deal_awards"]
    award_services.approve_award(db.session, admin, deal_awards[0].id)
    award_services.approve_award(db.session, admin, deal_awards[1].id)
    award_services.pay_award(db.session, admin, deal_awards[1].id, voucher_reference="BOC-2025-0001",
                                   paid_on=today_in_china())
    award_services.reverse_award(db.session, admin, deal_awards[5].id, "重复登记")
    totals = {(row.valley_id, row.year): row for row in queries.award_totals(db.session, queries.AwardFilters())}
    assert set(totals) == {("taiyuan", 2025), ("datong", 2025), ("jincheng", 2024)}
    taiyuan = totals[("taiyuan", 2025)]
    assert (taiyuan.approved_fen, taiyuan.paid_fen, taiyuan.payable_fen, taiyuan.held_fen) == (
        60 * WAN, 36 * WAN, (24 + 40 + 24) * WAN, 0)
    assert taiyuan.total_fen == (60 + 36 + 24 + 40 + 24) * WAN
    assert totals[("datong", 2025)].payable_fen == 700 * WAN
    assert totals[("jincheng", 2024)].payable_fen == 80 * WAN
    grand = queries.sum_totals(list(totals.values()))
    assert grand.total_fen == (184 + 700 + 80) * WAN


@pytest.mark.parametrize("filters, expected_rules", [
    ({"rule": "R1"}, ["R1"]),
    ({"valley": "jincheng"}, ["R4"]),
    ({"year": 2024}, ["R4"]),
    ({"valley": "taiyuan", "year": 2024}, []),
    ({"status": "held"}, []),
    ({"recipient": "储能"}, ["R1"]),
    ({"recipient": "吴敏"}, ["R2", "R2"]),
])
def test_filters_narrow_the_award_list(books, filters, expected_rules):
    page = queries.list_awards(db.session, queries.AwardFilters(**filters))
    assert sorted(row.award.rule for row in page.rows) == expected_rules
    assert page.total == len(expected_rules)


def test_recipient_filter_takes_an_exact_key(books):
    key = award_services.person_key(books["brokers"][2].id)
    rows = queries.list_awards(db.session, queries.AwardFilters(recipient=key)).rows
    assert [(row.award.recipient, row.award.granted_fen) for row in rows] == [(key, 16 * WAN), (key, 24 * WAN)]


def test_status_filter_and_totals_follow_an_approval(books):
    award_services.approve_award(db.session, books["admin"], books["agreement_awards"][0].id)
    rows = queries.list_awards(db.session, queries.AwardFilters(status=AwardStatus.APPROVED)).rows
    assert [row.award.id for row in rows] == [books["agreement_awards"][0].id]
    totals = queries.award_totals(db.session, queries.AwardFilters(status=AwardStatus.APPROVED))
    assert [(t.valley_id, t.year, t.approved_fen, t.total_fen) for t in totals] == [("datong", 2025, 700 * WAN, 700 * WAN)]


def test_pages_hold_at_most_the_page_size(books):
    first = queries.list_awards(db.session, queries.AwardFilters(), page=1, per_page=3)
    last = queries.list_awards(db.session, queries.AwardFilters(), page=99, per_page=3)
    assert (first.total, first.pages, len(first.rows)) == (8, 3, 3)
    assert (last.page, len(last.rows)) == (3, 2)


def test_broker_money_is_grouped_per_deal_with_due_held_and_paid(books):
    broker, admin = books["brokers"][0], books["admin"]
    first, second = books["deal_awards"][0], books["deal_awards"][3]
    award_services.approve_award(db.session, admin, first.id)
    award_services.pay_award(db.session, admin, first.id, voucher_reference="BOC-2025-0001",
                                   paid_on=today_in_china())
    money = queries.list_user_money(db.session, broker)
    assert [group.source.key for group in money.groups] == [("deal", books["deal"].id)]
    assert [row.award.id for row in money.rows] == [first.id, second.id]
    assert (money.due_fen, money.held_fen, money.paid_fen) == (40 * WAN, 0, 60 * WAN)


def test_enterprise_sees_the_subsidies_of_its_organisation(books):
    money = queries.list_user_money(db.session, books["seller_user"])
    assert [(row.award.rule, row.award.granted_fen) for row in money.rows] == [("R1", 700 * WAN)]
    assert money.due_fen == 700 * WAN


def test_pending_member_does_not_see_the_organisation_money(books, make_user):
    pending = make_user("enterprise", organisation=books["seller"], membership_status=ApprovalStatus.PENDING)
    assert recipient_keys_of(pending) == [award_services.person_key(pending.id)]
    assert queries.list_user_money(db.session, pending).rows == []


def test_researcher_sees_rewards_paid_from_the_proceeds_of_their_university(books):
    money = queries.list_rewards_paid_from_proceeds(db.session, books["researcher"])
    assert sorted(row.award.granted_fen for row in money.rows) == sorted(a.granted_fen for a in books["deal_awards"])
    assert money.due_fen == 200 * WAN


def test_export_rows_hold_yuan_with_two_decimals_and_fen(books):
    money = queries.list_user_money(db.session, books["brokers"][1])
    header, *rows = queries.money_export_rows(money)
    assert header[6:8] == ["核定金额（元）", "核定金额（分）"]
    assert [(row[6], row[7]) for row in rows] == [(Decimal("360000.00"), 36 * WAN), (Decimal("240000.00"), 24 * WAN)]
    assert str(queries.fen_as_yuan(12345)) == "123.45" and str(queries.fen_as_yuan(100)) == "1.00"


def test_cap_explanation_reads_the_cap_amount_from_the_rule_set(app):
    shipped = load_shipped_rule_set()
    rule = shipped.versions[0].rules[0]
    assert "¥10,000,000.00" in wording.explain_capped_by(rule, "recipient_calendar_year", 1)
    content = {"format": 1, "name": "city", "versions": [{
        "version": "1", "effective_from": "2024-01-01",
        "rules": [{"id": "C1", "kind": "preorder_subsidy", "status": "draft", "recipient": "seller", "rate_bp": 500,
                   "stacking_group": "g", "payer": "fiscal:city",
                   "caps": [{"scope": "recipient_calendar_year", "amount_fen": 12_345_600}]}]}]}
    other = parse_rule_set(content).versions[0].rules[0]
    assert "¥123,456.00" in wording.explain_capped_by(other, "recipient_calendar_year", 5)
    assert "额度已用完" in wording.explain_capped_by(other, "recipient_calendar_year", 0)
    assert "征求意见稿" in wording.explain_held(other, "C1", "1")


def _rule_set(name, rule_id, starts, ends=None):
    version = {"version": "1", "effective_from": starts,
               "rules": [{"id": rule_id, "kind": "startup_capital", "status": "confirmed", "recipient": "startup",
                          "min_amount_fen": 0, "max_amount_fen": 100, "max_share_of_capital_bp": 5000,
                          "stacking_group": "g", "payer": "fiscal:city"}]}
    if ends:
        version["effective_to"] = ends
    return parse_rule_set({"format": 1, "name": name, "versions": [version]})


@pytest.mark.parametrize("candidate, clashes", [
    (_rule_set("city", "R4", "2025-01-01"), 2),  # overlaps both versions 2024.1 and 2027.1
    (_rule_set("city", "C4", "2025-01-01"), 0),
    (_rule_set("city", "R4", "2029-01-01"), 0),
    (_rule_set("city", "R4", "2020-01-01", "2023-12-31"), 0),
    (_rule_set("default", "R4", "2025-01-01"), 0),
])
def test_a_rule_id_in_force_twice_on_one_day_is_a_clash(app, candidate, clashes):
    assert len(award_services.rule_id_clashes([load_shipped_rule_set()], candidate)) == clashes


def test_an_award_held_for_a_verification_is_explained_by_the_verification_not_by_its_rule(app):
    rule = load_shipped_rule_set().versions[0].rules[0]
    held = Award(rule=rule.id, rule_set_version="2024.1", status=AwardStatus.HELD, granted_fen=WAN,
                 hold_reason=HoldReason.AWAITING_VERIFICATION)
    assert "尚待平台核验" in wording.explain_award(rule, held) and "规则确认后" not in wording.explain_award(rule, held)
    held.hold_reason = HoldReason.DRAFT_RULE
    assert "规则确认后转为待审批" in wording.explain_award(rule, held)
    draft = parse_rule_set({"format": 1, "name": "city", "versions": [{
        "version": "1", "effective_from": "2024-01-01",
        "rules": [{"id": "C1", "kind": "preorder_subsidy", "status": "draft", "recipient": "seller", "rate_bp": 500,
                   "stacking_group": "g", "payer": "fiscal:city"}]}]}).versions[0].rules[0]
    held.hold_reason = HoldReason.AWAITING_VERIFICATION
    note = wording.explain_award(draft, held)
    assert "征求意见稿" in note and "尚待平台核验" in note, "a draft rule and a missing verification both hold it"
