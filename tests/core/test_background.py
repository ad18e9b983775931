"""The one background loop: steps run, a wake hurries it, stop joins, a failing step is logged."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest
from pydantic import BaseModel, SecretStr

from tests.support import wait_for
from v2mom.background import BackgroundLoop, join_or_warn, secret_values
from v2mom.errors import TrackerError

HOUR = 3600.0


@pytest.fixture
def loops() -> Iterator[list[BackgroundLoop]]:
    started: list[BackgroundLoop] = []
    yield started
    for loop in started:
        loop.stop(timeout=5)


def test_steps_run_at_start_and_then_every_interval(loops: list[BackgroundLoop]) -> None:
    calls: list[str] = []
    loop = BackgroundLoop(
        "every-interval", lambda: calls.append(threading.current_thread().name), interval=0.01
    )
    loops.append(loop)
    loop.start()
    assert wait_for(lambda: len(calls) >= 3)
    assert set(calls) == {"every-interval"}  # in the named thread, not the caller's


def test_a_wake_runs_the_next_step_without_waiting_for_the_interval(loops: list[BackgroundLoop]) -> None:
    calls: list[int] = []
    loop = BackgroundLoop("woken", lambda: calls.append(1), interval=HOUR)
    loops.append(loop)
    loop.start()
    assert wait_for(lambda: len(calls) == 1)
    loop.wake()
    assert wait_for(lambda: len(calls) == 2), "a wake should run a step long before the hour is up"
    loop.wake()
    assert wait_for(lambda: len(calls) == 3)


def test_a_step_with_more_work_runs_again_at_once(loops: list[BackgroundLoop]) -> None:
    queued = list(range(5))
    loop = BackgroundLoop("more", lambda: bool(queued.pop()) or bool(queued), interval=None)
    loops.append(loop)
    loop.start()
    assert wait_for(lambda: not queued), "no wake and no interval: only 'more' can drain the list"


def test_stop_joins_the_thread_and_no_step_runs_after_it(loops: list[BackgroundLoop]) -> None:
    calls: list[int] = []
    loop = BackgroundLoop("stoppable", lambda: calls.append(1), interval=HOUR)
    loop.start()
    assert wait_for(lambda: loop.steps == 1)
    assert loop.is_alive()
    assert loop.stop() is True
    assert not loop.is_alive()
    assert loop.stopping
    assert not any(t.name == "stoppable" for t in threading.enumerate())
    loop.wake()
    assert calls == [1]


def test_stop_returns_false_when_a_step_outlives_the_join_timeout(caplog: pytest.LogCaptureFixture) -> None:
    release = threading.Event()
    entered = threading.Event()

    def stuck() -> None:
        entered.set()
        release.wait(10)

    loop = BackgroundLoop("stuck", stuck)
    loop.start()
    assert entered.wait(5)
    with caplog.at_level(logging.WARNING, logger="v2mom.background"):
        assert loop.stop(timeout=0.01) is False
    assert "stuck did not stop" in caplog.text
    release.set()
    assert wait_for(lambda: not loop.is_alive())


def test_drain_on_stop_finishes_what_was_queued(loops: list[BackgroundLoop]) -> None:
    queued: list[int] = []
    done: list[int] = []

    def step() -> bool:
        if queued:
            done.append(queued.pop(0))
        return bool(queued)

    loop = BackgroundLoop("drain", step, interval=None, drain_on_stop=True)
    loop.start()
    assert wait_for(lambda: loop.steps == 1)
    queued.extend(range(4))  # queued, but never woken: only the drain on stop commits them
    assert loop.stop() is True
    assert done == [0, 1, 2, 3]


def test_a_failing_step_is_logged_without_secrets_and_the_loop_goes_on(
    loops: list[BackgroundLoop], caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    def step() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("connect failed with token s3cr3t-token")

    loop = BackgroundLoop("flaky", step, interval=0.01, secrets=["s3cr3t-token", ""])
    loops.append(loop)
    with caplog.at_level(logging.ERROR, logger="v2mom.background"):
        loop.start()
        assert wait_for(lambda: len(calls) >= 3), "the loop should go on after a failed step"
    assert loop.failures == 1
    assert loop.last_error == "RuntimeError: connect failed with token ***"
    assert "flaky: step failed" in caplog.text
    assert "Traceback" in caplog.text
    assert "s3cr3t-token" not in caplog.text


def test_quiet_errors_are_one_warning_line(
    loops: list[BackgroundLoop], caplog: pytest.LogCaptureFixture
) -> None:
    def step() -> None:
        raise TrackerError("unreachable", tracker="jira")

    loop = BackgroundLoop("quiet", step, interval=HOUR, quiet_errors=(TrackerError,))
    loops.append(loop)
    with caplog.at_level(logging.WARNING, logger="v2mom.background"):
        loop.start()
        assert wait_for(lambda: loop.failures == 1)
    assert [r.levelno for r in caplog.records if r.name == "v2mom.background"] == [logging.WARNING]
    assert "quiet: step failed: TrackerError: jira: unreachable" in caplog.text
    assert "Traceback" not in caplog.text


def test_stop_on_error_ends_the_loop_when_the_owner_says_so(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []

    def step() -> None:
        calls.append(1)
        raise ValueError("bad state")

    loop = BackgroundLoop("fragile", step, interval=0.01, stop_on_error=True)
    with caplog.at_level(logging.ERROR, logger="v2mom.background"):
        loop.start()
        assert wait_for(lambda: not loop.is_alive())
    assert calls == [1]
    assert loop.stopping
    assert "ValueError: bad state" in caplog.text


def test_a_loop_starts_once() -> None:
    loop = BackgroundLoop("once", lambda: None, interval=HOUR)
    loop.start()
    try:
        with pytest.raises(RuntimeError, match="already started"):
            loop.start()
    finally:
        assert loop.stop()


def test_join_or_warn_is_true_for_an_ended_thread() -> None:
    thread = threading.Thread(target=lambda: None, name="short")
    thread.start()
    assert join_or_warn(thread, 5) is True


class _Inner(BaseModel):
    token: SecretStr
    secrets: list[SecretStr]
    name: str = "visible"


class _Outer(BaseModel):
    inner: _Inner | None
    other: dict[str, SecretStr]


def test_secret_values_finds_every_secret_and_nothing_else() -> None:
    model = _Outer(
        inner=_Inner(token=SecretStr("a"), secrets=[SecretStr("b"), SecretStr("c")]),
        other={"k": SecretStr("d")},
    )
    assert sorted(secret_values(model)) == ["a", "b", "c", "d"]
