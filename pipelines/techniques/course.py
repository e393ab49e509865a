"""Expected course: from the practice's own history, the pain before each visit that a client like
this one (first pain score, complaint region, age band, visit number) can expect, with an 80 %
band, and whether the client is ahead of, as, or behind expected.

The idea is the risk-adjusted predicted outcome used in outpatient rehabilitation (FOTO-style
predicted outcomes: severity at intake, body region and age predict the outcome by visit), fitted to
this practice's own clients:

* expected pain at visit k (k after the first scored visit) = least squares on the first pain
  score, log(k), their product (higher starting pain falls further), complaint region and age band;
* the 80 % band = the expected value plus the 10th and 90th percentiles of the practice's
  residuals at similar visit numbers (spread grows with time, and is not assumed normal), each
  client's residuals taken from a fit without them (cross-fitting, as in conformal prediction),
  kept inside 0-10.

The band is for one reading of a client like this one; it is checked on held-out clients
(tests/test_course.py, cross-validated by client: about 80 % of their later readings fall inside).  Practices with fewer
than ``MIN_CLIENTS`` clients with two scored visits get no model (the fixed rule stays).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

MIN_CLIENTS = 20
# A complaint region or age band with fewer clients than this shares the "other" level: its own
# mean would rest on too few people.
MIN_LEVEL_CLIENTS = 5
OTHER = "other"
BAND = (0.10, 0.90)
# Visit-number buckets (visits after the first scored one) within which the residual spread is pooled.
BUCKETS = (1, 3, 6, 10, 16, np.inf)
AHEAD, AS_EXPECTED, BEHIND = "ahead of expected", "as expected", "behind expected"


def _sql() -> str:
    return resources.files("pipelines.sql").joinpath("techniques/course_visits.sql").read_text(encoding="utf-8")


def load_visits(db=None) -> pd.DataFrame:
    from pipelines.warehouse.db import read_connection

    with read_connection(db) as con:
        return con.execute(_sql()).df()


@dataclass
class CourseModel:
    coef: np.ndarray
    regions: list[str]
    age_bands: list[str]
    quantiles: dict[int, tuple[float, float]]  # bucket index -> (q10, q90) of residuals
    n_clients: int
    n_readings: int


def _later(visits: pd.DataFrame) -> pd.DataFrame:
    later = visits[visits["visit_number"] > visits["baseline_visit"]].copy()
    later["k"] = later["visit_number"] - later["baseline_visit"]
    return later


def _design(frame: pd.DataFrame, regions: list[str], age_bands: list[str]) -> np.ndarray:
    """Intercept, first pain score, log(k), their product, then one column per region and age band
    with enough clients (the rest, and unseen values, are the reference level)."""
    logk = np.log(frame["k"].to_numpy(float))
    base = frame["baseline"].to_numpy(float)
    cols = [np.ones(len(frame)), base, logk, base * logk]
    cols += [(frame["complaint_region"] == r).to_numpy(float) for r in regions]
    cols += [(frame["age_band"] == a).to_numpy(float) for a in age_bands]
    return np.column_stack(cols)


def _levels(later: pd.DataFrame, column: str) -> list[str]:
    counts = later.groupby(column)["client_id"].nunique().sort_values(ascending=False)
    kept = [str(v) for v, n in counts.items() if n >= MIN_LEVEL_CLIENTS]
    return sorted(kept[1:])  # the most common level is the reference


def _bucket(k: np.ndarray) -> np.ndarray:
    return np.searchsorted(np.array(BUCKETS[1:]), k, side="right")


def _out_of_fold_residuals(later: pd.DataFrame, X: np.ndarray, y: np.ndarray, folds: int = 5) -> np.ndarray:
    """Each client's residuals from a fit without that client's fold: the band is for a *new*
    client, and in-sample residuals are too small when the practice is small (about 71 % instead of
    80 % coverage at 40 clients)."""
    codes = pd.factorize(later["client_id"], sort=True)[0] % folds
    resid = np.empty_like(y)
    for f in range(folds):
        out = codes == f
        coef, *_ = np.linalg.lstsq(X[~out], y[~out], rcond=None)
        resid[out] = y[out] - X[out] @ coef
    return resid


def fit(visits: pd.DataFrame) -> CourseModel | None:
    """The practice's model, or None when too few clients have two scored visits."""
    later = _later(visits)
    if later["client_id"].nunique() < MIN_CLIENTS:
        return None
    regions = _levels(later, "complaint_region")
    ages = _levels(later, "age_band")
    X = _design(later, regions, ages)
    y = later["pain_pre"].to_numpy(float)
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = _out_of_fold_residuals(later, X, y)
    buckets = _bucket(later["k"].to_numpy(float))
    quantiles = {}
    for b in range(len(BUCKETS) - 1):
        r = resid[buckets == b]
        if len(r) < 20:  # too few readings this far into a course: borrow the previous bucket's spread
            r = resid[buckets <= b]
        quantiles[b] = (float(np.quantile(r, BAND[0])), float(np.quantile(r, BAND[1])))
    return CourseModel(coef, regions, ages, quantiles, int(later["client_id"].nunique()), len(later))


