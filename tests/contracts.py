"""The vendors' own API specs, read in place from ``<repo>/../shared/contracts``.

When that folder is absent (a user's clone) tests that need it skip with a clear reason; under CI
(``CI=true``) it is always there, so its absence fails instead.
"""

from __future__ import annotations

import copy
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
    path = contracts_dir() / "jira-dc" / "jira-software-dc-10.3-openapi.json"
    spec: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    # Defect (SOURCES.md): IssueBean.fields declares every value as an object, while real values are
    # strings, numbers, arrays and null. Relax ``fields.additionalProperties`` (a copy: the cached
    # spec is read once) so the rest of IssueBean is still checked.
    issue = copy.deepcopy(spec["components"]["schemas"]["IssueBean"])
    issue["properties"]["fields"]["additionalProperties"] = {}
    spec["components"]["schemas"]["IssueBean"] = issue
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


#: Defect (SOURCES.md): these list endpoints reference the item schema instead of an array, so
#: their answers are validated element by element against it.
DC_LIST_SCHEMAS = frozenset({"FieldBean", "StatusJsonBean", "ProjectBean", "worklog"})


def validate_jira_dc(schema_name: str, instance: Any) -> None:
    """Validate ``instance`` against ``#/components/schemas/<schema_name>`` of Jira Data Center 10.3's
    OpenAPI, working around its known defects.

    - A list endpoint's answer (its schema names the item: :data:`DC_LIST_SCHEMAS`) is validated
      element by element.
    - A SearchResultsBean's issues are validated one by one as IssueBean (whose ``fields`` values the
      spec wrongly declares as objects: relaxed in the loaded spec), the envelope without them.
    """
    spec = _jira_dc_spec()
    if isinstance(instance, list) and schema_name in DC_LIST_SCHEMAS:
        for element in instance:
            _validate("Jira Data Center", spec, schema_name, element)
        return
    if schema_name == "SearchResultsBean" and isinstance(instance, dict):
        issues = instance.get("issues")
        for issue in issues if isinstance(issues, list) else []:
            _validate("Jira Data Center", spec, "IssueBean", issue)
        instance = {k: v for k, v in instance.items() if k != "issues"}
    _validate("Jira Data Center", spec, schema_name, instance)
