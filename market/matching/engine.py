"""The matcher: listings, an incremental inverted index (BM25 candidates), re-ranking and explanations.

Pure code: no Flask, no database. The app builds one MatchIndex over achievements (queried with a
demand) and one over demands (queried with an achievement); see docs/matching.md.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from market.matching import factors
from market.matching.fields import FieldTree
from market.matching.ngrams import term_counts
from market.matching.postings import GrowableArray, PostingSegment, TermVocabulary
from market.matching.weights import DEFAULT_WEIGHTS, FACTORS, STRUCTURED_FACTORS, MatchWeights
from market.text import add_words, is_telling_term, normalise, words_of

KINDS = ("achievement", "demand")
FORMAT_VERSION = 1
_SCORE_UNITS = 10_000  # scores and contributions are exact multiples of 1/10,000 of a point
_MAX_TF = 255          # term frequencies are stored in one byte
_MAX_SEGMENT_SIZE = 1 << 16  # local slot numbers are stored in 16 bits


@dataclass(frozen=True)
class Listing:
    """An achievement or a demand as plain data (money in integer fen, TRL 1-9, mode codes)."""

    id: str
    title: str = ""
    text: str = ""
    keywords: tuple[str, ...] = ()
    field: str | None = None
    trl: int | None = None
    money_min_fen: int | None = None
    money_max_fen: int | None = None
    modes: tuple[str, ...] = ()
    region: str | None = None
    kind: str = "achievement"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {self.kind!r}")
        object.__setattr__(self, "id", str(self.id))
        object.__setattr__(self, "title", self.title or "")
        object.__setattr__(self, "text", self.text or "")
        keywords = (self.keywords,) if isinstance(self.keywords, str) else (self.keywords or ())
        object.__setattr__(self, "keywords", tuple(k.strip() for k in keywords if isinstance(k, str) and k.strip()))
        modes = (self.modes,) if isinstance(self.modes, str) else (self.modes or ())
        object.__setattr__(self, "modes", tuple(m for m in modes if m))
        object.__setattr__(self, "field", self.field or None)
        object.__setattr__(self, "region", self.region or None)
        for name in ("trl", "money_min_fen", "money_max_fen"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise TypeError(f"{name} must be an int or None")

    def indexed_text(self) -> str:
        """Title, keywords and text, separated so that no n-gram crosses from one to the next."""
        return "\n".join(part for part in (self.title, "\n".join(self.keywords), self.text) if part)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {"id": self.id, "title": self.title, "text": self.text, "keywords": list(self.keywords),
                "field": self.field, "trl": self.trl, "money_min_fen": self.money_min_fen,
                "money_max_fen": self.money_max_fen, "modes": list(self.modes), "region": self.region,
                "kind": self.kind}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Listing:
        """Inverse of to_dict."""
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass(frozen=True)
class Explanation:
    """Why a pair matched: shared terms, the field path, and each factor's share of the score."""

    shared_terms: tuple[str, ...]
    field_path: tuple[str, ...]
    query_field: str | None
    field_inferred: bool
    contributions: Mapping[str, float]           # points per factor, summing to the score
    similarities: Mapping[str, float | None]     # each factor's similarity in [0, 1]; None if unknown
    structured_counted: bool = True              # False: the subjects are too far apart for the structured fits


@dataclass(frozen=True)
class Match:
    """One ranked candidate for a query listing."""

    query_id: str
    candidate_id: str
    query_kind: str
    score: float
    explanation: Explanation

    @property
    def demand_id(self) -> str:
        """The demand of the pair (the query when the query is a demand)."""
        return self.query_id if self.query_kind == "demand" else self.candidate_id

    @property
    def achievement_id(self) -> str:
        """The achievement of the pair (the candidate when the query is a demand)."""
        return self.candidate_id if self.query_kind == "demand" else self.query_id


