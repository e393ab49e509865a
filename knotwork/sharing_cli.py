"""``knotwork report``, ``share``, ``revoke`` and ``set-password`` (issue 5: sharing with clients).

Registered by :func:`add_commands` from ``knotwork/cli.py``.  Each command prints one line
per result on stdout (``share`` prints only the link, so ``LINK=$(knotwork share C01)``
works) and problems as one ``error: …`` line on stderr with exit status 1.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from pipelines.sharing.links import BASE_URL_ENV
from pipelines.warehouse.audit import cli_actor
from pipelines.warehouse.db import ENV_VAR, default_db_path, resolve_db_path


def _db_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="PATH", help=f"database file (default: ${ENV_VAR} or {default_db_path()})")


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


def _note_queued(db) -> None:
    """Say so when an audit row could not be written yet (an import held the database)."""
    from pipelines.warehouse.audit import pending_count

    n = pending_count(db)
    if n:
        print(
            f"note: the database is busy (an import?); {n} audit log entr{'ies' if n != 1 else 'y'} will be "
            "written on the next backup, export or visit to the Records page",
            file=sys.stderr,
        )


def base_url(db, explicit: str | None = None) -> str:
    """--base-url, else $KNOTWORK_BASE_URL, else ``[sharing] base_url`` in the practice settings,
    else http://127.0.0.1:8501/."""
    from pipelines.sharing.links import DEFAULT_BASE_URL, configured_base_url

    return explicit or configured_base_url(db) or DEFAULT_BASE_URL


def cmd_report(args) -> int:
    from dashboard.client_facing.data import UnknownClient
    from dashboard.reports import ReportError, write_report

    path = resolve_db_path(args.db)
    if not path.exists():
        return _error(f"no Knotwork database at {path}")
    try:
        out = write_report(path, args.client_id, args.out, paper=args.paper, actor=cli_actor())
    except UnknownClient:
        return _error(f"no client with id {args.client_id!r}")
    except ReportError as exc:
        return _error(str(exc))
    print(f"wrote {out}")
    _note_queued(path)
    return 0


def cmd_share(args) -> int:
    from pipelines.sharing.links import ShareError, create_link
    from pipelines.sharing.passwords import password_is_set

    path = resolve_db_path(args.db)
    if not path.exists():
        return _error(f"no Knotwork database at {path}")
    try:
        link = create_link(
            args.client_id, days=args.days, db=path, base_url=base_url(path, args.base_url), actor=cli_actor()
        )
    except ShareError as exc:
        return _error(str(exc))
    print(link.url)
    print(
        f"valid until {link.expires_at:%Y-%m-%d %H:%M} UTC; end it with `knotwork revoke {'-- ' if link.prefix.startswith('-') else ''}{link.prefix}`. "
        "Knotwork keeps only a fingerprint of this link: copy it now.",
        file=sys.stderr,
    )
    if not password_is_set(path):
        print(
            "warning: no therapist password is set; anyone who can reach the dashboard sees every client. "
            "Run `knotwork set-password` before exposing it.",
            file=sys.stderr,
        )
    return 0


def cmd_revoke(args) -> int:
    from pipelines.sharing.links import ShareError, revoke

    path = resolve_db_path(args.db)
    if not path.exists():
        return _error(f"no Knotwork database at {path}")
    try:
        n = revoke(args.token, client_id=args.client, db=path, actor=cli_actor())
    except ShareError as exc:
        return _error(str(exc))
    if args.client is not None:
        print(f"ended {n} live link{'s' if n != 1 else ''} of client {args.client}")
        return 0
    if n == 0:
        return _error("no live link matches that token")
    print("ended 1 link")
    return 0


def _read_password() -> str | None:
    if sys.stdin.isatty():
        first = getpass.getpass("New therapist password: ")
        second = getpass.getpass("Type it again: ")
        if first != second:
            print("error: the two passwords differ; nothing changed", file=sys.stderr)
            return None
        return first
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def cmd_set_password(args) -> int:
    from pipelines.sharing.passwords import check_strength, set_password

    path = resolve_db_path(args.db)
    if args.remove:
        written = set_password(None, path, actor=cli_actor())
        print(f"password removed from {written}; the therapist pages are open to anyone who can reach them")
        return 0
    password = _read_password()
    if password is None:
        return 1
    problem = check_strength(password)
    if problem:
        return _error(f"{problem}; nothing changed")
    written = set_password(password, path, actor=cli_actor())
    print(f"password set: only its scrypt hash is stored, in {written}")
    _note_queued(path)
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("report", help="write a client's progress report (self-contained HTML, or PDF via Chromium)")
    p.add_argument("client_id", metavar="CLIENT_ID")
    p.add_argument("--out", required=True, metavar="FILE.html|FILE.pdf")
    _db_arg(p)
    p.add_argument("--paper", choices=["A4", "Letter"], default=None, help="PDF paper size (default A4)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("share", help="make a private, expiring link to a client's view (prints the link)")
    p.add_argument("client_id", metavar="CLIENT_ID")
    p.add_argument("--days", type=float, default=14, metavar="N", help="days the link stays valid (default 14)")
    _db_arg(p)
    p.add_argument(
        "--base-url",
        metavar="URL",
        help=f"address clients use (default: ${BASE_URL_ENV}, [sharing] base_url in the settings, "
        "or http://127.0.0.1:8501/)",
    )
    p.set_defaults(func=cmd_share)

    p = sub.add_parser("revoke", help="end a private link (by its token or first characters) or all of a client's")
    p.add_argument("token", nargs="?", metavar="TOKEN_OR_PREFIX")
    p.add_argument("--client", metavar="CLIENT_ID", help="end every live link of this client")
    _db_arg(p)
    p.set_defaults(func=cmd_revoke)

    p = sub.add_parser("set-password", help="protect the therapist pages with a password (only a hash is stored)")
    _db_arg(p)
    p.add_argument("--remove", action="store_true", help="remove the password")
    p.set_defaults(func=cmd_set_password)
