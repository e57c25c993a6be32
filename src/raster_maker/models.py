"""Input models: named generators that turn a node set and a time window into spikes.

Every model turns the units and a :class:`~raster_maker.plans.Context` into a
:class:`~raster_maker.plans.Plan`, which :mod:`raster_maker.generate` draws node by
node. The model kinds:

- rate models (:class:`RateModel`): blocks of units sharing one rate profile times a
  per-unit scale, drawn by an exact spike process (``poisson``, ``functional_groups``,
  ``shifted_inhibition``, ``rhythmic``, ``stimulus``, ``correlated``);
- layers (:mod:`raster_maker.layers`): the superposition of other models;
- shared spike events (:mod:`raster_maker.synchrony`: ``mip``, ``sip``, ``cpp``);
- replay (:mod:`raster_maker.replay`): recorded trains mapped onto the nodes.

Every model takes ``transforms`` (:mod:`raster_maker.transforms`). Models are built from
JSON-able keyword arguments, so the same parameters work from Python, the command line
and a BMTK simulation config. See :mod:`raster_maker.registry` to add your own.
"""

from __future__ import annotations

import dataclasses
import inspect
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ._check import attribute_rows, check_int, check_number
from ._parallel import thread_map
from .plans import Block, BlockPlan, Context, Plan, TransformedPlan
from .processes import SpikeProcess
from .profiles import Constant, FollowSpikes, PinkNoise, Profile, ProfileGrid, Sinusoid
from .rates import (
    RateDistribution,
    as_rate_distribution,
    attribute_labels,
    levy_exp,
    truncated_normal,
)
from .registry import register
from .transforms import parse_transforms

__all__ = [
    "Units",
    "Block",
    "Context",
    "InputModel",
    "RateModel",
    "Poisson",
    "FunctionalGroups",
    "ShiftedInhibition",
    "Rhythmic",
]


@dataclass(frozen=True)
class Units:
    """The units a model generates for: one population's node ids (+ attributes).

    Parameters
    ----------
    population : str
        Population name (non-empty).
    node_ids : array_like of int
        Node ids (non-negative, no duplicates, at least one); stored sorted as uint64.
    attributes : pandas.DataFrame, optional
        Node attributes (columns) indexed by node id, holding at least these nodes;
        needed by models that group or set rates by attribute.

    Raises
    ------
    ValueError
        If the population name is empty, or ``node_ids`` is empty, not 1-D, not
        non-negative integers or has duplicates.
    """

    population: str
    node_ids: np.ndarray
    attributes: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.population, str) or not self.population:
            raise ValueError(
                f"Invalid population {self.population!r}. Allowed: a non-empty string."
            )
        ids = np.asarray(self.node_ids)
        if ids.ndim != 1:
            raise ValueError(f"'node_ids' must be 1-D, got shape {ids.shape}.")
        if ids.size == 0:
            raise ValueError(
                f"Empty node set for population '{self.population}': nothing to generate."
            )
        if ids.dtype.kind not in "ui" or (ids.dtype.kind == "i" and ids.min() < 0):
            raise ValueError(f"'node_ids' must be non-negative integers, got {ids[:5]!r}...")
        ids = ids.astype(np.uint64)
        if ids.size > 1 and np.all(ids[1:] > ids[:-1]):  # already sorted and unique (common)
            uniq = ids
        else:
            uniq = np.unique(ids)
            if uniq.size != ids.size:
                raise ValueError(
                    f"'node_ids' of population '{self.population}' contain duplicates."
                )
        object.__setattr__(self, "node_ids", uniq)

    def attribute(self, name: str) -> np.ndarray:
        """The values of node attribute ``name``, aligned with ``node_ids``.

        Parameters
        ----------
        name : str
            A column of ``attributes``.

        Returns
        -------
        ndarray
            One value per node, in ``node_ids`` order.

        Raises
        ------
        KeyError
            If there is no such attribute (the message lists the available ones).
        ValueError
            If the attributes' index is not one row per node id.
        """
        attrs = self.attributes
        if attrs is None or name not in attrs.columns:
            have = [] if attrs is None else list(attrs.columns)
            raise KeyError(
                f"No node attribute '{name}' in population '{self.population}'; attributes: "
                f"{', '.join(map(str, have)) or 'none'}."
            )
        pos = attribute_rows(attrs, self.node_ids, self.population)
        return attrs[name].to_numpy()[pos]


