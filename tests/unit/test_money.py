"""Money parsing, formatting, rates and splitting in integer fen."""
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market.money import (
    MAX_FEN,
    MoneyFormatError,
    apply_rate,
    format_wan,
    format_yuan,
    parse_yuan,
    require_fen,
    split_by_shares,
    yuan_input_value,
)


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("0", 0),
        ("12", 1200),
        ("12.5", 1250),
        ("12.05", 1205),
        ("  12.50  ", 1250),
        ("007", 700),
        ("１２３４．５６", 123456),  # full-width digits and point from a Chinese input method
        ("１２３４", 123400),
        ("12元", 1200),
        ("12.34 元", 1234),
        ("12.3万", 12300000),
        ("12.3万元", 12300000),
        ("１２万元", 12000000),
        ("1.234567万", 1234567),
        ("0.000001万", 1),
        ("1,234.56", 123456),
        ("1,234,567", 123456700),
        ("１，０００", 100000),  # full-width comma normalises to a correctly grouped ASCII comma
        ("¥1,234.56", 123456),
        ("￥12", 1200),
        ("10000000000000", MAX_FEN),
        ("1000000000万", MAX_FEN),
    ],
)
def test_parse_yuan_accepts_plain_amounts(text, fen):
    assert parse_yuan(text) == fen


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "NaN",
        "nan",
        "inf",
        "Infinity",
        "-inf",
        "1e3",
        "1E3",
        "-1",
        "+1",
        "－1",  # full-width minus
        "1_000",
        "1 000",
        "1,00",
        "1,0000",
        "12,34.5",
        ",100",
        "١٢",  # Arabic-Indic digits
        "१२",  # Devanagari digits
        "一二",
        "1.234",
        "1.2345678万",
        "1.",
        ".5",
        "1.2.3",
        "0x10",
        "万",
        "元",
        "12元元",
        "12美元",
        "10000000000000.01",
        "1000000000.000001万",
        "99999999999999999999",
        "9" * 5000,
        None,
    ],
)
def test_parse_yuan_rejects_anything_else(text):
    with pytest.raises(MoneyFormatError):
        parse_yuan(text)


def test_money_format_error_is_a_value_error_with_a_chinese_message():
    with pytest.raises(ValueError) as caught:
        parse_yuan("1.234")
    assert "两位小数" in str(caught.value)


def test_a_sign_gets_its_own_message():
    with pytest.raises(MoneyFormatError, match="正负号"):
        parse_yuan("-5")


def test_wan_amounts_with_more_than_six_decimals_say_so():
    with pytest.raises(MoneyFormatError, match="六位小数"):
        parse_yuan("1.2345678万")


@pytest.mark.parametrize("value", [0, 1, 123456, MAX_FEN])
def test_require_fen_accepts_ints_in_range(value):
    assert require_fen(value) == value


@pytest.mark.parametrize(
    "value",
    [True, False, 1.0, 0.5, float("nan"), float("inf"), "100", None, [1], Decimal(1), -1, MAX_FEN + 1],
)
def test_require_fen_rejects_everything_but_an_int_in_range(value):
    with pytest.raises(MoneyFormatError):
        require_fen(value)


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (0, "¥0.00"),
        (5, "¥0.05"),
        (123456, "¥1,234.56"),
        (100, "¥1.00"),
        (-100, "-¥1.00"),
        (-123456789, "-¥1,234,567.89"),
        (100000000000, "¥1,000,000,000.00"),
    ],
)
def test_format_yuan_writes_a_sign_commas_and_two_decimals(fen, text):
    assert format_yuan(fen) == text


@pytest.mark.parametrize(
    ("fen", "max_places", "text"),
    [
        (12300000, 2, "12.3万元"),
        (100000000, 2, "100万元"),
        (1000000, 2, "1万元"),
        (0, 2, "0万元"),
        (1234567, 2, "1.23万元"),
        (1235000, 2, "1.24万元"),  # half up
        (1234567, 6, "1.234567万元"),
        (1200000, 6, "1.2万元"),
        (-12300000, 2, "-12.3万元"),
        (-1, 2, "0万元"),
        (10000000000000, 2, "10,000,000万元"),
        (15000000, 0, "15万元"),
    ],
)
def test_format_wan_writes_a_compact_amount_in_wan(fen, max_places, text):
    assert format_wan(fen, max_places) == text


@pytest.mark.parametrize(
    ("fen", "text"),
    [(0, "0"), (5, "0.05"), (50, "0.5"), (123400, "1234"), (123450, "1234.5"), (123456, "1234.56")],
)
def test_yuan_input_value_shows_plain_text(fen, text):
    assert yuan_input_value(fen) == text


@settings(max_examples=200)
@given(st.integers(min_value=0, max_value=MAX_FEN))
def test_yuan_input_value_parses_back_to_the_same_fen(fen):
    assert parse_yuan(yuan_input_value(fen)) == fen


@settings(max_examples=200)
@given(st.integers(min_value=0, max_value=MAX_FEN))
def test_formatted_yuan_parses_back_to_the_same_fen(fen):
    assert parse_yuan(format_yuan(fen)) == fen


@pytest.mark.parametrize(
    ("amount", "rate_bp", "result"),
    [
        (1000, 1000, 100),
        (999, 1000, 99),  # rounded down
        (7000000000, 1000, 700000000),
        (600000000, 2000, 120000000),
        (1, 9999, 0),
        (0, 1000, 0),
        (12345, 0, 0),
    ],
)
def test_apply_rate_rounds_down(amount, rate_bp, result):
    assert apply_rate(amount, rate_bp) == result


@pytest.mark.parametrize(
    ("amount", "rate_bp", "error"),
    [(-1, 1000, ValueError), (100, -1, ValueError), (1.0, 1000, TypeError), (True, 1000, TypeError)],
)
def test_apply_rate_refuses_negative_or_non_int_input(amount, rate_bp, error):
    with pytest.raises(error):
        apply_rate(amount, rate_bp)


@pytest.mark.parametrize(
    ("total", "shares", "parts"),
    [
        (120000000, [5000, 3000, 2000], [60000000, 36000000, 24000000]),
        (80000000, [5000, 3000, 2000], [40000000, 24000000, 16000000]),
        (100, [3333, 3333, 3334], [33, 33, 34]),
        (1, [5000, 5000], [1, 0]),  # a tie goes to the earlier person
        (2, [3334, 3333, 3333], [1, 1, 0]),
        (10, [1, 1, 1], [4, 3, 3]),
        (7, [10000], [7]),
        (0, [5000, 5000], [0, 0]),
        (5, [0, 10000], [0, 5]),
    ],
)
def test_split_by_shares_uses_largest_remainders(total, shares, parts):
    assert split_by_shares(total, shares) == parts


@pytest.mark.parametrize(
    ("total", "shares"),
    [(100, []), (100, [0, 0]), (100, [5000, -1]), (-1, [10000]), (100, [1.5])],
)
def test_split_by_shares_refuses_bad_input(total, shares):
    with pytest.raises(ValueError):
        split_by_shares(total, shares)
