"""The matcher in the app: indexes that follow the change log and survive a restart, feedback, pairs and notices,
the broker board and field suggestion."""
import json
from datetime import timedelta
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import func, select

from market.accounts.models import Role, User
from market.achievements.services import update_achievement
from market.errors import NotFoundError, PermissionDeniedError, ValidationError
from market.extensions import db
from market.listings import services as listings
from market.listings.vocabulary import ListingKind
from market.matching import index_store, services
from market.matching.engine import MatchIndex
from market.matching.index_store import POINTER_NAME, MatchIndexStore, store_for
from market.matching.models import MatchFeedback, MatchIndexChange, MatchPair
from market.notifications.models import Notification
from market.timeutil import utcnow
from tests.conftest import ACHIEVEMENT_INPUT

HYDROGEN = {"title": "焦炉煤气变压吸附制氢技术", "summary": "以焦炉煤气为原料，变压吸附制取高纯氢气，氢气纯度99.999%。",
            "keywords": ["焦炉煤气", "制氢", "变压吸附"], "field": "energy.hydrogen.production"}
HYDROGEN_NEED = {"title": "焦炉煤气制氢提纯需求", "description": "寻求焦炉煤气变压吸附制氢提纯技术，氢气纯度达到99.99%以上。",
                 "keywords": ["焦炉煤气", "制氢"], "field": "energy.hydrogen", "modes": ["assignment"]}
VISION = {"title": "带钢表面缺陷机器视觉检测系统", "summary": "基于深度学习的带钢表面缺陷在线检测，识别划伤、辊印。",
          "keywords": ["机器视觉", "表面缺陷"], "field": "equipment", "modes": ["co_development"]}
VISION_NEED = {"title": "冷轧带钢表面缺陷在线检测", "description": "需要在线识别冷轧带钢表面划伤、辊印等缺陷，识别率不低于95%。",
               "keywords": ["表面缺陷", "机器视觉"], "field": "equipment"}


@pytest.fixture
def admin(make_user):
    return db.session.scalar(select(User).where(User.role == Role.ADMIN)) or make_user("admin")


def store():
    return store_for(current_app)


def indexed_ids(kind: str) -> set[str]:
    s = store()
    s.catch_up()
    return {listing.id for listing in s.indexes[kind].listings()}


# ---------------------------------------------------------------------------------------------- the change log
def test_published_listings_are_matched_and_logged(make_achievement, make_demand):
    achievement = make_achievement(**HYDROGEN)
    demand = make_demand(owner=None, **HYDROGEN_NEED)
    found = services.list_listing_matches(db.session, demand.submitter, ListingKind.DEMAND, demand.id)
    assert [m.achievement.id for m in found.matches] == [achievement.id]
    assert 0 < found.matches[0].score <= 100
    logged = db.session.execute(select(MatchIndexChange.kind, MatchIndexChange.listing_id, MatchIndexChange.action)
                                .where(MatchIndexChange.action == "upsert")).all()
    assert ("achievement", achievement.id, "upsert") in logged and ("demand", demand.id, "upsert") in logged


def test_withdrawn_achievement_leaves_a_running_index(make_achievement, make_demand):
    achievement = make_achievement(**HYDROGEN)
    assert str(achievement.id) in indexed_ids("achievement")
    listings.withdraw_listing(db.session, achievement.submitter, ListingKind.ACHIEVEMENT, achievement.id)
    db.session.commit()
    assert str(achievement.id) not in indexed_ids("achievement")
    demand = make_demand(**HYDROGEN_NEED)
    found = services.list_listing_matches(db.session, demand.submitter, ListingKind.DEMAND, demand.id)
    assert found.matches == []


