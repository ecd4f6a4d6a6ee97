"""Declining a bid or a response with a reason from the list and an optional note, shown to the other side; the
same form and steps serve introductions."""
from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.deals import bids as deal_bids
from market.deals import responses as deal_responses
from market.deals.forms import DeclineForm
from market.deals.labels import decline_text
from market.deals.views import bp
from market.errors import InvalidStateError, RuleViolationError, ValidationError
from market.extensions import db
from market.unit_of_work import savepoint


@bp.app_template_global("decline_form")
def blank_decline_form() -> DeclineForm:
    """An empty decline form for a page that offers declining."""
    return DeclineForm(formdata=None)


@bp.app_template_filter("decline_reason")
def decline_reason_text(record) -> str:
    """A declined record's reason and note in words ("" when none was recorded)."""
    return decline_text(record.decline_reason, record.decline_note or "")


def decline_with_form(call, back: str, success: str):
    """Run a decline with the posted reason and note; a refusal comes back as a message on the page."""
    form = DeclineForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            flash(_("请求已过期，请刷新页面后重试。"), "error")
        else:
            messages = [str(message) for errors in form.errors.values() for message in errors]
            flash(_("未能拒绝：%(m)s", m="；".join(messages)), "error")
        return redirect(back)
    try:
        with savepoint():
            call(form.reason.data, form.note.data)
    except (ValidationError, RuleViolationError) as error:
        flash(_("未能拒绝：%(m)s", m="；".join(error.fields.values()) or error.message), "error")
        return redirect(back)
    except InvalidStateError as error:
        flash(error.message, "error")
        return redirect(back)
    flash(success, "success")
    return redirect(back)


@bp.route("/bids/<int:bid_id>/decline", methods=["POST"])
@login_required
def decline_bid(bid_id: int):
    """The owner declines the bid with a reason."""
    deal_bids.get_bid(db.session, current_user, bid_id)
    return decline_with_form(lambda reason, note: deal_bids.decline_bid(db.session, current_user, bid_id, reason=reason,
                                                                        note=note),
                             url_for("deals.bid", bid_id=bid_id), _("已拒绝该报价。"))


@bp.route("/responses/<int:response_id>/decline", methods=["POST"])
@login_required
def decline_response(response_id: int):
    """The demand's organisation declines the response with a reason."""
    deal_responses.get_response(db.session, current_user, response_id)
    return decline_with_form(lambda reason, note: deal_responses.decline_response(
        db.session, current_user, response_id, reason=reason, note=note),
        url_for("deals.response", response_id=response_id), _("已拒绝该响应。"))
