"""JSON API v1 for money: proceeds and pre-order payments one side records (behind an Idempotency-Key) and the other
confirms, which earns the awards; and the awards.

Also the JSON shapes of payments and awards and the query-string and paging helpers the deal endpoints share.
"""
from collections.abc import Callable
from datetime import date

from flask import current_app, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from market.accounts.models import User
from market.api.auth import require_token_user
from market.api.idempotency import (
    KeyedRequest,
    StoredResponse,
    read_idempotency_key,
    render_json,
    request_fingerprint,
    run_once,
)
from market.api.openapi_money import AWARD_RECIPIENT, MAX_API_PAGE
from market.api.serializers import iso
from market.api.shape import shape_errors
from market.api.strictjson import JsonBodyError, read_json_body
from market.api.views import bp
from market.awards import queries as award_queries
from market.awards import services as award_services
from market.awards.inputs import PayoutInput
from market.awards.labels import award_status_label
from market.awards.models import Award, AwardStatus
from market.awards.payment_input import PaymentInput
from market.awards.permissions import may_read_awards_of, recipient_keys_of
from market.awards.wording import Names
from market.confirmations.evidence import EVIDENCE_FIELD, EvidenceUpload
from market.confirmations.inputs import DecisionInput
from market.confirmations.models import STATUS_LABELS
from market.deals import board as deal_board
from market.deals import payments as deal_payments
from market.deals.models import DealPayment
from market.deals.permissions import may_record_payment
from market.deals.pipeline import decide_payment, get_deal, record_payment
from market.declared import DeclaredInput, EmptyInput, json_schema, validate_input
from market.errors import DomainError, PermissionDeniedError, ValidationError
from market.extensions import db
from market.inputs import FieldErrors, clean_choice, clean_int
from market.listings.queries import MAX_PER_PAGE
from market.preorders import payments as preorder_payments
from market.preorders import services as preorders
from market.preorders.models import PreorderPayment
from market.preorders.permissions import may_record_payment as may_record_preorder_payment

DEFAULT_PER_PAGE = 20
SERVICE_FIELD_NAMES = {"paid_on": "date"}
"""The payment services name the date `paid_on`; the API body calls it `date`."""


# ---------------------------------------------------------------- request helpers shared by the deal endpoints


def read_body() -> dict:
    """The request body as a strict JSON object (415, 413, 400 or 422 otherwise)."""
    return read_json_body(request, current_app.config["API_MAX_BODY_BYTES"])


def read_optional_body(model: type[DeclaredInput] = EmptyInput) -> dict:
    """The body of an action whose input is all optional: none at all, or a JSON object of the model's shape."""
    if not request.content_length and "Transfer-Encoding" not in request.headers:
        return {}
    data = read_body()
    refuse_shape(json_schema(model), data)
    return data


def refuse_shape(schema: dict, data: dict) -> None:
    """422 for unknown keys and wrong JSON types (a string or a float where an integer belongs …)."""
    errors = shape_errors(schema, data)
    missing = [name for name in schema.get("required", []) if name not in data and name not in errors]
    for name in missing:
        errors[name] = _("此项必填。")
    if errors:
        raise ValidationError(_("请修改标出的内容。"), errors)


def page_number(errors: FieldErrors, name: str, raw: str | None) -> int:
    """The `page` query parameter (1 by default)."""
    return clean_int(errors, name, raw, low=1, high=MAX_API_PAGE) or 1


def page_size(errors: FieldErrors, name: str, raw: str | None) -> int:
    """The `per_page` query parameter (20 by default)."""
    return clean_int(errors, name, raw, low=1, high=MAX_PER_PAGE) or DEFAULT_PER_PAGE


PAGING = {"page": page_number, "per_page": page_size}


def query_arguments(parsers: dict[str, Callable[[FieldErrors, str, str | None], object]]) -> dict:
    """The query string read by one parser per known parameter; unknown, repeated or invalid ones are a 422."""
    errors = FieldErrors()
    for name in request.args:
        if name not in parsers:
            errors.add(name, _("未知的查询参数。"))
        elif len(request.args.getlist(name)) > 1:
            errors.add(name, _("参数只能出现一次。"))
    values = {name: parse(errors, name, request.args.get(name)) for name, parse in parsers.items()}
    if errors:
        raise ValidationError(_("查询参数无效。"), dict(errors))
    return values


