"""Technique response for large practices: within-client estimates from SQL aggregates.

statsmodels' ``MixedLM`` (the model of :mod:`pipelines.techniques.model`) loops over clients in
Python and needs the whole visit frame in memory: 2.4 million visits take minutes and ~10 GB.
Above :data:`LARGE_DATA_VISITS` visits the analysis uses **client fixed effects** instead -
each client is compared with themselves (every covariate and the outcome minus the client's
own mean) - computed without ever bringing the visits into Python:

1. ``visits.sql`` puts the filtered visits, with the chosen outcome, into a temp table of
   the read-only connection (no writes to the database file).
2. Sufficient statistics in SQL: counts, sums and cross-products per (technique set,
   pressure) cell (``combos.sql``: every 0/1 regressor is constant within a cell), per
   client (``clients.sql``) and per client and technique set (``client_sets.sql``: a
   technique's, a pair's or a mix's per-client count is a sum over the client's sets).
   From these, numpy forms X'X and X'y of the within-client (demeaned) design exactly:
   ``A = X'X - sum_i S_i S_i' / n_i`` with S_i the client's column sums.
3. Coefficients ``b = A^-1 (X'y - sum_i S_i Sy_i / n_i)``.
4. Second SQL pass with ``b`` bound (``residuals.sql``, ``residual_sets.sql``): per
   client the score sums ``s_i = sum_t x_it (r_it - mean_i r)``, giving the cluster-robust
   (by client) sandwich ``A^-1 (sum_i s_i s_i') A^-1`` with the small-sample factor
   G/(G-1) * (N-1)/(N-k) (client effects not counted in k: they are nested in the clusters,
   Cameron & Miller 2015), and a t reference with clients - 1 degrees of freedom, as the
   mixed-model path.

This is the same estimator as OLS with one dummy per client and cluster-robust standard
errors (``tests/test_technique_sql.py`` checks it against statsmodels to 1e-8), and on the
sample practice it agrees with the mixed model within the intervals.  What it means in
plain words: an effect is how much better (or worse) a client did on their visits with the
technique than on their own visits without it, given pain before, visit number and
pressure; clients who always or never had a technique tell nothing about it, and the
complaint region (fixed per client) is absorbed by the client's own level.

Pairs are screened as in the in-memory path (every pair's within-client interaction given the
model, Holm step-down forward selection of at most ``MAX_MODEL_INTERACTIONS`` into it), by
Frisch-Waugh-Lovell on the within-client Gram matrix, with model-based standard errors (both paths
screen the same way, so they choose the same synergies); the chosen synergies get cluster-robust
intervals and, having been chosen by these data, no p-value.  Mixes get the model's predicted
effect (:func:`pipelines.techniques.common.mix_table`), as on the in-memory path.

The dashboard's connections are read-only, so the importer stores the default result
(:func:`store_default_report`, guarded by a data fingerprint) and the page reads it
(:func:`large_report`); any other question is computed on the spot.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse

from pipelines.techniques import common

# Above this many visits (after the filters) the front door (pipelines.techniques.analysis) uses this path.
# Why 200,000: the mixed model took 2.4 s for 44,000 visits (2,000 clients) and grows faster
# than linearly in visits and memory (statsmodels keeps per-client matrices); at 200,000
# visits it is already ~15-20 s and over 1 GB, while the SQL path stays at ~1-2 s even at
# 2.4 million (benchmarks/RESULTS_techniques.md).  Both paths estimate the same within-client effects.
LARGE_DATA_VISITS = 200_000

METHOD_SQL = "within-client comparison (client fixed effects, from SQL aggregates)"
METHOD = (
    "within-client comparison (client fixed effects, from SQL aggregates) with cluster-robust standard errors by client"
)
METHOD_PLAIN = (
    "This practice is large, so each technique is estimated by comparing every client with themselves: "
    "their visits with the technique against their own visits without it, given pain before the visit, "
    "visit number and pressure. Clients who always or never had a technique add nothing to its estimate, and "
    "the complaint region (the same for all of a client's visits) is taken care of by the comparison itself. "
    "Intervals allow for the visits of one client being alike (cluster-robust by client)."
)
PRESSURE_SQL_LEVELS = ("1", "2", "3", "4", "5", "unknown")  # the fixed columns of clients.sql/residuals.sql
EXCLUSION_REASONS = {  # visits.sql's reasons -> the wording of techniques.prepare
    "no technique recorded": lambda oc: "no technique recorded",
    "no pain before the visit": lambda oc: "no pain before the visit",
    "outcome missing": lambda oc: f"no {oc.key.replace('_', ' ')} (outcome missing)",
    "extra covariate missing": lambda oc: "no " + " ".join(e.replace("_", " ") for e in oc.extra_covariates),
}
RANK_TOL = 1e-9  # a column whose within-client variation left after the earlier columns is below this share: dependent


def _sql(name: str) -> str:
    return common.sql_file(name)


def _filter_params(regions=None, therapists=None, date_from=None, date_to=None) -> dict[str, Any]:
    return {
        "regions": common.as_list(regions),
        "therapists": common.as_list(therapists),
        "date_from": pd.Timestamp(date_from).date() if date_from is not None else None,
        "date_to": pd.Timestamp(date_to).date() if date_to is not None else None,
    }


def count_visits(db=None, *, regions=None, therapists=None, date_from=None, date_to=None) -> int:
    """Visits the filters select (one cheap count; decides which path :func:`technique_report` takes)."""
    from pipelines.warehouse.db import read_connection

    with read_connection(db) as con:
        return int(con.execute(_sql("count"), _filter_params(regions, therapists, date_from, date_to)).fetchone()[0])


def is_large(n_visits: int) -> bool:
    return n_visits > LARGE_DATA_VISITS


# ---------------------------------------------------------------------------
# Sufficient statistics (SQL) -> within-client normal equations (numpy)
# ---------------------------------------------------------------------------


def _continuous(extras: bool) -> list[str]:
    return ["p", "v", "e"] if extras else ["p", "v"]


def _moment(c: dict, a: str, b: str) -> np.ndarray:
    """Sum over a cell of a*b for a, b in p, v, e, y (combos.sql's column names)."""
    key = "s_" + a + b if ("s_" + a + b) in c else "s_" + b + a
    return np.asarray(c[key], dtype=float)


def _sparse(values, rows, cols, shape) -> scipy.sparse.csr_matrix:
    """A clients x sets matrix from a (client code, set code, value) query result."""
    return scipy.sparse.csr_matrix(
        (np.asarray(values, dtype=float), (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64))),
        shape=shape,
    )


SETS_SQL = "select set_code, technique_set, techniques from tq_sets order by set_code"


