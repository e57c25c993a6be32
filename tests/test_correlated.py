"""The ``correlated`` generator: a Cox process with a target spike-count correlation.

Exact parts (the covariance sum, the solved sigma and w, the recorded provenance, errors)
are checked to rounding. Statistical assertions use a fixed seed and bounds at about
1e-6 each: for the mean rates, a normal bound with the exact variance of a Poisson mixture
(``Var N = sum r T + (sum r)**2 S_T``, see ``docs/correlated.md``); for the measured mean
pairwise correlation, whose sampling distribution has no closed form, ``mean +- Z * sd``
of log(estimate) with mean, sd (and skewness, which widens the longer tail) MEASURED once
over 200 seeds (``SAMPLING`` below records the numbers, how they were obtained, and that
their means match the targets; rerun with ``python tests/test_correlated.py measure``).
"""

from __future__ import annotations

import json
import math
import sys
import time

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, optimize, stats

import raster_maker.correlated  # noqa: F401  (registers the generator)
from raster_maker import generate, iter_spikes, make_model
from raster_maker.correlated import (
    SIGMA_MAX,
    count_covariance_factor,
    ou_sequence,
    pair_correlation,
    solve_sigma,
)
from raster_maker.models import Units
from raster_maker.sonata import read_metadata, read_provenance

P = 1e-6
Z = stats.norm.isf(P / 2)
SEED = 4242

# the target-correlation cases: 200 units, 60 s, tau 20 ms, 20 Hz (equal) or lognormal
N_UNITS = 200
TSTOP_MS = 60_000.0
TAU_MS = 20.0
RATES = {"equal": 20.0, "lognormal": {"preset": "lognormal", "mean_hz": 20.0, "sd_hz": 10.0}}
CORRELATIONS = (0.01, 0.05, 0.2)
WINDOWS_MS = (5.0, 20.0, 100.0)
# groups case: 4 groups of 50 units by attribute, within 0.2, between 0.05, 20 ms windows
GROUP_ATTRS = pd.DataFrame({"area": np.repeat(["a", "b", "c", "d"], 50)}, index=np.arange(200))
GROUP_PARAMS = {
    "rate_hz": 20.0,
    "correlation": 0.2,
    "correlation_between": 0.05,
    "window_ms": 20.0,
    "tau_ms": TAU_MS,
    "groups": {"by": "area"},
}

