"""A broker's statement of his rewards from his money page: his awards only (an admin names any broker), with the deal,
its number and registration number, the payer, amounts, status and dates, and totals; Excel holds dates as dates and
yuan as numbers with two decimals; headings follow the reader's language."""
import csv
import io
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest

from market.awards import services as award_services
from market.extensions import db
from market.timeutil import today_in_china
from tests.payments import record_and_confirm_deal_payment

WAN = 1_000_000


@pytest.fixture
def statement_world(make_user, make_organisation, make_achievement, make_registered_deal):
    """A university's achievement sold for ¥12M to a 阳泉 company, the broker (60%) and another (40%) at 20%, the
    broker's agency as agent; ¥6M paid on 2025-04-30 earns R2 ¥720,000 / ¥480,000 and the agency R3 ¥300,000 (held);
    the broker's R2 award is approved and paid with voucher PZ-2025-001."""
    buyer = make_organisation("enterprise", region="阳泉市", valley_id="yangquan", resident_since=date(2024, 5, 1))
    broker, other, admin = make_user("broker"), make_user("broker"), make_user("admin")
    deal, researcher, _ = make_registered_deal(achievement=make_achievement(title="储氢材料转让"), transferee=buyer,
                                               shares=(6000, 4000), brokers=[broker, other], agent=broker.organisation)
    _, awards = record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=date(2025, 4, 30))
    mine = next(a for a in awards if a.recipient == award_services.person_key(broker.id))
    award_services.approve_award(db.session, admin, mine.id)
    award_services.pay_award(db.session, admin, mine.id, voucher_reference="PZ-2025-001",
                             paid_on=today_in_china().isoformat())
    db.session.commit()
    return {"deal": deal, "broker": broker, "other": other, "admin": admin, "researcher": researcher}


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_the_broker_exports_his_rewards_with_totals_as_csv(client, login, statement_world):
    deal, broker = statement_world["deal"], statement_world["broker"]
    login(broker)
    response = client.get("/money/statement.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    header, *rows = read_csv(response)
    assert header == ["项目", "项目编号", "登记编号", "出资方", "规则", "计算金额（元）", "核定金额（元）", "状态", "事件日期",
                      "审批日期", "发放日期", "付款凭证号"]
    today = today_in_china().isoformat()
    transferor = f"{deal.transferor.name}（转化收益）"
    assert rows[0] == [deal.title, str(deal.id), deal.registration_number, transferor, "R2", "720000.00", "720000.00",
                       "已发放", "2025-04-30", today, today, "PZ-2025-001"]
    assert rows[1] == [deal.title, str(deal.id), deal.registration_number, "阳泉市财政", "R3", "300000.00", "300000.00",
                       "暂缓发放", "2025-04-30", "", "", ""]
    assert rows[2][0].startswith("合计") and rows[2][5:7] == ["1020000.00", "1020000.00"]
    assert rows[3][0] == "其中已发放" and rows[3][6] == "720000.00"
    assert len(rows) == 4


def test_the_excel_statement_holds_dates_as_dates_and_yuan_as_two_decimal_numbers(client, login, statement_world):
    deal = statement_world["deal"]
    login(statement_world["broker"])
    response = client.get("/money/statement.xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(min_row=2))
    first = {sheet.cell(row=1, column=cell.column).value: cell for cell in rows[0]}
    assert first["项目"].value == deal.title and first["登记编号"].value == deal.registration_number
    assert first["项目编号"].value == str(deal.id) and first["付款凭证号"].value == "PZ-2025-001"
    for name, fen in (("计算金额（元）", 72_000_000), ("核定金额（元）", 72_000_000)):
        cell = first[name]
        assert cell.data_type == "n" and cell.number_format == "#,##0.00"
        assert Decimal(str(cell.value)) * 100 == fen
    for name, day in (("事件日期", date(2025, 4, 30)), ("审批日期", today_in_china()), ("发放日期", today_in_china())):
        cell = first[name]
        assert cell.is_date and isinstance(cell.value, datetime) and cell.value.date() == day
    totals = rows[2]
    assert Decimal(str(totals[6].value)) == Decimal(1020000) and totals[6].number_format == "#,##0.00"
    assert rows[1][9].value is None  # the held award has no approval date
    assert len(rows) == 4


def test_headings_follow_the_readers_language(client, login, statement_world):
    broker = statement_world["broker"]
    broker.locale = "en"
    db.session.commit()
    login(broker)
    header = read_csv(client.get("/money/statement.csv"))[0]
    assert {"Rule", "Event date", "Registration number", "Status", "Payout date", "Voucher number"} <= set(header)
    sheet = openpyxl.load_workbook(io.BytesIO(client.get("/money/statement.xlsx").get_data())).active
    assert sheet.cell(row=1, column=5).value == "Rule" and sheet.cell(row=2, column=8).value == "Paid"


def test_another_broker_gets_only_his_own_statement(client, login, statement_world):
    other, broker = statement_world["other"], statement_world["broker"]
    login(other)
    rows = read_csv(client.get("/money/statement.csv"))[1:]
    assert [row[4] for row in rows[:-2]] == ["R2"] and rows[0][6] == "480000.00"
    assert client.get(f"/money/statement.csv?broker={broker.id}").status_code == 404


def test_an_admin_exports_any_brokers_statement(client, login, statement_world):
    login(statement_world["admin"])
    rows = read_csv(client.get(f"/money/statement.csv?broker={statement_world['broker'].id}"))[1:]
    assert [row[4] for row in rows[:-2]] == ["R2", "R3"]
    assert client.get("/money/statement.csv").status_code == 404
    assert client.get(f"/money/statement.csv?broker={statement_world['researcher'].id}").status_code == 404
    for bad in ("abc", "0", "-1", "１", "99999999"):
        assert client.get(f"/money/statement.xlsx?broker={bad}").status_code == 404


@pytest.mark.parametrize("who", ["researcher"])
def test_others_have_no_statement(client, login, statement_world, who):
    login(statement_world[who])
    assert client.get("/money/statement.csv").status_code == 404


def test_visitors_are_sent_to_log_in_and_unknown_formats_are_not_found(client, login, statement_world):
    assert client.get("/money/statement.csv").status_code == 302
    login(statement_world["broker"])
    assert client.get("/money/statement.pdf").status_code == 404


def test_the_brokers_money_page_offers_the_statement(client, login, statement_world):
    login(statement_world["broker"])
    page = client.get("/money/mine").get_data(as_text=True)
    assert 'href="/money/statement.csv"' in page and 'href="/money/statement.xlsx"' in page


def test_the_admins_award_list_offers_each_brokers_statement(client, login, statement_world):
    login(statement_world["admin"])
    page = client.get("/money/awards").get_data(as_text=True)
    start = page.index('<form method="get" action="/money/statement.xlsx"')
    form = page[start:page.index("</form>", start)]
    assert 'id="statement-export"' in form
    assert f'<option value="{statement_world["broker"].id}">' in form
    assert f'<option value="{statement_world["researcher"].id}">' not in form
