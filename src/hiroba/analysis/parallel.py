"""Order-preserving parallel map for the per-text stages (forked worker processes).

:func:`run` applies ``func(state, chunk)`` to every chunk and returns the results **in
chunk order**, whatever the number of workers: each result depends only on its chunk and
the (read-only) state, so the report is byte-identical with 1 or N workers.

Workers are *forked* after ``state`` exists, so they inherit it without any copying or
pickling (only the small chunk descriptions and the results cross the pipe). Before the
fork the parent's objects are moved to the permanent GC generation (``gc.freeze``) so
that a collection in a worker does not touch — and therefore copy — every page of the
inherited heap. Where ``fork`` is unavailable (Windows, and macOS where it is unsafe),
in a daemonic process (which may not have children), in a process with other threads
running (a threaded app server: a fork copies a lock another thread holds, and the child
can hang on it), or for small inputs, the chunks run in the calling process: same results,
one core.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

__all__ = ["default_workers", "run", "ranges", "MIN_PARALLEL_ITEMS"]

C = TypeVar("C")
R = TypeVar("R")

#: Below this many items a stage runs in the calling process (forking costs more than it saves).
MIN_PARALLEL_ITEMS = 20_000

_STATE: Any = None


def default_workers() -> int:
    """Two workers (the target machine has two cores), fewer if the machine has fewer."""
    return max(1, min(2, os.cpu_count() or 1))


def _can_fork() -> bool:
    return (
        sys.platform.startswith("linux")
        and "fork" in mp.get_all_start_methods()
        and not mp.current_process().daemon
        and threading.active_count() == 1
    )


def _init(state: Any) -> None:
    global _STATE
    _STATE = state


def _call(task: tuple[Callable[[Any, Any], Any], Any]) -> Any:
    func, chunk = task
    return func(_STATE, chunk)


def run(
    func: Callable[[Any, C], R],
    state: Any,
    chunks: Sequence[C],
    *,
    workers: int,
    items: int,
    done: Callable[[int], None] | None = None,
    min_items: int = MIN_PARALLEL_ITEMS,
) -> list[R]:
    """``[func(state, c) for c in chunks]``, computed by up to ``workers`` forked processes
    when ``items`` (the amount of work, for the threshold) is at least ``min_items``
    (:data:`MIN_PARALLEL_ITEMS`, sized for texts, unless the caller's items are heavier).
    ``func`` must be a module-level function. ``done(k)`` is called in the parent after the
    ``k``-th chunk's result arrived (in order)."""
    out: list[R] = []
    if workers <= 1 or len(chunks) <= 1 or items < min_items or not _can_fork():
        for k, c in enumerate(chunks, 1):
            out.append(func(state, c))
            if done:
                done(k)
        return out
    ctx = mp.get_context("fork")
    gc.freeze()
    try:
        with ctx.Pool(min(workers, len(chunks)), initializer=_init, initargs=(state,)) as pool:
            for k, r in enumerate(pool.imap(_call, [(func, c) for c in chunks]), 1):
                out.append(r)
                if done:
                    done(k)
    finally:
        gc.unfreeze()
    return out


def ranges(n: int, size: int) -> list[tuple[int, int]]:
    """``[(0, size), (size, 2 * size), ...]`` covering ``range(n)``."""
    return [(s, min(n, s + size)) for s in range(0, n, size)]
