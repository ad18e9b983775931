"""Which strategy each re-resolution runs, recorded as it runs (for tests of the strategy choice)."""

from __future__ import annotations

from typing import Any

import pytest

from v2mom.store.resolution import run


def chosen(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The strategy each re-resolution runs, appended as it runs."""
    strategies: list[Any] = []
    real = run.choose_strategy

    def spy(*args: Any, **kwargs: Any) -> Any:
        strategies.append(choice := real(*args, **kwargs))
        return choice

    monkeypatch.setattr(run, "choose_strategy", spy)
    return strategies
