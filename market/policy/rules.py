"""Policy rule sets as data: the model, and strict loading from TOML files or plain mappings."""
from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

from market.money import BASIS_POINTS, MAX_FEN

SHIPPED_RULE_SETS_DIR = Path(__file__).resolve().parent.parent.parent / "seed_data" / "policies"
FORMAT_VERSION = 1


class RuleSetError(ValueError):
    """A rule-set file or mapping is unreadable or breaks the format; the message names the place."""


class RuleKind(StrEnum):
    """Which computation a rule uses; the numbers it uses are data."""

    PREORDER_SUBSIDY = "preorder_subsidy"
    INTERMEDIARY_SHARE = "intermediary_share"
    CITY_AGENT_REWARD = "city_agent_reward"
    STARTUP_CAPITAL = "startup_capital"


class RuleStatus(StrEnum):
    """Whether a rule's awards may be paid (confirmed) or are only computed and held."""

    CONFIRMED = "confirmed"
    DRAFT = "draft"
    UNCONFIRMED = "unconfirmed"

    @property
    def is_payable(self) -> bool:
        """True when awards under a rule with this status may be paid out."""
        return self is RuleStatus.CONFIRMED


class RecipientRole(StrEnum):
    """Who receives a rule's award, named by the role the party plays in the event."""

    SELLER = "seller"
    BUYER = "buyer"
    INTERMEDIARIES = "intermediaries"
    AGENT = "agent"
    STARTUP = "startup"


class CapScope(StrEnum):
    """What a cap is counted over; each scope gives the key under which usage accumulates."""

    RECIPIENT_CALENDAR_YEAR = "recipient_calendar_year"
    RECIPIENT_RULE_SET_PERIOD = "recipient_rule_set_period"
    AGREEMENT = "agreement"
    ACHIEVEMENT = "achievement"
    CONTRACT = "contract"
    ONE_TIME_PER_STARTUP = "one_time_per_startup"

    @property
    def counts_grants(self) -> bool:
        """True for a one-time cap (at most one non-zero grant), False for an amount cap."""
        return self is CapScope.ONE_TIME_PER_STARTUP


class OrganisationKind(StrEnum):
    """The kinds of organisation the policy distinguishes."""

    UNIVERSITY = "university"
    INSTITUTE = "institute"
    ENTERPRISE = "enterprise"
    AGENCY = "agency"
    INVESTOR = "investor"


ANY_VALLEY = "any"


@dataclass(frozen=True)
class Cap:
    """An inclusive cap: amount_fen over the scope, or (one-time scopes) a single non-zero grant."""

    scope: CapScope
    amount_fen: int | None = None


@dataclass(frozen=True)
class PartyCondition:
    """What a party of the event must be: one of some kinds, and/or resident in a valley on the date."""

    kinds: frozenset[OrganisationKind] | None = None
    valleys: frozenset[str] | None = None
    """None: residency not required; frozenset({ANY_VALLEY}): resident in any valley."""


@dataclass(frozen=True)
class Conditions:
    """When a rule applies; a condition not met means no award, never an error."""

    parties: Mapping[str, PartyCondition] = field(default_factory=dict)
    unrelated_parties: bool = False
    registered_contract: bool = False
    signed_since_rule_set_start: bool = False


@dataclass(frozen=True)
class Rule:
    """One rule of a rule-set version: its computation kind and all of its numbers."""

    id: str
    kind: RuleKind
    status: RuleStatus
    recipient: RecipientRole
    stacking_group: str
    payer: str
    title: str = ""
    source: str = ""
    rate_bp: int | None = None
    caps: tuple[Cap, ...] = ()
    min_amount_fen: int | None = None
    max_amount_fen: int | None = None
    max_share_of_capital_bp: int | None = None
    max_people_per_achievement: int | None = None
    max_reward_rate_bp: int | None = None
    conditions: Conditions = field(default_factory=Conditions)


@dataclass(frozen=True)
class ProceedsSplitLimits:
    """Statutory checks on a transferor's proceeds split: inventors' share floor and warning line."""

    applies_to_kinds: frozenset[OrganisationKind]
    inventor_floor_bp: int
    inventor_warning_below_bp: int


