"""The audit log through requests: who and which request, refused logins, no secrets, rollback, the page and CSV."""
import codecs
import csv
import io
import json
import re
from datetime import timedelta

import pyotp
from sqlalchemy import select

from market.accounts.models import ApiToken, ApprovalStatus, Role, SecondFactor, User
from market.audit.models import AuditEntry
from market.audit.queries import AuditFilters, list_entries
from market.deals.models import DealStage
from market.extensions import db
from market.timeutil import today_in_china, utcnow
from market.unit_of_work import transactional
from tests.api_requests import bearer
from tests.conftest import PASSWORD, pass_code_step

SECRET_KEY_NAME = re.compile(r"password|secret|cookie|token_hash|session", re.IGNORECASE)


def entries(action: str | None = None) -> list[AuditEntry]:
    db.session.expire_all()
    query = select(AuditEntry).order_by(AuditEntry.id)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    return list(db.session.scalars(query))


def test_a_failed_login_records_the_address_tried_and_the_request(client, make_user):
    user = make_user("researcher")
    unknown = client.post("/login", data={"email": "nobody@example.org", "password": "wrong-password-1"})
    known = client.post("/login", data={"email": user.email, "password": "wrong-password-2"})
    assert unknown.status_code == known.status_code == 200
    first, second = entries("login.failed")
    assert first.after == {"email": "nobody@example.org"} and second.after == {"email": user.email}
    assert first.request_id == unknown.headers["X-Request-ID"] and second.request_id == known.headers["X-Request-ID"]
    assert first.ip_address == "127.0.0.1"
    assert first.actor_id is None and first.before is None and first.object_type == "login"
    stored = json.dumps([first.after, second.after])
    assert "wrong-password" not in stored


def test_a_successful_login_records_no_failure(client, make_user, login):
    login(make_user("researcher"))
    assert entries("login.failed") == []


def test_a_wrong_code_at_login_is_recorded_against_the_account(client, make_user):
    admin = make_user("admin")
    assert client.post("/login", data={"email": admin.email, "password": PASSWORD}).headers["Location"] == "/login/code"
    refused = client.post("/login/code", data={"code": "000000"})
    assert refused.status_code == 422
    [failure] = entries("login.code_failed")
    assert failure.object_id == admin.id and failure.after == {"user_id": admin.id}
    assert failure.request_id == refused.headers["X-Request-ID"]


def test_a_page_records_its_actor_and_request_id(client, make_user, login):
    admin = make_user("admin")
    applicant = make_user("researcher", membership_status=ApprovalStatus.PENDING)
    login(admin)
    response = client.post(f"/admin/members/{applicant.id}/approve")
    assert response.status_code == 302
    [decision] = entries("user.membership")
    assert (decision.before, decision.after) == ({"membership_status": "pending"}, {"membership_status": "approved"})
    assert (decision.actor_id, decision.actor_display) == (admin.id, admin.name)
    assert decision.request_id == response.headers["X-Request-ID"] and decision.object_id == applicant.id


def test_the_api_records_its_token_user_as_the_actor(client, make_deal, deal_world):
    deal = make_deal(DealStage.INTENT)
    headers = {**bearer(deal_world.buyer), "Content-Type": "application/json"}
    response = client.post(f"/api/v1/deals/{deal.id}/stage", data=json.dumps({"to": "negotiation"}), headers=headers)
    assert response.status_code == 200, response.data
    move = entries("deal.stage")[-1]
    assert move.after == {"stage": "negotiation"}
    assert (move.actor_id, move.actor_display) == (deal_world.buyer.id, deal_world.buyer.name)
    assert move.request_id == response.headers["X-Request-ID"]


def test_no_password_token_or_secret_is_ever_stored(client, make_user, login):
    new_password = "another-long-password"
    registered = client.post("/register", data={
        "email": "newcomer@example.org", "name": "新成员", "password": PASSWORD, "role": "researcher",
        "join": "existing", "organisation_id": str(make_user("researcher").organisation_id)})
    assert registered.status_code == 302
    client.post("/login", data={"email": "newcomer@example.org", "password": "wrong-password-1"})
    admin = make_user("admin")
    client.post("/login", data={"email": admin.email, "password": PASSWORD})
    client.post("/login/code", data={"code": "000000"})
    client.post("/logout")
    login(admin)
    created = client.post("/profile/tokens", data={"name": "同步脚本"})
    assert created.status_code == 200
    changed = client.post("/profile/password", data={"current_password": PASSWORD, "new_password": new_password})
    assert changed.status_code == 302
    broker = make_user("broker", second_factor=True)
    pass_code_step(client, broker, client.post("/login", data={"email": broker.email, "password": PASSWORD}))

    db.session.expire_all()
    token_text = re.search(rb"jcg_[A-Za-z0-9_\-]+", created.data).group().decode()
    secrets = {PASSWORD, new_password, "wrong-password-1", token_text, client.get_cookie("session").value}
    secrets |= set(db.session.scalars(select(User.password_hash)))
    secrets |= set(db.session.scalars(select(ApiToken.token_hash)))
    for factor in db.session.scalars(select(SecondFactor)):
        secrets |= {factor.encrypted_secret, factor.secret, pyotp.TOTP(factor.secret).now()}
    stored = entries()
    assert {"user.created", "api_token.created", "second_factor.created", "login.failed", "login.code_failed"} <= {
        entry.action for entry in stored}
    text = json.dumps([[entry.before, entry.after] for entry in stored], ensure_ascii=False)
    leaked = [secret for secret in secrets if secret and len(secret) >= 6 and secret in text]
    assert leaked == []
    keys = {key for entry in stored for values in (entry.before, entry.after) if values for key in values}
    assert not [key for key in keys if SECRET_KEY_NAME.search(key)]


