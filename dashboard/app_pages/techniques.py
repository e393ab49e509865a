"""Technique response: what works in this practice, which mixes, how sure, for whom - plain words first.

Thin page: filters in, ``dashboard.queries.techniques`` (cached analysis from the one front door
``pipelines.techniques.analysis``), ``dashboard.technique_summary`` (the opening sentences) and
``dashboard.charts.techniques`` out.  Every estimate is shown with its n and 95 % interval;
method details sit in an expander.
"""

from __future__ import annotations

import streamlit as st

from dashboard import technique_summary
from dashboard.charts import techniques as tc
from dashboard.charts.progress import PLOTLY_CONFIG, pretty
from dashboard.queries import techniques as tqq
from dashboard.queries import therapist as queries
from pipelines.techniques.common import METHOD_NOTES, MIN_VISITS_PER_MIX, OUTCOMES

db = queries.current_db()
ver = queries.version(db)
settings = queries.practice_settings(db)
min_n = tqq.min_clients(settings)

st.title("Technique response")
intro = st.empty()  # filled once the method is known (it depends on the practice's size)

opts = tqq.options(db, ver)
if opts["first_date"] is None:
    st.info(
        "No visits yet. Technique response needs visits with techniques and pain before and after; import them "
        "with `knotwork ingest visits.csv …`, or try the demo practice with `knotwork demo`.",
        icon=":material/science:",
    )
    st.stop()

# --- Filters --------------------------------------------------------------------------------
first, last = opts["first_date"], opts["last_date"]
with st.container(horizontal=True):
    outcome = st.selectbox("Outcome", list(OUTCOMES), format_func=lambda k: OUTCOMES[k].label, key="tq_outcome")
    regions = st.multiselect(
        "Complaint region",
        opts["regions"],
        format_func=pretty,
        key="tq_regions",
        select_all=False,
        placeholder="All regions",
    )
    therapists = st.multiselect(
        "Therapist", opts["therapists"], key="tq_therapists", select_all=False, placeholder="All therapists"
    )
    dates = st.date_input(
        "Visit dates", value=(first, last), min_value=first, max_value=last, key="tq_dates", format="YYYY-MM-DD"
    )
dates = tuple(dates) if isinstance(dates, (tuple, list)) else (dates,)
date_from = dates[0] if len(dates) >= 1 else None
date_to = dates[1] if len(dates) >= 2 else None
# the whole range is no date filter at all: same visits, and one cache entry (and the importer's
# stored result of a large practice) serves both
if date_from is not None and date_from <= first:
    date_from = None
if date_to is not None and date_to >= last:
    date_to = None
filters = (tuple(regions) or None, tuple(therapists) or None, date_from, date_to)
oc = OUTCOMES[outcome]

rep = tqq.report(db, ver, outcome, *filters, min_n)
large = tqq.is_large(db, ver, *filters)
intro.caption(
    "Which techniques and mixes go with more relief in this practice: every client is compared with "
    "themselves, given pain before the visit, visit number and pressure."
)

if rep.n_visits == 0 or rep.method == "none":
    st.info(
        f"No visits match these filters with {oc.label.lower()} recorded"
        + (f" ({', '.join(f'{n} {why}' for why, n in rep.excluded.items())})" if rep.excluded else "")
        + ". Widen the filters or choose another outcome.",
        icon=":material/filter_alt_off:",
    )
    st.stop()

# --- Plain words first ------------------------------------------------------------------------
st.markdown("\n\n".join(technique_summary.summary(rep, list(regions) or opts["regions"])))

