"""Relevance benchmark: every search implementation over the demo data and the query set, in the same run.

    .venv/bin/python tests/benchmarks/bench_search_relevance.py [--database PATH_OR_URL] [--worst 10] [--only NAME]

Seeds a scratch SQLite database with the demo data (as `flask --app market seed --demo` does), or reuses the database
given (a SQLite file path or a SQLAlchemy URL; seeded first if it holds no demo listings), shows the demo as it stood
on the set's day (tests/search_relevance/evaluate.py AS_OF), then runs each implementation over
tests/search_relevance/queries.toml. Prints per implementation: recall@5, MRR, zero-result queries and mean latency
per query, the same figures per tag (typo, english, organisation, long), then its worst queries.
"""
import argparse
import importlib
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

IMPLEMENTATIONS = {
    "before-ranking": "tests.benchmarks.legacy_search:legacy_search",
    "current": "tests.search_relevance.evaluate:current_search",
}
"""Search implementations compared, by name: "module:function" taking (session, kind, query) and returning titles."""


def search_function(path: str):
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


def prepare(database_url: str) -> None:
    """Migrate and load the reference and demo data (with the demo deals) unless the database already has them."""
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from market import create_app
    from market.achievements.models import Achievement
    from market.demo_deals import load_demo_deals
    from market.extensions import db
    from market.seeding import load_demo_data, load_reference_data

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench", "PASSWORD_HASH_PROFILE": "fast",
                      "UPLOAD_FOLDER": tempfile.mkdtemp(prefix="bench-uploads-")})
    with app.app_context():
        upgrade()
        if not db.session.scalar(select(func.count()).select_from(Achievement).where(Achievement.is_demo)):
            began = time.perf_counter()
            load_reference_data(db.session)
            load_demo_data(db.session, "bench-password", password_profile="fast",
                           upload_folder=app.config["UPLOAD_FOLDER"])
            load_demo_deals(db.session)
            db.session.commit()  # outside a request or command nothing else commits
            print(f"seeded the demo data in {time.perf_counter() - began:.1f} s")
        db.engine.dispose()


def run(database_url: str, names: list[str], worst: int) -> None:
    from market import create_app
    from market.extensions import db
    from market.listings.vocabulary import ListingKind
    from tests.search_relevance.evaluate import evaluate, format_outcome, load_queries, show_demo_as_of

    queries = load_queries()
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench"})
    reports = {}
    with app.app_context():
        shift = show_demo_as_of(db.session)
        db.session.commit()
        print(f"{len(queries)} queries; demo listing dates shifted by {shift.days} days to show the demo as of the set's day")
        for name in names:
            search = search_function(IMPLEMENTATIONS[name])
            search(db.session, ListingKind.ACHIEVEMENT, "预热")  # loads the segmentation dictionary; not timed
            reports[name] = evaluate(db.session, search, queries)
        db.engine.dispose()

    header = f"{'implementation':<16}{'set':<14}{'queries':>8}{'recall@5':>10}{'MRR':>8}{'zero results':>14}{'ms/query':>10}"
    print("\n" + header + "\n" + "-" * len(header))
    for name, report in reports.items():
        for label, part in [("all", report)] + [(tag, report.by_tag(tag)) for tag in ("typo", "english", "organisation", "long")]:
            if part.outcomes:
                print(f"{name:<16}{label:<14}{len(part.outcomes):>8}{part.recall_at_5:>10.3f}{part.mrr:>8.3f}"
                      f"{len(part.zero_result_queries):>14}{part.mean_latency_ms:>10.1f}")
    for name, report in reports.items():
        print(f"\n{name}: the {worst} worst queries")
        for outcome in report.worst(worst):
            print(format_outcome(outcome))
        zero = report.zero_result_queries
        print(f"\n{name}: {len(zero)} queries with no result: " + ", ".join(outcome.query.id for outcome in zero))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="SQLite file path or SQLAlchemy URL to reuse (default: a scratch SQLite file)")
    parser.add_argument("--worst", type=int, default=10, help="how many of the worst queries to list")
    parser.add_argument("--only", action="append", choices=sorted(IMPLEMENTATIONS), help="run only this implementation")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-relevance-") as folder:
        database = args.database or str(Path(folder) / "demo.db")
        url = database if "://" in database else f"sqlite:///{Path(database).resolve()}"
        prepare(url)
        run(url, args.only or list(IMPLEMENTATIONS), args.worst)


if __name__ == "__main__":
    main()
