"""The steps the demo deals share: a day on which the seed tells a step of a deal's past, everyone's acceptance of the
current terms, the walk from pricing into the public notice, and the sample PDFs the parties upload (all 示例)."""
import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time

from flask import current_app
from sqlalchemy import DateTime, update
from sqlalchemy.orm import Session

from market.accounts.models import User
from market.confirmations.evidence import EvidenceUpload
from market.deals import recording
from market.deals.models import (
    Bid,
    BidVersion,
    Deal,
    DealBrokerRequest,
    DealEvent,
    DealPayment,
    DealRegistration,
    DealSigning,
    DealStage,
    DealTermsConsent,
    Introduction,
)
from market.deals.permissions import may_accept_terms
from market.deals.pipeline import accept_terms, advance_deal, start_notice
from market.notifications.models import Notification
from market.timeutil import CHINA_OFFSET, utcnow

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


DATED_MODELS = (Bid, BidVersion, Deal, DealTermsConsent, DealBrokerRequest, DealEvent, DealSigning, DealRegistration,
                DealPayment, Introduction, Notification)
"""The records whose times a step told in the past carries: what the deal pages, timelines and notifications show (the
books and the audit log keep the times they were written)."""


@contextmanager
def told_on(session: Session, day: date, hour: int = 10) -> Iterator[None]:
    """Tell a step of the demo's past on `day`: the deal services count it as today, and the times the step wrote on
    deals, bids, introductions and notifications become that day's, at `hour` China time."""
    started = utcnow()
    with deal_clock(day):
        yield
    session.flush()
    when = datetime.combine(day, time(hour)) - CHINA_OFFSET
    for model in DATED_MODELS:
        for column in model.__table__.columns:
            if isinstance(column.type, DateTime):
                session.execute(update(model.__table__).where(column >= started).values({column.name: when}))
    session.expire_all()


def accept_all_terms(session: Session, deal_id: int, people: list[User]) -> None:
    """Each listed party member and named intermediary accepts the current terms (those still to accept)."""
    deal = session.get(Deal, deal_id)
    for person in people + [row.user for row in deal.intermediaries]:
        if may_accept_terms(person, deal):
            accept_terms(session, person, deal_id, deal.terms_version)


def into_notice(session: Session, deal_id: int, buyer: User, owner: User, starts_on: date) -> Deal:
    """The buyer moves the deal into negotiation, the owner into pricing, and the owner starts the 15-day notice on
    `starts_on` (the terms must be accepted by everyone)."""
    with told_on(session, starts_on):
        deal = session.get(Deal, deal_id)
        if deal.stage == DealStage.INTENT:
            advance_deal(session, buyer, deal_id, DealStage.NEGOTIATION)
        if deal.stage == DealStage.NEGOTIATION:
            advance_deal(session, owner, deal_id, DealStage.PRICING)
        start_notice(session, owner, deal_id, notice_days=NOTICE_DAYS)
    return session.get(Deal, deal_id)
