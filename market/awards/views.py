"""Money pages: the admin's awards (approve, pay out, reverse), start-up grants and rule sets; each user's own money
with CSV and Excel export; the what-if calculator."""
import datetime as dt
import io
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import openpyxl
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from openpyxl.styles import Font

from market.accounts.guards import recent_login_required
from market.accounts.models import Role
from market.awards import queries, wording
from market.awards import services as award_services
from market.awards.forms import (
    CALCULATOR_EXAMPLES,
    CALCULATOR_FORMS,
    AwardActionForm,
    AwardBulkApproveForm,
    AwardFilterForm,
    AwardPayoutForm,
    AwardRecoveryForm,
    AwardReissueForm,
    AwardReverseForm,
    CalculatorScenario,
    RuleSetUploadForm,
    StartupGrantForm,
)
from market.awards.grants import record_startup_grant
from market.awards.inputs import REVERSAL_REASON_MAX_LENGTH, VOUCHER_REFERENCE_MAX_LENGTH
from market.awards.labels import (
    CAP_SCOPE_DESCRIPTIONS,
    RULE_STATUS_LABELS,
    award_status_label,
    cap_scope_name,
    inventor_share_finding_text,
)
from market.awards.models import AwardStatus
from market.awards.permissions import recipient_keys_of
from market.awards.reissue import reissue_award
from market.errors import DomainError, RuleViolationError, ValidationError
from market.extensions import db
from market.formtools import apply_errors, options
from market.imports.sheets import CSV_MIMETYPE, XLSX_MIMETYPE, write_csv
from market.money import format_rate, format_yuan
from market.policy.engine import find_rule, rules_in_force
from market.policy.rules import (
    OrganisationKind,
    RuleKind,
    RuleSetError,
    parse_rule_set_toml,
)
from market.policy.scenario import ScenarioError, parse_scenario, run_scenario
from market.policy.statutory import (
    INVENTOR_SHARE_KINDS,
    FindingLevel,
    check_proceeds_split,
    proceeds_split_limits_on,
)
from market.security import admin_required
from market.taxonomy.services import list_valleys
from market.taxonomy.wording import valley_name
from market.unit_of_work import savepoint
from market.uploads import send_stored_pdf

bp = Blueprint("awards", __name__, url_prefix="/money")

MAX_RULE_FILE_BYTES = 256 * 1024
MAX_BULK_APPROVALS = 200


@bp.context_processor
def money_helpers() -> dict:
    """Helpers for the money templates."""
    return {"status_label": award_status_label, "rule_status_labels": RULE_STATUS_LABELS,
            "cap_scope_labels": CAP_SCOPE_DESCRIPTIONS, "percent": format_rate}


@bp.app_template_filter("award_status")
def award_status_filter(status) -> str:
    """The label of an award status, on every page that lists awards."""
    return award_status_label(status)


@bp.app_template_filter("award_state")
def award_state_filter(award) -> str:
    """The status of an award in words, with why a held one waits."""
    return award_status_label(award.status, award.hold_reason)


@bp.app_template_filter("award_cap")
def award_cap_filter(scope) -> str:
    """The short name of the cap that bound an award."""
    return cap_scope_name(scope)


@bp.app_template_filter("payer_name")
def payer_name_filter(account) -> str:
    """Who pays an award or a rule's amounts, in words (the provincial budget, a city's, a transferor's proceeds)."""
    return wording.Names(db.session, [account or ""]).payer(account)


def _back_to_awards(next_url: str | None):
    """Redirect to the award list the action came from (only award-list URLs are followed)."""
    if next_url and next_url.startswith("/money/awards") and "//" not in next_url and "\\" not in next_url:
        return redirect(next_url)
    return redirect(url_for("awards.awards"))


# --- admin: awards -------------------------------------------------------------------------------------------------