def _fetch(con, outcome: common.Outcome, filters: dict) -> tuple[dict, dict, dict, dict[str, int], list[str]]:
    if outcome.key == "self_report_change":
        con.execute(_sql("windows"), {**filters, "window": common.SELF_REPORT_WINDOW_DAYS})
    else:
        con.execute(_sql("windows_empty"))
    con.execute(_sql("visits"), {**filters, "outcome": outcome.key})
    excluded_rows = con.execute(_sql("exclusions")).fetchall()
    combos = con.execute(_sql("combos")).fetchnumpy()
    # plain lists of str: `x in ts` on the numpy arrays DuckDB returns is ~100x slower
    combos["techniques"] = [[str(t) for t in ts] for ts in combos["techniques"]]
    names = sorted({t for ts in combos["techniques"] for t in ts})
    clients = con.execute(_sql("clients")).fetchnumpy()
    con.execute(_sql("sets"))
    sets = con.execute(SETS_SQL).fetchall()
    set_tech = np.zeros((len(sets), len(names)))
    index = {t: i for i, t in enumerate(names)}
    for code, _, ts in sets:
        for t in ts:
            set_tech[code, index[t]] = 1.0
    cs = con.execute(_sql("client_sets")).fetchnumpy()
    n_clients = len(clients["n"])
    client_sets = _sparse(cs["n"], cs["cc"], cs["set_code"], (n_clients, len(sets)))
    per_tech = scipy.sparse.coo_matrix(client_sets @ scipy.sparse.csr_matrix(set_tech))
    client_tech = {
        "cc": per_tech.row,
        "tc": per_tech.col + 1,
        "n": per_tech.data.round().astype(np.int64),
        "client_sets": client_sets,
        "set_tech": set_tech,
        "set_names": [name for _, name, _ in sets],
    }
    excluded = {}
    for reason, n in sorted(excluded_rows, key=lambda r: list(EXCLUSION_REASONS).index(r[0])):
        excluded[EXCLUSION_REASONS[reason](outcome)] = int(n)
    return combos, clients, client_tech, excluded, names


def _design_blocks(combos: dict, names: list[str], levels: list[str]):
    """Per cell: the 0/1 part of x (techniques, pressure dummies) and the moments of the continuous part."""
    n_cells = len(combos["n"])
    index = {t: i for i, t in enumerate(names)}
    D = np.zeros((n_cells, len(names) + len(levels)))
    for c, ts in enumerate(combos["techniques"]):
        for t in ts:
            D[c, index[t]] = 1.0
    labels = np.asarray(combos["pressure_label"], dtype=object)
    for j, level in enumerate(levels):
        D[:, len(names) + j] = labels == level
    return D


def _within_normal_equations(combos, clients, client_tech, names, levels, cont):
    """X'X, X'y of the client-demeaned design (regressors: techniques, pressure dummies, continuous)."""
    n_c = np.asarray(combos["n"], dtype=float)
    D = _design_blocks(combos, names, levels)
    kd, kc = D.shape[1], len(cont)
    sums_c = np.column_stack([np.asarray(combos["s_" + a], dtype=float) for a in cont])  # cells x kc
    s_y = np.asarray(combos["s_y"], dtype=float)
    XtX = np.zeros((kd + kc, kd + kc))
    XtX[:kd, :kd] = D.T @ (D * n_c[:, None])
    XtX[:kd, kd:] = D.T @ sums_c
    XtX[kd:, :kd] = XtX[:kd, kd:].T
    for i, a in enumerate(cont):
        for j, b in enumerate(cont):
            XtX[kd + i, kd + j] = _moment(combos, a, b).sum()
    Xty = np.concatenate([D.T @ s_y, [_moment(combos, "y", a).sum() for a in cont]])
    yty = float(_moment(combos, "y", "y").sum())

    # per-client column sums S (G x k): technique counts, pressure counts, continuous sums
    n_i = np.asarray(clients["n"], dtype=float)
    G = n_i.size
    S = np.zeros((G, kd + kc))
    tc = np.asarray(client_tech["tc"], dtype=np.int64) - 1  # 1-based list position
    S[np.asarray(client_tech["cc"], dtype=np.int64), tc] = np.asarray(client_tech["n"], dtype=float)
    for j, level in enumerate(levels):
        S[:, len(names) + j] = np.asarray(clients["n_p" + level], dtype=float)
    for j, a in enumerate(cont):
        S[:, kd + j] = np.asarray(clients["s_" + a], dtype=float)
    Sy = np.asarray(clients["s_y"], dtype=float)
    A = XtX - S.T @ (S / n_i[:, None])
    b = Xty - S.T @ (Sy / n_i)
    yy = yty - float(Sy @ (Sy / n_i))
    return A, b, yy, S, Sy, n_i, D, sums_c


def _independent_columns(A: np.ndarray, order: list[int]) -> list[int]:
    """Columns of A (a Gram matrix) in ``order`` that are not linear combinations of earlier kept ones."""
    kept: list[int] = []
    for j in order:
        if A[j, j] <= 0:
            continue
        if kept:
            K = np.array(kept)
            coef = np.linalg.lstsq(A[np.ix_(K, K)], A[K, j], rcond=None)[0]
            left = A[j, j] - float(A[j, K] @ coef)
        else:
            left = A[j, j]
        if left > RANK_TOL * A[j, j]:
            kept.append(j)
    return kept


# ---------------------------------------------------------------------------
# The estimator (also used directly by the equality test)
# ---------------------------------------------------------------------------


def within_fit(
    db=None,
    outcome: str | common.Outcome = "pain_change",
    *,
    regions=None,
    therapists=None,
    date_from=None,
    date_to=None,
    min_clients: int = common.DEFAULT_MIN_CLIENTS_PER_ARM,
    pairs: bool = True,
) -> dict[str, Any]:
    """Fit the within-client model from SQL aggregates; returns coefficients, covariances and the counts.

    Keys: ``names`` (regressor labels like techniques.analyse's: ``tech[x]``, ``pressure[4]``,
    ``pain_pre``, ``visit_number``, extras), ``beta``, ``cov_robust``, ``cov_model``, ``n``,
    ``n_clients``, ``sigma2``, ``tau2``, plus the cell/client statistics for the report tables.
    """
    from pipelines.warehouse.db import read_connection

    oc = common.OUTCOMES[outcome] if isinstance(outcome, str) else outcome
    filters = _filter_params(regions, therapists, date_from, date_to)
    with read_connection(db) as con:
        return within_fit_on(con, oc, filters, min_clients=min_clients, pairs=pairs)


def _solve(A: np.ndarray, b: np.ndarray, yy: float, K: np.ndarray, df_within: int):
    """OLS on the columns K of the within-client normal equations: coefficients, (X'X)^-1 and the
    residual variance (``df_within`` = visits - clients, less the k coefficients)."""
    A_k, b_k = A[np.ix_(K, K)], b[K]
    beta_k = np.linalg.solve(A_k, b_k)
    rss = max(yy - float(b_k @ beta_k), 0.0)
    return beta_k, np.linalg.inv(A_k), rss / max(df_within - K.size, 1)


