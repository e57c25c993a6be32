"""Stimulus protocols: assemblies of units driven in turn by bursts, ramps, fades or a schedule.

The generator ``stimulus`` splits the node set into assemblies
(:func:`raster_maker.assemblies.make_assemblies`) and drives them by a protocol in the
style of bmtool's ``bmtool/stimulus`` (``StimulusBuilder`` with ``get_fr_short``,
``get_fr_long``, ``get_fr_ramp``, ``get_fr_join``, ``get_fr_fade``, ``get_fr_loop``).
Times are in ms (bmtool's are in s) and rates are absolute Hz: every unit of an assembly
fires at the assembly's scheduled rate.

Every pattern is a **schedule**: rows ``(assembly, start_ms, stop_ms, from_hz, to_hz)``,
linear from ``from_hz`` to ``to_hz`` on ``[start_ms, stop_ms)``; an assembly outside its
rows is at ``silent_hz``. One function per pattern writes its rows and one function turns
rows into exact piecewise-linear rates (:class:`ScheduleGrid`), so a pattern and the same
rows given as ``pattern="schedule"`` give identical spikes.

Time is cut into cycles: an on-period of ``on_ms`` starting at ``start_ms + c (on_ms +
off_ms)`` for cycle ``c = 0, 1, ...``, then an off-period of ``off_ms`` at ``silent_hz``.
The assemblies take turns in ``assembly_order`` (default: all, in order); assemblies that
are not driven during an on-period are at ``off_hz``. The patterns, against bmtool's
(``firing_rate=(off_rate, burst_fr, silent_rate)`` is ``(off_hz, burst_hz, silent_hz)``):

``"short"`` (``get_fr_short``)
    In every on-period each assembly bursts in turn: the on-period is cut into
    ``ceil(n_rounds * k)`` equal slots (``k`` assemblies in the order), slot ``j`` belongs
    to the assembly at position ``j % k``; ``burst_hz`` in its slots, ``off_hz`` in the
    others. A fractional ``n_rounds`` gives some assemblies one burst more.
``"long"`` (``get_fr_long``)
    Cycle ``c`` drives assembly ``order[c % k]`` at ``burst_hz`` for the whole on-period.
``"ramp"`` (``get_fr_ramp``)
    As ``"long"``, but the driven assembly holds ``ramp_start_hz`` until ``ramp_on_ms``,
    rises (or falls) linearly to ``ramp_end_hz`` at ``ramp_off_ms`` and holds it to the
    end of the on-period (offsets from the on-period start).
``"join"`` / ``"quit"`` (``get_fr_join``, ``quit=True``)
    As ``"long"``, but the driven assembly's units are split into ``n_steps`` sub-groups
    (each unit's step from its own stream, so about ``1 / n_steps`` of the units each).
    Join: step ``s`` is at ``silent_hz`` until offset ``ramp_on_ms + s * dt`` and at
    ``burst_hz`` after it (``dt = (ramp_off_ms - ramp_on_ms) / n_steps``), so the share
    of driven units grows from ``1 / n_steps`` to 1. Quit: step ``s`` is at ``burst_hz``
    until offset ``ramp_on_ms + (n_steps - 1 - s) dt`` and at ``silent_hz`` after it.
``"fade"`` (``get_fr_fade``)
    Cycle ``c`` drives the pair ``order[2p], order[2p + 1]``, ``p = c % (k // 2)``: the first
    fades out (``fade_out_start_hz`` -> ``fade_out_end_hz``), the second fades in
    (``fade_in_start_hz`` -> ``fade_in_end_hz``), linearly between ``ramp_on_ms`` and
    ``ramp_off_ms``, each holding its end rates before and after. With an odd ``k`` the
    last assembly of the order is never part of a pair (as in bmtool).
``"loop"`` (``get_fr_loop``)
    Cycle ``c`` drives ``order[c % k]`` with the rates ``loop_rates_hz`` at the offsets
    ``loop_times_ms`` (linear between them, held before the first and after the last);
    bmtool's ``firing_rate[1:]`` at ``on_times`` (with 0 first), its ``firing_rate[0]``
    being our ``silent_hz`` and ``off_hz`` both, its ``on_times[-1]`` our ``on_ms``.
``"schedule"``
    The rows themselves (``schedule``), as dicts ``{"assembly": name or index,
    "start_ms": .., "stop_ms": .., "rate_hz": r}`` or with ``"from_hz"``/``"to_hz"`` for a
    linear row; optional ``"step"`` (a join sub-group; then ``n_steps`` sub-groups) and
    ``"epoch"``.

Differences from bmtool: the default number of cycles counts every on-period that ends
by ``tstop`` (bmtool's ``get_stim_cycle``, used by its ``get_fr_loop``; its other patterns
count only whole on+off cycles, ``(t_stop - t_start) // (on + off)``: pass ``n_cycles`` to
get those); units in no assembly (``p_in < 1``) are at ``silent_hz`` throughout (bmtool
gives them no spikes: the same with ``silent_hz=0``); join/quit sub-groups are drawn per
unit, not dealt; bmtool clips ramp offsets that leave the on-period, here that is an error.

Each label of the schedule (``epoch``) says what the rate is: ``"silent"`` (``silent_hz``:
before the first on-period, off-periods, join steps not yet joined, quit steps that
quit), ``"off"`` (``off_hz``: assemblies not driven in an on-period), ``"burst"`` (a
driven assembly at a constant rate) and ``"ramp"`` (a driven assembly at a linearly
changing rate).
"""

from __future__ import annotations

import logging
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import numpy as np
import pandas as pd

from . import streams
from ._check import check_int, check_number, check_option
from .assemblies import METHODS, Assemblies, make_assemblies
from .models import RateModel, Units
from .plans import Block, Context
from .registry import register
from .traces import PiecewiseLinearGrid, check_trace

__all__ = [
    "PATTERNS",
    "EPOCHS",
    "Stimulus",
    "StimulusSchedule",
    "ScheduleGrid",
    "schedule_table",
    "assembly_table",
]

#: The stimulus protocols (:class:`Stimulus` ``pattern``).
PATTERNS = ("short", "long", "ramp", "join", "quit", "fade", "loop", "schedule")
#: The labels of schedule rows (``epoch``; see the module docstring).
EPOCHS = ("silent", "off", "burst", "ramp")
_ROW_KEYS = ("assembly", "start_ms", "stop_ms", "rate_hz", "from_hz", "to_hz", "step", "epoch")
_MAX_CYCLES = 100_000  # cycles overlapping the window; more is a tiny on_ms + off_ms by mistake


