"""Money pages: who may open them, the award actions, start-up grants, rule-set uploads, my money with its exports,
and the what-if calculator on POLICY.md's worked examples."""
import csv
import html
import io
import re
from datetime import date
from decimal import Decimal
from urllib.parse import unquote

import openpyxl
import pyotp
import pytest
from flask import url_for
from sqlalchemy import func, select

from market.accounts.models import ApprovalStatus
from market.awards import services as award_services
from market.awards.ledger import LedgerTransaction, balances
from market.awards.models import (
    Award,
    AwardStatus,
    PolicyEvent,
    StartupGrant,
    StoredRuleSet,
)
from market.extensions import db
from market.policy.rules import shipped_rule_set_paths
from market.timeutil import today_in_china
from tests.conftest import PASSWORD
from tests.payments import record_and_confirm_deal_payment

WAN = 1_000_000


@pytest.fixture
def deal_awards(make_user, make_organisation, make_achievement, make_registered_deal):
    """A registered deal: a university's achievement sold to a 阳泉 company, two brokers (60/40) at 20% and the
    broker's agency as agent; one payment of ¥6M → R2 ¥720,000 / ¥480,000 (payable) and R3 ¥300,000 (held)."""

    def make(title="制氢工艺转让", broker=None):
        buyer = make_organisation("enterprise", region="阳泉市", valley_id="yangquan", resident_since=date(2024, 5, 1))
        broker = broker or make_user("broker")
        other = make_user("broker")
        deal, researcher, _ = make_registered_deal(achievement=make_achievement(title=title), transferee=buyer,
                                                   shares=(6000, 4000), brokers=[broker, other],
                                                   agent=broker.organisation)
        _, awards = record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=date(2025, 4, 30))
        return {"deal": deal, "awards": awards, "broker": broker, "other": other, "researcher": researcher}

    return make


def by_rule(awards, rule):
    return [award for award in awards if award.rule == rule]


def status_of(award_id):
    db.session.expire_all()
    return db.session.get(Award, award_id).status


# --- access ------------------------------------------------------------------------------------------------------

ADMIN_PAGES = ["/money/awards", "/money/grants/new", "/money/rules"]


@pytest.mark.parametrize("path", ADMIN_PAGES)
@pytest.mark.parametrize("role, answer", [("researcher", 403), ("enterprise", 403), ("broker", 403), ("admin", 200)])
def test_admin_money_pages_answer_by_role(client, login_as, path, role, answer):
    login_as(role)
    assert client.get(path).status_code == answer


@pytest.mark.parametrize("method, path", [("GET", p) for p in ADMIN_PAGES + ["/money/mine", "/money/mine/export.csv"]]
                         + [("POST", "/money/awards/1/approve"), ("POST", "/money/awards/1/pay"),
                            ("POST", "/money/awards/1/reverse"), ("POST", "/money/awards/approve")])
def test_visitors_are_sent_to_the_login_page(client, method, path):
    response = client.open(path, method=method)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("path", ["/money/awards/1/approve", "/money/awards/1/pay", "/money/awards/1/reverse",
                                  "/money/awards/approve"])
def test_award_actions_are_refused_to_non_admins(client, login_as, path):
    login_as("broker")
    assert client.post(path, data={"reason": "x", "award_ids": ["1"]}).status_code == 403


@pytest.mark.parametrize("role", ["researcher", "enterprise", "broker"])
def test_members_open_their_money_page(client, login_as, role):
    login_as(role)
    assert client.get("/money/mine").status_code == 200


@pytest.mark.parametrize("role", ["researcher", "enterprise", "broker"])
def test_my_money_says_held_awards_also_wait_for_verification(client, login_as, role):
    login_as(role)
    intro = html.unescape(client.get("/money/mine").get_data(as_text=True))
    assert "“暂缓发放”为依据尚未确认的规则计算的金额" in intro
    assert "须等技术合同登记或领取机构的认证核验通过后才能发放" in intro


def test_admin_is_taken_from_my_money_to_the_award_list(client, login_as):
    login_as("admin")
    response = client.get("/money/mine")
    assert response.status_code == 302 and response.headers["Location"] == "/money/awards"


