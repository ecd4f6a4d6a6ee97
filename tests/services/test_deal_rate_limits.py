"""A deal's policy limits: the reward rate maximum of the rule set in force (POLICY.md, settled question 10) and the
inventors' share of a university's or institute's net income (settled question 9)."""
from datetime import date

import pytest

from market.deals.intermediaries import set_intermediaries
from market.deals.models import Deal, DealStage
from market.deals.pipeline import accept_terms, register_deal, start_notice, update_terms
from market.deals.policy_limits import inventor_share_warning
from market.deals.signing import confirm_signing, record_signing
from market.errors import InvalidStateError, ValidationError
from market.extensions import db
from tests.conftest import WAN, deal_clock
from tests.payments import certificate

FLOOR_REFUSED = "成果完成人（团队）所得比例 49% 低于法定下限 50%（《促进科技成果转化法》第四十五条），该分配方案不合规。"
RATE_REFUSED = "奖励比例不得超过 30%（现行规则：中介服务利益共享奖励，2027.1 版）。"
LATE_2026 = date(2026, 12, 2)
"""A day under version 2024.1, which sets no maximum (the tests hold whatever the real date)."""


@pytest.fixture
def world(deal_world):
    return deal_world


def fresh(deal: Deal) -> Deal:
    db.session.expire_all()
    return db.session.get(Deal, deal.id)


def set_rate(world, deal: Deal, actor, rate_bp: int) -> Deal:
    return set_intermediaries(db.session, actor, deal.id, people=[(str(world.broker.id), None)], reward_rate_bp=rate_bp)


# ---------------------------------------------------------------- the reward rate maximum


def test_before_2027_a_deal_may_agree_a_rate_above_30_percent(world, make_deal):
    deal = make_deal(DealStage.NEGOTIATION)
    with deal_clock(LATE_2026):
        set_rate(world, deal, world.researcher, 5000)
    assert fresh(deal).reward_rate_bp == 5000


def test_a_rate_change_above_the_maximum_in_force_is_refused(world, make_deal):
    deal = make_deal(DealStage.NEGOTIATION, intermediaries=[(world.broker, 10000)], reward_rate_bp=1000)
    with deal_clock(date(2027, 1, 2)), pytest.raises(ValidationError) as refused:
        set_rate(world, deal, world.broker, 3001)
    assert refused.value.fields == {"reward_rate": RATE_REFUSED}
    assert fresh(deal).reward_rate_bp == 1000


def test_a_rate_at_the_maximum_is_accepted(world, make_deal):
    deal = make_deal(DealStage.NEGOTIATION)
    with deal_clock(date(2027, 1, 2)):
        set_rate(world, deal, world.buyer, 3000)
    assert fresh(deal).reward_rate_bp == 3000


def test_signing_in_2027_checks_the_rate_again_against_the_version_in_force_that_day(world, make_deal):
    with deal_clock(LATE_2026):
        deal = make_deal(DealStage.NOTICE, intermediaries=[(world.broker, 10000)], reward_rate_bp=4000,
                         notice_starts_on=date(2026, 12, 1))
    with deal_clock(date(2027, 1, 10)):
        with pytest.raises(ValidationError) as refused:
            record_signing(db.session, world.researcher, deal.id, signed_on=date(2027, 1, 5),
                           agreed_amount_fen=100 * WAN)
        assert RATE_REFUSED in refused.value.fields["reward_rate"]
        assert "40%" in refused.value.fields["reward_rate"]
        assert fresh(deal).stage == DealStage.NOTICE
        signing = record_signing(db.session, world.researcher, deal.id, signed_on=date(2026, 12, 31),
                                 agreed_amount_fen=100 * WAN)
        confirm_signing(db.session, world.buyer, signing.id)
    assert (fresh(deal).stage, fresh(deal).signed_on) == (DealStage.SIGNED, date(2026, 12, 31))


def test_a_signed_deal_is_judged_by_its_signing_date_not_today(world, make_deal):
    deal = make_deal(DealStage.SIGNED, intermediaries=[(world.broker, 10000)], reward_rate_bp=4500,
                     signed_on=date(2026, 11, 20))
    with deal_clock(date(2027, 2, 1)):
        with pytest.raises(InvalidStateError) as refused:
            set_rate(world, deal, world.researcher, 1000)
        assert str(refused.value) == "公示后交易条件已锁定，签约后不能再修改。"
        register_deal(db.session, world.researcher, deal.id, registration_number="TEST-2026-1",
                      registered_on=date(2027, 1, 15), certificate=certificate())
    assert (fresh(deal).reward_rate_bp, fresh(deal).stage) == (4500, DealStage.REGISTERED)


