"""Technology-contract registrations on the pages and the API: recorded with the certificate on the deal page, listed
in the admin queue with the certificate, verified or refused by an admin (the deal page's buttons, the queue, the API),
the certificate downloaded by the parties only."""
import io
from datetime import date

from sqlalchemy import select

from market.awards.models import Award, AwardStatus, HoldReason
from market.deals.models import Deal, DealRegistration, DealStage, RegistrationStatus
from market.extensions import db
from tests.api_requests import bearer, schema_validator
from tests.conftest import client_for
from tests.payments import RECEIPT_PDF, member_of, record_and_confirm_deal_payment
from tests.views.test_deal_views import flashed_after, page_of
from tests.views.test_payment_evidence_views import download

WAN = 1_000_000


def registration_of(deal_id: int) -> DealRegistration:
    db.session.expire_all()
    return db.session.get(Deal, deal_id).registrations[-1]


def test_the_transferor_records_the_registration_with_its_certificate_on_the_deal_page(app, make_deal, deal_world):
    deal = make_deal(DealStage.SIGNED)
    owner = client_for(app, deal_world.researcher)
    day = db.session.get(Deal, deal.id).signed_on.isoformat()
    missing = owner.post(f"/deals/{deal.id}/register", data={"registration_number": "2025-0501", "registered_on": day})
    assert missing.status_code == 422 and "请上传技术合同登记证明（PDF）。" in page_of(missing)
    response = owner.post(f"/deals/{deal.id}/register", data={
        "registration_number": "2025-0501", "registered_on": day, "certificate": (io.BytesIO(RECEIPT_PDF), "登记证明.pdf")})
    page = flashed_after(owner, response)
    registration = registration_of(deal.id)
    assert registration.status == RegistrationStatus.AWAITING and registration.certificate_original_name == "登记证明.pdf"
    assert "待核验" in page and f"/deals/registrations/{registration.id}/certificate" in page
    assert f"/deals/registrations/{registration.id}/decide/verify" not in page  # the recorder does not decide
    assert download(client_for(app, member_of(deal.transferee_id)),
                    f"/deals/registrations/{registration.id}/certificate") == (200, "application/pdf", RECEIPT_PDF)
    for stranger in (deal_world.outsider, deal_world.other_broker):
        assert download(client_for(app, stranger), f"/deals/registrations/{registration.id}/certificate")[0] == 404


def test_the_admin_queue_lists_registrations_with_their_certificates_and_verifies_them(app, make_registered_deal,
                                                                                     deal_world):
    deal, researcher, _ = make_registered_deal(registration_verified=False)
    _, awards = record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=date(2025, 4, 30))
    registration = registration_of(deal.id)
    admin = client_for(app, deal_world.admin)
    page = page_of(admin.get("/admin/registrations"))
    assert registration.registration_number in page and deal.title in page
    assert f"/deals/registrations/{registration.id}/certificate" in page
    assert f"/admin/registrations/{registration.id}/verify" in page
    deal_page = page_of(admin.get(f"/deals/{deal.id}"))
    assert f"/deals/registrations/{registration.id}/decide/verify" in deal_page and "暂缓发放（待核验）" in deal_page
    assert f"/deals/registrations/{registration.id}/decide/verify" not in page_of(client_for(app, researcher).get(f"/deals/{deal.id}"))
    flashed_after(admin, admin.post(f"/admin/registrations/{registration.id}/verify", data={}))
    assert registration_of(deal.id).status == RegistrationStatus.VERIFIED
    assert {db.session.get(Award, a.id).status for a in awards} == {AwardStatus.PAYABLE}
    assert "没有待核验的技术合同登记。" in page_of(admin.get("/admin/registrations"))


