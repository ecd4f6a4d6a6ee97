"""Each length limit is written once: forms, services and columns name the same constant, so they cannot drift."""
import ast
import importlib
import inspect
from pathlib import Path

import pytest
from sqlalchemy import String
from wtforms import Form
from wtforms.fields.core import UnboundField
from wtforms.validators import Length

from market.accounts.forms import SECOND_FACTOR_CODE_MAX_LENGTH
from market.accounts.inputs import PASSWORD_MAX_LENGTH
from market.admin.forms import TARGET_TEXT_MAX_LENGTH
from market.awards.forms import INTERMEDIARY_NAME_MAX_LENGTH, RECIPIENT_FILTER_MAX_LENGTH
from market.declared import DeclaredInput, declared_limits
from market.extensions import db
from market.money import MAX_FEN

MARKET = Path(__file__).resolve().parents[2] / "market"

FORMS_AND_THEIR_RULES = {
    "market.accounts.forms": "market.accounts",
    "market.admin.forms": "market.taxonomy",
    "market.preorders.forms": "market.preorders",
    "market.awards.forms": "market.awards",
    "market.matching.forms": "market.matching",
}
"""Each form module and the package whose services and columns hold the rules its fields show."""

CHECKED_MODULES = [
    *(path for package in ("accounts", "admin", "preorders", "awards", "taxonomy", "organisations")
      for path in sorted((MARKET / package).glob("*.py"))),
    MARKET / "matching" / "forms.py",
    MARKET / "matching" / "services.py",
]

LIMIT_CALLS = {"max_length": 0}
"""Form validator helpers and the position of their limit argument."""
LIMIT_KEYWORDS = {"Length": "max", "clean_text": "max_len", "clean_line": "max_len", "clean_terms": "max_len"}
"""Validators and cleaners and the keyword that carries their limit."""
CLEANERS = {"clean_text", "clean_line", "clean_terms"}

FORM_ONLY_LIMITS = {
    ("PasswordField", "password"): PASSWORD_MAX_LENGTH,
    ("StringField", "code"): SECOND_FACTOR_CODE_MAX_LENGTH,
    ("StringField", "target_achievements"): TARGET_TEXT_MAX_LENGTH,
    ("StringField", "target_companies"): TARGET_TEXT_MAX_LENGTH,
    ("StringField", "recipient"): RECIPIENT_FILTER_MAX_LENGTH,
    ("StringField", "name", "IntermediaryRowForm"): INTERMEDIARY_NAME_MAX_LENGTH,
}
"""Limits a form shows that no text cleaner or column of the same name holds: typed values the service parses
(targets), passwords and codes that are checked, not stored. A form made from a declared input
(formtools.DeclaredForm) takes its lengths from the input instead and lists none here."""


def literal_limits(source: str) -> list[int]:
    """Lines of calls whose limit (a length, or the money bound of a check) is written as a number, not a name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        limits = [keyword.value for keyword in node.keywords if keyword.arg == LIMIT_KEYWORDS.get(name)]
        if name in LIMIT_CALLS and len(node.args) > LIMIT_CALLS[name]:
            limits.append(node.args[LIMIT_CALLS[name]])
        if name == "CheckConstraint" and node.args and isinstance(node.args[0], ast.Constant):
            limits += [node.args[0]] if str(MAX_FEN) in node.args[0].value else []
        if any(isinstance(limit, ast.Constant) for limit in limits):
            found.append(node.lineno)
    return found


def service_limits(package: str) -> dict[str, set[int]]:
    """The lengths the package's services allow each field key (from their text cleaners' calls and the fields of the
    declared inputs the package defines)."""
    limits: dict[str, set[int]] = {}
    for path in sorted((MARKET / package.split(".", 1)[1]).glob("*.py")):
        if path.name in ("forms.py", "views.py"):
            continue
        module = importlib.import_module(f"{package}.{path.stem}")
        for model in vars(module).values():
            if inspect.isclass(model) and issubclass(model, DeclaredInput) and model.__module__ == module.__name__:
                for name, field in declared_limits(model).items():
                    if field.max_length is not None:
                        limits.setdefault(name, set()).add(field.max_length)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = getattr(getattr(node, "func", None), "id", None)
            if name not in CLEANERS or len(node.args) < 2 or not isinstance(node.args[1], ast.Constant):
                continue
            for keyword in node.keywords:
                if keyword.arg == "max_len" and isinstance(keyword.value, ast.Name) \
                        and hasattr(module, keyword.value.id):
                    limits.setdefault(node.args[1].value, set()).add(getattr(module, keyword.value.id))
    return limits


def column_lengths(package: str) -> dict[str, set[int]]:
    """The lengths of the package's string columns, by column name."""
    importlib.import_module(f"{package}.models")
    lengths: dict[str, set[int]] = {}
    for mapper in db.Model.registry.mappers:
        if mapper.class_.__module__.startswith(package + "."):
            for column in mapper.columns:
                if isinstance(column.type, String) and column.type.length:
                    lengths.setdefault(column.key, set()).add(column.type.length)
    return lengths


