"""The import's fast path: DuckDB reads and checks the rows that are certainly clean.

Most rows of a real export are clean.  Checking each of them in pandas made the import
13-28x slower than DuckDB's own ``read_csv`` (benchmarks/RESULTS.md), so for a CSV file
that DuckDB can read with exact line numbers:

1. DuckDB reads the file as text (``all_varchar``) into ``temp.src``; columns are matched
   **by header name**, and the row's line is its position + 2 -- only when
   the file has exactly one physical line per row (no quoted newline, no blank line, no lone
   carriage return): DuckDB's row count must equal the physical lines ``open_table`` counted.
   Otherwise the caller falls back to the Python reader for the whole file.
2. A **conservative** SQL predicate marks the rows the Python validator would certainly
   accept with no reject and no warning (ISO dates, plain numbers inside their bounds,
   vocabulary values already known, no stray whitespace ...).  Those rows are cast in SQL.
3. Every other row goes through :func:`pipelines.ingest.validate.validate_chunk`, which stays the
   single authority for reasons and warnings.  When in doubt the predicate says "not clean":
   that only costs time, never a different answer (tests/test_ingest_fast.py).

The raw layer (``raw.rows``) is built from ``temp.src`` in SQL, so no Python frame ever
holds the file.
"""

from __future__ import annotations

import pandas as pd

from pipelines.ingest import vocab as V
from pipelines.ingest.readers import CHUNK_ROWS, CSV_SUFFIXES, MAX_CELL_CHARS, TableFile
from pipelines.ingest.validate import FIELDS, QUESTIONNAIRE_ITEMS, date_order_evidence, today
from pipelines.warehouse.sqlnames import quote_identifier as _q  # column names from the contract or a header
from pipelines.warehouse.sqlnames import quote_literal as _lit  # constants of this module, never file values

# Python's str.strip() removes exactly these (str.isspace); RE2's \s alone misses most of them.
_WS = r"[\t-\r\x{1c}-\x{20}\x{85}\p{Z}]"
EDGE_SPACE = f"^{_WS}|{_WS}$"
ALL_SPACE = f"{_WS}*"
STARTS_WITH_TEXT = r"^[^\t-\r\x{1c}-\x{20}\x{85}\p{Z}]"
# Plain decimals only: what pandas and DuckDB parse to the same double (no exponent, no '+').
PLAIN_NUMBER = r"-?[0-9]{1,7}([.,][0-9]{1,6})?"
ISO_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
ISO_TIMESTAMP = r"[0-9]{4}-[0-9]{2}-[0-9]{2}([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?)?"
# A list cell in printable ASCII: there Python's \s and the SQL split pattern agree.
PRINTABLE_ASCII = r"[\x{20}-\x{7e}]*"
# The validator splits an item that is not known as a whole further, on "+", "/", "&" and "and"
# ("TrP + MFR"); such an item is unknown here, so its row is left to the validator.
LIST_SPLIT = r" *[;,|] *"

READ_CSV = """
CREATE TEMP TABLE src AS
SELECT * FROM read_csv(?, all_varchar = true, header = true, delim = ?, quote = '"', escape = '"',
                       comment = '', skip = 0, strict_mode = true, null_padding = false, max_line_size = ?)
"""


def load_source(con, table: TableFile) -> list[str] | None:
    """Read the CSV into ``temp.src``; return DuckDB's column names in header order, or None
    when this file needs the Python reader (line numbers or columns would not be exact)."""
    if table.path.suffix.lower() not in CSV_SUFFIXES:
        return None
    lines = table.physical_lines  # counted by readers.open_table in its one pass over the bytes
    if lines is None:
        return None
    try:
        # A line longer than the longest cell allowed goes to the Python reader, which refuses such a cell.
        con.execute(READ_CSV, [str(table.path), table.delimiter or ",", MAX_CELL_CHARS])
    except Exception:  # ragged rows, odd quoting ... the Python reader explains them row by row
        con.execute("DROP TABLE IF EXISTS temp.src")
        return None
    from pipelines.ingest.contract import normalise_header

    names = [r[0] for r in con.execute("DESCRIBE temp.src").fetchall()]
    n_rows = con.execute("SELECT count(*) FROM temp.src").fetchone()[0]
    if [normalise_header(n) for n in names] != table.columns or n_rows != lines - 1:
        con.execute("DROP TABLE temp.src")
        return None
    return names


