"""Chinese full-text search over listings: jieba segmentation into a term table the database can query."""
import re
import threading
import unicodedata
from collections import Counter

import jieba

_tokenizer = jieba.Tokenizer()
_lock = threading.Lock()
_ready = False
_WORD = re.compile(r"[0-9a-z\u3400-\u9fff][0-9a-z\u3400-\u9fff.+#-]*")
STOPWORDS = frozenset(["的", "了", "和", "与", "及", "或", "在", "对", "等", "是", "为", "以", "于", "其", "中", "一种", "一个", "我们", "进行", "通过", "采用", "可以", "具有", "用于", "技术", "方法"])
MAX_TERM_LENGTH = 40
FIELD_WEIGHTS = {"title": 4, "keywords": 4, "body": 1}


def _ensure_ready() -> None:
    global _ready
    if not _ready:
        with _lock:
            if not _ready:
                import logging

                jieba.setLogLevel(logging.WARNING)
                _tokenizer.initialize()
                _ready = True


def add_words(words) -> None:
    """Teach the segmenter domain words (field names, keywords)."""
    _ensure_ready()
    for word in words:
        word = normalise(word)
        if 1 < len(word) <= MAX_TERM_LENGTH:
            _tokenizer.add_word(word, freq=2000)


def normalise(text: str) -> str:
    """NFKC (full-width to ASCII) and lower case."""
    return unicodedata.normalize("NFKC", text or "").lower()


def segment(text: str, *, for_index: bool = False) -> list[str]:
    """Terms of a text: jieba words (search mode for indexing), without punctuation and stop words."""
    _ensure_ready()
    text = normalise(text)
    pieces = _tokenizer.cut_for_search(text) if for_index else _tokenizer.cut(text)
    terms = []
    for piece in pieces:
        piece = piece.strip()
        if piece and _WORD.fullmatch(piece) and piece not in STOPWORDS and len(piece) <= MAX_TERM_LENGTH:
            terms.append(piece)
    return terms


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
