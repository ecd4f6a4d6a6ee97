"""Saved searches: what may be saved, the per-user limit, deletion, and the notice of a newly published listing that
matches one (once per listing and person, through the browse page's own search)."""
import pytest
from sqlalchemy import func, select

from market.accounts.models import OutboxMail, User
from market.achievements.services import ACHIEVEMENTS
from market.errors import NotFoundError, RuleViolationError, ValidationError
from market.extensions import db
from market.listings import editing, queries
from market.listings import services as listings
from market.listings.vocabulary import ListingKind
from market.notifications import services as notifications
from market.notifications.categories import MailCategory, mail_category
from market.notifications.models import Notification
from market.saved_searches import services as saved_searches
from market.saved_searches.models import MAX_SAVED_SEARCHES_PER_USER, SavedSearch, SavedSearchNotice
from tests.conftest import ACHIEVEMENT_INPUT

KIND = "saved_search_match"


def told(user: User) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                              Notification.kind == KIND)))


def mails_to(user: User) -> list[OutboxMail]:
    return list(db.session.scalars(select(OutboxMail).where(OutboxMail.recipient == user.email)))


def save(user: User, **data) -> SavedSearch:
    saved, _created = saved_searches.save_search(db.session, user, {"kind": "achievement", **data})
    db.session.commit()
    return saved


@pytest.fixture
def publish(make_user, make_achievement):
    """Publish an achievement (the hydrogen one unless changed) of a new researcher's university; returns it."""
    def do(**changes):
        return make_achievement(owner=make_user("researcher"), **changes)
    return do


def test_a_search_is_saved_with_its_words_and_filters_and_saving_it_again_keeps_one(make_user):
    user = make_user("enterprise")
    saved, created = saved_searches.save_search(db.session, user, {
        "kind": "achievement", "q": " 焦炉煤气 ", "field": "energy", "stage": "pilot", "mode": "assignment",
        "min_fen": "1000", "max_fen": 5_000_000})
    assert created and saved.criteria() == {"q": "焦炉煤气", "field": "energy", "stage": "pilot",
                                             "mode": "assignment", "min_fen": 1000, "max_fen": 5_000_000}
    again, created = saved_searches.save_search(db.session, user, {
        "kind": "achievement", "q": "焦炉煤气", "field": "energy", "stage": "pilot", "mode": "assignment",
        "min_fen": 1000, "max_fen": 5_000_000, "valley": ""})
    assert (again.id, created) == (saved.id, False)
    other, created = saved_searches.save_search(db.session, user, {"kind": "demand", "q": "焦炉煤气"})
    assert created and other.id != saved.id
    assert [item.id for item in saved_searches.list_saved_searches(db.session, user)] == [other.id, saved.id]
    assert "焦炉煤气" in saved_searches.describe(db.session, saved) and "中试" in saved_searches.describe(db.session, saved)


@pytest.mark.parametrize(("data", "field"), [
    ({"kind": "achievement"}, "q"),
    ({"kind": "achievement", "q": "   "}, "q"),
    ({"kind": "service", "q": "氢"}, "kind"),
    ({"q": "氢"}, "kind"),
    ({"kind": "achievement", "stage": "orbit"}, "stage"),
    ({"kind": "demand", "stage": "pilot"}, "stage"),
    ({"kind": "achievement", "mode": "gift"}, "mode"),
    ({"kind": "achievement", "field": "no.such.field"}, "field"),
    ({"kind": "achievement", "valley": "atlantis"}, "valley"),
    ({"kind": "achievement", "min_fen": -1}, "min_fen"),
    ({"kind": "achievement", "min_fen": 9, "max_fen": 5}, "max_fen"),
    ({"kind": "achievement", "q": "氢" * 101}, "q"),
    ({"kind": "achievement", "q": "氢", "sort": "newest"}, "sort"),
])
def test_a_search_that_cannot_be_run_is_refused_with_a_message_and_nothing_kept(make_user, data, field):
    user = make_user("enterprise")
    with pytest.raises(ValidationError) as refused:
        saved_searches.save_search(db.session, user, data)
    assert refused.value.fields.get(field)
    assert saved_searches.list_saved_searches(db.session, user) == []


def test_a_user_keeps_at_most_the_limit_of_saved_searches(make_user):
    user, other = make_user("enterprise"), make_user("enterprise")
    for number in range(MAX_SAVED_SEARCHES_PER_USER):
        save(user, q=f"检索词{number}")
    with pytest.raises(RuleViolationError, match=str(MAX_SAVED_SEARCHES_PER_USER)):
        saved_searches.save_search(db.session, user, {"kind": "achievement", "q": "再多一条"})
    assert saved_searches.save_search(db.session, user, {"kind": "achievement", "q": "检索词0"})[1] is False
    assert save(other, q="再多一条").id
    saved_searches.delete_saved_search(db.session, user, saved_searches.list_saved_searches(db.session, user)[0].id)
    assert saved_searches.save_search(db.session, user, {"kind": "achievement", "q": "再多一条"})[1] is True


