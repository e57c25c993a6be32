"""Thread-local work arrays reused from batch to batch.

Drawing a batch makes a few temporary arrays of the batch's size. Fresh large arrays are
fresh memory for the operating system, and their page faults serialise the drawing
threads (about half of the drawing time at 10 M spikes). Temporaries that never leave a
function come from here instead: each thread keeps its own few buffers, grown as needed
and kept for the next batch.
"""

from __future__ import annotations

import threading

import numpy as np

MAX_KEPT = 1 << 20  # elements (8 MB) per buffer at most: bigger requests get fresh arrays

_local = threading.local()


def scratch(n: int, slot: int) -> np.ndarray:
    """An int64 work array of ``n`` elements (contents undefined), owned by this thread.

    Parameters
    ----------
    n : int
        Number of elements.
    slot : int
        Which of the thread's buffers (callers using two at once use two slots). The
        array is valid until this thread asks for the same slot again.

    Returns
    -------
    ndarray of int64
        A view of the thread's buffer (or a fresh array above :data:`MAX_KEPT`); view it
        as another 8-byte type with ``.view``.
    """
    if n > MAX_KEPT:
        return np.empty(n, dtype=np.int64)
    bufs = getattr(_local, "bufs", None)
    if bufs is None:
        bufs = _local.bufs = {}
    buf = bufs.get(slot)
    if buf is None or buf.size < n:
        size = min(MAX_KEPT, max(n, 2 * (0 if buf is None else buf.size)))
        buf = bufs[slot] = np.empty(size, dtype=np.int64)
    return buf[:n]
