"""Import page, step 1: which saved mapping, what the file holds, and what each column becomes.

Stops the page (``st.stop``) while a choice is missing or contradictory, with the reason on screen."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from dashboard.text import md
from pipelines.ingest import mappings as M
from pipelines.ingest.contract import KINDS, normalise_header, required_columns_missing
from pipelines.ingest.validate import FIELDS

KIND_LABELS = {
    "clients": "Clients",
    "visits": "Visits",
    "rom": "Range-of-motion readings",
    "self_reports": "Pain check-ins between visits",
    "trigger_points": "Trigger points",
    "outcome_measures": "Questionnaires (NDI, ODI, PSFS, QuickDASH, LEFS)",
}
DATE_ORDERS = {
    None: "Automatic: from the file, else the practice setting",
    "day_first": "Day/month (14/03/2026)",
    "month_first": "Month/day (03/14/2026, US; Google Forms)",
}
IGNORE = "(not imported)"


@dataclass(frozen=True)
class Mapping:
    """What the therapist chose for one uploaded file."""

    profile: M.MappingProfile | None  # the saved mapping chosen, if any
    profile_name: str | None
    kind: str
    choices: dict[str, str | None]  # file column -> contract field (None: not imported)
    rename: M.ColumnMapping  # as ``pipelines.ingest.importer.ingest_file`` takes it
    date_order: str | None
    day_first: bool | None
    missing: list[str]  # required fields no column is mapped to


def _profile_and_kind(db: str, file_id: str, table) -> tuple[M.MappingProfile | None, str | None, list[str], str]:
    headers = table.headers
    profiles = M.list_profiles(db)
    fitting = [p.name for p in M.profiles_for(headers, db)]
    names = [None, *fitting, *[p.name for p in profiles if p.name not in fitting]]
    by_name = {p.name: p for p in profiles}
    left, right = st.columns(2)
    profile_name = left.selectbox(
        "Column mapping",
        names,
        index=1 if fitting else 0,
        key=f"im_profile_{file_id}",
        format_func=lambda n: (
            "None: match columns by name"
            if n is None
            else f"{n}{' (fits this file)' if n in fitting else ''}{' · built-in' if by_name[n].builtin else ''}"
        ),
        help="A saved mapping remembers which column is which, so the next export of the same form needs no clicks.",
    )
    profile = by_name.get(profile_name)
    if profile is not None and profile_name in fitting:
        left.caption(f"Applied saved mapping **{md(profile.name)}**: {md(profile.description or 'no description')}")
    detected = (profile.kind if profile and profile.kind else None) or M.guess_kind(headers, table.path.name)
    kinds = list(KINDS)
    kind = right.selectbox(
        "This file holds",
        kinds,
        index=kinds.index(detected) if detected else None,
        key=f"im_kind_{file_id}_{profile_name}",
        format_func=lambda k: KIND_LABELS[k],
        placeholder="Choose what the file holds",
    )
    if detected is None:
        right.caption("Could not tell from the columns; please choose.")
    if kind is None:
        st.stop()
    return profile, profile_name, fitting, kind


def _column_editor(file_id: str, table, profile, profile_name, fitting, kind) -> dict[str, str | None]:
    headers = table.headers
    if profile is not None and profile_name in fitting:
        wanted = {normalise_header(h): t for h, t in profile.columns.items()}
        initial = {h: (wanted.get(normalise_header(h)) or None) for h in headers}
        initial = {h: (t if t in FIELDS[kind] else None) for h, t in initial.items()}
    else:
        initial = {h: t for h, (t, _) in M.suggest_mapping(headers, kind).items()}
    first_rows = next(table.chunks()).head(50)
    examples = {
        h: ", ".join([v for v in first_rows[c].astype(str).tolist() if v.strip()][:3])[:60]
        for h, c in zip(headers, table.columns)
    }
    editor = pd.DataFrame(
        {
            "column": headers,
            "example": [examples[h] for h in headers],
            "imports_as": [initial[h] or IGNORE for h in headers],
        }
    )
    required = set(KINDS[kind].required)
    target_options = [IGNORE, *[f"{c} (required)" if c in required else c for c in FIELDS[kind]]]
    editor["imports_as"] = editor["imports_as"].map(lambda t: f"{t} (required)" if t in required else t)
    st.markdown("**Columns** — check what each column of your file becomes in Knotwork")
    edited = st.data_editor(
        editor,
        key=f"im_map_{file_id}_{profile_name}_{kind}",
        hide_index=True,
        width="stretch",
        disabled=["column", "example"],
        column_config={
            "column": st.column_config.TextColumn("Column in your file"),
            "example": st.column_config.TextColumn("First values"),
            "imports_as": st.column_config.SelectboxColumn("Imports as", options=target_options, required=True),
        },
    )
    return {
        h: (None if t in (IGNORE, None) or pd.isna(t) else str(t).replace(" (required)", ""))
        for h, t in zip(edited["column"], edited["imports_as"])
    }


def choose_mapping(db: str, file_id: str, table) -> Mapping:
    """``table``: the upload as ``pipelines.ingest.readers.open_table`` opened it."""
    profile, profile_name, fitting, kind = _profile_and_kind(db, file_id, table)
    choices = _column_editor(file_id, table, profile, profile_name, fitting, kind)
    order_default = profile.date_order if profile is not None else None
    date_order = st.radio(
        "Dates in this file",
        list(DATE_ORDERS),
        index=list(DATE_ORDERS).index(order_default),
        key=f"im_dates_{file_id}_{profile_name}",
        format_func=DATE_ORDERS.get,
        horizontal=True,
    )
    day_first = None if date_order is None else date_order == "day_first"
    try:
        rename = M.mapping_from_choices(choices, name=profile_name, kind=kind, day_first=day_first)
    except M.MappingProblem as exc:
        st.error(f"{exc}. Set one of them to '{IGNORE}'.", icon=":material/block:")
        st.stop()
    missing = required_columns_missing(kind, set(t for t in choices.values() if t))
    if missing:
        st.error(
            f"A {KIND_LABELS[kind].lower()} file needs a column for **{missing[0]}**: choose which column it is above.",
            icon=":material/block:",
        )
    return Mapping(profile, profile_name, kind, choices, rename, date_order, day_first, missing)
