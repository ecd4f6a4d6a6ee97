"""The steps the demo deals share: a clock set back while the seed tells a deal's past, everyone's acceptance of the
current terms, the walk from pricing into the public notice, and the sample PDFs the parties upload (all 示例)."""
import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from flask import current_app
from sqlalchemy.orm import Session

from market.accounts.models import User
from market.confirmations.evidence import EvidenceUpload
from market.deals import recording
from market.deals.models import Deal, DealStage
from market.deals.permissions import may_accept_terms
from market.deals.pipeline import accept_terms, advance_deal, start_notice

WAN = 1_000_000  # fen in 10,000 yuan
NOTICE_DAYS = 15


def sample_pdf(caption: str) -> bytes:
    """A one-page PDF showing an ASCII caption, standing in for a document the demo parties upload."""
    text = f"BT /F1 18 Tf 72 760 Td ({caption}) Tj ET\n".encode("ascii")
    return (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
            b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
            b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >> endobj\n"
            + f"4 0 obj << /Length {len(text)} >> stream\n".encode("ascii") + text
            + b"endstream endobj\n5 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj\n"
              b"trailer << /Root 1 0 R >>\n%%EOF\n")


def upload(filename: str, caption: str) -> EvidenceUpload:
    """A sample PDF uploaded into the app's upload folder (a certificate, a receipt)."""
    return EvidenceUpload(filename, io.BytesIO(sample_pdf(caption)), current_app.config["UPLOAD_FOLDER"])


@contextmanager
def deal_clock(day: date) -> Iterator[None]:
    """Run the deal services as if today were `day`: the demo tells deals that began in the past, and the services
    date a notice from today and refuse a signing before it ends."""
    real = recording.today
    recording.today = lambda: day
    try:
        yield
    finally:
        recording.today = real


def accept_all_terms(session: Session, deal_id: int, people: list[User]) -> None:
    """Each listed party member and named intermediary accepts the current terms (those still to accept)."""
    deal = session.get(Deal, deal_id)
    for person in people + [row.user for row in deal.intermediaries]:
        if may_accept_terms(person, deal):
            accept_terms(session, person, deal_id, deal.terms_version)


def into_notice(session: Session, deal_id: int, buyer: User, owner: User, starts_on: date) -> Deal:
    """The buyer moves the deal into negotiation, the owner into pricing, and the owner starts the 15-day notice on
    `starts_on` (the terms must be accepted by everyone)."""
    with deal_clock(starts_on):
        deal = session.get(Deal, deal_id)
        if deal.stage == DealStage.INTENT:
            advance_deal(session, buyer, deal_id, DealStage.NEGOTIATION)
        if deal.stage == DealStage.NEGOTIATION:
            advance_deal(session, owner, deal_id, DealStage.PRICING)
        return start_notice(session, owner, deal_id, notice_days=NOTICE_DAYS)
