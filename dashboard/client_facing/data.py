"""One client's data for their own view, report and presentation mode: only what the client may see.

**Privacy by construction.**  Every query below has ``client_id = ?`` bound to the one client
(taken from a share-link lookup or the therapist's choice, never from the URL) and selects
only what the client may see: no therapist notes, no other client, no practice figures.
Nothing in this module can list clients.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from pipelines.warehouse.db import read_connection

CLIENT_SQL = """
select client_id, display_name, complaint_region, primary_complaint
from core.clients
where client_id = ?
"""

VISITS_SQL = """
select visit_id, visit_date, visit_number, pain_pre, pain_post, pain_region, techniques, homecare
from marts.visit_outcomes
where client_id = ?
order by visit_date, visit_number
"""

ROM_SQL = """
select visit_outcomes.visit_date, visit_outcomes.visit_number,
       rom_changes.joint, rom_changes.movement, rom_changes.side,
       rom_changes.degrees_pre, rom_changes.degrees_post, rom_changes.instrument, rom_changes.measured_by
from marts.rom_changes as rom_changes
inner join marts.visit_outcomes as visit_outcomes on visit_outcomes.visit_id = rom_changes.visit_id
where visit_outcomes.client_id = ?
order by rom_changes.joint, rom_changes.movement, rom_changes.side, visit_outcomes.visit_date
"""

CHECKINS_SQL = """
select reported_at, pain, region, did_homecare, note, source
from marts.self_reports
where client_id = ?
order by reported_at
"""


TRIGGER_POINTS_SQL = """
select visit_id, visit_date, muscle, side, referral_region, tenderness, released
from marts.trigger_points
where client_id = ?
order by visit_date, muscle, side
"""


@dataclass
class ClientData:
    client_id: str
    display_name: str
    complaint_region: str | None
    primary_complaint: str | None
    visits: pd.DataFrame
    rom: pd.DataFrame
    checkins: pd.DataFrame
    trigger_points: pd.DataFrame = field(default_factory=pd.DataFrame)  # for the body map


class UnknownClient(LookupError):
    pass


def load_client(db, client_id: str) -> ClientData:
    """Everything the client view shows for ``client_id`` (raises :class:`UnknownClient`)."""
    with read_connection(db) as con:
        row = con.execute(CLIENT_SQL, [client_id]).fetchone()
        if row is None:
            raise UnknownClient(client_id)
        visits = con.execute(VISITS_SQL, [client_id]).df()
        rom = con.execute(ROM_SQL, [client_id]).df()
        checkins = con.execute(CHECKINS_SQL, [client_id]).df()
        trigger_points = con.execute(TRIGGER_POINTS_SQL, [client_id]).df()
    visits["techniques"] = visits["techniques"].map(lambda ts: list(ts) if ts is not None else [])
    return ClientData(row[0], row[1], row[2], row[3], visits, rom, checkins, trigger_points)
