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

# Words of technical writing that say nothing about a subject on their own: never shown as what two listings share.
GENERIC_WORDS = frozenset([
    "通过", "首次", "表面", "以上", "以下", "以内", "左右", "不低于", "不超过", "不少于", "大于", "小于", "达到", "超过",
    "提高", "提升", "降低", "减少", "增加", "实现", "完成", "开展", "形成", "满足", "解决", "需要", "希望", "要求",
    "能够", "可", "已", "已经", "目前", "现有", "传统", "国内", "国外", "国际", "行业", "领域", "企业", "单位", "项目",
    "产品", "问题", "方面", "情况", "过程", "效果", "水平", "能力", "系统", "研究", "开发", "研发", "应用", "利用",
    "使用", "基于", "相关", "主要", "关键", "重点", "有效", "显著", "稳定", "良好", "较高", "较低", "一体化", "合作",
    "成本", "时间", "方案", "支持", "建立", "覆盖", "低于", "高于", "同时", "以及", "并且", "而且", "由于", "因此", "其中", "每", "各", "约", "多", "少", "高", "低", "新", "小时",
    "分钟", "每年", "年", "月", "日", "天", "次", "个", "台", "套", "种", "项", "倍", "家", "例", "万元", "亿元", "元",
])
# Numbers, percentages and measurement units (mm, mAh, kW·h, MPa, ℃, 万吨 ...), alone or after a number.
_UNIT = (r"(?:[nμµum]?m|[ckm]m|km|[μµum]g|kg|mg|t|[kmgt]?w|[kmg]?wh|kw·?h|m?ah|[km]?v|[km]?a|[kmg]?pa|[kmg]?hz|"
         r"db|dpi|ppm|ppb|[mμµu]?l|ml|s|ms|min|h|rpm|°c?|℃|%|‰|nm|μm|m[23²³]|cm[23²³]|"
         r"毫米|厘米|微米|纳米|公里|千米|米|平方米|立方米|亩|吨|万吨|千克|公斤|克|毫克|毫升|升|千瓦|兆瓦|瓦|千伏|伏|安|"
         r"小时|分钟|秒|天|年|月|倍|度|元|万元|亿元|万|亿|台|套|个|件|次|例|人|家)")
_NUMBER_OR_UNIT = re.compile(rf"^(?:[\d.,:/~\-+×x]*\d[\d.,:/~\-+×x]*{_UNIT}?|{_UNIT})$")

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


def is_telling_term(word: str) -> bool:
    """Whether a word can show what two texts share: not a stop word, a generic word, a number or a unit."""
    word = normalise(word).strip()
    if not word or not _WORD_CHAR.search(word) or word in STOPWORDS or word in GENERIC_WORDS:
        return False
    if len(word) < 2:
        return False
    return _NUMBER_OR_UNIT.match(word) is None


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
