"""raster_maker as a BMTK input producer: config entries, reuse, the function route, real runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from simulation import BIONET_CONFIG, POINTNET_CONFIG, run_bionet, run_pointnet, write_config

import raster_maker
from raster_maker.bmtk_inputs import (
    _spikes_by_node,
    ensure_input_file,
    input_request,
    raster_maker_inputs,
)
from raster_maker.cli import main
from raster_maker.nodesets import load_sim_config
from raster_maker.sonata import read_provenance, read_spikes

TSTOP = 1000.0


def _recipe_inputs(seed=1, **overrides):
    """The example recipe (raster_maker module), optionally changed per input."""
    inputs = json.loads(BIONET_CONFIG.read_text())["inputs"]
    for entry in inputs.values():
        entry["seed"] = seed
    for name, change in overrides.items():
        inputs[name].update(change)
    return inputs


def _config(tmp_path, inputs, template=BIONET_CONFIG, run=None, name="config.json"):
    return write_config(
        template,
        tmp_path / name,
        manifest={"$INPUT_DIR": tmp_path / "inputs", "$OUTPUT_DIR": tmp_path / "output"},
        inputs=inputs,
        run={"tstop": TSTOP, **(run or {})},
    )


# ---------------------------------------------------------------- without a simulator
def test_config_inputs_generate_then_reuse(tmp_path):
    cfg_path = _config(tmp_path, _recipe_inputs())
    assert main(["generate", str(cfg_path)]) == 0
    files = sorted((tmp_path / "inputs").glob("*.h5"))
    assert [f.name for f in files] == [
        "dist_inh_stim_spikes.h5",
        "exc_stim_spikes.h5",
        "prox_inh_stim_spikes.h5",
    ]
    stamps = {f: f.stat().st_mtime_ns for f in files}
    assert main(["generate", str(cfg_path)]) == 0  # provenance matches: nothing rewritten
    assert {f: f.stat().st_mtime_ns for f in files} == stamps
    prov = read_provenance(tmp_path / "inputs" / "exc_stim_spikes.h5", "exc_stim")
    assert prov["generator"] == "functional_groups"
    assert prov["seed"] == 1
    assert prov["tstop_ms"] == TSTOP  # the window comes from the run block
    assert prov["version"] == raster_maker.__version__


def test_changed_parameters_regenerate(tmp_path):
    cfg_path = _config(tmp_path, _recipe_inputs())
    main(["generate", str(cfg_path), "--only", "exc_stim"])
    before = read_spikes(tmp_path / "inputs" / "exc_stim_spikes.h5")
    cfg_path = _config(tmp_path, _recipe_inputs(seed=2))
    main(["generate", str(cfg_path), "--only", "exc_stim"])
    after = read_spikes(tmp_path / "inputs" / "exc_stim_spikes.h5")
    assert read_provenance(tmp_path / "inputs" / "exc_stim_spikes.h5", "exc_stim")["seed"] == 2
    assert not before.equals(after)


def test_dry_run_lists_and_writes_nothing(tmp_path, capsys):
    cfg_path = _config(tmp_path, _recipe_inputs())
    assert main(["generate", str(cfg_path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.count("generate ") == 3
    assert "exc_stim: functional_groups on 'exc_stim' (1000 nodes, 0-1000 ms, seed 1)" in out
    assert not (tmp_path / "inputs").exists()


def test_foreign_file_is_never_overwritten(tmp_path):
    cfg_path = _config(tmp_path, _recipe_inputs())
    (tmp_path / "inputs").mkdir()
    foreign = tmp_path / "inputs" / "exc_stim_spikes.h5"
    foreign.write_bytes(b"a user's own data")
    config = load_sim_config(cfg_path)
    with pytest.raises(FileExistsError, match="not written by raster_maker"):
        ensure_input_file(config, "exc_stim", config["inputs"]["exc_stim"])
    assert foreign.read_bytes() == b"a user's own data"
    entry = dict(config["inputs"]["exc_stim"], overwrite=True)
    ensure_input_file(config, "exc_stim", entry)
    assert read_provenance(foreign, "exc_stim")["generator"] == "functional_groups"


def test_entry_overrides_run_window(tmp_path):
    cfg_path = _config(tmp_path, _recipe_inputs(dist_inh_stim={"tstart": 200.0, "tstop": 400.0}))
    config = load_sim_config(cfg_path)
    req = input_request(config, "dist_inh_stim", config["inputs"]["dist_inh_stim"])
    assert (req.tstart_ms, req.tstop_ms) == (200.0, 400.0)
    path = ensure_input_file(config, "dist_inh_stim", config["inputs"]["dist_inh_stim"])
    ts = read_spikes(path)["timestamps"]
    assert ts.min() > 200.0 and ts.max() < 400.0


@pytest.mark.parametrize("missing", ["generator", "node_set", "input_file"])
def test_entry_missing_field(tmp_path, missing):
    inputs = _recipe_inputs()
    del inputs["exc_stim"][missing]
    config = load_sim_config(_config(tmp_path, inputs))
    with pytest.raises(ValueError, match=f"'exc_stim'.*missing '{missing}'"):
        input_request(config, "exc_stim", config["inputs"]["exc_stim"])


def test_entry_population_must_match_node_set(tmp_path):
    inputs = _recipe_inputs(exc_stim={"population": "prox_inh_stim"})
    config = load_sim_config(_config(tmp_path, inputs))
    with pytest.raises(ValueError, match="'population' is 'prox_inh_stim'.*'exc_stim'"):
        input_request(config, "exc_stim", config["inputs"]["exc_stim"])


def test_follow_unknown_input(tmp_path):
    inputs = _recipe_inputs(prox_inh_stim={"follow": {"input": "nope"}})
    config = load_sim_config(_config(tmp_path, inputs))
    with pytest.raises(KeyError, match="follows input 'nope'.*inputs: exc_stim"):
        input_request(config, "prox_inh_stim", config["inputs"]["prox_inh_stim"])


def test_unknown_generator_lists_available(tmp_path):
    inputs = _recipe_inputs(exc_stim={"generator": "pink"})
    cfg_path = _config(tmp_path, inputs)
    with pytest.raises(KeyError, match="Unknown generator 'pink'. Available: .*functional_groups"):
        ensure_input_file(
            load_sim_config(cfg_path),
            "exc_stim",
            inputs["exc_stim"] | {"input_file": str(tmp_path / "x.h5")},
        )


def test_function_route_gives_the_file_times(tmp_path):
    cfg_path = _config(tmp_path, _recipe_inputs())
    config = load_sim_config(cfg_path)
    path = ensure_input_file(config, "exc_stim", config["inputs"]["exc_stim"])
    on_file = read_spikes(path)
    req = input_request(config, "exc_stim", config["inputs"]["exc_stim"], need_file=False)
    table = _spikes_by_node(req)["times"]
    for nid, grp in on_file.groupby("node_ids"):
        np.testing.assert_array_equal(table[int(nid)], grp["timestamps"].to_numpy())
    assert sum(v.size for v in table.values()) == len(on_file)


def test_only_raster_maker_entries_are_ours(tmp_path):
    inputs = _recipe_inputs()
    inputs["other"] = {
        "input_type": "spikes",
        "module": "sonata",
        "input_file": "x.h5",
        "node_set": "exc_stim",
    }
    inputs["off"] = dict(inputs["exc_stim"], enabled=False)
    assert sorted(raster_maker_inputs({"inputs": inputs})) == [
        "dist_inh_stim",
        "exc_stim",
        "prox_inh_stim",
    ]


def test_siminput_module_hands_bmtk_a_sonata_input(tmp_path):
    from bmtk.simulator.utils.simulation_inputs import SimInput

    cfg_path = _config(tmp_path, _recipe_inputs())
    entry = dict(load_sim_config(cfg_path)["inputs"]["exc_stim"], config=str(cfg_path))
    entry["population"] = "exc_stim"
    sim_input = SimInput.build("exc_stim", entry)
    assert sim_input.module == "sonata"
    assert sim_input.params["input_file"] == str(tmp_path / "inputs" / "exc_stim_spikes.h5")
    assert sim_input.params["population"] == "exc_stim"  # several populations per file work
    assert "generator" not in sim_input.params
    assert Path(sim_input.params["input_file"]).exists()


# ------------------------------------------------------------------ real simulations
def _target(df: pd.DataFrame) -> pd.DataFrame:
    return (
        df[["node_ids", "timestamps"]]
        .sort_values(["node_ids", "timestamps"])
        .reset_index(drop=True)
    )


@pytest.mark.neuron
@pytest.mark.slow
def test_bionet_runs_on_raster_maker_inputs(tmp_path):
    runs = {}
    for label, seed in (("a", 1), ("b", 1), ("c", 2)):
        folder = tmp_path / label
        folder.mkdir()
        runs[label] = _target(run_bionet(_config(folder, _recipe_inputs(seed=seed))))
    rate = len(runs["a"]) / 5 / (TSTOP / 1000.0)
    assert 1.0 < rate < 200.0, f"target rate {rate:.1f} Hz"
    pd.testing.assert_frame_equal(runs["a"], runs["b"])  # same seed: the same output
    assert not runs["a"].equals(runs["c"])  # another seed: another output
    off = {k: dict(v, enabled=False) for k, v in _recipe_inputs().items()}
    folder = tmp_path / "off"
    folder.mkdir()
    assert len(run_bionet(_config(folder, off))) == 0  # inputs switched off: silence


@pytest.mark.neuron
@pytest.mark.slow
def test_bionet_function_route_matches_file_route(tmp_path):
    (tmp_path / "file").mkdir()
    (tmp_path / "func").mkdir()
    file_run = _target(run_bionet(_config(tmp_path / "file", _recipe_inputs())))
    inputs = _recipe_inputs()
    for entry in inputs.values():
        entry["module"] = "function"
        entry["spikes_function"] = "raster_maker"
        del entry["input_file"]
    func_run = _target(run_bionet(_config(tmp_path / "func", inputs)))
    assert len(file_run) > 0
    pd.testing.assert_frame_equal(file_run, func_run)
    assert not (tmp_path / "func" / "inputs").exists()  # nothing written on this route


@pytest.mark.nest
@pytest.mark.slow
def test_pointnet_runs_on_raster_maker_inputs(tmp_path):
    spikes = run_pointnet(_config(tmp_path, _recipe_inputs(), template=POINTNET_CONFIG))
    rate = len(spikes) / 5 / (TSTOP / 1000.0)
    assert 1.0 < rate < 200.0, f"target rate {rate:.1f} Hz"
    for f in (tmp_path / "inputs").glob("*.h5"):
        assert read_spikes(f)["timestamps"].min() > 0.0  # NEST rejects times <= 0


def test_binned_process_from_zero_is_refused_for_nest(tmp_path):
    inputs = _recipe_inputs(dist_inh_stim={"process": "binned"})
    config = load_sim_config(_config(tmp_path, inputs, template=POINTNET_CONFIG))
    with pytest.raises(ValueError, match="NEST refuses spike times <= 0"):
        input_request(config, "dist_inh_stim", config["inputs"]["dist_inh_stim"])
    entry = dict(config["inputs"]["dist_inh_stim"], tstart=1.0)
    assert input_request(config, "dist_inh_stim", entry).tstart_ms == 1.0
