"""The command line contract: every DESIGN command is there, and its help renders."""

from __future__ import annotations

import subprocess
import sys

import pytest

DESIGN_COMMANDS = [
    "demo",
    "serve",
    "init",
    "ingest",
    "sample",
    "techniques",
    "report",
    "share",
    "revoke",
    "set-password",
    "backup",
    "restore",
    "letter",
    "export",
    "export-fhir",
]


def knotwork(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "knotwork", *args], capture_output=True, text=True)


def test_help_lists_every_command():
    proc = knotwork("--help")
    assert proc.returncode == 0, proc.stderr
    import argparse

    from knotwork.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert sorted(sub.choices) == sorted(DESIGN_COMMANDS)
    for command in DESIGN_COMMANDS:
        assert f"    {command}" in proc.stdout


@pytest.mark.parametrize("command", DESIGN_COMMANDS)
def test_each_command_has_help(command):
    proc = knotwork(command, "--help")
    assert proc.returncode == 0, proc.stderr
    assert "usage: knotwork " + command in proc.stdout


@pytest.mark.slow
def test_sample_is_deterministic_and_matches_the_committed_sample(tmp_path):
    from tests.conftest import SAMPLE

    proc = knotwork("sample", "--out", str(tmp_path), "--clients", "40", "--seed", "7")
    assert proc.returncode == 0, proc.stderr
    for name in [
        "clients.csv",
        "visits.csv",
        "rom.csv",
        "self_reports.csv",
        "trigger_points.csv",
        "outcome_measures.csv",
    ]:
        assert (tmp_path / name).read_bytes() == (SAMPLE / name).read_bytes(), name
