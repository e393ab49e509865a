"""Column mappings: how a file exported by another tool becomes a contract file.

A Google Forms export names its columns after the questions ("Your client code"); a
spreadsheet a therapist has kept for years says "Date" and "Pain before".  A **mapping
profile** is a small named TOML file that says which file column is which contract column,
and optionally the file's kind and date order, so the second import of the same form needs
no clicks::

    name = "google_forms_checkin"
    description = "Google Forms pain check-in"
    kind = "self_reports"            # optional
    date_order = "month_first"       # optional: day_first / month_first
    [columns]
    "Timestamp" = "reported_at"      # header as written in the file = contract column
    "Your client code" = "client_id"
    "Email Address" = ""             # "" = ignore this column (kept in the raw layer)

Profiles come from two places: built-in ones shipped in the package (``pipelines/ingest/mapping_profiles/``)
and the practice's own in a ``mappings/`` folder next to its database.  A practice profile
with the same name as a built-in one replaces it for that practice.

The engine is the importer's (:func:`pipelines.ingest.importer.ingest_file`): a mapping only supplies
its ``rename`` argument (a :class:`ColumnMapping`, which also carries the kind and date order),
so ``knotwork ingest FILE --mapping NAME`` and the Import page import exactly alike.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import tomli_w

from pipelines.ingest.contract import KINDS, detect_kind, normalise_header, plain_reason, required_columns_missing
from pipelines.ingest.practice_rules import db_vocabularies, practice_day_first
from pipelines.ingest.readers import FileProblem, TableFile, open_table
from pipelines.ingest.validate import FIELDS, date_order_evidence, validate_chunk
from pipelines.warehouse.db import resolve_db_path

BUILTIN_DIR = Path(__file__).resolve().parent / "mapping_profiles"
PRACTICE_DIRNAME = "mappings"
DATE_ORDERS = ("day_first", "month_first")
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")
IGNORE = ""  # mapping target meaning "not imported"
IGNORED_PREFIX = "ignored__"
# A suggestion below this similarity is not made (the column is left unmapped).
SUGGEST_CUTOFF = 0.6


class MappingProblem(FileProblem):
    """A mapping cannot be found, read or applied; the message is one line for the user."""


# Words people use for each contract column, in spreadsheets and in form questions.  The
# contract name itself always counts; these are matched after normalise_header().
ALIASES: dict[str, tuple[str, ...]] = {
    "client_id": (
        "client",
        "client code",
        "your client code",
        "client number",
        "client no",
        "client ref",
        "patient id",
        "patient",
        "patient code",
        "patient number",
        "code",
        "id",
        "client id number",
    ),
    "display_name": ("name", "client name", "full name", "patient name", "first name", "display name"),
    "birth_year": ("year of birth", "born", "birth year", "yob", "date of birth", "dob"),
    "sex": ("gender", "sex gender"),
    "primary_complaint": (
        "complaint",
        "main complaint",
        "presenting complaint",
        "reason for visit",
        "chief complaint",
        "problem",
    ),
    "complaint_region": ("complaint area", "body region", "region", "area", "body area"),
    "intake_date": ("first visit", "start date", "intake", "date of first visit", "joined", "registered"),
    "status": ("client status", "active", "state"),
    "notes": ("note", "comments", "comment", "remarks", "therapist notes"),
    "visit_id": ("visit", "visit number", "visit no", "session id", "session", "appointment id"),
    "visit_date": ("date", "session date", "appointment date", "date of visit", "treatment date", "visit"),
    "therapist": ("practitioner", "therapist name", "treated by", "lmt", "clinician"),
    "duration_min": ("duration", "minutes", "length", "session length", "mins", "duration minutes", "time min"),
    "pressure": ("pressure level", "depth", "pressure 1 5", "intensity of pressure"),
    "pain_pre": (
        "pain before",
        "pain pre",
        "pre pain",
        "pain start",
        "pain in",
        "pain at start",
        "pain before session",
        "nprs pre",
        "vas pre",
        "pain level before",
        "initial pain",
    ),
    "pain_post": (
        "pain after",
        "pain post",
        "post pain",
        "pain end",
        "pain out",
        "pain at end",
        "pain after session",
        "nprs post",
        "vas post",
        "pain level after",
        "final pain",
    ),
    "pain_region": ("region", "pain area", "pain location", "where", "area", "location", "body part"),
    "techniques": (
        "technique",
        "techniques used",
        "modalities",
        "modality",
        "treatment",
        "treatments",
        "methods",
        "what was done",
        "what i did",
        "what we did",
        "treatment given",
        "done",
        "techniques applied",
    ),
    "focus_muscles": ("muscles", "muscles treated", "focus", "muscles worked", "target muscles"),
    "client_feedback": ("feedback", "client comments", "client said", "response"),
    "homecare": ("home care", "home exercises", "homework", "exercises given", "self care", "aftercare"),
    "plan": ("next time", "plan for next time", "next visit", "next session", "to do next time"),
    "joint": ("joint", "body part", "area", "region"),
    "movement": ("motion", "direction", "plane"),
    "degrees": (
        "rom",
        "range",
        "angle",
        "deg",
        "range of motion",
        "value",
        "measurement",
        "mm",
        "degrees mm",
        "reading",
        "result",
    ),
    "side": ("left right", "laterality", "l r"),
    "timing": ("when", "pre post", "before after", "time point"),
    "instrument": ("device", "tool", "measured with", "method", "questionnaire", "form", "measure"),
    "measured_by": ("measurer", "rater", "examiner", "by"),
    "reported_at": (
        "timestamp",
        "submitted",
        "submitted at",
        "date",
        "time",
        "date time",
        "reported",
        "when",
        "response time",
        "completed",
    ),
    "pain": (
        "pain level",
        "pain score",
        "how bad is your pain",
        "pain right now",
        "pain today",
        "current pain",
        "pain now",
        "nprs",
        "rate your pain",
    ),
    "region": ("where is the pain", "pain location", "where", "area", "location", "body part", "where does it hurt"),
    "did_homecare": (
        "did you do your home exercises",
        "home exercises",
        "homework done",
        "exercises done",
        "did homecare",
        "did your exercises",
        "homecare done",
        "home care done",
    ),
    "pgic": (
        "global impression",
        "patient global impression of change",
        "how do you feel compared",
        "overall change",
        "impression of change",
    ),
    "note": (
        "notes",
        "comment",
        "comments",
        "anything else",
        "anything else you want to tell",
        "message",
        "remarks",
        "other",
    ),
    "muscle": ("muscle name", "trigger point", "trp", "muscles"),
    "referral_region": ("referral", "refers to", "referral pattern", "referred pain", "referral area"),
    "tenderness": ("tender", "tenderness 0 10", "sensitivity", "pain on pressure"),
    "released": ("release", "released yes no", "outcome", "did it release"),
    "taken_on": ("date", "date taken", "completed on", "taken", "assessment date"),
    "total_score": ("total", "score", "total score", "sum"),
    **{f"item_{i}": (f"q{i}", f"question {i}", f"item {i}", f"section {i}", f"activity {i}") for i in range(1, 21)},
}


# ---------------------------------------------------------------------------
# Profiles
# ---------------------------------------------------------------------------


@dataclass
class MappingProfile:
    name: str
    columns: dict[str, str]  # header as written in the file -> contract column ("" = ignore)
    kind: str | None = None
    date_order: str | None = None  # day_first / month_first / None (the practice setting)
    description: str = ""
    builtin: bool = False
    path: Path | None = None

    def rename(self) -> ColumnMapping:
        mapping = ColumnMapping()
        for header, target in self.columns.items():
            norm = normalise_header(header)
            mapping[norm] = target if target != IGNORE else IGNORED_PREFIX + norm
        mapping.name = self.name
        mapping.kind = self.kind
        mapping.day_first = None if self.date_order is None else self.date_order == "day_first"
        return mapping

    def matches(self, headers: list[str]) -> bool:
        """Every column the profile names is in the file (the profile fits this file)."""
        have = {normalise_header(h) for h in headers}
        mapped = {normalise_header(h) for h, t in self.columns.items() if t != IGNORE}
        return bool(mapped) and mapped <= have

    def to_toml(self) -> str:
        data: dict = {"name": self.name}
        if self.description:
            data["description"] = self.description
        if self.kind:
            data["kind"] = self.kind
        if self.date_order:
            data["date_order"] = self.date_order
        data["columns"] = dict(self.columns)
        return tomli_w.dumps(data)


class ColumnMapping(dict):
    """``rename`` for the importer: normalised file column -> contract column.

    Also carries what the profile knows about the file: ``kind`` and ``day_first``
    (``None`` when the profile leaves them to detection and the practice setting), which
    :func:`pipelines.ingest.importer.ingest_file` uses when it is not told otherwise.
    """

    name: str | None = None
    kind: str | None = None
    day_first: bool | None = None


def practice_dir(db=None) -> Path:
    """The practice's own profiles: ``mappings/`` next to the database file."""
    return resolve_db_path(db).expanduser().resolve().parent / PRACTICE_DIRNAME


