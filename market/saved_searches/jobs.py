"""Saved-search jobs: telling the owners of matching saved searches once a listing's publication is committed."""
from sqlalchemy.orm import Session

from market.jobs.registry import job_kind
from market.listings.models import listing_model
from market.listings.vocabulary import ListingKind
from market.saved_searches.services import TELL_SAVED_SEARCHES_JOB, tell_saved_searches


@job_kind(TELL_SAVED_SEARCHES_JOB, retries=3, retry_waits=(5, 30, 120))
def tell_saved_searches_job(session: Session, kind: str, listing_id: int) -> int:
    """Tell the owners of the saved searches a newly published listing matches (nothing if it is no longer on show)."""
    listing = session.get(listing_model(ListingKind(kind)), listing_id)
    return tell_saved_searches(session, listing) if listing is not None and listing.is_public else 0
