"""Full-text analysis of listings and queries: the matcher's word segmentation into weighted terms, and query words."""
import re
from collections import Counter
from dataclasses import dataclass

from market.text import STOPWORDS, normalise, words_of

_TERM = re.compile(r"[0-9a-z\u3400-\u9fff][0-9a-z\u3400-\u9fff.+#-]*")
_ENGLISH_WORD = re.compile(r"[a-z]+")
MAX_TERM_LENGTH = 40
MAX_QUERY_WORDS = 12
FIELD_WEIGHTS = {"title": 4, "keywords": 4, "organisation": 2, "body": 1}
"""How much one occurrence of a word counts in each part of a listing (title and keywords more than the body)."""
ENGLISH_STOPWORDS = frozenset(["a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "is", "it", "of", "on",
                               "or", "the", "to", "with", "without", "based", "using", "via"])


def english_stem(word: str) -> str:
    """An English word without its plural ending (cells -> cell, batteries -> battery); other words unchanged."""
    if not _ENGLISH_WORD.fullmatch(word) or len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _is_term(word: str) -> bool:
    """Whether a normalised word is worth a row in the search table (letters, digits or ideographs, no stop word)."""
    return (bool(_TERM.fullmatch(word)) and word not in STOPWORDS and word not in ENGLISH_STOPWORDS
            and len(word) <= MAX_TERM_LENGTH)


def segment(text: str, *, for_index: bool = False) -> list[str]:
    """Search terms of a text: its words (search mode for indexing, whole words for queries) that are terms."""
    return [english_stem(word) for word in words_of(text, whole_words_only=not for_index) if _is_term(word)]


@dataclass
class ListingText:
    """The searchable parts of a listing, in Chinese and (optionally) in English."""

    title: str
    keywords: list[str]
    body: str
    title_en: str = ""
    body_en: str = ""
    organisation: str = ""


def _whole(text: str) -> str:
    """A short phrase as one term (a keyword, an organisation name), or "" when it is too long or not a term."""
    whole = normalise(text).strip()
    return whole if whole and len(whole) <= MAX_TERM_LENGTH and not any(c.isspace() for c in whole) else ""


def listing_terms(text: ListingText) -> dict[str, int]:
    """Weighted terms of a listing for the search table: each occurrence counts its part's weight."""
    weights: Counter[str] = Counter()
    for part, words in (("title", text.title), ("title", text.title_en), ("body", text.body), ("body", text.body_en)):
        for term in segment(words, for_index=True):
            weights[term] += FIELD_WEIGHTS[part]
    for part, phrases in (("keywords", text.keywords), ("organisation", [text.organisation])):
        for phrase in phrases:
            whole = _whole(phrase)
            if whole:
                weights[whole] += FIELD_WEIGHTS[part]
            for term in segment(phrase, for_index=True):
                if term != whole:
                    weights[term] += FIELD_WEIGHTS[part]
    return dict(weights)


def query_words(query: str) -> list[str]:
    """Distinct whole words of a search query, in order (at most MAX_QUERY_WORDS)."""
    seen: list[str] = []
    for term in segment(query):
        if term not in seen:
            seen.append(term)
    return seen[:MAX_QUERY_WORDS]


def subwords(word: str) -> list[str]:
    """The dictionary words of two and three characters inside a word (jieba's search mode), without the word."""
    return [piece for piece in segment(word, for_index=True) if piece != word]
