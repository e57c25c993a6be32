"""Tests for raster_maker.plotting: the inputs figure, checked against the statistics report."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import StepPatch  # noqa: E402

from raster_maker.generate import generate  # noqa: E402
from raster_maker.plotting import (  # noqa: E402
    input_figure_data,
    plot_inputs,
    plot_power_spectrum,
    plot_rate_distribution,
)
from raster_maker.report import spike_stats  # noqa: E402
from raster_maker.sonata import read_metadata  # noqa: E402


@pytest.fixture(scope="module")
def fg(tmp_path_factory):
    path = tmp_path_factory.mktemp("plot") / "fg.h5"
    generate(
        "functional_groups",
        "exc",
        np.arange(300),
        0.0,
        3000.0,
        params={"group_size": 100},
        seed=11,
        output=path,
    )
    return path


@pytest.fixture(scope="module")
def bmtk_file(tmp_path_factory):
    from bmtk.utils.reports.spike_trains import PoissonSpikeGenerator

    path = tmp_path_factory.mktemp("plot") / "bmtk.h5"
    psg = PoissonSpikeGenerator(population="x", seed=5)
    psg.add(node_ids=range(20), firing_rate=20.0, times=(0.0, 2.0))
    psg.to_sonata(str(path))
    return path


def _panels(fig: Figure) -> dict:
    return {ax.get_label(): ax for ax in fig.axes}


def test_every_panel_has_data(fg):
    fig = plot_inputs(fg, group="1")
    ax = _panels(fig)
    assert set(ax) == {"A", "B", "C", "D", "D-rate", "E"}
    (trace,) = ax["A"].get_lines()
    assert trace.get_xydata().shape == (3000, 2)
    assert [p for p in ax["B"].patches if isinstance(p, StepPatch)]
    assert len(ax["C"].get_lines()) == 2  # spectrum + fitted slope
    assert np.all(ax["C"].get_lines()[0].get_ydata() > 0)
    assert ax["C"].get_xscale() == "log" and ax["C"].get_yscale() == "log"
    (raster,) = [c for c in ax["D"].collections if isinstance(c, PathCollection)]
    assert len(raster.get_offsets()) > 0
    assert ax["D-rate"].patches and ax["E"].patches
    fig.canvas.draw()  # renders with Agg without warnings


def test_panel_numbers_match_report(fg):
    report = spike_stats(fg).set_index("group")
    d = input_figure_data(fg, group="1")
    row = report.loc["1"]
    assert d.trace_source == "profile"
    assert d.raster_times_ms.size == row["n_spikes"]
    assert d.group_n_units == row["n_units"]
    meta = read_metadata(fg, d.population)
    g = list(meta["group_keys"]).index("1")
    assert np.isin(d.raster_node_ids, meta["node_ids"][meta["group_index"] == g]).all()
    assert d.psd_slope == pytest.approx(row["profile_psd_slope"], rel=1e-9)
    widths = np.diff(d.rate_edges_ms)
    assert np.sum(d.group_rate_hz * widths) / widths.sum() == pytest.approx(row["rate_hz"])
    assert d.rate_counts.sum() == report.loc["all", "n_units"]
    assert d.unit_rates_hz.mean() == pytest.approx(report.loc["all", "rate_hz"])
    assert d.trace_z.mean() == pytest.approx(0.0, abs=1e-9)
    assert d.trace_z.std() == pytest.approx(1.0)
    assert d.zscore_counts.sum() == d.trace_z.size
    # what is drawn is what was computed
    ax = _panels(plot_inputs(d))
    (raster,) = [c for c in ax["D"].collections if isinstance(c, PathCollection)]
    assert len(raster.get_offsets()) == row["n_spikes"]
    assert np.allclose(ax["C"].get_lines()[0].get_ydata(), d.psd_power)


def test_file_without_record_uses_population_rate(bmtk_file):
    d = input_figure_data(bmtk_file)
    row = spike_stats(bmtk_file).iloc[0]
    assert d.trace_source == "population rate" and d.group == "all"
    assert d.trace_z.size == np.ceil(d.raster_times_ms.max())  # 1 ms bins from 0 to the last spike
    assert d.raster_times_ms.size == row["n_spikes"]
    assert np.isfinite(d.psd_slope)
    assert plot_inputs(bmtk_file).axes


def test_reference_rates_overlay(fg):
    ref = np.random.default_rng(0).lognormal(2.0, 0.5, 200)
    d = input_figure_data(fg, reference_rates_hz=ref, reference_label="experimental")
    assert d.reference_counts.sum() == ref.size  # shared bins cover both sets
    fig = plot_rate_distribution(d)
    (ax,) = fig.axes
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["experimental (n=200)", "simulated (n=300)"]
    assert ax.get_ylabel() == "density"


def test_plot_into_given_axes(fg):
    d = input_figure_data(fg)
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_power_spectrum(d, ax=ax) is fig
    assert isinstance(plot_power_spectrum(d), Figure)  # ax=None: a new figure


def test_unknown_group_lists_groups(fg):
    with pytest.raises(KeyError, match="No group '7' in population 'exc'; groups: 0, 1, 2"):
        input_figure_data(fg, group="7")
