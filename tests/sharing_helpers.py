"""Helpers for the sharing tests: AppTest runs of the real entry point and reading what they show,
and reading the charts inside an HTML report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import streamlit as st
from google.protobuf.json_format import MessageToDict
from streamlit.testing.v1 import AppTest

from dashboard.charts.body import BODY_MAP_KINDS
from pipelines.warehouse.db import read_connection

APP = Path(__file__).resolve().parents[1] / "dashboard" / "streamlit_app.py"


def app_test(db, monkeypatch, token: str | None = None, run: bool = True) -> AppTest:
    """``dashboard/streamlit_app.py`` on database ``db`` (via ``$KNOTWORK_DB``), optionally opened
    with ``?t=token``.  Caches are cleared first: they are process-global (docs/engineering.md §3); so is
    the sign-in throttle, which each test gets fresh."""
    from dashboard import access
    from pipelines.sharing.signin import Throttle

    monkeypatch.setattr(access, "THROTTLE", Throttle())
    monkeypatch.setenv("KNOTWORK_DB", str(db))
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(APP), default_timeout=60)
    if token is not None:
        at.query_params["t"] = token
    if run:
        at.run()
    return at


def _walk(node):
    yield node
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for child in children.values():
            yield from _walk(child)


def _strings(obj, out: list[str]) -> None:
    if isinstance(obj, str):
        text = obj.strip()
        if text[:1] in "{[":
            try:
                _strings(json.loads(text), out)
                return
            except ValueError:
                pass
        out.append(obj)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _strings(k, out)
            _strings(v, out)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _strings(v, out)


def page_strings(at: AppTest) -> list[str]:
    """Every string in every element the run produced (chart specs decoded from JSON), with
    Markdown backslash escapes removed, so a search sees the text as a reader would."""
    out: list[str] = []
    for node in _walk(at._tree):
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "DESCRIPTOR"):
            _strings(MessageToDict(proto), out)
    return [re.sub(r"\\(.)", r"\1", s) for s in out]


def page_text(at: AppTest) -> str:
    return "\n".join(page_strings(at))


def plotly_specs(at: AppTest) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def client_names(db) -> dict[str, str]:
    with read_connection(db) as con:
        return dict(con.execute("SELECT client_id, display_name FROM core.clients").fetchall())


# ---------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------

PLOTLY_JS_MIN = 100_000  # the embedded library is ~4.8 MB; a figure's own script is ~15 kB


def strip_plotly_js(html: str) -> str:
    """The report with the embedded plotly.js library replaced by a marker.

    The library's own source mentions CDN and map-tile URLs as string constants (map styles,
    a topojson default) that a scatter chart never requests; the browser test proves nothing
    is fetched.  Everything *else* in the file must be free of URLs."""
    return re.sub(
        r"<script([^>]*)>(.*?)</script>",
        lambda m: m.group(0) if len(m.group(2)) < PLOTLY_JS_MIN else "<script>/*plotly.js*/</script>",
        html,
        flags=re.S,
    )


def new_plot_calls(html: str) -> list[tuple[list, dict, dict]]:
    """(data, layout, config) of every ``Plotly.newPlot(id, data, layout, config)`` in the file."""
    decoder = json.JSONDecoder()
    calls = []
    for m in re.finditer(r"Plotly\.newPlot\(", html):
        i = m.end()
        values = []
        for _ in range(4):
            while html[i] in " \n\r\t,":
                i += 1
            value, i = decoder.raw_decode(html, i)
            values.append(value)
        calls.append((values[1], values[2], values[3]))
    return calls


def decode_array(value):
    """A Plotly JSON array as a list: plain lists as they are, typed arrays
    (``{"dtype": "f8", "bdata": "…"}``, docs/engineering.md §3) decoded with numpy."""
    import base64

    import numpy as np

    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return list(value) if value is not None else []


def figure_points(traces: list[dict]) -> set[tuple[str, float]]:
    """Every (date, value) point drawn by the traces (legend-only entries skipped)."""
    points = set()
    for trace in traces:
        if (trace.get("meta") or {}).get("kind") in BODY_MAP_KINDS:
            continue  # body map places, not (date, value) points: tests/test_body_map.py checks whose they are
        xs, ys = decode_array(trace.get("x")), decode_array(trace.get("y"))
        for x, y in zip(xs, ys):
            if x is None or y is None:
                continue
            points.add((str(x)[:10], round(float(y), 3)))
    return points
