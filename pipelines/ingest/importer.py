"""Import files into the warehouse: read ▶ validate ▶ raw → core ▶ marts.

One file is one transaction: a crash or kill part-way leaves the database as it
was before that file, and running the import again finishes the job.  Every
row read ends up counted exactly once as inserted, updated, unchanged or
rejected (``rows_read = inserted + updated + unchanged + rejected``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from pipelines.ingest import vocab as V
from pipelines.ingest.contract import (
    COLUMN_LABELS,
    KINDS,
    VISIT_CHILD_KINDS,
    detect_kind,
    normalise_header,
    required_columns_missing,
)
from pipelines.ingest.fast_import import FastStage, load_source
from pipelines.ingest.mappings import ColumnMapping, guess_kind, suggest_mapping
from pipelines.ingest.practice_rules import practice_day_first, practice_vocabularies
from pipelines.ingest.readers import FileProblem, TableFile, open_table
from pipelines.ingest.validate import FIELDS, TECHNIQUE_COLUMN, validate_chunk
from pipelines.techniques.large import store_default_report
from pipelines.warehouse import audit
from pipelines.warehouse.db import write_connection
from pipelines.warehouse.marts import rebuild_marts
from pipelines.warehouse.sqlnames import quote_identifier as _q  # column names from the contract or a header
from pipelines.warehouse.transaction import transaction

Progress = Callable[[int, str], None]

# The kinds that feed what the stored technique result is computed from (marts.visit_outcomes,
# including its ROM change, and the clients' complaint regions: technique_sql's fingerprint.sql).
TECHNIQUE_INPUTS = ("visits", "clients", "rom")

# CSV files DuckDB can read with exact line numbers take the fast path (pipelines/ingest/fast_import.py);
# tests switch it off to compare both paths on the same files.
FAST_PATH = True

# Columns core keeps for bookkeeping; they never make a row "changed".
BOOKKEEPING = ("source_import", "source_line", "updated_at", "source", "visit_id_derived")


@dataclass
class Reject:
    line: int
    column: str | None
    value: str | None
    reason: str


@dataclass
class FileReport:
    path: str
    kind: str | None
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejects: list[Reject] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    import_id: int | None = None
    # Terms the file uses that no vocabulary knows, kept as the practice's own: one entry per term
    # with the rows (kept rows only) that use it and the closest known entry.
    new_terms: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        out = {
            "path": self.path,
            "kind": self.kind,
            "rows_read": self.rows_read,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "rejects": [asdict(r) for r in self.rejects],
            "warnings": self.warnings,
            "notes": self.notes,
            "new_terms": self.new_terms,
        }
        if self.error:
            out["error"] = self.error
        return out

    @property
    def accounted(self) -> bool:
        return self.inserted + self.updated + self.unchanged + self.rejected == self.rows_read


# Plain-word headers ("Client", "Pain before", "What I did") are matched like the Import page's
# suggestions, but without anyone to confirm them: only a header that is a column's name or one
# of its aliases, whole ("Pain before") or as whole words of a longer header ("Pain before (0-10)").
PLAIN_HEADER_CUTOFF = 0.75


def plain_header_rename(headers: list[str], columns: list[str], kind: str) -> ColumnMapping:
    """``rename`` for a file's plain-word headers; contract headers keep their names."""
    known = set(FIELDS[kind])
    taken = {c for c in columns if c in known}
    todo = [h for h, c in zip(headers, columns) if c not in known]
    rename = ColumnMapping()
    for header, (target, _) in suggest_mapping(todo, kind, cutoff=PLAIN_HEADER_CUTOFF).items():
        if target and target not in taken:
            rename[normalise_header(header)] = target
            taken.add(target)
    return rename


def technique_columns(headers: list[str], columns: list[str], kind: str) -> dict[str, str]:
    """Visits columns named after a technique ("TrP", "MFR", "Stretch"): normalised column ->
    ``technique:<entry>``; their ticks (x / yes / ✓) are read as that technique (validate)."""
    if kind != "visits":
        return {}
    known = set(FIELDS[kind])
    out = {}
    for header, col in zip(headers, columns):
        if col in known:
            continue
        r = V.TECHNIQUES.resolve(header)
        if r.known:
            out[col] = TECHNIQUE_COLUMN + r.canonical
    return out