class _Row(NamedTuple):
    """One schedule row: assembly position, join step (None: every step), times, rates."""

    assembly: int
    step: int | None
    start_ms: float
    stop_ms: float
    from_hz: float
    to_hz: float
    epoch: str
    source: int = -1  # index in the 'schedule' parameter (-1: written by a pattern)


# --------------------------------------------------------------------------------------
# the rate of one group: piecewise linear with steps
# --------------------------------------------------------------------------------------
class ScheduleGrid(PiecewiseLinearGrid):
    """The rate of one group of units: contiguous linear rows, steps allowed between rows.

    A :class:`~raster_maker.traces.PiecewiseLinearGrid` whose knot times may repeat once
    (a step from one row's end rate to the next row's start rate), so its integral,
    inversion and bin means are exact for schedules with on/off steps. Rows that meet with
    equal rates share one knot.

    Parameters
    ----------
    start_ms, stop_ms : array-like of float
        The rows, contiguous (``start_ms[i + 1] == stop_ms[i]``) and of positive length;
        they span the window ``[start_ms[0], stop_ms[-1])``.
    from_hz, to_hz : array-like of float
        Rate at the start and at the end of each row (Hz, finite, >= 0).

    Raises
    ------
    ValueError
        If the rows are empty, not contiguous, of zero length, or a rate is negative or not
        finite.

    Examples
    --------
    >>> g = ScheduleGrid([0.0, 100.0, 300.0], [100.0, 300.0, 400.0],
    ...                  [0.0, 50.0, 10.0], [0.0, 50.0, 30.0])
    >>> g.total  # 0.2 s at 50 Hz + 0.1 s at 20 Hz on average
    12.0
    >>> float(g.invert(np.array([5.0]))[0])
    200.0
    """

    def __init__(self, start_ms: Any, stop_ms: Any, from_hz: Any, to_hz: Any) -> None:
        start, stop = (np.asarray(x, dtype=np.float64).reshape(-1) for x in (start_ms, stop_ms))
        r0, r1 = (np.asarray(x, dtype=np.float64).reshape(-1) for x in (from_hz, to_hz))
        if not start.size or not (start.size == stop.size == r0.size == r1.size):
            raise ValueError(
                f"A schedule grid needs rows of equal length, got {start.size} starts, "
                f"{stop.size} stops, {r0.size} from_hz and {r1.size} to_hz."
            )
        if not (np.all(stop > start) and np.array_equal(start[1:], stop[:-1])):
            raise ValueError(
                "Invalid schedule grid rows: they must be contiguous (each starts where the "
                "one before stops) and of positive length."
            )
        bad = ~(np.isfinite(r0) & np.isfinite(r1) & (r0 >= 0) & (r1 >= 0))
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"Invalid rate in schedule row {j}: {r0[j]} -> {r1[j]} Hz. Allowed: finite "
                "rates >= 0 Hz."
            )
        t = np.empty(2 * start.size)
        z = np.empty(2 * start.size)
        t[0::2], t[1::2] = start, stop
        z[0::2], z[1::2] = r0, r1
        keep = np.ones(t.size, dtype=bool)
        keep[2::2] = r0[1:] != r1[:-1]  # a row continuing at the same rate needs no new knot
        self._set_knots(t[keep], z[keep])  # a repeated time is a step between rows

    def __repr__(self) -> str:
        return (
            f"ScheduleGrid({self._t.size} knots on [{self.tstart:g}, {self.tstop:g}) ms, "
            f"peak {self.peak:g} Hz)"
        )


# --------------------------------------------------------------------------------------
# the schedule of one generation
# --------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class StimulusSchedule:
    """The assemblies and the complete schedule of one stimulus generation.

    Groups are the units sharing one rate: one per assembly, or one per (assembly, join
    step) when the protocol has steps, then ``"none"`` for units in no assembly (if any).
    The schedule rows cover the window ``[tstart_ms, tstop_ms)`` for every group, sorted
    by group then time.

    Parameters
    ----------
    assemblies : Assemblies
        The assemblies of the node set.
    step : numpy.ndarray
        ``int64`` per node: the unit's join step, or -1 (no steps, or in no assembly).
    group : numpy.ndarray
        ``int64`` per node: the unit's group.
    group_keys : list of str
        The assembly name, ``"name/step k"`` or ``"none"`` of each group.
    group_assembly : list of str or None
        Assembly name of each group (None for ``"none"``).
    group_step : list of int or None
        Join step of each group (None if the protocol has no steps, or for ``"none"``).
    rows : dict of str to numpy.ndarray
        ``group``, ``start_ms``, ``stop_ms``, ``from_hz``, ``to_hz``, ``epoch``.
    n_cycles : int
        Cycles of the protocol (0 for an explicit schedule).
    start_ms : float or None
        Start of the first on-period (None for an explicit schedule).
    """

    assemblies: Assemblies
    step: np.ndarray
    group: np.ndarray
    group_keys: list[str]
    group_assembly: list[str | None]
    group_step: list[int | None]
    rows: dict[str, np.ndarray]
    n_cycles: int
    start_ms: float | None

    @property
    def n_groups(self) -> int:
        """Number of groups."""
        return len(self.group_keys)

    def table(self) -> pd.DataFrame:
        """The schedule as a table, one row per (group, time interval).

        Returns
        -------
        pandas.DataFrame
            Columns ``group`` (int), ``key``, ``assembly`` (name, None for units in no
            assembly), ``step`` (int or None), ``start_ms``, ``stop_ms``, ``from_hz``,
            ``to_hz``, ``epoch``. The rows of the assemblies (``assembly`` not None), without
            ``group`` and ``key``, are a valid ``schedule`` parameter that reproduces them.
        """
        g = self.rows["group"]
        names = np.asarray(self.group_assembly, dtype=object)
        steps = np.asarray(self.group_step, dtype=object)
        keys = np.asarray(self.group_keys, dtype=object)
        return pd.DataFrame(
            {
                "group": g,
                "key": keys[g],
                "assembly": names[g],
                "step": steps[g],
                "start_ms": self.rows["start_ms"],
                "stop_ms": self.rows["stop_ms"],
                "from_hz": self.rows["from_hz"],
                "to_hz": self.rows["to_hz"],
                "epoch": self.rows["epoch"],
            }
        )

    def grids(self) -> list[ScheduleGrid]:
        """The exact rate of each group (one :class:`ScheduleGrid` per group).

        Returns
        -------
        list of ScheduleGrid
            In group order: each group's rows as a piecewise-linear rate (Hz).
        """
        bounds = np.searchsorted(self.rows["group"], np.arange(self.n_groups + 1))
        r = self.rows
        return [
            ScheduleGrid(r["start_ms"][a:b], r["stop_ms"][a:b], r["from_hz"][a:b], r["to_hz"][a:b])
            for a, b in zip(bounds[:-1], bounds[1:], strict=True)
        ]

    def metadata(self) -> dict[str, np.ndarray]:
        """Arrays for the output file: the assemblies, each unit's step and the schedule.

        Returns
        -------
        dict of str to numpy.ndarray
            :meth:`~raster_maker.assemblies.Assemblies.to_metadata`
            (``assembly_node_ids``, ``assembly_index``, ``assembly_names``,
            ``assembly_params``), ``assembly_step`` (per node, -1 for
            none) and the schedule rows ``schedule_group`` (the block index, as
            ``group_index``), ``schedule_start_ms``, ``schedule_stop_ms``,
            ``schedule_from_hz``, ``schedule_to_hz``, ``schedule_epoch``.
        """
        out = self.assemblies.to_metadata()
        out["assembly_step"] = self.step.copy()
        for key in ("group", "start_ms", "stop_ms", "from_hz", "to_hz"):
            out[f"schedule_{key}"] = self.rows[key].copy()
        out["schedule_epoch"] = np.asarray(self.rows["epoch"], dtype=object)
        return out


