"""Browse and search published listings: relevance ranking over the term table, exact filters, facets, sort, pages."""
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from dataclasses import field as dc_field
from datetime import datetime

from flask import current_app
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from market.extensions import db
from market.inputs import MAX_PAGE
from market.listings import ranking, search, spelling
from market.listings.models import REGION_MAX_LENGTH, SearchTerm, listing_model
from market.listings.ranking import Ranked, Vocabulary
from market.listings.vocabulary import ListingKind, ListingStatus, Stage, TransferMode
from market.page_cache import CacheUnavailable, content_version, remember
from market.taxonomy.models import FIELD_CODE_MAX_LENGTH, VALLEY_ID_MAX_LENGTH, Field
from market.timeutil import utcnow

MAX_PER_PAGE = 100
SEARCH_TEXT_MAX_LENGTH = 100
SORTS = ("relevance", "newest", "price_asc", "price_desc")


@dataclass(frozen=True)
class SearchParams:
    """What a visitor asked for; every value already shape-checked."""

    q: str = ""
    field: str = ""
    valley: str = ""
    stage: str = ""
    mode: str = ""
    region: str = ""
    organisation_id: int | None = None
    sold: bool = False
    """Browse the sold listings (已成交, the success cases) instead of the ones on offer."""
    min_fen: int | None = None
    max_fen: int | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20
    listing_ids: tuple[int, ...] | None = None
    """Only these listings (a saved search run against a newly published listing)."""


