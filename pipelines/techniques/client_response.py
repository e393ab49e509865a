"""This client's own technique response: how much more (or less) relief one client gets in visits
with a technique than in their visits without it, pulled toward the practice as much as the
client's own visits warrant.

Method (a two-stage hierarchical model, as in combining single-patient trials: Zucker DR et al.,
J Clin Epidemiol 1997;50:401-410; Schmid CH, Duan N (eds.), Design and Analysis of N-of-1 Trials,
AHRQ 2014):

1. **Within each client.**  The outcome is the immediate change in pain (after - before the visit,
   negative = relief).  The pull of pain before the visit and of the visit number is estimated
   once for the practice, comparing each client only with themself (client fixed effects), and
   removed.  Then, per client, a least-squares fit of the change on the techniques that client
   has had in some visits and not in others gives the client's own difference with vs without
   each technique (everything constant about the client cancels), with its standard error from
   the practice's pooled within-client residual variance.
2. **Pooled toward the practice.**  Per technique, the clients' own differences are treated as
   draws around a practice effect ``mu`` with a between-client spread ``tau``
   (normal-normal model).  ``mu`` has a flat prior and ``tau`` a uniform prior on
   [0, ``TAU_MAX``]; both are integrated out exactly on a grid (Gelman et al., Bayesian Data
   Analysis, 3rd ed., ch. 5), so the interval carries the uncertainty of the practice effect
   *and* of the spread.  Plugging in a moment estimate of ``tau`` instead would give intervals
   that are too narrow when few clients inform it.

The result per client and technique: the posterior mean (``effect``), its 95 % interval, the
probability of at least ``RELIEF_POINTS`` more relief than without, the probability that the
client does better with it than the practice's typical client, visits with and without, and
the practice effect beside it.  Where the data cannot say anything, ``effect`` is empty and
``reason`` says why ("cannot tell yet, because ...").

Observational caveat: techniques are chosen by the therapist, not at random, so these describe
the client's visits; a fair trial (pipelines.techniques.trial) is how to get a real answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources

import numpy as np
import pandas as pd
from scipy.special import ndtr

# At least this many clients with visits both with and without a technique before the practice's
# spread between clients can be estimated at all (with fewer, the uniform prior on tau would be
# all there is).
MIN_CLIENTS = 5
# "More relief" that matters to a client: 1 point on the 0-10 scale is the smallest change a
# person notices (Salaffi F et al., Eur J Pain 2004;8:283-91: minimal clinically important
# difference of about 1 point / 15 % on the NRS in chronic musculoskeletal pain).
RELIEF_POINTS = 1.0
# Upper end of the uniform prior on the between-client SD of a technique's effect: 4 points on a
# 0-10 scale is beyond any plausible spread, so the prior only rules out the absurd.
TAU_MAX = 4.0
TAU_GRID = 81
# A difference between this client and the practice is called out ("more than most") only when
# the posterior probability of it is at least this.
CLEAR_DIFFERENCE = 0.8
INTERVAL = 0.95

# Verdicts, in the order rows are shown (best evidence first, then what cannot be told).
HELPS, WORSE, UNCLEAR, CANNOT_TELL = "helps", "worse", "unclear", "cannot tell"
_VERDICT_ORDER = {HELPS: 0, WORSE: 1, UNCLEAR: 2, CANNOT_TELL: 3}

COLUMNS = [
    "client_id",
    "technique",
    "effect",
    "ci_low",
    "ci_high",
    "p_more_relief",
    "p_better_than_practice",
    "n_visits_with",
    "n_visits_without",
    "practice_effect",
    "practice_ci_low",
    "practice_ci_high",
    "between_client_sd",
    "n_clients_practice",
    "verdict",
    "reason",
]


def _sql() -> str:
    return (
        resources.files("pipelines.sql").joinpath("techniques/client_response_visits.sql").read_text(encoding="utf-8")
    )


def load_visits(db=None) -> pd.DataFrame:
    """Every visit (client, visit number, pain before, change in pain, techniques); one short read."""
    from pipelines.warehouse.db import read_connection

    with read_connection(db) as con:
        frame = con.execute(_sql()).df()
    frame["techniques"] = [list(t) if isinstance(t, (list, np.ndarray)) else [] for t in frame["techniques"]]
    return frame


# ---------------------------------------------------------------------------------------------
# Stage 1: within each client
# ---------------------------------------------------------------------------------------------


@dataclass
class _ClientFit:
    n_visits: int  # analysable visits (pain before and after, a technique)
    with_counts: dict[str, int]  # technique -> analysable visits with it
    estimates: dict[str, tuple[float, float]] = field(default_factory=dict)  # technique -> (b, se)
    not_estimable: dict[str, str] = field(default_factory=dict)  # technique -> why


@dataclass
class _Hyper:
    """Posterior of one technique's practice effect and spread, on the tau grid."""

    technique: str
    n_clients: int
    weights: np.ndarray | None = None  # p(tau_k | data)
    mu_hat: np.ndarray | None = None  # E(mu | tau_k, data)
    v_mu: np.ndarray | None = None  # Var(mu | tau_k, data)
    practice: tuple[float, float, float] | None = None  # mean, low, high
    tau_median: float | None = None


