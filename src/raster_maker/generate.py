"""Run an input model: draw the spikes of a node set in bounded batches and write them.

One code path serves the Python API, the command line, BMTK and MPI: the model gives a
:class:`~raster_maker.plans.Plan`, this module cuts the node ids into batches of bounded
expected spike count, has the plan draw each batch from the units' own streams and hands
the spikes, in node-id order, to a sink (a :class:`~raster_maker.sonata.SpikesWriter` or
memory). Trials repeat the generation with fresh spike streams.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import shutil
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import __version__
from ._check import check_int, check_window
from ._parallel import WriteBehind, ahead, ordered_map, threads_for
from .models import InputModel, Units
from .plans import Context, Plan
from .processes import MAX_SPIKES_PER_UNIT
from .registry import make_model
from .sonata import SpikesWriter
from .streams import normalize_seed

__all__ = [
    "make_model",
    "generate",
    "iter_spikes",
    "GenerationResult",
    "provenance",
    "trial_path",
]

logger = logging.getLogger("raster_maker")

BATCH_SPIKES = 540_000  # expected spikes per batch (see iter_spikes)


@dataclass
class GenerationResult:
    """What one generation produced (one population, one trial).

    Returned by :func:`generate`; on every MPI rank it holds rank 0's counts and path
    (the spikes themselves are only on rank 0, and only when kept in memory).

    Parameters
    ----------
    population : str
        Name of the population generated.
    n_nodes : int
        Number of units (node ids) generated.
    n_spikes : int
        Number of spikes drawn, over all units.
    seed : int
        Root seed used (the drawn one when none was given): passing it again
        regenerates the same spikes.
    tstart_ms, tstop_ms : float
        Time window of the spikes (ms).
    path : str or None
        File written, or None when the spikes were kept in memory.
    spikes : DataFrame or None
        The spikes when kept in memory (``output=None``): columns ``node_ids``
        (uint64) and ``timestamps`` (float64, ms), in node-id order and, within a
        node, in time order. None when they were written to a file.
    trial : int
        Index of the trial drawn (0 for a single trial).
    """

    population: str
    n_nodes: int
    n_spikes: int
    seed: int
    tstart_ms: float
    tstop_ms: float
    path: str | None = None
    spikes: pd.DataFrame | None = None
    trial: int = 0


def _batches(expected_counts: np.ndarray, batch_spikes: int) -> Iterator[slice]:
    """Consecutive slices of units whose expected spike counts add up to ~batch_spikes."""
    expected = np.cumsum(expected_counts)
    n = expected.size
    start = 0
    while start < n:
        base = expected[start - 1] if start else 0.0
        stop = int(np.searchsorted(expected, base + batch_spikes, side="right"))
        stop = min(max(stop, start + 1), n)
        yield slice(start, stop)
        start = stop


def iter_spikes(
    model: InputModel,
    units: Units,
    tstart_ms: float,
    tstop_ms: float,
    seed: int,
    *,
    batch_spikes: int = BATCH_SPIKES,
    plan: Plan | None = None,
    threads: int | None = None,
    comm: Any = None,
    trial: int = 0,
    redraw_rates: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(node_ids, timestamps_ms)`` chunks, in node-id order, times sorted per node.

    The units are cut into consecutive batches of about ``batch_spikes`` expected
    spikes, each drawn from the units' own streams, so the spikes depend neither on the
    batch size, nor on ``threads``, nor on the number of MPI ranks.

    Parameters
    ----------
    model : InputModel
        The input model (e.g. from :func:`~raster_maker.registry.make_model`).
    units : Units
        The units to draw: population, node ids and, if the model needs them, node
        attributes.
    tstart_ms, tstop_ms : float
        Time window (ms); ``tstop_ms`` must be greater than ``tstart_ms``.
    seed : int
        Root seed (non-negative).
    batch_spikes : int
        Expected number of spikes per batch (default 540 000): bounds the memory of a
        chunk. A unit is never split, so one unit with more expected spikes is a batch
        of its own. The default makes a batch's arrays just over 4 MiB, which numpy
        backs with transparent huge pages: a batch's fresh memory then costs a few page
        faults instead of a thousand.
    plan : Plan, optional
        A plan already built for these units and this window (as :func:`generate`
        does); then ``seed``, ``trial`` and ``redraw_rates`` are not used. Default:
        ``model.build_plan`` is called.
    threads : int, optional
        Threads drawing batches (and sharing the plan's per-group work, such as noise
        profiles) in parallel. Default: the number of CPUs, at most 4; 1 per rank when
        ``comm`` is given.
    comm : mpi4py communicator, optional
        Split the batches across the ranks of ``comm`` (every rank must call this with
        the same arguments); only rank 0 yields, all the chunks in order. Default None:
        everything is drawn in this process.
    trial : int
        Which trial to draw (default 0); see :func:`generate`.
    redraw_rates : bool
        Draw per-unit rates and assemblies anew in every trial too (default False).

    Yields
    ------
    node_ids : ndarray of uint64
        Node id of each spike of the chunk, non-decreasing (continuing from the
        previous chunk).
    timestamps_ms : ndarray of float64
        Spike times (ms), in time order within each node.

    Raises
    ------
    TypeError
        If ``tstart_ms`` or ``tstop_ms`` is not a real number.
    ValueError
        If they are not finite or ``tstop_ms <= tstart_ms``.

    Examples
    --------
    >>> import numpy as np
    >>> from raster_maker.generate import iter_spikes, make_model
    >>> from raster_maker.models import Units
    >>> model = make_model("poisson", {"rate_hz": 5.0})
    >>> chunks = list(iter_spikes(model, Units("bg", np.arange(10)), 0.0, 1000.0, seed=1))
    >>> ids = np.concatenate([c[0] for c in chunks])
    >>> bool(np.all(np.diff(ids.astype(np.int64)) >= 0))
    True
    """
    if threads is None:
        threads = threads_for(comm)
    tstart, tstop = check_window(tstart_ms, tstop_ms)
    if plan is None:
        ctx = Context(
            seed,
            units.population,
            tstart,
            tstop,
            trial,
            redraw_rates=redraw_rates,
            threads=threads,
            comm=comm,
        )
        plan = model.build_plan(units, ctx)
    draw, batches = _work(plan, batch_spikes)
    if comm is not None:
        from ._mpi import ordered_gather

        yield from ordered_gather(comm, batches, draw, ahead(threads))
    else:
        yield from ordered_map(draw, batches, threads)


