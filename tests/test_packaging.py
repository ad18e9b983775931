"""What a non-editable ``pip install .`` ships, read off a wheel built from this checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("app", "connectors", "mapping", "reports", "sandbox", "store", "sync", "webhooks")


def _tracked_copy(destination: Path) -> Path:
    """The checkout's tracked files (symlinks kept as symlinks), as a fresh clone would have them.

    Building in place would reuse a stale ``build/`` left by an earlier build, shipping deleted modules.
    """
    git = shutil.which("git") or "git"
    listed = subprocess.run([git, "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True)
    names = listed.stdout.decode().split("\0")
    for name in filter(None, names):
        source, target = ROOT / name, destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        elif source.exists():
            shutil.copy2(source, target)
    return destination


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built from a copy of the tracked files without build isolation."""
    source = _tracked_copy(tmp_path_factory.mktemp("source"))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            source,
        ],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("v2mom_sync-*.whl")
    return built


def test_the_wheel_installs_exactly_one_import_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top == {"v2mom"}
    assert not any(name.startswith(("v2mom/bench/", "v2mom/tests/")) for name in names)
    for stage in STAGES:
        assert f"v2mom/{stage}/__init__.py" in names, f"v2mom.{stage} is missing from the wheel"


def test_the_wheel_carries_its_data_files_and_console_script(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    names = archive.namelist()
    for expected in (
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


def test_installed_wheel_has_no_top_level_stage_modules(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    installed = {p.name for p in target.iterdir() if not p.name.endswith(".dist-info")}
    assert installed - {"bin"} == {"v2mom"}  # bin/ holds the console script
    env = {**os.environ, "PYTHONPATH": str(target)}
    probe = "import importlib.util as u, sys; sys.exit(0 if u.find_spec(sys.argv[1]) is None else 1)"
    for name in ("sync", "mapping", "reports", "webhooks", "connectors", "sandbox", "store", "app"):
        gone = subprocess.run([sys.executable, "-c", probe, name], cwd=tmp_path, env=env, check=False)
        assert gone.returncode == 0, f"a top-level '{name}' is importable from the installed wheel"
    found = subprocess.run(
        [sys.executable, "-c", "import v2mom.sync, v2mom.connectors.jira; print(v2mom.sync.__file__)"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    assert found.stdout.startswith(str(target / "v2mom" / "sync"))


@pytest.mark.parametrize("stage", STAGES)
def test_a_stage_folder_refuses_its_bare_name(stage: str) -> None:
    """From the checkout's root the folders are on sys.path; importing them bare must fail loudly."""
    run = subprocess.run(
        [sys.executable, "-c", f"import {stage}"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert run.returncode != 0
    assert f"import v2mom.{stage}, not {stage}" in run.stderr


def test_every_product_folder_with_python_is_a_package() -> None:
    folders = [p for stage in STAGES for p in [ROOT / stage, *(ROOT / stage).rglob("*")] if p.is_dir()]
    missing = [
        str(folder.relative_to(ROOT))
        for folder in folders
        if "__pycache__" not in folder.parts
        and any(folder.glob("*.py"))
        and not (folder / "__init__.py").exists()
    ]
    assert not missing, f"folders whose modules a wheel would drop: {missing}"
