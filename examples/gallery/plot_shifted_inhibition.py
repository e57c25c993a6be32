"""
Inhibition that follows excitation
==================================

The ``shifted_inhibition`` generator drives inhibitory units with the population rate of
an excitatory population, delayed by ``lag_ms`` (2 ms in the original study). Here the
excitation is a ``functional_groups`` population written to a file, and the inhibition
follows it; the cross-correlation of the two population rates peaks at the lag.
"""

import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np

import raster_maker as rm

folder = tempfile.mkdtemp()
exc_file = os.path.join(folder, "exc.h5")
rm.generate(
    "functional_groups",
    "exc_stim",
    np.arange(500),
    0.0,
    3000.0,
    params={"group_size": 500},
    seed=1,
    output=exc_file,
)
inh = rm.generate(
    "shifted_inhibition",
    "prox_inh",
    np.arange(200),
    0.0,
    3000.0,
    params={
        "follow": {"spikes_file": exc_file, "population": "exc_stim"},
        "lag_ms": 10.0,
        "mean_hz": 16.9,
        "sd_hz": 14.3,
    },
    seed=1,
)
exc = rm.read_spikes(exc_file, "exc_stim")
bins = np.arange(0.0, 3001.0, 1.0)
r_exc = np.histogram(exc["timestamps"], bins)[0].astype(float)
r_inh = np.histogram(inh.spikes["timestamps"], bins)[0].astype(float)
r_exc -= r_exc.mean()
r_inh -= r_inh.mean()
lags = np.arange(-40, 41)
xc = [
    np.dot(r_exc[max(0, -k) : len(r_exc) - max(0, k)], r_inh[max(0, k) : len(r_inh) - max(0, -k)])
    for k in lags
]

fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(9, 3.5))
smooth = np.ones(20) / 20
ax0.plot(bins[:-1], np.convolve(r_exc, smooth, "same"), label="excitation")
ax0.plot(bins[:-1], np.convolve(r_inh, smooth, "same"), label="inhibition")
ax0.set(xlabel="time (ms)", ylabel="rate - mean (spikes/ms)", xlim=(1000, 1500))
ax0.legend(fontsize="small")
ax1.plot(lags, xc)
ax1.axvline(10.0, color="k", ls="--")
ax1.set(xlabel="lag of inhibition (ms)", ylabel="cross-correlation", title="peak at lag_ms = 10")
fig.tight_layout()
