"""The search as it was before ranking (3 December 2026), kept for the relevance benchmark's comparison.

Query words must nearly all be present (all of one or two, two thirds of more) and a listing scores the sum of its
term weights. It reads today's term table, which also holds English titles, field names and organisation names."""
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from market.listings.models import SearchTerm, listing_model
from market.listings.queries import visible_to_public
from market.listings.vocabulary import ListingKind
from market.text import STOPWORDS, words_of
from tests.search_relevance.evaluate import DEPTH

_TERM = re.compile(r"[0-9a-z\u3400-\u9fff][0-9a-z\u3400-\u9fff.+#-]*")
MAX_TERM_LENGTH = 40


def query_terms(query: str) -> list[str]:
    """Distinct whole words of a query that are terms, in order (at most 12)."""
    seen: list[str] = []
    for word in words_of(query, whole_words_only=True):
        if _TERM.fullmatch(word) and word not in STOPWORDS and len(word) <= MAX_TERM_LENGTH and word not in seen:
            seen.append(word)
    return seen[:12]


def required_matches(term_count: int) -> int:
    """How many query terms a listing had to contain: all of one or two, two thirds of more."""
    return term_count if term_count <= 2 else -(-2 * term_count // 3)


def legacy_search(session: Session, kind: ListingKind, text: str) -> list[str]:
    """Titles found by the search before ranking, best first, as the browse page sorted them by relevance."""
    terms = query_terms(text)
    hits: dict[int, int] = {}
    scores: dict[int, int] = {}
    for term in terms:
        for listing_id, weight in session.execute(select(SearchTerm.listing_id, SearchTerm.weight)
                                                  .where(SearchTerm.listing_kind == kind, SearchTerm.term == term)):
            hits[listing_id] = hits.get(listing_id, 0) + 1
            scores[listing_id] = scores.get(listing_id, 0) + weight
    needed = required_matches(len(terms))
    found = [listing_id for listing_id in scores if hits[listing_id] >= needed]
    if not found:
        return []
    model = listing_model(kind)
    rows = session.execute(select(model.id, model.title, model.published_at).where(model.id.in_(found), visible_to_public(model)))
    ranked = sorted(rows, key=lambda row: (-scores[row.id], -(row.published_at.timestamp() if row.published_at else 0),
                                           -row.id))
    return [row.title for row in ranked[:DEPTH]]