def limited_fields(module_name: str):
    """(form, field name, field type, maximum length) of every length-limited field the module's forms declare."""
    module = importlib.import_module(module_name)
    for form in vars(module).values():
        if not (inspect.isclass(form) and issubclass(form, Form) and form.__module__ == module_name):
            continue
        for name, field in vars(form).items():
            if not isinstance(field, UnboundField):
                continue
            validators = field.kwargs.get("validators") or (field.args[1] if len(field.args) > 1 else [])
            for validator in validators:
                if isinstance(validator, Length) and validator.max >= 0:
                    yield form.__name__, name, field.field_class.__name__, validator.max


def form_only_limit(form: str, name: str, field_type: str) -> int | None:
    """The declared form-only limit of a field, most specific first."""
    return FORM_ONLY_LIMITS.get((field_type, name, form), FORM_ONLY_LIMITS.get((field_type, name)))


@pytest.mark.parametrize("path", CHECKED_MODULES, ids=lambda path: path.relative_to(MARKET).as_posix())
def test_limits_are_named_constants_not_numbers(path):
    lines = literal_limits(path.read_text(encoding="utf-8"))
    assert lines == [], "name each limit: a constant next to the column or the service that checks it"


@pytest.mark.parametrize("module_name", FORMS_AND_THEIR_RULES)
def test_form_limits_are_the_services_and_columns_limits(module_name):
    package = FORMS_AND_THEIR_RULES[module_name]
    services, columns = service_limits(package), column_lengths(package)
    drifted = []
    for form, name, field_type, limit in limited_fields(module_name):
        expected = form_only_limit(form, name, field_type)
        allowed = {expected} if expected is not None else services.get(name) or columns.get(name)
        if not allowed or limit not in allowed:
            drifted.append(f"{form}.{name}: form allows {limit}, rules allow {sorted(allowed or [])}")
    assert drifted == []


@pytest.mark.parametrize("package", sorted(set(FORMS_AND_THEIR_RULES.values())))
def test_service_limits_fit_the_columns(package):
    services, lengths = service_limits(package), column_lengths(package)
    too_long = {key: sorted(limit for limit in limits if limit > max(lengths[key])) for key, limits in services.items()
                if key in lengths and max(limits) > max(lengths[key])}
    assert too_long == {}


def test_the_checks_see_the_limits_they_compare():
    assert service_limits("market.accounts")["phone"] == {30}
    assert column_lengths("market.preorders")["number"] == {40}
    assert ("ValleyEditForm", "target_achievements", "StringField", 20) in set(limited_fields("market.admin.forms"))
    source = ('a = max_length(40)\nb = clean_text(e, "x", v, max_len=LIMIT)\nc = Length(max=60, message=m)\n'
              f'd = CheckConstraint("fen <= {MAX_FEN}")\ne = CheckConstraint(f"fen <= {{MAX_FEN}}")\n')
    assert literal_limits(source) == [1, 3, 4]
