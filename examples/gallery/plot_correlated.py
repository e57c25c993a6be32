"""
Correlated Poisson inputs
=========================

The ``correlated`` generator gives Poisson trains a target pairwise spike-count
correlation (``correlation``, over counting windows of ``window_ms``), here 0.2 over
20 ms at 10 Hz. The histogram shows the measured correlation coefficients of all pairs
around the target (see :doc:`/correlated` for how the target is solved).
"""

import matplotlib.pyplot as plt
import numpy as np

import raster_maker as rm
import raster_maker.correlated  # noqa: F401  (registers the generator)

res = rm.generate(
    "correlated",
    "bg",
    np.arange(60),
    0.0,
    20_000.0,
    params={"rate_hz": 10.0, "correlation": 0.2, "window_ms": 20.0},
    seed=1,
)
bins = np.arange(0.0, 20_000.0 + 1.0, 20.0)
counts = np.stack(
    [
        np.histogram(res.spikes["timestamps"][res.spikes["node_ids"] == i], bins)[0]
        for i in range(60)
    ]
)
cc = np.corrcoef(counts)[np.triu_indices(60, 1)]

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.hist(cc, bins=40, color="C0")
ax.axvline(0.2, color="k", ls="--", label="target 0.2")
ax.axvline(cc.mean(), color="C3", label=f"mean {cc.mean():.3f}")
ax.set(xlabel="pairwise count correlation (20 ms windows)", ylabel="pairs")
ax.legend(fontsize="small")
fig.tight_layout()
