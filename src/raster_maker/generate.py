"""Run an input model: draw the spikes of a node set in bounded batches and write them.

One code path serves the Python API, the command line, BMTK and MPI: the model gives
blocks of units sharing a profile, this module cuts them into batches of bounded
expected spike count, draws each batch from the units' own streams and hands the spikes,
in node-id order, to a sink (a :class:`~raster_maker.sonata.SpikesWriter` or memory).
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import __version__
from ._check import check_window
from .models import Block, InputModel, Units
from .processes import draw_spikes
from .registry import get_generator
from .sonata import SpikesWriter
from .streams import node_keys, normalize_seed

__all__ = [
    "make_model",
    "generate",
    "iter_spikes",
    "GenerationResult",
    "Plan",
    "provenance",
]

logger = logging.getLogger("raster_maker")

BATCH_SPIKES = 250_000  # expected spikes per batch: bounds memory, and keeps arrays in cache


def make_model(generator: str | InputModel, params: Mapping[str, Any] | None = None) -> InputModel:
    """Instantiate a registered generator by name with keyword parameters.

    Raises
    ------
    KeyError
        Unknown generator name (the message lists the available ones).
    TypeError
        Unknown parameter (the message lists the allowed ones).
    """
    if isinstance(generator, InputModel):
        if params:
            raise TypeError("Pass parameters either in the model object or in 'params', not both.")
        return generator
    cls = get_generator(generator)
    params = dict(params or {})
    allowed = sorted(cls.__dataclass_fields__) if hasattr(cls, "__dataclass_fields__") else []
    unknown = sorted(set(params) - set(allowed)) if allowed else []
    if unknown:
        raise TypeError(
            f"Unknown parameter(s) {', '.join(map(repr, unknown))} for generator '{generator}'. "
            f"Allowed: {', '.join(allowed)}."
        )
    return cls(**params)


@dataclass
class GenerationResult:
    """What one generation produced (per population)."""

    population: str
    n_nodes: int
    n_spikes: int
    seed: int
    tstart_ms: float
    tstop_ms: float
    path: str | None = None
    spikes: pd.DataFrame | None = None


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


@dataclass
class Plan:
    """A model's blocks laid out over the node ids (sorted), computed once per generation.

    ``owner[i]`` is the block of node ``node_ids[i]`` and ``scale_hz[i]`` its rate scale,
    so drawing, the metadata and the progress bar all read the same per-node arrays.
    """

    blocks: list[Block]
    owner: np.ndarray
    scale_hz: np.ndarray

    @classmethod
    def build(cls, units: Units, blocks: list[Block]) -> Plan:
        owner = np.full(units.node_ids.size, -1, dtype=np.int64)
        scale = np.empty(units.node_ids.size)
        for b, blk in enumerate(blocks):
            pos = np.searchsorted(units.node_ids, blk.node_ids)
            owner[pos] = b
            scale[pos] = blk.scale_hz
        if owner.min() < 0 or sum(blk.node_ids.size for blk in blocks) != owner.size:
            raise ValueError(
                "An input model's blocks must hold every node of the set exactly once; "
                f"they hold {sum(b.node_ids.size for b in blocks)} of {owner.size}."
            )
        return cls(blocks, owner, scale)

    def expected_counts(self) -> np.ndarray:
        """Expected spikes of each node."""
        totals = np.array([blk.grid.total for blk in self.blocks])
        return self.scale_hz * totals[self.owner]


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
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(node_ids, timestamps_ms)`` chunks, in node-id order, times sorted per node.

    ``threads`` (default: the number of CPUs, at most 4; 1 per rank under MPI) draw
    batches in parallel. With an MPI communicator ``comm`` the batches are split across
    its ranks and only rank 0 yields (all of them, in order). The output depends on
    neither.
    """
    if threads is None:
        threads = 1 if comm is not None else min(4, os.cpu_count() or 1)
    tstart, tstop = check_window(tstart_ms, tstop_ms)
    if plan is None:
        plan = Plan.build(units, list(model.blocks(units, tstart, tstop, seed)))
    blocks, owner, scale = plan.blocks, plan.owner, plan.scale_hz
    process = model.spike_process
    # Units of different blocks may interleave in node-id order: walk the node ids in
    # batches and draw each block's share, merging back into node order.

    def draw(sl: slice) -> tuple[np.ndarray, np.ndarray]:
        ids = units.node_ids[sl]
        keys = node_keys(seed, units.population, f"{model.name}:spikes", ids)
        owners = owner[sl]
        if owners[0] == owners[-1] and np.all(owners == owners[0]):  # one block: no merging
            rows, times = draw_spikes(process, keys, scale[sl], blocks[owners[0]].grid)
            return ids[rows], times
        parts_pos, parts_t = [], []
        for b in np.unique(owners):
            sel = np.flatnonzero(owners == b)
            rows, times = draw_spikes(process, keys[sel], scale[sl][sel], blocks[b].grid)
            parts_pos.append(sel[rows])
            parts_t.append(times)
        pos = np.concatenate(parts_pos)
        times = np.concatenate(parts_t)
        if len(parts_pos) > 1 and np.any(pos[1:] < pos[:-1]):
            order = np.argsort(pos, kind="stable")
            pos, times = pos[order], times[order]
        return ids[pos], times

    for grid in {id(b.grid): b.grid for b in blocks}.values():
        grid.invert(np.zeros(1))  # build lookup tables once, before threads share them
    batches = _batches(plan.expected_counts(), batch_spikes)
    if comm is not None:
        from ._mpi import ordered_gather

        yield from ordered_gather(comm, batches, draw)
    else:
        yield from _ordered_map(draw, batches, threads)


