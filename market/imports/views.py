"""Bulk import of achievements from Excel or CSV sheets: the upload page, the template and the error report."""
import io

from flask import Blueprint, abort, redirect, render_template, send_file, url_for
from flask_login import current_user, login_required
from werkzeug.exceptions import BadRequest

from market.accounts.models import Role
from market.errors import DomainError
from market.extensions import db
from market.formtools import apply_errors
from market.imports import runs, services, sheets
from market.imports.forms import AchievementImportForm, ImportReportForm
from market.security import roles_required
from market.unit_of_work import savepoint

bp = Blueprint("imports", __name__, url_prefix="/imports")
IMPORT_ROLES = (Role.RESEARCHER, Role.ENTERPRISE, Role.ADMIN)
RUN_PAGE_REFRESH_SECONDS = 2
"""How often a run's page reloads itself while the import job works."""


@bp.route("/achievements", methods=["GET", "POST"])
@login_required
@roles_required(*IMPORT_ROLES)
def achievements():
    """Upload a sheet of achievements; the import job checks and imports it, and the run's page shows the outcome."""
    form = AchievementImportForm()
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        try:
            with savepoint():
                run = runs.queue_import(db.session, current_user, filename=upload.filename or "",
                                        data=upload.stream.read(sheets.MAX_UPLOAD_BYTES + 1),
                                        submit=form.submit_for_review.data)
        except DomainError as error:
            apply_errors(form, error)
            status = error.status
        else:
            return redirect(url_for("imports.run", run_id=run.id))
    elif form.errors:
        status = 422
    return render_template("imports/achievements.html", form=form, columns=services.COLUMNS,
                           max_rows=services.MAX_DATA_ROWS), status


@bp.route("/runs/<int:run_id>")
@login_required
def run(run_id: int):
    """An upload's outcome: a progress bar while the job works (the page reloads itself), then the count imported
    or the row report."""
    view = runs.get_run_view(db.session, current_user, run_id)
    report_form = ImportReportForm(formdata=None, report=services.encode_report(view.problems)) \
        if view.problems else None
    return render_template("imports/run.html", view=view, report_form=report_form,
                           refresh_seconds=RUN_PAGE_REFRESH_SECONDS)


@bp.route("/achievements/template.<fmt>")
@login_required
def achievement_template(fmt: str):
    """The import template as .xlsx (with a sheet of allowed values) or .csv."""
    if fmt == "xlsx":
        data, mimetype = services.achievement_template_xlsx(db.session), sheets.XLSX_MIMETYPE
    elif fmt == "csv":
        data, mimetype = services.achievement_template_csv(), sheets.CSV_MIMETYPE
    else:
        abort(404)
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True,
                     download_name=f"科技成果批量导入模板.{fmt}")


@bp.route("/achievements/errors.csv", methods=["POST"])
@login_required
@roles_required(*IMPORT_ROLES)
def achievement_errors():
    """The error report of a refused sheet as CSV."""
    form = ImportReportForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        problems = services.decode_report(form.report.data)
    except DomainError as error:
        raise BadRequest() from error
    return send_file(io.BytesIO(services.error_report_csv(problems)), mimetype=sheets.CSV_MIMETYPE,
                     as_attachment=True, download_name="成果导入错误报告.csv")
