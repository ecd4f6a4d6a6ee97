"""Bulk import of achievements from a transfer office's sheet: column layout, row checks, all-or-nothing creation."""
from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from flask_babel import force_locale
from flask_babel import gettext as _
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from market.accounts.models import Organisation, User
from market.achievements.models import Achievement
from market.achievements.services import (
    build_achievement,
    clean_achievement,
    require_achievement_author,
)
from market.errors import PermissionDeniedError, ValidationError
from market.imports import sheets
from market.inputs import FieldErrors, clean_text
from market.listings.vocabulary import (
    LABELS,
    STAGE_TRL_RANGES,
    IpKind,
    PriceType,
    Stage,
    TransferMode,
)
from market.money import MoneyFormatError, parse_yuan
from market.taxonomy.services import field_path, list_fields
from market.unit_of_work import savepoint

MAX_DATA_ROWS = 1000
"""Achievements one upload may hold."""

MAX_REPORTED_PROBLEMS = 1000
"""Problems listed in one error report; the count of all of them is still given."""

PROGRESS_REPORTS = 50
"""How often (at most) a sheet's import tells how far it is."""

MAX_SOURCE_CODE_CHARS = 60
EXAMPLE_MARK = "示例"
"""Rows whose 成果编号 is this are the template's example and are skipped."""


@dataclass(frozen=True)
class ImportColumn:
    """A column of the import sheet: the service key it fills, its Chinese header, an example value and other names."""

    key: str
    header: str
    example: object
    width: int = 18
    aliases: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The header without its marks and hints: 成果名称, 价格下限 …"""
        return re.split(r"[*(（]", self.header, maxsplit=1)[0]

    @property
    def required(self) -> bool:
        """Whether every row must fill it."""
        return "*" in self.header


COLUMNS = (
    ImportColumn("source_code", "成果编号(可选)", EXAMPLE_MARK, 14, ("编号", "成果编号")),
    ImportColumn("title", "成果名称*", "焦炉煤气变压吸附制氢耦合二氧化碳捕集工艺", 30, ("名称",)),
    ImportColumn("summary", "成果简介*", "以焦炉煤气为原料，变压吸附制取高纯氢，同时捕集二氧化碳，适合焦化企业副产煤气综合利用。",
                 40, ("简介",)),
    ImportColumn("description_public", "详细介绍", "氢气纯度 99.999%，回收率 92%，已完成千方级中试。", 40,
                 ("详细介绍(公开)", "公开介绍")),
    ImportColumn("description_confidential", "保密信息", "吸附剂配方与切换时序参数（仅本机构和平台可见）。", 30),
    ImportColumn("keywords", "关键词(用、分隔)", "焦炉煤气、制氢、变压吸附", 24, ("关键字",)),
    ImportColumn("field", "所属领域代码*", "energy.hydrogen", 22, ("所属领域", "领域代码", "领域")),
    ImportColumn("trl", "技术就绪度TRL*", 6, 14, ("技术就绪度", "trl")),
    ImportColumn("stage", "成熟度阶段*(实验室/小试/中试/产业化)", "中试", 16, ("成熟度",)),
    ImportColumn("ip_items", "知识产权(编号 类型;…)", "ZL202110345678.2 发明专利;2023SR0123456 软件著作权", 36),
    ImportColumn("modes", "转化方式*(转让、独占许可…)", "转让、独占许可", 22),
    ImportColumn("price_type", "价格类型*(参考价/底价/面议)", "参考价", 14),
    ImportColumn("price_min_fen", "价格下限(万元)", 80, 14),
    ImportColumn("price_max_fen", "价格上限(万元)", 200, 14),
    ImportColumn("owners", "权利人及份额(名称 60;…)", "太原理工大学 60;山西焦化集团有限公司 40", 36, ("权利人",)),
    ImportColumn("inventors", "完成人(、分隔)", "张明、李华", 18),
    ImportColumn("benefits", "技术优势", "氢气回收率比传统工艺高 8 个百分点，吸附剂寿命超过 5 年。", 30),
    ImportColumn("scenarios", "应用场景", "焦化企业副产煤气制氢、加氢站氢源。", 30),
)

TEMPLATE_NOTES = (
    "每行填写一项成果；列名带 * 的为必填项。请勿修改第一行的列名，不需要的可选列可以删除。",
    ("成果编号为本机构内部编号（可选）。填写后，再次导入同一编号会提示“已导入过”，不会重复创建。"
    "成果编号为“示例”的行不会导入。"),
    "所属领域填写下方的领域代码（也可填写领域名称）；成熟度阶段、转化方式、价格类型、知识产权类型填写下方的中文名称或代码。",
    "技术就绪度 TRL 填 1–9 的整数，并与成熟度阶段一致：实验室 1–4，小试 4–5，中试 6–7，产业化 8–9。",
    "金额单位为万元，如 50 或 12.5；参考价、底价须填写价格下限；面议可不填金额。",
    "关键词、完成人、转化方式可填多项，用顿号“、”分隔。",
    ("知识产权每项写作“编号 类型”，权利人每个写作“名称 份额”（份额为百分比，合计 100），多项用分号“;”分隔；"
    "权利人留空则为本机构 100%。"),
    f"每次最多导入 {MAX_DATA_ROWS} 行，文件不超过 5 MB；支持 .xlsx 和 CSV（UTF-8 或 GBK 编码）。",
)

_TERM_SPLIT = re.compile(r"[,，、;；/\s]+")
_ITEM_SPLIT = re.compile(r"[;；\n]+")
_OWNER = re.compile(r"(?P<name>.+?)[\s,，:：]+(?P<share>[^\s,，:：]+)", re.DOTALL)
_SHARE = re.compile(r"(?P<whole>[0-9]{1,3})(?:\.(?P<cents>[0-9]{1,2}))?%?", re.ASCII)
_TRL_PREFIX = re.compile(r"^trl\s*", re.IGNORECASE)
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


@dataclass(frozen=True)
class RowProblem:
    """One reason a sheet was refused: the row as the spreadsheet numbers it, the column (letter, name), a message."""

    row: int
    letter: str
    column: str
    message: str


class SheetRowsError(ValidationError):
    """Some rows of the sheet are invalid, so nothing was imported; `problems` lists them in sheet order."""

    def __init__(self, problems: list[RowProblem], row_count: int):
        super().__init__(_("共 %(rows)s 行，发现 %(n)s 处问题，未导入任何成果。请修改后重新上传。",
                           rows=row_count, n=len(problems)))
        self.problems = problems[:MAX_REPORTED_PROBLEMS]
        self.total = len(problems)
        self.row_count = row_count


class _CellError(ValueError):
    """A cell's text does not fit its column."""


