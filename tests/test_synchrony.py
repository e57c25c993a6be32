"""Synchrony models (mip, sip, cpp): their statistics, per-node reproducibility, bad input.

Statistical bounds are at about 1e-6 per assertion (fixed seeds, bounds from the sampling
distributions: scipy ppf/isf, chi-square and KS p-values > 1e-6).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import raster_maker.synchrony  # noqa: F401  (registers mip, sip, cpp)
from raster_maker import generate, iter_spikes, make_model
from raster_maker.models import Units
from raster_maker.plans import Context
from raster_maker.sonata import read_metadata, read_provenance
from raster_maker.streams import node_keys
from raster_maker.synchrony import CPPPlan, bernoulli_indices, random_subsets

P = 1e-6
Z = stats.norm.isf(P / 2)
SEED = 4242


def _run(name, params, node_ids, tstop_ms, seed=SEED, tstart_ms=0.0, **kw):
    res = generate(name, "sync", node_ids, tstart_ms, tstop_ms, params=params, seed=seed, **kw)
    df = res.spikes
    return df["node_ids"].to_numpy().astype(np.int64), df["timestamps"].to_numpy()


def _poisson_bounds(mu, p=P):
    return stats.poisson.ppf(p / 2, mu), stats.poisson.isf(p / 2, mu)


def _per_unit_counts_are_poisson(ids, node_ids, mu):
    """Each unit's count is Poisson(mu): every unit inside bounds at P / n (Bonferroni)."""
    counts = np.bincount(np.searchsorted(node_ids, ids), minlength=node_ids.size)
    lo, hi = _poisson_bounds(mu, P / node_ids.size)
    assert np.all((counts >= lo) & (counts <= hi)), (counts.min(), counts.max(), lo, hi)


def _multiplicity(ts):
    """Distinct spike times and how many spikes sit on each (exactly shared times)."""
    return np.unique(ts, return_counts=True)


# -- mip -------------------------------------------------------------------------------------
def test_mip_units_are_poisson_copies_of_the_mother_spikes(tmp_path):
    n, rate, p, tstop = 50, 8.0, 0.2, 100_000.0
    ids_in = np.arange(n)
    path = tmp_path / "mip.h5"
    generate(
        "mip", "sync", ids_in, 0.0, tstop, params={"rate_hz": rate, "p_copy": p}, seed=SEED,
        output=path,
    )  # fmt: skip
    ids, ts = _run("mip", {"rate_hz": rate, "p_copy": p}, ids_in, tstop)
    meta = read_metadata(path, "sync")
    mother = meta["event_times_ms"]
    # the mother process: Poisson at rate / p
    lo, hi = _poisson_bounds(rate / p * tstop / 1000.0)
    assert lo <= mother.size <= hi
    assert np.all(np.diff(mother) > 0)
    # every spike of every unit is a mother spike, to the bit
    assert np.all(np.isin(ts, mother))
    # each unit: Poisson at rate_hz
    _per_unit_counts_are_poisson(ids, ids_in, rate * tstop / 1000.0)
    # given the mother, each mother spike is copied by Binomial(n, p) units, independently
    times, mult = _multiplicity(ts)
    per_event = np.zeros(mother.size, dtype=np.int64)
    per_event[np.searchsorted(mother, times)] = mult
    k = np.arange(n + 1)
    expected = stats.binom.pmf(k, n, p) * mother.size
    keep = expected >= 5  # pool the tail classes (chi-square needs counts of 5 or more)
    obs = np.bincount(per_event, minlength=n + 1)
    obs_pooled = np.append(obs[keep], obs[~keep].sum())
    exp_pooled = np.append(expected[keep], expected[~keep].sum())
    assert stats.chisquare(obs_pooled, exp_pooled).pvalue > P
    # no unit holds a mother spike twice
    assert np.all(np.diff(ts)[ids[1:] == ids[:-1]] > 0)
    derived = read_provenance(path, "sync")["derived"]
    assert derived["mother_rate_hz"] == pytest.approx(rate / p)
    assert derived["n_mother_events"] == mother.size


