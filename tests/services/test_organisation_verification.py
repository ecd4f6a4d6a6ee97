"""Organisation verification (submitted by members, decided by admins) and valley residency kept as history."""
import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from market.accounts.models import OrganisationVerification, Residency, VerificationStatus
from market.errors import InvalidStateError, NotFoundError, PermissionDeniedError, ValidationError
from market.extensions import db
from market.notifications.models import Notification
from market.organisations import residency, verification
from market.timeutil import today_in_china

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
CODE = "91140000110114391W"


@pytest.fixture
def folder(app) -> str:
    return app.config["UPLOAD_FOLDER"]


@pytest.fixture
def company(make_user):
    """An approved member of an enterprise, and the enterprise."""
    member = make_user("enterprise")
    return member, member.organisation


def submit(actor, organisation, folder, code=CODE, data=PDF, filename="营业执照.pdf"):
    return verification.submit_verification(db.session, actor, organisation.id, credit_code=code, filename=filename,
                                            stream=io.BytesIO(data), upload_folder=folder)


def test_a_member_submits_and_an_admin_verifies(company, make_user, folder):
    member, organisation = company
    submission = submit(member, organisation, folder, code=" 9114 0000-110114391w ")
    assert organisation.verification_status == VerificationStatus.SUBMITTED and not organisation.is_verified
    assert submission.credit_code == CODE
    assert (Path(folder) / submission.licence_stored_name).read_bytes() == PDF
    assert verification.list_verification_queue(db.session) == [submission]

    admin = make_user("admin")
    verification.verify_organisation(db.session, admin, submission.id)
    assert organisation.is_verified and organisation.credit_code == CODE
    assert submission.decided_by_id == admin.id and submission.decided_at is not None
    assert verification.list_verification_queue(db.session) == []
    told = db.session.scalars(select(Notification).where(Notification.user_id == member.id)).all()
    assert [n.kind for n in told] == ["organisation_verified"]


def test_the_organisation_never_verifies_itself(company, folder):
    member, organisation = company
    submission = submit(member, organisation, folder)
    with pytest.raises(PermissionDeniedError):
        verification.verify_organisation(db.session, member, submission.id)
    with pytest.raises(PermissionDeniedError):
        verification.refuse_verification(db.session, member, submission.id, reason="自己退回")
    assert organisation.verification_status == VerificationStatus.SUBMITTED


def test_an_admin_belonging_to_the_organisation_may_not_decide(company, make_user, folder):
    member, organisation = company
    submission = submit(member, organisation, folder)
    insider = make_user("admin", organisation=organisation)
    with pytest.raises(PermissionDeniedError):
        verification.verify_organisation(db.session, insider, submission.id)


def test_outsiders_and_admins_cannot_submit_for_an_organisation(company, make_user, folder):
    _member, organisation = company
    for actor in (make_user("enterprise"), make_user("admin"),
                  make_user("enterprise", organisation=organisation, membership_status="pending")):
        with pytest.raises(PermissionDeniedError):
            submit(actor, organisation, folder)
    assert db.session.scalars(select(OrganisationVerification)).all() == []


def test_refused_then_resubmitted_then_verified(company, make_user, folder):
    member, organisation = company
    admin = make_user("admin")
    first = submit(member, organisation, folder)
    with pytest.raises(InvalidStateError):
        submit(member, organisation, folder)
    with pytest.raises(ValidationError) as refused:
        verification.refuse_verification(db.session, admin, first.id, reason="  ")
    assert refused.value.fields == {"reason": "请填写不通过的原因。"}
    verification.refuse_verification(db.session, admin, first.id, reason="营业执照照片不清晰")
    assert organisation.verification_status == VerificationStatus.REFUSED
    told = db.session.scalars(select(Notification).where(Notification.user_id == member.id)).one()
    assert told.kind == "organisation_verification_refused" and told.body == "营业执照照片不清晰"
    with pytest.raises(InvalidStateError):
        verification.verify_organisation(db.session, admin, first.id)

    second = submit(member, organisation, folder)
    verification.verify_organisation(db.session, admin, second.id)
    history = verification.list_verifications(db.session, member, organisation.id)
    assert [(v.id, v.status, v.refusal_reason) for v in history] == [
        (second.id, VerificationStatus.VERIFIED, ""), (first.id, VerificationStatus.REFUSED, "营业执照照片不清晰")]
    with pytest.raises(InvalidStateError):
        submit(member, organisation, folder)


