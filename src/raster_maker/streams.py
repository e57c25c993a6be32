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
    """A 64-bit id of a string that is the same in every process and on every machine.

    Unlike Python's ``hash`` (salted per process), the id is the BLAKE2b digest (8 bytes,
    little-endian) of the UTF-8 text, so it can feed a seed sequence reproducibly.

    Parameters
    ----------
    text : str
        Any string (a population name, a stream purpose).

    Returns
    -------
    int
        An integer in ``[0, 2**64)``.

    Examples
    --------
    >>> from raster_maker.streams import stable_id
    >>> stable_id("exc") == stable_id("exc")
    True
    >>> 0 <= stable_id("exc") < 2**64
    True
    """
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def new_seed() -> int:
    """Draw a fresh seed from the operating system (recorded in output files).

    Returns
    -------
    int
        A random integer in ``[0, 2**63)`` from the ``secrets`` module.
    """
    return secrets.randbits(63)


def normalize_seed(seed: int | None) -> int:
    """Return ``seed`` as a non-negative int, drawing a new one when it is None.

    Parameters
    ----------
    seed : int or None
        A non-negative integer (Python or numpy), or None for a fresh seed
        (:func:`new_seed`).

    Returns
    -------
    int
        The seed as a Python int.

    Raises
    ------
    TypeError
        If ``seed`` is not an integer (a bool is not one) nor None.
    ValueError
        If ``seed`` is negative.

    Examples
    --------
    >>> import numpy as np
    >>> from raster_maker.streams import normalize_seed
    >>> normalize_seed(np.int64(7))
    7
    """
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
    """64-bit key of one (seed, population, purpose) stream family.

    Parameters
    ----------
    seed : int
        Root seed (non-negative).
    population : str
        Population name.
    purpose : str
        What the streams draw (e.g. ``"poisson:spikes"``).

    Returns
    -------
    numpy.uint64
        The first 64-bit word of a :class:`numpy.random.SeedSequence` fed with the seed
        and the :func:`stable_id` of the population and purpose.
    """
    ss = np.random.SeedSequence(_entropy(seed, [population, purpose]))
    return ss.generate_state(1, np.uint64)[0]


def group_rng(seed: int, population: str, *parts: str | int) -> np.random.Generator:
    """A numpy Generator for one shared object, e.g. a functional group's noise profile.

    A pure function of ``(seed, population, *parts)``, so every process and MPI rank
    gets the same draws.

    Parameters
    ----------
    seed : int
        Root seed (non-negative).
    population : str
        Population name.
    *parts : str or int
        What the generator is for (e.g. ``"profile", "group", "3"``); strings enter
        through :func:`stable_id`, integers as they are.

    Returns
    -------
    numpy.random.Generator
        A PCG64 generator seeded by a :class:`numpy.random.SeedSequence` of
        ``(seed, population, *parts)``.

    Examples
    --------
    >>> from raster_maker.streams import group_rng
    >>> a = group_rng(1, "exc", "profile", 0).random(3)
    >>> b = group_rng(1, "exc", "profile", 0).random(3)
    >>> bool((a == b).all())
    True
    """
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence(_entropy(seed, [population, *parts])))
    )


def _mix(z: np.ndarray, tmp: np.ndarray | None = None) -> np.ndarray:
    """SplitMix64 output function, in place on a uint64 array (``tmp``: scratch of its
    shape, overwritten; default a new one)."""
    if tmp is None:
        tmp = np.empty_like(z)
    np.right_shift(z, _S30, out=tmp)
    z ^= tmp
    z *= _M1
    np.right_shift(z, _S27, out=tmp)
    z ^= tmp
    z *= _M2
    np.right_shift(z, _S31, out=tmp)
    z ^= tmp
    return z


