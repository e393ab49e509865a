"""Scoring of the outcome questionnaires: NDI, ODI, PSFS, QuickDASH, LEFS.

Formulas and missing-item rules follow the instruments' primary publications:

========== ======== ======= ==================================== ===================================== ============
instrument items    range   score                                missing items                         direction
========== ======== ======= ==================================== ===================================== ============
NDI        10       0-5     % = sum / (5 * n_answered) * 100;    scorable with >= 9 of 10 answered      lower better
                            raw /50 = % / 2 (also returned)      (awell-score rule; Vernon's mean
                                                                 imputation is the same formula)
ODI        10       0-5     % = sum / (5 * n_answered) * 100     denominator -5 per missing item;       lower better
                                                                 refused with > 2 missing [U rule]
PSFS       1-5      0-10    mean of the rated activities         needs >= 1 rated activity              higher better
QuickDASH  11       1-5     ((sum / n) - 1) * 25                 scorable with >= 10 of 11 answered     lower better
LEFS       20       0-4     sum (0-80)                           <= 2 missing: prorated sum * 20 / n;   higher better
                                                                 more missing: not scorable [U rule]
========== ======== ======= ==================================== ===================================== ============

Sources: Vernon & Mior 1991 (NDI; chiro.org scoring note); Fairbank & Pynsent 2000 (ODI);
Stratford et al. 1995 (PSFS); QuickDASH scoring sheet (Institute for Work & Health);
Binkley et al. 1999 (LEFS).  The ODI and LEFS missing-item limits are the defensible
choices stated here where no published rule was found.

Results are :class:`Score` objects.  "Not scorable" (too many missing items, nothing
answered) is a *result* with ``scorable=False`` and a human ``reason``, never an
exception.  An item *outside its range* (an NDI item of 7) is a data error and raises
``ValueError`` naming the item, because scoring it would silently produce a wrong number.

A score computed from fewer than all items (NDI/ODI/QuickDASH with missing items, LEFS
prorated) has ``prorated=True`` and says so in ``reason``.  A ``total_score`` given without
item responses is taken as it is, on the score scale Knotwork reports (NDI and ODI as a
percentage 0-100, PSFS mean 0-10, QuickDASH 0-100, LEFS 0-80), with ``total_only=True``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from pipelines.ingest.vocab import QUESTIONNAIRES

LOWER = "lower_is_better"
HIGHER = "higher_is_better"
MAX_ITEM_COLUMNS = 20
ITEM_COLUMNS = tuple(f"item_{i}" for i in range(1, MAX_ITEM_COLUMNS + 1))
# A total_score that differs from the item score by more than this is noted in `reason`.
TOTAL_MISMATCH_TOLERANCE = 0.5


@dataclass(frozen=True)
class Instrument:
    name: str
    n_items: int  # items on the form (PSFS: the maximum number of activities)
    item_min: int
    item_max: int
    score_min: float
    score_max: float
    direction: str
    scale_label: str


INSTRUMENTS: dict[str, Instrument] = {
    "NDI": Instrument("NDI", 10, 0, 5, 0.0, 100.0, LOWER, "NDI % (0-100, lower is better)"),
    "ODI": Instrument("ODI", 10, 0, 5, 0.0, 100.0, LOWER, "ODI % (0-100, lower is better)"),
    "PSFS": Instrument("PSFS", 5, 0, 10, 0.0, 10.0, HIGHER, "PSFS mean activity rating (0-10, higher is better)"),
    "QuickDASH": Instrument("QuickDASH", 11, 1, 5, 0.0, 100.0, LOWER, "QuickDASH (0-100, lower is better)"),
    "LEFS": Instrument("LEFS", 20, 0, 4, 0.0, 80.0, HIGHER, "LEFS (0-80, higher is better)"),
}

# A total of NDI or ODI is written two ways on paper: points (the sum of ten items, 0-50) or the
# percentage Knotwork reports (points x 2).  "24" means 48 % on one and 24 % on the other, so a
# total typed in a form says which scale it is on and is stored as the percentage; an import's
# total_score is the percentage (docs/data-contract.md).
POINTS_MAX = {"NDI": 50.0, "ODI": 50.0}
TOTAL_SCALES = {"points": "0–50 points", "percent": "0–100 %"}


def total_as_percent(instrument: str, total: float, scale: str) -> float:
    """A total typed on ``scale`` ("points" or "percent") as the percentage stored and reported.

    Raises ValueError naming the scale when the value is outside it (60 is not 0-50 points)."""
    if instrument not in POINTS_MAX or scale not in TOTAL_SCALES:
        raise ValueError(f"{instrument} totals have no choice of scale")
    top = POINTS_MAX[instrument] if scale == "points" else 100.0
    if not 0.0 <= float(total) <= top:
        raise ValueError(f"{float(total):g} is outside {TOTAL_SCALES[scale]}")
    return float(total) * (100.0 / POINTS_MAX[instrument] if scale == "points" else 1.0)


# Severity bands: (upper bound inclusive, label), on the scale named.
# NDI bands are on raw /50 (Vernon): 0-4 none, 5-14 mild, 15-24 moderate,
# 25-34 severe, > 34 complete.  Prorated raw scores can be fractional, so each band runs up
# to just below the next band's first integer.
NDI_BANDS_RAW50 = ((5, "none"), (15, "mild"), (25, "moderate"), (35, "severe"), (math.inf, "complete"))
# ODI bands on %: 0-20 minimal, 21-40 moderate, 41-60 severe,
# 61-80 crippled, 81-100 bed-bound.  Upper bounds inclusive (a fractional 20.5 is moderate).
ODI_BANDS_PCT = ((20, "minimal"), (40, "moderate"), (60, "severe"), (80, "crippled"), (math.inf, "bed-bound"))


@dataclass(frozen=True)
class Score:
    """One scored questionnaire.

    ``score`` is on the instrument's reporting scale (``scale_label``); ``raw`` is the NDI
    raw score /50 (prorated when items are missing) and ``None`` for other instruments.
    ``reason`` is ``None`` for a score computed from every item; otherwise it says why the
    questionnaire is not scorable or how the score was obtained (prorated, total only).
    """

    instrument: str
    score: float | None
    scale_label: str
    direction: str
    n_answered: int
    n_items: int
    prorated: bool
    scorable: bool
    reason: str | None
    band: str | None
    raw: float | None = None
    total_only: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def canonical_instrument(name: str) -> str:
    """'quick dash' -> 'QuickDASH'; unknown names raise ValueError with the closest match."""
    res = QUESTIONNAIRES.resolve(str(name))
    if res.canonical is None:
        hint = f" (did you mean {res.suggestion}?)" if res.suggestion else ""
        raise ValueError(f"unknown questionnaire {name!r}{hint}; known: {', '.join(INSTRUMENTS)}")
    return res.canonical


def _band(instrument: str, score: float, raw: float | None) -> str | None:
    if instrument == "NDI" and raw is not None:
        bands, value = NDI_BANDS_RAW50, raw
    elif instrument == "ODI":
        bands, value = ODI_BANDS_PCT, score
    else:
        return None
    for upper, label in bands:
        # NDI bands are half-open [lo, next lo); ODI bands are closed at the top.
        if (instrument == "NDI" and value < upper) or (instrument == "ODI" and value <= upper):
            return label
    return None  # pragma: no cover - the last band is unbounded


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    try:
        return bool(np.isnan(value))
    except TypeError:
        return False


def _as_number(value: Any, label: str, instrument: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{instrument} {label} = {value!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{instrument} {label} = {value!r} is not a finite number")
    return number


def _normalise_items(items: Mapping[str, Any] | Iterable[Any] | None) -> dict[int, Any]:
    """{1: value, 2: value, ...} from a mapping {'item_1': …} / {1: …} or a sequence (item 1 first)."""
    if items is None:
        return {}
    if isinstance(items, Mapping):
        out: dict[int, Any] = {}
        for key, value in items.items():
            text = str(key).strip().lower()
            number = text.removeprefix("item_").removeprefix("item")
            if not number.isdigit():
                raise ValueError(f"item key {key!r} is not item_N")
            out[int(number)] = value
        return out
    if isinstance(items, (str, bytes)):
        raise ValueError("items must be a sequence or mapping of item responses, not text")
    return {i: value for i, value in enumerate(items, start=1)}


# Missing-item allowance per instrument (None: PSFS scores whatever activities were rated).
MAX_MISSING = {"NDI": 1, "ODI": 2, "PSFS": None, "QuickDASH": 1, "LEFS": 2}
_RULES = {
    "NDI": "NDI needs at least 9 of 10 items answered",
    "ODI": "ODI is refused with more than 2 of 10 sections missing",
    "PSFS": "PSFS needs at least 1 rated activity",
    "QuickDASH": "QuickDASH needs at least 10 of 11 items answered",
    "LEFS": "LEFS is prorated only with at most 2 of 20 items missing",
}
TOTAL_ONLY_REASON = "total only: no item responses, total_score taken as given"
NOTHING_REASON = "not scorable: no item responses and no total_score"


def _formula(name: str, sums: Any, n: Any) -> Any:
    """The score from the sum of the answered items and their number (scalars or arrays).

    Written multiply-first so whole-number results are exact (14 / 50 * 100 would be 28.000000000000004).
    """
    if name in ("NDI", "ODI"):
        return sums * 100 / (5 * n)  # = sum / (5 n) x 100
    if name == "PSFS":
        return sums / n
    if name == "QuickDASH":
        return (sums - n) * 25 / n  # = ((sum / n) - 1) x 25
    return sums * INSTRUMENTS[name].n_items / n  # LEFS: the plain sum when all 20 are answered


def _not_scorable_reason(name: str, n: int) -> str:
    return f"not scorable: {n} of {INSTRUMENTS[name].n_items} items answered; {_RULES[name]}"


def _prorated_reason(name: str, n: int, sums: float) -> str:
    n_items = INSTRUMENTS[name].n_items
    how = {
        "NDI": f"sum {sums:g} / {5 * n} x 100",
        "ODI": f"sum {sums:g} / {5 * n} x 100",
        "QuickDASH": "mean of the answered items",
        "LEFS": f"sum {sums:g} x 20 / {n}",
    }[name]
    return f"prorated: {n} of {n_items} items answered ({how})"


def _mismatch_note(total: float, score: float) -> str:
    return f"total_score {total:g} differs from the item score {score:.2f}; item score used"


def score_questionnaire(
    instrument: str, items: Mapping[str, Any] | Iterable[Any] | None = None, total_score: Any = None
) -> Score:
    """Score one questionnaire from its item responses (or take a known total).

    ``items`` is a sequence (item 1 first) or a mapping ``{"item_1": 3, ...}``; missing
    responses are ``None``/NaN/blank.  Raises ``ValueError`` for an unknown instrument, an
    item number the instrument does not have, or a response outside its range or not a
    whole number (the message names the item: ``"NDI item_3 = 7 is outside 0-5"``).
    Everything else, including too many missing items, returns a :class:`Score`.

    Examples: NDI with item 10 missing and the other nine summing to 16
    → 16 / 45 x 100 = 35.56 %, raw 17.78 /50, prorated; QuickDASH with all 11 items 3
    → (33/11 − 1) x 25 = 50.0; PSFS activities 4, 6, 5 → 5.0.
    """
    name = canonical_instrument(instrument)
    spec = INSTRUMENTS[name]
    responses = _normalise_items(items)

    answered: list[float] = []
    for number, value in sorted(responses.items()):
        if _is_missing(value):
            continue
        label = f"item_{number}"
        if not 1 <= number <= spec.n_items:
            raise ValueError(f"{name} has {spec.n_items} items; {label} = {value!r} is not one of them")
        number_value = _as_number(value, label, name)
        if not spec.item_min <= number_value <= spec.item_max:
            raise ValueError(f"{name} {label} = {value!r} is outside {spec.item_min}-{spec.item_max}")
        if number_value != int(number_value):
            raise ValueError(f"{name} {label} = {value!r} is not a whole number ({spec.item_min}-{spec.item_max})")
        answered.append(number_value)

    total = None if _is_missing(total_score) else _as_number(total_score, "total_score", name)
    if total is not None and not spec.score_min <= total <= spec.score_max:
        raise ValueError(
            f"{name} total_score = {total_score!r} is outside "
            f"{spec.score_min:g}-{spec.score_max:g} ({spec.scale_label})"
        )

    def result(
        score: float | None,
        n_answered: int,
        n_items: int,
        reason: str | None,
        *,
        prorated: bool = False,
        raw: float | None = None,
        total_only: bool = False,
    ) -> Score:
        band = _band(name, score, raw) if score is not None else None
        return Score(
            name,
            None if score is None else float(score),
            spec.scale_label,
            spec.direction,
            n_answered,
            n_items,
            prorated,
            score is not None,
            reason,
            band,
            None if raw is None else float(raw),
            total_only,
        )

    n = len(answered)
    n_items = n if name == "PSFS" else spec.n_items  # PSFS: the activities the client rated
    if n == 0:
        if total is None:
            return result(None, 0, n_items, NOTHING_REASON)
        return result(total, 0, n_items, TOTAL_ONLY_REASON, raw=total / 2 if name == "NDI" else None, total_only=True)

    sums = float(sum(answered))
    missing = n_items - n
    limit = MAX_MISSING[name]
    if limit is not None and missing > limit:
        return result(None, n, n_items, _not_scorable_reason(name, n))
    score = float(_formula(name, sums, n))
    raw = sums * spec.n_items / n if name == "NDI" else None  # raw /50, missing item mean-imputed (= % / 2)
    reason = _prorated_reason(name, n, sums) if missing else None
    if total is not None and abs(total - score) > TOTAL_MISMATCH_TOLERANCE:
        reason = _mismatch_note(total, score) if reason is None else f"{reason}; {_mismatch_note(total, score)}"
    return result(score, n, n_items, reason, prorated=bool(missing), raw=raw)


def score_ndi(items: Any = None, total_score: Any = None) -> Score:
    """Neck Disability Index (see :func:`score_questionnaire`)."""
    return score_questionnaire("NDI", items, total_score)


def score_odi(items: Any = None, total_score: Any = None) -> Score:
    """Oswestry Disability Index (see :func:`score_questionnaire`)."""
    return score_questionnaire("ODI", items, total_score)


def score_psfs(items: Any = None, total_score: Any = None) -> Score:
    """Patient-Specific Functional Scale (see :func:`score_questionnaire`)."""
    return score_questionnaire("PSFS", items, total_score)


def score_quickdash(items: Any = None, total_score: Any = None) -> Score:
    """QuickDASH (see :func:`score_questionnaire`)."""
    return score_questionnaire("QuickDASH", items, total_score)


def score_lefs(items: Any = None, total_score: Any = None) -> Score:
    """Lower Extremity Functional Scale (see :func:`score_questionnaire`)."""
    return score_questionnaire("LEFS", items, total_score)


# ---------------------------------------------------------------------------
# Vectorised scoring of a whole outcome_measures frame
# ---------------------------------------------------------------------------

SCORE_COLUMNS = (
    "instrument",
    "score",
    "scale_label",
    "direction",
    "n_answered",
    "n_items",
    "prorated",
    "scorable",
    "reason",
    "band",
    "raw",
    "total_only",
)


def _bands_vector(name: str, score: np.ndarray, raw: np.ndarray) -> np.ndarray:
    out = np.full(score.shape, None, dtype=object)
    if name == "NDI":
        value, bands, closed = raw, NDI_BANDS_RAW50, False
    elif name == "ODI":
        value, bands, closed = score, ODI_BANDS_PCT, True
    else:
        return out
    assigned = np.isnan(value)
    for upper, label in bands:
        hit = ~assigned & ((value <= upper) if closed else (value < upper))
        out[hit] = label
        assigned |= hit
    return out


def _numeric_column(df: pd.DataFrame, col: str) -> tuple[np.ndarray, np.ndarray]:
    """(float values with NaN for blanks, mask of cells that are filled but not numbers)."""
    if col not in df.columns:
        empty = np.full(len(df), np.nan)
        return empty, np.zeros(len(df), dtype=bool)
    series = df[col]
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        return series.to_numpy(dtype=float, na_value=np.nan), np.zeros(len(df), dtype=bool)
    as_text = series.astype(object)
    blank = as_text.map(_is_missing).to_numpy(dtype=bool)
    numeric = pd.to_numeric(as_text.where(~blank, np.nan), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return numeric, np.isnan(numeric) & ~blank


def score_frame(df: pd.DataFrame, *, errors: str = "raise") -> pd.DataFrame:
    """Score every row of an ``outcome_measures`` frame, vectorised per instrument.

    ``df`` has ``instrument`` and usually ``client_id``, ``taken_on``, ``item_1`` …
    ``item_20`` and ``total_score`` (absent item columns count as unanswered).  Returns a new
    frame with the same index: ``client_id`` and ``taken_on`` (when present), the canonical
    ``instrument``, and the :class:`Score` fields ``score`` (float, NaN when not scorable),
    ``scale_label, direction, n_answered, n_items, prorated, scorable, reason, band, raw``
    (NDI raw /50, else NaN) and ``total_only``.  Every row gets exactly the values
    :func:`score_questionnaire` would give it.

    ``errors="raise"`` (default) raises ``ValueError`` for an unknown instrument, a cell that
    is not a number, an item the instrument does not have or a response out of range, naming
    the row label and the item.  ``errors="mark"`` instead returns such a row as not
    scorable with the error as its ``reason``.
    """
    if errors not in ("raise", "mark"):
        raise ValueError("errors must be 'raise' or 'mark'")
    if "instrument" not in df.columns:
        raise ValueError("score_frame needs an 'instrument' column")
    n_rows = len(df)
    index = df.index

    score = np.full(n_rows, np.nan)
    raw = np.full(n_rows, np.nan)
    n_answered = np.zeros(n_rows, dtype=int)
    n_items = np.zeros(n_rows, dtype=int)
    prorated = np.zeros(n_rows, dtype=bool)
    scorable = np.zeros(n_rows, dtype=bool)
    total_only = np.zeros(n_rows, dtype=bool)
    reason = np.full(n_rows, None, dtype=object)
    band = np.full(n_rows, None, dtype=object)
    scale_label = np.full(n_rows, None, dtype=object)
    direction = np.full(n_rows, None, dtype=object)
    names = np.full(n_rows, None, dtype=object)
    failed = np.zeros(n_rows, dtype=bool)

    def fail(rows: np.ndarray, messages: list[str] | str) -> None:
        if isinstance(messages, str):
            messages = [messages] * len(rows)
        if errors == "raise":
            raise ValueError(f"row {index[rows[0]]!r}: {messages[0]}")
        for row, message in zip(rows, messages):
            if not failed[row]:
                reason[row] = f"not scorable: {message}"
                failed[row] = True

    instruments = df["instrument"].astype(object).to_numpy()
    missing_name = np.array([_is_missing(v) for v in instruments], dtype=bool)
    if missing_name.any():
        fail(np.flatnonzero(missing_name), "questionnaire instrument is missing")
    for value in pd.unique(instruments[~missing_name]):
        rows = np.flatnonzero((instruments == value) & ~missing_name)
        try:
            names[rows] = canonical_instrument(value)
        except ValueError as exc:
            fail(rows, str(exc))

    columns = {}
    for col in (*ITEM_COLUMNS, "total_score"):
        values, not_number = _numeric_column(df, col)
        if not_number.any():
            rows = np.flatnonzero(not_number)
            cells = df[col].to_numpy(dtype=object)
            fail(rows, [f"{col} = {cells[r]!r} is not a number" for r in rows])
        columns[col] = values
    items = np.column_stack([columns[c] for c in ITEM_COLUMNS])
    totals = columns["total_score"]

    for name, spec in INSTRUMENTS.items():
        rows = np.flatnonzero(names == name)
        if rows.size == 0:
            continue
        scale_label[rows] = spec.scale_label
        direction[rows] = spec.direction
        block = items[rows]
        inside = block[:, : spec.n_items]
        present = ~np.isnan(inside)

        extra = ~np.isnan(block[:, spec.n_items :])
        bad_extra = extra.any(axis=1)
        if bad_extra.any():
            local = np.flatnonzero(bad_extra)
            cols = [spec.n_items + int(np.argmax(extra[i])) for i in local]
            fail(
                rows[local],
                [
                    f"{name} has {spec.n_items} items; item_{j + 1} = {block[i, j]:g} is not one of them"
                    for i, j in zip(local, cols)
                ],
            )
        with np.errstate(invalid="ignore"):
            outside = present & ((inside < spec.item_min) | (inside > spec.item_max))
            fractional = present & ~outside & (inside != np.round(inside))
        bad_item = outside | fractional
        if bad_item.any(axis=1).any():
            local = np.flatnonzero(bad_item.any(axis=1))
            messages = []
            for i in local:
                j = int(np.argmax(bad_item[i]))
                kind = "is outside" if outside[i, j] else "is not a whole number in"
                messages.append(f"{name} item_{j + 1} = {inside[i, j]:g} {kind} {spec.item_min}-{spec.item_max}")
            fail(rows[local], messages)
        block_totals = totals[rows]
        with np.errstate(invalid="ignore"):
            bad_total = ~np.isnan(block_totals) & ((block_totals < spec.score_min) | (block_totals > spec.score_max))
        if bad_total.any():
            local = np.flatnonzero(bad_total)
            fail(
                rows[local],
                [
                    f"{name} total_score = {block_totals[i]:g} is outside "
                    f"{spec.score_min:g}-{spec.score_max:g} ({spec.scale_label})"
                    for i in local
                ],
            )

        good = ~failed[rows]
        rows, inside, present, block_totals = rows[good], inside[good], present[good], block_totals[good]
        n = present.sum(axis=1)
        sums = np.where(present, inside, 0.0).sum(axis=1)
        n_answered[rows] = n
        count = n if name == "PSFS" else np.full(rows.size, spec.n_items)
        n_items[rows] = count
        missing = count - n

        nothing = n == 0
        has_total = ~np.isnan(block_totals)
        only_total = nothing & has_total
        reason[rows[nothing & ~has_total]] = NOTHING_REASON
        if only_total.any():
            r = rows[only_total]
            score[r] = block_totals[only_total]
            if name == "NDI":
                raw[r] = block_totals[only_total] / 2
            total_only[r] = True
            scorable[r] = True
            reason[r] = TOTAL_ONLY_REASON

        limit = MAX_MISSING[name]
        too_many = ~nothing & (missing > limit if limit is not None else np.zeros(rows.size, dtype=bool))
        for i in np.flatnonzero(too_many):
            reason[rows[i]] = _not_scorable_reason(name, int(n[i]))

        ok = ~nothing & ~too_many
        r = rows[ok]
        with np.errstate(invalid="ignore", divide="ignore"):
            score[r] = _formula(name, sums[ok], n[ok])
            if name == "NDI":
                raw[r] = sums[ok] * spec.n_items / n[ok]
        scorable[r] = True
        prorated[r] = missing[ok] > 0
        for i in np.flatnonzero(ok & (missing > 0)):
            reason[rows[i]] = _prorated_reason(name, int(n[i]), float(sums[i]))
        with np.errstate(invalid="ignore"):
            mismatch = (
                ok & has_total & (np.abs(block_totals - np.where(ok, score[rows], np.nan)) > TOTAL_MISMATCH_TOLERANCE)
            )
        for i in np.flatnonzero(mismatch):
            note = _mismatch_note(float(block_totals[i]), float(score[rows[i]]))
            reason[rows[i]] = note if reason[rows[i]] is None else f"{reason[rows[i]]}; {note}"

        all_rows = np.flatnonzero(names == name)
        band[all_rows] = _bands_vector(name, score[all_rows], raw[all_rows])

    out = pd.DataFrame(index=index)
    for col in ("client_id", "taken_on"):
        if col in df.columns:
            out[col] = df[col]

    # Text columns stay object dtype so a missing value is None on every pandas version
    # (pandas 3 would infer its string dtype and turn None into NaN).
    def text(values: np.ndarray) -> pd.Series:
        return pd.Series(values, index=index, dtype=object)

    out["instrument"] = text(names)
    out["score"] = score
    out["scale_label"] = text(scale_label)
    out["direction"] = text(direction)
    out["n_answered"] = n_answered
    out["n_items"] = n_items
    out["prorated"] = prorated
    out["scorable"] = scorable
    out["reason"] = text(reason)
    out["band"] = text(band)
    out["raw"] = raw
    out["total_only"] = total_only
    return out
