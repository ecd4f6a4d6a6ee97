"""Search relevance over the demo data: the query set, recall@5, MRR and zero-result queries of a search function.

A search function takes (session, kind, query text) and returns the titles of the listings it finds, best first.
`current_search` wraps today's `search_listings`; a new search is plugged in by passing another such function.
"""
from __future__ import annotations

import time
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from market.accounts.models import Organisation
from market.listings.models import listing_model
from market.listings.queries import SearchParams, search_listings
from market.listings.vocabulary import ListingKind
from market.seeding import SEED_DIR
from market.timeutil import utcnow

QUERIES_PATH = Path(__file__).with_name("queries.toml")
TOP = 5
"""Recall is measured in the first TOP results (what a visitor sees without scrolling)."""
DEPTH = 20
"""How many results a search function is asked for; the reciprocal rank of a listing found deeper counts as 0."""
AS_OF = datetime(2026, 11, 20)
"""The day the set describes: two days after the demo's last publication, every expected listing within its year."""
TAGS = {"typo", "english", "organisation", "long"}
SEED_PUBLICATION_TIME = clock_time(9, 0)
"""The time of day `market.seeding` gives a seed listing's `published_on`."""

SearchFunction = Callable[[Session, ListingKind, str], list[str]]


@dataclass(frozen=True)
class Query:
    """One line of the set: what is typed on which browse page, and which listings must be in the top 5."""

    id: str
    q: str
    kind: ListingKind
    expect: tuple[str, ...] = ()
    expect_organisation: str = ""
    tags: frozenset[str] = frozenset()
    note: str = ""


def load_queries(path: Path = QUERIES_PATH) -> list[Query]:
    """The query set, shape-checked (an unknown key, kind or tag raises ValueError)."""
    with path.open("rb") as handle:
        rows = tomllib.load(handle).get("query", [])
    queries = []
    for row in rows:
        unknown = set(row) - {"id", "q", "kind", "expect", "expect_organisation", "tags", "note"}
        if unknown or not set(row.get("tags", [])) <= TAGS:
            raise ValueError(f"query {row.get('id')}: unknown keys {sorted(unknown)} or tags {row.get('tags')}")
        queries.append(Query(id=row["id"], q=row["q"], kind=ListingKind(row["kind"]), expect=tuple(row.get("expect", [])),
                             expect_organisation=row.get("expect_organisation", ""),
                             tags=frozenset(row.get("tags", [])), note=row.get("note", "")))
    return queries


def current_search(session: Session, kind: ListingKind, text: str) -> list[str]:
    """Today's search as the browse page runs it for a query: `search_listings` sorted by relevance."""
    result = search_listings(session, kind, SearchParams(q=text, sort="relevance", per_page=DEPTH), with_facets=False)
    return [listing.title for listing in result.items]


@dataclass(frozen=True)
class Outcome:
    """How one query fared."""

    query: Query
    titles: tuple[str, ...]
    wanted: frozenset[str]
    recall: float
    reciprocal_rank: float
    seconds: float

    @property
    def missed(self) -> list[str]:
        """Expected titles absent from the top 5 (for an organisation query: none are named)."""
        return [title for title in self.query.expect if title not in self.titles[:TOP]]


@dataclass
class Report:
    """The figures of one search function over the whole set."""

    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def recall_at_5(self) -> float:
        """Fraction of the required listings found in the top 5, averaged over the queries."""
        return sum(outcome.recall for outcome in self.outcomes) / len(self.outcomes)

    @property
    def mrr(self) -> float:
        """Mean reciprocal rank of the first required listing."""
        return sum(outcome.reciprocal_rank for outcome in self.outcomes) / len(self.outcomes)

    @property
    def zero_result_queries(self) -> list[Outcome]:
        """The queries for which the search found nothing at all."""
        return [outcome for outcome in self.outcomes if not outcome.titles]

    @property
    def mean_latency_ms(self) -> float:
        """Mean time of one search call in milliseconds."""
        return 1000 * sum(outcome.seconds for outcome in self.outcomes) / len(self.outcomes)

    def worst(self, count: int = 10) -> list[Outcome]:
        """The queries that did worst: lowest recall, then lowest reciprocal rank, in set order otherwise."""
        return sorted(self.outcomes, key=lambda outcome: (outcome.recall, outcome.reciprocal_rank))[:count]

    def by_tag(self, tag: str) -> Report:
        """The part of the report about the queries carrying `tag`."""
        return Report([outcome for outcome in self.outcomes if tag in outcome.query.tags])


