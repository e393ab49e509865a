"""Data entry from the app's forms: visits, clients and questionnaires.

A form is held to **the import's rules**: every entry is turned into a one-row table of
text cells, exactly like a line of a CSV file, and run through
:func:`pipelines.ingest.validate.validate_chunk`, with the practice's vocabulary extensions.  The
referential checks the loader makes in SQL (known client, known visit) are made here too.
A problem comes back as a :class:`Problem` naming the form field it belongs to, so the page
can show it next to that field (``Pain before: 12 is outside 0–10``); nothing is stored
while there is one.

Writes follow the database pattern of ``pipelines/warehouse/db.py``: one short-lived
:func:`~pipelines.warehouse.db.write_connection`, one transaction holding the check, the change, its
:data:`meta.audit` row and the mart rebuild, then checkpoint and close.  The change is in
the marts the moment the call returns, and ``data_version`` has moved, so the dashboard's
caches refresh on the next rerun.

Visits entered here get their id the way the import derives one for a file without a
``visit_id`` column: ``client_id-YYYYMMDD`` (``C0001-20260314``), ``-2``, ``-3`` … for a
second and third visit that day.  An edited visit keeps its id.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from pipelines.clinical.questionnaires import (
    INSTRUMENTS,
    POINTS_MAX,
    TOTAL_SCALES,
    Score,
    score_questionnaire,
    total_as_percent,
)
from pipelines.ingest import vocab as V
from pipelines.ingest.contract import COLUMN_LABELS
from pipelines.ingest.practice_rules import practice_vocabularies  # the import's own lists
from pipelines.ingest.validate import FIELDS, validate_chunk
from pipelines.warehouse import audit
from pipelines.warehouse.db import read_connection, write_connection
from pipelines.warehouse.marts import rebuild_marts
from pipelines.warehouse.transaction import transaction

# Short names for the form fields, used in every message ("Pain before: 12 is outside 0–10"): the
# Import page's words, except the plan (the form's box is "Next time") and a row's own fields, which
# follow "ROM row 2, " in lower case.
LABELS = {
    **COLUMN_LABELS,
    "plan": "Next time",
    **{c: c for c in ("joint", "movement", "side", "instrument", "muscle", "tenderness", "released")},
    "degrees_pre": "degrees before",
    "degrees_post": "degrees after",
    "referral_region": "referral region",
}
GROUP_LABELS = {"rom": "ROM row", "trigger_points": "Trigger point row"}

VISIT_FIELDS = tuple(FIELDS["visits"])  # visit_id, client_id, visit_date, therapist, …
ROM_COLUMNS = ("joint", "movement", "side", "degrees_pre", "degrees_post", "instrument")
TP_COLUMNS = ("muscle", "side", "referral_region", "tenderness", "released")
CLIENT_FIELDS = tuple(FIELDS["clients"])


@dataclass
class Problem:
    """One thing wrong with a form: ``field`` is the form field (``pain_pre``), or ``rom`` /
    ``trigger_points`` with the editor ``row`` (0-based) and ``column``."""

    field: str
    message: str
    row: int | None = None
    column: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        return self.message


class EntryError(ValueError):
    """The form was refused; ``problems`` says why, field by field.  Nothing was stored."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


@dataclass
class Saved:
    action: str  # insert / update / delete
    key: str  # visit_id, client_id, or client_id|taken_on|instrument
    warnings: list[Problem] = field(default_factory=list)
    score: Score | None = None


# ---------------------------------------------------------------------------
# Form values -> text cells (what a CSV line would hold)
# ---------------------------------------------------------------------------


def _is_blank(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() == ""


def cell(value: Any) -> str:
    """A form value as the text a spreadsheet cell would hold."""
    if _is_blank(value):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.isoformat(sep=" ") if (value.hour or value.minute or value.second) else value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:g}"
    if isinstance(value, (list, tuple, set)):
        return "; ".join(cell(v) for v in value if not _is_blank(v))
    return str(value).strip()


def _one_row(values: dict[str, Any], line: int = 1) -> pd.DataFrame:
    frame = pd.DataFrame({k: pd.Series([cell(v)], dtype=object) for k, v in values.items()})
    frame.insert(0, "_line", pd.Series([line], dtype="int64"))
    frame["_shape"] = ""
    return frame


def _rows(rows: list[dict[str, Any]], columns: Iterable[str], lines: list[int]) -> pd.DataFrame:
    columns = list(columns)
    data = {c: pd.Series([cell(r.get(c)) for r in rows], dtype=object) for c in columns}
    frame = pd.DataFrame(data)
    frame.insert(0, "_line", pd.Series(lines, dtype="int64"))
    frame["_shape"] = ""
    return frame


