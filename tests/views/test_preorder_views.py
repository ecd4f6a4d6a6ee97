"""Pre-order agreement pages: status codes, redirects, flash messages and what is stored; bad input answers 422 with
the message next to its field and saves nothing; POLICY.md worked example 1 through the pages."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from market.awards.models import Award
from market.errors import ValidationError
from market.extensions import db
from market.preorders import proposals, services
from market.preorders.models import (
    AgreementStatus,
    PreorderAgreement,
    PreorderDelivery,
    PreorderPayment,
)
from tests.conftest import PASSWORD
from tests.preorder_agreements import sign_agreement

YUAN = 100
WAN = 10_000 * YUAN
FUTURE = (date.today() + timedelta(days=3)).isoformat()


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def page_text(response) -> str:
    return response.get_data(as_text=True)


def field_error(page: str, name: str) -> str:
    """The error shown in the form group of the control named `name` ('' when none)."""
    for group in page.split('<div class="mb-3')[1:]:
        if f'name="{name}"' in group:
            return " ".join(re.findall(r'class="invalid-feedback d-block">(.*?)</div>', group))
    raise AssertionError(f"no control named {name} on the page")


def flashed(page: str) -> str:
    return " ".join(re.findall(r'<div class="alert alert-success" role="alert">(.*?)</div>', page))


def agreement_form(preorder_parties, **changes) -> dict:
    """Worked example 1 as the form sends it: 100 units at 150万元, ¥150M, signed 2024-10-15."""
    data = {"buyer_id": str(preorder_parties.buyer.id), "seller_id": str(preorder_parties.seller.id), "broker_id": "",
            "number": "YG-2024-001", "product": "车载高压储氢瓶", "description": "70MPa IV型瓶",
            "quantity": "100", "unit": "台", "unit_price_fen": "150", "value_fen": "",
            "delivery_schedule": "2025年内分两批交付", "signed_on": "2024-10-15"}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def agreement(preorder_parties):
    """The worked-example agreement, recorded through the service."""
    return sign_agreement(preorder_parties.seller_user, {
        "buyer_id": preorder_parties.buyer.id, "seller_id": preorder_parties.seller.id, "number": "YG-2024-001", "product": "储氢瓶",
        "quantity": "100", "unit": "台", "unit_price_fen": 150 * WAN, "signed_on": "2024-10-15"})


def accepted(preorder_parties, agreement, amount_fen):
    delivery = services.record_delivery(db.session, preorder_parties.seller_user, agreement.id,
                                        {"delivered_on": "2025-01-10", "quantity": "10", "amount_fen": amount_fen})
    services.accept_delivery(db.session, preorder_parties.buyer_user, agreement.id, delivery.id, "2025-01-12")


# --- the list and access ---------------------------------------------------------------------------


def test_visitors_are_sent_to_login(client, agreement):
    for path in ("/contracts", "/contracts/new", f"/contracts/{agreement.id}"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("who", ["seller_user", "buyer_user", "admin"])
def test_parties_and_admins_see_the_agreement(client, login, preorder_parties, agreement, who):
    login(getattr(preorder_parties, who))
    response = client.get(f"/contracts/{agreement.id}")
    assert response.status_code == 200
    page = page_text(response)
    assert "晋创谷·太原" in page and "2024-03-01" in page
    assert "每家企业每年 1,000万元" in page


@pytest.mark.parametrize("stranger", ["outsider", "other_broker", "researcher"])
def test_other_organisations_and_brokers_get_404_everywhere(client, login, make_user, preorder_parties, agreement, stranger):
    users = {"outsider": lambda: preorder_parties.outsider, "other_broker": lambda: make_user("broker"),
             "researcher": lambda: make_user("researcher")}
    login(users[stranger]())
    assert client.get(f"/contracts/{agreement.id}").status_code == 404
    assert client.get(f"/contracts/{agreement.id}/amend").status_code == 404
    posts = {
        "deliveries": {"delivery-delivered_on": "2025-01-10", "delivery-quantity": "1", "delivery-amount_fen": "1"},
        "payments": {"payment-amount_fen": "1", "payment-paid_on": "2025-01-10"},
        "terminate": {"terminate-reason": "不想要了"},
    }
    for action, data in posts.items():
        path = f"/contracts/{agreement.id}/{action}"
        assert client.post(path, data=data).status_code == 404
    delivery = services.record_delivery(db.session, preorder_parties.seller_user, agreement.id,
                                        {"delivered_on": "2025-01-10", "quantity": "1", "amount_fen": WAN})
    response = client.post(f"/contracts/{agreement.id}/deliveries/{delivery.id}/accept",
                           data={f"accept-{delivery.id}-accepted_on": "2025-01-11"})
    assert response.status_code == 404
    assert db.session.get(PreorderDelivery, delivery.id).accepted_on is None
    assert "YG-2024-001" not in page_text(client.get("/contracts"))
    assert db.session.get(PreorderAgreement, agreement.id).status == AgreementStatus.SIGNED
    assert count(PreorderPayment) == 0


def test_list_shows_the_organisations_agreements_and_filters_for_admins(client, login, preorder_parties, agreement):
    login(preorder_parties.buyer_user)
    assert "YG-2024-001" in page_text(client.get("/contracts"))
    client.post("/logout")
    login(preorder_parties.admin)
    assert "YG-2024-001" in page_text(client.get("/contracts?valley=taiyuan&status=signed"))
    assert "YG-2024-001" not in page_text(client.get("/contracts?valley=datong"))
    assert "YG-2024-001" not in page_text(client.get("/contracts?status=completed"))


def test_a_researcher_may_not_open_the_new_agreement_form(client, login_as):
    login_as("researcher")
    assert client.get("/contracts/new").status_code == 403


# --- creating ----------------------------------------------------------------------------------------


def test_recording_an_agreement_redirects_flashes_and_stores_it(client, login, preorder_parties):
    login(preorder_parties.buyer_user)
    assert client.get("/contracts/new").status_code == 200
    response = client.post("/contracts/new", data=agreement_form(preorder_parties))
    agreement = db.session.scalar(select(PreorderAgreement))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/contracts/{agreement.id}")
    assert (agreement.value_fen, agreement.unit_price_fen, agreement.created_by_id) == (
        15000 * WAN, 150 * WAN, preorder_parties.buyer_user.id)
    page = page_text(client.get(response.headers["Location"]))
    assert "预约采购协议 YG-2024-001 已登记，待供货方（晋能储氢装备有限公司）确认后生效" in flashed(page)


def test_an_explicit_total_that_differs_is_stored_and_pointed_out(client, login, preorder_parties):
    login(preorder_parties.seller_user)
    response = client.post("/contracts/new", data=agreement_form(preorder_parties, value_fen="14000"), follow_redirects=True)
    assert db.session.scalar(select(PreorderAgreement.value_fen)) == 14000 * WAN
    assert "与 数量 × 单价（¥150,000,000.00）不同" in page_text(response)


def test_a_broker_records_an_agreement_as_its_broker(client, login, preorder_parties):
    login(preorder_parties.broker)
    assert 'name="broker_id"' not in page_text(client.get("/contracts/new"))
    client.post("/contracts/new", data=agreement_form(preorder_parties))
    assert db.session.scalar(select(PreorderAgreement.broker_id)) == preorder_parties.broker.id


def test_related_party_declaration_shows_that_no_subsidy_is_earned(client, login, preorder_parties):
    login(preorder_parties.seller_user)
    response = client.post("/contracts/new", data=agreement_form(preorder_parties, is_related_party="y"), follow_redirects=True)
    assert db.session.scalar(select(PreorderAgreement.is_related_party)) is True
    page = page_text(response)
    assert "本协议不享受后补助" in page and "关联关系" in page


def test_non_resident_seller_is_recorded_and_the_page_says_no_subsidy(client, login, preorder_parties, make_organisation):
    seller = make_organisation("enterprise")
    login(preorder_parties.buyer_user)
    response = client.post("/contracts/new", data=agreement_form(preorder_parties, seller_id=str(seller.id)),
                           follow_redirects=True)
    assert count(PreorderAgreement) == 1
    assert "卖方未入驻任何晋创谷谷区" in page_text(response)


@pytest.mark.parametrize("name, value", [
    ("unit_price_fen", "NaN"),
    ("unit_price_fen", "-5"),
    ("unit_price_fen", "99999999999999999999"),
    ("unit_price_fen", "١٢"),
    ("unit_price_fen", ""),
    ("unit_price_fen", "<b>1</b>"),
    ("value_fen", "1e9"),
    ("quantity", "NaN"),
    ("quantity", "-1"),
    ("quantity", "١٢"),
    ("quantity", "99999999999999999999"),
    ("quantity", ""),
    ("quantity", "<i>1</i>"),
    ("number", ""),
    ("number", "Y" * 41),
    ("number", "<script>x</script>"),
    ("product", ""),
    ("product", "储" * 201),
    ("product", "<img src=x onerror=alert(1)>"),
    ("unit", "台" * 21),
    ("description", "说" * 5001),
    ("signed_on", FUTURE),
    ("signed_on", "2024/10/15"),
    ("signed_on", "٢٠٢٤-١٠-١٥"),
    ("signed_on", ""),
    ("seller_id", ""),
    ("buyer_id", "999999"),
    ("broker_id", "abc"),
])
def test_bad_agreement_input_answers_422_next_to_the_field_and_saves_nothing(client, login, preorder_parties, name, value):
    login(preorder_parties.seller_user)
    response = client.post("/contracts/new", data=agreement_form(preorder_parties, **{name: value}))
    assert response.status_code == 422
    assert field_error(page_text(response), name)
    assert count(PreorderAgreement) == 0


def test_every_bad_field_is_reported_in_one_answer(client, login, preorder_parties):
    login(preorder_parties.seller_user)
    response = client.post("/contracts/new", data=agreement_form(preorder_parties, unit_price_fen="NaN", quantity="-1",
                                                                 signed_on=FUTURE, number="YG 1"))
    assert response.status_code == 422
    page = page_text(response)
    assert "金额格式不正确" in field_error(page, "unit_price_fen")
    assert "不能晚于今天" in field_error(page, "signed_on")
    assert field_error(page, "quantity") and field_error(page, "number")


def test_full_width_digits_are_accepted(client, login, preorder_parties):
    login(preorder_parties.seller_user)
    response = client.post("/contracts/new", data=agreement_form(preorder_parties, quantity="１００", unit_price_fen="１５０",
                                                                 signed_on="２０２４-１０-１５"))
    assert response.status_code == 302
    stored = db.session.scalar(select(PreorderAgreement))
    assert (stored.quantity, stored.unit_price_fen, stored.signed_on) == (100, 150 * WAN, date(2024, 10, 15))


def test_markup_in_free_text_is_stored_as_typed_and_shown_escaped(client, login, preorder_parties):
    login(preorder_parties.seller_user)
    response = client.post("/contracts/new", data=agreement_form(preorder_parties, description="<script>alert(1)</script>"),
                           follow_redirects=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page_text(response)
    assert "<script>alert(1)</script>" not in page_text(response)


def csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


@pytest.mark.parametrize("app", [{"WTF_CSRF_ENABLED": True}], indirect=True)
def test_a_post_without_the_csrf_token_saves_nothing_and_one_with_it_works(client, preorder_parties):
    token = csrf_token(page_text(client.get("/login")))
    assert client.post("/login", data={"email": preorder_parties.seller_user.email, "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302
    assert client.post("/contracts/new", data=agreement_form(preorder_parties)).status_code == 400
    assert count(PreorderAgreement) == 0
    token = csrf_token(page_text(client.get("/contracts/new")))
    assert client.post("/contracts/new", data={**agreement_form(preorder_parties), "csrf_token": token}).status_code == 302
    assert count(PreorderAgreement) == 1


# --- deliveries and acceptance ------------------------------------------------------------------------


def test_seller_records_a_delivery_and_buyer_accepts_it(client, login, preorder_parties, agreement):
    login(preorder_parties.seller_user)
    response = client.post(f"/contracts/{agreement.id}/deliveries", data={
        "delivery-delivered_on": "2025-01-10", "delivery-quantity": "40", "delivery-amount_fen": "6000",
        "delivery-note": "第一批"})
    assert response.status_code == 302 and response.headers["Location"].endswith("#deliveries")
    delivery = db.session.scalar(select(PreorderDelivery))
    assert (delivery.quantity, delivery.amount_fen, delivery.accepted_on) == (40, 6000 * WAN, None)
    assert "交付已登记" in flashed(page_text(client.get(f"/contracts/{agreement.id}")))
    client.post("/logout")
    login(preorder_parties.buyer_user)
    response = client.post(f"/contracts/{agreement.id}/deliveries/{delivery.id}/accept",
                           data={f"accept-{delivery.id}-accepted_on": "2025-01-20"})
    assert response.status_code == 302
    assert db.session.get(PreorderDelivery, delivery.id).accepted_on == date(2025, 1, 20)
    assert db.session.get(PreorderAgreement, agreement.id).accepted_fen == 6000 * WAN
    assert "已验收" in flashed(page_text(client.get(f"/contracts/{agreement.id}")))


def test_the_buyer_gets_403_when_recording_a_delivery_and_the_broker_when_ending(client, login, preorder_parties):
    agreement = sign_agreement(preorder_parties.broker, {
        "buyer_id": preorder_parties.buyer.id, "seller_id": preorder_parties.seller.id, "number": "YG-2024-009", "product": "储氢瓶",
        "quantity": "1", "unit": "台", "unit_price_fen": WAN, "signed_on": "2024-10-15"})
    login(preorder_parties.buyer_user)
    response = client.post(f"/contracts/{agreement.id}/deliveries", data={
        "delivery-delivered_on": "2025-01-10", "delivery-quantity": "1", "delivery-amount_fen": "1"})
    assert response.status_code == 403
    assert count(PreorderDelivery) == 0
    client.post("/logout")
    login(preorder_parties.broker)
    assert client.post(f"/contracts/{agreement.id}/terminate", data={"terminate-reason": "x"}).status_code == 403
    assert db.session.get(PreorderAgreement, agreement.id).status == AgreementStatus.SIGNED


@pytest.mark.parametrize("name, value", [
    ("amount_fen", "NaN"), ("amount_fen", "-1"), ("amount_fen", "99999999999999999999"), ("amount_fen", "١٢"),
    ("amount_fen", ""), ("amount_fen", "<b>1</b>"), ("amount_fen", "15001"),
    ("quantity", "NaN"), ("quantity", "-2"), ("quantity", "١٢"), ("quantity", ""), ("quantity", "9" * 21),
    ("delivered_on", FUTURE), ("delivered_on", "2024-10-14"), ("delivered_on", ""), ("delivered_on", "<b>"),
    ("note", "注" * 1001),
])
def test_bad_delivery_answers_422_next_to_the_field_and_saves_nothing(client, login, preorder_parties, agreement, name, value):
    login(preorder_parties.seller_user)
    data = {"delivery-delivered_on": "2025-01-10", "delivery-quantity": "1", "delivery-amount_fen": "1",
            f"delivery-{name}": value}
    response = client.post(f"/contracts/{agreement.id}/deliveries", data=data)
    assert response.status_code == 422
    assert field_error(page_text(response), f"delivery-{name}")
    assert count(PreorderDelivery) == 0


@pytest.mark.parametrize("value", [FUTURE, "2025-01-09", "", "٢٠٢٥-٠١-١٢", "x" * 30])
def test_bad_acceptance_answers_422_and_nothing_is_accepted(client, login, preorder_parties, agreement, value):
    delivery = services.record_delivery(db.session, preorder_parties.seller_user, agreement.id,
                                        {"delivered_on": "2025-01-10", "quantity": "1", "amount_fen": WAN})
    login(preorder_parties.buyer_user)
    name = f"accept-{delivery.id}-accepted_on"
    response = client.post(f"/contracts/{agreement.id}/deliveries/{delivery.id}/accept", data={name: value})
    assert response.status_code == 422
    assert field_error(page_text(response), name)
    assert db.session.get(PreorderAgreement, agreement.id).accepted_fen == 0


def test_full_width_delivery_input_is_accepted(client, login, preorder_parties, agreement):
    login(preorder_parties.seller_user)
    response = client.post(f"/contracts/{agreement.id}/deliveries", data={
        "delivery-delivered_on": "２０２５-０１-１０", "delivery-quantity": "１２", "delivery-amount_fen": "１２"})
    assert response.status_code == 302
    assert db.session.scalar(select(PreorderDelivery.amount_fen)) == 12 * WAN


# --- payments: worked example 1 through the pages ----------------------------------------------------------


def test_worked_example_one_through_the_pages(client, login, preorder_parties):
    login(preorder_parties.seller_user)
    client.post("/contracts/new", data=agreement_form(preorder_parties))
    agreement = db.session.scalar(select(PreorderAgreement))
    client.post("/logout")
    login(preorder_parties.buyer_user)
    client.post(f"/contracts/{agreement.id}/confirm", data={"reason": ""})
    client.post("/logout")
    login(preorder_parties.seller_user)
    client.post(f"/contracts/{agreement.id}/deliveries", data={
        "delivery-delivered_on": "2025-01-10", "delivery-quantity": "100", "delivery-amount_fen": "15000"})
    delivery = db.session.scalar(select(PreorderDelivery))
    client.post("/logout")
    login(preorder_parties.buyer_user)
    client.post(f"/contracts/{agreement.id}/deliveries/{delivery.id}/accept",
                data={f"accept-{delivery.id}-accepted_on": "2025-01-20"})
    assert db.session.get(PreorderAgreement, agreement.id).accepted_fen == 15000 * WAN

    messages = []
    for amount, day in (("7000", "2025-03-31"), ("5000", "2025-09-30"), ("2000", "2026-02-01")):
        login(preorder_parties.buyer_user)
        response = client.post(f"/contracts/{agreement.id}/payments",
                               data={"payment-amount_fen": amount, "payment-paid_on": day})
        assert response.status_code == 302 and response.headers["Location"].endswith("#payments")
        assert "等待供货方确认" in flashed(page_text(client.get(f"/contracts/{agreement.id}")))
        payment = db.session.scalar(select(PreorderPayment).order_by(PreorderPayment.id.desc()))
        client.post("/logout")
        login(preorder_parties.seller_user)
        response = client.post(f"/contracts/payments/{payment.id}/confirm", data={"reason": ""})
        assert response.status_code == 302 and response.headers["Location"].endswith("#payments")
        messages.append(flashed(page_text(client.get(f"/contracts/{agreement.id}"))))
        client.post("/logout")
    assert "后补助 ¥7,000,000.00" in messages[0]
    assert "后补助 ¥3,000,000.00" in messages[1] and "已达年度上限（每家企业每年 1,000万元）" in messages[1]
    assert "后补助 ¥2,000,000.00" in messages[2]
    awards = db.session.scalars(select(Award).order_by(Award.id)).all()
    assert [(a.computed_fen, a.granted_fen, a.capped_by, a.agreement_id) for a in awards] == [
        (700 * WAN, 700 * WAN, None, agreement.id), (500 * WAN, 300 * WAN, "recipient_calendar_year", agreement.id),
        (200 * WAN, 200 * WAN, None, agreement.id)]

    login(preorder_parties.buyer_user)
    response = client.post(f"/contracts/{agreement.id}/payments",
                           data={"payment-amount_fen": "2000", "payment-paid_on": "2026-03-01"})
    assert response.status_code == 422
    assert "超过协议金额" in field_error(page_text(response), "payment-amount_fen")
    assert (count(PreorderPayment), count(Award)) == (3, 3)
    page = page_text(client.get(f"/contracts/{agreement.id}"))
    for shown in ("¥70,000,000.00", "¥5,000,000.00", "¥3,000,000.00", "已达年度上限", "待审批"):
        assert shown in page


def test_paying_the_full_value_completes_the_agreement(client, login, preorder_parties, agreement):
    accepted(preorder_parties, agreement, 15000 * WAN)
    login(preorder_parties.buyer_user)
    client.post(f"/contracts/{agreement.id}/payments", data={"payment-amount_fen": "15000", "payment-paid_on": "2025-03-31"})
    assert db.session.get(PreorderAgreement, agreement.id).status == AgreementStatus.SIGNED
    payment = db.session.scalar(select(PreorderPayment))
    client.post("/logout")
    login(preorder_parties.seller_user)
    response = client.post(f"/contracts/payments/{payment.id}/confirm", data={"reason": ""}, follow_redirects=True)
    assert db.session.get(PreorderAgreement, agreement.id).status == AgreementStatus.COMPLETED
    page = page_text(response)
    assert "协议已完成" in page and 'name="payment-amount_fen"' not in page


@pytest.mark.parametrize("name, value, message", [
    ("amount_fen", "NaN", ""), ("amount_fen", "-1", ""), ("amount_fen", "99999999999999999999", ""),
    ("amount_fen", "١٢", ""), ("amount_fen", "", ""), ("amount_fen", "<b>1</b>", ""),
    ("amount_fen", "101", "已验收"),
    ("paid_on", FUTURE, "晚于今天"), ("paid_on", "2024-10-14", "早于协议签订日期"), ("paid_on", "", ""),
    ("paid_on", "٢٠٢٥-٠٣-٠١", ""), ("paid_on", "<script>", ""),
])
def test_bad_payment_answers_422_next_to_the_field_and_saves_nothing(client, login, preorder_parties, agreement, name, value,
                                                                     message):
    accepted(preorder_parties, agreement, 100 * WAN)
    login(preorder_parties.buyer_user)
    data = {"payment-amount_fen": "10", "payment-paid_on": "2025-03-01", f"payment-{name}": value}
    response = client.post(f"/contracts/{agreement.id}/payments", data=data)
    assert response.status_code == 422
    error = field_error(page_text(response), f"payment-{name}")
    assert error and message in error
    assert (count(PreorderPayment), count(Award)) == (0, 0)
    assert db.session.get(PreorderAgreement, agreement.id).paid_fen == 0


def test_full_width_payment_is_accepted(client, login, preorder_parties, agreement):
    accepted(preorder_parties, agreement, 100 * WAN)
    login(preorder_parties.buyer_user)
    response = client.post(f"/contracts/{agreement.id}/payments",
                           data={"payment-amount_fen": "１２", "payment-paid_on": "２０２５-０３-０１"})
    assert response.status_code == 302
    assert db.session.scalar(select(PreorderPayment.amount_fen)) == 12 * WAN


# --- amending and ending ---------------------------------------------------------------------------------


def test_amending_creates_a_new_version_and_supersedes_the_old(client, login, preorder_parties, agreement):
    login(preorder_parties.buyer_user)
    form = page_text(client.get(f"/contracts/{agreement.id}/amend"))
    assert 'value="储氢瓶"' in form
    data = {key: value for key, value in agreement_form(preorder_parties, number="YG-2024-001-A", quantity="120",
                                                        signed_on="2024-12-01").items()
            if key not in ("buyer_id", "seller_id", "broker_id")}
    response = client.post(f"/contracts/{agreement.id}/amend", data=data)
    new = db.session.scalar(select(PreorderAgreement).where(PreorderAgreement.number == "YG-2024-001-A"))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/contracts/{new.id}")
    assert (new.supersedes_id, new.value_fen, new.status) == (agreement.id, 18000 * WAN, AgreementStatus.PROPOSED)
    assert db.session.get(PreorderAgreement, agreement.id).status == AgreementStatus.SIGNED
    assert "确认前原协议 YG-2024-001 继续有效" in flashed(page_text(client.get(response.headers["Location"])))
    assert "有一份待确认的变更" in page_text(client.get(f"/contracts/{agreement.id}"))
    client.post("/logout")
    login(preorder_parties.seller_user)
    response = client.post(f"/contracts/{new.id}/confirm", data={"reason": ""})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(PreorderAgreement, agreement.id).status == AgreementStatus.SUPERSEDED
    assert "已被变更后的协议取代" in page_text(client.get(f"/contracts/{agreement.id}"))


@pytest.mark.parametrize("name, value", [("number", "YG-2024-001"), ("signed_on", FUTURE), ("quantity", "NaN"),
                                         ("unit_price_fen", "١٢"), ("product", "")])
def test_bad_amendment_answers_422_and_changes_nothing(client, login, preorder_parties, agreement, name, value):
    login(preorder_parties.seller_user)
    data = {key: value for key, value in agreement_form(preorder_parties, number="YG-2024-001-A").items()
            if key not in ("buyer_id", "seller_id", "broker_id")}
    data[name] = value
    response = client.post(f"/contracts/{agreement.id}/amend", data=data)
    assert response.status_code == 422
    assert field_error(page_text(response), name)
    assert count(PreorderAgreement) == 1
    assert db.session.get(PreorderAgreement, agreement.id).status == AgreementStatus.SIGNED


def test_amending_after_a_payment_is_refused_with_a_message(client, login, preorder_parties, agreement):
    accepted(preorder_parties, agreement, 100 * WAN)
    services.record_payment(db.session, preorder_parties.buyer_user, agreement.id, amount_fen=100 * WAN, paid_on="2025-03-01")
    login(preorder_parties.seller_user)
    assert "协议不能再变更" in page_text(client.get(f"/contracts/{agreement.id}"))
    response = client.get(f"/contracts/{agreement.id}/amend")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/contracts/{agreement.id}")
    data = {key: value for key, value in agreement_form(preorder_parties, number="YG-2024-001-A").items()
            if key not in ("buyer_id", "seller_id", "broker_id")}
    response = client.post(f"/contracts/{agreement.id}/amend", data=data)
    assert response.status_code == 409
    assert "已有付款记录" in page_text(response)
    assert count(PreorderAgreement) == 1


def test_a_party_ends_the_agreement_with_a_reason(client, login, preorder_parties, agreement):
    login(preorder_parties.seller_user)
    response = client.post(f"/contracts/{agreement.id}/terminate", data={"terminate-reason": "买方项目取消"})
    assert response.status_code == 302
    assert db.session.get(PreorderAgreement, agreement.id).status == AgreementStatus.TERMINATED
    page = page_text(client.get(f"/contracts/{agreement.id}"))
    assert "协议 YG-2024-001 已终止" in flashed(page) and "终止原因：" in page and "买方项目取消" in page
    assert 'name="delivery-amount_fen"' not in page


@pytest.mark.parametrize("value", ["", "   ", "因" * 501])
def test_ending_without_a_proper_reason_answers_422(client, login, preorder_parties, agreement, value):
    login(preorder_parties.buyer_user)
    response = client.post(f"/contracts/{agreement.id}/terminate", data={"terminate-reason": value})
    assert response.status_code == 422
    assert field_error(page_text(response), "terminate-reason")
    assert db.session.get(PreorderAgreement, agreement.id).status == AgreementStatus.SIGNED


# --- one declared input per write: the page and the service give the same message ------------------------------


def stored_state(agreement_id: int) -> tuple:
    """What a refused write must leave as it was."""
    agreement = db.session.get(PreorderAgreement, agreement_id)
    return (count(PreorderAgreement), count(PreorderDelivery), count(PreorderPayment), count(Award), agreement.status,
            agreement.accepted_fen, agreement.paid_fen)


class Write:
    """One page write of the agreement pages: who makes it, its page form data and the same input for the service."""

    def __init__(self, preorder_parties, agreement):
        self.parties, self.agreement = preorder_parties, agreement

    def prepare(self, write: str):
        """The person who makes the write (and what must exist before it)."""
        if write in ("acceptance", "payment"):
            delivery = services.record_delivery(db.session, self.parties.seller_user, self.agreement.id,
                                                {"delivered_on": "2025-01-10", "quantity": "1", "amount_fen": 100 * WAN})
            self.delivery_id = delivery.id
            if write == "payment":
                services.accept_delivery(db.session, self.parties.buyer_user, self.agreement.id, delivery.id,
                                         "2025-01-12")
        return self.parties.buyer_user if write in ("acceptance", "payment", "termination") else self.parties.seller_user

    def by_service(self, write: str, actor, field: str, value):
        """Run the write through its service with one field changed."""
        agreement_id = self.agreement.id
        if write == "agreement":
            data = {"buyer_id": self.parties.buyer.id, "seller_id": self.parties.seller.id, "number": "YG-2024-002",
                    "product": "储氢瓶", "quantity": "100", "unit": "台", "unit_price_fen": 150 * WAN,
                    "signed_on": "2024-10-15", field: value}
            return sign_agreement(actor, data)
        if write == "delivery":
            data = {"delivered_on": "2025-01-10", "quantity": "1", "amount_fen": WAN, field: value}
            return services.record_delivery(db.session, actor, agreement_id, data)
        if write == "acceptance":
            return services.accept_delivery(db.session, actor, agreement_id, self.delivery_id, value)
        if write == "payment":
            data = {"amount_fen": 10 * WAN, "paid_on": "2025-03-01", field: value}
            return services.record_payment(db.session, actor, agreement_id, **data)
        return services.terminate_agreement(db.session, actor, agreement_id, value)

    def on_the_page(self, client, write: str, field: str, value) -> str:
        """Post the write's form with one field changed; the message shown next to that field (422 expected)."""
        agreement_id = self.agreement.id
        if write == "agreement":
            path, name = "/contracts/new", field
            data = agreement_form(self.parties, **{"number": "YG-2024-002", field: value})
        elif write == "acceptance":
            path = f"/contracts/{agreement_id}/deliveries/{self.delivery_id}/accept"
            name = f"accept-{self.delivery_id}-{field}"
            data = {name: value}
        else:
            action, prefix, data = {
                "delivery": ("deliveries", "delivery", {"delivered_on": "2025-01-10", "quantity": "1", "amount_fen": "1"}),
                "payment": ("payments", "payment", {"amount_fen": "10", "paid_on": "2025-03-01"}),
                "termination": ("terminate", "terminate", {"reason": "x"}),
            }[write]
            path, name = f"/contracts/{agreement_id}/{action}", f"{prefix}-{field}"
            data = {f"{prefix}-{key}": text for key, text in {**data, field: value}.items()}
        response = client.post(path, data=data)
        assert response.status_code == 422
        return field_error(page_text(response), name)