@dataclass
class PracticeFit:
    """Everything needed to answer for any client (built once per data version)."""

    clients: dict[str, _ClientFit]
    client_reasons: dict[str, str]  # client -> why nothing can be said (no analysable visits, ...)
    client_techniques: dict[str, list[str]]
    hyper: dict[str, _Hyper]
    sigma: float | None
    n_clients: int
    regions: dict[str, str] = field(default_factory=dict)  # client -> complaint region
    _region_hyper: dict[tuple[str, str], _Hyper] = field(default_factory=dict)

    def region_hyper(self, region: str, technique: str) -> _Hyper:
        """The practice effect and spread among the clients with this complaint region only."""
        key = (region, technique)
        if key not in self._region_hyper:
            pairs = [
                f.estimates[technique]
                for c, f in self.clients.items()
                if self.regions.get(c) == region and technique in f.estimates
            ]
            self._region_hyper[key] = _hyper(
                technique, np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
            )
        return self._region_hyper[key]


def _analysable(visits: pd.DataFrame) -> pd.Series:
    has_tech = visits["techniques"].map(len) > 0
    return visits["pain_change"].notna() & visits["pain_pre"].notna() & has_tech


def _indicator_matrix(visits: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    names = sorted({t for ts in visits["techniques"] for t in ts})
    index = {t: i for i, t in enumerate(names)}
    T = np.zeros((len(visits), len(names)))
    for r, ts in enumerate(visits["techniques"]):
        for t in ts:
            T[r, index[t]] = 1.0
    return names, T


def _demean(values: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    means = np.add.reduceat(values, starts, axis=0) / counts.reshape(-1, *([1] * (values.ndim - 1)))
    return values - np.repeat(means, counts, axis=0)


def _covariates(visits: pd.DataFrame) -> np.ndarray:
    # Pain before the visit (higher pain has more room to fall) and the visit number on a log scale
    # (early visits move most); both compared within the client.
    return np.column_stack([visits["pain_pre"].to_numpy(float), np.log(visits["visit_number"].to_numpy(float))])


def _common_slopes(y, T, Z, starts, counts) -> np.ndarray:
    """Within-client (fixed-effects) slopes of the covariates, with the techniques in the model."""
    X = _demean(np.column_stack([Z, T]), starts, counts)
    coef, *_ = np.linalg.lstsq(X, _demean(y, starts, counts), rcond=None)
    return coef[: Z.shape[1]]


def _identifiable(X: np.ndarray, order: list[int]) -> tuple[list[int], dict[int, tuple[list[int], bool]]]:
    """Columns of X (after the intercept, column 0) kept in ``order``; a column adding no rank is
    dropped and reported with the kept columns it is indistinguishable from (and whether the
    intercept is part of that: it was used exactly when those were not)."""
    kept = [0]
    aliased: dict[int, tuple[list[int], bool]] = {}
    # Gram-Schmidt on the kept columns: a column whose part orthogonal to them is ~0 adds no rank
    # (one projection per column instead of a rank computation of the whole matrix each time).
    basis = np.empty((X.shape[0], X.shape[1]))
    basis[:, 0] = X[:, 0] / np.linalg.norm(X[:, 0])
    for j in order:
        x = X[:, j]
        q = basis[:, : len(kept)]
        r = x - q @ (q.T @ x)
        size = np.sqrt(r @ r)
        if size > 1e-8 * max(np.sqrt(x @ x), 1.0):
            basis[:, len(kept)] = r / size
            kept.append(j)
        else:
            coef, *_ = np.linalg.lstsq(X[:, kept], x, rcond=None)
            aliased[j] = ([kept[i] for i in range(1, len(kept)) if abs(coef[i]) > 1e-8], abs(coef[0]) > 1e-8)
    return kept, aliased


def _pretty(name: str) -> str:
    return name.replace("_", " ")


def _aliased_reason(partners: list[str], same: bool, partition: bool) -> str:
    words = [_pretty(p) for p in partners] or ["the other techniques"]
    listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    if partition:
        return (
            f"in this client's visits it was used exactly when {listed} {'was' if len(words) == 1 else 'were'} "
            "not, so there is no visit to compare it with"
        )
    if same:
        return f"it was always used together with {listed}, so their effects cannot be told apart"
    return (
        f"its visits are too few to tell its effect apart from {listed}, which were used in the same pattern of visits"
    )


def _client_stage(y, T, names) -> tuple[_ClientFit, float, int]:
    """One client's own least-squares fit; returns the fit, its residual sum of squares and df."""
    n = len(y)
    with_counts = {names[j]: int(T[:, j].sum()) for j in range(len(names)) if T[:, j].any()}
    fit = _ClientFit(n_visits=n, with_counts=with_counts)
    varying = [j for j in range(len(names)) if 0 < T[:, j].sum() < n]
    for j in range(len(names)):
        if T[:, j].sum() == n:
            fit.not_estimable[names[j]] = "it was used in every visit, so there is nothing to compare it with"
    if not varying:
        return fit, 0.0, 0
    X = np.column_stack([np.ones(n), T[:, varying]])
    # Most-used first: when two techniques always go together, the rarer one is reported as aliased.
    order = sorted(range(1, len(varying) + 1), key=lambda c: (-X[:, c].sum(), names[varying[c - 1]]))
    kept, aliased = _identifiable(X, order)
    for j, (partners, with_intercept) in aliased.items():
        fit.not_estimable[names[varying[j - 1]]] = _aliased_reason(
            [names[varying[p - 1]] for p in partners],
            same=len(partners) == 1 and not with_intercept,
            partition=with_intercept,
        )
    Xk = X[:, kept]
    xtx_inv = np.linalg.inv(Xk.T @ Xk)
    b = xtx_inv @ Xk.T @ y
    rss = float(((y - Xk @ b) ** 2).sum())
    for pos, col in enumerate(kept[1:], start=1):
        fit.estimates[names[varying[col - 1]]] = (float(b[pos]), float(xtx_inv[pos, pos]))  # se filled later
    return fit, rss, n - len(kept)


def _client_reason(n_visits: int, n_with_pain: int, n_analysable: int) -> str | None:
    if n_visits == 1:
        return "only one visit is recorded"
    if n_with_pain == 0:
        return "no visit has pain recorded both before and after"
    if n_analysable == 0:
        return "no visit with pain recorded before and after has its techniques recorded"
    if n_analysable == 1:
        return "only one visit has pain recorded before and after together with its techniques"
    return None


def fit_practice(visits: pd.DataFrame) -> PracticeFit:
    """Stage 1 for every client, stage 2 for every technique."""
    visits = visits.sort_values(["client_id", "visit_number"], kind="stable").reset_index(drop=True)
    client_techniques = {c: sorted({t for ts in g for t in ts}) for c, g in visits.groupby("client_id")["techniques"]}
    ok = _analysable(visits)
    regions = dict(zip(visits["client_id"], visits["complaint_region"])) if "complaint_region" in visits else {}
    reasons: dict[str, str] = {}
    counts = (
        pd.DataFrame({"client_id": visits["client_id"], "pain": visits["pain_change"].notna(), "ok": ok})
        .groupby("client_id")
        .agg(n=("ok", "size"), pain=("pain", "sum"), ok=("ok", "sum"))
    )
    for c, n, pain, n_ok in counts.itertuples():
        reason = _client_reason(int(n), int(pain), int(n_ok))
        if reason:
            reasons[c] = reason
    data = visits[ok].reset_index(drop=True)
    fits: dict[str, _ClientFit] = {}
    hyper: dict[str, _Hyper] = {}
    if data.empty:
        return PracticeFit({}, reasons, client_techniques, hyper, None, visits["client_id"].nunique(), regions)
    names, T = _indicator_matrix(data)
    y = data["pain_change"].to_numpy(float)
    Z = _covariates(data)
    codes, starts, counts = np.unique(data["client_id"].to_numpy(), return_index=True, return_counts=True)
    gamma = _common_slopes(y, T, Z, starts, counts)
    y_adj = y - Z @ gamma
    rss_total, df_total = 0.0, 0
    for c, s, k in zip(codes, starts, counts):
        fit, rss, df = _client_stage(y_adj[s : s + k], T[s : s + k], names)
        fits[c] = fit
        rss_total += rss
        df_total += df
    # One residual variance for the practice: a client's 10 visits cannot estimate their own noise.
    # (The covariate slopes used 2 of the degrees of freedom.)
    sigma = float(np.sqrt(rss_total / (df_total - 2))) if df_total > 2 else None
    per_tech: dict[str, list[tuple[float, float]]] = {t: [] for t in names}
    for fit in fits.values():
        for t, (b, xtx) in list(fit.estimates.items()):
            if sigma is None:
                del fit.estimates[t]
                fit.not_estimable[t] = "the practice has too few visits to estimate how much pain varies"
                continue
            fit.estimates[t] = (b, sigma * np.sqrt(xtx))
            per_tech[t].append(fit.estimates[t])
    for t, pairs in per_tech.items():
        hyper[t] = _hyper(t, np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs]))
    return PracticeFit(fits, reasons, client_techniques, hyper, sigma, visits["client_id"].nunique(), regions)


