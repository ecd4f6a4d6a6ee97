"""Demand rules: who may post one; creating and editing run the shared write path."""
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from market.accounts.models import Role, User
from market.demands.content import DemandContent
from market.demands.models import Demand
from market.errors import PermissionDeniedError
from market.listings import editing
from market.listings.vocabulary import ListingKind
from market.security import can_create


def require_demand_author(actor: User) -> None:
    """Only approved enterprise users may post demands."""
    if not can_create(actor, Role.ENTERPRISE):
        raise PermissionDeniedError(_("只有已审核企业的用户可以发布技术需求。"))


DEMANDS = editing.ListingType(kind=ListingKind.DEMAND, content=DemandContent, require_author=require_demand_author)


def clean_demand(session: Session, data: dict) -> dict:
    """Validate demand content (from a form or the API); clean values or ValidationError."""
    return editing.clean_listing(session, DEMANDS, data)


def create_demand(session: Session, actor: User, data: dict, *, submit: bool = False) -> Demand:
    """An enterprise user posts a demand as a draft, or straight into review."""
    return editing.create_listing(session, actor, DEMANDS, data, submit=submit)


def update_demand(session: Session, actor: User, demand_id: int, data: dict, *, submit: bool = False) -> Demand:
    """Edit a demand; a published one goes back to review, as does any edit sent with submit."""
    return editing.update_listing(session, actor, DEMANDS, demand_id, data, submit=submit)