def test_only_the_owner_reads_and_deletes_a_saved_search(make_user):
    owner, other = make_user("enterprise"), make_user("enterprise")
    saved = save(owner, q="氢能")
    with pytest.raises(NotFoundError):
        saved_searches.get_saved_search(db.session, other, saved.id)
    with pytest.raises(NotFoundError):
        saved_searches.delete_saved_search(db.session, other, saved.id)
    saved_searches.delete_saved_search(db.session, owner, saved.id)
    assert db.session.get(SavedSearch, saved.id) is None
    with pytest.raises(NotFoundError):
        saved_searches.delete_saved_search(db.session, owner, saved.id)


def test_a_new_matching_listing_is_told_once_in_app_and_by_mail_even_when_several_searches_match(
        make_user, publish, app):
    reader = make_user("enterprise", locale="en")
    save(reader, q="焦炉煤气")
    save(reader, field="energy", mode="assignment")
    achievement = publish()
    notices = told(reader)
    assert len(notices) == 1
    assert notices[0].link == f"/achievements/{achievement.id}" and achievement.title in notices[0].title
    assert "焦炉煤气" in notices[0].body
    mails = [mail for mail in mails_to(reader) if mail.subject == notices[0].title]
    assert len(mails) == 1 and app.config["BASE_URL"] + notices[0].link in mails[0].body
    assert mail_category(KIND) == MailCategory.SAVED_SEARCHES
    assert db.session.scalar(select(func.count()).select_from(SavedSearchNotice)) == 1


def test_a_listing_edited_and_published_again_is_not_told_twice(make_user, publish):
    reader = make_user("enterprise")
    save(reader, q="焦炉煤气")
    achievement = publish()
    assert len(told(reader)) == 1
    save(reader, q="二氧化碳捕集")
    admin = db.session.scalar(select(User).where(User.role == "admin"))
    editing.update_listing(db.session, achievement.submitter, ACHIEVEMENTS, achievement.id,
                           {**ACHIEVEMENT_INPUT, "summary": "新的简介：焦炉煤气制氢并捕集二氧化碳。"}, submit=True)
    listings.approve_listing(db.session, admin, ListingKind.ACHIEVEMENT, achievement.id)
    db.session.commit()
    assert len(told(reader)) == 1


def test_searches_that_do_not_match_and_the_listing_s_own_people_are_not_told(make_user, make_achievement,
                                                                             make_organisation):
    other_words, other_kind, filtered = make_user("enterprise"), make_user("enterprise"), make_user("enterprise")
    cheap, elsewhere, inactive = make_user("enterprise"), make_user("enterprise"), make_user("enterprise")
    save(other_words, q="冷轧带钢 表面缺陷")
    saved_searches.save_search(db.session, other_kind, {"kind": "demand", "q": "焦炉煤气"})
    save(filtered, q="焦炉煤气", stage="industrial")
    save(cheap, q="焦炉煤气", max_fen=1000)
    save(elsewhere, q="焦炉煤气", field="it")
    save(inactive, q="焦炉煤气")
    inactive.is_active_account = False
    colleague_org = make_organisation("university")
    colleague = make_user("researcher", organisation=colleague_org)
    save(colleague, q="焦炉煤气")
    db.session.commit()
    watcher = make_user("enterprise")
    save(watcher, q="焦炉煤气")
    make_achievement(owner=make_user("researcher", organisation=colleague_org))
    assert len(told(watcher)) == 1
    for user in (other_words, other_kind, filtered, cheap, elsewhere, inactive, colleague):
        assert told(user) == [], user.email


def test_turning_the_category_off_keeps_the_in_app_notice_and_stops_the_mail(make_user, publish):
    reader = make_user("enterprise")
    notifications.set_mail_categories(db.session, reader, {"categories": ["action", "money", "deal_news"]})
    save(reader, q="焦炉煤气")
    publish()
    assert len(told(reader)) == 1
    assert [mail for mail in mails_to(reader) if mail.subject == told(reader)[0].title] == []


def test_the_match_is_the_browse_search_restricted_to_the_new_listing(make_user, publish, monkeypatch):
    reader = make_user("enterprise")
    save(reader, q="焦炉煤气", field="energy")
    asked = []
    search = queries.search_listings

    def spy(session, kind, params, **options):
        asked.append((kind, params))
        return search(session, kind, params, **options)

    monkeypatch.setattr(queries, "search_listings", spy)
    achievement = publish()
    assert len(asked) == 1
    kind, params = asked[0]
    assert (kind, params.q, params.field, params.listing_ids) == ("achievement", "焦炉煤气", "energy", (achievement.id,))
    assert len(told(reader)) == 1
