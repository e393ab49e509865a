"""The numbers of the physician letter, from one client's record (no HTML here).

Every figure is computed from :class:`pipelines.exports.record.ClientRecord` (one client's rows,
bound by id) and the practice settings, with the same rules as the app:

* pain status: :func:`pipelines.clinical.status.client_status`, the one status the app, the
  client's view and the report show: baseline = the first recorded before-visit pain, current =
  the robust level (median of the last three readings, visits and check-ins), judged by the
  practice's thresholds **and** a Jacobson & Truax reliable change (SEM from the settings,
  Childs et al. 2005);
* questionnaires: first vs latest score against each instrument's minimal important change
  (:func:`pipelines.clinical.outcomes.outcome_summary`);
* ROM: first vs latest before-session reading against the minimal detectable change
  (:func:`pipelines.clinical.change.rom_mdc`) and the normative value with its named source.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from dashboard import metrics
from pipelines.clinical.change import PAIN_CLINICALLY_IMPORTANT, rom_mdc, rom_norm
from pipelines.clinical.outcomes import classify_outcomes, outcome_summary
from pipelines.clinical.settings import threshold, threshold_source
from pipelines.clinical.status import client_status
from pipelines.exports.record import ClientRecord

PRACTICE_FIELDS = (
    ("name", "practice name"),
    ("therapist", "therapist"),
    ("address", "address"),
    ("phone", "phone"),
    ("email", "email"),
)
# client_status labels its one row with an id; the letter's record is one client already.
CLIENT = "client"
STATUS_WORDS = {"active": "in care", "discharged": "discharged", "referred_out": "referred out"}


@dataclass
class PainFacts:
    baseline: float | None
    baseline_date: dt.date | None
    current: float | None
    current_date: dt.date | None
    change: float | None
    pct_change: float | None
    status: str | None
    reliable_threshold: float
    reliable: bool | None
    n_level: int  # readings the current level is the median of
    session_mean: float | None  # mean post − pre within a session (negative = relief)
    session_ci: tuple[float, float] | None
    session_n: int


@dataclass
class RomFact:
    label: str
    first: float
    first_date: dt.date
    latest: float
    latest_date: dt.date
    n: int
    mdc: float
    normal: float | None
    normal_source: str | None

    @property
    def change(self) -> float | None:
        return self.latest - self.first + 0.0 if self.n > 1 else None

    @property
    def real(self) -> bool | None:
        return None if self.change is None else abs(self.change) >= self.mdc - 1e-9

    @property
    def pct_normal(self) -> float | None:
        return self.latest / self.normal * 100 if self.normal else None


@dataclass
class LetterFacts:
    practice: dict[str, str]
    client_id: str
    name: str
    birth_year: int | None
    complaint: str | None
    region: str | None
    intake_date: dt.date | None
    status: str | None
    n_visits: int
    first_visit: dt.date | None
    last_visit: dt.date | None
    median_days_between: float | None
    n_self_reports: int
    pain: PainFacts
    questionnaires: pd.DataFrame
    rom: list[RomFact]
    trigger_points: pd.DataFrame
    techniques: list[tuple[str, int]]
    homecare: tuple[dt.date, str] | None
    plan: list[str]
    missing: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


def _date(value) -> dt.date | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    return pd.Timestamp(value).date()


def _text(value) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    s = str(value).strip()
    return s or None


def _num(x) -> float | None:
    return None if x is None or pd.isna(x) else float(x) + 0.0


def _pain(visits: pd.DataFrame, self_reports: pd.DataFrame, settings: dict | None) -> PainFacts:
    row = client_status(CLIENT, visits, self_reports, settings)
    both = visits.dropna(subset=["pain_pre", "pain_post"])
    diffs = (both["pain_post"] - both["pain_pre"]).astype(float).to_numpy()
    mean = ci = None
    if len(diffs) >= 2:
        mean = float(diffs.mean()) + 0.0
        half = float(stats.t.ppf(0.975, len(diffs) - 1) * diffs.std(ddof=1) / math.sqrt(len(diffs)))
        ci = (mean - half + 0.0, mean + half + 0.0)
    has = row["status"] is not None
    return PainFacts(
        _num(row["baseline"]),
        _date(row["baseline_date"]),
        _num(row["level"]) if has else None,
        _date(row["latest_at"]) if has else None,
        _num(row["change"]) if has else None,
        _num(row["pct_change"]) if has else None,
        row["status"],
        float(row["reliable_change"]),
        bool(row["reliable"]) if has else None,
        int(row["n_level"]),
        mean,
        ci,
        len(diffs),
    )


def _rom(rom: pd.DataFrame, settings: dict | None) -> list[RomFact]:
    pre = rom[rom["timing"] == "pre"] if len(rom) else rom
    out = []
    if len(pre) == 0:
        return out
    for (joint, movement, side), part in pre.groupby(["joint", "movement", "side"], sort=True):
        part = part.sort_values("visit_date")
        instruments = {str(i) for i in part["instrument"].dropna()}
        raters = {str(r) for r in part["measured_by"].dropna()}
        same = len(instruments) <= 1 and len(raters) <= 1
        mdc = rom_mdc(
            next(iter(instruments)) if len(instruments) == 1 else None, joint, same_rater=same, settings=settings
        )
        norm = rom_norm(joint, movement)
        side_txt = f" ({side})" if side in ("left", "right") else ""
        label = f"{str(joint).replace('_', ' ').capitalize()} {str(movement).replace('_', ' ')}{side_txt}"
        out.append(
            RomFact(
                label,
                float(part["degrees"].iloc[0]),
                _date(part["visit_date"].iloc[0]),
                float(part["degrees"].iloc[-1]),
                _date(part["visit_date"].iloc[-1]),
                int(part["visit_id"].nunique()),
                mdc,
                float(norm.normal) if norm is not None and norm.normal > 0 else None,
                norm.source if norm is not None else None,
            )
        )
    return out


def _practice(settings: dict | None) -> tuple[dict[str, str], list[str]]:
    section = (settings or {}).get("practice", {}) if settings is not None else {}
    practice = {key: str(section.get(key, "") or "").strip() for key, _ in PRACTICE_FIELDS}
    missing = [words for key, words in PRACTICE_FIELDS if not practice[key]]
    return practice, missing


def letter_facts(record: ClientRecord, settings: dict | None, today: dt.date) -> LetterFacts:
    c = record.client
    v = record.visits.sort_values(["visit_date", "visit_number"])
    practice, practice_missing = _practice(settings)
    missing = []
    if practice_missing:
        missing.append(
            "practice details: "
            + ", ".join(practice_missing)
            + " (set them under [practice] in knotwork-settings.toml next to the database)"
        )
    birth = c.get("birth_year")
    birth_year = None if birth is None or (isinstance(birth, float) and math.isnan(birth)) else int(birth)
    if birth_year is None:
        missing.append("birth year")
    complaint = _text(c.get("primary_complaint"))
    if complaint is None:
        missing.append("presenting complaint")
    if len(v) == 0:
        missing.append("visits (none recorded yet)")
    elif v["pain_pre"].notna().sum() == 0:
        missing.append("pain scores before the visits")

    dates = pd.to_datetime(v["visit_date"]).drop_duplicates()
    gaps = dates.diff().dt.days.dropna()
    scores = record.questionnaires.assign(client_id=record.client_id)
    q = outcome_summary(classify_outcomes(scores, settings), settings) if len(scores) else pd.DataFrame()
    if len(q) == 0:
        missing.append("questionnaires (none taken)")

    counts: dict[str, int] = {}
    for ts in v["techniques"]:
        for t in set(ts):
            counts[t] = counts.get(t, 0) + 1
    techniques = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    care = v[v["homecare"].map(_text).notna()] if len(v) else v
    homecare = (_date(care["visit_date"].iloc[-1]), _text(care["homecare"].iloc[-1])) if len(care) else None

    pain = _pain(v, record.self_reports, settings)
    status = _text(c.get("status"))
    plan = [f"Status: {STATUS_WORDS.get(status, status.replace('_', ' '))}." if status else "Status not recorded."]
    after = metrics.attention_after_visits(settings)
    if pain.status not in (None, PAIN_CLINICALLY_IMPORTANT) and len(v) >= after:
        plan.append(
            f"Pain has not improved by a clinically important amount after {len(v)} visits; by the "
            f"practice's rule (review after {after} visits without such a change) the approach is due for "
            "review, including whether to refer."
        )
    if homecare:
        plan.append(f"Current home care (from {homecare[0]:%d %b %Y}): {homecare[1]}")
    planned = v[v["plan"].map(_text).notna()] if len(v) and "plan" in v else v.iloc[0:0]
    if len(planned):
        plan.append(
            f"Planned for the next visit (noted {_date(planned['visit_date'].iloc[-1]):%d %b %Y}): "
            f"{_text(planned['plan'].iloc[-1])}"
        )

    sources = [
        f"Clinically important pain improvement: {metrics.pain_rule_text(settings)} "
        f"({metrics.pain_rule_source(settings)}).",
        f"Reliable change on the 0–10 pain scale: at least {pain.reliable_threshold:.1f} points "
        f"(1.96 × SEM {float(threshold(settings, 'pain.sem')):g} × √(1 + f²), f = the error of a median of the "
        f"last readings relative to one reading; Jacobson & Truax 1991; SEM: "
        f"{metrics.cite(threshold_source(settings, 'pain.sem'))}).",
    ]
    for row in q.itertuples(index=False) if len(q) else []:
        if row.mcid_source:
            sources.append(f"{row.instrument} minimal important change {row.mcid:g}: {metrics.cite(row.mcid_source)}.")
    rom = _rom(record.rom, settings)
    if rom:
        sources.append(
            "ROM minimal detectable change: "
            f"{float(threshold(settings, 'rom.mdc_same_rater_extremity_goniometer')):g}° same rater, "
            f"limb, goniometer ({metrics.cite(threshold_source(settings, 'rom.mdc_same_rater_extremity_goniometer'))}); "
            f"{float(threshold(settings, 'rom.mdc_spine_crom_or_between_raters')):g}° otherwise "
            f"({metrics.cite(threshold_source(settings, 'rom.mdc_spine_crom_or_between_raters'))})."
        )
    norm_sources = sorted({metrics.cite(r.normal_source) for r in rom if r.normal_source})
    if norm_sources:
        sources.append("ROM norms: " + "; ".join(norm_sources) + ".")

    return LetterFacts(
        practice=practice,
        client_id=record.client_id,
        name=c["display_name"],
        birth_year=birth_year,
        complaint=complaint,
        region=_text(c.get("complaint_region")),
        intake_date=_date(c.get("intake_date")),
        status=status,
        n_visits=len(v),
        first_visit=_date(v["visit_date"].iloc[0]) if len(v) else None,
        last_visit=_date(v["visit_date"].iloc[-1]) if len(v) else None,
        median_days_between=float(np.median(gaps)) if len(gaps) else None,
        n_self_reports=len(record.self_reports),
        pain=pain,
        questionnaires=q,
        rom=rom,
        trigger_points=metrics.trigger_point_summary(record.trigger_points),
        techniques=techniques,
        homecare=homecare,
        plan=plan,
        missing=missing,
        sources=sources,
    )
