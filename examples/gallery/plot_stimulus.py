"""
Assemblies driven by a stimulus protocol
========================================

The ``stimulus`` generator splits the node set into assemblies and drives them by a
protocol in the style of bmtool's stimulus module (``short``, ``long``, ``ramp``,
``join``, ``quit``, ``fade``, ``loop``) or an explicit ``schedule``. Here three random
assemblies take turns in ``long`` bursts (500 ms on at 50 Hz, 250 ms off). The file's
metadata records each node's assembly and each assembly's scheduled rate.
"""

import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np

import raster_maker as rm

path = os.path.join(tempfile.mkdtemp(), "thalamus.h5")
rm.generate(
    "stimulus",
    "thalamus",
    np.arange(90),
    0.0,
    3000.0,
    params={
        "assemblies": {"method": "random", "n": 3},
        "pattern": "long",
        "on_ms": 500,
        "off_ms": 250,
        "burst_hz": 50.0,
    },
    seed=1,
    output=path,
)
spikes = rm.read_spikes(path, "thalamus")
meta = rm.read_metadata(path, "thalamus")
which = dict(zip(meta["assembly_node_ids"].tolist(), meta["assembly_index"].tolist(), strict=True))
assembly = spikes["node_ids"].map(which).to_numpy()
order = np.argsort(np.argsort(meta["assembly_index"], kind="stable"))  # rows by assembly
row = dict(zip(meta["assembly_node_ids"].tolist(), order.tolist(), strict=True))

fig, (ax0, ax1) = plt.subplots(2, 1, figsize=(9, 5), sharex=True)
for a in range(3):
    sel = assembly == a
    ax0.plot(spikes["timestamps"][sel], spikes["node_ids"][sel].map(row), "|", ms=2, color=f"C{a}")
    ax1.stairs(
        meta["profiles"][a],
        meta["profile_edges_ms"],
        color=f"C{a}",
        label=f"assembly {a} (scheduled)",
    )
ax0.set(ylabel="node (sorted by assembly)")
ax1.set(xlabel="time (ms)", ylabel="rate (Hz)")
ax1.legend(fontsize="small", loc="upper right")
fig.tight_layout()
