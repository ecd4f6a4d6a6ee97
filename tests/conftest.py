"""Shared fixtures: a clean database per test (SQLite file copy, or PostgreSQL truncation), clients and factories."""
import os
import re
import shutil
import time
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import pyotp
import pytest
from flask import g
from sqlalchemy import Integer, event, text, update

from market import create_app
from market.accounts.models import (
    ApprovalStatus,
    Organisation,
    OrganisationKind,
    Role,
    SecondFactor,
    User,
    VerificationStatus,
)
from market.accounts.passwords import hash_password
from market.awards.book_checks import find_book_problems
from market.deals.models import PIPELINE, Deal, DealStage
from market.demo_flow import deal_clock
from market.extensions import db
from market.policy.statutory import INVENTOR_SHARE_KINDS
from market.seeding import load_reference_data
from market.timeutil import utcnow
from tests.payments import certificate, record_and_confirm_deal_payment, record_and_confirm_preorder_payment

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
        "SEARCH_VOCABULARY_REFRESH_SECONDS": 0,
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
    """An app on a clean database holding only the reference data; afterwards, if the test wrote to a money table,
    the whole books must be sound (`find_book_problems`), or break exactly as the test declared with
    `expect_book_problems`."""
    if POSTGRES_URL:
        url = POSTGRES_URL
    else:
        shutil.copy(template_database, tmp_path / "test.db")
        url = f"sqlite:///{tmp_path / 'test.db'}"
    config = _config(tmp_path, url)
    config.update(getattr(request, "param", {}) or {})
    app = create_app(config)
    app.before_request_funcs.setdefault(None, []).insert(0, _fresh_request_globals)
    request.node.expected_book_problems = []
    app.before_request_funcs[None].insert(0, _commit_test_setup)
    with app.app_context():
        written = _track_written_tables(db.engine)
        yield app
        db.session.rollback()
        problems = _check_books(written)
        db.session.remove()
        if POSTGRES_URL:
            _reset_postgres(written)
        db.engine.dispose()
    _assert_books(problems, request.node.expected_book_problems)


MONEY_TABLES = {"deals", "deal_intermediaries", "deal_payments", "preorder_agreements", "preorder_proposals", "preorder_deliveries",
                "preorder_payments", "policy_rule_sets", "policy_events", "policy_state", "awards", "startup_grants",
                "ledger_transactions", "ledger_entries"}
BOOK_CHECKS = {"tests": 0, "checked": 0, "seconds": 0.0}
"""How often the after-test book check ran and what it cost (printed at the end of the run)."""


def _check_books(written: set[str]) -> list[str]:
    """Every problem of the books, if the test wrote to a money table (a test starts from sound, empty books)."""
    BOOK_CHECKS["tests"] += 1
    if not written & MONEY_TABLES:
        return []
    started = time.perf_counter()
    problems = find_book_problems(db.session)
    BOOK_CHECKS["checked"] += 1
    BOOK_CHECKS["seconds"] += time.perf_counter() - started
    return problems


def _assert_books(problems: list[str], expected: list[str]) -> None:
    """The books are sound, or each declared problem was found and nothing else."""
    missed = [sentence for sentence in expected if not any(sentence in problem for problem in problems)]
    unexpected = [problem for problem in problems if not any(sentence in problem for sentence in expected)]
    assert not missed, f"the book check did not find the problems the test declared: {missed}; it found {problems}"
    assert not unexpected, f"the money books are broken after the test: {unexpected}"


@pytest.fixture
def expect_book_problems(app, request):
    """For a test that breaks the books on purpose: declare (parts of) the sentences the after-test check must find;
    it then fails if any is missing or if it finds anything else."""

    def expect(*sentences: str) -> None:
        request.node.expected_book_problems.extend(sentences)

    return expect


