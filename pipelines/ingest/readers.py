"""Read CSV and XLSX files into chunks of text cells, with exact line numbers.

Only *reading* happens here: no casting, no judging.  A file that cannot be
read at all (not CSV/XLSX, empty, not UTF-8, no header) raises
:class:`FileProblem` with one line that names the problem.

Line numbers are the file's own: the header is line 1, and a row's number is
the physical line on which it starts (for XLSX, the sheet row), so a therapist
can find it in the spreadsheet or a text editor.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipelines.ingest.contract import normalise_header

CHUNK_ROWS = 200_000
# The longest cell read, in characters: Python's own csv default (128 Ki).  That is some forty
# pages of text, far beyond any note, name or list a practice file holds (Excel itself stops at
# 32,767 characters a cell), and it bounds the memory one row can take.  Set explicitly, with its
# own message, because a larger limit let a 64 MB cell through and the csv module's error reads
# like broken quoting.
MAX_CELL_CHARS = 128 * 1024
csv.field_size_limit(MAX_CELL_CHARS)
# A workbook is a zip of XML: checked before it is opened, because a few hundred kilobytes can
# unpack to gigabytes (a "zip bomb": 167 KB holding 160 MB of XML took 2 GB to import).  A real
# 100,000-visit sheet unpacks to well under this, and sheet XML compresses about 10-30 to 1.
MAX_XLSX_UNPACKED = 100_000_000
MAX_XLSX_RATIO = 100  # unpacked / packed, for any part over 1 MiB
XLSX_RATIO_FROM = 1024 * 1024
MAX_XLSX_CELLS = 5_000_000  # rows x columns read from the first sheet
SAVE_AS_CSV = "save the sheet as 'CSV UTF-8' and import that instead"
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
XLSX_SUFFIXES = {".xlsx", ".xlsm"}


class FileProblem(Exception):
    """The file cannot be imported at all; the message is one line for the user."""


@dataclass
class TableFile:
    path: Path
    headers: list[str]  # as written in the file
    columns: list[str]  # normalised, same order
    file_hash: str
    delimiter: str | None = None
    notes: list[str] = field(default_factory=list)
    # Physical lines as Python's csv module counts them (header included); None when unknown or
    # unclear (a lone carriage return).  Lets DuckDB read the file when it has one line per row.
    physical_lines: int | None = None

    def chunks(self, rename: dict[str, str] | None = None) -> Iterator[pd.DataFrame]:
        """DataFrames of text (``""`` for empty cells) with a ``_line`` column.

        ``rename`` maps normalised file columns to contract names (a saved mapping).
        """
        names = [rename.get(c, c) if rename else c for c in self.columns]
        if self.path.suffix.lower() in XLSX_SUFFIXES:
            source = _read_xlsx_rows(self.path)
        else:
            source = self._read_csv_rows()
        lines: list[int] = []
        rows: list[list[str]] = []
        for line, row in source:
            lines.append(line)
            rows.append(row)
            if len(rows) >= CHUNK_ROWS:
                yield _frame(names, lines, rows)
                lines, rows = [], []
        if rows or not lines:
            yield _frame(names, lines, rows)

    def _read_csv_rows(self) -> Iterator[tuple[int, list[str]]]:
        width = len(self.headers)
        with open(self.path, newline="", encoding="utf-8-sig") as fh:
            # strict: a quote that never closes would otherwise swallow every later row into one
            # cell without a word; the file is refused instead, naming the line where it opens.
            reader = csv.reader(fh, delimiter=self.delimiter or ",", strict=True)
            next(_rows_or_problem(reader, self.path, lambda: 1))  # the header
            start = reader.line_num + 1
            for row in _rows_or_problem(reader, self.path, lambda: start):  # noqa: B023 (read as the rows go)
                if row and "".join(row).strip():
                    # A ragged row is kept as-is: the validator rejects it with its width.
                    if len(row) < width:
                        row = row + [""] * (width - len(row))
                        row.append("\x00short")
                    elif len(row) > width:
                        extra = len(row) - width
                        row = row[:width] + [f"\x00long{extra}"]
                    else:
                        row.append("")
                    yield start, row
                start = reader.line_num + 1


def _rows_or_problem(reader, path: Path, line_of_row) -> Iterator[list[str]]:
    """The reader's rows; broken quoting becomes a one-line FileProblem naming the row's line."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise FileProblem(
                    f"{path.name}: line {line_of_row()}: a cell is longer than {MAX_CELL_CHARS:,} "
                    "characters; no note or name is that long, so the file is probably damaged "
                    "(or a quote is missing)"
                ) from exc
            raise FileProblem(
                f"{path.name}: line {line_of_row()}: the quoting is broken ({exc}); a cell that "
                "starts with a double quote must end with one"
            ) from exc


