"""Money in integer fen: strict parsing, formatting, rates and exact splitting (pure, no float)."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

MAX_FEN = 10**15
"""The largest amount the product accepts anywhere: ¥10,000,000,000,000.00."""

FEN_PER_YUAN = 100
FEN_PER_WAN = 1_000_000
BASIS_POINTS = 10_000

_MAX_INPUT_CHARS = 40
_WAN_UNITS = ("万元", "万")
_YUAN_UNITS = ("元",)
_CURRENCY_SIGN = "¥"  # NFKC turns the full-width sign "￥" into this one
_NUMBER = re.compile(
    r"(?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<fraction>[0-9]+))?",
    re.ASCII,
)


class MoneyFormatError(ValueError):
    """An amount the user typed or sent cannot be accepted; str(error) is a Chinese message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_yuan(text: str) -> int:
    """Parse a form amount in yuan (optionally 元, 万 or 万元) into fen, strictly."""
    if not isinstance(text, str):
        raise MoneyFormatError("请输入金额。")
    normalised = unicodedata.normalize("NFKC", text).strip()
    if not normalised:
        raise MoneyFormatError("请输入金额。")
    if len(normalised) > _MAX_INPUT_CHARS:
        raise MoneyFormatError("金额太长，请检查后重新输入。")
    number, fen_per_unit, max_places = _split_unit(normalised)
    if number.startswith(_CURRENCY_SIGN):
        number = number[len(_CURRENCY_SIGN):].lstrip()
    if number.startswith(("-", "−", "+")):
        raise MoneyFormatError("金额不能带正负号，请直接输入数字。")
    match = _NUMBER.fullmatch(number)
    if match is None:
        raise MoneyFormatError(
            "金额格式不正确：只能输入数字，可带一个小数点，千位分隔符“,”须按三位一组，例如 1234.56 或 1,234.56。"
        )
    whole = match.group("whole").replace(",", "")
    fraction = match.group("fraction") or ""
    if len(fraction) > max_places:
        if fen_per_unit == FEN_PER_WAN:
            raise MoneyFormatError("以“万元”为单位时最多保留六位小数（精确到分）。")
        raise MoneyFormatError("金额最多保留两位小数（精确到分）。")
    fen = int(whole) * fen_per_unit + int(fraction.ljust(max_places, "0") or "0")
    if fen > MAX_FEN:
        raise MoneyFormatError("金额超出允许的上限。")
    return fen


def _split_unit(normalised: str) -> tuple[str, int, int]:
    """Return (number text, fen per unit, allowed decimal places) for a normalised amount."""
    for unit in _WAN_UNITS:
        if normalised.endswith(unit):
            return normalised[: -len(unit)].rstrip(), FEN_PER_WAN, 6
    for unit in _YUAN_UNITS:
        if normalised.endswith(unit):
            return normalised[: -len(unit)].rstrip(), FEN_PER_YUAN, 2
    return normalised, FEN_PER_YUAN, 2


def require_fen(value: object) -> int:
    """Accept a JSON money value: a real int of fen in 0..MAX_FEN (no bool, no float, no string)."""
    if type(value) is not int:
        raise MoneyFormatError("金额必须是以“分”为单位的整数。")
    if value < 0:
        raise MoneyFormatError("金额不能为负数。")
    if value > MAX_FEN:
        raise MoneyFormatError("金额超出允许的上限。")
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
