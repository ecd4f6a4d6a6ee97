"""One text analysis serves search and the matcher: the same normalising, the same words, one jieba tokenizer."""
import gc

import jieba

from market import text
from market.listings import search
from market.matching import engine
from market.matching.engine import Listing, MatchIndex

SENTENCE = "一种用于ＳＯＦＣ电堆的钒液流储能电池隔膜及其制备方法"


def test_search_index_terms_are_the_matchers_words_without_stop_words():
    matcher_words = engine.words_of(SENTENCE)
    assert {"sofc", "储能", "电池", "隔膜"} <= set(matcher_words)
    assert search.segment(SENTENCE, for_index=True) == [w for w in matcher_words if w not in text.STOPWORDS]
    assert set(search.listing_terms(search.ListingText(SENTENCE, [], ""))) == set(matcher_words) - text.STOPWORDS


def test_learnt_domain_terms_are_added_for_the_matcher_and_change_no_search_term():
    index_terms, query = search.listing_terms(search.ListingText(SENTENCE, [], "")), search.query_words("钒液流储能电池隔膜")
    before = engine.words_of(SENTENCE, domain_terms=True)
    MatchIndex().add(Listing(id="a1", title="隔膜", keywords=("钒液流储能电池隔膜",)))  # the matcher learns a keyword
    assert engine.words_of(SENTENCE, domain_terms=True) == before + ["钒液流储能电池隔膜"]
    assert search.listing_terms(search.ListingText(SENTENCE, [], "")) == index_terms and search.query_words("钒液流储能电池隔膜") == query
    assert set(query) <= set(index_terms)


def test_search_and_the_matcher_share_one_jieba_tokenizer():
    search.query_words("氢能")
    index = MatchIndex()
    index.add(Listing(id="a1", title="质子交换膜燃料电池", keywords=("燃料电池",)))
    index.rank(Listing(id="d1", kind="demand", title="燃料电池"))
    private = [obj for obj in gc.get_objects() if isinstance(obj, jieba.Tokenizer) and obj is not jieba.dt]
    assert private == [text.tokenizer()]
    assert text.tokenizer().initialized