# ---------------------------------------------------------------------------------------------
# Stage 2: pooled toward the practice (normal-normal, mu and tau integrated out on a grid)
# ---------------------------------------------------------------------------------------------

_TAUS = np.linspace(0.0, TAU_MAX, TAU_GRID)
_Z = 1.959963984540054  # two-sided 95 %


def _hyper(technique: str, b: np.ndarray, se: np.ndarray) -> _Hyper:
    h = _Hyper(technique, n_clients=len(b))
    if len(b) < MIN_CLIENTS:
        return h
    V = se[None, :] ** 2 + _TAUS[:, None] ** 2  # (grid, clients)
    v_mu = 1.0 / (1.0 / V).sum(axis=1)
    mu_hat = v_mu * (b[None, :] / V).sum(axis=1)
    logp = (
        0.5 * np.log(v_mu) - 0.5 * np.log(V).sum(axis=1) - 0.5 * (((b[None, :] - mu_hat[:, None]) ** 2) / V).sum(axis=1)
    )
    w = np.exp(logp - logp.max())
    w /= w.sum()
    h.weights, h.mu_hat, h.v_mu = w, mu_hat, v_mu
    lo, hi = _mixture_quantiles(w[None, :], mu_hat[None, :], v_mu[None, :])
    h.practice = (float(w @ mu_hat), float(lo[0]), float(hi[0]))
    h.tau_median = float(_TAUS[np.searchsorted(np.cumsum(w), 0.5)])
    return h


