"""Amounts as the reader types them: the unit of the page's language (万元 in Chinese, yuan in English), its words,
and parse errors in the reader's language."""
from flask_babel import LazyString, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from market.money import MoneyFormatError, MoneyUnit, amount_input_value, parse_amount

UNIT_WORDS = {MoneyUnit.WAN: _l("万元"), MoneyUnit.YUAN: _l("元")}
UNIT_HINTS = {
    MoneyUnit.WAN: _l("单位：万元，如 50 或 12.5；也可写成“3500元”。"),
    MoneyUnit.YUAN: _l("单位：元，如 500000 或 1,250,000.50；也可写成“50万”。"),
}


def reader_unit() -> MoneyUnit:
    """The unit a bare number typed on this page is read in: 万元 in Chinese (and outside a request), yuan otherwise."""
    locale = get_locale()
    if locale is None or locale.language == "zh":
        return MoneyUnit.WAN
    return MoneyUnit.YUAN


def money_error_text(error: MoneyFormatError) -> str:
    """A money parse error in the reader's language."""
    return _(error.msgid, **error.params)


def parse_typed_amount(text: str, unit: MoneyUnit | None = None) -> int:
    """Fen from what the reader typed (a bare number in `unit`, by default the reader's); a ValueError carries the
    message in the reader's language."""
    try:
        return parse_amount(text, unit or reader_unit())
    except MoneyFormatError as error:
        raise ValueError(money_error_text(error)) from error


def typed_amount_text(fen: int | None, unit: MoneyUnit | None = None) -> str:
    """A stored amount as the reader would type it ('' for none)."""
    return "" if fen is None else amount_input_value(fen, unit or reader_unit())


def label_with_unit(label: str, unit: MoneyUnit, note: str | None = None) -> str:
    """A money field's label with its unit after it: 报价（万元） / Bid (yuan), with an optional note: 报价（万元，可不填）."""
    if note:
        return _("%(label)s（%(unit)s，%(note)s）", label=label, unit=UNIT_WORDS[unit], note=note)
    return _("%(label)s（%(unit)s）", label=label, unit=UNIT_WORDS[unit])


def lazy_label_with_unit(label: str, note: str | None = None) -> LazyString:
    """label_with_unit in the unit of the page it is shown on."""
    return LazyString(lambda: label_with_unit(str(label), reader_unit(), str(note) if note else None))


def lazy_unit_hint() -> LazyString:
    """How to type an amount, in the unit of the page it is shown on."""
    return LazyString(lambda: str(UNIT_HINTS[reader_unit()]))
