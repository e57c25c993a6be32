"""
Replaying recorded spike trains
===============================

The ``replay`` generator maps recorded trains (a SONATA file, a BMTK CSV or an NWB units
table) onto a node set: by ``identity``, a shared ``shuffle`` or a per-node ``resample``,
tiling the source window until the end of the run. Here a 500-ms recording of 20 units
is replayed for 2 s onto 20 nodes with a shuffle.
"""

import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np

import raster_maker as rm

folder = tempfile.mkdtemp()
recording = os.path.join(folder, "recording.h5")
rm.generate(
    "rhythmic",
    "v1",
    np.arange(20),
    0.0,
    500.0,
    params={"frequency_hz": 6.0, "rates": 15.0},
    seed=7,
    output=recording,
)

res = rm.generate(
    "replay",
    "v1_input",
    np.arange(20),
    0.0,
    2000.0,
    params={"source": recording, "mapping": "shuffle", "window_ms": [0.0, 500.0]},
    seed=1,
)
src = rm.read_spikes(recording, "v1")

fig, (ax0, ax1) = plt.subplots(2, 1, figsize=(9, 4.5), sharex=True)
ax0.plot(src["timestamps"], src["node_ids"], "|", c="k", ms=4)
ax0.set(ylabel="source unit", title="the recording (500 ms)")
ax1.plot(res.spikes["timestamps"], res.spikes["node_ids"], "|", c="C1", ms=4)
for k in range(1, 4):
    ax1.axvline(500.0 * k, color="0.6", lw=0.8)
ax1.set(xlabel="time (ms)", ylabel="target node", title="replayed, shuffled, tiled 4 times")
fig.tight_layout()
