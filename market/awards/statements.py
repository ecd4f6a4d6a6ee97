"""A broker's statement of his rewards: one line per award with its deal, registration number, payer, rule, amounts,
status and dates, with totals; written as CSV or as an Excel workbook (dates as dates, yuan as numbers)."""
from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import openpyxl
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.orm import Session

from market.accounts.models import Role, User
from market.awards.labels import award_status_label
from market.awards.models import Award, AwardStatus
from market.awards.permissions import may_read_statement_of, recipient_keys_of
from market.awards.queries import COUNTED_STATUSES, fen_as_yuan, recipient_labels
from market.deals.models import Deal
from market.errors import NotFoundError
from market.imports.sheets import write_csv
from market.preorders.models import PreorderAgreement
from market.timeutil import CHINA_OFFSET

STATEMENT_HEADER = (_l("项目"), _l("项目编号"), _l("登记编号"), _l("出资方"), _l("规则"), _l("计算金额（元）"),
                    _l("核定金额（元）"), _l("状态"), _l("事件日期"), _l("审批日期"), _l("发放日期"), _l("付款凭证号"))
"""The statement's columns, in the reader's language."""

YUAN_COLUMNS = (5, 6)
"""Columns (0-based) holding yuan; the workbook shows them with two decimals."""
DATE_COLUMNS = (8, 9, 10)
"""Columns (0-based) holding dates; the workbook stores them as date cells."""
COLUMN_WIDTHS = (36, 10, 22, 28, 8, 16, 16, 14, 12, 12, 12, 22)

FISCAL_PAYERS = {"fiscal:province": _l("省级财政"), "fiscal:yangquan": _l("阳泉市财政")}
"""The fiscal accounts the shipped rule sets name, in words (others are shown as they are)."""


@dataclass(frozen=True)
class StatementLine:
    """One award on the statement with what it was earned on."""

    award: Award
    title: str
    number: str
    registration_number: str
    payer: str

    @property
    def approved_on(self) -> dt.date | None:
        """The day (China time) an admin approved the award."""
        return (self.award.approved_at + CHINA_OFFSET).date() if self.award.approved_at else None

    @property
    def paid_on(self) -> dt.date | None:
        """The payout day on the voucher (or the day the payout was recorded)."""
        award = self.award
        return award.paid_on or ((award.paid_at + CHINA_OFFSET).date() if award.paid_at else None)


@dataclass(frozen=True)
class Statement:
    """A broker's statement: his award lines and their totals."""

    broker: User
    lines: tuple[StatementLine, ...]

    @property
    def counted(self) -> list[StatementLine]:
        """Lines that count in totals (not waived by stacking, not reversed)."""
        return [line for line in self.lines if line.award.status in COUNTED_STATUSES]

    @property
    def computed_fen(self) -> int:
        """Computed in all (counted lines)."""
        return sum(line.award.computed_fen for line in self.counted)

    @property
    def granted_fen(self) -> int:
        """Granted in all (counted lines)."""
        return sum(line.award.granted_fen for line in self.counted)

    @property
    def paid_fen(self) -> int:
        """Of what was granted, what has been paid out."""
        return sum(line.award.granted_fen for line in self.lines if line.award.status == AwardStatus.PAID)


def statement_broker(session: Session, actor: User, broker_id: int | None) -> User:
    """The broker whose statement the actor asks for (himself unless an admin names one), or not found."""
    broker = session.get(User, broker_id) if broker_id is not None else actor
    if broker is None or not may_read_statement_of(actor, broker):
        raise NotFoundError(_("没有可导出的经纪人对账单。"))
    return broker


def statement_brokers(session: Session) -> list[User]:
    """The brokers an admin may export a statement of, by name."""
    return list(session.scalars(select(User).where(User.role == Role.BROKER).order_by(User.name, User.id)))


def broker_statement(session: Session, broker: User) -> Statement:
    """Every award addressed to the broker (and to the agency he is an approved member of), oldest first."""
    rows = session.execute(
        select(Award, Deal.title, Deal.registration_number, PreorderAgreement.number, PreorderAgreement.product)
        .outerjoin(Deal, Deal.id == Award.deal_id)
        .outerjoin(PreorderAgreement, PreorderAgreement.id == Award.agreement_id)
        .where(Award.recipient.in_(recipient_keys_of(broker)))
        .order_by(Award.event_date, Award.id)
    ).all()
    payers = recipient_labels(session, {award.payer.removeprefix("proceeds:") for award, *_rest in rows})
    lines = []
    for award, deal_title, registration_number, agreement_number, product in rows:
        if award.deal_id is not None:
            title, number = deal_title or "", str(award.deal_id)
        elif award.agreement_id is not None:
            title, number = product or "", agreement_number or ""
        else:
            title, number = _("政策事件 %(id)s", id=award.policy_event_id), ""
        lines.append(StatementLine(award, title, number, registration_number or "", _payer_label(award.payer, payers)))
    return Statement(broker, tuple(lines))


def _payer_label(payer: str, names: dict[str, str]) -> str:
    """Who pays an award, in words: the transferor's proceeds or a fiscal account."""
    if payer.startswith("proceeds:"):
        organisation = payer.removeprefix("proceeds:")
        return _("%(name)s（转化收益）", name=names.get(organisation, organisation))
    found = FISCAL_PAYERS.get(payer)
    return str(found) if found is not None else payer


def statement_rows(statement: Statement) -> list[list[object]]:
    """The header, one row per award (yuan as exact Decimal, dates as dates), then the totals."""
    rows: list[list[object]] = [[str(title) for title in STATEMENT_HEADER]]
    for line in statement.lines:
        award = line.award
        rows.append([line.title, line.number, line.registration_number, line.payer, award.rule,
                     fen_as_yuan(award.computed_fen), fen_as_yuan(award.granted_fen), award_status_label(award.status),
                     award.event_date, line.approved_on, line.paid_on, award.voucher_reference or ""])
    blank = [""] * (len(STATEMENT_HEADER) - 7)
    rows.append([_("合计（不含不重复享受和已冲正）"), "", "", "", "", fen_as_yuan(statement.computed_fen),
                 fen_as_yuan(statement.granted_fen), *blank])
    rows.append([_("其中已发放"), "", "", "", "", "", fen_as_yuan(statement.paid_fen), *blank])
    return rows


def statement_csv(statement: Statement) -> bytes:
    """The statement as CSV (dates as YYYY-MM-DD, yuan with two decimals)."""
    return write_csv([[value.isoformat() if isinstance(value, dt.date) else ("" if value is None else value)
                       for value in row] for row in statement_rows(statement)])


def statement_workbook(statement: Statement) -> bytes:
    """The statement as an .xlsx: text as text (never a formula), dates as date cells, yuan as numbers with two
    decimals."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = _("经纪人对账单")
    rows = statement_rows(statement)
    for row_index, values in enumerate(rows, start=1):
        for column_index, value in enumerate(values):
            cell = sheet.cell(row=row_index, column=column_index + 1, value=value)
            if isinstance(value, str):
                cell.data_type = "s"
            elif isinstance(value, Decimal):
                cell.number_format = "#,##0.00"
            elif isinstance(value, dt.date):
                cell.number_format = "yyyy-mm-dd"
            if row_index == 1 or row_index > len(rows) - 2:
                cell.font = Font(bold=True)
    _set_widths(sheet, COLUMN_WIDTHS)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _set_widths(sheet, widths: Sequence[int]) -> None:
    for index, width in enumerate(widths):
        sheet.column_dimensions[openpyxl.utils.get_column_letter(index + 1)].width = width
