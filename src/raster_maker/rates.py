"""Per-unit mean rates (Hz), drawn from each unit's own random stream.

A rate distribution maps uniforms to rates, so unit ``i``'s rate is a pure function of
``(seed, population, node id)``: it does not depend on which other units are drawn.
Any frozen :mod:`scipy.stats` distribution works (through its ``ppf``); two presets
reproduce the original study's choices.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from scipy import stats

from ._check import check_number, check_option, check_rates
from .streams import node_keys, uniform

__all__ = ["RateDistribution", "levy_exp", "truncated_normal", "constant", "as_rate_distribution"]


class RateDistribution:
    """A distribution of per-unit mean rates in Hz.

    Parameters
    ----------
    dist : frozen scipy.stats distribution
        Sampled by inverse transform (``dist.ppf(u)``) with uniforms from each unit's
        stream: never from numpy's global state.
    transform : {None, 'exp'}
        ``'exp'``: the rate is ``exp(X)`` for ``X ~ dist`` (the original's ``exp=True``).
    name : str, optional
        Label recorded in the provenance.
    """

    def __init__(self, dist: Any, transform: str | None = None, name: str | None = None) -> None:
        if not hasattr(dist, "ppf"):
            raise TypeError(
                f"'dist' must be a frozen scipy.stats distribution, got {type(dist).__name__}."
            )
        self.dist = dist
        self.transform = check_option("transform", transform, (None, "exp"))
        self.name = name or getattr(getattr(dist, "dist", None), "name", type(dist).__name__)

    def from_uniforms(self, u1: np.ndarray, u2: np.ndarray) -> np.ndarray:
        """Rates (Hz) from two independent uniforms per unit in (0, 1]."""
        x = self.dist.ppf(np.minimum(u1, 1.0 - 2.0**-53))
        return self._finish(x)

    def _finish(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if self.transform == "exp":
            with np.errstate(over="ignore"):
                x = np.exp(x)
        return check_rates(f"rates drawn from {self.name}", x)

    def draw(
        self, seed: int, population: str, node_ids: np.ndarray, purpose: str = "rate"
    ) -> np.ndarray:
        """Rates (Hz) of the given nodes: a pure function of (seed, population, purpose, node id).

        Input models pass a ``purpose`` holding their name, so two models never share a stream.
        """
        keys = node_keys(seed, population, purpose, node_ids)
        zeros = np.zeros(keys.size, np.uint64)
        return self.from_uniforms(uniform(keys, zeros), uniform(keys, zeros + 1))

    def params(self) -> dict[str, Any]:
        args = getattr(self.dist, "args", ())
        kwds = getattr(self.dist, "kwds", {})
        return {
            "name": self.name,
            "args": list(args),
            "kwds": dict(kwds),
            "transform": self.transform,
        }


class _Constant(RateDistribution):
    def __init__(self, rate_hz: float) -> None:
        self.rate_hz = check_number("rate_hz", rate_hz, min_value=0.0, units="Hz")
        self.name = "constant"
        self.transform = None

    def from_uniforms(self, u1, u2):
        return np.full(np.shape(u1), self.rate_hz)

    def params(self):
        return {"name": "constant", "rate_hz": self.rate_hz}


def constant(rate_hz: float) -> RateDistribution:
    """Every unit gets ``rate_hz``."""
    return _Constant(rate_hz)


class _LevyExp(RateDistribution):
    """exp(levy_stable): sampled with the Chambers-Mallows-Stuck method (vectorised)."""

    def __init__(self, alpha, beta, loc, scale, parameterization):
        self.alpha = check_number("alpha", alpha, min_value=0.1, max_value=2.0)
        self.beta = check_number("beta", beta, min_value=-1.0, max_value=1.0)
        self.loc = check_number("loc", loc)
        self.scale = check_number("scale", scale, min_value=0.0, strict_min=True)
        self.parameterization = check_option("parameterization", parameterization, ("S1", "S0"))
        if self.alpha == 1.0:
            raise ValueError(
                "Invalid value for 'alpha': 1.0. Allowed: 0.1 <= alpha <= 2, alpha != 1."
            )
        self.transform = "exp"
        self.name = "levy_stable"

    def scipy_distribution(self):
        """The equivalent frozen ``scipy.stats.levy_stable`` (of X, before exp; slow ppf)."""
        dist = stats.levy_stable(self.alpha, self.beta, loc=self.loc, scale=self.scale)
        dist.dist.parameterization = self.parameterization
        return dist

    def from_uniforms(self, u1, u2):
        a, b = self.alpha, self.beta
        v = np.pi * (np.minimum(u1, 1.0 - 2.0**-53) - 0.5)  # U(-pi/2, pi/2)
        w = -np.log(u2)  # Exp(1)
        t = np.tan(np.pi * a / 2.0)
        bb = np.arctan(b * t) / a
        s = (1.0 + (b * t) ** 2) ** (1.0 / (2.0 * a))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            x = (
                s
                * np.sin(a * (v + bb))
                / np.cos(v) ** (1.0 / a)
                * (np.cos(v - a * (v + bb)) / w) ** ((1.0 - a) / a)
            )
        if self.parameterization == "S0":
            x = x - b * t
        return self._finish(self.scale * x + self.loc)

    def params(self):
        return {
            "name": "levy_stable",
            "alpha": self.alpha,
            "beta": self.beta,
            "loc": self.loc,
            "scale": self.scale,
            "parameterization": self.parameterization,
            "transform": "exp",
        }


def levy_exp(
    alpha: float = 1.37,
    beta: float = -1.0,
    loc: float = 1.84,
    scale: float = 0.44,
    parameterization: str = "S1",
) -> RateDistribution:
    """Excitatory preset of the original study: rate = exp(X), X ~ levy_stable.

    ``parameterization`` is scipy's: ``'S1'`` (scipy's default, what the original
    code got; mean rate near 11 Hz with the default parameters) or ``'S0'`` (mean near
    6 Hz). Sampled by Chambers-Mallows-Stuck from each unit's own stream.
    """
    return _LevyExp(alpha, beta, loc, scale, parameterization)


def truncated_normal(
    mean_hz: float, sd_hz: float, low_hz: float = 0.0, high_hz: float = 100.0
) -> RateDistribution:
    """Inhibitory preset: a normal(``mean_hz``, ``sd_hz``) truncated to [``low_hz``, ``high_hz``].

    ``mean_hz`` and ``sd_hz`` are those of the parent normal (before truncation), as in
    the original: 16.9 +/- 14.3 Hz perisomatic, 3.9 +/- 4.9 Hz dendritic.
    """
    mean = check_number("mean_hz", mean_hz, units="Hz")
    sd = check_number("sd_hz", sd_hz, min_value=0.0, strict_min=True, units="Hz")
    low = check_number("low_hz", low_hz, min_value=0.0, units="Hz")
    high = check_number("high_hz", high_hz, min_value=low, strict_min=True, units="Hz")
    dist = stats.truncnorm((low - mean) / sd, (high - mean) / sd, loc=mean, scale=sd)
    rd = RateDistribution(dist, name="truncnorm")
    rd.params = lambda: {  # type: ignore[method-assign]
        "name": "truncnorm",
        "mean_hz": mean,
        "sd_hz": sd,
        "low_hz": low,
        "high_hz": high,
    }
    return rd


PRESETS = {
    "levy_exp": levy_exp,
    "truncated_normal": truncated_normal,
    "constant": constant,
}


def as_rate_distribution(spec: Any) -> RateDistribution:
    """Turn a number, a preset spec, a frozen scipy distribution or a RateDistribution into one.

    Accepted: ``10`` (Hz, every unit), ``{"preset": "levy_exp", ...kwargs}``,
    ``{"preset": "truncated_normal", "mean_hz": 16.9, "sd_hz": 14.3}``, a frozen
    ``scipy.stats`` distribution, or a :class:`RateDistribution`.
    """
    if isinstance(spec, RateDistribution):
        return spec
    if isinstance(spec, numbers.Real) and not isinstance(spec, bool):
        return constant(spec)
    if isinstance(spec, dict):
        spec = dict(spec)
        name = spec.pop("preset", None)
        check_option("rates preset", name, PRESETS)
        return PRESETS[name](**spec)
    if hasattr(spec, "ppf"):
        return RateDistribution(spec)
    raise TypeError(
        f"Invalid rates {spec!r}. Allowed: a rate in Hz, a preset dict "
        f"({', '.join(PRESETS)}), a frozen scipy.stats distribution or a RateDistribution."
    )
