"""The benchmarks' network latency: every HTTP request is answered late, nothing else is."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import pytest

import bench.sandboxes
from bench.sandboxes import Latency, add_latency_option


def _served(late: Latency, scope_type: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What happened, in order, when ``late`` served one ``scope_type`` scope."""
    happened: list[str] = []

    async def sleep(seconds: float) -> None:
        happened.append(f"waited {seconds}")

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        happened.append(f"served {scope['type']}")

    monkeypatch.setattr(bench.sandboxes.asyncio, "sleep", sleep)
    late.app = app
    asyncio.run(late({"type": scope_type}, None, None))
    return happened


def test_an_http_request_waits_before_it_is_served(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _served(Latency(None, 0.25), "http", monkeypatch) == ["waited 0.25", "served http"]


def test_nothing_waits_without_a_latency_or_outside_http(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _served(Latency(None), "http", monkeypatch) == ["served http"]
    assert _served(Latency(None, 0.25), "lifespan", monkeypatch) == ["served lifespan"]


def test_the_latency_option_reads_milliseconds_and_has_each_benchmarks_default() -> None:
    parser = argparse.ArgumentParser()
    add_latency_option(parser, default_ms=100)
    assert parser.parse_args([]).latency == 0.1
    assert parser.parse_args(["--latency", "0"]).latency == 0
    plain = argparse.ArgumentParser()
    add_latency_option(plain)
    assert plain.parse_args([]).latency == 0
    assert plain.parse_args(["--latency", "250"]).latency == 0.25
