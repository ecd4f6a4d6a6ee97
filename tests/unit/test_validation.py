"""The clean_* helpers shared by forms and the API, and the redirect guard: one table of cases each."""
from datetime import date

import pytest

from market.inputs import (
    FieldErrors,
    check_money_range,
    clean_choice,
    clean_choices,
    clean_date,
    clean_fen,
    clean_int,
    clean_terms,
    clean_text,
    parse_id,
)
from market.listings.vocabulary import Stage, TransferMode
from market.money import MAX_FEN
from market.safety import safe_next

REQUIRED = "此项必填。"
CONTROL = "包含不允许的控制字符。"
INVALID = "包含无效字符。"
INTEGER = "请输入整数。"
DATE_FORMAT = "日期格式应为 YYYY-MM-DD。"
INVISIBLE = "请填写可见的文字，不能只有空白或不可见字符。"
BIDI = "不能包含改变文字方向的控制字符（如 U+202E）。"


@pytest.mark.parametrize(("value", "options", "cleaned"), [
    ("  焦炉煤气制氢  ", {}, "焦炉煤气制氢"),
    ("第一行\r\n第二行", {}, "第一行\n第二行"),
    ("带\t制表符", {}, "带\t制表符"),
    ("e\u0301", {}, "\u00e9"),
    ("<script>alert(1)</script>", {}, "<script>alert(1)</script>"),
    ("'; DROP TABLE achievements; --", {}, "'; DROP TABLE achievements; --"),
    ("１２３", {}, "１２３"),
    (None, {}, ""),
    ("", {}, ""),
    ("x" * 10, {"max_len": 10}, "x" * 10),
    ("👩\u200d🔬 氢能团队", {"required": True}, "👩\u200d🔬 氢能团队"),
    ("👩\u200d🔬", {"required": True}, "👩\u200d🔬"),
    ("❤\ufe0f", {"required": True}, "❤\ufe0f"),
    ("من\u200cها", {"required": True}, "من\u200cها"),
    ("阿拉伯语 \u200fعربي\u200f", {"required": True}, "阿拉伯语 \u200fعربي\u200f"),
    ("标题\u200b", {"required": True}, "标题\u200b"),
    ("\u200b\u200c\u200d", {}, ""),
    ("\ufeff \u3000", {}, ""),
])
def test_clean_text_keeps_valid_text(value, options, cleaned):
    errors = FieldErrors()
    assert clean_text(errors, "title", value, **{"max_len": 200, **options}) == cleaned
    assert errors == {}


@pytest.mark.parametrize(("value", "options", "message"), [
    ("", {"required": True}, REQUIRED),
    ("   \n\t ", {"required": True}, REQUIRED),
    ("\u200b", {"required": True}, INVISIBLE),
    ("\u200b\u200c\u200d\u2060\ufeff", {"required": True}, INVISIBLE),
    (" \u200b \u3000 \u2060 ", {"required": True}, INVISIBLE),
    ("\u3164\u115f\uffa0", {"required": True}, INVISIBLE),
    ("\u2800", {"required": True}, INVISIBLE),
    ("\U000e0041\U000e007f", {"required": True}, INVISIBLE),
    ("\u00ad\u034f\u180e", {"required": True}, INVISIBLE),
    ("\u200e\u200f", {"required": True}, INVISIBLE),
    ("报告\u202efdp.exe", {}, BIDI),
    ("\u202a左\u202c", {}, BIDI),
    ("\u202b右\u202c", {}, BIDI),
    ("\u202d覆盖", {}, BIDI),
    ("\u2066隔离\u2069", {}, BIDI),
    ("\u2067隔离", {}, BIDI),
    ("\u2068隔离", {}, BIDI),
    ("\u202e", {"required": True}, BIDI),
    ("标题\uffff", {}, INVALID),
    ("\ufffe", {"required": True}, INVALID),
    ("非字符\ufdd0", {}, INVALID),
    ("非字符\ufdef", {}, INVALID),
    ("补充平面\U0001ffff", {}, INVALID),
    ("最后一个\U0010fffe", {}, INVALID),
    ("x" * 11, {"max_len": 10}, "不能超过 10 个字符。"),
    ("空\x00字节", {}, CONTROL),
    ("响铃\x07", {}, CONTROL),
    ("删除\x7f", {}, CONTROL),
    ("C1\x85控制符", {}, CONTROL),
    ("两行\n标题", {"multiline": False}, CONTROL),
    ("回车\r标题", {"multiline": False}, CONTROL),
    ("制表\t标题", {"multiline": False}, CONTROL),
    ("孤立\ud800代理", {}, INVALID),
    ("\udfff", {}, INVALID),
    ("解码失败\ufffd", {}, INVALID),
    (42, {}, "应为文本。"),
    (["列表"], {}, "应为文本。"),
])
def test_clean_text_rejects_bad_text_with_a_message(value, options, message):
    errors = FieldErrors()
    assert clean_text(errors, "title", value, **{"max_len": 200, **options}) == ""
    assert errors == {"title": message}


