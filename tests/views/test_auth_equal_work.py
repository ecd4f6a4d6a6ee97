"""Registration and login do the same work whatever the address: counted calls, not timings; /register is rate limited."""
import pytest
from sqlalchemy import func, select

from market.accounts import passwords, services
from market.accounts.models import OutboxMail, User
from market.extensions import db
from tests.conftest import PASSWORD


class CallCounter:
    """Wraps a function and counts its calls."""

    def __init__(self, function):
        self.function, self.calls = function, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.function(*args, **kwargs)


class CountingHasher:
    """A PasswordHasher stand-in that counts hash and verify calls."""

    def __init__(self, hasher):
        self.hasher, self.hashes, self.verifies = hasher, 0, 0

    def hash(self, password):
        self.hashes += 1
        return self.hasher.hash(password)

    def verify(self, stored, password):
        self.verifies += 1
        return self.hasher.verify(stored, password)


@pytest.fixture
def hasher(monkeypatch):
    """The test profile's hasher, counting; the per-process dummy hash is forgotten first."""
    counting = CountingHasher(passwords._hashers["fast"])
    monkeypatch.setitem(passwords._hashers, "fast", counting)
    monkeypatch.setattr(passwords, "_DUMMY_HASHES", {})
    return counting


def _registration_form(organisation_id: int, email: str) -> dict:
    return {"email": email, "name": "新用户", "password": PASSWORD, "role": "researcher", "join": "existing",
            "organisation_id": str(organisation_id)}


def test_registering_an_existing_or_a_new_address_hashes_once_and_queues_one_mail_each(
        client, make_user, make_organisation, hasher, monkeypatch):
    owner = make_user("researcher")
    university = make_organisation("university")
    mails = CallCounter(services.queue_mail)
    monkeypatch.setattr(services, "queue_mail", mails)
    work = {}
    for branch, email in (("existing", owner.email), ("new", "fresh@example.org")):
        hasher.hashes = hasher.verifies = mails.calls = 0
        response = client.post("/register", data=_registration_form(university.id, email))
        assert (response.status_code, response.headers["Location"]) == (302, "/login")
        work[branch] = (hasher.hashes, hasher.verifies, mails.calls)
    assert work["existing"] == work["new"] == (1, 0, 1)
    assert sorted(db.session.scalars(select(OutboxMail.recipient))) == sorted([owner.email, "fresh@example.org"])


def test_a_new_registration_mails_its_address_that_the_request_was_received(client, make_organisation):
    client.post("/register", data=_registration_form(make_organisation("university").id, "fresh@example.org"))
    mail = db.session.scalar(select(OutboxMail))
    assert (mail.recipient, mail.subject) == ("fresh@example.org", "注册申请已收到")
    assert PASSWORD not in mail.body


def test_a_wrong_password_and_an_unknown_address_each_cost_exactly_one_verification(client, make_user, hasher):
    user = make_user("researcher")
    hasher.hashes = 0
    work = {}
    for case, email in (("known", user.email), ("unknown", "nobody@example.org")):
        for _attempt in range(3):
            hasher.verifies = 0
            response = client.post("/login", data={"email": email, "password": "wrong-password-1"})
            assert response.status_code == 200
            assert hasher.verifies == 1
        work[case] = hasher.verifies
    assert work["known"] == work["unknown"] == 1
    assert hasher.hashes == 1, "the dummy hash is computed once per process, not on every unknown address"


def test_the_dummy_hash_is_made_once_and_never_matches(app, hasher):
    first = passwords.dummy_hash("fast")
    assert passwords.dummy_hash("fast") == first
    assert hasher.hashes == 1
    assert not passwords.verify_password(None, "no such user", "fast")


REGISTER_LIMITED = {"RATELIMIT_ENABLED": True, "REGISTER_RATE_LIMIT": "3 per minute"}


@pytest.mark.parametrize("app", [REGISTER_LIMITED], indirect=True)
def test_registration_is_rate_limited_and_the_refused_attempt_mails_nobody(client, make_user, make_organisation):
    owner = make_user("researcher")
    form = _registration_form(make_organisation("university").id, owner.email)
    for _attempt in range(3):
        assert client.post("/register", data=form).status_code == 302
    mails = db.session.scalar(select(func.count()).select_from(OutboxMail))
    assert mails == 3
    response = client.post("/register", data=form)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "操作过于频繁，请稍后再试。" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(OutboxMail)) == mails
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
    assert client.get("/register").status_code == 200
