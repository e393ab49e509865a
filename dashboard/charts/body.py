"""The body map: pain regions, trigger points and their referral drawn on the body (pure Plotly).

Why our own drawing and not the ``anatomapa`` package: anatomapa paints its own 32 coarse
regions into an SVG; a body map of trigger point work needs muscles, sides and fine referral
zones (temple, behind the eye, jaw …) placed from Knotwork's anatomy data, hover text, and
clickable points for Log a visit, which only Plotly traces give (Streamlit's selection events).
So the outline comes from the same public-domain silhouette anatomapa uses (``body_outlines.json``,
gganatogram, CC0) and everything on it is drawn here from ``pipelines/ingest/anatomy.toml``.

Figures are pure functions of DataFrames, shared by the therapist pages and the client report.
Every trace carries ``meta`` saying what it draws (``kind`` = ``pain_region``, ``referral``,
``trigger_points`` or ``pick``), so tests and the page can read back exactly what is shown.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from importlib import resources

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from dashboard.charts.progress import GREY, OKABE_ITO, pretty
from pipelines.ingest.anatomy import BODY_HEIGHT, BODY_WIDTH, VIEWS, Place, load_anatomy

# Light peach → vermillion: more pain is darker (reads in greyscale and with colour-vision deficiencies).
PAIN_SCALE = [[0.0, "#FCE9D9"], [0.5, "#F0A35E"], [1.0, "#D55E00"]]
# Light → dark blue for trigger point tenderness: a different hue from pain, so the two never mix up.
TENDERNESS_SCALE = [[0.0, "#DCEBF7"], [0.5, "#56B4E9"], [1.0, "#0B3C5D"]]
REFERRAL_COLOR = OKABE_ITO["reddish_purple"]
OUTLINE_FILL, OUTLINE_LINE = "#F3F1EE", "#8C8C8C"
# Released fully: an open ring (the knot let go); partly: ring with a dot; not released / not recorded: solid.
RELEASED_SYMBOL = {"yes": "circle-open", "partial": "circle-dot", "no": "circle"}
RELEASED_TEXT = {"yes": "released", "partial": "partly released", "no": "not released"}
SIDE_TEXT = {"left": "left", "right": "right", "none": "both sides / midline"}
ZOOMS = {  # x range, y range (top, bottom) of each zoom in outline coordinates
    "body": ((0.0, BODY_WIDTH), (-10.0, BODY_HEIGHT)),
    "head": ((175.0, 365.0), (-5.0, 185.0)),
}
VIEW_TITLES = {"front": "Front", "back": "Back"}
# The ``meta.kind`` of every trace this module draws.
BODY_MAP_KINDS = frozenset({"pain_region", "referral", "trigger_points", "pick", "scale", "practice_trigger_points"})


def _outlines() -> dict[str, str]:
    return json.loads(resources.files("dashboard.charts").joinpath("body_outlines.json").read_text(encoding="utf-8"))


def _xs(place: Place, side: str | None) -> list[float]:
    """Outline x of a place for a side.  The client's right is on the viewer's left from the front."""
    mid = BODY_WIDTH / 2
    if place.x == 0:
        return [mid]
    right = mid - place.x if place.view == "front" else mid + place.x
    left = 2 * mid - right
    return {"right": [right], "left": [left]}.get(side or "none", [right, left])


def _ellipse(shape: Place, cx: float, n: int = 36) -> tuple[list, list]:
    """The shape's ellipse centred at outline x ``cx``, tilted away from the midline."""
    t = np.linspace(0, 2 * math.pi, n)
    ex, ey = shape.rx * np.cos(t), shape.ry * np.sin(t)
    # Screen y grows downwards: a positive angle moves the lower end to the left.
    angle = math.radians(shape.tilt) * (1 if cx < BODY_WIDTH / 2 else -1)
    xs = cx + ex * math.cos(angle) - ey * math.sin(angle)
    ys = shape.y + ex * math.sin(angle) + ey * math.cos(angle)
    return list(xs), list(ys)


