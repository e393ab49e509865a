"""The ``knotwork`` command line (a stable contract).

Sits on top of both packages: it may import ``pipelines`` and ``dashboard``.
Each sub-command lives in a small function; ``build_parser`` lists only what
works.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import re
import sys
from pathlib import Path

from pipelines.warehouse.audit import cli_actor
from pipelines.warehouse.db import ENV_VAR, default_db_path, resolve_db_path


def _db_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="PATH", help=f"database file (default: ${ENV_VAR} or {default_db_path()})")


def cmd_init(args) -> int:
    from pipelines.warehouse.db import write_connection
    from pipelines.warehouse.marts import rebuild_marts

    path = resolve_db_path(args.db)
    with write_connection(path) as con:
        rebuild_marts(con)
    print(f"database ready at {path}")
    return 0


def _print_report(rep) -> None:
    if rep.error:
        print(f"error: {rep.error}", file=sys.stderr)
        return
    print(
        f"{rep.path} ({rep.kind}): {rep.rows_read} rows read: {rep.inserted} loaded, {rep.updated} updated, "
        f"{rep.unchanged} unchanged, {rep.rejected} rejected"
    )
    for note in rep.notes:
        print(f"  note: {note}")
    for r in rep.rejects[:50]:
        col = f" {r.column}" if r.column else ""
        print(f"  line {r.line}{col}: {r.reason}")
    if len(rep.rejects) > 50:
        print(f"  … {len(rep.rejects) - 50} more problems (see the Import page or `--json`)")
    # Each new term once, with its rows, rather than once per row that uses it.
    for t in rep.new_terms:
        closest = (t["suggestion"] or "—").replace("_", " ")
        rows = "1 row" if t["rows"] == 1 else f"{t['rows']} rows"
        print(
            f"  new {t['vocabulary']} '{t['spelling']}' ({rows}): kept as the practice's own term; "
            f"closest known: {closest}"
        )
    if rep.new_terms:
        print("  (to map a new term to a known one, use the Import page's 'Practice terms')")
    new_term_rows = {f"new {t['vocabulary']} " for t in rep.new_terms}
    others = [w for w in rep.warnings if not any(w["message"].startswith(p) for p in new_term_rows)]
    for w in others[:20]:
        print(f"  line {w['line']} (kept): {w['message']}")
    if len(others) > 20:
        print(f"  … {len(others) - 20} more warnings")


def cmd_ingest(args) -> int:
    from pipelines.ingest.importer import ingest_files

    rename = None
    if args.mapping:
        from pipelines.ingest.mappings import load_mapping

        rename = load_mapping(args.mapping, db=args.db)
    progress = None
    if not args.json and sys.stderr.isatty():

        def progress(n, msg):
            print(f"\r  {msg}", end="", file=sys.stderr, flush=True)

    from pathlib import Path

    from pipelines.warehouse.db import import_waits

    # Another import (or the app) holding the database: wait for it with one line on stderr, up to
    # pipelines.warehouse.db.IMPORT_WAIT_S; past that main() prints DatabaseBusy as one line and exits 1.
    names = ", ".join(Path(f).name for f in args.files[:3]) + (" …" if len(args.files) > 3 else "")
    with import_waits(f"an import of {names}", notice=lambda m: print(m, file=sys.stderr, flush=True)):
        reports = ingest_files(
            args.files,
            db=args.db,
            kind=args.kind,
            rename=rename,
            mapping_name=args.mapping,
            progress=progress,
            actor=cli_actor(),
        )
    if progress:
        print("", file=sys.stderr)
    if args.json:
        print(json.dumps({"files": [r.to_json() for r in reports]}, ensure_ascii=False, default=str))
        for r in reports:
            if r.error:
                print(f"error: {r.error}", file=sys.stderr)
    else:
        for r in reports:
            _print_report(r)
    return 1 if any(r.error for r in reports) else 0


def cmd_sample(args) -> int:
    from pipelines.sample.practice import generate

    summary = generate(args.out, n_clients=args.clients, seed=args.seed)
    counts = ", ".join(f"{v:,} {k}" for k, v in summary.items() if isinstance(v, int))
    print(f"wrote a synthetic practice to {args.out}: {counts}")
    return 0


def cmd_serve(args) -> int:
    from dashboard.server import serve

    path = resolve_db_path(args.db)
    if not path.exists():
        print(f"note: no database at {path} yet; the dashboard will say how to create one", file=sys.stderr)
    print(
        f"Knotwork dashboard on http://{args.address}:{args.port} (database {path}); Ctrl+C stops it", file=sys.stderr
    )
    serve(path, port=args.port, address=args.address)
    return 0


def cmd_demo(args) -> int:
    from dashboard.server import ensure_demo_db, serve

    db = ensure_demo_db(force=args.rebuild, log=lambda m: print(m, file=sys.stderr))
    print(f"Knotwork demo on http://{args.address}:{args.port} (database {db}); Ctrl+C stops it", file=sys.stderr)
    serve(db, port=args.port, address=args.address)
    return 0


def cmd_backup(args) -> int:
    from pipelines.warehouse.backup import backup

    folder = backup(resolve_db_path(args.db), args.dir, actor=cli_actor())
    print(f"backup written to {folder}")
    return 0


def cmd_restore(args) -> int:
    from pipelines.warehouse.backup import restore

    path = restore(args.dir, args.db, actor=cli_actor(), key=args.key, unsigned=args.unsigned)
    print(f"restored into {path}")
    return 0


def cmd_techniques(args) -> int:
    if args.client:
        return _client_techniques(args)
    from pipelines.techniques.analysis import format_mixes, format_table, technique_report

    report = technique_report(args.db, outcome=args.outcome, mixes=args.mixes or not args.json)
    if args.mixes:
        print(json.dumps(report.mix_records(), ensure_ascii=False) if args.json else format_mixes(report))
    elif args.json:
        print(json.dumps(report.to_records(), ensure_ascii=False))
    else:
        print(format_table(report))
    return 0


def _client_techniques(args) -> int:
    from pipelines.techniques.client_response import format_records, response_records

    try:
        records = response_records(args.db, client=args.client)
    except KeyError:
        print(f"error: no client {args.client!r} in {resolve_db_path(args.db)}", file=sys.stderr)
        return 1
    print(json.dumps(records, ensure_ascii=False) if args.json else format_records(records))
    return 0


def _existing_db(db) -> Path | None:
    """The database path, or None after one clear line when there is no database there."""
    path = resolve_db_path(db)
    if not path.exists():
        print(f"error: no Knotwork database at {path}", file=sys.stderr)
        return None
    return path


def _safe_name(client_id: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in client_id) or "client"


def cmd_export_fhir(args) -> int:
    from pathlib import Path

    from pipelines.exports import fhir
    from pipelines.exports.record import UnknownClient, client_ids, load_record

    path = _existing_db(args.db)
    if path is None:
        return 1
    if bool(args.all) == bool(args.client_id):
        print("error: name one CLIENT_ID, or --all with --out DIR", file=sys.stderr)
        return 2
    out = Path(args.out)
    if args.all:
        out.mkdir(parents=True, exist_ok=True)
        targets = [(cid, out / f"{_safe_name(cid)}.json") for cid in client_ids(path)]
    else:
        targets = [(args.client_id, out)]
    for cid, file in targets:
        try:
            record = load_record(path, cid)
        except UnknownClient:
            print(f"error: no client with id {cid!r}", file=sys.stderr)
            return 1
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(json.dumps(fhir.bundle(record), ensure_ascii=False, indent=1), encoding="utf-8")
        for note in fhir.missing(record):
            print(f"note: {note}", file=sys.stderr)
    print(f"wrote {len(targets)} FHIR Bundle{'s' if len(targets) != 1 else ''} to {out}")
    return 0


def cmd_letter(args) -> int:
    from dashboard.letter import write_letter
    from dashboard.reports import ReportError
    from pipelines.exports.record import UnknownClient

    path = _existing_db(args.db)
    if path is None:
        return 1
    try:
        out = write_letter(path, args.client_id, args.out, paper=args.paper, actor=cli_actor())
    except UnknownClient:
        print(f"error: no client with id {args.client_id!r}", file=sys.stderr)
        return 1
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {out}")
    return 0


def cmd_export(args) -> int:
    from pipelines.exports.contract_csv import export_practice

    path = _existing_db(args.db)
    if path is None:
        return 1
    counts = export_practice(path, args.dir)
    print(f"wrote the practice to {args.dir}: " + ", ".join(f"{n:,} {kind}" for kind, n in counts.items()))
    print(f"import it elsewhere with `knotwork ingest {args.dir}/*.csv`", file=sys.stderr)
    return 0


def _server_args(p: argparse.ArgumentParser) -> None:
    from dashboard.server import DEFAULT_ADDRESS, DEFAULT_PORT

    p.add_argument("--port", type=int, default=DEFAULT_PORT, metavar="N", help=f"port (default {DEFAULT_PORT})")
    p.add_argument(
        "--address",
        default=DEFAULT_ADDRESS,
        metavar="ADDR",
        help=f"address to listen on (default {DEFAULT_ADDRESS}: this computer only)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="knotwork", description="Outcome tracking for neuromuscular (trigger point) therapy practices."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("init", help="create an empty database with the current schema")
    _db_arg(p)
    p.set_defaults(func=cmd_init)

    p = sub.add_parser(
        "ingest", help="import CSV/XLSX files (clients, visits, rom, self_reports, trigger_points, outcome_measures)"
    )
    p.add_argument("files", nargs="+", metavar="FILE")
    _db_arg(p)
    p.add_argument(
        "--kind",
        choices=["clients", "visits", "rom", "self_reports", "trigger_points", "outcome_measures"],
        help="kind of every file (default: detected from columns and file name)",
    )
    p.add_argument(
        "--mapping",
        metavar="NAME",
        help="apply a saved column mapping (built-in, e.g. google_forms_checkin, or from the "
        "mappings/ folder next to the database); it may also set the kind and date order",
    )
    p.add_argument("--json", action="store_true", help="print the import report as one JSON object")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser(
        "sample", help="write a synthetic practice (CSV files + truth.json) with planted technique effects"
    )
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--clients", type=int, default=40, metavar="N")
    p.add_argument("--seed", type=int, default=7, metavar="S")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser(
        "techniques",
        help="technique-response table: adjusted effect of each technique on pain, "
        "with n, 95 %% interval and Holm-adjusted p; --mixes: the mixes ranked",
    )
    _db_arg(p)
    p.add_argument(
        "--json",
        action="store_true",
        help="print a JSON list: technique, n_visits, n_clients, effect (adjusted change in pain, 0-10, "
        "negative = relief), ci_low, ci_high, p_adjusted (null below the minimum n), method, note",
    )
    p.add_argument(
        "--client",
        metavar="ID|all",
        help="this client's (or every client's) own response per technique, pooled toward the practice: "
        "client_id, technique, effect (points, negative = relief), ci_low, ci_high (95 %%), "
        "n_visits_with, n_visits_without, practice_effect, p_more_relief, verdict, reason",
    )
    p.add_argument(
        "--outcome",
        default="pain_change",
        choices=["pain_change", "carryover_change", "self_report_change", "rom_change"],
        help="outcome analysed (default: immediate change in pain, post - pre)",
    )
    p.add_argument(
        "--mixes",
        action="store_true",
        help="the mixes the practice uses, ranked by the model's predicted effect of exactly that mix "
        "(vs a visit with none of its techniques); with --json a list of objects: mix (list of "
        "technique names), n_visits, n_clients, effect, ci_low, ci_high, observed_mean",
    )
    p.set_defaults(func=cmd_techniques)

    p = sub.add_parser("letter", help="the progress letter for a referring physician (.pdf or .html)")
    p.add_argument("client_id", metavar="CLIENT_ID")
    p.add_argument("--out", required=True, metavar="FILE.pdf|FILE.html")
    p.add_argument("--paper", choices=["A4", "Letter"], help="paper size of the PDF (default A4)")
    _db_arg(p)
    p.set_defaults(func=cmd_letter)

    p = sub.add_parser(
        "export",
        help="write every table in the data contract's CSV format into DIR "
        "(importing the folder into an empty database gives the same practice)",
    )
    p.add_argument("dir", metavar="DIR")
    _db_arg(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("export-fhir", help="write a client's record as a FHIR R4 Bundle (JSON); --all: one per client")
    p.add_argument("client_id", nargs="?", metavar="CLIENT_ID")
    p.add_argument("--all", action="store_true", help="every client, one FILE per client in the folder --out")
    p.add_argument("--out", required=True, metavar="FILE.json|DIR")
    _db_arg(p)
    p.set_defaults(func=cmd_export_fhir)

    p = sub.add_parser("serve", help="start the dashboard on a database")
    _db_arg(p)
    _server_args(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser(
        "demo", help="build the demo database from data/sample/ (if needed) and start the dashboard on it"
    )
    _server_args(p)
    p.add_argument("--rebuild", action="store_true", help="rebuild the demo database even if it is up to date")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("backup", help="write a portable backup (Parquet files) of the database into DIR")
    p.add_argument("dir", metavar="DIR")
    _db_arg(p)
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser(
        "restore",
        help="restore a backup from DIR into a new database file (--db); "
        "nothing in the backup is run, and every private link is ended",
    )
    p.add_argument("dir", metavar="DIR")
    _db_arg(p)
    p.add_argument(
        "--key",
        metavar="FILE",
        help="the backup key file of the practice that made the backup (default: knotwork-backup.key "
        "beside the new database)",
    )
    p.add_argument(
        "--unsigned",
        action="store_true",
        help="restore a backup made before backups were signed (its files cannot be checked)",
    )
    p.set_defaults(func=cmd_restore)

    from knotwork.sharing_cli import add_commands as add_sharing_commands  # report, share, revoke, set-password

    add_sharing_commands(sub)
    return parser


# Files Knotwork creates (database, its folder, backups, exports, keys) are for this account only:
# they hold health records.
PRIVATE_UMASK = 0o077

# Disk problems get one line in plain words, never a traceback.
DISK_PROBLEMS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the disk is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}
# DuckDB reports the same problems as text.
DUCKDB_DISK_WORDS = {
    "No space left on device": errno.ENOSPC,
    "Disk quota exceeded": errno.EDQUOT,
    "Read-only file system": errno.EROFS,
    "Permission denied": errno.EACCES,
}


def disk_problem(exc: BaseException) -> str | None:
    """One line for a full, read-only or forbidden disk (``None`` for anything else)."""
    if isinstance(exc, OSError) and exc.errno in DISK_PROBLEMS:
        where = f" (writing {exc.filename})" if exc.filename else ""
        return f"{DISK_PROBLEMS[exc.errno]}{where}. Fix that and run the command again."
    text = str(exc)
    for words, code in DUCKDB_DISK_WORDS.items():
        if words in text:
            path = re.search(r'"([^"]+)"', text)
            where = f" (writing {path.group(1)})" if path else ""
            return f"{DISK_PROBLEMS[code]}{where}. Fix that and run the command again."
    return None


def main(argv: list[str] | None = None) -> int:
    os.umask(PRIVATE_UMASK)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from pipelines.warehouse.db import import_waits

    try:
        # Every command that writes (init, backup, restore, share, …) waits for a running import
        # like an import does, with the same one line; ingest names itself more precisely.
        with import_waits(f"knotwork {args.command}", notice=lambda m: print(m, file=sys.stderr, flush=True)):
            return args.func(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one line for the user, no traceback
        from pipelines.ingest.readers import FileProblem
        from pipelines.warehouse.backup import BackupRefused
        from pipelines.warehouse.db import DatabaseBusy

        if isinstance(exc, (FileProblem, DatabaseBusy, FileNotFoundError, FileExistsError, BackupRefused)):
            print(f"error: {exc}", file=sys.stderr)
            return 1
        problem = disk_problem(exc)
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