@dataclass
class SearchResult:
    """One page of listings with the total and the facet counts."""

    items: list
    total: int
    page: int
    per_page: int
    terms: list[str]
    facets: dict[str, dict[str, int]] = dc_field(default_factory=dict)
    suggestion: str | None = None
    """The corrected query ("did you mean") whose results these are, when the query as typed looked misspelt."""

    @property
    def pages(self) -> int:
        """Number of pages."""
        return max(1, -(-self.total // self.per_page))


def visible_to_public(model, now: datetime | None = None):
    """What visitors see on offer, as SQL (the rule of `is_public`): every public count and list uses it."""
    moment = now or utcnow()
    return and_(model.status == ListingStatus.PUBLISHED, or_(model.expires_at.is_(None), model.expires_at > moment))


def _sold(model):
    return model.status == ListingStatus.DEALT


def count_listings(session: Session, kind: ListingKind, *, sold: bool = False) -> int:
    """How many listings of the kind the browse page shows unfiltered: on offer, or sold (the success cases)."""
    model = listing_model(kind)
    return session.scalar(select(func.count()).select_from(model).where(_sold(model) if sold else visible_to_public(model))) or 0


def _visible(model, params: SearchParams):
    return _sold(model) if params.sold else visible_to_public(model)


def _conditions(kind: ListingKind, params: SearchParams, skip: str = "") -> list:
    model = listing_model(kind)
    conditions = [_visible(model, params)]
    if params.field and skip != "field":
        codes = select(Field.id).where(or_(Field.code == params.field, Field.code.like(params.field + ".%")))
        conditions.append(model.field_id.in_(codes))
    if params.valley and skip != "valley":
        conditions.append(model.valley_id == params.valley)
    if params.stage and kind == ListingKind.ACHIEVEMENT and skip != "stage":
        conditions.append(model.stage == params.stage)
    if params.mode and skip != "mode":
        mode_model, owner_column = model.mode_table()
        conditions.append(model.id.in_(select(owner_column).where(mode_model.mode == params.mode)))
    if params.region and skip != "region":
        conditions.append(model.region == params.region)
    if params.organisation_id is not None:
        conditions.append(model.organisation_id == params.organisation_id)
    if params.listing_ids is not None:
        conditions.append(model.id.in_(params.listing_ids))
    low_column, high_column = model.money_columns()
    if params.min_fen is not None:
        conditions.append(func.coalesce(high_column, low_column) >= params.min_fen)
    if params.max_fen is not None:
        conditions.append(low_column <= params.max_fen)
    return conditions


VOCABULARY_REFRESH_SECONDS = 60
"""A process reads the search vocabulary again at most this often after public content changed (in the background
where configured, meanwhile ranking with the one it has: a listing indexed since is still found by its words)."""
_vocabularies: dict[tuple, tuple[str, float, Vocabulary]] = {}
_refreshing: set[tuple] = set()
_refresh_lock = threading.Lock()


def _read_vocabulary(session: Session, kind: ListingKind) -> Vocabulary:
    """Document frequencies, number and mean length of the listings of the kind in the search table (whatever their
    status: these only weigh terms, and what a search finds is always filtered by what visitors may see)."""
    model = listing_model(kind)
    frequencies = dict(session.execute(select(SearchTerm.term, func.count()).where(SearchTerm.listing_kind == kind)
                                       .group_by(SearchTerm.term)).all())
    count, mean = session.execute(select(func.count(), func.avg(model.search_length))).one()
    return Vocabulary(frequencies, listing_count=count, mean_length=float(mean or 0.0))


def _refresh_in_background(app, key: tuple, kind: ListingKind, version: str) -> None:
    def refresh() -> None:
        try:
            with app.app_context():
                try:
                    _vocabularies[key] = (version, time.monotonic(), _read_vocabulary(db.session, kind))
                finally:
                    db.session.remove()
        finally:
            with _refresh_lock:
                _refreshing.discard(key)

    with _refresh_lock:
        if key in _refreshing:
            return
        _refreshing.add(key)
    threading.Thread(target=refresh, name="search-vocabulary", daemon=True).start()


def load_vocabulary(session: Session, kind: ListingKind) -> Vocabulary:
    """The search vocabulary of the kind, kept in the process and read again (at most every
    VOCABULARY_REFRESH_SECONDS) once public content has changed."""
    key = (str(session.get_bind().url), str(kind))
    try:
        version = content_version()
    except CacheUnavailable:
        version = ""  # read again by age alone
    cached = _vocabularies.get(key)
    wait = current_app.config.get("SEARCH_VOCABULARY_REFRESH_SECONDS", VOCABULARY_REFRESH_SECONDS)
    if cached is not None and (cached[0] == version or time.monotonic() - cached[1] < wait):
        return cached[2]
    if cached is not None and current_app.config.get("SEARCH_VOCABULARY_IN_BACKGROUND"):
        _refresh_in_background(current_app._get_current_object(), key, kind, version)
        return cached[2]
    vocabulary = _read_vocabulary(session, kind)
    _vocabularies[key] = (version, time.monotonic(), vocabulary)
    return vocabulary


def _rank(session: Session, kind: ListingKind, params: SearchParams, words: list[str],
          vocabulary: Vocabulary) -> tuple[dict[int, Ranked], list[str]]:
    """The listings a visitor can see that match the query words, ranked; and the index terms looked up."""
    terms = ranking.expand(words, vocabulary)
    if not terms:
        return {}, []
    model = listing_model(kind)
    postings: dict[str, list[tuple[int, int]]] = {}
    lengths: dict[int, float] = {}
    rows = session.execute(select(SearchTerm.term, SearchTerm.listing_id, SearchTerm.weight, model.search_length)
                           .join(model, model.id == SearchTerm.listing_id)
                           .where(SearchTerm.listing_kind == kind, SearchTerm.term.in_([t.term for t in terms]),
                                  _visible(model, params)))
    for term, listing_id, weight, length in rows:
        postings.setdefault(term, []).append((listing_id, weight))
        lengths[listing_id] = float(length)
    return ranking.rank(terms, postings, vocabulary, len(words), lengths), [term.term for term in terms]


def _best_coverage(ranked: dict[int, Ranked]) -> float:
    return max((entry.coverage for entry in ranked.values()), default=0.0)


def matching_scores(session: Session, kind: ListingKind, params: SearchParams) -> tuple[dict[int, float], list[str], str | None]:
    """Listings matching the query, by relevance; the terms looked up; the corrected query when it was searched
    instead (a likely typo, corrected against the index vocabulary, that finds what the query as typed does not)."""
    vocabulary = load_vocabulary(session, kind)
    words = search.query_words(params.q)
    ranked, terms = _rank(session, kind, params, words, vocabulary)
    suggestion = None
    corrected = spelling.correct(params.q, vocabulary)
    if corrected:
        corrected_words = search.query_words(corrected)
        corrected_ranked, corrected_terms = _rank(session, kind, params, corrected_words, vocabulary)
        better, before = _best_coverage(corrected_ranked), _best_coverage(ranked)
        if better > before or (better == before > 0 and len(corrected_words) < len(words)):
            ranked, terms, suggestion = corrected_ranked, corrected_terms, corrected
    return {listing_id: entry.score for listing_id, entry in ranked.items()}, terms, suggestion


@dataclass(frozen=True)
class _Found:
    """What a search finds before paging (cached for every viewer): the ordered ids of a text search, the total, the
    terms looked up, the corrected query and the facet counts."""

    ids: list[int] | None
    total: int
    terms: list[str]
    suggestion: str | None
    facets: dict[str, dict[str, int]]


def _find(session: Session, kind: ListingKind, params: SearchParams, with_facets: bool) -> _Found:
    model = listing_model(kind)
    searched = bool(search.query_words(params.q)) if params.q.strip() else False  # stop words alone list everything
    scores, terms, suggestion = matching_scores(session, kind, params) if searched else (None, [], None)

    def base(skip: str = ""):
        query = select(model).where(*_conditions(kind, params, skip))
        if scores is not None:
            query = query.where(model.id.in_(list(scores)))
        return query

    if scores is not None and not scores:
        facets = {"field": {}, "valley": {}, "stage": {}, "mode": {}, "region": {}} if with_facets else {}
        return _Found([], 0, terms, suggestion, facets)
    facets = _facets(session, kind, base, model) if with_facets else {}
    if scores is None:
        total = session.scalar(select(func.count()).select_from(base().with_only_columns(model.id).subquery())) or 0
        return _Found(None, total, terms, suggestion, facets)
    if _sort(params) == "relevance":
        rows = session.execute(base().with_only_columns(model.id, model.published_at))
        ids = [row.id for row in sorted(rows, key=lambda row: (
            -scores[row.id], -(row.published_at.timestamp() if row.published_at else 0), -row.id))]
    else:
        ids = list(session.scalars(base().with_only_columns(model.id).order_by(*_order(model, params))))
    return _Found(ids, len(ids), terms, suggestion, facets)


def _sort(params: SearchParams) -> str:
    return params.sort if params.sort in SORTS else "relevance"


def _order(model, params: SearchParams) -> list:
    low_column, high_column = model.money_columns()
    if _sort(params) == "price_asc":
        return [low_column.is_(None), low_column.asc(), model.id.desc()]
    if _sort(params) == "price_desc":
        return [low_column.is_(None), func.coalesce(high_column, low_column).desc(), model.id.desc()]
    return [model.published_at.desc(), model.id.desc()]


def search_listings(session: Session, kind: ListingKind, params: SearchParams, *, with_facets: bool = True) -> SearchResult:
    """A page of public listings matching the query and filters, ranked by relevance, with facet counts (what a
    search finds is kept for every viewer until public content changes; the page's listings are loaded afresh)."""
    per_page = min(max(params.per_page, 1), MAX_PER_PAGE)
    page = max(params.page, 1)
    unpaged = replace(params, page=1, per_page=0)
    found = remember("search", (str(kind), unpaged, with_facets), lambda: _find(session, kind, unpaged, with_facets))
    return SearchResult(items=PageItems(lambda: _page_items(session, kind, params, found, page, per_page)),
                        total=found.total, page=page, per_page=per_page, terms=found.terms,
                        suggestion=found.suggestion, facets=found.facets)


def _page_items(session: Session, kind: ListingKind, params: SearchParams, found: _Found, page: int, per_page: int) -> list:
    model = listing_model(kind)
    eager = [selectinload(model.mode_rows), joinedload(model.organisation), joinedload(model.valley),
             joinedload(model.field)]
    if found.ids is None:
        query = select(model).where(*_conditions(kind, params)).options(*eager).order_by(*_order(model, params))
        return list(session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    page_ids = found.ids[(page - 1) * per_page: page * per_page]
    loaded = {item.id: item for item in session.scalars(select(model).where(model.id.in_(page_ids)).options(*eager))}
    return [loaded[listing_id] for listing_id in page_ids if listing_id in loaded]


class PageItems(Sequence):
    """The listings of one result page, loaded from the database when first used (a cached page fragment never
    needs them)."""

    def __init__(self, load: Callable[[], list]) -> None:
        self._load, self._items = load, None

    def _loaded(self) -> list:
        if self._items is None:
            self._items = self._load()
        return self._items

    def __getitem__(self, index):
        return self._loaded()[index]

    def __len__(self) -> int:
        return len(self._loaded())

    def __eq__(self, other) -> bool:
        return list(self) == list(other) if isinstance(other, Sequence) else NotImplemented

    __hash__ = None


def _facets(session: Session, kind: ListingKind, base, model) -> dict[str, dict[str, int]]:
    facets: dict[str, dict[str, int]] = {}
    ids = base("field").with_only_columns(model.field_id).subquery()
    rows = session.execute(select(Field.code, func.count()).join(ids, ids.c.field_id == Field.id).group_by(Field.code))
    top: dict[str, int] = {}
    by_code: dict[str, int] = {}
    for code, count in rows:
        top[code.split(".")[0]] = top.get(code.split(".")[0], 0) + count
        by_code[code] = count
    facets["field"] = top
    facets["field_code"] = by_code
    ids = base("valley").with_only_columns(model.valley_id).subquery()
    facets["valley"] = {valley: count for valley, count in session.execute(
        select(ids.c.valley_id, func.count()).group_by(ids.c.valley_id)) if valley}
    if kind == ListingKind.ACHIEVEMENT:
        ids = base("stage").with_only_columns(model.stage).subquery()
        facets["stage"] = {stage: count for stage, count in session.execute(
            select(ids.c.stage, func.count()).group_by(ids.c.stage))}
    mode_model, owner_column = model.mode_table()
    ids = base("mode").with_only_columns(model.id).subquery()
    facets["mode"] = {mode: count for mode, count in session.execute(
        select(mode_model.mode, func.count()).join(ids, ids.c.id == owner_column).group_by(mode_model.mode))}
    ids = base("region").with_only_columns(model.region).subquery()
    facets["region"] = {region: count for region, count in session.execute(
        select(ids.c.region, func.count()).group_by(ids.c.region)) if region}
    return facets


def list_organisation_listings(session: Session, kind: ListingKind, organisation_id: int, *, public_only: bool):
    """An organisation's listings: the public ones for its page, all of them for its members."""
    model = listing_model(kind)
    query = select(model).where(model.organisation_id == organisation_id)
    if public_only:
        query = query.where(visible_to_public(model))
    return list(session.scalars(query.order_by(model.updated_at.desc(), model.id.desc())))


VALID_STAGES = {stage.value for stage in Stage}
VALID_MODES = {mode.value for mode in TransferMode}


def parse_search_args(args) -> tuple[SearchParams, dict[str, str]]:
    """SearchParams from query-string arguments, and a message per argument that was not understood."""
    from flask_babel import gettext as _

    from market.money import NOT_FEN, MoneyFormatError, MoneyUnit, parse_amount, require_fen
    from market.money_input import money_error_text

    errors: dict[str, str] = {}

    def text(name: str, limit: int = 100) -> str:
        value = (args.get(name) or "").strip()
        if len(value) > limit or any(0xD800 <= ord(ch) <= 0xDFFF or ord(ch) < 32 for ch in value):
            errors[name] = _("参数无效。")
            return ""
        return value

    def number(name: str, default: int, low: int, high: int) -> int:
        raw = (args.get(name) or "").strip()
        if not raw:
            return default
        if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
            errors[name] = _("应在 %(low)s 到 %(high)s 之间。", low=low, high=high)
            return default
        return int(raw)

    def money(bound: str) -> int | None:
        """The bound in fen: `<bound>_fen` (the API) first, else `<bound>_wan` or `<bound>_yuan` as typed."""
        for name, unit in [(f"{bound}_fen", None), *((f"{bound}_{unit}", unit) for unit in MoneyUnit)]:
            raw = (args.get(name) or "").strip()
            if not raw:
                continue
            try:
                if unit is not None:
                    return parse_amount(raw, unit)
                if not raw.isascii() or not raw.isdigit():
                    raise MoneyFormatError(NOT_FEN)
                return require_fen(int(raw))
            except MoneyFormatError as error:
                errors[name] = money_error_text(error)
                return None
        return None

    stage = text("stage", 20)
    if stage and stage not in VALID_STAGES:
        errors["stage"], stage = _("无效的选项。"), ""
    mode = text("mode", 30)
    if mode and mode not in VALID_MODES:
        errors["mode"], mode = _("无效的选项。"), ""
    sold = text("sold", 1)
    if sold not in ("", "1"):
        errors["sold"], sold = _("无效的选项。"), ""
    sort = text("sort", 20) or "relevance"
    if sort not in SORTS:
        errors["sort"], sort = _("无效的选项。"), "relevance"
    params = SearchParams(
        q=text("q", SEARCH_TEXT_MAX_LENGTH), field=text("field", FIELD_CODE_MAX_LENGTH),
        valley=text("valley", VALLEY_ID_MAX_LENGTH), stage=stage, mode=mode,
        region=text("region", REGION_MAX_LENGTH), sold=sold == "1", min_fen=money("min"),
        max_fen=money("max"),
        sort=sort, page=number("page", 1, 1, MAX_PAGE), per_page=number("per_page", 20, 1, MAX_PER_PAGE),
    )
    return params, errors
