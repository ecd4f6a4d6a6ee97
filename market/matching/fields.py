"""The field tree as a networkx graph: label resolution, similarity by tree distance, paths."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx

from market.text import normalise


@dataclass(frozen=True)
class FieldNode:
    """One node of the field tree as plain data."""

    code: str
    name: str
    parent_code: str | None = None
    keywords: tuple[str, ...] = ()


def _get(node: Any, name: str, default: Any = None) -> Any:
    """Read an attribute from a mapping or an object."""
    if isinstance(node, Mapping):
        return node.get(name, default)
    return getattr(node, name, default)


def _label_key(label: str) -> str:
    return normalise(label).strip()


class FieldTree:
    """Field tree; similarity falls with tree distance, labels outside the tree count only when equal."""

    def __init__(self, nodes: Iterable[FieldNode] = (), decay: float = 0.5) -> None:
        """Build the graph from nodes (parents may come after their children)."""
        self.decay = decay
        self.graph = nx.Graph()
        self._nodes: dict[str, FieldNode] = {}
        self._by_name: dict[str, str] = {}
        for node in nodes:
            self._nodes[node.code] = node
            self.graph.add_node(node.code, name=node.name)
        for node in self._nodes.values():
            if node.parent_code and node.parent_code in self._nodes:
                self.graph.add_edge(node.parent_code, node.code)
            self._by_name.setdefault(_label_key(node.name), node.code)
        self._by_code = {_label_key(code): code for code in self._nodes}
        self._similarity_cache: dict[tuple[str, str], float] = {}
        self._path_cache: dict[tuple[str, str], tuple[str, ...]] = {}

    @classmethod
    def from_nodes(cls, nodes: Iterable[Any], decay: float = 0.5) -> FieldTree:
        """Build from flat nodes: mappings or objects with code, name, parent_code, keywords."""
        plain = []
        for node in nodes:
            keywords = _get(node, "keywords") or ()
            parent = _get(node, "parent_code", _get(node, "parent"))
            plain.append(FieldNode(code=str(_get(node, "code")), name=str(_get(node, "name") or ""),
                                   parent_code=str(parent) if parent else None,
                                   keywords=tuple(str(k) for k in keywords)))
        return cls(plain, decay=decay)

    @classmethod
    def from_nested(cls, records: Iterable[Mapping[str, Any]], decay: float = 0.5) -> FieldTree:
        """Build from nested records (code, name, keywords, children), as in seed_data/fields.yaml."""
        flat: list[dict[str, Any]] = []

        def walk(items: Iterable[Mapping[str, Any]], parent: str | None) -> None:
            for item in items or ():
                flat.append({"code": item["code"], "name": item.get("name", ""), "parent_code": parent,
                             "keywords": item.get("keywords") or ()})
                walk(item.get("children") or (), item["code"])

        walk(records, None)
        return cls.from_nodes(flat, decay=decay)

    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, label: object) -> bool:
        return isinstance(label, str) and self.resolve(label) is not None

    def resolve(self, label: str | None) -> str | None:
        """The node code a label stands for (a code or a node name), or None outside the tree."""
        if not label:
            return None
        if label in self._nodes:
            return label
        key = _label_key(label)
        return self._by_code.get(key) or self._by_name.get(key)

    def name(self, label: str) -> str:
        """Display name of a label: the node name inside the tree, the label itself outside."""
        code = self.resolve(label)
        return self._nodes[code].name if code else label

    def vocabulary(self) -> list[str]:
        """Names and keywords of every node (the domain dictionary's share from the tree)."""
        words: list[str] = []
        for node in self._nodes.values():
            words.append(node.name)
            words.extend(node.keywords)
        return words

    def distance(self, a: str | None, b: str | None) -> int | None:
        """Edges between two labels in the tree; 0 when equal; None when unrelated or outside."""
        if not a or not b:
            return None
        code_a, code_b = self.resolve(a), self.resolve(b)
        if code_a is None or code_b is None:
            return 0 if _label_key(a) == _label_key(b) else None
        try:
            return nx.shortest_path_length(self.graph, code_a, code_b)
        except nx.NetworkXNoPath:
            return None

    def similarity(self, a: str | None, b: str | None) -> float:
        """1 for the same field, decay ** distance inside one top-level tree, else 0."""
        if not a or not b:
            return 0.0
        key = (a, b) if a <= b else (b, a)
        cached = self._similarity_cache.get(key)
        if cached is None:
            distance = self.distance(a, b)
            cached = 0.0 if distance is None else float(self.decay ** distance)
            self._similarity_cache[key] = cached
        return cached

    def path(self, a: str | None, b: str | None) -> tuple[str, ...]:
        """Node names from field a to field b through the tree; (label,) for equal labels outside it."""
        if not a or not b:
            return ()
        key = (a, b)
        cached = self._path_cache.get(key)
        if cached is not None:
            return cached
        code_a, code_b = self.resolve(a), self.resolve(b)
        if code_a is None or code_b is None:
            result: tuple[str, ...] = (self.name(a),) if _label_key(a) == _label_key(b) else ()
        else:
            try:
                result = tuple(self._nodes[c].name for c in nx.shortest_path(self.graph, code_a, code_b))
            except nx.NetworkXNoPath:
                result = ()
        self._path_cache[key] = result
        return result
