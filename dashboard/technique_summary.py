"""The Technique response page's opening, in plain words: what works here, which mixes, how sure, for whom.

Pure functions of a :class:`pipelines.techniques.common.TechniqueReport` (no Streamlit), so the
page, tests and reports say the same thing.  A technique or mix counts as "clear" only when its
whole 95 % interval lies on one side of zero; everything else is "not clear yet", never "no effect".
"""

from __future__ import annotations

import pandas as pd

from dashboard.charts.progress import pretty
from pipelines.techniques.common import ALPHA, MIN_VISITS_PER_MIX, TechniqueReport

MAX_NAMED = 3  # techniques named in the first sentence


def _mix_name(mix: str) -> str:
    return " + ".join(pretty(t) for t in str(mix).split("+"))


def _points(value: float, unit: str) -> str:
    text = f"{abs(value):.1f}"
    return f"{text} {'points' if unit.startswith('points') else 'degrees'}"


def _range(lo: float, hi: float) -> str:
    return f"{lo:+.1f} to {hi:+.1f}".replace("-", "−")


def _likely(effect: float, lo: float, hi: float, oc) -> str:
    """ "about 1.2 points less pain, likely 1.0 to 1.4": sizes in the better direction, so a
    reader never has to turn "−1.4 to −1.0" into "1.0 to 1.4 points less".  An interval that crosses
    zero keeps its signs and says so."""
    gain = "more" if oc.higher_is_better else ("less pain" if oc.unit.startswith("points") else "less")
    sign = 1 if oc.higher_is_better else -1
    if sign * lo > 0 and sign * hi > 0:
        a, b = sorted((abs(lo), abs(hi)))
        return f"about {_points(effect, oc.unit)} {gain}, likely {a:.1f} to {b:.1f}"
    return f"about {_points(effect, oc.unit)}, likely {_range(lo, hi)}: it could go either way"


def _clear(rows: pd.DataFrame, higher_is_better: bool) -> pd.DataFrame:
    """Estimates in the better direction that hold after allowing for how many were compared
    (the adjusted p the charts fill their points by)."""
    est = rows[rows["estimable"].astype(bool) & (rows["p_adjusted"] < ALPHA)]
    good = est[est["effect"] > 0] if higher_is_better else est[est["effect"] < 0]
    return good.sort_values("effect", ascending=not higher_is_better)


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def what_works(rep: TechniqueReport) -> str:
    oc = rep.outcome
    better = "more movement" if oc.higher_is_better else "more relief"
    clear = _clear(rep.techniques, oc.higher_is_better)
    good = clear.head(MAX_NAMED)
    n_est = int(rep.techniques["estimable"].sum())
    if good.empty:
        return (
            f"**What works here:** of the {n_est} techniques with enough clients to judge, none clearly went "
            f"with {better} than the same clients' visits without it — not clear yet is not the same as no "
            "effect."
        )
    parts = [
        f"{pretty(r.technique)} ({_likely(r.effect, r.ci_low, r.ci_high, oc)})" for r in good.itertuples(index=False)
    ]
    if len(clear) > len(good):
        more = len(clear) - len(good)
        parts.append(f"{more} more technique{'s' if more > 1 else ''} in the chart below")
    return (
        f"**What works here:** {_join(parts)} clearly went with {better}: that much "
        f"{'more' if oc.higher_is_better else 'less'} on a client's visits with the technique than on the "
        "same client's visits without it."
    )


def which_mixes(rep: TechniqueReport) -> str:
    oc = rep.outcome
    est = rep.mixes[rep.mixes["estimable"].astype(bool)] if len(rep.mixes) else rep.mixes
    if est.empty:
        return (
            f"**Which mixes:** no mix has been used in {MIN_VISITS_PER_MIX} or more visits with techniques "
            "that have enough clients, so none can be ranked yet."
        )
    best = est.sort_values("effect", ascending=not oc.higher_is_better).iloc[0]
    used = int((rep.mixes["n_visits"] >= MIN_VISITS_PER_MIX).sum())
    return (
        f"**Which mixes:** of the {used} mixes used in at least {MIN_VISITS_PER_MIX} visits, "
        f"{_mix_name(best['mix'])} is predicted to help most — "
        f"{_likely(best['effect'], best['ci_low'], best['ci_high'], oc)}, compared with a visit with none of its techniques, "
        f"from {int(best['n_visits']):,} visits of {int(best['n_clients']):,} clients."
    )


def how_sure(rep: TechniqueReport, regions: list[str]) -> str:
    where = (" with " + _join([pretty(r).lower() for r in regions]) + " complaints") if 0 < len(regions) <= 4 else ""
    return (
        f"**How sure, and for whom:** these come from {rep.n_visits:,} visits of {rep.n_clients:,} "
        f"clients{where}; each range shows where the true value plausibly lies (95 %), and they describe what "
        "went with relief in this practice's own records, not proof that a technique caused it."
    )


def summary(rep: TechniqueReport, regions: list[str]) -> list[str]:
    """Three sentences, plain words first (each starts with its question in bold)."""
    return [what_works(rep), which_mixes(rep), how_sure(rep, regions)]
