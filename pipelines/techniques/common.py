"""What every technique-response path shares: outcomes, constants, the result type and its helpers.

:mod:`pipelines.techniques.model` (the visit-frame path) and :mod:`pipelines.techniques.large`
(the SQL-aggregate path) both import from here and never from each other;
:mod:`pipelines.techniques.analysis` is the one front door that picks between them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import scipy.stats
from statsmodels.stats.multitest import multipletests

# ---------------------------------------------------------------------------
# Constants (documented; the minimum n per arm comes from settings)
# ---------------------------------------------------------------------------

DEFAULT_MIN_CLIENTS_PER_ARM = 8  # used only when no settings can be read
MIN_CLIENTS_MIXED_MODEL = 20  # below this a client variance is too poorly estimated: use the fallback
MAX_MODEL_INTERACTIONS = 3  # synergies (Holm p < .05) added to the main model, strongest first
ALPHA = 0.05
# Below this many clients cluster-robust standard errors are too small (they over-reject with few
# clusters: Cameron & Miller, J Hum Resour 2015;50:317-72), so both paths then use the
# within-client model-based ones (t with visits - clients - columns degrees of freedom).
MIN_CLIENTS_ROBUST = 30
ROBUST_SE = "cluster-robust standard errors by client"
FEW_CLIENTS_SE = (
    f"model-based within-client standard errors (fewer than {MIN_CLIENTS_ROBUST} clients: cluster-robust ones are too "
    "small)"
)


RANK_TOL = 1e-9  # a column whose within-client variation left after the earlier columns is below this share: dependent


def independent_columns(A: np.ndarray, order: list[int]) -> list[int]:
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


def standard_errors_text(n_clients: int) -> str:
    """How the intervals were made, by the one rule both paths follow."""
    return ROBUST_SE if n_clients >= MIN_CLIENTS_ROBUST else FEW_CLIENTS_SE


MIN_VISITS_PER_MIX = 10  # and at least min_clients_per_arm; a mean over fewer visits is too noisy to show
NEAR_COLLINEAR_SHARE = 0.8  # warn when a pair is used together in >= 80 % of the visits using either
BOUNDARY_RATIO = 1e-4  # client variance below this share of the residual variance = on the boundary
REFERENCE_PRESSURE = 3
PRESSURE_LEVELS = (1, 2, 3, 4, 5)
UNSPECIFIED = "unspecified"
SELF_REPORT_WINDOW_DAYS = 7

UNADJUSTED_LABEL = "unadjusted difference - not an effect"


@dataclass(frozen=True)
class Outcome:
    key: str
    column: str
    label: str
    unit: str
    direction: str  # what a negative number means
    axis_title: str
    extra_covariates: tuple[str, ...] = ()
    higher_is_better: bool = False  # pain: lower is better; ROM: more movement is better


OUTCOMES: dict[str, Outcome] = {
    "pain_change": Outcome(
        "pain_change",
        "pain_change",
        "Immediate change in pain (after - before the visit)",
        "points (0-10)",
        "negative = more relief",
        "Adjusted change in pain (points, 0–10); negative = more relief",
    ),
    "carryover_change": Outcome(
        "carryover_change",
        "carryover_change",
        "Carry-over: next visit's pain before - this visit's pain before",
        "points (0-10)",
        "negative = relief that lasted to the next visit",
        "Adjusted carry-over change in pain (points, 0–10); negative = more lasting relief",
        ("log_days_to_next",),
    ),
    "self_report_change": Outcome(
        "self_report_change",
        "self_report_change",
        "Self-reported pain: 7 days after - 7 days before the visit",
        "points (0-10)",
        "negative = less pain reported after the visit",
        "Adjusted change in self-reported pain, 7 days after vs before (points, 0–10); negative = more relief",
        ("self_pain_before_7d",),
    ),
    "rom_change": Outcome(
        "rom_change",
        "rom_mean_change_deg",
        "Range of motion: mean change over the visit's paired readings (after - before)",
        "degrees",
        "positive = more movement",
        "Adjusted change in range of motion (degrees); positive = more movement",
        higher_is_better=True,
    ),
}

METHOD_NOTES: tuple[str, ...] = (
    "One comparison at every size: each client is compared with themselves - their visits with a technique "
    "against their own visits without it - so clients who always or never had a technique add nothing to its "
    "estimate, and nothing that stays the same for a client (age, complaint, how they respond in general) can "
    "mix in. Up to the size limit this is a mixed model (random intercept per client, REML) with every client's "
    "means of the time-varying columns (Mundlak 1978), whose technique coefficients are exactly the within-client "
    "(fixed-effects) ones; above it the same estimates come from SQL aggregates. Intervals are cluster-robust by "
    "client with a t reference on clients - 1 degrees of freedom on both paths.",
    "An estimate needs at least the practice's minimum number of clients (settings, default 8) with visits both "
    "with and without the technique; with fewer only the counts are shown (with 8 clients a paired comparison has "
    "80 % power only for large standardised effects, d_z of about 1.16; Cohen 1988).",
    "p-values: Holm across the techniques of the main table; Benjamini-Hochberg (false discovery rate; Benjamini & "
    "Hochberg 1995) for the exploratory screens - pairs, mixes, complaint regions. A synergy chosen by these data "
    "for the main model is shown with its interval only: a p-value from the data that chose it would be too small.",
    "A mix's effect is the sum of its techniques' effects plus every synergy in the model between two of its "
    "techniques: the predicted change with exactly that mix compared with a visit with none of them.",
    "Not adjusted for, and why: the number of techniques in a visit is the sum of the technique columns, so it is "
    "already in the model (each effect means 'adding this technique to the visit'); session length is mostly set "
    "by the techniques chosen, so adjusting for it would take away part of the techniques' own effect.",
)

CAVEATS: tuple[str, ...] = (
    "Observational data: these numbers come from the practice's own records, not from a trial. "
    "Techniques were not assigned at random, so an estimate says which techniques went with more "
    "relief once pain before the visit, visit number, pressure and complaint region are taken into "
    "account - not that the technique caused it.",
    "Confounding by indication: therapists choose techniques by how bad the pain is. A technique kept "
    "for the hardest cases can look worse than it is. Adjusting for pain before the visit removes part "
    "of this, not all: anything else the therapist noticed that the records do not hold is still mixed in.",
    "Regression to the mean: clients tend to book when pain peaks, so pain often falls by the next "
    "reading whatever is done. Raw before/after drops overstate what any technique does; the estimates "
    "are adjusted for pain before the visit for this reason.",
    "Small numbers: with few clients the intervals are wide and chance differences look real. "
    "An estimate is shown only when enough clients had the technique and enough did not, and p-values "
    "are adjusted for the number of comparisons.",
    "Floor of the scale: pain cannot fall below 0, so when pain before the visit is already low the "
    "possible relief is capped. This makes the strongest techniques look slightly weaker than they are "
    "(a few percent), most visibly in large practices where the intervals are narrow.",
)


# ---------------------------------------------------------------------------
# Loading (the only database access; one short-lived read-only connection)
# ---------------------------------------------------------------------------

FILTERED_VISITS = "/*filtered_visits*/"


def sql_file(name: str) -> str:
    """``pipelines/sql/techniques/<name>.sql`` with the page's filters included."""
    return with_filtered_visits(read_sql(name))