def _check_profile(profile: MappingProfile, origin: str) -> MappingProfile:
    if not NAME_PATTERN.match(profile.name):
        raise MappingProblem(f"{origin}: mapping name '{profile.name}' must be lower-case letters, digits, '_' or '-'")
    if profile.kind is not None and profile.kind not in KINDS:
        raise MappingProblem(f"{origin}: kind '{profile.kind}' is not one of {', '.join(KINDS)}")
    if profile.date_order is not None and profile.date_order not in DATE_ORDERS:
        raise MappingProblem(f"{origin}: date_order must be day_first or month_first, not '{profile.date_order}'")
    allowed = set(FIELDS[profile.kind]) if profile.kind else {c for spec in FIELDS.values() for c in spec}
    seen: dict[str, str] = {}
    for header, target in profile.columns.items():
        if not isinstance(target, str):
            raise MappingProblem(f"{origin}: column '{header}' must map to a column name in quotes")
        if target == IGNORE:
            continue
        if target not in allowed:
            where = f"a {profile.kind} file" if profile.kind else "any file kind"
            raise MappingProblem(f"{origin}: '{header}' maps to '{target}', which is not a column of {where}")
        if target in seen:
            raise MappingProblem(f"{origin}: both '{seen[target]}' and '{header}' map to '{target}'")
        seen[target] = header
    normalised: dict[str, str] = {}
    for header in profile.columns:
        norm = normalise_header(header)
        if norm in normalised:
            raise MappingProblem(f"{origin}: columns '{normalised[norm]}' and '{header}' are the same column")
        normalised[norm] = header
    return profile


