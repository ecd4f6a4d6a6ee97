"""Money commands: `policy simulate`, `policy install` and `check-ledger`."""
from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext

from market.policy.scenario import ScenarioError, render_result, simulate_file
from market.unit_of_work import read_only

policy_cli = AppGroup("policy", help="Policy rule sets and what-if scenarios.")


@policy_cli.command("simulate")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
def simulate(scenario: Path) -> None:
    """Apply the policy rules to a JSON SCENARIO and print the awards as one JSON document."""
    try:
        result = simulate_file(scenario)
    except ScenarioError as error:
        click.echo(f"Error: {error}", err=True)
        raise click.exceptions.Exit(2) from error
    click.echo(render_result(result))


@policy_cli.command("install")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def install(path: Path) -> None:
    """Load a rule-set TOML file into the database (a new copy when it changed; used versions must stay the same)."""
    from sqlalchemy import select

    from market.awards.models import StoredRuleSet
    from market.awards.services import install_rule_set
    from market.errors import DomainError
    from market.extensions import db
    from market.policy.rules import RuleSetError, load_rule_set
    from market.unit_of_work import savepoint

    try:
        candidate = load_rule_set(path)
        known = set(db.session.scalars(select(StoredRuleSet.id)))
        with savepoint(db.session):
            stored = install_rule_set(db.session, path)
    except (RuleSetError, DomainError) as error:
        click.echo(f"Error: {getattr(error, 'message', None) or error}", err=True)
        raise click.exceptions.Exit(2) from error
    if stored.id in known:
        click.echo(f"rule set {stored.name} is unchanged (copy {stored.id})")
    else:
        click.echo(f"rule set {stored.name} installed as copy {stored.id} ({len(candidate.versions)} versions)")


@click.command("check-ledger")
@with_appcontext
@read_only
def check_ledger() -> None:
    """Check the books: balanced transactions, balances against awards, payments, caps and intermediary limits."""
    from market.awards.book_checks import find_book_problems
    from market.extensions import db

    problems = find_book_problems(db.session)
    for problem in problems:
        click.echo(f"PROBLEM: {problem}")
    if problems:
        click.echo(f"{len(problems)} problem(s) found in the books", err=True)
        raise click.exceptions.Exit(1)
    click.echo("ledger OK")
