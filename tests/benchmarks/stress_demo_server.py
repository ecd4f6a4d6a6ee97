"""Stress check: the demo server as `make run` serves it, with several clients posting forms at once.

    .venv/bin/python tests/benchmarks/stress_demo_server.py [--clients 6] [--seconds 60] [--runs 5] [--requests N]

Each run migrates and seeds a scratch SQLite database (demo data), starts the server as `make run` does (gunicorn
worker processes) on a free 127.0.0.1 port with faulthandler on, and lets every client loop over: the home page, a
search, the login form (GET then POST), the registration form (GET then POST with a fresh address) and the language
switch. It prints per-run status counts, whether the server survived, and the tail of the server's stderr when it did
not. The exit status is 1 when a server died or answered an unexpected status. 127.0.0.1 only; bounded in time.
"""
from __future__ import annotations

import argparse
import collections
import http.cookiejar
import itertools
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEMO_EMAIL = "researcher@demo.jinchuang.example"
DEMO_PASSWORD = "jinchuang-demo"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
EXPECTED = {200, 302, 303, 422, 429}
"""Answers a well-behaved server gives these requests (429: the login rate limit per address)."""

_serial = itertools.count()


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(folder: Path, **extra: str) -> dict[str, str]:
    """The environment of a demo instance whose files all live in `folder`."""
    env = dict(os.environ)
    env.update({"MARKET_DEMO_MODE": "1", "DATABASE_URL": f"sqlite:///{folder / 'market.db'}",
                "UPLOAD_FOLDER": str(folder / "uploads"), "MATCH_INDEX_PATH": str(folder / "match-index"),
                "SECRET_KEY": "stress-check", "PYTHONFAULTHANDLER": "1"})
    env.pop("REDIS_URL", None)
    env.update(extra)
    return env


def prepare_instance(folder: Path, env: dict[str, str]) -> None:
    """Migrate and seed the scratch database as `make run` does."""
    for args in (["init-db"], ["seed", "--demo"]):
        subprocess.run([sys.executable, "-m", "flask", "--app", "market", *args], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)


