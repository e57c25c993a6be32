#!/usr/bin/env python
"""Run the bionet (NEURON) example: ``python run_bionet.py [config.json]``.

Compiles ``VecStim`` (bmtk's ``vecevent.mod``) into the config's ``components.mechanisms_dir``
on first use, then builds and runs the network.  Output spikes go to
``output.output_dir``/``output.spikes_file`` of the config.
"""

import sys
from pathlib import Path

from bmtk.simulator import bionet

import raster_maker  # noqa: F401  (registers the "raster_maker" input module with BMTK)
from raster_maker._neuron_mechanisms import ensure_vecstim


def run(config_file):
    conf = bionet.Config.from_json(str(config_file), validate=True)
    mechanisms_dir = conf.components.get("mechanisms_dir")
    if mechanisms_dir:
        # must happen before build_env(), which loads the compiled mechanisms
        ensure_vecstim(mechanisms_dir)
    conf.build_env()

    graph = bionet.BioNetwork.from_config(conf)
    sim = bionet.BioSimulator.from_config(conf, network=graph)
    sim.run()
    bionet.nrn.quit_execution()


if __name__ == "__main__":
    run(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent / "config.json")
