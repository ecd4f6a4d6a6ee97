"""The listing workflow services: review steps, visibility, expiry, follows and PDF attachments."""
import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from market.errors import (
    InvalidStateError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from market.extensions import db
from market.listings import services
from market.listings.models import LISTING_LIFETIME, Attachment, Follow, ListingEvent
from market.listings.vocabulary import ListingKind, ListingStatus
from market.notifications.models import Notification
from market.timeutil import utcnow
from market.unit_of_work import unit_of_work

ACHIEVEMENT = ListingKind.ACHIEVEMENT
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n%%EOF\n"


def count(model, *conditions) -> int:
    """Rows of a model (matching the conditions)."""
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def reload(listing):
    """The listing as stored."""
    db.session.expire_all()
    return db.session.get(type(listing), listing.id)


@pytest.fixture
def owner(make_user):
    return make_user("researcher")


@pytest.fixture
def admin(make_user):
    return make_user("admin")


@pytest.fixture
def outsider(make_user):
    """An approved researcher of another university."""
    return make_user("researcher")


def test_submitting_a_draft_sends_it_to_review_and_records_the_step(make_achievement, owner):
    draft = make_achievement(owner=owner, status="draft")
    services.submit_listing(db.session, owner, ACHIEVEMENT, draft.id)
    stored = reload(draft)
    assert stored.status == ListingStatus.PENDING
    assert stored.submitted_at is not None
    last = services.list_history(db.session, stored)[-1]
    assert (last.action, last.from_status, last.to_status, last.actor_id) == ("submit", "draft", "pending", owner.id)


def test_submitting_a_listing_already_in_review_is_refused_in_chinese(make_achievement, owner):
    pending = make_achievement(owner=owner, status="pending")
    with pytest.raises(InvalidStateError) as refused:
        services.submit_listing(db.session, owner, ACHIEVEMENT, pending.id)
    assert refused.value.message == "“待审核”状态下不能进行此操作。"
    assert refused.value.status == 409


def test_another_organisation_cannot_submit_and_sees_no_such_listing(make_achievement, owner, outsider):
    draft = make_achievement(owner=owner, status="draft")
    with pytest.raises(NotFoundError):
        services.submit_listing(db.session, outsider, ACHIEVEMENT, draft.id)
    assert reload(draft).status == ListingStatus.DRAFT


def test_approving_publishes_for_twelve_months_and_tells_the_submitter(make_achievement, owner, admin):
    pending = make_achievement(owner=owner, status="pending")
    services.approve_listing(db.session, admin, ACHIEVEMENT, pending.id)
    stored = reload(pending)
    assert stored.status == ListingStatus.PUBLISHED
    assert stored.expires_at - stored.published_at == LISTING_LIFETIME
    assert stored.is_public
    notice = db.session.scalar(select(Notification).where(Notification.user_id == owner.id))
    assert (notice.kind, notice.link) == ("listing_published", f"/achievements/{pending.id}")
    assert pending.title in notice.title


@pytest.mark.parametrize("role", ["researcher", "enterprise", "broker"])
def test_only_an_admin_may_approve(make_achievement, make_user, owner, role):
    pending = make_achievement(owner=owner, status="pending")
    actor = owner if role == "researcher" else make_user(role)
    with pytest.raises(PermissionDeniedError):
        services.approve_listing(db.session, actor, ACHIEVEMENT, pending.id)
    assert reload(pending).status == ListingStatus.PENDING


def test_approving_a_draft_is_an_invalid_step(make_achievement, owner, admin):
    draft = make_achievement(owner=owner, status="draft")
    with pytest.raises(InvalidStateError):
        services.approve_listing(db.session, admin, ACHIEVEMENT, draft.id)
    assert reload(draft).status == ListingStatus.DRAFT


def test_approving_a_missing_listing_is_not_found(admin):
    with pytest.raises(NotFoundError):
        services.approve_listing(db.session, admin, ACHIEVEMENT, 999_999)


def test_returning_stores_the_reason_and_notifies_with_the_comment(make_achievement, owner, admin):
    pending = make_achievement(owner=owner, status="pending")
    services.return_listing(db.session, admin, ACHIEVEMENT, pending.id, "incomplete", "  请补充中试数据。 ")
    stored = reload(pending)
    assert (stored.status, stored.return_reason, stored.return_comment) == (
        ListingStatus.RETURNED, "incomplete", "请补充中试数据。")
    notice = db.session.scalar(select(Notification).where(Notification.user_id == owner.id))
    assert notice.kind == "listing_returned"
    assert "信息不完整" in notice.title
    assert notice.body == "请补充中试数据。"


NO_REASON = "请选择退回原因。"
NO_COMMENT = "请填写退回说明，告诉提交人如何修改。"
INVALID_RETURNS = [
    ("", "请补充。", {"reason": NO_REASON}),
    (None, "请补充。", {"reason": NO_REASON}),
    ("bogus", "请补充。", {"reason": NO_REASON}),
    (5, "请补充。", {"reason": NO_REASON}),
    ("incomplete", "", {"comment": NO_COMMENT}),
    ("incomplete", "   \n ", {"comment": NO_COMMENT}),
    ("incomplete", "\u200b", {"comment": NO_COMMENT}),
    ("incomplete", None, {"comment": NO_COMMENT}),
    ("incomplete", 5, {"comment": "应为文本。"}),
    ("incomplete", "长" * 2001, {"comment": "不能超过 2000 个字符。"}),
    ("incomplete", "控制\x00字符", {"comment": "包含不允许的控制字符。"}),
    ("incomplete", "孤立\ud800代理", {"comment": "包含无效字符。"}),
    ("", "", {"reason": NO_REASON, "comment": NO_COMMENT}),
]


def test_returning_without_a_valid_reason_and_comment_changes_nothing(make_achievement, owner, admin, subtests):
    pending = make_achievement(owner=owner, status="pending")
    events = count(ListingEvent)
    for reason, comment, fields in INVALID_RETURNS:
        with subtests.test(msg=repr((reason, str(comment)[:10]))):
            with pytest.raises(ValidationError) as refused:
                services.return_listing(db.session, admin, ACHIEVEMENT, pending.id, reason, comment)
            assert refused.value.fields == fields
            assert reload(pending).status == ListingStatus.PENDING
            assert count(ListingEvent) == events
            assert count(Notification, Notification.user_id == owner.id) == 0


def test_withdrawing_takes_a_published_listing_out_of_public_view(make_achievement, owner):
    published = make_achievement(owner=owner)
    services.withdraw_listing(db.session, owner, ACHIEVEMENT, published.id)
    stored = reload(published)
    assert stored.status == ListingStatus.WITHDRAWN
    assert not stored.is_public
    with pytest.raises(NotFoundError):
        services.get_listing(db.session, None, ACHIEVEMENT, published.id)


@pytest.mark.parametrize("status", ["draft", "withdrawn"])
def test_withdrawing_a_listing_that_is_not_out_is_an_invalid_step(make_achievement, owner, status):
    listing = make_achievement(owner=owner, status="draft" if status == "draft" else "published")
    if status == "withdrawn":
        services.withdraw_listing(db.session, owner, ACHIEVEMENT, listing.id)
    with pytest.raises(InvalidStateError):
        services.withdraw_listing(db.session, owner, ACHIEVEMENT, listing.id)


def test_renewing_an_expired_listing_publishes_it_for_another_year(make_achievement, owner):
    listing = make_achievement(owner=owner)
    listing.expires_at = utcnow() - timedelta(days=1)
    db.session.commit()
    assert services.expire_listings(db.session) == 1
    services.renew_listing(db.session, owner, ACHIEVEMENT, listing.id)
    stored = reload(listing)
    assert stored.status == ListingStatus.PUBLISHED
    assert stored.expires_at - utcnow() > LISTING_LIFETIME - timedelta(minutes=1)


def test_renewing_a_withdrawn_listing_is_an_invalid_step(make_achievement, owner):
    listing = make_achievement(owner=owner)
    services.withdraw_listing(db.session, owner, ACHIEVEMENT, listing.id)
    with pytest.raises(InvalidStateError):
        services.renew_listing(db.session, owner, ACHIEVEMENT, listing.id)
    assert reload(listing).status == ListingStatus.WITHDRAWN


def test_expiry_marks_only_published_listings_past_their_date_and_notifies(make_achievement, owner):
    old = make_achievement(owner=owner, title="到期的成果")
    fresh = make_achievement(owner=owner, title="未到期的成果")
    draft = make_achievement(owner=owner, status="draft")
    old.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert services.expire_listings(db.session) == 1
    assert services.expire_listings(db.session) == 0
    assert [reload(item).status for item in (old, fresh, draft)] == [
        ListingStatus.EXPIRED, ListingStatus.PUBLISHED, ListingStatus.DRAFT]
    notice = db.session.scalar(select(Notification).where(Notification.kind == "listing_expired"))
    assert notice.user_id == owner.id
    assert "到期的成果" in notice.title


def test_a_published_listing_past_its_date_is_hidden_before_the_expiry_job_runs(make_achievement, owner):
    listing = make_achievement(owner=owner)
    listing.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    with pytest.raises(NotFoundError):
        services.get_listing(db.session, None, ACHIEVEMENT, listing.id)
    assert services.get_listing(db.session, owner, ACHIEVEMENT, listing.id).id == listing.id


@pytest.mark.parametrize(("status", "visitor", "member", "outsider_sees", "admin_sees"), [
    ("published", True, True, True, True),
    ("draft", False, True, False, True),
    ("pending", False, True, False, True),
    ("withdrawn", False, True, False, True),
])
def test_who_sees_a_listing_in_each_status(make_achievement, make_user, owner, outsider, admin, status, visitor,
                                           member, outsider_sees, admin_sees):
    listing = make_achievement(owner=owner, status="published" if status == "withdrawn" else status)
    if status == "withdrawn":
        services.withdraw_listing(db.session, owner, ACHIEVEMENT, listing.id)
    colleague = make_user("researcher", organisation=owner.organisation)

    def sees(actor) -> bool:
        try:
            return services.get_listing(db.session, actor, ACHIEVEMENT, listing.id).id == listing.id
        except NotFoundError:
            return False

    assert [sees(None), sees(colleague), sees(outsider), sees(admin)] == [visitor, member, outsider_sees, admin_sees]


def test_a_member_awaiting_approval_cannot_manage_the_organisations_listings(make_achievement, make_user, owner):
    from market.accounts.models import ApprovalStatus

    draft = make_achievement(owner=owner, status="draft")
    newcomer = make_user("researcher", organisation=owner.organisation, membership_status=ApprovalStatus.PENDING)
    with pytest.raises(NotFoundError):
        services.get_managed_listing(db.session, newcomer, ACHIEVEMENT, draft.id)


def test_following_twice_keeps_one_follow_and_unfollowing_removes_it(make_achievement, make_user):
    listing = make_achievement()
    follower = make_user("enterprise")
    services.follow_listing(db.session, follower, ACHIEVEMENT, listing.id)
    services.follow_listing(db.session, follower, ACHIEVEMENT, listing.id)
    assert count(Follow, Follow.user_id == follower.id) == 1
    assert services.is_following(db.session, follower, listing)
    assert [item.id for item in services.list_followed(db.session, follower)] == [listing.id]
    services.unfollow_listing(db.session, follower, ACHIEVEMENT, listing.id)
    assert count(Follow, Follow.user_id == follower.id) == 0


def test_following_a_draft_of_another_organisation_is_not_found(make_achievement, owner, outsider):
    draft = make_achievement(owner=owner, status="draft")
    with pytest.raises(NotFoundError):
        services.follow_listing(db.session, outsider, ACHIEVEMENT, draft.id)
    assert count(Follow) == 0


def test_a_withdrawn_listing_drops_out_of_the_followers_list(make_achievement, make_user, owner):
    listing = make_achievement(owner=owner)
    follower = make_user("enterprise")
    services.follow_listing(db.session, follower, ACHIEVEMENT, listing.id)
    services.withdraw_listing(db.session, owner, ACHIEVEMENT, listing.id)
    assert services.list_followed(db.session, follower) == []


@pytest.fixture
def upload(app, owner, make_achievement):
    """Attach a file to a published achievement of the owner: upload(filename, data, actor=owner, ...)."""
    listing = make_achievement(owner=owner)

    def do(filename="报告.pdf", data=PDF, actor=None, max_bytes=1024, confidential=False):
        return services.add_attachment(db.session, actor or owner, ACHIEVEMENT, listing.id, filename=filename,
                                       stream=io.BytesIO(data), upload_folder=app.config["UPLOAD_FOLDER"],
                                       max_bytes=max_bytes, is_confidential=confidential)

    do.listing = listing
    return do


def stored_files(app) -> list[Path]:
    """Files in the upload folder."""
    folder = Path(app.config["UPLOAD_FOLDER"])
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize(("filename", "shown"), [
    ("成果报告.pdf", "成果报告.pdf"),
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("..\\..\\windows\\system.ini.pdf", "system.ini.pdf"),
    ("/absolute/path/报告.PDF", "报告.PDF"),
    ("检测 报告 (终版).pdf", "检测 报告 (终版).pdf"),
    ("长" * 251 + ".pdf", "长" * 251 + ".pdf"),
])
def test_an_upload_is_stored_under_a_generated_name_and_keeps_its_name_for_display(app, upload, filename, shown):
    attachment = upload(filename)
    assert attachment.original_name == shown
    assert attachment.stored_name.endswith(".pdf") and len(attachment.stored_name) == 36
    assert int(attachment.stored_name[:-4], 16) >= 0
    files = stored_files(app)
    assert [path.name for path in files] == [attachment.stored_name]
    assert files[0].read_bytes() == PDF
    assert attachment.size_bytes == len(PDF)


def test_a_long_name_that_loses_its_pdf_ending_when_cut_is_refused(upload):
    with pytest.raises(ValidationError):
        upload("长" * 260 + ".pdf")


BAD_UPLOADS = [
    ("报告.docx", PDF, "只能上传 PDF 文件。"),
    ("报告.pdf.exe", PDF, "只能上传 PDF 文件。"),
    ("报告", PDF, "只能上传 PDF 文件。"),
    ("报告.pdf", b"MZ\x90\x00 this is a program", "文件内容不是 PDF。"),
    ("报告.pdf", b"<html><script>alert(1)</script></html>", "文件内容不是 PDF。"),
    ("报告.pdf", b"", "文件内容不是 PDF。"),
    ("报告.pdf", b"%PDF-" + b"0" * 1100, "文件不能超过 1 KB。"),
    ("报告\x00.pdf", PDF, "文件名包含不允许的字符。"),
    ("报告\r\nX-Injected: 1.pdf", PDF, "文件名包含不允许的字符。"),
]


def test_an_upload_that_is_not_a_small_pdf_is_refused_and_nothing_is_stored(app, upload, subtests):
    for filename, data, message in BAD_UPLOADS:
        with subtests.test(msg=repr(filename)):
            with pytest.raises(ValidationError) as refused:
                upload(filename, data)
            assert refused.value.fields == {"file": message}
            assert count(Attachment) == 0
            assert stored_files(app) == []


def test_another_organisation_cannot_attach_files(app, upload, outsider):
    with pytest.raises(NotFoundError):
        upload(actor=outsider)
    assert count(Attachment) == 0
    assert stored_files(app) == []


def test_a_confidential_attachment_is_only_for_the_organisation_and_admins(upload, make_user, owner, outsider,
                                                                         admin):
    public = upload("公开.pdf")
    secret = upload("保密.pdf", confidential=True)
    listing = upload.listing
    assert [a.id for a in services.list_attachments(db.session, None, listing)] == [public.id]
    assert [a.id for a in services.list_attachments(db.session, outsider, listing)] == [public.id]
    assert [a.id for a in services.list_attachments(db.session, owner, listing)] == [public.id, secret.id]
    assert [a.id for a in services.list_attachments(db.session, admin, listing)] == [public.id, secret.id]
    with pytest.raises(NotFoundError):
        services.get_attachment(db.session, outsider, secret.id)
    assert services.get_attachment(db.session, admin, secret.id).id == secret.id


def test_removing_an_attachment_deletes_its_file_once_the_removal_is_committed(app, upload, owner):
    attachment = upload()
    with unit_of_work():
        services.remove_attachment(db.session, owner, attachment.id, app.config["UPLOAD_FOLDER"])
        assert len(stored_files(app)) == 1
    assert count(Attachment) == 0
    assert stored_files(app) == []


def test_a_removal_that_is_rolled_back_keeps_the_row_and_its_file(app, upload, owner):
    attachment = upload()
    db.session.commit()
    with pytest.raises(RuntimeError), unit_of_work():
        services.remove_attachment(db.session, owner, attachment.id, app.config["UPLOAD_FOLDER"])
        raise RuntimeError("the request failed after the removal")
    assert count(Attachment) == 1
    assert len(stored_files(app)) == 1


def test_an_upload_whose_request_fails_leaves_no_file(app, upload):
    with pytest.raises(RuntimeError), unit_of_work():
        upload()
        assert len(stored_files(app)) == 1
        raise RuntimeError("the request failed after the upload")
    assert count(Attachment) == 0
    assert stored_files(app) == []


def test_another_organisation_cannot_remove_an_attachment(app, upload, outsider):
    attachment = upload()
    with pytest.raises(NotFoundError):
        services.remove_attachment(db.session, outsider, attachment.id, app.config["UPLOAD_FOLDER"])
    assert count(Attachment) == 1
    assert len(stored_files(app)) == 1


def test_search_index_follows_an_edit(make_achievement, owner, admin):
    from market.achievements.services import update_achievement
    from market.listings.queries import SearchParams, search_listings
    from tests.conftest import ACHIEVEMENT_INPUT

    listing = make_achievement(owner=owner, status="draft")
    update_achievement(db.session, owner, listing.id, {
        **ACHIEVEMENT_INPUT, "title": "煤矸石制备轻质陶粒工艺", "summary": "利用煤矸石烧制轻质陶粒。",
        "description_public": "", "description_confidential": "", "keywords": ["煤矸石", "陶粒"]}, submit=True)
    services.approve_listing(db.session, admin, ACHIEVEMENT, listing.id)
    assert [item.id for item in search_listings(db.session, ACHIEVEMENT, SearchParams(q="煤矸石")).items] == [listing.id]
    assert search_listings(db.session, ACHIEVEMENT, SearchParams(q="变压吸附")).items == []
