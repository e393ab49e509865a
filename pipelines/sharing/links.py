"""Private, expiring, revocable share links for clients.

A link is ``<base_url>/?t=<token>``; the token is ``secrets.token_urlsafe(32)`` (256 random
bits) and the URL never carries a client id.  The database keeps only

* ``token_hash`` = HMAC-SHA256(pepper, token), hex, where ``pepper`` is 32 random bytes made
  once per database (``meta.secrets``, name ``share_pepper``).  Even someone holding a copy
  of the database, pepper included, cannot turn a hash back into a working token (that is a
  256-bit preimage search), and a hash from one database means nothing in another;
* ``token_prefix``: the first 8 characters, so a therapist can revoke a link by what they can
  read (``knotwork revoke AbC12xYz``); the other 35 characters (208 bits) stay unguessable;
* ``created_at``, ``expires_at`` (UTC), ``revoked`` and ``revoked_at``.

:func:`resolve_token` is the only way from a token to a client id.  It returns ``None`` for an
expired, revoked, tampered, made-up or malformed token alike (and for a client that no longer
exists), so callers show one generic message (:data:`INVALID_LINK_MESSAGE`) and can never
tell the cases apart — nor can whoever is guessing.

Writes (create, revoke) use a short-lived write connection; resolving is a read-only query.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

from pipelines.warehouse import audit
from pipelines.warehouse.db import read_connection, write_connection
from pipelines.warehouse.transaction import transaction

INVALID_LINK_MESSAGE = "This link is not valid any more. Please ask your therapist for a new one."
DEFAULT_BASE_URL = "http://127.0.0.1:8501/"
DEFAULT_DAYS = 14
MAX_DAYS = 365
PREFIX_LEN = 8
MIN_REVOKE_PREFIX = 6
PEPPER_NAME = "share_pepper"

# token_urlsafe(32) is 43 characters of [A-Za-z0-9_-]; anything else is not one of ours.
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def _new_token() -> str:
    """A fresh token that does not begin with "-".

    A token (or its prefix) starting with "-" is read as an option by ``knotwork revoke`` and
    most shells' tools; redrawing the 1 in 64 that do costs under 0.03 bits of 256."""
    while True:
        token = secrets.token_urlsafe(32)
        if not token.startswith("-"):
            return token


class ShareError(ValueError):
    """A share request that cannot be done (unknown client, ambiguous prefix, bad days)."""


@dataclass(frozen=True)
class ShareLink:
    token: str  # shown once, never stored
    client_id: str
    created_at: dt.datetime
    expires_at: dt.datetime
    url: str

    @property
    def prefix(self) -> str:
        return self.token[:PREFIX_LEN]


