"""Correlated inputs: a doubly stochastic (Cox) process whose units share a rate fluctuation.

Unit ``i`` fires as a Poisson process with rate ``r_i * L(t)``, where ``r_i`` is its mean
rate (any rate spec) and

    L(t) = exp(sigma * X(t) - sigma**2 / 2)

is a log-normal fluctuation shared by the units (of a group): ``X`` is a stationary,
unit-variance Gaussian (Ornstein-Uhlenbeck) process with correlation
``rho(t) = exp(-|t| / tau)``, drawn exactly on the ``dt_ms`` grid as an AR(1) sequence, and
``L`` is constant within a bin. ``L >= 0`` and ``E[L] = 1``, so the mean rates are those
asked for; the shared fluctuation makes the spike counts of different units correlated.
For a counting window of ``W = window_ms`` (``n = W / dt`` bins, aligned with the bins)

    Cov(N_i, N_j) = r_i r_j S(sigma**2)
    Var(N_i)      = r_i W + r_i**2 S(sigma**2)
    S(s)          = dt**2 * sum_{k, l < n} (exp(s * a**|k - l|) - 1),   a = exp(-dt / tau)

(times in s), so the correlation coefficient of a pair is ``g_i g_j`` with
``g_i = sqrt(q_i / (1 + q_i))``, ``q_i = r_i S / W``. The model solves ``sigma`` from the
target ``correlation`` (see :class:`Correlated` for the pair mean used when rates differ)
and records it in the provenance (``derived``). With ``groups``, every group ``g`` has its
own ``X_g = sqrt(w) Z_0 + sqrt(1 - w) Z_g`` (``Z_0`` shared by all groups): pairs within a
group have ``S(sigma**2)``, pairs across groups ``S(w sigma**2)``, and ``w`` is solved from
``correlation_between``. The maths, the reachable range and when to prefer shared spikes
(``mip``, ``sip``, ``cpp``) are in ``docs/correlated.md``.

This is the rate-level (Cox) correlation of Brette (2009), "Generation of correlated spike
trains", Neural Computation 21:188-215, with a log-normal instead of a rectified
Gaussian rate so that the rate never needs clipping.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from scipy import optimize, signal

from ._check import check_number
from .assemblies import Assemblies, make_assemblies
from .models import RateModel, Units
from .plans import Block, Context
from .profiles import ProfileGrid, time_grid
from .rates import ByAttribute, RateDistribution, as_rate_distribution, attribute_labels
from .registry import register

__all__ = [
    "Correlated",
    "SIGMA_MAX",
    "count_covariance_factor",
    "pair_correlation",
    "ou_sequence",
    "solve_sigma",
]

#: Largest fluctuation amplitude ``sigma``. Half of the expected spikes of a unit fall
#: where ``X > sigma``, i.e. in a fraction ``P(X > sigma)`` of the time: 0.13% at
#: ``sigma = 3``, and the median of ``L`` is ``exp(-sigma**2 / 2)`` = 1.1% of its mean.
#: Beyond this the "rate" is a train of rare huge bursts that a run of realistic length
#: does not average; shared spikes (``mip``, ``sip``, ``cpp``) model such strong
#: synchrony better.
SIGMA_MAX = 3.0
# Quadrature of a rate distribution: a 2-D Fibonacci lattice (F_23 points, step F_22) on the
# two uniforms a RateDistribution maps to a rate (a midpoint rule in the first one).
_QUAD_N = 28657
_QUAD_STEP = 17711
_NO_GROUP = "(none)"  # block key of the units in no assembly (independent Poisson trains)


# -- the maths ------------------------------------------------------------------------------
def _window_bins(window_ms: float, dt_ms: float) -> int:
    n = round(window_ms / dt_ms)
    if n < 1 or abs(n * dt_ms - window_ms) > 1e-9 * window_ms:
        raise ValueError(
            f"Invalid value for 'window_ms': {window_ms} ms. Allowed: a positive multiple of "
            f"dt_ms = {dt_ms} ms (counting windows are aligned with the bins of the rate)."
        )
    return n


def count_covariance_factor(s: float, window_ms: float, tau_ms: float, dt_ms: float = 1.0) -> float:
    """The factor ``S(s)`` of the count covariance ``Cov(N_i, N_j) = r_i r_j S`` (s**2).

    Exact for a log-normal fluctuation ``L = exp(sqrt(s) X - s/2)`` that is constant in
    bins of ``dt_ms``, ``X`` with correlation ``exp(-|t|/tau)`` between bins, and a counting
    window of ``window_ms`` starting on a bin edge:
    ``S(s) = dt**2 * (n * (e**s - 1) + 2 * sum_{m=1}^{n-1} (n - m) (exp(s a**m) - 1))``,
    ``n = window_ms / dt_ms``, ``a = exp(-dt_ms / tau_ms)``, ``dt`` in s. Pairs in
    different groups use ``s = w sigma**2``.

    Parameters
    ----------
    s : float
        ``sigma**2`` (or ``w sigma**2`` between groups), >= 0.
    window_ms : float
        Counting window (ms), a multiple of ``dt_ms``.
    tau_ms : float
        Correlation time of ``X`` (ms), > 0.
    dt_ms : float
        Bin width of the rate (ms).

    Returns
    -------
    float
        ``S`` in s**2; a unit with rate ``r`` Hz has count variance ``r W + r**2 S``.

    Raises
    ------
    ValueError
        If ``window_ms`` is not a positive multiple of ``dt_ms``.

    Examples
    --------
    >>> round(count_covariance_factor(1.0, 20.0, 20.0), 8)  # doctest: +SKIP
    0.00036357
    """
    n = _window_bins(window_ms, dt_ms)
    lag = np.arange(1, n, dtype=np.float64)
    rho = np.exp(-lag * (dt_ms / tau_ms))
    total = n * math.expm1(s) + 2.0 * float(np.sum((n - lag) * np.expm1(s * rho)))
    return (dt_ms / 1000.0) ** 2 * total


def _g(rates_hz: np.ndarray, big_s: float, window_s: float) -> np.ndarray:
    """``sqrt(q / (1 + q))`` with ``q = r S / W``: the pair coefficient is ``g_i g_j``."""
    q = np.asarray(rates_hz, dtype=np.float64) * (big_s / window_s)
    return np.sqrt(q / (1.0 + q))


def pair_correlation(
    rate_i_hz: Any,
    rate_j_hz: Any,
    sigma: float,
    window_ms: float,
    tau_ms: float,
    dt_ms: float = 1.0,
    w: float = 1.0,
) -> np.ndarray:
    """Spike-count correlation coefficient of units with rates ``rate_i_hz``, ``rate_j_hz``.

    ``Cov / sqrt(Var_i Var_j)`` with the formulas of :func:`count_covariance_factor`:
    ``S(w sigma**2) / S(sigma**2) * g_i g_j`` (``w = 1`` within a group). Arrays broadcast.

    Parameters
    ----------
    rate_i_hz, rate_j_hz : float or array-like
        Mean rates (Hz), > 0 (the coefficient of a silent unit is undefined: NaN).
    sigma : float
        Fluctuation amplitude.
    window_ms, tau_ms, dt_ms : float
        Counting window, correlation time and bin width (ms).
    w : float
        Shared fraction of ``X`` between two groups (1 for a pair in one group).

    Returns
    -------
    ndarray
        The coefficients.

    Examples
    --------
    >>> float(pair_correlation(10.0, 10.0, 0.0, 20.0, 20.0))
    0.0
    """
    window_s = _window_bins(window_ms, dt_ms) * dt_ms / 1000.0
    big_s = count_covariance_factor(sigma**2, window_ms, tau_ms, dt_ms)
    ratio = 1.0
    if w != 1.0:
        ratio = count_covariance_factor(w * sigma**2, window_ms, tau_ms, dt_ms) / big_s
    ri, rj = np.asarray(rate_i_hz, dtype=np.float64), np.asarray(rate_j_hz, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = ratio * _g(ri, big_s, window_s) * _g(rj, big_s, window_s)
        return np.where((ri > 0) & (rj > 0), out, np.nan)


def ou_sequence(rng: np.random.Generator, n_bins: int, dt_ms: float, tau_ms: float) -> np.ndarray:
    """A stationary unit-variance Gaussian sequence with correlation ``exp(-|k| dt / tau)``.

    Exact: ``X_0 ~ N(0, 1)``, ``X_k = a X_{k-1} + sqrt(1 - a**2) e_k``, ``a = exp(-dt/tau)``
    (an Ornstein-Uhlenbeck process sampled every ``dt_ms``).

    Parameters
    ----------
    rng : numpy.random.Generator
        The source of the ``n_bins`` standard normals.
    n_bins : int
        Length.
    dt_ms, tau_ms : float
        Step and correlation time (ms).

    Returns
    -------
    ndarray of float64

    Examples
    --------
    >>> x = ou_sequence(np.random.default_rng(0), 1000, 1.0, 20.0)
    >>> x.shape
    (1000,)
    """
    eps = rng.standard_normal(n_bins)
    if n_bins < 2:
        return eps
    a = math.exp(-dt_ms / tau_ms)
    b = math.sqrt(-math.expm1(-2.0 * dt_ms / tau_ms))
    rest, _ = signal.lfilter([b], [1.0, -a], eps[1:], zi=[a * eps[0]])
    return np.concatenate(([eps[0]], rest))


# -- the pair mean of a population ----------------------------------------------------------
def _plain_kinds(dist: RateDistribution, node_ids, attributes) -> tuple[np.ndarray, list]:
    """Each unit's plain (not by-attribute) rate distribution: (kind per unit, kinds)."""
    if not isinstance(dist, ByAttribute):
        return np.zeros(node_ids.size, np.int64), [dist]
    labels = dist._labels(node_ids, attributes)  # the rule ByAttribute draws with
    kind = np.empty(node_ids.size, np.int64)
    kinds: list = []
    names, which = np.unique(labels, return_inverse=True)
    for j, label in enumerate(names.tolist()):
        sel = which == j
        sub = dist.specs.get(label, dist.default)
        if sub is None:  # drawing the rates has already refused it; say it again
            raise ValueError(f"No rates for {dist.by}={label!r} and no 'default'.")
        k, more = _plain_kinds(sub, node_ids[sel], attributes)
        kind[sel] = k + len(kinds)
        kinds += more
    return kind, kinds