def prepare(
    path: str | Path, kind: str | None = None, rename: dict[str, str] | None = None
) -> tuple[TableFile, str, set[str], list[str], ColumnMapping | dict | None]:
    """Open the file and settle its kind and columns, or raise FileProblem (nothing written).

    Returns the table, kind, contract columns present, notes, and the ``rename`` to read it with:
    the one given, or (no mapping) plain-word headers matched to their columns, plus any
    per-technique tick columns of a visits file."""
    table = open_table(path)
    columns = [rename.get(c, c) if rename else c for c in table.columns]
    if kind is None:
        kind = detect_kind(columns, table.path.name)
        if kind is None and rename is None:
            kind = guess_kind(table.headers, table.path.name)
        if kind is None:
            raise FileProblem(
                f"{table.path.name}: cannot tell which kind of file this is from its columns; pass --kind"
            )
    elif kind not in KINDS:
        raise FileProblem(f"unknown kind '{kind}' (expected one of: {', '.join(KINDS)})")
    notes = list(table.notes)
    if rename is None:
        plain = plain_header_rename(table.headers, table.columns, kind)
        if plain:
            header_of = dict(zip(table.columns, table.headers))
            notes.append(
                "columns read by their plain names: " + ", ".join(f"'{header_of[c]}' as {t}" for c, t in plain.items())
            )
            rename = plain
            columns = [rename.get(c, c) for c in table.columns]
    ticks = technique_columns(table.headers, columns, kind)
    if ticks:
        merged = ColumnMapping(rename or {})
        for attr in ("name", "kind", "day_first"):
            setattr(merged, attr, getattr(rename, attr, None))
        merged.update(
            {
                c: ticks[rename.get(c, c) if rename else c]
                for c in table.columns
                if (rename.get(c, c) if rename else c) in ticks
            }
        )
        rename = merged
        columns = [rename.get(c, c) for c in table.columns]
        header_of = dict(zip(table.columns, table.headers))
        notes.append(
            "a column per technique, ticks read as that technique: "
            + ", ".join(f"'{header_of[c]}'" for c in table.columns if rename.get(c, "").startswith(TECHNIQUE_COLUMN))
        )
    doubled = sorted({c for c in columns if columns.count(c) > 1})
    if doubled:
        raise FileProblem(
            f"{table.path.name}: two columns would both be read as '{doubled[0]}'; check the column mapping"
        )
    present = set(columns)
    missing = required_columns_missing(kind, present)
    if missing:
        raise FileProblem(f"{table.path.name}: required column '{missing[0]}' is missing for a {kind} file")
    known = set(FIELDS[kind])
    ignored = [h for h, c in zip(table.headers, columns) if c not in known and not c.startswith(TECHNIQUE_COLUMN)]
    if ignored:
        notes.append("columns not imported (kept in the raw layer): " + ", ".join(f"'{h}'" for h in ignored))
    if kind == "visits" and "visit_id" not in present:
        notes.append(
            "no visit_id column: visit ids derived from client_id + visit_date (+ a sequence for same-day visits)"
        )
    tick_cols = {c for c in columns if c.startswith(TECHNIQUE_COLUMN)}
    return table, kind, (present & known) | tick_cols, notes, rename


def ingest_file(
    path: str | Path,
    db=None,
    kind: str | None = None,
    rename: dict[str, str] | None = None,
    mapping_name: str | None = None,
    day_first: bool | None = None,
    progress: Progress | None = None,
    actor: str | None = None,
    store_techniques: bool = True,
) -> FileReport:
    """Import one file.  Raises FileProblem (nothing written) when it cannot be read at all.

    A saved mapping (``pipelines.ingest.mappings.ColumnMapping`` as ``rename``) may also say the
    file's kind and date order; explicit ``kind`` / ``day_first`` arguments win over it.
    """
    if kind is None:
        kind = getattr(rename, "kind", None)
    table, kind, present, notes, rename = prepare(path, kind, rename)
    if day_first is None:
        day_first = getattr(rename, "day_first", None)
    if day_first is None:
        day_first = practice_day_first(db)
    report = FileReport(str(path), kind, notes=notes)
    with write_connection(db) as con:
        # Read by DuckDB before the transaction: a file DuckDB cannot parse raises here, and an
        # error inside the transaction would abort it.  temp.src is this connection's alone.
        # Per-technique tick columns are merged by the validator: such (hand-kept) files take its path.
        fast = FAST_PATH and not any(c.startswith(TECHNIQUE_COLUMN) for c in present)
        src_names = load_source(con, table) if fast else None
        with transaction(con):
            _ingest(con, table, kind, present, rename, mapping_name, day_first, report, progress, src_names)
            _audit_import(con, report, actor)  # next to raw.imports, in the same transaction
        if store_techniques and kind in TECHNIQUE_INPUTS:
            after_commit(con, db, report, progress)
    assert report.accounted, f"row accounting broken for {path}: {report}"
    return report


