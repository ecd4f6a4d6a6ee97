"""Speed benchmark: the project's pages beside a bare Flask endpoint and a minimal Flask-SQLAlchemy list page
(../shared/bin/minimal_list_page.py), all on gunicorn -w 2 at 127.0.0.1, load from wrk -t2 -c8, at 10,000 and
100,000 published achievements on SQLite and PostgreSQL; and the memory of -w 4 (with market.gunicorn_conf) at 100,000.

    .venv/bin/python tests/benchmarks/bench_speed.py [--sizes 10000,100000] [--databases sqlite,postgresql]
        [--seconds 8] [--rounds 2] [--no-redis] [--only anonymous|signed-in]

Prints a table per database and size, the speed targets as PASS/FAIL lines, then one JSON line. Seeded databases
are cached under /tmp/speedbench/ (tests/benchmarks/speed_seed.py). A script that prints figures, not a test.
"""
import argparse
import http.client
import http.cookiejar
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(ROOT), str(HERE)]

import speed_seed

USER_EMAIL = speed_seed.SIGNED_IN_EMAIL
WORK = speed_seed.WORK
MINIMAL_PAGE = ROOT.parent / "shared" / "bin" / "minimal_list_page.py"
REDIS_URL = "redis://127.0.0.1:6379/15"
BARE_APP = "from flask import Flask\napp = Flask(__name__)\n\n\n@app.get('/ping')\ndef ping():\n    return 'ok'\n"
BARE, MINIMAL = "bare /ping", "minimal page /list"
ANONYMOUS_TARGETS = ("anon home /", "anon list /achievements", "anon search ?q=", "anon detail /achievements/<id>")
SIGNED_IN_TARGETS = {"user list /achievements": 0.5, "user search ?q=": 0.5, "user detail /achievements/<id>": 1.0}
INFORMATION_ONLY = ("anon api /api/v1/achievements?q=",)
MEMORY_LIMIT_MB = 1536
LOGOUT_MARK = 'action="/logout"'
GIVE_UP_AFTER = 3
CONNECTIONS = 8
WORKER_TIMEOUT_SECONDS = 30
"""gunicorn's default: a request still running after it is killed with its worker (production keeps the default)."""


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Report a redirect as it is (a 3xx is not a page)."""

    def redirect_request(self, *args, **kwargs):
        return None


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(command: list[str], env: dict, port: int, cwd: Path, log_name: str) -> subprocess.Popen:
    """Start a server in its own process group and wait for its port to open."""
    with open(WORK / log_name, "w") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    for _ in range(480):
        if process.poll() is not None:
            raise SystemExit(f"{command} exited with {process.returncode}; see {WORK / log_name}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            time.sleep(0.5)
    stop(process)
    raise SystemExit(f"port {port} did not open; see {WORK / log_name}")


def stop(process: subprocess.Popen) -> None:
    """Stop a server's process group (the gunicorn master and its workers) and wait for it."""
    try:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, 9)
        except ProcessLookupError:
            pass


PROJECT = "market:create_app()"


def gunicorn(app: str, port: int, workers: int) -> list[str]:
    """The gunicorn command line for an app on 127.0.0.1 (the project with its production settings, which load it
    once in the master with what the workers share)."""
    command = [str(Path(sys.executable).parent / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}"]
    return command + (["-c", "python:market.gunicorn_conf"] if app == PROJECT else []) + [app]


def fetch(url: str, cookie: str | None = None) -> tuple[int, bytes]:
    """GET a URL without following redirects: the status and the body (status 0 when no answer came)."""
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=120) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        return 0, str(error).encode()


