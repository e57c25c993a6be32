"""BMTK integration: raster_maker generators as input producers of a simulation config.

Importing :mod:`raster_maker` registers two hooks with BMTK (BMTK has no plugin
discovery, so ``import raster_maker`` in the run script is all it takes):

1. a ``SimInput`` module named ``raster_maker``: an ``inputs`` entry such as ::

       "exc_stim_spikes": {
           "input_type": "spikes", "module": "raster_maker",
           "generator": "functional_groups", "node_set": "exc_stim",
           "input_file": "$BASE_DIR/inputs/exc_stim_spikes.h5", "seed": 123,
           "group_size": 100
       }

   makes (or reuses) the SONATA file when the simulator reads the config, then hands
   BMTK a standard ``sonata`` input. Keys other than the reserved ones below are the
   generator's parameters (or put them in a ``"params"`` dict).
2. a ``@spikes_generator`` function named ``raster_maker`` for bionet's
   ``"module": "function"`` route (``"spikes_function": "raster_maker"`` plus the same
   keys): it returns, for each node, exactly the times the file route writes.

The time window is the config's ``run`` block (``tstart``, default 0, and ``tstop``, ms)
unless the entry gives ``tstart``/``tstop``. A file is reused when its recorded
provenance (generator, parameters, seed, node ids, window, package version) matches;
otherwise it is regenerated. A file at ``input_file`` that raster_maker did not write
is never overwritten unless the entry says ``"overwrite": true``. Under MPI only rank 0
writes; the other ranks wait for it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._mpi import world
from .generate import generate, iter_spikes, make_model, provenance, trial_path
from .models import Units
from .sonata import read_provenance

__all__ = [
    "RESERVED_KEYS",
    "InputRequest",
    "input_request",
    "ensure_input_file",
    "raster_maker_inputs",
    "register_with_bmtk",
    "spikes_for_node",
]

logger = logging.getLogger("raster_maker")

MODULE_NAME = "raster_maker"
#: Keys of a BMTK input entry that are not generator parameters (BMTK's own keys and
#: raster_maker's options); every other key of the entry is passed to the generator.
RESERVED_KEYS = frozenset(
    {
        "input_type",
        "module",
        "generator",
        "node_set",
        "input_file",
        "seed",
        "tstart",
        "tstop",
        "population",
        "overwrite",
        "enabled",
        "spikes_function",
        "params",
        "config",
        "trial",
        "trials",
        "redraw_rates",
        "file_type",
    }
)


@dataclass
class InputRequest:
    """One raster_maker input of a config, resolved against the network.

    Made by :func:`input_request`; the fields are also its attributes.

    Parameters
    ----------
    name : str
        The entry's name under the config's ``inputs``.
    generator : str
        The registered generator name.
    params : dict
        The generator's parameters (the entry's non-reserved keys over its ``params``).
    population : str
        The population of the node set.
    node_ids : numpy.ndarray
        The node set's node ids, sorted.
    attributes : pandas.DataFrame or None
        The nodes' attributes, indexed by node id.
    tstart_ms, tstop_ms : float
        The generation window (ms): the entry's ``tstart``/``tstop``, else the config's
        ``run`` block (``tstart`` default 0).
    seed : int or None
        The entry's ``seed`` (None: a new seed per session, recorded in the file).
    input_file : pathlib.Path or None
        The entry's ``input_file`` (None for the spikes-function route).
    overwrite : bool, optional
        Whether a file raster_maker did not write may be overwritten.
    entry : dict, optional
        The entry as given.
    trial : int, optional
        The trial the simulation reads (default 0).
    trials : int or None, optional
        Number of trials to make, one file each (None: only ``trial``).
    redraw_rates : bool, optional
        Draw per-unit rates and assemblies per trial too (default: trials share them).
    """

    name: str
    generator: str
    params: dict[str, Any]
    population: str
    node_ids: np.ndarray
    attributes: Any
    tstart_ms: float
    tstop_ms: float
    seed: int | None
    input_file: Path | None
    overwrite: bool = False
    entry: dict[str, Any] = field(default_factory=dict)
    trial: int = 0
    trials: int | None = None
    redraw_rates: bool = False

    def model(self):
        """The generator with the entry's parameters.

        Returns
        -------
        InputModel
            ``make_model(generator, params)``.
        """
        return make_model(self.generator, self.params)

    def trial_indices(self) -> list[int]:
        """The trials this entry makes: all of ``trials``, or just ``trial``.

        Returns
        -------
        list of int
            ``0 .. trials - 1``, or ``[trial]`` without ``trials``.
        """
        return list(range(self.trials)) if self.trials else [self.trial]

    def file_for(self, trial: int) -> Path | None:
        """The file of one trial (the entry's ``input_file`` itself without ``trials``).

        Parameters
        ----------
        trial : int
            The trial.

        Returns
        -------
        pathlib.Path or None
            With ``trials``, :func:`~raster_maker.generate.trial_path` of ``input_file``
            (``{trial}`` in the name replaced, else ``_trial<k>`` before the suffix);
            else ``input_file`` (None without one).
        """
        if self.input_file is None or not self.trials:
            return self.input_file
        return trial_path(self.input_file, trial)

    def expected_provenance(self, seed: int, trial: int | None = None) -> dict[str, Any]:
        """What a file made for this request records (normalised through JSON).

        Parameters
        ----------
        seed : int
            The seed the file was (or would be) made with.
        trial : int, optional
            The trial (default: the entry's ``trial``).

        Returns
        -------
        dict
            The provenance attributes without their ``raster_maker_`` prefix (generator,
            params, seed as an int, window, number and digest of the node ids, version,
            trial from 1 on), as read back from a file.
        """
        model = self.model()
        units = Units(self.population, self.node_ids, self.attributes)
        trial = self.trial if trial is None else trial
        prov = provenance(model, units, self.tstart_ms, self.tstop_ms, seed, trial)
        prov = {k.removeprefix("raster_maker_"): v for k, v in prov.items()}
        prov["seed"] = int(seed)
        return json.loads(json.dumps(prov, sort_keys=True, default=str))


def _required(entry: dict, key: str, name: str) -> Any:
    if key not in entry or entry[key] in (None, ""):
        raise ValueError(
            f"Input '{name}' (module raster_maker) is missing '{key}'. Required: generator, "
            "node_set and (for the file route) input_file; optional: seed, tstart, tstop, "
            "population, overwrite, params."
        )
    return entry[key]


def input_request(
    config: dict, name: str, entry: dict, *, need_file: bool = True, make_followed: bool = True
) -> InputRequest:
    """Resolve one ``inputs`` entry of a (loaded) simulation config.

    ``make_followed=False`` resolves a ``follow`` of another input to that input's file
    without making it (for dry runs).

    Parameters
    ----------
    config : dict
        The loaded simulation config (as :func:`~raster_maker.nodesets.load_sim_config`
        returns it).
    name : str
        The entry's name under ``inputs``.
    entry : dict
        The entry.
    need_file : bool, optional
        Require ``input_file`` (the file route; default True). False for the
        spikes-function route.
    make_followed : bool, optional
        Make the file of an input that this one follows (``"follow": {"input":
        OTHER}``) if needed (default True).

    Returns
    -------
    InputRequest
        The entry resolved: generator, parameters, node set, window, seed, file, trials.

    Raises
    ------
    ValueError
        If a required field is missing, the node set is empty / spans populations, the
        entry's ``population`` is not the node set's, there is no ``tstop``, ``trial``
        or ``trials`` is invalid, or ``process='binned'`` starts at ``tstart`` <= 0 for
        NEST.
    KeyError
        Unknown node set, or a followed input that is not in the config (the message
        lists what exists).
    """
    from .nodesets import resolve_node_set

    generator = _required(entry, "generator", name)
    node_set = _required(entry, "node_set", name)
    input_file = Path(_required(entry, "input_file", name)) if need_file else None
    params = dict(entry.get("params") or {})
    params.update({k: v for k, v in entry.items() if k not in RESERVED_KEYS})
    params = _resolve_follow(config, name, params, make_followed)
    nodes = resolve_node_set(config, node_set)
    if "population" in entry and entry["population"] != nodes.population:
        raise ValueError(
            f"Input '{name}': 'population' is '{entry['population']}' but node set "
            f"{node_set!r} is in population '{nodes.population}'."
        )
    run = config.get("run", {})
    tstart = float(entry.get("tstart", run.get("tstart", 0.0)))
    if "tstop" not in entry and "tstop" not in run:
        raise ValueError(
            f"Input '{name}': no 'tstop' in the entry nor in the config's 'run' block."
        )
    tstop = float(entry.get("tstop", run.get("tstop")))
    simulator = str(config.get("target_simulator", "")).upper()
    if simulator == "NEST" and params.get("process") == "binned" and tstart <= 0:
        raise ValueError(
            f"Input '{name}': process='binned' puts first-bin spikes at tstart={tstart} ms, and "
            "NEST refuses spike times <= 0. "
            "Allowed: a 'tstart' > 0 in the entry, or another process."
        )
    seed = entry.get("seed")
    trials = entry.get("trials")
    if trials is not None:
        from ._check import check_int

        trials = check_int(f"inputs.{name}.trials", trials, min_value=1)
    trial = entry.get("trial", 0)
    if (
        not isinstance(trial, int)
        or isinstance(trial, bool)
        or trial < 0
        or (trials and trial >= trials)
    ):
        allowed = f"0 .. {trials - 1}" if trials else "an integer >= 0"
        raise ValueError(f"Invalid value for 'inputs.{name}.trial': {trial!r}. Allowed: {allowed}.")
    return InputRequest(
        name=name,
        generator=generator,
        params=params,
        population=nodes.population,
        node_ids=np.asarray(nodes.node_ids),
        attributes=nodes.attributes,
        tstart_ms=tstart,
        tstop_ms=tstop,
        seed=None if seed is None else int(seed),
        input_file=input_file,
        overwrite=bool(entry.get("overwrite", False)),
        entry=dict(entry),
        trial=trial,
        trials=trials,
        redraw_rates=bool(entry.get("redraw_rates", False)),
    )


def _resolve_follow(config: dict, name: str, params: dict, make: bool = True) -> dict:
    """``"follow": {"input": OTHER}`` names another raster_maker input of the config."""
    follow = params.get("follow")
    if not (isinstance(follow, dict) and "input" in follow):
        return params
    other = follow["input"]
    inputs = config.get("inputs", {})
    if other not in inputs:
        raise KeyError(
            f"Input '{name}' follows input '{other}', which is not in the config; inputs: "
            f"{', '.join(inputs)}."
        )
    entry = inputs[other]
    params = dict(params)
    extra = {k: v for k, v in follow.items() if k != "input"}
    if entry.get("module") == MODULE_NAME:  # follow the other input's file
        req = input_request(config, other, entry, make_followed=make)
        path = (
            ensure_input_file(config, other, entry, request=req)
            if make
            else req.file_for(req.trial)
        )
        params["follow"] = {
            "spikes_file": str(path),
            "population": req.population,
            "n_units": int(req.node_ids.size),
            **extra,
        }
    else:  # a spikes_function input: the same spikes, drawn in memory
        table = _function_table(config, other, entry)
        params["follow"] = {
            "timestamps_ms": table["timestamps"],
            "n_units": table["n_units"],
            **extra,
        }
    return params


def _matching_file(req: InputRequest, trial: int | None = None) -> bool:
    """Whether the file of ``trial`` (default: the entry's trial) can be reused."""
    trial = req.trial if trial is None else trial
    path = req.file_for(trial)
    if path is None or not path.exists():
        return False
    try:
        have = read_provenance(path, req.population)
    except (OSError, KeyError) as err:
        logger.warning("cannot read %s (%s); it will be regenerated if allowed", path, err)
        return False
    if not have:
        return False
    seed = req.seed if req.seed is not None else have.get("seed")
    want = req.expected_provenance(int(seed), trial)
    have = {k: v for k, v in have.items() if k != "derived"}  # solved values, not inputs
    got = json.loads(json.dumps(have, sort_keys=True, default=str))
    return want == got


_SESSION_SEEDS: dict[tuple, int] = {}
_ROOT_WORK = threading.local()
_ROOT_WORK.active = False


def ensure_input_file(
    config: dict,
    name: str,
    entry: dict,
    *,
    force: bool = False,
    request: InputRequest | None = None,
) -> Path:
    """Make the file of one ``raster_maker`` input, or reuse a matching one.

    A file is reused when its recorded provenance matches the entry's; a file that
    raster_maker made with other parameters is regenerated. With ``trials``, every
    trial's file is made. Under MPI (mpi4py, more than one rank) rank 0 does the work
    and the other ranks wait for its answer (an error on rank 0 is raised on every rank).

    Parameters
    ----------
    config : dict
        The loaded simulation config.
    name : str
        The entry's name under ``inputs``.
    entry : dict
        The entry.
    force : bool, optional
        Regenerate even a matching file, and overwrite any file (default False).
    request : InputRequest, optional
        The entry already resolved by :func:`input_request` (saves reading the network
        again).

    Returns
    -------
    pathlib.Path
        The file of the entry's ``trial``.

    Raises
    ------
    FileExistsError
        If a file at the path was not written by raster_maker and neither ``force`` nor
        the entry's ``overwrite`` allows overwriting it.
    ValueError, KeyError
        If the entry is invalid (see :func:`input_request`) or generation fails.
    """
    comm = world()
    if comm is None or _ROOT_WORK.active:  # no MPI, or already inside rank 0's own work
        return _ensure(config, name, entry, force, request)
    result: Any = None
    if comm.Get_rank() == 0:
        _ROOT_WORK.active = True  # a followed input made on the way is rank 0's alone
        try:
            result = _ensure(config, name, entry, force, request)
        except Exception as err:  # every rank must learn of it, or they deadlock
            result = err
        finally:
            _ROOT_WORK.active = False
    result = comm.bcast(result, root=0)
    if isinstance(result, Exception):
        raise result
    return result


def _ensure(
    config: dict, name: str, entry: dict, force: bool, req: InputRequest | None = None
) -> Path:
    if req is None:
        req = input_request(config, name, entry)
    if req.seed is None and req.trials:  # trials share one seed: reuse a matching one's
        for k in req.trial_indices():
            if _matching_file(req, k):
                seed = int(read_provenance(req.file_for(k), req.population)["seed"])
                _SESSION_SEEDS.setdefault((str(req.input_file), req.population), seed)
                break
    for k in req.trial_indices():
        _ensure_trial(name, req, k, force)
    return req.file_for(req.trial)


def _ensure_trial(name: str, req: InputRequest, trial: int, force: bool) -> Path:
    path = req.file_for(trial)
    if not force and _matching_file(req, trial):
        logger.info("input '%s': reusing %s (provenance matches)", name, path)
        return path
    overwrite = force or req.overwrite
    if path.exists() and not overwrite:
        if _read_provenance_or_empty(path, req.population):
            overwrite = True  # our own derived file with other parameters: regenerate it
            logger.info("input '%s': %s was made with other parameters; regenerating", name, path)
        else:
            raise FileExistsError(
                f"Input '{name}': '{path}' exists and was not written by raster_maker; refusing "
                'to overwrite it. Add "overwrite": true to the entry, or choose another input_file.'
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    seed = req.seed
    if seed is None:  # parsed twice by the simulator: the same seed within a session
        seed = _SESSION_SEEDS.setdefault((str(req.input_file), req.population), _new_seed())
    generate(
        req.generator,
        req.population,
        req.node_ids,
        req.tstart_ms,
        req.tstop_ms,
        params=req.params,
        seed=seed,
        attributes=req.attributes,
        output=path,
        overwrite=overwrite,
        comm=None,  # under MPI only rank 0 gets here; the others wait in ensure_input_file
        trial=trial,
        redraw_rates=req.redraw_rates,
    )
    return path


def _new_seed() -> int:
    from .streams import new_seed

    return new_seed()


def _read_provenance_or_empty(path: Path, population: str) -> dict:
    try:
        return read_provenance(path, population)
    except (OSError, KeyError):
        return {}


def raster_maker_inputs(config: dict) -> dict[str, dict]:
    """The ``inputs`` entries of a config handled by raster_maker (file route).

    Parameters
    ----------
    config : dict
        The loaded simulation config.

    Returns
    -------
    dict of str to dict
        Name -> entry, for the entries with ``"module": "raster_maker"`` that are not
        disabled (``"enabled": false``), in config order.
    """
    return {
        name: entry
        for name, entry in config.get("inputs", {}).items()
        if entry.get("module") == MODULE_NAME and entry.get("enabled", True)
    }


# --------------------------------------------------------------------------- BMTK hooks
def _config_from_stack() -> dict | None:
    """Find the simulation config BMTK is parsing, from the calling frames.

    BMTK hands an input module only its own entry; the config it came from is a local
    (``cfg`` / ``config``) of a caller: ``inputs.from_config(cfg)`` or a simulator's
    ``from_config``.
    """
    frame = sys._getframe(1)
    while frame is not None:
        for key in ("cfg", "config", "conf"):
            val = frame.f_locals.get(key)
            if isinstance(val, dict) and "inputs" in val and "networks" in val:
                return val
        frame = frame.f_back
    return None


def _config_for(entry: dict, name: str) -> dict:
    if entry.get("config"):
        from .nodesets import load_sim_config

        return load_sim_config(entry["config"])
    cfg = _config_from_stack()
    if cfg is None:
        raise ValueError(
            f"Input '{name}': cannot find the simulation config this entry belongs to; add "
            '"config": "${configfname}" to the entry.'
        )
    return cfg


def _make_siminput_class():
    from bmtk.simulator.utils.simulation_inputs import SimInput

    class RasterMakerInput(SimInput):
        """``"module": "raster_maker"``: generate (or reuse) the file, then act as ``sonata``."""

        def __init__(self, input_name, input_type, module, params):
            super().__init__(input_name, input_type, module, params)
            if not self.enabled:
                return
            entry = dict(params)
            config = _config_for(entry, input_name)
            path = ensure_input_file(config, input_name, entry)
            req_pop = entry.get("population")
            self.module = "sonata"
            self.params = {
                k: v for k, v in self.params.items() if k in ("node_set", "trial", "file_type")
            }
            self.params["input_file"] = str(path)
            if req_pop:
                self.params["population"] = req_pop

        @staticmethod
        def avail_modules():
            return [MODULE_NAME]

    return RasterMakerInput


_FUNCTION_CACHE: dict[str, dict[str, Any]] = {}


def _cache_key(config: dict, name: str, entry: dict) -> str:
    blob = json.dumps([config.get("config_path"), name, entry], sort_keys=True, default=str)
    return hashlib.sha1(blob.encode()).hexdigest()


def spikes_for_node(node, sim=None) -> np.ndarray:
    """BMTK ``@spikes_generator`` named ``raster_maker``: the times (ms) of one virtual node.

    The node's input entry is the config's ``"module": "function"`` entry with
    ``"spikes_function": "raster_maker"`` whose node set holds the node's population. The
    whole node set is generated once (same spikes as the file route) and cached.

    Parameters
    ----------
    node : object
        BMTK's virtual node (``population_name`` and ``node_id`` are read).
    sim : object, optional
        The simulation BMTK passes; not used (the config is found on the call stack).

    Returns
    -------
    numpy.ndarray
        The node's spike times (ms, float64, sorted); empty for a node without spikes.

    Raises
    ------
    RuntimeError
        If no simulation config is on the call stack.
    KeyError
        If no ``raster_maker`` spikes-function input covers the node's population.
    """
    config = _config_from_stack()
    if config is None:
        raise RuntimeError("raster_maker spikes function: no simulation config on the call stack.")
    population = node.population_name
    entries = {
        n: e
        for n, e in config.get("inputs", {}).items()
        if e.get("module") == "function" and e.get("spikes_function") == MODULE_NAME
    }
    for name, entry in entries.items():
        table = _function_table(config, name, entry)
        if table.get("population") == population:
            return table["times"].get(int(node.node_id), np.zeros(0))
    raise KeyError(
        f"No 'raster_maker' spikes_function input for population '{population}'; inputs: "
        f"{', '.join(entries) or 'none'}."
    )


def _function_table(config: dict, name: str, entry: dict) -> dict:
    """The spikes of one spikes_function input, generated once per session."""
    key = _cache_key(config, name, entry)
    if key not in _FUNCTION_CACHE:
        _FUNCTION_CACHE[key] = _spikes_by_node(input_request(config, name, entry, need_file=False))
    return _FUNCTION_CACHE[key]


def _spikes_by_node(req: InputRequest) -> dict:
    seed = req.seed
    if seed is None:
        seed = _SESSION_SEEDS.setdefault(("function", req.name, req.population), _new_seed())
    model = req.model()
    units = Units(req.population, req.node_ids, req.attributes)
    parts = list(
        iter_spikes(
            model,
            units,
            req.tstart_ms,
            req.tstop_ms,
            seed,
            trial=req.trial,
            redraw_rates=req.redraw_rates,
        )
    )
    ids = np.concatenate([p[0] for p in parts])
    ts = np.concatenate([p[1] for p in parts])
    nodes, first = np.unique(ids, return_index=True)  # ids come in node order
    times = dict(zip(nodes.tolist(), np.split(ts, first[1:]), strict=True))
    return {
        "population": req.population,
        "times": times,
        "timestamps": ts,
        "n_units": int(req.node_ids.size),
    }


_registered = False


def register_with_bmtk() -> bool:
    """Register the SimInput module and the spikes function with BMTK (idempotent).

    Returns
    -------
    bool
        True once registered; False (and nothing done) when BMTK is not importable.
    """
    global _registered
    if _registered:
        return True
    try:
        from bmtk.simulator.core.pyfunction_cache import py_modules
        from bmtk.simulator.utils.simulation_inputs import SimInput
    except ImportError:  # pragma: no cover - bmtk is a dependency
        return False
    existing = SimInput.registry.get(MODULE_NAME)
    if existing is None:
        SimInput.register_module(_make_siminput_class())
    py_modules.add_spikes_generator(MODULE_NAME, spikes_for_node, overwrite=True)
    _registered = True
    return True
