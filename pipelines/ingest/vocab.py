"""Controlled vocabularies: techniques, body regions, joints/movements, muscles.

Every list maps a canonical name to the spellings a practice actually writes
(``TrP``, ``Myofascial Release``, ``breath work``).  Matching is case-,
space-, hyphen- and underscore-insensitive.  A value that matches nothing is
never dropped silently: :func:`Vocabulary.resolve` says whether it is known,
and if not, which known entry it is closest to.  A value is mapped to a known
entry only when the match is certain (an alias, case, punctuation, a plural, a
known abbreviation, a common suffix such as "spine" or "stretch"); anything
else is the practice's own term, kept and flagged with its closest entry, and
the therapist decides (an unknown term never costs a row).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from pipelines.ingest.anatomy import complaint_region_entries, muscle_entries, region_entries

# A typo of a known entry scores at least this in difflib's ratio; a genuinely
# new name ("gua sha" vs the list) scores well below it.  Used only to word a
# suggestion: a close value is never mapped (nor rejected) for being close.
CLOSE_MATCH_CUTOFF = 0.8

# Words a practice adds to a known term without changing what it names: "thoracic spine",
# "neck region", "PNF stretch", "TrP therapy", "scalene muscles".  Stripped only when what is
# left is itself a known spelling, so "hamstring stretch" never becomes a technique.
COMMON_SUFFIXES = (
    "spine",
    "region",
    "area",
    "joint",
    "muscle",
    "muscles",
    "m",
    "therapy",
    "technique",
    "techniques",
    "massage",
    "work",
    "stretch",
    "stretches",
    "stretching",
    "treatment",
)


def normalise(value: str) -> str:
    """Lower-case; drop dots and apostrophes ("M.E.T.", "didn't"); fold every other run of
    non-letters (spaces, hyphens, slashes, brackets) to one '_'."""
    text = re.sub(r"[.'\u2019]", "", str(value).strip().lower())
    return re.sub(r"[\W_]+", "_", text).strip("_")


@dataclass(frozen=True)
class Resolution:
    raw: str
    canonical: str | None  # None when the value is not known
    suggestion: str | None = None  # closest known entry, for unknown values
    score: float = 0.0

    @property
    def known(self) -> bool:
        return self.canonical is not None

    @property
    def likely_typo(self) -> bool:
        return not self.known and self.score >= CLOSE_MATCH_CUTOFF


@dataclass
class Vocabulary:
    name: str
    entries: dict[str, list[str]]  # canonical -> aliases
    more: dict[str, list[str]] = field(default_factory=dict)  # further spellings, for reading only
    _lookup: dict[str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._lookup = {}
        for canonical, aliases in self.entries.items():
            for spelling in [canonical, *aliases]:
                self._lookup[normalise(spelling)] = canonical
        for canonical, aliases in self.more.items():
            for spelling in aliases:
                self._lookup.setdefault(normalise(spelling), canonical)

    @property
    def canonical_names(self) -> list[str]:
        return list(self.entries)

    def _certain(self, key: str) -> str | None:
        """The canonical entry ``key`` certainly names: exactly, as a plural, or with a common suffix."""
        if key in self._lookup:
            return self._lookup[key]
        for variant in (key[:-1] if key.endswith("s") else None, key[:-2] if key.endswith("es") else None):
            if variant and variant in self._lookup:
                return self._lookup[variant]
        words = key.split("_")
        while len(words) > 1 and words[-1] in COMMON_SUFFIXES:
            words = words[:-1]
            stem = "_".join(words)
            if stem in self._lookup:
                return self._lookup[stem]
        return None

    def resolve(self, value: str) -> Resolution:
        key = normalise(value)
        certain = self._certain(key)
        if certain is not None:
            return Resolution(value, certain, None, 1.0)
        best, best_score = None, 0.0
        for spelling, canonical in self._lookup.items():
            score = difflib.SequenceMatcher(None, key, spelling).ratio()
            if score > best_score:
                best, best_score = canonical, score
        return Resolution(value, None, best, best_score)

    def extended(self, extra: list[str], aliases: dict[str, str] | None = None) -> Vocabulary:
        """A copy that also knows practice-defined entries (from settings or earlier imports) and
        the practice's own aliases (spelling -> entry, chosen on the Import page)."""
        entries = {k: list(v) for k, v in self.entries.items()}
        for name in extra:
            entries.setdefault(normalise(name), [])
        for spelling, target in (aliases or {}).items():
            entries.setdefault(target, []).append(spelling)
        return Vocabulary(self.name, entries, self.more)


