"""Layers: one input as the sum of independent inputs for the same nodes.

A shell baseline plus a stimulus, background noise plus synchronous events: each layer
is any generator with its own parameters, drawn from its own streams (the layer's index
prefixes every stream purpose), and the population's trains are the superposition of
the layers' trains (for Poisson layers, a Poisson process whose rate is the sum).

From a simulation config::

    "thalamus": {
      "input_type": "spikes", "module": "raster_maker", "generator": "layers",
      "node_set": "thalamus", "input_file": "$INPUT_DIR/thalamus.h5", "seed": 7,
      "layers": [
        {"generator": "poisson",
         "rate_hz": {"by": "pop_name", "values": {"CP": {"preset": "lognormal",
                                                         "mean_hz": 1.9, "sd_hz": 1.3}},
                     "default": 2.0}},
        {"generator": "stimulus", "assemblies": {"method": "random", "n": 9},
         "pattern": "long", "on_ms": 1000, "off_ms": 500, "burst_hz": 50}
      ]
    }
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from .models import InputModel, Units
from .plans import Context, LayeredPlan, Plan
from .registry import make_model, register

__all__ = ["Layers"]


@register
@dataclass
class Layers(InputModel):
    """The superposition of independent layers for the same nodes.

    Parameters
    ----------
    layers : list of dict or InputModel
        Each a generator entry ``{"generator": NAME, **params}`` (or ``"params"``) or
        an :class:`~raster_maker.models.InputModel`. Layer ``i`` draws from streams
        prefixed ``layer<i>/``, so two layers of the same generator are independent.
        A layer's own ``transforms`` apply to its spikes only.
    transforms : list of dict, optional
        Spike transforms applied in order to every node's train
        (``[{"jitter_ms": 2}, {"keep": 0.5}, {"shift_ms": 5}]``; see
        :mod:`raster_maker.transforms`), after the layers are superposed.

    Raises
    ------
    ValueError
        If ``layers`` is not a non-empty list, a layer is not a generator entry or is
        itself ``layers``, or a layer's parameters are invalid (the message names the
        layer).
    TypeError, KeyError
        For a layer's unknown parameter or generator name (the message names the layer).
    """

    name: ClassVar[str] = "layers"
    layers: Any = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.layers, (list, tuple)) or not self.layers:
            raise ValueError(
                f"Invalid value for 'layers': {self.layers!r}. Allowed: a non-empty list of "
                'generator entries such as {"generator": "poisson", "rate_hz": 5}.'
            )
        self.models = [_layer_model(i, spec) for i, spec in enumerate(self.layers)]

    def plan(self, units: Units, ctx: Context) -> Plan:
        """The superposition of the layers' plans (each with its own transforms).

        Parameters
        ----------
        units : Units
            The nodes to generate for.
        ctx : Context
            The generation's streams and window; layer ``i`` draws from
            ``ctx.sub("layer<i>/")``.

        Returns
        -------
        LayeredPlan
            One plan per layer, in order.
        """
        return LayeredPlan(
            [m.build_plan(units, ctx.sub(f"layer{i}/")) for i, m in enumerate(self.models)]
        )

    def params(self) -> dict[str, Any]:
        """JSON-able parameters (recorded in output files).

        Returns
        -------
        dict
            ``{"layers": [{"generator": NAME, **params}, ...]}`` with each layer's own
            recorded parameters, plus ``transforms`` if any.
        """
        out = super().params()
        out["layers"] = [{"generator": m.name, **m.params()} for m in self.models]
        return out


def _layer_model(i: int, spec: Any) -> InputModel:
    if isinstance(spec, InputModel):
        return spec
    if not isinstance(spec, dict) or "generator" not in spec:
        raise ValueError(
            f"Invalid layer {i}: {spec!r}. Allowed: a dict with 'generator' and its "
            "parameters, or an InputModel."
        )
    spec = dict(spec)
    name = spec.pop("generator")
    if name == Layers.name:
        raise ValueError(f"Invalid layer {i}: a layer cannot itself be 'layers'.")
    params = dict(spec.pop("params", None) or {})
    params.update(spec)
    try:
        return make_model(name, params)
    except (TypeError, ValueError, KeyError) as err:
        raise type(err)(f"Layer {i} ({name}): {err}") from err
