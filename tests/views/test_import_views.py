"""The achievement import pages: who may use them, the template downloads, uploads and the error report."""
import csv
import html
import io
import re
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from market.achievements.models import Achievement
from market.extensions import db
from market.imports.models import ImportRun
from tests.import_sheets import HEADER, IMPORT_PAGE, count_achievements, csv_bytes, post_file, sheet_row, xlsx_bytes

PAGE = IMPORT_PAGE


def test_visitor_is_sent_to_login(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get(f"{PAGE}/template.xlsx").status_code == 302


def test_broker_is_forbidden_and_cannot_upload(client, login_as):
    login_as("broker")
    assert client.get(PAGE).status_code == 403
    assert post_file(client, csv_bytes([sheet_row(1)]), "a.csv").status_code == 403
    assert count_achievements() == 0


@pytest.mark.parametrize("role", ["researcher", "enterprise"])
def test_authors_see_the_upload_form(client, login_as, role):
    login_as(role)
    page = client.get(PAGE).get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and "导入后直接提交审核" in page
    assert 'href="/imports/achievements/template.xlsx"' in page


def test_admin_is_told_imports_go_through_the_organisation_and_nothing_is_saved(client, login_as):
    login_as("admin")
    response = client.get(PAGE)
    assert response.status_code == 200
    assert "平台管理员暂不能代机构批量导入" in response.get_data(as_text=True)
    response = post_file(client, csv_bytes([sheet_row(1)]), "a.csv")
    assert response.status_code == 403
    assert "平台管理员暂不能代机构批量导入" in response.get_data(as_text=True)
    assert count_achievements() == 0


def test_xlsx_template_download_reads_back_with_the_headers(client, login_as):
    login_as("researcher")
    response = client.get(f"{PAGE}/template.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
    assert book.sheetnames == ["科技成果", "填写说明"]
    assert list(next(book["科技成果"].iter_rows(values_only=True))) == HEADER


def test_csv_template_download_reads_back_with_the_headers(client, login_as):
    login_as("researcher")
    response = client.get(f"{PAGE}/template.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert next(csv.reader(io.StringIO(response.data.decode("utf-8-sig")))) == HEADER


def test_unknown_template_format_is_not_found(client, login_as):
    login_as("researcher")
    assert client.get(f"{PAGE}/template.pdf").status_code == 404


def test_good_xlsx_creates_drafts_and_its_run_page_says_so(client, login_as):
    user = login_as("researcher")
    response = post_file(client, xlsx_bytes([sheet_row(1), sheet_row(2)]), "成果.xlsx")
    run = db.session.scalar(select(ImportRun))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/imports/runs/{run.id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已导入 2 项成果，保存为草稿。" in page and 'href="/workspace"' in page and "http-equiv" not in page
    assert (run.status, run.created_count, run.stored_name) == ("imported", 2, None)
    achievements = db.session.scalars(select(Achievement).order_by(Achievement.id)).all()
    assert [a.status for a in achievements] == ["draft", "draft"]
    assert [a.source_key for a in achievements] == [f"{user.organisation_id}:SX-001", f"{user.organisation_id}:SX-002"]
    assert achievements[0].price_type == "floor" and achievements[0].price_min_fen == 35_500_000


def test_checkbox_sends_imported_achievements_straight_to_review(client, login_as):
    login_as("enterprise")
    response = post_file(client, csv_bytes([sheet_row(1)], encoding="gbk"), "成果.csv", submit_for_review="y")
    assert response.status_code == 302
    assert "已导入 1 项成果，并已提交审核。" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert db.session.scalar(select(Achievement.status)) == "pending"


def test_sheet_with_a_bad_row_shows_the_report_and_saves_nothing(client, login_as):
    login_as("researcher")
    response = post_file(client, xlsx_bytes([sheet_row(1), sheet_row(2, trl=9), sheet_row(3, price_min_fen="=1+1")]),
                         "成果.xlsx")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    table = page[page.index('id="import-problems"'):]
    assert "第 3 行" in table and "成熟度阶段" in table and "不一致" in table
    assert "第 4 行" in table and "价格下限" in table and "公式" in table
    assert "发现 2 处问题，未导入任何成果" in page
    assert count_achievements() == 0


def test_error_report_downloads_as_csv_with_formula_like_cells_defused(client, login_as):
    login_as("researcher")
    page = client.get(post_file(client, csv_bytes([sheet_row(1, title="")]), "a.csv").headers["Location"]).get_data(
        as_text=True)
    report = html.unescape(re.search(r'name="report" type="hidden" value="([^"]*)"', page).group(1))
    response = client.post(f"{PAGE}/errors.csv", data={"report": report})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows == [["行号", "列", "列名", "问题"], ["2", "B", "成果名称", "此项必填。"]]
    tampered = client.post(f"{PAGE}/errors.csv", data={"report": '[[2, "B", "x", "=cmd|calc"]]'})
    assert tampered.data.decode("utf-8-sig").splitlines()[1] == "2,B,x,'=cmd|calc"


@pytest.mark.parametrize("report", ["", "not json", '{"rows": 1}'])
def test_broken_error_report_request_is_a_bad_request(client, login_as, report):
    login_as("researcher")
    assert client.post(f"{PAGE}/errors.csv", data={"report": report}).status_code == 400


@pytest.mark.parametrize(("filename", "data", "message"), [
    ("成果.docx", b"PK\x03\x04 not a sheet", "只支持 .xlsx 或 .csv"),
    ("成果.csv", b"", "上传的文件是空的"),
    ("成果.csv", b"x" * (5 * 1024 * 1024 + 10), "文件超过 5 MB"),
])
def test_upload_refused_before_parsing_shows_the_message_under_the_file_field(client, login_as, filename, data,
                                                                               message):
    login_as("researcher")
    response = post_file(client, data, filename)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and "invalid-feedback" in page
    assert count_achievements() == 0 and db.session.scalar(select(ImportRun)) is None


@pytest.mark.parametrize(("filename", "data", "message"), [
    ("成果.xlsx", b"garbage", "文件已损坏"),
    ("成果.csv", "成果名称*,备注\n煤矸石,x\n".encode(), "缺少必填列"),
])
def test_sheet_the_job_cannot_read_is_refused_on_its_run_page(app, client, login_as, filename, data, message):
    login_as("researcher")
    response = post_file(client, data, filename)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert message in page and 'id="import-refused"' in page and "修改后重新上传" in page
    run = db.session.scalar(select(ImportRun))
    assert (run.status, run.stored_name) == ("refused", None)
    assert count_achievements() == 0 and not list((Path(app.config["UPLOAD_FOLDER"]) / "imports").iterdir())


def test_upload_without_a_file_asks_for_one(client, login_as):
    login_as("researcher")
    response = client.post(PAGE, data={}, content_type="multipart/form-data")
    assert response.status_code == 422 and "请选择文件。" in response.get_data(as_text=True)


def test_reimporting_the_same_sheet_reports_already_imported_rows(client, login_as):
    login_as("researcher")
    data = csv_bytes([sheet_row(1), sheet_row(2)])
    assert post_file(client, data, "a.csv").status_code == 302
    response = post_file(client, data, "a.csv")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    table = page[page.index('id="import-problems"'):]
    assert table.count("该成果编号已导入过") == 2
    assert count_achievements() == 2


def test_member_awaiting_approval_is_told_why_nothing_was_imported(client, make_user, login):
    login(make_user("researcher", membership_status="pending"))
    response = post_file(client, csv_bytes([sheet_row(1)]), "a.csv")
    assert response.status_code == 403
    assert "只有已审核机构的科研人员或企业用户可以发布科技成果" in response.get_data(as_text=True)
    assert count_achievements() == 0


def test_upload_needs_the_form_token(app, client, login_as):
    login_as("researcher")
    # Switched on after logging in: the test app context (and its cached token in g) outlives a login's new session.
    app.config["WTF_CSRF_ENABLED"] = True
    data = csv_bytes([sheet_row(1)])
    assert post_file(client, data, "a.csv").status_code == 400
    assert count_achievements() == 0
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(PAGE).get_data(as_text=True)).group(1)
    assert post_file(client, data, "a.csv", csrf_token=token).status_code == 302
    assert count_achievements() == 1


def test_run_page_shows_a_progress_bar_and_reloads_itself_while_the_job_works(client, login_as, monkeypatch):
    from market.jobs import queues

    login_as("researcher")
    monkeypatch.setattr(queues.ImmediateQueue, "enqueue", lambda self, name, kwargs, job_id: job_id)
    response = post_file(client, csv_bytes([sheet_row(1)]), "a.csv")
    run = db.session.scalar(select(ImportRun))
    assert (run.status, count_achievements()) == ("queued", 0)
    waiting = client.get(response.headers["Location"]).get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="2">' in waiting and "已排队" in waiting
    queue = queues.job_queue()
    queue._remember(queues.JobStatus(run.job_id, "imports.achievements", "started", (30, 120)))
    working = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="import-progress-bar" max="100" value="25"' in working and "已检查 25%" in working


def test_only_the_uploader_sees_a_run(client, login_as, make_user, login):
    login_as("researcher")
    location = post_file(client, csv_bytes([sheet_row(1)]), "a.csv").headers["Location"]
    login(make_user("researcher"))
    assert client.get(location).status_code == 404


def test_run_keeps_a_printable_file_name_without_folders(client, login_as):
    login_as("researcher")
    response = post_file(client, csv_bytes([sheet_row(1)]), "表格/成果\t\u202e清单.csv")
    assert response.status_code == 302
    assert db.session.scalar(select(ImportRun.filename)) == "成果清单.csv"
