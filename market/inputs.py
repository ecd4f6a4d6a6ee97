"""Cleaning of listing input shared by forms and the JSON API: one set of rules, Chinese messages per field."""
import re
import unicodedata
from datetime import date

from flask_babel import gettext as _

from market.money import MAX_FEN

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_BIDI_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069]")
"""Embeddings, overrides and isolates: they reorder how the text around them is shown ("Trojan Source")."""
_NONCHARACTER = re.compile("[\ufdd0-\ufdef" + "".join(f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}"
                                                     for plane in range(17)) + "]")
"""Code points Unicode reserves as never being characters (U+FDD0…U+FDEF and the last two of every plane)."""
_IGNORABLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
                        "\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3"
                        "\U0001d173-\U0001d17a\U000e0000-\U000e0fff]")
"""Unicode's Default_Ignorable_Code_Point set (zero-width characters, joiners, fillers, variation selectors, tags) plus
the blank Braille pattern: characters that show nothing on their own."""
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
REPLACEMENT_CHARACTER = "\ufffd"
"""What a decoder leaves for bytes that were not UTF-8 (e.g. a lone surrogate sent as raw bytes)."""


class FieldErrors(dict):
    """Collects one message per field."""

    def add(self, name: str, message: str) -> None:
        """Keep the first message for a field."""
        self.setdefault(name, message)


def clean_text(errors: FieldErrors, name: str, value, *, max_len: int, required: bool = False,
               multiline: bool = True) -> str:
    """Trimmed text without control, text-direction or non-characters; records an error and returns '' when invalid.

    Text that shows nothing (only white space and zero-width or other format characters) counts as empty; format
    characters inside visible text are kept, so emoji sequences joined by U+200D and ZWNJ in Persian work."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.add(name, _("应为文本。"))
        return ""
    if REPLACEMENT_CHARACTER in value or any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        errors.add(name, _("包含无效字符。"))
        return ""
    value = unicodedata.normalize("NFC", value).replace("\r\n", "\n").strip()
    if _CONTROL.search(value) or (not multiline and any(ch in value for ch in "\r\n\t")):
        errors.add(name, _("包含不允许的控制字符。"))
        return ""
    if _BIDI_CONTROL.search(value):
        errors.add(name, _("不能包含改变文字方向的控制字符（如 U+202E）。"))
        return ""
    if _NONCHARACTER.search(value):
        errors.add(name, _("包含无效字符。"))
        return ""
    if value and not has_visible_content(value):
        if required:
            errors.add(name, _("请填写可见的文字，不能只有空白或不可见字符。"))
        return ""
    if required and not value:
        errors.add(name, _("此项必填。"))
    elif len(value) > max_len:
        errors.add(name, _("不能超过 %(n)s 个字符。", n=max_len))
        return ""
    return value


def clean_required_text(errors: FieldErrors, name: str, value, *, max_len: int, missing: str) -> str:
    """Required text (a reason, a note) whose empty value gets its own message, `missing`."""
    text = clean_text(errors, name, value, max_len=max_len, required=True)
    if name in errors and (value is None or isinstance(value, str) and not value.strip()):
        errors[name] = missing
    return text


def clean_required_date(errors: FieldErrors, name: str, value, *, low: date, high: date, malformed: str,
                        missing: str) -> date | None:
    """A required date within [low, high], with the caller's messages for a bad and for a missing value."""
    day = clean_date(errors, name, value, low=low, high=high)
    if name in errors:
        errors[name] = malformed
    elif day is None:
        errors.add(name, missing)
    return day


def has_visible_content(text: str) -> bool:
    """Whether the text shows anything: a character that is not white space, a format character or ignorable."""
    return any(not (ch.isspace() or unicodedata.category(ch) in ("Cf", "Zs", "Zl", "Zp", "Cc") or _IGNORABLE.match(ch))
               for ch in text)