def _ordered_map(func, items, threads: int):
    """``map(func, items)`` on ``threads`` threads, in order, with bounded look-ahead.

    numpy releases the GIL in its array loops, so batches drawn in threads use both
    cores; results come back in input order, so the output is the same as serial.
    """
    if threads <= 1:
        yield from map(func, items)
        return
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(threads) as pool:
        pending: deque = deque()
        for item in items:
            pending.append(pool.submit(func, item))
            if len(pending) > 2 * threads:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


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
    model: InputModel, units: Units, tstart_ms: float, tstop_ms: float, seed: int
) -> dict[str, Any]:
    """The attributes recorded on ``/spikes/<population>`` so a file can be regenerated."""
    return {
        "raster_maker_version": __version__,
        "raster_maker_generator": model.name,
        "raster_maker_params": model.params(),
        "raster_maker_seed": str(seed),
        "raster_maker_tstart_ms": float(tstart_ms),
        "raster_maker_tstop_ms": float(tstop_ms),
        "raster_maker_n_nodes": int(units.node_ids.size),
        "raster_maker_node_ids_sha1": _ids_digest(units.node_ids),
    }


def _ids_digest(ids: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(ids, dtype="<u8").tobytes()).hexdigest()


def _record_plan(writer: SpikesWriter, population: str, plan: Plan, units: Units) -> None:
    grids = [b.grid for b in plan.blocks]
    means = np.array([g.mean for g in grids])
    data = {
        "node_ids": units.node_ids,
        "rate_scale_hz": plan.scale_hz,
        "target_rate_hz": plan.scale_hz * means[plan.owner],
        "group_index": plan.owner.astype(np.int32),
        "group_keys": np.array([b.key for b in plan.blocks], dtype=object),
    }
    if len(grids) * grids[0].values.size <= 20_000_000:
        data["profiles"] = np.stack([g.values for g in grids]).astype(np.float32)
        data["profile_edges_ms"] = grids[0].edges
    writer.add_metadata(population, data)


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
) -> GenerationResult:
    """Generate the spikes of one population.

    Parameters
    ----------
    generator : str or InputModel
        A registered name (``'functional_groups'``, ``'poisson'``, ...) or a model object.
    population : str
        Population name written to the file.
    node_ids : array-like of int
        The units (node ids of the population).
    tstart_ms, tstop_ms : float
        Time window (ms); spikes fall strictly inside it.
    params : mapping, optional
        Generator parameters (when ``generator`` is a name).
    seed : int, optional
        Root seed. None draws one; it is recorded in the file and the result.
    attributes : DataFrame, optional
        Node attributes indexed by node id (for ``group_by``).
    output : path or SpikesWriter, optional
        Where to write. A path gets a new file (refused if it exists unless
        ``overwrite``); a writer gets one more population. None keeps the spikes in
        memory (``result.spikes``).
    sorting : {'by_id', 'by_time', 'none'}
        Order in a new file. Spikes are produced by node id.
    threads : int, optional
        Threads drawing batches (default: up to 4 CPUs; 1 per MPI rank). The spikes do
        not depend on it.
    comm : mpi4py communicator, None or 'auto'
        Split the work across MPI ranks (every rank calls ``generate`` with the same
        arguments; rank 0 writes, and the file is byte-identical to a one-rank run).
        ``'auto'``: COMM_WORLD when launched by ``mpiexec`` with more than one rank.
    progress : bool, optional
        Show a progress bar (tqdm, on stderr). Default: only on a terminal, when the
        ``raster_maker`` logger shows INFO, and for work of more than ~2 M spikes.

    Returns
    -------
    GenerationResult
    """
    model = make_model(generator, params)
    if comm == "auto":
        from ._mpi import world

        comm = world()
    seed = normalize_seed(seed)
    if comm is not None:
        seed = comm.bcast(seed, root=0)  # a drawn seed must be the same on every rank
    root = comm is None or comm.Get_rank() == 0
    units = Units(population, np.asarray(node_ids), attributes)
    tstart, tstop = check_window(tstart_ms, tstop_ms)
    plan = Plan.build(units, list(model.blocks(units, tstart, tstop, seed)))
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
    expected = float(plan.expected_counts().sum())
    chunks = _with_progress(chunks, units.node_ids, expected, progress, population)
    result = GenerationResult(population, int(units.node_ids.size), 0, seed, tstart, tstop)
    if not root:  # worker ranks draw their share and send it to rank 0
        for _ in chunks:
            pass
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
    try:
        writer.add_population(population, provenance(model, units, tstart, tstop, seed))
        _record_plan(writer, population, plan, units)
        for ids, ts in chunks:
            writer.append(population, ids, ts)
            result.n_spikes += int(ids.size)
        if own:
            writer.close()
    except BaseException:
        if own:
            writer.abort()
        if comm is not None:  # do not leave the other ranks waiting for rank 0
            comm.Abort(1)
        raise
    result.path = str(writer.path)
    logger.info(
        "%s: %d spikes for %d nodes of '%s' (seed %d)",
        model.name,
        result.n_spikes,
        result.n_nodes,
        population,
        seed,
    )
    return _shared(comm, result)


def _shared(comm: Any, result: GenerationResult) -> GenerationResult:
    """Give every rank rank 0's counts and path (not the spikes)."""
    if comm is None:
        return result
    summary = comm.bcast((result.n_spikes, result.path), root=0)
    result.n_spikes, result.path = summary
    return result
