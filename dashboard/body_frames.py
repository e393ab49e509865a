"""What the body map draws for one client, as plain frames: the pain region of each visit with
its pain score, the trigger points of each visit, and the same in plain words for the client.

Pure pandas (no Streamlit), shared by the therapist component, the client's own view and the
printed report.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from dashboard.charts.body import term_label

# The body map explained to a client, in plain words (client view and printed report).
CLIENT_LEGEND = (
    "Orange areas: where it hurt, darker means more pain. Blue dots: tight spots (trigger points) your "
    "therapist found, darker means more tender; an open ring means it let go. A dotted line shows where "
    "a tight spot sent pain."
)


def practice_places(settings: dict | None) -> dict[str, str]:
    """The practice's own terms the therapist placed on the body: ``{term: known muscle or region}``."""
    return dict((settings or {}).get("body_map", {}).get("places", {}))


def visit_regions(visits: pd.DataFrame) -> pd.DataFrame:
    """One row per visit with a pain region: visit_id, visit_date, region, pain (before the visit)."""
    if visits.empty or "pain_region" not in visits:
        return pd.DataFrame(columns=["visit_id", "visit_date", "region", "pain", "detail"])
    rows = visits.dropna(subset=["pain_region"])
    return pd.DataFrame(
        {
            "visit_id": rows["visit_id"].to_numpy(),
            "visit_date": rows["visit_date"].to_numpy(),
            "region": rows["pain_region"].to_numpy(),
            "pain": rows["pain_pre"].astype(float).to_numpy(),
            "detail": [f"visit of {pd.Timestamp(d):%d %b %Y}" for d in rows["visit_date"]],
        }
    )


def mapped_visits(visits: pd.DataFrame, points: pd.DataFrame) -> list[str]:
    """Visit ids (in date order) that have something to draw: a pain region or trigger points."""
    with_region = set(visits.loc[visits["pain_region"].notna(), "visit_id"]) if "pain_region" in visits else set()
    with_points = set(points["visit_id"]) if len(points) else set()
    return [v for v in visits["visit_id"] if v in with_region | with_points]


def _day(value) -> str:
    d = pd.Timestamp(value)
    return f"{d.day} {d:%b %Y}"


def at_visit(frame: pd.DataFrame, visit_id: str) -> pd.DataFrame:
    return frame[frame["visit_id"] == visit_id].reset_index(drop=True)


def _places_text(regions: pd.DataFrame, places: Mapping[str, str]) -> str:
    parts = []
    for row in regions.itertuples():
        name = term_label(places.get(row.region, row.region)).lower()
        parts.append(f"{name} ({row.pain + 0.0:g} out of 10)" if pd.notna(row.pain) else name)
    return ", ".join(parts)


def start_and_now(visits: pd.DataFrame, points: pd.DataFrame) -> list[tuple[str, str]]:
    """(label, visit id) of the first and the latest visit with something to draw (one when they are the same)."""
    mapped = mapped_visits(visits, points)
    if not mapped:
        return []
    date = dict(zip(visits["visit_id"], visits["visit_date"]))
    if len(mapped) == 1:
        return [(f"So far · {_day(date[mapped[0]])}", mapped[0])]
    return [(f"At the start · {_day(date[mapped[0]])}", mapped[0]), (f"Now · {_day(date[mapped[-1]])}", mapped[-1])]


def where_words(visits: pd.DataFrame, points: pd.DataFrame, places: Mapping[str, str] | None = None) -> list[str]:
    """ "Where it hurt at the start, where it hurts now" in plain words for the client."""
    places = places or {}
    mapped = mapped_visits(visits, points)
    if not mapped:
        return []
    regions = visit_regions(visits)
    first, last = mapped[0], mapped[-1]
    date = dict(zip(visits["visit_id"], visits["visit_date"]))
    words = []
    for label, vid in (("At the start", first), ("Now", last)) if first != last else (("So far", first),):
        where = _places_text(at_visit(regions, vid), places)
        knots = at_visit(points, vid)
        n = len(knots)
        text = f"{label} ({_day(date[vid])}): "
        text += (
            f"it hurt in the {where}"
            if where and label != "Now"
            else (f"it hurts in the {where}" if where else "no pain area was noted")
        )
        if n:
            muscles = sorted({term_label(places.get(m, m)).lower() for m in knots["muscle"]})
            text += f"; {n} tight spot{'s' if n != 1 else ''} (trigger points) in the {', '.join(muscles)}"
        words.append(text + ".")
    return words
