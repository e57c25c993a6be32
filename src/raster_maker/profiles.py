"""Rate profiles: how a rate varies in time, on a grid of ``dt_ms`` bins.

A profile is evaluated on ``[tstart_ms, tstop_ms)`` in bins of ``dt_ms`` (the last bin may
be shorter) and gives one non-negative value per bin, constant within the bin. Profiles
are dimensionless multipliers of a unit's rate in Hz unless documented otherwise
(``Constant(10.0)`` times a unit rate of 1 Hz is 10 Hz). They compose: ``2 * p``,
``p + 0.5``, ``p * q``.

Profiles that need random numbers (noise) take a :class:`numpy.random.Generator`; input
models hand them one derived from ``(seed, population, group key)``.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import signal

from ._check import check_number, check_option, check_rates, check_window
from ._scratch import scratch

__all__ = [
    "ProfileGrid",
    "Profile",
    "Constant",
    "Sinusoid",
    "PinkNoise",
    "FromArray",
    "FromCallable",
    "FollowSpikes",
    "time_grid",
    "minmax_half",
    "ORIGINAL_FILTER_B",
    "ORIGINAL_FILTER_A",
]

# The original raster_maker's 1/f filter (for 1 kHz sampling) and its 2000-sample warm-up.
#: Numerator coefficients of the original raster_maker's 1/f IIR filter (1 kHz sampling),
#: used by :class:`PinkNoise` with ``method='original'``.
ORIGINAL_FILTER_B = (0.049922035, -0.095993537, 0.050612699, -0.004408786)
#: Denominator coefficients of the same filter.
ORIGINAL_FILTER_A = (1.0, -2.494956002, 2.017265875, -0.522189400)
_WARMUP = 2000
MAX_BINS = 200_000_000  # a profile grid larger than this (1.6 GB) is a mistake


def time_grid(tstart_ms: float, tstop_ms: float, dt_ms: float) -> np.ndarray:
    """Bin edges (ms) of ``[tstart_ms, tstop_ms)`` in ``dt_ms`` steps; the last may be short.

    Parameters
    ----------
    tstart_ms, tstop_ms : float
        The window (ms), ``tstop_ms > tstart_ms``.
    dt_ms : float
        Bin width (ms), > 0.

    Returns
    -------
    ndarray of float64
        ``tstart_ms + k * dt_ms`` for ``k = 0 .. n - 1``, then ``tstop_ms``: at least
        two edges (a remainder under ``1e-9 * dt_ms``, a rounding error, joins the last
        bin instead of making one).

    Raises
    ------
    TypeError
        If an argument is not a real number.
    ValueError
        If the window is empty or not finite, ``dt_ms`` <= 0, or the grid would have
        more than 2e8 bins.

    Examples
    --------
    >>> time_grid(0.0, 2.5, 1.0)
    array([0. , 1. , 2. , 2.5])
    """
    tstart, tstop = check_window(tstart_ms, tstop_ms)
    dt = check_number("dt_ms", dt_ms, min_value=0.0, strict_min=True, units="ms")
    n = max(1, math.ceil((tstop - tstart) / dt - 1e-9))
    if n > MAX_BINS:
        raise ValueError(
            f"Invalid value for 'dt_ms': {dt} ms makes {n:.3g} bins of the {tstop - tstart} ms "
            f"window. Allowed: at most {MAX_BINS:.0e} bins "
            f"(dt_ms >= {(tstop - tstart) / MAX_BINS:.3g})."
        )
    edges = tstart + dt * np.arange(n + 1, dtype=np.float64)
    edges[-1] = tstop
    return edges


_MAX_REFINED_CELLS = 1 << 24  # lookup cells of an inversion table beyond one per bin
_CACHED_CELLS = 1 << 16  # a table this small is refined further, for fewer steps per value
_GRIDS: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
_GRIDS_LOCK = threading.Lock()


def _shared_time_grid(tstart_ms: float, tstop_ms: float, dt_ms: float) -> np.ndarray:
    """:func:`time_grid`, one read-only array shared by every grid alive on that window.

    Functional groups evaluate one profile per group on the same window: sharing the
    edges saves memory and lets the metadata recognise the common grid by identity.
    """
    key = (float(tstart_ms), float(tstop_ms), float(dt_ms))
    with _GRIDS_LOCK:
        edges = _GRIDS.get(key)
        if edges is None:
            edges = time_grid(tstart_ms, tstop_ms, dt_ms)
            edges.flags.writeable = False
            _GRIDS[key] = edges
    return edges


def _check_edges(name: str, edges: Any, tstart_ms: float, tstop_ms: float) -> np.ndarray:
    """Return bin edges (ms) as a float64 array if strictly increasing inside the window.

    Raises
    ------
    ValueError
        If there are fewer than 2 edges, an edge is not finite, the edges do not increase
        strictly, or they leave ``[tstart_ms, tstop_ms]``.
    """
    arr = np.asarray(edges, dtype=np.float64)
    if arr.ndim != 1 or arr.size < 2:
        raise ValueError(
            f"Invalid value for '{name}': shape {arr.shape}. Allowed: a 1-D array of at "
            "least 2 bin edges in ms."
        )
    steps = np.diff(arr)
    if not np.all(np.isfinite(arr)) or not np.all(steps > 0):
        j = int(np.flatnonzero(~(steps > 0) | ~np.isfinite(arr[1:]))[0]) + 1
        raise ValueError(
            f"Invalid value for '{name}': {name}[{j - 1}]={arr[j - 1]}, {name}[{j}]={arr[j]}. "
            "Allowed: finite, strictly increasing edges in ms."
        )
    if arr[0] < tstart_ms or arr[-1] > tstop_ms:
        raise ValueError(
            f"Invalid value for '{name}': edges span [{arr[0]}, {arr[-1]}] ms. Allowed: "
            f"inside the window [{tstart_ms}, {tstop_ms}] ms."
        )
    return arr


def minmax_half(x: np.ndarray) -> np.ndarray:
    """Min-max normalise to [0, 1] and add 0.5, as the original did (a flat trace gives 1).

    Parameters
    ----------
    x : array_like of float
        A trace (non-empty).

    Returns
    -------
    ndarray of float64
        ``(x - min) / (max - min) + 0.5``, in [0.5, 1.5]; all ones if ``x`` is flat.

    Examples
    --------
    >>> minmax_half([2.0, 4.0, 3.0])
    array([0.5, 1.5, 1. ])
    """
    x = np.asarray(x, dtype=np.float64)
    lo, hi = x.min(), x.max()
    if hi == lo:
        return np.ones_like(x)
    return (x - lo) / (hi - lo) + 0.5


@dataclass(frozen=True)
class ProfileGrid:
    """A profile evaluated on a grid: ``values[j]`` holds on ``[edges[j], edges[j+1])``.

    Stores the cumulative integral ``cum`` (in s x value, so a unit with scale ``a`` Hz
    expects ``a * total`` spikes) and inverts it to place spikes (time rescaling).

    Parameters
    ----------
    edges : ndarray of float64
        Bin edges (ms), strictly increasing (e.g. from :func:`time_grid`).
    values : array_like of float
        One value per bin, finite and >= 0 (dimensionless, or Hz for a rate).

    Raises
    ------
    ValueError
        If a value is negative or not finite, or there is not one value per bin.

    Examples
    --------
    >>> import numpy as np
    >>> grid = ProfileGrid(np.array([0.0, 500.0, 1000.0]), np.array([1.0, 3.0]))
    >>> grid.total, grid.mean, grid.peak
    (2.0, 2.0, 3.0)
    >>> grid.invert(np.array([0.25, 1.0]))
    array([250.        , 666.66666667])
    """

    edges: np.ndarray
    values: np.ndarray

    def __post_init__(self) -> None:
        values = check_rates("profile", self.values, units="(profile values)")
        if values.shape != (self.edges.size - 1,):
            raise ValueError(
                f"A profile on {self.edges.size - 1} bins needs {self.edges.size - 1} values, "
                f"got shape {values.shape}."
            )
        object.__setattr__(self, "values", values)
        cum = np.empty(self.edges.size)
        cum[0] = 0.0
        area = np.diff(self.edges)  # bin widths (ms), then each bin's integral (s x value)
        area *= values
        area /= 1000.0
        np.cumsum(area, out=cum[1:])
        object.__setattr__(self, "cum", cum)

    @property
    def tstart(self) -> float:
        return float(self.edges[0])

    @property
    def tstop(self) -> float:
        return float(self.edges[-1])

    @property
    def total(self) -> float:
        """Integral of the profile over the window (s x value)."""
        return float(self.cum[-1])

    @property
    def peak(self) -> float:
        return float(self.values.max()) if self.values.size else 0.0

    @property
    def mean(self) -> float:
        """Time-average of the profile over the window."""
        return self.total * 1000.0 / (self.tstop - self.tstart)

    @property
    def is_constant(self) -> bool:
        """True when the profile has the same value in every bin."""
        return bool(np.all(self.values == self.values[0]))

    def integral(self, t_ms: Any) -> np.ndarray:
        """Cumulative integral (s x value) from ``tstart`` to each time in ``t_ms``.

        Exact: linear inside a bin. Times before ``tstart`` give 0, after ``tstop`` the total.

        Parameters
        ----------
        t_ms : array-like of float
            Times (ms).

        Returns
        -------
        ndarray of float64
            Same shape as ``t_ms``.
        """
        return np.interp(np.asarray(t_ms, dtype=np.float64), self.edges, self.cum)

    def bin_means(self, edges_ms: Any) -> np.ndarray:
        """Mean value of the profile in each bin ``[edges_ms[j], edges_ms[j+1])``.

        Exact (from differences of :meth:`integral`), for any bins inside the window.

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
        if edges_ms is self.edges or (  # its own bins: the values themselves
            np.shape(edges_ms) == self.edges.shape and np.array_equal(edges_ms, self.edges)
        ):
            return self.values
        edges = _check_edges("edges_ms", edges_ms, self.tstart, self.tstop)
        return np.diff(self.integral(edges)) * 1000.0 / np.diff(edges)

    def invert(self, v: np.ndarray) -> np.ndarray:
        """Times (ms) at which the cumulative integral reaches ``v`` (``0 < v < total``).

        The bin of each value is found through a lookup table on a uniform grid of
        the integral (up to 16 cells per bin, so that a cell holds at most a few bins
        even around sharp peaks) plus a few steps down or a short bisection, then the
        time is interpolated linearly inside the bin.

        Parameters
        ----------
        v : ndarray of float
            Values of the cumulative integral (s x value), in ``(0, total)``.

        Returns
        -------
        ndarray of float64
            The times (ms), shaped as ``v``, in ``[tstart, tstop]`` (all ``tstart`` for
            a profile that is zero everywhere).
        """
        if self.total <= 0.0:  # a silent profile: no value can be asked of it but 0
            return np.full(np.shape(v), self.tstart)
        lut_lo, lut_hi, scale, span, offset, slope = self._inverse_tables()
        if span < 0:  # constant profile
            t = v * ((self.tstop - self.tstart) / self.total)
            t += self.tstart
            return t
        # work arrays: this thread's, reused (fresh large arrays cost page faults)
        v = np.asarray(v, dtype=np.float64)
        buf = scratch(v.size, 2).view(np.float64).reshape(v.shape)
        np.multiply(v, scale, out=buf)
        lo = scratch(v.size, 3).reshape(v.shape)
        np.copyto(lo, buf, casting="unsafe")  # as astype(np.int64); cells >= 0 as v > 0
        cum = self.cum
        at = buf  # scratch for gathered table values
        if span <= 3:  # narrow cells (smooth profiles): step down from the cell's last bin
            cell, lo = lo, buf.view(np.int64)
            np.take(lut_hi, cell, out=lo, mode="clip")  # clip: v at the total's rounding
            at = cell.view(np.float64)
            for _ in range(span):
                np.take(cum, lo, out=at, mode="clip")
                lo -= at > v
        else:  # wide cells (long silences, sharp peaks): bisection inside the cell
            np.clip(lo, 0, lut_hi.size - 1, out=lo)
            lo, hi = lut_lo[lo], lut_hi[lo]
            for _ in range(int(np.ceil(np.log2(span + 1)))):  # largest j with cum[j] <= v
                mid = (lo + hi + 1) >> 1
                ok = cum[mid] <= v
                lo = np.where(ok, mid, lo)
                hi = np.where(ok, hi, mid - 1)
        # lo is now the largest bin with cum[lo] <= v; as cum[lo + 1] > v, that bin's rate
        # is positive (zero-rate bins are skipped)
        t = np.take(slope, lo, mode="clip")
        t *= v
        np.take(offset, lo, out=at, mode="clip")
        t += at  # offset[lo] + v * slope[lo]
        np.take(self.edges[1:], lo, out=at, mode="clip")  # the bin's end
        np.minimum(t, at, out=t)
        return t

    def _inverse_tables(self):
        tables = self.__dict__.get("_tables")
        if tables is None and self.is_constant:  # span -1: inverted by one multiplication
            tables = (None, None, 0.0, -1, None, None)
            object.__setattr__(self, "_tables", tables)
        if tables is None:
            n = self.values.size
            # cell c holds the bins whose start integral falls in it; a value v in cell
            # m = floor(v * scale) has its bin in [lut_lo[m], lut_hi[m]] (same formula, so exact)
            # finer cells (up to 16 per bin) while they at least halve the widest cell: a
            # sharp peak spreads over finer cells, a silence (constant integral) never does.
            # A smooth profile stops at 3 steps per value, or at 1 while the table is small
            # enough to stay in cache
            best = None
            for per_bin in (1, 4, 16):
                n_cells = n * per_bin
                if best is not None and n_cells > _MAX_REFINED_CELLS:
                    break
                if best is not None and best[3] <= 3 and n_cells > _CACHED_CELLS:
                    break
                scale = n_cells / self.total
                cells = np.minimum((self.cum[:-1] * scale).astype(np.int64), n_cells)
                lut_hi = np.cumsum(np.bincount(cells, minlength=n_cells + 1)) - 1
                lut_lo = np.concatenate(([0], np.maximum(lut_hi[:-1], 0)))
                np.clip(lut_hi, 0, n - 1, out=lut_hi)
                span = int(np.max(lut_hi - lut_lo))
                if best is not None and span > best[3] // 2:
                    break
                best = (lut_lo, lut_hi, scale, span)
                if span <= 1:
                    break
            lut_lo, lut_hi, scale, span = best
            if span <= 3:  # steps down from lut_hi: lut_lo not used
                lut_lo = None
            with np.errstate(divide="ignore"):
                slope = np.where(self.values > 0, 1000.0 / self.values, 0.0)
            offset = self.edges[:-1] - self.cum[:-1] * slope
            tables = (lut_lo, lut_hi, scale, span, offset, slope)
            object.__setattr__(self, "_tables", tables)
        return tables


