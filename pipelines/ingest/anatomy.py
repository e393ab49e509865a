"""The anatomy Knotwork knows: muscles and body regions, where they sit on the body map, and
where each muscle's trigger points refer pain.

Everything comes from ``anatomy.toml`` beside this module (its header explains the
coordinates and the sources); :mod:`pipelines.ingest.vocab` builds its MUSCLES and REGIONS
lists from it and the dashboard's body chart draws from it, so a term the importer knows
always has a place on the body.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from importlib import resources

VIEWS = ("front", "back")
# Width of the outline the coordinates refer to (its midline is at half of it).
BODY_WIDTH = 540.0
BODY_HEIGHT = 960.0


@dataclass(frozen=True)
class Place:
    view: str  # "front" or "back"
    x: float  # distance from the midline, for one side (0 = on the midline)
    y: float
    rx: float = 0.0  # ellipse half-axes (regions only)
    ry: float = 0.0
    tilt: float = 0.0  # degrees; the lower end turns away from the midline


@dataclass(frozen=True)
class Region:
    key: str
    label: str
    parent: str | None  # the coarse region a fine zone belongs to
    aliases: tuple[str, ...]
    shapes: tuple[Place, ...]


@dataclass(frozen=True)
class Muscle:
    key: str
    label: str
    aliases: tuple[str, ...]
    referral: tuple[str, ...]  # region keys its trigger points refer pain to
    places: tuple[Place, ...]
    source: str  # full citation of the referral pattern


@dataclass(frozen=True)
class Anatomy:
    regions: dict[str, Region]
    muscles: dict[str, Muscle]
    sources: dict[str, str]

    def coarse_region(self, key: str) -> str:
        """The coarse region of a region key (itself for a coarse region or an unknown key)."""
        region = self.regions.get(key)
        return region.parent if region is not None and region.parent else key


def _place(raw: dict) -> Place:
    if raw["view"] not in VIEWS:
        raise ValueError(f"anatomy.toml: view {raw['view']!r} is not one of {VIEWS}")
    return Place(
        raw["view"],
        float(raw["x"]),
        float(raw["y"]),
        float(raw.get("rx", 0)),
        float(raw.get("ry", 0)),
        float(raw.get("tilt", 0)),
    )


@functools.lru_cache(maxsize=1)
def load_anatomy() -> Anatomy:
    """The packaged anatomy (read once)."""
    data = tomllib.loads(resources.files("pipelines.ingest").joinpath("anatomy.toml").read_text(encoding="utf-8"))
    sources = dict(data["sources"])
    regions = {
        key: Region(
            key, r["label"], r.get("parent"), tuple(r.get("aliases", ())), tuple(_place(s) for s in r["shapes"])
        )
        for key, r in data["regions"].items()
    }
    muscles = {
        key: Muscle(
            key,
            m["label"],
            tuple(m.get("aliases", ())),
            tuple(m["referral"]),
            tuple(_place(p) for p in m["places"]),
            sources[m["source"]],
        )
        for key, m in data["muscles"].items()
    }
    unknown = {r for m in muscles.values() for r in m.referral} - set(regions)
    unknown |= {r.parent for r in regions.values() if r.parent} - set(regions)
    if unknown:
        raise ValueError(f"anatomy.toml names regions it does not define: {sorted(unknown)}")
    return Anatomy(regions, muscles, sources)


def region_entries() -> dict[str, list[str]]:
    """``{region key: aliases}`` in file order (coarse regions first), for the REGIONS vocabulary."""
    return {k: list(r.aliases) for k, r in load_anatomy().regions.items()}


def muscle_entries() -> dict[str, list[str]]:
    """``{muscle key: aliases}`` in file order, for the MUSCLES vocabulary."""
    return {k: list(m.aliases) for k, m in load_anatomy().muscles.items()}


def complaint_region_entries() -> dict[str, list[str]]:
    """``{coarse region: spellings}`` where a fine zone's spellings count as its parent's.

    A client's complaint region groups clients (the technique analysis adjusts for it), so it
    stays coarse: "jaw" was a spelling of head before fine zones existed and still files a
    complaint under head, and re-importing an old clients file changes nothing."""
    regions = load_anatomy().regions
    out = {k: list(r.aliases) for k, r in regions.items() if r.parent is None}
    for key, region in regions.items():
        if region.parent is not None:
            out[region.parent] += [key, *region.aliases]
    return out