def _quadrature(dist: RateDistribution) -> tuple[np.ndarray, np.ndarray]:
    """Rates and weights (summing to 1) representing ``dist`` (deterministic lattice)."""
    k = np.arange(_QUAD_N, dtype=np.float64)
    u1 = (k + 0.5) / _QUAD_N
    u2 = ((np.arange(_QUAD_N, dtype=np.int64) * _QUAD_STEP) % _QUAD_N + 0.5) / _QUAD_N
    rates, counts = np.unique(dist.from_uniforms(u1, u2), return_counts=True)
    return rates, counts / _QUAD_N


class _PairMean:
    """Expected pair-mean coefficients of a node set, as functions of ``sigma**2``.

    ``m_i = E[g(r) | r > 0]`` under unit ``i``'s rate distribution; a pair of units with
    positive rates has expected coefficient ``m_i m_j`` (rates independent). The target is
    the mean of ``m_i m_j`` over pairs of units drawn independently from the node set
    (within a group: both from one group; between: from two groups), weighted by the
    probability ``p_i p_j`` that both rates are positive.
    """

    def __init__(self, dist, units: Units, group: np.ndarray | None, window_ms, tau_ms, dt_ms):
        self.window_ms, self.tau_ms, self.dt_ms = window_ms, tau_ms, dt_ms
        self.window_s = _window_bins(window_ms, dt_ms) * dt_ms / 1000.0
        kind, kinds = _plain_kinds(dist, units.node_ids, units.attributes)
        self.samples = [_quadrature(d) for d in kinds]
        self.p = np.array([w[r > 0].sum() for r, w in self.samples])
        member = np.ones(kind.size, bool) if group is None else group >= 0
        grp = np.zeros(kind.size, np.int64) if group is None else group
        n_groups = int(grp[member].max()) + 1 if member.any() else 0
        # counts[g, k]: units of kind k in group g
        self.counts = np.zeros((n_groups, len(kinds)))
        np.add.at(self.counts, (grp[member], kind[member]), 1.0)

    def big_s(self, s: float) -> float:
        return count_covariance_factor(s, self.window_ms, self.tau_ms, self.dt_ms)

    def _sums(self, s: float) -> tuple[np.ndarray, np.ndarray]:
        big_s = self.big_s(s)
        a = np.array([np.dot(w, _g(r, big_s, self.window_s)) for r, w in self.samples])
        return self.counts @ a, self.counts @ self.p  # per group: sum of E[g], of P(r > 0)

    def _one_kind(self, s: float) -> float | None:
        """``m**2`` when all units share one rate distribution (exactly, whatever the
        group sizes, so a subset of the nodes solves to the same bits)."""
        present = np.flatnonzero(self.counts.sum(axis=0) > 0)
        if present.size != 1:
            return None
        k = int(present[0])
        if self.p[k] == 0:
            return 0.0
        rates, weights = self.samples[k]
        m = float(np.dot(weights, _g(rates, self.big_s(s), self.window_s))) / self.p[k]
        return m * m

    def within(self, s: float) -> float:
        one = self._one_kind(s)
        if one is not None:
            return one
        a_g, p_g = self._sums(s)
        den = float(np.sum(p_g**2))
        return float(np.sum(a_g**2)) / den if den > 0 else 0.0

    def between_bracket(self, s: float) -> float:
        """Mean of ``m_i m_j`` over pairs from two groups (all fluctuation shared)."""
        one = self._one_kind(s)
        if one is not None:
            return one
        a_g, p_g = self._sums(s)
        den = float(p_g.sum() ** 2 - np.sum(p_g**2))
        if den <= 0:  # a single group: the mean over all pairs
            return self.within(s)
        return float(a_g.sum() ** 2 - np.sum(a_g**2)) / den