# The sampling distribution of the estimate (mean_pair_correlation), MEASURED with
# `python tests/test_correlated.py measure` (and `measure 200 0 2` / `measure 200 1 2` on two
# cores, ~25 min): each case generated with seeds 0..199 (not SEED) and estimated exactly as
# in the tests. key -> (mean, sd (ddof=1), skewness) of log(estimate) over the 200 seeds; the
# comment gives the mean +- sd of the estimate itself and its skewness. The means match the
# targets: |mean - target| <= 1.31 standard errors (sd / sqrt(200)) in all 20 rows. The log
# is less skewed than the estimate (a ratio of variances of a log-normal fluctuation; the
# 0.2-at-5-ms rows need sigma ~ 1.2 and stay right-skewed).
SAMPLING = {
    # 0.0099859 +- 0.000376, skew 0.06
    ("target", "equal", 0.01, 5.0): (-4.607286, 0.037658, -0.06),
    # 0.00999763 +- 0.000429, skew 0.17
    ("target", "equal", 0.01, 20.0): (-4.606322, 0.042868, 0.04),
    # 0.0100117 +- 0.000851, skew 0.06
    ("target", "equal", 0.01, 100.0): (-4.607617, 0.085492, -0.18),
    # 0.0499247 +- 0.00292, skew 0.38
    ("target", "equal", 0.05, 5.0): (-2.998930, 0.058193, 0.17),
    # 0.0499565 +- 0.00209, skew -0.02
    ("target", "equal", 0.05, 20.0): (-2.997474, 0.041894, -0.16),
    # 0.0499547 +- 0.00306, skew 0.05
    ("target", "equal", 0.05, 100.0): (-2.998517, 0.061536, -0.15),
    # 0.198352 +- 0.0286, skew 1.53
    ("target", "equal", 0.2, 5.0): (-1.627094, 0.134439, 0.92),
    # 0.19952 +- 0.0135, skew 0.51
    ("target", "equal", 0.2, 20.0): (-1.614095, 0.067126, 0.25),
    # 0.199635 +- 0.0133, skew 0.13
    ("target", "equal", 0.2, 100.0): (-1.613471, 0.066659, -0.12),
    # 0.0100161 +- 0.000542, skew 0.07
    ("target", "lognormal", 0.01, 5.0): (-4.605021, 0.054209, -0.09),
    # 0.0100408 +- 0.000571, skew 0.15
    ("target", "lognormal", 0.01, 20.0): (-4.602704, 0.056866, -0.02),
    # 0.0100805 +- 0.000867, skew 0.03
    ("target", "lognormal", 0.01, 100.0): (-4.600873, 0.086759, -0.26),
    # 0.0501114 +- 0.00357, skew 0.47
    ("target", "lognormal", 0.05, 5.0): (-2.996003, 0.070655, 0.22),
    # 0.0500228 +- 0.00284, skew 0.20
    ("target", "lognormal", 0.05, 20.0): (-2.996877, 0.056704, 0.02),
    # 0.0500262 +- 0.00356, skew 0.09
    ("target", "lognormal", 0.05, 100.0): (-2.997736, 0.071379, -0.11),
    # 0.19885 +- 0.0309, skew 1.49
    ("target", "lognormal", 0.2, 5.0): (-1.626038, 0.144461, 0.85),
    # 0.200109 +- 0.0157, skew 0.60
    ("target", "lognormal", 0.2, 20.0): (-1.611881, 0.077174, 0.31),
    # 0.200427 +- 0.0145, skew 0.26
    ("target", "lognormal", 0.2, 100.0): (-1.609896, 0.072133, 0.04),
    # 0.200246 +- 0.00693, skew 0.37
    ("groups", "within"): (-1.608801, 0.034428, 0.25),
    # 0.0499166 +- 0.00382, skew 0.33
    ("groups", "between"): (-3.000300, 0.076216, 0.10),
}


def within_sampling_bounds(estimate: float, key: tuple) -> bool:
    """log(estimate) within mean -+ Z sd of the measured log-estimates, the side of the
    longer tail widened by the Cornish-Fisher skewness term (Z**2 - 1) |skew| / 6 (the
    quantile z + (z**2 - 1) skew / 6); the shorter tail is not narrowed."""
    mean, sd, skew = SAMPLING[key]
    widen = (Z**2 - 1.0) * abs(skew) / 6.0
    lo = mean - (Z + (widen if skew < 0 else 0.0)) * sd
    hi = mean + (Z + (widen if skew > 0 else 0.0)) * sd
    return estimate > 0 and lo <= math.log(estimate) <= hi


# -- helpers --------------------------------------------------------------------------------
def window_counts(df: pd.DataFrame, node_ids, tstop_ms: float, window_ms: float) -> np.ndarray:
    """Spike counts of each node (rows) in windows [k W, (k+1) W), k < floor(T / W)."""
    node_ids = np.asarray(node_ids)
    n_win = int(math.floor(tstop_ms / window_ms + 1e-9))
    pos = np.searchsorted(node_ids, df["node_ids"].to_numpy())
    win = np.floor(df["timestamps"].to_numpy() / window_ms).astype(np.int64)
    ok = win < n_win
    flat = np.bincount(pos[ok] * n_win + win[ok], minlength=node_ids.size * n_win)
    return flat.reshape(node_ids.size, n_win).astype(np.float64)


def pair_means(counts: np.ndarray, group: np.ndarray | None = None) -> tuple[float, float]:
    """Mean Pearson coefficient over pairs i < j: (within a group, between groups)."""
    cc = np.corrcoef(counts)
    i, j = np.triu_indices(counts.shape[0], 1)
    if group is None:
        return float(np.mean(cc[i, j])), math.nan
    same = group[i] == group[j]
    return float(np.mean(cc[i, j][same])), float(np.mean(cc[i, j][~same]))


