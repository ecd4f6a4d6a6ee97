"""Bulk import of achievements: sheets in, every row checked by the achievement rules, all rows created or none."""
import csv
import io
import re
import zipfile

import openpyxl
import pytest
from sqlalchemy import func, select

from market.achievements.models import Achievement
from market.errors import PermissionDeniedError, ValidationError
from market.extensions import db
from market.imports import services, sheets
from market.imports.services import COLUMNS, SheetRowsError, import_achievements
from market.listings.models import ListingEvent
from tests.import_sheets import HEADER, KEYS, count_achievements, csv_bytes, xlsx_bytes

GOOD = {
    "source_code": "TY-2024-001",
    "title": "焦炉煤气变压吸附制氢工艺",
    "summary": "以焦炉煤气为原料，变压吸附制取高纯氢。",
    "description_public": "氢气纯度 99.999%。",
    "description_confidential": "吸附剂配方。",
    "keywords": "焦炉煤气、制氢",
    "field": "energy.hydrogen",
    "trl": 6,
    "stage": "中试",
    "ip_items": "ZL202110345678.2 发明专利;2023SR0123456 软件著作权",
    "modes": "转让、独占许可",
    "price_type": "参考价",
    "price_min_fen": 80,
    "price_max_fen": "200.5",
    "owners": "太原理工大学 60;山西焦化集团有限公司 40",
    "inventors": "张明、李华",
    "benefits": "回收率高。",
    "scenarios": "焦化企业。",
}


def good_row(number: int = 1, **changes) -> list:
    """A valid sheet row in template column order; `number` makes the 编号 and title unique."""
    values = {**GOOD, "source_code": f"TY-2024-{number:03d}", "title": f"{GOOD['title']}{number}号", **changes}
    return [values[key] for key in KEYS]


