"""Every multi-choice picker offers only real options: no "Select N matches" entry.

Streamlit's multiselect puts a "Select N matches" option first while the user types, so "stretch"
+ Enter chose every technique matching "stretch" (Stretching *and* PNF stretching) without anyone
meaning to. ``select_all=False`` removes that entry; this scan keeps it removed everywhere.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pickers_without_select_all_off(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "multiselect":
            off = any(
                k.arg == "select_all" and isinstance(k.value, ast.Constant) and k.value.value is False
                for k in node.keywords
            )
            if not off:
                found.append(f"{path.name}:{node.lineno}")
    return found


def test_no_picker_offers_select_all_matches():
    missing = [hit for p in sorted((ROOT / "dashboard").rglob("*.py")) for hit in _pickers_without_select_all_off(p)]
    assert missing == []


def test_the_scan_sees_a_picker(tmp_path):
    """The scan can fail: a multiselect without the setting is reported."""
    probe = tmp_path / "probe.py"
    probe.write_text("import streamlit as st\nst.multiselect('Techniques', ['a'])\n", encoding="utf-8")
    assert _pickers_without_select_all_off(probe) == ["probe.py:2"]
