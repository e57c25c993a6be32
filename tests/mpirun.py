"""What the MPI tests share: the ``mpiexec`` beside this interpreter (the one its mpi4py
was built for) and the write paths this h5py can take."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import h5py

MPIEXEC = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which("mpiexec")
HAS_MPIO = bool(h5py.get_config().mpi)
# write paths this h5py can take (RASTER_MAKER_MPI_WRITE forces one, small inputs included)
WRITE_PATHS = ["gather", "parallel"] if HAS_MPIO else ["gather"]
