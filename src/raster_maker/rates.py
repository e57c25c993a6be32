"""Per-unit mean rates (Hz), drawn from each unit's own random stream.

A rate distribution maps uniforms to rates, so unit ``i``'s rate is a pure function of
``(seed, population, node id)``: it does not depend on which other units are drawn.
Any frozen :mod:`scipy.stats` distribution works (through its ``ppf``); two presets
reproduce the original study's choices, two more (``lognormal``, ``normal``) take the
mean and sd of the rate as bmtool / BMTK users give them, and :class:`ByAttribute`
picks each node's distribution by one of its node attributes (e.g. ``pop_name``).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ._check import attribute_rows, check_number, check_option, check_rates
from .streams import node_keys, uniform

__all__ = [
    "RateDistribution",
    "ByAttribute",
    "levy_exp",
    "truncated_normal",
    "lognormal",
    "normal",
    "constant",
    "as_rate_distribution",
]


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
        """Rates (Hz) from two independent uniforms per unit in (0, 1].

        Parameters
        ----------
        u1, u2 : ndarray of float
            Two uniforms per unit in (0, 1], same shape. Inverse-transform sampling
            (``dist.ppf(u1)``) uses ``u1`` only; samplers that need two (the levy
            preset) use both.

        Returns
        -------
        ndarray of float64
            One rate (Hz) per unit, ``exp`` applied when ``transform='exp'``.

        Raises
        ------
        ValueError
            If a drawn rate is negative or not finite (the message names the
            distribution).
        """
        x = self.dist.ppf(np.minimum(u1, 1.0 - 2.0**-53))
        return self._finish(x)

    def _finish(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if self.transform == "exp":
            with np.errstate(over="ignore"):
                x = np.exp(x)
        return check_rates(f"rates drawn from {self.name}", x)

    def draw(
        self,
        seed: int,
        population: str,
        node_ids: np.ndarray,
        purpose: str = "rate",
        attributes: pd.DataFrame | None = None,
    ) -> np.ndarray:
        """Rates (Hz) of the given nodes: a pure function of (seed, population, purpose, node id).

        Input models pass a ``purpose`` holding their name, so two models never share a stream.

        Parameters
        ----------
        seed : int
            Base seed.
        population : str
            Population name.
        node_ids : array-like of int
            Node ids (>= 0).
        purpose : str
            Stream label.
        attributes : pandas.DataFrame, optional
            Node attributes indexed by node id. Only :class:`ByAttribute` uses them; other
            distributions ignore them.

        Returns
        -------
        ndarray of float64
            One rate (Hz) per node id, in the order given.
        """
        keys = node_keys(seed, population, purpose, node_ids)
        zeros = np.zeros(keys.size, np.uint64)
        u1, u2 = uniform(keys, zeros), uniform(keys, zeros + 1)
        return self._node_rates(np.asarray(node_ids), u1, u2, attributes)

    def _node_rates(
        self,
        node_ids: np.ndarray,
        u1: np.ndarray,
        u2: np.ndarray,
        attributes: pd.DataFrame | None,
    ) -> np.ndarray:
        """Rates from each node's uniforms; ids and attributes serve :class:`ByAttribute`."""
        return self.from_uniforms(u1, u2)

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

    def draw(self, seed, population, node_ids, purpose="rate", attributes=None):
        # the same values as the streams would give, without drawing them
        return np.full(np.shape(node_ids), self.rate_hz)

    def params(self):
        return {"name": "constant", "rate_hz": self.rate_hz}


