"""Portable backup and restore (Parquet), readable by other tools and DuckDB versions.

A raw copy of the database file is not portable (files written by DuckDB 2.x cannot be read by
1.x) and misses anything still in the WAL; an ``EXPORT DATABASE`` is both portable and complete.

**A backup is data, never code.**  ``EXPORT DATABASE`` writes ``schema.sql`` and ``load.sql``
beside the Parquet files; they stay there for other tools, but :func:`restore` never runs them
(``IMPORT DATABASE`` would run whatever a changed ``schema.sql`` says, with file access: writing
a file anywhere, reading one into the database).  Instead a restore

1. checks ``manifest.json`` first: its HMAC-SHA256 (``manifest.sig``) under the practice's backup
   key, a secret kept *outside* the backup (:data:`KEY_FILENAME` beside the database, owner-only),
   then the SHA-256 of every file it lists; anything changed, added to the list or missing is
   refused before a single row is read;
2. builds the schema from Knotwork's own migrations, up to the ones the backup had;
3. reads each table this schema expects from its Parquet file, as data, on a connection whose file
   access is confined to the backup folder and locked (``allowed_directories``,
   ``enable_external_access = false``, ``lock_configuration``);
4. applies the newer migrations, rebuilds the marts from the restored records, and
5. ends every share link and drops the link secret (a new one is made with the next link): a
   restored file never holds a live link, planted or not.

A backup made before manifests existed restores only when asked (``unsigned=True``, ``knotwork
restore --unsigned``): the same steps without the checks of step 1, so still nothing from it is
run.  The database is written under a temporary name and renamed when complete, so a failed
restore leaves nothing behind; a backup is written into a temporary folder the same way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import json
import os
import re
import secrets
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.warehouse import audit
from pipelines.warehouse.db import WRITE_CONFIG, resolve_db_path, write_connection
from pipelines.warehouse.marts import rebuild_marts
from pipelines.warehouse.migrate import available_migrations, migrate
from pipelines.warehouse.sqlnames import quote_identifier, quote_literal
from pipelines.warehouse.transaction import transaction

BACKUPS_FOLDER = "backups"  # beside the database: <db folder>/backups/<db name>-<YYYYMMDD-HHMMSS>/
KEY_FILENAME = "knotwork-backup.key"  # beside the database; never inside a backup
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
MANIFEST_FORMAT = 1
SECRET_TABLE = "meta.secrets"  # the link secret: never restored (rotated)
MIGRATIONS_TABLE = "meta.migrations"
# Each sequence and the largest id it has handed out; a restore moves the sequence past it.  A
# migration that adds a sequence adds it here.
SEQUENCE_MAX = {
    "raw.import_id_seq": "SELECT max(import_id) FROM raw.imports",
    "meta.audit_id_seq": "SELECT max(audit_id) FROM meta.audit",
    "meta.share_link_id_seq": "SELECT max(link_id) FROM meta.share_links",
}
REVOKE_ALL_SQL = "UPDATE meta.share_links SET revoked = true, revoked_at = ? WHERE NOT revoked"
DROP_SECRET_SQL = "DELETE FROM meta.secrets"
# The path is an SQL string in load.sql: a quote in the folder's name is doubled there.
_COPY_LINE = re.compile(r"^COPY\s+(\S+)\s+FROM\s+'((?:[^']|'')*)'", re.MULTILINE)
_STAGING_NAME = re.compile(r"^[a-z_]{1,40}$")
_PLAIN_FILE = re.compile(r"^[A-Za-z0-9_.-]+\.parquet$")


class BackupRefused(ValueError):
    """A backup that fails its checks (changed, unsigned, from elsewhere): nothing was restored."""


# ---------------------------------------------------------------------------
# The backup key
# ---------------------------------------------------------------------------


def key_path(db=None) -> Path:
    return resolve_db_path(db).expanduser().resolve().parent / KEY_FILENAME


def read_key(path: Path) -> bytes:
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        raise BackupRefused(
            f"no backup key at {path}; restore beside the database the backup came from, "
            "or name its key file with --key"
        ) from None
    except ValueError:
        raise BackupRefused(f"{path} is not a Knotwork backup key") from None
    if len(key) < 32:
        raise BackupRefused(f"{path} is not a Knotwork backup key")
    return key


def ensure_key(db=None) -> bytes:
    """The practice's backup key, made (32 random bytes, owner-only) the first time."""
    path = key_path(db)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # made by another backup a moment ago
            return read_key(path)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secrets.token_hex(32) + "\n")
    return read_key(path)


