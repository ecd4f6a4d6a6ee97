"""The hostile scenarios of money, each told whole as a dishonest user would try them, through the services and the
JSON API: a beneficiary's unconfirmed payment, awards to what is not verified, a person confirming their own record,
and evidence files read by strangers (docs/confirmations.md, "Hostile scenarios")."""
import io
from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from market.accounts.models import OrganisationVerification, VerificationStatus
from market.awards import services as award_services
from market.awards.ledger import balances
from market.awards.models import Award, AwardStatus, HoldReason
from market.confirmations.models import FactStatus
from market.deals.brokers import accept_broker_request, ask_to_join_deal, invite_broker
from market.deals.models import Deal, DealPayment, DealRegistration, DealSigning, DealStage, RegistrationStatus
from market.deals.payments import confirm_deal_payment, record_deal_payment
from market.deals.permissions import missing_terms_seats
from market.deals.pipeline import accept_terms, update_terms
from market.deals.recording import today
from market.deals.registrations import verify_registration
from market.deals.signing import confirm_signing, record_signing
from market.errors import InvalidStateError, NotFoundError, PermissionDeniedError, RuleViolationError
from market.extensions import db
from market.organisations import verification
from market.preorders import payments as preorder_payments
from market.preorders import proposals
from market.preorders import services as preorders
from market.preorders.models import AgreementStatus, PreorderAgreement, PreorderDelivery, PreorderPayment
from tests.api.test_api_payments_idempotency import decide, send
from tests.api_requests import bearer
from tests.conftest import RESIDENT_SINCE, WAN, client_for
from tests.payments import RECEIPT_PDF, member_of, receipt, record_and_confirm_preorder_payment, with_evidence
from tests.services.test_registration_verification import achievement_cap_used
from tests.views.test_payment_evidence_views import download

PAID_ON = date(2025, 4, 30)
CODE = "91140000110114391W"


def awards_of(**where) -> list[Award]:
    db.session.expire_all()
    query = select(Award).order_by(Award.id)
    for name, value in where.items():
        query = query.where(getattr(Award, name) == value)
    return list(db.session.scalars(query))


def balance(account: str) -> int:
    return balances(db.session, account).get(account, 0)


def submit(app, member, organisation) -> OrganisationVerification:
    """A member submits the organisation's credit code and business licence."""
    return verification.submit_verification(db.session, member, organisation.id, credit_code=CODE,
                                            filename="营业执照.pdf", stream=io.BytesIO(RECEIPT_PDF),
                                            upload_folder=app.config["UPLOAD_FOLDER"])


# ---------------------------------------------------------------- 2. the beneficiary's unconfirmed payment


def test_the_broker_cannot_confirm_the_proceeds_that_pay_him_nor_can_an_intermediary_inside_the_payer(
        client, make_registered_deal, make_user, make_organisation):
    payer_company = make_organisation("enterprise", region="忻州市")
    insider = make_user("broker", organisation=payer_company)
    broker = make_user("broker")
    deal, researcher, _ = make_registered_deal(transferee=payer_company, broker=broker,
                                               brokers=[broker, insider, make_user("broker")])
    payer, admin = member_of(payer_company.id, besides=insider), make_user("admin")

    recorded = send(client, f"/api/v1/deals/{deal.id}/payments", bearer(broker),
                    {"amount_fen": 600 * WAN, "date": PAID_ON.isoformat()})
    assert recorded.status_code == 201
    assert (recorded.get_json()["recorded_as"], recorded.get_json()["evidence"], recorded.get_json()["awards"]) == (
        "broker", None, [])
    payment_id = recorded.get_json()["id"]
    assert awards_of(deal_id=deal.id) == [] and db.session.get(Deal, deal.id).paid_fen == 0
    refusals = {person.id: decide(client, person, payment_id) for person in (broker, researcher, insider)}
    assert [response.status_code for response in refusals.values()] == [403, 403, 403]
    assert "自己" in refusals[broker.id].get_json()["message"]
    assert "受益人" in refusals[insider.id].get_json()["message"]
    assert awards_of(deal_id=deal.id) == []

    disputed = decide(client, payer, payment_id, "dispute", body={"reason": "我方未支付这笔款项"})
    assert (disputed.status_code, disputed.get_json()["status"]["code"]) == (200, "disputed")
    assert decide(client, payer, payment_id).status_code == 403  # a disputed payment is settled by an admin
    unproven = decide(client, admin, payment_id)
    assert unproven.status_code == 409 and "回款凭证" in unproven.get_json()["message"]
    refused = decide(client, admin, payment_id, "refuse", body={"reason": "无银行回单，受让方否认付款"})
    assert (refused.status_code, refused.get_json()["status"]["code"]) == (200, "refused")
    assert awards_of(deal_id=deal.id) == [] and db.session.get(Deal, deal.id).paid_fen == 0
    assert balance(f"awarded:{award_services.person_key(broker.id)}") == 0

    # A payment the payer does confirm earns, dated by the payment, not before.
    again = record_deal_payment(db.session, broker, deal.id, amount_fen=600 * WAN, paid_on=PAID_ON)
    assert awards_of(deal_id=deal.id) == []
    _, awards = confirm_deal_payment(db.session, payer, again.id)
    assert [(a.granted_fen, a.status, a.event_date) for a in awards] == [
        (60 * WAN, AwardStatus.PAYABLE, PAID_ON), (36 * WAN, AwardStatus.PAYABLE, PAID_ON),
        (24 * WAN, AwardStatus.PAYABLE, PAID_ON)]
    assert balance(f"awarded:{award_services.person_key(broker.id)}") == 60 * WAN