def pytest_terminal_summary(terminalreporter):
    """Report what the after-test book check cost."""
    if BOOK_CHECKS["tests"]:
        mean = BOOK_CHECKS["seconds"] / BOOK_CHECKS["checked"] * 1000 if BOOK_CHECKS["checked"] else 0.0
        terminalreporter.write_line(
            f"[book check] ran after {BOOK_CHECKS['checked']} of {BOOK_CHECKS['tests']} database tests (those that "
            f"wrote to a money table): {BOOK_CHECKS['seconds']:.1f} s in total, {mean:.0f} ms each")


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
    """Names of the tables the test writes to: only those are emptied afterwards (PostgreSQL), and the books are
    checked only when one of them holds money."""
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
    """Factory: an approved user of a role, in a new organisation of the fitting kind unless one is given.

    Admins get a confirmed authenticator (awards need it) unless `second_factor=False`; others only when asked."""
    counter = iter(range(1, 10_000))

    def make(role: str = "researcher", organisation: Organisation | None = None, second_factor: bool | None = None,
             **values) -> User:
        number = next(counter)
        if organisation is None and role != "admin":
            organisation = make_organisation(ROLE_KIND[role])
        user = User(email=values.pop("email", f"{role}{number}@example.org"), name=values.pop("name", f"用户{number}"),
                    role=Role(role), organisation=organisation,
                    password_hash=hash_password(values.pop("password", PASSWORD), "fast"),
                    membership_status=values.pop("membership_status", ApprovalStatus.APPROVED), **values)
        if second_factor if second_factor is not None else role == "admin":
            user.second_factor = SecondFactor(secret=pyotp.random_base32(), confirmed_at=utcnow())
        db.session.add(user)
        db.session.commit()
        return user

    return make


def pass_code_step(client, user: User, response):
    """Answer the login's code step with a fresh code from the user's authenticator, when the login asks for one."""
    if response.status_code != 302 or response.headers["Location"] != "/login/code":
        return response
    db.session.execute(update(SecondFactor).where(SecondFactor.user_id == user.id).values(last_used_step=0))
    db.session.commit()
    return client.post("/login/code", data={"code": pyotp.TOTP(user.second_factor.secret).now()})


def log_client_in(client, user: User, password: str = PASSWORD):
    """Log the client in as the user through the login form (and the code step when enrolled); returns the client."""
    response = pass_code_step(client, user, client.post("/login", data={"email": user.email, "password": password}))
    assert response.status_code == 302, response.data[:500]
    return client


def client_for(app, user: User | None):
    """A new test client (a browser of its own) logged in as the user; a visitor's for None."""
    client = app.test_client()
    return client if user is None else log_client_in(client, user)


@pytest.fixture
def login(client):
    """Log a user in through the login form (and the code step when enrolled); returns the client."""

    def do_login(user: User, password: str = PASSWORD):
        return log_client_in(client, user, password)

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


# --- money worlds, built through the services ------------------------------------------------------------------------

WAN = 1_000_000
"""¥10,000 in fen."""


@pytest.fixture
def deal_world(make_user, make_achievement):
    """A researcher owning a published achievement, a company buyer, the deal's broker, another broker, an admin and
    an unrelated company user (the parties `make_deal` uses unless told otherwise)."""
    researcher = make_user("researcher")
    achievement = make_achievement(owner=researcher)
    admin = db.session.scalar(db.select(User).where(User.role == Role.ADMIN))
    return SimpleNamespace(researcher=researcher, achievement=achievement, buyer=make_user("enterprise"),
                           broker=make_user("broker"), other_broker=make_user("broker"), admin=admin,
                           outsider=make_user("enterprise"))


_UNSET = object()


