"""Deal pages: bids and counter-offers, responses to demands, the deal page with its pipeline, the broker board and
the public notice."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from market.accounts.models import Role
from market.achievements.models import Achievement
from market.awards import queries as award_queries
from market.confirmations.forms import DecisionForm, evidence_upload
from market.deals import achievement_rights, policy_limits
from market.deals import bids as deal_bids
from market.deals import board as deal_board
from market.deals import brokers as deal_brokers
from market.deals import forms as deal_forms
from market.deals import payments as payment_services
from market.deals import pipeline as deal_pipeline
from market.deals import recording as deal_recording
from market.deals import responses as deal_responses
from market.deals import terms as deal_terms
from market.deals.bids import get_bid, place_bid
from market.deals.board import BoardFilters, deal_awards, deal_payments, deal_timeline, listing_panel, my_deals
from market.deals.intermediaries import (
    agency_organisations,
    broker_users,
    record_intermediary_exception,
    set_intermediaries,
)
from market.deals.labels import (
    BID_STATUS_LABELS,
    BROKER_REQUEST_KIND_LABELS,
    EVENT_LABELS,
    RESPONSE_STATUS_LABELS,
    STAGE_LABELS,
)
from market.deals.models import PIPELINE, BidSide, BidStatus, Deal, ResponseStatus
from market.deals.permissions import (
    bid_side,
    broker_request_actions,
    can_view_deal,
    deal_roles,
    may_see_broker_request,
    may_see_payment_evidence,
    permissions,
    response_side,
)
from market.deals.pipeline import (
    advance_deal,
    complete_deal,
    get_deal,
    get_public_notice,
    list_public_notices,
    notice_is_public,
    register_deal,
    terminate_deal,
)
from market.deals.responses import get_response, respond_to_demand, respondable_achievements
from market.deals.signing import record_signing
from market.demands.models import Demand
from market.errors import (
    InvalidStateError,
    NotFoundError,
    RuleViolationError,
    ValidationError,
)
from market.extensions import db
from market.formtools import EmptyForm, apply_errors, options, submit_small_form
from market.security import roles_required
from market.taxonomy import services as taxonomy
from market.unit_of_work import savepoint

bp = Blueprint("deals", __name__, url_prefix="/deals")

FORM_ERRORS = (ValidationError, RuleViolationError)
"""Errors shown next to the form's fields (422); other domain errors become their own pages."""


@bp.app_template_filter("deal_stage")
def deal_stage_label(stage) -> str:
    """The Chinese name of a deal stage."""
    return str(STAGE_LABELS.get(stage, stage))


@bp.app_template_filter("deal_event")
def deal_event_label(action) -> str:
    """The name of a timeline entry."""
    return str(EVENT_LABELS.get(action, action))


@bp.app_template_filter("bid_status")
def bid_status_label(status) -> str:
    """The name of a bid status."""
    return str(BID_STATUS_LABELS.get(status, status))


@bp.app_template_filter("response_status")
def response_status_label(status) -> str:
    """The name of a response status."""
    return str(RESPONSE_STATUS_LABELS.get(status, status))


bp.add_app_template_global(lambda achievement: achievement_rights.outright_transfer(db.session, achievement),
                           "outright_transfer")


@bp.app_template_global("deal_panel")
def deal_panel(kind: str, listing):
    """The bid/response panel data for templates/deals/_listing_panel.html."""
    return listing_panel(db.session, current_user, kind, listing)


def _is_form_failure(form) -> bool:
    return bool(form.errors or getattr(form, "form_errors", None))


# ---------------------------------------------------------------- lists, board, notices


@bp.route("")
@login_required
def index():
    """The deals, bids and responses that concern the user."""
    return render_template("deals/index.html", mine=my_deals(db.session, current_user),
                           sees_board=current_user.is_admin or current_user.role == Role.BROKER)


def _board_filters() -> BoardFilters:
    """Board filters from the query string; unknown values are ignored."""
    filters = BoardFilters()
    valley = request.args.get("valley", "")
    if valley and valley in {v.id for v in taxonomy.list_valleys(db.session)}:
        filters.valley = valley
    field = request.args.get("field", "")
    if field and field in {f.code for f in taxonomy.list_top_fields(db.session)}:
        filters.field = field
    broker = request.args.get("broker", "")
    if broker == "none":
        filters.broker = "none"
    elif broker.isascii() and broker.isdigit() and len(broker) < 18:
        filters.broker = int(broker)
    return filters