def after_commit(con, db, report: FileReport, progress: Progress | None = None) -> bool:
    """The import's after-commit hook: store a large practice's default technique result.

    It runs once the file's rows are committed, in a transaction of its own, still holding the
    write lock (so it sees exactly the data just committed).  A failure here never undoes the
    import: the stored result carries a fingerprint of the data it was computed from, so the
    Techniques page finds it stale and computes afresh (``techniques.large.stored_report``), and
    the report says so.  Below ``LARGE_DATA_VISITS`` this is one count query and stores nothing.
    Returns whether the hook succeeded."""
    # A large practice's result is stored with the data it comes from, so the page opens in about
    # a second instead of refitting (~10 s at 2.4 M visits).
    if progress:
        progress(report.rows_read, "updating the technique analysis")
    try:
        with transaction(con):
            store_default_report(con, db=db)
    except Exception as exc:  # any failure of the statistics leaves the import as committed
        report.notes.append(
            "the rows are imported, but the technique analysis could not be stored "
            f"({type(exc).__name__}: {exc}); the Techniques page computes it when opened"
        )
        return False
    return True


def _audit_import(con, report: FileReport, actor: str | None) -> None:
    counts = {k: getattr(report, k) for k in ("rows_read", "inserted", "updated", "unchanged", "rejected")}
    audit.record(
        con,
        "import",
        report.kind,
        report.import_id,
        after={"path": report.path, **counts},
        actor=actor,
        detail=f"{Path(report.path).name}: {report.rows_read} rows read: {report.inserted} loaded, "
        f"{report.updated} updated, {report.unchanged} unchanged, {report.rejected} rejected",
    )


def _merge_terms(acc: dict, found: dict) -> None:
    for key, (spelling, lines) in found.items():
        acc.setdefault(key, (spelling, set()))[1].update(lines)


def _stage(
    con,
    table: TableFile,
    kind: str,
    present: set[str],
    rename,
    day_first: bool,
    vocabularies,
    progress: Progress | None,
    terms: dict,
):
    """Read and validate every chunk into TEMP tables; return (rows, evidence, new_vocab)."""
    for t in ("incoming", "file_rejects", "file_warnings", "file_raw"):
        con.execute(f"DROP TABLE IF EXISTS temp.{t}")
    con.execute('CREATE TEMP TABLE file_rejects (_line BIGINT, "column" VARCHAR, value VARCHAR, reason VARCHAR)')
    con.execute('CREATE TEMP TABLE file_warnings (_line BIGINT, "column" VARCHAR, value VARCHAR, message VARCHAR)')
    con.execute("CREATE TEMP TABLE file_raw (line BIGINT, cells VARCHAR[])")
    rows = 0
    evidence = {"day_first": 0, "month_first": 0, "ambiguous": 0}
    new_vocab: dict = {}
    # The raw layer's cells, in the order of the file's header (raw.files.headers).
    raw_cols = [rename.get(c, c) if rename else c for c in table.columns]
    created = False
    for chunk in table.chunks(rename):
        rows += len(chunk)
        result = validate_chunk(kind, chunk, day_first=day_first, vocabularies=vocabularies, present=present)
        evidence = {k: evidence[k] + result.date_evidence.get(k, 0) for k in evidence}
        new_vocab.update(result.new_vocab)
        _merge_terms(terms, result.new_terms)
        clean = result.clean
        if not created:
            _create_incoming(con, kind, clean)
            created = True
        if len(clean):
            con.register("chunk_clean", clean)
            con.execute("INSERT INTO incoming BY NAME SELECT * FROM chunk_clean")
        con.unregister("chunk_clean")
        for name, frame in (("file_rejects", result.rejects), ("file_warnings", result.warnings)):
            if len(frame):
                con.register("chunk_frame", frame)
                con.execute(f"INSERT INTO {name} SELECT * FROM chunk_frame")
                con.unregister("chunk_frame")
        con.register("chunk_raw", chunk)
        cells = ", ".join(f"coalesce(CAST({_q(c)} AS VARCHAR), '')" for c in raw_cols)
        con.execute(f"INSERT INTO file_raw SELECT _line, [{cells}] FROM chunk_raw")
        con.unregister("chunk_raw")
        if progress:
            progress(rows, f"read {rows:,} rows")
    return rows, evidence, new_vocab