def mean_pair_correlation(case: tuple, seed: int) -> tuple[float, ...]:
    """The estimate(s) of one case: ("target", rates, c, W) or ("groups",)."""
    ids = np.arange(N_UNITS)
    if case[0] == "groups":
        res = generate(
            "correlated",
            "p",
            ids,
            0.0,
            TSTOP_MS,
            params=GROUP_PARAMS,
            seed=seed,
            attributes=GROUP_ATTRS,
        )
        group = GROUP_ATTRS["area"].to_numpy()
        return pair_means(window_counts(res.spikes, ids, TSTOP_MS, 20.0), group)
    _, rates, c, window = case
    params = {"rate_hz": RATES[rates], "correlation": c, "window_ms": window, "tau_ms": TAU_MS}
    res = generate("correlated", "p", ids, 0.0, TSTOP_MS, params=params, seed=seed)
    return pair_means(window_counts(res.spikes, ids, TSTOP_MS, window))[:1]


def target_cases() -> list[tuple]:
    return [("target", r, c, w) for r in RATES for c in CORRELATIONS for w in WINDOWS_MS]


def derived(path, population="p") -> dict:
    value = read_provenance(path, population)["derived"]
    return json.loads(value) if isinstance(value, str) else value


def sigma_for_equal_rates(c: float, rate_hz: float, window_ms, tau_ms, dt_ms=1.0) -> float:
    """Independent solution for equal rates: c = q / (1 + q), q = r S / W, S(sigma**2) = S*."""
    want = c / (1.0 - c) * (window_ms / 1000.0) / rate_hz
    s = optimize.brentq(
        lambda x: count_covariance_factor(x, window_ms, tau_ms, dt_ms) - want,
        0.0,
        50.0,
        xtol=1e-15,
        rtol=1e-14,
    )
    return math.sqrt(s)


# -- the covariance sum and the OU sequence -------------------------------------------------
@pytest.mark.parametrize(("window", "tau", "dt"), [(20.0, 20.0, 1.0), (5.0, 50.0, 0.5)])
def test_covariance_factor_is_the_double_sum(window, tau, dt):
    n = round(window / dt)
    k = np.arange(n)
    rho = np.exp(-np.abs(k[:, None] - k[None, :]) * dt / tau)
    for s in [1e-6, 0.3, 2.0, SIGMA_MAX**2]:
        brute = (dt / 1000.0) ** 2 * np.sum(np.expm1(s * rho))
        assert count_covariance_factor(s, window, tau, dt) == pytest.approx(brute, rel=1e-12)


def test_covariance_factor_limits():
    # a window much shorter than tau: the fluctuation is constant within it
    s = 0.7
    assert count_covariance_factor(s, 1.0, 1e9) == pytest.approx(1e-6 * math.expm1(s), rel=1e-8)
    # fine bins: the continuous-time integral 2 int_0^W (W - t) (exp(s e^(-t/tau)) - 1) dt;
    # the sum over bins is a second-order rule, so up to O((dt / tau)^2) = 2.5e-7 here
    # (measured: 3.6e-8)
    window, tau = 1.0, 0.02  # s
    cont, _ = integrate.quad(
        lambda t: 2 * (window - t) * math.expm1(s * math.exp(-t / tau)), 0, window, limit=200
    )
    fine = count_covariance_factor(s, 1000.0, 20.0, 0.01)
    assert fine == pytest.approx(cont, rel=(0.01 / 20.0) ** 2)


def test_ou_sequence_has_unit_variance_and_exponential_correlation():
    n, dt, tau = 2_000_000, 1.0, 10.0
    x = ou_sequence(np.random.default_rng(SEED), n, dt, tau)
    a = math.exp(-dt / tau)
    # an AR(1) sequence: the sample mean has variance (1 + a) / ((1 - a) n), the sample
    # variance about 2 (1 + a**2) / ((1 - a**2) n), the lag-1 coefficient (1 - a**2) / n
    assert abs(x.mean()) < Z * math.sqrt((1 + a) / ((1 - a) * n))
    assert abs(x.var() - 1.0) < Z * math.sqrt(2 * (1 + a**2) / ((1 - a**2) * n))
    lag1 = np.dot(x[1:] - x.mean(), x[:-1] - x.mean()) / np.sum((x - x.mean()) ** 2)
    assert abs(lag1 - a) < Z * math.sqrt((1 - a**2) / n)
    # and it is the same sequence from the same generator (a pure function of the stream)
    np.testing.assert_array_equal(ou_sequence(np.random.default_rng(SEED), n, dt, tau), x)


