"""Policy commands: `policy simulate`."""
from pathlib import Path

import click
from flask.cli import AppGroup

from market.policy.scenario import ScenarioError, render_result, simulate_file

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
