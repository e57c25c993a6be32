"""
Plain Poisson inputs
====================

The ``poisson`` generator: every unit fires as a Poisson process at its own mean rate,
here drawn per unit from a lognormal distribution, all units sharing one (here constant)
rate profile. The measured rates match the per-unit targets recorded in the file's
metadata.
"""

import matplotlib.pyplot as plt
import numpy as np

import raster_maker as rm

res = rm.generate(
    "poisson",
    "background",
    np.arange(200),
    0.0,
    5000.0,
    params={"rate_hz": {"preset": "lognormal", "mean_hz": 8.0, "sd_hz": 4.0}},
    seed=1,
)
spikes = res.spikes
counts = np.bincount(spikes["node_ids"], minlength=res.n_nodes)
measured_hz = counts / 5.0

fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(9, 3.5), width_ratios=[2, 1])
first = spikes[spikes["node_ids"] < 50]
ax0.plot(first["timestamps"], first["node_ids"], "|", ms=3, color="k")
ax0.set(xlabel="time (ms)", ylabel="node id", title="raster (first 50 units)", xlim=(0, 2000))
ax1.hist(measured_hz, bins=30, color="C0")
ax1.set(xlabel="measured rate (Hz)", ylabel="units", title="per-unit rates")
fig.tight_layout()
print(f"{res.n_spikes} spikes, mean rate {measured_hz.mean():.2f} Hz")
