"""Technique response: what works in this practice, which mixes, how sure, for whom - plain words first.

Thin page: filters in, ``dashboard.queries.techniques`` (cached analysis from the one front door
``pipelines.techniques.analysis``), ``dashboard.technique_summary`` (the opening sentences), the
sections in ``dashboard.components.technique_sections`` and the drill-down in
``dashboard.components.technique_drill`` out.  Every estimate is shown with its n and 95 % interval;
method details sit in an expander.
"""

from __future__ import annotations

import streamlit as st

from dashboard import technique_summary
from dashboard.components import technique_drill, technique_sections
from dashboard.queries import techniques as tqq
from dashboard.queries import therapist as queries
from pipelines.techniques.common import OUTCOMES

db = queries.current_db()
ver = queries.version(db)
settings = queries.practice_settings(db)
min_n = tqq.min_clients(settings)

st.title("Technique response")
st.caption(
    "Which techniques and mixes go with more relief in this practice: every client is compared with "
    "themselves, given pain before the visit, visit number and pressure."
)

opts = tqq.options(db, ver)
if opts["first_date"] is None:
    st.info(
        "No visits yet. Technique response needs visits with techniques and pain before and after; import them "
        "with `knotwork ingest visits.csv …`, or try the demo practice with `knotwork demo`.",
        icon=":material/science:",
    )
    st.stop()

outcome, regions, filters = technique_sections.filter_bar(opts)
oc = OUTCOMES[outcome]
rep = tqq.report(db, ver, outcome, *filters, min_n)
large = tqq.is_large(db, ver, *filters)

if rep.n_visits == 0 or rep.method == "none":
    st.info(
        f"No visits match these filters with {oc.label.lower()} recorded"
        + (f" ({', '.join(f'{n} {why}' for why, n in rep.excluded.items())})" if rep.excluded else "")
        + ". Widen the filters or choose another outcome.",
        icon=":material/filter_alt_off:",
    )
    st.stop()

# Plain words first, then the forest plot and the mix ranking; method details behind an expander
st.markdown("\n\n".join(technique_summary.summary(rep, regions or opts["regions"])))
technique_sections.techniques(rep, oc, min_n)
technique_sections.mixes(rep, oc)
technique_sections.method(rep)
technique_sections.tabs(db, ver, settings, rep, oc, filters, min_n)
technique_drill.render(db, ver, rep, filters, large)
