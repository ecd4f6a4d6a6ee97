"""Authenticator secrets encrypted at rest (Fernet): keys from TOTP_ENCRYPTION_KEY, else derived from SECRET_KEY."""
import base64
import logging

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, current_app

log = logging.getLogger(__name__)

EXTENSION = "market.secret_box"
DERIVATION_INFO = b"market: authenticator secrets at rest"
"""HKDF context of the key derived from SECRET_KEY; the migration that encrypted the existing secrets uses the same."""


def derived_key(secret_key: str) -> bytes:
    """A Fernet key derived from SECRET_KEY (HKDF-SHA256), used when no TOTP_ENCRYPTION_KEY is configured."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=DERIVATION_INFO).derive(secret_key.encode())
    return base64.urlsafe_b64encode(raw)


def build_box(config) -> MultiFernet:
    """The configured keys (comma-separated, the first encrypts) followed by the SECRET_KEY-derived one, which keeps
    decrypting what was stored before a key was configured; an unusable key stops the start-up with its name."""
    configured = [key.strip() for key in config.get("TOTP_ENCRYPTION_KEY", "").split(",") if key.strip()]
    try:
        keys = [Fernet(key) for key in configured]
    except ValueError as error:
        raise RuntimeError("TOTP_ENCRYPTION_KEY must be Fernet keys (32 url-safe base64-encoded bytes), comma-separated; "
                           "make one with: python3 -c 'from cryptography.fernet import Fernet; "
                           "print(Fernet.generate_key().decode())'") from error
    return MultiFernet([*keys, Fernet(derived_key(config["SECRET_KEY"]))])


def install_secret_box(app: Flask) -> None:
    """Build the app's keys at start-up; outside demo and test mode, warn when none is configured."""
    app.extensions[EXTENSION] = build_box(app.config)
    if not app.config.get("TOTP_ENCRYPTION_KEY") and not (app.config["DEMO_MODE"] or app.config["TESTING"]):
        log.warning("TOTP_ENCRYPTION_KEY is not set: authenticator secrets are encrypted with a key derived from "
                    "SECRET_KEY, so changing SECRET_KEY would make every enrolled authenticator unusable")


def _box() -> MultiFernet:
    return current_app.extensions[EXTENSION]


def seal(secret: str) -> str:
    """Encrypt an authenticator secret with the newest key."""
    return _box().encrypt(secret.encode()).decode()


def unseal(sealed: str) -> str | None:
    """The plain secret, or None (logged) when no configured key opens it."""
    try:
        return _box().decrypt(sealed.encode()).decode()
    except InvalidToken:
        log.error("an authenticator secret cannot be decrypted with the configured keys")
        return None


def reseal(sealed: str) -> str:
    """The secret encrypted again with the newest key (after a key rotation)."""
    return _box().rotate(sealed.encode()).decode()
