"""Headline figures for the public pages."""
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from market.accounts.models import ApprovalStatus, Organisation
from market.listings.queries import count_listings, visible_to_public
from market.listings.services import listing_model
from market.listings.vocabulary import ListingKind
from market.page_cache import remember


def platform_figures(session: Session) -> dict[str, int]:
    """Achievements and demands on offer, sold achievements (the success cases), approved organisations: each the
    number the browse page shows unfiltered (kept until public content changes)."""
    return remember("platform-figures", (), lambda: _count_figures(session))


def _count_figures(session: Session) -> dict[str, int]:
    return {
        "achievements": count_listings(session, ListingKind.ACHIEVEMENT),
        "demands": count_listings(session, ListingKind.DEMAND),
        "dealt": count_listings(session, ListingKind.ACHIEVEMENT, sold=True),
        "organisations": session.scalar(select(func.count()).select_from(Organisation)
                                        .where(Organisation.status == ApprovalStatus.APPROVED)) or 0,
    }


def listings_per_valley(session: Session) -> dict[str, dict[str, int]]:
    """Listings on offer per valley id and kind, by the rule the browse page counts with."""
    result: dict[str, dict[str, int]] = {}
    for kind in ListingKind:
        model = listing_model(kind)
        for valley_id, count in session.execute(select(model.valley_id, func.count())
                                                .where(visible_to_public(model))
                                                .group_by(model.valley_id)):
            if valley_id:
                result.setdefault(valley_id, {})[kind.value] = count
    return result