def _incoming_types(con, kind: str) -> dict[str, str]:
    """Column -> SQL type of ``incoming``: core's (a first chunk of empty cells must not decide)."""
    core_types = dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'core' AND table_name = ?",
            [kind],
        ).fetchall()
    )
    core_types.update({"visit_date": "DATE", "client_id": "VARCHAR", "_line": "BIGINT"})
    if kind == "self_reports":
        core_types["reported_at"] = "TIMESTAMP"
    return core_types


def _create_incoming(con, kind: str, clean: pd.DataFrame) -> None:
    """TEMP table typed like core."""
    core_types = _incoming_types(con, kind)
    cols = ", ".join(f"{_q(c)} {core_types.get(c, 'VARCHAR')}" for c in clean.columns)
    con.execute(f"CREATE TEMP TABLE incoming ({cols})")


def _settle_day_first(evidence: dict[str, int], day_first: bool) -> bool:
    """Values that can only be read one way (25/03, 03/25) overrule the setting."""
    if evidence["month_first"] and not evidence["day_first"]:
        return False
    if evidence["day_first"] and not evidence["month_first"]:
        return True
    return day_first


def _stage_fast(
    con,
    table: TableFile,
    kind: str,
    present: set[str],
    rename,
    day_first: bool,
    vocabularies,
    progress: Progress | None,
    src_names: list[str],
    terms: dict,
):
    """The fast path (pipelines/ingest/fast_import.py) over ``temp.src`` as read by ``load_source``."""
    for t in ("incoming", "file_rejects", "file_warnings"):
        con.execute(f"DROP TABLE IF EXISTS temp.{t}")
    con.execute('CREATE TEMP TABLE file_rejects (_line BIGINT, "column" VARCHAR, value VARCHAR, reason VARCHAR)')
    con.execute('CREATE TEMP TABLE file_warnings (_line BIGINT, "column" VARCHAR, value VARCHAR, message VARCHAR)')
    stage = FastStage(con, table, kind, src_names, rename, present, vocabularies)
    stage.build(_incoming_types(con, kind))
    rows = con.execute("SELECT count(*) FROM temp.incoming").fetchone()[0]
    if progress:
        progress(rows, f"read {rows:,} rows")
    # Only the doubtful rows can carry day/month evidence (clean dates are ISO), so the order is
    # settled before they are validated: one pass, no re-staging.
    evidence = stage.date_evidence()
    day_first = _settle_day_first(evidence, day_first)
    new_vocab: dict = {}
    for chunk in stage.doubtful_chunks():
        result = validate_chunk(kind, chunk, day_first=day_first, vocabularies=vocabularies, present=present)
        new_vocab.update(result.new_vocab)
        _merge_terms(terms, result.new_terms)
        for name, frame in (
            ("incoming", result.clean),
            ("file_rejects", result.rejects),
            ("file_warnings", result.warnings),
        ):
            if len(frame):
                con.register("chunk_frame", frame)
                con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM chunk_frame")
                con.unregister("chunk_frame")
    # The doubtful rows as SQL read them give way to the validator's (whose _clean is NULL).
    con.execute("DELETE FROM incoming WHERE _clean = false")
    stage.raw_view()
    if progress:
        progress(rows, f"checked {rows:,} rows")
    return rows, evidence, new_vocab, day_first