def read_profile(path: Path, builtin: bool = False) -> MappingProfile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise MappingProblem(f"mapping {path.name}: cannot be read ({exc})") from exc
    columns = data.get("columns")
    if not isinstance(columns, dict) or not columns:
        raise MappingProblem(f"mapping {path.name}: has no [columns] table")
    profile = MappingProfile(
        name=str(data.get("name") or path.stem),
        columns={str(k): v for k, v in columns.items()},
        kind=data.get("kind") or None,
        date_order=data.get("date_order") or None,
        description=str(data.get("description", "")),
        builtin=builtin,
        path=path,
    )
    return _check_profile(profile, f"mapping {path.name}")


def list_profiles(db=None) -> list[MappingProfile]:
    """Built-in profiles, then the practice's; a practice profile replaces a built-in of the same name.

    A practice file that cannot be read is skipped here (``load_profile`` names the problem).
    """
    found: dict[str, MappingProfile] = {}
    for folder, builtin in ((BUILTIN_DIR, True), (practice_dir(db), False)):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                profile = read_profile(path, builtin)
            except MappingProblem:
                continue
            found[profile.name] = profile
    return sorted(found.values(), key=lambda p: p.name)


def load_profile(name: str, db=None) -> MappingProfile:
    for folder, builtin in ((practice_dir(db), False), (BUILTIN_DIR, True)):
        path = folder / f"{name}.toml"
        if NAME_PATTERN.match(name) and path.is_file():
            return read_profile(path, builtin)
    known = [p.name for p in list_profiles(db)]
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    raise MappingProblem(f"no column mapping named '{name}'{hint} (known: {', '.join(known) or 'none'})")


def load_mapping(name: str, db=None) -> ColumnMapping:
    """The ``rename`` for ``knotwork ingest --mapping NAME`` (and the Import page)."""
    return load_profile(name, db).rename()


def save_profile(profile: MappingProfile, db=None) -> Path:
    """Write ``profile`` to the practice's ``mappings/`` folder (atomically); return its path."""
    profile = MappingProfile(profile.name, dict(profile.columns), profile.kind, profile.date_order, profile.description)
    _check_profile(profile, f"mapping '{profile.name}'")
    folder = practice_dir(db)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{profile.name}.toml"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(
        "# Knotwork column mapping (written by the Import page; safe to edit)\n" + profile.to_toml(), encoding="utf-8"
    )
    tmp.replace(path)
    return path


def profiles_for(headers: list[str], db=None) -> list[MappingProfile]:
    """Saved profiles that fit a file with these headers, the most specific first."""
    fits = [p for p in list_profiles(db) if p.matches(headers)]
    return sorted(fits, key=lambda p: (-sum(1 for t in p.columns.values() if t != IGNORE), p.builtin, p.name))


