"""Log lines of the long-running commands: the usual text, or one JSON object per line.

``v2mom serve --log-format json`` (or ``log_format: json``, or ``V2MOM_LOG_FORMAT=json``) writes
each record to stderr as ``{"time", "level", "logger", "message"}``, plus ``exc_info`` (the
formatted traceback) when the record carries one. In both formats every configured secret
(:meth:`v2mom.settings.Settings.secrets`: tokens, keys, webhook secrets and every form of the
database password) is replaced by ``***``, as the background loops do.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import IO, Literal

from v2mom.redaction import redact

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"  # what the CLI's basicConfig writes


class MaskingFormatter(logging.Formatter):
    """A text formatter that masks ``secrets`` in the whole line, traceback included."""

    def __init__(self, secrets: Iterable[str] = (), fmt: str = TEXT_FORMAT) -> None:
        """Mask ``secrets`` (empty ones ignored, longest first) in what ``fmt`` gives."""
        super().__init__(fmt)
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        """The formatted record, secrets masked."""
        return redact(super().format(record), self.secrets)


class JsonFormatter(MaskingFormatter):
    """One JSON object per record, on one line; secrets masked in the message and traceback."""

    def format(self, record: logging.LogRecord) -> str:
        """``{"time", "level", "logger", "message"[, "exc_info"][, "stack_info"]}`` as one line."""
        document = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")[:-6] + "Z",
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage(), self.secrets),
        }
        if record.exc_info:
            document["exc_info"] = redact(self.formatException(record.exc_info), self.secrets)
        if record.stack_info:
            document["stack_info"] = redact(self.formatStack(record.stack_info), self.secrets)
        return json.dumps(document, ensure_ascii=False)


def basic_logging() -> None:
    """Every ``v2mom`` process's start (the CLI's, each ``serve --workers`` process's): warnings and
    errors on stderr, one line each (``LEVEL logger: message``), until :func:`configure_logging`."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


def configure_logging(
    log_format: LogFormat, secrets: Iterable[str] = (), *, stream: IO[str] | None = None
) -> logging.Handler:
    """Make the root logger write ``log_format`` lines to ``stream`` (stderr) through one handler.

    Replaces the root's handlers (the CLI's ``basicConfig`` one); its level is left as it is.
    Returns the handler.
    """
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    formatter = JsonFormatter(secrets) if log_format == "json" else MaskingFormatter(secrets)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    return handler


@contextmanager
def root_handlers_restored() -> Iterator[None]:
    """Give the root logger its handlers back on exit, whatever :func:`configure_logging` did inside.

    A command that configures logging (``serve``) runs inside it, so running it in-process (the
    tests' CliRunner) leaves no handler behind bound to a stream that is closed afterwards.
    """
    root = logging.getLogger()
    saved = list(root.handlers)
    try:
        yield
    finally:
        root.handlers[:] = saved
