"""One W2-sized generation, timed; run under ``mpiexec -n N`` or alone (see run.py --mpi)."""

from __future__ import annotations

import json
import sys
import time

import numpy as np

from raster_maker import generate
from raster_maker._mpi import world


def main() -> None:
    out, n_units, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    t0 = time.perf_counter()
    res = generate(
        "poisson",
        "p",
        np.arange(n_units),
        0.0,
        10_000.0,
        params={"rate_hz": 10.0},
        seed=1,
        output=out,
        overwrite=True,
        progress=False,
        threads=threads,
    )
    wall = time.perf_counter() - t0
    comm = world()
    if comm is None or comm.Get_rank() == 0:
        print(json.dumps({"wall_s": wall, "spikes": res.n_spikes}))


if __name__ == "__main__":
    main()