@pytest.fixture
def make_deal(deal_world):
    """Factory: a deal brought to a stage through the deal services (bid, acceptance, stage moves, notice, signing,
    registration, a payment), with the dates each stage implies: notice from 20 days ago (15 days), signed 5 days
    ago (recorded by the transferor, confirmed by the buyer), registered 4 days ago, paid today. A PERFORMANCE deal has half its value paid unless `paid_fen` says how
    much; a TERMINATED deal is ended from `terminated_from`; a COMPLETED one is closed by its transferor with a note.
    A given `signed_on` moves the notice to the 20 days before it; `agent` is the agent organisation. A university's or
    institute's deal records `inventor_share_bp` (70% unless told; None leaves it unrecorded). Both parties and the
    named intermediaries accept the terms unless `terms_accepted` is false (a deal that reaches the notice needs it).
    The owner accepts the bid confirming a new licence, which only an earlier outright transfer of the achievement
    asks for. The registration carries a certificate and an admin verifies it unless `registration_verified` is
    false."""
    from market.deals import recording as deal_recording
    from market.deals.bids import accept_bid, place_bid
    from market.deals.brokers import accept_broker_request, invite_broker
    from market.deals.intermediaries import record_intermediary_exception, set_intermediaries
    from market.deals.permissions import may_accept_terms
    from market.deals.pipeline import (
        accept_terms,
        advance_deal,
        complete_deal,
        register_deal,
        start_notice,
        terminate_deal,
        update_terms,
    )
    from market.deals.registrations import verify_registration
    from market.deals.signing import confirm_signing, record_signing

    numbers = iter(range(1, 10_000))

    def accept_all_terms(session, deal_id: int, owner: User, buyer: User) -> None:
        """Both parties and every named intermediary accept the current terms (those who have not yet)."""
        deal = session.get(Deal, deal_id)
        people = [owner, buyer] + [row.user for row in deal.intermediaries]
        for person in people:
            if may_accept_terms(person, deal):
                accept_terms(session, person, deal_id, deal.terms_version)

    def make(stage=DealStage.INTENT, *, achievement=None, buyer: User | None = None, broker=_UNSET,
             amount_fen: int = 100 * WAN, agreed_amount_fen=_UNSET, mode=_UNSET, intermediaries=(),
             reward_rate_bp: int = 0, intermediary_exception: str | None = None, notice_starts_on: date | None = None,
             signed_on: date | None = None, registration_number: str | None = None, registered_on: date | None = None,
             paid_fen: int | None = None, terminated_from=DealStage.INTENT, agent=None,
             inventor_share_bp: int | None = 7000, terms_accepted: bool = True,
             registration_verified: bool = True) -> Deal:
        stage = DealStage(stage)
        achievement = achievement or deal_world.achievement
        owner, buyer = achievement.submitter, buyer or deal_world.buyer
        broker = deal_world.broker if broker is _UNSET else broker
        session, today = db.session, deal_recording.today()
        bid = place_bid(session, buyer, achievement.id, amount_fen=amount_fen,
                        mode="assignment" if mode in (_UNSET, None) else mode)
        deal = accept_bid(session, owner, bid.id, version_number=1, confirm_relicense=True)
        deal_id = deal.id
        share = inventor_share_bp if deal.transferor.kind in INVENTOR_SHARE_KINDS else None
        if broker is not None:
            invitation = invite_broker(session, owner, deal_id, broker_id=broker.id)
            accept_broker_request(session, broker, deal_id, invitation.id)
        if agreed_amount_fen is not _UNSET or mode is None or share is not None:
            update_terms(session, owner, deal_id,
                         agreed_amount_fen=amount_fen if agreed_amount_fen is _UNSET else agreed_amount_fen,
                         mode=None if mode is None else (mode if mode is not _UNSET else "assignment"),
                         inventor_share_bp=share)
        if intermediary_exception:
            record_intermediary_exception(session, deal_world.admin, deal_id, reason=intermediary_exception)
        if intermediaries or agent is not None:
            set_intermediaries(session, owner, deal_id, reward_rate_bp=reward_rate_bp,
                               people=[(str(person.id), share) for person, share in intermediaries],
                               agent_organisation_id=agent.id if agent is not None else None)
        if terms_accepted:
            accept_all_terms(session, deal_id, owner, buyer)
        reach = PIPELINE.index(terminated_from if stage == DealStage.TERMINATED else stage)

        def reaches(step: DealStage) -> bool:
            return reach >= PIPELINE.index(step)

        if reaches(DealStage.NEGOTIATION):
            advance_deal(session, buyer, deal_id, DealStage.NEGOTIATION)
        if reaches(DealStage.PRICING):
            advance_deal(session, owner, deal_id, DealStage.PRICING)
        if reaches(DealStage.NOTICE):
            with deal_clock(notice_starts_on or (signed_on or today) - timedelta(days=20)):
                start_notice(session, owner, deal_id, notice_days=15)
        if reaches(DealStage.SIGNED):
            signing = record_signing(session, owner, deal_id, signed_on=signed_on or today - timedelta(days=5),
                                     agreed_amount_fen=session.get(Deal, deal_id).agreed_amount_fen)
            confirm_signing(session, buyer, signing.id)
        if reaches(DealStage.REGISTERED):
            register_deal(session, owner, deal_id,
                          registration_number=registration_number or f"TEST-{next(numbers):04d}",
                          registered_on=registered_on or max(today - timedelta(days=4), signed_on or today),
                          certificate=certificate())
            if registration_verified:
                verify_registration(session, deal_world.admin, session.get(Deal, deal_id).current_registration.id)
        if reaches(DealStage.PERFORMANCE):
            value = session.get(Deal, deal_id).agreed_amount_fen
            record_and_confirm_deal_payment(owner, deal_id, amount_fen=value // 2 if paid_fen is None else paid_fen,
                                            paid_on=today, confirmer=buyer)
        if stage == DealStage.COMPLETED:
            complete_deal(session, owner, deal_id, note="双方确认项目完成")
        elif stage == DealStage.TERMINATED:
            terminate_deal(session, buyer, deal_id, reason="受让方资金未落实")
        deal = session.get(Deal, deal_id)
        assert deal.stage == stage, f"make_deal reached {deal.stage}, not {stage}"
        session.commit()  # as the requests that built it would have: other connections (race threads) see it
        return deal

    return make


