"""JSON API v1 for technology-contract registrations: the transferor or the deal's broker records one with its
certificate PDF (multipart), and an admin verifies or refuses it."""
from flask import current_app, jsonify, request, url_for
from flask_babel import gettext as _

from market.accounts.models import User
from market.api import money
from market.api.auth import require_token_user
from market.api.serializers import iso
from market.api.strictjson import JsonBodyError
from market.api.views import bp
from market.confirmations.evidence import EvidenceUpload
from market.confirmations.inputs import DecisionInput
from market.deals.labels import REGISTRATION_STATUS_LABELS
from market.deals.models import DealRegistration
from market.deals.pipeline import get_deal, register_deal
from market.deals.registrations import CERTIFICATE_FIELD, add_certificate, decide_registration, get_registration
from market.extensions import db


def registration_json(registration: DealRegistration) -> dict:
    """A registration as the API shows it."""
    return {
        "id": registration.id,
        "deal_id": registration.deal_id,
        "registration_number": registration.registration_number,
        "registered_on": iso(registration.registered_on),
        "status": {"code": str(registration.status),
                   "label": str(REGISTRATION_STATUS_LABELS[registration.status])},
        "refusal_reason": registration.refusal_reason or None,
        "certificate_file_name": registration.certificate_original_name or None,
        "recorded_at": iso(registration.recorded_at),
        "decided_at": iso(registration.decided_at),
    }


def _multipart() -> None:
    if request.mimetype != "multipart/form-data":
        raise JsonBodyError(415, "unsupported_media_type",
                            _("请以 multipart/form-data 提交登记信息和登记证明，文件字段名为 %(f)s。", f=CERTIFICATE_FIELD))


def _certificate() -> EvidenceUpload:
    """The certificate PDF of the multipart body (a missing file is refused by the service)."""
    upload = request.files.get(CERTIFICATE_FIELD)
    return EvidenceUpload(getattr(upload, "filename", None), getattr(upload, "stream", None),
                          current_app.config["UPLOAD_FOLDER"])


@bp.post("/deals/<int:deal_id>/registrations")
def record_deal_registration(deal_id: int):
    """The transferor or the deal's broker records the registration (number, date, certificate PDF); it awaits an
    admin's verification."""
    actor: User = require_token_user(db.session, request)
    get_deal(db.session, actor, deal_id)
    _multipart()
    certificate = _certificate()
    deal = register_deal(db.session, actor, deal_id, registration_number=request.form.get("registration_number"),
                         registered_on=request.form.get("registered_on"), certificate=certificate)
    response = jsonify(registration_json(deal.current_registration))
    response.status_code = 201
    response.headers["Location"] = url_for("api.deal_registration", registration_id=deal.current_registration.id)
    return response


@bp.get("/deal-registrations/<int:registration_id>")
def deal_registration(registration_id: int):
    """One registration, for the deal's parties, its broker and admins (404 for everyone else)."""
    actor = require_token_user(db.session, request)
    return jsonify(registration_json(get_registration(db.session, actor, registration_id)))


@bp.post("/deal-registrations/<int:registration_id>/certificate")
def add_deal_registration_certificate(registration_id: int):
    """The transferor or the deal's broker adds the certificate PDF a registration migrated without one lacks, so
    that an admin can verify it."""
    actor = require_token_user(db.session, request)
    get_registration(db.session, actor, registration_id)
    if request.mimetype != "multipart/form-data":
        raise JsonBodyError(415, "unsupported_media_type",
                            _("请以 multipart/form-data 上传登记证明，文件字段名为 %(f)s。", f=CERTIFICATE_FIELD))
    registration = add_certificate(db.session, actor, registration_id, _certificate())
    return jsonify(registration_json(registration))


@bp.post("/deal-registrations/<int:registration_id>/<decision>")
def decide_deal_registration(registration_id: int, decision: str):
    """An admin verifies a registration against its certificate or refuses it with a reason."""
    actor = require_token_user(db.session, request)
    data = money.read_optional_body(DecisionInput)
    registration = decide_registration(db.session, actor, registration_id, decision, reason=data.get("reason", ""))
    return jsonify(registration_json(registration))
