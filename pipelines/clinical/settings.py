"""Practice settings: clinical thresholds with their citations, vocabulary, password hash.

The packaged defaults live in ``pipelines/clinical/settings_default.toml`` (read it: every number
there has a sibling ``<key>_source`` with its primary citation).
A practice's own choices live in one TOML file next to its database,
``knotwork-settings.toml`` (:func:`settings_path_for`), holding only the keys it changed.
:func:`load_settings` deep-merges that file over the defaults; :func:`save_settings`
writes back only what differs from the defaults.

Settings are plain nested dicts so they can be passed to cached Streamlit functions and
dumped to JSON.  Read a threshold with :func:`threshold` (``threshold(s, "pain.mcid_pct")``)
and its citation with :func:`threshold_source`.

When a practice file changes a number but not its ``*_source``, the loaded source becomes
``"practice setting (default 2.0: Farrar …)"``: a changed number is never shown under a
citation that did not say it.
"""

from __future__ import annotations

import copy
import functools
import math
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import tomli_w

SETTINGS_FILENAME = "knotwork-settings.toml"
DEFAULTS_RESOURCE = "settings_default.toml"
SOURCE_SUFFIX = "_source"
DATE_ORDERS = ("day_first", "month_first")


@functools.lru_cache(maxsize=1)
def _packaged_defaults() -> dict[str, Any]:
    text = resources.files("pipelines.clinical").joinpath(DEFAULTS_RESOURCE).read_text(encoding="utf-8")
    return tomllib.loads(text)


def default_settings() -> dict[str, Any]:
    """The packaged defaults (a fresh copy each call; safe to mutate)."""
    return copy.deepcopy(_packaged_defaults())


def settings_path_for(db_path: str | Path) -> Path:
    """The practice settings file that belongs to a database: same directory, ``knotwork-settings.toml``."""
    return Path(db_path).expanduser().resolve().parent / SETTINGS_FILENAME


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_numeric_setting(value: Any) -> bool:
    """A number, or a list of numbers (a range such as ``[0.0, 100.0]``)."""
    if _is_number(value):
        return True
    return isinstance(value, list) and bool(value) and all(_is_number(v) for v in value)


def _merge(
    base: dict[str, Any], override: dict[str, Any], defaults: dict[str, Any] | None, where: str, origin: str
) -> None:
    """Merge ``override`` into ``base`` in place, checking types against the defaults."""
    for key, value in override.items():
        dotted = f"{where}{key}"
        default = defaults.get(key) if defaults is not None else None
        if isinstance(value, dict):
            if default is not None and not isinstance(default, dict):
                raise ValueError(f"{origin}: {dotted} must be a single value, not a table")
            target = base.setdefault(key, {})
            if not isinstance(target, dict):
                raise ValueError(f"{origin}: {dotted} must be a single value, not a table")
            _merge(target, value, default if isinstance(default, dict) else None, f"{dotted}.", origin)
            continue
        if isinstance(default, dict):
            raise ValueError(f"{origin}: {dotted} must be a table like the default")
        if default is not None:
            if _is_numeric_setting(default) and not _is_numeric_setting(value):
                raise ValueError(f"{origin}: {dotted} must be a number, got {value!r}")
            if _is_number(value) and not math.isfinite(value):
                raise ValueError(f"{origin}: {dotted} must be a finite number, got {value!r}")
            if isinstance(default, str) and not isinstance(value, str):
                raise ValueError(f"{origin}: {dotted} must be text, got {value!r}")
        base[key] = value


def _relabel_changed_sources(merged: dict[str, Any], defaults: dict[str, Any], override: dict[str, Any]) -> None:
    """A number the practice changed without citing anything gets an honest source."""
    for key, value in override.items():
        if isinstance(value, dict):
            if isinstance(defaults.get(key), dict) and isinstance(merged.get(key), dict):
                _relabel_changed_sources(merged[key], defaults[key], value)
            continue
        source_key = key + SOURCE_SUFFIX
        if key.endswith(SOURCE_SUFFIX) or source_key in override:
            continue
        default = defaults.get(key)
        if default is None:
            if _is_numeric_setting(value):
                merged[source_key] = "practice setting"
            continue
        if _is_numeric_setting(value) and value != default:
            original = defaults.get(source_key, "no citation")
            merged[source_key] = f"practice setting (default {default}: {original})"


def load_settings(path: str | Path | None = None) -> dict[str, Any]:
    """Packaged defaults with the practice file at ``path`` deep-merged over them.

    ``path=None`` or a file that does not exist yet gives the defaults.  A practice file
    may add keys (new vocabulary, a reliability for an instrument that has none) and change
    values; a value of the wrong type (text where a number belongs) raises ``ValueError``
    naming the file and the dotted key.
    """
    settings = default_settings()
    if path is None:
        return settings
    path = Path(path)
    if not path.exists():
        return settings
    try:
        override = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML ({exc})") from exc
    defaults = default_settings()
    _merge(settings, override, defaults, "", str(path))
    _relabel_changed_sources(settings, defaults, override)
    order = settings.get("import", {}).get("date_order")
    if order not in DATE_ORDERS:
        raise ValueError(f"{path}: import.date_order must be one of {', '.join(DATE_ORDERS)}, got {order!r}")
    return settings


def _diff(settings: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in settings.items():
        default = defaults.get(key)
        if isinstance(value, dict):
            sub = _diff(value, default if isinstance(default, dict) else {})
            if sub or (key not in defaults):
                out[key] = sub
        elif value is None:
            continue  # TOML has no null; None means "not set"
        elif key not in defaults or value != default:
            out[key] = value
    return out


def practice_overrides(settings: dict[str, Any]) -> dict[str, Any]:
    """Only the keys of ``settings`` that differ from (or are absent in) the packaged defaults."""
    return _diff(settings, default_settings())


def save_settings(settings: dict[str, Any], path: str | Path) -> Path:
    """Write the practice's overrides (only what differs from the defaults) to ``path`` as TOML.

    The write goes to a temporary file first and is then renamed over ``path``, so a crash
    never leaves a half-written settings file.  Returns the path written.
    """
    path = Path(path)
    overrides = practice_overrides(settings)
    text = (
        "# Knotwork practice settings: only the values this practice changed.\n"
        "# Defaults and their citations: pipelines/clinical/settings_default.toml\n\n"
    ) + tomli_w.dumps(overrides)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def _lookup(settings: dict[str, Any], dotted_key: str) -> Any:
    node: Any = settings
    walked = []
    for part in dotted_key.split("."):
        walked.append(part)
        if not isinstance(node, dict) or part not in node:
            raise KeyError(f"no setting {'.'.join(walked)!r} (looking up {dotted_key!r})")
        node = node[part]
    return node


def threshold(settings: dict[str, Any] | None, dotted_key: str) -> Any:
    """The value at ``dotted_key`` (``"pain.mcid_points"``, ``"questionnaires.NDI.mcid"``).

    ``settings=None`` reads the packaged defaults.  A missing key raises ``KeyError`` naming it.
    """
    return copy.deepcopy(_lookup(_packaged_defaults() if settings is None else settings, dotted_key))


def threshold_source(settings: dict[str, Any] | None, dotted_key: str) -> str:
    """The citation of the threshold at ``dotted_key`` (its sibling ``*_source``)."""
    head, _, last = dotted_key.rpartition(".")
    key = f"{head}.{last}{SOURCE_SUFFIX}" if head else f"{last}{SOURCE_SUFFIX}"
    return str(threshold(settings, key))
