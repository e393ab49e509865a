"""Questionnaire change per client: scored, compared with the first score, classified.

Scores come from :func:`pipelines.clinical.questionnaires.score_frame` (missing-item rules there);
thresholds from the practice settings, each with its citation (``questionnaires.<NAME>.mcid``
and ``.mdc``); the verdict from :func:`pipelines.clinical.change.classify_change` with the
**anchor method**: a change in the better direction of at least the MCID is *improved*, of
at least the MCID in the worse direction *deteriorated*, else *unchanged*.  ODI also carries
a percentage criterion (``mcid_pct``, Ostelo 2008: 10 points **and** 30 %), which is applied
with the points when the settings have it.  Whether higher is better is per instrument
(PSFS and LEFS: higher; NDI, ODI and QuickDASH: lower).

Whether a change is also **reliable** (beyond measurement error) is read from the instrument's
minimal detectable change in the settings (``.mdc``: the Jacobson & Truax reliable-change threshold
``z · √2 · SEM`` as each paper published it, mostly at 90 % confidence); :func:`verdict` puts the two
together in the words the app shows ("reliable and important improvement" when both hold).

The comparison is always with the client's **first scorable** questionnaire of that
instrument (the baseline), never with the previous one, so a slow steady gain is seen.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pipelines.clinical.change import classify_change
from pipelines.clinical.questionnaires import HIGHER, INSTRUMENTS, score_frame
from pipelines.clinical.settings import threshold, threshold_source

RELIABLE_IMPORTANT_IMPROVEMENT = "reliable and important improvement"
IMPORTANT_NOT_RELIABLE = "important improvement, but within measurement error"
RELIABLE_SMALL = "reliable change, smaller than an important one"
RELIABLE_IMPORTANT_WORSENING = "reliable and important worsening"
IMPORTANT_WORSENING_NOT_RELIABLE = "important worsening, but within measurement error"
NO_IMPORTANT_CHANGE = "no important change"


def verdict(category: str | None, beyond_mdc: bool | None) -> str | None:
    """A questionnaire change in words: important (MCID, ``category``) and reliable (at least the MDC).

    "reliable and important improvement" only when both hold; an important-sized change inside the
    measurement error, or a reliable change smaller than an important one, says which part is missing.
    Without an MDC in the settings (``beyond_mdc`` None) only the importance is stated.  None when
    there is no follow-up to compare."""
    if category is None or (isinstance(category, float) and np.isnan(category)):
        return None
    known = beyond_mdc is not None and not (isinstance(beyond_mdc, float) and np.isnan(beyond_mdc))
    if category in ("improved", "recovered"):
        if not known:
            return "important improvement"
        return RELIABLE_IMPORTANT_IMPROVEMENT if beyond_mdc else IMPORTANT_NOT_RELIABLE
    if category in ("deteriorated", "harmed"):
        if not known:
            return "important worsening"
        return RELIABLE_IMPORTANT_WORSENING if beyond_mdc else IMPORTANT_WORSENING_NOT_RELIABLE
    return RELIABLE_SMALL if known and beyond_mdc else NO_IMPORTANT_CHANGE


def instrument_thresholds(instrument: str, settings: dict | None = None) -> dict[str, Any]:
    """MCID and MDC (with sources), direction, unit and range of one instrument."""
    spec = INSTRUMENTS[instrument]
    base = f"questionnaires.{instrument}"

    def value(key: str) -> tuple[float | None, str | None]:
        try:
            return float(threshold(settings, f"{base}.{key}")), threshold_source(settings, f"{base}.{key}")
        except KeyError:
            return None, None

    mcid, mcid_source = value("mcid")
    mdc, mdc_source = value("mdc")
    mcid_pct, mcid_pct_source = value("mcid_pct")
    try:
        name = str(threshold(settings, f"{base}.name"))
    except KeyError:
        name = instrument
    try:
        unit = str(threshold(settings, f"{base}.score_unit"))
    except KeyError:
        unit = spec.scale_label
    return {
        "instrument": instrument,
        "name": name,
        "higher_is_better": spec.direction == HIGHER,
        "unit": unit,
        "range": (spec.score_min, spec.score_max),
        "mcid": mcid,
        "mcid_source": mcid_source,
        "mcid_pct": mcid_pct,
        "mcid_pct_source": mcid_pct_source,
        "mdc": mdc,
        "mdc_source": mdc_source,
    }


def classify_outcomes(scored: pd.DataFrame, settings: dict | None = None) -> pd.DataFrame:
    """Add the comparison with the first score to a scored frame.

    ``scored`` is :func:`score_frame` output with ``client_id`` and ``taken_on``.  New
    columns: ``assessment`` (1, 2, … per client and instrument, in date order),
    ``baseline_date``, ``baseline_score``, ``change`` (score − baseline, in the instrument's
    units), ``improvement`` (the change in the better direction: positive = better),
    ``beyond_mdc`` (``|change| >= MDC``), ``category`` (improved / unchanged / deteriorated;
    ``None`` for the baseline itself and for unscorable rows), ``mcid`` and ``mdc``.
    """
    out = scored.copy()
    for col in (
        "assessment",
        "baseline_date",
        "baseline_score",
        "change",
        "improvement",
        "beyond_mdc",
        "category",
        "mcid",
        "mdc",
    ):
        out[col] = pd.Series([None] * len(out), index=out.index, dtype=object)
    if out.empty:
        return out
    out = out.sort_values(["client_id", "instrument", "taken_on"], kind="stable")
    out["assessment"] = out.groupby(["client_id", "instrument"]).cumcount() + 1
    ok = out["scorable"].astype(bool) & out["score"].notna()
    first = (
        out[ok]
        .groupby(["client_id", "instrument"], as_index=False)
        .first()[["client_id", "instrument", "taken_on", "score"]]
        .rename(columns={"taken_on": "baseline_date", "score": "baseline_score"})
    )
    out = out.drop(columns=["baseline_date", "baseline_score"]).merge(first, on=["client_id", "instrument"], how="left")
    out["change"] = (out["score"] - out["baseline_score"]).where(ok.to_numpy())
    categories = pd.Series([None] * len(out), index=out.index, dtype=object)
    improvement = pd.Series(np.nan, index=out.index)
    beyond = pd.Series([None] * len(out), index=out.index, dtype=object)
    mcids = pd.Series(np.nan, index=out.index)
    mdcs = pd.Series(np.nan, index=out.index)
    for name in out["instrument"].dropna().unique():
        if name not in INSTRUMENTS:
            continue
        t = instrument_thresholds(name, settings)
        rows = (out["instrument"] == name) & out["change"].notna()
        sign = 1.0 if t["higher_is_better"] else -1.0
        improvement[rows] = sign * out.loc[rows, "change"].astype(float) + 0.0  # no -0.0 at baseline
        mcids[out["instrument"] == name] = t["mcid"] if t["mcid"] is not None else np.nan
        mdcs[out["instrument"] == name] = t["mdc"] if t["mdc"] is not None else np.nan
        follow_up = rows & (out["taken_on"] != out["baseline_date"])
        if t["mcid"] is not None and follow_up.any():
            categories[follow_up] = classify_change(
                out.loc[follow_up, "baseline_score"].astype(float),
                out.loc[follow_up, "score"].astype(float),
                higher_is_better=t["higher_is_better"],
                mid=t["mcid"],
                pct=t["mcid_pct"],
            )
        if t["mdc"] is not None and follow_up.any():
            beyond[follow_up] = out.loc[follow_up, "change"].abs().astype(float) >= t["mdc"] - 1e-9
    out["improvement"] = improvement
    out["category"] = categories
    out["beyond_mdc"] = beyond
    out["mcid"] = mcids
    out["mdc"] = mdcs
    return out.reset_index(drop=True)


def score_and_classify(measures: pd.DataFrame, settings: dict | None = None) -> pd.DataFrame:
    """Rows of ``core``/``marts.outcome_measures`` (items as recorded) -> scored and classified."""
    if measures.empty:
        return classify_outcomes(
            pd.DataFrame(columns=["client_id", "taken_on", "instrument", "score", "scorable"]), settings
        )
    return classify_outcomes(score_frame(measures, errors="mark"), settings)


def outcome_summary(classified: pd.DataFrame, settings: dict | None = None) -> pd.DataFrame:
    """One row per client and instrument: first and latest scorable score, change, verdict,
    and the thresholds with their sources (what a page shows under the chart)."""
    cols = [
        "client_id",
        "instrument",
        "name",
        "n",
        "first_date",
        "first_score",
        "latest_date",
        "latest_score",
        "change",
        "improvement",
        "category",
        "beyond_mdc",
        "verdict",
        "unit",
        "higher_is_better",
        "mcid",
        "mcid_source",
        "mcid_pct",
        "mdc",
        "mdc_source",
        "n_unscorable",
    ]
    if classified.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for (client_id, name), part in classified.groupby(["client_id", "instrument"], sort=True):
        if name not in INSTRUMENTS:
            continue
        t = instrument_thresholds(name, settings)
        ok = part[part["scorable"].astype(bool) & part["score"].notna()].sort_values("taken_on")
        last = ok.iloc[-1] if len(ok) else None
        rows.append(
            {
                "client_id": client_id,
                "instrument": name,
                "name": t["name"],
                "n": len(ok),
                "first_date": ok["taken_on"].iloc[0] if len(ok) else None,
                "first_score": float(ok["score"].iloc[0]) if len(ok) else None,
                "latest_date": last["taken_on"] if last is not None else None,
                "latest_score": float(last["score"]) if last is not None else None,
                "change": float(last["change"]) if last is not None and len(ok) > 1 else None,
                "improvement": float(last["improvement"]) if last is not None and len(ok) > 1 else None,
                "category": last["category"] if last is not None and len(ok) > 1 else None,
                "beyond_mdc": last["beyond_mdc"] if last is not None and len(ok) > 1 else None,
                "verdict": verdict(last["category"], last["beyond_mdc"]) if last is not None and len(ok) > 1 else None,
                "unit": t["unit"],
                "higher_is_better": t["higher_is_better"],
                "mcid": t["mcid"],
                "mcid_source": t["mcid_source"],
                "mcid_pct": t["mcid_pct"],
                "mdc": t["mdc"],
                "mdc_source": t["mdc_source"],
                "n_unscorable": int((~part["scorable"].astype(bool)).sum()),
            }
        )
    return pd.DataFrame(rows, columns=cols)
