"""Schemathesis against the app's own OpenAPI, with a viewer and an admin token: no 5xx, and every
response matches what the schema declares (content type and body schema)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tests.factories import T0, make_item
from v2mom.app.factory import create_app
from v2mom.mapping.plan import load_plan
from v2mom.models import Level, State
from v2mom.sandbox import SAMPLE_PLAN_PATH
from v2mom.settings import Settings
from v2mom.store.database import Database
from v2mom.store.remap import remap

TOKENS: dict[str, str] = {}
CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    store = Database.open(f"sqlite:///{Path(tmp_path_factory.mktemp('openapi')) / 'api.db'}")
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
    TOKENS["viewer"] = store.tokens.create("viewer", "fuzz-viewer")
    TOKENS["admin"] = store.tokens.create("admin", "fuzz-admin")
    app = create_app(Settings(), store)
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    store.close()


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_as_a_viewer_no_server_errors_and_responses_match_the_schema(case: Any) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKENS['viewer']}"}, checks=CHECKS)


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_as_an_admin_no_server_errors_and_responses_match_the_schema(case: Any) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKENS['admin']}"}, checks=CHECKS)
