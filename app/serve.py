"""The one serving wiring, shared by ``v2mom serve`` and ``v2mom demo``.

One process (``serve``, the default, and the demo): build the app around an open store (its inbox
writer runs with the app), start the webhook worker and the reconcile schedule, start any
companions (the demo's webhook senders and simulated team), run the HTTP server until it exits,
then stop everything in reverse order: companions, reconcile, worker.

Several processes (``serve --workers N``, PostgreSQL only): :func:`serve_workers` hands uvicorn the
import string of :func:`v2mom.app.asgi.factory`, which builds the same app in each worker process
with :func:`serving_app`: its own store, webhook worker and reconcile schedule, started and stopped
with the app's lifespan. The inbox leases share the webhook work and the ``reconcile`` lock runs
the schedule once for all of them.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Protocol

from fastapi import FastAPI

from v2mom.app.factory import create_app
from v2mom.app.services import run_worker_beside
from v2mom.app.signals import exit_cleanly, on_sigterm
from v2mom.errors import V2momError
from v2mom.reports.reviews import close_due_periods
from v2mom.settings import CONFIG_ENV, Settings
from v2mom.store.database import Database
from v2mom.suggest.service import retrain_if_due
from v2mom.sync.schedule import ReconcileThread
from v2mom.webhooks.ingest import tune_interpreter_for_serving
from v2mom.workdays import WorkCalendar

RunServer = Callable[[FastAPI], None]


class Service(Protocol):
    """Something that runs beside the server."""

    def start(self) -> None:
        """Start running in the background."""

    def stop(self) -> None:
        """Stop and wait for it to end."""


class ServeError(V2momError):
    """The server could not listen or start: the message names the address and the reason."""


def address(host: str, port: int) -> str:
    """``host:port`` as a URL writes it (an IPv6 host in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def listen_socket(host: str, port: int) -> socket.socket:
    """A socket listening on ``host:port``, bound as uvicorn binds one (``SO_REUSEADDR``; IPv6 when
    the host has a ``:``), for the server to take over: bound before anything says "serving on", so
    an address in use is one line (:class:`ServeError`) and nobody can take the port between the
    check and serving. Connections that come before the server is up wait in its backlog.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot serve on {address(host, port)}: {_bind_failure(exc)}") from None
    sock.listen(2048)  # uvicorn's backlog: a client that comes before the server is up waits for it
    sock.set_inheritable(True)
    return sock


def _bind_failure(exc: OSError) -> str:
    """Why binding failed, and what to change."""
    if exc.errno == errno.EADDRINUSE:
        return (
            "the address is already in use (another v2mom serve or demo, or another server); "
            "choose another --port"
        )
    if exc.errno == errno.EACCES:
        return "permission denied (ports below 1024 need privileges); choose another --port"
    if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
        return f"{(exc.strerror or str(exc)).lower()}; --host must name an address of this machine"
    return (exc.strerror or str(exc)).lower()


def uvicorn_server(sock: socket.socket, log_level: str = "info", *, own_log_config: bool = True) -> RunServer:
    """Serve with uvicorn on the bound socket ``sock`` (:func:`listen_socket`) until interrupted
    (Ctrl-C or SIGTERM); the socket is closed afterwards. ServeError when uvicorn could not start
    (it logged why).

    ``own_log_config=False`` leaves uvicorn's loggers without handlers of their own, so their records
    (startup lines, the access log) go through the root handler (``v2mom.logs``: JSON lines).
    """

    def run(application: FastAPI) -> None:
        import uvicorn
        from uvicorn.config import LOGGING_CONFIG

        host, port = sock.getsockname()[:2]
        log_config = LOGGING_CONFIG if own_log_config else None
        config = uvicorn.Config(application, host=host, port=port, log_level=log_level, log_config=log_config)
        server = uvicorn.Server(config)
        # What uvicorn says when it binds the socket itself (here it was bound for it).
        logging.getLogger("uvicorn.error").info(
            "Uvicorn running on http://%s (Press CTRL+C to quit)", address(host, port)
        )
        try:
            server.run(sockets=[sock])
        except KeyboardInterrupt:
            pass  # Ctrl-C: uvicorn shut down and raised it again; stopping cleanly is what was asked
        finally:
            sock.close()
        if not server.started:
            raise ServeError(f"the server on {address(host, port)} did not start (the log above says why)")

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

    SIGTERM stops it as cleanly as Ctrl-C, also while it starts: the worker finishes its batch and
    hands back its claims and lease, and the process exits 0. (uvicorn shuts down on SIGTERM, then
    raises it again for the handler it found; Python's default one would end the process right
    there, before anything here is stopped.)
    """
    tune_interpreter_for_serving()
    with on_sigterm(exit_cleanly):
        application = create_app(settings, store)
        with running_services(application, settings, store) as started:
            for companion in companions:
                companion.start()
                started.append(companion)
            run_server(application)


def after_reconcile(store: Database, day: date, calendar: WorkCalendar | None = None) -> None:
    """What follows a reconcile pass in which every tracker synced: close the review periods that
    have ended (in the settings' ``calendar``), then train a new suggestion model when one is due
    (new tags, or a new plan)."""
    close_due_periods(store, day, calendar=calendar)
    plan = store.plans.current()
    if plan is not None:
        retrain_if_due(store, plan)


@contextmanager
def running_services(application: FastAPI, settings: Settings, store: Database) -> Iterator[list[Service]]:
    """Run the webhook worker and the reconcile schedule (which closes ended review periods and
    retrains suggestions after its passes: :func:`after_reconcile`) for the block; yields what runs.

    Services appended to the list inside the block are stopped with them, first. Whatever started
    is stopped in reverse order, even when a later start or the block fails.
    """
    started: list[Service] = [run_worker_beside(application)]
    try:
        calendar = settings.calendar()
        reconcile = ReconcileThread(
            settings, store, after_pass=lambda day: after_reconcile(store, day, calendar)
        )
        reconcile.start()
        started.append(reconcile)
        yield started
    finally:
        for service in reversed(started):
            service.stop()


def serving_app(settings: Settings, store: Database) -> FastAPI:
    """The app of one ``serve --workers`` process: its webhook worker and reconcile run with its lifespan."""
    tune_interpreter_for_serving()
    return create_app(settings, store, background=lambda app: running_services(app, settings, store))


FACTORY = "v2mom.app.asgi:factory"
METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus-client's directory shared by the processes
LOG_FORMAT_ENV = "V2MOM_LOG_FORMAT"  # the log_format setting, which every worker process reads


def serve_workers(
    settings_file: Path | None,
    sock: socket.socket,
    workers: int,
    log_level: str = "info",
    *,
    log_format: str = "text",
) -> None:
    """Serve with ``workers`` uvicorn worker processes on the address of ``sock`` until SIGINT or
    SIGTERM.

    ``sock`` (:func:`listen_socket`) held the address until now; it is closed just before uvicorn
    binds the same address for its processes. Each process reads ``settings_file`` (None: no file
    was read, so the defaults and the ``V2MOM_*`` environment, which they inherit), as this process
    did: only its path is passed, never a secret. ``PROMETHEUS_MULTIPROC_DIR`` is a fresh private
    directory for the run, removed when it ends. ``log_format`` reaches them as ``V2MOM_LOG_FORMAT``
    (a spawned process does not inherit this one's logging set-up; the factory configures its own).
    """
    import uvicorn

    host, port = sock.getsockname()[:2]
    metrics_dir = tempfile.mkdtemp(prefix="v2mom-metrics-")
    saved = {name: os.environ.get(name) for name in (CONFIG_ENV, METRICS_DIR_ENV, LOG_FORMAT_ENV)}
    if settings_file is not None:
        os.environ[CONFIG_ENV] = str(settings_file.resolve())
    os.environ[METRICS_DIR_ENV] = metrics_dir
    os.environ[LOG_FORMAT_ENV] = log_format
    try:
        sock.close()
        uvicorn.run(FACTORY, factory=True, workers=workers, host=host, port=port, log_level=log_level)
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