@dataclass(frozen=True)
class RuleSetVersion:
    """The rules in force from effective_from to effective_to (inclusive; None = open-ended)."""

    version: str
    effective_from: dt.date
    effective_to: dt.date | None
    rules: tuple[Rule, ...]
    proceeds_split: ProceedsSplitLimits | None = None

    def covers(self, day: dt.date) -> bool:
        """True when the version is in force on the given day."""
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)


@dataclass(frozen=True)
class RuleSet:
    """A named policy rule set: its versions in publication order (a later version wins where windows overlap)."""

    name: str
    title: str
    versions: tuple[RuleSetVersion, ...]

    @property
    def starts_on(self) -> dt.date:
        """The first day any version of the rule set is in force."""
        return min(version.effective_from for version in self.versions)

    def version_on(self, day: dt.date) -> RuleSetVersion | None:
        """The version in force on the given day: the last published one whose window covers it, or None."""
        for version in reversed(self.versions):
            if version.covers(day):
                return version
        return None


# Which recipients, cap scopes and condition parties each kind of computation accepts (the
# structure of the computation, not its numbers).
_KIND_RECIPIENTS = {
    RuleKind.PREORDER_SUBSIDY: {RecipientRole.SELLER, RecipientRole.BUYER},
    RuleKind.INTERMEDIARY_SHARE: {RecipientRole.INTERMEDIARIES},
    RuleKind.CITY_AGENT_REWARD: {RecipientRole.AGENT},
    RuleKind.STARTUP_CAPITAL: {RecipientRole.STARTUP},
}
_KIND_SCOPES = {
    RuleKind.PREORDER_SUBSIDY: {
        CapScope.RECIPIENT_CALENDAR_YEAR,
        CapScope.RECIPIENT_RULE_SET_PERIOD,
        CapScope.AGREEMENT,
    },
    RuleKind.INTERMEDIARY_SHARE: {CapScope.ACHIEVEMENT, CapScope.CONTRACT},
    RuleKind.CITY_AGENT_REWARD: {
        CapScope.CONTRACT,
        CapScope.ACHIEVEMENT,
        CapScope.RECIPIENT_CALENDAR_YEAR,
        CapScope.RECIPIENT_RULE_SET_PERIOD,
    },
    RuleKind.STARTUP_CAPITAL: {
        CapScope.ONE_TIME_PER_STARTUP,
        CapScope.RECIPIENT_CALENDAR_YEAR,
        CapScope.RECIPIENT_RULE_SET_PERIOD,
    },
}
_KIND_PARTIES = {
    RuleKind.PREORDER_SUBSIDY: ("seller", "buyer"),
    RuleKind.INTERMEDIARY_SHARE: ("transferor", "transferee"),
    RuleKind.CITY_AGENT_REWARD: ("transferor", "transferee"),
    RuleKind.STARTUP_CAPITAL: ("startup",),
}
_KIND_FLAGS = {
    RuleKind.PREORDER_SUBSIDY: {"unrelated_parties", "signed_since_rule_set_start"},
    RuleKind.INTERMEDIARY_SHARE: {"registered_contract", "signed_since_rule_set_start"},
    RuleKind.CITY_AGENT_REWARD: {"registered_contract", "signed_since_rule_set_start"},
    RuleKind.STARTUP_CAPITAL: set(),
}
_KIND_REQUIRED = {
    RuleKind.PREORDER_SUBSIDY: {"rate_bp"},
    RuleKind.INTERMEDIARY_SHARE: {"max_people_per_achievement"},
    RuleKind.CITY_AGENT_REWARD: {"rate_bp"},
    RuleKind.STARTUP_CAPITAL: {"min_amount_fen", "max_amount_fen", "max_share_of_capital_bp"},
}
_KIND_OPTIONAL = {
    RuleKind.PREORDER_SUBSIDY: set(),
    RuleKind.INTERMEDIARY_SHARE: {"max_reward_rate_bp"},
    RuleKind.CITY_AGENT_REWARD: set(),
    RuleKind.STARTUP_CAPITAL: set(),
}
_KIND_SPECIFIC = {
    "rate_bp",
    "min_amount_fen",
    "max_amount_fen",
    "max_share_of_capital_bp",
    "max_people_per_achievement",
    "max_reward_rate_bp",
}
_RULE_KEYS = {
    "id",
    "kind",
    "title",
    "source",
    "status",
    "recipient",
    "stacking_group",
    "payer",
    "caps",
    "conditions",
} | _KIND_SPECIFIC
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}", re.ASCII)
_VERSION_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", re.ASCII)
_VALLEY_ID = re.compile(r"[a-z][a-z0-9_]{0,31}", re.ASCII)
_PAYER = re.compile(r"fiscal:[a-z][a-z0-9_]{0,31}|proceeds:transferor", re.ASCII)


