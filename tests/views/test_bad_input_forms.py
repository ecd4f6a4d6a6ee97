"""Bad input on every HTML form: never a 500, a Chinese message next to the field, the input kept, nothing saved."""
import io
import re
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from typing import NamedTuple

import pytest
from sqlalchemy import func, select

from market.accounts import services as accounts
from market.accounts.models import ApiToken, OutboxMail, User
from market.achievements.models import Achievement
from market.demands.models import Demand
from market.extensions import db
from market.listings.models import Attachment
from market.taxonomy.models import Field, Valley
from tests.conftest import PASSWORD, client_for

REQUIRED = "该字段是必填字段。"
CONTROL = "包含不允许的控制字符。"
UNDECODABLE = "包含无效字符。"
INVALID_CHOICE = "不是有效的选择。"
INVALID_OPTION = "无效的选项。"
INTEGER = "请输入整数。"
DATE_FORMAT = "日期格式应为 YYYY-MM-DD。"
MONEY_FORMAT = "金额格式不正确：只能输入数字，可带一个小数点，千位分隔符“,”须按三位一组，例如 1234.56 或 1,234.56。"
MONEY_SIGN = "金额不能带正负号，请直接输入数字。"
MONEY_CAP = "金额超出允许的上限。"
LONE_SURROGATE = b"\xed\xa0\x80"
"""A lone surrogate (U+D800) encoded as if it were UTF-8: not valid UTF-8, sent as raw bytes."""
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n"


class Case(NamedTuple):
    """One bad input: its name, what changes in a valid form, the field that must show the message, the message."""

    name: str
    changes: dict
    field: str
    message: str


def too_long(limit: int) -> str:
    """The message for text over `limit` characters."""
    return f"不能超过 {limit} 个字符。"


class FormPage(HTMLParser):
    """The messages shown next to each control of a page's form, and the values the controls show."""

    def __init__(self, html: str, action: str | None = None):
        super().__init__()
        self.wanted_action, self.action = action, None
        self.errors: dict[str, list[str]] = defaultdict(list)
        self.values: dict[str, str] = {}
        self.kinds: dict[str, str] = {}
        self._last, self._capture, self._text = None, None, []
        self.feed(html)

    def _in_form(self) -> bool:
        return self.action is not None and (self.wanted_action is None or self.action == self.wanted_action)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if tag == "form":
            self.action = attributes.get("action") or ""
        elif tag == "div" and "alert-danger" in classes:
            self._capture, self._text = ("error", "_form"), []
        elif not self._in_form():
            return
        elif tag in ("input", "textarea", "select") and attributes.get("name") and attributes.get("type") != "hidden":
            name = self._last = attributes["name"]
            self.kinds[name] = attributes.get("type") or tag
            if tag == "input" and attributes.get("type") not in ("checkbox", "radio", "password", "file"):
                self.values[name] = attributes.get("value") or ""
            elif tag == "textarea":
                self._capture, self._text = ("value", name), []
        elif tag == "div" and ({"invalid-feedback", "form-text-error"} & set(classes)):
            self._capture, self._text = ("error", self._last), []

    def handle_data(self, data):
        if self._capture:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self.action = None
        if self._capture and tag in ("div", "textarea"):
            what, name = self._capture
            text = "".join(self._text)
            if what == "value":
                self.values[name] = text.removeprefix("\r\n") if text.startswith("\r\n") else text.removeprefix("\n")
            else:
                self.errors[name].append(text.strip())
            self._capture = None


RECORDS_REFUSALS = {"audit_entries"}
"""Tables a refusal is meant to write to: the audit log records a refused login (the address tried, no password)."""


def database_rows() -> dict[str, list]:
    """Every row of every table (but the audit log, which records refused logins), as a request's teardown would
    leave them."""
    db.session.rollback()
    return {table.name: sorted((tuple(row) for row in db.session.execute(table.select())), key=repr)
            for table in db.metadata.sorted_tables if table.name not in RECORDS_REFUSALS}


