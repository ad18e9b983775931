"""One background loop for every long-running helper thread (inbox writer, webhook worker, reconcile).

A :class:`BackgroundLoop` runs a *step* function in a named daemon thread: once at start, then
again whenever it is woken, its interval passes, or the previous step said more work is ready. A
step that raises is logged and the loop goes on (unless the owner asked it to stop on errors);
:meth:`BackgroundLoop.stop` sets the stop event, wakes the thread and joins it with a timeout.

Error logs never carry secrets: the loop logs the exception (class, message and traceback, which
hold no local variables) with every string in ``secrets`` masked.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable, Iterable

from pydantic import BaseModel, SecretStr

from v2mom.redaction import redact

log = logging.getLogger(__name__)

Step = Callable[[], "bool | None"]


class BackgroundLoop:
    """A named daemon thread that runs ``step`` until stopped.

    ``step`` returns True when more work is ready (it runs again at once), anything else to wait
    for :meth:`wake`, ``interval`` seconds (None: only a wake), or :meth:`stop`. With
    ``drain_on_stop`` the step runs once more after a stop, and again while it returns True, so
    what was queued before the stop is finished. Exceptions of ``quiet_errors`` are logged as one
    warning line (expected failures, e.g. a tracker being down); others with their traceback.
    """

    def __init__(
        self,
        name: str,
        step: Step,
        *,
        interval: float | None = None,
        drain_on_stop: bool = False,
        stop_on_error: bool = False,
        quiet_errors: tuple[type[Exception], ...] = (),
        secrets: Iterable[str] = (),
        join_timeout: float = 30.0,
        logger: logging.Logger | None = None,
    ) -> None:
        """Prepare; nothing runs until :meth:`start`."""
        self.name = name
        self.interval = interval
        self.join_timeout = join_timeout
        self._step = step
        self._drain_on_stop = drain_on_stop
        self._stop_on_error = stop_on_error
        self._quiet_errors = quiet_errors
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        self._log = logger or log
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.steps = 0
        self.failures = 0
        self.last_error: str | None = None

    @property
    def stopping(self) -> bool:
        """True once :meth:`stop` was called (a long step may check it between units of work)."""
        return self._stop.is_set()

    def is_alive(self) -> bool:
        """Whether the thread is running."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the thread; the first step runs at once."""
        if self._thread is not None:
            raise RuntimeError(f"background loop {self.name!r} was already started")
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Run the next step soon, not at the next interval."""
        self._wake.set()

    def stop(self, timeout: float | None = None) -> bool:
        """Stop after the current step (and the drain, if asked); True when the thread has ended."""
        self._stop.set()
        self._wake.set()
        if self._thread is None or self._thread is threading.current_thread():
            return self._thread is None
        return join_or_warn(self._thread, self.join_timeout if timeout is None else timeout, self._log)

    def _run(self) -> None:
        while not self._stop.is_set():
            more = self._safe_step()
            if more is None:  # the owner asked to stop on errors
                self._stop.set()
                return
            if not more and not self._stop.is_set():
                self._wake.wait(self.interval)
                self._wake.clear()
        if self._drain_on_stop:
            while self._safe_step():
                continue

    def _safe_step(self) -> bool | None:
        """Run one step: True if more is ready, False to wait, None when an error ends the loop."""
        try:
            more = self._step() is True
        except Exception as exc:
            self.last_error = self._redact(f"{type(exc).__name__}: {exc}")
            if isinstance(exc, self._quiet_errors):
                self._log.warning("%s: step failed: %s", self.name, self.last_error)
            else:
                detail = self._redact("".join(traceback.format_exception(exc)).rstrip())
                self._log.error("%s: step failed\n%s", self.name, detail)
            self.failures += 1  # after the log line, so a watcher of the count sees it logged
            return None if self._stop_on_error else False
        finally:
            self.steps += 1
        return more

    def _redact(self, text: str) -> str:
        return redact(text, self._secrets)


def join_or_warn(thread: threading.Thread, timeout: float, logger: logging.Logger | None = None) -> bool:
    """Join ``thread`` for at most ``timeout`` seconds; log a warning if it is still running."""
    thread.join(timeout)
    if thread.is_alive():
        (logger or log).warning("thread %s did not stop within %.0f s", thread.name, timeout)
        return False
    return True


def secret_values(model: BaseModel) -> list[str]:
    """Every ``SecretStr`` value inside ``model`` (nested models, lists, dicts), to mask in logs."""
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, SecretStr):
            found.append(value.get_secret_value())
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name))
        elif isinstance(value, list | tuple | set | frozenset):
            for element in value:
                walk(element)
        elif isinstance(value, dict):
            for element in value.values():
                walk(element)

    walk(model)
    return found
