"""`flask reindex`: rebuild the search table and match indexes from the database and refresh the broker board's
pairs, unless nothing they are built from changed since the last rebuild."""
import click
from flask import current_app
from flask.cli import with_appcontext

from market.extensions import db


@click.command("reindex")
@click.option("--pairs-days", default=30, show_default=True, type=click.IntRange(min=0, max=3650),
              help="Also match every listing published in the last N days again for the broker board (0: skip). "
                   "No notifications are sent.")
@click.option("--force", is_flag=True, help="Rebuild even when the stored fingerprint says everything is current.")
@with_appcontext
def reindex(pairs_days: int, force: bool) -> None:
    """Rebuild the search table and the match indexes (saved to MATCH_INDEX_PATH) from the database."""
    from market.matching.staleness import rebuild_if_stale

    outcome = rebuild_if_stale(db.session, current_app.config["MATCH_INDEX_PATH"], pairs_days=pairs_days,
                               force=force)
    for line in outcome.lines:
        click.echo(line)