@dataclass(frozen=True)
class _Layout:
    """Which column of the uploaded sheet holds which import column."""

    by_index: tuple[ImportColumn | None, ...]

    def index_of(self, key: str) -> int | None:
        for index, column in enumerate(self.by_index):
            if column is not None and column.key == key:
                return index
        return None


def import_achievements(session: Session, actor: User, *, filename: str, data: bytes, submit: bool,
                        progress: Callable[[int, int], None] | None = None) -> list[Achievement]:
    """Create every achievement of an uploaded sheet, or none (SheetRowsError lists each problem); `progress(done,
    total)` hears how many rows are checked now and then."""
    organisation = importing_organisation(actor)
    try:
        rows = sheets.read_sheet(filename, data, row_limit=MAX_DATA_ROWS + 2)
    except sheets.SheetError as error:
        raise _file_error(error.message) from error
    if not rows:
        raise _file_error(_("文件中没有内容，请使用平台模板填写后上传。"))
    layout = _read_header(rows[0])
    data_rows = [row for row in rows[1:] if not _is_example(row, layout)]
    if not data_rows:
        raise _file_error(_("文件中只有表头，没有可导入的成果行。"))
    if len(data_rows) > MAX_DATA_ROWS:
        raise _file_error(_("每次最多导入 %(n)s 行成果，请拆分后分批上传。", n=MAX_DATA_ROWS))

    vocabulary = _Vocabulary(session)
    imported = _imported_source_keys(session, organisation)
    first_row_of_code: dict[str, int] = {}
    problems: list[RowProblem] = []
    accepted: list[tuple[dict, str | None]] = []
    progress_step = max(1, len(data_rows) // PROGRESS_REPORTS)
    for done, row in enumerate(data_rows):
        if progress is not None and done % progress_step == 0:
            progress(done, len(data_rows))
        checked = _check_row(session, row, layout, vocabulary)
        source_key = f"{organisation.id}:{checked.code}" if checked.code else None
        if checked.code in first_row_of_code:
            checked.messages.setdefault("source_code", _("与第 %(row)s 行的成果编号重复。",
                                                         row=first_row_of_code[checked.code]))
        elif source_key in imported:
            checked.messages.setdefault("source_code", _("该成果编号已导入过，不会重复创建；如需修改请在工作台编辑该成果。"))
        if checked.code:
            first_row_of_code.setdefault(checked.code, row.number)
        if checked.is_valid:
            accepted.append((checked.clean, source_key))
        else:
            problems.extend(_row_problems(layout, checked))
    if problems:
        raise SheetRowsError(problems, len(data_rows))

    try:
        with savepoint(session):
            created = [build_achievement(session, actor, clean, submit=submit, source_key=source_key)
                       for clean, source_key in accepted]
            session.flush()
    except IntegrityError as error:
        raise _file_error(_("部分成果编号刚刚已被导入，未导入任何成果。请刷新工作台确认后再上传。")) from error
    if progress is not None:
        progress(len(data_rows), len(data_rows))
    return created


def importing_organisation(actor: User) -> Organisation:
    """The organisation the sheet's achievements will belong to: the actor's own."""
    if actor is not None and getattr(actor, "is_admin", False):
        raise PermissionDeniedError(_("平台管理员暂不能代机构批量导入。请由该机构已审核的科研人员或企业用户登录后导入。"))
    require_achievement_author(actor)
    return actor.organisation


def _file_error(message: str) -> ValidationError:
    return ValidationError(message, {"file": message})


def _header_name(text: str) -> str:
    normalised = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))
    return re.split(r"[*(]", normalised, maxsplit=1)[0].lower()


