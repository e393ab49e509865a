"""One client's whole record, read in one short read-only batch: what travels out of Knotwork
(the FHIR Bundle, the physician letter).

Every query binds ``client_id = ?`` (SQL in ``pipelines/sql/exports/record_*.sql``), so a
record can only ever hold the one client's rows.  Questionnaires are scored here with the one
scoring formula every reader uses (:func:`pipelines.clinical.questionnaires.score_frame`).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import pandas as pd

from pipelines.clinical.questionnaires import score_frame
from pipelines.warehouse.db import read_connection

CLIENT_IDS_SQL = "select client_id from core.clients order by client_id"


def _sql(name: str) -> str:
    return resources.files("pipelines.sql.exports").joinpath(f"{name}.sql").read_text(encoding="utf-8")


class UnknownClient(LookupError):
    pass


@dataclass
class ClientRecord:
    client: dict
    visits: pd.DataFrame
    rom: pd.DataFrame
    self_reports: pd.DataFrame
    trigger_points: pd.DataFrame
    questionnaires: pd.DataFrame  # rows as recorded plus score, scorable, reason (score_frame)

    @property
    def client_id(self) -> str:
        return self.client["client_id"]


def load_record(db, client_id: str) -> ClientRecord:
    """Everything recorded about ``client_id`` (raises :class:`UnknownClient`)."""
    with read_connection(db) as con:
        cur = con.execute(_sql("record_client"), [client_id])
        row = cur.fetchone()
        if row is None:
            raise UnknownClient(client_id)
        client = dict(zip([d[0] for d in cur.description], row))
        frames = {
            name: con.execute(_sql(f"record_{name}"), [client_id]).df()
            for name in ("visits", "rom", "self_reports", "trigger_points", "outcome_measures")
        }
    visits = frames["visits"]
    visits["techniques"] = visits["techniques"].map(lambda ts: list(ts) if ts is not None else [])
    return ClientRecord(
        client,
        visits,
        frames["rom"],
        frames["self_reports"],
        frames["trigger_points"],
        _scored(frames["outcome_measures"]),
    )


def _scored(measures: pd.DataFrame) -> pd.DataFrame:
    """Questionnaire rows as recorded, plus score, scorable, reason and raw (one scoring formula)."""
    if len(measures) == 0:
        return measures.assign(
            score=pd.Series(dtype=float),
            scorable=pd.Series(dtype=bool),
            reason=pd.Series(dtype=object),
            raw=pd.Series(dtype=float),
        )
    scored = score_frame(measures, errors="mark")
    return measures.assign(
        instrument=scored["instrument"].fillna(measures["instrument"]),
        **{c: scored[c] for c in ("score", "scorable", "reason", "raw")},
    )


def load_questionnaires(db, client_id: str) -> pd.DataFrame:
    """Only the client's questionnaires, scored (for the client's report)."""
    with read_connection(db) as con:
        return _scored(con.execute(_sql("record_outcome_measures"), [client_id]).df())


def client_ids(db) -> list[str]:
    with read_connection(db) as con:
        return [r[0] for r in con.execute(CLIENT_IDS_SQL).fetchall()]