@pytest.mark.parametrize(("code", "data", "filename", "fields"), [
    ("91140000110114391X", PDF, "a.pdf", {"credit_code": "统一社会信用代码的校验位不正确，请逐位核对。"}),
    ("9114000011011439", PDF, "a.pdf", {"credit_code": "统一社会信用代码应为 18 位。"}),
    ("", PDF, "a.pdf", {"credit_code": "请填写统一社会信用代码。"}),
    (CODE, b"not a pdf", "a.pdf", {"licence": "文件内容不是 PDF。"}),
    (CODE, PDF, "a.docx", {"licence": "只能上传 PDF 文件。"}),
    (CODE, PDF, "", {"licence": "请上传营业执照或法人登记证书（PDF）。"}),
])
def test_bad_submissions_are_refused_and_store_nothing(company, folder, code, data, filename, fields):
    member, organisation = company
    with pytest.raises(ValidationError) as refused:
        submit(member, organisation, folder, code=code, data=data, filename=filename)
    assert refused.value.fields == fields
    db.session.rollback()
    assert db.session.scalars(select(OrganisationVerification)).all() == []
    assert organisation.verification_status == VerificationStatus.UNVERIFIED
    assert not Path(folder).exists() or list(Path(folder).iterdir()) == []


def test_a_licence_over_the_limit_is_refused(company, folder, monkeypatch):
    member, organisation = company
    monkeypatch.setattr(verification, "EVIDENCE_PDF_MAX_BYTES", len(PDF) - 1)
    with pytest.raises(ValidationError) as refused:
        submit(member, organisation, folder)
    assert refused.value.fields == {"licence": "文件不能超过 0 KB。"}


def test_a_code_verified_for_another_organisation_is_refused(company, make_user, folder):
    member, organisation = company
    admin = make_user("admin")
    verification.verify_organisation(db.session, admin, submit(member, organisation, folder).id)
    other = make_user("enterprise")
    with pytest.raises(ValidationError) as refused:
        submit(other, other.organisation, folder)
    assert "已被另一家机构认证" in refused.value.fields["credit_code"]


def test_licences_are_for_members_and_admins_only(company, make_user, folder):
    member, organisation = company
    submission = submit(member, organisation, folder)
    assert verification.get_licence(db.session, member, submission.id) is submission
    assert verification.get_licence(db.session, make_user("admin"), submission.id) is submission
    for outsider in (make_user("enterprise"), make_user("broker"), None):
        with pytest.raises(NotFoundError):
            verification.get_licence(db.session, outsider, submission.id)
    with pytest.raises(NotFoundError):
        verification.list_verifications(db.session, make_user("enterprise"), organisation.id)


# --- residency ---------------------------------------------------------------------------------------


def test_a_non_admin_cannot_record_or_end_a_residency(company, folder):
    member, organisation = company
    with pytest.raises(PermissionDeniedError):
        residency.record_residency(db.session, member, organisation.id, valley="taiyuan", since="2024-05-01")
    with pytest.raises(PermissionDeniedError):
        residency.end_residency(db.session, member, organisation.id, until="2024-06-01")
    assert db.session.scalars(select(Residency)).all() == []
    assert organisation.valley_id is None


def test_residency_history_appends_and_keeps_the_current_state(company, make_user, folder):
    member, organisation = company
    admin = make_user("admin")
    first = residency.record_residency(db.session, admin, organisation.id, valley="taiyuan", since="2024-05-10",
                                       note="首批入驻", filename="入驻协议.pdf", stream=io.BytesIO(PDF),
                                       upload_folder=folder)
    assert (organisation.valley_id, organisation.resident_since) == ("taiyuan", date(2024, 5, 10))
    assert (Path(folder) / first.evidence_stored_name).read_bytes() == PDF

    moved = residency.record_residency(db.session, admin, organisation.id, valley="datong", since="2025-03-01")
    assert (first.since, first.until, first.ended_by_id) == (date(2024, 5, 10), date(2025, 2, 28), admin.id)
    assert (first.valley_id, first.note) == ("taiyuan", "首批入驻")
    assert (organisation.valley_id, organisation.resident_since) == ("datong", date(2025, 3, 1))
    assert [r.id for r in residency.list_residencies(db.session, organisation.id)] == [moved.id, first.id]

    residency.end_residency(db.session, admin, organisation.id, until="2025-06-30")
    assert moved.until == date(2025, 6, 30)
    assert (organisation.valley_id, organisation.resident_since) == (None, None)
    with pytest.raises(InvalidStateError):
        residency.end_residency(db.session, admin, organisation.id, until="2025-07-01")

    again = residency.record_residency(db.session, admin, organisation.id, valley="taiyuan", since="2025-09-01")
    assert db.session.scalar(select(Residency).where(Residency.id == first.id)).until == date(2025, 2, 28)
    assert len(residency.list_residencies(db.session, organisation.id)) == 3
    assert again.until is None and organisation.valley_id == "taiyuan"
    kinds = [n.kind for n in db.session.scalars(select(Notification).where(Notification.user_id == member.id))]
    assert kinds == ["residency_recorded", "residency_recorded", "residency_ended", "residency_recorded"]


