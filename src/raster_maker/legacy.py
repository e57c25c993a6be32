"""The original ``raster_maker`` API, reproduced number for number, made fast and safe.

Build scripts written for the original module (``L5NeuronSimulation.raster_maker``) run
unchanged: given the same ``np.random.seed`` they draw the very same noise traces and the
very same spikes, because these functions consume numpy's *global* legacy generator
(``np.random.normal``, ``np.random.poisson``) value for value as the original did. This is
the one place in raster_maker that uses global random state; new code should use the
``rng``-taking API instead.

What differs from the original (all listed in ``docs/legacy.md``):

- ``shift_exc_noise`` honours ``time_shift`` (the original always shifted by 4 bins) and
  offers a true circular shift with ``circular=True``; the default reproduces the
  original's shift exactly, quirk included (see its docstring).
- ``SonataWriter`` refuses an existing file unless ``overwrite=True``, writes under a
  temporary name and moves the file into place on ``close()`` (a crash leaves nothing
  half-written), buffers appends, and adds the SONATA attributes to a spikes layout. A
  writer never closed is still written when it is garbage-collected or at exit, with a
  warning, unless an exception is in flight then (see :class:`SonataWriter`).
- ``make_save_spikes`` accepts what the original accepted: ``dist`` of shape ``(n,)`` or
  ``(n, 1)``, ``rateProf`` as an array or a list of rows, h5py datasets.
- Bad inputs raise ``TypeError`` / ``ValueError`` naming the parameter, the value and what
  is allowed, before anything is drawn or written (the original fell into ``pdb``, or
  produced NaN with a RuntimeWarning).
- ``make_save_spikes`` no longer clips the caller's ``rateProf`` in place.
"""

# ruff: noqa: NPY002 - the legacy API reproduces the original's use of numpy's global generator
from __future__ import annotations

import contextlib
import logging
import numbers
import os
import reprlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import scipy.signal as ss

from . import sonata
from ._atomic import (
    AtomicWriterMixin,
    UnclosedWriterWarning,
    check_destination,
    commit_temporary,
    temporary_name,
)
from ._check import check_int, check_number

__all__ = [
    "SonataWriter",
    "UnclosedWriterWarning",
    "make_noise",
    "make_save_spikes",
    "minmax",
    "shift_exc_noise",
    "zscore",
]

logger = logging.getLogger("raster_maker")

# 1/f ("pink") noise filter of the original make_noise.
_NOISE_B = (0.049922035, -0.095993537, 0.050612699, -0.004408786)
_NOISE_A = (1, -2.494956002, 2.017265875, -0.522189400)
_NOISE_WARMUP = 2000  # samples drawn and filtered, then dropped (filter transient)
_CHUNK_VALUES = 1 << 22  # values per vectorised block in make_noise / make_save_spikes
_DEFAULT_BUFFER = 1 << 20  # values per dataset held in memory before a flush
_H5_CHUNK = 1 << 12  # HDF5 chunk length: small files stay small, big blocks stay fast
# numpy's legacy poisson refuses lam above this (RandomState.poisson "lam value too large")
_MAX_LAM = float(np.iinfo(np.int64).max - np.sqrt(np.iinfo(np.int64).max) * 10)


# -- error messages and normalisations --------------------------------------------------
_SHORT = reprlib.Repr()
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxdict = _SHORT.maxset = 4
_SHORT.maxstring = _SHORT.maxother = 60


def _describe(x: Any, n_values: int = 4) -> str:
    """``x`` for an error message: its shape and first few values, never a whole array."""
    if isinstance(x, (str, bytes)) or x is None:
        return _SHORT.repr(x)
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError):  # ragged nested lists and the like
        return _SHORT.repr(x)
    if arr.ndim == 0:
        return _SHORT.repr(x)
    head = ", ".join(_SHORT.repr(v) for v in arr.reshape(-1)[:n_values].tolist())
    more = ", ..." if arr.size > n_values else ""
    return f"shape {arr.shape} [{head}{more}]"


def _as_array(name: str, x: Any, allowed: str) -> np.ndarray:
    try:
        return np.asarray(x)
    except (ValueError, TypeError):  # e.g. rows of different lengths
        raise ValueError(
            f"Invalid value for '{name}': {_describe(x)}. Allowed: {allowed}."
        ) from None