_COLUMNS_BY_NAME = {
    _header_name(name): column
    for column in COLUMNS
    for name in (column.header, *column.aliases)
}


def _read_header(row: sheets.SheetRow) -> _Layout:
    """Match the first non-blank row against the layout; missing, unknown or repeated columns refuse the file."""
    by_index: list[ImportColumn | None] = []
    unknown, repeated, seen = [], [], set()
    for text in row.cells:
        name = _header_name(text)
        column = _COLUMNS_BY_NAME.get(name) if name else None
        if name and column is None:
            unknown.append(_quote(text))
        elif column is not None and column.key in seen:
            repeated.append(column.name)
        elif column is not None:
            seen.add(column.key)
        by_index.append(column)
    missing = [column.name for column in COLUMNS if column.required and column.key not in seen]
    if missing:
        raise _file_error(_("第 %(row)s 行应为表头，缺少必填列：%(names)s。请使用平台模板。",
                            row=row.number, names="、".join(missing)))
    if unknown:
        raise _file_error(_("无法识别的列：%(names)s。请改用平台模板中的列名，或删除这些列。",
                            names="、".join(unknown[:5])))
    if repeated:
        raise _file_error(_("列重复出现：%(names)s。", names="、".join(repeated)))
    return _Layout(tuple(by_index))


def _is_example(row: sheets.SheetRow, layout: _Layout) -> bool:
    index = layout.index_of("source_code")
    return index is not None and index < len(row.cells) and row.cells[index].strip() == EXAMPLE_MARK


def _imported_source_keys(session: Session, organisation: Organisation) -> set[str]:
    prefix = f"{organisation.id}:"
    return set(session.scalars(select(Achievement.source_key)
                               .where(Achievement.source_key.startswith(prefix, autoescape=True))))