@bp.route("/board")
@login_required
@roles_required(Role.BROKER, Role.ADMIN)
def board():
    """The broker board: every deal as a card in its stage's column."""
    filters = _board_filters()
    columns = deal_board.board(db.session, current_user, filters)
    return render_template("deals/board.html", columns=columns, filters=filters,
                           valleys=taxonomy.list_valleys(db.session), top_fields=taxonomy.list_top_fields(db.session),
                           brokers=broker_users(db.session), total=sum(c.total for c in columns))


@bp.route("/notices")
def notices():
    """Deals in their public notice period (公示)."""
    return render_template("deals/notices.html", deals=list_public_notices(db.session))


@bp.route("/<int:deal_id>/notice")
def notice(deal_id: int):
    """The public notice of a deal's agreed price: anyone may read it (no confidential data)."""
    deal = get_public_notice(db.session, deal_id)
    return render_template("deals/notice.html", deal=deal, today=deal_recording.today())


# ---------------------------------------------------------------- the deal page


def _deal_forms(deal: Deal, **given) -> dict:
    """Every form the deal page may show, filled with the deal's values unless given (a failed submission)."""
    today = deal_recording.today().isoformat()
    forms = {
        "terms": deal_forms.TermsForm(formdata=None, agreed_amount_fen=deal.agreed_amount_fen,
                                      mode=deal.mode or "", inventor_share=deal.inventor_share_bp),
        "advance": deal_forms.AdvanceForm(formdata=None),
        "notice": deal_forms.NoticeForm(formdata=None),
        "sign": deal_forms.SignForm(formdata=None, signed_on=today, agreed_amount_fen=deal.agreed_amount_fen),
        "register": deal_forms.RegisterForm(formdata=None, registered_on=today),
        "complete": deal_forms.CompleteForm(formdata=None),
        "terminate": deal_forms.TerminateForm(formdata=None),
        "accept_terms": deal_forms.TermsAcceptanceForm(formdata=None, version=deal.terms_version),
        "withdraw_notice": deal_forms.NoticeWithdrawalForm(formdata=None),
        "intermediaries": deal_forms.IntermediariesForm(formdata=None),
        "exception": deal_forms.ExceptionForm(formdata=None),
        "invite": deal_forms.BrokerInvitationForm(formdata=None),
        "propose": deal_forms.BrokerInvitationForm(formdata=None),
        "decline": deal_forms.BrokerDeclineForm(formdata=None),
        "remove_broker": deal_forms.BrokerRemovalForm(formdata=None),
        "payment": deal_forms.PaymentForm(formdata=None, paid_on=today),
        "action": EmptyForm(formdata=None),
    }
    forms["intermediaries"].fill_from(deal)
    forms.update(given)
    _set_choices(deal, forms)
    return forms


def _set_choices(deal: Deal, forms: dict) -> None:
    modes = deal.achievement.modes if deal.achievement else []
    if "terms" in forms:
        forms["terms"].mode.choices = deal_forms.mode_choices(modes)
    if {"intermediaries", "invite", "propose"} & set(forms):
        brokers = broker_users(db.session)
        if "intermediaries" in forms:
            form = forms["intermediaries"]
            for number in (1, 2, 3):
                form[f"intermediary_{number}"].choices = deal_forms.user_choices(brokers, _l("（不填）"))
            form.agent_organisation.choices = options(
                [("", _l("（无）"))] + [(o.id, o.name) for o in agency_organisations(db.session)])
        outside = [broker for broker in brokers if broker.organisation_id not in (deal.transferor_id, deal.transferee_id)]
        for name in ("invite", "propose"):
            if name in forms:
                forms[name].broker.choices = deal_forms.user_choices(outside, _l("（请选择）"))