def test_edited_published_listing_is_out_until_approved_again_then_indexed_with_its_new_text(make_achievement, admin):
    achievement = make_achievement(**HYDROGEN)
    update_achievement(db.session, achievement.submitter, achievement.id,
                       {**ACHIEVEMENT_INPUT, **HYDROGEN, "title": "焦炉煤气深冷分离制氢"})
    db.session.commit()
    assert str(achievement.id) not in indexed_ids("achievement")
    listings.approve_listing(db.session, admin, ListingKind.ACHIEVEMENT, achievement.id)
    db.session.commit()
    assert str(achievement.id) in indexed_ids("achievement")
    assert store().indexes["achievement"].get(str(achievement.id)).title == "焦炉煤气深冷分离制氢"


def test_changes_are_applied_one_by_one_without_a_rebuild(make_achievement, monkeypatch):
    make_achievement(**HYDROGEN)
    store().catch_up()
    builds = []
    monkeypatch.setattr(MatchIndexStore, "_build", lambda self, session: builds.append(1))
    second = make_achievement(**VISION)
    assert str(second.id) in indexed_ids("achievement")
    assert builds == []


def test_restart_loads_the_saved_index_and_analyses_only_what_changed_since(app, make_achievement, monkeypatch):
    first = make_achievement(**HYDROGEN)
    make_achievement(**VISION)
    store().catch_up()
    store().save()
    second_process = MatchIndexStore(app.config["MATCH_INDEX_PATH"], store().open_session)
    later = make_achievement(title="光伏组件回收技术", summary="晶硅光伏组件拆解回收银和硅。", field="energy.photovoltaic")
    converted, bulk_adds = [], []
    real_convert = index_store.engine_listing
    monkeypatch.setattr(index_store, "engine_listing",
                        lambda listing, code=None: converted.append(listing.id) or real_convert(listing, code))
    monkeypatch.setattr(MatchIndex, "add_many", lambda self, *a, **k: bulk_adds.append(1))
    second_process.catch_up()
    assert second_process.origin == "disk"
    assert bulk_adds == []
    assert converted == [later.id]
    assert {str(first.id), str(later.id)} <= {item.id for item in second_process.indexes["achievement"].listings()}


def test_snapshot_that_disagrees_with_the_database_is_rebuilt(app, make_achievement):
    make_achievement(**HYDROGEN)
    bypassed = make_achievement(status="pending", **VISION)
    store().catch_up()
    store().save()
    bypassed.status = "published"  # published without the listing services (as a raw data load would)
    db.session.commit()
    restarted = MatchIndexStore(app.config["MATCH_INDEX_PATH"], store().open_session)
    restarted.catch_up()
    assert restarted.origin == "database"
    assert str(bypassed.id) in {item.id for item in restarted.indexes["achievement"].listings()}


def test_snapshot_newer_than_the_database_is_rebuilt(app, make_achievement):
    achievement = make_achievement(**HYDROGEN)
    store().catch_up()
    store().save()
    db.session.execute(MatchIndexChange.__table__.delete())
    db.session.commit()
    restarted = MatchIndexStore(app.config["MATCH_INDEX_PATH"], store().open_session)
    restarted.catch_up()
    assert restarted.origin == "database"
    assert [item.id for item in restarted.indexes["achievement"].listings()] == [str(achievement.id)]


def test_snapshot_of_another_database_is_not_loaded(app, make_achievement):
    make_achievement(**HYDROGEN)
    store().catch_up()
    store().save()
    pointer = Path(app.config["MATCH_INDEX_PATH"]) / POINTER_NAME
    pointer.write_text(json.dumps({**json.loads(pointer.read_text()), "database": "another-database"}))
    restarted = MatchIndexStore(app.config["MATCH_INDEX_PATH"], store().open_session)
    restarted.catch_up()
    assert restarted.origin == "database"