def test_a_request_that_fails_leaves_no_entry(app, client, make_user):
    user = make_user("researcher")

    def promote_then_fail():
        db.session.get(User, user.id).role = Role.BROKER
        db.session.flush()
        raise RuntimeError("the request failed after its change was flushed")

    app.add_url_rule("/test-only/promote", "promote_then_fail", transactional(promote_then_fail))
    count = len(entries())
    assert client.get("/test-only/promote").status_code == 500
    assert len(entries()) == count
    assert db.session.get(User, user.id).role == Role.RESEARCHER


# ---------------------------------------------------------------- the page and the export


def _world(client, make_user, login):
    """A failed login, a membership decision by the admin and a role change outside any request; the admin signed in."""
    admin = make_user("admin", name="审计管理员")
    applicant = make_user("researcher", membership_status=ApprovalStatus.PENDING)
    client.post("/login", data={"email": "intruder@example.org", "password": "wrong-password-1"})
    login(admin)
    client.post(f"/admin/members/{applicant.id}/approve")
    applicant.role = Role.BROKER
    db.session.commit()
    return admin, applicant


def test_only_admins_read_the_log(client, make_user, login):
    login(make_user("broker"))
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit/export.csv").status_code == 403


def test_the_page_lists_the_newest_first_with_labels(client, make_user, login):
    _world(client, make_user, login)
    page = client.get("/admin/audit")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "审计日志" in html and "登录失败（密码）" in html and "用户 · 成员资格变更" in html
    assert "intruder@example.org" in html and "审计管理员" in html
    actions = re.findall(r'data-action="([^"]+)"', html)
    assert actions[0] == "user.role" and "login.failed" in actions


def test_the_filters_narrow_the_list(client, make_user, login):
    admin, applicant = _world(client, make_user, login)

    def actions(**query) -> list[str]:
        response = client.get("/admin/audit", query_string=query)
        assert response.status_code == 200
        return re.findall(r'data-action="([^"]+)"', response.get_data(as_text=True))

    assert actions(action="login.failed") == ["login.failed"]
    assert set(actions(object_type="user", object_id=str(applicant.id))) == {"user.created", "user.membership",
                                                                            "user.role"}
    assert actions(actor=str(admin.id)) == ["user.membership"]
    assert actions(actor="审计管") == ["user.membership"]
    request_id = entries("login.failed")[0].request_id
    assert actions(request_id=request_id) == ["login.failed"]
    today = today_in_china()
    assert "login.failed" in actions(since=today.isoformat(), until=today.isoformat())
    assert actions(since=(today + timedelta(days=1)).isoformat()) == []
    assert actions(until=(today - timedelta(days=1)).isoformat()) == []


def test_bad_filter_input_is_refused_with_a_message_not_an_error(client, make_user, login):
    _world(client, make_user, login)
    response = client.get("/admin/audit", query_string={"object_id": "１２", "since": "2026-13-45",
                                                        "action": "no.such", "until": "x" * 50})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "不是有效的编号" in html and "请按“年-月-日”填写日期" in html
    assert len(re.findall(r'data-action="', html)) == len(entries())
    reversed_range = client.get("/admin/audit", query_string={"since": "2026-05-02", "until": "2026-05-01"})
    assert "结束日期不能早于起始日期" in reversed_range.get_data(as_text=True)


def test_the_csv_export_holds_the_filtered_rows(client, make_user, login):
    _world(client, make_user, login)
    response = client.get("/admin/audit/export.csv", query_string={"object_type": "user"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:6] == ["编号", "时间（UTC）", "操作人编号", "操作人", "操作代码", "操作"]
    body = rows[1:]
    assert body and {row[6] for row in body} == {"用户"}
    assert [row[4] for row in body][:1] == ["user.role"]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row[1]) for row in body)
    role = body[0]
    assert json.loads(role[8]) == {"role": "researcher"} and json.loads(role[9]) == {"role": "broker"}
    failed = client.get("/admin/audit/export.csv", query_string={"action": "login.failed"})
    [_, row] = list(csv.reader(io.StringIO(failed.data.decode("utf-8-sig"))))
    assert json.loads(row[9]) == {"email": "intruder@example.org"} and row[10]


def test_pages_hold_a_fixed_number_newest_first(make_user):
    for _ in range(3):
        make_user("researcher")
    first = list_entries(db.session, AuditFilters(action="user.created"), page=1, per_page=2)
    second = list_entries(db.session, AuditFilters(action="user.created"), page=2, per_page=2)
    assert (first.total, first.pages, len(first.items), len(second.items)) == (3, 2, 2, 1)
    ids = [entry.id for entry in first.items + second.items]
    assert ids == sorted(ids, reverse=True)
    assert list_entries(db.session, AuditFilters(action="user.created"), page=99, per_page=2).page == 2
    assert utcnow() >= first.items[0].at
