"""Clinical change calculations: pain, range of motion, questionnaire change categories.

Pure functions over numbers, numpy arrays and pandas Series; no database.  Every function
that takes a pair of measurements accepts scalars (returns a scalar), array-likes (returns
a numpy array) or Series (returns a Series with the same index).

Sign conventions (the same everywhere in Knotwork):

* :func:`pain_change` is ``post − pre``: **negative = relief**, like the ``effect`` column of
  the technique table.
* :func:`reliable_change_index` is ``(post − pre) / S_diff``, with the sign flipped for
  measures where higher is better, so **a negative RCI is always an improvement**.

Every threshold default comes from the practice settings (``pipelines/clinical/settings.py``,
``pipelines/clinical/settings_default.toml``), which carry their citations; the formulas below cite
their primary sources.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from pipelines.clinical.settings import threshold
from pipelines.ingest.vocab import INSTRUMENTS, JOINTS, MOVEMENTS, ROM_NORMS, RomNorm

RECOVERED = "recovered"
IMPROVED = "improved"
UNCHANGED = "unchanged"
DETERIORATED = "deteriorated"
HARMED = "harmed"
CATEGORIES = (RECOVERED, IMPROVED, UNCHANGED, DETERIORATED, HARMED)
RCI_METHODS = ("JT", "EN")  # Jacobson & Truax 1991; Edwards et al. 1978 / Speer 1992
CUTOFFS = ("a", "b", "c")

PAIN_CLINICALLY_IMPORTANT = "clinically important improvement"
PAIN_SOME = "some improvement"
PAIN_NO_CHANGE = "no important change"
PAIN_WORSE = "worse"
PAIN_STATUSES = (PAIN_CLINICALLY_IMPORTANT, PAIN_SOME, PAIN_NO_CHANGE, PAIN_WORSE)

RCI_Z95 = 1.96
SPINE_JOINTS = frozenset({"cervical", "thoracic", "lumbar"})

# Thresholds are compared with a tiny tolerance so that 7 → 4.9 counts as the 30 % it is,
# despite binary floating point (2.1 / 7 * 100 = 29.999999999999996).
_REL_TOL = 1e-9


def _at_least(value: np.ndarray, limit: Any) -> np.ndarray:
    limit = np.asarray(limit, dtype=float)
    return value >= limit - _REL_TOL * np.maximum(1.0, np.abs(limit))


# ---------------------------------------------------------------------------
# Input / output shapes
# ---------------------------------------------------------------------------


def _to_float(x: Any, name: str) -> np.ndarray:
    """Float array (NaN for None / NaN / pd.NA / blank) with the shape of ``x``."""
    if isinstance(x, pd.Series):
        values = x.astype(object)
    else:
        values = pd.Series(np.asarray(x, dtype=object).ravel())
    values = values.map(lambda v: np.nan if (v is None or v is pd.NA or (isinstance(v, str) and not v.strip())) else v)
    try:
        out = pd.to_numeric(values, errors="raise").to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric ({exc})") from None
    return out if isinstance(x, pd.Series) else out.reshape(np.shape(x))


def _pair(
    pre: Any, post: Any, names: tuple[str, str] = ("pre", "post")
) -> tuple[np.ndarray, np.ndarray, Callable[[np.ndarray], Any]]:
    """Both inputs as broadcast float arrays, and a function that shapes a result like them."""
    series = [s for s in (pre, post) if isinstance(s, pd.Series)]
    if len(series) == 2 and not series[0].index.equals(series[1].index):
        raise ValueError(f"{names[0]} and {names[1]} are Series with different indexes; align them first")
    a, b = _to_float(pre, names[0]), _to_float(post, names[1])
    try:
        a, b = np.broadcast_arrays(a, b)
    except ValueError:
        raise ValueError(f"{names[0]} and {names[1]} have different lengths ({a.shape} vs {b.shape})") from None
    scalar = a.ndim == 0

    def shape(result: np.ndarray) -> Any:
        if scalar:
            value = result.reshape(()).item() if result.dtype != object else result.reshape(-1)[0]
            if isinstance(value, float) and math.isnan(value):
                return float("nan")
            return value
        if series:
            # object dtype keeps None for a missing category on every pandas version
            # (pandas 3 would otherwise infer its string dtype and turn None into NaN).
            return pd.Series(result, index=series[0].index, dtype=object if result.dtype == object else None)
        return result

    return a, b, shape


def _categories(
    improved: np.ndarray,
    deteriorated: np.ndarray,
    missing: np.ndarray,
    recovered: np.ndarray | None = None,
    harmed: np.ndarray | None = None,
) -> np.ndarray:
    out = np.full(improved.shape, UNCHANGED, dtype=object)
    out[improved] = IMPROVED
    if recovered is not None:
        out[recovered] = RECOVERED
    out[deteriorated] = DETERIORATED
    if harmed is not None:
        out[harmed] = HARMED
    out[missing] = None
    return out


def _sample_sd(values: np.ndarray, name: str) -> float:
    finite = values[~np.isnan(values)]
    if finite.size < 2:
        raise ValueError(f"{name} cannot be estimated from fewer than 2 baseline values; pass it explicitly")
    return float(np.std(finite, ddof=1))


def _positive(value: Any, name: str, *, allow_zero: bool = False) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'≥ 0' if allow_zero else '> 0'}, got {value!r}")
    return number


# ---------------------------------------------------------------------------
# Jacobson & Truax (1991) reliable change and clinical significance
# ---------------------------------------------------------------------------


def standard_error_of_measurement(sd: float, reliability: float) -> float:
    """SE = sd · √(1 − r)  (Jacobson & Truax 1991)."""
    r = float(reliability)
    if not 0 <= r < 1:
        raise ValueError(f"reliability must be in [0, 1), got {reliability!r}")
    return _positive(sd, "sd") * math.sqrt(1 - r)


def reliable_change_threshold(sd: float, reliability: float, z: float = RCI_Z95) -> float:
    """Smallest change, in the measure's own units, that is reliable: z · √2 · SE.

    Equals the MDC95 (= 1.96 · √2 · SEM) for ``z = 1.96``.  Example: NDI %
    with SD 16 and ICC 0.93 → SE = 4.233, threshold = 11.73 %-points.
    """
    return z * math.sqrt(2) * standard_error_of_measurement(sd, reliability)


def reliable_change_index(
    pre: Any, post: Any, *, reliability: float, sd: float | None = None, higher_is_better: bool = False
) -> Any:
    """Jacobson–Truax reliable change index for each pre/post pair.

    ``SE = sd · √(1 − r)``, ``S_diff = √2 · SE``, ``RCI = (post − pre) / S_diff``, sign flipped
    when ``higher_is_better`` so that **negative always means improvement**.  ``|RCI| > 1.96``
    is a change beyond measurement error at 95 % (Jacobson NS, Truax P. *J Consult Clin Psychol*
    1991;59:12–19, √2 per Christensen & Mendoza 1986).

    ``sd`` is the SD of the measure at baseline; by default the sample SD (ddof=1) of the
    non-missing ``pre`` values.  A single pair therefore needs ``sd``.  NaN in ``pre`` or
    ``post`` gives NaN.

    Example: pre 30, post 18, sd 7.5, r 0.8 → SE 3.354, S_diff 4.743, RCI −2.53.
    """
    a, b, shape = _pair(pre, post)
    s = _sample_sd(a, "sd") if sd is None else _positive(sd, "sd")
    s_diff = math.sqrt(2) * standard_error_of_measurement(s, reliability)
    rci = (b - a) / s_diff
    return shape(-rci if higher_is_better else rci)


def jt_cutoff_c(clinical_mean: float, clinical_sd: float, functional_mean: float, functional_sd: float) -> float:
    """Jacobson–Truax cut-off c between the clinical and the functional population.

    ``c = (SD_clin · M_fun + SD_fun · M_clin) / (SD_clin + SD_fun)``, the point equally far
    (in SD units) from both means (Jacobson & Truax 1991, recommended when both norms exist).
    Example: M_clin 30, SD_clin 7.5, M_fun 10, SD_fun 5 → c = (7.5·10 + 5·30) / 12.5 = 18.
    """
    sd_clin = _positive(clinical_sd, "clinical SD")
    sd_fun = _positive(functional_sd, "functional_sd")
    return (sd_clin * float(functional_mean) + sd_fun * float(clinical_mean)) / (sd_clin + sd_fun)


def jt_cutoff(
    kind: str,
    *,
    clinical_mean: float,
    clinical_sd: float,
    functional_mean: float | None = None,
    functional_sd: float | None = None,
    higher_is_better: bool = False,
) -> float:
    """Jacobson & Truax (1991) cut-off ``a``, ``b`` or ``c`` between the clinical and the functional range.

    * ``a``: two clinical SDs beyond the clinical mean, towards better (needs no norms);
    * ``b``: two functional SDs from the functional mean, towards worse;
    * ``c``: :func:`jt_cutoff_c`, equally far from both means.

    Example (lower is better): M_clin 30, SD_clin 7.5 → a = 15; M_fun 10, SD_fun 5 → b = 20.
    """
    if kind not in CUTOFFS:
        raise ValueError(f"cutoff must be one of {', '.join(CUTOFFS)}, got {kind!r}")
    toward_better = 1.0 if higher_is_better else -1.0
    if kind == "a":
        return float(clinical_mean) + toward_better * 2 * _positive(clinical_sd, "clinical SD")
    if functional_mean is None or functional_sd is None:
        raise ValueError(f"cut-off {kind} needs functional_mean and functional_sd (norms of a healthy population)")
    if kind == "b":
        return float(functional_mean) - toward_better * 2 * _positive(functional_sd, "functional_sd")
    return jt_cutoff_c(clinical_mean, clinical_sd, functional_mean, functional_sd)


def classify_change(
    pre: Any,
    post: Any,
    *,
    higher_is_better: bool = False,
    reliability: float | None = None,
    sd: float | None = None,
    mid: float | None = None,
    pct: float | None = None,
    functional_mean: float | None = None,
    functional_sd: float | None = None,
    clinical_mean: float | None = None,
    z: float = RCI_Z95,
    cutoff: str | None = None,
    method: str = "JT",
) -> Any:
    """Classify each pre → post change: ``recovered``, ``improved``, ``unchanged``, ``deteriorated`` or ``harmed``.

    Scalars in → one ``str`` out; array-likes → numpy object array; Series → Series with the
    same index.  A pair with NaN/None in ``pre`` or ``post`` gets ``None`` (it is not
    "unchanged": nothing can be said about it).  "Better" means lower unless
    ``higher_is_better`` (PSFS, LEFS, ROM degrees).

    **Exactly one approach**, chosen by the arguments (anything else raises ``ValueError``):

    1. **Anchor-based** (``mid`` and/or ``pct``), categories improved / unchanged / deteriorated.

       * ``mid``: improved when the change in the better direction is ≥ ``mid`` (the minimal
         important difference, in the measure's units); deteriorated likewise in the worse
         direction.
       * ``pct``: improved when the change in the better direction is ≥ ``pct`` % of ``|pre|``;
         deteriorated likewise.  From a **zero baseline** any change is an unbounded
         percentage, so the percentage criterion holds for any change in that direction
         (0 → 5 with ``pct=30`` is deteriorated; with ``mid=2`` too it must also be ≥ 2).
       * both: both criteria must hold, in the same direction.  The practice's pain rule
         ``mid=2, pct=30`` is "≥ 2 points AND ≥ 30 %" (Farrar JT et al. *Pain* 2001;94:149–58).

       Example: 7 → 4 with ``mid=2`` is improved, 7 → 6 unchanged, 4 → 7 deteriorated.

    2. **Distribution-based** (``reliability`` = test–retest r, e.g. the ICC in the settings),
       as the R package ``clinicalsignificance`` (Claus et al.) computes it:

       * ``method="JT"`` (Jacobson NS, Truax P. *J Consult Clin Psychol* 1991;59:12–19):
         ``SE = sd·√(1 − r)``, ``S_diff = √2·SE``, ``RCI = (post − pre)/S_diff``;
       * ``method="EN"`` (Edwards–Nunnally; Speer DC. *J Consult Clin Psychol* 1992;60:402–8):
         the baseline's true score ``r·(pre − M) + M`` instead of ``pre``, and ``SE`` as
         the denominator.

       Reliable improvement / deterioration when ``|RCI| > z`` (1.96, 95 %) in that direction.
       ``sd`` and ``M`` default to the SD (ddof=1) and mean of ``pre`` **over the complete
       pairs** (a baseline without a follow-up says nothing about this change).

       With a cut-off (``cutoff="a"``, ``"b"`` or ``"c"``, see :func:`jt_cutoff`; ``"c"`` is
       the default when ``functional_mean`` and ``functional_sd`` are given) the change is
       **recovered** when reliably improved *and* crossing from the clinical range (``pre``
       on the clinical side of the cut-off) into the functional range (``post`` past it), and
       **harmed** when reliably deteriorated *and* crossing from the functional into the
       clinical range.  ``M_clin`` (for cut-offs a and c) is ``clinical_mean`` if given, else
       the complete pairs' baseline mean; ``SD_clin`` the same SD as above.  For a single
       client pass ``sd`` and ``clinical_mean`` (the practice's baseline figures).

       Example: pre 30, post 18, sd 7.5, r 0.8 → SE 3.354, S_diff 4.743, RCI −2.53 →
       improved (lower is better).
    """
    anchor = mid is not None or pct is not None
    distribution = reliability is not None
    if anchor and distribution:
        raise ValueError("choose one method: anchor-based (mid and/or pct) or Jacobson–Truax (reliability), not both")
    if not anchor and not distribution:
        raise ValueError("choose a method: mid= and/or pct= (anchor-based) or reliability= (Jacobson–Truax)")
    jt_only = {
        "sd": sd,
        "functional_mean": functional_mean,
        "functional_sd": functional_sd,
        "clinical_mean": clinical_mean,
        "cutoff": cutoff,
    }
    if anchor:
        given = [k for k, v in jt_only.items() if v is not None]
        if given:
            raise ValueError(f"{', '.join(given)} only apply to the Jacobson–Truax method (reliability=)")
    if (functional_mean is None) != (functional_sd is None):
        raise ValueError("functional_mean and functional_sd must be given together")
    if method not in RCI_METHODS:
        raise ValueError(f"method must be one of {', '.join(RCI_METHODS)}, got {method!r}")

    a, b, shape = _pair(pre, post)
    missing = np.isnan(a) | np.isnan(b)
    a0, b0 = np.where(missing, 0.0, a), np.where(missing, 0.0, b)
    better = (b0 - a0) if higher_is_better else (a0 - b0)  # > 0 = improvement

    if anchor:
        improved = np.ones(a.shape, dtype=bool)
        deteriorated = np.ones(a.shape, dtype=bool)
        if mid is not None:
            m = _positive(mid, "mid")
            improved &= _at_least(better, m)
            deteriorated &= _at_least(-better, m)
        if pct is not None:
            p = _positive(pct, "pct")
            base = np.abs(a0)
            zero = base == 0  # any change from 0 is an unbounded percentage
            improved &= np.where(zero, better > 0, _at_least(better * 100, p * base))
            deteriorated &= np.where(zero, better < 0, _at_least(-better * 100, p * base))
        return shape(_categories(improved & ~missing, deteriorated & ~missing, missing))

    zz = _positive(z, "z")
    complete = a[~missing]
    s = _sample_sd(complete, "sd") if sd is None else _positive(sd, "sd")
    r = float(reliability)
    se = standard_error_of_measurement(s, r)
    m_pre = float(complete.mean()) if complete.size else float("nan")
    if method == "JT":
        rci = -better / (math.sqrt(2) * se)  # negative = improvement, whatever the direction
    else:
        m = m_pre if clinical_mean is None else float(clinical_mean)
        true_pre = r * (a0 - m) + m
        toward = (b0 - true_pre) if higher_is_better else (true_pre - b0)
        rci = -toward / se
    improved = ~missing & (rci < -zz)
    deteriorated = ~missing & (rci > zz)
    if cutoff is None and functional_mean is None:
        return shape(_categories(improved, deteriorated, missing))
    if clinical_mean is None and not complete.size:
        raise ValueError("clinical mean cannot be estimated: no complete pairs")
    c = jt_cutoff(
        cutoff or "c",
        clinical_mean=m_pre if clinical_mean is None else float(clinical_mean),
        clinical_sd=s,
        functional_mean=functional_mean,
        functional_sd=functional_sd,
        higher_is_better=higher_is_better,
    )
    # the R package's boundaries: clinical before = strictly on the worse side, functional after =
    # strictly on the better side
    clinical_pre = (a0 < c) if higher_is_better else (a0 > c)
    functional_post = (b0 > c) if higher_is_better else (b0 < c)
    recovered = improved & clinical_pre & functional_post
    harmed = deteriorated & ~clinical_pre & ~functional_post
    return shape(_categories(improved, deteriorated, missing, recovered, harmed))


def classify_change_hlm(
    visits: pd.DataFrame,
    *,
    id_col: str,
    time_col: str,
    value_col: str,
    higher_is_better: bool = False,
    functional_mean: float | None = None,
    functional_sd: float | None = None,
    z: float = RCI_Z95,
) -> pd.Series:
    """Change categories from **all** of each person's measurements (the HLM method of the R package
    ``clinicalsignificance``; Raudenbush & Bryk 2002).

    A linear mixed model ``value ~ time`` with a random intercept and slope per person (REML) is
    fitted to the people measured at every time point; each person's empirical-Bayes slope
    deviation divided by its posterior SD is their reliable change index (beyond ``z`` in the
    better direction = improved).  With ``functional_mean``/``functional_sd``, cut-off c between
    the first and the last measurement's population (as :func:`classify_change`) gives
    ``recovered`` and ``harmed``.  Returns one category per person (index: the person's id).
    """
    from statsmodels.regression.mixed_linear_model import MixedLM

    wide = visits.pivot_table(index=id_col, columns=time_col, values=value_col, aggfunc="mean")
    wide = wide.dropna()  # people measured at every time point, as the R package uses
    if len(wide) < 3:
        raise ValueError("the HLM method needs at least 3 people measured at every time point")
    long = wide.stack().rename("value").reset_index()
    times = long[time_col].to_numpy(float)
    design = np.column_stack([np.ones(len(long)), times])
    fit = MixedLM(long["value"].to_numpy(float), design, groups=long[id_col].to_numpy(), exog_re=design).fit(reml=True)
    g_inv = np.linalg.inv(np.asarray(fit.cov_re))
    rci = {}
    for person, part in long.groupby(id_col, sort=False):
        zp = np.column_stack([np.ones(len(part)), part[time_col].to_numpy(float)])
        posterior = np.linalg.inv(zp.T @ zp / fit.scale + g_inv)
        slope = float(np.asarray(fit.random_effects[person])[1])
        rci[person] = slope / math.sqrt(posterior[1, 1])
    rci = pd.Series(rci).reindex(wide.index)
    toward_better = rci if higher_is_better else -rci
    improved, deteriorated = (toward_better > z).to_numpy(), (toward_better < -z).to_numpy()
    missing = np.zeros(len(rci), dtype=bool)
    if functional_mean is None:
        return pd.Series(_categories(improved, deteriorated, missing), index=wide.index, dtype=object)
    pre, post = wide.iloc[:, 0].to_numpy(float), wide.iloc[:, -1].to_numpy(float)
    c = jt_cutoff(
        "c",
        clinical_mean=float(pre.mean()),
        clinical_sd=float(pre.std(ddof=1)),
        functional_mean=functional_mean,
        functional_sd=functional_sd,
        higher_is_better=higher_is_better,
    )
    clinical_pre = (pre < c) if higher_is_better else (pre > c)
    functional_post = (post > c) if higher_is_better else (post < c)
    return pd.Series(
        _categories(
            improved,
            deteriorated,
            missing,
            improved & clinical_pre & functional_post,
            deteriorated & ~clinical_pre & ~functional_post,
        ),
        index=wide.index,
        dtype=object,
    )


# ---------------------------------------------------------------------------
# Pain (NPRS 0–10)
# ---------------------------------------------------------------------------


def pain_change(pre: Any, post: Any) -> Any:
    """``post − pre`` in NPRS points: negative = relief (pre 7, post 4 → −3)."""
    a, b, shape = _pair(pre, post)
    return shape(b - a)


def pct_change(pre: Any, post: Any) -> Any:
    """``(post − pre) / pre · 100``: negative = relief (pre 8, post 6 → −25.0).

    NaN when ``pre == 0`` (a percentage of nothing is undefined: show "n/a", never 0 % or
    ∞) and when either value is missing.
    """
    a, b, shape = _pair(pre, post)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(a == 0, np.nan, (b - a) / np.where(a == 0, 1.0, a) * 100)
    return shape(out)


def pain_status(baseline: Any, current: Any, settings: dict | None = None) -> Any:
    """Plain-language pain status of ``current`` against ``baseline`` (NPRS 0–10).

    In order, with the settings thresholds (defaults in brackets):

    * ``"clinically important improvement"``: down ≥ ``pain.mcid_points`` [2] **and**
      ≥ ``pain.mcid_pct`` % [30] (Farrar JT et al. *Pain* 2001;94:149–58).
    * ``"some improvement"``: otherwise down ≥ ``pain.minimal_points`` [1] **or**
      ≥ ``pain.minimal_pct`` % [15] (PGIC "slightly better", Salaffi F et al.
      *Eur J Pain* 2004;8:283–91).
    * ``"worse"``: up ≥ ``pain.worse_points`` [1]: Salaffi's minimal change applied to
      worsening, so a rise is shown early.  A 1-point rise is within NPRS measurement error
      (SEM 1.02, MDC 2: Childs 2005), so it reads "worse", not "reliably worse".
    * ``"no important change"``: everything else.

    A baseline of 0 has no percentage: it can only be "worse" or "no important change".
    Missing values give ``None``.  Scalars, arrays and Series as in :func:`classify_change`.
    """
    mcid_points = float(threshold(settings, "pain.mcid_points"))
    mcid_pct = float(threshold(settings, "pain.mcid_pct"))
    minimal_points = float(threshold(settings, "pain.minimal_points"))
    minimal_pct = float(threshold(settings, "pain.minimal_pct"))
    worse_points = float(threshold(settings, "pain.worse_points"))

    a, b, shape = _pair(baseline, current, ("baseline", "current"))
    missing = np.isnan(a) | np.isnan(b)
    a0, b0 = np.where(missing, 0.0, a), np.where(missing, 0.0, b)
    drop = a0 - b0
    base = np.abs(a0)
    has_pct = base > 0
    important = _at_least(drop, mcid_points) & has_pct & _at_least(drop * 100, mcid_pct * base)
    some = (drop > 0) & (_at_least(drop, minimal_points) | (has_pct & _at_least(drop * 100, minimal_pct * base)))
    worse = _at_least(-drop, worse_points)

    out = np.full(a.shape, PAIN_NO_CHANGE, dtype=object)
    out[worse] = PAIN_WORSE
    out[some] = PAIN_SOME
    out[important] = PAIN_CLINICALLY_IMPORTANT
    out[missing] = None
    return shape(out)


# ---------------------------------------------------------------------------
# Range of motion
# ---------------------------------------------------------------------------


def _canonical(vocab: Any, value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return vocab.resolve(str(value)).canonical


def rom_mdc(instrument: str | None, joint: str, same_rater: bool = True, settings: dict | None = None) -> float:
    """Minimal detectable change in degrees for one ROM comparison.

    * ``rom.mdc_same_rater_extremity_goniometer`` [5°]: same rater, an extremity joint,
      universal goniometer (Boone DC et al. *Phys Ther* 1978;58:1355–60).
    * ``rom.mdc_spine_crom_or_between_raters`` [10°]: everything else: spine (cervical,
      thoracic, lumbar), CROM / inclinometer / app / visual estimate, different raters, and
      unknown joints or instruments (Fletcher & Bandy 2008: CROM MDC up to 9.6°; Boone 1978).

    Only the universal goniometer on an extremity has evidence for the 5° figure, so every
    other case gets the conservative one.  Painful shoulders measured by different raters
    may need ≥ 20° (de Winter 2004); that is not applied by default.
    """
    small = float(threshold(settings, "rom.mdc_same_rater_extremity_goniometer"))
    large = float(threshold(settings, "rom.mdc_spine_crom_or_between_raters"))
    joint_name = _canonical(JOINTS, joint)
    instrument_name = _canonical(INSTRUMENTS, instrument)
    extremity = joint_name is not None and joint_name not in SPINE_JOINTS
    if same_rater and extremity and instrument_name == "goniometer":
        return small
    return large


def rom_change_is_real(
    change_deg: Any, instrument: str | None, joint: str, same_rater: bool = True, settings: dict | None = None
) -> Any:
    """Whether a ROM change (degrees, either sign) reaches the MDC of :func:`rom_mdc`: ``|change| ≥ MDC``.

    4° at the knee with a goniometer and the same rater is not real (MDC 5°), 6° is; at the
    cervical spine with a CROM device 8° is not (MDC 10°).  A missing change is not real
    (False).  Scalar → bool; array → bool array; Series → bool Series.
    """
    mdc = rom_mdc(instrument, joint, same_rater, settings)
    values = _to_float(change_deg, "change_deg")
    real = ~np.isnan(values) & _at_least(np.abs(np.nan_to_num(values)), mdc)
    if isinstance(change_deg, pd.Series):
        return pd.Series(real, index=change_deg.index, name=change_deg.name)
    if real.ndim == 0:
        return bool(real)
    return real


def rom_norm(joint: str, movement: str) -> RomNorm | None:
    """The normative active ROM for a joint/movement (``pipelines.ingest.vocab.ROM_NORMS``), or None."""
    key = (_canonical(JOINTS, joint), _canonical(MOVEMENTS, movement))
    return ROM_NORMS.get(key)  # type: ignore[arg-type]


def pct_of_normal(degrees: Any, joint: str, movement: str) -> Any:
    """Measured ROM as a percentage of the normative value: ``degrees / normal · 100``.

    Uses ``pipelines.ingest.vocab.ROM_NORMS`` (the reference set is named in ``rom_norm(...).source``: "Display '% of normal' = measured / reference × 100 with the reference
    set named").  NaN when the joint/movement has no norm or its norm is 0° (elbow extension),
    and for missing readings.  Cervical rotation 45° → 75.0 (AAOS norm 60°).
    """
    norm = rom_norm(joint, movement)
    values = _to_float(degrees, "degrees")
    if norm is None or norm.normal == 0:
        out = np.full(values.shape, np.nan)
    else:
        out = values / float(norm.normal) * 100
    if isinstance(degrees, pd.Series):
        return pd.Series(out, index=degrees.index, name=degrees.name)
    if out.ndim == 0:
        return float(out)
    return out
