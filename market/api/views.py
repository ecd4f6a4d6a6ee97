"""JSON API v1."""
from flask import Blueprint, jsonify

from market.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


@bp.route("/openapi.json")
def openapi():
    """The OpenAPI 3 document."""
    return jsonify({"openapi": "3.1.0", "info": {"title": "晋创谷成果转化平台 API", "version": "1"}, "paths": {}})
