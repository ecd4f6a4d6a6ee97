"""Requests carrying a NUL character in their address, query string or form field names are refused with 400.

PostgreSQL text cannot hold NUL, so such a value would fail as soon as a lookup uses it; form field values are left
to the forms (every form refuses NUL next to the field, see `formtools.MarketForm`) and JSON bodies to the API's
strict JSON layer, so that both answer in their usual way."""
from flask import Flask, request
from flask_babel import gettext as _

from market.errors import DomainError

NUL = "\x00"


class NulCharacterError(DomainError):
    """The request's address or parameters contain a NUL character."""

    status = 400
    code = "invalid_characters"


def holds_nul(value) -> bool:
    """Whether a text, or any text in a list, contains a NUL character."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, (list, tuple)):
        return any(holds_nul(item) for item in value)
    return False


def _shown(name: str) -> str:
    return name.replace(NUL, "\ufffd")


def refuse_nul_in_request() -> None:
    """Raise NulCharacterError when the path, a view argument, a query parameter or a form field name holds NUL."""
    message = _("请求的地址或参数中包含不允许的空字符（NUL）。")
    if NUL in request.path or holds_nul(list((request.view_args or {}).values())):
        raise NulCharacterError(message)
    bad_names = [name for name, values in request.args.lists() if NUL in name or holds_nul(values)]
    if request.method not in ("GET", "HEAD") and request.mimetype in ("application/x-www-form-urlencoded",
                                                                        "multipart/form-data"):
        bad_names += [name for name in list(request.form) + list(request.files) if NUL in name]
        bad_names += [name for name, upload in request.files.items(multi=True) if NUL in (upload.filename or "")]
    if bad_names:
        raise NulCharacterError(message, {_shown(name): _("包含不允许的空字符（NUL）。") for name in bad_names})


def register_request_guard(app: Flask) -> None:
    """Check every request before its view runs."""
    app.before_request(refuse_nul_in_request)
