"""The demo data's achievements and demands as the matcher's plain listings, read from seed_data (no database)."""
from functools import cache

import yaml

from market.matching.engine import Listing, MatchIndex
from market.matching.fields import FieldTree
from market.seeding import SEED_DIR


def _read(path):
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or []


@cache
def demo_field_tree() -> FieldTree:
    """The demo's field tree (seed_data/fields.yaml)."""
    return FieldTree.from_nested(_read(SEED_DIR / "fields.yaml"))


@cache
def _regions() -> dict[str, str]:
    return {row["key"]: row.get("region", "") for row in _read(SEED_DIR / "organisations.yaml")}


def achievement_listing(row: dict) -> Listing:
    """A seed achievement row as the engine sees it (public text, price in fen, TRL, modes, region)."""
    text = "\n".join(row.get(name) or "" for name in ("summary", "description_public", "benefits", "scenarios"))
    return Listing(id=row["key"], kind="achievement", title=row["title"], text=text,
                   keywords=tuple(row.get("keywords") or ()), field=row["field"], trl=row.get("trl"),
                   money_min_fen=row.get("price_min_fen"), money_max_fen=row.get("price_max_fen"),
                   modes=tuple(row.get("transfer_modes") or ()), region=_regions().get(row["organisation"]) or None)


def demand_listing(row: dict) -> Listing:
    """A seed demand row as the engine sees it."""
    return Listing(id=row["key"], kind="demand", title=row["title"], text=row.get("description") or "",
                   keywords=tuple(row.get("keywords") or ()), field=row["field"], trl=row.get("wanted_trl_min"),
                   money_min_fen=row.get("budget_min_fen"), money_max_fen=row.get("budget_max_fen"),
                   modes=tuple(row.get("wanted_modes") or ()), region=_regions().get(row["organisation"]) or None)


@cache
def demo_achievements() -> tuple[Listing, ...]:
    """Every demo achievement, whatever its status."""
    return tuple(achievement_listing(row) for path in sorted((SEED_DIR / "achievements").glob("*.yaml"))
                 for row in _read(path))


@cache
def demo_demands() -> tuple[Listing, ...]:
    """Every demo demand, whatever its status."""
    return tuple(demand_listing(row) for row in _read(SEED_DIR / "demands.yaml"))


def demo_index(listings, **options) -> MatchIndex:
    """A match index over the given listings with the demo's field tree."""
    index = MatchIndex(demo_field_tree(), **options)
    index.add_many(listings)
    return index
