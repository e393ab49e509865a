"""A client's current pain status from their recent readings together, not from the last one.

One function, :func:`current_status`, gives the status every surface shows: the Client progress
headline, Needs attention on the practice overview, the client's own view and link, and the
report.  Pure pandas in and out, one row per client, so the practice list (every client at once)
and one client's page use exactly the same rule.

Why not the latest reading: the NPRS varies by about a point from one day to the next with no
real change (SEM 1.02 points, Childs JD et al. *Spine* 2005;30:1331-4), so one bad day after
months at 2-3 swings a client from "clinically important improvement" to "worse".

The rule, with the thresholds from the practice settings:

* **Readings**: pain before each visit and the client's own check-ins, in time order.  The
  baseline is the first pain score before a visit; readings count from the day after it.
* **Current level**: the median of the last :data:`LEVEL_READINGS` readings.  A median of three
  ignores one odd reading in either direction, and moves as soon as two readings agree.  Its
  95 % interval is ``level ± 1.96 · SEM · f(n)``, where ``f(n)`` is the standard error of a
  median of ``n`` readings in units of one reading's error (:data:`MEDIAN_SE_FACTOR`).
* **Reliable change** (Jacobson NS, Truax P. *J Consult Clin Psychol* 1991;59:12-19): the change
  from baseline to the level is beyond measurement error at 95 % when it is at least
  ``1.96 · √(SEM² + (SEM · f(n))²)``: the J&T ``1.96 · S_diff`` with the level's own, smaller
  error.  The SEM is the practice setting ``pain.sem`` (J&T's ``sd · √(1 − r)``; with the
  settings' test-retest reliability 0.76 it is that of a baseline SD of about 2 points).
* **Status** (the constants of :mod:`pipelines.clinical.change`):

  - *clinically important improvement*: the level is at least ``pain.mcid_points`` and at
    least ``pain.mcid_pct`` % below baseline (Farrar JT et al. *Pain* 2001;94:149-58) **and**
    the drop is a reliable change;
  - *some improvement*: lower, by at least the minimal change (Salaffi F et al. *Eur J Pain*
    2004;8:283-91), or important but not yet beyond measurement error;
  - *worse*: the level is up by a reliable change, **or** the last two readings are both at
    least ``pain.worse_points`` above baseline (a rise that persists, not one bad day);
  - *no important change*: everything else.

* **The latest reading in words**, beside the level: compared with the client's usual (the
  median and range of the readings before it), at least ``pain.mdc`` points above is a
  *flare-up*, as far below is *a good day*, anything else is *as usual*.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from pipelines.clinical.change import (
    PAIN_CLINICALLY_IMPORTANT,
    PAIN_NO_CHANGE,
    PAIN_SOME,
    PAIN_WORSE,
    RCI_Z95,
    pain_status,
)
from pipelines.clinical.settings import threshold

LEVEL_READINGS = 3
# Readings before the latest that describe the client's "usual".
USUAL_READINGS = 3
# Standard error of the median of n independent readings, in units of one reading's error:
# n = 1 the reading, n = 2 their mean (1/√2), n = 3 √0.4487 (variance of the median of three
# standard normal values; 0.4485 by simulation of 2 million triples).
MEDIAN_SE_FACTOR = {1: 1.0, 2: math.sqrt(0.5), 3: math.sqrt(0.4487)}

VISIT, CHECK_IN = "visit", "check-in"
FLARE_UP, GOOD_DAY, AS_USUAL = "flare-up", "good day", "as usual"

COLUMNS = [
    "client_id",
    "status",
    "baseline",
    "baseline_date",
    "level",
    "level_low",
    "level_high",
    "n_level",
    "change",
    "pct_change",
    "reliable_change",
    "reliable",
    "persistent_rise",
    "latest",
    "latest_at",
    "latest_source",
    "usual",
    "usual_low",
    "usual_high",
    "n_usual",
    "latest_vs_usual",
    "n_readings",
    "missing",
]


def readings_from(visits: pd.DataFrame, checkins: pd.DataFrame | None = None) -> pd.DataFrame:
    """One client's readings (``client_id``, ``at``, ``pain``, ``source``) from visit rows
    (``client_id``, ``visit_date``, ``pain_pre``) and check-in rows (``reported_at``, ``pain``)."""
    parts = []
    if visits is not None and len(visits):
        v = visits[visits["pain_pre"].notna()]
        parts.append(
            pd.DataFrame(
                {
                    "client_id": v["client_id"].to_numpy() if "client_id" in v else None,
                    "at": pd.to_datetime(v["visit_date"]).to_numpy(),
                    "pain": v["pain_pre"].astype(float).to_numpy(),
                    "source": VISIT,
                }
            )
        )
    if checkins is not None and len(checkins):
        c = checkins[checkins["pain"].notna()]
        parts.append(
            pd.DataFrame(
                {
                    "client_id": c["client_id"].to_numpy() if "client_id" in c else None,
                    "at": pd.to_datetime(c["reported_at"]).to_numpy(),
                    "pain": c["pain"].astype(float).to_numpy(),
                    "source": CHECK_IN,
                }
            )
        )
    if not parts:
        return pd.DataFrame(
            {
                "client_id": pd.Series(dtype=object),
                "at": pd.Series(dtype="datetime64[ns]"),
                "pain": pd.Series(dtype=float),
                "source": pd.Series(dtype=object),
            }
        )
    return pd.concat(parts, ignore_index=True)


def current_status(readings: pd.DataFrame, baselines: pd.DataFrame, settings: dict | None = None) -> pd.DataFrame:
    """The current pain status of every client in ``baselines`` (see the module docstring).

    ``readings``: ``client_id``, ``at`` (date or timestamp), ``pain`` (0-10), ``source``
    (``"visit"`` / ``"check-in"``); for each client at least the last ``LEVEL_READINGS + 1``
    (the practice list reads only those), or all of them.
    ``baselines``: ``client_id``, ``baseline`` (first pain before a visit, NaN if none),
    ``baseline_date``.

    Returns one row per client (:data:`COLUMNS`).  ``status`` is None, and ``missing`` says in
    plain words what is missing, when there is no baseline or no reading after it.
    """
    sem = float(threshold(settings, "pain.sem"))
    worse_points = float(threshold(settings, "pain.worse_points"))
    mdc = float(threshold(settings, "pain.mdc"))

    base = baselines[["client_id", "baseline", "baseline_date"]].drop_duplicates("client_id").reset_index(drop=True)
    base["baseline"] = pd.to_numeric(base["baseline"], errors="coerce").astype(float)
    base["baseline_date"] = pd.to_datetime(base["baseline_date"])
    # Clients as positions 0..n-1: grouping and joining on integers, not on 100,000 text ids.
    key = pd.Index(base["client_id"].astype(object)).get_indexer(readings["client_id"].astype(object))
    keep = (key >= 0) & readings["pain"].notna().to_numpy()
    r = pd.DataFrame(
        {
            "k": key[keep],
            "at": pd.to_datetime(readings["at"]).to_numpy()[keep],
            "pain": readings["pain"].to_numpy(dtype=float, na_value=np.nan)[keep],
            "is_visit": (readings["source"] == VISIT).to_numpy(dtype=bool)[keep],
        }
    )
    n_all = pd.Series(np.bincount(r["k"], minlength=len(base)))
    # Readings after the baseline day; with no baseline every reading counts toward the level.
    first_day = base["baseline_date"].to_numpy()[r["k"].to_numpy()]
    r = r[pd.isna(first_day) | (r["at"].dt.normalize().to_numpy() > first_day)]
    # On the same instant a visit counts as later than a check-in (as the practice readings query orders them).
    r = r.sort_values(["k", "at", "is_visit"], kind="stable")
    r["back"] = r.groupby("k").cumcount(ascending=False)  # 0 = the latest reading

    g_level = r[r["back"] < LEVEL_READINGS].groupby("k")["pain"]
    g_usual = r[(r["back"] >= 1) & (r["back"] <= USUAL_READINGS)].groupby("k")["pain"]
    latest = r[r["back"] == 0].set_index("k")
    last_two = r[r["back"] < 2]
    high = last_two["pain"].to_numpy() >= base["baseline"].to_numpy()[last_two["k"].to_numpy()] + worse_points - 1e-9
    rising = pd.Series(high).groupby(last_two["k"].to_numpy()).sum()

    out = base.copy()
    out["level"] = g_level.median()
    out["n_level"] = g_level.size()
    out["usual"] = g_usual.median()
    out["usual_low"] = g_usual.min()
    out["usual_high"] = g_usual.max()
    out["n_usual"] = g_usual.size()
    out["latest"] = latest["pain"]
    out["latest_at"] = latest["at"]
    out["latest_source"] = latest["is_visit"].map({True: VISIT, False: CHECK_IN})
    out["n_readings"] = n_all
    out["n_level"] = out["n_level"].fillna(0).astype(int)
    out["n_usual"] = out["n_usual"].fillna(0).astype(int)
    out["n_readings"] = out["n_readings"].fillna(0).astype(int)

    factor = out["n_level"].map(MEDIAN_SE_FACTOR).astype(float)
    half = RCI_Z95 * sem * factor
    out["level_low"] = (out["level"] - half).clip(lower=0.0)
    out["level_high"] = (out["level"] + half).clip(upper=10.0)
    has = out["baseline"].notna() & out["level"].notna()
    out["change"] = np.where(has, out["level"] - out["baseline"], np.nan)
    out["pct_change"] = np.where(has & (out["baseline"] > 0), out["change"] / out["baseline"] * 100, np.nan)
    out["reliable_change"] = RCI_Z95 * sem * np.sqrt(1.0 + factor**2)
    out["reliable"] = has & (out["change"].abs() >= out["reliable_change"] - 1e-9)
    out["persistent_rise"] = has & (rising.reindex(out.index).fillna(0).to_numpy() >= 2)

    anchor = pd.Series(pain_status(out["baseline"], out["level"], settings), index=out.index, dtype=object)
    status = pd.Series(PAIN_NO_CHANGE, index=out.index, dtype=object)
    down = has & (out["change"] < 0)
    status[down & anchor.isin([PAIN_SOME, PAIN_CLINICALLY_IMPORTANT])] = PAIN_SOME
    status[down & (anchor == PAIN_CLINICALLY_IMPORTANT) & out["reliable"]] = PAIN_CLINICALLY_IMPORTANT
    status[has & (out["change"] > 0) & (out["reliable"] | out["persistent_rise"])] = PAIN_WORSE
    status[~has] = None
    out["status"] = status

    gap = out["latest"] - out["usual"]
    out["latest_vs_usual"] = np.where(
        out["usual"].isna() | out["latest"].isna(),
        None,
        np.where(gap >= mdc - 1e-9, FLARE_UP, np.where(gap <= -mdc + 1e-9, GOOD_DAY, AS_USUAL)),
    )
    out["missing"] = [_missing(b, n_lv, n) for b, n_lv, n in zip(out["baseline"], out["n_level"], out["n_readings"])]
    return out[COLUMNS]


def _missing(baseline: float, n_level: int, n_readings: int) -> str | None:
    if n_readings == 0:
        return "No pain scores are recorded yet, so there is nothing to judge."
    if pd.isna(baseline):
        return (
            "Only the client's own check-ins have pain scores: a baseline needs a pain score before a visit, "
            "so progress cannot be judged yet."
        )
    if n_level == 0:
        return "Only one pain score so far: this is the baseline. Progress shows from the next reading."
    return None


def fmt(x) -> str:
    """A pain score as shown: '6', '2.5'; '—' when missing; never '-0'."""
    if x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA:
        return "—"
    return f"{round(float(x), 1) + 0.0:g}"


def usual_range(row) -> str:
    low, high = row["usual_low"], row["usual_high"]
    return fmt(low) if fmt(low) == fmt(high) else f"{fmt(low)}–{fmt(high)}"


def latest_words(row, today=None, whose: str = "the client's") -> str | None:
    """The latest reading beside the level, in words: "6 today (a check-in), above the client's
    usual 2–3: a flare-up".  ``row`` is one row of :func:`current_status`; ``whose`` is
    "the client's" on therapist pages and "your" in the client's own view."""
    if pd.isna(row["latest"]):
        return None
    when = _when(row["latest_at"], today)
    source = " (a check-in)" if row["latest_source"] == CHECK_IN else " (before the visit)"
    text = f"{fmt(row['latest'])} {when}{source}"
    kind = row["latest_vs_usual"]
    if kind is None or (isinstance(kind, float) and math.isnan(kind)):
        return text
    usual = usual_range(row)
    if kind == FLARE_UP:
        return f"{text}, above {whose} usual {usual}: a flare-up"
    if kind == GOOD_DAY:
        return f"{text}, below {whose} usual {usual}: a good day"
    return f"{text}, in line with {whose} usual {usual}"


