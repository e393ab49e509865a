"""A check before a visit is saved: range-of-motion readings that are implausible next to the
client's last reading of the same movement.

Why: a reading that fell to less than half of last time's, or more than doubled, by more than any
measurement error, is far more often a slip (a digit lost or doubled, a value typed in the wrong
box) than a real change between two visits, so the form names it and asks ("Cervical flexion
before: 2°, last visit 44°: is that right?") instead of storing it silently.  The form's number
inputs keep every key typed (the data editor used before lost the first key of a fast "52");
this check is the second line.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from pipelines.ingest import vocab as V
from pipelines.warehouse.db import read_connection

# A reading below this share of the last one is asked about ...
DROP_SHARE = 0.5
# ... when it is also this many units (degrees or mm) away: well beyond the measurement error of
# goniometry (MDC about 5 degrees same rater, Boone 1978) so real but small changes are not asked.
MIN_GAP = 10.0
# ... and a reading above last time's by this factor and gap (an extra key: "445" for "45").
RISE_FACTOR = 2.0

LAST_READINGS_SQL = """
SELECT r.joint, r.movement, r.side, r.degrees, v.visit_date
FROM core.rom r JOIN core.visits v USING (visit_id)
WHERE v.client_id = ? AND v.visit_id IS DISTINCT FROM ?
QUALIFY row_number() OVER (PARTITION BY r.joint, r.movement, r.side
                           ORDER BY v.visit_date DESC, v.visit_id DESC, r.timing = 'post' DESC) = 1
"""


@dataclass(frozen=True)
class Doubt:
    row: int  # 1-based row of the ROM table
    message: str


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if pd.isna(number) else number


def last_readings(
    client_id: str, db=None, visit_id: str | None = None
) -> dict[tuple[str, str, str], tuple[float, dt.date]]:
    """(joint, movement, side) -> (the client's last reading, its visit date), other visits only."""
    with read_connection(db) as con:
        rows = con.execute(LAST_READINGS_SQL, [client_id, visit_id]).fetchall()
    return {(j, m, s): (float(d), date) for j, m, s, d, date in rows if d is not None}


def doubtful_readings(
    rom_rows: list[dict[str, Any]], last: dict[tuple[str, str, str], tuple[float, dt.date]]
) -> list[Doubt]:
    """The readings of the form's ROM table to ask about, each named with last time's value."""
    doubts = []
    for i, row in enumerate(rom_rows, start=1):
        key = (row.get("joint"), row.get("movement"), row.get("side") or "none")
        if key not in last:
            continue
        before, date = last[key]
        unit = V.rom_unit(key[0], key[1])
        lo, hi, _ = V.rom_bounds(key[0], key[1])
        for column, when in (("degrees_pre", "before"), ("degrees_post", "after")):
            value = _number(row.get(column))
            if value is None or not lo <= value <= hi:  # impossible values are refused by the form's own check
                continue
            dropped = value < before * DROP_SHARE and before - value >= MIN_GAP
            rose = value > before * RISE_FACTOR and value - before >= MIN_GAP
            if dropped or rose:
                side = "" if key[2] in ("none", None) else f" ({key[2]})"
                doubts.append(
                    Doubt(
                        i,
                        f"{key[0].capitalize()} {key[1].replace('_', ' ')}{side} {when}: "
                        f"{value:g}{unit}, last visit ({pd.Timestamp(date):%d %b %Y}) "
                        f"{before:g}{unit}: is that right?",
                    )
                )
    return doubts
