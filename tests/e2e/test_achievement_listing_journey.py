"""Journey: a researcher signs up, is approved, lists an achievement, an admin publishes it and a visitor finds it."""
import re

import pytest
from sqlalchemy import select

from market.accounts.models import ApprovalStatus, User
from market.achievements.models import Achievement
from market.listings.vocabulary import ListingStatus, PriceType, Stage, TransferMode

expect = pytest.importorskip("playwright.sync_api", reason="playwright not installed: pip install playwright").expect
pytestmark = pytest.mark.e2e

RESEARCHER_EMAIL = "wang.lei@tyut.example.edu.cn"
RESEARCHER_PASSWORD = "煤化工-Hydrogen-2025"
TITLE = "高炉煤气余热有机朗肯循环发电系统"


def test_registered_researcher_lists_achievement_that_admin_publishes_and_visitor_finds(
        open_page, make_organisation, make_user, sign_in, fresh_db, screenshot):
    university = make_organisation("university", name="太原理工大学")
    make_organisation("enterprise", name="太原重型机械集团")
    admin = make_user("admin")

    researcher_page = open_page()
    researcher_page.goto("/register")
    researcher_page.fill("input[name=email]", RESEARCHER_EMAIL)
    researcher_page.fill("input[name=name]", "王磊")
    researcher_page.fill("input[name=password]", RESEARCHER_PASSWORD)
    researcher_page.get_by_label("科研人员").check()
    researcher_page.get_by_label("加入已有机构").check()
    researcher_page.select_option("select[name=organisation_id]", label="太原理工大学")
    researcher_page.get_by_role("button", name="提交注册").click()
    researcher_page.wait_for_url("**/login")
    expect(researcher_page.locator(".alert-success")).to_contain_text("注册申请已提交")

    researcher = fresh_db().scalar(select(User).where(User.email == RESEARCHER_EMAIL))
    assert researcher.organisation_id == university.id
    assert researcher.membership_status == ApprovalStatus.PENDING

    admin_page = open_page()
    sign_in(admin_page, admin.email)
    admin_page.goto("/admin/members")
    member_row = admin_page.locator(f"#member-{researcher.id}")
    expect(member_row).to_contain_text("太原理工大学")
    expect(member_row).to_contain_text("科研人员")
    member_row.get_by_role("button", name="通过").click()
    expect(admin_page.locator(".alert-success")).to_contain_text("已处理")
    expect(admin_page.locator(f"#member-{researcher.id}")).to_have_count(0)
    assert fresh_db().get(User, researcher.id).membership_status == ApprovalStatus.APPROVED

    sign_in(researcher_page, RESEARCHER_EMAIL, RESEARCHER_PASSWORD)
    researcher_page.get_by_role("link", name="发布成果").click()
    researcher_page.wait_for_url("**/achievements/new")
    form = researcher_page.locator("#achievement-form")
    form.locator("[name=title]").fill(TITLE)
    form.locator("[name=summary]").fill("回收高炉煤气低品位余热，以有机工质驱动透平发电。")
    form.locator("[name=field]").select_option("energy")
    form.locator("[name=keywords]").fill("余热发电、有机朗肯循环、高炉煤气")
    form.locator("[name=description_public]").fill("热电转换效率12%，单机功率500千瓦。")
    form.locator("[name=description_confidential]").fill("工质配比与透平叶型参数。")
    form.locator("[name=trl]").select_option("7")
    form.locator("[name=stage]").select_option("pilot")
    form.locator("input[name=modes][value=license_ordinary]").check()
    form.locator("input[name=modes][value=equity]").check()
    form.locator("[name=price_type]").select_option("reference")
    form.locator("[name=price_min_fen]").fill("５０")
    form.locator("[name=price_max_fen]").fill("１２０.５")
    form.get_by_role("button", name="提交审核").click()

    researcher_page.wait_for_url(re.compile(r"/achievements/\d+$"))
    expect(researcher_page.locator(".alert-success")).to_contain_text("已提交审核")
    expect(researcher_page.locator("h1")).to_contain_text(TITLE)
    expect(researcher_page.locator(".badge", has_text="待审核")).to_be_visible()
    expect(researcher_page.locator("main")).to_contain_text("50万元 – 120.5万元")
    achievement_id = int(researcher_page.url.rsplit("/", 1)[1])

    listed = fresh_db().get(Achievement, achievement_id)
    assert listed.status == ListingStatus.PENDING
    assert (listed.price_min_fen, listed.price_max_fen) == (50_000_000, 120_500_000)
    assert listed.price_type == PriceType.REFERENCE
    assert (listed.trl, listed.stage, listed.field.code) == (7, Stage.PILOT, "energy")
    assert set(listed.modes) == {TransferMode.LICENSE_ORDINARY, TransferMode.EQUITY}
    assert listed.keywords == ["余热发电", "有机朗肯循环", "高炉煤气"]
    assert listed.submitter_id == researcher.id and listed.organisation_id == university.id

    admin_page.goto("/admin/review")
    queued = admin_page.locator(f"#review-achievement-{achievement_id}")
    expect(queued).to_contain_text(TITLE)
    expect(queued).to_contain_text("王磊")
    queued.get_by_role("button", name="通过并发布").click()
    expect(admin_page.locator(".alert-success")).to_contain_text("已审核通过并发布")
    expect(admin_page.locator(f"#review-achievement-{achievement_id}")).to_have_count(0)

    published = fresh_db().get(Achievement, achievement_id)
    assert published.status == ListingStatus.PUBLISHED
    assert published.published_at is not None

    visitor_page = open_page()
    visitor_page.goto("/")
    visitor_page.get_by_role("search").get_by_role("searchbox").fill("有机朗肯循环")
    visitor_page.get_by_role("search").get_by_role("button").click()
    expect(visitor_page.locator("#result-count")).to_contain_text("共 1 条")
    visitor_page.locator("article.listing-card h2 a").click()
    visitor_page.wait_for_url(f"**/achievements/{achievement_id}")
    expect(visitor_page.locator("h1")).to_contain_text(TITLE)
    expect(visitor_page.locator("main")).not_to_contain_text("工质配比与透平叶型参数")
    screenshot(visitor_page)