def _region_key(term: str, places: Mapping[str, str]) -> str | None:
    """The anatomy region a term is drawn as: itself, or where the therapist placed it."""
    anatomy = load_anatomy()
    if term in anatomy.regions:
        return term
    target = places.get(term)
    return target if target in anatomy.regions else None


def _muscle_places(term: str, places: Mapping[str, str]) -> tuple[Place, ...]:
    anatomy = load_anatomy()
    key = term if term in anatomy.muscles else places.get(term)
    if key in anatomy.muscles:
        return anatomy.muscles[key].places
    if key in anatomy.regions:  # a practice muscle placed "where this region is"
        return tuple(Place(s.view, s.x, s.y) for s in anatomy.regions[key].shapes)
    return ()


def term_label(term: str) -> str:
    anatomy = load_anatomy()
    item = anatomy.muscles.get(term) or anatomy.regions.get(term)
    return item.label if item is not None else pretty(term)


def unplaced_terms(regions: pd.DataFrame, points: pd.DataFrame, places: Mapping[str, str] | None = None) -> list[str]:
    """Regions and muscles (practice terms) the body map cannot place, sorted; empty when all fit."""
    places = places or {}
    terms = {r for r in regions.get("region", pd.Series(dtype=object)).dropna() if _region_key(r, places) is None}
    terms |= {m for m in points.get("muscle", pd.Series(dtype=object)).dropna() if not _muscle_places(m, places)}
    terms |= {
        r for r in points.get("referral_region", pd.Series(dtype=object)).dropna() if _region_key(r, places) is None
    }
    return sorted(terms)


def _fmt(value) -> str:
    return "—" if value is None or pd.isna(value) else f"{float(value) + 0.0:g}"  # + 0.0: never "-0"


def _region_traces(out: list, regions: pd.DataFrame, places: Mapping[str, str], col: int) -> None:
    anatomy = load_anatomy()
    view = VIEWS[col - 1]
    for row in regions.itertuples():
        key = _region_key(row.region, places)
        if key is None:
            continue
        shapes = [s for s in anatomy.regions[key].shapes if s.view == view]
        if not shapes:
            continue
        xs, ys = [], []
        for s in shapes:
            for x in _xs(s, None):
                ex, ey = _ellipse(s, x)
                xs += ex + [None]
                ys += ey + [None]
        pain = getattr(row, "pain", None)
        known = pain is not None and not pd.isna(pain)
        color = sample_colorscale(PAIN_SCALE, [min(max(float(pain), 0.0), 10.0) / 10])[0] if known else "#E0E0E0"
        detail = getattr(row, "detail", "") or ""
        out.append(
            _trace(
                col,
                x=xs,
                y=ys,
                mode="lines",
                fill="toself",
                fillcolor=color,
                opacity=0.8,
                line=dict(color=OKABE_ITO["vermillion"] if known else GREY, width=1),
                hoveron="fills",
                hoverinfo="text",
                showlegend=False,
                text=f"{term_label(row.region)}: pain {_fmt(pain)}/10" + (f" · {detail}" if detail else ""),
                meta={"kind": "pain_region", "region": row.region, "pain": float(pain) if known else None},
            )
        )