def _work(plan: Plan, batch_spikes: int):
    """The plan's draw function (node ids, times) and its batches, tables built."""
    node_ids = plan.node_ids
    first = int(node_ids[0]) if node_ids.size else 0
    # ids first, first + 1, ... (as most node sets are): a position plus the first id
    is_range = bool(node_ids.size) and int(node_ids[-1]) - first == node_ids.size - 1
    is_range = is_range and bool(np.all(np.diff(node_ids) == 1))  # a plan's own ids, checked

    def draw(sl: slice) -> tuple[np.ndarray, np.ndarray]:
        pos, times = plan.draw(sl)
        if is_range and pos.dtype == np.int64 and pos.flags.owndata and pos.flags.writeable:
            # in place: Plan.draw hands its arrays over
            pos += first
            return pos.view(np.uint64), times
        return node_ids[pos], times

    plan.prepare()
    return draw, _batches(plan.expected_counts(), batch_spikes)


def _with_progress(chunks, node_ids: np.ndarray, expected_spikes: float, progress, label: str):
    """Pass chunks through, advancing a progress bar by nodes done (output is in id order)."""
    if progress is None:
        progress = (
            expected_spikes > 2e6
            and sys.stderr.isatty()
            and logger.getEffectiveLevel() <= logging.INFO
        )
    if not progress:
        yield from chunks
        return
    from tqdm.auto import tqdm

    with tqdm(total=node_ids.size, unit="node", desc=f"generating {label}", file=sys.stderr) as bar:
        for ids, ts in chunks:
            yield ids, ts
            if ids.size:
                bar.n = int(np.searchsorted(node_ids, ids[-1], side="right"))
                bar.refresh()


