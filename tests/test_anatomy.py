"""The anatomy data file: every vocabulary muscle and region has a place on the body, and the
vocabulary built from it keeps every key and meaning stored before it existed."""

from __future__ import annotations

import json
import re
from importlib import resources

import pytest

from pipelines.ingest.anatomy import BODY_WIDTH, load_anatomy
from pipelines.ingest.vocab import COMPLAINT_REGIONS, MUSCLES, REGIONS, normalise

# The canonical keys of the literal lists this file replaced: data already stored uses them.
OLD_REGIONS = [
    "head",
    "neck",
    "shoulder",
    "upper_back",
    "low_back",
    "hip",
    "arm",
    "forearm_wrist",
    "chest",
    "thigh",
    "knee",
    "lower_leg_foot",
]
OLD_MUSCLES = [
    "upper_trapezius",
    "levator_scapulae",
    "sternocleidomastoid",
    "scalenes",
    "suboccipitals",
    "splenius_capitis",
    "temporalis",
    "masseter",
    "rhomboids",
    "infraspinatus",
    "supraspinatus",
    "teres_minor",
    "subscapularis",
    "pectoralis_minor",
    "pectoralis_major",
    "deltoid",
    "wrist_extensors",
    "wrist_flexors",
    "quadratus_lumborum",
    "erector_spinae",
    "multifidus",
    "gluteus_medius",
    "gluteus_minimus",
    "piriformis",
    "iliopsoas",
    "hamstrings",
    "gastrocnemius",
    "soleus",
    "tibialis_anterior",
]
# Spellings that meant a coarse region and now name a fine zone of it: same meaning, finer place.
MOVED_TO_FINE_ZONES = {
    "temple": "head",
    "temples": "head",
    "jaw": "head",
    "tmj": "head",
    "forehead": "head",
    "behind the eye": "head",
    "lateral elbow": "arm",
    "medial elbow": "arm",
}


def _outline_polygons(view: str) -> list[list[tuple[float, float]]]:
    """The body outline as polygons, one per sub-path (each Bézier segment replaced by its end point)."""
    path = json.loads(resources.files("dashboard.charts").joinpath("body_outlines.json").read_text())[view]
    polygons: list[list[tuple[float, float]]] = []
    for cmd, args in re.findall(r"([MLCZ])([^MLCZ]*)", path):
        nums = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", args)]
        if cmd == "M":
            polygons.append([])
        if cmd in "ML":
            polygons[-1] += list(zip(nums[0::2], nums[1::2]))
        elif cmd == "C":
            polygons[-1] += [(nums[i + 4], nums[i + 5]) for i in range(0, len(nums), 6)]
    return polygons


def _inside(x: float, y: float, polygons: list[list[tuple[float, float]]]) -> bool:
    """Inside the body's outer contour (the sub-path with the largest extent; the others are
    drawn details such as the face, the spine and the shoulder blades)."""
    outer = max(
        polygons,
        key=lambda p: (max(a for a, _ in p) - min(a for a, _ in p)) * (max(b for _, b in p) - min(b for _, b in p)),
    )
    inside = False
    for (x1, y1), (x2, y2) in zip(outer, outer[1:] + outer[:1]):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


@pytest.fixture(scope="module")
def outlines():
    return {view: _outline_polygons(view) for view in ("front", "back")}


def _on_body(place, outlines) -> bool:
    # Both sides: the outline is nearly but not exactly symmetric.
    return all(_inside(BODY_WIDTH / 2 + s * place.x, place.y, outlines[place.view]) for s in (-1, 1))


def test_every_vocabulary_muscle_has_a_place_on_the_body(outlines):
    anatomy = load_anatomy()
    assert set(MUSCLES.canonical_names) == set(anatomy.muscles)
    for key in MUSCLES.canonical_names:
        muscle = anatomy.muscles[key]
        assert muscle.places, key
        for place in muscle.places:
            assert _on_body(place, outlines), f"{key} at {place} is off the body outline"
        assert muscle.referral and set(muscle.referral) <= set(anatomy.regions), key
        assert "Trigger Point Manual" in muscle.source


def test_every_vocabulary_region_has_a_shape_on_the_body(outlines):
    anatomy = load_anatomy()
    assert set(REGIONS.canonical_names) == set(anatomy.regions)
    for key in REGIONS.canonical_names:
        region = anatomy.regions[key]
        assert region.shapes, key
        for shape in region.shapes:
            assert shape.rx > 0 and shape.ry > 0, key
            assert _on_body(shape, outlines), f"{key}'s centre {shape} is off the body outline"
        if region.parent:
            assert anatomy.regions[region.parent].parent is None, f"{key}: a parent must be a coarse region"


def test_old_keys_kept_and_old_spellings_keep_their_meaning():
    anatomy = load_anatomy()
    assert REGIONS.canonical_names[: len(OLD_REGIONS)] == OLD_REGIONS
    assert set(OLD_MUSCLES) <= set(MUSCLES.canonical_names)
    assert all(anatomy.regions[r].parent is None for r in OLD_REGIONS)
    for spelling, old in MOVED_TO_FINE_ZONES.items():
        fine = REGIONS.resolve(spelling).canonical
        assert fine != old and anatomy.coarse_region(fine) == old, spelling
    assert anatomy.coarse_region("head") == "head" and anatomy.coarse_region("gua sha") == "gua sha"
    # A complaint region stays coarse, so clients files import as before and group as before.
    for spelling, old in {**MOVED_TO_FINE_ZONES, "Behind the eye": "head", "occiput": "head"}.items():
        assert COMPLAINT_REGIONS.resolve(spelling).canonical == old, spelling
    assert COMPLAINT_REGIONS.canonical_names == OLD_REGIONS + ["abdomen"]


@pytest.mark.parametrize("vocab", [MUSCLES, REGIONS, COMPLAINT_REGIONS], ids=["muscles", "regions", "complaints"])
def test_no_spelling_means_two_things(vocab):
    seen: dict[str, str] = {}
    for key, aliases in vocab.entries.items():
        for spelling in {normalise(s) for s in [key, *aliases]}:
            assert seen.setdefault(spelling, key) == key, f"{spelling!r} is both {seen[spelling]} and {key}"


def test_the_manuals_muscles_are_known():
    for spelling, key in [
        ("lateral pterygoid", "lateral_pterygoid"),
        ("medial pterygoid", "medial_pterygoid"),
        ("digastric", "digastric"),
        ("middle trap", "middle_trapezius"),
        ("TFL", "tensor_fasciae_latae"),
        ("lats", "latissimus_dorsi"),
        ("glute max", "gluteus_maximus"),
        ("fibularis", "peroneals"),
        ("quads", "quadriceps"),
        ("serratus anterior", "serratus_anterior"),
    ]:
        assert MUSCLES.resolve(spelling).canonical == key
    for spelling, key in [
        ("behind the eye", "behind_eye"),
        ("base of skull", "occiput"),
        ("Temple", "temple"),
        ("TMJ", "tmj"),
    ]:
        assert REGIONS.resolve(spelling).canonical == key