@pytest.mark.parametrize("path", ["/money/calculator", "/money/calculator/transfer", "/money/calculator/startup"])
def test_calculator_is_open_to_visitors(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert "奖补测算器" in response.get_data(as_text=True)


def test_unknown_calculator_kind_is_not_found(client):
    assert client.get("/money/calculator/lottery").status_code == 404


# --- the admin's award list and actions -----------------------------------------------------------------------------


def test_award_list_shows_held_awards_with_the_reason_and_totals(client, login_as, deal_awards):
    world = deal_awards()
    login_as("admin")
    page = client.get("/money/awards").get_data(as_text=True)
    held = by_rule(world["awards"], "R3")[0]
    row = page[page.index(f'id="award-{held.id}"'):]
    row = row[:row.index("</tr>")]
    assert "暂缓发放" in row and "征求意见稿" in row and 'data-fen="30000000"' in row
    totals = page[page.index('id="award-totals"'):page.index("</table>", page.index('id="award-totals"'))]
    assert 'data-fen="120000000"' in totals and 'data-fen="30000000"' in totals and 'data-fen="150000000"' in totals


def test_approving_an_award_moves_it_to_entitled(client, login_as, deal_awards):
    world = deal_awards()
    award = by_rule(world["awards"], "R2")[0]
    login_as("admin")
    response = client.post(f"/money/awards/{award.id}/approve", data={"next": "/money/awards?rule=R2"})
    assert response.status_code == 302 and response.headers["Location"] == "/money/awards?rule=R2"
    assert "已审批" in client.get("/money/awards").get_data(as_text=True)
    assert status_of(award.id) == AwardStatus.APPROVED
    key = f"entitled:{award.recipient}"
    assert balances(db.session, key) == {key: 72 * 10_000 * 100}


def test_recording_a_payout_moves_an_approved_award_to_paid(client, login_as, deal_awards):
    world = deal_awards()
    award = by_rule(world["awards"], "R2")[1]
    admin = login_as("admin")
    award_services.approve_award(db.session, admin, award.id)
    client.post(f"/money/awards/{award.id}/pay", data={"next": "/money/awards", "voucher_reference": " BOC-2025-0010 ",
                                                       "paid_on": today_in_china().isoformat()})
    assert status_of(award.id) == AwardStatus.PAID
    assert db.session.get(Award, award.id).voucher_reference == "BOC-2025-0010"
    assert balances(db.session, f"paid:{award.recipient}") == {f"paid:{award.recipient}": 48 * 10_000 * 100}


def test_approving_a_held_award_is_refused_with_a_message(client, login_as, deal_awards):
    world = deal_awards()
    held = by_rule(world["awards"], "R3")[0]
    login_as("admin")
    client.post(f"/money/awards/{held.id}/approve", data={"next": "/money/awards"})
    page = html.unescape(client.get("/money/awards").get_data(as_text=True))
    assert "只有待审批的奖补可以审批（当前：暂缓发放（待核验））。" in page
    assert "当前：held" not in page
    assert status_of(held.id) == AwardStatus.HELD


def test_reversing_needs_a_reason_and_then_reverses_the_postings(client, login_as, deal_awards):
    world = deal_awards()
    award = by_rule(world["awards"], "R2")[0]
    login_as("admin")
    client.post(f"/money/awards/{award.id}/reverse", data={"reason": "  ", "next": "/money/awards"})
    assert "冲正时请填写原因" in client.get("/money/awards").get_data(as_text=True)
    assert status_of(award.id) == AwardStatus.PAYABLE
    client.post(f"/money/awards/{award.id}/reverse", data={"reason": "回款金额登记错误", "next": "/money/awards"})
    assert status_of(award.id) == AwardStatus.REVERSED
    memo = db.session.scalar(select(LedgerTransaction.memo).where(LedgerTransaction.award_id == award.id,
                                                                    LedgerTransaction.kind == "reversal"))
    assert memo == "回款金额登记错误"
    assert balances(db.session, f"awarded:{award.recipient}") == {f"awarded:{award.recipient}": 0}
    assert "冲正原因：回款金额登记错误" in client.get("/money/awards").get_data(as_text=True)


def ledger_rows(award_id):
    """The ledger transactions of an award (a refused reversal adds none)."""
    db.session.expire_all()
    return db.session.scalars(select(LedgerTransaction.id).where(LedgerTransaction.award_id == award_id)).all()


@pytest.mark.parametrize("reason, message", [
    ("回款\x07登记错误", "包含不允许的控制字符。"),
    ("\u200b\u200b", "请填写可见的文字，不能只有空白或不可见字符。"),
    ("错" * 501, "冲正时请填写原因（不超过 500 字）。"),
])
def test_a_bad_reversal_reason_is_refused_with_its_message_and_reverses_nothing(client, login_as, deal_awards,
                                                                                reason, message):
    award = by_rule(deal_awards()["awards"], "R2")[0]
    login_as("admin")
    before = ledger_rows(award.id)
    response = client.post(f"/money/awards/{award.id}/reverse", data={"reason": reason, "next": "/money/awards"})
    assert response.status_code == 302
    assert message in client.get(response.headers["Location"]).get_data(as_text=True)
    assert status_of(award.id) == AwardStatus.PAYABLE
    assert ledger_rows(award.id) == before


def test_bulk_approval_approves_the_payable_and_lists_the_refused(client, login_as, deal_awards):
    world = deal_awards()
    first, second = by_rule(world["awards"], "R2")
    held = by_rule(world["awards"], "R3")[0]
    login_as("admin")
    client.post("/money/awards/approve", data={"award_ids": [first.id, second.id, held.id], "next": "/money/awards"})
    page = client.get("/money/awards").get_data(as_text=True)
    assert "已审批 2 条奖补，合计 ¥1,200,000.00" in page
    assert f"#{held.id}" in page and "只有待审批的奖补可以审批" in page
    assert [status_of(a.id) for a in (first, second, held)] == [AwardStatus.APPROVED, AwardStatus.APPROVED,
                                                                 AwardStatus.HELD]


def test_award_action_does_not_follow_a_foreign_next_address(client, login_as, deal_awards):
    award = by_rule(deal_awards()["awards"], "R2")[0]
    login_as("admin")
    response = client.post(f"/money/awards/{award.id}/approve", data={"next": "https://example.com/money/awards"})
    assert response.headers["Location"] == "/money/awards"


@pytest.mark.parametrize("app", [{"WTF_CSRF_ENABLED": True}], indirect=True)
def test_award_action_needs_its_csrf_token(client, make_user, deal_awards):
    award = by_rule(deal_awards()["awards"], "R2")[0]
    admin = make_user("admin")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": admin.email, "password": PASSWORD, "csrf_token": token.group(1)})
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login/code").get_data(as_text=True))
    code = pyotp.TOTP(admin.second_factor.secret).now()
    assert client.post("/login/code", data={"code": code, "csrf_token": token.group(1)}).status_code == 302
    assert client.post(f"/money/awards/{award.id}/approve", data={"next": "/money/awards"}).status_code == 400
    assert status_of(award.id) == AwardStatus.PAYABLE
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/money/awards").get_data(as_text=True))
    response = client.post(f"/money/awards/{award.id}/approve", data={"next": "/money/awards", "csrf_token": token.group(1)})
    assert response.status_code == 302
    assert status_of(award.id) == AwardStatus.APPROVED


def test_award_filters_narrow_the_list(client, login_as, deal_awards):
    world = deal_awards()
    login_as("admin")
    page = client.get("/money/awards?status=held").get_data(as_text=True)
    ids = set(re.findall(r'<tr id="award-(\d+)"', page))
    assert ids == {str(a.id) for a in by_rule(world["awards"], "R3")}
    page = client.get("/money/awards?status=bogus&recipient=" + world["broker"].name).get_data(as_text=True)
    assert set(re.findall(r'<tr id="award-(\d+)"', page)) == {str(by_rule(world["awards"], "R2")[0].id)}


# --- start-up grants ------------------------------------------------------------------------------------------------


@pytest.fixture
def startup(make_organisation):
    return make_organisation("enterprise", name="晋城明镜光学", valley_id="jincheng", resident_since=date(2024, 1, 5))


def test_recording_a_startup_grant_shows_the_capped_amount(client, login_as, startup):
    login_as("admin")
    response = client.post("/money/grants/new", data={"organisation_id": startup.id, "granted_on": "2024-06-01",
                                                      "founders_paid_in_fen": "80", "awarded_fen": "100"})
    assert response.status_code == 302
    assert unquote(response.headers["Location"]) == f"/money/awards?recipient={startup.name}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已登记注册资本支持" in page and "¥800,000.00" in page and "50%" in page
    award = db.session.scalar(select(Award).where(Award.recipient == f"org-{startup.id}"))
    assert (award.rule, award.granted_fen, award.capped_by) == ("R4", 80 * WAN, "max_share_of_capital_bp")
    assert db.session.scalar(select(func.count()).select_from(StartupGrant)) == 1


def test_a_grant_below_the_minimum_is_refused_and_explained(client, login_as, startup):
    login_as("admin")
    response = client.post("/money/grants/new", data={"organisation_id": startup.id, "granted_on": "2024-06-01",
                                                      "founders_paid_in_fen": "25", "awarded_fen": "100"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "不予支持" in page and "¥300,000.00" in page and "¥1,000,000.00" in page
    assert db.session.scalar(select(func.count()).select_from(StartupGrant)) == 0
    assert db.session.scalar(select(func.count()).select_from(Award)) == 0


def field_message(page: str, name: str) -> str:
    """The first error shown under the form field with that name ('' when none)."""
    match = re.search(rf'name="{name}"(?:(?!<div class="mb-3).)*?<div class="invalid-feedback d-block">([^<]*)</div>',
                      page, re.DOTALL)
    return html.unescape(match.group(1)) if match else ""


def money_rows() -> tuple[int, int, int]:
    """How many grants, policy events and awards are stored."""
    db.session.expire_all()
    return tuple(db.session.scalar(select(func.count()).select_from(model)) for model in (StartupGrant, PolicyEvent,
                                                                                           Award))


@pytest.mark.parametrize("changes, field, message", [
    ({"founders_paid_in_fen": "八十"}, "founders_paid_in_fen", None),
    ({"awarded_fen": "-5"}, "awarded_fen", "金额不能带正负号，请直接输入数字。"),
    ({"founders_paid_in_fen": ""}, "founders_paid_in_fen", "请填写创始人实缴金额。"),
    ({"awarded_fen": ""}, "awarded_fen", "请填写拟支持金额。"),
    ({"granted_on": ""}, "granted_on", "请填写日期。"),
    ({"granted_on": "2099-01-01"}, "granted_on", "请填写不晚于今天的日期。"),
    ({"organisation_id": ""}, "organisation_id", "请选择企业。"),
])
def test_a_bad_grant_form_is_shown_again_with_the_field_marked(client, login_as, startup, changes, field, message):
    login_as("admin")
    data = {"organisation_id": startup.id, "granted_on": "2024-06-01", "founders_paid_in_fen": "80",
            "awarded_fen": "100", **changes}
    before = money_rows()
    response = client.post("/money/grants/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(rf'id="{field}"[^>]*is-invalid|is-invalid[^>]*id="{field}"', page)
    if message is not None:
        assert field_message(page, field) == message
    assert money_rows() == before


# --- rule sets ------------------------------------------------------------------------------------------------------

SHIPPED = shipped_rule_set_paths()[-1].read_text(encoding="utf-8")
NEW_VERSION = """
[[versions]]
version = "2029.1"
effective_from = 2029-01-01
description = "Continuation."

[[versions.rules]]
id = "R4"
kind = "startup_capital"
status = "confirmed"
recipient = "startup"
min_amount_fen = 30_000_000
max_amount_fen = 150_000_000
max_share_of_capital_bp = 5000
stacking_group = "startup_capital"
payer = "fiscal:province"
"""


def upload(client, text, name="rules.toml"):
    data = {"file": (io.BytesIO(text.encode("utf-8")), name)}
    return client.post("/money/rules", data=data, content_type="multipart/form-data")


@pytest.fixture
def installed(app):
    """The shipped rule set as seeding installs it, each publication in turn (the test database is seeded with it: this
    checks it is there)."""
    rows = db.session.scalars(select(StoredRuleSet).order_by(StoredRuleSet.id))
    assert [(row.name, row.is_active, len(row.content["versions"])) for row in rows] == [
        ("default", False, 1), ("default", True, 2)]


def test_rule_set_page_lists_the_stored_rules_with_their_caps(client, login_as, installed):
    login_as("admin")
    page = client.get("/money/rules").get_data(as_text=True)
    assert "版本 2024.1" in page and "版本 2027.1" in page and "生效中" in page
    assert "奖励比例不得超过 30%" in page
    assert 'data-fen="1000000000"' in page and 'data-fen="200000000"' in page
    assert "征求意见稿" in page


def test_uploading_a_new_version_installs_it(client, login_as, installed):
    login_as("admin")
    response = upload(client, SHIPPED + NEW_VERSION)
    assert response.status_code == 302
    assert "已加载（共 3 个版本）" in client.get("/money/rules").get_data(as_text=True)
    active = db.session.scalars(select(StoredRuleSet).where(StoredRuleSet.is_active.is_(True))).all()
    assert [len(row.content["versions"]) for row in active] == [3]


def test_uploading_the_same_file_again_changes_nothing(client, login_as, installed):
    login_as("admin")
    upload(client, SHIPPED)
    assert "未做更改" in client.get("/money/rules").get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(StoredRuleSet)) == 2


@pytest.mark.parametrize("text, message", [
    (SHIPPED.replace("rate_bp = 1000", "rate_bp = 1200"), "已经使用，不能修改"),
    ("format = 1\nname = ", "规则集文件有误"),
    (SHIPPED.replace('payer = "fiscal:province"', 'payer = "fiscal:province"\nbonus = 1', 1), "unknown key 'bonus'"),
    (SHIPPED.replace('name = "default"', 'name = "city"'), "规则编号 R1"),
])
def test_a_bad_rule_set_file_is_refused_with_a_clear_error(client, login_as, installed, text, message):
    login_as("admin")
    response = upload(client, text)
    assert response.status_code == 422
    assert message in html.unescape(response.get_data(as_text=True))
    assert db.session.scalar(select(func.count()).select_from(StoredRuleSet)) == 2


def test_a_rule_set_upload_without_a_file_is_refused_next_to_the_field(client, login_as, installed):
    login_as("admin")
    response = client.post("/money/rules", data={}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert field_message(response.get_data(as_text=True), "file") == "请选择规则集文件。"
    assert db.session.scalar(select(func.count()).select_from(StoredRuleSet)) == 2


def test_a_rule_set_file_that_is_not_utf8_is_refused(client, login_as, installed):
    login_as("admin")
    response = client.post("/money/rules", data={"file": (io.BytesIO("名称".encode("gbk")), "r.toml")},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "UTF-8" in response.get_data(as_text=True)


# --- my money and its exports -------------------------------------------------------------------------------------


def test_broker_sees_own_rewards_and_the_agency_reward_per_deal(client, login, deal_awards):
    world = deal_awards(title="储氢材料许可")
    login(world["broker"])
    page = client.get("/money/mine").get_data(as_text=True)
    assert "转化项目：储氢材料许可" in page
    mine = {str(a.id) for a in world["awards"] if a.recipient in (f"user-{world['broker'].id}",
                                                                   f"org-{world['broker'].organisation_id}")}
    assert set(re.findall(r'id="own-award-(\d+)"', page)) == mine
    summary = page[page.index('id="own-summary"'):]
    assert re.search(r'data-total="due".*?data-fen="72000000"', summary, re.DOTALL)
    assert re.search(r'data-total="held".*?data-fen="30000000"', summary, re.DOTALL)


def test_another_broker_sees_none_of_it(client, login_as, deal_awards):
    deal_awards()
    login_as("broker")
    page = client.get("/money/mine").get_data(as_text=True)
    assert 'id="no-money"' in page and "own-award-" not in page


def test_researcher_sees_rewards_paid_from_their_proceeds(client, login, deal_awards):
    world = deal_awards()
    login(world["researcher"])
    page = client.get("/money/mine").get_data(as_text=True)
    shown = set(re.findall(r'id="proceeds-award-(\d+)"', page))
    assert shown == {str(a.id) for a in by_rule(world["awards"], "R2")}


def test_pending_member_does_not_see_the_agency_reward(client, login, make_user, deal_awards):
    world = deal_awards()
    pending = make_user("broker", organisation=world["broker"].organisation, membership_status=ApprovalStatus.PENDING)
    login(pending)
    assert "own-award-" not in client.get("/money/mine").get_data(as_text=True)


def test_csv_export_parses_back_to_the_exact_amounts(client, login, make_user, deal_awards):
    world = deal_awards(broker=make_user("broker", name='=HYPERLINK("http://example.com")'))
    login(world["broker"])
    response = client.get("/money/mine/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    header, *rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert header[6:8] == ["核定金额（元）", "核定金额（分）"]
    expected = sorted(a.granted_fen for a in world["awards"] if a.recipient in (
        f"user-{world['broker'].id}", f"org-{world['broker'].organisation_id}"))
    assert sorted(int(row[7]) for row in rows) == expected
    assert all(Decimal(row[6]) * 100 == int(row[7]) and re.fullmatch(r"[0-9]+\.[0-9]{2}", row[6]) for row in rows)
    recipients = {row[1]: row[3] for row in rows}
    assert recipients["R2"].startswith("'=HYPERLINK("), "a cell starting with = must be defused"
    assert not recipients["R3"].startswith("'")


def test_excel_export_holds_numbers_and_text_never_formulas(client, login, make_user, deal_awards):
    world = deal_awards(broker=make_user("broker", name="=1+2"))
    login(world["broker"])
    response = client.get("/money/mine/export.xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = {row[1].value: row for row in sheet.iter_rows(min_row=2)}
    assert set(rows) == {"R2", "R3"}
    assert rows["R2"][3].data_type == "s" and rows["R2"][3].value.startswith("=1+2")
    for row in rows.values():
        assert type(row[7].value) is int and row[6].number_format == "#,##0.00"
        assert Decimal(str(row[6].value)).quantize(Decimal("0.01")) * 100 == row[7].value
    assert (rows["R2"][7].value, rows["R3"][7].value) == (72 * 10_000 * 100, 30 * 10_000 * 100)


def test_unknown_export_format_is_not_found(client, login_as):
    login_as("broker")
    assert client.get("/money/mine/export.pdf").status_code == 404


# --- the calculator ---------------------------------------------------------------------------------------------


LINE = re.compile(r'<tr class="calc-line" data-rule="(\w+)" data-status="(\w+)">.*?data-fen="(\d+)"', re.DOTALL)


def lines(page):
    """(rule, status, granted fen) of every calculated line, in order."""
    return [(rule, status, int(fen)) for rule, status, fen in LINE.findall(page)]


def payments(*rows):
    data = {}
    for index, (day, wan) in enumerate(rows):
        data[f"payments-{index}-paid_on"] = day
        data[f"payments-{index}-amount_fen"] = wan
    return data


@pytest.fixture
def calculate(client, installed):
    def run(kind, data):
        response = client.post(url_for("awards.calculator", kind=kind), data=data)
        return response.status_code, response.get_data(as_text=True)

    return run


def test_calculator_follows_worked_example_one(calculate):
    status, page = calculate("preorder", {
        "seller_valley": "taiyuan", "seller_resident_since": "2024-03-01", "signed_on": "2024-10-15", "value_fen": "15000",
        **payments(("2025-03-31", "7000"), ("2025-09-30", "5000"), ("2026-02-01", "2000"), ("2026-03-01", "2000"))})
    assert status == 200
    assert lines(page) == [("R1", "payable", 700 * WAN), ("R1", "payable", 300 * WAN), ("R1", "payable", 200 * WAN)]
    assert "每个领取人每自然年上限 ¥10,000,000.00" in page
    assert "本笔付款 ¥20,000,000.00 将使《本协议》的累计付款达到 ¥160,000,000.00，超过其金额 ¥150,000,000.00" in page
    assert re.search(r'卖方企业</span><span class="text-nowrap fw-semibold" data-fen="1200000000"', page)


def test_calculator_gives_nothing_to_a_seller_not_resident_or_related(calculate):
    for data in ({"seller_valley": ""}, {"seller_valley": "taiyuan", "related": "y"}):
        status, page = calculate("preorder", {"signed_on": "2024-10-15", "value_fen": "15000",
                                              **payments(("2025-03-31", "7000")), **data})
        assert status == 200 and lines(page) == [] and "不符合任何规则的条件" in page


def test_calculator_follows_worked_example_two(calculate):
    status, page = calculate("transfer", {
        "transferor_kind": "university", "signed_on": "2025-03-10", "value_fen": "1200", "registered": "y",
        "reward_rate_bp": "20", "intermediaries-0-name": "甲", "intermediaries-0-share_bp": "50",
        "intermediaries-1-share_bp": "30", "intermediaries-2-share_bp": "20",
        **payments(("2025-04-30", "600"), ("2025-05-30", "600"))})
    assert status == 200
    assert lines(page) == [("R2", "payable", 60 * 10_000 * 100), ("R2", "payable", 36 * 10_000 * 100),
                           ("R2", "payable", 24 * 10_000 * 100), ("R2", "payable", 40 * 10_000 * 100),
                           ("R2", "payable", 24 * 10_000 * 100), ("R2", "payable", 16 * 10_000 * 100)]
    assert "每项成果累计（含其全部项目和回款）上限 ¥2,000,000.00" in page
    assert "甲" in page and "中介人员2" in page


def test_calculator_follows_worked_example_three(calculate):
    status, page = calculate("transfer", {
        "transferor_kind": "university", "transferee_valley": "yangquan", "transferee_resident_since": "2024-05-01",
        "signed_on": "2025-03-10", "value_fen": "1200", "registered": "y", "reward_rate_bp": "0", "has_agent": "y",
        **payments(("2025-04-01", "600"), ("2025-05-01", "600"))})
    assert status == 200
    assert lines(page) == [("R3", "held", 30 * 10_000 * 100), ("R3", "held", 0)]
    assert "征求意见稿" in page and "每份合同累计上限 ¥300,000.00，额度已用完" in page


def test_calculator_follows_worked_example_four(calculate):
    _, page = calculate("startup", {"valley": "taiyuan", "granted_on": "2024-06-01", "founders_paid_in_fen": "80",
                                    "awarded_fen": "100"})
    assert lines(page) == [("R4", "payable", 80 * WAN)]
    assert "即不超过创始人自有实缴资金" in page
    _, page = calculate("startup", {"valley": "taiyuan", "granted_on": "2024-06-01", "founders_paid_in_fen": "25",
                                    "awarded_fen": "100"})
    assert lines(page) == [] and "低于最低支持额 ¥300,000.00" in page


@pytest.mark.parametrize("kind, share, level", [
    ("university", "45", "error"),
    ("university", "60", "warning"),
    ("university", "70", "ok"),
    ("institute", "45", "error"),
    ("enterprise", "45", "info"),
])
def test_calculator_checks_the_inventors_statutory_share(calculate, kind, share, level):
    status, page = calculate("transfer", {"transferor_kind": kind, "signed_on": "2025-03-10", "value_fen": "100",
                                          "inventor_share_bp": share, **payments(("2025-04-01", "10"))})
    assert status == 200
    assert re.findall(r'statutory-finding" data-level="(\w+)"', page) == [level]


@pytest.mark.parametrize("kind, data, message", [
    ("preorder", {"signed_on": "2024-10-15", "value_fen": "100"}, "请至少填写一笔付款"),
    ("preorder", {"signed_on": "2024-10-15", "value_fen": "100", "payments-0-amount_fen": "5"}, "请填写日期"),
    ("preorder", {"signed_on": "2024-10-15", "value_fen": "1e5", **payments(("2025-01-01", "5"))}, "金额格式不正确"),
    ("preorder", {"signed_on": "2024-10-15", "value_fen": "0", **payments(("2025-01-01", "5"))}, "金额必须大于零"),
    ("transfer", {"signed_on": "2025-03-10", "value_fen": "100", "intermediaries-0-share_bp": "50",
                  **payments(("2025-04-01", "10"))}, "比例合计须为 100%"),
    ("transfer", {"signed_on": "2025-03-10", "value_fen": "100", "reward_rate_bp": "12.345",
                  **payments(("2025-04-01", "10"))}, "最多两位小数"),
    ("startup", {"granted_on": "2024-06-01", "founders_paid_in_fen": "80"}, "请填写拟支持金额"),
])
def test_calculator_form_problems_are_shown_and_nothing_is_calculated(calculate, kind, data, message):
    status, page = calculate(kind, data)
    assert status == 422 and message in page and "calc-line" not in page


def test_calculator_stores_nothing(calculate):
    before = (db.session.scalar(select(func.count()).select_from(PolicyEvent)),
              db.session.scalar(select(func.count()).select_from(Award)))
    calculate("startup", {"valley": "taiyuan", "granted_on": "2024-06-01", "founders_paid_in_fen": "80",
                          "awarded_fen": "100"})
    assert (db.session.scalar(select(func.count()).select_from(PolicyEvent)),
            db.session.scalar(select(func.count()).select_from(Award))) == before == (0, 0)


def test_calculator_says_so_when_no_rule_set_is_loaded(client):
    for row in db.session.scalars(select(StoredRuleSet)):
        row.is_active = False
    db.session.commit()
    response = client.post("/money/calculator/startup", data={"valley": "taiyuan", "granted_on": "2024-06-01",
                                                              "founders_paid_in_fen": "80", "awarded_fen": "100"})
    assert "尚未加载政策规则集" in response.get_data(as_text=True)