# --------------------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------------------
@register
@dataclass
class Stimulus(RateModel):
    """Assemblies driven by a stimulus protocol (bmtool's patterns, or an explicit schedule).

    See the module docstring for each pattern and how it maps to bmtool. Every unit of a
    group fires at the group's scheduled rate (absolute Hz, rate scale 1).

    Parameters
    ----------
    assemblies : dict
        How to split the node set (:func:`~raster_maker.assemblies.make_assemblies`), e.g.
        ``{"method": "random", "n": 9}`` or ``{"method": "by_attribute", "attribute":
        "pulse_group_id"}``. The split is network-level: trials share it.
    pattern : {'short', 'long', 'ramp', 'join', 'quit', 'fade', 'loop', 'schedule'}
        The protocol (default ``'long'``).
    start_ms : float, optional
        Absolute time (ms) of the first on-period; before it every group is at
        ``silent_hz``. Default: the start of the window.
    on_ms, off_ms : float
        Length of the on-period (> 0) and of the off-period (>= 0) of a cycle (ms);
        default 1000 and 500 (bmtool's 1 s and 0.5 s).
    n_cycles : int, optional
        Number of cycles; default: every on-period that ends by the end of the window.
    burst_hz : float
        Rate of a driven assembly (default 50 Hz).
    off_hz : float
        Rate of the assemblies not driven during an on-period (default 0 Hz).
    silent_hz : float
        Rate before ``start_ms``, in off-periods and outside the rows of a schedule
        (default 0 Hz).
    assembly_order : list of str or int, optional
        The assemblies that take turns, in turn order (names or indices; bmtool's
        ``assembly_index``); the others are at ``off_hz`` in every on-period. Default: all,
        in order.
    n_rounds : float
        ``'short'``: bursts of each assembly per on-period (> 0, may be fractional).
    ramp_start_hz, ramp_end_hz : float, optional
        ``'ramp'``: rates at the start and end of the ramp (default ``off_hz`` and
        ``burst_hz``).
    ramp_on_ms, ramp_off_ms : float, optional
        ``'ramp'``, ``'join'``, ``'quit'``, ``'fade'``: offsets from the on-period start
        where the ramp (recruitment, fade) starts and ends, ``0 <= ramp_on_ms <= ramp_off_ms
        <= on_ms`` (default 0 and ``on_ms``).
    n_steps : int
        ``'join'``, ``'quit'`` (and a schedule with ``step`` rows): sub-groups per
        assembly (default 20, as bmtool).
    fade_out_start_hz, fade_out_end_hz, fade_in_start_hz, fade_in_end_hz : float, optional
        ``'fade'``: bmtool's 4-tuple ``firing_rate``; default ``burst_hz -> off_hz`` for the
        assembly fading out and ``off_hz -> burst_hz`` for the one fading in.
    loop_times_ms, loop_rates_hz : list of float, optional
        ``'loop'``: knot offsets in ``[0, on_ms]`` (strictly increasing; default
        ``[0, on_ms]``) and the driven assembly's rate at each (default ``burst_hz``; if
        only the rates are given, the knots are evenly spaced over the on-period).
    schedule : list of dict, optional
        ``'schedule'``: the rows, ``{"assembly": name or index, "start_ms": t0, "stop_ms":
        t1, "rate_hz": r}`` or with ``"from_hz"`` and ``"to_hz"`` (linear from ``t0`` to
        ``t1``); optional ``"step"`` (join sub-group ``0 .. n_steps - 1``; rows without it
        apply to every step) and ``"epoch"`` (default ``"burst"``, or ``"ramp"`` when
        ``from_hz != to_hz``). Rows of one assembly (and step) must not overlap; rows may
        leave the window (they are clipped). A :meth:`StimulusSchedule.table` of the
        assemblies' rows (a DataFrame) is accepted too.
    process : {'poisson', 'binned', 'gamma'}
        Spike process (see :class:`~raster_maker.processes.SpikeProcess`).
    refractory_ms : float
        Absolute refractory period (ms), 0 for none.
    order : int
        Gamma order (``process='gamma'``).
    dt_ms : float
        Bin width of the ``'binned'`` process (ms); the scheduled rates themselves are
        exact (piecewise linear), not put on a grid.
    transforms : list of dict, optional
        Spike transforms applied in order to every node's train
        (``[{"jitter_ms": 2}, {"keep": 0.5}, {"shift_ms": 5}]``; see
        :mod:`raster_maker.transforms`).

    Raises
    ------
    ValueError
        For an unknown pattern (the message lists them), a negative rate, ``on_ms <= 0``,
        ramp offsets outside the on-period, loop knots outside it or not increasing, schedule
        rows whose times do not increase, that overlap or name no assembly, an assembly
        order naming an unknown assembly, an empty assembly or more assemblies than units
        (see :func:`~raster_maker.assemblies.make_assemblies`).
    KeyError
        For an assembly attribute the population lacks.
    TypeError
        For parameters of the wrong type.

    Examples
    --------
    >>> import numpy as np, raster_maker as rm, raster_maker.stimulus
    >>> res = rm.generate("stimulus", "thalamus", np.arange(90), 0.0, 3000.0,
    ...                   params={"assemblies": {"method": "random", "n": 3},
    ...                           "pattern": "long", "on_ms": 500, "off_ms": 250},
    ...                   seed=1)
    >>> res.n_spikes > 0
    True
    """

    name: ClassVar[str] = "stimulus"
    assemblies: Any = None
    pattern: str = "long"
    start_ms: float | None = None
    on_ms: float = 1000.0
    off_ms: float = 500.0
    n_cycles: int | None = None
    burst_hz: float = 50.0
    off_hz: float = 0.0
    silent_hz: float = 0.0
    assembly_order: Any = None
    n_rounds: float = 1.0
    ramp_start_hz: float | None = None
    ramp_end_hz: float | None = None
    ramp_on_ms: float = 0.0
    ramp_off_ms: float | None = None
    n_steps: int = 20
    fade_out_start_hz: float | None = None
    fade_out_end_hz: float | None = None
    fade_in_start_hz: float | None = None
    fade_in_end_hz: float | None = None
    loop_times_ms: Any = None
    loop_rates_hz: Any = None
    schedule: Any = None

    def __post_init__(self) -> None:
        super().__post_init__()
        self._check_assemblies()
        check_option("pattern", self.pattern, PATTERNS)
        if self.start_ms is not None:
            self.start_ms = check_number("start_ms", self.start_ms, units="ms")
        self.on_ms = check_number("on_ms", self.on_ms, min_value=0.0, strict_min=True, units="ms")
        self.off_ms = check_number("off_ms", self.off_ms, min_value=0.0, units="ms")
        if self.n_cycles is not None:
            self.n_cycles = check_int("n_cycles", self.n_cycles, min_value=1)
        for key in ("burst_hz", "off_hz", "silent_hz"):
            setattr(self, key, check_number(key, getattr(self, key), min_value=0.0, units="Hz"))
        self.n_rounds = check_number("n_rounds", self.n_rounds, min_value=0.0, strict_min=True)
        self.n_steps = check_int("n_steps", self.n_steps, min_value=1)
        self._extra_hz = {  # the optional rates, with their defaults
            "ramp_start_hz": self.off_hz,
            "ramp_end_hz": self.burst_hz,
            "fade_out_start_hz": self.burst_hz,
            "fade_out_end_hz": self.off_hz,
            "fade_in_start_hz": self.off_hz,
            "fade_in_end_hz": self.burst_hz,
        }
        for key in list(self._extra_hz):
            value = getattr(self, key)
            if value is not None:
                self._extra_hz[key] = check_number(key, value, min_value=0.0, units="Hz")
        self._ramp = self._check_ramp()
        self._loop = self._check_loop()
        self._order = self._check_order()
        self._rows = self._check_schedule()
        self._last: tuple[Any, Context, StimulusSchedule] | None = None

    # -- checks ----------------------------------------------------------------------
    def _check_assemblies(self) -> None:
        spec = self.assemblies
        if not isinstance(spec, Mapping):
            raise ValueError(
                f"Missing or invalid 'assemblies' for generator 'stimulus': {spec!r}. Allowed: "
                'a dict such as {"method": "random", "n": 9} (methods: '
                f"{', '.join(METHODS)})."
            )
        check_option("assemblies['method']", spec.get("method"), METHODS)

    def _check_ramp(self) -> tuple[float, float]:
        on = self.on_ms
        ramp_on = check_number("ramp_on_ms", self.ramp_on_ms, units="ms")
        ramp_off = on if self.ramp_off_ms is None else self.ramp_off_ms
        ramp_off = check_number("ramp_off_ms", ramp_off, units="ms")
        for key, value in (("ramp_on_ms", ramp_on), ("ramp_off_ms", ramp_off)):
            if not 0.0 <= value <= on or ramp_on > ramp_off:
                raise ValueError(
                    f"Invalid value for '{key}': {value} ms (ramp_on_ms={ramp_on}, "
                    f"ramp_off_ms={ramp_off}). Allowed: offsets inside the on-period, "
                    f"0 <= ramp_on_ms <= ramp_off_ms <= on_ms ({on} ms)."
                )
        return ramp_on, ramp_off

    def _check_loop(self) -> tuple[np.ndarray, np.ndarray]:
        times, rates = self.loop_times_ms, self.loop_rates_hz
        if times is None and rates is None:
            times = [0.0, self.on_ms]
        if rates is None:
            rates = np.full(np.size(times), self.burst_hz)
        if times is None:
            n = np.size(rates)
            times = np.linspace(0.0, self.on_ms, n) if n > 1 else [0.0]
        t, r = check_trace(times, rates, "loop_times_ms", "loop_rates_hz")
        if t[0] < 0.0 or t[-1] > self.on_ms:
            raise ValueError(
                f"Invalid value in 'loop_times_ms': knots from {t[0]:g} to {t[-1]:g} ms. "
                f"Allowed: offsets inside the on-period, 0 .. on_ms ({self.on_ms:g} ms)."
            )
        return t, r

    def _check_order(self) -> list[str | int] | None:
        order = self.assembly_order
        if order is None:
            return None
        if self.pattern == "schedule":
            raise ValueError(
                f"Invalid value for 'assembly_order' with pattern='schedule': {order!r}. "
                "Allowed: None (the rows name their assemblies)."
            )
        if isinstance(order, (str, bytes)) or not isinstance(order, Sequence) or not order:
            raise ValueError(
                f"Invalid value for 'assembly_order': {order!r}. Allowed: a non-empty list of "
                "assembly names or indices."
            )
        for i, ref in enumerate(order):
            _check_ref(f"assembly_order[{i}]", ref)
        return list(order)

    def _check_schedule(self) -> list[_Row]:
        rows = self.schedule
        if self.pattern != "schedule":
            if rows is not None:
                raise ValueError(
                    f"Invalid value for 'schedule' with pattern={self.pattern!r}. Allowed: "
                    "None (the rows are only used with pattern='schedule')."
                )
            return []
        if isinstance(rows, pd.DataFrame):
            rows = rows.drop(columns=[c for c in ("group", "key") if c in rows.columns])
            rows = [
                {k: v for k, v in r.items() if v is not None and not _is_na(v)}
                for r in rows.to_dict("records")
            ]
            self.schedule = rows
        if isinstance(rows, (str, bytes, Mapping)) or not isinstance(rows, Sequence) or not rows:
            raise ValueError(
                f"Invalid value for 'schedule': {rows!r}. Allowed: a non-empty list of rows "
                '{"assembly": name or index, "start_ms": t0, "stop_ms": t1, "rate_hz": r} '
                "(or with 'from_hz' and 'to_hz')."
            )
        return [_check_row(i, row, self.n_steps) for i, row in enumerate(rows)]

    # -- the protocol ----------------------------------------------------------------
    def uses_steps(self) -> bool:
        """Whether each assembly is split into ``n_steps`` sub-groups.

        Returns
        -------
        bool
            True for the patterns ``'join'`` and ``'quit'`` and for a schedule with
            ``step`` rows.
        """
        return self.pattern in ("join", "quit") or any(r.step is not None for r in self._rows)

    def cycles(self, tstart_ms: float, tstop_ms: float) -> tuple[list[tuple[int, float]], int]:
        """The on-periods of the protocol that overlap the window.

        Parameters
        ----------
        tstart_ms, tstop_ms : float
            The window (ms).

        Returns
        -------
        cycles : list of (int, float)
            ``(c, t0)``: cycle index and on-period start (ms), for the cycles overlapping
            the window.
        n_cycles : int
            All cycles of the protocol (``n_cycles``, or those whose on-period ends by
            ``tstop_ms``).
        """
        start = tstart_ms if self.start_ms is None else self.start_ms
        on, period = self.on_ms, self.on_ms + self.off_ms
        n = self.n_cycles
        if n is None:
            n = max(0, int(np.floor((tstop_ms - start + self.off_ms) / period + 1e-9)))
        first = max(0, int(np.floor((tstart_ms - start - on) / period)))
        last = min(n, max(0, int(np.ceil((tstop_ms - start) / period))))
        if last - first > _MAX_CYCLES:
            raise ValueError(
                f"Invalid value for 'on_ms' + 'off_ms': {period:g} ms makes {last - first} "
                f"cycles in the window [{tstart_ms:g}, {tstop_ms:g}) ms. Allowed: at most "
                f"{_MAX_CYCLES} cycles."
            )
        return [(c, start + c * period) for c in range(first, last)], n

    def schedule_for(
        self,
        units: Units,
        tstart_ms: float,
        tstop_ms: float,
        seed: int,
        ctx: Context | None = None,
    ) -> StimulusSchedule:
        """The assemblies and the complete schedule of a generation.

        Parameters
        ----------
        units : Units
            The node set (with attributes for assemblies by attribute or grid).
        tstart_ms, tstop_ms : float
            The window (ms).
        seed : int
            Root seed (the assemblies and join steps are network-level draws).
        ctx : Context, optional
            The generation's streams (default: the plain streams of ``seed``).

        Returns
        -------
        StimulusSchedule
        """
        ctx = ctx if ctx is not None else Context(seed, units.population, tstart_ms, tstop_ms)
        last = self._last
        if last is not None and last[0] is units and last[1] == ctx:
            return last[2]
        asm = make_assemblies(
            self.assemblies,
            units.population,
            units.node_ids,
            units.attributes,
            seed=ctx.seed,
            purpose=ctx.purpose(f"{self.name}:assemblies", per_trial=False),
        )
        if self.pattern == "schedule":
            rows = [r._replace(assembly=_position(asm, r.assembly, r.source)) for r in self._rows]
            n_cycles, start = 0, None
        else:
            cycles, n_cycles = self.cycles(tstart_ms, tstop_ms)
            if not cycles:
                logging.getLogger("raster_maker").warning(
                    "stimulus: no on-period of %g ms (starting at %s ms, every %g ms) ends in "
                    "the window [%g, %g) ms, so every assembly stays at silent_hz; shorten "
                    "on_ms or start_ms, or give n_cycles",
                    self.on_ms,
                    tstart_ms if self.start_ms is None else self.start_ms,
                    self.on_ms + self.off_ms,
                    tstart_ms,
                    tstop_ms,
                )
            rows = _PATTERNS[self.pattern](self, self._positions(asm), asm.n, cycles)
            start = tstart_ms if self.start_ms is None else self.start_ms
        n_steps = self.n_steps if self.uses_steps() else 0
        per = max(n_steps, 1)  # groups per assembly
        step = np.full(units.node_ids.size, -1, dtype=np.int64)
        if n_steps:
            keys = ctx.node_keys(f"{self.name}:join_step", units.node_ids, per_trial=False)
            u = streams.uniform(keys, np.zeros(keys.size, np.uint64), open_zero=False)
            drawn = np.minimum((u * n_steps).astype(np.int64), n_steps - 1)
            step = np.where(asm.index >= 0, drawn, -1)
        n_groups = asm.n * per
        group = np.where(asm.index >= 0, asm.index * per + np.maximum(step, 0), n_groups)
        names: list[str | None] = [name for name in asm.names for _ in range(per)]
        steps: list[int | None] = [s if n_steps else None for _ in asm.names for s in range(per)]
        keys_ = [f"{n}/step {s}" if n_steps else n for n in asm.names for s in range(per)]
        if (asm.index < 0).any():
            n_groups += 1
            names, steps, keys_ = [*names, None], [*steps, None], [*keys_, "none"]
        table = _fill(rows, asm, n_steps, n_groups, tstart_ms, tstop_ms, self.silent_hz)
        sched = StimulusSchedule(asm, step, group, keys_, names, steps, table, n_cycles, start)
        self._last = (units, ctx, sched)
        return sched

    def _positions(self, asm: Assemblies) -> list[int]:
        if self._order is None:
            return list(range(asm.n))
        order = [
            _position(asm, ref, -1, f"assembly_order[{i}]") for i, ref in enumerate(self._order)
        ]
        if len(set(order)) != len(order):
            raise ValueError(
                f"Invalid value for 'assembly_order': {self._order!r} names an assembly twice. "
                "Allowed: each assembly at most once."
            )
        if self.pattern == "fade" and len(order) < 2:
            raise ValueError(
                f"Invalid value for 'assembly_order': {self._order!r}. Allowed: at least 2 "
                "assemblies for pattern 'fade' (it drives pairs)."
            )
        return order

    def blocks(self, units, tstart_ms, tstop_ms, seed, ctx=None):
        """One block per group of the schedule, at the group's exact scheduled rate.

        Parameters
        ----------
        units : Units
            The node set (with attributes for assemblies by attribute or grid).
        tstart_ms, tstop_ms : float
            The window (ms).
        seed : int
            Root seed.
        ctx : Context, optional
            The generation's streams (default: the plain streams of ``seed``).

        Yields
        ------
        Block
            The units of one group (rate scale 1, so the grid's rates are in Hz), keyed
            by the group key, in group order (see :class:`StimulusSchedule`).
        """
        sched = self.schedule_for(units, tstart_ms, tstop_ms, seed, ctx)
        members = np.argsort(sched.group, kind="stable")
        bounds = np.cumsum(np.bincount(sched.group, minlength=sched.n_groups))[:-1]
        for g, (sel, grid) in enumerate(zip(np.split(members, bounds), sched.grids(), strict=True)):
            yield Block(units.node_ids[sel], np.ones(sel.size), grid, key=sched.group_keys[g])

    def extra_metadata(self, units: Units, ctx: Context) -> dict[str, Any]:
        """The assemblies, join steps and schedule rows, for the output file.

        Parameters
        ----------
        units : Units
            The node set.
        ctx : Context
            The generation.

        Returns
        -------
        dict of str to numpy.ndarray
            :meth:`StimulusSchedule.metadata` of the generation's schedule.
        """
        return self.schedule_for(units, ctx.tstart_ms, ctx.tstop_ms, ctx.seed, ctx).metadata()

    def derived(self, units: Units, ctx: Context) -> dict[str, Any]:
        """What the protocol resolved to, recorded with the provenance.

        Parameters
        ----------
        units : Units
            The node set.
        ctx : Context
            The generation.

        Returns
        -------
        dict
            ``n_assemblies``, ``assembly_sizes`` (name -> number of units),
            ``n_unassigned`` (units in no assembly), ``n_cycles`` (0 for an explicit
            schedule) and ``start_ms`` (start of the first on-period, None for an
            explicit schedule).
        """
        sched = self.schedule_for(units, ctx.tstart_ms, ctx.tstop_ms, ctx.seed, ctx)
        asm = sched.assemblies
        return {
            "n_assemblies": asm.n,
            "assembly_sizes": dict(zip(asm.names, asm.sizes().tolist(), strict=True)),
            "n_unassigned": int((asm.index < 0).sum()),
            "n_cycles": sched.n_cycles,
            "start_ms": sched.start_ms,
        }

    def as_schedule(
        self, units: Units, tstart_ms: float, tstop_ms: float, seed: int, ctx: Context | None = None
    ) -> Stimulus:
        """The same protocol written out as ``pattern='schedule'`` (identical spikes).

        Parameters
        ----------
        units : Units
            The node set.
        tstart_ms, tstop_ms : float
            The window (ms).
        seed : int
            Root seed.
        ctx : Context, optional
            The generation's streams (default: the plain streams of ``seed``).

        Returns
        -------
        Stimulus
            Same assemblies, rates and spike process, with the rows of the assemblies.
        """
        table = self.schedule_for(units, tstart_ms, tstop_ms, seed, ctx).table()
        params = self.params()
        for key in ("name", "pattern", "schedule", "assembly_order", "start_ms", "n_cycles"):
            params.pop(key, None)
        return Stimulus(**params, pattern="schedule", schedule=table[table["assembly"].notna()])


