"""Rate traces: the piecewise-linear grid (integral, exact inversion, bin means), spikes drawn
through it, RateTrace as a profile and in BMTK's form, and errors.

Statistical assertions have a fixed seed and a bound derived from the distribution at about
1e-6 (two-sided, Bonferroni over the bins when one assertion covers many).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, optimize, stats

from raster_maker.processes import SpikeProcess, draw_spikes
from raster_maker.profiles import Constant, ProfileGrid, Sinusoid, time_grid
from raster_maker.streams import node_keys
from raster_maker.traces import PiecewiseLinearGrid, RateTrace

P = 1e-6
Z = stats.norm.isf(P / 2)
SEED = 8086

# (times_ms, values, tstart_ms, tstop_ms): rising, falling, from zero, with zero stretches,
# knots outside the window, a single knot
TRACES = {
    "ramp_up": ([0.0, 1000.0], [0.0, 50.0], 0.0, 1000.0),
    "ramp_down": ([0.0, 1000.0], [40.0, 2.0], 0.0, 1000.0),
    "tent": ([100.0, 400.0, 900.0], [0.0, 30.0, 0.0], 0.0, 1000.0),
    "zeros": ([0.0, 200.0, 300.0, 500.0, 600.0, 1000.0], [20.0, 20.0, 0.0, 0.0, 30.0, 0.0], 0, 1e3),
    "outside": ([-500.0, 250.0, 2000.0], [5.0, 15.0, 1.0], 0.0, 1000.0),
    "flat": ([300.0], [12.0], 0.0, 1000.0),
    "many": (np.linspace(-3.0, 1003.0, 400), 10 + 9 * np.sin(np.arange(400.0)), 0.0, 1000.0),
}


def grid_of(name):
    return PiecewiseLinearGrid(*TRACES[name])


def reference_integral(name, t_ms):
    """Integral of np.interp's trace from tstart to t (s x value), by adaptive quadrature."""
    times, vals, t0, _ = TRACES[name]
    pts = [x for x in times if t0 < x < t_ms]
    f = lambda x: np.interp(x, times, vals)  # noqa: E731
    return (
        integrate.quad(f, t0, t_ms, points=pts or None, limit=1000, epsabs=0, epsrel=1e-13)[0]
        / 1000.0
    )


def keys_for(n, seed=SEED):
    return node_keys(seed, "pop", "test", np.arange(n, dtype=np.uint64))


# -- integral and inversion ------------------------------------------------------------------
@pytest.mark.parametrize("name", TRACES)
def test_integral_matches_quadrature_of_the_interpolated_trace(name):
    g = grid_of(name)
    t = np.random.default_rng(1).uniform(g.tstart, g.tstop, 30)
    want = [reference_integral(name, x) for x in t]
    np.testing.assert_allclose(g.integral(t), want, rtol=1e-10, atol=1e-13)
    assert g.total == pytest.approx(reference_integral(name, g.tstop), rel=1e-12)
    assert g.mean == pytest.approx(g.total * 1000.0 / (g.tstop - g.tstart))
    # clipped to the window
    np.testing.assert_array_equal(g.integral([g.tstart - 5.0, g.tstop + 5.0]), [0.0, g.total])


@pytest.mark.parametrize("name", TRACES)
def test_invert_is_exact(name):
    g = grid_of(name)
    v = np.concatenate(
        [
            np.random.default_rng(2).uniform(0.0, g.total, 20_000),
            g.cum[1:-1] + 1e-12 * g.total,  # just past each knot
            g.total * np.array([1e-12, 1e-6, 0.5, 1 - 1e-9]),
        ]
    )
    t = g.invert(v)
    assert np.all((t >= g.tstart) & (t <= g.tstop))
    np.testing.assert_allclose(g.integral(t), v, rtol=1e-9, atol=1e-15 * g.total)
    order = np.argsort(v)
    assert np.all(np.diff(t[order]) >= 0)
    # against an independent root of the quadrature integral
    for x in v[:15]:
        root = optimize.brentq(
            lambda s, x=x: reference_integral(name, s) - x, g.tstart, g.tstop, xtol=1e-9
        )
        assert g.invert(np.array([x]))[0] == pytest.approx(root, abs=1e-6)