def _scalar(name: str, value: Any) -> Any:
    """Refuse an array where one number is expected (the type checks come after)."""
    if isinstance(value, (list, tuple)) or getattr(value, "shape", ()):
        raise TypeError(f"'{name}' must be a single number, got {_describe(value)}.")
    return value


def _int(name: str, value: Any, **kw: Any) -> int:
    return check_int(name, _scalar(name, value), **kw)


def _number(name: str, value: Any, **kw: Any) -> float:
    return check_number(name, _scalar(name, value), **kw)


def _finite_array(name: str, x: Any) -> np.ndarray:
    arr = _as_array(name, x, "an array of numbers")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"'{name}' must be numeric, got dtype {arr.dtype}.")
    if arr.size == 0:
        raise ValueError(
            f"Invalid value for '{name}': an empty array. Allowed: at least one value."
        )
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        bad = arr.reshape(-1)[np.flatnonzero(~np.isfinite(arr.reshape(-1)))[0]]
        raise ValueError(f"Invalid value in '{name}': {bad}. Allowed: finite values.")
    return arr


def minmax(x: Any) -> np.ndarray:
    """Min-max normalise an array to [0, 1] (over all its values).

    Parameters
    ----------
    x : array_like
        Finite numbers, not all equal.

    Returns
    -------
    numpy.ndarray
        ``(x - min(x)) / (max(x) - min(x))``.

    Raises
    ------
    ValueError
        If ``x`` is empty, holds NaN or inf, or is constant (the original returned NaN
        with a RuntimeWarning).

    Examples
    --------
    >>> minmax([1.0, 2.0, 3.0])
    array([0. , 0.5, 1. ])
    """
    arr = _finite_array("x", x)
    lo, hi = np.min(arr), np.max(arr)
    if lo == hi:
        raise ValueError(
            f"Invalid value for 'x': all values equal {lo}. Allowed: values that are not all equal "
            "(min-max normalisation of a constant is undefined)."
        )
    return (arr - lo) / (hi - lo)


def zscore(x: Any) -> np.ndarray:
    """Z-score an array: subtract its mean, divide by its population sd (``ddof=0``).

    Parameters
    ----------
    x : array_like
        Finite numbers, not all equal.

    Returns
    -------
    numpy.ndarray
        ``(x - mean(x)) / std(x)``.

    Raises
    ------
    ValueError
        If ``x`` is empty, holds NaN or inf, or has zero standard deviation.

    Examples
    --------
    >>> zscore([1.0, 3.0])
    array([-1.,  1.])
    """
    arr = _finite_array("x", x)
    sd = np.std(arr)
    if sd == 0:
        raise ValueError(
            "Invalid value for 'x': its standard deviation is 0. Allowed: values that are not "
            "all equal."
        )
    return (arr - np.mean(arr)) / sd


