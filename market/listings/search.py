"""Chinese full-text search over listings: the shared word segmentation into a term table the database can query."""
import re
from collections import Counter

from market.text import STOPWORDS, normalise, words_of

_TERM = re.compile(r"[0-9a-z\u3400-\u9fff][0-9a-z\u3400-\u9fff.+#-]*")
MAX_TERM_LENGTH = 40
FIELD_WEIGHTS = {"title": 4, "keywords": 4, "body": 1}


def _is_term(word: str) -> bool:
    """Whether a normalised word is worth a row in the search table (letters, digits or ideographs, no stop word)."""
    return bool(_TERM.fullmatch(word)) and word not in STOPWORDS and len(word) <= MAX_TERM_LENGTH


def segment(text: str, *, for_index: bool = False) -> list[str]:
    """Search terms of a text: its words (search mode for indexing, whole words for queries) that are terms."""
    return [word for word in words_of(text, whole_words_only=not for_index) if _is_term(word)]


def listing_terms(title: str, keywords: list[str], body: str) -> dict[str, int]:
    """Weighted terms of a listing for the search table (title and keywords count more than the body)."""
    weights: Counter[str] = Counter()
    for term in segment(title, for_index=True):
        weights[term] += FIELD_WEIGHTS["title"]
    for keyword in keywords:
        whole = normalise(keyword).strip()
        if whole and len(whole) <= MAX_TERM_LENGTH:
            weights[whole] += FIELD_WEIGHTS["keywords"]
        for term in segment(keyword, for_index=True):
            if term != whole:
                weights[term] += FIELD_WEIGHTS["keywords"]
    for term in segment(body, for_index=True):
        weights[term] += FIELD_WEIGHTS["body"]
    return dict(weights)


def query_terms(query: str) -> list[str]:
    """Distinct terms of a search query, in order."""
    seen: list[str] = []
    for term in segment(query):
        if term not in seen:
            seen.append(term)
    return seen[:12]


def required_matches(term_count: int) -> int:
    """How many query terms a listing must contain: all of one or two, two thirds of more."""
    return term_count if term_count <= 2 else -(-2 * term_count // 3)
