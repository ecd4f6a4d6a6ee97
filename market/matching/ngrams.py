"""Character n-gram term keys for the matcher: ideograph unigrams and bigrams, letter and digit runs (vectorised)."""
from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from market.text import normalise

# Character classes used by the n-gram analyser.
OTHER, IDEOGRAPH, LETTER, DIGIT = 0, 1, 2, 3

# Term keys are unsigned 64-bit integers in three disjoint ranges, so no vocabulary of strings is needed:
#   ideograph unigram: the code point                         (< 2**21)
#   ideograph bigram:  2**42 + (first << 21) + second         (< 2**43)
#   letter/digit word: 2**43 + 43-bit hash of the characters  (< 2**44)
BIGRAM_BASE = np.uint64(1 << 42)
TOKEN_BASE = np.uint64(1 << 43)

_HASH_MULTIPLIER = 0x100000001B3
_LENGTH_MIX = 0x9E3779B97F4A7C15

_IDEOGRAPH_RANGES = (
    (0x3040, 0x30FF),  # kana: written without spaces, treated like ideographs
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xAC00, 0xD7AF),  # hangul syllables
    (0xF900, 0xFAFF),
    (0x20000, 0x323AF),
)


@lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray]:
    """(fold, classes): per code point, its normalised form when that is one character, and its class."""
    fold = np.arange(0x110000, dtype=np.uint32)
    classes = np.zeros(0x110000, dtype=np.uint8)
    for cp in range(0x10000):
        folded = normalise(chr(cp))
        if len(folded) == 1:
            fold[cp] = ord(folded)
    for cp in range(0x10000):
        ch = chr(cp)
        if ch.isdigit():
            classes[cp] = DIGIT
        elif ch.isalpha():
            classes[cp] = LETTER
    for low, high in _IDEOGRAPH_RANGES:
        classes[low:high + 1] = IDEOGRAPH
    return fold, classes


def _code_points(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Folded code points of the texts joined by a separator, and the text index of every position."""
    joined = "\x00".join(texts) + "\x00"
    cps = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    fold, _ = _tables()
    cps = fold[cps]
    lengths = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=len(texts))
    owner = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    return cps, owner


def _token_keys(cps: np.ndarray, classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start positions and keys of maximal letter runs and digit runs (a polynomial hash of each run)."""
    positions = np.flatnonzero((classes == LETTER) | (classes == DIGIT))
    if len(positions) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64)
    kinds = classes[positions]
    new_run = np.ones(len(positions), dtype=bool)
    new_run[1:] = (positions[1:] != positions[:-1] + 1) | (kinds[1:] != kinds[:-1])
    run_starts = np.flatnonzero(new_run)
    run_lengths = np.diff(np.append(run_starts, len(positions)))
    offset_in_run = np.arange(len(positions)) - np.repeat(run_starts, run_lengths)
    longest = int(run_lengths.max())
    with np.errstate(over="ignore"):
        powers = np.ones(longest, dtype=np.uint64)
        powers[1:] = np.cumprod(np.full(longest - 1, _HASH_MULTIPLIER, dtype=np.uint64))
        terms = cps[positions].astype(np.uint64) * powers[offset_in_run]
        hashed = np.add.reduceat(terms, run_starts, dtype=np.uint64)
        hashed ^= run_lengths.astype(np.uint64) * np.uint64(_LENGTH_MIX)
        hashed *= np.uint64(_HASH_MULTIPLIER)
    keys = TOKEN_BASE + (hashed >> np.uint64(64 - 43))
    return positions[run_starts], keys


def term_occurrences(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Every term occurrence of the texts: (text index, term key), unordered.

    Texts are folded like market.text.normalise() (NFKC, lower case) one code point at a time. Terms are
    ideograph unigrams and bigrams (bigrams never cross punctuation, spaces or other scripts)
    and whole runs of letters or of digits.
    """
    if not texts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64)
    cps, owner = _code_points(texts)
    _, table = _tables()
    classes = table[cps]
    ideo = classes == IDEOGRAPH
    uni_pos = np.flatnonzero(ideo)
    bi_pos = np.flatnonzero(ideo[:-1] & ideo[1:])
    wide = cps.astype(np.uint64)
    bi_keys = BIGRAM_BASE + (wide[bi_pos] << np.uint64(21)) + wide[bi_pos + 1]
    token_pos, token_keys = _token_keys(cps, classes)
    owners = np.concatenate((owner[uni_pos], owner[bi_pos], owner[token_pos]))
    keys = np.concatenate((wide[uni_pos], bi_keys, token_keys))
    return owners, keys


_OWNER_BITS = 20
MAX_TEXTS_PER_CALL = 1 << _OWNER_BITS


def term_counts(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct terms per text: (text index, term key, count), sorted by term key then text."""
    if len(texts) > MAX_TEXTS_PER_CALL:
        raise ValueError(f"at most {MAX_TEXTS_PER_CALL} texts per call")
    owners, keys = term_occurrences(texts)
    if len(keys) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, np.zeros(0, dtype=np.uint64), empty
    packed = (keys << np.uint64(_OWNER_BITS)) | owners.astype(np.uint64)
    packed.sort()
    boundary = np.empty(len(packed), dtype=bool)
    boundary[0] = True
    np.not_equal(packed[1:], packed[:-1], out=boundary[1:])
    starts = np.flatnonzero(boundary)
    counts = np.diff(np.append(starts, len(packed)))
    unique = packed[starts]
    owner_mask = np.uint64((1 << _OWNER_BITS) - 1)
    return (unique & owner_mask).astype(np.int64), unique >> np.uint64(_OWNER_BITS), counts