def within_fit_on(
    con,
    oc: common.Outcome,
    filters: dict[str, Any],
    *,
    min_clients: int = common.DEFAULT_MIN_CLIENTS_PER_ARM,
    pairs: bool = True,
) -> dict[str, Any]:
    """:func:`within_fit` on an open connection (read-only, or the importer's, see :func:`store_default_report`)."""
    cont = _continuous(bool(oc.extra_covariates))
    cont_names = ["pain_pre", "visit_number", *oc.extra_covariates]
    combos, clients, client_tech, excluded, names = _fetch(con, oc, filters)
    out: dict[str, Any] = {
        "outcome": oc,
        "excluded": excluded,
        "combos": combos,
        "clients": clients,
        "client_tech": client_tech,
        "techniques_all": names,
    }
    N = int(np.asarray(combos["n"]).sum()) if len(combos["n"]) else 0
    G = len(clients["n"])
    out.update(n=N, n_clients=G, min_clients=min_clients)
    if N == 0 or G < 2:
        out["beta"] = None
        return out
    labels = set(np.asarray(combos["pressure_label"], dtype=object).tolist())
    present = sorted(labels - {"unknown"})
    ref = str(common.REFERENCE_PRESSURE) if str(common.REFERENCE_PRESSURE) in present else None
    if ref is None and present:  # as techniques.analyse: the most used level
        n_by = {
            lv: int(np.asarray(combos["n"])[np.asarray(combos["pressure_label"], dtype=object) == lv].sum())
            for lv in present
        }
        ref = max(sorted(n_by), key=lambda lv: n_by[lv])
    if ref is None:
        ref = "unknown"
    levels = [lv for lv in sorted(labels) if lv != ref]
    A, b, yy, S, Sy, n_i, D, sums_c = _within_normal_equations(combos, clients, client_tech, names, levels, cont)
    kt, kp = len(names), len(levels)
    all_names = [f"tech[{t}]" for t in names] + [f"pressure[{lv}]" for lv in levels] + cont_names
    # covariates first (they must be adjusted for), then techniques: a technique that does not
    # vary within clients, or is a combination of others, is left out of the model
    order = list(range(kt, kt + kp + len(cont))) + list(range(kt))
    keep = _independent_columns(A, order)
    keep_sorted = sorted(keep)
    K = np.array(keep_sorted)
    beta_k, bread, sigma2 = _solve(A, b, yy, K, N - G)
    out.update(A0=A, b0=b, yy=yy, K0=K, n_tech=kt, n_levels=kp, sums_c=sums_c)

    # synergy screen (pairs): every pair's column is constant within a cell, so its within-client
    # cross-products come from the same aggregates plus per-client pair counts (one more query)
    screen = None
    if pairs:
        screen = _pair_screen(client_tech, combos, names, levels, cont, K, A, b, yy, S, Sy, n_i, N, G, min_clients)
    chosen = screen["chosen"] if screen else []
    if chosen:  # the final model carries the chosen synergies as extra columns
        A, b, S = screen["A"], screen["b"], screen["S"]
        K = np.concatenate([K, screen["chosen_cols"]])
        beta_k, bread, sigma2 = _solve(A, b, yy, K, N - G)
    beta = np.zeros(A.shape[0])
    beta[K] = beta_k
    pair_names = [f"tech[{a}]×tech[{b_}]" for a, b_ in chosen]

    # second pass: per-client score sums with the fitted coefficients bound
    fitted = D @ beta[: kt + kp]  # the 0/1 part of x'b, one value per (technique set, pressure) cell
    for (a, b_), col in zip(chosen, screen["chosen_cols"] if chosen else []):
        fitted = fitted + beta[col] * _cell_has_pair(combos, a, b_)
    con.execute(
        _sql("fitted"),
        {
            "sets": [str(x) for x in combos["technique_set"]],
            "labels": [str(x) for x in combos["pressure_label"]],
            "fitted": [float(x) for x in fitted],
        },
    )
    params = {
        "b_p": float(beta[kt + kp]),
        "b_v": float(beta[kt + kp + 1]),
        "b_e": float(beta[kt + kp + 2]) if len(cont) > 2 else 0.0,
    }
    res = con.execute(_sql("residuals"), params).fetchnumpy()
    rs = con.execute(_sql("residual_sets"), params).fetchnumpy()
    r_sets = _sparse(rs["s_r"], rs["cc"], rs["set_code"], client_tech["client_sets"].shape)

    R_i = np.asarray(res["s_r"], dtype=float)
    XR = np.zeros((G, A.shape[0]))  # sum_t x_it r_it per client (columns as A: techniques, pressure, continuous, pairs)
    XR[:, :kt] = r_sets @ client_tech["set_tech"]  # a technique's residual sum: over the client's sets with it
    for j, level in enumerate(levels):
        XR[:, kt + j] = np.asarray(res["s_r" + level], dtype=float)
    for j, a in enumerate(cont):
        XR[:, kt + kp + j] = np.asarray(res["s_r" + a], dtype=float)
    for (a, b_), col in zip(chosen, screen["chosen_cols"] if chosen else []):
        XR[:, col] = r_sets @ (client_tech["set_tech"][:, names.index(a)] * client_tech["set_tech"][:, names.index(b_)])
    scores = (XR - S * (R_i / n_i)[:, None])[:, K]  # sum_t x_it (r_it - mean_i r)
    meat = scores.T @ scores
    factor = (G / max(G - 1, 1)) * ((N - 1) / max(N - K.size, 1))
    cov_robust = factor * bread @ meat @ bread

    # client variance (for the standardised effect size): variance of the client levels
    # alpha_i = mean_i(y) - mean_i(x)'b, less the part that is residual noise (moment estimator)
    alpha = Sy / n_i - (S[:, K] / n_i[:, None]) @ beta_k
    tau2 = max(
        float(np.average((alpha - np.average(alpha, weights=n_i)) ** 2, weights=n_i))
        - sigma2 * float(np.mean(1.0 / n_i)),
        0.0,
    )

    all_names = all_names + pair_names
    out.update(
        names=[all_names[j] for j in K],
        all_names=all_names,
        keep=list(K),
        interactions=chosen,
        pair_screen=screen,
        beta=beta_k,
        cov_robust=cov_robust,
        cov_model=sigma2 * bread,
        sigma2=sigma2,
        tau2=tau2,
        levels=levels,
        reference_pressure=ref,
        factor=factor,
        k=K.size,
        scores=scores,
        bread=bread,
        S=S,
        Sy=Sy,
        n_i=n_i,
        D=D,
        y_sum=float(Sy.sum()),
    )
    return out


# ---------------------------------------------------------------------------
# The report (same TechniqueReport as the mixed-model path)
# ---------------------------------------------------------------------------


