"""No internal key on a money page or export: with the demo data (a registered deal with proceeds, a paid pre-order
agreement, awards held, payable and capped) and a refused start-up grant, every money page, deal and agreement page
and export names organisations, people, deals and payers; none shows org-3, user-7, fiscal:…, proceeds:… or ev12."""
import csv
import html
import io
import re
from datetime import date

import openpyxl
import pyotp
from sqlalchemy import select

from market.accounts.models import Organisation, SecondFactor, User
from market.accounts.passwords import hash_password
from market.api.money import awards_json
from market.awards.models import Award
from market.demo_deals import load_demo_deals
from market.extensions import db
from market.seeding import load_demo_data
from market.timeutil import utcnow
from tests.conftest import PASSWORD, client_for

DEMO_PASSWORD = "demo-password-1"
INTERNAL_KEY = re.compile(r"\b(?:org|user|deal|achievement|preorder)-\d+\b|fiscal:|proceeds:|receivable:|\bev\d+\b")
WAN = 1_000_000


def _log_in(app, user: User):
    """A client logged in as the user (through the code step, with an authenticator added when the role needs it)."""
    user.password_hash, user.is_demo = hash_password(PASSWORD, "fast"), False  # demo accounts log in on demo sites only
    if user.second_factor is None:
        user.second_factor = SecondFactor(secret=pyotp.random_base32(), confirmed_at=utcnow())
    db.session.commit()
    return client_for(app, user)


def _text(response) -> str:
    assert response.status_code == 200, (response.request.path, response.status_code)
    if response.mimetype.endswith("sheet"):
        book = openpyxl.load_workbook(io.BytesIO(response.data))
        return "\n".join(str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row
                         if cell is not None)
    if response.mimetype == "text/csv":
        return "\n".join(",".join(row) for row in csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    return _visible(response.get_data(as_text=True))


_SHOWN_ATTRIBUTE = re.compile(r'\b(?:title|placeholder|aria-label|data-confirm|alt|value)="([^"]*)"')


def _visible(page: str) -> str:
    """What a page shows people: its text and the attributes read out or displayed (not ids, links or class names)."""
    shown = _SHOWN_ATTRIBUTE.findall(page)
    text = re.sub(r"<script.*?</script>|<style.*?</style>", " ", page, flags=re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", " ", text) + "\n" + "\n".join(shown))


def _assert_named(response) -> str:
    text = _text(response)
    found = INTERNAL_KEY.findall(text)
    assert not found, (response.request.path, sorted(set(found)))
    return text


def test_money_pages_and_exports_name_everyone(app):
    load_demo_data(db.session, DEMO_PASSWORD, password_profile="fast", upload_folder=app.config["UPLOAD_FOLDER"])
    assert load_demo_deals(db.session) >= 4
    db.session.commit()
    awards = list(db.session.scalars(select(Award)))
    assert any(award.recipient.startswith("user-") for award in awards)
    assert any(award.payer.startswith("proceeds:") for award in awards)
    admin = db.session.scalar(select(User).where(User.role == "admin", User.is_demo.is_(True)).limit(1))
    client = _log_in(app, admin)
    startup = db.session.scalar(select(Organisation).where(Organisation.kind == "enterprise",
                                                           Organisation.resident_since.is_not(None)).limit(1))
    refused = client.post("/money/grants/new", data={
        "organisation_id": startup.id, "granted_on": max(date(2025, 6, 1), startup.resident_since).isoformat(),
        "founders_paid_in_fen": "25", "awarded_fen": "100"})
    refusal = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "不予支持" in refusal and not INTERNAL_KEY.findall(refusal)
    for path in ("/money/awards", "/money/awards?status=payable", "/money/awards?status=held", "/money/rules",
                 "/money/grants/new", "/money/calculator/transfer"):
        _assert_named(client.get(path))
    with app.test_request_context():
        shown = [(row["recipient_name"], row["payer_name"], row["note"]) for row in awards_json(db.session, awards)]
    assert shown and not INTERNAL_KEY.findall(str(shown)), shown
    for deal_id in {award.deal_id for award in awards if award.deal_id}:
        _assert_named(client.get(f"/deals/{deal_id}"))
    for agreement_id in {award.agreement_id for award in awards if award.agreement_id}:
        _assert_named(client.get(f"/contracts/{agreement_id}"))
    recipients = {int(award.recipient.split("-")[1]) for award in awards if award.recipient.startswith("user-")}
    members = {db.session.scalar(select(User.id).where(User.organisation_id == int(award.recipient.split("-")[1]),
                                                       User.is_demo.is_(True)).limit(1))
               for award in awards if award.recipient.startswith("org-")}
    payers = {db.session.scalar(select(User.id).where(User.organisation_id == int(award.payer.split("-")[1]),
                                                      User.is_demo.is_(True)).limit(1))
              for award in awards if award.payer.startswith("proceeds:org-")}
    for user_id in sorted((recipients | members | payers) - {None}):
        person = db.session.get(User, user_id)
        own = _log_in(app, person)
        page = _assert_named(own.get("/money/mine"))
        assert "¥" in page
        _assert_named(own.get("/money/mine/export.csv"))
        _assert_named(own.get("/money/mine/export.xlsx"))
        for deal_id in {award.deal_id for award in awards if award.deal_id}:
            response = own.get(f"/deals/{deal_id}")
            if response.status_code == 200:
                _assert_named(response)
