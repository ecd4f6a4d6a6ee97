"""Password hashing with argon2id."""
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hashers: dict[str, PasswordHasher] = {
    "standard": PasswordHasher(),  # argon2id, RFC 9106 low-memory profile (64 MiB, t=3)
    "fast": PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),  # tests only
}
_DUMMY_HASHES: dict[str, str] = {}


def hash_password(password: str, profile: str = "standard") -> str:
    """Hash a password for storage."""
    return _hashers[profile].hash(password)


def dummy_hash(profile: str = "standard") -> str:
    """A hash no password matches, computed once per process and profile, to verify against for unknown users."""
    if profile not in _DUMMY_HASHES:
        _DUMMY_HASHES[profile] = _hashers[profile].hash("no such user")
    return _DUMMY_HASHES[profile]


def verify_password(stored_hash: str | None, password: str, profile: str = "standard") -> bool:
    """Check a password; spends the same effort when there is no stored hash (no user enumeration by timing)."""
    hasher = _hashers[profile]
    if stored_hash is None:
        stored_hash, password = dummy_hash(profile), password + "\x00"
    try:
        return hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False
