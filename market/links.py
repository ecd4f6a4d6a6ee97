"""Absolute links for mail and other messages read outside the site: built from BASE_URL, never from the Host header."""
from urllib.parse import urlsplit

from flask import current_app


def external_url(endpoint: str, **values) -> str:
    """The absolute URL of an endpoint under the configured BASE_URL, with or without a request."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


def absolute_link(path: str) -> str:
    """A site path ("/deals/7") as an absolute URL under the configured BASE_URL."""
    return current_app.config["BASE_URL"].rstrip("/") + "/" + path.lstrip("/")