def _render_deal(deal_id: int, status: int = 200, **given):
    deal = get_deal(db.session, current_user, deal_id)
    awards = deal_awards(db.session, deal)
    payments = deal_payments(db.session, deal)
    by_event = {}
    for award in awards:
        by_event.setdefault(award.policy_event_id, []).append(award)
    paid_events = {payment.policy_event_id for payment in payments}
    return render_template(
        "deals/detail.html", deal=deal, may=permissions(current_user, deal),
        roles=deal_roles(current_user, deal), forms=_deal_forms(deal, **given),
        events=deal_timeline(db.session, deal), payments=payments, awards_by_event=by_event, decision=DecisionForm(),
        payment_choices={payment.id: payment_services.payment_choices(current_user, payment) for payment in payments},
        may_see_evidence=may_see_payment_evidence(current_user, deal),
        other_awards=[a for a in awards if a.policy_event_id not in paid_events],
        recipients=award_queries.recipient_labels(db.session, {a.recipient for a in awards}),
        pipeline=PIPELINE, today=deal_recording.today(), notice_public=notice_is_public(deal),
        broker_requests=[(request, broker_request_actions(current_user, deal, request))
                         for request in deal_brokers.pending_broker_requests(deal)
                         if may_see_broker_request(current_user, deal, request)],
        broker_request_kinds=BROKER_REQUEST_KIND_LABELS,
        needs_inventor_share=policy_limits.needs_inventor_share(deal),
        inventor_share_warning=policy_limits.inventor_share_warning(db.session, deal),
        rate_limit=policy_limits.reward_rate_limit(db.session, policy_limits.terms_day(deal)),
        terms_acceptances=deal_terms.acceptance_rows(db.session, deal),
    ), status


@bp.route("/<int:deal_id>")
@login_required
def detail(deal_id: int):
    """One deal: parties, stage, actions allowed to the user, intermediaries, payments and awards, timeline."""
    return _render_deal(deal_id)


FORM_SHOWN_WHEN = {
    "terms": "edit_terms", "notice": "start_notice", "sign": "sign", "register": "register", "complete": "complete",
    "terminate": "terminate", "intermediaries": "edit_intermediaries", "exception": "record_exception",
    "invite": "invite_broker", "propose": "propose_broker", "remove_broker": "remove_broker",
    "payment": "record_payment", "accept_terms": "accept_terms", "withdraw_notice": "withdraw_notice",
}
"""Which permission shows each form on the deal page (a refused form that is not shown is explained in a message)."""


def _deal_action(deal_id: int, name: str, form, call, success):
    """Run a deal action from a posted form: 422 with field messages, or a redirect with a message.

    `success` is the message to flash, or a function of the action's result that returns it."""
    get_deal(db.session, current_user, deal_id)
    if form.validate_on_submit():
        try:
            with savepoint():
                result = call(form)
        except FORM_ERRORS as error:
            deal = get_deal(db.session, current_user, deal_id)
            shown = FORM_SHOWN_WHEN.get(name)
            if shown is None or not getattr(permissions(current_user, deal), shown):
                flash("；".join(error.fields.values()) or error.message, "error")
                return redirect(url_for("deals.detail", deal_id=deal_id))
            apply_errors(form, error)
        except InvalidStateError as error:
            flash(error.message, "error")
            return redirect(url_for("deals.detail", deal_id=deal_id))
        else:
            flash(success(result) if callable(success) else success, "success")
            return redirect(url_for("deals.detail", deal_id=deal_id))
    return _render_deal(deal_id, 422, **{name: form})


@bp.route("/<int:deal_id>/terms", methods=["POST"])
@login_required
def update_terms(deal_id: int):
    """Change the amount and mode under negotiation."""
    return _deal_action(deal_id, "terms", deal_forms.TermsForm(), lambda form: deal_pipeline.update_terms(
        db.session, current_user, deal_id, agreed_amount_fen=form.agreed_amount_fen.data, mode=form.mode.data,
        inventor_share_bp=form.inventor_share.data), _terms_saved)


def _terms_saved(deal: Deal) -> str:
    """The message after saving the terms, with the inventors' share warning when there is one."""
    warning = policy_limits.inventor_share_warning(db.session, deal)
    return _("交易条件已更新。") + (warning or "")


@bp.route("/<int:deal_id>/advance", methods=["POST"])
@login_required
def advance(deal_id: int):
    """Move to 洽谈 or 协议定价."""
    return _deal_action(deal_id, "advance", deal_forms.AdvanceForm(), lambda form: advance_deal(
        db.session, current_user, deal_id, form.to.data), _("项目已进入下一阶段。"))