@pytest.fixture
def make_registered_deal(make_deal, make_user, make_organisation, make_achievement):
    """Factory: by default POLICY.md's worked example 2, a university's achievement sold for ¥12M to a company outside
    阳泉 (in 忻州), three intermediaries sharing a 20% reward 50/30/20, signed and registered on 2025-03-10, with no
    deal broker unless `broker` claims it (`brokers` names the intermediaries); built through the deal services, its
    registration verified by an admin unless `registration_verified` is false.
    Returns (deal, the transferor's researcher, the intermediaries)."""

    def make(*, value_fen: int = 1200 * WAN, reward_rate_bp: int = 2000, shares=(5000, 3000, 2000), achievement=None,
             transferee: Organisation | None = None, signed_on: date = date(2025, 3, 10), agent=None,
             broker: User | None = None, brokers: list[User] | None = None, registration_verified: bool = True):
        achievement = achievement or make_achievement()
        buyer = make_user("enterprise", organisation=transferee or make_organisation("enterprise", region="忻州市"))
        brokers = brokers or [make_user("broker") for _ in shares]
        deal = make_deal(DealStage.REGISTERED, achievement=achievement, buyer=buyer, broker=broker, amount_fen=value_fen,
                         intermediaries=list(zip(brokers, shares)), reward_rate_bp=reward_rate_bp, agent=agent,
                         signed_on=signed_on, registered_on=signed_on, registration_verified=registration_verified)
        return deal, achievement.submitter, brokers

    return make


@pytest.fixture
def registered_deal(make_registered_deal):
    """POLICY.md's worked example 2, registered and unpaid: (deal, the transferor's researcher, the intermediaries)."""
    return make_registered_deal()