def provenance(
    model: InputModel,
    units: Units,
    tstart_ms: float,
    tstop_ms: float,
    seed: int,
    trial: int = 0,
) -> dict[str, Any]:
    """Return the attributes recorded on ``/spikes/<population>`` to regenerate a file.

    Parameters
    ----------
    model : InputModel
        The model that drew the spikes (its name and parameters are recorded).
    units : Units
        The units drawn (their number and a SHA-1 digest of their node ids are
        recorded).
    tstart_ms, tstop_ms : float
        Time window (ms).
    seed : int
        Root seed (recorded as a decimal string: it may not fit in an HDF5 integer).
    trial : int
        Trial index; recorded only when it is not 0.

    Returns
    -------
    dict
        ``raster_maker_version``, ``raster_maker_generator``, ``raster_maker_params``
        (a dict, stored as JSON), ``raster_maker_seed`` (str),
        ``raster_maker_tstart_ms`` and ``raster_maker_tstop_ms`` (float, ms),
        ``raster_maker_n_nodes`` (int), ``raster_maker_node_ids_sha1`` (hex str of the
        node ids as little-endian uint64) and, for a trial other than 0,
        ``raster_maker_trial`` (int).

    See Also
    --------
    raster_maker.reading.read_provenance : Read these attributes back from a file.

    Examples
    --------
    >>> import numpy as np
    >>> from raster_maker.generate import make_model, provenance
    >>> from raster_maker.models import Units
    >>> attrs = provenance(make_model("poisson"), Units("bg", np.arange(3)), 0.0, 500.0, 7)
    >>> attrs["raster_maker_generator"], attrs["raster_maker_seed"]
    ('poisson', '7')
    """
    out = {
        "raster_maker_version": __version__,
        "raster_maker_generator": model.name,
        "raster_maker_params": model.params(),
        "raster_maker_seed": str(seed),
        "raster_maker_tstart_ms": float(tstart_ms),
        "raster_maker_tstop_ms": float(tstop_ms),
        "raster_maker_n_nodes": int(units.node_ids.size),
        "raster_maker_node_ids_sha1": _ids_digest(units.node_ids),
    }
    if trial:
        out["raster_maker_trial"] = int(trial)
    return out


def _ids_digest(ids: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(ids, dtype="<u8").tobytes()).hexdigest()


def trial_path(output: str | os.PathLike, trial: int) -> Path:
    """Return the file name of one trial of a multi-trial output.

    ``{trial}`` in ``output`` is replaced by the trial index; without it, ``_trial<k>``
    goes before the suffix (``stim.h5`` -> ``stim_trial0.h5``).

    Parameters
    ----------
    output : str or path-like
        The output name given for all trials, e.g. ``"stim.h5"`` or
        ``"stim_{trial}.h5"``.
    trial : int
        Trial index.

    Returns
    -------
    Path
        The file of that trial (in the folder of ``output``).

    Examples
    --------
    >>> from raster_maker.generate import trial_path
    >>> trial_path("out/stim.h5", 2).as_posix()
    'out/stim_trial2.h5'
    >>> trial_path("stim_{trial}.h5", 0).as_posix()
    'stim_0.h5'
    """
    text = str(output)
    if "{trial}" in text:
        return Path(text.format(trial=trial))
    path = Path(text)
    return path.with_name(f"{path.stem}_trial{trial}{path.suffix}")