def test_is_resident_on_answers_from_the_history(company, make_user):
    _member, organisation = company
    admin = make_user("admin")
    residency.record_residency(db.session, admin, organisation.id, valley="taiyuan", since="2024-05-10")
    residency.record_residency(db.session, admin, organisation.id, valley="datong", since="2025-03-01")
    residency.end_residency(db.session, admin, organisation.id, until="2025-06-30")
    db.session.expire_all()
    answers = {day: organisation.is_resident_on(day) for day in (
        date(2024, 5, 9), date(2024, 5, 10), date(2025, 2, 28), date(2025, 3, 1), date(2025, 6, 30),
        date(2025, 7, 1))}
    assert answers == {date(2024, 5, 9): False, date(2024, 5, 10): True, date(2025, 2, 28): True,
                       date(2025, 3, 1): True, date(2025, 6, 30): True, date(2025, 7, 1): False}
    assert organisation.valley_id is None  # the current state: no longer resident anywhere


@pytest.mark.parametrize(("values", "fields"), [
    ({"valley": "", "since": "2024-05-01"}, {"valley": "请选择谷区。"}),
    ({"valley": "atlantis", "since": "2024-05-01"}, {"valley": "谷区不存在。"}),
    ({"valley": "taiyuan", "since": ""}, {"since": "请填写入驻日期。"}),
    ({"valley": "taiyuan", "since": "2024-13-01"}, {"since": "请填写不晚于今天的日期（YYYY-MM-DD）。"}),
    ({"valley": "taiyuan", "since": (today_in_china() + timedelta(days=1)).isoformat()},
     {"since": "请填写不晚于今天的日期（YYYY-MM-DD）。"}),
])
def test_bad_residency_records_are_refused(company, make_user, values, fields):
    _member, organisation = company
    with pytest.raises(ValidationError) as refused:
        residency.record_residency(db.session, make_user("admin"), organisation.id, **values)
    assert refused.value.fields == fields
    assert db.session.scalars(select(Residency)).all() == []


def test_a_new_residency_must_begin_after_the_current_one(company, make_user):
    _member, organisation = company
    admin = make_user("admin")
    residency.record_residency(db.session, admin, organisation.id, valley="taiyuan", since="2024-05-10")
    with pytest.raises(ValidationError) as refused:
        residency.record_residency(db.session, admin, organisation.id, valley="datong", since="2024-05-10")
    assert "晚于当前入驻的开始日期 2024-05-10" in refused.value.fields["since"]
    with pytest.raises(ValidationError):
        residency.record_residency(db.session, admin, organisation.id, valley="taiyuan", since="2024-06-01")
    with pytest.raises(ValidationError) as early_end:
        residency.end_residency(db.session, admin, organisation.id, until="2024-05-09")
    assert "不能早于入驻日期" in early_end.value.fields["until"]
    assert len(residency.list_residencies(db.session, organisation.id)) == 1


def test_agreements_are_for_members_and_admins_only(company, make_user, folder):
    member, organisation = company
    admin = make_user("admin")
    record = residency.record_residency(db.session, admin, organisation.id, valley="taiyuan", since="2024-05-10",
                                        filename="协议.pdf", stream=io.BytesIO(PDF), upload_folder=folder)
    assert residency.get_agreement(db.session, member, record.id) is record
    for outsider in (make_user("enterprise"), None):
        with pytest.raises(NotFoundError):
            residency.get_agreement(db.session, outsider, record.id)
