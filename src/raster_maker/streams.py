"""Per-node random streams: counter-based, vectorised, independent of how work is split.

A unit's random numbers are a pure function of ``(seed, population, purpose, node id,
counter)``. The population key comes from :class:`numpy.random.SeedSequence` fed with
structured entropy (the seed and stable 64-bit ids of the population and purpose
strings; never Python's salted ``hash``). Each node's key is that population key mixed
with the node id, and its stream is the SplitMix64 sequence started at that key
(Steele, Lea & Flood 2014; the generator Java's ``SplittableRandom`` and numpy's
``SeedSequence`` tooling build on), evaluated for many (node, counter) pairs at once in
numpy. So the spikes of node 17 are the same whether it is generated alone, in another
order, in chunks of any size, or on any MPI rank.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence

import numpy as np

__all__ = [
    "stable_id",
    "population_key",
    "node_keys",
    "uniform",
    "words",
    "group_rng",
    "new_seed",
    "normalize_seed",
]

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = (np.uint64(s) for s in (30, 27, 31, 11))
_TWO53 = 2.0**-53


def stable_id(text: str) -> int:
    """A 64-bit id of a string that is the same in every process and on every machine."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def new_seed() -> int:
    """Draw a fresh 64-bit seed from the operating system (recorded in output files)."""
    return secrets.randbits(63)


def normalize_seed(seed: int | None) -> int:
    """Return ``seed`` as a non-negative int, drawing a new one when it is None."""
    if seed is None:
        return new_seed()
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"'seed' must be a non-negative integer or None, got {seed!r}.")
    if seed < 0:
        raise ValueError(f"Invalid value for 'seed': {seed}. Allowed: an integer >= 0 or None.")
    return int(seed)


def _entropy(seed: int, parts: Sequence[str | int]) -> list[int]:
    return [int(seed)] + [stable_id(p) if isinstance(p, str) else int(p) for p in parts]


def population_key(seed: int, population: str, purpose: str) -> np.uint64:
    """64-bit key of one (seed, population, purpose) stream family."""
    ss = np.random.SeedSequence(_entropy(seed, [population, purpose]))
    return ss.generate_state(1, np.uint64)[0]


def group_rng(seed: int, population: str, *parts: str | int) -> np.random.Generator:
    """A numpy Generator for one shared object, e.g. a functional group's noise profile.

    A pure function of ``(seed, population, *parts)``.
    """
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence(_entropy(seed, [population, *parts])))
    )


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64 output function, in place on a uint64 array."""
    z ^= z >> _S30
    z *= _M1
    z ^= z >> _S27
    z *= _M2
    z ^= z >> _S31
    return z


def node_keys(seed: int, population: str, purpose: str, node_ids: np.ndarray) -> np.ndarray:
    """Per-node stream keys (uint64), one per node id."""
    ids = np.asarray(node_ids, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = ids * _GAMMA + population_key(seed, population, purpose)
        return _mix(z)


def words(keys: np.ndarray, counters: np.ndarray) -> np.ndarray:
    """Random 64-bit words: element ``i`` is word ``counters[i]`` of stream ``keys[i]``."""
    with np.errstate(over="ignore"):
        z = (np.asarray(counters, dtype=np.uint64) + np.uint64(1)) * _GAMMA
        z += keys
        return _mix(z)


def uniform(keys: np.ndarray, counters: np.ndarray, *, open_zero: bool = True) -> np.ndarray:
    """Uniform floats from the streams: in (0, 1] if ``open_zero`` else in [0, 1)."""
    w = words(keys, counters)
    w >>= _S11
    u = w.astype(np.float64)
    if open_zero:
        u += 1.0
    u *= _TWO53
    return u
