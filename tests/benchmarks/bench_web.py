"""Load benchmark: the marketplace under gunicorn on 127.0.0.1 with 10,000 achievements, beside a bare Flask
endpoint served the same way, in the same run.

    .venv/bin/python tests/benchmarks/bench_web.py [--listings 10000] [--requests 400] [--concurrency 8]

Prints requests/s, p50 and p99 per endpoint and the error count. Bounded in count and time; 127.0.0.1 only.
"""
import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

BARE_APP = '''
from flask import Flask
app = Flask(__name__)

@app.route("/ping")
def ping():
    return "ok"
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed(database_url: str, count: int) -> list[int]:
    """Migrate, load reference data and demo data, then add synthetic published achievements up to `count`."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from market import create_app
    from market.accounts.models import Role, User
    from market.achievements.models import Achievement
    from market.achievements.services import build_achievement, clean_achievement
    from market.extensions import db
    from market.listings.vocabulary import ListingStatus
    from market.seeding import load_demo_data, load_reference_data
    from market.timeutil import utcnow

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench", "PASSWORD_HASH_PROFILE": "fast"})
    with app.app_context():
        upgrade()
        load_reference_data(db.session)
        load_demo_data(db.session, "bench-password", password_profile="fast")
        base = list(db.session.scalars(select(Achievement).where(Achievement.status == ListingStatus.PUBLISHED)))
        authors = {u.organisation_id: u for u in db.session.scalars(select(User).where(User.role == Role.RESEARCHER))}
        rng = random.Random(7)
        existing = len(base)
        for number in range(existing, count):
            a, b = rng.sample(base, 2)
            author = authors.get(a.organisation_id) or next(iter(authors.values()))
            data = {"title": f"{a.title}与{b.keywords[0] if b.keywords else b.title[:6]}融合技术{number}",
                    "summary": a.summary + b.summary, "description_public": b.description_public,
                    "keywords": (a.keywords + b.keywords)[:8], "field": a.field.code, "trl": a.trl, "stage": a.stage,
                    "modes": [m.value for m in a.modes], "price_type": a.price_type,
                    "price_min_fen": a.price_min_fen, "price_max_fen": a.price_max_fen}
            achievement = build_achievement(db.session, author, clean_achievement(db.session, data), submit=True)
            achievement.status, achievement.published_at = ListingStatus.PUBLISHED, utcnow()
            if number % 500 == 0:
                db.session.commit()
                print(f"  seeded {number}/{count}", file=sys.stderr, flush=True)
        db.session.commit()
        ids = list(db.session.scalars(select(Achievement.id).where(Achievement.status == ListingStatus.PUBLISHED)))
        db.engine.dispose()
    return ids


def start(command: list[str], env: dict, port: int) -> subprocess.Popen:
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit(f"server on port {port} did not start")


def load(urls: list[str], requests: int, concurrency: int) -> dict:
    """Send `requests` GETs spread over `concurrency` threads; latency per request."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    counter = iter(range(requests))

    def worker():
        nonlocal errors
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                return
            url = urls[index % len(urls)]
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(url, timeout=30) as response:
                    response.read()
                    ok = response.status == 200
            except Exception:  # noqa: BLE001 - counted as an error
                ok = False
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                errors += 0 if ok else 1

    began = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    latencies.sort()
    return {"requests": len(latencies), "errors": errors, "rps": round(len(latencies) / wall, 1),
            "p50_ms": round(statistics.median(latencies) * 1000, 1),
            "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--listings", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-web-"))
    database_url = f"sqlite:///{folder / 'bench.db'}"
    print(f"seeding {args.listings} achievements into {database_url}", file=sys.stderr)
    ids = seed(database_url, args.listings)
    (folder / "bare.py").write_text(BARE_APP)
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    market_port, bare_port = free_port(), free_port()
    env = dict(os.environ, DATABASE_URL=database_url, SECRET_KEY="bench", MATCH_INDEX_PATH=str(folder / "index"))
    market = start([gunicorn, "-w", str(args.workers), "-b", f"127.0.0.1:{market_port}", "market:create_app()"], env, market_port)
    bare = start([gunicorn, "-w", str(args.workers), "-b", f"127.0.0.1:{bare_port}", "--chdir", str(folder), "bare:app"],
                 env, bare_port)
    try:
        base = f"http://127.0.0.1:{market_port}"
        rng = random.Random(3)
        queries = ["氢能", "燃料电池催化剂", "镁合金", "碳化硅外延", "智能制造", "小米", "中药材", "光伏组件回收",
                   "数字孪生", "污水处理"]
        endpoints = {
            "bare flask /ping": [f"http://127.0.0.1:{bare_port}/ping"],
            "list /achievements": [f"{base}/achievements?page={p}" for p in range(1, 20)],
            "detail /achievements/<id>": [f"{base}/achievements/{i}" for i in rng.sample(ids, 50)],
            "search /achievements?q=": [f"{base}/achievements?q={urllib.request.quote(q)}" for q in queries],
            "api search /api/v1/achievements?q=": [f"{base}/api/v1/achievements?q={urllib.request.quote(q)}" for q in queries],
        }
        for urls in endpoints.values():  # warm up every worker
            load(urls, 10, 2)
        results = {name: load(urls, args.requests, args.concurrency) for name, urls in endpoints.items()}
    finally:
        market.terminate()
        bare.terminate()
    for name, figures in results.items():
        print(f"{name:38s} {figures['rps']:8.1f} req/s  p50 {figures['p50_ms']:7.1f} ms  p99 {figures['p99_ms']:7.1f} ms"
              f"  errors {figures['errors']}")
    print(json.dumps({"listings": len(ids), "workers": args.workers, "concurrency": args.concurrency, **results},
                     ensure_ascii=False))


if __name__ == "__main__":
    main()
