"""Plain words for the client's own view and report: body regions, techniques and movements as a client
would say them, pain and dates as they read them (no Streamlit, no data)."""

from __future__ import annotations

import math

import pandas as pd

REGION_WORDS = {
    "head": "head",
    "neck": "neck",
    "shoulder": "shoulder",
    "upper_back": "upper back",
    "low_back": "lower back",
    "hip": "hip",
    "arm": "arm",
    "forearm_wrist": "forearm and wrist",
    "chest": "chest",
    "thigh": "thigh",
    "knee": "knee",
    "lower_leg_foot": "lower leg and foot",
}

# (name a client recognises, what it is in one line)
TECHNIQUE_WORDS: dict[str, tuple[str, str]] = {
    "trigger_point": ("Trigger point therapy", "steady pressure on tight, tender knots until they ease"),
    "myofascial_release": ("Myofascial release", "slow, sustained stretching of the tissue around the muscles"),
    "swedish": ("Swedish massage", "long, gliding strokes that help muscles relax"),
    "deep_tissue": ("Deep tissue massage", "slow, firm pressure into the deeper layers of muscle"),
    "stretching": ("Stretching", "gentle, held stretches of tight muscles"),
    "pnf_stretching": (
        "Assisted stretching (PNF)",
        "you push gently against resistance, relax, then the stretch goes a little further",
    ),
    "muscle_energy": (
        "Muscle energy technique",
        "light muscle contractions against resistance to help a muscle let go",
    ),
    "positional_release": (
        "Positional release",
        "resting the body in a comfortable position so a tender spot can settle",
    ),
    "cross_fiber_friction": ("Cross-fibre friction", "small, firm strokes across a tendon or muscle"),
    "nerve_mobilization": ("Nerve gliding", "gentle movements that help nerves slide freely"),
    "movement_reeducation": ("Movement re-education", "practising easier ways to move and hold yourself"),
    "breathwork": ("Breathing exercises", "slow breathing that calms the body and relaxes muscles"),
    "instrument_assisted": ("Tool-assisted massage", "smooth tools glided over the skin to loosen tight tissue"),
    "cupping": ("Cupping", "cups that gently lift the skin and muscle"),
    "lymphatic_drainage": ("Lymphatic drainage", "very light, rhythmic strokes that help reduce swelling"),
    "thermal": ("Heat or cold", "warmth or cold to ease pain and relax muscles"),
}

JOINT_WORDS = {"cervical": "neck", "lumbar": "lower back", "thoracic": "upper back"}

MOVEMENT_WORDS: dict[tuple[str, str], str] = {
    ("cervical", "flexion"): "Bending your head forward",
    ("cervical", "extension"): "Tipping your head back",
    ("cervical", "lateral_flexion"): "Tilting your head to the side",
    ("cervical", "rotation"): "Turning your head",
    ("lumbar", "flexion"): "Bending forward",
    ("lumbar", "extension"): "Bending backward",
    ("lumbar", "lateral_flexion"): "Bending to the side",
    ("lumbar", "rotation"): "Twisting",
    ("shoulder", "flexion"): "Raising your arm forward",
    ("shoulder", "extension"): "Reaching your arm back",
    ("shoulder", "abduction"): "Raising your arm out to the side",
    ("shoulder", "internal_rotation"): "Turning your arm inward",
    ("shoulder", "external_rotation"): "Turning your arm outward",
    ("elbow", "flexion"): "Bending your elbow",
    ("elbow", "extension"): "Straightening your elbow",
    ("forearm", "pronation"): "Turning your palm down",
    ("forearm", "supination"): "Turning your palm up",
    ("wrist", "flexion"): "Bending your wrist down",
    ("wrist", "extension"): "Bending your wrist up",
    ("wrist", "radial_deviation"): "Tilting your wrist toward the thumb",
    ("wrist", "ulnar_deviation"): "Tilting your wrist toward the little finger",
    ("hip", "flexion"): "Lifting your knee toward your chest",
    ("hip", "extension"): "Moving your leg back",
    ("hip", "abduction"): "Moving your leg out to the side",
    ("hip", "adduction"): "Moving your leg across",
    ("hip", "external_rotation"): "Turning your leg outward",
    ("hip", "internal_rotation"): "Turning your leg inward",
    ("knee", "flexion"): "Bending your knee",
    ("knee", "extension"): "Straightening your knee",
    ("ankle", "dorsiflexion"): "Pulling your foot up",
    ("ankle", "plantarflexion"): "Pointing your foot down",
    ("ankle", "inversion"): "Turning the sole of your foot inward",
    ("ankle", "eversion"): "Turning the sole of your foot outward",
}


def region_words(region: str | None) -> str | None:
    if not region or (isinstance(region, float) and math.isnan(region)):
        return None
    return REGION_WORDS.get(region, str(region).replace("_", " "))


def technique_words(technique: str) -> tuple[str, str]:
    return TECHNIQUE_WORDS.get(technique, (str(technique).replace("_", " ").capitalize(), ""))


def movement_words(joint: str, movement: str, side: str | None = None) -> str:
    text = MOVEMENT_WORDS.get((joint, movement))
    if text is None:
        text = f"{JOINT_WORDS.get(joint, str(joint).replace('_', ' '))} {str(movement).replace('_', ' ')}".capitalize()
    if side in ("left", "right"):
        text += f" ({side})"
    return text


def fmt_pain(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{float(x) + 0.0:g}"  # + 0.0: a stored -0.0 reads "0", never "-0"


def fmt_date(d) -> str:
    if d is None or d is pd.NaT:
        return ""
    d = pd.Timestamp(d)
    return f"{d.day} {d.strftime('%b %Y')}"
