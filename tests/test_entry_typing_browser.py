"""Log a visit in a real headless Chromium, typed fast (30-60 ms between keys) into every numeric
field of the visit form -- pain before/after, pressure, minutes, the ROM readings of last time's
movements -- and what is saved is exactly what was typed."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.test_e2e_browser import ARTIFACTS, browser, full_screenshot, server, wait_for_app  # noqa: F401 (fixtures)

# A real headless Chromium: the browser marker keeps it out of the quick loop, like the other browser tests.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path("/usr/bin/chromium").exists(), reason="Debian chromium not installed at /usr/bin/chromium"
    ),
]

CLIENT = "C0002"


def _first_rom_row(db):
    """The first row the ROM table starts with (last time's movements, sorted) and its last reading."""
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            """
            WITH last_visit AS (SELECT v.visit_id FROM core.visits v JOIN core.rom r USING (visit_id)
                                WHERE v.client_id = ? ORDER BY v.visit_date DESC, v.visit_id DESC LIMIT 1)
            SELECT r.joint, r.movement, r.side, max(r.degrees) FILTER (r.timing = 'post')
            FROM core.rom r WHERE r.visit_id = (SELECT visit_id FROM last_visit)
            GROUP BY ALL ORDER BY r.joint, r.movement, r.side LIMIT 1""",
            [CLIENT],
        ).fetchone()


def _type_number(page, label: str, text: str, delay: int) -> None:
    box = page.get_by_label(label, exact=True)
    box.click()
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type(text, delay=delay)


@pytest.mark.parametrize("delay", [30, 60])
def test_fast_typing_into_every_numeric_field_saves_what_was_typed(server, browser, delay):  # noqa: F811
    url, db = server
    joint, movement, side, last = _first_rom_row(db)
    pre, post = str(int(last) + 2), str(int(last) + 7)  # two or three digits: the first key matters
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{url}/log?client={CLIENT}")
    wait_for_app(page)
    _type_number(page, "Pain before", "6.5", delay)
    _type_number(page, "Pain after", "3", delay)
    _type_number(page, "Pressure", "4", delay)
    _type_number(page, "Minutes", "45", delay)
    label = f"{joint.capitalize()} {movement.replace('_', ' ')}" + ("" if side == "none" else f" ({side.capitalize()})")
    _type_number(page, f"{label} before (°)", pre, delay)
    _type_number(page, f"{label} after (°)", post, delay)
    if delay == 30:
        for name, width in (("desktop", 1366), ("tablet", 820), ("phone", 390)):
            page.set_viewport_size({"width": width, "height": 900})
            full_screenshot(page, ARTIFACTS / f"log-visit-typed-{name}.png")
        page.set_viewport_size({"width": 1366, "height": 900})
    page.get_by_role("button", name="Save visit").click()
    wait_for_app(page)
    for name, width in (("desktop", 1366), ("tablet", 820), ("phone", 390)):
        page.set_viewport_size({"width": width, "height": 900})
        full_screenshot(page, ARTIFACTS / f"log-visit-saved-{delay}ms-{name}.png")
    with duckdb.connect(str(db), read_only=True) as con:
        saved = con.execute(
            "SELECT visit_id, pain_pre, pain_post, pressure, duration_min FROM core.visits "
            "WHERE client_id = ? AND visit_date = current_date",
            [CLIENT],
        ).fetchall()
        rom = con.execute(
            "SELECT timing, degrees FROM core.rom JOIN core.visits v USING (visit_id) "
            "WHERE v.client_id = ? AND v.visit_date = current_date AND joint = ? AND movement = ? "
            "AND side = ? ORDER BY timing DESC",
            [CLIENT, joint, movement, side],
        ).fetchall()
    assert [tuple(r[1:]) for r in saved] == [(6.5, 3.0, 4.0, 45.0)]
    assert rom == [("pre", float(pre)), ("post", float(post))]
