"""Rebuild the search_terms table from the listings (after a change to how text is segmented)."""
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from market.listings.models import listing_model
from market.listings.services import index_listing
from market.listings.vocabulary import ListingKind

BATCH_SIZE = 500


def rebuild_search_terms(session: Session) -> dict[ListingKind, int]:
    """Segment every achievement and demand again into the search table; the number of listings of each kind."""
    counts = {}
    for kind in ListingKind:
        model = listing_model(kind)
        ids = session.scalars(select(model.id).order_by(model.id)).all()
        for start in range(0, len(ids), BATCH_SIZE):
            batch = session.scalars(select(model).where(model.id.in_(ids[start:start + BATCH_SIZE]))
                                    .options(selectinload(model.field))).all()
            for listing in batch:
                index_listing(session, listing)
            session.flush()
        counts[kind] = len(ids)
    return counts
