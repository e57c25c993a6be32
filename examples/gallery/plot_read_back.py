"""
Reading a file back with BMTK and libsonata
===========================================

A raster_maker file is a standard SONATA spikes file: BMTK's ``SpikeTrains`` and
libsonata's ``SpikeReader`` read it as they read any other, and they see the very spikes
raster_maker wrote. Besides ``/spikes/<population>``, the file holds the provenance
(generator, parameters, seed, version: :func:`raster_maker.reading.read_provenance`) and
per-node metadata such as the target rates (:func:`raster_maker.reading.read_metadata`).
"""

import os
import tempfile

import libsonata
import matplotlib.pyplot as plt
import numpy as np

import raster_maker as rm

path = os.path.join(tempfile.mkdtemp(), "inputs.h5")
rm.generate(
    "poisson",
    "bg",
    np.arange(50),
    0.0,
    2000.0,
    params={"rate_hz": {"preset": "levy_exp"}},
    seed=11,
    output=path,
)

# BMTK
trains = rm.to_spike_trains(path)  # bmtk.utils.reports.spike_trains.SpikeTrains
bmtk_df = trains.to_dataframe(population="bg")
# libsonata
node_ids, times = map(np.asarray, zip(*libsonata.SpikeReader(path)["bg"].get(), strict=True))
# raster_maker's own reader
ours = rm.read_spikes(path, "bg")
assert len(bmtk_df) == len(ours) == len(times)
assert np.array_equal(np.sort(times), np.sort(ours["timestamps"].to_numpy()))

print(
    "provenance:",
    {
        k: v
        for k, v in rm.read_provenance(path, "bg").items()
        if k in ("generator", "seed", "version", "tstop_ms")
    },
)
target = rm.read_metadata(path, "bg")["target_rate_hz"]
measured = np.bincount(node_ids.astype(int), minlength=50) / 2.0

fig, ax = plt.subplots(figsize=(5, 4))
ax.loglog(target, np.maximum(measured, 0.25), "o", ms=4)
lim = [0.3, max(target.max(), measured.max()) * 1.5]
ax.plot(lim, lim, "k--", lw=0.8)
ax.set(
    xlabel="target rate from the metadata (Hz)",
    ylabel="rate read by libsonata (Hz)",
    title="one file, three readers",
)
fig.tight_layout()
