"""What SIGTERM does while a command serves or works: stop cleanly, as Ctrl-C does.

Python's default SIGTERM ends the process on the spot, so ``finally`` blocks and ``with`` exits never
run: the webhook worker would not finish its batch or hand back its claims and lease (they would
wait for the 15 s lease to run out), which is what supervisors (systemd, Kubernetes) ask for with
SIGTERM. :func:`on_sigterm` puts a handler of the command's own in place for a block.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import NoReturn

Handler = Callable[[int, FrameType | None], object]


@contextmanager
def on_sigterm(handler: Handler) -> Iterator[None]:
    """Run ``handler`` on SIGTERM during the block, then restore the previous one.

    Only the main thread may set signal handlers; elsewhere (a test driving a command from a thread)
    the block runs with SIGTERM left as it was.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def exit_cleanly(_signum: int, _frame: FrameType | None) -> NoReturn:
    """A SIGTERM handler: ``SystemExit(0)`` in the main thread, so every ``finally`` and ``with`` runs."""
    raise SystemExit(0)