# -- rate profiles --------------------------------------------------------------------
def make_noise(num_traces: int = 100, num_samples: int = 4999) -> np.ndarray:
    """Make 1/f noise traces (rate profiles), exactly as the original did.

    For each trace, ``num_samples + 2000`` values are drawn from numpy's *global* legacy
    generator (``np.random.normal(1, 0.5, num_samples + 2000)``, trace after trace),
    filtered with the original's 1/f IIR filter (``scipy.signal.lfilter``), the first
    2000 samples (filter transient) are dropped, and each trace is min-max normalised
    and shifted by +0.5, so every value lies in [0.5, 1.5].

    Parameters
    ----------
    num_traces : int, default 100
        Number of traces (rows), >= 0.
    num_samples : int, default 4999
        Samples per trace (columns; one per ms when used as a rate profile), >= 2.

    Returns
    -------
    numpy.ndarray
        Shape ``(num_traces, num_samples)``, float64.

    Raises
    ------
    TypeError
        If an argument is not an integer.
    ValueError
        If ``num_traces < 0`` or ``num_samples < 2``.

    Examples
    --------
    >>> np.random.seed(0)
    >>> make_noise(2, 1000).shape
    (2, 1000)
    """
    num_traces = _int("num_traces", num_traces, min_value=0)
    num_samples = _int("num_samples", num_samples, min_value=2)
    width = num_samples + _NOISE_WARMUP
    out = np.empty((num_traces, num_samples))
    per_block = max(1, _CHUNK_VALUES // width)
    for start in range(0, num_traces, per_block):
        stop = min(start + per_block, num_traces)
        # legacy normal draws are a single stream, so one (rows, width) draw equals
        # the original's row-by-row draws value for value
        wn = np.random.normal(loc=1, scale=0.5, size=(stop - start, width))
        filtered = ss.lfilter(_NOISE_B, _NOISE_A, wn, axis=1)[:, _NOISE_WARMUP:]
        lo = filtered.min(axis=1, keepdims=True)
        hi = filtered.max(axis=1, keepdims=True)
        out[start:stop] = (filtered - lo) / (hi - lo) + 0.5
    return out


def shift_exc_noise(
    ts: Any, nid: Any, seconds: float, time_shift: int = 4, *, circular: bool = False
) -> np.ndarray:
    """Rate profile of a spike raster: population rate per ms, shifted, min-max + 0.5.

    The spikes ``ts`` (ms) are counted in 1 ms bins with edges
    ``np.arange(0, seconds * 1000, 1)`` (so ``seconds * 1000 - 1`` bins, the last one
    closed, as in the original), divided by ``0.001 * (max(nid) + 1)`` (population rate in
    Hz), shifted later in time by ``time_shift`` bins, then min-max normalised and
    shifted by +0.5.

    With ``circular=False`` (default) the shift reproduces the original exactly: bins
    ``time_shift:`` hold the profile delayed by ``time_shift`` bins, but the first
    ``time_shift`` bins hold bins ``[n - 2*time_shift, n - time_shift)`` of the unshifted
    profile (the original copied them through a view it had already overwritten), not
    its last ``time_shift`` bins. With ``circular=True`` the shift is a true rotation,
    ``np.roll(profile, time_shift)``. The original also ignored ``time_shift`` and always
    shifted by 4; it is honoured here.

    Parameters
    ----------
    ts : array_like of float
        Spike times in ms, finite: an array, a list or an h5py dataset (as read from a
        spikes file, e.g. ``h5["spikes/exc_stim/timestamps"]``).
    nid : array_like of int
        Node id of each spike (array, list or h5py dataset); ``max(nid) + 1`` is taken as
        the population size.
    seconds : float
        Length of the raster in s; ``seconds * 1000 >= 2``.
    time_shift : int, default 4
        Delay in bins (ms). With ``circular=False``: ``0 <= time_shift <= n_bins // 2``;
        with ``circular=True``: any integer (negative shifts earlier).
    circular : bool, default False
        True rotation instead of the original's shift.

    Returns
    -------
    numpy.ndarray
        Float64, ``n_bins`` values in [0.5, 1.5].

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If ``nid`` is empty or negative, ``ts`` is not finite, ``seconds`` is too short,
        ``time_shift`` is out of range, or the profile is constant (e.g. no spikes).

    Examples
    --------
    >>> prof = shift_exc_noise([0.5, 1.5, 1.7, 7.0], [0, 1, 1, 0], seconds=0.01)
    >>> prof.shape
    (9,)
    """
    ts = _as_array("ts", ts, "a 1-D array of spike times in ms")
    if ts.ndim != 1 or (ts.size and ts.dtype.kind not in "iuf"):
        raise TypeError(
            f"'ts' must be a 1-D array of spike times in ms, got {ts.dtype} {ts.shape}."
        )
    if ts.size and not np.all(np.isfinite(ts)):
        raise ValueError(f"Invalid value in 'ts': {ts[~np.isfinite(ts)][0]}. Allowed: finite ms.")
    nid = _finite_array("nid", nid)
    if np.min(nid) < 0:
        raise ValueError(f"Invalid value in 'nid': {np.min(nid)}. Allowed: node ids >= 0.")
    seconds = _number("seconds", seconds, min_value=0.002, units="s")
    if not isinstance(circular, (bool, np.bool_)):
        raise TypeError(f"'circular' must be a bool, got {type(circular).__name__} {circular!r}.")
    counts, _ = np.histogram(ts, bins=np.arange(0, seconds * 1000, 1))
    profile = counts / (0.001 * (np.max(nid) + 1))
    n = profile.size
    if circular:
        k = _int("time_shift", time_shift)
        profile = np.roll(profile, k)
    else:
        k = _int("time_shift", time_shift, min_value=0)
        if k > n // 2:
            raise ValueError(
                f"Invalid value for 'time_shift': {k}. Allowed: 0 <= time_shift <= {n // 2} "
                f"(half the {n} bins) with circular=False; pass circular=True for any shift."
            )
        if k:
            shifted = np.empty_like(profile)
            shifted[k:] = profile[: n - k]
            shifted[:k] = profile[n - 2 * k : n - k]  # the original's aliased wrap-around
            profile = shifted
    if np.min(profile) == np.max(profile):
        raise ValueError(
            f"The rate profile of the {ts.size} spikes over {n} bins is constant "
            f"({profile[0]} Hz), so it cannot be min-max normalised. Allowed: spikes whose "
            "1 ms histogram is not flat."
        )
    return minmax(profile) + 0.5


# -- spikes ---------------------------------------------------------------------------
def _check_bool(name: str, value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)) or (
        isinstance(value, numbers.Integral) and value in (0, 1)
    ):
        return bool(value)
    raise TypeError(f"'{name}' must be a bool, got {type(value).__name__} {_describe(value)}.")


