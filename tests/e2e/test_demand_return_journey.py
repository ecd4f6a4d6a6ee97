"""Journey: an enterprise posts a demand, the admin returns it with a reason, the company fixes it and it is published."""
import re

import pytest
from sqlalchemy import select

from market.demands.models import Demand
from market.listings.models import ListingEvent
from market.listings.vocabulary import ListingStatus, ReturnReason, TransferMode

expect = pytest.importorskip("playwright.sync_api", reason="playwright not installed: pip install playwright").expect
pytestmark = pytest.mark.e2e

TITLE = "焦化废水深度处理与回用"
RETURN_COMMENT = "请补充进水水质指标和日处理量。"


def test_returned_demand_shows_reason_and_is_published_after_resubmission(
        open_page, make_organisation, make_user, sign_in, fresh_db, screenshot):
    company = make_organisation("enterprise", name="山西焦化集团有限公司", region="临汾市")
    enterprise_user = make_user("enterprise", organisation=company, name="李娜")
    admin = make_user("admin")

    company_page = open_page()
    sign_in(company_page, enterprise_user.email)
    company_page.get_by_role("link", name="发布需求").click()
    company_page.wait_for_url("**/demands/new")
    form = company_page.locator("#demand-form")
    form.locator("[name=title]").fill(TITLE)
    form.locator("[name=description]").fill("焦化废水经生化处理后COD仍偏高，需要深度处理技术，出水达到回用标准。")
    form.locator("[name=field]").select_option("energy.coal-clean")
    form.locator("[name=keywords]").fill("焦化废水，深度处理")
    form.locator("[name=budget_min_fen]").fill("３０")
    form.locator("[name=budget_max_fen]").fill("８０")
    form.locator("[name=wanted_trl_min]").select_option("6")
    form.locator("[name=deadline]").fill("2027-06-30")
    form.locator("input[name=modes][value=co_development]").check()
    form.get_by_role("button", name="提交审核").click()

    company_page.wait_for_url(re.compile(r"/demands/\d+$"))
    expect(company_page.locator(".alert-success")).to_contain_text("已提交审核")
    demand_id = int(company_page.url.rsplit("/", 1)[1])
    posted = fresh_db().get(Demand, demand_id)
    assert posted.status == ListingStatus.PENDING
    assert (posted.budget_min_fen, posted.budget_max_fen) == (30_000_000, 80_000_000)
    assert posted.wanted_trl_min == 6 and posted.deadline.isoformat() == "2027-06-30"
    assert set(posted.modes) == {TransferMode.CO_DEVELOPMENT}

    admin_page = open_page()
    sign_in(admin_page, admin.email)
    admin_page.goto("/admin/review")
    queued = admin_page.locator(f"#review-demand-{demand_id}")
    expect(queued).to_contain_text(TITLE)
    queued.locator("summary").click()
    queued.locator("select[name=reason]").select_option("incomplete")
    queued.locator("textarea[name=comment]").fill(RETURN_COMMENT)
    queued.get_by_role("button", name="退回").click()
    expect(admin_page.locator(".alert-info")).to_contain_text("已退回")
    returned = fresh_db().get(Demand, demand_id)
    assert returned.status == ListingStatus.RETURNED
    assert (returned.return_reason, returned.return_comment) == (ReturnReason.INCOMPLETE, RETURN_COMMENT)

    company_page.goto("/workspace")
    company_page.get_by_role("link", name="通知").click()
    notice = company_page.locator(".list-group-item", has_text=TITLE)
    expect(notice).to_contain_text("信息不完整")
    expect(notice).to_contain_text(RETURN_COMMENT)
    notice.get_by_role("link").click()
    company_page.wait_for_url(f"**/demands/{demand_id}")
    reason = company_page.locator(".alert-danger")
    expect(reason).to_contain_text("退回原因：信息不完整")
    expect(reason).to_contain_text(RETURN_COMMENT)

    company_page.get_by_role("link", name="编辑").click()
    company_page.wait_for_url(f"**/demands/{demand_id}/edit")
    description = form.locator("[name=description]")
    expect(description).to_have_value(re.compile("COD仍偏高"))
    expect(form.locator("[name=budget_min_fen]")).to_have_value("30")
    description.fill(description.input_value() + "\n进水COD约300mg/L，日处理量2000吨。")
    form.get_by_role("button", name="提交审核").click()
    company_page.wait_for_url(f"**/demands/{demand_id}")
    expect(company_page.locator(".badge", has_text="待审核")).to_be_visible()
    expect(company_page.locator(".alert-danger")).to_have_count(0)
    resubmitted = fresh_db().get(Demand, demand_id)
    assert resubmitted.status == ListingStatus.PENDING
    assert "日处理量2000吨" in resubmitted.description

    admin_page.goto("/admin/review")
    admin_page.locator(f"#review-demand-{demand_id}").get_by_role("button", name="通过并发布").click()
    expect(admin_page.locator(".alert-success")).to_contain_text("已审核通过并发布")

    company_page.reload()
    expect(company_page.locator(".badge", has_text="已发布")).to_be_visible()
    screenshot(company_page)
    session = fresh_db()
    assert session.get(Demand, demand_id).status == ListingStatus.PUBLISHED
    events = session.scalars(select(ListingEvent.action).where(ListingEvent.listing_id == demand_id,
                                                               ListingEvent.listing_kind == "demand")
                             .order_by(ListingEvent.id)).all()
    assert events == ["create", "submit", "return", "edit", "submit", "approve"]
