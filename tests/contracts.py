"""The vendors' own API specs, read in place from ``<repo>/../shared/contracts``.

When that folder is absent (a user's clone) tests that need it skip with a clear reason; under CI
(``CI=true``) it is always there, so its absence fails instead.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

CONTRACTS = Path(__file__).resolve().parents[1].parent / "shared" / "contracts"


def contracts_dir() -> Path:
    """The contracts folder, or skip (fail under CI) when it is missing."""
    if not CONTRACTS.is_dir():
        message = f"vendor contracts not found at {CONTRACTS} (they live beside the repository, in shared/)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI must have them")
        pytest.skip(message)
    return CONTRACTS


@cache
def _jira_spec() -> dict[str, Any]:
    path = contracts_dir() / "jira" / "jira-cloud-platform-swagger-v3.v3.json"
    spec: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return spec


def validate_jira(schema_name: str, instance: Any) -> None:
    """Validate ``instance`` against ``#/components/schemas/<schema_name>`` of Jira's OpenAPI."""
    spec = _jira_spec()
    uri = "urn:jira-cloud-platform"
    registry: Registry[Any] = Registry().with_resource(
        uri, Resource.from_contents(spec, default_specification=DRAFT4)
    )
    validator = OAS30Validator({"$ref": f"{uri}#/components/schemas/{schema_name}"}, registry=registry)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        details = "; ".join(
            f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors[:5]
        )
        raise AssertionError(f"response breaks Jira's {schema_name} schema: {details}")
