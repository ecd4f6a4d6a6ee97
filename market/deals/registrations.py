"""Technology-contract registrations (技术合同登记): the transferor or the deal's broker records the number, the date
and the registration certificate PDF; an admin verifies it against the certificate or refuses it with a reason
everyone involved sees. Until it is verified the deal's awards are held "awaiting verification"; a refusal reverses
them (their cap headroom returns), takes the deal back to signed and keeps the refused registration as history."""
import logging
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from market.accounts.models import Role, User
from market.awards import services as award_services
from market.awards.models import Award, AwardStatus, PolicyStateSnapshot
from market.confirmations import services as confirmations
from market.confirmations.evidence import EvidenceUpload
from market.confirmations.inputs import EVIDENCE_PDF_MAX_BYTES
from market.confirmations.reminders import REMINDER_AFTER_DAYS, waited_long_enough
from market.confirmations.table import FactKind, FactRole
from market.deals.models import Deal, DealRegistration, DealStage, RegistrationStatus
from market.deals.permissions import earns_from_payments, fact_roles, may_see_payment_evidence
from market.deals.recording import deal_link, lock_deal, record_step
from market.errors import InvalidStateError, NotFoundError, PermissionDeniedError, RuleViolationError, ValidationError
from market.notifications.services import notify
from market.policy.snapshot import state_from_data
from market.timeutil import utcnow
from market.uploads import store_pdf

audit = logging.getLogger("market.audit")

KIND = FactKind.REGISTRATION
CERTIFICATE_FIELD = "certificate"
"""The form and API field that carries the registration certificate PDF."""
DECISIONS = ("verify", "refuse")
REMINDER_KIND = "registration_awaits_verification"
"""The notification (mailed: it asks its reader to act) of a registration waiting for an admin's verification."""


def recording_role(actor: User, deal: Deal) -> FactRole:
    """The role the actor records the registration in (the transferor or the deal's broker), or PermissionDeniedError."""
    return confirmations.require_recording_role(KIND, fact_roles(actor, deal),
                                                _("技术合同登记由成果转让方或项目经纪人填报。"))


def require_certificate(certificate: EvidenceUpload | None) -> dict[str, str]:
    """The field error when no certificate was chosen (a new registration needs one)."""
    if certificate is None or not certificate.given:
        return {CERTIFICATE_FIELD: _("请上传技术合同登记证明（PDF）。")}
    return {}


def _store_certificate(session: Session, registration: DealRegistration, certificate: EvidenceUpload) -> None:
    """Check the certificate PDF (PDF only, under the evidence size limit) and keep it on the registration."""
    stored = store_pdf(session, filename=certificate.filename, stream=certificate.stream,
                       upload_folder=certificate.upload_folder, max_bytes=EVIDENCE_PDF_MAX_BYTES,
                       field=CERTIFICATE_FIELD, default_name="registration.pdf")
    registration.certificate_stored_name = stored.stored_name
    registration.certificate_original_name = stored.original_name
    registration.certificate_size_bytes = stored.size_bytes


def record_registration(session: Session, deal: Deal, actor: User, role: FactRole, *, number: str, day,
                        certificate: EvidenceUpload) -> DealRegistration:
    """Store the registration with its certificate, awaiting an admin (the caller moved the deal and told the engine)."""
    registration = DealRegistration(deal_id=deal.id, registration_number=number, registered_on=day,
                                    recorded_by_id=actor.id, recorded_as=role.value,
                                    status=RegistrationStatus.AWAITING)
    _store_certificate(session, registration, certificate)
    session.add(registration)
    session.flush()
    session.expire(deal, ["registrations"])
    return registration


