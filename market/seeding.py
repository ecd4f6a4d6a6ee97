"""Loading seed_data/: the field tree and valleys always; organisations, users and listings in demo mode.

Every record is matched by its stable key (field code, valley id, organisation slug, e-mail, listing key), so
loading twice changes nothing.
"""
import io
from datetime import date, datetime, time, timedelta
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from market.accounts.models import (
    ApprovalStatus,
    Organisation,
    OrganisationKind,
    OrganisationSize,
    OrganisationVerification,
    Residency,
    Role,
    User,
    VerificationStatus,
)
from market.accounts.passwords import hash_password
from market.achievements.models import Achievement
from market.awards.services import active_rule_sets, ensure_books, install_rule_set
from market.demands.models import Demand
from market.listings.models import LISTING_LIFETIME, ListingEvent
from market.listings.services import index_listing
from market.listings.vocabulary import ListingStatus, PriceType, ReturnReason, Stage
from market.organisations.credit_code import credit_code_problem
from market.organisations.residency import end_residency, record_residency
from market.organisations.verification import submit_verification, verify_organisation
from market.policy.rules import RuleSet, load_rule_set, shipped_rule_set_paths
from market.taxonomy.models import Field, Valley
from market.taxonomy.services import valley_id_for
from market.timeutil import today_in_china, utcnow

SEED_DIR = Path(__file__).resolve().parent.parent / "seed_data"
DEMO_RETURN_COMMENT = "请补充关键技术指标和已完成的验证情况后重新提交。"
SEED_RESIDENCY_NOTE = "示例数据：入驻信息随演示数据载入。"
SAMPLE_LICENCE_PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
    b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
    b"/Resources << /Font << /F1 5 0 R >> >> >> endobj\n"
    b"4 0 obj << /Length 62 >> stream\nBT /F1 18 Tf 72 760 Td (Sample business licence - demo data) Tj ET\n"
    b"endstream endobj\n5 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%%EOF\n"
)
"""The stand-in business licence of the demo organisations (示例)."""
SEED_DATES_WRITTEN_ON = date(2026, 12, 1)
"""The day the demands' deadlines in seed_data/ were written against: loading later moves them on by as many days."""
DEMO_ON_SHOW_AFTER_LOADING = timedelta(days=2 * 365)
"""A published demo listing stays on show this long after the demo data is loaded (as if renewed that day), so a
demo left running for a year shows as many listings as on its first day."""


def _read(path: Path):
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or []


def load_reference_data(session: Session, seed_dir: Path = SEED_DIR) -> dict[str, int]:
    """Field tree, valleys and the default policy rule set, each publication in turn (needed in every installation)."""
    counts = {"fields": 0, "valleys": 0}
    existing = {field.code: field for field in session.scalars(select(Field))}

    def walk(nodes, parent):
        for position, node in enumerate(nodes):
            field = existing.get(node["code"])
            if field is None:
                field = Field(code=node["code"])
                session.add(field)
                existing[field.code] = field
                counts["fields"] += 1
            field.name, field.name_en = node["name"], node.get("name_en", "")
            field.keywords, field.parent, field.position = list(node.get("keywords") or []), parent, position
            walk(node.get("children") or [], field)

    walk(_read(seed_dir / "fields.yaml"), None)
    session.flush()
    for position, row in enumerate(_read(seed_dir / "valleys.yaml")):
        valley = session.get(Valley, row["id"])
        if valley is None:
            valley = Valley(id=row["id"])
            session.add(valley)
            counts["valleys"] += 1
        valley.name, valley.name_en, valley.city = row["name"], row.get("name_en", ""), row["city"]
        valley.city_en = row.get("city_en", "")
        valley.description, valley.is_sample, valley.position = row.get("description", ""), row.get("is_sample", True), position
        valley.target_achievements = row.get("target_achievements", 0)
        valley.target_companies = row.get("target_companies", 0)
        valley.key_fields = [existing[code] for code in row.get("key_fields", [])][:3]
    session.flush()
    ensure_books(session)
    session.flush()
    active = active_rule_sets(session)
    for path in shipped_rule_set_paths("default", seed_dir / "policies"):
        if not _republished(load_rule_set(path), active):
            install_rule_set(session, path)
    return counts


def _republished(publication: RuleSet, active: list[RuleSet]) -> bool:
    """Whether an active rule set of the same name already carries every version of an earlier publication unchanged
    (loading again skips it: installing it would take back the later versions, which is refused)."""
    return any(stored.name == publication.name and len(stored.versions) > len(publication.versions)
               and stored.versions[:len(publication.versions)] == publication.versions for stored in active)


