"""Controlled vocabularies: techniques, body regions, joints/movements, muscles.

Every list maps a canonical name to the spellings a practice actually writes
(``TrP``, ``Myofascial Release``, ``breath work``).  Matching is case-,
space-, hyphen- and underscore-insensitive.  A value that matches nothing is
never dropped silently: :func:`Vocabulary.resolve` says whether it is known,
and if not, which known entry it is closest to, so the importer can decide
between "reject with a suggestion" (a likely typo) and "accept as a new
practice-defined entry" (a genuinely new technique).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

# A typo of a known entry scores at least this in difflib's ratio; a genuinely
# new name ("gua sha" vs the list) scores well below it.
CLOSE_MATCH_CUTOFF = 0.8


def normalise(value: str) -> str:
    """Lower-case, and fold runs of spaces, hyphens, underscores and slashes to one '_'."""
    return re.sub(r"[\s\-_/]+", "_", str(value).strip().lower()).strip("_")


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
    _lookup: dict[str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._lookup = {}
        for canonical, aliases in self.entries.items():
            for spelling in [canonical, *aliases]:
                self._lookup[normalise(spelling)] = canonical

    @property
    def canonical_names(self) -> list[str]:
        return list(self.entries)

    def resolve(self, value: str) -> Resolution:
        key = normalise(value)
        if key in self._lookup:
            return Resolution(value, self._lookup[key], None, 1.0)
        best, best_score = None, 0.0
        for spelling, canonical in self._lookup.items():
            score = difflib.SequenceMatcher(None, key, spelling).ratio()
            if score > best_score:
                best, best_score = canonical, score
        return Resolution(value, None, best, best_score)

    def extended(self, extra: list[str]) -> "Vocabulary":
        """A copy that also knows practice-defined entries (from settings or earlier imports)."""
        entries = dict(self.entries)
        for name in extra:
            entries.setdefault(normalise(name), [])
        return Vocabulary(self.name, entries)


TECHNIQUES = Vocabulary(
    "technique",
    {
        "trigger_point": ["trp", "trigger point therapy", "trigger point", "trigger point pressure",
                          "ischemic compression", "ischaemic compression", "tpt", "neuromuscular therapy", "nmt"],
        "myofascial_release": ["mfr", "myofascial", "myofascial release", "fascial release"],
        "swedish": ["swedish massage", "relaxation massage", "effleurage"],
        "deep_tissue": ["deep tissue", "deep tissue massage", "dtm"],
        "stretching": ["stretch", "static stretching", "passive stretching", "assisted stretching"],
        "pnf_stretching": ["pnf", "proprioceptive neuromuscular facilitation", "contract relax", "hold relax"],
        "muscle_energy": ["met", "muscle energy technique", "muscle energy techniques"],
        "positional_release": ["prt", "strain counterstrain", "counterstrain", "positional release therapy"],
        "cross_fiber_friction": ["cross fibre friction", "cross friction", "transverse friction", "cff",
                                 "deep transverse friction"],
        "nerve_mobilization": ["nerve mobilisation", "neural mobilization", "neural mobilisation",
                               "nerve flossing", "neurodynamics", "nerve gliding"],
        "movement_reeducation": ["movement re-education", "movement reeducation", "movement re education",
                                 "postural reeducation", "corrective exercise"],
        "breathwork": ["breath work", "breathing", "breathing exercises", "diaphragmatic breathing"],
        "instrument_assisted": ["iastm", "instrument assisted", "instrument assisted soft tissue mobilization",
                                "graston", "gua sha"],
        "cupping": ["cups", "myofascial cupping", "dry cupping"],
        "lymphatic_drainage": ["mld", "manual lymphatic drainage", "lymph drainage"],
        "thermal": ["heat", "cold", "heat/cold", "hot pack", "ice", "cryotherapy", "thermotherapy", "hot stones"],
    },
)

# Body regions used for complaints, pain_region, referral_region and self-report region.
REGIONS = Vocabulary(
    "region",
    {
        "head": ["headache", "headaches", "temple", "temples", "jaw", "tmj", "face", "forehead", "behind the eye"],
        "neck": ["cervical", "neck pain", "neck and upper back"],
        "shoulder": ["shoulders", "rotator cuff", "scapula", "shoulder blade"],
        "upper_back": ["upper back", "thoracic", "mid back", "between shoulder blades", "rhomboid area"],
        "low_back": ["low back", "lower back", "lumbar", "lbp", "back"],
        "hip": ["hips", "gluteal", "buttock", "sacroiliac", "si joint"],
        "arm": ["upper arm", "elbow", "lateral elbow", "medial elbow"],
        "forearm_wrist": ["forearm", "wrist", "forearm/wrist", "hand", "fingers", "thumb", "carpal tunnel"],
        "chest": ["pectoral", "sternum", "ribs"],
        "thigh": ["hamstring", "quadriceps", "groin"],
        "knee": ["knees", "patella"],
        "lower_leg_foot": ["calf", "shin", "ankle", "foot", "feet", "heel", "plantar fascia"],
    },
)

MUSCLES = Vocabulary(
    "muscle",
    {
        "upper_trapezius": ["upper trap", "upper traps", "trapezius", "trap", "upper trapezius"],
        "levator_scapulae": ["levator", "levator scap"],
        "sternocleidomastoid": ["scm", "sternomastoid"],
        "scalenes": ["scalene", "scalenus", "anterior scalene", "middle scalene"],
        "suboccipitals": ["suboccipital", "suboccs"],
        "splenius_capitis": ["splenius", "splenius cervicis"],
        "temporalis": ["temporal"],
        "masseter": [],
        "rhomboids": ["rhomboid", "rhomboid major", "rhomboid minor"],
        "infraspinatus": ["infra"],
        "supraspinatus": ["supra"],
        "teres_minor": [],
        "subscapularis": ["subscap"],
        "pectoralis_minor": ["pec minor"],
        "pectoralis_major": ["pec major", "pecs"],
        "deltoid": ["delts", "anterior deltoid", "posterior deltoid"],
        "wrist_extensors": ["extensor carpi radialis", "ecrb", "ecrl", "forearm extensors", "extensor digitorum"],
        "wrist_flexors": ["flexor carpi radialis", "forearm flexors", "fcr"],
        "quadratus_lumborum": ["ql", "quadratus"],
        "erector_spinae": ["erectors", "paraspinals", "iliocostalis", "longissimus"],
        "multifidus": ["multifidi"],
        "gluteus_medius": ["glute med", "gluteus medius"],
        "gluteus_minimus": ["glute min"],
        "piriformis": [],
        "iliopsoas": ["psoas", "iliacus", "hip flexors"],
        "hamstrings": ["hamstring", "biceps femoris"],
        "gastrocnemius": ["gastroc", "calf"],
        "soleus": [],
        "tibialis_anterior": ["tib ant"],
    },
)

SIDES = Vocabulary("side", {"left": ["l", "lt"], "right": ["r", "rt"], "none": ["bilateral", "both", "midline", "n/a", "na", "b"]})
ROM_TIMING = Vocabulary("timing", {"pre": ["before", "pre-treatment", "pretreatment"], "post": ["after", "post-treatment", "posttreatment"]})
INSTRUMENTS = Vocabulary(
    "instrument",
    {"goniometer": ["universal goniometer", "gonio"], "inclinometer": ["digital inclinometer", "bubble inclinometer"],
     "crom": ["crom device", "cervical range of motion device"], "visual": ["visual estimate", "eyeball"],
     "app": ["phone app", "smartphone", "smartphone app"]},
)
CLIENT_STATUS = Vocabulary("status", {"active": ["current", "ongoing"], "discharged": ["finished", "completed", "done"],
                                      "referred_out": ["referred", "referred out", "referral"]})
YES_NO = Vocabulary("yes/no", {"yes": ["y", "true", "1", "done", "did"], "no": ["n", "false", "0", "not done", "didn't", "did not"]})
RELEASED = Vocabulary("released", {"yes": ["y", "true", "1", "released", "full"], "partial": ["partly", "some", "partially"],
                                   "no": ["n", "false", "0", "not released", "none"]})
QUESTIONNAIRES = Vocabulary(
    "instrument",
    {"NDI": ["neck disability index"], "ODI": ["oswestry", "oswestry disability index", "modified oswestry"],
     "PSFS": ["patient specific functional scale", "patient-specific functional scale"],
     "QuickDASH": ["quick dash", "qdash", "quickdash"], "LEFS": ["lower extremity functional scale"]},
)
SEX = Vocabulary("sex", {"female": ["f", "woman", "w"], "male": ["m", "man"], "other": ["x", "non-binary", "nonbinary", "diverse"],
                         "unknown": ["prefer not to say", "unspecified"]})


# ---------------------------------------------------------------------------
# Range of motion: joints, movements, normative maxima and plausibility bounds
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class RomNorm:
    normal: float  # normative active ROM, degrees
    source: str  # named reference set


_AAOS_UE = "AAOS, Norkin & White Appendix A.1"
_AAOS_C = "AAOS cervical, via goniometer.io clinical guide"
_TROKE = "Troke et al. 2005, youngest age band"
_MERCK = "Merck Manual normal values"

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
}

JOINTS = Vocabulary(
    "joint",
    {"cervical": ["neck", "c-spine", "cervical spine"], "lumbar": ["low back", "lumbar spine", "l-spine", "thoracolumbar", "trunk"],
     "shoulder": ["glenohumeral", "gh"], "elbow": [], "forearm": ["radioulnar"], "wrist": [], "hip": [], "knee": [],
     "ankle": ["foot", "talocrural"]},
)
MOVEMENTS = Vocabulary(
    "movement",
    {"flexion": ["flex", "forward bending", "forward flexion"], "extension": ["ext", "backward bending"],
     "lateral_flexion": ["side bending", "sidebending", "lateral bending", "side flexion", "lat flex"],
     "rotation": ["rot", "turning"], "abduction": ["abd"], "adduction": ["add"],
     "internal_rotation": ["ir", "medial rotation"], "external_rotation": ["er", "lateral rotation"],
     "pronation": [], "supination": [], "radial_deviation": ["radial dev"], "ulnar_deviation": ["ulnar dev"],
     "dorsiflexion": ["df", "dorsi flexion"], "plantarflexion": ["pf", "plantar flexion"], "inversion": [], "eversion": []},
)

# A reading above normal * (1 + margin) is kept but flagged; outside the hard bounds it is rejected.
ROM_FLAG_MARGIN = 0.25
ROM_HARD_MIN = -30.0  # hyperextension of elbow/knee is reported as a small negative number
ROM_HARD_MAX_FACTOR = 2.0
ROM_HARD_MAX_FLOOR = 40.0  # joints with tiny norms (lumbar rotation 7°) still allow up to 40°


def rom_bounds(joint: str, movement: str) -> tuple[float, float, float | None]:
    """(hard minimum, hard maximum, flag threshold) in degrees for a joint/movement pair."""
    norm = ROM_NORMS.get((joint, movement))
    if norm is None:
        return ROM_HARD_MIN, 360.0, None
    # Twice the norm, but never more than 90° beyond it (a 360° shoulder is a typo, not a finding).
    hard_max = max(min(norm.normal * ROM_HARD_MAX_FACTOR, norm.normal + 90), ROM_HARD_MAX_FLOOR)
    return ROM_HARD_MIN, hard_max, max(norm.normal * (1 + ROM_FLAG_MARGIN), norm.normal + 10)
