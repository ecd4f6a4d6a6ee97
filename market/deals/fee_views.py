"""The agency's service fee (佣金) on the deal page (set with the terms, marked paid by the paying party) and the
fees a broker sees on his money page."""
from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from market.accounts.models import Role
from market.deals import fees, recording
from market.deals import forms as deal_forms
from market.deals.labels import FEE_PAYER_LABELS
from market.deals.models import Deal
from market.deals.permissions import permissions
from market.deals.pipeline import get_deal
from market.deals.views import bp
from market.errors import DomainError
from market.extensions import db
from market.formtools import EmptyForm, options
from market.unit_of_work import savepoint


def _payer_choices() -> list:
    return options([("", _l("（不约定佣金）"))] + [(payer.value, label) for payer, label in FEE_PAYER_LABELS.items()])


@bp.app_template_global("deal_fee")
def deal_fee(deal: Deal) -> dict:
    """The fee as the deal page shows it, with the forms open to the signed-in user."""
    form = deal_forms.FeeForm(formdata=None, fee_rate=deal.fee_rate_bp, fee_fixed_fen=deal.fee_fixed_fen,
                              fee_payer=deal.fee_payer or "")
    form.fee_payer.choices = _payer_choices()
    due = fees.fee_due_fen(deal)
    return {"agreed": fees.has_fee(deal), "text": fees.fee_text(deal), "due_fen": due, "form": form,
            "may_edit": permissions(current_user, deal).edit_terms and deal.broker_id is not None,
            "may_mark": fees.may_mark_fee(current_user, deal),
            "paid_form": deal_forms.FeePaidForm(formdata=None, amount_fen=due, paid_on=recording.today().isoformat())}


@bp.app_template_global("broker_fee_rows")
def broker_fee_rows() -> list:
    """The signed-in broker's deals with an agreed fee (nothing for anyone else)."""
    if not current_user.is_authenticated or current_user.role != Role.BROKER:
        return []
    return fees.broker_fees(db.session, current_user)


def _fee_action(deal_id: int, form, call, done: str):
    """Run a fee action from a posted form; refusals are flashed with their field messages."""
    get_deal(db.session, current_user, deal_id)
    if not form.validate_on_submit():
        flash("；".join(message for messages in form.errors.values() for message in messages)
              or _("请求已过期，请刷新页面后重试。"), "error")
    else:
        try:
            with savepoint():
                call(form)
        except DomainError as error:
            flash("；".join(error.fields.values()) or error.message, "error")
        else:
            flash(done, "success")
    return redirect(url_for("deals.detail", deal_id=deal_id, _anchor="fee"))


@bp.route("/<int:deal_id>/fee", methods=["POST"])
@login_required
def set_fee(deal_id: int):
    """Set or clear the fee (a term: a change needs everyone's acceptance again)."""
    form = deal_forms.FeeForm()
    form.fee_payer.choices = _payer_choices()
    return _fee_action(deal_id, form, lambda form: fees.set_fee(
        db.session, current_user, deal_id, fee_rate_bp=form.fee_rate.data, fee_fixed_fen=form.fee_fixed_fen.data,
        fee_payer=form.fee_payer.data), _("佣金已保存。"))


@bp.route("/<int:deal_id>/fee/paid", methods=["POST"])
@login_required
def mark_fee_paid(deal_id: int):
    """The paying party marks the fee paid."""
    return _fee_action(deal_id, deal_forms.FeePaidForm(), lambda form: fees.mark_fee_paid(
        db.session, current_user, deal_id, amount_fen=form.amount_fen.data, paid_on=form.paid_on.data),
        _("佣金已标记为已支付。"))


@bp.route("/<int:deal_id>/fee/unpaid", methods=["POST"])
@login_required
def mark_fee_unpaid(deal_id: int):
    """The paying party takes the paid mark back."""
    return _fee_action(deal_id, EmptyForm(), lambda form: fees.mark_fee_unpaid(db.session, current_user, deal_id), _("佣金已改为未支付。"))