def load_rule_set(path: str | Path) -> RuleSet:
    """Read and validate a rule-set TOML file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RuleSetError(f"cannot read rule-set file {path}: {error}") from error
    return parse_rule_set_toml(text, origin=str(path))


def shipped_rule_set_paths(name: str = "default", folder: Path = SHIPPED_RULE_SETS_DIR) -> list[Path]:
    """The shipped publications of a rule set, oldest first: <name>.toml, then each <name>-<version>.toml that
    republishes it with one more version (a publication keeps every earlier version unchanged)."""
    if not _IDENTIFIER.fullmatch(name):
        raise RuleSetError(f"{name!r} is not a rule-set name")
    paths = [folder / f"{name}.toml", *folder.glob(f"{name}-*.toml")]
    return sorted(paths, key=lambda path: len(load_rule_set(path).versions))


def load_shipped_rule_set(name: str = "default") -> RuleSet:
    """Read the newest shipped publication of a rule set (default → default.toml and its republications)."""
    return load_rule_set(shipped_rule_set_paths(name)[-1])


@dataclass(frozen=True)
class RewardRateLimit:
    """The highest intermediary reward rate a deal may agree, and the rule that sets it."""

    max_bp: int
    rule: Rule
    rule_set: str
    version: str


def reward_rate_limit_on(rule_sets: Sequence[RuleSet], day: dt.date) -> RewardRateLimit | None:
    """The tightest max_reward_rate_bp of the intermediary_share rules in force on a day (None: no maximum)."""
    found = None
    for rule_set in rule_sets:
        version = rule_set.version_on(day)
        for rule in version.rules if version is not None else ():
            maximum = rule.max_reward_rate_bp if rule.kind is RuleKind.INTERMEDIARY_SHARE else None
            if maximum is not None and (found is None or maximum < found.max_bp):
                found = RewardRateLimit(maximum, rule, rule_set.name, version.version)
    return found


def parse_rule_set_toml(text: str, origin: str = "rule set") -> RuleSet:
    """Parse and validate rule-set TOML text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RuleSetError(f"{origin}: not valid TOML: {error}") from error
    return parse_rule_set(data, origin=origin)


def parse_rule_set(data: Mapping[str, Any], origin: str = "rule set") -> RuleSet:
    """Validate a rule set given as plain data (from TOML or stored JSON; dates as date or ISO text)."""
    reader = _Reader(origin)
    reader.check_keys(data, "", required={"format", "name", "versions"}, optional={"title"})
    if data["format"] != FORMAT_VERSION or type(data["format"]) is not int:
        reader.fail("format", f"must be {FORMAT_VERSION}")
    name = reader.identifier(data["name"], "name")
    title = reader.text(data.get("title", ""), "title")
    raw_versions = reader.table_list(data["versions"], "versions")
    if not raw_versions:
        reader.fail("versions", "must hold at least one version")
    versions = tuple(
        _parse_version(reader, raw, f"versions[{index}]") for index, raw in enumerate(raw_versions)
    )
    labels = [version.version for version in versions]
    if len(set(labels)) != len(labels):
        reader.fail("versions", "version labels must be unique")
    return RuleSet(name=name, title=title, versions=versions)