def organisation_titles(session: Session, kind: ListingKind, name: str) -> frozenset[str]:
    """Titles of the organisation's listings of the kind that a visitor can see (its browse filter)."""
    organisation_id = session.scalar(select(Organisation.id).where(Organisation.name == name))
    if organisation_id is None:
        return frozenset()
    result = search_listings(session, kind, SearchParams(organisation_id=organisation_id, per_page=100),
                             with_facets=False)
    return frozenset(listing.title for listing in result.items)


def score(query: Query, titles: list[str], wanted: frozenset[str]) -> tuple[float, float]:
    """Recall in the top 5 and reciprocal rank of the first wanted title among `titles`.

    For an organisation query every listing of it is wanted and the top 5 should be as full of them as it can be."""
    if not wanted:
        return 0.0, 0.0
    found = len(wanted.intersection(titles[:TOP]))
    recall = found / (min(TOP, len(wanted)) if query.expect_organisation else len(wanted))
    rank = next((position for position, title in enumerate(titles[:DEPTH], start=1) if title in wanted), None)
    return recall, (1 / rank if rank else 0.0)


def evaluate(session: Session, search: SearchFunction, queries: Iterable[Query]) -> Report:
    """Run every query through `search` and score it."""
    report = Report()
    for query in queries:
        wanted = organisation_titles(session, query.kind, query.expect_organisation) if query.expect_organisation \
            else frozenset(query.expect)
        began = time.perf_counter()
        titles = list(search(session, query.kind, query.q))
        seconds = time.perf_counter() - began
        recall, reciprocal_rank = score(query, titles, wanted)
        report.outcomes.append(Outcome(query, tuple(titles), wanted, recall, reciprocal_rank, seconds))
    return report


def _seed_publication_days(seed_dir: Path = SEED_DIR) -> list[date]:
    import yaml

    days = []
    for path in [*sorted((seed_dir / "achievements").glob("*.yaml")), seed_dir / "demands.yaml"]:
        with path.open(encoding="utf-8") as handle:
            days += [row["published_on"] for row in yaml.safe_load(handle) or [] if row.get("published_on")]
    return days


def show_demo_as_of(session: Session, as_of: datetime = AS_OF) -> timedelta:
    """Shift every demo listing's dates so that, seen from now, the demo stands as it did at `as_of`.

    Listings expire a year after publication, so without this the demo thins out as the calendar moves on. Running
    it again (on a database already shifted) only corrects for the time passed. Returns the shift applied."""
    models = [listing_model(kind) for kind in ListingKind]
    latest_seeded = datetime.combine(max(_seed_publication_days()), SEED_PUBLICATION_TIME)
    latest_stored = max(filter(None, (session.scalar(select(func.max(model.published_at)).where(model.is_demo))
                                      for model in models)))
    shift = (utcnow() - as_of) - (latest_stored - latest_seeded)
    columns = ("published_at", "expires_at", "created_at", "updated_at", "submitted_at")
    for model in models:
        table = model.__table__
        rows = session.execute(select(table.c.id, *(table.c[name] for name in columns)).where(table.c.is_demo))
        changes = [{"row_id": row.id} | {name: row._mapping[name] and row._mapping[name] + shift for name in columns}
                   for row in rows]
        if changes:  # a plain table update: dates only, nothing the audit log follows
            session.connection().execute(update(table).where(table.c.id == bindparam("row_id")), changes)
    return shift


def format_outcome(outcome: Outcome) -> str:
    """One line about a query: its figures, what it typed and what it missed or got instead."""
    query = outcome.query
    wanted = f"any of {query.expect_organisation}" if query.expect_organisation else "; ".join(outcome.missed)
    got = "; ".join(outcome.titles[:3]) or "nothing"
    return (f"{query.id:<34} recall {outcome.recall:.2f}  rr {outcome.reciprocal_rank:.2f}  [{query.kind}] "
            f"{query.q!r}\n{'':<36}missing: {wanted or '-'}\n{'':<36}top 3: {got}")


def visible_titles(session: Session, kind: ListingKind) -> set[str]:
    """Titles of every listing of the kind on offer to a visitor (the unfiltered browse page, all its pages)."""
    titles: set[str] = set()
    page = 1
    while True:
        result = search_listings(session, kind, SearchParams(page=page, per_page=100), with_facets=False)
        titles.update(listing.title for listing in result.items)
        if page >= result.pages:
            return titles
        page += 1