# --------------------------------------------------------------------------------------
# schedule rows: checks and lookups
# --------------------------------------------------------------------------------------
def _is_na(value: Any) -> bool:
    return isinstance(value, float) and np.isnan(value)


def _check_ref(what: str, ref: Any) -> None:
    if isinstance(ref, bool) or not isinstance(ref, (str, numbers.Integral)):
        raise TypeError(f"'{what}' must be an assembly name (str) or index (int), got {ref!r}.")


def _position(asm: Assemblies, ref: Any, source: int, what: str | None = None) -> int:
    """The position of assembly ``ref`` (a name or an index) in ``asm``."""
    what = what or f"schedule[{source}].assembly"
    if isinstance(ref, str):
        if ref in asm.names:
            return asm.names.index(ref)
    elif 0 <= int(ref) < asm.n:
        return int(ref)
    shown = ", ".join(repr(n) for n in asm.names[:10]) + (", ..." if asm.n > 10 else "")
    raise ValueError(
        f"Invalid value for '{what}': {ref!r} is not an assembly. Allowed: a name "
        f"({shown}) or an index 0 .. {asm.n - 1}."
    )


def _check_row(i: int, row: Any, n_steps: int) -> _Row:
    where = f"schedule[{i}]"
    if not isinstance(row, Mapping):
        raise TypeError(f"'{where}' must be a dict, got {type(row).__name__} {row!r}.")
    unknown = [k for k in row if k not in _ROW_KEYS]
    missing = [k for k in ("assembly", "start_ms", "stop_ms") if k not in row]
    if unknown or missing:
        raise ValueError(
            f"Invalid '{where}': {dict(row)!r} ("
            + (f"unknown key(s) {', '.join(map(repr, unknown))}" if unknown else "")
            + ("; " if unknown and missing else "")
            + (f"missing {', '.join(map(repr, missing))}" if missing else "")
            + f"). Allowed keys: {', '.join(_ROW_KEYS)}."
        )
    _check_ref(f"{where}.assembly", row["assembly"])
    start = check_number(f"{where}.start_ms", row["start_ms"], units="ms")
    stop = check_number(f"{where}.stop_ms", row["stop_ms"], units="ms")
    if stop <= start:
        raise ValueError(
            f"Invalid times in '{where}': start_ms={start:g}, stop_ms={stop:g}. Allowed: "
            "stop_ms > start_ms."
        )
    has_rate, has_ramp = "rate_hz" in row, ("from_hz" in row, "to_hz" in row)
    if has_rate == any(has_ramp) or (any(has_ramp) and not all(has_ramp)):
        raise ValueError(
            f"Invalid '{where}': {dict(row)!r}. Allowed: either 'rate_hz' or both 'from_hz' "
            "and 'to_hz'."
        )
    if has_rate:
        r0 = r1 = check_number(f"{where}.rate_hz", row["rate_hz"], min_value=0.0, units="Hz")
    else:
        r0 = check_number(f"{where}.from_hz", row["from_hz"], min_value=0.0, units="Hz")
        r1 = check_number(f"{where}.to_hz", row["to_hz"], min_value=0.0, units="Hz")
    step = row.get("step")
    if step is not None:
        step = check_int(f"{where}.step", step, min_value=0)
        if step >= n_steps:
            raise ValueError(
                f"Invalid value for '{where}.step': {step}. Allowed: 0 .. {n_steps - 1} "
                f"(n_steps={n_steps})."
            )
    epoch = row.get("epoch") or ("burst" if r0 == r1 else "ramp")
    check_option(f"{where}.epoch", epoch, EPOCHS)
    ref = row["assembly"] if isinstance(row["assembly"], str) else int(row["assembly"])
    return _Row(ref, step, start, stop, r0, r1, epoch, i)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------
