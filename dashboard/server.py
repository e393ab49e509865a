"""How ``knotwork serve`` and ``knotwork demo`` start Streamlit, and how the demo database is built.

The command is ``python -m streamlit run dashboard/streamlit_app.py`` with flags that keep
everything on this machine and out of sight of a client looking at the screen:

* ``--browser.gatherUsageStats false``: no telemetry;
* ``--client.showErrorDetails none``: no tracebacks in the browser;
* ``--client.toolbarMode viewer``: no developer menu or "Deploy" button;
* ``--client.disableDataExport true``: no built-in "Download as CSV" on tables, which would write
  cells such as ``=HYPERLINK(...)`` as live spreadsheet formulas; the pages that offer a CSV use
  ``pipelines.exports.safe_csv`` instead;
* ``--server.address 127.0.0.1``: reachable only from this computer unless asked otherwise;
* ``--server.fileWatcherType none`` and ``--global.developmentMode false``: a product, not a
  development server;
* ``--server.allowedHosts``: the loopback names, the host of the practice's base URL
  (``[sharing] base_url`` / ``$KNOTWORK_BASE_URL``) and the listening address; a browser that
  asks for any other host name (a DNS-rebinding page) gets no WebSocket (403), so no data.

It runs ``dashboard/web.py``: the same app behind the response headers and WebSocket
same-origin rule of ``dashboard/web_guard.py``.

The database goes in through ``$KNOTWORK_DB``; the dashboard only ever opens it read-only
for one query at a time (``dashboard/queries/therapist.py``), so imports keep working while it runs.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from pipelines.sharing.links import configured_base_url
from pipelines.warehouse.db import ENV_VAR, default_data_dir

APP = Path(__file__).resolve().parent / "streamlit_app.py"
# What the server runs: APP wrapped in the response headers and WebSocket rule of dashboard/web_guard.py.
WEB_APP = APP.with_name("web.py")
DEFAULT_PORT = 8501
DEFAULT_ADDRESS = "127.0.0.1"
SAMPLE_FILES = (
    "clients.csv",
    "visits.csv",
    "rom.csv",
    "self_reports.csv",
    "trigger_points.csv",
    "outcome_measures.csv",
)
DEMO_DB_NAME = "demo.duckdb"
DEMO_SEED = 7

# Okabe–Ito blue as the accent, matching dashboard/charts/progress.py.
THEME_FLAGS = ("--theme.base", "light", "--theme.primaryColor", "#0072B2")


LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
WILDCARD_ADDRESSES = ("", "0.0.0.0", "::")


def allowed_hosts(address: str = DEFAULT_ADDRESS, base_url: str | None = None) -> list[str]:
    """Host names the server answers to: loopback, the base URL's host and a named listening address."""
    hosts = list(LOOPBACK_HOSTS)
    extra = [
        urlsplit(base_url.strip()).hostname if base_url else None,
        None if address in WILDCARD_ADDRESSES else address.strip("[]"),
    ]
    for host in extra:
        if host and host.lower() not in hosts:
            hosts.append(host.lower())
    return hosts


def build_command(
    port: int = DEFAULT_PORT, address: str = DEFAULT_ADDRESS, python: str | None = None, base_url: str | None = None
) -> list[str]:
    """The argv that starts the dashboard (the database comes from ``$KNOTWORK_DB``)."""
    host_flags = [arg for host in allowed_hosts(address, base_url) for arg in ("--server.allowedHosts", host)]
    return [
        python or sys.executable,
        "-m",
        "streamlit",
        "run",
        str(WEB_APP),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.showErrorDetails",
        "none",
        "--client.toolbarMode",
        "viewer",
        "--client.disableDataExport",
        "true",
        "--server.address",
        address,
        "--server.port",
        str(int(port)),
        "--server.fileWatcherType",
        "none",
        "--global.developmentMode",
        "false",
        *host_flags,
        *THEME_FLAGS,
    ]


def server_env(db: str | os.PathLike, base: dict | None = None) -> dict[str, str]:
    """The environment for the server: ``$KNOTWORK_DB`` set to the absolute database path."""
    env = dict(os.environ if base is None else base)
    env[ENV_VAR] = str(Path(db).expanduser().resolve())
    return env


def serve(db: str | os.PathLike, port: int = DEFAULT_PORT, address: str = DEFAULT_ADDRESS) -> None:
    """Replace this process with the Streamlit server (so signals and exit codes pass straight through).

    On Windows, where ``exec`` does not replace the process, run it as a child and wait.
    """
    cmd = build_command(port, address, base_url=configured_base_url(db))
    env = server_env(db)
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        os.execve(cmd[0], cmd, env)
    import subprocess

    raise SystemExit(subprocess.call(cmd, env=env))


# ---------------------------------------------------------------------------
# Demo database
# ---------------------------------------------------------------------------


def packaged_sample_dir() -> Path:
    """``data/sample`` next to the package (present in a clone or an editable install)."""
    return APP.parents[1] / "data" / "sample"


def sample_dir(data_dir: Path | None = None) -> Path:
    """Where the demo's CSVs come from: the repository's ``data/sample`` if it is there, otherwise
    a synthetic practice generated once (seed 7) into the data directory."""
    repo = packaged_sample_dir()
    if all((repo / f).exists() for f in SAMPLE_FILES[:2]):
        return repo
    target = (data_dir or default_data_dir()) / "sample"
    if not all((target / f).exists() for f in SAMPLE_FILES[:2]):
        from pipelines.sample.practice import generate

        generate(target, seed=DEMO_SEED)
    return target


def demo_is_stale(db: Path, files: list[Path]) -> bool:
    if not db.exists():
        return True
    built = db.stat().st_mtime
    return any(f.stat().st_mtime > built for f in files)


def ensure_demo_db(data_dir: Path | None = None, force: bool = False, log=print) -> Path:
    """The demo database, built from the sample CSVs when missing or older than them.

    Built into a temporary file in the same folder and moved into place, so a half-built
    demo is never served and a running dashboard never sees a partial import.
    """
    from pipelines.ingest.importer import ingest_files
    from pipelines.warehouse import audit

    data_dir = data_dir or default_data_dir()
    src = sample_dir(data_dir)
    files = [src / f for f in SAMPLE_FILES if (src / f).exists()]
    db = data_dir / DEMO_DB_NAME
    if not force and not demo_is_stale(db, files):
        return db
    data_dir.mkdir(parents=True, exist_ok=True)
    log(f"building the demo practice from {src} …")
    with tempfile.TemporaryDirectory(dir=data_dir, prefix=".demo-build-") as tmp:
        tmp_db = Path(tmp) / DEMO_DB_NAME
        # The demo is built by `knotwork demo`: its imports are the command line's in the audit log.
        reports = ingest_files(files, db=tmp_db, actor=audit.cli_actor())
        failed = [r for r in reports if r.error]
        if failed:
            raise RuntimeError(f"could not build the demo database: {failed[0].path}: {failed[0].error}")
        wal = Path(f"{db}.wal")
        if wal.exists():
            wal.unlink()
        shutil.move(str(tmp_db), str(db))
    log(f"demo database ready at {db}")
    return db
