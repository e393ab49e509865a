"""Client progress: "What seems to help this client" (this client's own technique response), and
the expected course on the pain chart.

One call from the page for each: :func:`render`; :func:`expected_course` + :func:`course_caption`.  Plain words first (a one-sentence summary and one
sentence per technique with a clear answer), the chart and the numbers second, ordered by
evidence (clear answers, narrowest interval first; "cannot tell yet" last).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.charts.client_response import client_response_chart
from dashboard.charts.course import add_expected_course
from dashboard.charts.progress import PLOTLY_CONFIG, pretty
from dashboard.components import response_words as words
from dashboard.queries import client_response as queries
from pipelines.techniques.client_response import CANNOT_TELL, HELPS, MIN_CLIENTS, RELIEF_POINTS, WORSE, points
from pipelines.techniques.course import AHEAD, BEHIND, standing
from pipelines.techniques.suggest import DROP, KEEP, TRY

METHOD = (
    "How this is worked out: within this client, visits with a technique are compared with their visits without "
    "it (after allowing for pain before the visit and the visit number, and for the other techniques used), then "
    "pulled toward the practice's typical client as much as this client's own visits warrant: few visits, "
    "strong pull. The interval carries the uncertainty of the practice effect and of how much clients differ "
    "(two-stage hierarchical model: Zucker et al., J Clin Epidemiol 1997;50:401–10; Gelman et al., Bayesian Data "
    f'Analysis, ch. 5). "Chance of ≥ {RELIEF_POINTS:g} point more relief": {RELIEF_POINTS:g} point is about the '
    "smallest change a person notices (Salaffi et al., Eur J Pain 2004;8:283–91). Techniques are chosen by the "
    "therapist, not at random, so this describes this client's visits; a fair trial gives a real answer."
)


def _table(rows: pd.DataFrame) -> pd.DataFrame:
    def interval(r) -> str:
        return "—" if pd.isna(r["ci_low"]) else f"{points(r['ci_low'])} to {points(r['ci_high'])}"

    def note(r) -> str:
        if r["verdict"] == CANNOT_TELL:
            return "cannot tell yet (below)"
        return {HELPS: "helps", WORSE: "more pain"}.get(r["verdict"], "not enough visits to tell")

    return pd.DataFrame(
        {
            "Technique": rows["technique"].map(pretty),
            "This client": rows["effect"].map(points),
            "95 % interval": rows.apply(interval, axis=1),
            f"Chance of ≥ {RELIEF_POINTS:g} pt more relief": rows["p_more_relief"].map(
                lambda p: "—" if pd.isna(p) else f"{p:.0%}"
            ),
            "Visits with": rows["n_visits_with"].astype(int),
            "Visits without": rows["n_visits_without"].astype(int),
            "Practice": rows["practice_effect"].map(points),
            "Note": rows.apply(note, axis=1),
        }
    )


ACTION_ICONS = {KEEP: ":material/check_circle:", TRY: ":material/lightbulb:", DROP: ":material/do_not_disturb_on:"}


def _suggestion(db: str, ver: str, client_id: str) -> None:
    suggestions = queries.suggestions(db, ver, client_id)
    if not suggestions:
        return
    with st.container(border=True):
        st.markdown("**A suggestion for the next visit**")
        st.markdown(
            "\n".join(
                f"- {ACTION_ICONS[s.action]} **{s.action.capitalize()}: {pretty(s.technique)}**, because {s.reason}."
                for s in suggestions
            )
        )
        st.caption(
            "A suggestion from this client's visits and the practice's history, not an instruction: "
            "the choice is yours and the client's. Write what you decide in the visit's plan."
        )


def render(db: str, ver: str, client_id: str) -> None:
    st.markdown("**What seems to help this client**")
    reason = queries.client_reason(db, ver, client_id)
    rows = queries.client_rows(db, ver, client_id)
    if reason:
        st.info(f"Cannot tell yet which techniques help this client, because {reason}.", icon=":material/info:")
        return
    if rows.empty:
        st.info("No techniques recorded for this client's visits.", icon=":material/info:")
        return
    records = rows.to_dict("records")
    st.markdown(words.summary(records))
    clear = [r for r in records if r["verdict"] in (HELPS, WORSE)]
    if clear:
        st.markdown("\n".join(f"- {words.therapist_sentence(r)}" for r in clear))
    _suggestion(db, ver, client_id)
    if rows["effect"].notna().any():
        st.plotly_chart(client_response_chart(rows), config=PLOTLY_CONFIG, key="cp_client_response")
    elif (rows["n_clients_practice"] < MIN_CLIENTS).all():
        st.info(
            f"The practice needs at least {MIN_CLIENTS} clients with visits both with and without a technique "
            "before one client's response can be told apart from chance.",
            icon=":material/groups:",
        )
    st.dataframe(
        _table(rows),
        hide_index=True,
        key="cp_response",
        height=38 + 35 * len(rows),
        column_config={
            "This client": st.column_config.TextColumn(
                help="Change in pain with vs without the technique for this client (points; negative = more relief)",
                alignment="right",
            ),
            "Practice": st.column_config.TextColumn(
                help="The same for the practice's typical client", alignment="right"
            ),
        },
    )
    cannot = [r for r in records if r["verdict"] == CANNOT_TELL]
    if cannot:
        st.markdown("\n".join(f"- {words.therapist_sentence(r)}" for r in cannot))
    st.caption(
        "From all of this client's visits (not only the dates chosen above). Negative = less pain with the "
        "technique than without it. " + METHOD
    )


def expected_course(db: str, ver: str, client_id: str, start, end, fig) -> pd.DataFrame:
    """Draw the expected course (at the visits in the chosen dates) onto the pain chart ``fig``."""
    course = queries.client_course(db, ver, client_id)
    dates = pd.to_datetime(course["visit_date"]).dt.date
    shown = course[(dates >= start) & (dates <= end)]
    add_expected_course(fig, shown)
    return course


STANDING_WORDS = {
    AHEAD: "**ahead of expected**: less pain than most clients like this at the same visit",
    BEHIND: "**behind expected**: more pain than most clients like this at the same visit",
}


def course_caption(course: pd.DataFrame) -> None:
    where = standing(course)
    if where is None:
        return
    text = STANDING_WORDS.get(where, "**as expected**")
    st.markdown(
        f"Compared with the practice's own clients like this one (same starting pain, complaint region and "
        f"age band) at the latest visit: {text}."
    )
    st.caption(
        "Grey band: where 80 % of such clients' pain before the visit falls, from the practice's history "
        "(checked on clients left out of the fit), in the manner of the risk-adjusted predicted outcomes used "
        "in outpatient rehabilitation (FOTO); band from residuals of fits without each client (CV+: Barber "
        "et al., Ann Statist 2021;49:486–507)."
    )