def with_filtered_visits(sql: str) -> str:
    """Put the one copy of the filters (filtered_visits.sql) where ``sql`` writes /*filtered_visits*/."""
    return sql.replace(FILTERED_VISITS, read_sql("filtered_visits"))


def read_sql(name: str) -> str:
    return resources.files("pipelines.sql").joinpath(f"techniques/{name}.sql").read_text(encoding="utf-8")


def as_list(values: Iterable[str] | str | None) -> list[str] | None:
    if values is None:
        return None
    if isinstance(values, str):
        return [values]
    out = [str(v) for v in values]
    return out or None


def settings_value(db, key: str, default: float) -> float:
    """A number from the practice settings next to ``db`` (``default`` when they cannot be read)."""
    try:
        from pipelines.clinical.settings import load_settings, settings_path_for, threshold
        from pipelines.warehouse.db import resolve_db_path

        return float(threshold(load_settings(settings_path_for(resolve_db_path(db))), key))
    except (KeyError, ValueError, OSError):
        return default


def settings_min_clients(db=None) -> int:
    """``analysis.min_clients_per_arm`` from the practice settings next to ``db`` (default 8)."""
    return int(settings_value(db, "analysis.min_clients_per_arm", DEFAULT_MIN_CLIENTS_PER_ARM))


# ---------------------------------------------------------------------------
# Result
# ---------------------------------------------------------------------------

TECHNIQUE_COLUMNS = [
    "technique",
    "n_visits",
    "n_clients",
    "n_clients_without",
    "n_clients_both",
    "estimable",
    "effect",
    "ci_low",
    "ci_high",
    "se",
    "p",
    "p_adjusted",
    "effect_size",
    "unadjusted_difference",
    "note",
]
PAIR_COLUMNS = [
    "technique_a",
    "technique_b",
    "n_visits_both",
    "n_clients_both",
    "n_clients_a_only",
    "n_clients_b_only",
    "estimable",
    "interaction",
    "ci_low",
    "ci_high",
    "se",
    "p",
    "p_adjusted",
    "in_main_model",
    "note",
]
MIX_COLUMNS = [
    "mix",
    "n_techniques",
    "n_visits",
    "n_clients",
    "estimable",
    "effect",
    "ci_low",
    "ci_high",
    "se",
    "p",
    "p_adjusted",
    "observed_mean",
    "note",
]
PRESSURE_COLUMNS = [
    "pressure",
    "n_visits",
    "n_clients",
    "estimable",
    "adjusted_mean",
    "ci_low",
    "ci_high",
    "difference_vs_reference",
    "diff_ci_low",
    "diff_ci_high",
    "note",
]


