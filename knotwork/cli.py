"""The ``knotwork`` command line (a stable contract).

Sits on top of both packages: it may import ``pipelines`` and ``dashboard``.
Each sub-command lives in a small function; ``build_parser`` lists only what
works.
"""

from __future__ import annotations

import argparse
import json
import sys

from pipelines.warehouse.audit import cli_actor
from pipelines.warehouse.db import ENV_VAR, default_db_path, resolve_db_path


def _db_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="PATH",
                   help=f"database file (default: ${ENV_VAR} or {default_db_path()})")


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
    print(f"{rep.path} ({rep.kind}): {rep.rows_read} rows read: {rep.inserted} loaded, {rep.updated} updated, "
          f"{rep.unchanged} unchanged, {rep.rejected} rejected")
    for note in rep.notes:
        print(f"  note: {note}")
    for r in rep.rejects[:50]:
        col = f" {r.column}" if r.column else ""
        print(f"  line {r.line}{col}: {r.reason}")
    if len(rep.rejects) > 50:
        print(f"  … {len(rep.rejects) - 50} more problems (see the Import page or `--json`)")
    for w in rep.warnings[:20]:
        print(f"  line {w['line']} (kept): {w['message']}")
    if len(rep.warnings) > 20:
        print(f"  … {len(rep.warnings) - 20} more warnings")


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
        reports = ingest_files(args.files, db=args.db, kind=args.kind, rename=rename, mapping_name=args.mapping,
                               progress=progress, actor=cli_actor())
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
    print(f"Knotwork dashboard on http://{args.address}:{args.port} (database {path}); Ctrl+C stops it",
          file=sys.stderr)
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

    path = restore(args.dir, args.db, actor=cli_actor())
    print(f"restored into {path}")
    return 0


def cmd_techniques(args) -> int:
    from pipelines.techniques.analysis import format_mixes, format_table, technique_report

    report = technique_report(args.db, outcome=args.outcome, mixes=args.mixes or not args.json)
    if args.mixes:
        print(json.dumps(report.mix_records(), ensure_ascii=False) if args.json else format_mixes(report))
    elif args.json:
        print(json.dumps(report.to_records(), ensure_ascii=False))
    else:
        print(format_table(report))
    return 0


def _server_args(p: argparse.ArgumentParser) -> None:
    from dashboard.server import DEFAULT_ADDRESS, DEFAULT_PORT

    p.add_argument("--port", type=int, default=DEFAULT_PORT, metavar="N", help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--address", default=DEFAULT_ADDRESS, metavar="ADDR",
                   help=f"address to listen on (default {DEFAULT_ADDRESS}: this computer only)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="knotwork",
        description="Outcome tracking for neuromuscular (trigger point) therapy practices.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("init", help="create an empty database with the current schema")
    _db_arg(p)
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("ingest", help="import CSV/XLSX files (clients, visits, rom, self_reports, trigger_points, outcome_measures)")
    p.add_argument("files", nargs="+", metavar="FILE")
    _db_arg(p)
    p.add_argument("--kind", choices=["clients", "visits", "rom", "self_reports", "trigger_points", "outcome_measures"],
                   help="kind of every file (default: detected from columns and file name)")
    p.add_argument("--mapping", metavar="NAME",
                   help="apply a saved column mapping (built-in, e.g. google_forms_checkin, or from the "
                        "mappings/ folder next to the database); it may also set the kind and date order")
    p.add_argument("--json", action="store_true", help="print the import report as one JSON object")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("sample", help="write a synthetic practice (CSV files + truth.json) with planted technique effects")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--clients", type=int, default=40, metavar="N")
    p.add_argument("--seed", type=int, default=7, metavar="S")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("techniques", help="technique-response table: adjusted effect of each technique on pain, "
                                          "with n, 95 %% interval and Holm-adjusted p; --mixes: the mixes ranked")
    _db_arg(p)
    p.add_argument("--json", action="store_true",
                   help="print a JSON list: technique, n_visits, n_clients, effect (adjusted change in pain, 0-10, "
                        "negative = relief), ci_low, ci_high, p_adjusted (null below the minimum n), method, note")
    p.add_argument("--outcome", default="pain_change",
                   choices=["pain_change", "carryover_change", "self_report_change", "rom_change"],
                   help="outcome analysed (default: immediate change in pain, post - pre)")
    p.add_argument("--mixes", action="store_true",
                   help="the mixes the practice uses, ranked by the model's predicted effect of exactly that mix "
                        "(vs a visit with none of its techniques); with --json a list of objects: mix (list of "
                        "technique names), n_visits, n_clients, effect, ci_low, ci_high, observed_mean")
    p.set_defaults(func=cmd_techniques)

    p = sub.add_parser("serve", help="start the dashboard on a database")
    _db_arg(p)
    _server_args(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("demo", help="build the demo database from data/sample/ (if needed) and start the dashboard on it")
    _server_args(p)
    p.add_argument("--rebuild", action="store_true", help="rebuild the demo database even if it is up to date")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("backup", help="write a portable backup (Parquet files) of the database into DIR")
    p.add_argument("dir", metavar="DIR")
    _db_arg(p)
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="restore a backup from DIR into a new database file (--db)")
    p.add_argument("dir", metavar="DIR")
    _db_arg(p)
    p.set_defaults(func=cmd_restore)

    from knotwork.sharing_cli import add_commands as add_sharing_commands  # report, share, revoke, set-password

    add_sharing_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
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
        from pipelines.warehouse.db import DatabaseBusy
        from pipelines.ingest.readers import FileProblem

        if isinstance(exc, (FileProblem, DatabaseBusy, FileNotFoundError, FileExistsError)):
            print(f"error: {exc}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