def _sign(key: bytes, data: bytes) -> str:
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ---------------------------------------------------------------------------
# Backup
# ---------------------------------------------------------------------------


def backup(db, folder: str | Path, actor: str | None = None) -> Path:
    """Export the whole database to ``folder`` (new or empty), with its own audit row and a signed manifest.

    The row is written in the same transaction as the export, so the backup contains the record
    of its own making; if the export fails, neither exists.  Everything is written into a
    temporary folder beside ``folder`` and renamed to it when complete."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise FileExistsError(f"{folder} is not empty; choose a new folder for the backup")
    folder.parent.mkdir(parents=True, exist_ok=True)
    db_path = resolve_db_path(db)
    key = ensure_key(db_path)
    partial = Path(tempfile.mkdtemp(prefix=f".{folder.name}.partial-", dir=folder.parent))  # owner-only
    taken = None
    try:
        with write_connection(db) as con:  # read-write: EXPORT checkpoints first, so nothing in the WAL is missed
            con.execute("CHECKPOINT")
            try:
                with transaction(con):
                    taken, _ = audit.flush_pending(con, db_path)
                    audit.record(
                        con,
                        "backup",
                        "database",
                        str(folder.resolve()),
                        actor=actor,
                        detail=f"{db_path.name} backed up to {folder.resolve()}",
                    )
                    con.execute(f"EXPORT DATABASE {quote_literal(partial.resolve())} (FORMAT parquet)")
                    migrations = [
                        r[0] for r in con.execute(f"SELECT name FROM {MIGRATIONS_TABLE} ORDER BY name").fetchall()
                    ]
                    _write_manifest(partial, key, db_path.name, migrations)
                    if folder.exists():
                        folder.rmdir()  # empty (checked above): the complete backup takes its place
                    os.rename(partial, folder)
            except BaseException:  # after the rollback
                audit.give_back_pending(db_path, taken)
                if folder.exists() and not partial.exists():
                    shutil.rmtree(folder, ignore_errors=True)
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    audit.done_pending(taken)
    return folder


def _write_manifest(folder: Path, key: bytes, db_name: str, migrations: list[str]) -> None:
    """manifest.json (each table's file and every file's SHA-256) and manifest.sig (its HMAC)."""
    tables = {
        name.replace('"', ""): Path(path.replace("''", "'")).name
        for name, path in _COPY_LINE.findall((folder / "load.sql").read_text("utf-8"))
    }
    files = {}
    for f in sorted(folder.iterdir()):
        os.chmod(f, 0o600)
        files[f.name] = _sha256(f)
    manifest = {
        "format": MANIFEST_FORMAT,
        "database": db_name,
        "made_at": dt.datetime.now(dt.UTC).isoformat(),
        "migrations": migrations,
        "tables": tables,
        "files": files,
    }
    data = json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8")
    for name, content in ((MANIFEST, data), (SIGNATURE, (_sign(key, data) + "\n").encode("ascii"))):
        fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(content)


# ---------------------------------------------------------------------------
# Restore
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Checked:
    tables: dict[str, Path]  # "schema.table" -> its Parquet file in the backup
    migrations: list[str]


def check_backup(folder: str | Path, key_file: Path | None) -> _Checked:
    """The backup's tables and migrations once it passes its checks; BackupRefused otherwise.

    ``key_file=None`` accepts a backup without a manifest (made before manifests existed): its
    tables are found by DuckDB's file naming and nothing is verified."""
    folder = Path(folder).resolve()
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a Knotwork backup (no such folder)")
    if key_file is None:
        if (folder / MANIFEST).exists():
            raise BackupRefused(f"{folder} has a signed manifest; restore it with its key, not --unsigned")
        tables = {}
        for f in folder.glob("*.parquet"):
            schema, _, table = f.stem.partition("_")
            tables[f"{schema}.{table}"] = f
        return _Checked(tables, _read_migrations(folder, tables))
    if not (folder / MANIFEST).exists() or not (folder / SIGNATURE).exists():
        if (folder / "schema.sql").exists():
            raise BackupRefused(
                f"{folder} has no signed manifest (made by an older Knotwork, or changed); "
                "restore it with --unsigned only if you know where it has been"
            )
        raise FileNotFoundError(f"{folder} is not a Knotwork backup (manifest.json is missing)")
    key = read_key(key_file)
    data = (folder / MANIFEST).read_bytes()
    sig = (folder / SIGNATURE).read_text(encoding="ascii", errors="replace").strip()
    if not hmac.compare_digest(sig, _sign(key, data)):
        raise BackupRefused(
            f"{folder}: the manifest does not match this practice's backup key: the backup was "
            "changed after it was made, or made by another practice; nothing was restored"
        )
    manifest = json.loads(data)
    for name, digest in manifest["files"].items():
        path = folder / name
        if "/" in name or "\\" in name or not path.is_file() or _sha256(path) != digest:
            raise BackupRefused(
                f"{folder}: {name} is missing or was changed after the backup was made; nothing was restored"
            )
    tables = {}
    for table, name in manifest["tables"].items():
        if not _PLAIN_FILE.match(name) or name not in manifest["files"]:
            raise BackupRefused(f"{folder}: table {table} points at {name!r}, not a file of the backup")
        tables[table] = folder / name
    return _Checked(tables, list(manifest["migrations"]))