def test_the_seller_cannot_record_the_payment_that_earns_its_subsidy_and_confirms_only_what_the_buyer_says(
        client, signed_agreement, make_user):
    agreement, seller = signed_agreement
    buyer, admin = member_of(agreement.buyer_id), make_user("admin")
    path = f"/api/v1/preorders/{agreement.id}/payments"
    body = {"amount_fen": 7000 * WAN, "date": "2025-03-31"}
    with pytest.raises(PermissionDeniedError, match="采购方"):
        preorder_payments.record_preorder_payment(db.session, seller, agreement.id, amount_fen=7000 * WAN,
                                                  paid_on=date(2025, 3, 31))
    assert send(client, path, bearer(seller), body, key="seller-claims").status_code == 403
    assert db.session.scalar(select(func.count()).select_from(PreorderPayment)) == 0

    recorded = send(client, path, bearer(buyer), body, key="buyer-pays")
    assert (recorded.status_code, recorded.get_json()["awards"]) == (201, [])
    payment_id = recorded.get_json()["id"]
    assert decide(client, buyer, payment_id, kind="preorder").status_code == 403
    assert awards_of(agreement_id=agreement.id) == []
    disputed = decide(client, seller, payment_id, "dispute", kind="preorder", body={"reason": "未收到该笔货款"})
    assert disputed.status_code == 200
    assert decide(client, seller, payment_id, kind="preorder").status_code == 403
    assert decide(client, admin, payment_id, kind="preorder").status_code == 409  # no invoice: no admin confirmation
    assert decide(client, admin, payment_id, "refuse", kind="preorder", body={"reason": "无付款凭证"}).status_code == 200
    assert awards_of(agreement_id=agreement.id) == []
    assert db.session.get(PreorderAgreement, agreement.id).paid_fen == 0

    _, awards = record_and_confirm_preorder_payment(seller, agreement.id, amount_fen=7000 * WAN, paid_on="2025-03-31")
    assert [(a.rule, a.granted_fen, a.status) for a in awards] == [("R1", 700 * WAN, AwardStatus.PAYABLE)]


def test_a_payment_the_agreements_broker_records_is_not_confirmed_by_the_seller_alone(make_agreement, make_user):
    broker = make_user("broker")
    agreement = make_agreement(broker_id=broker.id, deliveries=[(15_000 * WAN, date(2025, 1, 10))])
    seller = member_of(agreement.seller_id)
    payment = preorder_payments.record_preorder_payment(db.session, broker, agreement.id, amount_fen=7000 * WAN,
                                                        paid_on=date(2025, 3, 31))
    assert payment.recorded_as == "broker"
    with pytest.raises(PermissionDeniedError):  # the buyer, who pays, never said it paid
        preorder_payments.confirm_preorder_payment(db.session, seller, payment.id)
    assert awards_of(agreement_id=agreement.id) == []
    assert db.session.get(PreorderPayment, payment.id).status == FactStatus.RECORDED
    _, awards = preorder_payments.confirm_preorder_payment(db.session, member_of(agreement.buyer_id), payment.id)
    assert [(a.rule, a.granted_fen, a.status) for a in awards] == [("R1", 700 * WAN, AwardStatus.PAYABLE)]


