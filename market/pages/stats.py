"""Headline figures for the public pages."""
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from market.accounts.models import ApprovalStatus, Organisation
from market.listings.services import listing_model
from market.listings.vocabulary import ListingKind, ListingStatus


def platform_figures(session: Session) -> dict[str, int]:
    """Published achievements and demands, approved organisations, completed deals."""
    achievement, demand = listing_model(ListingKind.ACHIEVEMENT), listing_model(ListingKind.DEMAND)
    count = lambda model, status: session.scalar(select(func.count()).select_from(model).where(model.status == status)) or 0
    return {
        "achievements": count(achievement, ListingStatus.PUBLISHED),
        "demands": count(demand, ListingStatus.PUBLISHED),
        "dealt": count(achievement, ListingStatus.DEALT),
        "organisations": session.scalar(select(func.count()).select_from(Organisation)
                                        .where(Organisation.status == ApprovalStatus.APPROVED)) or 0,
    }


def listings_per_valley(session: Session) -> dict[str, dict[str, int]]:
    """Published listings per valley id and kind."""
    result: dict[str, dict[str, int]] = {}
    for kind in ListingKind:
        model = listing_model(kind)
        for valley_id, count in session.execute(select(model.valley_id, func.count())
                                                .where(model.status == ListingStatus.PUBLISHED)
                                                .group_by(model.valley_id)):
            if valley_id:
                result.setdefault(valley_id, {})[kind.value] = count
    return result