def _read_migrations(folder: Path, tables: dict[str, Path]) -> list[str]:
    path = tables.get(MIGRATIONS_TABLE)
    if path is None:
        raise BackupRefused(f"{folder} is not a Knotwork backup (it has no list of migrations)")
    with duckdb.connect() as con:
        _confine(con, path.parent)
        return [r[0] for r in con.execute("SELECT name FROM read_parquet(?) ORDER BY name", [str(path)]).fetchall()]


def _confine(con: duckdb.DuckDBPyConnection, folder: Path) -> None:
    """From here on this connection reads and writes no file but its database and ``folder``."""
    con.execute("SET allowed_directories = ?", [[str(folder.resolve()) + os.sep]])
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def restore(
    folder: str | Path, db, actor: str | None = None, key: str | Path | None = None, unsigned: bool = False
) -> Path:
    """Restore a backup into a new database file (see the module docstring for what is checked and
    what is never run).  ``key``: the backup key file (default: the one beside ``db``)."""
    folder = Path(folder).resolve()
    target = resolve_db_path(db)
    if target.exists():
        raise FileExistsError(f"{target} already exists; restore into a new database path (--db) and switch to it")
    checked = check_backup(folder, None if unsigned else (Path(key) if key else key_path(target)))
    known = [name for name, _ in available_migrations()]
    if not checked.migrations or any(m not in known for m in checked.migrations):
        raise BackupRefused(
            f"{folder} was made by a newer Knotwork (or is not a Knotwork backup); update Knotwork first"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.restoring-{secrets.token_hex(4)}")
    con = duckdb.connect(str(tmp), config=dict(WRITE_CONFIG))
    try:
        _confine(con, folder)
        migrate(con, upto=max(checked.migrations))
        _load_tables(con, checked)
        migrate(con)
        _advance_sequences(con)
        with transaction(con):
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            ended = con.execute(REVOKE_ALL_SQL, [now]).fetchone()[0]
            con.execute(DROP_SECRET_SQL)
            rebuild_marts(con)
            audit.record(
                con,
                "restore",
                "database",
                str(folder),
                actor=actor,
                detail=f"restored from {folder} into {target.name}"
                + (f"; {ended} private links ended" if ended else ""),
            )
        con.execute("CHECKPOINT")
        con.close()
        os.link(tmp, target)  # fails if the target appeared meanwhile: never overwrite a database
        os.unlink(tmp)
    except BaseException:
        con.close()
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
        raise
    return target


def _load_tables(con: duckdb.DuckDBPyConnection, checked: _Checked) -> None:
    """Every table Knotwork's schema has, read from the backup as data (marts are rebuilt instead),
    and the import's staging tables (made by each import, so not in the schema; plain names only)."""
    expected = con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name <> 'marts' ORDER BY 1, 2"
    ).fetchall()
    try:
        with transaction(con):
            for name, path in sorted(checked.tables.items()):
                schema, _, table = name.partition(".")
                if schema == "staging" and _STAGING_NAME.match(table):
                    con.execute(
                        f"CREATE TABLE staging.{quote_identifier(table)} AS SELECT * FROM read_parquet(?)", [str(path)]
                    )
            for schema, table in expected:
                name = f"{schema}.{table}"
                path = checked.tables.get(name)
                if path is None or name == SECRET_TABLE:
                    continue
                if name == MIGRATIONS_TABLE:
                    con.execute(f"DELETE FROM {MIGRATIONS_TABLE}")  # the backup's own dates of its migrations
                # Identifiers come from this database's own catalog, the file is a bound parameter.
                target = f"{quote_identifier(schema)}.{quote_identifier(table)}"
                con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM read_parquet(?)", [str(path)])
    except duckdb.Error as exc:  # after the rollback
        raise BackupRefused(
            f"the backup's data does not fit this Knotwork's tables ({exc}); nothing was restored"
        ) from None