# patterns: each returns the rows of the on-periods
# --------------------------------------------------------------------------------------
def _row(a: int, t0: float, t1: float, rate: float, epoch: str, step: int | None = None) -> _Row:
    return _Row(a, step, t0, t1, rate, rate, epoch)


def _background(n: int, busy: set[int], t0: float, t1: float, rate: float) -> list[_Row]:
    """``off_hz`` rows of the assemblies not driven in the on-period ``[t0, t1)``."""
    return [_row(a, t0, t1, rate, "off") for a in range(n) if a not in busy]


def _driven(a: int, t0: float, on: float, times: Sequence[float], rates: Sequence[float]):
    """Rows of a driven assembly over the on-period ``[t0, t0 + on)``: ``rates`` at the knot
    offsets ``times``, linear in between, held before the first knot and after the last."""
    t = [0.0, *times, on]
    r = [rates[0], *rates, rates[-1]]
    return [
        _Row(
            a,
            None,
            t0 + t[i],
            t0 + t[i + 1],
            r[i],
            r[i + 1],
            "burst" if r[i] == r[i + 1] else "ramp",
        )
        for i in range(len(t) - 1)
        if t[i + 1] > t[i]
    ]


def _short(m: Stimulus, order: list[int], n: int, cycles) -> list[_Row]:
    k = len(order)
    n_bursts = int(np.ceil(m.n_rounds * k - 1e-9))
    n_rounds = int(np.ceil(m.n_rounds - 1e-9))
    rows: list[_Row] = []
    for _, t0 in cycles:
        t1 = t0 + m.on_ms
        edges = [t0 + m.on_ms * j / n_bursts for j in range(n_bursts)] + [t1]
        for p, a in enumerate(order):
            cursor = t0
            for j in (r * k + p for r in range(n_rounds) if r * k + p < n_bursts):
                if edges[j] > cursor:
                    rows.append(_row(a, cursor, edges[j], m.off_hz, "off"))
                rows.append(_row(a, edges[j], edges[j + 1], m.burst_hz, "burst"))
                cursor = edges[j + 1]
            if cursor < t1:
                rows.append(_row(a, cursor, t1, m.off_hz, "off"))
        rows += _background(n, set(order), t0, t1, m.off_hz)
    return rows


