"""Per-unit rate distributions: the original study's presets against scipy, purity, errors.

Statistical bounds are at about 1e-6 per assertion (fixed seeds; see test_processes.py).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import raster_maker as rm
from raster_maker import rates
from raster_maker.rates import (
    ByAttribute,
    RateDistribution,
    as_rate_distribution,
    constant,
    levy_exp,
    lognormal,
    normal,
    truncated_normal,
)
from raster_maker.streams import node_keys, uniform

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
            lambda: as_rate_distribution({"preset": "weibull"}),
            ValueError,
            r"'rates preset'.*'weibull'.*Allowed: 'levy_exp', 'truncated_normal', 'constant', "
            r"'lognormal', 'normal'",
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


# -- lognormal and clipped-normal presets (bmtool's parameterisation) -----------------------
@pytest.mark.parametrize(("mean", "sd"), [(1.9, 1.3), (7.5, 0.5), (2.0, 10.0)])
def test_lognormal_preset_has_the_given_mean_and_sd(mean, sd):
    dist = as_rate_distribution({"preset": "lognormal", "mean_hz": mean, "sd_hz": sd})
    p = dist.params()
    ref = stats.lognorm(p["sigma"], scale=np.exp(p["mu"]))
    np.testing.assert_allclose([ref.mean(), ref.std()], [mean, sd], rtol=1e-12)
    rates = dist.draw(SEED, "shell", np.arange(20_000))
    assert stats.kstest(rates, ref.cdf).pvalue > P
    # the rate is exp of a normal drawn from the same stream
    log_normal = RateDistribution(stats.norm(p["mu"], p["sigma"]), transform="exp")
    np.testing.assert_allclose(rates, log_normal.draw(SEED, "shell", np.arange(20_000)), rtol=1e-12)
    assert p == {
        "name": "lognormal",
        "mean_hz": mean,
        "sd_hz": sd,
        "mu": p["mu"],
        "sigma": p["sigma"],
    }
    assert json.loads(json.dumps(p)) == p


@pytest.mark.parametrize(("mean", "sd"), [(5.0, 3.0), (1.0, 2.0), (20.0, 5.0)])
def test_normal_preset_is_a_normal_clipped_at_zero(mean, sd):
    n = 20_000
    dist = normal(mean, sd)
    rates = dist.draw(SEED, "shell", np.arange(n))
    # exactly max(0, X), X the normal's quantile at the node's own uniform
    x = stats.norm(mean, sd).ppf(_uniforms(n))
    np.testing.assert_array_equal(rates, np.maximum(x, 0.0))
    # the atom at 0 holds Phi(-mean / sd) of the units ...
    p0 = stats.norm.cdf(-mean / sd)
    zeros = int(np.sum(rates == 0.0))
    assert stats.binom.ppf(P / 4, n, p0) <= zeros <= stats.binom.isf(P / 4, n, p0)
    # ... and the rest is the normal truncated to (0, inf)
    pos = rates[rates > 0]
    ref = stats.truncnorm(-mean / sd, np.inf, loc=mean, scale=sd)
    assert stats.kstest(pos, ref.cdf).pvalue > P / 2
    assert dist.params() == {"name": "normal", "mean_hz": mean, "sd_hz": sd}


def _uniforms(n, seed=SEED, population="shell", purpose="rate"):
    """The first uniform of each node's rate stream (what inverse transforms consume)."""
    keys = node_keys(seed, population, purpose, np.arange(n))
    return np.minimum(uniform(keys, np.zeros(n, np.uint64)), 1.0 - 2.0**-53)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: lognormal(0.0, 1.0), r"'mean_hz': 0.0 Hz. Allowed: > 0"),
        (lambda: lognormal(-2.0, 1.0), r"'mean_hz': -2.0"),
        (lambda: lognormal(2.0, 0.0), r"'sd_hz': 0.0 Hz. Allowed: > 0"),
        (lambda: lognormal(float("nan"), 1.0), r"'mean_hz': nan"),
        (lambda: normal(2.0, -1.0), r"'sd_hz': -1.0"),
        (lambda: normal(float("inf"), 1.0), r"'mean_hz': inf"),
    ],
)
def test_bad_lognormal_and_normal_parameters_are_refused(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# -- rates by node attribute ---------------------------------------------------------------
BY_SPEC = {
    "by": "pop_name",
    "values": {
        "CP": {"preset": "lognormal", "mean_hz": 1.9, "sd_hz": 1.3},
        "FSI": {"preset": "truncated_normal", "mean_hz": 16.9, "sd_hz": 14.3},
        "LTS": stats.gamma(3.0, scale=2.0),
        "CS": 7.5,
    },
    "default": 2.0,
}
POP_NAMES = np.array(["CP", "FSI", "LTS", "CS", "other"])


def shell_attributes(n, seed=7):
    """Node attributes indexed by node id, rows shuffled (the index, not the order, counts)."""
    ids = np.arange(n)
    df = pd.DataFrame(
        {"pop_name": POP_NAMES[ids % POP_NAMES.size], "layer": ids % 3}, index=ids
    ).rename_axis("node_id")
    return df.sample(frac=1.0, random_state=np.random.default_rng(seed))


def test_rates_by_attribute_follow_each_values_spec():
    n = 50_000
    attrs = shell_attributes(n)
    ids = np.arange(n)
    dist = as_rate_distribution(BY_SPEC)
    assert isinstance(dist, ByAttribute)
    rates = dist.draw(SEED, "shell", ids, attributes=attrs)
    names = POP_NAMES[ids % POP_NAMES.size]
    for name, spec in [*BY_SPEC["values"].items(), ("other", BY_SPEC["default"])]:
        sel = names == name
        own = as_rate_distribution(spec)
        # the same per-node stream as the value's own distribution ...
        np.testing.assert_array_equal(rates[sel], own.draw(SEED, "shell", ids[sel]))
        if isinstance(spec, float):
            assert np.all(rates[sel] == spec)
            continue
        # ... so each value's rates follow its spec
        ref = spec if hasattr(spec, "cdf") else _reference(own.params())
        assert stats.kstest(rates[sel], ref.cdf).pvalue > P


def _reference(p):
    if p["name"] == "lognormal":
        return stats.lognorm(p["sigma"], scale=np.exp(p["mu"]))
    m, s = p["mean_hz"], p["sd_hz"]
    return stats.truncnorm((p["low_hz"] - m) / s, (p["high_hz"] - m) / s, loc=m, scale=s)


def test_a_nodes_rate_by_attribute_does_not_depend_on_the_other_nodes():
    attrs = shell_attributes(3000)
    dist = as_rate_distribution(BY_SPEC)
    ids = np.arange(0, 3000, 3)
    full = dist.draw(SEED, "shell", ids, attributes=attrs)
    order = np.random.default_rng(1).permutation(ids.size)
    np.testing.assert_array_equal(
        dist.draw(SEED, "shell", ids[order], attributes=attrs), full[order]
    )
    np.testing.assert_array_equal(dist.draw(SEED, "shell", ids[5:9], attributes=attrs), full[5:9])
    for j in (0, 1, 2, 3, 4):  # one node of each value, alone
        np.testing.assert_array_equal(
            dist.draw(SEED, "shell", ids[[j]], attributes=attrs.loc[[ids[j]]]), full[[j]]
        )
    assert not np.array_equal(dist.draw(SEED + 1, "shell", ids, attributes=attrs), full)


def test_attribute_values_match_as_strings_and_json_round_trips():
    attrs = pd.DataFrame(
        {"layer": [1, 2, 2, 1], "ei": [b"e", b"i", b"e", b"e"]}, index=[10, 11, 12, 13]
    )
    spec = {"by": "layer", "values": {1: 3.0, "2": 4.0}}
    ids = np.array([10, 11, 12, 13])
    want = [3.0, 4.0, 4.0, 3.0]
    np.testing.assert_array_equal(
        as_rate_distribution(spec).draw(1, "p", ids, attributes=attrs), want
    )
    via_json = as_rate_distribution(
        json.loads(json.dumps({"by": "layer", "values": {"1": 3, "2": 4}}))
    )
    np.testing.assert_array_equal(via_json.draw(1, "p", ids, attributes=attrs), want)
    # bytes attribute values (as h5py reads them) are decoded
    by_bytes = as_rate_distribution({"by": "ei", "values": {"e": 1.0, "i": 5.0}})
    np.testing.assert_array_equal(by_bytes.draw(1, "p", ids, attributes=attrs), [1, 5, 1, 1])


def test_rates_by_attribute_nest_and_record_their_specs():
    attrs = shell_attributes(100)
    inner = {"by": "layer", "values": {"0": 1.0, "1": 2.0}, "default": 3.0}
    dist = as_rate_distribution({"by": "pop_name", "values": {"CP": inner}, "default": 9.0})
    ids = np.arange(100)
    rates = dist.draw(SEED, "shell", ids, attributes=attrs)
    cp = POP_NAMES[ids % 5] == "CP"
    np.testing.assert_array_equal(rates[cp], np.array([1.0, 2.0, 3.0])[ids[cp] % 3])
    assert np.all(rates[~cp] == 9.0)
    p = dist.params()
    assert json.loads(json.dumps(p)) == p
    assert p == {
        "name": "by_attribute",
        "by": "pop_name",
        "values": {
            "CP": {
                "name": "by_attribute",
                "by": "layer",
                "values": {
                    "0": {"name": "constant", "rate_hz": 1.0},
                    "1": {"name": "constant", "rate_hz": 2.0},
                },
                "default": {"name": "constant", "rate_hz": 3.0},
            }
        },
        "default": {"name": "constant", "rate_hz": 9.0},
    }
    assert json.dumps(as_rate_distribution(BY_SPEC).params())


def test_ordinary_distributions_ignore_attributes():
    attrs = shell_attributes(500)
    for dist in (levy_exp(), lognormal(2.0, 1.0), constant(3.0)):
        np.testing.assert_array_equal(
            dist.draw(SEED, "p", np.arange(500), attributes=attrs),
            dist.draw(SEED, "p", np.arange(500)),
        )


@pytest.mark.parametrize(
    ("draw", "exc", "match"),
    [
        (
            lambda d, a: d.draw(1, "p", np.arange(10), attributes=None),
            KeyError,
            r"Cannot draw rates by 'pop_name': no such node attribute; attributes: none given",
        ),
        (
            lambda d, a: d.draw(1, "p", np.arange(10), attributes=a[["layer"]]),
            KeyError,
            r"'pop_name'.*attributes: layer",
        ),
        (
            lambda d, a: d.draw(1, "p", np.array([3, 99]), attributes=a),
            ValueError,
            r"1 node\(s\) have no row, e\.g\. 99",
        ),
        (
            lambda d, a: d.from_uniforms(np.ones(2), np.ones(2)),
            TypeError,
            r"'pop_name' need the nodes' attributes",
        ),
    ],
)
def test_rates_by_attribute_need_the_attribute(draw, exc, match):
    with pytest.raises(exc, match=match):
        draw(as_rate_distribution(BY_SPEC), shell_attributes(20))


def test_attribute_values_without_rates_are_refused_without_a_default():
    spec = {"by": "pop_name", "values": {"CP": 1.0, "FSI": 2.0}}
    with pytest.raises(
        ValueError,
        match=r"node attribute 'pop_name': 'CS', 'LTS', 'other' have no rates. "
        r"Allowed: 'CP', 'FSI'; or give a 'default'",
    ):
        as_rate_distribution(spec).draw(1, "p", np.arange(20), attributes=shell_attributes(20))
    # only the values present matter
    ok = as_rate_distribution(spec).draw(1, "p", np.array([0, 1]), attributes=shell_attributes(20))
    np.testing.assert_array_equal(ok, [1.0, 2.0])


@pytest.mark.parametrize(
    ("spec", "exc", "match"),
    [
        ({"by": "pop_name"}, ValueError, r"keys 'by'. Allowed: 'by', 'values' \(required\)"),
        ({"by": "a", "values": {}, "dflt": 1}, ValueError, r"keys 'by', 'values', 'dflt'"),
        ({"by": "", "values": {"x": 1}}, TypeError, r"'by' must be a non-empty attribute name"),
        ({"by": 3, "values": {"x": 1}}, TypeError, r"'by' must be .*got 3"),
        ({"by": "a", "values": [1, 2]}, TypeError, r"'values' must be a dict.*list"),
        ({"by": "a", "values": {1: 1, "1": 2}}, ValueError, r"keys '1' given twice"),
        (
            {"by": "a", "values": {"x": {"preset": "lognormal", "mean_hz": -1, "sd_hz": 1}}},
            ValueError,
            r"rates for a='x': Invalid value for 'mean_hz': -1",
        ),
        ({"by": "a", "values": {"x": "fast"}}, TypeError, r"rates for a='x': Invalid rates"),
        ({"by": "a", "values": {"x": 1}, "default": -1}, ValueError, r"default rates for a: "),
    ],
)
def test_bad_rates_by_attribute_specs_are_refused(spec, exc, match):
    with pytest.raises(exc, match=match):
        as_rate_distribution(spec)


@pytest.mark.parametrize(
    ("index", "problem"),
    [
        ([0, 1, 1], r"its index repeats node ids"),
        ([0, 1, 5], r"1 node\(s\) have no row, e.g\. 2"),
        (["a", "b", "c"], r"its index is not node ids \(integers\)"),
        ([0.0, 1.7, 2.0], r"its index is not node ids \(integers\)"),  # not truncated to 1
    ],
)
def test_attributes_must_hold_one_row_per_node(index, problem):
    # one rule, one message, wherever attributes are read (rates, assemblies, groups)
    attrs = pd.DataFrame({"pop_name": ["e", "e", "i"]}, index=index)
    dist = rates.as_rate_distribution({"by": "pop_name", "values": {"e": 5.0, "i": 10.0}})
    with pytest.raises(ValueError, match=r"Invalid 'attributes': " + problem):
        dist.draw(1, "p", np.arange(3), attributes=attrs)
    for gen, params in (
        ("functional_groups", {"group_by": "pop_name"}),
        ("stimulus", {"assemblies": {"method": "by_attribute", "attribute": "pop_name"}}),
    ):
        with pytest.raises(ValueError, match=r"'attributes' for population 'p': " + problem):
            rm.generate(gen, "p", np.arange(3), 0.0, 100.0, params=params, seed=1, attributes=attrs)


def test_attribute_rows_take_whole_numbers_stored_as_floats():
    attrs = pd.DataFrame({"pop_name": ["i", "e", "e"]}, index=[2.0, 0.0, 1.0])
    dist = rates.as_rate_distribution({"by": "pop_name", "values": {"e": 5.0, "i": 10.0}})
    np.testing.assert_array_equal(dist.draw(1, "p", np.arange(3), attributes=attrs), [5, 5, 10])
