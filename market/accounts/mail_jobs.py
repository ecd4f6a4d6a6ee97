"""The outbox job: mail queued by a committed unit of work is sent by a worker, retried while SMTP fails."""
import logging

from flask import current_app
from sqlalchemy.orm import Session

from market.accounts.mail_delivery import send_outbox
from market.jobs.registry import job_kind
from market.jobs.running import PartialJobError

SEND_OUTBOX = "mail.send_outbox"
log = logging.getLogger("market.mail")


@job_kind(SEND_OUTBOX, retries=5, retry_waits=(30, 120, 600, 1800, 3600))
def send_outbox_job(session: Session) -> int:
    """Drain the outbox; the mails sent before an SMTP failure stay marked sent and the job is retried for the rest."""
    config = current_app.config
    if not config["MAIL_SERVER"]:
        log.info("MAIL_SERVER is not configured; mails stay in the outbox")
        return 0
    delivery = send_outbox(session, config)
    if delivery.error:
        raise PartialJobError(f"sent {delivery.sent}; stopped: {delivery.error}")
    return delivery.sent