def generate(
    generator: str | InputModel,
    population: str,
    node_ids: Any,
    tstart_ms: float,
    tstop_ms: float,
    *,
    params: Mapping[str, Any] | None = None,
    seed: int | None = None,
    attributes: pd.DataFrame | None = None,
    output: str | os.PathLike | SpikesWriter | None = None,
    overwrite: bool = False,
    sorting: str = "by_id",
    batch_spikes: int = BATCH_SPIKES,
    progress: bool | None = None,
    comm: Any = "auto",
    threads: int | None = None,
    trial: int = 0,
    trials: int | None = None,
    redraw_rates: bool = False,
) -> GenerationResult | list[GenerationResult]:
    """Generate the spikes of one population.

    Parameters
    ----------
    generator : str or InputModel
        A registered name (``'functional_groups'``, ``'poisson'``, ...) or a model object.
    population : str
        Population name written to the file.
    node_ids : array-like of int
        The units (node ids of the population): a non-empty 1-D array of distinct
        non-negative integers, in any order (they are drawn in sorted order).
    tstart_ms, tstop_ms : float
        Time window (ms); spikes fall strictly inside it. ``tstop_ms`` must be greater
        than ``tstart_ms``.
    params : mapping, optional
        Generator parameters (when ``generator`` is a name).
    seed : int, optional
        Root seed (non-negative). None draws one; it is recorded in the file and the
        result. Under MPI, rank 0's seed is used on every rank.
    attributes : DataFrame, optional
        Node attributes indexed by node id (for ``group_by``, assemblies, rates by
        attribute).
    output : path or SpikesWriter, optional
        Where to write. A path gets a new file (refused if it exists unless
        ``overwrite``); a writer gets one more population (it is not closed, and its
        own ``sorting`` applies). None keeps the spikes in memory (``result.spikes``).
    overwrite : bool
        Replace an existing ``output`` file (default False: refused).
    sorting : {'by_id', 'by_time', 'none'}
        Order in a new file (default ``'by_id'``). Spikes are produced by node id, so
        ``'none'`` gives the same order, labelled ``by_id``.
    batch_spikes : int
        Expected number of spikes drawn per batch (default 540 000): bounds memory.
        The spikes do not depend on it.
    threads : int, optional
        Threads drawing batches and sharing the plan's per-group work (default: up to 4
        CPUs; 1 per MPI rank). The spikes do not depend on it.
    comm : mpi4py communicator, None or 'auto'
        Split the work across MPI ranks (every rank calls ``generate`` with the same
        arguments; rank 0 writes, and the file is byte-identical to a one-rank run).
        ``'auto'``: COMM_WORLD when launched by ``mpiexec`` with more than one rank.
    progress : bool, optional
        Show a progress bar (tqdm, on stderr). Default: only on a terminal, when the
        ``raster_maker`` logger shows INFO, and for work of more than ~2 M spikes.
    trial : int
        Which trial to draw (default 0). Trials share the network-level randomness
        (per-unit rates, assemblies) and differ in everything else (spikes, noise
        profiles, shared events).
    trials : int, optional
        Draw trials ``0 .. trials-1``; each goes to its own file (see :func:`trial_path`:
        ``{trial}`` in the output name is replaced, else ``_trial<k>`` is added before the
        suffix), or, with ``output=None``, to its own result. Returns a list.
    redraw_rates : bool
        Draw per-unit rates and assemblies anew in every trial too (default False).

    Returns
    -------
    GenerationResult or list of GenerationResult
        Counts, seed and file (or, with ``output=None``, the spikes) of the
        population; a list of them, one per trial, when ``trials`` is given. Under MPI
        every rank gets rank 0's counts and path, not the spikes.

    Raises
    ------
    KeyError
        If ``generator`` is not a registered name (the message lists those that are).
    TypeError
        If ``params`` has an unknown parameter, or ``seed``, ``trial``, ``trials``,
        ``tstart_ms`` or ``tstop_ms`` has the wrong type.
    ValueError
        If a parameter of the model, ``population``, ``node_ids``, the time window,
        ``sorting``, ``trial`` or ``trials`` has an invalid value, or ``output`` is a
        :class:`~raster_maker.sonata.SpikesWriter` while ``trials`` is given.
    FileExistsError
        If the ``output`` file exists and ``overwrite`` is false.
    FileNotFoundError
        If the folder of the ``output`` file does not exist.

    Examples
    --------
    >>> import numpy as np, raster_maker as rm
    >>> res = rm.generate("poisson", "bg", np.arange(100), 0.0, 1000.0,
    ...                   params={"rate_hz": 5.0}, seed=1)
    >>> res.n_spikes > 0
    True
    """
    if comm == "auto":
        from ._mpi import world

        comm = world()
    # a drawn seed must be the same on every rank, and every trial shares it (trials share
    # the per-unit rates and assemblies)
    seed = normalize_seed(seed)
    if comm is not None:
        seed = comm.bcast(seed, root=0)
    if trials is not None:
        n = check_int("trials", trials, min_value=1)
        if isinstance(output, SpikesWriter):
            raise ValueError(
                "Invalid 'output' with 'trials': a SpikesWriter holds one trial. Allowed: a "
                "file name (one file per trial) or None."
            )
        return [
            generate(
                generator,
                population,
                node_ids,
                tstart_ms,
                tstop_ms,
                params=params,
                seed=seed,
                attributes=attributes,
                output=None if output is None else trial_path(output, k),
                overwrite=overwrite,
                sorting=sorting,
                batch_spikes=batch_spikes,
                progress=progress,
                comm=comm,
                threads=threads,
                trial=k,
                redraw_rates=redraw_rates,
            )
            for k in range(n)
        ]
    model = make_model(generator, params)
    root = comm is None or comm.Get_rank() == 0
    units = Units(population, np.asarray(node_ids), attributes)
    tstart, tstop = check_window(tstart_ms, tstop_ms)
    trial = check_int("trial", trial, min_value=0)
    ctx = Context(
        seed,
        population,
        tstart,
        tstop,
        trial,
        redraw_rates=bool(redraw_rates),
        threads=threads_for(comm, threads),
        comm=comm,
    )
    plan = model.build_plan(units, ctx)
    counts = plan.expected_counts()
    expected = float(counts.sum())
    if not counts.size or counts.max() <= MAX_SPIKES_PER_UNIT:  # else: drawing names the unit
        if comm is None:
            _check_room(expected, output, units, tstart, tstop)
        else:  # rank 0 holds or writes the file: it decides, every rank raises
            from ._mpi import _agree

            _agree(comm, lambda: _check_room(expected, output, units, tstart, tstop))
    del counts  # 8 MB per million nodes, not held while drawing
    result = GenerationResult(
        population, int(units.node_ids.size), 0, seed, tstart, tstop, trial=trial
    )
    if output is not None and not isinstance(output, SpikesWriter) and comm is not None:
        from ._mpi import write_mode

        if write_mode(comm, sorting, expected) == "parallel":
            return _generate_parallel(
                comm,
                model,
                units,
                plan,
                result,
                output,
                overwrite,
                sorting,
                batch_spikes,
                threads,
                expected,
            )
    chunks = iter_spikes(
        model,
        units,
        tstart,
        tstop,
        seed,
        batch_spikes=batch_spikes,
        plan=plan,
        comm=comm,
        threads=threads,
    )
    chunks = _with_progress(chunks, units.node_ids, expected, progress, population)
    if not root:  # worker ranks draw their share and send it to rank 0
        try:
            for _ in chunks:
                pass
        except BaseException:
            comm.Abort(1)  # rank 0 would wait for this rank's batches forever
            raise
        return _shared(comm, result)
    if output is None:
        parts = list(chunks)
        ids = np.concatenate([p[0] for p in parts])
        ts = np.concatenate([p[1] for p in parts])
        result.n_spikes = int(ids.size)
        result.spikes = pd.DataFrame({"node_ids": ids, "timestamps": ts})
        return _shared(comm, result)
    own = not isinstance(output, SpikesWriter)
    writer = SpikesWriter(output, overwrite=overwrite, sorting=sorting) if own else output
    behind = WriteBehind(depth=2)
    sync = _Syncer(writer) if own else None
    try:
        attrs = _population_attrs(model, units, plan, result)
        behind.put(writer.add_population, population, attrs)
        # the metadata (profiles) is gathered on the writer thread, while the first
        # batches are drawn; the plan's shared tables are built first, once
        plan.prepare()
        behind.put(
            lambda: writer.add_metadata(population, plan.metadata((tstop - tstart) / 1000.0))
        )
        for ids, ts in chunks:
            behind.put(writer._append_by_id, population, ids, ts)
            if sync is not None:
                behind.put(sync, ids.size)
            result.n_spikes += int(ids.size)
        behind.finish()
        if sync is not None:
            sync.join()
        if own:
            writer.close()
    except BaseException:
        with contextlib.suppress(BaseException):
            behind.finish()
        if sync is not None:
            sync.join()
        if own:
            writer.abort()
        if comm is not None:  # do not leave the other ranks waiting for rank 0
            comm.Abort(1)
        raise
    result.path = str(writer.path)
    _log_result(model, result)
    return _shared(comm, result)


