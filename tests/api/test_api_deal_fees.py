"""The agency's fee (佣金) marked paid or unpaid over the API: only a member of the paying party, once the deal is
signed; a bad amount or date is refused field by field and nothing is stored."""
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from market.deals.models import Deal, DealEvent, DealStage
from market.deals.recording import today
from market.extensions import db
from tests.api_requests import bearer, schema_validator
from tests.conftest import WAN


def post(client, path: str, user, body=None):
    if body is None:
        return client.post(path, headers=bearer(user))
    return client.post(path, data=json.dumps(body), headers={**bearer(user), "Content-Type": "application/json"})


def stored(deal: Deal) -> tuple:
    db.session.expire_all()
    fresh = db.session.get(Deal, deal.id)
    return fresh.fee_paid_fen, fresh.fee_paid_on, fresh.fee_paid_by_id


def fee_events(deal: Deal) -> int:
    return db.session.scalar(select(func.count()).select_from(DealEvent).where(
        DealEvent.deal_id == deal.id, DealEvent.action.in_(("fee_paid", "fee_unpaid"))))


@pytest.fixture
def signed(deal_world, make_deal):
    """A signed deal whose transferee pays a 5% fee (¥50,000 of ¥1M)."""
    deal = make_deal(DealStage.SIGNED)
    db.session.execute(db.update(Deal).where(Deal.id == deal.id).values(fee_rate_bp=500, fee_payer="transferee"))
    db.session.commit()
    return deal


def test_a_member_of_the_paying_party_marks_the_fee_paid_and_unpaid(client, deal_world, signed):
    path = f"/api/v1/deals/{signed.id}/fee/paid"
    answer = post(client, path, deal_world.buyer, {"amount_fen": 5 * WAN, "date": today().isoformat()})
    assert answer.status_code == 200, answer.get_json()
    page = answer.get_json()
    schema_validator("DealDetail").validate(page)
    assert (page["fee"]["paid_fen"], page["fee"]["paid_on"], page["fee"]["paid_by"]["id"]) == (
        5 * WAN, today().isoformat(), deal_world.buyer.id)
    assert stored(signed) == (5 * WAN, today(), deal_world.buyer.id) and fee_events(signed) == 1
    unpaid = post(client, f"/api/v1/deals/{signed.id}/fee/unpaid", deal_world.buyer)
    assert unpaid.status_code == 200 and unpaid.get_json()["fee"]["paid_fen"] is None
    assert stored(signed) == (None, None, None)
    again = post(client, f"/api/v1/deals/{signed.id}/fee/unpaid", deal_world.buyer)
    assert again.status_code == 409 and again.get_json()["message"] == "佣金尚未标记为已支付。"


@pytest.mark.parametrize("who, status", [("broker", 403), ("researcher", 403), ("admin", 403), ("outsider", 404)])
def test_only_the_paying_party_marks_the_fee(client, deal_world, signed, who, status):
    person = getattr(deal_world, who)
    answer = post(client, f"/api/v1/deals/{signed.id}/fee/paid", person,
                  {"amount_fen": 5 * WAN, "date": today().isoformat()})
    assert answer.status_code == status, answer.get_json()
    if status == 403:
        assert answer.get_json()["message"] == "佣金由支付方（受让方）的成员标记。"
    assert post(client, f"/api/v1/deals/{signed.id}/fee/unpaid", person).status_code == status
    assert stored(signed) == (None, None, None) and fee_events(signed) == 0


@pytest.mark.parametrize("body, field, message", [
    ({"amount_fen": 0, "date": "2025-01-01"}, "amount_fen", None),
    ({"amount_fen": "50000", "date": "2025-01-01"}, "amount_fen", None),
    ({"amount_fen": 5.5, "date": "2025-01-01"}, "amount_fen", None),
    ({"date": "2025-01-01"}, "amount_fen", "此项必填。"),
    ({"amount_fen": 5 * WAN, "date": "2025-02-30"}, "date", "日期格式应为 YYYY-MM-DD。"),
    ({"amount_fen": 5 * WAN, "date": "tomorrow"}, "date", None),
    ({"amount_fen": 5 * WAN}, "date", "此项必填。"),
    ({"amount_fen": 5 * WAN, "date": "FUTURE"}, "date", "支付日期不能晚于今天。"),
    ({"amount_fen": 5 * WAN, "date": "2025-01-01", "note": "x"}, "note", None),
])
def test_a_bad_amount_or_date_is_refused_with_its_field_and_nothing_is_stored(client, deal_world, signed, body, field,
                                                                              message):
    if body.get("date") == "FUTURE":
        body = {**body, "date": (today() + timedelta(days=1)).isoformat()}
    answer = post(client, f"/api/v1/deals/{signed.id}/fee/paid", deal_world.buyer, body)
    assert answer.status_code == 422, answer.get_json()
    error = answer.get_json()
    assert list(error["fields"]) == [field] and error["message"]
    if message is not None:
        assert error["fields"][field] == message
    assert stored(signed) == (None, None, None) and fee_events(signed) == 0


def test_a_body_that_is_no_json_object_is_a_bad_request(client, deal_world, signed):
    answer = client.post(f"/api/v1/deals/{signed.id}/fee/paid", data=b"{amount_fen: 1",
                         headers={**bearer(deal_world.buyer), "Content-Type": "application/json"})
    assert answer.status_code == 400 and answer.get_json()["message"]
    assert stored(signed) == (None, None, None)


def test_the_fee_is_marked_only_once_signed_and_only_when_agreed(client, deal_world, make_deal):
    deal = make_deal(DealStage.NOTICE)
    body = {"amount_fen": 5 * WAN, "date": today().isoformat()}
    assert post(client, f"/api/v1/deals/{deal.id}/fee/paid", deal_world.buyer, body).status_code == 409
    db.session.execute(db.update(Deal).where(Deal.id == deal.id).values(fee_rate_bp=500, fee_payer="transferee"))
    db.session.commit()
    refused = post(client, f"/api/v1/deals/{deal.id}/fee/paid", deal_world.buyer, body)
    assert refused.status_code == 409 and refused.get_json()["message"] == "签约后才能标记佣金支付。"
    assert stored(deal) == (None, None, None)
