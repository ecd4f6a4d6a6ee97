"""Fast seeding for the speed benchmark: the demo data loaded through the services, then published demo achievements
cloned with bulk inserts (their transfer modes and search terms with them) up to N, then the match indexes built once
with `flask reindex` so that served workers load a snapshot. Databases are cached under /tmp/speedbench/."""
import hashlib
import json
import os
import random
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = Path("/tmp/speedbench")
PASSWORD = "bench-password"
SIGNED_IN_EMAIL = "enterprise@demo.jinchuang.example"
"""The benchmark's signed-in user: a demo enterprise user made an ordinary one (demo accounts sign in only in demo
mode, which the benchmark does not use: it serves the project as production does)."""
POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
BATCH = 2000


def log(message: str) -> None:
    """A progress line on stderr."""
    print(f"[seed] {message}", file=sys.stderr, flush=True)


def migration_tag() -> str:
    """A short hash of the migration file names: a new migration means a new seed."""
    names = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "market").rglob("migrations/versions/*.py"))
    return hashlib.sha1("\n".join(names).encode()).hexdigest()[:10]


def title_terms(title: str) -> Counter:
    """What a title adds to a listing's search terms (as `listing_terms` weighs it)."""
    from market.listings.search import FIELD_WEIGHTS, segment

    weights: Counter = Counter()
    for term in segment(title, for_index=True):
        weights[term] += FIELD_WEIGHTS["title"]
    return weights


def load_demo(database_url: str) -> None:
    """Migrate, then load reference and demo data through the services."""
    from bench_import_load import seed

    seed(database_url, PASSWORD)


def clone_achievements(database_url: str, count: int) -> int:
    """Clone published demo achievements with Core bulk inserts until `count` are published; the number added."""
    from sqlalchemy import create_engine, func, select, text

    from market.achievements.models import Achievement, AchievementMode
    from market.listings.models import SearchTerm
    from market.listings.vocabulary import ListingKind, ListingStatus
    from market.timeutil import utcnow

    engine = create_engine(database_url)
    table, modes, terms = Achievement.__table__, AchievementMode.__table__, SearchTerm.__table__
    with engine.begin() as connection:
        base = [dict(row._mapping) for row in connection.execute(
            select(table).where(table.c.status == ListingStatus.PUBLISHED).order_by(table.c.id))]
        published = len(base)
        base_modes: dict[int, list[str]] = {}
        for achievement_id, mode in connection.execute(select(modes.c.achievement_id, modes.c.mode)):
            base_modes.setdefault(achievement_id, []).append(mode)
        base_terms: dict[int, Counter] = {}
        for listing_id, term, weight in connection.execute(
                select(terms.c.listing_id, terms.c.term, terms.c.weight)
                .where(terms.c.listing_kind == ListingKind.ACHIEVEMENT)):
            base_terms.setdefault(listing_id, Counter())[term] += weight
        for row in base:  # the part of each listing's terms that does not come from its title
            row["_body_terms"] = base_terms.get(row["id"], Counter()) - title_terms(row["title"])
        next_id = (connection.scalar(select(func.max(table.c.id))) or 0) + 1
    rng = random.Random(7)
    now = utcnow()
    kind = str(ListingKind.ACHIEVEMENT)
    term_indexes = list(terms.indexes)
    with engine.begin() as connection:  # the search table's indexes are built once, after the rows
        for index in term_indexes:
            index.drop(connection)
    started = time.perf_counter()
    added = 0
    while published + added < count:
        rows, mode_rows, term_rows = [], [], []
        for _ in range(min(BATCH, count - published - added)):
            number = published + added
            a, b = rng.sample(base, 2)
            suffix = f"与{b['keywords'][0] if b['keywords'] else b['title'][:6]}融合技术{number}"
            row = {k: v for k, v in a.items() if not k.startswith("_")}
            published_at = now - timedelta(minutes=number)
            row.update(id=next_id, title=(a["title"] + suffix)[:200], source_key=None, is_demo=False,
                       created_at=published_at, updated_at=published_at, submitted_at=published_at,
                       published_at=published_at, expires_at=published_at + timedelta(days=365))
            weights = a["_body_terms"] + title_terms(row["title"])
            row["search_length"] = sum(weights.values())
            rows.append(row)
            mode_rows += [{"achievement_id": next_id, "mode": mode} for mode in base_modes.get(a["id"], [])]
            term_rows += [(kind, next_id, term, weight) for term, weight in weights.items()]
            next_id += 1
            added += 1
        with engine.begin() as connection:
            connection.execute(table.insert(), rows)
            if mode_rows:
                connection.execute(modes.insert(), mode_rows)
            insert_terms(connection, term_rows)
        if added % 20000 < BATCH:
            log(f"cloned {added}/{count - published} in {time.perf_counter() - started:.0f}s")
    started = time.perf_counter()
    with engine.begin() as connection:
        for index in term_indexes:
            index.create(connection)
    log(f"search table indexes built in {time.perf_counter() - started:.0f}s")
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("SELECT setval(pg_get_serial_sequence('achievements', 'id'), "
                                    "(SELECT max(id) FROM achievements))"))
    engine.dispose()
    return added