@bp.route("/awards")
@login_required
@admin_required
def awards():
    """Every award, filtered, with totals per valley and year and the approve / payout / reverse actions."""
    form = AwardFilterForm(request.args)
    valleys = list_valleys(db.session)
    form.status.choices = options([("", _("全部状态"))] + [(s.value, award_status_label(s)) for s in AwardStatus])
    form.rule.choices = options([("", _("全部规则"))] + [(r, r) for r in queries.award_rule_ids(db.session)])
    form.valley.choices = options([("", _("全部谷区"))] + [(v.id, valley_name(v)) for v in valleys])
    form.year.choices = options([("", _("全部年度"))] + [(str(y), str(y)) for y in queries.award_years(db.session)])
    values = form.valid_values()
    filters = queries.AwardFilters(status=values.get("status", ""), rule=values.get("rule", ""),
                                   valley=values.get("valley", ""),
                                   year=int(values["year"]) if values.get("year") else None,
                                   recipient=values.get("recipient", ""))
    catalog = queries.load_rule_catalog(db.session)
    page = queries.list_awards(db.session, filters, request.args.get("page", 1, type=int), catalog=catalog)
    totals = queries.award_totals(db.session, filters)
    valley_names = {v.id: valley_name(v) for v in valleys}
    return render_template("awards/awards.html", form=form, page=page, totals=totals,
                           grand_total=queries.sum_totals(totals), valley_names=valley_names,
                           reason_max_length=REVERSAL_REASON_MAX_LENGTH,
                           voucher_max_length=VOUCHER_REFERENCE_MAX_LENGTH, payout_form=AwardPayoutForm(),
                           recovery_form=AwardRecoveryForm(),
                           reissue_form=AwardReissueForm(),
                           here=request.full_path.rstrip("?"))


def _award_action(service, award_id: int, done_message: str):
    """Run one award service from a posted action form and go back to the list."""
    form = AwardActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with savepoint():
            award = service(db.session, current_user, award_id)
    except RuleViolationError as error:
        flash(error.message, "error")
    else:
        flash(done_message % {"id": award.id, "amount": format_yuan(award.granted_fen)}, "success")
    return _back_to_awards(form.next.data)


@bp.route("/awards/<int:award_id>/reissue", methods=["POST"])
@login_required
@admin_required
@recent_login_required(back="awards.awards")
def reissue(award_id: int):
    """Issue the corrected amount of a reversed award as a new award (capped as on the original date)."""
    form = AwardReissueForm()
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        abort(400)
    try:
        with savepoint():
            award = reissue_award(db.session, current_user, award_id, amount_fen=form.amount_fen.data,
                                  reason=form.reason.data)
    except ValidationError as error:
        why = [str(message) for message in form.amount_fen.errors] or list(error.fields.values())
        flash(_("未重新发放：%(why)s", why="；".join(why) or error.message), "error")
    except RuleViolationError as error:
        flash(error.message, "error")
    else:
        flash(_("已按更正金额生成奖补 #%(id)s：核定 %(amount)s，状态：%(s)s。", id=award.id,
                amount=format_yuan(award.granted_fen), s=award_status_label(award.status, award.hold_reason)), "success")
    return _back_to_awards(form.next.data)


@bp.route("/awards/<int:award_id>/approve", methods=["POST"])
@login_required
@admin_required
def approve(award_id: int):
    """Approve a payable award (payable → approved)."""
    return _award_action(award_services.approve_award, award_id, _("奖补 #%(id)s 已审批，金额 %(amount)s。"))


@bp.route("/awards/<int:award_id>/pay", methods=["POST"])
@login_required
@admin_required
@recent_login_required(back="awards.awards")
def pay(award_id: int):
    """Record the payout of an approved award with its voucher (approved → paid)."""
    form = AwardPayoutForm()
    upload = form.voucher.data
    try:
        with savepoint():
            award = award_services.pay_award(
                db.session, current_user, award_id, voucher_reference=form.voucher_reference.data,
                paid_on=form.paid_on.data, filename=getattr(upload, "filename", None),
                stream=getattr(upload, "stream", None), upload_folder=current_app.config["UPLOAD_FOLDER"])
    except ValidationError as error:
        flash(_("未登记发放：%(why)s", why="；".join(error.fields.values()) or error.message), "error")
    except RuleViolationError as error:
        flash(error.message, "error")
    else:
        flash(_("奖补 #%(id)s 已登记发放，金额 %(amount)s，付款凭证号 %(ref)s。", id=award.id,
                amount=format_yuan(award.granted_fen), ref=award.voucher_reference), "success")
    return _back_to_awards(form.next.data)


@bp.route("/awards/<int:award_id>/voucher")
@login_required
def voucher(award_id: int):
    """A payout's voucher PDF, for admins and the award's recipient (its members for an organisation)."""
    award = award_services.get_voucher(db.session, current_user, award_id)
    return send_stored_pdf(award.voucher_stored_name, award.voucher_original_name)


