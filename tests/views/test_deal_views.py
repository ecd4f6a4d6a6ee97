"""Deal pages: statuses, redirects, flash messages and what reached the database; bad input on every deal form."""
import functools
import html
import io
import re
from datetime import timedelta

import pytest
from flask import render_template_string
from flask_login import login_user
from sqlalchemy import func, select

from market.awards.models import Award
from market.deals import forms as deal_forms
from market.deals import recording as deal_recording
from market.deals.bids import place_bid
from market.deals.inputs import IntermediariesInput
from market.deals.limits import BOARD_STAGES, MAX_INTERMEDIARY_ROWS
from market.deals.models import (
    Bid,
    BidVersion,
    Deal,
    DealBrokerRequest,
    DealEvent,
    DealIntermediary,
    DealPayment,
    DealSigning,
    DealStage,
    DemandResponse,
)
from market.deals.pipeline import register_deal
from market.declared import declared_limits
from market.extensions import db
from market.notifications.models import Notification
from tests.api_requests import bearer
from tests.conftest import PASSWORD, client_for, deal_clock
from tests.payments import RECEIPT_PDF, certificate

WAN = 1_000_000


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def page_of(response) -> str:
    return response.get_data(as_text=True)


def flashed_after(client, response) -> str:
    """The page a redirect leads to (where the flash message shows)."""
    assert response.status_code == 302, page_of(response)[:2000]
    return page_of(client.get(response.headers["Location"]))


def field_message(page: str, name: str) -> str:
    """The error shown under the form field with that name ('' when none)."""
    match = re.search(rf'name="{name}"(?:(?!<div class="mb-3).)*?<div class="invalid-feedback d-block">([^<]*)</div>',
                      page, re.DOTALL)
    return html.unescape(match.group(1)) if match else ""


@pytest.fixture
def world(app, deal_world, make_demand):
    """The parties of tests/conftest.py `deal_world` (which `make_deal` uses), the app, and a demand of the buyer."""
    deal_world.app, deal_world.demand = app, make_demand(owner=deal_world.buyer)
    return deal_world


@pytest.fixture
def make_deal(make_deal):
    """The shared factory with this file's contract value, ¥3,000,000."""
    return functools.partial(make_deal, amount_fen=300 * WAN)


def accept_shown_terms(client, deal_id: int) -> str:
    """Press the page's "accept these terms" button (posting the version the page shows); the page that follows."""
    page = page_of(client.get(f"/deals/{deal_id}"))
    version = re.search(r'id="accept-terms".*?name="version" value="(\d+)"', page, re.DOTALL).group(1)
    return flashed_after(client, client.post(f"/deals/{deal_id}/terms/accept", data={"version": version}))


def snapshot(deal_id=None) -> tuple:
    """Everything a deal form could change."""
    db.session.expire_all()
    row = None
    if deal_id is not None:
        deal = db.session.get(Deal, deal_id)
        row = (deal.stage, deal.agreed_amount_fen, deal.mode, deal.notice_starts_on, deal.signed_on,
               deal.registration_number, deal.reward_rate_bp, deal.agent_organisation_id, deal.termination_reason,
               deal.intermediary_exception, deal.broker_id, deal.paid_fen)
    counts = tuple(count(model) for model in (Bid, BidVersion, DemandResponse, Deal, DealEvent, DealIntermediary,
                                              DealPayment, Award, Notification))
    return row, counts


# ---------------------------------------------------------------- bids through the pages


def test_enterprise_bids_through_the_form_and_the_owner_is_told(world):
    client = client_for(world.app, world.buyer)
    response = client.post(f"/deals/bids/new/{world.achievement.id}",
                           data={"amount_fen": "１２", "mode": "assignment", "message": "<script>x()</script>"})
    page = flashed_after(client, response)
    assert "报价已发送" in page
    assert "&lt;script&gt;x()&lt;/script&gt;" in page and "<script>x()" not in page
    bid = db.session.scalars(select(Bid)).one()
    assert response.headers["Location"] == f"/deals/bids/{bid.id}"
    assert [(v.amount_fen, v.mode) for v in bid.versions] == [(12 * WAN, "assignment")]
    told = db.session.scalars(select(Notification.user_id).where(Notification.kind == "bid_received")).all()
    assert told == [world.researcher.id]