def _ingest(
    con,
    table: TableFile,
    kind: str,
    present: set[str],
    rename,
    mapping_name,
    day_first: bool,
    report: FileReport,
    progress: Progress | None,
    src_names: list[str] | None = None,
) -> None:
    vocabularies = practice_vocabularies(con)
    terms: dict = {}
    fast = (
        None
        if src_names is None
        else _stage_fast(con, table, kind, present, rename, day_first, vocabularies, progress, src_names, terms)
    )
    if fast is not None:
        rows, evidence, new_vocab, day_first = fast
    else:
        rows, evidence, new_vocab = _stage(con, table, kind, present, rename, day_first, vocabularies, progress, terms)
        settled = _settle_day_first(evidence, day_first)
        if settled != day_first:
            day_first = settled
            terms.clear()
            rows, evidence, new_vocab = _stage(
                con, table, kind, present, rename, day_first, vocabularies, progress, terms
            )
    report.rows_read = rows
    order = "day/month (14/03/2026)" if day_first else "month/day (03/14/2026)"
    if evidence["day_first"] and evidence["month_first"]:
        report.notes.append(
            f"dates in this file use both day/month and month/day order; read as {order}, the others were rejected"
        )
    elif evidence["day_first"] or evidence["month_first"]:
        report.notes.append(f"dates read as {order}: values in the file settle the order")
    elif evidence["ambiguous"]:
        source = (
            "the column mapping's date order"
            if getattr(rename, "day_first", None) is not None
            else "the practice setting"
        )
        report.notes.append(
            f"dates such as 05/01/2026 read as {order}, {source}: nothing in the file settles the order"
        )

    import_id = con.execute("SELECT nextval('raw.import_id_seq')").fetchone()[0]
    report.import_id = import_id

    # The raw layer first, then the file's text is dropped: at 12 million rows it is gigabytes
    # that would otherwise spill to disk under every later step (benchmarks, network size).
    path = str(table.path)
    new_file = con.execute("SELECT count(*) = 0 FROM raw.files WHERE file_hash = ?", [table.file_hash]).fetchone()[0]
    if new_file:
        con.execute(
            "INSERT INTO raw.files VALUES (?, ?, ?, ?, ?, now())", [table.file_hash, kind, path, table.headers, rows]
        )
        con.execute(
            "INSERT INTO raw.rows (file_hash, line, cells) SELECT ?, line, cells FROM file_raw", [table.file_hash]
        )
    if fast is not None:
        con.execute("DROP VIEW temp.file_raw")
        con.execute("DROP TABLE IF EXISTS temp.doubtful")
        con.execute("DROP TABLE temp.src")
    else:
        con.execute("DROP TABLE temp.file_raw")

    _derive_and_check(con, kind, present, import_id, report)
    counts = _upsert(con, kind, present, import_id)
    report.inserted, report.updated, report.unchanged = counts

    # Terms only from rows that were kept: a row rejected later (unknown client, duplicate)
    # adds nothing to the practice's vocabulary.
    rejected = {r[0] for r in con.execute("SELECT DISTINCT _line FROM file_rejects").fetchall()}
    kept_terms = {k: (spelling, lines - rejected) for k, (spelling, lines) in terms.items() if lines - rejected}
    new_vocab = {k: v for k, v in new_vocab.items() if k in kept_terms}
    report.new_terms = [
        {
            "vocabulary": voc,
            "term": value,
            "spelling": kept_terms[(voc, value)][0],
            "rows": len(kept_terms[(voc, value)][1]),
            "suggestion": new_vocab.get((voc, value)),
        }
        for voc, value in sorted(kept_terms, key=lambda k: (-len(kept_terms[k][1]), k))
    ]
    for (voc, value), closest in new_vocab.items():
        con.execute(
            "INSERT INTO core.vocabulary_extensions SELECT ?, ?, ?, ? WHERE NOT EXISTS "
            "(SELECT 1 FROM core.vocabulary_extensions WHERE vocabulary = ? AND value = ?)",
            [voc, value, closest, import_id, voc, value],
        )

    _plain_words(con)
    rejected_lines = con.execute("SELECT count(DISTINCT _line) FROM file_rejects").fetchone()[0]
    report.rejected = rejected_lines
    rej = con.execute(
        'SELECT _line, "column", value, reason FROM file_rejects ORDER BY _line, "column" NULLS FIRST'
    ).fetchall()
    report.rejects = [Reject(int(r[0]), r[1], r[2], r[3]) for r in rej]
    warns = con.execute('SELECT _line, "column", value, message FROM file_warnings ORDER BY _line').fetchall()
    report.warnings = [{"line": int(w[0]), "column": w[1], "value": w[2], "message": w[3]} for w in warns]

    con.execute(
        'INSERT INTO raw.rejects SELECT ?, ?, _line, "column", value, reason FROM file_rejects', [import_id, path]
    )
    con.execute(
        'INSERT INTO raw.warnings SELECT ?, ?, _line, "column", value, message FROM file_warnings', [import_id, path]
    )
    con.execute(
        "INSERT INTO raw.imports VALUES (?, now(), now(), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            import_id,
            path,
            table.file_hash,
            kind,
            mapping_name,
            rows,
            report.inserted,
            report.updated,
            report.unchanged,
            report.rejected,
            report.notes,
        ],
    )
    if progress:
        progress(rows, "rebuilding the marts")
    touched = [r[0] for r in con.execute("SELECT client_id FROM temp.touched_clients").fetchall()]
    rebuild_marts(con, {kind}, clients=touched)


PLAIN_WORDS_SQL = """
UPDATE {table} SET {text} = ? || substr({text}, ?)
WHERE "column" = ? AND (starts_with({text}, ?) OR starts_with({text}, ?))
"""


