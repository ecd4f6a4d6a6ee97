"""Access control as a table: every route × role → the status it must answer, and a check that no route is missing."""
import io
import json
import re
import shutil
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import select, text
from werkzeug.exceptions import HTTPException

from market import create_app
from market.accounts import email_change
from market.accounts import services as accounts
from market.accounts.models import ApiToken, ApprovalStatus, Organisation, SecondFactor, User, VerificationStatus
from market.achievements.models import Achievement
from market.awards import services as award_services
from market.awards.grants import record_startup_grant
from market.extensions import db
from market.listings import access
from market.listings import services as listings
from market.listings.vocabulary import ListingKind
from market.organisations import residency, verification
from market.saved_searches.services import save_search
from market.seeding import load_reference_data
from market.taxonomy.services import list_valleys
from market.timeutil import today_in_china, utcnow
from tests.conftest import ACHIEVEMENT_INPUT, DEMAND_INPUT, PASSWORD

ROLES = ("visitor", "researcher", "enterprise", "broker", "admin", "outsider")
"""researcher: member of the organisation owning the achievements; enterprise: of the one owning the demands;
outsider: an approved researcher of another university."""

LOGIN = "login"
"""Expected answer: 302 to the login page."""

API_ACHIEVEMENT = {**ACHIEVEMENT_INPUT, "title": "接口矩阵成果"}
API_DEMAND = {**DEMAND_INPUT, "title": "接口矩阵需求", "deadline": DEMAND_INPUT["deadline"].isoformat()}

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def expect(default, **by_role) -> dict[str, object]:
    """The expected answer per role: `default` unless a role is named."""
    unknown = set(by_role) - set(ROLES)
    assert not unknown, f"unknown roles {unknown}"
    return {role: by_role.get(role, default) for role in ROLES}


def signed_in(default, *, visitor=LOGIN, **by_role) -> dict[str, object]:
    """A page behind login: visitors are sent to the login page."""
    return expect(default, visitor=visitor, **by_role)


def admin_only(admin=200) -> dict[str, object]:
    """An operator page."""
    return expect(403, visitor=LOGIN, admin=admin)


@dataclass(frozen=True)
class Route:
    """One row of the matrix: a request (path with {sample} ids) and the answer each role gets.

    Pages are asked with the role's login session, /api/ paths with the role's bearer token."""

    method: str
    path: str
    answers: dict[str, object]
    form: dict | None = None
    upload: bool = False
    json: dict | None = None
    upload_field: str = "file"

    def body(self) -> dict | None:
        """The form data, with a fresh PDF stream when the route takes an upload."""
        data = dict(self.form or {})
        if self.upload:
            data[self.upload_field] = (io.BytesIO(PDF), "report.pdf")
        return data or None


ACHIEVEMENT_FORM = {"title": "矩阵测试成果", "summary": "用于权限矩阵的成果。", "field": "energy", "trl": "6",
                    "stage": "pilot", "modes": ["assignment"], "price_type": "negotiable"}
DEMAND_FORM = {"title": "矩阵测试需求", "description": "用于权限矩阵的需求。", "field": "equipment"}