# ---------------------------------------------------------------------------
# Suggestions by name similarity
# ---------------------------------------------------------------------------


def similarity(header: str, phrase: str) -> float:
    """How well a (normalised) file header names a (normalised) contract column or alias, 0-1.

    Equal: 1.  The phrase as whole words inside a longer header ("how_bad_is_your_pain" in a
    form question): 0.75-1, more for a phrase that covers more of the header.  Otherwise
    difflib's ratio: scaled by 0.9 when it is high enough to be a typo ("cleint_id" ~0.8), by
    0.5 below that, so short look-alikes ("pain_score" / "patient_code") are not suggested.
    """
    if not header or not phrase:
        return 0.0
    if header == phrase:
        return 1.0
    h_tokens, p_tokens = header.split("_"), phrase.split("_")
    n = len(p_tokens)
    if n < len(h_tokens) and any(h_tokens[i : i + n] == p_tokens for i in range(len(h_tokens) - n + 1)):
        return 0.75 + 0.25 * len(phrase) / len(header)
    ratio = difflib.SequenceMatcher(None, header, phrase).ratio()
    return 0.9 * ratio if ratio >= 0.8 else 0.5 * ratio


def _targets(kind: str) -> list[str]:
    return [c for c in FIELDS[kind]]


def score_column(header: str, target: str) -> float:
    norm = normalise_header(header)
    phrases = [target, *(normalise_header(a) for a in ALIASES.get(target, ()))]
    return max(similarity(norm, p) for p in phrases)


def suggest_mapping(
    headers: list[str], kind: str, cutoff: float = SUGGEST_CUTOFF
) -> dict[str, tuple[str | None, float]]:
    """For each header (as written), the contract column it most likely is, and how sure (0-1).

    Greedy on the best scores first, each contract column used at most once; headers below
    ``cutoff`` get ``(None, score)``.
    """
    if kind not in FIELDS:
        raise ValueError(f"unknown kind '{kind}'")
    targets = _targets(kind)
    scored = []
    for order, header in enumerate(headers):
        for target in targets:
            s = score_column(header, target)
            if s >= cutoff:
                scored.append((-s, order, targets.index(target), header, target, s))
    scored.sort()
    out: dict[str, tuple[str | None, float]] = {}
    used: set[str] = set()
    for _, _, _, header, target, s in scored:
        if header in out or target in used:
            continue
        out[header] = (target, round(s, 3))
        used.add(target)
    for header in headers:
        if header not in out:
            best = max((score_column(header, t) for t in targets), default=0.0)
            out[header] = (None, round(best, 3))
    return {h: out[h] for h in headers}


def guess_kind(headers: list[str], filename: str = "") -> str | None:
    """The kind of a file: by its contract headers if it has them, else by the suggestions.

    Among kinds whose required columns the suggestions all cover, the one with the best total
    similarity wins; ``None`` when no kind fits.
    """

    kind = detect_kind([normalise_header(h) for h in headers], filename)
    if kind is not None:
        return kind
    best, best_score = None, 0.0
    for name in KINDS:
        sugg = suggest_mapping(headers, name)
        mapped = {t for t, _ in sugg.values() if t}
        if required_columns_missing(name, mapped):
            continue
        total = sum(s for t, s in sugg.values() if t)
        if total > best_score:
            best, best_score = name, total
    return best


def mapping_from_choices(
    choices: dict[str, str | None], name: str | None = None, kind: str | None = None, day_first: bool | None = None
) -> ColumnMapping:
    """A ``rename`` from the Import page's choices (header as written -> contract column or None).

    A header left unmapped whose own name is a contract column is renamed out of the way,
    so it cannot collide with the column the user mapped onto that name.
    """
    rename = ColumnMapping()
    seen: dict[str, str] = {}
    for header, target in choices.items():
        norm = normalise_header(header)
        if target:
            if target in seen:
                raise MappingProblem(f"both '{seen[target]}' and '{header}' are mapped to '{target}'")
            seen[target] = header
            rename[norm] = target
        else:
            rename[norm] = IGNORED_PREFIX + norm
    rename.name, rename.kind, rename.day_first = name, kind, day_first
    return rename


def apply_rename(columns: list[str], rename: dict[str, str] | None) -> list[str]:
    """The contract names a file's normalised columns get; raises MappingProblem on a collision."""
    out = [rename.get(c, c) if rename else c for c in columns]
    seen: dict[str, str] = {}
    for original, new in zip(columns, out):
        if new in seen:
            raise MappingProblem(f"columns '{seen[new]}' and '{original}' would both become '{new}'")
        seen[new] = original
    return out


