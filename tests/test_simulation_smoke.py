"""Smoke tests: the example network runs in bionet (NEURON) and pointnet (NEST).

Input spikes are plain Poisson trains written with h5py in SONATA layout, one file per
virtual population, so these tests do not depend on raster_maker's generators.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import h5py
import numpy as np
import pytest
from simulation import (
    BIONET_CONFIG,
    INPUT_POPULATIONS,
    POINTNET_CONFIG,
    run_bionet,
    run_pointnet,
    write_config,
)

from raster_maker.nodesets import resolve_node_set

TSTOP = 2000.0  # ms
RATES = {
    "exc_stim": 11.0,
    "prox_inh_stim": 20.0,
    "dist_inh_stim": 5.0,
}  # Hz, near the example recipe
N_TARGET = 5

SIMULATORS = {
    "bionet": (BIONET_CONFIG, run_bionet, "neuron"),
    "pointnet": (POINTNET_CONFIG, run_pointnet, "nest"),
}


def _params():
    out = []
    for name, (_, _, module) in SIMULATORS.items():
        marks = [getattr(pytest.mark, module), pytest.mark.slow]
        if importlib.util.find_spec(module) is None:
            marks.append(pytest.mark.skip(reason=f"{module} is not installed"))
        out.append(pytest.param(name, marks=marks, id=name))
    return out


def write_poisson_spikes(
    path: Path, population: str, n_nodes: int, rate_hz: float, tstop_ms: float, seed: int
) -> Path:
    """Homogeneous Poisson trains for nodes 0..n_nodes-1, SONATA spikes layout, times > 0."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(rate_hz * tstop_ms / 1000.0, n_nodes)
    node_ids = np.repeat(np.arange(n_nodes, dtype=np.uint64), counts)
    # strictly positive times: NEST rejects spikes at t <= 0
    timestamps = rng.uniform(0.1, tstop_ms, node_ids.size)
    order = np.argsort(timestamps, kind="stable")
    with h5py.File(path, "w") as fh:
        fh.attrs["magic"] = np.uint32(0x0A7A)
        fh.attrs["version"] = np.array([0, 1], dtype=np.uint32)
        grp = fh.create_group(f"spikes/{population}")
        ts = grp.create_dataset("timestamps", data=timestamps[order].astype(np.float64))
        ts.attrs["units"] = "ms"
        grp.create_dataset("node_ids", data=node_ids[order])
    return path


@pytest.fixture(scope="module")
def input_dir(tmp_path_factory):
    """Poisson input spikes for the three virtual populations of the example network."""
    folder = tmp_path_factory.mktemp("inputs")
    for seed, pop in enumerate(INPUT_POPULATIONS):
        n_nodes = len(resolve_node_set(BIONET_CONFIG, pop))
        write_poisson_spikes(
            folder / f"{pop}_spikes.h5", pop, n_nodes, RATES[pop], TSTOP, seed=100 + seed
        )
    return folder


def _sonata_inputs(keep=INPUT_POPULATIONS):
    """Plain ``"module": "sonata"`` entries reading the files written by ``input_dir``."""
    return {
        pop: {
            "input_type": "spikes",
            "module": "sonata",
            "node_set": pop,
            "population": pop,
            "input_file": f"$INPUT_DIR/{pop}_spikes.h5",
        }
        for pop in keep
    }


def _config(simulator, tmp_path, input_dir, inputs=None):
    template = SIMULATORS[simulator][0]
    if inputs is None:
        inputs = _sonata_inputs()
    return write_config(
        template,
        tmp_path / "config.json",
        manifest={"$INPUT_DIR": input_dir, "$OUTPUT_DIR": tmp_path / "output"},
        inputs=inputs,
        run={"tstop": TSTOP},
    )


def _input_entries(template, keep):
    return _sonata_inputs(keep)


@pytest.mark.parametrize("simulator", _params())
def test_targets_fire_with_inputs(simulator, tmp_path, input_dir):
    config = _config(simulator, tmp_path, input_dir)
    spikes = SIMULATORS[simulator][1](config)
    assert set(spikes["population"]) == {"target"}
    assert set(spikes["node_ids"].tolist()) == set(range(N_TARGET)), "every target fires"
    assert spikes["timestamps"].between(0.0, TSTOP).all()
    rate = len(spikes) / N_TARGET / (TSTOP / 1000.0)
    assert 1.0 < rate < 60.0, f"implausible mean target rate {rate:.1f} Hz"


@pytest.mark.parametrize("simulator", _params())
def test_targets_silent_without_inputs(simulator, tmp_path, input_dir):
    config = _config(simulator, tmp_path, input_dir, inputs={})
    spikes = SIMULATORS[simulator][1](config)
    assert len(spikes) == 0


@pytest.mark.parametrize("simulator", _params())
def test_inhibition_lowers_firing(simulator, tmp_path, input_dir):
    template, run, _ = SIMULATORS[simulator]
    both = run(_config(simulator, tmp_path / "all", input_dir))
    exc_only = run(
        _config(
            simulator, tmp_path / "exc", input_dir, inputs=_input_entries(template, {"exc_stim"})
        )
    )
    assert len(exc_only) > 1.5 * len(both) > 0


@pytest.mark.neuron
@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("neuron") is None, reason="neuron is not installed")
def test_ensure_vecstim_compiles_once(tmp_path):
    from raster_maker._neuron_mechanisms import ensure_vecstim

    mech = ensure_vecstim(tmp_path / "mechanisms")
    assert mech == (tmp_path / "mechanisms").resolve()
    assert (mech / "modfiles" / "vecevent.mod").is_file()
    libs = list(mech.glob("*/libnrnmech.*")) + list(mech.glob("*/.libs/libnrnmech.*"))
    assert libs, "nrnivmodl produced no library"
    mtimes = [lib.stat().st_mtime_ns for lib in libs]
    assert ensure_vecstim(mech) == mech
    assert [lib.stat().st_mtime_ns for lib in libs] == mtimes, "recompiled although up to date"
