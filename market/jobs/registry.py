"""Job kinds by name: the function a job runs, its retries and the waits between them, its time limit."""
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_RETRIES = 3
DEFAULT_RETRY_WAITS = (10, 60, 300)
"""Seconds before the first, second and third retry of a failed job."""
DEFAULT_TIMEOUT_SECONDS = 600


@dataclass(frozen=True)
class JobKind:
    """What a job of this name runs: `run(session, **kwargs)` in one unit of work; `gave_up(session, **kwargs)`, if
    given, in a fresh unit of work once the last retry failed."""

    name: str
    run: Callable
    retries: int = DEFAULT_RETRIES
    retry_waits: tuple[int, ...] = DEFAULT_RETRY_WAITS
    timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS
    gave_up: Callable | None = None


_KINDS: dict[str, JobKind] = {}


def job_kind(name: str, *, retries: int = DEFAULT_RETRIES, retry_waits: tuple[int, ...] = DEFAULT_RETRY_WAITS,
             timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS, gave_up: Callable | None = None) -> Callable:
    """Register the decorated `run(session, **kwargs)` as the job called `name`."""

    def register(run: Callable) -> Callable:
        _KINDS[name] = JobKind(name, run, retries, tuple(retry_waits), timeout_seconds, gave_up)
        return run

    return register


def find_kind(name: str) -> JobKind:
    """The registered kind called `name` (KeyError names an unknown one)."""
    try:
        return _KINDS[name]
    except KeyError:
        raise KeyError(f"no job kind called {name!r}; known: {', '.join(sorted(_KINDS))}") from None


def forget_kind(name: str) -> None:
    """Remove a kind (for kinds a test registers for itself)."""
    _KINDS.pop(name, None)