def test_invert_closed_forms():
    g = grid_of("ramp_up")  # z = t / 20 on [0, 1000]: integral t^2 / 40000 (s x value)
    v = np.array([1e-6, 0.25, 6.25, 24.9999])
    np.testing.assert_allclose(g.invert(v), np.sqrt(40_000.0 * v), rtol=1e-13)
    flat = grid_of("flat")  # 12 everywhere: integral 0.012 t
    np.testing.assert_allclose(flat.invert(np.array([0.6, 6.0])), [50.0, 500.0], rtol=1e-14)
    assert flat.invert(0.6) == pytest.approx(50.0) and flat.invert(np.ones((2, 3))).shape == (2, 3)
    assert g.invert(np.array([])).shape == (0,)


# -- spikes through draw_spikes -----------------------------------------------------------------
def poisson_interval(mu, p):
    return stats.poisson.ppf(p / 2, mu), stats.poisson.isf(p / 2, mu)


@pytest.mark.parametrize("name", ["ramp_up", "ramp_down", "tent", "zeros", "outside", "many"])
def test_spike_counts_per_bin_follow_the_integral_of_the_trace(name):
    g = grid_of(name)
    n = 3000
    scale = np.random.default_rng(3).uniform(0.5, 1.5, n)
    rows, times = draw_spikes(SpikeProcess(), keys_for(n), scale, g)
    edges = np.linspace(g.tstart, g.tstop, 41)
    counts, _ = np.histogram(times, edges)
    mu = scale.sum() * np.diff(g.integral(edges))  # superposed Poisson processes: Poisson counts
    lo, hi = poisson_interval(mu, P / edges.size)
    assert np.all((counts >= lo) & (counts <= hi))
    assert np.all(np.diff(times)[rows[1:] == rows[:-1]] >= 0)


def test_a_linear_ramps_spike_density_has_the_ramps_slope():
    rate0, rate1, span = 10.0, 60.0, 1000.0
    g = PiecewiseLinearGrid([0.0, span], [rate0, rate1], 0.0, span)
    n, width = 4000, 20.0
    _, times = draw_spikes(SpikeProcess(), keys_for(n, seed=11), np.ones(n), g)
    edges = np.arange(0.0, span + width, width)
    counts, _ = np.histogram(times, edges)
    x = 0.5 * (edges[:-1] + edges[1:])
    slope = np.polyfit(x, counts, 1)[0]  # counts per bin per ms
    want = n * (rate1 - rate0) / span * width / 1000.0
    # OLS slope = sum(w_j N_j) with w = (x - xbar) / sum (x - xbar)^2 and independent
    # N_j ~ Poisson(mu_j): its sd is sqrt(sum w_j^2 mu_j) (near-normal: mu_j ~ 1000)
    w = (x - x.mean()) / np.sum((x - x.mean()) ** 2)
    mu = n * np.diff(g.integral(edges))
    assert abs(slope - want) < Z * np.sqrt(np.sum(w**2 * mu))


@pytest.mark.parametrize(
    "process", [SpikeProcess(), SpikeProcess("gamma", order=3), SpikeProcess(refractory_ms=2.0)]
)
def test_zero_rate_stretches_get_no_spikes(process):
    # zero on [0, 100) (held before the first knot) and on [300, 500]
    trace = ([100.0, 200.0, 300.0, 500.0, 600.0], [0.0, 40.0, 0.0, 0.0, 30.0], 0.0, 1000.0)
    g = PiecewiseLinearGrid(*trace)
    rows, times = draw_spikes(process, keys_for(5000), np.full(5000, 2.0), g)
    assert times.size > 100_000
    assert not np.any(times <= 100.0)
    assert not np.any((times >= 300.0) & (times <= 500.0))
    # the ramps out of and into zero do fire: 5000 units at 2 x 0.4 Hz/ms expect
    # 5000 * 0.8 * 5**2 / 2 / 1000 = 50 spikes in their first / last 5 ms (P(none) ~ e**-50)
    assert np.any((times > 100.0) & (times < 105.0))
    assert np.any((times > 295.0) & (times < 300.0))