def log_in(base: str) -> str:
    """Sign in as the demo enterprise user through the login form; the Cookie header value of the session."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    page = opener.open(f"{base}/login", timeout=60).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page)
    if token is None:
        raise SystemExit("no csrf_token on /login")
    form = urllib.parse.urlencode({"email": USER_EMAIL, "password": speed_seed.PASSWORD,
                                   "csrf_token": token[1], "next": ""}).encode()
    try:
        opener.open(urllib.request.Request(f"{base}/login", data=form), timeout=60).read()
    except urllib.error.HTTPError as error:
        if error.code not in (302, 303):
            raise SystemExit(f"login answered {error.code}")
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    status, body = fetch(f"{base}/achievements", cookie)
    if status != 200 or LOGOUT_MARK not in body.decode():
        raise SystemExit(f"signing in as {USER_EMAIL} failed: /achievements answered {status} without the logout form")
    return cookie


def wrk(urls: list[str], seconds: int, cookie: str | None) -> dict:
    """One wrk run (-t2 -c8) cycling through the URLs: req/s, p50, p99 and errors (socket and non-2xx/3xx)."""
    lua = WORK / "urls.lua"
    paths = [urllib.parse.urlsplit(u) for u in urls]
    host = f"{paths[0].hostname}:{paths[0].port}"
    lua.write_text(
        "local paths = {" + ",".join(json.dumps(p.path + ("?" + p.query if p.query else "")) for p in paths) + "}\n"
        "local i = 0\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format('GET', paths[i])\nend\n"
        "done = function(s, l, r)\n  io.write(string.format('STATS %d %d %d %d %.1f %.1f\\n', s.requests, "
        "s.errors.status, s.errors.connect + s.errors.read + s.errors.write + s.errors.timeout, s.duration, "
        "l:percentile(50)/1000, l:percentile(99)/1000))\nend\n")
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "30s", "-s", str(lua)]
    command += ["-H", f"Cookie: {cookie}"] if cookie else []
    out = subprocess.run(command + [f"http://{host}/"], capture_output=True, text=True, check=False).stdout
    m = re.search(r"STATS (\d+) (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+)", out)
    if m is None:
        raise SystemExit(f"wrk printed no figures:\n{out}")
    requests, status_errors, socket_errors, duration_us = int(m[1]), int(m[2]), int(m[3]), int(m[4])
    if requests == 0:  # no answer within the run: wrk counts none of the 8 waiting requests, this does
        socket_errors += CONNECTIONS
    return {"rps": round(requests / (duration_us / 1e6), 1), "p50_ms": float(m[5]), "p99_ms": float(m[6]),
            "requests": requests, "errors": status_errors + socket_errors}


def settle(run: dict, probe: str) -> None:
    """Let requests still queued or running after a wrk run end before the next run: a probe for a static file
    waits behind every queued request, and a slow run also waits out the worker timeout of the running ones."""
    deadline = time.time() + 600
    while time.time() < deadline:
        started = time.perf_counter()
        status, _ = fetch(probe)
        if status == 200 and time.perf_counter() - started < 1:
            break
    slow = run["requests"] == 0 or run["p99_ms"] > 2000
    time.sleep(WORKER_TIMEOUT_SECONDS + 5 if slow else 1)


def first_visit(urls: list[str], cookie: str | None) -> dict:
    """Fetch every URL once in turn: mean and max ms, and how many did not answer 200 (the pass stops after
    GIVE_UP_AFTER failures in a row: a worker killed by its timeout would fail every later one as slowly)."""
    times, bad, in_a_row = [], [], 0
    for url in urls:
        started = time.perf_counter()
        status, _ = fetch(url, cookie)
        times.append((time.perf_counter() - started) * 1000)
        in_a_row = in_a_row + 1 if status != 200 else 0
        if status != 200:
            bad.append(f"{status or 'no answer'} {url}")
        if in_a_row >= GIVE_UP_AFTER:
            break
    return {"fetched": len(times), "mean_ms": round(sum(times) / len(times), 1), "max_ms": round(max(times), 1),
            "non_200": len(bad), "non_200_examples": bad[:3]}


def search_queries(database_url: str) -> list[str]:
    """At least 500 distinct queries from the listings' keywords, plus two-word combinations (as web-compare)."""
    from sqlalchemy import create_engine, select

    from market.achievements.models import Achievement

    engine = create_engine(database_url)
    words: set[str] = set()
    with engine.connect() as connection:
        for (keywords,) in connection.execute(select(Achievement.__table__.c.keywords)):
            if isinstance(keywords, str):
                keywords = json.loads(keywords or "[]")
            words.update(k for k in keywords or [] if isinstance(k, str) and 1 < len(k) <= 12)
    engine.dispose()
    queries = sorted(words)
    random.Random(5).shuffle(queries)
    queries = queries[:600]
    return queries + [f"{x} {y}" for x, y in zip(queries[:100], queries[100:200])]