def with_cell_xml(data: bytes, ref: str, cell_xml: str) -> bytes:
    """The workbook with one cell of the first sheet replaced by raw XML (what Excel writes, openpyxl cannot)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                content, count = re.subn(rf'<c r="{ref}"[^>]*?(/>|>.*?</c>)'.encode(), cell_xml.encode(), content)
                assert count == 1
            target.writestr(info, content)
    return out.getvalue()


@pytest.fixture
def researcher(make_user):
    return make_user("researcher")


def test_template_xlsx_reads_back_with_headers_example_and_allowed_values(app):
    book = openpyxl.load_workbook(io.BytesIO(services.achievement_template_xlsx(db.session)))
    fill_in, guide = book.worksheets
    assert fill_in.title == "科技成果" and guide.title == "填写说明"
    rows = list(fill_in.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER
    assert rows[0][:3] == ("成果编号(可选)", "成果名称*", "成果简介*")
    assert rows[1][0] == "示例" and rows[1][KEYS.index("trl")] == 6
    reference = {cell for row in guide.iter_rows(values_only=True) for cell in row if cell}
    assert {"energy.hydrogen", "氢能", "中试", "pilot", "独占许可", "面议", "软件著作权"} <= reference


def test_template_csv_reads_back_with_bom_and_headers(app):
    data = services.achievement_template_csv()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == HEADER
    assert rows[1][0] == "示例"


def test_untouched_template_is_refused_because_the_example_row_is_skipped(app, researcher):
    data = services.achievement_template_xlsx(db.session)
    with pytest.raises(ValidationError, match="没有可导入的成果行"):
        import_achievements(db.session, researcher, filename="模板.xlsx", data=data, submit=False)
    assert count_achievements() == 0


def test_good_xlsx_imports_every_row_as_a_draft_with_exact_values(app, researcher):
    data = xlsx_bytes([good_row(1), good_row(2, price_type="面议", price_min_fen=None, price_max_fen=None,
                                                owners=None, stage="pilot", modes="assignment、技术服务")])
    created = import_achievements(db.session, researcher, filename="成果.xlsx", data=data, submit=False)
    assert len(created) == 2 and count_achievements() == 2
    first = db.session.scalar(select(Achievement).where(Achievement.title == "焦炉煤气变压吸附制氢工艺1号"))
    assert first.status == "draft"
    assert first.organisation_id == researcher.organisation_id and first.submitter_id == researcher.id
    assert first.source_key == f"{researcher.organisation_id}:TY-2024-001"
    assert first.field.code == "energy.hydrogen" and first.trl == 6 and first.stage == "pilot"
    assert first.price_type == "reference"
    assert first.price_min_fen == 80_000_000 and first.price_max_fen == 200_500_000
    assert [mode.value for mode in first.modes] == ["assignment", "license_exclusive"]
    assert first.keywords == ["焦炉煤气", "制氢"] and first.inventors == ["张明", "李华"]
    assert first.ip_items == [{"number": "ZL202110345678.2", "kind": "invention_patent"},
                              {"number": "2023SR0123456", "kind": "software_copyright"}]
    assert first.owners == [{"name": "太原理工大学", "share_bp": 6000}, {"name": "山西焦化集团有限公司", "share_bp": 4000}]
    assert first.description_confidential == "吸附剂配方。"
    second = db.session.scalar(select(Achievement).where(Achievement.title == "焦炉煤气变压吸附制氢工艺2号"))
    assert second.price_min_fen is None and second.price_type == "negotiable"
    assert [mode.value for mode in second.modes] == ["assignment", "tech_service"]
    assert second.owners == [{"name": researcher.organisation.name, "share_bp": 10000}]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk"])
def test_good_csv_imports_every_row_straight_to_review(app, researcher, encoding):
    data = csv_bytes([good_row(1), good_row(2, price_min_fen="1,234.5", price_max_fen="２０００")], encoding=encoding)
    created = import_achievements(db.session, researcher, filename="成果.CSV", data=data, submit=True)
    assert [achievement.status for achievement in created] == ["pending", "pending"]
    assert count_achievements() == 2
    second = db.session.scalar(select(Achievement).where(Achievement.source_key.endswith(":TY-2024-002")))
    assert second.title == "焦炉煤气变压吸附制氢工艺2号"
    assert second.price_min_fen == 1_234_500_000 and second.price_max_fen == 2_000_000_000
    submitted = db.session.scalar(select(func.count()).select_from(ListingEvent).where(ListingEvent.action == "submit"))
    assert submitted == 2


def test_columns_may_come_in_any_order_and_optional_ones_may_be_left_out(app, researcher):
    keys = ["trl", "title", "stage", "summary", "field", "modes", "price_type"]
    header = [COLUMNS[KEYS.index(key)].header for key in keys]
    row = [6, "煤矸石制备陶粒", "pilot", "用煤矸石烧制轻质陶粒。", "能源和新能源", "转让", "面议"]
    created = import_achievements(db.session, researcher, filename="a.csv", data=csv_bytes([row], header), submit=False)
    assert created[0].field.code == "energy" and created[0].source_key is None


def test_one_bad_row_imports_nothing_and_reports_its_row_column_and_message(app, researcher):
    data = xlsx_bytes([good_row(1), good_row(2, trl=3), good_row(3)])
    with pytest.raises(SheetRowsError) as caught:
        import_achievements(db.session, researcher, filename="成果.xlsx", data=data, submit=False)
    assert count_achievements() == 0
    assert [(p.row, p.letter, p.column) for p in caught.value.problems] == [(3, "I", "成熟度阶段")]
    assert "不一致" in caught.value.problems[0].message
    assert caught.value.row_count == 3


def test_every_problem_of_a_row_is_reported_in_column_order(app, researcher):
    data = xlsx_bytes([good_row(1, title="", field="火星", price_min_fen="abc")])
    with pytest.raises(SheetRowsError) as caught:
        import_achievements(db.session, researcher, filename="成果.xlsx", data=data, submit=False)
    assert [(p.letter, p.column) for p in caught.value.problems] == [("B", "成果名称"), ("G", "所属领域代码"),
                                                                     ("M", "价格下限")]


BAD_FILES = [
    ("not a sheet", "说明.pdf", b"%PDF-1.7\n...", "只支持 .xlsx 或 .csv"),
    ("legacy xls", "成果.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".xls"),
    ("xls content named xlsx", "成果.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".xls"),
    ("xlsx that is no zip", "成果.xlsx", b"this is not a workbook", "文件已损坏"),
    ("zip that is no workbook", "成果.xlsx", None, "文件已损坏"),
    ("empty file", "成果.csv", b"", "空的"),
    ("only blank lines", "成果.csv", b"\r\n , ,\r\n\r\n", "没有内容"),
    ("oversized", "成果.csv", b"a" * (5 * 1024 * 1024 + 1), "5 MB"),
    ("binary named csv", "成果.csv", b"\x00\x01\x02\x03" * 10, "不是 CSV"),
    ("workbook named csv", "成果.csv", b"PK\x03\x04" + b"\x00" * 50, ".xlsx"),
    ("unpaired quote", "成果.csv", None, "CSV 文件格式有误"),
    ("utf-8 encoded surrogates", "成果.csv", b"\xed\xa0\x80\xed\xb0\x80", "无法识别文件编码"),
    ("stray high bytes", "成果.csv", "成果名称*\n".encode() + b"\x80abc\xed\xa0\x80", "无法识别文件编码"),
    ("private-use characters from gbk", "成果.csv", b"\xaa\xa1\xaa\xa2,\xfe\xfe", "无法识别文件编码"),
    ("header missing", "成果.csv", None, "缺少必填列：成果名称"),
    ("unknown column", "成果.csv", None, "无法识别的列：备注"),
    ("header only", "成果.csv", None, "只有表头"),
    ("too many rows", "成果.csv", None, "最多导入 1000 行"),
    ("lone surrogate in xlsx", "成果.xlsx", None, "文件已损坏"),
]


def _bad_file(case: str, data: bytes | None) -> bytes:
    if data is not None:
        return data
    if case == "zip that is no workbook":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("hello.txt", "你好")
        return buffer.getvalue()
    if case == "unpaired quote":
        return ",".join(HEADER).encode() + b"\n" + b'"' + b"x" * 200_000
    if case == "header missing":
        return csv_bytes([good_row(1)[:1] + good_row(1)[2:]], header=HEADER[:1] + HEADER[2:])
    if case == "unknown column":
        return csv_bytes([good_row(1) + ["x"]], header=HEADER + ["备注"])
    if case == "header only":
        return csv_bytes([])
    if case == "too many rows":
        return csv_bytes([good_row(number) for number in range(1, 1002)])
    if case == "lone surrogate in xlsx":
        return xlsx_bytes([good_row(1, title="坏\ud800字符")])
    raise AssertionError(case)


@pytest.mark.parametrize(("case", "filename", "data", "message"), BAD_FILES, ids=[case[0] for case in BAD_FILES])
def test_unreadable_file_is_refused_with_a_clear_message_and_nothing_saved(app, researcher, case, filename, data,
                                                                           message):
    with pytest.raises(ValidationError) as caught:
        import_achievements(db.session, researcher, filename=filename, data=_bad_file(case, data), submit=False)
    assert not isinstance(caught.value, SheetRowsError)
    assert message in caught.value.message and caught.value.fields == {"file": caught.value.message}
    assert count_achievements() == 0


BAD_CELLS = [
    ("control character in title", "title", "制氢\x07工艺", "成果名称", "控制字符"),
    ("line break in title", "title", "制氢\n工艺", "成果名称", "控制字符"),
    ("missing summary", "summary", "", "成果简介", "必填"),
    ("unknown field", "field", "mars.mining", "所属领域代码", "找不到领域"),
    ("arabic-indic trl", "trl", "٦", "技术就绪度TRL", "请输入整数"),
    ("trl out of range", "trl", 12, "技术就绪度TRL", "1 到 9"),
    ("unknown stage", "stage", "试验", "成熟度阶段", "无法识别“试验”"),
    ("unknown mode", "modes", "转让、赠送", "转化方式", "无法识别“赠送”"),
    ("no mode", "modes", "", "转化方式", "至少选择一项"),
    ("unknown price type", "price_type", "一口价", "价格类型", "无法识别"),
    ("reference price without amount", "price_min_fen", "", "价格下限", "需要填写金额"),
    ("NaN money", "price_min_fen", "NaN", "价格下限", "金额格式不正确"),
    ("negative money", "price_min_fen", "-5", "价格下限", "正负号"),
    ("huge money", "price_min_fen", "99999999999999", "价格下限", "上限"),
    ("exponent money", "price_min_fen", "1e20", "价格下限", "金额格式不正确"),
    ("arabic-indic money", "price_min_fen", "٥٠", "价格下限", "金额格式不正确"),
    ("money below a fen", "price_min_fen", "1.2345678", "价格下限", "六位小数"),
    ("upper below lower", "price_max_fen", "10", "价格上限", "上限不能低于下限"),
    ("owner without share", "owners", "太原理工大学", "权利人及份额", "名称 份额"),
    ("shares not summing to 100", "owners", "太原理工大学 60;山西焦化 30", "权利人及份额", "100%"),
    ("arabic-indic share", "owners", "太原理工大学 ١٠٠", "权利人及份额", "名称 份额"),
    ("ip without kind", "ip_items", "ZL202110345678.2", "知识产权", "编号 类型"),
    ("too many keywords", "keywords", "、".join(f"词{n}" for n in range(11)), "关键词", "最多 10 项"),
    ("source code too long", "source_code", "X" * 61, "成果编号", "不能超过 60"),
]


@pytest.mark.parametrize(("case", "key", "value", "column", "message"), BAD_CELLS, ids=[case[0] for case in BAD_CELLS])
def test_bad_cell_refuses_the_whole_sheet_and_names_row_column_and_problem(app, researcher, case, key, value, column,
                                                                           message):
    data = csv_bytes([good_row(1), good_row(2, **{key: value})])
    with pytest.raises(SheetRowsError) as caught:
        import_achievements(db.session, researcher, filename="成果.csv", data=data, submit=False)
    problems = [(p.row, p.column) for p in caught.value.problems]
    assert (3, column) in problems
    assert message in next(p.message for p in caught.value.problems if p.column == column)
    assert count_achievements() == 0


def test_csv_text_that_looks_like_a_formula_is_kept_as_plain_text(app, researcher):
    data = csv_bytes([good_row(1, title="=HYPERLINK(\"http://x\")", summary="+86 热线")])
    created = import_achievements(db.session, researcher, filename="成果.csv", data=data, submit=False)
    assert created[0].title == '=HYPERLINK("http://x")' and created[0].summary == "+86 热线"


def test_formula_without_a_saved_result_is_reported_not_evaluated(app, researcher):
    data = xlsx_bytes([good_row(1, trl="=3+3")])
    with pytest.raises(SheetRowsError) as caught:
        import_achievements(db.session, researcher, filename="成果.xlsx", data=data, submit=False)
    assert [(p.row, p.letter) for p in caught.value.problems] == [(2, "H")]
    assert "公式" in caught.value.problems[0].message
    assert count_achievements() == 0


def test_formula_with_a_saved_result_imports_that_result(app, researcher):
    data = with_cell_xml(xlsx_bytes([good_row(1, trl=1)]), "H2", '<c r="H2"><f>3+3</f><v>6</v></c>')
    created = import_achievements(db.session, researcher, filename="成果.xlsx", data=data, submit=False)
    assert created[0].trl == 6


@pytest.mark.parametrize(("cell_xml", "message"), [
    ('<c r="M2" t="n"><v>1e999</v></c>', "数值无效"),
    ('<c r="M2" t="e"><v>#DIV/0!</v></c>', "错误值"),
])
def test_unusable_number_cell_is_reported(app, researcher, cell_xml, message):
    data = with_cell_xml(xlsx_bytes([good_row(1)]), "M2", cell_xml)
    with pytest.raises(SheetRowsError) as caught:
        import_achievements(db.session, researcher, filename="成果.xlsx", data=data, submit=False)
    assert [(p.row, p.column) for p in caught.value.problems] == [(2, "价格下限")]
    assert message in caught.value.problems[0].message


def test_huge_number_cell_is_refused_by_the_money_limit(app, researcher):
    data = xlsx_bytes([good_row(1, price_min_fen=1e20)])
    with pytest.raises(SheetRowsError, match="1 处问题") as caught:
        import_achievements(db.session, researcher, filename="成果.xlsx", data=data, submit=False)
    assert "上限" in caught.value.problems[0].message


def test_content_in_a_column_without_header_is_reported(app, researcher):
    data = csv_bytes([good_row(1) + ["", "多余"]], header=HEADER + [""])
    with pytest.raises(SheetRowsError) as caught:
        import_achievements(db.session, researcher, filename="成果.csv", data=data, submit=False)
    assert [(p.row, p.letter, p.column) for p in caught.value.problems] == [(2, "T", "")]


def test_reimporting_the_same_number_is_reported_as_already_imported(app, researcher):
    import_achievements(db.session, researcher, filename="a.csv", data=csv_bytes([good_row(1)]), submit=False)
    data = csv_bytes([good_row(2), good_row(1)])
    with pytest.raises(SheetRowsError) as caught:
        import_achievements(db.session, researcher, filename="a.csv", data=data, submit=False)
    assert [(p.row, p.column) for p in caught.value.problems] == [(3, "成果编号")]
    assert "已导入过" in caught.value.problems[0].message
    assert count_achievements() == 1


def test_number_imported_by_a_parallel_upload_refuses_the_whole_sheet(app, researcher, monkeypatch):
    import_achievements(db.session, researcher, filename="a.csv", data=csv_bytes([good_row(1)]), submit=False)
    monkeypatch.setattr(services, "_imported_source_keys", lambda session, organisation: set())
    with pytest.raises(ValidationError, match="刚刚已被导入"):
        import_achievements(db.session, researcher, filename="a.csv", data=csv_bytes([good_row(2), good_row(1)]),
                            submit=False)
    assert count_achievements() == 1


def test_same_number_in_another_organisation_is_a_different_achievement(app, researcher, make_user):
    other = make_user("enterprise")
    import_achievements(db.session, researcher, filename="a.csv", data=csv_bytes([good_row(1)]), submit=False)
    import_achievements(db.session, other, filename="a.csv", data=csv_bytes([good_row(1)]), submit=False)
    assert count_achievements() == 2


def test_duplicate_number_within_one_file_is_reported_on_the_later_row(app, researcher):
    data = csv_bytes([good_row(1), good_row(2, source_code="TY-2024-001")])
    with pytest.raises(SheetRowsError) as caught:
        import_achievements(db.session, researcher, filename="a.csv", data=data, submit=False)
    assert [(p.row, p.column) for p in caught.value.problems] == [(3, "成果编号")]
    assert "第 2 行" in caught.value.problems[0].message
    assert count_achievements() == 0


@pytest.mark.parametrize("role", ["broker", "admin"])
def test_only_researchers_and_enterprise_users_may_import(app, make_user, role):
    with pytest.raises(PermissionDeniedError):
        import_achievements(db.session, make_user(role), filename="a.csv", data=csv_bytes([good_row(1)]), submit=False)
    assert count_achievements() == 0


def test_member_awaiting_approval_may_not_import(app, make_user):
    pending = make_user("researcher", membership_status="pending")
    with pytest.raises(PermissionDeniedError):
        import_achievements(db.session, pending, filename="a.csv", data=csv_bytes([good_row(1)]), submit=False)


def test_error_report_csv_defuses_cells_that_look_like_formulas(app):
    problems = [services.RowProblem(2, "B", "成果名称", "=cmd|' /C calc'!A0"), services.RowProblem(3, "", "", "@SUM(1)")]
    rows = list(csv.reader(io.StringIO(services.error_report_csv(problems).decode("utf-8-sig"))))
    assert rows == [["行号", "列", "列名", "问题"], ["2", "B", "成果名称", "'=cmd|' /C calc'!A0"], ["3", "", "", "'@SUM(1)"]]


def test_error_report_survives_the_round_trip_through_the_page(app):
    problems = [services.RowProblem(2, "B", "成果名称", "此项必填。")]
    assert services.decode_report(services.encode_report(problems)) == problems


@pytest.mark.parametrize("text", ["", "not json", "{}", '[[1, "B", "x"]]', '[["2", "B", "x", "y"]]',
                                  '[[2, "B", "x", ' + '"' + "y" * 301 + '"]]'])
def test_tampered_error_report_is_rejected(app, text):
    with pytest.raises(ValidationError):
        services.decode_report(text)


@pytest.mark.parametrize(("value", "text"), [
    (None, ""), (6, "6"), (6.0, "6"), (12.5, "12.5"), (0.1, "0.1"), (1e20, "100000000000000000000"), (True, "是"),
])
def test_cell_values_read_as_the_text_a_person_typed(value, text):
    assert sheets.cell_text(value) == (text, None)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_cell_values_are_problems(value):
    assert sheets.cell_text(value)[1]
