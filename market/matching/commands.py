"""Matcher evaluation commands (match-eval, suggest-field): no database."""
import click


@click.command("match-eval")
def match_eval():
    """Rank achievements for each demand (to be written)."""
    raise click.ClickException("not written yet")


@click.command("suggest-field")
def suggest_field():
    """Suggest a field for each item (to be written)."""
    raise click.ClickException("not written yet")