@dataclass(kw_only=True)
class InputModel:
    """Base class of every model kind.

    Subclasses set ``name`` and implement :meth:`plan`.

    Parameters
    ----------
    transforms : list of dict, optional
        Spike transforms applied in order to every node's train
        (``[{"jitter_ms": 2}, {"keep": 0.5}, {"shift_ms": 5}]``; see
        :mod:`raster_maker.transforms`).
    """

    name: ClassVar[str] = ""
    transforms: Any = None

    def __post_init__(self) -> None:
        self._transforms = parse_transforms(self.transforms)

    def plan(self, units: Units, ctx: Context) -> Plan:
        """The model's plan for ``units`` (without its transforms).

        Subclasses implement it; :meth:`~raster_maker.models.InputModel.build_plan`
        adds the transforms.

        Parameters
        ----------
        units : Units
            The nodes to generate for (population, sorted node ids, attributes).
        ctx : Context
            The generation: seed, population, window, trial and stream namespace.

        Returns
        -------
        Plan
            The spikes to draw, over ``units.node_ids``.
        """
        raise NotImplementedError

    def build_plan(self, units: Units, ctx: Context) -> Plan:
        """:meth:`plan` with the model's ``transforms`` applied.

        Parameters
        ----------
        units : Units
            The nodes to generate for.
        ctx : Context
            The generation; the transforms draw from ``ctx.sub(name + ":")``.

        Returns
        -------
        Plan
            :meth:`plan`'s plan, wrapped in a
            :class:`~raster_maker.plans.TransformedPlan` when the model has transforms.
        """
        plan = self.plan(units, ctx)
        if self._transforms:
            plan = TransformedPlan(plan, self._transforms, ctx.sub(f"{self.name}:"))
        return plan

    def params(self) -> dict[str, Any]:
        """JSON-able parameters (recorded in output files).

        Returns
        -------
        dict
            Every dataclass field by name (``transforms`` only when there are any);
            profiles and distributions as their own ``params()``, arrays as
            ``{"array_len": n}``, numpy scalars as Python numbers.
        """
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            val = getattr(self, f.name)
            if f.name == "transforms":
                if self._transforms:
                    out["transforms"] = [t.params() for t in self._transforms]
                continue
            out[f.name] = _jsonable(val)
        return out


# blocks(), extra_metadata() and derived() of one plan may pass results through the model
# object (e.g. a solved amplitude): plans of rate models are made one at a time (planning
# is cheap next to drawing, which runs in parallel)
_PLAN_LOCK = threading.RLock()