@pytest.mark.parametrize("write, field, page_value, service_value, message", [
    ("agreement", "number", "", "", "此项必填。"),
    ("agreement", "quantity", "9" * 21, "9" * 21, "不能超过 20 个字符。"),
    ("agreement", "unit_price_fen", "", None, "请填写金额。"),
    ("agreement", "signed_on", "", "", "请填写签订日期。"),
    ("agreement", "signed_on", FUTURE, FUTURE, "签订日期不能晚于今天。"),
    ("agreement", "seller_id", "", None, "请选择企业。"),
    ("delivery", "delivered_on", "", "", "请填写交付日期。"),
    ("delivery", "delivered_on", "2024-10-14", "2024-10-14", "交付日期不能早于协议签订日期（2024-10-15）。"),
    ("delivery", "quantity", "", "", "此项必填。"),
    ("delivery", "amount_fen", "", None, "请填写金额。"),
    ("delivery", "note", "注" * 1001, "注" * 1001, "不能超过 1000 个字符。"),
    ("acceptance", "accepted_on", "", "", "请填写验收日期。"),
    ("acceptance", "accepted_on", "x" * 30, "x" * 30, "不能超过 20 个字符。"),
    ("acceptance", "accepted_on", "2025-01-09", "2025-01-09", "验收日期不能早于交付日期（2025-01-10）。"),
    ("payment", "amount_fen", "", None, "请填写金额。"),
    ("payment", "paid_on", "", "", "请填写付款日期（YYYY-MM-DD）。"),
    ("termination", "reason", "", "", "此项必填。"),
    ("termination", "reason", "因" * 501, "因" * 501, "不能超过 500 个字符。"),
])
def test_each_write_refuses_bad_input_on_the_page_with_its_services_message_and_saves_nothing(
        client, login, preorder_parties, agreement, write, field, page_value, service_value, message):
    writes = Write(preorder_parties, agreement)
    actor = writes.prepare(write)
    before = stored_state(agreement.id)
    with pytest.raises(ValidationError) as refused:
        writes.by_service(write, actor, field, service_value)
    assert refused.value.fields == {field: message}
    login(actor)
    assert writes.on_the_page(client, write, field, page_value) == message
    assert stored_state(agreement.id) == before


