"""Reads for the pages: the broker board, my deals, a deal's timeline and a listing's deal panel."""
import logging
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from market.accounts.models import (
    Role,
    User,
)
from market.achievements.models import Achievement
from market.awards.models import Award
from market.deals.limits import BOARD_STAGES
from market.deals.models import (
    Bid,
    BidStatus,
    Deal,
    DealEvent,
    DealIntermediary,
    DealPayment,
    DealStage,
    DemandResponse,
    ResponseStatus,
)
from market.deals.permissions import visible_bids, visible_responses
from market.deals.timeline import timeline_notes
from market.demands.models import Demand
from market.errors import (
    PermissionDeniedError,
)
from market.security import is_member_of
from market.taxonomy.models import Field

audit = logging.getLogger("market.audit")

# ---------------------------------------------------------------- pages: lists, the board, the deal page


@dataclass
class BoardFilters:
    """The broker board's filters (already checked against what exists)."""

    valley: str | None = None
    field: str | None = None
    broker: int | str | None = None


@dataclass
class BoardColumn:
    """One stage column of the broker board."""

    stage: DealStage
    deals: list = field(default_factory=list)
    total: int = 0


BOARD_COLUMN_LIMIT = 50


def _deal_options():
    return (selectinload(Deal.transferor), selectinload(Deal.transferee), selectinload(Deal.broker),
            selectinload(Deal.achievement), selectinload(Deal.demand))


def board(session: Session, actor: User, filters: BoardFilters) -> list[BoardColumn]:
    """Every deal by stage for brokers and admins, filtered by valley, top-level field and broker."""
    if not (actor.is_admin or (actor.role == Role.BROKER and actor.is_approved_member)):
        raise PermissionDeniedError(_("项目看板仅对技术经理人和平台运营人员开放。"))
    query = (select(Deal).outerjoin(Achievement, Deal.achievement_id == Achievement.id)
             .outerjoin(Demand, Deal.demand_id == Demand.id))
    if filters.valley:
        query = query.where(or_(Achievement.valley_id == filters.valley, Demand.valley_id == filters.valley))
    if filters.field:
        achievement_field, demand_field = aliased(Field), aliased(Field)
        query = (query.outerjoin(achievement_field, Achievement.field_id == achievement_field.id)
                 .outerjoin(demand_field, Demand.field_id == demand_field.id)
                 .where(or_(achievement_field.code == filters.field,
                            achievement_field.code.startswith(filters.field + ".", autoescape=True),
                            demand_field.code == filters.field,
                            demand_field.code.startswith(filters.field + ".", autoescape=True))))
    if filters.broker == "none":
        query = query.where(Deal.broker_id.is_(None))
    elif isinstance(filters.broker, int):
        query = query.where(Deal.broker_id == filters.broker)
    deals = session.scalars(query.options(*_deal_options()).order_by(Deal.updated_at.desc(), Deal.id.desc())).all()
    columns = {stage: BoardColumn(stage) for stage in BOARD_STAGES}
    for deal in deals:
        column = columns[DealStage(deal.stage)]
        column.total += 1
        if len(column.deals) < BOARD_COLUMN_LIMIT:
            column.deals.append(deal)
    return list(columns.values())


@dataclass
class MyDeals:
    """What the deal list page shows a user: deals, bids and responses that concern them."""

    deals: list = field(default_factory=list)
    bids: list = field(default_factory=list)
    responses: list = field(default_factory=list)


def my_deals(session: Session, actor: User) -> MyDeals:
    """Deals of the actor's organisation (or that the actor brokers or intermediates), with its bids and responses."""
    mine = MyDeals()
    conditions = [Deal.broker_id == actor.id,
                  Deal.id.in_(select(DealIntermediary.deal_id).where(DealIntermediary.user_id == actor.id))]
    org = actor.organisation_id if actor.is_approved_member and not actor.is_admin else None
    if org is not None:
        conditions += [Deal.transferor_id == org, Deal.transferee_id == org]
    mine.deals = list(session.scalars(select(Deal).where(or_(*conditions)).options(*_deal_options())
                                      .order_by(Deal.updated_at.desc(), Deal.id.desc()).limit(500)))
    if org is not None:
        mine.bids = list(session.scalars(
            select(Bid).where(visible_bids(actor))
            .options(selectinload(Bid.versions), selectinload(Bid.achievement), selectinload(Bid.bidder_organisation))
            .order_by(Bid.updated_at.desc(), Bid.id.desc()).limit(500)))
        mine.responses = list(session.scalars(
            select(DemandResponse).where(visible_responses(actor))
            .options(selectinload(DemandResponse.demand), selectinload(DemandResponse.responder_organisation))
            .order_by(DemandResponse.id.desc()).limit(500)))
    return mine