@dataclass(kw_only=True)
class RateModel(InputModel):
    """Base class of rate models: blocks of units sharing a profile, drawn by time rescaling.

    Subclasses implement :meth:`blocks`. Common parameters:

    Parameters
    ----------
    process : {'poisson', 'binned', 'gamma'}
        Spike process (see :class:`~raster_maker.processes.SpikeProcess`).
    refractory_ms : float
        Absolute refractory period (ms), 0 for none.
    order : int
        Gamma order (``process='gamma'``).
    dt_ms : float
        Time grid of the rate profiles (ms), default 1.
    transforms : list of dict, optional
        Spike transforms applied in order to every node's train
        (``[{"jitter_ms": 2}, {"keep": 0.5}, {"shift_ms": 5}]``; see
        :mod:`raster_maker.transforms`).

    Raises
    ------
    ValueError
        If the process parameters are invalid (unknown process, negative refractory
        period, ``order`` > 1 without ``process='gamma'``, a refractory period with
        ``'gamma'``, ``dt_ms`` <= 0) or a transform is.
    TypeError
        If a number is not one.
    """

    process: str = "poisson"
    refractory_ms: float = 0.0
    order: int = 1
    dt_ms: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        self.spike_process = SpikeProcess(self.process, self.refractory_ms, self.order, self.dt_ms)

    def blocks(
        self, units: Units, tstart_ms: float, tstop_ms: float, seed: int, ctx: Context | None = None
    ) -> Iterator[Block]:
        """Yield the blocks of units sharing a profile.

        ``ctx`` (the streams of this generation) is None when called on its own; models
        then use the plain streams of ``(seed, population)``.

        Parameters
        ----------
        units : Units
            The nodes to generate for.
        tstart_ms, tstop_ms : float
            The generation window (ms).
        seed : int
            Root seed.
        ctx : Context, optional
            The generation's streams (trial, namespace); None for the plain streams of
            ``(seed, units.population)``.

        Yields
        ------
        Block
            Units sharing one evaluated profile with their rate scales (Hz); together
            the blocks hold every unit exactly once.
        """
        raise NotImplementedError

    def plan(self, units: Units, ctx: Context) -> Plan:
        """A :class:`~raster_maker.plans.BlockPlan` of the model's :meth:`blocks`.

        The spikes of node ``n`` come from the stream of purpose ``"<name>:spikes"``;
        :meth:`extra_metadata` and :meth:`derived` are called after :meth:`blocks`.

        Parameters
        ----------
        units : Units
            The nodes to generate for.
        ctx : Context
            The generation: seed, population, window, trial and stream namespace.

        Returns
        -------
        BlockPlan
            The blocks, drawn with the model's spike process.
        """
        with _PLAN_LOCK:  # blocks/extra_metadata/derived may pass results via the model
            if "ctx" in inspect.signature(self.blocks).parameters:
                blocks = self.blocks(units, ctx.tstart_ms, ctx.tstop_ms, ctx.seed, ctx=ctx)
            else:  # a third-party model written before contexts existed
                blocks = self.blocks(units, ctx.tstart_ms, ctx.tstop_ms, ctx.seed)
            purpose = f"{self.name}:spikes"
            return BlockPlan(
                units.node_ids,
                list(blocks),
                self.spike_process,
                lambda ids: ctx.node_keys(purpose, ids),
                extra_metadata=self.extra_metadata(units, ctx),
                derived=self.derived(units, ctx),
            )

    def extra_metadata(self, units: Units, ctx: Context) -> dict[str, Any]:
        """More arrays for the file's metadata, called after :meth:`blocks` (none by default).

        Parameters
        ----------
        units : Units
            The nodes generated for.
        ctx : Context
            The generation.

        Returns
        -------
        dict
            Name -> array aligned with ``units.node_ids`` (or per group), stored under
            ``/raster_maker/<population>/``; empty here.
        """
        return {}

    def derived(self, units: Units, ctx: Context) -> dict[str, Any]:
        """Quantities solved while planning, recorded with the provenance.

        Called after :meth:`blocks`; none by default.

        Parameters
        ----------
        units : Units
            The nodes generated for.
        ctx : Context
            The generation.

        Returns
        -------
        dict
            JSON-able values, recorded as the ``raster_maker_derived`` attribute; empty
            here.
        """
        return {}

    def _rates(
        self, dist: RateDistribution, units: Units, seed: int, ctx: Context | None = None
    ) -> np.ndarray:
        """Per-unit rate scales (Hz) from this model's own rate streams."""
        ctx = ctx or Context(seed, units.population, 0.0, 1.0)
        purpose = ctx.purpose(f"{self.name}:rate", per_trial=False)
        return dist.draw(
            seed, units.population, units.node_ids, purpose, attributes=units.attributes
        )

    def _all_units(self, units: Units, grid, dist, seed: int, ctx=None) -> Iterator[Block]:
        """The one block of models whose units all share ``grid``."""
        yield Block(units.node_ids, self._rates(dist, units, seed, ctx), grid)


def _jsonable(val: Any) -> Any:
    if hasattr(val, "params") and callable(val.params) and not isinstance(val, type):
        return val.params()
    if isinstance(val, np.ndarray):
        return {"array_len": int(val.size)}
    if isinstance(val, dict):
        return {k: _jsonable(v) for k, v in val.items()}
    if isinstance(val, (list, tuple)):
        return [_jsonable(v) for v in val]
    if isinstance(val, np.generic):
        return val.item()
    return val


def _ctx(units: Units, tstart, tstop, seed, ctx: Context | None) -> Context:
    return ctx if ctx is not None else Context(seed, units.population, tstart, tstop)


