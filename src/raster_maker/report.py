"""Statistics of a spikes file: numbers that show the inputs are what was asked for.

Pure functions (arrays in, numbers out) compute each statistic; :func:`spike_stats`,
:func:`cross_correlations` and :func:`stats_report` apply them to a file, per
population and per functional group, using the generation record (provenance and
``/raster_maker/<population>`` metadata) where there is one and the spikes otherwise.
The figure of :mod:`raster_maker.plotting` is drawn from the same functions, so its
panels and this report agree.

Beyond rates and spectra:

- **Pairwise correlations** (:func:`count_correlations`): spike-count correlations of a
  sample of pairs at several counting windows, with their spread and a confidence
  interval (jackknife over time blocks, :func:`summarize_correlations`); counts are
  sparse (unit x bin) matrices, so memory follows the spikes.
- **Synchrony** (:func:`complexity_distribution`): Elephant's complexity distribution,
  beside what independent units would give (:func:`poisson_binomial_pmf`), and the
  population cross-correlogram pooled over all pairs
  (:func:`population_cross_correlogram`).
- **Stimulus protocols** (:func:`assembly_epoch_stats`): measured against scheduled rate
  of each assembly in each epoch, read from the schedule the ``stimulus`` generator
  records (:func:`read_schedule`; also inside a ``layers`` input).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy import signal, sparse
from scipy.stats import poisson
from scipy.stats import t as student_t

from ._check import check_int, check_number
from .reading import read_spike_arrays
from .sonata import population_names, read_metadata, read_provenance

__all__ = [
    "PopulationData",
    "load_population_data",
    "unit_rates_hz",
    "population_rate_hz",
    "isi_cv",
    "fano_factors",
    "power_spectrum",
    "spectral_slope",
    "modulation_depth",
    "cross_correlation_lag",
    "group_row",
    "spike_stats",
    "cross_correlations",
    "stats_report",
    "describe_file",
    # pairwise correlations and synchrony
    "DEFAULT_WINDOWS_MS",
    "n_whole_bins",
    "spike_count_matrix",
    "sample_pairs",
    "pair_count_correlations",
    "summarize_correlations",
    "complexity_histogram",
    "poisson_binomial_pmf",
    "population_cross_correlogram",
    "count_correlations",
    "complexity_distribution",
    # stimulus schedules
    "RecordedSchedule",
    "schedule_layers",
    "read_schedule",
    "has_schedule",
    "assembly_epoch_stats",
]

DEFAULT_BAND_HZ = (1.0, 100.0)


# -- loading ---------------------------------------------------------------------------
@dataclass
class PopulationData:
    """One population's spikes with what is known about how it was generated.

    Made by :func:`load_population_data`; the fields are also its attributes.

    Parameters
    ----------
    population : str
        The population's name.
    node_ids, timestamps_ms : ndarray
        One entry per spike (uint64 node ids, float64 times in ms), in file order.
    units : ndarray of uint64
        Node ids of the units, sorted: the recorded node ids when the file has a
        generation record, else the ids that fired (silent units are then unknown).
    tstart_ms, tstop_ms : float
        The generation window if recorded, else ``[min(0, first spike), last spike]``
        rounded outwards to whole ms.
    group_keys : ndarray of str
        Functional groups (``['all']`` without a record).
    group_index : ndarray of int
        Group of each unit (index into ``group_keys``).
    target_rate_hz : ndarray or None
        Expected mean rate of each unit, from the record.
    profiles : ndarray or None
        Rate multiplier of each group (``n_groups x bins``), from the record.
    profile_edges_ms : ndarray or None
        Bin edges of ``profiles`` (ms).
    provenance : dict
        The ``raster_maker_*`` attributes (see
        :func:`~raster_maker.reading.read_provenance`).
    metadata : dict
        Every array recorded under ``/raster_maker/<population>/`` (see
        :func:`~raster_maker.reading.read_metadata`), e.g. a stimulus schedule.
    """

    population: str
    node_ids: np.ndarray
    timestamps_ms: np.ndarray
    units: np.ndarray
    tstart_ms: float
    tstop_ms: float
    group_keys: np.ndarray
    group_index: np.ndarray
    target_rate_hz: np.ndarray | None = None
    profiles: np.ndarray | None = None
    profile_edges_ms: np.ndarray | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict, repr=False)
    _spike_order: tuple[np.ndarray, np.ndarray] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @property
    def duration_ms(self) -> float:
        return self.tstop_ms - self.tstart_ms

    def group_position(self, group: str | int | None) -> int:
        """Index of a group given by its key; None is the first group.

        Parameters
        ----------
        group : str, int or None
            A group key, compared as text (``1`` is the key ``'1'``, which for functional
            groups by node order is also the second group); None for the first group.

        Returns
        -------
        int
            The group's index into ``group_keys``.

        Raises
        ------
        KeyError
            If no group has that key (the message lists the keys).
        """
        if group is None:
            return 0
        keys = [str(k) for k in self.group_keys]
        if str(group) in keys:
            return keys.index(str(group))
        raise KeyError(
            f"No group {group!r} in population '{self.population}'; groups: {_short_list(keys)}."
        )

    def select_group(self, g: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(units, node_ids, timestamps_ms)`` of the units of group ``g`` and their spikes.

        Parameters
        ----------
        g : int
            Index into ``group_keys``.

        Returns
        -------
        units : ndarray of uint64
            The group's units, sorted.
        node_ids, timestamps_ms : ndarray
            Their spikes (node id and time in ms), in file order.
        """
        units = self.units[self.group_index == g]
        order, bounds = self._group_order()
        sel = order[bounds[g] : bounds[g + 1]]
        return units, self.node_ids[sel], self.timestamps_ms[sel]

    def _group_order(self) -> tuple[np.ndarray, np.ndarray]:
        """Spikes sorted by group (stably, so in file order within a group) and the
        bounds of each group in that order; computed once, spikes of ids that are not
        units are left out."""
        if self._spike_order is None:
            n_groups = self.group_keys.size
            pos, ok = _unit_positions(self.node_ids, self.units)
            spike_group = np.full(self.node_ids.size, n_groups, np.int64)
            spike_group[ok] = self.group_index[pos[ok]]
            order = np.argsort(spike_group, kind="stable")
            bounds = np.searchsorted(spike_group[order], np.arange(n_groups + 1))
            self._spike_order = (order, bounds)
        return self._spike_order


def _short_list(items: list[str], n: int = 20) -> str:
    shown = ", ".join(items[:n])
    return shown + (f", ... ({len(items)} in all)" if len(items) > n else "") or "none"


def load_population_data(path: str | os.PathLike, population: str | None = None) -> PopulationData:
    """Read one population of a spikes file and its generation record.

    Parameters
    ----------
    path : str or path-like
        A SONATA spikes file (written by raster_maker or any other tool).
    population : str, optional
        Default: the first population of the file.

    Returns
    -------
    PopulationData

    Raises
    ------
    KeyError
        If ``population`` is not in the file (the message lists those that are).
    """
    if population is None:
        pops = population_names(path)
        if not pops:
            raise ValueError(f"No populations in '{path}': it has no /spikes group or it is empty.")
        population = pops[0]
    ids, ts = read_spike_arrays(path, population)[population]
    prov = read_provenance(path, population)
    meta = read_metadata(path, population)
    if "tstart_ms" in prov and "tstop_ms" in prov:
        tstart, tstop = float(prov["tstart_ms"]), float(prov["tstop_ms"])
    else:
        tstart = min(0.0, math.floor(ts.min())) if ts.size else 0.0
        tstop = max(math.ceil(ts.max()) if ts.size else 1.0, tstart + 1.0)
    if "node_ids" in meta and "group_index" in meta:
        order = np.argsort(meta["node_ids"])
        units = meta["node_ids"][order].astype(np.uint64)
        group_index = meta["group_index"][order].astype(np.int64)
        keys = np.asarray([str(k) for k in meta.get("group_keys", ["all"])], dtype=object)
        target = meta["target_rate_hz"][order] if "target_rate_hz" in meta else None
    else:
        units = _sorted_unique(ids)[0]
        group_index = np.zeros(units.size, np.int64)
        keys = np.asarray(["all"], dtype=object)
        target = None
    return PopulationData(
        population,
        ids,
        ts,
        units,
        tstart,
        tstop,
        keys,
        group_index,
        target,
        meta.get("profiles"),
        meta.get("profile_edges_ms"),
        prov,
        meta,
    )