# One row per route (method + path). Add a row when you add a route: test_every_route_is_in_the_matrix fails until then.
MATRIX = [
    # public pages
    Route("GET", "/", expect(200)),
    Route("GET", "/valleys", expect(200)),
    Route("GET", "/search", expect(302)),
    Route("GET", "/organisations", expect(200)),
    Route("GET", "/favicon.ico", expect(301)),
    Route("POST", "/language", expect(302), {"lang": "en", "next": "/"}),
    # JSON API (bearer tokens)
    Route("GET", "/api/v1/openapi.json", expect(200)),
    Route("GET", "/api/v1/achievements", expect(200)),
    Route("GET", "/api/v1/achievements/{published_achievement}", expect(200)),
    Route("GET", "/api/v1/achievements/{draft_achievement}", expect(404, researcher=200, admin=200)),
    Route("POST", "/api/v1/achievements", expect(201, visitor=401, broker=403, admin=403), json=API_ACHIEVEMENT),
    Route("PUT", "/api/v1/achievements/{draft_achievement}", expect(404, visitor=401, researcher=200, admin=200),
          json=API_ACHIEVEMENT),
    Route("GET", "/api/v1/demands", expect(200)),
    Route("GET", "/api/v1/demands/{published_demand}", expect(200)),
    Route("GET", "/api/v1/demands/{draft_demand}", expect(404, enterprise=200, admin=200)),
    Route("GET", "/api/v1/achievements/{published_achievement}/matches",
          expect(403, visitor=401, researcher=200, broker=200, admin=200)),
    Route("GET", "/api/v1/achievements/{draft_achievement}/matches", expect(404, visitor=401, researcher=200, admin=200)),
    Route("GET", "/api/v1/demands/{published_demand}/matches",
          expect(403, visitor=401, enterprise=200, broker=200, admin=200)),
    Route("POST", "/api/v1/demands", expect(403, visitor=401, enterprise=201), json=API_DEMAND),
    Route("PUT", "/api/v1/demands/{draft_demand}", expect(404, visitor=401, enterprise=200, admin=200), json=API_DEMAND),
    # deals, bids and money through the API: the world holds no deal yet, so unknown ids check the token gate
    Route("GET", "/api/v1/deals", expect(200, visitor=401)),
    Route("GET", "/api/v1/bids", expect(200, visitor=401)),
    Route("GET", "/api/v1/introductions", expect(200, visitor=401)),
    Route("GET", "/api/v1/introductions/{introduction}", expect(200, visitor=401, outsider=404)),
    Route("POST", "/api/v1/introductions", expect(403, visitor=401, broker=422), json={}),
    Route("POST", "/api/v1/introductions/{introduction}/accept",
          expect(200, visitor=401, broker=403, outsider=404, admin=403), json={}),
    Route("POST", "/api/v1/introductions/{introduction}/decline",
          expect(200, visitor=401, broker=403, outsider=404, admin=403), json={"reason": "timing"}),
    Route("POST", "/api/v1/introductions/{introduction}/withdraw", expect(403, visitor=401, broker=200, outsider=404),
          json={}),
    Route("GET", "/api/v1/awards", expect(200, visitor=401)),
    Route("POST", "/api/v1/achievements/{published_achievement}/bids", expect(422, visitor=401), json={}),
    *[Route("GET", path, expect(404, visitor=401))
      for path in ("/api/v1/deals/999999", "/api/v1/bids/999999", "/api/v1/deals/999999/awards",
                   "/api/v1/preorders/999999/awards")],
    *[Route("POST", path, expect(404, visitor=401), json={})
      for path in ("/api/v1/bids/999999/accept", "/api/v1/bids/999999/counter", "/api/v1/bids/999999/decline",
                   "/api/v1/bids/999999/withdraw", "/api/v1/deals/999999/stage", "/api/v1/deals/999999/terms",
                   "/api/v1/deals/999999/terms/accept", "/api/v1/deals/999999/notice/withdraw",
                   "/api/v1/deals/999999/fee", "/api/v1/deals/999999/fee/paid", "/api/v1/deals/999999/fee/unpaid",
                   *(f"/api/v1/deals/999999/broker/{action}" for action in ("ask", "invite", "propose", "remove")),
                   *(f"/api/v1/deals/999999/broker-requests/999999/{action}"
                     for action in ("accept", "decline", "withdraw")))],
    *[Route("POST", path, expect(400, visitor=401), json={})  # a payment without its Idempotency-Key
      for path in ("/api/v1/deals/999999/payments", "/api/v1/preorders/999999/payments", "/api/v1/awards/999999/pay")],
    Route("POST", "/api/v1/awards/999999/approve", expect(403, visitor=401, admin=404), json={}),
    *[Route("POST", f"/api/v1/{kind}-payments/999999/{decision}", expect(404, visitor=401), json={})
      for kind in ("deal", "preorder") for decision in ("confirm", "dispute", "withdraw", "refuse")],
    *[Route("POST", f"/api/v1/preorders/999999/{decision}", expect(404, visitor=401), json={})
      for decision in ("confirm", "refuse", "withdraw")],
    *[Route("POST", f"/api/v1/deal-signings/999999/{decision}", expect(404, visitor=401), json={})
      for decision in ("confirm", "dispute", "withdraw", "refuse")],
    *[Route("POST", f"/api/v1/{kind}-payments/999999/evidence", expect(404, visitor=401), upload=True,
            upload_field="evidence") for kind in ("deal", "preorder")],
    # technology-contract registrations (tests/views/test_registration_views.py holds real ones)
    Route("GET", "/api/v1/deal-registrations/999999", expect(404, visitor=401)),
    *[Route("POST", f"/api/v1/deal-registrations/999999/{decision}", expect(404, visitor=401), json={})
      for decision in ("verify", "refuse")],
    Route("POST", "/api/v1/deals/999999/registrations", expect(404, visitor=401), {"registration_number": "2025-1"},
          upload=True, upload_field="certificate"),
    Route("POST", "/api/v1/deal-registrations/999999/certificate", expect(404, visitor=401), upload=True,
          upload_field="certificate"),
    # accounts
    Route("GET", "/register", expect(200)),
    Route("POST", "/register", expect(302), {"email": "new-member@example.org", "name": "新成员", "password": PASSWORD,
                                             "role": "researcher", "join": "existing",
                                             "organisation_id": "{home_org}"}),
    Route("GET", "/login", expect(200)),
    Route("POST", "/login", expect(200), {"email": "nobody@example.org", "password": "wrong-password-1"}),
    Route("POST", "/logout", expect(302)),
    Route("GET", "/password/forgot", expect(200)),
    Route("POST", "/password/forgot", expect(302), {"email": "nobody@example.org"}),
    Route("GET", "/password/reset/not-a-token", expect(200)),
    Route("POST", "/password/reset/not-a-token", expect(200), {"password": "a-new-password-42"}),
    Route("GET", "/profile", signed_in(200)),
    Route("POST", "/profile", signed_in(302), {"name": "新名字", "phone": "", "locale": "zh_CN"}),
    Route("POST", "/profile/password", signed_in(302), {"current_password": PASSWORD,
                                                        "new_password": "another-long-password"}),
    Route("POST", "/profile/tokens", signed_in(200), {"name": "同步脚本"}),
    Route("POST", "/profile/tokens/{researcher_token}/revoke", signed_in(404, researcher=302)),
    Route("GET", "/profile/email", signed_in(200)),
    Route("POST", "/profile/email", signed_in(302), {"new_email": "moved@example.org", "current_password": PASSWORD}),
    Route("GET", "/email/confirm/{researcher_email_link}", signed_in(404, researcher=200)),
    Route("POST", "/email/confirm/{researcher_email_link}", signed_in(404, researcher=302)),
    Route("GET", "/email/confirm/not-a-token", signed_in(404)),
    Route("GET", "/profile/two-factor", signed_in(403, broker=200, admin=200)),
    Route("POST", "/profile/two-factor", signed_in(403, broker=302, admin=200), {"code": "12345x"}),
    Route("POST", "/profile/two-factor/recovery-codes", signed_in(403, admin=422), {"renew-code": "12345x"}),
    Route("POST", "/profile/two-factor/off", signed_in(403, admin=422), {"off-code": "12345x", "off-understood": "y"}),
    Route("GET", "/login/code", expect(302)),
    Route("POST", "/login/code", expect(302), {"code": "123456"}),
    Route("GET", "/reauth", signed_in(200)),
    Route("POST", "/reauth", signed_in(422), {"password": "wrong-password-1", "next": "/profile"}),
    Route("GET", "/admin/second-factors", admin_only()),
    Route("GET", "/admin/audit", admin_only()),
    Route("GET", "/admin/audit/export.csv", admin_only()),
    Route("POST", "/admin/second-factors/{enrolled_broker}/reset", admin_only(302)),
    Route("POST", "/admin/second-factors/{admin_user}/reset", admin_only(403)),
    Route("GET", "/organisations/{home_org}", expect(200)),
    Route("GET", "/organisations/{pending_org}", expect(404)),
    Route("GET", "/organisations/999999", expect(404)),
    # organisation verification and residency: the matrix enterprise has a submission and a residency with its PDFs
    Route("GET", "/organisations/{enterprise_org}/verification", signed_in(404, enterprise=200, admin=200)),
    Route("POST", "/organisations/{home_org}/verification", signed_in(404, researcher=302, admin=403),
          {"credit_code": "12100000400000624D"}, upload=True, upload_field="licence"),
    Route("GET", "/organisations/verifications/{enterprise_verification}/licence",
          signed_in(404, enterprise=200, admin=200)),
    Route("GET", "/organisations/residencies/{enterprise_residency}/agreement",
          signed_in(404, enterprise=200, admin=200)),
    Route("GET", "/admin/verifications", admin_only()),
    Route("POST", "/admin/verifications/{enterprise_verification}/verify", admin_only(302)),
    Route("POST", "/admin/verifications/{enterprise_verification}/refuse", admin_only(302), {"reason": "执照不清晰"}),
    Route("GET", "/admin/organisations", admin_only()),
    Route("GET", "/admin/organisations/{enterprise_org}", admin_only()),
    Route("POST", "/admin/organisations/{home_org}/residencies", admin_only(302),
          {"valley": "{valley}", "since": "2024-05-01"}),
    Route("POST", "/admin/organisations/{enterprise_org}/residencies/end", admin_only(302), {"until": "2025-01-31"}),
    # achievements
    Route("GET", "/achievements", expect(200)),
    Route("POST", "/achievements", expect(405)),
    Route("GET", "/achievements/{published_achievement}", expect(200)),
    Route("GET", "/achievements/{draft_achievement}", expect(404, researcher=200, admin=200)),
    Route("GET", "/achievements/999999", expect(404)),
    Route("GET", "/achievements/new", signed_in(200, broker=403, admin=403)),
    Route("POST", "/achievements/new", signed_in(302, broker=403, admin=403), ACHIEVEMENT_FORM),
    Route("GET", "/achievements/{draft_achievement}/edit", signed_in(404, researcher=200, admin=200)),
    Route("GET", "/achievements/{published_achievement}/edit", signed_in(404, researcher=200, admin=200)),
    Route("POST", "/achievements/{draft_achievement}/edit", signed_in(404, researcher=302, admin=302),
          ACHIEVEMENT_FORM),
    # demands
    Route("GET", "/demands", expect(200)),
    Route("GET", "/demands/{published_demand}", expect(200)),
    Route("GET", "/demands/{draft_demand}", expect(404, enterprise=200, admin=200)),
    Route("GET", "/demands/new", signed_in(403, enterprise=200)),
    Route("POST", "/demands/new", signed_in(403, enterprise=302), DEMAND_FORM),
    Route("GET", "/demands/{draft_demand}/edit", signed_in(404, enterprise=200, admin=200)),
    Route("POST", "/demands/{draft_demand}/edit", signed_in(404, enterprise=302, admin=302), DEMAND_FORM),
    # listing actions
    Route("GET", "/workspace", signed_in(200)),
    Route("POST", "/listings/achievement/{draft_achievement}/submit", signed_in(404, researcher=302, admin=302)),
    Route("POST", "/listings/demand/{draft_demand}/submit", signed_in(404, enterprise=302, admin=302)),
    Route("POST", "/listings/unknown/{draft_achievement}/submit", signed_in(404)),
    Route("POST", "/listings/achievement/{published_achievement}/withdraw", signed_in(404, researcher=302, admin=302)),
    Route("POST", "/listings/achievement/{published_achievement}/renew", signed_in(404, researcher=302, admin=302)),
    Route("POST", "/listings/achievement/{published_achievement}/follow", signed_in(302)),
    Route("POST", "/listings/achievement/{draft_achievement}/follow", signed_in(404, researcher=302, admin=302)),
    Route("POST", "/listings/demand/{published_demand}/unfollow", signed_in(302)),
    Route("POST", "/listings/achievement/{published_achievement}/attachments",
          signed_in(404, researcher=302, admin=302), upload=True),
    Route("POST", "/listings/achievement/{draft_achievement}/attachments",
          signed_in(404, researcher=302, admin=302), upload=True),
    Route("GET", "/attachments/{public_attachment}", expect(200)),
    Route("GET", "/attachments/{confidential_attachment}", expect(404, researcher=200, admin=200)),
    Route("GET", "/attachments/{draft_attachment}", expect(404, researcher=200, admin=200)),
    Route("POST", "/attachments/{public_attachment}/delete", signed_in(404, researcher=302, admin=302)),
    # confidential access: the matrix enterprise holds a grant on the published achievement, not yet acknowledged
    Route("POST", "/listings/achievement/{published_achievement}/confidentiality",
          signed_in(403, researcher=302, admin=302, enterprise=302), {"accepted": "y"}),
    Route("POST", "/listings/achievement/{draft_achievement}/confidentiality",
          signed_in(404, researcher=302, admin=302), {"accepted": "y"}),
    Route("POST", "/listings/grants/{enterprise_grant}/revoke", signed_in(404, researcher=302, admin=302)),
    Route("POST", "/listings/grants/999999/revoke", signed_in(404)),
    # a sold achievement stays on show, with the success cases
    Route("GET", "/achievements/{sold_achievement}", expect(200)),
    Route("GET", "/logout", expect(405)),
    # notifications
    Route("GET", "/notifications", signed_in(200)),
    Route("POST", "/notifications/read", signed_in(302)),
    Route("GET", "/notifications/settings", signed_in(200)),
    Route("POST", "/notifications/settings", signed_in(302), {"action": "y", "money": "y", "deal_news": "y"}),
    # saved searches (the researcher's own)
    Route("GET", "/profile/saved-searches", signed_in(200)),
    Route("POST", "/profile/saved-searches", signed_in(302), {"kind": "demand", "q": "储能"}),
    Route("POST", "/profile/saved-searches/{saved_search}/delete", signed_in(404, researcher=302)),
    Route("GET", "/api/v1/saved-searches", expect(200, visitor=401)),
    Route("POST", "/api/v1/saved-searches", expect(201, visitor=401), json={"kind": "demand", "q": "储能"}),
    Route("GET", "/api/v1/saved-searches/{saved_search}", expect(404, visitor=401, researcher=200)),
    Route("DELETE", "/api/v1/saved-searches/{saved_search}", expect(404, visitor=401, researcher=204)),
    # operators
    Route("GET", "/admin", admin_only()),
    Route("GET", "/admin/review", admin_only()),
    Route("POST", "/admin/review/achievement/{pending_achievement}/approve", admin_only(302)),
    Route("POST", "/admin/review/unknown/{pending_achievement}/approve", admin_only(404)),
    Route("POST", "/admin/review/achievement/{pending_achievement}/return", admin_only(302),
          {"reason": "incomplete", "comment": "请补充中试数据。"}),
    Route("GET", "/admin/members", admin_only()),
    Route("POST", "/admin/members/{pending_user}/approve", admin_only(302)),
    Route("POST", "/admin/members/{pending_user}/maybe", admin_only(404)),
    Route("POST", "/admin/organisations/{pending_org}/approve", admin_only(302)),
    Route("GET", "/admin/valleys", admin_only()),
    Route("GET", "/admin/valleys/{valley}", admin_only()),
    Route("GET", "/admin/valleys/no-such-valley", admin_only(404)),
    Route("POST", "/admin/valleys/{valley}", admin_only(302), {"name": "矩阵谷", "description": "",
                                                              "target_achievements": "10", "target_companies": "5",
                                                              "key_fields": ["energy"]}),
    Route("GET", "/admin/fields", admin_only()),
    Route("POST", "/admin/fields", admin_only(302), {"parent": "", "code": "matrix-test", "name": "矩阵测试领域"}),
    Route("POST", "/admin/fields/{field}/rename", admin_only(302), {"name": "能源（更名）"}),
    # deals, contracts and money: the world holds none of their objects yet, so unknown ids check the login and
    # role gates; rows with real objects of another organisation belong here as those features settle
    Route("GET", "/deals", signed_in(200)),
    Route("GET", "/deals/board", signed_in(403, broker=200, admin=200)),
    Route("GET", "/deals/notices", expect(200)),
    Route("GET", "/deals/999999", signed_in(404)),
    Route("GET", "/deals/999999/notice", expect(404)),
    *[Route("POST", f"/deals/999999/{action}", signed_in(404))
      for action in ("notice", "advance", "broker/ask", "broker/invite", "broker/propose", "broker/remove",
                     "broker-requests/999999/accept", "broker-requests/999999/decline",
                     "broker-requests/999999/withdraw", "complete", "exception", "intermediaries", "payments",
                     "register", "sign", "terminate", "terms", "terms/accept", "notice/withdraw", "fee", "fee/paid",
                     "fee/unpaid")],
    *[Route("POST", f"/deals/signings/999999/{decision}", signed_in(404), {"reason": "核对"})
      for decision in ("confirm", "dispute", "withdraw", "refuse")],
    *[Route("POST", f"/{prefix}/payments/999999/{decision}", signed_in(404), {"reason": "核对"})
      for prefix in ("deals", "contracts") for decision in ("confirm", "dispute", "withdraw", "refuse")],
    # a payment's evidence PDF: the parties, the deal's or agreement's broker and admins (tests/views/
    # test_payment_evidence_views.py holds real payments); unknown ids check the login gate
    *[Route("GET", f"/{prefix}/payments/999999/evidence", signed_in(404)) for prefix in ("deals", "contracts")],
    *[Route("POST", f"/{prefix}/payments/999999/evidence", signed_in(404), upload=True, upload_field="evidence")
      for prefix in ("deals", "contracts")],
    Route("GET", "/deals/registrations/999999/certificate", signed_in(404)),
    Route("POST", "/deals/registrations/999999/certificate", signed_in(404), upload=True, upload_field="certificate"),
    *[Route("POST", f"/deals/registrations/999999/decide/{decision}", signed_in(404), {"reason": "证明不清晰"})
      for decision in ("verify", "refuse")],
    Route("GET", "/admin/registrations", admin_only()),
    *[Route("POST", f"/admin/registrations/999999/{decision}", admin_only(404), {"reason": "证明不清晰"})
      for decision in ("verify", "refuse")],
    Route("GET", "/deals/bids/new/{published_achievement}", signed_in(403, enterprise=200)),
    Route("POST", "/deals/bids/new/999999", signed_in(403, enterprise=404)),
    Route("GET", "/deals/bids/999999", signed_in(404)),
    *[Route("POST", f"/deals/bids/999999/{action}", signed_in(404))
      for action in ("accept", "counter", "decline", "withdraw")],
    Route("GET", "/deals/responses/new/{published_demand}", signed_in(403, researcher=200, outsider=200)),
    Route("POST", "/deals/responses/new/999999", signed_in(403, researcher=404, outsider=404)),
    Route("GET", "/deals/responses/999999", signed_in(404)),
    *[Route("POST", f"/deals/responses/999999/{action}", signed_in(404)) for action in ("accept", "decline", "withdraw")],
    Route("GET", "/contracts", signed_in(200)),
    Route("GET", "/contracts/new", signed_in(200, researcher=403, outsider=403)),
    Route("POST", "/contracts/new", signed_in(422, researcher=403, outsider=403)),
    Route("GET", "/contracts/999999", signed_in(404)),
    Route("GET", "/contracts/999999/amend", signed_in(404)),
    *[Route("POST", f"/contracts/999999/{action}", signed_in(404))
      for action in ("amend", "deliveries", "deliveries/999999/accept", "payments", "terminate", "confirm", "refuse",
                     "withdraw")],
    Route("GET", "/money/calculator", expect(200)),
    Route("POST", "/money/calculator", expect(422)),
    Route("GET", "/money/calculator/unknown", expect(404)),
    Route("POST", "/money/calculator/unknown", expect(404)),
    Route("GET", "/money/mine", signed_in(200, admin=302)),
    Route("GET", "/money/mine/export.unknown", signed_in(404)),
    # a broker's statement: his own; an admin names the broker (?broker=, tests/views/test_broker_statements.py)
    Route("GET", "/money/statement.csv", signed_in(404, broker=200)),
    Route("GET", "/money/statement.xlsx", signed_in(404, broker=200)),
    Route("GET", "/money/statement.unknown", signed_in(404)),
    Route("GET", "/money/awards", admin_only()),
    Route("POST", "/money/awards/approve", admin_only(302)),
    Route("POST", "/money/awards/999999/approve", admin_only(404)),
    Route("POST", "/money/awards/999999/pay", admin_only(404)),
    Route("POST", "/money/awards/999999/recovery", admin_only(404)),
    Route("POST", "/money/awards/999999/reissue", admin_only(404)),
    Route("GET", "/money/awards/{enterprise_paid_award}/voucher", signed_in(404, enterprise=200, admin=200)),
    Route("GET", "/money/awards/999999/voucher", signed_in(404)),
    Route("POST", "/money/awards/999999/reverse", admin_only(302)),
    Route("GET", "/money/grants/new", admin_only()),
    Route("POST", "/money/grants/new", admin_only(422)),
    Route("GET", "/money/rules", admin_only()),
    Route("POST", "/money/rules", admin_only(422)),
    # matching
    Route("GET", "/achievements/{published_achievement}/matches", signed_in(403, researcher=200, broker=200, admin=200)),
    Route("GET", "/achievements/{draft_achievement}/matches", signed_in(404, researcher=200, admin=200)),
    Route("GET", "/demands/{published_demand}/matches", signed_in(403, enterprise=200, broker=200, admin=200)),
    Route("GET", "/demands/{draft_demand}/matches", signed_in(404, enterprise=200, admin=200)),
    Route("GET", "/matches", signed_in(403, broker=200, admin=200)),
    # introductions: the broker proposed {introduction} of the researcher's achievement to the enterprise's demand
    Route("GET", "/introductions", signed_in(200)),
    Route("GET", "/introductions/new/{published_achievement}", signed_in(403, broker=200)),
    Route("GET", "/introductions/new/{draft_achievement}", signed_in(403, broker=404)),
    Route("POST", "/introductions/new/{published_achievement}", signed_in(403, broker=422), {"note": "重复的引荐"}),
    Route("GET", "/introductions/{introduction}", signed_in(200, outsider=404)),
    Route("POST", "/introductions/{introduction}/accept", signed_in(302, broker=403, outsider=404, admin=403)),
    Route("POST", "/introductions/{introduction}/decline", signed_in(302, broker=403, outsider=404, admin=403),
          {"reason": "timing"}),
    Route("POST", "/introductions/{introduction}/withdraw", signed_in(403, broker=302, outsider=404)),
    Route("POST", "/matching/feedback", signed_in(302, outsider=403),
          {"demand_id": "{published_demand}", "achievement_id": "{published_achievement}", "verdict": "relevant",
           "reason": "content_fits", "next": "/workspace"}),
    Route("GET", "/matching/suggest-field", expect(200, visitor=401)),
    # bulk import
    Route("GET", "/imports/achievements", signed_in(200, broker=403)),
    Route("POST", "/imports/achievements", signed_in(422, broker=403)),
    Route("GET", "/imports/achievements/template.csv", signed_in(200)),
    Route("GET", "/imports/runs/999999", signed_in(404)),
    Route("GET", "/imports/achievements/template.pdf", signed_in(404)),
    Route("POST", "/imports/achievements/errors.csv", signed_in(400, broker=403)),
]


