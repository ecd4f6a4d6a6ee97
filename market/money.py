"""Money in integer fen: strict parsing, formatting, rates and exact splitting (pure, no float)."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from enum import StrEnum

MAX_FEN = 10**15
"""The largest amount the product accepts anywhere: ¥10,000,000,000,000.00."""

FEN_PER_YUAN = 100
FEN_PER_WAN = 1_000_000
BASIS_POINTS = 10_000

_MAX_INPUT_CHARS = 40
_CURRENCY_SIGN = "¥"  # NFKC turns the full-width sign "￥" into this one
_NUMBER = re.compile(
    r"(?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<fraction>[0-9]+))?",
    re.ASCII,
)


def N_(message: str) -> str:
    """Mark a message for the catalogue without translating it here (the page translates it, see money_input)."""
    return message


class MoneyUnit(StrEnum):
    """The unit a bare number is read in, and written in when a form shows a stored amount."""

    WAN = "wan"
    YUAN = "yuan"


FEN_PER_UNIT = {MoneyUnit.WAN: FEN_PER_WAN, MoneyUnit.YUAN: FEN_PER_YUAN}
DECIMAL_PLACES = {MoneyUnit.WAN: 6, MoneyUnit.YUAN: 2}
"""How many decimals each unit allows: exactly down to the fen."""

_UNIT_SUFFIXES = (("万元", MoneyUnit.WAN), ("万", MoneyUnit.WAN), ("元", MoneyUnit.YUAN), ("yuan", MoneyUnit.YUAN))
"""Written units, longest first where one ends another; matched without regard to case."""

MISSING = N_("请输入金额。")
TOO_LONG = N_("金额太长，请检查后重新输入。")
SIGNED = N_("金额不能带正负号，请直接输入数字。")
NOT_A_NUMBER = N_("金额格式不正确：只能输入数字，可带一个小数点，千位分隔符“,”须按三位一组，例如 1234.56 或 1,234.56。")
TOO_PRECISE = {
    MoneyUnit.WAN: N_("以“万元”为单位时最多保留六位小数（精确到分）。"),
    MoneyUnit.YUAN: N_("金额最多保留两位小数（精确到分）。"),
}
ABOVE_MAX = N_("金额超出允许的上限。")
NOT_FEN = N_("金额必须是以“分”为单位的整数。")
NEGATIVE = N_("金额不能为负数。")


class MoneyFormatError(ValueError):
    """An amount the user typed or sent cannot be accepted: `msgid` is the catalogue's (Chinese) message and `params`
    its values, for the page to translate; `message` and str(error) are the Chinese text."""

    def __init__(self, msgid: str, **params: object) -> None:
        self.msgid = msgid
        self.params = params
        self.message = msgid % params if params else msgid
        super().__init__(self.message)


def parse_amount(text: str, bare_unit: MoneyUnit) -> int:
    """Parse a typed amount into fen, strictly: a bare number is in `bare_unit`; a written unit (元, 万, 万元, yuan)
    wins; a leading ¥ and correctly grouped thousands commas are allowed; exact to the fen, never through float."""
    if not isinstance(text, str):
        raise MoneyFormatError(MISSING)
    normalised = unicodedata.normalize("NFKC", text).strip()
    if not normalised:
        raise MoneyFormatError(MISSING)
    if len(normalised) > _MAX_INPUT_CHARS:
        raise MoneyFormatError(TOO_LONG)
    number, unit = _split_unit(normalised, bare_unit)
    if number.startswith(_CURRENCY_SIGN):
        number = number[len(_CURRENCY_SIGN):].lstrip()
    if number.startswith(("-", "−", "+")):
        raise MoneyFormatError(SIGNED)
    match = _NUMBER.fullmatch(number)
    if match is None:
        raise MoneyFormatError(NOT_A_NUMBER)
    whole = match.group("whole").replace(",", "")
    fraction = match.group("fraction") or ""
    places = DECIMAL_PLACES[unit]
    if len(fraction) > places:
        raise MoneyFormatError(TOO_PRECISE[unit])
    fen = int(whole) * FEN_PER_UNIT[unit] + int(fraction.ljust(places, "0") or "0")
    if fen > MAX_FEN:
        raise MoneyFormatError(ABOVE_MAX)
    return fen


def parse_yuan(text: str) -> int:
    """Parse an amount in yuan (optionally 元, 万 or 万元) into fen, strictly."""
    return parse_amount(text, MoneyUnit.YUAN)


def _split_unit(normalised: str, bare_unit: MoneyUnit) -> tuple[str, MoneyUnit]:
    """Return (number text, unit) for a normalised amount: its written unit, else the bare unit."""
    folded = normalised.casefold()
    for suffix, unit in _UNIT_SUFFIXES:
        if folded.endswith(suffix):
            return normalised[: -len(suffix)].rstrip(), unit
    return normalised, bare_unit


def require_fen(value: object) -> int:
    """Accept a JSON money value: a real int of fen in 0..MAX_FEN (no bool, no float, no string)."""
    if type(value) is not int:
        raise MoneyFormatError(NOT_FEN)
    if value < 0:
        raise MoneyFormatError(NEGATIVE)
    if value > MAX_FEN:
        raise MoneyFormatError(ABOVE_MAX)
    return value


def _grouped(number: int) -> str:
    """Write a non-negative int with ASCII thousands commas."""
    return f"{number:,}"


def format_yuan(fen: int) -> str:
    """Format fen as yuan with a sign, thousands commas and two decimals: ¥1,234.56 / -¥1.00."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), FEN_PER_YUAN)
    return f"{sign}¥{_grouped(yuan)}.{cents:02d}"


