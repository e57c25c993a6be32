"""Helpers to run the example bionet / pointnet simulations from tests (not a test module).

NEURON and NEST cannot be re-initialised inside one process, so every simulation runs in a
subprocess (``examples/bionet/run_bionet.py`` / ``examples/pointnet/run_pointnet.py``) and
the output spikes file is read back with h5py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from raster_maker.nodesets import load_sim_config

REPO = Path(__file__).resolve().parents[1]
BIONET_CONFIG = REPO / "examples" / "bionet" / "config.json"
POINTNET_CONFIG = REPO / "examples" / "pointnet" / "config.json"
RUN_BIONET = REPO / "examples" / "bionet" / "run_bionet.py"
RUN_POINTNET = REPO / "examples" / "pointnet" / "run_pointnet.py"
INPUT_POPULATIONS = ("exc_stim", "prox_inh_stim", "dist_inh_stim")

__all__ = [
    "BIONET_CONFIG",
    "POINTNET_CONFIG",
    "INPUT_POPULATIONS",
    "SimulationError",
    "write_config",
    "read_spikes",
    "run_bionet",
    "run_pointnet",
]


class SimulationError(RuntimeError):
    """A simulation subprocess failed; the message holds the tail of its output."""


def write_config(template, path, *, manifest=None, inputs=None, run=None) -> Path:
    """Write a copy of an example config to `path`, keeping it runnable from there.

    All manifest variables of `template` are replaced by their resolved absolute values (so
    ``$NETWORK_DIR`` etc. still point into the repository), then `manifest` overrides
    are applied (e.g. ``{"$INPUT_DIR": tmp / "inputs", "$OUTPUT_DIR": tmp / "out"}``).

    Parameters
    ----------
    template : path-like
        An example config json (e.g. :data:`BIONET_CONFIG`).
    path : path-like
        Where to write the new config.
    manifest : dict, optional
        Manifest overrides; keys with or without the leading ``$``.
    inputs : dict, optional
        Replaces the ``inputs`` block (``{}`` for a run without inputs).
    run : dict, optional
        Updates the ``run`` block (e.g. ``{"tstop": 1000.0}``).

    Returns
    -------
    pathlib.Path
        `path`.
    """
    template = Path(template)
    raw = json.loads(template.read_text())
    resolved = load_sim_config(template)["manifest"]
    new_manifest = {}
    for key in raw.get("manifest", {}):
        name = key.lstrip("$")
        new_manifest[key] = os.path.normpath(str(resolved[name]))
    for key, value in (manifest or {}).items():
        key = key if key.startswith("$") else f"${key}"
        new_manifest[key] = str(value)
    raw["manifest"] = new_manifest
    if inputs is not None:
        raw["inputs"] = inputs
    if run:
        raw.setdefault("run", {}).update(run)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(raw, indent=2))
    return path


def read_spikes(path, population: str | None = None) -> pd.DataFrame:
    """Read a SONATA spikes file into a DataFrame.

    Parameters
    ----------
    path : path-like
        The spikes h5 file.
    population : str, optional
        Only this population (default: all).

    Returns
    -------
    pandas.DataFrame
        Columns ``population``, ``node_ids`` (uint64), ``timestamps`` (float64, ms), sorted by
        time.  Empty (with these columns) if there are no spikes.
    """
    frames = []
    path = Path(path)
    if path.exists():
        with h5py.File(path, "r") as fh:
            pops = list(fh["spikes"].keys()) if "spikes" in fh else []
            for pop in pops:
                if population is not None and pop != population:
                    continue
                grp = fh["spikes"][pop]
                if "node_ids" not in grp or "timestamps" not in grp:
                    continue
                frames.append(
                    pd.DataFrame(
                        {
                            "population": pop,
                            "node_ids": grp["node_ids"][()].astype(np.uint64),
                            "timestamps": grp["timestamps"][()].astype(np.float64),
                        }
                    )
                )
    if not frames:
        return pd.DataFrame(
            {
                "population": pd.Series([], dtype=object),
                "node_ids": pd.Series([], dtype=np.uint64),
                "timestamps": pd.Series([], dtype=np.float64),
            }
        )
    df = pd.concat(frames, ignore_index=True)
    return df.sort_values(["timestamps", "node_ids"], kind="stable").reset_index(drop=True)


def _spikes_path(config_path: Path) -> Path:
    conf = load_sim_config(config_path)
    output = conf.get("output", {})
    spikes = output.get("spikes_file", "spikes.h5")
    out_dir = output.get("output_dir", ".")
    path = Path(spikes) if os.path.isabs(spikes) else Path(out_dir) / spikes
    if not path.is_absolute():
        path = config_path.parent / path  # the subprocess runs in the config's folder
    return path


def _run(script: Path, config_path, env, timeout, population, launcher=()) -> pd.DataFrame:
    config_path = Path(config_path).resolve()
    spikes = _spikes_path(config_path)
    if spikes.exists():
        spikes.unlink()  # never read a previous run's output
    full_env = dict(os.environ)
    full_env.setdefault("OMP_WAIT_POLICY", "passive")
    full_env.update(env or {})
    try:
        proc = subprocess.run(
            [*launcher, sys.executable, str(script), str(config_path)],
            cwd=config_path.parent,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        raise SimulationError(f"{script.name} {config_path} timed out after {timeout} s") from exc
    if proc.returncode != 0 or not spikes.exists():
        tail = "\n".join((proc.stdout + "\n" + proc.stderr).splitlines()[-40:])
        what = (
            f"exited with {proc.returncode}"
            if proc.returncode
            else f"wrote no spikes file {spikes}"
        )
        raise SimulationError(f"{script.name} {config_path} {what}:\n{tail}")
    return read_spikes(spikes, population)


def run_bionet(
    config_path, env=None, timeout: float = 300.0, population: str | None = "target", launcher=()
) -> pd.DataFrame:
    """Run a bionet (NEURON) simulation in a subprocess and return its output spikes.

    ``VecStim`` is compiled on demand by the run script (see
    :func:`raster_maker._neuron_mechanisms.ensure_vecstim`).

    Parameters
    ----------
    config_path : path-like
        Simulation config (e.g. written by :func:`write_config`).
    env : dict, optional
        Extra environment variables for the subprocess.
    timeout : float, optional
        Seconds before the run is killed (raises :class:`SimulationError`).
    population : str or None, optional
        Population whose spikes are returned (default ``"target"``; None: all).

    Returns
    -------
    pandas.DataFrame
        Columns ``population``, ``node_ids``, ``timestamps`` (ms), sorted by time.
    """
    return _run(RUN_BIONET, config_path, env, timeout, population, launcher)


def run_pointnet(
    config_path, env=None, timeout: float = 300.0, population: str | None = "target"
) -> pd.DataFrame:
    """Run a pointnet (NEST) simulation in a subprocess and return its output spikes.

    Parameters and return value as for :func:`run_bionet`.  ``OMP_WAIT_POLICY=passive`` is
    set unless `env` or the environment says otherwise.
    """
    return _run(RUN_POINTNET, config_path, env, timeout, population)