def test_bid_form_is_only_for_companies_and_published_achievements(world, make_achievement):
    assert client_for(world.app, world.researcher).get(f"/deals/bids/new/{world.achievement.id}").status_code == 403
    draft = make_achievement(owner=world.researcher, status="draft")
    client = client_for(world.app, world.buyer)
    assert client.get(f"/deals/bids/new/{draft.id}").status_code == 404
    assert client.get(f"/deals/bids/new/{world.achievement.id}").status_code == 200


def test_counter_and_accept_through_the_bid_page_opens_one_deal(world):
    bid = place_bid(db.session, world.buyer, world.achievement.id, amount_fen=80 * WAN, mode="assignment")
    owner = client_for(world.app, world.researcher)
    response = owner.post(f"/deals/bids/{bid.id}/counter", data={"amount_fen": "95", "mode": "assignment", "message": ""})
    assert "还价已发送" in flashed_after(owner, response)
    buyer = client_for(world.app, world.buyer)
    assert "第 2 轮" in page_of(buyer.get(f"/deals/bids/{bid.id}"))
    response = buyer.post(f"/deals/bids/{bid.id}/accept", data={"version": "2"})
    deal = db.session.scalars(select(Deal)).one()
    assert response.headers["Location"] == f"/deals/{deal.id}"
    assert "成果转化项目已创建" in flashed_after(buyer, response)
    assert deal.agreed_amount_fen == 95 * WAN
    again = buyer.post(f"/deals/bids/{bid.id}/accept", data={"version": "2"})
    assert "已结束" in flashed_after(buyer, again)
    assert count(Deal) == 1


def test_bid_page_is_hidden_from_other_organisations(world):
    bid = place_bid(db.session, world.buyer, world.achievement.id, amount_fen=80 * WAN, mode="assignment")
    assert client_for(world.app, world.outsider).get(f"/deals/bids/{bid.id}").status_code == 404
    assert client_for(world.app, world.researcher).get(f"/deals/bids/{bid.id}").status_code == 200


def test_response_accepted_through_the_pages_opens_a_deal(world):
    researcher = client_for(world.app, world.researcher)
    response = researcher.post(f"/deals/responses/new/{world.demand.id}",
                               data={"proposal": "采用深度学习缺陷检测", "amount_fen": "60",
                                     "achievement_id": str(world.achievement.id)})
    assert "响应已提交" in flashed_after(researcher, response)
    answer = db.session.scalars(select(DemandResponse)).one()
    company = client_for(world.app, world.buyer)
    accepted = company.post(f"/deals/responses/{answer.id}/accept")
    assert "成果转化项目已创建" in flashed_after(company, accepted)
    deal = db.session.scalars(select(Deal)).one()
    assert (deal.response_id, deal.demand_id, deal.transferor_id) == (answer.id, world.demand.id,
                                                                       world.researcher.organisation_id)


# ---------------------------------------------------------------- the deal page


@pytest.mark.parametrize("role, status", [("researcher", 200), ("buyer", 200), ("broker", 200), ("other_broker", 200),
                                          ("admin", 200), ("outsider", 404)])
def test_deal_page_answers_each_role(world, make_deal, role, status):
    deal = make_deal()
    assert client_for(world.app, getattr(world, role)).get(f"/deals/{deal.id}").status_code == status


def test_visitor_is_sent_to_login_from_the_deal_page(world, make_deal, client):
    deal = make_deal()
    response = client.get(f"/deals/{deal.id}")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_party_moves_a_stage_and_the_timeline_shows_it(world, make_deal):
    deal = make_deal()
    client = client_for(world.app, world.buyer)
    response = client.post(f"/deals/{deal.id}/advance", data={"to": "negotiation"})
    page = flashed_after(client, response)
    assert "项目已进入下一阶段" in page and "阶段变更" in page
    assert db.session.get(Deal, deal.id).stage == DealStage.NEGOTIATION


def test_a_forbidden_move_is_refused_and_changes_nothing(world, make_deal):
    deal = make_deal()
    before = snapshot(deal.id)
    response = client_for(world.app, world.other_broker).post(f"/deals/{deal.id}/advance", data={"to": "negotiation"})
    assert response.status_code == 403
    assert snapshot(deal.id) == before


def test_a_move_from_the_wrong_stage_is_explained(world, make_deal):
    deal = make_deal(DealStage.INTENT)
    client = client_for(world.app, world.researcher)
    response = client.post(f"/deals/{deal.id}/advance", data={"to": "pricing"})
    assert "不能进入“协议定价”阶段" in flashed_after(client, response)
    assert db.session.get(Deal, deal.id).stage == DealStage.INTENT