TECHNIQUES = Vocabulary(
    "technique",
    {
        "trigger_point": [
            "trp",
            "trigger point therapy",
            "trigger point",
            "trigger point pressure",
            "ischemic compression",
            "ischaemic compression",
            "tpt",
            "neuromuscular therapy",
            "nmt",
        ],
        "myofascial_release": ["mfr", "myofascial", "myofascial release", "fascial release"],
        "swedish": ["swedish massage", "relaxation massage", "effleurage"],
        "deep_tissue": ["deep tissue", "deep tissue massage", "dtm"],
        "stretching": ["stretch", "static stretching", "passive stretching", "assisted stretching"],
        "pnf_stretching": ["pnf", "proprioceptive neuromuscular facilitation", "contract relax", "hold relax"],
        "muscle_energy": ["met", "muscle energy technique", "muscle energy techniques"],
        "positional_release": ["prt", "strain counterstrain", "counterstrain", "positional release therapy"],
        "cross_fiber_friction": [
            "cross fibre friction",
            "cross friction",
            "transverse friction",
            "cff",
            "deep transverse friction",
        ],
        "nerve_mobilization": [
            "nerve mobilisation",
            "neural mobilization",
            "neural mobilisation",
            "nerve flossing",
            "neurodynamics",
            "nerve gliding",
        ],
        "movement_reeducation": [
            "movement re-education",
            "movement reeducation",
            "movement re education",
            "postural reeducation",
            "corrective exercise",
        ],
        "breathwork": ["breath work", "breathing", "breathing exercises", "diaphragmatic breathing"],
        "instrument_assisted": [
            "iastm",
            "instrument assisted",
            "instrument assisted soft tissue mobilization",
            "graston",
            "gua sha",
        ],
        "cupping": ["cups", "myofascial cupping", "dry cupping"],
        "lymphatic_drainage": ["mld", "manual lymphatic drainage", "lymph drainage"],
        "thermal": ["heat", "cold", "heat/cold", "hot pack", "ice", "cryotherapy", "thermotherapy", "hot stones"],
        # Pressure on a muscle while it is moved through its range (active or passive release).
        "soft_tissue_release": ["str", "soft tissue release", "pin and stretch", "lock and stretch"],
    },
    # Spellings added for reading therapists' own files (issue 14).  Kept apart from the entries
    # above, which the sample generator draws its spellings from, so the sample stays the same.
    more={
        "trigger_point": ["tp", "trps", "trigger points", "trigger point release", "neuromuscular", "nmt therapy"],
        "stretching": ["stretches", "static stretch", "passive stretch", "assisted stretch"],
        "pnf_stretching": ["pnf stretch", "contract relax stretching", "hold and relax", "contract and relax"],
        "breathwork": ["breath", "breathing work"],
        "thermal": ["hot stone", "heat pack", "ice pack", "hydrotherapy"],
    },
)

# Body regions (complaints, pain_region, referral_region, self-report region) and muscles come
# from the anatomy data file, where each also has its place on the body map.
REGIONS = Vocabulary("region", region_entries())
# Complaint regions stay coarse: a fine zone ("jaw") files the complaint under its parent (head).
COMPLAINT_REGIONS = Vocabulary("region", complaint_region_entries())
MUSCLES = Vocabulary("muscle", muscle_entries())

# "bilateral" is a side of its own (both sides were measured or treated, one reading for both);
# "none" is a midline reading (cervical flexion) or a file that does not say.
SIDES = Vocabulary(
    "side",
    {
        "left": ["l", "lt", "left side"],
        "right": ["r", "rt", "right side"],
        "bilateral": ["both", "b", "bilat", "both sides", "l r", "l and r", "r l", "lr", "bil"],
        "none": ["midline", "n/a", "na", "central", "centre", "center"],
    },
)
ROM_TIMING = Vocabulary(
    "timing", {"pre": ["before", "pre-treatment", "pretreatment"], "post": ["after", "post-treatment", "posttreatment"]}
)
INSTRUMENTS = Vocabulary(
    "instrument",
    {
        "goniometer": ["universal goniometer", "gonio"],
        "inclinometer": ["digital inclinometer", "bubble inclinometer"],
        "crom": ["crom device", "cervical range of motion device"],
        "visual": ["visual estimate", "eyeball"],
        "app": ["phone app", "smartphone", "smartphone app"],
    },
)
CLIENT_STATUS = Vocabulary(
    "status",
    {
        "active": ["current", "ongoing"],
        "discharged": ["finished", "completed", "done"],
        "referred_out": ["referred", "referred out", "referral"],
    },
)
YES_NO = Vocabulary(
    "yes/no", {"yes": ["y", "true", "1", "done", "did"], "no": ["n", "false", "0", "not done", "didn't", "did not"]}
)
RELEASED = Vocabulary(
    "released",
    {
        "yes": ["y", "true", "1", "released", "full"],
        "partial": ["partly", "some", "partially"],
        "no": ["n", "false", "0", "not released", "none"],
    },
)
QUESTIONNAIRES = Vocabulary(
    "instrument",
    {
        "NDI": ["neck disability index"],
        "ODI": ["oswestry", "oswestry disability index", "modified oswestry"],
        "PSFS": ["patient specific functional scale", "patient-specific functional scale"],
        "QuickDASH": ["quick dash", "qdash", "quickdash"],
        "LEFS": ["lower extremity functional scale"],
    },
)
SEX = Vocabulary(
    "sex",
    {
        "female": ["f", "woman", "w"],
        "male": ["m", "man"],
        "other": ["x", "non-binary", "nonbinary", "diverse"],
        "unknown": ["prefer not to say", "unspecified"],
    },
)


