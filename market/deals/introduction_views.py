"""Introduction pages: a broker proposes one from a match or a listing, both sides answer, the lists of the broker's
introductions and of those awaiting the user's organisation."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.accounts.models import Role
from market.achievements.models import Achievement
from market.deals import introductions as deal_introductions
from market.deals.decline_views import decline_with_form
from market.deals.forms import AcceptIntroductionForm, IntroductionForm
from market.deals.labels import decline_text, introduction_status_label
from market.deals.permissions import (
    awaiting_introduction,
    introduction_actions,
    introduction_sides,
    may_introduce,
)
from market.demands.models import Demand
from market.errors import InvalidStateError, NotFoundError, PermissionDeniedError, RuleViolationError, ValidationError
from market.extensions import db
from market.formtools import EmptyForm, apply_errors
from market.inputs import parse_id
from market.security import roles_required
from market.unit_of_work import savepoint

bp = Blueprint("introductions", __name__, url_prefix="/introductions")

BOXES = ("awaiting", "mine", "all")


@bp.app_template_filter("introduction_status")
def introduction_status_text(introduction) -> str:
    """An introduction's status in words, naming the side a pending one still waits for."""
    return introduction_status_label(introduction.status, awaiting_introduction(introduction))


@bp.app_template_global("may_introduce")
def current_user_may_introduce() -> bool:
    """Whether the signed-in user may propose introductions (an approved broker)."""
    return may_introduce(current_user)


@bp.app_template_global("introduction_waiting_on")
def introduction_waiting_on(introduction) -> str:
    """The sides a pending introduction still waits for, in words."""
    return "、".join(deal_introductions.side_label(side) for side in ("transferor", "transferee")
                    if side in awaiting_introduction(introduction))


@bp.route("")
@login_required
def index():
    """The introductions awaiting the user's organisation, those the user proposed, or all the user may see."""
    default = "mine" if current_user.role == Role.BROKER else "awaiting"
    box = request.args.get("box", default)
    if box not in BOXES:
        box = default
    found = deal_introductions.list_introductions(db.session, current_user, box=box)
    return render_template("deals/introductions.html", introductions=found, box=box, default_box=default)


def _listing(model, raw, message: str):
    """A published listing named by its id, or None when none is named."""
    if raw in (None, ""):
        return None
    number = raw if isinstance(raw, int) else parse_id(raw)
    listing = db.session.get(model, number) if number is not None else None
    if listing is None or not listing.is_public:
        raise NotFoundError(message)
    return listing


@bp.route("/new/<int:achievement_id>", methods=["GET", "POST"])
@login_required
@roles_required(Role.BROKER)
def new(achievement_id: int):
    """A broker introduces an achievement to a demand (from a match: ?demand_id=) or to an enterprise."""
    deal_introductions.require_introducer(current_user)
    form = IntroductionForm()
    achievement = _listing(Achievement, achievement_id, _("该成果不存在或尚未发布。"))
    source = request.form if request.method == "POST" else request.args
    demand = _listing(Demand, source.get("demand_id"), _("该需求不存在或尚未发布。"))
    if request.method == "POST" and form.validate_on_submit():
        try:
            with savepoint():
                introduction = deal_introductions.propose_introduction(
                    db.session, current_user, achievement_id=achievement.id,
                    demand_id=demand.id if demand else None,
                    organisation_id=None if demand else form.organisation_id.data, note=form.note.data)
        except (ValidationError, RuleViolationError, PermissionDeniedError) as error:
            apply_errors(form, error)
        except InvalidStateError as error:
            form.form_errors = [error.message]
        else:
            flash(_("引荐已发送，双方都接受后将创建成果转化项目。"), "success")
            return redirect(url_for("introductions.detail", introduction_id=introduction.id))
    enterprises = [] if demand else deal_introductions.introducible_enterprises(db.session)
    status = 422 if request.method == "POST" else 200
    return render_template("deals/introduction_new.html", form=form, achievement=achievement, demand=demand,
                           enterprises=enterprises), status


@bp.route("/<int:introduction_id>")
@login_required
def detail(introduction_id: int):
    """An introduction with both sides' answers and the actions open to the user."""
    introduction = deal_introductions.get_introduction(db.session, current_user, introduction_id)
    deal = introduction.deal
    return render_template("deals/introduction.html", introduction=introduction,
                           actions=introduction_actions(current_user, introduction),
                           my_sides=introduction_sides(current_user, introduction), action_form=EmptyForm(),
                           accept_form=AcceptIntroductionForm(formdata=None),
                           declined=decline_text(introduction.decline_reason, introduction.decline_note), deal=deal)


def _answer(introduction_id: int, call, success: str, form=None):
    deal_introductions.get_introduction(db.session, current_user, introduction_id)
    back = url_for("introductions.detail", introduction_id=introduction_id)
    form = form or EmptyForm()
    if not form.validate_on_submit():
        flash(_("请求已过期，请刷新页面后重试。"), "error")
        return redirect(back)
    try:
        with savepoint():
            introduction = call(form)
    except InvalidStateError as error:
        flash(error.message, "error")
        return redirect(back)
    flash(success, "success")
    if introduction.deal_id is not None:
        return redirect(url_for("deals.detail", deal_id=introduction.deal_id))
    return redirect(back)


@bp.route("/<int:introduction_id>/accept", methods=["POST"])
@login_required
def accept(introduction_id: int):
    """A side accepts (the owner of an achievement transferred outright ticking the new licence); once both have, the
    deal opens."""
    return _answer(introduction_id, lambda form: deal_introductions.accept_introduction(
        db.session, current_user, introduction_id, confirm_relicense=form.confirm_relicense.data),
        _("已接受引荐。"), AcceptIntroductionForm())


@bp.route("/<int:introduction_id>/decline", methods=["POST"])
@login_required
def decline(introduction_id: int):
    """A side declines with a reason."""
    deal_introductions.get_introduction(db.session, current_user, introduction_id)
    return decline_with_form(lambda reason, note: deal_introductions.decline_introduction(
        db.session, current_user, introduction_id, reason=reason, note=note),
        url_for("introductions.detail", introduction_id=introduction_id), _("已拒绝该引荐。"))


@bp.route("/<int:introduction_id>/withdraw", methods=["POST"])
@login_required
def withdraw(introduction_id: int):
    """The broker withdraws the introduction."""
    return _answer(introduction_id, lambda form: deal_introductions.withdraw_introduction(
        db.session, current_user, introduction_id), _("引荐已撤回。"))
