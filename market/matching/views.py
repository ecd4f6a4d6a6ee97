"""Matching pages: a listing's matches with explanations and feedback, the broker board, field suggestion (JSON)."""
from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.accounts.models import Role
from market.errors import ValidationError, json_error
from market.extensions import db, limiter
from market.listings.vocabulary import ListingKind
from market.matching import services
from market.matching.forms import MatchBoardFilterForm, MatchFeedbackForm, reason_groups
from market.matching.models import feedback_label
from market.safety import safe_next
from market.security import roles_required
from market.taxonomy import services as taxonomy
from market.taxonomy.wording import field_name, valley_name
from market.unit_of_work import savepoint

bp = Blueprint("matching", __name__)

LISTING_PAGE_TOP = 20
"""Matches on a listing's own matches page (the detail page's section shows 5)."""
DETAIL_SECTION_TOP = 5


@bp.app_template_global("listing_matches")
def listing_matches(kind: str, listing):
    """The matches section's data for templates/matching/_matches.html; None when the viewer may not see it."""
    return services.find_listing_matches(db.session, current_user, listing, top=DETAIL_SECTION_TOP)


@bp.app_template_global("match_reason_groups")
def match_reason_groups():
    """Feedback reasons grouped by verdict, for the feedback form's select."""
    return reason_groups()


@bp.app_template_global("match_comment_max_length")
def match_comment_max_length() -> int:
    """The longest feedback comment, for the feedback form's input."""
    return services.FEEDBACK_COMMENT_MAX_LENGTH


@bp.app_template_filter("match_feedback")
def match_feedback_label(value) -> str:
    """The label of a feedback verdict or reason."""
    return feedback_label(value)


@bp.route("/achievements/<int:achievement_id>/matches")
@login_required
def achievement_matches(achievement_id: int):
    """Demands that match an achievement, with the explanation of each."""
    found = services.list_listing_matches(db.session, current_user, ListingKind.ACHIEVEMENT, achievement_id,
                                          top=LISTING_PAGE_TOP)
    return render_template("matching/listing.html", found=found)


@bp.route("/demands/<int:demand_id>/matches")
@login_required
def demand_matches(demand_id: int):
    """Achievements that match a demand, with the explanation of each."""
    found = services.list_listing_matches(db.session, current_user, ListingKind.DEMAND, demand_id,
                                          top=LISTING_PAGE_TOP)
    return render_template("matching/listing.html", found=found)


@bp.route("/matching/feedback", methods=["POST"])
@login_required
def feedback():
    """Mark a pair relevant or not relevant (again, to change one's mind)."""
    form = MatchFeedbackForm()
    back = safe_next(form.next.data, url_for("listings.workspace"))
    if not form.validate_on_submit():
        messages = [message for errors in form.errors.values() for message in errors]
        flash(_("反馈未保存：%(m)s", m="；".join(str(m) for m in messages)), "error")
        return redirect(back)
    try:
        with savepoint():
            services.save_feedback(db.session, current_user, demand_id=form.demand_id.data,
                                   achievement_id=form.achievement_id.data, verdict=form.verdict.data,
                                   reason=form.reason.data, comment=form.comment.data or "")
    except ValidationError as error:
        flash(_("反馈未保存：%(m)s", m="；".join(error.fields.values()) or error.message), "error")
        return redirect(back)
    flash(_("已记录您的反馈：%(v)s。", v=feedback_label(form.verdict.data)), "success")
    return redirect(back)


@bp.route("/matches")
@login_required
@roles_required(Role.BROKER, Role.ADMIN)
def board():
    """The broker board: the strongest new matches across the platform, best first."""
    form = MatchBoardFilterForm(request.args)
    valleys = taxonomy.list_valleys(db.session)
    top_fields = taxonomy.list_top_fields(db.session)
    form.valley.choices = [("", _("全部谷区"))] + [(v.id, valley_name(v)) for v in valleys]
    form.field.choices = [("", _("全部领域"))] + [(f.code, field_name(f)) for f in top_fields]
    valid = form.validate()
    valley = form.valley.data if form.valley.data in {v.id for v in valleys} else None
    field = form.field.data if form.field.data in {f.code for f in top_fields} else None
    filters = services.BoardFilter(
        valley=valley, field=field,
        days=int(form.days.data) if valid and form.days.data in {str(d) for d in services.BOARD_DAYS} else services.BOARD_DEFAULT_DAYS,
        min_score=form.min_score.data if valid else None,
        include_dismissed=bool(form.dismissed.data), page=(form.page.data or 1) if valid else 1)
    result = services.list_board(db.session, current_user, filters)
    return render_template("matching/board.html", form=form, result=result, filters=filters), 200 if valid else 422


@bp.route("/matching/suggest-field")
@limiter.limit("120 per minute")
def suggest_field():
    """Likely fields for a listing being written: {"suggestions": [{code, name, path, confidence}]} (top 3)."""
    if not current_user.is_authenticated:
        return json_error(401, "unauthorized", _("请先登录。"))
    suggestions = services.suggest_fields(db.session, title=request.args.get("title", ""),
                                          text=request.args.get("text", ""),
                                          keywords=request.args.get("keywords", ""))
    return jsonify({"suggestions": [suggestion.to_json() for suggestion in suggestions]})
