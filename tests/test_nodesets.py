"""Tests for raster_maker.nodesets (node-set resolution without bmtk's filtering)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from raster_maker.nodesets import (
    NodeSet,
    NodeSetError,
    list_populations,
    load_population,
    load_sim_config,
    resolve_node_set,
)

REPO = Path(__file__).resolve().parents[1]

N_CORTEX = 6
N_DEND = 40
N_APIC = 20
N_INH = 15


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    """A small network: 'cortex' (2 node types), 'stim' (dend/apic, group_id), 'inh_stim'."""
    from bmtk.builder import NetworkBuilder

    base = tmp_path_factory.mktemp("nodesets")
    net_dir = base / "network"

    cortex = NetworkBuilder("cortex")
    cortex.add_nodes(
        N=4,
        node_type_id=100,
        pop_name="pyr",
        ei="e",
        model_type="point_process",
        model_template="nrn:IntFire1",
        dynamics_params="pyr.json",
        layer=np.array([2, 2, 5, 5]),
    )
    cortex.add_nodes(
        N=2,
        node_type_id=101,
        pop_name="pv",
        ei="i",
        model_type="point_process",
        model_template="nrn:IntFire1",
        dynamics_params="pv.json",
        layer=np.array([5, 6]),
    )

    stim = NetworkBuilder("stim")
    stim.add_nodes(
        N=N_DEND,
        node_type_id=200,
        pop_name="dend",
        ei="e",
        model_type="virtual",
        group_id=np.arange(N_DEND) // 10,
    )
    stim.add_nodes(
        N=N_APIC,
        node_type_id=201,
        pop_name="apic",
        ei="e",
        model_type="virtual",
        group_id=4 + np.arange(N_APIC) // 10,
    )

    inh = NetworkBuilder("inh_stim")
    inh.add_nodes(N=N_INH, node_type_id=300, pop_name="prox_inh", ei="i", model_type="virtual")

    for net in (cortex, stim, inh):
        net.build()
        net.save_nodes(output_dir=str(net_dir))

    file_sets = {
        "basal": {"population": "stim", "pop_name": "dend"},
        "apical": {"population": "stim", "pop_name": "apic"},
        "overridden": {"population": "stim", "pop_name": "dend"},
        "all_exc_inputs": ["basal", "apical"],
        "cross": ["basal", "inh"],
        "inh": {"population": "inh_stim"},
    }
    (base / "node_sets.json").write_text(json.dumps(file_sets))
    config = {
        "manifest": {"$BASE_DIR": "${configdir}", "$NETWORK_DIR": "$BASE_DIR/network"},
        "run": {"tstop": 1000.0, "dt": 0.1},
        "target_simulator": "NEURON",
        "node_sets_file": "node_sets.json",  # relative to the config file
        "node_sets": {
            "early_groups": {"population": "stim", "group_id": [0, 1]},
            "overridden": {"population": "stim", "pop_name": "apic"},
        },
        "inputs": {
            "stim": {
                "input_type": "spikes",
                "module": "sonata",
                "input_file": "$BASE_DIR/inputs/stim_spikes.h5",
                "node_set": "stim",
            },
        },
        "networks": {
            "nodes": [
                {
                    "nodes_file": f"$NETWORK_DIR/{name}_nodes.h5",
                    "node_types_file": f"$NETWORK_DIR/{name}_node_types.csv",
                }
                for name in ("cortex", "stim", "inh_stim")
            ],
            "edges": [],
        },
    }
    config_path = base / "config.json"
    config_path.write_text(json.dumps(config, indent=2))
    return {"base": base, "net_dir": net_dir, "config": config_path}


# --------------------------------------------------------------------------------------
# configs and populations
# --------------------------------------------------------------------------------------


def test_load_sim_config_resolves_manifest_and_node_sets(network):
    conf = load_sim_config(network["config"])
    base = network["base"].resolve()
    assert conf["_config_path"] == str(network["config"].resolve())
    nodes = conf["networks"]["nodes"]
    assert nodes[1]["nodes_file"] == str(base / "network" / "stim_nodes.h5")
    assert Path(nodes[1]["node_types_file"]).is_file()
    assert conf["inputs"]["stim"]["input_file"] == str(base / "inputs" / "stim_spikes.h5")
    assert conf["node_sets_file"] == str(base / "node_sets.json")
    # file and inline node sets are merged; inline wins
    assert {"basal", "apical", "early_groups", "inh"} <= set(conf["node_sets"])
    assert conf["node_sets"]["overridden"]["pop_name"] == "apic"
    assert conf["run"]["tstop"] == 1000.0


def test_load_sim_config_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_sim_config(tmp_path / "nope.json")


def test_load_sim_config_merges_circuit_config(network):
    circuit = json.loads(network["config"].read_text())
    circuit_path = network["base"] / "circuit_config.json"
    circuit_path.write_text(
        json.dumps({"manifest": circuit["manifest"], "networks": circuit["networks"]})
    )
    sim_path = network["base"] / "simulation_config.json"
    sim_path.write_text(
        json.dumps(
            {
                "network": "circuit_config.json",
                "run": {"tstop": 500.0, "dt": 0.1},
                "node_sets": {"pv": {"pop_name": "pv"}},
            }
        )
    )
    conf = load_sim_config(sim_path)
    assert conf["run"]["tstop"] == 500.0
    assert len(conf["networks"]["nodes"]) == 3
    assert resolve_node_set(sim_path, "pv").node_ids.tolist() == [4, 5]


@pytest.mark.parametrize("kind", ["config", "directory", "dict"])
def test_list_populations(network, kind):
    source = {
        "config": network["config"],
        "directory": network["net_dir"],
        "dict": load_sim_config(network["config"]),
    }[kind]
    pops = list_populations(source)
    assert set(pops) == {"cortex", "stim", "inh_stim"}
    assert Path(pops["stim"]).name == "stim_nodes.h5"


def test_load_population_merges_node_types(network):
    df = load_population(network["net_dir"], "cortex")
    assert df.index.name == "node_id"
    assert df.index.tolist() == list(range(N_CORTEX))
    assert df["pop_name"].tolist() == ["pyr"] * 4 + ["pv"] * 2
    assert df["layer"].tolist() == [2, 2, 5, 5, 5, 6]
    assert {"node_type_id", "model_type", "model_template", "dynamics_params", "ei"} <= set(
        df.columns
    )


# --------------------------------------------------------------------------------------
# names
# --------------------------------------------------------------------------------------


def _check_nodeset(ns: NodeSet, population: str, ids) -> None:
    assert isinstance(ns, NodeSet)
    assert ns.population == population
    assert ns.node_ids.dtype == np.uint64
    assert ns.node_ids.tolist() == list(ids)
    assert isinstance(ns.attributes, pd.DataFrame)
    assert ns.attributes.index.tolist() == list(ids)
    assert {"node_type_id", "pop_name", "model_type"} <= set(ns.attributes.columns)
    assert len(ns) == len(list(ids))


def test_name_from_node_sets_file(network):
    ns = resolve_node_set(network["config"], "basal")
    _check_nodeset(ns, "stim", range(N_DEND))
    assert ns.name == "basal"
    assert (ns.attributes["pop_name"] == "dend").all()


def test_name_from_inline_node_sets(network):
    ns = resolve_node_set(network["config"], "early_groups")
    _check_nodeset(ns, "stim", range(20))
    assert set(ns.attributes["group_id"]) == {0, 1}


def test_inline_node_set_overrides_file(network):
    ns = resolve_node_set(network["config"], "overridden")
    _check_nodeset(ns, "stim", range(N_DEND, N_DEND + N_APIC))


def test_compound_node_set(network):
    ns = resolve_node_set(network["config"], "all_exc_inputs")
    _check_nodeset(ns, "stim", range(N_DEND + N_APIC))
    assert ns.name == "all_exc_inputs"


def test_compound_node_set_across_populations_is_an_error(network):
    with pytest.raises(ValueError, match=r"cross spans several populations \(inh_stim, stim\)"):
        resolve_node_set(network["config"], "cross")


def test_bare_population_name(network):
    ns = resolve_node_set(network["config"], "inh_stim")
    _check_nodeset(ns, "inh_stim", range(N_INH))
    assert ns.name == "inh_stim"
    assert (ns.attributes["model_type"] == "virtual").all()


def test_directory_source_uses_node_sets_json(network):
    ns = resolve_node_set(network["net_dir"], "cortex")
    _check_nodeset(ns, "cortex", range(N_CORTEX))
    # a node_sets.json next to the nodes files is picked up
    (network["net_dir"] / "node_sets.json").write_text(
        json.dumps({"upper": {"population": "cortex", "layer": [2, 3]}})
    )
    try:
        _check_nodeset(resolve_node_set(network["net_dir"], "upper"), "cortex", range(2))
    finally:
        (network["net_dir"] / "node_sets.json").unlink()


def test_missing_name_lists_what_exists(network):
    pattern = (
        r"No node set 'nope' in .*config\.json; available node sets: .*basal.*"
        r"early_groups.*; populations: cortex, inh_stim, stim"
    )
    with pytest.raises(KeyError, match=pattern):
        resolve_node_set(network["config"], "nope")
    with pytest.raises(ValueError, match=pattern):
        resolve_node_set(network["config"], "nope")
    with pytest.raises(NodeSetError, match="populations: cortex, inh_stim, stim"):
        resolve_node_set(network["net_dir"], "nope")


# --------------------------------------------------------------------------------------
# dict filters
# --------------------------------------------------------------------------------------


def test_filter_on_node_type_attribute(network):
    ns = resolve_node_set(network["config"], {"pop_name": "apic"})
    _check_nodeset(ns, "stim", range(N_DEND, N_DEND + N_APIC))
    assert "apic" in ns.name


def test_filter_on_per_node_attribute(network):
    ns = resolve_node_set(network["config"], {"population": "stim", "group_id": 4})
    _check_nodeset(ns, "stim", range(N_DEND, N_DEND + 10))


def test_filter_with_list_of_values(network):
    ns = resolve_node_set(network["config"], {"group_id": [0, 5]})
    _check_nodeset(ns, "stim", list(range(10)) + list(range(N_DEND + 10, N_DEND + 20)))
    ns = resolve_node_set(network["config"], {"population": "cortex", "pop_name": ["pv", "x"]})
    _check_nodeset(ns, "cortex", [4, 5])


def test_filter_combines_node_and_node_type_attributes(network):
    ns = resolve_node_set(network["config"], {"pop_name": "pyr", "layer": 5})
    _check_nodeset(ns, "cortex", [2, 3])


def test_filter_node_id_list(network):
    ns = resolve_node_set(network["config"], {"population": "inh_stim", "node_id": [7, 3, 3, 11]})
    _check_nodeset(ns, "inh_stim", [3, 7, 11])
    ns = resolve_node_set(
        network["config"], {"population": "stim", "node_id": [1, 45, 50], "pop_name": "apic"}
    )
    _check_nodeset(ns, "stim", [45, 50])


def test_filter_comparison_operators(network):
    ns = resolve_node_set(
        network["config"], {"population": "stim", "group_id": {"$gte": 3, "$lt": 5}}
    )
    _check_nodeset(ns, "stim", range(30, N_DEND + 10))
    ns = resolve_node_set(network["config"], {"pop_name": {"$regex": "p[a-z]r"}})
    _check_nodeset(ns, "cortex", range(4))


def test_filter_spanning_populations_is_an_error(network):
    with pytest.raises(
        ValueError,
        match=r"several populations: inh_stim \(15 nodes\), stim \(60 nodes\)",  # sorted
    ):
        resolve_node_set(network["config"], {"model_type": "virtual"})
    with pytest.raises(ValueError, match="several populations: cortex .*inh_stim"):
        resolve_node_set(network["config"], {"ei": "i"})
    # the population key disambiguates
    _check_nodeset(
        resolve_node_set(network["config"], {"ei": "i", "population": "cortex"}), "cortex", [4, 5]
    )


def test_empty_selection_names_the_filter(network):
    with pytest.raises(ValueError, match=r'Node set \{"pop_name": "soma"\} selects no nodes'):
        resolve_node_set(network["config"], {"pop_name": "soma"})
    with pytest.raises(ValueError, match="population 'stim' has no attribute 'colour'"):
        resolve_node_set(network["config"], {"population": "stim", "colour": "red"})
    with pytest.raises(ValueError, match="selects no nodes"):
        resolve_node_set(network["config"], {"population": "inh_stim", "node_id": [999]})


def test_unknown_population_in_filter(network):
    with pytest.raises(KeyError, match="no population 'thalamus'.*populations: cortex"):
        resolve_node_set(network["config"], {"population": "thalamus"})


def test_bad_node_set_type(network):
    with pytest.raises(TypeError, match="node_set must be"):
        resolve_node_set(network["config"], 3.5)
    with pytest.raises(ValueError, match="unknown operator"):
        resolve_node_set(network["config"], {"group_id": {"$near": 3}})


def test_nodeset_passthrough(network):
    ns = resolve_node_set(network["config"], "basal")
    assert resolve_node_set(network["config"], ns) is ns


# --------------------------------------------------------------------------------------
# the repository's example network
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("config", ["examples/bionet/config.json", "examples/pointnet/config.json"])
def test_example_configs(config):
    config = REPO / config
    if not config.exists():
        pytest.skip("example configs not present")
    pops = list_populations(config)
    assert set(pops) == {"target", "exc_stim", "prox_inh_stim", "dist_inh_stim"}
    sizes = {name: len(resolve_node_set(config, name)) for name in pops}
    assert sizes == {"target": 5, "exc_stim": 1000, "prox_inh_stim": 100, "dist_inh_stim": 200}
    assert len(resolve_node_set(config, "basal_exc")) == 700
    apical = resolve_node_set(config, "apical_exc")
    assert len(apical) == 300
    assert apical.attributes["group_id"].min() == 14
    # every input entry names a single population
    conf = load_sim_config(config)
    for name, entry in conf["inputs"].items():
        assert resolve_node_set(conf, entry["node_set"]).population == name


@pytest.mark.parametrize(
    "folder, template",
    [("network", "nrn:IntFire1"), ("examples/pointnet/network", "nest:iaf_psc_alpha")],
)
def test_example_network_directories(folder, template):
    folder = REPO / folder
    if not (folder / "node_sets.json").exists():
        pytest.skip("example network not built")
    basal = resolve_node_set(folder, "basal_exc")
    assert basal.population == "exc_stim"
    assert basal.node_ids.tolist() == list(range(700))
    assert sorted(set(basal.attributes["group_id"])) == list(range(14))
    target = resolve_node_set(folder, "target")
    assert set(target.attributes["model_template"]) == {template}


# --------------------------------------------------------------------------------------
# 'connected_to': virtual nodes with edges into a population
# --------------------------------------------------------------------------------------

N_VSTIM = 12
WIRED = {"cortex2": [0, 2, 4, 6, 8, 10], "other": [1, 2]}  # vstim ids with edges, by target


@pytest.fixture(scope="module")
def wired(tmp_path_factory):
    """'vstim' (12 virtual nodes) -> 'cortex2' from even ids and -> 'other' from ids 1, 2;
    'lonely' (virtual) has no edges; 'cortex2' -> 'cortex2' recurrent edges from node 0."""
    from bmtk.builder import NetworkBuilder

    base = tmp_path_factory.mktemp("wired")
    net_dir = base / "network"
    cortex = NetworkBuilder("cortex2")
    cortex.add_nodes(N=3, node_type_id=100, pop_name="pyr", model_type="point_process")
    other = NetworkBuilder("other")
    other.add_nodes(N=2, node_type_id=150, pop_name="pv", model_type="point_process")
    vstim = NetworkBuilder("vstim")
    vstim.add_nodes(N=N_VSTIM, node_type_id=200, pop_name="exc", model_type="virtual")
    lonely = NetworkBuilder("lonely")
    lonely.add_nodes(N=4, node_type_id=300, pop_name="inh", model_type="virtual")

    def rule(wired_ids):
        return lambda source, target: 1 if source.node_id in wired_ids else None

    vstim.add_edges(
        source=vstim.nodes(), target=cortex.nodes(), connection_rule=rule(WIRED["cortex2"])
    )
    vstim.add_edges(
        source=vstim.nodes(), target=other.nodes(), connection_rule=rule(WIRED["other"])
    )
    cortex.add_edges(source=cortex.nodes(), target=cortex.nodes(), connection_rule=rule([0]))
    names = ("cortex2", "other", "vstim", "lonely")
    for net in (cortex, other, vstim, lonely):
        net.build()
        net.save(output_dir=str(net_dir))
    config = {
        "manifest": {"$NETWORK_DIR": "${configdir}/network"},
        "node_sets": {"driving": {"population": "vstim", "connected_to": "cortex2"}},
        "networks": {
            "nodes": [
                {
                    "nodes_file": f"$NETWORK_DIR/{name}_nodes.h5",
                    "node_types_file": f"$NETWORK_DIR/{name}_node_types.csv",
                }
                for name in names
            ],
            "edges": [
                {
                    "edges_file": str(path),
                    "edge_types_file": str(path).replace("_edges.h5", "_edge_types.csv"),
                }
                for path in sorted(net_dir.glob("*_edges.h5"))
            ],
        },
    }
    config_path = base / "config.json"
    config_path.write_text(json.dumps(config))
    return {"net_dir": net_dir, "config": config_path}


@pytest.mark.parametrize("kind", ["config", "directory"])
def test_connected_to_keeps_sources_with_edges(wired, kind):
    source = wired["config"] if kind == "config" else wired["net_dir"]
    ns = resolve_node_set(source, {"population": "vstim", "connected_to": "cortex2"})
    assert ns.population == "vstim"
    assert ns.node_ids.tolist() == WIRED["cortex2"]
    assert ns.attributes.index.tolist() == WIRED["cortex2"]
    other = resolve_node_set(source, {"population": "vstim", "connected_to": "other"})
    assert other.node_ids.tolist() == WIRED["other"]
    both = resolve_node_set(source, {"population": "vstim", "connected_to": ["cortex2", "other"]})
    assert both.node_ids.tolist() == sorted(set(WIRED["cortex2"]) | set(WIRED["other"]))
    # combines with attribute filters and node ids
    picked = resolve_node_set(
        source, {"population": "vstim", "connected_to": "cortex2", "node_id": [1, 2, 3, 4]}
    )
    assert picked.node_ids.tolist() == [2, 4]
    # recurrent edges: the target population is its own source
    recurrent = resolve_node_set(source, {"population": "cortex2", "connected_to": "cortex2"})
    assert recurrent.node_ids.tolist() == [0]


def test_connected_to_in_a_named_node_set(wired):
    assert resolve_node_set(wired["config"], "driving").node_ids.tolist() == WIRED["cortex2"]


def test_connected_to_without_population_key_finds_the_only_source(wired):
    ns = resolve_node_set(wired["net_dir"], {"connected_to": "other"})
    assert (ns.population, ns.node_ids.tolist()) == ("vstim", WIRED["other"])


def test_connected_to_population_without_edges(wired):
    with pytest.raises(
        ValueError, match="no edges from population 'lonely' to population 'cortex2'"
    ):
        resolve_node_set(wired["net_dir"], {"population": "lonely", "connected_to": "cortex2"})
    with pytest.raises(ValueError, match="edges into 'other' come from: 'vstim'"):
        resolve_node_set(wired["config"], {"population": "lonely", "connected_to": "other"})


def test_connected_to_unknown_population(wired):
    with pytest.raises(
        NodeSetError,
        match=r"'cortex' is not a population.*node populations: "
        r"cortex2, lonely, other, vstim; targets of edges: cortex2, other",
    ):
        resolve_node_set(wired["net_dir"], {"population": "vstim", "connected_to": "cortex"})


def test_connected_to_bad_type(wired):
    with pytest.raises(TypeError, match="'connected_to' must be a population name"):
        resolve_node_set(wired["net_dir"], {"population": "vstim", "connected_to": 3})


def test_connected_to_needs_edge_files(wired):
    nodes_file = wired["net_dir"] / "vstim_nodes.h5"
    with pytest.raises(ValueError, match="needs the network's edge files"):
        resolve_node_set(nodes_file, {"population": "vstim", "connected_to": "cortex2"})


def test_connected_to_on_the_example_network():
    import h5py

    folder = REPO / "network"
    if not (folder / "node_sets.json").exists():
        pytest.skip("example network not built")
    for pop in ("exc_stim", "prox_inh_stim", "dist_inh_stim"):
        with h5py.File(folder / f"{pop}_target_edges.h5", "r") as fh:
            expected = np.unique(fh["edges"][f"{pop}_to_target"]["source_node_id"][()])
        ns = resolve_node_set(folder, {"population": pop, "connected_to": "target"})
        assert ns.node_ids.tolist() == expected.tolist()
        assert 0 < len(ns) <= len(resolve_node_set(folder, pop))
    with pytest.raises(ValueError, match="no edges from population 'exc_stim'"):
        resolve_node_set(folder, {"population": "exc_stim", "connected_to": "dist_inh_stim"})
