"""
Validating a spikes file
========================

:func:`raster_maker.validation.validate_file` (the ``raster-maker validate`` command) checks a
SONATA spikes file: layout, dtypes and units, a ``sorting`` attribute that tells the
truth, no compression libsonata cannot read, and, with a simulation config, that node ids
exist and times fall in the run window. A file raster_maker wrote passes; one written by hand
with h5py (a plain integer ``sorting`` attribute, no SONATA root attributes) does not, and
each problem says what is wrong and how to fix it.
"""

import os
import tempfile

import h5py
import matplotlib.pyplot as plt
import numpy as np

import raster_maker as rm

folder = tempfile.mkdtemp()
good = os.path.join(folder, "good.h5")
rm.generate("poisson", "bg", np.arange(20), 0.0, 1000.0, seed=1, output=good)
print("good file:", rm.validate_file(good) or "no problems")

bad = os.path.join(folder, "bad.h5")
with h5py.File(bad, "w") as f:
    grp = f.create_group("spikes/bg")
    grp.attrs["sorting"] = np.array(2, dtype=np.uint8)  # an integer, not SONATA's enum
    grp.create_dataset("node_ids", data=np.array([0, 1, 0], dtype=np.uint64))
    ts = grp.create_dataset("timestamps", data=np.array([3.0, 5.0, 9.0]))
    ts.attrs["units"] = "ms"
problems = rm.validate_file(bad)
for p in problems:
    print(p)

fig, ax = plt.subplots(figsize=(6, 2.5))
ax.barh(["good.h5", "bad.h5"], [0, len(problems)], color=["C2", "C3"])
ax.set(xlabel="problems found")
fig.tight_layout()