def test_notice_page_is_public_and_shows_no_confidential_data(world, make_deal, client):
    deal = make_deal(DealStage.NOTICE, intermediary_exception="内部审核意见")
    page = page_of(client.get(f"/deals/{deal.id}/notice"))
    for shown in (deal.title, world.achievement.organisation.name, world.buyer.organisation.name, "300万元", "转让",
                  deal.notice_ends_on.isoformat()):
        assert shown in page
    assert world.achievement.description_confidential not in page and "内部审核意见" not in page
    assert deal.title in page_of(client.get("/deals/notices"))


def test_notice_page_of_a_deal_not_yet_in_notice_is_absent(world, make_deal, client):
    deal = make_deal(DealStage.PRICING)
    assert client.get(f"/deals/{deal.id}/notice").status_code == 404


def test_full_pipeline_through_the_pages_with_a_payment_and_its_awards(world, make_deal, make_user):
    first, second = make_user("broker", name="赵中介"), make_user("broker", name="钱中介")
    deal = make_deal(DealStage.PRICING, agreed_amount_fen=None, mode=None)
    owner = client_for(world.app, world.researcher)
    steps = [
        ("terms", {"agreed_amount_fen": "1200", "mode": "assignment", "inventor_share": "70"}, "交易条件已更新"),
        ("intermediaries", {"intermediary_1": str(first.id), "share_1": "６０", "intermediary_2": str(second.id),
                            "share_2": "40%", "reward_rate": "20"}, "中介服务信息已保存"),
    ]
    with deal_clock(deal_recording.today() - timedelta(days=20)):  # the notice has run out today
        for path, data, message in steps:
            assert message in flashed_after(owner, owner.post(f"/deals/{deal.id}/{path}", data=data))
        refused = flashed_after(owner, owner.post(f"/deals/{deal.id}/notice", data={"notice_days": "15"}))
        assert "交易条件尚未经双方确认：受让方、中介服务人员赵中介、中介服务人员钱中介尚未确认" in refused
        for person in (world.buyer, first, second):
            assert "已确认交易条件" in accept_shown_terms(client_for(world.app, person), deal.id)
        assert "已开始公示" in flashed_after(owner, owner.post(f"/deals/{deal.id}/notice", data={"notice_days": "15"}))
    today = deal_recording.today().isoformat()
    signed = owner.post(f"/deals/{deal.id}/sign", data={"signed_on": today, "agreed_amount_fen": "1200"})
    assert "签约已登记，待受让方确认" in flashed_after(owner, signed)
    signing = db.session.scalar(select(DealSigning).where(DealSigning.deal_id == deal.id))
    buyer = client_for(world.app, world.buyer)
    assert f"/deals/signings/{signing.id}/confirm" in page_of(buyer.get(f"/deals/{deal.id}"))
    assert "签约已确认" in flashed_after(buyer, buyer.post(f"/deals/signings/{signing.id}/confirm", data={"reason": ""}))
    registered = owner.post(f"/deals/{deal.id}/register",
                            data={"registration_number": "2025140100000123", "registered_on": today,
                                  "certificate": (io.BytesIO(RECEIPT_PDF), "登记证明.pdf")})
    assert "技术合同登记已记录" in flashed_after(owner, registered)
    response = owner.post(f"/deals/{deal.id}/payments", data={"amount_fen": "600", "paid_on": today})
    page = flashed_after(owner, response)
    assert "回款已登记，等待另一方确认" in page and "另一方确认后才计算奖补" in page and "¥720,000.00" not in page
    payment = db.session.scalar(select(DealPayment).where(DealPayment.deal_id == deal.id))
    assert f"/deals/payments/{payment.id}/confirm" not in page  # the recorder is not offered a confirmation
    assert f"/deals/payments/{payment.id}/withdraw" in page
    refused = owner.post(f"/deals/payments/{payment.id}/confirm", data={"reason": ""})
    assert "不能确认自己登记的记录" in flashed_after(owner, refused)
    payer = client_for(world.app, world.buyer)
    assert f"/deals/payments/{payment.id}/confirm" in page_of(payer.get(f"/deals/{deal.id}"))
    page = flashed_after(payer, payer.post(f"/deals/payments/{payment.id}/confirm", data={"reason": ""}))
    assert "回款已确认" in page and "赵中介" in page and "¥720,000.00" in page and "已确认" in page
    db.session.expire_all()
    stored = db.session.get(Deal, deal.id)
    assert (stored.stage, stored.paid_fen) == (DealStage.PERFORMANCE, 600 * WAN)
    assert sorted(a.granted_fen for a in db.session.scalars(select(Award).where(Award.deal_id == deal.id))) == [
        48 * WAN, 72 * WAN]


