"""The saved-search pages: a visitor is sent to sign in and comes back to the search; a signed-in user saves the
search the browse page shows, finds it under the profile, opens its results and deletes it."""
import re
from html import unescape
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import select

from market.extensions import db
from market.saved_searches.models import MAX_SAVED_SEARCHES_PER_USER, SavedSearch
from tests.conftest import PASSWORD


def _saved(user) -> list[SavedSearch]:
    return list(db.session.scalars(select(SavedSearch).where(SavedSearch.user_id == user.id)))


def test_a_visitor_is_sent_to_sign_in_and_comes_back_to_the_search(client, make_user):
    user = make_user("enterprise")
    page = client.get("/demands?q=焦炉煤气&field=energy").get_data(as_text=True)
    link = unescape(re.search(r'<a class="btn[^"]*" href="([^"]+)"><i class="bi bi-bookmark-plus"></i> 登录后保存此搜索',
                              page).group(1))
    assert urlsplit(link).path == "/login"
    back = parse_qs(urlsplit(link).query)["next"][0]
    assert urlsplit(back).path == "/demands" and parse_qs(urlsplit(back).query) == {"q": ["焦炉煤气"],
                                                                                   "field": ["energy"]}
    response = client.post(link, data={"email": user.email, "password": PASSWORD, "next": back})
    assert response.status_code == 302 and unquote(response.headers["Location"]) == back
    assert 'action="/profile/saved-searches"' in client.get(back).get_data(as_text=True)


def test_a_signed_in_user_saves_the_search_lists_it_and_deletes_it(client, login_as):
    user = login_as("enterprise")
    page = client.get("/achievements?q=焦炉煤气&stage=pilot&min_wan=50").get_data(as_text=True)
    form = re.search(r'<form method="post" action="/profile/saved-searches">(.*?)</form>', page, re.DOTALL).group(1)
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form))
    assert fields.pop("csrf_token", "") is not None
    assert fields == {"kind": "achievement", "q": "焦炉煤气", "stage": "pilot", "min_fen": "50000000"}
    response = client.post("/profile/saved-searches", data=fields)
    assert response.status_code == 302
    assert parse_qs(urlsplit(response.headers["Location"]).query) == {
        "q": ["焦炉煤气"], "stage": ["pilot"], "min_fen": ["50000000"]}
    assert "已保存此搜索" in client.get(response.headers["Location"]).get_data(as_text=True)
    client.post("/profile/saved-searches", data=fields)
    [saved] = _saved(user)
    listing = client.get("/profile/saved-searches").get_data(as_text=True)
    assert "“焦炉煤气”" in listing and "中试" in listing and "不低于 50万元" in listing
    assert 'href="/achievements?q=' in listing
    response = client.post(f"/profile/saved-searches/{saved.id}/delete")
    assert response.status_code == 302 and _saved(user) == []
    assert "还没有保存的搜索" in client.get("/profile/saved-searches").get_data(as_text=True)


def test_a_search_without_words_or_filters_is_refused_with_a_message_and_nothing_kept(client, login_as):
    user = login_as("researcher")
    response = client.post("/profile/saved-searches", data={"kind": "demand"}, follow_redirects=True)
    assert response.status_code == 200 and "请先输入搜索词或选择筛选条件" in response.get_data(as_text=True)
    response = client.post("/profile/saved-searches", data={"kind": "demand", "q": "氢", "mode": "gift"},
                           follow_redirects=True)
    assert "无效的选项" in response.get_data(as_text=True)
    assert _saved(user) == []


def test_the_limit_is_told_on_the_page(client, login_as):
    user = login_as("researcher")
    for number in range(MAX_SAVED_SEARCHES_PER_USER):
        client.post("/profile/saved-searches", data={"kind": "demand", "q": f"检索{number}"})
    response = client.post("/profile/saved-searches", data={"kind": "demand", "q": "超出"}, follow_redirects=True)
    assert f"最多保存 {MAX_SAVED_SEARCHES_PER_USER} 条搜索" in response.get_data(as_text=True)
    assert len(_saved(user)) == MAX_SAVED_SEARCHES_PER_USER


def test_another_person_s_saved_search_cannot_be_deleted(client, login_as, make_user):
    from market.saved_searches.services import save_search

    owner = make_user("enterprise")
    saved, _created = save_search(db.session, owner, {"kind": "demand", "q": "氢"})
    db.session.commit()
    login_as("enterprise")
    assert client.post(f"/profile/saved-searches/{saved.id}/delete").status_code == 404
    assert _saved(owner)


def test_the_sold_listings_page_offers_no_save(client, login_as):
    login_as("enterprise")
    assert 'id="save-search"' not in client.get("/achievements?sold=1").get_data(as_text=True)
    assert 'id="save-search"' in client.get("/achievements").get_data(as_text=True)


def test_the_mail_settings_page_turns_the_saved_search_mails_off(client, login_as):
    from market.notifications.categories import MailCategory
    from market.notifications.services import mail_categories_on

    user = login_as("enterprise")
    assert "保存的搜索有新发布的成果或需求" in client.get("/notifications/settings").get_data(as_text=True)
    client.post("/notifications/settings", data={"action": "y", "money": "y", "deal_news": "y"})
    assert MailCategory.SAVED_SEARCHES not in mail_categories_on(db.session, user)
    client.post("/notifications/settings", data={"action": "y", "money": "y", "deal_news": "y", "saved_searches": "y"})
    assert MailCategory.SAVED_SEARCHES in mail_categories_on(db.session, user)
