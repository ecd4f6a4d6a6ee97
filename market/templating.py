"""Template filters and globals: money, vocabulary labels, dates, highlighting."""
import re
from urllib.parse import urlencode

from flask import Flask, request
from flask_babel import format_date, format_datetime, get_locale
from flask_login import current_user
from markupsafe import Markup, escape

from market.confirmations.models import STATUS_LABELS, FactStatus
from market.listings.vocabulary import label
from market.money import format_rate, format_wan, format_yuan, format_yuan_whole
from market.money_input import reader_unit, typed_amount_text
from market.taxonomy.wording import city_name, field_name, valley_name
from market.text import normalise


def format_amount(fen: int, max_places: int = 2) -> str:
    """An amount as people read it in their language: 万元 in Chinese (12.3万元), yuan in English (¥123,000)."""
    locale = get_locale()
    if locale is not None and locale.language == "en":
        return format_yuan_whole(fen)
    return format_wan(fen, max_places)


def money_range(low: int | None, high: int | None) -> str:
    """A price or budget range in 万元 (yuan in English), or 面议 when absent."""
    from flask_babel import gettext as _

    if low is None and high is None:
        return _("面议")
    if high is None or low == high:
        return format_amount(low if low is not None else high)
    if low is None:
        return _("不超过 %(v)s", v=format_amount(high))
    return f"{format_amount(low)} – {format_amount(high)}"


def highlight(text: str, terms: list[str]) -> Markup:
    """The text escaped, with every occurrence of the terms wrapped in <mark> (matched as the search normalises text:
    full-width and upper case find their half-width, lower-case terms; markup in the text or the terms stays text)."""
    text = str(text or "")
    wanted = sorted({folded for term in terms if (folded := normalise(term).strip())}, key=len, reverse=True)
    if not wanted:
        return Markup(escape(text))
    folded_chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        for piece in normalise(char):
            folded_chars.append(piece)
            origin.append(index)
    pieces: list[str] = []
    position = 0
    for match in re.finditer("|".join(map(re.escape, wanted)), "".join(folded_chars)):
        start, end = origin[match.start()], origin[match.end() - 1] + 1
        if start < position:
            continue
        pieces += [escape(text[position:start]), "<mark>", escape(text[start:end]), "</mark>"]
        position = end
    pieces.append(escape(text[position:]))
    return Markup("".join(str(piece) for piece in pieces))


def url_with(**changes) -> str:
    """The current URL with some query arguments changed (None removes one); page resets unless given."""
    args = request.args.to_dict(flat=True)
    if "page" not in changes:
        args.pop("page", None)
    for key, value in changes.items():
        if value is None or value == "":
            args.pop(key, None)
        else:
            args[key] = value
    query = urlencode(args)
    return request.path + ("?" + query if query else "")


def register_template_helpers(app: Flask) -> None:
    """Make the helpers available in every template."""
    app.jinja_env.filters.update(
        yuan=format_yuan, wan=format_amount, label=label, highlight=highlight,
        percent=lambda rate_bp: format_rate(rate_bp) if rate_bp is not None else "",
        date=lambda value: format_date(value, "yyyy-MM-dd") if value else "",
        datetime=lambda value: format_datetime(value, "yyyy-MM-dd HH:mm") if value else "",
        fact_status=lambda status: STATUS_LABELS[FactStatus(status)],
        valley_name=valley_name, city_name=city_name, field_name=field_name, typed_amount=typed_amount_text,
    )
    app.jinja_env.globals.update(money_range=money_range, url_with=url_with, label=label,
                                 reader_money_unit=lambda: reader_unit().value)

    @app.context_processor
    def inject_globals():
        unread = 0
        if current_user.is_authenticated:
            from market.extensions import db
            from market.notifications.services import count_unread

            unread = count_unread(db.session, current_user)
        return {"demo_mode": app.config["DEMO_MODE"], "unread_count": unread, "current_locale": "zh_CN" if get_locale().language == "zh" else "en"}
