"""connectors/retry.py: only RetriableError is retried, Retry-After honoured within the budget."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from v2mom.connectors.retry import BASE_DELAY, backoff_delay, call_with_retries, retries_reported
from v2mom.errors import AuthError, FatalError, RetriableError, TrackerError, UnreachableError


def _retriable(retry_after: float | None = None, status: int = 503) -> RetriableError:
    return RetriableError("boom", tracker="jira", status=status, request_id="req-1", retry_after=retry_after)


class Flaky:
    """Raises the queued errors in order, then returns 'ok'; counts calls."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


@pytest.fixture
def waits() -> list[float]:
    return []


def _run(fn: Callable[[], str], waits: list[float], *, max_retries: int = 5, max_wait: float = 60.0) -> str:
    return call_with_retries(fn, max_retries=max_retries, max_wait=max_wait, sleep=waits.append)


def test_success_first_time_does_not_sleep(waits: list[float]) -> None:
    fn = Flaky()
    assert _run(fn, waits) == "ok"
    assert fn.calls == 1
    assert waits == []


def test_retriable_errors_are_retried_with_growing_jittered_backoff(waits: list[float]) -> None:
    fn = Flaky(_retriable(), _retriable(), _retriable())
    assert _run(fn, waits) == "ok"
    assert fn.calls == 4
    assert len(waits) == 3
    for attempt, wait in enumerate(waits):
        nominal = BASE_DELAY * 2**attempt
        assert nominal / 2 <= wait <= nominal


def test_backoff_is_capped_by_max_wait() -> None:
    assert backoff_delay(30, max_wait=4.0, rand=lambda: 1.0) == pytest.approx(4.0)
    assert backoff_delay(30, max_wait=4.0, rand=lambda: 0.0) == pytest.approx(2.0)
    assert backoff_delay(0, max_wait=60.0, rand=lambda: 1.0) == pytest.approx(BASE_DELAY)
    assert backoff_delay(10_000, max_wait=60.0, rand=lambda: 0.5) <= 60.0  # no overflow


def test_retry_after_is_waited_exactly(waits: list[float]) -> None:
    fn = Flaky(_retriable(retry_after=7, status=429), _retriable(retry_after=0, status=429))
    assert _run(fn, waits) == "ok"
    assert waits == [7.0, 0.0]


def test_retry_after_beyond_budget_fails_at_once_without_sleeping(waits: list[float]) -> None:
    fn = Flaky(_retriable(retry_after=120, status=429))
    with pytest.raises(RetriableError, match="rate limited beyond the retry budget") as info:
        _run(fn, waits, max_wait=60)
    assert fn.calls == 1
    assert waits == []
    assert info.value.status == 429
    assert info.value.request_id == "req-1"
    assert info.value.retry_after == 120


def test_gives_up_after_max_retries_with_the_last_error(waits: list[float]) -> None:
    errors = [_retriable() for _ in range(4)]
    fn = Flaky(*errors)
    with pytest.raises(RetriableError) as info:
        _run(fn, waits, max_retries=3)
    assert info.value is errors[3]
    assert fn.calls == 4
    assert len(waits) == 3


def test_zero_retries_means_one_attempt(waits: list[float]) -> None:
    fn = Flaky(_retriable())
    with pytest.raises(RetriableError):
        _run(fn, waits, max_retries=0)
    assert fn.calls == 1
    assert waits == []


@pytest.mark.parametrize(
    "error",
    [
        AuthError("no", tracker="jira", status=401),
        FatalError("bad jql", tracker="jira", status=400),
        TrackerError("other", tracker="jira"),
        ValueError("a bug"),
    ],
)
def test_non_retriable_errors_propagate_immediately(waits: list[float], error: Exception) -> None:
    fn = Flaky(error)
    with pytest.raises(type(error)) as info:
        _run(fn, waits)
    assert info.value is error
    assert fn.calls == 1
    assert waits == []


def test_on_retry_sees_each_error_and_wait() -> None:
    seen: list[tuple[int | None, float]] = []
    fn = Flaky(_retriable(retry_after=2, status=429), _retriable(retry_after=3, status=429))
    result = call_with_retries(
        fn,
        max_retries=5,
        max_wait=60,
        sleep=lambda _s: None,
        on_retry=lambda err, wait: seen.append((err.status, wait)),
    )
    assert result == "ok"
    assert seen == [(429, 2.0), (429, 3.0)]


@pytest.mark.parametrize(("max_retries", "max_wait"), [(-1, 1.0), (1, -1.0)])
def test_rejects_negative_budgets(max_retries: int, max_wait: float) -> None:
    with pytest.raises(ValueError, match="must be >= 0"):
        call_with_retries(lambda: 1, max_retries=max_retries, max_wait=max_wait)


def _unreachable() -> UnreachableError:
    return UnreachableError("cannot connect to http://127.0.0.1:9: connection refused", tracker="jira")


def test_an_unreachable_tracker_is_not_retried_until_it_has_answered(waits: list[float]) -> None:
    answered = False
    fn = Flaky(_unreachable())
    with pytest.raises(UnreachableError):
        call_with_retries(
            fn, max_retries=5, max_wait=60, sleep=waits.append, retry_unreachable=lambda: answered
        )
    assert (fn.calls, waits) == (1, [])
    answered = True  # asked when the error happens: once it answered, a refusal is a blip
    fn = Flaky(_unreachable(), _unreachable())
    assert (
        call_with_retries(
            fn, max_retries=5, max_wait=60, sleep=waits.append, retry_unreachable=lambda: answered
        )
        == "ok"
    )
    assert (fn.calls, len(waits)) == (3, 2)


def test_every_retry_is_told_to_the_listener_of_its_block(waits: list[float]) -> None:
    told: list[tuple[str, int, int, float]] = []
    with retries_reported(lambda error, attempt, of, wait: told.append((str(error), attempt, of, wait))):
        assert (
            _run(Flaky(_retriable(retry_after=0.25), _retriable(retry_after=0)), waits, max_retries=4) == "ok"
        )
    assert told == [
        ("jira: boom — HTTP 503 — request id req-1", 1, 4, 0.25),
        ("jira: boom — HTTP 503 — request id req-1", 2, 4, 0.0),
    ]
    assert _run(Flaky(_retriable(retry_after=0)), waits) == "ok"  # outside the block: nobody is told
    assert len(told) == 2
