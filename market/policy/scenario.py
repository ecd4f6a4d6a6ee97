"""The `policy simulate` scenario format: strict JSON in, one JSON document of awards out (POLICY.md)."""
from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from market.policy.engine import AwardStatus, PolicyState, apply_event
from market.policy.events import (
    EVENT_CLASSES,
    Event,
    EventType,
    IntermediaryShare,
    Organisation,
    PreorderPaid,
    PreorderSigned,
    TransferPaid,
    TransferSigned,
)
from market.policy.rules import (
    OrganisationKind,
    RuleSet,
    RuleSetError,
    load_rule_set,
    load_shipped_rule_set,
)

SHIPPED_RULES_NAME = "default"
VALLEY_IDS = frozenset(
    {
        "taiyuan", "datong", "yangquan", "jincheng", "changzhi", "lvliang",
        "jinzhong", "yuncheng", "linfen", "xinzhou", "shuozhou",
    }
)
_TOP_LEVEL_KEYS = ("rules", "organisations", "events")
_ORGANISATION_KEYS = {"id", "kind", "valley", "resident_since"}
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)

# Keys of each event type: required ones, and optional ones with their defaults.
_EVENT_KEYS: dict[EventType, tuple[tuple[str, ...], dict[str, Any]]] = {
    EventType.PREORDER_SIGNED: (("agreement", "buyer", "seller", "value_fen"), {"related": False}),
    EventType.PREORDER_PAID: (("agreement", "amount_fen"), {}),
    EventType.TRANSFER_SIGNED: (
        ("contract", "achievement", "transferor", "transferee", "value_fen", "reward_rate_bp", "intermediaries"),
        {"agent": None, "registered": True, "intermediary_exception": None},
    ),
    EventType.TRANSFER_PAID: (("contract", "amount_fen"), {}),
    EventType.STARTUP_GRANT: (("startup", "founders_paid_in_fen", "awarded_fen"), {}),
}


class ScenarioError(ValueError):
    """The scenario cannot be read at all (the command exits with status 2)."""


@dataclass(frozen=True)
class ParsedEvent:
    """One entry of the scenario's events: a typed event, or the reason it is rejected as written."""

    position: int
    event_id: str | None
    date: dt.date | None
    event: Event | None = None
    rejection: str | None = None


@dataclass(frozen=True)
class Scenario:
    """A read scenario: the rule-set reference, the organisations and the events as written."""

    rules: str
    organisations: Mapping[str, Organisation]
    events: tuple[ParsedEvent, ...]


def read_scenario_file(path: str | Path) -> tuple[Scenario, tuple[RuleSet, ...]]:
    """Read a scenario file and the rule set it names (relative paths are relative to the file)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ScenarioError(f"cannot read {path}: {error.strerror or error}") from error
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ScenarioError(f"{path} is not UTF-8 text") from error
    scenario = parse_scenario(text)
    return scenario, (resolve_rules(scenario.rules, path.parent),)


def resolve_rules(reference: str, base_dir: Path) -> RuleSet:
    """Load the rule set a scenario names: "default" (shipped) or a file path."""
    try:
        if reference == SHIPPED_RULES_NAME:
            return load_shipped_rule_set(SHIPPED_RULES_NAME)
        return load_rule_set(base_dir / reference)
    except RuleSetError as error:
        raise ScenarioError(f"cannot load the rule set: {error}") from error


def parse_scenario(text: str) -> Scenario:
    """Parse scenario JSON strictly; whole-document problems raise ScenarioError, event problems don't."""
    document = _load_json(text)
    if not isinstance(document, dict):
        raise ScenarioError("the scenario must be a JSON object with rules, organisations and events")
    unknown = [key for key in document if key not in _TOP_LEVEL_KEYS]
    if unknown:
        raise ScenarioError(f"unknown top-level key {unknown[0]!r} (allowed: {', '.join(_TOP_LEVEL_KEYS)})")
    missing = [key for key in _TOP_LEVEL_KEYS if key not in document]
    if missing:
        raise ScenarioError(f"missing top-level key {missing[0]!r}")
    rules = document["rules"]
    if not isinstance(rules, str) or not rules.strip():
        raise ScenarioError('"rules" must be "default" or the path of a rule-set file')
    if not isinstance(document["organisations"], list):
        raise ScenarioError('"organisations" must be a list')
    if not isinstance(document["events"], list):
        raise ScenarioError('"events" must be a list')
    organisations = _parse_organisations(document["organisations"])
    events = _parse_events(document["events"])
    return Scenario(rules=rules, organisations=organisations, events=events)


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """object_pairs_hook: build an object, refusing a key given twice."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ScenarioError(f"duplicate key {key!r} in a JSON object")
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    """parse_constant: NaN and infinities are not JSON numbers we accept."""
    raise ScenarioError(f"{name} is not allowed in a scenario")


def _load_json(text: str) -> Any:
    """json.loads with duplicate keys, NaN/Infinity and lone surrogates refused."""
    try:
        document = json.loads(text, object_pairs_hook=_reject_duplicate_keys, parse_constant=_reject_constant)
    except ScenarioError:
        raise
    except RecursionError as error:
        raise ScenarioError("the scenario is nested too deeply") from error
    except ValueError as error:
        raise ScenarioError(f"the scenario is not valid JSON: {error}") from error
    _reject_surrogates(document)
    return document


def _reject_surrogates(value: Any) -> None:
    """Refuse strings holding lone surrogates (they cannot be written back out as UTF-8)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if any("\ud800" <= char <= "\udfff" for char in item):
                raise ScenarioError("the scenario holds a lone surrogate (\\ud800–\\udfff), which is not text")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _parse_date(value: Any) -> dt.date | None:
    """An ISO YYYY-MM-DD date, or None when the value is not one."""
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _is_id(value: Any) -> bool:
    """True for a non-empty string id."""
    return isinstance(value, str) and bool(value.strip())


