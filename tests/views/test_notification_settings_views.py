"""The notification mail settings page: ticked categories are kept, the action mails need the acknowledgement."""
from sqlalchemy import select

from market.extensions import db
from market.notifications.categories import MailCategory
from market.notifications.models import MailOptOut
from market.notifications.services import mail_categories_on


def opted_out(user) -> set[str]:
    return set(db.session.scalars(select(MailOptOut.category).where(MailOptOut.user_id == user.id)))


def test_every_category_is_ticked_by_default_and_the_profile_links_to_the_page(login_as, client):
    login_as("enterprise")
    page = client.get("/notifications/settings").get_data(as_text=True)
    assert page.count('checked') == 4 and "资金消息" in page and "保存的搜索有新发布的成果或需求" in page
    assert "/notifications/settings" in client.get("/profile").get_data(as_text=True)


def test_money_and_deal_news_mails_are_turned_off_and_on_again(login_as, client):
    user = login_as("enterprise")
    response = client.post("/notifications/settings", data={"action": "y", "saved_searches": "y"})
    assert response.status_code == 302
    assert opted_out(user) == {"money", "deal_news"}
    client.post("/notifications/settings", data={"action": "y", "money": "y", "deal_news": "y", "saved_searches": "y"})
    assert opted_out(user) == set()


def test_action_mails_stay_on_without_the_acknowledgement_and_the_page_says_so(login_as, client):
    user = login_as("enterprise")
    response = client.post("/notifications/settings", data={"money": "y", "deal_news": "y"})
    assert response.status_code == 422
    assert "请确认您已了解" in response.get_data(as_text=True)
    assert MailCategory.ACTION in mail_categories_on(db.session, user)
    assert client.post("/notifications/settings", data={"money": "y", "deal_news": "y", "saved_searches": "y",
                                                        "action_off_understood": "y"}).status_code == 302
    assert opted_out(user) == {"action"}
    assert "您已关闭待处理事项的邮件" in client.get("/notifications").get_data(as_text=True)
