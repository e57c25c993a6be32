"""Spike processes: counts, interval distributions, the binned and refractory variants, and
the inverse Poisson CDF.

Every statistical assertion has a fixed seed and a bound derived from the distribution at
about 1e-6 (two-sided, Bonferroni over the elements when one assertion covers many), so a
failure means a bug, not bad luck.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from raster_maker import processes
from raster_maker.processes import SpikeProcess, draw_spikes, poisson_counts
from raster_maker.profiles import Constant, ProfileGrid, Sinusoid
from raster_maker.streams import node_keys

P = 1e-6  # false-alarm probability per assertion
Z = stats.norm.isf(P / 2)  # two-sided normal bound, ~4.89


def poisson_interval(mu, p=P):
    """Central interval of Poisson(mu) holding with probability >= 1 - p."""
    return stats.poisson.ppf(p / 2, mu), stats.poisson.isf(p / 2, mu)


def keys_for(n, seed=20240611, population="test"):
    return node_keys(seed, population, "spikes", np.arange(n))


def isis(rows, times):
    d = np.diff(times)
    return d[rows[1:] == rows[:-1]]


def window_isi_cdf(x, span, shape, scale):
    """CDF of the intervals lying wholly inside a window of length ``span`` of a stationary
    gamma(shape, scale) renewal process (Poisson for shape 1): their density is
    proportional to (span - x) f(x), because a longer interval fits in fewer places.
    Uses int_0^x s f(s; k) ds = k * scale * F(x; k + 1)."""

    def g(y):
        return span * stats.gamma.cdf(y, shape, scale=scale) - shape * scale * stats.gamma.cdf(
            y, shape + 1, scale=scale
        )

    return g(np.minimum(x, span)) / g(span)


def ks_pvalue(sample, cdf):
    return stats.kstest(sample, cdf).pvalue


# -- stationary Poisson ---------------------------------------------------------------------
def test_constant_rate_counts_match_targets():
    n, tstop = 400, 20_000.0
    scale = np.linspace(0.5, 40.0, n)  # Hz
    grid = Constant(1.0).evaluate(0.0, tstop, 1.0)
    rows, times = draw_spikes(SpikeProcess(), keys_for(n), scale, grid)
    counts = np.bincount(rows, minlength=n)
    mu = scale * tstop / 1000.0
    lo, hi = poisson_interval(mu, P / n)  # one assertion over n units: Bonferroni
    assert np.all((counts >= lo) & (counts <= hi))
    lo, hi = poisson_interval(mu.sum())
    assert lo <= counts.sum() <= hi
    assert np.all((times > 0.0) & (times < tstop))
    assert np.all(np.diff(rows) >= 0)
    assert np.all(isis(rows, times) > 0)


def test_constant_rate_isis_are_exponential():
    # the pooled ISIs are weakly dependent within a train (they sum to < span); with ~1e5
    # intervals over 2000 trains the KS p-value is still the right yardstick
    n, tstop, rate = 200, 50_000.0, 10.0
    grid = Constant(1.0).evaluate(0.0, tstop, 1.0)
    rows, times = draw_spikes(SpikeProcess(), keys_for(n), np.full(n, rate), grid)
    x = isis(rows, times)
    assert x.size > 90_000
    assert ks_pvalue(x, lambda y: window_isi_cdf(y, tstop, 1, 1000.0 / rate)) > P


def test_modulated_rate_rescaled_isis_are_exponential():
    """Time rescaling theorem: Lambda(t) = scale * int z maps the train to unit-rate Poisson."""
    n, tstop, scale = 200, 50_000.0, 10.0
    grid = Sinusoid(8.0, depth=0.9).evaluate(0.0, tstop, 1.0)
    rows, times = draw_spikes(SpikeProcess(), keys_for(n), np.full(n, scale), grid)
    lam_t = scale * np.interp(times, grid.edges, grid.cum)  # the exact cumulative of the grid
    x = isis(rows, lam_t)
    span = scale * grid.total
    assert ks_pvalue(x, lambda y: window_isi_cdf(y, span, 1, 1.0)) > P
    lo, hi = poisson_interval(n * span)
    assert lo <= rows.size <= hi
    # and the un-rescaled ISIs are far from exponential: the test has power
    raw = isis(rows, times)
    assert ks_pvalue(raw, lambda y: window_isi_cdf(y, tstop, 1, 1000.0 / scale)) < P


def test_zero_rate_and_zero_profile_bins_give_no_spikes():
    edges = np.arange(0.0, 101.0)
    values = np.zeros(100)
    values[40:60] = 50.0  # fires only in [40, 60) ms
    grid = ProfileGrid(edges, values)
    scale = np.array([0.0, 1.0, 10.0])
    rows, times = draw_spikes(SpikeProcess(), keys_for(3), scale, grid)
    assert not np.any(rows == 0)
    assert np.all((times >= 40.0) & (times <= 60.0))
    mu = 11.0 * 50.0 * 20.0 / 1000.0
    lo, hi = poisson_interval(mu)
    assert lo <= rows.size <= hi


# -- refractory -----------------------------------------------------------------------------
def test_refractory_trains_respect_the_period_and_the_target_rate():
    n, tstop, rate, tau = 400, 20_000.0, 40.0, 5.0
    grid = Constant(1.0).evaluate(0.0, tstop, 1.0)
    rows, times = draw_spikes(SpikeProcess(refractory_ms=tau), keys_for(n), np.full(n, rate), grid)
    assert isis(rows, times).min() >= tau
    # a dead-time train counts less variably than Poisson (Fano = (1 - r tau)^2), so the
    # Poisson interval is conservative; the start-up bias (first interval has no dead time)
    # is ~r tau / 2 * r tau ~ 0.02 spikes per train, far inside it
    lo, hi = poisson_interval(n * rate * tstop / 1000.0)
    assert lo <= rows.size <= hi
    # and without the rate correction the realised rate would be r / (1 + r tau): 33 Hz
    assert rows.size > n * tstop / 1000.0 * rate / (1 + rate * tau / 1000.0) * 1.1


def test_refractory_too_long_for_the_rate_is_refused():
    grid = Constant(1.0).evaluate(0.0, 100.0, 1.0)
    with pytest.raises(ValueError, match=r"'refractory_ms'.*too long.*250 Hz"):
        draw_spikes(SpikeProcess(refractory_ms=4.0), keys_for(2), np.array([10.0, 250.0]), grid)


# -- gamma ----------------------------------------------------------------------------------
@pytest.mark.parametrize("order", [2, 4])
def test_gamma_trains_have_gamma_isis_and_the_target_rate(order):
    n, tstop, rate = 200, 50_000.0, 10.0
    grid = Constant(1.0).evaluate(0.0, tstop, 1.0)
    rows, times = draw_spikes(
        SpikeProcess("gamma", order=order), keys_for(n), np.full(n, rate), grid
    )
    # spike count: a gamma renewal train counts less variably than Poisson (Fano 1/k)
    lo, hi = poisson_interval(n * rate * tstop / 1000.0)
    assert lo <= rows.size <= hi
    x = isis(rows, times)
    scale = 1000.0 / rate / order
    # the random phase of the kept events makes each train a stationary renewal process
    assert ks_pvalue(x, lambda y: window_isi_cdf(y, tstop, order, scale)) > P
    # CV near 1/sqrt(k): delta-method standard error of the sample CV from sample moments
    m, s = x.mean(), x.std()
    cv = s / m
    c = x - m
    m3, m4 = np.mean(c**3), np.mean(c**4)
    var_cv = (
        (m4 - s**4) / (4 * s**2 * m**2) - m3 / m**3 + s**4 / m**4
    ) / x.size  # Var(s/m) ~ grad' Cov grad
    assert abs(cv - 1 / np.sqrt(order)) < Z * np.sqrt(var_cv)


# -- binned ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("tstart", "dt", "rate"), [(1.0, 1.0, 30.0), (0.3, 2.5, 80.0)])
def test_binned_one_spike_per_bin_at_bin_starts(tstart, dt, rate):
    n, nbins = 300, 4000
    tstop = tstart + nbins * dt
    grid = Constant(1.0).evaluate(tstart, tstop, dt)
    proc = SpikeProcess("binned", dt_ms=dt)
    rows, times = draw_spikes(proc, keys_for(n), np.full(n, rate), grid)
    k = (times - tstart) / dt
    np.testing.assert_allclose(k, np.round(k), atol=1e-9)  # bin starts
    bins = np.round(k).astype(np.int64)
    assert np.all((bins >= 0) & (bins < nbins))
    assert np.all(np.diff(bins)[rows[1:] == rows[:-1]] >= 1)  # at most one per bin
    p = 1.0 - np.exp(-rate * dt / 1000.0)
    lo = stats.binom.ppf(P / 2, n * nbins, p)
    hi = stats.binom.isf(P / 2, n * nbins, p)
    assert lo <= rows.size <= hi
    # the probability does not depend on the bin: occupancy of the first and last tenth
    for part in (bins < nbins // 10, bins >= nbins - nbins // 10):
        m = n * (nbins // 10)
        assert stats.binom.ppf(P / 4, m, p) <= part.sum() <= stats.binom.isf(P / 4, m, p)


def test_binned_first_bin_spike_sits_on_tstart():
    # documented: binned spikes lie in [tstart, tstop); a first-bin spike is at tstart itself
    n = 2000  # P(no spike in the first bin of all 2000 units) = exp(-2000 * 0.1) ~ 1e-87
    grid = Constant(1.0).evaluate(5.0, 15.0, 1.0)
    rows, times = draw_spikes(SpikeProcess("binned"), keys_for(n), np.full(n, 100.0), grid)
    assert times.min() == 5.0
    assert np.all(times < 15.0)


# -- validation -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"kind": "poison"}, ValueError, r"'process'.*'poison'.*Allowed: 'poisson', 'binned'"),
        ({"refractory_ms": -1.0}, ValueError, r"'refractory_ms'.*-1.0.*>= 0"),
        ({"refractory_ms": float("nan")}, ValueError, r"'refractory_ms'.*nan"),
        ({"order": 0, "kind": "gamma"}, ValueError, r"'order'.*0.*>= 1"),
        ({"order": 2.5, "kind": "gamma"}, TypeError, r"'order' must be an integer"),
        ({"order": 3}, ValueError, r"'order'.*3.*unless process='gamma'"),
        ({"dt_ms": 0.0}, ValueError, r"'dt_ms'.*0.0.*> 0"),
        ({"dt_ms": -1.0}, ValueError, r"'dt_ms'.*-1.0"),
        ({"dt_ms": float("inf")}, ValueError, r"'dt_ms'.*inf"),
    ],
)
def test_spike_process_rejects_bad_parameters(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        SpikeProcess(**kwargs)


# -- poisson_counts -------------------------------------------------------------------------
U_GRID = np.array(
    [1e-300, 1e-12, 1e-9, 1e-6, 0.001, 0.1, 0.3, 0.5, 0.5 + 1e-12, 0.7, 0.9, 0.999, 1 - 1e-6,
     1 - 1e-9, 1 - 1e-12]
)  # fmt: skip


def _check_against_scipy(lam_values):
    u, lam = np.meshgrid(U_GRID, lam_values)
    got = poisson_counts(u, lam)
    want = stats.poisson.ppf(u, lam)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    "lam", [[0.0], [1e-300], [1e-12], [0.5], [3.0, 30.0], [1e3, 1e5], [1e-12, 0.5, 7.0, 1e4]]
)
def test_poisson_counts_table_path_equals_scipy_ppf(lam):
    _check_against_scipy(np.asarray(lam))  # <= 64 distinct means: one CDF table each


def test_poisson_counts_pdtrik_path_equals_scipy_ppf():
    lam = np.concatenate(([0.0, 1e-300, 1e-12], np.geomspace(1e-9, 1e10, 300)))
    _check_against_scipy(lam)  # > 64 distinct means: pdtrik


def test_poisson_counts_few_huge_means_need_no_huge_table():
    # a table of O(mean) entries for lam=1e9 would take 8 GB; scipy is the reference
    _check_against_scipy(np.array([1e9, 3e9]))


def test_poisson_counts_beyond_scipy_range_is_normal_quantile():
    # pdtrik (and scipy's ppf) return NaN for means above ~1e10 in the tails; there the
    # Poisson quantile is lam + z sqrt(lam) + (z^2 - 1)/6 + O(z^3 / sqrt(lam)), i.e. within
    # a count or two of the Cornish-Fisher value
    lam = np.array([1e11, 1e12, 5e13])
    u, lam = np.meshgrid(U_GRID[2:-1], lam)
    got = poisson_counts(u, lam)
    z = special.ndtri(u)
    cf = lam + np.sqrt(lam) * z + (z * z - 1) / 6 - 0.5
    assert np.all(np.abs(got - cf) <= 2.0)
    assert np.all(np.diff(got, axis=1) >= 0)


def test_poisson_counts_do_not_depend_on_the_batch():
    rng = np.random.default_rng(5)
    u = rng.uniform(size=200)
    lam = rng.uniform(0, 50, 200)
    alone = np.array([poisson_counts(u[i : i + 1], lam[i : i + 1])[0] for i in range(200)])
    np.testing.assert_array_equal(poisson_counts(u, lam), alone)


def test_gamma_with_refractory_is_refused():
    # the rate correction r / (1 - r tau) is exact for Poisson only (gamma would overshoot it)
    with pytest.raises(ValueError, match=r"'refractory_ms': 3.0 with process='gamma'.*Allowed: 0"):
        SpikeProcess("gamma", order=2, refractory_ms=3.0)


def test_poisson_counts_of_u_one_are_finite_on_every_route():
    # the streams give u = 1 with probability 2**-53; its quantile is infinite, so every
    # route takes the largest double below 1 (one table, the walk, pdtrik)
    below = 1.0 - 2.0**-53
    for lam in (np.array([5.0]), np.linspace(1.0, 300.0, 100), np.array([3e6])):
        u = np.ones(lam.size)
        got = poisson_counts(u, lam)
        assert np.all(got >= lam) and np.all(got < lam + 20 * np.sqrt(lam) + 50)
        np.testing.assert_array_equal(got, poisson_counts(np.full(lam.size, below), lam))


@pytest.mark.parametrize("n", [0, 1, 2, 500])
def test_node_time_order_is_lexsort(n):
    # (node, time) order of any spikes, sorted runs or not, ties and empty batches included
    rng = np.random.default_rng(n)
    pos = np.sort(rng.integers(0, 20, n))
    times = rng.random(n).round(2) * 100.0  # ties within a node
    want = np.lexsort((np.concatenate((times, times)), np.concatenate((pos, pos))))
    for dtype in (np.int64, np.uint64):  # any integer positions, as lexsort takes
        both = np.concatenate((pos, pos)).astype(dtype)
        got = processes.node_time_order(both, np.concatenate((times, times)))
        np.testing.assert_array_equal(got, want)