def own_demand_ids(database_url: str) -> list[int]:
    """Published demands of the signed-in user's organisation (their pages run the matcher)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as connection:
        ids = list(connection.scalars(text(
            "SELECT d.id FROM demands d JOIN users u ON u.organisation_id = d.organisation_id "
            "WHERE u.email = :email AND d.status = 'published'"), {"email": USER_EMAIL}))
    engine.dispose()
    return ids


def endpoints(market: str, bare: str, minimal: str, ids: list[int], queries: list[str], only: str | None) -> dict:
    """Each endpoint's URLs and whether it is fetched signed in."""
    detail = [f"{market}/achievements/{i}" for i in random.Random(3).sample(ids, 50)]
    pages = [f"{market}/achievements?page={p}" for p in range(1, 20)]
    search = [f"{market}/achievements?q={urllib.parse.quote(q)}" for q in queries]
    result = {BARE: ([f"{bare}/ping"], False), MINIMAL: ([f"{minimal}/list?page={p}" for p in range(1, 20)], False)}
    if only in (None, "anonymous"):
        result.update({
            "anon home /": ([f"{market}/"], False), "anon list /achievements": (pages, False),
            "anon search ?q=": (search, False), "anon detail /achievements/<id>": (detail, False),
            "anon api /api/v1/achievements?q=": ([f"{market}/api/v1/achievements?q={urllib.parse.quote(q)}"
                                                  for q in queries], False)})
    if only in (None, "signed-in"):
        result.update({"user list /achievements": (pages, True), "user search ?q=": (search, True),
                       "user detail /achievements/<id>": (detail, True)})
    return result


def measure(eps: dict, cookie: str, seconds: int, rounds: int, visit_limit: int, probe: str) -> dict:
    """First-visit pass over every URL (or the first `visit_limit`), then the best of `rounds` wrk runs per endpoint."""
    results = {}
    for name, (urls, signed_in) in eps.items():
        visit = first_visit(urls[:visit_limit or None], cookie if signed_in else None)
        print(f"  first visit {name}: {visit['fetched']} urls, mean {visit['mean_ms']} ms, max {visit['max_ms']} ms"
              + (f", {visit['non_200']} not 200 e.g. {visit['non_200_examples']}" if visit["non_200"] else ""),
              file=sys.stderr, flush=True)
        results[name] = {"urls": len(urls), "first_visit": {"urls": len(urls[:visit_limit or None]), **visit}}
    for _ in range(rounds):
        for name, (urls, signed_in) in eps.items():
            run = wrk(urls, seconds, cookie if signed_in else None)
            settle(run, probe)
            best = results[name].get("wrk")
            if best is None or run["rps"] > best["rps"]:
                results[name]["wrk"] = run
    for figures in results.values():
        figures.update(figures.pop("wrk"))
        figures["errors"] += figures["first_visit"]["non_200"]
    return results


def flush_redis() -> None:
    """Empty Redis database 15 (the benchmark's own)."""
    subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "-n", "15", "FLUSHDB"], check=True,
                   capture_output=True)


def project_env(seeded: dict, redis: bool, anchor_url: str) -> dict:
    """The environment of the served apps."""
    env = dict(os.environ, DATABASE_URL=seeded["url"], SECRET_KEY="bench", MATCH_INDEX_PATH=seeded["index_path"],
               MINIMAL_PAGE_DATABASE_URL=anchor_url, PYTHONPATH=str(ROOT),
               INSECURE_COOKIES="1")  # plain HTTP on 127.0.0.1: the session cookie must come back without TLS
    env.pop("REDIS_URL", None)
    if redis:
        env["REDIS_URL"] = REDIS_URL
    return env


