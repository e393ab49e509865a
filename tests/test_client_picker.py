"""The one client picker (dashboard/components/client_picker.py) on each page that uses it: which client a
page opens on (the address, the client remembered from another page, or none) and what a choice changes.

Real sample database, the real app through its entry point (AppTest); switching pages as the top
navigation does (the address loses ``?client=``, the session keeps the remembered client)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "dashboard" / "streamlit_app.py")
CLIENTS_PAGE = "app_pages/clients.py"
RECORDS_PAGE = "app_pages/records.py"
SHARE_PAGE = "app_pages/sharing.py"
CLIENT = "C0003"

pytestmark = pytest.mark.usefixtures("clean_streamlit_caches")


@pytest.fixture
def app(sample_db_copy, monkeypatch) -> AppTest:
    monkeypatch.setenv("KNOTWORK_DB", str(sample_db_copy))
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _go(at: AppTest, page: str, client: str | None = None) -> AppTest:
    at.query_params.clear()  # the top navigation: the address carries no client
    if client is not None:
        at.query_params["client"] = client
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _address(at: AppTest) -> str | None:
    value = at.query_params.get("client")
    return value[0] if isinstance(value, list) else value


def test_clients_page_opens_on_the_address_client_but_not_on_the_remembered_one(app):
    """Clients is where new clients are added: from the navigation it opens on "new client" even when
    another page chose a client, while a link with ?client= opens that client's form."""
    app.selectbox(key="cp_client").select(CLIENT).run()
    assert _address(app) == CLIENT
    at = _go(app, CLIENTS_PAGE)
    assert at.selectbox(key="cl_pick").value is None
    assert at.text_input(key="cl_id_0_new").value not in ("", CLIENT)
    at = _go(app, CLIENTS_PAGE, client=CLIENT)
    assert at.selectbox(key="cl_pick").value == CLIENT
    assert any(m.value.startswith("**Edit ") for m in at.markdown)


def test_a_client_picked_on_the_clients_page_is_the_one_share_opens_on(app):
    at = _go(app, CLIENTS_PAGE)
    at.selectbox(key="cl_pick").set_value(CLIENT).run()
    assert _address(at) == CLIENT
    at = _go(at, SHARE_PAGE)
    assert at.selectbox(key="sh_client").value == CLIENT
    # Choosing "new client" again leaves the address but not the client the other pages work with.
    at = _go(at, CLIENTS_PAGE, client=CLIENT)
    at.selectbox(key="cl_pick").set_value(None).run()
    assert _address(at) is None
    assert _go(at, SHARE_PAGE).selectbox(key="sh_client").value == CLIENT


def test_the_records_client_filter_starts_on_everyone_and_keeps_nothing(app):
    app.selectbox(key="cp_client").select(CLIENT).run()
    at = _go(app, RECORDS_PAGE, client=CLIENT)
    assert at.selectbox(key="rec_client").value is None  # a filter: all clients until narrowed
    at.selectbox(key="rec_client").set_value("C0001").run()
    assert not at.exception
    assert set(at.dataframe[0].value["Client"]) <= {
        "",
        *[c for c in at.selectbox(key="rec_client").options if "C0001" in c],
    }
    assert _address(at) == CLIENT  # the filter did not change which client is being worked with
    assert _go(at, SHARE_PAGE).selectbox(key="sh_client").value == CLIENT
