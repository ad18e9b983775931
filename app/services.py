"""What every route of one app shares, typed and in one place: the settings, the store, the inbox
and its group committer, the webhook receivers, and the worker to wake.

The factory puts one :class:`Services` on the app; routes get it, or a part of it, through the
dependencies below (``SettingsDep``, ``InboxDep``, ``ServicesDep``), never by reading attributes
off ``app.state`` themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request

from v2mom.settings import Settings
from v2mom.store.database import Database
from v2mom.store.inbox import Inbox
from v2mom.suggest.service import ModelCache
from v2mom.webhooks.ingest import GroupCommitter
from v2mom.webhooks.receivers import Receiver, receivers
from v2mom.webhooks.worker import WorkerThread, start_worker

DEFAULT_WEBHOOK_MAX_BYTES = 1024 * 1024


@dataclass
class Services:
    """One app's shared parts. ``ingest`` runs while the app does (None before and after);
    ``wake_worker`` is set when a webhook worker runs beside the app."""

    settings: Settings
    store: Database
    inbox: Inbox
    receivers: dict[str, Receiver] = field(default_factory=dict)
    webhook_max_bytes: int = DEFAULT_WEBHOOK_MAX_BYTES
    ingest: GroupCommitter | None = None
    wake_worker: Callable[[], None] | None = None
    suggestion_models: ModelCache = field(default_factory=ModelCache)

    @classmethod
    def for_store(cls, settings: Settings, store: Database) -> Services:
        """The parts of an app serving ``store`` under ``settings``."""
        return cls(settings, store, store.inbox, receivers(store, settings))


def services_of(app: Any) -> Services:
    """The :class:`Services` the factory put on ``app`` (a FastAPI app, or a Starlette one)."""
    services: Services = app.state.services
    return services


def get_services(request: Request) -> Services:
    """Dependency: the app's :class:`Services`."""
    return services_of(request.app)


def get_settings(request: Request) -> Settings:
    """Dependency: the settings the app was built with."""
    return services_of(request.app).settings


def get_inbox(request: Request) -> Inbox:
    """Dependency: the webhook inbox."""
    return services_of(request.app).inbox


ServicesDep = Annotated[Services, Depends(get_services)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
InboxDep = Annotated[Inbox, Depends(get_inbox)]


def run_worker_beside(app: FastAPI) -> WorkerThread:
    """Start a webhook worker for ``app``'s store, woken by each delivery the app stores."""
    services = services_of(app)
    worker = start_worker(services.settings, services.store)
    services.wake_worker = worker.wake
    return worker