def _certificate_missing(actor: User | None, registration: DealRegistration) -> None:
    """Refuse adding a certificate unless the actor records registrations on the deal (the transferor or the deal's
    broker) and the registration still awaits verification without one."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise PermissionDeniedError(_("登记证明由成果转让方或项目经纪人上传。"))
    confirmations.require_recording_role(KIND, fact_roles(actor, registration.deal),
                                         _("登记证明由成果转让方或项目经纪人上传。"))
    if registration.status != RegistrationStatus.AWAITING:
        raise InvalidStateError(_("该技术合同登记已处理，不能再上传登记证明。"))
    if registration.has_certificate:
        raise InvalidStateError(_("该技术合同登记已有登记证明。"))


def may_add_certificate(actor: User | None, registration: DealRegistration) -> bool:
    """Whether the page offers the actor to add the missing certificate (the service checks the same again)."""
    try:
        _certificate_missing(actor, registration)
    except (PermissionDeniedError, InvalidStateError):
        return False
    return True


def add_certificate(session: Session, actor: User, registration_id: int,
                    certificate: EvidenceUpload) -> DealRegistration:
    """The transferor or the deal's broker adds the certificate PDF to a registration migrated without one, so that
    an admin can verify it; everyone involved is told."""
    registration = get_registration(session, actor, registration_id)
    deal = lock_deal(session, registration.deal)
    session.refresh(registration)
    _certificate_missing(actor, registration)
    missing = require_certificate(certificate)
    if missing:
        raise ValidationError(missing[CERTIFICATE_FIELD], missing)
    _store_certificate(session, registration, certificate)
    session.flush()
    record_step(session, deal, actor, "registration_certificate", deal.stage, note=registration.registration_number,
                notify_title=_l("技术合同登记已补充登记证明，待平台核验：%(t)s", t=deal.title))
    session.flush()
    audit.info("registration %s of deal %s: certificate added by user_id=%s", registration.id, deal.id, actor.id)
    return registration


def engine_knows_contract(snapshot: PolicyStateSnapshot, contract: str) -> bool:
    """Whether the engine already holds the contract (a corrected registration after a refusal is not signed again)."""
    return contract in state_from_data(snapshot.state).contracts


def get_registration(session: Session, actor: User | None, registration_id: int) -> DealRegistration:
    """A registration of a deal whose documents the actor may see (parties, the deal's broker, admins), or
    NotFoundError."""
    registration = session.get(DealRegistration, registration_id)
    if registration is None or not may_see_payment_evidence(actor, registration.deal):
        raise NotFoundError(_("技术合同登记不存在。"))
    return registration


def get_certificate(session: Session, actor: User | None, registration_id: int) -> DealRegistration:
    """A registration whose certificate the actor may download, or NotFoundError."""
    registration = session.get(DealRegistration, registration_id)
    if (registration is None or not registration.has_certificate
            or not may_see_payment_evidence(actor, registration.deal)):
        raise NotFoundError(_("文件不存在。"))
    return registration


def check_may_decide(actor: User | None, registration: DealRegistration) -> None:
    """Only an admin decides, never on a registration he recorded or on a deal whose payments earn him a reward."""
    deal = registration.deal
    if actor is None or not getattr(actor, "is_authenticated", False) or FactRole.ADMIN not in fact_roles(actor, deal):
        raise PermissionDeniedError(_("技术合同登记由平台运营人员核验。"))
    if registration.recorded_by_id == actor.id:
        raise PermissionDeniedError(_("不能核验自己填报的技术合同登记。"))
    if earns_from_payments(actor, deal) or _belongs_to_beneficiary(actor, deal):
        raise PermissionDeniedError(_("您是该项目奖励的受益人，不能核验它的技术合同登记。"))
    if registration.status != RegistrationStatus.AWAITING:
        raise InvalidStateError(_("该技术合同登记已处理。"))


def check_may_verify(actor: User | None, registration: DealRegistration) -> None:
    """An admin who may decide verifies only a registration that carries its certificate (one migrated without it
    waits for the transferor or the broker to add it; it may still be refused)."""
    check_may_decide(actor, registration)
    if not registration.has_certificate:
        raise InvalidStateError(_("该技术合同登记还没有登记证明，须由成果转让方或项目经纪人补充上传后才能核验。"))


def _belongs_to_beneficiary(actor: User, deal: Deal) -> bool:
    """Whether the actor is a named intermediary or belongs to the agent organisation, whatever his role (an admin's
    own organisation counts too)."""
    return (any(row.user_id == actor.id for row in deal.intermediaries)
            or (deal.agent_organisation_id is not None and actor.organisation_id == deal.agent_organisation_id))


def may_decide(actor: User | None, registration: DealRegistration) -> bool:
    """Whether the page offers the actor the verify and refuse buttons (the services check the same again)."""
    try:
        check_may_decide(actor, registration)
    except (PermissionDeniedError, InvalidStateError):
        return False
    return True


def may_verify(actor: User | None, registration: DealRegistration) -> bool:
    """Whether the page offers the actor the verify button (the services check the same again)."""
    try:
        check_may_verify(actor, registration)
    except (PermissionDeniedError, InvalidStateError):
        return False
    return True


def _pending(session: Session, actor: User, registration_id: int) -> DealRegistration:
    registration = session.get(DealRegistration, registration_id)
    if registration is None or not may_see_payment_evidence(actor, registration.deal):
        raise NotFoundError(_("技术合同登记不存在。"))
    check_may_decide(actor, registration)
    return registration


def verify_registration(session: Session, actor: User, registration_id: int) -> DealRegistration:
    """An admin verifies a registration against its certificate (a migrated one, recorded before certificates were
    asked for, against the documents on file): the deal's awards held for it become payable when nothing else (an
    unverified organisation) still holds them; everyone involved is told."""
    award_services.lock_books(session)
    registration = _pending(session, actor, registration_id)
    deal = lock_deal(session, registration.deal)
    session.refresh(registration)
    check_may_verify(actor, registration)
    registration.status, registration.decided_by_id, registration.decided_at = (
        RegistrationStatus.VERIFIED, actor.id, utcnow())
    session.flush()
    released = award_services.release_verified_awards(
        session, actor, award_services.awards_awaiting_verification(session, deal_id=deal.id))
    record_step(session, deal, actor, "registration_verified", deal.stage, note=registration.registration_number,
                notify_title=_("技术合同登记已核验：%(t)s", t=deal.title))
    session.flush()
    audit.info("registration %s of deal %s verified by admin_id=%s; %s awards released", registration.id, deal.id,
               actor.id, len(released))
    return registration


def refuse_registration(session: Session, actor: User, registration_id: int, *, reason) -> DealRegistration:
    """An admin refuses a registration with a reason: the deal's unpaid awards are reversed (their cap headroom
    returns), the deal goes back to signed, and a corrected registration may be recorded."""
    snapshot = award_services.lock_books(session)
    registration = _pending(session, actor, registration_id)
    text = confirmations.required_reason(reason)
    deal = lock_deal(session, registration.deal)
    if deal.stage not in (DealStage.REGISTERED, DealStage.PERFORMANCE):
        raise InvalidStateError(_("项目已结束，不能再驳回其技术合同登记。"))
    awards = list(session.scalars(select(Award).where(Award.deal_id == deal.id).order_by(Award.id)))
    if any(award.status == AwardStatus.PAID for award in awards):
        raise RuleViolationError(_("该项目的奖补已有发放，不能驳回其技术合同登记。"))
    memo = _("技术合同登记被驳回：%(r)s", r=text)
    for award in awards:
        if award.status not in (AwardStatus.REVERSED, AwardStatus.WAIVED, AwardStatus.NIL):
            award_services.cancel_award(session, snapshot, award, actor, memo)
    registration.status, registration.decided_by_id, registration.decided_at = (
        RegistrationStatus.REFUSED, actor.id, utcnow())
    registration.refusal_reason = text
    previous = deal.stage
    deal.stage, deal.registration_number, deal.registered_on = DealStage.SIGNED, None, None
    session.flush()
    session.expire(deal, ["registrations"])
    record_step(session, deal, actor, "registration_refused", previous, note=text,
                notify_title=_("技术合同登记被驳回，请更正后重新填报：%(t)s", t=deal.title))
    session.flush()
    audit.info("registration %s of deal %s refused by admin_id=%s", registration.id, deal.id, actor.id)
    return registration


def decide_registration(session: Session, actor: User, registration_id: int, decision: str, *,
                        reason="") -> DealRegistration:
    """Verify or refuse (with a reason) a registration; any other decision does not exist."""
    if decision == "verify":
        return verify_registration(session, actor, registration_id)
    if decision == "refuse":
        return refuse_registration(session, actor, registration_id, reason=reason)
    raise NotFoundError(_("没有这项操作。"))


def list_registration_queue(session: Session) -> list[DealRegistration]:
    """Registrations waiting for an admin, oldest first."""
    return list(session.scalars(select(DealRegistration)
                                .where(DealRegistration.status == RegistrationStatus.AWAITING)
                                .order_by(DealRegistration.recorded_at, DealRegistration.id)))


def remind_registration_verifications(session: Session, now: datetime) -> int:
    """Remind the admins who may decide each registration that carries its certificate and has waited
    REMINDER_AFTER_DAYS days or more (once a day); returns how many registrations were reminded of. A registration
    migrated without a certificate cannot be verified and is left out until its certificate is added."""
    due = session.scalars(select(DealRegistration).where(
        DealRegistration.status == RegistrationStatus.AWAITING, DealRegistration.certificate_stored_name.is_not(None),
        waited_long_enough(DealRegistration.recorded_at, DealRegistration.last_reminded_at, now))
        .order_by(DealRegistration.id)).all()
    admins = session.scalars(select(User).where(User.role == Role.ADMIN, User.is_active_account.is_(True))
                             .order_by(User.id)).all() if due else []
    for registration in due:
        deal = registration.deal
        for admin in admins:
            if may_decide(admin, registration):
                notify(session, admin.id, REMINDER_KIND,
                       _l("技术合同登记已等待核验 %(n)s 天以上：%(t)s", n=REMINDER_AFTER_DAYS, t=deal.title),
                       body=registration.registration_number, link=f"{deal_link(deal)}#registrations")
        registration.last_reminded_at = now
    session.flush()
    return len(due)


def registration_verified(session: Session, deal_id: int) -> bool:
    """Whether the deal's standing registration has been verified."""
    deal = session.get(Deal, deal_id)
    registration = deal.current_registration if deal is not None else None
    return registration is not None and registration.is_verified


@award_services.add_verification_check
def registration_unverified(session: Session, award: Award) -> bool:
    """An award earned under a deal waits until the deal's registration is verified."""
    return award.deal_id is not None and not registration_verified(session, award.deal_id)


@award_services.add_approval_check
def registration_awaits_verification(session: Session, award: Award) -> str | None:
    """An award of a deal whose registration is not verified cannot be approved (awards computed before
    verification existed)."""
    if award.deal_id is not None and not registration_verified(session, award.deal_id):
        return _("该项目的技术合同登记尚未核验。")
    return None