def load_demo_data(session: Session, demo_password: str, seed_dir: Path = SEED_DIR, password_profile: str = "standard",
                   upload_folder: str | None = None) -> dict[str, int]:
    """Demo organisations, users, achievements and demands, all marked as demo (示例); the demo admin records each
    resident organisation's residency and, given an upload folder for the sample licences, a member submits its
    credit code which the admin verifies (or leaves in the queue when the row says so)."""
    counts = {"organisations": 0, "users": 0, "achievements": 0, "demands": 0, "residencies": 0, "verifications": 0}
    organisations = {org.slug: org for org in session.scalars(select(Organisation).where(Organisation.slug.is_not(None)))}
    organisation_rows = _read(seed_dir / "organisations.yaml")
    for row in organisation_rows:
        org = organisations.get(row["key"])
        if org is None:
            org = Organisation(slug=row["key"], name=row["name"], kind=OrganisationKind(row["kind"]))
            session.add(org)
            organisations[org.slug] = org
            counts["organisations"] += 1
        org.name, org.kind, org.region = row["name"], OrganisationKind(row["kind"]), row.get("region", "")
        org.size = OrganisationSize(row["size"]) if row.get("size") else None
        org.description, org.website = row.get("description", ""), row.get("website", "")
        org.status, org.is_demo = ApprovalStatus.APPROVED, True
    session.flush()

    users = {user.email: user for user in session.scalars(select(User))}
    password_hash = None
    for row in _read(seed_dir / "users.yaml"):
        user = users.get(row["email"])
        if user is None:
            password_hash = password_hash or hash_password(demo_password, password_profile)
            user = User(email=row["email"], password_hash=password_hash, name=row["name"], role=Role(row["role"]))
            session.add(user)
            users[user.email] = user
            counts["users"] += 1
        user.name, user.role = row["name"], Role(row["role"])
        user.organisation = organisations.get(row.get("organisation")) if row.get("organisation") else None
        user.membership_status, user.is_demo = ApprovalStatus.APPROVED, True
    session.flush()

    admin = demo_admin(session)
    for row in organisation_rows:
        counts["residencies"] += _seed_residency(session, admin, organisations[row["key"]], row)
        if upload_folder and row.get("credit_code"):
            counts["verifications"] += _seed_verification(session, admin, organisations[row["key"]], row,
                                                          upload_folder)

    fields = {field.code: field for field in session.scalars(select(Field))}
    for path in sorted((seed_dir / "achievements").glob("*.yaml")):
        for row in _read(path):
            counts["achievements"] += _load_achievement(session, row, organisations, users, fields)
    for row in _read(seed_dir / "demands.yaml"):
        counts["demands"] += _load_demand(session, row, organisations, users, fields)
    session.flush()
    return counts


def demo_admin(session: Session) -> User:
    """The demo platform admin, who records residencies and decides verifications and registrations in the demo."""
    admin = session.scalar(select(User).where(User.role == Role.ADMIN, User.is_demo.is_(True)).order_by(User.id))
    if admin is None:
        raise ValueError("seed_data/users.yaml names no demo admin")
    return admin


def _seed_residency(session: Session, admin: User, org: Organisation, row: dict) -> int:
    """A resident demo organisation's residency history, recorded by the demo admin from the row's valley and entry
    day (or its list of earlier residencies), once."""
    history = row.get("residencies") or ([{"valley": row["valley"], "since": row["resident_since"]}]
                                         if row.get("valley") and row.get("resident_since") else [])
    if not history or session.scalar(select(Residency.id).where(Residency.organisation_id == org.id).limit(1)):
        return 0
    for stay in history:
        record_residency(session, admin, org.id, valley=stay["valley"], since=stay["since"],
                         note=stay.get("note", SEED_RESIDENCY_NOTE))
        if stay.get("until"):
            end_residency(session, admin, org.id, until=stay["until"])
    return len(history)


def _seed_verification(session: Session, admin: User, org: Organisation, row: dict, upload_folder: str) -> int:
    """A member of the demo organisation submits its (fictional) credit code with a sample licence PDF and the demo
    admin verifies it, unless the row leaves it submitted for the admins' queue; once."""
    if session.scalar(select(OrganisationVerification.id).where(OrganisationVerification.organisation_id == org.id)):
        return 0
    code = str(row["credit_code"])
    if credit_code_problem(code) is not None:
        raise ValueError(f"seed organisation {org.slug}: credit code {code} is not valid")
    member = session.scalar(select(User).where(User.organisation_id == org.id,
                                               User.membership_status == ApprovalStatus.APPROVED).order_by(User.id))
    if member is None:
        raise ValueError(f"seed organisation {org.slug} has a credit code but no member to submit it")
    submission = submit_verification(session, member, org.id, credit_code=code, filename="示例营业执照.pdf",
                                     stream=io.BytesIO(SAMPLE_LICENCE_PDF), upload_folder=upload_folder)
    if row.get("verification") == VerificationStatus.SUBMITTED.value:
        return 0
    verify_organisation(session, admin, submission.id)
    return 1


def _published_at(day: date | None) -> datetime | None:
    return datetime.combine(day, time(9, 0)) if day else None


