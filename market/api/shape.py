"""JSON type checks of a request body against its documented schema (keys and types; values are the services' job)."""
from decimal import Decimal

from flask_babel import gettext as _


def shape_errors(schema: dict, data: dict) -> dict[str, str]:
    """A message per top-level key that is unknown or holds the wrong JSON type (nested members are checked too);
    `$ref`s point into the schema's own `$defs`."""
    errors: dict[str, str] = {}
    properties = schema.get("properties", {})
    definitions = schema.get("$defs", {})
    for key, value in data.items():
        if key not in properties:
            if schema.get("additionalProperties", True) is False:
                errors[key] = _("未知字段。")
            continue
        message = _mismatch(properties[key], value, definitions)
        if message:
            errors[key] = message
    return errors


def _mismatch(schema: dict, value, definitions: dict) -> str | None:
    if "$ref" in schema:
        schema = definitions.get(schema["$ref"].rsplit("/", 1)[-1], {})
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    if types and not any(_is_json_type(name, value) for name in types):
        return _expected(next(name for name in types if name != "null"))
    if isinstance(value, list) and "items" in schema:
        return next(filter(None, (_mismatch(schema["items"], item, definitions) for item in value)), None)
    if isinstance(value, dict) and "properties" in schema:
        properties = schema["properties"]
        for key, member in value.items():
            if key not in properties:
                if schema.get("additionalProperties", True) is False:
                    return _("未知字段：%(key)s。", key=key)
                continue
            message = _mismatch(properties[key], member, definitions)
            if message:
                return f"{key}: {message}"
    return None


def _is_json_type(name: str, value) -> bool:
    if name == "integer":
        return type(value) is int
    if name == "number":
        return type(value) is int or isinstance(value, Decimal)
    if name == "boolean":
        return type(value) is bool
    if name == "null":
        return value is None
    return isinstance(value, {"string": str, "array": list, "object": dict}[name])


def _expected(name: str) -> str:
    return {
        "integer": _("应为整数（JSON 数字，不加引号、不带小数点）。"),
        "number": _("应为数字。"),
        "boolean": _("应为 true 或 false。"),
        "string": _("应为文本。"),
        "array": _("应为列表。"),
        "object": _("应为对象。"),
    }[name]
