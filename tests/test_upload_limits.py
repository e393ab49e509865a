"""Uploads cannot exhaust the machine: a zip-bomb workbook is refused from its zip directory, before
anything is unpacked; cells and sheets have caps, each with a one-line message naming the file and
the row (and the column for a workbook)."""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile

import pytest
from openpyxl import Workbook

from pipelines.ingest import readers
from pipelines.ingest.importer import ingest_file
from pipelines.ingest.readers import MAX_CELL_CHARS, MAX_XLSX_CELLS, FileProblem, open_table


def bomb_xlsx(path, mb: int = 160) -> None:
    """A valid workbook whose sheet XML holds ``mb`` MB of one repeated row (packs to ~1/1000)."""
    wb = Workbook()
    ws = wb.active
    ws.append(["client_id", "display_name"])
    ws.append(["C1", "Ann"])
    buf = io.BytesIO()
    wb.save(buf)
    row = b'<row><c t="inlineStr"><is><t>C9</t></is></c><c t="inlineStr"><is><t>Zed</t></is></c></row>'
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                head, tail = data.split(b"</sheetData>")
                with out.open(item.filename, "w", force_zip64=True) as f:
                    f.write(head)
                    chunk = row * 10_000
                    for _ in range(mb * 1_000_000 // len(chunk)):
                        f.write(chunk)
                    f.write(b"</sheetData>" + tail)
            else:
                out.writestr(item, data)


def test_a_zip_bomb_workbook_is_refused_quickly_without_unpacking(tmp_path):
    path = tmp_path / "clients.xlsx"
    bomb_xlsx(path)
    assert path.stat().st_size < 1_000_000
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(FileProblem, match=r"clients.xlsx: the workbook unpacks to 1[56]\d MB .*CSV UTF-8"):
        ingest_file(path, db=tmp_path / "k.duckdb")
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 2.0 and peak < 20_000_000  # it was 780 MB to read and > 2 GB to import


def test_a_smaller_bomb_is_refused_by_its_packing_ratio(tmp_path):
    path = tmp_path / "clients.xlsx"
    bomb_xlsx(path, mb=20)  # under the size cap, but nothing real packs 1000 to 1
    with pytest.raises(FileProblem, match=r"unpacks \d[\d,]* times larger than it is packed"):
        open_table(path)


def test_a_long_xlsx_cell_names_row_and_column(tmp_path):
    # Excel (and openpyxl) stop at 32,767 characters a cell; a longer one is written by hand.
    wb = Workbook()
    ws = wb.active
    ws.append(["client_id", "display_name", "notes"])
    ws.append(["C1", "Ann", "fine"])
    ws.append(["C2", "Bo", "PLACEHOLDER"])
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(tmp_path / "clients.xlsx", "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            out.writestr(item, src.read(item.filename).replace(b"PLACEHOLDER", b"x" * (MAX_CELL_CHARS + 1)))
    with pytest.raises(FileProblem, match=r"clients.xlsx: row 3, column 'notes': the cell is longer than 131,072"):
        ingest_file(tmp_path / "clients.xlsx", db=tmp_path / "k.duckdb")


def test_a_sheet_over_the_cell_cap_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_XLSX_CELLS", 10)  # the real cap (5 million) would take minutes to build
    wb = Workbook()
    ws = wb.active
    ws.append(["client_id", "display_name"])
    for i in range(8):
        ws.append([f"C{i}", "Ann"])
    wb.save(tmp_path / "clients.xlsx")
    with pytest.raises(FileProblem, match=r"more than 10 cells \(row 7\)"):
        ingest_file(tmp_path / "clients.xlsx", db=tmp_path / "k.duckdb")
    assert MAX_XLSX_CELLS == 5_000_000


@pytest.mark.parametrize("size", [MAX_CELL_CHARS + 1, 64 * 1024 * 1024])
def test_a_csv_cell_over_the_limit_is_refused_naming_its_line(tmp_path, size):
    path = tmp_path / "clients.csv"
    path.write_bytes(b"client_id,display_name\nC1,Ann\nC2," + b"x" * size + b"\nC3,Cy\n")
    with pytest.raises(FileProblem, match=r"clients.csv: line 3: a cell is longer than 131,072 characters"):
        ingest_file(path, db=tmp_path / "k.duckdb")


def test_a_long_but_allowed_csv_cell_still_loads(tmp_path):
    path = tmp_path / "clients.csv"
    path.write_text("client_id,display_name,notes\nC1,Ann," + "n" * 50_000 + "\n", encoding="utf-8")
    rep = ingest_file(path, db=tmp_path / "k.duckdb")
    assert rep.error is None and rep.inserted == 1
