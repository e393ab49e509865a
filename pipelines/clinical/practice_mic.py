"""The practice's own minimal important change (MIC) in pain, from the PGIC answers its clients give.

The published "clinically important" pain threshold (about 2 points and 30 %, Farrar 2001) was
anchored on PGIC "much improved" or better in drug trials.  A practice whose clients answer PGIC
("since starting, how are you?") can anchor the same threshold on its own clients: the smallest
drop in pain that goes with a client calling themselves much improved or better.

Method (docs/clinical.md): the adjusted predictive modelling method (Terluin B et al., J Clin
Epidemiol 2015;68:1388-96 and 2017;83:90-100): a logistic regression of "much improved or better"
on the drop in pain; the predicted MIC is the drop at which the odds of improvement equal the
share improved, adjusted for that share.  A 95 % interval from a bootstrap over clients.  One
report per client (their latest with PGIC and pain), change from the pain before treatment at
the first visit.  Also by baseline pain band, because people starting with more pain need a larger
drop to call it important (Farrar 2001).  Fewer than ``MIN_CLIENTS`` clients give no number, and
say how many there are.

A practice adopts its own number with :func:`adopt`: it is written into the practice settings as
``pain.mcid_points`` with a source that says it is the practice's own, so every "clinically
important" in the app uses it and names it; :func:`revert` goes back to the published one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.clinical.settings import load_settings, save_settings, settings_path_for, threshold_source

# PGIC 1 "very much improved" and 2 "much improved" = important improvement, as Farrar 2001 counted it.
IMPROVED_MAX_PGIC = 2
# COSMIN rates a sample under 30 "inadequate" for measurement properties (Mokkink LB et al., Qual Life
# Res 2018;27:1171-9): below it no number is shown.  Each group (improved or not) needs some clients
# too, or the logistic regression has nothing to separate.
MIN_CLIENTS = 30
MIN_PER_GROUP = 5
N_BOOT = 1000
SEED = 20_151_388  # fixed: the same data always give the same interval
# Baseline pain bands: mild 1-4, moderate 5-6, severe 7-10 (Serlin RC et al., Pain 1995;61:277-84).
BANDS = (("mild (below 5)", -np.inf, 5.0), ("moderate (5 to below 7)", 5.0, 7.0), ("severe (7 or more)", 7.0, np.inf))
ADOPTED_PREFIX = "this practice's own minimal important change"


@dataclass(frozen=True)
class MicEstimate:
    """One MIC: ``mic`` points of pain drop, 95 % interval, and the clients it rests on."""

    label: str
    n_clients: int
    n_improved: int
    mic: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    min_clients: int = MIN_CLIENTS

    @property
    def enough(self) -> bool:
        return self.mic is not None

    def words(self) -> str:
        """Plain words: the number with its interval and n, or why there is none."""
        if self.n_clients < self.min_clients:
            return f"not enough clients yet: {self.n_clients} of {self.min_clients}"
        if self.mic is None:
            return (
                f"no estimate: of {self.n_clients} clients {self.n_improved} said much improved or better; "
                f"each group needs at least {MIN_PER_GROUP}"
            )
        return (
            f"{self.mic:.1f} points (95 % interval {self.ci_low:.1f} to {self.ci_high:.1f}; "
            f"{self.n_clients} clients, {self.n_improved} of them much improved or better)"
        )


@dataclass(frozen=True)
class PracticeMic:
    overall: MicEstimate
    bands: list[MicEstimate] = field(default_factory=list)
    left_out: dict[str, int] = field(default_factory=dict)  # reason -> clients who answered PGIC but are not used


# ---------------------------------------------------------------------------
# The estimate
# ---------------------------------------------------------------------------


def _logistic(x: np.ndarray, y: np.ndarray, iterations: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Intercept and slope of logit P(y) = a + b x, one fit per row of ``x`` and ``y`` (Newton).

    Rows are bootstrap samples; a 2 x 2 Newton step per row is solved in closed form so a thousand
    fits take milliseconds.  A row with complete separation ends with a large slope; its MIC is
    still the point between the groups."""
    a = np.zeros(x.shape[0])
    b = np.zeros(x.shape[0])
    for _ in range(iterations):
        eta = np.clip(a[:, None] + b[:, None] * x, -30, 30)
        p = 1.0 / (1.0 + np.exp(-eta))
        w = p * (1 - p) + 1e-12
        r = y - p
        g0, g1 = r.sum(1), (r * x).sum(1)
        h00, h01, h11 = w.sum(1), (w * x).sum(1), (w * x * x).sum(1)
        det = h00 * h11 - h01 * h01
        det = np.where(np.abs(det) < 1e-12, np.nan, det)
        a = a + (h11 * g0 - h01 * g1) / det
        b = b + (h00 * g1 - h01 * g0) / det
    return a, b