@bp.route("/<int:deal_id>/notice", methods=["POST"])
@login_required
def start_notice(deal_id: int):
    """Start the public notice."""
    return _deal_action(deal_id, "notice", deal_forms.NoticeForm(), lambda form: deal_pipeline.start_notice(
        db.session, current_user, deal_id, notice_days=form.notice_days.data), _("已开始公示。"))


@bp.route("/<int:deal_id>/terms/accept", methods=["POST"])
@login_required
def accept_terms(deal_id: int):
    """Accept the version of the terms the page showed."""
    return _deal_action(deal_id, "accept_terms", deal_forms.TermsAcceptanceForm(), lambda form: deal_pipeline.accept_terms(
        db.session, current_user, deal_id, form.version.data), _("已确认交易条件。"))


@bp.route("/<int:deal_id>/notice/withdraw", methods=["POST"])
@login_required
def withdraw_notice(deal_id: int):
    """A party takes the notice down with a reason."""
    return _deal_action(deal_id, "withdraw_notice", deal_forms.NoticeWithdrawalForm(), lambda form: (
        deal_pipeline.withdraw_notice(db.session, current_user, deal_id, reason=form.reason.data)),
        _("公示已撤回，可修改交易条件后重新公示。"))


@bp.route("/<int:deal_id>/sign", methods=["POST"])
@login_required
def sign(deal_id: int):
    """Record the signed contract; the deal is signed once the transferee confirms it."""
    return _deal_action(deal_id, "sign", deal_forms.SignForm(), lambda form: record_signing(
        db.session, current_user, deal_id, signed_on=form.signed_on.data,
        agreed_amount_fen=form.agreed_amount_fen.data), _("签约已登记，待受让方确认。"))


@bp.route("/<int:deal_id>/register", methods=["POST"])
@login_required
def register(deal_id: int):
    """Record the technology-contract registration."""
    return _deal_action(deal_id, "register", deal_forms.RegisterForm(), lambda form: register_deal(
        db.session, current_user, deal_id, registration_number=form.registration_number.data,
        registered_on=form.registered_on.data, certificate=evidence_upload(form.certificate.data)),
        _("技术合同登记已记录，等待平台运营人员核验。"))


@bp.route("/<int:deal_id>/complete", methods=["POST"])
@login_required
def complete(deal_id: int):
    """Close the deal as completed."""
    return _deal_action(deal_id, "complete", deal_forms.CompleteForm(), lambda form: complete_deal(
        db.session, current_user, deal_id, note=form.note.data), _("项目已完成。"))


@bp.route("/<int:deal_id>/terminate", methods=["POST"])
@login_required
def terminate(deal_id: int):
    """End the deal with a reason."""
    return _deal_action(deal_id, "terminate", deal_forms.TerminateForm(), lambda form: terminate_deal(
        db.session, current_user, deal_id, reason=form.reason.data), _("项目已终止。"))


@bp.route("/<int:deal_id>/intermediaries", methods=["POST"])
@login_required
def intermediaries(deal_id: int):
    """Name the intermediaries, the reward rate and the agent."""
    return _deal_action(deal_id, "intermediaries", deal_forms.IntermediariesForm(), lambda form: set_intermediaries(
        db.session, current_user, deal_id, people=form.rows(), reward_rate_bp=form.reward_rate.data,
        agent_organisation_id=form.agent_organisation.data), _("中介服务信息已保存。"))


@bp.route("/<int:deal_id>/exception", methods=["POST"])
@login_required
def intermediary_exception(deal_id: int):
    """An admin records the reason for more than three intermediaries."""
    return _deal_action(deal_id, "exception", deal_forms.ExceptionForm(), lambda form: record_intermediary_exception(
        db.session, current_user, deal_id, reason=form.exception_reason.data), _("例外原因已记录。"))


@bp.route("/<int:deal_id>/broker/ask", methods=["POST"])
@login_required
def ask_to_join(deal_id: int):
    """A broker asks to become the deal's broker."""
    return _deal_action(deal_id, "action", EmptyForm(), lambda form: deal_brokers.ask_to_join_deal(
        db.session, current_user, deal_id), _("已提交申请，待转让方和受让方确认。"))