@bp.route("/awards/<int:award_id>/recovery", methods=["POST"])
@login_required
@admin_required
@recent_login_required(back="awards.awards")
def recover(award_id: int):
    """Record that a reversed payout was recovered from its recipient (receivable → reversed)."""
    form = AwardRecoveryForm()
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        abort(400)
    try:
        with savepoint():
            award = award_services.record_recovery(db.session, current_user, award_id,
                                                   voucher_reference=form.voucher_reference.data,
                                                   recovered_on=form.recovered_on.data)
    except ValidationError as error:
        flash(_("未登记追回：%(why)s", why="；".join(error.fields.values()) or error.message), "error")
    except RuleViolationError as error:
        flash(error.message, "error")
    else:
        flash(_("奖补 #%(id)s 已登记追回，金额 %(amount)s，收款凭证号 %(ref)s。", id=award.id,
                amount=format_yuan(award.granted_fen), ref=award.recovery_reference), "success")
    return _back_to_awards(form.next.data)


@bp.route("/awards/<int:award_id>/reverse", methods=["POST"])
@login_required
@admin_required
def reverse(award_id: int):
    """Reverse an award with a written reason (a paid one becomes receivable from its recipient)."""
    form = AwardReverseForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        flash(_("冲正时请填写原因（不超过 %(n)s 字）。", n=REVERSAL_REASON_MAX_LENGTH), "error")
        return _back_to_awards(form.next.data)
    try:
        with savepoint():
            award = award_services.reverse_award(db.session, current_user, award_id, form.reason.data)
    except (RuleViolationError, ValidationError) as error:
        flash(error.message, "error")
    else:
        flash(_("奖补 #%(id)s 已冲正，账务已做反向记录。", id=award.id) if award.status == AwardStatus.REVERSED
              else _("奖补 #%(id)s 已冲正，已发放的 %(amount)s 记为应向受益方追回的款项。", id=award.id,
                     amount=format_yuan(award.granted_fen)), "success")
    return _back_to_awards(form.next.data)


@bp.route("/awards/approve", methods=["POST"])
@login_required
@admin_required
def approve_selected():
    """Approve every selected payable award (each on its own; failures are listed)."""
    form = AwardBulkApproveForm()
    if not form.validate_on_submit():
        abort(400)
    award_ids = list(dict.fromkeys(form.award_ids.data or []))[:MAX_BULK_APPROVALS]
    if not award_ids:
        flash(_("请先勾选要审批的奖补。"), "warning")
        return _back_to_awards(form.next.data)
    approved, refused = award_services.approve_awards(db.session, current_user, award_ids)
    failures = [f"#{award_id}：{message}" for award_id, message in refused]
    if approved:
        flash(_("已审批 %(n)s 条奖补，合计 %(amount)s。", n=len(approved),
                amount=format_yuan(sum(award.granted_fen for award in approved))), "success")
    if failures:
        flash(_("未审批：%(list)s", list="；".join(failures)), "error")
    return _back_to_awards(form.next.data)


# --- admin: start-up grants ----------------------------------------------------------------------------------------


@bp.route("/grants/new", methods=["GET", "POST"])
@login_required
@admin_required
def new_grant():
    """Record a start-up capital grant (R4); the engine caps it or refuses it."""
    form = StartupGrantForm()
    enterprises = queries.list_resident_enterprises(db.session)
    form.organisation_id.choices = options(
        [("", _("请选择企业"))]
        + [(org.id, _("%(name)s（%(valley)s，%(since)s 起入驻）", name=org.name, valley=valley,
                      since=org.resident_since.isoformat())) for org, valley in enterprises])
    rejection = ""
    if form.validate_on_submit():
        try:
            with savepoint():
                grant, awards = record_startup_grant(
                    db.session, current_user, form.organisation_id.data, granted_on=form.granted_on.data,
                    founders_paid_in_fen=form.founders_paid_in_fen.data, awarded_fen=form.awarded_fen.data)
        except RuleViolationError as error:
            rejection = _startup_rule_explanation(form.granted_on.data)
            apply_errors(form, error)
        except DomainError as error:
            apply_errors(form, error)
        else:
            flash(_grant_summary(awards), "success" if any(a.granted_fen for a in awards) else "warning")
            return redirect(url_for("awards.awards", recipient=grant.organisation.name))
    failed = request.method == "POST"
    return render_template("awards/grant_new.html", form=form, rejection=rejection, has_enterprises=bool(enterprises),
                           grants=queries.list_recent_grants(db.session)), 422 if failed else 200


