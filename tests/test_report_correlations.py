"""Pairwise spike-count correlations, the population cross-correlogram and the synchrony
(complexity) distribution, in the report, the figure and the CLI."""

from __future__ import annotations

import json
import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy import stats  # noqa: E402

import raster_maker.synchrony  # noqa: E402,F401  (registers 'mip')
from raster_maker.cli import main  # noqa: E402
from raster_maker.generate import generate  # noqa: E402
from raster_maker.plotting import (  # noqa: E402
    correlation_figure_data,
    plot_inputs,
    wants_correlations,
)
from raster_maker.report import (  # noqa: E402
    complexity_distribution,
    complexity_histogram,
    count_correlations,
    load_population_data,
    pair_count_correlations,
    poisson_binomial_pmf,
    population_cross_correlogram,
    sample_pairs,
    spike_count_matrix,
    stats_report,
)
from raster_maker.sonata import SpikesWriter, read_provenance  # noqa: E402

P = 1e-6  # per-assertion false-failure probability of the statistical bounds
T_MS = 10_000.0
N = 100
RATE_HZ = 20.0


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("corr")
    out = {"poisson": d / "poisson.h5", "copies": d / "copies.h5", "one": d / "one.h5"}
    generate(
        "poisson",
        "p",
        np.arange(N),
        0.0,
        T_MS,
        params={"rate_hz": RATE_HZ},
        seed=3,
        output=out["poisson"],
    )
    # 20 units firing the very same times, and 5 recorded units that never fire
    times = np.sort(np.random.default_rng(1).uniform(0.0, T_MS, 300))
    with SpikesWriter(out["copies"]) as w:
        w.append("c", np.repeat(np.arange(20), times.size), np.tile(times, 20))
        w.add_metadata(
            "c",
            {
                "node_ids": np.arange(25, dtype=np.uint64),
                "group_index": np.zeros(25, np.int64),
                "group_keys": np.array(["all"], dtype=object),
                "target_rate_hz": np.full(25, 30.0),
            },
        )
    with SpikesWriter(out["one"]) as w:
        w.append("x", [4, 4, 4], [1.0, 2.0, 3.0])
    return out


def _bound(n_bins: int, n_pairs: int) -> float:
    """|mean r| of independent units at P. Bins of a Poisson process are exchangeable, so
    given one unit's counts the other's correlation with it has mean 0 and variance
    1/(n_bins - 1) exactly; pairs are uncorrelated (even when they share a unit), so the
    mean over pairs has variance 1/((n_bins - 1) n_pairs) (and is normal by the CLT)."""
    return stats.norm.isf(P / 2) / math.sqrt((n_bins - 1) * n_pairs)


