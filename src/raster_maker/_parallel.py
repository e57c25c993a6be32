"""Threads for independent numpy work (numpy releases the GIL in its array loops), and
the pipelines of generation: drawing ahead in order, writing behind, prefetching."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def default_threads() -> int:
    """Threads used when the caller does not say: the number of CPUs, at most 4."""
    return min(4, os.cpu_count() or 1)


def threads_for(comm: Any, threads: int | None = None) -> int:
    """The threads a generation uses: ``threads`` if given, else 1 per MPI rank under
    ``comm`` (the ranks share the cores), else :func:`default_threads`."""
    if threads is not None:
        return threads
    return 1 if comm is not None else default_threads()


def thread_map(func: Callable[[T], R], items: Iterable[T], threads: int | None = None) -> list[R]:
    """``list(map(func, items))``, computed on ``threads`` threads (default
    :func:`default_threads`), results in input order.

    Only for pure functions of their item: the result must not depend on which thread
    ran it or when. Runs inline for fewer than two items or one thread.
    """
    items = list(items)
    threads = default_threads() if threads is None else threads
    if threads <= 1 or len(items) < 2:
        return [func(item) for item in items]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(min(threads, len(items))) as pool:
        return list(pool.map(func, items))


def ahead(threads: int):
    """A mapper drawing on ``threads`` threads (at least one, beside the caller's)."""

    def mapper(func, items):
        return ordered_map(func, items, threads, background=True)

    return mapper


def ordered_map(func, items, threads: int, background: bool = False):
    """``map(func, items)`` on ``threads`` threads, in order, with bounded look-ahead.

    numpy releases the GIL in its array loops, so batches drawn in threads use both
    cores; results come back in input order, so the output is the same as serial.
    ``background``: even one thread is a worker thread, so the caller (sending, writing)
    runs while the next batch is drawn.
    """
    if threads <= 1 and not background:
        yield from map(func, items)
        return
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    threads = max(1, threads)
    with ThreadPoolExecutor(threads) as pool:
        pending: deque = deque()
        for item in items:
            pending.append(pool.submit(func, item))
            if len(pending) > threads:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


class WriteBehind:
    """Run writer calls on one background thread, fed through a bounded queue.

    The caller keeps drawing (or receiving) the next batches while the previous ones
    are written: h5py releases the GIL in its writes, so drawing and writing overlap.
    At most ``depth`` calls wait in the queue, which bounds memory. The first error on
    the writer thread is raised in the caller, at the next :meth:`put` or at
    :meth:`finish`; after an error the thread only drains the queue, so the caller never
    blocks on it.
    """

    def __init__(self, depth: int = 4) -> None:
        import queue
        import threading

        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="raster_maker-writer", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            if self._error is None:
                try:
                    job[0](*job[1:])
                except BaseException as err:  # handed to the caller
                    self._error = err

    def put(self, func, *args) -> None:
        """Queue ``func(*args)`` (waits while ``depth`` calls are queued)."""
        if self._error is not None:
            self.finish()
        self._queue.put((func, *args))

    def finish(self) -> None:
        """Wait until every queued call ran; raise the writer thread's error, if any."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if self._error is not None:
            raise self._error


def prefetch(results: Iterator[Any], depth: int) -> Iterator[Any]:
    """Run the iterator ``results`` on a thread from now on, ``depth`` items ahead."""
    import queue
    import threading

    box: queue.Queue = queue.Queue(maxsize=max(1, depth))
    done = object()

    def work() -> None:
        try:
            for item in results:
                box.put((True, item))
        except BaseException as err:  # handed to the consumer
            box.put((False, err))
        box.put((True, done))

    threading.Thread(target=work, name="raster_maker-draw", daemon=True).start()

    def consume() -> Iterator[Any]:
        while True:
            ok, item = box.get()
            if not ok:
                raise item
            if item is done:
                return
            yield item

    return consume()