def _parse_organisations(items: list[Any]) -> dict[str, Organisation]:
    """Read the organisations; any problem makes the scenario unreadable."""
    organisations: dict[str, Organisation] = {}
    for position, item in enumerate(items, start=1):
        where = f"organisation #{position}"
        if not isinstance(item, dict):
            raise ScenarioError(f"{where} is not a JSON object")
        unknown = sorted(key for key in item if key not in _ORGANISATION_KEYS)
        if unknown:
            raise ScenarioError(f"{where} has unknown key {unknown[0]!r}")
        if not _is_id(item.get("id")):
            raise ScenarioError(f"{where} needs an id (a non-empty string)")
        org_id = item["id"]
        where = f"organisation {org_id}"
        if org_id in organisations:
            raise ScenarioError(f"{where} is listed twice")
        try:
            kind = OrganisationKind(item.get("kind"))
        except (ValueError, TypeError):
            allowed = ", ".join(kind.value for kind in OrganisationKind)
            raise ScenarioError(f"{where}: kind must be one of {allowed}") from None
        valley = item.get("valley")
        if valley is not None and valley not in VALLEY_IDS:
            raise ScenarioError(f"{where}: valley must be one of {', '.join(sorted(VALLEY_IDS))}")
        resident_since = None
        if item.get("resident_since") is not None:
            resident_since = _parse_date(item["resident_since"])
            if resident_since is None:
                raise ScenarioError(f"{where}: resident_since must be an ISO date YYYY-MM-DD")
            if valley is None:
                raise ScenarioError(f"{where}: resident_since needs a valley")
        organisations[org_id] = Organisation(org_id, kind, valley, resident_since)
    return organisations


def _parse_events(items: list[Any]) -> tuple[ParsedEvent, ...]:
    """Read every event; a bad event becomes a rejection, never an error for the whole scenario."""
    parsed = []
    seen: set[str] = set()
    for position, item in enumerate(items, start=1):
        entry = _parse_event(position, item)
        if entry.event_id is not None:
            if entry.event_id in seen:
                entry = ParsedEvent(
                    position, entry.event_id, entry.date,
                    rejection=f"Event id {entry.event_id} is used more than once (event #{position}).",
                )
            seen.add(entry.event_id)
        parsed.append(entry)
    return tuple(parsed)


def _parse_event(position: int, item: Any) -> ParsedEvent:
    """Read one event into a typed event, or a rejection with a clear sentence."""
    if not isinstance(item, dict):
        return ParsedEvent(position, None, None, rejection=f"Event #{position} is not a JSON object.")
    event_id = item.get("id")
    if not _is_id(event_id):
        return ParsedEvent(position, None, None, rejection=f"Event #{position} has no id (a non-empty string).")
    date = _parse_date(item.get("date"))

    def rejected(reason: str) -> ParsedEvent:
        return ParsedEvent(position, event_id, date, rejection=reason)

    if "type" not in item:
        return rejected(f"Event {event_id} has no type.")
    try:
        event_type = EventType(item["type"])
    except (ValueError, TypeError):
        allowed = ", ".join(kind.value for kind in EventType)
        return rejected(f"Event {event_id} has unknown type {item['type']!r}; the types are {allowed}.")
    required, optional = _EVENT_KEYS[event_type]
    known = {"id", "type", "date", *required, *optional}
    unknown = sorted(key for key in item if key not in known)
    if unknown:
        return rejected(f"Event {event_id} has unknown key {unknown[0]!r} for a {event_type} event.")
    missing = [key for key in ("date", *required) if key not in item]
    if missing:
        return rejected(f"Event {event_id} is missing key {missing[0]!r}.")
    if date is None:
        return rejected(f"Event {event_id}: date must be an ISO date YYYY-MM-DD.")
    fields = {key: item[key] for key in required}
    fields.update({key: item.get(key, default) for key, default in optional.items()})
    if event_type is EventType.TRANSFER_SIGNED:
        intermediaries = _parse_intermediaries(fields["intermediaries"])
        if intermediaries is None:
            return rejected(
                f"Event {event_id}: intermediaries must be a list of objects with exactly person and share_bp."
            )
        fields["intermediaries"] = intermediaries
    event = EVENT_CLASSES[event_type](id=event_id, date=date, **fields)
    return ParsedEvent(position, event_id, date, event=event)


