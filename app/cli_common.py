"""What every ``v2mom`` command shares: the consoles, the ``-c`` option, errors as exit codes, the store."""

from __future__ import annotations

import getpass
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from v2mom.errors import ConfigError, DatabaseUnavailableError, V2momError
from v2mom.models import TrackerName
from v2mom.settings import Settings
from v2mom.store.database import Database

log = logging.getLogger("v2mom.app.cli")
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

ConfigOpt = Annotated[
    str | None, typer.Option("-c", "--config", help="Settings file (default: $V2MOM_CONFIG or ./v2mom.yaml).")
]


@contextmanager
def exit_on_errors(code: int = 2, *, log_format: Callable[[], str | None] = lambda: None) -> Iterator[None]:
    """Print our errors as one clear message and exit with ``code`` (2 invalid input, 1 failure).

    An unreachable database is a failure (1), never invalid input, and its one line names the
    database without its password. When ``log_format()`` says ``json`` (``serve --log-format json``,
    its logging configured already) the line is a log record like every other: one JSON object.
    """
    try:
        yield
    except DatabaseUnavailableError as exc:
        fail(exc, 1, log_format())
    except ConfigError as exc:
        fail(exc, 2, log_format())
    except V2momError as exc:
        fail(exc, code, log_format())


def fail(exc: V2momError, code: int, log_format: str | None = None) -> NoReturn:
    """Report ``exc`` on stderr (``error: ...``, or an ERROR log record in ``json``), exit ``code``."""
    if log_format == "json":
        log.error("%s", exc)
    else:
        err.print(f"error: {exc}", markup=False)
    raise typer.Exit(code) from None


def open_store(settings: Settings) -> Database:
    """Open (and migrate) the configured database."""
    return Database.open(settings.database_url)


def cli_actor() -> str:
    """Who runs a CLI command, as the audit names them: ``cli:<os user>`` (``cli`` when there is none)."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name in the environment and no passwd entry for the uid
        return "cli"


TrackerOpt = Annotated[
    TrackerName | None,
    typer.Option(help="Only this tracker (jira, asana, linear); any other name is refused (exit 2)."),
]
