"""Database outages for tests.

:class:`EngineOutage` makes every statement of one engine fail for a while with the driver's own
``OperationalError`` (both backends, no server involved).
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, event


class EngineOutage:
    """While it lasts, every statement on ``engine`` raises the driver's ``OperationalError``.

    SQLAlchemy wraps it as it wraps a real one (``sqlalchemy.exc.OperationalError``); the
    transaction it was in rolls back. :meth:`begin` starts one lasting ``seconds``.
    """

    def __init__(self, engine: Engine) -> None:
        """Watch every statement of ``engine`` (until :meth:`close`)."""
        self.engine = engine
        self.began = 0
        self._until = 0.0
        event.listen(engine, "before_cursor_execute", self._refuse)

    def begin(self, seconds: float) -> None:
        """Take the database away for ``seconds`` from now."""
        self._until = time.monotonic() + seconds
        self.began += 1

    @property
    def down(self) -> bool:
        """Whether the outage is on."""
        return time.monotonic() < self._until

    def error(self) -> Exception:
        """The driver's error for a server that went away."""
        dbapi_error: type[Exception] = self.engine.dialect.loaded_dbapi.OperationalError
        return dbapi_error("server closed the connection unexpectedly (test outage)")

    def close(self) -> None:
        """Stop watching the engine."""
        event.remove(self.engine, "before_cursor_execute", self._refuse)

    def _refuse(self, *_args: Any) -> None:
        if self.down:
            raise self.error()
