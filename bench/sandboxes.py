"""A generated sandbox tracker served from its own process, for the benchmarks.

The sandbox runs in a child process so our client's Python work does not share a GIL with the
server. The parent talks to it over a pipe: the connector settings section that points at it, then
commands — set a rate limit or a network's latency, read the request counters, stop.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

from v2mom.settings import AsanaSettings, JiraSettings, LinearSettings
from v2mom.vocabulary import ManualStep

Section = JiraSettings | LinearSettings | AsanaSettings
TRACKERS = ("jira", "linear", "asana")
JIRA_DATACENTER = "jira-datacenter"  # the Jira sandbox as a Data Center site (``build_workspace`` only)


def build_workspace(tracker: str, items: int, page_size: int | None, seed: int = 11) -> tuple[Any, Any, Any]:
    """``(state, app, section_for(url))``: a seeded workspace of about ``items`` records
    (``tracker`` may also be :data:`JIRA_DATACENTER`), read ``page_size`` records a page (None:
    the settings' default for that tracker, as a user who does not set it gets)."""
    if tracker in ("jira", JIRA_DATACENTER):
        from v2mom.sandbox.generator import generate_jira_workspace, jira_settings
        from v2mom.sandbox.jira.app import create_jira_app

        jira, _ = generate_jira_workspace(
            seed=seed,
            issues=items,
            epics=max(30, items // 40),
            deployment="datacenter" if tracker == JIRA_DATACENTER else "cloud",
        )
        return jira, create_jira_app(jira), lambda url: jira_settings(jira, url, page_size=page_size)
    if tracker == "linear":
        from v2mom.sandbox.linear.app import create_linear_app
        from v2mom.sandbox.linear.generator import generate_linear_workspace, linear_settings

        linear, _ = generate_linear_workspace(seed=seed, issues=items, projects=max(12, items // 100))
        return (
            linear,
            create_linear_app(linear),
            lambda url: linear_settings(linear, url, page_size=page_size),
        )
    from v2mom.sandbox.asana.app import create_asana_app
    from v2mom.sandbox.asana.generator import asana_settings, generate_asana_workspace

    asana, truth = generate_asana_workspace(seed=seed, tasks=items)
    section = lambda url: asana_settings(asana, url, truth.projects, page_size=page_size)  # noqa: E731
    return asana, create_asana_app(asana), section


class Latency:
    """An ASGI app answering every HTTP request ``seconds`` later than ``app`` would, as a tracker
    across a network does. The wait is on the server's event loop: requests in flight on several
    connections wait together, and one connection's requests one after the other."""

    def __init__(self, app: Any, seconds: float = 0.0) -> None:
        """Wrap ``app``; no delay until ``seconds`` is set."""
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Serve ``scope`` through the wrapped app, late when it is an HTTP request."""
        if scope["type"] == "http" and self.seconds > 0:
            await asyncio.sleep(self.seconds)
        await self.app(scope, receive, send)


def _latency_seconds(text: str) -> float:
    """``--latency``'s milliseconds as seconds; an error for a negative or non-number."""
    try:
        milliseconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of milliseconds: {text!r}") from None
    if milliseconds < 0:
        raise argparse.ArgumentTypeError("must be 0 or more milliseconds")
    return milliseconds / 1000


def add_latency_option(parser: argparse.ArgumentParser, default_ms: float = 0) -> None:
    """``--latency MS``: how late the sandbox answers each request (``default_ms`` unless given);
    ``args.latency`` holds seconds."""
    parser.add_argument(
        "--latency",
        type=_latency_seconds,
        default=default_ms / 1000,
        metavar="MS",
        help="milliseconds the sandbox waits before each answer",
    )


def latency_label(seconds: float) -> str:
    """What a RESULT line says of a latency (nothing for none)."""
    return f", answers {seconds * 1000:.0f} ms late" if seconds else ""


def serve(tracker: str, items: int, page_size: int | None, pipe: Connection) -> None:
    """Child process: generate and serve the workspace, send its settings section, obey commands."""
    from v2mom.sandbox.server import SandboxServer

    state, app, section_for = build_workspace(tracker, items, page_size)
    late = Latency(app)
    server = SandboxServer(late)
    pipe.send(section_for(server.start()))
    while True:
        command, *args = pipe.recv()
        if command == "limit":
            state.limit_rate(*args)
            pipe.send(None)
        elif command == "latency":
            (late.seconds,) = args
            pipe.send(None)
        elif command == "by_hand":  # Jira Data Center: what its administrator does with the steps
            from v2mom.sandbox.jira.administrator import do_by_hand

            pipe.send(do_by_hand(state, *args).describe())
        elif command == "cpu":
            pipe.send(time.process_time())
        elif command == "stats":
            limit = state.rate_limit
            pipe.send(
                {
                    "requests": state.request_count(),
                    "accepted": limit.accepted if limit else 0,
                    "refused": limit.refused if limit else 0,
                    "floor_seconds": limit.floor_seconds() if limit else 0.0,
                }
            )
        else:
            break
    server.stop()


class SandboxProcess:
    """``with SandboxProcess("jira", 100_000) as sandbox:`` — ``sandbox.section`` points at it."""

    def __init__(self, tracker: str, items: int, page_size: int | None = 100) -> None:
        """Start the child; returns once it serves."""
        ctx = mp.get_context("spawn")
        self._pipe, child = ctx.Pipe()
        self._process = ctx.Process(target=serve, args=(tracker, items, page_size, child), daemon=True)
        self._process.start()
        self.section: Section = self._pipe.recv()

    def limit_rate(self, per_second: float | None, burst: float | None = None) -> None:
        """Set (or lift, with None) the sandbox's rate limit; its counters start again from zero."""
        self._pipe.send(("limit", per_second, burst))
        self._pipe.recv()

    def set_latency(self, seconds: float) -> None:
        """Answer every request ``seconds`` late from now on (0: as soon as it is handled)."""
        self._pipe.send(("latency", seconds))
        self._pipe.recv()

    def by_hand(self, steps: Sequence[ManualStep]) -> str:
        """Jira Data Center: do ``steps`` as its administrator would (options added, fields put on
        the edit screens); what was done."""
        self._pipe.send(("by_hand", list(steps)))
        done: str = self._pipe.recv()
        return done

    def cpu_seconds(self) -> float:
        """The child's CPU time so far, every thread of it (serving, rendering, the generator's)."""
        self._pipe.send(("cpu",))
        seconds: float = self._pipe.recv()
        return seconds

    def stats(self) -> dict[str, Any]:
        """Requests received so far, and the rate limit's accepted cost, refusals and floor."""
        self._pipe.send(("stats",))
        answer: dict[str, Any] = self._pipe.recv()
        return answer

    def stop(self) -> None:
        """Stop serving and wait for the child."""
        if self._process.is_alive():
            self._pipe.send(("stop",))
        self._process.join(timeout=10)

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
