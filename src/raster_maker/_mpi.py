"""MPI helpers (mpi4py, optional): detect a multi-rank run and write one file from many ranks.

Generation cuts the node ids into batches (slices of bounded expected spike count). Two
ways to get them into one file, both giving the datasets of a one-rank run, byte for byte:

- **parallel write** (h5py built against parallel HDF5, the ``mpio`` driver): in rounds,
  every rank draws its own consecutive batches, the ranks exchange their counts (the
  offsets are an exclusive scan of them), resize the datasets together and each writes
  its own contiguous slice with one collective write. No rank gathers the spikes; rank 0
  only makes the file (metadata, attributes) before and labels it after, and moves it
  into place once every rank has closed it.
- **gather** (any h5py): batches go round-robin to the ranks; rank 0 receives them in
  batch order and writes them. Every rank draws its next batch on a background thread
  while sending (or, on rank 0, receiving and writing) the previous one.

Large messages use MPI's rendezvous protocol, so a sender waits for rank 0 and memory
stays bounded.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from ._parallel import prefetch

__all__ = ["world", "ordered_gather", "parallel_hdf5", "write_mode", "write_parallel"]

logger = logging.getLogger("raster_maker")

_RANK_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS")
WRITE_ENV = "RASTER_MAKER_MPI_WRITE"
WRITE_MODES = ("auto", "parallel", "gather")
PARALLEL_MIN_SPIKES = 1 << 20  # below this (expected) a population goes to rank 0: one small write
ROUND_BATCHES = 4  # batches (~2 M spikes) each rank draws per collective write, parallel path

Mapper = Callable[[Callable[[Any], Any], Iterable[Any]], Iterator[Any]]


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


def parallel_hdf5() -> bool:
    """Whether h5py was built against parallel HDF5 (it has the ``mpio`` driver)."""
    import h5py

    return bool(h5py.get_config().mpi)


def write_mode(comm: Any, sorting: str, expected_spikes: float) -> str:
    """``'parallel'`` or ``'gather'``: how a generation under ``comm`` reaches its file.

    Parallel when h5py has the ``mpio`` driver, there is more than one rank, the file is
    not to be sorted by time (a global sort needs every spike in one place) and the
    population is big enough to gain (at least :data:`PARALLEL_MIN_SPIKES` expected). The
    environment variable ``RASTER_MAKER_MPI_WRITE`` (``auto``, ``parallel``, ``gather``)
    overrides the size rule (``parallel`` still needs the driver and falls back, with a
    log message, when it cannot be used).
    """
    from ._check import check_option

    choice = check_option(WRITE_ENV, os.environ.get(WRITE_ENV, "auto").strip(), WRITE_MODES)
    if choice == "gather" or comm is None or comm.Get_size() < 2:
        return "gather"
    why_not = None
    if not parallel_hdf5():
        why_not = "h5py has no mpio driver (it was not built against parallel HDF5)"
    elif sorting == "by_time":
        why_not = "sorting='by_time' needs every spike in one place"
    if why_not is not None:
        if choice == "parallel":
            logger.info("parallel write not used: %s; rank 0 gathers and writes", why_not)
        return "gather"
    if choice == "auto" and expected_spikes < PARALLEL_MIN_SPIKES:
        return "gather"
    return "parallel"


# Fixed tags: MPI guarantees only tags up to 32767, and messages between two ranks with one
# tag arrive in the order sent, which is the batch order rank 0 receives them in.
_TAG_COUNT, _TAG_IDS, _TAG_TIMES = 7001, 7002, 7003


def ordered_gather(
    comm: Any,
    items: Iterable[Any],
    func: Callable[[Any], tuple[np.ndarray, np.ndarray]],
    mapper: Mapper | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Compute ``func(item)`` for item ``i`` on rank ``i % size``; yield all results on rank 0.

    Rank 0 yields ``(node_ids, times)`` pairs in item order; other ranks yield nothing.
    ``mapper(func, own_items)`` computes a rank's own results in order (default: the
    builtin ``map``); one that works ahead on a thread lets a rank draw while it sends,
    or, on rank 0, while it receives and its caller writes.
    """
    from mpi4py import MPI

    rank, size = comm.Get_rank(), comm.Get_size()
    items = list(items)
    own = (mapper or map)(func, items[rank::size])
    for i in range(len(items)):
        owner = i % size
        if rank == 0:
            if owner == 0:
                yield next(own)
                continue
            n = _wait(comm.irecv(source=owner, tag=_TAG_COUNT))
            ids = np.empty(n, dtype=np.uint64)
            ts = np.empty(n, dtype=np.float64)
            _wait(
                comm.Irecv([ids, MPI.UINT64_T], source=owner, tag=_TAG_IDS),
                comm.Irecv([ts, MPI.DOUBLE], source=owner, tag=_TAG_TIMES),
            )
            yield ids, ts
        elif owner == rank:
            ids, ts = next(own)
            ids = np.ascontiguousarray(ids, dtype=np.uint64)
            ts = np.ascontiguousarray(ts, dtype=np.float64)
            _wait(
                comm.isend(ids.size, dest=0, tag=_TAG_COUNT),
                comm.Isend([ids, MPI.UINT64_T], dest=0, tag=_TAG_IDS),
                comm.Isend([ts, MPI.DOUBLE], dest=0, tag=_TAG_TIMES),
            )


_POLL_S = 2e-4  # between tests of a pending message


