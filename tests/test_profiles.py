"""Rate profiles: grids, inversion, sinusoids, 1/f noise spectra, arrays, callables, followers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from raster_maker.profiles import (
    Constant,
    FollowSpikes,
    FromArray,
    FromCallable,
    PinkNoise,
    ProfileGrid,
    Sinusoid,
    minmax_half,
    time_grid,
)

SEED = 4242


# -- grids ----------------------------------------------------------------------------------
def test_time_grid_edges_and_short_last_bin():
    np.testing.assert_array_equal(time_grid(0.0, 5.0, 1.0), [0, 1, 2, 3, 4, 5])
    np.testing.assert_allclose(time_grid(10.0, 12.5, 1.0), [10, 11, 12, 12.5])
    np.testing.assert_allclose(time_grid(-1.0, 0.0, 0.25), [-1, -0.75, -0.5, -0.25, 0])
    assert time_grid(0.0, 0.5, 2.0).tolist() == [0.0, 0.5]


@pytest.mark.parametrize(
    ("args", "exc", "match"),
    [
        ((0.0, 10.0, 0.0), ValueError, r"'dt_ms': 0.0 ms. Allowed: > 0"),
        ((0.0, 10.0, -1.0), ValueError, r"'dt_ms': -1.0"),
        ((0.0, 10.0, float("nan")), ValueError, r"'dt_ms': nan"),
        ((10.0, 10.0, 1.0), ValueError, r"tstop_ms=10.0 <= tstart_ms=10.0"),
        ((10.0, 5.0, 1.0), ValueError, r"tstop_ms=5.0 <= tstart_ms=10.0"),
        ((0.0, float("inf"), 1.0), ValueError, r"'tstop_ms': inf"),
        ((float("nan"), 1.0, 1.0), ValueError, r"'tstart_ms': nan"),
        ((0.0, "10", 1.0), TypeError, r"'tstop_ms' must be a real number"),
    ],
)
def test_bad_windows_and_steps_are_refused(args, exc, match):
    with pytest.raises(exc, match=match):
        time_grid(*args)
    with pytest.raises(exc, match=match):
        Constant(1.0).evaluate(*args)


def test_profile_grid_integral_and_mean():
    g = ProfileGrid(np.array([0.0, 1000.0, 1500.0]), np.array([2.0, 4.0]))
    np.testing.assert_allclose(g.cum, [0.0, 2.0, 4.0])
    assert g.total == 4.0 and g.peak == 4.0
    assert g.mean == pytest.approx(4.0 / 1.5)
    assert (g.tstart, g.tstop) == (0.0, 1500.0)


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ([1.0, -0.5], r"Invalid value in 'profile': -0.5 \(1 bad of 2\)"),
        ([np.nan, 1.0], r"Invalid value in 'profile': nan"),
        ([1.0, np.inf], r"Invalid value in 'profile': inf"),
        ([1.0], r"on 2 bins needs 2 values"),
    ],
)
def test_profile_grid_rejects_bad_values(values, match):
    with pytest.raises(ValueError, match=match):
        ProfileGrid(np.array([0.0, 1.0, 2.0]), np.array(values))


def test_invert_is_the_inverse_of_the_cumulative():
    rng = np.random.default_rng(SEED)
    for _ in range(50):
        n = int(rng.integers(1, 400))
        t0, dt = rng.uniform(-50, 50), rng.uniform(0.1, 3.0)
        edges = time_grid(t0, t0 + (n + rng.uniform(0, 1)) * dt, dt)
        vals = rng.exponential(size=edges.size - 1)
        vals[rng.uniform(size=vals.size) < 0.4] = 0.0  # runs of silent bins
        vals[0] = max(vals[0], 0.1)
        g = ProfileGrid(edges, vals)
        v = rng.uniform(0, g.total, 2000)
        t = g.invert(v)
        assert np.all((t >= edges[0]) & (t <= edges[-1]))
        np.testing.assert_allclose(np.interp(t, edges, g.cum), v, rtol=0, atol=1e-12 * g.total)
        # never inside a silent bin
        j = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, vals.size - 1)
        assert not np.any((vals[j] == 0) & (t > edges[j]) & (t < edges[j + 1]))


def test_invert_constant_profile_is_linear():
    g = Constant(3.0).evaluate(100.0, 300.0, 1.0)
    np.testing.assert_allclose(g.invert(np.array([0.0, g.total / 2, g.total])), [100, 200, 300])


# -- constant and composition ---------------------------------------------------------------
def test_composition():
    s = Sinusoid(5.0, 0.5)
    a = s.evaluate(0.0, 1000.0, 1.0).values
    np.testing.assert_allclose((2 * s).evaluate(0.0, 1000.0, 1.0).values, 2 * a)
    np.testing.assert_allclose((s + 0.5).evaluate(0.0, 1000.0, 1.0).values, a + 0.5)
    np.testing.assert_allclose((s * s).evaluate(0.0, 1000.0, 1.0).values, a * a)
    np.testing.assert_allclose((0.5 + s * 3).evaluate(0.0, 1000.0, 1.0).values, 0.5 + 3 * a)
    p = (2 * s).params()
    assert p["type"] == "product" and p["terms"][0]["type"] == "Sinusoid"
    assert p["terms"][1] == {"type": "Constant", "value": 2.0}


@pytest.mark.parametrize(
    ("make", "exc", "match"),
    [
        (lambda: Constant(-1.0), ValueError, r"'value': -1.0. Allowed: >= 0"),
        (lambda: Constant(float("nan")), ValueError, r"'value': nan"),
        (lambda: Constant(float("inf")), ValueError, r"'value': inf"),
        (lambda: Constant(1.0) * -2.0, ValueError, r"'value': -2.0"),
        (lambda: Constant(1.0) + float("nan"), ValueError, r"'profile constant': nan"),
        (lambda: Constant(1.0) * "2", TypeError, r"'profile constant' must be a real number"),
    ],
)
def test_bad_constants_are_refused(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


# -- sinusoid -------------------------------------------------------------------------------
def test_sinusoid_bins_hold_exact_averages():
    s = Sinusoid(7.0, depth=0.8, phase_rad=0.3, mean=2.0)
    g = s.evaluate(0.0, 500.0, 2.5)
    fine = np.linspace(0.0, 500.0, 200 * 2000 + 1)
    mid = 0.5 * (fine[1:] + fine[:-1])
    curve = 2.0 * (1 + 0.8 * np.sin(2 * np.pi * 7.0 * mid / 1000.0 + 0.3))
    np.testing.assert_allclose(g.values, curve.reshape(200, 2000).mean(axis=1), rtol=1e-6)
    w = 2 * np.pi * 7.0 / 1000.0  # rad/ms; the exact mean over 3.5 cycles:
    assert g.mean == pytest.approx(2.0 + 1.6 * (np.cos(0.3) - np.cos(w * 500.0 + 0.3)) / (w * 500))


@pytest.mark.parametrize(
    ("depth", "definition", "standard"),
    [
        (0.5, "standard", 0.5),
        (1.0, "standard", 1.0),
        (0.25, "original", 1 / 3),
        (0.5, "original", 1.0),
    ],
)
def test_sinusoid_depth_definitions(depth, definition, standard):
    s = Sinusoid(10.0, depth=depth, mean=3.0, depth_definition=definition)
    assert s.standard_depth == pytest.approx(standard)
    v = s.evaluate(0.0, 1000.0, 0.01).values  # fine bins: extremes within 1e-6
    hi, lo = v.max(), v.min()
    assert (hi - lo) / (hi + lo) == pytest.approx(standard, abs=1e-5)
    if definition == "original":  # the original's amplitude mean / (1/depth - 1)
        assert (hi - lo) / 2 == pytest.approx(3.0 / (1 / depth - 1), rel=1e-5)


def test_sinusoid_zero_frequency_is_constant():
    g = Sinusoid(0.0, depth=0.5, phase_rad=np.pi / 2).evaluate(0.0, 10.0, 1.0)
    np.testing.assert_allclose(g.values, 1.5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"frequency_hz": -1.0}, r"'frequency_hz': -1.0 Hz. Allowed: >= 0"),
        ({"frequency_hz": float("nan")}, r"'frequency_hz': nan"),
        ({"frequency_hz": 8.0, "depth": 1.5}, r"'depth': 1.5. Allowed: <= 1.0"),
        ({"frequency_hz": 8.0, "depth": 0.6, "depth_definition": "original"}, r"'depth'.*<= 0.5"),
        ({"frequency_hz": 8.0, "depth": -0.1}, r"'depth': -0.1. Allowed: >= 0"),
        ({"frequency_hz": 8.0, "mean": -1.0}, r"'mean': -1.0"),
        ({"frequency_hz": 8.0, "depth_definition": "peak"}, r"'depth_definition': 'peak'"),
    ],
)
def test_sinusoid_rejects_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Sinusoid(**kwargs)


# -- 1/f noise ------------------------------------------------------------------------------
def spectral_slope(profile, seed, n_traces=8, tstop_ms=10_000.0):
    """Log-log slope of the Welch spectrum over 1-100 Hz, averaged over several traces."""
    rng = np.random.default_rng(seed)
    psd = 0.0
    for _ in range(n_traces):
        v = profile.evaluate(0.0, tstop_ms, 1.0, rng).values
        f, p = signal.welch(v - v.mean(), fs=1000.0, nperseg=2048)
        psd = psd + p
    sel = (f >= 1.0) & (f <= 100.0)
    return np.polyfit(np.log10(f[sel]), np.log10(psd[sel]), 1)[0]


# Tolerances from the spread over 200 seeds (8 traces of 10 s each, Welch 2048): the
# original filter gave slopes -0.983 +/- 0.0145 (sd; min -1.027, max -0.946; the filter's
# own deviation from 1/f is the 0.017 offset), fft exponent 2 gave -2.005 +/- 0.015. A
# bound of |offset| + 5 sd (~1e-6 for a normal spread) rounds up to 0.1 and 0.08.
@pytest.mark.parametrize(
    ("profile", "want", "tol"),
    [
        (PinkNoise(), -1.0, 0.1),
        (PinkNoise(method="fft", exponent=2.0), -2.0, 0.08),
        (PinkNoise(method="fft", exponent=1.0), -1.0, 0.08),
    ],
)
def test_pink_noise_spectral_slope(profile, want, tol):
    assert abs(spectral_slope(profile, SEED) - want) < tol


def test_white_noise_has_a_flat_spectrum_so_the_slope_test_has_power():
    # exponent 0 is white: the slope test would reject it for 1/f
    assert abs(spectral_slope(PinkNoise(method="fft", exponent=0.0), SEED)) < 0.08


@pytest.mark.parametrize("method", ["original", "fft"])
def test_pink_noise_normalisations(method):
    rng = np.random.default_rng(SEED)
    v = PinkNoise(method=method).evaluate(0.0, 3000.0, 1.0, rng).values
    assert v.min() == pytest.approx(0.5) and v.max() == pytest.approx(1.5)
    v = PinkNoise(method=method, normalize="mean").evaluate(0.0, 3000.0, 1.0, rng).values
    assert v.mean() == pytest.approx(1.0) and np.all(v > 0)


def test_pink_noise_depends_only_on_the_generator():
    a = PinkNoise().evaluate(0.0, 2000.0, 1.0, np.random.default_rng(3)).values
    b = PinkNoise().evaluate(0.0, 2000.0, 1.0, np.random.default_rng(3)).values
    c = PinkNoise().evaluate(0.0, 2000.0, 1.0, np.random.default_rng(4)).values
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_pink_noise_original_on_a_coarser_grid_averages_the_1ms_trace():
    fine = PinkNoise().evaluate(0.0, 1000.0, 1.0, np.random.default_rng(8))
    coarse = PinkNoise().evaluate(0.0, 1000.0, 5.0, np.random.default_rng(8))
    # same trace (same draws); min-max rescaling is affine, so compare shapes after it
    np.testing.assert_allclose(coarse.values, minmax_half(fine.values.reshape(200, 5).mean(1)))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"exponent": 2.0}, r"'exponent': 2.0 with method='original'. Allowed: 1"),
        ({"exponent": -1.0, "method": "fft"}, r"'exponent': -1.0. Allowed: >= 0"),
        ({"method": "iir"}, r"'method': 'iir'. Allowed: 'original', 'fft'"),
        ({"normalize": "z"}, r"'normalize': 'z'"),
    ],
)
def test_pink_noise_rejects_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PinkNoise(**kwargs)


def test_minmax_half():
    np.testing.assert_allclose(minmax_half(np.array([2.0, 4.0, 3.0])), [0.5, 1.5, 1.0])
    np.testing.assert_array_equal(minmax_half(np.array([3.0, 3.0])), [1.0, 1.0])


# -- arrays and callables -------------------------------------------------------------------
def test_from_array_averages_and_holds():
    p = FromArray([1.0, 3.0, 5.0, 7.0], dt_ms=10.0, t0_ms=0.0)
    np.testing.assert_allclose(p.evaluate(0.0, 40.0, 10.0).values, [1, 3, 5, 7])
    np.testing.assert_allclose(p.evaluate(0.0, 40.0, 20.0).values, [2, 6])
    np.testing.assert_allclose(p.evaluate(5.0, 25.0, 10.0).values, [2, 4])
    np.testing.assert_allclose(p.evaluate(-20.0, 0.0, 10.0).values, [1, 1])  # before: first
    np.testing.assert_allclose(p.evaluate(40.0, 60.0, 10.0).values, [7, 7])  # after: last


@pytest.mark.parametrize(
    ("values", "kwargs", "match"),
    [
        ([1.0, -1.0], {}, r"Invalid value in 'values': -1.0"),
        ([1.0, np.nan], {}, r"Invalid value in 'values': nan"),
        ([np.inf], {}, r"Invalid value in 'values': inf"),
        ([], {}, r"'values' must be a non-empty 1-D array"),
        ([[1.0]], {}, r"'values' must be a non-empty 1-D array"),
        ([1.0], {"dt_ms": 0.0}, r"'dt_ms': 0.0 ms. Allowed: > 0"),
    ],
)
def test_from_array_rejects_bad_values(values, kwargs, match):
    with pytest.raises(ValueError, match=match):
        FromArray(values, **kwargs)


def test_from_callable_samples_bin_centres():
    g = FromCallable(lambda t: t / 10.0).evaluate(0.0, 40.0, 10.0)
    np.testing.assert_allclose(g.values, [0.5, 1.5, 2.5, 3.5])
    g = FromCallable(lambda t: 2.0).evaluate(0.0, 3.0, 1.0)  # scalars broadcast
    np.testing.assert_allclose(g.values, [2.0, 2.0, 2.0])


@pytest.mark.parametrize(
    ("func", "match"), [(lambda t: t - 5.0, r"-4.5"), (lambda t: t * np.nan, r"nan")]
)
def test_from_callable_rejects_bad_values(func, match):
    with pytest.raises(ValueError, match=r"Invalid value in 'profile function values': " + match):
        FromCallable(func).evaluate(0.0, 10.0, 1.0)


def test_from_callable_needs_a_callable():
    with pytest.raises(TypeError, match=r"'func' must be callable, got float"):
        FromCallable(1.0)


# -- follow spikes --------------------------------------------------------------------------
def test_follow_spikes_is_the_delayed_population_rate():
    ts = np.array([0.5, 0.7, 3.2, 9.9])
    p = FollowSpikes(ts, n_units=2, lag_ms=2.0, normalize="none")
    v = p.evaluate(0.0, 10.0, 1.0).values
    rate = np.array([2, 0, 0, 1, 0, 0, 0, 0, 0, 1]) / 0.001 / 2
    np.testing.assert_allclose(v, np.roll(rate, 2))  # circular, as the original
    v = FollowSpikes(ts, 2, lag_ms=2.0).evaluate(0.0, 10.0, 1.0).values
    np.testing.assert_allclose(v, minmax_half(np.roll(rate, 2)))
    v = FollowSpikes(ts, 2, lag_ms=0.0, normalize="mean").evaluate(0.0, 10.0, 1.0).values
    assert v.mean() == pytest.approx(1.0)
    v = FollowSpikes([], 2, normalize="mean").evaluate(0.0, 10.0, 1.0).values
    np.testing.assert_array_equal(v, 1.0)


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (([1.0, np.nan], 1), {}, r"'timestamps_ms': not finite"),
        (([1.0], 0), {}, r"'n_units': 0. Allowed: an integer >= 1"),
        (([1.0], 1), {"lag_ms": -2.0}, r"'lag_ms': -2.0 ms. Allowed: >= 0"),
        (([1.0], 1), {"normalize": "minmax"}, r"'normalize': 'minmax'"),
    ],
)
def test_follow_spikes_rejects_bad_parameters(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        FollowSpikes(*args, **kwargs)


def test_inversion_tables_refine_for_peaks_but_not_for_silences():
    # a silence keeps its integral constant: finer cells cannot split it, so the table
    # stays at one cell per bin (16 per bin would cost 16x the memory for nothing)
    from raster_maker.profiles import ProfileGrid

    n = 20_000
    silent = np.ones(n)
    silent[1000:1010] = 0.0
    peaked = np.full(n, 0.01)  # one bin holds most of the integral: a cell of the
    peaked[5000] = 1e4  # rest holds ~50 bins at one cell per bin
    for values, cells in ((silent, n + 1), (peaked, None)):
        grid = ProfileGrid(np.arange(n + 1, dtype=float), values)
        lut_hi = grid._inverse_tables()[1]
        if cells is None:
            assert lut_hi.size > n + 1  # the peak's integral spreads over finer cells
        else:
            assert lut_hi.size == cells
        v = np.random.default_rng(0).uniform(0, grid.total, 50_000)
        k = np.searchsorted(grid.cum, v, side="right") - 1  # the bin of each value
        t = grid.invert(v)
        assert np.all((t >= grid.edges[k]) & (t <= grid.edges[k + 1]))