@bp.route("/<int:deal_id>/broker/invite", methods=["POST"])
@login_required
def invite_broker(deal_id: int):
    """A party invites an approved broker."""
    return _deal_action(deal_id, "invite", deal_forms.BrokerInvitationForm(), lambda form: deal_brokers.invite_broker(
        db.session, current_user, deal_id, broker_id=form.broker.data), _("邀请已发出，待经纪人确认。"))


@bp.route("/<int:deal_id>/broker/propose", methods=["POST"])
@login_required
def propose_broker(deal_id: int):
    """An admin proposes an approved broker."""
    return _deal_action(deal_id, "propose", deal_forms.BrokerInvitationForm(), lambda form: deal_brokers.propose_broker(
        db.session, current_user, deal_id, broker_id=form.broker.data), _("已推荐，待经纪人和交易双方确认。"))


@bp.route("/<int:deal_id>/broker/remove", methods=["POST"])
@login_required
def remove_broker(deal_id: int):
    """A party or an admin removes the deal's broker with a reason."""
    return _deal_action(deal_id, "remove_broker", deal_forms.BrokerRemovalForm(), lambda form: deal_brokers.remove_broker(
        db.session, current_user, deal_id, reason=form.reason.data), _("已移除项目经纪人。"))


def _broker_answer(deal) -> str:
    return _("%(n)s 已成为项目经纪人。", n=deal.broker.name) if deal.broker else _("已确认，待其他各方确认。")


@bp.route("/<int:deal_id>/broker-requests/<int:request_id>/accept", methods=["POST"])
@login_required
def accept_broker_request(deal_id: int, request_id: int):
    """Accept an invitation, a request to join or a proposal."""
    return _deal_action(deal_id, "action", EmptyForm(), lambda form: deal_brokers.accept_broker_request(
        db.session, current_user, deal_id, request_id), lambda request: _broker_answer(request.deal))


@bp.route("/<int:deal_id>/broker-requests/<int:request_id>/decline", methods=["POST"])
@login_required
def decline_broker_request(deal_id: int, request_id: int):
    """Decline an invitation, a request to join or a proposal."""
    return _deal_action(deal_id, "decline", deal_forms.BrokerDeclineForm(), lambda form: deal_brokers.decline_broker_request(
        db.session, current_user, deal_id, request_id, reason=form.reason.data), _("已拒绝。"))


@bp.route("/<int:deal_id>/broker-requests/<int:request_id>/withdraw", methods=["POST"])
@login_required
def withdraw_broker_request(deal_id: int, request_id: int):
    """Withdraw one's own invitation, request to join or proposal."""
    return _deal_action(deal_id, "decline", deal_forms.BrokerDeclineForm(), lambda form: deal_brokers.withdraw_broker_request(
        db.session, current_user, deal_id, request_id, reason=form.reason.data), _("已撤回。"))


@bp.route("/<int:deal_id>/payments", methods=["POST"])
@login_required
def record_payment(deal_id: int):
    """Record proceeds received; they earn nothing until the other side confirms them."""
    return _deal_action(deal_id, "payment", deal_forms.PaymentForm(), lambda form: deal_pipeline.record_payment(
        db.session, current_user, deal_id, amount_fen=form.amount_fen.data, paid_on=form.paid_on.data,
        evidence=evidence_upload(form.evidence.data)), _("回款已登记，等待另一方确认。"))


DECISION_DONE = {"confirm": _l("回款已确认。"), "dispute": _l("已提出异议，平台运营人员将处理。"),
                 "withdraw": _l("回款记录已撤回。"), "refuse": _l("回款记录已驳回。")}


@bp.route("/payments/<int:payment_id>/<decision>", methods=["POST"])
@login_required
def decide_payment(payment_id: int, decision: str):
    """Confirm, dispute, withdraw or (admins) refuse a recorded payment."""
    payment = payment_services.get_payment(db.session, current_user, payment_id)
    if decision not in DECISION_DONE:
        abort(404)
    form = DecisionForm()
    submit_small_form(form, lambda: deal_pipeline.decide_payment(db.session, current_user, payment_id, decision,
                                                               reason=form.reason.data), DECISION_DONE[decision])
    return redirect(url_for("deals.detail", deal_id=payment.deal_id, _anchor="payments"))


# ---------------------------------------------------------------- bids


