"""Bounded work per import: packed .xlsx bombs and oversize sheets are refused with a message, sheets are read once."""
import io
import zipfile

import pytest

from market.errors import ValidationError
from market.extensions import db
from market.imports import sheets
from market.imports.services import MAX_DATA_ROWS, import_achievements
from tests.import_sheets import HEADER, ROW, count_achievements, post_file, sheet_row, xlsx_bytes

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def with_sheet_body(data: bytes, rows_xml: bytes) -> bytes:
    """The header-only workbook with raw XML rows added after its header, packed as tight as zip goes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                head, _, tail = content.partition(b"</row>")
                content = head + b"</row>" + rows_xml + tail
            target.writestr(info.filename, content)
    return out.getvalue()


@pytest.fixture
def researcher(make_user):
    return make_user("researcher")


@pytest.fixture
def workbook_opens(monkeypatch) -> list:
    """Every workbook the import opens (its ExcelReader), in order."""
    opened = []

    class CountingReader(sheets.ExcelReader):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            opened.append(self)

    monkeypatch.setattr(sheets, "ExcelReader", CountingReader)
    return opened


@pytest.fixture
def parsed_rows(monkeypatch) -> list:
    """The row number of every worksheet row element parsed, in order."""
    parsed = []
    original = sheets.WorkSheetParser.parse_row

    def counting(self, element):
        number, cells = original(self, element)
        parsed.append(number)
        return number, cells

    monkeypatch.setattr(sheets.WorkSheetParser, "parse_row", counting)
    return parsed


def test_packed_bomb_is_refused_from_the_zip_directory_before_any_parsing(app, researcher, workbook_opens):
    blank_row = b"<row>" + b'<c t="inlineStr"><is><t> </t></is></c>' * len(HEADER) + b"</row>"
    bomb = with_sheet_body(xlsx_bytes([]), blank_row * (sheets.MAX_UNPACKED_BYTES // len(blank_row) + 1))
    assert len(bomb) < sheets.MAX_UNPACKED_BYTES // 100
    with pytest.raises(ValidationError) as caught:
        import_achievements(db.session, researcher, filename="成果.xlsx", data=bomb, submit=False)
    assert "工作簿解压后超过 20 MB" in caught.value.message
    assert caught.value.fields == {"file": caught.value.message}
    assert workbook_opens == []
    assert count_achievements() == 0


def test_workbook_with_more_xml_tags_than_the_cap_is_refused_before_parsing(app, researcher, workbook_opens):
    many_tags = with_sheet_body(xlsx_bytes([]), b"<row/>" * (sheets.MAX_MARKUP_TAGS + 1))
    with pytest.raises(ValidationError) as caught:
        import_achievements(db.session, researcher, filename="成果.xlsx", data=many_tags, submit=False)
    assert "工作簿内容超出导入上限" in caught.value.message
    assert workbook_opens == []
    assert count_achievements() == 0


def test_workbook_with_more_distinct_texts_than_the_cap_is_refused_before_parsing(app, researcher, workbook_opens):
    data = xlsx_bytes([])
    out = io.BytesIO()
    texts = "".join(f"<si><t>{number}</t></si>" for number in range(sheets.MAX_SHARED_STRINGS + 1))
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info.filename))
        target.writestr("xl/strings-elsewhere.xml", f'<sst xmlns="{MAIN_NS}">{texts}</sst>')
    assert texts.count("<") < sheets.MAX_MARKUP_TAGS
    with pytest.raises(ValidationError) as caught:
        import_achievements(db.session, researcher, filename="成果.xlsx", data=out.getvalue(), submit=False)
    assert "工作簿内容超出导入上限" in caught.value.message
    assert workbook_opens == []


def test_sheet_reaching_past_the_scanned_row_cap_is_refused_without_reading_further(app, researcher, parsed_rows):
    far_row = f'<row r="{sheets.MAX_SCANNED_ROWS + 1}"><c r="A{sheets.MAX_SCANNED_ROWS + 1}" t="inlineStr">' \
              f'<is><t>x</t></is></c></row><row r="{sheets.MAX_SCANNED_ROWS + 2}"/>'
    data = with_sheet_body(xlsx_bytes([]), f'<row r="2"><c r="A2"><v>1</v></c></row>{far_row}'.encode())
    with pytest.raises(ValidationError) as caught:
        import_achievements(db.session, researcher, filename="成果.xlsx", data=data, submit=False)
    assert f"表格超过 {sheets.MAX_SCANNED_ROWS} 行" in caught.value.message
    assert parsed_rows == [1, 2, sheets.MAX_SCANNED_ROWS + 1]
    assert count_achievements() == 0


def test_many_unnumbered_blank_rows_count_against_the_scanned_row_cap(app, researcher):
    data = with_sheet_body(xlsx_bytes([]), b"<row/>" * sheets.MAX_SCANNED_ROWS)
    with pytest.raises(ValidationError) as caught:
        import_achievements(db.session, researcher, filename="成果.xlsx", data=data, submit=False)
    assert f"表格超过 {sheets.MAX_SCANNED_ROWS} 行" in caught.value.message


def test_xlsx_with_more_data_rows_than_one_import_takes_is_refused_and_stops_reading(app, researcher, parsed_rows):
    data = xlsx_bytes([sheet_row(number) for number in range(1, MAX_DATA_ROWS + 50)])
    with pytest.raises(ValidationError) as caught:
        import_achievements(db.session, researcher, filename="成果.xlsx", data=data, submit=False)
    assert f"每次最多导入 {MAX_DATA_ROWS} 行成果" in caught.value.message
    assert len(parsed_rows) == MAX_DATA_ROWS + 3  # the header, then reading stops one row past what the service asks for
    assert count_achievements() == 0


def test_only_the_first_columns_of_a_very_wide_row_are_parsed(app):
    wide = ('<row r="2">' + '<c t="inlineStr"><is><t>宽</t></is></c>' * 5000 + "</row>").encode()
    rows = sheets.read_sheet("成果.xlsx", with_sheet_body(xlsx_bytes([]), wide), row_limit=10)
    assert [len(row.cells) for row in rows] == [len(HEADER), sheets.MAX_COLUMNS]


def test_full_thousand_row_sheet_with_long_texts_fits_under_every_cap(app):
    long_texts = {"summary": "以煤矸石为主要原料烧制轻质陶粒，" * 20, "description_public": "工艺说明，" * 200,
                  "benefits": "能耗低，" * 100, "scenarios": "建材企业，" * 100}
    data = xlsx_bytes([sheet_row(number, **long_texts) for number in range(1, MAX_DATA_ROWS + 1)])
    rows = sheets.read_sheet("成果.xlsx", data, row_limit=MAX_DATA_ROWS + 2)
    assert len(rows) == MAX_DATA_ROWS + 1
    assert rows[-1].cells[1] == f"{ROW['title']}（{MAX_DATA_ROWS}）"


def test_import_opens_the_workbook_once_and_parses_each_row_once(app, researcher, workbook_opens, parsed_rows):
    data = xlsx_bytes([sheet_row(1), sheet_row(2), sheet_row(3)])
    created = import_achievements(db.session, researcher, filename="成果.xlsx", data=data, submit=False)
    assert len(created) == 3
    assert len(workbook_opens) == 1
    assert parsed_rows == [1, 2, 3, 4]


def test_upload_page_shows_the_size_message_for_a_packed_bomb_and_saves_nothing(client, login_as):
    login_as("researcher")
    blank_row = b"<row>" + b"<c><v>0</v></c>" * len(HEADER) + b"</row>"
    bomb = with_sheet_body(xlsx_bytes([]), blank_row * (sheets.MAX_UNPACKED_BYTES // len(blank_row) + 1))
    response = post_file(client, bomb, "成果.xlsx")
    assert response.status_code == 302
    assert "工作簿解压后超过 20 MB" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert count_achievements() == 0
