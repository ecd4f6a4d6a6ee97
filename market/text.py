"""Text analysis shared by search and the matcher: normalising and jieba word segmentation with one domain dictionary."""
from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable

# Function words and boilerplate of technical writing: too common to search by.
STOPWORDS = frozenset(["的", "了", "和", "与", "及", "或", "在", "对", "等", "是", "为", "以", "于", "其", "中", "一种",
                       "一个", "我们", "进行", "通过", "采用", "可以", "具有", "用于", "技术", "方法"])

_WORD_CHAR = re.compile(r"\w")
_lock = threading.Lock()
_tokenizer = None
_domain_words: set[str] = set()
_pending_words: set[str] = set()


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
    """Teach the domain dictionary terms (field names, keywords) so that segmentation keeps them whole."""
    with _lock:
        for word in words:
            word = normalise(word).strip()
            if len(word) >= 2 and word not in _domain_words and not any(c.isspace() for c in word):
                _domain_words.add(word)
                _pending_words.add(word)


def _ready_tokenizer():
    """The tokenizer with every domain term added so far in its dictionary."""
    loaded = tokenizer()
    if _pending_words:
        with _lock:
            for word in sorted(_pending_words):
                if not loaded.FREQ.get(word):
                    loaded.add_word(word)
            _pending_words.clear()
    return loaded


def words_of(text: str | None, *, whole_words_only: bool = False) -> list[str]:
    """Normalised words of a text without punctuation and spaces.

    jieba's search mode (each word, then the dictionary words of two and three characters inside it) unless
    whole_words_only; no HMM guessing of unknown words, so a word cuts the same way wherever it stands.
    """
    text = normalise(text)
    if not text.strip():
        return []
    loaded = _ready_tokenizer()
    pieces = loaded.cut(text, HMM=False) if whole_words_only else loaded.cut_for_search(text, HMM=False)
    return [piece for piece in pieces if _WORD_CHAR.search(piece)]
