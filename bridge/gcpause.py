"""The cyclic garbage collector held off while a large reply is decoded and written. A result of
45 MB is millions of container objects, none in a cycle, and each full collection walks them
all while holding the GIL: collections at 25% growth steps stalled every thread (the event loop
too) for 75-250 ms, five times per reply. Refcounting frees everything as usual meanwhile; cycles
made by other requests wait until the last hold is released."""

from __future__ import annotations

import gc
import threading

_lock = threading.Lock()
_holds = 0
_was_enabled = False


def hold() -> None:
    """Holds off the cycle collector until the matching ``release``; holds nest across threads."""
    global _holds, _was_enabled
    with _lock:
        if _holds == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holds += 1


def release() -> None:
    """Ends one ``hold``; the last one re-enables the collector if it was enabled before the first."""
    global _holds
    with _lock:
        _holds -= 1
        if _holds == 0 and _was_enabled:
            gc.enable()


def held() -> int:
    """How many holds are in force (for tests)."""
    return _holds
