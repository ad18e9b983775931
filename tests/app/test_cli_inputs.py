"""Invalid input on the command line: refused with exit 2 by the option's own validation, before
anything is opened or created, and never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.factories import VALID
from v2mom.app.cli import app

runner = CliRunner()


def flat(text: str) -> str:
    """``text`` without the error box's frame and line breaks (it wraps at the terminal's width)."""
    return " ".join(text.replace("│", " ").split())


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("V2MOM_DATABASE_URL", raising=False)
    monkeypatch.delenv("V2MOM_CONFIG", raising=False)
    (tmp_path / "v2mom.yaml").write_text(f"database_url: sqlite:///{tmp_path / 'v2mom.db'}\n")
    return tmp_path


@pytest.mark.parametrize(
    "command",
    [
        ["report"],
        ["report", "--format", "json"],
        ["sync"],
        ["writeback"],
        ["trackers", "provision"],
        ["webhooks", "register", "--url", "https://v2mom.example.com/webhooks/trello"],
    ],
)
def test_an_unknown_tracker_is_invalid_input_naming_the_trackers(workdir: Path, command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--tracker", "trello"])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "'trello' is not one of 'jira', 'asana', 'linear'" in flat(result.stderr)
    assert result.stdout == ""  # no report of zeros, no summary
    assert not (workdir / "v2mom.db").exists()  # refused before the database is opened


def test_check_without_a_settings_file_names_the_file_it_looked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("V2MOM_CONFIG", raising=False)
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 2, result.output
    assert "settings ok" not in result.stdout
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: no settings file to check: {tmp_path / 'v2mom.yaml'} does not exist")
    assert "-c PATH or $V2MOM_CONFIG" in line
    assert list(tmp_path.iterdir()) == []  # nothing created


def test_check_without_a_settings_file_still_checks_the_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("V2MOM_CONFIG", raising=False)
    (tmp_path / "plan.yaml").write_text(VALID)
    result = runner.invoke(app, ["check", "plan.yaml"])
    assert result.exit_code == 2
    assert result.stdout == "plan ok: 2 values, 2 methods, 2 rules\n"
    assert "no settings file to check" in result.stderr
    (tmp_path / "bad.yaml").write_text(VALID.replace("values: [customer-first]", "values: [speed]"))
    result = runner.invoke(app, ["check", "bad.yaml"])
    assert result.exit_code == 2
    assert "bad.yaml: methods[0].values[0]: unknown value 'speed'" in result.stderr


@pytest.mark.parametrize("how", ["-c", "V2MOM_CONFIG"])
def test_check_names_a_missing_settings_file_and_how_it_was_chosen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    monkeypatch.chdir(tmp_path)
    missing = tmp_path / "conf" / "v2mom.yaml"
    if how == "-c":
        monkeypatch.delenv("V2MOM_CONFIG", raising=False)
        result = runner.invoke(app, ["check", "-c", str(missing)])
        assert "(given with -c)" in result.stderr
    else:
        monkeypatch.setenv("V2MOM_CONFIG", str(missing))
        result = runner.invoke(app, ["check"])
        assert "(named by $V2MOM_CONFIG)" in result.stderr
    assert result.exit_code == 2
    assert f"{missing} does not exist" in result.stderr
    assert "settings ok" not in result.stdout


@pytest.mark.parametrize("command", [["serve"], ["demo"]])
@pytest.mark.parametrize("port", ["99999", "0", "-1", "http"])
def test_a_port_outside_1_to_65535_is_invalid_input_without_a_traceback(
    workdir: Path, command: list[str], port: str
) -> None:
    result = runner.invoke(app, [*command, "--port", port])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Invalid value for '--port'" in flat(result.stderr)
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert sorted(p.name for p in workdir.iterdir()) == ["v2mom.yaml"]  # nothing created or removed
