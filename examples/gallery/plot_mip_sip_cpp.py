"""
Synchronous events: MIP, SIP and CPP
====================================

Three generators of shared spike events, after Kuhn, Aertsen and Rotter (2003) and
Staude, Rotter and Grün (2010): ``mip`` (a mother train whose spikes each unit copies
with probability ``p_copy``), ``sip`` (independent background plus coincidences in all
units) and ``cpp`` (a compound Poisson process: events of random size). The population
spike count in 1-ms bins shows their different synchrony.
"""

import matplotlib.pyplot as plt
import numpy as np

import raster_maker as rm
import raster_maker.synchrony  # noqa: F401  (registers the generators)

cases = {
    "mip": {"rate_hz": 10.0, "p_copy": 0.2},
    "sip": {"rate_hz": 10.0, "coincidence_rate_hz": 2.0},
    "cpp": {"rate_hz": 10.0, "amplitude_distribution": {1: 0.9, 20: 0.1}},
}
fig, axes = plt.subplots(len(cases), 1, figsize=(8, 6), sharex=True)
bins = np.arange(0.0, 1001.0, 1.0)
for ax, (name, params) in zip(axes, cases.items(), strict=True):
    res = rm.generate(name, "sync", np.arange(50), 0.0, 1000.0, params=params, seed=2)
    counts = np.histogram(res.spikes["timestamps"], bins)[0]
    ax.stairs(counts, bins, color="k")
    ax.set(ylabel="spikes / ms", title=f"{name}: {res.n_spikes} spikes, max {counts.max()}")
axes[-1].set(xlabel="time (ms)")
fig.tight_layout()