def multipart(data: dict) -> tuple[bytes, str]:
    """A multipart/form-data body written by hand, so that a value may be raw bytes that are not UTF-8."""
    boundary = "----BadInputBoundary7MA4YWxkTrZu0gW"
    parts = []
    for name, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            raw = item if isinstance(item, bytes) else str(item).encode()
            parts.append(b"--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                         % (boundary.encode(), name.encode(), raw))
    return b"".join(parts) + b"--%s--\r\n" % boundary.encode(), f"multipart/form-data; boundary={boundary}"


def post(client, url: str, data: dict):
    """POST a form: as multipart when a value is raw bytes, otherwise url-encoded like a browser."""
    if any(isinstance(value, bytes) for value in data.values()):
        body, content_type = multipart(data)
        return client.post(url, data=body, content_type=content_type)
    return client.post(url, data=data)


def assert_refused(client, url: str, data: dict, field: str, message: str, *, status: int, action: str | None = None):
    """The form comes back with `status`, the message next to `field`, the text typed kept, and nothing saved."""
    before = database_rows()
    response = post(client, url, data)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    page = FormPage(response.get_data(as_text=True), action)
    assert message in page.errors.get(field, []), dict(page.errors)
    for name, value in data.items():
        if isinstance(value, str) and name in page.values and page.kinds.get(name) != "password":
            assert page.values[name] == value, f"{name} was not kept"
    assert database_rows() == before, "a refused form changed the database"
    return page


# ---------------------------------------------------------------- accounts

@pytest.fixture
def university(make_organisation):
    return make_organisation("university")


def register_form(university) -> dict:
    return {"email": "wang.yan@example.org", "name": "王研", "password": PASSWORD, "role": "researcher",
            "join": "existing", "organisation_id": str(university.id)}


REGISTRATION_CASES = [
    Case("email empty", {"email": ""}, "email", REQUIRED),
    Case("email blank", {"email": "   "}, "email", REQUIRED),
    Case("email malformed", {"email": "not-an-email"}, "email", "请输入有效的邮箱地址。"),
    Case("email oversized", {"email": "a" * 250 + "@x.org"}, "email", too_long(254)),
    Case("email NUL", {"email": "wang\x00@example.org"}, "email", CONTROL),
    Case("email control character", {"email": "wang\x07@example.org"}, "email", "请输入有效的邮箱地址。"),
    Case("name empty", {"name": ""}, "name", REQUIRED),
    Case("name blank", {"name": " \t "}, "name", REQUIRED),
    Case("name oversized", {"name": "长" * 61}, "name", too_long(60)),
    Case("name control character", {"name": "王\x07研"}, "name", CONTROL),
    Case("name line break", {"name": "王\n研"}, "name", CONTROL),
    Case("name lone surrogate", {"name": LONE_SURROGATE + "王研".encode()}, "name", UNDECODABLE),
    Case("password short", {"password": "short"}, "password", "密码至少需要 10 个字符。"),
    Case("password oversized", {"password": "x" * 129}, "password", too_long(128)),
    Case("password empty", {"password": ""}, "password", REQUIRED),
    Case("role admin", {"role": "admin"}, "role", INVALID_CHOICE),
    Case("unknown organisation", {"organisation_id": "999999"}, "organisation_id", "请选择有效的机构。"),
    Case("organisation sql", {"organisation_id": "1 OR 1=1"}, "organisation_id", "请选择要加入的机构，或申请新建机构。"),
    Case("no organisation chosen", {"organisation_id": ""}, "organisation_id", "请选择要加入的机构，或申请新建机构。"),
    Case("new organisation without name", {"join": "new", "organisation_name": "", "organisation_kind": "university"},
         "organisation_name", "请填写机构名称。"),
    Case("new organisation control character",
         {"join": "new", "organisation_name": "学院\x1b", "organisation_kind": "university"}, "organisation_name",
         CONTROL),
    Case("new organisation of wrong kind",
         {"join": "new", "organisation_name": "某公司", "organisation_kind": "enterprise"}, "organisation_kind",
         "该身份不能加入此类机构。"),
    Case("new organisation of unknown kind",
         {"join": "new", "organisation_name": "新学院", "organisation_kind": "club"}, "organisation_kind", INVALID_CHOICE),
    Case("new organisation name oversized",
         {"join": "new", "organisation_name": "院" * 121, "organisation_kind": "university"}, "organisation_name",
         too_long(120)),
    Case("new organisation region oversized",
         {"join": "new", "organisation_name": "新学院", "organisation_kind": "university", "organisation_region": "市" * 41},
         "organisation_region", too_long(40)),
    Case("password is the address", {"password": "wang.yan@example.org"}, "password", "密码不能与邮箱相同。"),
    Case("password too simple", {"password": "abababababab"}, "password", "密码过于简单。"),
]


def test_registration_refuses_bad_input(client, university, subtests):
    for case in REGISTRATION_CASES:
        with subtests.test(msg=case.name):
            assert_refused(client, "/register", {**register_form(university), **case.changes}, case.field,
                           case.message, status=200)


LOGIN_CASES = [
    Case("email empty", {"email": ""}, "email", REQUIRED),
    Case("password blank", {"password": "   "}, "password", REQUIRED),
    Case("email oversized", {"email": "a" * 255}, "email", too_long(254)),
    Case("password oversized", {"password": "p" * 129}, "password", too_long(128)),
    Case("wrong password", {"password": "wrong-password-1"}, "_form", "邮箱或密码错误。"),
    Case("unknown email", {"email": "nobody@example.org"}, "_form", "邮箱或密码错误。"),
    Case("sql in email", {"email": "x' OR '1'='1"}, "_form", "邮箱或密码错误。"),
    Case("lone surrogate", {"email": LONE_SURROGATE + b"@example.org"}, "_form", "邮箱或密码错误。"),
]


def test_login_refuses_bad_input_and_opens_no_session(client, make_user, subtests):
    user = make_user("researcher")
    for case in LOGIN_CASES:
        with subtests.test(msg=case.name):
            assert_refused(client, "/login", {"email": user.email, "password": PASSWORD, **case.changes}, case.field,
                           case.message, status=200)


def test_password_reset_request_refuses_bad_input(client, subtests):
    for email, message in (("", REQUIRED), ("   ", REQUIRED), ("a" * 255, too_long(254)),
                           ("not-an-address", "请输入有效的邮箱地址。"), ("@example.org", "请输入有效的邮箱地址。")):
        with subtests.test(msg=repr(email[:10])):
            assert_refused(client, "/password/forgot", {"email": email}, "email", message, status=200)


@pytest.fixture
def reset_link(app, make_user):
    """A live reset link for a new user."""
    user = make_user("researcher")
    accounts.request_password_reset(db.session, user.email, lambda token: f"/password/reset/{token}")
    db.session.commit()  # as the request that asked for it would (database_rows() rolls back what is not committed)
    body = db.session.scalar(select(OutboxMail.body).order_by(OutboxMail.id.desc()))
    return re.search(r"/password/reset/[A-Za-z0-9_-]+", body).group(0)


def test_password_reset_refuses_a_bad_new_password(client, reset_link, subtests):
    for password, message in (("", REQUIRED), ("short", "密码至少需要 10 个字符。"), ("k" * 129, too_long(128)),
                              ("abababababab", "密码过于简单。")):
        with subtests.test(msg=password[:12]):
            assert_refused(client, reset_link, {"password": password}, "password", message, status=200)


def test_password_reset_with_an_unknown_link_says_so(client):
    assert_refused(client, "/password/reset/not-a-real-token", {"password": "a-long-new-passphrase"}, "_form",
                   "重置链接无效或已过期，请重新申请。", status=200)


PROFILE_CASES = [
    Case("name empty", {"name": ""}, "name", REQUIRED),
    Case("name blank", {"name": "   "}, "name", REQUIRED),
    Case("name oversized", {"name": "长" * 61}, "name", too_long(60)),
    Case("name control character", {"name": "赵\x00工"}, "name", CONTROL),
    Case("name line break", {"name": "赵\r\n工"}, "name", CONTROL),
    Case("name lone surrogate", {"name": LONE_SURROGATE}, "name", UNDECODABLE),
    Case("phone oversized", {"phone": "1" * 31}, "phone", too_long(30)),
    Case("phone control character", {"phone": "0351\x0b1234"}, "phone", CONTROL),
    Case("unknown language", {"locale": "xx"}, "locale", INVALID_CHOICE),
    Case("name invisible", {"name": "\u200b\u200d"}, "name", "请填写可见的文字，不能只有空白或不可见字符。"),
]


def test_profile_refuses_bad_input(client, login_as, subtests):
    login_as("researcher")
    for case in PROFILE_CASES:
        with subtests.test(msg=case.name):
            data = {"name": "赵工", "phone": "0351-1234567", "locale": "zh_CN", **case.changes}
            assert_refused(client, "/profile", data, case.field, case.message, status=422, action="")


EMAIL_CHANGE_CASES = [
    Case("new address empty", {"new_email": ""}, "new_email", REQUIRED),
    Case("new address malformed", {"new_email": "not-an-address"}, "new_email", "请输入有效的邮箱地址。"),
    Case("new address oversized", {"new_email": "a" * 250 + "@x.org"}, "new_email", too_long(254)),
    Case("new address is the current one", {"new_email": "{current}"}, "new_email", "新邮箱与当前邮箱相同。"),
    Case("current password empty", {"current_password": ""}, "current_password", REQUIRED),
    Case("current password oversized", {"current_password": "p" * 129}, "current_password", too_long(128)),
    Case("current password wrong", {"current_password": "not-the-password"}, "current_password", "当前密码不正确。"),
]


def test_email_change_refuses_bad_input_and_mails_nothing(client, login_as, subtests):
    user = login_as("researcher")
    for case in EMAIL_CHANGE_CASES:
        with subtests.test(msg=case.name):
            data = {"new_email": "new.address@example.org", "current_password": PASSWORD, **case.changes}
            data["new_email"] = data["new_email"].format(current=user.email.upper())
            assert_refused(client, "/profile/email", data, case.field, case.message, status=422)


PASSWORD_CHANGE_CASES = [
    Case("current empty", {"current_password": ""}, "current_password", REQUIRED),
    Case("current wrong", {"current_password": "not-the-password"}, "current_password", "当前密码不正确。"),
    Case("new empty", {"new_password": ""}, "new_password", REQUIRED),
    Case("new short", {"new_password": "short"}, "new_password", "密码至少需要 10 个字符。"),
    Case("new oversized", {"new_password": "n" * 129}, "new_password", too_long(128)),
    Case("new too simple", {"new_password": "aaaaaaaaaaaaaaa"}, "new_password", "密码过于简单。"),
    Case("new is the address", {"new_password": "{email}"}, "new_password", "密码不能与邮箱相同。"),
    Case("current oversized", {"current_password": "c" * 129}, "current_password", too_long(128)),
]


def test_password_change_refuses_bad_input_and_keeps_the_session(client, login_as, subtests):
    user = login_as("researcher")
    for case in PASSWORD_CHANGE_CASES:
        with subtests.test(msg=case.name):
            data = {"current_password": PASSWORD, "new_password": "another-long-passphrase", **case.changes}
            data["new_password"] = data["new_password"].format(email=user.email)
            assert_refused(client, "/profile/password", data, case.field, case.message, status=422,
                           action="/profile/password")
            assert client.get("/profile").status_code == 200


TOKEN_CASES = [
    Case("empty", {"name": ""}, "name", REQUIRED),
    Case("blank", {"name": "   "}, "name", REQUIRED),
    Case("oversized", {"name": "长" * 61}, "name", too_long(60)),
    Case("NUL", {"name": "令牌\x00"}, "name", CONTROL),
    Case("line break", {"name": "令牌\n名"}, "name", CONTROL),
    Case("lone surrogate", {"name": LONE_SURROGATE}, "name", UNDECODABLE),
]


def test_api_token_creation_refuses_a_bad_name(client, login_as, subtests):
    login_as("enterprise")
    for case in TOKEN_CASES:
        with subtests.test(msg=case.name):
            assert_refused(client, "/profile/tokens", case.changes, case.field, case.message, status=422,
                           action="/profile/tokens")
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


# ---------------------------------------------------------------- listings

ACHIEVEMENT_FORM = {
    "title": "焦炉煤气制氢耦合二氧化碳捕集工艺", "summary": "以焦炉煤气为原料，变压吸附制取高纯氢。",
    "description_public": "氢气纯度99.999%。", "description_confidential": "吸附剂配方。",
    "keywords": "焦炉煤气，制氢", "field": "energy", "trl": "6", "stage": "pilot",
    "modes": ["assignment", "license_exclusive"], "price_type": "reference", "price_min_fen": "80",
    "price_max_fen": "200", "owners": "", "ip_items": "", "inventors": "张明、李华", "benefits": "", "scenarios": "",
}

ACHIEVEMENT_CASES = [
    Case("title empty", {"title": ""}, "title", REQUIRED),
    Case("title blank", {"title": "  \t "}, "title", REQUIRED),
    Case("title oversized", {"title": "长" * 201}, "title", too_long(200)),
    Case("title NUL", {"title": "标题\x00"}, "title", CONTROL),
    Case("title line break", {"title": "两行\n标题"}, "title", CONTROL),
    Case("title C1 control", {"title": "C1\x9b控制符"}, "title", CONTROL),
    Case("title lone surrogate", {"title": LONE_SURROGATE + "标题".encode()}, "title", UNDECODABLE),
    Case("summary blank", {"summary": " \r\n "}, "summary", REQUIRED),
    Case("summary oversized", {"summary": "长" * 1001}, "summary", too_long(1000)),
    Case("description oversized", {"description_public": "长" * 10001}, "description_public", too_long(10000)),
    Case("confidential escape sequence", {"description_confidential": "\x1b[31m红字"}, "description_confidential",
         CONTROL),
    Case("eleven keywords", {"keywords": "，".join(f"词{n}" for n in range(11))}, "keywords", "最多 10 项。"),
    Case("keyword oversized", {"keywords": "长" * 31}, "keywords", too_long(30)),
    Case("field empty", {"field": ""}, "field", "请选择所属领域。"),
    Case("field sql", {"field": "energy' OR '1'='1"}, "field", "请选择所属领域。"),
    Case("trl 10", {"trl": "10"}, "trl", INVALID_CHOICE),
    Case("trl arabic-indic digit", {"trl": "٦"}, "trl", INVALID_CHOICE),
    Case("stage against trl", {"stage": "lab"}, "stage", "成熟度阶段与技术就绪度（TRL 6）不一致。"),
    Case("no mode", {"modes": []}, "modes", "请至少选择一项。"),
    Case("unknown mode", {"modes": ["barter"]}, "modes", INVALID_OPTION),
    Case("price NaN", {"price_min_fen": "NaN"}, "price_min_fen", MONEY_FORMAT),
    Case("price infinity", {"price_min_fen": "Infinity"}, "price_min_fen", MONEY_FORMAT),
    Case("price negative", {"price_min_fen": "-5"}, "price_min_fen", MONEY_SIGN),
    Case("price exponent", {"price_min_fen": "1e3"}, "price_min_fen", MONEY_FORMAT),
    Case("price underscore", {"price_min_fen": "1_000"}, "price_min_fen", MONEY_FORMAT),
    Case("price huge", {"price_min_fen": "9" * 12}, "price_min_fen", MONEY_CAP),
    Case("price arabic-indic digits", {"price_min_fen": "١٢"}, "price_min_fen", MONEY_FORMAT),
    Case("price devanagari digits", {"price_min_fen": "१२"}, "price_min_fen", MONEY_FORMAT),
    Case("price below a fen", {"price_min_fen": "12.1234567"}, "price_min_fen", "以“万元”为单位时最多保留六位小数（精确到分）。"),
    Case("reference price missing", {"price_min_fen": ""}, "price_min_fen", "参考价或底价需要填写金额。"),
    Case("price range upside down", {"price_max_fen": "50"}, "price_max_fen", "上限不能低于下限。"),
    Case("owner shares", {"owners": "太原理工大学 60\n山西焦化 30"}, "owners", "权利人份额合计应为 100%。"),
    Case("owner line", {"owners": "没有份额"}, "owners", "每行填写：权利人名称 份额（百分比），如“太原理工大学 60”。"),
    Case("ip kind", {"ip_items": "ZL202110345678.2 外观设计"}, "ip_items",
         "每行填写：编号 类型（发明专利/实用新型/软件著作权/技术秘密）。"),
    Case("benefits oversized", {"benefits": "长" * 2001}, "benefits", too_long(2000)),
]


def test_achievement_creation_refuses_bad_input(client, login_as, subtests):
    login_as("researcher")
    for case in ACHIEVEMENT_CASES:
        with subtests.test(msg=case.name):
            assert_refused(client, "/achievements/new", {**ACHIEVEMENT_FORM, **case.changes}, case.field, case.message,
                           status=422, action="")


def test_achievement_edit_refuses_bad_input_and_keeps_the_stored_version(client, login_as, make_achievement,
                                                                         subtests):
    owner = login_as("researcher")
    draft = make_achievement(owner=owner, status="draft")
    for case in ACHIEVEMENT_CASES:
        with subtests.test(msg=case.name):
            assert_refused(client, f"/achievements/{draft.id}/edit", {**ACHIEVEMENT_FORM, **case.changes}, case.field,
                           case.message, status=422, action="")


def test_full_width_amounts_are_normalised_and_stored_in_fen(client, login_as):
    login_as("researcher")
    response = client.post("/achievements/new", data={**ACHIEVEMENT_FORM, "price_min_fen": "１２",
                                                      "price_max_fen": "２００．５万"})
    assert response.status_code == 302
    stored = db.session.scalar(select(Achievement))
    assert (stored.price_min_fen, stored.price_max_fen) == (12_000_000, 200_500_000)


DEMAND_FORM = {"title": "冷轧带钢表面缺陷在线检测", "description": "需要在线识别冷轧带钢表面缺陷。",
               "keywords": "表面缺陷，机器视觉", "field": "equipment", "budget_min_fen": "50", "budget_max_fen": "150",
               "wanted_trl_min": "6", "modes": ["co_development"], "deadline": "2027-06-30"}

DEMAND_CASES = [
    Case("title empty", {"title": ""}, "title", REQUIRED),
    Case("title backspace", {"title": "需求\x08"}, "title", CONTROL),
    Case("description blank", {"description": "   "}, "description", REQUIRED),
    Case("description oversized", {"description": "长" * 10001}, "description", too_long(10000)),
    Case("description lone surrogate", {"description": LONE_SURROGATE}, "description", UNDECODABLE),
    Case("keyword NUL", {"keywords": "机器\x00视觉"}, "keywords", CONTROL),
    Case("unknown field", {"field": "no.such.field"}, "field", "请选择所属领域。"),
    Case("budget arabic-indic digits", {"budget_min_fen": "١٢"}, "budget_min_fen", MONEY_FORMAT),
    Case("budget devanagari digits", {"budget_min_fen": "१२"}, "budget_min_fen", MONEY_FORMAT),
    Case("budget negative", {"budget_min_fen": "-1"}, "budget_min_fen", MONEY_SIGN),
    Case("budget nan", {"budget_min_fen": "nan"}, "budget_min_fen", MONEY_FORMAT),
    Case("budget exponent", {"budget_max_fen": "2E5"}, "budget_max_fen", MONEY_FORMAT),
    Case("budget huge", {"budget_max_fen": "1" + "0" * 15}, "budget_max_fen", MONEY_CAP),
    Case("budget upside down", {"budget_max_fen": "10"}, "budget_max_fen", "上限不能低于下限。"),
    Case("trl 0", {"wanted_trl_min": "0"}, "wanted_trl_min", INVALID_CHOICE),
    Case("unknown mode", {"modes": ["nothing"]}, "modes", INVALID_OPTION),
    Case("deadline too early", {"deadline": "1999-12-31"}, "deadline", "日期超出允许范围。"),
    Case("deadline too late", {"deadline": "9999-12-31"}, "deadline", "日期超出允许范围。"),
    Case("deadline not a day", {"deadline": "2027-02-30"}, "deadline", "不是有效的日期。"),
    Case("deadline slashes", {"deadline": "2027/06/30"}, "deadline", DATE_FORMAT),
    Case("deadline arabic-indic digits", {"deadline": "٢٠٢٧-٠٦-٣٠"}, "deadline", DATE_FORMAT),
    Case("deadline words", {"deadline": "明年六月"}, "deadline", DATE_FORMAT),
]


def test_demand_creation_refuses_bad_input(client, login_as, subtests):
    login_as("enterprise")
    for case in DEMAND_CASES:
        with subtests.test(msg=case.name):
            assert_refused(client, "/demands/new", {**DEMAND_FORM, **case.changes}, case.field, case.message,
                           status=422, action="")


def test_demand_edit_refuses_bad_input_and_keeps_the_stored_version(client, login_as, make_demand, subtests):
    owner = login_as("enterprise")
    draft = make_demand(owner=owner, status="draft")
    for case in DEMAND_CASES:
        with subtests.test(msg=case.name):
            assert_refused(client, f"/demands/{draft.id}/edit", {**DEMAND_FORM, **case.changes}, case.field,
                           case.message, status=422, action="")


def test_a_full_width_deadline_and_budget_are_normalised(client, login_as):
    login_as("enterprise")
    response = client.post("/demands/new", data={**DEMAND_FORM, "deadline": "２０２７-０６-３０",
                                                 "budget_min_fen": "５０", "budget_max_fen": "１５０"})
    assert response.status_code == 302
    stored = db.session.scalar(select(Demand))
    assert (str(stored.deadline), stored.budget_min_fen, stored.budget_max_fen) == ("2027-06-30", 50_000_000,
                                                                                    150_000_000)


def test_undecodable_bytes_in_a_url_encoded_form_never_reach_the_database_as_broken_text(client, login_as):
    login_as("researcher")
    body = "&".join(f"{key}={value}" for key, value in {**ACHIEVEMENT_FORM, "modes": "assignment"}.items()
                    if key != "title").encode() + b"&title=%ED%A0%80%FF%FE"
    response = client.post("/achievements/new", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code in (302, 422)
    for (title,) in db.session.execute(select(Achievement.title)):
        title.encode("utf-8")
        assert "\ufffd" not in title


# ---------------------------------------------------------------- operators

@pytest.fixture
def pending_achievement(make_achievement):
    return make_achievement(status="pending")


RETURN_CASES = [
    Case("no reason", {"reason": ""}, "reason", "请选择退回原因。"),
    Case("unknown reason", {"reason": "bogus"}, "reason", INVALID_CHOICE),
    Case("comment empty", {"comment": ""}, "comment", "请填写退回说明。"),
    Case("comment blank", {"comment": "  \n  "}, "comment", "请填写退回说明。"),
    Case("comment oversized", {"comment": "长" * 2001}, "comment", too_long(2000)),
    Case("comment NUL", {"comment": "请补充\x00数据"}, "comment", CONTROL),
    Case("comment lone surrogate", {"comment": LONE_SURROGATE}, "comment", UNDECODABLE),
]


def test_returning_a_listing_needs_a_reason_and_a_clean_comment(client, login_as, pending_achievement, subtests):
    login_as("admin")
    url = f"/admin/review/achievement/{pending_achievement.id}/return"
    for case in RETURN_CASES:
        with subtests.test(msg=case.name):
            data = {"reason": "incomplete", "comment": "请补充中试数据。", **case.changes}
            assert_refused(client, url, data, case.field, case.message, status=422, action=url)


@pytest.fixture
def valley_form(app):
    """(valley, form data) for editing the first valley."""
    valley = db.session.scalar(select(Valley).order_by(Valley.position))
    return valley, {"name": valley.name, "description": "示范谷区。", "target_achievements": "10",
                    "target_companies": "5", "key_fields": ["energy"]}


def _codes(count: int, depth: int = 0) -> list[str]:
    fields = db.session.scalars(select(Field).order_by(Field.code)).all()
    return [field.code for field in fields if field.depth == depth][:count]


VALLEY_CASES = [
    Case("four key fields", {"key_fields": "four"}, "key_fields", "每个谷区最多 3 个重点领域。"),
    Case("unknown key field", {"key_fields": ["no.such.field"]}, "key_fields", "领域不存在。"),
    Case("name empty", {"name": ""}, "name", REQUIRED),
    Case("name oversized", {"name": "长" * 41}, "name", too_long(40)),
    Case("name NUL", {"name": "谷\x00区"}, "name", CONTROL),
    Case("name of another valley", {"name": "other valley"}, "name", "该名称已被其他谷区使用。"),
    Case("description oversized", {"description": "长" * 2001}, "description", too_long(2000)),
    Case("description bell", {"description": "介绍\x07"}, "description", CONTROL),
    Case("target negative", {"target_achievements": "-1"}, "target_achievements", INTEGER),
    Case("target arabic-indic digits", {"target_achievements": "١٢"}, "target_achievements", INTEGER),
    Case("target devanagari digits", {"target_achievements": "१२"}, "target_achievements", INTEGER),
    Case("target exponent", {"target_achievements": "1e3"}, "target_achievements", INTEGER),
    Case("target underscore", {"target_achievements": "1_000"}, "target_achievements", INTEGER),
    Case("target fraction", {"target_companies": "12.5"}, "target_companies", INTEGER),
    Case("target huge", {"target_companies": "1000001"}, "target_companies", "应在 0 到 1000000 之间。"),
    Case("target empty", {"target_companies": ""}, "target_companies", REQUIRED),
]


def test_valley_edit_refuses_bad_input_and_saves_none_of_it(client, login_as, valley_form, subtests):
    login_as("admin")
    valley, data = valley_form
    for case in VALLEY_CASES:
        with subtests.test(msg=case.name):
            changes = case.changes
            if changes.get("key_fields") == "four":
                changes = {"key_fields": _codes(4), "name": "改了名字的谷区"}
            if changes.get("name") == "other valley":
                changes = {"name": db.session.scalar(select(Valley.name).where(Valley.id != valley.id))}
            assert_refused(client, f"/admin/valleys/{valley.id}", {**data, **changes}, case.field, case.message,
                           status=422, action="")


def test_valley_targets_take_full_width_digits_and_zero(client, login_as, valley_form):
    login_as("admin")
    valley, data = valley_form
    response = client.post(f"/admin/valleys/{valley.id}", data={**data, "target_achievements": "１２",
                                                                "target_companies": "0", "key_fields": _codes(3)})
    assert response.status_code == 302
    db.session.expire_all()
    stored = db.session.get(Valley, valley.id)
    assert (stored.target_achievements, stored.target_companies) == (12, 0)
    assert sorted(field.code for field in stored.key_fields) == sorted(_codes(3))


FIELD_CASES = [
    Case("code empty", {"code": ""}, "code", REQUIRED),
    Case("code punctuation", {"code": "Bad Code!"}, "code", "代码只能由小写字母、数字和连字符组成。"),
    Case("code chinese", {"code": "代码"}, "code", "代码只能由小写字母、数字和连字符组成。"),
    Case("code oversized", {"code": "x" * 31}, "code", too_long(30)),
    Case("code taken", {"code": "energy"}, "code", "代码已存在。"),
    Case("name empty", {"name": ""}, "name", REQUIRED),
    Case("name oversized", {"name": "长" * 61}, "name", too_long(60)),
    Case("name NUL", {"name": "领域\x00"}, "name", CONTROL),
    Case("name lone surrogate", {"name": LONE_SURROGATE}, "name", UNDECODABLE),
    Case("english name oversized", {"name_en": "x" * 121}, "name_en", too_long(120)),
    Case("unknown parent", {"parent": "no.such.field"}, "parent", "上级领域不存在。"),
    Case("fourth level", {"parent": "third level"}, "parent", "领域树最多三级。"),
]


def test_adding_a_field_refuses_bad_input(client, login_as, subtests):
    login_as("admin")
    for case in FIELD_CASES:
        with subtests.test(msg=case.name):
            changes = case.changes
            if changes.get("parent") == "third level":
                changes = {"parent": _codes(1, depth=2)[0]}
            data = {"parent": "", "code": "new-field", "name": "新领域", "name_en": "New field", **changes}
            assert_refused(client, "/admin/fields", data, case.field, case.message, status=422, action="")


RENAME_CASES = [
    Case("name empty", {"name": ""}, "name", "名称为 1 到 60 个字符。"),
    Case("name oversized", {"name": "长" * 61}, "name", "名称为 1 到 60 个字符。"),
    Case("name invisible", {"name": "\u200b"}, "name", "名称为 1 到 60 个字符。"),
    Case("name bell", {"name": "能源\x07"}, "name", CONTROL),
    Case("english name right-to-left override", {"name_en": "Energy\u202e"}, "name_en",
         "不能包含改变文字方向的控制字符（如 U+202E）。"),
]


def test_renaming_a_field_refuses_bad_input_and_renames_nothing(client, login_as, subtests):
    login_as("admin")
    for case in RENAME_CASES:
        with subtests.test(msg=case.name):
            before = database_rows()
            response = client.post("/admin/fields/energy/rename", data={"name": "能源", "name_en": "Energy",
                                                                        **case.changes})
            assert response.status_code == 302
            assert case.message in flashes(client, response.headers["Location"])
            assert database_rows() == before


# ---------------------------------------------------------------- attachments

SMALL_UPLOADS = {"MAX_ATTACHMENT_BYTES": 4096, "MAX_CONTENT_LENGTH": 64 * 1024}


def flashes(client, location: str) -> str:
    """The page a redirect leads to."""
    return client.get(location).get_data(as_text=True)


BAD_UPLOADS = [
    ("not a pdf name", "报告.txt", PDF, "只能上传 PDF 文件。"),
    ("double extension", "报告.pdf.exe", PDF, "只能上传 PDF 文件。"),
    ("fake pdf", "报告.pdf", b"GIF89a\x01\x00\x01\x00", "文件内容不是 PDF。"),
    ("html as pdf", "报告.pdf", b"<script>alert(1)</script>", "文件内容不是 PDF。"),
    ("over the attachment limit", "报告.pdf", PDF + b"0" * 4096, "文件不能超过 4 KB。"),
    ("control character in the name", "报告\x07.pdf", PDF, "文件名包含不允许的字符。"),
    ("no file", None, None, "请选择要上传的 PDF 文件。"),
]


@pytest.mark.parametrize("app", [SMALL_UPLOADS], indirect=True)
def test_a_bad_upload_is_refused_with_a_message_and_stores_nothing(app, client, login_as, make_achievement, subtests):
    owner = login_as("researcher")
    listing = make_achievement(owner=owner)
    for name, filename, content, message in BAD_UPLOADS:
        with subtests.test(msg=name):
            data = {"file": (io.BytesIO(content), filename)} if content is not None else {}
            before = database_rows()
            response = client.post(f"/listings/achievement/{listing.id}/attachments", data=data,
                                   content_type="multipart/form-data")
            assert response.status_code == 302
            assert response.headers["Location"] == f"/achievements/{listing.id}"
            assert message in flashes(client, response.headers["Location"])
            assert database_rows() == before
            folder = Path(app.config["UPLOAD_FOLDER"])
            assert not folder.exists() or not any(folder.iterdir())


@pytest.mark.parametrize("app", [SMALL_UPLOADS], indirect=True)
def test_a_body_over_the_request_limit_answers_413(client, login_as, make_achievement):
    owner = login_as("researcher")
    listing = make_achievement(owner=owner)
    response = client.post(f"/listings/achievement/{listing.id}/attachments",
                           data={"file": (io.BytesIO(PDF + b"0" * 70 * 1024), "大文件.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 413
    assert "上传的内容过大。" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0


@pytest.mark.parametrize(("filename", "shown"), [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("成果报告.pdf", "成果报告.pdf"),
])
def test_path_tricks_and_chinese_names_are_stored_under_a_generated_name(app, tmp_path, client, login_as,
                                                                        make_achievement, filename, shown):
    owner = login_as("researcher")
    listing = make_achievement(owner=owner)
    response = client.post(f"/listings/achievement/{listing.id}/attachments",
                           data={"file": (io.BytesIO(PDF), filename)}, content_type="multipart/form-data")
    assert response.status_code == 302
    page = flashes(client, response.headers["Location"])
    assert "附件已上传。" in page
    attachment = db.session.scalar(select(Attachment))
    assert attachment.original_name == shown
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", attachment.stored_name)
    assert [path.name for path in Path(app.config["UPLOAD_FOLDER"]).iterdir()] == [attachment.stored_name]
    assert not (tmp_path / "etc").exists() and not (tmp_path.parent / "etc").exists()
    assert f">{shown}</a>" in page
    download = client.get(f"/attachments/{attachment.id}")
    assert download.status_code == 200
    assert download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert "attachment;" in download.headers["Content-Disposition"]
    download.close()


def test_a_chinese_file_name_is_offered_back_in_rfc_5987_form(client, login_as, make_achievement):
    owner = login_as("researcher")
    listing = make_achievement(owner=owner)
    client.post(f"/listings/achievement/{listing.id}/attachments", data={"file": (io.BytesIO(PDF), "成果报告.pdf")},
                content_type="multipart/form-data")
    attachment_id = db.session.scalar(select(Attachment.id))
    download = client.get(f"/attachments/{attachment_id}")
    assert "filename*=UTF-8''%E6%88%90%E6%9E%9C%E6%8A%A5%E5%91%8A.pdf" in download.headers["Content-Disposition"]
    download.close()


# ---------------------------------------------------------------- markup and SQL are text

SCRIPT = "<script>alert('x')</script>"
IMAGE = '<img src=x onerror="alert(1)">'
SQL = "Robert'); DROP TABLE achievements;--"


def test_markup_in_a_listing_is_stored_as_text_and_shown_escaped_everywhere(client, app, login_as, make_user):
    owner = login_as("researcher")
    response = client.post("/achievements/new", data={
        **ACHIEVEMENT_FORM, "title": f"{SCRIPT}制氢", "summary": f"{IMAGE} 简介", "keywords": f"{SCRIPT}，制氢",
        "description_public": f"{SCRIPT}\n{SQL}", "action": "submit"})
    assert response.status_code == 302
    stored = db.session.scalar(select(Achievement))
    assert stored.title == f"{SCRIPT}制氢"
    assert stored.description_public == f"{SCRIPT}\n{SQL}"
    admin = client_for(app, make_user("admin"))
    review = admin.get("/admin/review").get_data(as_text=True)
    assert admin.post(f"/admin/review/achievement/{stored.id}/approve").status_code == 302
    pages = {
        "detail": client.get(f"/achievements/{stored.id}"),
        "workspace": client.get("/workspace"),
        "notifications": client.get("/notifications"),
        "organisation": client.get(f"/organisations/{owner.organisation_id}"),
        "search": client.get("/achievements?q=制氢"),
        "home": client.get("/"),
    }
    for name, page in {**pages, "review": review}.items():
        html = page if isinstance(page, str) else page.get_data(as_text=True)
        assert "<script>alert" not in html, name
        assert "<img src=x" not in html, name
    for name in ("detail", "workspace", "organisation", "search"):
        assert "&lt;script&gt;alert(" in pages[name].get_data(as_text=True), name


def test_markup_in_a_search_query_is_echoed_escaped(client):
    page = client.get("/achievements", query_string={"q": SCRIPT}).get_data(as_text=True)
    assert "<script>alert" not in page
    assert "&lt;script&gt;" in page


def test_markup_in_a_name_is_shown_escaped_in_the_navigation(client, login_as):
    login_as("researcher", name="<b onmouseover=alert(1)>张</b>")
    page = client.get("/workspace").get_data(as_text=True)
    assert "<b onmouseover" not in page
    assert "&lt;b onmouseover=alert(1)&gt;张&lt;/b&gt;" in page


@pytest.mark.parametrize("query", ["' OR '1'='1", "1; DROP TABLE achievements; --", "%' --", "\\' UNION SELECT 1 --"])
def test_sql_looking_search_queries_are_plain_text(client, make_achievement, query):
    make_achievement()
    response = client.get("/achievements", query_string={"q": query})
    assert response.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Achievement)) == 1
    assert client.get("/api/v1/achievements", query_string={"q": query}).status_code == 200


def test_sql_looking_text_is_stored_verbatim(client, login_as):
    login_as("enterprise")
    response = client.post("/demands/new", data={**DEMAND_FORM, "title": SQL, "description": "1' OR '1'='1"})
    assert response.status_code == 302
    stored = db.session.scalar(select(Demand))
    assert (stored.title, stored.description) == (SQL, "1' OR '1'='1")
    assert db.session.scalar(select(func.count()).select_from(User)) >= 1
