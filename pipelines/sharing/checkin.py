"""A client's between-visit check-in (pain, region, home care, note), stored as a self-report.

The values go through the **same** validator as an imported ``self_reports`` file
(:func:`pipelines.ingest.validate.validate_chunk`), so "pain 11 is outside 0–10", "pain 3.3 must be a
whole or half point" and "region 'nek' is not a known region; did you mean 'neck'?" read the
same in both places and every message names its field.  One difference: an import may accept a
genuinely new region as a practice-defined entry; a check-in may not (a client's typing must
not grow the practice's vocabulary), so such a value is refused with a message naming
``region``.

A valid check-in is one ``core.self_reports`` row with ``source`` = ``'link'`` (through a
private link) or ``'form'`` (typed in the practice), inserted in one transaction together with
the rebuild of the marts, so the client view shows it at once.  An invalid one stores nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from pipelines.ingest.practice_rules import practice_vocabularies  # built-in lists + the practice's own
from pipelines.ingest.validate import validate_chunk
from pipelines.warehouse import audit
from pipelines.warehouse.db import write_connection
from pipelines.warehouse.marts import rebuild_marts
from pipelines.warehouse.transaction import transaction

SOURCES = ("link", "form")
MAX_NOTE_CHARS = 2000
# Check-ins through links, per client, in any 24 hours.  A link is the client's own, so this is
# a limit per link (and for all of one client's links together): enough for a morning and an
# evening report and a few corrections, too few for someone holding a leaked link to flood the record.
MAX_LINK_CHECKINS_PER_DAY = 10
RECENT_LINK_CHECKINS_SQL = (
    "SELECT count(*) FROM core.self_reports WHERE client_id = ? AND source = 'link' AND reported_at > ?"
)
FIELDS = ("pain", "region", "did_homecare", "pgic", "note")


@dataclass
class CheckinResult:
    ok: bool
    errors: list[str] = field(default_factory=list)  # each names its field ("pain 11 is outside 0–10")
    row: dict | None = None


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}" if value == value else ""
    return str(value)


def validate_checkin(values: dict, reported_at: dt.datetime, vocabularies=None) -> CheckinResult:
    """Check one check-in; ``values`` may hold ``pain`` (required), ``region``, ``did_homecare``,
    ``pgic`` and ``note``, as numbers, booleans or text."""
    unknown = set(values) - set(FIELDS)
    if unknown:
        return CheckinResult(False, [f"{sorted(unknown)[0]} is not a check-in field"])
    cells = {name: _cell(values.get(name)) for name in FIELDS}
    errors: list[str] = []
    if len(cells["note"]) > MAX_NOTE_CHARS:
        errors.append(f"note is longer than {MAX_NOTE_CHARS} characters; please shorten it")
    chunk = pd.DataFrame(
        {
            "_line": [1],
            "client_id": ["(checkin)"],
            "reported_at": [reported_at.isoformat(sep=" ")],
            **{k: [v] for k, v in cells.items()},
        }
    )
    result = validate_chunk(
        "self_reports", chunk, vocabularies=vocabularies, present={"client_id", "reported_at", *FIELDS}
    )
    for _, r in result.rejects.iterrows():
        reason = str(r["reason"])
        if r["column"] and not reason.startswith(str(r["column"])):
            reason = f"{r['column']}: {reason}"
        errors.append(reason)
    for _, w in result.warnings.iterrows():
        if w["column"] == "region":
            # An unknown region is kept (and flagged) by an import; a client's typing adds nothing.
            closest = next((c for (voc, _), c in result.new_vocab.items() if voc == "region"), None)
            hint = f" (did you mean '{closest}'?)" if closest else ""
            errors.append(
                f"region '{w['value']}' is not one of the body regions your therapist uses{hint}; "
                "please choose one from the list"
            )
    if errors or result.clean.empty:
        return CheckinResult(False, errors or ["the check-in could not be read"])
    row = result.clean.iloc[0]

    def val(name):
        v = row.get(name)
        return None if v is None or (isinstance(v, float) and v != v) or v is pd.NaT else v

    did = val("did_homecare")
    clean = {
        "reported_at": reported_at,
        "pain": float(val("pain")),
        "region": val("region"),
        "did_homecare": None if did is None else did == "yes",
        "pgic": None if val("pgic") is None else int(val("pgic")),
        "note": val("note"),
    }
    return CheckinResult(True, [], clean)


def record_checkin(
    client_id: str, values: dict, db=None, source: str = "link", reported_at: dt.datetime | None = None
) -> CheckinResult:
    """Validate and store one check-in for ``client_id``; nothing is stored when it is invalid."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    reported_at = reported_at or dt.datetime.now()  # local time, like imported self-reports
    with write_connection(db) as con:
        with transaction(con) as tx:
            known = con.execute("SELECT count(*) FROM core.clients WHERE client_id = ?", [client_id]).fetchone()[0]
            if not known:
                tx.rollback()
                return CheckinResult(False, ["client_id is not a known client"])
            if source == "link":
                recent = con.execute(
                    RECENT_LINK_CHECKINS_SQL, [client_id, reported_at - dt.timedelta(days=1)]
                ).fetchone()[0]
                if recent >= MAX_LINK_CHECKINS_PER_DAY:
                    tx.rollback()
                    return CheckinResult(
                        False,
                        [
                            f"you have already sent {recent} check-ins today, the most this "
                            "page takes in a day; please try again tomorrow or tell your "
                            "therapist at your next visit"
                        ],
                    )
            result = validate_checkin(values, reported_at, vocabularies=practice_vocabularies(con))
            if not result.ok:
                tx.rollback()
                return result
            r = result.row
            con.execute(
                "INSERT INTO core.self_reports (client_id, reported_at, pain, region, did_homecare, pgic, note, source, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, now())",
                [client_id, r["reported_at"], r["pain"], r["region"], r["did_homecare"], r["pgic"], r["note"], source],
            )
            # Audited in the same transaction: a check-in changes the client's record like an edit does.
            audit.record(
                con,
                "insert",
                "self_reports",
                f"{client_id}|{r['reported_at']}",
                after=r,
                actor=audit.CLIENT_LINK if source == "link" else None,
                client_id=client_id,
                detail="pain check-in" + (f": {r['pain']:g}/10" if r.get("pain") is not None else ""),
            )
            rebuild_marts(con, changed={"self_reports"}, clients=[client_id])  # this client's self-report rows
    result.row = {"client_id": client_id, "source": source, **result.row}
    return result
