"""Policy events and organisations as plain data: the facts the engine is asked to judge."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from market.policy.rules import ANY_VALLEY, OrganisationKind, PartyCondition


class EventType(StrEnum):
    """The kinds of event a scenario or the app records."""

    PREORDER_SIGNED = "preorder_signed"
    PREORDER_PAID = "preorder_paid"
    TRANSFER_SIGNED = "transfer_signed"
    TRANSFER_PAID = "transfer_paid"
    STARTUP_GRANT = "startup_grant"


@dataclass(frozen=True)
class Organisation:
    """A party known to the engine; valley None means not resident in any valley."""

    id: str
    kind: OrganisationKind
    valley: str | None = None
    resident_since: dt.date | None = None
    """None with a valley: resident with no known start, so resident on every date."""

    def is_resident_on(self, day: dt.date, valleys: frozenset[str]) -> bool:
        """True when resident on the day in one of the valleys ("any" matches every valley)."""
        if self.valley is None:
            return False
        if self.resident_since is not None and day < self.resident_since:
            return False
        return ANY_VALLEY in valleys or self.valley in valleys

    def meets(self, condition: PartyCondition, day: dt.date) -> bool:
        """True when the organisation meets a rule's party condition on the day."""
        if condition.kinds is not None and self.kind not in condition.kinds:
            return False
        return condition.valleys is None or self.is_resident_on(day, condition.valleys)


@dataclass(frozen=True)
class IntermediaryShare:
    """A named intermediary of a deal and the share of the reward agreed for them."""

    person: str
    share_bp: int


@dataclass(frozen=True)
class PreorderSigned:
    """A forward pre-order agreement was signed (earns nothing by itself)."""

    type: ClassVar[EventType] = EventType.PREORDER_SIGNED
    id: str
    date: dt.date
    agreement: str
    buyer: str
    seller: str
    value_fen: int
    related: bool = False


@dataclass(frozen=True)
class PreorderPaid:
    """Goods under an agreement were delivered, accepted and paid (the R1 base)."""

    type: ClassVar[EventType] = EventType.PREORDER_PAID
    id: str
    date: dt.date
    agreement: str
    amount_fen: int


@dataclass(frozen=True)
class TransferSigned:
    """A technology-transfer contract was signed, naming its intermediaries and agent."""

    type: ClassVar[EventType] = EventType.TRANSFER_SIGNED
    id: str
    date: dt.date
    contract: str
    achievement: str
    transferor: str
    transferee: str
    value_fen: int
    reward_rate_bp: int
    intermediaries: tuple[IntermediaryShare, ...] = ()
    agent: str | None = None
    registered: bool = True
    intermediary_exception: str | None = None


@dataclass(frozen=True)
class TransferPaid:
    """Proceeds were received under a transfer contract."""

    type: ClassVar[EventType] = EventType.TRANSFER_PAID
    id: str
    date: dt.date
    contract: str
    amount_fen: int


@dataclass(frozen=True)
class StartupGrant:
    """A startup selected into a valley asks for start-up (registered) capital."""

    type: ClassVar[EventType] = EventType.STARTUP_GRANT
    id: str
    date: dt.date
    startup: str
    founders_paid_in_fen: int
    awarded_fen: int


Event = PreorderSigned | PreorderPaid | TransferSigned | TransferPaid | StartupGrant

EVENT_CLASSES: dict[EventType, type] = {
    EventType.PREORDER_SIGNED: PreorderSigned,
    EventType.PREORDER_PAID: PreorderPaid,
    EventType.TRANSFER_SIGNED: TransferSigned,
    EventType.TRANSFER_PAID: TransferPaid,
    EventType.STARTUP_GRANT: StartupGrant,
}
