"""The Jira REST client: the only module that imports the vendor SDK.

Cloud speaks REST v3 with basic auth (email + API token) through ``atlassian.JiraCloud``; Data
Center speaks REST v2 with a personal access token sent as Bearer through ``atlassian.Jira``
(``cloud=False``). Both share the plumbing below; the endpoints one deployment lacks are refused.

Every call goes through :meth:`JiraClient._call`, which counts it and maps every vendor or
``requests`` exception to our error tree (httpx's ``map_exceptions`` idea). Mapped errors keep only
the HTTP status, the request id (``X-Arequestid``) and, for client errors, Jira's ``errorMessages``;
never headers, the URL, the email, the token or the body. They are raised *after* the vendor
exception has been handled, so they carry neither ``__cause__`` nor ``__context__``: the vendor
exception holds the prepared request, whose ``Authorization`` header encodes the credentials.

The SDK's own retries (``backoff_and_retry`` and the 429 ``retry_with_header`` loop, which is on by
default and sleeps up to 30 minutes) are switched off: retries live in :mod:`connectors.retry`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import fields as dataclass_fields
from dataclasses import replace
from typing import Any, NoReturn
from urllib.parse import quote

import orjson
import requests
import urllib3
from atlassian import Jira, JiraCloud

from v2mom.connectors.ahead import answered
from v2mom.connectors.base import CallCounter
from v2mom.connectors.errors import ErrorTexts, connect_failed, error_for_status, unreachable
from v2mom.connectors.jira.datacenter import check_deployment
from v2mom.connectors.jira.rate_limits import RateBudget, interval_retry_after
from v2mom.connectors.retry import parse_retry_after
from v2mom.errors import AuthError, FatalError, RetriableError, TrackerError
from v2mom.settings import JiraDeployment

__all__ = [
    "CONNECT_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "SELECT_SEARCHER",
    "SELECT_TYPE",
    "TRACKER",
    "JiraClient",
    "map_http_error",
]

TRACKER = "jira"
log = logging.getLogger(__name__)
DEFAULT_TIMEOUT = 30  # seconds; the SDK coerces its timeout to int
CONNECT_TIMEOUT = 5.0  # seconds to open a connection (sync.connect_timeout_seconds)
REQUEST_ID_HEADER = "X-Arequestid"
_MAX_MESSAGE = 500
_CONNECT_FAILURES = (urllib3.exceptions.ConnectTimeoutError,)  # NewConnectionError is one too
SELECT_TYPE = "com.atlassian.jira.plugin.system.customfieldtypes:select"
SELECT_SEARCHER = "com.atlassian.jira.plugin.system.customfieldtypes:multiselectsearcher"


def _error_messages(response: requests.Response) -> str:
    """Jira's ``errorMessages`` (never the rest of the body), joined and truncated.

    The bulk operations answer another shape (``BulkOperationErrorResponse``: ``errors`` is a list
    of ``{"message": …}``); those messages are read too. The ErrorCollection's ``errors`` object
    (parameter -> message) is not: it may echo what was sent.
    """
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    messages = body.get("errorMessages")
    found = list(messages) if isinstance(messages, list) else []
    bulk = body.get("errors")
    if isinstance(bulk, list):
        found.extend(e.get("message") for e in bulk if isinstance(e, dict))
    text = "; ".join(str(m) for m in found if isinstance(m, str | int | float) and str(m).strip())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


_TEXTS = ErrorTexts(
    unauthorized="authentication failed: check email and API token",
    forbidden="permission denied: the account may not read this resource",
    not_found="not found (or not visible to this account)",
)


SERVER_INFO = "server-info"  # the kind of the one request sent before the deployment is known

# Data Center answers 401 to a personal access token that expired or was revoked (PATs expire).
_DC_TEXTS = replace(
    _TEXTS,
    unauthorized="authentication failed: the personal access token was refused "
    "(expired, revoked or mistyped): check trackers.jira.token",
)
# Field administration (vocabulary provisioning) is refused for another reason than reading.
_ADMIN_FORBIDDEN = "permission denied: the account may not administer custom fields (Jira admin)"
_ADMIN_TEXTS = replace(_TEXTS, forbidden=_ADMIN_FORBIDDEN)
_DC_ADMIN_TEXTS = replace(_DC_TEXTS, forbidden=_ADMIN_FORBIDDEN)
# A remote link is refused without the project's Link issues permission, or (Data Center) when an
# administrator turned remote issue linking off.
_LINK_FORBIDDEN = "permission denied: the account may not link this issue, or issue linking is turned off"


# -- Data Center webhooks (module level) ---------------------------------------------------------
DC_WEBHOOKS = "rest/jira-webhook/1.0/webhooks"
_WEBHOOK_FORBIDDEN = (
    "permission denied: managing webhooks needs the Jira Administrators global permission "
    "(the account of trackers.jira.token lacks it)"
)
_WEBHOOK_NOT_FOUND = (
    "not found: this Jira has no /rest/jira-webhook/1.0/webhooks (Data Center before 10, whose "
    "webhooks cannot be signed: the reconcile pass keeps it current instead)"
)


def _webhook_texts(client: JiraClient) -> ErrorTexts:
    """The error texts of the webhook endpoints: admin permission, and a release without them."""
    return replace(client._texts, forbidden=_WEBHOOK_FORBIDDEN, not_found=_WEBHOOK_NOT_FOUND)


def _step_texts(texts: ErrorTexts, step: str) -> ErrorTexts:
    """``texts`` with every message prefixed by ``step`` ("create field 'V2MOM Value': …")."""
    return replace(texts, **{f.name: f"{step}: {getattr(texts, f.name)}" for f in dataclass_fields(texts)})


def _retry_after(response: requests.Response) -> float | None:
    """The wait a refusal asks for: ``Retry-After``, else (Data Center's rate limit) one refill interval."""
    told = parse_retry_after(response.headers.get("Retry-After"))
    if told is None and response.status_code == 429:
        return interval_retry_after(response.headers)
    return told


def map_http_error(
    response: requests.Response, *, step: str | None = None, texts: ErrorTexts = _TEXTS
) -> TrackerError:
    """Translate an HTTP error response into our error tree, keeping status and request id only.

    The classification is :func:`connectors.errors.error_for_status`; Jira adds its ``errorMessages``
    as the detail and the ``X-Arequestid`` header as the request id. ``step`` (what we were doing)
    starts the message, whichever error it becomes.
    """
    detail = _error_messages(response)
    if step is not None:
        texts = _step_texts(texts, step)
        if detail and response.status_code not in (401, 403):  # the detail replaces the text there
            detail = f"{step}: {detail}"
    return error_for_status(
        response.status_code,
        tracker=TRACKER,
        request_id=response.headers.get(REQUEST_ID_HEADER) or None,
        retry_after=_retry_after(response),
        detail=detail,
        texts=texts,
    )


def _map_exception(
    exc: Exception,
    step: str | None = None,
    texts: ErrorTexts = _TEXTS,
    *,
    url: str = "",
    connect_timeout: float = CONNECT_TIMEOUT,
) -> TrackerError | None:
    """Our error for a vendor/requests exception, or None when it is not one of theirs.

    A connection that could not be opened to ``url`` (the site) is :class:`UnreachableError`
    naming it; one that broke once opened stays a plain retriable "connection failed".
    """
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return map_http_error(exc.response, step=step, texts=texts)
    lead = f"{step}: " if step is not None else ""
    if isinstance(exc, requests.ConnectionError) and connect_failed(exc, _CONNECT_FAILURES):
        return unreachable(TRACKER, url, exc, connect_timeout)
    if isinstance(exc, requests.exceptions.SSLError):
        return FatalError(
            lead + "TLS handshake failed (check the Jira URL and certificates)", tracker=TRACKER
        )
    if isinstance(exc, requests.Timeout):
        return RetriableError(lead + "request timed out", tracker=TRACKER)
    if isinstance(exc, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
        return RetriableError(lead + f"connection failed ({type(exc).__name__})", tracker=TRACKER)
    if isinstance(exc, requests.RequestException):
        return FatalError(lead + f"request failed ({type(exc).__name__})", tracker=TRACKER)
    return None


class DeploymentCheck:
    """Whether the site was found to be the configured deployment, shared by a client and the
    clients it spawns: ``serverInfo`` is asked once, before the first request that sends credentials."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.passed = False


class JiraClient:
    """Thin, typed wrapper over ``atlassian.JiraCloud`` (REST v3, basic auth with an API token) or,
    for ``deployment="datacenter"``, ``atlassian.Jira`` (REST v2, a personal access token as Bearer).

    Methods return decoded JSON and raise only :class:`~v2mom.errors.TrackerError` subclasses. Each
    HTTP request is counted in ``calls`` under its kind ("search", "census", "field", "myself",
    "issue"; history: "status", "changelog"; provisioning: "field-create", "field-context",
    "context-create", "field-option", "option-create", "option-update", and on Data Center
    "screen-add"; write-back: "bulk-edit", "bulk-queue", "remote-link", and on Data Center
    "issue-edit"). No retries happen here.
    """

    def __init__(
        self,
        url: str,
        *,
        api_token: str,
        email: str | None = None,
        deployment: JiraDeployment = "cloud",
        timeout: int = DEFAULT_TIMEOUT,
        connect_timeout: float = CONNECT_TIMEOUT,
        calls: CallCounter | None = None,
        budget: RateBudget | None = None,
        sleep: Callable[[float], None] = time.sleep,
        deployment_check: DeploymentCheck | None = None,
    ) -> None:
        """Build the SDK client; nothing is sent until the first call.

        Cloud needs ``email`` with ``api_token``; Data Center takes ``api_token`` as its personal
        access token (sent as ``Authorization: Bearer``, never with an email). Every answer's
        rate-limit headers feed ``budget`` (shared by a connector's clients), and each call first
        ``sleep``s the pause it asks for. Before the first call that sends credentials, whatever it
        is (a sync, provisioning, a write-back, registering webhooks), ``serverInfo`` is asked which
        Jira the URL names: the other deployment than ``deployment`` is a ConfigError naming the
        setting, and the other deployment's credentials are never sent (``deployment_check``: shared
        with the clients this one spawns, so the site is asked once).
        """
        self.base_url = url.rstrip("/")
        self.deployment: JiraDeployment = deployment
        self.api_version = 2 if deployment == "datacenter" else 3
        self._connect_timeout = connect_timeout
        self.calls = calls if calls is not None else CallCounter()
        datacenter = deployment == "datacenter"
        self._texts = _DC_TEXTS if datacenter else _TEXTS
        self._admin_texts = _DC_ADMIN_TEXTS if datacenter else _ADMIN_TEXTS
        # The SDK's own retries are off (``backoff_and_retry``; ``retry_with_header``, else it sleeps
        # on 429 Retry-After by itself): retries are ours (connectors/retry.py).
        self.budget = budget if budget is not None else RateBudget()
        self._sleep = sleep
        self._deployment_check = deployment_check if deployment_check is not None else DeploymentCheck()
        session = requests.Session()
        session.hooks["response"].append(self._observe)
        self._sdk: Jira | JiraCloud
        if datacenter:
            self._sdk = Jira(
                self.base_url,
                session=session,
                token=api_token,
                cloud=False,
                api_version=2,
                timeout=int(timeout),
                backoff_and_retry=False,
                retry_with_header=False,
            )
        else:
            self._sdk = JiraCloud(
                self.base_url,
                session=session,
                username=email,
                password=api_token,
                cloud=True,
                api_version=3,
                timeout=int(timeout),
                backoff_and_retry=False,
                retry_with_header=False,
            )
        # requests takes (connect, read): an unreachable site fails in seconds, a slow answer may take
        # ``timeout``. The SDK annotates ``timeout`` as an int but hands it to requests as it is.
        self._sdk.timeout = (connect_timeout, int(timeout))  # type: ignore[assignment]
        # Another client of the same site, counter and rate budget, with its own session (:meth:`spawn`).
        self._respawn: Callable[[], JiraClient] = lambda: JiraClient(
            url,
            api_token=api_token,
            email=email,
            deployment=deployment,
            timeout=timeout,
            connect_timeout=connect_timeout,
            calls=self.calls,
            budget=self.budget,
            sleep=sleep,
            deployment_check=self._deployment_check,
        )

    def _observe(self, response: requests.Response, *_args: object, **_kwargs: object) -> None:
        """The session's response hook: what the answer says of the rate limit."""
        self.budget.observe(response.headers)

    def rest(self, resource: str) -> str:
        """The path of ``resource`` under this deployment's REST API (``rest/api/3/…`` on Cloud,
        ``rest/api/2/…`` on Data Center), relative to the site."""
        return self._sdk.resource_url(resource, api_root="rest/api", api_version=self.api_version)

    @property
    def _generated(self) -> Any:
        """The SDK itself, for its generated REST v3 endpoint methods (``create_custom_field`` …).

        Those methods carry no type hints; each is wrapped by a typed method here that checks what
        it returns, so ``Any`` does not travel further.
        """
        return self._sdk

    def _call(
        self, kind: str, fn: Callable[[], object], *, step: str | None = None, texts: ErrorTexts | None = None
    ) -> object:
        """Count one request of ``kind``, run it and map any vendor exception.

        ``step`` names what the request does in error messages. The mapped error is raised outside
        the ``except`` block so that it carries no chained vendor exception (equivalent to
        ``raise … from None`` without even a ``__context__``). The site's deployment is checked
        first, once (:class:`DeploymentCheck`).
        """
        if kind != SERVER_INFO and not self._deployment_check.passed:
            self.check_deployment()
        self.calls.add(kind)
        wait = self.budget.pause()
        error: TrackerError | None = None
        try:
            if wait > 0:
                log.info("the rate limit's bucket is empty: waiting %.2fs before a %s request", wait, kind)
                self._sleep(wait)
            return fn()
        except Exception as exc:  # narrowed below: anything not ours to map is re-raised
            error = _map_exception(
                exc, step, texts or self._texts, url=self.base_url, connect_timeout=self._connect_timeout
            )
            if error is None:
                raise
        finally:
            self.budget.finished()
        raise error

    def _json_object(
        self, kind: str, fn: Callable[[], object], *, step: str | None = None, texts: ErrorTexts | None = None
    ) -> dict[str, Any]:
        result = self._call(kind, fn, step=step, texts=texts)
        if not isinstance(result, dict):
            lead = f"{step}: " if step is not None else ""
            raise FatalError(f"{lead}unexpected {kind} response: expected a JSON object", tracker=TRACKER)
        return result

    def _post_page(self, endpoint: str, body: dict[str, object], what: str) -> Callable[[], object]:
        """A POST of ``body`` to ``endpoint`` answering a large page (``what``: search, changelog):
        the raw response (the SDK's advanced mode) decoded by orjson, as the bulk of a sync is."""

        def fetch() -> object:
            response = self._sdk.post(endpoint, data=body, advanced_mode=True)
            response.raise_for_status()
            answered()  # a page fetched ahead may be asked for while this one is decoded
            try:
                return orjson.loads(response.content)
            except orjson.JSONDecodeError:
                return _page_orjson_refused(response.content, what)

        return fetch

    def myself(self) -> dict[str, Any]:
        """``GET /rest/api/3/myself``: the account (its ``timeZone`` drives JQL date literals)."""
        return self._json_object("myself", lambda: self._sdk.get(self.rest("myself")))

    def fields(self, *, step: str | None = None) -> list[dict[str, Any]]:
        """``GET /rest/api/3/field``: every system and custom field with its schema."""
        result = self._call("field", lambda: self._sdk.get(self.rest("field")), step=step)
        if not isinstance(result, list) or not all(isinstance(f, dict) for f in result):
            lead = f"{step}: " if step is not None else ""
            raise FatalError(
                f"{lead}unexpected field response: expected a JSON array of objects", tracker=TRACKER
            )
        return result

    def search_page(
        self,
        jql: str,
        fields: Sequence[str],
        next_page_token: str | None,
        max_results: int,
        *,
        kind: str = "search",
    ) -> dict[str, Any]:
        """One page of ``POST /rest/api/3/search/jql`` (``issues``, ``nextPageToken``, ``isLast``)."""
        body: dict[str, object] = {"jql": jql, "fields": list(fields), "maxResults": int(max_results)}
        if next_page_token is not None:
            body["nextPageToken"] = next_page_token
        # POST: the long field list stays out of the URL.
        page = self._json_object(kind, self._post_page(self.rest("search/jql"), body, "search"))
        if not isinstance(page.get("issues", []), list):
            raise FatalError("unexpected search response: 'issues' is not a list", tracker=TRACKER)
        return page

    def check_deployment(self) -> None:
        """Ask ``serverInfo`` which Jira the URL names, unless this client or one of its kin already
        did: ConfigError naming the ``deployment`` to set when it is the other one."""
        with self._deployment_check.lock:
            if not self._deployment_check.passed:
                check_deployment(self.server_info(), self.deployment, self.base_url)
                self._deployment_check.passed = True

    def server_info(self) -> dict[str, Any]:
        """``GET /rest/api/2/serverInfo`` (both deployments answer it, anonymously too): its
        ``deploymentType`` ("Cloud", "Server" or "DataCenter") tells which Jira the URL names.

        Asked without credentials: before the deployment is known to be the configured one, the
        other deployment's credentials are not sent (a Data Center counts failed logins and may
        demand a CAPTCHA). A site closed to anonymous callers is asked again with them."""
        anonymous = Jira(
            self.base_url, cloud=False, api_version=2, backoff_and_retry=False, retry_with_header=False
        )
        anonymous.timeout = self._sdk.timeout
        endpoint = anonymous.resource_url("serverInfo", api_root="rest/api", api_version=2)
        try:
            return self._json_object(SERVER_INFO, lambda: anonymous.get(endpoint))
        except AuthError:  # a site closed to anonymous callers: ask as the configured account
            return self._json_object(SERVER_INFO, lambda: self._sdk.get(endpoint))
        finally:
            anonymous.close()

    def search_offset_page(
        self,
        jql: str,
        fields: Sequence[str],
        start_at: int,
        max_results: int,
        *,
        expand: Sequence[str] = (),
        kind: str = "search",
        validate: bool = False,
    ) -> dict[str, Any]:
        """One page of Data Center's ``POST /rest/api/2/search`` (``issues``, ``startAt``, ``total``).

        ``validateQuery`` is off unless ``validate``: a key that no longer exists (an epic deleted,
        a key moved) is then a warning, not a refused query. A listing of the configured scope
        validates, so that a project the JQL names and the site lacks is refused (400), not an
        empty scope whose census would take every stored issue for deleted. ``expand`` may ask
        for ``changelog``.
        """
        body: dict[str, object] = {
            "jql": jql,
            "fields": list(fields),
            "startAt": int(start_at),
            "maxResults": int(max_results),
            "validateQuery": bool(validate),
        }
        if expand:
            body["expand"] = list(expand)
        page = self._json_object(kind, self._post_page(self.rest("search"), body, "search"))
        if not isinstance(page.get("issues", []), list):
            raise FatalError("unexpected search response: 'issues' is not a list", tracker=TRACKER)
        return page

    def statuses(self) -> list[dict[str, Any]]:
        """``GET /rest/api/3/status``: every status of the site's workflows, with its category."""
        result = self._call("status", lambda: self._sdk.get(self.rest("status")))
        if not isinstance(result, list) or not all(isinstance(s, dict) for s in result):
            raise FatalError("unexpected status response: expected a JSON array of objects", tracker=TRACKER)
        return result

    def changelog_page(
        self, ids: Sequence[str], field_ids: Sequence[str], next_page_token: str | None, max_results: int
    ) -> dict[str, Any]:
        """One page of ``POST /rest/api/3/changelog/bulkfetch`` (``issueChangeLogs``, ``nextPageToken``)."""
        body: dict[str, object] = {
            "issueIdsOrKeys": list(ids),
            "fieldIds": list(field_ids),
            "maxResults": int(max_results),
        }
        if next_page_token is not None:
            body["nextPageToken"] = next_page_token
        endpoint = self.rest("changelog/bulkfetch")
        page = self._json_object("changelog", self._post_page(endpoint, body, "changelog"))
        if not isinstance(page.get("issueChangeLogs", []), list):
            raise FatalError(
                "unexpected changelog response: 'issueChangeLogs' is not a list", tracker=TRACKER
            )
        return page

    def get_issue(self, id_or_key: str, fields: Sequence[str]) -> dict[str, Any]:
        """``GET /rest/api/3/issue/{idOrKey}`` with only ``fields``; NotFoundError when gone."""
        joined = ",".join(fields)
        safe_id = quote(str(id_or_key), safe="")
        return self._json_object(
            "issue", lambda: self._sdk.get(self.rest(f"issue/{safe_id}"), params={"fields": joined})
        )

    # -- Data Center reads: worklog feeds, one issue's whole changelog ---------------------------

    def worklog_changes(self, feed: str, since_ms: int) -> dict[str, Any]:
        """One page of ``GET /rest/api/2/worklog/{feed}?since=`` (``feed``: "updated" or "deleted"),
        a WorklogChangedSinceBean: ``values`` of ``{worklogId, updatedTime}``, ``until``, ``lastPage``."""
        endpoint = self.rest(f"worklog/{quote(feed, safe='')}")
        page = self._json_object("worklog", lambda: self._sdk.get(endpoint, params={"since": int(since_ms)}))
        if not isinstance(page.get("values", []), list):
            raise FatalError("unexpected worklog response: 'values' is not a list", tracker=TRACKER)
        return page

    def worklogs(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        """``POST /rest/api/2/worklog/list`` (up to 1,000 ids): the worklogs, each with its ``issueId``."""
        body = {"ids": [int(i) for i in ids]}
        result = self._call("worklog", lambda: self._sdk.post(self.rest("worklog/list"), data=body))
        if not isinstance(result, list) or not all(isinstance(w, dict) for w in result):
            raise FatalError("unexpected worklog response: expected a JSON array of objects", tracker=TRACKER)
        return result

    def issue_changelog(self, issue_id: str) -> dict[str, Any]:
        """``GET /rest/api/2/issue/{id}?expand=changelog``: the issue with its whole changelog."""
        safe_id = quote(str(issue_id), safe="")
        return self._json_object(
            "changelog",
            lambda: self._sdk.get(
                self.rest(f"issue/{safe_id}"), params={"fields": "status", "expand": "changelog"}
            ),
        )

    # -- custom fields, contexts and options (vocabulary provisioning) ---------------------------

    def create_select_field(self, name: str, description: str, *, step: str) -> dict[str, Any]:
        """``POST /rest/api/3/field`` (Cloud: FieldDetails) or ``/rest/api/2/field`` (Data Center:
        CustomFieldDefinitionJsonBean, answered by a FieldBean; it gets a global context): a
        single-select custom field named ``name``."""
        body = {
            "name": name,
            "description": description,
            "type": SELECT_TYPE,
            "searcherKey": SELECT_SEARCHER,
        }
        return self._json_object(
            "field-create",
            lambda: self._sdk.post(self.rest("field"), data=body),
            step=step,
            texts=self._admin_texts,
        )

    def dc_add_to_default_screen(self, field_id: str, *, step: str) -> None:
        """Data Center: ``POST /rest/api/2/screens/addToDefault/{fieldId}`` (204): the field joins the
        Default Screen, through which the projects without screens of their own edit issues."""
        endpoint = self.rest(f"screens/addToDefault/{quote(field_id, safe='')}")

        def add() -> None:
            self._sdk.post(endpoint, advanced_mode=True).raise_for_status()

        self._call("screen-add", add, step=step, texts=self._admin_texts)

    def field_contexts(self, field_id: str, start_at: int, *, step: str) -> dict[str, Any]:
        """One page of ``GET /rest/api/3/field/{fieldId}/context?isGlobalContext=true``."""
        safe_id = quote(field_id, safe="")
        return self._json_object(
            "field-context",
            lambda: self._generated.get_contexts_for_field(
                safe_id, is_global_context=True, start_at=start_at
            ),
            step=step,
        )

    def create_global_context(self, field_id: str, name: str, *, step: str) -> dict[str, Any]:
        """``POST /rest/api/3/field/{fieldId}/context`` without projects or issue types: a global one."""
        safe_id = quote(field_id, safe="")
        body = {"name": name, "description": "Created by v2mom-sync.", "projectIds": [], "issueTypeIds": []}
        return self._json_object(
            "context-create",
            lambda: self._generated.create_custom_field_context(safe_id, data=body),
            step=step,
            texts=self._admin_texts,
        )

    def field_options(
        self, field_id: str, context_id: str, start_at: int, max_results: int, *, step: str
    ) -> dict[str, Any]:
        """One page of ``GET /rest/api/3/field/{fieldId}/context/{contextId}/option``."""
        safe_field, safe_context = quote(field_id, safe=""), quote(context_id, safe="")
        return self._json_object(
            "field-option",
            lambda: self._generated.get_options_for_context(
                safe_field, safe_context, start_at=start_at, max_results=max_results
            ),
            step=step,
        )

    def create_options(
        self, field_id: str, context_id: str, values: Sequence[str], *, step: str
    ) -> dict[str, Any]:
        """``POST …/context/{contextId}/option``: every value in one request (Jira takes up to 1000)."""
        safe_field, safe_context = quote(field_id, safe=""), quote(context_id, safe="")
        body = {"options": [{"value": value} for value in values]}
        return self._json_object(
            "option-create",
            lambda: self._generated.create_custom_field_option(safe_field, safe_context, data=body),
            step=step,
            texts=self._admin_texts,
        )

    def update_options(
        self, field_id: str, context_id: str, options: Sequence[dict[str, object]], *, step: str
    ) -> dict[str, Any]:
        """``PUT …/context/{contextId}/option``: rename, disable or enable options by id, in one request."""
        safe_field, safe_context = quote(field_id, safe=""), quote(context_id, safe="")
        body = {"options": [dict(option) for option in options]}
        return self._json_object(
            "option-update",
            lambda: self._generated.update_custom_field_option(safe_field, safe_context, data=body),
            step=step,
            texts=self._admin_texts,
        )

    # -- write-back: bulk edit of select fields, remote links ------------------------------------

    def submit_bulk_edit(self, body: dict[str, object], *, step: str) -> dict[str, Any]:
        """``POST /rest/api/3/bulk/issues/fields`` (IssueBulkEditPayload): the ``taskId`` to poll."""
        return self._json_object("bulk-edit", lambda: self._generated.submit_bulk_edit(data=body), step=step)

    def bulk_progress(self, task_id: str, *, step: str) -> dict[str, Any]:
        """``GET /rest/api/3/bulk/queue/{taskId}``: the task's BulkOperationProgress."""
        safe_id = quote(task_id, safe="")
        return self._json_object(
            "bulk-queue", lambda: self._generated.get_bulk_operation_progress(safe_id), step=step
        )

    def put_remote_link(self, issue_id: str, body: dict[str, object], *, step: str) -> dict[str, Any]:
        """``POST /rest/api/{3|2}/issue/{id}/remotelink``: creates the link, or updates the one with
        its ``globalId`` in place (Jira's documented upsert); the link's ``id`` and ``self``. On Data
        Center a 403 may also mean that an administrator turned issue linking off."""
        endpoint = self.rest(f"issue/{quote(issue_id, safe='')}/remotelink")
        texts = replace(self._texts, forbidden=_LINK_FORBIDDEN) if self.deployment == "datacenter" else None
        return self._json_object(
            "remote-link", lambda: self._sdk.post(endpoint, data=body), step=step, texts=texts
        )

    # -- Data Center: custom fields, their options, issue edits, remote links (REST v2) ---------

    def spawn(self) -> JiraClient:
        """A new client of the same site, credentials, call counter and rate budget with a session of
        its own (a ``requests`` session is not safe to share between threads)."""
        return self._respawn()

    def dc_field_options(
        self, field_id: str, page: int | None, max_results: int, *, step: str
    ) -> dict[str, Any]:
        """One page of ``GET /rest/api/2/customFields/{customFieldId}/options`` (CustomFieldOptionsBean:
        ``options``, ``total``); ``field_id`` as ``customfield_N`` or ``N`` (the path takes ``N``);
        ``page`` None asks for the first page whatever Jira numbers it from."""
        numeric = field_id.removeprefix("customfield_")
        params: dict[str, str] = {"maxResults": str(int(max_results))}
        if page is not None:
            params["page"] = str(int(page))
        endpoint = self.rest(f"customFields/{quote(numeric, safe='')}/options")
        return self._json_object("field-option", lambda: self._sdk.get(endpoint, params=params), step=step)

    def dc_edit_issue(self, issue_id: str, fields: dict[str, object], *, notify: bool, step: str) -> None:
        """``PUT /rest/api/2/issue/{issueIdOrKey}`` ``{"fields": …}`` (204); ``notify`` False asks
        Jira not to mail the watchers (``notifyUsers=false``: admins and project admins only)."""
        endpoint = self.rest(f"issue/{quote(issue_id, safe='')}")
        params = None if notify else {"notifyUsers": "false"}

        def edit() -> None:
            response = self._sdk.put(
                endpoint, data={"fields": dict(fields)}, params=params, advanced_mode=True
            )
            if response.status_code == 400:  # Jira gives the reason per field, in ``errors``
                reasons = _field_reasons(response, fields)
                if reasons:
                    request_id = response.headers.get(REQUEST_ID_HEADER) or None
                    raise FatalError(f"{step}: {reasons}", tracker=TRACKER, status=400, request_id=request_id)
            response.raise_for_status()

        self._call("issue-edit", edit, step=step)

    # -- Data Center webhooks ------------------------------------------------------------------
    # Data Center's admin webhooks live outside its REST v2 (and outside its OpenAPI):
    # ``/rest/jira-webhook/1.0/webhooks`` from Data Center 10, which takes an optional ``secret``
    # and then signs each delivery (``X-Hub-Signature: sha256=<hex>``). Older releases register at
    # ``/rest/webhooks/1.0/webhook`` without a secret: their deliveries cannot be verified, so no
    # method here uses that path. Managing webhooks needs the Jira Administrators permission.

    def dc_webhooks(self) -> list[dict[str, Any]]:
        """``GET /rest/jira-webhook/1.0/webhooks``: the site's admin webhooks (never their secrets)."""
        result = self._call(
            "webhook", lambda: self._sdk.get(DC_WEBHOOKS), step="list webhooks", texts=_webhook_texts(self)
        )
        if not isinstance(result, list) or not all(isinstance(h, dict) for h in result):
            raise FatalError(
                "list webhooks: unexpected response: expected a JSON array of objects", tracker=TRACKER
            )
        return result

    def create_dc_webhook(self, body: dict[str, object]) -> dict[str, Any]:
        """``POST /rest/jira-webhook/1.0/webhooks``: the webhook created (``body`` may hold its secret,
        which no error repeats)."""
        return self._json_object(
            "webhook-create",
            lambda: self._sdk.post(DC_WEBHOOKS, data=body),
            step="create webhook",
            texts=_webhook_texts(self),
        )

    def update_dc_webhook(self, webhook_id: str, body: dict[str, object]) -> dict[str, Any]:
        """``PUT /rest/jira-webhook/1.0/webhooks/{id}``: the webhook as updated."""
        safe_id = quote(webhook_id, safe="")
        return self._json_object(
            "webhook-update",
            lambda: self._sdk.put(f"{DC_WEBHOOKS}/{safe_id}", data=body),
            step=f"update webhook {webhook_id}",
            texts=_webhook_texts(self),
        )

    def delete_dc_webhook(self, webhook_id: str) -> None:
        """``DELETE /rest/jira-webhook/1.0/webhooks/{id}``."""
        safe_id = quote(webhook_id, safe="")
        self._call(
            "webhook-delete",
            lambda: self._sdk.delete(f"{DC_WEBHOOKS}/{safe_id}"),
            step=f"delete webhook {webhook_id}",
            texts=_webhook_texts(self),
        )

    def close(self) -> None:
        """Close the HTTP session."""
        self._sdk.close()

    def __repr__(self) -> str:
        return f"JiraClient({self.base_url!r})"


def _field_reasons(response: requests.Response, fields: dict[str, object]) -> str:
    """Data Center's reasons for refusing an edit of ``fields`` (its ErrorCollection's ``errors``),
    read for those fields only (short texts such as "Option id '10300' is not valid"), truncated."""
    try:
        body = response.json()
    except ValueError:
        return ""
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, dict):
        return ""
    text = "; ".join(f"{f}: {errors[f]}" for f in fields if isinstance(errors.get(f), str))
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def _refuse_constant(name: str) -> NoReturn:
    raise FatalError(f"search answered with a non-finite number ({name})", tracker=TRACKER)


def _page_orjson_refused(content: bytes, what: str) -> object:
    """A ``what`` (search, changelog) page orjson refused, read by the standard library: a lone
    UTF-16 surrogate (``"\\ud800"``, e.g. text cut inside a surrogate pair) is valid JSON that orjson
    refuses, and one such summary must not stop the sync (the parser makes it storable).
    FatalError when it is not JSON either."""
    try:
        return json.loads(content, parse_constant=_refuse_constant)
    except ValueError:  # JSONDecodeError, UnicodeDecodeError
        raise FatalError(f"{what} answered with a body that is not JSON", tracker=TRACKER) from None
