#!/usr/bin/env python
"""Build the small example network used by the raster_maker examples and tests.

The network mimics, at toy scale, a study that drove one layer-5 pyramidal cell with
thousands of inputs: excitatory inputs on basal (``dend``) and apical (``apic``) dendrites,
organised in functional groups, plus proximal (perisomatic) and distal (dendritic)
inhibition.  The target cells are cheap point models so that a simulation of a few seconds
runs in a few seconds of wall time.

Populations
-----------
``target``
    ``N_TARGET`` cells, node type ``pop_name="L5PC"``.  For bionet (NEURON):
    ``model_type="point_process"``, ``model_template="nrn:IntFire1"``; for pointnet (NEST):
    ``model_type="point_neuron"``, ``model_template="nest:iaf_psc_alpha"``.
``exc_stim`` (virtual)
    700 nodes of node type ``pop_name="dend"`` (basal) followed by 300 nodes of node type
    ``pop_name="apic"`` (apical).  Per-node attributes: ``group_id`` (functional group,
    groups of ``GROUP_SIZE`` consecutive nodes; dend groups come first, ids are unique over the
    population) and ``distance`` (path distance of the synapse from the soma, um).  For
    stimulus protocols built on assemblies (:mod:`raster_maker.assemblies`, after bmtool's
    ``bmtool/stimulus``): ``pos_x``, ``pos_y`` (um, uniform in a ``POS_SIDE_UM`` square, the
    columns bmtool's grid assembly reads) and ``pulse_group_id`` (``N_PULSE_GROUPS`` groups
    of equal size, assigned at random).  These come from their own seeded generator, so
    adding them left every other attribute and edge unchanged.
``prox_inh_stim`` (virtual)
    100 nodes, ``pop_name="prox_inh"`` (perisomatic inhibition).
``dist_inh_stim`` (virtual)
    200 nodes, ``pop_name="dist_inh"`` (dendritic inhibition).

Each virtual node contacts each target with probability ``P_CONN`` (one synapse,
``nsyns=1``); the draw is seeded so the build is deterministic and identical for both
simulators (same edges, only model templates and weights differ).

Usage::

    python examples/build_network.py                         # bionet -> <repo>/network/
    python examples/build_network.py --simulator pointnet     # -> examples/pointnet/network/
    python examples/build_network.py /some/dir --simulator bionet

Besides the SONATA nodes/edges files, ``node_sets.json`` (named subsets: ``l5pc``,
``basal_exc``, ``apical_exc``, ``prox_inh``, ``dist_inh``) is written to the output folder.
The synapse and cell-dynamics json files referenced here live in ``examples/components``.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from bmtk.builder import NetworkBuilder

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

SEED = 20240611
N_TARGET = 5
N_DEND = 700
N_APIC = 300
N_PROX_INH = 100
N_DIST_INH = 200
GROUP_SIZE = 50
P_CONN = 0.8
N_PULSE_GROUPS = 10
POS_SIDE_UM = 1000.0

# Per-simulator cell models and synaptic parameters.  Bionet's IntFire1 adds the weight
# (times the synapse json's "sign") to its state m and fires when m > 1; NEST's
# iaf_psc_alpha weights are PSC amplitudes in pA (negative = inhibitory).
SIMULATORS = {
    "bionet": {
        "target": {
            "model_type": "point_process",
            "model_template": "nrn:IntFire1",
            "dynamics_params": "IntFire1_L5PC.json",
        },
        "edges": {
            "dend": {"syn_weight": 0.012, "delay": 1.5, "dynamics_params": "instantaneousExc.json"},
            "apic": {"syn_weight": 0.009, "delay": 3.0, "dynamics_params": "instantaneousExc.json"},
            "prox_inh": {
                "syn_weight": 0.02,
                "delay": 1.0,
                "dynamics_params": "instantaneousInh.json",
            },
            "dist_inh": {
                "syn_weight": 0.01,
                "delay": 2.0,
                "dynamics_params": "instantaneousInh.json",
            },
        },
        "default_out": REPO / "network",
    },
    "pointnet": {
        "target": {
            "model_type": "point_neuron",
            "model_template": "nest:iaf_psc_alpha",
            "dynamics_params": "iaf_psc_alpha_L5PC.json",
        },
        "edges": {
            "dend": {
                "syn_weight": 10.0,
                "delay": 1.5,
                "dynamics_params": "static_exc.json",
                "model_template": "static_synapse",
            },
            "apic": {
                "syn_weight": 7.0,
                "delay": 3.0,
                "dynamics_params": "static_exc.json",
                "model_template": "static_synapse",
            },
            "prox_inh": {
                "syn_weight": -10.0,
                "delay": 1.0,
                "dynamics_params": "static_inh.json",
                "model_template": "static_synapse",
            },
            "dist_inh": {
                "syn_weight": -4.0,
                "delay": 2.0,
                "dynamics_params": "static_inh.json",
                "model_template": "static_synapse",
            },
        },
        "default_out": HERE / "pointnet" / "network",
    },
}

# node_type_id / edge_type_id are set explicitly so they are unique over the whole circuit
# (bmtk would start every builder at 100).
# Where on the (notional) morphology each input class lands; stored on the edge types for
# documentation and for a later swap to a biophysical target.
TARGET_SECTIONS = {
    "dend": (["dend"], [0.0, 300.0]),
    "apic": (["apic"], [300.0, 1200.0]),
    "prox_inh": (["somatic"], [0.0, 50.0]),
    "dist_inh": (["dend", "apic"], [50.0, 1200.0]),
}


# Written to <output_dir>/node_sets.json (SONATA node-set file, referenced by the configs).
NODE_SETS = {
    "l5pc": {"population": "target", "pop_name": "L5PC"},
    "basal_exc": {"population": "exc_stim", "pop_name": "dend"},
    "apical_exc": {"population": "exc_stim", "pop_name": "apic"},
    "prox_inh": {"population": "prox_inh_stim"},
    "dist_inh": {"population": "dist_inh_stim"},
}


def _stimulus_attributes(n: int) -> dict[str, np.ndarray]:
    """``pos_x``/``pos_y`` (um) and ``pulse_group_id`` of ``n`` exc_stim nodes.

    Drawn from a generator of their own (not the one of ``distance`` or of the edges), so
    these columns do not shift any other draw of the build.
    """
    rng = np.random.default_rng([SEED, 3])
    pos = np.round(rng.uniform(0.0, POS_SIDE_UM, size=(2, n)), 1)
    pulse_group_id = rng.permutation(np.arange(n) % N_PULSE_GROUPS)
    return {"pos_x": pos[0], "pos_y": pos[1], "pulse_group_id": pulse_group_id}


def _connect(source, target, p, rng):
    """Connection rule: one synapse with probability ``p`` (``rng`` is seeded)."""
    return 1 if rng.random() < p else None


def build(output_dir: Path, simulator: str = "bionet") -> list[NetworkBuilder]:
    """Build all populations and edges and save them to ``output_dir``."""
    np.random.seed(SEED)  # noqa: NPY002  (for anything bmtk draws internally)
    spec = SIMULATORS[simulator]
    rng = np.random.default_rng(SEED)

    target = NetworkBuilder("target")
    target.add_nodes(
        N=N_TARGET,
        node_type_id=100,
        pop_name="L5PC",
        ei="e",
        location="L5",
        **spec["target"],
    )

    exc = NetworkBuilder("exc_stim")
    n_dend_groups = N_DEND // GROUP_SIZE
    stim_attrs = _stimulus_attributes(N_DEND + N_APIC)
    dend_attrs = {k: v[:N_DEND] for k, v in stim_attrs.items()}
    apic_attrs = {k: v[N_DEND:] for k, v in stim_attrs.items()}
    exc.add_nodes(
        N=N_DEND,
        node_type_id=200,
        pop_name="dend",
        ei="e",
        model_type="virtual",
        group_id=np.arange(N_DEND) // GROUP_SIZE,
        distance=np.round(rng.uniform(20.0, 300.0, N_DEND), 1),
        **dend_attrs,
    )
    exc.add_nodes(
        N=N_APIC,
        node_type_id=201,
        pop_name="apic",
        ei="e",
        model_type="virtual",
        group_id=n_dend_groups + np.arange(N_APIC) // GROUP_SIZE,
        distance=np.round(rng.uniform(300.0, 1200.0, N_APIC), 1),
        **apic_attrs,
    )

    prox = NetworkBuilder("prox_inh_stim")
    prox.add_nodes(
        N=N_PROX_INH, node_type_id=300, pop_name="prox_inh", ei="i", model_type="virtual"
    )

    dist = NetworkBuilder("dist_inh_stim")
    dist.add_nodes(
        N=N_DIST_INH, node_type_id=400, pop_name="dist_inh", ei="i", model_type="virtual"
    )

    conn_rng = np.random.default_rng(SEED + 1)
    edge_specs = [
        (exc, "dend", 2100),
        (exc, "apic", 2101),
        (prox, "prox_inh", 3100),
        (dist, "dist_inh", 4100),
    ]
    for net, pop_name, edge_type_id in edge_specs:
        sections, dist_range = TARGET_SECTIONS[pop_name]
        net.add_edges(
            edge_type_id=edge_type_id,
            source=net.nodes(pop_name=pop_name),
            target=target.nodes(),
            connection_rule=_connect,
            connection_params={"p": P_CONN, "rng": conn_rng},
            target_sections=sections,
            distance_range=dist_range,
            **spec["edges"][pop_name],
        )

    output_dir.mkdir(parents=True, exist_ok=True)
    nets = [target, exc, prox, dist]
    for net in nets:
        net.build()
        net.save(output_dir=str(output_dir))
    for name in ["target", "exc_stim", "prox_inh_stim", "dist_inh_stim"]:
        _sort_csv_columns(output_dir / f"{name}_node_types.csv")
        _sort_csv_columns(output_dir / f"{name}_target_edge_types.csv")
    (output_dir / "node_sets.json").write_text(json.dumps(NODE_SETS, indent=2) + "\n")
    return nets


def _sort_csv_columns(path: Path) -> None:
    """Rewrite a bmtk types csv with a stable column order (bmtk's order depends on hashing)."""
    if not path.exists():
        return
    df = pd.read_csv(path, sep=" ", dtype=str, keep_default_na=False)
    first = [c for c in ("node_type_id", "edge_type_id") if c in df.columns]
    df = df[first + sorted(c for c in df.columns if c not in first)]
    df.to_csv(path, sep=" ", index=False, quotechar='"')


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "output_dir",
        nargs="?",
        default=None,
        help="folder to write the network to (default: <repo>/network for "
        "bionet, examples/pointnet/network for pointnet)",
    )
    parser.add_argument("--simulator", choices=sorted(SIMULATORS), default="bionet")
    parser.add_argument(
        "--clean", action="store_true", help="delete the output folder before building"
    )
    args = parser.parse_args(argv)
    out = Path(args.output_dir) if args.output_dir else SIMULATORS[args.simulator]["default_out"]
    if args.clean and out.exists():
        shutil.rmtree(out)
    nets = build(out, args.simulator)
    for net in nets:
        print(f"{net.name}: {net.nnodes} nodes, {net.nedges} edges")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
