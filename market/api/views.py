"""JSON API v1: search, read and write achievements and demands with bearer tokens; thin views over services."""
from flask import Blueprint, current_app, jsonify, request, url_for
from flask_babel import gettext as _

from market.achievements.services import ACHIEVEMENTS
from market.api.auth import AuthenticationError, optional_token_user, require_token_user
from market.api.openapi import DEFAULT_MATCHES, MAX_LISTING_ID, openapi_document, search_parameters
from market.api.requests import listing_request
from market.api.serializers import (
    achievement_json,
    demand_json,
    matches_json,
    page_json,
)
from market.api.shape import shape_errors
from market.api.strictjson import read_json_body
from market.declared import json_schema
from market.demands.services import DEMANDS
from market.errors import ValidationError, json_error
from market.extensions import csrf, db
from market.inputs import FieldErrors, clean_int
from market.listings import editing, queries
from market.listings import services as listings
from market.listings.access import can_open_confidential
from market.listings.vocabulary import ListingKind
from market.matching import services as matching
from market.security import can_manage_listing
from market.unit_of_work import savepoint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

ACHIEVEMENT_QUERY = frozenset(parameter["name"] for parameter in search_parameters(with_stage=True))
DEMAND_QUERY = frozenset(parameter["name"] for parameter in search_parameters(with_stage=False))
LISTING_ID = f"int(min=1, max={MAX_LISTING_ID})"


@bp.errorhandler(AuthenticationError)
def handle_authentication_error(error: AuthenticationError):
    """401 with the Bearer challenge (RFC 6750)."""
    response = json_error(error.status, error.code, error.message, error.fields)
    response.headers["WWW-Authenticate"] = error.challenge
    return response


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document."""
    return jsonify(openapi_document())


@bp.get("/achievements")
def list_achievements():
    """Search published achievements."""
    result = queries.search_listings(db.session, ListingKind.ACHIEVEMENT, _search_params(ACHIEVEMENT_QUERY),
                                     with_facets=False)
    return jsonify(page_json(result, achievement_json))


@bp.get("/demands")
def list_demands():
    """Search published demands."""
    result = queries.search_listings(db.session, ListingKind.DEMAND, _search_params(DEMAND_QUERY), with_facets=False)
    return jsonify(page_json(result, demand_json))


@bp.get(f"/achievements/<{LISTING_ID}:achievement_id>")
def get_achievement(achievement_id: int):
    """One achievement; the confidential part only for its organisation's members, admins and grantees who accepted the
    confidentiality statement."""
    actor = optional_token_user(db.session, request)
    achievement = listings.get_listing(db.session, actor, ListingKind.ACHIEVEMENT, achievement_id)
    return jsonify(achievement_json(achievement, confidential=can_open_confidential(db.session, actor, achievement),
                                    manager=can_manage_listing(actor, achievement)))


@bp.get(f"/demands/<{LISTING_ID}:demand_id>")
def get_demand(demand_id: int):
    """One demand; review notes only for its organisation's members and admins."""
    actor = optional_token_user(db.session, request)
    demand = listings.get_listing(db.session, actor, ListingKind.DEMAND, demand_id)
    return jsonify(demand_json(demand, confidential=can_manage_listing(actor, demand)))


@bp.get(f"/achievements/<{LISTING_ID}:achievement_id>/matches")
def achievement_matches(achievement_id: int):
    """Demands matching an achievement, with explanations: for its organisation's members, brokers and admins."""
    return _matches(ListingKind.ACHIEVEMENT, achievement_id)


@bp.get(f"/demands/<{LISTING_ID}:demand_id>/matches")
def demand_matches(demand_id: int):
    """Achievements matching a demand, with explanations: for its organisation's members, brokers and admins."""
    return _matches(ListingKind.DEMAND, demand_id)


@bp.post("/achievements")
def create_achievement():
    """List an achievement as a draft, or straight into review with "submit": true."""
    achievement = _create(ACHIEVEMENTS)
    return _created(achievement_json(achievement, confidential=True), "api.get_achievement",
                    achievement_id=achievement.id)


