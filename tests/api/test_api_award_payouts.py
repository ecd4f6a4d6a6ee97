"""POST /api/v1/awards/<id>/pay takes the voucher reference and the payout date in its JSON body; GET /api/v1/awards
shows them, and awards granted ¥0 as nil."""
from datetime import date, timedelta

import pytest

from market.accounts.models import VerificationStatus
from market.api.openapi import openapi_document
from market.awards import services as award_services
from market.awards.grants import record_startup_grant
from market.awards.models import Award, AwardStatus
from market.extensions import db
from market.timeutil import today_in_china
from tests.api_requests import bearer, schema_validator
from tests.payments import record_and_confirm_deal_payment

WAN = 1_000_000


@pytest.fixture
def approved(registered_deal, make_user):
    """A deal's first payable award, approved; with the admin."""
    deal, researcher, _ = registered_deal
    _, awards = record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=date(2025, 4, 30))
    admin = make_user("admin")
    award_services.approve_award(db.session, admin, awards[0].id)
    db.session.commit()
    return awards[0].id, admin


def pay(client, award_id: int, admin, body, key: str = "payout-1"):
    return client.post(f"/api/v1/awards/{award_id}/pay", json=body, headers={**bearer(admin), "Idempotency-Key": key})


def status_of(award_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Award, award_id).status


def test_a_payout_records_the_voucher_and_answers_with_it(client, approved):
    award_id, admin = approved
    today = today_in_china().isoformat()
    response = pay(client, award_id, admin, {"voucher_reference": " BOC-2025-0100 ", "paid_on": today})
    assert response.status_code == 200
    body = response.get_json()
    schema_validator("Award").validate(body)
    assert (body["status"]["code"], body["voucher_reference"], body["paid_on"], body["voucher_file_name"]) == (
        "paid", "BOC-2025-0100", today, None)
    listed = client.get("/api/v1/awards", query_string={"status": "paid"}, headers=bearer(admin)).get_json()
    assert [(item["id"], item["voucher_reference"]) for item in listed["items"]] == [(award_id, "BOC-2025-0100")]


@pytest.mark.parametrize("body, field", [
    ({"paid_on": "2025-05-01"}, "voucher_reference"),
    ({"voucher_reference": "BOC-1"}, "paid_on"),
    ({"voucher_reference": "", "paid_on": "2025-05-01"}, "voucher_reference"),
    ({"voucher_reference": "X" * 61, "paid_on": "2025-05-01"}, "voucher_reference"),
    ({"voucher_reference": 12345, "paid_on": "2025-05-01"}, "voucher_reference"),
    ({"voucher_reference": "BOC-1", "paid_on": (today_in_china() + timedelta(days=1)).isoformat()}, "paid_on"),
    ({"voucher_reference": "BOC-1", "paid_on": "2025-05-01"}, "paid_on"),
    ({"voucher_reference": "BOC-1", "paid_on": "not a date"}, "paid_on"),
    ({"voucher_reference": "BOC-1", "paid_on": "2025-05-01", "amount_fen": 1}, "amount_fen"),
])
def test_a_payout_without_a_good_voucher_is_refused_and_changes_nothing(client, approved, body, field):
    award_id, admin = approved
    response = pay(client, award_id, admin, body)
    assert response.status_code == 422
    assert field in response.get_json()["fields"]
    assert status_of(award_id) == AwardStatus.APPROVED


def test_a_payout_without_a_body_is_refused(client, approved):
    award_id, admin = approved
    response = client.post(f"/api/v1/awards/{award_id}/pay", headers={**bearer(admin), "Idempotency-Key": "k"})
    assert response.status_code in (400, 415, 422)
    assert status_of(award_id) == AwardStatus.APPROVED


def test_the_openapi_document_declares_the_payout_body():
    operation = openapi_document()["paths"]["/api/v1/awards/{award_id}/pay"]["post"]
    assert operation["requestBody"]["required"] is True
    schema = openapi_document()["components"]["schemas"]["PayoutInput"]
    assert set(schema["required"]) == {"voucher_reference", "paid_on"}
    assert schema["properties"]["voucher_reference"]["maxLength"] == 60


def test_a_second_startup_grant_is_listed_as_nil_with_its_cap(client, make_user, make_organisation):
    admin = make_user("admin")
    startup = make_organisation("enterprise", valley_id="taiyuan", resident_since=date(2024, 3, 1),
                                verification_status=VerificationStatus.VERIFIED)
    for day in (date(2024, 6, 1), date(2024, 9, 1)):
        record_startup_grant(db.session, admin, startup.id, granted_on=day, founders_paid_in_fen=80 * WAN,
                             awarded_fen=50 * WAN)
    db.session.commit()
    response = client.get("/api/v1/awards", query_string={"status": "nil"}, headers=bearer(admin))
    items = response.get_json()["items"]
    assert [(item["granted_fen"], item["status"]["label"], item["capped_by"]) for item in items] == [
        (0, "核定为零", "one_time_per_startup")]
    assert items[0]["note"].endswith("本次核定为 0")
    queue = client.get("/api/v1/awards", query_string={"status": "payable"}, headers=bearer(admin)).get_json()
    assert [item["granted_fen"] for item in queue["items"]] == [50 * WAN]