def test_independent_poisson_is_uncorrelated(files):
    df = count_correlations(files["poisson"], n_pairs=5000, confidence=1 - P)
    assert df["window_ms"].tolist() == [5.0, 20.0, 100.0]
    assert (df["n_units"] == N).all() and (df["n_pairs"] == N * (N - 1) // 2).all()  # all pairs
    for row in df.itertuples():
        n_bins = int(T_MS / row.window_ms)
        assert abs(row.mean_correlation) < _bound(n_bins, row.n_pairs)
        assert row.ci_low <= 0.0 <= row.ci_high  # the interval at 1 - P covers the truth
        # the jackknife sem estimates the known sd: its square is ~ chi2(k-1)/(k-1) times it
        k = row.n_blocks
        ratio = (row.sem * math.sqrt((n_bins - 1) * row.n_pairs)) ** 2
        assert (
            stats.chi2.ppf(P / 2, k - 1) / (k - 1) < ratio < stats.chi2.isf(P / 2, k - 1) / (k - 1)
        )


def test_exact_copies_correlate_fully(files):
    df = count_correlations(files["copies"])
    assert (df["n_units"] == 20).all()  # the 5 silent units are left out
    assert (df["n_pairs"] == 190).all()
    assert np.allclose(df["mean_correlation"], 1.0, atol=1e-12)
    assert np.allclose(df["sd_correlation"], 0.0, atol=1e-12)
    cx = complexity_distribution(files["copies"])
    seen = cx[cx["n_bins"] > 0]
    assert seen["complexity"].tolist() == [0, 20]  # every spike is in all 20 units at once
    data = load_population_data(files["copies"])
    lags, cc = population_cross_correlogram(
        data.node_ids, data.timestamps_ms, data.units, 0.0, T_MS, max_lag_ms=5.0
    )
    assert lags.tolist() == [-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5]
    assert cc[5] == pytest.approx(1.0) and np.allclose(cc, cc[::-1])


def test_mip_correlation_is_p_copy(tmp_path):
    path = tmp_path / "mip.h5"
    generate(
        "mip",
        "m",
        np.arange(60),
        0.0,
        T_MS,
        params={"rate_hz": 10.0, "p_copy": 0.2},
        seed=11,
        output=path,
    )
    df = count_correlations(path, confidence=1 - P)
    assert (df["n_pairs"] == 60 * 59 // 2).all()
    for row in df.itertuples():  # count correlation of MIP units is p_copy at any window
        assert row.ci_low <= 0.2 <= row.ci_high, row
        if row.window_ms <= 20.0:  # an interval that says something: it excludes 0
            assert row.ci_low > 0.0, row  # (lowest ci_low over seeds 11-15: 0.11)
    cx = complexity_distribution(path)
    assert (cx["probability"] * cx["complexity"]).sum() == pytest.approx(
        (cx["independent_probability"] * cx["complexity"]).sum(), rel=1e-9
    )  # same mean complexity: same rates...
    tail = cx["complexity"] >= 5  # ...but far more synchrony than independent units
    assert cx.loc[tail, "probability"].sum() > 10 * cx.loc[tail, "independent_probability"].sum()
    assert wants_correlations(read_provenance(path, "m"))


def test_complexity_of_independent_poisson_is_binomial(files):
    cx = complexity_distribution(files["poisson"], bin_ms=1.0)
    n_bins = int(cx["n_bins"].sum())
    assert n_bins == 10_000 and cx["probability"].sum() == pytest.approx(1.0)
    p_active = -math.expm1(-RATE_HZ / 1000.0)  # P(a Poisson unit spikes in a 1 ms bin)
    expected = n_bins * stats.binom.pmf(np.arange(N + 1), N, p_active)
    observed = np.zeros(N + 1)
    observed[: len(cx)] = cx["n_bins"].to_numpy()
    # pool the tails so that every cell expects at least 5 bins
    lo = int(np.flatnonzero(np.cumsum(expected) >= 5)[0])
    hi = int(np.flatnonzero(np.cumsum(expected[::-1]) >= 5)[0])
    hi = N - hi
    e = np.r_[expected[: lo + 1].sum(), expected[lo + 1 : hi], expected[hi:].sum()]
    o = np.r_[observed[: lo + 1].sum(), observed[lo + 1 : hi], observed[hi:].sum()]
    assert stats.chisquare(o, e).pvalue > P
    # the recorded independent prediction is that binomial, up to the measured rates
    pred = cx["independent_probability"].to_numpy()
    assert pred.sum() == pytest.approx(1.0)
    assert np.abs(pred - expected[: pred.size] / n_bins).max() < 0.01


def test_complexity_as_elephant_defines_it():
    # Elephant's Complexity docstring: st1 = [1, 4, 6] ms, st2 = [1, 5, 8] ms, t_stop 10 ms,
    # 1 ms bins: complexity histogram [5, 4, 1]
    ids = np.array([0, 0, 0, 1, 1, 1], np.uint64)
    ts = np.array([1.0, 4.0, 6.0, 1.0, 5.0, 8.0])
    hist, active = complexity_histogram(ids, ts, np.arange(2, dtype=np.uint64), 0.0, 10.0, 1.0)
    assert hist.tolist() == [5, 4, 1] and active.tolist() == [3, 3]
    # a unit spiking twice in a bin counts once (binary); a shorter last bin is not a bin
    hist, _ = complexity_histogram(ids[:1].repeat(2), np.array([1.2, 1.7]), ids[:1], 0.0, 3.5, 1)
    assert hist.tolist() == [2, 1]
    # a time on a bin edge up to rounding goes to the next bin (Elephant's tolerance)
    hist, _ = complexity_histogram(ids[:1], np.array([0.3 - 1e-17]), ids[:1], 0.0, 0.5, 0.1)
    assert hist.tolist() == [4, 1]


def test_poisson_binomial_pmf():
    p = np.full(30, 0.3)
    assert np.allclose(poisson_binomial_pmf(p), stats.binom.pmf(np.arange(31), 30, 0.3))
    q = np.random.default_rng(0).uniform(0.0, 0.5, 40)
    conv = np.array([1.0])
    for x in q:
        conv = np.convolve(conv, [1.0 - x, x])
    assert np.allclose(poisson_binomial_pmf(q), conv, atol=1e-14)
    assert poisson_binomial_pmf([1.0, 1.0, 0.0, 0.5]).tolist() == [0, 0, 0.5, 0.5, 0]
    with pytest.raises(ValueError, match="'p'"):
        poisson_binomial_pmf([1.5])


def test_pair_correlations_are_pearson_with_blocks_left_out():
    rng = np.random.default_rng(2)
    ids = rng.integers(0, 12, 4000).astype(np.uint64)
    ts = rng.uniform(0.0, 1000.0, 4000)
    counts = spike_count_matrix(ids, ts, np.arange(12, dtype=np.uint64), 0.0, 1000.0, 10.0)
    dense = counts.toarray()
    assert dense.shape == (12, 100) and dense.sum() == 4000
    a, b = sample_pairs(12, 1000)
    r, r_loo = pair_count_correlations(counts, a, b, n_blocks=5)
    assert np.allclose(r, np.corrcoef(dense)[a, b])
    keep = np.ones(100, bool)
    keep[40:60] = False  # block 2 of 5
    assert np.allclose(r_loo[2], np.corrcoef(dense[:, keep])[a, b])


def test_pairs_are_distinct_and_reproducible():
    a, b = sample_pairs(5, 100)
    assert list(zip(a.tolist(), b.tolist(), strict=True)) == [
        (i, j) for i in range(5) for j in range(i + 1, 5)
    ]
    a, b = sample_pairs(3000, 2000, seed=4)
    assert a.size == 2000 and (a < b).all() and b.max() < 3000
    assert len(set(zip(a.tolist(), b.tolist(), strict=True))) == 2000
    a2, b2 = sample_pairs(3000, 2000, seed=4)
    assert (a == a2).all() and (b == b2).all()
    assert not np.array_equal(sample_pairs(3000, 2000, seed=5)[0], a)


def test_sampled_pairs(files):
    df = count_correlations(files["poisson"], windows_ms=[20], n_pairs=300, seed=1)
    assert df["n_pairs"].tolist() == [300]
    assert abs(df["mean_correlation"].iloc[0]) < _bound(500, 300)


def test_cross_correlogram_of_independent_units(files):
    data = load_population_data(files["poisson"])
    lags, cc = population_cross_correlogram(
        data.node_ids, data.timestamps_ms, data.units, 0.0, T_MS, bin_ms=1.0, max_lag_ms=20.0
    )
    assert lags.size == 41 and np.allclose(cc, cc[::-1])
    # independent units: each of the N (N - 1) ordered pairs' covariance estimates has
    # variance v^2 / n_bins and they are uncorrelated, so the pooled coefficient has sd
    # 1 / sqrt(n_bins N (N - 1)); P shared over the 21 distinct lags
    sd = 1.0 / math.sqrt(T_MS * N * (N - 1))
    assert np.abs(cc).max() < stats.norm.isf(P / 2 / 21) * sd


def test_report_and_figure_agree(files):
    rep = stats_report(files["poisson"], windows_ms=[10.0, 50.0], n_pairs=500)
    json.dumps(rep, allow_nan=False)
    api = count_correlations(files["poisson"], windows_ms=[10.0, 50.0], n_pairs=500)
    assert [r["mean_correlation"] for r in rep["count_correlations"]] == pytest.approx(
        api["mean_correlation"].tolist()
    )
    assert len(rep["complexity"]) == len(complexity_distribution(files["poisson"]))
    d = correlation_figure_data(files["poisson"], windows_ms=[10.0, 50.0], n_pairs=500)
    assert d.mean_correlation == pytest.approx(api["mean_correlation"].to_numpy())
    fig = plot_inputs(files["poisson"], correlations=True)
    labels = {ax.get_label() for ax in fig.axes}
    assert {"A", "B", "C", "D", "E", "F", "G"} <= labels
    fig.canvas.draw()
    assert not wants_correlations(read_provenance(files["poisson"], "p"))
    assert wants_correlations({"generator": "layers", "params": {"layers": [{"generator": "cpp"}]}})


def test_errors_name_the_parameter(files):
    with pytest.raises(ValueError, match="'windows_ms'"):
        count_correlations(files["poisson"], windows_ms=[0.0])
    with pytest.raises(ValueError, match="'windows_ms'"):
        count_correlations(files["poisson"], windows_ms=[])
    with pytest.raises(ValueError, match="'n_pairs': 0"):
        count_correlations(files["poisson"], n_pairs=0)
    with pytest.raises(ValueError, match="'confidence'"):
        count_correlations(files["poisson"], confidence=1.0)
    with pytest.raises(ValueError, match="'bin_ms': -1.0"):
        complexity_distribution(files["poisson"], bin_ms=-1.0)
    with pytest.raises(ValueError, match="1 unit\\(s\\) that fire: correlations need at least 2"):
        correlation_figure_data(files["one"])
    one = count_correlations(files["one"])  # the table says so with NaN, no error
    assert (one["n_pairs"] == 0).all() and one["mean_correlation"].isna().all()


# -- the command line ------------------------------------------------------------------
def test_stats_prints_correlations_and_synchrony(files, capsys):
    assert main(["stats", str(files["poisson"]), "--windows", "10", "50", "--pairs", "400"]) == 0
    out = capsys.readouterr().out
    assert "pairwise spike-count correlations" in out and "synchrony of p" in out
    assert main(["stats", "--json", str(files["poisson"]), "--complexity-bin-ms", "2"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert [r["window_ms"] for r in rep["count_correlations"]] == [5.0, 20.0, 100.0]
    assert sum(r["n_bins"] for r in rep["complexity"]) == 5000


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["stats", "{poisson}", "--windows", "0"], "Invalid value for 'windows_ms': 0.0"),
        (["stats", "{poisson}", "--pairs", "0"], "Invalid value for 'n_pairs': 0"),
        (["plot", "{one}", "--correlations"], "correlations need at least 2"),
        (["plot", "{poisson}", "--windows", "-5"], "Invalid value for 'windows_ms': -5.0"),
    ],
)
def test_clean_errors(files, tmp_path, argv, message, capsys):
    argv = [a.format(**{k: str(v) for k, v in files.items()}) for a in argv]
    if argv[0] == "plot":
        argv += ["-o", str(tmp_path / "f.png"), "--correlations"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"raster-maker {argv[0]}: error: ") and message in err
    assert len(err.strip().splitlines()) == 1


def test_plot_correlations(files, tmp_path, capsys):
    out = tmp_path / "corr.png"
    assert main(["plot", str(files["poisson"]), "--correlations", "-o", str(out)]) == 0
    assert out.stat().st_size > 1000
    assert capsys.readouterr().out.strip() == str(out)


def test_population_without_spikes(tmp_path):
    path = tmp_path / "empty.h5"
    with SpikesWriter(path) as w:
        w.add_population("e")
        w.add_metadata(
            "e",
            {
                "node_ids": np.arange(3, dtype=np.uint64),
                "group_index": np.zeros(3, np.int64),
                "group_keys": np.array(["all"], dtype=object),
                "target_rate_hz": np.zeros(3),
            },
        )
    df = count_correlations(path)
    assert (df["n_units"] == 0).all() and df["mean_correlation"].isna().all()
    cx = complexity_distribution(path)
    assert cx["complexity"].tolist() == [0] and cx["probability"].tolist() == [1.0]
    rep = stats_report(path)
    json.dumps(rep, allow_nan=False)
