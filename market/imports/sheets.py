"""Spreadsheet files in and out: uploads (.xlsx/.csv) read as rows of text, downloads written (no Flask, no db)."""
from __future__ import annotations

import codecs
import csv
import io
import logging
import math
import re
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import PurePosixPath

import openpyxl
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._reader import FORMULA_TAG, ROW_TAG, WorkSheetParser
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.xml.functions import iterparse

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
"""Largest accepted upload (5 MB)."""

MAX_UNPACKED_BYTES = 20 * 1024 * 1024
"""Largest total size of the parts inside an .xlsx, as its zip directory declares them (reading stops there).
A full 1000-row sheet of real text unpacks to a few MB; more is a packed bomb, refused before any parsing."""

MAX_MARKUP_TAGS = 250_000
"""Most XML tags ("<") in all parts of an .xlsx together, counted before parsing: parsing costs time per element,
whatever their size. A 1000-row sheet of the import layout has about 150,000."""

MAX_SHARED_STRINGS = 25_000
"""Most distinct texts (<si> entries) a workbook may hold: openpyxl reads each at some cost, and 1000 rows of the
import layout have at most 18,000."""

MAX_COLUMNS = 40
"""Columns read from each row; the import layout has 18."""

MAX_SCANNED_ROWS = 5_000
"""Rows (blank ones included) read before giving up on a sheet; the import takes at most 1000 data rows."""

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv"

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls (and .doc) files
_PRIVATE_USE = re.compile("[\ue000-\uf8ff\U000f0000-\U0010ffff]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_BROKEN_XLSX = "文件已损坏或不是有效的 .xlsx 工作簿，请在 Excel 中重新保存后再上传。"


class SheetError(ValueError):
    """An upload cannot be read as a sheet; `message` is Chinese, for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class SheetRow:
    """A non-blank row: its number as the spreadsheet shows it, its cells as text, and cells that could not be read."""

    number: int
    cells: tuple[str, ...]
    problems: Mapping[int, str] = field(default_factory=dict)


def sheet_suffix(filename: str, data: bytes) -> str:
    """The upload's kind, ".xlsx" or ".csv", from the checks that need no parsing (empty, size, old .xls, file name
    ending); else SheetError."""
    suffix = PurePosixPath((filename or "").replace("\\", "/")).suffix.lower()
    if not data:
        raise SheetError("上传的文件是空的。")
    if len(data) > MAX_UPLOAD_BYTES:
        raise SheetError("文件超过 5 MB，请拆分后分批上传。")
    if suffix == ".xls" or data.startswith(_OLE_MAGIC):
        raise SheetError("暂不支持旧版 .xls 文件，请在 Excel 中“另存为” .xlsx 或 CSV 后再上传。")
    if suffix not in (".xlsx", ".csv"):
        raise SheetError("只支持 .xlsx 或 .csv 文件，请使用平台提供的模板。")
    return suffix


def read_sheet(filename: str, data: bytes, *, row_limit: int) -> list[SheetRow]:
    """The non-blank rows of an uploaded .xlsx (first worksheet) or .csv, at most row_limit + 1; else SheetError."""
    if sheet_suffix(filename, data) == ".xlsx":
        return _read_xlsx(data, row_limit)
    return _read_csv(data, row_limit)


_TOO_MUCH_CONTENT = ("工作簿内容超出导入上限（可能含大量空行、空列、格式或重复内容）。"
                     "请只保留成果表，删除多余的行、列和格式后重新保存。")


def _read_xlsx(data: bytes, row_limit: int) -> list[SheetRow]:
    _check_xlsx_size(data)
    try:
        with warnings.catch_warnings():
            # openpyxl warns about workbook features it drops (styles, extensions); reading values does not need them.
            warnings.simplefilter("ignore")
            return _xlsx_rows(data, row_limit)
    except SheetError:
        raise
    except Exception as error:  # openpyxl reports damaged parts with many error types (zip, XML, KeyError, ValueError)
        log.info("unreadable xlsx upload: %s: %s", type(error).__name__, error)
        raise SheetError(_BROKEN_XLSX) from error


def _check_xlsx_size(data: bytes) -> None:
    """Refuse packed bombs before parsing: the declared unpacked size, then the count of XML tags in every part."""
    if not data.startswith(_ZIP_MAGIC):
        raise SheetError(_BROKEN_XLSX)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if sum(info.file_size for info in members) > MAX_UNPACKED_BYTES:
                raise SheetError(f"工作簿解压后超过 {MAX_UNPACKED_BYTES // (1024 * 1024)} MB，内容异常"
                                 "（可能含大量空行、重复内容或图片）。请只保留成果表，删除无关的工作表、图片和多余的行后重新保存。")
            tags = strings = 0
            for info in members:  # every part, whatever its name: the workbook's relations may point anywhere
                with archive.open(info) as part:  # stops at the declared size, so the total above bounds this
                    while chunk := part.read(1024 * 1024):
                        tags += chunk.count(b"<")
                        strings += chunk.count(b"<si>") + chunk.count(b"<si ")
                        if tags > MAX_MARKUP_TAGS or strings > MAX_SHARED_STRINGS:
                            raise SheetError(_TOO_MUCH_CONTENT)
    except SheetError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, zlib.error) as error:
        raise SheetError(_BROKEN_XLSX) from error


class _CachedValueParser(WorkSheetParser):
    """Reads cached values (formulas are never evaluated) and marks formula cells saved without one as data_type f."""

    def parse_cell(self, element):
        cell = super().parse_cell(element)
        if cell["value"] is None and element.find(FORMULA_TAG) is not None:
            cell["data_type"] = "f"
        return cell


def _xlsx_rows(data: bytes, row_limit: int) -> list[SheetRow]:
    """One streaming pass over the first worksheet, stopping at row_limit + 1 non-blank rows or MAX_SCANNED_ROWS.

    openpyxl's load_workbook would first parse every worksheet to its end to learn its size; the reader's steps are
    taken here without that (shared strings, workbook, styles for date formats), then the first sheet is read once.
    """
    reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True)
    try:
        reader.read_manifest()
        reader.read_strings()
        reader.read_workbook()
        apply_stylesheet(reader.archive, reader.wb)
        book = reader.wb
        rows: list[SheetRow] = []
        with reader.archive.open(_first_worksheet_path(reader)) as source:
            parser = _CachedValueParser(source, reader.shared_strings, data_only=True, epoch=book.epoch,
                                        date_formats=book._date_formats, timedelta_formats=book._timedelta_formats)
            for scanned, (number, cells) in enumerate(_sheet_rows(parser, source), start=1):
                if number > MAX_SCANNED_ROWS or scanned > MAX_SCANNED_ROWS:
                    raise SheetError(f"表格超过 {MAX_SCANNED_ROWS} 行（含空行），请删除多余的行后再上传。")
                row = _xlsx_row(number, cells)
                if row is not None:
                    rows.append(row)
                    if len(rows) > row_limit:
                        break
        return rows
    finally:
        reader.archive.close()


def _first_worksheet_path(reader: ExcelReader) -> str:
    for _sheet, relation in reader.parser.find_sheets():
        if relation.target in reader.valid_files and "chartsheet" not in relation.Type:
            return relation.target
    raise SheetError("工作簿中没有工作表。")


def _sheet_rows(parser: WorkSheetParser, source) -> Iterator[tuple[int, list[dict]]]:
    """(row number, parsed cells) of each row element, parsing only the first MAX_COLUMNS cells of a row."""
    for _, element in iterparse(source):
        if element.tag == ROW_TAG:
            del element[MAX_COLUMNS:]
            yield parser.parse_row(element)
            element.clear()


def _xlsx_row(number: int, parsed_cells: list[dict]) -> SheetRow | None:
    """A parsed row's first MAX_COLUMNS cells as text (gaps are empty), or None when the row is blank."""
    by_column = {cell["column"]: cell for cell in parsed_cells if cell["column"] <= MAX_COLUMNS}
    cells: list[str] = []
    problems: dict[int, str] = {}
    for index in range(max(by_column, default=0)):
        cell = by_column.get(index + 1)
        if cell is None:
            cells.append("")
            continue
        if cell["data_type"] == "f":
            text, problem = "", "单元格是公式，但文件中没有保存计算结果；请把公式转换为数值后再上传。"
        else:
            text, problem = cell_text(cell["value"], cell["data_type"])
        cells.append(text)
        if problem:
            problems[index] = problem
    if not problems and not any(text.strip() for text in cells):
        return None
    return SheetRow(number, tuple(cells), problems)