def test_index_is_saved_after_every_n_applied_changes(app, make_achievement):
    pointer = Path(app.config["MATCH_INDEX_PATH"]) / POINTER_NAME
    achievement = make_achievement(**HYDROGEN)
    running = store()
    running.catch_up()
    running.save()
    running.save_every = 2
    saved = json.loads(pointer.read_text())["seq"]
    for expected_saved in (saved, running.seq + 2):
        index_store.record_change(db.session, "achievement", achievement.id, "upsert")
        db.session.commit()
        running.catch_up()
        assert json.loads(pointer.read_text())["seq"] == expected_saved


def test_change_committed_after_a_later_one_is_still_applied(make_achievement):
    first = make_achievement(**HYDROGEN)
    second = make_achievement(status="pending", **VISION)
    third = make_achievement(status="pending", title="光伏组件回收技术", summary="晶硅光伏组件拆解回收银和硅。",
                             field="energy.photovoltaic")
    store().catch_up()
    newest = db.session.scalar(select(func.max(MatchIndexChange.seq)))
    for listing in (second, third):
        listing.status = "published"
    db.session.add(MatchIndexChange(seq=newest + 2, kind="achievement", listing_id=third.id, action="upsert"))
    db.session.commit()
    assert indexed_ids("achievement") >= {str(first.id), str(third.id)}
    assert str(second.id) not in indexed_ids("achievement")
    db.session.add(MatchIndexChange(seq=newest + 1, kind="achievement", listing_id=second.id, action="upsert"))
    db.session.commit()
    assert str(second.id) in indexed_ids("achievement")


# ---------------------------------------------------------------------------------------------- access and explanation
@pytest.mark.parametrize("viewer, outcome", [
    ("member", "sees"),
    ("admin", "sees"),
    ("broker", "sees"),
    ("other_organisation", PermissionDeniedError),
])
def test_who_sees_the_matches_of_a_published_demand(make_user, make_achievement, make_demand, viewer, outcome):
    make_achievement(**HYDROGEN)
    demand = make_demand(**HYDROGEN_NEED)
    user = {"member": lambda: make_user("enterprise", organisation=demand.organisation),
            "admin": lambda: make_user("admin"), "broker": lambda: make_user("broker"),
            "other_organisation": lambda: make_user("enterprise")}[viewer]()
    if outcome == "sees":
        assert services.list_listing_matches(db.session, user, ListingKind.DEMAND, demand.id).matches
    else:
        with pytest.raises(outcome):
            services.list_listing_matches(db.session, user, ListingKind.DEMAND, demand.id)


@pytest.mark.parametrize("viewer, error", [("broker", NotFoundError), ("other_organisation", NotFoundError)])
def test_matches_of_a_draft_are_only_for_its_organisation(make_user, make_demand, viewer, error):
    demand = make_demand(status="draft", **HYDROGEN_NEED)
    user = make_user("broker") if viewer == "broker" else make_user("enterprise")
    with pytest.raises(error):
        services.list_listing_matches(db.session, user, ListingKind.DEMAND, demand.id)
    assert services.list_listing_matches(db.session, demand.submitter, ListingKind.DEMAND, demand.id) is not None


def test_explanation_names_shared_terms_field_path_and_factor_points(make_achievement, make_demand):
    make_achievement(**HYDROGEN)
    demand = make_demand(**HYDROGEN_NEED)
    match = services.list_listing_matches(db.session, demand.submitter, ListingKind.DEMAND, demand.id).matches[0]
    assert "焦炉煤气" in match.shared_terms
    assert match.field_path == ("氢能", "制氢与氢气提纯")
    assert "焦炉煤气" in match.query_snippet.terms and "焦炉煤气" in match.other_snippet.terms
    assert [f.name for f in match.factors] == ["text", "title_keywords", "field", "maturity", "budget", "mode",
                                               "region"]
    assert sum(f.points for f in match.factors) == pytest.approx(match.score, abs=0.05)
    assert all(f.points <= f.max_points + 1e-9 for f in match.factors)


