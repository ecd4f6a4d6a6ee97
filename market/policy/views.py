"""Money pages: awards, approvals and payouts, the what-if calculator."""
from flask import Blueprint

bp = Blueprint("money", __name__, url_prefix="/money")