def _frame(names: list[str], lines: list[int], rows: list[list[str]]) -> pd.DataFrame:
    cols = names + ["_shape"]
    if not rows:
        frame = pd.DataFrame({c: pd.Series([], dtype=object) for c in cols})
    else:
        frame = pd.DataFrame(rows, columns=cols, dtype=object)
    frame.insert(0, "_line", pd.Series(lines, dtype="int64"))
    return frame


def _xlsx_cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_xlsx_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    check_xlsx_size(path)
    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = next(rows)
        names = _trim_header(header)
        width = len(names)
        for number, row in enumerate(rows, start=2):
            if (number - 1) * max(width, 1) > MAX_XLSX_CELLS:
                raise FileProblem(
                    f"{path.name}: the sheet has more than {MAX_XLSX_CELLS:,} cells (row {number}); {SAVE_AS_CSV}"
                )
            cells = [_xlsx_cell_text(v) for v in row[:width]]
            for col, text in enumerate(cells):
                if len(text) > MAX_CELL_CHARS:
                    raise FileProblem(
                        f"{path.name}: row {number}, column {names[col]!r}: the cell is longer than "
                        f"{MAX_CELL_CHARS:,} characters; no note or name is that long"
                    )
            cells += [""] * (width - len(cells))
            if any(c.strip() for c in cells):
                yield number, cells + [""]
    finally:
        wb.close()


