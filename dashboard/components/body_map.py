"""The body map on Client progress: the first visit beside a visit chosen on a slider.

One call from the page (:func:`client_body_map`).  Pain regions are shaded by the pain score
before that visit, trigger points are marked at their muscle and side, coloured by tenderness,
with the referral zone the therapist recorded.  Terms the map cannot place (a practice's own
muscle or region names) are listed beside it and can be placed once; the placement is kept in
the practice settings file.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.body_frames import at_visit, mapped_visits, practice_places, visit_regions
from dashboard.charts.body import SIDE_TEXT, body_chart, practice_body_chart, term_label, unplaced_terms
from dashboard.charts.progress import PLOTLY_CONFIG
from dashboard.queries import body as body_queries
from pipelines.clinical.settings import load_settings, save_settings, settings_path_for
from pipelines.ingest.anatomy import load_anatomy

ZOOM_LABELS = {"body": "Whole body", "head": "Head, neck and jaw"}
LEGEND = (
    "**Shaded**: where it hurt, darker = more pain before the visit (0–10). **Circles**: trigger points at "
    "their muscle and side, darker blue = more tender; solid = not released, ring with a dot = partly "
    "released, open ring = released. **Dotted outline**: where the therapist noted the point referred pain. "
    "Hover a point for muscle, side, tenderness, visit and the manual's usual referral zones (Simons, "
    "Travell & Simons 1999; Travell & Simons 1992)."
)


def place_term(db: str, term: str, target: str) -> None:
    """Store "draw ``term`` where ``target`` is" in the practice settings beside the database."""
    anatomy = load_anatomy()
    if target not in anatomy.muscles and target not in anatomy.regions:
        raise ValueError(f"{target!r} is not a muscle or region on the body map")
    path = settings_path_for(db)
    settings = load_settings(path)
    settings.setdefault("body_map", {}).setdefault("places", {})[term] = target
    save_settings(settings, path)


def _placement_form(db: str, unplaced: list[str], key: str) -> None:
    anatomy = load_anatomy()
    targets = list(anatomy.muscles) + list(anatomy.regions)
    with st.popover("Place them on the body", icon=":material/add_location:"):
        st.caption("Draw a practice term where a known muscle or region is. Saved once for the whole practice.")
        term = st.selectbox("Term", unplaced, key=f"{key}_term", format_func=term_label)
        target = st.selectbox(
            "Draw it where this is",
            targets,
            index=None,
            key=f"{key}_target",
            format_func=lambda t: f"{term_label(t)} ({'muscle' if t in anatomy.muscles else 'region'})",
            placeholder="A muscle or region",
        )
        if st.button("Save place", key=f"{key}_save", disabled=target is None):
            place_term(db, term, target)
            st.rerun()


def client_body_map(db: str, client_id: str, visits: pd.DataFrame, points: pd.DataFrame, settings: dict) -> None:
    """The client's body map section: first visit beside a chosen visit, with what cannot be placed."""
    st.subheader("Body map")
    places = practice_places(settings)
    mapped = mapped_visits(visits, points)
    if not mapped:
        st.info(
            "No pain region or trigger point is recorded for these visits, so there is nothing to draw on the "
            "body yet. Add them in Log a visit.",
            icon=":material/accessibility_new:",
        )
        return
    regions = visit_regions(visits)
    dates = dict(zip(visits["visit_id"], pd.to_datetime(visits["visit_date"])))
    zoom = (
        st.segmented_control("Show", list(ZOOM_LABELS), default="body", format_func=ZOOM_LABELS.get, key="bm_zoom")
        or "body"
    )
    chosen = mapped[-1]
    if len(mapped) > 1:
        chosen = st.select_slider(
            "Visit shown on the right",
            mapped,
            value=mapped[-1],
            key=f"bm_visit_{client_id}",
            format_func=lambda v: f"{dates[v]:%d %b %Y}",
        )
    shown = [(mapped[0], "First visit"), (chosen, "Latest visit" if chosen == mapped[-1] else "Visit")]
    for column, (vid, label) in zip(st.columns(2), shown if len(mapped) > 1 else shown[:1]):
        fig = body_chart(
            at_visit(regions, vid),
            at_visit(points, vid),
            zoom=zoom,
            places=places,
            title=f"{label} · {dates[vid]:%d %b %Y}",
        )
        column.plotly_chart(fig, config=PLOTLY_CONFIG, key=f"bm_chart_{label}")
    st.caption(LEGEND)
    unplaced = unplaced_terms(regions, points, places)
    if unplaced:
        st.warning(
            "Not placed on the body: "
            + ", ".join(map(term_label, unplaced))
            + ". They are kept in the records; place them "
            "once and the map draws them from then on.",
            icon=":material/wrong_location:",
        )
        _placement_form(db, unplaced, key=f"bm_place_{client_id}")


def practice_body_map(db: str, version: str, settings: dict) -> None:
    """Where the practice's clients hurt and where trigger points are found most, on the body."""
    st.subheader("Where clients hurt, and where trigger points are found")
    regions, points = body_queries.practice_body(db, version)
    if regions.empty and points.empty:
        st.info("No pain regions or trigger points are recorded yet.", icon=":material/accessibility_new:")
        return
    places = practice_places(settings)
    zoom = (
        st.segmented_control("Show", list(ZOOM_LABELS), default="body", format_func=ZOOM_LABELS.get, key="po_body_zoom")
        or "body"
    )
    st.plotly_chart(practice_body_chart(regions, points, zoom=zoom, places=places), config=PLOTLY_CONFIG, key="po_body")
    top = ", ".join(
        f"{term_label(r.muscle)} ({SIDE_TEXT.get(r.side, r.side)}) in {r.n_clients:,}"
        for r in points.head(5).itertuples()
    )
    n = int(regions["n_with_region"].iloc[0]) if len(regions) else 0
    st.caption(
        f"Shaded: of the {n:,} clients with a pain region recorded, the share who named that region at any "
        "visit (darker = more clients; hover for the count). Circles: trigger points, larger = found in more "
        "clients." + (f" Found most: {top} clients." if top else "")
    )
    unplaced = unplaced_terms(regions, points, places)
    if unplaced:
        st.caption(
            "Not placed on the body: "
            + ", ".join(map(term_label, unplaced))
            + ". Place them from a client's body map on Client progress."
        )