class _Vocabulary:
    """What the sheet may say for fields and the enums: codes, Chinese labels, and labels in the current language."""

    def __init__(self, session: Session):
        fields = list_fields(session)
        self.fields = {node.name: node.code for node in fields} | {node.code.lower(): node.code for node in fields}
        self.stages = _label_map(Stage)
        self.modes = _label_map(TransferMode)
        self.price_types = _label_map(PriceType)
        self.ip_kinds = _label_map(IpKind)


def _label_map(enum_class) -> dict[str, str]:
    names = {member.value: member.value for member in enum_class}
    names |= {str(LABELS[member]).lower(): member.value for member in enum_class}
    with force_locale("zh_CN"):
        names |= {str(LABELS[member]): member.value for member in enum_class}
    return names


def _chinese_labels(enum_class) -> str:
    with force_locale("zh_CN"):
        return "、".join(str(LABELS[member]) for member in enum_class)


@dataclass
class _CheckedRow:
    """One data row after parsing and cleaning."""

    number: int
    messages: dict[str, str] = field(default_factory=dict)
    stray: list[RowProblem] = field(default_factory=list)
    code: str | None = None
    clean: dict | None = None

    @property
    def is_valid(self) -> bool:
        """Whether the row can be imported as it is."""
        return self.clean is not None and not self.messages and not self.stray


def _check_row(session: Session, row: sheets.SheetRow, layout: _Layout, vocabulary: _Vocabulary) -> _CheckedRow:
    """Parse one row's cells and run them through the achievement rules; every problem is kept per column."""
    checked = _CheckedRow(row.number)
    texts: dict[str, str] = {}
    for index, text in enumerate(row.cells):
        column = layout.by_index[index] if index < len(layout.by_index) else None
        if column is None:
            if text.strip() or index in row.problems:
                checked.stray.append(RowProblem(row.number, get_column_letter(index + 1), "",
                                                _("此列没有表头，内容无法导入；请删除或补上列名。")))
            continue
        texts[column.key] = text
        if index in row.problems:
            checked.messages[column.key] = row.problems[index]

    data: dict = {}
    for column in COLUMNS:
        if column.key == "source_code" or column.key in checked.messages:
            continue
        try:
            data[column.key] = _parse_cell(column.key, texts.get(column.key, ""), vocabulary)
        except _CellError as error:
            checked.messages[column.key] = str(error)
        except MoneyFormatError as error:
            checked.messages[column.key] = error.message
    try:
        checked.clean = clean_achievement(session, data)
    except ValidationError as error:
        for key, message in error.fields.items():
            checked.messages.setdefault(key, message)
    if "source_code" not in checked.messages:
        checked.code = _clean_source_code(checked.messages, texts.get("source_code", ""))
    return checked


def _clean_source_code(found: dict[str, str], text: str) -> str | None:
    errors = FieldErrors()
    code = clean_text(errors, "source_code", text, max_len=MAX_SOURCE_CODE_CHARS, multiline=False)
    if errors:
        found["source_code"] = errors["source_code"]
        return None
    return unicodedata.normalize("NFKC", code).strip() or None


def _parse_cell(key: str, text: str, vocabulary: _Vocabulary):
    """Turn a cell's text into the value clean_achievement expects for that key (or raise _CellError)."""
    stripped = unicodedata.normalize("NFKC", text).strip()
    if key == "field":
        return _parse_field(stripped, vocabulary)
    if key == "trl":
        return _TRL_PREFIX.sub("", stripped)
    if key == "stage":
        return _one_of(stripped, vocabulary.stages, Stage)
    if key == "price_type":
        return _one_of(stripped, vocabulary.price_types, PriceType)
    if key == "modes":
        return [_one_of(part, vocabulary.modes, TransferMode) for part in _TERM_SPLIT.split(stripped) if part]
    if key in ("price_min_fen", "price_max_fen"):
        return _parse_wan(stripped)
    if key == "ip_items":
        return _parse_ip_items(text, vocabulary)
    if key == "owners":
        return _parse_owners(text)
    return text