# -- pure statistics -------------------------------------------------------------------
def _unit_positions(ids: np.ndarray, units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position of each of ``ids`` in the sorted ``units`` and whether it is one of them."""
    pos = np.searchsorted(units, ids)
    ok = pos < units.size
    ok[ok] = units[pos[ok]] == ids[ok]
    return pos, ok


def unit_rates_hz(node_ids: np.ndarray, units: np.ndarray, duration_ms: float) -> np.ndarray:
    """Mean firing rate (Hz) of each of ``units`` (sorted) over ``duration_ms``.

    Spikes of ids not in ``units`` are ignored.

    Parameters
    ----------
    node_ids : array_like of int
        Node id of each spike.
    units : array_like of int
        Node ids of the units, sorted.
    duration_ms : float
        The recording's length (ms); every spike given counts, whatever its time.

    Returns
    -------
    ndarray of float64
        Spike count / duration (Hz) of each unit, in ``units`` order (0 for a silent
        unit).

    Examples
    --------
    >>> unit_rates_hz([3, 3, 5], [3, 4, 5], 1000.0)
    array([2., 0., 1.])
    """
    units = np.asarray(units, dtype=np.uint64)
    ids = np.asarray(node_ids, dtype=np.uint64)
    pos, ok = _unit_positions(ids, units)
    counts = np.bincount(pos[ok], minlength=units.size)
    return counts / (duration_ms / 1000.0)


def _edges(tstart_ms: float, tstop_ms: float, bin_ms: float) -> np.ndarray:
    n = max(1, int(math.ceil((tstop_ms - tstart_ms) / bin_ms - 1e-9)))
    edges = tstart_ms + bin_ms * np.arange(n + 1)
    edges[-1] = tstop_ms
    return edges


def population_rate_hz(
    timestamps_ms: np.ndarray, n_units: int, tstart_ms: float, tstop_ms: float, bin_ms: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Population rate: spikes per unit per second in bins of ``bin_ms``.

    Parameters
    ----------
    timestamps_ms : array_like of float
        Spike times (ms) of the population; spikes outside ``[tstart_ms, tstop_ms]``
        are ignored.
    n_units : int
        Number of units the rate is divided by (at least 1 is used).
    tstart_ms, tstop_ms : float
        The window (ms).
    bin_ms : float, optional
        Bin width (ms), > 0; default 1.

    Returns
    -------
    edges_ms : ndarray
        Bin edges (the last bin may be shorter, ending at ``tstop_ms``).
    rate_hz : ndarray
        Mean rate per unit in each bin (Hz).

    Raises
    ------
    ValueError
        If ``bin_ms`` is not a number > 0.
    """
    bin_ms = check_number("bin_ms", bin_ms, min_value=0.0, strict_min=True, units="ms")
    edges = _edges(tstart_ms, tstop_ms, bin_ms)
    counts, _ = np.histogram(timestamps_ms, bins=edges)
    return edges, counts / (np.diff(edges) / 1000.0) / max(int(n_units), 1)


def isi_cv(node_ids: np.ndarray, timestamps_ms: np.ndarray) -> np.ndarray:
    """Coefficient of variation of the inter-spike intervals of each unit that fired.

    A Poisson train has CV 1.

    Parameters
    ----------
    node_ids : array_like of int
        Node id of each spike.
    timestamps_ms : array_like of float
        Time of each spike (ms), in any order.

    Returns
    -------
    ndarray of float64
        ``sd / mean`` of the intervals (``ddof=1``), one value per unit with at least 3
        spikes (2 intervals) and a positive mean interval, in node-id order.

    Examples
    --------
    >>> isi_cv([1, 1, 1, 2], [0.0, 10.0, 30.0, 5.0])  # unit 1: intervals 10 and 20 ms
    array([0.47140452])
    """
    ids = np.asarray(node_ids, dtype=np.uint64)
    ts = np.asarray(timestamps_ms, dtype=np.float64)
    if ids.size < 3:
        return np.zeros(0)
    order = np.lexsort((ts, ids))
    ids, ts = ids[order], ts[order]
    same = ids[1:] == ids[:-1]
    isi = np.diff(ts)[same]
    kept = ids[1:][same]  # sorted: number the runs of equal ids
    steps = np.cumsum(kept[1:] != kept[:-1], dtype=np.int64)
    unit = np.concatenate([np.zeros(min(kept.size, 1), np.int64), steps])
    n = np.bincount(unit)
    mean = np.bincount(unit, isi) / n
    var = np.bincount(unit, (isi - mean[unit]) ** 2) / np.maximum(n - 1, 1)
    keep = (n >= 2) & (mean > 0)
    return np.sqrt(var[keep]) / mean[keep]


def fano_factors(
    node_ids: np.ndarray,
    timestamps_ms: np.ndarray,
    units: np.ndarray,
    tstart_ms: float,
    tstop_ms: float,
    window_ms: float = 100.0,
) -> np.ndarray:
    """Fano factor (variance / mean of spike counts in windows) of each unit that fired.

    Counts are taken in consecutive whole windows of ``window_ms`` (a shorter tail is
    dropped); units with no spike in them are left out. A Poisson train has Fano factor 1.

    Parameters
    ----------
    node_ids : array_like of int
        Node id of each spike (ids not in ``units`` are ignored).
    timestamps_ms : array_like of float
        Time of each spike (ms).
    units : array_like of int
        Node ids of the units, sorted.
    tstart_ms, tstop_ms : float
        The window (ms); the counting windows start at ``tstart_ms``.
    window_ms : float, optional
        Counting window (ms), > 0; default 100.

    Returns
    -------
    ndarray of float64
        Variance (``ddof=1``) / mean of each firing unit's counts, in ``units`` order;
        empty when fewer than 2 whole windows fit.

    Raises
    ------
    ValueError
        If ``window_ms`` is not a number > 0.
    """
    window_ms = check_number("window_ms", window_ms, min_value=0.0, strict_min=True, units="ms")
    n_win = int((tstop_ms - tstart_ms) // window_ms)
    units = np.asarray(units, dtype=np.uint64)
    if n_win < 2 or units.size == 0:
        return np.zeros(0)
    ids = np.asarray(node_ids, dtype=np.uint64)
    ts = np.asarray(timestamps_ms, dtype=np.float64)
    win = np.floor((ts - tstart_ms) / window_ms).astype(np.int64)
    pos, ok = _unit_positions(ids, units)
    ok &= (win >= 0) & (win < n_win)
    counts = np.bincount(pos[ok] * n_win + win[ok], minlength=units.size * n_win)
    counts = counts.reshape(units.size, n_win)
    mean = counts.mean(axis=1)
    var = counts.var(axis=1, ddof=1)
    keep = mean > 0
    return var[keep] / mean[keep]


def power_spectrum(trace: np.ndarray, dt_ms: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Welch power spectral density of a trace sampled every ``dt_ms``.

    Segments of up to 2048 samples (50 % overlap), mean removed.

    Parameters
    ----------
    trace : array_like of float
        The samples.
    dt_ms : float, optional
        Sampling interval (ms); default 1.

    Returns
    -------
    frequencies_hz : ndarray
        Frequencies (Hz), without the 0 Hz bin.
    power : ndarray
        Power spectral density (the trace's unit squared per Hz). Both empty for fewer
        than 8 samples.
    """
    x = np.asarray(trace, dtype=np.float64)
    if x.size < 8:
        return np.zeros(0), np.zeros(0)
    f, p = signal.welch(x, fs=1000.0 / dt_ms, nperseg=min(x.size, 2048), detrend="constant")
    return f[1:], p[1:]


def spectral_slope(
    freqs_hz: np.ndarray, power: np.ndarray, band_hz: tuple[float, float] = DEFAULT_BAND_HZ
) -> tuple[float, float]:
    """Least-squares line through ``log10 power`` against ``log10 f`` inside ``band_hz``.

    Parameters
    ----------
    freqs_hz : array_like of float
        Frequencies (Hz).
    power : array_like of float
        Power at each frequency; values <= 0 are left out.
    band_hz : (float, float), optional
        The band fitted (Hz, both ends included); default 1 to 100 Hz.

    Returns
    -------
    slope, intercept : float
        ``power ~ 10**intercept * f**slope``; 1/f noise has slope -1. NaN if fewer
        than 3 positive values fall in the band.
    """
    f = np.asarray(freqs_hz, dtype=np.float64)
    p = np.asarray(power, dtype=np.float64)
    sel = (f >= band_hz[0]) & (f <= band_hz[1]) & (p > 0)
    if sel.sum() < 3:
        return math.nan, math.nan
    slope, intercept = np.polyfit(np.log10(f[sel]), np.log10(p[sel]), 1)
    return float(slope), float(intercept)


def modulation_depth(
    timestamps_ms: np.ndarray, frequency_hz: float, tstart_ms: float, tstop_ms: float
) -> float:
    """Depth ``m`` of a rate ``r (1 + m sin(2 pi f t + phase))`` fitted to spike times.

    ``m = 2 |sum_k exp(-2 pi i f t_k)| / N`` over the spikes in the longest whole number
    of cycles from ``tstart_ms`` (twice the vector strength). Unmodulated spikes give
    about ``2 / sqrt(N)``. NaN without spikes or without a whole cycle.

    Parameters
    ----------
    timestamps_ms : array_like of float
        Spike times (ms), e.g. of a whole population.
    frequency_hz : float
        The rhythm's frequency (Hz), > 0.
    tstart_ms, tstop_ms : float
        The window (ms).

    Returns
    -------
    float
        The depth ``m`` (NaN as above).

    Raises
    ------
    TypeError
        If ``frequency_hz`` is not a real number.
    ValueError
        If ``frequency_hz`` is not finite and > 0.
    """
    frequency_hz = check_number(
        "frequency_hz", frequency_hz, min_value=0.0, strict_min=True, units="Hz"
    )
    period_ms = 1000.0 / frequency_hz
    n_cycles = math.floor((tstop_ms - tstart_ms) / period_ms)
    ts = np.asarray(timestamps_ms, dtype=np.float64)
    ts = ts[(ts >= tstart_ms) & (ts < tstart_ms + n_cycles * period_ms)]
    if n_cycles < 1 or ts.size == 0:
        return math.nan
    phase = 2.0 * np.pi * (ts - tstart_ms) / period_ms
    return float(2.0 * np.hypot(np.cos(phase).sum(), np.sin(phase).sum()) / ts.size)


def cross_correlation_lag(
    timestamps_a_ms: np.ndarray,
    timestamps_b_ms: np.ndarray,
    tstart_ms: float,
    tstop_ms: float,
    *,
    bin_ms: float = 1.0,
    max_lag_ms: float = 100.0,
) -> tuple[float, float]:
    """Lag of the peak cross-correlation of two populations' rates.

    The rates are the spike counts of each population in bins of ``bin_ms``, mean
    removed; the correlation is normalised to a coefficient.

    Parameters
    ----------
    timestamps_a_ms, timestamps_b_ms : array_like of float
        Spike times (ms) of the two populations.
    tstart_ms, tstop_ms : float
        The window (ms).
    bin_ms : float, optional
        Bin of the rates (ms); default 1.
    max_lag_ms : float, optional
        Largest lag searched, either way (ms); default 100.

    Returns
    -------
    lag_ms : float
        Positive when ``b`` follows ``a`` (``b(t) ~ a(t - lag)``), within ``max_lag_ms``.
    peak : float
        Correlation coefficient at that lag (NaN if a rate is constant).
    """
    _, a = population_rate_hz(timestamps_a_ms, 1, tstart_ms, tstop_ms, bin_ms)
    _, b = population_rate_hz(timestamps_b_ms, 1, tstart_ms, tstop_ms, bin_ms)
    a, b = a - a.mean(), b - b.mean()
    norm = math.sqrt(float(a @ a) * float(b @ b))
    if norm == 0:
        return math.nan, math.nan
    cc = signal.correlate(b, a, mode="full", method="fft") / norm
    lags = signal.correlation_lags(b.size, a.size, mode="full")
    sel = np.abs(lags * bin_ms) <= max_lag_ms
    k = int(np.argmax(cc[sel]))
    return float(lags[sel][k] * bin_ms), float(cc[sel][k])


# -- pairwise correlations and synchrony (pure) ----------------------------------------
#: Default counting windows (ms) of :func:`count_correlations`.
DEFAULT_WINDOWS_MS = (5.0, 20.0, 100.0)
_BIN_TOLERANCE = 1e-8  # spikes this close (in bins) below a bin edge count in the next bin


def n_whole_bins(tstart_ms: float, tstop_ms: float, bin_ms: float) -> int:
    """Number of whole bins of ``bin_ms`` from ``tstart_ms`` before ``tstop_ms``.

    A shorter last piece is not a bin (as Elephant's ``BinnedSpikeTrain``); a window
    that is a whole number of bins up to rounding (``1e-8`` of a bin) keeps its last bin.

    Parameters
    ----------
    tstart_ms, tstop_ms : float
        The window (ms).
    bin_ms : float
        Bin width (ms), > 0.

    Returns
    -------
    int
        The number of bins (0 for a window shorter than a bin).

    Raises
    ------
    ValueError
        If ``bin_ms`` is not a number > 0.

    Examples
    --------
    >>> n_whole_bins(0.0, 10.0, 3.0)
    3
    """
    bin_ms = check_number("bin_ms", bin_ms, min_value=0.0, strict_min=True, units="ms")
    return max(0, int(math.floor((tstop_ms - tstart_ms) / bin_ms + _BIN_TOLERANCE)))


def _sorted_unique(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values of ``x`` and their counts (a sort: numpy 2.4's
    ``np.unique`` without ``return_counts`` hashes, ~20x slower on a million ints)."""
    s = np.sort(x, kind="stable")
    first = np.flatnonzero(np.concatenate([[True], s[1:] != s[:-1]])) if s.size else []
    first = np.asarray(first, dtype=np.int64)
    return s[first], np.diff(np.append(first, s.size))


def _spike_bins(
    node_ids: np.ndarray,
    timestamps_ms: np.ndarray,
    units: np.ndarray,
    tstart_ms: float,
    bin_ms: float,
    n_bins: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(unit position, bin) of each spike of a unit that falls in one of ``n_bins`` bins."""
    pos, ok = _unit_positions(np.asarray(node_ids, dtype=np.uint64), units)
    b = np.floor((np.asarray(timestamps_ms, np.float64) - tstart_ms) / bin_ms + _BIN_TOLERANCE)
    ok &= (b >= 0) & (b < n_bins)
    return pos[ok], b[ok].astype(np.int64)


def spike_count_matrix(
    node_ids: np.ndarray,
    timestamps_ms: np.ndarray,
    units: np.ndarray,
    tstart_ms: float,
    tstop_ms: float,
    bin_ms: float,
) -> sparse.csr_array:
    """Spike counts of each unit in consecutive bins, as a sparse matrix.

    Parameters
    ----------
    node_ids, timestamps_ms : array-like
        One entry per spike; spikes of ids not in ``units`` are ignored.
    units : array-like of int
        Node ids of the rows, sorted.
    tstart_ms, tstop_ms : float
        Window; bins of ``bin_ms`` from ``tstart_ms``, whole bins only
        (see :func:`n_whole_bins`).
    bin_ms : float
        Bin width (ms).

    Returns
    -------
    scipy.sparse.csr_array
        ``len(units) x n_bins`` counts (float64); memory grows with the spikes, not
        with units x bins.

    Examples
    --------
    >>> m = spike_count_matrix([0, 0, 1], [0.5, 0.7, 2.5], [0, 1], 0.0, 3.0, 1.0)
    >>> m.toarray().tolist()
    [[2.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    """
    n_bins = n_whole_bins(tstart_ms, tstop_ms, bin_ms)
    units = np.asarray(units, dtype=np.uint64)
    pos, b = _spike_bins(node_ids, timestamps_ms, units, tstart_ms, bin_ms, n_bins)
    counts = sparse.coo_array(
        (np.ones(pos.size), (pos, b)), shape=(units.size, n_bins), dtype=np.float64
    )
    return counts.tocsr()


def sample_pairs(n_units: int, n_pairs: int, seed: Any = 0) -> tuple[np.ndarray, np.ndarray]:
    """Distinct unordered pairs ``(i, j)``, ``i < j``, of ``n_units`` units.

    All pairs (in row order) when there are at most ``n_pairs`` of them, else ``n_pairs``
    pairs drawn uniformly without replacement from a generator seeded with ``seed``,
    in increasing order.

    Parameters
    ----------
    n_units : int
        Number of units (>= 0).
    n_pairs : int
        Most pairs returned (>= 1).
    seed : int, numpy.random.Generator or None, optional
        Seed of the sample (anything :func:`numpy.random.default_rng` takes); default 0.

    Returns
    -------
    i, j : ndarray of int64
        The pairs, ``i[k] < j[k]``, ordered by ``(j, i)`` when sampled.

    Raises
    ------
    TypeError
        If ``n_units`` or ``n_pairs`` is not an integer.
    ValueError
        If ``n_units`` < 0 or ``n_pairs`` < 1.

    Examples
    --------
    >>> sample_pairs(3, 10)
    (array([0, 0, 1]), array([1, 2, 2]))
    """
    n_units = check_int("n_units", n_units, min_value=0)
    n_pairs = check_int("n_pairs", n_pairs, min_value=1)
    total = n_units * (n_units - 1) // 2
    if total <= n_pairs:
        i, j = np.triu_indices(n_units, 1)
        return i.astype(np.int64), j.astype(np.int64)
    k = np.sort(np.random.default_rng(seed).choice(total, size=n_pairs, replace=False))
    # pair number k = j (j - 1) / 2 + i with 0 <= i < j: invert the triangular number
    j = np.floor((1.0 + np.sqrt(1.0 + 8.0 * k)) / 2.0).astype(np.int64)
    j -= j * (j - 1) // 2 > k  # float rounding, either way
    j += (j + 1) * j // 2 <= k
    return k - j * (j - 1) // 2, j


def _pearson(n, sa, sb, saa, sbb, sab):
    """Correlation from sums (NaN where a unit's count does not vary)."""
    va = n * saa - sa * sa
    vb = n * sbb - sb * sb
    ok = (va > 0) & (vb > 0)
    out = np.full(np.broadcast(va, vb).shape, np.nan)
    out[ok] = ((n * sab - sa * sb) / np.sqrt(np.where(ok, va * vb, 1.0)))[ok]
    return out


def pair_count_correlations(
    counts: Any, a: np.ndarray, b: np.ndarray, n_blocks: int = 20
) -> tuple[np.ndarray, np.ndarray]:
    """Spike-count correlation of pairs of rows, over all bins and each block left out.

    Parameters
    ----------
    counts : array-like or sparse matrix
        ``units x bins`` counts (e.g. from :func:`spike_count_matrix`).
    a, b : array of int
        Rows of the pairs.
    n_blocks : int
        The bins are cut into this many contiguous blocks of (nearly) equal length
        (fewer if there are fewer bins) for the delete-one-block jackknife.

    Returns
    -------
    r : ndarray
        Pearson correlation of each pair's counts; NaN when a count does not vary.
    r_loo : ndarray
        ``n_blocks x pairs``: the same with block ``k`` left out.
    """
    counts = sparse.csr_array(counts, dtype=np.float64)
    n_blocks = check_int("n_blocks", n_blocks, min_value=1)
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    n_units, n_bins = counts.shape
    k = max(1, min(n_blocks, n_bins))
    block = np.arange(n_bins) * k // n_bins
    nk = np.bincount(block, minlength=k).astype(np.float64)
    rows = np.repeat(np.arange(n_units), np.diff(counts.indptr))
    cell = rows * k + block[counts.indices]
    s1 = np.bincount(cell, counts.data, minlength=n_units * k).reshape(n_units, k)
    s2 = np.bincount(cell, counts.data**2, minlength=n_units * k).reshape(n_units, k)
    prod = (counts[a].multiply(counts[b])).tocoo()
    s12 = np.bincount(prod.row * k + block[prod.col], prod.data, minlength=a.size * k)
    s12 = s12.reshape(a.size, k)
    tot = [s1[a], s1[b], s2[a], s2[b], s12]
    full = [x.sum(axis=1) for x in tot]
    r = _pearson(nk.sum(), *full)
    r_loo = _pearson(
        nk.sum() - nk[:, None], *[f[None, :] - x.T for f, x in zip(full, tot, strict=True)]
    )
    return r, r_loo


def summarize_correlations(
    r: np.ndarray, r_loo: np.ndarray, *, total_pairs: int | None = None, confidence: float = 0.95
) -> dict[str, float]:
    """Mean pairwise correlation with its spread and a confidence interval.

    The interval is ``mean +- t * sem``, ``t`` the Student quantile with ``n_blocks - 1``
    degrees of freedom and ``sem**2 = var_jack + fpc * max(0, sd**2 - mean(v_p)) / n``:

    - ``var_jack``: delete-one-block jackknife variance of the mean over pairs (blocks of
      consecutive bins, ``r_loo``). Time blocks are (nearly) independent, so this holds
      whatever the dependence between pairs (shared units, a shared source of copies).
    - the second term is the extra variance of averaging only ``n`` of ``total_pairs``
      pairs (finite-population correction ``fpc = 1 - n / total_pairs``): the spread of
      the pairs' true correlations, i.e. the spread over pairs ``sd**2`` minus the mean of
      the pairs' own jackknife variances ``v_p`` (the recording noise). It is 0 when every
      pair was used.

    Parameters
    ----------
    r, r_loo : ndarray
        From :func:`pair_count_correlations`; NaN pairs are left out.
    total_pairs : int, optional
        Number of pairs ``r`` was sampled from (default: ``r`` holds all pairs).
    confidence : float
        Two-sided coverage of the interval, in (0, 1).

    Returns
    -------
    dict
        ``n_pairs``, ``mean_correlation``, ``sd_correlation`` (over pairs, ``ddof=1``),
        ``sem``, ``ci_low``, ``ci_high``, ``n_blocks`` (NaN where undefined).
    """
    confidence = check_number("confidence", confidence, min_value=0.0, max_value=1.0)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"Invalid value for 'confidence': {confidence}. Allowed: 0 < value < 1.")
    ok = np.isfinite(r)
    r, r_loo = r[ok], r_loo[:, ok]
    n, k = int(r.size), int(r_loo.shape[0])
    out = {
        "n_pairs": n,
        "mean_correlation": float(r.mean()) if n else math.nan,
        "sd_correlation": float(r.std(ddof=1)) if n > 1 else math.nan,
        "sem": math.nan,
        "ci_low": math.nan,
        "ci_high": math.nan,
        "n_blocks": k,
    }
    if n < 1 or k < 2:
        return out
    # a pair undefined without block k (a unit fired only there) keeps its full value
    loo = np.where(np.isfinite(r_loo), r_loo, r[None, :])
    loo_means = loo.mean(axis=1)
    var_jack = (k - 1) / k * float(np.sum((loo_means - loo_means.mean()) ** 2))
    var_pairs = 0.0
    total = n if total_pairs is None else max(int(total_pairs), n)
    if n > 1 and total > n:
        v_p = (k - 1) / k * np.sum((loo - loo.mean(axis=0)) ** 2, axis=0)
        var_pairs = (1.0 - n / total) * max(0.0, out["sd_correlation"] ** 2 - v_p.mean()) / n
    sem = math.sqrt(var_jack + var_pairs)
    half = float(student_t.isf((1.0 - confidence) / 2.0, k - 1)) * sem
    mean = out["mean_correlation"]
    out.update(sem=sem, ci_low=mean - half, ci_high=mean + half)
    return out


def complexity_histogram(
    node_ids: np.ndarray,
    timestamps_ms: np.ndarray,
    units: np.ndarray,
    tstart_ms: float,
    tstop_ms: float,
    bin_ms: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """How many units spike in the same bin: the complexity histogram.

    As Elephant's ``complexity_pdf`` / ``Complexity(spread=0, binary=True)``: the spike
    trains are clipped (a unit counts once in a bin however many spikes it fires there),
    summed over units in whole bins of ``bin_ms`` from ``tstart_ms``, and the entries of
    that population histogram are counted.

    Parameters
    ----------
    node_ids : array_like of int
        Node id of each spike (ids not in ``units`` are ignored).
    timestamps_ms : array_like of float
        Time of each spike (ms).
    units : array_like of int
        Node ids of the units, sorted.
    tstart_ms, tstop_ms : float
        The window (ms); whole bins only (see :func:`n_whole_bins`).
    bin_ms : float, optional
        Bin width (ms); default 1.

    Returns
    -------
    histogram : ndarray of int
        ``histogram[c]``: number of bins in which exactly ``c`` units spiked (``c`` from 0 to
        the largest complexity seen); divide by its sum for the complexity pdf.
    active_bins : ndarray of int
        Per unit (in ``units`` order), the number of bins in which it spiked.
    """
    n_bins = n_whole_bins(tstart_ms, tstop_ms, bin_ms)
    units = np.asarray(units, dtype=np.uint64)
    pos, b = _spike_bins(node_ids, timestamps_ms, units, tstart_ms, bin_ms, n_bins)
    cell, _ = _sorted_unique(b * units.size + pos)  # (bin, unit) with at least one spike
    per_bin = np.bincount(cell // max(units.size, 1), minlength=n_bins)
    active = np.bincount(cell % max(units.size, 1), minlength=units.size)
    return np.bincount(per_bin, minlength=1), active


def poisson_binomial_pmf(p: np.ndarray) -> np.ndarray:
    """Distribution of the number of successes of independent trials with probabilities ``p``.

    The complexity distribution of independent units, each active in a bin with its own
    probability. Computed exactly through the discrete Fourier transform of the
    probability generating function (values below ~1e-15 are rounding noise, clipped at 0).

    Parameters
    ----------
    p : array_like of float
        Success probability of each trial, in [0, 1].

    Returns
    -------
    ndarray
        ``pmf[c]`` for ``c = 0 .. len(p)``.

    Raises
    ------
    ValueError
        If a probability is outside [0, 1] or not finite.

    Examples
    --------
    >>> poisson_binomial_pmf([0.5, 0.5])
    array([0.25, 0.5 , 0.25])
    """
    p = np.asarray(p, dtype=np.float64).ravel()
    if np.any((p < 0) | (p > 1) | ~np.isfinite(p)):
        raise ValueError("Invalid value in 'p': probabilities must lie in [0, 1].")
    n_sure = int(np.count_nonzero(p == 1.0))
    values, mult = _sorted_unique(p[(p > 0) & (p < 1)])
    n = int(mult.sum())
    pmf = np.zeros(p.size + 1)
    z = np.exp(2j * np.pi * np.arange(n + 1) / (n + 1))
    log_pgf = np.zeros(n + 1, complex)
    chunk = max(1, 1_000_000 // (n + 1))  # bounded memory: chunk x (n + 1) complex values
    with np.errstate(divide="ignore"):
        for s in range(0, values.size, chunk):
            v, m = values[s : s + chunk, None], mult[s : s + chunk, None]
            log_pgf += np.sum(m * np.log1p(v * (z[None, :] - 1.0)), axis=0)
    core = np.fft.fft(np.exp(log_pgf)).real / (n + 1)
    pmf[n_sure : n_sure + n + 1] = np.clip(core, 0.0, None)
    return pmf / pmf.sum()


def population_cross_correlogram(
    node_ids: np.ndarray,
    timestamps_ms: np.ndarray,
    units: np.ndarray,
    tstart_ms: float,
    tstop_ms: float,
    *,
    bin_ms: float = 1.0,
    max_lag_ms: float = 50.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Cross-correlogram pooled over every pair of distinct units, normalised.

    ``cc(tau) = sum_{i != j} cov_ij(tau) / sum_{i != j} sqrt(v_i v_j)`` with the counts
    ``x_i`` in bins of ``bin_ms``, ``cov_ij(tau)`` the covariance of ``x_i(t)`` and
    ``x_j(t + tau)`` and ``v_i`` the variance of ``x_i``: a correlation coefficient
    (0 for independent units; at lag 0 a weighted mean of the pairs' count correlations
    in ``bin_ms`` windows). Computed from the population count (FFT) minus each unit's
    own autocorrelogram, so it costs O(spikes + bins log bins), whatever the number of
    pairs. Symmetric in ``tau``.

    Parameters
    ----------
    node_ids : array_like of int
        Node id of each spike (ids not in ``units`` are ignored).
    timestamps_ms : array_like of float
        Time of each spike (ms).
    units : array_like of int
        Node ids of the units, sorted.
    tstart_ms, tstop_ms : float
        The window (ms); whole bins only (see :func:`n_whole_bins`).
    bin_ms : float, optional
        Bin width (ms); default 1.
    max_lag_ms : float, optional
        Largest lag (ms), >= 0; default 50.

    Returns
    -------
    lags_ms : ndarray
        ``-L .. L`` bins times ``bin_ms``, ``L = floor(max_lag_ms / bin_ms)`` (at most the
        number of bins minus 1).
    cc : ndarray
        The correlogram at each lag; NaN if fewer than two units' counts vary.

    Raises
    ------
    ValueError
        If ``bin_ms`` is not > 0 or ``max_lag_ms`` is negative.
    """
    max_lag_ms = check_number("max_lag_ms", max_lag_ms, min_value=0.0, units="ms")
    n_bins = n_whole_bins(tstart_ms, tstop_ms, bin_ms)
    n_lag = min(int(max_lag_ms // bin_ms), max(n_bins - 1, 0))
    lags = np.arange(-n_lag, n_lag + 1)
    units = np.asarray(units, dtype=np.uint64)
    if n_bins == 0:
        return lags * bin_ms, np.full(lags.size, np.nan)
    pos, b = _spike_bins(node_ids, timestamps_ms, units, tstart_ms, bin_ms, n_bins)
    cell, c = _sorted_unique(pos * n_bins + b)  # by unit, then bin
    u, t, c = cell // n_bins, cell % n_bins, c.astype(np.float64)
    pop = np.bincount(t, c, minlength=n_bins)
    raw = signal.correlate(pop, pop, mode="full", method="fft")[n_bins - 1 : n_bins + n_lag]
    raw = np.rint(raw)  # sums of integer products
    own = np.zeros(n_lag + 1)
    own[0] = np.sum(c * c)
    for k in range(1, c.size):  # k-th next busy bin of the same unit
        d = t[k:] - t[:-k]
        near = (u[k:] == u[:-k]) & (d <= n_lag)
        if not near.any():
            break
        own += np.bincount(d[near], (c[k:] * c[:-k])[near], minlength=n_lag + 1)
    s1 = np.bincount(u, c, minlength=units.size)
    s2 = np.bincount(u, c * c, minlength=units.size)
    mean = s1 / n_bins
    var = s2 / n_bins - mean**2
    cov = (raw - own) / (n_bins - np.arange(n_lag + 1)) - (mean.sum() ** 2 - np.sum(mean**2))
    norm = np.sqrt(np.clip(var, 0, None)).sum() ** 2 - var.sum()
    half = cov / norm if norm > 0 and n_bins > 0 else np.full(n_lag + 1, np.nan)
    return lags * bin_ms, np.concatenate([half[:0:-1], half])


# -- a file ----------------------------------------------------------------------------
def _rhythm_hz(data: PopulationData, rhythm_hz: float | None) -> float:
    if rhythm_hz is not None:
        return float(rhythm_hz)
    params = data.provenance.get("params") or {}
    if data.provenance.get("generator") == "rhythmic" and "frequency_hz" in params:
        return float(params["frequency_hz"])
    return math.nan


def _target_depth(data: PopulationData) -> float:
    params = data.provenance.get("params") or {}
    if (
        data.provenance.get("generator") == "rhythmic"
        and params.get("depth_definition") == "standard"
    ):
        return float(params.get("depth", math.nan))
    return math.nan


def _nanmean(x: np.ndarray) -> float:
    return float(np.mean(x)) if np.size(x) else math.nan


def group_row(
    data: PopulationData,
    g: int | None,
    *,
    bin_ms: float = 1.0,
    fano_window_ms: float = 100.0,
    rhythm_hz: float | None = None,
    band_hz: tuple[float, float] = DEFAULT_BAND_HZ,
) -> dict[str, Any]:
    """The statistics of one group (``g``) or of the whole population (``g=None``).

    Parameters
    ----------
    data : PopulationData
        The population.
    g : int or None
        Index into ``data.group_keys``, or None for every unit.
    bin_ms : float, optional
        Bin of the population rate (ms) for its power spectrum; default 1.
    fano_window_ms : float, optional
        Counting window of the Fano factor (ms); default 100.
    rhythm_hz : float, optional
        Frequency of the modulation depth (Hz); default the recorded ``frequency_hz`` of
        a ``rhythmic`` population (NaN for the others).
    band_hz : (float, float), optional
        Band of the power-spectrum slope fits (Hz); default 1 to 100 Hz.

    Returns
    -------
    dict
        One row of :func:`spike_stats` (its columns as keys; group ``'all'`` for
        ``g=None``).
    """
    if g is None:
        units, ids, ts = data.units, data.node_ids, data.timestamps_ms
        in_group = np.ones(data.units.size, bool)
    else:
        units, ids, ts = data.select_group(g)
        in_group = data.group_index == g
    rates = unit_rates_hz(ids, units, data.duration_ms)
    _, pop_rate = population_rate_hz(ts, units.size, data.tstart_ms, data.tstop_ms, bin_ms)
    slope, _ = spectral_slope(*power_spectrum(pop_rate, bin_ms), band_hz)
    prof_slope = math.nan
    g_prof = g if g is not None else 0 if data.group_keys.size == 1 else None
    edges = data.profile_edges_ms
    if data.profiles is not None and edges is not None and g_prof is not None:
        dt = float(np.mean(np.diff(edges)))
        prof_slope, _ = spectral_slope(*power_spectrum(data.profiles[g_prof], dt), band_hz)
    f_hz = _rhythm_hz(data, rhythm_hz)
    depth = modulation_depth(ts, f_hz, data.tstart_ms, data.tstop_ms) if f_hz == f_hz else math.nan
    target = data.target_rate_hz[in_group] if data.target_rate_hz is not None else np.zeros(0)
    return {
        "population": data.population,
        "group": "all" if g is None else str(data.group_keys[g]),
        "n_units": int(units.size),
        "n_spikes": int(ts.size),
        "rate_hz": _nanmean(rates),
        "target_rate_hz": _nanmean(target),
        "rate_median_hz": float(np.median(rates)) if rates.size else math.nan,
        "rate_sd_hz": float(np.std(rates)) if rates.size else math.nan,
        "rate_p5_hz": float(np.percentile(rates, 5)) if rates.size else math.nan,
        "rate_p95_hz": float(np.percentile(rates, 95)) if rates.size else math.nan,
        "isi_cv": _nanmean(isi_cv(ids, ts)),
        "fano_factor": _nanmean(
            fano_factors(ids, ts, units, data.tstart_ms, data.tstop_ms, fano_window_ms)
        ),
        "psd_slope": slope,
        "profile_psd_slope": prof_slope,
        "rhythm_hz": f_hz,
        "modulation_depth": depth,
        "target_modulation_depth": _target_depth(data),
    }


def spike_stats(
    path: str | os.PathLike,
    populations: list[str] | str | None = None,
    *,
    bin_ms: float = 1.0,
    fano_window_ms: float = 100.0,
    rhythm_hz: float | None = None,
    band_hz: tuple[float, float] = DEFAULT_BAND_HZ,
    groups: bool = True,
) -> pd.DataFrame:
    """Statistics per population (``group == 'all'``) and per functional group.

    Parameters
    ----------
    path : str or path-like
        A SONATA spikes file.
    populations : str or list of str, optional
        Default: every population of the file.
    bin_ms : float
        Bin of the population rate (ms) for its power spectrum.
    fano_window_ms : float
        Counting window of the Fano factor (ms).
    rhythm_hz : float, optional
        Frequency at which to measure the modulation depth; default the recorded
        ``frequency_hz`` of a ``rhythmic`` population (NaN for the others).
    band_hz : (float, float)
        Frequency band of the power-spectrum slope fits.
    groups : bool
        Also one row per recorded functional group (default True).

    Returns
    -------
    DataFrame
        One row per population (group ``'all'``), then, for a population recorded with
        more than one group, one row per group, with columns ``population``, ``group``,
        ``n_units``, ``n_spikes``, ``rate_hz`` (realised mean rate per unit),
        ``target_rate_hz`` (recorded expected mean; NaN for files without a record),
        ``rate_median_hz``, ``rate_sd_hz``, ``rate_p5_hz``, ``rate_p95_hz``, ``isi_cv``
        (mean over units), ``fano_factor`` (mean over units), ``psd_slope`` (log-log
        slope of the population-rate spectrum), ``profile_psd_slope`` (of the recorded
        group profile, or of the only one on the population row), ``rhythm_hz``,
        ``modulation_depth``, ``target_modulation_depth``.

    Examples
    --------
    >>> df = spike_stats("inputs.h5")  # doctest: +SKIP
    >>> df[["population", "group", "rate_hz", "target_rate_hz"]]  # doctest: +SKIP
    """
    return _stats_rows(
        _load_all(path, populations),
        bin_ms=bin_ms,
        fano_window_ms=fano_window_ms,
        rhythm_hz=rhythm_hz,
        band_hz=band_hz,
        groups=groups,
    )


def _load_all(path: str | os.PathLike, populations: list[str] | str | None) -> list[PopulationData]:
    """Each population (default: all of the file) read once."""
    if isinstance(populations, str):
        populations = [populations]
    return [load_population_data(path, p) for p in populations or population_names(path)]


def _stats_rows(datas: list[PopulationData], *, groups: bool = True, **kw: Any) -> pd.DataFrame:
    rows = []
    for data in datas:
        rows.append(group_row(data, None, **kw))
        if groups and data.group_keys.size > 1:
            rows.extend(group_row(data, g, **kw) for g in range(data.group_keys.size))
    return pd.DataFrame(rows)


def cross_correlations(
    path: str | os.PathLike,
    populations: list[str] | None = None,
    *,
    bin_ms: float = 1.0,
    max_lag_ms: float = 100.0,
) -> pd.DataFrame:
    """Lag of the peak cross-correlation of every pair of populations' rates.

    Each pair is correlated over the union of their windows
    (:func:`cross_correlation_lag`).

    Parameters
    ----------
    path : str or path-like
        A SONATA spikes file.
    populations : list of str, optional
        Default: every population of the file.
    bin_ms : float, optional
        Bin of the population rates (ms); default 1.
    max_lag_ms : float, optional
        Largest lag searched, either way (ms); default 100.

    Returns
    -------
    DataFrame
        Columns ``population_a``, ``population_b``, ``lag_ms`` (positive when b follows
        a) and ``peak_correlation``; one row per pair in file order.
    """
    return _cc_rows(_load_all(path, populations), bin_ms=bin_ms, max_lag_ms=max_lag_ms)


def _cc_rows(datas: list[PopulationData], *, bin_ms: float, max_lag_ms: float) -> pd.DataFrame:
    rows = []
    for da, db in combinations(datas, 2):
        t0, t1 = min(da.tstart_ms, db.tstart_ms), max(da.tstop_ms, db.tstop_ms)
        lag, peak = cross_correlation_lag(
            da.timestamps_ms, db.timestamps_ms, t0, t1, bin_ms=bin_ms, max_lag_ms=max_lag_ms
        )
        rows.append(
            {
                "population_a": da.population,
                "population_b": db.population,
                "lag_ms": lag,
                "peak_correlation": peak,
            }
        )
    return pd.DataFrame(
        rows, columns=["population_a", "population_b", "lag_ms", "peak_correlation"]
    )


# -- correlations and synchrony of a file ----------------------------------------------
def _as_data(source: str | os.PathLike | PopulationData, population: str | None) -> PopulationData:
    if isinstance(source, PopulationData):
        return source
    return load_population_data(source, population)


def _firing_units(data: PopulationData) -> np.ndarray:
    """The units with at least one spike inside the window, sorted."""
    pos, ok = _unit_positions(data.node_ids, data.units)
    ok &= (data.timestamps_ms >= data.tstart_ms) & (data.timestamps_ms < data.tstop_ms)
    return data.units[np.bincount(pos[ok], minlength=data.units.size) > 0]


def _check_windows(windows_ms: Any) -> tuple[float, ...]:
    try:
        values = np.asarray(windows_ms, dtype=np.float64)
    except (TypeError, ValueError):
        values = np.zeros((0,))
    if values.size == 0 or values.ndim > 1:
        raise ValueError(
            f"Invalid value for 'windows_ms': {windows_ms!r}. Allowed: one or more windows > 0 ms."
        )
    return tuple(
        check_number("windows_ms", w, min_value=0.0, strict_min=True, units="ms")
        for w in values.reshape(-1)
    )


def count_correlations(
    source: str | os.PathLike | PopulationData,
    population: str | None = None,
    windows_ms: Any = DEFAULT_WINDOWS_MS,
    n_pairs: int = 2000,
    seed: Any = 0,
    *,
    n_blocks: int = 20,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Pairwise spike-count correlations of a population at several counting windows.

    For each window, the counts of every unit in consecutive whole windows of the
    generation window are correlated (Pearson) for a sample of pairs of units, and the
    mean over pairs is reported with its spread and a confidence interval.

    Parameters
    ----------
    source : path or PopulationData
        A spikes file, or data from :func:`load_population_data`.
    population : str, optional
        Default the file's first population.
    windows_ms : sequence of float
        Counting windows (ms); default 5, 20 and 100 ms.
    n_pairs : int
        Pairs sampled (uniformly, without replacement, from a generator seeded with
        ``seed``) among the units that fire; all pairs when there are no more than this.
        The same pairs serve every window.
    seed : int
        Seed of the pair sample.
    n_blocks : int
        Contiguous time blocks of the jackknife (see below).
    confidence : float
        Coverage of the interval ``ci_low .. ci_high``.

    Returns
    -------
    DataFrame
        One row per window: ``population``, ``window_ms``, ``n_units`` (units that fire:
        silent units have no correlation and are left out), ``n_pairs`` (pairs with a
        defined correlation: a unit whose count never varies is left out),
        ``mean_correlation``, ``sd_correlation`` (spread over the pairs), ``sem``,
        ``ci_low``, ``ci_high``, ``confidence``, ``n_blocks``.

    Notes
    -----
    Confidence interval: ``mean +- t_{n_blocks-1} * sem`` with ``sem`` from a
    delete-one-block jackknife over ``n_blocks`` contiguous time blocks (valid whatever
    the dependence between pairs, e.g. shared units or a common source of copied
    spikes) plus, when the pairs are a sample, the variance of averaging a sample of the
    pairs' true correlations (method of moments: spread over pairs minus their own
    jackknife variances, with the finite-population correction); see
    :func:`summarize_correlations`. It is an interval for the mean correlation of the
    population's pairs in this recording's units: independent units give 0, and ``n``
    units sharing copies of one source with probability ``p`` give ``p`` (Poisson source).

    Examples
    --------
    >>> count_correlations("inputs.h5", "exc", windows_ms=[5, 50])  # doctest: +SKIP
    """
    data = _as_data(source, population)
    windows = _check_windows(windows_ms)
    units = _firing_units(data)
    a, b = sample_pairs(units.size, n_pairs, seed)
    total = units.size * (units.size - 1) // 2
    rows = []
    for w in windows:
        counts = spike_count_matrix(
            data.node_ids, data.timestamps_ms, units, data.tstart_ms, data.tstop_ms, w
        )
        r, r_loo = pair_count_correlations(counts, a, b, n_blocks)
        summary = summarize_correlations(r, r_loo, total_pairs=total, confidence=confidence)
        rows.append(
            {
                "population": data.population,
                "window_ms": w,
                "n_units": int(units.size),
                **summary,
                "confidence": confidence,
            }
        )
    cols = ["population", "window_ms", "n_units", "n_pairs", "mean_correlation"]
    cols += ["sd_correlation", "sem", "ci_low", "ci_high", "confidence", "n_blocks"]
    return pd.DataFrame(rows, columns=cols)


def complexity_distribution(
    source: str | os.PathLike | PopulationData,
    population: str | None = None,
    bin_ms: float = 1.0,
) -> pd.DataFrame:
    """The population's synchrony: how many units spike in the same bin.

    The complexity distribution of Elephant's ``complexity_pdf`` (``Complexity`` with
    ``spread=0``, ``binary=True``): in each whole bin of ``bin_ms`` from the start of the
    window, the number of units that spike (at least once) is its complexity; the
    distribution is the fraction of bins of each complexity. Next to it, what independent
    units with the same per-unit bin activity would give (a Poisson-binomial
    distribution; a binomial when all units have the same rate), so excess synchrony
    shows as excess probability in the tail.

    Parameters
    ----------
    source : path or PopulationData
    population : str, optional
    bin_ms : float
        Bin width (ms); a shorter last piece of the window is not a bin. Spike times
        within 1e-8 bin of an edge count in the next bin (Elephant's tolerance).

    Returns
    -------
    DataFrame
        Rows for complexity 0 up to the largest seen (and as far as the independent
        prediction has mass above 1e-12): ``population``, ``complexity``, ``n_bins``
        (bins of that complexity), ``probability`` (``n_bins`` over all bins: the pdf)
        and ``independent_probability``.

    Examples
    --------
    >>> complexity_distribution("inputs.h5", "exc", bin_ms=2.0)  # doctest: +SKIP
    """
    data = _as_data(source, population)
    hist, active = complexity_histogram(
        data.node_ids, data.timestamps_ms, data.units, data.tstart_ms, data.tstop_ms, bin_ms
    )
    n_bins = int(hist.sum())
    indep = poisson_binomial_pmf(active / n_bins) if n_bins else np.zeros(1)
    tail = np.cumsum(indep[::-1])[::-1]  # P(complexity >= c)
    top = max(hist.size - 1, int(np.flatnonzero(tail > 1e-12).max(initial=0)))
    counts = np.zeros(top + 1, np.int64)
    counts[: hist.size] = hist
    pred = np.zeros(top + 1)
    pred[: min(indep.size, top + 1)] = indep[: top + 1]
    return pd.DataFrame(
        {
            "population": data.population,
            "complexity": np.arange(top + 1),
            "n_bins": counts,
            "probability": counts / n_bins if n_bins else np.full(top + 1, np.nan),
            "independent_probability": pred,
        }
    )


# -- stimulus schedules ------------------------------------------------------------------
SCHEDULE_KEYS = (
    "schedule_group",
    "schedule_start_ms",
    "schedule_stop_ms",
    "schedule_from_hz",
    "schedule_to_hz",
    "schedule_epoch",
)
EPOCH_ORDER = ("burst", "ramp", "off", "silent")
P_BOUNDS = 1e-6  # two-sided probability outside the Poisson count bounds
_LAYER_KEY = re.compile(r"^(layer\d+\.)?schedule_group$")


def schedule_layers(metadata: dict[str, Any]) -> list[str]:
    """Key prefixes under which ``metadata`` holds a stimulus schedule.

    Parameters
    ----------
    metadata : dict
        A population's recorded metadata (``PopulationData.metadata``).

    Returns
    -------
    list of str
        ``''`` for a stimulus file, ``'layer<i>.'`` for each stimulus layer of a
        ``layers`` file (in layer order); empty when there is no schedule.

    Examples
    --------
    >>> schedule_layers({"layer2.schedule_group": [], "layer0.schedule_group": []})
    ['layer0.', 'layer2.']
    """
    found = [m.group(1) or "" for key in metadata if (m := _LAYER_KEY.match(key))]
    return sorted(found, key=lambda p: (p != "", int(p[5:-1]) if p else -1))


@dataclass
class RecordedSchedule:
    """A stimulus layer's schedule, read back from a file's metadata.

    Made by :func:`read_schedule`; the fields are also its attributes.

    Parameters
    ----------
    population, prefix : str
        Population and key prefix (``''`` or ``'layer<i>.'``).
    node_ids : ndarray of uint64
        Units, sorted.
    group_index : ndarray of int
        Per unit, its block of the schedule (index into ``group_keys``).
    group_keys : list of str
        The key of each group (an assembly, ``'<assembly>/step <k>'`` or ``'none'``).
    group_assembly : ndarray of int
        Per group, its assembly (index into ``assembly_names``; -1 for none).
    assembly_names : list of str
        The assemblies, in recorded order.
    target_hz : ndarray
        Per unit, this layer's recorded target rate.
    group, start_ms, stop_ms, from_hz, to_hz, epoch : ndarray
        The schedule rows, sorted by group then start: the rate of ``group`` goes linearly
        from ``from_hz`` to ``to_hz`` over ``[start_ms, stop_ms)``.
    others : list of RecordedSchedule, optional
        The population's other stimulus layers (their spikes add to this layer's).
    baseline_hz : ndarray or None, optional
        Per unit, the target rate of the other layers that have no schedule (0 without
        layers; None is read as 0).
    """

    population: str
    prefix: str
    node_ids: np.ndarray
    group_index: np.ndarray
    group_keys: list[str]
    group_assembly: np.ndarray
    assembly_names: list[str]
    target_hz: np.ndarray
    group: np.ndarray
    start_ms: np.ndarray
    stop_ms: np.ndarray
    from_hz: np.ndarray
    to_hz: np.ndarray
    epoch: np.ndarray
    others: list[RecordedSchedule] = field(default_factory=list)
    baseline_hz: np.ndarray | None = None

    @property
    def n_units_per_group(self) -> np.ndarray:
        return np.bincount(self.group_index, minlength=len(self.group_keys))

    @property
    def layer(self) -> int | None:
        """The layer index of a ``layers`` input (None for a stimulus file)."""
        return int(self.prefix[5:-1]) if self.prefix else None

    def assembly_name(self, a: int) -> str:
        return "none" if a < 0 else self.assembly_names[a]

    def row_bounds(self) -> np.ndarray:
        """``rows[bounds[g]:bounds[g + 1]]`` are the rows of group ``g``.

        Returns
        -------
        ndarray of int
            ``bounds``, one more than the number of groups.
        """
        return np.searchsorted(self.group, np.arange(len(self.group_keys) + 1))

    def row_of(self, unit_pos: np.ndarray, times_ms: np.ndarray) -> np.ndarray:
        """The row in force for each (unit position, time); -1 outside every row.

        Parameters
        ----------
        unit_pos : ndarray of int
            Positions of the units in ``node_ids``.
        times_ms : ndarray of float
            A time (ms) for each.

        Returns
        -------
        ndarray of int64
            Index of the row of the unit's group whose ``[start_ms, stop_ms)`` holds the
            time, or -1.
        """
        g = self.group_index[unit_pos]
        bounds = self.row_bounds()
        out = np.full(g.size, -1, np.int64)
        order = np.argsort(g, kind="stable")
        cuts = np.searchsorted(g[order], np.arange(len(self.group_keys) + 1))
        for k in np.flatnonzero(np.diff(cuts)):  # one pass per group, not per spike
            sel = order[cuts[k] : cuts[k + 1]]
            lo, hi = bounds[k], bounds[k + 1]
            if hi == lo:
                continue
            r = lo + np.searchsorted(self.start_ms[lo:hi], times_ms[sel], side="right") - 1
            inside = (r >= lo) & (times_ms[sel] < self.stop_ms[np.clip(r, lo, hi - 1)])
            out[sel[inside]] = r[inside]
        return out

    def integral(self, times_ms: np.ndarray) -> np.ndarray:
        """Integral of each group's scheduled rate up to each time.

        Parameters
        ----------
        times_ms : array_like of float
            Times (ms).

        Returns
        -------
        ndarray of float64
            ``groups x times``, in Hz ms (divide by 1000 for expected spikes per unit);
            exact for the linear rows, 0 before a group's first row, constant in gaps
            between rows and after the last.
        """
        t = np.asarray(times_ms, dtype=np.float64)
        bounds = self.row_bounds()
        out = np.zeros((len(self.group_keys), t.size))
        for g in range(len(self.group_keys)):  # one pass per group
            lo, hi = bounds[g], bounds[g + 1]
            if hi == lo:
                continue
            start, f0, f1 = self.start_ms[lo:hi], self.from_hz[lo:hi], self.to_hz[lo:hi]
            dur = self.stop_ms[lo:hi] - start
            area = np.concatenate([[0.0], np.cumsum(0.5 * (f0 + f1) * dur)])
            r = np.clip(np.searchsorted(start, t, side="right") - 1, 0, hi - lo - 1)
            x = np.clip(t - start[r], 0.0, dur[r])
            slope = np.divide(f1 - f0, dur, out=np.zeros_like(dur), where=dur > 0)
            out[g] = area[r] + f0[r] * x + 0.5 * slope[r] * x**2
        return out

    def bin_means_hz(self, edges_ms: np.ndarray) -> np.ndarray:
        """Scheduled rate of each group averaged over each bin (``groups x bins``, Hz).

        Exact for the linear rows (integral over each bin / bin width); 0 where no row is
        in force.

        Parameters
        ----------
        edges_ms : array_like of float
            Bin edges (ms), increasing.

        Returns
        -------
        ndarray of float64
            ``groups x bins`` mean rates (Hz).
        """
        edges = np.asarray(edges_ms, dtype=np.float64)
        return np.diff(self.integral(edges), axis=1) / np.diff(edges)

    def _baseline(self) -> np.ndarray:
        return np.zeros(self.node_ids.size) if self.baseline_hz is None else self.baseline_hz

    def other_spikes(self, group: np.ndarray, start_ms: np.ndarray, stop_ms: np.ndarray):
        """Expected spikes of the other layers, summed over the units of a group.

        Other stimulus layers count by their schedules, the rest at their target rates
        (``baseline_hz``).

        Parameters
        ----------
        group : ndarray of int
            Groups of this schedule, one per entry.
        start_ms, stop_ms : ndarray of float
            The interval (ms) of each entry.

        Returns
        -------
        ndarray of float64
            Expected spikes of the other layers in the entry's group's units over
            ``[start_ms, stop_ms)``, one value per entry.
        """
        n_g = len(self.group_keys)
        base = np.bincount(self.group_index, self._baseline(), minlength=n_g)
        out = base[group] * (np.asarray(stop_ms) - np.asarray(start_ms)) / 1000.0
        for o in self.others:
            n_h = len(o.group_keys)
            both = np.bincount(self.group_index * n_h + o.group_index, minlength=n_g * n_h)
            span = o.integral(stop_ms) - o.integral(start_ms)  # other groups x entries
            out = out + np.sum(both.reshape(n_g, n_h)[group] * span.T, axis=1) / 1000.0
        return out

    def expected_bin_spikes(
        self, unit_key: np.ndarray, n_keys: int, edges_ms: np.ndarray
    ) -> np.ndarray:
        """Expected spikes of all layers in each bin, summed over the units of each key.

        Parameters
        ----------
        unit_key : ndarray of int
            Per unit (in ``node_ids`` order), a label ``0 .. n_keys - 1`` (e.g. its
            assembly).
        n_keys : int
            Number of labels.
        edges_ms : array_like of float
            Bin edges (ms).

        Returns
        -------
        ndarray of float64
            ``n_keys x bins``: this schedule, the other stimulus layers and the baseline
            of every unit with that label.
        """
        width_s = np.diff(np.asarray(edges_ms, dtype=np.float64)) / 1000.0
        out = np.bincount(unit_key, self._baseline(), minlength=n_keys)[:, None] * width_s
        for s in (self, *self.others):
            n_h = len(s.group_keys)
            n = np.bincount(unit_key * n_h + s.group_index, minlength=n_keys * n_h)
            out = out + n.reshape(n_keys, n_h) @ (s.bin_means_hz(edges_ms) * width_s)
        return out


def _schedule_error(data: PopulationData) -> ValueError:
    return ValueError(
        f"No stimulus schedule in population '{data.population}': its metadata has "
        f"{_short_list(sorted(data.metadata), 12)}; a 'stimulus' generator (or a 'layers' "
        "input with a stimulus layer) records one."
    )


def read_schedule(
    source: str | os.PathLike | PopulationData,
    population: str | None = None,
    *,
    layer: int | None = None,
) -> RecordedSchedule:
    """Read the stimulus schedule of a population (a stimulus file or a stimulus layer).

    Parameters
    ----------
    source : path or PopulationData
    population : str, optional
    layer : int, optional
        Which layer of a ``layers`` file; needed only when several layers are stimuli.

    Returns
    -------
    RecordedSchedule
        With the other stimulus layers in ``others`` and the target rates of the
        remaining layers in ``baseline_hz``.

    Raises
    ------
    ValueError
        If the population has no schedule (or ``layer`` is not one of its stimulus
        layers, or several are and none is chosen).
    KeyError
        If a schedule key is missing.
    """
    data = _as_data(source, population)
    meta = data.metadata
    prefixes = schedule_layers(meta)
    if not prefixes:
        raise _schedule_error(data)
    if layer is not None:
        want = f"layer{check_int('layer', layer, min_value=0)}."
        if prefixes == [""]:
            raise ValueError(
                f"Invalid value for 'layer': {layer}. Population '{data.population}' is a "
                "stimulus, not a 'layers' input: leave 'layer' out."
            )
        if want not in prefixes:
            raise ValueError(
                f"Invalid value for 'layer': {layer}. Allowed: a stimulus layer of "
                f"'{data.population}': {', '.join(p[5:-1] for p in prefixes)}."
            )
    elif len(prefixes) > 1:
        raise ValueError(
            f"Population '{data.population}' has several stimulus layers "
            f"({', '.join(p[5:-1] for p in prefixes)}); choose one with 'layer'."
        )
    else:
        want = prefixes[0]
    layers = {p: _read_layer(data, p) for p in prefixes}
    main = layers.pop(want)
    main.others = list(layers.values())
    main.baseline_hz = np.zeros(main.node_ids.size)
    if want and "target_rate_hz" in meta:  # a layers input: what the other layers add
        total = np.asarray(meta["target_rate_hz"], np.float64)[np.argsort(meta["node_ids"])]
        rest = total - main.target_hz - sum(o.target_hz for o in main.others)
        main.baseline_hz = np.clip(rest, 0.0, None)
    return main


def _read_layer(data: PopulationData, p: str) -> RecordedSchedule:
    """One layer's schedule (key prefix ``p``), units in sorted node-id order."""
    meta = data.metadata

    def get(key: str) -> np.ndarray:
        if p + key not in meta:
            raise KeyError(
                f"No '{p + key}' in the metadata of '{data.population}' (a schedule needs "
                f"{', '.join(p + k for k in SCHEDULE_KEYS)}, group_index, group_keys)."
            )
        return np.asarray(meta[p + key])

    node_ids = np.asarray(meta["node_ids"]).astype(np.uint64)
    order = np.argsort(node_ids)
    group_index = get("group_index")[order].astype(np.int64)
    group_keys = [str(k) for k in get("group_keys")]
    if p + "assembly_index" in meta:
        a_index = np.asarray(meta[p + "assembly_index"]).astype(np.int64)
        if p + "assembly_node_ids" in meta:  # aligned to its own node ids
            a_ids = np.asarray(meta[p + "assembly_node_ids"]).astype(np.uint64)
            srt = np.argsort(a_ids)
            at, found = _unit_positions(node_ids, a_ids[srt])
            a_index = np.where(found, a_index[srt][np.minimum(at, a_ids.size - 1)], -1)
        a_index = a_index[order]
        names = [str(k) for k in meta.get(p + "assembly_names", [])]
    else:  # no assemblies recorded: each group is one
        names = [k for k in group_keys if k != "none"]
        a_index = np.asarray([names.index(k) if k in names else -1 for k in group_keys])[
            group_index
        ]
    group_assembly = np.full(len(group_keys), -2, np.int64)
    group_assembly[group_index] = a_index
    for g in np.flatnonzero(group_assembly == -2):  # groups without units: by key
        head = group_keys[g].split("/")[0]
        group_assembly[g] = names.index(head) if head in names else -1
    own = meta.get(p + "target_rate_hz", np.zeros(node_ids.size))
    rows = np.lexsort((get("schedule_start_ms"), get("schedule_group")))
    return RecordedSchedule(
        data.population,
        p,
        node_ids[order],
        group_index,
        group_keys,
        group_assembly,
        names,
        np.asarray(own, np.float64)[order],
        get("schedule_group").astype(np.int64)[rows],
        get("schedule_start_ms").astype(np.float64)[rows],
        get("schedule_stop_ms").astype(np.float64)[rows],
        get("schedule_from_hz").astype(np.float64)[rows],
        get("schedule_to_hz").astype(np.float64)[rows],
        np.asarray([str(e) for e in get("schedule_epoch")], dtype=object)[rows],
    )


def _epoch_rank(epoch: str) -> tuple[int, str]:
    return (EPOCH_ORDER.index(epoch) if epoch in EPOCH_ORDER else len(EPOCH_ORDER), epoch)


def assembly_epoch_stats(
    source: str | os.PathLike | PopulationData,
    population: str | None = None,
    *,
    layer: int | None = None,
    p_bounds: float = P_BOUNDS,
) -> pd.DataFrame:
    """Measured against scheduled rate of each assembly in each kind of epoch.

    For every assembly (and the units in none) and every epoch kind of the schedule
    (``burst``, ``ramp``, ``off``, ``silent``), the spikes of the assembly's units inside
    the rows of that kind are counted and compared with the expected count: the
    schedule's integral over those rows plus, in a ``layers`` file, what the other layers
    add to the same units over the same time (other stimulus layers by their own
    schedules, exactly; the others at their recorded target rates, i.e. their mean rate:
    exact for constant-rate layers such as ``poisson``, an approximation for modulated
    ones). For Poisson trains the summed count is Poisson, so the bounds say whether the
    measured rate is what was asked for.

    Parameters
    ----------
    source : path or PopulationData
        A file whose population (or one of its layers) was made by the ``stimulus``
        generator.
    population : str, optional
    layer : int, optional
        See :func:`read_schedule`.
    p_bounds : float
        Two-sided probability of a Poisson count outside ``lower_hz .. upper_hz``.

    Returns
    -------
    DataFrame
        One row per (assembly, epoch), assemblies in recorded order then ``none``, epochs
        ``burst, ramp, off, silent``: ``population``, ``layer`` (the stimulus layer of a
        ``layers`` file, else None), ``assembly``, ``epoch``,
        ``n_units``, ``duration_ms`` (time in that epoch per unit), ``n_spikes``,
        ``expected_spikes``, ``measured_rate_hz``, ``scheduled_rate_hz`` (expected rate:
        schedule plus ``baseline_hz``), ``baseline_hz`` (what the other layers add),
        ``lower_hz``,
        ``upper_hz`` (Poisson quantiles ``p_bounds/2`` and ``1 - p_bounds/2`` of the
        summed count, as rates), ``within_bounds``.

    Raises
    ------
    ValueError
        If the population has no stimulus schedule.

    Examples
    --------
    >>> assembly_epoch_stats("stimulus.h5", "thalamus")  # doctest: +SKIP
    """
    p_bounds = check_number("p_bounds", p_bounds, min_value=0.0, max_value=1.0, strict_min=True)
    data = _as_data(source, population)
    sched = read_schedule(data, layer=layer)
    pos, ok = _unit_positions(data.node_ids, sched.node_ids)
    row = sched.row_of(pos[ok], data.timestamps_ms[ok])
    n_rows = sched.group.size
    measured = np.bincount(row[row >= 0], minlength=n_rows)
    n_g = sched.n_units_per_group[sched.group]
    dur_s = (sched.stop_ms - sched.start_ms) / 1000.0
    rows = pd.DataFrame(
        {
            "a": sched.group_assembly[sched.group],
            "epoch": sched.epoch,
            "group": sched.group,
            "n_units": n_g,
            "unit_s": n_g * dur_s,
            "n_spikes": measured,
            "scheduled": n_g * 0.5 * (sched.from_hz + sched.to_hz) * dur_s,
            "baseline": sched.other_spikes(sched.group, sched.start_ms, sched.stop_ms),
        }
    )
    rows = rows[rows["n_units"] > 0]
    units = rows.drop_duplicates(["a", "epoch", "group"]).groupby(["a", "epoch"])["n_units"].sum()
    sums = rows.groupby(["a", "epoch"])[["unit_s", "n_spikes", "scheduled", "baseline"]].sum()
    keys = sorted(sums.index, key=lambda k: (k[0] < 0, k[0], _epoch_rank(k[1])))
    out = []
    for a, epoch in keys:
        s = sums.loc[(a, epoch)]
        mu = float(s["scheduled"] + s["baseline"])
        lo, hi = poisson.ppf([p_bounds / 2, 1 - p_bounds / 2], mu)
        n = int(s["n_spikes"])
        out.append(
            {
                "population": data.population,
                "layer": sched.layer,
                "assembly": sched.assembly_name(int(a)),
                "epoch": epoch,
                "n_units": int(units.loc[(a, epoch)]),
                "duration_ms": 1000.0 * s["unit_s"] / units.loc[(a, epoch)],
                "n_spikes": n,
                "expected_spikes": mu,
                "measured_rate_hz": n / s["unit_s"],
                "scheduled_rate_hz": mu / s["unit_s"],
                "baseline_hz": s["baseline"] / s["unit_s"],
                "lower_hz": lo / s["unit_s"],
                "upper_hz": hi / s["unit_s"],
                "within_bounds": bool(lo <= n <= hi),
            }
        )
    cols = ["population", "layer", "assembly", "epoch", "n_units", "duration_ms", "n_spikes"]
    cols += ["expected_spikes", "measured_rate_hz", "scheduled_rate_hz", "baseline_hz"]
    cols += ["lower_hz", "upper_hz", "within_bounds"]
    return pd.DataFrame(out, columns=cols)


def has_schedule(data: PopulationData) -> bool:
    """Whether the population (or one of its layers) holds a stimulus schedule.

    Parameters
    ----------
    data : PopulationData
        The population.

    Returns
    -------
    bool
        True if :func:`schedule_layers` finds one in its metadata.
    """
    return bool(schedule_layers(data.metadata))


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for rec in df.to_dict(orient="records"):
        out.append(
            {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in rec.items()}
        )
    return out


def stats_report(path: str | os.PathLike, **kwargs: Any) -> dict[str, Any]:
    """Everything of the statistics of a file as a JSON-able dict.

    Keyword arguments go to :func:`spike_stats` (``bin_ms``, ``fano_window_ms``,
    ``rhythm_hz``, ``band_hz``, ``groups``), ``max_lag_ms`` to
    :func:`cross_correlations`, ``windows_ms``, ``n_pairs`` and ``pair_seed`` (its
    ``seed``) to :func:`count_correlations`, ``complexity_bin_ms`` to
    :func:`complexity_distribution`; ``populations`` selects populations;
    ``correlations=False`` leaves out the count correlations and the complexity
    distribution; ``assemblies`` is None (default: the assembly/epoch table of every
    population with a stimulus schedule), True (every selected population must have
    one: ValueError otherwise) or False (none). NaN becomes None.

    Parameters
    ----------
    path : str or path-like
        A SONATA spikes file.
    **kwargs
        The options above: ``populations``, ``bin_ms``, ``fano_window_ms``,
        ``rhythm_hz``, ``band_hz``, ``groups``, ``max_lag_ms``, ``windows_ms``,
        ``n_pairs``, ``pair_seed``, ``complexity_bin_ms``, ``correlations``,
        ``assemblies``.

    Returns
    -------
    dict
        ``{"path", "stats": [row, ...], "cross_correlations": [...],
        "count_correlations": [...], "complexity": [...], "assembly_epochs": [...]}``,
        rows as in :func:`spike_stats`, :func:`cross_correlations`,
        :func:`count_correlations`, :func:`complexity_distribution` and
        :func:`assembly_epoch_stats`.

    Raises
    ------
    TypeError
        For an unknown keyword argument.
    ValueError
        For ``assemblies=True`` on a population without a stimulus schedule.
    """
    max_lag_ms = kwargs.pop("max_lag_ms", 100.0)
    corr = {
        "windows_ms": kwargs.pop("windows_ms", DEFAULT_WINDOWS_MS),
        "n_pairs": kwargs.pop("n_pairs", 2000),
        "seed": kwargs.pop("pair_seed", 0),
    }
    complexity_bin_ms = kwargs.pop("complexity_bin_ms", 1.0)
    with_corr = bool(kwargs.pop("correlations", True))
    assemblies = kwargs.pop("assemblies", None)
    datas = _load_all(path, kwargs.pop("populations", None))  # each population read once
    kw: dict[str, Any] = {"bin_ms": 1.0, "fano_window_ms": 100.0, "rhythm_hz": None}
    kw["band_hz"] = DEFAULT_BAND_HZ
    unknown = set(kwargs) - set(kw) - {"groups"}
    if unknown:
        raise TypeError(f"stats_report() got unexpected keyword arguments: {sorted(unknown)}")
    kw.update(kwargs)
    if assemblies:
        for data in datas:
            if not has_schedule(data):
                raise _schedule_error(data)
    rows = _stats_rows(datas, **kw)
    cc = _cc_rows(datas, bin_ms=kw["bin_ms"], max_lag_ms=max_lag_ms)
    out: dict[str, Any] = {"path": str(path), "stats": _records(rows)}
    out["cross_correlations"] = _records(cc)
    out["count_correlations"], out["complexity"] = [], []
    if with_corr:
        for data in datas:
            out["count_correlations"] += _records(count_correlations(data, **corr))
            out["complexity"] += _records(complexity_distribution(data, bin_ms=complexity_bin_ms))
    out["assembly_epochs"] = []
    if assemblies is not False:
        for data in datas:
            for prefix in schedule_layers(data.metadata):
                layer = int(prefix[5:-1]) if prefix else None
                out["assembly_epochs"] += _records(assembly_epoch_stats(data, layer=layer))
    return out


# -- what is in a file -----------------------------------------------------------------
def _attr(val: Any) -> Any:
    if isinstance(val, bytes):
        return val.decode(errors="replace")
    if isinstance(val, np.ndarray):
        return val.tolist()
    if isinstance(val, np.generic):
        return val.item()
    return val


def describe_file(path: str | os.PathLike) -> dict[str, Any]:
    """What a spikes file holds: populations, counts, time range, sorting, attributes.

    Parameters
    ----------
    path : str or path-like
        A SONATA spikes file, from any tool. Its datasets are described as stored: the
        ``sorting`` label is reported, not checked.

    Returns
    -------
    dict
        ``{"path", "attrs": root attributes, "populations": [{"population", "n_spikes",
        "n_nodes_firing", "node_id_min", "node_id_max", "t_first_ms", "t_last_ms",
        "sorting" (label as stored), "sorting_type" ('enum' or the type it has),
        "timestamps_dtype", "node_ids_dtype", "compression", "attrs" (other attributes),
        "provenance" (see :func:`~raster_maker.reading.read_provenance`), "metadata"
        (names and shapes of the recorded datasets)}, ...]}``. JSON-able.

    Raises
    ------
    SpikesFileError
        The file cannot be opened, or a population cannot be taken apart (a group where a
        dataset belongs, a scalar, text ids, a malformed generation record); the message
        names the file and the problem (``raster-maker inspect`` then prints an outline).
    """
    from .reading import SpikesFileError

    try:
        return _describe_file(path)
    except SpikesFileError:
        raise
    except (OSError, KeyError, TypeError, ValueError, AttributeError) as err:
        problem = f"cannot take it apart ({type(err).__name__}: {err})."
        raise SpikesFileError(path, problem) from err


def _describe_file(path: str | os.PathLike) -> dict[str, Any]:
    import h5py

    from .reading import _open, _populations, time_scale

    out: dict[str, Any] = {"path": str(path), "populations": []}
    with _open(path) as h5:
        out["attrs"] = {k: _attr(v) for k, v in h5.attrs.items()}
        spikes = h5.get("spikes")
        pops = _populations(spikes) if isinstance(spikes, h5py.Group) else []
        for pop in pops:
            grp = spikes[pop]
            ts = grp["timestamps"][:] if "timestamps" in grp else np.zeros(0)
            if "timestamps" in grp and time_scale(grp["timestamps"]) == 1000.0:
                ts = ts * 1000.0  # a file in seconds: report ms, as the readers do
            ids = grp["node_ids"][:] if "node_ids" in grp else np.zeros(0, np.uint64)
            label, kind = None, None
            if "sorting" in grp.attrs:
                enum = h5py.check_enum_dtype(grp.attrs.get_id("sorting").dtype)
                raw = grp.attrs["sorting"]
                if enum is not None:
                    label = {v: k for k, v in enum.items()}.get(int(raw), str(raw))
                    kind = "enum"
                else:
                    label, kind = _attr(raw), type(_attr(raw)).__name__
            meta = h5.get(f"raster_maker/{pop}")
            out["populations"].append(
                {
                    "population": pop,
                    "n_spikes": int(ts.size),
                    "n_nodes_firing": int(_sorted_unique(ids)[0].size),
                    "node_id_min": int(ids.min()) if ids.size else None,
                    "node_id_max": int(ids.max()) if ids.size else None,
                    "t_first_ms": float(ts.min()) if ts.size else None,
                    "t_last_ms": float(ts.max()) if ts.size else None,
                    "sorting": label,
                    "sorting_type": kind,
                    "timestamps_dtype": str(grp["timestamps"].dtype)
                    if "timestamps" in grp
                    else None,
                    "node_ids_dtype": str(grp["node_ids"].dtype) if "node_ids" in grp else None,
                    "compression": grp["timestamps"].compression if "timestamps" in grp else None,
                    "attrs": {
                        k: _attr(v)
                        for k, v in grp.attrs.items()
                        if k != "sorting" and not k.startswith("raster_maker_")
                    },
                    "provenance": {},
                    "metadata": {k: list(d.shape) for k, d in meta.items()} if meta else {},
                }
            )
    for rec in out["populations"]:
        rec["provenance"] = read_provenance(path, rec["population"])
    return out
