"""Shared spike events: units that fire together (MIP, SIP, CPP).

Three classic models of synchrony among Poisson units, each a generator:

``"mip"`` (:class:`MultipleInteraction`)
    The multiple interaction process (Kuhn, Aertsen & Rotter 2003; NEST's
    ``mip_generator``): a Poisson mother process at ``rate_hz / p_copy``; every unit
    copies every mother spike independently with probability ``p_copy``. Each unit is a
    Poisson train at ``rate_hz``; the spike counts of two units (in any window)
    correlate with coefficient ``p_copy``.
``"sip"`` (:class:`SingleInteraction`)
    The single interaction process (Kuhn et al. 2003; Elephant's
    ``single_interaction_process``): independent Poisson background at
    ``rate_hz - coincidence_rate_hz`` plus coincidences in *all* units of the group at
    ``coincidence_rate_hz``, optionally jittered per unit.
``"cpp"`` (:class:`CompoundPoisson`)
    The compound Poisson process (Staude, Rotter & Gruen 2010; Elephant's
    ``compound_poisson_process``): a carrier Poisson process whose events each involve
    ``j`` units chosen uniformly at random, ``j`` drawn from the amplitude distribution
    ``A``; every unit is a Poisson train at ``rate_hz``.

Where the random numbers come from
----------------------------------
The shared events of a group (mother spikes, coincidences, carrier events with their
amplitudes and members) come from the group's stream ``ctx.rng(name, "events", key)``:
a pure function of (seed, population, trial, layer, model name, group key), the same on
every MPI rank and thread. Each unit's own decisions (which mother spikes it copies, its
background spikes, jitter, shift) come from its counter-based stream
(:mod:`raster_maker.streams`). So the file is byte-identical on any number of ranks and
whatever the batch size or thread count, and for ``mip`` and ``sip`` a node's train does
not even depend on which other nodes are generated (its group key is enough).

A ``cpp`` event picks its members among the nodes of the group, so a ``cpp`` train
depends on the group's whole node set (adding a node to the group changes the events);
it still does not depend on node order, batch size, threads or ranks.

Groups
------
``groups={"by": attribute}`` gives each value of a node attribute its own independent
mother (carrier, coincidence) process; by default all units form one group (key
``"all"``).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ._check import check_number, check_option
from .models import InputModel, Units
from .plans import Context, Plan
from .processes import (
    MAX_SPIKES_PER_UNIT,
    SpikeProcess,
    _row_index,
    draw_spikes,
    node_time_order,
)
from .profiles import ProfileGrid
from .rates import attribute_labels
from .registry import register
from .streams import uniform
from .transforms import Jitter

__all__ = [
    "MultipleInteraction",
    "SingleInteraction",
    "CompoundPoisson",
    "MIPPlan",
    "SIPPlan",
    "CPPPlan",
    "COINCIDENCE_KINDS",
    "bernoulli_indices",
    "random_subsets",
]

#: How :class:`SingleInteraction` draws its coincidence times (``coincidences``).
COINCIDENCE_KINDS = ("stochastic", "deterministic", "regular")
_SUM_TOLERANCE = 1e-9  # how far from 1 an amplitude distribution may sum (rounding of inputs)
_POISSON = SpikeProcess("poisson")
_MAX_GROUPS_LISTED = 100  # derived quantities list per-group values up to this many groups
_ROUND_SLACK_SD = 3.0  # first guess of a row's successes: mean + this many sd (any value works)


# -- groups ----------------------------------------------------------------------------------
def _parse_groups(spec: Any) -> str | None:
    """The attribute named by ``groups`` (None: one group of all units)."""
    if spec is None:
        return None
    if not isinstance(spec, Mapping) or set(spec) != {"by"} or not isinstance(spec["by"], str):
        raise ValueError(
            f"Invalid value for 'groups': {spec!r}. Allowed: None (one group) or "
            '{"by": ATTRIBUTE} (one independent event process per attribute value).'
        )
    return spec["by"]


def _grouping(units: Units, by: str | None) -> tuple[list[str], np.ndarray]:
    """Group keys (attribute values as text, in node order of first appearance) and the
    group index of every unit."""
    n = units.node_ids.size
    if by is None:
        return ["all"], np.zeros(n, dtype=np.int64)
    # by text, so values that read the same (1 and "1", b"L2" and "L2") are one group
    index, keys = pd.factorize(attribute_labels(units.attribute(by)))
    return [str(k) for k in keys], index.astype(np.int64)


# -- small vectorised helpers -----------------------------------------------------------------
def _poisson_times(
    rng: np.random.Generator, rate_hz: float, tstart_ms: float, tstop_ms: float
) -> np.ndarray:
    """A homogeneous Poisson train (sorted ms times strictly inside the window)."""
    span = tstop_ms - tstart_ms
    k = int(rng.poisson(rate_hz * span / 1000.0))
    return _inside(np.sort(tstart_ms + span * rng.random(k)), tstart_ms, tstop_ms)


def _inside(t: np.ndarray, tstart_ms: float, tstop_ms: float) -> np.ndarray:
    """Times nudged strictly inside the window (only rounding can put them on an edge)."""
    return np.clip(t, np.nextafter(tstart_ms, np.inf), np.nextafter(tstop_ms, -np.inf))


def _check_expected(what: str, expected: float, hint: str) -> None:
    if expected > MAX_SPIKES_PER_UNIT:
        raise ValueError(
            f"Invalid rate: {what} would expect {expected:.3g} events in the window ({hint}). "
            f"Allowed: at most {MAX_SPIKES_PER_UNIT:.0e}; lower the rate or shorten the window."
        )


def bernoulli_indices(
    keys: np.ndarray, n_trials: np.ndarray, p: float
) -> tuple[np.ndarray, np.ndarray]:
    """Successes of independent Bernoulli(``p``) trials, drawn by geometric skips.

    Stream ``keys[i]`` runs ``n_trials[i]`` trials; the gap before its ``k``-th success
    is geometric and uses counter ``k`` of the stream, so the result is a pure function of
    each ``(key, n_trials, p)`` (the work is O(successes), in a few vectorised rounds
    whose sizes do not change the result).

    Parameters
    ----------
    keys : ndarray of uint64
        Stream keys (:func:`raster_maker.streams.node_keys`).
    n_trials : ndarray of int
        Number of trials of each stream.
    p : float
        Success probability, in (0, 1].

    Returns
    -------
    rows : ndarray of int64
        Index into ``keys`` of each success, non-decreasing.
    index : ndarray of int64
        Index of the successful trial (0 .. n_trials - 1), increasing within a row.

    Examples
    --------
    >>> import numpy as np
    >>> from raster_maker.streams import node_keys
    >>> keys = node_keys(1, "pop", "demo", np.arange(3))
    >>> rows, index = bernoulli_indices(keys, np.array([10, 0, 10]), 1.0)
    >>> rows.tolist() == [0] * 10 + [2] * 10, index[:3].tolist()
    (True, [0, 1, 2])
    """
    keys = np.asarray(keys, dtype=np.uint64)
    n_trials = np.asarray(n_trials, dtype=np.int64)
    if p >= 1.0:
        return _row_index(n_trials)
    log_q = np.log1p(-p)
    cap = float(n_trials.max(initial=0) + 1)  # one gap this long leaves any row: no overflow
    last = np.full(keys.size, -1, dtype=np.int64)  # index of each row's latest success
    active = np.flatnonzero(n_trials > 0)
    counter = 0
    rows_out: list[np.ndarray] = []
    index_out: list[np.ndarray] = []
    while active.size:
        left = float((n_trials[active] - 1 - last[active]).max()) * p  # expected successes
        width = max(1, int(np.ceil(left + _ROUND_SLACK_SD * np.sqrt(left))) + 1)
        k = active.size
        counters = np.tile(np.arange(counter, counter + width, dtype=np.uint64), k)
        u = uniform(np.repeat(keys[active], width), counters).reshape(k, width)
        gaps = np.floor(np.log(u) / log_q)  # failures before the next success
        np.minimum(gaps, cap, out=gaps)
        pos = np.cumsum(gaps.astype(np.int64) + 1, axis=1)
        pos += last[active, None]
        inside = pos < n_trials[active, None]
        r, c = np.nonzero(inside)
        rows_out.append(active[r])
        index_out.append(pos[r, c])
        last[active] = pos[:, -1]
        counter += width
        active = active[inside[:, -1]]  # their last success was inside: there may be more
    if not rows_out:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    rows, index = np.concatenate(rows_out), np.concatenate(index_out)
    if len(rows_out) > 1:
        order = np.argsort(rows, kind="stable")  # rounds are in trial order within a row
        rows, index = rows[order], index[order]
    return rows, index


def random_subsets(
    rng: np.random.Generator, sizes: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Uniformly random subsets of ``range(n)``, one of each size in ``sizes``.

    Slots are drawn with replacement and the repeated ones drawn again, in vectorised
    rounds over the subsets that still hold a repeat; the procedure treats all labels
    alike, so every subset of a given size is equally likely. Subsets larger than
    ``n / 2`` are drawn as their complement (few repeats, few rounds).

    Parameters
    ----------
    rng : numpy.random.Generator
    sizes : ndarray of int
        Subset sizes, each in ``0 .. n``.
    n : int
        Number of labels.

    Returns
    -------
    subset : ndarray of int64
        Index into ``sizes`` of each member, non-decreasing.
    member : ndarray of int64
        The members (``0 .. n - 1``), increasing within a subset.

    Examples
    --------
    >>> import numpy as np
    >>> subset, member = random_subsets(np.random.default_rng(0), np.array([2, 5]), 5)
    >>> subset.tolist(), member[2:].tolist()
    ([0, 0, 1, 1, 1, 1, 1], [0, 1, 2, 3, 4])
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    base = max(n, 1)  # subset * base + member: one sortable key per slot
    big = sizes > n // 2
    drawn = np.where(big, n - sizes, sizes)
    subset = np.repeat(np.arange(sizes.size, dtype=np.int64), drawn)
    member = rng.integers(0, n, size=subset.size) if n else np.zeros(0, np.int64)
    todo = np.flatnonzero(drawn[subset] > 1)  # slots whose subset may still hold a repeat
    while todo.size:
        key = subset[todo] * base + member[todo]
        order = np.argsort(key, kind="stable")  # stable: the same slots on every machine
        key = key[order]
        again = np.zeros(key.size, dtype=bool)
        again[1:] = key[1:] == key[:-1]  # the first slot of a value stays, the others redraw
        if not again.any():
            break
        slots = todo[order[again]]
        member[slots] = rng.integers(0, n, size=slots.size)
        dirty = np.zeros(sizes.size, dtype=bool)
        dirty[subset[slots]] = True
        todo = todo[dirty[subset[todo]]]
    if big.any():  # the big subsets are the complements of what was drawn for them
        which = np.flatnonzero(big)
        keep = np.ones((which.size, n), dtype=bool)
        local = np.full(sizes.size, -1, dtype=np.int64)
        local[which] = np.arange(which.size)
        excluded = big[subset]
        keep[local[subset[excluded]], member[excluded]] = False
        b_sub, b_mem = np.nonzero(keep)
        subset = np.concatenate((subset[~excluded], which[b_sub]))
        member = np.concatenate((member[~excluded], b_mem.astype(np.int64)))
    key = np.sort(subset * base + member)  # unique values: any sort gives the same array
    return key // base, key % base


# -- plans -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Events:
    """The shared events of every group: ``times_ms[offsets[g]:offsets[g + 1]]``."""

    times_ms: np.ndarray
    offsets: np.ndarray
    sizes: np.ndarray | None = None  # cpp: the amplitude of each event
    table: tuple[np.ndarray, np.ndarray] | None = None  # cpp: (position, time) of every spike

    @property
    def counts(self) -> np.ndarray:
        return np.diff(self.offsets)

    def group_index(self) -> np.ndarray:
        return np.repeat(np.arange(self.counts.size, dtype=np.int32), self.counts)


class _EventPlan(Plan):
    """Base of the synchrony plans: units in groups, each group with shared events.

    The events are built once, lazily (``prepare`` builds them before threads draw;
    a race would only build the same events twice).
    """

    def __init__(
        self,
        name: str,
        node_ids: np.ndarray,
        group_keys: list[str],
        group_index: np.ndarray,
        rate_hz: float,
        ctx: Context,
    ) -> None:
        self.name = name
        self.node_ids = node_ids
        self.group_keys = list(group_keys)
        self.group_index = group_index
        self.rate_hz = rate_hz
        self.ctx = ctx
        self._events_cache: _Events | None = None

    @property
    def duration_s(self) -> float:
        return self.ctx.duration_s

    def _group_rng(self, g: int) -> np.random.Generator:
        return self.ctx.rng(self.name, "events", self.group_keys[g])

    def _build(self) -> _Events:
        raise NotImplementedError

    def events(self) -> _Events:
        """The groups' shared events (built on first use)."""
        ev = self._events_cache
        if ev is None:
            ev = self._build()
            self._events_cache = ev
        return ev

    def prepare(self) -> None:
        self.events()

    def expected_counts(self) -> np.ndarray:
        return np.full(self.node_ids.size, self.rate_hz * self.duration_s)

    def metadata(self, duration_s: float) -> dict[str, Any]:
        ev = self.events()
        data = super().metadata(duration_s)
        data["group_index"] = self.group_index.astype(np.int32)
        data["group_keys"] = np.array(self.group_keys, dtype=object)
        data["event_times_ms"] = ev.times_ms
        data["event_group_index"] = ev.group_index()
        if ev.sizes is not None:
            data["event_sizes"] = ev.sizes.astype(np.int32)
        return data

    def _per_group(self, name: str, counts: list[int]) -> dict[str, Any]:
        """``{name: total}``, plus ``{name_by_group: {key: count}}`` for a few groups."""
        out: dict[str, Any] = {name: int(sum(counts))}
        if 1 < len(counts) <= _MAX_GROUPS_LISTED:
            out[f"{name}_by_group"] = dict(zip(self.group_keys, counts, strict=True))
        return out

    def _mother_times(self, rate_hz: float) -> _Events:
        """One Poisson train at ``rate_hz`` per group."""
        ctx = self.ctx
        trains = [
            _poisson_times(self._group_rng(g), rate_hz, ctx.tstart_ms, ctx.tstop_ms)
            for g in range(len(self.group_keys))
        ]
        offsets = np.concatenate(([0], np.cumsum([t.size for t in trains]))).astype(np.int64)
        return _Events(np.concatenate(trains), offsets)