def _parse_intermediaries(value: Any) -> tuple[IntermediaryShare, ...] | None:
    """Read the intermediaries list, or None when it is not shaped as [{person, share_bp}, …]."""
    if not isinstance(value, list):
        return None
    shares = []
    for item in value:
        if not isinstance(item, dict) or set(item) != {"person", "share_bp"}:
            return None
        shares.append(IntermediaryShare(person=item["person"], share_bp=item["share_bp"]))
    return tuple(shares)


def _applied_order(events: Sequence[ParsedEvent]) -> list[ParsedEvent]:
    """Events without a usable date first (as written), then by date and the order given."""
    undated = [entry for entry in events if entry.date is None]
    dated = sorted((entry for entry in events if entry.date is not None), key=lambda e: (e.date, e.position))
    return undated + dated


def _signing_dates(events: Sequence[ParsedEvent]) -> dict[tuple[str, str], dt.date]:
    """The first signing date of each agreement and contract in the scenario, by ("agreement"|"contract", id)."""
    dates: dict[tuple[str, str], dt.date] = {}
    for entry in _applied_order(events):
        if isinstance(entry.event, PreorderSigned) and isinstance(entry.event.agreement, str):
            dates.setdefault(("agreement", entry.event.agreement), entry.date)
        elif isinstance(entry.event, TransferSigned) and isinstance(entry.event.contract, str):
            dates.setdefault(("contract", entry.event.contract), entry.date)
    return dates


def _payment_ahead_of_signing(
    event: Event, state: PolicyState, signing_dates: Mapping[tuple[str, str], dt.date]
) -> str | None:
    """Explain a payment applied before the signing it depends on (the engine only knows the past)."""
    if isinstance(event, PreorderPaid) and isinstance(event.agreement, str):
        what, name, known = "agreement", event.agreement, state.agreements
    elif isinstance(event, TransferPaid) and isinstance(event.contract, str):
        what, name, known = "contract", event.contract, state.contracts
    else:
        return None
    signed_on = signing_dates.get((what, name))
    if name in known or signed_on is None:
        return None
    if signed_on > event.date:
        return (
            f"Payment {event.id} dated {event.date.isoformat()} is before {what} {name} was signed on "
            f"{signed_on.isoformat()}."
        )
    return f"Payment {event.id} is listed before the signing of {what} {name} on the same date; list the signing first."


def run_scenario(scenario: Scenario, rule_sets: Sequence[RuleSet], *, with_codes: bool = False) -> dict[str, Any]:
    """Apply the scenario's events in order and build the output document (awards, rejected, totals); with_codes adds
    each rejection's code and parameters (for the app to word; the `policy simulate` output has none)."""
    state = PolicyState()
    awards: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    totals: dict[str, int] = {}
    signing_dates = _signing_dates(scenario.events)
    for entry in _applied_order(scenario.events):
        reason = entry.rejection
        code = "invalid_event"
        if reason is None:
            reason, code = _payment_ahead_of_signing(entry.event, state, signing_dates), "payment_before_signing"
        if reason is not None:
            rejected.append({"event": entry.event_id, "reason": reason}
                            | ({"code": code, "params": {"event": entry.event_id}} if with_codes else {}))
            continue
        outcome = apply_event(rule_sets, scenario.organisations, state, entry.event)
        if outcome.is_rejected:
            rejected.append({"event": entry.event_id, "reason": outcome.rejection}
                            | ({"code": outcome.rejection_code, "params": dict(outcome.rejection_params)}
                               if with_codes else {}))
            continue
        state = outcome.state
        for award in outcome.awards:
            awards.append(
                {
                    "event": award.event,
                    "rule": award.rule,
                    "recipient": award.recipient,
                    "computed_fen": award.computed_fen,
                    "granted_fen": award.granted_fen,
                    "status": award.status.value,
                    "capped_by": award.capped_by,
                    "waived_by": award.waived_by,
                }
            )
            if award.status is not AwardStatus.WAIVED:
                totals[award.recipient] = totals.get(award.recipient, 0) + award.granted_fen
    return {"awards": awards, "rejected": rejected, "totals": totals}


def simulate_file(path: str | Path) -> dict[str, Any]:
    """Read a scenario file, run it, and return the output document (ScenarioError when unreadable)."""
    scenario, rule_sets = read_scenario_file(path)
    try:
        return run_scenario(scenario, rule_sets)
    except RuleSetError as error:
        raise ScenarioError(f"the rule set cannot be applied: {error}") from error


def render_result(result: Mapping[str, Any]) -> str:
    """Write the output document as JSON text (UTF-8, Chinese kept readable)."""
    return json.dumps(result, ensure_ascii=False, indent=2)
