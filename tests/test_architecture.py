"""The import contract (.importlinter) holds, and it catches an upward import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.layout import ROOT, installed_copy

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(package_parent: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / ".importlinter"), "--no-cache"],
        cwd=package_parent,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    """The v2mom package laid out as it installs (core/ as v2mom/, each stage under it), sources only."""
    return installed_copy(
        tmp_path, shutil.ignore_patterns("__pycache__", "static", "*.graphql", "*.yaml", "*.mako", "*.typed")
    )


def test_the_contract_holds_on_the_tree() -> None:
    run = _lint_imports(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


@pytest.mark.parametrize(
    ("module", "upward_import", "named"),
    [
        ("store/schema.py", "import v2mom.app.factory", "v2mom.store.schema -> v2mom.app.factory"),
        ("mapping/resolver.py", "import v2mom.store.schema", "v2mom.mapping.resolver -> v2mom.store.schema"),
        ("reports/flags.py", "import v2mom.webhooks.worker", "v2mom.reports.flags -> v2mom.webhooks.worker"),
        ("models.py", "import v2mom.mapping.plan", "v2mom.models -> v2mom.mapping.plan"),
        ("sync/runner.py", "import v2mom.sandbox.server", "v2mom.sync.runner -> v2mom.sandbox.server"),
        ("store/schema.py", "import atlassian", "v2mom.store.schema -> atlassian"),
        ("reports/flags.py", "import sqlalchemy", "v2mom.reports.flags -> sqlalchemy"),
    ],
)
def test_an_upward_import_breaks_the_contract(
    package_copy: Path, module: str, upward_import: str, named: str
) -> None:
    target = package_copy / "v2mom" / module
    target.write_text(target.read_text() + f"\n{upward_import}  # deliberately upward\n")
    run = _lint_imports(package_copy)
    assert run.returncode == 1, run.stdout + run.stderr
    assert named in run.stdout


TEMPLATE = ("client", "parse", "webhook", "connector", "vocabulary", "tags", "links")


@pytest.mark.parametrize("tracker", ["jira", "asana", "linear"])
def test_every_connector_has_the_same_files_for_the_same_jobs(tracker: str) -> None:
    """The files connectors/__init__.py lists are in every tracker's package, and so are their tests."""
    package = ROOT / "connectors" / tracker
    assert [name for name in TEMPLATE if not (package / f"{name}.py").is_file()] == []
    tests = ROOT / "tests" / "connectors" / tracker
    writers = ("vocabulary", "tags", "links")
    assert [name for name in writers if not (tests / f"test_{name}.py").is_file()] == []


def test_provisioning_and_write_back_share_nothing_but_the_store() -> None:
    """Write-back reads the provisioned options through the store's vocabulary repository, never
    through the provisioning use case."""
    source = (ROOT / "sync" / "writeback.py").read_text(encoding="utf-8")
    assert "sync.provision" not in source
    assert "store.vocabulary.offered(" in source