def _parse_version(reader: _Reader, raw: Mapping[str, Any], where: str) -> RuleSetVersion:
    """Validate one version table."""
    reader.check_keys(
        raw,
        where,
        required={"version", "effective_from", "rules"},
        optional={"effective_to", "description", "proceeds_split"},
    )
    label = raw["version"]
    if not isinstance(label, str) or not _VERSION_LABEL.fullmatch(label):
        reader.fail(f"{where}.version", "must be a label of ASCII letters, digits, _ . - (e.g. 2024.1)")
    effective_from = reader.date(raw["effective_from"], f"{where}.effective_from")
    effective_to = None
    if "effective_to" in raw:
        effective_to = reader.date(raw["effective_to"], f"{where}.effective_to")
        if effective_to < effective_from:
            reader.fail(f"{where}.effective_to", "is before effective_from")
    reader.text(raw.get("description", ""), f"{where}.description")
    raw_rules = reader.table_list(raw["rules"], f"{where}.rules")
    rules = tuple(
        _parse_rule(reader, rule, f"{where}.rules[{index}]") for index, rule in enumerate(raw_rules)
    )
    ids = [rule.id for rule in rules]
    if len(set(ids)) != len(ids):
        reader.fail(f"{where}.rules", "rule ids must be unique within a version")
    proceeds_split = None
    if "proceeds_split" in raw:
        proceeds_split = _parse_proceeds_split(reader, raw["proceeds_split"], f"{where}.proceeds_split")
    return RuleSetVersion(label, effective_from, effective_to, rules, proceeds_split)


def _parse_rule(reader: _Reader, raw: Mapping[str, Any], where: str) -> Rule:
    """Validate one rule table against its kind."""
    reader.check_keys(
        raw,
        where,
        required={"id", "kind", "status", "recipient", "stacking_group", "payer"},
        optional=_RULE_KEYS,
    )
    kind = reader.choice(raw["kind"], RuleKind, f"{where}.kind")
    rule_id = reader.identifier(raw["id"], f"{where}.id")
    where = f"{where} ({rule_id})"
    required, optional = _KIND_REQUIRED[kind], _KIND_OPTIONAL[kind]
    for key in sorted(_KIND_SPECIFIC):
        if key in required and key not in raw:
            reader.fail(where, f"a {kind} rule needs {key}")
        if key not in required | optional and key in raw:
            reader.fail(where, f"a {kind} rule does not use {key}")
    recipient = reader.choice(raw["recipient"], RecipientRole, f"{where}.recipient")
    if recipient not in _KIND_RECIPIENTS[kind]:
        allowed = ", ".join(sorted(_KIND_RECIPIENTS[kind]))
        reader.fail(f"{where}.recipient", f"a {kind} rule pays one of: {allowed}")
    payer = reader.text(raw["payer"], f"{where}.payer")
    if not _PAYER.fullmatch(payer):
        reader.fail(f"{where}.payer", "must be fiscal:<budget> or proceeds:transferor")
    if payer == "proceeds:transferor" and kind not in _TRANSFER_KINDS:
        reader.fail(f"{where}.payer", "proceeds:transferor needs a transfer rule")
    caps = tuple(
        _parse_cap(reader, cap, kind, f"{where}.caps[{index}]")
        for index, cap in enumerate(reader.table_list(raw.get("caps", []), f"{where}.caps"))
    )
    scopes = [cap.scope for cap in caps]
    if len(set(scopes)) != len(scopes):
        reader.fail(f"{where}.caps", "each cap scope may appear once per rule")
    rule = Rule(
        id=rule_id,
        kind=kind,
        status=reader.choice(raw["status"], RuleStatus, f"{where}.status"),
        recipient=recipient,
        stacking_group=reader.identifier(raw["stacking_group"], f"{where}.stacking_group"),
        payer=payer,
        title=reader.text(raw.get("title", ""), f"{where}.title"),
        source=reader.text(raw.get("source", ""), f"{where}.source"),
        rate_bp=_optional(raw, "rate_bp", lambda v, w: reader.integer(v, w, 0, BASIS_POINTS), where),
        caps=caps,
        min_amount_fen=_optional(raw, "min_amount_fen", lambda v, w: reader.integer(v, w, 0, MAX_FEN), where),
        max_amount_fen=_optional(raw, "max_amount_fen", lambda v, w: reader.integer(v, w, 0, MAX_FEN), where),
        max_share_of_capital_bp=_optional(
            raw, "max_share_of_capital_bp", lambda v, w: reader.integer(v, w, 1, BASIS_POINTS - 1), where
        ),
        max_people_per_achievement=_optional(
            raw, "max_people_per_achievement", lambda v, w: reader.integer(v, w, 1, 1000), where
        ),
        max_reward_rate_bp=_optional(
            raw, "max_reward_rate_bp", lambda v, w: reader.integer(v, w, 1, BASIS_POINTS), where
        ),
        conditions=_parse_conditions(reader, raw.get("conditions", {}), kind, f"{where}.conditions"),
    )
    if (
        rule.min_amount_fen is not None
        and rule.max_amount_fen is not None
        and rule.min_amount_fen > rule.max_amount_fen
    ):
        reader.fail(where, "min_amount_fen is above max_amount_fen")
    return rule


