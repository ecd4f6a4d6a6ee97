"""The per-process match indexes: loaded from MATCH_INDEX_PATH (else built from the database and saved), kept in
step with the change log before each use, and saved again every few applied changes.

Layout of MATCH_INDEX_PATH (a directory):
    current.json                  {"format": 1, "seq": <last change covered>, "snapshot": "<folder>",
                                   "database": <fingerprint of the database URL>}
    snapshot-<seq>-<token>/       achievement.npz, demand.npz (MatchIndex.save files)
A snapshot is written to a fresh folder and only then named in current.json (atomic replace), so a reader never
sees the two indexes of different moments; replaying a change twice is harmless (an upsert replaces).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from market.listings.models import listing_model
from market.listings.vocabulary import ListingKind, ListingStatus
from market.matching.engine import Listing, MatchIndex
from market.matching.fields import FieldTree
from market.matching.models import IndexAction, MatchIndexChange
from market.matching.suggest import FieldSuggester
from market.taxonomy.models import Field
from market.text import add_words

log = logging.getLogger(__name__)

SNAPSHOT_FORMAT = 1
POINTER_NAME = "current.json"
SNAPSHOTS_KEPT = 3
KINDS = (ListingKind.ACHIEVEMENT, ListingKind.DEMAND)
LOAD_CHUNK = 500
BUILD_REPLAY = 100
"""A fresh build re-applies the last changes before it: one still being committed when the build read the table."""
MAX_TRACKED_GAPS = 10_000
STAGING_MAX_AGE_SECONDS = 3600
_stores_lock = threading.Lock()


def _field_rows(session: Session) -> list[Field]:
    return list(session.scalars(select(Field).order_by(Field.id)))


def field_tree_of(fields: Iterable[Field]) -> FieldTree:
    """The engine's field tree from the Field rows (codes, names, parents, keywords)."""
    fields = list(fields)
    codes = {field.id: field.code for field in fields}
    return FieldTree.from_nodes({"code": field.code, "name": field.name, "parent_code": codes.get(field.parent_id),
                                 "keywords": field.keywords or ()} for field in fields)


def engine_listing(listing, field_code: str | None = None) -> Listing:
    """An achievement or demand as the engine's plain Listing (public text only, money in fen, TRL, modes)."""
    code = field_code or (listing.field.code if listing.field_id is not None and listing.field else None)
    modes = tuple(str(row.mode) for row in listing.mode_rows)
    if listing.kind == ListingKind.ACHIEVEMENT:
        text = "\n".join(part for part in (listing.summary, listing.description_public, listing.benefits,
                                           listing.scenarios) if part)
        return Listing(id=str(listing.id), kind="achievement", title=listing.title, text=text,
                       keywords=tuple(listing.keywords or ()), field=code, trl=listing.trl,
                       money_min_fen=listing.price_min_fen, money_max_fen=listing.price_max_fen, modes=modes,
                       region=listing.region or None)
    return Listing(id=str(listing.id), kind="demand", title=listing.title, text=listing.description or "",
                   keywords=tuple(listing.keywords or ()), field=code, trl=listing.wanted_trl_min,
                   money_min_fen=listing.budget_min_fen, money_max_fen=listing.budget_max_fen, modes=modes,
                   region=listing.region or None)


def _listings_by_id(session: Session, kind: ListingKind, ids: list[int]) -> dict[int, object]:
    model = listing_model(kind)
    found = {}
    for start in range(0, len(ids), LOAD_CHUNK):
        chunk = ids[start:start + LOAD_CHUNK]
        for listing in session.scalars(select(model).where(model.id.in_(chunk)).options(selectinload(model.mode_rows))):
            found[listing.id] = listing
    return found


def _database_key(session: Session) -> str:
    """A short fingerprint of the database a snapshot was made from (its URL without the password)."""
    url = session.get_bind().url.render_as_string(hide_password=True)
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


def _field_signature(fields: list[Field]) -> tuple:
    return tuple((f.id, f.code, f.name, f.parent_id, tuple(f.keywords or ())) for f in fields)