def _achievement_for_bid(achievement_id: int) -> Achievement:
    achievement = db.session.get(Achievement, achievement_id)
    if achievement is None or not achievement.is_public:
        raise NotFoundError(_("该成果不存在或尚未发布。"))
    return achievement


@bp.route("/bids/new/<int:achievement_id>", methods=["GET", "POST"])
@login_required
@roles_required(Role.ENTERPRISE)
def new_bid(achievement_id: int):
    """Make an offer on a published achievement."""
    achievement = _achievement_for_bid(achievement_id)
    form = deal_forms.BidForm()
    form.mode.choices = deal_forms.mode_choices(achievement.modes)
    if form.validate_on_submit():
        try:
            with savepoint():
                bid = place_bid(db.session, current_user, achievement.id, amount_fen=form.amount_fen.data,
                                mode=form.mode.data, message=form.message.data)
        except FORM_ERRORS as error:
            apply_errors(form, error)
        except InvalidStateError as error:
            flash(error.message, "error")
            return redirect(url_for("achievements.detail", achievement_id=achievement.id))
        else:
            flash(_("报价已发送，成果方答复后会通知您。"), "success")
            return redirect(url_for("deals.bid", bid_id=bid.id))
    elif request.method == "GET" and len(achievement.modes) == 1:
        form.mode.data = achievement.modes[0].value
    status = 422 if _is_form_failure(form) else 200
    return render_template("deals/bid_new.html", form=form, achievement=achievement), status


def _render_bid(bid_id: int, status: int = 200, counter_form=None):
    bid = get_bid(db.session, current_user, bid_id)
    side = bid_side(current_user, bid)
    if counter_form is None:
        counter_form = deal_forms.BidForm(formdata=None, amount_fen=bid.latest.amount_fen, mode=bid.latest.mode)
    counter_form.mode.choices = deal_forms.mode_choices(bid.achievement.modes)
    deal = db.session.scalar(select(Deal).where(Deal.bid_id == bid.id))
    their_turn = bid.status == BidStatus.OPEN and side is not None and bid.latest.side != side
    return render_template(
        "deals/bid.html", bid=bid, side=side, deal=deal, counter_form=counter_form,
        accept_form=deal_forms.AcceptBidForm(formdata=None, version=str(bid.latest.number)), action_form=EmptyForm(formdata=None),
        may_answer=their_turn, may_decline=bid.status == BidStatus.OPEN and side == BidSide.OWNER,
        may_withdraw=bid.status == BidStatus.OPEN and side == BidSide.BUYER,
        deal_may_be_seen=deal is not None and can_view_deal(current_user, deal),
    ), status


@bp.route("/bids/<int:bid_id>")
@login_required
def bid(bid_id: int):
    """A bid with all its rounds and the answers open to the user."""
    return _render_bid(bid_id)


def _bid_action(bid_id: int, call, success: str, form=None):
    get_bid(db.session, current_user, bid_id)
    form = form or EmptyForm()
    if form.validate_on_submit():
        try:
            with savepoint():
                result = call(form)
        except FORM_ERRORS as error:
            apply_errors(form, error)
        except InvalidStateError as error:
            flash(error.message, "error")
            return redirect(url_for("deals.bid", bid_id=bid_id))
        else:
            flash(success, "success")
            if isinstance(result, Deal):
                return redirect(url_for("deals.detail", deal_id=result.id))
            return redirect(url_for("deals.bid", bid_id=bid_id))
    if isinstance(form, deal_forms.BidForm):
        return _render_bid(bid_id, 422, counter_form=form)
    flash(_("请求已过期，请刷新页面后重试。"), "error")
    return redirect(url_for("deals.bid", bid_id=bid_id))


@bp.route("/bids/<int:bid_id>/counter", methods=["POST"])
@login_required
def counter_bid(bid_id: int):
    """Answer with a counter-offer."""
    return _bid_action(bid_id, lambda form: deal_bids.counter_bid(
        db.session, current_user, bid_id, amount_fen=form.amount_fen.data, mode=form.mode.data,
        message=form.message.data), _("还价已发送。"), form=deal_forms.BidForm())


def _version_number(text: str | None):
    return int(text) if text and text.isascii() and text.isdigit() and len(text) < 10 else None


