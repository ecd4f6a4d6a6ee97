"""The deal page's signing (recorded by the transferor or the broker, confirmed or disputed by the transferee), the
agency fee in the terms and on the broker's money page, and the notice button that waits for every acceptance."""
import re

import pytest
from sqlalchemy import select

from market.deals import recording as deal_recording
from market.deals.models import Deal, DealSigning, DealStage
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


def signing_of(deal_id: int) -> DealSigning:
    db.session.expire_all()
    return db.session.scalars(select(DealSigning).where(DealSigning.deal_id == deal_id)
                              .order_by(DealSigning.id.desc())).first()


def sign_through_the_page(client, deal_id: int) -> str:
    today = deal_recording.today().isoformat()
    return flashed_after(client, client.post(f"/deals/{deal_id}/sign",
                                             data={"signed_on": today, "agreed_amount_fen": "100"}))


def test_the_broker_records_and_the_transferee_disputes_with_a_reason_everyone_sees(world, make_deal):
    deal = make_deal(DealStage.NOTICE)
    broker, buyer = client_for(world.app, world.broker), client_for(world.app, world.buyer)
    sign_form = f'action="/deals/{deal.id}/sign"'
    assert sign_form in page_of(broker.get(f"/deals/{deal.id}"))
    assert sign_form not in page_of(buyer.get(f"/deals/{deal.id}")), "the transferee confirms, it does not record"
    page = sign_through_the_page(broker, deal.id)
    assert "签约已登记，待受让方确认" in page and 'id="signing"' in page and "待受让方确认。" in page
    signing = signing_of(deal.id)
    assert f"/deals/signings/{signing.id}/confirm" not in page and f"/deals/signings/{signing.id}/withdraw" in page
    owner_page = page_of(client_for(world.app, world.researcher).get(f"/deals/{deal.id}"))
    assert f"/deals/signings/{signing.id}/confirm" not in owner_page
    assert sign_form not in owner_page, "no second signing while one is open"
    buyer_page = page_of(buyer.get(f"/deals/{deal.id}"))
    assert f"/deals/signings/{signing.id}/confirm" in buyer_page and f"/deals/signings/{signing.id}/dispute" in buyer_page
    refused = flashed_after(broker, broker.post(f"/deals/signings/{signing.id}/confirm", data={"reason": ""}))
    assert "不能确认自己登记的记录" in refused
    empty = flashed_after(buyer, buyer.post(f"/deals/signings/{signing.id}/dispute", data={"reason": " "}))
    assert "请说明理由" in empty and signing_of(deal.id).status == "recorded"
    disputed = flashed_after(buyer, buyer.post(f"/deals/signings/{signing.id}/dispute",
                                               data={"reason": "合同尚未盖章"}))
    assert "已对签约记录提出异议" in disputed
    owner_page = page_of(client_for(world.app, world.researcher).get(f"/deals/{deal.id}"))
    assert "异议：合同尚未盖章" in owner_page
    assert fresh(deal.id).stage == DealStage.NOTICE
    withdrawn = flashed_after(broker, broker.post(f"/deals/signings/{signing.id}/withdraw", data={"reason": ""}))
    assert "签约记录已撤回，可重新登记" in withdrawn
    sign_through_the_page(broker, deal.id)
    again = signing_of(deal.id)
    confirmed = flashed_after(buyer, buyer.post(f"/deals/signings/{again.id}/confirm", data={"reason": ""}))
    assert "签约已确认" in confirmed
    assert (fresh(deal.id).stage, fresh(deal.id).signed_on) == (DealStage.SIGNED, deal_recording.today())


def test_an_unknown_signing_decision_is_not_found(world, make_deal):
    deal = make_deal(DealStage.NOTICE)
    broker = client_for(world.app, world.broker)
    sign_through_the_page(broker, deal.id)
    assert broker.post(f"/deals/signings/{signing_of(deal.id).id}/approve", data={}).status_code == 404


def test_the_notice_button_waits_until_everyone_accepted_the_terms(world, make_deal):
    deal = make_deal(DealStage.PRICING, intermediaries=[(world.other_broker, 10000)], reward_rate_bp=1000,
                     terms_accepted=False)
    owner = client_for(world.app, world.researcher)
    page = page_of(owner.get(f"/deals/{deal.id}"))
    notice_form = f'action="/deals/{deal.id}/notice"'
    assert notice_form not in page
    waiting = re.search(r'id="notice-awaits-terms">(.*?)</p>', page, re.DOTALL).group(1)
    assert "受让方" in waiting and f"中介服务人员{world.other_broker.name}" in waiting and "转让方" not in waiting
    for person in (world.buyer, world.other_broker):
        accept_shown_terms(client_for(world.app, person), deal.id)
    page = page_of(owner.get(f"/deals/{deal.id}"))
    assert notice_form in page and 'id="notice-awaits-terms"' not in page


def test_the_fee_is_set_with_the_terms_marked_paid_by_the_payer_and_shown_to_the_broker(world, make_deal):
    deal = make_deal(DealStage.PRICING)
    broker = client_for(world.app, world.broker)
    version = fresh(deal.id).terms_version
    refused = flashed_after(broker, broker.post(f"/deals/{deal.id}/fee", data={"fee_rate": "5", "fee_payer": ""}))
    assert "请选择支付佣金的一方" in refused and fresh(deal.id).fee_rate_bp is None
    saved = flashed_after(broker, broker.post(f"/deals/{deal.id}/fee", data={"fee_rate": "5",
                                                                           "fee_payer": "transferee"}))
    assert "佣金已保存" in saved
    fee = re.search(r'id="fee">(.*?)</dd>', saved, re.DOTALL).group(1)
    assert "合同金额的 5%，由受让方支付" in fee and "应付 ¥50,000.00" in fee and "未支付" in fee
    assert fresh(deal.id).terms_version == version + 1
    money = page_of(broker.get("/money/mine"))
    assert 'id="fees"' in money and deal.title in money and "未支付" in money
    signed = make_deal(DealStage.SIGNED)
    broker.post(f"/deals/{signed.id}/fee", data={"fee_rate": "5", "fee_payer": "transferee"})
    db.session.execute(db.update(Deal).where(Deal.id == signed.id).values(fee_fixed_fen=3 * WAN, fee_rate_bp=None,
                                                                           fee_payer="transferee"))
    db.session.commit()
    owner = client_for(world.app, world.researcher)
    assert "/fee/paid" not in page_of(owner.get(f"/deals/{signed.id}")), "only the paying party marks the fee"
    buyer = client_for(world.app, world.buyer)
    assert f"/deals/{signed.id}/fee/paid" in page_of(buyer.get(f"/deals/{signed.id}"))
    paid = flashed_after(buyer, buyer.post(f"/deals/{signed.id}/fee/paid", data={
        "amount_fen": "3", "paid_on": deal_recording.today().isoformat()}))
    assert "佣金已标记为已支付" in paid and "已支付 ¥30,000.00" in paid
    money = page_of(broker.get("/money/mine"))
    row = re.search(rf'deals/{signed.id}#fee">.*?</tr>', money, re.DOTALL).group(0)
    assert "固定金额 ¥30,000.00，由受让方支付" in row and "已支付" in row
    assert 'id="fees"' not in page_of(buyer.get("/money/mine"))
