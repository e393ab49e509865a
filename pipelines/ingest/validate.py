"""Validate one chunk of text cells against the contract, vectorised.

Input: a DataFrame of text cells named by contract column (plus ``_line`` and
``_shape``).  Output: the typed rows that passed, and for every row that did
not, one reject per problem with the line, column, offending value and a
reason a therapist can act on (``pain_pre 12 is outside 0–10``).  Checks that
need the whole file or the database (duplicates, unknown client or visit) are
done by the loader in SQL.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipelines.ingest import vocab as V
from pipelines.ingest.contract import OUTCOME_ITEMS

EARLIEST = pd.Timestamp("1900-01-01")

# Item count and allowed item range per questionnaire.
QUESTIONNAIRE_ITEMS = {
    "NDI": (10, 0, 5),
    "ODI": (10, 0, 5),
    "PSFS": (5, 0, 10),
    "QuickDASH": (11, 1, 5),
    "LEFS": (20, 0, 4),
}


def today() -> dt.date:
    return dt.date.today()


@dataclass
class Field:
    kind: str  # text, number, date, timestamp, vocab, vocab_list
    required: bool = False
    lo: float | None = None
    hi: float | None = None
    step: float | None = None  # 0.5 for pain, 1 for integers
    vocab: V.Vocabulary | None = None
    # "reject": a closed list (side, yes/no, status): an unknown value is an error, rejected
    #           with the closest match as a suggestion.
    # "extend": an open vocabulary (techniques, muscles, regions, joints, movements): an unknown
    #           value never costs its row.  It is kept as the practice's own term and flagged with
    #           its closest known entry, even when it looks like a typo of one; the therapist maps
    #           it ("same as ...") or keeps it, on the Import page or later.
    unknown: str = "reject"
    default: str | None = None
    # A 0-10 score as people write it: "7/10" is 7; a range "6-7" is its midpoint, flagged.
    score10: bool = False


PAIN = Field("number", lo=0, hi=10, step=0.5, score10=True)

FIELDS: dict[str, dict[str, Field]] = {
    "clients": {
        "client_id": Field("text", required=True),
        "display_name": Field("text", required=True),
        "birth_year": Field("number", lo=1900, hi=None, step=1),
        "sex": Field("vocab", vocab=V.SEX),
        "primary_complaint": Field("text"),
        "complaint_region": Field("vocab", vocab=V.COMPLAINT_REGIONS, unknown="extend"),
        "intake_date": Field("date"),
        "status": Field("vocab", vocab=V.CLIENT_STATUS, default="active"),
        "notes": Field("text"),
    },
    "visits": {
        "visit_id": Field("text", required=True),
        "client_id": Field("text", required=True),
        "visit_date": Field("date", required=True),
        "therapist": Field("text"),
        "duration_min": Field("number", lo=5, hi=240, step=1),
        "pressure": Field("number", lo=1, hi=5, step=1),
        "pain_pre": PAIN,
        "pain_post": PAIN,
        "pain_region": Field("vocab", vocab=V.REGIONS, unknown="extend"),
        "techniques": Field("vocab_list", vocab=V.TECHNIQUES, unknown="extend"),
        "focus_muscles": Field("vocab_list", vocab=V.MUSCLES, unknown="extend"),
        "client_feedback": Field("text"),
        "homecare": Field("text"),
        "notes": Field("text"),
        "plan": Field("text"),
    },
    "rom": {
        "visit_id": Field("text", required=True),
        "client_id": Field("text", required=True),
        "visit_date": Field("date", required=True),
        "joint": Field("vocab", required=True, vocab=V.JOINTS, unknown="extend"),
        "movement": Field("vocab", required=True, vocab=V.MOVEMENTS, unknown="extend"),
        "degrees": Field("number", required=True),  # bounds depend on joint and movement
        "side": Field("vocab", vocab=V.SIDES, default="none"),
        "timing": Field("vocab", vocab=V.ROM_TIMING, default="pre"),
        "instrument": Field("vocab", vocab=V.INSTRUMENTS),
        "measured_by": Field("text"),
    },
    "self_reports": {
        "client_id": Field("text", required=True),
        "reported_at": Field("timestamp", required=True),
        "pain": Field("number", required=True, lo=0, hi=10, step=0.5, score10=True),
        "region": Field("vocab", vocab=V.REGIONS, unknown="extend"),
        "did_homecare": Field("vocab", vocab=V.YES_NO),
        "pgic": Field("number", lo=1, hi=7, step=1),
        "note": Field("text"),
    },
    "trigger_points": {
        "visit_id": Field("text", required=True),
        "client_id": Field("text", required=True),
        "visit_date": Field("date", required=True),
        "muscle": Field("vocab", required=True, vocab=V.MUSCLES, unknown="extend"),
        "side": Field("vocab", vocab=V.SIDES, default="none"),
        "referral_region": Field("vocab", vocab=V.REGIONS, unknown="extend"),
        "tenderness": Field("number", lo=0, hi=10, step=0.5, score10=True),
        "released": Field("vocab", vocab=V.RELEASED),
    },
    "outcome_measures": {
        "client_id": Field("text", required=True),
        "taken_on": Field("date", required=True),
        "instrument": Field("vocab", required=True, vocab=V.QUESTIONNAIRES),
        **{item: Field("number") for item in OUTCOME_ITEMS},
        "total_score": Field("number", lo=0, hi=100),
    },
}


@dataclass
class ChunkResult:
    clean: pd.DataFrame
    rejects: pd.DataFrame  # _line, column, value, reason
    warnings: pd.DataFrame  # _line, column, value, message
    new_vocab: dict[tuple[str, str], str | None] = field(default_factory=dict)  # (vocabulary, value) -> closest
    date_evidence: dict[str, int] = field(default_factory=dict)
    # (vocabulary, value) -> (the spelling as written, the kept lines that use it)
    new_terms: dict[tuple[str, str], tuple[str, set[int]]] = field(default_factory=dict)


# A cell of a per-technique column ("TrP", "MFR" ...) that says the technique was used, or was not.
TICKS = {"x", "yes", "y", "✓", "✔", "☑", "true", "1", "done", "*"}
NO_TICKS = {"", "no", "n", "false", "0", "-", "–"}
TECHNIQUE_COLUMN = "technique:"  # prefix of a per-technique column's contract name


class _Collector:
    def __init__(self, lines: pd.Series):
        self.lines = lines
        self.rejects: list[pd.DataFrame] = []
        self.warnings: list[pd.DataFrame] = []

    def reject(self, mask: pd.Series, column: str | None, values: pd.Series | str, reasons: pd.Series | str) -> None:
        self._add(self.rejects, "reason", mask, column, values, reasons)

    def warn(self, mask: pd.Series, column: str | None, values: pd.Series | str, messages: pd.Series | str) -> None:
        self._add(self.warnings, "message", mask, column, values, messages)

    def _add(self, sink, label, mask, column, values, texts) -> None:
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        n = int(mask.sum())
        if callable(texts):  # build messages for the few bad rows only, not the whole chunk
            texts = texts(values[mask]).reindex(mask.index)
        part = pd.DataFrame(
            {
                "_line": self.lines[mask].to_numpy(),
                "column": [column] * n,
                "value": (values[mask].astype(str).to_numpy() if isinstance(values, pd.Series) else [values] * n),
                label: (texts[mask].astype(str).to_numpy() if isinstance(texts, pd.Series) else [texts] * n),
            }
        )
        sink.append(part)

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        rej = pd.concat(self.rejects, ignore_index=True) if self.rejects else _empty("reason")
        war = pd.concat(self.warnings, ignore_index=True) if self.warnings else _empty("message")
        return rej, war


def _empty(label: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "_line": pd.Series([], dtype="int64"),
            "column": pd.Series([], dtype=object),
            "value": pd.Series([], dtype=object),
            label: pd.Series([], dtype=object),
        }
    )


def _fmt_num(x: float) -> str:
    return f"{x:g}"


# ---------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------

_DMY = re.compile(
    r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?$"
)
_YMD_SLASH = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def date_order_evidence(text: pd.Series) -> dict[str, int]:
    """How many values can only be day-first (first part > 12) or only month-first."""
    parts = text.str.extract(_DMY)
    first = pd.to_numeric(parts[0], errors="coerce")
    second = pd.to_numeric(parts[1], errors="coerce")
    return {
        "day_first": int(((first > 12) & (second <= 12)).sum()),
        "month_first": int(((second > 12) & (first <= 12)).sum()),
        "ambiguous": int(((first <= 12) & (second <= 12) & (first != second)).sum()),
    }


def parse_dates(text: pd.Series, day_first: bool = True) -> pd.Series:
    """Parse ISO dates/datetimes and the common spreadsheet forms; NaT where impossible."""
    text = text.str.strip()
    # A UTC mark or offset ("…T08:30:00Z", "+02:00") is read as UTC and stored without a zone,
    # like every other time here (tz-aware values made the "in the future" check crash).
    out = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True).dt.tz_localize(None)
    todo = out.isna() & (text != "")
    if todo.any():
        parts = text[todo].str.extract(_DMY)
        ok = parts[0].notna()
        if ok.any():
            p = parts[ok]
            a, b = p[0].astype(int), p[1].astype(int)
            year = p[2].astype(int)
            year = year.where(year >= 100, 2000 + year)  # two-digit years: 26 -> 2026
            day, month = (a, b) if day_first else (b, a)
            hour = pd.to_numeric(p[3], errors="coerce").fillna(0).astype(int)
            pm = p[6].fillna("").str.lower() == "pm"
            am = p[6].fillna("").str.lower() == "am"
            hour = hour.where(~(pm & (hour < 12)), hour + 12).where(~(am & (hour == 12)), 0)
            frame = pd.DataFrame(
                {
                    "year": year,
                    "month": month,
                    "day": day,
                    "hour": hour,
                    "minute": pd.to_numeric(p[4], errors="coerce").fillna(0).astype(int),
                    "second": pd.to_numeric(p[5], errors="coerce").fillna(0).astype(int),
                }
            )
            out.loc[frame.index] = pd.to_datetime(frame, errors="coerce")
        todo = out.isna() & (text != "")
    if todo.any():
        parts = text[todo].str.extract(_YMD_SLASH)
        ok = parts[0].notna()
        if ok.any():
            p = parts[ok]
            frame = pd.DataFrame(
                {
                    "year": p[0].astype(int),
                    "month": p[1].astype(int),
                    "day": p[2].astype(int),
                    "hour": pd.to_numeric(p[3], errors="coerce").fillna(0).astype(int),
                    "minute": pd.to_numeric(p[4], errors="coerce").fillna(0).astype(int),
                    "second": pd.to_numeric(p[5], errors="coerce").fillna(0).astype(int),
                }
            )
            out.loc[frame.index] = pd.to_datetime(frame, errors="coerce")
        todo = out.isna() & (text != "")
    if todo.any():
        # Month names ("14 Mar 2026", "March 14, 2026"): rare, so the slow parser is fine here.
        rest = text[todo]
        named = rest.str.contains(r"[A-Za-z]{3}", regex=True)
        if named.any():
            out.loc[rest[named].index] = pd.to_datetime(
                rest[named], format="mixed", dayfirst=day_first, errors="coerce"
            )
    return out


# ---------------------------------------------------------------------------
# The chunk validator
# ---------------------------------------------------------------------------


def validate_chunk(
    kind: str,
    chunk: pd.DataFrame,
    *,
    day_first: bool = True,
    vocabularies: dict[str, V.Vocabulary] | None = None,
    present: set[str] | None = None,
) -> ChunkResult:
    """Validate one chunk; ``present`` is the set of contract columns the file has."""
    specs = FIELDS[kind]
    present = set(chunk.columns) if present is None else present
    lines = chunk["_line"]
    col = _Collector(lines)
    clean = pd.DataFrame({"_line": lines})
    new_vocab: dict[tuple[str, str], str | None] = {}
    term_rows: dict[tuple[str, str], tuple[str, set]] = {}  # (vocabulary, value) -> (spelling, row labels)
    now = pd.Timestamp(today()) + pd.Timedelta(days=1)
    evidence = {"day_first": 0, "month_first": 0, "ambiguous": 0}

    shape = chunk.get("_shape", pd.Series("", index=chunk.index)).fillna("")
    short = shape == "\x00short"
    long_ = shape.str.startswith("\x00long")
    col.reject(short, None, "", "the row has fewer cells than the header; a delimiter or quote is probably missing")
    if long_.any():
        col.reject(
            long_,
            None,
            "",
            "the row has more cells than the header ("
            + shape.str.slice(5)
            + " extra); a value probably contains an unquoted delimiter",
        )

    tick_columns = [c for c in chunk.columns if str(c).startswith(TECHNIQUE_COLUMN)]
    if kind == "visits" and tick_columns:
        chunk = _merge_technique_columns(col, chunk, tick_columns)
        present = present | {"techniques"}
    for name, spec in specs.items():
        if name not in present:
            continue
        text = chunk[name].fillna("").astype(str).str.strip()
        empty = text == ""
        if spec.required:
            col.reject(empty, name, text, f"{name} is empty")
        if spec.kind == "text":
            clean[name] = text.where(~empty, None)
        elif spec.kind == "number":
            if spec.score10:
                text = _read_score10(col, name, text)
            clean[name] = _check_number(col, name, text, empty, spec)
        elif spec.kind in ("date", "timestamp"):
            ev = date_order_evidence(text)
            evidence = {k: evidence[k] + ev[k] for k in evidence}
            parsed = parse_dates(text, day_first)
            bad = ~empty & parsed.isna()
            col.reject(bad, name, text, lambda t: name + " '" + t + "' is not a date (write it like 2026-03-14)")  # noqa: B023 (called at once)
            future = parsed >= now
            col.reject(future, name, text, lambda t: name + " " + t + " is in the future")  # noqa: B023 (called at once)
            col.reject(parsed < EARLIEST, name, text, lambda t: name + " " + t + " is before 1900")  # noqa: B023 (called at once)
            clean[name] = parsed.dt.normalize() if spec.kind == "date" else parsed
        elif spec.kind == "vocab":
            voc = (vocabularies or {}).get(spec.vocab.name + ":" + name, spec.vocab)
            clean[name] = _check_vocab(col, name, text, empty, spec, voc, new_vocab, term_rows)
        elif spec.kind == "vocab_list":
            voc = (vocabularies or {}).get(spec.vocab.name + ":" + name, spec.vocab)
            clean[name] = _check_vocab_list(col, name, text, spec, voc, new_vocab, term_rows)
        if spec.default is not None and name in clean:
            clean[name] = clean[name].where(clean[name].notna(), spec.default)
    for name, spec in specs.items():
        if name not in present and spec.default is not None:
            clean[name] = spec.default

    if kind == "rom" and "degrees" in clean and "joint" in clean and "movement" in clean:
        _check_rom_bounds(col, clean, chunk)
    if kind == "outcome_measures" and "instrument" in clean:
        _check_questionnaire(col, clean, chunk, present)
    if kind == "clients" and "birth_year" in clean:
        late = clean["birth_year"] > today().year
        col.reject(
            late, "birth_year", chunk["birth_year"], lambda t: "birth_year " + t.astype(str) + " is in the future"
        )

    rejects, warnings = col.frames()
    ragged = set(lines[short | long_].tolist())
    if ragged:
        # Cells of a ragged row are misaligned: the shape is the one problem worth reporting.
        rejects = rejects[~rejects["_line"].isin(ragged) | rejects["column"].isna()]
    bad_lines = set(rejects["_line"].tolist())
    if bad_lines:
        clean = clean[~clean["_line"].isin(bad_lines)]
    # Warnings on rows that were rejected anyway would only be noise.
    warnings = warnings[~warnings["_line"].isin(bad_lines)]
    # A new vocabulary entry counts only if a row that was kept uses it.
    line_of = dict(zip(chunk.index, lines))
    new_terms = {}
    for key, (spelling, labels) in term_rows.items():
        kept = {int(line_of[i]) for i in labels} - bad_lines
        if kept:
            new_terms[key] = (spelling, kept)
    new_vocab = {k: v for k, v in new_vocab.items() if k in new_terms}
    return ChunkResult(clean.reset_index(drop=True), rejects, warnings, new_vocab, evidence, new_terms)


def _merge_technique_columns(col: _Collector, chunk: pd.DataFrame, tick_columns: list[str]) -> pd.DataFrame:
    """A column per technique ("TrP", "MFR", "Stretch") ticked with x / yes / ✓ / TRUE: the ticked
    ones join the row's technique list.  A cell that is neither a tick nor blank/no is rejected,
    never guessed."""
    chunk = chunk.copy()
    base = chunk["techniques"].fillna("").astype(str) if "techniques" in chunk else pd.Series("", index=chunk.index)
    parts = [base]
    for c in tick_columns:
        technique = c[len(TECHNIQUE_COLUMN) :]
        cell = chunk[c].fillna("").astype(str).str.strip()
        low = cell.str.lower()
        ticked = low.isin(TICKS)
        odd = ~ticked & ~low.isin(NO_TICKS)
        col.reject(
            odd,
            c,
            cell,
            lambda t, tech=technique: (
                "column " + tech.replace("_", " ") + ": '" + t + "' is not a tick (x, yes, ✓) or blank"
            ),
        )
        parts.append(pd.Series(np.where(ticked, technique, ""), index=chunk.index))
    chunk["techniques"] = pd.concat(parts, axis=1).apply(lambda r: "; ".join(v for v in r if v), axis=1)
    return chunk


# "7/10", "7 / 10", "7.5/10" -> the score; "6-7", "6 – 7", "6 to 7" -> a range.
_OUT_OF_10 = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*/\s*10\s*$")
_RANGE = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(?:-|–|—|to)\s*(\d+(?:[.,]\d+)?)\s*$")


def _read_score10(col: _Collector, name: str, text: pd.Series) -> pd.Series:
    """A 0-10 score as therapists write it: "7/10" is 7; a range "6-7" is read as its midpoint
    (6.5) and flagged, so the row is kept and the reading is visibly an estimate."""
    out_of = text.str.extract(_OUT_OF_10)[0]
    text = text.where(out_of.isna(), out_of)
    rng = text.str.extract(_RANGE)
    is_range = rng[0].notna()
    if is_range.any():
        lo = pd.to_numeric(rng[0].str.replace(",", "."), errors="coerce")
        hi = pd.to_numeric(rng[1].str.replace(",", "."), errors="coerce")
        mid = ((lo + hi) / 2).map(lambda x: f"{x:g}" if pd.notna(x) else "")
        col.warn(
            is_range & (lo <= hi),
            name,
            text,
            lambda t: name + " " + t + " is a range; read as its midpoint " + mid[t.index] + ", please check",
        )
        text = text.where(~(is_range & (lo <= hi)), mid)
    return text


def _check_number(col: _Collector, name: str, text: pd.Series, empty: pd.Series, spec: Field) -> pd.Series:
    # A decimal comma ("7,5") is common in semicolon-separated European exports.
    num = pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce").astype("float64")
    not_num = ~empty & num.isna()
    col.reject(not_num, name, text, lambda t: name + " '" + t + "' is not a number")
    ok = num.notna()
    if spec.lo is not None or spec.hi is not None:
        lo = -np.inf if spec.lo is None else spec.lo
        hi = np.inf if spec.hi is None else spec.hi
        out = ok & ((num < lo) | (num > hi))
        rng = f"{_fmt_num(lo)}–{_fmt_num(hi)}" if spec.hi is not None else f"at least {_fmt_num(lo)}"
        col.reject(out, name, text, lambda t: name + " " + t + f" is outside {rng}")
        ok = ok & ~out
    if spec.step == 0.5:
        col.reject(ok & ((num * 2) % 1 != 0), name, text, lambda t: name + " " + t + " must be a whole or half point")
    elif spec.step == 1:
        col.reject(ok & (num % 1 != 0), name, text, lambda t: name + " " + t + " must be a whole number")
    return num


def _resolve_unique(values: pd.Series, voc: V.Vocabulary) -> dict[str, V.Resolution]:
    return {v: voc.resolve(v) for v in pd.unique(values) if v != ""}


def _check_vocab(col, name, text, empty, spec, voc, new_vocab, term_rows) -> pd.Series:
    canonical, reason, warn = _judge_values(_resolve_unique(text, voc), name, spec, voc, new_vocab, _unknown_reason)
    _note_terms(term_rows, voc, text, warn)
    mapped = text.map(canonical)
    if reason:
        bad = text.isin(list(reason))
        col.reject(bad, name, text, lambda t: t.map(reason))
    if warn:
        flagged = text.isin(list(warn))
        col.warn(flagged, name, text, lambda t: t.map(warn))
    return mapped.where(~empty, None)


def _judge_values(
    res: dict[str, V.Resolution], name: str, spec: Field, voc: V.Vocabulary, new_vocab: dict, unknown_reason
) -> tuple[dict, dict, dict]:
    """Split distinct raw values into canonical names, rejects (with reasons) and accepted new entries."""
    canonical, reason, warn = {}, {}, {}
    for raw, r in res.items():
        if r.known:
            canonical[raw] = r.canonical
        elif spec.unknown == "extend" and V.normalise(raw):
            canonical[raw] = V.normalise(raw)
            new_vocab[(voc.name, V.normalise(raw))] = r.suggestion
            warn[raw] = (
                f"new {voc.name} '{raw}' kept as the practice's own term (closest known: "
                f"{(r.suggestion or '—').replace('_', ' ')}); choose 'same as' on the Import page if it is"
            )
        else:
            reason[raw] = unknown_reason(name, raw, r, voc)
    return canonical, reason, warn


def _list_item_reason(name: str, raw: str, r: V.Resolution, voc: V.Vocabulary) -> str:
    return f"{name}: '{raw}' is not a known {voc.name}; did you mean '{r.suggestion}'?"


def _unknown_reason(name: str, raw: str, r: V.Resolution, voc: V.Vocabulary) -> str:
    names = voc.canonical_names
    if r.likely_typo or (r.suggestion and r.score >= 0.6 and len(names) > 8):
        return f"{name} '{raw}' is not a known {voc.name}; did you mean '{r.suggestion}'?"
    if len(names) <= 8:
        return f"{name} '{raw}' is not one of: {', '.join(names)}"
    return f"{name} '{raw}' is not a known {voc.name} (closest: '{r.suggestion}')"


def _note_terms(term_rows: dict, voc: V.Vocabulary, values: pd.Series, warn: dict) -> None:
    """Remember which rows use each new term (the importer counts them once rejects are known)."""
    for raw in warn:
        key = (voc.name, V.normalise(raw))
        spelling, labels = term_rows.setdefault(key, (raw, set()))
        labels.update(values.index[values == raw].tolist())


# A list as therapists write it: "TrP; MFR", "TrP, MFR", "TrP + MFR", "Swedish / deep tissue",
# "heat & stretch", "MFR and PNF".  An item known as a whole ("heat/cold", "hold and relax")
# is one entry; only an item that is not is split on the softer separators.
LIST_SEPARATORS = r"\s*[;,|]\s*"
SOFT_SEPARATORS = re.compile(r"\s*(?:[+/&]|\band\b)\s*", re.IGNORECASE)


def split_list(text: pd.Series, voc: V.Vocabulary) -> pd.Series:
    """One row per item (index = the cell's row), empty items dropped."""
    items = text.str.split(LIST_SEPARATORS, regex=True).explode()
    items = items[items.notna() & (items.str.strip() != "")].str.strip()
    whole = {v: voc.resolve(v).known for v in pd.unique(items)}
    soft = items[~items.map(whole).astype(bool)]
    if len(soft):
        parts = soft.str.split(SOFT_SEPARATORS, regex=True).explode()
        parts = parts[parts.notna() & (parts.str.strip() != "")].str.strip()
        items = pd.concat([items[items.map(whole).astype(bool)], parts]).sort_index(kind="stable")
    return items


def _check_vocab_list(col, name, text, spec, voc, new_vocab, term_rows) -> pd.Series:
    exploded = split_list(text, voc)
    mapping, reason, warn = _judge_values(_resolve_unique(exploded, voc), name, spec, voc, new_vocab, _list_item_reason)
    _note_terms(term_rows, voc, exploded, warn)
    if reason:
        bad_items = exploded[exploded.isin(list(reason))]
        first_bad = bad_items.groupby(level=0).first()
        mask = text.index.isin(first_bad.index)
        values = pd.Series("", index=text.index)
        values.loc[first_bad.index] = first_bad
        col.reject(pd.Series(mask, index=text.index), name, values, lambda v: v.map(reason))
    if warn:
        warn_items = exploded[exploded.isin(list(warn))].groupby(level=0).first()
        values = pd.Series("", index=text.index)
        values.loc[warn_items.index] = warn_items
        col.warn(pd.Series(text.index.isin(warn_items.index), index=text.index), name, values, lambda v: v.map(warn))
    canon = exploded.map(mapping).dropna()
    # Sorted and de-duplicated, so the same set of techniques always compares equal.
    # (Built with numpy: a per-row groupby lambda is ~100x slower at clinic sizes.)
    pairs = pd.DataFrame({"row": text.index.get_indexer(canon.index), "value": canon.to_numpy(dtype=object)})
    pairs = pairs.drop_duplicates().sort_values(["row", "value"], kind="stable")
    result: list[list[str]] = [[] for _ in range(len(text))]
    if len(pairs):
        rows = pairs["row"].to_numpy()
        values = pairs["value"].to_numpy(dtype=object)
        starts = np.r_[0, np.flatnonzero(np.diff(rows)) + 1]
        for start, stop in zip(starts, np.r_[starts[1:], len(rows)]):
            result[rows[start]] = values[start:stop].tolist()
    return pd.Series(result, index=text.index, dtype=object)


def _check_rom_bounds(col: _Collector, clean: pd.DataFrame, chunk: pd.DataFrame) -> None:
    # A chunk whose joints are all unknown has an all-NaN float column; text from here on.
    clean = clean.assign(joint=clean["joint"].astype(object), movement=clean["movement"].astype(object))
    keys = list(zip(clean["joint"].fillna(""), clean["movement"].fillna("")))
    bounds = {k: V.rom_bounds(*k) for k in set(keys)}
    lo = pd.Series([bounds[k][0] for k in keys], index=clean.index)
    hi = pd.Series([bounds[k][1] for k in keys], index=clean.index)
    flag = pd.Series([bounds[k][2] if bounds[k][2] is not None else np.inf for k in keys], index=clean.index)
    deg = clean["degrees"]
    text = chunk["degrees"].astype(str).str.strip()
    label = clean["joint"].fillna("") + " " + clean["movement"].fillna("").str.replace("_", " ")
    unit = pd.Series([V.rom_unit(*k) for k in keys], index=clean.index)
    out = deg.notna() & ((deg < lo) | (deg > hi))
    col.reject(
        out,
        "degrees",
        text,
        lambda t: (
            "degrees "
            + t
            + " is not plausible for "
            + label[t.index]
            + " (allowed "
            + lo[t.index].map(_fmt_num)
            + "–"
            + hi[t.index].map(_fmt_num)
            + unit[t.index]
            + ")"
        ),
    )
    beyond = deg.notna() & ~out & (deg > flag)
    norm = pd.Series([V.ROM_NORMS[k].normal if k in V.ROM_NORMS else np.nan for k in keys], index=clean.index)
    col.warn(
        beyond,
        "degrees",
        text,
        lambda t: (
            "degrees "
            + t
            + " is well beyond the normal "
            + norm[t.index].map(_fmt_num)
            + unit[t.index]
            + " for "
            + label[t.index]
            + "; kept, please check"
        ),
    )
    unknown_pair = (
        clean["joint"].notna()
        & clean["movement"].notna()
        & pd.Series([k not in V.ROM_NORMS for k in keys], index=clean.index)
    )
    col.warn(
        unknown_pair,
        "movement",
        clean["movement"].fillna(""),
        lambda t: "no normative value for " + label[t.index] + "; kept without a reference",
    )


def _check_questionnaire(col: _Collector, clean: pd.DataFrame, chunk: pd.DataFrame, present: set[str]) -> None:
    inst = clean["instrument"].astype(object)  # all-empty chunks give a float column
    answered = pd.Series(0, index=clean.index)
    for i, item in enumerate(OUTCOME_ITEMS, start=1):
        if item not in present:
            continue
        val = clean[item]
        has = val.notna()
        answered = answered + has.astype(int)
        n_items = inst.map(lambda x: QUESTIONNAIRE_ITEMS.get(x, (20, 0, 10))[0])
        lo = inst.map(lambda x: QUESTIONNAIRE_ITEMS.get(x, (20, 0, 10))[1])
        hi = inst.map(lambda x: QUESTIONNAIRE_ITEMS.get(x, (20, 0, 10))[2])
        text = chunk[item].astype(str).str.strip()
        extra = has & (i > n_items)
        col.reject(
            extra, item, text, item + " is not part of " + inst.fillna("?") + " (" + n_items.astype(str) + " items)"
        )
        out = has & ~extra & ((val < lo) | (val > hi))
        col.reject(
            out,
            item,
            text,
            item + " " + text + " is outside " + lo.astype(str) + "–" + hi.astype(str) + " for " + inst.fillna("?"),
        )
        col.reject(has & (val % 1 != 0), item, text, item + " " + text + " must be a whole number")
    total = clean["total_score"] if "total_score" in clean else pd.Series(np.nan, index=clean.index)
    nothing = inst.notna() & (answered == 0) & total.isna()
    col.reject(nothing, "total_score", "", "no item answers and no total_score")
