"""Plans: what one generation draws, laid over the node ids, drawn node by node.

Every model kind (rate blocks, layers, shared spike events, replay) turns a node set
and a time window into a :class:`Plan`. A plan knows each node's expected spike count
(for batching and the progress bar) and draws the spikes of any consecutive slice of
the sorted node ids from the nodes' own streams, so the spikes of a node never depend
on which other nodes share its batch, thread or MPI rank. :mod:`raster_maker.generate`
walks the slices; one code path serves the API, the command line, BMTK and MPI.

Plans compose: :class:`LayeredPlan` superposes independent plans for the same nodes
(a baseline plus a stimulus), :class:`TransformedPlan` applies spike transforms
(:mod:`raster_maker.transforms`) to another plan's spikes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ._parallel import thread_map
from .processes import SpikeProcess, draw_spikes, node_time_order
from .streams import group_rng, node_keys

__all__ = [
    "Context",
    "Plan",
    "Block",
    "BlockPlan",
    "LayeredPlan",
    "TransformedPlan",
    "merge_by_position",
]


@dataclass(frozen=True)
class Context:
    """Where a model's random numbers come from, for one generation.

    Streams are pure functions of ``(seed, population, purpose, node id)``. The purpose
    holds the model's name and what is drawn (``"poisson:spikes"``); inside a layered
    model it is prefixed by the layer (``"layer1/"``), and from trial 1 on the
    per-trial draws (spikes, shared profiles and events) carry ``":trial<k>"``, while
    the network-level draws (per-unit rates, assemblies) stay the same across trials
    unless ``redraw_rates``. Trial 0 and an empty namespace are the plain streams.

    Parameters
    ----------
    seed : int
        Root seed.
    population : str
        Population name.
    tstart_ms, tstop_ms : float
        The generation window (ms).
    trial : int
        Trial index (0 for a single draw).
    namespace : str
        Prefix of every purpose (set by :class:`~raster_maker.layers.Layers`).
    redraw_rates : bool
        Draw per-unit rates and assemblies per trial too.
    threads : int, optional
        Threads for shared work while planning (see :meth:`map`); default the number
        of CPUs, at most 4. Not part of any stream.
    comm : mpi4py communicator, optional
        The ranks generating together: :meth:`map` shares its items among them. Not
        part of any stream.
    """

    seed: int
    population: str
    tstart_ms: float
    tstop_ms: float
    trial: int = 0
    namespace: str = ""
    redraw_rates: bool = False
    threads: int | None = field(default=None, compare=False, repr=False)
    comm: Any = field(default=None, compare=False, repr=False)

    @property
    def duration_s(self) -> float:
        return (self.tstop_ms - self.tstart_ms) / 1000.0

    def purpose(self, what: str, *, per_trial: bool = True) -> str:
        """The stream purpose of ``what`` (e.g. ``'poisson:spikes'``).

        Parameters
        ----------
        what : str
            The model's name and what is drawn, e.g. ``"poisson:spikes"``.
        per_trial : bool, optional
            True (default) for draws that differ between trials (spikes, shared
            profiles); False for network-level draws that trials share (per-unit
            rates, assemblies) unless ``redraw_rates``.

        Returns
        -------
        str
            ``namespace + what``, with ``":trial<k>"`` appended from trial 1 on for
            per-trial draws.

        Examples
        --------
        >>> from raster_maker.plans import Context
        >>> ctx = Context(1, "exc", 0.0, 1000.0, trial=2, namespace="layer0/")
        >>> ctx.purpose("poisson:spikes"), ctx.purpose("poisson:rate", per_trial=False)
        ('layer0/poisson:spikes:trial2', 'layer0/poisson:rate')
        """
        out = self.namespace + what
        if self.trial and (per_trial or self.redraw_rates):
            out += f":trial{self.trial}"
        return out

    def node_keys(self, what: str, node_ids: np.ndarray, *, per_trial: bool = True) -> np.ndarray:
        """Per-node stream keys for ``what`` (see :func:`raster_maker.streams.node_keys`).

        Parameters
        ----------
        what : str
            The model's name and what is drawn, e.g. ``"poisson:spikes"``.
        node_ids : ndarray of uint64
            The nodes.
        per_trial : bool, optional
            As in :meth:`purpose`: False for draws that trials share.

        Returns
        -------
        ndarray of uint64
            One key per node; draw with :func:`raster_maker.streams.uniform` or
            :func:`raster_maker.streams.words`.
        """
        return node_keys(
            self.seed, self.population, self.purpose(what, per_trial=per_trial), node_ids
        )

    def rng(self, *parts: str | int, per_trial: bool = True) -> np.random.Generator:
        """A Generator for one shared object (a group's profile, a mother process).

        The same on every rank and process (see :func:`raster_maker.streams.group_rng`).

        Parameters
        ----------
        *parts : str or int
            What the generator is for; include the model's name (e.g.
            ``"mip", "mother"``). The namespace is prepended.
        per_trial : bool, optional
            As in :meth:`purpose`: False for draws that trials share.

        Returns
        -------
        numpy.random.Generator
            A generator seeded from ``(seed, population, namespace, *parts)`` and, from
            trial 1 on for per-trial draws, ``"trial<k>"``.
        """
        extra: list[str | int] = [self.namespace] if self.namespace else []
        extra += list(parts)
        if self.trial and (per_trial or self.redraw_rates):
            extra.append(f"trial{self.trial}")
        return group_rng(self.seed, self.population, *extra)

    def sub(self, namespace: str) -> Context:
        """The context of a part (a layer) with its own streams.

        Parameters
        ----------
        namespace : str
            Appended to the current namespace, e.g. ``"layer1/"``.

        Returns
        -------
        Context
            The same generation (seed, population, window, trial) with the longer
            namespace.
        """
        return replace(self, namespace=self.namespace + namespace)

    def map(self, func: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        """``[func(item) for item in items]``, shared among this generation's threads
        and MPI ranks.

        For shared objects that are pure functions of their item (a group's noise
        profile from its own stream): every rank computes every ``comm.Get_size()``-th
        item on ``threads`` threads, and all ranks receive all results (in order), so
        the plan is the same on every rank. With MPI, every rank must call this with
        the same items, and the results must pickle.

        Parameters
        ----------
        func : callable
            A pure function of one item.
        items : sequence
            The items.

        Returns
        -------
        list
            The results, in the order of ``items``.
        """
        items = list(items)
        size = 1 if self.comm is None else self.comm.Get_size()
        if size == 1 or len(items) < 2:
            return thread_map(func, items, self.threads)
        rank = self.comm.Get_rank()
        mine = thread_map(func, items[rank::size], self.threads)
        return _allgather_strided(self.comm, mine, len(items))


def _allgather_strided(comm: Any, mine: list[Any], n: int) -> list[Any]:
    """Every rank's results, where rank ``r`` computed items ``r, r + size, ...`` of ``n``.

    Results that are all numeric arrays of one shape travel in one buffer collective
    (no pickling: ~10x faster for a plan's noise profiles); anything else is pickled.
    """
    size = comm.Get_size()
    counts = [len(range(r, n, size)) for r in range(size)]
    kinds = {(a.shape, a.dtype.str) if isinstance(a, np.ndarray) else None for a in mine}
    kind = kinds.pop() if len(kinds) == 1 else None
    if kind is not None and np.dtype(kind[1]).kind not in "biuf":
        kind = None
    kinds_all = comm.allgather(kind if mine else "none")
    shapes = {k for k in kinds_all if k != "none"}
    out: list[Any] = [None] * n
    if len(shapes) == 1 and None not in shapes:
        shape, dtype = next(iter(shapes))
        per = int(np.prod(shape, dtype=np.int64))
        recv = np.empty((n, *shape), dtype=dtype)
        send = np.stack(mine) if mine else np.empty((0, *shape), dtype=dtype)
        comm.Allgatherv(np.ascontiguousarray(send), [recv, [c * per for c in counts]])
        start = 0
        for r, c in enumerate(counts):
            out[r::size] = list(recv[start : start + c])
            start += c
        return out
    for r, part in enumerate(comm.allgather(mine)):
        out[r::size] = part
    return out


class Plan:
    """Base class: the spikes of one generation, drawable by consecutive node slices.

    Subclasses set ``node_ids`` (sorted uint64) and implement :meth:`expected_counts`
    and :meth:`draw`; they may add to :meth:`metadata` and :meth:`derived`.
    """

    node_ids: np.ndarray

    def expected_counts(self) -> np.ndarray:
        """Expected spike count of each node (float array aligned with ``node_ids``)."""
        raise NotImplementedError

    def prepare(self) -> None:
        """Build shared tables once, before threads draw batches (optional)."""

    def draw(self, sl: slice) -> tuple[np.ndarray, np.ndarray]:
        """Spikes of nodes ``node_ids[sl]``.

        A node's spikes must not depend on the slice it is drawn in (nor on threads or
        MPI ranks): only on the seed, population, node id, parameters and shared
        (group-level) randomness. The arrays returned are the caller's (generation
        turns positions into node ids in place): return copies, never views of the
        plan's own tables.

        Parameters
        ----------
        sl : slice
            Consecutive positions into ``node_ids`` (step 1).

        Returns
        -------
        positions : ndarray of int64
            Index into ``node_ids`` (the whole set, not the slice) of each spike,
            non-decreasing.
        times_ms : ndarray of float64
            Spike times (ms), sorted within each node.
        """
        raise NotImplementedError

    def metadata(self, duration_s: float) -> dict[str, Any]:
        """Per-node arrays stored under ``/raster_maker/<population>/``.

        Parameters
        ----------
        duration_s : float
            Length of the generation window (s), to turn expected counts into rates.

        Returns
        -------
        dict
            Name -> array; at least ``"node_ids"`` and ``"target_rate_hz"`` (expected
            count / duration, Hz).
        """
        return {
            "node_ids": self.node_ids,
            "target_rate_hz": self.expected_counts() / duration_s,
        }

    def derived(self) -> dict[str, Any]:
        """JSON-able quantities solved while planning (recorded with the provenance).

        Returns
        -------
        dict
            Recorded as the ``raster_maker_derived`` attribute; empty by default.
        """
        return {}


@dataclass
class Block:
    """Units sharing one rate profile: unit ``i`` fires at ``scale_hz[i] * grid`` (Hz).

    Parameters
    ----------
    node_ids : ndarray of uint64
        The block's nodes (any order).
    scale_hz : ndarray of float
        Rate scale of each node (Hz), aligned with ``node_ids``.
    grid : ProfileGrid or PiecewiseLinearGrid
        The shared profile evaluated on the window (dimensionless, or Hz with a scale of
        1): any object with ``total``, ``peak``, ``mean``, ``invert`` and ``bin_means``
        (:class:`~raster_maker.profiles.ProfileGrid`,
        :class:`~raster_maker.traces.PiecewiseLinearGrid`).
    key : str, optional
        The block's name (e.g. a functional group), stored in the file's
        ``group_keys`` metadata; default ``"all"``.
    """

    node_ids: np.ndarray
    scale_hz: np.ndarray
    grid: Any
    key: str = "all"


class BlockPlan(Plan):
    """Rate models: blocks of units sharing a profile, drawn by time rescaling.

    ``owner[i]`` is the block of node ``node_ids[i]`` and ``scale_hz[i]`` its rate scale.

    Parameters
    ----------
    node_ids : ndarray of uint64
        The sorted node ids.
    blocks : list of Block
        Must hold every node exactly once.
    process : SpikeProcess
        How the spikes are drawn from the rates.
    keys : callable
        ``keys(node_ids) -> uint64 stream keys`` of the spikes.
    extra_metadata : dict, optional
        More arrays for :meth:`metadata` (e.g. assembly membership).
    derived : dict, optional
        Solved quantities for :meth:`derived` (e.g. a fluctuation amplitude).

    Raises
    ------
    ValueError
        If the blocks do not hold every node exactly once.
    """

    def __init__(
        self,
        node_ids,
        blocks: Sequence[Block],
        process: SpikeProcess,
        keys,
        extra_metadata: dict[str, Any] | None = None,
        derived: dict[str, Any] | None = None,
    ) -> None:
        self.node_ids = node_ids
        self.blocks = list(blocks)
        self.process = process
        self.keys = keys
        self.extra_metadata = dict(extra_metadata or {})
        self.derived_values = dict(derived or {})
        if len(self.blocks) == 1 and np.array_equal(self.blocks[0].node_ids, node_ids):
            # one block of every node, in order (constant or shared-profile models): read-only
            # views, no per-node copies (8 MB each per million nodes)
            self.owner = np.broadcast_to(np.int64(0), node_ids.shape)
            scale_hz = np.asarray(self.blocks[0].scale_hz, dtype=np.float64)
            self.scale_hz = np.broadcast_to(scale_hz, node_ids.shape)
            return
        owner = np.full(node_ids.size, -1, dtype=np.int64)
        scale = np.empty(node_ids.size)
        for b, blk in enumerate(self.blocks):
            pos = np.searchsorted(node_ids, blk.node_ids)
            owner[pos] = b
            scale[pos] = blk.scale_hz
        held = sum(blk.node_ids.size for blk in self.blocks)
        if owner.size and (owner.min() < 0 or held != owner.size):
            raise ValueError(
                "An input model's blocks must hold every node of the set exactly once; "
                f"they hold {held} of {owner.size}."
            )
        self.owner, self.scale_hz = owner, scale

    def expected_counts(self) -> np.ndarray:
        """Expected spike count of each node: its rate scale times its grid's total.

        Returns
        -------
        ndarray of float
            Aligned with ``node_ids``: the target the spike process realises on average
            (the binned process, at most one spike per bin, falls short of it at high
            rates).
        """
        totals = np.array([blk.grid.total for blk in self.blocks])
        return self.scale_hz * totals[self.owner]

    def draw(self, sl: slice) -> tuple[np.ndarray, np.ndarray]:
        """Spikes of nodes ``node_ids[sl]``, each block by time rescaling of its grid.

        Nothing is prepared up front: a grid builds its inversion tables on first use,
        in whichever drawing thread needs them first (so the blocks' tables are built in
        parallel); two threads building the same table build the same values, and the
        table is set in one step.

        Parameters
        ----------
        sl : slice
            Consecutive positions into ``node_ids`` (step 1).

        Returns
        -------
        positions : ndarray of int64
            Index into ``node_ids`` (the whole set) of each spike, non-decreasing.
        times_ms : ndarray of float64
            Spike times (ms), sorted within each node.
        """
        ids = self.node_ids[sl]
        keys = self.keys(ids)
        owners = self.owner[sl]
        scale = self.scale_hz[sl]
        offset = sl.start or 0
        if owners.size == 0:
            return np.zeros(0, np.int64), np.zeros(0)
        if owners[0] == owners[-1] and np.all(owners == owners[0]):  # one block: no merging
            rows, times = draw_spikes(self.process, keys, scale, self.blocks[owners[0]].grid)
            rows += offset
            return rows, times
        parts_pos, parts_t = [], []
        starts = np.flatnonzero(np.concatenate(([True], owners[1:] != owners[:-1])))
        if np.unique(owners[starts]).size == starts.size:  # each block one run of nodes
            # (as functional groups are): in run order the positions come out sorted
            stops = np.append(starts[1:], owners.size)
            for a, z in zip(starts.tolist(), stops.tolist(), strict=True):
                grid = self.blocks[owners[a]].grid
                rows, times = draw_spikes(self.process, keys[a:z], scale[a:z], grid)
                rows += offset + a
                parts_pos.append(rows)
                parts_t.append(times)
            return np.concatenate(parts_pos), np.concatenate(parts_t)
        for b in np.unique(owners):
            sel = np.flatnonzero(owners == b)
            rows, times = draw_spikes(self.process, keys[sel], scale[sel], self.blocks[b].grid)
            parts_pos.append(sel[rows] + offset)
            parts_t.append(times)
        # each node is in one block and its times are already sorted: a stable sort by
        # position alone restores node order (much cheaper than sorting by (node, time))
        pos = np.concatenate(parts_pos)
        order = np.argsort(pos, kind="stable")
        return pos[order], np.concatenate(parts_t)[order]

    def profile_edges(self, dt_ms: float = 1.0) -> np.ndarray:
        g = self.blocks[0].grid
        edges = getattr(g, "edges", None)
        if edges is not None and all(
            getattr(b.grid, "edges", None) is edges
            or np.array_equal(getattr(b.grid, "edges", ()), edges)
            for b in self.blocks
        ):
            return edges
        from .profiles import time_grid

        return time_grid(g.tstart, g.tstop, dt_ms)

    def metadata(self, duration_s: float) -> dict[str, Any]:
        """Per-node arrays and the blocks' profiles, stored in the file.

        Parameters
        ----------
        duration_s : float
            Length of the window (s); not used (the rates come from the grids' means).

        Returns
        -------
        dict
            ``node_ids``, ``rate_scale_hz``, ``target_rate_hz`` (scale times the
            block's mean profile, Hz), ``group_index`` (int32 block of each node),
            ``group_keys`` (block keys), ``profiles`` (float32, one row per block:
            the profile's means over the bins of ``profile_edges_ms``) and
            ``profile_edges_ms`` (both left out when the distinct profiles would hold
            more than 2e7 bins), plus the model's ``extra_metadata``.
        """
        grids = [b.grid for b in self.blocks]
        means = np.array([g.mean for g in grids])
        data: dict[str, Any] = {
            "node_ids": self.node_ids,
            "rate_scale_hz": self.scale_hz,
            "target_rate_hz": self.scale_hz * means[self.owner],
            "group_index": self.owner.astype(np.int32),
            "group_keys": np.array([b.key for b in self.blocks], dtype=object),
        }
        edges = self.profile_edges()
        unique = {id(g): g for g in grids}
        if len(unique) * (edges.size - 1) <= 20_000_000:
            rows = {k: g.bin_means(edges) for k, g in unique.items()}
            data["profiles"] = np.stack([rows[id(g)] for g in grids]).astype(np.float32)
            data["profile_edges_ms"] = edges
        data.update(self.extra_metadata)
        return data

    def derived(self) -> dict[str, Any]:
        """The quantities the model solved while planning (given as ``derived``).

        Returns
        -------
        dict
            JSON-able values, recorded as the ``raster_maker_derived`` attribute.
        """
        return self.derived_values


def merge_by_position(
    parts: Sequence[tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate ``(positions, times)`` parts into node order, times sorted per node.

    Parameters
    ----------
    parts : sequence of (ndarray, ndarray)
        ``(positions, times_ms)`` pairs, as :meth:`Plan.draw` returns them.

    Returns
    -------
    positions : ndarray of int64
        All positions, non-decreasing.
    times_ms : ndarray of float64
        The matching times (ms), sorted within each position.

    Examples
    --------
    >>> import numpy as np
    >>> from raster_maker.plans import merge_by_position
    >>> a = (np.array([0, 2]), np.array([5.0, 1.0]))
    >>> b = (np.array([0, 1]), np.array([3.0, 4.0]))
    >>> merge_by_position([a, b])
    (array([0, 0, 1, 2]), array([3., 5., 4., 1.]))
    """
    parts = [p for p in parts if p[0].size]
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0)
    if len(parts) == 1:
        return parts[0]
    pos = np.concatenate([p[0] for p in parts])
    times = np.concatenate([p[1] for p in parts])
    order = node_time_order(pos, times)
    return pos[order], times[order]


class LayeredPlan(Plan):
    """The superposition of independent plans for the same nodes (one population).

    Parameters
    ----------
    plans : sequence of Plan
        The layers' plans, all over the same ``node_ids``.

    Raises
    ------
    ValueError
        If ``plans`` is empty.
    """

    def __init__(self, plans: Sequence[Plan]) -> None:
        if not plans:
            raise ValueError("A layered input needs at least one layer.")
        self.plans = list(plans)
        self.node_ids = self.plans[0].node_ids

    def expected_counts(self) -> np.ndarray:
        """Expected spike count of each node: the sum over the layers.

        Returns
        -------
        ndarray of float
            Aligned with ``node_ids``.
        """
        return np.sum([p.expected_counts() for p in self.plans], axis=0)

    def prepare(self) -> None:
        """Prepare every layer's plan."""
        for p in self.plans:
            p.prepare()

    def draw(self, sl: slice) -> tuple[np.ndarray, np.ndarray]:
        """Spikes of nodes ``node_ids[sl]``: every layer's, merged per node.

        Parameters
        ----------
        sl : slice
            Consecutive positions into ``node_ids`` (step 1).

        Returns
        -------
        positions : ndarray of int64
            Index into ``node_ids`` (the whole set) of each spike, non-decreasing.
        times_ms : ndarray of float64
            Spike times (ms), sorted within each node.
        """
        return merge_by_position([p.draw(sl) for p in self.plans])

    def metadata(self, duration_s: float) -> dict[str, Any]:
        """Every layer's metadata, prefixed ``layer<i>.``, and the summed target rate.

        Parameters
        ----------
        duration_s : float
            Length of the window (s), passed to each layer.

        Returns
        -------
        dict
            ``node_ids``; ``target_rate_hz`` (the layers' sum, Hz); ``layer<i>.<key>``
            for every other array of layer ``i``; and ``group_index``, ``group_keys``,
            ``profiles`` and ``profile_edges_ms`` (those it has) of the layer with the
            most group keys (the first such layer on a tie).
        """
        layers = [p.metadata(duration_s) for p in self.plans]
        data: dict[str, Any] = {}
        # the layer with the most structure (groups, assemblies) describes the groups
        main = max(range(len(layers)), key=lambda i: len(layers[i].get("group_keys", ())))
        for key in ("group_index", "group_keys", "profiles", "profile_edges_ms"):
            if key in layers[main]:
                data[key] = layers[main][key]
        for i, meta in enumerate(layers):
            for key, val in meta.items():
                if key != "node_ids":
                    data[f"layer{i}.{key}"] = val
        data["node_ids"] = self.node_ids
        data["target_rate_hz"] = np.sum([m["target_rate_hz"] for m in layers], axis=0)
        return data

    def derived(self) -> dict[str, Any]:
        """The layers' solved quantities.

        Returns
        -------
        dict
            ``{"layer<i>": layer i's derived()}`` for the layers that have any.
        """
        out = {f"layer{i}": p.derived() for i, p in enumerate(self.plans)}
        return {k: v for k, v in out.items() if v}


class TransformedPlan(Plan):
    """Another plan's spikes passed through spike transforms, each from its own streams.

    Parameters
    ----------
    inner : Plan
        The plan whose spikes are transformed.
    transforms : sequence of Transform
        Applied in order (:func:`raster_maker.transforms.parse_transforms`).
    ctx : Context
        The streams of the transforms: transform ``i`` draws from the node keys of
        ``"transform<i>:<kind>"`` in this context, and the window bounds its spikes.
    """

    def __init__(self, inner: Plan, transforms: Sequence[Any], ctx: Context) -> None:
        self.inner = inner
        self.transforms = list(transforms)
        self.ctx = ctx
        self.node_ids = inner.node_ids

    def expected_counts(self) -> np.ndarray:
        """Expected spike count of each node after the transforms.

        Thinning scales the counts by ``keep``; jitter keeps them, and a shift is
        counted as keeping them (the spikes it moves out of the window are not
        subtracted).

        Returns
        -------
        ndarray of float
            Aligned with ``node_ids``.
        """
        counts = self.inner.expected_counts()
        for t in self.transforms:
            counts = t.expected_counts(counts)
        return counts

    def prepare(self) -> None:
        """Prepare the inner plan."""
        self.inner.prepare()

    def draw(self, sl: slice) -> tuple[np.ndarray, np.ndarray]:
        """Spikes of nodes ``node_ids[sl]``: the inner plan's, transformed in order.

        Parameters
        ----------
        sl : slice
            Consecutive positions into ``node_ids`` (step 1).

        Returns
        -------
        positions : ndarray of int64
            Index into ``node_ids`` (the whole set) of each spike, non-decreasing.
        times_ms : ndarray of float64
            Spike times (ms), sorted within each node.
        """
        pos, times = self.inner.draw(sl)
        start = sl.start or 0
        for i, t in enumerate(self.transforms):
            # one key per node of the slice, then one per spike by indexing (no hashing per spike)
            node_keys = self.ctx.node_keys(f"transform{i}:{t.kind}", self.node_ids[sl])
            keys = node_keys[pos - start]
            pos, times = t.apply(pos, times, keys, self.ctx.tstart_ms, self.ctx.tstop_ms)
        return pos, times

    def metadata(self, duration_s: float) -> dict[str, Any]:
        """The inner plan's metadata, with the target rate after the transforms.

        Parameters
        ----------
        duration_s : float
            Length of the window (s).

        Returns
        -------
        dict
            As the inner plan's, with ``target_rate_hz`` = :meth:`expected_counts` /
            ``duration_s`` (Hz).
        """
        data = self.inner.metadata(duration_s)
        data["target_rate_hz"] = self.expected_counts() / duration_s
        return data

    def derived(self) -> dict[str, Any]:
        """The inner plan's solved quantities.

        Returns
        -------
        dict
            The inner plan's :meth:`~Plan.derived`.
        """
        return self.inner.derived()