def _mixture_quantiles(w, m, v, level: float = INTERVAL) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed interval of a mixture of normals per row (rows: clients; columns: tau grid)."""
    sd = np.sqrt(v)
    out = []
    for q in ((1 - level) / 2, (1 + level) / 2):
        lo = (m - 8 * sd).min(axis=1) - 1e-9
        hi = (m + 8 * sd).max(axis=1) + 1e-9
        for _ in range(50):  # bisection: 50 halvings of a <100-point bracket is far below 0.01 points
            mid = (lo + hi) / 2
            cdf = (w * ndtr((mid[:, None] - m) / np.where(sd > 0, sd, 1e-12))).sum(axis=1)
            below = cdf < q
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
        out.append((lo + hi) / 2)
    return out[0], out[1]


def _client_posteriors(h: _Hyper, b: np.ndarray, se: np.ndarray) -> dict[str, np.ndarray]:
    """Posterior of each client's effect (one per entry of ``b``/``se``): a mixture over the tau grid
    of normals, with mu integrated out."""
    tau2 = (_TAUS**2)[None, :]
    s2 = (se**2)[:, None]
    shrink = s2 / (s2 + tau2)  # B: weight on the practice effect
    m = (1 - shrink) * b[:, None] + shrink * h.mu_hat[None, :]
    v = shrink * tau2 + shrink**2 * h.v_mu[None, :]
    w = np.broadcast_to(h.weights, m.shape)
    lo, hi = _mixture_quantiles(w, m, v)
    sd = np.sqrt(np.maximum(v, 1e-24))
    # theta - mu given tau: mean (1 - B)(b - mu_hat), variance B tau^2 + (1 - B)^2 Var(mu)
    d_m = (1 - shrink) * (b[:, None] - h.mu_hat[None, :])
    d_sd = np.sqrt(np.maximum(shrink * tau2 + (1 - shrink) ** 2 * h.v_mu[None, :], 1e-24))
    return {
        "effect": m @ h.weights,
        "ci_low": lo,
        "ci_high": hi,
        "p_more_relief": ndtr((-RELIEF_POINTS - m) / sd) @ h.weights,
        "p_better_than_practice": ndtr(-d_m / d_sd) @ h.weights,
    }


def _posteriors_for(fit: PracticeFit, clients: list[str]) -> dict[tuple[str, str], dict[str, float]]:
    """Posteriors of every estimable (client, technique) among ``clients``, one batch per technique."""
    out: dict[tuple[str, str], dict[str, float]] = {}
    for t, h in fit.hyper.items():
        if h.practice is None:
            continue
        who = [c for c in clients if c in fit.clients and t in fit.clients[c].estimates]
        if not who:
            continue
        b = np.array([fit.clients[c].estimates[t][0] for c in who])
        se = np.array([fit.clients[c].estimates[t][1] for c in who])
        post = _client_posteriors(h, b, se)
        for i, c in enumerate(who):
            out[(c, t)] = {k: float(v[i]) for k, v in post.items()}
    return out


# ---------------------------------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------------------------------


def _verdict(post: dict[str, float]) -> str:
    if post["ci_high"] < 0:
        return HELPS
    if post["ci_low"] > 0:
        return WORSE
    return UNCLEAR


def _row(fit: PracticeFit, client_id: str, technique: str, posts: dict) -> dict:
    cf = fit.clients.get(client_id)
    h = fit.hyper.get(technique)
    n_with = cf.with_counts.get(technique, 0) if cf else 0
    n_visits = cf.n_visits if cf else 0
    row = dict.fromkeys(COLUMNS)
    row.update(
        client_id=client_id,
        technique=technique,
        n_visits_with=n_with,
        n_visits_without=n_visits - n_with,
        n_clients_practice=h.n_clients if h else 0,
        verdict=CANNOT_TELL,
    )
    if h is not None and h.practice is not None:
        row.update(
            practice_effect=h.practice[0],
            practice_ci_low=h.practice[1],
            practice_ci_high=h.practice[2],
            between_client_sd=h.tau_median,
        )
    if client_id in fit.client_reasons:
        row["reason"] = fit.client_reasons[client_id]
    elif cf is not None and technique in cf.not_estimable:
        row["reason"] = cf.not_estimable[technique]
    elif n_with == 0:
        row["reason"] = "it is not in any visit with pain recorded before and after"
    elif h is None or h.practice is None:
        n = h.n_clients if h else 0
        row["reason"] = (
            f"only {n} client{'s' if n != 1 else ''} in the practice "
            f"{'has' if n == 1 else 'have'} visits both with and without it; at least {MIN_CLIENTS} "
            "are needed to know how much clients differ"
        )
    else:
        post = posts[(client_id, technique)]
        row.update(post)
        row["verdict"] = _verdict(post)
    return row


def _rows(fit: PracticeFit, client_id: str, posts: dict) -> pd.DataFrame:
    rows = [_row(fit, client_id, t, posts) for t in fit.client_techniques.get(client_id, [])]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    if frame.empty:
        return frame
    frame["_order"] = frame["verdict"].map(_VERDICT_ORDER)
    frame["_width"] = (frame["ci_high"] - frame["ci_low"]).fillna(np.inf)
    return (
        frame.sort_values(["_order", "_width", "technique"], kind="stable")
        .drop(columns=["_order", "_width"])
        .reset_index(drop=True)
    )


def client_response(fit: PracticeFit, client_id: str) -> pd.DataFrame:
    """One row per technique this client has had: clear answers first (narrowest interval first),
    "cannot tell" last; never ordered by the size of a mean."""
    return _rows(fit, client_id, _posteriors_for(fit, [client_id]))


def all_clients(fit: PracticeFit) -> pd.DataFrame:
    clients = sorted(fit.client_techniques)
    posts = _posteriors_for(fit, clients)
    frames = [f for f in (_rows(fit, c, posts) for c in clients) if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)


def client_reason(fit: PracticeFit, client_id: str) -> str | None:
    """Why nothing can be said about this client at all (None when something can)."""
    if client_id not in fit.client_techniques:
        return "no visits are recorded"
    return fit.client_reasons.get(client_id)


def to_records(frame: pd.DataFrame) -> list[dict]:
    """JSON-ready rows (NaN -> null, numbers rounded to what the 0-10 scale can carry)."""
    out = []
    for row in frame.to_dict("records"):
        clean = {}
        for k, v in row.items():
            if isinstance(v, (float, np.floating)):
                clean[k] = None if not np.isfinite(v) else round(float(v), 3)
            elif isinstance(v, (np.integer,)):
                clean[k] = int(v)
            else:
                clean[k] = v
        out.append(clean)
    return out


def response_records(db=None, client: str = "all") -> list[dict]:
    """``knotwork techniques --client ID|all``: the rows for one client or for every client."""
    fit = fit_practice(load_visits(db))
    if client == "all":
        return to_records(all_clients(fit))
    if client not in fit.client_techniques and client not in fit.client_reasons:
        raise KeyError(client)
    return to_records(client_response(fit, client))


def points(value, signed: bool = True) -> str:
    """One decimal on the 0-10 scale with a real minus sign; "—" for nothing; never "−0.0"."""
    if value is None or not np.isfinite(value):
        return "—"
    value = round(float(value), 1) + 0.0  # + 0.0 turns -0.0 into 0.0
    if value == 0:
        return "0.0"
    return (f"{value:+.1f}" if signed else f"{value:.1f}").replace("-", "−")


def format_records(records: list[dict]) -> str:
    """The plain-text table ``knotwork techniques --client`` prints without ``--json``."""
    if not records:
        return "no techniques recorded for this client"
    lines = [
        f"{'client':<10} {'technique':<22} {'effect':>7} {'95 % interval':>15} {'P(>=1 pt)':>9} "
        f"{'with':>5} {'w/out':>5} {'practice':>8}  note"
    ]
    for r in records:
        interval = "—" if r["ci_low"] is None else f"{points(r['ci_low'])} to {points(r['ci_high'])}"
        p = "—" if r["p_more_relief"] is None else f"{r['p_more_relief']:.0%}"
        note = r["verdict"] if r["reason"] is None else f"cannot tell yet, because {r['reason']}"
        lines.append(
            f"{r['client_id']:<10} {r['technique']:<22} {points(r['effect']):>7} {interval:>15} {p:>9} "
            f"{r['n_visits_with']:>5} {r['n_visits_without']:>5} {points(r['practice_effect']):>8}  {note}"
        )
    lines.append(
        "effect: this client's change in pain with vs without the technique (points, negative = relief), "
        "pulled toward the practice effect as much as the client's own visits warrant."
    )
    return "\n".join(lines)
