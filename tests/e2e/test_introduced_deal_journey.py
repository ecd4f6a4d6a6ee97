"""Journey: a broker introduces a university's achievement to a company's demand; both sides accept, and in three
browsers the university, the company and the broker take the deal to 完成 through the pages (terms with the broker's
share and his 佣金, public notice, signing, the registration certificate an admin verifies, the proceeds with their
bank receipt); an admin approves the reward, the company marks the fee paid, and the broker sees his reward, his fee
and the room left under the caps."""
from datetime import timedelta

import pytest

from market.accounts.models import VerificationStatus
from market.awards.models import Award
from market.deals.models import Deal, DealStage, Introduction
from market.deals.recording import today
from tests.conftest import ACHIEVEMENT_INPUT, HYDROGEN, HYDROGEN_NEED, deal_clock
from tests.e2e.conftest import PHONE
from tests.payments import RECEIPT_PDF

expect = pytest.importorskip("playwright.sync_api", reason="playwright not installed: pip install playwright").expect
pytestmark = pytest.mark.e2e

SECRET = ACHIEVEMENT_INPUT["description_confidential"]
PRICE_WAN = 100
"""The agreed price: ¥1,000,000."""
WAN = 1_000_000
"""¥10,000 in fen."""
REGISTRATION_NUMBER = "140101-2026-JC-0042"


def _pdf(name: str) -> dict:
    return {"name": name, "mimeType": "application/pdf", "buffer": RECEIPT_PDF}


def _page_width(page) -> int:
    """The page's width once its stylesheets apply (a table wider than a phone scrolls inside its own box)."""
    page.wait_for_load_state("load")
    return page.evaluate("document.documentElement.scrollWidth")


def _form(page, deal_id: int, action: str):
    """The deal page's form posting to /deals/<id>/<action>."""
    return page.locator(f"form[action='/deals/{deal_id}/{action}']")


def _open_deal(page, deal_id: int) -> None:
    page.goto(f"/deals/{deal_id}")
    expect(page.locator("h1")).to_be_visible()


# --- steps ------------------------------------------------------------------------------------------------------------

def introduce_from_the_match_list(page, demand_id: int, achievement_id: int) -> None:
    page.goto(f"/demands/{demand_id}/matches")
    page.locator(f"#match-{demand_id}-{achievement_id} .match-introduce").click()
    page.wait_for_url(f"**/introductions/new/{achievement_id}**")
    page.fill("textarea[name=note]", "贵方的制氢提纯需求与该成果的变压吸附工艺高度契合，建议尽快对接。")
    page.locator("main form.introduction-form button[type=submit]").click()
    page.wait_for_url("**/introductions/*")
    expect(page.locator("main")).to_contain_text("等待成果方、需求方答复")


