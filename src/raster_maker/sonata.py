"""SONATA spikes files: a streaming writer every reader accepts, a reader, BMTK conversions.

Layout written (SONATA spike-file spec, as libsonata reads it)::

    /                         attrs: magic (uint32 0x0A7A), version (uint32 [0, 1])
    /spikes/<population>      attrs: sorting (HDF5 enum on uint8: none=0, by_id=1, by_time=2)
        timestamps            float64, attrs: units = "ms"
        node_ids              uint64

``sorting`` always tells the truth: the writer tracks the order of what was appended
and labels a population ``by_id`` or ``by_time`` only when it really is in that order.
No compression unless asked for (libsonata's wheels have no gzip filter).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd

from ._atomic import (
    AtomicWriterMixin,
    check_destination,
    commit_temporary,
    temporary_name,
)
from ._check import check_option
from .reading import (  # the checked readers live in reading.py, re-exported here
    SpikesFileError,
    population_names,
    read_metadata,
    read_provenance,
    read_spikes,
    to_spike_trains,
)

__all__ = [
    "SORTING_DTYPE",
    "SORTINGS",
    "SpikesWriter",
    "SpikesFileError",
    "read_spikes",
    "population_names",
    "write_spikes",
    "to_spike_trains",
    "from_spike_trains",
    "write_sonata_spike_attrs",
    "sort_order_of",
    "read_provenance",
    "read_metadata",
    "sorting_label",
    "Monotone",
]

logger = logging.getLogger("raster_maker")

#: Allowed values of the ``sorting`` attribute of a SONATA spikes population, in the
#: order of their enum codes (``none`` = 0, ``by_id`` = 1, ``by_time`` = 2).
SORTINGS = ("none", "by_id", "by_time")
#: HDF5 enum type (on uint8) of the ``sorting`` attribute, as libsonata reads it:
#: ``{"none": 0, "by_id": 1, "by_time": 2}``.
SORTING_DTYPE = h5py.enum_dtype({"none": 0, "by_id": 1, "by_time": 2}, basetype=np.uint8)
MAGIC = np.uint32(0x0A7A)
VERSION = np.array([0, 1], dtype=np.uint32)
_DEFAULT_BUFFER = 1 << 19  # spikes per population held in memory (8 MB); more are streamed
_CHUNK = 1 << 16  # HDF5 chunk (elements) of a streamed population, 512 KB
_MIN_CHUNK = 1 << 12  # smallest chunk chunk_length() gives


def write_sonata_spike_attrs(h5: h5py.File, population: str, sorting: str) -> None:
    """Add the SONATA attributes (magic, version, units, enum sorting) to an open file.

    Writes the root ``magic`` (uint32 0x0A7A) and ``version`` (uint32 ``[0, 1]``),
    ``units = "ms"`` on ``/spikes/<population>/timestamps`` and the ``sorting``
    attribute of ``/spikes/<population>`` as an HDF5 enum (:data:`SORTING_DTYPE`),
    replacing any ``sorting`` already there. The spikes are neither read nor reordered:
    the caller vouches that ``sorting`` is true.

    Parameters
    ----------
    h5 : h5py.File
        A file open for writing, holding ``/spikes/<population>/timestamps``.
    population : str
        Name of the population under ``/spikes``.
    sorting : {'none', 'by_id', 'by_time'}
        Order the population's spikes are in.

    Raises
    ------
    ValueError
        If ``sorting`` is not one of :data:`SORTINGS`.
    KeyError
        If the file has no ``/spikes/<population>/timestamps``.
    """
    check_option("sorting", sorting, SORTINGS)
    _write_root_attrs(h5)
    grp = h5["spikes"][population]
    grp["timestamps"].attrs["units"] = "ms"
    if "sorting" in grp.attrs:
        del grp.attrs["sorting"]
    grp.attrs.create("sorting", SORTINGS.index(sorting), dtype=SORTING_DTYPE)


def _write_root_attrs(h5: h5py.File) -> None:
    h5.attrs.create("magic", MAGIC, dtype=np.uint32)
    h5.attrs.create("version", VERSION, dtype=np.uint32)


def sort_order_of(node_ids: np.ndarray, timestamps: np.ndarray) -> str:
    """Return the strongest true sorting label of the given spikes.

    ``by_time`` if timestamps never decrease, else ``by_id`` if node ids never
    decrease (times may be in any order within a node, as SONATA allows), else ``none``.

    Parameters
    ----------
    node_ids : ndarray of int
        Node id of each spike.
    timestamps : ndarray of float
        Time of each spike (ms), as many as ``node_ids``.

    Returns
    -------
    str
        ``'by_time'``, ``'by_id'`` or ``'none'`` (``'by_time'`` for fewer than two
        spikes).

    Examples
    --------
    >>> import numpy as np
    >>> from raster_maker.sonata import sort_order_of
    >>> sort_order_of(np.array([0, 0, 1]), np.array([5.0, 1.0, 2.0]))
    'by_id'
    >>> sort_order_of(np.array([1, 0, 1]), np.array([1.0, 2.0, 3.0]))
    'by_time'
    """
    return sorting_label(
        bool(np.all(timestamps[1:] >= timestamps[:-1])), bool(np.all(node_ids[1:] >= node_ids[:-1]))
    )


def sorting_label(by_time: bool, by_id: bool) -> str:
    """Return the strongest true sorting label: ``by_time``, then ``by_id``, then ``none``.

    Parameters
    ----------
    by_time : bool
        The spikes' timestamps never decrease.
    by_id : bool
        The spikes' node ids never decrease.

    Returns
    -------
    str
        ``'by_time'`` if ``by_time``, else ``'by_id'`` if ``by_id``, else ``'none'``.

    Examples
    --------
    >>> from raster_maker.sonata import sorting_label
    >>> sorting_label(by_time=False, by_id=True)
    'by_id'
    """
    return "by_time" if by_time else "by_id" if by_id else "none"


class Monotone:
    """Tracks, chunk by chunk, whether a sequence appended so far never decreases."""

    def __init__(self) -> None:
        self.ok = True
        self.last: Any = None

    def update(self, arr: np.ndarray) -> None:
        if arr.size == 0:
            return
        if self.ok:
            within = bool(np.all(arr[1:] >= arr[:-1]))
            self.ok = within and (self.last is None or bool(arr[0] >= self.last))
        self.last = arr[-1]


class _OrderTracker:
    """Tracks whether appended spikes are sorted by id or by time.

    A check costs one pass over a chunk; once a sequence is known to be out of order it
    is no longer looked at, so a by-id stream costs one pass over its ids only.
    """

    def __init__(self) -> None:
        self.ids = Monotone()
        self.times = Monotone()

    def update(self, node_ids: np.ndarray, times: np.ndarray) -> None:
        self.ids.update(node_ids)
        self.times.update(times)

    def update_by_id(self, node_ids: np.ndarray, times: np.ndarray) -> None:
        """Like :meth:`update` for a chunk known to be in node order: ids cost nothing."""
        if node_ids.size == 0:
            return
        if self.ids.ok and self.ids.last is not None:
            self.ids.ok = bool(node_ids[0] >= self.ids.last)
        self.ids.last = node_ids[-1]
        self.times.update(times)

    def update_summary(
        self, first_id: int, last_id: int, first_t: float, last_t: float, times_sorted: bool
    ) -> None:
        """Like :meth:`update_by_id` for a chunk seen by its ends only (written elsewhere, e.g.
        by another MPI rank); ``times_sorted``: its times never decrease."""
        if self.ids.ok and self.ids.last is not None:
            self.ids.ok = first_id >= self.ids.last
        self.ids.last = last_id
        if self.times.ok:
            self.times.ok = times_sorted and (self.times.last is None or first_t >= self.times.last)
        self.times.last = last_t

    @property
    def by_id(self) -> bool:
        return self.ids.ok

    @property
    def by_time(self) -> bool:
        return self.times.ok

    @property
    def label(self) -> str:
        return sorting_label(self.times.ok, self.ids.ok)


def chunk_length(n_spikes: float) -> int:
    """HDF5 chunk (elements) for a streamed population of about ``n_spikes`` spikes.

    Small streams get chunks near their size (a power of two, at least 4096), big ones
    :data:`_CHUNK`, so a file is never much bigger than its spikes and large writes stay
    whole-chunk writes.
    """
    if n_spikes >= _CHUNK:
        return _CHUNK
    return int(max(_MIN_CHUNK, 1 << int(np.ceil(np.log2(max(n_spikes, 1.0))))))


class _Population:
    """One population being written: buffered in memory, then contiguous or chunked.

    Spikes stay in memory until ``buffer_size`` of them wait. A population that never
    outgrows the buffer is written at close as *contiguous* datasets of exactly its size
    (a 100-spike file is a few KB, not a 512 KB chunk per dataset). A bigger one streams
    into chunked, resizable datasets of ``chunk`` elements per chunk, always in whole
    chunks (big appends go to disk without a copy, only the tail waits), so no chunk is
    ever read back and rewritten.
    """

    def __init__(self, grp: h5py.Group, compression: Any, chunk: int = _CHUNK) -> None:
        self.grp = grp
        self.compression = compression
        self.chunk = int(chunk)
        self.ts: h5py.Dataset | None = None
        self.ids: h5py.Dataset | None = None
        self.buf_ids: list[np.ndarray] = []
        self.buf_ts: list[np.ndarray] = []
        self.n_buffered = 0
        self.n_written = 0
        self.order = _OrderTracker()

    def append(
        self, node_ids: np.ndarray, times: np.ndarray, buffer_size: int, by_id: bool = False
    ) -> None:
        if by_id:
            self.order.update_by_id(node_ids, times)
        else:
            self.order.update(node_ids, times)
        if self.ts is not None:  # streaming already
            self._stream(node_ids, times)
            return
        self.buf_ids.append(node_ids)
        self.buf_ts.append(times)
        self.n_buffered += node_ids.size
        if self.n_buffered >= buffer_size:  # too big to hold: stream from now on
            pieces = list(zip(self.buf_ids, self.buf_ts, strict=True))
            self.buf_ids, self.buf_ts, self.n_buffered = [], [], 0
            self._create(0, chunked=True)
            for ids, ts in pieces:  # piece by piece: no copy of the whole buffer
                self._stream(ids, ts)

    def _take(self) -> tuple[np.ndarray, np.ndarray]:
        """The buffered spikes as two arrays (no copy when there is one piece)."""
        if len(self.buf_ids) == 1:
            ids, ts = self.buf_ids[0], self.buf_ts[0]
        else:
            ids = np.concatenate(self.buf_ids) if self.buf_ids else np.zeros(0, np.uint64)
            ts = np.concatenate(self.buf_ts) if self.buf_ts else np.zeros(0, np.float64)
        self.buf_ids, self.buf_ts, self.n_buffered = [], [], 0
        return ids, ts

    def _create(self, n: int, chunked: bool, early: bool = False) -> None:
        """The two datasets: contiguous of size ``n``, or chunked and resizable. ``early``:
        chunks are allocated when the datasets grow, not when written (parallel HDF5 needs
        that for independent writes), and never filled."""
        kw: dict[str, Any] = {}
        if chunked or self.compression:  # filters need chunks
            chunk = self.chunk if chunked else max(1, min(self.chunk, n))
            kw = {"maxshape": (None,), "chunks": (chunk,)}
        if self.compression:
            kw["compression"] = self.compression
        if early:
            dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
            dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
            dcpl.set_fill_time(h5py.h5d.FILL_TIME_NEVER)
            kw["dcpl"] = dcpl
        self.ts = self.grp.create_dataset("timestamps", shape=(n,), dtype=np.float64, **kw)
        self.ids = self.grp.create_dataset("node_ids", shape=(n,), dtype=np.uint64, **kw)

    def _stream(self, ids: np.ndarray, ts: np.ndarray) -> None:
        """Write whole chunks; keep the tail (less than a chunk) buffered."""
        if self.n_buffered:  # complete the waiting partial chunk first
            need = self.chunk - self.n_buffered
            if ids.size < need:
                self.buf_ids.append(ids)
                self.buf_ts.append(ts)
                self.n_buffered += ids.size
                return
            self.buf_ids.append(ids[:need])
            self.buf_ts.append(ts[:need])
            self._write(*self._take())
            ids, ts = ids[need:], ts[need:]
        whole = ids.size - ids.size % self.chunk
        if whole:
            self._write(ids[:whole], ts[:whole])
        if whole < ids.size:  # a copy: the caller may reuse its arrays
            self.buf_ids.append(ids[whole:].copy())
            self.buf_ts.append(ts[whole:].copy())
            self.n_buffered = ids.size - whole

    def _write(self, ids: np.ndarray, ts: np.ndarray) -> None:
        assert self.ts is not None and self.ids is not None
        n0 = self.n_written
        self.ts.resize((n0 + ts.size,))
        self.ids.resize((n0 + ids.size,))
        self.ts[n0:] = ts
        self.ids[n0:] = ids
        self.n_written = n0 + ids.size

    def flush(self, sorting: str | None = None) -> None:
        """Write what is buffered; a population still all in memory is sorted (``sorting``)
        and written contiguous."""
        if self.ts is None:
            ids, ts = self._take()
            if sorting is not None and ids.size:
                perm = _sort_permutation(ids, ts, sorting)
                ids, ts = ids[perm], ts[perm]
            self._create(ids.size, chunked=False)
            assert self.ts is not None and self.ids is not None
            if ids.size:
                self.ts[...] = ts
                self.ids[...] = ids
            self.n_written = ids.size
            return
        if self.n_buffered:
            self._write(*self._take())

    @property
    def in_memory(self) -> bool:
        """All spikes still buffered (no dataset yet)."""
        return self.ts is None

    @property
    def size(self) -> int:
        return self.n_written + self.n_buffered


class SpikesWriter(AtomicWriterMixin):
    """Stream spikes of one or more populations into a SONATA spikes file.

    Spikes are appended in chunks of any size and flushed to disk in large blocks,
    so memory stays bounded whatever the total. The file is written under a
    temporary name in the destination folder and moved to ``path`` on :meth:`close`;
    if anything fails (or the process is killed) ``path`` is left as it was.

    Parameters
    ----------
    path : str or path-like
        Destination ``.h5`` file.
    sorting : {'none', 'by_id', 'by_time'}
        Order to put each population in on close. With ``'none'`` the spikes stay in
        the order appended, and the ``sorting`` attribute still says ``by_id`` or
        ``by_time`` when that order happens to be one of them.
    overwrite : bool
        Replace an existing ``path``. Default False: an existing file is refused.
    compression : str or None
        h5py compression filter (e.g. ``'gzip'``). Default None: libsonata's
        wheels cannot read gzip.
    buffer_size : int
        Spikes per population held in memory before a flush.
    attrs : mapping, optional
        Extra root attributes.
    max_sort_in_memory : int
        Populations with more spikes than this are sorted out of core (bucket sort
        through a scratch file next to the output), so memory stays bounded.

    Examples
    --------
    >>> with SpikesWriter("spikes.h5", overwrite=True) as w:  # doctest: +SKIP
    ...     w.append("exc_stim", [0, 0, 1], [1.5, 7.25, 3.0])
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        sorting: str = "none",
        overwrite: bool = False,
        compression: str | None = None,
        buffer_size: int = _DEFAULT_BUFFER,
        attrs: Mapping[str, Any] | None = None,
        max_sort_in_memory: int = 8_000_000,
    ) -> None:
        self.sorting = check_option("sorting", sorting, SORTINGS)
        self.max_sort_in_memory = int(max_sort_in_memory)
        self.path = check_destination(path, overwrite)
        self.overwrite = overwrite
        self.compression = compression
        self.buffer_size = int(buffer_size)
        self._tmp = temporary_name(self.path)
        # no chunk cache: every write reaches the file at once, so a full disk fails the
        # write that hit it (a cache would fail later, at eviction or close, in HDF5 itself)
        self._h5 = h5py.File(self._tmp, "w", rdcc_nbytes=0)
        self._spikes = self._h5.create_group("spikes")
        self._pops: dict[str, _Population] = {}
        self._pop_attrs: dict[str, dict[str, Any]] = {}
        self.closed = False
        for key, val in (attrs or {}).items():
            self._h5.attrs[key] = val

    # -- building -------------------------------------------------------------
    @property
    def populations(self) -> list[str]:
        """Names of the populations in the file so far."""
        return list(self._pops)

    def add_population(self, population: str, attrs: Mapping[str, Any] | None = None) -> None:
        """Create an (empty) population; a name already in the file is an error.

        Parameters
        ----------
        population : str
            Name of the population (``/spikes/<population>``).
        attrs : mapping, optional
            Attributes of ``/spikes/<population>`` (e.g. from
            :func:`~raster_maker.generate.provenance`), written on :meth:`close`:
            dicts, lists and tuples as JSON text, None as ``"null"``.

        Raises
        ------
        ValueError
            If ``population`` is not a non-empty string without ``/``, or is already
            in the file.
        """
        if not isinstance(population, str) or not population or "/" in population:
            raise ValueError(
                f"Invalid population name {population!r}. Allowed: a non-empty string without '/'."
            )
        if population in self._pops:
            raise ValueError(f"Population '{population}' is already in '{self.path}'.")
        grp = self._spikes.create_group(population)
        self._pops[population] = _Population(grp, self.compression, chunk_length(self.buffer_size))
        self._pop_attrs[population] = dict(attrs or {})

    def set_attrs(self, population: str, attrs: Mapping[str, Any]) -> None:
        """Set attributes of ``/spikes/<population>`` (e.g. provenance).

        They are merged into those given so far (a key set again is replaced) and
        written on :meth:`close`, as in :meth:`add_population`.

        Parameters
        ----------
        population : str
            A population already in the writer.
        attrs : mapping
            Attribute names and values.

        Raises
        ------
        KeyError
            If the writer has no population ``population``.
        """
        self._population(population)
        self._pop_attrs[population].update(attrs)

    def add_metadata(self, population: str, data: Mapping[str, Any]) -> None:
        """Store per-node generation metadata under ``/raster_maker/<population>/``.

        Outside ``/spikes``, so SONATA readers ignore it;
        :func:`~raster_maker.reading.read_metadata` returns it. Written at once (not on
        :meth:`close`).

        Parameters
        ----------
        population : str
            A population already in the writer.
        data : mapping
            Dataset name -> array-like (e.g. ``"node_ids"``, ``"target_rate_hz"`` in
            Hz); object arrays (e.g. strings) are stored as variable-length strings.

        Raises
        ------
        KeyError
            If the writer has no population ``population``.
        ValueError
            If a dataset of that name is already stored for the population.
        """
        self._population(population)
        grp = self._h5.require_group("raster_maker").require_group(population)
        for key, val in data.items():
            arr = np.asarray(val)
            if arr.dtype == object:
                arr = arr.astype(h5py.string_dtype())
            grp.create_dataset(key, data=arr)

    def append(self, population: str, node_ids: Any, timestamps: Any) -> None:
        """Append spikes of one population (created on first use).

        Parameters
        ----------
        population : str
        node_ids : array-like of int
            Non-negative node ids, one per spike.
        timestamps : array-like of float
            Spike times in ms, finite, one per spike.
        """
        if self.closed:
            raise ValueError(f"Cannot append to '{self.path}': the writer is closed.")
        if population not in self._pops:
            self.add_population(population)
        ids = np.asarray(node_ids)
        ts = np.asarray(timestamps, dtype=np.float64)
        if ids.ndim != 1 or ts.ndim != 1 or ids.shape != ts.shape:
            raise ValueError(
                f"node_ids and timestamps must be 1-D and of equal length; got shapes "
                f"{ids.shape} and {ts.shape}."
            )
        if ids.size and ids.dtype.kind not in "ui":
            raise TypeError(f"node_ids must be integers, got dtype {ids.dtype}.")
        if ids.size and ids.dtype.kind == "i" and ids.min() < 0:
            raise ValueError(f"Invalid node id {ids.min()}. Allowed: node ids >= 0.")
        if not np.all(np.isfinite(ts)):
            bad = ts[~np.isfinite(ts)][0]
            raise ValueError(f"Invalid timestamp {bad}. Allowed: finite times in ms.")
        self._pops[population].append(ids.astype(np.uint64, copy=False), ts, self.buffer_size)

    def _append_by_id(self, population: str, node_ids: np.ndarray, timestamps: np.ndarray) -> None:
        """:meth:`append` without the checks, for spikes known to be valid and in node order
        (uint64 ids non-decreasing, float64 times sorted per node), as generation makes them."""
        self._pops[population].append(node_ids, timestamps, self.buffer_size, by_id=True)

    def _detach(self, population: str, chunk: int) -> Path:
        """Give the population empty chunked datasets and close the file, keeping it, so
        other processes can fill them in place (the parallel MPI write); see :meth:`_attach`.
        """
        pop = self._population(population)
        pop.chunk = int(chunk)
        pop._create(0, chunked=True, early=True)
        self._h5.close()
        return self._tmp

    def _attach(self, population: str, n_spikes: int, order: _OrderTracker) -> None:
        """Reopen the file after :meth:`_detach`; ``population`` now holds ``n_spikes``
        spikes whose order ``order`` tracked. Then :meth:`close` labels and commits it."""
        self._h5 = h5py.File(self._tmp, "r+", rdcc_nbytes=0)
        self._spikes = self._h5["spikes"]
        for name, pop in self._pops.items():
            pop.grp = self._spikes[name]
            if not pop.in_memory:
                pop.ts, pop.ids = pop.grp["timestamps"], pop.grp["node_ids"]
        pop = self._pops[population]
        pop.n_written, pop.order = int(n_spikes), order

    def _sync_data(self) -> None:
        """``fdatasync`` what was written so far (starts the disk writing before close)."""
        os.fdatasync(self._h5.id.get_vfd_handle())

    # -- finishing ------------------------------------------------------------
    def close(self) -> Path:
        """Sort if asked, write the SONATA attributes and move the file into place.

        Each population is put in the writer's ``sorting`` order (its ``sorting``
        attribute then says so; with ``'none'`` it says the order the spikes happen to
        be in), the population attributes are written and the file is flushed to disk
        and moved to ``path``. Closing a closed writer does nothing. On any error
        the temporary file is discarded, the destination is left as it was and the
        error is raised.

        Returns
        -------
        Path
            The file written.

        Raises
        ------
        FileExistsError
            If the destination appeared while the file was written and ``overwrite``
            is false.
        TypeError
            If a population attribute cannot be recorded (not a number, string,
            array, or a JSON-able dict/list).
        """
        if self.closed:
            return self.path
        try:
            for name, pop in self._pops.items():
                label = self._finish_population(pop)
                write_sonata_spike_attrs(self._h5, name, label)
                for key, val in self._pop_attrs[name].items():
                    pop.grp.attrs[key] = _attr_value(val)
            _write_root_attrs(self._h5)  # also for a file with no population
            self._h5.close()
            commit_temporary(self._tmp, self.path, self.overwrite)
        except BaseException:
            self.abort()
            raise
        self.closed = True
        logger.info("wrote %s (%s)", self.path, ", ".join(self._pops) or "no populations")
        return self.path

    def abort(self) -> None:
        """Discard everything written; the destination is left untouched."""
        self.closed = True
        with contextlib.suppress(Exception):
            self._h5.close()
        with contextlib.suppress(FileNotFoundError):
            self._tmp.unlink()

    def _finish_population(self, pop: _Population) -> str:
        """Write what is buffered, sorted as asked; return the true sorting label."""
        order = pop.order
        if (
            self.sorting == "none"
            or (self.sorting == "by_id" and order.by_id)
            or (self.sorting == "by_time" and order.by_time)
        ):
            pop.flush()
            return order.label if self.sorting == "none" else self.sorting
        if pop.in_memory:  # sorted in memory, written once
            pop.flush(sorting=self.sorting)
            return self.sorting
        pop.flush()
        assert pop.ids is not None and pop.ts is not None
        if pop.size <= self.max_sort_in_memory:
            ids, ts = pop.ids[:], pop.ts[:]
            perm = _sort_permutation(ids, ts, self.sorting)
            pop.ids[:] = ids[perm]
            pop.ts[:] = ts[perm]
        else:
            _external_sort(pop, self.sorting, self.max_sort_in_memory, self._tmp)
        return self.sorting

    def _population(self, population: str) -> _Population:
        try:
            return self._pops[population]
        except KeyError:
            raise KeyError(
                f"No population '{population}' in this writer; "
                f"it has: {', '.join(self._pops) or 'none'}."
            ) from None