def constant(rate_hz: float) -> RateDistribution:
    """Every unit gets ``rate_hz``.

    Parameters
    ----------
    rate_hz : float
        The rate (Hz), >= 0.

    Returns
    -------
    RateDistribution
        Its ``params()`` is ``{"name": "constant", "rate_hz": rate_hz}``.

    Raises
    ------
    TypeError
        If ``rate_hz`` is not a real number.
    ValueError
        If ``rate_hz`` is negative or not finite.

    Examples
    --------
    >>> constant(5.0).draw(seed=1, population="exc", node_ids=np.arange(3))
    array([5., 5., 5.])
    """
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

    Parameters
    ----------
    alpha : float
        Stability index of ``X``, in [0.1, 2] and not 1.
    beta : float
        Skewness of ``X``, in [-1, 1].
    loc : float
        Location of ``X`` (of the log of the rate in Hz).
    scale : float
        Scale of ``X``, > 0.
    parameterization : {'S1', 'S0'}
        scipy's parameterisation of the levy-stable law.

    Returns
    -------
    RateDistribution
        Rates ``exp(X)`` in Hz; its ``params()`` records the five parameters.

    Raises
    ------
    TypeError
        If a parameter is not a real number.
    ValueError
        If a parameter is out of range (``alpha`` = 1 included).
    """
    return _LevyExp(alpha, beta, loc, scale, parameterization)


def truncated_normal(
    mean_hz: float, sd_hz: float, low_hz: float = 0.0, high_hz: float = 100.0
) -> RateDistribution:
    """Inhibitory preset: a normal(``mean_hz``, ``sd_hz``) truncated to [``low_hz``, ``high_hz``].

    ``mean_hz`` and ``sd_hz`` are those of the parent normal (before truncation), as in
    the original: 16.9 +/- 14.3 Hz perisomatic, 3.9 +/- 4.9 Hz dendritic.

    Parameters
    ----------
    mean_hz : float
        Mean of the parent normal (Hz).
    sd_hz : float
        Standard deviation of the parent normal (Hz), > 0.
    low_hz : float, optional
        Lower bound of the rates (Hz), >= 0; default 0.
    high_hz : float, optional
        Upper bound of the rates (Hz), > ``low_hz``; default 100.

    Returns
    -------
    RateDistribution
        Sampled by inverse transform of ``scipy.stats.truncnorm``; its ``params()``
        records the four parameters.

    Raises
    ------
    TypeError
        If a parameter is not a real number.
    ValueError
        If a parameter is out of range.

    Examples
    --------
    >>> r = truncated_normal(16.9, 14.3).draw(seed=1, population="inh", node_ids=np.arange(100))
    >>> bool(((r >= 0) & (r <= 100)).all())
    True
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


class _Preset(RateDistribution):
    """A scipy distribution sampled by inverse transform, recording its preset's parameters."""

    def __init__(self, dist: Any, name: str, params: dict[str, Any]) -> None:
        super().__init__(dist, name=name)
        self._params = params

    def params(self) -> dict[str, Any]:
        return {"name": self.name, **self._params}


class _ClippedNormal(_Preset):
    """``max(0, X)`` with ``X`` normal: the rates a negative draw would give are 0 Hz."""

    def from_uniforms(self, u1, u2):
        x = self.dist.ppf(np.minimum(u1, 1.0 - 2.0**-53))
        return self._finish(np.maximum(x, 0.0))


def lognormal(mean_hz: float, sd_hz: float) -> RateDistribution:
    """Log-normal rates whose own mean and sd are ``mean_hz`` and ``sd_hz``.

    The parameterisation of bmtool / BMTK network scripts: the log of the rate is normal
    with ``sigma**2 = ln(1 + sd_hz**2 / mean_hz**2)`` and ``mu = ln(mean_hz) - sigma**2 / 2``.
    Sampled by inverse transform from each unit's own stream.

    Parameters
    ----------
    mean_hz : float
        Mean rate (Hz), > 0.
    sd_hz : float
        Standard deviation of the rate (Hz), > 0.

    Returns
    -------
    RateDistribution
        Its ``params()`` records ``mean_hz``, ``sd_hz``, ``mu`` and ``sigma``.

    Examples
    --------
    >>> rates = lognormal(1.9, 1.3).draw(seed=1, population="shell", node_ids=np.arange(3))
    """
    mean = check_number("mean_hz", mean_hz, min_value=0.0, strict_min=True, units="Hz")
    sd = check_number("sd_hz", sd_hz, min_value=0.0, strict_min=True, units="Hz")
    sigma2 = np.log1p((sd / mean) ** 2)
    mu = float(np.log(mean) - sigma2 / 2.0)
    sigma = float(np.sqrt(sigma2))
    dist = stats.lognorm(sigma, scale=np.exp(mu))
    return _Preset(dist, "lognormal", {"mean_hz": mean, "sd_hz": sd, "mu": mu, "sigma": sigma})


def normal(mean_hz: float, sd_hz: float) -> RateDistribution:
    """Normal rates clipped at zero: ``max(0, X)``, ``X ~ normal(mean_hz, sd_hz)``, as bmtool.

    A fraction ``Phi(-mean_hz / sd_hz)`` of the units gets 0 Hz. (For a normal truncated to
    a range, redrawn rather than clipped, use :func:`truncated_normal`.)

    Parameters
    ----------
    mean_hz : float
        Mean of ``X`` (Hz).
    sd_hz : float
        Standard deviation of ``X`` (Hz), > 0.

    Returns
    -------
    RateDistribution
        Its ``params()`` records ``mean_hz`` and ``sd_hz`` (of ``X``, before clipping).
    """
    mean = check_number("mean_hz", mean_hz, units="Hz")
    sd = check_number("sd_hz", sd_hz, min_value=0.0, strict_min=True, units="Hz")
    return _ClippedNormal(stats.norm(mean, sd), "normal", {"mean_hz": mean, "sd_hz": sd})