def test_fourth_intermediary_is_refused_on_the_page_until_an_admin_records_an_exception(world, make_deal, make_user):
    brokers = [make_user("broker") for _n in range(4)]
    make_deal(DealStage.SIGNED, reward_rate_bp=1000, intermediaries=list(zip(brokers, (5000, 3000, 2000))))
    deal = make_deal(DealStage.NEGOTIATION)
    data = {"intermediary_1": str(brokers[3].id), "share_1": "100", "reward_rate": "10"}
    owner = client_for(world.app, world.researcher)
    before = snapshot(deal.id)
    response = owner.post(f"/deals/{deal.id}/intermediaries", data=data)
    assert response.status_code == 422
    assert "合计不得超过 3 人" in field_message(page_of(response), "intermediary_1")
    assert snapshot(deal.id) == before
    admin = client_for(world.app, world.admin)
    recorded = admin.post(f"/deals/{deal.id}/exception", data={"exception_reason": "原团队成员离职，新增一人接续服务"})
    assert "例外原因已记录" in flashed_after(admin, recorded)
    assert "中介服务信息已保存" in flashed_after(owner, owner.post(f"/deals/{deal.id}/intermediaries", data=data))
    assert [row.user_id for row in db.session.get(Deal, deal.id).intermediaries] == [brokers[3].id]


def test_a_broker_asks_from_the_deal_page_and_joins_when_both_parties_accept(world, make_deal):
    deal = make_deal(broker=None)
    broker = client_for(world.app, world.other_broker)
    assert "申请担任项目经纪人" in page_of(broker.get(f"/deals/{deal.id}"))
    assert "已提交申请，待转让方和受让方确认" in flashed_after(broker, broker.post(f"/deals/{deal.id}/broker/ask"))
    request = db.session.scalar(select(DealBrokerRequest).where(DealBrokerRequest.deal_id == deal.id))
    accept = f"/deals/{deal.id}/broker-requests/{request.id}/accept"
    assert accept not in page_of(broker.get(f"/deals/{deal.id}"))
    assert broker.post(accept).status_code == 403
    owner, buyer = client_for(world.app, world.researcher), client_for(world.app, world.buyer)
    assert accept in page_of(owner.get(f"/deals/{deal.id}"))
    assert "已确认，待其他各方确认" in flashed_after(owner, owner.post(accept))
    assert accept not in page_of(owner.get(f"/deals/{deal.id}"))
    assert db.session.get(Deal, deal.id).broker_id is None
    assert f"{world.other_broker.name} 已成为项目经纪人" in flashed_after(buyer, buyer.post(accept))
    db.session.expire_all()
    assert db.session.get(Deal, deal.id).broker_id == world.other_broker.id


def test_a_party_invites_from_the_deal_page_and_the_broker_declines_with_a_reason(world, make_deal):
    deal = make_deal(broker=None)
    owner = client_for(world.app, world.researcher)
    page = page_of(owner.get(f"/deals/{deal.id}"))
    assert "邀请项目经纪人" in page and "申请担任项目经纪人" not in page
    sent = owner.post(f"/deals/{deal.id}/broker/invite", data={"broker": str(world.other_broker.id)})
    assert "邀请已发出，待经纪人确认" in flashed_after(owner, sent)
    request = db.session.scalar(select(DealBrokerRequest).where(DealBrokerRequest.deal_id == deal.id))
    broker = client_for(world.app, world.other_broker)
    assert f"/deals/{deal.id}/broker-requests/{request.id}/decline" in page_of(broker.get(f"/deals/{deal.id}"))
    declined = broker.post(f"/deals/{deal.id}/broker-requests/{request.id}/decline", data={"reason": "近期档期已满"})
    assert "已拒绝" in flashed_after(broker, declined)
    db.session.expire_all()
    assert (db.session.get(DealBrokerRequest, request.id).status, db.session.get(Deal, deal.id).broker_id) == (
        "declined", None)
    assert "近期档期已满" in db.session.scalars(select(DealEvent.note).where(DealEvent.deal_id == deal.id)).all()[-1]