@bp.route("/bids/<int:bid_id>/accept", methods=["POST"])
@login_required
def accept_bid(bid_id: int):
    """Accept the latest round: a deal opens."""
    return _bid_action(bid_id, lambda form: deal_bids.accept_bid(
        db.session, current_user, bid_id, version_number=_version_number(form.version.data),
        confirm_relicense=form.confirm_relicense.data),
        _("已接受报价，成果转化项目已创建。"), form=deal_forms.AcceptBidForm())


@bp.route("/bids/<int:bid_id>/withdraw", methods=["POST"])
@login_required
def withdraw_bid(bid_id: int):
    """The bidder withdraws the bid."""
    return _bid_action(bid_id, lambda form: deal_bids.withdraw_bid(db.session, current_user, bid_id), _("报价已撤回。"))


# ---------------------------------------------------------------- responses to demands


def _demand_for_response(demand_id: int) -> Demand:
    demand = db.session.get(Demand, demand_id)
    if demand is None or not demand.is_public:
        raise NotFoundError(_("该需求不存在或尚未发布。"))
    return demand


@bp.route("/responses/new/<int:demand_id>", methods=["GET", "POST"])
@login_required
@roles_required(Role.RESEARCHER)
def new_response(demand_id: int):
    """Answer (揭榜) a published demand."""
    demand = _demand_for_response(demand_id)
    form = deal_forms.ResponseForm()
    form.achievement_id.choices = options(
        [("", _l("（不关联）"))] + [(a.id, a.title) for a in respondable_achievements(db.session, current_user)])
    if form.validate_on_submit():
        try:
            with savepoint():
                response = respond_to_demand(db.session, current_user, demand.id, proposal=form.proposal.data,
                                             amount_fen=form.amount_fen.data,
                                             achievement_id=form.achievement_id.data)
        except FORM_ERRORS as error:
            apply_errors(form, error)
        except InvalidStateError as error:
            flash(error.message, "error")
            return redirect(url_for("demands.detail", demand_id=demand.id))
        else:
            flash(_("响应已提交，需求方处理后会通知您。"), "success")
            return redirect(url_for("deals.response", response_id=response.id))
    status = 422 if _is_form_failure(form) else 200
    return render_template("deals/response_new.html", form=form, demand=demand), status


@bp.route("/responses/<int:response_id>")
@login_required
def response(response_id: int):
    """A response with the answers open to the user."""
    found = get_response(db.session, current_user, response_id)
    side = response_side(current_user, found)
    deal = db.session.scalar(select(Deal).where(Deal.response_id == found.id))
    is_open = found.status == ResponseStatus.OPEN
    return render_template("deals/response.html", response=found, side=side, deal=deal, action_form=EmptyForm(),
                           may_decide=is_open and side == "demand", may_withdraw=is_open and side == "responder",
                           deal_may_be_seen=deal is not None and can_view_deal(current_user, deal))


def _response_action(response_id: int, call, success: str):
    get_response(db.session, current_user, response_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        flash(_("请求已过期，请刷新页面后重试。"), "error")
        return redirect(url_for("deals.response", response_id=response_id))
    try:
        with savepoint():
            result = call()
    except InvalidStateError as error:
        flash(error.message, "error")
        return redirect(url_for("deals.response", response_id=response_id))
    flash(success, "success")
    if isinstance(result, Deal):
        return redirect(url_for("deals.detail", deal_id=result.id))
    return redirect(url_for("deals.response", response_id=response_id))


@bp.route("/responses/<int:response_id>/accept", methods=["POST"])
@login_required
def accept_response(response_id: int):
    """The demand's organisation accepts the response: a deal opens."""
    return _response_action(response_id, lambda: deal_responses.accept_response(db.session, current_user, response_id),
                            _("已接受响应，成果转化项目已创建。"))


@bp.route("/responses/<int:response_id>/withdraw", methods=["POST"])
@login_required
def withdraw_response(response_id: int):
    """The responder withdraws the response."""
    return _response_action(response_id, lambda: deal_responses.withdraw_response(db.session, current_user, response_id),
                            _("响应已撤回。"))


from market.deals import (  # noqa: F401  register their routes on this blueprint; imported last
    decline_views,
    evidence_views,
    fee_views,
    registration_views,
    signing_views,
)