# -- the solution ---------------------------------------------------------------------------
@pytest.mark.parametrize("window", WINDOWS_MS)
@pytest.mark.parametrize("c", CORRELATIONS)
def test_solved_sigma_is_recorded_and_gives_the_target(c, window, tmp_path):
    path = tmp_path / "c.h5"
    params = {"rate_hz": 20.0, "correlation": c, "window_ms": window, "tau_ms": TAU_MS}
    generate("correlated", "p", np.arange(10), 0.0, 500.0, params=params, seed=1, output=path)
    rec = derived(path)
    expected = sigma_for_equal_rates(c, 20.0, window, TAU_MS)
    assert rec["sigma"] == pytest.approx(expected, rel=1e-9)
    assert pair_correlation(20.0, 20.0, rec["sigma"], window, TAU_MS) == pytest.approx(c, rel=1e-9)
    assert rec["correlation_drawn_rates"] == pytest.approx(c, rel=1e-9)
    assert rec["max_correlation"] == pytest.approx(
        float(pair_correlation(20.0, 20.0, SIGMA_MAX, window, TAU_MS)), rel=1e-12
    )
    # the recorded profile is the realised L(t) = exp(sigma X - sigma**2 / 2) > 0
    meta = read_metadata(path, "p")
    assert meta["profiles"].shape == (1, 500) and np.all(meta["profiles"] > 0)


def test_solver_matches_the_closed_form_of_a_one_bin_window():
    """W = dt: S = dt**2 (e**s - 1) exactly, so c = q / (1 + q), q = r dt (e**s - 1)."""
    for rate, c in [(20.0, 0.01), (5.0, 0.3), (100.0, 0.9)]:
        sigma = solve_sigma(
            c, lambda s, r=rate: float(pair_correlation(r, r, math.sqrt(s), 1.0, TAU_MS))
        )
        q = c / (1 - c)
        assert sigma**2 == pytest.approx(math.log1p(q / (rate * 1e-3)), rel=1e-10)
    assert solve_sigma(0.0, lambda s: s) == 0.0


def test_heterogeneous_target_is_the_expected_pair_mean_over_the_rate_distribution():
    """Rates by attribute (two constants): the target is (sum_i g_i / n)**2 exactly."""
    ids = np.arange(30)
    attrs = pd.DataFrame({"kind": ["slow"] * 10 + ["fast"] * 20}, index=ids)
    params = {
        "rate_hz": {"by": "kind", "values": {"slow": 4.0, "fast": 30.0}},
        "correlation": 0.1,
        "window_ms": 20.0,
        "tau_ms": 50.0,
    }
    model = make_model("correlated", params)
    units = Units("p", ids, attrs)
    model.blocks(units, 0.0, 100.0, 1)
    sigma = model.derived(units, None)["sigma"]
    g = [math.sqrt(pair_correlation(r, r, sigma, 20.0, 50.0)) for r in (4.0, 30.0)]
    assert ((10 * g[0] + 20 * g[1]) / 30) ** 2 == pytest.approx(0.1, rel=1e-9)
    # the drawn-rate pair mean leaves out self-pairs: sum over i != j of g_i g_j
    gi = np.array([g[0]] * 10 + [g[1]] * 20)
    drawn = (gi.sum() ** 2 - np.sum(gi**2)) / (30 * 29)
    assert model.derived(units, None)["correlation_drawn_rates"] == pytest.approx(drawn, rel=1e-9)


def test_between_groups_solution():
    model = make_model("correlated", GROUP_PARAMS)
    units = Units("p", np.arange(200), GROUP_ATTRS)
    model.blocks(units, 0.0, 100.0, 1)
    rec = model.derived(units, None)
    assert rec["sigma"] == pytest.approx(sigma_for_equal_rates(0.2, 20.0, 20.0, TAU_MS), rel=1e-9)
    between = pair_correlation(20.0, 20.0, rec["sigma"], 20.0, TAU_MS, w=rec["w"])
    assert between == pytest.approx(0.05, rel=1e-9)
    assert 0 < rec["w"] < 1
    assert rec["correlation_between_drawn_rates"] == pytest.approx(0.05, rel=1e-9)