def test_a_party_removes_the_broker_from_the_deal_page(world, make_deal):
    deal = make_deal()
    buyer = client_for(world.app, world.buyer)
    refused = buyer.post(f"/deals/{deal.id}/broker/remove", data={"reason": ""})
    assert refused.status_code == 422 and "请填写移除原因" in field_message(page_of(refused), "reason")
    removed = buyer.post(f"/deals/{deal.id}/broker/remove", data={"reason": "经纪人长期未跟进"})
    assert "已移除项目经纪人" in flashed_after(buyer, removed)
    db.session.expire_all()
    assert db.session.get(Deal, deal.id).broker_id is None
    assert client_for(world.app, world.other_broker).post(f"/deals/{deal.id}/broker/remove",
                                                          data={"reason": "x"}).status_code == 403


def test_completing_marks_the_achievement_dealt(world, make_deal):
    deal = make_deal(DealStage.PERFORMANCE, paid_fen=200 * WAN)
    client = client_for(world.app, world.researcher)
    refused = client.post(f"/deals/{deal.id}/complete", data={"note": ""})
    assert refused.status_code == 422 and db.session.get(Deal, deal.id).stage == DealStage.PERFORMANCE
    completed = client.post(f"/deals/{deal.id}/complete", data={"note": "余款经受让方书面确认豁免"})
    assert "项目已完成" in flashed_after(client, completed)
    assert db.session.get(Deal, deal.id).stage == DealStage.COMPLETED
    assert db.session.get(type(world.achievement), world.achievement.id).status == "dealt"


# ---------------------------------------------------------------- lists and the board


def test_board_is_for_brokers_and_admins_with_a_column_per_stage(world, make_deal):
    deal = make_deal(DealStage.NOTICE)
    assert client_for(world.app, world.researcher).get("/deals/board").status_code == 403
    page = page_of(client_for(world.app, world.other_broker).get("/deals/board"))
    assert page.count('aria-labelledby="column-') == len(BOARD_STAGES)
    assert f'href="/deals/{deal.id}"' in page
    assert f'href="/deals/{deal.id}"' not in page_of(client_for(world.app, world.admin).get("/deals/board?broker=none"))


def test_deal_list_shows_the_organisations_deals_bids_and_responses(world, make_deal):
    deal = make_deal()
    bid = place_bid(db.session, world.buyer, world.achievement.id, amount_fen=80 * WAN, mode="assignment")
    page = page_of(client_for(world.app, world.researcher).get("/deals"))
    assert f'href="/deals/{deal.id}"' in page and f'href="/deals/bids/{bid.id}"' in page
    assert f'href="/deals/{deal.id}"' not in page_of(client_for(world.app, world.outsider).get("/deals"))


def test_listing_panel_offers_a_bid_to_companies_and_lists_bids_for_owners(world):
    template = '{% with listing=a, kind="achievement" %}{% include "deals/_listing_panel.html" %}{% endwith %}'
    with world.app.test_request_context("/achievements/1"):
        login_user(world.buyer)
        assert f"/deals/bids/new/{world.achievement.id}" in render_template_string(template, a=world.achievement)
    bid = place_bid(db.session, world.buyer, world.achievement.id, amount_fen=80 * WAN, mode="assignment")
    with world.app.test_request_context("/achievements/1"):
        login_user(world.researcher)
        assert f"/deals/bids/{bid.id}" in render_template_string(template, a=world.achievement)
    with world.app.test_request_context("/demands/1"):
        login_user(world.researcher)
        page = render_template_string(template.replace('"achievement"', '"demand"'), a=world.demand)
        assert f"/deals/responses/new/{world.demand.id}" in page


# ---------------------------------------------------------------- bad input on every deal form

MONEY_BAD = [("NaN", "格式不正确"), ("-5", "正负号"), ("99999999999", "上限"), ("١٢", "格式不正确"),
             ("1" * 41, "太长"), ("<b>5</b>", "格式不正确")]
PERCENT_BAD = [("NaN", "0 到 100"), ("-5", "0 到 100"), ("101", "不能超过 100%"), ("١٢", "0 到 100"),
               ("1" * 13, "太长"), ("<b>5</b>", "0 到 100"), ("12.345", "0 到 100")]
DATE_BAD = [("2025-13-01", "YYYY-MM-DD"), ("", "请填写"), ("<b>2025-01-01</b>", "YYYY-MM-DD"),
            ("٢٠٢٥-٠١-٠١", "YYYY-MM-DD"), ("2999-01-01", "不能晚于今天")]
TEXT_REQUIRED_BAD = [("", "请填写"), ("原" * 1001, "1000"), ("原因\x07", "控制字符")]


