"""Whether the search table, the match indexes and the recent pairs are current: a fingerprint of what they were
built from (the listings' counts, ids, update and publication times, the change log, the field tree, the pairs kept,
the text analysis code), stored beside the match index after each rebuild, so that a restart rebuilds nothing that
did not change."""
import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from market.listings.models import listing_model
from market.listings.vocabulary import ListingKind, ListingStatus
from market.matching.index_store import POINTER_NAME
from market.matching.models import MatchIndexChange, MatchPair
from market.taxonomy.models import Field
from market.unit_of_work import on_commit

FINGERPRINT_NAME = "reindex.json"
MARKET = Path(__file__).resolve().parent.parent
CURRENT_MESSAGE = "search table, match indexes and pairs are current: nothing rebuilt (--force rebuilds anyway)"
ANALYSIS_SOURCES = ("text.py", "listings/search*.py", "matching/engine.py", "matching/ngrams.py",
                    "matching/postings.py", "matching/fields.py", "matching/weights.py", "matching/factors.py")
"""The code whose change alters what a rebuild produces (globs under market/)."""


@dataclass
class ReindexOutcome:
    """What `rebuild_if_stale` did: whether it rebuilt, and a line per step for the command's output."""

    rebuilt: bool
    lines: list[str] = field(default_factory=list)


def fingerprint(session: Session, pairs_days: int) -> str:
    """A digest of everything a rebuild reads, cheap to compute (a few aggregate queries)."""
    facts: list = [session.get_bind().url.render_as_string(hide_password=True), pairs_days, _analysis_digest()]
    for kind in ListingKind:
        model = listing_model(kind)
        facts.append(session.execute(select(func.count(), func.max(model.id), func.max(model.updated_at),
                                            func.max(model.published_at)).select_from(model)).one())
        facts.append(session.scalar(select(func.count()).select_from(model)
                                    .where(model.status == ListingStatus.PUBLISHED)))
    facts.append(session.scalar(select(func.max(MatchIndexChange.seq))))
    facts.append(session.execute(select(func.count(), func.max(Field.id))).one())
    facts.append(session.scalar(select(func.count()).select_from(MatchPair).where(MatchPair.is_current.is_(True))))
    return hashlib.sha256(repr([tuple(fact) if not isinstance(fact, (str, int, type(None))) else fact
                                for fact in facts]).encode("utf-8")).hexdigest()


def _analysis_digest() -> str:
    digest = hashlib.sha256()
    for pattern in ANALYSIS_SOURCES:
        for path in sorted(MARKET.glob(pattern)):
            digest.update(path.read_bytes())
    return digest.hexdigest()


def stored_fingerprint(index_path: str) -> str | None:
    """The fingerprint saved by the last rebuild, if its match index snapshot is still there."""
    folder = Path(index_path)
    try:
        stored = json.loads((folder / FINGERPRINT_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not (folder / POINTER_NAME).exists() or not isinstance(stored, dict):
        return None
    return stored.get("fingerprint")


def save_fingerprint(index_path: str, value: str) -> None:
    """Remember the fingerprint of what was just rebuilt (written atomically)."""
    folder = Path(index_path)
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".reindex-", dir=folder)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump({"fingerprint": value}, out)
    os.replace(temporary, folder / FINGERPRINT_NAME)


def rebuild_if_stale(session: Session, index_path: str, *, pairs_days: int, force: bool = False) -> ReindexOutcome:
    """Rebuild the search table, the match indexes and (with pairs_days) the recent pairs, unless the stored
    fingerprint says nothing they are built from changed since the last rebuild (or `force`)."""
    from market.listings.search_rebuild import rebuild_search_terms
    from market.matching.services import rebuild_indexes, refresh_recent_pairs

    before = fingerprint(session, pairs_days)
    if not force and stored_fingerprint(index_path) == before:
        return ReindexOutcome(False, [CURRENT_MESSAGE])
    outcome = ReindexOutcome(True)
    started = time.perf_counter()
    searchable = rebuild_search_terms(session)
    outcome.lines.append(f"search terms: achievements {searchable['achievement']}, demands {searchable['demand']} "
                         f"in {time.perf_counter() - started:.1f}s")
    started = time.perf_counter()
    session.flush()
    counts = rebuild_indexes()
    outcome.lines.append(f"indexed: achievements {counts['achievement']}, demands {counts['demand']} "
                         f"in {time.perf_counter() - started:.1f}s")
    if pairs_days:
        started = time.perf_counter()
        matched = refresh_recent_pairs(session, days=pairs_days)
        outcome.lines.append(f"pairs refreshed for {matched} listings in {time.perf_counter() - started:.1f}s")
    session.flush()
    after = fingerprint(session, pairs_days)
    on_commit(session, lambda: save_fingerprint(index_path, after))
    return outcome