class MatchIndexStore:
    """One MatchIndex over published achievements and one over published demands, for this process.

    The store reads the database through its own short sessions (`open_session`), so the indexes only ever hold
    committed listings, whatever the caller's transaction has flushed.
    """

    def __init__(self, path: str | os.PathLike[str], open_session: Callable[[], Session], *, save_every: int = 50,
                 gap_patience_seconds: float = 300.0, field_refresh_seconds: float = 60.0,
                 suggester_refresh_seconds: float = 120.0) -> None:
        """An empty store; the indexes are loaded or built on first use."""
        self.path = Path(path)
        self.open_session = open_session
        self.save_every = save_every
        self.gap_patience_seconds = gap_patience_seconds
        self.field_refresh_seconds = field_refresh_seconds
        self.suggester_refresh_seconds = suggester_refresh_seconds
        self.lock = threading.RLock()
        self.indexes: dict[ListingKind, MatchIndex] = {}
        self.seq = 0
        self.gaps: dict[int, float] = {}
        self.unsaved_changes = 0
        self.origin: str | None = None
        """How the indexes came to be: "disk" (a snapshot) or "database" (a build)."""
        self._database: str | None = None
        self._field_signature: tuple | None = None
        self._field_checked_at = 0.0
        self._field_codes: dict[int, str] = {}
        self._suggester: FieldSuggester | None = None
        self._suggester_seq = -1
        self._suggester_built_at = 0.0

    # ----- use ------------------------------------------------------------------------------------
    @contextmanager
    def reading(self) -> Iterator[dict[ListingKind, MatchIndex]]:
        """The two indexes (by the kind of listing they hold), up to date with the change log, held while in use."""
        with self.lock:
            self.catch_up()
            yield self.indexes

    def catch_up(self) -> int:
        """Load or build the indexes if needed, then apply newer changes; returns how many listings changed."""
        with self.lock, self.open_session() as session:
            if not self.indexes:
                self._open(session)
            self._refresh_field_tree(session)
            applied = self._apply_changes(session)
            if self.unsaved_changes >= self.save_every:
                self._save_or_warn()
            return applied

    def suggester(self) -> FieldSuggester:
        """A field suggester over the published listings of both kinds (rebuilt now and then as they change)."""
        with self.lock:
            self.catch_up()
            stale = self._suggester_seq != self.seq and (
                time.monotonic() - self._suggester_built_at >= self.suggester_refresh_seconds)
            if self._suggester is None or stale:
                listings = [item for kind in KINDS for item in self.indexes[kind].listings()]
                self._suggester = FieldSuggester.from_listings(listings)
                self._suggester_seq = self.seq
                self._suggester_built_at = time.monotonic()
            return self._suggester

    # ----- building and loading ------------------------------------------------------------------
    def rebuild(self) -> dict[ListingKind, int]:
        """Build both indexes from the database and save them; returns the number of listings of each kind."""
        with self.lock, self.open_session() as session:
            self._build(session)
            self.save()
            return {kind: len(self.indexes[kind]) for kind in KINDS}

    def _open(self, session: Session) -> None:
        """Load the saved snapshot if it fits this database, else build from the database and save."""
        if self._load(session):
            self._apply_changes(session)
            if self._counts_agree(session):
                self.origin = "disk"
                return
            log.warning("match index snapshot in %s disagrees with the database; rebuilding", self.path)
        self._build(session)
        self._save_or_warn()

    def _build(self, session: Session) -> None:
        started = time.perf_counter()
        self._database = _database_key(session)
        latest = session.scalar(select(func.max(MatchIndexChange.seq))) or 0
        fields = _field_rows(session)
        tree = self._use_fields(fields)
        indexes = {}
        for kind in KINDS:
            model = listing_model(kind)
            index = MatchIndex(tree)
            query = (select(model).where(model.status == ListingStatus.PUBLISHED)
                     .options(selectinload(model.mode_rows)).order_by(model.id)
                     .execution_options(yield_per=LOAD_CHUNK))
            index.add_many(engine_listing(listing, self._field_codes.get(listing.field_id))
                           for listing in session.scalars(query))
            indexes[kind] = index
        self.indexes = indexes
        self.seq = max(latest - BUILD_REPLAY, 0)
        self.gaps = {}
        self.unsaved_changes = 0
        self.origin = "database"
        self._suggester = None
        self._apply_changes(session)
        log.info("match index built from the database: %s achievements, %s demands in %.2fs",
                 len(indexes[ListingKind.ACHIEVEMENT]), len(indexes[ListingKind.DEMAND]),
                 time.perf_counter() - started)

    def _load(self, session: Session) -> bool:
        pointer = self._read_pointer()
        if pointer is None:
            return False
        self._database = _database_key(session)
        if pointer.get("database") != self._database:
            log.warning("match index snapshot in %s was made from another database; rebuilding", self.path)
            return False
        latest = session.scalar(select(func.max(MatchIndexChange.seq))) or 0
        if pointer["seq"] > latest:
            log.warning("match index snapshot covers change %s but the database has only %s; rebuilding",
                        pointer["seq"], latest)
            return False
        fields = _field_rows(session)
        tree = self._use_fields(fields)
        folder = self.path / pointer["snapshot"]
        try:
            indexes = {kind: MatchIndex.load(folder / f"{kind}.npz", tree) for kind in KINDS}
        except (OSError, ValueError, KeyError) as error:
            log.warning("match index snapshot %s unreadable (%s); rebuilding", folder, error)
            return False
        self.indexes = indexes
        self.seq = pointer["seq"]
        self.gaps = {}
        self.unsaved_changes = 0
        self._suggester = None
        return True

    def _counts_agree(self, session: Session) -> bool:
        for kind in KINDS:
            model = listing_model(kind)
            published = session.scalar(select(func.count()).select_from(model)
                                        .where(model.status == ListingStatus.PUBLISHED)) or 0
            if published != len(self.indexes[kind]):
                return False
        return True

    # ----- the change log --------------------------------------------------------------------------
    def _apply_changes(self, session: Session) -> int:
        """Apply changes after the last one seen (and any still missing below it); the database row decides."""
        condition = MatchIndexChange.seq > self.seq
        if self.gaps:
            condition = or_(condition, MatchIndexChange.seq.in_(list(self.gaps)))
        rows = session.execute(select(MatchIndexChange.seq, MatchIndexChange.kind, MatchIndexChange.listing_id)
                               .where(condition).order_by(MatchIndexChange.seq)).all()
        self._track_gaps([row.seq for row in rows])
        if not rows:
            return 0
        dirty: dict[ListingKind, list[int]] = {kind: [] for kind in KINDS}
        for row in rows:
            dirty[ListingKind(row.kind)].append(row.listing_id)
        changed = 0
        for kind, ids in dirty.items():
            ids = sorted(set(ids))
            found = _listings_by_id(session, kind, ids)
            index = self.indexes[kind]
            for listing_id in ids:
                listing = found.get(listing_id)
                if listing is not None and listing.status == ListingStatus.PUBLISHED:
                    index.update(engine_listing(listing, self._field_codes.get(listing.field_id)))
                else:
                    index.remove(str(listing_id))
                changed += 1
        self.unsaved_changes += changed
        return changed

    def _track_gaps(self, seen: list[int]) -> None:
        """Remember numbers skipped below the newest change seen (a transaction still open, or rolled back)."""
        now = time.monotonic()
        for seq in seen:
            self.gaps.pop(seq, None)
        newest = max(seen, default=self.seq)
        if newest > self.seq:
            if newest - self.seq - len(seen) <= MAX_TRACKED_GAPS:
                seen_set = set(seen)
                for seq in range(self.seq + 1, newest):
                    if seq not in seen_set:
                        self.gaps[seq] = now
            else:
                log.warning("change log jumped from %s to %s; numbers in between are not awaited", self.seq, newest)
            self.seq = newest
        for seq, since in list(self.gaps.items()):
            if now - since > self.gap_patience_seconds:
                del self.gaps[seq]

    @property
    def covered_seq(self) -> int:
        """The newest change number such that every change up to it is in the indexes."""
        return min(self.gaps) - 1 if self.gaps else self.seq

    # ----- the field tree ----------------------------------------------------------------------------
    def _use_fields(self, fields: list[Field]) -> FieldTree:
        self._field_codes = {field.id: field.code for field in fields}
        self._field_signature = _field_signature(fields)
        self._field_checked_at = time.monotonic()
        return field_tree_of(fields)

    def _refresh_field_tree(self, session: Session) -> None:
        """Pick up renamed or added fields (checked at most once a minute)."""
        if time.monotonic() - self._field_checked_at < self.field_refresh_seconds:
            return
        fields = _field_rows(session)
        if _field_signature(fields) == self._field_signature:
            self._field_checked_at = time.monotonic()
            return
        tree = self._use_fields(fields)
        add_words(tree.vocabulary())
        for index in self.indexes.values():
            index.field_tree = tree

    @property
    def field_tree(self) -> FieldTree:
        """The field tree the indexes use."""
        return self.indexes[ListingKind.ACHIEVEMENT].field_tree

    # ----- persistence -----------------------------------------------------------------------------
    def _read_pointer(self) -> dict | None:
        try:
            pointer = json.loads((self.path / POINTER_NAME).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            log.warning("match index pointer unreadable: %s", error)
            return None
        if (not isinstance(pointer, dict) or pointer.get("format") != SNAPSHOT_FORMAT
                or not isinstance(pointer.get("seq"), int) or not isinstance(pointer.get("snapshot"), str)
                or "/" in pointer["snapshot"] or pointer["snapshot"].startswith(".")):
            return None
        return pointer

    def save(self) -> Path:
        """Write both indexes as a new snapshot and point current.json at it; returns the snapshot folder."""
        with self.lock:
            covered = self.covered_seq
            self.path.mkdir(parents=True, exist_ok=True)
            name = f"snapshot-{covered:012d}-{secrets.token_hex(4)}"
            staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.path))
            try:
                for kind in KINDS:
                    self.indexes[kind].save(staging / f"{kind}.npz")
                os.replace(staging, self.path / name)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            current = self._read_pointer()
            if current is None or current["seq"] <= covered:
                self._write_pointer({"format": SNAPSHOT_FORMAT, "seq": covered, "snapshot": name,
                                     "database": self._database})
            self.unsaved_changes = 0
            self._prune(keep={name, (current or {}).get("snapshot")})
            return self.path / name

    def _save_or_warn(self) -> None:
        """Save, but keep serving from memory when the folder is not writable (the next save tries again)."""
        try:
            self.save()
        except OSError as error:
            log.warning("match index not saved to %s: %s", self.path, error)

    def _write_pointer(self, pointer: dict) -> None:
        handle, temporary = tempfile.mkstemp(prefix=".pointer-", dir=self.path)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(pointer, out)
        os.replace(temporary, self.path / POINTER_NAME)

    def _prune(self, keep: set) -> None:
        """Delete older snapshots, keeping the newest few (another process may still be reading one)."""
        pointer = self._read_pointer()
        keep = set(keep) | ({pointer["snapshot"]} if pointer else set())
        snapshots = sorted((p for p in self.path.glob("snapshot-*") if p.is_dir()), key=lambda p: p.name)
        for old in snapshots[:-SNAPSHOTS_KEPT]:
            if old.name not in keep:
                shutil.rmtree(old, ignore_errors=True)
        for staging in self.path.glob(".staging-*"):
            try:
                if time.time() - staging.stat().st_mtime > STAGING_MAX_AGE_SECONDS:
                    shutil.rmtree(staging, ignore_errors=True)
            except OSError:
                pass


def store_for(app) -> MatchIndexStore:
    """The app's store (one per process), created on first use from MATCH_INDEX_PATH and MATCH_INDEX_SAVE_EVERY."""
    with _stores_lock:
        store = app.extensions.get("market.matching")
        if store is None:
            from market.extensions import db

            engine = db.engine
            store = MatchIndexStore(app.config["MATCH_INDEX_PATH"], lambda: Session(engine),
                                    save_every=int(app.config.get("MATCH_INDEX_SAVE_EVERY", 50)))
            app.extensions["market.matching"] = store
        return store


def record_change(session: Session, kind: ListingKind, listing_id: int, action: IndexAction) -> None:
    """Append one change to the log in the caller's transaction."""
    session.add(MatchIndexChange(kind=ListingKind(kind), listing_id=listing_id, action=IndexAction(action)))