def form_case(form, stage, role, path, valid, field, bad_values):
    return [pytest.param(form, stage, role, path, valid, field, bad, message, id=f"{form}-{field}-{index}")
            for index, (bad, message) in enumerate(bad_values)]


CASES = (
    form_case("bid", None, "buyer", "/deals/bids/new/{achievement}", {"mode": "assignment"}, "amount_fen",
              MONEY_BAD + [("", "请填写金额")])
    + form_case("counter", "bid", "researcher", "/deals/bids/{bid}/counter", {"mode": "assignment"}, "amount_fen",
                MONEY_BAD + [("", "请填写金额")])
    + form_case("bid", None, "buyer", "/deals/bids/new/{achievement}", {"amount_fen": "5", "mode": "assignment"},
                "message", [("留" * 2001, "2000"), ("留言\x00", "控制字符")])
    + form_case("response", None, "researcher", "/deals/responses/new/{demand}", {"proposal": "方案"}, "amount_fen",
                MONEY_BAD)
    + form_case("response", None, "researcher", "/deals/responses/new/{demand}", {"amount_fen": "5"}, "proposal",
                [("", "必填"), ("方" * 5001, "5000"), ("  ", "必填"), ("方案\x07", "控制字符")])
    + form_case("response", None, "researcher", "/deals/responses/new/{demand}", {"proposal": "方案"},
                "achievement_id", [("abc", "本机构已发布的成果"), ("１", "本机构已发布的成果"),
                                   ("99999999", "本机构已发布的成果")])
    + form_case("terms", DealStage.NEGOTIATION, "buyer", "/deals/{deal}/terms", {"mode": "assignment"},
                "agreed_amount_fen", MONEY_BAD + [("0", "大于零")])
    + form_case("notice", DealStage.PRICING, "researcher", "/deals/{deal}/notice", {}, "notice_days",
                [("NaN", "15 到 90"), ("-5", "15 到 90"), ("99999", "15 到 90"), ("١٥", "15 到 90"), ("", "15 到 90"),
                 ("1" * 41, "15 到 90"), ("<b>15</b>", "15 到 90"), ("15.5", "15 到 90"), ("14", "15 到 90")])
    + form_case("sign", DealStage.NOTICE, "broker", "/deals/{deal}/sign", {"signed_on": "{today}"},
                "agreed_amount_fen", MONEY_BAD + [("", "请填写金额"), ("299", "公示价格")])
    + form_case("sign", DealStage.NOTICE, "broker", "/deals/{deal}/sign", {"agreed_amount_fen": "300"}, "signed_on",
                DATE_BAD)
    + form_case("register", DealStage.SIGNED, "researcher", "/deals/{deal}/register", {"registered_on": "{today}"},
                "registration_number", [("", "必填"), ("<b>12</b>", "字母、数字"), ("١٢٣٤٥", "字母、数字"),
                                        ("A" * 61, "60"), ("12", "4 到 60")])
    + form_case("register", DealStage.SIGNED, "researcher", "/deals/{deal}/register",
                {"registration_number": "2025-0001"}, "registered_on", DATE_BAD)
    + form_case("complete", DealStage.PERFORMANCE, "researcher", "/deals/{deal}/complete", {}, "note",
                TEXT_REQUIRED_BAD[1:] + [("", "说明完成原因")])
    + form_case("terminate", DealStage.NEGOTIATION, "buyer", "/deals/{deal}/terminate", {}, "reason",
                TEXT_REQUIRED_BAD)
    + form_case("intermediaries", DealStage.NEGOTIATION, "broker", "/deals/{deal}/intermediaries",
                {"intermediary_1": "{other_broker}", "reward_rate": "10"}, "share_1", PERCENT_BAD)
    + form_case("intermediaries", DealStage.NEGOTIATION, "broker", "/deals/{deal}/intermediaries",
                {"intermediary_1": "{other_broker}", "share_1": "100"}, "reward_rate", PERCENT_BAD)
    + form_case("intermediaries", DealStage.NEGOTIATION, "broker", "/deals/{deal}/intermediaries",
                {"share_1": "100", "reward_rate": "10"}, "intermediary_1",
                [("abc", "技术经理人"), ("١٢", "技术经理人"), ("１", "技术经理人"), ("{researcher}", "技术经理人"), ("99999999", "技术经理人")])
    + form_case("intermediaries", DealStage.NEGOTIATION, "broker", "/deals/{deal}/intermediaries",
                {"intermediary_1": "{other_broker}", "share_1": "60", "share_2": "40", "reward_rate": "10"},
                "intermediary_2", [("{other_broker}", "同一人不能重复填写"), ("", "请选择技术经理人")])
    + form_case("intermediaries", DealStage.NEGOTIATION, "broker", "/deals/{deal}/intermediaries",
                {"intermediary_1": "{other_broker}", "share_1": "60", "intermediary_2": "{broker}", "reward_rate": "10"},
                "share_2", [("", "请填写分成比例"), ("30", "合计须为 100%（当前 90%）")])
    + form_case("intermediaries", DealStage.NEGOTIATION, "broker", "/deals/{deal}/intermediaries", {"reward_rate": "10"},
                "agent_organisation", [("abc", "技术转移机构"), ("{buyer_organisation}", "技术转移机构")])
    + form_case("exception", DealStage.NEGOTIATION, "admin", "/deals/{deal}/exception", {}, "exception_reason",
                TEXT_REQUIRED_BAD + [("  ", "请填写例外原因"), ("\u200b", "可见的文字")])
    + form_case("invite", DealStage.NEGOTIATION, "researcher", "/deals/{deal}/broker/invite", {}, "broker",
                [("abc", "技术经理人"), ("{researcher}", "技术经理人"), ("١٢", "技术经理人"), ("99999999", "技术经理人"),
                 ("", "请选择技术经理人")])
    + form_case("propose", DealStage.NEGOTIATION, "admin", "/deals/{deal}/broker/propose", {}, "broker",
                [("abc", "技术经理人"), ("{researcher}", "技术经理人"), ("", "请选择技术经理人")])
    + form_case("remove_broker", DealStage.NEGOTIATION, "buyer", "/deals/{deal}/broker/remove", {}, "reason",
                TEXT_REQUIRED_BAD + [("  ", "请填写移除原因")])
    + form_case("payment", DealStage.PERFORMANCE, "researcher", "/deals/{deal}/payments", {"paid_on": "{today}"},
                "amount_fen", MONEY_BAD + [("", "请填写金额"), ("301", "超过合同金额")])
    + form_case("payment", DealStage.PERFORMANCE, "researcher", "/deals/{deal}/payments", {"amount_fen": "10"},
                "paid_on", DATE_BAD[:4] + [("2999-01-01", "不能晚于今天")])
)


