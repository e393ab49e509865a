"""The technique analysis' one front door: it alone decides which path answers a question.

Both paths estimate the same thing - the **within-client comparison**: how a client did on
their visits with a technique against their own visits without it, given pain before the
visit, visit number and pressure (Mundlak 1978; Allison 2009, *Fixed Effects Regression
Models*).  Up to :data:`LARGE_DATA_VISITS` visits the visit frame is analysed in memory
(:mod:`pipelines.techniques.model`: a random-intercept mixed model with every client's means
of the time-varying columns, whose technique coefficients are exactly the within-client
ones); above it the same estimates come from SQL aggregates (:mod:`pipelines.techniques.large`:
client fixed effects), so a practice's numbers keep their meaning when it, or a filter,
crosses the size limit.  One minimum-n rule on both paths: an estimate needs at least
``analysis.min_clients_per_arm`` clients (settings; default 8) who had visits both with and
without the technique.
"""

from __future__ import annotations

import pandas as pd

from pipelines.techniques import large, model
from pipelines.techniques.common import (
    ALPHA,
    DEFAULT_PAIN_RELIABILITY,
    MIN_CALIBRATION_RELIABILITY,
    TechniqueReport,
    apply_sensitivity,
    settings_min_clients,
    settings_value,
)

LARGE_DATA_VISITS = large.LARGE_DATA_VISITS
PATHS = ("auto", "mixed", "within")


def _filters(regions, therapists, date_from, date_to) -> dict:
    return {"regions": regions, "therapists": therapists, "date_from": date_from, "date_to": date_to}


def uses_sql_path(db=None, *, regions=None, therapists=None, date_from=None, date_to=None) -> bool:
    """Whether the filtered visits are too many for the in-memory path (one count query)."""
    return large.is_large(large.count_visits(db, **_filters(regions, therapists, date_from, date_to)))


def technique_report(
    db=None,
    outcome: str = "pain_change",
    *,
    regions=None,
    therapists=None,
    date_from=None,
    date_to=None,
    min_clients: int | None = None,
    pairs: bool = True,
    mixes: bool = True,
    path: str = "auto",
) -> TechniqueReport:
    """Load (with filters) and analyse in one call; the minimum n comes from the practice settings.

    This is "the technique analysis" the page, ``knotwork techniques`` and the benchmarks call.
    ``path``: ``"auto"`` picks by size (above :data:`LARGE_DATA_VISITS` visits the SQL path,
    using the importer's stored result when it answers exactly this question); ``"mixed"`` /
    ``"within"`` force the in-memory or the SQL path (tests, comparisons).
    """
    if path not in PATHS:
        raise ValueError("path must be 'auto', 'mixed' or 'within'")
    if min_clients is None:
        min_clients = settings_min_clients(db)
    filters = _filters(regions, therapists, date_from, date_to)
    if path == "within":
        return large.report(db, outcome, min_clients=min_clients, **filters)
    if path == "auto" and uses_sql_path(db, **filters):
        return large.large_report(db, outcome, min_clients=min_clients, **filters)
    visits = model.load_visits(db, **filters)
    rep = model.analyse(visits, outcome, min_clients=min_clients, pairs=pairs, mixes=mixes)
    reliability = settings_value(db, "pain.reliability", DEFAULT_PAIN_RELIABILITY)
    return with_sensitivity(rep, visits, reliability, min_clients=min_clients, pairs=pairs)


def with_sensitivity(
    rep: TechniqueReport, visits: pd.DataFrame, reliability: float, *, min_clients: int, pairs: bool = True
) -> TechniqueReport:
    """Add each technique's estimate with pain before corrected for measurement error, and a caveat
    in words for every technique whose verdict the correction changes (see
    :func:`pipelines.techniques.model.calibrated_baseline`; the SQL path computes the same numbers from
    its aggregates, :func:`pipelines.techniques.large.calibrated_table`)."""
    if rep.method == "none" or not len(rep.techniques):
        return rep
    prepared, _ = model.prepare(visits, rep.outcome)
    calibrated, lam = model.calibrated_baseline(prepared, reliability)
    if lam < MIN_CALIBRATION_RELIABILITY:
        return apply_sensitivity(rep, None, reliability, lam)
    alt = model.analyse(calibrated, rep.outcome, min_clients=min_clients, pairs=pairs, mixes=False)
    return apply_sensitivity(rep, alt.techniques.set_index("technique"), reliability, lam)


def subgroups(
    db=None,
    outcome: str = "pain_change",
    *,
    regions=None,
    therapists=None,
    date_from=None,
    date_to=None,
    min_clients: int | None = None,
) -> pd.DataFrame:
    """The technique table within each complaint region, by the same path as the main table."""
    if min_clients is None:
        min_clients = settings_min_clients(db)
    filters = _filters(regions, therapists, date_from, date_to)
    if uses_sql_path(db, **filters):
        levels = list(regions) if regions else model.filter_options(db)["regions"]
        return large.subgroups(
            db,
            outcome,
            levels=levels,
            therapists=therapists,
            date_from=date_from,
            date_to=date_to,
            min_clients=min_clients,
        )
    visits = model.load_visits(db, **filters)
    return model.subgroups(visits, "complaint_region", outcome, min_clients=min_clients)


