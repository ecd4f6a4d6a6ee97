"""Deal timeline notes: a step stores a code and its facts (ids, fen, ISO dates), worded in the viewer's language when
shown; what people typed (reasons, remarks, registration numbers) is kept as typed beside it."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from market.accounts.models import User
from market.deals.labels import FEE_PAYER_LABELS, TERMS_ROLE_LABELS
from market.deals.models import DealEvent, TermsRole
from market.listings.vocabulary import label
from market.money import format_rate, rate_number
from market.templating import format_amount

People = Mapping[int, str]


def _person(people: People, user_id: object) -> str:
    return people.get(user_id, _("（已删除）")) if isinstance(user_id, int) else ""


def _amount(params: Mapping, key: str) -> str:
    value = params.get(key)
    return format_amount(value, 6) if isinstance(value, int) else ""


def _waiting(params: Mapping) -> str:
    names = {"broker": _("经纪人"), "transferor": _("转让方"), "transferee": _("受让方")}
    return "、".join(str(names[who]) for who in params.get("waiting", ()) if who in names)


def _terms(params: Mapping, people: People) -> str:
    share = params.get("inventor_share_bp")
    parts = [_amount(params, "amount_fen"), label(params["mode"]) if params.get("mode") else "",
             _("发明人收益 %(p)s%%", p=rate_number(share)) if isinstance(share, int) else ""]
    return _("第 %(n)s 版：%(terms)s", n=params.get("version", ""), terms="、".join(filter(None, parts)))


def _seat(seat: object, people: People) -> str:
    role, user_id = seat if isinstance(seat, (list, tuple)) and len(seat) == 2 else ("", None)
    if role == TermsRole.INTERMEDIARY:
        return _("中介服务人员%(name)s", name=_person(people, user_id))
    found = TERMS_ROLE_LABELS.get(role)
    return str(found) if found is not None else ""


def _intermediaries(params: Mapping, people: People) -> str:
    listed = "、".join(f"{_person(people, row[0])} {rate_number(row[1])}%" for row in params.get("people", ())
                      if isinstance(row, (list, tuple)) and len(row) == 2)
    return _("第 %(n)s 版：%(people)s；奖励比例 %(rate)s", n=params.get("version", ""), people=listed or _("无"),
             rate=format_rate(params.get("rate_bp", 0)))


def _fee(params: Mapping, people: People) -> str:
    payer = FEE_PAYER_LABELS.get(params.get("payer"), "")
    if isinstance(params.get("fixed_fen"), int):
        fee = _("固定金额 %(a)s，由%(p)s支付", a=_amount(params, "fixed_fen"), p=payer)
    elif isinstance(params.get("rate_bp"), int):
        fee = _("合同金额的 %(r)s%%，由%(p)s支付", r=rate_number(params["rate_bp"]), p=payer)
    else:
        fee = _("未约定")
    return _("第 %(n)s 版：佣金%(fee)s", n=params.get("version", ""), fee=fee)


NOTE_WORDS: dict[str, Callable[[Mapping, People], str]] = {
    "bid_accepted": lambda p, n: _("接受第 %(n)s 轮报价", n=p.get("round", "")),
    "response_accepted": lambda p, n: _("接受揭榜响应"),
    "terms": _terms,
    "terms_accepted": lambda p, n: _("第 %(n)s 版，%(who)s", n=p.get("version", ""),
                                     who="、".join(_seat(seat, n) for seat in p.get("seats", ()))),
    "notice": lambda p, n: _("公示期 %(a)s 至 %(b)s", a=p.get("starts", ""), b=p.get("ends", "")),
    "signed": lambda p, n: _("签约日期 %(d)s，合同金额 %(a)s", d=p.get("day", ""), a=_amount(p, "amount_fen")),
    "payment": lambda p, n: _("回款 %(a)s", a=_amount(p, "amount_fen")),
    "fee": _fee,
    "fee_paid": lambda p, n: _("支付日期 %(d)s，金额 %(a)s", d=p.get("day", ""), a=_amount(p, "amount_fen")),
    "introduced": lambda p, n: _("经 %(b)s 引荐，双方接受", b=_person(n, p.get("broker"))),
    "broker_introduced": lambda p, n: _("%(b)s 成为项目经纪人（双方接受引荐）", b=_person(n, p.get("broker"))),
    "intermediaries": _intermediaries,
    "broker_joined": lambda p, n: _("%(b)s 成为项目经纪人", b=_person(n, p.get("broker"))),
    "broker_removed": lambda p, n: _("移除项目经纪人 %(b)s", b=_person(n, p.get("broker"))),
    "broker_asked": lambda p, n: _("%(b)s 申请担任项目经纪人，待%(w)s确认。", b=_person(n, p.get("broker")),
                                   w=_waiting(p)),
    "broker_invited": lambda p, n: _("%(a)s 邀请 %(b)s 担任项目经纪人，待经纪人确认。", a=_person(n, p.get("by")),
                                     b=_person(n, p.get("broker"))),
    "broker_proposed": lambda p, n: _("平台推荐 %(b)s 担任项目经纪人，待%(w)s确认。", b=_person(n, p.get("broker")),
                                      w=_waiting(p)),
    "broker_consented": lambda p, n: _("%(a)s 同意 %(b)s 担任项目经纪人，待%(w)s确认。", a=_person(n, p.get("by")),
                                       b=_person(n, p.get("broker")), w=_waiting(p)),
    "broker_declined": lambda p, n: _("%(a)s 拒绝 %(b)s 担任项目经纪人", a=_person(n, p.get("by")),
                                      b=_person(n, p.get("broker"))),
    "broker_withdrawn": lambda p, n: _("%(a)s 撤回了请 %(b)s 担任项目经纪人的邀请或申请", a=_person(n, p.get("by")),
                                       b=_person(n, p.get("broker"))),
}
"""Each timeline note code in words."""


def _people_ids(params: Mapping) -> set[int]:
    ids = {params.get(key) for key in ("broker", "by")}
    ids |= {row[0] for row in params.get("people", ()) if isinstance(row, (list, tuple)) and row}
    ids |= {seat[1] for seat in params.get("seats", ()) if isinstance(seat, (list, tuple)) and len(seat) == 2}
    return {value for value in ids if isinstance(value, int)}


def people_named(session: Session, params_list: Iterable[Mapping]) -> dict[int, str]:
    """The names of the people a set of notes mention, in one query."""
    ids = set().union(*(_people_ids(params) for params in params_list))
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def word_note(code: str | None, params: Mapping | None, typed: str, people: People) -> str:
    """A note in the viewer's language: the code's sentence, then what was typed ("：" between them)."""
    word = NOTE_WORDS.get(code or "")
    sentence = word(params or {}, people) if word else ""
    if sentence and typed:
        return _("%(n)s：%(r)s", n=sentence, r=typed)
    return sentence or typed


def step_note(session: Session, code: str | None, params: Mapping | None, typed: str = "") -> str:
    """One note worded now (for the notification that tells people of the step)."""
    return word_note(code, params, typed, people_named(session, [params or {}]))


def timeline_notes(session: Session, events: Iterable[DealEvent]) -> dict[int, str]:
    """The worded note of each timeline entry, by event id."""
    events = list(events)
    people = people_named(session, [event.note_params or {} for event in events])
    return {event.id: word_note(event.note_code, event.note_params, event.note or "", people) for event in events}