PRESETS = {
    "levy_exp": levy_exp,
    "truncated_normal": truncated_normal,
    "constant": constant,
    "lognormal": lognormal,
    "normal": normal,
}


def _few(items: list[Any], k: int = 5) -> str:
    shown = ", ".join(repr(x) for x in items[:k])
    return shown + (f", ... ({len(items)} in all)" if len(items) > k else "")


def _as_label(x: Any) -> str:
    return x.decode("utf-8") if isinstance(x, bytes) else str(x)


def attribute_labels(values: Any) -> np.ndarray:
    """Node attribute values as text, one per node: bytes decoded as UTF-8 (as h5py
    gives SONATA strings), everything else through ``str``. Each distinct value is
    converted once.

    Parameters
    ----------
    values : array_like
        One attribute value per node.

    Returns
    -------
    ndarray of str
        The labels, aligned with ``values``.
    """
    codes, uniques = pd.factorize(np.asarray(values), use_na_sentinel=False)
    return np.array([_as_label(u) for u in uniques], dtype=str)[codes]


class ByAttribute(RateDistribution):
    """Per-node rates whose distribution depends on a node attribute (e.g. ``pop_name``).

    Every node draws from its own stream with the distribution given for its attribute
    value, so its rate is the same whichever other nodes are drawn with it.

    Parameters
    ----------
    by : str
        Node attribute (a column of the ``attributes`` passed to :meth:`RateDistribution.draw`).
    values : dict
        Attribute value -> rate spec (anything :func:`as_rate_distribution` takes). Keys
        are compared as strings (``str(value)``; bytes decoded as UTF-8), as JSON keys are
        strings: the attribute value ``1`` matches the key ``"1"``.
    default : optional
        Rate spec for values without an entry; without it such a value is an error.

    Raises
    ------
    TypeError, ValueError
        If ``by`` is not a non-empty string, ``values`` is not a dict, two keys are the
        same string, or a spec is invalid (the message names the value).

    Examples
    --------
    >>> rates = as_rate_distribution(
    ...     {
    ...         "by": "pop_name",
    ...         "values": {"CP": {"preset": "lognormal", "mean_hz": 1.9, "sd_hz": 1.3}, "FSI": 7.5},
    ...         "default": 2.0,
    ...     }
    ... )
    """

    def __init__(self, by: str, values: dict[Any, Any], default: Any = None) -> None:
        if not isinstance(by, str) or not by:
            raise TypeError(f"'by' must be a non-empty attribute name, got {by!r}.")
        if not isinstance(values, dict):
            raise TypeError(
                f"'values' must be a dict of attribute value -> rate spec, got "
                f"{type(values).__name__}."
            )
        self.by = by
        self.specs: dict[str, RateDistribution] = {}
        for key, spec in values.items():
            label = _as_label(key)
            if label in self.specs:
                raise ValueError(
                    f"Invalid 'values' for '{by}': keys {label!r} given twice (as strings). "
                    "Allowed: one entry per attribute value."
                )
            self.specs[label] = _nested(spec, f"rates for {by}={label!r}")
        self.default = None if default is None else _nested(default, f"default rates for {by}")
        self.name = "by_attribute"
        self.transform = None

    def from_uniforms(self, u1, u2):
        """Not available: rates by attribute need the nodes' attributes.

        Use :meth:`RateDistribution.draw` with ``attributes``.

        Parameters
        ----------
        u1, u2 : ndarray of float
            Ignored.

        Raises
        ------
        TypeError
            Always (the message says to call ``draw(..., attributes=...)``).
        """
        raise TypeError(
            f"Rates by attribute '{self.by}' need the nodes' attributes: call "
            "draw(..., attributes=<DataFrame indexed by node id>)."
        )

    def _labels(self, node_ids: np.ndarray, attributes: pd.DataFrame | None) -> np.ndarray:
        """The attribute value of each node, as a string."""
        if attributes is None or self.by not in attributes.columns:
            have = [] if attributes is None else [str(c) for c in attributes.columns]
            raise KeyError(
                f"Cannot draw rates by '{self.by}': no such node attribute; "
                f"attributes: {', '.join(have) or 'none given'}."
            )
        return attribute_labels(
            attributes[self.by].to_numpy()[attribute_rows(attributes, node_ids)]
        )

    def _node_rates(self, node_ids, u1, u2, attributes):
        labels = self._labels(node_ids, attributes)
        uniq, which = np.unique(labels, return_inverse=True)
        missing = [str(x) for x in uniq if x not in self.specs]
        if missing and self.default is None:
            raise ValueError(
                f"Invalid value(s) of node attribute '{self.by}': {_few(missing)} have no "
                f"rates. Allowed: {_few(list(self.specs))}; or give a 'default'."
            )
        out = np.empty(labels.size, dtype=np.float64)
        for j, label in enumerate(uniq):
            sel = which == j
            dist = self.specs.get(str(label), self.default)
            out[sel] = dist._node_rates(node_ids[sel], u1[sel], u2[sel], attributes)
        return out

    def params(self) -> dict[str, Any]:
        return {
            "name": "by_attribute",
            "by": self.by,
            "values": {k: d.params() for k, d in self.specs.items()},
            "default": None if self.default is None else self.default.params(),
        }


