"""Uploaded PDFs: checked (a clean name ending in .pdf, the size limit, the PDF signature) and stored under a generated
name; the file is deleted again when the transaction that keeps its row rolls back."""
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, send_from_directory
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from market.errors import ValidationError
from market.inputs import FieldErrors, clean_text
from market.unit_of_work import on_commit, on_rollback

PDF_MAGIC = b"%PDF-"
MEGABYTE = 1024 * 1024
ORIGINAL_NAME_MAX_LENGTH = 255


@dataclass(frozen=True)
class StoredPdf:
    """Where an uploaded PDF was stored and what to show for it."""

    stored_name: str
    original_name: str
    size_bytes: int


def size_text(max_bytes: int) -> str:
    """A size limit as people read it: "20 MB", "512 KB"."""
    return f"{max_bytes // MEGABYTE} MB" if max_bytes >= MEGABYTE else f"{max_bytes // 1024} KB"


def store_pdf(session: Session, *, filename: str, stream, upload_folder: str, max_bytes: int,
              field: str = "file", default_name: str = "attachment.pdf") -> StoredPdf:
    """Check an uploaded PDF and store it under a generated name (the original name is kept for display only)."""
    display_name = (filename or "").replace("\\", "/").split("/")[-1].strip()[:ORIGINAL_NAME_MAX_LENGTH] or default_name
    name_errors = FieldErrors()
    clean_text(name_errors, field, display_name, max_len=ORIGINAL_NAME_MAX_LENGTH, multiline=False)
    if name_errors:
        raise ValidationError(_("文件名包含不允许的字符。"), {field: _("文件名包含不允许的字符。")})
    if not display_name.lower().endswith(".pdf"):
        raise ValidationError(_("只能上传 PDF 文件。"), {field: _("只能上传 PDF 文件。")})
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        limit = size_text(max_bytes)
        raise ValidationError(_("文件不能超过 %(size)s。", size=limit), {field: _("文件不能超过 %(size)s。", size=limit)})
    if not data.startswith(PDF_MAGIC):
        raise ValidationError(_("文件内容不是 PDF。"), {field: _("文件内容不是 PDF。")})
    stored_name = secrets.token_hex(16) + ".pdf"
    folder = Path(upload_folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / stored_name
    path.write_bytes(data)
    on_rollback(session, lambda: path.unlink(missing_ok=True))
    return StoredPdf(stored_name, display_name, len(data))


def delete_after_commit(session: Session, upload_folder: str, stored_name: str) -> None:
    """Delete a stored file once the transaction that removed its row commits."""
    stored = Path(upload_folder) / stored_name
    on_commit(session, lambda: stored.unlink(missing_ok=True))


def send_stored_pdf(stored_name: str, original_name: str):
    """The response that downloads a stored PDF under the name it was uploaded with."""
    return send_from_directory(current_app.config["UPLOAD_FOLDER"], stored_name, as_attachment=True,
                               download_name=original_name, mimetype="application/pdf")
