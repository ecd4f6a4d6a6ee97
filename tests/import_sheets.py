"""Sheets for the import tests: a valid row in template column order, .xlsx and .csv bytes, an upload through the page."""
import csv
import io

import openpyxl
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from market.achievements.models import Achievement
from market.extensions import db
from market.imports.services import COLUMNS

IMPORT_PAGE = "/imports/achievements"
HEADER = [column.header for column in COLUMNS]
KEYS = [column.key for column in COLUMNS]
ROW = {
    "source_code": "SX-001", "title": "煤矸石制备轻质陶粒技术", "summary": "以煤矸石为主要原料烧制轻质陶粒。",
    "description_public": "", "description_confidential": "", "keywords": "煤矸石、陶粒", "field": "energy",
    "trl": 5, "stage": "小试", "ip_items": "", "modes": "转让", "price_type": "底价", "price_min_fen": "35.5",
    "price_max_fen": "", "owners": "", "inventors": "王强", "benefits": "", "scenarios": "",
}


def sheet_row(number: int, **changes) -> list:
    """A valid row; `number` makes the 编号 (SX-001 …) and the title unique."""
    values = {**ROW, "source_code": f"SX-{number:03d}", "title": f"{ROW['title']}（{number}）", **changes}
    return [values[key] for key in KEYS]


def xlsx_bytes(rows, header=HEADER) -> bytes:
    """A workbook whose first sheet holds the header and the rows."""
    book = openpyxl.Workbook()
    book.active.append(header)
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, header=HEADER, encoding="utf-8-sig") -> bytes:
    """A CSV file of the header and the rows."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows([header, *rows])
    return buffer.getvalue().encode(encoding)


def post_file(client, data: bytes, filename: str, **fields):
    """Upload through the form; the body is encoded in memory (the test client would spool big ones to a temp file)."""
    boundary, body = encode_multipart(MultiDict({"file": FileStorage(io.BytesIO(data), filename), **fields}))
    return client.post(IMPORT_PAGE, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def count_achievements() -> int:
    """How many achievements are stored."""
    return db.session.scalar(select(func.count()).select_from(Achievement))