def test_between_groups_target_above_full_sharing_is_named():
    """Groups that differ in rate: pairs across groups are at most m_slow m_fast (w = 1),
    below the within-group mean (m_slow**2 + m_fast**2) / 2 (equal groups)."""
    ids = np.arange(20)
    attrs = pd.DataFrame({"kind": ["slow"] * 10 + ["fast"] * 10}, index=ids)
    params = {
        "rate_hz": {"by": "kind", "values": {"slow": 1.0, "fast": 50.0}},
        "correlation": 0.1,
        "groups": {"by": "kind"},
    }
    model = make_model("correlated", params)
    units = Units("p", ids, attrs)
    model.blocks(units, 0.0, 100.0, 1)
    sigma = model.derived(units, None)["sigma"]
    m = [math.sqrt(pair_correlation(r, r, sigma, 20.0, 20.0)) for r in (1.0, 50.0)]
    assert (m[0] ** 2 + m[1] ** 2) / 2 == pytest.approx(0.1, rel=1e-9)
    most = m[0] * m[1]
    with pytest.raises(ValueError, match=rf"'correlation_between': 0\.09\. Allowed: <= {most:.6g}"):
        generate(
            "correlated",
            "p",
            ids,
            0.0,
            100.0,
            params={**params, "correlation_between": 0.09},
            attributes=attrs,
        )


def test_zero_correlation_is_plain_poisson():
    model = make_model("correlated", {"correlation": 0.0})
    units = Units("p", np.arange(5))
    (block,) = model.blocks(units, 0.0, 100.0, 1)
    np.testing.assert_array_equal(block.grid.values, 1.0)
    assert model.derived(units, None)["sigma"] == 0.0


def test_largest_reachable_correlation_is_named_and_reachable():
    params = {"rate_hz": 0.01, "window_ms": 5.0, "tau_ms": 0.1}
    c_max = float(pair_correlation(0.01, 0.01, SIGMA_MAX, 5.0, 0.1))
    assert 0 < c_max < 0.5  # 0.01 Hz, 5 ms windows, a fluctuation faster than the bins
    with pytest.raises(ValueError, match=rf"'correlation': 0\.5\. Allowed: .*<= {c_max:.6g}"):
        generate("correlated", "p", np.arange(3), 0.0, 100.0, params={**params, "correlation": 0.5})
    near = {**params, "correlation": c_max * (1 - 1e-9)}
    model = make_model("correlated", near)
    units = Units("p", np.arange(3))
    model.blocks(units, 0.0, 100.0, 1)
    assert model.derived(units, None)["sigma"] == pytest.approx(SIGMA_MAX, rel=1e-6)


def test_assemblies_as_groups():
    ids = np.arange(300)
    params = {
        "correlation": 0.1,
        "groups": {"assemblies": {"method": "random", "n": 3, "p_in": 0.8}},
    }
    model = make_model("correlated", params)
    units = Units("p", ids)
    blocks = model.blocks(units, 0.0, 200.0, 3)
    keys = [b.key for b in blocks]
    assert keys == ["0", "1", "2", "(none)"]
    np.testing.assert_array_equal(blocks[-1].grid.values, 1.0)  # outside: independent Poisson
    assert all(not b.grid.is_constant for b in blocks[:-1])
    meta = model.extra_metadata(units, None)
    assert set(meta) >= {"assembly_node_ids", "assembly_index", "assembly_names"}
    assert model.derived(units, None)["w"] == 0.0


# -- the measured correlation ---------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("case", target_cases(), ids=lambda c: f"{c[1]}-c{c[2]}-W{c[3]:g}")
def test_measured_pair_correlation_matches_the_target(case):
    """The mean Pearson coefficient of window counts over all pairs of 200 units in 60 s.

    Bound: the measured sampling distribution over 200 seeds (SAMPLING, whose means match
    the targets within 1.31 standard errors), at about 1e-6."""
    (estimate,) = mean_pair_correlation(case, SEED)
    assert within_sampling_bounds(estimate, case), (estimate, case[2])


@pytest.mark.slow
def test_measured_within_and_between_group_correlation():
    within, between = mean_pair_correlation(("groups",), SEED)
    assert within_sampling_bounds(within, ("groups", "within")), within
    assert within_sampling_bounds(between, ("groups", "between")), between