def insert_terms(connection, rows: list[tuple]) -> None:
    """Bulk-insert search-table rows (listing_kind, listing_id, term, weight) through the driver (COPY on PostgreSQL)."""
    columns = "listing_kind, listing_id, term, weight"
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY search_terms ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        connection.exec_driver_sql(f"INSERT INTO search_terms ({columns}) VALUES (?, ?, ?, ?)", rows)


def check_clone_terms(database_url: str, sample: int = 30) -> int:
    """Index a sample of clones with the project's own indexing and compare; the number that differ."""
    from sqlalchemy import select

    from market import create_app
    from market.achievements.models import Achievement
    from market.extensions import db
    from market.listings.models import SearchTerm
    from market.listings.services import index_listing
    from market.listings.vocabulary import ListingKind

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench"})
    differing = 0
    with app.app_context():
        ids = db.session.scalars(select(Achievement.id).where(Achievement.is_demo.is_(False))
                                 .order_by(Achievement.id.desc()).limit(sample)).all()

        def stored(listing_id):
            return sorted(db.session.execute(select(SearchTerm.term, SearchTerm.weight).where(
                SearchTerm.listing_kind == ListingKind.ACHIEVEMENT, SearchTerm.listing_id == listing_id)).all())

        for listing_id in ids:
            before = stored(listing_id)
            index_listing(db.session, db.session.get(Achievement, listing_id))
            db.session.flush()
            differing += before != stored(listing_id)
        db.session.rollback()
        db.engine.dispose()
    return differing


def build_match_indexes(database_url: str, index_path: Path) -> None:
    """The match index snapshot the workers load, and the fingerprint `flask reindex` keeps beside it.

    `flask reindex` first segments every listing again (about 23 ms each here: 40 minutes at 100,000); the clones'
    search rows are checked against the project's indexing instead, so only its match index step runs, then the
    command itself confirms that everything is current."""
    from market import create_app
    from market.extensions import db
    from market.matching.services import rebuild_indexes
    from market.matching.staleness import fingerprint, save_fingerprint

    started = time.perf_counter()
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench", "MATCH_INDEX_PATH": str(index_path)})
    with app.app_context():
        counts = rebuild_indexes()
        save_fingerprint(str(index_path), fingerprint(db.session, 0))
        db.session.rollback()
        db.engine.dispose()
    log(f"match indexes built ({counts}) in {time.perf_counter() - started:.0f}s")
    env = dict(os.environ, DATABASE_URL=database_url, SECRET_KEY="bench", MATCH_INDEX_PATH=str(index_path),
               PYTHONPATH=str(ROOT))
    flask = str(Path(sys.executable).parent / "flask")
    out = subprocess.run([flask, "--app", "market", "reindex", "--pairs-days", "0"], env=env, cwd=ROOT,
                         capture_output=True, text=True, check=False)
    if out.returncode:
        raise SystemExit(f"reindex failed:\n{out.stdout}\n{out.stderr}")
    for line in out.stdout.splitlines():
        log(f"reindex: {line}")


