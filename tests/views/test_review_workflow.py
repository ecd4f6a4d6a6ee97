"""The review workflow through the pages: draft, review, return, resubmit, publish, withdraw, renew, expire,
follows, the workspace and the organisation page. Each step checks status, redirect, flash text and the database."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from market.achievements.models import Achievement
from market.extensions import db
from market.listings.forms import ListingReturnForm
from market.listings.models import Follow, ListingEvent
from market.listings.services import RETURN_COMMENT_MAX_LENGTH, ListingReturnInput
from market.listings.vocabulary import ReturnReason
from market.notifications.models import Notification
from market.timeutil import utcnow
from tests.conftest import PASSWORD, client_for

FORM = {
    "title": "焦炉煤气制氢耦合二氧化碳捕集工艺", "summary": "以焦炉煤气为原料，变压吸附制取高纯氢。",
    "description_public": "氢气纯度99.999%。", "description_confidential": "吸附剂配方与切换时序参数。",
    "keywords": "焦炉煤气，制氢，变压吸附", "field": "energy", "trl": "6", "stage": "pilot",
    "modes": ["assignment"], "price_type": "reference", "price_min_fen": "80", "price_max_fen": "200",
}


def act(client, path: str, data: dict | None = None, *, to: str, flash: str) -> str:
    """POST, expect a redirect to `to`, follow it and expect the flash message; returns the page."""
    response = client.post(path, data=data or {})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert response.headers["Location"] == to
    page = client.get(to).get_data(as_text=True)
    assert flash in page
    return page


def stored(listing_id: int) -> Achievement:
    """The achievement as stored now."""
    db.session.expire_all()
    return db.session.get(Achievement, listing_id)


@pytest.fixture
def admin_client(app, make_user):
    """A second browser, logged in as a platform admin."""
    return client_for(app, make_user("admin"))


def test_an_achievement_goes_from_draft_through_return_to_publication_and_down_again(app, client, login_as,
                                                                                     admin_client):
    owner = login_as("researcher")
    visitor = app.test_client()

    response = client.post("/achievements/new", data={**FORM, "action": "save"})
    listing_id = db.session.scalar(select(Achievement.id))
    assert (response.status_code, response.headers["Location"]) == (302, f"/achievements/{listing_id}")
    assert "草稿已保存。" in client.get(f"/achievements/{listing_id}").get_data(as_text=True)
    assert stored(listing_id).status == "draft"
    assert visitor.get(f"/achievements/{listing_id}").status_code == 404

    act(client, f"/listings/achievement/{listing_id}/submit", to=f"/achievements/{listing_id}", flash="已提交审核。")
    assert stored(listing_id).status == "pending"
    assert FORM["title"] in admin_client.get("/admin/review").get_data(as_text=True)

    act(admin_client, f"/admin/review/achievement/{listing_id}/return",
        {"reason": "incomplete", "comment": "请补充中试数据和检测报告。"}, to="/admin/review",
        flash="已退回，提交人会收到通知。")
    listing = stored(listing_id)
    assert (listing.status, listing.return_reason, listing.return_comment) == (
        "returned", "incomplete", "请补充中试数据和检测报告。")
    detail = client.get(f"/achievements/{listing_id}").get_data(as_text=True)
    assert "退回原因：信息不完整" in detail and "请补充中试数据和检测报告。" in detail
    notice = db.session.scalar(select(Notification).where(Notification.user_id == owner.id))
    assert (notice.kind, notice.read_at) == ("listing_returned", None)
    notifications = client.get("/notifications").get_data(as_text=True)
    assert f"被退回：{FORM['title']}（信息不完整）" in notifications
    assert "请补充中试数据和检测报告。" in notifications

    act(client, f"/achievements/{listing_id}/edit",
        {**FORM, "summary": "以焦炉煤气为原料制取高纯氢，附中试数据。", "action": "submit"},
        to=f"/achievements/{listing_id}", flash="修改已保存。")
    listing = stored(listing_id)
    assert (listing.status, listing.summary) == ("pending", "以焦炉煤气为原料制取高纯氢，附中试数据。")

    act(admin_client, f"/admin/review/achievement/{listing_id}/approve", to="/admin/review", flash="已审核通过并发布。")
    listing = stored(listing_id)
    assert listing.status == "published"
    assert listing.expires_at - listing.published_at == timedelta(days=365)
    assert (listing.return_reason, listing.return_comment) == (None, "")
    published_notice = db.session.scalar(select(Notification).where(Notification.kind == "listing_published"))
    assert published_notice.user_id == owner.id
    public = visitor.get(f"/achievements/{listing_id}")
    assert public.status_code == 200
    assert "吸附剂配方与切换时序参数。" not in public.get_data(as_text=True)
    assert f'href="/achievements/{listing_id}"' in visitor.get("/achievements?q=变压吸附").get_data(as_text=True)

    act(client, f"/listings/achievement/{listing_id}/withdraw", to=f"/achievements/{listing_id}", flash="已下架。")
    assert stored(listing_id).status == "withdrawn"
    assert visitor.get(f"/achievements/{listing_id}").status_code == 404
    assert f'href="/achievements/{listing_id}"' not in visitor.get("/achievements?q=变压吸附").get_data(as_text=True)

    refused = client.post(f"/listings/achievement/{listing_id}/renew")
    assert refused.status_code == 409
    assert "“已下架”状态下不能进行此操作。" in refused.get_data(as_text=True)
    assert stored(listing_id).status == "withdrawn"
    actions = [event.action for event in db.session.scalars(
        select(ListingEvent).where(ListingEvent.listing_id == listing_id).order_by(ListingEvent.id))]
    assert actions == ["create", "submit", "return", "edit", "submit", "approve", "withdraw"]


def test_returning_without_a_comment_keeps_the_listing_in_review(client, login_as, admin_client, make_achievement):
    listing = make_achievement(owner=login_as("researcher"), status="pending")
    response = admin_client.post(f"/admin/review/achievement/{listing.id}/return", data={"reason": "incomplete"})
    assert response.status_code == 422
    assert "请填写退回说明。" in response.get_data(as_text=True)
    assert stored(listing.id).status == "pending"
    assert db.session.scalar(select(Notification)) is None


def test_the_return_form_offers_the_declared_reasons_and_comment_limit(app):
    with app.test_request_context():
        form = ListingReturnForm(formdata=None)
    assert form.declared_input() is ListingReturnInput
    assert [choice.value for choice in form.reason.choices] == [""] + [reason.value for reason in ReturnReason]
    assert form.reason.flags.required and form.comment.flags.required
    assert form.comment.flags.maxlength == RETURN_COMMENT_MAX_LENGTH


def test_a_refused_return_shows_the_message_next_to_the_field_and_saves_nothing(client, login_as, admin_client,
                                                                                make_achievement):
    listing = make_achievement(owner=login_as("researcher"), status="pending")
    events = db.session.scalar(select(func.count()).select_from(ListingEvent))
    response = admin_client.post(f"/admin/review/achievement/{listing.id}/return",
                                 data={"reason": "incomplete", "comment": "\u200b"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'name="comment".*?invalid-feedback d-block">请填写退回说明，告诉提交人如何修改。</div>', page, re.DOTALL)
    assert stored(listing.id).status == "pending"
    assert db.session.scalar(select(func.count()).select_from(ListingEvent)) == events
    assert db.session.scalar(select(Notification)) is None


def test_editing_a_published_achievement_sends_it_back_to_review(app, client, login_as, make_achievement):
    listing = make_achievement(owner=login_as("researcher"))
    page = act(client, f"/achievements/{listing.id}/edit", {**FORM, "title": "焦炉煤气制氢工艺（第二版）"},
               to=f"/achievements/{listing.id}", flash="修改已保存。")
    assert "焦炉煤气制氢工艺（第二版）" in page
    assert stored(listing.id).status == "pending"
    assert app.test_client().get(f"/achievements/{listing.id}").status_code == 404


def test_submitting_twice_is_refused_with_a_chinese_message(client, login_as, make_achievement):
    listing = make_achievement(owner=login_as("researcher"), status="pending")
    response = client.post(f"/listings/achievement/{listing.id}/submit")
    assert response.status_code == 409
    assert "“待审核”状态下不能进行此操作。" in response.get_data(as_text=True)


def test_renewing_a_published_achievement_extends_it_by_twelve_months(client, login_as, make_achievement):
    listing = make_achievement(owner=login_as("researcher"))
    listing.expires_at = utcnow() + timedelta(days=10)
    db.session.commit()
    act(client, f"/listings/achievement/{listing.id}/renew", to=f"/achievements/{listing.id}", flash="已续期 12 个月。")
    assert stored(listing.id).expires_at - utcnow() > timedelta(days=364)


def test_expiry_command_takes_old_listings_down_and_renewal_brings_them_back(app, client, runner, login_as,
                                                                            make_achievement):
    owner = login_as("researcher")
    old, fresh = make_achievement(owner=owner, title="去年发布的成果"), make_achievement(owner=owner)
    old.expires_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    result = runner.invoke(args=["expire-listings"])
    assert result.exit_code == 0
    assert result.output.strip() == "expired: 1"
    assert (stored(old.id).status, stored(fresh.id).status) == ("expired", "published")
    visitor = app.test_client()
    assert visitor.get(f"/achievements/{old.id}").status_code == 404
    assert "已过期" in client.get(f"/achievements/{old.id}").get_data(as_text=True)
    notice = db.session.scalar(select(Notification).where(Notification.kind == "listing_expired"))
    assert (notice.user_id, notice.link) == (owner.id, f"/achievements/{old.id}")
    assert runner.invoke(args=["expire-listings"]).output.strip() == "expired: 0"

    act(client, f"/listings/achievement/{old.id}/renew", to=f"/achievements/{old.id}", flash="已续期 12 个月。")
    assert stored(old.id).status == "published"
    assert visitor.get(f"/achievements/{old.id}").status_code == 200


def test_following_and_unfollowing_from_the_detail_page(client, login_as, make_achievement):
    listing = make_achievement(title="可收藏的成果")
    follower = login_as("enterprise")
    page = act(client, f"/listings/achievement/{listing.id}/follow", to=f"/achievements/{listing.id}", flash="已收藏。")
    assert "取消收藏" in page
    assert db.session.scalar(select(Follow.listing_id).where(Follow.user_id == follower.id)) == listing.id
    assert "可收藏的成果" in client.get("/workspace").get_data(as_text=True)
    act(client, f"/listings/achievement/{listing.id}/unfollow", to=f"/achievements/{listing.id}", flash="已取消收藏。")
    assert db.session.scalar(select(Follow)) is None
    assert "还没有收藏。" in client.get("/workspace").get_data(as_text=True)


def test_the_workspace_lists_every_listing_of_ones_organisation_and_nothing_else(client, login_as, make_user,
                                                                                make_achievement):
    owner = login_as("researcher")
    colleague = make_user("researcher", organisation=owner.organisation)
    mine = [make_achievement(owner=owner, status="draft", title="本人的草稿"),
            make_achievement(owner=colleague, status="pending", title="同事待审核的成果"),
            make_achievement(owner=owner, title="本机构已发布的成果")]
    make_achievement(title="别的机构的成果")
    page = client.get("/workspace").get_data(as_text=True)
    for listing in mine:
        assert f'href="/achievements/{listing.id}"' in page
    assert "别的机构的成果" not in page
    for label in ("草稿", "待审核", "已发布"):
        assert label in page


def test_the_organisation_page_lists_published_listings_only(client, make_user, make_achievement, make_demand):
    owner = make_user("researcher")
    published = make_achievement(owner=owner, title="已经发布的成果")
    make_achievement(owner=owner, status="draft", title="还是草稿的成果")
    make_achievement(owner=owner, status="pending", title="正在审核的成果")
    withdrawn = make_achievement(owner=owner, title="已经下架的成果")
    client.post("/login", data={"email": owner.email, "password": PASSWORD})
    client.post(f"/listings/achievement/{withdrawn.id}/withdraw")
    client.post("/logout")
    page = client.get(f"/organisations/{owner.organisation_id}").get_data(as_text=True)
    assert f'href="/achievements/{published.id}"' in page
    for hidden in ("还是草稿的成果", "正在审核的成果", "已经下架的成果"):
        assert hidden not in page


def test_notifications_can_be_marked_read(client, login_as, admin_client, make_achievement):
    owner = login_as("researcher")
    listing = make_achievement(owner=owner, status="pending")
    admin_client.post(f"/admin/review/achievement/{listing.id}/approve")
    assert 'badge bg-warning text-dark">1<' in client.get("/workspace").get_data(as_text=True)
    act(client, "/notifications/read", to="/notifications", flash="已全部标为已读。")
    assert db.session.scalar(select(Notification.read_at)) is not None
    assert 'badge bg-warning text-dark">' not in client.get("/workspace").get_data(as_text=True)


def test_a_demand_is_published_after_review_and_found_by_visitors(app, client, login_as, admin_client):
    login_as("enterprise")
    response = client.post("/demands/new", data={
        "title": "冷轧带钢表面缺陷在线检测", "description": "需要在线识别冷轧带钢表面划伤、辊印等缺陷。",
        "keywords": "表面缺陷，机器视觉", "field": "equipment", "budget_min_fen": "50", "budget_max_fen": "150",
        "modes": ["co_development"], "deadline": "2027-06-30", "action": "submit"})
    from market.demands.models import Demand

    demand = db.session.scalar(select(Demand))
    assert (response.status_code, response.headers["Location"]) == (302, f"/demands/{demand.id}")
    assert demand.status == "pending"
    act(admin_client, f"/admin/review/demand/{demand.id}/approve", to="/admin/review", flash="已审核通过并发布。")
    db.session.expire_all()
    assert db.session.get(Demand, demand.id).status == "published"
    assert f'href="/demands/{demand.id}"' in app.test_client().get("/demands?q=表面缺陷").get_data(as_text=True)