def _parse_field(text: str, vocabulary: _Vocabulary) -> str | None:
    if not text:
        raise _CellError(_("此项必填。"))
    for candidate in (text, text.lower(), text.split()[0].lower()):
        if candidate in vocabulary.fields:
            return vocabulary.fields[candidate]
    raise _CellError(_("找不到领域“%(value)s”，请填写“填写说明”中列出的领域代码。", value=_quote(text)))


def _one_of(text: str, names: dict[str, str], enum_class) -> str | None:
    if not text:
        return None
    value = names.get(text) or names.get(text.lower())
    if value is None:
        raise _CellError(_("无法识别“%(value)s”，可填写：%(allowed)s。", value=_quote(text),
                           allowed=_chinese_labels(enum_class)))
    return value


def _parse_wan(text: str) -> int | None:
    """An amount in 万元 (a trailing 元 or 万/万元 unit is also understood) as integer fen."""
    if not text:
        return None
    if not text.endswith(("元", "万")):
        text += "万"
    return parse_yuan(text)


def _parse_ip_items(text: str, vocabulary: _Vocabulary) -> list[dict]:
    items = []
    for part in _ITEM_SPLIT.split(text):
        pieces = [piece for piece in re.split(r"[\s,，]+", part.strip()) if piece]
        if not pieces:
            continue
        kind = None
        if len(pieces) == 2:
            kind_text = unicodedata.normalize("NFKC", pieces[1])
            kind = vocabulary.ip_kinds.get(kind_text) or vocabulary.ip_kinds.get(kind_text.lower())
        if kind is None:
            raise _CellError(_("每项写作“编号 类型”，多项用分号分隔；类型为 %(kinds)s。", kinds=_chinese_labels(IpKind)))
        items.append({"number": pieces[0], "kind": kind})
    return items


def _parse_owners(text: str) -> list[dict]:
    owners = []
    for part in _ITEM_SPLIT.split(text):
        part = part.strip()
        if not part:
            continue
        match = _OWNER.fullmatch(part)
        share = _SHARE.fullmatch(unicodedata.normalize("NFKC", match.group("share"))) if match else None
        if share is None:
            raise _CellError(_("每个权利人写作“名称 份额”，如“太原理工大学 60”，多个用分号分隔。"))
        share_bp = int(share.group("whole")) * 100 + int((share.group("cents") or "").ljust(2, "0"))
        owners.append({"name": match.group("name").strip(), "share_bp": share_bp})
    return owners


def _quote(text: str, limit: int = 20) -> str:
    """A short, printable excerpt of user text for a message."""
    text = _UNPRINTABLE.sub("", str(text)).strip()
    return text if len(text) <= limit else text[:limit] + "…"


def _row_problems(layout: _Layout, checked: _CheckedRow) -> list[RowProblem]:
    """The row's problems in the order of the uploaded sheet's columns."""
    problems = list(checked.stray)
    for column in COLUMNS:
        if column.key in checked.messages:
            index = layout.index_of(column.key)
            letter = get_column_letter(index + 1) if index is not None else ""
            problems.append(RowProblem(checked.number, letter, column.name, checked.messages[column.key]))
    problems.sort(key=lambda problem: (len(problem.letter), problem.letter))
    return problems


def achievement_template_xlsx(session: Session) -> bytes:
    """The import template: the sheet to fill (header and one example row) and a sheet of allowed values."""
    header = [column.header for column in COLUMNS]
    example = [column.example for column in COLUMNS]
    with force_locale("zh_CN"):
        dropdowns = {
            _column_index("stage"): [str(LABELS[stage]) for stage in Stage],
            _column_index("price_type"): [str(LABELS[price]) for price in PriceType],
            _column_index("trl"): [str(level) for level in range(1, 10)],
        }
        reference = _reference_rows(session)
    fill_in = sheets.WorksheetSpec("科技成果", [header, example], widths=[column.width for column in COLUMNS],
                                   dropdowns=dropdowns, dropdown_rows=MAX_DATA_ROWS)
    guide = sheets.WorksheetSpec("填写说明", reference.rows, heading_rows=frozenset(reference.headings),
                                 freeze_first_row=False, widths=[28, 30, 40])
    return sheets.write_xlsx([fill_in, guide])