def make_signed_in_user_ordinary(database_url: str) -> None:
    """Let the benchmark's user sign in outside demo mode (its `is_demo` mark off; nothing else changes)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE users SET is_demo = :no WHERE email = :email"),
                           {"no": False, "email": SIGNED_IN_EMAIL})
    engine.dispose()


def published_ids(database_url: str) -> list[int]:
    """Ids of the published achievements."""
    from sqlalchemy import create_engine, select

    from market.achievements.models import Achievement
    from market.listings.vocabulary import ListingStatus

    engine = create_engine(database_url)
    with engine.connect() as connection:
        table = Achievement.__table__
        ids = list(connection.scalars(select(table.c.id).where(table.c.status == ListingStatus.PUBLISHED)))
    engine.dispose()
    return ids


def psql(sql: str, database: str = "postgres") -> None:
    """Run one statement on the local PostgreSQL server."""
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-q", "-v", "ON_ERROR_STOP=1",
                    "-c", sql], check=True, capture_output=True)


def recreate_postgres_database(name: str) -> None:
    """Drop and create a PostgreSQL database (closing other connections to it)."""
    psql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()")
    psql(f"DROP DATABASE IF EXISTS {name}")
    psql(f"CREATE DATABASE {name}")


def prepare(kind: str, count: int) -> dict:
    """A seeded database of `count` published achievements (cached): its URL, index path and published ids."""
    WORK.mkdir(parents=True, exist_ok=True)
    tag = migration_tag()
    marker = WORK / f"seeded-{kind}-{count}.json"
    index_path = WORK / f"index-{kind}-{count}-{tag}"
    if kind == "sqlite":
        database_url = f"sqlite:///{WORK / f'market-{count}-{tag}.db'}"
    else:
        database_url = f"{POSTGRES_SERVER}/speedbench_{count}"
    try:
        cached = json.loads(marker.read_text())
    except (OSError, ValueError):
        cached = {}
    if cached.get("tag") == tag and cached.get("url") == database_url and index_path.exists():
        make_signed_in_user_ordinary(database_url)
        return cached
    started = time.perf_counter()
    if kind == "sqlite":
        Path(database_url[len("sqlite:///"):]).unlink(missing_ok=True)
    else:
        recreate_postgres_database(f"speedbench_{count}")
    import shutil
    shutil.rmtree(index_path, ignore_errors=True)
    log(f"seeding {count} achievements into {database_url}")
    load_demo(database_url)
    log(f"demo data loaded in {time.perf_counter() - started:.0f}s")
    cloned = clone_achievements(database_url, count)
    log(f"{cloned} clones inserted; {time.perf_counter() - started:.0f}s so far")
    differing = check_clone_terms(database_url)
    log(f"clone search terms checked against the project's indexing: {differing} of 30 differ")
    build_match_indexes(database_url, index_path)
    make_signed_in_user_ordinary(database_url)
    ids = published_ids(database_url)
    result = {"tag": tag, "url": database_url, "index_path": str(index_path), "ids": ids,
              "seed_seconds": round(time.perf_counter() - started, 1), "clone_terms_differing": differing}
    marker.write_text(json.dumps(result))
    log(f"seeded {len(ids)} published achievements in {result['seed_seconds']}s")
    return result


def anchor_rows(database_url: str) -> list[tuple]:
    """(id, title, summary) of every achievement, for the minimal page's own table."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = [tuple(r) for r in connection.execute(text("SELECT id, title, summary FROM achievements"))]
    engine.dispose()
    return rows


def prepare_anchor(kind: str, count: int, database_url: str) -> str:
    """The minimal page's database holding the same achievement rows (as ../shared/bin/web-compare builds it)."""
    rows = [(i, t, s, "energy", 100000) for i, t, s in anchor_rows(database_url)]
    ddl = ("CREATE TABLE achievement (id integer PRIMARY KEY, title varchar NOT NULL, summary varchar NOT NULL, "
           "field varchar NOT NULL, price_fen integer NOT NULL)")
    if kind == "sqlite":
        path = WORK / f"anchor-{count}.sqlite"
        path.unlink(missing_ok=True)
        con = sqlite3.connect(path)
        con.execute(ddl)
        con.execute("CREATE INDEX ix_achievement_field ON achievement(field)")
        con.executemany("INSERT INTO achievement VALUES (?,?,?,?,?)", rows)
        con.commit()
        con.close()
        return f"sqlite:///{path}"
    from sqlalchemy import create_engine, text

    recreate_postgres_database("speedbench_anchor")
    url = f"{POSTGRES_SERVER}/speedbench_anchor"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(ddl))
        connection.execute(text("CREATE INDEX ix_achievement_field ON achievement(field)"))
        connection.execute(text("INSERT INTO achievement VALUES (:i, :t, :s, :f, :p)"),
                           [dict(zip("itsfp", row)) for row in rows])
    engine.dispose()
    return url
