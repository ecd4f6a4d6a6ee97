"""The domain error family and the handlers that turn errors into pages or JSON."""
import logging

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, SecurityError

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A business rule refused the request; `message` is shown to the user, `fields` maps field names to messages."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationError(DomainError):
    """Input that does not satisfy the rules of a listing, account or form."""

    status = 422
    code = "validation_failed"


class NotFoundError(DomainError):
    """The object does not exist or is not visible to the actor."""

    status = 404
    code = "not_found"


class PermissionDeniedError(DomainError):
    """The actor may not do this."""

    status = 403
    code = "forbidden"


class InvalidStateError(DomainError):
    """The object is not in a state that allows this step."""

    status = 409
    code = "invalid_state"


class RuleViolationError(DomainError):
    """A policy or marketplace rule forbids this (e.g. a cap or a limit)."""

    status = 422
    code = "rule_violation"


STORAGE_FULL_RETRY_AFTER_SECONDS = 60
PG_DISK_FULL = "53100"


def storage_full_error(error: BaseException) -> BaseException | None:
    """The database's refusal of a write for full storage (SQLite SQLITE_FULL, which a `max_page_count` limit also
    raises; PostgreSQL disk_full) that `error` is or was raised while handling (SQLite may roll the whole transaction
    back, and rolling back to a savepoint then fails), or None."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        orig = getattr(error, "orig", None)
        if (getattr(orig, "sqlite_errorname", None) == "SQLITE_FULL"
                or getattr(orig, "sqlstate", None) == PG_DISK_FULL):
            return orig
        error = error.__cause__ or error.__context__
    return None


def is_storage_full(error: BaseException) -> bool:
    """Whether the database refused a write because its storage is full (see storage_full_error)."""
    return storage_full_error(error) is not None


def wants_json() -> bool:
    """Whether the current request should be answered in JSON."""
    return request.path.startswith("/api/")


def json_error(status: int, code: str, message: str, fields: dict | None = None):
    """The API's error body: {"error", "message", "fields"}."""
    response = jsonify({"error": code, "message": message, "fields": fields or {}})
    response.status_code = status
    return response


def csrf_failure_message() -> str:
    """Why a form was refused for its CSRF token, naming the usual cause: the session cookie did not come back."""
    if request.cookies.get(current_app.config["SESSION_COOKIE_NAME"]):
        return _("表单已过期或无法确认来自本站，请刷新页面后重试。")
    message = _("安全校验失败：浏览器没有发送会话 Cookie。请允许本站使用 Cookie，刷新页面后重试。")
    if current_app.config["SESSION_COOKIE_SECURE"] and not request.is_secure:
        message += " " + _("本站的 Cookie 只通过 HTTPS 发送，而此请求使用的是 HTTP：请改用 HTTPS 访问；"
                           "没有 TLS 的测试主机可由运维设置 INSECURE_COOKIES=1。")
    return message


def register_error_handlers(app: Flask) -> None:
    """Answer every error with a page or JSON that reveals no internals."""

    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError):
        if wants_json():
            response = json_error(error.status, error.code, error.message, error.fields)
        else:
            response = app.make_response(
                (render_template("errors/error.html", status=error.status, message=error.message), error.status))
        if getattr(error, "retry_after", None):
            response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.errorhandler(SecurityError)
    def handle_untrusted_host(_error: SecurityError):
        # Flask refused the Host header before routing, so no URL can be built: a short plain answer, no page.
        message = _("本站不接受此主机名的请求。")
        if wants_json():
            return json_error(400, "untrusted_host", message)
        return app.response_class(message, 400, mimetype="text/plain")

    @app.errorhandler(CSRFError)
    def handle_csrf_error(_error: CSRFError):
        message = csrf_failure_message()
        if wants_json():
            return json_error(400, "csrf_failed", message)
        return render_template("errors/error.html", status=400, message=message), 400

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        code = error.code or 500
        messages = {
            400: _("请求无法处理，请检查后重试。"),
            403: _("您没有权限访问此页面。"),
            404: _("页面不存在或您无权查看。"),
            405: _("不支持此请求方式。"),
            413: _("上传的内容过大。"),
            415: _("不支持的内容类型。"),
            429: _("操作过于频繁，请稍后再试。"),
        }
        message = messages.get(code, _("请求无法处理。"))
        if wants_json():
            response = json_error(code, (error.name or "error").lower().replace(" ", "_"), message)
        else:
            response = app.make_response(
                (render_template("errors/error.html", status=code, message=message), code)
            )
        original = error.get_response().headers
        for header in ("Retry-After", "Allow"):
            if original.get(header):
                response.headers[header] = original[header]
        return response

    @app.errorhandler(Exception)
    def handle_unexpected_error(error: Exception):
        request_id = getattr(g, "request_id", "-")
        log.exception("unhandled error, request_id=%s", request_id)
        message = _("服务器出现错误，请稍后重试。请求编号：%(rid)s", rid=request_id)
        if wants_json():
            return json_error(500, "server_error", message)
        return render_template("errors/error.html", status=500, message=message), 500

    @app.errorhandler(OperationalError)
    def handle_storage_full(error: OperationalError):
        # The unit of work has rolled the request back: nothing of it was saved and a retry may succeed later.
        refusal = storage_full_error(error)
        if refusal is None:
            return handle_unexpected_error(error)
        request_id = getattr(g, "request_id", "-")
        log.error("database storage is full, request_id=%s: %s", request_id, refusal)
        message = _("存储空间已满，本次操作没有保存，请稍后重试。请求编号：%(rid)s", rid=request_id)
        if wants_json():
            response = json_error(503, "storage_full", message)
        else:
            response = app.make_response((render_template("errors/error.html", status=503, message=message), 503))
        response.headers["Retry-After"] = str(STORAGE_FULL_RETRY_AFTER_SECONDS)
        return response