def report(
    db=None,
    outcome: str = "pain_change",
    *,
    regions=None,
    therapists=None,
    date_from=None,
    date_to=None,
    min_clients: int | None = None,
) -> common.TechniqueReport:
    """The technique report of a large practice by the within-client path (see the module docstring)."""
    oc = common.OUTCOMES[outcome] if isinstance(outcome, str) else outcome
    min_n = int(min_clients if min_clients is not None else common.settings_min_clients(db))
    fit = within_fit(
        db, oc, regions=regions, therapists=therapists, date_from=date_from, date_to=date_to, min_clients=min_n
    )
    return report_from_fit(fit, min_n, common.settings_value(db, "pain.reliability", common.DEFAULT_PAIN_RELIABILITY))


def report_from_fit(fit: dict[str, Any], min_n: int, reliability: float | None = None) -> common.TechniqueReport:
    """The TechniqueReport (techniques, pressure, mix counts) of a :func:`within_fit` result; with
    ``reliability`` (of pain before, from the settings) also the measurement-error sensitivity
    (:func:`calibrated_table`), as the in-memory path adds it."""
    oc = fit["outcome"]
    combos, clients, client_tech = fit["combos"], fit["clients"], fit["client_tech"]
    names = fit["techniques_all"]
    N, G = fit["n"], fit["n_clients"]
    base_rows = _technique_counts(combos, clients, client_tech, names, oc)
    if fit["beta"] is None:
        return common.empty_report(
            oc, min_n, range(N), G, fit["excluded"], base_rows, "too few visits with this outcome to analyse"
        )

    warn: list[str] = []
    partners: dict[str, list[str]] = {}
    for a, b_ in fit.get("interactions", []):
        partners.setdefault(a, []).append(b_)
        partners.setdefault(b_, []).append(a)
    col = {name: i for i, name in enumerate(fit["names"])}
    beta = fit["beta"]
    robust = G >= common.MIN_CLIENTS_ROBUST
    cov = fit["cov_robust"] if robust else fit["cov_model"]
    df = max(G - 1, 1) if robust else max(N - G - fit["k"], 1)
    sd_total = math.sqrt(fit["tau2"] + fit["sigma2"])
    for _j, t in enumerate(names):
        row = base_rows[t]
        if row["n_visits"] == N:
            row["note"] = "used in every visit analysed: nothing to compare with"
            continue
        if f"tech[{t}]" not in col:
            row["note"] = (
                "cannot be separated: it does not vary within clients, or it is a combination of other "
                "techniques and covariates"
            )
            continue
        if row["n_clients_both"] < min_n:
            row["note"] = common.too_few_note(row["n_clients_both"], min_n)
            continue
        i = col[f"tech[{t}]"]
        est, se = float(beta[i]), math.sqrt(max(cov[i, i], 0.0))
        lo, hi, p = common.ci_p(est, se, "t", df)
        row.update(
            estimable=True,
            effect=est,
            se=se,
            ci_low=lo,
            ci_high=hi,
            p=p,
            effect_size=est / sd_total if sd_total > 0 else float("nan"),
            note=f"from the {row['n_clients_both']:,} clients who had visits with and without it",
        )
        if t in partners:
            row["note"] = (
                "effect when used without " + " or ".join(partners[t]) + "; the pair's synergy is in the pairs table"
            )
    tech_df = pd.DataFrame([base_rows[t] for t in names], columns=common.TECHNIQUE_COLUMNS)
    tech_df["p_adjusted"] = common.holm(tech_df["p"].where(tech_df["estimable"]))
    tech_df = tech_df.sort_values(
        ["estimable", "effect", "n_visits"], ascending=[False, not oc.higher_is_better, False], na_position="last"
    ).reset_index(drop=True)

    pressure_df = _pressure_table(fit, cov, min_n, df)
    mix_df = common.mix_table(
        _mix_counts(fit),
        beta=beta,
        cov=cov,
        names=fit["names"],
        estimable=set(tech_df.loc[tech_df["estimable"], "technique"]),
        df=df,
        higher_is_better=oc.higher_is_better,
    )
    adjusted_for = ["each client's own level (within-client comparison)", "pain before the visit", "visit number"]
    adjusted_for += [common.COVARIATE_LABELS[c] for c in oc.extra_covariates if c in common.COVARIATE_LABELS]
    if any(n.startswith("pressure[") for n in fit["names"]):
        adjusted_for.append(f"pressure (categorical, reference {fit['reference_pressure']})")
    ref = fit["reference_pressure"]
    rep = common.TechniqueReport(
        outcome=oc,
        method=METHOD if robust else f"{METHOD_SQL} with {common.FEW_CLIENTS_SE}",
        method_reason=None,
        min_clients=min_n,
        n_visits=N,
        n_clients=G,
        excluded=fit["excluded"],
        techniques=tech_df,
        pairs=_pair_table(fit, cov, df),
        mixes=mix_df,
        pressure=pressure_df,
        reference_pressure=int(ref) if ref not in (None, "unknown") else None,
        model_interactions=list(fit.get("interactions", [])),
        warnings=warn,
        client_variance=fit["tau2"],
        residual_variance=fit["sigma2"],
        covariates=[n for n in fit["names"] if not n.startswith("tech[")],
        adjusted_for=adjusted_for,
    )
    if reliability is None:
        return rep
    cal, lam = calibrated_table(fit, reliability, tech_df, cov, df)
    return common.apply_sensitivity(rep, cal, reliability, lam)


def calibrated_table(fit: dict[str, Any], reliability: float, techniques: pd.DataFrame, cov: np.ndarray, df: float):
    """Each technique's effect with pain before regression-calibrated for its measurement error, from
    the aggregates: the same numbers as refitting with techniques.calibrated_baseline's pain before.

    Calibration replaces pain before (within clients) by ``P + λ (pre - P)``, P its projection on the
    techniques and visit number.  P lies in the model's own columns, so the fitted values do not
    change, only what is credited to the techniques: ``β_cal = β + δ (1 - 1/λ) a``, with δ the
    coefficient of pain before and a the techniques' coefficients in that projection, and its
    covariance the same linear map of the fit's (an exact reparametrisation of the same fit).
    Returns (per-technique effect, ci_low, ci_high, p_adjusted; or None when λ is too small) and λ."""
    A0, kt, kp, N = fit["A0"], fit["n_tech"], fit["n_levels"], fit["n"]
    p_idx, v_idx = kt + kp, kt + kp + 1
    Z = [*range(kt), v_idx]
    a = np.linalg.lstsq(A0[np.ix_(Z, Z)], A0[Z, p_idx], rcond=None)[0]
    spread = (A0[p_idx, p_idx] - float(a @ A0[Z, p_idx])) / max(N - 1, 1)
    s_p, ss_p = (
        float(np.asarray(fit["combos"]["s_p"], dtype=float).sum()),
        float(_moment(fit["combos"], "p", "p").sum()),
    )
    sem2 = (ss_p - s_p * s_p / N) / max(N - 1, 1) * (1.0 - float(reliability))
    lam = max(0.0, 1.0 - sem2 / spread) if spread > 0 else 0.0
    if lam < common.MIN_CALIBRATION_RELIABILITY:
        return None, lam
    col = {name: i for i, name in enumerate(fit["names"])}
    d = col["pain_pre"]
    rows = {}
    for j, t in enumerate(fit["techniques_all"]):
        if f"tech[{t}]" not in col:
            continue
        g = np.zeros(len(col))
        g[col[f"tech[{t}]"]] = 1.0
        g[d] += (1.0 - 1.0 / lam) * a[j]
        est = float(g @ fit["beta"])
        lo, hi, p = common.ci_p(est, math.sqrt(max(float(g @ cov @ g), 0.0)), "t", df)
        rows[t] = {"effect": est, "ci_low": lo, "ci_high": hi, "p": p}
    cal = pd.DataFrame.from_dict(rows, orient="index", columns=["effect", "ci_low", "ci_high", "p"])
    cal = cal.reindex(techniques["technique"])
    estimable = techniques.set_index("technique")["estimable"].astype(bool)
    cal.loc[~estimable, ["effect", "ci_low", "ci_high", "p"]] = np.nan
    cal["p_adjusted"] = common.holm(cal["p"].where(estimable))
    return cal, lam


