"""A synthetic practice in which clients differ in how they respond to each technique, for
checking the per-client technique response (pipelines.techniques.client_response) against the
truth.  The committed sample practice plants one effect for everybody; this one plants, per
client and technique, ``effect = practice effect + client deviation`` and a client-specific
relief whatever is done.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.techniques import client_response as cr

# Practice effect and between-client SD per technique (points of change in pain, negative = relief).
PLANTED = {
    "trigger_point": (-1.0, 0.8),
    "stretching": (-0.4, 0.5),
    "myofascial_release": (-0.6, 0.6),
    "swedish": (0.0, 0.3),
    "cupping": (-0.2, 0.7),
}
NOISE_SD = 1.0  # visit-to-visit noise in the immediate change
BASELINE_SD = 0.8  # clients differ in relief whatever is done
PAIN_PRE_SLOPE = -0.15  # higher pain before the visit, larger drop


def simulate(n_clients: int, seed: int, visits: tuple[int, int] = (8, 26)) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(visits frame as client_response.load_visits returns it, truth: client_id, technique, effect)."""
    rng = np.random.default_rng(seed)
    rows, truth = [], []
    names = list(PLANTED)
    for c in range(n_clients):
        cid = f"S{c:04d}"
        theta = {t: mu + sd * rng.normal() for t, (mu, sd) in PLANTED.items()}
        truth += [(cid, t, theta[t]) for t in names]
        base = -0.8 + BASELINE_SD * rng.normal()
        use = rng.uniform(0.2, 0.8, len(names))  # each client's own habits
        level = rng.uniform(4, 8)
        for v in range(1, int(rng.integers(*visits)) + 1):
            techs = [t for t, p in zip(names, use) if rng.random() < p] or [names[int(rng.integers(len(names)))]]
            pre = float(np.clip(np.round(level - 0.08 * v + rng.normal(0, 1.2)), 0, 10))
            change = base + PAIN_PRE_SLOPE * (pre - 6) + sum(theta[t] for t in techs) + NOISE_SD * rng.normal()
            rows.append((cid, f"{cid}-{v}", float(v), pre, change, techs))
    frame = pd.DataFrame(
        rows, columns=["client_id", "visit_id", "visit_number", "pain_pre", "pain_change", "techniques"]
    )
    return frame, pd.DataFrame(truth, columns=["client_id", "technique", "truth"])


def raw_differences(visits: pd.DataFrame) -> pd.DataFrame:
    """The old table: mean change with minus mean change without, inside each client."""
    out = []
    for cid, g in visits.groupby("client_id"):
        for t in sorted({t for ts in g["techniques"] for t in ts}):
            has = g["techniques"].map(lambda ts, t=t: t in ts)
            if has.any() and (~has).any():
                out.append((cid, t, g.loc[has, "pain_change"].mean() - g.loc[~has, "pain_change"].mean()))
    return pd.DataFrame(out, columns=["client_id", "technique", "raw"])


def evaluate(visits: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float]:
    """Root-mean-square error of the pooled and of the raw estimates on the same client-technique
    pairs (those with both), and the share of 95 % intervals holding the planted truth."""
    est = cr.all_clients(cr.fit_practice(visits)).dropna(subset=["effect"])
    both = est.merge(raw_differences(visits), on=["client_id", "technique"]).merge(truth, on=["client_id", "technique"])
    covered = (both["ci_low"] <= both["truth"]) & (both["truth"] <= both["ci_high"])
    return {
        "n": int(len(both)),
        "rmse_pooled": float(np.sqrt(((both["effect"] - both["truth"]) ** 2).mean())),
        "rmse_raw": float(np.sqrt(((both["raw"] - both["truth"]) ** 2).mean())),
        "coverage": float(covered.mean()),
        "mean_width": float((both["ci_high"] - both["ci_low"]).mean()),
    }
