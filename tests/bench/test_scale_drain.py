"""bench.scale's webhook worker: a batch that failed (two workers deadlocking) hands its events back
with the inbox's backoff, and the worker waits for them instead of leaving them to the next run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import DBAPIError

import bench.scale as scale
from v2mom.store.inbox import BASE_BACKOFF
from v2mom.webhooks.worker import BatchResult


class _Started:
    def wait(self) -> None:
        """The barrier of a single worker: nothing to wait for."""


def test_a_worker_waits_for_the_events_its_failed_batch_handed_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deadlock = DBAPIError("UPDATE items", {}, Exception("deadlock detected\nDETAIL: ..."))
    answers: list[BatchResult | Exception] = [deadlock, BatchResult(), BatchResult(applied=3), BatchResult()]
    slept: list[float] = []

    def process_batch(*_args: Any, **_options: Any) -> BatchResult:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(scale, "process_batch", process_batch)
    monkeypatch.setattr("bench.scale.time.sleep", slept.append)
    done = scale.drain(f"sqlite:///{tmp_path}/inbox.db", {}, _Started())  # type: ignore[arg-type]
    assert done["applied"] == 3  # the handed-back events, once due again
    assert done["errors"] == ["deadlock detected"]
    assert slept == [BASE_BACKOFF.total_seconds()]
    assert answers == []
