"""Ledger commands: `check-ledger` verifies the whole money books."""
import click
from flask.cli import with_appcontext

from market.extensions import db
from market.unit_of_work import read_only


@click.command("check-ledger")
@with_appcontext
@read_only
def check_ledger() -> None:
    """Check the books: balanced transactions, balances against awards, payments, caps and intermediary limits."""
    from market.ledger.checks import find_book_problems

    problems = find_book_problems(db.session)
    for problem in problems:
        click.echo(f"PROBLEM: {problem}")
    if problems:
        click.echo(f"{len(problems)} problem(s) found in the books", err=True)
        raise click.exceptions.Exit(1)
    click.echo("ledger OK")
