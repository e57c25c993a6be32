"""
Layers: a baseline plus a stimulus
==================================

The ``layers`` generator superposes independent generators on the same nodes: here a
Poisson baseline of 5 Hz plus rhythmic 20 Hz bursts on top. Each layer draws from its own
streams, and the population's trains are the union of the layers' trains (for Poisson
layers, a Poisson process whose rate is the sum).
"""

import matplotlib.pyplot as plt
import numpy as np

import raster_maker as rm

layers = [
    {"generator": "poisson", "rate_hz": 5.0},
    {"generator": "rhythmic", "frequency_hz": 4.0, "depth": 1.0, "rates": 10.0},
]
res = rm.generate(
    "layers", "thalamus", np.arange(300), 0.0, 2000.0, params={"layers": layers}, seed=5
)
bins = np.arange(0.0, 2001.0, 10.0)
rate = np.histogram(res.spikes["timestamps"], bins)[0] / 300 / 0.010

fig, ax = plt.subplots(figsize=(8, 3.5))
ax.stairs(rate, bins, label="measured")
t = bins[:-1] + 5.0
ax.plot(
    t,
    5.0 + 10.0 * (1 + np.sin(2 * np.pi * 4.0 * t / 1000)),
    "k--",
    label="5 Hz baseline + 10 Hz x (1 + sin)",
)
ax.set(xlabel="time (ms)", ylabel="population rate (Hz)")
ax.legend(fontsize="small", loc="upper right")
fig.tight_layout()
