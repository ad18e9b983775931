"""``v2mom demo`` and ``v2mom serve`` as a user runs them: a second demo is refused before it touches
the running one's database, a busy port is one line before anything says "serving on", and the demo
hands out what the CLI and the dashboard need (an admin token, a settings file)."""

from __future__ import annotations

import os
import re
import socket
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from typer.testing import CliRunner

from tests.layout import ROOT
from tests.support import free_port, stop_process, wait_for
from tests.webhooks.jira_signing import v2mom
from v2mom.app.cli import app
from v2mom.app.demo import DemoLock
from v2mom.settings import load_settings

runner = CliRunner()
SENTINEL = b"the running demo's database"


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port on 127.0.0.1 that another server listens on."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield int(taken.getsockname()[1])


@pytest.fixture
def demo_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("V2MOM_DATABASE_URL", raising=False)
    monkeypatch.delenv("V2MOM_CONFIG", raising=False)
    (tmp_path / "v2mom-demo.db").write_bytes(SENTINEL)
    return tmp_path


def test_a_second_demo_on_the_same_database_is_refused_before_touching_it(demo_dir: Path) -> None:
    running = DemoLock(demo_dir / "v2mom-demo.db")  # what a running demo holds for its life
    running.note("pid 4242, http://127.0.0.1:8000/")
    try:
        result = runner.invoke(app, ["demo", "--port", str(free_port())])
    finally:
        running.release()
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    (line,) = result.stderr.splitlines()
    assert line.startswith(
        "error: a demo is already running on v2mom-demo.db (pid 4242, http://127.0.0.1:8000/)"
    )
    assert "--database" in line
    assert (demo_dir / "v2mom-demo.db").read_bytes() == SENTINEL
    assert not (demo_dir / "v2mom-demo.yaml").exists()
    assert "starting" not in result.stdout


def test_a_demo_on_a_busy_port_is_refused_before_touching_its_database(
    demo_dir: Path, busy_port: int
) -> None:
    result = runner.invoke(app, ["demo", "--port", str(busy_port)])
    assert result.exit_code == 1, result.output
    (line,) = result.stderr.splitlines()
    assert line == (
        f"error: cannot serve on 127.0.0.1:{busy_port}: the address is already in use (another v2mom "
        "serve or demo, or another server); choose another --port"
    )
    assert result.stdout == ""
    assert (demo_dir / "v2mom-demo.db").read_bytes() == SENTINEL
    DemoLock(demo_dir / "v2mom-demo.db").release()  # the refused demo let go of the lock


def test_serve_on_a_busy_port_says_so_in_one_line_and_never_that_it_serves(
    tmp_path: Path, busy_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("V2MOM_DATABASE_URL", raising=False)
    config = tmp_path / "v2mom.yaml"
    config.write_text(f"database_url: sqlite:///{tmp_path / 'v2mom.db'}\n")
    result = runner.invoke(app, ["serve", "-c", str(config), "--port", str(busy_port)])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert "serving on" not in result.stdout
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: cannot serve on 127.0.0.1:{busy_port}: the address is already in use")
    assert not (tmp_path / "v2mom.db").exists()  # refused before the database is opened


def test_serve_on_an_address_of_no_interface_names_the_host(tmp_path: Path) -> None:
    config = tmp_path / "v2mom.yaml"
    config.write_text(f"database_url: sqlite:///{tmp_path / 'v2mom.db'}\n")
    result = runner.invoke(app, ["serve", "-c", str(config), "--host", "192.0.2.1", "--port", "8000"])
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: cannot serve on 192.0.2.1:8000: ")
    assert "--host must name an address of this machine" in line


def printed(log: Path, prefix: str) -> str | None:
    """The rest of the first line of ``log`` starting with ``prefix``, if printed yet."""
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith(prefix):
            return line[len(prefix) :].strip()
    return None


def test_the_demo_prints_tokens_and_a_settings_file_for_the_cli_and_keeps_a_second_demo_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the second demo below runs here, in the same folder as the first
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("V2MOM_CONFIG", "V2MOM_DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(name, None)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        demo = subprocess.Popen(
            v2mom("demo", "--port", str(port)), env=env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path
        )
    try:
        assert wait_for(lambda: printed(log, "try:     v2mom report -c") or demo.poll() is not None, 120)
        assert demo.poll() is None, log.read_text()
        settings_file = Path(printed(log, "try:     v2mom report -c") or "")
        assert settings_file == tmp_path / "v2mom-demo.yaml"
        assert printed(log, "CLI settings:") == f"{settings_file} (0600; the demo's database and sandboxes)"
        assert stat.S_IMODE(settings_file.stat().st_mode) == 0o600
        assert printed(log, "dashboard:") == f"{base}/  (sign in with a token below)"
        viewer = printed(log, "viewer token:") or ""
        admin = (printed(log, "admin token:") or "").split()[0]
        assert viewer.startswith("v2m_")
        assert admin.startswith("v2m_")

        # The tokens work against the running demo: the admin one on an admin route.
        # The port listens from the start: a request made now waits for the server instead of failing.
        assert requests.get(f"{base}/healthz", timeout=30).json() == {"status": "ok"}
        tokens = requests.get(
            f"{base}/api/admin/tokens", headers={"Authorization": f"Bearer {admin}"}, timeout=10
        )
        assert tokens.status_code == 200
        denied = requests.get(
            f"{base}/api/admin/tokens", headers={"Authorization": f"Bearer {viewer}"}, timeout=10
        )
        assert denied.status_code == 403

        # The settings file points the CLI at the demo's database and sandboxes.
        settings = load_settings(settings_file)
        assert settings.database_url == f"sqlite:///{tmp_path / 'v2mom-demo.db'}"
        assert settings.trackers.configured() == ["jira", "asana", "linear"]
        report = runner.invoke(app, ["report", "-c", str(settings_file), "--format", "json"])
        assert report.exit_code == 0, report.output
        synced = printed(log, "synced") or ""
        match = re.match(
            r"(\d+) items .* count (\d+) of them: the other (\d+) are canceled or duplicates", synced
        )
        assert match is not None, synced
        items, counted, left_out = (int(n) for n in match.groups())
        assert items == counted + left_out
        assert '"total":{"effort":' in report.stdout
        assert f',"items":{counted}}}' in report.stdout  # the dashboard's "over M items"
        page = requests.get(f"{base}/", timeout=10).text  # which says why it counts fewer
        assert "canceled, duplicate and deleted items count nothing" in page
        assert '"synced N items"' in page
        sync = runner.invoke(app, ["sync", "-c", str(settings_file), "--tracker", "jira"])
        assert sync.exit_code == 0, sync.output

        # A second demo in the same folder is refused without touching the running one's database.
        before = (tmp_path / "v2mom-demo.db").stat().st_ino
        second = runner.invoke(app, ["demo", "--port", str(free_port())])
        assert second.exit_code == 1
        assert f"a demo is already running on v2mom-demo.db (pid {demo.pid}, {base}/)" in second.stderr
        assert (tmp_path / "v2mom-demo.db").stat().st_ino == before
        assert requests.get(
            f"{base}/api/reports/effort-by-value", headers={"Authorization": f"Bearer {viewer}"}, timeout=10
        ).ok
    finally:
        stop_process(demo)
    assert "Traceback" not in log.read_text()


def test_a_demo_database_in_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    database = tmp_path / "missing" / "demo.db"
    result = runner.invoke(app, ["demo", "--database", str(database), "--port", str(free_port())])
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert (
        line == f"error: {database}.demo.lock: cannot create the demo's lock file: No such file or directory"
    )