def solve_sigma(correlation: float, pair_mean, *, name: str = "correlation") -> float:
    """The ``sigma`` whose pair mean ``pair_mean(sigma**2)`` is ``correlation``.

    Parameters
    ----------
    correlation : float
        Target in [0, 1).
    pair_mean : callable
        ``s -> coefficient``, increasing in ``s = sigma**2`` (e.g. ``s -> g(s)**2``).
    name : str
        Parameter named in the error.

    Returns
    -------
    float
        ``sigma`` in [0, :data:`~raster_maker.correlated.SIGMA_MAX`].

    Raises
    ------
    ValueError
        If the target exceeds ``pair_mean(SIGMA_MAX**2)`` (named in the message).

    Examples
    --------
    >>> sigma = solve_sigma(0.25, lambda s: s / 10.0)
    >>> round(sigma**2, 6)
    2.5
    """
    s_max = SIGMA_MAX**2
    if correlation <= 0.0:
        return 0.0
    c_max = float(pair_mean(s_max))
    if correlation > c_max:
        raise ValueError(
            f"Invalid value for '{name}': {correlation}. Allowed: 0 <= {name} <= "
            f"{c_max:.6g}, the largest reachable here (fluctuation amplitude capped at "
            f"sigma = {SIGMA_MAX}; the coefficient tends to 1 only as sigma -> infinity): "
            "raise tau_ms, window_ms or the rates, or use shared spikes (mip, sip, cpp)."
        )
    s = optimize.brentq(lambda x: pair_mean(x) - correlation, 0.0, s_max, xtol=1e-15, rtol=1e-13)
    return math.sqrt(s)