def accept_introduction(page, introduction_id: int) -> None:
    page.goto(f"/introductions/{introduction_id}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="接受引荐").click()


def read_the_confidential_part(page, achievement_id: int) -> None:
    """The company, now a counterparty, acknowledges confidentiality and reads the achievement's confidential part."""
    page.goto(f"/achievements/{achievement_id}")
    expect(page.locator("main")).not_to_contain_text(SECRET)
    page.locator("#confidentiality-accepted").check()
    page.get_by_role("button", name="确认并查看保密信息").click()
    expect(page.locator("main")).to_contain_text(SECRET)


def advance(page, deal_id: int, stage_label: str) -> None:
    _open_deal(page, deal_id)
    _form(page, deal_id, "advance").get_by_role("button").click()
    expect(page.locator("[aria-current=step]")).to_have_text(stage_label)


def set_price_mode_and_inventor_share(page, deal_id: int) -> None:
    _open_deal(page, deal_id)
    form = _form(page, deal_id, "terms")
    page.locator("#actions summary", has_text="修改交易条件").click()
    form.locator("[name=agreed_amount_fen]").fill(str(PRICE_WAN))
    form.locator("[name=mode]").select_option("assignment")
    form.locator("[name=inventor_share]").fill("70")
    form.get_by_role("button", name="保存").click()
    expect(page.locator("#inventor-share")).to_contain_text("70")


def name_the_broker_as_intermediary(page, deal_id: int, broker_id: int, reward_rate: str) -> None:
    _open_deal(page, deal_id)
    form = _form(page, deal_id, "intermediaries")
    page.locator("#intermediaries summary", has_text="修改中介服务信息").click()
    form.locator("[name=intermediary_1]").select_option(str(broker_id))
    form.locator("[name=share_1]").fill("100")
    form.locator("[name=reward_rate]").fill(reward_rate)
    form.get_by_role("button", name="保存中介服务信息").click()
    expect(page.locator("#intermediaries")).to_contain_text(f"奖励比例：{reward_rate}%")


def agree_the_fee(page, deal_id: int, rate: str) -> None:
    _open_deal(page, deal_id)
    form = _form(page, deal_id, "fee")
    page.locator("#edit-fee summary").click()
    form.locator("[name=fee_rate]").fill(rate)
    form.locator("[name=fee_payer]").select_option("transferee")
    form.get_by_role("button", name="保存佣金").click()
    expect(page.locator("#fee")).to_contain_text(f"合同金额的 {rate}%，由受让方支付")


def accept_the_terms(page, deal_id: int) -> None:
    """A party accepts the current version (whoever changed the terms last accepted that version with the change)."""
    _open_deal(page, deal_id)
    page.locator("#accept-terms button").click()
    expect(page.locator("#accept-terms")).to_have_count(0)


def start_the_notice(page, deal_id: int) -> None:
    _open_deal(page, deal_id)
    form = _form(page, deal_id, "notice")
    form.locator("[name=notice_days]").fill("15")
    form.get_by_role("button", name="发布公示").click()
    expect(page.locator("[aria-current=step]")).to_have_text("公示")


def record_the_signing(page, deal_id: int) -> None:
    _open_deal(page, deal_id)
    form = _form(page, deal_id, "sign")
    form.locator("[name=signed_on]").fill(today().isoformat())
    form.locator("[name=agreed_amount_fen]").fill(str(PRICE_WAN))
    form.get_by_role("button", name="登记签约").click()
    expect(page.locator("#signing")).to_contain_text("待受让方确认")


def confirm(page, section: str) -> None:
    """Press 确认 on the one record in a section (the signing, the payments) waiting for the viewer."""
    page.locator(section).get_by_role("button", name="确认", exact=True).click()


def register_the_contract(page, deal_id: int, number: str) -> None:
    _open_deal(page, deal_id)
    form = _form(page, deal_id, "register")
    form.locator("[name=registration_number]").fill(number)
    form.locator("[name=registered_on]").fill(today().isoformat())
    form.locator("[name=certificate]").set_input_files(_pdf("技术合同登记证明.pdf"))
    form.get_by_role("button", name="记录登记").click()
    expect(page.locator("#registrations + dd")).to_contain_text("技术合同登记证明.pdf")


def verify_the_registration(page, number: str) -> None:
    page.goto("/admin/registrations")
    card = page.locator(".card", has_text=number)
    expect(card).to_contain_text("技术合同登记证明.pdf")
    card.get_by_role("button", name="核验通过").click()
    expect(page.locator("main")).not_to_contain_text(number)


def record_the_proceeds(page, deal_id: int) -> None:
    _open_deal(page, deal_id)
    form = _form(page, deal_id, "payments")
    form.locator("[name=amount_fen]").fill(str(PRICE_WAN))
    form.locator("[name=paid_on]").fill(today().isoformat())
    form.locator("[name=evidence]").set_input_files(_pdf("银行回单.pdf"))
    form.get_by_role("button", name="登记回款").click()
    expect(page.locator("#payments")).to_contain_text("银行回单.pdf")


def approve_the_award(page, award_id: int) -> None:
    page.goto("/money/awards")
    page.locator(f"#award-{award_id}").get_by_role("button", name="审批").click()
    expect(page.locator(f"#award-{award_id}")).to_have_attribute("data-status", "approved")


def mark_the_fee_paid(page, deal_id: int, amount_wan: str) -> None:
    _open_deal(page, deal_id)
    form = _form(page, deal_id, "fee/paid")
    form.locator("[name=amount_fen]").fill(amount_wan)
    form.locator("[name=paid_on]").fill(today().isoformat())
    form.get_by_role("button", name="标记已支付").click()
    expect(page.locator("#fee .text-success")).to_contain_text("已支付 ¥")


# --- the journey ------------------------------------------------------------------------------------------------------

@pytest.fixture
def parties(make_user, make_organisation, make_achievement, make_demand):
    """A verified university's researcher with a hydrogen achievement, a verified company with a matching demand, a
    broker of a verified agency and an admin (with an authenticator)."""
    verified = {"verification_status": VerificationStatus.VERIFIED}
    admin = make_user("admin", name="平台运营")
    researcher = make_user("researcher", name="李教授",
                           organisation=make_organisation("university", name="太原理工大学", **verified))
    buyer = make_user("enterprise", name="王总", organisation=make_organisation("enterprise", name="晋能氢能科技有限公司",
                                                                              **verified))
    broker = make_user("broker", name="赵经理", organisation=make_organisation("agency", name="山西技术转移中心", **verified))
    achievement = make_achievement(owner=researcher, **HYDROGEN)
    demand = make_demand(owner=buyer, **HYDROGEN_NEED)
    return admin, researcher, buyer, broker, achievement, demand


def test_an_introduced_deal_goes_to_completion_and_the_broker_sees_his_money(open_page, sign_in, parties, fresh_db,
                                                                            screenshot):
    admin, researcher, buyer, broker, achievement, demand = parties
    agent, university = open_page(), open_page()
    company = open_page(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    for page, person in ((agent, broker), (university, researcher), (company, buyer)):
        sign_in(page, person.email)

    introduce_from_the_match_list(agent, demand.id, achievement.id)
    introduction = fresh_db().scalar(fresh_db().query(Introduction).statement)
    accept_introduction(university, introduction.id)
    expect(university.locator("main")).to_contain_text("已接受引荐")
    accept_introduction(company, introduction.id)
    company.wait_for_url("**/deals/*")  # both sides accepted: the deal opened
    deal = fresh_db().get(Introduction, introduction.id).deal
    assert (deal.stage, deal.broker_id) == (DealStage.INTENT, broker.id)
    read_the_confidential_part(company, achievement.id)

    _open_deal(agent, deal.id)
    expect(agent.locator("[aria-current=step]")).to_have_text("意向")
    expect(agent.locator("#terms-title + dl")).to_contain_text("赵经理")
    screenshot(agent, "intent-1280")
    advance(company, deal.id, "洽谈")
    advance(university, deal.id, "协议定价")

    set_price_mode_and_inventor_share(university, deal.id)
    name_the_broker_as_intermediary(university, deal.id, broker.id, "10")
    agree_the_fee(agent, deal.id, "5")
    expect(agent.locator("#terms-acceptance")).to_contain_text("中介服务人员赵经理：已确认")
    for page in (university, company):
        accept_the_terms(page, deal.id)
    _open_deal(university, deal.id)
    expect(university.locator("#terms-acceptance .text-success")).to_have_count(3)
    screenshot(university, "terms-accepted-1280")

    with deal_clock(today() - timedelta(days=20)):  # a notice of 15 days that started 20 days ago has ended
        start_the_notice(university, deal.id)
    record_the_signing(university, deal.id)
    _open_deal(company, deal.id)
    confirm(company, "#signing")
    expect(company.locator("[aria-current=step]")).to_have_text("签约")
    assert _page_width(company) <= PHONE["width"]
    screenshot(company, "signed-390")

    register_the_contract(university, deal.id, REGISTRATION_NUMBER)
    admin_page = open_page()
    sign_in(admin_page, admin.email)  # with the code of his authenticator
    verify_the_registration(admin_page, REGISTRATION_NUMBER)
    _open_deal(university, deal.id)
    expect(university.locator("#registrations + dd")).to_contain_text("已核验")

    record_the_proceeds(company, deal.id)
    assert _page_width(company) <= PHONE["width"]
    _open_deal(university, deal.id)
    confirm(university, "#payments")
    expect(university.locator("[aria-current=step]")).to_have_text("完成")  # the full price is paid: the deal closes
    expect(university.locator("#actions")).to_contain_text("项目已完成")
    screenshot(university, "completed-1280")

    award = fresh_db().scalar(fresh_db().query(Award).filter_by(deal_id=deal.id, recipient=f"user-{broker.id}")
                              .statement)
    assert (award.rule, award.granted_fen, award.status) == ("R2", 10 * WAN, "payable")  # 10% of ¥1M to the broker
    approve_the_award(admin_page, award.id)
    mark_the_fee_paid(company, deal.id, "5")  # 5% of ¥1M

    agent.goto("/money/mine")
    reward = agent.locator(f"#own-award-{award.id}")
    expect(reward).to_contain_text("¥100,000.00")
    expect(reward).to_contain_text("已审批待发放")
    fee = agent.locator("#fees tr", has_text=deal.title)
    expect(fee).to_contain_text("合同金额的 5%，由受让方支付")
    expect(fee).to_contain_text("已支付 ¥50,000.00")
    screenshot(agent, "money-1280")
    _open_deal(agent, deal.id)
    room = agent.locator("#money-outlook .cap-room[data-rule=R2]")
    expect(room).to_have_attribute("data-used-fen", str(10 * WAN))
    expect(room.locator(".cap-room-left")).to_have_text("¥1,900,000.00")  # ¥2M per achievement less ¥100,000
    expect(agent.locator("#try-payment")).to_have_count(0)  # nothing left to try on a closed deal
    screenshot(agent, "deal-completed-1280")

    phone = open_page(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    sign_in(phone, broker.email)
    phone.goto("/money/mine")
    expect(phone.locator("#fees")).to_contain_text("已支付")
    assert _page_width(phone) <= PHONE["width"]
    screenshot(phone, "money-390")
    assert fresh_db().get(Deal, deal.id).stage == DealStage.COMPLETED