def _long(m: Stimulus, order: list[int], n: int, cycles) -> list[_Row]:
    return _one_per_cycle(m, order, n, cycles, [0.0], [m.burst_hz])


def _ramp(m: Stimulus, order: list[int], n: int, cycles) -> list[_Row]:
    rates = [m._extra_hz["ramp_start_hz"], m._extra_hz["ramp_end_hz"]]
    return _one_per_cycle(m, order, n, cycles, list(m._ramp), rates)


def _loop(m: Stimulus, order: list[int], n: int, cycles) -> list[_Row]:
    return _one_per_cycle(m, order, n, cycles, m._loop[0].tolist(), m._loop[1].tolist())


def _one_per_cycle(m, order, n, cycles, times, rates) -> list[_Row]:
    rows: list[_Row] = []
    for c, t0 in cycles:
        a = order[c % len(order)]
        rows += _driven(a, t0, m.on_ms, times, rates)
        rows += _background(n, {a}, t0, t0 + m.on_ms, m.off_hz)
    return rows


def _join(m: Stimulus, order: list[int], n: int, cycles) -> list[_Row]:
    ramp_on, ramp_off = m._ramp
    offsets = np.linspace(ramp_on, ramp_off, m.n_steps, endpoint=False)
    quit_ = m.pattern == "quit"
    if quit_:
        offsets = offsets[::-1]
    first, then = ("burst", "silent") if quit_ else ("silent", "burst")
    rate = {"burst": m.burst_hz, "silent": m.silent_hz}
    rows: list[_Row] = []
    for c, t0 in cycles:
        a, t1 = order[c % len(order)], t0 + m.on_ms
        for s, d in enumerate(offsets.tolist()):
            ts = t0 + d
            if ts > t0:
                rows.append(_row(a, t0, ts, rate[first], first, s))
            if ts < t1:
                rows.append(_row(a, ts, t1, rate[then], then, s))
        rows += _background(n, {a}, t0, t1, m.off_hz)
    return rows


