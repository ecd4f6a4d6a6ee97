"""Timing benchmark (not a test): registration and login take the same time whether or not the address exists.

    .venv/bin/python tests/benchmarks/bench_auth_timing.py [--rounds 15]

Runs the app in-process (Flask test client, a temporary SQLite file) with the real argon2id profile and prints the
median time of register-existing beside register-new and login-known-wrong-password beside login-unknown, with the
ratio of each pair; exits 1 when a pair differs by more than 20 %. Bounded in count; opens no network connection.
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

PASSWORD = "correct-horse-battery"
TOLERANCE = 0.20


def build_app(folder: Path):
    """An app on a fresh SQLite file with one approved university and one researcher, hashing as in production."""
    from market import create_app
    from market.accounts.models import ApprovalStatus, Organisation, OrganisationKind, Role, User
    from market.accounts.passwords import hash_password
    from market.extensions import db
    from market.seeding import load_reference_data

    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}",
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "PASSWORD_HASH_PROFILE": "standard",
                      "SESSION_COOKIE_SECURE": False, "UPLOAD_FOLDER": str(folder / "uploads"),
                      "MATCH_INDEX_PATH": str(folder / "index")})
    with app.app_context():
        db.create_all()
        load_reference_data(db.session)
        university = Organisation(name="基准大学", kind=OrganisationKind.UNIVERSITY, status=ApprovalStatus.APPROVED)
        user = User(email="owner@example.org", name="基准用户", role=Role.RESEARCHER, organisation=university,
                    password_hash=hash_password(PASSWORD), membership_status=ApprovalStatus.APPROVED)
        db.session.add_all([university, user])
        db.session.commit()
        return app, university.id


def timed(client, path: str, data: dict, expected: int) -> float:
    """Seconds one POST takes; the answer must have the expected status."""
    started = time.perf_counter()
    response = client.post(path, data=data)
    elapsed = time.perf_counter() - started
    if response.status_code != expected:
        raise SystemExit(f"{path} answered {response.status_code}, expected {expected}")
    return elapsed


def main() -> int:
    """Measure the four cases interleaved and print the medians side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    rounds = max(3, min(parser.parse_args().rounds, 200))
    with tempfile.TemporaryDirectory() as tmp:
        app, university_id = build_app(Path(tmp))
        client = app.test_client()
        form = {"name": "新用户", "password": PASSWORD, "role": "researcher", "join": "existing",
                "organisation_id": str(university_id)}
        client.post("/login", data={"email": "warm-up@example.org", "password": "x"})  # the per-process dummy hash
        times: dict[str, list[float]] = {name: [] for name in
                                         ("register existing", "register new", "login known, wrong password",
                                          "login unknown")}
        for number in range(rounds):
            times["register existing"].append(timed(client, "/register", {**form, "email": "owner@example.org"}, 302))
            times["register new"].append(timed(client, "/register", {**form, "email": f"new{number}@example.org"}, 302))
            times["login known, wrong password"].append(
                timed(client, "/login", {"email": "owner@example.org", "password": "wrong-password-1"}, 200))
            times["login unknown"].append(
                timed(client, "/login", {"email": f"nobody{number}@example.org", "password": "wrong-password-1"}, 200))
    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    print(f"argon2id standard profile, in-process, {rounds} rounds each, median milliseconds")
    failed = False
    for left, right in (("register existing", "register new"), ("login known, wrong password", "login unknown")):
        ratio = medians[left] / medians[right]
        within = abs(ratio - 1) <= TOLERANCE
        failed |= not within
        print(f"{left:>28}: {medians[left]:8.1f} ms | {right:<14}: {medians[right]:8.1f} ms | "
              f"ratio {ratio:.2f} {'ok' if within else 'OUTSIDE 20 %'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