def _grid(profile: Profile, ctx: Context, dt, *key) -> ProfileGrid:
    return profile.evaluate(ctx.tstart_ms, ctx.tstop_ms, dt, ctx.rng("profile", *key))


@register
@dataclass
class Poisson(RateModel):
    """Poisson trains at a constant or profile-driven rate for all units.

    Parameters
    ----------
    rate_hz : float, dict or RateDistribution
        Per-unit mean rate: a number (Hz), a preset dict (``{"preset": "levy_exp"}``) or a
        distribution.
    profile : Profile or dict, optional
        Shared modulation (dimensionless, multiplies ``rate_hz``); default constant 1. From
        a config, a rate trace in BMTK's own form: ``{"firing_rate": [...], "times":
        [... s]}`` or ``{"firing_rate": [...], "times_ms": [...]}`` (piecewise linear, drawn
        exactly; see :class:`~raster_maker.traces.RateTrace`), with ``rate_hz: 1`` to take
        the trace's values as Hz.
    process : {'poisson', 'binned', 'gamma'}
        Spike process (see :class:`~raster_maker.processes.SpikeProcess`).
    refractory_ms : float
        Absolute refractory period (ms), 0 for none.
    order : int
        Gamma order (``process='gamma'``).
    dt_ms : float
        Time grid of the rate profiles (ms), default 1.
    transforms : list of dict, optional
        Spike transforms applied in order to every node's train
        (``[{"jitter_ms": 2}, {"keep": 0.5}, {"shift_ms": 5}]``; see
        :mod:`raster_maker.transforms`).

    Raises
    ------
    TypeError
        If ``profile`` is neither a :class:`~raster_maker.profiles.Profile` nor a trace dict.
    ValueError
        If ``rate_hz`` or a process parameter is invalid.

    Examples
    --------
    >>> import raster_maker
    >>> res = raster_maker.generate("poisson", "exc", range(10), 0.0, 1000.0,
    ...                             params={"rate_hz": 5.0}, seed=1)
    >>> res.n_spikes > 0
    True
    """

    name: ClassVar[str] = "poisson"
    rate_hz: Any = 10.0
    profile: Any = None

    def __post_init__(self) -> None:
        super().__post_init__()
        self.rate_hz = as_rate_distribution(self.rate_hz)
        if self.profile is None:
            self.profile = Constant(1.0)
        if isinstance(self.profile, dict):  # BMTK's firing_rate + times form, from a config
            from .traces import RateTrace

            self.profile = RateTrace.from_dict(self.profile)
        if not isinstance(self.profile, Profile):
            raise TypeError(
                f"'profile' must be a raster_maker Profile or a rate trace dict "
                f'({{"firing_rate": [...], "times": [...]}}), got {type(self.profile).__name__}.'
            )

    def blocks(self, units, tstart_ms, tstop_ms, seed, ctx=None):
        """One block: every unit, sharing the evaluated ``profile``.

        Parameters
        ----------
        units : Units
            The nodes to generate for.
        tstart_ms, tstop_ms : float
            The generation window (ms).
        seed : int
            Root seed.
        ctx : Context, optional
            The generation's streams; None for the plain streams of
            ``(seed, units.population)``.

        Returns
        -------
        iterator of Block
            The one block, with each unit's rate drawn from ``rate_hz`` (per-unit
            streams that trials share).
        """
        ctx = _ctx(units, tstart_ms, tstop_ms, seed, ctx)
        grid = _grid(self.profile, ctx, self.dt_ms, "all")
        return self._all_units(units, grid, self.rate_hz, seed, ctx)