@dataclass
class _Candidate:
    slot: int
    listing: Listing
    text: float
    similarities: dict[str, float | None] = field(default_factory=dict)
    units: int = 0
    structured_counted: bool = True

    def points(self, name: str) -> float:
        """The similarity a factor scores with: structured fits give nothing when the subjects are far apart."""
        similarity = self.similarities[name]
        if similarity is None or (not self.structured_counted and name in STRUCTURED_FACTORS):
            return 0.0
        return similarity


class MatchIndex:
    """Listings of one side, searchable by a listing of the other side; incremental and persistent."""

    def __init__(self, field_tree: FieldTree | None = None, weights: MatchWeights = DEFAULT_WEIGHTS, *,
                 delta_limit: int = 2048, segment_size: int = 16384) -> None:
        """An empty index; field_tree gives field similarity (labels outside it count only when equal)."""
        if not (1 <= segment_size <= _MAX_SEGMENT_SIZE and 1 <= delta_limit <= _MAX_SEGMENT_SIZE):
            raise ValueError(f"segment_size and delta_limit must be between 1 and {_MAX_SEGMENT_SIZE}")
        self.field_tree = field_tree or FieldTree()
        self.weights = weights
        self.delta_limit = delta_limit
        self.segment_size = segment_size
        add_words(self.field_tree.vocabulary())
        self._vocabulary = TermVocabulary()
        self._listings: list[Listing | None] = []
        self._slot_of: dict[str, int] = {}
        self._lengths = GrowableArray(np.float64)
        self._alive = GrowableArray(bool)
        self._segments: list[PostingSegment] = []
        self._delta_start = 0
        self._delta_rows: list[tuple[np.ndarray, np.ndarray]] = []
        self._delta_segment: PostingSegment | None = None
        self._live_count = 0
        self._live_length = 0.0
        self._title_words: dict[int, str] = {}
        self._norms = np.zeros(0)
        self._norms_key: tuple[int, float, int] | None = None

    # ----- contents -------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._live_count

    def __contains__(self, listing_id: object) -> bool:
        return listing_id in self._slot_of

    def get(self, listing_id: str) -> Listing | None:
        """The indexed listing with this id, or None."""
        slot = self._slot_of.get(listing_id)
        return None if slot is None else self._listings[slot]

    def listings(self) -> list[Listing]:
        """Every live listing, in indexing order."""
        return [listing for listing in self._listings if listing is not None]

    # ----- analysis ---------------------------------------------------------------------------
    @staticmethod
    def _analyse(listings: Sequence[Listing]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(listing index, term key, count) of each listing's indexed text."""
        return term_counts([listing.indexed_text() for listing in listings])

    def _term_row(self, listing: Listing, *, intern: bool) -> tuple[np.ndarray, np.ndarray, float]:
        """Term ids, clipped tfs and length of one listing."""
        _, keys, counts = self._analyse([listing])
        ids = self._vocabulary.intern_sorted(keys) if intern else self._vocabulary.lookup(keys)
        return ids, np.minimum(counts, _MAX_TF).astype(np.uint8), float(counts.sum())

    # ----- changes ----------------------------------------------------------------------------
    def add(self, listing: Listing) -> None:
        """Index one listing (publish); a listing with the same id is replaced."""
        if listing.id in self._slot_of:
            self.remove(listing.id)
        ids, tfs, length = self._term_row(listing, intern=True)
        slot = len(self._listings)
        self._listings.append(listing)
        self._slot_of[listing.id] = slot
        self._lengths.extend([length])
        self._alive.extend([True])
        self._delta_rows.append((ids, tfs))
        self._delta_segment = None
        self._vocabulary.df.view[ids] += 1
        self._live_count += 1
        self._live_length += length
        add_words(listing.keywords)
        if len(self._delta_rows) >= self.delta_limit:
            self._freeze_delta()

    def update(self, listing: Listing) -> None:
        """Re-index a listing after an edit (same as add: the old version is replaced)."""
        self.add(listing)

    def remove(self, listing_id: str) -> bool:
        """Drop a listing (withdraw); False when it was not indexed."""
        slot = self._slot_of.pop(listing_id, None)
        if slot is None:
            return False
        listing = self._listings[slot]
        assert listing is not None
        ids, _, length = self._term_row(listing, intern=False)
        self._vocabulary.df.view[ids[ids >= 0]] -= 1
        self._listings[slot] = None
        self._alive.view[slot] = False
        self._title_words.pop(slot, None)
        self._live_count -= 1
        self._live_length -= length
        dead = len(self._listings) - self._live_count
        if dead > 1024 and dead > len(self._listings) // 4:
            self.compact()
        return True

    def add_many(self, listings: Iterable[Listing], chunk_size: int = 2048) -> None:
        """Index many listings at once (vectorised analysis, one segment per segment_size listings)."""
        batch: dict[str, Listing] = {}
        for listing in listings:
            batch.pop(listing.id, None)
            batch[listing.id] = listing
        for listing_id in batch:
            if listing_id in self._slot_of:
                self.remove(listing_id)
        items = list(batch.values())
        if not items:
            return
        self._freeze_delta()
        for listing in items:
            if listing.keywords:
                add_words(listing.keywords)
        for segment_start in range(0, len(items), self.segment_size):
            self._add_segment(items[segment_start: segment_start + self.segment_size], chunk_size)
        self._delta_start = len(self._listings)

    def _add_segment(self, items: list[Listing], chunk_size: int) -> None:
        """Analyse listings chunk by chunk and store them as one new segment."""
        start = len(self._listings)
        docs, term_ids, tfs = [], [], []
        for offset in range(0, len(items), chunk_size):
            chunk = items[offset: offset + chunk_size]
            owners, keys, counts = self._analyse(chunk)
            if len(keys):
                first = np.ones(len(keys), dtype=bool)
                first[1:] = keys[1:] != keys[:-1]
                key_starts = np.flatnonzero(first)
                per_key = np.diff(np.append(key_starts, len(keys)))
                ids = self._vocabulary.intern_sorted(keys[key_starts])
                self._vocabulary.df.view[ids] += per_key
                docs.append((owners + offset).astype(np.uint16))
                term_ids.append(np.repeat(ids, per_key).astype(np.int32))
                tfs.append(np.minimum(counts, _MAX_TF).astype(np.uint8))
            lengths = np.bincount(owners, weights=counts, minlength=len(chunk)).astype(np.float64)
            for listing in chunk:
                self._slot_of[listing.id] = len(self._listings)
                self._listings.append(listing)
            self._lengths.extend(lengths)
            self._alive.extend(np.ones(len(chunk), dtype=bool))
            self._live_count += len(chunk)
            self._live_length += float(lengths.sum())
        if docs:
            self._segments.append(PostingSegment.from_pairs(start, len(items), np.concatenate(docs),
                                                      np.concatenate(term_ids), np.concatenate(tfs),
                                                      len(self._vocabulary)))
        else:
            self._segments.append(PostingSegment.from_rows(start, sp.csr_matrix((len(items), len(self._vocabulary)),
                                                                          dtype=np.uint8)))

    def _delta_matrix(self) -> sp.csr_matrix:
        width = len(self._vocabulary)
        if not self._delta_rows:
            return sp.csr_matrix((0, width), dtype=np.uint8)
        lengths = [len(ids) for ids, _ in self._delta_rows]
        indptr = np.concatenate(([0], np.cumsum(lengths)))
        ids = np.concatenate([ids for ids, _ in self._delta_rows])
        tfs = np.concatenate([tfs for _, tfs in self._delta_rows])
        return sp.csr_matrix((tfs, ids, indptr), shape=(len(self._delta_rows), width))

    def _freeze_delta(self) -> None:
        if self._delta_rows:
            self._segments.append(PostingSegment.from_rows(self._delta_start, self._delta_matrix()))
        self._delta_rows = []
        self._delta_segment = None
        self._delta_start = len(self._listings)
        if len(self._segments) > 16:
            self.compact()

    def compact(self) -> None:
        """Rewrite the index without removed listings and with few segments (no re-segmentation)."""
        width = len(self._vocabulary)
        blocks = [segment.rows(width) for segment in self._segments]
        blocks.append(self._delta_matrix())
        rows = sp.vstack(blocks, format="csr") if blocks else sp.csr_matrix((0, width), dtype=np.uint8)
        alive = self._alive.view.copy()
        rows = rows[np.flatnonzero(alive)]
        self._listings = [listing for listing in self._listings if listing is not None]
        self._slot_of = {listing.id: slot for slot, listing in enumerate(self._listings)}
        self._lengths = GrowableArray(np.float64, self._lengths.view[alive])
        self._alive = GrowableArray(bool, np.ones(len(self._listings), dtype=bool))
        self._title_words = {}
        self._segments = []
        for start in range(0, rows.shape[0], self.segment_size):
            self._segments.append(PostingSegment.from_rows(start, rows[start: start + self.segment_size]))
        self._delta_rows = []
        self._delta_segment = None
        self._delta_start = len(self._listings)

    # ----- ranking ----------------------------------------------------------------------------
    def _all_segments(self) -> list[PostingSegment]:
        if self._delta_rows and self._delta_segment is None:
            self._delta_segment = PostingSegment.from_rows(self._delta_start, self._delta_matrix())
        return self._segments + ([self._delta_segment] if self._delta_rows else [])

    def _idf(self, df: np.ndarray) -> np.ndarray:
        n = self._live_count
        return np.log1p((n - df + 0.5) / (df + 0.5))

    def _slot_norms(self) -> np.ndarray:
        """BM25 length normalisation k1 * (1 - b + b * length / average length) of every slot."""
        key = (len(self._listings), self._live_length, self._live_count)
        if self._norms_key != key:
            k1, b = self.weights.bm25_k1, self.weights.bm25_b
            average = max(self._live_length / max(self._live_count, 1), 1.0)
            self._norms = k1 * (1 - b + b * self._lengths.view / average)
            self._norms_key = key
        return self._norms

    def _accumulate(self, ids: np.ndarray, idf: np.ndarray, norms: np.ndarray) -> np.ndarray:
        """BM25 of every slot over the given terms (dense over slots)."""
        k1 = self.weights.bm25_k1
        scores = np.zeros(len(self._listings))
        for segment in self._all_segments():
            local, tfs, per_term = segment.postings(ids)
            if len(local) == 0:
                continue
            tf = tfs.astype(np.float64)
            end = segment.start + segment.size
            weights = np.repeat(idf, per_term) * tf * (k1 + 1) / (tf + norms[segment.start:end][local])
            scores[segment.start:end] += np.bincount(local, weights=weights, minlength=segment.size)
        return scores

    def _add_exact(self, scores: np.ndarray, slots: np.ndarray, ids: np.ndarray, idf: np.ndarray,
                   norms: np.ndarray) -> None:
        """Add the BM25 of the given terms to the scores of the given (sorted) slots, in place."""
        k1 = self.weights.bm25_k1
        for segment in self._all_segments():
            lo, hi = np.searchsorted(slots, [segment.start, segment.start + segment.size])
            if lo == hi:
                continue
            local = (slots[lo:hi] - segment.start).astype(np.uint16)
            slot_norms = norms[slots[lo:hi]]
            for term_id, term_idf in zip(ids.tolist(), idf.tolist()):
                tf = segment.lookup_tfs(term_id, local).astype(np.float64)
                scores[lo:hi] += term_idf * tf * (k1 + 1) / (tf + slot_norms)

    def text_candidates(self, query: Listing, size: int) -> tuple[np.ndarray, np.ndarray]:
        """(slots, text similarity) of live listings sharing a term with the query; the best first-pass ones.

        Text similarity is BM25 (binary query weights) divided by the query's BM25 against itself,
        capped at 1, so an identical listing scores 1. When many listings share the query's rarer
        terms (see common_term_share), only the best of them by those terms are kept as candidates
        and get the common terms added exactly; otherwise every listing sharing a term is scored in full.
        """
        k1, b = self.weights.bm25_k1, self.weights.bm25_b
        empty = (np.zeros(0, dtype=np.int64), np.zeros(0))
        _, keys, counts = term_counts([query.indexed_text()])
        if len(keys) == 0 or self._live_count == 0:
            return empty
        ids = self._vocabulary.lookup(keys)
        present = ids >= 0
        df = np.zeros(len(ids), dtype=self._vocabulary.df.view.dtype)
        df[present] = self._vocabulary.df.view[ids[present]]
        known = df > 0
        if known.sum() > self.weights.max_query_terms:
            rarest = np.flatnonzero(known)[np.lexsort((keys[known], df[known]))[: self.weights.max_query_terms]]
            known = np.zeros(len(ids), dtype=bool)
            known[rarest] = True
        idf = self._idf(df)
        average = max(self._live_length / self._live_count, 1.0)
        query_norm = k1 * (1 - b + b * float(counts.sum()) / average)
        counted = known | (df == 0)
        self_score = float(np.sum((idf * counts * (k1 + 1) / (counts + query_norm))[counted]))
        ids, idf, df = ids[known], idf[known], df[known]
        if len(ids) == 0 or self_score <= 0:
            return empty
        norms = self._slot_norms()
        alive = self._alive.view
        common = df * self.weights.common_term_share > self._live_count
        if common.any() and not common.all():
            partial = self._accumulate(ids[~common], idf[~common], norms)
            partial[~alive] = 0.0
            reached = np.flatnonzero(partial > 0)
            limit = max(self.weights.first_pass_per_pool * size, self.weights.first_pass_minimum)
            if len(reached) > limit:
                values = partial[reached]
                threshold = np.partition(values, len(values) - limit)[len(values) - limit]
                slots = reached[values >= threshold]
                scores = partial[slots]
                self._add_exact(scores, slots, ids[common], idf[common], norms)
                return slots, np.minimum(scores / self_score, 1.0)
        scores = self._accumulate(ids, idf, norms)
        scores[~alive] = 0.0
        slots = np.flatnonzero(scores > 0)
        return slots, np.minimum(scores[slots] / self_score, 1.0)

    def _pool(self, slots: np.ndarray, text: np.ndarray, size: int) -> list[int]:
        """Positions of the `size` best text scores, ties at the edge broken by listing id."""
        if len(slots) <= size:
            return list(range(len(slots)))
        threshold = np.partition(text, len(text) - size)[len(text) - size]
        above = np.flatnonzero(text > threshold)
        tied = np.flatnonzero(text == threshold)
        tied = sorted(tied.tolist(), key=lambda i: self._listings[slots[i]].id)[: size - len(above)]
        return above.tolist() + tied

    def _field_distribution(self, query: Listing, pool: list[_Candidate]) -> tuple[dict[str, float], bool]:
        """The query's field: its own label, else a vote of its strongest candidates' fields."""
        if query.field:
            return {query.field: 1.0}, False
        voters = sorted((c for c in pool if c.listing.field), key=lambda c: (-c.text, c.listing.id))
        voters = voters[: self.weights.field_vote_candidates]
        if not voters:
            return {}, True
        best = voters[0].text
        votes: dict[str, float] = {}
        for candidate in voters:
            weight = math.exp((candidate.text - best) / self.weights.field_vote_temperature)
            votes[candidate.listing.field] = votes.get(candidate.listing.field, 0.0) + weight
        total = sum(votes.values())
        return {label: v / total for label, v in votes.items()}, True

    def _title_words_of(self, slot: int, listing: Listing) -> str:
        words = self._title_words.get(slot)
        if words is None:
            words = " ".join(words_of(listing.title, domain_terms=True)) if listing.title else ""
            self._title_words[slot] = words
        return words

    def rank(self, query: Listing, top: int = 10, *, exclude_ids: Iterable[str] = ()) -> list[Match]:
        """The best `top` listings for the query, best first; equal scores in listing id order."""
        if top <= 0:
            return []
        pool_size = max(self.weights.rerank_pool, top)
        slots, text = self.text_candidates(query, pool_size + len(set(exclude_ids)))
        excluded = set(exclude_ids)
        if excluded:
            keep = np.array([self._listings[s].id not in excluded for s in slots], dtype=bool)
            slots, text = slots[keep], text[keep]
        if len(slots) == 0:
            return []
        positions = self._pool(slots, text, pool_size)
        pool = [_Candidate(int(slots[i]), self._listings[slots[i]], float(text[i])) for i in positions]
        distribution, inferred = self._field_distribution(query, pool)
        query_title_words = " ".join(words_of(query.title, domain_terms=True)) if query.title else ""
        weights = self.weights
        field_cache: dict[str, float] = {}
        for candidate in pool:
            other = candidate.listing
            sims = candidate.similarities
            sims["text"] = candidate.text
            sims["title_keywords"] = factors.title_keywords_fit(
                query, other, query_title_words,
                self._title_words_of(candidate.slot, other) if query_title_words else "")
            if distribution and other.field:
                if other.field not in field_cache:
                    field_cache[other.field] = min(1.0, sum(
                        p * self.field_tree.similarity(label, other.field) for label, p in distribution.items()))
                sims["field"] = field_cache[other.field]
            else:
                sims["field"] = None
            sims["maturity"] = factors.maturity_fit(query, other, weights.trl_shortfall_step)
            sims["budget"] = factors.budget_fit(query, other)
            sims["mode"] = factors.mode_fit(query, other, weights.related_mode_similarity)
            sims["region"] = factors.region_fit(query, other)
            candidate.structured_counted = (candidate.text >= weights.structured_gate_text
                                            or (sims["field"] or 0.0) >= weights.structured_gate_field)
            total_weight = sum(weights.factor_weight(f) for f in FACTORS if sims[f] is not None)
            points = sum(weights.factor_weight(f) * candidate.points(f) for f in FACTORS)
            candidate.units = round(100 * _SCORE_UNITS * points / total_weight)
        pool.sort(key=lambda c: (-c.units, c.listing.id))
        best = pool[:top]
        query_field = max(distribution, key=lambda k: (distribution[k], k)) if distribution else None
        terms = self._query_terms(query) if best else []
        return [self._match(query, c, terms, query_field, inferred) for c in best]

    # ----- explanations -----------------------------------------------------------------------
    def _query_terms(self, query: Listing) -> list[str]:
        """Candidate terms to highlight: the query's keywords and telling words, longest first (see _too_common)."""
        words = [normalise(k) for k in query.keywords]
        words += words_of(query.title, domain_terms=True) + words_of(query.text, domain_terms=True)
        unique = [w for w in dict.fromkeys(words) if is_telling_term(w)]
        common = self._too_common(unique)
        return sorted((w for w in unique if w not in common), key=lambda w: (-len(w), w))

    def _too_common(self, terms: list[str]) -> set[str]:
        """Terms found in more than shared_term_max_share of the listings (by their rarest n-gram's frequency)."""
        weights = self.weights
        if not terms or self._live_count < weights.shared_term_min_listings:
            return set()
        owners, keys, _ = term_counts(terms)
        ids = self._vocabulary.lookup(keys)
        df = np.where(ids >= 0, self._vocabulary.df.view[np.maximum(ids, 0)], 0)
        rarest = np.full(len(terms), np.iinfo(np.int64).max)
        np.minimum.at(rarest, owners, df.astype(np.int64))
        limit = weights.shared_term_max_share * self._live_count
        return {term for term, count in zip(terms, rarest.tolist()) if count > limit}

    def _match(self, query: Listing, candidate: _Candidate, terms: list[str], query_field: str | None,
               inferred: bool) -> Match:
        weights = self.weights
        sims = candidate.similarities
        known = [f for f in FACTORS if sims[f] is not None]
        total_weight = sum(weights.factor_weight(f) for f in known)
        raw = {f: 100 * _SCORE_UNITS * weights.factor_weight(f) * candidate.points(f) / total_weight for f in known}
        units = {f: math.floor(v) for f, v in raw.items()}
        remainder = candidate.units - sum(units.values())
        for f in sorted(known, key=lambda f: (-(raw[f] - units[f]), FACTORS.index(f)))[: max(remainder, 0)]:
            units[f] += 1
        contributions = {f: units.get(f, 0) / _SCORE_UNITS for f in FACTORS}
        haystack = normalise(candidate.listing.indexed_text())
        shared: list[str] = []
        for term in terms:
            if term in haystack and not any(term in longer for longer in shared):
                shared.append(term)
                if len(shared) == 12:
                    break
        path = self.field_tree.path(query_field, candidate.listing.field) if query_field else ()
        explanation = Explanation(shared_terms=tuple(shared), field_path=path, query_field=query_field,
                                  field_inferred=inferred, contributions=contributions,
                                  similarities={f: sims[f] for f in FACTORS},
                                  structured_counted=candidate.structured_counted)
        return Match(query_id=query.id, candidate_id=candidate.listing.id, query_kind=query.kind,
                     score=candidate.units / _SCORE_UNITS, explanation=explanation)

    def warm_up(self) -> None:
        """Load the word segmenter's dictionary now rather than on the first explanation."""
        words_of("预热")

    # ----- persistence ------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the index to one .npz file (atomically): term statistics, postings and listings."""
        self._freeze_delta()
        arrays: dict[str, np.ndarray] = {
            "vocabulary_keys": self._vocabulary.keys, "vocabulary_ids": self._vocabulary.ids,
            "df": self._vocabulary.df.view, "lengths": self._lengths.view, "alive": self._alive.view,
            "segment_starts": np.array([s.start for s in self._segments], dtype=np.int64),
            "segment_sizes": np.array([s.size for s in self._segments], dtype=np.int64),
        }
        for i, segment in enumerate(self._segments):
            arrays[f"segment{i}_indptr"] = segment.indptr
            arrays[f"segment{i}_docs"] = segment.docs
            arrays[f"segment{i}_tfs"] = segment.tfs
        meta = {"format": FORMAT_VERSION, "segments": len(self._segments),
                "listings": [None if listing is None else listing.to_dict() for listing in self._listings]}
        arrays["meta"] = np.frombuffer(json.dumps(meta, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
        directory = os.path.dirname(os.path.abspath(path))
        handle, temporary = tempfile.mkstemp(dir=directory, suffix=".npz")
        try:
            with os.fdopen(handle, "wb") as out:
                np.savez(out, **arrays)
            os.replace(temporary, path)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike[str], field_tree: FieldTree | None = None,
             weights: MatchWeights = DEFAULT_WEIGHTS, **options: Any) -> MatchIndex:
        """Read an index written by save (the field tree and weights come from the caller)."""
        index = cls(field_tree, weights, **options)
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(data["meta"].tobytes().decode("utf-8"))
            if meta.get("format") != FORMAT_VERSION:
                raise ValueError(f"unsupported index format {meta.get('format')!r}")
            vocabulary = index._vocabulary
            vocabulary.keys = data["vocabulary_keys"].astype(np.uint64)
            vocabulary.ids = data["vocabulary_ids"].astype(np.int64)
            vocabulary.df = GrowableArray(np.int64, data["df"])
            index._lengths = GrowableArray(np.float64, data["lengths"])
            index._alive = GrowableArray(bool, data["alive"])
            starts, sizes = data["segment_starts"], data["segment_sizes"]
            for i in range(meta["segments"]):
                index._segments.append(PostingSegment(start=int(starts[i]), size=int(sizes[i]),
                                                indptr=data[f"segment{i}_indptr"],
                                                docs=data[f"segment{i}_docs"], tfs=data[f"segment{i}_tfs"]))
        index._listings = [None if item is None else Listing.from_dict(item) for item in meta["listings"]]
        index._slot_of = {listing.id: slot for slot, listing in enumerate(index._listings) if listing is not None}
        index._live_count = len(index._slot_of)
        index._live_length = float(index._lengths.view[index._alive.view].sum())
        index._delta_start = len(index._listings)
        for listing in index._listings:
            if listing is not None and listing.keywords:
                add_words(listing.keywords)
        return index
