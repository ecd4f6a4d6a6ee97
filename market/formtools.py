"""WTForms pieces for our domain inputs (money in the reader's unit, term lists, ids), the base of every form,
binding service errors to form fields, and submitting a small posted form."""
from collections.abc import Callable
from typing import ClassVar

from flask import flash
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from pydantic import BaseModel
from wtforms import Field, FieldList, FormField, IntegerField, SelectFieldBase, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, StopValidation
from wtforms.validators import Optional as OptionalValidator
from wtforms.widgets import TextInput

from market.declared import FieldLimits, declared_limits, validate_input
from market.errors import DomainError
from market.inputs import parse_id
from market.money_input import lazy_label_with_unit, lazy_unit_hint, parse_typed_amount, typed_amount_text
from market.requestguard import holds_nul
from market.unit_of_work import savepoint

CONTROL_CHARACTER = _l("包含不允许的控制字符。")


class MarketForm(FlaskForm):
    """The base of every form: a field whose input holds a NUL is refused next to the field before any of its
    validators (some look the value up, and PostgreSQL cannot compare text holding NUL)."""

    def validate(self, extra_validators=None):
        """Refuse NUL input first, then validate as usual."""
        for field in _leaf_fields(self):
            if holds_nul(field.raw_data):
                field.pre_validate = _refuse_control_character
        return super().validate(extra_validators)


class DeclaredForm(MarketForm):
    """A form whose limits come from a declared input (`declared_input()`, read when the form is made): a field named
    like one of the input's gets DataRequired or Optional (unless it declares its own), the maximum length and the
    allowed choices (labelled by `choice_label`; `blank_choices` adds a leading empty option). With
    `input_says_missing` a required field left empty shows the input's own message instead of WTForms'."""

    blank_choices: ClassVar[dict] = {}
    input_says_missing: ClassVar[bool] = False

    def declared_input(self) -> type[BaseModel]:
        """The declared input whose limits the form shows and checks (looked up when the form is made, so a subclass
        names its model through this method; a form without one is a programming error)."""
        raise TypeError(f"{type(self).__name__} names no declared input")

    def choice_label(self, name: str, value) -> str:
        """The label of an allowed value."""
        return str(value)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.declared_limits = declared_limits(self.declared_input())
        for name, limits in self.declared_limits.items():
            if name in self._fields:
                self._apply_limits(self._fields[name], limits)

    def _apply_limits(self, field: Field, limits: FieldLimits) -> None:
        added = []
        declares_presence = any(isinstance(v, (DataRequired, InputRequired, OptionalValidator)) for v in field.validators)
        if not limits.is_list and not declares_presence:
            added.append(self._presence(field.short_name) if limits.required else OptionalValidator())
        if limits.max_length is not None:
            added.append(max_length(limits.max_length))
        if added:
            field.validators = [*field.validators, *added]
            for validator in added:
                for flag, value in getattr(validator, "field_flags", {}).items():
                    setattr(field.flags, flag, value)
        if limits.values and isinstance(field, SelectFieldBase):
            blank = [("", self.blank_choices[field.short_name])] if field.short_name in self.blank_choices else []
            field.choices = options(blank + [(value, self.choice_label(field.short_name, value))
                                             for value in limits.values])

    def _presence(self, name: str) -> DataRequired | InputRequired:
        if not self.input_says_missing:
            return DataRequired()
        _values, errors = validate_input(self.declared_input(), {})
        return InputRequired(message=errors[name])


class EmptyForm(MarketForm):
    """CSRF-only form for action buttons."""


def _leaf_fields(fields):
    for field in fields:
        if isinstance(field, FieldList):
            yield from _leaf_fields(field.entries)
        elif isinstance(field, FormField):
            yield from _leaf_fields(field.form)
        else:
            yield field


def _refuse_control_character(_form) -> None:
    raise StopValidation(str(CONTROL_CHARACTER))


class DatabaseIdField(IntegerField):
    """An id sent by a select or a hidden input: ASCII digits only (int() would also read "１" as 1)."""

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and valuelist[0] not in ("", None):
            self.data = parse_id(valuelist[0])
            if self.data is None:
                raise ValueError(str(_l("不是有效的编号。")))


class MoneyField(StringField):
    """An amount typed in the reader's unit (万元 in Chinese, yuan in English; a written unit such as 元, 万 or yuan
    wins); `.data` is integer fen or None. The label is given without the unit, which follows it in the reader's
    language, with `note` (如 可不填) after the unit; the description defaults to how to type an amount; after an
    error the field shows what was typed."""

    def __init__(self, label=None, validators=None, note=None, **kwargs):
        kwargs.setdefault("description", lazy_unit_hint())
        kwargs["render_kw"] = {"inputmode": "decimal", **(kwargs.get("render_kw") or {})}
        super().__init__(label, validators, **kwargs)
        self.label.text = lazy_label_with_unit(self.label.text, note)
        self.raw_text = None

    def process_formdata(self, valuelist):
        self.raw_text = valuelist[0] if valuelist else ""
        self.data = None
        if self.raw_text.strip():
            self.data = parse_typed_amount(self.raw_text)

    def _value(self):
        if self.raw_text:
            return self.raw_text
        return typed_amount_text(self.data) if isinstance(self.data, int) else ""


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


def submit_small_form(form, action: Callable[[], object], success: Callable[[object], str] | str) -> None:
    """Run a posted one-step form: flash its field errors, or run the action in a savepoint and flash the service's
    refusal or the success message (a callable receives the action's result)."""
    if not form.validate_on_submit():
        flash("；".join(message for messages in form.errors.values() for message in messages), "error")
        return
    try:
        with savepoint():
            result = action()
    except DomainError as error:
        flash("；".join(error.fields.values()) or error.message, "error")
    else:
        flash(success(result) if callable(success) else str(success), "success")


def options(pairs) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(str(value), label) for value, label in pairs]


def max_length(limit: int) -> Length:
    """A maximum length with a Chinese message (WTForms' own Chinese catalogue lacks this one)."""
    return Length(max=limit, message=_l("不能超过 %(max)d 个字符。"))