@pytest.mark.parametrize("text, terms, expected", [
    ("甲" * 200 + "焦炉煤气制氢" + "乙" * 200, ["焦炉煤气", "制氢"], ("焦炉煤气", "制氢")),
    ("Deep Learning 与机器视觉", ["deep learning"], ("Deep Learning",)),
    ("没有共同的词", ["氢能"], ()),
])
def test_snippet_keeps_the_shared_terms_as_written(text, terms, expected):
    found = services.snippet(text, terms, width=40)
    assert found.terms == expected
    assert all(term in found.text for term in found.terms)
    assert len(found.text) <= 42


# ---------------------------------------------------------------------------------------------- feedback
def test_feedback_is_stored_once_per_user_and_pair_and_can_change(make_achievement, make_demand):
    achievement = make_achievement(**HYDROGEN)
    demand = make_demand(**HYDROGEN_NEED)
    user = demand.submitter
    services.save_feedback(db.session, user, demand_id=demand.id, achievement_id=achievement.id,
                           verdict="relevant", reason="content_fits")
    services.save_feedback(db.session, user, demand_id=demand.id, achievement_id=achievement.id,
                           verdict="not_relevant", reason="price_mismatch", comment="预算差距太大")
    rows = db.session.execute(select(MatchFeedback.verdict, MatchFeedback.reason, MatchFeedback.comment)).all()
    assert rows == [("not_relevant", "price_mismatch", "预算差距太大")]


def test_pair_marked_not_relevant_is_dimmed_and_last_for_the_whole_organisation(make_user, make_achievement,
                                                                               make_demand):
    hydrogen = make_achievement(**HYDROGEN)
    make_achievement(**{**HYDROGEN, "title": "焦炉煤气制氢催化剂", "field": "energy.hydrogen"})
    demand = make_demand(**HYDROGEN_NEED)
    colleague = make_user("enterprise", organisation=demand.organisation)
    services.save_feedback(db.session, demand.submitter, demand_id=demand.id, achievement_id=hydrogen.id,
                           verdict="not_relevant", reason="different_field")
    seen = services.list_listing_matches(db.session, colleague, ListingKind.DEMAND, demand.id).matches
    assert [m.achievement.id for m in seen][-1] == hydrogen.id and seen[-1].dismissed
    assert not seen[0].dismissed
    outsider = services.list_listing_matches(db.session, make_user("broker"), ListingKind.DEMAND, demand.id).matches
    assert not any(m.dismissed for m in outsider)


@pytest.mark.parametrize("verdict, reason, comment, fields", [
    ("maybe", "content_fits", "", {"verdict": "请选择“相关”或“不相关”。"}),
    (None, "content_fits", "", {"verdict": "请选择“相关”或“不相关”。"}),
    ("relevant", "", "", {"reason": "请选择原因。"}),
    ("relevant", ["content_fits"], "", {"reason": "请选择原因。"}),
    ("relevant", "price_mismatch", "", {"reason": "该原因与所选判断不符。"}),
    ("not_relevant", "worth_contacting", "", {"reason": "该原因与所选判断不符。"}),
    ("relevant", "content_fits", "很长" * 251, {"comment": "不能超过 500 个字符。"}),
    ("relevant", "content_fits", "说明\x00", {"comment": "包含不允许的控制字符。"}),
    ("", "", 5, {"verdict": "请选择“相关”或“不相关”。", "reason": "请选择原因。", "comment": "应为文本。"}),
])
def test_invalid_feedback_is_refused(make_achievement, make_demand, verdict, reason, comment, fields):
    achievement = make_achievement(**HYDROGEN)
    demand = make_demand(**HYDROGEN_NEED)
    with pytest.raises(ValidationError) as refused:
        services.save_feedback(db.session, demand.submitter, demand_id=demand.id, achievement_id=achievement.id,
                               verdict=verdict, reason=reason, comment=comment)
    assert refused.value.fields == fields
    assert db.session.scalar(select(func.count()).select_from(MatchFeedback)) == 0


