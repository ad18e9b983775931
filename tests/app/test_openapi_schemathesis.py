"""Schemathesis against the app's own OpenAPI, with a viewer and an admin token, on SQLite and on
PostgreSQL, with data that fits the schema and data that does not: no 5xx, and every response
matches what the schema declares (content type and body schema). Every route the app serves is in
the schema (the dashboard page aside), so every route is fuzzed.

The request guard's refusals (413 too large, 422 NaN / lone surrogates) are pinned by the tests in
``tests/app/routes/test_edge_*.py`` and ``tests/app/test_request_guard.py``; here they only must not be 5xx.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tests.factories import T0, make_item
from v2mom.app.factory import PAGE_PATHS, create_app
from v2mom.mapping.plan import load_plan
from v2mom.models import Level, State
from v2mom.sandbox import SAMPLE_PLAN_PATH
from v2mom.settings import Settings
from v2mom.store.database import Database
from v2mom.store.resolution.run import remap

CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
# The dashboard's pages, the explanation page the trackers link to among them (HTML, not API), and
# the Prometheus exposition for scrapers (text format, README "Metrics and logs").
NOT_IN_SCHEMA = {("GET", path) for path in PAGE_PATHS} | {("GET", "/metrics")}


class Fuzzed:
    """The store under fuzzing and one live token per role (re-created if a case revokes it)."""

    def __init__(self, store: Database) -> None:
        self.store = store
        self.tokens: dict[str, str] = {}

    def headers(self, role: str) -> dict[str, str]:
        token = self.tokens.get(role)
        if token is None or self.store.tokens.authenticate(token) is None:
            token = self.tokens[role] = self.store.tokens.create(role, f"fuzz-{role}")
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def fuzzed(module_database_url: str) -> Iterator[Fuzzed]:
    store = Database.open(module_database_url)
    store.items.upsert(
        [
            make_item("1", key="ONB-1", level=Level.EPIC, labels=("method:slo-program",), points=13.0),
            make_item("2", key="ONB-2", parent_id="1", points=5.0, state=State.DONE, completed_at=T0),
            make_item("3", key="ONB-3", points=3.0),
        ]
    )
    plan = load_plan(SAMPLE_PLAN_PATH.read_text(encoding="utf-8"))
    store.plans.save(plan, actor="test")
    remap(store, plan)
    yield Fuzzed(store)
    store.close()


@pytest.fixture(scope="module")
def api_schema(fuzzed: Fuzzed) -> Any:
    loaded = schemathesis.openapi.from_asgi("/openapi.json", create_app(Settings(), fuzzed.store))
    loaded.config.generation.update(modes=MODES)
    return loaded


schema = schemathesis.pytest.from_fixture("api_schema")


def api_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path) of every API route, through included routers (FastAPI keeps those apart)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield from ((method, prefix + route.path) for method in route.methods)
        elif hasattr(route, "original_router"):
            context_prefix = getattr(getattr(route, "include_context", None), "prefix", "") or ""
            yield from api_routes(route.original_router.routes, prefix + context_prefix)


def test_every_route_is_in_the_schema_and_fuzzed_both_ways(fuzzed: Fuzzed) -> None:
    app = create_app(Settings(), fuzzed.store)
    served = set(api_routes(app.routes))
    documented = {(method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item}
    assert served - documented == NOT_IN_SCHEMA
    assert documented <= served
    assert len(documented) >= 30
    loaded = schemathesis.openapi.from_asgi("/openapi.json", app)
    loaded.config.generation.update(modes=MODES)
    assert set(loaded.config.generation.modes) == set(GenerationMode)


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_as_a_viewer_no_server_errors_and_responses_match_the_schema(case: Any, fuzzed: Fuzzed) -> None:
    case.call_and_validate(headers=fuzzed.headers("viewer"), checks=CHECKS)


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_as_an_admin_no_server_errors_and_responses_match_the_schema(case: Any, fuzzed: Fuzzed) -> None:
    case.call_and_validate(headers=fuzzed.headers("admin"), checks=CHECKS)
