"""MPI helpers (mpi4py, optional): detect a multi-rank run and gather batches in order.

Generation splits its batches round-robin across ranks; rank 0 receives them in batch
order and writes them, so the file is byte-identical to a one-rank run (no parallel HDF5
needed: the h5py wheels are serial). Large messages use MPI's rendezvous protocol, so a
sender waits for rank 0 and memory stays bounded.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

__all__ = ["world", "ordered_gather"]

_RANK_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS")


def world() -> Any | None:
    """mpi4py's COMM_WORLD when running under MPI with more than one rank, else None.

    mpi4py is imported only when it already is, or when an MPI launcher set its
    environment, so a plain run never initialises MPI.
    """
    if "mpi4py" not in sys.modules and not any(int(os.environ.get(v, "1")) > 1 for v in _RANK_VARS):
        return None
    try:
        from mpi4py import MPI
    except ImportError:
        return None
    comm = MPI.COMM_WORLD
    return comm if comm.Get_size() > 1 else None


def ordered_gather(
    comm: Any,
    items: Iterable[Any],
    func: Callable[[Any], tuple[np.ndarray, np.ndarray]],
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Compute ``func(item)`` for item ``i`` on rank ``i % size``; yield all results on rank 0.

    Rank 0 yields ``(node_ids, times)`` pairs in item order; other ranks yield nothing.
    """
    from mpi4py import MPI

    rank, size = comm.Get_rank(), comm.Get_size()
    for i, item in enumerate(items):
        owner = i % size
        if rank == 0:
            if owner == 0:
                yield func(item)
                continue
            n = comm.recv(source=owner, tag=2 * i)
            ids = np.empty(n, dtype=np.uint64)
            ts = np.empty(n, dtype=np.float64)
            comm.Recv([ids, MPI.UINT64_T], source=owner, tag=2 * i)
            comm.Recv([ts, MPI.DOUBLE], source=owner, tag=2 * i + 1)
            yield ids, ts
        elif owner == rank:
            ids, ts = func(item)
            ids = np.ascontiguousarray(ids, dtype=np.uint64)
            ts = np.ascontiguousarray(ts, dtype=np.float64)
            comm.send(ids.size, dest=0, tag=2 * i)
            comm.Send([ids, MPI.UINT64_T], dest=0, tag=2 * i)
            comm.Send([ts, MPI.DOUBLE], dest=0, tag=2 * i + 1)
