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
import yaml
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


@cache
def _asana_spec() -> dict[str, Any]:
    path = contracts_dir() / "asana" / "asana_oas.yaml"
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    spec: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a safe loader
    return spec


def _validate(vendor: str, spec: dict[str, Any], schema_name: str, instance: Any) -> None:
    uri = f"urn:{vendor.lower()}-openapi"
    registry: Registry[Any] = Registry().with_resource(
        uri, Resource.from_contents(spec, default_specification=DRAFT4)
    )
    validator = OAS30Validator({"$ref": f"{uri}#/components/schemas/{schema_name}"}, registry=registry)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        details = "; ".join(
            f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors[:5]
        )
        raise AssertionError(f"response breaks {vendor}'s {schema_name} schema: {details}")


def validate_jira(schema_name: str, instance: Any) -> None:
    """Validate ``instance`` against ``#/components/schemas/<schema_name>`` of Jira's OpenAPI."""
    _validate("Jira", _jira_spec(), schema_name, instance)


def validate_asana(schema_name: str, instance: Any) -> None:
    """Validate ``instance`` against ``#/components/schemas/<schema_name>`` of Asana's OpenAPI."""
    _validate("Asana", _asana_spec(), schema_name, instance)
