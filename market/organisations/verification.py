"""Organisation verification: an approved member submits the 统一社会信用代码 and the business licence PDF; an admin
verifies or refuses it with a reason the organisation sees (unverified → submitted → verified | refused, and a
refused organisation submits again). Every submission is kept in `organisation_verifications`."""
import logging

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from market.accounts.models import Organisation, OrganisationVerification, User, VerificationStatus
from market.awards import services as award_services
from market.declared import validate_input
from market.errors import InvalidStateError, NotFoundError, PermissionDeniedError, ValidationError
from market.organisations.common import get_organisation, notify_members
from market.organisations.inputs import EVIDENCE_PDF_MAX_BYTES, VerificationRefuseInput, VerificationSubmitInput
from market.organisations.permissions import (
    can_decide_verification,
    can_see_organisation_documents,
    can_submit_verification,
)
from market.timeutil import utcnow
from market.uploads import store_pdf

audit = logging.getLogger("market.audit")

SUBMITTABLE = {VerificationStatus.UNVERIFIED, VerificationStatus.REFUSED}
"""The states from which an organisation may submit (again)."""


def submit_verification(session: Session, actor: User, organisation_id: int, *, credit_code, filename: str | None,
                        stream, upload_folder: str) -> OrganisationVerification:
    """An approved member submits the organisation's credit code and business licence PDF for an admin to check."""
    organisation = get_organisation(session, organisation_id)
    if not can_submit_verification(actor, organisation.id):
        raise PermissionDeniedError(_("只有本机构已审核的成员可以提交机构认证。"))
    if organisation.verification_status not in SUBMITTABLE:
        raise InvalidStateError(_("本机构的认证已提交或已通过，无需再次提交。")
                                if organisation.verification_status == VerificationStatus.SUBMITTED
                                else _("本机构已通过认证。"))
    values, errors = validate_input(VerificationSubmitInput, {"credit_code": credit_code})
    code = values.get("credit_code")
    if code and _code_taken(session, code, organisation.id):
        errors.add("credit_code", _("该统一社会信用代码已被另一家机构认证；如有疑问请联系平台。"))
    if stream is None or not filename:
        errors.add("licence", _("请上传营业执照或法人登记证书（PDF）。"))
    if errors:
        raise ValidationError(_("请修改标出的内容。"), dict(errors))
    stored = store_pdf(session, filename=filename, stream=stream, upload_folder=upload_folder,
                       max_bytes=EVIDENCE_PDF_MAX_BYTES, field="licence", default_name="licence.pdf")
    verification = OrganisationVerification(
        organisation_id=organisation.id, credit_code=code, licence_stored_name=stored.stored_name,
        licence_original_name=stored.original_name, licence_size_bytes=stored.size_bytes, submitted_by_id=actor.id,
        status=VerificationStatus.SUBMITTED)
    session.add(verification)
    organisation.verification_status = VerificationStatus.SUBMITTED
    session.flush()
    audit.info("verification submitted id=%s organisation_id=%s by user_id=%s", verification.id, organisation.id,
               actor.id)
    return verification


def verify_organisation(session: Session, actor: User, verification_id: int) -> OrganisationVerification:
    """An admin confirms a submission: the organisation is verified under its code, its awards held awaiting
    verification become payable where nothing else holds them (a deal's unverified registration); its members are
    told."""
    award_services.lock_books(session)
    verification = _pending(session, actor, verification_id)
    organisation = verification.organisation
    if _code_taken(session, verification.credit_code, organisation.id):
        raise InvalidStateError(_("该统一社会信用代码已被另一家机构认证，不能重复认证；请以不通过处理并说明原因。"))
    _decide(verification, actor, VerificationStatus.VERIFIED)
    organisation.credit_code = verification.credit_code
    session.flush()
    award_services.release_verified_awards(session, actor, award_services.awards_awaiting_verification(
        session, recipient=award_services.org_key(organisation.id)))
    notify_members(session, organisation, "organisation_verified", _("机构认证已通过：%(name)s", name=organisation.name))
    audit.info("verification verified id=%s organisation_id=%s by admin_id=%s", verification.id, organisation.id,
               actor.id)
    return verification


