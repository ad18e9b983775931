"""Every 200/201 answer in /openapi.json has a real JSON schema, so a new untyped route fails here.

"Real" means it names what is sent: an object with properties (or typed values), an array of
something, or a choice of those. ``dict[str, Any]`` (an object with no properties), ``Any``
(``{}``) and a bare ``Response`` are untyped. Declared non-JSON media types (``text/csv``) are
exempt; the dashboard's page and static files are not in the schema at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from v2mom.app.factory import create_app
from v2mom.settings import Settings
from v2mom.store.database import Database

NON_JSON = ("text/csv",)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    store = Database.open(f"sqlite:///{Path(tmp_path_factory.mktemp('typed')) / 'api.db'}")
    yield create_app(Settings(), store)
    store.close()


def _resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = document["components"]["schemas"][name]
    return schema


def _typed(schema: dict[str, Any], document: dict[str, Any]) -> bool:
    schema = _resolve(schema, document)
    choices = schema.get("anyOf") or schema.get("oneOf") or schema.get("allOf")
    if choices:
        return all(_typed(choice, document) for choice in choices if choice.get("type") != "null")
    if schema.get("type") == "object":
        values = schema.get("additionalProperties")
        return bool(schema.get("properties")) or (isinstance(values, dict) and _typed(values, document))
    if schema.get("type") == "array":
        return _typed(schema.get("items", {}), document)
    return schema.get("type") in ("string", "integer", "number", "boolean")


def untyped_answers(document: dict[str, Any]) -> list[str]:
    """``METHOD path status media-type`` of every 200/201 answer without a real JSON schema."""
    problems = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status in ("200", "201"):
                answer = operation.get("responses", {}).get(status)
                if answer is None:
                    continue
                content = answer.get("content")
                if not content:
                    problems.append(f"{method.upper()} {path} {status}: no content declared")
                for media_type, body in (content or {}).items():
                    if media_type.startswith(NON_JSON):
                        continue
                    if not _typed(body.get("schema", {}), document):
                        problems.append(f"{method.upper()} {path} {status} {media_type}: untyped schema")
    return problems


def test_every_200_or_201_answer_has_a_json_schema(app: FastAPI) -> None:
    with TestClient(app) as client:
        document = client.get("/openapi.json").json()
    answered = [
        (method, path)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if {"200", "201"} & set(operation["responses"])
    ]
    assert len(answered) >= 25  # the check really walked the routes
    assert untyped_answers(document) == []


def test_the_csv_report_is_declared_as_csv(app: FastAPI) -> None:
    with TestClient(app) as client:
        document = client.get("/openapi.json").json()
    content = document["paths"]["/api/reports/effort-by-value.csv"]["get"]["responses"]["200"]["content"]
    assert list(content) == ["text/csv"]


def test_an_untyped_route_is_caught(app: FastAPI) -> None:
    extra = FastAPI()

    @extra.get("/loose")
    def loose() -> dict[str, Any]:
        return {}

    @extra.get("/anything")
    def anything() -> Any:
        return None

    @extra.get("/mapped")
    def mapped() -> dict[str, int]:
        return {}

    @extra.post("/listed", status_code=201)
    def listed() -> list[dict[str, Any]]:
        return []

    with TestClient(extra) as client:
        problems = untyped_answers(client.get("/openapi.json").json())
    assert problems == [
        "GET /loose 200 application/json: untyped schema",
        "GET /anything 200 application/json: untyped schema",
        "POST /listed 201 application/json: untyped schema",
    ]
