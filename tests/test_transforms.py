"""Spike transforms (jitter, keep, shift) through ``generate(..., params={"transforms": ...})``.

The untransformed spikes of a generation are drawn from the same streams whether or not
transforms follow, so every test compares a transformed generation with the plain one
(same seed). Statistical bounds are at about 1e-6 per assertion with fixed seeds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from raster_maker import generate, iter_spikes, make_model
from raster_maker.models import Units
from raster_maker.sonata import read_metadata

P = 1e-6
SEED = 31337
IDS = np.arange(0, 600, 3)

GENERATORS = {
    "poisson": ("poisson", {"rate_hz": 20.0}),
    "rhythmic": ("rhythmic", {"rates": 15.0, "frequency_hz": 6.0, "depth": 0.8}),
    "functional_groups": ("functional_groups", {"group_size": 25}),
    "layers": (
        "layers",
        {
            "layers": [
                {"generator": "poisson", "rate_hz": 5.0},
                {"generator": "rhythmic", "rates": 10.0, "frequency_hz": 3.0},
            ]
        },
    ),
}
WINDOWS = [(0.0, 1000.0), (-300.0, 450.5)]


def run(case, transforms=None, ids=IDS, window=(0.0, 1000.0), seed=SEED, **kw):
    name, params = GENERATORS[case] if isinstance(case, str) else case
    params = dict(params)
    if transforms is not None:
        params["transforms"] = transforms
    res = generate(name, "pop", ids, *window, params=params, seed=seed, **kw)
    return res.spikes


def trains(df):
    """{node id: sorted times}."""
    ids, ts = df["node_ids"].to_numpy(), df["timestamps"].to_numpy()
    cut = np.flatnonzero(np.diff(ids.astype(np.int64))) + 1
    parts = zip(np.split(ids, cut), np.split(ts, cut), strict=True)
    return {int(i[0]): t for i, t in parts if i.size}


def counts(df, ids=IDS):
    return pd.Series(df["node_ids"].to_numpy()).value_counts().reindex(ids, fill_value=0).to_numpy()


def assert_ordered(df, window):
    ids, ts = df["node_ids"].to_numpy().astype(np.int64), df["timestamps"].to_numpy()
    assert np.all((ts > window[0]) & (ts < window[1]))
    assert np.all(np.diff(ids) >= 0)
    assert np.all(np.diff(ts)[ids[1:] == ids[:-1]] >= 0)


# -- jitter -----------------------------------------------------------------------------------
@pytest.mark.parametrize("case", list(GENERATORS))
@pytest.mark.parametrize("window", WINDOWS)
def test_jitter_keeps_counts_and_moves_each_spike_at_most_jitter(case, window):
    j = 7.5
    plain = run(case, window=window)
    jittered = run(case, [{"jitter_ms": j}], window=window)
    assert_ordered(jittered, window)
    np.testing.assert_array_equal(counts(jittered), counts(plain))
    before, after = trains(plain), trains(jittered)
    assert before.keys() == after.keys() and before
    # if every spike moves by at most j, so does the k-th spike of the sorted train
    # (reflection at an edge moves a spike less than the offset it was given)
    worst = max(np.abs(after[n] - before[n]).max() for n in before)
    assert worst <= j
    assert worst > j / 2  # and spikes did move
    moved = np.concatenate([after[n] - before[n] for n in before])
    assert np.mean(moved != 0) > 0.99


def test_jitter_offsets_are_uniform_away_from_the_edges():
    # a refractory period of 10 ms > 2 * jitter keeps each train in order, so the k-th
    # spike after jittering is the k-th spike before: the offsets are observed directly
    j, window = 2.0, (0.0, 2000.0)
    case = ("poisson", {"rate_hz": 40.0, "refractory_ms": 10.0})
    ids = np.arange(300)
    before, after = (
        trains(run(case, ids=ids, window=window)),
        trains(run(case, [{"jitter_ms": j}], ids=ids, window=window)),
    )
    assert all(np.all(np.diff(t) >= 2 * j) for t in before.values())
    t0 = np.concatenate(list(before.values()))
    d = np.concatenate([after[n] - before[n] for n in before])
    inner = (t0 >= window[0] + j) & (t0 <= window[1] - j)
    assert inner.sum() > 10_000
    assert np.all(np.abs(d) <= j)
    assert stats.kstest(d[inner], stats.uniform(-j, 2 * j).cdf).pvalue > P
    # offsets of successive spikes of a node are independent
    rho = stats.pearsonr(d[inner][:-1], d[inner][1:]).statistic
    assert abs(rho) < stats.norm.isf(P / 2) / np.sqrt(inner.sum())


def test_jitter_reflects_at_the_edges_so_a_homogeneous_train_stays_uniform():
    # reflecting a uniform density through the window's edges leaves it uniform; clipping
    # would pile spikes on the edges and dropping would lose them near the edges
    j, window = 20.0, (100.0, 200.0)
    ids = np.arange(3000)
    plain = run("poisson", ids=ids, window=window)
    df = run("poisson", [{"jitter_ms": j}], ids=ids, window=window)
    assert_ordered(df, window)
    assert len(df) == len(plain)
    ts = df["timestamps"].to_numpy()
    assert stats.kstest(ts, stats.uniform(window[0], window[1] - window[0]).cdf).pvalue > P
    edge = (ts < window[0] + j) | (ts > window[1] - j)
    lo, hi = stats.binom.interval(1 - P, ts.size, 2 * j / (window[1] - window[0]))
    assert lo <= edge.sum() <= hi


# -- keep -------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", list(GENERATORS))
@pytest.mark.parametrize("keep", [0.25, 0.8])
def test_keep_thins_to_a_binomial_subset(case, keep, tmp_path):
    window = (0.0, 1000.0)
    plain = run(case)
    thinned = run(case, [{"keep": keep}])
    assert_ordered(thinned, window)
    before, after = trains(plain), trains(thinned)
    for node, t in after.items():  # the kept spikes are spikes of the node's plain train
        assert np.all(np.isin(t, before[node]))
    n, k = len(plain), len(thinned)
    lo, hi = stats.binom.ppf(P / 2, n, keep), stats.binom.isf(P / 2, n, keep)
    assert lo <= k <= hi
    # the recorded targets are thinned too
    name, params = GENERATORS[case]
    paths = tmp_path / "plain.h5", tmp_path / "thin.h5"
    for path, extra in zip(paths, [{}, {"transforms": [{"keep": keep}]}], strict=True):
        generate(name, "pop", IDS, *window, params={**params, **extra}, seed=SEED, output=path)
    np.testing.assert_allclose(
        read_metadata(paths[1], "pop")["target_rate_hz"],
        keep * read_metadata(paths[0], "pop")["target_rate_hz"],
        rtol=1e-12,
    )


def test_keep_zero_drops_everything_and_one_keeps_everything():
    plain = run("poisson")
    assert len(run("poisson", [{"keep": 0.0}])) == 0
    pd.testing.assert_frame_equal(run("poisson", [{"keep": 1.0}]), plain)


# -- shift ------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", list(GENERATORS))
@pytest.mark.parametrize("shift", [12.5, -240.0])
@pytest.mark.parametrize("window", WINDOWS)
def test_shift_moves_exactly_and_drops_what_leaves_the_window(case, shift, window):
    plain = run(case, window=window)
    shifted = run(case, [{"shift_ms": shift}], window=window)
    moved = plain["timestamps"].to_numpy() + shift
    inside = (moved > window[0]) & (moved < window[1])
    assert 0 < inside.sum() < inside.size
    np.testing.assert_array_equal(shifted["node_ids"].to_numpy(), plain["node_ids"][inside])
    np.testing.assert_array_equal(shifted["timestamps"].to_numpy(), moved[inside])


# -- composition ------------------------------------------------------------------------------
def test_transforms_apply_in_order():
    plain = run("poisson")
    t = plain["timestamps"].to_numpy()
    there_and_back = run("poisson", [{"shift_ms": 300.0}, {"shift_ms": -300.0}])
    back_and_there = run("poisson", [{"shift_ms": -300.0}, {"shift_ms": 300.0}])
    # out of the window after the first shift means gone: the two orders lose different ends
    np.testing.assert_allclose(there_and_back["timestamps"], t[t + 300.0 < 1000.0], atol=1e-9)
    np.testing.assert_allclose(back_and_there["timestamps"], t[t - 300.0 > 0.0], atol=1e-9)
    # a dict is its items in order
    pd.testing.assert_frame_equal(
        run("poisson", {"keep": 0.5, "shift_ms": 40.0}),
        run("poisson", [{"keep": 0.5}, {"shift_ms": 40.0}]),
    )
    # a chain is the first transform's output passed through the next
    kept = run("poisson", [{"keep": 0.5}])
    both = run("poisson", [{"keep": 0.5}, {"shift_ms": 40.0}])
    k = kept["timestamps"].to_numpy() + 40.0
    np.testing.assert_array_equal(both["timestamps"].to_numpy(), k[k < 1000.0])
    # each position in the chain has its own stream: keep twice is not keep once
    twice = run("poisson", [{"keep": 0.5}, {"keep": 0.5}])
    lo, hi = stats.binom.interval(1 - P, len(plain), 0.25)
    assert lo <= len(twice) <= hi


# -- reproducibility --------------------------------------------------------------------------
CHAIN = [{"jitter_ms": 3.0}, {"keep": 0.6}, {"shift_ms": -2.5}, {"jitter_ms": 0.5}]


@pytest.mark.parametrize("case", ["poisson", "layers"])
def test_transformed_trains_do_not_depend_on_order_subset_batches_or_threads(case):
    ids = np.arange(0, 400, 2)
    full = run(case, CHAIN, ids=ids)
    assert len(full) > 1000
    pd.testing.assert_frame_equal(run(case, CHAIN, ids=ids[::-1]), full)
    shuffled = np.random.default_rng(0).permutation(ids)
    pd.testing.assert_frame_equal(run(case, CHAIN, ids=shuffled), full)
    by_node = trains(full)
    for node in [int(ids[0]), int(ids[77]), int(ids[-1])]:
        np.testing.assert_array_equal(trains(run(case, CHAIN, ids=[node]))[node], by_node[node])
    bigger = run(case, CHAIN, ids=np.arange(400))
    sub = bigger[bigger["node_ids"].isin(ids)].reset_index(drop=True)
    pd.testing.assert_frame_equal(sub, full)
    for batch in [1, 7, 10**9]:
        pd.testing.assert_frame_equal(run(case, CHAIN, ids=ids, batch_spikes=batch), full)
    name, params = GENERATORS[case]
    model = make_model(name, {**params, "transforms": CHAIN})
    for threads in [1, 2]:
        parts = list(
            iter_spikes(
                model, Units("pop", ids), 0.0, 1000.0, SEED, batch_spikes=300, threads=threads
            )
        )
        assert len(parts) > 2
        np.testing.assert_array_equal(np.concatenate([p[1] for p in parts]), full["timestamps"])


def test_transform_streams_differ_by_seed_and_trial_but_not_the_untransformed_spikes():
    a = run("poisson", [{"jitter_ms": 5.0}])
    assert not a.equals(run("poisson", [{"jitter_ms": 5.0}], seed=SEED + 1))
    t1 = run("poisson", [{"jitter_ms": 5.0}], trial=1)
    assert not np.array_equal(t1["timestamps"], a["timestamps"])


# -- errors -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("transforms", "exc", "match"),
    [
        ([{"jitter": 2.0}], ValueError, r"Invalid transform 'jitter'\. Allowed: jitter_ms, keep, "),
        ([{"keep": 1.5}], ValueError, r"'keep': 1\.5\. Allowed: <= 1"),
        ([{"keep": -0.1}], ValueError, r"'keep': -0\.1\. Allowed: >= 0"),
        ([{"jitter_ms": 0.0}], ValueError, r"'jitter_ms': 0\.0 ms\. Allowed: > 0"),
        ([{"jitter_ms": -1.0}], ValueError, r"'jitter_ms': -1\.0 ms\. Allowed: > 0"),
        ([{"jitter_ms": 50.0}], ValueError, r"'jitter_ms': 50\.0 ms\. Allowed: shorter than the "),
        ([{"shift_ms": float("nan")}], ValueError, r"'shift_ms': nan\. Allowed: a finite"),
        ([{"keep": "half"}], TypeError, r"'keep' must be a real number, got str 'half'"),
        ([{"keep": 0.5, "jitter_ms": 1.0}], ValueError, r"Allowed: a dict with one key of"),
        ("jitter", TypeError, r"Invalid 'transforms': 'jitter'\. Allowed: a list of dicts"),
    ],
)
def test_bad_transforms(transforms, exc, match):
    with pytest.raises(exc, match=match):
        run("poisson", transforms, window=(0.0, 50.0))
