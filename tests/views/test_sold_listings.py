"""Pages of a sold achievement and of confidential access: who sees what on the detail page, the confidentiality
statement, the owner's grant list and revocation, the success cases and the home page count, the re-licensing
warning on a bid."""
import html
import re

import pytest
from sqlalchemy import func, select

from market.deals.bids import place_bid
from market.deals.models import Deal, DealStage
from market.extensions import db
from market.listings.models import ConfidentialGrant, ConfidentialityAcknowledgement, ListingEvent
from tests.conftest import client_for

WAN = 1_000_000
SECRET = "吸附剂配方与切换时序参数。"
HINT = "更多技术细节在双方建立对接后可见。"
STATEMENT = "我已阅读并同意上述保密声明"


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def sold(deal_world, make_deal):
    """The deal world once an exclusive licence of its achievement completed, with its broker."""
    make_deal(DealStage.COMPLETED, mode="license_exclusive")
    return deal_world


def test_each_viewer_sees_what_they_should_on_a_sold_achievement(app, sold):
    world = sold
    path = f"/achievements/{world.achievement.id}"
    for viewer in (None, world.outsider, world.other_broker):
        text = page(client_for(app, viewer), path)
        assert world.achievement.title in text and "已成交" in text and "成功案例" in text
        assert HINT in text and SECRET not in text and STATEMENT not in text
    owner = page(client_for(app, world.researcher), path)
    assert SECRET in owner and "可查看保密信息的对接方" in owner and world.buyer.organisation.name in owner

    for party in (world.buyer, world.broker):
        client = client_for(app, party)
        before = page(client, path)
        assert STATEMENT in before and SECRET not in before
        refused = client.post(f"/listings/achievement/{world.achievement.id}/confidentiality", data={})
        assert refused.status_code == 302
        assert SECRET not in page(client, path)
        accepted = client.post(f"/listings/achievement/{world.achievement.id}/confidentiality",
                               data={"accepted": "y"})
        assert accepted.status_code == 302
        after = page(client, path)
        assert SECRET in after and STATEMENT not in after
    assert db.session.scalar(select(func.count()).select_from(ConfidentialityAcknowledgement)) == 2


def test_the_owner_revokes_a_grant_from_the_detail_page(app, deal_world, make_deal):
    world = deal_world
    make_deal(DealStage.INTENT, broker=None)
    buyer = client_for(app, world.buyer)
    buyer.post(f"/listings/achievement/{world.achievement.id}/confidentiality", data={"accepted": "y"})
    path = f"/achievements/{world.achievement.id}"
    assert SECRET in page(buyer, path)
    grant = db.session.scalar(select(ConfidentialGrant))
    assert client_for(app, world.outsider).post(f"/listings/grants/{grant.id}/revoke").status_code == 404
    owner = client_for(app, world.researcher)
    assert "撤销权限" in page(owner, path)
    response = owner.post(f"/listings/grants/{grant.id}/revoke")
    assert response.status_code == 302 and response.headers["Location"] == path
    assert "已撤销" in page(owner, path)
    assert SECRET not in page(buyer, path) and HINT in page(buyer, path)


def test_the_success_cases_list_the_sold_achievements_the_home_page_counts(app, sold, make_achievement):
    world = sold
    make_achievement(title="仍在对接的成果")
    visitor = client_for(app, None)
    cases = page(visitor, "/achievements?sold=1")
    assert world.achievement.title in cases and "仍在对接的成果" not in cases and "共 1 条" in cases
    offered = page(visitor, "/achievements")
    assert world.achievement.title not in offered and "仍在对接的成果" in offered
    home = page(visitor, "/")
    link = re.search(r'href="/achievements\?sold=1"><div class="stat text-brand">(\d+)</div>', home)
    assert link is not None and link.group(1) == "1"
    bad = visitor.get("/achievements?sold=2")
    assert bad.status_code == 200 and "无效的选项" in bad.get_data(as_text=True)


def test_a_followed_listing_stays_in_the_followers_workspace_after_the_deal(app, deal_world, make_deal):
    world = deal_world
    follower = client_for(app, world.outsider)
    follower.post(f"/listings/achievement/{world.achievement.id}/follow")
    make_deal(DealStage.COMPLETED, mode="license_exclusive")
    assert world.achievement.title in page(follower, "/workspace")


def test_the_bid_page_warns_before_licensing_again_what_was_transferred_outright(app, deal_world, make_deal,
                                                                                 make_user):
    world = deal_world
    transfer = make_deal(DealStage.SIGNED, mode="assignment")
    bid = place_bid(db.session, make_user("enterprise"), world.achievement.id, amount_fen=30 * WAN,
                    mode="license_exclusive")
    db.session.commit()
    owner = client_for(app, world.researcher)
    text = page(owner, f"/deals/bids/{bid.id}")
    assert f"项目 #{transfer.id}" in text and "我确认本机构仍有权再次许可该成果" in text
    refused = owner.post(f"/deals/bids/{bid.id}/accept", data={"version": "1"})
    assert refused.status_code == 302 and refused.headers["Location"] == f"/deals/bids/{bid.id}"
    assert "整体转让" in page(owner, f"/deals/bids/{bid.id}")
    assert db.session.scalar(select(func.count()).select_from(Deal)) == 1
    accepted = owner.post(f"/deals/bids/{bid.id}/accept", data={"version": "1", "confirm_relicense": "y"})
    assert accepted.status_code == 302 and accepted.headers["Location"].startswith("/deals/")
    assert db.session.scalar(select(func.count()).select_from(Deal)) == 2
    assert db.session.scalar(select(ListingEvent.actor_id).where(ListingEvent.action == "relicense")) == \
        world.researcher.id
