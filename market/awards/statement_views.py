"""The broker's statement of his rewards, exported from his money page as CSV or Excel (an admin names any broker)."""
import io

from flask import abort, request, send_file
from flask_login import current_user, login_required

from market.awards.statements import (
    broker_statement,
    statement_broker,
    statement_brokers,
    statement_csv,
    statement_workbook,
)
from market.awards.views import bp
from market.extensions import db
from market.imports.sheets import CSV_MIMETYPE, XLSX_MIMETYPE
from market.inputs import parse_id
from market.timeutil import today_in_china

STATEMENT_FORMATS = {"csv": (statement_csv, CSV_MIMETYPE), "xlsx": (statement_workbook, XLSX_MIMETYPE)}


@bp.route("/statement.<fmt>")
@login_required
def export_statement(fmt: str):
    """A broker's rewards with totals, deal and registration numbers and dates, as CSV or Excel."""
    if fmt not in STATEMENT_FORMATS:
        abort(404)
    named = request.args.get("broker")
    broker_id = parse_id(named) if named else None
    if named and broker_id is None:
        abort(404)
    broker = statement_broker(db.session, current_user, broker_id)
    write, mimetype = STATEMENT_FORMATS[fmt]
    name = f"经纪人对账单-{broker.id}-{today_in_china().isoformat()}.{fmt}"
    return send_file(io.BytesIO(write(broker_statement(db.session, broker))), mimetype=mimetype, as_attachment=True,
                     download_name=name)


@bp.app_template_global("statement_broker_choices")
def statement_broker_choices() -> list[tuple[int, str]]:
    """The brokers whose statement an admin may export (id, name and e-mail), for the award list's export form."""
    if not current_user.is_authenticated or not current_user.is_admin:
        return []
    return [(broker.id, f"{broker.name}（{broker.email}）") for broker in statement_brokers(db.session)]
