"""GET /api/v1/deals/<id>/awards, /api/v1/preorders/<id>/awards and /api/v1/awards: exact amounts, and who may read
whose awards."""
from datetime import date
from types import SimpleNamespace

import pytest

from tests.api_requests import bearer, schema_validator
from tests.payments import record_and_confirm_deal_payment, record_and_confirm_preorder_payment

YUAN = 100
WAN = 10_000 * YUAN


@pytest.fixture
def books(make_user, registered_deal, signed_agreement):
    """Worked example 2 on a deal (two ¥6M proceeds payments, three intermediaries) and worked example 1's first
    payment on a pre-order agreement (R1 to the seller); with everyone who might ask for those awards."""
    deal, researcher, brokers = registered_deal
    for day in (date(2025, 4, 30), date(2025, 5, 30)):
        record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=day)
    agreement, seller_user = signed_agreement
    record_and_confirm_preorder_payment(seller_user, agreement.id, amount_fen=7000 * WAN, paid_on=date(2025, 3, 31))
    return SimpleNamespace(
        deal=deal, agreement=agreement, brokers=brokers, researcher=researcher, seller_user=seller_user,
        seller_colleague=make_user("enterprise", organisation=seller_user.organisation),
        transferee=make_user("enterprise", organisation=deal.transferee),
        preorder_buyer=make_user("enterprise", organisation=agreement.buyer),
        other_broker=make_user("broker"), outsider=make_user("enterprise"), admin=make_user("admin"), visitor=None)


def amounts(response) -> list[tuple[str, int]]:
    return [(award["recipient"], award["granted_fen"]) for award in response.get_json()["items"]]


# ---------------------------------------------------------------- one deal's, one agreement's


@pytest.mark.parametrize("who, status", [
    ("researcher", 200), ("transferee", 200), ("other_broker", 200), ("admin", 200), ("outsider", 404),
    ("seller_user", 404), ("visitor", 401),
])
def test_a_deals_awards_are_read_by_those_who_see_the_deal(client, books, who, status):
    response = client.get(f"/api/v1/deals/{books.deal.id}/awards", headers=bearer(getattr(books, who)))
    assert response.status_code == status
    if status == 200:
        schema_validator("AwardList").validate(response.get_json())
        first, second, third = (f"user-{broker.id}" for broker in books.brokers)
        assert amounts(response) == [(first, 600_000 * YUAN), (second, 360_000 * YUAN), (third, 240_000 * YUAN),
                                     (first, 400_000 * YUAN), (second, 240_000 * YUAN), (third, 160_000 * YUAN)]


def test_an_intermediary_reads_the_awards_of_their_deal(client, books):
    response = client.get(f"/api/v1/deals/{books.deal.id}/awards", headers=bearer(books.brokers[2]))
    assert response.status_code == 200
    capped = [(award["capped_by"], award["note"] != "") for award in response.get_json()["items"][3:]]
    assert capped == [("achievement", True)] * 3


@pytest.mark.parametrize("who, status", [
    ("seller_user", 200), ("seller_colleague", 200), ("preorder_buyer", 200), ("admin", 200), ("outsider", 404),
    ("other_broker", 404), ("researcher", 404), ("visitor", 401),
])
def test_an_agreements_awards_are_read_by_its_parties_and_admins(client, books, who, status):
    response = client.get(f"/api/v1/preorders/{books.agreement.id}/awards", headers=bearer(getattr(books, who)))
    assert response.status_code == status
    if status == 200:
        schema_validator("AwardList").validate(response.get_json())
        assert amounts(response) == [(f"org-{books.agreement.seller_id}", 7_000_000 * YUAN)]
        assert response.get_json()["items"][0]["rule"] == "R1"


def test_awards_of_unknown_deals_and_agreements_answer_404(client, books):
    headers = bearer(books.admin)
    assert client.get("/api/v1/deals/999999/awards", headers=headers).status_code == 404
    assert client.get("/api/v1/preorders/999999/awards", headers=headers).status_code == 404


# ---------------------------------------------------------------- by recipient


def recipient_key(books, name: str) -> str:
    """user-<id> of a broker (broker0…2) or org-<id> of the pre-order seller (seller)."""
    if name == "seller":
        return f"org-{books.agreement.seller_id}"
    return f"user-{books.brokers[int(name[-1])].id}"