def format_table(report: TechniqueReport) -> str:
    """The plain-text technique table with its caveats (``knotwork techniques``)."""
    oc = report.outcome
    lines = [
        f"Technique response - {oc.label}; {oc.unit}, {oc.direction}",
        f"{report.n_visits:,} visits of {report.n_clients:,} clients; method: {report.method}",
        f"Adjusted for: {', '.join(report.adjusted_for) or 'nothing'}",
    ]
    if report.excluded:
        lines.append("Left out: " + "; ".join(f"{n:,} visits with {why}" for why, n in report.excluded.items()))
    lines.append("")
    header = f"{'technique':<22} {'visits':>7} {'clients':>7}  {'effect':>7}  {'95% CI':<17} {'p (Holm)':>9}  note"
    lines.append(header)
    lines.append("-" * len(header))
    for r in report.techniques.itertuples(index=False):
        if r.estimable:
            ci = f"[{r.ci_low:+.2f}, {r.ci_high:+.2f}]"
            padj = "<0.001" if r.p_adjusted < 0.001 else f"{r.p_adjusted:.3f}"
            lines.append(
                f"{r.technique:<22} {r.n_visits:>7,} {r.n_clients:>7,}  {r.effect:>+7.2f}  {ci:<17} {padj:>9}  {r.note}"
            )
        else:
            lines.append(f"{r.technique:<22} {r.n_visits:>7,} {r.n_clients:>7,}  {'-':>7}  {'':<17} {'-':>9}  {r.note}")
    good_pairs = report.pairs[report.pairs["estimable"]] if len(report.pairs) else report.pairs
    if len(good_pairs):
        screened = good_pairs[~good_pairs["in_main_model"]]
        n_sig = int((screened["p_adjusted"] < ALPHA).sum())
        lines += [
            "",
            f"Pairs (synergy beyond additive, interaction a×b; {len(good_pairs)} pairs with enough co-use; "
            f"{n_sig} screened with Benjamini-Hochberg p < {ALPHA}; first {min(5, len(good_pairs))} shown):",
        ]
        for r in good_pairs.head(5).itertuples(index=False):
            padj = (
                "chosen by these data: interval only"
                if r.in_main_model
                else "p (BH) " + ("<0.001" if r.p_adjusted < 0.001 else f"{r.p_adjusted:.3f}")
            )
            lines.append(
                f"  {r.technique_a} + {r.technique_b}: {r.interaction:+.2f} "
                f"[{r.ci_low:+.2f}, {r.ci_high:+.2f}], {padj}, {r.n_clients_both} clients"
            )
    est_p = report.pressure[report.pressure["estimable"]] if len(report.pressure) else report.pressure
    if len(est_p):
        lines += ["", "Pressure (adjusted mean change):"]
        for r in est_p.itertuples(index=False):
            lines.append(
                f"  {r.pressure}: {r.adjusted_mean:+.2f} [{r.ci_low:+.2f}, {r.ci_high:+.2f}] ({r.n_visits:,} visits)"
            )
    if report.warnings:
        lines += ["", "Warnings:"] + [f"  ! {w}" for w in report.warnings]
    lines += ["", "Read with care:"] + [f"  - {c}" for c in report.caveats]
    return "\n".join(lines)


def format_mixes(report: TechniqueReport) -> str:
    """The plain-text mix ranking (``knotwork techniques --mixes``)."""
    oc = report.outcome
    lines = [
        f"Mixes the practice uses, ranked - {oc.label}; {oc.unit}, {oc.direction}",
        "Effect: the model's predicted change with exactly this mix compared with a visit with none of its "
        "techniques (its techniques' effects plus any synergy in the model); observed: the plain mean of the "
        "visits with exactly this mix.",
        "",
    ]
    header = f"{'mix':<48} {'visits':>7} {'clients':>7}  {'effect':>7}  {'95% CI':<17} {'observed':>8}  note"
    lines += [header, "-" * len(header)]
    for r in report.mixes.itertuples(index=False):
        effect, ci = (f"{r.effect:>+7.2f}", f"[{r.ci_low:+.2f}, {r.ci_high:+.2f}]") if r.estimable else ("—", "")
        lines.append(
            f"{r.mix.replace('+', ' + '):<48} {r.n_visits:>7,} {r.n_clients:>7,}  {effect:>7}  {ci:<17} "
            f"{r.observed_mean:>+8.2f}  {r.note}"
        )
    return "\n".join(lines)
