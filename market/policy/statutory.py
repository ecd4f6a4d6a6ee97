"""Statutory checks on how a transferor shares its net proceeds with the inventors (POLICY.md, settled thresholds).

Pure Python (no Flask, no database), like the engine; the thresholds come from the rule set in force.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from market.money import BASIS_POINTS
from market.policy.rules import OrganisationKind, ProceedsSplitLimits, RuleSet

INVENTOR_SHARE_KINDS = frozenset({OrganisationKind.UNIVERSITY, OrganisationKind.INSTITUTE})
"""Transferors bound by the inventors' share of net income (促进科技成果转化法 Art. 45: universities and state-funded
research institutes; POLICY.md settled question 9), whatever a rule-set version's applies_to_kinds lists."""


class FindingLevel(StrEnum):
    """How serious a statutory finding is: an error blocks, a warning is shown."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class SplitFinding:
    """One statutory finding on a proceeds split, with a stable code for translation."""

    level: FindingLevel
    code: str
    message: str


def _percent(rate_bp: int) -> str:
    """Write basis points as a percentage without float: 5000 → "50%", 6550 → "65.5%"."""
    whole, hundredths = divmod(rate_bp, 100)
    return f"{whole}.{hundredths:02d}".rstrip("0").rstrip(".") + "%"


def proceeds_split_limits_on(rule_sets: Sequence[RuleSet], day: dt.date) -> ProceedsSplitLimits | None:
    """The statutory proceeds-split thresholds in force on a day (first rule set that has them)."""
    for rule_set in rule_sets:
        version = rule_set.version_on(day)
        if version is not None and version.proceeds_split is not None:
            return version.proceeds_split
    return None


def check_proceeds_split(
    limits: ProceedsSplitLimits | None, transferor_kind: OrganisationKind, inventor_share_bp: int
) -> tuple[SplitFinding, ...]:
    """Check the inventors' share of a transferor's net proceeds against the statutory thresholds."""
    if type(inventor_share_bp) is not int or not 0 <= inventor_share_bp <= BASIS_POINTS:
        return (
            SplitFinding(FindingLevel.ERROR, "invalid_share", "The inventors' share must be 0 to 10000 basis points."),
        )
    if limits is None or transferor_kind not in limits.applies_to_kinds | INVENTOR_SHARE_KINDS:
        return ()
    if inventor_share_bp < limits.inventor_floor_bp:
        return (
            SplitFinding(
                FindingLevel.ERROR,
                "below_statutory_floor",
                f"The inventors' share of {_percent(inventor_share_bp)} is below the statutory floor of "
                f"{_percent(limits.inventor_floor_bp)} of net income.",
            ),
        )
    if inventor_share_bp < limits.inventor_warning_below_bp:
        return (
            SplitFinding(
                FindingLevel.WARNING,
                "below_recommended_share",
                f"The inventors' share of {_percent(inventor_share_bp)} is below the "
                f"{_percent(limits.inventor_warning_below_bp)} expected of Shanxi public units.",
            ),
        )
    return ()
