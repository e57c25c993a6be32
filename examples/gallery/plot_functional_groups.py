"""
Functional groups sharing a 1/f rate profile
============================================

The ``functional_groups`` generator is the original study's excitatory recipe: units in
groups of ``group_size`` share one 1/f-noise rate profile, and each unit has its own mean
rate drawn from the heavy-tailed ``levy_exp`` preset. Units of one group are correlated
through their shared profile; different groups are independent.
"""

import matplotlib.pyplot as plt
import numpy as np

import raster_maker as rm

res = rm.generate(
    "functional_groups",
    "exc_stim",
    np.arange(300),
    0.0,
    3000.0,
    params={"group_size": 100},
    seed=3,
)
spikes = res.spikes
group = spikes["node_ids"] // 100

fig, axes = plt.subplots(2, 1, figsize=(9, 5), sharex=True)
for g in range(3):
    t = spikes.loc[group == g, "timestamps"]
    rate, edges = np.histogram(t, bins=np.arange(0, 3001, 20))
    axes[0].plot(edges[:-1], rate / 100 / 0.020, label=f"group {g}")
sel = spikes[spikes["node_ids"] % 10 == 0]
axes[1].plot(sel["timestamps"], sel["node_ids"], "|", ms=3, c="k")
axes[0].set(ylabel="group rate (Hz)", title="each group follows its own 1/f profile")
axes[0].legend(loc="upper right", fontsize="small")
axes[1].set(xlabel="time (ms)", ylabel="node id (every 10th)")
fig.tight_layout()
