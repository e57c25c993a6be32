"""Spike processes: exact inhomogeneous Poisson by time rescaling, and its variants.

All processes draw for many units at once. Unit ``i`` fires with rate
``scale_hz[i] * z(t)``, where ``z`` is a piecewise-constant profile shared by the units
(a :class:`~raster_maker.profiles.ProfileGrid`). With ``Z(t) = int z dt`` the number of
spikes of unit ``i`` is Poisson with mean ``Lambda_i = scale_hz[i] * Z(tstop)`` and, given
that number, the spikes sit at ``Z^-1(Z(tstop) * U_(k))`` with ``U_(k)`` uniform order
statistics (time rescaling, exact for a piecewise-constant rate). The order statistics are
ratios of partial sums of exponentials, summed in integer arithmetic so a unit's spike
times do not depend on which other units share the batch.

Every random number comes from the unit's own counter-based stream
(:mod:`raster_maker.streams`): counter 0 gives the spike count, counters 1.. the gaps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from ._check import check_int, check_number, check_option
from ._scratch import scratch as scratch_array
from .streams import uniform, uniform_inplace, uniform_runs_inplace, words

__all__ = ["SpikeProcess", "poisson_counts", "draw_spikes", "PROCESS_KINDS"]

#: The spike processes (:class:`SpikeProcess` ``kind``, a rate model's ``process``).
PROCESS_KINDS = ("poisson", "binned", "gamma")
MAX_SPIKES_PER_UNIT = 1e8  # more is a unit or rate mistake, and would not fit in memory
_QUANT = 2.0**32  # exponential gaps are summed as integers in units of 2**-32
_PHASE_COUNTER = np.uint64(1) << np.uint64(62)  # gamma phase word, far from the gap counters
_MAX_WALK = 8  # steps from the Cornish-Fisher start before falling back to pdtrik
# above this mean pdtr's tail errors (~1e-8) exceed pdtrik's: there pdtrik decides, as in
# scipy.stats.poisson.ppf
_WALK_MAX_MEAN = 1e6
_BELOW_ONE = 1.0 - 2.0**-53


@dataclass(frozen=True)
class SpikeProcess:
    """How spikes are drawn from a rate.

    Parameters
    ----------
    kind : {'poisson', 'binned', 'gamma'}
        ``'poisson'``: inhomogeneous Poisson in continuous time (sub-ms timestamps).
        ``'binned'``: the original raster_maker process: at most one spike per ``dt_ms``
        bin, placed at the bin start; a bin holds a spike with probability
        ``1 - exp(-rate * dt)`` (a Poisson count above zero, as the original drew). Its
        spikes lie in ``[tstart, tstop)``: a first-bin spike sits on ``tstart`` itself
        (so with ``tstart = 0`` at 0 ms, which NEST refuses; start NEST inputs later).
        ``'gamma'``: a renewal process with gamma(``order``) intervals (more regular
        than Poisson for ``order > 1``), by time rescaling.
    refractory_ms : float
        Absolute refractory period (ms), 0 for none. The underlying rate is raised to
        ``r / (1 - r * refractory)`` so the realised mean rate matches the target
        ``r`` (exact for a constant rate); spikes closer than the period to the last
        kept spike are removed.
    order : int
        Shape of the gamma intervals (``kind='gamma'`` only).
    dt_ms : float
        Bin width of the binned process.
    """

    kind: str = "poisson"
    refractory_ms: float = 0.0
    order: int = 1
    dt_ms: float = 1.0

    def __post_init__(self) -> None:
        check_option("process", self.kind, PROCESS_KINDS)
        check_number("refractory_ms", self.refractory_ms, min_value=0.0, units="ms")
        check_int("order", self.order, min_value=1)
        check_number("dt_ms", self.dt_ms, min_value=0.0, strict_min=True, units="ms")
        if self.kind == "gamma" and self.refractory_ms:
            raise ValueError(
                f"Invalid value for 'refractory_ms': {self.refractory_ms} with process='gamma'. "
                "Allowed: 0 (the rate correction for a refractory period is exact for Poisson "
                "trains only; a gamma train of order > 1 is already regular)."
            )
        if self.kind != "gamma" and self.order != 1:
            raise ValueError(
                f"Invalid value for 'order': {self.order}. Allowed: 1 unless process='gamma'."
            )

    def params(self) -> dict:
        return {
            "kind": self.kind,
            "refractory_ms": self.refractory_ms,
            "order": self.order,
            "dt_ms": self.dt_ms,
        }

    def rate_factor(self, peak_rate_hz: float) -> float | np.ndarray:
        """Check the refractory period against a rate; return the rate correction.

        A Poisson train at rate ``r`` with dead time ``tau`` fires at ``r / (1 + r tau)``,
        so the underlying rate is multiplied by ``1 / (1 - r tau)`` to realise ``r``.

        Parameters
        ----------
        peak_rate_hz : float or ndarray of float
            Peak rate of each unit (Hz).

        Returns
        -------
        float or ndarray of float
            ``1 / (1 - peak_rate_hz * refractory_ms / 1000)`` (shaped as
            ``peak_rate_hz``), or 1.0 without a refractory period.

        Raises
        ------
        ValueError
            If a rate is too high for the period (``peak_rate_hz * refractory_ms`` >=
            1000).
        """
        if not self.refractory_ms:
            return 1.0
        r_tau = np.asarray(peak_rate_hz) * self.refractory_ms / 1000.0
        if np.any(r_tau >= 1.0):
            raise ValueError(
                f"Invalid value for 'refractory_ms': {self.refractory_ms} ms is too long "
                f"for a rate of "
                f"{float(np.max(peak_rate_hz)):.6g} Hz. Allowed: refractory_ms < 1000 / rate_hz "
                f"= {1000.0 / float(np.max(peak_rate_hz)):.6g} ms."
            )
        return 1.0 / (1.0 - r_tau)


def poisson_counts(u: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Inverse Poisson CDF: the smallest ``k`` with ``P(N <= k; lam) >= u``, elementwise.

    Equal to :func:`scipy.stats.poisson.ppf`, and a pure function of each ``(u, lam)``
    pair, so a unit's count never depends on the others in its batch: every route gives
    the smallest ``k`` with ``pdtr(k, lam) >= u``. A few distinct means (tables no
    bigger than twice the input) use one CDF table each. Otherwise means up to 1e6
    start at the Cornish-Fisher quantile and step to where ``pdtr`` crosses ``u`` (one
    or two ``pdtr`` calls per element, about 1 us); larger means, and the rare elements
    that do not settle in a few steps, use ``pdtrik`` as scipy does.

    Parameters
    ----------
    u : array_like of float
        Uniform probabilities in (0, 1] (1 is taken as ``1 - 2**-53``).
    lam : array_like of float
        Poisson means (>= 0), broadcast to the shape of ``u``; a mean of 0 gives 0.

    Returns
    -------
    ndarray of int64
        The counts, shaped as ``u``.

    Examples
    --------
    >>> import numpy as np
    >>> from raster_maker.processes import poisson_counts
    >>> poisson_counts(np.array([0.1, 0.5, 0.9]), 4.0)
    array([2, 4, 7])
    """
    # u = 1 (the streams can give it) has an infinite quantile: take the largest double
    # below 1 instead, on every route
    u = np.minimum(np.asarray(u, dtype=np.float64), _BELOW_ONE)
    lam = np.broadcast_to(np.asarray(lam, dtype=np.float64), u.shape)
    out = np.zeros(u.shape, dtype=np.int64)
    pos = np.flatnonzero(lam > 0)
    if not pos.size:
        return out
    up, lp = u.ravel()[pos], lam.ravel()[pos]
    uniq, inv = np.unique(lp, return_inverse=True)
    sizes = uniq + 12.0 * np.sqrt(uniq) + 40.0  # CDF table entries per distinct mean
    if uniq[-1] <= _WALK_MAX_MEAN and sizes.sum() <= 2.0 * up.size:
        # few distinct means (e.g. one rate for all): one CDF table each, then a search
        k = np.empty(up.size, dtype=np.int64)
        for j, (m, size) in enumerate(zip(uniq.tolist(), sizes.tolist(), strict=True)):
            sel = inv == j if uniq.size > 1 else slice(None)
            cdf = special.pdtr(np.arange(int(size) + 1, dtype=np.float64), m)
            cdf[-1] = np.inf  # u <= 1 always lands inside the table
            k[sel] = np.searchsorted(cdf, up[sel], side="left")
        out.ravel()[pos] = k
        return out
    # Start at the Cornish-Fisher quantile (within a count or two of the answer but in
    # the far tails), then walk: k is the answer once pdtr(k-1) < u <= pdtr(k).
    z = special.ndtri(up)
    k = np.maximum(np.floor(lp + np.sqrt(lp) * z + (z * z - 1.0) / 6.0), 0.0)
    todo = np.flatnonzero(lp <= _WALK_MAX_MEAN)
    for _ in range(_MAX_WALK):
        uu, ll, kk = up[todo], lp[todo], k[todo]
        high_enough = special.pdtr(kk, ll) >= uu
        too_high = high_enough & (kk > 0)
        too_high[too_high] = special.pdtr(kk[too_high] - 1.0, ll[too_high]) >= uu[too_high]
        k[todo] = kk + np.where(high_enough, -1.0 * too_high, 1.0)
        todo = todo[~high_enough | too_high]
        if not todo.size:
            break
    todo = np.union1d(todo, np.flatnonzero(lp > _WALK_MAX_MEAN))
    if todo.size:  # huge means, far tails: pdtrik's ceiling, stepped down once as scipy's ppf
        uu, ll = up[todo], lp[todo]
        kk = np.ceil(special.pdtrik(uu, ll))
        kk = np.maximum(kk - ((kk > 0) & (special.pdtr(kk - 1, ll) >= uu)), 0)
        bad = ~np.isfinite(kk)
        if bad.any():  # pdtrik gives up for means above ~1e10: Cornish-Fisher, good to ~1
            zb, mb = special.ndtri(uu[bad]), ll[bad]
            kk[bad] = np.ceil(mb + np.sqrt(mb) * zb + (zb * zb - 1.0) / 6.0 - 0.5)
        k[todo] = kk
    out.ravel()[pos] = k.astype(np.int64)
    return out


