"""Shared fixtures: a clean database per test (SQLite file copy, or PostgreSQL truncation), clients and factories."""
import os
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from flask import g
from sqlalchemy import Integer, event, text

from market import create_app
from market.accounts.models import (
    ApprovalStatus,
    Organisation,
    OrganisationKind,
    Role,
    User,
)
from market.accounts.passwords import hash_password
from market.extensions import db
from market.ledger.services import find_ledger_problems
from market.seeding import load_reference_data

POSTGRES_URL = os.environ.get("MARKET_TEST_DATABASE_URL", "")
PASSWORD = "correct-horse-battery"


def _config(tmp_path: Path, database_url: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "PASSWORD_HASH_PROFILE": "fast",
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "MATCH_INDEX_PATH": str(tmp_path / "match-index"),
        "SESSION_COOKIE_SECURE": False,
        "SERVER_NAME": "localhost",
    }


@pytest.fixture(scope="session")
def template_database(tmp_path_factory):
    """A schema with the reference data (field tree, valleys), made once per run."""
    folder = tmp_path_factory.mktemp("db")
    url = POSTGRES_URL or f"sqlite:///{folder / 'template.db'}"
    app = create_app(_config(folder, url))
    with app.app_context():
        if POSTGRES_URL:
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        db.create_all()
        load_reference_data(db.session)
        db.session.commit()
        db.engine.dispose()
    return folder / "template.db" if not POSTGRES_URL else None


@pytest.fixture
def app(template_database, tmp_path, request):
    """An app on a clean database holding only the reference data; afterwards the ledger's invariants must hold."""
    if POSTGRES_URL:
        url = POSTGRES_URL
    else:
        shutil.copy(template_database, tmp_path / "test.db")
        url = f"sqlite:///{tmp_path / 'test.db'}"
    config = _config(tmp_path, url)
    config.update(getattr(request, "param", {}) or {})
    app = create_app(config)
    app.before_request_funcs.setdefault(None, []).insert(0, _fresh_request_globals)
    app.before_request_funcs[None].insert(0, _commit_test_setup)
    with app.app_context():
        written = _track_written_tables(db.engine) if POSTGRES_URL else set()
        yield app
        db.session.rollback()
        problems = find_ledger_problems(db.session)
        db.session.remove()
        if POSTGRES_URL:
            _reset_postgres(written)
        db.engine.dispose()
    assert problems == [], f"ledger invariants broken after the test: {problems}"


def _commit_test_setup() -> None:
    """What the test wrote by calling services directly (they flush, the unit of work commits) is committed before
    a test request runs, as the test's own unit of work would: a request that fails rolls back only its own writes."""
    db.session.commit()


def _fresh_request_globals() -> None:
    """Each test request starts with an empty `g`, as in production (the test keeps one app context open)."""
    g.__dict__.clear()


REFERENCE_TABLES = {"fields", "valleys", "valley_key_fields", "policy_rule_sets", "policy_state"}
_WRITE_STATEMENT = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)


def _track_written_tables(engine) -> set[str]:
    """Names of the tables the test writes to, so that only those are emptied afterwards (PostgreSQL)."""
    written: set[str] = set()

    @event.listens_for(engine, "before_cursor_execute")
    def remember(_connection, _cursor, statement, _parameters, _context, _executemany):
        match = _WRITE_STATEMENT.match(statement)
        if match:
            written.add(match.group(1))

    return written


def _reset_postgres(written: set[str]) -> None:
    """Empty the tables the test wrote to (triggers and foreign keys off for the cleanup) and restore the reference data."""
    if written & REFERENCE_TABLES:
        written |= REFERENCE_TABLES
    tables = [table for table in reversed(db.metadata.sorted_tables) if table.name in written]
    if not tables:
        return
    with db.engine.begin() as connection:
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        for table in tables:
            connection.execute(table.delete())
            key = [column.name for column in table.primary_key.columns]
            if len(key) == 1 and table.c[key[0]].autoincrement is not False and isinstance(table.c[key[0]].type, Integer):
                connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', '{key[0]}'), 1, false)"))
    if written & REFERENCE_TABLES:
        load_reference_data(db.session)
        db.session.commit()


@pytest.fixture
def client(app):
    """A test client."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner."""
    return app.test_cli_runner()


@pytest.fixture
def make_organisation(app):
    """Factory: an approved organisation."""
    counter = iter(range(1, 10_000))

    def make(kind: str = "university", name: str | None = None, **values) -> Organisation:
        number = next(counter)
        org = Organisation(name=name or f"测试机构{number}号", kind=OrganisationKind(kind),
                           region=values.pop("region", "太原市"), status=values.pop("status", ApprovalStatus.APPROVED),
                           **values)
        db.session.add(org)
        db.session.commit()
        return org

    return make


ROLE_KIND = {"researcher": "university", "enterprise": "enterprise", "broker": "agency"}