# ---------------------------------------------------------------------------
# Preview: the first rows, validated exactly as the import will
# ---------------------------------------------------------------------------


@dataclass
class Preview:
    kind: str
    rows: pd.DataFrame  # the first rows, contract columns (text), plus 'line' and 'problems'
    n_ok: int
    n_bad: int
    day_first: bool
    notes: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # required columns the mapping does not provide


def preview(
    path: str | Path,
    kind: str,
    rename: dict[str, str] | None = None,
    db=None,
    n_rows: int = 20,
    day_first: bool | None = None,
) -> Preview:
    """Validate the first ``n_rows`` of a file with the import's own rules, without writing.

    Row problems come from :func:`pipelines.ingest.validate.validate_chunk` (plus an unknown-client
    check against the database when there is one), so what the preview flags is what the
    import will reject.
    """

    table: TableFile = open_table(path)
    columns = apply_rename(table.columns, rename)
    present = set(columns) & set(FIELDS[kind])
    missing = required_columns_missing(kind, set(columns))
    chunk = next(table.chunks(rename))
    chunk = chunk.head(n_rows).reset_index(drop=True)
    if day_first is None:
        day_first = getattr(rename, "day_first", None)
    if day_first is None:
        day_first = practice_day_first(db)
    notes = []
    evidence = {"day_first": 0, "month_first": 0, "ambiguous": 0}
    for col in present:
        if FIELDS[kind][col].kind in ("date", "timestamp"):
            ev = date_order_evidence(chunk[col].fillna("").astype(str).str.strip())
            evidence = {k: evidence[k] + ev[k] for k in evidence}
    if evidence["month_first"] and not evidence["day_first"] and day_first:
        day_first = False
        notes.append("dates read as month/day (03/14/2026): values in these rows settle the order")
    elif evidence["day_first"] and not evidence["month_first"] and not day_first:
        day_first = True
        notes.append("dates read as day/month (14/03/2026): values in these rows settle the order")
    vocabularies = db_vocabularies(db)
    result = validate_chunk(kind, chunk, day_first=day_first, vocabularies=vocabularies, present=present)
    problems: dict[int, list[str]] = {}
    for line, column, reason in zip(result.rejects["_line"], result.rejects["column"], result.rejects["reason"]):
        problems.setdefault(int(line), []).append(plain_reason(column, str(reason)))
    for line, message in _unknown_clients(chunk, kind, present, db):
        problems.setdefault(line, []).append(plain_reason("client_id", message))
    shown = [c for c in columns if c in present]
    rows = chunk[["_line", *shown]].rename(columns={"_line": "line"})
    rows.insert(1, "problems", [("; ".join(problems.get(int(line), [])) or "") for line in rows["line"]])
    n_bad = sum(1 for line in rows["line"] if problems.get(int(line)))
    return Preview(kind, rows, len(rows) - n_bad, n_bad, day_first, notes, missing)


def _unknown_clients(chunk: pd.DataFrame, kind: str, present: set[str], db) -> list[tuple[int, str]]:
    """The import's client checks for the previewed rows: an id or a display name (case and
    spacing ignored) of exactly one client is fine; a name several clients share, or neither, is
    what the import will reject."""
    if "client_id" not in present or kind not in ("visits", "self_reports", "outcome_measures"):
        return []
    from pipelines.warehouse.db import read_connection

    ids = chunk["client_id"].fillna("").astype(str).str.strip()
    if not any(ids):
        return []
    try:
        with read_connection(db) as con:
            clients = con.execute("SELECT client_id, display_name FROM core.clients").fetchall()
    except Exception:
        return []
    known = {cid for cid, _ in clients}
    by_name: dict[str, list[str]] = {}
    for cid, name in clients:
        by_name.setdefault(_name_key(name), []).append(cid)
    out = []
    for line, cid in zip(chunk["_line"], ids):
        if not cid or cid in known:
            continue
        owners = sorted(by_name.get(_name_key(cid), []))
        if len(owners) > 1:
            out.append(
                (int(line), f"Client {cid} matches several clients by name ({', '.join(owners)}); write the client id")
            )
        elif not owners:
            out.append((int(line), f"client_id {cid} is not a known client; import the clients file first"))
    return out


def _name_key(name) -> str:
    """A display name as the importer matches it (pipelines.ingest.importer.NAME_KEY)."""
    return re.sub(r"\s+", " ", str(name or "").strip()).lower()
