"""Packages of market/ do not import each other in a circle, but for the pairs named here, whose modules do not."""
import ast
from pathlib import Path

MARKET = Path(__file__).resolve().parents[2] / "market"

ALLOWED = {
    # The money pages and book checks read deals and agreements, whose services record events with the money core;
    # the module graph has no cycle (contracts in pyproject.toml keep the money core from reading either).
    frozenset({"awards", "deals"}),
    frozenset({"awards", "preorders"}),
}
"""Package pairs that import each other on purpose."""


def package_imports() -> dict[str, set[str]]:
    """For each top-level package or module of market/, the others it imports (at any depth, lazily too)."""
    edges: dict[str, set[str]] = {}
    for path in MARKET.rglob("*.py"):
        relative = path.relative_to(MARKET)
        if relative.parts[0] == "migrations":
            continue
        source = relative.parts[0].removesuffix(".py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] if node.module != "market" else [f"market.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] == "market" and len(parts) > 1 and parts[1] != source:
                    edges.setdefault(source, set()).add(parts[1])
    return edges


def test_no_two_packages_import_each_other():
    edges = package_imports()
    pairs = {frozenset({a, b}) for a, targets in edges.items() for b in targets if a in edges.get(b, set())}
    assert {"awards", "deals", "listings", "accounts"} <= set(edges), "the scan found too little"
    assert sorted(map(sorted, pairs - ALLOWED)) == []