_BYTES_PER_SPIKE = 16  # uint64 node id + float64 time


def _check_room(expected: float, output: Any, units: Units, tstart: float, tstop: float) -> None:
    """Refuse, before drawing, a generation that cannot fit where it goes.

    A rate or unit mistake (1e7 Hz for 1e5 units: 1e13 spikes) passes the per-unit cap
    but would fill the memory or the disk first; the expected count says so at once.
    Only clearly impossible requests are refused: more expected bytes than the disk has
    free (an ``OSError`` with ``ENOSPC``, as a full disk gives), or than half the
    machine's memory when the spikes are kept in memory (a ``ValueError``).
    """
    need = expected * _BYTES_PER_SPIKE
    what = (
        f"The generation expects {expected:.3g} spikes ({need / 1e9:.3g} GB) for "
        f"{units.node_ids.size} units over {tstop - tstart:g} ms"
    )
    if output is None:
        try:
            ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):  # not POSIX: no check
            return
        if need > 0.5 * ram:
            raise ValueError(
                f"{what}, to be held in memory: more than half of this machine's "
                f"{ram / 1e9:.3g} GB. Allowed: at most {0.5 * ram / _BYTES_PER_SPIKE:.3g} "
                "expected spikes without output=; write them to a file (output=...) or "
                "check the rates and the window."
            )
        return
    if isinstance(output, SpikesWriter):
        return
    parent = Path(output).expanduser().absolute().parent
    try:
        free = shutil.disk_usage(parent).free
    except OSError:  # no such folder yet: the writer says so
        return
    if need > free:
        raise OSError(
            errno.ENOSPC,
            f"{what}: more than the {free / 1e9:.3g} GB free at '{parent}'. Allowed: at "
            f"most {free / _BYTES_PER_SPIKE:.3g} expected spikes there; check the rates "
            "and the window, or write elsewhere.",
        )


