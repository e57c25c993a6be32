"""Counter-based per-node streams: purity, ranges, uniformity, independence, seeds.

Statistical bounds are at about 1e-6 per assertion (fixed seeds; see test_processes.py).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from scipy import stats

from raster_maker import streams
from raster_maker.streams import (
    group_rng,
    new_seed,
    node_keys,
    normalize_seed,
    population_key,
    stable_id,
    uniform,
    words,
)

P = 1e-6
Z = stats.norm.isf(P / 2)


def test_stable_id_is_blake2b_of_utf8():
    for text in ["", "exc_stim", "ünïcode", "a" * 1000]:
        want = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
        assert stable_id(text) == want
        assert 0 <= stable_id(text) < 2**64
    assert stable_id("exc") != stable_id("inh")


def test_normalize_seed():
    assert normalize_seed(5) == 5
    assert normalize_seed(np.int64(7)) == 7
    assert isinstance(normalize_seed(np.uint32(7)), int)
    drawn = {normalize_seed(None) for _ in range(20)}
    assert all(0 <= s < 2**63 for s in drawn) and len(drawn) == 20  # 63-bit draws: no repeats
    assert 0 <= new_seed() < 2**63


@pytest.mark.parametrize(
    ("seed", "exc", "match"),
    [
        (-1, ValueError, r"'seed': -1. Allowed: an integer >= 0 or None"),
        (1.5, TypeError, r"'seed' must be a non-negative integer or None, got 1.5"),
        ("3", TypeError, r"'seed' must be a non-negative integer"),
        (True, TypeError, r"'seed' must be a non-negative integer"),
    ],
)
def test_normalize_seed_rejects_bad_seeds(seed, exc, match):
    with pytest.raises(exc, match=match):
        normalize_seed(seed)


def test_keys_depend_on_every_part_of_the_entropy():
    ids = np.arange(100)
    base = node_keys(1, "exc", "spikes", ids)
    assert base.dtype == np.uint64
    assert np.unique(base).size == ids.size
    np.testing.assert_array_equal(node_keys(1, "exc", "spikes", ids), base)
    for other in [
        node_keys(2, "exc", "spikes", ids),
        node_keys(1, "inh", "spikes", ids),
        node_keys(1, "exc", "rate", ids),
    ]:
        assert not np.any(other == base)
    assert population_key(1, "exc", "spikes") != population_key(1, "exc", "rate")
    # a node's key does not depend on the other ids asked for
    np.testing.assert_array_equal(node_keys(1, "exc", "spikes", ids[[42]]), base[[42]])
    np.testing.assert_array_equal(node_keys(1, "exc", "spikes", ids[::-1]), base[::-1])


def test_seed_entropy_is_structured_not_summed():
    # seed + node id arithmetic would make (seed 1, node 0) the stream of (seed 0, node 1)
    a = node_keys(1, "p", "spikes", np.array([0]))
    b = node_keys(0, "p", "spikes", np.array([1]))
    assert a[0] != b[0]
    big = node_keys(2**63 - 1, "p", "spikes", np.array([2**63, 2**64 - 1], dtype=np.uint64))
    assert big[0] != big[1]


def test_words_are_elementwise_pure():
    keys = node_keys(9, "p", "spikes", np.arange(50))
    counters = np.arange(50, dtype=np.uint64) * 3
    w = words(keys, counters)
    for i in [0, 17, 49]:
        assert words(keys[i : i + 1], counters[i : i + 1])[0] == w[i]
    np.testing.assert_array_equal(words(keys[::-1], counters[::-1]), w[::-1])


def test_uniform_ranges_and_resolution():
    keys = np.repeat(node_keys(3, "p", "spikes", np.arange(1000)), 100)
    counters = np.tile(np.arange(100, dtype=np.uint64), 1000)
    u = uniform(keys, counters)
    assert np.all((u > 0.0) & (u <= 1.0))
    v = uniform(keys, counters, open_zero=False)
    assert np.all((v >= 0.0) & (v < 1.0))
    np.testing.assert_array_equal(u - v, 2.0**-53)  # the same 53-bit word, shifted by one ulp
    assert np.all(np.mod(v * 2.0**53, 1.0) == 0.0)


def test_uniforms_are_uniform_and_uncorrelated():
    n_nodes, n_counters = 2000, 100
    keys = np.repeat(node_keys(11, "p", "spikes", np.arange(n_nodes)), n_counters)
    counters = np.tile(np.arange(n_counters, dtype=np.uint64), n_nodes)
    u = uniform(keys, counters)
    assert stats.kstest(u, "uniform").pvalue > P
    grid = u.reshape(n_nodes, n_counters)
    # along a stream (lag 1) and across neighbouring nodes: Pearson r ~ N(0, 1/n) if independent
    for a, b in [(grid[:, :-1], grid[:, 1:]), (grid[:-1], grid[1:])]:
        r = np.corrcoef(a.ravel(), b.ravel())[0, 1]
        assert abs(r) < Z / np.sqrt(a.size)
    # each of the 64 bits of the raw words is a fair coin (Bonferroni over 64 bits)
    w = words(keys, counters)
    bits = ((w[:, None] >> np.arange(64, dtype=np.uint64)) & np.uint64(1)).sum(axis=0)
    lo = stats.binom.ppf(P / 128, w.size, 0.5)
    hi = stats.binom.isf(P / 128, w.size, 0.5)
    assert np.all((bits >= lo) & (bits <= hi))


def test_group_rng_is_a_pure_function_of_its_parts():
    a = group_rng(5, "exc", "profile", "group", "3").standard_normal(10)
    np.testing.assert_array_equal(
        group_rng(5, "exc", "profile", "group", "3").standard_normal(10), a
    )
    for other in [
        group_rng(6, "exc", "profile", "group", "3"),
        group_rng(5, "inh", "profile", "group", "3"),
        group_rng(5, "exc", "profile", "group", "4"),
        group_rng(5, "exc", "profile", "group", 3),  # ints and strings are different parts
    ]:
        assert not np.array_equal(other.standard_normal(10), a)


def test_public_names():
    assert set(streams.__all__) == {
        "stable_id",
        "population_key",
        "node_keys",
        "uniform",
        "words",
        "group_rng",
        "new_seed",
        "normalize_seed",
    }


def test_uniform_inplace_is_uniform():
    # the hot loop's in-place copy of the stream definition must give the same bits
    rng = np.random.default_rng(3)
    keys = rng.integers(0, 2**63, 50_000, dtype=np.uint64) * np.uint64(2)
    counters = rng.integers(0, 2**40, keys.size, dtype=np.uint64)
    want = streams.uniform(keys, counters)
    got = streams.uniform_inplace(counters.copy(), keys.copy())
    np.testing.assert_array_equal(got.view(np.uint64), want.view(np.uint64))


def test_uniform_runs_inplace_is_uniform_of_the_runs():
    # the hot loop lays out each row's generator states by one cumulative sum: the same
    # bits as the per-value definition, empty rows and counters far from 0 included
    rng = np.random.default_rng(5)
    keys = rng.integers(0, 2**63, 300, dtype=np.uint64) * np.uint64(2)
    counts = rng.poisson(20, keys.size)
    counts[::7] = 0
    for first in (0, 1, 2**40):
        n = int(counts.sum())
        within = np.arange(n) - np.repeat(np.cumsum(counts) - counts, counts)
        want = streams.uniform(np.repeat(keys, counts), within + first)
        got = streams.uniform_runs_inplace(
            keys, counts, first, np.empty(n, np.uint64), np.empty(n, np.uint64)
        )
        np.testing.assert_array_equal(got.view(np.uint64), want.view(np.uint64))
    empty = streams.uniform_runs_inplace(
        keys[:0], counts[:0], 1, np.empty(0, np.uint64), np.empty(0, np.uint64)
    )
    assert empty.size == 0
