"""What the MPI tests share: the ``mpiexec`` beside this interpreter (the one its mpi4py
was built for) and the write paths this h5py can take."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import h5py

MPIEXEC = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which("mpiexec")
HAS_MPIO = bool(h5py.get_config().mpi)
# write paths this h5py can take (RASTER_MAKER_MPI_WRITE forces one, small inputs included)
WRITE_PATHS = ["gather", "parallel"] if HAS_MPIO else ["gather"]


def run_python(
    *args: object,
    ranks: int = 1,
    write_path: str | None = None,
    cwd: Path | None = None,
    **env: str,
) -> subprocess.CompletedProcess:
    """``python *args`` with this interpreter (in ``cwd``, with ``env`` added), under
    ``mpiexec -n ranks`` when ``ranks`` is more than 1; ``write_path`` forces an MPI
    write path (``RASTER_MAKER_MPI_WRITE``). Raises if it fails or takes over 5 minutes."""
    cmd = [sys.executable, *map(str, args)]
    if ranks > 1:
        cmd = [MPIEXEC, "-n", str(ranks), *cmd]
    if write_path is not None:
        env["RASTER_MAKER_MPI_WRITE"] = write_path
    return subprocess.run(cmd, check=True, timeout=300, cwd=cwd, env={**os.environ, **env})
