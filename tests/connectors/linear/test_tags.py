"""Linear tags: Value / Method group labels on issues.

Everything goes the real way: LinearConnector -> gql over httpx -> the Linear sandbox on 127.0.0.1,
after the label groups were provisioned as ``v2mom trackers provision --apply`` does.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi import FastAPI, Request

from tests.connectors.linear.conftest import ISSUES, PUBLIC, Site, connect, issue_ids, key, link, tag
from tests.connectors.linear.test_vocabulary import PLAN
from v2mom.connectors.base import TagWriter
from v2mom.connectors.linear import tags as linear_tags
from v2mom.connectors.linear.tags import BATCH, TAGS, NotProvisionedError
from v2mom.errors import AuthError
from v2mom.sandbox.linear.app import create_linear_app
from v2mom.sandbox.linear.state import LinearState
from v2mom.sandbox.linear.webhooks import LinearWebhookSender
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import SyncSettings
from v2mom.vocabulary import LinkWrite, TagWrite


def test_the_connector_is_a_tag_writer(site: Site) -> None:
    assert isinstance(site.connector, TagWriter)


def test_values_and_methods_land_on_500_issues_in_batches_of_50(site: Site) -> None:
    state = site.state
    for n in range(ISSUES - len(state.issues)):
        state.add_issue("ENG", f"More {n}")
    ids = issue_ids(state)
    names = {v.id: v.name for v in PLAN.values} | {m.id: m.name for m in PLAN.methods}
    pairs = [(m.values[0], m.id) for m in PLAN.methods if m.values][:3]
    wanted = {issue_id: pairs[n % len(pairs)] for n, issue_id in enumerate(ids)}
    writes = [tag(state, i, site.values[v], site.methods[m]) for i, (v, m) in wanted.items()]
    connector = site.connector.__class__(site.connector.settings, SyncSettings(), sleep=lambda _: None)
    try:
        before = state.request_count("/graphql")
        outcomes = connector.write_tags(writes)
        used = connector.calls.total
    finally:
        connector.close()

    assert [o.item_id for o in outcomes] == ids
    assert all(o.ok for o in outcomes)
    assert state.request_count("/graphql") - before == used
    per_input = [sum(1 for pair in wanted.values() if pair == p) for p in pairs]
    assert state.request_count("/graphql/IssueBatchUpdate") == sum(-(-n // BATCH) for n in per_input)
    assert used / ISSUES <= 0.05  # a vocabulary read, a check per 250 ids, ceil(n / 50) per input
    for n, issue_id in enumerate(ids):
        value, method = wanted[issue_id]
        labels = {state.labels[label].name for label in state.issues[issue_id].label_ids}
        assert labels == {names[value], names[method]}
        if n % 25 == 0:  # read back the way sync reads it
            assert site.labels(issue_id) == [f"Method/{names[method]}", f"Value/{names[value]}"]


def test_a_new_value_replaces_the_old_one_and_clearing_removes_it(site: Site) -> None:
    state = site.state
    first, second = PLAN.values[0], PLAN.values[1]
    issue = issue_ids(state)[0]
    other = state.label("bug")  # not ours: never touched
    state.update_issue(issue, label_ids=[other])

    assert site.connector.write_tags([tag(state, issue, site.values[first.id], None)])[0].ok
    assert site.labels(issue) == [f"Value/{first.name}"]
    changed = TagWrite(issue, key(state, issue), {"value": site.values[second.id]})
    assert site.connector.write_tags([changed])[0].ok
    assert site.labels(issue) == [f"Value/{second.name}"]  # exactly one label of the group
    assert other in state.issues[issue].label_ids

    cleared = TagWrite(issue, key(state, issue), {"value": None})
    assert site.connector.write_tags([cleared])[0].ok
    assert site.labels(issue) == []
    assert state.issues[issue].label_ids == [other]


def test_a_kind_left_out_of_options_is_left_as_it_is(site: Site) -> None:
    state = site.state
    method = PLAN.methods[0]
    issue = issue_ids(state)[0]
    site.connector.write_tags([tag(state, issue, site.values[PLAN.values[0].id], site.methods[method.id])])
    only_value = TagWrite(issue, key(state, issue), {"value": site.values[PLAN.values[1].id]})
    assert site.connector.write_tags([only_value])[0].ok
    assert site.labels(issue) == [f"Method/{method.name}", f"Value/{PLAN.values[1].name}"]


def test_a_deleted_issue_gets_an_error_naming_it_and_the_others_are_written(site: Site) -> None:
    state = site.state
    ids = issue_ids(state)
    gone = ids[3]
    gone_key = key(state, gone)
    value = site.values[PLAN.values[0].id]
    writes = [tag(state, i, value, None) for i in ids]
    state.delete_issue(gone)

    outcomes = site.connector.write_tags(writes)

    assert [o.item_id for o in outcomes] == ids
    [failed] = [o for o in outcomes if not o.ok]
    assert failed.item_id == gone
    assert not failed.unsupported
    assert failed.error is not None
    assert failed.error.startswith(f"{gone_key}: ")
    assert "not found" in failed.error.lower()
    for issue in ids:
        if issue != gone:
            assert state.issues[issue].label_ids == [value]
    assert site.calls(TAGS) == 2  # the check finds it gone: it is not sent


def test_an_issue_deleted_after_the_check_fails_its_batch_which_is_halved_down_to_it(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = site.state
    ids = issue_ids(state)
    gone = ids[3]
    gone_key = key(state, gone)
    value = site.values[PLAN.values[0].id]
    writes = [tag(state, i, value, None) for i in ids]
    monkeypatch.setattr(linear_tags, "not_issues", lambda *_: {})  # the check ran before the deletion
    state.delete_issue(gone)

    outcomes = site.connector.write_tags(writes)

    [failed] = [o for o in outcomes if not o.ok]
    assert failed.item_id == gone
    assert failed.error == f"{gone_key}: Entity not found: Issue — HTTP 200"
    assert all(state.issues[i].label_ids == [value] for i in ids if i != gone)
    assert site.calls(TAGS) <= 1 + 2 * 4  # the batch, then halves down to the bad issue


def test_a_project_is_not_tagged_or_linked_and_its_outcome_says_why(site: Site) -> None:
    state = site.state
    project = state.add_project("ENG", "Checkout")
    issue = issue_ids(state)[0]
    value = site.values[PLAN.values[0].id]

    tags = site.connector.write_tags(
        [TagWrite(project, "project:checkout", {"value": value}), tag(state, issue, value, None)]
    )
    links = site.connector.write_links(
        [LinkWrite(project, "project:checkout", f"{PUBLIC}/p", "Why"), link(state, issue)]
    )

    for outcome in (tags[0], links[0]):
        assert outcome.unsupported
        assert outcome.error is not None
        assert outcome.error.startswith("project:checkout: a Linear project: projects hold project labels")
    assert tags[1].ok
    assert links[1].ok
    assert state.issues[issue].label_ids == [value]


def test_unknown_or_retired_labels_are_refused_without_a_write(site: Site) -> None:
    state = site.state
    first, second, third = issue_ids(state)[:3]
    retired = site.values[PLAN.values[-1].id]
    state.retire_label(retired)
    writes = [
        TagWrite(first, key(state, first), {"value": "no-such-label"}),
        TagWrite(second, key(state, second), {"value": retired}),
        tag(state, third, site.values[PLAN.values[0].id], None),
    ]
    before = site.calls(TAGS)

    outcomes = site.connector.write_tags(writes)

    assert (
        outcomes[0].error == f"{key(state, first)}: label no-such-label is not a label of the 'Value' group"
    )
    assert outcomes[1].error == f"{key(state, second)}: label {retired} of the 'Value' group is retired"
    assert outcomes[2].ok
    assert site.calls(TAGS) - before == 2  # the check and the good write: the others are not sent
    assert state.issues[first].label_ids == state.issues[second].label_ids == []


def test_a_refused_permission_on_one_issue_is_its_outcome(site: Site) -> None:
    state = site.state
    issue = issue_ids(state)[0]
    state.inject_fault(400, times=5, kind="forbidden", path_prefix="/graphql/IssueBatchUpdate")

    [outcome] = site.connector.write_tags([tag(state, issue, site.values[PLAN.values[0].id], None)])

    assert outcome.error is not None
    assert outcome.error.startswith(f"{key(state, issue)}: permission denied")
    assert state.issues[issue].label_ids == []


def test_a_rate_limited_batch_is_retried_and_lands(site: Site) -> None:
    state = site.state
    ids = issue_ids(state)
    value = site.values[PLAN.values[0].id]
    state.inject_fault(400, kind="ratelimited", retry_after=0.0, path_prefix="/graphql/IssueBatchUpdate")

    outcomes = site.connector.write_tags([tag(state, i, value, None) for i in ids])

    assert all(o.ok for o in outcomes)
    assert all(state.issues[i].label_ids == [value] for i in ids)
    assert state.request_count("/graphql/IssueBatchUpdate") == 2
    assert site.calls(TAGS) == 3  # the check, the rate-limited call and its retry


def test_a_write_fires_an_issue_update_event(site: Site) -> None:
    state = site.state
    seen: list[tuple[str, str, str]] = []
    state.listeners.append(lambda action, kind, record: seen.append((action, kind, record.id)))
    issue = issue_ids(state)[0]
    before = state.issues[issue].updated

    site.connector.write_tags([tag(state, issue, site.values[PLAN.values[0].id], None)])

    assert seen == [("update", "Issue", issue)]
    assert state.issues[issue].updated > before


def test_a_label_write_is_delivered_to_webhooks_as_an_issue_update(site: Site) -> None:
    state = site.state
    received: list[dict[str, Any]] = []
    receiver = FastAPI()

    @receiver.post("/hook")
    async def hook(request: Request) -> dict[str, bool]:
        received.append(json.loads(await request.body()))
        return {"ok": True}

    issue = issue_ids(state)[0]
    with SandboxServer(receiver) as hook_url:
        state.add_webhook(f"{hook_url}/hook", "secret", team_key="ENG", resource_types=["Issue"])
        sender = LinearWebhookSender(state)
        sender.start()
        try:
            site.connector.write_tags([tag(state, issue, site.values[PLAN.values[0].id], None)])
        finally:
            sender.stop()  # sends what is queued first

    assert [(b["action"], b["type"], b["data"]["id"]) for b in received] == [("update", "Issue", issue)]


def test_missing_label_groups_ask_for_provisioning() -> None:
    state = LinearState()
    state.add_team("ENG", "Engineering")
    issue = state.add_issue("ENG", "One")
    with SandboxServer(create_linear_app(state)) as url:
        connector = connect(state, url)
        try:
            with pytest.raises(NotProvisionedError, match=r"v2mom trackers provision --apply"):
                connector.write_tags([TagWrite(issue, "ENG-1", {"value": None})])
        finally:
            connector.close()


def test_a_bad_api_key_fails_the_whole_run(site: Site) -> None:
    state = site.state
    url = site.connector.settings.api_url.removesuffix("/graphql")
    connector = connect(state, url, api_key="lin_api_wrong")
    issue = issue_ids(state)[0]
    try:
        with pytest.raises(AuthError):
            connector.write_tags([tag(state, issue, site.values[PLAN.values[0].id], None)])
        with pytest.raises(AuthError):
            connector.write_links([LinkWrite(issue, key(state, issue), f"{PUBLIC}/ENG-1", "Why")])
    finally:
        connector.close()
