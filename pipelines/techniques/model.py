"""Technique response: which techniques, pairs and mixes go with more relief, honestly measured.

The unit is the **visit**.  For every visit the marts hold the techniques blended, the
pressure (1-5), pain before and after, the visit's number in the client's course and
the next visit's pain before; :func:`load_visits` adds the complaint region and the
client's self-reported pain in the 7 days before and after the visit.

Outcomes (:data:`OUTCOMES`; negative = relief for pain, positive = more movement for ROM):

* ``pain_change`` - immediate change, pain after - pain before (the primary outcome);
* ``carryover_change`` - the next visit's pain before - this visit's pain before;
* ``self_report_change`` - mean self-reported pain in the 7 days after - the 7 days before;
* ``rom_change`` - mean change in range of motion over the visit's paired readings (degrees).

The model, fitted by :func:`analyse`::

    outcome ~ one 0/1 column per technique            (not one categorical "mix" label)
              + pain before the visit                  (baseline: regression to the mean)
              + visit number                           (course trend)
              + pressure (categorical, 1-5; reference 3)
              + complaint region (categorical)         (constant per client)
              [+ the outcome's own baseline / days to next visit, for the secondary outcomes]
              + every client's mean of each time-varying column above (Mundlak 1978)
              + random intercept per client            (visits of one client are not independent)

fitted with ``statsmodels`` ``MixedLM`` (REML; Pinheiro & Bates 2000).  With the client means
in the model, each technique's coefficient is exactly the within-client (fixed-effects)
comparison - a client's visits with it against the same client's visits without it - which
is what the SQL path of large practices estimates too (:mod:`pipelines.techniques.analysis`).
When there are fewer than :data:`MIN_CLIENTS_MIXED_MODEL` clients, or the fit fails, does not
converge or puts the client variance on the boundary, the stated fallback is OLS with the same
columns: the same within-client estimates.  Intervals are cluster-robust by client (t with
clients - 1 degrees of freedom) on every path; the method used is part of the result.

* **Per technique**: the effect (points on 0-10), a 95 % interval, the p-value and the
  Holm-adjusted p-value (``multipletests(method="holm")``, across the techniques with an
  estimate), and a standardised effect size (effect / sqrt(client variance + residual variance)).
* **Minimum n**: an estimate only when at least ``analysis.min_clients_per_arm`` clients
  (settings; default 8) had visits both with and without the technique; below that only the
  counts.
* **Collinearity**: techniques always used together, or not varying within any client, or
  otherwise linearly dependent within clients cannot be separated - no estimate, a note.
* **Pairs**: every pair with enough co-use is screened for a within-client synergy (the
  interaction a×b), with Benjamini-Hochberg p-values; a synergy that survives a Holm step-down
  forward selection joins the main model (at most :data:`MAX_MODEL_INTERACTIONS`) and is then
  shown with its interval only (chosen by these data).  The main effects of such a pair then
  mean "used without its partner", and the rows say so.
* **Mixes** (the exact set used in a visit): the model's predicted effect of exactly that mix -
  its techniques' effects plus the synergy of every pair in it that meets the minimum n (all such
  pairs, none chosen by these data, so the intervals need no allowance for a choice: :func:`_mix_fit`)
  - against a visit with none of them, beside the observed mean change
  (:func:`pipelines.techniques.common.mix_table`).
* **Pressure-response**: mean change at each pressure 1-5 (every visit's prediction with the
  pressure set to p, averaged), with its 95 % interval, and the difference from the reference.
* **Unadjusted differences** (mean with - mean without) are computed for teaching only and
  always labelled "unadjusted difference - not an effect".

Visits with no technique recorded are left out (an empty list means "not recorded", and
treating it as "no treatment" would bias every technique toward zero), as are visits
missing the outcome or pain before.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
import scipy.linalg
import scipy.optimize
import scipy.sparse
import scipy.stats

from pipelines.techniques.common import (
    ALPHA,
    BOUNDARY_RATIO,
    COVARIATE_LABELS,
    FEW_CLIENTS_SE,
    MAX_MODEL_INTERACTIONS,
    MIN_CLIENTS_MIXED_MODEL,
    MIN_CLIENTS_ROBUST,
    MIX_COLUMNS,
    NEAR_COLLINEAR_SHARE,
    OUTCOMES,
    PAIR_COLUMNS,
    PRESSURE_COLUMNS,
    PRESSURE_LEVELS,
    REFERENCE_PRESSURE,
    ROBUST_SE,
    SELECTED_SYNERGY_NOTE,
    SELF_REPORT_WINDOW_DAYS,
    TECHNIQUE_COLUMNS,
    Outcome,
    TechniqueReport,
    as_list,
    benjamini_hochberg,
    ci_p,
    default_min_clients,
    empty_report,
    holm,
    independent_columns,
    mix_table,
    standard_errors_text,
    too_few_note,
    with_filtered_visits,
)

VISITS_SQL = """
with

self_reports as (
    select client_id, cast(reported_at as date) as reported_on, pain from core.self_reports
),

filtered as (
    select
        filtered_visits.visit_id,
        filtered_visits.client_id,
        filtered_visits.visit_date,
        filtered_visits.visit_number,
        coalesce(filtered_visits.therapist, 'unspecified') as therapist,
        filtered_visits.pressure,
        filtered_visits.techniques,
        filtered_visits.technique_set,
        filtered_visits.n_techniques,
        filtered_visits.pain_pre,
        filtered_visits.pain_post,
        filtered_visits.pain_change,
        filtered_visits.next_visit_date,
        filtered_visits.carryover_change,
        filtered_visits.rom_n_paired,
        filtered_visits.rom_mean_change_deg,
        filtered_visits.pain_region,
        filtered_visits.complaint_region
    from (/*filtered_visits*/) as filtered_visits
),

windows as (
    select
        filtered.visit_id,
        avg(self_reports.pain) filter (where self_reports.reported_on < filtered.visit_date) as self_pain_before_7d,
        avg(self_reports.pain) filter (where self_reports.reported_on > filtered.visit_date) as self_pain_after_7d
    from filtered
    inner join self_reports
        on self_reports.client_id = filtered.client_id
        and self_reports.reported_on between filtered.visit_date - $window and filtered.visit_date + $window
        and self_reports.reported_on <> filtered.visit_date
    group by filtered.visit_id
),

final as (
    select
        filtered.*,
        windows.self_pain_before_7d,
        windows.self_pain_after_7d,
        windows.self_pain_after_7d - windows.self_pain_before_7d as self_report_change
    from filtered
    left join windows on windows.visit_id = filtered.visit_id
)

select * from final
order by client_id, visit_number
"""

VISITS_SQL = with_filtered_visits(VISITS_SQL)

FILTER_OPTIONS_SQL = """
select
    list(distinct coalesce(clients.complaint_region, 'unspecified') order by coalesce(clients.complaint_region, 'unspecified')) as regions,
    list(distinct coalesce(visit_outcomes.therapist, 'unspecified') order by coalesce(visit_outcomes.therapist, 'unspecified')) as therapists,
    min(visit_outcomes.visit_date) as first_date,
    max(visit_outcomes.visit_date) as last_date