def expected(model: CourseModel, baseline: float, region: str, age_band: str, visit_offsets) -> pd.DataFrame:
    """``k`` (visits after the first scored one), expected pain, 80 % band low/high (0-10)."""
    k = np.asarray(list(visit_offsets), dtype=float)
    frame = pd.DataFrame({"k": k, "baseline": baseline, "complaint_region": region, "age_band": age_band})
    mid = _design(frame, model.regions, model.age_bands) @ model.coef
    q = np.array([model.quantiles[b] for b in _bucket(k)]).reshape(-1, 2)
    return pd.DataFrame(
        {
            "k": k,
            "expected": np.clip(mid, 0, 10),
            "low": np.clip(mid + q[:, 0], 0, 10),
            "high": np.clip(mid + q[:, 1], 0, 10),
        }
    )


def client_course(model: CourseModel, visits: pd.DataFrame, client_id: str) -> pd.DataFrame:
    """The band at each of this client's scored visits after the first: visit_number, visit_date,
    pain_pre, expected, low, high."""
    own = _later(visits[visits["client_id"] == client_id])
    if own.empty:
        return pd.DataFrame(columns=["visit_number", "visit_date", "pain_pre", "expected", "low", "high"])
    first = own.iloc[0]
    band = expected(model, float(first["baseline"]), first["complaint_region"], first["age_band"], own["k"])
    return pd.concat(
        [own[["visit_number", "visit_date", "pain_pre"]].reset_index(drop=True), band[["expected", "low", "high"]]],
        axis=1,
    )


def standing(course: pd.DataFrame) -> str | None:
    """Ahead of / as / behind expected at the latest scored visit (None before the second)."""
    if course.empty:
        return None
    last = course.iloc[-1]
    if last["pain_pre"] < last["low"]:
        return AHEAD
    if last["pain_pre"] > last["high"]:
        return BEHIND
    return AS_EXPECTED


def calibration(visits: pd.DataFrame, folds: int = 5, seed: int = 0) -> dict[str, float]:
    """Cross-validated by client: each fold of clients is held out, the model fitted on the others,
    and the share of the held-out clients' later readings inside their 80 % band counted."""
    rng = np.random.default_rng(seed)
    clients = visits["client_id"].unique()
    fold_of = dict(zip(rng.permutation(clients), np.arange(len(clients)) % folds))
    fold = visits["client_id"].map(fold_of)
    inside = []
    for f in range(folds):
        model = fit(visits[fold != f])
        if model is None:
            raise ValueError("too few clients to fit the expected course")
        test = _later(visits[fold == f])
        for (region, age, base), g in test.groupby(["complaint_region", "age_band", "baseline"]):
            band = expected(model, float(base), region, age, g["k"])
            y = g["pain_pre"].to_numpy()
            inside.append((y >= band["low"].to_numpy()) & (y <= band["high"].to_numpy()))
    flags = np.concatenate(inside)
    return {"coverage": float(flags.mean()), "n_readings": int(len(flags)), "n_clients": int(len(clients))}


def latest_standings(model: CourseModel, visits: pd.DataFrame) -> pd.Series:
    """Every client's standing at their latest scored visit (client_id -> ahead of / as / behind
    expected), all at once: for a "behind expected" flag in practice-wide lists."""
    later = _later(visits).sort_values(["client_id", "visit_number"]).groupby("client_id").tail(1)
    if later.empty:
        return pd.Series(dtype=object)
    mid = _design(later, model.regions, model.age_bands) @ model.coef
    q = np.array([model.quantiles[b] for b in _bucket(later["k"].to_numpy(float))]).reshape(-1, 2)
    low, high = np.clip(mid + q[:, 0], 0, 10), np.clip(mid + q[:, 1], 0, 10)
    y = later["pain_pre"].to_numpy(float)
    where = np.where(y < low, AHEAD, np.where(y > high, BEHIND, AS_EXPECTED))
    return pd.Series(where, index=later["client_id"].to_numpy(), name="standing")
