"""Tests for raster_maker.validation: good files, each kind of broken file, BMTK's own files."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from raster_maker.generate import generate
from raster_maker.sonata import MAGIC, SORTING_DTYPE, VERSION, from_spike_trains, to_spike_trains
from raster_maker.validation import Problem, format_problems, validate_file

N_NODES = 20
TSTOP = 1000.0


def _codes(problems: list[Problem], severity: str | None = None) -> set[str]:
    return {p.code for p in problems if severity is None or p.severity == severity}


def _write(
    path,
    ids=(0, 0, 1, 2),
    ts=(1.0, 5.0, 2.0, 3.0),
    *,
    sorting="by_id",
    units="ms",
    ids_dtype=np.uint64,
    ts_dtype=np.float64,
    magic=True,
    compression=None,
    sorting_as_string=False,
):
    """A spikes file written field by field, so each test can break one thing."""
    with h5py.File(path, "w") as h5:
        if magic:
            h5.attrs.create("magic", MAGIC, dtype=np.uint32)
            h5.attrs.create("version", VERSION, dtype=np.uint32)
        grp = h5.create_group("spikes/pop")
        kw = {"compression": compression} if compression else {}
        grp.create_dataset("node_ids", data=np.asarray(ids, dtype=ids_dtype), **kw)
        ds = grp.create_dataset("timestamps", data=np.asarray(ts, dtype=ts_dtype), **kw)
        if units is not None:
            ds.attrs["units"] = units
        if sorting is not None:
            if sorting_as_string:
                grp.attrs["sorting"] = sorting
            else:
                grp.attrs.create(
                    "sorting", ["none", "by_id", "by_time"].index(sorting), dtype=SORTING_DTYPE
                )
    return path


def test_good_files(tmp_path):
    assert validate_file(_write(tmp_path / "hand.h5")) == []
    path = tmp_path / "gen.h5"
    generate(
        "functional_groups",
        "exc",
        np.arange(50),
        0.0,
        500.0,
        params={"group_size": 10},
        seed=1,
        output=path,
        sorting="by_time",
    )
    assert validate_file(path) == []


BROKEN = {
    "magic_missing": ({"magic": False}, "warning"),
    "sorting_missing": ({"sorting": None}, "warning"),
    "sorting_not_enum": ({"sorting": "by_id", "sorting_as_string": True}, "error"),
    "sorting_invalid": ({"sorting": "time", "sorting_as_string": True}, "error"),
    "sorting_false": ({"sorting": "by_time"}, "error"),
    "compression": ({"compression": "gzip"}, "error"),
    "units_missing": ({"units": None}, "error"),
    "units": ({"units": "s"}, "error"),
    "dtype": ({"ids_dtype": np.float64}, "error"),
    "non_finite_time": ({"ts": (1.0, np.nan, 2.0, 3.0)}, "error"),
    "negative_node_id": ({"ids": (-1, 0, 1, 2), "ids_dtype": np.int64, "sorting": "none"}, "error"),
    "unsorted_node_times": ({"ts": (5.0, 1.0, 2.0, 3.0)}, "error"),
    "shape": ({"ts": (1.0, 2.0, 3.0)}, "error"),
}


@pytest.mark.parametrize("code", sorted(BROKEN))
def test_each_kind_of_broken_file(tmp_path, code):
    kwargs, severity = BROKEN[code]
    problems = validate_file(_write(tmp_path / "bad.h5", **kwargs))
    assert code in _codes(problems, severity), format_problems(problems)
    mine = [p for p in problems if p.code == code]
    assert all(p.message and str(p).startswith(severity) for p in mine)


def test_sorting_false_names_the_spike(tmp_path):
    problems = validate_file(_write(tmp_path / "bad.h5", ids=(2, 1), ts=(1.0, 2.0)))
    (p,) = [p for p in problems if p.code == "sorting_false"]
    assert p.population == "pop"
    assert "by_id but node id 1 (spike 1) comes after 2" in p.message


def test_missing_pieces(tmp_path):
    assert _codes(validate_file(tmp_path / "none.h5")) == {"unreadable"}
    (tmp_path / "text.h5").write_text("not hdf5")
    assert _codes(validate_file(tmp_path / "text.h5")) == {"unreadable"}
    with h5py.File(tmp_path / "empty.h5", "w") as h5:
        h5.create_group("other")
    assert "no_spikes_group" in _codes(validate_file(tmp_path / "empty.h5"), "error")
    with h5py.File(tmp_path / "nots.h5", "w") as h5:
        h5.create_dataset("spikes/pop/node_ids", data=np.zeros(3, np.uint64))
    assert "missing_dataset" in _codes(validate_file(tmp_path / "nots.h5"), "error")


@pytest.fixture(scope="module")
def bmtk_file(tmp_path_factory):
    from bmtk.utils.reports.spike_trains import PoissonSpikeGenerator

    path = tmp_path_factory.mktemp("bmtk") / "bmtk.h5"
    psg = PoissonSpikeGenerator(population="x", seed=1)
    psg.add(node_ids=range(10), firing_rate=10.0, times=(0.0, 1.0))
    psg.to_sonata(str(path))
    return path


def test_file_written_by_bmtk(bmtk_file, tmp_path):
    problems = validate_file(bmtk_file)
    errors = _codes(problems, "error")
    assert {"sorting_not_enum", "compression"} <= errors
    pytest.importorskip("libsonata")
    assert "libsonata" in errors  # libsonata's wheel has no gzip filter
    # the fix: rewrite it through raster_maker
    fixed = from_spike_trains(to_spike_trains(bmtk_file), tmp_path / "fixed.h5")
    assert validate_file(fixed) == []


# -- against a network -------------------------------------------------------------------
@pytest.fixture(scope="module")
def network(tmp_path_factory):
    from bmtk.builder import NetworkBuilder

    base = tmp_path_factory.mktemp("net")
    net = NetworkBuilder("stim")
    net.add_nodes(N=N_NODES, model_type="virtual", pop_name="stim", group=np.arange(N_NODES) % 2)
    net.build()
    net.save_nodes(output_dir=str(base / "network"))
    spikes = base / "inputs.h5"

    def config(simulator: str) -> str:
        conf = {
            "target_simulator": simulator,
            "run": {"tstart": 0.0, "tstop": TSTOP, "dt": 0.1},
            "networks": {
                "nodes": [
                    {
                        "nodes_file": "network/stim_nodes.h5",
                        "node_types_file": "network/stim_node_types.csv",
                    }
                ]
            },
            "node_sets": {"even": {"population": "stim", "group": 0}},
            "inputs": {
                "stim": {
                    "input_type": "spikes",
                    "module": "sonata",
                    "input_file": str(spikes),
                    "node_set": "even",
                }
            },
        }
        path = base / f"config_{simulator}.json"
        path.write_text(json.dumps(conf))
        return str(path)

    return {"nest": config("NEST"), "neuron": config("NEURON"), "spikes": spikes}


def _spikes(network, ids, ts, pop="stim"):
    from raster_maker.sonata import write_spikes

    spikes = {pop: (np.asarray(ids, np.uint64), np.asarray(ts, float))}
    return write_spikes(network["spikes"], spikes, overwrite=True)


def test_good_file_against_config(network):
    path = _spikes(network, [0, 2, 4], [1.0, 2.0, 999.0])
    assert validate_file(path, network["nest"]) == []


@pytest.mark.parametrize(
    ("ids", "ts", "pop", "code"),
    [
        ([0, N_NODES + 3], [1.0, 2.0], "stim", "unknown_node_ids"),
        ([0, 2], [1.0, TSTOP + 5], "stim", "outside_run_window"),
        ([0, 2], [-1.0, 2.0], "stim", "outside_run_window"),
        ([0, 2], [0.0, 2.0], "stim", "nonpositive_time"),
        ([0, 1], [1.0, 2.0], "stim", "outside_node_set"),
        ([0, 2], [1.0, 2.0], "other", "unknown_population"),
    ],
)
def test_problems_against_config(network, ids, ts, pop, code):
    path = _spikes(network, ids, ts, pop)
    problems = validate_file(path, network["nest"])
    assert code in _codes(problems, "error"), format_problems(problems)


def test_time_zero_is_an_error_for_nest_only(network):
    path = _spikes(network, [0], [0.0])
    assert "nonpositive_time" in _codes(validate_file(path, network["nest"]), "error")
    assert "nonpositive_time" in _codes(validate_file(path, network["neuron"]), "warning")


def test_every_problem_is_listed(network):
    path = _spikes(network, [N_NODES + 1, 1, 0], [TSTOP + 1, 0.0, 3.0])
    codes = _codes(validate_file(path, network["nest"]))
    expected = {"unknown_node_ids", "outside_run_window", "nonpositive_time", "outside_node_set"}
    assert expected <= codes


def test_unreadable_config_is_a_problem(tmp_path):
    path = _write(tmp_path / "ok.h5")
    (problem,) = validate_file(path, tmp_path / "missing.json")
    assert problem.code == "config" and "missing.json" in problem.message
