"""Statistics of a spikes file: numbers that show the inputs are what was asked for.

Pure functions (arrays in, numbers out) compute each statistic; :func:`spike_stats`,
:func:`cross_correlations` and :func:`stats_report` apply them to a file, per
population and per functional group, using the generation record (provenance and
``/raster_maker/<population>`` metadata) where there is one and the spikes otherwise.
The figure of :mod:`raster_maker.plotting` is drawn from the same functions, so its
panels and this report agree.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy import signal

from ._check import check_number
from .sonata import population_names, read_metadata, read_provenance, read_spikes

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
]

DEFAULT_BAND_HZ = (1.0, 100.0)


# -- loading ---------------------------------------------------------------------------
@dataclass
class PopulationData:
    """One population's spikes with what is known about how it was generated.

    Attributes
    ----------
    population : str
    node_ids, timestamps_ms : ndarray
        One entry per spike.
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
        The ``raster_maker_*`` attributes (see :func:`~raster_maker.sonata.read_provenance`).
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
    _spike_order: tuple[np.ndarray, np.ndarray] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @property
    def duration_ms(self) -> float:
        return self.tstop_ms - self.tstart_ms

    def group_position(self, group: str | int | None) -> int:
        """Index of a group given by key (or position); None is the first group."""
        if group is None:
            return 0
        keys = [str(k) for k in self.group_keys]
        if str(group) in keys:
            return keys.index(str(group))
        raise KeyError(
            f"No group {group!r} in population '{self.population}'; groups: {_short_list(keys)}."
        )

    def select_group(self, g: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(units, node_ids, timestamps_ms)`` of the units of group ``g`` and their spikes."""
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
    df = read_spikes(path, population)
    ids = df["node_ids"].to_numpy(np.uint64)
    ts = df["timestamps"].to_numpy(np.float64)
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
        units = np.unique(ids)
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

    Returns
    -------
    edges_ms : ndarray
        Bin edges (the last bin may be shorter, ending at ``tstop_ms``).
    rate_hz : ndarray
        Mean rate per unit in each bin (Hz).
    """
    bin_ms = check_number("bin_ms", bin_ms, min_value=0.0, strict_min=True, units="ms")
    edges = _edges(tstart_ms, tstop_ms, bin_ms)
    counts, _ = np.histogram(timestamps_ms, bins=edges)
    return edges, counts / (np.diff(edges) / 1000.0) / max(int(n_units), 1)


def isi_cv(node_ids: np.ndarray, timestamps_ms: np.ndarray) -> np.ndarray:
    """Coefficient of variation of the inter-spike intervals of each unit that fired.

    Returns one value per unit with at least 3 spikes (2 intervals), in node-id order;
    a Poisson train has CV 1.
    """
    ids = np.asarray(node_ids, dtype=np.uint64)
    ts = np.asarray(timestamps_ms, dtype=np.float64)
    if ids.size < 3:
        return np.zeros(0)
    order = np.lexsort((ts, ids))
    ids, ts = ids[order], ts[order]
    same = ids[1:] == ids[:-1]
    isi = np.diff(ts)[same]
    _, unit = np.unique(ids[1:][same], return_inverse=True)
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

    Segments of up to 2048 samples (50 % overlap), mean removed. Returns
    ``(frequencies_hz, power)`` without the 0 Hz bin.
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
    """The statistics of one group (``g``) or of the whole population (``g=None``)."""
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
    if data.profiles is not None and g_prof is not None:
        dt = float(np.mean(np.diff(data.profile_edges_ms)))
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


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for rec in df.to_dict(orient="records"):
        out.append(
            {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in rec.items()}
        )
    return out


def stats_report(path: str | os.PathLike, **kwargs: Any) -> dict[str, Any]:
    """Everything of :func:`spike_stats` and :func:`cross_correlations` as a JSON-able dict.

    Keyword arguments go to :func:`spike_stats` (``bin_ms``, ``fano_window_ms``,
    ``rhythm_hz``, ``band_hz``) and ``max_lag_ms`` to :func:`cross_correlations`.
    NaN becomes None.

    Returns
    -------
    dict
        ``{"path": ..., "stats": [row, ...], "cross_correlations": [row, ...]}``.
    """
    max_lag_ms = kwargs.pop("max_lag_ms", 100.0)
    datas = _load_all(path, kwargs.pop("populations", None))  # each population read once
    kw = {"bin_ms": 1.0, "fano_window_ms": 100.0, "rhythm_hz": None, "band_hz": DEFAULT_BAND_HZ}
    unknown = set(kwargs) - set(kw) - {"groups"}
    if unknown:
        raise TypeError(f"stats_report() got unexpected keyword arguments: {sorted(unknown)}")
    kw.update(kwargs)
    stats = _stats_rows(datas, **kw)
    cc = _cc_rows(datas, bin_ms=kw["bin_ms"], max_lag_ms=max_lag_ms)
    return {"path": str(path), "stats": _records(stats), "cross_correlations": _records(cc)}


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

    Returns
    -------
    dict
        ``{"path", "attrs": root attributes, "populations": [{"population", "n_spikes",
        "n_nodes_firing", "node_id_min", "node_id_max", "t_first_ms", "t_last_ms",
        "sorting" (label as stored), "sorting_type" ('enum' or the type it has),
        "timestamps_dtype", "node_ids_dtype", "compression", "attrs" (other attributes),
        "provenance" (see :func:`~raster_maker.sonata.read_provenance`), "metadata"
        (names and shapes of the recorded datasets)}, ...]}``. JSON-able.
    """
    import h5py

    out: dict[str, Any] = {"path": str(path), "populations": []}
    with h5py.File(path, "r") as h5:
        out["attrs"] = {k: _attr(v) for k, v in h5.attrs.items()}
        spikes = h5.get("spikes")
        pops = list(spikes) if isinstance(spikes, h5py.Group) else []
        for pop in pops:
            grp = spikes[pop]
            ts = grp["timestamps"][:] if "timestamps" in grp else np.zeros(0)
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
                    "n_nodes_firing": int(np.unique(ids).size),
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