def test_field_errors_keep_the_first_message_of_a_field():
    errors = FieldErrors()
    errors.add("title", "第一条")
    errors.add("title", "第二条")
    assert errors == {"title": "第一条"}


@pytest.mark.parametrize(("value", "cleaned"), [
    ("制氢，变压吸附、焦炉煤气；储能", ["制氢", "变压吸附", "焦炉煤气", "储能"]),
    ("a, b,,b , ", ["a", "b"]),
    (["氢能", " 氢能 ", "燃料电池"], ["氢能", "燃料电池"]),
    ("", []),
    (None, []),
])
def test_clean_terms_splits_trims_and_removes_duplicates(value, cleaned):
    errors = FieldErrors()
    assert clean_terms(errors, "keywords", value, max_items=10, max_len=30) == cleaned
    assert errors == {}


@pytest.mark.parametrize(("value", "message"), [
    ([str(n) for n in range(11)], "最多 10 项。"),
    (["x" * 31], "不能超过 30 个字符。"),
    (["正常", "带\x00控制符"], CONTROL),
    (["换行\n词"], CONTROL),
    ({"a": 1}, "应为列表。"),
    ([1, 2], "应为文本。"),
])
def test_clean_terms_rejects_bad_lists(value, message):
    errors = FieldErrors()
    clean_terms(errors, "keywords", value, max_items=10, max_len=30)
    assert errors == {"keywords": message}


@pytest.mark.parametrize(("value", "cleaned"), [
    (6, 6), ("6", 6), (" 7 ", 7), ("１", 1), ("９", 9), (None, None), ("", None),
])
def test_clean_int_accepts_ascii_and_full_width_digits(value, cleaned):
    errors = FieldErrors()
    assert clean_int(errors, "trl", value, low=1, high=9) == cleaned
    assert errors == {}


@pytest.mark.parametrize(("value", "message"), [
    ("٦", INTEGER),          # Arabic-Indic six
    ("६", INTEGER),          # Devanagari six
    ("1_0", INTEGER),
    ("1e1", INTEGER),
    ("-1", INTEGER),
    ("+5", INTEGER),
    ("5.0", INTEGER),
    ("NaN", INTEGER),
    ("Infinity", INTEGER),
    ("0x5", INTEGER),
    ("9" * 19, INTEGER),
    (5.0, INTEGER),
    (float("nan"), INTEGER),
    (True, INTEGER),
    ([5], INTEGER),
    (0, "应在 1 到 9 之间。"),
    (10, "应在 1 到 9 之间。"),
    ("10", "应在 1 到 9 之间。"),
])
def test_clean_int_rejects_everything_but_plain_integers_in_range(value, message):
    errors = FieldErrors()
    assert clean_int(errors, "trl", value, low=1, high=9) is None
    assert errors == {"trl": message}


def test_clean_int_reports_a_missing_required_value():
    errors = FieldErrors()
    assert clean_int(errors, "trl", "", low=1, high=9, required=True) is None
    assert errors == {"trl": REQUIRED}


@pytest.mark.parametrize(("value", "cleaned"), [
    (0, 0), (80_000_000, 80_000_000), (MAX_FEN, MAX_FEN), ("１２", 12), ("1200", 1200), (None, None),
])
def test_clean_fen_accepts_whole_fen_up_to_the_cap(value, cleaned):
    errors = FieldErrors()
    assert clean_fen(errors, "price_min_fen", value) == cleaned
    assert errors == {}


@pytest.mark.parametrize("value", [-1, MAX_FEN + 1, 10**30, 12.5, float("nan"), float("inf"), "١٢", "१२", "12.5",
                                   "-5", "1e3", "NaN", False])
def test_clean_fen_rejects_negative_huge_fractional_and_foreign_digit_amounts(value):
    errors = FieldErrors()
    assert clean_fen(errors, "price_min_fen", value) is None
    assert set(errors) == {"price_min_fen"}


@pytest.mark.parametrize(("value", "required", "cleaned", "errors_expected"), [
    ("pilot", True, Stage.PILOT, {}),
    (Stage.LAB, True, Stage.LAB, {}),
    ("", True, None, {"stage": REQUIRED}),
    (None, False, None, {}),
    ("PILOT", True, None, {"stage": "无效的选项。"}),
    ("pilot ", True, None, {"stage": "无效的选项。"}),
    (["pilot"], True, None, {"stage": "无效的选项。"}),
    ({"x": 1}, True, None, {"stage": "无效的选项。"}),
])
def test_clean_choice_takes_exactly_one_vocabulary_code(value, required, cleaned, errors_expected):
    errors = FieldErrors()
    assert clean_choice(errors, "stage", value, Stage, required=required) == cleaned
    assert errors == errors_expected


@pytest.mark.parametrize(("value", "cleaned"), [
    (["license_exclusive", "assignment", "assignment"], [TransferMode.ASSIGNMENT, TransferMode.LICENSE_EXCLUSIVE]),
    ("assignment", [TransferMode.ASSIGNMENT]),
    ([], []),
    (None, []),
])
def test_clean_choices_returns_distinct_codes_in_vocabulary_order(value, cleaned):
    errors = FieldErrors()
    assert clean_choices(errors, "modes", value, TransferMode) == cleaned
    assert errors == {}