def paged(session: Session, statement, *, page: int, per_page: int, serialise) -> dict:
    """One page of a select's rows as {"items", "total", "page", "per_page", "pages"} (a page past the end is empty)."""
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    rows = session.scalars(statement.limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": serialise(rows), "total": total, "page": page, "per_page": per_page,
            "pages": max(1, -(-total // per_page))}


# ---------------------------------------------------------------- JSON shapes


def party_json(organisation) -> dict | None:
    """An organisation as {"id", "name"}."""
    return None if organisation is None else {"id": organisation.id, "name": organisation.name}


def person_json(user: User | None) -> dict | None:
    """A person as {"id", "name"}."""
    return None if user is None else {"id": user.id, "name": user.name}


def awards_json(session: Session, awards: list[Award]) -> list[dict]:
    """Award lines with their recipient's name, their status and the note that explains a cap or a hold."""
    if not awards:
        return []
    names = Names(session, [key for award in awards for key in (award.recipient, award.payer)])
    catalog = award_queries.load_rule_catalog(session)
    return [{
        "id": award.id,
        "rule": award.rule,
        "rule_kind": award.rule_kind,
        "rule_set": award.rule_set,
        "rule_set_version": award.rule_set_version,
        "recipient": award.recipient,
        "recipient_name": names(award.recipient),
        "payer": award.payer,
        "payer_name": names.payer(award.payer),
        "computed_fen": award.computed_fen,
        "granted_fen": award.granted_fen,
        "status": {"code": str(award.status), "label": award_status_label(award.status, award.hold_reason)},
        "hold_reason": str(award.hold_reason) if award.hold_reason else None,
        "capped_by": award.capped_by,
        "waived_by": award.waived_by,
        "note": award_queries.explain_award(catalog, award),
        "event_date": iso(award.event_date),
        "deal_id": award.deal_id,
        "agreement_id": award.agreement_id,
        "approved_at": iso(award.approved_at),
        "paid_at": iso(award.paid_at),
        "paid_on": iso(award.paid_on),
        "voucher_reference": award.voucher_reference,
        "voucher_file_name": award.voucher_original_name,
    } for award in awards]


def payment_json(session: Session, payment: DealPayment | PreorderPayment, awards: list[Award]) -> dict:
    """A proceeds or pre-order payment with the award lines its policy event produced."""
    return {
        "id": payment.id,
        "deal_id": getattr(payment, "deal_id", None),
        "agreement_id": getattr(payment, "agreement_id", None),
        "amount_fen": payment.amount_fen,
        "paid_on": iso(payment.paid_on),
        "recorded_by": person_json(session.get(User, payment.recorded_by_id)),
        "recorded_as": payment.recorded_as,
        "status": {"code": str(payment.status), "label": str(STATUS_LABELS[payment.status])},
        "dispute_reason": payment.dispute_reason,
        "decision_note": payment.decision_note,
        "decided_by": person_json(session.get(User, payment.decided_by_id) if payment.decided_by_id else None),
        "decided_at": iso(payment.decided_at),
        "created_at": iso(payment.created_at),
        "evidence": ({"filename": payment.evidence_original_name, "uploaded_at": iso(payment.evidence_uploaded_at)}
                     if payment.has_evidence else None),
        "awards": awards_json(session, awards),
    }


def payments_with_awards(session: Session, payments: list, awards: list[Award]) -> tuple[list[dict], list[Award]]:
    """Payments each with the awards of its policy event, and the awards that belong to no payment."""
    by_event: dict[int, list[Award]] = {}
    for award in awards:
        by_event.setdefault(award.policy_event_id, []).append(award)
    paid_events = {payment.policy_event_id for payment in payments}
    return ([payment_json(session, payment, by_event.get(payment.policy_event_id, [])) for payment in payments],
            [award for award in awards if award.policy_event_id not in paid_events])


# ---------------------------------------------------------------- payments (Idempotency-Key required)


def _checked_payment(data: dict) -> tuple[int, date]:
    """Amount and date of a payment body, validated by the declared payment input; 422 before anything is
    recorded when they cannot be right."""
    refuse_shape(json_schema(PaymentInput), data)
    values, errors = validate_input(PaymentInput, {"amount_fen": data["amount_fen"], "paid_on": data["date"]})
    if errors:
        raise ValidationError(_("请修改标出的内容。"),
                              {SERVICE_FIELD_NAMES.get(name, name): message for name, message in errors.items()})
    return values["amount_fen"], values["paid_on"]


def _refusal(error: DomainError, renamed: dict[str, str] = SERVICE_FIELD_NAMES) -> StoredResponse:
    """A domain refusal as the stored JSON error body (service field names mapped to the body's)."""
    fields = {renamed.get(name, name): message for name, message in error.fields.items()}
    return render_json(error.status, {"error": error.code, "message": error.message, "fields": fields})


def _payout_refusal(error: DomainError) -> StoredResponse:
    """A refused payout as the stored JSON error body (the payout body names its fields as the service does)."""
    return _refusal(error, {})


def _record_payment(actor: User, key: str, data: dict, pay: Callable[[int, date], DealPayment | PreorderPayment]):
    """Record a payment once per Idempotency-Key: 201 with the payment waiting for confirmation, or the stored
    answer."""
    amount, day = _checked_payment(data)
    keyed = KeyedRequest(user_id=actor.id, key=key, method=request.method, path=request.path,
                         fingerprint=request_fingerprint(data))

    def answer(payment) -> StoredResponse:
        return render_json(201, payment_json(db.session, payment, []))

    return run_once(db.session, keyed, lambda: pay(amount, day), answer, _refusal)


@bp.post("/deals/<int:deal_id>/payments")
def record_deal_payment(deal_id: int):
    """Record proceeds received under a registered contract (either party or the deal's broker); they earn rewards
    when the other side confirms them."""
    actor = require_token_user(db.session, request)
    key = read_idempotency_key(request)
    data = read_body()
    deal = get_deal(db.session, actor, deal_id)
    if not may_record_payment(actor, deal):
        raise PermissionDeniedError(_("回款由成果转让方、受让方或项目经纪人登记。"))
    return _record_payment(actor, key, data, lambda amount, day: record_payment(
        db.session, actor, deal_id, amount_fen=amount, paid_on=day))


@bp.post("/preorders/<int:agreement_id>/payments")
def record_preorder_payment(agreement_id: int):
    """Record a payment for accepted deliveries of a pre-order agreement (the buyer's members or the agreement's
    broker); it earns the subsidy when the seller confirms it."""
    actor = require_token_user(db.session, request)
    key = read_idempotency_key(request)
    data = read_body()
    agreement = preorders.get_visible_agreement(db.session, actor, agreement_id)
    if not may_record_preorder_payment(actor, agreement):
        raise PermissionDeniedError(_("付款由采购方或协议经纪人登记，供货方确认。"))
    return _record_payment(actor, key, data, lambda amount, day: preorders.record_payment(
        db.session, actor, agreement_id, amount_fen=amount, paid_on=day))


@bp.post("/deal-payments/<int:payment_id>/<decision>")
def decide_deal_payment(payment_id: int, decision: str):
    """Confirm, dispute, withdraw or (admins) refuse a recorded proceeds payment; a confirmation answers with the
    awards it earned."""
    actor = require_token_user(db.session, request)
    data = read_optional_body(DecisionInput)
    payment, awards = decide_payment(db.session, actor, payment_id, decision, reason=data.get("reason", ""))
    return jsonify(payment_json(db.session, payment, awards))


@bp.post("/preorder-payments/<int:payment_id>/<decision>")
def decide_preorder_payment(payment_id: int, decision: str):
    """Confirm, dispute, withdraw or (admins) refuse a recorded pre-order payment; a confirmation answers with the
    subsidy lines it earned."""
    actor = require_token_user(db.session, request)
    data = read_optional_body(DecisionInput)
    payment, awards = preorders.decide_payment(db.session, actor, payment_id, decision, reason=data.get("reason", ""))
    return jsonify(payment_json(db.session, payment, awards))


def _evidence_upload() -> EvidenceUpload:
    """The evidence PDF of a multipart body (415 for any other body; a missing file is refused by the service)."""
    if request.mimetype != "multipart/form-data":
        raise JsonBodyError(415, "unsupported_media_type",
                            _("请以 multipart/form-data 上传凭证，文件字段名为 %(f)s。", f=EVIDENCE_FIELD))
    upload = request.files.get(EVIDENCE_FIELD)
    return EvidenceUpload(getattr(upload, "filename", None), getattr(upload, "stream", None),
                          current_app.config["UPLOAD_FOLDER"])


@bp.post("/deal-payments/<int:payment_id>/evidence")
def attach_deal_payment_evidence(payment_id: int):
    """The recorder attaches the bank receipt or invoice (PDF) to a proceeds payment that waits for a decision."""
    actor = require_token_user(db.session, request)
    upload = _evidence_upload()
    payment = deal_payments.attach_deal_payment_evidence(db.session, actor, payment_id, upload)
    return jsonify(payment_json(db.session, payment, []))


@bp.post("/preorder-payments/<int:payment_id>/evidence")
def attach_preorder_payment_evidence(payment_id: int):
    """The recorder attaches the bank receipt or invoice (PDF) to a pre-order payment that waits for a decision."""
    actor = require_token_user(db.session, request)
    upload = _evidence_upload()
    payment = preorder_payments.attach_preorder_payment_evidence(db.session, actor, payment_id, upload)
    return jsonify(payment_json(db.session, payment, []))


# ---------------------------------------------------------------- awards


@bp.get("/deals/<int:deal_id>/awards")
def deal_awards(deal_id: int):
    """The awards a deal earned, for everyone who may see the deal."""
    actor = require_token_user(db.session, request)
    query_arguments({})
    deal = get_deal(db.session, actor, deal_id)
    return jsonify({"items": awards_json(db.session, deal_board.deal_awards(db.session, deal))})


@bp.get("/preorders/<int:agreement_id>/awards")
def preorder_awards(agreement_id: int):
    """The subsidy lines a pre-order agreement earned, for its parties, its broker and admins."""
    actor = require_token_user(db.session, request)
    query_arguments({})
    agreement = preorders.get_visible_agreement(db.session, actor, agreement_id)
    awards = db.session.scalars(select(Award).where(Award.agreement_id == agreement.id).order_by(Award.id)).all()
    return jsonify({"items": awards_json(db.session, list(awards))})


def _recipient(errors: FieldErrors, name: str, raw: str | None) -> str | None:
    if raw is None:
        return None
    if not AWARD_RECIPIENT.fullmatch(raw):
        errors.add(name, _("领取人应写作 user-<编号> 或 org-<编号>。"))
        return None
    return raw


def _award_status(errors: FieldErrors, name: str, raw: str | None) -> AwardStatus | None:
    return clean_choice(errors, name, raw, AwardStatus, required=False)


@bp.get("/awards")
def list_awards():
    """Awards of one recipient (user-<id> or org-<id>), newest first: a person their own, an organisation's
    members the organisation's, admins anyone's (and, without `recipient`, all)."""
    actor = require_token_user(db.session, request)
    args = query_arguments({"recipient": _recipient, "status": _award_status, **PAGING})
    recipient = args["recipient"]
    statement = select(Award)
    if recipient is not None:
        if not may_read_awards_of(actor, recipient):
            raise PermissionDeniedError(_("只能查看本人或本机构的奖补。"))
        statement = statement.where(Award.recipient == recipient)
    elif not actor.is_admin:
        statement = statement.where(Award.recipient.in_(recipient_keys_of(actor)))
    if args["status"] is not None:
        statement = statement.where(Award.status == args["status"])
    statement = statement.order_by(Award.event_date.desc(), Award.id.desc())
    return jsonify(paged(db.session, statement, page=args["page"], per_page=args["per_page"],
                   serialise=lambda rows: awards_json(db.session, list(rows))))


@bp.post("/awards/<int:award_id>/approve")
def approve_award(award_id: int):
    """Approve a payable award: platform admins with a confirmed second factor (the service checks both)."""
    actor = require_token_user(db.session, request)
    read_optional_body()
    award = award_services.approve_award(db.session, actor, award_id)
    return jsonify(awards_json(db.session, [award])[0])


@bp.post("/awards/<int:award_id>/pay")
def pay_award(award_id: int):
    """Record the payout of an approved award with its voucher reference and payout date, once per Idempotency-Key:
    admins with a second factor."""
    actor = require_token_user(db.session, request)
    key = read_idempotency_key(request)
    data = read_body()
    refuse_shape(json_schema(PayoutInput), data)
    keyed = KeyedRequest(user_id=actor.id, key=key, method=request.method, path=request.path,
                         fingerprint=request_fingerprint(data))
    return run_once(db.session, keyed, lambda: award_services.pay_award(
        db.session, actor, award_id, voucher_reference=data["voucher_reference"], paid_on=data["paid_on"]),
        lambda award: render_json(200, awards_json(db.session, [award])[0]), _payout_refusal)
