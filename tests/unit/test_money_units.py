"""Amounts typed in a unit: a bare number is read in the form's unit (万元 or yuan), a written unit wins, exactly to the
fen; stored amounts shown back in the form's unit read back to the same fen."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market.money import (
    DECIMAL_PLACES,
    MAX_FEN,
    TOO_PRECISE,
    MoneyFormatError,
    MoneyUnit,
    amount_input_value,
    grouped_yuan_input_value,
    parse_amount,
    wan_input_value,
)

WAN = 1_000_000


@pytest.mark.parametrize(
    ("text", "unit", "fen"),
    [
        ("12", MoneyUnit.WAN, 12 * WAN),
        ("12", MoneyUnit.YUAN, 1200),
        ("12.5", MoneyUnit.WAN, 12_500_000),
        ("0.000001", MoneyUnit.WAN, 1),
        ("1,250,000.50", MoneyUnit.YUAN, 125_000_050),
        ("1,250", MoneyUnit.WAN, 1250 * WAN),
        ("３５００元", MoneyUnit.WAN, 350_000),  # a written unit wins over the form's
        ("3500 元", MoneyUnit.WAN, 350_000),
        ("50万", MoneyUnit.YUAN, 50 * WAN),
        ("50万元", MoneyUnit.YUAN, 50 * WAN),
        ("50 万元", MoneyUnit.YUAN, 50 * WAN),
        ("500000 yuan", MoneyUnit.WAN, 50 * WAN),
        ("500,000Yuan", MoneyUnit.WAN, 50 * WAN),
        ("500000 YUAN", MoneyUnit.YUAN, 50 * WAN),
        ("¥500,000", MoneyUnit.YUAN, 50 * WAN),
        ("¥500,000", MoneyUnit.WAN, 500_000 * WAN),  # the sign names the currency, not the unit
        ("￥12.5万", MoneyUnit.YUAN, 12_500_000),
        ("¥ 1,234.56 yuan", MoneyUnit.WAN, 123_456),
        ("10000000000000", MoneyUnit.YUAN, MAX_FEN),
        ("1000000000", MoneyUnit.WAN, MAX_FEN),
    ],
)
def test_a_bare_number_is_read_in_the_given_unit_and_a_written_unit_wins(text, unit, fen):
    assert parse_amount(text, unit) == fen


@pytest.mark.parametrize(
    ("text", "unit", "msgid"),
    [
        ("", MoneyUnit.YUAN, "请输入金额。"),
        ("  ", MoneyUnit.WAN, "请输入金额。"),
        ("1" * 41, MoneyUnit.YUAN, "金额太长，请检查后重新输入。"),
        ("-5", MoneyUnit.YUAN, "金额不能带正负号，请直接输入数字。"),
        ("¥-5", MoneyUnit.WAN, "金额不能带正负号，请直接输入数字。"),
        ("12.345", MoneyUnit.YUAN, "金额最多保留两位小数（精确到分）。"),
        ("12.345元", MoneyUnit.WAN, "金额最多保留两位小数（精确到分）。"),
        ("12.3456789", MoneyUnit.WAN, "以“万元”为单位时最多保留六位小数（精确到分）。"),
        ("12.3456789万", MoneyUnit.YUAN, "以“万元”为单位时最多保留六位小数（精确到分）。"),
        ("12.345 yuan", MoneyUnit.WAN, "金额最多保留两位小数（精确到分）。"),
        ("1,25,000", MoneyUnit.YUAN, None),
        ("1e5", MoneyUnit.YUAN, None),
        ("NaN", MoneyUnit.WAN, None),
        ("万", MoneyUnit.YUAN, None),
        ("yuan", MoneyUnit.WAN, None),
        ("12 yuan 万", MoneyUnit.WAN, None),
        ("12元万元", MoneyUnit.YUAN, None),
        ("10000000000000.01", MoneyUnit.YUAN, "金额超出允许的上限。"),
        ("1000000000.000001", MoneyUnit.WAN, "金额超出允许的上限。"),
    ],
)
def test_anything_else_is_refused_with_a_catalogue_message(text, unit, msgid):
    with pytest.raises(MoneyFormatError) as refused:
        parse_amount(text, unit)
    expected = msgid or "金额格式不正确：只能输入数字，可带一个小数点，千位分隔符“,”须按三位一组，例如 1234.56 或 1,234.56。"
    assert (refused.value.msgid, refused.value.message, str(refused.value)) == (expected, expected, expected)


def test_each_unit_refuses_what_is_finer_than_a_fen_with_its_own_message():
    assert DECIMAL_PLACES == {MoneyUnit.WAN: 6, MoneyUnit.YUAN: 2}
    assert set(TOO_PRECISE) == set(MoneyUnit) and len(set(TOO_PRECISE.values())) == len(MoneyUnit)


def test_a_non_string_is_refused():
    with pytest.raises(MoneyFormatError, match="请输入金额"):
        parse_amount(12, MoneyUnit.YUAN)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fen", "wan", "yuan"),
    [
        (0, "0", "0"),
        (1, "0.000001", "0.01"),
        (50, "0.00005", "0.50"),
        (123_450, "0.12345", "1,234.50"),
        (50 * WAN, "50", "500,000"),
        (12_500_000, "12.5", "125,000"),
        (125_000_050, "125.00005", "1,250,000.50"),
        (MAX_FEN, "1000000000", "10,000,000,000,000"),
    ],
)
def test_a_stored_amount_is_shown_back_in_the_form_unit(fen, wan, yuan):
    assert (wan_input_value(fen), grouped_yuan_input_value(fen)) == (wan, yuan)
    assert (amount_input_value(fen, MoneyUnit.WAN), amount_input_value(fen, MoneyUnit.YUAN)) == (wan, yuan)


def test_no_negative_amount_is_shown_in_a_form():
    with pytest.raises(ValueError):
        amount_input_value(-1, MoneyUnit.YUAN)


@settings(max_examples=300)
@given(st.integers(min_value=0, max_value=MAX_FEN), st.sampled_from(list(MoneyUnit)))
def test_a_shown_amount_reads_back_to_the_same_fen_in_its_unit(fen, unit):
    assert parse_amount(amount_input_value(fen, unit), unit) == fen


@settings(max_examples=300)
@given(st.integers(min_value=0, max_value=MAX_FEN), st.sampled_from(list(MoneyUnit)), st.sampled_from(list(MoneyUnit)))
def test_an_amount_with_its_unit_written_reads_the_same_whatever_the_form_unit(fen, written, form_unit):
    suffix = {MoneyUnit.WAN: "万元", MoneyUnit.YUAN: " yuan"}[written]
    assert parse_amount(amount_input_value(fen, written) + suffix, form_unit) == fen


@settings(max_examples=200)
@given(st.integers(min_value=0, max_value=MAX_FEN // WAN), st.integers(min_value=0, max_value=WAN - 1))
def test_wan_text_with_up_to_six_decimals_is_exact(whole, millionths):
    fen = whole * WAN + millionths
    if fen <= MAX_FEN:
        assert parse_amount(f"{whole}.{millionths:06d}", MoneyUnit.WAN) == fen