def _when(at, today) -> str:
    day = pd.Timestamp(at).date()
    if today is not None:
        days = (today - day).days
        if days == 0:
            return "today"
        if days == 1:
            return "yesterday"
    return f"on {day.day} {day:%b %Y}"


def client_status(
    client_id: str, visits: pd.DataFrame, checkins: pd.DataFrame | None, settings: dict | None = None
) -> pd.Series:
    """:func:`current_status` for one client from all their visits (``visit_date``, ``pain_pre``)
    and check-ins (``reported_at``, ``pain``): one row.  The baseline is the first pain score
    before a visit, as in the practice's marts."""
    v = visits.assign(client_id=client_id) if visits is not None else None
    c = checkins.assign(client_id=client_id) if checkins is not None else None
    with_pain = v[v["pain_pre"].notna()].sort_values("visit_date", kind="stable") if v is not None and len(v) else None
    first = with_pain.iloc[0] if with_pain is not None and len(with_pain) else None
    baselines = pd.DataFrame(
        {
            "client_id": [client_id],
            "baseline": [float(first["pain_pre"]) if first is not None else np.nan],
            "baseline_date": [pd.Timestamp(first["visit_date"]) if first is not None else pd.NaT],
        }
    )
    return current_status(readings_from(v, c), baselines, settings).iloc[0]