_TRANSFER_KINDS = {RuleKind.INTERMEDIARY_SHARE, RuleKind.CITY_AGENT_REWARD}


def _optional(raw: Mapping[str, Any], key: str, read, where: str):
    """Read an optional rule field with the given reader function."""
    return read(raw[key], f"{where}.{key}") if key in raw else None


def _parse_cap(reader: _Reader, raw: Mapping[str, Any], kind: RuleKind, where: str) -> Cap:
    """Validate one cap table."""
    reader.check_keys(raw, where, required={"scope"}, optional={"amount_fen"})
    scope = reader.choice(raw["scope"], CapScope, f"{where}.scope")
    if scope not in _KIND_SCOPES[kind]:
        allowed = ", ".join(sorted(_KIND_SCOPES[kind]))
        reader.fail(f"{where}.scope", f"a {kind} rule may use the scopes: {allowed}")
    if scope.counts_grants:
        if "amount_fen" in raw:
            reader.fail(where, f"a {scope} cap allows one grant and takes no amount_fen")
        return Cap(scope=scope)
    if "amount_fen" not in raw:
        reader.fail(where, f"a {scope} cap needs amount_fen")
    return Cap(scope=scope, amount_fen=reader.integer(raw["amount_fen"], f"{where}.amount_fen", 0, MAX_FEN))


def _parse_conditions(reader: _Reader, raw: Any, kind: RuleKind, where: str) -> Conditions:
    """Validate a rule's conditions table against the parties and flags its kind knows."""
    raw = reader.table(raw, where)
    parties = _KIND_PARTIES[kind]
    allowed = {f"{party}_kinds" for party in parties} | {f"{party}_valley" for party in parties}
    allowed |= _KIND_FLAGS[kind]
    reader.check_keys(raw, where, required=set(), optional=allowed)
    party_conditions: dict[str, PartyCondition] = {}
    for party in parties:
        kinds = valleys = None
        if f"{party}_kinds" in raw:
            names = reader.string_list(raw[f"{party}_kinds"], f"{where}.{party}_kinds")
            kinds = frozenset(reader.choice(n, OrganisationKind, f"{where}.{party}_kinds") for n in names)
        if f"{party}_valley" in raw:
            valleys = _parse_valleys(reader, raw[f"{party}_valley"], f"{where}.{party}_valley")
        if kinds is not None or valleys is not None:
            party_conditions[party] = PartyCondition(kinds=kinds, valleys=valleys)
    flags = {name: reader.boolean(raw[name], f"{where}.{name}") for name in _KIND_FLAGS[kind] if name in raw}
    return Conditions(parties=MappingProxyType(party_conditions), **flags)


def _parse_valleys(reader: _Reader, raw: Any, where: str) -> frozenset[str]:
    """Read a valley condition: "any" or a list of valley ids."""
    if raw == ANY_VALLEY:
        return frozenset({ANY_VALLEY})
    names = reader.string_list(raw, where)
    for name in names:
        if not _VALLEY_ID.fullmatch(name) or name == ANY_VALLEY:
            reader.fail(where, f"{name!r} is not a valley id")
    return frozenset(names)


