"""Rate traces: a rate given at knots and linear in between, as BMTK's inhomogeneous Poisson.

BMTK's ``PoissonSpikeGenerator.add(node_ids, firing_rate=[...], times=[...])`` takes a rate
(Hz) at a list of times (s) and interpolates linearly between them. :class:`RateTrace`
is that trace as a :class:`~raster_maker.profiles.Profile`; evaluated on a window it gives
a :class:`PiecewiseLinearGrid`, whose cumulative integral is piecewise quadratic and is
inverted exactly, so spikes drawn by time rescaling
(:func:`raster_maker.processes.draw_spikes`) follow the linear trace itself, not a binned
version of it.

Before the first knot and after the last the trace holds its end values, as
:func:`numpy.interp` does.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from ._check import check_number, check_window
from .profiles import Profile, _check_edges

__all__ = ["PiecewiseLinearGrid", "RateTrace", "check_trace"]

_PARAMS_MAX_KNOTS = 1000  # params() lists the knots themselves up to this many


def _preview(arr: np.ndarray) -> str:
    """A few values and the shape of an array, for error messages."""
    flat = arr.reshape(-1)
    shown = [f"{x:g}" for x in flat[:3]]
    if flat.size > 5:
        shown += ["..."] + [f"{x:g}" for x in flat[-2:]]
    else:
        shown += [f"{x:g}" for x in flat[3:]]
    return f"[{', '.join(shown)}] (shape {arr.shape})"


def _as_vector(name: str, x: Any) -> np.ndarray:
    """``x`` as a non-empty 1-D float64 array, else TypeError / ValueError naming ``name``."""
    try:
        raw = np.asarray(x)
    except ValueError as err:  # ragged nested sequences
        raise ValueError(
            f"Invalid value for '{name}': {err}. Allowed: a 1-D array of numbers."
        ) from None
    if raw.dtype.kind not in "iuf":
        raise TypeError(
            f"'{name}' must be a 1-D array of real numbers, got {type(x).__name__} of dtype "
            f"{raw.dtype}."
        )
    arr = raw.astype(np.float64)
    if arr.ndim != 1 or arr.size < 1:
        raise ValueError(
            f"Invalid value for '{name}': shape {arr.shape}. Allowed: a 1-D array of at least "
            "1 value."
        )
    return arr


def check_trace(
    times: Any, rates: Any, times_name: str = "times_ms", rates_name: str = "rates"
) -> tuple[np.ndarray, np.ndarray]:
    """Validate a rate trace: finite, strictly increasing times and finite rates >= 0.

    Parameters
    ----------
    times, rates : array-like
        Knot times and the rate at each (1-D, same length, at least 1 point).
    times_name, rates_name : str
        Parameter names used in error messages.

    Returns
    -------
    times, rates : ndarray of float64
        Fresh read-only arrays.

    Raises
    ------
    TypeError
        If either is not numeric.
    ValueError
        If a shape or length is wrong, a time is not finite or not strictly after the one
        before, or a rate is negative or not finite.
    """
    t = _as_vector(times_name, times)
    r = _as_vector(rates_name, rates)
    if t.size != r.size:
        raise ValueError(
            f"'{times_name}' and '{rates_name}' must have the same length, got "
            f"{times_name}={_preview(t)} and {rates_name}={_preview(r)}."
        )
    bad = np.flatnonzero(~np.isfinite(t))
    if bad.size:
        j = int(bad[0])
        raise ValueError(
            f"Invalid value in '{times_name}': {times_name}[{j}]={t[j]} in {_preview(t)}. "
            "Allowed: finite times."
        )
    bad = np.flatnonzero(np.diff(t) <= 0)
    if bad.size:
        j = int(bad[0]) + 1
        raise ValueError(
            f"Invalid value in '{times_name}': not strictly increasing at index {j} "
            f"({times_name}[{j - 1}]={t[j - 1]:g}, {times_name}[{j}]={t[j]:g}) in "
            f"{_preview(t)}. Allowed: strictly increasing times."
        )
    bad = np.flatnonzero(~(np.isfinite(r) & (r >= 0)))
    if bad.size:
        j = int(bad[0])
        raise ValueError(
            f"Invalid value in '{rates_name}': {rates_name}[{j}]={r[j]} ({bad.size} bad of "
            f"{r.size}) in {_preview(r)}. Allowed: finite values >= 0."
        )
    t.flags.writeable = False
    r.flags.writeable = False
    return t, r


class PiecewiseLinearGrid:
    """A profile that is linear between knots, on the window ``[tstart_ms, tstop_ms)``.

    The grid interface of :func:`raster_maker.processes.draw_spikes` (``tstart``,
    ``tstop``, ``total``, ``peak``, ``mean``, ``invert``), with :meth:`integral`,
    :meth:`bin_means` and :attr:`is_constant` as on
    :class:`~raster_maker.profiles.ProfileGrid`. Outside its knots the profile holds the
    end values (as :func:`numpy.interp`).

    Parameters
    ----------
    times_ms : array-like of float
        Knot times (ms), finite and strictly increasing; at least one.
    values : array-like of float
        Profile value at each knot, finite and >= 0.
    tstart_ms, tstop_ms : float
        Window (ms); the knots may lie inside or outside it.

    Raises
    ------
    TypeError, ValueError
        If the knots or the window are invalid (see :func:`check_trace`).

    Examples
    --------
    >>> g = PiecewiseLinearGrid([0.0, 1000.0], [0.0, 10.0], 0.0, 1000.0)
    >>> g.total, g.peak, g.mean
    (5.0, 10.0, 5.0)
    >>> float(g.invert(np.array([1.25]))[0])
    500.0
    """

    def __init__(self, times_ms: Any, values: Any, tstart_ms: float, tstop_ms: float) -> None:
        times, vals = check_trace(times_ms, values, "times_ms", "values")
        tstart, tstop = check_window(tstart_ms, tstop_ms)
        inside = times[(times > tstart) & (times < tstop)]
        t = np.concatenate(([tstart], inside, [tstop]))
        self._set_knots(t, np.interp(t, times, vals))

    def _set_knots(self, t: np.ndarray, z: np.ndarray) -> None:
        """Store checked knots (times non-decreasing; a time repeated once is a step) and
        the per-segment slopes and cumulative integral every other method reads."""
        dt = np.diff(t)
        self._t, self._z = t, z
        # value per ms; a zero-length segment (a step) has no slope and no integral
        self._slope = np.divide(np.diff(z), dt, out=np.zeros(dt.size), where=dt > 0)
        self.cum = np.concatenate(([0.0], np.cumsum(0.5 * (z[:-1] + z[1:]) * dt / 1000.0)))

    def __repr__(self) -> str:
        return (
            f"PiecewiseLinearGrid({self._t.size} knots on [{self.tstart:g}, {self.tstop:g}) ms, "
            f"peak {self.peak:g})"
        )

    @property
    def tstart(self) -> float:
        """Window start (ms)."""
        return float(self._t[0])

    @property
    def tstop(self) -> float:
        """Window end (ms)."""
        return float(self._t[-1])

    @property
    def total(self) -> float:
        """Integral of the profile over the window (s x value)."""
        return float(self.cum[-1])

    @property
    def peak(self) -> float:
        """Largest value in the window (at a knot, as the profile is linear between them)."""
        return float(self._z.max())

    @property
    def mean(self) -> float:
        """Time average of the profile over the window."""
        return self.total * 1000.0 / (self.tstop - self.tstart)

    @property
    def is_constant(self) -> bool:
        """True when the profile has the same value everywhere in the window."""
        return bool(np.all(self._z == self._z[0]))

    def knots(self) -> tuple[np.ndarray, np.ndarray]:
        """Knot times (ms) and values in the window, both window ends included.

        Returns
        -------
        times_ms, values : ndarray of float64
            Copies; the profile is linear between consecutive knots.
        """
        return self._t.copy(), self._z.copy()

    def _segments(self, t: np.ndarray) -> np.ndarray:
        k = np.searchsorted(self._t, t, side="right") - 1
        return np.clip(k, 0, self._t.size - 2)

    def integral(self, t_ms: Any) -> np.ndarray:
        """Cumulative integral (s x value) from ``tstart`` to each time in ``t_ms``.

        Exact (quadratic inside a segment). Times are clipped to the window: before
        ``tstart`` gives 0, after ``tstop`` the total.

        Parameters
        ----------
        t_ms : array-like of float
            Times (ms).

        Returns
        -------
        ndarray of float64
            Same shape as ``t_ms``.
        """
        t = np.clip(np.asarray(t_ms, dtype=np.float64), self._t[0], self._t[-1])
        k = self._segments(t)
        d = t - self._t[k]
        return self.cum[k] + (self._z[k] * d + 0.5 * self._slope[k] * d * d) / 1000.0

    def bin_means(self, edges_ms: Any) -> np.ndarray:
        """Mean value of the profile in each bin ``[edges_ms[j], edges_ms[j+1])``.

        Exact up to rounding: differences of :meth:`integral` over the bin widths.

        Parameters
        ----------
        edges_ms : array-like of float
            Strictly increasing bin edges (ms) within ``[tstart, tstop]``.

        Returns
        -------
        ndarray of float64
            ``len(edges_ms) - 1`` means.

        Raises
        ------
        ValueError
            If the edges are not strictly increasing or leave the window.
        """
        edges = _check_edges("edges_ms", edges_ms, self.tstart, self.tstop)
        return np.diff(self.integral(edges)) * 1000.0 / np.diff(edges)

    def invert(self, v: np.ndarray) -> np.ndarray:
        """Times (ms) at which the cumulative integral reaches ``v`` (``0 < v < total``).

        Exact: in the segment holding ``v`` (a binary search on the integral at the knots)
        it solves ``r0 d + s d^2 / 2 = D`` for the offset ``d`` with the stable root
        ``d = 2 D / (r0 + sqrt(r0^2 + 2 s D))``, which also serves flat (``s = 0``) and
        falling segments and segments starting at zero rate. Segments of zero rate hold
        no integral and are never chosen.

        Parameters
        ----------
        v : array-like of float
            Values of the cumulative integral (s x value), any shape.

        Returns
        -------
        ndarray of float64
            Times (ms) in the window, same shape as ``v``.
        """
        shape = np.shape(v)
        v = np.asarray(v, dtype=np.float64).reshape(-1)
        k = np.searchsorted(self.cum, v, side="right")  # cum[k - 1] <= v < cum[k]
        k -= 1
        np.clip(k, 0, self._t.size - 2, out=k)
        # in place on a few arrays: the spikes of a whole population pass through here
        d = self.cum.take(k)
        np.subtract(v, d, out=d)
        d *= 1000.0  # D: value x ms into segment k
        r0 = self._z.take(k)
        den = self._slope.take(k)
        den *= d
        den *= 2.0
        den += np.square(r0)
        np.maximum(den, 0.0, out=den)
        np.sqrt(den, out=den)
        den += r0  # r0 + sqrt(r0^2 + 2 s D)
        d *= 2.0
        np.divide(d, den, out=d, where=den > 0)
        d[den <= 0] = 0.0  # zero rate and zero slope: nothing to place (only v outside 0..total)
        t = self._t.take(k)
        t += d
        np.minimum(t, self._t[1:].take(k), out=t)  # rounding never leaves the segment
        return np.maximum(t, self._t[0], out=t).reshape(shape)


class RateTrace(Profile):
    """A rate given at knots, linear in between (BMTK's ``firing_rate`` + ``times``).

    As a profile it multiplies a unit's rate scale: with a scale of 1 Hz the unit fires at
    the trace's rates in Hz. :meth:`evaluate` returns the exact
    :class:`PiecewiseLinearGrid` (``dt_ms`` is not used). Composed with other profiles
    (``trace * Sinusoid(...)``, ``trace + 0.5``, ``2 * trace``) it becomes piecewise
    constant on the ``dt_ms`` grid: each bin takes the trace's exact mean over the bin.
    Before the first knot and after the last the trace holds its end values.

    Parameters
    ----------
    times_ms : array-like of float
        Knot times (ms), finite and strictly increasing; at least one.
    rates : array-like of float
        Rate at each knot, finite and >= 0.

    Raises
    ------
    TypeError, ValueError
        If the trace is invalid (see :func:`check_trace`).

    Examples
    --------
    >>> trace = RateTrace([0.0, 500.0, 1000.0], [0.0, 20.0, 0.0])
    >>> grid = trace.evaluate(0.0, 1000.0)
    >>> grid.total  # expected spikes of a unit with scale 1 Hz
    10.0
    >>> RateTrace.from_bmtk([0.0, 20.0, 0.0], times_s=[0.0, 0.5, 1.0]).span_ms
    (0.0, 1000.0)
    """

    def __init__(self, times_ms: Any, rates: Any) -> None:
        self.times_ms, self.rates = check_trace(times_ms, rates, "times_ms", "rates")

    @classmethod
    def from_bmtk(cls, firing_rate: Any, times_s: Any) -> RateTrace:
        """The trace BMTK's ``PoissonSpikeGenerator.add(firing_rate=..., times=...)`` takes.

        Parameters
        ----------
        firing_rate : array-like of float
            Rates (Hz) at the knots.
        times_s : array-like of float
            Knot times in seconds, as BMTK takes them. BMTK draws on
            ``[times_s[0], times_s[-1]]``; :attr:`span_ms` gives that window in ms.

        Returns
        -------
        RateTrace
        """
        t, r = check_trace(times_s, firing_rate, "times_s", "firing_rate")
        return cls(t * 1000.0, r)

    @classmethod
    def from_dict(cls, spec: dict[str, Any]) -> RateTrace:
        """A trace from a config entry.

        Parameters
        ----------
        spec : dict
            ``{"firing_rate": [...], "times_ms": [...]}`` with times in ms, or BMTK's form
            ``{"firing_rate": [...], "times": [...]}`` with times in seconds. An optional
            ``"type": "RateTrace"`` is accepted, so ``from_dict(trace.params())`` rebuilds a
            trace of up to 1000 knots.

        Returns
        -------
        RateTrace

        Raises
        ------
        TypeError
            If ``spec`` is not a dict.
        ValueError
            On unknown or missing keys, both ``times`` and ``times_ms``, or an invalid trace.
        """
        if not isinstance(spec, dict):
            raise TypeError(f"A rate trace spec must be a dict, got {type(spec).__name__}.")
        allowed = ("firing_rate", "times_ms", "times", "type")
        unknown = [k for k in spec if k not in allowed]
        if unknown:
            raise ValueError(
                f"Invalid key(s) in rate trace spec: {', '.join(map(repr, unknown))}. "
                f"Allowed: {', '.join(map(repr, allowed))}."
            )
        if spec.get("type", "RateTrace") != "RateTrace":
            raise ValueError(f"Invalid value for 'type': {spec['type']!r}. Allowed: 'RateTrace'.")
        if "firing_rate" not in spec or ("times" in spec) == ("times_ms" in spec):
            raise ValueError(
                f"A rate trace spec needs 'firing_rate' and exactly one of 'times_ms' (ms) or "
                f"'times' (s, as BMTK); got keys {', '.join(map(repr, spec)) or 'none'}."
            )
        if "times" in spec:
            return cls.from_bmtk(spec["firing_rate"], spec["times"])
        t, r = check_trace(spec["times_ms"], spec["firing_rate"], "times_ms", "firing_rate")
        return cls(t, r)

    @property
    def span_ms(self) -> tuple[float, float]:
        """First and last knot times (ms): the window BMTK draws on for this trace."""
        return float(self.times_ms[0]), float(self.times_ms[-1])

    def evaluate(  # type: ignore[override]
        self,
        tstart_ms: float,
        tstop_ms: float,
        dt_ms: float = 1.0,
        rng: np.random.Generator | None = None,
    ) -> PiecewiseLinearGrid:
        """The exact piecewise-linear trace on ``[tstart_ms, tstop_ms)``.

        Parameters
        ----------
        tstart_ms, tstop_ms : float
            Time window (ms).
        dt_ms : float
            Checked (> 0) for a uniform interface, but not used: the grid is exact.
        rng : optional
            Not used (the trace is deterministic).

        Returns
        -------
        PiecewiseLinearGrid
        """
        check_number("dt_ms", dt_ms, min_value=0.0, strict_min=True, units="ms")
        return PiecewiseLinearGrid(self.times_ms, self.rates, tstart_ms, tstop_ms)

    def _evaluate(self, edges: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        grid = PiecewiseLinearGrid(self.times_ms, self.rates, edges[0], edges[-1])
        return grid.bin_means(edges)

    def params(self) -> dict[str, Any]:
        """JSON-able description: the knots themselves up to 1000 of them, else a summary.

        The summary holds the number of knots, the first and last times, the rate range
        and a SHA-1 of the knots (float64 little-endian times, then rates).

        Returns
        -------
        dict
            ``{"type": "RateTrace", "times_ms": [...], "firing_rate": [...]}`` (which
            :meth:`from_dict` reads back) for up to 1000 knots, else ``{"type":
            "RateTrace", "n", "t_first_ms", "t_last_ms", "rate_min", "rate_max",
            "sha1"}``.
        """
        n = int(self.times_ms.size)
        if n <= _PARAMS_MAX_KNOTS:
            return {
                "type": "RateTrace",
                "times_ms": self.times_ms.tolist(),
                "firing_rate": self.rates.tolist(),
            }
        digest = hashlib.sha1(
            self.times_ms.astype("<f8").tobytes() + self.rates.astype("<f8").tobytes()
        ).hexdigest()
        return {
            "type": "RateTrace",
            "n": n,
            "t_first_ms": float(self.times_ms[0]),
            "t_last_ms": float(self.times_ms[-1]),
            "rate_min": float(self.rates.min()),
            "rate_max": float(self.rates.max()),
            "sha1": digest,
        }