# ---------------------------------------------------------------- the inventors' share


def test_a_university_deal_without_the_inventors_share_cannot_start_its_notice(world, make_deal):
    deal = make_deal(DealStage.PRICING, inventor_share_bp=None)
    with pytest.raises(ValidationError) as refused:
        start_notice(db.session, world.researcher, deal.id)
    assert refused.value.fields == {"inventor_share": "转让方为高校或科研院所，请先在交易条件中填写发明人（团队）收益比例。"}
    assert fresh(deal).stage == DealStage.PRICING


def test_an_inventors_share_below_the_statutory_floor_is_refused(world, make_deal):
    deal = make_deal(DealStage.PRICING, inventor_share_bp=None)
    with pytest.raises(ValidationError) as refused:
        update_terms(db.session, world.researcher, deal.id, agreed_amount_fen=100 * WAN, mode="assignment",
                     inventor_share_bp=4900)
    assert refused.value.fields == {"inventor_share": FLOOR_REFUSED}
    assert fresh(deal).inventor_share_bp is None


def test_an_inventors_share_below_the_recommended_line_is_accepted_with_a_warning(world, make_deal):
    deal = make_deal(DealStage.PRICING, inventor_share_bp=None)
    update_terms(db.session, world.buyer, deal.id, agreed_amount_fen=100 * WAN, mode="assignment",
                 inventor_share_bp=6000)
    deal = fresh(deal)
    assert deal.inventor_share_bp == 6000
    assert inventor_share_warning(db.session, deal) == "成果完成人（团队）所得比例 60% 低于山西省公立单位应达到的 70%，请核实。"
    with pytest.raises(InvalidStateError) as refused:
        start_notice(db.session, world.researcher, deal.id)
    assert str(refused.value) == "交易条件尚未经双方确认：转让方尚未确认第 2 版交易条件。"
    accept_terms(db.session, world.researcher, deal.id, deal.terms_version)
    start_notice(db.session, world.researcher, deal.id)
    assert fresh(deal).stage == DealStage.NOTICE


@pytest.mark.parametrize("share_bp", [5000, 7000, 10000])
def test_an_inventors_share_at_the_floor_or_above_is_recorded(world, make_deal, share_bp):
    deal = make_deal(DealStage.NEGOTIATION, inventor_share_bp=share_bp)
    assert fresh(deal).inventor_share_bp == share_bp
    assert (inventor_share_warning(db.session, fresh(deal)) is None) == (share_bp >= 7000)


def test_an_institute_deal_needs_the_inventors_share_too(world, make_deal, make_user, make_organisation,
                                                          make_achievement):
    owner = make_user("researcher", organisation=make_organisation("institute"))
    deal = make_deal(DealStage.PRICING, achievement=make_achievement(owner=owner), inventor_share_bp=None)
    with pytest.raises(ValidationError) as refused:
        start_notice(db.session, owner, deal.id)
    assert "inventor_share" in refused.value.fields


@pytest.mark.parametrize("share_bp", [-1, 10001, "60", 60.0, True])
def test_an_inventors_share_that_is_not_a_whole_number_of_basis_points_is_refused(world, make_deal, share_bp):
    deal = make_deal(DealStage.PRICING, inventor_share_bp=None)
    with pytest.raises(ValidationError) as refused:
        update_terms(db.session, world.researcher, deal.id, agreed_amount_fen=100 * WAN, mode="assignment",
                     inventor_share_bp=share_bp)
    assert refused.value.fields == {"inventor_share": "发明人收益比例应在 0% 到 100% 之间。"}


def test_a_transferor_that_is_not_bound_gives_no_inventors_share(world, make_deal, make_user, make_organisation,
                                                                 make_achievement):
    owner = make_user("researcher", organisation=make_organisation("enterprise"))
    deal = make_deal(DealStage.PRICING, achievement=make_achievement(owner=owner))
    assert fresh(deal).inventor_share_bp is None
    with pytest.raises(ValidationError) as refused:
        update_terms(db.session, owner, deal.id, agreed_amount_fen=100 * WAN, mode="assignment", inventor_share_bp=7000)
    assert refused.value.fields == {"inventor_share": "转让方不是高校或科研院所，无需填写发明人收益比例。"}
    start_notice(db.session, owner, deal.id)
    assert fresh(deal).stage == DealStage.NOTICE