def run_size(kind: str, count: int, args) -> dict:
    """Seed (or reuse), serve the three apps, measure every endpoint; the figures per endpoint."""
    seeded = speed_seed.prepare(kind, count)
    anchor_url = speed_seed.prepare_anchor(kind, count, seeded["url"])
    shutil.copy(MINIMAL_PAGE, WORK / "minimal_list_page.py")
    (WORK / "bare.py").write_text(BARE_APP)
    if args.redis:
        flush_redis()
    env = project_env(seeded, args.redis, anchor_url)
    ports = {name: free_port() for name in ("market", "bare", "minimal")}
    processes = []
    try:
        processes.append(start(gunicorn(PROJECT, ports["market"], 2), env, ports["market"], ROOT,
                               f"market-{kind}-{count}.log"))
        processes.append(start(gunicorn("bare:app", ports["bare"], 2), env, ports["bare"], WORK, "bare.log"))
        processes.append(start(gunicorn("minimal_list_page:app", ports["minimal"], 2), env, ports["minimal"], WORK,
                               "minimal.log"))
        market = f"http://127.0.0.1:{ports['market']}"
        cookie = log_in(market) if args.only != "anonymous" else ""
        eps = endpoints(market, f"http://127.0.0.1:{ports['bare']}", f"http://127.0.0.1:{ports['minimal']}",
                        seeded["ids"], search_queries(seeded["url"]), args.only)
        probe = f"{market}/static/favicon.svg"
        results = measure(eps, cookie, args.seconds, args.rounds, args.first_visit_limit, probe)
    finally:
        for process in processes:
            stop(process)
    return {"listings": len(seeded["ids"]), "seed_seconds": seeded["seed_seconds"],
            "clone_terms_differing": seeded["clone_terms_differing"], "endpoints": results}