def _nested(spec: Any, where: str) -> RateDistribution:
    """``as_rate_distribution(spec)``, with errors saying where the spec sits."""
    try:
        return as_rate_distribution(spec)
    except (TypeError, ValueError) as err:
        raise type(err)(f"{where}: {err}") from err


def _by_attribute(spec: dict[str, Any]) -> ByAttribute:
    allowed = ("by", "values", "default")
    unknown = [k for k in spec if k not in allowed]
    if unknown or "values" not in spec:
        raise ValueError(
            f"Invalid rates-by-attribute spec with keys {_few(list(spec))}. Allowed: 'by', "
            "'values' (required) and 'default'."
        )
    return ByAttribute(spec["by"], spec["values"], spec.get("default"))


def as_rate_distribution(spec: Any) -> RateDistribution:
    """Turn a number, a preset spec, a frozen scipy distribution or a RateDistribution into one.

    Accepted: ``10`` (Hz, every unit), ``{"preset": "levy_exp", ...kwargs}``,
    ``{"preset": "truncated_normal", "mean_hz": 16.9, "sd_hz": 14.3}``,
    ``{"preset": "lognormal", "mean_hz": 1.9, "sd_hz": 1.3}``, a frozen ``scipy.stats``
    distribution, a :class:`RateDistribution`, or rates by node attribute:
    ``{"by": "pop_name", "values": {"CP": <spec>, "FSI": 7.5}, "default": <spec>}``
    (a :class:`ByAttribute`; ``"default"`` optional, nested specs of any accepted kind).

    Parameters
    ----------
    spec : float, dict, frozen scipy.stats distribution or RateDistribution
        The rates, in any of the forms above (numbers in Hz). A preset dict holds
        ``"preset"`` (one of ``levy_exp``, ``truncated_normal``, ``constant``,
        ``lognormal``, ``normal``) and that function's keyword arguments.

    Returns
    -------
    RateDistribution
        ``spec`` itself if it is one, else the distribution it describes.

    Raises
    ------
    TypeError
        If ``spec`` is none of the accepted kinds, or a preset's arguments are wrong.
    ValueError
        If a preset name or value is invalid.

    Examples
    --------
    >>> as_rate_distribution(10).params()
    {'name': 'constant', 'rate_hz': 10.0}
    >>> as_rate_distribution({"preset": "lognormal", "mean_hz": 2.0, "sd_hz": 1.0}).name
    'lognormal'
    """
    if isinstance(spec, RateDistribution):
        return spec
    if isinstance(spec, numbers.Real) and not isinstance(spec, bool):
        return constant(spec)
    if isinstance(spec, dict) and "by" in spec:
        return _by_attribute(spec)
    if isinstance(spec, dict):
        spec = dict(spec)
        name = spec.pop("preset", None)
        check_option("rates preset", name, PRESETS)
        return PRESETS[name](**spec)
    if hasattr(spec, "ppf"):
        return RateDistribution(spec)
    raise TypeError(
        f"Invalid rates {spec!r}. Allowed: a rate in Hz, a preset dict "
        f"({', '.join(PRESETS)}), a frozen scipy.stats distribution, a RateDistribution "
        "or a {'by': <attribute>, 'values': {...}} dict."
    )