@bp.post("/demands")
def create_demand():
    """Post a demand as a draft, or straight into review with "submit": true."""
    demand = _create(DEMANDS)
    return _created(demand_json(demand, confidential=True), "api.get_demand", demand_id=demand.id)


@bp.put(f"/achievements/<{LISTING_ID}:achievement_id>")
def update_achievement(achievement_id: int):
    """Replace an achievement's content; an edited published achievement goes back to review."""
    achievement = _update(ACHIEVEMENTS, achievement_id)
    return jsonify(achievement_json(achievement, confidential=True))


@bp.put(f"/demands/<{LISTING_ID}:demand_id>")
def update_demand(demand_id: int):
    """Replace a demand's content; an edited published demand goes back to review."""
    demand = _update(DEMANDS, demand_id)
    return jsonify(demand_json(demand, confidential=True))


def _create(listing_type: editing.ListingType):
    """401, then 403 for a caller who may not author this kind, before the body is read for its shape and values."""
    actor = require_token_user(db.session, request)
    data = _read_body()
    listing_type.require_author(actor)
    submit = _checked(listing_type, data)
    return editing.create_listing(db.session, actor, listing_type, data, submit=submit)


def _update(listing_type: editing.ListingType, listing_id: int):
    """401, then 404 for a listing the caller does not manage, before the body is checked."""
    actor = require_token_user(db.session, request)
    data = _read_body()
    listings.get_managed_listing(db.session, actor, listing_type.kind, listing_id)
    submit = _checked(listing_type, data)
    return editing.update_listing(db.session, actor, listing_type, listing_id, data, submit=submit)


def _search_params(allowed: frozenset[str]) -> queries.SearchParams:
    """Search parameters from the query string; unknown, repeated or invalid parameters are a 422."""
    errors = {}
    for name in request.args:
        if name not in allowed:
            errors[name] = _("未知的查询参数。")
        elif len(request.args.getlist(name)) > 1:
            errors[name] = _("参数只能出现一次。")
    params, invalid = queries.parse_search_args(request.args)
    errors = {**invalid, **errors}
    if errors:
        raise ValidationError(_("查询参数无效。"), errors)
    return params


def _matches(kind: ListingKind, listing_id: int):
    """401 without a token, 422 for bad parameters, 404 for a listing the caller may not see, 403 when they see
    it but not its matches (another organisation's published listing, for a researcher or an enterprise)."""
    actor = require_token_user(db.session, request)
    errors = FieldErrors()
    for name in request.args:
        if name != "top":
            errors.add(name, _("未知的查询参数。"))
        elif len(request.args.getlist(name)) > 1:
            errors.add(name, _("参数只能出现一次。"))
    top = clean_int(errors, "top", request.args.get("top"), low=1, high=matching.MAX_TOP)
    if errors:
        raise ValidationError(_("查询参数无效。"), dict(errors))
    found = matching.list_listing_matches(db.session, actor, kind, listing_id, top=top or DEFAULT_MATCHES)
    return jsonify(matches_json(found))


def _read_body() -> dict:
    return read_json_body(request, current_app.config["API_MAX_BODY_BYTES"])


def _checked(listing_type: editing.ListingType, data: dict) -> bool:
    """Refuse wrong JSON types (a string or float where an integer belongs …) against the kind's request schema,
    together with the service's own findings for the other keys; pops and returns the "submit" flag."""
    errors = shape_errors(json_schema(listing_request(listing_type)), data)
    if errors:
        try:
            with savepoint():
                editing.clean_listing(db.session, listing_type,
                                      {key: value for key, value in data.items() if key not in errors and key != "submit"})
        except ValidationError as error:
            errors = {**error.fields, **errors}
        raise ValidationError(_("请修改标出的内容。"), errors)
    return data.pop("submit", False)


def _created(body: dict, endpoint: str, **values):
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = url_for(endpoint, **values)
    return response
from market.api import (  # noqa: F401  (their routes register on bp)
    deal_brokers,
    deals,
    introductions,
    money,
    preorder_agreements,
    registrations,
    saved_searches,
)
