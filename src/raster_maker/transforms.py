"""Spike-level transforms: jitter (dithering), thinning and a time shift.

Any generator takes ``transforms``: a list applied in order to each node's train, e.g.
``[{"shift_ms": 5.0}, {"keep": 0.8}, {"jitter_ms": 2.0}]`` (a single dict is read as
the list of its items, in their order). Every random decision comes from the node's own
stream (spike ``k`` of a node uses counter ``k``), so transformed spikes stay
reproducible per node whatever the batching, threads or MPI ranks.

- ``jitter_ms`` = ``j``: each spike moves by an independent uniform offset in
  ``[-j, j]`` (Elephant's ``spike_dithering``); a spike moved past a window edge is
  reflected back inside, so counts are preserved and spikes stay in the window. No
  refractory minimum is kept: two spikes of a unit may come closer than before.
- ``keep`` = ``p``: each spike is kept with probability ``p`` (independent thinning:
  a Poisson train stays Poisson at ``p`` times the rate; pairwise count covariances
  scale by ``p**2``).
- ``shift_ms`` = ``s``: every spike moves by ``s`` ms; spikes shifted out of the window
  are dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._check import check_number
from .processes import node_time_order
from .streams import uniform

__all__ = ["Transform", "Jitter", "Thin", "Shift", "parse_transforms", "TRANSFORM_KINDS"]


def _within(pos: np.ndarray) -> np.ndarray:
    """Index of each spike within its node's train (``pos`` non-decreasing)."""
    n = pos.size
    if n == 0:
        return np.zeros(0, np.uint64)
    start = np.ones(n, dtype=bool)
    start[1:] = pos[1:] != pos[:-1]
    first = np.flatnonzero(start)
    run = np.cumsum(start) - 1
    return (np.arange(n) - first[run]).astype(np.uint64)


@dataclass(frozen=True)
class Transform:
    """Base class of spike transforms.

    A transform implements ``apply(pos, times, keys, tstart_ms, tstop_ms) -> (pos,
    times)``: ``pos`` (int64, non-decreasing) and ``times`` (ms, sorted per node) are a
    plan's spikes, ``keys`` the stream key of each spike's node (uint64, one per spike)
    and the result the transformed spikes in the same order. ``expected_counts(counts)``
    maps expected spike counts per node through the transform and ``params()`` returns
    its JSON-able parameters; ``kind`` names its streams.
    """

    kind = ""

    def apply(self, pos, times, keys, tstart_ms, tstop_ms):  # pragma: no cover - abstract
        raise NotImplementedError

    def expected_counts(self, counts: np.ndarray) -> np.ndarray:
        return counts

    def params(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True)
class Jitter(Transform):
    """Move each spike by a uniform offset in ``[-jitter_ms, jitter_ms]`` (reflected).

    A spike moved past an edge of the window is reflected back inside it, so counts are
    preserved; no refractory minimum is kept.

    Parameters
    ----------
    jitter_ms : float
        Half-width of the uniform offset (ms), > 0 and shorter than the window.

    Raises
    ------
    TypeError
        If ``jitter_ms`` is not a real number.
    ValueError
        If ``jitter_ms`` is not finite and > 0 (at construction) or is not shorter than
        the window (when applied).
    """

    jitter_ms: float
    kind = "jitter"

    def __post_init__(self) -> None:
        check_number("jitter_ms", self.jitter_ms, min_value=0.0, strict_min=True, units="ms")

    def apply(self, pos, times, keys, tstart_ms, tstop_ms):
        if tstop_ms - tstart_ms <= self.jitter_ms:
            raise ValueError(
                f"Invalid value for 'jitter_ms': {self.jitter_ms} ms. Allowed: shorter than "
                f"the window ({tstop_ms - tstart_ms} ms)."
            )
        u = uniform(keys, _within(pos), open_zero=False)
        t = times + (2.0 * u - 1.0) * self.jitter_ms
        low, high = t <= tstart_ms, t >= tstop_ms
        t[low] = 2.0 * tstart_ms - t[low]
        t[high] = 2.0 * tstop_ms - t[high]
        # reflection can land exactly on an edge only through rounding: nudge inside
        np.clip(t, np.nextafter(tstart_ms, np.inf), np.nextafter(tstop_ms, -np.inf), out=t)
        order = node_time_order(pos, t)
        return pos[order], t[order]

    def params(self):
        return {"jitter_ms": self.jitter_ms}


