"""Typo tolerance for Chinese queries: homophones (same pinyin) and one missing character, against the index
vocabulary, giving a "did you mean" query."""
import itertools
import re
from functools import lru_cache

from market.listings.ranking import Vocabulary
from market.text import normalise, tokenizer

_IDEOGRAPHS = re.compile(r"[\u3400-\u9fff]+")
LONGEST_WINDOW = 8
"""The longest stretch of a query compared with the vocabulary as one word."""
MAX_READINGS = 16
"""Pinyin spellings tried per stretch of characters (a character may have several readings)."""


@lru_cache(maxsize=20000)
def readings(character: str) -> tuple[str, ...]:
    """A character's pinyin readings without tones, most common first."""
    from pypinyin import Style, pinyin

    found = pinyin(character, style=Style.NORMAL, heteronym=True, errors="default")
    return tuple(dict.fromkeys(found[0])) if found and found[0] else (character,)


def spellings(word: str) -> list[tuple[str, ...]]:
    """The pinyin spellings of a word, one tuple of syllables per combination of its characters' readings."""
    options = [readings(character) for character in word]
    return list(itertools.islice(itertools.product(*options), MAX_READINGS))


def _ideographic_terms(vocabulary: Vocabulary, shortest: int):
    return (term for term in vocabulary.document_frequency if len(term) >= shortest and _IDEOGRAPHS.fullmatch(term))


def _homophone_index(vocabulary: Vocabulary) -> dict[tuple[str, ...], list[str]]:
    """Vocabulary words of two or more ideographs by each of their pinyin spellings (kept with the vocabulary)."""
    if "homophones" not in vocabulary.extra:
        index: dict[tuple[str, ...], list[str]] = {}
        for term in _ideographic_terms(vocabulary, 2):
            for spelling in spellings(term):
                index.setdefault(spelling, []).append(term)
        vocabulary.extra["homophones"] = index
    return vocabulary.extra["homophones"]


def _deletion_index(vocabulary: Vocabulary) -> dict[str, list[str]]:
    """Vocabulary words of three or more ideographs by each way of dropping one of their inner characters."""
    if "deletions" not in vocabulary.extra:
        index: dict[str, list[str]] = {}
        for term in _ideographic_terms(vocabulary, 3):
            for position in range(1, len(term) - 1):
                index.setdefault(term[:position] + term[position + 1:], []).append(term)
        vocabulary.extra["deletions"] = index
    return vocabulary.extra["deletions"]


def _differences(one: str, other: str) -> int:
    return sum(a != b for a, b in zip(one, other, strict=True))


def _candidates(window: str, vocabulary: Vocabulary) -> list[str]:
    """Vocabulary words the window may be a misspelling of: a homophone differing in at most half its characters,
    or the word with one character left out."""
    found = []
    homophones = _homophone_index(vocabulary)
    for spelling in spellings(window):
        found += [term for term in homophones.get(spelling, ())
                  if term != window and _differences(term, window) <= max(1, len(window) // 2)]
    found += _deletion_index(vocabulary).get(window, [])
    return found


def _suspect(window: str, vocabulary: Vocabulary) -> bool:
    """Whether a stretch of the query may be a typo: not indexed, and for two characters not a dictionary word."""
    if window in vocabulary:
        return False
    return len(window) > 2 or not tokenizer().FREQ.get(window)


def _known_spans(text: str, start: int, end: int, vocabulary: Vocabulary) -> list[tuple[int, int]]:
    """Where indexed words of two or more characters stand in a stretch of the query."""
    return [(left, right) for left in range(start, end) for right in range(left + 2, min(end, left + LONGEST_WINDOW) + 1)
            if text[left:right] in vocabulary]


def correct(query: str, vocabulary: Vocabulary) -> str | None:
    """The query with its likely typos replaced by indexed words (longest stretches first), or None if none is found.

    A stretch inside a correctly spelt indexed word is left alone."""
    text = normalise(query)
    replacements: list[tuple[int, int, str]] = []
    taken = [False] * len(text)
    for run in _IDEOGRAPHS.finditer(text):
        known = _known_spans(text, run.start(), run.end(), vocabulary)
        for size in range(min(LONGEST_WINDOW, len(run.group())), 1, -1):
            for start in range(run.start(), run.end() - size + 1):
                end = start + size
                if any(taken[start:end]) or any(left <= start and end <= right and right - left > size
                                                for left, right in known):
                    continue
                window = text[start:end]
                if not _suspect(window, vocabulary):
                    continue
                candidates = _candidates(window, vocabulary)
                if candidates:
                    best = max(candidates, key=lambda term: (vocabulary.document_frequency[term], term))
                    replacements.append((start, end, best))
                    taken[start:end] = [True] * size
    if not replacements:
        return None
    corrected = text
    for start, end, word in sorted(replacements, reverse=True):
        corrected = corrected[:start] + word + corrected[end:]
    return corrected
