"""The audit log page for platform operators, and its CSV export of the filtered rows."""
import io
import json

from flask import Blueprint, render_template, request, send_file
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.audit import queries
from market.audit.forms import AuditFilterForm
from market.audit.labels import action_choices, action_label, field_label, object_choices, object_label
from market.audit.models import AuditEntry
from market.audit.permissions import can_read_audit_log
from market.errors import PermissionDeniedError
from market.extensions import db
from market.formtools import options
from market.imports.sheets import CSV_MIMETYPE, write_csv
from market.timeutil import utcnow

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")


@bp.before_request
@login_required
def require_reader():
    """Only operators read the audit log."""
    if not can_read_audit_log(current_user):
        raise PermissionDeniedError(_("只有平台管理员可以查看审计日志。"))


def _filters() -> tuple[AuditFilterForm, queries.AuditFilters]:
    """The filter form from the query string and the filters its valid fields make."""
    form = AuditFilterForm(request.args)
    form.action.choices = options([("", _("全部操作"))] + action_choices())
    form.object_type.choices = options([("", _("全部对象"))] + object_choices())
    return form, queries.AuditFilters(**form.valid_values())


@bp.route("")
def log():
    """The audit log, newest first, filtered and paginated."""
    form, filters = _filters()
    page = queries.list_entries(db.session, filters, request.args.get("page", 1, type=int))
    return render_template("audit/log.html", form=form, result=page, action_label=action_label,
                           object_label=object_label, field_label=field_label,
                           export_query=request.query_string.decode())


@bp.route("/export.csv")
def export():
    """The filtered entries as CSV (UTF-8 with BOM, times in ISO 8601 UTC)."""
    _form, filters = _filters()
    rows = [[_("编号"), _("时间（UTC）"), _("操作人编号"), _("操作人"), _("操作代码"), _("操作"), _("对象类型"),
             _("对象编号"), _("变更前"), _("变更后"), _("请求编号"), _("IP 地址")]]
    rows += [_export_row(entry) for entry in queries.export_entries(db.session, filters)]
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    return send_file(io.BytesIO(write_csv(rows)), mimetype=CSV_MIMETYPE, as_attachment=True,
                     download_name=f"审计日志-{stamp}.csv")


def _json(values: dict | None) -> str:
    return json.dumps(values, ensure_ascii=False, sort_keys=True) if values is not None else ""


def _export_row(entry: AuditEntry) -> list[object]:
    return [entry.id, entry.at.isoformat(timespec="seconds") + "Z", entry.actor_id if entry.actor_id else "",
            entry.actor_display, entry.action, action_label(entry.action), object_label(entry.object_type),
            entry.object_id if entry.object_id is not None else "", _json(entry.before), _json(entry.after),
            entry.request_id, entry.ip_address]