def refuse_verification(session: Session, actor: User, verification_id: int, *, reason) -> OrganisationVerification:
    """An admin refuses a submission with a reason: the awards held awaiting the organisation's verification are
    reversed (their cap headroom returns); the organisation's members are told and may submit again."""
    snapshot = award_services.lock_books(session)
    verification = _pending(session, actor, verification_id)
    values, errors = validate_input(VerificationRefuseInput, {"reason": reason})
    if errors:
        raise ValidationError(_("请修改标出的内容。"), dict(errors))
    verification.refusal_reason = values["reason"]
    _decide(verification, actor, VerificationStatus.REFUSED)
    session.flush()
    memo = _("机构认证未通过：%(r)s", r=values["reason"])
    for award in award_services.awards_awaiting_verification(session,
                                                             recipient=award_services.org_key(verification.organisation_id)):
        award_services.cancel_award(session, snapshot, award, actor, memo)
    notify_members(session, verification.organisation, "organisation_verification_refused",
                   _("机构认证未通过：%(name)s", name=verification.organisation.name), body=values["reason"])
    audit.info("verification refused id=%s organisation_id=%s by admin_id=%s", verification.id,
               verification.organisation_id, actor.id)
    return verification


def list_verification_queue(session: Session) -> list[OrganisationVerification]:
    """Submissions waiting for an admin, oldest first."""
    return list(session.scalars(select(OrganisationVerification)
                                .where(OrganisationVerification.status == VerificationStatus.SUBMITTED)
                                .order_by(OrganisationVerification.submitted_at, OrganisationVerification.id)))


def list_verifications(session: Session, actor: User, organisation_id: int) -> list[OrganisationVerification]:
    """Every submission of an organisation, newest first, for its members and admins (NotFoundError for others)."""
    organisation = get_organisation(session, organisation_id)
    if not can_see_organisation_documents(actor, organisation.id):
        raise NotFoundError(_("机构不存在。"))
    return list(session.scalars(select(OrganisationVerification)
                                .where(OrganisationVerification.organisation_id == organisation.id)
                                .order_by(OrganisationVerification.id.desc())))


def get_licence(session: Session, actor: User | None, verification_id: int) -> OrganisationVerification:
    """A submission whose business licence the actor may download, or NotFoundError."""
    verification = session.get(OrganisationVerification, verification_id)
    if verification is None or not can_see_organisation_documents(actor, verification.organisation_id):
        raise NotFoundError(_("文件不存在。"))
    return verification


def _code_taken(session: Session, code: str, organisation_id: int) -> bool:
    """Whether another organisation is already verified under the code."""
    return session.scalar(select(Organisation.id).where(Organisation.credit_code == code,
                                                        Organisation.id != organisation_id)) is not None


def _pending(session: Session, actor: User, verification_id: int) -> OrganisationVerification:
    """A submission that waits for the admin's decision, which this actor may take."""
    verification = session.get(OrganisationVerification, verification_id)
    if verification is None:
        raise NotFoundError(_("认证申请不存在。"))
    if not can_decide_verification(actor, verification.organisation_id):
        raise PermissionDeniedError(_("只有平台管理员可以审核机构认证，且不能审核自己所在的机构。"))
    if verification.status != VerificationStatus.SUBMITTED:
        raise InvalidStateError(_("该认证申请已处理。"))
    return verification


def _decide(verification: OrganisationVerification, actor: User, status: VerificationStatus) -> None:
    """Record the admin's decision on the submission and the organisation."""
    verification.status, verification.decided_by_id, verification.decided_at = status, actor.id, utcnow()
    verification.organisation.verification_status = status