@pytest.mark.parametrize("rates", list(RATES))
def test_mean_rates_unchanged(rates, tmp_path):
    """100 groups of 20 units with independent fluctuations: the total count is a sum of
    independent Poisson mixtures, mean sum r T and variance sum r T + sum_g (sum_g r)**2 S_T
    with S_T the covariance factor of the whole run, normal by the central limit over the
    groups (each holding ~1000 correlation times)."""
    ids = np.arange(2000)
    attrs = pd.DataFrame({"g": ids // 20}, index=ids)
    tstop = 20_000.0
    params = {
        "rate_hz": RATES[rates],
        "correlation": 0.2,
        "window_ms": 20.0,
        "tau_ms": TAU_MS,
        "groups": {"by": "g"},
    }
    path = tmp_path / "r.h5"
    res = generate(
        "correlated", "p", ids, 0.0, tstop, params=params, seed=SEED, attributes=attrs, output=path
    )
    r = read_metadata(path, "p")["rate_scale_hz"]  # the drawn per-unit rates
    sigma = derived(path)["sigma"]
    s_total = count_covariance_factor(sigma**2, tstop, TAU_MS)
    per_group = np.bincount(ids // 20, weights=r)
    mean = r.sum() * tstop / 1000.0
    var = mean + np.sum(per_group**2) * s_total
    assert abs(res.n_spikes - mean) <= Z * math.sqrt(var)
    assert sigma > 0.5 and var > 1.5 * mean  # the fluctuation is large, the bound honest


# -- reproducibility ------------------------------------------------------------------------
ATTRS = pd.DataFrame(
    {"layer": np.array(["L2", "L4", "L5", "L6"])[np.arange(400) % 4]}, index=np.arange(400)
)
REPRO = {
    "rate_hz": {"preset": "lognormal", "mean_hz": 8.0, "sd_hz": 4.0},
    "correlation": 0.1,
    "correlation_between": 0.03,
    "groups": {"by": "layer"},
}


def _spikes(ids, **kw):
    return generate(
        "correlated", "pop", ids, 0.0, 2000.0, params=REPRO, seed=SEED, attributes=ATTRS, **kw
    ).spikes


def _train(df, node):
    return df.loc[df["node_ids"] == node, "timestamps"].to_numpy()


def test_a_nodes_train_depends_on_neither_order_nor_subset_nor_batches():
    ids = np.arange(0, 400, 2)
    full = _spikes(ids)
    assert len(full) > 1000
    pd.testing.assert_frame_equal(_spikes(ids[::-1]), full)
    pd.testing.assert_frame_equal(_spikes(np.random.default_rng(0).permutation(ids)), full)
    for node in [0, 2, 398]:  # alone: a subset with one group and one unit
        alone = _train(_spikes([node]), node)
        assert alone.size > 0
        np.testing.assert_array_equal(alone, _train(full, node))
    bigger = _spikes(np.arange(400))
    pd.testing.assert_frame_equal(bigger[bigger["node_ids"].isin(ids)].reset_index(drop=True), full)
    for batch in [1, 7, 10**9]:
        pd.testing.assert_frame_equal(_spikes(ids, batch_spikes=batch), full)
    model = make_model("correlated", REPRO)
    for threads in [1, 2]:
        parts = list(
            iter_spikes(
                model,
                Units("pop", ids, ATTRS),
                0.0,
                2000.0,
                SEED,
                batch_spikes=300,
                threads=threads,
            )
        )
        assert len(parts) > 2
        np.testing.assert_array_equal(np.concatenate([p[1] for p in parts]), full["timestamps"])


def test_fluctuation_is_a_function_of_seed_population_group_and_trial():
    model = make_model("correlated", REPRO)

    def profiles(ids, seed=SEED, population="pop", trial=0):
        from raster_maker.plans import Context

        units = Units(population, np.asarray(ids), ATTRS)
        ctx = Context(seed, population, 0.0, 1000.0, trial)
        return {b.key: b.grid.values for b in model.blocks(units, 0.0, 1000.0, seed, ctx=ctx)}

    ref = profiles(np.arange(400))
    for key, values in profiles([1, 5, 8]).items():  # L4, L4, L2
        np.testing.assert_array_equal(values, ref[key])
    assert not np.array_equal(profiles([0], seed=SEED + 1)["L2"], ref["L2"])
    assert not np.array_equal(profiles([0], population="other")["L2"], ref["L2"])
    assert not np.array_equal(profiles([0], trial=1)["L2"], ref["L2"])
    assert not np.array_equal(ref["L2"], ref["L4"])


# -- bad input ------------------------------------------------------------------------------
BAD = [
    ({"correlation": 1.0}, ValueError, r"'correlation': 1\.0\. Allowed: 0 <= correlation < 1"),
    ({"correlation": -0.1}, ValueError, r"'correlation': -0\.1\. Allowed: >= 0"),
    ({"correlation": "high"}, TypeError, r"'correlation' must be a real number"),
    ({"window_ms": 0.0}, ValueError, r"'window_ms': 0\.0 ms\. Allowed: > 0"),
    (
        {"window_ms": 2.5},
        ValueError,
        r"'window_ms': 2\.5 ms\. Allowed: a positive multiple of "
        r"dt_ms = 1\.0 ms",
    ),
    ({"tau_ms": -5.0}, ValueError, r"'tau_ms': -5\.0 ms\. Allowed: > 0"),
    (
        {"correlation_between": 0.05},
        ValueError,
        r"'correlation_between': 0\.05\. Allowed: 0 without 'groups'",
    ),
    (
        {"correlation": 0.1, "correlation_between": 0.2, "groups": {"by": "layer"}},
        ValueError,
        r"'correlation_between': 0\.2\. Allowed: 0 <= correlation_between <= correlation = 0\.1",
    ),
    ({"groups": {"by": ""}}, ValueError, r"'groups': \{'by': ''\}\. Allowed: None, \{\"by\""),
    ({"groups": {"by": "a", "assemblies": {}}}, ValueError, r"Invalid value for 'groups'"),
    ({"groups": "layer"}, ValueError, r"'groups': 'layer'\. Allowed"),
]


@pytest.mark.parametrize(("params", "exc", "match"), BAD, ids=[str(b[0]) for b in BAD])
def test_bad_parameters(params, exc, match):
    with pytest.raises(exc, match=match):
        make_model("correlated", params)


def test_bad_inputs_found_when_planning():
    with pytest.raises(KeyError, match=r"No node attribute 'area'.*attributes: layer"):
        generate(
            "correlated",
            "p",
            np.arange(4),
            0.0,
            100.0,
            params={"groups": {"by": "area"}},
            attributes=ATTRS,
        )
    with pytest.raises(ValueError, match=r"'method': 'rand'"):
        generate(
            "correlated",
            "p",
            np.arange(4),
            0.0,
            100.0,
            params={"groups": {"assemblies": {"method": "rand"}}},
        )


# -- the one-off measurement of SAMPLING ----------------------------------------------------
def _measure(n_seeds: int = 200, part: int = 0, parts: int = 1) -> None:  # pragma: no cover
    """Print the SAMPLING rows: mean, sd and skewness of log(estimate) over seeds
    0..n_seeds-1 (in the comment: mean, sd and skewness of the estimate itself)."""
    cases = target_cases() + [("groups",)]
    for case in cases[part::parts]:
        t0 = time.perf_counter()
        vals = np.array([mean_pair_correlation(case, seed) for seed in range(n_seeds)])
        secs = (time.perf_counter() - t0) / n_seeds
        names = ["within", "between"] if case[0] == "groups" else [None]
        for k, name in enumerate(names):
            v = vals[:, k]
            key = case if name is None else ("groups", name)
            lv = np.log(v)
            print(
                f"{key!r}: ({lv.mean():.6f}, {lv.std(ddof=1):.6f}, {stats.skew(lv):.2f}),  "
                f"# {v.mean():.6g} +- {v.std(ddof=1):.3g}, skew {stats.skew(v):.2f}  "
                f"({v.min():.4g}..{v.max():.4g}, {secs:.2f} s/run)",
                flush=True,
            )


if __name__ == "__main__":  # pragma: no cover
    if sys.argv[1:2] == ["measure"]:
        _measure(*[int(a) for a in sys.argv[2:5]])  # [n_seeds [part parts]]