def test_an_admin_refuses_from_the_deal_page_with_a_reason_everyone_sees(app, make_registered_deal, deal_world):
    deal, researcher, _ = make_registered_deal(registration_verified=False)
    registration = registration_of(deal.id)
    admin = client_for(app, deal_world.admin)
    without = admin.post(f"/deals/registrations/{registration.id}/decide/refuse", data={"reason": ""})
    assert "请说明理由" in flashed_after(admin, without) or registration_of(deal.id).status == RegistrationStatus.AWAITING
    assert registration_of(deal.id).status == RegistrationStatus.AWAITING
    flashed_after(admin, admin.post(f"/deals/registrations/{registration.id}/decide/refuse", data={"reason": "登记编号与证明不符"}))
    assert registration_of(deal.id).status == RegistrationStatus.REFUSED
    page = page_of(client_for(app, researcher).get(f"/deals/{deal.id}"))
    assert "登记编号与证明不符" in page and "已驳回" in page
    assert db.session.get(Deal, deal.id).stage == DealStage.SIGNED


def test_the_api_records_a_registration_and_an_admin_decides_it(app, client, make_registered_deal, make_deal,
                                                               deal_world):
    deal = make_deal(DealStage.SIGNED)
    day = db.session.get(Deal, deal.id).signed_on.isoformat()
    path = f"/api/v1/deals/{deal.id}/registrations"
    form = {"registration_number": "2025-0601", "registered_on": day}
    assert client.post(path, json=form, headers=bearer(deal_world.researcher)).status_code == 415
    refused = client.post(path, data=form, content_type="multipart/form-data", headers=bearer(deal_world.researcher))
    assert refused.status_code == 422 and "certificate" in refused.get_json()["fields"]
    created = client.post(path, data={"registration_number": "2025-0601", "registered_on": day,
                                      "certificate": (io.BytesIO(RECEIPT_PDF), "登记证明.pdf")},
                          headers=bearer(deal_world.researcher))
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert not list(schema_validator("DealRegistration").iter_errors(body))
    assert body["status"]["code"] == "awaiting_verification"
    decide = f"/api/v1/deal-registrations/{body['id']}"
    assert client.post(f"{decide}/verify", headers=bearer(deal_world.researcher), json={}).status_code == 403
    assert client.post(f"{decide}/verify", headers=bearer(deal_world.outsider), json={}).status_code == 404
    assert client.post(f"{decide}/refuse", headers=bearer(deal_world.admin), json={"reason": ""}).status_code == 422
    assert client.post(f"{decide}/approve", headers=bearer(deal_world.admin), json={}).status_code == 404
    verified = client.post(f"{decide}/verify", headers=bearer(deal_world.admin), json={})
    assert verified.status_code == 200 and verified.get_json()["status"]["code"] == "verified"
    assert client.post(f"{decide}/refuse", headers=bearer(deal_world.admin),
                       json={"reason": "迟到的驳回"}).status_code == 409


def test_the_api_shows_why_an_award_is_held(app, client, make_registered_deal, deal_world):
    deal, researcher, _ = make_registered_deal(registration_verified=False)
    record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=date(2025, 4, 30))
    items = client.get(f"/api/v1/deals/{deal.id}/awards", headers=bearer(researcher)).get_json()["items"]
    assert {(item["status"]["code"], item["hold_reason"], item["status"]["label"]) for item in items} == {
        ("held", "awaiting_verification", "暂缓发放（待核验）")}
    assert db.session.scalar(select(Award.hold_reason)) == HoldReason.AWAITING_VERIFICATION


def migrated_registration(make_registered_deal, **kwargs) -> tuple[Deal, DealRegistration]:
    """A deal whose registration the migration left awaiting verification without a certificate or a recorder."""
    deal, _, _ = make_registered_deal(registration_verified=False, **kwargs)
    registration = registration_of(deal.id)
    registration.recorded_by_id = registration.recorded_as = registration.certificate_stored_name = None
    registration.certificate_original_name = ""
    db.session.commit()
    return deal, registration


