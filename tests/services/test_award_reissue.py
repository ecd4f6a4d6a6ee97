"""A reversed award's corrected amount is issued as a new award (settled question 2): judged under the caps of the
original event's date after the awards that stand now, at most the computed amount, once per reversal, by an admin;
the page offers it on reversed rows and says what was corrected."""
from datetime import date

import pytest

from market.awards import queries
from market.awards import services as award_services
from market.awards.ledger import balances
from market.awards.models import Award, AwardStatus
from market.awards.reissue import reissue_award
from market.errors import PermissionDeniedError, RuleViolationError, ValidationError
from market.extensions import db
from market.policy.snapshot import state_from_data
from market.timeutil import today_in_china
from tests.payments import record_and_confirm_deal_payment

WAN = 1_000_000


@pytest.fixture
def reversed_line(make_registered_deal, make_user):
    """Worked example 2 for ¥20M, paid ¥6M on 2025-04-30 (R2 ¥1.2M split 50/30/20); the first broker's ¥600,000 line
    reversed. Returns (that award, the other lines, the deal, its researcher, the admin)."""
    deal, researcher, _brokers = make_registered_deal(value_fen=2000 * WAN)
    _, awards = record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=date(2025, 4, 30))
    first, *others = sorted((a for a in awards if a.rule == "R2"), key=lambda a: -a.granted_fen)
    admin = make_user("admin")
    award_services.reverse_award(db.session, admin, first.id, "受益人名称录入错误")
    db.session.commit()
    return first, others, deal, researcher, admin


def _achievement_usage() -> int:
    state = state_from_data(award_services.lock_books(db.session).state)
    return sum(usage.granted_fen for key, usage in state.cap_usage.items()
               if key.rule == "R2" and key.scope.value == "achievement")


def test_the_corrected_amount_is_a_new_award_for_the_same_recipient_rule_and_event(reversed_line):
    first, others, _deal, _researcher, admin = reversed_line
    assert first.granted_fen == 60 * WAN and _achievement_usage() == 60 * WAN
    award = reissue_award(db.session, admin, first.id, amount_fen=45 * WAN, reason="按更正后的分成比例")
    db.session.commit()
    assert (award.recipient, award.rule, award.policy_event_id, award.event_date, award.deal_id) == (
        first.recipient, first.rule, first.policy_event_id, first.event_date, first.deal_id)
    assert (award.computed_fen, award.granted_fen, award.status, award.reissues_id) == (
        45 * WAN, 45 * WAN, AwardStatus.PAYABLE, first.id)
    assert _achievement_usage() == sum(a.granted_fen for a in others) + 45 * WAN
    assert balances(db.session)[f"awarded:{first.recipient}"] == 45 * WAN
    rows = {row.award.id: row for row in queries.list_awards(db.session, queries.AwardFilters(), 1).rows}
    assert f"更正自奖补 #{first.id}：按更正后的分成比例" in rows[award.id].note
    assert rows[first.id].reissued_as == award.id and f"奖补 #{award.id}" in rows[first.id].note
    assert award_services.approve_award(db.session, admin, award.id).status == AwardStatus.APPROVED


def test_it_is_capped_after_the_awards_that_stand_now(reversed_line):
    first, _others, deal, researcher, admin = reversed_line
    record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=date(2025, 6, 30))
    db.session.commit()
    assert _achievement_usage() == 180 * WAN  # ¥600,000 of the first payment plus ¥1.2M of the second
    award = reissue_award(db.session, admin, first.id, amount_fen=60 * WAN, reason="更正")
    assert (award.granted_fen, award.capped_by, award.status) == (20 * WAN, "achievement", AwardStatus.PAYABLE)
    assert _achievement_usage() == 200 * WAN


def test_a_cap_already_full_gives_a_nil_award_that_names_the_cap(reversed_line):
    first, _others, deal, researcher, admin = reversed_line
    record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=date(2025, 6, 30))
    record_and_confirm_deal_payment(researcher, deal.id, amount_fen=100 * WAN, paid_on=date(2025, 7, 31))
    db.session.commit()
    assert _achievement_usage() == 200 * WAN
    award = reissue_award(db.session, admin, first.id, amount_fen=60 * WAN, reason="更正")
    assert (award.granted_fen, award.capped_by, award.status) == (0, "achievement", AwardStatus.NIL)
    assert _achievement_usage() == 200 * WAN


