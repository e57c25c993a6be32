"""raster_maker: realistic input spike rasters for BMTK / SONATA network models."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("raster-maker")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

from .sonata import SpikesWriter, read_spikes, write_spikes

__all__ = ["__version__", "SpikesWriter", "read_spikes", "write_spikes"]