def _row_index(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (row of each element, index within its row) for rows of given lengths."""
    total = int(counts.sum())
    rows = np.repeat(np.arange(counts.size), counts)
    starts = np.cumsum(counts) - counts
    within = np.arange(total, dtype=np.int64) - np.repeat(starts, counts)
    return rows, within


def _order_statistics(keys: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted uniforms in (0, 1): ``counts[i]`` of them for stream ``keys[i]``.

    Returns (row index per value, values). Uses counters 1 .. counts[i] + 1. The values
    are a view of this thread's work array (see :mod:`raster_maker._scratch`): valid until
    the thread's next call. Apart from the rows, no array of the output's size is made
    (the hot loop: fresh large arrays cost page faults).
    """
    n = int(counts.sum())
    rows = np.repeat(np.arange(counts.size), counts)
    work, spare = scratch_array(n, 0), scratch_array(n, 1)  # this thread's, reused
    # the gaps: counters 1 .. counts[i] of each row's stream
    u = uniform_runs_inplace(keys, counts, 1, work.view(np.uint64), spare.view(np.uint64))
    csum = _quantise_inplace(u, work)
    # exact partial sums within each row: one cumulative sum, with each row's first gap
    # lowered by the previous row's sum (the sums telescope back to zero at each start)
    full = counts > 0
    last = np.zeros(counts.size, dtype=np.int64)  # each row's sum of gaps
    if n:
        starts = (np.cumsum(counts) - counts)[full]
        sums = np.add.reduceat(csum, starts)
        csum[starts[1:]] -= sums[:-1]
        last[full] = sums
    np.cumsum(csum, out=csum)
    # the row's closing gap (counter counts + 1) completes its total
    total = (last + _quantised_exponentials(keys, counts + 1)).astype(np.float64)
    vals = spare.view(np.float64)
    np.copyto(vals, csum)
    totals = csum.view(np.float64)
    np.take(total, rows, out=totals, mode="clip")
    vals /= totals
    return rows, vals


def _quantised_exponentials(keys: np.ndarray, counters: np.ndarray) -> np.ndarray:
    """Exp(1) variates of the streams in units of 2**-32, as int64 >= 1 (exactly summable)."""
    keys = np.array(np.broadcast_to(keys, np.shape(counters)), dtype=np.uint64)
    counters = np.array(counters, dtype=np.uint64)
    return _quantise_inplace(uniform_inplace(counters, keys), counters)


def _quantise_inplace(u: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Exp(1) variates ``ceil(-log(u) * 2**32)``, at least 1, from uniforms ``u`` in
    (0, 1] (overwritten), as int64 in ``out``'s memory (an 8-byte array of ``u``'s size)."""
    np.log(u, out=u)
    u *= -_QUANT
    np.ceil(u, out=u)
    gaps = out.view(np.int64)
    np.copyto(gaps, u, casting="unsafe")  # as astype(np.int64)
    np.maximum(gaps, 1, out=gaps)  # no value lands on 0 or 1
    return gaps


def draw_spikes(
    process: SpikeProcess,
    keys: np.ndarray,
    scale_hz: np.ndarray,
    grid,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw spikes for units sharing one rate profile.

    Parameters
    ----------
    process : SpikeProcess
        How the spikes are drawn (kind, refractory period, gamma order, bin width).
    keys : ndarray of uint64
        Per-unit stream keys (:func:`raster_maker.streams.node_keys`).
    scale_hz : ndarray of float
        Per-unit rate scale: unit ``i`` fires at ``scale_hz[i] * grid.values`` Hz.
    grid : ProfileGrid
        The shared, piecewise-constant profile on its time grid.

    Returns
    -------
    rows : ndarray of int64
        Index into ``keys`` of each spike; non-decreasing.
    times_ms : ndarray of float64
        Spike times in ms, sorted within each unit, inside ``(tstart, tstop)``
        (``[tstart, tstop)`` for the binned process).
    """
    scale = np.asarray(scale_hz, dtype=np.float64)
    factor = process.rate_factor(scale * grid.peak)
    lam = scale * factor * grid.total
    if process.kind == "gamma":
        lam = lam * process.order
    if lam.size and not np.all(lam <= MAX_SPIKES_PER_UNIT):
        worst = float(np.max(lam))
        raise ValueError(
            f"Invalid rate: a unit would expect {worst:.3g} spikes in the window (peak rate "
            f"{float(np.max(scale)) * grid.peak:.3g} Hz). Allowed: at most "
            f"{MAX_SPIKES_PER_UNIT:.0e} per unit; lower the rate or shorten the window."
        )
    counts = poisson_counts(uniform(keys, np.zeros(keys.size, np.uint64)), lam)
    rows, vals = _order_statistics(keys, counts)
    vals *= grid.total
    times = grid.invert(vals)
    if np.shares_memory(times, vals):  # vals is a reused work array: must not escape
        times = times.copy()
    if process.kind == "gamma" and process.order > 1:
        rows, times = _keep_every_kth(keys, counts, rows, times, process.order)
    if process.kind == "binned":
        rows, times = _bin(rows, times, grid.tstart, process.dt_ms)
    if process.refractory_ms:
        rows, times = _dead_time(rows, times, process.refractory_ms)
    return rows, times


def _keep_every_kth(keys, counts, rows, times, k):
    phase = (words(keys, np.full(keys.size, _PHASE_COUNTER)) % np.uint64(k)).astype(np.int64)
    _, within = _row_index(counts)
    keep = (within + phase[rows]) % k == k - 1
    return rows[keep], times[keep]


def _bin(rows, times, tstart, dt):
    idx = np.floor((times - tstart) / dt)
    first = np.ones(rows.size, dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (idx[1:] != idx[:-1])
    return rows[first], tstart + idx[first] * dt


def _dead_time(rows, times, tau):
    """Remove spikes closer than ``tau`` to the previous kept spike of the same unit."""
    while True:
        close = np.zeros(rows.size, dtype=bool)
        close[1:] = (rows[1:] == rows[:-1]) & (times[1:] - times[:-1] < tau)
        if not close.any():
            return rows, times
        # drop only the first violator of each run; its successor is re-checked next round
        first = close.copy()
        first[1:] &= ~close[:-1]
        rows, times = rows[~first], times[~first]


def node_time_order(pos: np.ndarray, times: np.ndarray) -> np.ndarray:
    """``np.lexsort((times, pos))``, fastest for a concatenation of runs sorted by
    (pos, time) (the layers or parts of a batch), or for times moved a little (jitter).

    One integer key, position then time quantised to a power of two that fits 63 bits,
    is non-decreasing along each run, so a stable sort merges the runs (timsort: about
    4x faster than lexsort). Where quantisation ties two times of one node in the wrong
    order (times within ~1e-10 of each other; checked), lexsort decides instead, so the
    order is always lexsort's.
    """
    if pos.size < 2:
        return np.arange(pos.size)
    p0 = int(pos.min())
    nodes = int(pos.max()) - p0 + 1
    lo = float(times.min())
    span = float(times.max()) - lo
    scale = 2.0 ** np.floor(np.log2(2.0**62 / nodes / (span + 1.0)))
    key = np.floor((times - lo) * scale).astype(np.int64)
    key += (pos - p0).astype(np.int64, copy=False) * (int(np.floor(span * scale)) + 1)
    order = np.argsort(key, kind="stable")
    sp, st = pos[order], times[order]
    if np.any((sp[1:] == sp[:-1]) & (st[1:] < st[:-1])):
        return np.lexsort((times, pos))
    return order