def _startup_rule_explanation(day: dt.date) -> str:
    """The start-up capital rule in force on a day, explained as the reason for a refusal."""
    entry = next((e for e in rules_in_force(award_services.active_rule_sets(db.session), day)
                  if e.rule.kind is RuleKind.STARTUP_CAPITAL), None)
    return queries.explain_startup_rejection(entry.rule if entry else None)


def _grant_summary(awards) -> str:
    """What a recorded grant earned, in one sentence."""
    if not awards:
        return _("已登记，但该企业在支持日期不符合注册资本支持条件（未入驻谷区），未产生支持金额。")
    catalog = queries.load_rule_catalog(db.session)
    parts = []
    for award in awards:
        note = queries.explain_award(catalog, award)
        parts.append(_("规则 %(rule)s 核定 %(amount)s（%(status)s）%(note)s", rule=award.rule,
                       amount=format_yuan(award.granted_fen), status=award_status_label(award.status),
                       note=f"：{note}" if note else ""))
    return _("已登记注册资本支持。") + "；".join(parts)


# --- admin: rule sets ----------------------------------------------------------------------------------------------


@bp.route("/rules", methods=["GET", "POST"])
@login_required
@admin_required
def rules():
    """The stored rule sets with their versions and rules; upload a new rule-set file."""
    form = RuleSetUploadForm()
    problems: list[str] = []
    if form.validate_on_submit():
        problems = _install_upload(form.file.data)
        if not problems:
            return redirect(url_for("awards.rules"))
    status = 422 if request.method == "POST" else 200
    return render_template("awards/rules.html", form=form, problems=problems,
                           stored=queries.list_stored_rule_sets(db.session)), status


