"""Declared inputs: pydantic field types that validate with market.inputs' cleaners (so every rule and Chinese message
stays in one place), the validation of a whole input into clean values, and the input's JSON schema for OpenAPI."""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache
from typing import Annotated, Any

from flask_babel import gettext as _
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError
from pydantic.json_schema import GenerateJsonSchema, models_json_schema
from pydantic_core import PydanticCustomError

from market.inputs import (
    FieldErrors,
    clean_choice,
    clean_choices,
    clean_date,
    clean_fen,
    clean_int,
    clean_terms,
    clean_text,
)
from market.money import MAX_FEN

REFUSED = "refused"
"""The pydantic error type of a value a cleaner refused; its message is the cleaner's."""


class DeclaredInput(BaseModel):
    """The base of every declared input: unknown keys are refused, each field is validated on its own."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    @classmethod
    def check_together(cls, values: dict, errors: FieldErrors) -> None:
        """Rules across fields, run on the fields that passed (a subclass adds its own)."""


class EmptyInput(DeclaredInput):
    """An action that takes no fields (a body, if sent, is the empty object {})."""


def cleaned_by(clean: Callable, **options) -> BeforeValidator:
    """A pydantic validator running one of market.inputs' cleaners; its message becomes the field's error."""

    def validate(value):
        errors = FieldErrors()
        result = clean(errors, "value", value, **options)
        if errors:
            raise PydanticCustomError(REFUSED, "{message}", {"message": errors["value"]})
        return result

    return BeforeValidator(validate)


def text(max_length: int, *, required: bool = False, multiline: bool = True, description: str | None = None) -> Any:
    """Visible text of at most `max_length` characters (no control, text-direction or non-characters)."""
    validator = cleaned_by(clean_text, max_len=max_length, required=required, multiline=multiline)
    if required:
        return Annotated[str, Field(max_length=max_length, description=description), validator]
    return Annotated[str | None, Field("", max_length=max_length, description=description), validator]


def terms(max_items: int, max_length: int, *, description: str | None = None) -> Any:
    """Up to `max_items` short phrases of at most `max_length` characters each."""
    item = Annotated[str, Field(max_length=max_length)]
    return Annotated[list[item] | None, Field(None, max_length=max_items, description=description),
                     cleaned_by(clean_terms, max_items=max_items, max_len=max_length)]


def integer(low: int, high: int, *, required: bool = False, description: str | None = None) -> Any:
    """A whole number within [low, high]."""
    validator = cleaned_by(clean_int, low=low, high=high, required=required)
    if required:
        return Annotated[int, Field(ge=low, le=high, description=description), validator]
    return Annotated[int | None, Field(None, ge=low, le=high, description=description), validator]


def fen(description: str | None = None) -> Any:
    """An optional amount in integer fen (0 … MAX_FEN)."""
    return Annotated[int | None, Field(None, ge=0, le=MAX_FEN, description=description), cleaned_by(clean_fen)]


def choice(enum_class: type[StrEnum], *, description: str | None = None) -> Any:
    """One value of a vocabulary (required)."""
    return Annotated[enum_class, Field(description=description), cleaned_by(clean_choice, enum_class=enum_class)]


def choices(enum_class: type[StrEnum], *, required: bool = False, description: str | None = None) -> Any:
    """Several values of a vocabulary (at least one when required)."""
    validator = cleaned_by(clean_choices, enum_class=enum_class, required=required)
    if required:
        return Annotated[list[enum_class], Field(min_length=1, description=description), validator]
    return Annotated[list[enum_class] | None, Field(None, description=description), validator]


def day(low: Callable[[], date], high: Callable[[], date], *, description: str | None = None) -> Any:
    """An optional ISO date within [low(), high()] (bounds computed when validating, e.g. ten years from today)."""

    def validate(value):
        errors = FieldErrors()
        result = clean_date(errors, "value", value, low=low(), high=high())
        if errors:
            raise PydanticCustomError(REFUSED, "{message}", {"message": errors["value"]})
        return result

    return Annotated[date | None, Field(None, description=description), BeforeValidator(validate)]


def validate_input(model: type[DeclaredInput], data: dict) -> tuple[dict, FieldErrors]:
    """The clean values of the fields that passed, and a Chinese message per field that did not or is unknown.

    Each field is validated through the model on its own (a missing key counts as null), so one bad field does not
    hide another's message and the model's rules across fields can still run on the fields that passed."""
    errors = FieldErrors()
    for key in sorted(set(data) - set(model.model_fields)):
        errors.add(key, _("未知字段。"))
    draft = model.model_construct()
    values = {}
    for name in model.model_fields:
        try:
            setattr(draft, name, data.get(name))
        except PydanticValidationError as error:
            errors.add(name, error_message(error.errors()[0]))
        else:
            values[name] = getattr(draft, name)
    model.check_together(values, errors)
    return values, errors


def error_message(error: dict) -> str:
    """The Chinese message of one pydantic error (a cleaner's own message, else a generic one)."""
    if error["type"] == REFUSED:
        return error["msg"]
    if error["type"] == "extra_forbidden":
        return _("未知字段。")
    return _("格式不正确。")


class OpenApiSchema(GenerateJsonSchema):
    """JSON schema as OpenAPI 3.1 writes it: a nullable simple type is `"type": [T, "null"]`, no generated titles."""

    def nullable_schema(self, schema):
        """`{"type": ["integer", "null"], …}` instead of `anyOf` with a null branch."""
        inner = self.generate_inner(schema["schema"])
        if isinstance(inner.get("type"), str):
            return {**inner, "type": [inner["type"], "null"]}
        return super().nullable_schema(schema)

    def field_title_should_be_set(self, schema) -> bool:
        """Properties are named by their keys; a generated "Title" adds nothing."""
        return False


def components_of(*models: type[BaseModel]) -> dict[str, dict]:
    """The OpenAPI component schemas of the models and of everything they refer to, keyed by class name."""
    _keys, document = models_json_schema([(model, "validation") for model in models],
                                         ref_template="#/components/schemas/{model}", schema_generator=OpenApiSchema)
    return document.get("$defs", {})


@cache
def json_schema(model: type[BaseModel]) -> dict:
    """The model's JSON schema with its definitions inline under `$defs` (for forms and shape checks)."""
    return model.model_json_schema(schema_generator=OpenApiSchema)


@dataclass(frozen=True)
class FieldLimits:
    """What a form needs to know of one declared field."""

    required: bool
    is_list: bool
    max_length: int | None = None
    max_items: int | None = None
    values: tuple = ()
    """The allowed values: a vocabulary's, or every whole number of a small range."""


SMALL_RANGE = 100
"""Integer ranges up to this many values are offered as choices."""


@cache
def declared_limits(model: type[BaseModel]) -> dict[str, FieldLimits]:
    """Each field's limits by field name, read from the model's JSON schema (the document the API publishes)."""
    schema = json_schema(model)
    definitions = schema.get("$defs", {})

    def resolve(spec: dict) -> dict:
        return definitions[spec["$ref"].rsplit("/", 1)[-1]] if "$ref" in spec else spec

    field_names = {field.alias or name: name for name, field in model.model_fields.items()}
    limits = {}
    for key, spec in schema["properties"].items():
        name = field_names.get(key, key)
        spec = resolve(spec)
        types = spec.get("type", [])
        is_list = "array" in types
        member = resolve(spec.get("items", {})) if is_list else spec
        values = tuple(member.get("enum", ()))
        low, high = member.get("minimum"), member.get("maximum")
        if not values and "integer" in member.get("type", []) and low is not None and high is not None \
                and high - low < SMALL_RANGE:
            values = tuple(range(low, high + 1))
        limits[name] = FieldLimits(required=key in schema.get("required", ()), is_list=is_list,
                                   max_length=None if is_list else spec.get("maxLength"),
                                   max_items=spec.get("maxItems"), values=values)
    return limits