def humanise(column: str | None, message: str, label: str | None = None) -> str:
    """``pain_pre 12 is outside 0–10`` -> ``Pain before: 12 is outside 0–10``."""
    if not column:
        return message
    label = label or LABELS.get(column, column)
    if message == f"{column} is empty":
        return f"{label} is required"
    for prefix in (f"{column}: ", f"{column} "):
        if message.startswith(prefix):
            return f"{label}: {message[len(prefix) :]}"
    return f"{label}: {message}"


# ---------------------------------------------------------------------------
# Shared checks
# ---------------------------------------------------------------------------


def _client_exists(con, client_id: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM core.clients WHERE client_id = ?", [client_id]).fetchone()[0])


_SUGGESTION = re.compile(r"(did you mean|closest known:) '?[a-z_]+'?")


def _result_problems(
    result, field_of=lambda line, column: (column, None, column)
) -> tuple[list[Problem], list[Problem]]:
    """Problems and warnings from a ChunkResult; ``field_of(line, column) -> (field, row, column)``."""
    problems, warnings, seen = [], [], set()
    for sink, frame, text in ((problems, result.rejects, "reason"), (warnings, result.warnings, "message")):
        for line, column, value, message in zip(frame["_line"], frame["column"], frame["value"], frame[text]):
            column = None if column is None or (isinstance(column, float) and math.isnan(column)) else str(column)
            fld, row, col = field_of(int(line), column)
            label = LABELS.get(col or "", col)
            if row is not None:
                label = f"{GROUP_LABELS.get(fld, fld)} {row + 1}, {label}"
            msg = _SUGGESTION.sub(lambda m: m.group(0).replace("_", " "), humanise(column, str(message), label))
            if (fld, row, msg) in seen:
                continue
            seen.add((fld, row, msg))
            sink.append(Problem(fld, msg, row, col, None if value is None else str(value)))
    return problems, warnings


# ---------------------------------------------------------------------------
# Visits
# ---------------------------------------------------------------------------


@dataclass
class VisitEntry:
    """What the Log a visit form holds.  Values may be numbers, dates, lists or text."""

    client_id: str | None = None
    visit_date: Any = None
    techniques: list[str] = field(default_factory=list)
    pressure: Any = None
    pain_pre: Any = None
    pain_post: Any = None
    pain_region: Any = None
    therapist: Any = None
    duration_min: Any = None
    focus_muscles: list[str] = field(default_factory=list)
    client_feedback: Any = None
    homecare: Any = None
    notes: Any = None
    plan: Any = None  # what to do next time
    # ROM editor rows: joint, movement, side, degrees_pre, degrees_post, instrument
    rom: list[dict[str, Any]] = field(default_factory=list)
    # Trigger-point editor rows: muscle, side, referral_region, tenderness, released
    trigger_points: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class CheckedVisit:
    problems: list[Problem]
    warnings: list[Problem]
    visit: dict[str, Any]
    rom: list[dict[str, Any]]
    trigger_points: list[dict[str, Any]]
    new_vocab: dict


def _nonblank_rows(rows: list[dict[str, Any]], columns: Iterable[str]) -> list[tuple[int, dict[str, Any]]]:
    return [(i, r) for i, r in enumerate(rows or []) if any(not _is_blank(r.get(c)) for c in columns)]


def _py(value: Any) -> Any:
    """A typed cell from validate_chunk as a plain Python value for a bound parameter."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return list(value)
    if _is_blank(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    return value


# The form's field for each open vocabulary of a visit.
_VOCAB_FIELD = {
    "technique": ("techniques", V.TECHNIQUES),
    "muscle": ("focus_muscles", V.MUSCLES),
    "region": ("pain_region", V.REGIONS),
}


def _likely_typos(new_terms: dict, vocabularies: dict) -> list[Problem]:
    """A file's unknown term is kept and flagged (it never costs a row); in the form the therapist
    is there to ask, so a term that looks like a typo of a known one is asked about instead of
    quietly becoming a new practice term."""
    out = []
    for (voc, _), (spelling, _lines) in new_terms.items():
        if voc not in _VOCAB_FIELD:
            continue
        field, vocabulary = _VOCAB_FIELD[voc]
        r = vocabularies.get(f"{voc}:{field}", vocabulary).resolve(spelling)
        if r.likely_typo:
            out.append(
                Problem(
                    field,
                    humanise(
                        field,
                        f"'{spelling}' is not a known {voc}; did you mean '{(r.suggestion or '').replace('_', ' ')}'?",
                    ),
                    value=spelling,
                )
            )
    return out


def check_visit(entry: VisitEntry, con: duckdb.DuckDBPyConnection, visit_id: str | None = None) -> CheckedVisit:
    """Validate a visit form with the import's rules; nothing is written."""
    vocabularies = practice_vocabularies(con)
    values = {name: getattr(entry, name, None) for name in VISIT_FIELDS if name != "visit_id"}
    values = {"visit_id": visit_id or "new", **values}
    result = validate_chunk("visits", _one_row(values), day_first=True, vocabularies=vocabularies, present=set(values))
    problems, warnings = _result_problems(result)
    problems += _likely_typos(result.new_terms, vocabularies)
    new_vocab = dict(result.new_vocab)
    visit = {k: _py(v) for k, v in result.clean.iloc[0].items()} if len(result.clean) else {}
    client_id = cell(entry.client_id)
    if client_id and not _client_exists(con, client_id):
        problems.append(
            Problem(
                "client_id",
                f"Client: {client_id} is not a known client; add them on the Clients page first",
                value=client_id,
            )
        )
    if visit_id is not None:
        row = con.execute("SELECT client_id FROM core.visits WHERE visit_id = ?", [visit_id]).fetchone()
        if row is None:
            problems.append(
                Problem("visit_id", f"Visit: {visit_id} no longer exists (deleted meanwhile?)", value=visit_id)
            )
        elif client_id and row[0] != client_id:
            problems.append(
                Problem(
                    "client_id", f"Client: visit {visit_id} belongs to {row[0]}; a visit cannot move to another client"
                )
            )

    # ROM: each editor row is up to two readings (before / after), like two lines of a ROM file.
    rom_rows = _nonblank_rows(entry.rom, ("joint", "movement", "degrees_pre", "degrees_post"))
    readings, lines, origin, unmeasured = [], [], {}, []
    for i, r in rom_rows:
        if _is_blank(r.get("degrees_pre")) and _is_blank(r.get("degrees_post")):
            # A movement listed but not measured today (the editor starts with last visit's list).
            what = " ".join(
                cell(r.get(c)).replace("_", " ")
                for c in ("joint", "movement", "side")
                if cell(r.get(c)) and cell(r.get(c)) != "none"
            )
            unmeasured.append(f"row {i + 1} ({what or 'no movement'})")
            continue
        for timing in ("pre", "post"):
            deg = r.get(f"degrees_{timing}")
            if _is_blank(deg):
                continue
            line = 2 + len(lines)
            lines.append(line)
            origin[line] = (i, timing)
            readings.append(
                {
                    "visit_id": visit_id or "new",
                    "joint": r.get("joint"),
                    "movement": r.get("movement"),
                    "side": r.get("side"),
                    "timing": timing,
                    "degrees": deg,
                    "instrument": r.get("instrument"),
                }
            )
    if unmeasured and readings:
        warnings.append(
            Problem("rom", "ROM rows without degrees were not saved: " + ", ".join(unmeasured), None, "degrees_pre")
        )
    rom_clean: list[dict[str, Any]] = []
    if readings:
        rom_cols = ("visit_id", "joint", "movement", "side", "timing", "degrees", "instrument")
        res = validate_chunk("rom", _rows(readings, rom_cols, lines), vocabularies=vocabularies, present=set(rom_cols))

        def rom_field(line, column):
            row, timing = origin[line]
            return "rom", row, (f"degrees_{timing}" if column == "degrees" else column)

        p, w = _result_problems(res, rom_field)
        problems += p
        warnings += w
        new_vocab.update(res.new_vocab)
        for rec in res.clean.to_dict("records"):
            rec = {k: _py(v) for k, v in rec.items()}
            rec["_row"] = origin[rec.pop("_line")][0]
            rom_clean.append(rec)
        seen: dict[tuple, int] = {}
        for rec in rom_clean:
            key = (rec["joint"], rec["movement"], rec["side"], rec["timing"])
            if key in seen and seen[key] != rec["_row"]:
                problems.append(
                    Problem(
                        "rom",
                        f"ROM row {rec['_row'] + 1}: {rec['joint']} {rec['movement'].replace('_', ' ')} "
                        f"({rec['side']}) is already measured in row {seen[key] + 1}",
                        rec["_row"],
                        "movement",
                    )
                )
            seen.setdefault(key, rec["_row"])

    tp_rows = _nonblank_rows(entry.trigger_points, TP_COLUMNS)
    tp_clean: list[dict[str, Any]] = []
    if tp_rows:
        tp_cols = ("visit_id", *TP_COLUMNS)
        lines = [2 + n for n in range(len(tp_rows))]
        origin_tp = {line: i for line, (i, _) in zip(lines, tp_rows)}
        recs = [{"visit_id": visit_id or "new", **r} for _, r in tp_rows]
        res = validate_chunk(
            "trigger_points", _rows(recs, tp_cols, lines), vocabularies=vocabularies, present=set(tp_cols)
        )
        p, w = _result_problems(res, lambda line, column: ("trigger_points", origin_tp[line], column))
        problems += p
        warnings += w
        new_vocab.update(res.new_vocab)
        seen_tp: dict[tuple, int] = {}
        for rec in res.clean.to_dict("records"):
            rec = {k: _py(v) for k, v in rec.items()}
            rec["_row"] = origin_tp[rec.pop("_line")]
            key = (rec["muscle"], rec["side"])
            if key in seen_tp:
                problems.append(
                    Problem(
                        "trigger_points",
                        f"Trigger point row {rec['_row'] + 1}: {rec['muscle']} "
                        f"({rec['side']}) is already in row {seen_tp[key] + 1}",
                        rec["_row"],
                        "muscle",
                    )
                )
            seen_tp.setdefault(key, rec["_row"])
            tp_clean.append(rec)
    return CheckedVisit(problems, warnings, visit, rom_clean, tp_clean, new_vocab)


def derive_visit_id(con, client_id: str, visit_date: dt.date) -> str:
    """``C0001-20260314``, or ``-2``, ``-3`` … when that id is taken (as the import derives them)."""
    base = f"{client_id}-{visit_date:%Y%m%d}"
    taken = {
        r[0]
        for r in con.execute(
            "SELECT visit_id FROM core.visits WHERE visit_id = ? OR visit_id LIKE ? ESCAPE '\\'",
            [base, _like_escape(base) + "-%"],
        ).fetchall()
    }
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _like_escape(text: str) -> str:
    return re.sub(r"([\\%_])", r"\\\1", text)


def _audit(con, action: str, kind: str, key: str, before: Any, after: Any, actor: str | None = None) -> None:
    """The change's row in the practice audit log, in the caller's transaction.  ``actor``
    defaults to "therapist (dashboard)" inside the app (pipelines.warehouse.audit.default_actor)."""
    snap = after or before or {}
    client_id = snap.get("client_id") if isinstance(snap, dict) else None
    audit.record(con, action, kind, key, before=before, after=after, actor=actor, client_id=client_id)


def _record_vocab(con, new_vocab: dict) -> None:
    for (voc, value), closest in new_vocab.items():
        con.execute(
            "INSERT INTO core.vocabulary_extensions SELECT ?, ?, ?, NULL WHERE NOT EXISTS "
            "(SELECT 1 FROM core.vocabulary_extensions WHERE vocabulary = ? AND value = ?)",
            [voc, value, closest, voc, value],
        )


def _records(con, sql: str, params: list) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


_VISIT_COLS = (*VISIT_FIELDS, "visit_id_derived")  # the contract's visit columns, and how the id was made


def visit_snapshot(con, visit_id: str) -> dict[str, Any] | None:
    """The visit with its ROM readings and trigger points (what the audit keeps), or None."""
    rows = _records(con, f"SELECT {', '.join(_VISIT_COLS)} FROM core.visits WHERE visit_id = ?", [visit_id])
    if not rows:
        return None
    visit = rows[0]
    visit["rom"] = _records(
        con,
        "SELECT joint, movement, side, timing, degrees, instrument, measured_by FROM core.rom "
        "WHERE visit_id = ? ORDER BY joint, movement, side, timing",
        [visit_id],
    )
    visit["trigger_points"] = _records(
        con,
        "SELECT muscle, side, referral_region, tenderness, released FROM core.trigger_points "
        "WHERE visit_id = ? ORDER BY muscle, side",
        [visit_id],
    )
    return visit


def save_visit(entry: VisitEntry, db=None, visit_id: str | None = None, actor: str | None = None) -> Saved:
    """Add a visit (``visit_id=None``) or replace an existing one, with its ROM and trigger points.

    One transaction: check (raises :class:`EntryError`, nothing stored), write core, audit,
    rebuild the marts.  Returns the visit id and any warnings (a new technique accepted,
    a ROM value beyond the norm).
    """
    with write_connection(db) as con:
        with transaction(con):
            checked = check_visit(entry, con, visit_id)
            if checked.problems:
                raise EntryError(checked.problems)
            visit = checked.visit
            before = None
            if visit_id is None:
                vid = derive_visit_id(
                    con,
                    visit["client_id"],
                    visit["visit_date"].date() if isinstance(visit["visit_date"], dt.datetime) else visit["visit_date"],
                )
                derived = True
            else:
                vid = visit_id
                before = visit_snapshot(con, vid)
                derived = bool(before["visit_id_derived"])
                for table in ("rom", "trigger_points", "visits"):
                    con.execute(f"DELETE FROM core.{table} WHERE visit_id = ?", [vid])
            row = {c: visit.get(c) for c in _VISIT_COLS if c not in ("visit_id", "visit_id_derived")}
            row["visit_date"] = _as_date(row["visit_date"])
            for c in ("duration_min", "pressure"):
                row[c] = None if row[c] is None else int(row[c])
            cols = ["visit_id", *row, "visit_id_derived"]
            con.execute(
                f"INSERT INTO core.visits ({', '.join(cols)}, source_import, source_line, updated_at) "
                f"VALUES ({', '.join('?' for _ in cols)}, NULL, NULL, now())",
                [vid, *row.values(), derived],
            )
            for rec in checked.rom:
                con.execute(
                    "INSERT INTO core.rom (visit_id, joint, movement, side, timing, degrees, instrument, measured_by, "
                    "source_import, source_line, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, now())",
                    [
                        vid,
                        rec["joint"],
                        rec["movement"],
                        rec["side"],
                        rec["timing"],
                        float(rec["degrees"]),
                        rec.get("instrument"),
                        cell(entry.therapist) or None,
                    ],
                )
            for rec in checked.trigger_points:
                con.execute(
                    "INSERT INTO core.trigger_points (visit_id, muscle, side, referral_region, tenderness, released, "
                    "source_import, source_line, updated_at) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, now())",
                    [
                        vid,
                        rec["muscle"],
                        rec["side"],
                        rec.get("referral_region"),
                        rec.get("tenderness"),
                        rec.get("released"),
                    ],
                )
            _record_vocab(con, checked.new_vocab)
            after = visit_snapshot(con, vid)
            action = "insert" if visit_id is None else "update"
            _audit(con, action, "visits", vid, before, after, actor)
            # The visit's client now and, when an edit moved it, before: both clients' marts change.
            touched = {visit["client_id"]} | ({before["client_id"]} if before else set())
            rebuild_marts(con, {"visits", "rom", "trigger_points"}, clients=touched)
    return Saved(action, vid, checked.warnings)


def _as_date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def delete_visit(visit_id: str, db=None, actor: str | None = None) -> Saved:
    """Delete a visit with its ROM readings and trigger points; the audit row keeps all of it."""
    with write_connection(db) as con:
        with transaction(con):
            before = visit_snapshot(con, visit_id)
            if before is None:
                raise EntryError([Problem("visit_id", f"Visit: {visit_id} does not exist (deleted already?)")])
            for table in ("rom", "trigger_points", "visits"):
                con.execute(f"DELETE FROM core.{table} WHERE visit_id = ?", [visit_id])
            _audit(con, "delete", "visits", visit_id, before, None, actor)
            rebuild_marts(con, {"visits", "rom", "trigger_points"}, clients=[before["client_id"]])
    return Saved("delete", visit_id)


def load_visit(visit_id: str, db=None) -> VisitEntry | None:
    """The stored visit as a form entry (ROM readings paired into before/after rows), or None."""
    with read_connection(db) as con:
        snap = visit_snapshot(con, visit_id)
    if snap is None:
        return None
    rom: dict[tuple, dict[str, Any]] = {}
    for r in snap["rom"]:
        row = rom.setdefault(
            (r["joint"], r["movement"], r["side"]),
            {
                "joint": r["joint"],
                "movement": r["movement"],
                "side": r["side"],
                "degrees_pre": None,
                "degrees_post": None,
                "instrument": r["instrument"],
            },
        )
        row[f"degrees_{r['timing']}"] = r["degrees"]
        row["instrument"] = row["instrument"] or r["instrument"]
    return VisitEntry(
        client_id=snap["client_id"],
        visit_date=snap["visit_date"],
        techniques=list(snap["techniques"] or []),
        pressure=snap["pressure"],
        pain_pre=snap["pain_pre"],
        pain_post=snap["pain_post"],
        pain_region=snap["pain_region"],
        therapist=snap["therapist"],
        duration_min=snap["duration_min"],
        focus_muscles=list(snap["focus_muscles"] or []),
        client_feedback=snap["client_feedback"],
        homecare=snap["homecare"],
        notes=snap["notes"],
        plan=snap["plan"],
        rom=list(rom.values()),
        trigger_points=[dict(t) for t in snap["trigger_points"]],
    )


def client_visits(client_id: str, db=None, limit: int = 50) -> pd.DataFrame:
    """The client's latest visits, newest first (for choosing one to edit)."""
    with read_connection(db) as con:
        return con.execute(
            "SELECT visit_id, visit_date, pain_pre, pain_post, techniques FROM core.visits WHERE client_id = ? "
            "ORDER BY visit_date DESC, visit_id DESC LIMIT ?",
            [client_id, limit],
        ).df()


def last_rom_set(client_id: str, db=None) -> list[dict[str, Any]]:
    """The joint/movement/side readings of the client's latest visit with ROM, degrees blank:
    a therapist re-measures the same movements, so the editor starts with them."""
    with read_connection(db) as con:
        rows = _records(
            con,
            """
            SELECT DISTINCT r.joint, r.movement, r.side, r.instrument
            FROM core.rom r JOIN core.visits v USING (visit_id)
            WHERE v.client_id = ? AND v.visit_id = (
                SELECT v2.visit_id FROM core.visits v2 JOIN core.rom r2 USING (visit_id)
                WHERE v2.client_id = ? ORDER BY v2.visit_date DESC, v2.visit_id DESC LIMIT 1)
            ORDER BY r.joint, r.movement, r.side""",
            [client_id, client_id],
        )
    return [{**r, "degrees_pre": None, "degrees_post": None} for r in rows]


# ---------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------


@dataclass
class ClientEntry:
    client_id: Any = None
    display_name: Any = None
    birth_year: Any = None
    sex: Any = None
    primary_complaint: Any = None
    complaint_region: Any = None
    intake_date: Any = None
    status: Any = "active"
    notes: Any = None


_CLIENT_COLS = CLIENT_FIELDS


def check_client(entry: ClientEntry, con, editing: bool = False) -> tuple[list[Problem], list[Problem], dict, dict]:
    values = {name: getattr(entry, name) for name in CLIENT_FIELDS}
    result = validate_chunk("clients", _one_row(values), vocabularies=practice_vocabularies(con), present=set(values))
    problems, warnings = _result_problems(result)
    client_id = cell(entry.client_id)
    if client_id:
        exists = _client_exists(con, client_id)
        if editing and not exists:
            problems.append(Problem("client_id", f"Client: {client_id} no longer exists"))
        elif not editing and exists:
            problems.append(Problem("client_id", f"Client ID: {client_id} is already taken; choose another code"))
        if re.search(r"\s", client_id):
            problems.append(Problem("client_id", f"Client ID: '{client_id}' must not contain spaces"))
    clean = {k: _py(v) for k, v in result.clean.iloc[0].items()} if len(result.clean) else {}
    return problems, warnings, clean, dict(result.new_vocab)


def client_snapshot(con, client_id: str) -> dict[str, Any] | None:
    rows = _records(con, f"SELECT {', '.join(_CLIENT_COLS)} FROM core.clients WHERE client_id = ?", [client_id])
    return rows[0] if rows else None


def save_client(entry: ClientEntry, db=None, editing: bool = False, actor: str | None = None) -> Saved:
    """Add a client or update one (the client id never changes), with an audit row."""
    with write_connection(db) as con:
        with transaction(con):
            problems, warnings, clean, new_vocab = check_client(entry, con, editing)
            if problems:
                raise EntryError(problems)
            cid = clean["client_id"]
            before = client_snapshot(con, cid) if editing else None
            row = {c: clean.get(c) for c in _CLIENT_COLS}
            row["intake_date"] = _as_date(row["intake_date"])
            row["birth_year"] = None if row["birth_year"] is None else int(row["birth_year"])
            con.execute("DELETE FROM core.clients WHERE client_id = ?", [cid])
            con.execute(
                f"INSERT INTO core.clients ({', '.join(row)}, source_import, source_line, updated_at) "
                f"VALUES ({', '.join('?' for _ in row)}, NULL, NULL, now())",
                list(row.values()),
            )
            _record_vocab(con, new_vocab)
            action = "update" if editing else "insert"
            _audit(con, action, "clients", cid, before, client_snapshot(con, cid), actor)
            rebuild_marts(con, {"clients"}, clients=[cid])
    return Saved(action, cid, warnings)


def load_client(client_id: str, db=None) -> ClientEntry | None:
    with read_connection(db) as con:
        snap = client_snapshot(con, client_id)
    return None if snap is None else ClientEntry(**snap)


def next_client_id(db=None) -> str:
    """A free client code following the practice's pattern (C0040 -> C0041; none yet -> C0001)."""
    try:
        with read_connection(db) as con:
            ids = [r[0] for r in con.execute("SELECT client_id FROM core.clients").fetchall()]
    except FileNotFoundError:
        ids = []
    best = None
    for cid in ids:
        m = re.fullmatch(r"(.*?)(\d+)", cid)
        if m and (best is None or int(m.group(2)) > int(best.group(2))):
            best = m
    prefix, width, n = ("C", 4, 0) if best is None else (best.group(1), len(best.group(2)), int(best.group(2)))
    taken = set(ids)
    while True:
        n += 1
        candidate = f"{prefix}{n:0{width}d}"
        if candidate not in taken:
            return candidate


# ---------------------------------------------------------------------------
# Questionnaires (item by item)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionnaireForm:
    """How the item-by-item form shows one instrument: short item titles and the two anchors.

    Only section titles are given (the client answers on the instrument's own form, whose
    statements the therapist transcribes as numbers); ranges and scoring are those of
    :mod:`pipelines.clinical.questionnaires`.
    """

    instrument: str
    items: tuple[str, ...]
    low: str  # what the lowest item value means
    high: str  # what the highest item value means
    note: str = ""


QUESTIONNAIRE_FORMS: dict[str, QuestionnaireForm] = {
    "NDI": QuestionnaireForm(
        "NDI",
        (
            "Pain intensity",
            "Personal care",
            "Lifting",
            "Reading",
            "Headaches",
            "Concentration",
            "Work",
            "Driving",
            "Sleeping",
            "Recreation",
        ),
        "0 = no problem",
        "5 = worst statement",
        "Leave an item blank if the client skipped it (often Driving); one blank item is allowed.",
    ),
    "ODI": QuestionnaireForm(
        "ODI",
        (
            "Pain intensity",
            "Personal care",
            "Lifting",
            "Walking",
            "Sitting",
            "Standing",
            "Sleeping",
            "Sex life",
            "Social life",
            "Travelling",
        ),
        "0 = no problem",
        "5 = worst statement",
        "Blank items reduce the denominator; more than 2 blank: not scored.",
    ),
    "PSFS": QuestionnaireForm(
        "PSFS",
        tuple(f"Activity {i}" for i in range(1, 6)),
        "0 = unable to perform",
        "10 = able at pre-injury level",
        "Rate the same activities at every follow-up (note their names in the visit notes); "
        "leave unused activities blank.",
    ),
    "QuickDASH": QuestionnaireForm(
        "QuickDASH",
        (
            "Open a tight or new jar",
            "Heavy household chores",
            "Carry a shopping bag or briefcase",
            "Wash your back",
            "Use a knife to cut food",
            "Recreation with force or impact through arm, shoulder or hand",
            "Interfered with social activities",
            "Limited in work or daily activities",
            "Arm, shoulder or hand pain",
            "Tingling (pins and needles)",
            "Difficulty sleeping because of pain",
        ),
        "1 = no difficulty / none",
        "5 = unable / extreme",
        "One blank item is allowed.",
    ),
    "LEFS": QuestionnaireForm(
        "LEFS",
        (
            "Usual work, housework or school",
            "Usual hobbies, recreation or sport",
            "Getting into or out of the bath",
            "Walking between rooms",
            "Putting on shoes or socks",
            "Squatting",
            "Lifting a bag of groceries from the floor",
            "Light activities around the home",
            "Heavy activities around the home",
            "Getting into or out of a car",
            "Walking 2 blocks",
            "Walking a mile",
            "Going up or down 10 stairs",
            "Standing for 1 hour",
            "Sitting for 1 hour",
            "Running on even ground",
            "Running on uneven ground",
            "Sharp turns while running fast",
            "Hopping",
            "Rolling over in bed",
        ),
        "0 = extreme difficulty / unable",
        "4 = no difficulty",
        "Up to 2 blank items are prorated.",
    ),
}


@dataclass
class QuestionnaireEntry:
    client_id: Any = None
    taken_on: Any = None
    instrument: Any = None
    items: list[Any] = field(default_factory=list)  # item 1 first; None for unanswered
    total_score: Any = None  # only when the items are not known
    # NDI/ODI: the scale the total was typed on, "points" (0-50) or "percent" (0-100); stored as %.
    total_scale: str | None = None


def questionnaire_key(client_id: str, taken_on: Any, instrument: str) -> str:
    return f"{client_id}|{cell(taken_on)}|{instrument}"


def _total_on_its_scale(entry: QuestionnaireEntry) -> tuple[Any, list[Problem]]:
    """The form's total as the stored percentage; NDI/ODI ask which scale it was typed on."""
    total = entry.total_score
    if _is_blank(total) or entry.instrument not in POINTS_MAX:
        return total, []
    if entry.total_scale not in TOTAL_SCALES:
        return None, [
            Problem(
                "total_score",
                f"Total score: is {cell(total)} on {TOTAL_SCALES['points']} or {TOTAL_SCALES['percent']}? "
                "Choose the scale",
                value=cell(total),
            )
        ]
    try:
        return total_as_percent(entry.instrument, float(total), entry.total_scale), []
    except ValueError as exc:
        return None, [Problem("total_score", f"Total score: {exc}", value=cell(total))]


def check_questionnaire(entry: QuestionnaireEntry, con) -> tuple[list[Problem], list[Problem], dict, Score | None]:
    n_items = INSTRUMENTS[entry.instrument].n_items if entry.instrument in INSTRUMENTS else 20
    items = list(entry.items or [])[:20]
    total, scale_problems = _total_on_its_scale(entry)
    values = {
        "client_id": entry.client_id,
        "taken_on": entry.taken_on,
        "instrument": entry.instrument,
        **{f"item_{i}": (items[i - 1] if i <= len(items) else None) for i in range(1, n_items + 1)},
        "total_score": entry.total_score if scale_problems else total,
    }
    result = validate_chunk(
        "outcome_measures", _one_row(values), vocabularies=practice_vocabularies(con), present=set(values)
    )
    problems, warnings = _result_problems(result)
    if scale_problems:  # the scale's own message, not "outside 0–100" for a total that may be fine
        problems = [p for p in problems if p.field != "total_score"] + scale_problems
    for p in problems:
        if "no item answers" in p.message:
            p.field, p.message = "items", "No answers entered: answer the items the client filled in"
    client_id = cell(entry.client_id)
    if client_id and not _client_exists(con, client_id):
        problems.append(Problem("client_id", f"Client: {client_id} is not a known client"))
    clean = {k: _py(v) for k, v in result.clean.iloc[0].items()} if len(result.clean) else {}
    score = None
    if not problems:
        try:
            score = score_questionnaire(
                clean["instrument"],
                {f"item_{i}": clean.get(f"item_{i}") for i in range(1, n_items + 1)},
                clean.get("total_score"),
            )
        except ValueError as exc:
            problems.append(Problem("items", str(exc)))
        else:
            if not score.scorable:
                warnings.append(Problem("items", f"Saved, but {score.reason}"))
            elif score.prorated:
                warnings.append(Problem("items", f"Score {score.score:.1f} is {score.reason}"))
    return problems, warnings, clean, score


def save_questionnaire(entry: QuestionnaireEntry, db=None, actor: str | None = None) -> Saved:
    """Store one questionnaire (item responses as given); a second one for the same client,
    date and instrument replaces the first, as a corrected import row would."""
    with write_connection(db) as con:
        with transaction(con):
            problems, warnings, clean, score = check_questionnaire(entry, con)
            if problems:
                raise EntryError(problems)
            cid, taken, inst = clean["client_id"], _as_date(clean["taken_on"]), clean["instrument"]
            key = questionnaire_key(cid, taken, inst)
            before = _questionnaire_snapshot(con, cid, taken, inst)
            con.execute(
                "DELETE FROM core.outcome_measures WHERE client_id = ? AND taken_on = ? AND instrument = ?",
                [cid, taken, inst],
            )
            item_cols = [f"item_{i}" for i in range(1, 21)]
            values = [None if clean.get(c) is None else float(clean[c]) for c in item_cols]
            total = clean.get("total_score")
            con.execute(
                f"INSERT INTO core.outcome_measures (client_id, taken_on, instrument, {', '.join(item_cols)}, total_score, "
                f"source_import, source_line, updated_at) VALUES (?, ?, ?, {', '.join('?' for _ in item_cols)}, ?, NULL, NULL, now())",
                [cid, taken, inst, *values, None if total is None else float(total)],
            )
            _audit(
                con,
                "update" if before else "insert",
                "outcome_measures",
                key,
                before,
                _questionnaire_snapshot(con, cid, taken, inst),
                actor,
            )
            rebuild_marts(con, {"outcome_measures"}, clients=[cid])
    return Saved("update" if before else "insert", key, warnings, score)


def delete_questionnaire(client_id: str, taken_on: Any, instrument: str, db=None, actor: str | None = None) -> Saved:
    with write_connection(db) as con:
        with transaction(con):
            taken = pd.Timestamp(taken_on).date()
            before = _questionnaire_snapshot(con, client_id, taken, instrument)
            key = questionnaire_key(client_id, taken, instrument)
            if before is None:
                raise EntryError([Problem("instrument", f"No {instrument} on {taken} for {client_id}")])
            con.execute(
                "DELETE FROM core.outcome_measures WHERE client_id = ? AND taken_on = ? AND instrument = ?",
                [client_id, taken, instrument],
            )
            _audit(con, "delete", "outcome_measures", key, before, None, actor)
            rebuild_marts(con, {"outcome_measures"}, clients=[client_id])
    return Saved("delete", key)


def _questionnaire_snapshot(con, client_id: str, taken_on: Any, instrument: str) -> dict[str, Any] | None:
    rows = _records(
        con,
        "SELECT * EXCLUDE (source_import, source_line, updated_at) FROM core.outcome_measures "
        "WHERE client_id = ? AND taken_on = ? AND instrument = ?",
        [client_id, taken_on, instrument],
    )
    if not rows:
        return None
    return {k: v for k, v in rows[0].items() if v is not None}


# ---------------------------------------------------------------------------
# Audit
# ---------------------------------------------------------------------------


def audit_log(db=None, kind: str | None = None, key: str | None = None, limit: int = 200) -> pd.DataFrame:
    """The latest audit rows, newest first (optionally for one kind and key)."""
    with read_connection(db) as con:
        return con.execute(
            'SELECT audit_id, "at", actor, action, kind, key, CAST(before AS VARCHAR) AS before, CAST(after AS VARCHAR) AS after '
            "FROM meta.audit WHERE (? IS NULL OR kind = ?) AND (? IS NULL OR key = ?) "
            "ORDER BY audit_id DESC LIMIT ?",
            [kind, kind, key, key, limit],
        ).df()


def as_dict(entry: Any) -> dict[str, Any]:
    return asdict(entry)
