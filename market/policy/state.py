"""The policy engine's plain data: the state earlier events established, cap keys and usage, award lines and
outcomes, and how much room a cap still has (pure Python, read-only values)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from market.policy.events import IntermediaryShare
from market.policy.rules import Cap, CapScope, Rule, RuleKind, RuleSet, RuleSetVersion


class AwardStatus(StrEnum):
    """What happens to an award: paid after approval, held (rule not confirmed), or waived by stacking."""

    PAYABLE = "payable"
    HELD = "held"
    WAIVED = "waived"


@dataclass(frozen=True)
class AgreementRecord:
    """A signed forward pre-order agreement and what has been paid under it."""

    agreement: str
    buyer: str
    seller: str
    value_fen: int
    signed_on: dt.date
    related: bool = False
    paid_fen: int = 0


@dataclass(frozen=True)
class ContractRecord:
    """A signed transfer contract and what has been paid under it."""

    contract: str
    achievement: str
    transferor: str
    transferee: str
    value_fen: int
    reward_rate_bp: int
    signed_on: dt.date
    intermediaries: tuple[IntermediaryShare, ...] = ()
    agent: str | None = None
    registered: bool = True
    paid_fen: int = 0


@dataclass(frozen=True)
class CapKey:
    """Where a cap's usage accumulates: rule id, scope, subject (recipient/agreement/…) and year."""

    rule: str
    scope: CapScope
    subject: str
    year: int | None = None


@dataclass(frozen=True)
class CapUsage:
    """What a cap key has used: granted fen, and the number of non-zero grants."""

    granted_fen: int = 0
    grants: int = 0


def _frozen_mapping(value: Mapping) -> Mapping:
    """Return a read-only mapping (copying unless it already is one)."""
    return value if isinstance(value, MappingProxyType) else MappingProxyType(dict(value))


@dataclass(frozen=True)
class PolicyState:
    """Everything earlier events established that later events depend on (plain data, read-only)."""

    agreements: Mapping[str, AgreementRecord] = field(default_factory=dict)
    contracts: Mapping[str, ContractRecord] = field(default_factory=dict)
    intermediaries: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Distinct intermediaries named for each achievement, over all its deals."""
    cap_usage: Mapping[CapKey, CapUsage] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("agreements", "contracts", "intermediaries", "cap_usage"):
            object.__setattr__(self, name, _frozen_mapping(getattr(self, name)))

    def usage(self, key: CapKey) -> CapUsage:
        """The usage recorded under a cap key (zero when none)."""
        return self.cap_usage.get(key, CapUsage())


@dataclass(frozen=True)
class Award:
    """One award line: an (event, rule, recipient) with the computed and granted amounts."""

    event: str
    rule: str
    recipient: str
    computed_fen: int
    granted_fen: int
    status: AwardStatus
    capped_by: str | None = None
    waived_by: str | None = None
    tops_up: str | None = None
    kind: RuleKind | None = None
    rule_set: str = ""
    version: str = ""
    payer: str = ""
    stacking_group: str = ""


@dataclass(frozen=True)
class CapCharge:
    """What an event added to one cap key, with the cap's limit (for a guarded update in the app)."""

    key: CapKey
    amount_fen: int
    grants: int
    limit_fen: int | None
    """None for a one-time cap, whose limit is one grant."""


@dataclass(frozen=True)
class EventOutcome:
    """The result of applying one event: its awards or its rejection, and the state after it."""

    event: str | None
    awards: tuple[Award, ...]
    rejection: str | None
    state: PolicyState
    cap_charges: tuple[CapCharge, ...] = ()
    rejection_code: str | None = None
    """What kind of rejection (e.g. "payment_above_value"), for the app to word in the user's language."""
    rejection_params: Mapping[str, object] = field(default_factory=dict)
    """The facts the rejection names (engine ids, fen, ISO dates, rule ids), for the app to word."""

    @property
    def is_rejected(self) -> bool:
        """True when the event was invalid (it earned nothing and changed no state)."""
        return self.rejection is not None


@dataclass(frozen=True)
class RuleInForce:
    """A rule together with the rule set and version that put it in force on a date."""

    rule_set: RuleSet
    version: RuleSetVersion
    rule: Rule


def cap_headroom(cap: Cap, usage: CapUsage, wanted_fen: int) -> int:
    """How much of an amount a cap still admits over its usage (inclusive); a one-time cap admits all or nothing."""
    if cap.scope.counts_grants:
        return 0 if usage.grants >= 1 else wanted_fen
    return max(cap.amount_fen - usage.granted_fen, 0)