def test_ends_are_held_as_numpy_interp():
    g = grid_of("outside")  # knots at -500, 250, 2000 ms
    times, vals, *_ = TRACES["outside"]
    t = np.linspace(0.0, 1000.0, 101)
    got = np.diff(g.integral(t)) * 1000.0 / np.diff(t)
    mid = 0.5 * (t[:-1] + t[1:])
    np.testing.assert_allclose(got, np.interp(mid, times, vals), rtol=1e-10)  # linear: mean = mid
    kt, kv = g.knots()
    np.testing.assert_array_equal(kt, [0.0, 250.0, 1000.0])
    np.testing.assert_allclose(kv, np.interp(kt, times, vals), rtol=1e-14)
    # a window wholly before the first knot (after the last) holds the first (last) value
    before = PiecewiseLinearGrid([100.0, 200.0], [3.0, 8.0], 0.0, 50.0)
    after = PiecewiseLinearGrid([100.0, 200.0], [3.0, 8.0], 500.0, 900.0)
    assert before.is_constant and before.mean == 3.0 and before.peak == 3.0
    assert after.is_constant and after.total == pytest.approx(8.0 * 0.4)
    np.testing.assert_array_equal(before.knots()[0], [0.0, 50.0])


def test_bin_means_and_integral_agree_with_a_profile_grid_of_steps():
    rng = np.random.default_rng(5)
    edges = time_grid(0.0, 250.0, 2.5)
    values = rng.uniform(0.0, 20.0, edges.size - 1)
    values[10:20] = 0.0
    steps = ProfileGrid(edges, values)
    eps = 1e-6  # each step is a ramp this short (ms) in the piecewise-linear version
    knot_t = np.stack([edges[:-1], edges[1:] - eps], axis=1).reshape(-1)
    knot_v = np.repeat(values, 2)
    lin = PiecewiseLinearGrid(knot_t, knot_v, 0.0, 250.0)
    tol = values.size * eps * values.max() / 1000.0  # the short ramps move the integral this much
    t = np.sort(rng.uniform(0.0, 250.0, 500))
    np.testing.assert_allclose(lin.integral(t), steps.integral(t), rtol=0, atol=tol)
    coarse = np.sort(np.concatenate([[0.0, 250.0], rng.uniform(0.0, 250.0, 30)]))
    mean_tol = 2 * tol * 1000.0 / np.diff(coarse).min()  # two integrals over the bin width
    np.testing.assert_allclose(
        lin.bin_means(coarse), steps.bin_means(coarse), rtol=0, atol=mean_tol
    )
    # a profile grid's own bins give back its values; its integral at the edges is cum
    np.testing.assert_allclose(steps.bin_means(edges), values, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(steps.integral(edges), steps.cum)
    assert lin.total == pytest.approx(steps.total, abs=tol)


def test_is_constant():
    assert grid_of("flat").is_constant and not grid_of("ramp_up").is_constant
    assert PiecewiseLinearGrid([0.0, 10.0], [4.0, 4.0], 0.0, 20.0).is_constant
    assert ProfileGrid(np.array([0.0, 1.0, 2.0]), np.array([3.0, 3.0])).is_constant
    assert not ProfileGrid(np.array([0.0, 1.0, 2.0]), np.array([3.0, 0.0])).is_constant


def test_an_all_zero_trace_gives_no_spikes():
    g = PiecewiseLinearGrid([0.0, 500.0], [0.0, 0.0], 0.0, 1000.0)
    assert g.total == 0.0 and g.peak == 0.0 and g.is_constant
    rows, times = draw_spikes(SpikeProcess(), keys_for(10), np.full(10, 5.0), g)
    assert rows.size == 0 and times.size == 0


def test_a_flat_trace_gives_the_spikes_of_a_constant_profile():
    lin = PiecewiseLinearGrid([0.0], [7.0], 0.0, 1000.0)
    steps = Constant(7.0).evaluate(0.0, 1000.0)
    keys = keys_for(200)
    r1, t1 = draw_spikes(SpikeProcess(), keys, np.ones(200), lin)
    r2, t2 = draw_spikes(SpikeProcess(), keys, np.ones(200), steps)
    np.testing.assert_array_equal(r1, r2)
    np.testing.assert_allclose(t1, t2, rtol=0, atol=1e-9)


# -- RateTrace --------------------------------------------------------------------------------
def test_rate_trace_evaluates_to_the_exact_grid():
    trace = RateTrace([0.0, 500.0, 1000.0], [0.0, 20.0, 0.0])
    g = trace.evaluate(0.0, 1000.0, dt_ms=7.0, rng=3)
    assert isinstance(g, PiecewiseLinearGrid)
    assert g.total == pytest.approx(10.0, rel=1e-14) and g.peak == 20.0
    # area 1.25 up to 250 ms (half the peak), 5 at the peak, 8.75 at 750 ms
    np.testing.assert_allclose(g.invert(np.array([1.25, 5.0, 8.75])), [250.0, 500.0, 750.0])
    assert trace.span_ms == (0.0, 1000.0)


def test_rate_trace_composes_as_exact_bin_means_on_the_dt_grid():
    trace = RateTrace([0.0, 500.0, 1000.0], [0.0, 20.0, 0.0])
    exact = trace.evaluate(0.0, 1000.0)
    edges = time_grid(0.0, 1000.0, 3.0)
    means = exact.bin_means(edges)
    # linear inside a bin: the mean is the value at the midpoint (last bin [999, 1000) ms)
    np.testing.assert_allclose(means[[0, -1]], [0.04 * 1.5, 0.04 * 0.5], rtol=1e-9)
    doubled = (2 * trace).evaluate(0.0, 1000.0, 3.0)
    assert isinstance(doubled, ProfileGrid)
    np.testing.assert_allclose(doubled.values, 2 * means, rtol=1e-12)
    np.testing.assert_allclose((trace + 0.5).evaluate(0.0, 1000.0, 3.0).values, means + 0.5)
    sine = Sinusoid(5.0, depth=0.5)
    np.testing.assert_allclose(
        (trace * sine).evaluate(0.0, 1000.0, 3.0).values,
        means * sine.evaluate(0.0, 1000.0, 3.0).values,
        rtol=1e-12,
    )
    assert doubled.total == pytest.approx(2 * exact.total, rel=1e-12)


def test_rate_trace_from_bmtk_and_from_dict():
    bmtk = RateTrace.from_bmtk([1.0, 5.0, 2.0], times_s=[0.0, 0.5, 3.0])
    np.testing.assert_array_equal(bmtk.times_ms, [0.0, 500.0, 3000.0])
    np.testing.assert_array_equal(bmtk.rates, [1.0, 5.0, 2.0])
    assert bmtk.span_ms == (0.0, 3000.0)
    from_s = RateTrace.from_dict({"firing_rate": [1.0, 5.0, 2.0], "times": [0.0, 0.5, 3.0]})
    from_ms = RateTrace.from_dict({"firing_rate": [1, 5, 2], "times_ms": [0, 500, 3000]})
    for t in (from_s, from_ms):
        np.testing.assert_array_equal(t.times_ms, bmtk.times_ms)
        np.testing.assert_array_equal(t.rates, bmtk.rates)
    p = bmtk.params()
    assert json.loads(json.dumps(p)) == p
    assert p == {
        "type": "RateTrace",
        "times_ms": [0.0, 500.0, 3000.0],
        "firing_rate": [1.0, 5.0, 2.0],
    }
    again = RateTrace.from_dict(json.loads(json.dumps(p)))
    np.testing.assert_array_equal(again.rates, bmtk.rates)


def test_rate_trace_params_of_a_long_trace_are_a_summary():
    t = np.arange(5000.0)
    trace = RateTrace(t, 1.0 + t % 7)
    p = trace.params()
    assert set(p) == {"type", "n", "t_first_ms", "t_last_ms", "rate_min", "rate_max", "sha1"}
    assert (p["n"], p["t_last_ms"], p["rate_max"]) == (5000, 4999.0, 7.0)
    assert json.dumps(p)
    assert RateTrace(t, 1.0 + t % 5).params()["sha1"] != p["sha1"]


def test_rate_trace_arrays_are_read_only():
    trace = RateTrace([0.0, 1.0], [2.0, 3.0])
    with pytest.raises(ValueError, match="read-only"):
        trace.rates[0] = 5.0


@pytest.mark.parametrize(
    ("make", "exc", "match"),
    [
        (
            lambda: RateTrace([0.0, 1.0, 1.0, 2.0], [1, 2, 3, 4]),
            ValueError,
            r"'times_ms': not strictly increasing at index 2 \(times_ms\[1\]=1, times_ms\[2\]=1\)",
        ),
        (
            lambda: RateTrace(np.arange(100.0)[::-1], np.ones(100)),
            ValueError,
            r"index 1 .*\[99, 98, 97, \.\.\., 1, 0\] \(shape \(100,\)\)",
        ),
        (
            lambda: RateTrace([0, 1, 2], [1.0, -2.0, -3.0]),
            ValueError,
            r"'rates': rates\[1\]=-2.0 \(2 bad of 3\).*Allowed: finite values >= 0",
        ),
        (lambda: RateTrace([0, 1], [1.0, np.nan]), ValueError, r"rates\[1\]=nan"),
        (lambda: RateTrace([0, np.inf], [1.0, 1.0]), ValueError, r"times_ms\[1\]=inf"),
        (
            lambda: RateTrace(np.arange(50.0), np.ones(49)),
            ValueError,
            r"same length.*\(shape \(50,\)\).*\(shape \(49,\)\)",
        ),
        (lambda: RateTrace([], []), ValueError, r"'times_ms': shape \(0,\). Allowed: .*at least 1"),
        (lambda: RateTrace(5.0, 1.0), ValueError, r"'times_ms': shape \(\)"),
        (lambda: RateTrace([[0, 1]], [[1, 1]]), ValueError, r"shape \(1, 2\)"),
        (lambda: RateTrace(["a"], [1]), TypeError, r"'times_ms' must be a 1-D array of real"),
        (lambda: RateTrace([0], [True]), TypeError, r"'rates' must be"),
        (
            lambda: RateTrace.from_bmtk([1, 2], times_s=[0.5, 0.1]),
            ValueError,
            r"'times_s': not strictly increasing at index 1 \(times_s\[0\]=0.5",
        ),
        (
            lambda: RateTrace.from_bmtk([1, -2], times_s=[0.0, 0.1]),
            ValueError,
            r"'firing_rate': firing_rate\[1\]=-2",
        ),
        (
            lambda: RateTrace.from_dict({"firing_rate": [1], "times": [0], "times_ms": [0]}),
            ValueError,
            r"exactly one of 'times_ms' \(ms\) or 'times' \(s, as BMTK\)",
        ),
        (lambda: RateTrace.from_dict({"times": [0]}), ValueError, r"needs 'firing_rate'"),
        (lambda: RateTrace.from_dict({"rate": [1]}), ValueError, r"Invalid key\(s\).*'rate'"),
        (lambda: RateTrace.from_dict({"type": "X"}), ValueError, r"'type': 'X'"),
        (lambda: RateTrace.from_dict([1, 2]), TypeError, r"must be a dict, got list"),
        (
            lambda: RateTrace([0.0], [1.0]).evaluate(0.0, 10.0, dt_ms=0.0),
            ValueError,
            r"'dt_ms': 0.0",
        ),
        (
            lambda: RateTrace([0.0], [1.0]).evaluate(10.0, 5.0),
            ValueError,
            r"tstop_ms=5.0 <= tstart_ms=10.0",
        ),
        (
            lambda: PiecewiseLinearGrid([0, 1], [1, 2], 0, 10).bin_means([0.0, 5.0, 12.0]),
            ValueError,
            r"'edges_ms': edges span \[0.0, 12.0\] ms. Allowed: inside the window",
        ),
        (
            lambda: PiecewiseLinearGrid([0, 1], [1, 2], 0, 10).bin_means([0.0, 5.0, 5.0]),
            ValueError,
            r"'edges_ms': edges_ms\[1\]=5.0, edges_ms\[2\]=5.0. Allowed: finite, strictly",
        ),
        (
            lambda: ProfileGrid(np.array([0.0, 1.0]), np.array([1.0])).bin_means([0.5]),
            ValueError,
            r"'edges_ms': shape \(1,\)",
        ),
    ],
)
def test_bad_traces_are_refused(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_poisson_takes_a_trace_in_bmtks_form_from_a_config():
    """``profile`` as BMTK's firing_rate + times (s) dict: the same spikes as the object."""
    import raster_maker as rm

    spec = {"firing_rate": [0.0, 40.0, 40.0, 0.0], "times": [0.0, 0.5, 1.5, 2.0]}
    ids = np.arange(500)
    by_dict = rm.generate(
        "poisson", "p", ids, 0.0, 2000.0, params={"rate_hz": 1.0, "profile": spec}, seed=5
    )
    by_object = rm.generate(
        rm.Poisson(rate_hz=1.0, profile=RateTrace.from_dict(spec)), "p", ids, 0.0, 2000.0, seed=5
    )
    pd.testing.assert_frame_equal(by_dict.spikes, by_object.spikes)
    counts = np.histogram(by_dict.spikes["timestamps"], bins=[0, 500, 1500, 2000])[0]
    for n, mu in zip(counts, ids.size * np.array([10.0, 40.0, 10.0]), strict=True):
        assert stats.poisson.ppf(P / 2, mu) <= n <= stats.poisson.isf(P / 2, mu)
    with pytest.raises(TypeError, match=r"'profile' must be a raster_maker Profile or a rate"):
        rm.generate("poisson", "p", ids, 0.0, 10.0, params={"profile": [1, 2]}, seed=1)
