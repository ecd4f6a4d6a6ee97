"""Introduction pages: the 引荐 action on match lists and the board, proposing, both sides answering into a deal,
declines with a reason on introductions, bids and responses, and the lists."""
import html
import re

import pytest
from sqlalchemy import func, select

from market.deals.bids import place_bid
from market.deals.introductions import propose_introduction
from market.deals.models import Bid, Deal, DealStage, DemandResponse, Introduction
from market.deals.responses import respond_to_demand
from market.extensions import db
from tests.conftest import HYDROGEN, HYDROGEN_NEED, client_for


def page_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def flashed_after(client, response) -> str:
    assert response.status_code == 302, page_of(response)[:2000]
    return page_of(client.get(response.headers["Location"]))


@pytest.fixture
def pair(app, make_user, make_achievement, make_demand):
    researcher, buyer = make_user("researcher"), make_user("enterprise")
    return (make_achievement(owner=researcher, **HYDROGEN), make_demand(owner=buyer, **HYDROGEN_NEED),
            researcher, buyer, make_user("broker"))


def test_a_broker_introduces_from_the_match_list_and_both_sides_accept(app, pair):
    achievement, demand, researcher, buyer, broker = pair
    agent = client_for(app, broker)
    link = f"/introductions/new/{achievement.id}?demand_id={demand.id}"
    assert link.replace("&", "&amp;") in agent.get(f"/demands/{demand.id}/matches").get_data(as_text=True)
    assert link.replace("&", "&amp;") in agent.get("/matches?days=365&min_score=1").get_data(as_text=True)
    owner = client_for(app, researcher)
    assert "/introductions/new/" not in owner.get(f"/achievements/{achievement.id}/matches").get_data(as_text=True)

    form = page_of(agent.get(link))
    assert achievement.title in form and demand.title in form
    sent = agent.post(link, data={"demand_id": str(demand.id), "note": "双方都在做焦炉煤气制氢"})
    assert "引荐已发送" in flashed_after(agent, sent)
    introduction = db.session.scalar(select(Introduction))

    page = page_of(owner.get("/introductions?box=awaiting"))
    assert achievement.title in page
    assert "接受引荐" in page_of(owner.get(f"/introductions/{introduction.id}"))
    assert "已接受引荐" in flashed_after(owner, owner.post(f"/introductions/{introduction.id}/accept"))
    company = client_for(app, buyer)
    accepted = company.post(f"/introductions/{introduction.id}/accept")
    deal = db.session.scalar(select(Deal))
    assert accepted.headers["Location"] == f"/deals/{deal.id}"
    assert (deal.stage, deal.broker_id) == (DealStage.INTENT, broker.id)
    assert "进入成果转化项目" in page_of(agent.get(f"/introductions/{introduction.id}"))


def test_an_achievement_goes_to_a_chosen_enterprise(app, pair, make_user):
    achievement, _demand, _researcher, _buyer, broker = pair
    company = make_user("enterprise")
    agent = client_for(app, broker)
    assert f'href="/introductions/new/{achievement.id}"' in page_of(agent.get(f"/achievements/{achievement.id}"))
    assert company.organisation.name in page_of(agent.get(f"/introductions/new/{achievement.id}"))
    missing = agent.post(f"/introductions/new/{achievement.id}", data={"organisation_id": ""})
    assert missing.status_code == 422 and "请选择技术需求或企业" in page_of(missing)
    garbage = agent.post(f"/introductions/new/{achievement.id}", data={"organisation_id": "１２"})
    assert garbage.status_code == 422
    sent = agent.post(f"/introductions/new/{achievement.id}", data={"organisation_id": str(company.organisation_id)})
    assert "引荐已发送" in flashed_after(agent, sent)
    assert db.session.scalar(select(Introduction.transferee_id)) == company.organisation_id


def test_a_broker_proposing_his_own_organisations_listing_sees_why(app, pair, make_user, make_achievement):
    _achievement, demand, _researcher, _buyer, broker = pair
    own = make_achievement(owner=make_user("researcher", organisation=broker.organisation))
    agent = client_for(app, broker)
    refused = agent.post(f"/introductions/new/{own.id}?demand_id={demand.id}", data={"demand_id": str(demand.id)})
    assert refused.status_code == 422 and "不能引荐本机构的成果或需求" in page_of(refused)
    assert db.session.scalar(select(func.count()).select_from(Introduction)) == 0


def test_a_decline_shows_its_reason_to_the_broker_and_the_other_side(app, pair):
    achievement, demand, researcher, buyer, broker = pair
    introduction = propose_introduction(db.session, broker, achievement_id=achievement.id, demand_id=demand.id)
    db.session.commit()
    company = client_for(app, buyer)
    page = page_of(company.get(f"/introductions/{introduction.id}"))
    assert "拒绝引荐" in page and "技术方向不匹配" in page
    empty = company.post(f"/introductions/{introduction.id}/decline", data={"reason": ""})
    assert "请选择拒绝原因" in flashed_after(company, empty)
    other = company.post(f"/introductions/{introduction.id}/decline", data={"reason": "other", "note": ""})
    assert "选择“其他”时请填写说明" in flashed_after(company, other)
    declined = company.post(f"/introductions/{introduction.id}/decline",
                            data={"reason": "other_partner", "note": "已与另一家签约"})
    assert "已拒绝该引荐" in flashed_after(company, declined)
    for user in (broker, researcher):
        page = page_of(client_for(app, user).get(f"/introductions/{introduction.id}"))
        assert "已有其他合作方" in page and "已与另一家签约" in page


