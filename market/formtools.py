"""WTForms pieces for our domain inputs (money in 万元, term lists) and binding service errors to form fields."""
from flask_babel import lazy_gettext as _l
from wtforms import Field, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length
from wtforms.widgets import TextInput

from market.errors import DomainError
from market.money import MoneyFormatError, parse_yuan

FEN_PER_WAN = 1_000_000


def fen_to_wan_text(fen: int | None) -> str:
    """Fen as the plain 万元 number a form shows (exact, no float)."""
    if fen is None:
        return ""
    whole, rest = divmod(fen, FEN_PER_WAN)
    if not rest:
        return str(whole)
    return f"{whole}.{rest:06d}".rstrip("0")


class WanMoneyField(StringField):
    """An amount typed in 万元 (a trailing 元 or 万 unit is also understood); `.data` is integer fen or None."""

    def process_formdata(self, valuelist):
        self.raw_text = valuelist[0] if valuelist else ""
        text = self.raw_text.strip()
        self.data = None
        if not text:
            return
        if not text.endswith(("元", "万")):
            text += "万"
        try:
            self.data = parse_yuan(text)
        except MoneyFormatError as error:
            self.data = None
            raise ValueError(str(error)) from error

    def _value(self):
        if getattr(self, "raw_text", None) is not None and self.raw_text != "":
            return self.raw_text
        return fen_to_wan_text(self.data) if isinstance(self.data, int) else ""


class TermsField(Field):
    """Short phrases separated by commas, 、 or ；; `.data` is a list of strings."""

    widget = TextInput()

    def process_formdata(self, valuelist):
        text = valuelist[0] if valuelist else ""
        self.raw_text = text
        self.data = text

    def _value(self):
        if isinstance(self.data, list):
            return "，".join(self.data)
        return self.data or ""


def apply_errors(form, error: DomainError) -> None:
    """Show a service's field errors next to the matching form fields (others go to the form's top)."""
    form.form_errors = list(getattr(form, "form_errors", []))
    for name, message in error.fields.items():
        if name in form._fields:
            form._fields[name].errors = list(form._fields[name].errors) + [message]
        else:
            form.form_errors.append(message)
    if not error.fields:
        form.form_errors.append(error.message)


MONEY_HINT = _l("单位：万元，如 50 或 12.5")


def options(pairs) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(str(value), label) for value, label in pairs]


def max_length(limit: int) -> Length:
    """A maximum length with a Chinese message (WTForms' own Chinese catalogue lacks this one)."""
    return Length(max=limit, message=_l("不能超过 %(max)d 个字符。"))