# ---------------------------------------------------------------- 5. the unverified organisation or registration


def test_awards_under_an_unverified_registration_are_held_until_an_admin_verifies_it(client, make_registered_deal,
                                                                                   make_user):
    deal, researcher, brokers = make_registered_deal(registration_verified=False)
    payment = record_deal_payment(db.session, researcher, deal.id, amount_fen=600 * WAN, paid_on=PAID_ON)
    _, awards = confirm_deal_payment(db.session, member_of(deal.transferee_id), payment.id)
    assert [(a.granted_fen, a.status, a.hold_reason) for a in awards] == [
        (amount, AwardStatus.HELD, HoldReason.AWAITING_VERIFICATION) for amount in (60 * WAN, 36 * WAN, 24 * WAN)]
    first = award_services.person_key(brokers[0].id)
    assert (balance(f"held:{first}"), balance(f"awarded:{first}")) == (60 * WAN, 0)
    assert achievement_cap_used(deal.achievement_id) == 120 * WAN  # held, yet counted under the ¥2M cap
    items = client.get(f"/api/v1/deals/{deal.id}/awards", headers=bearer(brokers[0])).get_json()["items"]
    assert {(item["status"]["code"], item["hold_reason"]) for item in items} == {("held", "awaiting_verification")}
    admin = make_user("admin")
    with pytest.raises(RuleViolationError, match="只有待审批的奖补可以审批（当前：暂缓发放（待核验））"):
        award_services.approve_award(db.session, admin, awards[0].id)
    registration_id = db.session.get(Deal, deal.id).current_registration.id
    with pytest.raises(NotFoundError):  # a named intermediary does not even see the registration's documents
        verify_registration(db.session, brokers[0], registration_id)
    with pytest.raises(PermissionDeniedError):
        verify_registration(db.session, researcher, registration_id)

    verify_registration(db.session, admin, registration_id)
    assert [a.status for a in awards_of(deal_id=deal.id)] == [AwardStatus.PAYABLE] * 3
    assert (balance(f"held:{first}"), balance(f"awarded:{first}")) == (0, 60 * WAN)
    assert award_services.approve_award(db.session, admin, awards[0].id).status == AwardStatus.APPROVED


def test_a_subsidy_to_an_unverified_seller_is_held_reversed_with_its_headroom_on_refusal_and_released_on_verification(
        app, make_agreement, make_organisation, make_user):
    company = make_organisation("enterprise", valley_id="taiyuan", resident_since=RESIDENT_SINCE)
    seller = make_user("enterprise", organisation=company)
    assert company.verification_status == VerificationStatus.UNVERIFIED
    agreement = make_agreement(seller=seller, deliveries=[(15_000 * WAN, date(2025, 1, 10), date(2025, 1, 20))])
    key, admin = award_services.org_key(company.id), make_user("admin")

    _, (held,) = record_and_confirm_preorder_payment(seller, agreement.id, amount_fen=7000 * WAN, paid_on="2025-03-31")
    assert (held.granted_fen, held.status, held.hold_reason) == (700 * WAN, AwardStatus.HELD,
                                                                 HoldReason.AWAITING_VERIFICATION)
    assert (balance(f"held:{key}"), balance(f"awarded:{key}")) == (700 * WAN, 0)
    with pytest.raises(RuleViolationError):
        award_services.approve_award(db.session, admin, held.id)
    with pytest.raises(PermissionDeniedError):
        verification.verify_organisation(db.session, seller, submit(app, seller, company).id)

    verification.refuse_verification(db.session, admin, db.session.scalar(select(OrganisationVerification.id)),
                                     reason="营业执照与机构名称不符")
    assert awards_of(id=held.id)[0].status == AwardStatus.REVERSED
    assert (balance(f"held:{key}"), balance(f"awarded:{key}")) == (0, 0)
    # the ¥10M yearly cap has its ¥7M back: a second ¥70M earns ¥7M again (¥3M were it still counted)
    _, (second,) = record_and_confirm_preorder_payment(seller, agreement.id, amount_fen=7000 * WAN,
                                                       paid_on="2025-04-30")
    assert (second.granted_fen, second.status) == (700 * WAN, AwardStatus.HELD)

    verification.verify_organisation(db.session, admin, submit(app, seller, company).id)
    assert (awards_of(id=second.id)[0].status, awards_of(id=second.id)[0].hold_reason) == (AwardStatus.PAYABLE, None)
    assert (balance(f"held:{key}"), balance(f"awarded:{key}")) == (0, 700 * WAN)
    assert award_services.approve_award(db.session, admin, second.id).status == AwardStatus.APPROVED