RESIDENT_SINCE = date(2024, 3, 1)


@pytest.fixture
def preorder_parties(make_organisation, make_user):
    """A seller resident in the 太原 valley since 2024-03-01 and a buyer, a member of each, a broker, an admin and an
    outsider (the people around a pre-order agreement)."""
    seller = make_organisation("enterprise", name="晋能储氢装备有限公司", valley_id="taiyuan",
                               resident_since=RESIDENT_SINCE)
    buyer = make_organisation("enterprise", name="太原重型机械采购中心")
    return SimpleNamespace(seller=seller, buyer=buyer, seller_user=make_user("enterprise", organisation=seller),
                           buyer_user=make_user("enterprise", organisation=buyer), broker=make_user("broker"),
                           admin=make_user("admin"), outsider=make_user("enterprise"))


@pytest.fixture
def make_agreement(app, make_organisation, make_user):
    """Factory: a signed pre-order agreement recorded by the seller and confirmed by the buyer through the contract
    services, then deliveries
    recorded and accepted and payments made by the buyer, each given as (amount in fen, date) (a delivery may add the
    date of its acceptance, by default the day it was delivered). By default the seller is a verified enterprise resident
    in the 太原 valley since 2024-03-01 (so R1 applies and is payable) and the buyer an unrelated one."""
    from market.preorders import proposals, services

    numbers = iter(range(1, 10_000))

    def make(*, seller: User | None = None, buyer: User | None = None, value_fen: int = 15_000 * WAN,
             signed_on: date = date(2024, 10, 15), deliveries=(), payments=(), **changes):
        seller = seller or make_user("enterprise", organisation=make_organisation(
            "enterprise", valley_id="taiyuan", resident_since=RESIDENT_SINCE,
            verification_status=VerificationStatus.VERIFIED))
        buyer = buyer or make_user("enterprise")
        data = {"buyer_id": buyer.organisation_id, "seller_id": seller.organisation_id, "broker_id": None,
                "number": f"YG-T-{next(numbers):04d}", "product": "车载高压储氢瓶", "description": "70MPa IV型瓶",
                "quantity": "1", "unit": "批", "unit_price_fen": value_fen, "value_fen": None,
                "delivery_schedule": "分批交付", "signed_on": signed_on.isoformat(), "is_related_party": False, **changes}
        agreement = proposals.create_agreement(db.session, seller, data)
        proposals.confirm_agreement(db.session, buyer, agreement.id)
        for amount_fen, day, *accepted_on in deliveries:
            delivery = services.record_delivery(db.session, seller, agreement.id, {
                "delivered_on": day.isoformat(), "quantity": "1", "amount_fen": amount_fen})
            services.accept_delivery(db.session, buyer, agreement.id, delivery.id, (accepted_on or [day])[0].isoformat())
        for amount_fen, day in payments:
            record_and_confirm_preorder_payment(buyer, agreement.id, amount_fen=amount_fen, paid_on=day.isoformat(),
                                                confirmer=seller)
        db.session.commit()  # as the requests that built it would have: other connections (race threads) see it
        return agreement

    return make


@pytest.fixture
def signed_agreement(make_agreement, make_organisation, make_user):
    """POLICY.md's worked example 1: a 太原 resident seller's ¥150M agreement with an unrelated buyer, signed
    2024-10-15, all of it delivered on 2025-01-10 and accepted on 2025-01-20, unpaid; returns (agreement, the seller's
    user)."""
    seller = make_user("enterprise", organisation=make_organisation("enterprise", valley_id="taiyuan",
                                                                     resident_since=RESIDENT_SINCE,
                                                                     verification_status=VerificationStatus.VERIFIED))
    return make_agreement(seller=seller, deliveries=[(15_000 * WAN, date(2025, 1, 10), date(2025, 1, 20))]), seller
