"""Highlighting escapes the text and the terms first, then marks every occurrence as the search matched it."""
import pytest

from market.templating import highlight


@pytest.mark.parametrize(("text", "terms", "shown"), [
    ("焦炉煤气制氢", ["制氢"], "焦炉煤气<mark>制氢</mark>"),
    ("<script>alert(1)</script>制氢", ["制氢"], "&lt;script&gt;alert(1)&lt;/script&gt;<mark>制氢</mark>"),
    ("<script>alert(1)</script>", ["script"], "&lt;<mark>script</mark>&gt;alert(1)&lt;/<mark>script</mark>&gt;"),
    ("制氢", ["<script>", "<b>制氢</b>"], "制氢"),
    ("A&B 与 \"Q\" <i>", ["amp", "quot", "lt", "34"], "A&amp;B 与 &#34;Q&#34; &lt;i&gt;"),
    ("Hydrogen fuel cells", ["hydrogen"], "<mark>Hydrogen</mark> fuel cells"),
    ("ＳｉＣ功率器件", ["sic"], "<mark>ＳｉＣ</mark>功率器件"),
    ("氢燃料电池", ["燃料", "燃料电池", "氢"], "<mark>氢</mark><mark>燃料电池</mark>"),
    ("不相关的文字", ["制氢"], "不相关的文字"),
    ("", ["制氢"], ""),
    ("制氢", [], "制氢"),
])
def test_text_is_escaped_and_terms_are_marked(text, terms, shown):
    assert str(highlight(text, terms)) == shown


def test_markup_passed_in_is_escaped_again():
    from markupsafe import Markup

    assert str(highlight(Markup("<b>制氢</b>"), ["制氢"])) == "&lt;b&gt;<mark>制氢</mark>&lt;/b&gt;"