def _trim_header(header: tuple) -> list[str]:
    cells = ["" if h is None else str(h) for h in header]
    while cells and not cells[-1].strip():
        cells.pop()
    return cells


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _scan_text_file(path: Path) -> tuple[str, int | None]:
    """One pass over the bytes: the hash, the physical line count, and a check that the whole
    file is UTF-8 (raises FileProblem), without holding it in memory."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    lf = cr = crlf = offset = 0
    prev_cr = False
    last = b""
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 23), b""):
            digest.update(block)
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                raise FileProblem(
                    f"{path.name}: not UTF-8 text (byte {offset + exc.start} cannot be decoded); save it as 'CSV UTF-8'"
                ) from exc
            lf += block.count(b"\n")
            cr += block.count(b"\r")
            crlf += block.count(b"\r\n") + (1 if prev_cr and block[:1] == b"\n" else 0)
            prev_cr = block[-1:] == b"\r"
            last = block[-1:]
            offset += len(block)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise FileProblem(
            f"{path.name}: not UTF-8 text (the last bytes cannot be decoded); save it as 'CSV UTF-8'"
        ) from exc
    # csv counts "\n", "\r\n" and a lone "\r" as line ends; the lone one is too rare to count here.
    lines = None if cr != crlf else lf + (0 if last == b"\n" else 1)
    return digest.hexdigest(), lines


def _sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def open_table(path: str | Path, scan: bool = True) -> TableFile:
    """Open a CSV or XLSX file and read its header; raise FileProblem if it cannot be imported.

    ``scan=False`` reads the header only (no hash, no whole-file checks): enough to tell the kind."""
    path = Path(path)
    if not path.exists():
        raise FileProblem(f"{path}: no such file")
    if path.is_dir():
        raise FileProblem(f"{path}: is a folder, not a CSV or XLSX file")
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        raise FileProblem(f"{path.name}: the file is empty")
    if suffix in XLSX_SUFFIXES:
        return _open_xlsx(path)
    if suffix not in CSV_SUFFIXES:
        raise FileProblem(f"{path.name}: not a CSV or XLSX file (found '{suffix or 'no extension'}')")
    with open(path, "rb") as fh:
        head = fh.read(64 * 1024)
    if b"\x00" in head or head.startswith(b"PK\x03\x04"):
        raise FileProblem(
            f"{path.name}: not a text CSV file (it looks binary; is it a spreadsheet saved with the wrong extension?)"
        )
    file_hash, lines = _scan_text_file(path) if scan else ("", None)
    # The head holds the header line; a multi-byte character cut at its end is not an error.
    text = head.decode("utf-8-sig", errors="ignore")
    # newline="": a file with old-Mac line ends (a lone CR) splits into lines like the csv module does
    first_line = next((ln for ln in io.StringIO(text, newline="") if ln.strip()), "")
    if not first_line.strip():
        raise FileProblem(f"{path.name}: the file is empty")
    delimiter = "\t" if suffix == ".tsv" else _sniff_delimiter(first_line)
    header = next(csv.reader(io.StringIO(first_line), delimiter=delimiter))
    header = _trim_header(tuple(header))
    table = TableFile(path, header, _column_names(header), file_hash, delimiter, physical_lines=lines)
    _check_header(table)
    return table


def check_xlsx_size(path: Path) -> None:
    """Refuse a workbook that unpacks too large or too far (a zip bomb) from its zip directory alone,
    before any of it is unpacked."""
    try:
        with zipfile.ZipFile(path) as zf:
            parts = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileProblem(f"{path.name}: cannot be opened as an XLSX workbook (not a zip file)") from exc
    unpacked = sum(p.file_size for p in parts)
    packed = max(sum(p.compress_size for p in parts), 1)
    if unpacked > MAX_XLSX_UNPACKED:
        raise FileProblem(
            f"{path.name}: the workbook unpacks to {unpacked / 1e6:,.0f} MB (from {packed / 1e3:,.0f} KB); "
            f"Knotwork reads workbooks up to {MAX_XLSX_UNPACKED / 1e6:,.0f} MB unpacked: {SAVE_AS_CSV}"
        )
    for p in parts:
        if p.file_size > XLSX_RATIO_FROM and p.file_size > MAX_XLSX_RATIO * max(p.compress_size, 1):
            raise FileProblem(
                f"{path.name}: part {p.filename!r} unpacks {p.file_size / max(p.compress_size, 1):,.0f} "
                f"times larger than it is packed ({p.file_size / 1e6:,.0f} MB); a real spreadsheet "
                f"does not, so the file is refused: {SAVE_AS_CSV}"
            )


def _open_xlsx(path: Path) -> TableFile:
    from openpyxl import load_workbook

    check_xlsx_size(path)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise FileProblem(f"{path.name}: cannot be opened as an XLSX workbook ({type(exc).__name__})") from exc
    try:
        if not wb.worksheets:
            raise FileProblem(f"{path.name}: the workbook has no sheets")
        ws = wb.worksheets[0]
        header = next(ws.iter_rows(values_only=True, max_row=1), None)
    finally:
        wb.close()
    if header is None:
        raise FileProblem(f"{path.name}: the first sheet is empty")
    headers = _trim_header(header)
    table = TableFile(path, headers, _column_names(headers), file_sha256(path))
    if len(wb.sheetnames) > 1:
        table.notes.append(f"only the first sheet ('{wb.sheetnames[0]}') was read")
    _check_header(table)
    return table


def _column_names(headers: list[str]) -> list[str]:
    """Normalised names; a header with no Latin letters or digits (名前) normalises to nothing and
    would clash with the next such one, so it is named by position and kept as an ignored column."""
    return [normalise_header(h) or f"column_{i}" for i, h in enumerate(headers, start=1)]


def _check_header(table: TableFile) -> None:
    if not table.headers:
        raise FileProblem(f"{table.path.name}: no header row")
    blank = [i + 1 for i, h in enumerate(table.headers) if not h.strip()]
    if blank:
        raise FileProblem(f"{table.path.name}: column {blank[0]} of the header row has no name")
    seen: dict[str, str] = {}
    for original, norm in zip(table.headers, table.columns):
        if norm in seen:
            raise FileProblem(f"{table.path.name}: columns '{seen[norm]}' and '{original}' both mean '{norm}'")
        seen[norm] = original