# --- Forest plot and mix ranking --------------------------------------------------------------
st.plotly_chart(
    tc.forest_plot(
        rep.techniques,
        axis_title=oc.axis_title,
        min_clients=min_n,
        higher_is_better=oc.higher_is_better,
        title="Each technique, with its 95 % interval",
    ),
    config=PLOTLY_CONFIG,
    key="tq_forest",
)
st.caption(
    f"Points: how much the outcome changed on a client's visits with the technique compared with the same "
    f"client's visits without it ({oc.unit}; {oc.direction}); bars: 95 % intervals. Grey rows: fewer than "
    f"{min_n} clients had visits both with and without it, so only the counts are shown."
)
st.dataframe(
    tc.technique_table(rep.techniques),
    hide_index=True,
    key="tq_table",
    column_config={
        "Visits": st.column_config.NumberColumn(format="localized"),
        "Clients": st.column_config.NumberColumn(format="localized"),
    },
)
if rep.sensitivity_note:  # the estimate with pain before corrected for measurement error, beside the main one
    (st.warning if "extra care" in rep.sensitivity_note else st.caption)(rep.sensitivity_note)

st.subheader("Which mixes work")
est_mixes = rep.mixes[rep.mixes["estimable"]] if len(rep.mixes) else rep.mixes
if len(est_mixes):
    st.plotly_chart(
        tc.forest_plot(
            est_mixes.head(25),
            axis_title=oc.axis_title.replace("Adjusted change", "Predicted change with exactly this mix"),
            label_col="mix",
            label=tc.mix_label,
            higher_is_better=oc.higher_is_better,
            adjustment="BH",
            title="Mixes, best first",
        ),
        config=PLOTLY_CONFIG,
        key="tq_mix_forest",
    )
st.caption(
    f"A mix's effect is the predicted change with exactly that mix compared with a visit with none of its "
    f"techniques: its techniques' effects added up, plus any synergy the data support. The observed mean is "
    f"the plain average change in the visits that had exactly that mix. Mixes used in fewer than "
    f"{MIN_VISITS_PER_MIX} visits show counts only. The ranking is exploratory (p-values Benjamini–Hochberg "
    "adjusted)."
)
if len(rep.mixes):
    st.dataframe(
        tc.mix_table(rep.mixes),
        hide_index=True,
        key="tq_mixes",
        column_config={
            "Visits": st.column_config.NumberColumn(format="localized"),
            "Clients": st.column_config.NumberColumn(format="localized"),
        },
    )

with st.expander("How these numbers are made", icon=":material/functions:"):
    st.markdown(
        f"**Method:** {rep.method}. **Adjusted for:** {', '.join(rep.adjusted_for)}. "
        f"{rep.n_visits:,} visits of {rep.n_clients:,} clients"
        + (
            "; left out: " + "; ".join(f"{n:,} visits with {why}" for why, n in rep.excluded.items())
            if rep.excluded
            else ""
        )
        + "."
    )
    st.markdown("\n".join(f"- {note}" for note in (*METHOD_NOTES, *rep.caveats)))
    for warning in rep.warnings:
        st.warning(warning, icon=":material/warning:")

# --- Pairs, pressure, subgroups, teaching ------------------------------------------------------
tab_pairs, tab_pressure, tab_region, tab_teach = st.tabs(["Pairs", "Pressure", "By complaint region", "Why adjust?"])

with tab_pairs:
    st.caption(
        "A pair's synergy is what the two add beyond the sum of their separate effects, within clients; shown "
        f"where at least {min_n} clients had both and {min_n} each had one without the other. A synergy chosen "
        "for the main model is shown with its interval only; the others are a screen (Benjamini–Hochberg)."
    )
    if rep.pairs.empty:
        st.caption("No two techniques were used together often enough in these visits.")
    else:
        st.dataframe(tc.pair_table(rep.pairs), hide_index=True, key="tq_pairs")

with tab_pressure:
    st.plotly_chart(
        tc.pressure_chart(rep.pressure, axis_title=f"Adjusted mean change ({oc.unit})"),
        config=PLOTLY_CONFIG,
        key="tq_pressure",
    )
    st.caption(
        f"Mean change at each pressure, with the other covariates as they were; levels used with fewer than "
        f"{min_n} clients show counts only. Pressure is chosen with the client's tolerance, so this too is an "
        "association."
    )

