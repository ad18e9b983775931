"""The one serving wiring, shared by ``v2mom serve`` and ``v2mom demo``.

Build the app around an open store (its inbox writer runs with the app), start the webhook worker
and the reconcile schedule, start any companions (the demo's webhook senders and simulated team),
run the HTTP server until it exits, then stop everything in reverse order: companions, reconcile,
worker.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from fastapi import FastAPI

from v2mom.app.factory import create_app
from v2mom.settings import Settings
from v2mom.store.database import Database
from v2mom.sync.schedule import ReconcileThread
from v2mom.webhooks.ingest import tune_interpreter_for_serving
from v2mom.webhooks.worker import start_worker

RunServer = Callable[[FastAPI], None]


class Service(Protocol):
    """Something that runs beside the server."""

    def start(self) -> None:
        """Start running in the background."""

    def stop(self) -> None:
        """Stop and wait for it to end."""


def uvicorn_server(
    host: str, port: int, log_level: str = "info", *, own_log_config: bool = True
) -> RunServer:
    """Serve with uvicorn on ``host:port`` until interrupted.

    ``own_log_config=False`` leaves uvicorn's loggers without handlers of their own, so their records
    (startup lines, the access log) go through the root handler (``v2mom.logs``: JSON lines).
    """

    def run(application: FastAPI) -> None:
        import uvicorn
        from uvicorn.config import LOGGING_CONFIG

        log_config = LOGGING_CONFIG if own_log_config else None
        uvicorn.run(application, host=host, port=port, log_level=log_level, log_config=log_config)

    return run


def serve_app(
    settings: Settings,
    store: Database,
    run_server: RunServer,
    *,
    companions: Sequence[Service] = (),
) -> None:
    """Serve ``store`` with the in-process webhook worker and reconcile schedule until the server exits.

    ``companions`` start after the worker and the schedule and stop before them, in reverse order.
    Whatever started is stopped, even when the server or a later start fails.
    """
    tune_interpreter_for_serving()
    application = create_app(settings, store)
    started: list[Service] = [start_worker(application, settings, store)]
    try:
        reconcile = ReconcileThread(settings, store)
        reconcile.start()
        started.append(reconcile)
        for companion in companions:
            companion.start()
            started.append(companion)
        run_server(application)
    finally:
        for service in reversed(started):
            service.stop()
