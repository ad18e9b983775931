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
def _jira_dc_spec() -> dict[str, Any]:
    """Jira Data Center 10.3's OpenAPI with its listed defect worked around: ``IssueBean.fields``
    declares every field value an object, while real values are strings, numbers, arrays or null,
    so ``fields`` takes any value here (:func:`validate_jira_dc_issue` checks the known ones)."""
    path = contracts_dir() / "jira-dc" / "jira-software-dc-10.3-openapi.json"
    spec: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    spec["components"]["schemas"]["IssueBean"]["properties"]["fields"] = {"type": "object"}
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


#: Defect (SOURCES.md): these list endpoints (``GET /field``, ``/status``, ``/project``,
#: ``POST /worklog/list``) reference the item schema instead of an array.
DC_LIST_SCHEMAS = frozenset({"FieldBean", "StatusJsonBean", "ProjectBean", "worklog"})


def validate_jira_dc(schema_name: str, instance: Any) -> None:
    """Validate ``instance`` against ``#/components/schemas/<schema_name>`` of Jira Data Center's
    OpenAPI, working around its listed defects.

    - A list endpoint's answer (its schema names the item: :data:`DC_LIST_SCHEMAS`) is validated
      element by element with the item schema.
    - A SearchResultsBean's issues are validated one by one (:func:`validate_jira_dc_issue`: the
      spec's IssueBean declares every field value an object; ``fields`` is relaxed in the loaded
      spec), the envelope without them.
    """
    if isinstance(instance, list) and schema_name in DC_LIST_SCHEMAS:
        for element in instance:
            _validate("Jira Data Center", _jira_dc_spec(), schema_name, element)
        return
    if schema_name == "SearchResultsBean" and isinstance(instance, dict):
        issues = instance.get("issues")
        for issue in issues if isinstance(issues, list) else []:
            validate_jira_dc_issue(issue)
        instance = {k: v for k, v in instance.items() if k != "issues"}
    _validate("Jira Data Center", _jira_dc_spec(), schema_name, instance)


# The issue fields whose values Data Center's OpenAPI describes, and the schema of each.
_DC_FIELD_SCHEMAS = {
    "assignee": "UserBean",
    "status": "StatusJsonBean",
    "issuetype": "IssueTypeJsonBean",
    "project": "ProjectJsonBean",
}


def validate_jira_dc_issue(issue: dict[str, Any]) -> None:
    """Validate one issue as Data Center's IssueBean, and each field value the spec describes
    (assignee, status, issue type, project) with its own schema; ``description`` must be plain text."""
    validate_jira_dc("IssueBean", issue)
    fields = issue.get("fields") or {}
    for name, schema in _DC_FIELD_SCHEMAS.items():
        if fields.get(name) is not None:
            validate_jira_dc(schema, fields[name])
    description = fields.get("description")
    if description is not None and not isinstance(description, str):
        raise AssertionError("response breaks Jira Data Center's plain-text description")
