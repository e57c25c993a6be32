"""One workload, timed; run under ``mpiexec -n N`` or alone (see run.py --mpi).

``python _mpi_speedup.py WORKLOAD OUT THREADS [--quick]`` prints one JSON line (rank 0):
wall time, spikes, and the write path taken (``serial``, ``gather`` or ``parallel``; chosen
by ``RASTER_MAKER_MPI_WRITE``, see README "MPI").
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _tools import ours_call  # noqa: E402
from _workloads import FULL, POPULATION, QUICK  # noqa: E402

from raster_maker import generate  # noqa: E402
from raster_maker._mpi import world, write_mode  # noqa: E402


def main() -> None:
    name, out, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    wl = (QUICK if "--quick" in sys.argv[4:] else FULL)[name]
    gen, params = ours_call(wl)
    comm = world()
    if comm is not None:
        comm.Barrier()  # every rank started: the clock does not count the launcher
    t0 = time.perf_counter()
    res = generate(
        gen,
        POPULATION,
        np.arange(wl.n_units),
        0.0,
        wl.tstop_ms,
        params=params,
        seed=1,
        output=out,
        overwrite=True,
        progress=False,
        threads=threads,
    )
    wall = time.perf_counter() - t0
    mode = "serial" if comm is None else write_mode(comm, "by_id", res.n_spikes)
    if comm is None or comm.Get_rank() == 0:
        print(json.dumps({"wall_s": wall, "spikes": res.n_spikes, "mode": mode}))


if __name__ == "__main__":
    main()