def process_tree_pss_mb(pid: int) -> tuple[float, int]:
    """Summed PSS of a process and its children (from /proc/<pid>/smaps_rollup) in MB; the number of processes."""
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(c) for c in (task / "children").read_text().split()]
    total = 0
    for member in [pid, *children]:
        for line in Path(f"/proc/{member}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1])
    return round(total / 1024, 1), 1 + len(children)


def run_memory(kind: str, count: int, args) -> dict:
    """Serve the project with -w 4 (market.gunicorn_conf), run detail and matcher pages in every worker; the summed PSS."""
    seeded = speed_seed.prepare(kind, count)
    if args.redis:
        flush_redis()
    port = free_port()
    process = start(gunicorn(PROJECT, port, 4), project_env(seeded, args.redis, ""),
                    port, ROOT, f"market-memory-{kind}-{count}.log")
    try:
        market = f"http://127.0.0.1:{port}"
        cookie = log_in(market)
        demands = own_demand_ids(seeded["url"])
        matcher = [f"{market}/demands/{i}/matches" for i in demands]
        status, _ = fetch(matcher[0], cookie) if matcher else (0, b"")
        if status != 200:
            raise SystemExit(f"matcher page {matcher[:1]} answered {status}")
        detail = [f"{market}/achievements/{i}" for i in random.Random(4).sample(seeded["ids"], 50)]
        for urls in (matcher, detail, matcher + detail):  # 8 connections over 4 sync workers reach every one
            wrk(urls, max(3, args.seconds // 2), cookie)
        pss, processes = process_tree_pss_mb(process.pid)
    finally:
        stop(process)
    return {"workers": 4, "processes": processes, "pss_mb": pss, "limit_mb": MEMORY_LIMIT_MB,
            "matcher_urls": matcher, "pass": pss <= MEMORY_LIMIT_MB}


def verdicts(kind: str, count: int, run: dict, smaller: dict | None) -> list[tuple[str, bool]]:
    """The speed targets of one database and size, each with whether it holds."""
    eps = run["endpoints"]
    bare, minimal = eps[BARE], eps[MINIMAL]
    lines = []
    for name in ANONYMOUS_TARGETS:
        if name in eps:
            ratio = eps[name]["rps"] / bare["rps"]
            lines.append((f"{name}: {ratio:.3f}x bare >= 0.40x", ratio >= 0.40 and not eps[name]["errors"]))
    for name, floor in SIGNED_IN_TARGETS.items():
        if name in eps:
            ratio = eps[name]["rps"] / minimal["rps"]
            lines.append((f"{name}: {ratio:.3f}x minimal page >= {floor}x", ratio >= floor and not eps[name]["errors"]))
    for name, figures in eps.items():
        if name in (BARE, MINIMAL) or name in INFORMATION_ONLY:
            continue
        ratio = figures["p99_ms"] / minimal["p99_ms"]
        lines.append((f"{name}: p99 {ratio:.2f}x the minimal page's <= 3x", ratio <= 3 and not figures["errors"]))
        if figures["errors"]:
            lines.append((f"{name}: {figures['errors']} errors (non-200 or socket)", False))
    if smaller is not None:
        for name, figures in eps.items():
            if name in (BARE, MINIMAL) or name in INFORMATION_ONLY or name not in smaller["endpoints"]:
                continue
            ratio = figures["p50_ms"] / max(smaller["endpoints"][name]["p50_ms"], 0.1)
            lines.append((f"{name}: p50 at {count} is {ratio:.2f}x its p50 at {smaller['listings_size']} <= 2x",
                          ratio <= 2 and not figures["errors"]))
    if "memory" in run:
        memory = run["memory"]
        text = (f"memory -w 4 (market.gunicorn_conf): {memory['pss_mb']} MB PSS over {memory['processes']} "
                f"processes <= {MEMORY_LIMIT_MB} MB")
        lines.append((text, memory["pass"]))
    return lines


def print_table(kind: str, count: int, run: dict) -> None:
    """The figures of one database and size, a row per endpoint."""
    eps = run["endpoints"]
    bare, minimal = eps[BARE], eps[MINIMAL]
    print(f"\n== {kind}, {count} listings ({run['listings']} published; seed {run['seed_seconds']}s) ==")
    print(f"{'endpoint':36s} {'req/s':>8s} {'p50 ms':>8s} {'p99 ms':>8s} {'errors':>6s} {'x bare':>7s} "
          f"{'x min':>7s} {'p99/min':>7s} {'first ms':>9s} {'max ms':>8s}")
    for name, f in eps.items():
        f["x_bare"] = round(f["rps"] / bare["rps"], 4)
        f["x_minimal"] = round(f["rps"] / minimal["rps"], 4)
        f["p99_x_minimal"] = round(f["p99_ms"] / minimal["p99_ms"], 2)
        print(f"{name:36s} {f['rps']:8.1f} {f['p50_ms']:8.1f} {f['p99_ms']:8.1f} {f['errors']:6d} {f['x_bare']:7.3f} "
              f"{f['x_minimal']:7.3f} {f['p99_x_minimal']:7.2f} {f['first_visit']['mean_ms']:9.1f} "
              f"{f['first_visit']['max_ms']:8.1f}")


def earlier_run(kind: str, count: int) -> dict | None:
    """The figures of this database and size saved by an earlier run, for the 10,000 vs 100,000 comparison."""
    try:
        run = json.loads((WORK / f"results-{kind}-{count}.json").read_text())
    except (OSError, ValueError):
        return None
    print(f"(p50 growth compared with the {kind} {count} figures of an earlier run)", file=sys.stderr)
    return run


def main() -> None:
    """Run every database and size asked for and print the figures and the targets."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--redis", action=argparse.BooleanOptionalAction, default=True,
                        help=f"pass REDIS_URL={REDIS_URL} to the project (as in production); --no-redis leaves it out")
    parser.add_argument("--only", choices=["anonymous", "signed-in"])
    parser.add_argument("--no-memory", dest="memory", action="store_false", help="skip the -w 4 memory run")
    parser.add_argument("--first-visit-limit", type=int, default=0,
                        help="fetch only the first N URLs of each endpoint in the first-visit pass (0: all)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed (apt-get install -y wrk)")
    WORK.mkdir(parents=True, exist_ok=True)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    report: dict = {"seconds": args.seconds, "rounds": args.rounds, "redis": args.redis, "runs": {}}
    failures = 0
    for kind in args.databases.split(","):
        smaller = None if sizes[0] == 10_000 else earlier_run(kind, 10_000)
        for count in sizes:
            run = run_size(kind, count, args)
            run["listings_size"] = count
            if count >= 100_000 and args.memory and args.only != "anonymous":
                run["memory"] = run_memory(kind, count, args)
            print_table(kind, count, run)
            for text, holds in verdicts(kind, count, run, smaller):
                print(f"{'PASS' if holds else 'FAIL'} {kind} {count}: {text}")
                failures += not holds
            sys.stdout.flush()
            report["runs"][f"{kind}-{count}"] = run
            (WORK / f"results-{kind}-{count}.json").write_text(json.dumps(run, ensure_ascii=False))
            smaller = run if smaller is None else smaller
    report["failures"] = failures
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
