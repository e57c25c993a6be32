"""
Same spikes on any number of ranks, threads or batches
======================================================

A node's spikes are a pure function of (seed, population, node id, parameters), so the
file does not depend on how the work is cut. Here the same input is generated with
different batch sizes and thread counts, and (if ``mpiexec`` and ``mpi4py`` are
installed: ``pip install -e '.[mpi]'``) on 2 MPI ranks with::

    mpiexec -n 2 raster-maker generate --generator ... -o out.h5

Every file is byte-identical.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

import matplotlib.pyplot as plt
import numpy as np

import raster_maker as rm

folder = tempfile.mkdtemp()
args = ("functional_groups", "exc", np.arange(2000), 0.0, 2000.0)
ways = {
    "1 thread": {"threads": 1, "comm": None},
    "small batches": {"batch_spikes": 2000, "comm": None},
    "4 threads": {"threads": 4, "batch_spikes": 5000, "comm": None},
}
digests = {}
for label, kw in ways.items():
    path = os.path.join(folder, label.replace(" ", "_") + ".h5")
    rm.generate(*args, params={"group_size": 100}, seed=9, output=path, **kw)
    digests[label] = hashlib.sha1(open(path, "rb").read()).hexdigest()

mpiexec = shutil.which("mpiexec") or shutil.which("mpiexec", path=os.path.dirname(sys.executable))
try:
    import mpi4py  # noqa: F401
except ImportError:
    mpiexec = None
if mpiexec:
    path = os.path.join(folder, "mpi.h5")
    script = (
        "import numpy as np, raster_maker as rm; "
        "rm.generate('functional_groups', 'exc', np.arange(2000), 0.0, 2000.0, "
        f"params={{'group_size': 100}}, seed=9, output={path!r})"
    )
    run = subprocess.run(
        [mpiexec, "-n", "2", sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if run.returncode == 0:
        digests["2 MPI ranks"] = hashlib.sha1(open(path, "rb").read()).hexdigest()
    else:
        print("mpiexec failed:", run.stderr[-500:])

for label, digest in digests.items():
    print(f"{label:>14}: sha1 {digest}")
assert len(set(digests.values())) == 1

fig, ax = plt.subplots(figsize=(6, 2.5))
ax.barh(list(digests), [1] * len(digests), color="C2")
ax.set(xticks=[], title=f"identical files (sha1 {next(iter(digests.values()))[:12]})")
fig.tight_layout()
