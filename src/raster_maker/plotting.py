"""The inputs figure: noise trace, its z-score histogram and spectrum, a group's raster, rates.

As in the original study's figure documenting its inputs:

A. a z-scored noise trace (the recorded rate profile of a functional group, or without a
   generation record that group's population rate in 1 ms bins);
B. the histogram of its z-scores;
C. its power spectrum on log-log axes with the fitted slope (1/f noise: -1);
D. the raster of the group (unit id against time), its population rate on a second axis;
E. the distribution of the units' firing rates, optionally over a reference distribution
   (e.g. experimental rates).

and, when asked (always for the ``correlated``, ``mip``, ``sip`` and ``cpp`` generators
in the command line):

F. the mean pairwise spike-count correlation against the counting window, with its
   confidence interval and its spread over pairs;
G. the population cross-correlogram pooled over all pairs (correlation units).

A stimulus population gets its own figure (:func:`plot_assemblies`): per assembly its
scheduled rate beside its measured rate, and a raster sorted by assembly.

:func:`input_figure_data`, :func:`correlation_figure_data` and
:func:`assembly_figure_data` compute every number (with the functions of
:mod:`raster_maker.report`, so the figures agree with the statistics report); the
``plot_*`` functions only draw them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._check import check_int, check_number
from .report import (
    DEFAULT_BAND_HZ,
    DEFAULT_WINDOWS_MS,
    PopulationData,
    _as_data,
    _unit_positions,
    count_correlations,
    load_population_data,
    population_cross_correlogram,
    population_rate_hz,
    power_spectrum,
    read_schedule,
    spectral_slope,
    unit_rates_hz,
)

__all__ = [
    "InputFigureData",
    "input_figure_data",
    "plot_inputs",
    "plot_noise_trace",
    "plot_zscore_histogram",
    "plot_power_spectrum",
    "plot_group_raster",
    "plot_rate_distribution",
    "CORRELATED_GENERATORS",
    "wants_correlations",
    "CorrelationFigureData",
    "correlation_figure_data",
    "plot_correlation_windows",
    "plot_cross_correlogram",
    "AssemblyFigureData",
    "assembly_figure_data",
    "plot_assembly_rate",
    "plot_assembly_raster",
    "plot_assemblies",
]


@dataclass
class InputFigureData:
    """The numbers of the inputs figure (see the module docstring for the panels).

    Made by :func:`input_figure_data`; the fields are also its attributes.

    Parameters
    ----------
    population : str
        The population.
    group : str
        The functional group's key.
    trace_source : {'profile', 'population rate'}
        What the trace is: the group's recorded rate profile, or (without one) the
        group's population rate in 1 ms bins.
    trace_t_ms : numpy.ndarray
        Bin centres of the trace (ms).
    trace_z : numpy.ndarray
        The z-scored trace (panel A).
    zscore_counts, zscore_edges : numpy.ndarray
        Histogram of ``trace_z``: counts of bins and the edges (panel B).
    psd_freqs_hz, psd_power : numpy.ndarray
        Welch power spectrum of ``trace_z``: frequencies (Hz, without 0) and power
        (z^2/Hz) (panel C).
    psd_slope, psd_intercept : float
        Line fitted to ``log10 power`` against ``log10 f`` inside ``band_hz``
        (``power ~ 10**psd_intercept * f**psd_slope``); NaN without enough points.
    band_hz : (float, float)
        The band of the fit (Hz).
    raster_node_ids, raster_times_ms : numpy.ndarray
        Node id and time (ms) of each spike of the group (panel D).
    group_n_units : int
        Number of units in the group.
    rate_edges_ms, group_rate_hz : numpy.ndarray
        The group's population rate (spikes per unit per second, Hz) in bins with
        these edges (ms) (panel D).
    unit_rates_hz : numpy.ndarray
        Mean firing rate (Hz) of every unit of the population (panel E).
    rate_edges_hz, rate_counts : numpy.ndarray
        Histogram of ``unit_rates_hz``: edges (Hz) and counts of units.
    reference_rates_hz : numpy.ndarray or None, optional
        Reference rates (Hz) drawn under the histogram, if any.
    reference_counts : numpy.ndarray or None, optional
        Their histogram on the same edges.
    reference_label : str, optional
        The legend label of the reference rates.
    """

    population: str
    group: str
    trace_source: str  # 'profile' or 'population rate'
    trace_t_ms: np.ndarray
    trace_z: np.ndarray
    zscore_counts: np.ndarray
    zscore_edges: np.ndarray
    psd_freqs_hz: np.ndarray
    psd_power: np.ndarray
    psd_slope: float
    psd_intercept: float
    band_hz: tuple[float, float]
    raster_node_ids: np.ndarray
    raster_times_ms: np.ndarray
    group_n_units: int
    rate_edges_ms: np.ndarray
    group_rate_hz: np.ndarray
    unit_rates_hz: np.ndarray
    rate_edges_hz: np.ndarray
    rate_counts: np.ndarray
    reference_rates_hz: np.ndarray | None = None
    reference_counts: np.ndarray | None = None
    reference_label: str = "reference"


def zscore(x: np.ndarray) -> np.ndarray:
    """``(x - mean) / sd``; zeros for a constant trace."""
    x = np.asarray(x, dtype=np.float64)
    sd = x.std()
    return (x - x.mean()) / sd if sd > 0 else np.zeros_like(x)


def input_figure_data(
    source: str | os.PathLike | PopulationData,
    population: str | None = None,
    group: str | int | None = None,
    *,
    reference_rates_hz: Any = None,
    reference_label: str = "reference",
    rate_bin_ms: float = 10.0,
    zscore_bins: int = 50,
    rate_bins: int = 30,
    band_hz: tuple[float, float] = DEFAULT_BAND_HZ,
) -> InputFigureData:
    """Compute the numbers of the inputs figure.

    Parameters
    ----------
    source : path or PopulationData
        A spikes file, or data from :func:`~raster_maker.report.load_population_data`.
    population : str, optional
        Default the file's first population.
    group : str, optional
        Functional group key (as recorded in ``group_keys``); default the first group.
    reference_rates_hz : array-like, optional
        Firing rates (Hz) to compare with in panel E.
    reference_label : str
        Legend label of the reference rates.
    rate_bin_ms : float
        Bin of the population rate drawn over the raster (ms).
    zscore_bins, rate_bins : int
        Bins of the z-score and firing-rate histograms.
    band_hz : (float, float)
        Band of the spectral slope fit.

    Returns
    -------
    InputFigureData

    Raises
    ------
    KeyError
        Unknown population or group (the message lists those that exist).
    """
    data = _as_data(source, population)
    g = data.group_position(group)
    units, ids, ts = data.select_group(g)
    if data.profiles is not None and data.profile_edges_ms is not None:
        source_name = "profile"
        edges = np.asarray(data.profile_edges_ms, dtype=np.float64)
        trace = np.asarray(data.profiles[g], dtype=np.float64)
    else:
        source_name = "population rate"
        edges, trace = population_rate_hz(ts, units.size, data.tstart_ms, data.tstop_ms, 1.0)
    dt_ms = float(np.mean(np.diff(edges)))
    z = zscore(trace)
    z_counts, z_edges = np.histogram(z, bins=zscore_bins)
    freqs, power = power_spectrum(z, dt_ms)
    slope, intercept = spectral_slope(freqs, power, band_hz)
    rate_edges, group_rate = population_rate_hz(
        ts, units.size, data.tstart_ms, data.tstop_ms, rate_bin_ms
    )
    rates = unit_rates_hz(data.node_ids, data.units, data.duration_ms)
    ref = (
        None
        if reference_rates_hz is None
        else np.asarray(reference_rates_hz, dtype=np.float64).ravel()
    )
    both = rates if ref is None else np.concatenate([rates, ref])
    r_edges = (
        np.histogram_bin_edges(both, bins=rate_bins)
        if both.size
        else np.linspace(0, 1, rate_bins + 1)
    )
    r_counts, _ = np.histogram(rates, bins=r_edges)
    ref_counts = None if ref is None else np.histogram(ref, bins=r_edges)[0]
    return InputFigureData(
        data.population,
        str(data.group_keys[g]),
        source_name,
        0.5 * (edges[1:] + edges[:-1]),
        z,
        z_counts,
        z_edges,
        freqs,
        power,
        slope,
        intercept,
        (float(band_hz[0]), float(band_hz[1])),
        ids,
        ts,
        int(units.size),
        rate_edges,
        group_rate,
        rates,
        r_edges,
        r_counts,
        ref,
        ref_counts,
        reference_label,
    )


# -- drawing ---------------------------------------------------------------------------
def _axes(ax):
    if ax is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(5, 3.5), layout="constrained")
        ax = fig.add_subplot()
    return ax


def plot_noise_trace(d: InputFigureData, ax=None):
    """Panel A: the z-scored noise trace against time (s).

    Parameters
    ----------
    d : InputFigureData
        The figure's numbers.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into (default: a new figure's).

    Returns
    -------
    matplotlib.figure.Figure
        The figure of the axes.
    """
    ax = _axes(ax)
    ax.plot(d.trace_t_ms / 1000.0, d.trace_z, lw=0.5, color="k")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("z-score")
    ax.set_title(f"{d.population} group {d.group}: {d.trace_source} (z-scored)", fontsize="medium")
    return ax.figure


def plot_zscore_histogram(d: InputFigureData, ax=None):
    """Panel B: histogram of the trace's z-scores.

    Parameters
    ----------
    d : InputFigureData
        The figure's numbers.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into (default: a new figure's).

    Returns
    -------
    matplotlib.figure.Figure
        The figure of the axes.
    """
    ax = _axes(ax)
    ax.stairs(d.zscore_counts, d.zscore_edges, fill=True, color="0.5")
    ax.set_xlabel("z-score")
    ax.set_ylabel("count (bins)")
    return ax.figure


def plot_power_spectrum(d: InputFigureData, ax=None):
    """Panel C: power spectrum of the trace on log-log axes, with the fitted slope.

    Parameters
    ----------
    d : InputFigureData
        The figure's numbers.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into (default: a new figure's).

    Returns
    -------
    matplotlib.figure.Figure
        The figure of the axes (a note instead of the spectrum for a constant trace).
    """
    ax = _axes(ax)
    if not np.any(d.psd_power > 0):  # a constant trace (e.g. a constant-rate profile)
        ax.text(0.5, 0.5, "constant trace: no spectrum", transform=ax.transAxes, ha="center")
        ax.set_xlabel("frequency (Hz)")
        ax.set_ylabel("power (z$^2$/Hz)")
        return ax.figure
    ax.loglog(d.psd_freqs_hz, d.psd_power, lw=0.8, color="k")
    if np.isfinite(d.psd_slope):
        f = np.asarray(d.band_hz, dtype=np.float64)
        ax.loglog(
            f,
            10**d.psd_intercept * f**d.psd_slope,
            "--",
            color="C3",
            label=f"slope {d.psd_slope:.2f} ({f[0]:g}-{f[1]:g} Hz)",
        )
        ax.legend(fontsize="small", frameon=False)
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("power (z$^2$/Hz)")
    return ax.figure


def plot_group_raster(d: InputFigureData, ax=None):
    """Panel D: raster of the group, its population rate (Hz per unit) on a second axis.

    Parameters
    ----------
    d : InputFigureData
        The figure's numbers.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into (default: a new figure's).

    Returns
    -------
    matplotlib.figure.Figure
        The figure of the axes; the rate axis is labelled ``'<label>-rate'`` (or
        ``'rate'`` if ``ax`` has no label).
    """
    ax = _axes(ax)
    ax.scatter(
        d.raster_times_ms / 1000.0,
        d.raster_node_ids.astype(np.float64),
        s=1.0,
        marker="|",
        color="k",
        linewidths=0.5,
    )
    ax.set_xlabel("time (s)")
    ax.set_ylabel("node id")
    ax.set_title(
        f"group {d.group}: {d.group_n_units} units, {d.raster_times_ms.size} spikes",
        fontsize="medium",
    )
    twin = ax.twinx()
    twin.stairs(d.group_rate_hz, d.rate_edges_ms / 1000.0, color="C3", lw=0.8, baseline=None)
    twin.set_ylabel("population rate (Hz)", color="C3")
    twin.set_label(f"{ax.get_label()}-rate" if ax.get_label() else "rate")
    return ax.figure


def plot_rate_distribution(d: InputFigureData, ax=None):
    """Panel E: histogram of the units' firing rates (and of the reference rates).

    With reference rates both histograms are densities, else counts of units.

    Parameters
    ----------
    d : InputFigureData
        The figure's numbers.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into (default: a new figure's).

    Returns
    -------
    matplotlib.figure.Figure
        The figure of the axes.
    """
    ax = _axes(ax)
    density = d.reference_rates_hz is not None
    widths = np.diff(d.rate_edges_hz)

    def norm(c):
        return c / (c.sum() * widths) if density and c.sum() else c

    if d.reference_counts is not None:
        ax.stairs(
            norm(d.reference_counts),
            d.rate_edges_hz,
            fill=True,
            color="0.75",
            label=f"{d.reference_label} (n={int(d.reference_counts.sum())})",
        )
    ax.stairs(
        norm(d.rate_counts),
        d.rate_edges_hz,
        color="k",
        lw=1.2,
        label=f"simulated (n={d.unit_rates_hz.size})",
    )
    ax.set_xlabel("firing rate (Hz)")
    ax.set_ylabel("density" if density else "units")
    ax.legend(fontsize="small", frameon=False)
    return ax.figure


_DRAW = {
    "A": plot_noise_trace,
    "B": plot_zscore_histogram,
    "C": plot_power_spectrum,
    "D": plot_group_raster,
    "E": plot_rate_distribution,
}


def plot_inputs(
    source: str | os.PathLike | PopulationData | InputFigureData,
    population: str | None = None,
    group: str | int | None = None,
    *,
    fig=None,
    correlations: bool | CorrelationFigureData = False,
    correlation_kwargs: dict[str, Any] | None = None,
    **kwargs: Any,
):
    """Draw panels A-E of the inputs figure (and F, G: correlations, when asked).

    Parameters
    ----------
    source : path, PopulationData or InputFigureData
        A spikes file (or data already loaded or computed).
    population, group : str, optional
        See :func:`input_figure_data`.
    fig : matplotlib Figure, optional
        Figure to draw into (default: a new 12 x 7 inch figure, 12 x 10.5 with the
        correlation panels; no pyplot state).
    correlations : bool or CorrelationFigureData
        Add a row with panel F (mean pairwise spike-count correlation against the
        counting window, with its confidence interval and spread) and panel G (the
        population cross-correlogram pooled over pairs); see
        :func:`correlation_figure_data`.
    correlation_kwargs : dict, optional
        Passed to :func:`correlation_figure_data` (``windows_ms``, ``n_pairs``, ...).
    **kwargs
        Passed to :func:`input_figure_data` (``reference_rates_hz``, ``reference_label``,
        ``rate_bin_ms``, ...).

    Returns
    -------
    matplotlib.figure.Figure
        Axes labelled ``'A'`` ... ``'E'`` (``ax.get_label()``), D's rate axis ``'D-rate'``
        (and ``'F'``, ``'G'`` with ``correlations``).

    Examples
    --------
    >>> fig = plot_inputs("exc_stim.h5", group="0")  # doctest: +SKIP
    >>> fig.savefig("inputs.png")  # doctest: +SKIP
    """
    if correlations is True and not isinstance(source, (InputFigureData, PopulationData)):
        source = load_population_data(source, population)  # read once for both
    cd = _correlation_data(source, population, correlations, correlation_kwargs or {})
    d = (
        source
        if isinstance(source, InputFigureData)
        else input_figure_data(source, population, group, **kwargs)
    )
    if fig is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(12, 7 if cd is None else 10.5), layout="constrained")
    gs = fig.add_gridspec(2 if cd is None else 3, 4)
    slots = {"A": gs[0, :3], "B": gs[0, 3], "C": gs[1, 0], "D": gs[1, 1:3], "E": gs[1, 3]}
    for letter, slot in slots.items():
        ax = fig.add_subplot(slot, label=letter)
        _DRAW[letter](d, ax=ax)
        _letter(ax, letter)
    if cd is not None:
        _correlation_panels(fig, gs[2, :2], gs[2, 2:], cd)
    fig.suptitle(f"{d.population}: inputs (group {d.group})")
    return fig


# -- correlations ----------------------------------------------------------------------
#: Generators whose files get the correlation panels by default (:func:`wants_correlations`).
CORRELATED_GENERATORS = ("correlated", "mip", "sip", "cpp")


def wants_correlations(provenance: dict[str, Any]) -> bool:
    """Whether a population was made by a correlated generator (itself or as a layer).

    Such files get the correlation panels by default (``correlated``, ``mip``, ``sip``,
    ``cpp``).

    Parameters
    ----------
    provenance : dict
        A population's provenance as :func:`~raster_maker.reading.read_provenance`
        returns it (``generator``, ``params``).

    Returns
    -------
    bool
        True if the generator, or the generator of one of its ``layers``, is in
        :data:`CORRELATED_GENERATORS`.
    """
    names = [provenance.get("generator")]
    params = provenance.get("params") or {}
    if isinstance(params, dict) and isinstance(params.get("layers"), list):
        names += [lay.get("generator") for lay in params["layers"] if isinstance(lay, dict)]
    return any(n in CORRELATED_GENERATORS for n in names)


@dataclass
class CorrelationFigureData:
    """The numbers of the correlation panels (F and G).

    Panel F is the count correlation against the counting window, panel G the
    population cross-correlogram. Made by :func:`correlation_figure_data`; the fields are
    also its attributes.

    Parameters
    ----------
    population : str
        The population.
    windows_ms : numpy.ndarray
        The counting windows (ms).
    mean_correlation, sd_correlation : numpy.ndarray
        Per window: mean pairwise spike-count correlation and its spread (sd) over the
        pairs.
    ci_low, ci_high : numpy.ndarray
        Per window: the confidence interval of the mean.
    confidence : float
        Coverage of the interval.
    n_pairs : numpy.ndarray
        Per window: number of pairs with a defined correlation.
    n_units : int
        Number of units that fire.
    lags_ms : numpy.ndarray
        Lags of the cross-correlogram (ms).
    ccg : numpy.ndarray
        The pooled cross-correlogram (a correlation coefficient per lag).
    ccg_bin_ms : float
        Its bin (ms).
    """

    population: str
    windows_ms: np.ndarray
    mean_correlation: np.ndarray
    sd_correlation: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    confidence: float
    n_pairs: np.ndarray
    n_units: int
    lags_ms: np.ndarray
    ccg: np.ndarray
    ccg_bin_ms: float


def correlation_figure_data(
    source: str | os.PathLike | PopulationData,
    population: str | None = None,
    *,
    windows_ms: Any = DEFAULT_WINDOWS_MS,
    n_pairs: int = 2000,
    seed: Any = 0,
    confidence: float = 0.95,
    ccg_bin_ms: float = 1.0,
    max_lag_ms: float = 50.0,
) -> CorrelationFigureData:
    """Compute the numbers of the correlation panels.

    Parameters
    ----------
    source : path or PopulationData
        A spikes file, or data from :func:`~raster_maker.report.load_population_data`.
    population : str, optional
        Default the file's first population.
    windows_ms : sequence of float, optional
        Counting windows (ms); default 5, 20 and 100 ms.
    n_pairs : int, optional
        Pairs of units sampled (all pairs when there are no more); default 2000.
    seed : int, optional
        Seed of the pair sample; default 0.
    confidence : float, optional
        Coverage of the confidence interval; default 0.95. See
        :func:`~raster_maker.report.count_correlations` for these four.
    ccg_bin_ms, max_lag_ms : float
        Bin and largest lag of the population cross-correlogram
        (:func:`~raster_maker.report.population_cross_correlogram`).

    Returns
    -------
    CorrelationFigureData

    Raises
    ------
    ValueError
        If fewer than two units fire (there is no pair to correlate).
    """
    data = _as_data(source, population)
    df = count_correlations(
        data, windows_ms=windows_ms, n_pairs=n_pairs, seed=seed, confidence=confidence
    )
    if int(df["n_units"].iloc[0]) < 2:
        raise ValueError(
            f"Population '{data.population}' has {int(df['n_units'].iloc[0])} unit(s) that "
            "fire: correlations need at least 2."
        )
    lags, ccg = population_cross_correlogram(
        data.node_ids,
        data.timestamps_ms,
        data.units,
        data.tstart_ms,
        data.tstop_ms,
        bin_ms=ccg_bin_ms,
        max_lag_ms=max_lag_ms,
    )
    col = {c: df[c].to_numpy(np.float64) for c in df.columns if c != "population"}
    return CorrelationFigureData(
        data.population,
        col["window_ms"],
        col["mean_correlation"],
        col["sd_correlation"],
        col["ci_low"],
        col["ci_high"],
        float(confidence),
        col["n_pairs"].astype(np.int64),
        int(df["n_units"].iloc[0]),
        lags,
        ccg,
        float(ccg_bin_ms),
    )


def plot_correlation_windows(d: CorrelationFigureData, ax=None):
    """Panel F: mean pairwise count correlation against the counting window.

    Error bars: the confidence interval of the mean; shaded: +- 1 sd over the pairs.

    Parameters
    ----------
    d : CorrelationFigureData
        The panels' numbers.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into (default: a new figure's).

    Returns
    -------
    matplotlib.figure.Figure
        The figure of the axes.
    """
    ax = _axes(ax)
    w, m = d.windows_ms, d.mean_correlation
    ax.fill_between(
        w, m - d.sd_correlation, m + d.sd_correlation, color="0.85", label="±1 sd over pairs"
    )
    ax.errorbar(
        w,
        m,
        yerr=np.vstack([m - d.ci_low, d.ci_high - m]),
        fmt="o-",
        color="k",
        ms=4,
        capsize=3,
        label=f"mean, {100 * d.confidence:g}% CI",
    )
    ax.axhline(0.0, color="0.5", lw=0.6)
    ax.set_xscale("log")
    ax.set_xlabel("counting window (ms)")
    ax.set_ylabel("spike-count correlation")
    ax.set_title(
        f"{d.population}: {int(d.n_pairs.max(initial=0))} pairs of {d.n_units} units",
        fontsize="medium",
    )
    ax.legend(fontsize="small", frameon=False)
    return ax.figure


def plot_cross_correlogram(d: CorrelationFigureData, ax=None):
    """Panel G: the population cross-correlogram pooled over pairs (correlation units).

    Parameters
    ----------
    d : CorrelationFigureData
        The panels' numbers.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into (default: a new figure's).

    Returns
    -------
    matplotlib.figure.Figure
        The figure of the axes.
    """
    ax = _axes(ax)
    ax.plot(d.lags_ms, d.ccg, color="k", lw=0.8, drawstyle="steps-mid")
    ax.axhline(0.0, color="0.5", lw=0.6)
    ax.set_xlabel("lag (ms)")
    ax.set_ylabel("pooled correlation")
    ax.set_title(f"cross-correlogram, {d.ccg_bin_ms:g} ms bins", fontsize="medium")
    return ax.figure


def _letter(ax, letter: str) -> None:
    ax.text(
        -0.02,
        1.02,
        letter,
        transform=ax.transAxes,
        fontweight="bold",
        fontsize="large",
        ha="right",
        va="bottom",
    )


def _correlation_panels(fig, slot_f, slot_g, cd: CorrelationFigureData) -> None:
    for letter, slot, draw in (
        ("F", slot_f, plot_correlation_windows),
        ("G", slot_g, plot_cross_correlogram),
    ):
        ax = fig.add_subplot(slot, label=letter)
        draw(cd, ax=ax)
        _letter(ax, letter)


def _correlation_data(source, population, correlations, kwargs) -> CorrelationFigureData | None:
    if isinstance(correlations, CorrelationFigureData):
        return correlations
    if not correlations:
        return None
    if isinstance(source, (InputFigureData, AssemblyFigureData)):
        raise TypeError(
            "'correlations=True' needs the spikes (a path or PopulationData), not figure "
            "data; pass a CorrelationFigureData instead."
        )
    return correlation_figure_data(source, population, **kwargs)


# -- stimulus assemblies ---------------------------------------------------------------
@dataclass
class AssemblyFigureData:
    """The numbers of the assemblies figure of a stimulus population.

    ``names`` are the assemblies shown (recorded order, then ``'none'`` for the units in
    no assembly if any); per assembly ``n_units``, the measured rate per unit
    ``measured_hz`` and the expected rate ``scheduled_hz`` (the schedule plus what the
    other layers add, as in :func:`~raster_maker.report.assembly_epoch_stats`), both mean
    rates over the bins ``edges_ms``. The raster holds up to
    ``units_per_assembly`` units of each assembly (evenly spread over its node ids), one
    row each, sorted by assembly then node id: ``raster_rows`` (row of each spike),
    ``raster_times_ms``, ``raster_assembly`` (index into ``names``), and
    ``raster_bounds`` (first row of each assembly, then the number of rows).

    Made by :func:`assembly_figure_data`; the fields are also its attributes.

    Parameters
    ----------
    population : str
        The population.
    names : list of str
        The assemblies shown.
    n_units : numpy.ndarray
        Units of each assembly.
    edges_ms : numpy.ndarray
        Bin edges of the rates (ms).
    measured_hz, scheduled_hz : numpy.ndarray
        Per assembly and bin (``len(names)`` x bins): measured and expected mean rate
        per unit (Hz).
    raster_rows : numpy.ndarray
        Raster row of each spike shown.
    raster_times_ms : numpy.ndarray
        Its time (ms).
    raster_assembly : numpy.ndarray
        Its assembly (index into ``names``).
    raster_bounds : numpy.ndarray
        First row of each assembly, then the number of rows.
    """

    population: str
    names: list[str]
    n_units: np.ndarray
    edges_ms: np.ndarray
    measured_hz: np.ndarray
    scheduled_hz: np.ndarray
    raster_rows: np.ndarray
    raster_times_ms: np.ndarray
    raster_assembly: np.ndarray
    raster_bounds: np.ndarray


def assembly_figure_data(
    source: str | os.PathLike | PopulationData,
    population: str | None = None,
    *,
    layer: int | None = None,
    bin_ms: float = 25.0,
    units_per_assembly: int = 30,
) -> AssemblyFigureData:
    """Compute the numbers of the assemblies figure.

    Parameters
    ----------
    source : path or PopulationData
        A population made by the ``stimulus`` generator (or with a stimulus layer).
    population : str, optional
        Default the file's first population.
    layer : int, optional
        See :func:`~raster_maker.report.read_schedule`.
    bin_ms : float
        Bin of the measured and scheduled rates (ms).
    units_per_assembly : int
        Units of each assembly in the raster.

    Returns
    -------
    AssemblyFigureData

    Raises
    ------
    ValueError
        If the population has no stimulus schedule.
    """
    bin_ms = check_number("bin_ms", bin_ms, min_value=0.0, strict_min=True, units="ms")
    units_per_assembly = check_int("units_per_assembly", units_per_assembly, min_value=1)
    data = _as_data(source, population)
    sched = read_schedule(data, layer=layer)
    n_named = len(sched.assembly_names)
    unit_group = sched.group_index
    unit_slot = sched.group_assembly[unit_group]
    unit_slot = np.where(unit_slot < 0, n_named, unit_slot)  # 'none' after the assemblies
    n_units = np.bincount(unit_slot, minlength=n_named + 1)
    shown = np.flatnonzero(n_units > 0)
    shown = shown[(shown < n_named) | (n_units[n_named] > 0)]
    edges = population_rate_hz(np.zeros(0), 1, data.tstart_ms, data.tstop_ms, bin_ms)[0]
    n_bins, width_s = edges.size - 1, np.diff(edges) / 1000.0
    # measured: spikes per unit per second, per assembly
    pos, ok = _unit_positions(data.node_ids, sched.node_ids)
    inside = ok & (data.timestamps_ms >= data.tstart_ms) & (data.timestamps_ms < data.tstop_ms)
    b = np.searchsorted(edges, data.timestamps_ms[inside], side="right") - 1
    b = np.clip(b, 0, n_bins - 1)
    slot = unit_slot[pos[inside]]
    counts = np.bincount(slot * n_bins + b, minlength=(n_named + 1) * n_bins)
    counts = counts.reshape(n_named + 1, n_bins)
    per_unit = np.maximum(n_units, 1)[:, None]
    measured = counts / per_unit / width_s[None, :]
    # scheduled: every layer's expected spikes (this schedule, other stimulus layers,
    # other layers' targets) per unit per second
    expected = sched.expected_bin_spikes(unit_slot, n_named + 1, edges)
    scheduled = expected / per_unit / width_s[None, :]
    # raster: a few units of each assembly, sorted by assembly then node id
    order = np.lexsort((sched.node_ids, unit_slot))
    rank = np.arange(order.size) - np.searchsorted(unit_slot[order], unit_slot[order])
    size = n_units[unit_slot[order]]
    k = units_per_assembly  # keep the units where floor(rank * k / size) steps up
    keep = (rank == 0) | ((rank * k) // size != ((rank - 1) * k) // size)
    chosen = order[keep]
    row_of_unit = np.full(sched.node_ids.size, -1, np.int64)
    row_of_unit[chosen] = np.arange(chosen.size)
    rows = row_of_unit[pos[inside]]
    sel = rows >= 0
    names = [sched.assembly_name(int(a)) if a < n_named else "none" for a in shown]
    slot_to_shown = np.full(n_named + 1, -1, np.int64)
    slot_to_shown[shown] = np.arange(shown.size)
    bounds = np.searchsorted(unit_slot[chosen], shown)
    return AssemblyFigureData(
        data.population,
        names,
        n_units[shown],
        edges,
        measured[shown],
        scheduled[shown],
        rows[sel],
        data.timestamps_ms[inside][sel],
        slot_to_shown[slot[sel]],
        np.append(bounds, chosen.size),
    )


def plot_assembly_rate(d: AssemblyFigureData, a: int, ax=None):
    """The scheduled rate of one assembly beside its measured rate (PSTH, mean per unit).

    Parameters
    ----------
    d : AssemblyFigureData
        The figure's numbers.
    a : int
        The assembly (index into ``d.names``).
    ax : matplotlib.axes.Axes, optional
        Axes to draw into (default: a new figure's).

    Returns
    -------
    matplotlib.figure.Figure
        The figure of the axes.
    """
    ax = _axes(ax)
    t = d.edges_ms / 1000.0
    ax.stairs(d.measured_hz[a], t, color="k", lw=0.8, label="measured")
    ax.stairs(d.scheduled_hz[a], t, color="C3", lw=1.2, ls="--", label="scheduled")
    ax.set_ylabel("Hz")
    ax.set_title(f"{d.names[a]} ({d.n_units[a]} units)", fontsize="small", loc="left")
    return ax.figure


def plot_assembly_raster(d: AssemblyFigureData, ax=None):
    """Raster of a few units of each assembly, sorted (and coloured) by assembly.

    Parameters
    ----------
    d : AssemblyFigureData
        The figure's numbers.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into (default: a new figure's).

    Returns
    -------
    matplotlib.figure.Figure
        The figure of the axes.
    """
    ax = _axes(ax)
    order = np.argsort(d.raster_assembly, kind="stable")
    cuts = np.searchsorted(d.raster_assembly[order], np.arange(len(d.names) + 1))
    for a, name in enumerate(d.names):  # one scatter per assembly, coloured by it
        sel = order[cuts[a] : cuts[a + 1]]
        ax.scatter(
            d.raster_times_ms[sel] / 1000.0,
            d.raster_rows[sel].astype(np.float64),
            s=1.0,
            marker="|",
            color="0.5" if name == "none" else f"C{a % 10}",
            linewidths=0.5,
        )
    mids = 0.5 * (d.raster_bounds[:-1] + d.raster_bounds[1:]) - 0.5
    ax.set_yticks(mids, d.names, fontsize="small")
    ax.set_ylim(d.raster_bounds[-1] - 0.5, -0.5)
    ax.set_xlim(d.edges_ms[0] / 1000.0, d.edges_ms[-1] / 1000.0)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("assembly")
    ax.set_title(f"{d.population}: units sorted by assembly", fontsize="medium")
    return ax.figure


def plot_assemblies(
    source: str | os.PathLike | PopulationData | AssemblyFigureData,
    population: str | None = None,
    *,
    fig=None,
    max_panels: int = 12,
    correlations: bool | CorrelationFigureData = False,
    correlation_kwargs: dict[str, Any] | None = None,
    **kwargs: Any,
):
    """Draw the assemblies figure of a stimulus population.

    Left, one panel per assembly (the first ``max_panels``): its scheduled rate (dashed)
    beside its measured rate; right, the raster sorted by assembly. With
    ``correlations``, a bottom row with panels F and G (see :func:`plot_inputs`).

    Parameters
    ----------
    source : path, PopulationData or AssemblyFigureData
        A spikes file (or data already loaded or computed).
    population : str, optional
        Default the file's first population.
    fig : matplotlib Figure, optional
        Figure to draw into (default a new one sized for the panels, no pyplot state).
    max_panels : int
        Most assembly panels drawn (the raster shows every assembly).
    correlations : bool or CorrelationFigureData
        Add the correlation panels.
    correlation_kwargs : dict, optional
        Passed to :func:`correlation_figure_data`.
    **kwargs
        Passed to :func:`assembly_figure_data` (``layer``, ``bin_ms``,
        ``units_per_assembly``).

    Returns
    -------
    matplotlib.figure.Figure
        Axes labelled ``'rate:<assembly>'``, ``'raster'`` (and ``'F'``, ``'G'``).

    Raises
    ------
    ValueError
        If the population has no stimulus schedule.

    Examples
    --------
    >>> fig = plot_assemblies("stimulus.h5", bin_ms=50)  # doctest: +SKIP
    >>> fig.savefig("assemblies.png")  # doctest: +SKIP
    """
    max_panels = check_int("max_panels", max_panels, min_value=1)
    if not isinstance(source, AssemblyFigureData) and not isinstance(source, PopulationData):
        source = load_population_data(source, population)
    cd = _correlation_data(source, population, correlations, correlation_kwargs or {})
    d = source if isinstance(source, AssemblyFigureData) else assembly_figure_data(source, **kwargs)
    n = min(len(d.names), max_panels)
    extra = 1 if cd is not None else 0
    if fig is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(12, 1.0 + 1.1 * n + 3.0 * extra), layout="constrained")
    gs = fig.add_gridspec(n + (3 if extra else 0), 2, width_ratios=(1, 1))
    axes: list[Any] = []
    for a in range(n):
        ax = fig.add_subplot(gs[a, 0], label=f"rate:{d.names[a]}", sharex=axes[0] if axes else None)
        axes.append(ax)
        plot_assembly_rate(d, a, ax=ax)
        if a < n - 1:
            ax.tick_params(labelbottom=False)
        else:
            ax.set_xlabel("time (s)")
    axes[0].legend(fontsize="x-small", frameon=False, loc="upper right")
    plot_assembly_raster(d, ax=fig.add_subplot(gs[:n, 1], label="raster"))
    if cd is not None:
        _correlation_panels(fig, gs[n:, 0], gs[n:, 1], cd)
    more = f" (first {n} of {len(d.names)} assemblies)" if n < len(d.names) else ""
    fig.suptitle(f"{d.population}: scheduled and measured rates{more}")
    return fig
