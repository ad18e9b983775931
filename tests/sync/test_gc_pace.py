"""The collector's pace during a sync pass: relaxed while passes run, put back after the last."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import datetime

import pytest

from tests.factories import make_item
from tests.sync.fake_connector import FakeConnector
from v2mom.connectors.base import Page
from v2mom.store.database import Database
from v2mom.sync.gc_pace import YOUNG_THRESHOLD, fewer_collections
from v2mom.sync.runner import sync_tracker


class _WatchingConnector(FakeConnector):
    """Records the collector's thresholds each time a page is asked for."""

    def __init__(self, *, fail: bool = False) -> None:
        served = [make_item(str(i), minutes=i) for i in range(1, 5)]
        super().__init__(served, fail_after_pages=1 if fail else None)
        self.seen: list[tuple[int, int, int]] = []

    def iter_pages(self, since: datetime | None) -> Iterator[Page]:
        for page in super().iter_pages(since):
            self.seen.append(gc.get_threshold())
            yield page


@pytest.fixture
def default_pace() -> Iterator[tuple[int, int, int]]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield gc.get_threshold()
    gc.set_threshold(*before)


def test_a_pass_collects_less_often_and_puts_the_pace_back(
    store: Database, default_pace: tuple[int, int, int]
) -> None:
    connector = _WatchingConnector()
    assert sync_tracker(store, connector, full=True).ok
    assert len(connector.seen) == 2  # two pages of three and one item
    assert set(connector.seen) == {(YOUNG_THRESHOLD, 10, 10)}
    assert gc.get_threshold() == default_pace


def test_a_failed_pass_puts_the_pace_back(store: Database, default_pace: tuple[int, int, int]) -> None:
    connector = _WatchingConnector(fail=True)
    assert not sync_tracker(store, connector, full=True).ok
    assert connector.seen == [(YOUNG_THRESHOLD, 10, 10)]
    assert gc.get_threshold() == default_pace


def test_overlapping_passes_keep_it_relaxed_until_the_last_ends(default_pace: tuple[int, int, int]) -> None:
    first, second = fewer_collections(), fewer_collections()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert gc.get_threshold() == (YOUNG_THRESHOLD, 10, 10)  # the second pass still runs
    second.__exit__(None, None, None)
    assert gc.get_threshold() == default_pace


def test_a_pace_already_slower_is_kept(default_pace: tuple[int, int, int]) -> None:
    gc.set_threshold(YOUNG_THRESHOLD * 2, 10, 10)
    with fewer_collections():
        assert gc.get_threshold() == (YOUNG_THRESHOLD * 2, 10, 10)
    assert gc.get_threshold() == (YOUNG_THRESHOLD * 2, 10, 10)