@dataclass(frozen=True)
class Thin(Transform):
    """Keep each spike with probability ``keep`` (independent thinning).

    Parameters
    ----------
    keep : float
        Probability of keeping a spike, in [0, 1].

    Raises
    ------
    TypeError
        If ``keep`` is not a real number.
    ValueError
        If ``keep`` is not in [0, 1].
    """

    keep: float
    kind = "keep"

    def __post_init__(self) -> None:
        check_number("keep", self.keep, min_value=0.0, max_value=1.0)

    def apply(self, pos, times, keys, tstart_ms, tstop_ms):
        kept = uniform(keys, _within(pos), open_zero=False) < self.keep
        return pos[kept], times[kept]

    def expected_counts(self, counts):
        return counts * self.keep

    def params(self):
        return {"keep": self.keep}


@dataclass(frozen=True)
class Shift(Transform):
    """Move every spike by ``shift_ms``; spikes leaving the window are dropped.

    Parameters
    ----------
    shift_ms : float
        The shift (ms), negative for earlier.

    Raises
    ------
    TypeError
        If ``shift_ms`` is not a real number.
    ValueError
        If ``shift_ms`` is not finite.
    """

    shift_ms: float
    kind = "shift"

    def __post_init__(self) -> None:
        check_number("shift_ms", self.shift_ms, units="ms")

    def apply(self, pos, times, keys, tstart_ms, tstop_ms):
        t = times + self.shift_ms
        inside = (t > tstart_ms) & (t < tstop_ms)
        return pos[inside], t[inside]

    def params(self):
        return {"shift_ms": self.shift_ms}


#: The key of each transform in a ``transforms`` list -> its class.
TRANSFORM_KINDS = {"jitter_ms": Jitter, "keep": Thin, "shift_ms": Shift}


def parse_transforms(spec: Any) -> list[Transform]:
    """Transforms from a list of one-key dicts (or one dict, read in order), or None.

    Parameters
    ----------
    spec : list of dict, dict, Transform or None
        ``[{"jitter_ms": j}, {"keep": p}, {"shift_ms": s}]`` in the order to apply (each
        dict with one key of ``jitter_ms``, ``keep``, ``shift_ms``; items may also be
        :class:`Transform` objects); one dict is read as the list of its items in their
        order; None for no transform.

    Returns
    -------
    list of Transform
        The transforms in order (empty for None).

    Raises
    ------
    TypeError
        If ``spec`` is neither a list, a dict, a transform nor None, or a value is not
        a real number.
    ValueError
        For an unknown key (the message lists the allowed ones) or a bad value.

    Examples
    --------
    >>> from raster_maker.transforms import parse_transforms
    >>> parse_transforms({"shift_ms": 5.0, "keep": 0.5})
    [Shift(shift_ms=5.0), Thin(keep=0.5)]
    """
    if spec is None:
        return []
    if isinstance(spec, Transform):
        return [spec]
    if isinstance(spec, dict):
        spec = [{k: v} for k, v in spec.items()]
    if not isinstance(spec, Sequence) or isinstance(spec, str):
        raise TypeError(
            f"Invalid 'transforms': {spec!r}. Allowed: a list of dicts such as "
            '[{"jitter_ms": 2.0}, {"keep": 0.5}, {"shift_ms": 5.0}].'
        )
    out: list[Transform] = []
    for item in spec:
        if isinstance(item, Transform):
            out.append(item)
            continue
        if not isinstance(item, dict) or len(item) != 1:
            raise ValueError(
                f"Invalid transform {item!r}. Allowed: a dict with one key of "
                f"{', '.join(TRANSFORM_KINDS)}."
            )
        ((key, value),) = item.items()
        if key not in TRANSFORM_KINDS:
            raise ValueError(f"Invalid transform {key!r}. Allowed: {', '.join(TRANSFORM_KINDS)}.")
        out.append(TRANSFORM_KINDS[key](value))
    return out