def _parse_proceeds_split(reader: _Reader, raw: Any, where: str) -> ProceedsSplitLimits:
    """Validate the statutory proceeds-split thresholds."""
    raw = reader.table(raw, where)
    reader.check_keys(
        raw,
        where,
        required={"applies_to_kinds", "inventor_floor_bp", "inventor_warning_below_bp"},
        optional={"source"},
    )
    reader.text(raw.get("source", ""), f"{where}.source")
    names = reader.string_list(raw["applies_to_kinds"], f"{where}.applies_to_kinds")
    limits = ProceedsSplitLimits(
        applies_to_kinds=frozenset(reader.choice(n, OrganisationKind, f"{where}.applies_to_kinds") for n in names),
        inventor_floor_bp=reader.integer(raw["inventor_floor_bp"], f"{where}.inventor_floor_bp", 0, BASIS_POINTS),
        inventor_warning_below_bp=reader.integer(
            raw["inventor_warning_below_bp"], f"{where}.inventor_warning_below_bp", 0, BASIS_POINTS
        ),
    )
    if limits.inventor_warning_below_bp < limits.inventor_floor_bp:
        reader.fail(where, "inventor_warning_below_bp is below inventor_floor_bp")
    return limits


class _Reader:
    """Typed reads of untrusted rule-set data; every failure names the place in the file."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def fail(self, where: str, problem: str):
        """Raise a RuleSetError for the given place."""
        place = f"{self.origin}: {where}" if where else self.origin
        raise RuleSetError(f"{place}: {problem}")

    def check_keys(self, raw: Any, where: str, required: set[str], optional: set[str]) -> None:
        """Require a table with all required keys and no keys outside required | optional."""
        if not isinstance(raw, Mapping):
            self.fail(where, "must be a table")
        unknown = sorted(str(key) for key in raw if key not in required | optional)
        if unknown:
            self.fail(where, f"unknown key {unknown[0]!r}")
        missing = sorted(required - set(raw))
        if missing:
            self.fail(where, f"missing key {missing[0]!r}")

    def table(self, raw: Any, where: str) -> Mapping[str, Any]:
        """Require a table."""
        if not isinstance(raw, Mapping):
            self.fail(where, "must be a table")
        return raw

    def table_list(self, raw: Any, where: str) -> Sequence[Mapping[str, Any]]:
        """Require an array of tables."""
        if not isinstance(raw, list) or not all(isinstance(item, Mapping) for item in raw):
            self.fail(where, "must be an array of tables")
        return raw

    def text(self, raw: Any, where: str) -> str:
        """Require a string."""
        if not isinstance(raw, str):
            self.fail(where, "must be a string")
        return raw

    def identifier(self, raw: Any, where: str) -> str:
        """Require a short ASCII identifier (letters, digits, _ . -)."""
        if not isinstance(raw, str) or not _IDENTIFIER.fullmatch(raw):
            self.fail(where, "must be an identifier (ASCII letters, digits, _ . -; starting with a letter)")
        return raw

    def string_list(self, raw: Any, where: str) -> list[str]:
        """Require a non-empty list of strings."""
        if not isinstance(raw, list) or not raw or not all(isinstance(item, str) for item in raw):
            self.fail(where, "must be a non-empty list of strings")
        return raw

    def boolean(self, raw: Any, where: str) -> bool:
        """Require true or false."""
        if not isinstance(raw, bool):
            self.fail(where, "must be true or false")
        return raw

    def integer(self, raw: Any, where: str, low: int, high: int) -> int:
        """Require an int (not bool) in low..high."""
        if type(raw) is not int:
            self.fail(where, "must be an integer")
        if not low <= raw <= high:
            self.fail(where, f"must be between {low} and {high}")
        return raw

    def choice(self, raw: Any, enum: type[StrEnum], where: str):
        """Require one of an enum's values."""
        try:
            return enum(raw)
        except (ValueError, TypeError):
            allowed = ", ".join(member.value for member in enum)
            self.fail(where, f"{raw!r} is not one of: {allowed}")

    def date(self, raw: Any, where: str) -> dt.date:
        """Require a date (a TOML date, or ISO YYYY-MM-DD text)."""
        if isinstance(raw, dt.datetime):
            self.fail(where, "must be a date without a time")
        if isinstance(raw, dt.date):
            return raw
        if isinstance(raw, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw, re.ASCII):
            try:
                return dt.date.fromisoformat(raw)
            except ValueError:
                pass
        self.fail(where, "must be a date YYYY-MM-DD")
