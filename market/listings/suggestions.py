"""What a search page offers beside its results: the field facet's drill-down into sub-fields, and the ways out of a
search that found nothing (the corrected query, fewer words, related fields, the other kind, no filters)."""
from dataclasses import dataclass, replace
from dataclasses import field as dc_field

from sqlalchemy.orm import Session

from market.listings import search
from market.listings.queries import SearchParams, SearchResult, search_listings
from market.listings.vocabulary import ListingKind
from market.taxonomy.models import Field
from market.text import normalise

MAX_FEWER_WORDS = 6
"""At most this many "without this word" searches are tried for a search that found nothing."""
MAX_RELATED_FIELDS = 5
"""At most this many fields whose names meet the query are offered."""
FILTER_NAMES = ("field", "valley", "stage", "mode", "region", "min_fen", "max_fen")


@dataclass(frozen=True)
class FacetNode:
    """A field in the facet with its exact count, whether it is chosen, and the sub-fields shown under it."""

    field: Field
    count: int
    active: bool
    children: list["FacetNode"] = dc_field(default_factory=list)


def count_in_field(counts_by_code: dict[str, int], code: str) -> int:
    """Listings counted in a field and every field below it."""
    return sum(count for each, count in counts_by_code.items() if each == code or each.startswith(code + "."))


def field_facet(fields: list[Field], counts_by_code: dict[str, int], chosen: str) -> list[FacetNode]:
    """The top fields with listings (or chosen), and below each field on the chosen path its sub-fields with
    listings: a field's count covers its sub-fields, so every number is that of the list the link opens."""
    children: dict[int | None, list[Field]] = {}
    for each in fields:
        children.setdefault(each.parent_id, []).append(each)

    def level(parent_id: int | None) -> list[FacetNode]:
        nodes = []
        for each in sorted(children.get(parent_id, []), key=lambda f: (f.position, f.code)):
            on_path = chosen == each.code or chosen.startswith(each.code + ".")
            count = count_in_field(counts_by_code, each.code)
            if count or on_path:
                nodes.append(FacetNode(each, count, on_path, level(each.id) if on_path else []))
        return nodes

    return level(None)


@dataclass
class ZeroResultHelp:
    """Searches that may find something when one found nothing, each with how many listings it finds."""

    suggestion: str | None = None
    fewer_words: list[tuple[str, str, int]] = dc_field(default_factory=list)
    """(the word left out, the query without it, count)."""
    related_fields: list[tuple[Field, int]] = dc_field(default_factory=list)
    other_kind: ListingKind | None = None
    other_kind_count: int = 0
    without_filters: int = 0
    """How many listings the query finds without the filters (0 when no filter was set)."""
    on_offer: int = 0
    """How many listings on offer the query finds, when the success cases (sold) found nothing."""

    @property
    def anything(self) -> bool:
        """Whether there is any suggestion to show."""
        return bool(self.suggestion or self.fewer_words or self.related_fields or self.other_kind_count
                    or self.without_filters or self.on_offer)


def droppable_words(query: str) -> list[str]:
    """The words a visitor can leave out: those typed apart by spaces, else the search terms of the query."""
    typed = [word for word in query.split() if word]
    return typed if len(typed) > 1 else search.query_words(query)


def related_fields(fields: list[Field], query: str) -> list[Field]:
    """Fields whose name (Chinese or English) or keywords hold a query term, or that a query term holds."""
    terms = [term for term in search.query_words(query) if len(term) > 1]
    found = []
    for each in fields:
        names = [normalise(name) for name in (each.name, each.name_en) if name]
        keywords = [normalise(keyword) for keyword in each.keywords or []]
        if any(term in name or (len(name) > 1 and name in term) for term in terms for name in names) or \
                any(term == keyword for term in terms for keyword in keywords):
            found.append(each)
    return sorted(found, key=lambda f: (-f.code.count("."), f.position, f.code))


def zero_result_help(session: Session, kind: ListingKind, params: SearchParams, result: SearchResult,
                     fields: list[Field]) -> ZeroResultHelp:
    """Ways out of a search that found nothing, each counted the way its link will count."""
    help_ = ZeroResultHelp(suggestion=getattr(result, "suggestion", None))

    def total(of_kind: ListingKind, asked: SearchParams) -> int:
        return search_listings(session, of_kind, replace(asked, page=1, per_page=1), with_facets=False).total

    if any(getattr(params, name) for name in FILTER_NAMES):
        help_.without_filters = total(kind, SearchParams(q=params.q, sold=params.sold))
    if not params.q.strip():
        return help_
    words = droppable_words(params.q)
    if len(words) > 1:
        for index, word in enumerate(words[:MAX_FEWER_WORDS]):
            shorter = " ".join(words[:index] + words[index + 1:])
            count = total(kind, replace(params, q=shorter))
            if count:
                help_.fewer_words.append((word, shorter, count))
    for each in related_fields(fields, params.q):
        count = total(kind, SearchParams(field=each.code, sold=params.sold))
        if count:
            help_.related_fields.append((each, count))
        if len(help_.related_fields) == MAX_RELATED_FIELDS:
            break
    if params.sold:
        help_.on_offer = total(kind, SearchParams(q=params.q))
    help_.other_kind = ListingKind.DEMAND if kind == ListingKind.ACHIEVEMENT else ListingKind.ACHIEVEMENT
    help_.other_kind_count = total(help_.other_kind, SearchParams(q=params.q))
    return help_