@pytest.fixture
def make_user(app, make_organisation):
    """Factory: an approved user of a role, in a new organisation of the fitting kind unless one is given."""
    counter = iter(range(1, 10_000))

    def make(role: str = "researcher", organisation: Organisation | None = None, **values) -> User:
        number = next(counter)
        if organisation is None and role != "admin":
            organisation = make_organisation(ROLE_KIND[role])
        user = User(email=values.pop("email", f"{role}{number}@example.org"), name=values.pop("name", f"用户{number}"),
                    role=Role(role), organisation=organisation,
                    password_hash=hash_password(values.pop("password", PASSWORD), "fast"),
                    membership_status=values.pop("membership_status", ApprovalStatus.APPROVED), **values)
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def login(client):
    """Log a user in through the login form; returns the client."""

    def do_login(user: User, password: str = PASSWORD):
        response = client.post("/login", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.data[:500]
        return client

    return do_login


@pytest.fixture
def login_as(make_user, login):
    """Log in as a new user of a role; returns the user."""

    def do(role: str, **values) -> User:
        user = make_user(role, **values)
        login(user)
        return user

    return do


ACHIEVEMENT_INPUT = {
    "title": "焦炉煤气制氢耦合二氧化碳捕集工艺",
    "summary": "以焦炉煤气为原料，变压吸附制取高纯氢，同时捕集二氧化碳。",
    "description_public": "氢气纯度99.999%，回收率92%。",
    "description_confidential": "吸附剂配方与切换时序参数。",
    "keywords": ["焦炉煤气", "制氢", "变压吸附"],
    "field": "energy",
    "trl": 6,
    "stage": "pilot",
    "modes": ["assignment", "license_exclusive"],
    "price_type": "reference",
    "price_min_fen": 80_000_000,
    "price_max_fen": 200_000_000,
}

DEMAND_INPUT = {
    "title": "冷轧带钢表面缺陷在线检测",
    "description": "需要在线识别冷轧带钢表面划伤、辊印等缺陷，识别率不低于95%。",
    "keywords": ["表面缺陷", "机器视觉"],
    "field": "equipment",
    "budget_min_fen": 50_000_000,
    "budget_max_fen": 150_000_000,
    "wanted_trl_min": 6,
    "modes": ["co_development"],
    "deadline": date(2027, 6, 30),
}


@pytest.fixture
def make_achievement(app, make_user):
    """Factory: an achievement through the service, published unless another status is asked for."""
    from market.achievements.services import create_achievement
    from market.listings import services as listings
    from market.listings.vocabulary import ListingKind

    def make(owner: User | None = None, status: str = "published", **changes):
        owner = owner or make_user("researcher")
        achievement = create_achievement(db.session, owner, {**ACHIEVEMENT_INPUT, **changes}, submit=status != "draft")
        if status == "published":
            admin = db.session.scalar(db.select(User).where(User.role == Role.ADMIN)) or make_user("admin")
            listings.approve_listing(db.session, admin, ListingKind.ACHIEVEMENT, achievement.id)
        db.session.commit()
        return achievement

    return make


@pytest.fixture
def make_demand(app, make_user):
    """Factory: a demand through the service, published unless another status is asked for."""
    from market.demands.services import create_demand
    from market.listings import services as listings
    from market.listings.vocabulary import ListingKind

    def make(owner: User | None = None, status: str = "published", **changes):
        owner = owner or make_user("enterprise")
        demand = create_demand(db.session, owner, {**DEMAND_INPUT, **changes}, submit=status != "draft")
        if status == "published":
            admin = db.session.scalar(db.select(User).where(User.role == Role.ADMIN)) or make_user("admin")
            listings.approve_listing(db.session, admin, ListingKind.DEMAND, demand.id)
        db.session.commit()
        return demand

    return make



# A published hydrogen achievement and a demand that matches it (matching tests).
HYDROGEN = {"title": "焦炉煤气变压吸附制氢技术", "summary": "以焦炉煤气为原料，变压吸附制取高纯氢气，氢气纯度99.999%。",
            "keywords": ["焦炉煤气", "制氢", "变压吸附"], "field": "energy.hydrogen.production"}
HYDROGEN_NEED = {"title": "焦炉煤气制氢提纯需求", "description": "寻求焦炉煤气变压吸附制氢提纯技术，氢气纯度达到99.99%以上。",
                 "keywords": ["焦炉煤气", "制氢"], "field": "energy.hydrogen", "modes": ["assignment"]}


def viewer_of(make_user, owner, viewer: str):
    """A user in a role relative to the owner of a listing (None for a visitor)."""
    return {
        "visitor": lambda: None,
        "member": lambda: make_user(str(owner.role), organisation=owner.organisation),
        "admin": lambda: make_user("admin"),
        "broker": lambda: make_user("broker"),
        "other_enterprise": lambda: make_user("enterprise"),
        "researcher": lambda: make_user("researcher"),
    }[viewer]()
