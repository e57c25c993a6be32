"""A small registry of input models (generators), extensible through entry points.

Third-party packages add generators by declaring, in their ``pyproject.toml``::

    [project.entry-points."raster_maker.generators"]
    my_model = "my_package.models:MyModel"

where ``MyModel`` subclasses :class:`raster_maker.models.RateModel` (blocks of units
sharing a rate profile: implement ``blocks``) or :class:`raster_maker.models.InputModel`
(any :class:`~raster_maker.plans.Plan`: implement ``plan``). They are loaded the
first time a name is looked up.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any

__all__ = [
    "register",
    "get_generator",
    "available_generators",
    "make_model",
    "ENTRY_POINT_GROUP",
]

#: The entry-point group in which third-party packages declare generators.
ENTRY_POINT_GROUP = "raster_maker.generators"
logger = logging.getLogger("raster_maker")

_REGISTRY: dict[str, type] = {}
_entry_points_loaded = False


def register(cls: type | None = None, *, name: str | None = None, overwrite: bool = False) -> Any:
    """Register an input model class under ``name`` (default: its ``name`` attribute).

    Call it on a class, ``register(MyModel)`` (the first, positional argument ``cls``:
    an :class:`~raster_maker.models.InputModel` subclass), or use it as a decorator:
    ``@register`` or ``@register(name="my_model")``.

    Parameters
    ----------
    name : str, optional
        Name to register under; default the class's ``name`` attribute.
    overwrite : bool, optional
        Replace a different class already registered under that name (default False).

    Returns
    -------
    type or callable
        The class itself when one is given (the decorator leaves it unchanged), else a
        decorator that registers and returns its argument.

    Raises
    ------
    ValueError
        If the class has no name to register under, or the name is taken by another
        class and ``overwrite`` is False.

    Examples
    --------
    A model class in a script or plugin (not run here: it would stay registered)::

        @register
        @dataclass
        class Bursty(RateModel):
            name: ClassVar[str] = "bursty"
            rate_hz: float = 5.0

            def blocks(self, units, tstart_ms, tstop_ms, seed, ctx=None): ...
    """

    def deco(c: type) -> type:
        key = name or getattr(c, "name", None)
        if not key or not isinstance(key, str):
            raise ValueError(f"Generator class {c.__name__} has no 'name' to register it under.")
        if key in _REGISTRY and _REGISTRY[key] is not c and not overwrite:
            raise ValueError(
                f"A generator named '{key}' is already registered ({_REGISTRY[key]!r})."
            )
        _REGISTRY[key] = c
        return c

    return deco(cls) if cls is not None else deco


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in _REGISTRY:
            continue
        try:
            register(ep.load(), name=ep.name)
        except Exception as err:  # a broken plugin must not break the package
            logger.warning("could not load generator entry point %r: %s", ep.value, err)


def available_generators() -> list[str]:
    """Names of all registered generators (built-in and from entry points).

    Imports the built-in model modules and loads the entry points of the group
    ``raster_maker.generators`` (once) before listing.

    Returns
    -------
    list of str
        The registered names, sorted.
    """
    from . import (  # noqa: F401  (the built-in generators)
        correlated,
        layers,
        models,
        replay,
        stimulus,
        synchrony,
    )

    _load_entry_points()
    return sorted(_REGISTRY)


def get_generator(name: str) -> type:
    """The generator class registered under ``name``.

    Parameters
    ----------
    name : str
        A registered generator name (see :func:`available_generators`).

    Returns
    -------
    type
        The registered class.

    Raises
    ------
    KeyError
        If there is none; the message lists the available names.
    """
    if name not in _REGISTRY:  # not registered yet: import the built-ins, scan plugins
        names = available_generators()
        if name not in _REGISTRY:
            raise KeyError(f"Unknown generator {name!r}. Available: {', '.join(names)}.")
    return _REGISTRY[name]


def make_model(generator: Any, params: Mapping[str, Any] | None = None) -> Any:
    """Instantiate a registered generator by name with keyword parameters.

    Parameters
    ----------
    generator : str or InputModel
        A registered generator name, or an already built model (returned as is).
    params : mapping, optional
        Keyword parameters of the generator (its dataclass fields).

    Returns
    -------
    InputModel
        The model.

    Raises
    ------
    KeyError
        Unknown generator name (the message lists the available ones).
    TypeError
        Unknown parameter (the message lists the allowed ones), or ``params`` given
        with a model object.

    Examples
    --------
    >>> from raster_maker.registry import make_model
    >>> make_model("poisson", {"rate_hz": 5.0}).name
    'poisson'
    """
    from .models import InputModel

    if isinstance(generator, InputModel):
        if params:
            raise TypeError("Pass parameters either in the model object or in 'params', not both.")
        return generator
    cls = get_generator(generator)
    params = dict(params or {})
    allowed = (
        sorted(f.name for f in dataclasses.fields(cls)) if dataclasses.is_dataclass(cls) else []
    )
    unknown = sorted(set(params) - set(allowed)) if allowed else []
    if unknown:
        raise TypeError(
            f"Unknown parameter(s) {', '.join(map(repr, unknown))} for generator '{generator}'. "
            f"Allowed: {', '.join(allowed)}."
        )
    return cls(**params)
