"""valleys get their city's English name; deal timeline notes become a code and its facts, worded when shown

Existing notes are read best-effort: the sentences the services wrote (accepted bid round, accepted response, notice
period, signing, a payment's amount, a broker joining or removed) become codes; anything else, and everything people
typed, stays as it was.

Revision ID: b8e4f21c7a90
Revises: f3a7c2d9e815
Create Date: 2026-12-02 21:00:00

"""
import re
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b8e4f21c7a90'
down_revision = 'f3a7c2d9e815'
branch_labels = None
depends_on = None

CITIES_EN = {
    "taiyuan": "Taiyuan", "datong": "Datong", "yangquan": "Yangquan", "jincheng": "Jincheng",
    "changzhi": "Changzhi", "lvliang": "Lüliang", "jinzhong": "Jinzhong", "yuncheng": "Yuncheng",
    "linfen": "Linfen", "xinzhou": "Xinzhou", "shuozhou": "Shuozhou",
}

_BID_ROUND = re.compile(r"^(?:接受第 (\d+) 轮报价|Accepted round (\d+) of the bid)$")
_RESPONSE = re.compile(r"^(?:接受揭榜响应|Accepted the response to the demand)$")
_NOTICE = re.compile(r"^(?:公示期 (\d{4}-\d\d-\d\d) 至 (\d{4}-\d\d-\d\d)|Public notice period (\d{4}-\d\d-\d\d) to "
                     r"(\d{4}-\d\d-\d\d))$")
_SIGNED = re.compile(r"^(\d{4}-\d\d-\d\d) ([\d,]+(?:\.\d+)?)万元$")
_PAYMENT = re.compile(r"^¥([\d,]+\.\d\d)$")
_BROKER_JOINED = re.compile(r"^(?:(.+) 成为项目经纪人|(.+) became the project broker)$")
_BROKER_REMOVED = re.compile(r"^(?:移除项目经纪人 (.+?)：(.*)|Removed project broker (.+?): (.*))$", re.DOTALL)

FEN_PER_WAN = 1_000_000
FEN_PER_YUAN = 100


def _first(match) -> list:
    return [group for group in match.groups() if group is not None]


def _fen(text: str, per_unit: int) -> int | None:
    try:
        value = Decimal(text.replace(",", "")) * per_unit
    except InvalidOperation:
        return None
    return int(value) if value == value.to_integral_value() else None


def _person(connection, name: str) -> int | None:
    """The one user of that name (None when there is none or more than one)."""
    ids = connection.execute(sa.text("SELECT id FROM users WHERE name = :name"), {"name": name}).scalars().all()
    return ids[0] if len(ids) == 1 else None


def coded(connection, action: str, note: str) -> tuple[str, dict, str] | None:
    """(code, facts, what stays typed) for a note the services wrote, or None to keep it as it is."""
    if match := _BID_ROUND.match(note):
        return "bid_accepted", {"round": int(_first(match)[0])}, ""
    if _RESPONSE.match(note):
        return "response_accepted", {}, ""
    if match := _NOTICE.match(note):
        starts, ends = _first(match)
        return "notice", {"starts": starts, "ends": ends}, ""
    if action == "signed" and (match := _SIGNED.match(note)):
        amount = _fen(match.group(2), FEN_PER_WAN)
        if amount is not None:
            return "signed", {"day": match.group(1), "amount_fen": amount}, ""
    if action.startswith("payment") and (match := _PAYMENT.match(note)):
        amount = _fen(match.group(1), FEN_PER_YUAN)
        if amount is not None:
            return "payment", {"amount_fen": amount}, ""
    if action == "broker" and (match := _BROKER_REMOVED.match(note)):
        name, reason = _first(match)
        person = _person(connection, name)
        if person is not None:
            return "broker_removed", {"broker": person}, reason
    if action == "broker" and (match := _BROKER_JOINED.match(note)):
        person = _person(connection, _first(match)[0])
        if person is not None:
            return "broker_joined", {"broker": person}, ""
    return None


def upgrade():
    with op.batch_alter_table('valleys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('city_en', sa.String(length=40), nullable=False, server_default=''))
    with op.batch_alter_table('deal_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note_code', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('note_params', sa.JSON(), nullable=True))
    connection = op.get_bind()
    valleys = sa.table('valleys', sa.column('id', sa.String), sa.column('city_en', sa.String))
    for valley_id, city in CITIES_EN.items():
        connection.execute(valleys.update().where(valleys.c.id == valley_id).values(city_en=city))
    events = sa.table('deal_events', sa.column('id', sa.Integer), sa.column('action', sa.String),
                      sa.column('note', sa.Text), sa.column('note_code', sa.String), sa.column('note_params', sa.JSON))
    rows = connection.execute(sa.select(events.c.id, events.c.action, events.c.note)
                              .where(events.c.note.is_not(None), events.c.note != '')).all()
    for event_id, action, note in rows:
        found = coded(connection, action or "", note.strip())
        if found is not None:
            code, params, typed = found
            connection.execute(events.update().where(events.c.id == event_id)
                               .values(note_code=code, note_params=params, note=typed))


_CHINESE = {
    "bid_accepted": lambda p: f"接受第 {p.get('round', '')} 轮报价",
    "response_accepted": lambda p: "接受揭榜响应",
    "notice": lambda p: f"公示期 {p.get('starts', '')} 至 {p.get('ends', '')}",
    "signed": lambda p: f"{p.get('day', '')} {p.get('amount_fen', 0) / FEN_PER_WAN:g}万元",
    "payment": lambda p: f"¥{p.get('amount_fen', 0) // FEN_PER_YUAN:,}.{p.get('amount_fen', 0) % FEN_PER_YUAN:02d}",
}


def downgrade():
    connection = op.get_bind()
    events = sa.table('deal_events', sa.column('id', sa.Integer), sa.column('note', sa.Text),
                      sa.column('note_code', sa.String), sa.column('note_params', sa.JSON))
    rows = connection.execute(sa.select(events.c.id, events.c.note, events.c.note_code, events.c.note_params)
                              .where(events.c.note_code.is_not(None))).all()
    for event_id, note, code, params in rows:
        word = _CHINESE.get(code)
        sentence = word(params or {}) if word else ""
        text = "：".join(filter(None, [sentence, note or ""]))
        connection.execute(events.update().where(events.c.id == event_id).values(note=text))
    with op.batch_alter_table('deal_events', schema=None) as batch_op:
        batch_op.drop_column('note_params')
        batch_op.drop_column('note_code')
    with op.batch_alter_table('valleys', schema=None) as batch_op:
        batch_op.drop_column('city_en')
