"""The data contract: kinds, columns, keys.

Columns are matched by header name, case- and space-insensitive, never by
position.  ``KINDS`` is the single source of truth used by the readers, the
validators, the loader, the sample generator and the docs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    key: tuple[str, ...]  # natural key in core (after derivation)
    grain: str

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


OUTCOME_ITEMS = tuple(f"item_{i}" for i in range(1, 21))

KINDS: dict[str, Kind] = {
    "clients": Kind(
        "clients",
        required=("client_id", "display_name"),
        optional=("birth_year", "sex", "primary_complaint", "complaint_region", "intake_date", "status", "notes"),
        key=("client_id",),
        grain="one row per client",
    ),
    "visits": Kind(
        "visits",
        required=("visit_id", "client_id", "visit_date"),
        optional=(
            "therapist",
            "duration_min",
            "pressure",
            "pain_pre",
            "pain_post",
            "pain_region",
            "techniques",
            "focus_muscles",
            "client_feedback",
            "homecare",
            "notes",
            "plan",
        ),
        key=("visit_id",),
        grain="one row per visit",
    ),
    "rom": Kind(
        "rom",
        required=("visit_id", "joint", "movement", "degrees"),
        optional=("side", "timing", "instrument", "measured_by"),
        key=("visit_id", "joint", "movement", "side", "timing"),
        grain="one row per ROM reading",
    ),
    "self_reports": Kind(
        "self_reports",
        required=("client_id", "reported_at", "pain"),
        optional=("region", "did_homecare", "pgic", "note"),
        key=("client_id", "reported_at", "region"),
        grain="one row per client report between visits",
    ),
    "trigger_points": Kind(
        "trigger_points",
        required=("visit_id", "muscle"),
        optional=("side", "referral_region", "tenderness", "released"),
        key=("visit_id", "muscle", "side"),
        grain="one row per trigger point found in a visit",
    ),
    "outcome_measures": Kind(
        "outcome_measures",
        required=("client_id", "taken_on", "instrument"),
        optional=OUTCOME_ITEMS + ("total_score",),
        key=("client_id", "taken_on", "instrument"),
        grain="one row per questionnaire taken",
    ),
}

# ROM and trigger-point files may name a visit by client_id + visit_date instead of visit_id.
VISIT_REFERENCE_ALTERNATIVE = ("client_id", "visit_date")
VISIT_CHILD_KINDS = ("rom", "trigger_points")


# Plain-word headers a practice writes for a contract column that is not its name.
HEADER_WORDS = {"next_time": "plan", "plan_for_next_time": "plan", "plan_next_time": "plan"}


def normalise_header(header: object) -> str:
    """'Client ID ' -> 'client_id'; 'Pain (pre)' -> 'pain_pre'; 'Next time' -> 'plan'."""
    text = str(header).strip().lower().replace("\ufeff", "")
    text = re.sub(r"[^0-9a-z]+", "_", text).strip("_")
    return HEADER_WORDS.get(text, text)


def detect_kind(headers: list[str], filename: str = "") -> str | None:
    """Guess the kind from normalised headers (and, to break ties, the file name)."""
    cols = set(headers)
    stem = filename.lower()
    for name in KINDS:
        if stem.startswith(name) or stem.startswith(name.rstrip("s")):
            return name
    scores = {}
    for name, kind in KINDS.items():
        required = set(kind.required)
        if name in VISIT_CHILD_KINDS:
            required = (required - {"visit_id"}) | (
                {"visit_id"} if "visit_id" in cols else set(VISIT_REFERENCE_ALTERNATIVE)
            )
        if name == "visits" and "visit_id" not in cols:
            required = required - {"visit_id"}
        if required <= cols:
            scores[name] = len(cols & set(kind.columns))
    if not scores:
        return None
    return max(scores, key=lambda k: (scores[k], -list(KINDS).index(k)))


# Each column in the words of the Import page and the forms, for reasons a therapist reads
# ("Pain before 12 is outside 0–10", not "pain_pre 12 ...").
COLUMN_LABELS: dict[str, str] = {
    "client_id": "Client",
    "display_name": "Name",
    "birth_year": "Birth year",
    "sex": "Sex",
    "primary_complaint": "Main complaint",
    "complaint_region": "Complaint region",
    "intake_date": "Intake date",
    "status": "Status",
    "notes": "Notes",
    "visit_id": "Visit",
    "visit_date": "Date",
    "therapist": "Therapist",
    "duration_min": "Duration",
    "pressure": "Pressure",
    "pain_pre": "Pain before",
    "pain_post": "Pain after",
    "pain_region": "Pain region",
    "techniques": "Techniques",
    "focus_muscles": "Focus muscles",
    "client_feedback": "Client feedback",
    "homecare": "Home care",
    "plan": "Plan",
    "joint": "Joint",
    "movement": "Movement",
    "degrees": "Degrees",
    "side": "Side",
    "timing": "Timing",
    "instrument": "Instrument",
    "measured_by": "Measured by",
    "reported_at": "Date",
    "pain": "Pain",
    "region": "Region",
    "did_homecare": "Did home care",
    "pgic": "PGIC",
    "note": "Note",
    "muscle": "Muscle",
    "referral_region": "Refers to",
    "tenderness": "Tenderness",
    "released": "Released",
    "taken_on": "Date taken",
    "total_score": "Total score",
    **{f"item_{i}": f"Item {i}" for i in range(1, 21)},
}


def plain_reason(column: str | None, reason: str) -> str:
    """A reason that starts with its column's contract name, in the column's plain words."""
    if not column or column not in COLUMN_LABELS:
        return reason
    for sep in (" ", ":"):
        if reason.startswith(column + sep):
            return COLUMN_LABELS[column] + reason[len(column) :]
    return reason


def required_columns_missing(kind: str, columns: set[str]) -> list[str]:
    """The required columns of ``kind`` missing from ``columns`` (a visit may be named by client and date)."""
    spec = KINDS[kind]
    missing = []
    for col in spec.required:
        if col in columns:
            continue
        if col == "visit_id" and kind == "visits":
            continue  # derived from client_id + visit_date
        if col == "visit_id" and kind in VISIT_CHILD_KINDS and {"client_id", "visit_date"} <= columns:
            continue
        missing.append(col if col != "visit_id" or kind == "visits" else "visit_id (or client_id and visit_date)")
    return missing