_DIST_ALLOWED = "one firing rate (or log rate if exp) per unit, shape (numUnits,) or (numUnits, 1)"


def _unit_factors(exp: bool, dist: Any, num_units: int) -> np.ndarray:
    """Per-unit rate multipliers (``exp(dist[i])`` or ``dist[i]``), validated.

    The original multiplied unit ``i``'s profile by ``dist[i]``, so any ``dist`` whose
    per-unit element holds one value works: shape ``(n,)``, ``(n, 1)``, ``(n, 1, 1)``...
    """
    if dist is None:
        raise ValueError(f"Invalid value for 'dist': None. Allowed: {_DIST_ALLOWED}.")
    arr = _as_array("dist", dist, _DIST_ALLOWED)
    if arr.ndim == 0 or any(n != 1 for n in arr.shape[1:]):
        raise ValueError(f"Invalid shape for 'dist': {_describe(dist)}. Allowed: {_DIST_ALLOWED}.")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"'dist' must be numeric, got dtype {arr.dtype}: {_describe(arr)}.")
    if arr.shape[0] < num_units:
        raise ValueError(
            f"Invalid value for 'dist': {arr.shape[0]} values for numUnits={num_units} "
            f"({_describe(arr)}). Allowed: at least numUnits values."
        )
    vals = arr.reshape(arr.shape[0])[:num_units]
    bad = ~np.isfinite(vals)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"Invalid value in 'dist': {vals[i]} (unit {i}). Allowed: finite values.")
    if exp:
        with np.errstate(over="ignore"):
            factors = np.exp(vals)
        bad = ~np.isfinite(factors)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"Invalid value in 'dist': {vals[i]} (unit {i}) overflows np.exp. "
                "Allowed: log rates below about 709."
            )
        return factors
    if (vals < 0).any():
        i = int(np.flatnonzero(vals < 0)[0])
        raise ValueError(
            f"Invalid value in 'dist': {vals[i]} (unit {i}) with exp=False. "
            "Allowed: firing-rate multipliers >= 0."
        )
    return vals


