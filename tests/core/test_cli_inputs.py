"""Invalid input on the command line: refused with exit 2 by the option's own validation, before
anything is opened or created, and never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

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
