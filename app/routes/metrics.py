"""``GET /metrics``: Prometheus exposition for operators (README "Metrics and logs").

Scrapers send no browser session, so the route takes a bearer token of any role (a viewer token is
enough: nothing here is more than a viewer sees), or nobody's when ``metrics.public: true`` (for an
internal port only reachable by the scraper). It is left out of the OpenAPI document: it answers
Prometheus' text format, not JSON.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from v2mom.app.auth import StoreDep, require_viewer
from v2mom.app.services import SettingsDep
from v2mom.metrics import StoreGauges, exposition

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    """This process's (or, multiprocess, every process's) metrics and the store's gauges."""
    if not settings.metrics.public:
        require_viewer(request, store)
    gauges = StoreGauges(
        settings.trackers.configured(), store.inbox.counts, store.sync_state.last_successful_sync
    )
    body, content_type = exposition(request.headers.get("accept"), gauges)
    return Response(body, media_type=content_type)