# -- the model ------------------------------------------------------------------------------
@register
@dataclass
class Correlated(RateModel):
    """Poisson trains whose rates share a log-normal fluctuation: a target count correlation.

    Unit ``i`` fires at ``r_i * L(t)``, ``L = exp(sigma X - sigma**2/2)``, ``X`` an
    Ornstein-Uhlenbeck process (unit variance, correlation time ``tau_ms``) drawn exactly
    on the ``dt_ms`` grid per trial; ``E[L] = 1`` keeps the mean rates. ``sigma`` is solved
    so that the mean pairwise correlation coefficient of spike counts in windows of
    ``window_ms`` is ``correlation`` (see ``docs/correlated.md`` for the formulas).

    **The pair mean.** With equal rates every pair has the target coefficient. With
    heterogeneous rates the target is the expected coefficient of a pair of units drawn at
    random (independently) from the node set: the mean of ``m_i m_j``, ``m_i = E[g(r)]``
    under unit ``i``'s rate distribution (conditional on ``r > 0``: a silent unit's
    coefficient is undefined and silent units are left out, as in recordings), computed by
    a deterministic quadrature of the distribution. It is the population mean an
    experimenter measures, averaged over the draw of the rates; it depends on the rate
    *distribution* and not on the drawn rates, so a node's train does not depend on the
    other nodes of the set (with rates by attribute, on the set's composition by that
    attribute only). The coefficient predicted for the drawn rates is recorded as well.

    Parameters
    ----------
    rate_hz : number, dict or RateDistribution
        Per-unit mean rates (Hz): any rate spec, incl. presets and by-attribute.
    correlation : float
        Target mean pairwise spike-count correlation coefficient, in [0, 1) (within a
        group when ``groups`` is given). At most the value reached at ``sigma =``
        :data:`~raster_maker.correlated.SIGMA_MAX` (an error names it).
    window_ms : float
        Counting window (ms), a positive multiple of ``dt_ms``; the formulas hold for
        windows starting on a bin edge (``tstart_ms + k * dt_ms``).
    tau_ms : float
        Correlation time of the shared fluctuation (ms), > 0.
    groups : dict, optional
        None: one fluctuation shared by all units. ``{"by": ATTRIBUTE}``: one group per
        value of a node attribute. ``{"assemblies": SPEC}``: the assemblies of
        :func:`raster_maker.assemblies.make_assemblies` (units in no assembly fire as
        independent Poisson trains at their rates, outside every pair mean).
    correlation_between : float
        Target mean coefficient of pairs in different groups, 0 <= it <= ``correlation``
        (default 0: independent groups); only with ``groups``.
    process : {'poisson', 'binned', 'gamma'}
        Spike process (see :class:`~raster_maker.processes.SpikeProcess`); the solution
        assumes ``'poisson'`` (see Notes).
    refractory_ms : float
        Absolute refractory period (ms), 0 for none.
    order : int
        Gamma order (``process='gamma'``).
    dt_ms : float
        Time grid of the rate profiles (ms), default 1: the fluctuation ``L`` is constant
        within each bin.
    transforms : list of dict, optional
        Spike transforms applied in order to every node's train
        (``[{"jitter_ms": 2}, {"keep": 0.5}, {"shift_ms": 5}]``; see
        :mod:`raster_maker.transforms`).

    Raises
    ------
    ValueError
        ``correlation`` outside [0, 1), ``window_ms``/``tau_ms`` <= 0, ``window_ms`` not a
        multiple of ``dt_ms``, ``correlation_between`` > ``correlation`` or > 0 without
        groups, an invalid ``groups`` spec, or (when planning) a target above the largest
        reachable value.

    Notes
    -----
    The solution assumes Poisson trains given the rate (``process='poisson'``, no
    refractory period): a refractory period, gamma or binned trains have a smaller count
    variance and so a somewhat larger correlation than the target.

    Examples
    --------
    >>> import numpy as np, raster_maker as rm
    >>> import raster_maker.correlated
    >>> res = rm.generate("correlated", "bg", np.arange(100), 0.0, 2000.0, seed=1,
    ...                   params={"rate_hz": 10.0, "correlation": 0.1, "window_ms": 20.0})
    """

    name: ClassVar[str] = "correlated"
    rate_hz: Any = 10.0
    correlation: float = 0.1
    window_ms: float = 20.0
    tau_ms: float = 20.0
    groups: Any = None
    correlation_between: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        self.rate_hz = self._dist = as_rate_distribution(self.rate_hz)
        self.correlation = check_number("correlation", self.correlation, min_value=0.0)
        if self.correlation >= 1.0:
            raise ValueError(
                f"Invalid value for 'correlation': {self.correlation}. Allowed: "
                "0 <= correlation < 1."
            )
        self.window_ms = check_number(
            "window_ms", self.window_ms, min_value=0.0, strict_min=True, units="ms"
        )
        self.tau_ms = check_number(
            "tau_ms", self.tau_ms, min_value=0.0, strict_min=True, units="ms"
        )
        _window_bins(self.window_ms, self.dt_ms)
        self.correlation_between = check_number(
            "correlation_between", self.correlation_between, min_value=0.0
        )
        self._check_groups()
        if self.correlation_between > self.correlation:
            raise ValueError(
                f"Invalid value for 'correlation_between': {self.correlation_between}. "
                f"Allowed: 0 <= correlation_between <= correlation = {self.correlation}."
            )
        self._solution: dict[str, Any] = {}
        self._assemblies: Assemblies | None = None

    def _check_groups(self) -> None:
        g = self.groups
        if g is None:
            if self.correlation_between:
                raise ValueError(
                    f"Invalid value for 'correlation_between': {self.correlation_between}. "
                    "Allowed: 0 without 'groups' (one fluctuation shared by all units)."
                )
            return
        ok = isinstance(g, Mapping) and len(g) == 1
        if ok and "by" in g:
            ok = isinstance(g["by"], str) and bool(g["by"])
        elif ok and "assemblies" in g:
            ok = isinstance(g["assemblies"], Mapping)
        else:
            ok = False
        if not ok:
            raise ValueError(
                f"Invalid value for 'groups': {g!r}. Allowed: None, "
                '{"by": <node attribute>} or {"assemblies": <make_assemblies spec>}.'
            )

    # -- planning ---------------------------------------------------------------------------
    def _group_index(self, units: Units, ctx: Context) -> tuple[np.ndarray | None, list[str]]:
        """Group of each unit (-1: none) and the group names, or (None, []) without groups."""
        if self.groups is None:
            return None, []
        if "by" in self.groups:
            labels = attribute_labels(units.attribute(self.groups["by"]))
            names, index = np.unique(labels, return_inverse=True)
            self._assemblies = None
            return index.astype(np.int64), [str(n) for n in names]
        asm = make_assemblies(
            dict(self.groups["assemblies"]),
            units.population,
            units.node_ids,
            units.attributes,
            ctx.seed,
            purpose=ctx.purpose(f"{self.name}:assemblies", per_trial=False),
        )
        self._assemblies = asm
        return asm.index, list(asm.names)

    def _solve(self, units: Units, group: np.ndarray | None) -> dict[str, Any]:
        pm = _PairMean(self._dist, units, group, self.window_ms, self.tau_ms, self.dt_ms)
        sigma = solve_sigma(self.correlation, pm.within)
        out: dict[str, Any] = {
            "sigma": sigma,
            "max_correlation": pm.within(SIGMA_MAX**2),
        }
        if group is None:
            return out
        w = 0.0
        target = self.correlation_between
        s = sigma**2
        if target > 0:
            bracket = pm.between_bracket(s)
            if target > bracket:
                raise ValueError(
                    f"Invalid value for 'correlation_between': {target}. Allowed: <= "
                    f"{bracket:.6g}, the between-group coefficient when the groups share all "
                    "of the fluctuation (w = 1), for these rates and groups."
                )
            want = pm.big_s(s) * target / bracket
            x = optimize.brentq(lambda v: pm.big_s(v) - want, 0.0, s, xtol=1e-15, rtol=1e-13)
            w = min(1.0, x / s)
        out["w"] = w
        return out

    def blocks(self, units, tstart_ms, tstop_ms, seed, ctx=None):
        """One block per group, its units sharing the group's fluctuation ``L(t)``.

        Solves ``sigma`` (and ``w`` with groups) for the target correlations, then draws
        the fluctuations of this trial; the solution is what :meth:`derived` records.

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
        list of Block
            Without ``groups`` one block ``'all'``; with them one per non-empty group (key:
            the attribute value or assembly name) plus, for assemblies, a block
            ``'(none)'`` of the units in no assembly at a constant profile. Each unit's
            rate scale is its mean rate (Hz), drawn from ``rate_hz`` (per-unit streams
            that trials share).

        Raises
        ------
        ValueError
            If ``correlation`` or ``correlation_between`` is above the largest value
            reachable for these rates (and groups).
        KeyError
            If ``groups`` names a node attribute the units do not have.
        """
        ctx = ctx if ctx is not None else Context(seed, units.population, tstart_ms, tstop_ms)
        rates = self._rates(self._dist, units, seed, ctx)
        group, names = self._group_index(units, ctx)
        sol = self._solve(units, group)
        sol.update(_drawn_pair_means(rates, group, sol, self.window_ms, self.tau_ms, self.dt_ms))
        edges = time_grid(tstart_ms, tstop_ms, self.dt_ms)
        sigma, n_bins = sol["sigma"], edges.size - 1

        def fluctuation(*key) -> np.ndarray:
            rng = ctx.rng(f"{self.name}:fluctuation", *key)
            return ou_sequence(rng, n_bins, self.dt_ms, self.tau_ms)

        def grid(x: np.ndarray | None) -> ProfileGrid:
            if x is None or sigma == 0.0:
                return ProfileGrid(edges, np.ones(n_bins))
            return ProfileGrid(edges, np.exp(sigma * x - 0.5 * sigma**2))

        self._solution = sol
        if group is None:
            return [Block(units.node_ids, rates, grid(fluctuation("all")), key="all")]
        w = sol["w"]
        shared = fluctuation("shared") if w > 0 else None
        out = []
        for g, name in enumerate(names):
            sel = group == g
            if not sel.any():
                continue
            x = fluctuation("group", name)
            if shared is not None:
                x = math.sqrt(w) * shared + math.sqrt(1.0 - w) * x
            out.append(Block(units.node_ids[sel], rates[sel], grid(x), key=name))
        lone = group < 0
        if lone.any():
            out.append(Block(units.node_ids[lone], rates[lone], grid(None), key=_NO_GROUP))
        return out

    def extra_metadata(self, units: Units, ctx: Context) -> dict[str, Any]:
        """The assemblies, when ``groups`` makes them (called after :meth:`blocks`).

        Parameters
        ----------
        units : Units
            The nodes generated for.
        ctx : Context
            The generation.

        Returns
        -------
        dict
            :meth:`Assemblies.to_metadata <raster_maker.assemblies.Assemblies.to_metadata>`
            arrays with ``{"assemblies": ...}`` groups; empty otherwise.
        """
        return self._assemblies.to_metadata() if self._assemblies is not None else {}

    def derived(self, units: Units, ctx: Context) -> dict[str, Any]:
        """The solution of the last :meth:`blocks`, recorded with the provenance.

        Parameters
        ----------
        units : Units
            The nodes generated for.
        ctx : Context
            The generation.

        Returns
        -------
        dict
            ``sigma`` (the fluctuation's amplitude), ``max_correlation`` (the coefficient
            at :data:`SIGMA_MAX`), ``correlation_drawn_rates`` (the mean coefficient
            predicted for the drawn rates, None without a pair of live units); with
            ``groups`` also ``w`` (the share of the fluctuation common to all groups) and
            ``correlation_between_drawn_rates``.
        """
        return dict(self._solution)