def achievement_template_csv() -> bytes:
    """The import template as CSV (UTF-8 with BOM): the header and one example row."""
    return sheets.write_csv([[column.header for column in COLUMNS], [column.example for column in COLUMNS]])


def _column_index(key: str) -> int:
    return next(index for index, column in enumerate(COLUMNS) if column.key == key)


@dataclass
class _Reference:
    rows: list[list[str]]
    headings: list[int]

    def section(self, heading: list[str], rows) -> None:
        if self.rows:
            self.rows.append([])
        self.headings.append(len(self.rows))
        self.rows.append(heading)
        self.rows.extend(rows)


def _reference_rows(session: Session) -> _Reference:
    """The second sheet: notes, field codes and the allowed values of each enum column (in Chinese)."""
    reference = _Reference([], [])
    reference.section(["填写说明"], [[f"{number}. {note}"] for number, note in enumerate(TEMPLATE_NOTES, start=1)])
    reference.section(["所属领域代码", "领域名称", "完整路径"], [
        [node.code, node.name, " / ".join(step.name for step in field_path(node))] for node in list_fields(session)
    ])
    reference.section(["成熟度阶段", "代码", "对应技术就绪度"], [
        [str(LABELS[stage]), stage.value, f"TRL {STAGE_TRL_RANGES[stage].start}–{STAGE_TRL_RANGES[stage].stop - 1}"]
        for stage in Stage
    ])
    reference.section(["转化方式", "代码"], [[str(LABELS[mode]), mode.value] for mode in TransferMode])
    reference.section(["价格类型", "代码", "说明"], [
        [str(LABELS[PriceType.REFERENCE]), PriceType.REFERENCE.value, "须填写价格下限，可填写上限"],
        [str(LABELS[PriceType.FLOOR]), PriceType.FLOOR.value, "须填写价格下限"],
        [str(LABELS[PriceType.NEGOTIABLE]), PriceType.NEGOTIABLE.value, "金额可不填，填写也不会保存"],
    ])
    reference.section(["知识产权类型", "代码"], [[str(LABELS[kind]), kind.value] for kind in IpKind])
    return reference


def error_report_csv(problems: list[RowProblem]) -> bytes:
    """The error report as a CSV download (UTF-8 with BOM; cells that look like formulas are defused)."""
    header = [_("行号"), _("列"), _("列名"), _("问题")]
    return sheets.write_csv([header, *[[p.row, p.letter, p.column, p.message] for p in problems]])


def encode_problems(problems: list[RowProblem]) -> list[list]:
    """The problems as plain lists [row, letter, column, message] (stored with an import run)."""
    return [[p.row, p.letter, p.column, p.message] for p in problems]


def decode_problems(items: list[list]) -> list[RowProblem]:
    """Problems back from encode_problems' lists."""
    return [RowProblem(*item) for item in items]


def encode_report(problems: list[RowProblem]) -> str:
    """The problems as compact JSON, carried by the page's download form."""
    return json.dumps(encode_problems(problems), ensure_ascii=False, separators=(",", ":"))


def decode_report(text: str) -> list[RowProblem]:
    """Problems back from encode_report's JSON; ValidationError when the text is not such a list."""
    try:
        items = json.loads(text or "")
    except ValueError as error:
        raise ValidationError(_("错误报告无效，请重新上传文件。")) from error
    if not isinstance(items, list) or len(items) > MAX_REPORTED_PROBLEMS:
        raise ValidationError(_("错误报告无效，请重新上传文件。"))
    problems = []
    for item in items:
        if (not isinstance(item, list) or len(item) != 4 or type(item[0]) is not int
                or not all(isinstance(part, str) and len(part) <= 300 for part in item[1:])):
            raise ValidationError(_("错误报告无效，请重新上传文件。"))
        problems.append(RowProblem(item[0], item[1], item[2], item[3]))
    return problems