@dataclass
class TechniqueReport:
    outcome: Outcome
    method: str
    method_reason: str | None
    min_clients: int
    n_visits: int
    n_clients: int
    excluded: dict[str, int]
    techniques: pd.DataFrame
    pairs: pd.DataFrame
    mixes: pd.DataFrame
    pressure: pd.DataFrame
    reference_pressure: int | None
    model_interactions: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    caveats: tuple[str, ...] = CAVEATS
    client_variance: float | None = None
    residual_variance: float | None = None
    covariates: list[str] = field(default_factory=list)
    adjusted_for: list[str] = field(default_factory=list)
    sensitivity_note: str | None = None  # pain before corrected for measurement error (in-memory path only)

    @property
    def is_fallback(self) -> bool:
        return self.method_reason is not None

    def to_records(self) -> list[dict[str, Any]]:
        """One JSON-ready dict per technique (the ``knotwork techniques --json`` contract)."""
        out = []
        for row in self.techniques.itertuples(index=False):
            out.append(
                {
                    "technique": row.technique,
                    "n_visits": int(row.n_visits),
                    "n_clients": int(row.n_clients),
                    "n_clients_without": int(row.n_clients_without),
                    "n_clients_both": int(row.n_clients_both),
                    "effect": num(row.effect),
                    "ci_low": num(row.ci_low),
                    "ci_high": num(row.ci_high),
                    "p": num(row.p),
                    "p_adjusted": num(row.p_adjusted),
                    "effect_size": num(row.effect_size),
                    "outcome": self.outcome.key,
                    "unit": self.outcome.unit,
                    "method": self.method,
                    "note": row.note or None,
                }
            )
        return out

    def mix_records(self) -> list[dict[str, Any]]:
        """One JSON-ready dict per mix, ranked (the ``knotwork techniques --mixes --json`` contract)."""
        return [
            {
                "mix": [t for t in str(row.mix).split("+") if t],
                "n_visits": int(row.n_visits),
                "n_clients": int(row.n_clients),
                "effect": num(row.effect),
                "ci_low": num(row.ci_low),
                "ci_high": num(row.ci_high),
                "p_adjusted": num(row.p_adjusted),
                "observed_mean": num(row.observed_mean),
                "relative_to": "a visit with none of these techniques",
                "outcome": self.outcome.key,
                "unit": self.outcome.unit,
                "note": row.note or None,
            }
            for row in self.mixes.itertuples(index=False)
        ]


def num(value) -> float | None:
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else round(f, 6)


def ci_p(est, se, dist, df):
    if not (se > 0) or math.isnan(est):
        return float("nan"), float("nan"), float("nan")
    if dist == "z":
        q, p = scipy.stats.norm.ppf(1 - ALPHA / 2), 2 * scipy.stats.norm.sf(abs(est / se))
    else:
        q, p = scipy.stats.t.ppf(1 - ALPHA / 2, df), 2 * scipy.stats.t.sf(abs(est / se), df)
    return est - q * se, est + q * se, float(p)