def adjusted_predictive_mic(change: np.ndarray, improved: np.ndarray) -> np.ndarray:
    """Terluin's adjusted predictive MIC, one per row (a row = one sample of clients).

    ``change`` = pain drop (points, positive = better); ``improved`` = 1 when PGIC much improved or
    better.  MIC_pred = (ln(p / (1 - p)) - a) / b; MIC_adj = MIC_pred - (0.090 + 0.103 r) SD ln(p / (1 - p)),
    with p the share improved, r the point-biserial correlation of change and improvement and SD the
    standard deviation of the change (Terluin 2017).  NaN where a group is empty."""
    x = np.atleast_2d(np.asarray(change, dtype=float))
    y = np.atleast_2d(np.asarray(improved, dtype=float))
    p = y.mean(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_odds = np.log(p / (1 - p))
        a, b = _logistic(x, y)
        predicted = (log_odds - a) / b
        sd = x.std(1, ddof=1)
        r = ((x - x.mean(1, keepdims=True)) * (y - p[:, None])).sum(1) / (
            np.sqrt(((x - x.mean(1, keepdims=True)) ** 2).sum(1) * ((y - p[:, None]) ** 2).sum(1))
        )
        out = predicted - (0.090 + 0.103 * r) * sd * log_odds
    return np.where((p > 0) & (p < 1) & np.isfinite(out) & (b > 0), out, np.nan)


def estimate_mic(
    change,
    improved,
    *,
    label: str = "all clients",
    min_clients: int = MIN_CLIENTS,
    n_boot: int = N_BOOT,
    seed: int = SEED,
) -> MicEstimate:
    """The MIC of one group of clients with its bootstrap 95 % interval (percentile, over clients)."""
    x = np.asarray(change, dtype=float)
    y = np.asarray(improved, dtype=float)
    n, k = len(x), int(y.sum())
    base = MicEstimate(label=label, n_clients=n, n_improved=k, min_clients=min_clients)
    if n < min_clients or min(k, n - k) < MIN_PER_GROUP:
        return base
    mic = float(adjusted_predictive_mic(x, y)[0])
    if not np.isfinite(mic):
        return base
    idx = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    boot = adjusted_predictive_mic(x[idx], y[idx])
    boot = boot[np.isfinite(boot)]
    if len(boot) < n_boot * 0.9:  # too many resamples without an estimate: the interval would flatter
        return base
    low, high = np.percentile(boot, [2.5, 97.5])
    return MicEstimate(label, n, k, mic, float(low), float(high), min_clients)


def estimate_from_pairs(pairs: pd.DataFrame, *, min_clients: int = MIN_CLIENTS, **kw) -> PracticeMic:
    """Overall and per baseline band, from a frame with ``baseline``, ``pain_now``, ``pgic`` and
    ``left_out`` (None for a usable client), as :func:`anchor_pairs` returns."""
    usable = pairs[pairs["left_out"].isna()] if "left_out" in pairs else pairs
    change = (usable["baseline"] - usable["pain_now"]).to_numpy(float)
    improved = (usable["pgic"] <= IMPROVED_MAX_PGIC).to_numpy(float)
    overall = estimate_mic(change, improved, min_clients=min_clients, **kw)
    bands = []
    base = usable["baseline"].to_numpy(float)
    for label, lo, hi in BANDS:
        sel = (base >= lo) & (base < hi)
        bands.append(estimate_mic(change[sel], improved[sel], label=label, min_clients=min_clients, **kw))
    left = pairs["left_out"].dropna().value_counts().to_dict() if "left_out" in pairs else {}
    return PracticeMic(overall, bands, {str(k): int(v) for k, v in left.items()})


def anchor_pairs(db) -> pd.DataFrame:
    """One row per client who answered PGIC: baseline pain, latest pain and PGIC, or why not usable."""
    from pipelines.warehouse.db import read_connection

    sql = resources.files("pipelines.sql").joinpath("clinical/mic_anchor.sql").read_text(encoding="utf-8")
    with read_connection(db) as con:
        return con.execute(sql).df()


def practice_mic(db, *, min_clients: int = MIN_CLIENTS, **kw) -> PracticeMic:
    """The practice's own MIC from the database at ``db`` (overall and by baseline band)."""
    return estimate_from_pairs(anchor_pairs(db), min_clients=min_clients, **kw)


# ---------------------------------------------------------------------------
# Adopting it
# ---------------------------------------------------------------------------


def is_adopted(settings: dict | None) -> bool:
    """Whether the settings' "clinically important" pain drop is the practice's own MIC."""
    return threshold_source(settings, "pain.mcid_points").startswith(ADOPTED_PREFIX)


def _audit(db_path, before: float, after: float, actor: str | None, detail: str) -> None:
    """A changed threshold changes clients' categories: the audit log says who changed it and when.
    The settings file is not in the database, so the row is a short write of its own."""
    from pipelines.warehouse import audit
    from pipelines.warehouse.db import resolve_db_path

    if resolve_db_path(db_path).exists():
        audit.record_soon(
            db_path, "settings", "setting", "pain.mcid_points", before=before, after=after, actor=actor, detail=detail
        )


def adopt(db_path, estimate: MicEstimate, *, today: dt.date | None = None, actor: str | None = None) -> Path:
    """Write ``estimate`` into the practice settings as ``pain.mcid_points`` with a source saying so.

    The number is fixed when adopted (a threshold that moved with every new answer would move
    every client's category): adopt again to update it."""
    if not estimate.enough:
        raise ValueError(f"the practice's own minimal important change cannot be adopted: {estimate.words()}")
    path = settings_path_for(db_path)
    settings = load_settings(path)
    before = settings["pain"]["mcid_points"]
    settings["pain"]["mcid_points"] = round(float(estimate.mic), 1)
    settings["pain"]["mcid_points_source"] = (
        f"{ADOPTED_PREFIX} from its clients' PGIC answers (much improved or better): {estimate.words()}; "
        f"adopted {(today or dt.date.today()).isoformat()}; adjusted predictive method, Terluin B et al. "
        "J Clin Epidemiol 2017;83:90-100"
    )
    written = save_settings(settings, path)
    _audit(
        db_path, before, settings["pain"]["mcid_points"], actor, "adopted the practice's own minimal important change"
    )
    return written


def revert(db_path, *, actor: str | None = None) -> Path:
    """Back to the published "clinically important" pain drop (the packaged default and its source)."""
    from pipelines.clinical.settings import default_settings

    path = settings_path_for(db_path)
    settings = load_settings(path)
    defaults = default_settings()["pain"]
    before = settings["pain"]["mcid_points"]
    settings["pain"]["mcid_points"] = defaults["mcid_points"]
    settings["pain"]["mcid_points_source"] = defaults["mcid_points_source"]
    written = save_settings(settings, path)
    _audit(db_path, before, defaults["mcid_points"], actor, "back to the published minimal important change")
    return written