def clean_terms(errors: FieldErrors, name: str, value, *, max_items: int, max_len: int) -> list[str]:
    """A list of short phrases (keywords, inventors); accepts a list or a comma/、/；-separated string."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = [part for part in re.split(r"[,，、;；\n]+", value)]
    if not isinstance(value, list):
        errors.add(name, _("应为列表。"))
        return []
    cleaned: list[str] = []
    for item in value:
        text = clean_text(errors, name, item, max_len=max_len, multiline=False)
        if text and text not in cleaned:
            cleaned.append(text)
    if len(cleaned) > max_items:
        errors.add(name, _("最多 %(n)s 项。", n=max_items))
    return cleaned[:max_items]


def clean_int(errors: FieldErrors, name: str, value, *, low: int, high: int, required: bool = False) -> int | None:
    """An integer within [low, high]; bools, floats and text that is not plain ASCII digits are errors."""
    if value is None or value == "":
        if required:
            errors.add(name, _("此项必填。"))
        return None
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        if not re.fullmatch(r"[0-9]{1,18}", text):
            errors.add(name, _("请输入整数。"))
            return None
        value = int(text)
    if isinstance(value, bool) or not isinstance(value, int):
        errors.add(name, _("请输入整数。"))
        return None
    if not low <= value <= high:
        errors.add(name, _("应在 %(low)s 到 %(high)s 之间。", low=low, high=high))
        return None
    return value


MAX_ID = 2**31 - 1
MAX_PAGE = 100_000
"""The highest page number a paged list accepts."""
"""Largest database id (ids are 32-bit integers in PostgreSQL)."""
_ASCII_ID = re.compile(r"[0-9]{1,10}")


def parse_id(value) -> int | None:
    """A database id (1 … MAX_ID) from an int or ASCII digits, else None: ids are never typed by people, so unlike
    amounts, full-width or other scripts' digits (which int() reads, making "１" an alias of 1) are not ids."""
    if isinstance(value, str) and _ASCII_ID.fullmatch(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        return None
    return value


def clean_id(errors: FieldErrors, name: str, value, *, message: str | None = None) -> int | None:
    """An optional database id; anything but an id in ASCII digits records an error."""
    if value is None or value == "":
        return None
    chosen = parse_id(value)
    if chosen is None:
        errors.add(name, message or _("不是有效的编号。"))
    return chosen


def clean_whole_number(errors: FieldErrors, name: str, value, *, low: int, high: int, invalid: str,
                       missing: str | None = None, empty: int | None = None) -> int | None:
    """A JSON or form integer (never text, a float or a bool) within [low, high], refused with `invalid`; an empty
    value is refused with `missing` when given, else it becomes `empty`."""
    if value is None or value == "":
        if missing:
            errors.add(name, missing)
        return empty
    if type(value) is not int or not low <= value <= high:
        errors.add(name, invalid)
        return None
    return value


def clean_fen(errors: FieldErrors, name: str, value) -> int | None:
    """An amount in integer fen (0 … 10^15) or None."""
    return clean_int(errors, name, value, low=0, high=MAX_FEN)


def clean_choice(errors: FieldErrors, name: str, value, enum_class, *, required: bool = True):
    """One value of a vocabulary enum."""
    if value in (None, ""):
        if required:
            errors.add(name, _("此项必填。"))
        return None
    try:
        return enum_class(value)
    except (ValueError, TypeError):
        errors.add(name, _("无效的选项。"))
        return None


def clean_choices(errors: FieldErrors, name: str, values, enum_class, *, required: bool = False) -> list:
    """Several values of a vocabulary enum, in vocabulary order."""
    if values in (None, ""):
        values = []
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list):
        errors.add(name, _("应为列表。"))
        return []
    chosen = set()
    for value in values:
        try:
            chosen.add(enum_class(value))
        except (ValueError, TypeError):
            errors.add(name, _("无效的选项。"))
            return []
    if required and not chosen:
        errors.add(name, _("请至少选择一项。"))
    return [member for member in enum_class if member in chosen]


def clean_date(errors: FieldErrors, name: str, value, *, low: date, high: date) -> date | None:
    """An ISO date within [low, high] or None."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        if not _ISO_DATE.fullmatch(text):
            errors.add(name, _("日期格式应为 YYYY-MM-DD。"))
            return None
        try:
            value = date.fromisoformat(text)
        except ValueError:
            errors.add(name, _("不是有效的日期。"))
            return None
    if not isinstance(value, date):
        errors.add(name, _("日期格式应为 YYYY-MM-DD。"))
        return None
    if not low <= value <= high:
        errors.add(name, _("日期超出允许范围。"))
        return None
    return value


def check_money_range(errors: FieldErrors, low_name: str, low: int | None, high_name: str, high: int | None) -> None:
    """The lower bound of a range may not exceed the upper one."""
    if low is not None and high is not None and low > high:
        errors.add(high_name, _("上限不能低于下限。"))
