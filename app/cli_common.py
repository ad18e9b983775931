"""What every ``v2mom`` command shares: the consoles, the ``-c`` option, errors as exit codes, the store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console

from v2mom.errors import ConfigError, DatabaseUnavailableError, V2momError
from v2mom.settings import Settings
from v2mom.store.database import Database

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

ConfigOpt = Annotated[
    str | None, typer.Option("-c", "--config", help="Settings file (default: $V2MOM_CONFIG or ./v2mom.yaml).")
]


@contextmanager
def exit_on_errors(code: int = 2) -> Iterator[None]:
    """Print our errors as one clear message and exit with ``code`` (2 invalid input, 1 failure).

    An unreachable database is a failure (1), never invalid input, and its one line names the
    database without its password.
    """
    try:
        yield
    except DatabaseUnavailableError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(1) from None
    except ConfigError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(2) from None
    except V2momError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(code) from None


def open_store(settings: Settings) -> Database:
    """Open (and migrate) the configured database."""
    return Database.open(settings.database_url)