class Profile:
    """Base class: a rate profile evaluated on a time grid.

    Subclasses implement ``_evaluate``. Compose with ``*`` and ``+``.
    """

    def evaluate(
        self,
        tstart_ms: float,
        tstop_ms: float,
        dt_ms: float = 1.0,
        rng: np.random.Generator | None = None,
    ) -> ProfileGrid:
        """Evaluate on ``[tstart_ms, tstop_ms)`` in ``dt_ms`` bins.

        Parameters
        ----------
        tstart_ms, tstop_ms : float
            Time window (ms).
        dt_ms : float
            Bin width (ms), > 0.
        rng : numpy.random.Generator, optional
            Source of randomness for noise profiles.

        Returns
        -------
        ProfileGrid

        Raises
        ------
        ValueError
            If the profile has negative, NaN or infinite values.
        """
        edges = self.grid_edges(tstart_ms, tstop_ms, dt_ms)
        return ProfileGrid(edges, self.sample(edges, rng))

    @staticmethod
    def grid_edges(tstart_ms: float, tstop_ms: float, dt_ms: float = 1.0) -> np.ndarray:
        """The bin edges :meth:`evaluate` uses: :func:`time_grid`, one read-only array
        shared by every grid alive on the same window.

        Parameters
        ----------
        tstart_ms, tstop_ms : float
            Time window (ms).
        dt_ms : float
            Bin width (ms), > 0.

        Returns
        -------
        ndarray of float64
            The edges (not writeable).
        """
        return _shared_time_grid(tstart_ms, tstop_ms, dt_ms)

    def sample(self, edges: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """The profile's value in each bin of ``edges`` (what :meth:`evaluate` puts in
        its grid; a plain array, cheap to send between MPI ranks).

        Parameters
        ----------
        edges : ndarray of float
            Bin edges (ms), e.g. from :meth:`grid_edges`.
        rng : numpy.random.Generator, optional
            Source of randomness for noise profiles.

        Returns
        -------
        ndarray of float64
            ``edges.size - 1`` values.
        """
        return np.asarray(self._evaluate(edges, np.random.default_rng(rng)), dtype=np.float64)

    def _evaluate(self, edges: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def params(self) -> dict[str, Any]:
        """JSON-able description (recorded as provenance).

        Returns
        -------
        dict
            ``{"type": <class name>}`` here; subclasses add their parameters.
        """
        return {"type": type(self).__name__}

    def __mul__(self, other: Profile | float) -> Profile:
        return _Combined("product", self, _as_profile(other))

    __rmul__ = __mul__

    def __add__(self, other: Profile | float) -> Profile:
        return _Combined("sum", self, _as_profile(other))

    __radd__ = __add__


def _as_profile(x: Profile | float) -> Profile:
    return x if isinstance(x, Profile) else Constant(check_number("profile constant", x))


class _Combined(Profile):
    def __init__(self, op: str, a: Profile, b: Profile) -> None:
        self.op, self.a, self.b = op, a, b

    def _evaluate(self, edges, rng):
        va, vb = self.a._evaluate(edges, rng), self.b._evaluate(edges, rng)
        return va * vb if self.op == "product" else va + vb

    def params(self):
        return {"type": self.op, "terms": [self.a.params(), self.b.params()]}


class Constant(Profile):
    """A constant profile (``value`` >= 0).

    Parameters
    ----------
    value : float, optional
        The profile's value in every bin, >= 0; default 1.

    Raises
    ------
    TypeError
        If ``value`` is not a real number.
    ValueError
        If ``value`` is negative or not finite.
    """

    def __init__(self, value: float = 1.0) -> None:
        self.value = check_number("value", value, min_value=0.0)

    def _evaluate(self, edges, rng):
        return np.full(edges.size - 1, self.value)

    def params(self):
        """JSON-able description (recorded as provenance).

        Returns
        -------
        dict
            ``{"type": "Constant", "value": value}``.
        """
        return {"type": "Constant", "value": self.value}


DEPTH_DEFINITIONS = ("standard", "original")


class Sinusoid(Profile):
    """Sinusoidal modulation around a mean: ``mean * (1 + depth * sin(2 pi f t + phase))``.

    Parameters
    ----------
    frequency_hz : float
        Modulation frequency (Hz), >= 0.
    depth : float
        Modulation depth. With ``depth_definition='standard'`` (default) the profile
        swings between ``mean * (1 - depth)`` and ``mean * (1 + depth)``; allowed 0..1.
        With ``'original'`` (the original raster_maker's), the amplitude is
        ``mean / (1/depth - 1)``, i.e. a standard depth of ``depth / (1 - depth)``;
        allowed 0..0.5 so the rate never goes negative.
    phase_rad : float
        Phase at ``t = 0`` ms (radians).
    mean : float
        Mean value (>= 0).
    depth_definition : {'standard', 'original'}
        How ``depth`` is read (see ``depth``).

    Raises
    ------
    TypeError
        If a number is not a real number.
    ValueError
        If ``frequency_hz`` or ``mean`` is negative, ``depth`` is out of its range or
        ``depth_definition`` is unknown.

    Notes
    -----
    Each bin of the grid takes the sinusoid's exact mean over the bin, so the grid's
    integral (the expected spike count) is exact whatever ``dt_ms``.
    """

    def __init__(
        self,
        frequency_hz: float,
        depth: float = 0.5,
        phase_rad: float = 0.0,
        mean: float = 1.0,
        depth_definition: str = "standard",
    ) -> None:
        self.frequency_hz = check_number("frequency_hz", frequency_hz, min_value=0.0, units="Hz")
        self.depth_definition = check_option(
            "depth_definition", depth_definition, DEPTH_DEFINITIONS
        )
        top = 1.0 if depth_definition == "standard" else 0.5
        self.depth = check_number("depth", depth, min_value=0.0, max_value=top)
        self.phase_rad = check_number("phase_rad", phase_rad)
        self.mean = check_number("mean", mean, min_value=0.0)

    @property
    def standard_depth(self) -> float:
        """The depth in the standard definition (``(max - min) / (max + min)``)."""
        if self.depth_definition == "standard":
            return self.depth
        return self.depth / (1.0 - self.depth)

    def _evaluate(self, edges, rng):
        # exact bin averages of the sinusoid, so the grid keeps the requested depth
        w = 2.0 * np.pi * self.frequency_hz / 1000.0  # rad per ms
        m = self.standard_depth
        if w == 0.0:
            return np.full(edges.size - 1, self.mean * (1.0 + m * np.sin(self.phase_rad)))
        c = -np.cos(w * edges + self.phase_rad) / w
        avg = np.diff(c) / np.diff(edges)
        return np.maximum(self.mean * (1.0 + m * avg), 0.0)

    def params(self):
        """JSON-able description (recorded as provenance).

        Returns
        -------
        dict
            ``type`` (``"Sinusoid"``) and the five parameters.
        """
        return {
            "type": "Sinusoid",
            "frequency_hz": self.frequency_hz,
            "depth": self.depth,
            "depth_definition": self.depth_definition,
            "phase_rad": self.phase_rad,
            "mean": self.mean,
        }


class PinkNoise(Profile):
    """1/f^exponent noise, normalised as the original (min-max, plus 0.5).

    Parameters
    ----------
    exponent : float
        Spectral exponent of the power spectrum, ``S(f) ~ 1/f^exponent``. With
        ``method='original'`` only 1 is allowed.
    method : {'original', 'fft'}
        ``'original'``: Gaussian noise (mean 1, sd 0.5) sampled at 1 kHz, through the
        original raster_maker's IIR filter, with its 2000-sample warm-up dropped; on a
        grid other than 1 ms it is averaged (or held) onto the bins.
        ``'fft'``: white Gaussian noise shaped in the frequency domain by
        ``f^(-exponent/2)``, on the grid itself (any colour).
    normalize : {'original', 'mean'}
        ``'original'``: min-max to [0, 1] plus 0.5 (values in [0.5, 1.5]).
        ``'mean'``: then divided by its mean, so the profile averages exactly 1 and a
        unit's scale is its mean rate.
    """

    def __init__(
        self, exponent: float = 1.0, method: str = "original", normalize: str = "original"
    ):
        self.method = check_option("method", method, ("original", "fft"))
        self.exponent = check_number("exponent", exponent, min_value=0.0, max_value=4.0)
        self.normalize = check_option("normalize", normalize, ("original", "mean"))
        if method == "original" and self.exponent != 1.0:
            raise ValueError(
                f"Invalid value for 'exponent': {exponent} with method='original'. "
                "Allowed: 1 (use method='fft' for other colours)."
            )

    def _evaluate(self, edges, rng):
        n_bins = edges.size - 1
        if self.method == "original":
            n_ms = max(1, math.ceil(edges[-1] - edges[0]))
            x = rng.normal(1.0, 0.5, n_ms + _WARMUP)
            trace = signal.lfilter(ORIGINAL_FILTER_B, ORIGINAL_FILTER_A, x)[_WARMUP:]
            vals = _onto_grid(trace, edges)
        else:
            vals = _fft_noise(n_bins, np.diff(edges).mean(), self.exponent, rng)
        vals = minmax_half(vals)
        if self.normalize == "mean":
            vals = vals / vals.mean()
        return vals

    def params(self):
        """JSON-able description (recorded as provenance).

        Returns
        -------
        dict
            ``type`` (``"PinkNoise"``), ``exponent``, ``method`` and ``normalize``.
        """
        return {
            "type": "PinkNoise",
            "exponent": self.exponent,
            "method": self.method,
            "normalize": self.normalize,
        }


def _onto_grid(trace_1ms: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Average a 1 kHz trace (sample k on [t0+k, t0+k+1) ms) over the grid's bins."""
    if edges.size - 1 == trace_1ms.size and _ms_steps(edges):
        return trace_1ms
    rel = edges - edges[0]
    cum = np.concatenate(([0.0], np.cumsum(trace_1ms)))
    k = np.arange(cum.size, dtype=np.float64)
    area = np.interp(rel, k, cum)  # exact integral of the step trace (linear inside a step)
    return np.diff(area) / np.diff(rel)


def _ms_steps(edges: np.ndarray) -> bool:
    """Whether every bin of ``edges`` but the last is 1 ms wide (``allclose``'s tolerance),
    in three passes (``allclose`` takes seven, for each of W1's 58 groups)."""
    steps = np.diff(edges[:-1])
    tol = 1e-8 + 1e-5  # allclose's atol + rtol * 1
    return bool(steps.size == 0 or (steps.min() >= 1.0 - tol and steps.max() <= 1.0 + tol))


def _fft_noise(n: int, dt_ms: float, exponent: float, rng: np.random.Generator) -> np.ndarray:
    white = rng.standard_normal(n)
    spec = np.fft.rfft(white)
    f = np.fft.rfftfreq(n, d=dt_ms / 1000.0)
    shape = np.zeros_like(f)
    shape[1:] = f[1:] ** (-exponent / 2.0)
    return np.fft.irfft(spec * shape, n=n)


class FromArray(Profile):
    """A user-given profile sampled every ``dt_ms`` from ``t0_ms``; held constant per sample.

    Values must be finite and >= 0. The grid's bins take the average of the samples they
    cover; times outside the samples hold the nearest sample.

    Parameters
    ----------
    values : array_like of float
        The samples (1-D, non-empty, finite, >= 0): sample ``k`` holds on
        ``[t0_ms + k * dt_ms, t0_ms + (k + 1) * dt_ms)``.
    dt_ms : float, optional
        Sample spacing (ms), > 0; default 1.
    t0_ms : float, optional
        Time of the first sample (ms); default 0.

    Raises
    ------
    TypeError
        If ``dt_ms`` or ``t0_ms`` is not a real number.
    ValueError
        If ``values`` is not a non-empty 1-D array of finite values >= 0, or
        ``dt_ms`` <= 0.
    """

    def __init__(self, values: Any, dt_ms: float = 1.0, t0_ms: float = 0.0) -> None:
        self.samples = check_rates("values", values, units="")
        if self.samples.ndim != 1 or self.samples.size == 0:
            raise ValueError(
                f"'values' must be a non-empty 1-D array, got shape {self.samples.shape}."
            )
        self.dt_ms = check_number("dt_ms", dt_ms, min_value=0.0, strict_min=True, units="ms")
        self.t0_ms = check_number("t0_ms", t0_ms, units="ms")

    def _evaluate(self, edges, rng):
        rel = (edges - self.t0_ms) / self.dt_ms
        cum = np.concatenate(([0.0], np.cumsum(self.samples)))
        k = np.arange(cum.size, dtype=np.float64)
        lo_val, hi_val = self.samples[0], self.samples[-1]
        area = np.interp(rel, k, cum)
        area = area + np.minimum(rel, 0) * lo_val + np.maximum(rel - self.samples.size, 0) * hi_val
        return np.maximum(np.diff(area) / np.diff(rel), 0.0)

    def params(self):
        """JSON-able description (recorded as provenance).

        Returns
        -------
        dict
            ``type`` (``"FromArray"``), ``n`` (the number of samples; the samples
            themselves are not recorded), ``dt_ms`` and ``t0_ms``.
        """
        return {
            "type": "FromArray",
            "n": int(self.samples.size),
            "dt_ms": self.dt_ms,
            "t0_ms": self.t0_ms,
        }


class FromCallable(Profile):
    """A profile from a function of time, ``func(t_ms: ndarray) -> values``, at bin centres.

    Parameters
    ----------
    func : callable
        Called once per evaluation with the bin centres (ms, ndarray of float64);
        returns one finite value >= 0 per centre (or a scalar, broadcast).

    Raises
    ------
    TypeError
        If ``func`` is not callable.
    """

    def __init__(self, func: Callable[[np.ndarray], np.ndarray]) -> None:
        if not callable(func):
            raise TypeError(f"'func' must be callable, got {type(func).__name__}.")
        self.func = func

    def _evaluate(self, edges, rng):
        centres = 0.5 * (edges[:-1] + edges[1:])
        vals = np.broadcast_to(np.asarray(self.func(centres), dtype=np.float64), centres.shape)
        return check_rates("profile function values", vals, units="").copy()

    def params(self):
        """JSON-able description (recorded as provenance).

        Returns
        -------
        dict
            ``type`` (``"FromCallable"``) and ``func``, the function's qualified name
            (its ``repr`` if it has none); the function itself is not recorded.
        """
        return {"type": "FromCallable", "func": getattr(self.func, "__qualname__", repr(self.func))}


class FollowSpikes(Profile):
    """The population rate of other spikes, delayed: inhibition that follows excitation.

    The population rate (Hz) of ``timestamps_ms`` in the grid's bins, divided by the
    number of units, shifted later by ``lag_ms`` (circularly, as the original did, so the
    profile keeps its length), then normalised.

    Parameters
    ----------
    timestamps_ms : array-like
        Spike times (ms) of the followed population.
    n_units : int
        Number of units of the followed population (the original used max(node id) + 1).
    lag_ms : float
        Delay (ms) >= 0; rounded to whole bins.
    normalize : {'original', 'mean', 'none'}
        ``'original'``: min-max plus 0.5 (the original's ``shift_exc_noise``);
        ``'mean'``: divided by its mean; ``'none'``: the delayed rate in Hz.
    """

    def __init__(
        self, timestamps_ms: Any, n_units: int, lag_ms: float = 2.0, normalize: str = "original"
    ):
        self.timestamps_ms = np.asarray(timestamps_ms, dtype=np.float64)
        if not np.all(np.isfinite(self.timestamps_ms)):
            raise ValueError(
                "Invalid value in 'timestamps_ms': not finite. Allowed: finite times in ms."
            )
        if int(n_units) < 1:
            raise ValueError(f"Invalid value for 'n_units': {n_units}. Allowed: an integer >= 1.")
        self.n_units = int(n_units)
        self.lag_ms = check_number("lag_ms", lag_ms, min_value=0.0, units="ms")
        self.normalize = check_option("normalize", normalize, ("original", "mean", "none"))

    def _evaluate(self, edges, rng):
        counts, _ = np.histogram(self.timestamps_ms, bins=edges)
        rate_hz = counts / (np.diff(edges) / 1000.0) / self.n_units
        dt = float(np.diff(edges)[0])
        rate_hz = np.roll(rate_hz, int(round(self.lag_ms / dt)))
        if self.normalize == "original":
            return minmax_half(rate_hz)
        if self.normalize == "mean":
            m = rate_hz.mean()
            return rate_hz / m if m > 0 else np.ones_like(rate_hz)
        return rate_hz

    def params(self):
        """JSON-able description (recorded as provenance).

        Returns
        -------
        dict
            ``type`` (``"FollowSpikes"``), ``n_spikes`` (the spike times themselves are
            not recorded), ``n_units``, ``lag_ms`` and ``normalize``.
        """
        return {
            "type": "FollowSpikes",
            "n_spikes": int(self.timestamps_ms.size),
            "n_units": self.n_units,
            "lag_ms": self.lag_ms,
            "normalize": self.normalize,
        }