def _referral_traces(out: list, points: pd.DataFrame, places: Mapping[str, str], col: int) -> None:
    """Each recorded referral zone as a dashed outline on the trigger point's side."""
    anatomy = load_anatomy()
    view = VIEWS[col - 1]
    if "referral_region" not in points:
        return
    seen = set()
    for row in points.dropna(subset=["referral_region"]).itertuples():
        key = _region_key(row.referral_region, places)
        if key is None or (key, row.side) in seen:
            continue
        seen.add((key, row.side))
        xs, ys = [], []
        for s in (s for s in anatomy.regions[key].shapes if s.view == view):
            for x in _xs(s, row.side):
                ex, ey = _ellipse(s, x)
                xs += ex + [None]
                ys += ey + [None]
        if xs:
            out.append(
                _trace(
                    col,
                    x=xs,
                    y=ys,
                    mode="lines",
                    line=dict(color=REFERRAL_COLOR, width=2, dash="dot"),
                    hoverinfo="text",
                    hoveron="points+fills",
                    showlegend=False,
                    text=f"Referred pain: {term_label(row.referral_region)} ({SIDE_TEXT.get(row.side, row.side)}), "
                    f"from {term_label(row.muscle)}",
                    meta={"kind": "referral", "region": row.referral_region, "side": row.side},
                )
            )


def _point_traces(out: list, points: pd.DataFrame, places: Mapping[str, str], col: int, show_scale: bool) -> None:
    anatomy = load_anatomy()
    view = VIEWS[col - 1]
    xs, ys, colors, symbols, hover, custom = [], [], [], [], [], []
    for row in points.itertuples():
        for place in (p for p in _muscle_places(row.muscle, places) if p.view == view):
            for x in _xs(place, row.side):
                tender = row.tenderness if "tenderness" in points else None
                released = row.released if "released" in points and isinstance(row.released, str) else None
                muscle = anatomy.muscles.get(row.muscle)
                manual = f"<br>Usually refers to: {', '.join(term_label(r) for r in muscle.referral)}" if muscle else ""
                when = pd.Timestamp(row.visit_date).strftime("%d %b %Y") if pd.notna(row.visit_date) else "—"
                xs.append(x)
                ys.append(place.y)
                colors.append(float(tender) if tender is not None and not pd.isna(tender) else np.nan)
                symbols.append(RELEASED_SYMBOL.get(released, "circle"))
                hover.append(
                    f"<b>{term_label(row.muscle)}</b> ({SIDE_TEXT.get(row.side, pretty(row.side))})"
                    f"<br>{_tenderness_text(tender)} · {RELEASED_TEXT.get(released, 'release not recorded')}"
                    f"<br>Visit {when}{manual}"
                )
                custom.append([row.muscle, row.side, when])
    if not xs:
        return
    open_ring = [sym == "circle-open" for sym in symbols]
    out.append(
        _trace(
            col,
            x=xs,
            y=ys,
            mode="markers",
            hovertext=hover,
            hoverinfo="text",
            customdata=custom,
            showlegend=False,
            marker=dict(
                size=15,
                symbol=symbols,
                color=[_tender_color(t) for t in colors],
                # An open ring takes its colour from the line: draw it thick in the tenderness colour.
                line=dict(
                    color=[_tender_color(t) if o else "#222222" for t, o in zip(colors, open_ring)],
                    width=[4 if o else 1.5 for o in open_ring],
                ),
            ),
            meta={"kind": "trigger_points"},
        )
    )
    if show_scale and col == 1:  # the tenderness scale, once per figure (an invisible trace carries it)
        out.append(
            _trace(
                col,
                x=[None],
                y=[None],
                mode="markers",
                showlegend=False,
                hoverinfo="skip",
                marker=dict(
                    color=[0],
                    colorscale=TENDERNESS_SCALE,
                    cmin=0,
                    cmax=10,
                    showscale=True,
                    colorbar=dict(
                        title=dict(text="Trigger point tenderness (0–10)", side="top"),
                        orientation="h",
                        x=0.5,
                        xanchor="center",
                        y=-0.01,
                        yanchor="top",
                        len=0.55,
                        thickness=10,
                    ),
                ),
                meta={"kind": "scale"},
            )
        )


def _tenderness_text(value) -> str:
    return "Tenderness not recorded" if value is None or pd.isna(value) else f"Tenderness {_fmt(value)}/10"


