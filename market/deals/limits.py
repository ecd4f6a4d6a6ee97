"""Limits and stage groups of the deal services, declared once."""
import logging
import re
from datetime import date

from market.deals.models import (
    PIPELINE,
    DealStage,
)

audit = logging.getLogger("market.audit")

MAX_INTERMEDIARIES_PER_ACHIEVEMENT = 3
MAX_INTERMEDIARY_ROWS = 3
DEFAULT_NOTICE_DAYS = 15
MAX_NOTICE_DAYS = 90
MAX_MESSAGE_CHARS = 2000
MAX_PROPOSAL_CHARS = 5000
MAX_REASON_CHARS = 1000
EARLIEST_DATE = date(2000, 1, 1)
REGISTRATION_NUMBER_MIN_LENGTH = 4
REGISTRATION_NUMBER_MAX_LENGTH = 60
REGISTRATION_NUMBER = re.compile(
    rf"[A-Z0-9][A-Z0-9-]{{{REGISTRATION_NUMBER_MIN_LENGTH - 1},{REGISTRATION_NUMBER_MAX_LENGTH - 1}}}", re.ASCII)
EDITABLE_TERMS_STAGES = (DealStage.INTENT, DealStage.NEGOTIATION, DealStage.PRICING)
TERMS_LOCKED_STAGES = (DealStage.NOTICE, DealStage.SIGNED)
"""From the notice to signing the terms stand as noticed (withdrawing the notice reopens them)."""
BEFORE_REGISTRATION = (DealStage.INTENT, DealStage.NEGOTIATION, DealStage.PRICING, DealStage.NOTICE, DealStage.SIGNED)
BOARD_STAGES = PIPELINE + [DealStage.TERMINATED]
MAX_OPEN_INTRODUCTIONS_PER_BROKER = 30
"""How many introductions one broker may have waiting for answers at a time."""
REASK_AFTER_DECLINE_DAYS = 30
"""How long a declined introduction keeps its broker from introducing the same pair again."""