class MIPPlan(_EventPlan):
    """Plan of :class:`MultipleInteraction`: copies of each group's mother spikes.

    Unit ``i`` copies mother spike ``k`` of its group when it is one of its Bernoulli
    successes (:func:`bernoulli_indices` on the unit's ``"<name>:copy"`` stream).

    Parameters
    ----------
    name : str
        The model's name (prefix of the stream purposes).
    node_ids : ndarray of uint64
        The sorted node ids.
    group_keys : list of str
        Group keys (each names its event stream).
    group_index : ndarray of int64
        The group of every node (index into ``group_keys``).
    rate_hz : float
        Rate of every unit (Hz).
    p_copy : float
        Copy probability, in (0, 1].
    ctx : Context
        The generation's streams and window.
    """

    def __init__(
        self,
        name: str,
        node_ids: np.ndarray,
        group_keys: list[str],
        group_index: np.ndarray,
        rate_hz: float,
        p_copy: float,
        ctx: Context,
    ) -> None:
        super().__init__(name, node_ids, group_keys, group_index, rate_hz, ctx)
        self.p_copy = p_copy
        self.mother_rate_hz = rate_hz / p_copy

    def _build(self) -> _Events:
        return self._mother_times(self.mother_rate_hz)

    def draw(self, sl: slice) -> tuple[np.ndarray, np.ndarray]:
        """Spikes of nodes ``node_ids[sl]``: each node's copies of its group's mother spikes.

        Parameters
        ----------
        sl : slice
            Consecutive positions into ``node_ids`` (step 1).

        Returns
        -------
        positions : ndarray of int64
            Index into ``node_ids`` (the whole set) of each spike, non-decreasing.
        times_ms : ndarray of float64
            Spike times (ms), sorted within each node: mother spike times, exactly.
        """
        ev = self.events()
        ids, g = self.node_ids[sl], self.group_index[sl]
        keys = self.ctx.node_keys(f"{self.name}:copy", ids)
        rows, index = bernoulli_indices(keys, ev.counts[g], self.p_copy)
        times = ev.times_ms[ev.offsets[g[rows]] + index]
        return rows + (sl.start or 0), times

    def derived(self) -> dict[str, Any]:
        """The mother process, recorded with the provenance.

        Returns
        -------
        dict
            ``mother_rate_hz`` (``rate_hz / p_copy``), ``n_mother_events`` (over all
            groups) and, for 2 to 100 groups, ``n_mother_events_by_group`` (group key ->
            count).
        """
        ev = self.events()
        return {
            "mother_rate_hz": self.mother_rate_hz,
            **self._per_group("n_mother_events", ev.counts.tolist()),
        }


