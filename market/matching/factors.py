"""Similarity of one factor between two listings, in [0, 1], or None when a side leaves it empty."""
from __future__ import annotations

from typing import TYPE_CHECKING

from rapidfuzz import fuzz

from market.text import normalise

if TYPE_CHECKING:
    from market.matching.engine import Listing

TRANSFER_MODES = ("assignment", "license_ordinary", "license_exclusive", "equity", "co_development",
                  "tech_service")
# Pairs of transfer modes that are close without being the same deal.
RELATED_MODES = frozenset({
    frozenset({"license_ordinary", "license_exclusive"}),
    frozenset({"assignment", "license_exclusive"}),
    frozenset({"co_development", "tech_service"}),
})
_REGION_SUFFIXES = ("特别行政区", "自治州", "地区", "省", "市", "区", "县", "盟")


def _demand_and_achievement(query: Listing, candidate: Listing):
    """(demand, achievement) when the two listings are of different kinds, else None."""
    if query.kind == candidate.kind:
        return None
    return (query, candidate) if query.kind == "demand" else (candidate, query)


def maturity_fit(query: Listing, candidate: Listing, shortfall_step: float) -> float | None:
    """1 when the achievement's TRL reaches the demand's minimum; each level short costs a step."""
    if query.trl is None or candidate.trl is None:
        return None
    pair = _demand_and_achievement(query, candidate)
    if pair is None:
        gap = abs(query.trl - candidate.trl)
    else:
        demand, achievement = pair
        gap = max(0, demand.trl - achievement.trl)
    return max(0.0, 1.0 - shortfall_step * gap)


def _money_range(listing: Listing) -> tuple[int, int] | None:
    low, high = listing.money_min_fen, listing.money_max_fen
    if low is None and high is None:
        return None
    low = high if low is None else low
    high = low if high is None else high
    if low < 0 or high < 0:
        return None
    return (min(low, high), max(low, high))


def budget_fit(query: Listing, candidate: Listing) -> float | None:
    """1 when the demand's budget reaches the achievement's asking price, else budget / price.

    Between two listings of the same kind: 1 when the ranges overlap, else the ratio of the
    lower range's top to the upper range's bottom.
    """
    a, b = _money_range(query), _money_range(candidate)
    if a is None or b is None:
        return None
    pair = _demand_and_achievement(query, candidate)
    if pair is not None:
        demand_range, price_range = (a, b) if pair[0] is query else (b, a)
        ceiling, floor = demand_range[1], price_range[0]
    else:
        (low_a, high_a), (low_b, high_b) = a, b
        if high_a >= low_b and high_b >= low_a:
            return 1.0
        ceiling, floor = (high_a, low_b) if high_a < low_b else (high_b, low_a)
    if ceiling >= floor:
        return 1.0
    return ceiling / floor


def mode_fit(query: Listing, candidate: Listing, related_similarity: float) -> float | None:
    """1 when the two sides share a transfer mode, less for related modes, else 0."""
    if not query.modes or not candidate.modes:
        return None
    a, b = set(query.modes), set(candidate.modes)
    if a & b:
        return 1.0
    if any(frozenset({x, y}) in RELATED_MODES for x in a for y in b):
        return related_similarity
    return 0.0


def _region_key(region: str) -> str:
    key = normalise(region).strip().replace(" ", "")
    for suffix in _REGION_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix) + 1:
            return key[: -len(suffix)]
    return key


def region_fit(query: Listing, candidate: Listing) -> float | None:
    """1 for the same city (太原 = 太原市, 山西省太原市 contains 太原), else 0."""
    if not query.region or not candidate.region:
        return None
    a, b = _region_key(query.region), _region_key(candidate.region)
    if not a or not b:
        return None
    if a == b or (len(a) >= 2 and a in b) or (len(b) >= 2 and b in a):
        return 1.0
    return 0.0


def title_keywords_fit(query: Listing, candidate: Listing, query_title_words: str,
                       candidate_title_words: str) -> float | None:
    """Mean of title similarity (token set ratio over words) and keyword similarity (best fuzzy match)."""
    parts = []
    if query_title_words and candidate_title_words:
        parts.append(fuzz.token_set_ratio(query_title_words, candidate_title_words) / 100.0)
    if query.keywords and candidate.keywords:
        theirs = [normalise(k) for k in candidate.keywords]
        best = [max(fuzz.ratio(normalise(k), other) for other in theirs) / 100.0 for k in query.keywords]
        parts.append(sum(best) / len(best))
    if not parts:
        return None
    return sum(parts) / len(parts)