def build_world(session, upload_folder: str) -> tuple[dict[str, str], dict[str, object]]:
    """Users of every role and the sample objects; returns (e-mail by role, sample ids for the paths and API tokens)."""
    from market.accounts.models import Organisation, OrganisationKind, Role, User
    from market.accounts.passwords import hash_password
    from market.achievements.services import create_achievement
    from market.deals import introductions
    from market.demands.services import create_demand

    def organisation(name, kind, status=ApprovalStatus.APPROVED):
        org = Organisation(name=name, kind=OrganisationKind(kind), region="太原市", status=status)
        session.add(org)
        return org

    def user(email, role, org, status=ApprovalStatus.APPROVED, second_factor=False):
        person = User(email=email, name=email.split("@")[0], role=Role(role), organisation=org,
                      password_hash=hash_password(PASSWORD, "fast"), membership_status=status)
        if second_factor:
            person.second_factor = SecondFactor(secret=pyotp.random_base32(), confirmed_at=utcnow())
        session.add(person)
        return person

    home = organisation("矩阵大学", "university")
    pending_org = organisation("待审核企业", "enterprise", ApprovalStatus.PENDING)
    users = {
        "admin": user("admin@example.org", "admin", None, second_factor=True),
        "researcher": user("researcher@example.org", "researcher", home),
        "enterprise": user("enterprise@example.org", "enterprise", organisation("矩阵企业", "enterprise")),
        "broker": user("broker@example.org", "broker", organisation("矩阵技术转移中心", "agency")),
        "outsider": user("outsider@example.org", "researcher", organisation("另一所大学", "university")),
    }
    pending_user = user("pending@example.org", "researcher", home, ApprovalStatus.PENDING)
    enrolled_broker = user("enrolled-broker@example.org", "broker", users["broker"].organisation, second_factor=True)
    session.commit()
    researcher, company, admin = users["researcher"], users["enterprise"], users["admin"]

    def achievement(status, **changes):
        listing = create_achievement(session, researcher, {**ACHIEVEMENT_INPUT, **changes}, submit=status != "draft")
        if status == "published":
            listings.approve_listing(session, admin, ListingKind.ACHIEVEMENT, listing.id)
        return listing.id

    def demand(status, **changes):
        listing = create_demand(session, company, {**DEMAND_INPUT, **changes}, submit=status != "draft")
        if status == "published":
            listings.approve_listing(session, admin, ListingKind.DEMAND, listing.id)
        return listing.id

    def attach(listing_id, confidential=False):
        return listings.add_attachment(session, researcher, ListingKind.ACHIEVEMENT, listing_id,
                                       filename="检测报告.pdf", stream=io.BytesIO(PDF), upload_folder=upload_folder,
                                       max_bytes=1024 * 1024, is_confidential=confidential).id

    tokens = {role: accounts.create_api_token(session, person, "矩阵令牌") for role, person in users.items()}
    email_links = []
    email_change.request_email_change(session, researcher, current_password=PASSWORD,
                                      new_email="moved-researcher@example.org", confirm_url_for=email_links.append)
    published, draft = achievement("published"), achievement("draft", title="未发布的草稿成果")
    published_demand = demand("published")
    submission = verification.submit_verification(session, company, company.organisation_id,
                                                  credit_code="91330100716105852F", filename="执照.pdf",
                                                  stream=io.BytesIO(PDF), upload_folder=upload_folder)
    stay = residency.record_residency(session, admin, company.organisation_id, valley="yangquan", since="2024-09-02",
                                      filename="入驻协议.pdf", stream=io.BytesIO(PDF), upload_folder=upload_folder)
    ids = {
        "enterprise_paid_award": _paid_startup_award(session, admin, company.organisation_id, upload_folder),
        "home_org": home.id,
        "enterprise_org": company.organisation_id,
        "enterprise_verification": submission.id,
        "enterprise_residency": stay.id,
        "pending_org": pending_org.id,
        "pending_user": pending_user.id,
        "enrolled_broker": enrolled_broker.id,
        "admin_user": admin.id,
        "researcher_email_link": email_links[0],
        "researcher_token": session.scalar(select(ApiToken.id).where(ApiToken.user_id == researcher.id)),
        "tokens": tokens,
        "published_achievement": published,
        "draft_achievement": draft,
        "pending_achievement": achievement("pending", title="待审核成果"),
        "published_demand": published_demand,
        "introduction": introductions.propose_introduction(session, users["broker"], achievement_id=published,
                                                           demand_id=published_demand, note="矩阵引荐").id,
        "draft_demand": demand("draft", title="未发布的草稿需求"),
        "public_attachment": attach(published),
        "confidential_attachment": attach(published, confidential=True),
        "draft_attachment": attach(draft),
        "enterprise_grant": access.grant_confidential_access(session, researcher, session.get(Achievement, published),
                                                             company.organisation, source="bid").id,
        "sold_achievement": _sold(session, admin, achievement("published", title="已成交的成果")),
        "valley": list_valleys(session)[0].id,
        "field": "energy",
        "saved_search": save_search(session, users["researcher"], {"kind": "achievement", "q": "氢能"})[0].id,
    }
    session.commit()
    return {role: person.email for role, person in users.items()}, ids


