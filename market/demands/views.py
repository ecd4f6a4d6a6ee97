"""Demand pages: browse and search, detail, create and edit (the shared listing pages)."""
from flask import Blueprint

from market.accounts.models import Role
from market.demands.forms import DemandEditForm
from market.demands.services import DEMANDS
from market.listings.pages import ListingPages, register_listing_pages

bp = Blueprint("demands", __name__, url_prefix="/demands")
register_listing_pages(bp, ListingPages(listing_type=DEMANDS, form_class=DemandEditForm, id_name="demand_id",
                                        templates="demands", author_roles=(Role.ENTERPRISE,)))