def start_server(env: dict[str, str], port: int, stderr_path: Path) -> subprocess.Popen:
    """The demo server on 127.0.0.1:port started as `make run` starts it (gunicorn worker processes); waits until it answers."""
    command = [str(Path(sys.executable).with_name("gunicorn")), "--workers", "2", "--threads", "1", "--timeout", "120",
               "--no-control-socket", "--bind", f"127.0.0.1:{port}", "market:create_app()"]
    with open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early with {process.returncode}: {stderr_path.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/favicon.ico", timeout=2)
            return process
        except urllib.error.HTTPError:
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not start within 60 s")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class FormClient:
    """One browser: its own cookies; every call returns the status code (0 when the connection failed).
    Without register_accounts the registration form is sent with an invalid address (no password hashing)."""

    def __init__(self, base: str, *, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD,
                 register_accounts: bool = True):
        self.base, self.email, self.password, self.register_accounts = base, email, password, register_accounts
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  _NoRedirect())
        self.logged_in = False

    def request(self, path: str, form: dict[str, str] | None = None) -> tuple[int, str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(self.base + path, data=data, timeout=30) as answer:
                return answer.status, answer.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")
        except OSError:
            return 0, ""

    def post_form(self, path: str, fields: dict[str, str]) -> int:
        """GET the page, then POST the form with its CSRF token; the POST's status."""
        status, page = self.request(path)
        token = CSRF.search(page)
        if status != 200 or token is None:
            return status or 0
        return self.request(path, {"csrf_token": token.group(1), **fields})[0]

    def one_round(self) -> list[tuple[str, int]]:
        """Log in (first round), then home, search, the new-achievement form (GET, POST missing fields), the
        registration form (GET, POST with a fresh address) and the language switch: (what, status) of each."""
        number = next(_serial)
        answers = []
        if not self.logged_in:
            status = self.post_form("/login", {"email": self.email, "password": self.password, "next": ""})
            self.logged_in = status == 302
            answers.append(("login", status))
        answers.append(("home", self.request("/")[0]))
        answers.append(("search", self.request("/achievements?q=" + urllib.parse.quote("氢能"))[0]))
        answers.append(("new achievement", self.post_form("/achievements/new", {"title": f"并发测试成果{number}"})))
        address = f"stress{os.getpid()}-{number}-{time.monotonic_ns()}@example.com"
        answers.append(("register", self.post_form("/register", {
            "email": address if self.register_accounts else address.replace("@", " at "), "name": f"压测{number}",
            "password": "stress-check-password-1", "role": "researcher", "join": "new",
            "organisation_name": f"压测机构{number}-{time.monotonic_ns()}", "organisation_kind": "university",
            "organisation_region": "太原市"})))
        status, page = self.request("/valleys")
        token = CSRF.search(page)
        answers.append(("valleys", status))
        answers.append(("language", self.request("/language", {
            "csrf_token": token.group(1) if token else "", "lang": "en" if number % 2 else "zh_CN",
            "next": "/valleys"})[0]))
        return answers


def hammer(base: str, clients: int, seconds: float, requests: int | None,
           make_client: Callable[[], FormClient] | None = None) -> collections.Counter:
    """Run `clients` threads at once until `seconds` pass (or each made `requests` rounds); count "what status"."""
    counts: collections.Counter = collections.Counter()
    lock = threading.Lock()
    start = threading.Barrier(clients)
    deadline = time.monotonic() + seconds

    def work():
        client = make_client() if make_client else FormClient(base)
        start.wait()
        rounds = 0
        while time.monotonic() < deadline and (requests is None or rounds < requests):
            answers = client.one_round()
            rounds += 1
            with lock:
                counts.update(f"{what} {status}" for what, status in answers)
            if any(status == 0 for _, status in answers):
                return

    threads = [threading.Thread(target=work) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return counts


def run_once(folder: Path, seeded: Path, clients: int, seconds: float, requests: int | None,
             env_extra: dict[str, str]) -> dict:
    """A fresh copy of the seeded database, one server, one burst; what happened."""
    env = server_env(folder, **env_extra)
    shutil.copyfile(seeded, folder / "market.db")
    port = free_port()
    stderr_path = folder / "server.err"
    process = start_server(env, port, stderr_path)
    try:
        began = time.monotonic()
        counts = hammer(f"http://127.0.0.1:{port}", clients, seconds, requests)
        elapsed = time.monotonic() - began
        time.sleep(0.3)
        code = process.poll()
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
    crash = ""
    if code is not None:
        text = stderr_path.read_text(errors="replace")
        crash = text[text.find("Fatal Python error"):][:3000] if "Fatal Python error" in text else text[-3000:]
    return {"alive": code is None, "exit_code": code, "seconds": round(elapsed, 1),
            "statuses": dict(sorted(counts.items())), "crash": crash}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--requests", type=int, default=None, help="rounds per client (default: until --seconds)")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--env", action="append", default=[], help="extra NAME=VALUE for the server")
    args = parser.parse_args()
    env_extra = dict(item.split("=", 1) for item in args.env)
    failures = 0
    with tempfile.TemporaryDirectory(prefix="market-stress-seed-") as seed_folder:
        seeded = Path(seed_folder)
        prepare_instance(seeded, server_env(seeded, **env_extra))
        for number in range(1, args.runs + 1):
            with tempfile.TemporaryDirectory(prefix="market-stress-") as folder:
                result = run_once(Path(folder), seeded / "market.db", args.clients, args.seconds, args.requests,
                                  env_extra)
            unexpected = {key: n for key, n in result["statuses"].items() if int(key.rsplit(" ", 1)[1]) not in EXPECTED}
            failures += (not result["alive"]) or bool(unexpected)
            print(json.dumps({"run": number, **{k: v for k, v in result.items() if k != "crash"},
                              "unexpected": unexpected}, ensure_ascii=False), flush=True)
            if result["crash"]:
                print(result["crash"], flush=True)
    print(f"{args.runs - failures}/{args.runs} runs survived with only expected answers")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
