"""Demand rules: what a valid demand is, creating and editing one."""
from datetime import date

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from market.accounts.models import Role, User
from market.demands.models import Demand
from market.errors import InvalidStateError, PermissionDeniedError, ValidationError
from market.inputs import (
    FieldErrors,
    check_money_range,
    clean_choices,
    clean_date,
    clean_fen,
    clean_int,
    clean_terms,
    clean_text,
)
from market.listings import services as listings
from market.listings.vocabulary import ListingKind, ListingStatus, TransferMode
from market.security import can_create
from market.taxonomy.services import find_field_by_code, valley_id_for
from market.timeutil import today_in_china, utcnow

EDITABLE_KEYS = frozenset({"title", "description", "keywords", "field", "budget_min_fen", "budget_max_fen",
                           "wanted_trl_min", "modes", "deadline"})


def clean_demand(session: Session, data: dict) -> dict:
    """Validate demand input (from a form or the API); returns clean values or raises ValidationError."""
    errors = FieldErrors()
    for key in sorted(set(data) - EDITABLE_KEYS):
        errors.add(key, _("未知字段。"))
    today = today_in_china()
    clean = {
        "title": clean_text(errors, "title", data.get("title"), max_len=200, required=True, multiline=False),
        "description": clean_text(errors, "description", data.get("description"), max_len=10000, required=True),
        "keywords": clean_terms(errors, "keywords", data.get("keywords"), max_items=10, max_len=30),
        "budget_min_fen": clean_fen(errors, "budget_min_fen", data.get("budget_min_fen")),
        "budget_max_fen": clean_fen(errors, "budget_max_fen", data.get("budget_max_fen")),
        "wanted_trl_min": clean_int(errors, "wanted_trl_min", data.get("wanted_trl_min"), low=1, high=9),
        "modes": clean_choices(errors, "modes", data.get("modes"), TransferMode),
        "deadline": clean_date(errors, "deadline", data.get("deadline"), low=date(2000, 1, 1),
                               high=date(today.year + 10, 12, 31)),
    }
    field = find_field_by_code(session, data.get("field")) if isinstance(data.get("field"), str) else None
    if field is None:
        errors.add("field", _("请选择所属领域。"))
    clean["field"] = field
    check_money_range(errors, "budget_min_fen", clean["budget_min_fen"], "budget_max_fen", clean["budget_max_fen"])
    if errors:
        raise ValidationError(_("请修改标出的内容。"), dict(errors))
    return clean


def _apply(demand: Demand, clean: dict) -> None:
    modes = clean.pop("modes")
    field = clean.pop("field")
    for key, value in clean.items():
        setattr(demand, key, value)
    demand.field = field
    demand.set_modes(modes)
    demand.updated_at = utcnow()


def require_demand_author(actor: User) -> None:
    """Only approved enterprise users may post demands."""
    if not can_create(actor, Role.ENTERPRISE):
        raise PermissionDeniedError(_("只有已审核企业的用户可以发布技术需求。"))


def create_demand(session: Session, actor: User, data: dict, *, submit: bool = False) -> Demand:
    """An enterprise user posts a demand as a draft, or straight into review."""
    require_demand_author(actor)
    clean = clean_demand(session, data)
    organisation = actor.organisation
    demand = Demand(organisation_id=organisation.id, submitter_id=actor.id, region=organisation.region,
                    valley_id=valley_id_for(session, organisation))
    _apply(demand, clean)
    session.add(demand)
    session.flush()
    listings.record_event(session, demand, actor, "create")
    if submit:
        previous = demand.submit()
        listings.record_event(session, demand, actor, "submit", previous)
    listings.index_listing(session, demand)
    session.flush()
    return demand


def update_demand(session: Session, actor: User, demand_id: int, data: dict, *, submit: bool = False) -> Demand:
    """Edit a demand; a published one goes back to review, as does any edit sent with submit."""
    demand = listings.get_managed_listing(session, actor, ListingKind.DEMAND, demand_id)
    if not demand.is_editable:
        raise InvalidStateError(_("当前状态下不能修改。"))
    clean = clean_demand(session, data)
    was_published = demand.status == ListingStatus.PUBLISHED
    _apply(demand, clean)
    listings.record_event(session, demand, actor, "edit")
    if submit or was_published:
        previous = demand.submit()
        listings.record_event(session, demand, actor, "submit", previous)
        if was_published:
            listings.record_listing_change(session, demand)
    listings.index_listing(session, demand)
    session.flush()
    return demand
