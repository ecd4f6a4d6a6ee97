"""`flask prepare` and `flask reindex` skip what is already done, so a second start of the site rebuilds nothing that
did not change."""
from pathlib import Path

from sqlalchemy import func, select

from market.extensions import db
from market.listings.vocabulary import ListingKind
from market.matching.staleness import CURRENT_MESSAGE
from market.startup import SEED_MARKER_NAME
from market.taxonomy.models import Field
from tests.scratch_database import scratch_database_app

HYDROGEN = {"title": "焦炉煤气变压吸附制氢", "summary": "焦炉煤气 变压吸附 制氢 提纯", "keywords": ["制氢", "变压吸附"]}


def test_reindex_skips_when_nothing_changed_and_rebuilds_after_a_listing_changes(app, make_achievement):
    from market.listings import services as listings

    achievement = make_achievement(**HYDROGEN)
    db.session.commit()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["reindex", "--pairs-days", "30"])
    assert first.exit_code == 0 and "indexed: achievements 1, demands 0" in first.output
    second = runner.invoke(args=["reindex", "--pairs-days", "30"])
    assert second.exit_code == 0 and second.output.strip() == CURRENT_MESSAGE
    other_window = runner.invoke(args=["reindex", "--pairs-days", "60"])
    assert "indexed: achievements 1" in other_window.output, "what the pairs cover is part of the fingerprint"
    listings.withdraw_listing(db.session, achievement.submitter, ListingKind.ACHIEVEMENT, achievement.id)
    db.session.commit()
    after_change = runner.invoke(args=["reindex", "--pairs-days", "60"])
    assert "indexed: achievements 0, demands 0" in after_change.output
    forced = runner.invoke(args=["reindex", "--pairs-days", "60", "--force"])
    assert "indexed: achievements 0" in forced.output


def test_prepare_migrates_seeds_and_indexes_once_then_skips_every_step(tmp_path):
    with scratch_database_app(tmp_path, "prepare_test") as app:
        runner = app.test_cli_runner()
        first = runner.invoke(args=["prepare", "--pairs-days", "0"])
        assert first.exit_code == 0, first.output
        assert "added: fields" in first.output and "indexed: achievements 0, demands 0" in first.output
        with app.app_context():
            fields = db.session.scalar(select(func.count()).select_from(Field))
        assert fields > 0
        second = runner.invoke(args=["prepare", "--pairs-days", "0"])
        assert second.exit_code == 0, second.output
        assert second.output.splitlines() == ["database is up to date", "seed data already loaded: nothing added",
                                              CURRENT_MESSAGE]
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(Field)) == fields
        (Path(app.config["MATCH_INDEX_PATH"]) / SEED_MARKER_NAME).unlink()
        unmarked = runner.invoke(args=["prepare", "--pairs-days", "0"])
        assert "added: fields 0" in unmarked.output, "without its marker the seed is loaded again (adding nothing)"
