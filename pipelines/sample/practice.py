"""Synthetic practice generator: a whole practice in the contract's CSV format.

``generate(out_dir, n_clients=40, seed=7)`` writes ``clients.csv``, ``visits.csv``,
``rom.csv``, ``self_reports.csv``, ``trigger_points.csv``, ``outcome_measures.csv`` and
``truth.json`` (the planted effects) into ``out_dir``.  Same seed, same bytes.

The data-generating process (DGP), in the order it runs for every client:

* **Client.** Chronic pain level ``mu`` (latent), a peak above it at the first visit
  (clients book when pain peaks), a random effect ``b`` on immediate change, a pressure
  tolerance, a visit cadence, a planned number of visits (dropout), a complaint region.
* **Visits** (vectorised over clients, one loop step per visit number):

  - ``pain_pre`` = latent pain + report noise, rounded to half points, clipped 0-10.
  - Techniques (2-4, from ``vocab.TECHNIQUES``) drawn from weights that depend **only**
    on the observed ``pain_pre`` and the complaint region, plus fresh randomness
    (confounding by indication: trigger_point/deep_tissue when pain is high,
    swedish/breathwork/movement re-education when it is low).
  - ``pressure`` 1-5 from the client's tolerance, the techniques and ``pain_pre``.
  - Immediate change (latent, before rounding and clipping)::

        delta = sum(effect[t] for t used) + synergy * [both of the pair used]
                + h(pressure)                       h(p) = -c * (1 - ((p - opt) / 2) ** 2)
                - rtm * (pain_pre - m)              m = client's current chronic level
                + trend * (visit_number - 1)
                + b_client + noise

    ``pain_post`` = ``pain_pre + delta`` rounded to half points and clipped to 0-10.
  - Between visits latent pain drifts back toward the chronic level
    (``rho = exp(-gap_days / 21)``), and ``carry_over`` of the visit's immediate change is
    still present at the next visit; the chronic level itself moves by a small
    ``lasting_fraction`` of each visit's treatment response (techniques + synergy +
    pressure + client effect), so courses with effective treatment improve.
* **Children**: ROM pre/post (deficit below ``vocab.ROM_NORMS`` grows with latent pain),
  trigger points (tenderness tracks pain), self-reports between visits (pain from the
  latent trajectory), questionnaires at intake and about every 6th visit.

``truth.json`` states the planted values and the formula above; an analyst who adjusts
for ``pain_pre``, visit number and pressure (categorical), with a client random
intercept, recovers the per-technique effects (up to the small bias from rounding to
half points and clipping at 0).

Speed: numpy throughout (the loop runs over visit number, across all clients at once);
strings are built with pyarrow kernels and the CSVs are written by DuckDB's ``COPY``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.ingest.contract import KINDS, OUTCOME_ITEMS
from pipelines.ingest.vocab import MUSCLES, REGIONS, ROM_NORMS, TECHNIQUES, normalise
from pipelines.warehouse.sqlnames import quote_literal

# ---------------------------------------------------------------------------
# Planted effects
# ---------------------------------------------------------------------------

# The techniques the sample practice uses, in a fixed order of its own.  Not the vocabulary's list:
# a technique added to the vocabulary (soft tissue release, say) must not change the random draws,
# and with them every figure of the sample that tests and docs compare against.
TECHS: tuple[str, ...] = (
    "trigger_point",
    "myofascial_release",
    "swedish",
    "deep_tissue",
    "stretching",
    "pnf_stretching",
    "muscle_energy",
    "positional_release",
    "cross_fiber_friction",
    "nerve_mobilization",
    "movement_reeducation",
    "breathwork",
    "instrument_assisted",
    "cupping",
    "lymphatic_drainage",
    "thermal",
)

DEFAULT_TECHNIQUE_EFFECTS: dict[str, float] = {
    "trigger_point": -1.0,
    "myofascial_release": -0.7,
    "movement_reeducation": -0.5,
    "stretching": -0.4,
    "breathwork": -0.3,
    "pnf_stretching": -0.3,
    "deep_tissue": -0.2,
    "swedish": -0.1,
}

DEFAULT_EFFECTS: dict[str, Any] = {
    # points of pain on 0-10, negative = relief; every technique not listed is 0.0
    "technique_effects": {t: DEFAULT_TECHNIQUE_EFFECTS.get(t, 0.0) for t in TECHS},
    "synergy": {"techniques": ["trigger_point", "stretching"], "effect": -0.5},
    "pressure_c": 0.6,  # relief at the optimum pressure vs pressure 1 or 5 (points)
    "pressure_optimum": 3,
    "carry_over": 0.4,  # fraction of a visit's immediate change still present at the next visit
    "rtm_coefficient": 0.3,  # delta includes -rtm * (pain_pre - current chronic level)
    "visit_trend": 0.005,  # points per visit number (immediate relief fades slightly over a course)
    "lasting_fraction": 0.03,  # share of the treatment response that moves the chronic level
    "client_sd": 0.35,  # SD of the client random effect on immediate change
    "noise_sd": 0.75,  # SD of the visit-level noise on immediate change
}

_NUMERIC_KEYS = (
    "pressure_c",
    "pressure_optimum",
    "carry_over",
    "rtm_coefficient",
    "visit_trend",
    "lasting_fraction",
    "client_sd",
    "noise_sd",
)


def planted_effects(effects: str | dict | None = "default") -> dict[str, Any]:
    """Resolve ``effects`` ("default", "none" or an override dict) to the full parameter set.

    "none" plants no technique effects, no synergy and a flat pressure response; the
    nuisance structure (regression to the mean, carry-over, trend, client effects, noise)
    stays, which is what a null test needs.  A dict overrides values of "default" (or of
    ``{"base": "none"}``): ``technique_effects`` (partial dict), technique names as
    top-level keys, ``synergy`` (``{"techniques": [a, b], "effect": x}`` or ``None``), and
    any of the numeric keys (``_NUMERIC_KEYS``: pressure_c, pressure_optimum, carry_over,
    rtm_coefficient, visit_trend, lasting_fraction, client_sd, noise_sd).
    """
    if effects is None or effects == "default":
        return _copy_effects(DEFAULT_EFFECTS)
    if effects == "none":
        p = _copy_effects(DEFAULT_EFFECTS)
        p["technique_effects"] = {t: 0.0 for t in TECHS}
        p["synergy"] = {"techniques": list(p["synergy"]["techniques"]), "effect": 0.0}
        p["pressure_c"] = 0.0
        return p
    if not isinstance(effects, dict):
        raise ValueError(f"effects must be 'default', 'none' or a dict, not {effects!r}")
    overrides = dict(effects)
    p = planted_effects(overrides.pop("base", "default"))
    for key, value in overrides.items():
        if key == "technique_effects":
            for t, v in dict(value).items():
                p["technique_effects"][_canonical_technique(t)] = float(v)
        elif key == "synergy":
            if value is None:
                p["synergy"] = {"techniques": list(p["synergy"]["techniques"]), "effect": 0.0}
            else:
                a, b = (_canonical_technique(t) for t in value["techniques"])
                if a == b:
                    raise ValueError("a synergy pair needs two different techniques")
                p["synergy"] = {"techniques": [a, b], "effect": float(value.get("effect", 0.0))}
        elif key in _NUMERIC_KEYS:
            p[key] = float(value)
        elif TECHNIQUES.resolve(key).known:
            p["technique_effects"][_canonical_technique(key)] = float(value)
        else:
            raise ValueError(f"unknown effects key {key!r}")
    if not 1 <= p["pressure_optimum"] <= 5:
        raise ValueError("pressure_optimum must be within 1-5")
    return p


def _canonical_technique(name: str) -> str:
    res = TECHNIQUES.resolve(name)
    if not res.known:
        raise ValueError(f"unknown technique {name!r}")
    if res.canonical not in TECHS:
        raise ValueError(f"technique {name!r} is known but the sample practice does not use it")
    return res.canonical


def _copy_effects(p: dict) -> dict:
    return json.loads(json.dumps(p))


def pressure_response(p: np.ndarray | float, c: float, optimum: float = 3) -> np.ndarray:
    """h(p) = -c * (1 - ((p - optimum) / 2) ** 2): most relief (-c) at the optimum."""
    return -c * (1.0 - ((np.asarray(p, dtype=float) - optimum) / 2.0) ** 2)


# ---------------------------------------------------------------------------
# Practice shape (technique choice, regions, muscles, text)
# ---------------------------------------------------------------------------

REGION_SHARES = {
    "neck": 0.24,
    "low_back": 0.24,
    "shoulder": 0.13,
    "head": 0.10,
    "forearm_wrist": 0.09,
    "hip": 0.10,
    "upper_back": 0.10,
}
CLIENT_REGIONS = tuple(REGION_SHARES)
LATERAL_REGIONS = ("shoulder", "forearm_wrist", "hip")

COMPLAINTS = {
    "neck": ["Neck pain", "Neck pain with headaches", "Stiff neck, worse at the computer", "Neck and shoulder tension"],
    "head": ["Tension headaches", "Headaches behind the eye", "Headaches and jaw clenching"],
    "low_back": [
        "Low back pain",
        "Low back pain after lifting",
        "Chronic low back pain",
        "Low back pain; worse sitting",
    ],
    "shoulder": ["Shoulder pain", "Shoulder pain reaching overhead", "Shoulder pain (swimmer)"],
    "forearm_wrist": ["Forearm/wrist pain (desk work)", "Wrist pain, climbing", "Forearm pain from guitar playing"],
    "hip": ["Hip/buttock pain", "Buttock pain down the leg", "Hip pain when running"],
    "upper_back": ["Upper back pain", "Pain between the shoulder blades", "Upper back stiffness"],
}

# Technique choice: log-weights = base + slope * (pain_pre - 5) + region adjustment.
TECH_BASE = {
    "trigger_point": 1.55,
    "myofascial_release": 1.05,
    "stretching": 0.85,
    "swedish": 0.55,
    "deep_tissue": 0.35,
    "breathwork": 0.05,
    "movement_reeducation": 0.0,
    "pnf_stretching": -0.15,
    "positional_release": -0.25,
    "muscle_energy": -0.15,
    "cross_fiber_friction": -0.45,
    "nerve_mobilization": -0.9,
    "instrument_assisted": -1.5,
    "cupping": -1.4,
    "lymphatic_drainage": -2.2,
    "thermal": -0.7,
}
TECH_SLOPE = {
    "trigger_point": 0.35,
    "deep_tissue": 0.35,
    "cross_fiber_friction": 0.15,
    "positional_release": 0.2,
    "myofascial_release": 0.05,
    "thermal": 0.1,
    "swedish": -0.45,
    "breathwork": -0.3,
    "movement_reeducation": -0.35,
    "pnf_stretching": -0.1,
    "lymphatic_drainage": -0.1,
}
TECH_REGION = {
    "neck": {"trigger_point": 0.2, "positional_release": 0.2, "nerve_mobilization": 0.2},
    "head": {"trigger_point": 0.3, "breathwork": 0.5, "positional_release": 0.2},
    "low_back": {"muscle_energy": 0.5, "thermal": 0.4, "movement_reeducation": 0.3, "positional_release": 0.2},
    "shoulder": {"pnf_stretching": 0.4, "movement_reeducation": 0.3, "cross_fiber_friction": 0.4},
    "forearm_wrist": {"cross_fiber_friction": 0.8, "nerve_mobilization": 0.8, "instrument_assisted": 0.6},
    "hip": {"muscle_energy": 0.5, "pnf_stretching": 0.4, "stretching": 0.2},
    "upper_back": {"cupping": 0.5, "myofascial_release": 0.2, "breathwork": 0.2},
}
N_TECH_P = (0.35, 0.45, 0.20)  # 2, 3 or 4 techniques

REGION_MUSCLES = {
    "neck": [
        "upper_trapezius",
        "levator_scapulae",
        "sternocleidomastoid",
        "scalenes",
        "suboccipitals",
        "splenius_capitis",
    ],
    "head": ["upper_trapezius", "suboccipitals", "sternocleidomastoid", "temporalis", "masseter", "splenius_capitis"],
    "shoulder": [
        "infraspinatus",
        "supraspinatus",
        "teres_minor",
        "subscapularis",
        "deltoid",
        "pectoralis_minor",
        "upper_trapezius",
    ],
    "upper_back": [
        "rhomboids",
        "upper_trapezius",
        "levator_scapulae",
        "erector_spinae",
        "infraspinatus",
        "pectoralis_minor",
    ],
    "low_back": ["quadratus_lumborum", "erector_spinae", "multifidus", "gluteus_medius", "iliopsoas", "piriformis"],
    "hip": ["gluteus_medius", "gluteus_minimus", "piriformis", "quadratus_lumborum", "iliopsoas", "hamstrings"],
    "forearm_wrist": ["wrist_extensors", "wrist_flexors", "scalenes", "subscapularis", "pectoralis_minor"],
}
# Where each muscle's trigger points refer pain (Travell & Simons patterns, coarse regions).
REFERRAL = {
    "upper_trapezius": "head",
    "levator_scapulae": "neck",
    "sternocleidomastoid": "head",
    "scalenes": "arm",
    "suboccipitals": "head",
    "splenius_capitis": "head",
    "temporalis": "head",
    "masseter": "head",
    "rhomboids": "upper_back",
    "infraspinatus": "shoulder",
    "supraspinatus": "arm",
    "teres_minor": "shoulder",
    "subscapularis": "shoulder",
    "pectoralis_minor": "chest",
    "pectoralis_major": "chest",
    "deltoid": "shoulder",
    "wrist_extensors": "forearm_wrist",
    "wrist_flexors": "forearm_wrist",
    "quadratus_lumborum": "hip",
    "erector_spinae": "low_back",
    "multifidus": "low_back",
    "gluteus_medius": "low_back",
    "gluteus_minimus": "thigh",
    "piriformis": "hip",
    "iliopsoas": "low_back",
    "hamstrings": "thigh",
    "gastrocnemius": "lower_leg_foot",
    "soleus": "lower_leg_foot",
    "tibialis_anterior": "lower_leg_foot",
}
SECONDARY_REGIONS = {
    "neck": ["head", "shoulder", "upper_back"],
    "head": ["neck"],
    "low_back": ["hip", "thigh"],
    "shoulder": ["neck", "arm", "upper_back"],
    "forearm_wrist": ["arm", "neck"],
    "hip": ["low_back", "thigh"],
    "upper_back": ["neck", "shoulder"],
}

# ROM per complaint region: (joint, movement, side rule) with side rule
# "none", "both" (left and right rows) or "client" (the client's affected side).
ROM_PLAN = {
    "neck": [
        ("cervical", "rotation", "both"),
        ("cervical", "lateral_flexion", "both"),
        ("cervical", "flexion", "none"),
    ],
    "head": [
        ("cervical", "rotation", "both"),
        ("cervical", "lateral_flexion", "both"),
        ("cervical", "flexion", "none"),
    ],
    "low_back": [("lumbar", "flexion", "none"), ("lumbar", "extension", "none")],
    "shoulder": [
        ("shoulder", "flexion", "client"),
        ("shoulder", "abduction", "client"),
        ("shoulder", "external_rotation", "client"),
    ],
    "forearm_wrist": [("wrist", "extension", "client"), ("wrist", "flexion", "client")],
    "hip": [("hip", "flexion", "client"), ("hip", "internal_rotation", "client")],
    "upper_back": [("cervical", "rotation", "both"), ("shoulder", "flexion", "client")],
}
ROM_INSTRUMENTS = {
    "neck": ["crom", "inclinometer", "goniometer"],
    "head": ["crom", "inclinometer", "goniometer"],
    "low_back": ["inclinometer", "inclinometer", "goniometer"],
    "shoulder": ["goniometer", "goniometer", "inclinometer"],
    "forearm_wrist": ["goniometer"],
    "hip": ["goniometer", "goniometer", "inclinometer"],
    "upper_back": ["goniometer", "inclinometer"],
}
ROM_INSTRUMENT_NAMES = ("goniometer", "inclinometer", "crom")
ROM_NOISE_SD = np.array([4.0, 3.5, 3.0])  # measurement noise (degrees) per instrument, in that order
ROM_PAIN_DEFICIT = 0.30  # share of the normal range lost at pain 10

QUESTIONNAIRE = {
    "neck": "NDI",
    "head": "NDI",
    "upper_back": "NDI",
    "low_back": "ODI",
    "hip": "ODI",
    "shoulder": "QuickDASH",
    "forearm_wrist": "QuickDASH",
}
# instrument -> (n items, item min, item max, mean item at pain 0, mean item per point of pain)
QUESTIONNAIRE_ITEMS = {
    "NDI": (10, 0, 5, 0.15, 0.33),
    "ODI": (10, 0, 5, 0.1, 0.38),
    "QuickDASH": (11, 1, 5, 1.1, 0.3),
    "PSFS": (3, 0, 10, 9.6, -0.85),
}

FEMALE_NAMES = [
    "Aaliyah",
    "Ada",
    "Agnes",
    "Aiko",
    "Aisha",
    "Alba",
    "Amara",
    "Aoife",
    "Astrid",
    "Beatriz",
    "Bianca",
    "Camila",
    "Cecilia",
    "Chiara",
    "Clara",
    "Constance",
    "Dalia",
    "Delphine",
    "Edith",
    "Elif",
    "Elodie",
    "Esther",
    "Fatima",
    "Fiona",
    "Francesca",
    "Greta",
    "Gwen",
    "Hannah",
    "Helga",
    "Imogen",
    "Ines",
    "Ingrid",
    "Ivana",
    "Julia",
    "Kamala",
    "Keiko",
    "Layla",
    "Leila",
    "Lena",
    "Lucia",
    "Maeve",
    "Margot",
    "Mei",
    "Mira",
    "Moana",
    "Nadia",
    "Naomi",
    "Niamh",
    "Nina",
    "Odette",
    "Olga",
    "Petra",
    "Pilar",
    "Priya",
    "Rania",
    "Renata",
    "Rosa",
    "Ruth",
    "Sakura",
    "Salma",
    "Selma",
    "Shira",
    "Simone",
    "Sofia",
    "Sunita",
    "Thandiwe",
    "Thea",
    "Ulla",
    "Valentina",
    "Vera",
    "Wanjiru",
    "Wilhelmina",
    "Yara",
    "Zainab",
    "Zoë",
]
MALE_NAMES = [
    "Abdul",
    "Adrian",
    "Alejandro",
    "Amir",
    "Anders",
    "Arjun",
    "Benedikt",
    "Bernard",
    "Bongani",
    "Bruno",
    "Carlos",
    "Chidi",
    "Colm",
    "Daniel",
    "Darius",
    "Declan",
    "Dmitri",
    "Eamon",
    "Emeka",
    "Emil",
    "Felix",
    "Florian",
    "Gabriel",
    "Hamid",
    "Haruto",
    "Horatio",
    "Hugo",
    "Ibrahim",
    "Isaac",
    "Jamal",
    "Jasper",
    "Javier",
    "Jonas",
    "José",
    "Kai",
    "Kenji",
    "Kwame",
    "Lars",
    "Leandro",
    "Liam",
    "Lorenzo",
    "Luis",
    "Magnus",
    "Malik",
    "Mateo",
    "Miguel",
    "Nikolai",
    "Nils",
    "Noah",
    "Oliver",
    "Omar",
    "Oskar",
    "Paolo",
    "Patrice",
    "Quentin",
    "Rafael",
    "Rashid",
    "Rhys",
    "Rohan",
    "Santiago",
    "Sergei",
    "Søren",
    "Stellan",
    "Tariq",
    "Teodor",
    "Tobias",
    "Tomasz",
    "Ugo",
    "Vikram",
    "Wei",
    "Xavier",
    "Yusuf",
]
FIRST_NAMES = FEMALE_NAMES + MALE_NAMES
LAST_INITIALS = list("ABCDEFGHIJKLMNOPRSTVWY")
THERAPIST_SURNAMES = [
    "Abbott",
    "Banerjee",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Gallagher",
    "Horvath",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quinlan",
    "Rossi",
    "Sandoval",
    "Takahashi",
    "Umarov",
    "Varga",
    "Whitfield",
    "Yilmaz",
    "Zimmermann",
    "Achebe",
    "Brennan",
    "Costa",
    "Delgado",
    "Ferreira",
]
SOLO_THERAPIST = "Sam"

CLIENT_NOTES = [
    "Desk job, sits 8h/day",
    "Runner, training for a half marathon",
    "Prefers lighter pressure",
    "Works night shifts",
    "Previous whiplash (2019)",
    "Referred by physio",
    "Rock climber",
    "Sensitive to deep pressure; check in often",
    'Describes pain as "a hot knife"',
    "New parent, sleeping badly",
    "Plays guitar daily",
    "Office worker; standing desk since spring",
]
FEEDBACK_BETTER = [
    "Felt great",
    "Much looser",
    "Headache gone by the end",
    "Could turn head much further",
    "Lighter, easier to move",
    'Said "best I have felt in weeks"',
]
FEEDBACK_SAME = ["A bit sore but ok", "Not much change", "Relaxing, pain about the same", "Tender afterwards"]
FEEDBACK_WORSE = ["Sore after, lighter next time", "Flared up a little", "Too deep today, back off pressure"]
HOMECARE = {
    "neck": [
        "Chin tucks 2x/day",
        "Upper trap stretch, 30 s x 3",
        "Heat 15 min, then stretch",
        "Screen at eye level; breaks every 30 min",
    ],
    "head": ["Chin tucks 2x/day", "Jaw relaxation; tongue on palate", "Box breathing 5 min before bed"],
    "low_back": ["Cat-cow 10x morning", "QL stretch; walk daily", "Knee-to-chest, 30 s x 3", "Heat 15 min"],
    "shoulder": ["Doorway pec stretch", "Pendulum swings, 1 min", "Band external rotation, 2 x 12"],
    "forearm_wrist": ["Wrist extensor stretch, hourly", "Nerve glides, 10x", "Ice 10 min after climbing"],
    "hip": ["Figure-4 stretch, 30 s each side", "Clamshells, 2 x 15", "Foam roll glutes, 2 min"],
    "upper_back": ["Thoracic extension over towel roll", "Doorway pec stretch", "Rows with band, 2 x 12"],
}
VISIT_NOTES = [
    "Running late, shortened session",
    "Discussed sleep position",
    "Reported headache after last session; lighter today",
    "Talked about workstation set-up",
    "Client asked for more stretching",
    "Bruise on left shin, avoided area",
]
# "Next time" plans; picked by visit number, not drawn, so the other columns stay as they were.
VISIT_PLANS = [
    "Check SCM and scalenes",
    "Same again; add pec minor release",
    "Try positional release on QL",
    "Reassess neck rotation; more stretching",
    "Lighter pressure; client was sore after last time",
    "Review home care; progress to band work",
]
SELF_REPORT_NOTES = [
    "Slept badly",
    "Long drive today",
    "Gardening all weekend, sore",
    "Feeling good!",
    "Headache in the evening",
    "Stress at work; tight shoulders",
    "Did the stretches, helped",
    "Rainy day, stiff",
]

PAIN_REPORT_NOISE = 0.35  # SD of the noise between latent pain and a reported pain_pre
DRIFT_DAYS = 21.0  # time constant of the drift back toward the chronic level
RELIEF_FADE_DAYS = 4.0  # how fast the immediate relief fades in the between-visit self-reports


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def generate(
    out_dir,
    n_clients: int = 40,
    seed: int = 7,
    months: int | None = None,
    end_date: dt.date = dt.date(2026, 11, 20),
    effects: str | dict = "default",
    alias_rate: float | None = None,
) -> dict:
    """Write a synthetic practice in the contract's CSV format; return ``{kind: row_count}``.

    ``months`` is the length of the practice's history ending on ``end_date``; ``None``
    means 12 months for a practice of up to 200 clients (a solo practice, ~12 visits per
    client) and 36 months beyond (clinic/network, ~25 visits per client).  ``effects`` is
    "default", "none" (null world) or an override dict (see :func:`planted_effects`).
    ``alias_rate`` is the share of technique, region and muscle spellings written as a
    known alias; ``None`` means 0.15 for up to 200 clients, else 0.
    """
    n = int(n_clients)
    if n < 1:
        raise ValueError("n_clients must be at least 1")
    if isinstance(end_date, str):
        end_date = dt.date.fromisoformat(end_date)
    if months is None:
        months = 12 if n <= 200 else 48
    if alias_rate is None:
        alias_rate = 0.15 if n <= 200 else 0.0
    if not 0.0 <= alias_rate <= 1.0:
        raise ValueError("alias_rate must be within 0-1")
    params = planted_effects(effects)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    start_date = max(_minus_months(end_date, int(months)), dt.date(1900, 1, 1))
    ss = np.random.SeedSequence(int(seed))
    streams = ["clients", "visits", "strings", "rom", "tp", "self", "om", "alias", "therapist"]
    rngs = dict(zip(streams, (np.random.default_rng(s) for s in ss.spawn(len(streams)))))
    ctx = _Context(
        n=n,
        start=_day(start_date),
        end=_day(end_date),
        params=params,
        alias_rate=float(alias_rate),
        rng_alias=rngs["alias"],
    )

    clients = _simulate_clients(ctx, rngs["clients"])
    visits = _simulate_visits(ctx, clients, rngs["visits"])
    _finish_clients(ctx, clients, visits, rngs["therapist"])

    # one kind at a time, written and dropped, to keep peak memory down at network scale
    summary = {}
    trigger_points, focus_muscles = _trigger_points_table(ctx, clients, visits, rngs["tp"])
    builders = {
        "clients": lambda: _clients_table(ctx, clients, rngs["strings"]),
        "visits": lambda: _visits_table(ctx, clients, visits, focus_muscles, rngs["strings"]),  # noqa: F821 (freed below)
        "rom": lambda: _rom_table(ctx, clients, visits, rngs["rom"]),
        "self_reports": lambda: _self_reports_table(ctx, clients, visits, rngs["self"]),
        "trigger_points": lambda: trigger_points,  # noqa: F821 (deleted after the loop, to free memory)
        "outcome_measures": lambda: _outcomes_table(ctx, clients, visits, rngs["om"]),
    }
    for kind in KINDS:
        table = builders[kind]()
        _write_csv(table, out / f"{kind}.csv", kind)
        summary[kind] = table.num_rows
        del table
    del trigger_points, focus_muscles
    truth = _truth(ctx, seed, end_date, start_date, summary)
    (out / "truth.json").write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return summary


# ---------------------------------------------------------------------------
# Simulation
# ---------------------------------------------------------------------------


class _Context:
    def __init__(self, n, start, end, params, alias_rate, rng_alias):
        self.n, self.start, self.end, self.params = n, start, end, params
        self.alias_rate, self.rng_alias = alias_rate, rng_alias
        self.solo = n <= 200
        self.n_therapists = 1 if self.solo else int(math.ceil(n / 150))
        eff = params["technique_effects"]
        self.beta = np.array([eff[t] for t in TECHS])
        a, b = params["synergy"]["techniques"]
        self.syn_a, self.syn_b = TECHS.index(a), TECHS.index(b)
        self.syn = float(params["synergy"]["effect"])


def _day(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


def _minus_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.year * 12 + d.month - 1 - months, 12)
    if y < 1900:
        return dt.date(1900, 1, 1)
    m += 1
    for day in (d.day, 30, 29, 28):
        try:
            return dt.date(y, m, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _round_half(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(np.asarray(x) * 2.0) / 2.0, 0.0, 10.0)


def _simulate_clients(ctx: _Context, rng: np.random.Generator) -> dict:
    n = ctx.n
    c: dict[str, np.ndarray] = {}
    shares = np.array(list(REGION_SHARES.values()))
    c["region"] = rng.choice(len(CLIENT_REGIONS), size=n, p=shares / shares.sum())
    c["side"] = np.where(rng.random(n) < 0.62, 1, 0)  # 0 left, 1 right (right-handed bias)
    c["mu"] = np.clip(rng.normal(5.6, 1.1, n), 3.0, 8.5)  # chronic level
    c["floor"] = 0.5 * c["mu"]
    c["peak"] = 0.8 + rng.gamma(2.0, 0.6, n)  # how far above the chronic level they book
    c["b"] = rng.normal(0.0, ctx.params["client_sd"], n)
    c["tol"] = rng.normal(0.0, 1.0, n)  # pressure tolerance
    c["cadence"] = np.exp(rng.normal(0.0, 0.3, n))
    # dropout: a third come for a short course, the rest stay in care for a long time
    short = rng.random(n) < (0.25 if ctx.solo else 0.35)
    long_mean = 60.0 if ctx.solo else 150.0
    c["planned"] = np.minimum(np.where(short, rng.geometric(1.0 / 6.0, n), rng.geometric(1.0 / long_mean, n)), 250)
    window = max(ctx.end - ctx.start, 1)
    # clients start throughout the history; a solo practice's roster leans to its early months
    u = rng.random(n) ** (1.6 if ctx.solo else 1.0)
    c["intake"] = ctx.start + np.minimum(np.floor(u * (window + 1)).astype(np.int64), window)
    c["therapist"] = rng.integers(0, ctx.n_therapists, n)
    c["usual_duration"] = rng.choice([45, 60, 60, 60, 75, 90], size=n)
    c["engagement"] = np.where(rng.random(n) < 0.25, 0.0, np.minimum(np.exp(rng.normal(0.85, 0.6, n)), 10.0))
    c["adherence"] = rng.beta(3.0, 2.0, n)
    c["rom_rate"] = np.clip(rng.beta(6.0, 4.0, n), 0.05, 1.0)  # ~60 % of visits measured
    instr = np.zeros(n, dtype=np.int64)
    for r, region in enumerate(CLIENT_REGIONS):
        idx = np.flatnonzero(c["region"] == r)
        opts = np.array([ROM_INSTRUMENT_NAMES.index(x) for x in ROM_INSTRUMENTS[region]])
        instr[idx] = opts[rng.integers(0, opts.size, idx.size)]
    c["rom_instrument"] = instr
    c["psfs"] = rng.random(n) < 0.3
    c["item_offset"] = rng.normal(0.0, 0.35, n)
    return c


def _technique_logits(region: np.ndarray, pain_pre: np.ndarray) -> np.ndarray:
    base = np.array([TECH_BASE[t] for t in TECHS])
    slope = np.array([TECH_SLOPE.get(t, 0.0) for t in TECHS])
    reg = np.array([[TECH_REGION[r].get(t, 0.0) for t in TECHS] for r in CLIENT_REGIONS])
    return base[None, :] + slope[None, :] * (pain_pre[:, None] - 5.0) + reg[region]


def _simulate_visits(ctx: _Context, c: dict, rng: np.random.Generator) -> dict:
    p = ctx.params
    n = ctx.n
    L = np.clip(c["mu"] + c["peak"], 0.0, 9.8)  # latent pain before the next visit
    m = c["mu"].copy()  # current chronic level
    day = c["intake"].copy()
    k = 0
    active = np.ones(n, dtype=bool)
    rows: dict[str, list] = {
        key: []
        for key in (
            "client",
            "k",
            "day",
            "pre",
            "post",
            "tech_rank",
            "n_tech",
            "pressure",
            "L",
            "L_post",
            "L_next",
            "next_day",
            "m",
        )
    }
    n_t = len(TECHS)
    bits = (1 << np.arange(n_t)).astype(np.int64)
    while True:
        idx = np.flatnonzero(active & (day <= ctx.end))
        if idx.size == 0:
            break
        size = idx.size
        Li, mi = L[idx], m[idx]
        pre = _round_half(Li + rng.normal(0.0, PAIN_REPORT_NOISE, size))
        # technique blend: Gumbel-top-k over weights that depend only on pain_pre and region
        keys = _technique_logits(c["region"][idx], pre) + rng.gumbel(size=(size, n_t))
        order = np.argsort(-keys, axis=1, kind="stable")
        n_tech = 2 + rng.choice(3, size=size, p=N_TECH_P)
        ranks = np.empty_like(order)
        np.put_along_axis(ranks, order, np.arange(n_t)[None, :].repeat(size, 0), axis=1)
        used = ranks < n_tech[:, None]
        T = used.astype(float)
        # pressure: tolerance, technique, pain
        col = TECHS.index
        lat = (
            3.0
            + 0.75 * c["tol"][idx]
            + 0.6 * T[:, col("deep_tissue")]
            + 0.35 * T[:, col("trigger_point")]
            + 0.3 * T[:, col("cross_fiber_friction")]
            - 0.7 * T[:, col("swedish")]
            - 0.8 * T[:, col("lymphatic_drainage")]
            - 0.3 * T[:, col("breathwork")]
            - 0.12 * (pre - 5.0)
            + rng.normal(0.0, 0.55, size)
        )
        pressure = np.clip(np.round(lat), 1, 5)
        # immediate change (the planted DGP; see truth.json)
        treat = (
            T @ ctx.beta
            + ctx.syn * T[:, ctx.syn_a] * T[:, ctx.syn_b]
            + pressure_response(pressure, p["pressure_c"], p["pressure_optimum"])
            + c["b"][idx]
        )
        delta = treat - p["rtm_coefficient"] * (pre - mi) + p["visit_trend"] * k + rng.normal(0.0, p["noise_sd"], size)
        post = _round_half(pre + delta)
        L_post = np.clip(Li + delta, 0.0, 10.0)
        # gap to the next visit: weekly early, then every 2-4 weeks; occasional long breaks
        base_gap = 7.0 + 11.0 * (1.0 - math.exp(-k / 6.0))
        gap = base_gap * c["cadence"][idx] * np.exp(rng.normal(0.0, 0.25, size))
        brk = rng.random(size) < 0.05
        gap = np.where(brk, gap * rng.uniform(2.5, 5.0, size), gap)
        gap = np.maximum(np.round(gap), 3).astype(np.int64)
        # between visits: chronic level moves with the treatment response, pain drifts back toward it
        s = np.clip((mi - c["floor"][idx]) / np.maximum(c["mu"][idx] - c["floor"][idx], 1e-9), 0.0, 1.5)
        m_next = np.clip(mi + p["lasting_fraction"] * treat * s, c["floor"][idx], 9.5)
        rho = np.exp(-gap / DRIFT_DAYS)
        L_next = m_next + rho * (Li - m_next) + p["carry_over"] * delta + rng.normal(0.0, 0.6, size)
        flare = rng.random(size) < 0.05
        L_next = L_next + flare * rng.uniform(1.0, 2.5, size)
        back_at_peak = gap > 35  # after a long break they book when it hurts again
        L_next = L_next + back_at_peak * rng.gamma(2.0, 0.6, size)
        L_next = np.clip(L_next, 0.2, 9.8)

        for key, val in (
            ("client", idx),
            ("k", np.full(size, k, dtype=np.int32)),
            ("day", day[idx]),
            ("pre", pre),
            ("post", post),
            ("pressure", pressure.astype(np.int8)),
            ("L", Li),
            ("L_post", L_post),
            ("L_next", L_next),
            ("next_day", day[idx] + gap),
            ("m", mi),
        ):
            rows[key].append(val)
        tech_rank = np.where(ranks < n_tech[:, None], ranks, n_t)  # rank within the blend, n_t = unused
        rows["tech_rank"].append(tech_rank.astype(np.int8))
        rows["n_tech"].append(n_tech.astype(np.int8))

        L[idx], m[idx], day[idx] = L_next, m_next, day[idx] + gap
        k += 1
        active[idx] = k < c["planned"][idx]
    v = {key: np.concatenate(val) if val else np.array([]) for key, val in rows.items()}
    # chronological order (then client) for ids and output
    order = np.lexsort((v["k"], v["client"], v["day"]))
    v = {key: val[order] for key, val in v.items()}
    v["n"] = order.size
    nvis = np.bincount(v["client"], minlength=n)
    # the last visit of each client: the one with k == visits - 1
    v["last"] = v["k"] == nvis[v["client"]] - 1
    v["truncated"] = c["planned"][v["client"]] > nvis[v["client"]]  # stopped by end_date, not dropout
    v["bits"] = ((v["tech_rank"] < n_t) * bits[None, :]).sum(axis=1)
    return v


def _finish_clients(ctx: _Context, c: dict, v: dict, rng: np.random.Generator) -> None:
    n = ctx.n
    # therapist per visit: the client's own, sometimes covered by a colleague
    ther = c["therapist"][v["client"]].copy()
    if ctx.n_therapists > 1:
        cover = rng.random(v["n"]) < 0.08
        ther = np.where(cover, rng.integers(0, ctx.n_therapists, v["n"]), ther)
    v["therapist"] = ther
    c["n_visits"] = np.bincount(v["client"], minlength=n)
    first = v["k"] == 0
    c["first_day"] = np.full(n, ctx.end, dtype=np.int64)
    c["first_day"][v["client"][first]] = v["day"][first]
    c["first_L"] = np.zeros(n)
    c["first_L"][v["client"][first]] = v["L"][first]
    c["last_day"] = np.full(n, ctx.end, dtype=np.int64)
    c["last_day"][v["client"][v["last"]]] = v["day"][v["last"]]
    c["last_L"] = np.zeros(n)
    c["last_L"][v["client"][v["last"]]] = v["L_post"][v["last"]]
    # every client has at least its intake visit (intake <= end_date)
    assert (c["n_visits"] >= 1).all()


# ---------------------------------------------------------------------------
# String helpers (pyarrow kernels, no per-row Python)
# ---------------------------------------------------------------------------


def _strings(values) -> pa.Array:
    return pa.array(list(values), pa.string())


def _take(values, codes: np.ndarray, null_mask: np.ndarray | None = None) -> pa.Array:
    arr = _strings(values).take(pa.array(np.asarray(codes, dtype=np.int64)))
    if null_mask is not None and null_mask.any():
        arr = pc.if_else(pa.array(null_mask), pa.scalar(None, pa.string()), arr)
    return arr


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    s = pc.utf8_lpad(pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, s, "")


def _int_col(values: np.ndarray, null_mask: np.ndarray | None = None, typ=pa.int64()) -> pa.Array:
    return pa.array(np.asarray(values), typ, mask=null_mask)


def _float_col(values: np.ndarray, null_mask: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(values, dtype=float), pa.float64(), mask=null_mask)


def _date_col(days: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(days, dtype=np.int32), pa.date32())


_ACRONYMS = {
    "trp",
    "tpt",
    "nmt",
    "mfr",
    "dtm",
    "pnf",
    "met",
    "prt",
    "cff",
    "iastm",
    "mld",
    "scm",
    "ql",
    "tmj",
    "lbp",
    "ecrb",
    "ecrl",
    "fcr",
    "si joint",
}


def _spellings(vocab, canonical: str) -> list[str]:
    """Alias spellings of ``canonical`` that the vocabulary resolves back to it."""
    out: list[str] = []
    for alias in vocab.entries[canonical]:
        if alias in _ACRONYMS:
            forms = {"trp": ("TRP", "TrP"), "si joint": ("SI joint",)}.get(alias, (alias.upper(),))
        else:
            forms = (alias, alias[:1].upper() + alias[1:], alias.title())
        for form in forms:
            if ";" in form or "," in form or form in out or normalise(form) == normalise(canonical):
                continue
            if vocab.resolve(form).canonical == canonical:
                out.append(form)
    return out


class _Speller:
    """Writes canonical names, or with probability ``rate`` one of their known aliases."""

    def __init__(self, vocab, names, rate: float, rng: np.random.Generator):
        self.names = list(names)
        table: list[str] = []
        self.start = np.zeros(len(self.names), dtype=np.int64)
        self.n_alias = np.zeros(len(self.names), dtype=np.int64)
        for i, name in enumerate(self.names):
            self.start[i] = len(table)
            aliases = _spellings(vocab, name)
            table.append(name)
            table.extend(aliases)
            self.n_alias[i] = len(aliases)
        self.table = _strings(table)
        self.rate, self.rng = rate, rng

    def spell(self, codes: np.ndarray, null_mask: np.ndarray | None = None) -> pa.Array:
        codes = np.asarray(codes, dtype=np.int64)
        u = self.rng.random(codes.size)
        pick = self.rng.random(codes.size)
        alias = (u < self.rate) & (self.n_alias[codes] > 0)
        offset = np.where(alias, 1 + np.floor(pick * self.n_alias[codes]).astype(np.int64), 0)
        arr = self.table.take(pa.array(self.start[codes] + offset))
        if null_mask is not None and null_mask.any():
            arr = pc.if_else(pa.array(null_mask), pa.scalar(None, pa.string()), arr)
        return arr


def _joined(values: pa.Array, counts: np.ndarray, null_mask: np.ndarray | None = None) -> pa.Array:
    """';'-join consecutive runs of ``values`` of lengths ``counts`` (one string per run)."""
    offsets = np.zeros(counts.size + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    lists = pa.ListArray.from_arrays(pa.array(offsets), values)
    out = pc.binary_join(lists, ";")
    if null_mask is not None and null_mask.any():
        out = pc.if_else(pa.array(null_mask), pa.scalar(None, pa.string()), out)
    return out


def _client_ids(ctx: _Context) -> pa.Array:
    return _ids("C", np.arange(1, ctx.n + 1), max(4, len(str(ctx.n))))


def _suffix_free(names: list[str]) -> list[str]:
    """Drop names that end another name ("Ann" / "Joann"), so no display name is inside another."""
    low = [x.lower() for x in names]
    keep = []
    for i, x in enumerate(low):
        if any(j != i and y.endswith(x) for j, y in enumerate(low)):
            continue
        keep.append(names[i])
    return sorted(set(keep), key=keep.index)


def display_names(n: int, rng: np.random.Generator, sex: np.ndarray | None = None) -> list[str]:
    """n unique display names "First L." (first name matching ``sex``: 0 female, 1 male, else any).

    No name is contained in another (first names that end another are dropped), so a
    client's name can never turn up inside someone else's report.  With more clients than
    combinations, every name gets a fixed-width number ("Ada K. 004217").
    """
    firsts = set(_suffix_free(FIRST_NAMES))
    pools = [[f for f in FEMALE_NAMES if f in firsts], [f for f in MALE_NAMES if f in firsts]]
    pools.append(pools[0] + pools[1])
    sex = np.full(n, 2) if sex is None else np.where(np.isin(sex, (0, 1)), sex, 2)
    combos = [[f"{f} {i}." for f in pool for i in LAST_INITIALS] for pool in pools]
    names = np.empty(n, dtype=object)
    fits = all((sex == g).sum() + (g < 2) * (sex == 2).sum() <= len(combos[g]) for g in (0, 1))
    if fits and n <= len(combos[2]):
        used: set[str] = set()
        for g in (0, 1, 2):
            idx = np.flatnonzero(sex == g)
            free = [x for x in combos[g] if x not in used]
            pick = rng.permutation(len(free))[: idx.size]
            chosen = [free[i] for i in pick]
            names[idx] = chosen
            used.update(chosen)
        return list(names)
    width = len(str(n))
    for g in (0, 1, 2):
        idx = np.flatnonzero(sex == g)
        pick = rng.integers(0, len(combos[g]), idx.size)
        names[idx] = [f"{combos[g][j]} {i + 1:0{width}d}" for i, j in zip(idx, pick)]
    return list(names)


def therapist_names(ctx: _Context) -> list[str]:
    if ctx.n_therapists == 1:
        return [SOLO_THERAPIST]
    firsts = _suffix_free(FIRST_NAMES)
    names = []
    i = 0
    while len(names) < ctx.n_therapists:
        f = firsts[(i * 7) % len(firsts)]
        s = THERAPIST_SURNAMES[(i // len(firsts) + i) % len(THERAPIST_SURNAMES)]
        name = f"{f} {s}"
        if i >= len(firsts) * len(THERAPIST_SURNAMES):
            name = f"{name} {i}"
        if name not in names:
            names.append(name)
        i += 1
    return names


# ---------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------


def _clients_table(ctx: _Context, c: dict, rng: np.random.Generator) -> pa.Table:
    n = ctx.n
    end_year = dt.date.fromordinal(dt.date(1970, 1, 1).toordinal() + ctx.end).year
    age = np.clip(np.round(rng.normal(45, 14, n)), 18, 85).astype(np.int64)
    birth_year = np.maximum(end_year - age, 1900)
    sex = rng.choice(4, size=n, p=[0.62, 0.36, 0.01, 0.01])
    complaint_pick = rng.random(n)
    texts: list[str] = []
    codes = np.zeros(n, dtype=np.int64)
    for r, region in enumerate(CLIENT_REGIONS):
        idx = np.flatnonzero(c["region"] == r)
        options = COMPLAINTS[region]
        codes[idx] = len(texts) + np.floor(complaint_pick[idx] * len(options)).astype(np.int64)
        texts.extend(options)
    # status from the visit history
    recent = c["last_day"] >= ctx.end - 60
    poor = (c["first_L"] - c["last_L"]) < 1.0
    u = rng.random(n)
    status = np.where(recent, 0, np.where(u < np.where(poor, 0.5, 0.03), 2, 1))
    note_mask = rng.random(n) >= 0.15
    notes = np.floor(rng.random(n) * len(CLIENT_NOTES)).astype(np.int64)
    # tolerance shows up in the notes sometimes, as a therapist would write it
    notes = np.where(c["tol"] < -1.3, CLIENT_NOTES.index("Prefers lighter pressure"), notes)
    regions = _Speller(REGIONS, CLIENT_REGIONS, ctx.alias_rate, ctx.rng_alias)
    return pa.table(
        {
            "client_id": _client_ids(ctx),
            "display_name": _strings(display_names(n, rng, sex)),
            "birth_year": _int_col(birth_year),
            "sex": _take(["female", "male", "other", "unknown"], sex),
            "primary_complaint": _take(texts, codes),
            "complaint_region": regions.spell(c["region"]),
            "intake_date": _date_col(c["first_day"]),
            "status": _take(["active", "discharged", "referred_out"], status),
            "notes": _take(CLIENT_NOTES, notes, note_mask & (c["tol"] >= -1.3)),
        }
    )


def _visit_ids(ctx: _Context, v: dict) -> pa.Array:
    return _ids("V", np.arange(1, v["n"] + 1), max(5, len(str(v["n"]))))


def _visits_table(ctx: _Context, c: dict, v: dict, tp_muscles: pa.Array, rng: np.random.Generator) -> pa.Table:
    nv = v["n"]
    n_t = len(TECHS)
    cl = v["client"]
    # techniques in blend order (rank 0 first)
    ranks = v["tech_rank"].astype(np.int64)
    order = np.argsort(ranks, axis=1, kind="stable")
    counts = (ranks < n_t).sum(axis=1)
    flat_codes = order[np.arange(n_t)[None, :] < counts[:, None]]  # row-major: each visit's techniques in order
    techs = _Speller(TECHNIQUES, TECHS, ctx.alias_rate, ctx.rng_alias).spell(flat_codes)
    no_tech = rng.random(nv) < 0.01
    techniques = _joined(techs, counts, no_tech)
    duration = np.where(rng.random(nv) < 0.8, c["usual_duration"][cl], rng.choice([30, 45, 60, 75, 90], size=nv))
    duration = np.where((v["k"] == 0) & (rng.random(nv) < 0.6), np.maximum(duration, 75), duration)
    # pain region: the complaint, sometimes a neighbouring region
    region_names = list(REGIONS.canonical_names)
    preg = np.array([region_names.index(r) for r in CLIENT_REGIONS])[c["region"][cl]]
    other = rng.random(nv) < 0.12
    sec_pick = rng.random(nv)
    for r, region in enumerate(CLIENT_REGIONS):
        idx = np.flatnonzero(other & (c["region"][cl] == r))
        opts = np.array([region_names.index(x) for x in SECONDARY_REGIONS[region]])
        preg[idx] = opts[np.floor(sec_pick[idx] * opts.size).astype(np.int64)]
    pain_region = _Speller(REGIONS, region_names, ctx.alias_rate, ctx.rng_alias).spell(preg, rng.random(nv) < 0.03)
    # feedback follows the change
    change = v["post"] - v["pre"]
    fb_pick = rng.random(nv)
    fb_texts = FEEDBACK_BETTER + FEEDBACK_SAME + FEEDBACK_WORSE
    nb, ns, nw = len(FEEDBACK_BETTER), len(FEEDBACK_SAME), len(FEEDBACK_WORSE)
    fb = np.where(
        change <= -2,
        np.floor(fb_pick * nb),
        np.where(change < 0.5, nb + np.floor(fb_pick * ns), nb + ns + np.floor(fb_pick * nw)),
    ).astype(np.int64)
    feedback = _take(fb_texts, fb, rng.random(nv) >= 0.25)
    hc_texts: list[str] = []
    hc_codes = np.zeros(nv, dtype=np.int64)
    hc_pick = rng.random(nv)
    for r, region in enumerate(CLIENT_REGIONS):
        idx = np.flatnonzero(c["region"][cl] == r)
        hc_codes[idx] = len(hc_texts) + np.floor(hc_pick[idx] * len(HOMECARE[region])).astype(np.int64)
        hc_texts.extend(HOMECARE[region])
    homecare = _take(hc_texts, hc_codes, rng.random(nv) >= 0.3)
    notes = _take(VISIT_NOTES, np.floor(rng.random(nv) * len(VISIT_NOTES)), rng.random(nv) >= 0.04)
    order = np.arange(nv)
    plan = _take(VISIT_PLANS, order % len(VISIT_PLANS), order % 3 == 2)  # a plan at two visits in three
    pre_missing = rng.random(nv) < 0.02
    post_missing = rng.random(nv) < 0.05
    pressure_missing = rng.random(nv) < 0.03
    return pa.table(
        {
            "visit_id": _visit_ids(ctx, v),
            "client_id": _client_ids(ctx).take(pa.array(cl)),
            "visit_date": _date_col(v["day"]),
            "therapist": _take(therapist_names(ctx), v["therapist"]),
            "duration_min": _int_col(duration),
            "pressure": _int_col(v["pressure"].astype(np.int64), pressure_missing),
            "pain_pre": _float_col(v["pre"], pre_missing),
            "pain_post": _float_col(v["post"], post_missing),
            "pain_region": pain_region,
            "techniques": techniques,
            "focus_muscles": tp_muscles,
            "client_feedback": feedback,
            "homecare": homecare,
            "notes": notes,
            "plan": plan,
        }
    )


def _rom_table(ctx: _Context, c: dict, v: dict, rng: np.random.Generator) -> pa.Table:
    nv = v["n"]
    cl = v["client"]
    measured = rng.random(nv) < c["rom_rate"][cl]
    post_too = rng.random(nv) < 0.9
    # per-client, per-movement baseline restriction (share of the normal range)
    client_restr = rng.gamma(2.0, 0.03, (ctx.n, 6))
    pairs = sorted({(j, mv) for plan in ROM_PLAN.values() for j, mv, _ in plan})
    cols: dict[str, list] = {k: [] for k in ("visit", "pair", "side", "post", "deg")}
    for r, region in enumerate(CLIENT_REGIONS):
        vis = np.flatnonzero(measured & (c["region"][cl] == r))
        if vis.size == 0:
            continue
        vc = cl[vis]
        sd = ROM_NOISE_SD[c["rom_instrument"][vc]]
        for slot, (joint, movement, rule) in enumerate(ROM_PLAN[region]):
            normal = ROM_NORMS[(joint, movement)].normal
            restr = client_restr[vc, slot]
            if rule == "both":  # left and right; the client's affected side is more restricted
                side_rows = [(np.full(vis.size, s), np.where(c["side"][vc] == s, 1.25, 0.75)) for s in (0, 1)]
            elif rule == "client":
                side_rows = [(c["side"][vc], np.ones(vis.size))]
            else:
                side_rows = [(np.full(vis.size, 2), np.ones(vis.size))]
            for side, weight in side_rows:
                for is_post, pain in ((False, v["L"][vis]), (True, v["L_post"][vis])):
                    keep = post_too[vis] if is_post else np.ones(vis.size, dtype=bool)
                    deg = (
                        normal * (1.0 - restr - ROM_PAIN_DEFICIT * weight * pain / 10.0)
                        + rng.normal(0.0, 1.0, vis.size) * sd
                    )
                    cols["visit"].append(vis[keep])
                    cols["pair"].append(np.full(keep.sum(), pairs.index((joint, movement))))
                    cols["side"].append(side[keep])
                    cols["post"].append(np.full(keep.sum(), int(is_post)))
                    cols["deg"].append(np.maximum(np.round(deg[keep]), 0).astype(np.int64))
    if not cols["visit"]:
        return pa.table({name: pa.array([], pa.string()) for name in KINDS["rom"].columns})
    d = {k: np.concatenate(val) for k, val in cols.items()}
    order = np.lexsort((d["post"], d["side"], d["pair"], d["visit"]))
    d = {k: val[order] for k, val in d.items()}
    return pa.table(
        {
            "visit_id": _visit_ids(ctx, v).take(pa.array(d["visit"])),
            "joint": _take([j for j, _ in pairs], d["pair"]),
            "movement": _take([mv for _, mv in pairs], d["pair"]),
            "degrees": _int_col(d["deg"]),
            "side": _take(["left", "right", "none"], d["side"]),
            "timing": _take(["pre", "post"], d["post"]),
            "instrument": _take(ROM_INSTRUMENT_NAMES, c["rom_instrument"][cl[d["visit"]]]),
            "measured_by": _take(therapist_names(ctx), v["therapist"][d["visit"]]),
        }
    )


def _trigger_points_table(ctx: _Context, c: dict, v: dict, rng: np.random.Generator):
    nv = v["n"]
    cl = v["client"]
    muscle_names = list(MUSCLES.canonical_names)
    region_names = list(REGIONS.canonical_names)
    pain = v["L"]
    n_tp = 1 + rng.binomial(3, np.clip(pain / 12.0, 0.05, 0.8))
    vis_parts, mus_parts, rank_parts = [], [], []
    for r, region in enumerate(CLIENT_REGIONS):
        vis = np.flatnonzero(c["region"][cl] == r)
        if vis.size == 0:
            continue
        opts = np.array([muscle_names.index(x) for x in REGION_MUSCLES[region]])
        w = np.log(np.linspace(1.0, 0.35, opts.size))  # first listed muscles are the usual suspects
        keys = w[None, :] + rng.gumbel(size=(vis.size, opts.size))
        order = np.argsort(-keys, axis=1, kind="stable")
        take = np.arange(opts.size)[None, :] < np.minimum(n_tp[vis], opts.size)[:, None]
        vis_parts.append(np.broadcast_to(vis[:, None], order.shape)[take])
        mus_parts.append(opts[order][take])
        rank_parts.append(np.broadcast_to(np.arange(opts.size)[None, :], order.shape)[take])
    tv = np.concatenate(vis_parts)
    tm = np.concatenate(mus_parts)
    trk = np.concatenate(rank_parts)
    order = np.lexsort((trk, tv))
    tv, tm = tv[order], tm[order]
    nt = tv.size
    counts = np.bincount(tv, minlength=nv)
    tc = cl[tv]
    side = np.where(rng.random(nt) < 0.7, c["side"][tc], 1 - c["side"][tc])
    tender = np.clip(np.round(pain[tv] + 0.8 + rng.normal(0.0, 1.2, nt)), 0, 10).astype(np.int64)
    trp_used = (v["bits"][tv] >> TECHS.index("trigger_point")) & 1
    u = rng.random(nt)
    released = np.where(
        trp_used == 1, np.where(u < 0.55, 0, np.where(u < 0.9, 1, 2)), np.where(u < 0.2, 0, np.where(u < 0.6, 1, 2))
    )
    # -1 for the muscles no sample client gets (REGION_MUSCLES never picks them).
    referral = np.array([region_names.index(REFERRAL[m]) if m in REFERRAL else -1 for m in muscle_names])[tm]
    muscles_sp = _Speller(MUSCLES, muscle_names, ctx.alias_rate, ctx.rng_alias)
    table = pa.table(
        {
            "visit_id": _visit_ids(ctx, v).take(pa.array(tv)),
            "muscle": muscles_sp.spell(tm),
            "side": _take(["left", "right"], side),
            "referral_region": _Speller(REGIONS, region_names, ctx.alias_rate, ctx.rng_alias).spell(
                referral, rng.random(nt) < 0.05
            ),
            "tenderness": _int_col(tender, rng.random(nt) < 0.03),
            "released": _take(["yes", "partial", "no"], released, rng.random(nt) < 0.03),
        }
    )
    # the visit's focus_muscles: the muscles worked (the trigger points found), separately spelled
    focus = _joined(muscles_sp.spell(tm), counts, rng.random(nv) < 0.05)
    return table, focus


def _self_reports_table(ctx: _Context, c: dict, v: dict, rng: np.random.Generator) -> pa.Table:
    cl = v["client"]
    # window after each visit: until the next visit; after the last one, until end_date for clients
    # still in care, or a couple of weeks for those who dropped out
    next_day = np.where(v["last"] & ~v["truncated"], v["day"] + np.minimum(v["next_day"] - v["day"], 14), v["next_day"])
    next_day = np.minimum(next_day, ctx.end + 1)
    span = np.maximum(next_day - v["day"] - 1, 0)  # whole days strictly between the visit and the next
    lam = c["engagement"][cl] * span / 7.0
    counts = rng.poisson(lam)
    counts = np.where(span > 0, counts, 0)
    rep_visit = np.repeat(np.arange(v["n"]), counts)
    nr = rep_visit.size
    if nr == 0:
        return pa.table({name: pa.array([], pa.string()) for name in KINDS["self_reports"].columns})
    day_off = 1 + np.floor(rng.random(nr) * span[rep_visit]).astype(np.int64)
    secs = (7 * 3600 + np.floor(rng.random(nr) * 15 * 3600)).astype(np.int64)
    t = (v["day"][rep_visit] + day_off) * 86400 + secs
    rc = cl[rep_visit]
    order = np.lexsort((t, rc))
    rep_visit, t, rc, day_off = rep_visit[order], t[order], rc[order], day_off[order]
    # no two reports of a client at the same second
    while True:
        dup = np.flatnonzero((rc[1:] == rc[:-1]) & (t[1:] <= t[:-1])) + 1
        if dup.size == 0:
            break
        t[dup] = t[dup - 1] + 1
    elapsed = t / 86400.0 - v["day"][rep_visit]
    level = v["L_next"][rep_visit] + (v["L_post"][rep_visit] - v["L_next"][rep_visit]) * np.exp(
        -elapsed / RELIEF_FADE_DAYS
    )
    pain = np.clip(np.round(level + rng.normal(0.0, 0.7, nr)), 0, 10).astype(np.int64)
    did = np.where(rng.random(nr) < c["adherence"][rc], 0, 1)
    improvement = c["first_L"][rc] - level
    pgic = np.clip(np.round(4.0 - improvement / 1.2 + rng.normal(0.0, 0.6, nr)), 1, 7).astype(np.int64)
    region_names = list(REGIONS.canonical_names)
    creg = np.array([region_names.index(r) for r in CLIENT_REGIONS])[c["region"][rc]]
    return pa.table(
        {
            "client_id": _client_ids(ctx).take(pa.array(rc)),
            "reported_at": pc.strftime(pa.array(t, pa.timestamp("s")), format="%Y-%m-%dT%H:%M:%S"),
            "pain": _int_col(pain),
            "region": _Speller(REGIONS, region_names, ctx.alias_rate, ctx.rng_alias).spell(creg, rng.random(nr) < 0.02),
            "did_homecare": _take(["yes", "no"], did, rng.random(nr) < 0.1),
            "pgic": _int_col(pgic, rng.random(nr) >= 0.08),
            "note": _take(SELF_REPORT_NOTES, np.floor(rng.random(nr) * len(SELF_REPORT_NOTES)), rng.random(nr) >= 0.03),
        }
    )


def _outcomes_table(ctx: _Context, c: dict, v: dict, rng: np.random.Generator) -> pa.Table:
    cl = v["client"]
    k = v["k"]
    due = (k == 0) | ((k % 6 == 0) & (rng.random(v["n"]) < 0.85))
    parts = []
    for instrument in ("NDI", "ODI", "QuickDASH", "PSFS"):
        if instrument == "PSFS":
            sel = np.flatnonzero(due & c["psfs"][cl])
        else:
            regions = [i for i, r in enumerate(CLIENT_REGIONS) if QUESTIONNAIRE[r] == instrument]
            sel = np.flatnonzero(due & np.isin(c["region"][cl], regions))
        if sel.size == 0:
            continue
        n_items, lo, hi, at0, per_point = QUESTIONNAIRE_ITEMS[instrument]
        item_shift = rng.normal(0.0, 0.4, n_items)  # some items run higher than others
        scale = (hi - lo) / 5.0
        mean = at0 + per_point * v["L"][sel] + scale * c["item_offset"][cl[sel]] * np.sign(per_point)
        items = np.round(
            mean[:, None] + item_shift[None, :] * scale + rng.normal(0.0, 0.55 * scale, (sel.size, n_items))
        )
        items = np.clip(items, lo, hi)
        missing = np.zeros(items.shape, dtype=bool)
        one_missing = rng.random(sel.size) < 0.08
        missing[np.flatnonzero(one_missing), rng.integers(0, n_items, one_missing.sum())] = True
        parts.append((instrument, sel, items, missing))
    rows_visit = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
    rows_instr = (
        np.concatenate([np.full(p[1].size, i) for i, p in enumerate(parts)]) if parts else np.zeros(0, dtype=np.int64)
    )
    total = rows_visit.size
    item_vals = np.zeros((total, len(OUTCOME_ITEMS)), dtype=np.int64)
    item_null = np.ones((total, len(OUTCOME_ITEMS)), dtype=bool)
    pos = 0
    for _instrument, sel, items, missing in parts:
        item_vals[pos : pos + sel.size, : items.shape[1]] = items
        item_null[pos : pos + sel.size, : items.shape[1]] = missing
        pos += sel.size
    order = np.lexsort((rows_instr, rows_visit))
    instr_names = [p[0] for p in parts]
    cols = {
        "client_id": _client_ids(ctx).take(pa.array(cl[rows_visit[order]])),
        "taken_on": _date_col(v["day"][rows_visit[order]]),
        "instrument": _take(instr_names or ["NDI"], rows_instr[order]),
    }
    for j, name in enumerate(OUTCOME_ITEMS):
        cols[name] = _int_col(item_vals[order, j], item_null[order, j])
    cols["total_score"] = pa.nulls(total, pa.float64())
    return pa.table(cols)


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------

# ';'-separated lists are always quoted, so a reader guessing the delimiter cannot take ';'.
_FORCE_QUOTE = {"visits": ("techniques", "focus_muscles")}


def _write_csv(table: pa.Table, path: Path, kind: str) -> None:
    import duckdb

    columns = list(KINDS[kind].columns)
    table = table.select(columns)
    con = duckdb.connect(
        ":memory:", config={"threads": str(min(2, os.cpu_count() or 1)), "preserve_insertion_order": "true"}
    )
    try:
        con.register("t", table)
        tmp = path.with_suffix(".csv.tmp")
        quoted = _FORCE_QUOTE.get(kind)
        if not quoted:
            con.execute(f"COPY (SELECT * FROM t) TO {quote_literal(tmp)} (HEADER, DELIMITER ',')")
        else:
            # FORCE_QUOTE would quote those header names too: write the plain header ourselves
            body = path.with_suffix(".csv.body")
            con.execute(
                f"COPY (SELECT * FROM t) TO {quote_literal(body)} (HEADER false, DELIMITER ',', "
                f"FORCE_QUOTE ({', '.join(quoted)}))"
            )
            with open(tmp, "wb") as fh, open(body, "rb") as src:
                fh.write((",".join(columns) + "\n").encode("utf-8"))
                shutil.copyfileobj(src, fh, 16 << 20)
            body.unlink()
        os.replace(tmp, path)
    finally:
        con.close()


def _truth(ctx: _Context, seed: int, end_date: dt.date, start_date: dt.date, summary: dict) -> dict:
    p = ctx.params
    c, opt = p["pressure_c"], p["pressure_optimum"]
    h = {str(q): round(float(pressure_response(q, c, opt)), 6) for q in range(1, 6)}
    h_rel = {str(q): round(float(pressure_response(q, c, opt) - pressure_response(3, c, opt)), 6) for q in range(1, 6)}
    return {
        "generator": "pipelines.sample.practice.generate",
        "seed": int(seed),
        "n_clients": ctx.n,
        "start_date": start_date.isoformat(),
        "end_date": end_date.isoformat(),
        "alias_rate": ctx.alias_rate,
        "rows": summary,
        "outcome": "immediate change in pain = pain_post - pain_pre (0-10 scale; negative = relief)",
        "technique_effects": {t: float(p["technique_effects"][t]) for t in TECHS},
        "technique_effects_meaning": (
            "adjusted immediate change in pain_post - pain_pre when the technique is used vs not, holding "
            "pain_pre, visit number and pressure fixed (and the other techniques in the blend); points on "
            "0-10, negative = relief. Additive: a blend's effect is the sum of its techniques' effects plus "
            "the pair synergy when both of the pair are used."
        ),
        "synergy": {
            "techniques": list(p["synergy"]["techniques"]),
            "effect": float(p["synergy"]["effect"]),
            "meaning": "extra change when both techniques are used in the same visit (interaction term)",
        },
        "pressure_response": {
            "function": f"h(p) = -c * (1 - ((p - {opt:g}) / 2)^2)",
            "c": float(c),
            "optimum": float(opt),
            "values": h,
            "relative_to_pressure_3": h_rel,
            "meaning": "added to the immediate change; pressure 1 (light) to 5 (very deep)",
        },
        "carry_over": float(p["carry_over"]),
        "carry_over_meaning": (
            "fraction of a visit's immediate (latent) change still present in the latent pain "
            "before the next visit, on top of the drift back toward the chronic level"
        ),
        "approx_lasting_technique_effects": {
            t: round(float(p["technique_effects"][t]) * p["carry_over"], 6) for t in TECHS
        },
        "rtm_coefficient": float(p["rtm_coefficient"]),
        "rtm_meaning": (
            "the immediate change includes -rtm_coefficient * (pain_pre - m), m = the client's current "
            "chronic pain level (latent); clients book when pain peaks, so first visits start above m"
        ),
        "visit_trend": float(p["visit_trend"]),
        "visit_trend_meaning": "points added to the immediate change per visit number after the first (linear)",
        "lasting_fraction": float(p["lasting_fraction"]),
        "latent_process": {
            "pain_pre": f"latent pain + N(0, {PAIN_REPORT_NOISE}), rounded to half points, clipped 0-10",
            "first_visit": "latent pain = chronic level mu + peak, peak = 0.8 + Gamma(2, 0.6) (booked at a peak)",
            "next_visit": (
                f"L_next = m_next + rho * (L - m_next) + carry_over * change + N(0, 0.6) "
                f"+ flare-up U(1, 2.5) with probability 0.05 + Gamma(2, 0.6) when the gap exceeds 35 "
                f"days; rho = exp(-gap_days / {DRIFT_DAYS:g}); clipped to 0.2-9.8"
            ),
            "chronic_level": (
                "m_next = clip(m + lasting_fraction * response * s, floor, 9.5), response = technique "
                "effects + synergy + h(pressure) + client effect, floor = 0.5 * mu, "
                "s = clip((m - floor) / (mu - floor), 0, 1.5)"
            ),
            "self_reports": (
                f"pain = round(L_next + (L + change - L_next) * exp(-days_since_visit / "
                f"{RELIEF_FADE_DAYS:g}) + N(0, 0.7)), clipped 0-10"
            ),
            "rom": (
                f"degrees = normal * (1 - client restriction - {ROM_PAIN_DEFICIT} * side weight * pain / 10) "
                "+ instrument noise (goniometer 4, inclinometer 3.5, CROM 3 degrees SD); pain = latent pain "
                "before (timing pre) or latent pain + change (timing post)"
            ),
        },
        "client_sd": float(p["client_sd"]),
        "noise_sd": float(p["noise_sd"]),
        "confounding": (
            "technique choice depends only on the observed pain_pre and the complaint region "
            "(trigger_point, deep_tissue, positional_release, cross_fiber_friction more likely when pain_pre "
            "is high; swedish, breathwork, movement_reeducation when low); pressure depends on the "
            "client's tolerance, the techniques used and pain_pre"
        ),
        "description": (
            "Immediate change (latent, before rounding) = sum of technique_effects for the techniques used "
            "+ synergy.effect if both synergy techniques are used + h(pressure) - rtm_coefficient * "
            "(pain_pre - m) + visit_trend * (visit_number - 1) + client effect ~ N(0, client_sd) + noise ~ "
            "N(0, noise_sd). pain_post = pain_pre + change, rounded to half points and clipped to 0-10. "
            "Between visits latent pain drifts back toward m with rho = exp(-gap_days / 21); carry_over of "
            "the change persists to the next visit; m moves by lasting_fraction * (technique effects + synergy "
            "+ h(pressure) + client effect), scaled down as m nears 50 % of the client's initial level. "
            "Recovery: a mixed model of (pain_post - pain_pre) on technique indicators + pain_pre + visit "
            "number + pressure (categorical) with a client random intercept should recover technique_effects "
            "up to a small bias from rounding and clipping at 0. Naive comparisons are confounded by "
            "indication and regression to the mean."
        ),
    }
