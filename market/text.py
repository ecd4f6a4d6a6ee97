"""Text analysis shared by search and the matcher: normalising, and jieba word segmentation with one tokenizer."""
from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator

# Function words and boilerplate of technical writing: too common to search by.
STOPWORDS = frozenset(["的", "了", "和", "与", "及", "或", "在", "对", "等", "是", "为", "以", "于", "其", "中", "一种",
                       "一个", "我们", "进行", "通过", "采用", "可以", "具有", "用于", "技术", "方法"])

_WORD_CHAR = re.compile(r"\w")
_lock = threading.Lock()
_tokenizer = None
# Domain terms (field names, keywords) are kept apart from jieba's dictionary, which never changes: a text
# cuts into the same words in every process whatever it has learnt, so search index rows and queries agree.
_domain_terms: set[str] = set()
_domain_prefixes: set[str] = set()


def normalise(text: str | None) -> str:
    """NFKC (full-width to half-width, compatibility forms) and lower case."""
    if not text:
        return ""
    return unicodedata.normalize("NFKC", text).lower()


def tokenizer():
    """The process's one jieba tokenizer (a private one, not jieba's global one), loaded on first use."""
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            import jieba

            logging.getLogger("jieba").setLevel(logging.WARNING)  # jieba logs at DEBUG after import
            loaded = jieba.Tokenizer()
            loaded.initialize()
            _tokenizer = loaded
        return _tokenizer


def add_words(words: Iterable[str]) -> None:
    """Learn domain terms (field names, keywords): words_of(..., domain_terms=True) reports them whole."""
    with _lock:
        for word in words:
            word = normalise(word).strip()
            if len(word) >= 2 and word not in _domain_terms and not any(c.isspace() for c in word):
                _domain_prefixes.update(word[:end] for end in range(1, len(word)))
                _domain_terms.add(word)


def words_of(text: str | None, *, whole_words_only: bool = False, domain_terms: bool = False) -> list[str]:
    """Normalised jieba words of a text (no HMM guessing) without punctuation and spaces; see _search_mode."""
    text = normalise(text)
    if not text.strip():
        return []
    loaded = tokenizer()
    whole = list(loaded.cut(text, HMM=False))
    pieces = whole if whole_words_only else list(_search_mode(whole, loaded.FREQ))
    if domain_terms:
        pieces += _domain_terms_spelt(whole)
    return [piece for piece in pieces if _WORD_CHAR.search(piece)]


def _search_mode(whole: list[str], dictionary: dict[str, int]) -> Iterator[str]:
    """jieba's search mode: before each word, the dictionary words of two and three characters inside it."""
    for word in whole:
        for size in (2, 3):
            if len(word) > size:
                for start in range(len(word) - size + 1):
                    if dictionary.get(word[start:start + size]):
                        yield word[start:start + size]
        yield word


def _domain_terms_spelt(whole: list[str]) -> list[str]:
    """Domain terms spelt by two or more consecutive words, in text order."""
    found = []
    for start in range(len(whole)):
        joined, end = whole[start], start + 1
        while end < len(whole) and joined in _domain_prefixes:
            joined += whole[end]
            end += 1
            if joined in _domain_terms:
                found.append(joined)
    return found