def deal_events(session: Session, deal: Deal) -> list[DealEvent]:
    """The deal's timeline, oldest first."""
    return list(session.scalars(select(DealEvent).where(DealEvent.deal_id == deal.id)
                                .options(selectinload(DealEvent.actor)).order_by(DealEvent.at, DealEvent.id)))


@dataclass(frozen=True)
class TimelineEntry:
    """A timeline event as shown: its note worded in the viewer's language."""

    event: DealEvent
    note: str

    def __getattr__(self, name: str):
        return getattr(self.event, name)


def deal_timeline(session: Session, deal: Deal) -> list[TimelineEntry]:
    """The deal's timeline, oldest first, each note worded for the viewer."""
    events = deal_events(session, deal)
    notes = timeline_notes(session, events)
    return [TimelineEntry(event, notes[event.id]) for event in events]


def deal_payments(session: Session, deal: Deal) -> list[DealPayment]:
    """Proceeds recorded on the deal, oldest first."""
    return list(session.scalars(select(DealPayment).where(DealPayment.deal_id == deal.id)
                                .order_by(DealPayment.paid_on, DealPayment.id)))


def deal_awards(session: Session, deal: Deal) -> list[Award]:
    """Awards the deal's events produced, in the order they were computed."""
    return list(session.scalars(select(Award).where(Award.deal_id == deal.id).order_by(Award.id)))


@dataclass
class ListingPanel:
    """What the bid/response panel on an achievement or demand page shows the current user."""

    can_start: bool = False
    login_to_start: bool = False
    own_open: object = None
    received: list = field(default_factory=list)
    deals: list = field(default_factory=list)


def listing_panel(session: Session, user: User | None, kind: str, listing) -> ListingPanel:
    """The current user's bids or responses on a listing, and (for its owners) those received and the deals opened."""
    panel = ListingPanel()
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    if not authenticated:
        panel.login_to_start = listing.is_public
        return panel
    owner = is_member_of(user, listing.organisation_id) or user.is_admin
    tracker = owner or (user.role == Role.BROKER and user.is_approved_member)
    if kind == "achievement":
        if owner:
            panel.received = list(session.scalars(select(Bid).where(Bid.achievement_id == listing.id)
                                                  .order_by(Bid.updated_at.desc()).limit(50)))
        elif user.role == Role.ENTERPRISE and user.is_approved_member:
            panel.own_open = session.scalar(select(Bid).where(Bid.achievement_id == listing.id,
                                                              Bid.bidder_organisation_id == user.organisation_id,
                                                              Bid.status == BidStatus.OPEN))
            panel.can_start = panel.own_open is None and listing.is_public
        if tracker:
            panel.deals = list(session.scalars(select(Deal).where(Deal.achievement_id == listing.id)
                                               .order_by(Deal.id.desc()).limit(50)))
    else:
        if owner:
            panel.received = list(session.scalars(select(DemandResponse).where(DemandResponse.demand_id == listing.id)
                                                  .order_by(DemandResponse.id.desc()).limit(50)))
        elif user.role == Role.RESEARCHER and user.is_approved_member:
            panel.own_open = session.scalar(select(DemandResponse).where(
                DemandResponse.demand_id == listing.id,
                DemandResponse.responder_organisation_id == user.organisation_id,
                DemandResponse.status == ResponseStatus.OPEN))
            panel.can_start = panel.own_open is None and listing.is_public
        if tracker:
            panel.deals = list(session.scalars(select(Deal).where(Deal.demand_id == listing.id)
                                               .order_by(Deal.id.desc()).limit(50)))
    return panel
