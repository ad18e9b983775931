"""``examples/v2mom.yaml`` and ``examples/plan.yaml`` pass ``v2mom check`` and show every key; the
README documents every key itself, with no file outside the repository to read."""

from __future__ import annotations

import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel
from typer.testing import CliRunner

from tests.layout import ROOT
from v2mom.app.cli import app
from v2mom.mapping.plan import Plan, load_plan
from v2mom.settings import Settings, load_settings

SETTINGS = ROOT / "examples" / "v2mom.yaml"
DATACENTER = ROOT / "examples" / "v2mom-datacenter.yaml"  # the keys only Jira Data Center takes
PLAN = ROOT / "examples" / "plan.yaml"
SECRETS = {  # the variables the example reads its secrets from
    "JIRA_EMAIL": "pm@example.com",
    "JIRA_API_TOKEN": "jira-token",
    "JIRA_PAT": "jira-personal-access-token",
    "JIRA_WEBHOOK_SECRET": "jira-hook-secret",
    "ASANA_TOKEN": "asana-token",
    "LINEAR_API_KEY": "lin_api_key",
    "LINEAR_WEBHOOK_SECRET": "linear-hook-secret",
}
runner = CliRunner()


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("V2MOM_CONFIG", "V2MOM_DATABASE_URL", "V2MOM_LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    return tmp_path


def keys(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """Every key of ``model``, dotted, down to the leaves (``sync.max_retries``, ``rules.when.epic``)."""
    for name, field in model.model_fields.items():
        nested = [t for t in _types(field.annotation) if isinstance(t, type) and issubclass(t, BaseModel)]
        if nested:
            for inner in nested:
                yield from keys(inner, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}"


def _types(annotation: Any) -> set[Any]:
    args = typing.get_args(annotation)
    return {annotation} if not args else set().union(*(_types(a) for a in args))


def present(data: Any, dotted: str) -> bool:
    """Whether ``dotted`` is set somewhere in ``data`` (in any element of a list on the way)."""
    head, _, rest = dotted.partition(".")
    if isinstance(data, list):
        return any(present(item, dotted) for item in data)
    if not isinstance(data, dict) or head not in data:
        return False
    return not rest or present(data[head], rest)


def test_the_examples_pass_check_with_their_secrets_in_the_environment(environment: Path) -> None:
    result = runner.invoke(app, ["check", "-c", str(SETTINGS), str(PLAN)])
    assert result.exit_code == 0, result.output
    assert (
        f"settings ok: {SETTINGS}: trackers: jira, asana, linear; database: sqlite:///v2mom.db"
        in result.stdout
    )
    assert "plan ok: 3 values, 3 methods, 9 rules" in result.stdout
    assert result.stderr == ""  # no warning: the secrets are ${VAR}s
    assert list(environment.iterdir()) == []


def test_the_settings_example_shows_every_setting(environment: Path) -> None:
    settings = load_settings(SETTINGS)
    assert settings.trackers.jira is not None
    assert settings.trackers.jira.api_token.get_secret_value() == "jira-token"
    data = yaml.safe_load(SETTINGS.read_text(encoding="utf-8"))
    datacenter = yaml.safe_load(DATACENTER.read_text(encoding="utf-8"))
    missing = [key for key in keys(Settings) if not present(data, key) and not present(datacenter, key)]
    assert missing == []
    assert not present(data, "trackers.jira.token")  # Cloud's example holds no Data Center key


def test_the_data_center_example_passes_check(environment: Path) -> None:
    result = runner.invoke(app, ["check", "-c", str(DATACENTER)])
    assert result.exit_code == 0, result.output
    settings = load_settings(DATACENTER)
    assert settings.trackers.jira is not None
    assert settings.trackers.jira.deployment == "datacenter"
    assert settings.trackers.jira.credential() == "jira-personal-access-token"


def test_the_plan_example_uses_every_key_of_the_plan() -> None:
    plan = load_plan(PLAN.read_text(encoding="utf-8"), str(PLAN))
    assert plan.vision
    data = yaml.safe_load(PLAN.read_text(encoding="utf-8"))
    missing = [key for key in keys(Plan) if not present(data, key)]
    assert missing == []


def test_the_readme_documents_every_key_without_a_file_outside_the_repository() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "../shared/CONTRACT.md" not in readme
    assert "(examples/v2mom.yaml)" in readme
    assert "(examples/plan.yaml)" in readme
    undocumented = []
    for key in keys(Settings):
        parts = key.split(".")
        if parts[:1] == ["trackers"] and "write_back" in parts:  # one row for the three trackers
            shown = (
                f"`trackers.<tracker>.write_back.{parts[-1]}`"
                if parts[-1] == "enabled"
                else f"`.{parts[-1]}`"
            )
        else:
            shown = f"`{key}`"
        if shown not in readme:
            undocumented.append(key)
    for key in keys(Plan):
        if f"`{key.split('.')[-1]}`" not in readme:
            undocumented.append(key)
    assert undocumented == []
    for needed in ("apt-get install chromium", "/usr/bin/chromium", "../shared/contracts/", '"over M items"'):
        assert needed in readme