def _plain_words(con) -> None:
    """Reasons and notes in the words of the page ("Pain before 12 is outside 0–10"), not the
    contract's column names (contract.plain_reason, in SQL over the file's few rejects)."""
    for table, text in (("file_rejects", "reason"), ("file_warnings", "message")):
        present = [c for (c,) in con.execute(f'SELECT DISTINCT "column" FROM {table}').fetchall() if c in COLUMN_LABELS]
        for column in present:
            con.execute(
                PLAIN_WORDS_SQL.format(table=table, text=text),
                [COLUMN_LABELS[column], len(column) + 1, column, column + " ", column + ":"],
            )


def _reject_sql(con, where_sql: str, column: str | None, value_sql: str, reason_sql: str, params=()) -> None:
    """Move rows of ``incoming`` matching ``where_sql`` to the rejects with a reason built in SQL."""
    con.execute(
        f"INSERT INTO file_rejects SELECT _line, ?, {value_sql}, {reason_sql} FROM incoming WHERE {where_sql}",
        [column, *params],
    )
    con.execute(f"DELETE FROM incoming WHERE {where_sql}", list(params))


# A display name as a key: case and runs of spaces do not matter ("anna  K" = "Anna K").
NAME_KEY = "lower(regexp_replace(trim({}), '\\s+', ' ', 'g'))"

NAME_MATCH_SQL = f"""
CREATE OR REPLACE TEMP TABLE name_match AS
SELECT i._line, i.client_id AS written, count(c.client_id) AS n, min(c.client_id) AS client_id,
       string_agg(c.client_id, ', ' ORDER BY c.client_id) AS ids
FROM incoming i LEFT JOIN core.clients c ON {NAME_KEY.format("c.display_name")} = {NAME_KEY.format("i.client_id")}
WHERE i.client_id NOT IN (SELECT client_id FROM core.clients)
GROUP BY i._line, i.client_id
"""

SAME_DAY_SQL = """
INSERT INTO file_warnings
SELECT i._line, 'visit_date', strftime(i.visit_date, '%Y-%m-%d'),
       'possible duplicate: a second visit of client ' || i.client_id || ' on ' || strftime(i.visit_date, '%Y-%m-%d')
       || ' (' || string_agg(o.what, ', ' ORDER BY o.what) || '); kept, please check'
FROM incoming i
JOIN (SELECT client_id, visit_date, visit_id, 'line ' || _line AS what FROM incoming
      UNION ALL
      SELECT client_id, visit_date, visit_id, 'visit ' || visit_id || ' already recorded' FROM core.visits) o
  ON o.client_id = i.client_id AND o.visit_date = i.visit_date AND o.visit_id <> i.visit_id
GROUP BY i._line, i.client_id, i.visit_date
"""


def _clients_by_name(con, report: FileReport | None) -> None:
    """A file that names clients by their display name (a therapist's own sheet has no ids): a
    name that matches exactly one client (case and spacing ignored) becomes that client's id; a
    name two clients share is rejected with their ids; an unknown one is left to the
    unknown-client check."""
    con.execute(NAME_MATCH_SQL)
    _reject_sql(
        con,
        "_line IN (SELECT _line FROM name_match WHERE n > 1)",
        "client_id",
        "client_id",
        "'Client ' || client_id || ' matches several clients by name (' || "
        "(SELECT ids FROM name_match m WHERE m._line = incoming._line) || '); write the client id'",
    )
    matched = con.execute("SELECT count(*) FROM name_match WHERE n = 1").fetchone()[0]
    if matched:
        con.execute(
            "UPDATE incoming SET client_id = m.client_id FROM name_match m WHERE m._line = incoming._line AND m.n = 1"
        )
        if report is not None:
            rows = "1 row names its client" if matched == 1 else f"{matched} rows name their client"
            report.notes.append(f"{rows} by display name: matched to the client's id")


