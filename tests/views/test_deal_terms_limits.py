"""The deal page's terms and intermediaries forms under the policy limits: the reward rate maximum in force and the
inventors' share of a university's or institute's net income."""
import html
from datetime import date

import pytest

from market.deals.models import Deal, DealStage
from market.extensions import db
from tests.conftest import client_for, deal_clock
from tests.views.test_deal_views import field_message, flashed_after, page_of


@pytest.fixture
def world(app, deal_world):
    deal_world.app = app
    return deal_world


def stored(deal: Deal) -> Deal:
    db.session.expire_all()
    return db.session.get(Deal, deal.id)


def test_a_reward_rate_above_the_maximum_is_refused_next_to_the_field(world, make_deal):
    deal = make_deal(DealStage.NEGOTIATION, intermediaries=[(world.broker, 10000)], reward_rate_bp=1000)
    client = client_for(world.app, world.buyer)
    with deal_clock(date(2027, 1, 2)):
        response = client.post(f"/deals/{deal.id}/intermediaries",
                               data={"intermediary_1": str(world.broker.id), "reward_rate": "30.01"})
        page = page_of(response)
        assert response.status_code == 422
        assert field_message(page, "reward_rate") == "奖励比例不得超过 30%（现行规则：中介服务利益共享奖励，2027.1 版）。"
        assert 'id="reward-rate-limit"' in page
    assert stored(deal).reward_rate_bp == 1000


def test_before_2027_the_page_shows_no_maximum(world, make_deal):
    deal = make_deal(DealStage.NEGOTIATION)
    client = client_for(world.app, world.researcher)
    with deal_clock(date(2026, 12, 31)):
        assert 'id="reward-rate-limit"' not in page_of(client.get(f"/deals/{deal.id}"))
    with deal_clock(date(2027, 1, 1)):
        assert "奖励比例不得超过 30%（现行规则：中介服务利益共享奖励，2027.1 版）。" in page_of(client.get(f"/deals/{deal.id}"))


def test_a_university_deal_shows_the_inventors_share_in_its_terms(world, make_deal):
    deal = make_deal(DealStage.PRICING, inventor_share_bp=None)
    client = client_for(world.app, world.researcher)
    page = page_of(client.get(f"/deals/{deal.id}"))
    assert 'name="inventor_share"' in page and "未填写（公示前须填写）" in page

    response = client.post(f"/deals/{deal.id}/terms", data={"agreed_amount_fen": "100", "mode": "assignment",
                                                            "inventor_share": "49"})
    assert response.status_code == 422
    assert field_message(page_of(response), "inventor_share") == (
        "成果完成人（团队）所得比例 49% 低于法定下限 50%（《促进科技成果转化法》第四十五条），该分配方案不合规。")
    assert stored(deal).inventor_share_bp is None

    response = client.post(f"/deals/{deal.id}/notice", data={"notice_days": "15"})
    assert response.status_code == 422
    assert "请先在交易条件中填写发明人（团队）收益比例" in html.unescape(page_of(response))
    assert stored(deal).stage == DealStage.PRICING

    response = client.post(f"/deals/{deal.id}/terms", data={"agreed_amount_fen": "100", "mode": "assignment",
                                                            "inventor_share": "６０%"})
    page = html.unescape(flashed_after(client, response))
    warning = "成果完成人（团队）所得比例 60% 低于山西省公立单位应达到的 70%，请核实。"
    assert "交易条件已更新。" + warning in page
    shown = page[page.index('id="inventor-share"'):]
    assert shown.startswith('id="inventor-share">60%') and warning in shown
    assert stored(deal).inventor_share_bp == 6000


def test_other_transferors_do_not_see_the_inventors_share(world, make_deal, make_user, make_organisation,
                                                          make_achievement):
    owner = make_user("researcher", organisation=make_organisation("enterprise"))
    deal = make_deal(DealStage.PRICING, achievement=make_achievement(owner=owner))
    page = page_of(client_for(world.app, owner).get(f"/deals/{deal.id}"))
    assert "修改交易条件" in page
    assert 'name="inventor_share"' not in page and 'id="inventor-share"' not in page