def test_mip_pairwise_count_correlation_is_p_copy():
    """Mean Pearson correlation, over all 780 pairs of 40 units, of spike counts in 2000
    bins of 100 ms (rate 10 Hz, p_copy 0.25, 200 s).

    Its sampling distribution was measured once over 4000 seeds (100000..103999, this
    exact setup): mean 0.24998 (standard error 0.0001), sd 0.00655, skewness 0.015,
    excess kurtosis -0.05, D'Agostino-Pearson normality p = 0.77. It is an average over
    many pairs and bins, hence normal; the bound is p_copy +- Z(1e-6) sd_upper, where
    sd_upper = sd (1 + Z / sqrt(2 (4000 - 1))) is the 1e-6 upper confidence bound of the sd
    measured from 4000 draws (the standard error of a normal sample's sd is
    sd / sqrt(2 (n - 1))). The expected value is p_copy itself: for a mother count K ~
    Poisson(lambda) in a bin, Cov(n_i, n_j) = p^2 Var(K) = p^2 lambda and Var(n_i) =
    p lambda.
    """
    n, p = 40, 0.25
    ids, ts = _run("mip", {"rate_hz": 10.0, "p_copy": p}, np.arange(n), 200_000.0)
    counts = np.zeros((n, 2000))
    np.add.at(counts, (ids, (ts // 100.0).astype(np.int64)), 1)
    r = np.corrcoef(counts)[np.triu_indices(n, 1)].mean()
    sd_upper = 0.00655 * (1.0 + Z / np.sqrt(2.0 * (4000 - 1)))
    assert abs(r - p) <= Z * sd_upper, r


def test_mip_p_copy_one_gives_every_unit_the_mother_train():
    ids, ts = _run("mip", {"rate_hz": 5.0, "p_copy": 1.0}, np.arange(4), 2000.0)
    trains = [ts[ids == i] for i in range(4)]
    assert trains[0].size > 0
    for t in trains[1:]:
        np.testing.assert_array_equal(t, trains[0])


def test_mip_groups_by_attribute_have_independent_mothers():
    attrs = pd.DataFrame({"layer": np.array(["L2", "L4"])[np.arange(20) % 2]}, index=np.arange(20))
    params = {"rate_hz": 20.0, "p_copy": 0.5, "groups": {"by": "layer"}}
    ids, ts = _run("mip", params, np.arange(20), 5000.0, attributes=attrs)
    l2 = ts[ids % 2 == 0]
    l4 = ts[ids % 2 == 1]
    assert l2.size and l4.size
    assert not np.isin(l2, l4).any()  # different mothers: no exactly shared time
    times, mult = _multiplicity(l2)
    assert mult.max() > 1  # within a group the spikes are shared


# -- sip -------------------------------------------------------------------------------------
def test_sip_coincidences_in_all_units_plus_poisson_background(tmp_path):
    n, rate, rc, tstop = 30, 10.0, 2.0, 200_000.0
    params = {"rate_hz": rate, "coincidence_rate_hz": rc}
    ids, ts = _run("sip", params, np.arange(n), tstop)
    times, mult = _multiplicity(ts)
    assert set(np.unique(mult)) <= {1, n}  # a time is one unit's background or everyone's
    coinc = times[mult == n]
    lo, hi = _poisson_bounds(rc * tstop / 1000.0)
    assert lo <= coinc.size <= hi
    background = np.isin(ts, coinc, invert=True)
    lo, hi = _poisson_bounds(n * (rate - rc) * tstop / 1000.0)
    assert lo <= background.sum() <= hi
    _per_unit_counts_are_poisson(ids[background], np.arange(n), (rate - rc) * tstop / 1000.0)
    # the coincidences are the recorded events
    path = tmp_path / "sip.h5"
    generate("sip", "sync", np.arange(n), 0.0, tstop, params=params, seed=SEED, output=path)
    np.testing.assert_array_equal(read_metadata(path, "sync")["event_times_ms"], coinc)


def test_sip_deterministic_and_regular_coincidence_counts():
    n, rc, tstop = 10, 2.0, 10_300.0  # rc * duration = 20.6 coincidences
    base = {"rate_hz": 5.0, "coincidence_rate_hz": rc}
    _, ts = _run("sip", {**base, "coincidences": "deterministic"}, np.arange(n), tstop)
    times, mult = _multiplicity(ts)
    assert (mult == n).sum() == 21  # Elephant: round(rate * duration)
    _, ts = _run("sip", {**base, "coincidences": "regular"}, np.arange(n), tstop)
    times, mult = _multiplicity(ts)
    coinc = times[mult == n]
    assert coinc.size in (20, 21)
    np.testing.assert_allclose(np.diff(coinc), 1000.0 / rc, rtol=1e-12)


def test_sip_jitter_is_uniform_per_unit_and_coincidence(tmp_path):
    """No background (rate == coincidence rate), regular events 500 ms apart, jitter 5 ms:
    the k-th spike of every unit is event k moved by its own U(-5, 5) offset."""
    n, jitter, tstop = 40, 5.0, 50_000.0
    params = {
        "rate_hz": 2.0, "coincidence_rate_hz": 2.0, "coincidences": "regular",
        "jitter_ms": jitter,
    }  # fmt: skip
    path = tmp_path / "j.h5"
    generate("sip", "sync", np.arange(n), 0.0, tstop, params=params, seed=SEED, output=path)
    events = read_metadata(path, "sync")["event_times_ms"]
    ids, ts = _run("sip", params, np.arange(n), tstop)
    offsets = ts.reshape(n, events.size) - events
    inner = (events > jitter) & (events < tstop - jitter)  # untouched by the reflection
    sample = offsets[:, inner].ravel()
    assert np.all(np.abs(sample) <= jitter)
    assert stats.kstest(sample, stats.uniform(-jitter, 2 * jitter).cdf).pvalue > P
    assert np.unique(sample).size == sample.size  # each unit and coincidence its own offset


# -- cpp -------------------------------------------------------------------------------------
AMPS = {0: 0.1, 1: 0.4, 2: 0.2, 3: 0.1, 15: 0.1, 20: 0.1}  # 15 and 20 > n/2: complements


def test_cpp_recovers_the_amplitude_distribution_and_the_rates(tmp_path):
    n, rate, tstop = 20, 10.0, 100_000.0
    params = {"rate_hz": rate, "amplitude_distribution": AMPS}
    ids, ts = _run("cpp", params, np.arange(n), tstop)
    a = np.zeros(n + 1)
    for j, prob in AMPS.items():
        a[j] = prob
    mean_amplitude = float(np.dot(np.arange(n + 1), a))
    carrier_hz = n * rate / mean_amplitude
    times, mult = _multiplicity(ts)
    # visible events (amplitude >= 1): Poisson at carrier * (1 - A[0])
    lo, hi = _poisson_bounds(carrier_hz * (1 - a[0]) * tstop / 1000.0)
    assert lo <= times.size <= hi
    # their sizes: multinomial with A[j] / (1 - A[0]); no other size occurs
    assert set(np.unique(mult)) <= {j for j, prob in AMPS.items() if prob > 0 and j > 0}
    sizes = sorted(j for j in AMPS if j > 0)
    obs = np.array([(mult == j).sum() for j in sizes])
    exp = np.array([a[j] for j in sizes]) / (1 - a[0]) * times.size
    assert stats.chisquare(obs, exp).pvalue > P
    # every unit is Poisson at rate_hz
    _per_unit_counts_are_poisson(ids, np.arange(n), rate * tstop / 1000.0)
    # members uniform over the units: given the events, the participation counts c_i
    # have mean sum_e q_e and covariance V N/(N-1) (I - 11'/N), V = sum_e q_e (1 - q_e),
    # q_e = size_e / N, so sum_i (c_i - mean)^2 (N-1) / (N V) ~ chi-square(N - 1)
    q = mult / n
    v = float(np.sum(q * (1 - q)))
    c = np.bincount(ids, minlength=n)
    x = float(np.sum((c - c.mean()) ** 2)) * (n - 1) / (n * v)
    assert stats.chi2.sf(x, n - 1) > P
    # the recorded events: all amplitudes (incl. 0), the visible ones at the spike times
    path = tmp_path / "cpp.h5"
    generate("cpp", "sync", np.arange(n), 0.0, tstop, params=params, seed=SEED, output=path)
    meta = read_metadata(path, "sync")
    visible = meta["event_sizes"] > 0
    np.testing.assert_array_equal(meta["event_times_ms"][visible], times)
    np.testing.assert_array_equal(meta["event_sizes"][visible], mult)
    lo, hi = _poisson_bounds(carrier_hz * tstop / 1000.0)
    assert lo <= meta["event_sizes"].size <= hi


def test_random_subsets_are_uniform_over_subsets():
    rng = np.random.default_rng(SEED)
    n, draws = 5, 20_000
    for size in range(n + 1):  # 3, 4 and 5 are drawn as complements
        sub, mem = random_subsets(rng, np.full(draws, size), n)
        assert np.array_equal(np.bincount(sub, minlength=draws), np.full(draws, size))
        codes = np.zeros(draws, dtype=np.int64)
        np.add.at(codes, sub, 1 << mem)  # a subset as a bit mask
        assert np.all(np.diff(mem)[np.diff(sub) == 0] > 0)  # distinct, sorted members
        observed = np.unique(codes, return_counts=True)[1]
        assert observed.size == math.comb(n, size)
        if observed.size > 1:
            assert stats.chisquare(observed).pvalue > P


def test_cpp_shift_moves_each_units_whole_train():
    n, shift, tstop = 12, 40.0, 3000.0
    base = {"rate_hz": 20.0, "amplitude_distribution": [0, 0.5, 0, 0, 0.5]}
    ids0, ts0 = _run("cpp", base, np.arange(n), tstop)
    ids1, ts1 = _run("cpp", {**base, "shift_ms": shift}, np.arange(n), tstop)
    shifts = []
    for i in range(n):
        a, b = ts0[ids0 == i], ts1[ids1 == i]
        assert b.size > 0
        # the unit's offset d: the one that maps its unshifted train onto the shifted one
        found = []
        for d in b[0] - a[np.abs(b[0] - a) <= shift]:
            moved = a + d
            moved = moved[(moved > 0.0) & (moved < tstop)]
            if moved.size == b.size and np.allclose(moved, b, rtol=0, atol=1e-9):
                found.append(d)
        assert len(found) == 1
        shifts.append(found[0])
    assert np.unique(shifts).size == n  # each unit its own offset


def test_cpp_expected_counts_account_for_the_shift():
    units = Units("sync", np.arange(4))
    ctx = Context(SEED, "sync", 0.0, 1000.0)
    for shift, lost_s in [(0.0, 0.0), (100.0, 0.05), (4000.0, 1.0 - 1.0 / 8.0)]:
        model = make_model(
            "cpp", {"rate_hz": 10.0, "amplitude_distribution": [0, 1], "shift_ms": shift}
        )
        plan = model.build_plan(units, ctx)
        assert isinstance(plan, CPPPlan)
        np.testing.assert_allclose(plan.expected_counts(), 10.0 * (1.0 - lost_s))


def test_cpp_groups_by_attribute_are_independent_cpps():
    ids_in = np.arange(40)
    attrs = pd.DataFrame({"layer": np.array(["L2", "L4"])[ids_in % 2]}, index=ids_in)
    params = {"rate_hz": 10.0, "amplitude_distribution": [0, 0, 0, 0, 1], "groups": {"by": "layer"}}
    ids, ts = _run("cpp", params, ids_in, 5000.0, attributes=attrs)
    times, mult = _multiplicity(ts)
    assert set(mult) == {4}
    for t in times[:20]:
        members = ids[ts == t] % 2
        assert np.all(members == members[0])  # an event stays inside its group
    # a group's trains depend on its own nodes only, not on the other groups
    alone_ids, alone_ts = _run("cpp", params, ids_in[::2], 5000.0, attributes=attrs)
    np.testing.assert_array_equal(alone_ids, ids[ids % 2 == 0])
    np.testing.assert_array_equal(alone_ts, ts[ids % 2 == 0])


# -- streams helpers -------------------------------------------------------------------------
def test_bernoulli_indices_do_not_depend_on_the_rounds(monkeypatch):
    keys = node_keys(SEED, "pop", "rounds", np.arange(500))
    trials = np.arange(500) * 3
    ref = bernoulli_indices(keys, trials, 0.1)
    for slack in [-1.0, 0.0, 10.0]:  # first guesses far too small (many rounds) or generous
        monkeypatch.setattr(raster_maker.synchrony, "_ROUND_SLACK_SD", slack)
        got = bernoulli_indices(keys, trials, 0.1)
        np.testing.assert_array_equal(got[0], ref[0])
        np.testing.assert_array_equal(got[1], ref[1])


def test_bernoulli_indices_are_binomial_and_do_not_depend_on_the_batch():
    keys = node_keys(SEED, "pop", "test", np.arange(2000))
    trials = np.full(keys.size, 400)
    rows, index = bernoulli_indices(keys, trials, 0.05)
    counts = np.bincount(rows, minlength=keys.size)
    k = np.arange(401)
    expected = stats.binom.pmf(k, 400, 0.05) * keys.size
    keep = expected >= 5
    obs = np.bincount(counts, minlength=401)
    assert (
        stats.chisquare(
            np.append(obs[keep], obs[~keep].sum()), np.append(expected[keep], expected[~keep].sum())
        ).pvalue
        > P
    )
    # success positions: uniform over the trials
    assert np.all((index >= 0) & (index < 400))
    assert stats.chisquare(np.bincount(index, minlength=400)).pvalue > P
    # one stream alone, or with fewer trials (a prefix), gives the same successes
    for i in [0, 17, 1999]:
        r1, i1 = bernoulli_indices(keys[i : i + 1], trials[i : i + 1], 0.05)
        np.testing.assert_array_equal(i1, index[rows == i])
        r2, i2 = bernoulli_indices(keys[i : i + 1], np.array([150]), 0.05)
        np.testing.assert_array_equal(i2, i1[i1 < 150])
    # many rounds (a tiny first guess of successes) give the same result: 1e5 trials
    r3, i3 = bernoulli_indices(keys[:3], np.array([100_000, 5, 0]), 0.3)
    assert np.all(i3[r3 == 1] < 5) and not np.any(r3 == 2)
    big = i3[r3 == 0]
    lo, hi = stats.binom.ppf(P / 2, 100_000, 0.3), stats.binom.isf(P / 2, 100_000, 0.3)
    assert lo <= big.size <= hi and np.all(np.diff(big) > 0)


# -- reproducibility -------------------------------------------------------------------------
ATTRS = pd.DataFrame(
    {"layer": np.array(["L2", "L4", "L5"])[np.arange(300) % 3]}, index=np.arange(300)
)
CASES = {
    "mip": ("mip", {"rate_hz": 15.0, "p_copy": 0.3}),
    "mip_groups": ("mip", {"rate_hz": 15.0, "p_copy": 0.05, "groups": {"by": "layer"}}),
    "sip": ("sip", {"rate_hz": 15.0, "coincidence_rate_hz": 3.0, "jitter_ms": 2.0}),
    "sip_regular": ("sip", {"rate_hz": 8.0, "coincidence_rate_hz": 8.0, "coincidences": "regular"}),
    "cpp": ("cpp", {"rate_hz": 15.0, "amplitude_distribution": AMPS, "shift_ms": 3.0}),
    "cpp_groups": (
        "cpp",
        {"rate_hz": 15.0, "amplitude_distribution": [0.2, 0.5, 0.3], "groups": {"by": "layer"}},
    ),
}
SET_INDEPENDENT = [c for c in CASES if CASES[c][0] != "cpp"]


def _spikes(case, node_ids, **kw):
    name, params = CASES[case]
    res = generate(
        name, "pop", node_ids, 0.0, 2000.0, params=params, seed=SEED, attributes=ATTRS, **kw
    )
    return res.spikes


@pytest.mark.parametrize("case", list(CASES))
def test_order_batches_and_threads_do_not_change_the_spikes(case):
    ids = np.arange(0, 300, 2)
    ref = _spikes(case, ids)
    assert len(ref) > 0
    rng = np.random.default_rng(0)
    pd.testing.assert_frame_equal(_spikes(case, ids[::-1]), ref)
    pd.testing.assert_frame_equal(_spikes(case, rng.permutation(ids)), ref)
    for batch in [1, 7, 300, 10**9]:
        pd.testing.assert_frame_equal(_spikes(case, ids, batch_spikes=batch), ref)
    name, params = CASES[case]
    model = make_model(name, params)
    units = Units("pop", ids, ATTRS)
    for threads in [1, 3]:
        parts = list(
            iter_spikes(model, units, 0.0, 2000.0, SEED, batch_spikes=300, threads=threads)
        )
        assert len(parts) > 2
        np.testing.assert_array_equal(np.concatenate([p[0] for p in parts]), ref["node_ids"])
        np.testing.assert_array_equal(np.concatenate([p[1] for p in parts]), ref["timestamps"])
    other = generate(
        name, "pop", ids, 0.0, 2000.0, params=params, seed=SEED + 1, attributes=ATTRS
    ).spikes
    assert not other.equals(ref)


@pytest.mark.parametrize("case", SET_INDEPENDENT)
def test_a_mip_or_sip_train_does_not_depend_on_the_other_nodes(case):
    ids = np.arange(0, 300, 2)
    full = _spikes(case, ids)
    firing = np.unique(full["node_ids"])
    for node in [int(firing[0]), int(firing[firing.size // 2]), int(firing[-1])]:
        alone = _spikes(case, [node])
        assert len(alone) > 0
        np.testing.assert_array_equal(
            alone["timestamps"].to_numpy(), full.loc[full["node_ids"] == node, "timestamps"]
        )
    bigger = _spikes(case, np.arange(300))
    sub = bigger[bigger["node_ids"].isin(ids)].reset_index(drop=True)
    pd.testing.assert_frame_equal(sub, full)


def test_a_cpp_train_depends_on_the_group_node_set():
    """Documented: cpp events choose their members among the group's nodes."""
    ids = np.arange(0, 300, 2)
    full = _spikes("cpp", ids)
    bigger = _spikes("cpp", np.arange(300))
    sub = bigger[bigger["node_ids"].isin(ids)].reset_index(drop=True)
    assert not sub.equals(full)


def test_trials_draw_new_events():
    a = _spikes("mip", np.arange(30))
    b = generate(
        "mip", "pop", np.arange(30), 0.0, 2000.0, params=CASES["mip"][1], seed=SEED, trial=1
    ).spikes
    assert not np.isin(b["timestamps"], a["timestamps"]).any()


def test_metadata_and_derived_quantities(tmp_path):
    path = tmp_path / "m.h5"
    generate(
        "cpp", "pop", np.arange(300), 0.0, 2000.0, params=CASES["cpp_groups"][1], seed=SEED,
        attributes=ATTRS, output=path,
    )  # fmt: skip
    meta = read_metadata(path, "pop")
    np.testing.assert_array_equal(meta["node_ids"], np.arange(300))
    np.testing.assert_allclose(meta["target_rate_hz"], 15.0)
    assert list(meta["group_keys"]) == ["L2", "L4", "L5"]
    np.testing.assert_array_equal(meta["group_index"], np.arange(300) % 3)
    np.testing.assert_array_equal(meta["group_sizes"], [100, 100, 100])
    assert meta["event_times_ms"].size == meta["event_sizes"].size == meta["event_group_index"].size
    derived = read_provenance(path, "pop")["derived"]
    assert derived["mean_amplitude"] == pytest.approx(1.1)
    assert derived["carrier_rate_hz_by_group"]["L2"] == pytest.approx(100 * 15.0 / 1.1)
    assert derived["n_events"] == meta["event_times_ms"].size


# -- bad input -------------------------------------------------------------------------------
BAD = [
    ("mip", {"p_copy": 0.0}, ValueError, r"'p_copy': 0\.0\. Allowed: > 0"),
    ("mip", {"p_copy": 1.5}, ValueError, r"'p_copy': 1\.5\. Allowed: <= 1"),
    ("mip", {"rate_hz": -2.0}, ValueError, r"'rate_hz': -2\.0 Hz\. Allowed: >= 0"),
    ("mip", {"rate_hz": "10"}, TypeError, r"'rate_hz' must be a real number"),
    ("mip", {"groups": "layer"}, ValueError, r"'groups': 'layer'.*\{\"by\": ATTRIBUTE\}"),
    ("sip", {"coincidence_rate_hz": 12.0}, ValueError,
     r"'coincidence_rate_hz': 12\.0 Hz\. Allowed: 0 \.\. rate_hz \(10\.0 Hz\)"),
    ("sip", {"coincidence_rate_hz": -1.0}, ValueError, r"'coincidence_rate_hz': -1\.0 Hz.*>= 0"),
    ("sip", {"coincidences": "poisson"}, ValueError,
     r"'coincidences': 'poisson'\. Allowed: 'stochastic', 'deterministic', 'regular'"),
    ("sip", {"jitter_ms": -1.0}, ValueError, r"'jitter_ms': -1\.0 ms.*>= 0"),
    ("cpp", {}, ValueError, r"Missing 'amplitude_distribution' for cpp"),
    ("cpp", {"amplitude_distribution": [0.5, 0.4]}, ValueError,
     r"'amplitude_distribution': it sums to 0\.9\..*summing to 1"),
    ("cpp", {"amplitude_distribution": [0.5, -0.5, 1.0]}, ValueError,
     r"'amplitude_distribution\[1\]': -0\.5\. Allowed: >= 0"),
    ("cpp", {"amplitude_distribution": [1.0]}, ValueError, r"A\[0\] = 1, so no event"),
    ("cpp", {"amplitude_distribution": []}, ValueError, r"'amplitude_distribution': empty"),
    ("cpp", {"amplitude_distribution": "0.5,0.5"}, TypeError, r"must be a list or a dict"),
    ("cpp", {"amplitude_distribution": {"-1": 1.0}}, ValueError, r"Invalid amplitude '-1'"),
    ("cpp", {"amplitude_distribution": [0, 1], "shift_ms": -3}, ValueError,
     r"'shift_ms': -3\.0 ms.*>= 0"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "params", "exc", "match"), BAD)
def test_bad_parameters(name, params, exc, match):
    with pytest.raises(exc, match=match):
        make_model(name, params)


def test_bad_input_at_plan_time():
    ids = np.arange(5)
    with pytest.raises(ValueError, match=r"events of 6 units, but group 'all' has only 5 units"):
        generate("cpp", "p", ids, 0.0, 100.0, params={"amplitude_distribution": [0] * 6 + [1]})
    attrs = pd.DataFrame({"layer": ["a", "a", "a", "b", "b"]}, index=ids)
    with pytest.raises(ValueError, match=r"group 'b' has only 2 units"):
        generate(
            "cpp", "p", ids, 0.0, 100.0, attributes=attrs,
            params={"amplitude_distribution": [0, 0, 0, 1], "groups": {"by": "layer"}},
        )  # fmt: skip
    with pytest.raises(KeyError, match=r"No node attribute 'layer'"):
        generate("mip", "p", ids, 0.0, 100.0, params={"groups": {"by": "layer"}})
    with pytest.raises(ValueError, match=r"'jitter_ms': 200\.0 ms\. Allowed: shorter than"):
        generate("sip", "p", ids, 0.0, 100.0, params={"jitter_ms": 200.0})
    with pytest.raises(ValueError, match=r"a mother process would expect 1e\+09 events"):
        generate("mip", "p", ids, 0.0, 1000.0, params={"rate_hz": 1.0, "p_copy": 1e-9})
    with pytest.raises(ValueError, match=r"a unit would expect 1e\+09 events"):
        generate("sip", "p", ids, 0.0, 1000.0, params={"rate_hz": 1e9})


def test_amplitude_distribution_forms():
    a = make_model("cpp", {"amplitude_distribution": {"1": 0.25, 3: 0.75}})
    b = make_model("cpp", {"amplitude_distribution": np.array([0, 0.25, 0, 0.75, 0, 0])})
    c = make_model("cpp", {"amplitude_distribution": [0, 0.1 + 0.15, 0, 0.75]})
    for m in (a, b, c):
        np.testing.assert_allclose(m._amplitudes, [0, 0.25, 0, 0.75])
    assert b.params()["amplitude_distribution"] == [0, 0.25, 0, 0.75, 0, 0]  # JSON-able


@pytest.mark.parametrize(
    ("generator", "params"),
    [
        ("sip", {"rate_hz": 1.0, "coincidence_rate_hz": 0.5, "jitter_ms": 0.1}),
        ("mip", {"rate_hz": 1.0, "p_copy": 0.5}),  # never raised: the other event route
        ("poisson", {"rate_hz": 1.0, "transforms": {"jitter_ms": 0.1}}),
    ],
)
def test_a_batch_without_spikes_is_empty_not_an_error(generator, params):
    # 3 nodes at 1 Hz for 1 ms: no spike to merge or jitter
    res = generate(generator, "p", np.arange(3), 0.0, 1.0, params=params, seed=1)
    assert res.n_spikes == 0 and res.spikes.empty
