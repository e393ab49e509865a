"""The body map in a real headless Chromium: click a muscle and a region on the body in Log a visit,
save, and find the trigger point and pain region in the saved visit; screenshots of the body map
pages at phone, tablet and desktop width go to ``tests/artifacts/``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.test_e2e_browser import ARTIFACTS, CHROMIUM, browser, full_screenshot, server, wait_for_app  # noqa: F401 (fixtures)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed at /usr/bin/chromium"),
]

# Where on the screen a pickable point of the body chart is: Plotly's own axis conversion.
FIND_POINT_JS = """([what, key, side]) => {
  for (const gd of document.querySelectorAll('.js-plotly-plot')) {
    for (const tr of gd.data) {
      if (!tr.meta || tr.meta.kind !== 'pick' || tr.meta.what !== what) continue;
      const j = Array.from(tr.customdata).findIndex(c => c[1] === key && c[2] === side);
      if (j < 0) continue;
      const xa = gd._fullLayout[(tr.xaxis || 'x').replace('x', 'xaxis')];
      const ya = gd._fullLayout[(tr.yaxis || 'y').replace('y', 'yaxis')];
      const box = gd.getBoundingClientRect();
      return {x: box.left + xa._offset + xa.d2p(tr.x[j]), y: box.top + ya._offset + ya.d2p(tr.y[j])};
    }
  }
  return null;
}"""


# True once the body chart shades a region (what a click on a region does).
SHADED_JS = """() => [...document.querySelectorAll('.js-plotly-plot')].some(gd => (gd.data || []).some(
  t => t.meta && t.meta.kind === 'pain_region' && t.meta.region === '%s'))"""


def click_on_body(page, what: str, key: str, side: str, then) -> None:
    """Click the point of ``key`` on the body until ``then`` (a locator, or a JS predicate, of what the
    click does) holds.

    The chart is drawn again after each click (a new widget), and on a loaded machine a click can
    land before Plotly has wired its events: then nothing happens and the click is repeated."""
    for _ in range(4):
        page.locator(".js-plotly-plot .scatterlayer").first.wait_for(timeout=30_000)
        wait_for_app(page)
        spot = page.evaluate(FIND_POINT_JS, [what, key, side])
        assert spot is not None, f"{what} {key} {side} is not on the chart"
        page.mouse.move(spot["x"], spot["y"])
        page.mouse.move(spot["x"] + 1, spot["y"])  # Plotly picks the point under the pointer on hover
        page.mouse.click(spot["x"], spot["y"])
        try:
            if isinstance(then, str):
                page.wait_for_function(then, timeout=15_000)
            else:
                then.wait_for(timeout=15_000)
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError(f"clicking {what} {key} {side} on the body had no effect")


def test_click_a_muscle_on_the_body_and_the_saved_visit_holds_it(server, browser):
    url, db = server
    con = duckdb.connect(str(db), read_only=True)
    client_id = con.execute(
        "select client_id from core.clients where client_id not in "
        "(select client_id from core.visits where visit_date = current_date) "
        "order by client_id limit 1"
    ).fetchone()[0]
    con.close()
    page = browser.new_page(viewport={"width": 1366, "height": 1000})
    page.goto(f"{url}/log?client={client_id}")
    wait_for_app(page)
    # Each click is checked by what it does: the row it added, the region it chose.
    click_on_body(
        page, "muscle", "upper_trapezius", "right", page.get_by_text("Marked so far: Upper trapezius (right)")
    )
    click_on_body(page, "region", "neck", "none", SHADED_JS % "neck")
    ARTIFACTS.mkdir(exist_ok=True)
    full_screenshot(page, ARTIFACTS / "log_visit_body_map_desktop.png")
    page.get_by_role("button", name="Save visit").click()
    page.get_by_text("Saved the visit of").wait_for(timeout=30_000)

    con = duckdb.connect(str(db), read_only=True)
    try:
        saved = con.execute(
            """
            select v.pain_region, t.muscle, t.side from core.visits v join core.trigger_points t using (visit_id)
            where v.client_id = ? and v.visit_date = ?""",
            [client_id, dt.date.today()],
        ).fetchall()
    finally:
        con.close()
    assert saved == [("neck", "upper_trapezius", "right")]
    page.close()


def shoot_section(page, url: str, heading: str, path: Path) -> None:
    page.goto(url)
    wait_for_app(page)
    title = page.get_by_role("heading", name=heading)
    title.wait_for(timeout=30_000)
    title.evaluate("h => h.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(800)
    assert page.get_by_text("Page not found").count() == 0
    assert page.get_by_test_id("stException").count() == 0
    page.screenshot(path=str(path))


@pytest.mark.parametrize("width", [1366, 820, 390])
def test_body_map_screenshots(server, browser, width):
    url, db = server
    con = duckdb.connect(str(db), read_only=True)
    client_id = con.execute("""
        select v.client_id from core.visits v join core.trigger_points t using (visit_id)
        where v.pain_region is not null group by 1 order by count(*) desc, 1 limit 1""").fetchone()[0]
    con.close()
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": width, "height": 1500 if width < 800 else 1100})
    shoot_section(page, f"{url}/?client={client_id}", "Body map", ARTIFACTS / f"body_map_client_{width}.png")
    shoot_section(
        page,
        f"{url}/practice",
        "Where clients hurt, and where trigger points are found",
        ARTIFACTS / f"body_map_practice_{width}.png",
    )
    shoot_section(page, f"{url}/log?client={client_id}", "Log a visit", ARTIFACTS / f"body_map_log_visit_{width}.png")
    page.close()
