"""The evidence PDF a recorded fact carries (a payment's bank receipt or invoice): stored with the record or attached
later by its recorder while the fact is open, and required before an admin confirms the fact alone."""
import logging
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from market.accounts.models import User
from market.confirmations.inputs import EVIDENCE_PDF_MAX_BYTES
from market.confirmations.models import OPEN_STATUSES, STATUS_LABELS, FactStatus
from market.confirmations.table import FactKind
from market.errors import InvalidStateError, PermissionDeniedError, ValidationError
from market.timeutil import utcnow
from market.uploads import delete_after_commit, store_pdf

audit = logging.getLogger("market.audit")

EVIDENCE_FIELD = "evidence"
"""The form and API field that carries the evidence PDF."""

ADMIN_NEEDS_EVIDENCE = {
    FactKind.DEAL_PAYMENT: _l("平台确认须有回款凭证（银行回单或发票）。"),
    FactKind.PREORDER_PAYMENT: _l("平台确认须有付款凭证（银行回单或发票）。"),
}
"""The facts an admin confirms only against their evidence, with the refusal when it is missing."""


@dataclass(frozen=True)
class EvidenceUpload:
    """An uploaded evidence file as the services take it: its name, its stream and where files are stored."""

    filename: str | None
    stream: Any
    upload_folder: str

    @property
    def given(self) -> bool:
        """Whether a file was chosen at all (an optional field left empty gives none)."""
        return self.stream is not None and bool(self.filename)


def check_admin_evidence(kind: FactKind, record) -> None:
    """Refuse an admin's confirmation of a fact that needs evidence and carries none."""
    if kind in ADMIN_NEEDS_EVIDENCE and not record.has_evidence:
        raise InvalidStateError(str(ADMIN_NEEDS_EVIDENCE[kind]))


def may_attach_evidence(actor: User | None, record) -> bool:
    """The recorder attaches (or replaces) the evidence while the fact waits for a decision."""
    return (actor is not None and getattr(actor, "is_authenticated", False) and record.recorded_by_id == actor.id
            and record.status in OPEN_STATUSES)


def store_evidence(session: Session, record, actor: User, upload: EvidenceUpload) -> None:
    """Check and store the PDF on the record (a replaced file is deleted once the change commits)."""
    stored = store_pdf(session, filename=upload.filename, stream=upload.stream, upload_folder=upload.upload_folder,
                       max_bytes=EVIDENCE_PDF_MAX_BYTES, field=EVIDENCE_FIELD, default_name="evidence.pdf")
    previous = record.evidence_stored_name
    record.evidence_stored_name, record.evidence_original_name = stored.stored_name, stored.original_name
    record.evidence_uploaded_at, record.evidence_uploaded_by_id = utcnow(), actor.id
    if previous:
        delete_after_commit(session, upload.upload_folder, previous)


def attach_evidence(session: Session, record, actor: User, upload: EvidenceUpload) -> None:
    """The recorder attaches the evidence to an open fact (replacing any earlier file)."""
    if record.recorded_by_id != actor.id:
        raise PermissionDeniedError(_("只有登记人可以上传凭证。"))
    if record.status not in OPEN_STATUSES:
        raise InvalidStateError(_("该记录已处理（%(s)s），不能再上传凭证。", s=STATUS_LABELS[FactStatus(record.status)]))
    if not upload.given:
        raise ValidationError(_("请选择凭证文件（PDF）。"), {EVIDENCE_FIELD: _("请选择凭证文件（PDF）。")})
    store_evidence(session, record, actor, upload)
    session.flush()
    audit.info("evidence attached table=%s id=%s by user_id=%s", record.__tablename__, record.id, actor.id)
