"""The inputs figure: noise trace, its z-score histogram and spectrum, a group's raster, rates.

As in the original study's figure documenting its inputs:

A. a z-scored noise trace (the recorded rate profile of a functional group, or without a
   generation record that group's population rate in 1 ms bins);
B. the histogram of its z-scores;
C. its power spectrum on log-log axes with the fitted slope (1/f noise: -1);
D. the raster of the group (unit id against time), its population rate on a second axis;
E. the distribution of the units' firing rates, optionally over a reference distribution
   (e.g. experimental rates).

:func:`input_figure_data` computes every number (with the functions of
:mod:`raster_maker.report`, so the figure agrees with the statistics report); the
``plot_*`` functions only draw them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from .report import (
    DEFAULT_BAND_HZ,
    PopulationData,
    load_population_data,
    population_rate_hz,
    power_spectrum,
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
]


@dataclass
class InputFigureData:
    """The numbers of the inputs figure (see the module docstring for the panels)."""

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
    data = (
        source if isinstance(source, PopulationData) else load_population_data(source, population)
    )
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
        tuple(band_hz),
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
    """Panel A: the z-scored noise trace against time (s). Returns the Figure."""
    ax = _axes(ax)
    ax.plot(d.trace_t_ms / 1000.0, d.trace_z, lw=0.5, color="k")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("z-score")
    ax.set_title(f"{d.population} group {d.group}: {d.trace_source} (z-scored)", fontsize="medium")
    return ax.figure


def plot_zscore_histogram(d: InputFigureData, ax=None):
    """Panel B: histogram of the trace's z-scores. Returns the Figure."""
    ax = _axes(ax)
    ax.stairs(d.zscore_counts, d.zscore_edges, fill=True, color="0.5")
    ax.set_xlabel("z-score")
    ax.set_ylabel("count (bins)")
    return ax.figure


def plot_power_spectrum(d: InputFigureData, ax=None):
    """Panel C: power spectrum of the trace on log-log axes, with the fitted slope."""
    ax = _axes(ax)
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
    """Panel D: raster of the group, its population rate (Hz per unit) on a second axis."""
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
    """Panel E: histogram of the units' firing rates (and of the reference rates)."""
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
            label=f"{d.reference_label} (n={d.reference_rates_hz.size})",
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
    **kwargs: Any,
):
    """Draw panels A-E of the inputs figure.

    Parameters
    ----------
    source : path, PopulationData or InputFigureData
        A spikes file (or data already loaded or computed).
    population, group : str, optional
        See :func:`input_figure_data`.
    fig : matplotlib Figure, optional
        Figure to draw into (default: a new 12 x 7 inch figure, no pyplot state).
    **kwargs
        Passed to :func:`input_figure_data` (``reference_rates_hz``, ``reference_label``,
        ``rate_bin_ms``, ...).

    Returns
    -------
    matplotlib.figure.Figure
        Axes labelled ``'A'`` ... ``'E'`` (``ax.get_label()``), D's rate axis ``'D-rate'``.

    Examples
    --------
    >>> fig = plot_inputs("exc_stim.h5", group="0")  # doctest: +SKIP
    >>> fig.savefig("inputs.png")  # doctest: +SKIP
    """
    d = (
        source
        if isinstance(source, InputFigureData)
        else input_figure_data(source, population, group, **kwargs)
    )
    if fig is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(12, 7), layout="constrained")
    gs = fig.add_gridspec(2, 4)
    slots = {"A": gs[0, :3], "B": gs[0, 3], "C": gs[1, 0], "D": gs[1, 1:3], "E": gs[1, 3]}
    for letter, slot in slots.items():
        ax = fig.add_subplot(slot, label=letter)
        _DRAW[letter](d, ax=ax)
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
    fig.suptitle(f"{d.population}: inputs (group {d.group})")
    return fig
