"""Hypothesis strategies for hostile import files (issue 8, part 3), used by test_hostile_input.py.

A strategy draws a :class:`HostileFile`: the bytes to write, the number of data rows it holds
(what the import must account for), and whether the file is expected to be unreadable as a
whole (then the import must answer with a one-line ``FileProblem`` and write nothing).

Rows are written by our own small CSV writer so the expected row count is exact: quoted fields
may hold delimiters, doubled quotes and line breaks, and still make one row.  Features that
break the file on purpose (a row in another delimiter, a stray quote inside an unquoted cell,
blank lines) are placed so the row count stays known.  Features that currently crash or lose
rows (the ``xfail`` tests at the end of test_hostile_input.py: cells over 128 KiB, a quote
that never closes, CR-only line ends, non-Latin header names) are generated only by those reproducers, so the
property test keeps guarding everything else.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from hypothesis import strategies as st

from pipelines.ingest.contract import KINDS

# The practice every hostile file is imported into: two clients, two visits.
BASE_CLIENTS = "client_id,display_name\nC1,Ann B\nC2,Bob K\n"
BASE_VISITS = "visit_id,client_id,visit_date,pain_pre,pain_post\nV1,C1,2026-01-05,7,4\nV2,C2,2026-01-06,6,3\n"

FORMULAS = [
    "=1+1",
    "+1+1",
    "-1+1",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    '=HYPERLINK("http://evil.example","x")',
    "=cmd|' /C calc'!A0",
    "-2",
    "+33 6 12 34 56 78",
    " =1+1",
    "\uff1d1+1",
]
SQL = [
    "'; DROP TABLE core.clients; --",
    '"; DROP TABLE core.visits; --',
    "Robert'); DROP TABLE students;--",
    "1 OR 1=1",
    "SELECT * FROM core.clients",
    "' UNION SELECT display_name FROM core.clients --",
    "$$; COPY core.clients TO '/tmp/x'; $$",
    "\\'; --",
    "NULL",
    "null",
    "DEFAULT",
]
UNICODE = [
    "\u202eevil\u202c",
    "O\u2019Brien",
    "Zo\u00eb",
    "e\u0301\u0301\u0301",
    "\u200bC1",
    "C1\u200d",
    "\U0001f600\U0001f9b5",
    "\u05e9\u05dc\u05d5\u05dd",
    "\u0645\u0631\u062d\u0628\u0627",
    "\u540d\u524d",
    "\ufeffC1",
    "A\u00a0B",
    "\u2028x",
    "\U0001d573\U0001d586\U0001d593",
]
NUMBERS = [
    "1e308",
    "-1e308",
    "1e400",
    "-0",
    "-0.0",
    "NaN",
    "nan",
    "inf",
    "-Infinity",
    "99999999999999999999",
    "123456789",
    "0x1F",
    "1_000",
    "7,5",
    "3.",
    ".5",
    "1e-320",
    "2026-13-45",
    "99999-01-01",
    "0000-00-00",
    "31/02/2026",
    "1/1/1",
    "2147483648",
    "-9223372036854775809",
    "½",
    "\u0667",
]
QUOTES = [
    'He said "stop"',
    "O'Brien",
    '"',
    '""',
    "'",
    "a,b",
    "a;b",
    "a\tb",
    "line1\nline2",
    "a\r\nb",
    '"quoted, with comma"',
    "trailing\\",
]

VALID = {
    "client_id": ["C1", "C2", "C3", "C4"],
    "display_name": ["New Client", "Ann B"],
    "visit_id": ["V1", "V2", "V3"],
    "visit_date": ["2026-01-05", "2026-01-06", "07/01/2026"],
    "reported_at": ["2026-02-01 08:30", "2026-02-02"],
    "taken_on": ["2026-02-01"],
    "instrument": ["NDI", "PSFS"],
    "pain": ["3", "4.5"],
    "pain_pre": ["7"],
    "pain_post": ["4"],
    "pressure": ["3"],
    "degrees": ["45", "60"],
    "joint": ["neck", "shoulder"],
    "movement": ["rotation", "flexion"],
    "muscle": ["upper trap", "levator scapulae"],
    "side": ["left", "right"],
    "timing": ["pre", "post"],
    "tenderness": ["6"],
    "birth_year": ["1980"],
    "techniques": ["TrP; MFR"],
    "region": ["neck"],
    "pgic": ["2"],
    "total_score": ["12"],
    "item_1": ["2"],
}

# Columns that take any text: hostile text there must load untouched.
FREE_TEXT = {
    "display_name",
    "primary_complaint",
    "notes",
    "note",
    "therapist",
    "client_feedback",
    "homecare",
    "measured_by",
}

HOSTILE_GROUPS = {"formula": FORMULAS, "sql": SQL, "unicode": UNICODE, "number": NUMBERS, "quote": QUOTES}


@dataclass
class HostileFile:
    kind: str
    name: str
    data: bytes
    n_rows: int  # non-blank data rows written: rows_read must equal this
    unreadable: str | None  # why the whole file must be refused, or None
    features: set[str] = field(default_factory=set)
    cells: list[str] = field(default_factory=list)  # every hostile cell value written

    def describe(self) -> str:
        return f"{self.name}: {self.n_rows} rows, {sorted(self.features)}, unreadable={self.unreadable}"


def quote_cell(value: str, delimiter: str) -> str:
    """RFC 4180 quoting, only when needed (as a spreadsheet writes it)."""
    if any(ch in value for ch in (delimiter, '"', "\n", "\r")) or value[:1].isspace() or value[-1:].isspace():
        return '"' + value.replace('"', '""') + '"'
    return value


@st.composite
def cell_value(draw, column: str) -> tuple[str, str | None]:
    """(text, hostile group or None) for one cell of ``column``."""
    choice = draw(st.sampled_from(["valid"] * 4 + ["empty", "hostile", "hostile", "hostile", "huge", "text"]))
    if choice == "valid" and column in VALID:
        return draw(st.sampled_from(VALID[column])), None
    if choice == "empty":
        return draw(st.sampled_from(["", " ", "  "])), None
    if choice == "huge":
        # Large but under 128 KiB: the Python csv reader's field limit is a known bug (see the test).
        size = draw(st.sampled_from([1_000, 20_000, 120_000]))
        return draw(st.sampled_from(["x", "=", "é", "'"])) * size, "huge"
    if choice == "text":
        return draw(st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20)), "random"
    group = draw(st.sampled_from(sorted(HOSTILE_GROUPS)))
    return draw(st.sampled_from(HOSTILE_GROUPS[group])), group


def header_for(kind: str, draw) -> tuple[list[str], str | None, set[str]]:
    spec = KINDS[kind]
    cols = list(spec.required)
    optional = draw(st.lists(st.sampled_from(spec.optional), unique=True, max_size=6)) if spec.optional else []
    cols += optional
    features: set[str] = set()
    unreadable = None
    problem = draw(st.sampled_from(["none"] * 10 + ["missing_required", "duplicate_header", "extra_columns"] * 2))
    if problem == "missing_required":
        drop = draw(st.sampled_from(spec.required))
        if not (kind == "visits" and drop == "visit_id"):  # derived from client_id + visit_date, so not missing
            cols.remove(drop)
            if kind in ("rom", "trigger_points") and drop == "visit_id":
                pass  # these may name the visit by client_id + visit_date, absent here: still missing
            unreadable = "missing required column"
            features.add("missing_required")
    elif problem == "duplicate_header":
        cols.append(draw(st.sampled_from(cols)))
        unreadable = "duplicate column"
        features.add("duplicate_header")
    elif problem == "extra_columns":
        # Extra columns with hostile names: kept in the raw layer, reported as ignored.
        extras = draw(
            st.lists(
                st.sampled_from(
                    ["extra =1+1", "DROP TABLE x", "notes2 \u202e", "\U0001f600 mood", "comment;--", 'x"y']
                ),
                unique=True,
                min_size=1,
                max_size=3,
            )
        )
        cols += extras
        features.add("extra_columns")
    # Header spelling as people write it (matched by name, case and punctuation ignored).
    spelled = [
        draw(st.sampled_from([c, c.upper(), c.replace("_", " ").title(), f" {c} "])) if c in spec.columns else c
        for c in cols
    ]
    return spelled, unreadable, features


@st.composite
def hostile_file(draw, kind: str | None = None) -> HostileFile:
    kind = kind or draw(st.sampled_from(list(KINDS)))
    headers, unreadable, features = header_for(kind, draw)
    delimiter = draw(st.sampled_from([",", ",", ";", "\t"]))
    if delimiter == "\t":
        features.add("tab_delimited")
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    xlsx = draw(st.sampled_from([False] * 5 + [True]))
    sheet: list[list[str]] = [headers]
    n = draw(st.integers(0, 8))
    lines = [delimiter.join(quote_cell(h, delimiter) for h in headers)]
    n_rows = 0
    cells: list[str] = []
    for _ in range(n):
        row, groups = [], set()
        clean_row = draw(st.booleans())
        for h in headers:
            column = h.strip().lower().replace(" ", "_")
            if clean_row and column not in FREE_TEXT:
                # A row meant to load: valid values, hostile text only where any text is allowed.
                value, group = draw(st.sampled_from(VALID.get(column, [""]))), None
            else:
                value, group = draw(cell_value(column))
            row.append(value)
            if group:
                groups.add(group)
                cells.append(value)
        features |= groups
        shape = draw(st.sampled_from(["ok"] * 8 + ["short", "long", "other_delimiter", "stray_quote", "blank_before"]))
        if xlsx:
            # The same rows in the first sheet of a workbook.  A cell written as "=..." is a
            # formula with no saved value, which the reader (data_only) sees as empty.
            row = [c.replace("\ufffe", "").replace("\uffff", "") for c in row]  # not XML; Excel never writes them
            if shape == "short" and len(row) > 1:
                row = row[:-1]
            if shape == "blank_before":
                sheet.append([])
                features.add("blank_lines")
            sheet.append(row)
            if "".join("" if c.startswith("=") else c for c in row).strip():
                n_rows += 1
            continue
        if shape == "short" and len(row) > 1:
            row = row[:-1]
            features.add("ragged")
        elif shape == "long":
            row = row + ["surplus"]
            features.add("ragged")
        if shape == "other_delimiter":
            # A row written with another delimiter, unquoted: it becomes one (ragged) row.
            other = ";" if delimiter != ";" else ","
            # Cells cut to 2,000 characters: joined into one field they must stay under the csv
            # module's 128 KiB limit (a known bug with its own reproducer, not what this row tests).
            flat = [
                c[:2000].replace('"', "").replace("\n", " ").replace("\r", " ").replace(delimiter, " ") for c in row
            ]
            text = other.join(flat)
            features.add("mixed_delimiters")
        elif shape == "stray_quote":
            # A quote inside an unquoted cell (never at its start: that is the unbalanced-quote bug).
            flat = [
                c[:2000].replace('"', "").replace("\n", " ").replace("\r", " ").replace(delimiter, " ") for c in row
            ]
            flat[0] = (flat[0] or "x") + '"stray'
            text = delimiter.join(flat)
            features.add("stray_quote")
        else:
            text = delimiter.join(quote_cell(c, delimiter) for c in row)
        if shape == "blank_before":
            lines.append(draw(st.sampled_from(["", " ", delimiter * (len(headers) - 1)])))
            features.add("blank_lines")
        lines.append(text)
        # The reader skips a row whose cells are all blank; it is not a data row.
        if "".join(c for c in (text.split(delimiter) if shape in ("other_delimiter", "stray_quote") else row)).strip():
            n_rows += 1
    if n == 0:
        features.add("header_only")
    if xlsx:
        from openpyxl import Workbook

        wb = Workbook()
        for r in sheet:
            wb.active.append(r)
        out = io.BytesIO()
        wb.save(out)
        features.add("xlsx")
        return HostileFile(kind, f"{kind}.xlsx", out.getvalue(), n_rows, unreadable, features, cells)
    body = newline.join(lines) + draw(st.sampled_from([newline, ""]))

    encoding = draw(
        st.sampled_from(["utf-8"] * 10 + ["utf-8-sig"] * 2 + ["utf-16", "latin-1", "cp1252", "invalid_bytes", "empty"])
    )
    features.add("enc:" + encoding)
    if encoding == "empty":
        data = draw(st.sampled_from([b"", b"\n", b"  \r\n\n"]))
        unreadable, n_rows = "empty file", 0
    elif encoding == "invalid_bytes":
        raw = body.encode("utf-8")
        cut = raw.index(b"\n") if b"\n" in raw else len(raw)  # inside the header: always read
        data = raw[:cut] + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\x80abc", b"\xed\xa0\x80"])) + raw[cut:]
        unreadable = unreadable or "not UTF-8"
    elif encoding in ("latin-1", "cp1252"):
        data = body.encode(encoding, errors="replace")
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            unreadable = unreadable or "not UTF-8"
    elif encoding == "utf-16":
        data = body.encode("utf-16")
        unreadable = unreadable or "not UTF-8 (UTF-16)"
    else:
        data = body.encode(encoding)
    return HostileFile(kind, f"{kind}.csv", data, n_rows, unreadable, features, cells)


# Text that must survive the trip into core and back out byte for byte: quotes, SQL, unicode,
# spreadsheet-looking text.  No leading/trailing spaces (the import trims cells, by design) and
# no control characters other than none at all (a NUL makes the file binary).
ROUND_TRIP_PIECES = (
    SQL
    + [p for p in UNICODE if p.strip() == p and "\ufeff" not in p and "\u2028" not in p]
    + [
        'He said "stop"',
        "O'Brien",
        "a,b;c",
        "=1+1",
        "@home",
        "-3 days",
        "<script>alert(1)</script>",
        "&amp;",
        "%s %d {0}",
        "?",
        "$1",
        "\\N",
        "\\",
        "'",
        '"',
        "--",
        "/* */",
        "`id`",
        "[x]",
    ]
)


@st.composite
def round_trip_text(draw) -> str:
    parts = draw(
        st.lists(
            st.one_of(
                st.sampled_from(ROUND_TRIP_PIECES),
                st.text(
                    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=8
                ),
            ),
            min_size=1,
            max_size=4,
        )
    )
    text = " ".join(parts).strip()
    return text or "x"
