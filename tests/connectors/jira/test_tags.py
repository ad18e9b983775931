"""Jira tags through the real path: JiraConnector → atlassian-python-api → the sandbox Jira on
127.0.0.1. Values and methods are set by bulk edit (≤ 1,000 issues a request, polled to COMPLETE) and
read back through ``get_item``."""

from __future__ import annotations

import pytest

from tests.connectors.jira.conftest import ISSUES, METHOD, VALUE, Site, chosen, connect, spent
from tests.connectors.jira.test_vocabulary import PLAN
from v2mom.connectors.base import TagWriter
from v2mom.connectors.jira import tags as jira_tags
from v2mom.connectors.jira.client import JiraClient
from v2mom.connectors.jira.datacenter_writes import WRITERS
from v2mom.connectors.jira.parse import BASE_FIELDS, parse_issue
from v2mom.errors import AuthError, ConfigError
from v2mom.sandbox.jira.state import Issue
from v2mom.vocabulary import LinkWrite, TagWrite


def test_jira_connector_is_a_tag_writer(site: Site) -> None:
    writer: TagWriter = site.connector
    assert isinstance(writer, TagWriter)
    assert writer.tracker == "jira"


def test_value_and_method_reach_2500_issues_in_few_requests(cloud_site: Site) -> None:
    site = cloud_site
    value, method = PLAN.values[0], PLAN.methods[0]
    options = {"value": site.option("value", value.id), "method": site.option("method", method.id)}
    writes = [TagWrite(i, site.state.issues[int(i)].key, dict(options)) for i in site.ids]  # type: ignore[arg-type]
    before = dict(site.connector.calls.calls)

    outcomes = site.connector.write_tags(writes)

    assert [o.item_id for o in outcomes] == site.ids
    assert all(o.ok for o in outcomes), [o.error for o in outcomes if not o.ok][:3]
    # Both fields in one request per 1,000 issues, one look at each task; field ids are cached.
    used = spent(site.connector, before)
    assert used == {"bulk-edit": 3, "bulk-queue": 3}
    assert sum(used.values()) / len(writes) <= 0.05
    assert site.state.request_count("/rest/api/3/bulk/issues/fields") == 3
    for item_id in site.ids[:: ISSUES // 25]:
        assert chosen(site, item_id) == {VALUE: (value.name,), METHOD: (method.name,)}
    read = [item for page in site.connector.iter_pages(None) for item in page.items]
    assert len(read) == ISSUES
    assert all(item.custom_fields.get(VALUE) == (value.name,) for item in read)


def test_a_fresh_connector_finds_the_fields_with_one_read(site: Site) -> None:
    fresh = connect(site.state, site.url, [])
    try:
        value = site.option("value", PLAN.values[1].id)
        outcomes = fresh.write_tags([site.write(site.ids[0], value=value)])
        assert [o.ok for o in outcomes] == [True]
        wrote = {"issue-edit": 1} if site.datacenter else {"bulk-edit": 1, "bulk-queue": 1}
        assert fresh.calls.calls == {"server-info": 1, "field": 1, **wrote}  # which Jira, asked once
    finally:
        fresh.close()
    assert chosen(site, site.ids[0]) == {VALUE: (PLAN.values[1].name,)}


def test_clearing_one_kind_leaves_the_other(site: Site) -> None:
    first = site.ids[:3]
    value = site.option("value", PLAN.values[0].id)
    method = site.option("method", PLAN.methods[1].id)
    site.connector.write_tags([site.write(i, value=value, method=method) for i in first])

    outcomes = site.connector.write_tags([site.write(i, value=None) for i in first])

    assert all(o.ok for o in outcomes)
    for item_id in first:
        assert chosen(site, item_id) == {METHOD: (PLAN.methods[1].name,)}
    site.connector.write_tags([site.write(i, value=None, method=None) for i in first])
    assert all(chosen(site, i) == {} for i in first)


def test_mixed_options_are_one_bulk_edit_per_group(cloud_site: Site) -> None:
    site = cloud_site
    values = [site.option("value", v.id) for v in PLAN.values]
    methods = [site.option("method", m.id) for m in PLAN.methods]
    writes = [
        site.write(item_id, value=values[n % 2], method=methods[n % 2] if n % 3 else None)
        for n, item_id in enumerate(site.ids[:1200])
    ]
    writes.append(site.write(site.ids[1200]))  # nothing to write: ok, no request
    before = dict(site.connector.calls.calls)

    outcomes = site.connector.write_tags(writes)

    assert all(o.ok for o in outcomes)
    groups = {tuple(sorted(w.options.items())) for w in writes if w.options}
    assert len(groups) == 4
    # 1,200 issues over 4 groups of ≤ 300: one bulk edit and one look each.
    assert spent(site.connector, before) == {"bulk-edit": 4, "bulk-queue": 4}
    for n in (0, 1, 2, 3, 5, 1199):
        want = {VALUE: (PLAN.values[n % 2].name,)}
        if n % 3:
            want[METHOD] = (PLAN.methods[n % 2].name,)
        assert chosen(site, site.ids[n]) == want
    assert chosen(site, site.ids[1200]) == {}


def test_a_deleted_issue_gets_an_error_naming_it_and_the_others_are_written(site: Site) -> None:
    value = site.option("value", PLAN.values[1].id)
    writes = [site.write(i, value=value) for i in site.ids[:5]]
    gone = writes[2]
    site.state.delete_issue(int(gone.item_id))

    outcomes = site.connector.write_tags(writes)

    assert [o.ok for o in outcomes] == [True, True, False, True, True]
    error = outcomes[2].error or ""
    assert gone.key in error
    assert ("HTTP 404" if site.datacenter else "invalid or inaccessible") in error
    for write in writes[:2] + writes[3:]:
        assert chosen(site, write.item_id) == {VALUE: (PLAN.values[1].name,)}


def test_an_option_jira_refuses_is_that_items_outcome(site: Site) -> None:
    value = site.option("value", PLAN.values[0].id)
    contexts = site.state.field_contexts(site.connector.read_vocabulary().containers["value"] or "")
    disabled = next(o for c in contexts for o in c.options if o.id == value)
    disabled.disabled = True
    other = site.option("value", PLAN.values[1].id)
    writes = [site.write(site.ids[0], value=value), site.write(site.ids[1], value=other)]

    outcomes = site.connector.write_tags(writes)

    assert outcomes[1].ok
    assert outcomes[0].error is not None
    assert writes[0].key in outcomes[0].error
    assert ("is not valid" if site.datacenter else "disabled") in outcomes[0].error
    assert chosen(site, site.ids[0]) == {}


def test_an_injected_429_is_retried_and_the_writes_land(site: Site) -> None:
    value = site.option("value", PLAN.values[0].id)
    if site.datacenter:  # two edits answer 429 first
        site.state.inject_fault(429, retry_after=2, path_prefix=site.path(f"issue/{site.ids[0]}"))
        site.state.inject_fault(429, retry_after=1, path_prefix=site.path(f"issue/{site.ids[9]}"))
    else:
        site.state.inject_fault(429, retry_after=2, path_prefix="/rest/api/3/bulk/issues/fields")
        site.state.inject_fault(429, retry_after=1, path_prefix="/rest/api/3/bulk/queue/")
    before = dict(site.connector.calls.calls)

    outcomes = site.connector.write_tags([site.write(i, value=value) for i in site.ids[:10]])

    assert all(o.ok for o in outcomes)
    wrote = {"issue-edit": 12} if site.datacenter else {"bulk-edit": 2, "bulk-queue": 2}
    assert spent(site.connector, before) == wrote
    assert 2 in site.slept
    assert 1 in site.slept  # each Retry-After honoured
    assert all(chosen(site, i) == {VALUE: (PLAN.values[0].name,)} for i in site.ids[:10])


def test_a_running_task_is_polled_until_complete(cloud_site: Site) -> None:
    site = cloud_site
    site.state.bulk_running_polls = 2
    value = site.option("value", PLAN.values[0].id)
    before = dict(site.connector.calls.calls)
    outcomes = site.connector.write_tags([site.write(site.ids[0], value=value)])
    assert [o.ok for o in outcomes] == [True]
    assert spent(site.connector, before) == {"bulk-edit": 1, "bulk-queue": 3}
    assert site.slept[-3:] == [0.5, 1.0, 2.0]  # waits grow between looks


def test_many_tasks_run_in_flight_and_wait_per_round_not_per_task(
    cloud_site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """12 bulk edits (chunks of 10), each RUNNING for two looks: ten at once, then two more."""
    site = cloud_site
    monkeypatch.setattr(jira_tags, "MAX_ISSUES_PER_BULK_EDIT", 10)
    site.state.bulk_running_polls = 2
    value = site.option("value", PLAN.values[1].id)
    before = dict(site.connector.calls.calls)

    outcomes = site.connector.write_tags([site.write(i, value=value) for i in site.ids[:120]])

    assert all(o.ok for o in outcomes), [o.error for o in outcomes if not o.ok][:3]
    assert spent(site.connector, before) == {"bulk-edit": 12, "bulk-queue": 36}  # three looks each
    assert site.slept[-6:] == [0.5, 1.0, 2.0, 0.5, 1.0, 2.0]  # one wait per round, not per task
    for n in (0, 9, 10, 119):
        assert chosen(site, site.ids[n]) == {VALUE: (PLAN.values[1].name,)}


def test_missing_fields_ask_for_provisioning(site: Site) -> None:
    site.state.fields = [f for f in site.state.fields if f["name"] != METHOD]
    fresh = connect(site.state, site.url, [])
    try:
        method = site.option("method", PLAN.methods[0].id)
        with pytest.raises(ConfigError, match=r"'V2MOM Method'.*v2mom trackers provision --apply"):
            fresh.write_tags([site.write(site.ids[0], method=method)])
        assert fresh.calls.calls == {"server-info": 1, "field": 1}  # nothing was written
    finally:
        fresh.close()


def test_bad_credentials_raise_an_auth_error(site: Site) -> None:
    value = site.option("value", PLAN.values[0].id)
    wrong = connect(site.state, site.url, [], token="not-the-token")
    try:
        with pytest.raises(AuthError, match="authentication failed"):
            wrong.write_tags([site.write(site.ids[0], value=value)])
        with pytest.raises(AuthError, match="authentication failed"):
            wrong.write_links([LinkWrite(site.ids[0], "ONB-1", "https://v2mom.test/items/jira/ONB-1", "x")])
    finally:
        wrong.close()


def test_a_write_fires_issue_updated_and_an_unchanged_one_does_not(site: Site) -> None:
    events: list[tuple[str, str]] = []

    def listen(event: str, issue: Issue) -> None:
        events.append((event, str(issue.id)))

    site.state.listeners.append(listen)
    value = site.option("value", PLAN.values[0].id)
    before = site.state.issues[int(site.ids[0])].updated
    site.connector.write_tags([site.write(site.ids[0], value=value)])
    assert events == [("jira:issue_updated", site.ids[0])]
    assert site.state.issues[int(site.ids[0])].updated > before
    site.connector.write_tags([site.write(site.ids[0], value=value)])
    assert events == [("jira:issue_updated", site.ids[0])]  # the same value again: no change, no echo


# -- Jira Data Center: one PUT per issue, a few at once ------------------------------------------


def test_on_data_center_each_issue_is_one_edit_and_watchers_are_not_notified(dc_site: Site) -> None:
    site = dc_site
    value, method = PLAN.values[0], PLAN.methods[1]
    options = {"value": site.option("value", value.id), "method": site.option("method", method.id)}
    writes = [TagWrite(i, site.state.issues[int(i)].key, dict(options)) for i in site.ids]  # type: ignore[arg-type]
    before = dict(site.connector.calls.calls)

    outcomes = site.connector.write_tags(writes)

    assert [o.item_id for o in outcomes] == site.ids
    assert all(o.ok for o in outcomes), [o.error for o in outcomes if not o.ok][:3]
    assert spent(site.connector, before) == {"issue-edit": len(site.ids)}  # both fields in one edit
    assert all(site.state.request_count(site.path(f"issue/{i}")) == 1 for i in site.ids)
    for item_id in site.ids[::7]:
        assert chosen(site, item_id) == {VALUE: (value.name,), METHOD: (method.name,)}


def test_on_data_center_a_non_admin_edits_with_notifications_after_one_refusal(dc_site: Site) -> None:
    site = dc_site
    site.state.administrator = False  # notifyUsers=false is for administrators only
    value = site.option("value", PLAN.values[1].id)
    before = dict(site.connector.calls.calls)
    first = site.connector.write_tags([site.write(site.ids[0], value=value)])
    assert [o.ok for o in first] == [True]
    assert spent(site.connector, before) == {"issue-edit": 2}  # refused without notifications, then sent
    before = dict(site.connector.calls.calls)
    rest = site.connector.write_tags([site.write(i, value=value) for i in site.ids[1:6]])
    assert all(o.ok for o in rest)
    assert spent(site.connector, before) == {"issue-edit": 5}  # the rest of the run asks no more
    assert all(chosen(site, i) == {VALUE: (PLAN.values[1].name,)} for i in site.ids[:6])


def test_on_data_center_expired_credentials_stop_the_run_with_an_auth_error(dc_site: Site) -> None:
    site = dc_site
    value = site.option("value", PLAN.values[0].id)
    site.connector.read_vocabulary()  # the field ids are known: only the edits are refused
    site.state.token_expired = True
    with pytest.raises(AuthError, match="personal access token"):
        site.connector.write_tags([site.write(i, value=value) for i in site.ids[:30]])
    site.state.token_expired = False
    assert not any(site.state.issues[int(i)].selects for i in site.ids[:30])


def test_on_data_center_a_few_workers_edit_each_with_its_own_session_closed_after(
    dc_site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = dc_site
    spawned: list[JiraClient] = []
    closed: list[JiraClient] = []
    real_spawn, real_close = JiraClient.spawn, JiraClient.close

    def spawn(client: JiraClient) -> JiraClient:
        made = real_spawn(client)
        spawned.append(made)
        return made

    def close(client: JiraClient) -> None:
        closed.append(client)
        real_close(client)

    monkeypatch.setattr(JiraClient, "spawn", spawn)
    monkeypatch.setattr(JiraClient, "close", close)
    value = site.option("value", PLAN.values[0].id)
    outcomes = site.connector.write_tags([site.write(i, value=value) for i in site.ids])
    assert all(o.ok for o in outcomes)
    assert 1 <= len(spawned) <= WRITERS  # one client per worker, never one per issue
    assert len({id(c._sdk.session) for c in spawned}) == len(spawned)
    assert sorted(map(id, closed)) == sorted(map(id, spawned))


def test_on_data_center_what_was_written_reads_back_by_option_id(dc_site: Site) -> None:
    """Settling a write reads the choice's option id from Data Center's rendering of the issue."""
    site = dc_site
    value = site.option("value", PLAN.values[1].id)
    site.connector.write_tags([site.write(site.ids[0], value=value)])
    field_id = site.connector.read_vocabulary().containers["value"]
    assert field_id is not None
    raw = site.connector._client.get_issue(site.ids[0], [*BASE_FIELDS, field_id])
    item = parse_issue(raw, base_url=site.url, points_fields=[], custom_field_names={field_id: VALUE})
    assert item.choice_options == {"value": ((value, PLAN.values[1].name),)}