with tab_region:
    st.caption(
        "Each complaint region analysed on its own (same model); Benjamini–Hochberg across the whole table. "
        "Small regions show counts only."
    )
    if st.toggle("Estimate within each complaint region", key="tq_by_region"):
        sub = tqq.by_region(db, ver, outcome, *filters, min_n)
        st.dataframe(tc.subgroup_table(sub), hide_index=True, key="tq_region_table")

with tab_teach:
    st.info(
        f"**Unadjusted difference — not an effect.** The orange diamonds are the plain mean {oc.unit} in visits "
        "with a technique minus visits without it. They mix the technique up with why it was chosen and with who "
        "got it. The blue points are the within-client estimates above. Shown for teaching only.",
        icon=":material/school:",
    )
    if int(rep.techniques["estimable"].sum()):
        st.plotly_chart(
            tc.adjusted_vs_unadjusted_chart(
                rep.techniques,
                higher_is_better=oc.higher_is_better,
                axis_title=oc.axis_title.replace("Adjusted change", "Change"),
            ),
            config=PLOTLY_CONFIG,
            key="tq_teach",
        )

# --- Drill-down -------------------------------------------------------------------------------
st.subheader("Visits behind an estimate")
kind = st.radio("Look at", ["Technique", "Mix"], horizontal=True, key="tq_drill_kind")
if kind == "Technique":
    choices = list(rep.techniques.sort_values("n_visits", ascending=False)["technique"])
    picked = st.selectbox("Technique", choices, format_func=pretty, key="tq_drill")
    what = f"used {pretty(picked).lower()}"
    drill_args = (picked, None)
else:
    choices = list(rep.mixes.sort_values("n_visits", ascending=False)["mix"])
    picked = st.selectbox("Mix", choices, format_func=tc.mix_label, key="tq_drill_mix")
    what = f"had exactly {tc.mix_label(picked).lower()}"
    drill_args = (None, picked)
rows = None
if large:  # never the whole visit frame at this size: on request, the newest visits and the full count from SQL
    if st.toggle(
        "List the visits",
        key="tq_drill_show",
        help="A practice this size has up to a million visits behind one technique: they are looked "
        f"up when asked for, and the newest {tqq.DRILL_LIMIT} are listed.",
    ):
        rows, n_rows, n_row_clients = tqq.drill(db, ver, *drill_args, *filters)
        shown = f" The newest {len(rows):,} are listed." if len(rows) < n_rows else ""
else:
    frame = tqq.visits(db, ver, *filters)
    rows = tqq.technique_visits(frame, technique=drill_args[0], mix=drill_args[1])
    n_rows, n_row_clients, shown = len(rows), rows["client_id"].nunique(), ""
if rows is not None:
    st.caption(
        f"{n_rows:,} visits of {n_row_clients:,} clients {what} (with the filters above; the "
        "model uses those with the outcome and pain before recorded)." + shown
    )
    rows = rows.assign(technique_set=rows["technique_set"].map(tc.mix_label))
    st.dataframe(
        rows.rename(
            columns={
                "visit_id": "Visit",
                "client_id": "Client",
                "visit_date": "Date",
                "visit_number": "Visit no.",
                "therapist": "Therapist",
                "complaint_region": "Complaint region",
                "pressure": "Pressure",
                "technique_set": "Techniques",
                "pain_pre": "Pain before",
                "pain_post": "Pain after",
                "pain_change": "Change",
                "carryover_change": "Carry-over",
                "self_report_change": "Self-report change (7 d)",
                "rom_mean_change_deg": "ROM change (°)",
            }
        ),
        hide_index=True,
        key="tq_drill_table",
        column_config={
            "Date": st.column_config.DateColumn(format="D MMM YYYY"),
            "Pressure": st.column_config.NumberColumn(format="%d"),
            "Change": st.column_config.NumberColumn(format="%+.1f"),
            "Carry-over": st.column_config.NumberColumn(format="%+.1f"),
            "Self-report change (7 d)": st.column_config.NumberColumn(format="%+.1f"),
            "ROM change (°)": st.column_config.NumberColumn(format="%+.1f"),
        },
    )
