"""Matcher evaluation commands (match-eval, suggest-field): the web pages' engine, no database.

stdout carries only the result lines (one JSON object per demand or item); the last stderr line is
one JSON object with timings.
"""
from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Iterator
from typing import Any, TextIO

import click

from market.matching.engine import Listing, MatchIndex
from market.matching.fields import FieldTree
from market.matching.suggest import FieldSuggester


def _rows(path: str) -> Iterator[dict[str, Any]]:
    """JSON objects of a JSON-lines file (blank lines skipped)."""
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if line.strip():
                try:
                    row = json.loads(line)
                except ValueError as error:
                    raise click.ClickException(f"{path}:{number}: not JSON ({error})") from error
                if not isinstance(row, dict) or row.get("id") in (None, ""):
                    raise click.ClickException(f"{path}:{number}: expected an object with an id")
                yield row


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _keywords(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(k for k in value if isinstance(k, str))
    return ()


def _field(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _listing(row: dict[str, Any], kind: str, text_key: str) -> Listing:
    """A Listing from one row of a task file."""
    return Listing(id=str(row["id"]), kind=kind, title=_text(row.get("title")), text=_text(row.get(text_key)),
                   keywords=_keywords(row.get("keywords")), field=_field(row.get("field")))


def _field_tree(path: str | None) -> FieldTree | None:
    """The field tree of a YAML file of nested nodes (code, name, keywords, children), if given."""
    if not path:
        return None
    import yaml

    with open(path, encoding="utf-8") as source:
        return FieldTree.from_nested(yaml.safe_load(source) or [])


def _emit(out: TextIO, lines: list[str]) -> None:
    if lines:
        out.write("\n".join(lines) + "\n")
        lines.clear()


def _report(timings: dict[str, Any]) -> None:
    """Timings as the last stderr line."""
    sys.stdout.flush()
    click.echo(json.dumps(timings, ensure_ascii=False), err=True)


@click.command("match-eval")
@click.option("--achievements", "achievements_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="JSON lines: id, title?, summary?, keywords?, field?")
@click.option("--demands", "demands_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="JSON lines: id, title?, description?, keywords?, field?")
@click.option("--top", default=10, show_default=True, type=click.IntRange(min=0), help="Matches per demand.")
@click.option("--fields", "fields_path", default=None, type=click.Path(exists=True, dir_okay=False),
              help="Optional field tree (YAML, as seed_data/fields.yaml).")
def match_eval(achievements_path: str, demands_path: str, top: int, fields_path: str | None) -> None:
    """Rank achievements for each demand; one JSON line per demand on stdout."""
    started = time.perf_counter()
    index = MatchIndex(_field_tree(fields_path))
    index.add_many(_listing(row, "achievement", "summary") for row in _rows(achievements_path))
    index.warm_up()
    index_seconds = time.perf_counter() - started
    rank_started = time.perf_counter()
    per_demand: list[float] = []
    out = sys.stdout
    lines: list[str] = []
    for row in _rows(demands_path):
        demand = _listing(row, "demand", "description")
        began = time.perf_counter()
        matches = index.rank(demand, top)
        per_demand.append(time.perf_counter() - began)
        lines.append(json.dumps({"demand": demand.id, "matches": [
            {"achievement": m.candidate_id, "score": m.score} for m in matches]}, ensure_ascii=False))
        if len(lines) >= 256:
            _emit(out, lines)
    _emit(out, lines)
    rank_seconds = time.perf_counter() - rank_started
    milliseconds = sorted(1000 * t for t in per_demand) or [0.0]
    _report({"index_seconds": round(index_seconds, 3), "rank_seconds": round(rank_seconds, 3),
             "per_demand_ms_p50": round(statistics.median(milliseconds), 3),
             "per_demand_ms_p95": round(milliseconds[int(0.95 * (len(milliseconds) - 1))], 3),
             "achievements": len(index), "demands": len(per_demand)})


@click.command("suggest-field")
@click.option("--labelled", "labelled_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="JSON lines: id, title?, summary, keywords?, field")
@click.option("--items", "items_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="JSON lines: id, title?, summary, keywords?")
def suggest_field(labelled_path: str, items_path: str) -> None:
    """Suggest a field for each item from the labelled listings; one JSON line per item on stdout."""
    started = time.perf_counter()
    suggester = FieldSuggester.from_listings(_listing(row, "achievement", "summary") for row in _rows(labelled_path))
    items = [_listing(row, "achievement", "summary") for row in _rows(items_path)]
    read_seconds = time.perf_counter() - started
    suggest_started = time.perf_counter()
    suggestions = suggester.suggest_many([item.indexed_text() for item in items], top=1)
    lines = [json.dumps({"id": item.id, "field": found[0].label if found else None}, ensure_ascii=False)
             for item, found in zip(items, suggestions)]
    _emit(sys.stdout, lines)
    _report({"read_seconds": round(read_seconds, 3),
             "suggest_seconds": round(time.perf_counter() - suggest_started, 3),
             "labelled": len(suggester), "items": len(items), "labels": len(suggester.labels)})