def _derive_and_check(con, kind: str, present: set[str], import_id: int, report: FileReport | None = None) -> None:
    cols = {r[0] for r in con.execute("DESCRIBE incoming").fetchall()}
    if "client_id" in cols and kind != "clients":
        _clients_by_name(con, report)
    if kind == "visits":
        if "visit_id" not in present:
            con.execute("ALTER TABLE incoming ADD COLUMN visit_id VARCHAR")
            con.execute("""
                UPDATE incoming SET visit_id = d.derived FROM (
                    SELECT _line, client_id || '-' || strftime(visit_date, '%Y%m%d')
                        || CASE WHEN row_number() OVER (PARTITION BY client_id, visit_date ORDER BY _line) > 1
                                THEN '-' || row_number() OVER (PARTITION BY client_id, visit_date ORDER BY _line)
                                ELSE '' END AS derived
                    FROM incoming) d
                WHERE incoming._line = d._line""")
            con.execute("ALTER TABLE incoming ADD COLUMN visit_id_derived BOOLEAN DEFAULT true")
        else:
            con.execute("ALTER TABLE incoming ADD COLUMN visit_id_derived BOOLEAN DEFAULT false")
    if kind in VISIT_CHILD_KINDS and "visit_id" not in cols:
        con.execute("ALTER TABLE incoming ADD COLUMN visit_id VARCHAR")
        con.execute("""
            CREATE OR REPLACE TEMP TABLE visit_match AS
            SELECT incoming._line, count(v.visit_id) AS n, min(v.visit_id) AS visit_id
            FROM incoming LEFT JOIN core.visits v
              ON v.client_id = incoming.client_id AND v.visit_date = incoming.visit_date
            GROUP BY incoming._line""")
        con.execute(
            "UPDATE incoming SET visit_id = m.visit_id FROM visit_match m WHERE m._line = incoming._line AND m.n = 1"
        )
        _reject_sql(
            con,
            "_line IN (SELECT _line FROM visit_match WHERE n = 0)",
            "visit_date",
            "strftime(visit_date, '%Y-%m-%d')",
            "'no visit of client ' || client_id || ' on ' || strftime(visit_date, '%Y-%m-%d') || '; import the visit first'",
        )
        _reject_sql(
            con,
            "_line IN (SELECT _line FROM visit_match WHERE n > 1)",
            "visit_date",
            "strftime(visit_date, '%Y-%m-%d')",
            "'client ' || client_id || ' has several visits on ' || strftime(visit_date, '%Y-%m-%d') || '; give the visit_id'",
        )

    key = KINDS[kind].key
    # An optional key column the file lacks (a check-in form without a region question) is NULL.
    have = {r[0] for r in con.execute("DESCRIBE incoming").fetchall()}
    for k in key:
        if k not in have:
            con.execute(f"ALTER TABLE incoming ADD COLUMN {_q(k)} VARCHAR")
    key_list = ", ".join(key)
    # Duplicates inside the file: the last row wins, earlier ones are reported
    # (DuckDB keeps the *first* of in-batch duplicates on upsert, so never rely on that).
    # Keys seen more than once are found by a GROUP BY first: duplicates are few, and a window
    # over every row of a 12-million-row file costs a sort that spills.
    same_key = " AND ".join(f"i.{_q(k)} IS NOT DISTINCT FROM m.{_q(k)}" for k in key)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE dupes AS
        WITH multi AS (SELECT {key_list}, max(_line) AS last_line FROM incoming
                       GROUP BY {key_list} HAVING count(*) > 1)
        SELECT i._line, m.last_line FROM incoming i JOIN multi m ON {same_key}
        WHERE i._line <> m.last_line""")
    key_text = " || ', ' || ".join(f"'{k}=' || coalesce(CAST({k} AS VARCHAR), '')" for k in key)
    con.execute(f"""
        INSERT INTO file_rejects
        SELECT i._line, NULL, {key_text}, 'duplicate of line ' || d.last_line || ' (same {key_list}); the later row is kept'
        FROM incoming i JOIN dupes d ON d._line = i._line""")
    con.execute("DELETE FROM incoming WHERE _line IN (SELECT _line FROM dupes)")

    if kind in ("visits", "self_reports", "outcome_measures"):
        _reject_sql(
            con,
            "client_id NOT IN (SELECT client_id FROM core.clients)",
            "client_id",
            "client_id",
            "'client_id ' || client_id || ' is not a known client; import the clients file first'",
        )
    if kind in VISIT_CHILD_KINDS:
        _reject_sql(
            con,
            "visit_id NOT IN (SELECT visit_id FROM core.visits)",
            "visit_id",
            "visit_id",
            "'visit_id ' || visit_id || ' is not a known visit; import the visits file first'",
        )
    if kind == "visits":
        # The Log a visit form asks about a second visit on the same day; an import says it too.
        con.execute(SAME_DAY_SQL)


def _upsert(con, kind: str, present: set[str], import_id: int) -> tuple[int, int, int]:
    key = KINDS[kind].key
    core_cols = [r[0] for r in con.execute(f"DESCRIBE core.{kind}").fetchall()]
    incoming_cols = {r[0] for r in con.execute("DESCRIBE incoming").fetchall()}
    value_cols = [c for c in core_cols if c not in key and c not in BOOKKEEPING]
    join = " AND ".join(f"c.{_q(k)} IS NOT DISTINCT FROM i.{_q(k)}" for k in key)

    # The row as it will stand in core: columns the file does not have keep their current value.
    def final_expr(c: str) -> str:
        if c in incoming_cols:
            return f"i.{_q(c)}"
        return f"c.{_q(c)}"

    select_final = ", ".join(f"{final_expr(c)} AS {_q(c)}" for c in core_cols if c not in BOOKKEEPING)
    changed = " OR ".join(f"({final_expr(c)} IS DISTINCT FROM c.{_q(c)})" for c in value_cols) or "false"
    extra_bookkeeping = ""
    if kind == "visits":
        extra_bookkeeping = ", i.visit_id_derived AS visit_id_derived"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE classified AS
        SELECT {select_final}{extra_bookkeeping}, i._line AS _line,
               CASE WHEN c.{_q(key[0])} IS NULL THEN 'inserted'
                    WHEN {changed} THEN 'updated'
                    ELSE 'unchanged' END AS _status
        FROM incoming i LEFT JOIN core.{kind} c ON {join}""")
    counts = dict(con.execute("SELECT _status, count(*) FROM classified GROUP BY _status").fetchall())
    _note_touched_clients(con, kind, core_cols, join)
    con.execute(f"""
        DELETE FROM core.{kind} c
        WHERE EXISTS (SELECT 1 FROM classified i WHERE i._status = 'updated' AND {join})""")
    target_cols = [c for c in core_cols if c not in BOOKKEEPING] + (["visit_id_derived"] if kind == "visits" else [])
    col_list = ", ".join(_q(c) for c in target_cols)
    con.execute(
        f"""
        INSERT INTO core.{kind} ({col_list}, source_import, source_line, updated_at)
        SELECT {col_list}, ?, _line, now() FROM classified WHERE _status IN ('inserted', 'updated')""",
        [import_id],
    )
    return counts.get("inserted", 0), counts.get("updated", 0), counts.get("unchanged", 0)


