"""The deal page's terms: the version with who accepted and who must still, the accept button for whoever must, and
the withdraw-notice form during the notice."""
import re

import pytest
from sqlalchemy import select

from market.deals.models import Deal, DealEvent, DealStage
from market.deals.permissions import missing_terms_seats
from market.extensions import db
from tests.conftest import client_for
from tests.views.test_deal_views import accept_shown_terms, flashed_after, page_of

WAN = 1_000_000


@pytest.fixture
def world(app, deal_world):
    deal_world.app = app
    return deal_world


def fresh(deal_id: int) -> Deal:
    db.session.expire_all()
    return db.session.get(Deal, deal_id)


def acceptance_panel(page: str) -> str:
    return re.search(r'id="terms-acceptance">(.*?)</dd>', page, re.DOTALL).group(1)


def test_the_page_shows_the_version_who_accepted_and_offers_the_button_only_to_who_must(world, make_deal):
    deal = make_deal(DealStage.PRICING, intermediaries=[(world.other_broker, 10000)], reward_rate_bp=1000,
                     terms_accepted=False)
    version = fresh(deal.id).terms_version
    owner, buyer = client_for(world.app, world.researcher), client_for(world.app, world.buyer)
    panel = acceptance_panel(page_of(buyer.get(f"/deals/{deal.id}")))
    assert f"第 {version} 版" in panel
    assert re.search(r"转让方：.*?已确认.*?" + world.researcher.name, panel, re.DOTALL)
    assert re.search(r"受让方：\s*<span[^>]*>待确认", panel)
    assert re.search(rf"中介服务人员{world.other_broker.name}：\s*<span[^>]*>待确认", panel)
    assert 'id="accept-terms"' in page_of(buyer.get(f"/deals/{deal.id}"))
    assert 'id="accept-terms"' not in page_of(owner.get(f"/deals/{deal.id}")), "the transferor already accepted"
    assert 'id="accept-terms"' not in page_of(client_for(world.app, world.broker).get(f"/deals/{deal.id}"))
    assert "已确认交易条件" in accept_shown_terms(buyer, deal.id)
    assert 'id="accept-terms"' not in page_of(buyer.get(f"/deals/{deal.id}"))
    assert "已确认交易条件" in accept_shown_terms(client_for(world.app, world.other_broker), deal.id)
    assert missing_terms_seats(fresh(deal.id)) == []


def test_a_page_showing_old_terms_cannot_accept_the_new_ones(world, make_deal):
    deal = make_deal(DealStage.PRICING, terms_accepted=False)
    buyer, broker = client_for(world.app, world.buyer), client_for(world.app, world.broker)
    page = page_of(buyer.get(f"/deals/{deal.id}"))
    shown = re.search(r'id="accept-terms".*?name="version" value="(\d+)"', page, re.DOTALL).group(1)
    changed = broker.post(f"/deals/{deal.id}/terms", data={"agreed_amount_fen": "150", "mode": "assignment",
                                                            "inventor_share": "70"})
    assert "交易条件已更新" in flashed_after(broker, changed)
    stale = flashed_after(buyer, buyer.post(f"/deals/{deal.id}/terms/accept", data={"version": shown}))
    assert f"交易条件已变更为第 {int(shown) + 1} 版（您确认的是第 {shown} 版），请查看最新条件后再确认。" in stale
    assert (fresh(deal.id).agreed_amount_fen, missing_terms_seats(fresh(deal.id))[-1][0]) == (150 * WAN, "transferee")
    for bad in ("", "abc", "0"):
        response = buyer.post(f"/deals/{deal.id}/terms/accept", data={"version": bad})
        assert response.status_code in (302, 422) and response.status_code != 500
        assert len(missing_terms_seats(fresh(deal.id))) == 2


def test_an_outsider_cannot_accept_terms_through_the_page(world, make_deal):
    deal = make_deal(DealStage.PRICING, terms_accepted=False)
    waiting = missing_terms_seats(fresh(deal.id))
    outsider = client_for(world.app, world.outsider)
    assert outsider.post(f"/deals/{deal.id}/terms/accept", data={"version": "1"}).status_code == 404
    other_broker = client_for(world.app, world.other_broker)
    refused = other_broker.post(f"/deals/{deal.id}/terms/accept", data={"version": str(fresh(deal.id).terms_version)})
    assert refused.status_code == 403 and "只有项目双方的成员和指名的中介服务人员可以确认交易条件" in page_of(refused)
    assert missing_terms_seats(fresh(deal.id)) == waiting


def test_the_notice_is_withdrawn_from_the_page_with_a_reason_and_the_terms_reopen(world, make_deal):
    deal = make_deal(DealStage.NOTICE)
    owner, broker = client_for(world.app, world.researcher), client_for(world.app, world.broker)
    page = page_of(owner.get(f"/deals/{deal.id}"))
    assert 'id="withdraw-notice"' in page and "公示期间交易条件已锁定" in page
    assert f'action="/deals/{deal.id}/terms"' not in page and f'action="/deals/{deal.id}/intermediaries"' not in page
    assert 'id="withdraw-notice"' not in page_of(broker.get(f"/deals/{deal.id}"))
    locked = flashed_after(broker, broker.post(f"/deals/{deal.id}/terms", data={
        "agreed_amount_fen": "90", "mode": "assignment", "inventor_share": "70"}))
    assert "公示后交易条件已锁定" in locked
    empty = owner.post(f"/deals/{deal.id}/notice/withdraw", data={"reason": " "})
    assert empty.status_code == 422 and "请填写撤回公示的原因。" in page_of(empty)
    assert fresh(deal.id).stage == DealStage.NOTICE
    refused = broker.post(f"/deals/{deal.id}/notice/withdraw", data={"reason": "重新议价"})
    assert refused.status_code == 403 and "只有项目双方可以撤回公示" in page_of(refused)
    assert fresh(deal.id).stage == DealStage.NOTICE
    page = flashed_after(owner, owner.post(f"/deals/{deal.id}/notice/withdraw", data={"reason": "受让方要求重新议价"}))
    assert "公示已撤回，可修改交易条件后重新公示" in page and "受让方要求重新议价" in page
    assert f'action="/deals/{deal.id}/terms"' in page
    assert fresh(deal.id).stage == DealStage.PRICING
    assert db.session.scalars(select(DealEvent.action).where(DealEvent.deal_id == deal.id)
                              .order_by(DealEvent.id.desc())).first() == "notice_withdrawn"
    changed = owner.post(f"/deals/{deal.id}/terms", data={"agreed_amount_fen": "90", "mode": "assignment",
                                                          "inventor_share": "70"})
    assert "交易条件已更新" in flashed_after(owner, changed)
    again = flashed_after(owner, owner.post(f"/deals/{deal.id}/notice", data={"notice_days": "15"}))
    assert "交易条件尚未经双方确认：受让方尚未确认" in again
