"""JSON API v1 for saved searches: list, read, save and delete the caller's own, through the same services as the
saved-search pages."""
from flask import jsonify, request, url_for

from market.api import money
from market.api.auth import require_token_user
from market.api.serializers import iso
from market.api.views import bp
from market.declared import json_schema
from market.extensions import db
from market.saved_searches import services
from market.saved_searches.inputs import SavedSearchInput
from market.saved_searches.models import SavedSearch
from market.saved_searches.views import browse_url


def saved_search_json(saved: SavedSearch) -> dict:
    """A saved search: its kind, words and filters, their wording and the browse page showing its results."""
    return {
        "id": saved.id,
        "kind": str(saved.kind),
        "q": saved.q,
        "field": saved.field,
        "valley": saved.valley,
        "stage": saved.stage or None,
        "mode": saved.mode or None,
        "region": saved.region,
        "min_fen": saved.min_fen,
        "max_fen": saved.max_fen,
        "description": services.describe(db.session, saved),
        "browse_url": browse_url(saved.kind, saved.criteria()),
        "created_at": iso(saved.created_at),
    }


@bp.get("/saved-searches")
def list_saved_searches():
    """The caller's saved searches, newest first."""
    actor = require_token_user(db.session, request)
    args = money.query_arguments(money.PAGING)
    found = services.list_saved_searches(db.session, actor)
    start = (args["page"] - 1) * args["per_page"]
    return jsonify({"items": [saved_search_json(item) for item in found[start:start + args["per_page"]]],
                    "total": len(found), "page": args["page"], "per_page": args["per_page"],
                    "pages": max(1, -(-len(found) // args["per_page"]))})


@bp.post("/saved-searches")
def save_search():
    """Save a search (201, or 200 with the one kept before when the same search was saved already)."""
    actor = require_token_user(db.session, request)
    data = money.read_body()
    money.refuse_shape(json_schema(SavedSearchInput), data)
    saved, created = services.save_search(db.session, actor, data)
    response = jsonify(saved_search_json(saved))
    if created:
        response.status_code = 201
        response.headers["Location"] = url_for("api.get_saved_search", saved_search_id=saved.id)
    return response


@bp.get("/saved-searches/<int:saved_search_id>")
def get_saved_search(saved_search_id: int):
    """One of the caller's saved searches."""
    actor = require_token_user(db.session, request)
    money.query_arguments({})
    return jsonify(saved_search_json(services.get_saved_search(db.session, actor, saved_search_id)))


@bp.delete("/saved-searches/<int:saved_search_id>")
def delete_saved_search(saved_search_id: int):
    """Delete one of the caller's saved searches (204)."""
    actor = require_token_user(db.session, request)
    money.query_arguments({})
    services.delete_saved_search(db.session, actor, saved_search_id)
    return "", 204
