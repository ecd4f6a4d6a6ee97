"""deals pages."""
from flask import Blueprint

bp = Blueprint("deals", __name__, url_prefix="/deals")
