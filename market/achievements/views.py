"""Achievement pages: browse and search, detail, create and edit (the shared listing pages)."""
from flask import Blueprint

from market.accounts.models import Role
from market.achievements.forms import AchievementEditForm
from market.achievements.services import ACHIEVEMENTS
from market.listings.pages import ListingPages, register_listing_pages
from market.listings.vocabulary import Stage, TransferMode

bp = Blueprint("achievements", __name__, url_prefix="/achievements")
register_listing_pages(bp, ListingPages(
    listing_type=ACHIEVEMENTS, form_class=AchievementEditForm, id_name="achievement_id", templates="achievements",
    author_roles=(Role.RESEARCHER, Role.ENTERPRISE),
    facets=lambda: {"stages": list(Stage), "modes": list(TransferMode)}))