def _sold(session, admin, achievement_id: int) -> int:
    """Mark a published achievement sold (已成交), as a completed deal does."""
    listing = session.get(Achievement, achievement_id)
    previous = listing.mark_dealt()
    listings.record_event(session, listing, admin, "dealt", previous)
    session.flush()
    return achievement_id


def _paid_startup_award(session, admin, organisation_id: int, upload_folder: str) -> int:
    """A start-up grant to the matrix enterprise (resident since its residency), approved and paid with a voucher
    PDF (granted while the enterprise counted as verified, so that it was payable); returns the award's id."""
    organisation = session.get(Organisation, organisation_id)
    pending, organisation.verification_status = organisation.verification_status, VerificationStatus.VERIFIED
    _, awards = record_startup_grant(session, admin, organisation_id, granted_on=date(2024, 10, 1),
                                     founders_paid_in_fen=50_000_000, awarded_fen=50_000_000)
    award_services.approve_award(session, admin, awards[0].id)
    award_services.pay_award(session, admin, awards[0].id, voucher_reference="MATRIX-0001", paid_on=today_in_china(),
                             filename="付款凭证.pdf", stream=io.BytesIO(PDF), upload_folder=upload_folder)
    organisation.verification_status = pending  # its submission still waits for the matrix's verify routes
    return awards[0].id