def _wait(*requests: Any) -> Any:
    """Complete MPI requests, sleeping between tests; the first one's received object.

    A blocking receive or send spins on its core until the message moves (MPICH and
    Open MPI poll), taking the core from this rank's drawing and writing threads, and,
    when ranks share cores, from the other ranks. Testing every ``_POLL_S`` seconds
    keeps the latency small and leaves the cores to the work.
    """
    pending = list(requests)
    first = None
    while pending:
        still = []
        for req in pending:
            done, value = req.test()
            if not done:
                still.append(req)
            elif req is requests[0]:
                first = value
        if still:
            time.sleep(_POLL_S)
        pending = still
    return first


def _agree(comm: Any, make: Callable[[], Any]) -> Any:
    """Run ``make()`` on rank 0 and give every rank its value, or raise its error everywhere."""
    value, error = None, None
    if comm.Get_rank() == 0:
        try:
            value = make()
        except Exception as err:
            error = err
    msg = comm.bcast(None if error is None else f"{type(error).__name__}: {error}", root=0)
    if error is not None:
        raise error
    if msg is not None:
        raise RuntimeError(f"MPI rank 0 failed to write the file: {msg}")
    return comm.bcast(value, root=0)


def write_parallel(
    comm: Any,
    open_writer: Callable[[], Any],
    population: str,
    items: Sequence[Any],
    func: Callable[[Any], tuple[np.ndarray, np.ndarray]],
    mapper: Mapper,
    chunk: int,
    round_batches: int = ROUND_BATCHES,
) -> tuple[int, str]:
    """Write one population with every rank writing its own slices (parallel HDF5).

    Parameters
    ----------
    comm : mpi4py communicator
    open_writer : callable
        Called on rank 0 only: returns a :class:`~raster_maker.sonata.SpikesWriter` with
        the population, its attributes and metadata added (nothing appended).
    population : str
    items : sequence
        The batches, in file order; ``func(item)`` draws one as ``(node_ids, times)``.
    mapper : callable
        ``mapper(func, own_items)`` yields a rank's own results in order (may work ahead).
    chunk : int
        HDF5 chunk length of the spike datasets.
    round_batches : int
        Batches each rank draws per round (one collective resize and write per round).

    Returns
    -------
    (n_spikes, path) on every rank.
    """
    import h5py
    from h5py import h5fd, h5p, h5s

    from .sonata import _OrderTracker

    rank, size = comm.Get_rank(), comm.Get_size()
    writer: Any = None

    def prepare() -> str:
        nonlocal writer
        writer = open_writer()
        try:
            return str(writer._detach(population, chunk))
        except BaseException:
            writer.abort()
            raise

    layout = _rounds(len(items), size, round_batches, rank)
    # drawing starts now, on its own thread, while rank 0 makes the file
    own = prefetch(mapper(func, [items[i] for mine in layout for i in mine]), round_batches)
    tmp = _agree(comm, prepare)
    order = _OrderTracker()
    total = 0
    try:
        with h5py.File(tmp, "r+", driver="mpio", comm=comm) as h5:
            grp = h5["spikes"][population]
            datasets = (grp["node_ids"], grp["timestamps"])
            collective = h5p.create(h5p.DATASET_XFER)
            collective.set_dxpl_mpio(h5fd.MPIO_COLLECTIVE)
            for mine in layout:
                parts = [next(own) for _ in mine]
                ids = _concat([p[0] for p in parts], np.uint64)
                ts = _concat([p[1] for p in parts], np.float64)
                times_sorted = order.by_time and bool(np.all(ts[1:] >= ts[:-1]))
                summary = (ids.size, *_ends(ids, ts), times_sorted)
                infos = comm.allgather(summary)
                counts = [info[0] for info in infos]
                start = total + sum(counts[:rank])  # exclusive scan of the counts
                total += sum(counts)
                # collective when every rank has spikes this round; else the ranks that
                # have some write independently (h5py skips an empty write, so an empty
                # rank could not take part in a collective one)
                dxpl = collective if min(counts) > 0 else None
                for ds, data in zip(datasets, (ids, ts), strict=True):
                    ds.resize((total,))
                    if data.size:
                        _write_slice(ds, start, data, dxpl, h5s)
                for info in infos:
                    if info[0]:
                        order.update_summary(*info[1:])
    except BaseException:
        # a rank that fails mid-way would leave the others waiting in a collective call
        logger.exception("MPI rank %d failed writing '%s'; aborting every rank", rank, tmp)
        comm.Abort(1)
        raise

    def commit() -> str:
        writer._attach(population, total, order)
        return str(writer.close())

    path = _agree(comm, commit)
    return total, path


def _rounds(n_items: int, size: int, per_rank: int, rank: int) -> list[range]:
    """Item indices of ``rank`` in each round: rounds of up to ``size * per_rank`` items, each
    cut into ``size`` consecutive runs as equal as can be (every rank gets work)."""
    out = []
    step = size * per_rank
    for start in range(0, n_items, step):
        n = min(step, n_items - start)
        out.append(range(start + rank * n // size, start + (rank + 1) * n // size))
    return out


def _concat(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
    if len(parts) == 1:
        return np.ascontiguousarray(parts[0], dtype=dtype)
    if not parts:
        return np.zeros(0, dtype)
    return np.concatenate(parts).astype(dtype, copy=False)


def _ends(ids: np.ndarray, ts: np.ndarray) -> tuple[Any, Any, Any, Any]:
    if not ids.size:
        return (0, 0, 0.0, 0.0)
    return (int(ids[0]), int(ids[-1]), float(ts[0]), float(ts[-1]))


def _write_slice(ds: Any, start: int, data: np.ndarray, dxpl: Any, h5s: Any) -> None:
    """Write ``data`` at ``start`` (collective or independent, as ``dxpl`` says)."""
    fspace = ds.id.get_space()
    fspace.select_hyperslab((start,), (data.size,))
    mspace = h5s.create_simple((data.size,))
    ds.id.write(mspace, fspace, data, dxpl=dxpl)
