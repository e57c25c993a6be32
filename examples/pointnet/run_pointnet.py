#!/usr/bin/env python
"""Run the pointnet (NEST) example: ``python run_pointnet.py [config.json]``.

Output spikes go to ``output.output_dir``/``output.spikes_file`` of the config.
"""

import sys
from pathlib import Path

from bmtk.simulator import pointnet

import raster_maker  # noqa: F401  (registers the "raster_maker" input module with BMTK)


def run(config_file):
    conf = pointnet.Config.from_json(str(config_file))
    conf.build_env()

    network = pointnet.PointNetwork.from_config(conf)
    sim = pointnet.PointSimulator.from_config(conf, network)
    sim.run()


if __name__ == "__main__":
    run(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent / "config.json")
