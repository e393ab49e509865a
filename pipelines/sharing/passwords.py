"""The therapist-pages password: only a salted scrypt hash is ever stored.

Format (one string, in the practice settings file under ``[security] password_hash``)::

    scrypt$n=32768,r=8,p=1$<salt, base64>$<32-byte key, base64>

``hashlib.scrypt`` with a fresh 16-byte random salt per password; verification recomputes
with the stored parameters and compares with ``hmac.compare_digest``.  An empty hash means
"no password set" (the therapist pages are open, which is only safe on 127.0.0.1).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from pipelines.clinical.settings import load_settings, save_settings, settings_path_for
from pipelines.warehouse.db import resolve_db_path

SCHEME = "scrypt"
N, R, P = 2**15, 8, 1
KEY_LEN = 32
SALT_LEN = 16
MIN_LENGTH = 8
MAXMEM = 64 * 1024 * 1024


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def hash_password(password: str, *, n: int = N, r: int = R, p: int = P) -> str:
    if not isinstance(password, str) or not password:
        raise ValueError("the password is empty")
    salt = secrets.token_bytes(SALT_LEN)
    key = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=KEY_LEN, maxmem=MAXMEM)
    return f"{SCHEME}$n={n},r={r},p={p}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, encoded: str) -> bool:
    """True when ``password`` matches ``encoded``; False for anything malformed."""
    if not isinstance(password, str) or not isinstance(encoded, str) or not encoded:
        return False
    try:
        scheme, params, salt_b64, key_b64 = encoded.split("$")
        if scheme != SCHEME:
            return False
        values = dict(kv.split("=", 1) for kv in params.split(","))
        n, r, p = int(values["n"]), int(values["r"]), int(values["p"])
        if not (2**10 <= n <= 2**20 and 1 <= r <= 32 and 1 <= p <= 16):
            return False
        salt = base64.b64decode(salt_b64, validate=True)
        expected = base64.b64decode(key_b64, validate=True)
        if len(expected) != KEY_LEN or len(salt) < SALT_LEN:
            return False  # a truncated key would otherwise match its own prefix
        key = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=KEY_LEN, maxmem=MAXMEM)
    except (ValueError, KeyError, TypeError):
        return False
    return hmac.compare_digest(key, expected)


def check_strength(password: str) -> str | None:
    """A reason the password is too weak, or None."""
    if len(password) < MIN_LENGTH:
        return f"use at least {MIN_LENGTH} characters"
    if password.strip() != password:
        return "the password starts or ends with a space; that is easy to get wrong when typing it"
    return None


def settings_file(db=None) -> Path:
    return settings_path_for(resolve_db_path(db))


def password_hash(db=None, settings: dict | None = None) -> str:
    """The stored hash for the practice of database ``db`` ('' when no password is set)."""
    if settings is None:
        settings = load_settings(settings_file(db))
    return str(settings.get("security", {}).get("password_hash") or "")


def password_is_set(db=None, settings: dict | None = None) -> bool:
    return bool(password_hash(db, settings))


def set_password(password: str | None, db=None, actor: str | None = None) -> Path:
    """Store the hash of ``password`` (``None`` or '' removes the password).  Returns the file.

    The change is audited (never the password or its hash).  The settings file is not in the
    database, so the audit row is a short write of its own (queued if an import holds the
    database, pipelines.warehouse.audit); a practice with no database yet has no log to write to."""
    from pipelines.warehouse import audit

    path = settings_file(db)
    settings = load_settings(path)
    settings.setdefault("security", {})["password_hash"] = hash_password(password) if password else ""
    written = save_settings(settings, path)
    try:
        os.chmod(written, 0o600)  # the hash is not the password, but there is no reason to share it
    except OSError:
        pass
    if resolve_db_path(db).exists():
        audit.record_soon(
            db,
            "password",
            "password",
            "therapist password",
            actor=actor,
            detail=("therapist password set" if password else "therapist password removed") + f" (in {written.name})",
        )
    return written


def check_password(password: str, db=None, settings: dict | None = None) -> bool:
    return verify_password(password, password_hash(db, settings))
