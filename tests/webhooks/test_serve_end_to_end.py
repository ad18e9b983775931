"""``v2mom serve`` as a real process: reconcile on start, a signed webhook moves the report in seconds,
on Jira Cloud and on Jira Data Center (each sandbox's own credentials and delivery shape)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.layout import ROOT
from tests.support import free_port, wait_for
from tests.webhooks.jira_signing import SECRET, dc_delivery, delivery, sign, v2mom, write_jira_settings
from v2mom.sandbox import SAMPLE_PLAN_PATH
from v2mom.sandbox.generator import generate_jira_workspace
from v2mom.sandbox.jira.app import create_jira_app
from v2mom.sandbox.jira.state import JiraState
from v2mom.sandbox.server import SandboxServer


@pytest.fixture(params=["cloud", "datacenter"])
def jira(request: pytest.FixtureRequest) -> Iterator[tuple[str, JiraState]]:
    state, _ = generate_jira_workspace(seed=6, epics=30, issues=120, deployment=request.param)
    with SandboxServer(create_jira_app(state)) as url:
        yield url, state


def test_serve_applies_a_webhook_within_seconds(
    tmp_path: Path, database_url: str, jira: tuple[str, JiraState]
) -> None:
    url, state = jira
    config = write_jira_settings(tmp_path / "v2mom.yaml", database_url, url, state)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(v2mom("plan", "apply", str(SAMPLE_PLAN_PATH), "-c", str(config)), env=env, check=True)
    token_out = subprocess.run(
        v2mom("token", "create", "--role", "viewer", "-c", str(config)),
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    token = token_out.strip().splitlines()[-1]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        v2mom("serve", "-c", str(config), "--port", str(port)),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        headers = {"Authorization": f"Bearer {token}"}

        def report() -> dict:  # type: ignore[type-arg]
            return requests.get(f"{base}/api/reports/effort-by-value", headers=headers, timeout=5).json()  # type: ignore[no-any-return]

        def synced() -> bool:
            try:
                return bool(report()["total"]["items"])
            except (requests.ConnectionError, KeyError):
                return False

        assert wait_for(synced, timeout=20), "the reconcile pass on start should sync the sandbox"
        before = report()["total"]["effort"]
        story = next(
            i for i, x in sorted(state.issues.items()) if x.type_name == "Story" and x.project == "ONB"
        )
        state.update_issue(story, points=(state.issues[story].points or 0) + 40.0)
        if state.datacenter:  # Data Center's admin webhook: the whole issue, its user keys, no accountId
            body = dc_delivery(str(story), state.issues[story].key)
        else:
            body = delivery({"id": str(story)})
        sent = time.monotonic()
        answer = requests.post(
            f"{base}/webhooks/jira",
            data=body,
            headers={"X-Hub-Signature": sign(body), "X-Atlassian-Webhook-Identifier": "live-1"},
            timeout=5,
        )
        assert answer.status_code == 202, answer.text
        # The story's 40 more points reach the report (an issue read as gone would take its points away).
        assert wait_for(lambda: report()["total"]["effort"] > before, timeout=10)
        assert time.monotonic() - sent < 10
        freshness = report()["freshness"]["jira"]
        assert freshness["last_event"] is not None
        assert freshness["backlog"] == 0
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0]
    assert state.api_token not in output
    assert json.dumps(SECRET) not in output