@pytest.fixture(scope="module")
def template_database(template_database, tmp_path_factory):
    """On SQLite, the reference database plus the world, built once for this module (its e-mails and sample ids in
    world.json beside it); on PostgreSQL (None) the world is built in the test."""
    if template_database is None:
        return None
    folder = tmp_path_factory.mktemp("world")
    shutil.copy(template_database, folder / "world.db")
    # the tests' SECRET_KEY: the authenticator secrets stored here are encrypted with a key derived from it
    builder = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "PASSWORD_HASH_PROFILE": "fast",
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'world.db'}", "SERVER_NAME": "localhost",
                          "MATCH_INDEX_PATH": str(folder / "match-index")})
    with builder.app_context():
        emails, ids = build_world(db.session, str(folder / "uploads"))
        db.session.remove()
        db.engine.dispose()
    (folder / "world.json").write_text(json.dumps({"emails": emails, "ids": ids}))
    return folder / "world.db"


class World:
    """The sample world in a test's database: clients signed in as each role, and a way back to the world after a
    request changed it."""

    def __init__(self, app, template: Path | None):
        self.app, self.template = app, template
        if template is None:
            self.emails, self.ids = build_world(db.session, app.config["UPLOAD_FOLDER"])
        else:
            built = json.loads(template.with_name("world.json").read_text())
            self.emails, self.ids = built["emails"], built["ids"]
            self._copy_uploads()

    def _copy_uploads(self) -> None:
        shutil.rmtree(self.app.config["UPLOAD_FOLDER"], ignore_errors=True)
        shutil.copytree(self.template.parent / "uploads", self.app.config["UPLOAD_FOLDER"])

    def restore(self) -> None:
        """Put the database and the uploads back as the world was built."""
        db.session.remove()
        if self.template is None:
            tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
            db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            db.session.commit()
            load_reference_data(db.session)
            self.emails, self.ids = build_world(db.session, self.app.config["UPLOAD_FOLDER"])
            return
        database = Path(db.engine.url.database)
        db.engine.dispose()
        for leftover in (database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")):
            leftover.unlink(missing_ok=True)
        shutil.copy(self.template, database)
        self._copy_uploads()

    def client(self, role: str):
        """A test client: signed in through the login form, or a visitor."""
        client = self.app.test_client()
        if role != "visitor":
            response = client.post("/login", data={"email": self.emails[role], "password": PASSWORD})
            if response.headers.get("Location") == "/login/code":
                factor = db.session.scalar(select(SecondFactor).join(User).where(User.email == self.emails[role]))
                factor.last_used_step = 0
                db.session.commit()
                response = client.post("/login/code", data={"code": pyotp.TOTP(factor.secret).now()})
            assert response.status_code == 302, f"{role} could not log in"
        return client

    def ask(self, client, route: Route, role: str):
        """Send the route's request as the role (bearer token for the API, the session cookie otherwise)."""
        headers = {}
        if role != "visitor" and route.path.startswith("/api/"):
            headers["Authorization"] = f"Bearer {self.ids['tokens'][role]}"
        data = route.body()
        if data:
            data = {key: value if key == "file" else _fill(value, self.ids) for key, value in data.items()}
        return client.open(route.path.format_map(self.ids), method=route.method, data=data, json=route.json,
                           headers=headers)


@pytest.fixture
def world(app, template_database):
    """The world in this test's database."""
    return World(app, template_database)


def _fill(value, ids):
    if isinstance(value, str):
        return value.format_map(ids)
    if isinstance(value, list):
        return [_fill(item, ids) for item in value]
    return value


def assert_answer(route: Route, role: str, response) -> None:
    """The role got the answer the matrix expects."""
    expected = route.answers[role]
    location = response.headers.get("Location", "")
    response.close()
    if expected == LOGIN:
        assert (response.status_code, location.split("?")[0]) == (302, "/login"), "expected a redirect to login"
        assert location.startswith("/login?next=")
    else:
        assert response.status_code == expected
        if expected == 302:
            assert not location.startswith("/login?next="), "was sent to the login page"


CHANGES_NOTHING = {LOGIN, 400, 401, 403, 404, 405, 422}
"""Answers after which the database must be as before."""
BOOKKEEPING = {"user_sessions", "api_tokens"}
"""Tables a request may touch without changing anything (last seen, last used)."""


def database_rows() -> dict[str, list]:
    """Every row of every table but the bookkeeping ones."""
    db.session.rollback()
    return {table.name: sorted((tuple(row) for row in db.session.execute(table.select())), key=repr)
            for table in db.metadata.sorted_tables if table.name not in BOOKKEEPING}


def _label(route: Route, role: str) -> str:
    return f"{route.method} {route.path} as {role}"


def test_reading_routes_answer_each_role_as_the_matrix_says(world, subtests):
    clients = {role: world.client(role) for role in ROLES}
    for route in (route for route in MATRIX if route.method == "GET"):
        for role in ROLES:
            with subtests.test(msg=_label(route, role)):
                assert_answer(route, role, world.ask(clients[role], route, role))


def test_refused_requests_answer_as_the_matrix_says_and_change_nothing(world, subtests):
    clients = {role: world.client(role) for role in ROLES}
    before = database_rows()
    for route in (route for route in MATRIX if route.method != "GET"):
        for role in (role for role in ROLES if route.answers[role] in CHANGES_NOTHING):
            with subtests.test(msg=_label(route, role)):
                assert_answer(route, role, world.ask(clients[role], route, role))
    assert database_rows() == before, "a refused request changed the database"


def test_permitted_requests_answer_as_the_matrix_says(world, subtests):
    for route in (route for route in MATRIX if route.method != "GET"):
        for role in (role for role in ROLES if route.answers[role] not in CHANGES_NOTHING):
            with subtests.test(msg=_label(route, role)):
                world.restore()
                assert_answer(route, role, world.ask(world.client(role), route, role))


def _sample_path(path: str) -> str:
    """The row's path with a placeholder value for every {sample} id (enough to resolve the route)."""
    return path.format_map(defaultdict(lambda: "1"))


@pytest.fixture(scope="module")
def url_map():
    """The routes of an app (no database needed to read them)."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "routes", "SERVER_NAME": "localhost"})
    return app.url_map


def _endpoint_of(url_map, route: Route) -> str | None:
    try:
        endpoint, _args = url_map.bind("localhost").match(_sample_path(route.path), method=route.method)
    except HTTPException:
        return None
    return endpoint


def test_every_route_is_in_the_matrix(url_map):
    covered = {(_endpoint_of(url_map, route), route.method) for route in MATRIX}
    missing = sorted(
        f"{method} {rule.rule} ({rule.endpoint})"
        for rule in url_map.iter_rules() if rule.endpoint != "static"
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
        if (rule.endpoint, method) not in covered
    )
    assert not missing, "routes missing from MATRIX: " + "; ".join(missing)


def test_every_matrix_row_names_a_real_route_or_expects_405(url_map):
    unresolved = [f"{route.method} {route.path}" for route in MATRIX
                  if _endpoint_of(url_map, route) is None and set(route.answers.values()) != {405}]
    assert not unresolved, "rows that match no route: " + "; ".join(unresolved)


def test_a_route_answers_405_to_a_method_it_does_not_take(app, url_map):
    client = app.test_client()
    served: dict[str, set[str]] = defaultdict(set)
    for rule in url_map.iter_rules():
        if rule.endpoint != "static":
            path = re.sub(r"<any\(([^,)]+)[^>]*>", r"\1", re.sub(r"<int[^>]*>", "1", rule.rule))  # any(a, b): a
            served[re.sub(r"<[^>]+>", "x", path)] |= rule.methods
    wrong = [f"{method} {path}" for path, methods in served.items() for method in ("GET", "POST", "PUT", "DELETE")
             if method not in methods and client.open(path, method=method).status_code != 405]
    assert not wrong, "should answer 405: " + "; ".join(wrong)