def test_a_paid_award_reversed_into_a_receivable_may_be_corrected_while_the_receivable_stays(make_registered_deal,
                                                                                            make_user):
    deal, researcher, _brokers = make_registered_deal()
    _, awards = record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=date(2025, 4, 30))
    admin = make_user("admin")
    award = award_services.approve_award(db.session, admin, awards[0].id)
    award_services.pay_award(db.session, admin, award.id, voucher_reference="PAY-9", paid_on=today_in_china())
    award_services.reverse_award(db.session, admin, award.id, "金额多算")
    corrected = reissue_award(db.session, admin, award.id, amount_fen=award.granted_fen // 2, reason="按实际到账")
    assert award.status == AwardStatus.RECEIVABLE and corrected.status == AwardStatus.PAYABLE
    assert balances(db.session)[f"receivable:{award.recipient}"] == award.granted_fen


def test_once_per_reversal_until_the_correction_is_reversed_in_turn(reversed_line):
    first, _others, _deal, _researcher, admin = reversed_line
    corrected = reissue_award(db.session, admin, first.id, amount_fen=50 * WAN, reason="更正")
    with pytest.raises(RuleViolationError, match=f"已作为奖补 #{corrected.id} 发放"):
        reissue_award(db.session, admin, first.id, amount_fen=40 * WAN, reason="再次更正")
    award_services.reverse_award(db.session, admin, corrected.id, "更正有误")
    again = reissue_award(db.session, admin, first.id, amount_fen=40 * WAN, reason="再次更正")
    assert again.granted_fen == 40 * WAN and _achievement_usage() == 60 * WAN + 40 * WAN


@pytest.mark.parametrize("amount, reason, field, message", [
    (61 * WAN, "更正", "amount_fen", "不能超过该规则为此事项计算的"),
    (0, "更正", "amount_fen", "大于零"),
    (None, "更正", "amount_fen", "请填写更正金额"),
    (10 * WAN, "  ", "reason", "请填写更正原因"),
])
def test_bad_corrections_are_refused_and_store_nothing(reversed_line, amount, reason, field, message):
    first, _others, _deal, _researcher, admin = reversed_line
    before = db.session.query(Award).count()
    with pytest.raises(ValidationError) as refused:
        reissue_award(db.session, admin, first.id, amount_fen=amount, reason=reason)
    assert message in refused.value.fields[field]
    db.session.rollback()
    assert db.session.query(Award).count() == before


def test_only_a_reversed_award_and_only_an_admin(reversed_line, make_user):
    first, others, _deal, researcher, admin = reversed_line
    with pytest.raises(RuleViolationError, match="只有已冲正的奖补"):
        reissue_award(db.session, admin, others[0].id, amount_fen=WAN, reason="更正")
    for person in (researcher, make_user("broker")):
        with pytest.raises(PermissionDeniedError):
            reissue_award(db.session, person, first.id, amount_fen=WAN, reason="更正")


def test_the_award_list_offers_the_correction_on_reversed_rows_and_takes_wan(client, login_as, reversed_line):
    first, others, _deal, _researcher, _admin = reversed_line
    login_as("admin")
    page = client.get("/money/awards?status=reversed").get_data(as_text=True)
    assert f'action="/money/awards/{first.id}/reissue"' in page
    assert f'action="/money/awards/{others[0].id}/reissue"' not in page
    client.post(f"/money/awards/{first.id}/reissue", data={"next": "/money/awards", "amount_fen": "12.5", "reason": "更正"})
    corrected = db.session.query(Award).filter_by(reissues_id=first.id).one()
    assert corrected.granted_fen == 125_000_00
    page = client.get("/money/awards").get_data(as_text=True)
    assert f"已按更正金额生成奖补 #{corrected.id}" in page
    assert f'action="/money/awards/{first.id}/reissue"' not in page
    client.post(f"/money/awards/{corrected.id}/reverse", data={"next": "/money/awards", "reason": "错"})
    client.post(f"/money/awards/{first.id}/reissue", data={"next": "/money/awards", "amount_fen": "abc", "reason": "更正"})
    assert "未重新发放" in client.get("/money/awards").get_data(as_text=True)
    assert db.session.query(Award).filter_by(reissues_id=first.id).count() == 1


def test_a_reversed_award_cannot_be_reversed_again_and_the_refusal_names_its_status_in_words(reversed_line):
    award, _others, _deal, _researcher, admin = reversed_line
    with pytest.raises(RuleViolationError) as refused:
        award_services.reverse_award(db.session, admin, award.id, "再次冲正")
    assert refused.value.message == "该奖补不能冲正（当前：已冲正）。"