@pytest.mark.parametrize(("value", "required", "message"), [
    (["assignment", "barter"], False, "无效的选项。"),
    ({"assignment": True}, False, "应为列表。"),
    ([], True, "请至少选择一项。"),
    ([["assignment"]], False, "无效的选项。"),
])
def test_clean_choices_rejects_unknown_codes_and_wrong_shapes(value, required, message):
    errors = FieldErrors()
    assert clean_choices(errors, "modes", value, TransferMode, required=required) == []
    assert errors == {"modes": message}


LOW, HIGH = date(2000, 1, 1), date(2036, 12, 31)


@pytest.mark.parametrize(("value", "cleaned"), [
    ("2027-06-30", date(2027, 6, 30)),
    (" 2027-06-30 ", date(2027, 6, 30)),
    ("２０２７-０６-３０", date(2027, 6, 30)),
    (date(2000, 1, 1), date(2000, 1, 1)),
    ("2036-12-31", date(2036, 12, 31)),
    ("", None),
    (None, None),
])
def test_clean_date_accepts_iso_dates_in_range(value, cleaned):
    errors = FieldErrors()
    assert clean_date(errors, "deadline", value, low=LOW, high=HIGH) == cleaned
    assert errors == {}


@pytest.mark.parametrize(("value", "message"), [
    ("2027-02-30", "不是有效的日期。"),
    ("2027-13-01", "不是有效的日期。"),
    ("2027/06/30", DATE_FORMAT),
    ("20270630", DATE_FORMAT),
    ("2027-W26-3", DATE_FORMAT),
    ("30.06.2027", DATE_FORMAT),
    ("٢٠٢٧-٠٦-٣٠", DATE_FORMAT),
    ("2027-06-30T00:00", DATE_FORMAT),
    ("明年六月", DATE_FORMAT),
    (20270630, DATE_FORMAT),
    ("1999-12-31", "日期超出允许范围。"),
    ("2037-01-01", "日期超出允许范围。"),
    ("9999-12-31", "日期超出允许范围。"),
    ("0001-01-01", "日期超出允许范围。"),
])
def test_clean_date_rejects_other_formats_and_dates_out_of_range(value, message):
    errors = FieldErrors()
    assert clean_date(errors, "deadline", value, low=LOW, high=HIGH) is None
    assert errors == {"deadline": message}


@pytest.mark.parametrize(("low", "high", "errors_expected"), [
    (100, 200, {}),
    (200, 200, {}),
    (None, 5, {}),
    (5, None, {}),
    (201, 200, {"price_max_fen": "上限不能低于下限。"}),
])
def test_money_range_upper_bound_may_not_be_below_the_lower(low, high, errors_expected):
    errors = FieldErrors()
    check_money_range(errors, "price_min_fen", low, "price_max_fen", high)
    assert errors == errors_expected


@pytest.mark.parametrize("target", ["/achievements", "/achievements/3?tab=files", "/workspace#mine", "/a/b/c"])
def test_safe_next_keeps_local_paths(target):
    assert safe_next(target, "/home") == target


@pytest.mark.parametrize("target", [
    None, "", "//evil.com", "///evil.com", "https://evil.com", "http://evil.com/", "/\\evil.com", "\\\\evil.com",
    "/\\/evil.com", "javascript:alert(1)", "evil.com", "/\t/evil.com", "/\n/evil.com", " //evil.com",
    "https:/evil.com", "/%09/evil.com\x00",
])
def test_safe_next_sends_foreign_or_odd_targets_to_the_fallback(target):
    assert safe_next(target, "/home") == "/home"


@pytest.mark.parametrize("text", ["ZL202110345678.2 发明专利", "ZL202110345678.2 Invention patent",
                                  "ZL202110345678.2 invention_patent"])
def test_ip_items_accept_chinese_and_english_labels_and_codes(app, text):
    from werkzeug.datastructures import MultiDict

    from market.achievements.forms import AchievementEditForm

    with app.test_request_context("/", headers={}):
        from flask import session

        session["lang"] = "en"
        form = AchievementEditForm(formdata=MultiDict({"ip_items": text}))
        form.ip_items.validate(form)
        assert form.ip_items.data == [{"number": "ZL202110345678.2", "kind": "invention_patent"}]


@pytest.mark.parametrize(("value", "parsed"), [
    ("1", 1), ("42", 42), (7, 7), ("2147483647", 2**31 - 1), (2**31 - 1, 2**31 - 1),
    ("１", None), ("４２", None), ("١", None), ("१", None), ("²", None), ("𝟏", None),
    ("0", None), (0, None), (-1, None), ("-1", None), ("+1", None), (" 1", None), ("1 ", None), ("1_0", None),
    ("2147483648", None), (2**31, None), ("99999999999", None), (True, None), (1.0, None), ("", None), (None, None),
    ("1\x00", None),
])
def test_parse_id_takes_only_ascii_digits_in_the_id_range(value, parsed):
    assert parse_id(value) == parsed