def benjamini_hochberg(pvalues: Iterable[float]) -> np.ndarray:
    """False-discovery-rate adjusted p-values (Benjamini & Hochberg 1995) for exploratory screens.

    Pairs, mixes, subgroups and pressure levels are screens - many looks, few of which are
    expected to matter - where controlling the share of false leads (rather than the chance
    of any one, as Holm does for the main technique table) is the usual choice.
    """
    p = np.asarray(list(pvalues), dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = multipletests(p[ok], alpha=ALPHA, method="fdr_bh")[1]
    return out


SELECTED_SYNERGY_NOTE = (
    "synergy chosen by these data and included in the main model: exploratory, shown with its "
    "interval only (a p-value from the data that chose it would be too small)"
)


def too_few_note(n_both: int, min_n: int) -> str:
    """The one minimum-n rule of both paths, in words."""
    return f"too few clients to estimate: {n_both} had visits both with and without it (minimum {min_n})"


def mix_table(
    counts: pd.DataFrame,
    *,
    beta: np.ndarray,
    cov: np.ndarray,
    names: list[str],
    estimable: set[str],
    df: float,
    higher_is_better: bool = False,
) -> pd.DataFrame:
    """Every mix the practice uses, with the model's predicted effect of exactly that mix.

    ``counts``: one row per exact mix (``mix`` "a+b", ``techniques`` list, ``n_visits``,
    ``n_clients``, ``observed_mean`` of the outcome in visits with exactly that mix).  A mix's
    effect is the sum of its techniques' within-client effects plus every synergy in the model
    whose two techniques are both in it - the change in the outcome with exactly this mix
    compared with a visit with none of its techniques - with a 95 % interval from the model's
    covariance (a t reference with ``df`` degrees of freedom).  Mixes used in fewer than
    :data:`MIN_VISITS_PER_MIX` visits, or with a technique below the minimum n, get counts
    only.  p-values are Benjamini-Hochberg adjusted across the mixes (a screen).
    """
    index = {name: i for i, name in enumerate(names)}
    rows = []
    for r in counts.itertuples(index=False):
        techs = list(r.techniques)
        row = {
            "mix": r.mix,
            "n_techniques": len(techs),
            "n_visits": int(r.n_visits),
            "n_clients": int(r.n_clients),
            "estimable": False,
            "effect": float("nan"),
            "ci_low": float("nan"),
            "ci_high": float("nan"),
            "se": float("nan"),
            "p": float("nan"),
            "p_adjusted": float("nan"),
            "observed_mean": float(r.observed_mean),
            "note": "",
        }
        missing = [t for t in techs if t not in estimable or f"tech[{t}]" not in index]
        if r.n_visits < MIN_VISITS_PER_MIX:
            row["note"] = f"only {int(r.n_visits)} visits with this mix (minimum {MIN_VISITS_PER_MIX})"
        elif missing:
            row["note"] = "no estimate for " + ", ".join(missing) + ", so none for the mix"
        else:
            vec = np.zeros(len(names))
            for t in techs:
                vec[index[f"tech[{t}]"]] = 1.0
            synergies = []
            for name, i in index.items():
                if "×" in name:
                    a, b = (part[len("tech[") : -1] for part in name.split("×"))
                    if a in techs and b in techs:
                        vec[i] = 1.0
                        synergies.append(f"{a} + {b}")
            est = float(vec @ beta)
            se = math.sqrt(max(float(vec @ cov @ vec), 0.0))
            lo, hi, p = ci_p(est, se, "t", df)
            row.update(
                estimable=True,
                effect=est,
                se=se,
                ci_low=lo,
                ci_high=hi,
                p=p,
                note=("includes the synergy of " + ", ".join(synergies)) if synergies else "sum of its techniques",
            )
        rows.append(row)
    out = pd.DataFrame(rows, columns=MIX_COLUMNS)
    if len(out):
        out["estimable"] = out["estimable"].astype(bool)
        out["p_adjusted"] = benjamini_hochberg(out["p"].where(out["estimable"]))
        out = out.sort_values(
            ["estimable", "effect", "n_visits"], ascending=[False, not higher_is_better, False], na_position="last"
        ).reset_index(drop=True)
    return out


def holm(pvalues: Iterable[float]) -> np.ndarray:
    """Holm-adjusted p-values (``multipletests(method="holm")``; its default is Holm-Sidak, not Holm)."""
    p = np.asarray(list(pvalues), dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = multipletests(p[ok], alpha=ALPHA, method="holm")[1]
    return out


COVARIATE_LABELS = {
    "pain_pre": "pain before the visit",
    "visit_number": "visit number",
    "log_days_to_next": "days to the next visit (log)",
    "self_pain_before_7d": "self-reported pain in the 7 days before",
}


def default_min_clients() -> int:
    try:
        from pipelines.clinical.settings import threshold

        return int(threshold(None, "analysis.min_clients_per_arm"))
    except (KeyError, ValueError):
        return DEFAULT_MIN_CLIENTS_PER_ARM


def empty_report(oc, min_n, df, n_clients, excluded, base_rows, why) -> TechniqueReport:
    tech_df = pd.DataFrame(list(base_rows.values()), columns=TECHNIQUE_COLUMNS)
    tech_df["note"] = why
    return TechniqueReport(
        outcome=oc,
        method="none",
        method_reason=why,
        min_clients=min_n,
        n_visits=len(df),
        n_clients=n_clients,
        excluded=excluded,
        techniques=tech_df,
        pairs=pd.DataFrame(columns=PAIR_COLUMNS),
        mixes=pd.DataFrame(columns=MIX_COLUMNS),
        pressure=pd.DataFrame(columns=PRESSURE_COLUMNS),
        reference_pressure=None,
        warnings=[why],
    )