def _population_attrs(
    model: InputModel, units: Units, plan: Plan, result: GenerationResult
) -> dict[str, Any]:
    """The population's attributes: provenance, and what the model solved if anything."""
    attrs = provenance(model, units, result.tstart_ms, result.tstop_ms, result.seed, result.trial)
    derived = plan.derived()
    if derived:
        attrs["raster_maker_derived"] = derived
    return attrs


def _generate_parallel(
    comm: Any,
    model: InputModel,
    units: Units,
    plan: Plan,
    result: GenerationResult,
    output: str | os.PathLike,
    overwrite: bool,
    sorting: str,
    batch_spikes: int,
    threads: int | None,
    expected: float,
) -> GenerationResult:
    """Every MPI rank draws and writes its own slices of the file (parallel HDF5);
    ``expected`` is the plan's expected spike count (it sizes the chunks)."""
    from ._mpi import write_parallel
    from .sonata import chunk_length

    tstart, tstop = result.tstart_ms, result.tstop_ms

    def open_writer() -> SpikesWriter:  # rank 0: the file, its attributes and metadata
        writer = SpikesWriter(output, overwrite=overwrite, sorting=sorting)
        try:
            writer.add_population(units.population, _population_attrs(model, units, plan, result))
            writer.add_metadata(units.population, plan.metadata((tstop - tstart) / 1000.0))
        except BaseException:
            writer.abort()
            raise
        return writer

    draw, batches = _work(plan, batch_spikes)
    result.n_spikes, result.path = write_parallel(
        comm,
        open_writer,
        units.population,
        list(batches),
        draw,
        ahead(threads_for(comm, threads)),
        chunk_length(expected),
    )
    _log_result(model, result)
    return result


def _log_result(model: InputModel, result: GenerationResult) -> None:
    logger.info(
        "%s: %d spikes for %d nodes of '%s' (seed %d, trial %d)",
        model.name,
        result.n_spikes,
        result.n_nodes,
        result.population,
        result.seed,
        result.trial,
    )


class _Syncer:
    """Start the disk writing early: every ~64 MB appended, ``fdatasync`` the file.

    Called on the writer thread; the sync itself runs on its own thread, so neither
    drawing nor writing waits for the disk, and the ``fsync`` that makes the file safe
    at close finds little left to do. :meth:`join` before the file is closed.
    """

    EVERY_SPIKES = 4 << 20  # 64 MB of spikes

    def __init__(self, writer: SpikesWriter) -> None:
        self.writer = writer
        self.pending = 0
        self.thread: Any = None

    def __call__(self, n_spikes: int) -> None:
        import threading

        self.pending += n_spikes
        if self.pending < self.EVERY_SPIKES or (self.thread and self.thread.is_alive()):
            return
        self.pending = 0
        self.thread = threading.Thread(target=self._sync, daemon=True)
        self.thread.start()

    def _sync(self) -> None:
        with contextlib.suppress(OSError):  # best effort: close() fsyncs anyway
            self.writer._sync_data()

    def join(self) -> None:
        if self.thread is not None:
            self.thread.join()


def _shared(comm: Any, result: GenerationResult) -> GenerationResult:
    """Give every rank rank 0's counts and path (not the spikes)."""
    if comm is None:
        return result
    summary = comm.bcast((result.n_spikes, result.path), root=0)
    result.n_spikes, result.path = summary
    return result
