"""Preparing the database when the site starts: each step is skipped when it is already done, so a second start
rebuilds nothing that did not change (migrations at the head, seed data already loaded, indexes current)."""
import hashlib
import json
import os
import tempfile
from pathlib import Path

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from market.extensions import db

SEED_MARKER_NAME = "seeded.json"
MARKET = Path(__file__).resolve().parent
SEED_SOURCES = ("seeding.py", "demo_deals.py", "demo_flow.py", "demo_introductions.py", "../seed_data/**/*")
"""What the seed loads (globs from market/): a change to any of them loads the seed data again."""


def migrations_current() -> bool:
    """Whether the database stands at the head of the migrations (so `upgrade` would do nothing)."""
    config = current_app.extensions["migrate"].migrate.get_config()
    heads = set(ScriptDirectory.from_config(config).get_heads())
    with db.engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads()) == heads


def _seed_digest(session: Session, demo: bool) -> str:
    digest = hashlib.sha256(session.get_bind().url.render_as_string(hide_password=True).encode("utf-8"))
    digest.update(b"demo" if demo else b"reference")
    for pattern in SEED_SOURCES:
        for path in sorted(MARKET.glob(pattern)):
            if path.is_file():
                digest.update(path.name.encode("utf-8"))
                digest.update(path.read_bytes())
    return digest.hexdigest()


def _marker() -> Path:
    """Kept beside the match index's own fingerprint (MATCH_INDEX_PATH), so both go with the database's data."""
    return Path(current_app.config["MATCH_INDEX_PATH"]) / SEED_MARKER_NAME


def seed_loaded(session: Session, *, demo: bool) -> bool:
    """Whether this database was seeded from the same seed data (and code) before, and still holds it."""
    from market.accounts.models import User
    from market.taxonomy.models import Field

    try:
        stored = json.loads(_marker().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(stored, dict) or stored.get("digest") != _seed_digest(session, demo):
        return False
    if not session.scalar(select(func.count()).select_from(Field)):
        return False
    return not demo or session.scalar(select(func.count()).select_from(User).where(User.is_demo.is_(True))) > 0


def remember_seed(session: Session, *, demo: bool) -> None:
    """Note that the seed was loaded (written once the unit of work that loaded it commits)."""
    from market.unit_of_work import on_commit

    digest, marker = _seed_digest(session, demo), _marker()

    def write() -> None:
        marker.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".seeded-", dir=marker.parent)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump({"digest": digest}, out)
        os.replace(temporary, marker)

    on_commit(session, write)


def warm_for_workers(app) -> None:
    """Load what every request shares (the match indexes, the search vocabularies, the word segmenter) once, before
    gunicorn forks its workers, so the workers share those pages of memory instead of each building a copy."""
    import gc

    from market.listings.queries import load_vocabulary
    from market.listings.vocabulary import ListingKind
    from market.matching.index_store import store_for
    from market.text import words_of

    with app.app_context():
        words_of("预热")
        store_for(app).catch_up()
        for kind in ListingKind:
            load_vocabulary(db.session, kind)
        db.session.remove()
        db.engine.dispose()  # a forked worker must open its own connections
    gc.collect()
    gc.freeze()  # the collector leaves the shared objects alone, so their pages stay shared