def _drawn_pair_means(rates, group, sol, window_ms, tau_ms, dt_ms) -> dict[str, float | None]:
    """Mean coefficients over pairs (i != j) of live units with the drawn rates: within a
    group and (with groups) between groups; None where there is no such pair."""
    window_s = _window_bins(window_ms, dt_ms) * dt_ms / 1000.0
    s = sol["sigma"] ** 2
    big_s = count_covariance_factor(s, window_ms, tau_ms, dt_ms)
    g = _g(rates, big_s, window_s)
    grp = np.zeros(rates.size, np.int64) if group is None else group
    live = (rates > 0) & (grp >= 0)
    out: dict[str, float | None] = {"correlation_drawn_rates": None}
    if group is not None:
        out["correlation_between_drawn_rates"] = None
    if not live.any():
        return out
    n = np.bincount(grp[live]).astype(np.float64)
    sums = np.bincount(grp[live], weights=g[live])
    squares = np.bincount(grp[live], weights=g[live] ** 2)
    pairs = float(np.sum(n * (n - 1)))
    if pairs > 0:
        out["correlation_drawn_rates"] = float(np.sum(sums**2 - squares)) / pairs
    cross = float(n.sum() ** 2 - np.sum(n**2))
    if group is not None and cross > 0:
        ratio = count_covariance_factor(sol["w"] * s, window_ms, tau_ms, dt_ms) / big_s if s else 0
        total = float(sums.sum() ** 2 - np.sum(sums**2))
        out["correlation_between_drawn_rates"] = ratio * total / cross
    return out