def test_feedback_on_another_organisations_private_listing_looks_absent(make_user, make_achievement, make_demand):
    achievement = make_achievement(**HYDROGEN)
    draft = make_demand(status="draft", **HYDROGEN_NEED)
    with pytest.raises(NotFoundError):
        services.save_feedback(db.session, make_user("broker"), demand_id=draft.id, achievement_id=achievement.id,
                               verdict="relevant", reason="content_fits")


def test_researcher_of_another_organisation_may_not_give_feedback(make_user, make_achievement, make_demand):
    achievement = make_achievement(**HYDROGEN)
    demand = make_demand(**HYDROGEN_NEED)
    with pytest.raises(PermissionDeniedError):
        services.save_feedback(db.session, make_user("researcher"), demand_id=demand.id,
                               achievement_id=achievement.id, verdict="relevant", reason="content_fits")


# ---------------------------------------------------------------------------------------------- pairs and notices
def match_notices(user) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                              Notification.kind == "match_found")))


@pytest.mark.parametrize("app", [{"MATCH_NOTIFY_THRESHOLD": 20, "MATCH_PAIR_FLOOR": 10}], indirect=True)
def test_owner_is_notified_once_per_pair_when_a_matching_listing_is_published(make_achievement, make_demand, admin):
    achievement = make_achievement(**HYDROGEN)
    demand = make_demand(**HYDROGEN_NEED)
    notices = match_notices(achievement.submitter)
    assert len(notices) == 1
    assert demand.title in notices[0].title
    assert notices[0].link == f"/achievements/{achievement.id}/matches#match-{demand.id}-{achievement.id}"
    assert match_notices(demand.submitter) == []
    listings.withdraw_listing(db.session, demand.submitter, ListingKind.DEMAND, demand.id)
    listings.submit_listing(db.session, demand.submitter, ListingKind.DEMAND, demand.id)
    listings.approve_listing(db.session, admin, ListingKind.DEMAND, demand.id)
    assert db.session.scalar(select(MatchPair.is_current)) is False, "paired by a job once the approval is committed"
    db.session.commit()
    assert len(match_notices(achievement.submitter)) == 1
    pair = db.session.scalar(select(MatchPair))
    assert (pair.demand_id, pair.achievement_id, pair.is_current) == (demand.id, achievement.id, True)
    assert pair.notified_at is not None and 0 < pair.score_bp <= 10_000


@pytest.mark.parametrize("app", [{"MATCH_NOTIFY_THRESHOLD": 100, "MATCH_PAIR_FLOOR": 10}], indirect=True)
def test_no_notice_below_the_threshold_but_the_pair_is_kept(make_achievement, make_demand):
    achievement = make_achievement(**HYDROGEN)
    make_demand(**HYDROGEN_NEED)
    assert match_notices(achievement.submitter) == []
    assert db.session.scalar(select(func.count()).select_from(MatchPair)) == 1


@pytest.mark.parametrize("app", [{"MATCH_NOTIFY_THRESHOLD": 20, "MATCH_PAIR_FLOOR": 10}], indirect=True)
def test_no_notice_between_listings_of_one_organisation(make_user, make_achievement, make_demand):
    company = make_user("enterprise")
    achievement = make_achievement(owner=company, **HYDROGEN)
    make_demand(owner=make_user("enterprise", organisation=company.organisation), **HYDROGEN_NEED)
    assert match_notices(achievement.submitter) == []


@pytest.mark.parametrize("app", [{"MATCH_NOTIFY_THRESHOLD": 20, "MATCH_PAIR_FLOOR": 10}], indirect=True)
def test_withdrawing_a_listing_retires_its_pairs(make_achievement, make_demand):
    achievement = make_achievement(**HYDROGEN)
    make_demand(**HYDROGEN_NEED)
    listings.withdraw_listing(db.session, achievement.submitter, ListingKind.ACHIEVEMENT, achievement.id)
    assert db.session.scalar(select(MatchPair.is_current)) is False