def format_wan(fen: int, max_places: int = 2) -> str:
    """Format fen compactly in 万元 (12.3万元), rounded half up to max_places, trailing zeros trimmed."""
    if not 0 <= max_places <= 6:
        raise ValueError("max_places must be between 0 and 6")
    sign = "-" if fen < 0 else ""
    step = FEN_PER_WAN // 10**max_places
    units = (abs(fen) + step // 2) // step if step > 1 else abs(fen)
    wan, fraction = divmod(units, 10**max_places)
    digits = f"{fraction:0{max_places}d}".rstrip("0") if max_places else ""
    text = _grouped(wan) + (f".{digits}" if digits else "")
    if text == "0":
        sign = ""
    return f"{sign}{text}万元"


def format_yuan_whole(fen: int) -> str:
    """Format fen as yuan without the ".00" of a whole amount (¥1,234,000 / ¥1,234.50), for English pages."""
    text = format_yuan(fen)
    return text.removesuffix(".00")


def yuan_input_value(fen: int) -> str:
    """Turn fen back into the plain yuan text a form field shows: 123450 → "1234.5", 123400 → "1234"."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), FEN_PER_YUAN)
    if cents == 0:
        return f"{sign}{yuan}"
    return f"{sign}{yuan}.{cents:02d}".rstrip("0")


def grouped_yuan_input_value(fen: int) -> str:
    """Fen as the yuan text an English form shows, grouped by thousands: 123456700 → "1,234,567", 123450 → "1,234.50"."""
    yuan, cents = divmod(fen, FEN_PER_YUAN)
    return f"{yuan:,}" + (f".{cents:02d}" if cents else "")


def wan_input_value(fen: int) -> str:
    """Fen as the plain 万元 number a form shows, exactly: 12300000 → "12.3", 1 → "0.000001"."""
    whole, rest = divmod(fen, FEN_PER_WAN)
    if not rest:
        return str(whole)
    return f"{whole}.{rest:06d}".rstrip("0")


def amount_input_value(fen: int, unit: MoneyUnit) -> str:
    """Fen as the text a form in `unit` shows (parse_amount reads it back to the same fen)."""
    if fen < 0:
        raise ValueError("a form shows no negative amount")
    return wan_input_value(fen) if unit is MoneyUnit.WAN else grouped_yuan_input_value(fen)


def rate_number(rate_bp: int) -> str:
    """Basis points as the plain percent number a form shows, exactly (1250 → "12.5", 5000 → "50")."""
    whole, hundredths = divmod(rate_bp, 100)
    return f"{whole}.{hundredths:02d}".rstrip("0").rstrip(".")


def format_rate(rate_bp: int) -> str:
    """Basis points as a percentage, exactly (1250 → "12.5%")."""
    return rate_number(rate_bp) + "%"


def apply_rate(amount_fen: int, rate_bp: int) -> int:
    """Apply a rate in basis points, rounding down to the fen: amount * rate // 10000."""
    if type(amount_fen) is not int or type(rate_bp) is not int:
        raise TypeError("amount_fen and rate_bp must be int")
    if amount_fen < 0 or rate_bp < 0:
        raise ValueError("amount_fen and rate_bp must not be negative")
    return amount_fen * rate_bp // BASIS_POINTS


def split_by_shares(total_fen: int, shares_bp: Sequence[int]) -> list[int]:
    """Split an amount by shares with the largest-remainder method; ties go to the earlier share."""
    if type(total_fen) is not int or total_fen < 0:
        raise ValueError("total_fen must be a non-negative int")
    if not shares_bp:
        raise ValueError("at least one share is needed")
    if any(type(share) is not int or share < 0 for share in shares_bp):
        raise ValueError("shares must be non-negative ints")
    weight = sum(shares_bp)
    if weight == 0:
        raise ValueError("shares must not all be zero")
    parts = [total_fen * share // weight for share in shares_bp]
    remainders = [total_fen * share % weight for share in shares_bp]
    leftover = total_fen - sum(parts)
    by_remainder = sorted(range(len(parts)), key=lambda index: (-remainders[index], index))
    for index in by_remainder[:leftover]:
        parts[index] += 1
    return parts
