"""Log a visit in a real headless Chromium, typed fast (no delay, 30 and 60 ms between keys) into
every numeric field of the visit form: pain before/after, pressure, minutes, the readings of last
time's movements, another movement's row and a trigger point's tenderness.  What is saved in the
DuckDB file is exactly what was typed (a table cell used to lose the first key: "52" stored as 2)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.entry.forms import last_rom_set
from pipelines.entry.readings import last_readings
from tests.test_e2e_browser import ARTIFACTS, browser, full_screenshot, server, wait_for_app  # noqa: F401 (fixtures)

# A real headless Chromium: the browser marker keeps it out of the quick loop, like the other browser tests.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path("/usr/bin/chromium").exists(), reason="Debian chromium not installed at /usr/bin/chromium"
    ),
]

CLIENT = "C0002"
OTHER = ("shoulder", "abduction", "right")  # a movement not in C0002's last set: typed in its own row


def _type_number(page, box, text: str, delay: int) -> None:
    box.click()
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type(text, delay=delay)


def _choose(page, box, option: str) -> None:
    box.click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option, exact=True).click()


def _label(row: dict) -> str:
    side = "" if row["side"] == "none" else f" ({row['side'].capitalize()})"
    return f"{row['joint'].capitalize()} {row['movement'].replace('_', ' ')}{side}"


@pytest.mark.parametrize("delay", [0, 30, 60])
def test_fast_typing_into_every_numeric_field_saves_what_was_typed(server, browser, delay):  # noqa: F811
    url, db = server
    last = last_readings(CLIENT, db)
    typed_rom = {}  # (joint, movement, side) -> (before, after) as typed: two or three digits each
    for row in last_rom_set(CLIENT, db=db):
        key = (row["joint"], row["movement"], row["side"])
        typed_rom[key] = (str(int(last[key][0]) + 2), str(int(last[key][0]) + 5))
    other = int(last[OTHER][0]) + 3 if OTHER in last else 152
    typed_rom[OTHER] = (str(other), str(other + 11))

    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{url}/log?client={CLIENT}")
    wait_for_app(page)
    page.get_by_role("button", name="Add a movement").click()
    wait_for_app(page)
    page.get_by_role("button", name="Add a trigger point").click()
    wait_for_app(page)
    _choose(page, page.get_by_label("Joint", exact=True), "Shoulder")
    _choose(page, page.get_by_label("Movement", exact=True), "Abduction")
    _choose(page, page.get_by_label("Side", exact=True).nth(0), "Right")
    _choose(page, page.get_by_label("Muscle", exact=True), "Upper trapezius")
    _choose(page, page.get_by_label("Side", exact=True).nth(1), "Left")
    _choose(page, page.get_by_label("Released", exact=True), "Yes")

    label = page.get_by_label
    for name, text in (("Pain before", "6.5"), ("Pain after", "3"), ("Pressure", "4"), ("Minutes", "45")):
        _type_number(page, label(name, exact=True), text, delay)
    for row in last_rom_set(CLIENT, db=db):
        before, after = typed_rom[(row["joint"], row["movement"], row["side"])]
        _type_number(page, label(f"{_label(row)} before (°)", exact=True), before, delay)
        _type_number(page, label(f"{_label(row)} after (°)", exact=True), after, delay)
    _type_number(page, label("Before", exact=True), typed_rom[OTHER][0], delay)
    _type_number(page, label("After", exact=True), typed_rom[OTHER][1], delay)
    _type_number(page, label("Tenderness", exact=True), "7.5", delay)
    if delay == 0:
        for name, width in (("desktop", 1366), ("tablet", 820), ("phone", 390)):
            page.set_viewport_size({"width": width, "height": 900})
            full_screenshot(page, ARTIFACTS / f"log-visit-typed-{name}.png")
        page.set_viewport_size({"width": 1366, "height": 900})
    page.get_by_role("button", name="Save visit").click()
    page.get_by_text("Saved the visit of").wait_for(timeout=60_000)
    page.close()

    with duckdb.connect(str(db), read_only=True) as con:
        saved = con.execute(
            "SELECT visit_id, pain_pre, pain_post, pressure, duration_min FROM core.visits "
            "WHERE client_id = ? AND visit_date = current_date",
            [CLIENT],
        ).fetchall()
        rom = con.execute(
            "SELECT joint, movement, side, timing, degrees FROM core.rom JOIN core.visits v USING (visit_id) "
            "WHERE v.client_id = ? AND v.visit_date = current_date",
            [CLIENT],
        ).fetchall()
        points = con.execute(
            "SELECT muscle, side, tenderness, released FROM core.trigger_points JOIN core.visits v "
            "USING (visit_id) WHERE v.client_id = ? AND v.visit_date = current_date",
            [CLIENT],
        ).fetchall()
    assert [tuple(r[1:]) for r in saved] == [(6.5, 3.0, 4.0, 45.0)]
    stored = {(j, m, s, t): d for j, m, s, t, d in rom}
    assert stored == {
        (*key, timing): float(value)
        for key, (before, after) in typed_rom.items()
        for timing, value in (("pre", before), ("post", after))
    }
    assert points == [("upper_trapezius", "left", 7.5, "yes")]
