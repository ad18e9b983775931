"""Asana's Batch API for the connector's writers: up to 10 actions in one ``POST /batch``.

Tags and links both go through it: each action's own answer (status, body, ``Retry-After``) becomes
an :class:`Answer`. A 429 (or 5xx) of ``/batch`` itself, and actions answered 429 / 5xx inside a
batch, are retried with the connector's back-off; only the actions still pending are sent again. A
401 (the token) fails the whole run with :class:`~v2mom.errors.AuthError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from v2mom.connectors.asana.client import TRACKER, AsanaClient, error_messages
from v2mom.connectors.retry import parse_retry_after
from v2mom.errors import AuthError, FatalError, RetriableError

__all__ = ["BATCH_SIZE", "Answer", "Batch", "answer_of", "chunks", "reason"]

BATCH_SIZE = 10  # Asana's limit of actions per /batch request
T = TypeVar("T")


@dataclass(frozen=True)
class Answer:
    """One action's answer inside a batch."""

    status: int
    body: Mapping[str, Any]
    retry_after: float | None = None

    @property
    def retriable(self) -> bool:
        """Rate limited or a server error: worth sending again."""
        return self.status == 429 or self.status >= 500


def chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    """``items`` in slices of :data:`BATCH_SIZE`, one ``/batch`` request each."""
    for start in range(0, len(items), BATCH_SIZE):
        yield items[start : start + BATCH_SIZE]


def answer_of(raw: Any) -> Answer:
    """One entry of a ``/batch`` answer as an :class:`Answer` (status 0 when it is not an object)."""
    if not isinstance(raw, Mapping):
        return Answer(0, {})
    body, headers = raw.get("body"), raw.get("headers")
    body = body if isinstance(body, Mapping) else {}
    headers = headers if isinstance(headers, Mapping) else {}
    retry = {str(k).lower(): v for k, v in headers.items()}.get("retry-after")
    wait = parse_retry_after(retry if isinstance(retry, str) else None)
    return Answer(int(raw.get("status_code") or 0), body, wait)


def reason(task: str, key: str, answer: Answer, hint: str = "") -> str:
    """Why the task's write was refused, naming the task."""
    detail = error_messages(answer.body) or "refused"
    return f"task {key} ({task}): HTTP {answer.status}: {detail}{hint}"


class Batch:
    """Runs actions through ``POST /batch`` with the connector's retry policy ``retrying``."""

    def __init__(self, client: AsanaClient, retrying: Callable[[Callable[[], Any]], Any]) -> None:
        """Nothing is sent until :meth:`run`."""
        self._client = client
        self._retrying = retrying

    def run(self, actions: list[dict[str, Any]]) -> list[Answer]:
        """The answers of ``actions`` (at most 10), retrying the batch and its retriable actions.

        A retried round sends only the actions still pending; when the retry budget is spent on
        actions, their last answers are returned (the batch request itself failing raises).
        """
        answers: list[Answer | None] = [None] * len(actions)

        def attempt() -> list[Answer]:
            pending = [i for i, a in enumerate(answers) if a is None or a.retriable]
            body = self._client.batch([actions[i] for i in pending])
            data = body.get("data")
            if not isinstance(data, list) or len(data) != len(pending):
                raise FatalError("batch: the answer does not hold one result per action", tracker=TRACKER)
            for index, raw in zip(pending, data, strict=True):
                answers[index] = answer_of(raw)
            again = [a for a in answers if a is not None and a.retriable]
            if again:
                waits = [a.retry_after for a in again if a.retry_after is not None]
                raise RetriableError(
                    f"batch: {len(again)} action(s) answered HTTP {again[0].status}",
                    tracker=TRACKER,
                    status=again[0].status,
                    retry_after=max(waits) if waits else None,
                )
            return [a for a in answers if a is not None]

        try:
            result: list[Answer] = self._retrying(attempt)
        except RetriableError:
            if any(a is None for a in answers):
                raise
            result = [a for a in answers if a is not None]
        if any(a.status == 401 for a in result):
            raise AuthError(
                "authentication failed: check the personal access token", tracker=TRACKER, status=401
            )
        return result