def test_the_transferor_adds_the_missing_certificate_on_the_deal_page_before_an_admin_verifies(
        app, make_registered_deal, deal_world):
    deal, registration = migrated_registration(make_registered_deal)
    owner, admin = client_for(app, member_of(deal.transferor_id)), client_for(app, deal_world.admin)
    add = f"/deals/registrations/{registration.id}/certificate"
    admin_page = page_of(admin.get(f"/deals/{deal.id}"))
    assert f"/deals/registrations/{registration.id}/decide/verify" not in admin_page and "补充登记证明后才能核验。" in admin_page
    assert add not in admin_page
    queue = page_of(admin.get("/admin/registrations"))
    assert "须由成果转让方或项目经纪人补充上传后才能核验" in queue
    assert f"/admin/registrations/{registration.id}/verify" not in queue
    refused = admin.post(f"/deals/registrations/{registration.id}/decide/verify")
    assert "还没有登记证明" in flashed_after(admin, refused)
    assert registration_of(deal.id).status == RegistrationStatus.AWAITING
    assert f'action="{add}"' in page_of(owner.get(f"/deals/{deal.id}"))
    not_pdf = owner.post(add, data={"certificate": (io.BytesIO(b"PK zip"), "证明.pdf")})
    assert "文件内容不是 PDF。" in flashed_after(owner, not_pdf) and not registration_of(deal.id).has_certificate
    buyer = client_for(app, member_of(deal.transferee_id))
    assert f'action="{add}"' not in page_of(buyer.get(f"/deals/{deal.id}"))
    forbidden = buyer.post(add, data={"certificate": (io.BytesIO(RECEIPT_PDF), "证明.pdf")})
    assert "登记证明由成果转让方或项目经纪人上传。" in flashed_after(buyer, forbidden)
    assert client_for(app, deal_world.outsider).post(
        add, data={"certificate": (io.BytesIO(RECEIPT_PDF), "证明.pdf")}).status_code == 404
    assert not registration_of(deal.id).has_certificate
    added = owner.post(add, data={"certificate": (io.BytesIO(RECEIPT_PDF), "补充登记证明.pdf")})
    page = flashed_after(owner, added)
    assert "登记证明已上传，待平台运营人员核验。" in page and "补充登记证明.pdf" in page and f'action="{add}"' not in page
    assert download(owner, f"/deals/registrations/{registration.id}/certificate") == (200, "application/pdf", RECEIPT_PDF)
    assert f"/admin/registrations/{registration.id}/verify" in page_of(admin.get("/admin/registrations"))
    flashed_after(admin, admin.post(f"/deals/registrations/{registration.id}/decide/verify"))
    assert registration_of(deal.id).status == RegistrationStatus.VERIFIED


def test_the_api_adds_the_missing_certificate_for_the_broker_and_refuses_others(app, client, make_registered_deal,
                                                                                make_user, deal_world):
    broker = make_user("broker")
    deal, registration = migrated_registration(make_registered_deal, broker=broker)
    path = f"/api/v1/deal-registrations/{registration.id}/certificate"
    verify = f"/api/v1/deal-registrations/{registration.id}/verify"
    refused = client.post(verify, headers=bearer(deal_world.admin), json={})
    assert refused.status_code == 409 and "还没有登记证明" in refused.get_json()["message"]

    def upload(user, name="证明.pdf", data=RECEIPT_PDF):
        return client.post(path, data={"certificate": (io.BytesIO(data), name)}, headers=bearer(user))

    assert client.post(path, json={}, headers=bearer(broker)).status_code == 415
    assert upload(member_of(deal.transferee_id)).status_code == 403
    assert upload(deal_world.admin).status_code == 403
    assert upload(deal_world.outsider).status_code == 404
    missing = client.post(path, data={}, content_type="multipart/form-data", headers=bearer(broker))
    assert missing.status_code == 422 and missing.get_json()["fields"] == {"certificate": "请上传技术合同登记证明（PDF）。"}
    assert upload(broker, "证明.txt").status_code == 422
    assert not registration_of(deal.id).has_certificate
    added = upload(broker, "补充证明.pdf")
    assert added.status_code == 200, added.get_json()
    body = added.get_json()
    assert not list(schema_validator("DealRegistration").iter_errors(body))
    assert (body["certificate_file_name"], body["status"]["code"]) == ("补充证明.pdf", "awaiting_verification")
    assert upload(broker).status_code == 409
    verified = client.post(verify, headers=bearer(deal_world.admin), json={})
    assert verified.status_code == 200 and verified.get_json()["status"]["code"] == "verified"
