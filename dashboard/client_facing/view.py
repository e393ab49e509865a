"""The client-facing view: one client's own progress, in plain language.

No Streamlit here: :func:`dashboard.client_facing.data.load_client` reads one client's data
(privacy by construction: see that module), :func:`summarise` turns it into sentences with the
plain words of ``dashboard.client_facing.words``, and the page (``dashboard/client_facing/page.py``),
the presentation mode and the HTML/PDF report (``dashboard/reports.py``) all render the same
:class:`ClientSummary`.

**Honest wording.**  The status is the therapist's (``pipelines.clinical.status``: the client's
usual pain from the last three scores, not one day).  "Much improved" is used only for a
clinically important improvement with the practice's thresholds (default: at least 2 points
*and* at least 30 % lower than at the first visit), which is what people in Farrar et al. 2001
rated "much improved" themselves.  In-visit relief is called a rating given in the room.  The
plan is put up for discussion only when pain is worse beyond measurement error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from dashboard.client_facing.data import ClientData
from dashboard.client_facing.words import fmt_date, fmt_pain, movement_words, region_words, technique_words
from dashboard.metrics import important_pain_level
from pipelines.clinical import change as clinical
from pipelines.clinical.settings import threshold
from pipelines.clinical.status import FLARE_UP, GOOD_DAY, client_status, latest_words

MAX_ROM_SERIES = 6

# ---------------------------------------------------------------------------
# Summary: sentences
# ---------------------------------------------------------------------------

GOOD, STEADY, CONCERN, NONE = "good", "steady", "concern", "none"


@dataclass
class RomLine:
    label: str
    first: float
    latest: float
    first_date: object
    latest_date: object
    mdc: float
    real: bool
    text: str


@dataclass
class ClientSummary:
    name: str
    region: str | None
    n_visits: int
    first_visit: object
    last_visit: object
    headline: str
    tone: str  # good / steady / concern / none
    status: str | None
    baseline: float | None
    latest: float | None
    goal_level: float | None  # pain at or below this is "much improved" (Farrar 2001)
    session_line: str | None
    checkin_line: str | None
    rom_lines: list[RomLine] = field(default_factory=list)
    techniques: list[tuple[str, str, int]] = field(default_factory=list)  # (name, what it is, visits)
    homecare: list[tuple[object, str]] = field(default_factory=list)  # (date given, advice), newest first
    rule_text: str = ""


def rule_text(settings: dict | None) -> str:
    points = float(threshold(settings, "pain.mcid_points"))
    pct = float(threshold(settings, "pain.mcid_pct"))
    return (
        f"We call a change \u201cmuch improved\u201d when your usual pain is at least {points:g} points and at "
        f"least {pct:g} % lower than at your first visit: in studies, that is how much less pain people had when "
        "they themselves rated their change \u201cmuch improved\u201d (Farrar et al., Pain 2001). Your usual pain "
        "is the middle of your last three scores, so one bad or good day does not decide it."
    )


def _visits_word(n: int) -> str:
    return "1 visit" if n == 1 else f"{n} visits"


def pain_headline(
    data: ClientData, settings: dict | None, as_of: dt.date | None = None
) -> tuple[str, str, pd.Series | None]:
    """(sentences, tone, status row of :func:`pipelines.clinical.status.client_status`).

    The status is the one the therapist sees; the words only ask to reconsider the plan when
    the change is beyond measurement error (a reliable rise, or one that lasted two readings)."""
    v = data.visits
    words = region_words(data.complaint_region)
    if words is None and len(v) and v["pain_region"].notna().any():
        words = region_words(v["pain_region"].dropna().mode().iloc[0])
    your_pain = f"your {words} pain" if words else "your pain"
    Your_pain = your_pain[0].upper() + your_pain[1:]
    if len(v) == 0:
        return ("No visits are recorded yet. After your first visit this page will show how you are doing.", NONE, None)
    row = client_status(data.client_id, v, data.checkins, settings)
    if row["status"] is None:
        if row["n_readings"] == 0:
            return (
                f"{_visits_word(len(v))} so far, but no pain scores were recorded, so there is nothing to compare yet.",
                NONE,
                row,
            )
        if pd.isna(row["baseline"]):
            return (
                "Your check-ins have pain scores, but none was recorded before a visit, so there is no starting "
                "point to compare with yet. Your therapist will note one at your next visit.",
                NONE,
                row,
            )
        first = v[v["pain_pre"].notna()].iloc[0]
        after = first["pain_post"]
        after_text = "" if pd.isna(after) else f" and {fmt_pain(float(after))} just after the session"
        return (
            f"At your first visit {your_pain} was {fmt_pain(row['baseline'])} out of 10 before the session"
            f"{after_text}. After your next score this page will show how it is changing.",
            NONE,
            row,
        )
    b, now = fmt_pain(row["baseline"]), fmt_pain(row["level"])
    status = row["status"]
    if status == clinical.PAIN_CLINICALLY_IMPORTANT:
        text, tone = (
            f"{Your_pain} is now usually about {now} out of 10, down from {b} at your first visit. That is "
            "as much as people call \u201cmuch improved\u201d when they rate their own change.",
            GOOD,
        )
    elif status == clinical.PAIN_SOME:
        text, tone = (
            f"{Your_pain} is now usually about {now} out of 10, down from {b} at your first visit. That is a "
            "step in the right direction, not yet as much as people call \u201cmuch improved\u201d, so we "
            "will keep watching it together.",
            STEADY,
        )
    elif status == clinical.PAIN_WORSE:
        text, tone = (
            f"{Your_pain} is now usually about {now} out of 10, higher than the {b} at your first visit, and "
            "not just on one day. Let\u2019s talk about what might be behind it and whether to change the "
            "plan.",
            CONCERN,
        )
    elif row["baseline"] == 0 and row["level"] == 0:
        text, tone = f"You had no {words + ' ' if words else ''}pain at your first visit and none now.", STEADY
    else:
        text, tone = (
            f"{Your_pain} is about the same as at your first visit ({b} then, usually about {now} now). "
            "Scores move up and down by a point or two from day to day, so we will keep an eye on it "
            "together.",
            STEADY,
        )
    latest = latest_words(row, today=as_of, whose="your")
    if latest and row["latest_vs_usual"] == FLARE_UP and status != clinical.PAIN_WORSE:
        text += f" Your latest score: {latest}. One harder day does not change the overall picture."
    elif latest and row["latest_vs_usual"] in (FLARE_UP, GOOD_DAY):
        text += f" Your latest score: {latest}."
    return text, tone, row


def session_line(data: ClientData) -> str | None:
    both = data.visits.dropna(subset=["pain_pre", "pain_post"])
    if len(both) < 2:
        return None
    drop = float((both["pain_pre"] - both["pain_post"]).mean())
    rated = "as you rated it in the room just before and just after"
    if drop >= 0.5:
        return (
            f"During a session your pain eased by {drop:.1f} points on average, {rated}. That short-term relief "
            "is a good sign; how your usual pain changes from visit to visit matters more."
        )
    if drop <= -0.5:
        return (
            f"On average your pain was {-drop:.1f} points higher just after a session than just before, {rated}. "
            "Some soreness after deep work is common, but please tell your therapist about it."
        )
    return f"Within a session your pain usually stayed about the same, {rated}."


def checkin_line(data: ClientData) -> str | None:
    c = data.checkins
    if c is None or len(c) == 0:
        return None
    last = c.iloc[-1]
    text = f"You sent {len(c)} check-in{'s' if len(c) != 1 else ''} between visits; the latest ({fmt_date(last['reported_at'])}) said pain {fmt_pain(float(last['pain']))} out of 10."
    known = c["did_homecare"].dropna()
    if len(known):
        text += f" You did your home care in {int(known.sum())} of the {len(known)} check-ins that said."
    return text


def rom_lines(data: ClientData, settings: dict | None) -> list[RomLine]:
    """First and latest 'before the session' reading of each movement measured at ≥ 2 visits
    with the same instrument, judged against the measurement error (clinical.rom_mdc)."""
    r = data.rom.dropna(subset=["degrees_pre"]) if len(data.rom) else data.rom
    out: list[RomLine] = []
    if r is None or len(r) == 0:
        return out
    r = r.assign(instrument=r["instrument"].fillna("unknown"))
    for (joint, movement, side, instrument), g in r.groupby(["joint", "movement", "side", "instrument"], sort=False):
        if g["visit_date"].nunique() < 2:
            continue
        g = g.sort_values("visit_date")
        first, last = g.iloc[0], g.iloc[-1]
        raters = {first["measured_by"], last["measured_by"]}
        same_rater = len(raters) == 1 and not any(pd.isna(x) for x in raters)
        mdc = clinical.rom_mdc(None if instrument == "unknown" else instrument, joint, same_rater, settings)
        change = float(last["degrees_pre"]) - float(first["degrees_pre"])
        real = bool(
            clinical.rom_change_is_real(
                change, None if instrument == "unknown" else instrument, joint, same_rater, settings
            )
        )
        label = movement_words(joint, movement, side)
        a, b = f"{float(first['degrees_pre']):g}°", f"{float(last['degrees_pre']):g}°"
        if real and change > 0:
            verdict = f"more movement, and more than the {mdc:g}° that measurements can vary by, so it is a real change"
        elif real:
            verdict = f"less movement than at the start, by more than the {mdc:g}° that measurements can vary by; worth a look together"
        else:
            verdict = f"within the {mdc:g}° that measurements can vary by, so we can\u2019t call it a change yet"
        out.append(
            RomLine(
                label,
                float(first["degrees_pre"]),
                float(last["degrees_pre"]),
                first["visit_date"],
                last["visit_date"],
                mdc,
                real,
                f"{label}: from {a} to {b} \u2014 {verdict}.",
            )
        )
    out.sort(key=lambda x: (-int(x.real), x.label))
    return out


def technique_summary(data: ClientData) -> list[tuple[str, str, int]]:
    counts: dict[str, int] = {}
    for ts in data.visits["techniques"]:
        for t in set(ts):
            counts[t] = counts.get(t, 0) + 1
    rows = [(*technique_words(t), n) for t, n in counts.items()]
    rows.sort(key=lambda x: (-x[2], x[0]))
    return rows


def homecare_list(data: ClientData, limit: int = 3) -> list[tuple[object, str]]:
    v = data.visits[data.visits["homecare"].notna() & (data.visits["homecare"].astype(str).str.strip() != "")]
    out: list[tuple[object, str]] = []
    seen: set[str] = set()
    for _, row in v.sort_values("visit_date", ascending=False).iterrows():
        text = str(row["homecare"]).strip()
        if text.lower() in seen:
            continue
        seen.add(text.lower())
        out.append((row["visit_date"], text))
        if len(out) >= limit:
            break
    return out


def summarise(data: ClientData, settings: dict | None = None, as_of: dt.date | None = None) -> ClientSummary:
    headline, tone, row = pain_headline(data, settings, as_of)
    status = None if row is None else row["status"]
    baseline = None if row is None or pd.isna(row["baseline"]) else float(row["baseline"])
    latest = None if row is None or pd.isna(row["latest"]) else float(row["latest"])
    v = data.visits
    return ClientSummary(
        name=data.display_name,
        region=region_words(data.complaint_region),
        n_visits=len(v),
        first_visit=v["visit_date"].min() if len(v) else None,
        last_visit=v["visit_date"].max() if len(v) else None,
        headline=headline,
        tone=tone,
        status=status,
        baseline=baseline,
        latest=latest,
        goal_level=important_pain_level(baseline, settings)
        if baseline is not None and len(v.dropna(subset=["pain_pre"]))
        else None,
        session_line=session_line(data),
        checkin_line=checkin_line(data),
        rom_lines=rom_lines(data, settings),
        techniques=technique_summary(data),
        homecare=homecare_list(data),
        rule_text=rule_text(settings),
    )


def rom_series(data: ClientData, limit: int = MAX_ROM_SERIES, first: list[str] | None = None) -> pd.DataFrame:
    """ROM 'before the session' readings for the chart, one instrument per movement, with a
    plain label, the side and the typical range: the movements named in ``first`` (the
    summary's sentences, real changes first) lead, then the ones measured most often; at most
    ``limit``."""
    r = data.rom.dropna(subset=["degrees_pre"]) if len(data.rom) else data.rom
    if r is None or len(r) == 0:
        return pd.DataFrame(columns=["label", "side", "visit_date", "degrees", "typical"])
    r = r.assign(instrument=r["instrument"].fillna("unknown"))
    sizes = r.groupby(["joint", "movement", "side", "instrument"]).size()
    rank = {label: i for i, label in enumerate(first or [])}
    keys = sorted(
        sizes.index,
        key=lambda k: (
            rank.get(movement_words(k[0], k[1], k[2]), len(rank)),
            -sizes[k],
            movement_words(k[0], k[1], k[2]),
        ),
    )
    keep = keys[:limit]
    parts = []
    for joint, movement, side, instrument in keep:
        g = r[
            (r["joint"] == joint) & (r["movement"] == movement) & (r["side"] == side) & (r["instrument"] == instrument)
        ]
        norm = clinical.rom_norm(joint, movement)
        parts.append(
            pd.DataFrame(
                {
                    "label": movement_words(joint, movement, side),
                    "side": side,
                    "visit_date": g["visit_date"].to_numpy(),
                    "degrees": g["degrees_pre"].astype(float).to_numpy(),
                    "typical": float(norm.normal) if norm is not None and norm.normal > 0 else float("nan"),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def today() -> dt.date:
    return dt.date.today()