@pytest.mark.parametrize("form, stage, role, path, valid, field, bad, message", CASES)
def test_bad_input_on_a_deal_form_is_shown_next_to_the_field_and_nothing_is_saved(
        world, make_deal, form, stage, role, path, valid, field, bad, message):
    ids = {"achievement": world.achievement.id, "demand": world.demand.id, "today": deal_recording.today().isoformat(),
           "other_broker": world.other_broker.id, "researcher": world.researcher.id, "broker": world.broker.id,
           "buyer_organisation": world.buyer.organisation_id}
    if stage == "bid":
        ids["bid"] = place_bid(db.session, world.buyer, world.achievement.id, amount_fen=80 * WAN,
                               mode="assignment").id
    elif form == "payment":
        deal = make_deal(DealStage.SIGNED)
        register_deal(db.session, world.researcher, deal.id, registration_number="2025-7777",
                      registered_on=deal_recording.today(), certificate=certificate())
        ids["deal"] = deal.id
    elif stage is not None:
        ids["deal"] = make_deal(stage, **({"broker": None} if form in ("invite", "propose") else {})).id
    data = {key: value.format(**ids) for key, value in {**valid, field: bad}.items()}
    before = snapshot(ids.get("deal"))
    response = client_for(world.app, getattr(world, role)).post(path.format(**ids), data=data)
    assert response.status_code == 422, page_of(response)[:500]
    assert message in field_message(page_of(response), field)
    assert snapshot(ids.get("deal")) == before


@pytest.mark.parametrize("form_class", [deal_forms.ResponseForm, deal_forms.IntermediariesForm,
                                        deal_forms.ExceptionForm, deal_forms.BrokerInvitationForm,
                                        deal_forms.BrokerRemovalForm])
def test_a_deal_form_shows_the_fields_and_limits_of_its_declared_input(app, form_class):
    with app.test_request_context():
        form = form_class(formdata=None)
    limits = declared_limits(form.declared_input())
    assert set(limits) <= set(form._fields)
    assert {name: (bool(form[name].flags.required), getattr(form[name].flags, "maxlength", None))
            for name in limits} == {name: (limit.required, limit.max_length) for name, limit in limits.items()}


