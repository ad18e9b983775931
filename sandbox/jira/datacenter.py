"""What a Jira Data Center 10.3 site answers differently from Cloud: people as UserBeans (a user
key and a username, no accountId), ``/serverInfo``, and the Bearer personal access token.

Shapes follow Atlassian's Data Center OpenAPI (the contract tests validate them against it).
"""

from __future__ import annotations

import math
import secrets
from typing import Any

from fastapi import Request

from v2mom.sandbox.jira.state import JiraState

__all__ = ["DC_VERSION", "bearer_authorised", "dc_user", "rate_limit_headers", "server_info"]

DC_VERSION = (10, 3, 4)


def dc_user(base: str, state: JiraState, key: str) -> dict[str, Any]:
    """A person as Data Center's UserBean: ``key`` (stable), ``name`` (the renameable username)."""
    username = state.usernames.get(key, key.lower())
    return {
        "self": f"{base}/rest/api/2/user?key={key}",
        "key": key,
        "name": username,
        "emailAddress": f"{username}@sandbox.test",
        "displayName": state.people.get(key, ""),
        "active": True,
        "deleted": False,
        "timeZone": "UTC",
        "locale": "en_US",
    }


def server_info(base: str, state: JiraState) -> dict[str, Any]:
    """``GET /rest/api/2/serverInfo``: its ``deploymentType`` tells Cloud from Data Center."""
    if state.datacenter:
        version = ".".join(map(str, DC_VERSION))
        return {
            "baseUrl": base,
            "version": version,
            "versionNumbers": list(DC_VERSION),
            "deploymentType": "DataCenter",
            "buildNumber": 10030004,
            "buildDate": "2026-09-01T00:00:00.000+0000",
            "serverTitle": "Sandbox Jira Data Center",
        }
    return {
        "baseUrl": base,
        "version": "1001.0.0-SNAPSHOT",
        "versionNumbers": [1001, 0, 0],
        "deploymentType": "Cloud",
        "buildNumber": 100282,
        "buildDate": "2026-11-01T00:00:00.000+0000",
        "serverTime": "2026-11-20T12:00:00.000+0000",
        "scmInfo": "0000000000000000000000000000000000000000",
        "serverTitle": "Jira",
    }


def bearer_authorised(request: Request, state: JiraState) -> bool:
    """Whether the request carries the site's personal access token as ``Bearer`` (and it has not
    expired)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or state.token_expired:
        return False
    return secrets.compare_digest(token.strip(), state.api_token)


def rate_limit_headers(state: JiraState) -> dict[str, str]:
    """Data Center's ``X-RateLimit-*`` headers, on every answer while an admin limits the rate: the
    bucket's size, the tokens left and the refill (``FillRate`` tokens every ``Interval-Seconds``,
    whole numbers as Data Center sends them: a slow limit refills one token every few seconds)."""
    bucket = state.bucket()
    if bucket is None:
        return {}
    most, left, per_second = bucket
    interval = max(1, math.ceil(1 / per_second)) if per_second < 1 else 1
    return {
        "X-RateLimit-Limit": str(int(most)),
        "X-RateLimit-Remaining": str(max(0, math.floor(left))),
        "X-RateLimit-FillRate": str(max(1, round(per_second * interval))),
        "X-RateLimit-Interval-Seconds": str(interval),
    }