@register
@dataclass
class FunctionalGroups(RateModel):
    """The original recipe: units in functional groups, each group sharing one 1/f noise profile.

    Parameters
    ----------
    group_size : int
        Units per group when grouping by node order (default 100; the last group may be
        smaller).
    group_by : str, optional
        A node attribute whose values define the groups instead of node order.
    rates : number, dict or RateDistribution
        Per-unit mean-rate scale; default the original excitatory preset
        ``levy_exp()`` (exp of a levy-stable, scipy S1).
    exponent : float
        Spectral exponent of the groups' 1/f noise, ``S(f) ~ 1/f^exponent`` (default 1;
        ``noise_method='original'`` allows only 1); see
        :class:`~raster_maker.profiles.PinkNoise`.
    noise_method : {'original', 'fft'}
        ``'original'``: the original raster_maker's 1/f filter; ``'fft'``: spectral
        shaping on the grid itself (any exponent).
    normalize : {'original', 'mean'}
        Normalisation of the noise profile, as :class:`~raster_maker.profiles.PinkNoise`'s
        ``normalize`` (``'original'``: min-max plus 0.5, as the original).
    process : {'poisson', 'binned', 'gamma'}
        Spike process (see :class:`~raster_maker.processes.SpikeProcess`).
    refractory_ms : float
        Absolute refractory period (ms), 0 for none.
    order : int
        Gamma order (``process='gamma'``).
    dt_ms : float
        Time grid of the rate profiles (ms), default 1.
    transforms : list of dict, optional
        Spike transforms applied in order to every node's train
        (``[{"jitter_ms": 2}, {"keep": 0.5}, {"shift_ms": 5}]``; see
        :mod:`raster_maker.transforms`).

    Raises
    ------
    ValueError
        If ``group_size`` < 1, or the rates, noise or process parameters are invalid.
    """

    name: ClassVar[str] = "functional_groups"
    group_size: int = 100
    group_by: str | None = None
    rates: Any = field(default_factory=levy_exp)
    exponent: float = 1.0
    noise_method: str = "original"
    normalize: str = "original"

    def __post_init__(self) -> None:
        super().__post_init__()
        self.group_size = check_int("group_size", self.group_size, min_value=1)
        self.rates = as_rate_distribution(self.rates)
        self.noise = PinkNoise(self.exponent, self.noise_method, self.normalize)

    def group_keys(self, units: Units) -> np.ndarray:
        """The group key (a string) of every unit.

        Parameters
        ----------
        units : Units
            The nodes.

        Returns
        -------
        ndarray of str
            Aligned with ``units.node_ids``: the value of attribute ``group_by`` as a
            string, or without ``group_by`` the group number ``position // group_size``.

        Raises
        ------
        KeyError
            If ``group_by`` is not a node attribute (the message lists those there are).
        """
        if self.group_by is None:
            return (np.arange(units.node_ids.size) // self.group_size).astype(str)
        attrs = units.attributes
        if attrs is None or self.group_by not in attrs.columns:
            have = [] if attrs is None else list(attrs.columns)
            raise KeyError(
                f"Cannot group by '{self.group_by}': no such node attribute in population "
                f"'{units.population}'; attributes: {', '.join(map(str, have)) or 'none'}."
            )
        return attribute_labels(units.attribute(self.group_by))

    def blocks(self, units, tstart_ms, tstop_ms, seed, ctx=None):
        """One block per functional group, each with its own 1/f noise profile.

        Parameters
        ----------
        units : Units
            The nodes to generate for.
        tstart_ms, tstop_ms : float
            The generation window (ms).
        seed : int
            Root seed.
        ctx : Context, optional
            The generation's streams; None for the plain streams of
            ``(seed, units.population)``.

        Yields
        ------
        Block
            The units of one group (in node order) with their rates from ``rates``,
            keyed by the group key; groups in order of their first unit. Each group's
            noise comes from its own generator (``ctx.rng("profile", "group", key)``).
        """
        ctx = _ctx(units, tstart_ms, tstop_ms, seed, ctx)
        keys = self.group_keys(units)
        rates = self._rates(self.rates, units, seed, ctx)
        uniq, first, which = np.unique(keys, return_index=True, return_inverse=True)
        members = np.argsort(which, kind="stable")  # units of each group, in node order
        bounds = np.cumsum(np.bincount(which, minlength=uniq.size))[:-1]
        groups = np.split(members, bounds)
        order = np.argsort(first)  # groups in order of first appearance
        names = [str(uniq[g]) for g in order]
        # each group's noise is a pure function of its own stream: shared among threads
        # and MPI ranks
        edges = self.noise.grid_edges(ctx.tstart_ms, ctx.tstop_ms, self.dt_ms)
        values = ctx.map(
            lambda key: self.noise.sample(edges, ctx.rng("profile", "group", key)), names
        )
        grids = thread_map(lambda v: ProfileGrid(edges, v), values, ctx.threads)
        for g, key, grid in zip(order, names, grids, strict=True):
            sel = groups[g]
            yield Block(units.node_ids[sel], rates[sel], grid, key=key)


@register
@dataclass
class ShiftedInhibition(RateModel):
    """Inhibition that follows an excitatory population's rate a few ms later.

    Parameters
    ----------
    follow : dict
        The excitatory spikes: ``{"spikes_file": PATH, "population": NAME}`` (and
        optionally ``"n_units"``, else the number of nodes recorded in the file's
        provenance, else max(node id) + 1 as the original), or
        ``{"timestamps_ms": array, "n_units": int}``.
    lag_ms : float
        Delay of the inhibition after the excitation (ms), default 2 as in the original.
    mean_hz, sd_hz : float
        Parent-normal mean and sd of the per-unit rates, truncated to [0, 100] Hz
        (default 16.9 +/- 14.3 Hz, the original's perisomatic values; 3.9 +/- 4.9 for
        dendritic). Ignored if ``rates`` is given.
    rates : optional
        Any other rate distribution.
    normalize : {'original', 'mean', 'none'}
        Normalisation of the followed rate (see :class:`~raster_maker.profiles.FollowSpikes`).
    process : {'poisson', 'binned', 'gamma'}
        Spike process (see :class:`~raster_maker.processes.SpikeProcess`).
    refractory_ms : float
        Absolute refractory period (ms), 0 for none.
    order : int
        Gamma order (``process='gamma'``).
    dt_ms : float
        Time grid of the rate profiles (ms), default 1.
    transforms : list of dict, optional
        Spike transforms applied in order to every node's train
        (``[{"jitter_ms": 2}, {"keep": 0.5}, {"shift_ms": 5}]``; see
        :mod:`raster_maker.transforms`).

    Raises
    ------
    ValueError
        If ``follow`` is not a dict, ``lag_ms`` < 0, or the rates or process
        parameters are invalid.
    """

    name: ClassVar[str] = "shifted_inhibition"
    follow: Any = None
    lag_ms: float = 2.0
    mean_hz: float = 16.9
    sd_hz: float = 14.3
    rates: Any = None
    normalize: str = "original"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.follow, dict):
            raise ValueError(
                "Missing or invalid 'follow' for shifted_inhibition: "
                f"{self.follow!r}. Allowed: a dict with 'spikes_file' and 'population', "
                "or with 'timestamps_ms' and 'n_units'."
            )
        self.lag_ms = check_number("lag_ms", self.lag_ms, min_value=0.0, units="ms")
        dist = self.rates if self.rates is not None else truncated_normal(self.mean_hz, self.sd_hz)
        self._dist = as_rate_distribution(dist)

    def followed(self) -> FollowSpikes:
        """The profile of the followed spikes (reads the spikes file if one is given).

        Returns
        -------
        FollowSpikes
            The followed population's rate, delayed by ``lag_ms`` and normalised.

        Raises
        ------
        ValueError
            If ``follow`` has neither ``timestamps_ms`` nor both ``spikes_file`` and
            ``population``, or its values are invalid.
        KeyError
            If ``timestamps_ms`` is given without ``n_units``.
        """
        f = self.follow
        if "timestamps_ms" in f:
            return FollowSpikes(f["timestamps_ms"], f["n_units"], self.lag_ms, self.normalize)
        from .sonata import read_provenance, read_spikes

        if "spikes_file" not in f or "population" not in f:
            raise ValueError(
                f"Invalid 'follow': {f!r}. Allowed keys: 'spikes_file' + 'population' "
                "(+ optional 'n_units'), or 'timestamps_ms' + 'n_units'."
            )
        df = read_spikes(f["spikes_file"], f["population"])
        n_units = f.get("n_units")
        if n_units is None:
            n_units = read_provenance(f["spikes_file"], f["population"]).get("n_nodes")
        if n_units is None:
            n_units = int(df["node_ids"].max()) + 1 if len(df) else 1
        return FollowSpikes(df["timestamps"].to_numpy(), int(n_units), self.lag_ms, self.normalize)

    def params(self):
        """JSON-able parameters (recorded in output files).

        Returns
        -------
        dict
            As :meth:`InputModel.params`, with ``follow`` without its
            ``timestamps_ms`` (the spike times themselves are not recorded).
        """
        out = super().params()
        out["follow"] = {k: v for k, v in self.follow.items() if k != "timestamps_ms"}
        return out

    def blocks(self, units, tstart_ms, tstop_ms, seed, ctx=None):
        """One block: every unit, following the excitation's delayed rate.

        Parameters
        ----------
        units : Units
            The nodes to generate for.
        tstart_ms, tstop_ms : float
            The generation window (ms).
        seed : int
            Root seed.
        ctx : Context, optional
            The generation's streams (for the per-unit rates); None for the plain
            streams of ``(seed, units.population)``.

        Returns
        -------
        iterator of Block
            The one block, with the :meth:`followed` profile on the ``dt_ms`` grid and
            each unit's rate from the rate distribution.
        """
        grid = self.followed().evaluate(tstart_ms, tstop_ms, self.dt_ms)
        return self._all_units(units, grid, self._dist, seed, ctx)


