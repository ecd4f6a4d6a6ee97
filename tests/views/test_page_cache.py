"""The anonymous page cache: a visitor is served a stored page until public content changes; nothing of one visitor
is stored; signed-in users, pending messages and other languages never get someone else's page."""
import pytest
from sqlalchemy import text

from market.extensions import cache, db
from market.listings import services as listings
from market.listings.vocabulary import ListingKind
from market.notifications.models import Notification
from market.page_cache import CONTENT_VERSION_KEY, content_version
from tests.conftest import client_for


def _rename_behind_the_orm(achievement_id: int, title: str) -> None:
    """Change a title with plain SQL, which does not replace the content version: shows whether a page was cached."""
    db.session.execute(text("UPDATE achievements SET title = :title WHERE id = :id"), {"title": title, "id": achievement_id})
    db.session.commit()


def test_an_anonymous_page_is_served_from_the_cache_until_a_listing_changes(app, make_achievement):
    achievement = make_achievement(title="缓存测试原标题")
    visitor = client_for(app, None)
    assert "缓存测试原标题" in visitor.get(f"/achievements/{achievement.id}").get_data(as_text=True)
    _rename_behind_the_orm(achievement.id, "缓存测试暗改标题")
    assert "缓存测试原标题" in visitor.get(f"/achievements/{achievement.id}").get_data(as_text=True)
    achievement = db.session.merge(achievement)
    db.session.refresh(achievement)
    achievement.summary = "摘要改过了，由服务保存。"
    db.session.commit()
    page = visitor.get(f"/achievements/{achievement.id}").get_data(as_text=True)
    assert "缓存测试暗改标题" in page and "摘要改过了" in page


def test_a_withdrawn_listing_leaves_the_cached_browse_page_at_once(app, make_achievement, make_user):
    owner = make_user("researcher")
    achievement = make_achievement(owner=owner, title="下架即消失的成果")
    visitor = client_for(app, None)
    assert "下架即消失的成果" in visitor.get("/achievements").get_data(as_text=True)
    listings.withdraw_listing(db.session, owner, ListingKind.ACHIEVEMENT, achievement.id)
    db.session.commit()
    assert "下架即消失的成果" not in visitor.get("/achievements").get_data(as_text=True)


@pytest.mark.parametrize("app", [{"WTF_CSRF_ENABLED": True}], indirect=True)
@pytest.mark.parametrize("page", ["/", "/valleys", "/organisations", "/achievements", "/achievements?q=焦炉煤气",
                                  "/achievements/{a}", "/demands", "/demands/{d}", "/organisations/{o}"])
def test_a_cached_page_holds_no_token_and_sets_no_cookie(app, make_achievement, make_demand, page):
    achievement, demand = make_achievement(), make_demand()
    path = page.format(a=achievement.id, d=demand.id, o=achievement.organisation_id)
    first, second = client_for(app, None).get(path), client_for(app, None).get(path)
    for response in (first, second):
        assert response.status_code == 200
        assert b"csrf_token" not in response.data
        assert "Set-Cookie" not in response.headers
        assert response.headers["Content-Security-Policy"] and response.headers["X-Request-ID"] != "-"
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]


def test_each_language_has_its_own_cached_page(app, make_achievement):
    achievement = make_achievement(title="语言缓存测试")
    visitor = client_for(app, None)
    assert "科技成果" in visitor.get("/achievements").get_data(as_text=True)
    visitor.post("/language", data={"lang": "en"})
    english = visitor.get("/achievements").get_data(as_text=True)
    assert 'lang="en"' in english and "Log in" in english
    _rename_behind_the_orm(achievement.id, "语言缓存测试暗改")
    again = visitor.get("/achievements").get_data(as_text=True)
    assert 'lang="en"' in again and "语言缓存测试暗改" not in again  # the English page came from the cache
    chinese = client_for(app, None).get("/achievements").get_data(as_text=True)
    assert 'lang="zh' in chinese and "语言缓存测试暗改" not in chinese


def test_a_signed_in_user_never_gets_the_visitors_page(app, make_achievement, make_user):
    achievement = make_achievement(title="登录用户看到的标题")
    client_for(app, None).get(f"/achievements/{achievement.id}")
    _rename_behind_the_orm(achievement.id, "登录用户看到的新标题")
    user = make_user("enterprise", name="缓存测试企业用户")
    page = client_for(app, user).get(f"/achievements/{achievement.id}").get_data(as_text=True)
    assert "登录用户看到的新标题" in page and "缓存测试企业用户" in page
    response = client_for(app, user).get("/achievements")
    assert response.headers["Cache-Control"] == "no-store"


def test_a_page_with_a_pending_message_is_neither_served_from_nor_kept_in_the_cache(app, make_achievement, make_user):
    make_achievement()
    user = make_user("enterprise")
    browser = client_for(app, user)
    browser.get("/")
    browser.post("/logout")
    assert "您已退出登录。" in browser.get("/").get_data(as_text=True)
    assert "您已退出登录。" not in browser.get("/").get_data(as_text=True)
    assert "您已退出登录。" not in client_for(app, None).get("/").get_data(as_text=True)


def test_writing_only_private_rows_keeps_the_content_version(app, make_user):
    user = make_user("enterprise")
    db.session.commit()
    before = content_version()
    db.session.add(Notification(user_id=user.id, kind="test", title="私人通知"))
    db.session.commit()
    assert cache.get(CONTENT_VERSION_KEY) == before


def test_a_bulk_update_of_listings_replaces_the_content_version(app, make_achievement):
    from sqlalchemy import update

    from market.achievements.models import Achievement

    make_achievement()
    before = content_version()
    db.session.execute(update(Achievement).values(region="晋城市"))
    db.session.commit()
    assert content_version() != before


def test_a_rolled_back_change_keeps_the_content_version(app, make_achievement):
    achievement = make_achievement()
    before = content_version()
    db.session.merge(achievement).summary = "不会保存的摘要"
    db.session.flush()
    db.session.rollback()
    assert content_version() == before
    db.session.merge(achievement).summary = "回滚之后再改并保存"
    db.session.commit()
    assert content_version() != before, "a change after the rollback still replaces the version"


@pytest.mark.parametrize("app", [{"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": "redis://127.0.0.1:1/0"}],
                         indirect=True)
def test_pages_are_served_without_the_cache_when_its_store_does_not_answer(app, make_achievement, make_user):
    make_achievement(title="缓存不可用时仍可浏览")
    for client in (client_for(app, None), client_for(app, make_user("enterprise"))):
        for path in ("/", "/achievements", "/achievements?q=焦炉煤气"):
            response = client.get(path)
            assert response.status_code == 200 and "缓存不可用时仍可浏览" in response.get_data(as_text=True)