def _install_upload(upload) -> list[str]:
    """Check an uploaded rule-set file and install it; the problems found (empty when it was installed)."""
    name = PurePosixPath((upload.filename or "rules.toml").replace("\\", "/")).name[:80] or "rules.toml"
    data = upload.read(MAX_RULE_FILE_BYTES + 1)
    if len(data) > MAX_RULE_FILE_BYTES:
        return [_("规则集文件不能超过 256 KB。")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [_("规则集文件必须是 UTF-8 编码的文本（TOML）。")]
    try:
        candidate = parse_rule_set_toml(text, origin=name)
    except RuleSetError as error:
        return [_("规则集文件有误：%(error)s", error=str(error))]
    held_before = queries.count_awards(db.session, AwardStatus.HELD)
    known = {view.row.id for view in queries.list_stored_rule_sets(db.session)}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rules.toml"
        path.write_text(text, encoding="utf-8")
        try:
            with savepoint():
                stored = award_services.install_rule_set(db.session, path, current_user)
        except DomainError as error:
            return [error.message]
    if stored.id in known:
        flash(_("规则集 %(name)s 的内容与已存的副本相同，未做更改。", name=stored.name), "info")
        return []
    released = held_before - queries.count_awards(db.session, AwardStatus.HELD)
    flash(_("规则集 %(name)s 已加载（共 %(n)s 个版本）。", name=stored.name, n=len(candidate.versions)), "success")
    if released:
        flash(_("%(n)s 条暂缓发放的奖补因规则确认转为待审批。", n=released), "info")
    return []


# --- everyone: my money --------------------------------------------------------------------------------------------


def _my_overviews():
    """The logged-in user's own awards, and for researchers the rewards paid from their organisation's proceeds."""
    catalog = queries.load_rule_catalog(db.session)
    own = queries.list_user_money(db.session, current_user, catalog=catalog)
    from_proceeds = None
    if current_user.role == Role.RESEARCHER:
        from_proceeds = queries.list_rewards_paid_from_proceeds(db.session, current_user, catalog=catalog)
    return own, from_proceeds


@bp.route("/mine")
@login_required
def mine():
    """Rewards, commissions and subsidies of the logged-in user (and their organisation), per deal."""
    if current_user.is_admin:
        return redirect(url_for("awards.awards"))
    own, from_proceeds = _my_overviews()
    return render_template("awards/mine.html", own=own, from_proceeds=from_proceeds,
                           recipients=recipient_keys_of(current_user))


@bp.route("/mine/export.<fmt>")
@login_required
def export_mine(fmt: str):
    """The rows of /money/mine as CSV or Excel (yuan with two decimals and a fen column)."""
    if fmt not in ("csv", "xlsx") or current_user.is_admin:
        abort(404)
    own, from_proceeds = _my_overviews()
    rows = queries.money_export_rows(own)
    if from_proceeds is not None:
        rows += queries.money_export_rows(from_proceeds)[1:]
    stamp = dt.date.today().isoformat()
    if fmt == "csv":
        return send_file(io.BytesIO(write_csv(rows)), mimetype=CSV_MIMETYPE, as_attachment=True,
                         download_name=f"奖补明细-{stamp}.csv")
    return send_file(io.BytesIO(_money_workbook(rows)), mimetype=XLSX_MIMETYPE, as_attachment=True,
                     download_name=f"奖补明细-{stamp}.xlsx")


def _money_workbook(rows: list[list[object]]) -> bytes:
    """An .xlsx of the export rows: text stored as text (never a formula), yuan as numbers shown with two decimals."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = _("奖补明细")
    for row_index, values in enumerate(rows, start=1):
        for column_index, value in enumerate(values, start=1):
            cell = sheet.cell(row=row_index, column=column_index, value=value)
            if isinstance(value, str):
                cell.data_type = "s"
            elif row_index > 1 and column_index in (6, 7):
                cell.number_format = "#,##0.00"
            if row_index == 1:
                cell.font = Font(bold=True)
    for letter, width in zip("ABCDEFGHI", (36, 8, 12, 28, 12, 16, 16, 16, 60)):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- everyone: the what-if calculator ------------------------------------------------------------------------------


@dataclass
class CalculatedLine:
    """One award line of a calculated event, with labels and the explanation."""

    rule: str
    rule_title: str
    recipient: str
    computed_fen: int
    granted_fen: int
    status: str
    note: str


@dataclass
class CalculatedEvent:
    """One event of the calculated scenario with its award lines or its rejection."""

    label: str
    kind: str
    date: dt.date
    amount_fen: int | None
    lines: list[CalculatedLine] = field(default_factory=list)
    rejection: str = ""


@dataclass
class CalculatorResult:
    """The calculator's answer: per event, per party totals, statutory findings and the rules applied."""

    events: list[CalculatedEvent] = field(default_factory=list)
    totals: list[tuple[str, int]] = field(default_factory=list)
    findings: list[tuple[str, str]] = field(default_factory=list)
    rules: list = field(default_factory=list)
    error: str = ""


@bp.route("/calculator", defaults={"kind": "preorder"}, methods=["GET", "POST"])
@bp.route("/calculator/<kind>", methods=["GET", "POST"])
def calculator(kind: str):
    """What would the rules in force give? One scenario at a time; nothing is stored."""
    form_class = CALCULATOR_FORMS.get(kind)
    if form_class is None:
        abort(404)
    form = form_class(data=CALCULATOR_EXAMPLES[kind]) if request.method == "GET" else form_class()
    form.set_valleys(list_valleys(db.session))
    result = None
    if form.validate_on_submit():
        result = _calculate(form.to_scenario(), award_services.active_rule_sets(db.session))
    failed = request.method == "POST" and result is None
    return render_template("awards/calculator.html", form=form, kind=kind, result=result), 422 if failed else 200


def _event_label(info) -> str:
    """A scenario event in words."""
    amount = format_yuan(info.amount_fen or 0)
    if info.kind == "payment":
        return _("第 %(n)s 笔付款（回款） %(a)s", n=info.position, a=amount)
    if info.kind == "preorder_signed":
        return _("签订预约采购协议，金额 %(a)s", a=amount)
    if info.kind == "transfer_signed":
        return _("签订转化合同，金额 %(a)s", a=amount)
    return _("申请注册资本支持，拟支持 %(a)s", a=amount)


def _calculate(scenario: CalculatorScenario, rule_sets) -> CalculatorResult:
    """Run the scenario with the active rule sets and explain every line."""
    if not rule_sets:
        return CalculatorResult(error=_("平台尚未加载政策规则集，暂时无法测算。"))
    try:
        output = run_scenario(parse_scenario(json.dumps(scenario.document)), rule_sets, with_codes=True)
    except (ScenarioError, RuleSetError) as error:
        return CalculatorResult(error=_("测算失败：%(error)s", error=str(error)))
    order = {document["id"]: index for index, document in enumerate(scenario.document["events"])}
    events = {}
    for event_id, info in scenario.events.items():
        events[event_id] = CalculatedEvent(_event_label(info), info.kind, info.date, info.amount_fen)
    for line in output["awards"]:
        info = scenario.events[line["event"]]
        entry = find_rule(rule_sets, line["rule"], info.date)
        rule = entry.rule if entry else None
        note = ""
        if line["status"] == "held":
            note = wording.explain_held(rule, line["rule"], entry.version.version if entry else "")
        elif line["status"] == "waived":
            note = wording.explain_waived(line["waived_by"])
        capped = wording.explain_capped_by(rule, line["capped_by"], line["granted_fen"])
        events[line["event"]].lines.append(CalculatedLine(
            line["rule"], rule.title if rule else "", scenario.parties.get(line["recipient"], line["recipient"]),
            line["computed_fen"], line["granted_fen"], line["status"], "；".join(filter(None, [note, capped]))))
    names = wording.Names(None, known={**scenario.parties, "A": _("本协议"), "C": _("本合同")})
    for rejected in output["rejected"]:
        event = events.get(rejected["event"])
        if event is not None:
            event.rejection = _explain_rejection(names, rejected, rule_sets, event.date)
    ordered = sorted(events.items(), key=lambda item: (item[1].date, order[item[0]]))
    return CalculatorResult(
        events=[event for _, event in ordered],
        totals=[(scenario.parties.get(key, key), amount) for key, amount in output["totals"].items()],
        findings=_statutory_findings(scenario, rule_sets),
        rules=_rules_applied(rule_sets, scenario),
    )


def _explain_rejection(names: wording.Names, rejected: dict, rule_sets, day: dt.date) -> str:
    """An engine rejection in the user's language (a start-up grant's refusal explains the rule's limits)."""
    if rejected.get("code") == "grant_below_minimum":
        return _startup_rule_explanation_for(rule_sets, day)
    return wording.rejection_text(names, rejected.get("code"), rejected.get("params"))


def _startup_rule_explanation_for(rule_sets, day: dt.date) -> str:
    """The refusal of a start-up grant under the rule in force in the given rule sets."""
    entry = next((e for e in rules_in_force(rule_sets, day) if e.rule.kind is RuleKind.STARTUP_CAPITAL), None)
    return queries.explain_startup_rejection(entry.rule if entry else None)


def _statutory_findings(scenario: CalculatorScenario, rule_sets) -> list[tuple[str, str]]:
    """The proceeds-split check for the inventors' share (error under the floor, warning under the recommendation)."""
    if scenario.inventor_share_bp is None or scenario.transferor_kind is None:
        return []
    limits = proceeds_split_limits_on(rule_sets, scenario.signed_on)
    kind = OrganisationKind(scenario.transferor_kind)
    if limits is None or kind not in limits.applies_to_kinds | INVENTOR_SHARE_KINDS:
        return [("info", _("该转让方类型不适用法定收益分配比例核对。"))]
    findings = check_proceeds_split(limits, kind, scenario.inventor_share_bp)
    if not findings:
        return [("ok", _("成果完成人（团队）所得比例 %(share)s，符合法定要求（不低于 %(floor)s）。",
                         share=format_rate(scenario.inventor_share_bp), floor=format_rate(limits.inventor_floor_bp)))]
    return [("error" if finding.level is FindingLevel.ERROR else "warning",
             inventor_share_finding_text(finding.code, limits, scenario.inventor_share_bp) or finding.message)
            for finding in findings]


_KINDS_OF_SCENARIO = {
    "preorder_signed": (RuleKind.PREORDER_SUBSIDY,),
    "transfer_signed": (RuleKind.INTERMEDIARY_SHARE, RuleKind.CITY_AGENT_REWARD),
    "startup_grant": (RuleKind.STARTUP_CAPITAL,),
}


def _rules_applied(rule_sets, scenario: CalculatorScenario) -> list:
    """The rules of the scenario's kind in force on its signing (or grant) date, with their caps."""
    first = min(scenario.events.values(), key=lambda e: e.position)
    kinds = _KINDS_OF_SCENARIO.get(first.kind, ())
    try:
        entries = rules_in_force(rule_sets, scenario.signed_on)
    except RuleSetError:
        return []
    return [entry for entry in entries if entry.rule.kind in kinds]


from market.awards import (
    headroom_views,  # noqa: F401  registers the money outlook panel helpers on this blueprint; imported last
    notices,  # noqa: F401  tells award recipients of their awards; imported last
    statement_views,  # noqa: F401  registers the broker statement export on this blueprint; imported last
)