# ---------------------------------------------------------------- 7. nobody confirms their own record


def _broker_ask(w):
    deal = w.make_deal(broker=None)
    request = ask_to_join_deal(db.session, w.other_broker, deal.id)
    return (lambda: accept_broker_request(db.session, w.other_broker, deal.id, request.id),
            lambda: db.session.get(Deal, deal.id).broker_id is None)


def _broker_invitation(w):
    deal = w.make_deal(broker=None)
    invitation = invite_broker(db.session, w.researcher, deal.id, broker_id=w.other_broker.id)
    return (lambda: accept_broker_request(db.session, w.researcher, deal.id, invitation.id),
            lambda: db.session.get(Deal, deal.id).broker_id is None)


def _terms(w):
    deal = w.make_deal(DealStage.PRICING, terms_accepted=False)
    update_terms(db.session, w.buyer, deal.id, agreed_amount_fen=90 * WAN, mode="assignment", inventor_share_bp=7000)
    version = db.session.get(Deal, deal.id).terms_version
    return (lambda: accept_terms(db.session, w.buyer, deal.id, version),
            lambda: len(missing_terms_seats(db.session.get(Deal, deal.id))) == 1)


def _signing(w):
    deal = w.make_deal(DealStage.NOTICE)
    signing = record_signing(db.session, w.broker, deal.id, signed_on=today(),
                             agreed_amount_fen=db.session.get(Deal, deal.id).agreed_amount_fen)
    return (lambda: confirm_signing(db.session, w.broker, signing.id),
            lambda: db.session.get(DealSigning, signing.id).status == FactStatus.RECORDED)


def _registration(w):
    deal = w.make_deal(DealStage.REGISTERED, registration_verified=False)
    registration = db.session.get(Deal, deal.id).current_registration
    return (lambda: verify_registration(db.session, w.researcher, registration.id),
            lambda: db.session.get(DealRegistration, registration.id).status == RegistrationStatus.AWAITING)


def _deal_payment(w):
    deal = w.make_deal(DealStage.REGISTERED)
    payment = record_deal_payment(db.session, w.buyer, deal.id, amount_fen=10 * WAN, paid_on=today())
    return (lambda: confirm_deal_payment(db.session, w.buyer, payment.id),
            lambda: db.session.get(DealPayment, payment.id).status == FactStatus.RECORDED)


def _delivery(w):
    agreement = w.make_agreement()
    seller = member_of(agreement.seller_id)
    delivery = preorders.record_delivery(db.session, seller, agreement.id, {
        "delivered_on": "2025-01-10", "quantity": "1", "amount_fen": 100 * WAN})
    return (lambda: preorders.accept_delivery(db.session, seller, agreement.id, delivery.id, "2025-01-20"),
            lambda: db.session.get(PreorderDelivery, delivery.id).accepted_on is None)


def _preorder_payment(w):
    agreement = w.make_agreement(deliveries=[(100 * WAN, date(2025, 1, 10))])
    buyer = member_of(agreement.buyer_id)
    payment = preorder_payments.record_preorder_payment(db.session, buyer, agreement.id, amount_fen=100 * WAN,
                                                        paid_on=date(2025, 2, 1))
    return (lambda: preorder_payments.confirm_preorder_payment(db.session, buyer, payment.id),
            lambda: db.session.get(PreorderPayment, payment.id).status == FactStatus.RECORDED)


def _preorder_agreement(w):
    seller, buyer = w.make_user("enterprise"), w.make_user("enterprise")
    agreement = proposals.create_agreement(db.session, seller, {
        "buyer_id": buyer.organisation_id, "seller_id": seller.organisation_id, "number": "YG-OWN-1", "product": "储氢瓶",
        "quantity": "1", "unit": "批", "unit_price_fen": 100 * WAN, "signed_on": "2024-10-15"})
    return (lambda: proposals.confirm_agreement(db.session, seller, agreement.id),
            lambda: db.session.get(PreorderAgreement, agreement.id).status == AgreementStatus.PROPOSED)