# ---------------------------------------------------------------------------
# Range of motion: joints, movements, normative maxima and plausibility bounds
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RomNorm:
    normal: float  # normative active ROM, in ``unit``
    source: str  # named reference set
    unit: str = "°"  # TMJ openings and excursions are measured in millimetres with a ruler
    mdc: float | None = None  # minimal detectable change where a source gives one for this reading
    mdc_source: str | None = None
    hard_max: float | None = None  # plausibility bound where "twice the norm" does not fit


_AAOS_UE = "AAOS, Norkin & White Appendix A.1"
_AAOS_C = "AAOS cervical, via goniometer.io clinical guide"
_TROKE = "Troke et al. 2005, youngest age band"
_MERCK = "Merck Manual normal values"
_AMA_T = "AMA Guides to the Evaluation of Permanent Impairment, thoracic spine (inclinometer)"
_JOHNSON_T = "Johnson KD et al. J Athl Train 2012;47:52-60: thoracic rotation, MDC 2.1-6.3 deg (the upper value used)"
_ZAWAWI = (
    "Zawawi KH et al. J Can Dent Assoc 2003;69:737-41: maximal mouth opening 48.8 mm in healthy "
    "adults; below 40 mm is limited (Dworkin & LeResche, RDC/TMD 1992)"
)
_KROPMANS = (
    "Kropmans TJ et al. Eur J Oral Sci 2000;108:9-13: smallest detectable difference of maximal "
    "mouth opening 6-9 mm (9 mm for a single measurement)"
)
_LATERAL = (
    "Dworkin & LeResche, RDC/TMD 1992 (below 7 mm is limited); mean laterotrusion 9.4-11.8 mm in 500 "
    "TMD patients (Swiss Dent J, University Center for Dental Medicine Basel)"
)
_STOUSTRUP = (
    "Stoustrup P et al. Orthod Craniofac Res 2013: smallest detectable difference 2.4 mm for "
    "laterotrusion, 2.8 mm for protrusion (one observer, one measurement)"
)

ROM_NORMS: dict[tuple[str, str], RomNorm] = {
    ("cervical", "flexion"): RomNorm(45, _AAOS_C),
    ("cervical", "extension"): RomNorm(45, _AAOS_C),
    ("cervical", "lateral_flexion"): RomNorm(45, _AAOS_C),
    ("cervical", "rotation"): RomNorm(60, _AAOS_C),
    ("lumbar", "flexion"): RomNorm(72, _TROKE),
    ("lumbar", "extension"): RomNorm(29, _TROKE),
    ("lumbar", "lateral_flexion"): RomNorm(29, _TROKE),
    ("lumbar", "rotation"): RomNorm(7, _TROKE),
    ("shoulder", "flexion"): RomNorm(180, _AAOS_UE),
    ("shoulder", "extension"): RomNorm(60, _AAOS_UE),
    ("shoulder", "abduction"): RomNorm(180, _AAOS_UE),
    ("shoulder", "internal_rotation"): RomNorm(70, _AAOS_UE),
    ("shoulder", "external_rotation"): RomNorm(90, _AAOS_UE),
    ("elbow", "flexion"): RomNorm(150, _AAOS_UE),
    ("elbow", "extension"): RomNorm(0, _AAOS_UE),
    ("forearm", "pronation"): RomNorm(80, _AAOS_UE),
    ("forearm", "supination"): RomNorm(80, _AAOS_UE),
    ("wrist", "flexion"): RomNorm(80, _AAOS_UE),
    ("wrist", "extension"): RomNorm(70, _AAOS_UE),
    ("wrist", "radial_deviation"): RomNorm(20, _AAOS_UE),
    ("wrist", "ulnar_deviation"): RomNorm(30, _AAOS_UE),
    ("hip", "flexion"): RomNorm(125, _MERCK),
    ("hip", "extension"): RomNorm(15, _MERCK),
    ("hip", "abduction"): RomNorm(45, _MERCK),
    ("hip", "adduction"): RomNorm(45, _MERCK),
    ("hip", "external_rotation"): RomNorm(45, _MERCK),
    ("hip", "internal_rotation"): RomNorm(45, _MERCK),
    ("knee", "flexion"): RomNorm(130, _MERCK),
    ("ankle", "dorsiflexion"): RomNorm(20, _MERCK),
    ("ankle", "plantarflexion"): RomNorm(50, _MERCK),
    ("ankle", "inversion"): RomNorm(35, _MERCK),
    ("ankle", "eversion"): RomNorm(25, _MERCK),
    ("thoracic", "flexion"): RomNorm(50, _AMA_T),
    ("thoracic", "rotation"): RomNorm(30, _AMA_T, mdc=6.3, mdc_source=_JOHNSON_T),
    # The jaw: millimetres between the incisors (opening) or of the lower midline (excursions).
    ("tmj", "mouth_opening"): RomNorm(49, _ZAWAWI, unit="mm", mdc=9.0, mdc_source=_KROPMANS, hard_max=80),
    ("tmj", "lateral_deviation"): RomNorm(10, _LATERAL, unit="mm", mdc=2.4, mdc_source=_STOUSTRUP, hard_max=25),
    ("tmj", "protrusion"): RomNorm(9, _LATERAL, unit="mm", mdc=2.8, mdc_source=_STOUSTRUP, hard_max=25),
}

