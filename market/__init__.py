"""晋创谷 technology-transfer marketplace; `create_app` loads Flask only when called, so the pure engines import without it."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: dict | None = None) -> Flask:
    """Build the Flask application (the factory lives in `market.app`)."""
    from market.app import create_app as build

    return build(config)