# ---------------------------------------------------------------------------------------------- broker board
@pytest.fixture
def board_pairs(app, make_user, make_organisation, make_achievement, make_demand):
    """Two pairs: hydrogen (both sides in Taiyuan, energy) and vision (both in Datong, equipment)."""
    current_app.config.update(MATCH_PAIR_FLOOR=30)
    datong_company = make_user("enterprise", organisation=make_organisation("enterprise", region="大同市"))
    datong_university = make_user("researcher", organisation=make_organisation("university", region="大同市"))
    hydrogen = (make_achievement(**HYDROGEN), make_demand(**HYDROGEN_NEED))
    vision = (make_achievement(owner=datong_university, **VISION), make_demand(owner=datong_company, **VISION_NEED))
    return {"hydrogen": hydrogen, "vision": vision}


def board(user, **filters):
    return services.list_board(db.session, user, services.BoardFilter(min_score=0, **filters))


def titles(page) -> list[str]:
    return [row.pair.demand.title for row in page.items]


@pytest.mark.parametrize("filters, expected", [
    ({}, {"焦炉煤气制氢提纯需求", "冷轧带钢表面缺陷在线检测"}),
    ({"valley": "datong"}, {"冷轧带钢表面缺陷在线检测"}),
    ({"field": "energy"}, {"焦炉煤气制氢提纯需求"}),
    ({"field": "equipment", "valley": "taiyuan"}, set()),
    ({"field": "equipment", "valley": "datong"}, {"冷轧带钢表面缺陷在线检测"}),
    ({"min_score": 100}, set()),
])
def test_board_filters_by_valley_field_and_score(board_pairs, make_user, filters, expected):
    page = services.list_board(db.session, make_user("broker"),
                               services.BoardFilter(**{"min_score": 0, **filters}))
    assert {row.pair.demand.title for row in page.items} == expected
    assert page.total == len(expected)


def test_board_is_best_first_and_paginated(board_pairs, make_user, monkeypatch):
    monkeypatch.setattr(services, "BOARD_PAGE_SIZE", 1)
    broker = make_user("broker")
    first, second = board(broker, page=1), board(broker, page=2)
    assert first.total == 2 and first.pages == 2
    assert first.items[0].pair.score_bp >= second.items[0].pair.score_bp
    assert titles(first) != titles(second)


def test_board_hides_pairs_marked_not_relevant_unless_asked_and_shows_the_feedback(board_pairs, make_user):
    achievement, demand = board_pairs["hydrogen"]
    services.save_feedback(db.session, demand.submitter, demand_id=demand.id, achievement_id=achievement.id,
                           verdict="not_relevant", reason="maturity_mismatch", comment="还在实验室阶段")
    broker = make_user("broker")
    assert demand.title not in titles(board(broker))
    shown = {row.pair.demand.title: row for row in board(broker, include_dismissed=True).items}
    assert shown[demand.title].dismissed
    assert [f.comment for f in shown[demand.title].feedback] == ["还在实验室阶段"]


def test_board_shows_only_pairs_whose_newer_listing_is_recent(board_pairs, make_user):
    for pair in db.session.scalars(select(MatchPair)):
        pair.newer_published_at = utcnow() - timedelta(days=40)
    db.session.commit()
    broker = make_user("broker")
    assert board(broker, days=30).total == 0
    assert board(broker, days=90).total == 2


@pytest.mark.parametrize("role", ["researcher", "enterprise"])
def test_board_is_refused_to_listing_authors(make_user, role):
    with pytest.raises(PermissionDeniedError):
        board(make_user(role))