def _fade(m: Stimulus, order: list[int], n: int, cycles) -> list[_Row]:
    if len(order) < 2:
        raise ValueError(
            f"Pattern 'fade' drives pairs of assemblies, but there is {len(order)}. Allowed: "
            "at least 2 assemblies (in 'assemblies' and 'assembly_order')."
        )
    r = m._extra_hz
    out_rates = [r["fade_out_start_hz"], r["fade_out_end_hz"]]
    in_rates = [r["fade_in_start_hz"], r["fade_in_end_hz"]]
    rows: list[_Row] = []
    for c, t0 in cycles:
        p = c % (len(order) // 2)
        a_out, a_in = order[2 * p], order[2 * p + 1]
        rows += _driven(a_out, t0, m.on_ms, list(m._ramp), out_rates)
        rows += _driven(a_in, t0, m.on_ms, list(m._ramp), in_rates)
        rows += _background(n, {a_out, a_in}, t0, t0 + m.on_ms, m.off_hz)
    return rows


_PATTERNS = {
    "short": _short,
    "long": _long,
    "ramp": _ramp,
    "join": _join,
    "quit": _join,
    "fade": _fade,
    "loop": _loop,
}


# --------------------------------------------------------------------------------------
# rows -> the complete schedule of every group
# --------------------------------------------------------------------------------------
def _fill(
    rows: list[_Row],
    asm: Assemblies,
    n_steps: int,
    n_groups: int,
    tstart: float,
    tstop: float,
    silent_hz: float,
) -> dict[str, np.ndarray]:
    """Rows per group, checked for overlaps, clipped to the window, gaps at ``silent_hz``."""
    a = np.array([r.assembly for r in rows], dtype=np.int64)
    step = np.array([-1 if r.step is None else r.step for r in rows], dtype=np.int64)
    start = np.array([r.start_ms for r in rows], dtype=np.float64)
    stop = np.array([r.stop_ms for r in rows], dtype=np.float64)
    r0 = np.array([r.from_hz for r in rows], dtype=np.float64)
    r1 = np.array([r.to_hz for r in rows], dtype=np.float64)
    epoch = np.array([r.epoch for r in rows], dtype=object)
    idx = np.arange(len(rows))
    if n_steps:  # a row without a step applies to every step of its assembly
        rep = np.where(step < 0, n_steps, 1)
        idx = np.repeat(idx, rep)
        within = np.arange(idx.size) - np.repeat(np.cumsum(rep) - rep, rep)
        group = a[idx] * n_steps + np.where(step[idx] < 0, within, step[idx])
    else:
        group = a[idx]
    order = np.lexsort((start[idx], group))
    idx, group = idx[order], group[order]
    _check_overlaps(rows, idx, group, asm, n_steps)
    start, stop, r0, r1, epoch = start[idx], stop[idx], r0[idx], r1[idx], epoch[idx]
    inside = (stop > tstart) & (start < tstop)
    group, epoch = group[inside], epoch[inside]
    start, stop, r0, r1 = start[inside], stop[inside], r0[inside], r1[inside]
    slope = (r1 - r0) / (stop - start)
    s, e = np.maximum(start, tstart), np.minimum(stop, tstop)
    r0, r1 = (
        np.where(start < s, r0 + slope * (s - start), r0),
        np.where(stop > e, r0 + slope * (e - start), r1),
    )
    # gaps: before a group's first row, between rows, after its last, and groups with none
    first = np.ones(group.size, dtype=bool)
    first[1:] = group[1:] != group[:-1]
    prev = np.empty_like(s)
    prev[1:] = e[:-1]
    prev[first] = tstart
    last = np.ones(group.size, dtype=bool)
    last[:-1] = first[1:]
    empty = np.setdiff1d(np.arange(n_groups), group)
    gap = s > prev
    tail = last & (e < tstop)
    gs = np.concatenate((group[gap], group[tail], empty))
    g0 = np.concatenate((prev[gap], e[tail], np.full(empty.size, tstart)))
    g1 = np.concatenate((s[gap], np.full(int(tail.sum()), tstop), np.full(empty.size, tstop)))
    silent = np.full(gs.size, silent_hz)
    out = {
        "group": np.concatenate((group, gs)),
        "start_ms": np.concatenate((s, g0)),
        "stop_ms": np.concatenate((e, g1)),
        "from_hz": np.concatenate((r0, silent)),
        "to_hz": np.concatenate((r1, silent)),
        "epoch": np.concatenate((epoch, np.full(gs.size, "silent", dtype=object))),
    }
    order = np.lexsort((out["start_ms"], out["group"]))
    return {k: v[order] for k, v in out.items()}


def _check_overlaps(rows, idx, group, asm: Assemblies, n_steps: int) -> None:
    start = np.array([rows[i].start_ms for i in idx])
    stop = np.array([rows[i].stop_ms for i in idx])
    bad = np.flatnonzero((group[1:] == group[:-1]) & (stop[:-1] > start[1:]))
    if not bad.size:
        return
    i, j = rows[idx[bad[0]]], rows[idx[bad[0] + 1]]
    g = int(group[bad[0]])
    name = asm.names[g // n_steps if n_steps else g]
    which = f" (step {g % n_steps})" if n_steps else ""
    where = (
        f" (rows {i.source} and {j.source} of 'schedule')" if min(i.source, j.source) >= 0 else ""
    )
    raise ValueError(
        f"Overlapping schedule rows for assembly {name!r}{which}: [{i.start_ms:g}, "
        f"{i.stop_ms:g}) ms and [{j.start_ms:g}, {j.stop_ms:g}) ms{where}. Allowed: rows of "
        "one assembly (and step) that do not overlap in time."
    )


# --------------------------------------------------------------------------------------
# tables from the API
# --------------------------------------------------------------------------------------
def _as_model(model: Stimulus | Mapping[str, Any]) -> Stimulus:
    if isinstance(model, Stimulus):
        return model
    if isinstance(model, Mapping):
        return Stimulus(**model)
    raise TypeError(
        f"'model' must be a Stimulus or a dict of its parameters, got {type(model).__name__}."
    )


def _as_units(units: Any) -> Units:
    if isinstance(units, Units):
        return units
    return Units(units.population, units.node_ids, getattr(units, "attributes", None))


def schedule_table(
    model: Stimulus | Mapping[str, Any],
    units: Any,
    tstart_ms: float,
    tstop_ms: float,
    seed: int,
    *,
    namespace: str = "",
) -> pd.DataFrame:
    """The scheduled rate of every assembly (and join step) over a window.

    Parameters
    ----------
    model : Stimulus or dict
        The stimulus, or its parameters.
    units : Units or NodeSet
        The node set (population, node ids and attributes).
    tstart_ms, tstop_ms : float
        The window (ms).
    seed : int
        The generation's seed (assemblies and join steps depend on it).
    namespace : str, optional
        The stream prefix when the stimulus is a layer (``"layer1/"`` for layer 1 of a
        ``layers`` input).

    Returns
    -------
    pandas.DataFrame
        See :meth:`StimulusSchedule.table`: ``group``, ``key``, ``assembly``, ``step``,
        ``start_ms``, ``stop_ms``, ``from_hz``, ``to_hz``, ``epoch``, covering the window
        for every group.

    Examples
    --------
    >>> import numpy as np
    >>> from raster_maker.models import Units
    >>> t = schedule_table({"assemblies": {"method": "random", "n": 2}, "on_ms": 100,
    ...                     "off_ms": 50}, Units("p", np.arange(20)), 0.0, 300.0, seed=1)
    >>> t[t.assembly == "1"][["start_ms", "stop_ms", "from_hz", "epoch"]].values.tolist()
    [[0.0, 100.0, 0.0, 'off'], [100.0, 150.0, 0.0, 'silent'], [150.0, 250.0, 50.0, 'burst'], [250.0, 300.0, 0.0, 'silent']]
    """  # noqa: E501
    units = _as_units(units)
    ctx = Context(seed, units.population, float(tstart_ms), float(tstop_ms), namespace=namespace)
    return _as_model(model).schedule_for(units, ctx.tstart_ms, ctx.tstop_ms, seed, ctx).table()


def assembly_table(
    model: Stimulus | Mapping[str, Any], units: Any, seed: int, *, namespace: str = ""
) -> pd.DataFrame:
    """Which units are in which assembly (and join step).

    Parameters
    ----------
    model : Stimulus or dict
        The stimulus, or its parameters.
    units : Units or NodeSet
        The node set.
    seed : int
        The generation's seed.
    namespace : str, optional
        The stream prefix when the stimulus is a layer (``"layer1/"``).

    Returns
    -------
    pandas.DataFrame
        One row per member: ``node_id`` (uint64), ``assembly`` (name), and ``step`` (int)
        when the protocol splits assemblies into join steps.

    Examples
    --------
    >>> import numpy as np
    >>> from raster_maker.models import Units
    >>> t = assembly_table({"assemblies": {"method": "random", "n": 3}},
    ...                    Units("p", np.arange(30)), seed=1)
    >>> sorted(t.assembly.unique())
    ['0', '1', '2']
    """
    model, units = _as_model(model), _as_units(units)
    ctx = Context(seed, units.population, 0.0, 1.0, namespace=namespace)
    sched = model.schedule_for(units, 0.0, 1.0, seed, ctx)
    table = sched.assemblies.table()
    if model.uses_steps():
        table["step"] = sched.step[sched.assemblies.index >= 0]
    return table