def asker(books, name: str):
    if name.startswith("broker"):
        return books.brokers[int(name[-1])]
    return getattr(books, name)


@pytest.mark.parametrize("who, recipient, status, expected", [
    ("broker0", "broker0", 200, [400_000 * YUAN, 600_000 * YUAN]),
    ("broker1", "broker1", 200, [240_000 * YUAN, 360_000 * YUAN]),
    ("admin", "broker2", 200, [160_000 * YUAN, 240_000 * YUAN]),
    ("seller_user", "seller", 200, [7_000_000 * YUAN]),
    ("seller_colleague", "seller", 200, [7_000_000 * YUAN]),
    ("admin", "seller", 200, [7_000_000 * YUAN]),
    ("broker1", "broker0", 403, None),
    ("researcher", "broker0", 403, None),
    ("preorder_buyer", "seller", 403, None),
    ("outsider", "seller", 403, None),
    ("visitor", "seller", 401, None),
])
def test_a_person_reads_their_own_awards_a_member_their_organisations_and_admins_any(client, books, who, recipient,
                                                                                     status, expected):
    response = client.get("/api/v1/awards", query_string={"recipient": recipient_key(books, recipient)},
                          headers=bearer(asker(books, who)))
    assert response.status_code == status
    if status == 200:
        schema_validator("AwardPage").validate(response.get_json())
        assert [award["granted_fen"] for award in response.get_json()["items"]] == expected
        assert {award["recipient"] for award in response.get_json()["items"]} == {recipient_key(books, recipient)}
    else:
        assert set(response.get_json()) == {"error", "message", "fields"}


def test_an_unknown_recipient_is_forbidden_like_any_other_persons(client, books):
    response = client.get("/api/v1/awards", query_string={"recipient": "user-999999"}, headers=bearer(books.outsider))
    assert response.status_code == 403
    admin_view = client.get("/api/v1/awards", query_string={"recipient": "user-999999"}, headers=bearer(books.admin))
    assert (admin_view.status_code, admin_view.get_json()["total"]) == (200, 0)


def test_without_a_recipient_a_person_gets_their_own_and_an_admin_everything(client, books):
    own = client.get("/api/v1/awards", headers=bearer(books.brokers[0])).get_json()
    assert [award["granted_fen"] for award in own["items"]] == [400_000 * YUAN, 600_000 * YUAN]
    seller = client.get("/api/v1/awards", headers=bearer(books.seller_colleague)).get_json()
    assert [award["recipient"] for award in seller["items"]] == [f"org-{books.agreement.seller_id}"]
    assert client.get("/api/v1/awards", headers=bearer(books.outsider)).get_json()["total"] == 0
    everything = client.get("/api/v1/awards", headers=bearer(books.admin)).get_json()
    assert everything["total"] == 7


def test_awards_filter_by_status_and_come_in_pages(client, books):
    headers = bearer(books.admin)
    page = client.get("/api/v1/awards", query_string={"status": "payable", "per_page": 3, "page": 3},
                      headers=headers).get_json()
    assert (page["total"], page["pages"], len(page["items"])) == (7, 3, 1)
    assert client.get("/api/v1/awards", query_string={"status": "paid"}, headers=headers).get_json()["total"] == 0


@pytest.mark.parametrize("query, field", [
    ({"recipient": "user-abc"}, "recipient"),
    ({"recipient": "org-0"}, "recipient"),
    ({"recipient": "organisation-1"}, "recipient"),
    ({"recipient": "user-1 "}, "recipient"),
    ({"recipient": "user-１"}, "recipient"),
    ({"status": "lost"}, "status"),
    ({"per_page": "101"}, "per_page"),
    ({"sort": "amount"}, "sort"),
])
def test_bad_award_parameters_are_refused(client, books, query, field):
    response = client.get("/api/v1/awards", query_string=query, headers=bearer(books.admin))
    assert response.status_code == 422 and field in response.get_json()["fields"]


def test_a_repeated_parameter_is_refused(client, books):
    response = client.get("/api/v1/awards?recipient=user-1&recipient=user-2", headers=bearer(books.admin))
    assert response.status_code == 422 and "recipient" in response.get_json()["fields"]
