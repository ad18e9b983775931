"""What ``pip install .`` ships, from a checkout as any clone has it (no symlinks anywhere): the
sdist holds every source file, a wheel built from that sdist holds every module, and the installed
package runs ``demo``, ``sync`` and ``serve``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.layout import ROOT, declared_packages, folder_of, package_dirs, package_folders, source_modules
from tests.support import free_port, stop_process, wait_for

STAGES = ("app", "connectors", "mapping", "reports", "sandbox", "store", "sync", "webhooks")
GIT = shutil.which("git") or "git"


def _tracked_files() -> list[str]:
    listed = subprocess.run([GIT, "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True)
    return [name for name in listed.stdout.decode().split("\0") if name and (ROOT / name).exists()]


def _plain_checkout(destination: Path) -> Path:
    """The tracked files as plain files (what ``git -c core.symlinks=false clone`` or a zip gives).

    Building in place would reuse a stale ``build/`` left by an earlier build, shipping deleted modules.
    """
    for name in _tracked_files():
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, target)
    return destination


def _build(kind: str, source: Path, out: Path) -> Path:
    """Build an sdist or a wheel of ``source`` into ``out`` with setuptools' PEP 517 backend."""
    hook = "build_sdist" if kind == "sdist" else "build_wheel"
    script = f"import sys; from setuptools import build_meta as b; print(b.{hook}(sys.argv[1]))"
    run = subprocess.run(
        [sys.executable, "-c", script, str(out)], cwd=source, check=False, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return out / run.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist of a link-less copy of the checkout."""
    source = _plain_checkout(tmp_path_factory.mktemp("checkout"))
    return _build("sdist", source, tmp_path_factory.mktemp("sdist"))


@pytest.fixture(scope="module")
def wheel(sdist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from the unpacked sdist, as ``pip install`` of the sdist would build it."""
    unpacked = tmp_path_factory.mktemp("unpacked")
    with tarfile.open(sdist) as archive:
        archive.extractall(unpacked, filter="data")
    (project,) = unpacked.iterdir()
    return _build("wheel", project, tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel installed into a folder of its own (the console script lands in its bin/)."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    return target


def test_the_repository_holds_no_symlinks() -> None:
    listed = subprocess.run([GIT, "ls-files", "-s"], cwd=ROOT, check=True, capture_output=True, text=True)
    links = [line.split("\t")[1] for line in listed.stdout.splitlines() if line.startswith("120000")]
    assert links == [], f"tracked symlinks (a clone without symlinks turns them into text files): {links}"


def test_every_folder_with_python_is_a_declared_package() -> None:
    declared = {folder_of(package) for package in declared_packages()}
    missing_init = [str(f.relative_to(ROOT)) for f in package_folders() if not (f / "__init__.py").exists()]
    undeclared = [str(f.relative_to(ROOT)) for f in package_folders() if f not in declared]
    assert not missing_init, f"folders whose modules a wheel would drop (no __init__.py): {missing_init}"
    assert not undeclared, f"packages missing from [tool.setuptools] packages: {undeclared}"


def test_the_sdist_holds_every_source_file(sdist: Path) -> None:
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    sources = [
        name
        for name in _tracked_files()
        if name.split("/")[0] in set(package_dirs().values()) and "/__pycache__/" not in name
    ]
    missing = sorted(set(sources) - names)
    assert not missing, f"files the sdist drops: {missing[:10]}"
    assert {"pyproject.toml", "README.md"} <= names


def test_the_wheel_holds_every_module_under_one_import_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top == {"v2mom"}
    shipped = {
        name[: -len(".py")].removesuffix("/__init__").replace("/", ".")
        for name in names
        if name.endswith(".py")
    }
    assert len(source_modules()) > 150
    missing = sorted(source_modules() - shipped)
    assert not missing, f"modules the wheel drops: {missing[:10]}"
    assert not any(name.startswith(("v2mom/bench/", "v2mom/tests/", "v2mom/core/")) for name in names)


def test_the_wheel_carries_its_data_files_and_console_script(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    names = archive.namelist()
    for expected in (
        "v2mom/py.typed",
        "v2mom/app/static/index.html",
        "v2mom/app/static/app.js",
        "v2mom/sandbox/sample_plan.yaml",
        "v2mom/store/migrations/script.py.mako",
        "v2mom/connectors/linear/queries/issues.graphql",
    ):
        assert expected in names, f"{expected} is missing from the wheel"
    assert any(name.startswith("v2mom/store/migrations/versions/0001_") for name in names)
    (entry_points,) = [name for name in names if name.endswith(".dist-info/entry_points.txt")]
    assert "v2mom = v2mom.app.cli:main" in archive.read(entry_points).decode()


def _env(installed: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(installed)}
    for name in ("V2MOM_CONFIG", "V2MOM_DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(name, None)
    return env


def test_installed_wheel_has_no_top_level_stage_modules(installed: Path, tmp_path: Path) -> None:
    assert {p.name for p in installed.iterdir() if not p.name.endswith(".dist-info")} - {"bin"} == {"v2mom"}
    probe = "import importlib.util as u, sys; sys.exit(0 if u.find_spec(sys.argv[1]) is None else 1)"
    for name in (*STAGES, "core"):
        gone = subprocess.run(
            [sys.executable, "-c", probe, name], cwd=tmp_path, env=_env(installed), check=False
        )
        assert gone.returncode == 0, f"a top-level '{name}' is importable from the installed wheel"
    found = subprocess.run(
        [sys.executable, "-c", "import v2mom.sync, v2mom.connectors.jira; print(v2mom.sync.__file__)"],
        cwd=tmp_path,
        env=_env(installed),
        check=True,
        capture_output=True,
        text=True,
    )
    assert found.stdout.startswith(str(installed / "v2mom" / "sync"))


@pytest.fixture
def installed_demo(installed: Path, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """``v2mom demo`` run from the installed wheel, outside the checkout: its settings file and URL."""
    port = free_port()
    log = tmp_path / "demo.log"
    command = [sys.executable, "-c", "from v2mom.app.cli import main; main()", "demo", "--port", str(port)]
    with log.open("w") as out:
        demo = subprocess.Popen(
            command, env=_env(installed), stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path
        )
    try:
        settings_file = tmp_path / "v2mom-demo.yaml"
        assert wait_for(lambda: "admin token:" in log.read_text() or demo.poll() is not None, 120)
        assert demo.poll() is None, log.read_text()
        yield settings_file, f"http://127.0.0.1:{port}"
    finally:
        stop_process(demo)
    assert "Traceback" not in log.read_text()


def test_the_installed_wheel_runs_demo_sync_and_serve(
    installed: Path, installed_demo: tuple[Path, str], tmp_path: Path
) -> None:
    settings_file, demo_url = installed_demo
    assert requests.get(f"{demo_url}/healthz", timeout=30).json() == {"status": "ok"}
    cli = [sys.executable, "-c", "from v2mom.app.cli import main; main()"]
    sync = subprocess.run(
        [*cli, "sync", "-c", str(settings_file), "--tracker", "linear"],
        env=_env(installed),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert sync.returncode == 0, sync.stdout + sync.stderr
    port = free_port()
    serve = subprocess.Popen(
        [*cli, "serve", "-c", str(settings_file), "--port", str(port)],
        env=_env(installed),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        served = f"http://127.0.0.1:{port}"
        assert wait_for(lambda: _answers(f"{served}/healthz") or serve.poll() is not None, 60)
        assert serve.poll() is None
        assert requests.get(f"{served}/", timeout=10).status_code == 200
    finally:
        stop_process(serve)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


@pytest.mark.parametrize("stage", [*STAGES, "core"])
def test_a_checkout_folder_refuses_its_bare_name(stage: str) -> None:
    """From the checkout's root the folders are on sys.path; importing them bare must fail loudly."""
    run = subprocess.run(
        [sys.executable, "-c", f"import {stage}"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert run.returncode != 0
    expected = "import v2mom, not core" if stage == "core" else f"import v2mom.{stage}, not {stage}"
    assert expected in run.stderr
