"""Recorded rasters that tests replay (made once per session in a temporary folder)."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

import numpy as np

from raster_maker import generate


@functools.cache
def replay_source() -> str:
    """A recorded raster for 'replay': 400 nodes at 8 Hz over (0, 700) ms."""
    folder = Path(tempfile.mkdtemp(prefix="raster_maker_replay_"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = folder / "recorded.h5"
    generate(
        "poisson", "rec", np.arange(400), 0.0, 700.0, params={"rate_hz": 8.0}, seed=11, output=path
    )
    return str(path)