from marts.visit_outcomes as visit_outcomes
left join core.clients as clients on clients.client_id = visit_outcomes.client_id
"""


def load_visits(db=None, *, regions=None, therapists=None, date_from=None, date_to=None) -> pd.DataFrame:
    """Visit-level frame for the analysis (filters are bound parameters; ``None`` = no filter).

    ``regions`` filters on the client's complaint region (``"unspecified"`` for none),
    ``therapists`` on the visit's therapist, ``date_from``/``date_to`` on the visit date
    (inclusive).  One short-lived read-only connection (pipelines.warehouse.db).
    """
    from pipelines.warehouse.db import read_connection

    params = {
        "regions": as_list(regions),
        "therapists": as_list(therapists),
        "date_from": pd.Timestamp(date_from).date() if date_from is not None else None,
        "date_to": pd.Timestamp(date_to).date() if date_to is not None else None,
        "window": SELF_REPORT_WINDOW_DAYS,
    }
    with read_connection(db) as con:
        frame = con.execute(VISITS_SQL, params).df()
    return _tidy_visits(frame)


def filter_options(db=None) -> dict[str, Any]:
    """Complaint regions, therapists and the date range present in the database (for filters)."""
    from pipelines.warehouse.db import read_connection

    with read_connection(db) as con:
        row = con.execute(FILTER_OPTIONS_SQL).fetchone()
    regions, therapists, first, last = row
    return {
        "regions": list(regions or []),
        "therapists": list(therapists or []),
        "first_date": first,
        "last_date": last,
    }


def _tidy_visits(frame: pd.DataFrame) -> pd.DataFrame:
    """Plain numpy dtypes (no pandas NA extension types), techniques as lists of str."""
    out = frame.copy()
    for col in ("pressure", "visit_number", "n_techniques", "rom_n_paired"):
        if col in out:
            out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    for col in (
        "pain_pre",
        "pain_post",
        "pain_change",
        "carryover_change",
        "rom_mean_change_deg",
        "self_pain_before_7d",
        "self_pain_after_7d",
        "self_report_change",
    ):
        if col in out:
            out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    if "techniques" in out:
        out["techniques"] = [
            list(t) if t is not None and not (isinstance(t, float) and math.isnan(t)) else [] for t in out["techniques"]
        ]
    for col in ("visit_date", "next_visit_date"):
        if col in out:
            out[col] = pd.to_datetime(out[col])
    if "visit_date" in out and "next_visit_date" in out:
        days = (out["next_visit_date"] - out["visit_date"]).dt.days.astype(float)
        out["days_to_next"] = days
        out["log_days_to_next"] = np.log(days.clip(lower=1))
    for col in ("client_id", "visit_id", "complaint_region", "therapist", "technique_set"):
        if col in out:
            out[col] = out[col].astype(object)
    return out


# ---------------------------------------------------------------------------
# Linear algebra: random-intercept GLS with given variance components, cluster sandwich
# ---------------------------------------------------------------------------


class _Groups:
    """Client codes and the quasi-demeaning weights of a random-intercept model."""

    def __init__(self, codes: np.ndarray, tau2: float, sigma2: float):
        self.codes = codes
        self.n_groups = int(codes.max()) + 1 if codes.size else 0
        self.sizes = np.bincount(codes, minlength=self.n_groups).astype(float)
        self.ind = scipy.sparse.csr_matrix(
            (np.ones(codes.size), (codes, np.arange(codes.size))), shape=(self.n_groups, codes.size)
        )
        tau2 = max(float(tau2), 0.0)
        self.tau2, self.sigma2 = tau2, float(sigma2)
        self.theta = (
            1.0 - np.sqrt(self.sigma2 / (self.sigma2 + self.sizes * tau2)) if tau2 > 0 else np.zeros(self.n_groups)
        )

    def transform(self, a: np.ndarray) -> np.ndarray:
        """a - theta_i * mean_i(a): GLS for a random intercept becomes OLS on the result."""
        if not self.theta.any():
            return np.asarray(a, dtype=float)
        a = np.asarray(a, dtype=float)
        means = (self.ind @ a) / (self.sizes[:, None] if a.ndim == 2 else self.sizes)
        shift = (self.theta[:, None] * means if a.ndim == 2 else self.theta * means)[self.codes]
        return a - shift

    def cluster_meat(self, scores: np.ndarray) -> np.ndarray:
        s = self.ind @ scores  # per-client sums of x_i * e_i
        return s.T @ s if s.ndim == 2 else float(s @ s)

    def cluster_factor(self, n: int, k: int) -> float:
        g = self.n_groups
        return (g / max(g - 1, 1)) * ((n - 1) / max(n - k, 1))


@dataclass
class _Fit:
    beta: np.ndarray
    cov: np.ndarray
    names: list[str]
    dist: str  # "z" or "t"
    df: float | None

    def ci(self, est: float, se: float) -> tuple[float, float]:
        q = scipy.stats.norm.ppf(1 - ALPHA / 2) if self.dist == "z" else scipy.stats.t.ppf(1 - ALPHA / 2, self.df)
        return est - q * se, est + q * se

    def pvalue(self, est: float, se: float) -> float:
        if not se > 0:
            return float("nan")
        stat = abs(est / se)
        return float(2 * (scipy.stats.norm.sf(stat) if self.dist == "z" else scipy.stats.t.sf(stat, self.df)))

    def linear(self, vec: np.ndarray) -> tuple[float, float]:
        est = float(vec @ self.beta)
        var = float(vec @ self.cov @ vec)
        return est, math.sqrt(max(var, 0.0))


def _gls_fit(y: np.ndarray, X: np.ndarray, groups: _Groups, names: list[str], cov: str) -> _Fit:
    ys, Xs = groups.transform(y), groups.transform(X)
    beta, *_ = np.linalg.lstsq(Xs, ys, rcond=None)
    resid = ys - Xs @ beta
    bread = np.linalg.pinv(Xs.T @ Xs)
    n, k = Xs.shape
    if cov == "model":
        return _Fit(beta, groups.sigma2 * bread, names, "t", max(groups.n_groups - 1, 1))
    meat = groups.cluster_meat(Xs * resid[:, None])
    # the small-sample factor counts the columns that vary within clients, as the SQL path
    # does: client-level columns (intercept, region, client means) are nested in the clusters
    # (Cameron & Miller 2015), so both paths give the same interval
    means = (groups.ind @ X) / groups.sizes[:, None]
    k_within = int((np.abs(X - means[groups.codes]).max(axis=0) > 1e-12).sum())
    V = groups.cluster_factor(n, k_within) * bread @ meat @ bread
    return _Fit(beta, V, names, "t", max(groups.n_groups - 1, 1))


class _ExtraColumnScreen:
    """Fits of ``base design + one extra column`` by Frisch-Waugh-Lovell, many at once.

    The base design is transformed and factorised once (Xs = QR); each extra column then
    costs one sparse product.  Exact for the GLS with the given variance components and
    model-based standard errors (the synergy screen).
    """

    def __init__(self, y: np.ndarray, X: np.ndarray, groups: _Groups):
        self.groups = groups
        self.Q, _ = np.linalg.qr(groups.transform(X))
        ys = groups.transform(y)
        self.ry = ys - self.Q @ (self.Q.T @ ys)
        self.df = float(max(groups.n_groups - 1, 1))

    def fit_many(self, Z: scipy.sparse.spmatrix) -> list[dict | None]:
        """Coefficient and standard error of every column of ``Z`` added on its own (None if collinear)."""
        Z = scipy.sparse.csc_matrix(Z, dtype=float)
        g = self.groups
        if g.theta.any():
            zbar = scipy.sparse.diags(g.theta / g.sizes) @ (g.ind @ Z)  # theta_i * client means, G x M
            Zs = scipy.sparse.csc_matrix(Z - g.ind.T @ zbar)
        else:
            Zs = Z
        QZ = np.asarray((Zs.T @ self.Q).T)  # k x M
        zz = np.asarray(Zs.multiply(Zs).sum(axis=0)).ravel()
        s = zz - (QZ**2).sum(axis=0)
        b = np.asarray(Zs.T @ self.ry).ravel() / np.where(s > 0, s, np.nan)
        out: list[dict | None] = []
        for j in range(Z.shape[1]):
            if not s[j] > 1e-9 * max(zz[j], 1e-12):
                out.append(None)
                continue
            out.append({"est": float(b[j]), "dist": "t", "df": self.df, "se": math.sqrt(g.sigma2 / s[j])})
        return out


# ---------------------------------------------------------------------------
# Design
# ---------------------------------------------------------------------------


@dataclass
class _Design:
    y: np.ndarray
    X: np.ndarray
    names: list[str]
    codes: np.ndarray
    tech_cols: dict[str, int]  # technique (or merged group label) -> column
    pressure_cols: dict[str, int]  # level -> column (reference has none)
    n_cov: int  # columns before the technique block (intercept + covariates)


def _pressure_labels(p: pd.Series) -> pd.Series:
    return p.map(lambda v: "unknown" if pd.isna(v) else str(int(v)))


def _covariate_block(
    df: pd.DataFrame, outcome: Outcome, reference_pressure: str | None, use_region: bool
) -> tuple[np.ndarray, list[str], dict[str, int]]:
    cols = [np.ones(len(df)), df["pain_pre"].to_numpy(float), df["visit_number"].to_numpy(float)]
    names = ["intercept", "pain_pre", "visit_number"]
    for extra in outcome.extra_covariates:
        cols.append(df[extra].to_numpy(float))
        names.append(extra)
    pressure_cols: dict[str, int] = {}
    labels = _pressure_labels(df["pressure"])
    for level in sorted(labels.unique()):
        if level == reference_pressure:
            continue
        pressure_cols[level] = len(cols)
        cols.append((labels == level).to_numpy(float))
        names.append(f"pressure[{level}]")
    if use_region:
        regions = sorted(df["complaint_region"].unique())
        for region in regions[1:]:
            cols.append((df["complaint_region"] == region).to_numpy(float))
            names.append(f"region[{region}]")
    return np.column_stack(cols), names, pressure_cols


def _indicators(df: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    techs = sorted({t for ts in df["techniques"] for t in ts})
    index = {t: i for i, t in enumerate(techs)}
    rows = np.repeat(np.arange(len(df)), [len(ts) for ts in df["techniques"]])
    cols = np.fromiter((index[t] for ts in df["techniques"] for t in ts), dtype=np.int64, count=rows.size)
    T = np.zeros((len(df), len(techs)))
    T[rows, cols] = 1.0
    return techs, T


def _clients_with(mask: np.ndarray, codes: np.ndarray) -> int:
    """How many distinct clients have at least one visit in ``mask``."""
    if not mask.any():
        return 0
    return int(np.count_nonzero(np.bincount(codes[mask])))


METHOD_MIXED = (
    "within-client comparison: mixed model (random intercept per client, REML) with each client's means (Mundlak)"
)
TIME_VARYING = {"pain_pre", "visit_number", "log_days_to_next", "self_pain_before_7d"}


class _ClientMeans:
    """Every client's mean of a column, and the column minus it (the within-client part).

    Adding the client means of every time-varying column to a random-intercept model (Mundlak
    1978) makes the coefficients of the columns themselves exactly the within-client
    (fixed-effects) estimates: the within parts are orthogonal to anything constant within a
    client, whatever the variance components.  So the mixed model, its OLS fallback and the
    SQL path of large practices all estimate one thing.
    """

    def __init__(self, codes: np.ndarray):
        self.codes = codes
        self.sizes = np.bincount(codes).astype(float) if codes.size else np.zeros(0)

    def of(self, a: np.ndarray) -> np.ndarray:
        a = np.asarray(a, dtype=float)
        if a.ndim == 1:
            return (np.bincount(self.codes, weights=a, minlength=self.sizes.size) / self.sizes)[self.codes]
        return np.column_stack([self.of(a[:, j]) for j in range(a.shape[1])]) if a.shape[1] else a

    def within(self, a: np.ndarray) -> np.ndarray:
        return np.asarray(a, dtype=float) - self.of(a)

    def append(self, X: np.ndarray, names: list[str], cols: Iterable[int]) -> tuple[np.ndarray, list[str]]:
        """``X`` with the client means of ``cols`` added, leaving out any that adds nothing new
        (a column without within-client variation is its own mean)."""
        Q, _ = np.linalg.qr(X)
        extra, extra_names = [], []
        for j in cols:
            m = self.of(X[:, j])
            r = m - Q @ (Q.T @ m)
            if float(r @ r) <= 1e-9 * max(float(m @ m), 1e-12):
                continue
            extra.append(m)
            extra_names.append(f"client mean of {names[j]}")
            Q = np.column_stack([Q, r / math.sqrt(float(r @ r))])
        if not extra:
            return X, names
        return np.column_stack([X, *extra]), names + extra_names


# ---------------------------------------------------------------------------
# Analysis
# ---------------------------------------------------------------------------


def prepare(visits: pd.DataFrame, outcome: str | Outcome = "pain_change") -> tuple[pd.DataFrame, dict[str, int]]:
    """The visits the model can use for ``outcome``, and how many were left out and why."""
    oc = OUTCOMES[outcome] if isinstance(outcome, str) else outcome
    df = visits
    excluded: dict[str, int] = {}

    def drop(mask: pd.Series, reason: str):
        nonlocal df
        n = int(mask.sum())
        if n:
            excluded[reason] = excluded.get(reason, 0) + n
            df = df.loc[~mask]

    drop(df["techniques"].map(len) == 0, "no technique recorded")
    drop(df["pain_pre"].isna(), "no pain before the visit")
    drop(df[oc.column].isna(), f"no {oc.key.replace('_', ' ')} (outcome missing)")
    for extra in oc.extra_covariates:
        drop(df[extra].isna() | ~np.isfinite(df[extra].astype(float)), f"no {extra.replace('_', ' ')}")
    return df.reset_index(drop=True), excluded


def analyse(
    visits: pd.DataFrame,
    outcome: str | Outcome = "pain_change",
    *,
    min_clients: int | None = None,
    pairs: bool = True,
    mixes: bool = True,
    adjust_region: bool = True,
    force_fallback: str | None = None,
    standard_errors: str = "robust",
) -> TechniqueReport:
    """The technique-response analysis of ``visits`` (a :func:`load_visits` frame).

    ``min_clients`` is the minimum number of clients per arm (default: the settings default, 8).
    ``pairs``/``mixes`` switch the pair and mix tables off (subgroups, quick looks).
    ``adjust_region`` adds the complaint region as a covariate when there is more than one.
    ``force_fallback`` (a reason string) skips the mixed model - for tests and comparisons.
    ``standard_errors``: ``"robust"`` (the default: cluster-robust sandwich by client around the
    mixed-model estimates - the same intervals as the SQL path of large practices) or
    ``"model"`` (mixed-model based; a sensitivity check).
    Intervals and p-values use a t reference with clients - 1 degrees of freedom (a
    conservative small-sample choice for clustered data; the normal for large practices).
    """
    if standard_errors not in ("model", "robust"):
        raise ValueError("standard_errors must be 'model' or 'robust'")
    oc = OUTCOMES[outcome] if isinstance(outcome, str) else outcome
    min_n = int(min_clients if min_clients is not None else default_min_clients())
    df, excluded = prepare(visits, oc)
    notes_warn: list[str] = []
    codes, uniques = pd.factorize(df["client_id"]) if len(df) else (np.zeros(0, dtype=np.int64), [])
    codes = np.asarray(codes, dtype=np.int64)
    n_clients = len(uniques)

    techs, T = _indicators(df) if len(df) else ([], np.zeros((0, 0)))
    base_rows = _base_technique_rows(df, techs, T, codes, oc)
    if len(df) == 0 or n_clients < 2:
        return empty_report(
            oc, min_n, df, n_clients, excluded, base_rows, "too few visits with this outcome to analyse"
        )

    # --- covariates, with every client's means of the time-varying ones (Mundlak) ------------
    labels = _pressure_labels(df["pressure"])
    present = set(labels.unique()) - {"unknown"}
    ref_p = (
        str(REFERENCE_PRESSURE)
        if str(REFERENCE_PRESSURE) in present
        else (labels[labels != "unknown"].mode().iloc[0] if present else None)
    )
    if ref_p is None:
        ref_p = "unknown"
    use_region = adjust_region and df["complaint_region"].nunique() > 1
    C, c_names, p_cols = _covariate_block(df, oc, ref_p, use_region)
    C, c_names, p_cols = _drop_dependent_covariates(C, c_names, p_cols)
    means = _ClientMeans(codes)
    varying = [i for i, name in enumerate(c_names) if name in TIME_VARYING or name.startswith("pressure[")]

    # --- technique columns: variation within clients, identical columns, linear dependence ----
    W = means.within(T)
    keep, blocked, tech_notes = _screen_technique_columns(techs, T, W, means.within(C[:, varying]), notes_warn)
    model_techs = [t for t in techs if t in keep]
    for t, note in tech_notes.items():
        base_rows[t]["note"] = note

    arm_ok = {}
    for t in techs:
        row = base_rows[t]
        arm_ok[t] = t in keep and t not in blocked and row["n_clients_both"] >= min_n
        if t in keep and t not in blocked and not arm_ok[t]:
            row["note"] = too_few_note(row["n_clients_both"], min_n)
    _near_collinear_warnings(techs, T, keep, notes_warn)

    y = df[oc.column].to_numpy(float)
    tcols = [techs.index(t) for t in model_techs]
    X = np.column_stack([C, T[:, tcols]]) if tcols else C
    names = c_names + [f"tech[{t}]" for t in model_techs]
    X, names = means.append(X, names, [*varying, *range(C.shape[1], X.shape[1])])
    design = _Design(y, X, names, codes, {t: C.shape[1] + i for i, t in enumerate(model_techs)}, p_cols, C.shape[1])

    # --- main model -----------------------------------------------------------------------
    fit, method, reason, tau2, sigma2, groups, cov_kind = _fit_main(design, n_clients, force_fallback, standard_errors)

    # --- pairs: screened within clients with the main fit's variance components -------------
    pair_df = pd.DataFrame(columns=PAIR_COLUMNS)
    interactions: list[tuple[str, str]] = []
    base_design, candidates = design, []
    if pairs and len(model_techs) >= 2:
        candidates = _pair_candidates([t for t in model_techs if t not in blocked], T, techs, codes, min_n)
        interactions = _select_interactions(design, candidates, T, techs, means)
        if interactions:
            design = _with_interactions(design, interactions, T, techs, means)
            fit, method, reason, tau2, sigma2, groups, cov_kind = _fit_main(
                design, n_clients, force_fallback, standard_errors
            )
        pair_df = _pair_table(design, fit, candidates, interactions, T, techs, means)

    if reason is not None:
        notes_warn.insert(0, f"Method: {method}.")

    # --- technique rows -------------------------------------------------------------------
    sd_total = math.sqrt(max(tau2, 0.0) + max(sigma2, 0.0)) if sigma2 else float("nan")
    partners = {}
    for a, b in interactions:
        partners.setdefault(a, []).append(b)
        partners.setdefault(b, []).append(a)
    for t in techs:
        row = base_rows[t]
        row["estimable"] = bool(arm_ok.get(t))
        if not row["estimable"]:
            continue
        j = design.tech_cols[t]
        est, est_se = float(fit.beta[j]), math.sqrt(max(fit.cov[j, j], 0.0))
        lo, hi, p = ci_p(est, est_se, fit.dist, fit.df)
        row.update(
            effect=est,
            se=est_se,
            ci_low=lo,
            ci_high=hi,
            p=p,
            effect_size=est / sd_total if sd_total and sd_total > 0 else float("nan"),
            note=f"from the {row['n_clients_both']:,} clients who had visits with and without it",
        )
        if t in partners:
            row["note"] = (
                "effect when used without " + " or ".join(partners[t]) + "; the pair's synergy is in the pairs table"
            )
    tech_df = pd.DataFrame([base_rows[t] for t in techs], columns=TECHNIQUE_COLUMNS)
    tech_df["p_adjusted"] = holm(tech_df["p"].where(tech_df["estimable"]))
    tech_df = tech_df.sort_values(
        ["estimable", "effect", "n_visits"], ascending=[False, not oc.higher_is_better, False], na_position="last"
    ).reset_index(drop=True)

    # --- pressure-response ----------------------------------------------------------------
    pressure_df = _pressure_table(design, fit, df, labels, codes, ref_p, min_n)

    # --- mixes: the model's prediction for each exact mix -------------------------------------
    mix_df = pd.DataFrame(columns=MIX_COLUMNS)
    if mixes:
        mix_fit, mix_names = _mix_fit(base_design, fit, candidates, T, techs, means, groups, cov_kind, n_clients)
        mix_df = mix_table(
            _mix_counts(df, y),
            beta=mix_fit.beta,
            cov=mix_fit.cov,
            names=mix_names,
            estimable={t for t, ok in arm_ok.items() if ok},
            df=mix_fit.df,
            higher_is_better=oc.higher_is_better,
        )

    return TechniqueReport(
        outcome=oc,
        method=method,
        method_reason=reason,
        min_clients=min_n,
        n_visits=len(df),
        n_clients=n_clients,
        excluded=excluded,
        techniques=tech_df,
        pairs=pair_df,
        mixes=mix_df,
        pressure=pressure_df,
        reference_pressure=int(ref_p) if ref_p not in (None, "unknown") else None,
        model_interactions=interactions,
        warnings=notes_warn,
        client_variance=tau2 if reason is None else None,
        residual_variance=sigma2,
        covariates=[n for n in c_names if n != "intercept"],
        adjusted_for=_adjusted_for(c_names, oc, ref_p),
    )


def _adjusted_for(names: list[str], oc: Outcome, ref_p: str | None) -> list[str]:
    out = [COVARIATE_LABELS[n] for n in names if n in COVARIATE_LABELS]
    if any(n.startswith("pressure[") for n in names):
        out.append(f"pressure (categorical, reference {ref_p})")
    if any(n.startswith("region[") for n in names):
        out.append("complaint region")
    return out


def _base_technique_rows(df, techs, T, codes, oc) -> dict[str, dict]:
    rows = {}
    y = df[oc.column].to_numpy(float) if len(df) else np.zeros(0)
    all_clients = np.unique(codes).size
    for j, t in enumerate(techs):
        used = T[:, j] == 1
        n_with = _clients_with(used, codes)
        n_without = _clients_with(~used, codes)
        n_both = (
            int(
                np.count_nonzero(
                    np.bincount(codes[used], minlength=all_clients) * np.bincount(codes[~used], minlength=all_clients)
                )
            )
            if len(codes)
            else 0
        )
        unadj = float(y[used].mean() - y[~used].mean()) if used.any() and (~used).any() else float("nan")
        rows[t] = {
            "technique": t,
            "n_visits": int(used.sum()),
            "n_clients": n_with,
            "n_clients_without": n_without if all_clients else 0,
            "n_clients_both": n_both,
            "estimable": False,
            "effect": float("nan"),
            "ci_low": float("nan"),
            "ci_high": float("nan"),
            "se": float("nan"),
            "p": float("nan"),
            "p_adjusted": float("nan"),
            "effect_size": float("nan"),
            "unadjusted_difference": unadj,
            "note": "",
        }
    return rows


def _drop_dependent_covariates(C, names, p_cols):
    """Drop covariate columns that are constant or linear combinations of earlier ones."""
    _, R, piv = scipy.linalg.qr(C, mode="economic", pivoting=True)
    diag = np.abs(np.diag(R))
    tol = diag.max() * max(C.shape) * np.finfo(float).eps * 10 if diag.size else 0
    rank = int((diag > tol).sum())
    if rank == C.shape[1]:
        return C, names, p_cols
    dependent = set(piv[rank:].tolist()) - {0}
    keep = [i for i in range(C.shape[1]) if i not in dependent]
    new_index = {old: new for new, old in enumerate(keep)}
    p_cols = {lvl: new_index[c] for lvl, c in p_cols.items() if c in new_index}
    return C[:, keep], [names[i] for i in keep], p_cols


def _screen_technique_columns(techs, T, W, Cw, warn: list[str]) -> tuple[list[str], set[str], dict[str, str]]:
    """Which technique columns can enter the model; notes for the ones that cannot.

    ``W`` and ``Cw`` are the within-client parts of the technique and time-varying covariate
    columns: a technique is separable only by how it varies within clients.
    """
    notes: dict[str, str] = {}
    keep: list[str] = []
    n = T.shape[0]
    for j, t in enumerate(techs):
        used = int(T[:, j].sum())
        if used == n:
            notes[t] = "used in every visit analysed: nothing to compare with"
        elif not np.abs(W[:, j]).max() > 1e-12:
            notes[t] = "no client had visits both with and without it: nothing to compare within clients"
        else:
            keep.append(t)
    # identical columns: always used together
    seen: dict[bytes, str] = {}
    groups: dict[str, list[str]] = {}
    for t in list(keep):
        key = np.packbits(T[:, techs.index(t)].astype(bool)).tobytes()
        if key in seen:
            groups.setdefault(seen[key], [seen[key]]).append(t)
        else:
            seen[key] = t
    for _first, members in groups.items():
        for t in members:
            others = [m for m in members if m != t]
            notes[t] = (
                "always used together with " + ", ".join(others) + ": their effects cannot be separated (collinear)"
            )
        warn.append(
            "Collinear: " + " and ".join(members) + " are always used together, so their separate "
            "effects cannot be estimated; they are adjusted for as one block."
        )
        for t in members[1:]:
            keep.remove(t)
    # remaining linear dependence (e.g. a = b + c across all visits)
    if keep:
        M = np.column_stack([Cw, W[:, [techs.index(t) for t in keep]]])
        _, R, piv = scipy.linalg.qr(M, mode="economic", pivoting=True)
        diag = np.abs(np.diag(R))
        tol = diag.max() * max(M.shape) * np.finfo(float).eps * 10
        rank = int((diag > tol).sum())
        if rank < M.shape[1]:
            dependent = [keep[i - Cw.shape[1]] for i in piv[rank:] if i >= Cw.shape[1]]
            for t in dependent:
                keep.remove(t)
                notes[t] = "collinear with other techniques or covariates: cannot be separated"
            if dependent:
                warn.append(
                    "Collinear: " + ", ".join(dependent) + " cannot be separated from the other "
                    "techniques and covariates (a linear combination of them); no estimate."
                )
    # a block of always-together techniques stays in the model through its first member
    # (so the others are adjusted for it) but none of its members gets an estimate
    blocked = {t for members in groups.values() for t in members}
    return keep, blocked, notes


def _near_collinear_warnings(techs, T, keep, warn):
    cols = [t for t in techs if t in keep]
    for a, b in combinations(cols, 2):
        ua, ub = T[:, techs.index(a)] == 1, T[:, techs.index(b)] == 1
        either = int((ua | ub).sum())
        both = int((ua & ub).sum())
        if either >= 10 and both / either >= NEAR_COLLINEAR_SHARE:
            warn.append(
                f"Nearly collinear: {a} and {b} are used together in {both / either:.0%} of the visits "
                "using either, so their separate effects are uncertain."
            )


def _fit_main(design: _Design, n_clients: int, force_fallback: str | None, standard_errors: str = "model"):
    """MixedLM (REML, random intercept per client), or the stated fallback with its reason.

    Returns (fit, method, fallback reason or None, client variance, residual variance,
    the GLS weights for screening fits, and their covariance kind "model"/"cluster").
    """
    reason = force_fallback
    if reason is None and n_clients < MIN_CLIENTS_MIXED_MODEL:
        reason = f"only {n_clients} clients (a mixed model needs at least {MIN_CLIENTS_MIXED_MODEL})"
    fit = tau2 = sigma2 = None
    if reason is None:
        fit, tau2, sigma2, reason = _fit_mixed(design)
    if reason is not None:
        groups = _Groups(design.codes, 0.0, 1.0)
        fit = _gls_fit(design.y, design.X, groups, design.names, "cluster")
        resid = design.y - design.X @ fit.beta
        n, k = design.X.shape
        sigma2 = float(resid @ resid / max(n - k, 1))
        if n_clients < MIN_CLIENTS_ROBUST:
            fit = _within_model_based(design, fit)
        method = (
            f"within-client comparison: OLS with each client's means (Mundlak), "
            f"{standard_errors_text(n_clients)} (fallback: {reason})"
        )
        return fit, method, reason, 0.0, sigma2, groups, "cluster"
    groups = _Groups(design.codes, tau2, sigma2)
    if standard_errors == "robust" and n_clients < MIN_CLIENTS_ROBUST:
        return (
            _within_model_based(design, fit),
            f"{METHOD_MIXED}, {FEW_CLIENTS_SE}",
            None,
            tau2,
            sigma2,
            groups,
            "model",
        )
    if standard_errors == "robust":
        fit = _gls_fit(design.y, design.X, groups, design.names, "cluster")
        return fit, f"{METHOD_MIXED}, {ROBUST_SE}", None, tau2, sigma2, groups, "cluster"
    return fit, f"{METHOD_MIXED}, model-based standard errors", None, tau2, sigma2, groups, "model"


def _within_model_based(design: _Design, fit: _Fit) -> _Fit:
    """The fit's coefficients with within-client model-based covariance (as the SQL path's):
    the within residual variance over visits - clients - within columns, t on those df."""
    means = _ClientMeans(design.codes)
    W = means.within(design.X)
    resid = means.within(design.y) - W @ fit.beta
    k_within = int((np.abs(W).max(axis=0) > 1e-12).sum())
    n, n_groups = len(design.y), int(design.codes.max()) + 1
    df = max(n - n_groups - k_within, 1)
    groups = _Groups(design.codes, 0.0, float(resid @ resid) / df)
    bread = np.linalg.pinv(groups.transform(design.X).T @ groups.transform(design.X))
    return _Fit(fit.beta, groups.sigma2 * bread, design.names, "t", df)


def _reml_profile(y: np.ndarray, X: np.ndarray, codes: np.ndarray) -> tuple[float, np.ndarray, float]:
    """REML estimate of gamma = client variance / residual variance by a 1-D profile search.

    Uses per-client sufficient statistics, so each evaluation costs O(clients * p^2): the
    result is only the *starting point* handed to ``MixedLM``, which does the actual fit.
    Returns (gamma, fixed effects at gamma, residual variance).
    """
    n, p = X.shape
    sizes = np.bincount(codes).astype(float)
    ind = scipy.sparse.csr_matrix((np.ones(n), (codes, np.arange(n))), shape=(sizes.size, n))
    Xbar = (ind @ X) / sizes[:, None]
    ybar = (ind @ y) / sizes
    XtX, Xty, yty = X.T @ X, X.T @ y, float(y @ y)

    def parts(gamma):
        theta = 1.0 - 1.0 / np.sqrt(1.0 + sizes * gamma)
        w = sizes * theta * (2.0 - theta)
        Xw = Xbar * w[:, None]
        A = XtX - Xw.T @ Xbar
        b = Xty - Xw.T @ ybar
        c = yty - float((w * ybar) @ ybar)
        cho = scipy.linalg.cho_factor(A)
        beta = scipy.linalg.cho_solve(cho, b)
        rss = max(c - float(b @ beta), 1e-300)
        logdet = 2.0 * float(np.log(np.diag(cho[0])).sum())
        return rss, logdet, beta

    def negll(log_gamma):
        gamma = math.exp(log_gamma)
        rss, logdet, _ = parts(gamma)
        return 0.5 * ((n - p) * math.log(rss / (n - p)) + float(np.log1p(sizes * gamma).sum()) + logdet)

    res = scipy.optimize.minimize_scalar(negll, bounds=(-14.0, 6.0), method="bounded", options={"xatol": 1e-6})
    gamma = math.exp(res.x)
    rss, _, beta = parts(gamma)
    return gamma, beta, rss / (n - p)


def _fit_mixed(design: _Design):
    from statsmodels.regression.mixed_linear_model import MixedLM, MixedLMParams

    k = design.X.shape[1]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            gamma, beta0, _ = _reml_profile(design.y, design.X, design.codes)
            start = MixedLMParams.from_components(fe_params=beta0, cov_re=np.array([[max(gamma, 1e-6)]]))
            res = MixedLM(design.y, design.X, groups=design.codes).fit(reml=True, start_params=start)
        except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
            return None, None, None, f"the mixed model failed ({type(exc).__name__}: {exc})"
    messages = [str(w.message) for w in caught]
    tau2 = float(np.asarray(res.cov_re)[0, 0])
    sigma2 = float(res.scale)
    cov = np.asarray(res.cov_params())[:k, :k]
    if not getattr(res, "converged", True) or any(
        "converge" in m.lower() and "boundary" not in m.lower() for m in messages
    ):
        return None, None, None, "the mixed model did not converge"
    if tau2 <= BOUNDARY_RATIO * sigma2 or any("boundary" in m.lower() or "singular" in m.lower() for m in messages):
        return None, None, None, "the client variance is on the boundary (estimated as about zero)"
    if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) <= 0):
        return None, None, None, "the mixed model's standard errors could not be computed"
    n_groups = int(design.codes.max()) + 1
    return _Fit(np.asarray(res.fe_params), cov, design.names, "t", max(n_groups - 1, 1)), tau2, sigma2, None


def _with_interactions(design: _Design, interactions, T, techs, means: _ClientMeans) -> _Design:
    """The design with the chosen synergy columns and their client means (as for every column)."""
    extra = np.column_stack([T[:, techs.index(a)] * T[:, techs.index(b)] for a, b in interactions])
    k = design.X.shape[1]
    X, names = means.append(
        np.column_stack([design.X, extra]),
        design.names + [f"tech[{a}]×tech[{b}]" for a, b in interactions],
        range(k, k + extra.shape[1]),
    )
    return _Design(design.y, X, names, design.codes, design.tech_cols, design.pressure_cols, design.n_cov)


def _mix_fit(design: _Design, fit: _Fit, candidates, T, techs, means, groups, cov_kind: str, n_clients: int):
    """The model the mix ranking predicts from: every pair that meets the minimum n gets its synergy
    (none chosen by these data), so a mix's interval needs no allowance for a choice.

    The forward-selected synergies of the main model are chosen by the same data that estimate them,
    and a real synergy the selection misses biases every mix with either technique: the intervals
    covered planted mix effects in 74 % of simulated practices against 94 % with every estimable pair
    (benchmarks/RESULTS_techniques.md).  A pair whose column is a combination of the others (within
    clients) adds nothing and is left out, in the same order as the SQL path.  The variance
    components are the main fit's; the intervals are of the same kind (cluster-robust from 30
    clients, within-client model-based below).  Returns the fit and its column names."""
    ok = [(c["technique_a"], c["technique_b"]) for c in candidates if c.get("_ok")]
    if not ok:
        return fit, design.names
    full = _with_interactions(design, ok, T, techs, means)
    W = means.within(full.X)
    k = design.X.shape[1]
    gram = W.T @ W
    base = independent_columns(gram, list(range(k)))
    kept = [j for j in independent_columns(gram, base + list(range(k, k + len(ok)))) if j >= k]
    if not kept:
        return _refit(design, groups, cov_kind, n_clients), design.names
    mix_design = _with_interactions(design, [ok[j - k] for j in kept], T, techs, means)
    return _refit(mix_design, groups, cov_kind, n_clients), mix_design.names


def _refit(design: _Design, groups, cov_kind: str, n_clients: int) -> _Fit:
    """GLS with the main fit's variance components and the main fit's kind of covariance."""
    f = _gls_fit(design.y, design.X, groups, design.names, "cluster" if cov_kind == "cluster" else "model")
    return _within_model_based(design, f) if n_clients < MIN_CLIENTS_ROBUST else f


def _pair_candidates(model_techs, T, techs, codes, min_n) -> list[dict]:
    """Every pair used together at least once, with its counts and whether it meets the minimum n."""
    rows = []
    for a, b in combinations(model_techs, 2):
        ua, ub = T[:, techs.index(a)] == 1, T[:, techs.index(b)] == 1
        both = ua & ub
        if not both.any():
            continue
        row = {
            "technique_a": a,
            "technique_b": b,
            "n_visits_both": int(both.sum()),
            "n_clients_both": _clients_with(both, codes),
            "n_clients_a_only": _clients_with(ua & ~ub, codes),
            "n_clients_b_only": _clients_with(ub & ~ua, codes),
            "estimable": False,
            "interaction": float("nan"),
            "ci_low": float("nan"),
            "ci_high": float("nan"),
            "se": float("nan"),
            "p": float("nan"),
            "p_adjusted": float("nan"),
            "in_main_model": False,
            "note": "",
        }
        row["_ok"] = min(row["n_clients_both"], row["n_clients_a_only"], row["n_clients_b_only"]) >= min_n
        if not row["_ok"]:
            row["note"] = (
                f"too few clients: {row['n_clients_both']} with both, {row['n_clients_a_only']} "
                f"with {a} only, {row['n_clients_b_only']} with {b} only (minimum {min_n} each)"
            )
        rows.append(row)
    return rows


def _screen_pairs(design, candidates, skip, T, techs, means) -> dict[tuple[str, str], dict]:
    """Every eligible pair's synergy given the design, by the within-client (fixed-effects) fit.

    Outcome, design and pair column all enter by their within-client parts, with the
    within-client residual variance and model-based standard errors: exactly the screen of the
    SQL path (pipelines.techniques.large), so both paths choose the same synergies.
    """
    keys = [
        (r["technique_a"], r["technique_b"])
        for r in candidates
        if r["_ok"] and (r["technique_a"], r["technique_b"]) not in skip
    ]
    if not keys:
        return {}
    Xw = means.within(design.X)
    _, R, piv = scipy.linalg.qr(Xw, mode="economic", pivoting=True)
    diag = np.abs(np.diag(R))
    rank = int((diag > diag.max() * max(Xw.shape) * np.finfo(float).eps * 10).sum()) if diag.size else 0
    Xw = Xw[:, np.sort(piv[:rank])]
    yw = means.within(design.y)
    beta, *_ = np.linalg.lstsq(Xw, yw, rcond=None)
    resid = yw - Xw @ beta
    n_groups = int(design.codes.max()) + 1
    sigma2 = float(resid @ resid) / max(len(yw) - n_groups - rank, 1)
    Z = scipy.sparse.csc_matrix(
        np.column_stack([means.within(T[:, techs.index(a)] * T[:, techs.index(b)]) for a, b in keys])
    )
    groups = _Groups(design.codes, 0.0, sigma2)
    results = _ExtraColumnScreen(yw, Xw, groups).fit_many(Z)
    return {key: res for key, res in zip(keys, results) if res is not None}


def _select_interactions(design, candidates, T, techs, means) -> list[tuple[str, str]]:
    """Forward selection of synergies, step-down like Holm.

    At each step every remaining eligible pair is screened given the interactions already
    chosen; the smallest p is added when it survives Holm's threshold alpha / (pairs left).
    Screening one pair at a time in a purely additive model would be misleading: one real
    synergy left out shows up as spurious "interactions" of its members with other techniques.
    """
    chosen: list[tuple[str, str]] = []
    for _ in range(MAX_MODEL_INTERACTIONS):
        current = _with_interactions(design, chosen, T, techs, means) if chosen else design
        results = _screen_pairs(current, candidates, set(chosen), T, techs, means)
        if not results:
            break
        pvals = {key: ci_p(r["est"], r["se"], r["dist"], r["df"])[2] for key, r in results.items()}
        key, p = min(pvals.items(), key=lambda kv: kv[1])
        if not p < ALPHA / len(pvals):
            break
        chosen.append(key)
    return chosen


def _pair_table(design, fit, candidates, interactions, T, techs, means) -> pd.DataFrame:
    """Interaction estimates: chosen pairs from the final model, the others screened given it.

    A chosen synergy was picked by these very data, so its p-value would be too small
    (selection bias): it is shown with its interval only, as exploratory.  The others are a
    screen: Benjamini-Hochberg across them.
    """
    screened = _screen_pairs(design, candidates, set(interactions), T, techs, means)
    rows = []
    for cand in candidates:
        row = {k: v for k, v in cand.items() if not k.startswith("_")}
        key = (row["technique_a"], row["technique_b"])
        if key in interactions:
            j = design.names.index(f"tech[{key[0]}]×tech[{key[1]}]")
            est, se = float(fit.beta[j]), math.sqrt(max(fit.cov[j, j], 0.0))
            lo, hi, _ = ci_p(est, se, fit.dist, fit.df)
            row.update(
                estimable=True,
                interaction=est,
                se=se,
                ci_low=lo,
                ci_high=hi,
                in_main_model=True,
                note=SELECTED_SYNERGY_NOTE,
            )
        elif key in screened:
            r = screened[key]
            lo, hi, p = ci_p(r["est"], r["se"], r["dist"], r["df"])
            row.update(estimable=True, interaction=r["est"], se=r["se"], ci_low=lo, ci_high=hi, p=p)
        elif cand["_ok"]:
            row["note"] = "collinear with the main effects: the interaction cannot be estimated"
        rows.append(row)
    out = pd.DataFrame(rows, columns=PAIR_COLUMNS)
    if len(out):
        out["estimable"] = out["estimable"].astype(bool)
        out["in_main_model"] = out["in_main_model"].astype(bool)
        out["p_adjusted"] = benjamini_hochberg(out["p"].where(out["estimable"]))
        # chosen synergies first, in the order they were chosen (strongest first), then the screen by p
        order = {pair: i for i, pair in enumerate(interactions)}
        out["_order"] = [order.get(pair, len(order)) for pair in zip(out["technique_a"], out["technique_b"])]
        out = (
            out.sort_values(
                ["estimable", "_order", "p", "n_visits_both"], ascending=[False, True, True, False], na_position="last"
            )
            .drop(columns="_order")
            .reset_index(drop=True)
        )
    return out


def _pressure_table(design, fit, df, labels, codes, ref_p, min_n) -> pd.DataFrame:
    xbar = design.X.mean(axis=0)
    p_cols = design.pressure_cols
    rows = []
    for level in PRESSURE_LEVELS:
        key = str(level)
        mask = (labels == key).to_numpy()
        row = {
            "pressure": level,
            "n_visits": int(mask.sum()),
            "n_clients": _clients_with(mask, codes),
            "estimable": False,
            "adjusted_mean": float("nan"),
            "ci_low": float("nan"),
            "ci_high": float("nan"),
            "difference_vs_reference": float("nan"),
            "diff_ci_low": float("nan"),
            "diff_ci_high": float("nan"),
            "note": "",
        }
        if not mask.any():
            row["note"] = "not used"
        elif key != ref_p and key not in p_cols:
            row["note"] = "cannot be separated from the other covariates"
        elif row["n_clients"] < min_n:
            row["note"] = f"only {row['n_clients']} clients (minimum {min_n})"
        else:
            vec = xbar.copy()
            for c in p_cols.values():
                vec[c] = 0.0
            diff_vec = np.zeros_like(xbar)
            if key in p_cols:
                vec[p_cols[key]] = 1.0
                diff_vec[p_cols[key]] = 1.0
            est, se = fit.linear(vec)
            lo, hi = fit.ci(est, se)
            row.update(estimable=True, adjusted_mean=est, ci_low=lo, ci_high=hi)
            if key == ref_p:
                row.update(difference_vs_reference=0.0, diff_ci_low=0.0, diff_ci_high=0.0, note="reference")
            else:
                d, dse = fit.linear(diff_vec)
                dlo, dhi = fit.ci(d, dse)
                row.update(difference_vs_reference=d, diff_ci_low=dlo, diff_ci_high=dhi)
        rows.append(row)
    return pd.DataFrame(rows, columns=PRESSURE_COLUMNS)


def _mix_counts(df: pd.DataFrame, y: np.ndarray) -> pd.DataFrame:
    """Each exact mix with its visits, clients and the observed mean outcome (most used first)."""
    frame = pd.DataFrame({"mix": df["technique_set"].astype(str), "client_id": df["client_id"], "y": y})
    out = (
        frame.groupby("mix", sort=False)
        .agg(n_visits=("y", "size"), n_clients=("client_id", "nunique"), observed_mean=("y", "mean"))
        .reset_index()
    )
    out["techniques"] = [[t for t in m.split("+") if t] for m in out["mix"]]
    return out.sort_values(["n_visits", "mix"], ascending=[False, True]).reset_index(drop=True)


# ---------------------------------------------------------------------------
# Subgroups, drill-down, one-call entry point
# ---------------------------------------------------------------------------


def subgroups(
    visits: pd.DataFrame,
    by: str = "complaint_region",
    outcome: str | Outcome = "pain_change",
    *,
    min_clients: int | None = None,
) -> pd.DataFrame:
    """The technique table within each level of ``by`` (complaint region by default).

    Each level is analysed on its own (same model, without the region covariate); Holm is
    applied across every estimate in the whole table (one family).  Levels with fewer than
    twice the minimum clients are listed with their counts only.
    """
    min_n = int(min_clients if min_clients is not None else default_min_clients())
    parts = []
    for level, sub in visits.groupby(by, sort=True):
        n_cl = sub["client_id"].nunique()
        if n_cl < 2 * min_n:
            parts.append(
                pd.DataFrame(
                    [
                        {
                            by: level,
                            "technique": None,
                            "n_visits": len(sub),
                            "n_clients": n_cl,
                            "estimable": False,
                            "method": "",
                            "note": f"only {n_cl} clients in this group (minimum {2 * min_n})",
                        }
                    ]
                )
            )
            continue
        rep = analyse(sub, outcome, min_clients=min_n, pairs=False, mixes=False, adjust_region=False)
        t = rep.techniques.copy()
        t.insert(0, by, level)
        t["method"] = rep.method
        parts.append(t)
    if not parts:
        return pd.DataFrame(columns=[by, *TECHNIQUE_COLUMNS, "method"])
    out = pd.concat(parts, ignore_index=True)
    for col in TECHNIQUE_COLUMNS:
        if col not in out:
            out[col] = np.nan
    out["estimable"] = out["estimable"].fillna(False).astype(bool)
    out["p_adjusted"] = benjamini_hochberg(out["p"].where(out["estimable"]))
    return out[[by, *TECHNIQUE_COLUMNS, "method"]]


DRILL_COLUMNS = [
    "visit_id",
    "client_id",
    "visit_date",
    "visit_number",
    "therapist",
    "complaint_region",
    "pressure",
    "technique_set",
    "pain_pre",
    "pain_post",
    "pain_change",
    "carryover_change",
    "self_report_change",
    "rom_mean_change_deg",
]


def calibrated_baseline(visits: pd.DataFrame, reliability: float) -> tuple[pd.DataFrame, float]:
    """The visits with pain before the visit replaced by its regression-calibrated value.

    A pain score is measured with error (test-retest reliability ``r``, e.g. 0.76 for the NPRS),
    and adjusting for a noisy baseline under-corrects for regression to the mean, which can make
    a technique used at high pain look better or worse than it is (Lord's paradox).  Regression
    calibration (Carroll RJ et al., *Measurement Error in Nonlinear Models*, 2nd ed. 2006, ch. 4)
    replaces the observed value by its expected true value given everything else in the model:
    within clients, pain before is predicted from the techniques and visit number, and what that
    prediction leaves over is shrunk by its own reliability
    ``λ = 1 - SEM² / var(left over)``, ``SEM² = var(pain before)·(1 - r)``.  Returns the frame and λ.
    """
    means = _ClientMeans(np.asarray(pd.factorize(visits["client_id"])[0], dtype=np.int64))
    pre = visits["pain_pre"].to_numpy(float)
    _, T = _indicators(visits)
    Z = means.within(np.column_stack([T, visits["visit_number"].to_numpy(float)]))
    pre_w = means.within(pre)
    coef, *_ = np.linalg.lstsq(Z, pre_w, rcond=None)
    predicted = Z @ coef
    left = pre_w - predicted
    sem2 = float(np.var(pre, ddof=1)) * (1.0 - float(reliability))
    spread = float(np.var(left, ddof=1))
    lam = max(0.0, 1.0 - sem2 / spread) if spread > 0 else 0.0
    return visits.assign(pain_pre=means.of(pre) + predicted + lam * left), lam


def technique_visits(visits: pd.DataFrame, technique: str | None = None, mix: str | None = None) -> pd.DataFrame:
    """The visits behind an estimate: those using ``technique`` (or with exactly ``mix``)."""
    if mix is not None:
        mask = visits["technique_set"] == mix
    elif technique is not None:
        mask = visits["techniques"].map(lambda ts: technique in ts)
    else:
        mask = pd.Series(True, index=visits.index)
    cols = [c for c in DRILL_COLUMNS if c in visits]
    return visits.loc[mask, cols].sort_values(["visit_date", "client_id"]).reset_index(drop=True)
