"""Logging of every ``v2mom`` process: the CLI's and each ``serve --workers`` process's."""

from __future__ import annotations

import logging


def configure_logging() -> None:
    """Warnings and errors on stderr, one line each: ``LEVEL logger: message``."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
