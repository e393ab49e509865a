"""The code passes ruff's lint rules and is formatted by ruff as configured in pyproject.toml."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _ruff(*args: str) -> subprocess.CompletedProcess:
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed (it comes with the test extra: pip install -e '.[test]')")
    return subprocess.run([ruff, *args, "--no-cache", str(ROOT)], capture_output=True, text=True, cwd=ROOT)


def test_ruff_finds_nothing():
    result = _ruff("check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_code_is_formatted():
    result = _ruff("format", "--check")
    assert result.returncode == 0, "run `ruff format .`\n" + result.stdout + result.stderr