def _check_rate_profile(rate_prof: Any, num_units: int, factors: np.ndarray) -> np.ndarray:
    if rate_prof is None:
        raise ValueError(
            "'rateProf' is required: a 2-D array (units x 1 ms bins) with at least numUnits "
            "rows, e.g. make_noise(...) or np.tile(profile, (numUnits, 1)). Got None."
        )
    allowed = "a 2-D array or list of rows (units x 1 ms bins) with at least numUnits rows"
    arr = _as_array("rateProf", rate_prof, allowed)
    if arr.ndim != 2 or arr.shape[0] < num_units:
        raise ValueError(
            f"Invalid shape for 'rateProf': {_describe(arr)} with numUnits={num_units}. "
            f"Allowed: {allowed}."
        )
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"'rateProf' must be numeric, got dtype {arr.dtype}: {_describe(arr)}.")
    rows = max(1, _CHUNK_VALUES // max(arr.shape[1], 1))
    for start in range(0, num_units, rows):  # validate everything before drawing anything
        stop = min(start + rows, num_units)
        block = np.asarray(arr[start:stop], dtype=np.float64)
        bad = ~np.isfinite(block)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise ValueError(
                f"Invalid value in 'rateProf': {block[i, j]} (unit {start + i}, bin {j}). "
                "Allowed: finite rates (negative ones count as 0)."
            )
        if block.shape[1]:
            with np.errstate(over="ignore"):
                top = np.maximum(block.max(axis=1), 0) * factors[start:stop]
            if not np.all(top / 1000 <= _MAX_LAM):
                i = int(np.flatnonzero(~(top / 1000 <= _MAX_LAM))[0])
                raise ValueError(
                    f"Invalid rate for unit {start + i}: {top[i]} Hz (rateProf x dist). "
                    "Allowed: finite rates numpy's Poisson generator accepts."
                )
    return arr


def make_save_spikes(
    writer: Any,
    exp: bool,
    dist: Any,
    numUnits: int = 100,  # noqa: N803 - the original's name
    rateProf: Any = None,  # noqa: N803
    start_id: int = 0,
    start_time: float = 0,
) -> None:
    """Draw binned Poisson spikes for ``numUnits`` units and append them to ``writer``.

    Unit ``i`` fires with rate ``rateProf[i] * exp(dist[i])`` Hz (``* dist[i]`` if not
    ``exp``), negative rates counting as 0. One Poisson count with mean ``rate / 1000`` is
    drawn per 1 ms bin from numpy's *global* legacy generator, unit after unit, bin after
    bin, so after the same ``np.random.seed`` the draws are those of the original's
    ``scipy.stats.poisson(rate / 1000).rvs()`` per unit. A unit spikes at every bin index
    whose count is above zero (several counts in a bin make one spike), plus
    ``start_time``; its node id is ``i + start_id``. Node ids go to the ``"node_ids"``
    dataset and times to ``"timestamps"`` in the original's order (unit after unit, times
    increasing), appended with ``writer.append_ds`` once per block of units rather than
    once per unit.

    Parameters
    ----------
    writer : SonataWriter
        Anything with the original's ``append_ds(vals, ds)`` method.
    exp : bool
        Whether ``dist`` holds log rates (fed to ``np.exp``).
    dist : array_like of float, shape (>= numUnits,) or (>= numUnits, 1)
        Per-unit rate multipliers (or their logs), finite; >= 0 unless ``exp``. One value
        per unit: ``np.ones((n, 1))`` works as in the original.
    numUnits : int, default 100
        Number of units, >= 0.
    rateProf : array_like, shape (>= numUnits, n_bins)
        Rate profile of each unit in Hz, one value per 1 ms bin: an array, a list of
        rows or an h5py dataset. Not modified.
    start_id : int, default 0
        Node id of the first unit, >= 0.
    start_time : float, default 0
        Time in ms added to every spike.

    Raises
    ------
    TypeError
        If ``rateProf`` is missing, ``writer`` has no ``append_ds`` or an argument has the
        wrong type.
    ValueError
        If ``rateProf`` is not 2-D with at least ``numUnits`` rows, ``dist`` is too short,
        ``numUnits < 0``, or the rates or ``dist`` hold NaN or inf. Raised before anything
        is drawn or appended.

    Examples
    --------
    >>> np.random.seed(1)
    >>> with SonataWriter("in.h5", ["spikes", "exc_stim"], ["timestamps", "node_ids"],
    ...                   [float, np.uint64]) as w:  # doctest: +SKIP
    ...     make_save_spikes(w, True, np.random.normal(1, 0.5, 20), numUnits=20,
    ...                      rateProf=np.tile(make_noise(1, 1000), (20, 1)))
    """
    if not callable(getattr(writer, "append_ds", None)):
        raise TypeError(
            f"'writer' must have an append_ds(vals, ds) method (e.g. a SonataWriter), "
            f"got {type(writer).__name__}."
        )
    exp = _check_bool("exp", exp)
    num_units = _int("numUnits", numUnits, min_value=0)
    start_id = _int("start_id", start_id, min_value=0)
    if isinstance(start_time, numbers.Integral) and not isinstance(start_time, bool):
        start_time = int(start_time)  # integer times stay integers, as in the original
    else:
        start_time = _number("start_time", start_time, units="ms")
    factors = _unit_factors(exp, dist, num_units)
    prof = _check_rate_profile(rateProf, num_units, factors)
    rows = max(1, _CHUNK_VALUES // max(prof.shape[1], 1))
    for start in range(0, num_units, rows):
        stop = min(start + rows, num_units)
        r = np.asarray(prof[start:stop], dtype=np.float64)
        r = np.where(r < 0, 0.0, r)  # the original's r[r < 0] = 0, without touching the caller
        # legacy poisson draws element by element in C order: one call on (units, bins)
        # consumes the global stream exactly like one call per unit, unit after unit
        counts = np.random.poisson(r * factors[start:stop, None] / 1000)
        unit, t_bin = np.nonzero(counts > 0)
        writer.append_ds(unit + (start + start_id), "node_ids")
        writer.append_ds(t_bin + start_time, "timestamps")


# -- the writer -----------------------------------------------------------------------
def _check_names(name: str, values: Any, *, allow_empty: bool) -> list[str]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise TypeError(
            f"'{name}' must be a list of names, got {type(values).__name__} {_describe(values)}."
        )
    out = list(values)
    for v in out:
        if not isinstance(v, str) or not v or "/" in v:
            raise ValueError(
                f"Invalid name in '{name}': {v!r}. Allowed: non-empty strings without '/'."
            )
    if not out and not allow_empty:
        raise ValueError(f"Invalid value for '{name}': []. Allowed: at least one name.")
    if len(set(out)) != len(out):
        raise ValueError(
            f"Invalid value for '{name}': {_SHORT.repr(out)} repeats a name. Allowed: unique names."
        )
    return out


def _as_dtype(ds: str, typ: Any) -> np.dtype:
    try:
        dtype = np.dtype(typ)
    except (TypeError, ValueError):
        dtype = None
    if dtype is None or dtype.kind not in "biuf":
        raise TypeError(
            f"Invalid type for dataset '{ds}': {_describe(typ)}. Allowed: a numeric numpy dtype, a "
            "Python type (float, int, bool) or a dtype string ('float64', 'uint64', 'f8')."
        )
    return dtype


def _coerce(ds: str, vals: Any, dtype: np.dtype) -> np.ndarray:
    """Convert appended values to the dataset's dtype, refusing lossy conversions."""
    arr = _as_array(f"values for dataset '{ds}'", vals, "a 1-D list or array of numbers")
    if arr.ndim != 1:
        raise ValueError(
            f"Invalid values for dataset '{ds}': shape {arr.shape}. Allowed: a 1-D list or array "
            "(use append_repeat(ds, val, 1) for a single value)."
        )
    if arr.size == 0:
        return np.empty(0, dtype)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"Invalid values for dataset '{ds}': dtype {arr.dtype}. Allowed: numbers.")
    if dtype.kind in "iu" and arr.dtype.kind in "iuf":
        whole = np.isfinite(arr) & (arr == np.trunc(arr)) if arr.dtype.kind == "f" else None
        if whole is not None and not whole.all():
            raise ValueError(
                f"Invalid value for integer dataset '{ds}' ({dtype}): {arr[~whole][0]}. "
                "Allowed: whole numbers."
            )
        info = np.iinfo(dtype)
        lo, hi = arr.min(), arr.max()
        if lo < info.min or hi > info.max:
            bad = lo if lo < info.min else hi
            raise ValueError(
                f"Invalid value for dataset '{ds}' ({dtype}): {bad}. "
                f"Allowed: {info.min} to {info.max}."
            )
    return arr.astype(dtype, copy=False)


class _Buffered:
    """One growable 1-D dataset with an in-memory buffer and a running order check."""

    def __init__(self, dataset: h5py.Dataset) -> None:
        self.dataset = dataset
        self.parts: list[np.ndarray] = []
        self.n_buffered = 0
        self.order = sonata.Monotone()  # the same running check as the core writer

    def add(self, arr: np.ndarray) -> None:
        if arr.size == 0:
            return
        self.order.update(arr)
        self.parts.append(arr)
        self.n_buffered += arr.size

    def flush(self) -> None:
        if not self.n_buffered:
            return
        data = np.concatenate(self.parts)
        n0 = self.dataset.shape[0]
        self.dataset.resize((n0 + data.size,))
        self.dataset[n0:] = data
        self.parts, self.n_buffered = [], 0

    @property
    def size(self) -> int:
        return self.dataset.shape[0] + self.n_buffered


class SonataWriter(AtomicWriterMixin):
    """Write growable 1-D datasets (e.g. SONATA spikes) to an HDF5 file, safely.

    The original's class with the same constructor, methods and attributes. Appends are
    buffered in memory and written in large blocks (``buffer_size`` values per dataset);
    the file is written under a hidden temporary name next to ``f_name`` and moved there
    by :meth:`close`, so a crash or a kill never leaves a half-written file at ``f_name``
    and never touches a file that was there. When the layout is a SONATA spikes
    population (``groups == ["spikes", <population>]`` with ``"timestamps"`` and
    ``"node_ids"`` datasets), :meth:`close` checks both have the same length and adds the
    SONATA attributes (magic, version, ``units="ms"`` and a truthful ``sorting``), so BMTK
    and libsonata read the file.

    Like the original's, a writer that is never closed still leaves its file behind, as the
    original's scripts expect: when it is garbage-collected (e.g. the function that made it
    returns) or the interpreter exits, it is closed as by :meth:`close` (data written, file
    moved into place atomically), with an ``UnclosedWriterWarning``. Unless an
    exception is in flight then: an exception being raised or handled while the writer is
    collected, or the uncaught exception that ends the script. Then the file is discarded
    and ``f_name`` left as it was, as after an exception inside ``with``, or a kill. An
    exception the program catches and recovers from is no longer in flight once handled: a
    writer let go after that is committed with what was appended before the exception (as
    the original left it). ``sys.exit()`` is an ordinary exit. Call :meth:`abort` to
    discard a writer yourself.

    Parameters
    ----------
    f_name : str or path-like
        Destination file.
    groups : list of str
        Groups nested in the order given, e.g. ``["spikes", "exc_stim"]`` (may be empty).
    datasets : list of str
        Names of the datasets created in the innermost group.
    types : list
        One dtype per dataset: numpy dtypes, Python types (``float``, ``int``) or dtype
        strings (``"float64"``, ``"uint64"``, ``"f8"``).
    overwrite : bool, default False
        Replace an existing ``f_name`` (on close). The original overwrote silently.
    buffer_size : int, default 1048576
        Values per dataset held in memory before they are written.

    Attributes
    ----------
    file : h5py.File
        The open file (under its temporary name until :meth:`close`).
    group : h5py.Group
        The innermost group, where the datasets live.
    datasets : dict of str to h5py.Dataset
        The datasets. Values still in the buffer are not in them until a flush.

    Raises
    ------
    FileExistsError
        If ``f_name`` exists and ``overwrite`` is false.
    FileNotFoundError
        If the folder of ``f_name`` does not exist.
    TypeError, ValueError
        If ``groups``, ``datasets`` or ``types`` are malformed.

    Warns
    -----
    UnclosedWriterWarning
        When the writer is garbage-collected or left open at exit without :meth:`close`;
        the message says whether the file was written or discarded.

    Examples
    --------
    >>> with SonataWriter("in.h5", ["spikes", "exc_stim"], ["timestamps", "node_ids"],
    ...                   [float, np.uint64]) as w:  # doctest: +SKIP
    ...     w.append_repeat("node_ids", 0, 2)
    ...     w.append_ds([1.0, 5.0], "timestamps")
    """

    def __init__(
        self,
        f_name: str | os.PathLike,
        groups: Sequence[str],
        datasets: Sequence[str],
        types: Sequence[Any],
        *,
        overwrite: bool = False,
        buffer_size: int = _DEFAULT_BUFFER,
    ) -> None:
        groups = _check_names("groups", groups, allow_empty=True)
        names = _check_names("datasets", datasets, allow_empty=False)
        if isinstance(types, str) or not isinstance(types, Sequence) or len(types) != len(names):
            raise ValueError(
                f"Invalid value for 'types': {_describe(types)}. Allowed: a list with one type per "
                f"dataset ({len(names)}: {names})."
            )
        dtypes = [_as_dtype(n, t) for n, t in zip(names, types, strict=True)]
        self.buffer_size = _int("buffer_size", buffer_size, min_value=1)
        self.path = check_destination(f_name, overwrite)
        self.overwrite = bool(overwrite)
        self._groups = groups
        self._tmp = temporary_name(self.path)
        self.closed = False
        try:
            self.file = h5py.File(self._tmp, "w")
            self.group: h5py.Group = self.file
            for g in groups:
                self.group = self.group.create_group(g)
            chunk = (min(self.buffer_size, _H5_CHUNK),)
            self.datasets: dict[str, h5py.Dataset] = {
                n: self.group.create_dataset(n, shape=(0,), maxshape=(None,), dtype=d, chunks=chunk)
                for n, d in zip(names, dtypes, strict=True)
            }
        except BaseException:
            self.abort()
            raise
        self._bufs = {n: _Buffered(ds) for n, ds in self.datasets.items()}
        self._commit_when_let_go()  # the original's scripts never close their writers

    def _buffer(self, ds: Any) -> _Buffered:
        if self.closed:
            raise ValueError(f"Cannot append to '{self.path}': the writer is closed.")
        try:
            return self._bufs[ds]
        except (KeyError, TypeError):
            raise KeyError(
                f"No dataset {ds!r} in this writer; it has: {', '.join(self._bufs)}."
            ) from None

    def append_ds(self, vals: Any, ds: str) -> None:
        """Append values to the end of a dataset.

        Parameters
        ----------
        vals : array_like
            1-D values, converted to the dataset's type (lossy conversions are refused).
        ds : str
            Name of the dataset.

        Raises
        ------
        KeyError
            If ``ds`` is not one of the datasets (the message lists them).
        ValueError
            If ``vals`` is not 1-D or does not fit the dataset's type, or the writer is closed.
        """
        buf = self._buffer(ds)
        buf.add(_coerce(ds, vals, buf.dataset.dtype))
        if buf.n_buffered >= self.buffer_size:
            buf.flush()

    def append_repeat(self, ds: str, val: Any, N: int) -> None:  # noqa: N803
        """Append ``N`` copies of ``val`` to the end of a dataset.

        Parameters
        ----------
        ds : str
            Name of the dataset.
        val : scalar
            Value to repeat, converted to the dataset's type.
        N : int
            Number of copies, >= 0.

        Raises
        ------
        KeyError
            If ``ds`` is not one of the datasets.
        ValueError
            If ``N < 0`` or ``val`` does not fit the dataset's type.
        """
        buf = self._buffer(ds)
        n = _int("N", N, min_value=0)
        if np.ndim(val) != 0:
            raise ValueError(
                f"Invalid value for 'val': {_describe(val)}. Allowed: a single number."
            )
        one = _coerce(ds, [val], buf.dataset.dtype)
        while n:
            k = min(n, self.buffer_size)
            self.append_ds(np.full(k, one[0], dtype=one.dtype), ds)
            n -= k

    def flush(self) -> None:
        """Write every buffered value to its dataset (done by itself as buffers fill)."""
        for buf in self._bufs.values():
            buf.flush()

    @property
    def sonata_population(self) -> str | None:
        """The population name if the layout is SONATA spikes, else None."""
        if (
            len(self._groups) == 2
            and self._groups[0] == "spikes"
            and {"timestamps", "node_ids"} <= set(self._bufs)
        ):
            return self._groups[1]
        return None

    def close(self) -> Path:
        """Write what is buffered, add the SONATA attributes, move the file into place.

        Returns
        -------
        pathlib.Path
            The destination.

        Raises
        ------
        ValueError
            If the layout is SONATA spikes and ``node_ids`` and ``timestamps`` differ in
            length; the file is then discarded and ``f_name`` left as it was.
        FileExistsError
            If ``f_name`` appeared meanwhile and ``overwrite`` is false.
        """
        if self.closed:
            return self.path
        try:
            self.flush()
            pop = self.sonata_population
            if pop is not None:
                ids, ts = self._bufs["node_ids"], self._bufs["timestamps"]
                if ids.size != ts.size:
                    raise ValueError(
                        f"Population '{pop}' has {ids.size} node_ids but {ts.size} timestamps. "
                        f"Allowed: one node id per timestamp; '{self.path}' was not written."
                    )
                sorting = sonata.sorting_label(ts.order.ok, ids.order.ok)
                sonata.write_sonata_spike_attrs(self.file, pop, sorting)
            self.file.close()
            commit_temporary(self._tmp, self.path, self.overwrite)
        except BaseException:
            self.abort()
            raise
        self.closed = True
        logger.info("wrote %s", self.path)
        return self.path

    def abort(self) -> None:
        """Discard everything written; ``f_name`` is left as it was."""
        self.closed = True
        with contextlib.suppress(Exception):
            self.file.close()
        with contextlib.suppress(FileNotFoundError):
            self._tmp.unlink()
