"""Tests for raster_maker.report: statistics that prove the inputs are what was asked for."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from raster_maker.generate import generate
from raster_maker.report import (
    cross_correlation_lag,
    cross_correlations,
    describe_file,
    isi_cv,
    load_population_data,
    modulation_depth,
    spike_stats,
    stats_report,
    unit_rates_hz,
)
from raster_maker.sonata import SpikesWriter, read_metadata

T_MS = 5000.0
P = 1e-6  # per-assertion false-failure probability of the statistical bounds


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("report")
    fg = d / "fg.h5"
    generate(
        "functional_groups",
        "exc",
        np.arange(300),
        0.0,
        T_MS,
        params={"group_size": 100},
        seed=1,
        output=fg,
    )
    rh = d / "rh.h5"
    generate(
        "rhythmic",
        "inh",
        np.arange(50),
        0.0,
        T_MS,
        params={"frequency_hz": 8.0, "depth": 0.5},
        seed=2,
        output=rh,
    )
    po = d / "po.h5"
    generate(
        "poisson", "po", np.arange(100), 0.0, 10_000.0, params={"rate_hz": 20.0}, seed=3, output=po
    )
    pair = d / "pair.h5"
    with SpikesWriter(pair) as w:
        generate(
            "functional_groups",
            "exc",
            np.arange(300),
            0.0,
            T_MS,
            params={"group_size": 100},
            seed=1,
            output=w,
        )
        generate(
            "shifted_inhibition",
            "inh",
            np.arange(100),
            0.0,
            T_MS,
            params={"follow": {"spikes_file": str(fg), "population": "exc"}, "lag_ms": 2.0},
            seed=4,
            output=w,
        )
    return {"fg": fg, "rh": rh, "po": po, "pair": pair}


def _count_bounds(mu: float) -> tuple[float, float]:
    return stats.poisson.ppf(P / 2, mu), stats.poisson.ppf(1 - P / 2, mu)


def test_rows_per_population_and_group(files):
    df = spike_stats(files["fg"])
    assert list(df["group"]) == ["all", "0", "1", "2"]
    assert (df["population"] == "exc").all()
    assert df["n_units"].tolist() == [300, 100, 100, 100]
    assert df["n_spikes"].iloc[0] == df["n_spikes"].iloc[1:].sum()


def test_realised_rate_matches_recorded_target(files):
    df = spike_stats(files["fg"]).set_index("group")
    meta = read_metadata(files["fg"], "exc")
    for g, key in enumerate(["0", "1", "2"]):
        target = meta["target_rate_hz"][meta["group_index"] == g]
        assert df.loc[key, "target_rate_hz"] == pytest.approx(target.mean())
        lo, hi = _count_bounds(target.sum() * T_MS / 1000.0)  # total count is Poisson
        assert lo <= df.loc[key, "n_spikes"] <= hi
        assert df.loc[key, "rate_hz"] == pytest.approx(df.loc[key, "n_spikes"] / 100 / 5.0)


def test_poisson_cv_and_fano_are_one(files):
    row = spike_stats(files["po"]).iloc[0]
    # 100 units x ~200 spikes: the mean CV has sd ~0.007 and the mean Fano factor
    # (100 windows of ~2 spikes) sd ~0.015, so these bounds are > 6 sd wide.
    assert abs(row["isi_cv"] - 1.0) < 0.05
    assert abs(row["fano_factor"] - 1.0) < 0.1
    assert math.isnan(row["modulation_depth"])


def test_profile_spectrum_is_one_over_f(files):
    df = spike_stats(files["fg"])
    slopes = df["profile_psd_slope"].iloc[1:]
    # the original IIR pink filter: power ~ 1/f. Tolerance from the spread over 1000 seeds
    # of this fixture (3000 group profiles of 5 s, Welch 2048 over 1-100 Hz): slopes
    # -0.983 +/- 0.069 (sd; min -1.213, max -0.733, no heavier tails than a normal). For
    # P=1e-6 over the 3 slopes (z ~ 5.1 each): 0.017 offset + 5.1 sd = 0.37, so +-0.4.
    assert slopes.between(-1.4, -0.6).all(), slopes
    assert math.isnan(df["profile_psd_slope"].iloc[0])  # several profiles: per group only


def test_modulation_depth_at_recorded_rhythm(files):
    row = spike_stats(files["rh"]).iloc[0]
    assert row["rhythm_hz"] == 8.0
    assert row["target_modulation_depth"] == 0.5
    # each quadrature sum of N spikes has sd <= sqrt(N/2): m has sd <= sqrt(2/N)
    sd = math.sqrt(2.0 / row["n_spikes"])
    assert abs(row["modulation_depth"] - 0.5) < stats.norm.isf(P / 2) * sd
    assert len(spike_stats(files["rh"])) == 1  # one group: no duplicate row


def test_rhythm_hz_override(files):
    row = spike_stats(files["po"], rhythm_hz=8.0).iloc[0]
    assert row["modulation_depth"] < 6 * math.sqrt(2.0 / row["n_spikes"])  # unmodulated


def test_cross_correlation_lag_of_shifted_inhibition(files):
    cc = cross_correlations(files["pair"])
    assert cc[["population_a", "population_b"]].values.tolist() == [["exc", "inh"]]
    assert cc["lag_ms"].iloc[0] == 2.0
    assert cc["peak_correlation"].iloc[0] > 0.1


def test_report_is_json(files):
    rep = stats_report(files["pair"])
    text = json.dumps(rep, allow_nan=False)
    assert json.loads(text)["cross_correlations"][0]["lag_ms"] == 2.0
    assert {r["group"] for r in rep["stats"]} == {"all", "0", "1", "2"}


def test_file_without_record(tmp_path):
    from bmtk.utils.reports.spike_trains import PoissonSpikeGenerator

    psg = PoissonSpikeGenerator(population="x", seed=5)
    psg.add(node_ids=range(10), firing_rate=10.0, times=(0.0, 1.0))
    psg.to_sonata(str(tmp_path / "bmtk.h5"))
    data = load_population_data(tmp_path / "bmtk.h5")
    assert data.tstart_ms == 0.0 and data.tstop_ms >= data.timestamps_ms.max()
    df = spike_stats(tmp_path / "bmtk.h5")
    assert len(df) == 1 and df["group"].iloc[0] == "all"
    assert math.isnan(df["target_rate_hz"].iloc[0])
    assert df["n_spikes"].iloc[0] == data.timestamps_ms.size


def test_pure_functions():
    ids = np.array([0, 0, 0, 0, 2, 2, 2], np.uint64)
    ts = np.array([10.0, 20.0, 30.0, 40.0, 5.0, 6.0, 9.0])
    assert isi_cv(ids, ts)[0] == 0.0  # regular train
    assert isi_cv(ids, ts)[1] == pytest.approx(np.std([1, 3], ddof=1) / 2)
    assert unit_rates_hz(ids, np.array([0, 1, 2], np.uint64), 1000.0).tolist() == [4, 0, 3]
    even = np.arange(0.0, 1000.0, 1.0)  # uniform in phase: no modulation
    assert modulation_depth(even, 10.0, 0.0, 1000.0) < 1e-9
    rng = np.random.default_rng(0)
    a = np.sort(rng.uniform(0, 2000, 5000))
    lag, peak = cross_correlation_lag(a, a + 7.0, 0.0, 2100.0)
    assert lag == 7.0 and peak > 0.9


def test_errors_name_the_parameter(files):
    with pytest.raises(ValueError, match="'bin_ms': 0.0"):
        spike_stats(files["po"], bin_ms=0.0)
    with pytest.raises(KeyError, match="No population 'nope'.*it has: po"):
        spike_stats(files["po"], "nope")
    with pytest.raises(ValueError, match="'frequency_hz'"):
        modulation_depth(np.zeros(3), -1.0, 0.0, 10.0)


def test_describe_file(files):
    info = describe_file(files["fg"])
    (pop,) = info["populations"]
    assert pop["population"] == "exc" and pop["sorting"] == "by_id"
    assert pop["sorting_type"] == "enum"
    assert pop["provenance"]["seed"] == 1
    assert pop["metadata"]["profiles"] == [3, 5000]
    json.dumps(info)