def _tender_color(value: float) -> str:
    """Tenderness colour; white when tenderness was not recorded."""
    return "#FFFFFF" if pd.isna(value) else sample_colorscale(TENDERNESS_SCALE, [min(max(value, 0.0), 10.0) / 10])[0]


def _pick_traces(out: list, col: int) -> None:
    """Every muscle (each side) and region as a clickable point, for marking them in Log a visit."""
    anatomy = load_anatomy()
    view = VIEWS[col - 1]
    for kind, items, symbol in (
        ("region", anatomy.regions, "diamond-open"),
        ("muscle", anatomy.muscles, "circle-open"),
    ):
        xs, ys, custom, hover = [], [], [], []
        for key, item in items.items():
            spots = item.shapes if kind == "region" else item.places
            for place in (p for p in spots if p.view == view):
                sides = ["none"] if kind == "region" or place.x == 0 else ["right", "left"]
                for side in sides:
                    for x in _xs(place, side if kind == "muscle" else "right"):
                        xs.append(x)
                        ys.append(place.y)
                        custom.append([kind, key, side])
                        hover.append(
                            f"{item.label}"
                            + (f" ({side})" if kind == "muscle" and side != "none" else "")
                            + (" · pain region" if kind == "region" else " · trigger point")
                        )
        out.append(
            _trace(
                col,
                x=xs,
                y=ys,
                mode="markers",
                customdata=custom,
                hovertext=hover,
                hoverinfo="text",
                showlegend=False,
                marker=dict(size=11 if kind == "muscle" else 9, symbol=symbol, color=GREY, line=dict(width=1.2)),
                meta={"kind": "pick", "what": kind},
            )
        )


def _trace(col: int, **spec) -> dict:
    """A scatter trace on the front (col 1) or back (col 2) panel, as a plain dict: the figure is
    validated once when it is built, which is several times faster than adding traces one by one."""
    return {"type": "scatter", "xaxis": "x" if col == 1 else "x2", "yaxis": "y" if col == 1 else "y2", **spec}


def _body_parts(
    regions: pd.DataFrame,
    points: pd.DataFrame,
    *,
    zoom: str,
    title: str,
    places: Mapping[str, str],
    pickable: bool,
    show_scales: bool,
    height: int | None,
) -> tuple[list[dict], dict]:
    (x0, x1), (y0, y1) = ZOOMS[zoom]
    outlines = _outlines()
    out: list[dict] = []
    layout: dict = {"shapes": [], "annotations": []}
    for col, view in enumerate(VIEWS, start=1):
        axis = "" if col == 1 else "2"
        domain = [0.0, 0.49] if col == 1 else [0.51, 1.0]
        layout["shapes"].append(
            dict(
                type="path",
                path=outlines[view],
                xref=f"x{axis}",
                yref=f"y{axis}",
                layer="below",
                fillcolor=OUTLINE_FILL,
                line=dict(color=OUTLINE_LINE, width=1.2),
            )
        )
        layout["annotations"].append(
            dict(
                text=VIEW_TITLES[view],
                x=sum(domain) / 2,
                y=1.0,
                xref="paper",
                yref="paper",
                xanchor="center",
                yanchor="bottom",
                showarrow=False,
                font=dict(size=14),
            )
        )
        layout[f"xaxis{axis}"] = dict(domain=domain, range=[x0, x1], visible=False, fixedrange=True)
        layout[f"yaxis{axis}"] = dict(
            domain=[0.0, 1.0], range=[y1, y0], visible=False, fixedrange=True, scaleanchor=f"x{axis}", scaleratio=1
        )
        _region_traces(out, regions, places, col)
        _referral_traces(out, points, places, col)
        if pickable:
            _pick_traces(out, col)
        _point_traces(out, points, places, col, show_scales)
    layout.update(
        title=dict(text=title, x=0, xanchor="left", font=dict(size=15)) if title else None,
        height=height or (560 if zoom == "body" else 360),
        margin=dict(l=4, r=4, t=48 if title else 28, b=56),
        plot_bgcolor="white",
        paper_bgcolor="white",
        hovermode="closest",
        dragmode=False,
        clickmode="event+select",
        font=dict(size=12),
    )
    return out, layout