class SIPPlan(_EventPlan):
    """Plan of :class:`SingleInteraction`: background Poisson plus the group's coincidences.

    Parameters
    ----------
    name : str
        The model's name (prefix of the stream purposes).
    node_ids : ndarray of uint64
        The sorted node ids.
    group_keys : list of str
        Group keys (each names its event stream).
    group_index : ndarray of int64
        The group of every node (index into ``group_keys``).
    rate_hz : float
        Rate of every unit (Hz).
    coincidence_rate_hz : float
        Rate of the coincidences (Hz), at most ``rate_hz``.
    coincidences : {'stochastic', 'deterministic', 'regular'}
        How the coincidence times are drawn (see :class:`SingleInteraction`).
    jitter_ms : float
        Half-width of each unit's uniform jitter of each coincidence (ms).
    ctx : Context
        The generation's streams and window.
    """

    def __init__(
        self,
        name: str,
        node_ids: np.ndarray,
        group_keys: list[str],
        group_index: np.ndarray,
        rate_hz: float,
        coincidence_rate_hz: float,
        coincidences: str,
        jitter_ms: float,
        ctx: Context,
    ) -> None:
        super().__init__(name, node_ids, group_keys, group_index, rate_hz, ctx)
        self.coincidence_rate_hz = coincidence_rate_hz
        self.background_hz = rate_hz - coincidence_rate_hz
        self.coincidences = coincidences
        self.jitter_ms = jitter_ms
        self.grid = ProfileGrid(np.array([ctx.tstart_ms, ctx.tstop_ms]), np.ones(1))

    def _build(self) -> _Events:
        if self.coincidences == "stochastic":
            return self._mother_times(self.coincidence_rate_hz)
        ctx = self.ctx
        span = ctx.tstop_ms - ctx.tstart_ms
        mean = self.coincidence_rate_hz * span / 1000.0
        trains = []
        for g in range(len(self.group_keys)):
            rng = self._group_rng(g)
            t: np.ndarray
            if self.coincidences == "deterministic":  # Elephant: a fixed count, uniform times
                t = np.sort(ctx.tstart_ms + span * rng.random(int(round(mean))))
            elif mean > 0:  # regular, with a uniformly random phase
                k = np.arange(int(np.ceil(mean)) + 1)
                t = ctx.tstart_ms + (rng.random() + k) * (span / mean)
                t = t[(t > ctx.tstart_ms) & (t < ctx.tstop_ms)]
            else:
                t = np.zeros(0)
            trains.append(_inside(t, ctx.tstart_ms, ctx.tstop_ms))
        offsets = np.concatenate(([0], np.cumsum([t.size for t in trains]))).astype(np.int64)
        return _Events(np.concatenate(trains), offsets)

    def draw(self, sl: slice) -> tuple[np.ndarray, np.ndarray]:
        """Spikes of nodes ``node_ids[sl]``: own background plus the group's coincidences.

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
        ev = self.events()
        ids, g = self.node_ids[sl], self.group_index[sl]
        keys = self.ctx.node_keys(f"{self.name}:spikes", ids)
        b_rows, b_times = draw_spikes(
            _POISSON, keys, np.full(ids.size, self.background_hz), self.grid
        )
        c_rows, within = _row_index(ev.counts[g])
        c_times = ev.times_ms[ev.offsets[g[c_rows]] + within]
        if self.jitter_ms:  # coincidence k of a unit moves by counter k of its jitter stream
            jitter_keys = self.ctx.node_keys(f"{self.name}:jitter", ids)
            c_rows, c_times = Jitter(self.jitter_ms).apply(
                c_rows, c_times, jitter_keys[c_rows], self.ctx.tstart_ms, self.ctx.tstop_ms
            )
        rows = np.concatenate((b_rows, c_rows))
        times = np.concatenate((b_times, c_times))
        order = node_time_order(rows, times)  # two runs sorted by (row, time)
        return rows[order] + (sl.start or 0), times[order]

    def derived(self) -> dict[str, Any]:
        """The background rate and coincidence counts, recorded with the provenance.

        Returns
        -------
        dict
            ``background_rate_hz`` (``rate_hz - coincidence_rate_hz``),
            ``n_coincidences`` (over all groups) and, for 2 to 100 groups,
            ``n_coincidences_by_group`` (group key -> count).
        """
        ev = self.events()
        return {
            "background_rate_hz": self.background_hz,
            **self._per_group("n_coincidences", ev.counts.tolist()),
        }


class CPPPlan(_EventPlan):
    """Plan of :class:`CompoundPoisson`: a table of (node, time) built once per generation.

    Each group's carrier events, amplitudes and members come from the group's stream; the
    table is kept sorted by node position then time, and a node slice is one
    ``searchsorted`` away. It holds every spike of the population (memory ~16 bytes per
    spike on every rank).

    Parameters
    ----------
    name : str
        The model's name (prefix of the stream purposes).
    node_ids : ndarray of uint64
        The sorted node ids.
    group_keys : list of str
        Group keys (each names its event stream).
    group_index : ndarray of int64
        The group of every node (index into ``group_keys``).
    rate_hz : float
        Rate of every unit (Hz).
    amplitudes : ndarray of float
        The amplitude distribution ``A[0..J]`` (checked, summing to 1, ``J`` at most the
        smallest group's size).
    shift_ms : float
        Half-width of each unit's uniform whole-train shift (ms).
    ctx : Context
        The generation's streams and window.
    """

    def __init__(
        self,
        name: str,
        node_ids: np.ndarray,
        group_keys: list[str],
        group_index: np.ndarray,
        rate_hz: float,
        amplitudes: np.ndarray,
        shift_ms: float,
        ctx: Context,
    ) -> None:
        super().__init__(name, node_ids, group_keys, group_index, rate_hz, ctx)
        self.amplitudes = amplitudes
        self.shift_ms = shift_ms
        self.group_sizes = np.bincount(group_index, minlength=len(self.group_keys))
        mean_amplitude = float(np.dot(np.arange(amplitudes.size), amplitudes))
        self.mean_amplitude = mean_amplitude
        self.carrier_rate_hz = self.group_sizes * rate_hz / mean_amplitude

    def _build(self) -> _Events:
        ctx = self.ctx
        cdf = np.cumsum(self.amplitudes)
        members_of = np.split(
            np.argsort(self.group_index, kind="stable"), np.cumsum(self.group_sizes)[:-1]
        )
        times_parts, size_parts, pos_parts, spike_parts = [], [], [], []
        for g, members in enumerate(members_of):  # members: the group's node positions
            rng = self._group_rng(g)
            t = _poisson_times(rng, self.carrier_rate_hz[g], ctx.tstart_ms, ctx.tstop_ms)
            sizes = np.searchsorted(cdf, rng.random(t.size), side="right")
            np.minimum(sizes, self.amplitudes.size - 1, out=sizes)  # cdf[-1] may round below 1
            event, member = random_subsets(rng, sizes, members.size)
            times_parts.append(t)
            size_parts.append(sizes)
            pos_parts.append(members[member])
            spike_parts.append(t[event])
        pos, spikes = np.concatenate(pos_parts), np.concatenate(spike_parts)
        # times are already sorted within a group; positions below 2**16 sort as uint16,
        # which numpy sorts stably by radix (one pass; the same order as int64 keys)
        keys = pos.astype(np.uint16) if self.node_ids.size <= 1 << 16 else pos
        order = np.argsort(keys, kind="stable")
        offsets = np.concatenate(([0], np.cumsum([t.size for t in times_parts]))).astype(np.int64)
        return _Events(
            np.concatenate(times_parts),
            offsets,
            np.concatenate(size_parts),
            (pos[order], spikes[order]),
        )

    def draw(self, sl: slice) -> tuple[np.ndarray, np.ndarray]:
        """Spikes of nodes ``node_ids[sl]``: their rows of the table, each train shifted.

        Parameters
        ----------
        sl : slice
            Consecutive positions into ``node_ids`` (step 1).

        Returns
        -------
        positions : ndarray of int64
            Index into ``node_ids`` (the whole set) of each spike, non-decreasing.
        times_ms : ndarray of float64
            Spike times (ms), sorted within each node (a shift moves a whole train).
        """
        table = self.events().table
        assert table is not None
        pos, spikes = table
        start, stop, _ = sl.indices(self.node_ids.size)
        lo, hi = np.searchsorted(pos, [start, stop])
        pos, times = pos[lo:hi].copy(), spikes[lo:hi].copy()
        if self.shift_ms:  # each unit's whole train moves by its own U(-shift, shift)
            keys = self.ctx.node_keys(f"{self.name}:shift", self.node_ids[start:stop])
            u = uniform(keys, np.zeros(keys.size, np.uint64), open_zero=False)
            times += ((2.0 * u - 1.0) * self.shift_ms)[pos - start]
            inside = (times > self.ctx.tstart_ms) & (times < self.ctx.tstop_ms)
            pos, times = pos[inside], times[inside]
        return pos, times

    def expected_counts(self) -> np.ndarray:
        """Expected spike count of each node, less what the shift moves out of the window.

        Returns
        -------
        ndarray of float
            ``rate_hz * (T - E[min(|d|, T)])`` for every node, with ``T`` the window (s)
            and ``d`` uniform in ``[-shift_ms, shift_ms]`` (s).
        """
        span_s = self.duration_s
        s = self.shift_ms / 1000.0
        # mean time a uniformly shifted stationary train loses out of the window: E min(|d|, T)
        lost = s / 2.0 if s <= span_s else span_s - span_s**2 / (2.0 * s)
        return np.full(self.node_ids.size, self.rate_hz * (span_s - lost))

    def metadata(self, duration_s: float) -> dict[str, Any]:
        """Per-node arrays, the groups and their events, stored in the file.

        Parameters
        ----------
        duration_s : float
            Length of the window (s).

        Returns
        -------
        dict
            ``node_ids``, ``target_rate_hz`` (expected count / ``duration_s``, Hz),
            ``group_index`` (int32 per node), ``group_keys``, ``event_times_ms`` and
            ``event_group_index`` (every carrier event and its group), ``event_sizes``
            (int32 amplitude of each event) and ``group_sizes`` (int64 units per group).
        """
        data = super().metadata(duration_s)
        data["group_sizes"] = self.group_sizes.astype(np.int64)
        return data

    def derived(self) -> dict[str, Any]:
        """The carrier process, recorded with the provenance.

        Returns
        -------
        dict
            ``mean_amplitude`` (``E[A]``), ``carrier_rate_hz`` for one group or
            ``carrier_rate_hz_by_group`` for 2 to 100 groups (``N * rate_hz / E[A]``),
            ``n_events`` (over all groups) and, for 2 to 100 groups,
            ``n_events_by_group``.
        """
        ev = self.events()
        out: dict[str, Any] = {"mean_amplitude": self.mean_amplitude}
        if len(self.group_keys) == 1:
            out["carrier_rate_hz"] = float(self.carrier_rate_hz[0])
        elif len(self.group_keys) <= _MAX_GROUPS_LISTED:
            out["carrier_rate_hz_by_group"] = dict(
                zip(self.group_keys, self.carrier_rate_hz.tolist(), strict=True)
            )
        out.update(self._per_group("n_events", ev.counts.tolist()))
        return out


# -- models ----------------------------------------------------------------------------------
@dataclass(kw_only=True)
class _SharedEventsModel(InputModel):
    """Base of the synchrony models: ``groups`` and the checks they share."""

    groups: Any = None

    def __post_init__(self) -> None:
        super().__post_init__()
        self._group_by = _parse_groups(self.groups)

    def _groups_of(
        self, units: Units, ctx: Context, rate_hz: float
    ) -> tuple[list[str], np.ndarray]:
        """Check a unit's expected count; return the group keys and each unit's group."""
        _check_expected("a unit", rate_hz * ctx.duration_s, f"rate_hz={rate_hz}")
        return _grouping(units, self._group_by)


@register
@dataclass
class MultipleInteraction(_SharedEventsModel):
    """Multiple interaction process (MIP): units copy spikes of a shared mother process.

    A Poisson mother process at ``rate_hz / p_copy`` per group; each unit copies each
    mother spike independently with probability ``p_copy`` (Kuhn, Aertsen & Rotter 2003;
    NEST's ``mip_generator`` with ``rate = rate_hz / p_copy``). Each unit's train is
    Poisson at ``rate_hz``, and the counts of two units of a group (in any window)
    correlate with coefficient ``p_copy``; all spikes of a unit are mother spikes, to
    the bit.

    Parameters
    ----------
    rate_hz : float
        Rate of each unit (Hz), >= 0.
    p_copy : float
        Copy probability, in (0, 1]; 1 gives every unit the mother train.
    groups : dict, optional
        ``{"by": ATTRIBUTE}``: one independent mother process per attribute value.
    transforms : list of dict, optional
        Spike transforms (e.g. ``[{"jitter_ms": 1.0}]``).

    Raises
    ------
    ValueError
        ``rate_hz`` < 0 or not finite, ``p_copy`` outside (0, 1], bad ``groups``.

    Examples
    --------
    >>> import numpy as np, raster_maker as rm
    >>> res = rm.generate("mip", "sync", np.arange(20), 0.0, 1000.0,
    ...                   params={"rate_hz": 10.0, "p_copy": 0.2}, seed=1)
    >>> res.n_spikes > 0
    True
    """

    name: ClassVar[str] = "mip"
    rate_hz: float = 10.0
    p_copy: float = 0.1

    def __post_init__(self) -> None:
        super().__post_init__()
        self.rate_hz = check_number("rate_hz", self.rate_hz, min_value=0.0, units="Hz")
        self.p_copy = check_number(
            "p_copy", self.p_copy, min_value=0.0, strict_min=True, max_value=1.0
        )

    def plan(self, units: Units, ctx: Context) -> Plan:
        """The MIP plan of ``units``: their groups and the mother rate.

        Parameters
        ----------
        units : Units
            The nodes (with the ``groups`` attribute if grouped).
        ctx : Context
            The generation: seed, population, window, trial and stream namespace.

        Returns
        -------
        MIPPlan
            The plan; the mother spikes are drawn on first use (or in ``prepare``).

        Raises
        ------
        ValueError
            If a unit or a mother process would expect more than 1e8 spikes in the
            window.
        KeyError
            If the ``groups`` attribute is not a node attribute.
        """
        keys, index = self._groups_of(units, ctx, self.rate_hz)
        mother = self.rate_hz / self.p_copy
        _check_expected("a mother process", mother * ctx.duration_s, f"{mother:.6g} Hz")
        return MIPPlan(self.name, units.node_ids, keys, index, self.rate_hz, self.p_copy, ctx)


@register
@dataclass
class SingleInteraction(_SharedEventsModel):
    """Single interaction process (SIP): independent background plus coincidences in all units.

    Each unit fires independent Poisson background spikes at
    ``rate_hz - coincidence_rate_hz`` and, at every coincidence of its group, one spike
    (Kuhn, Aertsen & Rotter 2003; Elephant's ``single_interaction_process``).

    Parameters
    ----------
    rate_hz : float
        Total rate of each unit (Hz), >= ``coincidence_rate_hz``.
    coincidence_rate_hz : float
        Rate of the coincidences (Hz), 0 .. ``rate_hz``.
    coincidences : {'stochastic', 'deterministic', 'regular'}
        ``'stochastic'`` (default): the coincidences are a Poisson process.
        ``'deterministic'`` (Elephant's default): exactly
        ``round(coincidence_rate_hz * duration)`` coincidences at uniformly random times.
        ``'regular'``: one every ``1 / coincidence_rate_hz`` s, with a random phase.
    jitter_ms : float
        Each unit's spike of a coincidence moves by its own uniform offset in
        ``[-jitter_ms, jitter_ms]`` (reflected at the window edges, as the ``jitter_ms``
        transform); 0 for exact coincidences.
    groups : dict, optional
        ``{"by": ATTRIBUTE}``: independent coincidences per attribute value.
    transforms : list of dict, optional
        Spike transforms.

    Raises
    ------
    ValueError
        Negative rates, ``coincidence_rate_hz > rate_hz``, a jitter not shorter than
        the window, an unknown ``coincidences``, bad ``groups``.

    Examples
    --------
    >>> import numpy as np, raster_maker as rm
    >>> res = rm.generate("sip", "sync", np.arange(20), 0.0, 1000.0,
    ...                   params={"rate_hz": 10.0, "coincidence_rate_hz": 2.0}, seed=1)
    >>> res.n_spikes > 0
    True
    """

    name: ClassVar[str] = "sip"
    rate_hz: float = 10.0
    coincidence_rate_hz: float = 1.0
    coincidences: str = "stochastic"
    jitter_ms: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        self.rate_hz = check_number("rate_hz", self.rate_hz, min_value=0.0, units="Hz")
        self.coincidence_rate_hz = check_number(
            "coincidence_rate_hz", self.coincidence_rate_hz, min_value=0.0, units="Hz"
        )
        if self.coincidence_rate_hz > self.rate_hz:
            raise ValueError(
                f"Invalid value for 'coincidence_rate_hz': {self.coincidence_rate_hz} Hz. "
                f"Allowed: 0 .. rate_hz ({self.rate_hz} Hz), as the background fires at "
                "rate_hz - coincidence_rate_hz."
            )
        check_option("coincidences", self.coincidences, COINCIDENCE_KINDS)
        self.jitter_ms = check_number("jitter_ms", self.jitter_ms, min_value=0.0, units="ms")

    def plan(self, units: Units, ctx: Context) -> Plan:
        """The SIP plan of ``units``: their groups, background and coincidence rates.

        Parameters
        ----------
        units : Units
            The nodes (with the ``groups`` attribute if grouped).
        ctx : Context
            The generation: seed, population, window, trial and stream namespace.

        Returns
        -------
        SIPPlan
            The plan; the coincidences are drawn on first use (or in ``prepare``).

        Raises
        ------
        ValueError
            If ``jitter_ms`` is not shorter than the window, or a unit or the
            coincidences would expect more than 1e8 events in it.
        KeyError
            If the ``groups`` attribute is not a node attribute.
        """
        keys, index = self._groups_of(units, ctx, self.rate_hz)
        span = ctx.tstop_ms - ctx.tstart_ms
        if self.jitter_ms >= span:
            raise ValueError(
                f"Invalid value for 'jitter_ms': {self.jitter_ms} ms. Allowed: shorter than "
                f"the window ({span} ms)."
            )
        _check_expected(
            "the coincidences",
            self.coincidence_rate_hz * ctx.duration_s,
            f"coincidence_rate_hz={self.coincidence_rate_hz}",
        )
        return SIPPlan(
            self.name,
            units.node_ids,
            keys,
            index,
            self.rate_hz,
            self.coincidence_rate_hz,
            self.coincidences,
            self.jitter_ms,
            ctx,
        )


@register
@dataclass
class CompoundPoisson(_SharedEventsModel):
    """Compound Poisson process (CPP): events of random size among the units of a group.

    A carrier Poisson process at ``N * rate_hz / E[A]`` per group of ``N`` units; each
    event draws its amplitude ``j`` from ``amplitude_distribution`` (``A[j]``: the
    probability that an event involves exactly ``j`` units, ``j = 0 .. N``) and a
    uniformly random set of ``j`` units of the group, which all spike at the event time
    (Staude, Rotter & Gruen 2010; Elephant's ``compound_poisson_process``). Each unit's
    train is Poisson at ``rate_hz``.

    The members are chosen among the group's nodes, so a unit's train depends on the
    group's whole node set (not on node order, batches, threads or MPI ranks).

    Parameters
    ----------
    rate_hz : float
        Rate of each unit (Hz), >= 0.
    amplitude_distribution : list of float or dict
        ``A`` as a list (``A[0], A[1], ...``; shorter than ``N + 1`` means zeros after)
        or as ``{amplitude: probability}``. Non-negative, summing to 1, ``A[0] < 1``, no
        probability on amplitudes above the group size.
    shift_ms : float
        Each unit's whole train moves by its own uniform offset in
        ``[-shift_ms, shift_ms]``; spikes leaving the window are dropped (Elephant's
        ``shift``, as ``dither_spike_train``). 0 for exact synchrony.
    groups : dict, optional
        ``{"by": ATTRIBUTE}``: an independent CPP per attribute value (``N`` = the
        group's size).
    transforms : list of dict, optional
        Spike transforms.

    Raises
    ------
    ValueError
        Bad ``amplitude_distribution`` (missing, negative, not summing to 1, ``A[0] == 1``,
        amplitudes above a group's size), negative rates or shift, bad ``groups``.

    Examples
    --------
    >>> import numpy as np, raster_maker as rm
    >>> res = rm.generate("cpp", "sync", np.arange(20), 0.0, 1000.0,
    ...                   params={"rate_hz": 10.0, "amplitude_distribution": [0, 0.8, 0, 0.2]},
    ...                   seed=1)
    >>> res.n_spikes > 0
    True
    """

    name: ClassVar[str] = "cpp"
    rate_hz: float = 10.0
    amplitude_distribution: Any = None
    shift_ms: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        self.rate_hz = check_number("rate_hz", self.rate_hz, min_value=0.0, units="Hz")
        self.shift_ms = check_number("shift_ms", self.shift_ms, min_value=0.0, units="ms")
        if isinstance(self.amplitude_distribution, np.ndarray):
            self.amplitude_distribution = self.amplitude_distribution.tolist()
        self._amplitudes = _amplitudes(self.amplitude_distribution)

    def plan(self, units: Units, ctx: Context) -> Plan:
        """The CPP plan of ``units``: their groups, amplitudes and carrier rates.

        Parameters
        ----------
        units : Units
            The nodes (with the ``groups`` attribute if grouped).
        ctx : Context
            The generation: seed, population, window, trial and stream namespace.

        Returns
        -------
        CPPPlan
            The plan; its (node, time) table is built on first use (or in ``prepare``).

        Raises
        ------
        ValueError
            If the amplitude distribution puts probability on events larger than the
            smallest group, or a unit or a carrier process would expect more than 1e8
            events in the window.
        KeyError
            If the ``groups`` attribute is not a node attribute.
        """
        keys, index = self._groups_of(units, ctx, self.rate_hz)
        sizes = np.bincount(index, minlength=len(keys))
        a = self._amplitudes
        small = int(np.argmin(sizes))
        if a.size - 1 > sizes[small]:
            raise ValueError(
                f"Invalid value for 'amplitude_distribution': probability {a[-1]:.6g} for "
                f"events of {a.size - 1} units, but group '{keys[small]}' has only "
                f"{sizes[small]} units. Allowed: amplitudes 0 .. N (at most N + 1 entries), "
                "N = the group's number of units."
            )
        mean_amplitude = float(np.dot(np.arange(a.size), a))
        carrier = float(sizes.max()) * self.rate_hz / mean_amplitude
        _check_expected("a carrier process", carrier * ctx.duration_s, f"{carrier:.6g} Hz")
        return CPPPlan(self.name, units.node_ids, keys, index, self.rate_hz, a, self.shift_ms, ctx)


def _amplitudes(spec: Any) -> np.ndarray:
    """The amplitude distribution as a float array ``A[0..J]`` (``A[J] > 0``), checked."""
    allowed = (
        "Allowed: a list of probabilities A[j] that an event involves j units (j = 0, 1, "
        "...), or a dict {j: probability}; non-negative, summing to 1, with A[0] < 1."
    )
    if spec is None:
        raise ValueError(f"Missing 'amplitude_distribution' for cpp. {allowed}")
    if isinstance(spec, Mapping):
        amps = {}
        for key, prob in spec.items():
            j = int(key) if isinstance(key, str) and key.strip().isdigit() else key
            if isinstance(j, bool) or not isinstance(j, numbers.Integral) or j < 0:
                raise ValueError(
                    f"Invalid amplitude {key!r} in 'amplitude_distribution'. Allowed: "
                    "integers >= 0 (number of units in an event)."
                )
            amps[int(j)] = prob
        a = np.zeros(max(amps, default=-1) + 1)
        for j, prob in amps.items():
            a[j] = _probability(j, prob)
    else:
        if isinstance(spec, (str, bytes)) or not np.iterable(spec):
            raise TypeError(
                f"'amplitude_distribution' must be a list or a dict, got "
                f"{type(spec).__name__} {spec!r}. {allowed}"
            )
        a = np.array([_probability(j, p) for j, p in enumerate(spec)], dtype=np.float64)
    if a.size == 0:
        raise ValueError(f"Invalid value for 'amplitude_distribution': empty. {allowed}")
    total = float(a.sum())
    if abs(total - 1.0) > _SUM_TOLERANCE:
        raise ValueError(
            f"Invalid value for 'amplitude_distribution': it sums to {total:.12g}. {allowed}"
        )
    a = a / total
    if a[0] >= 1.0:
        raise ValueError(
            "Invalid value for 'amplitude_distribution': A[0] = 1, so no event would involve "
            f"any unit. {allowed}"
        )
    return a[: int(np.flatnonzero(a)[-1]) + 1]  # trailing zeros say nothing


def _probability(j: int, value: Any) -> float:
    return check_number(f"amplitude_distribution[{j}]", value, min_value=0.0)
