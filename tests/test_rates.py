"""Per-unit rate distributions: the original study's presets against scipy, purity, errors.

Statistical bounds are at about 1e-6 per assertion (fixed seeds; see test_processes.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from raster_maker.rates import (
    RateDistribution,
    as_rate_distribution,
    constant,
    levy_exp,
    truncated_normal,
)

P = 1e-6
Z = stats.norm.isf(P / 2)
SEED = 31337


def exp_moment(t, alpha, sigma, mu, parameterization):
    """E[exp(t X)] for X ~ levy_stable(alpha, beta=-1, loc=mu, scale=sigma), alpha != 1.

    Totally left-skewed stable laws have all exponential moments (Samorodnitsky & Taqqu
    1994, Prop. 1.2.12): E exp(t X) = exp(t mu1 - (t sigma)^alpha / cos(pi alpha / 2)),
    with mu1 the S1 location (S0 location mu0 = mu1 + beta sigma tan(pi alpha / 2))."""
    tan = np.tan(np.pi * alpha / 2)
    mu1 = mu if parameterization == "S1" else mu - (-1.0) * sigma * tan
    return np.exp(t * mu1 - (t * sigma) ** alpha / np.cos(np.pi * alpha / 2))


@pytest.mark.parametrize(("parameterization", "near"), [("S1", 11.0), ("S0", 6.0)])
def test_levy_exp_preset_mean_rate(parameterization, near):
    n = 200_000
    rates = levy_exp(parameterization=parameterization).draw(SEED, "exc", np.arange(n))
    args = (1.37, 0.44, 1.84, parameterization)
    mean = exp_moment(1, *args)
    sd = np.sqrt(exp_moment(2, *args) - mean**2)
    assert abs(mean - near) < 0.5  # the documented "near 11 Hz" / "near 6 Hz"
    assert abs(rates.mean() - mean) < Z * sd / np.sqrt(n)  # CLT: all moments are finite
    assert np.all(np.isfinite(rates) & (rates >= 0))


@pytest.mark.parametrize("parameterization", ["S1", "S0"])
def test_levy_exp_matches_scipy_levy_stable(parameterization):
    dist = levy_exp(parameterization=parameterization)
    rates = dist.draw(SEED, "exc", np.arange(30_000))
    ref_dist = dist.scipy_distribution()
    ref = ref_dist.rvs(size=30_000, random_state=np.random.default_rng(SEED))
    with np.errstate(under="ignore"):
        ref_rates = np.exp(ref)  # KS is invariant under the monotone exp
    assert stats.ks_2samp(rates, ref_rates).pvalue > P
    # one-sample: our quantiles against scipy's CDF at a few points (scipy's cdf is slow);
    # the empirical CDF at a point has sd sqrt(F(1-F)/n) <= sqrt(0.25/n)
    q = np.log(np.quantile(rates, [0.1, 0.5, 0.9]))
    got = ref_dist.cdf(q)
    assert np.all(np.abs(got - [0.1, 0.5, 0.9]) < Z * np.sqrt(0.25 / rates.size) + 1e-4)
    # building the scipy equivalent must not change the global levy_stable's parameterization
    assert stats.levy_stable.parameterization == "S1"


def test_levy_exp_parameterizations_differ_by_the_location_shift():
    r1 = levy_exp(parameterization="S1").draw(SEED, "exc", np.arange(1000))
    r0 = levy_exp(parameterization="S0").draw(SEED, "exc", np.arange(1000))
    ok = (r1 > 1e-300) & (r0 > 1e-300)
    s1, s0 = np.log(r1[ok]), np.log(r0[ok])
    shift = -1.0 * 0.44 * np.tan(np.pi * 1.37 / 2)  # S0 = S1 - beta * scale * tan(pi alpha / 2)
    np.testing.assert_allclose(s0 - s1, -shift, rtol=1e-6)


@pytest.mark.parametrize(("mean", "sd"), [(16.9, 14.3), (3.9, 4.9), (90.0, 30.0)])
def test_truncated_normal_preset_matches_scipy_truncnorm(mean, sd):
    n = 50_000
    rates = truncated_normal(mean, sd).draw(SEED, "inh", np.arange(n))
    assert np.all((rates >= 0.0) & (rates <= 100.0))
    ref = stats.truncnorm((0 - mean) / sd, (100 - mean) / sd, loc=mean, scale=sd)
    assert stats.kstest(rates, ref.cdf).pvalue > P
    assert abs(rates.mean() - ref.mean()) < Z * ref.std() / np.sqrt(n)


def test_any_frozen_scipy_distribution_by_inverse_transform():
    dist = stats.gamma(3.0, scale=2.0)
    rates = as_rate_distribution(dist).draw(SEED, "p", np.arange(20_000))
    assert stats.kstest(rates, dist.cdf).pvalue > P
    logn = RateDistribution(stats.norm(1.0, 0.5), transform="exp").draw(
        SEED, "p", np.arange(20_000)
    )
    assert stats.kstest(np.log(logn), stats.norm(1.0, 0.5).cdf).pvalue > P


def test_rates_are_a_pure_function_of_seed_population_and_node():
    dist = levy_exp()
    ids = np.arange(0, 5000, 7)
    full = dist.draw(SEED, "exc", ids)
    np.testing.assert_array_equal(dist.draw(SEED, "exc", ids[::-1]), full[::-1])
    np.testing.assert_array_equal(dist.draw(SEED, "exc", ids[10:20]), full[10:20])
    np.testing.assert_array_equal(dist.draw(SEED, "exc", ids[[3]]), full[[3]])
    assert not np.array_equal(dist.draw(SEED + 1, "exc", ids), full)
    assert not np.array_equal(dist.draw(SEED, "exc2", ids), full)


def test_constant_rates():
    np.testing.assert_array_equal(constant(7.5).draw(1, "p", np.arange(4)), np.full(4, 7.5))
    np.testing.assert_array_equal(as_rate_distribution(3).draw(1, "p", np.arange(2)), [3.0, 3.0])
    assert as_rate_distribution(3).params() == {"name": "constant", "rate_hz": 3.0}


def test_as_rate_distribution_specs():
    d = as_rate_distribution({"preset": "truncated_normal", "mean_hz": 3.9, "sd_hz": 4.9})
    assert d.params()["mean_hz"] == 3.9
    d = as_rate_distribution({"preset": "levy_exp", "parameterization": "S0"})
    assert d.params()["parameterization"] == "S0"
    rd = levy_exp()
    assert as_rate_distribution(rd) is rd


@pytest.mark.parametrize(
    ("make", "exc", "match"),
    [
        (lambda: constant(-1.0), ValueError, r"'rate_hz'.*-1.0.*>= 0"),
        (lambda: constant(float("nan")), ValueError, r"'rate_hz'.*nan"),
        (lambda: constant(float("inf")), ValueError, r"'rate_hz'.*inf"),
        (lambda: as_rate_distribution(-2), ValueError, r"'rate_hz'.*-2"),
        (lambda: as_rate_distribution("fast"), TypeError, r"Invalid rates 'fast'.*levy_exp"),
        (lambda: as_rate_distribution(True), TypeError, r"Invalid rates True"),
        (
            lambda: as_rate_distribution({"preset": "lognormal"}),
            ValueError,
            r"'rates preset'.*'lognormal'.*Allowed: 'levy_exp', 'truncated_normal', 'constant'",
        ),
        (lambda: as_rate_distribution({"preset": "levy_exp", "bogus": 1}), TypeError, "bogus"),
        (lambda: levy_exp(alpha=1.0), ValueError, r"'alpha': 1.0"),
        (lambda: levy_exp(alpha=2.5), ValueError, r"'alpha'.*2.5.*<= 2"),
        (lambda: levy_exp(scale=0.0), ValueError, r"'scale'.*> 0"),
        (lambda: levy_exp(parameterization="S2"), ValueError, r"'parameterization'.*'S2'"),
        (lambda: truncated_normal(5.0, 0.0), ValueError, r"'sd_hz'.*0.0.*> 0"),
        (lambda: truncated_normal(5.0, 1.0, low_hz=-1.0), ValueError, r"'low_hz'.*-1.0"),
        (lambda: truncated_normal(5.0, 1.0, 10.0, 10.0), ValueError, r"'high_hz'.*10.0"),
        (lambda: truncated_normal(float("nan"), 1.0), ValueError, r"'mean_hz'.*nan"),
        (lambda: RateDistribution(object()), TypeError, r"'dist' must be a frozen scipy.stats"),
        (lambda: RateDistribution(stats.norm(), transform="log"), ValueError, r"'transform'"),
    ],
)
def test_bad_rate_specs_are_refused(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_negative_rates_from_a_distribution_are_refused():
    with pytest.raises(ValueError, match=r"'rates drawn from norm'.*Allowed: finite values >= 0"):
        as_rate_distribution(stats.norm(0.0, 1.0)).draw(SEED, "p", np.arange(100))
