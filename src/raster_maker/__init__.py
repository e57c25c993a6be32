"""raster_maker: realistic input spike rasters for BMTK / SONATA network models.

The new API::

    from raster_maker import generate
    generate("functional_groups", "exc_stim", node_ids, 0.0, 5000.0, seed=1, output="exc.h5")

The original module's API (``SonataWriter``, ``make_noise``, ``make_save_spikes``,
``shift_exc_noise``, ``minmax``, ``zscore``) is importable from here unchanged; see
:mod:`raster_maker.legacy`.

Importing the package registers its BMTK hooks (the ``raster_maker`` input module and
``spikes_function``), see :mod:`raster_maker.bmtk_inputs`.
"""

from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("raster-maker")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

logging.getLogger("raster_maker").addHandler(logging.NullHandler())

from . import legacy  # noqa: E402
from .assemblies import Assemblies, make_assemblies  # noqa: E402
from .generate import GenerationResult, generate, iter_spikes, make_model  # noqa: E402
from .layers import Layers  # noqa: E402
from .legacy import (  # noqa: E402
    SonataWriter,
    make_noise,
    make_save_spikes,
    minmax,
    shift_exc_noise,
    zscore,
)
from .models import (  # noqa: E402
    FunctionalGroups,
    InputModel,
    Poisson,
    RateModel,
    Rhythmic,
    ShiftedInhibition,
)
from .processes import SpikeProcess  # noqa: E402
from .profiles import (  # noqa: E402
    Constant,
    FollowSpikes,
    FromArray,
    FromCallable,
    PinkNoise,
    Profile,
    Sinusoid,
)
from .rates import (  # noqa: E402
    RateDistribution,
    levy_exp,
    lognormal,
    normal,
    truncated_normal,
)
from .reading import SpikesFileError, check_spikes_file, read_spike_arrays  # noqa: E402
from .registry import available_generators, get_generator, register  # noqa: E402
from .replay import Replay  # noqa: E402
from .sonata import (  # noqa: E402
    SpikesWriter,
    from_spike_trains,
    read_metadata,
    read_provenance,
    read_spikes,
    to_spike_trains,
    write_spikes,
)
from .stimulus import Stimulus, assembly_table, schedule_table  # noqa: E402
from .synchrony import CompoundPoisson, MultipleInteraction, SingleInteraction  # noqa: E402
from .traces import PiecewiseLinearGrid, RateTrace  # noqa: E402

__all__ = [
    "__version__",
    # new API
    "generate",
    "iter_spikes",
    "make_model",
    "GenerationResult",
    "InputModel",
    "RateModel",
    "Poisson",
    "FunctionalGroups",
    "ShiftedInhibition",
    "Rhythmic",
    "Layers",
    "Stimulus",
    "schedule_table",
    "assembly_table",
    "Assemblies",
    "make_assemblies",
    "Replay",
    "MultipleInteraction",
    "SingleInteraction",
    "CompoundPoisson",
    "RateTrace",
    "PiecewiseLinearGrid",
    "SpikeProcess",
    "Profile",
    "Constant",
    "Sinusoid",
    "PinkNoise",
    "FromArray",
    "FromCallable",
    "FollowSpikes",
    "RateDistribution",
    "levy_exp",
    "truncated_normal",
    "lognormal",
    "normal",
    "available_generators",
    "get_generator",
    "register",
    "SpikesWriter",
    "write_spikes",
    "read_spikes",
    "read_provenance",
    "read_metadata",
    "read_spike_arrays",
    "check_spikes_file",
    "SpikesFileError",
    "to_spike_trains",
    "from_spike_trains",
    # the original module's API
    "legacy",
    "SonataWriter",
    "make_noise",
    "make_save_spikes",
    "minmax",
    "shift_exc_noise",
    "zscore",
]


# Heavier parts (matplotlib, statistics) load on first use.
_LAZY = {
    "plot_inputs": "plotting",
    "input_figure_data": "plotting",
    "spike_stats": "report",
    "cross_correlations": "report",
    "stats_report": "report",
    "describe_file": "report",
    "validate_file": "validation",
    "Problem": "validation",
    "resolve_node_set": "nodesets",
    "load_sim_config": "nodesets",
    "NodeSet": "nodesets",
    "list_populations": "nodesets",
}
_LAZY_MODULES = ("nodesets", "plotting", "report", "validation")
__all__ += list(_LAZY)


def __getattr__(name: str):
    import importlib

    if name in _LAZY_MODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'raster_maker' has no attribute {name!r}")


def _register_bmtk() -> None:
    from .bmtk_inputs import register_with_bmtk

    register_with_bmtk()


_register_bmtk()
