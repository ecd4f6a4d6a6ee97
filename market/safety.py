"""Redirect targets that cannot leave the site."""
from urllib.parse import urlsplit


def safe_next(target: str | None, fallback: str) -> str:
    """A local path to go to after login, or the fallback for anything pointing elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(ch) < 32 for ch in target):
        return fallback
    return target
