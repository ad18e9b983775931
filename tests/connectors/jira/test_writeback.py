"""Jira write-back through the real path: JiraConnector → atlassian-python-api → the sandbox Jira on
127.0.0.1. Values and methods are set by bulk edit (≤ 1,000 issues a request, polled to COMPLETE) and
read back through ``get_item``; each item's explanation link is one remote link, updated in place."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from pydantic import SecretStr

from tests.connectors.jira.test_vocabulary import PLAN, provision
from v2mom.connectors.base import TagWriter
from v2mom.connectors.jira import writeback as jira_writeback
from v2mom.connectors.jira.connector import JiraConnector
from v2mom.connectors.jira.writeback import global_id
from v2mom.errors import AuthError, ConfigError
from v2mom.sandbox.jira.app import create_jira_app
from v2mom.sandbox.jira.state import Issue, JiraState
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import JiraSettings, SyncSettings
from v2mom.vocabulary import FIELD_NAMES, Kind, LinkWrite, TagWrite

ISSUES = 2500
VALUE, METHOD = FIELD_NAMES["value"], FIELD_NAMES["method"]
Known = dict[str, dict[str, str]]


class Site:
    """A provisioned sandbox site, its connector, the recorded option ids and the waits it slept."""

    def __init__(self, state: JiraState, url: str) -> None:
        self.state = state
        self.url = url
        self.slept: list[float] = []
        self.connector = connect(state, url, self.slept)
        self.known: Known = provision(self.connector, PLAN)
        self.ids = [str(i) for i in sorted(state.issues)]

    def option(self, kind: Kind, plan_id: str) -> str:
        return self.known[kind][plan_id]

    def write(self, item_id: str, **options: str | None) -> TagWrite:
        return TagWrite(item_id, self.state.issues[int(item_id)].key, options)  # type: ignore[arg-type]


def connect(state: JiraState, url: str, slept: list[float], *, token: str | None = None) -> JiraConnector:
    """The real connector on the sandbox; waits are recorded instead of slept."""
    settings = JiraSettings(
        url=url,
        email=state.account_email,
        api_token=SecretStr(token or state.api_token),
        jql="project = ONB",
    )
    return JiraConnector(settings, SyncSettings(max_retries=3), sleep=slept.append)


@pytest.fixture
def site() -> Iterator[Site]:
    """A site without the V2MOM fields, 2,500 stories in ONB, then ``provision --apply``."""
    state = JiraState()
    state.fields = [f for f in state.fields if f["name"] not in FIELD_NAMES.values()]
    state.add_project("ONB", "Onboarding", team_managed=True)
    for n in range(ISSUES):
        state.add_issue("ONB", f"Story {n}")
    with SandboxServer(create_jira_app(state)) as url:
        made = Site(state, url)
        yield made
        made.connector.close()


def spent(connector: JiraConnector, before: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in connector.calls.calls.items() if v != before.get(k, 0)}


def chosen(site: Site, item_id: str) -> dict[str, tuple[str, ...]]:
    """The V2MOM choices of an issue, read back through ``get_item``."""
    fields = site.connector.get_item(item_id).custom_fields
    return {name: fields[name] for name in (VALUE, METHOD) if name in fields}


def test_jira_connector_is_a_tag_writer(site: Site) -> None:
    writer: TagWriter = site.connector
    assert isinstance(writer, TagWriter)
    assert writer.tracker == "jira"


def test_value_and_method_reach_2500_issues_in_few_requests(site: Site) -> None:
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
        assert fresh.calls.calls == {"field": 1, "bulk-edit": 1, "bulk-queue": 1}
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


def test_mixed_options_are_one_bulk_edit_per_group(site: Site) -> None:
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
    assert "invalid or inaccessible" in error
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
    assert "disabled" in outcomes[0].error
    assert chosen(site, site.ids[0]) == {}


def test_an_injected_429_is_retried_and_the_writes_land(site: Site) -> None:
    value = site.option("value", PLAN.values[0].id)
    site.state.inject_fault(429, retry_after=2, path_prefix="/rest/api/3/bulk/issues/fields")
    site.state.inject_fault(429, retry_after=1, path_prefix="/rest/api/3/bulk/queue/")
    before = dict(site.connector.calls.calls)

    outcomes = site.connector.write_tags([site.write(i, value=value) for i in site.ids[:10]])

    assert all(o.ok for o in outcomes)
    assert spent(site.connector, before) == {"bulk-edit": 2, "bulk-queue": 2}
    assert 2 in site.slept
    assert 1 in site.slept  # each Retry-After honoured
    assert all(chosen(site, i) == {VALUE: (PLAN.values[0].name,)} for i in site.ids[:10])


def test_a_running_task_is_polled_until_complete(site: Site) -> None:
    site.state.bulk_running_polls = 2
    value = site.option("value", PLAN.values[0].id)
    before = dict(site.connector.calls.calls)
    outcomes = site.connector.write_tags([site.write(site.ids[0], value=value)])
    assert [o.ok for o in outcomes] == [True]
    assert spent(site.connector, before) == {"bulk-edit": 1, "bulk-queue": 3}
    assert site.slept[-3:] == [0.5, 1.0, 2.0]  # waits grow between looks


def test_many_tasks_run_in_flight_and_wait_per_round_not_per_task(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """12 bulk edits (chunks of 10), each RUNNING for two looks: ten at once, then two more."""
    monkeypatch.setattr(jira_writeback, "MAX_ISSUES_PER_BULK_EDIT", 10)
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
        assert fresh.calls.calls == {"field": 1}  # nothing was written
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


# -- links ------------------------------------------------------------------------------------


def link_for(site: Site, item_id: str) -> LinkWrite:
    key = site.state.issues[int(item_id)].key
    return LinkWrite(item_id, key, f"https://v2mom.test/items/jira/{key}", f"V2MOM: why {key}")


def links_of(site: Site, item_id: str) -> list[tuple[str | None, str, str]]:
    return [
        (link.global_id, link.object["url"], link.object["title"])
        for link in site.state.remote_links.get(int(item_id), [])
    ]


def test_a_link_is_created_once_and_updated_in_place(site: Site) -> None:
    items = site.ids[:20]
    before = dict(site.connector.calls.calls)
    outcomes = site.connector.write_links([link_for(site, i) for i in items])
    assert all(o.ok for o in outcomes)
    assert spent(site.connector, before) == {"remote-link": 20}  # one request per link
    key = site.state.issues[int(items[0])].key
    assert links_of(site, items[0]) == [
        (global_id(items[0]), f"https://v2mom.test/items/jira/{key}", f"V2MOM: why {key}")
    ]
    ids_before = [link.id for link in site.state.remote_links[int(items[0])]]

    retitled = [replace(link_for(site, i), title="Why this work (v2mom)") for i in items]
    again = site.connector.write_links(retitled)

    assert all(o.ok for o in again)
    assert all(len(site.state.remote_links[int(i)]) == 1 for i in items)
    assert [link.id for link in site.state.remote_links[int(items[0])]] == ids_before
    assert links_of(site, items[0])[0][2] == "Why this work (v2mom)"


def test_a_moved_issue_keeps_one_link_pointing_at_its_new_key(site: Site) -> None:
    item = site.ids[0]
    site.connector.write_links([link_for(site, item)])
    site.state.add_project("PLAT", "Platform", team_managed=False)
    new_key = site.state.move_issue(int(item), "PLAT")

    outcomes = site.connector.write_links([link_for(site, item)])

    assert [o.ok for o in outcomes] == [True]
    assert links_of(site, item) == [
        (global_id(item), f"https://v2mom.test/items/jira/{new_key}", f"V2MOM: why {new_key}")
    ]


def test_a_link_to_a_deleted_issue_is_its_error_and_the_others_are_made(site: Site) -> None:
    items = site.ids[:3]
    links = [link_for(site, i) for i in items]
    site.state.delete_issue(int(items[1]))

    outcomes = site.connector.write_links(links)

    assert [o.ok for o in outcomes] == [True, False, True]
    assert links[1].key in (outcomes[1].error or "")
    assert "HTTP 404" in (outcomes[1].error or "")
    assert len(links_of(site, items[0])) == len(links_of(site, items[2])) == 1


def test_a_429_on_a_link_is_retried(site: Site) -> None:
    site.state.inject_fault(429, retry_after=0, path_prefix=f"/rest/api/3/issue/{site.ids[0]}/remotelink")
    before = dict(site.connector.calls.calls)
    outcomes = site.connector.write_links([link_for(site, site.ids[0])])
    assert [o.ok for o in outcomes] == [True]
    assert spent(site.connector, before) == {"remote-link": 2}
    assert len(links_of(site, site.ids[0])) == 1
