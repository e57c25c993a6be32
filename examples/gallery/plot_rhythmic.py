"""
Rhythmic inhibition
===================

The ``rhythmic`` generator modulates every unit's rate sinusoidally,
``rate * (1 + depth * sin(2 pi f t + phase))``. With the ``"standard"`` depth definition
the rate swings between ``rate * (1 - depth)`` and ``rate * (1 + depth)``; ``"original"``
is the original raster_maker's amplitude ``rate / (1/depth - 1)``.
"""

import matplotlib.pyplot as plt
import numpy as np

import raster_maker as rm

fig, ax = plt.subplots(figsize=(8, 3.5))
t = np.arange(0.0, 1000.0, 5.0)
for definition in ("standard", "original"):
    res = rm.generate(
        "rhythmic",
        "dist_inh",
        np.arange(400),
        0.0,
        1000.0,
        params={"frequency_hz": 8.0, "depth": 0.4, "depth_definition": definition, "rates": 10.0},
        seed=2,
    )
    counts, _ = np.histogram(res.spikes["timestamps"], bins=np.append(t, 1000.0))
    ax.plot(t, counts / 400 / 0.005, label=f"depth_definition={definition!r}")
ax.plot(t, 10 * (1 + 0.4 * np.sin(2 * np.pi * 8.0 * t / 1000)), "k--", label="standard target")
ax.set(xlabel="time (ms)", ylabel="population rate (Hz)", title="8 Hz, depth 0.4, 10 Hz mean")
ax.legend(fontsize="small", loc="upper right")
fig.tight_layout()
