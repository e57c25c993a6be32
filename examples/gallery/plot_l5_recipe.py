"""
The L5 pyramidal cell recipe
============================

The original study's inputs for a detailed L5 pyramidal cell: excitation in functional
groups sharing 1/f-noise profiles with heavy-tailed (``levy_exp``) rates, perisomatic
inhibition following the excitation 2 ms later (16.9 +/- 14.3 Hz), and rhythmic dendritic
inhibition (3.9 +/- 4.9 Hz). All three go into one SONATA file, and
:func:`raster_maker.plotting.plot_inputs` draws the study's inputs figure from it. (The study used
thousands of units and minutes; this is scaled down to run in seconds.)
"""

import os
import tempfile

import numpy as np

import raster_maker as rm

path = os.path.join(tempfile.mkdtemp(), "l5_inputs.h5")
exc = os.path.join(os.path.dirname(path), "exc.h5")
T = 5000.0
rm.generate(
    "functional_groups",
    "exc_stim",
    np.arange(1000),
    0.0,
    T,
    params={"group_size": 100},
    seed=1,
    output=exc,
)
with rm.SpikesWriter(path) as writer:
    rm.generate(
        "functional_groups",
        "exc_stim",
        np.arange(1000),
        0.0,
        T,
        params={"group_size": 100},
        seed=1,
        output=writer,
    )
    rm.generate(
        "shifted_inhibition",
        "prox_inh",
        np.arange(100),
        0.0,
        T,
        params={
            "follow": {"spikes_file": exc, "population": "exc_stim"},
            "lag_ms": 2.0,
            "mean_hz": 16.9,
            "sd_hz": 14.3,
        },
        seed=1,
        output=writer,
    )
    rm.generate(
        "rhythmic",
        "dist_inh",
        np.arange(100),
        0.0,
        T,
        params={
            "frequency_hz": 8.0,
            "depth": 0.5,
            "rates": {"preset": "truncated_normal", "mean_hz": 3.9, "sd_hz": 4.9},
        },
        seed=1,
        output=writer,
    )

fig = rm.plot_inputs(path, "exc_stim", group=0)
