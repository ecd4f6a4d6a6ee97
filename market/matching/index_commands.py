"""`flask reindex`: rebuild the search table and match indexes from the database; refresh the broker board's pairs."""
import time

import click
from flask.cli import with_appcontext

from market.extensions import db


@click.command("reindex")
@click.option("--pairs-days", default=30, show_default=True, type=click.IntRange(min=0, max=3650),
              help="Also match every listing published in the last N days again for the broker board (0: skip). "
                   "No notifications are sent.")
@with_appcontext
def reindex(pairs_days: int) -> None:
    """Rebuild the search table and the match indexes (saved to MATCH_INDEX_PATH) from the database."""
    from market.listings.search_rebuild import rebuild_search_terms
    from market.matching.services import rebuild_indexes, refresh_recent_pairs

    started = time.perf_counter()
    searchable = rebuild_search_terms(db.session)
    click.echo(f"search terms: achievements {searchable['achievement']}, demands {searchable['demand']} "
               f"in {time.perf_counter() - started:.1f}s")
    started = time.perf_counter()
    counts = rebuild_indexes()
    click.echo(f"indexed: achievements {counts['achievement']}, demands {counts['demand']} "
               f"in {time.perf_counter() - started:.1f}s")
    if pairs_days:
        started = time.perf_counter()
        matched = refresh_recent_pairs(db.session, days=pairs_days)
        click.echo(f"pairs refreshed for {matched} listings in {time.perf_counter() - started:.1f}s")