def _demo_expiry(listing) -> datetime | None:
    """Twelve months after publication; for a listing on show, never before its time on show after loading runs out."""
    if listing.published_at is None:
        return None
    lapses = listing.published_at + LISTING_LIFETIME
    return max(lapses, utcnow() + DEMO_ON_SHOW_AFTER_LOADING) if listing.status == ListingStatus.PUBLISHED else lapses


def _deadline(day: date | None) -> date | None:
    """A seed deadline as far ahead of the loading day as it was of the day it was written."""
    if day is None:
        return None
    return day + max(today_in_china() - SEED_DATES_WRITTEN_ON, timedelta(0))


def _common(session, listing, row, organisations, users, fields) -> None:
    org = organisations[row["organisation"]]
    listing.organisation, listing.title = org, row["title"]
    listing.title_en, listing.summary_en = row.get("title_en") or "", row.get("summary_en") or ""
    listing.submitter = users.get(row.get("submitter")) if row.get("submitter") else None
    listing.keywords, listing.field = list(row.get("keywords") or []), fields[row["field"]]
    listing.region, listing.valley_id, listing.is_demo = org.region, valley_id_for(session, org), True
    listing.status = ListingStatus(row.get("status", "published"))
    listing.published_at = _published_at(row.get("published_on"))
    listing.expires_at = _demo_expiry(listing)
    listing.created_at = listing.updated_at = (listing.published_at or datetime(2026, 10, 1)) - timedelta(days=3)
    if listing.status in (ListingStatus.PENDING, ListingStatus.RETURNED):
        listing.submitted_at = listing.created_at
    if listing.status == ListingStatus.RETURNED:
        listing.return_reason, listing.return_comment = ReturnReason.INCOMPLETE, DEMO_RETURN_COMMENT


def _load_achievement(session, row, organisations, users, fields) -> int:
    key = "seed:" + row["key"]
    achievement = session.scalar(select(Achievement).where(Achievement.source_key == key))
    created = achievement is None
    if created:
        achievement = Achievement(source_key=key)
    _common(session, achievement, row, organisations, users, fields)
    achievement.summary = row["summary"]
    achievement.description_public = row.get("description_public", "")
    achievement.description_confidential = row.get("description_confidential", "")
    achievement.trl, achievement.stage = row["trl"], Stage(row["stage"])
    achievement.ip_items = [dict(item) for item in row.get("ip") or []]
    achievement.price_type = PriceType(row.get("price_type", "negotiable"))
    achievement.price_min_fen, achievement.price_max_fen = row.get("price_min_fen"), row.get("price_max_fen")
    achievement.owners = [dict(owner) for owner in row.get("owners") or []]
    achievement.inventors = list(row.get("inventors") or [])
    achievement.benefits, achievement.scenarios = row.get("benefits", ""), row.get("scenarios", "")
    achievement.set_modes(row.get("transfer_modes") or [])
    session.add(achievement)
    session.flush()
    if created:
        _record_seed_history(session, achievement)
        index_listing(session, achievement)
    return int(created)


def _load_demand(session, row, organisations, users, fields) -> int:
    key = "seed:" + row["key"]
    demand = session.scalar(select(Demand).where(Demand.source_key == key))
    created = demand is None
    if created:
        demand = Demand(source_key=key)
    _common(session, demand, row, organisations, users, fields)
    demand.description = row["description"]
    demand.budget_min_fen, demand.budget_max_fen = row.get("budget_min_fen"), row.get("budget_max_fen")
    demand.wanted_trl_min, demand.deadline = row.get("wanted_trl_min"), _deadline(row.get("deadline"))
    demand.set_modes(row.get("wanted_modes") or [])
    session.add(demand)
    session.flush()
    if created:
        _record_seed_history(session, demand)
        index_listing(session, demand)
    return int(created)


def _record_seed_history(session, listing) -> None:
    session.add(ListingEvent(listing_kind=listing.kind, listing_id=listing.id, action="create",
                             to_status=ListingStatus.DRAFT, at=listing.created_at))
    if listing.status != ListingStatus.DRAFT:
        session.add(ListingEvent(listing_kind=listing.kind, listing_id=listing.id, action="submit",
                                 from_status=ListingStatus.DRAFT, to_status=ListingStatus.PENDING, at=listing.created_at))
    if listing.published_at:
        session.add(ListingEvent(listing_kind=listing.kind, listing_id=listing.id, action="approve",
                                 from_status=ListingStatus.PENDING, to_status=ListingStatus.PUBLISHED,
                                 at=listing.published_at))
    if listing.status == ListingStatus.RETURNED:
        session.add(ListingEvent(listing_kind=listing.kind, listing_id=listing.id, action="return",
                                 from_status=ListingStatus.PENDING, to_status=ListingStatus.RETURNED,
                                 reason=ReturnReason.INCOMPLETE, comment=DEMO_RETURN_COMMENT, at=listing.created_at))