def test_the_agreement_page_shows_the_declared_limits_of_its_forms(client, login, preorder_parties, agreement):
    login(preorder_parties.seller_user)
    page = page_text(client.get(f"/contracts/{agreement.id}"))
    assert re.search(r'<input[^>]*maxlength="20"[^>]*name="delivery-quantity"[^>]*required', page)
    assert re.search(r'<textarea[^>]*maxlength="1000"[^>]*name="delivery-note"', page)
    assert re.search(r'<textarea[^>]*maxlength="500"[^>]*name="terminate-reason"[^>]*required', page)
    form = page_text(client.get("/contracts/new"))
    assert re.search(r'<input[^>]*maxlength="40"[^>]*name="number"[^>]*required', form)
    assert re.search(r'<select[^>]*name="seller_id"[^>]*required', form)
    assert not re.search(r'<select[^>]*name="broker_id"[^>]*required', form)


# --- confirming a recorded agreement --------------------------------------------------------------------------


def test_the_page_shows_who_must_confirm_and_offers_the_buttons_only_to_them(client, login, preorder_parties):
    p = preorder_parties
    agreement = proposals.create_agreement(db.session, p.broker, {
        "buyer_id": p.buyer.id, "seller_id": p.seller.id, "number": "YG-2024-009", "product": "储氢瓶",
        "quantity": "100", "unit": "台", "unit_price_fen": 150 * WAN, "signed_on": "2024-10-15"})
    db.session.commit()
    path = f"/contracts/{agreement.id}"
    login(p.buyer_user)
    assert "待对方确认" in page_text(client.get("/contracts"))
    page = page_text(client.get(path))
    assert "待采购方（太原重型机械采购中心）、供货方（晋能储氢装备有限公司）确认" in page
    assert "确认协议" in page and "拒绝" in page and 'name="payment-amount_fen"' not in page
    refused = client.post(f"{path}/refuse", data={"reason": ""})
    assert refused.status_code == 302 and "请说明理由" in page_text(client.get(path))
    client.post(f"{path}/confirm", data={"reason": ""})
    page = page_text(client.get(path))
    assert "已确认，待供货方（晋能储氢装备有限公司）确认后生效" in page and "采购方已由" in page
    assert "确认协议" not in page
    client.post("/logout")

    login(p.broker)
    page = page_text(client.get(path))
    assert "确认协议" not in page and "撤回登记" in page
    assert client.post(f"{path}/confirm", data={"reason": ""}).status_code == 302
    assert db.session.get(PreorderAgreement, agreement.id).status == AgreementStatus.PROPOSED
    client.post("/logout")

    login(p.seller_user)
    client.post(f"{path}/confirm", data={"reason": ""})
    assert "已经双方确认，开始履行" in flashed(page_text(client.get(path)))
    db.session.expire_all()
    assert db.session.get(PreorderAgreement, agreement.id).status == AgreementStatus.SIGNED
    assert client.post(f"/contracts/{agreement.id}/dispute", data={"reason": "x"}).status_code == 404