def test_the_intermediaries_input_has_a_person_and_a_share_for_each_row():
    assert [name for name in IntermediariesInput.model_fields if name.startswith(("intermediary_", "share_"))] == [
        f"{field}_{number}" for number in range(1, MAX_INTERMEDIARY_ROWS + 1) for field in ("intermediary", "share")]


@pytest.mark.parametrize("form, path, data, check", [
    ("bid", "/deals/bids/new/{achievement}", {"amount_fen": "１２.５", "mode": "assignment"},
     lambda ids: db.session.scalar(select(BidVersion.amount_fen).order_by(BidVersion.id.desc()).limit(1)) == 12_500_000),
    ("notice", "/deals/{deal}/notice", {"notice_days": "１５"},
     lambda ids: db.session.get(Deal, ids["deal"]).notice_days == 15),
    ("intermediaries", "/deals/{deal}/intermediaries", {"intermediary_1": "{other_broker}", "share_1": "１００",
                                                         "reward_rate": "１２.５"},
     lambda ids: db.session.get(Deal, ids["deal"]).reward_rate_bp == 1250),
])
def test_full_width_digits_are_accepted(world, make_deal, form, path, data, check):
    ids = {"achievement": world.achievement.id, "deal": make_deal(DealStage.PRICING).id,
           "other_broker": world.other_broker.id}
    actor = world.buyer if form == "bid" else world.researcher
    response = client_for(world.app, actor).post(path.format(**ids),
                                                 data={k: v.format(**ids) for k, v in data.items()})
    assert response.status_code == 302
    db.session.expire_all()
    assert check(ids)


@pytest.mark.parametrize("app", [{"WTF_CSRF_ENABLED": True}], indirect=True)
def test_a_deal_form_without_its_csrf_token_saves_nothing(world, make_deal):
    deal = make_deal()
    client = world.app.test_client()
    login_page = page_of(client.get("/login"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    client.post("/login", data={"email": world.buyer.email, "password": PASSWORD, "csrf_token": token})
    before = snapshot(deal.id)
    response = client.post(f"/deals/{deal.id}/terminate", data={"reason": "不再合作"})
    assert response.status_code == 400
    assert snapshot(deal.id) == before


def test_a_payment_before_registration_is_explained_and_not_recorded(world, make_deal):
    deal = make_deal(DealStage.SIGNED)
    before = snapshot(deal.id)
    client = client_for(world.app, world.researcher)
    response = client.post(f"/deals/{deal.id}/payments", data={"amount_fen": "10", "paid_on": deal_recording.today().isoformat()})
    assert "技术合同登记后才能登记回款" in flashed_after(client, response)
    assert snapshot(deal.id) == before


@pytest.mark.parametrize("stage, role, form, page_data, target, body, field", [
    (DealStage.PRICING, "researcher", "notice", {"notice_days": "14"}, "notice", {"notice_days": 14}, "notice_days"),
    (DealStage.NOTICE, "broker", "sign", {"signed_on": "2999-01-01", "agreed_amount_fen": "300"}, "signed",
     {"signed_on": "2999-01-01", "agreed_amount_fen": 300 * WAN}, "signed_on"),
    (DealStage.SIGNED, "researcher", "register", {"registration_number": "<b>12</b>", "registered_on": "{today}"},
     "registered", {"registration_number": "<b>12</b>", "registered_on": "{today}"}, "registration_number"),
    (DealStage.SIGNED, "researcher", "register", {"registration_number": "SX-1", "registered_on": "2025-02-30"},
     "registered", {"registration_number": "SX-1", "registered_on": "2025-02-30"}, "registered_on"),
    (DealStage.NEGOTIATION, "buyer", "terminate", {"reason": "  "}, "terminated", {"reason": "  "}, "reason"),
])
def test_the_page_and_the_api_refuse_a_bad_move_with_the_same_message(
        world, make_deal, stage, role, form, page_data, target, body, field):
    deal = make_deal(stage)
    today = deal_recording.today().isoformat()
    actor = getattr(world, role)
    page = client_for(world.app, actor).post(f"/deals/{deal.id}/{form}",
                                             data={k: v.format(today=today) for k, v in page_data.items()})
    api_body = {"to": target, **{k: v.format(today=today) if isinstance(v, str) else v for k, v in body.items()}}
    answer = world.app.test_client().post(f"/api/v1/deals/{deal.id}/stage", json=api_body, headers=bearer(actor))
    assert (page.status_code, answer.status_code) == (422, 422)
    assert field_message(page_of(page), field) == answer.get_json()["fields"][field] != ""
