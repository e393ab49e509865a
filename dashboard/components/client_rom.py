"""Client progress: "Range of motion", one chart per movement with its normal range and measurement error."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard import metrics
from dashboard.charts import progress as charts
from dashboard.queries import therapist as queries
from pipelines.clinical.settings import threshold_source


def rom_section(db: str, ver: str, client_id: str, start: dt.date, end: dt.date, settings: dict) -> None:
    st.subheader("Range of motion")
    series = metrics.rom_series(queries.client_rom(db, ver, client_id, start, end), settings)
    if not series:
        st.info("No range-of-motion readings recorded for this client in these dates.", icon=":material/straighten:")
        return
    cols = st.columns(2)
    for i, s in enumerate(series):
        label = f"normal {s.normal:g}°" if s.normal else ""
        fig = charts.rom_chart(s.readings, title=s.title, normal=s.normal, normal_label=label, mdc=s.mdc)
        cols[i % 2].plotly_chart(fig, config=charts.PLOTLY_CONFIG, key=f"cp_rom_{i}")
    sources = sorted({metrics.cite(s.normal_source) for s in series if s.normal_source})
    mdcs = sorted({s.mdc for s in series})
    st.caption(
        "**Blue**: before the visit. **Orange**: after the visit; filled when the change is larger than the "
        f"measurement error (MDC {', '.join(f'{m:g}°' for m in mdcs)}), hollow when it is within it and may not be "
        "real. **Dashed line**: normal active range (" + "; ".join(sources) + "). MDC: "
        f"{metrics.cite(threshold_source(settings, 'rom.mdc_same_rater_extremity_goniometer'))}; "
        f"{metrics.cite(threshold_source(settings, 'rom.mdc_spine_crom_or_between_raters'))}."
    )
