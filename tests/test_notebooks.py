"""Every notebook in notebooks/ runs top to bottom in the project's own kernel, quickly.

Executed with nbclient and the ``python3`` kernel of the environment running the tests
(ipykernel is a test dependency), in a scratch copy so the committed outputs are untouched.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

# Runs every notebook: the full suite runs it, the quick loop does not.
pytestmark = pytest.mark.slow

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
MAX_SECONDS = 60


def _text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(str(out.get("text", "")))
            parts.append(str(out.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


_EXECUTED: dict[Path, tuple] = {}


def _execute(path: Path, workdir: Path):
    """Run a notebook once per test session (cleared outputs first) and keep the result."""
    if path not in _EXECUTED:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = []
        client = nbclient.NotebookClient(
            nb, timeout=MAX_SECONDS, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}
        )
        started = time.monotonic()
        client.execute()
        _EXECUTED[path] = (nb, time.monotonic() - started)
    return _EXECUTED[path]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path):
    """It executes without an error in under a minute."""
    nb, elapsed = _execute(path, tmp_path)
    assert elapsed < MAX_SECONDS, f"{path.name} took {elapsed:.0f} s"
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors


def test_technique_notebook_tells_the_story(tmp_path):
    """It shows the adjusted analysis beating the unadjusted comparison against the planted truth."""
    nb, _ = _execute(ROOT / "notebooks" / "01_technique_response.ipynb", tmp_path)
    text = _text(nb)
    unadjusted = float(re.search(r"mean \|error\|, unadjusted:\s+([\d.]+)", text).group(1))
    adjusted = float(re.search(r"mean \|error\|, adjusted:\s+([\d.]+)", text).group(1))
    assert adjusted < unadjusted / 2
    assert "mixed model (random intercept per client, REML)" in text
    assert "OLS with each client's means (Mundlak), model-based within-client standard errors" in text
    assert "(fallback: only 12 clients" in text