JOINTS = Vocabulary(
    "joint",
    {
        "cervical": ["neck", "c-spine", "cervical spine", "c spine", "cs"],
        "thoracic": ["t-spine", "thoracic spine", "t spine", "ts", "mid back", "upper back", "dorsal", "dorsal spine"],
        "lumbar": ["low back", "lumbar spine", "l-spine", "thoracolumbar", "trunk", "lower back"],
        "tmj": ["jaw", "temporomandibular", "temporomandibular joint", "mandible", "tmj"],
        "shoulder": ["glenohumeral", "gh"],
        "elbow": [],
        "forearm": ["radioulnar"],
        "wrist": [],
        "hip": [],
        "knee": [],
        "ankle": ["foot", "talocrural"],
    },
)
MOVEMENTS = Vocabulary(
    "movement",
    {
        "flexion": ["flex", "forward bending", "forward flexion"],
        "extension": ["ext", "backward bending"],
        "lateral_flexion": ["side bending", "sidebending", "lateral bending", "side flexion", "lat flex"],
        "rotation": ["rot", "turning"],
        "abduction": ["abd"],
        "adduction": ["add"],
        "internal_rotation": ["ir", "medial rotation"],
        "external_rotation": ["er", "lateral rotation"],
        "pronation": [],
        "supination": [],
        "radial_deviation": ["radial dev"],
        "ulnar_deviation": ["ulnar dev"],
        "dorsiflexion": ["df", "dorsi flexion"],
        "plantarflexion": ["pf", "plantar flexion"],
        "inversion": [],
        "eversion": [],
        "mouth_opening": [
            "opening",
            "mouth opening",
            "maximal mouth opening",
            "max opening",
            "mmo",
            "mio",
            "interincisal opening",
            "jaw opening",
            "depression",
        ],
        "lateral_deviation": ["lateral excursion", "laterotrusion", "lat dev", "lateral dev", "excursion"],
        "protrusion": ["protrusive excursion"],
    },
)

# A reading above normal * (1 + margin) is kept but flagged; outside the hard bounds it is rejected.
ROM_FLAG_MARGIN = 0.25
ROM_HARD_MIN = -30.0  # hyperextension of elbow/knee is reported as a small negative number
ROM_HARD_MAX_FACTOR = 2.0
ROM_HARD_MAX_FLOOR = 40.0  # joints with tiny norms (lumbar rotation 7°) still allow up to 40°


def rom_unit(joint: str, movement: str) -> str:
    norm = ROM_NORMS.get((joint, movement))
    return norm.unit if norm is not None else "°"


def rom_bounds(joint: str, movement: str) -> tuple[float, float, float | None]:
    """(hard minimum, hard maximum, flag threshold) in the reading's unit for a joint/movement pair."""
    norm = ROM_NORMS.get((joint, movement))
    if norm is None:
        return ROM_HARD_MIN, 360.0, None
    if norm.hard_max is not None:  # millimetres: a distance cannot be negative
        return 0.0, norm.hard_max, max(norm.normal * (1 + ROM_FLAG_MARGIN), norm.normal + 10)
    # Twice the norm, but never more than 90° beyond it (a 360° shoulder is a typo, not a finding).
    hard_max = max(min(norm.normal * ROM_HARD_MAX_FACTOR, norm.normal + 90), ROM_HARD_MAX_FLOOR)
    return ROM_HARD_MIN, hard_max, max(norm.normal * (1 + ROM_FLAG_MARGIN), norm.normal + 10)
