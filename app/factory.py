"""The FastAPI application factory: wires settings, the store and every router."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager, asynccontextmanager, nullcontext
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from v2mom import __version__
from v2mom.app.auth import SESSION_COOKIE, bearer_token
from v2mom.app.http_errors import MoveNotConfirmed
from v2mom.app.request_guard import DEFAULT_MAX_BODY_BYTES, RequestGuard
from v2mom.app.routes.admin import router as admin_router
from v2mom.app.routes.admin import rules_router
from v2mom.app.routes.metrics import router as metrics_router
from v2mom.app.routes.people import router as people_router
from v2mom.app.routes.plan import router as plan_router
from v2mom.app.routes.reports import router as reports_router
from v2mom.app.routes.reviews import router as reviews_router
from v2mom.app.routes.session import router as session_router
from v2mom.app.routes.suggestions import router as suggestions_router
from v2mom.app.routes.tokens import router as tokens_router
from v2mom.app.routes.trackers import router as trackers_router
from v2mom.app.routes.webhooks import router as webhooks_router
from v2mom.app.routes.webhooks_admin import router as webhooks_admin_router
from v2mom.app.routes.writeback import router as writeback_router
from v2mom.app.schemas.access import Health
from v2mom.app.services import DEFAULT_WEBHOOK_MAX_BYTES, Services
from v2mom.errors import AuthError, ConfigError, NotFoundError, RetriableError, TrackerError
from v2mom.reports.effort import build_freshness
from v2mom.settings import Settings
from v2mom.store.database import Database
from v2mom.webhooks.ingest import GroupCommitter

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parent / "static"
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

# The dashboard's pages (app/static/app.js routes between them without reloading). An item's page,
# /items/{tracker}/{key}, is the target of the links written into the trackers.
PAGE_PATHS = (
    "/",
    "/values",
    "/values/{value_id}",
    "/teams",
    "/teams/{team_id}",
    "/attention",
    "/reviews",
    "/reviews/{cycle}/{period}",
    "/items/{tracker}/{key}",
    "/plan",
    "/audit",
    "/access",
    "/health",
)


def _error_status(exc: Exception) -> int:
    """The one mapping from our error tree to HTTP."""
    if isinstance(exc, ConfigError):
        return 422
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, AuthError | RetriableError | TrackerError):
        return 502
    return 500


def create_app(
    settings: Settings,
    store: Database,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    background: Callable[[FastAPI], AbstractContextManager[object]] | None = None,
    webhook_max_bytes: int = DEFAULT_WEBHOOK_MAX_BYTES,
) -> FastAPI:
    """Build the app around an open store; the inbox writer runs while the app does.

    Request bodies over ``max_body_bytes`` (1 MiB by default) are refused with 413 before they are
    parsed, on every route but the webhooks' (``RequestGuard``; they have their own limit).
    ``background(app)`` is entered once the inbox writer runs and exited before it stops: what else
    runs for the app's lifetime (the webhook worker and reconcile of a ``serve --workers`` process).
    Routes reach the settings, the store and the rest through one :class:`Services` (``Depends``).
    """
    services = Services.for_store(settings, store)
    services.webhook_max_bytes = webhook_max_bytes

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        committer = GroupCommitter(services.inbox)
        committer.start()
        services.ingest = committer
        try:
            with background(app) if background is not None else nullcontext():
                yield
        finally:
            services.ingest = None
            committer.stop()

    # No /docs or /redoc: FastAPI's pages load Swagger UI and ReDoc from a CDN, which the dashboard's
    # CSP and offline promise forbid. /openapi.json describes the API for any viewer run locally.
    app = FastAPI(title="v2mom-sync", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None)
    app.add_middleware(RequestGuard, max_body_bytes=max_body_bytes)
    app.state.services = services

    @app.exception_handler(ConfigError)
    @app.exception_handler(TrackerError)
    async def _handle(request: Request, exc: Exception) -> JSONResponse:
        log.warning("%s %s failed: %s", request.method, request.url.path, exc)
        status = _error_status(exc)
        if status == 422:  # the shape every route declares for 422 (see v2mom.http_errors)
            problems = exc.problems if isinstance(exc, ConfigError) else [str(exc)]
            detail: object = [{"loc": ["body"], "msg": p, "type": "value_error"} for p in problems]
        else:
            detail = str(exc)
        return JSONResponse({"detail": detail}, status_code=status)

    @app.exception_handler(MoveNotConfirmed)
    async def _unconfirmed(request: Request, exc: MoveNotConfirmed) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=409)

    @app.get("/healthz", response_model_exclude_unset=True)
    def healthz(request: Request) -> Health:
        """Liveness, no auth; with an admin token, per-tracker freshness and inbox health too."""
        token = bearer_token(request) or request.cookies.get(SESSION_COOKIE)
        info = store.tokens.authenticate(token) if token else None
        if info is not None and info.role == "admin":
            details = build_freshness(store, settings.trackers.configured())
            return Health.model_validate({"status": "ok", "details": details})
        return Health(status="ok")

    app.include_router(metrics_router)
    app.include_router(reports_router)
    app.include_router(reviews_router)
    app.include_router(plan_router)
    app.include_router(admin_router)
    app.include_router(rules_router)
    app.include_router(session_router)
    app.include_router(tokens_router)
    app.include_router(people_router)
    app.include_router(trackers_router)
    app.include_router(writeback_router)
    app.include_router(suggestions_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    def dashboard() -> FileResponse:
        """A dashboard page: one document for every page's path (all assets served here: it works
        with no internet); its script shows the page the path names, so deep links and refreshes
        land where they point."""
        return FileResponse(STATIC_DIR / "index.html", headers=PAGE_HEADERS)

    for path in PAGE_PATHS:
        app.add_api_route(path, dashboard, methods=["GET"], include_in_schema=False)

    app.include_router(webhooks_router)
    app.include_router(webhooks_admin_router)
    return app
