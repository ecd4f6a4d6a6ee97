"""Sending the outbox through the configured SMTP server: shared by `flask send-mail` and the outbox job."""
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.orm import Session

from market.accounts.models import OutboxMail
from market.timeutil import utcnow

SMTP_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class Delivery:
    """What one pass over the outbox did: mails sent (marked as sent) and, if it stopped early, why."""

    sent: int
    error: str = ""


def send_outbox(session: Session, config) -> Delivery:
    """Send every unsent mail, oldest first, marking each one sent as it goes (the caller commits); a connection or
    SMTP failure stops the pass and is returned, leaving the rest for the next pass. Rows another sender holds
    (PostgreSQL) are skipped."""
    pending = list(session.scalars(select(OutboxMail).where(OutboxMail.sent_at.is_(None)).order_by(OutboxMail.id)
                                   .with_for_update(skip_locked=True)))
    if not pending:
        return Delivery(0)
    sent = 0
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=SMTP_TIMEOUT_SECONDS) as smtp:
            smtp.starttls()
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            for mail in pending:
                message = EmailMessage()
                message["From"], message["To"], message["Subject"] = config["MAIL_SENDER"], mail.recipient, mail.subject
                message.set_content(mail.body)
                smtp.send_message(message)
                mail.sent_at = utcnow()
                sent += 1
                session.flush()
    except (OSError, smtplib.SMTPException) as error:
        return Delivery(sent, str(error) or type(error).__name__)
    return Delivery(sent)