def _organisation(w):
    member = w.make_user("enterprise")
    submission = submit(w.app, member, member.organisation)
    return (lambda: verification.verify_organisation(db.session, member, submission.id),
            lambda: member.organisation.verification_status == VerificationStatus.SUBMITTED)


OWN_RECORDS = {"broker ask": (_broker_ask, PermissionDeniedError, "自己发起"),
               "broker invitation": (_broker_invitation, PermissionDeniedError, "自己发起"),
               "terms": (_terms, InvalidStateError, "您已确认"),
               "signing": (_signing, PermissionDeniedError, "自己登记"),
               "registration": (_registration, PermissionDeniedError, None),
               "proceeds payment": (_deal_payment, PermissionDeniedError, "自己登记"),
               "pre-order agreement": (_preorder_agreement, PermissionDeniedError, "自己登记"),
               "delivery": (_delivery, PermissionDeniedError, "买方"),
               "pre-order payment": (_preorder_payment, PermissionDeniedError, "自己登记"),
               "organisation verification": (_organisation, PermissionDeniedError, None)}


@pytest.mark.parametrize("fact", OWN_RECORDS)
def test_nobody_confirms_their_own_record(app, fact, deal_world, make_deal, make_agreement, make_user):
    build, error, words = OWN_RECORDS[fact]
    world = SimpleNamespace(**vars(deal_world), app=app, make_deal=make_deal, make_agreement=make_agreement,
                            make_user=make_user)
    attempt, unchanged = build(world)
    with pytest.raises(error) as refused:
        attempt()
    assert words is None or words in str(refused.value)
    db.session.expire_all()
    assert unchanged()


# ---------------------------------------------------------------- 7. evidence files


def test_evidence_files_are_for_the_parties_the_deals_broker_and_admins_only(
        app, client, make_registered_deal, signed_agreement, make_user):
    deal_broker = make_user("broker")
    deal, researcher, brokers = make_registered_deal(broker=deal_broker)
    payment = record_deal_payment(db.session, researcher, deal.id, amount_fen=600 * WAN, paid_on=PAID_ON,
                                  evidence=receipt())
    registration = db.session.get(Deal, deal.id).current_registration
    agreement, seller = signed_agreement
    invoice = with_evidence(preorder_payments.record_preorder_payment(
        db.session, member_of(agreement.buyer_id), agreement.id, amount_fen=100 * WAN, paid_on=date(2025, 3, 31)))
    applicant = make_user("enterprise")
    licence = submit(app, applicant, applicant.organisation)
    db.session.commit()
    deal_files = [f"/deals/payments/{payment.id}/evidence", f"/deals/registrations/{registration.id}/certificate"]
    other_files = [f"/contracts/payments/{invoice.id}/evidence", f"/organisations/verifications/{licence.id}/licence"]

    outsider, tracker, intermediary = make_user("enterprise"), make_user("broker"), brokers[0]
    for stranger in (outsider, tracker, intermediary):
        browser = client_for(app, stranger)
        assert [download(browser, path)[0] for path in deal_files + other_files] == [404] * 4
        api = bearer(stranger)
        assert client.get(f"/api/v1/deal-registrations/{registration.id}", headers=api).status_code == 404
        upload = client.post(f"/api/v1/deal-payments/{payment.id}/evidence", headers=api,
                             data={"evidence": (io.BytesIO(RECEIPT_PDF), "伪造回单.pdf")})
        assert upload.status_code in (403, 404)
    assert client.get(f"/api/v1/deals/{deal.id}", headers=bearer(outsider)).status_code == 404
    assert app.test_client().get(deal_files[0]).status_code == 302  # a visitor is sent to the login page

    for person in (member_of(deal.transferee_id), deal_broker, make_user("admin")):
        browser = client_for(app, person)
        assert [download(browser, path)[::2] for path in deal_files] == [(200, RECEIPT_PDF)] * 2
        assert client.get(f"/api/v1/deal-registrations/{registration.id}", headers=bearer(person)).status_code == 200
    assert download(client_for(app, seller), other_files[0])[0] == 200
    assert download(client_for(app, applicant), other_files[1])[0] == 200
    assert db.session.get(DealPayment, payment.id).evidence_uploaded_by_id == researcher.id
