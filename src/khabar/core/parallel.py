"""Work on every core, with results in input order: what the build, the gate and ingest share.

:func:`ordered_map` hands items to worker processes (``forkserver``: a clean interpreter each,
which builds its state once with ``start(*args)``) and yields ``work(state, item)`` of each item
in input order, with at most two items per worker in flight, so memory stays bounded whatever
the number of items and the output never depends on the number of workers. With one worker (or
one item) everything runs in this process, with the same functions.

A script that calls it must guard its top level with ``if __name__ == "__main__":``, as every
``multiprocessing`` program does (the workers import the main module).

Public API: :func:`ordered_map`, :func:`default_workers`.
"""

from __future__ import annotations

import collections
import itertools
import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Callable, Iterable, Iterator, TypeVar

from khabar.core.errors import InputError

__all__ = ["ordered_map", "default_workers"]

T = TypeVar("T")
R = TypeVar("R")

_STATE: dict[str, Any] = {}


def default_workers() -> int:
    """Worker processes to use: ``KHABAR_WORKERS`` when set (an integer from 1 to 256), else the
    cores this process may run on (``os.sched_getaffinity``).

    Raises:
        InputError: ``KHABAR_WORKERS`` is not an integer from 1 to 256.
    """
    raw = os.environ.get("KHABAR_WORKERS")
    if raw is None or not raw.strip():
        return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
    text = raw.strip()
    n = int(text) if text.isascii() and text.isdigit() else 0  # plain digits: not "1_0", "２" or "1e1"
    if not 1 <= n <= 256:
        raise InputError(f"KHABAR_WORKERS={raw!r}: not a number of worker processes from 1 to 256",
                         hint="unset it to use every core, or set KHABAR_WORKERS=1 to work in one process")
    return n


def _start(start: Callable[..., Any], args: tuple[Any, ...]) -> None:
    _STATE["state"] = start(*args)


def _call(work: Callable[[Any, Any], Any], item: Any) -> Any:
    return work(_STATE["state"], item)


def ordered_map(start: Callable[..., Any], args: tuple[Any, ...], work: Callable[[Any, T], R], items: Iterable[T],
                workers: int) -> Iterator[R]:
    """``work(state, item)`` for each of ``items``, in order, on ``workers`` processes.

    Args:
        start: makes a worker's state from ``args`` (module-level, picklable, as are ``args``,
            ``work``, the items and the results).
        workers: processes to use; 1 (or a single item) runs everything here.

    Raises:
        what ``start`` or ``work`` raise (re-raised here, in item order).
    """
    items = iter(items)
    first = list(itertools.islice(items, 2))
    if workers <= 1 or len(first) <= 1:
        state = start(*args)
        for item in itertools.chain(first, items):
            yield work(state, item)
        return
    todo = itertools.chain(first, items)
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start, initargs=(start, args)) as pool:
        pending: collections.deque[Future[R]] = collections.deque(
            pool.submit(_call, work, item) for item in itertools.islice(todo, 2 * workers))
        while pending:
            result = pending.popleft().result()
            nxt = next(todo, _END)
            if nxt is not _END:
                pending.append(pool.submit(_call, work, nxt))
            yield result


_END = object()
