"""Matching jobs: pairing a listing once its publication is committed, and rebuilding the indexes."""
from flask import current_app
from sqlalchemy.orm import Session

from market.jobs.registry import job_kind
from market.matching.services import PAIR_LISTING_JOB, pair_listing
from market.matching.staleness import rebuild_if_stale

REINDEX_JOB = "matching.reindex"


@job_kind(PAIR_LISTING_JOB, retries=3, retry_waits=(5, 30, 120))
def pair_listing_job(session: Session, kind: str, listing_id: int) -> int:
    """Keep the pairs of a published listing and tell the owners it matches well."""
    return pair_listing(session, kind, listing_id)


@job_kind(REINDEX_JOB, retries=2, retry_waits=(60, 300), timeout_seconds=3600)
def reindex_job(session: Session, pairs_days: int = 30) -> bool:
    """Rebuild the search table, the match indexes and the recent pairs, unless nothing changed since the last time."""
    return rebuild_if_stale(session, current_app.config["MATCH_INDEX_PATH"], pairs_days=pairs_days).rebuilt