def utcnow() -> dt.datetime:
    """Naive UTC 'now' (the database stores naive UTC timestamps)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def link_url(token: str, base_url: str | None = None) -> str:
    """``base_url`` with ``?t=token`` (any query the base had is replaced)."""
    base = (base_url or DEFAULT_BASE_URL).strip()
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ShareError(f"base URL {base_url!r} must look like https://knotwork.example.org/")
    path = parts.path or "/"
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode({"t": token}), ""))


BASE_URL_ENV = "KNOTWORK_BASE_URL"


def configured_base_url(db=None) -> str | None:
    """The address clients use, when the practice set one: ``$KNOTWORK_BASE_URL``, else
    ``[sharing] base_url`` in the practice settings file beside the database; else None."""
    import os

    from pipelines.clinical.settings import load_settings, settings_path_for
    from pipelines.warehouse.db import resolve_db_path

    if os.environ.get(BASE_URL_ENV):
        return os.environ[BASE_URL_ENV]
    settings = load_settings(settings_path_for(resolve_db_path(db)))
    return str(settings.get("sharing", {}).get("base_url") or "") or None


def _hash(pepper_hex: str, token: str) -> str:
    return hmac.new(bytes.fromhex(pepper_hex), token.encode("ascii"), hashlib.sha256).hexdigest()


def _pepper(con, create: bool) -> str | None:
    row = con.execute(
        "SELECT value FROM meta.secrets WHERE name = ? ORDER BY created_at LIMIT 1", [PEPPER_NAME]
    ).fetchone()
    if row:
        return row[0]
    if not create:
        return None
    value = secrets.token_hex(32)
    con.execute("INSERT INTO meta.secrets VALUES (?, ?, ?)", [PEPPER_NAME, value, utcnow()])
    return value


def _has_share_tables(con) -> bool:
    return (
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'meta' AND table_name IN ('share_links', 'secrets')"
        ).fetchone()[0]
        == 2
    )


def create_link(
    client_id: str,
    days: float = DEFAULT_DAYS,
    db=None,
    base_url: str | None = None,
    now: dt.datetime | None = None,
    actor: str | None = None,
) -> ShareLink:
    """Make a new link for ``client_id`` valid for ``days`` days; the token is returned once.

    The audit row (same transaction) names the link by its id only: the log is shown and
    downloaded, and even the visible prefix is part of the token."""
    try:
        days = float(days)
    except (TypeError, ValueError):
        raise ShareError(f"--days must be a number, got {days!r}") from None
    if not 0 < days <= MAX_DAYS:
        raise ShareError(f"--days must be more than 0 and at most {MAX_DAYS}, got {days:g}")
    now = now or utcnow()
    token = _new_token()
    url = link_url(token, base_url)
    expires = now + dt.timedelta(days=days)
    with write_connection(db) as con:
        with transaction(con):
            known = con.execute("SELECT count(*) FROM core.clients WHERE client_id = ?", [client_id]).fetchone()[0]
            if not known:
                raise ShareError(f"no client with id {client_id!r}")
            pepper = _pepper(con, create=True)
            link_id = con.execute("SELECT nextval('meta.share_link_id_seq')").fetchone()[0]
            con.execute(
                "INSERT INTO meta.share_links (link_id, client_id, token_hash, token_prefix, created_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [link_id, client_id, _hash(pepper, token), token[:PREFIX_LEN], now, expires],
            )
            audit.record(
                con,
                "share",
                "share_link",
                link_id,
                actor=actor,
                client_id=client_id,
                after={"link_id": link_id, "expires_at": expires, "days": days},
                detail=f"link #{link_id} for {client_id}, valid {days:g} days until {expires:%Y-%m-%d %H:%M} UTC",
            )
    return ShareLink(token, client_id, now, expires, url)


def looks_like_token(token: object) -> bool:
    return isinstance(token, str) and bool(_TOKEN_RE.match(token))


def resolve_token(token: object, db=None, now: dt.datetime | None = None) -> str | None:
    """The client id a live link belongs to, or ``None`` (expired, revoked, unknown, malformed)."""
    if not looks_like_token(token):
        return None
    now = now or utcnow()
    with read_connection(db) as con:
        if not _has_share_tables(con):
            return None
        pepper = _pepper(con, create=False)
        if pepper is None:
            return None
        digest = _hash(pepper, token)  # type: ignore[arg-type]
        rows = con.execute(
            "SELECT l.client_id, l.token_hash FROM meta.share_links l "
            "JOIN core.clients c ON c.client_id = l.client_id "
            "WHERE l.token_hash = ? AND NOT l.revoked AND l.expires_at > ?",
            [digest, now],
        ).fetchall()
    for client_id, stored in rows:
        if hmac.compare_digest(stored, digest):
            return client_id
    return None


def revoke(
    token_or_prefix: str | None = None,
    client_id: str | None = None,
    db=None,
    now: dt.datetime | None = None,
    actor: str | None = None,
) -> int:
    """End one link (by its full token or an unambiguous prefix of ≥ 6 characters) or every
    live link of ``client_id``.  Returns how many links were ended (0 = nothing matched)."""
    if (token_or_prefix is None) == (client_id is None):
        raise ShareError("give either a token (or its first characters) or --client CLIENT_ID")
    now = now or utcnow()
    with write_connection(db) as con:
        with transaction(con):
            if client_id is not None:
                ids = [
                    r[0]
                    for r in con.execute(
                        "SELECT link_id FROM meta.share_links WHERE client_id = ? AND NOT revoked", [client_id]
                    ).fetchall()
                ]
            else:
                ids = _ids_for_token(con, token_or_prefix.strip())
            if ids:
                con.execute(
                    "UPDATE meta.share_links SET revoked = true, revoked_at = ? "
                    "WHERE list_contains(?, link_id) AND NOT revoked",
                    [now, ids],
                )
                # One audit row per link ended, so each link's story reads start to end in the log.
                for link_id, owner in con.execute(
                    "SELECT link_id, client_id FROM meta.share_links WHERE list_contains(?, link_id) ORDER BY link_id",
                    [ids],
                ).fetchall():
                    audit.record(
                        con,
                        "revoke",
                        "share_link",
                        link_id,
                        actor=actor,
                        client_id=owner,
                        detail=f"link #{link_id} for {owner} ended"
                        + (" (all of the client's links)" if client_id is not None else ""),
                    )
    return len(ids)


def _ids_for_token(con, text: str) -> list[int]:
    # Accept a whole link too (people paste what they have).
    if "t=" in text:
        text = text.split("t=", 1)[1].split("&", 1)[0]
    if looks_like_token(text):
        pepper = _pepper(con, create=False)
        if pepper is None:
            return []
        return [
            r[0]
            for r in con.execute(
                "SELECT link_id FROM meta.share_links WHERE token_hash = ? AND NOT revoked", [_hash(pepper, text)]
            ).fetchall()
        ]
    if len(text) < MIN_REVOKE_PREFIX or not re.fullmatch(r"[A-Za-z0-9_-]+", text):
        raise ShareError(f"give the whole token or at least its first {MIN_REVOKE_PREFIX} characters")
    probe = text[:PREFIX_LEN]
    rows = con.execute(
        "SELECT link_id, client_id FROM meta.share_links WHERE starts_with(token_prefix, ?) AND NOT revoked", [probe]
    ).fetchall()
    if len(rows) > 1:
        raise ShareError(f"{len(rows)} live links start with {text!r}; give more characters or use --client")
    return [r[0] for r in rows]


@dataclass(frozen=True)
class LinkInfo:
    link_id: int  # what the audit log names a link by
    client_id: str
    token_prefix: str
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked: bool

    def status(self, now: dt.datetime | None = None) -> str:
        if self.revoked:
            return "revoked"
        return "expired" if self.expires_at <= (now or utcnow()) else "live"


def list_links(client_id: str | None = None, db=None) -> list[LinkInfo]:
    """Links (newest first), for one client or all; never includes a token or its hash."""
    with read_connection(db) as con:
        if not _has_share_tables(con):
            return []
        sql = (
            "SELECT link_id, client_id, token_prefix, created_at, expires_at, revoked FROM meta.share_links "
            + ("WHERE client_id = ? " if client_id is not None else "")
            + "ORDER BY created_at DESC, link_id DESC"
        )
        rows = con.execute(sql, [client_id] if client_id is not None else []).fetchall()
    return [LinkInfo(*r) for r in rows]