def _advance_sequences(con: duckdb.DuckDBPyConnection) -> None:
    existing = {
        r[0] for r in con.execute("SELECT schema_name || '.' || sequence_name FROM duckdb_sequences()").fetchall()
    }
    for seq, sql in SEQUENCE_MAX.items():
        if seq not in existing:
            continue
        top = con.execute(sql).fetchone()[0] or 0
        if top > 0:  # nextval() past the largest id restored (DuckDB has no ALTER SEQUENCE … RESTART)
            con.execute(f"SELECT max(nextval('{seq}')) FROM range(?)", [int(top)])


# ---------------------------------------------------------------------------
# Backups folder (the Records page's "Back up now" and its list)
# ---------------------------------------------------------------------------


def backups_root(db=None) -> Path:
    return resolve_db_path(db).parent / BACKUPS_FOLDER


def new_backup_folder(db=None, now: dt.datetime | None = None) -> Path:
    """``<db folder>/backups/<db name>-<YYYYMMDD-HHMMSS>`` (a suffix if that second is taken)."""
    path = resolve_db_path(db)
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    folder = backups_root(path) / f"{path.stem}-{stamp}"
    n = 2
    while folder.exists():
        folder = backups_root(path) / f"{path.stem}-{stamp}-{n}"
        n += 1
    return folder


@dataclass(frozen=True)
class BackupInfo:
    folder: Path
    made: dt.datetime
    files: int
    size_bytes: int


def list_backups(db=None) -> list[BackupInfo]:
    """This database's backups in the default folder, newest first (other databases' are skipped)."""
    path = resolve_db_path(db)
    root = backups_root(path)
    if not root.is_dir():
        return []
    out = []
    for folder in root.iterdir():
        if not folder.is_dir() or not folder.name.startswith(f"{path.stem}-") or not (folder / "load.sql").exists():
            continue
        files = [f for f in folder.iterdir() if f.is_file()]
        out.append(
            BackupInfo(
                folder,
                dt.datetime.fromtimestamp((folder / "load.sql").stat().st_mtime),
                len(files),
                sum(f.stat().st_size for f in files),
            )
        )
    return sorted(out, key=lambda b: b.made, reverse=True)


def zip_backup(folder: str | Path) -> bytes:
    """The backup folder as one zip (for a download); unzip it and ``knotwork restore`` the folder."""
    folder = Path(folder)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.iterdir()):
            if f.is_file():
                zf.write(f, arcname=f"{folder.name}/{f.name}")
    return buf.getvalue()
