"""Practice settings: packaged defaults with citations, practice overrides, round trip."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from pipelines.clinical.change import pain_status
from pipelines.clinical.settings import (
    SETTINGS_FILENAME,
    default_settings,
    load_settings,
    practice_overrides,
    save_settings,
    settings_path_for,
    threshold,
    threshold_source,
)

DEFAULT_FILE = Path(__file__).resolve().parents[1] / "pipelines" / "clinical" / "settings_default.toml"


@pytest.mark.parametrize(
    "key,value",
    [
        ("pain.mcid_points", 2.0),
        ("pain.mcid_pct", 30.0),
        ("pain.minimal_points", 1.0),
        ("pain.minimal_pct", 15.0),
        ("pain.worse_points", 1.0),
        ("pain.sem", 1.02),
        ("pain.mdc", 2.0),
        ("attention.no_important_change_after_visits", 4),
        ("rom.mdc_same_rater_extremity_goniometer", 5.0),
        ("rom.mdc_spine_crom_or_between_raters", 10.0),
        ("questionnaires.NDI.mdc", 10.0),  # 5 raw points /50 = 10 %-points
        ("questionnaires.NDI.mcid", 20.0),  # 10 raw points /50 = 20 %-points
        ("questionnaires.NDI.reliability", 0.93),
        ("questionnaires.ODI.mdc", 10.0),
        ("questionnaires.ODI.mcid", 10.0),
        ("questionnaires.ODI.mcid_pct", 30.0),
        ("questionnaires.PSFS.mdc", 2.0),
        ("questionnaires.PSFS.mcid", 2.0),
        ("questionnaires.QuickDASH.mdc", 12.85),
        ("questionnaires.QuickDASH.mcid", 16.0),
        ("questionnaires.QuickDASH.reliability", 0.91),
        ("questionnaires.LEFS.mdc", 9.0),
        ("questionnaires.LEFS.mcid", 9.0),
        ("questionnaires.LEFS.range", [0.0, 80.0]),
        ("analysis.min_clients_per_arm", 8),
        ("import.date_order", "day_first"),
        ("security.password_hash", ""),
        ("vocabulary", {}),
    ],
)
def test_defaults(key, value):
    assert threshold(None, key) == value
    assert threshold(load_settings(), key) == value


@pytest.mark.parametrize(
    "key,author",
    [
        ("pain.mcid_points", "Farrar"),
        ("pain.mcid_pct", "Farrar"),
        ("pain.minimal_points", "Salaffi"),
        ("pain.minimal_pct", "Salaffi"),
        ("pain.sem", "Childs"),
        ("pain.mdc", "Childs"),
        ("rom.mdc_same_rater_extremity_goniometer", "Boone"),
        ("rom.mdc_spine_crom_or_between_raters", "Fletcher & Bandy"),
        ("questionnaires.NDI.reliability", "McCarthy"),
        ("questionnaires.ODI.mcid", "Ostelo"),
        ("questionnaires.QuickDASH.mcid", "Franchignoni"),
        ("questionnaires.LEFS.mdc", "Binkley"),
        ("analysis.min_clients_per_arm", "Cohen"),
    ],
)
def test_thresholds_cite_their_source(key, author):
    assert author in threshold_source(None, key)


def _numeric_keys(node, prefix=""):
    for key, value in node.items():
        if isinstance(value, dict):
            yield from _numeric_keys(value, f"{prefix}{key}.")
        elif (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            or (isinstance(value, list) and value and all(isinstance(v, (int, float)) for v in value))
        ):
            yield f"{prefix}{key}", node


def test_every_numeric_setting_has_a_source():
    with DEFAULT_FILE.open("rb") as fh:
        raw = tomllib.load(fh)
    keys = list(_numeric_keys(raw))
    assert len(keys) >= 25
    for dotted, node in keys:
        source = node.get(dotted.rsplit(".", 1)[-1] + "_source")
        assert isinstance(source, str) and len(source) > 10, f"{dotted} has no *_source"


def test_settings_path_is_next_to_the_database(tmp_path):
    assert settings_path_for(tmp_path / "practice" / "k.duckdb") == tmp_path / "practice" / SETTINGS_FILENAME
    assert SETTINGS_FILENAME == "knotwork-settings.toml"


def test_missing_practice_file_gives_defaults(tmp_path):
    assert load_settings(tmp_path / "nope.toml") == default_settings()


def test_practice_file_is_deep_merged(tmp_path):
    path = tmp_path / SETTINGS_FILENAME
    path.write_text(
        '[pain]\nmcid_points = 3.0\nmcid_points_source = "our own audit 2025"\n'
        '[vocabulary]\ntechniques = ["gua_sha_facial"]\n',
        encoding="utf-8",
    )
    s = load_settings(path)
    assert threshold(s, "pain.mcid_points") == 3.0
    assert threshold_source(s, "pain.mcid_points") == "our own audit 2025"
    assert threshold(s, "pain.mcid_pct") == 30.0  # untouched sibling kept
    assert threshold(s, "vocabulary.techniques") == ["gua_sha_facial"]
    assert threshold(s, "questionnaires.NDI.mcid") == 20.0
    # the clinical functions follow the practice threshold (3 points AND 30 %)
    assert pain_status(7, 4, s) == "clinically important improvement"  # 3 points, 42.9 %
    assert pain_status(6, 4, s) == "some improvement"  # 2 points < 3


def test_changed_number_without_source_is_not_shown_under_the_paper(tmp_path):
    path = tmp_path / SETTINGS_FILENAME
    path.write_text("[pain]\nmcid_pct = 25.0\n", encoding="utf-8")
    source = threshold_source(load_settings(path), "pain.mcid_pct")
    assert source.startswith("practice setting (default 30.0: Farrar")


def test_save_writes_only_overrides_and_round_trips(tmp_path):
    s = default_settings()
    s["questionnaires"]["ODI"]["reliability"] = 0.9
    s["questionnaires"]["ODI"]["reliability_source"] = "practice test-retest 2026"
    s["attention"]["no_important_change_after_visits"] = 6
    s["security"]["password_hash"] = "pbkdf2:abc"
    path = save_settings(s, tmp_path / "sub" / SETTINGS_FILENAME)
    with path.open("rb") as fh:
        written = tomllib.load(fh)
    assert written == {
        "attention": {"no_important_change_after_visits": 6},
        "questionnaires": {"ODI": {"reliability": 0.9, "reliability_source": "practice test-retest 2026"}},
        "security": {"password_hash": "pbkdf2:abc"},
    }
    loaded = load_settings(path)
    assert threshold(loaded, "attention.no_important_change_after_visits") == 6
    assert threshold(loaded, "questionnaires.ODI.reliability") == 0.9
    assert threshold(loaded, "pain.mcid_points") == 2.0
    # saving what was loaded and loading again changes nothing
    save_settings(loaded, path)
    assert load_settings(path) == loaded


def test_defaults_save_to_an_empty_override_file(tmp_path):
    assert practice_overrides(default_settings()) == {}
    path = save_settings(default_settings(), tmp_path / SETTINGS_FILENAME)
    with path.open("rb") as fh:
        assert tomllib.load(fh) == {}


def test_default_settings_are_fresh_copies():
    s = default_settings()
    s["pain"]["mcid_points"] = 99
    assert threshold(None, "pain.mcid_points") == 2.0
    assert default_settings()["pain"]["mcid_points"] == 2.0


@pytest.mark.parametrize(
    "text,message",
    [
        ('[pain]\nmcid_points = "two"\n', "pain.mcid_points must be a number"),
        ("[pain]\nmcid_points = nan\n", "finite"),
        ("pain = 3\n", "pain must be a table"),
        ('[import]\ndate_order = "year_first"\n', "date_order must be one of"),
        ("[pain\n", "not valid TOML"),
    ],
)
def test_bad_practice_files_are_refused_with_the_key(tmp_path, text, message):
    path = tmp_path / SETTINGS_FILENAME
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_settings(path)


def test_unknown_key_raises_key_error():
    with pytest.raises(KeyError, match="pain.mcid_point"):
        threshold(None, "pain.mcid_point")