def test_refreshing_pairs_covers_listings_loaded_without_the_services(make_achievement, make_demand, admin):
    achievement = make_achievement(**HYDROGEN)
    demand = make_demand(status="pending", **HYDROGEN_NEED)
    demand.status, demand.published_at = "published", utcnow()
    db.session.commit()
    current_app.config.update(MATCH_PAIR_FLOOR=10)
    services.rebuild_indexes()
    assert services.refresh_recent_pairs(db.session, days=30) == 2
    pair = db.session.scalar(select(MatchPair))
    assert (pair.demand_id, pair.achievement_id, pair.notified_at) == (demand.id, achievement.id, None)


def test_reindex_command_rebuilds_saves_and_refreshes_pairs(app, make_achievement, make_demand):
    from market.matching.index_commands import reindex

    current_app.config.update(MATCH_PAIR_FLOOR=10)
    make_achievement(**HYDROGEN)
    make_demand(**HYDROGEN_NEED)
    db.session.execute(MatchPair.__table__.delete())
    db.session.commit()
    result = app.test_cli_runner().invoke(reindex, ["--pairs-days", "30"])
    assert result.exit_code == 0, result.output
    assert "indexed: achievements 1, demands 1" in result.output
    assert "pairs refreshed for 2 listings" in result.output
    assert db.session.scalar(select(func.count()).select_from(MatchPair)) == 1
    assert (Path(app.config["MATCH_INDEX_PATH"]) / POINTER_NAME).exists()


def test_reindex_command_segments_every_listing_into_the_search_table_again(app, make_achievement, make_demand):
    from market.listings.models import SearchTerm
    from market.listings.queries import SearchParams, search_listings
    from market.matching.index_commands import reindex

    achievement = make_achievement(**HYDROGEN)
    make_demand(status="draft", **HYDROGEN_NEED)
    current = {(row.listing_kind, row.listing_id, row.term, row.weight) for row in db.session.scalars(select(SearchTerm))}
    db.session.execute(SearchTerm.__table__.delete())
    db.session.add(SearchTerm(listing_kind=ListingKind.ACHIEVEMENT, listing_id=achievement.id, term="过时", weight=1))
    db.session.commit()
    assert search_listings(db.session, ListingKind.ACHIEVEMENT, SearchParams(q="变压吸附")).total == 0
    result = app.test_cli_runner().invoke(reindex, ["--pairs-days", "0"])
    assert result.exit_code == 0, result.output
    assert "search terms: achievements 1, demands 1" in result.output
    db.session.expire_all()
    rebuilt = {(row.listing_kind, row.listing_id, row.term, row.weight) for row in db.session.scalars(select(SearchTerm))}
    assert rebuilt == current and {kind for kind, *_ in rebuilt} == {ListingKind.ACHIEVEMENT, ListingKind.DEMAND}
    assert search_listings(db.session, ListingKind.ACHIEVEMENT, SearchParams(q="变压吸附")).items == [achievement]


# ---------------------------------------------------------------------------------------------- field suggestion
def test_field_suggestion_learns_from_published_listings(make_achievement, make_demand):
    make_achievement(**HYDROGEN)
    make_achievement(**{**HYDROGEN, "title": "高纯氢气变压吸附提纯装置"})
    make_achievement(**VISION)
    make_demand(**VISION_NEED)
    make_achievement(status="draft", **{**HYDROGEN, "field": "bio"})
    found = services.suggest_fields(db.session, title="焦炉煤气制取高纯氢", text="变压吸附提纯氢气", keywords="制氢，提纯")
    assert found[0].code == "energy.hydrogen.production"
    assert found[0].path == ("能源和新能源", "氢能", "制氢与氢气提纯")
    assert {s.code for s in found} <= {"energy.hydrogen.production", "equipment"}
    assert sum(s.confidence for s in found) == pytest.approx(1.0, abs=0.01)


def test_field_suggestion_for_empty_input_is_empty(make_achievement):
    make_achievement(**HYDROGEN)
    assert services.suggest_fields(db.session, title=" ", text="", keywords="") == []
