"""The verification and residency pages: upload, the admin's queue and decisions, residency forms, PDF access."""
import io

from sqlalchemy import select

from market.accounts.models import OrganisationVerification, Residency, VerificationStatus
from market.extensions import db
from market.notifications.models import Notification
from market.organisations import verification

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
CODE = "91330100716105852F"


def _upload(client, organisation_id, code=CODE, data=PDF, filename="执照.pdf"):
    return client.post(f"/organisations/{organisation_id}/verification",
                       data={"credit_code": code, "licence": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def _download(client, path: str) -> bytes:
    """A PDF the signed-in user may download (the response closed, so its file is too)."""
    response = client.get(path)
    assert (response.status_code, response.mimetype) == (200, "application/pdf")
    data = response.data
    response.close()
    return data


def _submitted(make_user, app):
    member = make_user("enterprise")
    submission = verification.submit_verification(db.session, member, member.organisation_id, credit_code=CODE,
                                                  filename="执照.pdf", stream=io.BytesIO(PDF),
                                                  upload_folder=app.config["UPLOAD_FOLDER"])
    db.session.commit()
    return member, submission


def test_a_member_uploads_the_licence_and_sees_the_state(client, login_as):
    member = login_as("enterprise")
    answer = _upload(client, member.organisation_id)
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"/organisations/{member.organisation_id}/verification"
    submission = db.session.scalars(select(OrganisationVerification)).one()
    assert (submission.credit_code, submission.status) == (CODE, VerificationStatus.SUBMITTED)
    text = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "认证申请已提交" in text and CODE in text and "提交认证材料" not in text
    assert _download(client, f"/organisations/verifications/{submission.id}/licence") == PDF
    assert "认证与入驻" in client.get("/profile").get_data(as_text=True)


def test_a_wrong_check_character_is_shown_next_to_the_field(client, login_as):
    member = login_as("enterprise")
    page = _upload(client, member.organisation_id, code=CODE[:17] + "G")
    assert page.status_code == 422
    assert "统一社会信用代码的校验位不正确" in page.get_data(as_text=True)
    assert db.session.scalars(select(OrganisationVerification)).all() == []


def test_a_file_that_is_not_a_pdf_is_refused(client, login_as):
    member = login_as("enterprise")
    page = _upload(client, member.organisation_id, data=b"GIF89a", filename="执照.pdf")
    assert page.status_code == 422 and "文件内容不是 PDF。" in page.get_data(as_text=True)
    assert db.session.scalars(select(OrganisationVerification)).all() == []


def test_others_cannot_see_or_submit_an_organisations_verification(app, client, login_as, make_user):
    member, submission = _submitted(make_user, app)
    login_as("enterprise")
    assert client.get(f"/organisations/{member.organisation_id}/verification").status_code == 404
    assert _upload(client, member.organisation_id).status_code == 404
    assert client.get(f"/organisations/verifications/{submission.id}/licence").status_code == 404
    client.post("/logout")
    assert client.get(f"/organisations/verifications/{submission.id}/licence").status_code == 302
    assert len(db.session.scalars(select(OrganisationVerification)).all()) == 1


def test_the_admin_queue_shows_the_pdf_and_verifies(app, client, login_as, make_user):
    member, submission = _submitted(make_user, app)
    login_as("admin")
    queue = client.get("/admin/verifications").get_data(as_text=True)
    assert f"/organisations/verifications/{submission.id}/licence" in queue and CODE in queue
    assert _download(client, f"/organisations/verifications/{submission.id}/licence") == PDF
    answer = client.post(f"/admin/verifications/{submission.id}/verify")
    assert answer.status_code == 302 and answer.headers["Location"] == "/admin/verifications"
    db.session.expire_all()
    assert member.organisation.is_verified and member.organisation.credit_code == CODE
    assert "没有待审核的机构认证" in client.get("/admin/verifications").get_data(as_text=True)
    assert client.post(f"/admin/verifications/{submission.id}/verify").status_code == 302  # already decided: a message
    assert client.post("/admin/verifications/999999/verify").status_code == 404


def test_the_admin_refuses_with_a_reason_the_organisation_sees(app, client, login_as, make_user, login):
    member, submission = _submitted(make_user, app)
    login_as("admin")
    missing = client.post(f"/admin/verifications/{submission.id}/refuse", data={"reason": ""})
    assert missing.status_code == 422 and "请填写不通过的原因。" in missing.get_data(as_text=True)
    answer = client.post(f"/admin/verifications/{submission.id}/refuse", data={"reason": "执照上的名称与机构名称不一致"})
    assert answer.status_code == 302
    db.session.expire_all()
    assert member.organisation.verification_status == VerificationStatus.REFUSED
    assert db.session.scalars(select(Notification.title).where(Notification.user_id == member.id)).one() \
        == f"机构认证未通过：{member.organisation.name}"
    client.post("/logout")
    login(member)
    page = client.get(f"/organisations/{member.organisation_id}/verification").get_data(as_text=True)
    assert "执照上的名称与机构名称不一致" in page and "提交认证材料" in page
    assert _upload(client, member.organisation_id).status_code == 302
    assert len(db.session.scalars(select(OrganisationVerification)).all()) == 2


def test_a_member_cannot_use_the_admin_pages(app, client, make_user, login):
    member, submission = _submitted(make_user, app)
    login(member)
    assert client.post(f"/admin/verifications/{submission.id}/verify").status_code == 403
    assert client.post(f"/admin/organisations/{member.organisation_id}/residencies",
                       data={"valley": "taiyuan", "since": "2024-05-01"}).status_code == 403
    db.session.expire_all()
    assert member.organisation.verification_status == VerificationStatus.SUBMITTED
    assert db.session.scalars(select(Residency)).all() == []


def test_the_admin_records_and_ends_a_residency_on_the_organisation_page(client, login_as, make_user):
    member = make_user("enterprise")
    organisation_id = member.organisation_id
    login_as("admin")
    assert client.get("/admin/organisations").status_code == 200
    page = client.get(f"/admin/organisations/{organisation_id}")
    assert page.status_code == 200 and "暂无入驻记录" in page.get_data(as_text=True)
    answer = client.post(f"/admin/organisations/{organisation_id}/residencies",
                         data={"valley": "yangquan", "since": "2024-09-02", "note": "首批",
                               "agreement": (io.BytesIO(PDF), "入驻协议.pdf")}, content_type="multipart/form-data")
    assert answer.status_code == 302 and answer.headers["Location"] == f"/admin/organisations/{organisation_id}"
    record = db.session.scalars(select(Residency)).one()
    assert (record.valley_id, record.since.isoformat(), record.evidence_original_name) == \
        ("yangquan", "2024-09-02", "入驻协议.pdf")
    assert _download(client, f"/organisations/residencies/{record.id}/agreement") == PDF
    page = client.get(f"/admin/organisations/{organisation_id}").get_data(as_text=True)
    assert "结束当前入驻" in page and "入驻协议.pdf" in page

    early = client.post(f"/admin/organisations/{organisation_id}/residencies/end", data={"until": "2024-01-01"})
    assert early.status_code == 422 and "不能早于入驻日期" in early.get_data(as_text=True)
    assert client.post(f"/admin/organisations/{organisation_id}/residencies/end",
                       data={"until": "2025-01-31"}).status_code == 302
    db.session.expire_all()
    assert record.until.isoformat() == "2025-01-31" and member.organisation.valley_id is None


def test_a_bad_residency_form_is_shown_again(client, login_as, make_user):
    member = make_user("enterprise")
    login_as("admin")
    for data, message in (({"valley": "", "since": "2024-02-01"}, "请选择谷区。"),
                          ({"valley": "taiyuan", "since": "2024-02-30"}, "请填写不晚于今天的日期（YYYY-MM-DD）。"),
                          ({"valley": "taiyuan", "since": ""}, "请填写入驻日期。")):
        page = client.post(f"/admin/organisations/{member.organisation_id}/residencies", data=data)
        assert page.status_code == 422 and message in page.get_data(as_text=True)
    assert db.session.scalars(select(Residency)).all() == []


def test_agreements_are_refused_to_others(client, login_as, make_user, app):
    from market.organisations import residency

    admin = make_user("admin")
    member = make_user("enterprise")
    record = residency.record_residency(db.session, admin, member.organisation_id, valley="taiyuan",
                                        since="2024-05-10", filename="协议.pdf", stream=io.BytesIO(PDF),
                                        upload_folder=app.config["UPLOAD_FOLDER"])
    db.session.commit()
    login_as("broker")
    assert client.get(f"/organisations/residencies/{record.id}/agreement").status_code == 404