def node_keys(seed: int, population: str, purpose: str, node_ids: np.ndarray) -> np.ndarray:
    """Per-node stream keys (uint64), one per node id.

    Each key is the node id mixed (SplitMix64) with :func:`population_key`, so a node's
    stream does not depend on the other nodes it is drawn with.

    Parameters
    ----------
    seed : int
        Root seed (non-negative).
    population : str
        Population name.
    purpose : str
        What the streams draw (e.g. ``"poisson:spikes"``).
    node_ids : array_like of int
        Node ids (non-negative).

    Returns
    -------
    ndarray of uint64
        One key per node id, in the order given; pass them to :func:`words` or
        :func:`uniform`.

    Examples
    --------
    >>> import numpy as np
    >>> from raster_maker.streams import node_keys
    >>> k = node_keys(1, "exc", "poisson:spikes", np.array([3, 17]))
    >>> bool(k[1] == node_keys(1, "exc", "poisson:spikes", np.array([17]))[0])
    True
    """
    ids = np.asarray(node_ids, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = ids * _GAMMA + population_key(seed, population, purpose)
        return _mix(z)


def words(keys: np.ndarray, counters: np.ndarray) -> np.ndarray:
    """Random 64-bit words: element ``i`` is word ``counters[i]`` of stream ``keys[i]``.

    Parameters
    ----------
    keys : ndarray of uint64
        Stream keys (from :func:`node_keys`).
    counters : array_like of int
        Position of each word in its stream (non-negative), broadcast against ``keys``.

    Returns
    -------
    ndarray of uint64
        The words, shaped as ``keys`` and ``counters`` broadcast together.
    """
    with np.errstate(over="ignore"):
        z = (np.asarray(counters, dtype=np.uint64) + np.uint64(1)) * _GAMMA
        z += keys
        return _mix(z)


def uniform(keys: np.ndarray, counters: np.ndarray, *, open_zero: bool = True) -> np.ndarray:
    """Uniform floats from the streams: in (0, 1] if ``open_zero`` else in [0, 1).

    Parameters
    ----------
    keys : ndarray of uint64
        Stream keys (from :func:`node_keys`).
    counters : array_like of int
        Position of each number in its stream (non-negative), broadcast against ``keys``.
    open_zero : bool, optional
        If True (default) the values are in (0, 1], safe for ``log``; else in [0, 1).

    Returns
    -------
    ndarray of float64
        The top 53 bits of :func:`words` as multiples of ``2**-53``.

    Examples
    --------
    >>> import numpy as np
    >>> from raster_maker.streams import node_keys, uniform
    >>> keys = node_keys(1, "exc", "demo", np.array([0, 1]))
    >>> u = uniform(np.repeat(keys, 3), np.tile(np.arange(3), 2))
    >>> u.shape, bool(((u > 0) & (u <= 1)).all())
    ((6,), True)
    """
    w = words(keys, counters)
    w >>= _S11
    u = w.astype(np.float64)
    if open_zero:
        u += 1.0
    u *= _TWO53
    return u


def uniform_inplace(counters: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """:func:`uniform` (in (0, 1]) computed in the memory of its two arguments.

    For hot loops: no array of their size is allocated. Both arrays are overwritten.

    Parameters
    ----------
    counters : ndarray of uint64
        Position of each number in its stream; holds scratch values on return.
    keys : ndarray of uint64
        Stream key of each number, shaped as ``counters``.

    Returns
    -------
    ndarray of float64
        The same values as ``uniform(keys, counters)``, as a view of ``keys``' memory.
    """
    z = counters
    with np.errstate(over="ignore"):
        z += np.uint64(1)
        z *= _GAMMA
        z += keys
    return _uniform_of_states(z, keys)


def uniform_runs_inplace(
    keys: np.ndarray, counts: np.ndarray, first: int, states: np.ndarray, tmp: np.ndarray
) -> np.ndarray:
    """``uniform(np.repeat(keys, counts), counters)`` for counters that run ``first,
    first + 1, ...`` in each row, computed in the memory of ``states`` and ``tmp``.

    For hot loops: the per-value keys and counters are never made. Within a row the
    generator's state grows by a constant step, so one cumulative sum (exact, modulo
    2**64 as the state is) lays out every row's states from the rows' first ones.

    Parameters
    ----------
    keys : ndarray of uint64
        One stream key per row.
    counts : ndarray of int
        Values per row (>= 0).
    first : int
        Counter of each row's first value (>= 0).
    states, tmp : ndarray of uint64
        Work arrays of ``counts.sum()`` elements, overwritten.

    Returns
    -------
    ndarray of float64
        The same values as :func:`uniform`, row after row, as a view of ``tmp``.
    """
    states.fill(_GAMMA)
    full = counts > 0
    if full.any():
        starts = (np.cumsum(counts) - counts)[full]
        with np.errstate(over="ignore"):
            head = keys[full] + np.uint64(first + 1) * _GAMMA  # each row's first state
            last = head + (counts[full].astype(np.uint64) - np.uint64(1)) * _GAMMA
            head[1:] -= last[:-1]  # the step from the previous row's last state
        states[starts] = head
        np.cumsum(states, out=states)
    return _uniform_of_states(states, tmp)


def _uniform_of_states(z: np.ndarray, tmp: np.ndarray) -> np.ndarray:
    """The uniforms in (0, 1] of generator states ``z`` (mixed in place), as a float
    view of ``tmp`` (scratch of their shape)."""
    with np.errstate(over="ignore"):
        _mix(z, tmp)
    z >>= _S11
    z += np.uint64(1)  # below 2**53 + 1: exact in float64, as uniform's float(w) + 1.0
    u = tmp.view(np.float64)
    np.multiply(z, _TWO53, out=u)
    return u