def cell_text(value: object, data_type: str = "") -> tuple[str, str | None]:
    """A cell value as the text a person typed, plus a problem message when the value cannot be used."""
    if value is None:
        return "", None
    if data_type == "e":
        return "", f"单元格是错误值 {str(value)[:12]}，请改为具体内容。"
    if isinstance(value, bool):
        return ("是" if value else "否"), None
    if isinstance(value, int):
        return str(value), None
    if isinstance(value, float):
        if not math.isfinite(value):
            return "", "数值无效（不是有限的数字）。"
        if value.is_integer() and abs(value) < 1e18:
            return str(int(value)), None
        return format(Decimal(repr(value)), "f"), None
    if isinstance(value, datetime):
        return (value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")), None
    if isinstance(value, (date, time)):
        return value.isoformat(), None
    return str(value), None


def _read_csv(data: bytes, row_limit: int) -> list[SheetRow]:
    if data.startswith(_ZIP_MAGIC):
        raise SheetError("文件内容是 Excel 工作簿而不是 CSV 文本，请把扩展名改为 .xlsx 后再上传。")
    text = _decode_csv(data)
    if "\x00" in text:
        raise SheetError("文件内容不是 CSV 文本，请在 Excel 中“另存为” CSV 或直接上传 .xlsx。")
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    rows: list[SheetRow] = []
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        for number, cells in enumerate(reader, start=1):
            if number > MAX_SCANNED_ROWS:
                raise SheetError(f"表格超过 {MAX_SCANNED_ROWS} 行（含空行），请删除多余的行后再上传。")
            if not any(cell.strip() for cell in cells):
                continue
            rows.append(SheetRow(number, tuple(cells)))
            if len(rows) > row_limit:
                break
    except csv.Error as error:
        raise SheetError("CSV 文件格式有误（引号不配对或单元格过长），请在 Excel 中重新保存后再上传。") from error
    return rows


def _decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 as Excel saves CSV on Chinese Windows."""
    undecodable = "无法识别文件编码，请在 Excel 中“另存为” CSV UTF-8（逗号分隔），或直接上传 .xlsx。"
    try:
        if data.startswith(codecs.BOM_UTF8):
            return data[len(codecs.BOM_UTF8):].decode("utf-8")
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return data.decode("utf-16")
    except UnicodeDecodeError as error:
        raise SheetError(undecodable) from error
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as error:
        raise SheetError(undecodable) from error
    if _PRIVATE_USE.search(text):  # GB18030 maps stray bytes into private-use characters: not a real GBK file
        raise SheetError(undecodable)
    return text


def defuse_formula(text: str) -> str:
    """Prefix text a spreadsheet would run as a formula (= + - @, tab, CR first) with an apostrophe."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_csv(rows: Iterable[Sequence[object]]) -> bytes:
    """UTF-8 CSV with a BOM (so Excel shows Chinese), every text cell defused against formula injection."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([defuse_formula(value) if isinstance(value, str) else value for value in row])
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")


@dataclass(frozen=True)
class WorksheetSpec:
    """One worksheet to write: rows of values, which rows are headings, column widths and drop-down hints."""

    title: str
    rows: Sequence[Sequence[object]]
    heading_rows: frozenset[int] = frozenset({0})
    freeze_first_row: bool = True
    widths: Sequence[int] = ()
    dropdowns: Mapping[int, Sequence[str]] = field(default_factory=dict)
    dropdown_rows: int = 1000


def write_xlsx(worksheets: Sequence[WorksheetSpec]) -> bytes:
    """An .xlsx workbook from worksheet specs; text is always stored as text, never as a formula."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    heading_font = Font(bold=True)
    heading_fill = PatternFill("solid", fgColor="DDEBF7")
    for spec in worksheets:
        sheet = book.create_sheet(spec.title)
        for row_index, values in enumerate(spec.rows):
            for column_index, value in enumerate(values):
                cell = sheet.cell(row=row_index + 1, column=column_index + 1, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"
                    cell.alignment = Alignment(vertical="top", wrap_text="\n" in value)
                if row_index in spec.heading_rows:
                    cell.font = heading_font
                    cell.fill = heading_fill
        for column_index, width in enumerate(spec.widths):
            sheet.column_dimensions[get_column_letter(column_index + 1)].width = width
        if spec.freeze_first_row:
            sheet.freeze_panes = "A2"
        for column_index, allowed in spec.dropdowns.items():
            letter = get_column_letter(column_index + 1)
            hint = DataValidation(type="list", formula1='"' + ",".join(allowed) + '"', allow_blank=True,
                                  showErrorMessage=False)
            hint.add(f"{letter}2:{letter}{spec.dropdown_rows + 1}")
            sheet.add_data_validation(hint)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
