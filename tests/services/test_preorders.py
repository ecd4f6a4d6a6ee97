"""Pre-order agreements: who records them, deliveries and acceptance, payments and the R1 subsidy, amending, ending
and who sees them."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from market.awards import services as award_services
from market.awards.models import Award, PolicyEvent
from market.errors import (
    InvalidStateError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from market.extensions import db
from market.notifications.models import Notification
from market.preorders import services
from market.preorders.models import (
    AgreementStatus,
    PreorderAgreement,
    PreorderDelivery,
    PreorderPayment,
)
from market.timeutil import utcnow
from tests.payments import record_and_confirm_preorder_payment
from tests.preorder_agreements import sign_agreement, sign_amendment

YUAN = 100
WAN = 10_000 * YUAN


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def agreement_input(preorder_parties, **changes) -> dict:
    """Worked example 1: 100 units at ¥1.5M each, ¥150M, signed 2024-10-15."""
    data = {"buyer_id": preorder_parties.buyer.id, "seller_id": preorder_parties.seller.id, "broker_id": None,
            "number": "YG-2024-001", "product": "车载高压储氢瓶", "description": "70MPa IV型瓶",
            "quantity": "100", "unit": "台", "unit_price_fen": 150 * WAN, "value_fen": None,
            "delivery_schedule": "2025年内分两批交付", "signed_on": "2024-10-15", "is_related_party": False}
    data.update(changes)
    return data


@pytest.fixture
def agreement(preorder_parties):
    """The worked-example agreement, recorded by the seller."""
    return sign_agreement(preorder_parties.seller_user, agreement_input(preorder_parties))


def deliver_and_accept(preorder_parties, agreement_id, amount_fen, day=date(2025, 1, 10)):
    delivery = services.record_delivery(db.session, preorder_parties.seller_user, agreement_id,
                                        {"delivered_on": day.isoformat(), "quantity": "10", "amount_fen": amount_fen})
    return services.accept_delivery(db.session, preorder_parties.buyer_user, agreement_id, delivery.id, day.isoformat())


def deliver_through_admin_and_accept(preorder_parties, agreement):
    """Deliver through an admin (the seller here has no members) and accept as the buyer."""
    delivery = services.record_delivery(db.session, preorder_parties.admin, agreement.id,
                                        {"delivered_on": "2025-01-10", "quantity": "1", "amount_fen": 100 * WAN})
    services.accept_delivery(db.session, preorder_parties.buyer_user, agreement.id, delivery.id, "2025-01-11")


def pay(preorder_parties, agreement_id, amount_fen, day, confirmer=None):
    return record_and_confirm_preorder_payment(preorder_parties.buyer_user, agreement_id, amount_fen=amount_fen,
                                               paid_on=day.isoformat(),
                                               confirmer=confirmer or preorder_parties.seller_user)


# --- creating -------------------------------------------------------------------------------------


@pytest.mark.parametrize("creator", ["seller_user", "buyer_user", "broker", "admin"])
def test_each_allowed_role_records_an_agreement_and_the_engine_is_told(preorder_parties, creator):
    actor = getattr(preorder_parties, creator)
    agreement = sign_agreement(actor, agreement_input(preorder_parties))
    stored = db.session.get(PreorderAgreement, agreement.id)
    assert (stored.value_fen, stored.status, stored.created_by_id) == (15000 * WAN, AgreementStatus.SIGNED, actor.id)
    assert stored.broker_id == (actor.id if creator == "broker" else None)
    signed = db.session.scalars(select(PolicyEvent).where(PolicyEvent.event_type == "preorder_signed")).all()
    assert [event.payload["agreement"] for event in signed] == [f"preorder-{agreement.id}"]


def test_an_enterprise_outside_both_parties_cannot_record_their_agreement(preorder_parties):
    with pytest.raises(ValidationError) as error:
        sign_agreement(preorder_parties.outsider, agreement_input(preorder_parties))
    assert "买方或卖方" in error.value.fields["buyer_id"]
    assert count(PreorderAgreement) == 0


def test_a_researcher_may_not_record_agreements(preorder_parties, make_user):
    with pytest.raises(PermissionDeniedError):
        sign_agreement(make_user("researcher"), agreement_input(preorder_parties))
    assert count(PreorderAgreement) == 0


def test_an_explicit_value_different_from_quantity_times_price_is_kept(preorder_parties):
    agreement = sign_agreement(preorder_parties.seller_user,
                                          agreement_input(preorder_parties, value_fen=14000 * WAN))
    assert (agreement.value_fen, agreement.quantity * agreement.unit_price_fen) == (14000 * WAN, 15000 * WAN)


@pytest.mark.parametrize("changes, field", [
    ({"number": ""}, "number"),
    ({"number": "YG 2024 001"}, "number"),
    ({"number": "<b>YG</b>"}, "number"),
    ({"number": "Y" * 41}, "number"),
    ({"product": ""}, "product"),
    ({"product": "<script>alert(1)</script>"}, "product"),
    ({"product": "储" * 201}, "product"),
    ({"quantity": "0"}, "quantity"),
    ({"quantity": "-3"}, "quantity"),
    ({"quantity": "NaN"}, "quantity"),
    ({"quantity": "١٢"}, "quantity"),
    ({"quantity": "1e3"}, "quantity"),
    ({"quantity": "9" * 19}, "quantity"),
    ({"unit_price_fen": 0}, "unit_price_fen"),
    ({"unit_price_fen": -5}, "unit_price_fen"),
    ({"unit_price_fen": 1.5}, "unit_price_fen"),
    ({"unit_price_fen": None}, "unit_price_fen"),
    ({"unit_price_fen": 10**15, "quantity": "2"}, "value_fen"),
    ({"value_fen": 10**15 + 1}, "value_fen"),
    ({"signed_on": ""}, "signed_on"),
    ({"signed_on": "2024/10/15"}, "signed_on"),
    ({"signed_on": "٢٠٢٤-١٠-١٥"}, "signed_on"),
    ({"signed_on": (date.today() + timedelta(days=2)).isoformat()}, "signed_on"),
    ({"seller_id": None}, "seller_id"),
    ({"is_related_party": "yes"}, "is_related_party"),
    ({"colour": "red"}, "colour"),
])
def test_bad_agreement_input_is_refused_next_to_the_field_and_nothing_is_saved(preorder_parties, changes, field):
    with pytest.raises(ValidationError) as error:
        sign_agreement(preorder_parties.seller_user, agreement_input(preorder_parties, **changes))
    assert field in error.value.fields
    assert (count(PreorderAgreement), count(PolicyEvent)) == (0, 0)


@pytest.mark.parametrize("field", ["buyer_id", "seller_id"])
def test_a_party_id_in_full_width_digits_is_not_an_alias_of_the_party(preorder_parties, field):
    ascii_id = str(agreement_input(preorder_parties)[field])
    full_width = ascii_id.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    with pytest.raises(ValidationError) as error:
        sign_agreement(preorder_parties.seller_user, agreement_input(preorder_parties, **{field: full_width}))
    assert field in error.value.fields
    assert count(PreorderAgreement) == 0
    sign_agreement(preorder_parties.seller_user, agreement_input(preorder_parties, **{field: ascii_id}))
    assert count(PreorderAgreement) == 1


def test_full_width_quantity_and_date_are_accepted(preorder_parties):
    agreement = sign_agreement(preorder_parties.seller_user,
                                          agreement_input(preorder_parties, quantity="１００", signed_on="２０２４-１０-１５"))
    assert (agreement.quantity, agreement.signed_on) == (100, date(2024, 10, 15))


def test_buyer_and_seller_must_differ(preorder_parties):
    with pytest.raises(ValidationError) as error:
        sign_agreement(preorder_parties.seller_user,
                                  agreement_input(preorder_parties, buyer_id=preorder_parties.seller.id))
    assert "同一家" in error.value.fields["seller_id"]


def test_agreement_numbers_are_unique(preorder_parties, agreement):
    with pytest.raises(ValidationError) as error:
        sign_agreement(preorder_parties.buyer_user, agreement_input(preorder_parties))
    assert "已被使用" in error.value.fields["number"]
    assert count(PreorderAgreement) == 1


def test_a_named_broker_must_be_an_approved_broker(preorder_parties):
    with pytest.raises(ValidationError) as error:
        sign_agreement(preorder_parties.admin, agreement_input(preorder_parties, broker_id=preorder_parties.buyer_user.id))
    assert "broker_id" in error.value.fields


# --- the subsidy outlook ----------------------------------------------------------------------------


def test_resident_unrelated_seller_is_eligible_with_rate_and_cap_from_the_rule_set(agreement):
    outlook = services.subsidy_outlook(db.session, agreement)
    assert (outlook.eligible, outlook.rate_bp) == (True, 1000)
    assert outlook.caps == ["每家企业每年 1,000万元"]


def test_non_resident_seller_agreement_is_recorded_but_earns_no_subsidy(preorder_parties, make_organisation):
    seller = make_organisation("enterprise")
    agreement = sign_agreement(preorder_parties.buyer_user, agreement_input(preorder_parties, seller_id=seller.id))
    outlook = services.subsidy_outlook(db.session, agreement)
    assert not outlook.eligible and "未入驻" in outlook.obstacles[0]
    deliver_through_admin_and_accept(preorder_parties, agreement)
    _, awards = pay(preorder_parties, agreement.id, 100 * WAN, date(2025, 3, 1), confirmer=preorder_parties.admin)
    assert awards == [] and count(Award) == 0


def test_seller_resident_only_after_signing_earns_no_subsidy(preorder_parties, make_organisation):
    seller = make_organisation("enterprise", valley_id="datong", resident_since=date(2025, 1, 1))
    agreement = sign_agreement(preorder_parties.buyer_user, agreement_input(preorder_parties, seller_id=seller.id))
    outlook = services.subsidy_outlook(db.session, agreement)
    assert not outlook.eligible and "晚于协议签订日" in outlook.obstacles[0]


def test_agreement_signed_before_the_policy_started_earns_no_subsidy(preorder_parties):
    agreement = sign_agreement(preorder_parties.seller_user, agreement_input(preorder_parties, signed_on="2023-12-20"))
    assert "有效期" in services.subsidy_outlook(db.session, agreement).obstacles[0]
    deliver_and_accept(preorder_parties, agreement.id, 100 * WAN)
    _, awards = pay(preorder_parties, agreement.id, 100 * WAN, date(2025, 3, 1))
    assert awards == [] and count(Award) == 0


def test_declared_related_parties_earn_no_subsidy(preorder_parties):
    agreement = sign_agreement(preorder_parties.seller_user,
                                          agreement_input(preorder_parties, is_related_party=True))
    assert "关联关系" in services.subsidy_outlook(db.session, agreement).obstacles[0]
    deliver_and_accept(preorder_parties, agreement.id, 100 * WAN)
    _, awards = pay(preorder_parties, agreement.id, 100 * WAN, date(2025, 3, 1))
    assert awards == [] and count(Award) == 0
    assert db.session.get(PreorderAgreement, agreement.id).paid_fen == 100 * WAN


# --- deliveries and acceptance -----------------------------------------------------------------------


def test_acceptance_raises_the_accepted_amount(preorder_parties, agreement):
    delivery = services.record_delivery(db.session, preorder_parties.seller_user, agreement.id,
                                        {"delivered_on": "2025-01-10", "quantity": "40", "amount_fen": 6000 * WAN,
                                         "note": "第一批"})
    assert db.session.get(PreorderAgreement, agreement.id).accepted_fen == 0
    services.accept_delivery(db.session, preorder_parties.buyer_user, agreement.id, delivery.id, "2025-01-20")
    stored = db.session.get(PreorderDelivery, delivery.id)
    assert (stored.accepted_on, stored.accepted_by_id) == (date(2025, 1, 20), preorder_parties.buyer_user.id)
    assert db.session.get(PreorderAgreement, agreement.id).accepted_fen == 6000 * WAN


@pytest.mark.parametrize("who", ["broker_of_agreement", "admin"])
def test_the_agreements_broker_and_admins_record_deliveries(preorder_parties, who):
    agreement = sign_agreement(preorder_parties.broker, agreement_input(preorder_parties))
    actor = preorder_parties.broker if who == "broker_of_agreement" else preorder_parties.admin
    services.record_delivery(db.session, actor, agreement.id,
                             {"delivered_on": "2025-01-10", "quantity": "1", "amount_fen": WAN})
    assert count(PreorderDelivery) == 1


def test_the_buyer_cannot_record_a_delivery_and_the_seller_cannot_accept_one(preorder_parties, agreement):
    with pytest.raises(PermissionDeniedError):
        services.record_delivery(db.session, preorder_parties.buyer_user, agreement.id,
                                 {"delivered_on": "2025-01-10", "quantity": "1", "amount_fen": WAN})
    delivery = services.record_delivery(db.session, preorder_parties.seller_user, agreement.id,
                                        {"delivered_on": "2025-01-10", "quantity": "1", "amount_fen": WAN})
    with pytest.raises(PermissionDeniedError):
        services.accept_delivery(db.session, preorder_parties.seller_user, agreement.id, delivery.id, "2025-01-11")
    assert db.session.get(PreorderAgreement, agreement.id).accepted_fen == 0


def test_deliveries_above_the_agreement_value_are_refused(preorder_parties, agreement):
    services.record_delivery(db.session, preorder_parties.seller_user, agreement.id,
                             {"delivered_on": "2025-01-10", "quantity": "90", "amount_fen": 14000 * WAN})
    with pytest.raises(ValidationError) as error:
        services.record_delivery(db.session, preorder_parties.seller_user, agreement.id,
                                 {"delivered_on": "2025-02-10", "quantity": "10", "amount_fen": 1000 * WAN + 1})
    assert "不能超过协议金额" in error.value.fields["amount_fen"]
    assert count(PreorderDelivery) == 1


@pytest.mark.parametrize("changes, field", [
    ({"delivered_on": "2024-10-14"}, "delivered_on"),
    ({"delivered_on": (date.today() + timedelta(days=2)).isoformat()}, "delivered_on"),
    ({"delivered_on": ""}, "delivered_on"),
    ({"quantity": "0"}, "quantity"),
    ({"quantity": "１٢"}, "quantity"),
    ({"amount_fen": 0}, "amount_fen"),
    ({"amount_fen": None}, "amount_fen"),
    ({"amount_fen": "12"}, "amount_fen"),
    ({"note": "注" * 1001}, "note"),
])
def test_bad_delivery_input_is_refused(preorder_parties, agreement, changes, field):
    data = {"delivered_on": "2025-01-10", "quantity": "1", "amount_fen": WAN, **changes}
    with pytest.raises(ValidationError) as error:
        services.record_delivery(db.session, preorder_parties.seller_user, agreement.id, data)
    assert field in error.value.fields
    assert count(PreorderDelivery) == 0


def test_acceptance_before_delivery_or_twice_is_refused(preorder_parties, agreement):
    delivery = services.record_delivery(db.session, preorder_parties.seller_user, agreement.id,
                                        {"delivered_on": "2025-01-10", "quantity": "1", "amount_fen": WAN})
    with pytest.raises(ValidationError) as error:
        services.accept_delivery(db.session, preorder_parties.buyer_user, agreement.id, delivery.id, "2025-01-09")
    assert "早于交付日期" in error.value.fields["accepted_on"]
    services.accept_delivery(db.session, preorder_parties.buyer_user, agreement.id, delivery.id, "2025-01-10")
    with pytest.raises(InvalidStateError):
        services.accept_delivery(db.session, preorder_parties.buyer_user, agreement.id, delivery.id, "2025-01-11")
    assert db.session.get(PreorderAgreement, agreement.id).accepted_fen == WAN


# --- payments and the subsidy -----------------------------------------------------------------------


def test_worked_example_one_through_deliveries_acceptance_and_payments(preorder_parties, agreement):
    deliver_and_accept(preorder_parties, agreement.id, 15000 * WAN)
    results = [pay(preorder_parties, agreement.id, amount, day)[1]
               for amount, day in ((7000 * WAN, date(2025, 3, 31)), (5000 * WAN, date(2025, 9, 30)),
                                   (2000 * WAN, date(2026, 2, 1)))]
    assert [(a[0].computed_fen, a[0].granted_fen, a[0].capped_by) for a in results] == [
        (700 * WAN, 700 * WAN, None), (500 * WAN, 300 * WAN, "recipient_calendar_year"), (200 * WAN, 200 * WAN, None)]
    assert {a[0].recipient for a in results} == {award_services.org_key(preorder_parties.seller.id)}
    with pytest.raises(ValidationError) as error:
        pay(preorder_parties, agreement.id, 2000 * WAN, date(2026, 3, 1))
    assert "超过协议金额" in error.value.fields["amount_fen"]
    rows = services.payment_rows(db.session, db.session.get(PreorderAgreement, agreement.id))
    assert [(row.payment.amount_fen, row.granted_fen) for row in rows] == [
        (7000 * WAN, 700 * WAN), (5000 * WAN, 300 * WAN), (2000 * WAN, 200 * WAN)]


def test_capped_award_is_explained_with_the_cap_read_from_the_rule_set(preorder_parties, agreement):
    deliver_and_accept(preorder_parties, agreement.id, 15000 * WAN)
    pay(preorder_parties, agreement.id, 9000 * WAN, date(2025, 3, 31))
    _, awards = pay(preorder_parties, agreement.id, 2000 * WAN, date(2025, 6, 30))
    rule_sets = award_services.active_rule_sets(db.session)
    assert services.explain_cap(rule_sets, awards[0]) == "已达年度上限（每家企业每年 1,000万元）"


def test_payment_counts_only_against_accepted_deliveries(preorder_parties, agreement):
    services.record_delivery(db.session, preorder_parties.seller_user, agreement.id,
                             {"delivered_on": "2025-01-10", "quantity": "10", "amount_fen": 1000 * WAN})
    with pytest.raises(ValidationError) as error:
        pay(preorder_parties, agreement.id, 100 * WAN, date(2025, 3, 1))
    assert "已验收" in error.value.fields["amount_fen"]
    assert (count(PreorderPayment), count(Award)) == (0, 0)


def test_payment_dated_before_signing_is_refused(preorder_parties, agreement):
    deliver_and_accept(preorder_parties, agreement.id, 100 * WAN)
    with pytest.raises(ValidationError) as error:
        pay(preorder_parties, agreement.id, 100 * WAN, date(2024, 10, 14))
    assert "paid_on" in error.value.fields
    assert count(PreorderPayment) == 0


def test_payment_with_an_unreadable_date_is_refused(preorder_parties, agreement):
    deliver_and_accept(preorder_parties, agreement.id, 100 * WAN)
    with pytest.raises(ValidationError) as error:
        services.record_payment(db.session, preorder_parties.buyer_user, agreement.id, amount_fen=WAN, paid_on="٢٠٢٥-٠٣-٠١")
    assert "paid_on" in error.value.fields


def test_agreement_completes_when_fully_paid(preorder_parties, agreement):
    deliver_and_accept(preorder_parties, agreement.id, 15000 * WAN)
    pay(preorder_parties, agreement.id, 10000 * WAN, date(2025, 3, 31))
    assert db.session.get(PreorderAgreement, agreement.id).status == AgreementStatus.SIGNED
    pay(preorder_parties, agreement.id, 5000 * WAN, date(2025, 4, 30))
    assert db.session.get(PreorderAgreement, agreement.id).status == AgreementStatus.COMPLETED
    with pytest.raises(InvalidStateError):
        services.record_delivery(db.session, preorder_parties.seller_user, agreement.id,
                                 {"delivered_on": "2025-05-10", "quantity": "1", "amount_fen": WAN})


# --- amending and ending ------------------------------------------------------------------------------


def amended_terms(**changes) -> dict:
    data = {"number": "YG-2024-001-A", "product": "车载高压储氢瓶", "description": "", "quantity": "120",
            "unit": "台", "unit_price_fen": 150 * WAN, "value_fen": None, "delivery_schedule": "",
            "signed_on": "2024-12-01", "is_related_party": False}
    data.update(changes)
    return data


def test_amendment_is_a_new_version_that_supersedes_the_old_and_keeps_its_deliveries(preorder_parties, agreement):
    delivery = deliver_and_accept(preorder_parties, agreement.id, 3000 * WAN)
    new = sign_amendment(preorder_parties.buyer_user, agreement.id, amended_terms())
    old = db.session.get(PreorderAgreement, agreement.id)
    assert (old.status, new.supersedes_id, new.value_fen) == (AgreementStatus.SUPERSEDED, old.id, 18000 * WAN)
    assert (new.buyer_id, new.seller_id, new.accepted_fen) == (old.buyer_id, old.seller_id, 3000 * WAN)
    assert db.session.get(PreorderDelivery, delivery.id).agreement_id == new.id
    assert services.superseded_by(db.session, old).id == new.id
    _, awards = pay(preorder_parties, new.id, 3000 * WAN, date(2025, 3, 1))
    assert [(a.granted_fen, a.agreement_id) for a in awards] == [(300 * WAN, new.id)]


def test_amendment_is_refused_once_something_was_paid(preorder_parties, agreement):
    deliver_and_accept(preorder_parties, agreement.id, 100 * WAN)
    pay(preorder_parties, agreement.id, 100 * WAN, date(2025, 3, 1))
    with pytest.raises(InvalidStateError) as error:
        sign_amendment(preorder_parties.seller_user, agreement.id, amended_terms())
    assert "付款" in error.value.message
    assert db.session.get(PreorderAgreement, agreement.id).status == AgreementStatus.SIGNED
    assert count(PreorderAgreement) == 1


@pytest.mark.parametrize("changes, field", [
    ({"number": "YG-2024-001"}, "number"),
    ({"signed_on": "2024-10-01"}, "signed_on"),
    ({"quantity": "10"}, "value_fen"),
])
def test_bad_amendment_is_refused(preorder_parties, agreement, changes, field):
    deliver_and_accept(preorder_parties, agreement.id, 3000 * WAN)
    with pytest.raises(ValidationError) as error:
        sign_amendment(preorder_parties.seller_user, agreement.id, amended_terms(**changes))
    assert field in error.value.fields
    assert db.session.get(PreorderAgreement, agreement.id).status == AgreementStatus.SIGNED


def test_either_party_ends_an_agreement_with_a_reason_and_both_are_told(preorder_parties, agreement):
    services.terminate_agreement(db.session, preorder_parties.buyer_user, agreement.id, "产品指标调整，双方协商解除")
    stored = db.session.get(PreorderAgreement, agreement.id)
    assert stored.status == AgreementStatus.TERMINATED
    assert services.termination_reason(db.session, stored) == "产品指标调整，双方协商解除"
    told = set(db.session.scalars(select(Notification.user_id).where(Notification.kind == services.TERMINATION_NOTICE)))
    assert {preorder_parties.seller_user.id, preorder_parties.buyer_user.id} <= told
    with pytest.raises(InvalidStateError):
        services.record_delivery(db.session, preorder_parties.seller_user, agreement.id,
                                 {"delivered_on": "2025-01-10", "quantity": "1", "amount_fen": WAN})


def test_ending_needs_a_reason_and_a_party_or_admin(preorder_parties):
    agreement = sign_agreement(preorder_parties.broker, agreement_input(preorder_parties))
    with pytest.raises(ValidationError):
        services.terminate_agreement(db.session, preorder_parties.seller_user, agreement.id, "  ")
    with pytest.raises(PermissionDeniedError):
        services.terminate_agreement(db.session, preorder_parties.broker, agreement.id, "经纪人不能终止")
    services.terminate_agreement(db.session, preorder_parties.admin, agreement.id, "平台核查：重复登记")
    assert db.session.get(PreorderAgreement, agreement.id).status == AgreementStatus.TERMINATED


# --- who sees what --------------------------------------------------------------------------------------


def test_other_organisations_and_other_brokers_get_not_found(preorder_parties, agreement, make_user):
    for stranger in (preorder_parties.outsider, make_user("broker")):
        with pytest.raises(NotFoundError):
            services.get_visible_agreement(db.session, stranger, agreement.id)
        with pytest.raises(NotFoundError):
            services.record_delivery(db.session, stranger, agreement.id,
                                     {"delivered_on": "2025-01-10", "quantity": "1", "amount_fen": WAN})
    assert count(PreorderDelivery) == 0


def test_lists_show_an_organisations_a_brokers_own_and_for_admins_all(preorder_parties, agreement, make_organisation):
    other_seller = make_organisation("enterprise", valley_id="datong", resident_since=date(2024, 1, 5))
    brokered = sign_agreement(preorder_parties.broker,
                                         agreement_input(preorder_parties, number="YG-2024-002", seller_id=other_seller.id))

    def numbers(user, **filters):
        return [a.number for a in services.list_agreements(db.session, user, **filters).items]

    assert sorted(numbers(preorder_parties.buyer_user)) == ["YG-2024-001", "YG-2024-002"]
    assert numbers(preorder_parties.seller_user) == ["YG-2024-001"]
    assert numbers(preorder_parties.broker) == ["YG-2024-002"]
    assert numbers(preorder_parties.outsider) == []
    assert numbers(preorder_parties.admin, valley="datong") == [brokered.number]
    services.terminate_agreement(db.session, preorder_parties.admin, agreement.id, "测试")
    assert numbers(preorder_parties.admin, status="terminated") == ["YG-2024-001"]


def test_signed_date_today_is_accepted(preorder_parties):
    today = utcnow().date()
    agreement = sign_agreement(preorder_parties.seller_user,
                                          agreement_input(preorder_parties, signed_on=today.isoformat()))
    assert agreement.signed_on == today
