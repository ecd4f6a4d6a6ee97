"""How tests call the JSON API: a bearer-token header for a user, and validators of the OpenAPI document's schemas."""
import jsonschema

from market.accounts.services import create_api_token
from market.api.openapi import openapi_document
from market.extensions import db


def bearer(user) -> dict:
    """Authorization header with a fresh personal API token of the user (none for a visitor, None), committed so that
    request threads on other connections see it (the service only flushes)."""
    if user is None:
        return {}
    token = create_api_token(db.session, user, "test")
    db.session.commit()
    return {"Authorization": "Bearer " + token}


def schema_validator(name: str) -> jsonschema.Draft202012Validator:
    """A validator for one component schema of the OpenAPI document, resolving references inside it."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": openapi_document()["components"]}
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