@register
@dataclass
class Rhythmic(RateModel):
    """Rhythmic (sinusoidally modulated) trains: ``rate * (1 + m sin(2 pi f t + phase))``.

    Parameters
    ----------
    frequency_hz : float
        Rhythm frequency (Hz).
    depth : float
        Modulation depth (see ``depth_definition``).
    depth_definition : {'standard', 'original'}
        ``'standard'``: the rate swings between ``rate * (1 - depth)`` and
        ``rate * (1 + depth)``. ``'original'``: the original raster_maker's amplitude
        ``rate / (1/depth - 1)``.
    phase_rad : float
        Phase at t = 0 ms.
    rates : number, dict or RateDistribution
        Per-unit mean rate (Hz); default the original's dendritic inhibition
        (truncated normal 3.9 +/- 4.9 Hz would be ``{"preset": "truncated_normal",
        "mean_hz": 3.9, "sd_hz": 4.9}``); default here 10 Hz for every unit.
    process : {'poisson', 'binned', 'gamma'}
        Spike process (see :class:`~raster_maker.processes.SpikeProcess`).
    refractory_ms : float
        Absolute refractory period (ms), 0 for none.
    order : int
        Gamma order (``process='gamma'``).
    dt_ms : float
        Time grid of the rate profiles (ms), default 1.
    transforms : list of dict, optional
        Spike transforms applied in order to every node's train
        (``[{"jitter_ms": 2}, {"keep": 0.5}, {"shift_ms": 5}]``; see
        :mod:`raster_maker.transforms`).

    Raises
    ------
    ValueError
        If the rhythm (see :class:`~raster_maker.profiles.Sinusoid`), the rates or the
        process parameters are invalid.
    """

    name: ClassVar[str] = "rhythmic"
    frequency_hz: float = 8.0
    depth: float = 0.5
    depth_definition: str = "standard"
    phase_rad: float = 0.0
    rates: Any = 10.0

    def __post_init__(self) -> None:
        super().__post_init__()
        self.rates = as_rate_distribution(self.rates)
        self.profile = Sinusoid(
            self.frequency_hz, self.depth, self.phase_rad, 1.0, self.depth_definition
        )

    def blocks(self, units, tstart_ms, tstop_ms, seed, ctx=None):
        """One block: every unit, sharing the sinusoidal profile.

        Parameters
        ----------
        units : Units
            The nodes to generate for.
        tstart_ms, tstop_ms : float
            The generation window (ms).
        seed : int
            Root seed.
        ctx : Context, optional
            The generation's streams (for the per-unit rates); None for the plain
            streams of ``(seed, units.population)``.

        Returns
        -------
        iterator of Block
            The one block, with the sinusoid on the ``dt_ms`` grid and each unit's rate
            from ``rates``.
        """
        grid = self.profile.evaluate(tstart_ms, tstop_ms, self.dt_ms)
        return self._all_units(units, grid, self.rates, seed, ctx)