def test_bid_and_response_declines_take_a_reason_shown_to_the_other_side(app, pair, make_user):
    achievement, demand, researcher, buyer, _broker = pair
    bid = place_bid(db.session, buyer, achievement.id, amount_fen=1_000_000, mode="assignment")
    responder = make_user("researcher")
    response = respond_to_demand(db.session, responder, demand.id, proposal="方案")
    db.session.commit()
    owner = client_for(app, researcher)
    assert 'name="reason"' in page_of(owner.get(f"/deals/bids/{bid.id}"))
    refused = owner.post(f"/deals/bids/{bid.id}/decline", data={"reason": "bogus"})
    assert "未能拒绝" in flashed_after(owner, refused)
    assert db.session.get(Bid, bid.id).status == "open"
    owner.post(f"/deals/bids/{bid.id}/decline", data={"reason": "price", "note": "低于底价"})
    assert re.search("价格或条件不合适.*低于底价", page_of(client_for(app, buyer).get(f"/deals/bids/{bid.id}")))

    company = client_for(app, buyer)
    company.post(f"/deals/responses/{response.id}/decline", data={"reason": "timing"})
    db.session.expire_all()
    assert db.session.get(DemandResponse, response.id).decline_reason == "timing"
    assert "时机不合适" in page_of(client_for(app, responder).get(f"/deals/responses/{response.id}"))


def test_the_list_badge_names_the_side_still_awaited_once_one_side_accepted(app, pair):
    achievement, demand, researcher, buyer, broker = pair
    introduction = propose_introduction(db.session, broker, achievement_id=achievement.id, demand_id=demand.id)
    db.session.commit()
    agent = client_for(app, broker)
    assert "待双方确认" in page_of(agent.get("/introductions?box=mine"))

    owner = client_for(app, researcher)
    assert "已接受引荐" in flashed_after(owner, owner.post(f"/introductions/{introduction.id}/accept"))
    listed = page_of(agent.get("/introductions?box=mine"))
    assert "待需求方确认" in listed and "待双方确认" not in listed
    assert "待成果方确认" not in listed
    awaiting = page_of(client_for(app, buyer).get("/introductions?box=awaiting"))
    assert achievement.title in awaiting and "待需求方确认" in awaiting


def test_the_lists_render_for_each_box(app, pair):
    achievement, demand, researcher, _buyer, broker = pair
    propose_introduction(db.session, broker, achievement_id=achievement.id, demand_id=demand.id)
    db.session.commit()
    agent = client_for(app, broker)
    assert achievement.title in page_of(agent.get("/introductions"))
    assert "没有等待贵机构答复的引荐" in page_of(agent.get("/introductions?box=awaiting"))
    assert achievement.title in page_of(agent.get("/introductions?box=bogus"))
    owner = client_for(app, researcher)
    assert achievement.title in page_of(owner.get("/introductions"))
    assert "/introductions" in page_of(owner.get("/deals"))


def test_the_owner_accepts_an_introduction_of_an_achievement_transferred_outright_by_ticking_the_warning(
        app, deal_world, make_deal, make_user, make_demand):
    sold = make_deal(DealStage.SIGNED, mode="assignment", broker=None)
    company = make_user("enterprise")
    demand = make_demand(owner=company, modes=["license_exclusive"])
    introduction = propose_introduction(db.session, make_user("broker"), achievement_id=deal_world.achievement.id,
                                        demand_id=demand.id)
    db.session.commit()
    warning = f"该成果已通过项目 #{sold.id} 整体转让给 {sold.transferee.name}。再次许可可能侵犯受让方的权利。"
    other = page_of(client_for(app, company).get(f"/introductions/{introduction.id}"))
    assert warning in other and 'name="confirm_relicense"' not in other
    assert "须由成果方接受时确认本机构仍有权再次许可，才能创建项目。" in other
    owner = client_for(app, deal_world.researcher)
    page = page_of(owner.get(f"/introductions/{introduction.id}"))
    assert warning in page and 'name="confirm_relicense"' in page and "我确认本机构仍有权再次许可该成果" in page
    unticked = flashed_after(owner, owner.post(f"/introductions/{introduction.id}/accept"))
    assert "再次许可前请确认本机构仍有权处分该成果，并勾选确认。" in unticked
    db.session.expire_all()
    assert db.session.get(Introduction, introduction.id).transferor_accepted_by_id is None
    ticked = owner.post(f"/introductions/{introduction.id}/accept", data={"confirm_relicense": "y"})
    assert "已接受引荐" in flashed_after(owner, ticked)
    db.session.expire_all()
    stored = db.session.get(Introduction, introduction.id)
    assert stored.transferor_accepted_by_id == deal_world.researcher.id and stored.relicense_confirmed_at is not None
    accepted = client_for(app, company).post(f"/introductions/{introduction.id}/accept")
    db.session.expire_all()
    deal_id = db.session.get(Introduction, introduction.id).deal_id
    assert deal_id is not None and accepted.headers["Location"] == f"/deals/{deal_id}"