def _note_touched_clients(con, kind: str, core_cols: list[str], join: str) -> None:
    """``temp.touched_clients``: the clients whose core rows this file inserts or changes (for an
    updated visit also the client it belonged to before), so only their mart rows are refreshed."""
    if "client_id" in core_cols:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE touched_clients AS
            SELECT client_id FROM classified WHERE _status <> 'unchanged'
            UNION SELECT c.client_id FROM core.{kind} c JOIN classified i ON {join} WHERE i._status = 'updated'""")
    else:  # ROM and trigger points belong to a client through their visit
        con.execute("""
            CREATE OR REPLACE TEMP TABLE touched_clients AS
            SELECT DISTINCT client_id FROM core.visits
            WHERE visit_id IN (SELECT visit_id FROM classified WHERE _status <> 'unchanged')""")


def ingest_files(
    paths: list[str | Path],
    db=None,
    kind: str | None = None,
    rename=None,
    mapping_name=None,
    progress: Progress | None = None,
    actor: str | None = None,
) -> list[FileReport]:
    """Import several files, each in its own transaction.  A file that cannot be read
    gets a report with ``error`` set; the others are still imported."""
    reports = []
    ordered = _order_by_dependency(paths, kind)
    # The technique result is stored once, with the batch's last file that feeds it: one stored
    # after the visits would be retired at once by the ROM file that follows (~10 s each at
    # network size).  If that file cannot be read, nothing is stored and the page computes.
    feeding = [i for i, (_, k) in enumerate(ordered) if k in TECHNIQUE_INPUTS]
    for i, (path, _) in enumerate(ordered):
        try:
            reports.append(
                ingest_file(
                    path,
                    db=db,
                    kind=kind,
                    rename=rename,
                    mapping_name=mapping_name,
                    progress=progress,
                    actor=actor,
                    store_techniques=bool(feeding) and i == feeding[-1],
                )
            )
        except FileProblem as exc:
            reports.append(FileReport(str(path), kind, error=str(exc)))
    return reports


def _order_by_dependency(paths, kind) -> list[tuple]:
    """``(path, kind)`` with parents before children (clients, then visits, then the rest), so one
    command loads a folder; the kind is None where the header does not tell."""
    if kind is not None:
        return [(p, kind) for p in paths]
    order = {name: i for i, name in enumerate(KINDS)}

    def kind_of(p):
        try:
            t = open_table(p, scan=False)  # the header says the kind; the import checks the rest
            return detect_kind(t.columns, t.path.name)
        except FileProblem:
            return None

    return sorted(((p, kind_of(p)) for p in paths), key=lambda pk: order.get(pk[1], len(order)))