class FastStage:
    """SQL for one file: which rows are certainly clean, and their typed values."""

    def __init__(
        self,
        con,
        table: TableFile,
        kind: str,
        src_names: list[str],
        rename,
        present: set[str],
        vocabularies: dict[str, V.Vocabulary],
    ):
        self.con, self.table, self.kind = con, table, kind
        self.specs = FIELDS[kind]
        self.present = present
        contract = [rename.get(c, c) if rename else c for c in table.columns]
        # contract name -> DuckDB column of temp.src (matched by header name, see load_source)
        self.src_col = {c: n for c, n in zip(contract, src_names)}
        self.src_names = src_names
        self.vocabularies = vocabularies
        self.joins: list[str] = []
        self.join_cols: list[str] = []
        self.maps: list[str] = []
        self._doubtful_ready = False
        # Inside the import's transaction a new table's rowids start at a large offset, in file
        # order (the CSV scan preserves insertion order); line = rowid - first rowid + 2.
        self.base = int(con.execute("SELECT min(rowid) FROM temp.src").fetchone()[0] or 0)
        # The validator's "future" limit, midnight after today (a computed constant, not file data).
        self.tomorrow = f"TIMESTAMP '{(pd.Timestamp(today()) + pd.Timedelta(days=1)).isoformat(sep=' ')}'"

    # -- helpers -----------------------------------------------------------------------
    # build() is layered so each costly expression is computed once per row:
    #   cells   "r:x"  the cell text ('' when empty), one row per non-blank line
    #   lookups "m:x"  canonical vocabulary value; "lm:x" list items mapped (NULL = not known)
    #   typed   "t:x"  the value as the validator would type it
    #   clean   every predicate on the columns above (+ ROM limits b.*, questionnaire items q.*)
    def cell(self, name: str) -> str:
        return f"coalesce(s.{_q(self.src_col[name])}, '')"

    def _voc(self, name: str, spec) -> V.Vocabulary:
        return self.vocabularies.get(spec.vocab.name + ":" + name, spec.vocab)

    def _known_map(self, name: str, values: list[str], voc: V.Vocabulary) -> None:
        """A MAP raw -> canonical of the distinct values the vocabulary already knows.

        Only values without surrounding whitespace: those are the validator's own text."""
        known = []
        for v in values:
            if v and v == v.strip():
                r = voc.resolve(v)
                if r.known:
                    known.append((v, r.canonical))
        table = f"vmap_{name}"
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {table} (raw VARCHAR, canonical VARCHAR)")
        if known:
            self.con.executemany(f"INSERT INTO {table} VALUES (?, ?)", known)
        self.maps.append(f"(SELECT map(list(raw), list(canonical)) FROM temp.{table}) AS {_q('map:' + name)}")

    # -- per field: (typed expression, clean predicate) over the layers' columns ---------
    def field_sql(self, name: str, spec) -> tuple[str, str]:
        r = _q("r:" + name)
        t = _q("t:" + name)
        empty_ok = "false" if spec.required else f"{r} = ''"
        if spec.kind == "text":
            return f"nullif({r}, '')", ("true" if not spec.required else f"{r} <> ''")
        if spec.kind == "number":
            typed = f"(CASE WHEN regexp_full_match({r}, {_lit(PLAIN_NUMBER)}) THEN CAST(replace({r}, ',', '.') AS DOUBLE) END)"
            ok = [f"{t} IS NOT NULL"]
            if spec.lo is not None:
                ok.append(f"{t} >= {float(spec.lo)!r}")
            if spec.hi is not None:
                ok.append(f"{t} <= {float(spec.hi)!r}")
            if spec.step == 0.5:
                ok.append(f"{t} * 2 = floor({t} * 2)")
            elif spec.step == 1:
                ok.append(f"{t} = floor({t})")
            if self.kind == "clients" and name == "birth_year":
                ok.append(f"{t} <= {int(today().year)}")  # the validator rejects a future birth year
            return typed, f"({empty_ok} OR ({' AND '.join(ok)}))"
        if spec.kind in ("date", "timestamp"):
            pattern, typ = (ISO_DATE, "DATE") if spec.kind == "date" else (ISO_TIMESTAMP, "TIMESTAMP")
            typed = f"(CASE WHEN regexp_full_match({r}, {_lit(pattern)}) THEN try_cast({r} AS {typ}) END)"
            # Same window as the validator: from 1900 up to the end of today.
            ok = f"{t} IS NOT NULL AND {t} >= TIMESTAMP '1900-01-01' AND {t} < {self.tomorrow}"
            return typed, f"({empty_ok} OR ({ok}))"
        if spec.kind == "vocab":
            m = _q("m:" + name)
            col = _q(self.src_col[name])
            values = [
                v
                for (v,) in self.con.execute(f"SELECT DISTINCT {col} FROM temp.src WHERE {col} IS NOT NULL").fetchall()
            ]
            self._known_map(name, values, self._voc(name, spec))
            self.join_cols.append(f"maps.{_q('map:' + name)}[s.{_q('r:' + name)}] AS {m}")
            typed = m
            if spec.default is not None:
                typed = f"(CASE WHEN {r} = '' THEN {_lit(spec.default)} ELSE {m} END)"
            return typed, f"({empty_ok} OR {m} IS NOT NULL)"
        if spec.kind == "vocab_list":
            col = _q(self.src_col[name])
            items = f"list_filter(string_split_regex({{cell}}, {_lit(LIST_SPLIT)}), lambda x: x <> '')"
            values = [
                v
                for (v,) in self.con.execute(
                    f"SELECT DISTINCT unnest({items.format(cell='s.' + col)}) FROM temp.src s"
                ).fetchall()
            ]
            self._known_map(name, values, self._voc(name, spec))
            lm = _q("lm:" + name)  # the items, each mapped to its canonical name (NULL if not known)
            self.join_cols.append(
                f"list_transform({items.format(cell='s.' + _q('r:' + name))}, lambda x: maps.{_q('map:' + name)}[x]) AS {lm}"
            )
            # Sorted and de-duplicated like the validator, so the same set always compares equal.
            typed = f"list_sort(list_distinct({lm}))"
            ascii_ok = f"regexp_full_match({r}, {_lit(PRINTABLE_ASCII)})"
            return typed, f"({r} = '' OR ({ascii_ok} AND list_count({lm}) = len({lm})))"
        raise ValueError(f"unknown field kind {spec.kind}")

    def kind_checks(self) -> list[str]:
        """Cross-field checks of the validator, as clean predicates."""
        checks = []
        if self.kind == "rom" and {"degrees", "joint", "movement"} <= self.present:
            rows = []
            joints = [v for (v,) in self.con.execute("SELECT DISTINCT canonical FROM temp.vmap_joint").fetchall()]
            moves = [v for (v,) in self.con.execute("SELECT DISTINCT canonical FROM temp.vmap_movement").fetchall()]
            for j in joints:
                for m in moves:
                    if (j, m) in V.ROM_NORMS:  # a pair without a norm gets a warning: Python's job
                        lo, hi, flag = V.rom_bounds(j, m)
                        rows.append((j, m, lo, hi, flag))
            self.con.execute(
                "CREATE OR REPLACE TEMP TABLE rom_limits (joint VARCHAR, movement VARCHAR, lo DOUBLE, hi DOUBLE, flag DOUBLE)"
            )
            if rows:
                self.con.executemany("INSERT INTO rom_limits VALUES (?, ?, ?, ?, ?)", rows)
            self.joins.append(
                f"LEFT JOIN temp.rom_limits b ON b.joint = {_q('m:joint')} AND b.movement = {_q('m:movement')}"
            )
            deg = _q("t:degrees")
            checks.append(f"(b.lo IS NOT NULL AND {deg} BETWEEN b.lo AND b.hi AND (b.flag IS NULL OR {deg} <= b.flag))")
        if self.kind == "outcome_measures" and "instrument" in self.present:
            self.con.execute(
                "CREATE OR REPLACE TEMP TABLE q_items (instrument VARCHAR, n INTEGER, lo DOUBLE, hi DOUBLE)"
            )
            self.con.executemany(
                "INSERT INTO q_items VALUES (?, ?, ?, ?)",
                [(k, n, lo, hi) for k, (n, lo, hi) in QUESTIONNAIRE_ITEMS.items()],
            )
            self.joins.append(f"LEFT JOIN temp.q_items q ON q.instrument = {_q('m:instrument')}")
            answered = []
            for i in range(1, 21):
                item = f"item_{i}"
                if item not in self.present:
                    continue
                v = _q("t:" + item)
                answered.append(f"CAST({v} IS NOT NULL AS INTEGER)")
                checks.append(f"({v} IS NULL OR ({i} <= q.n AND {v} BETWEEN q.lo AND q.hi AND {v} = floor({v})))")
            checks.append("q.n IS NOT NULL")
            total = _q("t:total_score") if "total_score" in self.present else "NULL"
            checks.append(f"({' + '.join(answered) or '0'} > 0 OR {total} IS NOT NULL)")
        return checks

    # -- the statements ---------------------------------------------------------------
    def columns(self) -> list[str]:
        """The validator's output columns, in its order."""
        cols = [n for n in self.specs if n in self.present]
        return cols + [n for n, spec in self.specs.items() if n not in self.present and spec.default is not None]

    def build(self, types: dict[str, str] | None = None) -> None:
        """Create ``temp.incoming``: every non-blank row with its line, typed values (cast to
        ``types``, the core table's, when given) and ``_clean``.  The loader deletes the rows
        that are not clean once the validator has judged them (their replacements have
        ``_clean`` NULL)."""
        self.joins, self.join_cols, self.maps = [], [], []
        names = [n for n in self.specs if n in self.present]
        typed, oks = {}, []
        for name in names:
            t, ok = self.field_sql(name, self.specs[name])
            typed[name] = t
            oks.append(ok)
            # Surrounding whitespace is the validator's business (it strips; we compare as is).
            r = _q("r:" + name)
            oks.append(f"NOT regexp_matches({r}, {_lit(EDGE_SPACE)})")
        checks = self.kind_checks()
        out = [f"{_q('t:' + c)}" if c in typed else _lit(self.specs[c].default) for c in self.columns()]
        if types:
            out = [f"CAST({e} AS {types.get(c, 'VARCHAR')})" for e, c in zip(out, self.columns())]
        out = [f"{e} AS {_q(c)}" for e, c in zip(out, self.columns())]
        blank = self.blank_row()
        cells = ", ".join(f"{self.cell(n)} AS {_q('r:' + n)}" for n in names)
        maps = f"CROSS JOIN (SELECT {', '.join(self.maps)}) maps" if self.maps else ""
        # Vocabulary lookups, then the typed values, then the checks: each computed once per row.
        self.con.execute(f"""
            CREATE OR REPLACE TEMP TABLE incoming AS
            SELECT CAST(_line AS BIGINT) AS _line, {", ".join(out)}, ({" AND ".join(oks + checks) or "true"}) AS _clean
            FROM (
                SELECT *{"".join(f", {t} AS {_q('t:' + n)}" for n, t in typed.items())}
                FROM (
                    SELECT s.*{"".join(", " + c for c in self.join_cols)}
                    FROM (SELECT s.rowid AS _rid, s.rowid - {self.base} + 2 AS _line, {cells}
                          FROM temp.src s WHERE NOT {blank}) s
                    {maps}))
            {" ".join(self.joins)}""")

    def blank_row(self) -> str:
        """SQL: the row's cells are all blank (the Python reader skips it, uncounted).  The
        whole-row regex is costly, so it only runs when the first cell does not start with text."""
        everything = " || ".join(f"coalesce(s.{_q(n)}, '')" for n in self.src_names)
        first = f"coalesce(s.{_q(self.src_names[0])}, '')"
        return (
            f"(CASE WHEN regexp_matches({first}, {_lit(STARTS_WITH_TEXT)}) THEN false"
            f" ELSE regexp_full_match({everything}, {_lit(ALL_SPACE)}) END)"
        )

    def raw_view(self) -> None:
        """``temp.file_raw`` (line, cells): every row read, its cells' text in header order (the
        headers are stored once per file in ``raw.files``), straight from ``temp.src`` (a join
        back from the checked rows would cost a hash table the size of the file)."""
        cells = ", ".join(f"coalesce(s.{_q(n)}, '')" for n in self.src_names)
        self.con.execute(f"""
            CREATE TEMP VIEW file_raw AS
            SELECT s.rowid - {self.base} + 2 AS line, [{cells}] AS cells
            FROM temp.src s WHERE NOT {self.blank_row()}""")

    def doubtful_chunks(self):
        """The rows that are not certainly clean, as the text chunks the validator takes.

        Their cells are copied once, in line order, so each chunk is a range scan (a file whose
        every row is doubtful, say all dates 14/03/2026, must not re-join the file per chunk)."""
        if not self._doubtful_ready:
            cols = [c for c in self.specs if c in self.present]
            select = ", ".join(f"{self.cell(c)} AS {_q(c)}" for c in cols)
            self.con.execute(f"""
                CREATE OR REPLACE TEMP TABLE doubtful AS
                SELECT c._line, {select}, '' AS _shape
                FROM (SELECT _line FROM temp.incoming WHERE NOT _clean) c
                JOIN temp.src s ON s.rowid = c._line - 2 + {self.base}
                ORDER BY c._line""")
            self._doubtful_ready = True
        last = 0
        while True:
            frame = self.con.execute(
                "SELECT * FROM temp.doubtful WHERE _line > ? ORDER BY _line LIMIT ?", [last, CHUNK_ROWS]
            ).df()
            if frame.empty:
                return
            frame["_line"] = frame["_line"].astype("int64")
            last = int(frame["_line"].iloc[-1])
            yield frame

    def date_evidence(self) -> dict[str, int]:
        """Day/month evidence of the doubtful rows (ISO dates, the clean ones, settle nothing)."""
        evidence = {"day_first": 0, "month_first": 0, "ambiguous": 0}
        dates = [c for c, spec in self.specs.items() if c in self.present and spec.kind in ("date", "timestamp")]
        if not dates:
            return evidence
        for chunk in self.doubtful_chunks():
            for c in dates:
                ev = date_order_evidence(chunk[c].fillna("").astype(str).str.strip())
                evidence = {k: evidence[k] + ev[k] for k in evidence}
        return evidence
