"""The practice's own adjustments to the import's rules: the vocabulary terms and aliases it has
accepted, and its day/month order for ambiguous dates.  Used by the import, the Import page's
check, the forms and client check-ins, so every path judges a value the same way."""

from __future__ import annotations

import duckdb

from pipelines.clinical.settings import load_settings, settings_path_for
from pipelines.ingest import vocab as V
from pipelines.ingest.validate import FIELDS
from pipelines.warehouse.db import read_connection, resolve_db_path


def practice_day_first(db) -> bool:
    """The practice's day/month order for ambiguous dates (settings: ``[import] date_order``)."""
    try:
        settings = load_settings(settings_path_for(resolve_db_path(db)))
        return str(settings.get("import", {}).get("date_order", "day_first")) != "month_first"
    except Exception:  # settings are optional; the contract's default is day/month
        return True


def practice_vocabularies(con: duckdb.DuckDBPyConnection) -> dict[str, V.Vocabulary]:
    """Built-in vocabularies extended with the practice's accepted entries and its own aliases."""
    rows = con.execute("SELECT vocabulary, value FROM core.vocabulary_extensions").fetchall()
    extra: dict[str, list[str]] = {}
    for voc, value in rows:
        extra.setdefault(voc, []).append(value)
    aliases: dict[str, dict[str, str]] = {}
    if _has_table(con, "core", "vocabulary_aliases"):  # a database from before migration 0008 has none
        for voc, alias, canonical in con.execute(
            "SELECT vocabulary, alias, canonical FROM core.vocabulary_aliases ORDER BY created_at"
        ).fetchall():
            aliases.setdefault(voc, {})[alias] = canonical
    out = {}
    for kind_fields in FIELDS.values():
        for name, spec in kind_fields.items():
            voc = spec.vocab
            if voc is not None and spec.unknown == "extend" and (extra.get(voc.name) or aliases.get(voc.name)):
                out[voc.name + ":" + name] = voc.extended(extra.get(voc.name, []), aliases.get(voc.name))
    return out


def _has_table(con, schema: str, table: str) -> bool:
    return (
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [schema, table]
        ).fetchone()[0]
        > 0
    )


def db_vocabularies(db) -> dict | None:
    """:func:`practice_vocabularies` of the database at ``db``, or None (the built-in lists apply)
    when there is no database yet or it is too old to hold them."""
    try:
        with read_connection(db) as con:
            return practice_vocabularies(con)
    except Exception:
        return None
