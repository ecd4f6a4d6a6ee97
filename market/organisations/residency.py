"""Valley residency as history: an admin records where an organisation is resident from which day (with the 入驻
agreement PDF, optional but encouraged) and when a residency ends. A change appends a row and closes the open one
(its last day filled in once); nothing is rewritten. `Organisation.valley_id` and `resident_since` keep the current
state, derived from the latest row in the same unit of work, for the code that reads them."""
import logging
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from market.accounts.models import Organisation, Residency, User
from market.declared import validate_input
from market.errors import InvalidStateError, NotFoundError, PermissionDeniedError, ValidationError
from market.organisations.common import get_organisation, notify_members
from market.organisations.inputs import EVIDENCE_PDF_MAX_BYTES, ResidencyEndInput, ResidencyRecordInput
from market.organisations.permissions import can_record_residency, can_see_organisation_documents
from market.taxonomy.models import Valley
from market.timeutil import utcnow
from market.uploads import store_pdf

audit = logging.getLogger("market.audit")


def record_residency(session: Session, actor: User, organisation_id: int, *, valley, since, note="",
                     filename: str | None = None, stream=None, upload_folder: str = "") -> Residency:
    """An admin records that the organisation is resident in a valley from a day on; a residency still open ends the
    day before (it must have begun earlier)."""
    organisation = _organisation_for_admin(session, actor, organisation_id)
    values, errors = validate_input(ResidencyRecordInput, {"valley": valley, "since": since, "note": note})
    if values.get("valley") and session.get(Valley, values["valley"]) is None:
        errors.add("valley", _("谷区不存在。"))
    latest = latest_residency(session, organisation.id)
    day = values.get("since")
    if day and latest is not None:
        if latest.until is None and day <= latest.since:
            errors.add("since", _("新的入驻日期必须晚于当前入驻的开始日期 %(d)s。", d=latest.since.isoformat()))
        elif latest.until is not None and day <= latest.until:
            errors.add("since", _("新的入驻日期必须晚于上一次入驻的最后一天 %(d)s。", d=latest.until.isoformat()))
        elif latest.until is None and latest.valley_id == values.get("valley"):
            errors.add("valley", _("该机构已入驻这个谷区；如需更正，请先结束当前入驻。"))
    if errors:
        raise ValidationError(_("请修改标出的内容。"), dict(errors))
    residency = Residency(organisation_id=organisation.id, valley_id=values["valley"], since=day, note=values["note"],
                          recorded_by_id=actor.id)
    if filename and stream is not None:
        stored = store_pdf(session, filename=filename, stream=stream, upload_folder=upload_folder,
                           max_bytes=EVIDENCE_PDF_MAX_BYTES, field="agreement", default_name="agreement.pdf")
        residency.evidence_stored_name = stored.stored_name
        residency.evidence_original_name = stored.original_name
        residency.evidence_size_bytes = stored.size_bytes
    if latest is not None and latest.until is None:
        _close(latest, actor, day - timedelta(days=1))
    session.add(residency)
    session.flush()
    _derive_current_state(session, organisation)
    notify_members(session, organisation, "residency_recorded",
                   _("平台已记录入驻：%(valley)s，%(since)s 起", valley=residency.valley.name, since=day.isoformat()))
    audit.info("residency recorded id=%s organisation_id=%s valley=%s since=%s by admin_id=%s", residency.id,
               organisation.id, residency.valley_id, day, actor.id)
    return residency


def end_residency(session: Session, actor: User, organisation_id: int, *, until) -> Residency:
    """An admin records the last day of the organisation's current residency."""
    organisation = _organisation_for_admin(session, actor, organisation_id)
    latest = latest_residency(session, organisation.id)
    if latest is None or latest.until is not None:
        raise InvalidStateError(_("该机构目前没有入驻任何谷区。"))
    values, errors = validate_input(ResidencyEndInput, {"until": until})
    if values.get("until") and values["until"] < latest.since:
        errors.add("until", _("最后一天不能早于入驻日期 %(d)s。", d=latest.since.isoformat()))
    if errors:
        raise ValidationError(_("请修改标出的内容。"), dict(errors))
    _close(latest, actor, values["until"])
    session.flush()
    _derive_current_state(session, organisation)
    notify_members(session, organisation, "residency_ended",
                   _("平台已记录入驻结束：%(valley)s，最后一天 %(until)s", valley=latest.valley.name,
                     until=latest.until.isoformat()))
    audit.info("residency ended id=%s organisation_id=%s until=%s by admin_id=%s", latest.id, organisation.id,
               latest.until, actor.id)
    return latest


def latest_residency(session: Session, organisation_id: int) -> Residency | None:
    """The organisation's most recent residency row, open or closed."""
    return session.scalar(select(Residency).where(Residency.organisation_id == organisation_id)
                          .order_by(Residency.since.desc(), Residency.id.desc()).limit(1))


def list_residencies(session: Session, organisation_id: int) -> list[Residency]:
    """The organisation's residency history, newest first."""
    return list(session.scalars(select(Residency).where(Residency.organisation_id == organisation_id)
                                .order_by(Residency.since.desc(), Residency.id.desc())))


def get_agreement(session: Session, actor: User | None, residency_id: int) -> Residency:
    """A residency whose 入驻 agreement PDF the actor may download, or NotFoundError."""
    residency = session.get(Residency, residency_id)
    if (residency is None or residency.evidence_stored_name is None
            or not can_see_organisation_documents(actor, residency.organisation_id)):
        raise NotFoundError(_("文件不存在。"))
    return residency


def _organisation_for_admin(session: Session, actor: User, organisation_id: int) -> Organisation:
    if not can_record_residency(actor):
        raise PermissionDeniedError(_("只有平台管理员可以记录谷区入驻。"))
    return get_organisation(session, organisation_id)


def _close(residency: Residency, actor: User, last_day) -> None:
    """Fill in the last day of an open residency, once."""
    residency.until, residency.ended_by_id, residency.ended_at = last_day, actor.id, utcnow()


def _derive_current_state(session: Session, organisation: Organisation) -> None:
    """Set the organisation's current valley and entry day from its latest row (none when it has ended)."""
    latest = latest_residency(session, organisation.id)
    current = latest if latest is not None and latest.until is None else None
    organisation.valley_id = current.valley_id if current else None
    organisation.resident_since = current.since if current else None
    session.expire(organisation, ["residencies"])
    session.flush()
