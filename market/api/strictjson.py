"""Strict JSON request bodies: NaN, 1e400, duplicate keys, lone surrogates, NUL characters and deep nesting are
refused."""
import json
import re
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _

from market.errors import DomainError
from market.requestguard import NUL

JSON_MEDIA_TYPE = "application/json"
MAX_DEPTH = 20
"""Deepest nesting of arrays and objects a body may have; listing input needs three levels."""
MAX_NUMBER_DIGITS = 20
"""Longer integers fit no accepted value and only cost time to convert."""
MAX_EXPONENT = 308
"""Decimal numbers beyond the range of an IEEE double are refused (other JSON parsers turn them into Infinity)."""

_STRING_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_SURROGATE = re.compile("[\ud800-\udfff]")


class JsonBodyError(DomainError):
    """A request body the API does not accept; unlike other domain errors it carries its own status and code."""

    def __init__(self, status: int, code: str, message: str, fields: dict[str, str] | None = None):
        super().__init__(message, fields)
        self.status = status
        self.code = code


class _Refused:
    """Stands in for a number or constant the parser met and the API refuses; found again by the walk after parsing."""

    def __init__(self, message: str):
        self.message = message


class _DuplicateKey(Exception):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def read_json_body(request, max_bytes: int) -> dict:
    """The body of a Flask request as a JSON object, after the media type, size and strictness checks."""
    if request.mimetype != JSON_MEDIA_TYPE or request.mimetype_params.get("charset", "utf-8").lower() != "utf-8":
        raise JsonBodyError(415, "unsupported_media_type", _("请求体必须是 JSON（Content-Type: application/json）。"))
    too_large = JsonBodyError(413, "request_entity_too_large",
                              _("请求体不能超过 %(n)s 字节。", n=max_bytes))
    if request.content_length is not None and request.content_length > max_bytes:
        raise too_large
    raw = request.stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise too_large
    return parse_json_object(raw)


def parse_json_object(raw: bytes, *, max_depth: int = MAX_DEPTH) -> dict:
    """Parse UTF-8 bytes into a dict, refusing everything RFC 8259 leaves to chance; raises JsonBodyError."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise JsonBodyError(400, "malformed_json", _("请求体不是有效的 UTF-8 文本。")) from None
    if not text.strip():
        raise JsonBodyError(400, "malformed_json", _("请求体为空。"))
    if nesting_depth(text) > max_depth:
        raise JsonBodyError(422, "invalid_json", _("JSON 嵌套不能超过 %(n)s 层。", n=max_depth))
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys, parse_int=_bounded_int,
                           parse_float=_bounded_decimal, parse_constant=_refuse_constant)
    except _DuplicateKey as duplicate:
        raise JsonBodyError(422, "invalid_json", _("JSON 对象中有重复的键。"),
                            {_displayable(duplicate.key): _("重复的键。")}) from None
    except (ValueError, RecursionError):
        raise JsonBodyError(400, "malformed_json", _("请求体不是有效的 JSON。")) from None
    if not isinstance(value, dict):
        raise JsonBodyError(422, "invalid_json", _("请求体应为 JSON 对象。"))
    problems = {}
    for key, member in value.items():
        message = _problem(key) or _problem(member)
        if message:
            problems[_displayable(key)] = message
    if problems:
        raise JsonBodyError(422, "invalid_json", _("请求体中有无法接受的值。"), problems)
    return value


def nesting_depth(text: str) -> int:
    """How deeply arrays and objects nest in JSON text (brackets inside strings do not count)."""
    brackets = _NOT_BRACKET.sub("", _STRING_LITERAL.sub("", text))
    depth = deepest = 0
    for bracket in brackets:
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _displayable(key: str) -> str:
    """A key safe to echo in an error body: lone surrogates and NUL become U+FFFD."""
    return _SURROGATE.sub("\ufffd", key).replace(NUL, "\ufffd")


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    result = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _bounded_int(text: str):
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        return _Refused(_("数值超出允许范围。"))
    return int(text)


def _bounded_decimal(text: str):
    try:
        number = Decimal(text)
    except InvalidOperation:
        return _Refused(_("数值格式不正确。"))
    if number and abs(number.adjusted()) > MAX_EXPONENT:
        return _Refused(_("数值超出允许范围。"))
    return number


def _refuse_constant(name: str):
    return _Refused(_("不支持 NaN 或 Infinity。"))


def _problem(value) -> str | None:
    """The first refused number, lone surrogate or NUL inside a parsed value (nesting is already bounded)."""
    if isinstance(value, _Refused):
        return value.message
    if isinstance(value, str):
        if _SURROGATE.search(value):
            return _("包含无效字符（孤立的代理项）。")
        return _("包含不允许的空字符（NUL）。") if NUL in value else None
    if isinstance(value, list):
        return next(filter(None, map(_problem, value)), None)
    if isinstance(value, dict):
        return next(filter(None, (_problem(key) or _problem(member) for key, member in value.items())), None)
    return None
