"""The matcher index's storage: growable arrays, the term vocabulary and immutable term-major posting segments.

Pure Python and numpy/scipy (no Flask, no database); used by `market.matching.engine.MatchIndex`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp


class GrowableArray:
    """A numpy array that grows by doubling."""

    def __init__(self, dtype: Any, values: np.ndarray | None = None) -> None:
        self._data = np.zeros(16, dtype=dtype) if values is None else np.array(values, dtype=dtype)
        self.size = 0 if values is None else len(values)

    def extend(self, values: Any) -> None:
        values = np.asarray(values, dtype=self._data.dtype).reshape(-1)
        needed = self.size + len(values)
        if needed > len(self._data):
            grown = np.zeros(max(needed, 2 * len(self._data)), dtype=self._data.dtype)
            grown[: self.size] = self._data[: self.size]
            self._data = grown
        self._data[self.size:needed] = values
        self.size = needed

    @property
    def view(self) -> np.ndarray:
        return self._data[: self.size]


class TermVocabulary:
    """Term keys (uint64) to dense term ids, with each term's document frequency over live listings."""

    def __init__(self) -> None:
        self.keys = np.zeros(0, dtype=np.uint64)   # sorted
        self.ids = np.zeros(0, dtype=np.int64)     # term id of keys[i]
        self.df = GrowableArray(np.int64)

    def __len__(self) -> int:
        return self.df.size

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Term ids of keys; -1 for keys never seen."""
        if len(self.keys) == 0 or len(keys) == 0:
            return np.full(len(keys), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return np.where(self.keys[pos] == keys, self.ids[pos], -1)

    def intern_sorted(self, keys: np.ndarray) -> np.ndarray:
        """Term ids of sorted distinct keys, giving new ids to new keys."""
        ids = self.lookup(keys)
        new = ids < 0
        if new.any():
            fresh = keys[new]
            fresh_ids = np.arange(len(self), len(self) + len(fresh), dtype=np.int64)
            self.df.extend(np.zeros(len(fresh), dtype=np.int64))
            at = np.searchsorted(self.keys, fresh)
            self.keys = np.insert(self.keys, at, fresh)
            self.ids = np.insert(self.ids, at, fresh_ids)
            ids[new] = fresh_ids
        return ids


@dataclass
class PostingSegment:
    """An immutable block of consecutive slots stored term-major (postings: local doc, tf)."""

    start: int
    size: int
    indptr: np.ndarray   # int64, one more than the number of terms known when it was built
    docs: np.ndarray     # uint16, local slot numbers (a segment holds at most 65,536 slots)
    tfs: np.ndarray      # uint8

    @property
    def n_terms(self) -> int:
        return len(self.indptr) - 1

    @classmethod
    def from_pairs(cls, start: int, size: int, docs: np.ndarray, term_ids: np.ndarray, tfs: np.ndarray,
                   n_terms: int) -> PostingSegment:
        """Build from (local slot, term id, tf) triples, slots ascending within each term."""
        columns = sp.coo_matrix((tfs, (docs, term_ids)), shape=(size, n_terms)).tocsc()
        columns.sort_indices()
        return cls(start=start, size=size, indptr=columns.indptr.astype(np.int64),
                   docs=columns.indices.astype(np.uint16), tfs=columns.data.astype(np.uint8, copy=False))

    @classmethod
    def from_rows(cls, start: int, rows: sp.csr_matrix) -> PostingSegment:
        """Build from a slot-major matrix (one row per slot, one column per term id)."""
        columns = rows.tocsc()
        columns.sort_indices()
        return cls(start=start, size=rows.shape[0], indptr=columns.indptr.astype(np.int64),
                   docs=columns.indices.astype(np.uint16), tfs=columns.data.astype(np.uint8, copy=False))

    def rows(self, n_terms: int) -> sp.csr_matrix:
        """The slot-major matrix of this segment, widened to n_terms columns."""
        indptr = np.concatenate((self.indptr, np.full(n_terms - self.n_terms, self.indptr[-1])))
        matrix = sp.csc_matrix((self.tfs, self.docs, indptr), shape=(self.size, n_terms))
        return matrix.tocsr()

    def postings(self, term_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(local slots, tfs, postings per term) for the given term ids."""
        known = term_ids < self.n_terms
        ids = np.where(known, term_ids, 0)
        starts = self.indptr[ids]
        lengths = np.where(known, self.indptr[ids + 1] - starts, 0)
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(0, dtype=np.uint16), np.zeros(0, dtype=np.uint8), lengths
        offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths) + np.arange(total)
        return self.docs[offsets], self.tfs[offsets], lengths

    def lookup_tfs(self, term_id: int, local_slots: np.ndarray) -> np.ndarray:
        """Term frequency of one term in each of the given local slots (sorted), 0 where absent."""
        if term_id >= self.n_terms or len(local_slots) == 0:
            return np.zeros(len(local_slots), dtype=np.uint8)
        docs = self.docs[self.indptr[term_id]:self.indptr[term_id + 1]]
        if len(docs) == 0:
            return np.zeros(len(local_slots), dtype=np.uint8)
        pos = np.minimum(np.searchsorted(docs, local_slots), len(docs) - 1)
        found = docs[pos] == local_slots
        tfs = self.tfs[self.indptr[term_id]:self.indptr[term_id + 1]][pos]
        return np.where(found, tfs, 0).astype(np.uint8)
