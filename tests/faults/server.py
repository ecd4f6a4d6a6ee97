"""A real gunicorn (2 workers, 127.0.0.1, a free port) on the test's database, and clients that post keyed payments
(and then their confirmations) to it and retry every request until it is answered without a server error. Used by the fault trials that kill workers
and terminate database connections (tests/faults/test_server_faults.py)."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from tests.benchmarks.stress_demo_server import free_port, start_server

ROOT = Path(__file__).resolve().parents[2]
APPLICATION_NAME = "market-fault-trial"
"""PostgreSQL application_name of the server's connections (what the terminator looks for)."""


def server_env(database_url: str, folder: Path) -> dict[str, str]:
    """The environment of a server on the test's database, its files in `folder`."""
    if database_url.startswith("postgresql"):
        database_url += ("&" if "?" in database_url else "?") + f"application_name={APPLICATION_NAME}"
    env = dict(os.environ)
    env.update({"MARKET_DEMO_MODE": "1", "DATABASE_URL": database_url, "UPLOAD_FOLDER": str(folder / "uploads"),
                "MATCH_INDEX_PATH": str(folder / "match-index"), "SECRET_KEY": "fault-trial",
                "PYTHONFAULTHANDLER": "1"})
    env.pop("REDIS_URL", None)
    return env


def worker_pids(master: subprocess.Popen) -> list[int]:
    """The gunicorn master's live worker processes."""
    listing = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master.pid)], capture_output=True, text=True,
                             check=False)
    return [int(pid) for pid in listing.stdout.split()]


@dataclass
class Outcome:
    """What the clients saw: first answers, retries, and the answer each key ended with."""

    first: Counter = field(default_factory=Counter)
    retried: Counter = field(default_factory=Counter)
    final: dict = field(default_factory=dict)
    replays_checked: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def summary(self) -> str:
        return (f"first answers {dict(self.first)}; retries {sum(self.retried.values())} {dict(self.retried)}; "
                f"final {dict(Counter(status for status, _ in self.final.values()))}")


def post(base: str, path: str, token: str, key: str, body: dict) -> tuple[int, dict]:
    """One keyed POST; (status, headers); status 0 when the connection broke (a killed worker)."""
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST", headers={
        "Authorization": f"Bearer {token}", "Idempotency-Key": key, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            answer.read()
            return answer.status, dict(answer.headers)
    except urllib.error.HTTPError as error:
        error.read()
        return error.code, dict(error.headers)
    except OSError:
        return 0, {}


def settled(status: int) -> bool:
    """An answer the client may stop at: not a server error, no broken connection, not 'still in progress'."""
    return 0 < status < 500 and status != 409


def decided(status: int) -> bool:
    """An answer to a confirmation the client may stop at: not a server error, no broken connection (a 409 says the
    payment was already confirmed, e.g. by an attempt whose answer was lost)."""
    return 0 < status < 500


def burst(base: str, requests: list[tuple[str, str, str, dict]], clients: int, outcome: Outcome,
          on_progress=None) -> None:
    """Each (path, token, key, body) posted once, spread over `clients` threads; `on_progress(sent)` after each."""
    sent = [0]

    def run(share):
        for path, token, key, body in share:
            status, _ = post(base, path, token, key, body)
            with outcome.lock:
                outcome.first[status] += 1
                outcome.final[key] = (status, (path, token, body))
                sent[0] += 1
                count = sent[0]
            if on_progress is not None:
                on_progress(count)

    threads = [threading.Thread(target=run, args=(requests[index::clients],)) for index in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)


def retry_until_settled(base: str, outcome: Outcome, deadline: float, done=settled) -> list[str]:
    """Retry every unsettled key with its key and body until it settles (`done`) or the deadline passes; the keys
    left."""
    for key, (status, (path, token, body)) in sorted(outcome.final.items()):
        while not done(status) and time.monotonic() < deadline:
            time.sleep(0.2 if status == 409 else 0.05)
            status, _ = post(base, path, token, key, body)
            outcome.retried[status] += 1
            outcome.final[key] = (status, (path, token, body))
    return [key for key, (status, _) in outcome.final.items() if not done(status)]


def replays(base: str, outcome: Outcome) -> Counter:
    """Every key posted once more: what it answers (a finished key replays its stored answer)."""
    seen = Counter()
    for key, (_, (path, token, body)) in sorted(outcome.final.items()):
        status, headers = post(base, path, token, key, body)
        seen[(status, headers.get("Idempotent-Replayed"))] += 1
    outcome.replays_checked = sum(seen.values())
    return seen


class Server:
    """gunicorn with 2 workers on 127.0.0.1 and a free port, stopped when the block ends."""

    def __init__(self, env: dict[str, str], folder: Path):
        self.env, self.folder, self.port = env, folder, free_port()
        self.base = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        self.process = start_server(self.env, self.port, self.folder / "gunicorn.err")
        return self

    def __exit__(self, *_exc) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def kill_a_worker(self) -> int | None:
        """SIGKILL one worker (gunicorn starts another); its pid, or None when none was found."""
        pids = worker_pids(self.process)
        if not pids:
            return None
        os.kill(pids[0], signal.SIGKILL)
        return pids[0]


def check_ledger(env: dict[str, str]) -> subprocess.CompletedProcess:
    """`flask --app market check-ledger` on the server's database."""
    return subprocess.run([sys.executable, "-m", "flask", "--app", "market", "check-ledger"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