def body_chart(
    regions: pd.DataFrame,
    points: pd.DataFrame,
    *,
    zoom: str = "body",
    title: str = "",
    places: Mapping[str, str] | None = None,
    pickable: bool = False,
    show_scales: bool = True,
    height: int | None = None,
) -> go.Figure:
    """Front and back of the body (or of the head and neck with ``zoom="head"``).

    ``regions``: one row per pain region, columns ``region``, ``pain`` (0–10, NaN when not
    recorded) and optional ``detail`` (hover text).  ``points``: one row per trigger point,
    columns ``muscle``, ``side``, ``visit_date`` and optional ``tenderness``, ``released``,
    ``referral_region``.  ``places`` maps a practice's own terms to the known muscle or region
    the therapist placed them at.  ``pickable`` adds every muscle and region as a clickable point.
    """
    return go.Figure(
        *_body_parts(
            regions,
            points,
            zoom=zoom,
            title=title,
            places=places or {},
            pickable=pickable,
            show_scales=show_scales,
            height=height,
        )
    )


def practice_body_chart(
    regions: pd.DataFrame,
    muscles: pd.DataFrame,
    *,
    zoom: str = "body",
    title: str = "",
    places: Mapping[str, str] | None = None,
) -> go.Figure:
    """Where a practice's clients hurt (``regions``: region, n_clients, share) and which trigger points
    are found most (``muscles``: muscle, side, n_clients): regions shaded by share of clients,
    markers sized by how many clients had a trigger point there."""
    places = places or {}
    shaded = pd.DataFrame(
        {
            "region": regions["region"],
            "pain": 10 * regions["share"] / max(regions["share"].max(), 1e-9),
            "detail": [
                f"{n} client{'s' if n != 1 else ''} ({s:.0%})" for n, s in zip(regions["n_clients"], regions["share"])
            ],
        }
    )
    out, layout = _body_parts(
        shaded,
        pd.DataFrame(columns=["muscle", "side", "visit_date"]),
        zoom=zoom,
        title=title,
        places=places,
        pickable=False,
        show_scales=False,
        height=None,
    )
    for trace in out:  # the region hover says clients, not pain
        if trace["meta"]["kind"] == "pain_region":
            trace["text"] = trace["text"].split(": pain")[0] + ": " + trace["text"].split(" · ", 1)[-1]
    most = max(int(muscles["n_clients"].max()), 1) if len(muscles) else 1
    for col, view in enumerate(VIEWS, start=1):
        xs, ys, sizes, hover, custom = [], [], [], [], []
        for row in muscles.itertuples():
            for place in (p for p in _muscle_places(row.muscle, places) if p.view == view):
                for x in _xs(place, row.side):
                    xs.append(x)
                    ys.append(place.y)
                    sizes.append(8 + 22 * math.sqrt(row.n_clients / most))
                    hover.append(
                        f"<b>{term_label(row.muscle)}</b> ({SIDE_TEXT.get(row.side, pretty(row.side))})"
                        f"<br>Trigger points found in {row.n_clients} client{'s' if row.n_clients != 1 else ''}"
                    )
                    custom.append([row.muscle, row.side, int(row.n_clients)])
        if xs:
            out.append(
                _trace(
                    col,
                    x=xs,
                    y=ys,
                    mode="markers",
                    hovertext=hover,
                    hoverinfo="text",
                    customdata=custom,
                    showlegend=False,
                    meta={"kind": "practice_trigger_points"},
                    marker=dict(size=sizes, color=OKABE_ITO["blue"], opacity=0.75, line=dict(color="white", width=1)),
                )
            )
    return go.Figure(out, layout)
