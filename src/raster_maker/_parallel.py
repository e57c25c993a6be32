"""Threads for independent numpy work (numpy releases the GIL in its array loops)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def default_threads() -> int:
    """Threads used when the caller does not say: the number of CPUs, at most 4."""
    return min(4, os.cpu_count() or 1)


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