def _pair_table(fit, cov, df) -> pd.DataFrame:
    """Pairs as techniques._pair_table: chosen synergies from the final model (cluster-robust), others screened."""
    screen = fit.get("pair_screen") or {"candidates": [], "results": {}}
    chosen = list(fit.get("interactions", []))
    col = {name: i for i, name in enumerate(fit["names"])}
    rows = []
    for j, cand in enumerate(screen["candidates"]):
        a, b_ = cand["technique_a"], cand["technique_b"]
        row = {
            "technique_a": a,
            "technique_b": b_,
            "n_visits_both": cand["n_visits_both"],
            "n_clients_both": cand["n_clients_both"],
            "n_clients_a_only": cand["n_clients_a_only"],
            "n_clients_b_only": cand["n_clients_b_only"],
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
        if (a, b_) in chosen:
            i = col[f"tech[{a}]×tech[{b_}]"]
            est, se = float(fit["beta"][i]), math.sqrt(max(cov[i, i], 0.0))
            lo, hi, _ = common.ci_p(est, se, "t", df)
            row.update(
                estimable=True,
                interaction=est,
                se=se,
                ci_low=lo,
                ci_high=hi,
                in_main_model=True,
                note=common.SELECTED_SYNERGY_NOTE,
            )
        elif j in screen["results"]:
            r = screen["results"][j]
            lo, hi, p = common.ci_p(r["est"], r["se"], "t", r["df"])
            row.update(estimable=True, interaction=r["est"], se=r["se"], ci_low=lo, ci_high=hi, p=p)
        elif cand["ok"]:
            row["note"] = "collinear with the main effects: the interaction cannot be estimated"
        else:
            min_n = fit.get("min_clients", common.DEFAULT_MIN_CLIENTS_PER_ARM)
            row["note"] = (
                f"too few clients: {row['n_clients_both']} with both, {row['n_clients_a_only']} "
                f"with {a} only, {row['n_clients_b_only']} with {b_} only (minimum {min_n} each)"
            )
        rows.append(row)
    out = pd.DataFrame(rows, columns=common.PAIR_COLUMNS)
    if len(out):
        out["estimable"] = out["estimable"].astype(bool)
        out["in_main_model"] = out["in_main_model"].astype(bool)
        out["p_adjusted"] = common.benjamini_hochberg(out["p"].where(out["estimable"]))
        # chosen synergies first, in the order they were chosen (strongest first), then the screen by p
        order = {pair: i for i, pair in enumerate(chosen)}
        out["_order"] = [order.get(pair, len(order)) for pair in zip(out["technique_a"], out["technique_b"])]
        out = (
            out.sort_values(
                ["estimable", "_order", "p", "n_visits_both"], ascending=[False, True, True, False], na_position="last"
            )
            .drop(columns="_order")
            .reset_index(drop=True)
        )
    return out


def _technique_counts(combos, clients, client_tech, names, oc) -> dict[str, dict]:
    """n visits, n clients with / without, and the unadjusted difference, from the aggregates."""
    n_c = np.asarray(combos["n"], dtype=float)
    s_y = np.asarray(combos["s_y"], dtype=float)
    N, Y = n_c.sum(), s_y.sum()
    n_i = np.asarray(clients["n"], dtype=np.int64)
    cc = np.asarray(client_tech["cc"], dtype=np.int64)
    tc = np.asarray(client_tech["tc"], dtype=np.int64) - 1
    cnt = np.asarray(client_tech["n"], dtype=np.int64)
    rows = {}
    for j, t in enumerate(names):
        used = np.array([t in ts for ts in combos["techniques"]], dtype=bool)
        n_with, y_with = n_c[used].sum(), s_y[used].sum()
        mine = tc == j
        n_clients = int(mine.sum())
        always = int((cnt[mine] == n_i[cc[mine]]).sum())  # clients whose every visit had it
        both = n_clients - always  # clients with visits with and without it
        unadj = (y_with / n_with - (Y - y_with) / (N - n_with)) if 0 < n_with < N else float("nan")
        rows[t] = {
            "technique": t,
            "n_visits": int(n_with),
            "n_clients": n_clients,
            "n_clients_without": int(n_i.size - always),
            "n_clients_both": int(both),
            "estimable": False,
            "effect": float("nan"),
            "ci_low": float("nan"),
            "ci_high": float("nan"),
            "se": float("nan"),
            "p": float("nan"),
            "p_adjusted": float("nan"),
            "effect_size": float("nan"),
            "unadjusted_difference": float(unadj),
            "note": "",
        }
    return rows


def _pressure_table(fit, cov, min_n, df) -> pd.DataFrame:
    """Adjusted mean change at each pressure: the mean outcome with every visit's pressure set to p.

    With client effects the fitted values sum to the observed outcomes, so the mean prediction
    with pressure p is mean(y) + (e_p - mean pressure dummies)'b.  Its interval comes from the
    per-client influence (the visit's deviation from the mean plus the coefficient's score),
    cluster-robust like the effects.
    """
    levels, ref = fit["levels"], fit["reference_pressure"]
    names, beta = fit["names"], fit["beta"]
    N = fit["n"]
    S, Sy, n_i = fit["S"], fit["Sy"], fit["n_i"]
    ybar = fit["y_sum"] / N
    kt = len(fit["techniques_all"])
    col = {name: i for i, name in enumerate(names)}
    share = {lv: S[:, kt + j].sum() / N for j, lv in enumerate(levels)}  # share of visits at each non-ref level
    labels = np.asarray(fit["combos"]["pressure_label"], dtype=object)
    n_c = np.asarray(fit["combos"]["n"], dtype=float)
    clients = fit["clients"]
    # influence of beta per client: A^-1 s_i;  of mean(y): (Sy_i - n_i * ybar) / N
    infl_beta = fit["scores"] @ fit["bread"]  # G x k (bread symmetric)
    infl_mean = (Sy - n_i * ybar) / N
    q = math.sqrt(fit["factor"])
    rows = []
    for level in common.PRESSURE_LEVELS:
        key = str(level)
        n_vis = int(n_c[labels == key].sum())
        n_cl = int((np.asarray(clients["n_p" + key]) > 0).sum())
        row = {
            "pressure": level,
            "n_visits": n_vis,
            "n_clients": n_cl,
            "estimable": False,
            "adjusted_mean": float("nan"),
            "ci_low": float("nan"),
            "ci_high": float("nan"),
            "difference_vs_reference": float("nan"),
            "diff_ci_low": float("nan"),
            "diff_ci_high": float("nan"),
            "note": "",
        }
        if n_vis == 0:
            row["note"] = "not used"
        elif key != ref and f"pressure[{key}]" not in col:
            row["note"] = "cannot be separated from the other covariates"
        elif n_cl < min_n:
            row["note"] = f"only {n_cl} clients (minimum {min_n})"
        else:
            vec = np.zeros(len(names))
            for lv in levels:
                if f"pressure[{lv}]" in col:
                    vec[col[f"pressure[{lv}]"]] = (1.0 if lv == key else 0.0) - share[lv]
            est = ybar + float(vec @ beta)
            phi = infl_mean + infl_beta @ vec
            se = q * math.sqrt(float(phi @ phi))
            lo, hi, _ = common.ci_p(est, se, "t", df)
            row.update(estimable=True, adjusted_mean=est, ci_low=lo, ci_high=hi)
            if key == ref:
                row.update(difference_vs_reference=0.0, diff_ci_low=0.0, diff_ci_high=0.0, note="reference")
            else:
                i = col[f"pressure[{key}]"]
                d, dse = float(beta[i]), math.sqrt(max(cov[i, i], 0.0))
                dlo, dhi, _ = common.ci_p(d, dse, "t", df)
                row.update(difference_vs_reference=d, diff_ci_low=dlo, diff_ci_high=dhi)
        rows.append(row)
    return pd.DataFrame(rows, columns=common.PRESSURE_COLUMNS)


def _mix_counts(fit) -> pd.DataFrame:
    """Each exact mix with its visits, clients and observed mean outcome, from the aggregates."""
    combos = fit["combos"]
    frame = pd.DataFrame(
        {
            "mix": pd.Series(np.asarray(combos["technique_set"], dtype=object)).astype(str),
            "n": np.asarray(combos["n"], dtype=float),
            "s_y": np.asarray(combos["s_y"], dtype=float),
        }
    )
    by = frame.groupby("mix", sort=False)[["n", "s_y"]].sum()
    cs = fit["client_tech"]["client_sets"]
    n_clients = dict(zip(fit["client_tech"]["set_names"], np.asarray((cs > 0).sum(axis=0)).ravel().tolist()))
    out = pd.DataFrame(
        {
            "mix": by.index,
            "n_visits": by["n"].astype(int).to_numpy(),
            "n_clients": [int(n_clients.get(m, 0)) for m in by.index],
            "observed_mean": (by["s_y"] / by["n"]).to_numpy(),
        }
    )
    out["techniques"] = [[t for t in m.split("+") if t] for m in out["mix"]]
    return out.sort_values(["n_visits", "mix"], ascending=[False, True]).reset_index(drop=True)


# ---------------------------------------------------------------------------
# Stored default result (written by the importer, read by the page)
# ---------------------------------------------------------------------------
# The dashboard's connections are read-only, and computing the large-practice result takes
# seconds (more on a busy machine).  So the writer - the import, after its file is committed
# (``importer.after_commit``) - computes the default view (no filters, the primary outcome, the
# practice's minimum n) in a transaction of its own and stores it; the page's first view after
# the import then only reads it.
# The stored row carries a fingerprint of the data it was computed from, so a write that does
# not refresh it (a form, a check-in, a restore) makes the page compute afresh, never show a
# stale answer.

STORED_OUTCOMES = ("pain_change",)
DROP_TEMP_TABLES = (
    "drop table if exists temp.tq_visits",
    "drop table if exists temp.tq_windows",
    "drop table if exists temp.tq_fitted",
)


def _statements(name: str) -> list[str]:
    """The statements of a multi-statement .sql file (a prepared statement takes one at a time)."""
    out = []
    for chunk in _sql(name).split(";"):
        code = "\n".join(ln for ln in chunk.splitlines() if not ln.lstrip().startswith("--")).strip()
        if code:
            out.append(code)
    return out


# Bumped whenever the stored result changes meaning or shape (2: one estimand, mix predictions,
# n_clients_both), so a result stored by an older version is never shown: it no longer matches.
RESULT_VERSION = "2"


def data_fingerprint(con) -> str:
    """Changes whenever anything the default analysis reads changes (fingerprint.sql), or the result's version."""
    return "|".join([RESULT_VERSION, *(str(v) for v in con.execute(_sql("fingerprint")).fetchone())])


def store_default_report(con, db=None, min_clients: int | None = None) -> bool:
    """Compute and store the default technique result of a large practice on a write connection.

    The importer's after-commit hook (``pipelines.ingest.importer.after_commit``) calls it in a
    transaction of its own once the file's rows and marts are committed, so a failure here never
    undoes an import: the page then finds no result for the current data and computes one.  Below :data:`LARGE_DATA_VISITS` it stores nothing (the page computes the
    mixed model itself in a second or two) and returns False.  ``db`` locates the practice
    settings (the minimum n per arm); without it the settings default applies.
    """
    n = int(con.execute(_sql("count"), _filter_params()).fetchone()[0])
    if not is_large(n):
        return False
    min_n = int(min_clients if min_clients is not None else common.settings_min_clients(db))
    for statement in _statements("store_schema"):
        con.execute(statement)
    fingerprint = data_fingerprint(con)
    for key in STORED_OUTCOMES:
        fit = within_fit_on(con, common.OUTCOMES[key], _filter_params(), min_clients=min_n)
        rep = report_from_fit(
            fit, min_n, common.settings_value(db, "pain.reliability", common.DEFAULT_PAIN_RELIABILITY)
        )
        params = {"outcome": key, "min_clients": min_n, "fingerprint": fingerprint, "payload": report_to_json(rep)}
        delete, insert = _statements("store_replace")
        con.execute(delete, {k: params[k] for k in ("outcome", "min_clients")})
        con.execute(insert, params)
    for statement in DROP_TEMP_TABLES:  # the importer's connection stays clean
        con.execute(statement)
    return True


def stored_report(
    db=None, outcome: str = "pain_change", min_clients: int = common.DEFAULT_MIN_CLIENTS_PER_ARM
) -> common.TechniqueReport | None:
    """The importer's stored default result, if there is one for exactly the current data."""
    from pipelines.warehouse.db import read_connection

    with read_connection(db) as con:
        if not con.execute(_sql("store_exists")).fetchone()[0]:
            return None
        row = con.execute(_sql("store_read"), {"outcome": outcome, "min_clients": int(min_clients)}).fetchone()
        if row is None or row[0] != data_fingerprint(con):
            return None
    return report_from_json(row[1])


_TEXT_COLUMNS = {"technique", "technique_a", "technique_b", "mix", "note"}
_BOOL_COLUMNS = {"estimable", "in_main_model"}


def _frame_to_obj(frame: pd.DataFrame) -> dict:
    data = [
        [None if isinstance(v, float) and math.isnan(v) else (v.item() if hasattr(v, "item") else v) for v in row]
        for row in frame.itertuples(index=False)
    ]
    return {"columns": list(frame.columns), "data": data}


def _frame_from_obj(obj: dict) -> pd.DataFrame:
    frame = pd.DataFrame(obj["data"], columns=obj["columns"])
    for col in frame.columns:
        if col in _TEXT_COLUMNS:  # as the computed frames: pandas' own text dtype, notes never missing
            if col == "note":
                frame[col] = frame[col].fillna("")
        elif col in _BOOL_COLUMNS:
            frame[col] = frame[col].fillna(False).astype(bool)
        elif (col.startswith("n_") or col == "pressure") and frame[col].notna().all():
            frame[col] = frame[col].astype(int)
        else:
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    return frame


def report_to_json(rep: common.TechniqueReport) -> str:
    """A TechniqueReport as JSON (no pickles in the database: a file from elsewhere must not run code)."""
    import json

    return json.dumps(
        {
            "outcome": rep.outcome.key,
            "method": rep.method,
            "method_reason": rep.method_reason,
            "min_clients": rep.min_clients,
            "n_visits": rep.n_visits,
            "n_clients": rep.n_clients,
            "excluded": rep.excluded,
            "techniques": _frame_to_obj(rep.techniques),
            "pairs": _frame_to_obj(rep.pairs),
            "mixes": _frame_to_obj(rep.mixes),
            "pressure": _frame_to_obj(rep.pressure),
            "reference_pressure": rep.reference_pressure,
            "model_interactions": [list(p) for p in rep.model_interactions],
            "warnings": rep.warnings,
            "caveats": list(rep.caveats),
            "sensitivity_note": rep.sensitivity_note,
            "client_variance": rep.client_variance,
            "residual_variance": rep.residual_variance,
            "covariates": rep.covariates,
            "adjusted_for": rep.adjusted_for,
        }
    )


def report_from_json(text: str) -> common.TechniqueReport:
    import json

    d = json.loads(text)
    return common.TechniqueReport(
        outcome=common.OUTCOMES[d["outcome"]],
        method=d["method"],
        method_reason=d["method_reason"],
        min_clients=d["min_clients"],
        n_visits=d["n_visits"],
        n_clients=d["n_clients"],
        excluded=d["excluded"],
        techniques=_frame_from_obj(d["techniques"]),
        pairs=_frame_from_obj(d["pairs"]),
        mixes=_frame_from_obj(d["mixes"]),
        pressure=_frame_from_obj(d["pressure"]),
        reference_pressure=d["reference_pressure"],
        model_interactions=[tuple(p) for p in d["model_interactions"]],
        warnings=d["warnings"],
        caveats=tuple(d["caveats"]),
        sensitivity_note=d.get("sensitivity_note"),  # absent in results stored before it existed
        client_variance=d["client_variance"],
        residual_variance=d["residual_variance"],
        covariates=d["covariates"],
        adjusted_for=d["adjusted_for"],
    )


# ---------------------------------------------------------------------------
# Page helpers at this size: subgroups, drill-down, one entry point
# ---------------------------------------------------------------------------


def large_report(
    db=None,
    outcome: str = "pain_change",
    *,
    regions=None,
    therapists=None,
    date_from=None,
    date_to=None,
    min_clients: int | None = None,
) -> common.TechniqueReport:
    """The stored result when it answers exactly this question, else :func:`report` (computed now)."""
    min_n = int(min_clients if min_clients is not None else common.settings_min_clients(db))
    if outcome in STORED_OUTCOMES and regions is None and therapists is None and date_from is None and date_to is None:
        stored = stored_report(db, outcome, min_n)
        if stored is not None:
            return stored
    return report(
        db, outcome, regions=regions, therapists=therapists, date_from=date_from, date_to=date_to, min_clients=min_n
    )


def subgroups(
    db=None,
    outcome: str = "pain_change",
    *,
    levels: list[str],
    therapists=None,
    date_from=None,
    date_to=None,
    min_clients: int | None = None,
) -> pd.DataFrame:
    """techniques.subgroups by complaint region for a large practice: one within-client fit per region.

    (Within clients the region is constant, so the comparison is the same kind as the main
    table's; Holm across the whole table.)  Regions with fewer than twice the minimum clients
    show their counts only.
    """
    min_n = int(min_clients if min_clients is not None else common.settings_min_clients(db))
    parts = []
    for level in levels:
        rep = report(
            db, outcome, regions=[level], therapists=therapists, date_from=date_from, date_to=date_to, min_clients=min_n
        )
        if rep.n_clients < 2 * min_n:
            parts.append(
                pd.DataFrame(
                    [
                        {
                            "complaint_region": level,
                            "technique": None,
                            "n_visits": rep.n_visits,
                            "n_clients": rep.n_clients,
                            "estimable": False,
                            "method": "",
                            "note": f"only {rep.n_clients} clients in this group (minimum {2 * min_n})",
                        }
                    ]
                )
            )
            continue
        t = rep.techniques.copy()
        t.insert(0, "complaint_region", level)
        t["method"] = rep.method
        parts.append(t)
    if not parts:
        return pd.DataFrame(columns=["complaint_region", *common.TECHNIQUE_COLUMNS, "method"])
    out = pd.concat(parts, ignore_index=True)
    for col in common.TECHNIQUE_COLUMNS:
        if col not in out:
            out[col] = np.nan
    out["estimable"] = out["estimable"].fillna(False).astype(bool)
    out["p_adjusted"] = common.benjamini_hochberg(out["p"].where(out["estimable"]))
    return out[["complaint_region", *common.TECHNIQUE_COLUMNS, "method"]]


DRILL_LIMIT = 500  # rows shown under an estimate at this size; the page gives the full count


def drill_visits(
    db=None,
    *,
    technique: str | None = None,
    mix: str | None = None,
    regions=None,
    therapists=None,
    date_from=None,
    date_to=None,
    limit: int = DRILL_LIMIT,
) -> tuple[pd.DataFrame, int, int]:
    """The newest ``limit`` visits behind a technique or mix, and how many visits and clients there are in all."""
    from pipelines.warehouse.db import read_connection

    params = {**_filter_params(regions, therapists, date_from, date_to), "technique": technique, "mix": mix}
    with read_connection(db) as con:
        frame = con.execute(_sql("drill"), {**params, "limit": int(limit)}).df()
        n_visits, n_clients = con.execute(_sql("drill_count"), params).fetchone()
    return frame, int(n_visits), int(n_clients)


# ---------------------------------------------------------------------------
# Synergy screen from aggregates (forward selection, as techniques._select_interactions)
# ---------------------------------------------------------------------------


def _cell_has_pair(combos: dict, a: str, b: str) -> np.ndarray:
    return np.array([a in ts and b in ts for ts in combos["techniques"]], dtype=float)


def _pair_screen(client_tech, combos, names, levels, cont, K, A, b, yy, S, Sy, n_i, N, G, min_n) -> dict | None:
    """Screen every pair's interaction a×b given the within-client main-effects model.

    Exactly the within-client (client fixed effects) fit with the pair's column added, for every
    pair at once (Frisch-Waugh-Lovell on the Gram matrix), with model-based standard errors,
    as the mixed-model path screens; a pair whose synergy survives Holm's step-down threshold is
    added (at most techniques.MAX_MODEL_INTERACTIONS), the rest are screened again given it.
    Returns the pair table's numbers, the chosen pairs and the Gram matrices extended by them.
    """
    kept_techs = [names[j] for j in K if j < len(names)]
    index = {t: i for i, t in enumerate(names)}
    client_sets, set_tech = client_tech["client_sets"], client_tech["set_tech"]
    n_c = np.asarray(combos["n"], dtype=float)
    pairs = [
        (a, b_)
        for i, a in enumerate(kept_techs)
        for b_ in kept_techs[i + 1 :]
        if (_cell_has_pair(combos, a, b_) * n_c).any()
    ]  # used together at least once
    if not pairs:
        return {"candidates": [], "chosen": [], "results": {}}
    ia = np.array([index[a] for a, _ in pairs])
    ib = np.array([index[b_] for _, b_ in pairs])
    Z = np.column_stack([_cell_has_pair(combos, a, b_) for a, b_ in pairs])  # cells x P
    Sz = np.asarray(client_sets @ (set_tech[:, ia] * set_tech[:, ib]))  # clients x P: visits with both
    n_both = (Sz > 0).sum(axis=0)
    a_only = (S[:, ia] > Sz).sum(axis=0)
    b_only = (S[:, ib] > Sz).sum(axis=0)
    candidates = []
    for j, (a, b_) in enumerate(pairs):
        row = {
            "technique_a": a,
            "technique_b": b_,
            "n_visits_both": int(Z[:, j] @ n_c),
            "n_clients_both": int(n_both[j]),
            "n_clients_a_only": int(a_only[j]),
            "n_clients_b_only": int(b_only[j]),
        }
        row["ok"] = min(row["n_clients_both"], row["n_clients_a_only"], row["n_clients_b_only"]) >= min_n
        candidates.append(row)
    # Gram matrix of [all base columns, all candidate pair columns], within clients
    D = _design_blocks(combos, names, levels)
    sums_c = np.column_stack([np.asarray(combos["s_" + a], dtype=float) for a in cont])
    s_y = np.asarray(combos["s_y"], dtype=float)
    ZtX = np.hstack([Z.T @ (D * n_c[:, None]), Z.T @ sums_c]) - Sz.T @ (S / n_i[:, None])
    Zty = Z.T @ s_y - Sz.T @ (Sy / n_i)
    ZtZ = Z.T @ (Z * n_c[:, None]) - Sz.T @ (Sz / n_i[:, None])
    k0, P = A.shape[0], Z.shape[1]
    M = np.zeros((k0 + P, k0 + P))
    M[:k0, :k0], M[k0:, :k0], M[:k0, k0:], M[k0:, k0:] = A, ZtX, ZtX.T, ZtZ
    v = np.concatenate([b, Zty])
    df = float(max(G - 1, 1))

    def screen_given(base: list[int], skip: set[int]) -> dict[int, dict]:
        B = np.array(base)
        MB = M[np.ix_(B, B)]
        beta_B = np.linalg.solve(MB, v[B])
        sigma2 = max(yy - float(v[B] @ beta_B), 0.0) / max(N - G - B.size, 1)
        out = {}
        for j in range(P):
            if j in skip or not candidates[j]["ok"]:
                continue
            col = k0 + j
            m = M[B, col]
            g = np.linalg.solve(MB, m)
            s = M[col, col] - float(m @ g)
            if not s > 1e-9 * max(M[col, col], 1e-12):
                continue
            est = (v[col] - float(m @ beta_B)) / s
            out[j] = {"est": est, "se": math.sqrt(sigma2 / s), "dist": "t", "df": df}
        return out

    base = list(K)
    chosen_j: list[int] = []
    for _ in range(common.MAX_MODEL_INTERACTIONS):
        results = screen_given(base, set(chosen_j))
        if not results:
            break
        pvals = {j: common.ci_p(r["est"], r["se"], "t", df)[2] for j, r in results.items()}
        j, p = min(pvals.items(), key=lambda kv: kv[1])
        if not p < common.ALPHA / len(pvals):
            break
        chosen_j.append(j)
        base.append(k0 + j)
    results = screen_given(base, set(chosen_j))  # the others, given the chosen ones (the table's numbers)
    # the Gram matrices extended by the chosen columns (for the final fit)
    ext = list(range(k0)) + [k0 + j for j in chosen_j]
    return {
        "candidates": candidates,
        "chosen": [(candidates[j]["technique_a"], candidates[j]["technique_b"]) for j in chosen_j],
        "chosen_index": chosen_j,
        "chosen_cols": np.arange(k0, k0 + len(chosen_j)),
        "A": M[np.ix_(ext, ext)],
        "b": v[ext],
        "S": np.hstack([S, Sz[:, chosen_j]]),
        "results": results,
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m pipelines.techniques.large store [--db PATH]``: store the default result now.

    What the import's hook does, for a database imported before the hook existed (or by hand).
    """
    import argparse

    from pipelines.warehouse.db import resolve_db_path, write_connection

    parser = argparse.ArgumentParser(
        prog="python -m pipelines.techniques.large", description=main.__doc__.splitlines()[0]
    )
    parser.add_argument("action", choices=["store"])
    parser.add_argument("--db", default=None)
    args = parser.parse_args(argv)
    db = resolve_db_path(args.db)
    with write_connection(db) as con:
        stored = store_default_report(con, db=db)
    print(
        f"stored the default technique result in {db}"
        if stored
        else f"{db} has {LARGE_DATA_VISITS:,} visits or fewer: the page computes the mixed model itself, nothing stored"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
