"""Why an event is invalid: the rejection (a code, the English reason and the facts it names) and the checks of event
fields that raise it. Pure Python, like the engine."""
from __future__ import annotations

import datetime as dt

from market.money import BASIS_POINTS, MAX_FEN, format_yuan
from market.policy.events import Event


class Rejected(Exception):
    """The event is invalid: a code, the English reason (the scenario output) and the facts it names."""

    def __init__(self, code: str, message: str, **params: object) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


def require_id(value: object, key: str, event: Event) -> str:
    """Require a non-empty string id in an event field."""
    if not isinstance(value, str) or not value.strip():
        raise Rejected("missing_id", f"Event {event.id}: {key} must be a non-empty string id.", event=event.id, field=key)
    return value


def require_money(value: object, key: str, event: Event, *, positive: bool) -> int:
    """Require an integer amount of fen in range (0 allowed unless positive)."""
    if type(value) is not int:
        raise Rejected("amount_not_integer", f"Event {event.id}: {key} must be an integer number of fen, not {value!r}.",
                        event=event.id, field=key)
    if value < 0:
        raise Rejected("amount_negative", f"Event {event.id}: {key} must not be negative.", event=event.id, field=key)
    if positive and value == 0:
        raise Rejected("amount_zero", f"Event {event.id}: {key} must be more than zero.", event=event.id, field=key)
    if value > MAX_FEN:
        raise Rejected("amount_too_large", f"Event {event.id}: {key} is above the largest accepted amount.",
                        event=event.id, field=key)
    return value


def require_bool(value: object, key: str, event: Event) -> bool:
    """Require true or false."""
    if type(value) is not bool:
        raise Rejected("not_boolean", f"Event {event.id}: {key} must be true or false.", event=event.id, field=key)
    return value


def require_rate(value: object, key: str, event: Event) -> int:
    """Require an integer rate in basis points, 0..10000."""
    if type(value) is not int or not 0 <= value <= BASIS_POINTS:
        raise Rejected("rate_out_of_range", f"Event {event.id}: {key} must be an integer from 0 to 10000 basis points.",
                        event=event.id, field=key)
    return value


def require_payment_fits(
    event: Event, kind: str, subject: str, signed_on: dt.date, value_fen: int, paid_fen: int, amount_fen: int
) -> None:
    """Reject a payment dated before signing or taking the paid total above the value (kind: agreement or contract)."""
    what = f"{kind} {subject}"
    if event.date < signed_on:
        raise Rejected(
            "payment_before_signing",
            f"Payment {event.id} dated {event.date.isoformat()} is before {what} was signed on "
            f"{signed_on.isoformat()}.",
            event=event.id, kind=kind, subject=subject, paid_on=event.date.isoformat(), signed_on=signed_on.isoformat(),
        )
    if paid_fen + amount_fen > value_fen:
        raise Rejected(
            "payment_above_value",
            f"Payment {event.id} of {format_yuan(amount_fen)} would take the total paid under {what} to "
            f"{format_yuan(paid_fen + amount_fen)}, above its value of {format_yuan(value_fen)}.",
            event=event.id, kind=kind, subject=subject, amount_fen=amount_fen, total_fen=paid_fen + amount_fen,
            value_fen=value_fen,
        )