def _sort_permutation(ids: np.ndarray, ts: np.ndarray, sorting: str) -> np.ndarray:
    if sorting == "by_time":
        return np.argsort(ts, kind="stable")
    return np.lexsort((ts, ids))


def _external_sort(pop: _Population, sorting: str, max_in_memory: int, tmp: Path) -> None:
    """Sort a population larger than memory: bucket by key range, sort each bucket.

    Pass 1 histograms the key (time or node id) to cut buckets of at most about
    ``max_in_memory / 2`` spikes; pass 2 scatters the spikes into the buckets of a
    scratch file; pass 3 sorts each bucket in memory and writes it back in place.
    """
    assert pop.ids is not None and pop.ts is not None
    key_ds = pop.ts if sorting == "by_time" else pop.ids
    n = pop.size
    step = max(1, max_in_memory // 2)
    lo, hi = np.inf, -np.inf
    for start in range(0, n, step):
        k = key_ds[start : start + step].astype(np.float64)
        lo, hi = min(lo, k.min()), max(hi, k.max())
    fine = np.linspace(lo, hi, 65537) if hi > lo else np.array([lo, lo + 1.0])
    hist = np.zeros(fine.size - 1, dtype=np.int64)
    for start in range(0, n, step):
        hist += np.histogram(key_ds[start : start + step].astype(np.float64), bins=fine)[0]
    cum = np.cumsum(hist)
    targets = step * np.arange(1, -(-n // step))
    edges = np.unique(fine[1:][np.searchsorted(cum, targets, side="left")])  # ~equal buckets
    scratch = tmp.with_name(tmp.name + ".sort")
    try:
        with h5py.File(scratch, "w", rdcc_nbytes=0) as sf:
            parts = [
                (
                    sf.create_dataset(f"i{b}", (0,), np.uint64, maxshape=(None,), chunks=(_CHUNK,)),
                    sf.create_dataset(
                        f"t{b}", (0,), np.float64, maxshape=(None,), chunks=(_CHUNK,)
                    ),
                )
                for b in range(edges.size + 1)
            ]
            for start in range(0, n, step):
                ids, ts = pop.ids[start : start + step], pop.ts[start : start + step]
                key = ts if sorting == "by_time" else ids.astype(np.float64)
                bucket = np.searchsorted(edges, key, side="right")
                perm = np.argsort(bucket, kind="stable")
                bounds = np.searchsorted(bucket[perm], np.arange(edges.size + 2))
                for b, (di, dt) in enumerate(parts):
                    sel = perm[bounds[b] : bounds[b + 1]]
                    if sel.size:
                        m = di.shape[0]
                        di.resize((m + sel.size,))
                        dt.resize((m + sel.size,))
                        di[m:] = ids[sel]
                        dt[m:] = ts[sel]
            pos = 0
            for di, dt in parts:
                ids, ts = di[:], dt[:]
                perm = _sort_permutation(ids, ts, sorting)
                pop.ids[pos : pos + ids.size] = ids[perm]
                pop.ts[pos : pos + ids.size] = ts[perm]
                pos += ids.size
    finally:
        with contextlib.suppress(FileNotFoundError):
            scratch.unlink()


def _attr_value(val: Any) -> Any:
    if isinstance(val, (dict, list, tuple)) and not isinstance(val, np.ndarray):
        return json.dumps(val, sort_keys=True, default=_json_default)
    if val is None:
        return "null"
    return val


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"Cannot record {type(obj).__name__} {obj!r} in the provenance.")


def write_spikes(
    path: str | os.PathLike,
    spikes: Mapping[str, tuple[Any, Any]] | pd.DataFrame,
    **kwargs: Any,
) -> Path:
    """Write whole populations at once.

    Parameters
    ----------
    path : str or path-like
        Destination ``.h5`` file (written atomically, see :class:`SpikesWriter`).
    spikes : mapping or DataFrame
        ``{population: (node_ids, timestamps)}`` with non-negative integer node ids
        and finite times in ms, or a DataFrame with columns ``population``,
        ``node_ids``, ``timestamps`` (ms).
    **kwargs
        Passed to :class:`SpikesWriter` (``sorting``, ``overwrite``, ...).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is not true.
    FileNotFoundError
        If the folder of ``path`` does not exist.
    ValueError
        If ``sorting`` or a population name is invalid, or node ids or timestamps are
        (negative ids, non-finite times, arrays of different lengths).
    TypeError
        If node ids are not integers.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from raster_maker.sonata import read_spikes, write_spikes
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_spikes(Path(tmp) / "stim.h5", {"stim": ([1, 0], [2.5, 7.0])},
    ...                         sorting="by_id")
    ...     read_spikes(path)["node_ids"].tolist()
    [0, 1]
    """
    if isinstance(spikes, pd.DataFrame):
        spikes = {
            pop: (df["node_ids"].to_numpy(), df["timestamps"].to_numpy())
            for pop, df in spikes.groupby("population", sort=False)
        }
    with SpikesWriter(path, **kwargs) as writer:
        for pop, (ids, ts) in spikes.items():
            writer.add_population(pop)
            writer.append(pop, ids, ts)
    return Path(path)


def from_spike_trains(spike_trains, path: str | os.PathLike, **kwargs: Any) -> Path:
    """Write a BMTK ``SpikeTrains`` object as a SONATA file every reader accepts.

    Unlike ``SpikeTrains.to_sonata`` this writes the ``sorting`` attribute as an HDF5
    enum and no gzip, so libsonata (Neurodamus) can open it.

    Parameters
    ----------
    spike_trains : bmtk.utils.reports.spike_trains.SpikeTrains
        The spikes, every population of it (node ids as uint64, times as float64 ms).
    path : str or path-like
        Destination ``.h5`` file.
    **kwargs
        Passed to :class:`SpikesWriter` (``sorting``, ``overwrite``, ...).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is not true.
    ValueError
        As :func:`write_spikes` (invalid ``sorting``, non-finite times).
    """
    spikes = {}
    for pop in spike_trains.populations:
        df = spike_trains.to_dataframe(populations=pop, with_population_col=False)
        spikes[pop] = (df["node_ids"].to_numpy(np.uint64), df["timestamps"].to_numpy(np.float64))
    return write_spikes(path, spikes, **kwargs)
