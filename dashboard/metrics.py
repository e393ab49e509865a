"""Small, pure summaries the dashboard shows: headline numbers, trends, attention flags.

No Streamlit and no database here: every function takes DataFrames from
``dashboard.queries.therapist`` (or anything shaped like them) and the practice settings, so the
same numbers can be tested directly and reused by reports.  Clinical rules come from
``pipelines.clinical.change`` (thresholds from the practice settings, each with its source).

Sign conventions follow ``pipelines.clinical.change``: ``pain_change = post − pre`` (negative =
relief); a change from baseline is ``latest − baseline`` (negative = better).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from pipelines.clinical.change import IMPROVED, PAIN_CLINICALLY_IMPORTANT, PAIN_WORSE, classify_change
from pipelines.clinical.settings import threshold, threshold_source
from pipelines.techniques.course import BEHIND as BEHIND_EXPECTED

# Up to this many clients the client picker lists them all; beyond it (a clinic group or network)
# it searches first and lists the matches, at most PICKER_MATCHES_SHOWN of them.
PICKER_FULL_LIST_MAX = 5_000
PICKER_MATCHES_SHOWN = 50
# Visit numbers shown on the practice "improvement by visit" chart.
MAX_VISIT_NUMBER = 12
DAYS_PER_MONTH = 30.4375


def _number(value) -> float | None:
    if value is None or value is pd.NA:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def important_pain_level(baseline: float | None, settings: dict | None) -> float | None:
    """Highest pain that is a clinically important improvement on ``baseline``.

    At least ``pain.mcid_points`` **and** at least ``pain.mcid_pct`` % below baseline
    (Farrar 2001): ``baseline − max(points, baseline · pct / 100)``.
    None when the baseline is missing or too low for such an improvement to exist.
    """
    base = _number(baseline)
    if base is None:
        return None
    points = float(threshold(settings, "pain.mcid_points"))
    pct = float(threshold(settings, "pain.mcid_pct"))
    level = base - max(points, base * pct / 100.0)
    return level if level >= 0 else None


def pain_rule_text(settings: dict | None) -> str:
    """ "at least 2 points and at least 30 % below baseline" with the current settings."""
    points = float(threshold(settings, "pain.mcid_points"))
    pct = float(threshold(settings, "pain.mcid_pct"))
    return f"at least {points:g} points and at least {pct:g} % below baseline"


def cite(source: str) -> str:
    """A settings citation as shown to a therapist (the sources in the settings cite papers, never
    Knotwork's own docs: tests/test_settings.py checks)."""
    return str(source).strip().rstrip(";,").strip()


def pain_rule_source(settings: dict | None) -> str:
    """The citations behind the pain rule (points and percentage), each once."""
    parts = [cite(threshold_source(settings, "pain.mcid_points")), cite(threshold_source(settings, "pain.mcid_pct"))]
    return "; ".join(dict.fromkeys(p for p in parts if p))


@dataclass(frozen=True)
class Headline:
    n_visits: int
    n_visits_total: int
    baseline: float | None
    baseline_date: dt.date | None
    days_since_last_visit: int | None
    last_visit_date: dt.date | None


def _as_date(value) -> dt.date | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    return pd.Timestamp(value).date()


def client_headline(
    visits: pd.DataFrame, today: dt.date, n_visits_total: int | None = None, last_visit_date=None
) -> Headline:
    """Visit counts, baseline and days since the last visit for one client (the selected dates).

    The baseline is the client's first recorded ``pain_pre`` (``baseline_pain`` from the
    mart, not the first visit inside the range), so narrowing the dates never moves it.  How
    the client is doing now comes from :func:`pipelines.clinical.status.client_status`.
    """
    n = len(visits)
    total = n if n_visits_total is None else int(n_visits_total)
    last_overall = (
        _as_date(last_visit_date)
        if last_visit_date is not None
        else (_as_date(visits["visit_date"].max()) if n else None)
    )
    days = (today - last_overall).days if last_overall else None
    if n == 0:
        return Headline(0, total, None, None, days, last_overall)
    ordered = visits.sort_values(["visit_date", "visit_number"])
    baseline = _number(ordered["baseline_pain"].iloc[0]) if "baseline_pain" in ordered else None
    baseline_date = None
    if baseline is not None and "baseline_date" in ordered:
        baseline_date = _as_date(ordered["baseline_date"].iloc[0])
    return Headline(n, total, baseline, baseline_date, days, last_overall)


@dataclass(frozen=True)
class Trend:
    slope_per_month: float  # NPRS points per month (negative = improving)
    low_per_month: float
    high_per_month: float
    dates: list  # two dates: start and end of the fitted line
    values: list  # fitted pain at those dates
    n: int


def theil_sen_trend(visits: pd.DataFrame, min_points: int = 3) -> Trend | None:
    """Robust trend of ``pain_pre`` over visit date (``scipy.stats.theilslopes``, 95 % CI).

    Needs at least ``min_points`` visits with pain on at least two different days.
    """
    data = visits[visits["pain_pre"].notna()].sort_values("visit_date")
    if len(data) < min_points:
        return None
    dates = pd.to_datetime(data["visit_date"])
    x = ((dates - dates.iloc[0]).dt.days).to_numpy(dtype=float)
    if np.unique(x).size < 2:
        return None
    y = data["pain_pre"].to_numpy(dtype=float)
    res = stats.theilslopes(y, x, alpha=0.95)
    slope, intercept, low, high = res.slope, res.intercept, res.low_slope, res.high_slope
    ends = np.array([x.min(), x.max()])
    fitted = np.clip(intercept + slope * ends, 0, 10)
    return Trend(
        slope * DAYS_PER_MONTH,
        low * DAYS_PER_MONTH,
        high * DAYS_PER_MONTH,
        [dates.iloc[0].date(), dates.iloc[-1].date()],
        [float(v) for v in fitted],
        len(data),
    )


def pain_category_per_visit(visits: pd.DataFrame, settings: dict | None) -> pd.Series:
    """``pipelines.clinical.change.classify_change`` of each visit's pain_pre against the baseline
    with the practice pain rule (improved / unchanged / deteriorated; None without pain)."""
    if visits.empty:
        return pd.Series([], dtype=object)
    return classify_change(
        visits["baseline_pain"].astype(float),
        visits["pain_pre"].astype(float),
        mid=float(threshold(settings, "pain.mcid_points")),
        pct=float(threshold(settings, "pain.mcid_pct")),
    )


def wilson_interval(k: np.ndarray, n: np.ndarray, z: float = 1.96) -> tuple[np.ndarray, np.ndarray]:
    """95 % Wilson score interval for k successes out of n (proportions, 0–1)."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def improvement_by_visit(
    progress: pd.DataFrame, settings: dict | None, max_visit: int = MAX_VISIT_NUMBER
) -> pd.DataFrame:
    """Share of clients whose pain at visit k is clinically importantly below their baseline.

    ``progress`` has one row per client and visit (``client_id, visit_number,
    baseline_pain, pain_pre``), or, pre-aggregated in SQL, one row per (visit_number,
    baseline_pain, pain_pre) with the number of clients in ``n_rows``
    (:func:`dashboard.queries.therapist.practice_progress_counts`; the same numbers without shipping
    every visit of a large practice).  For k = 1 … ``max_visit``: ``n_clients`` = clients seen at
    least k times with a pain score at visit k, ``n_improved`` = those whose pain_pre is
    ``improved`` by :func:`pipelines.clinical.change.classify_change` with the practice pain rule,
    ``pct_improved`` and a 95 % Wilson interval (``ci_low``, ``ci_high``, in %).
    """
    ks = np.arange(1, max_visit + 1)
    data = progress[
        progress["visit_number"].between(1, max_visit)
        & progress["pain_pre"].notna()
        & progress["baseline_pain"].notna()
    ].copy()
    if data.empty:
        counts = pd.DataFrame({"visit_number": ks, "n_clients": 0, "n_improved": 0})
    else:
        data["improved"] = pain_category_per_visit(data, settings).to_numpy() == IMPROVED
        if "n_rows" in data:  # counted rows: each is n_rows clients with these values
            data["n_improved"] = data["improved"] * data["n_rows"]
            agg = {"n_clients": ("n_rows", "sum"), "n_improved": ("n_improved", "sum")}
        else:
            agg = {"n_clients": ("client_id", "nunique"), "n_improved": ("improved", "sum")}
        counts = (
            data.groupby("visit_number").agg(**agg).reindex(ks, fill_value=0).rename_axis("visit_number").reset_index()
        )
    n = counts["n_clients"].to_numpy(dtype=float)
    k = counts["n_improved"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        counts["pct_improved"] = np.where(n > 0, k / n * 100, np.nan)
    low, high = wilson_interval(k, n)
    counts["ci_low"] = np.where(n > 0, low * 100, np.nan)
    counts["ci_high"] = np.where(n > 0, high * 100, np.nan)
    counts["n_clients"] = counts["n_clients"].astype(int)
    counts["n_improved"] = counts["n_improved"].astype(int)
    return counts


def attention_after_visits(settings: dict | None) -> int:
    return int(threshold(settings, "attention.no_important_change_after_visits"))


def flag_worse_any_time(settings: dict | None) -> bool:
    """Whether a client whose pain is worse than baseline is flagged before the visit count
    is reached (``attention.flag_worse_than_baseline``, default true)."""
    value = (settings or {}).get("attention", {}).get("flag_worse_than_baseline", True)
    return bool(value)


BEHIND_REASON = "behind the expected course for clients like them"


def attention_list(
    clients: pd.DataFrame, statuses: pd.DataFrame, settings: dict | None, standings: pd.Series | None = None
) -> pd.DataFrame:
    """Active clients who need a second look, with the reason.

    ``clients`` is the ``client_summary`` mart; ``statuses`` is
    :func:`pipelines.clinical.status.current_status` for them (the same status the client's page,
    view and report show).  A client is listed when their status is active (or not recorded) and

    * their pain now is *worse* than at baseline (a reliable rise, or one that persists over two
      readings), at any visit count (``attention.flag_worse_than_baseline``, default on), or
    * their latest pain is above the 80 % band of the practice's expected course for clients like
      them (``standings``: :func:`pipelines.techniques.course.latest_standings`, "behind expected"),
      or, for a practice too small to model that (``standings`` None), after
      ``attention.no_important_change_after_visits`` visits [4] their pain now is not a clinically
      important improvement on baseline.
    """
    cols = list(clients.columns) + ["pain_status", "pain_now", "reason"]
    active = clients[clients["status"].isna() | (clients["status"] == "active")]
    active = active.merge(
        statuses[["client_id", "status", "level", "change"]].rename(
            columns={"status": "pain_status", "level": "pain_now", "change": "change_now"}
        ),
        on="client_id",
    )
    active = active[active["pain_status"].notna()].copy()
    if active.empty:
        return pd.DataFrame(columns=cols)
    after = attention_after_visits(settings)
    worse = (active["pain_status"] == PAIN_WORSE) & flag_worse_any_time(settings)
    if standings is not None:
        stalled = active["client_id"].map(standings).eq(BEHIND_EXPECTED)
        stalled_reason = BEHIND_REASON
    else:
        stalled = (active["pain_status"] != PAIN_CLINICALLY_IMPORTANT) & (active["n_visits"] >= after)
        stalled_reason = f"no important improvement after {after}+ visits"
    active["reason"] = np.where(worse, "worse than at the first visit", np.where(stalled, stalled_reason, None))
    out = active[worse | stalled]
    return out.sort_values(["reason", "change_now", "display_name"], ascending=[False, False, True]).reset_index(
        drop=True
    )


def trigger_point_summary(points: pd.DataFrame) -> pd.DataFrame:
    """One row per muscle and side: visits found, referral regions, first/last tenderness."""
    cols = [
        "muscle",
        "side",
        "times_found",
        "referral_regions",
        "first_tenderness",
        "last_tenderness",
        "released_fully",
        "first_found",
        "last_found",
    ]
    if points.empty:
        return pd.DataFrame(columns=cols)
    ordered = points.sort_values(["visit_date", "visit_number"])

    def regions(s: pd.Series) -> str:
        vals = [v for v in s.dropna().unique() if str(v).strip()]
        return ", ".join(str(v).replace("_", " ") for v in sorted(vals)) or "—"

    def first_valid(s: pd.Series):
        s = s.dropna()
        return float(s.iloc[0]) if len(s) else float("nan")

    def last_valid(s: pd.Series):
        s = s.dropna()
        return float(s.iloc[-1]) if len(s) else float("nan")

    out = (
        ordered.groupby(["muscle", "side"], dropna=False)
        .agg(
            times_found=("visit_id", "nunique"),
            referral_regions=("referral_region", regions),
            first_tenderness=("tenderness", first_valid),
            last_tenderness=("tenderness", last_valid),
            released_fully=("released", lambda s: int((s == "yes").sum())),
            first_found=("visit_date", "min"),
            last_found=("visit_date", "max"),
        )
        .reset_index()
    )
    return out.sort_values(["times_found", "muscle"], ascending=[False, True]).reset_index(drop=True)[cols]


@dataclass(frozen=True)
class RomSeries:
    joint: str
    movement: str
    side: str
    readings: pd.DataFrame  # rom rows for this series, plus is_real (|change| ≥ mdc)
    mdc: float
    normal: float | None
    normal_source: str | None
    instruments: tuple[str, ...]

    @property
    def title(self) -> str:
        side = "" if self.side in (None, "none") else f" ({self.side})"
        return f"{self.joint.replace('_', ' ').capitalize()} {self.movement.replace('_', ' ')}{side}"


def rom_series(rom: pd.DataFrame, settings: dict | None) -> list[RomSeries]:
    """One series per joint × movement × side, each reading flagged real or within error.

    The MDC comes from :func:`pipelines.clinical.change.rom_mdc` for the series' instrument; readings by more than one rater or instrument get the larger,
    between-rater MDC because a change across them cannot be told from measurement noise.
    The normal value and its named source come from ``pipelines.ingest.vocab.ROM_NORMS``.
    """
    from pipelines.clinical.change import rom_change_is_real, rom_mdc, rom_norm

    out: list[RomSeries] = []
    if rom.empty:
        return out
    for (joint, movement, side), part in rom.groupby(["joint", "movement", "side"], sort=True, dropna=False):
        part = part.sort_values("visit_date").copy()
        instruments = tuple(sorted({str(i) for i in part["instrument"].dropna()}))
        raters = {str(r) for r in part["measured_by"].dropna()} if "measured_by" in part else set()
        same_rater = len(raters) <= 1 and len(instruments) <= 1
        instrument = instruments[0] if len(instruments) == 1 else None
        mdc = rom_mdc(instrument, joint, same_rater=same_rater, settings=settings)
        part["is_real"] = rom_change_is_real(
            part["degrees_change"].astype(float), instrument, joint, same_rater=same_rater, settings=settings
        ).to_numpy()
        norm = rom_norm(joint, movement)
        out.append(
            RomSeries(
                joint,
                movement,
                side,
                part,
                mdc,
                float(norm.normal) if norm is not None and norm.normal > 0 else None,
                norm.source if norm is not None else None,
                instruments,
            )
        )
    return out
