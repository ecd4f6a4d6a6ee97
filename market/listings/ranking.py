"""Relevance ranking of listings for a query: query words expanded against the index vocabulary, scored by BM25."""
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from market.listings.search import subwords

K1 = 1.2
"""BM25 term-frequency saturation: how quickly more occurrences of a term stop adding to the score."""
B = 0.75
"""BM25 length normalisation: how much a long listing's occurrences are discounted."""
SUBWORD_WEIGHT = 0.3
"""Weight of a known word's own sub-words (燃料电池 -> 电池) beside the word: partial matches rank, below whole ones."""
COVERAGE_BOOST = 1.0
"""How much more a listing that matches every query word scores than one matching none but the same BM25 sum."""
MIN_PIECE_LENGTH = 2
"""The shortest piece of an unknown word that is looked up: one character alone (机, 石) finds mostly noise."""
MIN_RELATIVE_SCORE = 0.15
"""A listing is a result when it scores at least this share of the best listing's score (drops stray partial hits)."""


@dataclass(frozen=True)
class QueryTerm:
    """One term looked up in the index: which query word it stands for and how much it counts."""

    term: str
    word: str
    weight: float


@dataclass
class Vocabulary:
    """What the index holds for one listing kind: each term's document frequency, and the listings' number and mean
    length (from `lengths`, each listing's length, unless given)."""

    document_frequency: dict[str, int]
    lengths: dict[int, float] = field(default_factory=dict)
    listing_count: int | None = None
    mean_length: float | None = None
    extra: dict = field(default_factory=dict)
    """Structures derived from the vocabulary on demand (the spelling indexes), kept with it."""

    @property
    def size(self) -> int:
        """Number of listings indexed."""
        return self.listing_count if self.listing_count is not None else len(self.lengths)

    @property
    def average_length(self) -> float:
        """Mean weighted length of a listing."""
        if self.mean_length is not None:
            return self.mean_length or 1.0
        return (sum(self.lengths.values()) / len(self.lengths)) if self.lengths else 1.0

    def __contains__(self, term: str) -> bool:
        return term in self.document_frequency

    def idf(self, term: str) -> float:
        """Inverse document frequency (BM25's, never negative): rarer terms count more."""
        df = self.document_frequency.get(term, 0)
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))


def cover(word: str, vocabulary: Vocabulary) -> list[str]:
    """Pieces of an unknown word that the index knows, covering as much of it as possible with the longest pieces
    (锂离子电池 -> 锂离子, 电池); characters no piece of at least MIN_PIECE_LENGTH covers are left out."""
    best: list[tuple[int, list[str]]] = [(0, [])] * (len(word) + 1)
    for end in range(1, len(word) + 1):
        best[end] = best[end - 1]
        for start in range(end):
            piece = word[start:end]
            if piece != word and len(piece) >= MIN_PIECE_LENGTH and piece in vocabulary:
                value = best[start][0] + len(piece) ** 2
                if value > best[end][0]:
                    best[end] = (value, best[start][1] + [piece])
    return best[len(word)][1]


def expand(words: Iterable[str], vocabulary: Vocabulary) -> list[QueryTerm]:
    """The index terms of the query words: a known word with its sub-words, an unknown one by its known pieces."""
    terms: dict[str, QueryTerm] = {}

    def add(term: str, word: str, weight: float) -> None:
        if term not in terms or terms[term].weight < weight:
            terms[term] = QueryTerm(term, word, weight)

    for word in words:
        if word in vocabulary:
            add(word, word, 1.0)
            for piece in subwords(word):
                if piece in vocabulary:
                    add(piece, word, SUBWORD_WEIGHT)
        else:
            add(word, word, 1.0)  # found only in a listing indexed after the vocabulary was read
            for piece in cover(word, vocabulary):
                add(piece, word, max(0.5, len(piece) / len(word)))
    return list(terms.values())


@dataclass(frozen=True)
class Ranked:
    """A listing's relevance and the share of the query words it matched."""

    score: float
    coverage: float


def rank(terms: list[QueryTerm], postings: Mapping[str, Iterable[tuple[int, int]]], vocabulary: Vocabulary,
         word_count: int | None = None, lengths: Mapping[int, float] | None = None) -> dict[int, Ranked]:
    """BM25 over weighted postings (listing id, weighted term frequency), boosted by the share of the query's
    `word_count` words (by default those the terms stand for) that a listing matched; a listing's length comes from
    `lengths`, else the vocabulary's."""
    words = word_count or len({term.word for term in terms})
    if not words:
        return {}
    scores: dict[int, float] = {}
    matched: dict[int, dict[str, float]] = {}
    average = vocabulary.average_length or 1.0
    lengths = lengths if lengths is not None else vocabulary.lengths
    for term in terms:
        idf = vocabulary.idf(term.term)
        for listing_id, frequency in postings.get(term.term, ()):
            length = lengths.get(listing_id, average)
            saturation = frequency * (K1 + 1) / (frequency + K1 * (1 - B + B * length / average))
            scores[listing_id] = scores.get(listing_id, 0.0) + term.weight * idf * saturation
            hits = matched.setdefault(listing_id, {})
            hits[term.word] = max(hits.get(term.word, 0.0), min(1.0, term.weight))
    ranked = {}
    for listing_id, score in scores.items():
        coverage = sum(matched[listing_id].values()) / words
        ranked[listing_id] = Ranked(score * (1 + COVERAGE_BOOST * coverage), coverage)
    best = max((entry.score for entry in ranked.values()), default=0.0)
    return {listing_id: entry for listing_id, entry in ranked.items() if entry.score >= MIN_RELATIVE_SCORE * best}
