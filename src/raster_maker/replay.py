"""Replay: recorded spike trains mapped onto a node set.

The ``replay`` generator reads the trains of one population of a spikes file (SONATA,
BMTK's CSV or an NWB units table), cuts out a window of them, maps them onto the
target nodes and tiles them over the generation window. Any ``transforms`` (jitter,
thinning, a shift) then make trials differ (:mod:`raster_maker.transforms`).

Definitions
-----------
- The source window ``window_ms = [w0, w1]`` holds the source spikes with
  ``w0 < t <= w1``. Copy ``k`` of it is shifted by ``tstart_ms - w0 + k * (w1 - w0)``,
  so copy 0 starts at ``tstart_ms`` and the copies tile ``(tstart_ms, tstop_ms)``
  without overlap (``repeat=False`` keeps copy 0 only). As in every generator, spikes
  fall strictly inside ``(tstart_ms, tstop_ms)``: a spike landing exactly on
  ``tstop_ms`` (or, by rounding, on ``tstart_ms``) is dropped.
- The default window is the recorded generation window of a raster_maker file (its
  provenance), else ``[0, last spike]``: source spikes at or before 0 ms are then not
  replayed, and with ``repeat`` the last spike of each copy falls where the next copy
  begins. Give ``window_ms`` to choose otherwise.
- So with the identity mapping, ``tstart_ms = 0`` and a window starting at 0 that holds
  every spike, the replayed times are the source times, bit for bit (the shift of copy
  0 is exactly 0.0); source spikes must then be > 0 ms.
- The source trains are the source's node ids: those it declares (the ``node_ids`` of
  a raster_maker file's metadata, every row of an NWB units table), including silent
  units, plus every id with a spike. A train is replayed whole: empty if the unit did
  not fire in the window.

Mappings
--------
- ``identity``: target node ``i`` replays source node ``i``; every target id must be
  a source id.
- ``shuffle``: a random permutation of the source trains onto the sorted target ids
  (needs at least as many source trains as targets), drawn once per network from a
  shared generator, so identical on every rank and in every trial. It depends on the
  whole target set.
- ``resample``: each target picks a source train uniformly, with replacement, from its
  own stream (independent of the rest of the node set, the same in every trial).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import h5py
import numpy as np
import pandas as pd

from ._check import check_number, check_option
from .models import InputModel, Units
from .plans import Context, Plan
from .registry import register
from .streams import uniform

__all__ = ["Replay", "ReplayPlan", "SourceTrains", "read_source_trains", "FORMATS", "MAPPINGS"]

#: Values of the ``format`` parameter: the spikes file formats read (``'auto'``: by content).
FORMATS = ("auto", "sonata", "csv", "nwb")
#: Values of the ``mapping`` parameter: how target nodes pick source trains.
MAPPINGS = ("identity", "shuffle", "resample")
TIME_UNITS = ("auto", "ms", "s")
MAX_SPIKES_PER_NODE = 1e8  # more is a window mistake, and would not fit in memory
_ALLOWED_FILES = (
    "a SONATA spikes file (HDF5 with /spikes/<population>), a BMTK CSV spikes file "
    "(space-separated, header 'timestamps population node_ids') or an NWB file with a "
    "units table"
)
_BMTK_NWB = re.compile(r"^BMTK .*generated NWB spikes file")


@dataclass(frozen=True)
class SourceTrains:
    """The spike trains of one population of a spikes file, by source node.

    Train ``i`` (of node ``node_ids[i]``) is ``times_ms[offsets[i]:offsets[i + 1]]``,
    sorted. Made by :func:`read_source_trains` or :meth:`from_spikes`; the fields are
    also its attributes.

    Parameters
    ----------
    node_ids : ndarray of uint64
        Sorted unique source node ids (declared units and units with spikes).
    offsets : ndarray of int64
        ``node_ids.size + 1`` train boundaries into ``times_ms``.
    times_ms : ndarray of float64
        Spike times (ms), by train.
    population : str or None
        The population read (None for a file without population names).
    format : str
        ``'sonata'``, ``'csv'`` or ``'nwb'``.
    span_ms : tuple of float, optional
        The generation window ``(tstart_ms, tstop_ms)`` recorded in a raster_maker file
        (None otherwise).

    Examples
    --------
    >>> src = SourceTrains.from_spikes([2, 0, 2], [5.0, 1.0, 3.0], population="v1",
    ...                                format="csv")
    >>> src.node_ids.tolist(), src.offsets.tolist(), src.times_ms.tolist()
    ([0, 2], [0, 1, 3], [1.0, 3.0, 5.0])
    """

    node_ids: np.ndarray
    offsets: np.ndarray
    times_ms: np.ndarray
    population: str | None
    format: str
    span_ms: tuple[float, float] | None = None

    @classmethod
    def from_spikes(cls, node_ids, times_ms, declared=None, **kw: Any) -> SourceTrains:
        """Group ``(node_ids, times_ms)`` spikes into trains (plus silent ``declared`` ids).

        Parameters
        ----------
        node_ids : array-like of int
            Node id of each spike (non-negative), in any order.
        times_ms : array-like of float
            Time of each spike (ms), aligned with ``node_ids``.
        declared : array-like of int, optional
            Node ids the source declares whether they fired or not; each gets a train,
            empty if it has no spike.
        **kw
            The other fields: ``population``, ``format`` and optionally ``span_ms``.

        Returns
        -------
        SourceTrains
            One train per id that fired or is declared, sorted by id; each train's
            times sorted.

        Examples
        --------
        >>> src = SourceTrains.from_spikes([1], [4.0], declared=[0, 1], population=None,
        ...                                format="csv")
        >>> src.node_ids.tolist(), src.counts.tolist()
        ([0, 1], [0, 1])
        """
        ids = np.asarray(node_ids, dtype=np.uint64)
        times = np.asarray(times_ms, dtype=np.float64)
        same = ids[1:] == ids[:-1]
        if not (np.all(ids[1:] >= ids[:-1]) and np.all(times[1:][same] >= times[:-1][same])):
            order = np.lexsort((times, ids))  # files sorted by id (the usual) skip this
            ids, times = ids[order], times[order]
        first = np.ones(ids.size, dtype=bool)
        first[1:] = ids[1:] != ids[:-1]
        universe = ids[first]
        if declared is not None:
            universe = np.union1d(universe, np.asarray(declared, dtype=np.uint64))
        counts = np.bincount(np.searchsorted(universe, ids), minlength=universe.size)
        offsets = np.zeros(universe.size + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        return cls(universe, offsets, times, **kw)

    @property
    def counts(self) -> np.ndarray:
        """Spikes per train."""
        return np.diff(self.offsets)

    def train_of_spike(self) -> np.ndarray:
        """The train index of every spike.

        Returns
        -------
        ndarray of int
            Aligned with ``times_ms``: the position in ``node_ids`` of the spike's train.

        Examples
        --------
        >>> SourceTrains.from_spikes([0, 3, 3], [1.0, 2.0, 4.0], population=None,
        ...                          format="csv").train_of_spike().tolist()
        [0, 1, 1]
        """
        return np.repeat(np.arange(self.node_ids.size), self.counts)

    def window(self, w0: float, w1: float) -> SourceTrains:
        """The same trains holding only the spikes with ``w0 < t <= w1``.

        Parameters
        ----------
        w0, w1 : float
            The window (ms): spikes after ``w0`` and at or before ``w1`` are kept.

        Returns
        -------
        SourceTrains
            The same node ids (a train may become empty) and other fields.

        Examples
        --------
        >>> src = SourceTrains.from_spikes([0, 0, 1], [1.0, 2.0, 3.0], population=None,
        ...                                format="csv")
        >>> src.window(1.0, 3.0).counts.tolist()
        [1, 1]
        """
        inside = (self.times_ms > w0) & (self.times_ms <= w1)
        counts = np.bincount(self.train_of_spike()[inside], minlength=self.node_ids.size)
        offsets = np.zeros_like(self.offsets)
        np.cumsum(counts, out=offsets[1:])
        return SourceTrains(
            self.node_ids,
            offsets,
            self.times_ms[inside],
            self.population,
            self.format,
            self.span_ms,
        )


def read_source_trains(
    path: str | os.PathLike,
    population: str | None = None,
    format: str = "auto",
    time_unit: str = "auto",
) -> SourceTrains:
    """Read the spike trains of one population of a SONATA, BMTK CSV or NWB file.

    Parameters
    ----------
    path : str or path-like
        The spikes file.
    population : str, optional
        Which population (default: the only one; an error lists them if there are
        several). A CSV without a population column, or an NWB units table without a
        ``population`` column, holds one population whatever this says.
    format : {'auto', 'sonata', 'csv', 'nwb'}
        ``'auto'`` looks at the content: HDF5 with ``/spikes`` is SONATA, HDF5 with an
        NWB version or ``/units`` is NWB, anything else is read as a BMTK CSV.
    time_unit : {'auto', 'ms', 's'}
        Unit of the file's times. ``'auto'``: SONATA's ``units`` attribute of the
        timestamps (default ms), ms for CSV (BMTK's unit), s for NWB (the NWB
        standard) except for files written by BMTK's ``SpikeTrains.to_nwb``, which
        stores ms.

    Returns
    -------
    SourceTrains
        Times in ms.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not one of the formats, or the population is missing or
        ambiguous (the message lists the populations).
    ImportError
        For an NWB file without pynwb installed (``pip install raster-maker[nwb]``).

    Examples
    --------
    >>> import numpy as np, raster_maker as rm, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "rec.h5")
    >>> _ = rm.write_spikes(path, {"v1": (np.array([0, 0, 2]), np.array([1.0, 5.0, 2.0]))})
    >>> src = read_source_trains(path)
    >>> src.node_ids.tolist(), src.counts.tolist()
    ([0, 2], [2, 1])
    """
    check_option("format", format, FORMATS)
    check_option("time_unit", time_unit, TIME_UNITS)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"Invalid value for 'source': '{path}' does not exist (or is not a file). "
            f"Allowed: {_ALLOWED_FILES}."
        )
    if format == "auto":
        format = _detect_format(path)
    reader = {"sonata": _read_sonata, "csv": _read_csv, "nwb": _read_nwb}[format]
    return reader(path, population, time_unit)


def _detect_format(path: Path) -> str:
    if not h5py.is_hdf5(path):
        return "csv"  # the CSV reader tells a text file that is not a spikes table
    from .reading import _open

    with _open(path) as h5:
        if "spikes" in h5:
            return "sonata"
        if "nwb_version" in h5.attrs or "units" in h5:
            return "nwb"
        found = ", ".join(h5) or "nothing"
    raise ValueError(
        f"Invalid value for 'source': '{path}' is an HDF5 file with neither /spikes nor an "
        f"NWB units table (it holds: {found}). Allowed: {_ALLOWED_FILES}."
    )


def _pick_population(path: Path, population: str | None, available) -> str:
    available = [str(p) for p in available]
    if population is None:
        if len(available) == 1:
            return available[0]
        raise ValueError(
            f"Missing 'source_population': '{path}' has {len(available)} populations. "
            f"Allowed: one of {', '.join(available) or 'none'}."
        )
    if population not in available:
        raise ValueError(
            f"Invalid value for 'source_population': {population!r} is not in '{path}'. "
            f"Allowed: {', '.join(available) or 'none'}."
        )
    return population


def _scale(time_unit: str, native: str) -> float:
    return 1000.0 if (native if time_unit == "auto" else time_unit) == "s" else 1.0


def _read_sonata(path: Path, population: str | None, time_unit: str) -> SourceTrains:
    """Through the checked reading layer: times in ms (a file in seconds is converted)."""
    from .reading import population_names, read_metadata, read_provenance, read_spike_arrays

    pop = _pick_population(path, population, population_names(path))
    # the user may name the unit, whatever the file's label says; replay reorders the
    # trains itself, so a file whose sorting label lies is still usable
    scale = None if time_unit == "auto" else _scale(time_unit, "ms")
    ids, times = read_spike_arrays(path, pop, check_sorting=False, scale_to_ms=scale)[pop]
    declared = read_metadata(path, pop, keys=["node_ids"]).get("node_ids")  # not the profiles
    prov = read_provenance(path, pop)
    span = None
    # a raster_maker file is in ms: read as seconds, its recorded window is not its own
    if "tstart_ms" in prov and "tstop_ms" in prov and time_unit != "s":
        span = (float(prov["tstart_ms"]), float(prov["tstop_ms"]))
    return SourceTrains.from_spikes(
        ids, times, declared, population=pop, format="sonata", span_ms=span
    )


def _read_csv(path: Path, population: str | None, time_unit: str) -> SourceTrains:
    try:
        with open(path, encoding="utf-8") as f:
            first = f.readline().strip()
    except UnicodeDecodeError:
        first = None
    tokens = [] if first is None else first.split(" ")
    header = {"timestamps", "node_ids"} <= set(tokens)
    headerless = len(tokens) == 2 and all(_is_number(t) for t in tokens)
    if not (header or headerless):
        shown = "binary data" if first is None else repr(first[:80])
        raise ValueError(
            f"Invalid value for 'source': cannot read '{path}' as a spikes file (it starts "
            f"with {shown}). Allowed: {_ALLOWED_FILES}."
        )
    try:
        df = pd.read_csv(
            path,
            sep=" ",
            header=0 if header else None,
            names=None if header else ["timestamps", "node_ids"],
            dtype={"population": str} if "population" in tokens else None,
            float_precision="round_trip",
        )
    except (ValueError, pd.errors.ParserError) as err:
        raise ValueError(
            f"Invalid value for 'source': cannot read '{path}' as a BMTK CSV spikes file: "
            f"{err}. Allowed: {_ALLOWED_FILES}."
        ) from err
    pop = None
    if "population" in df.columns:
        pop = _pick_population(path, population, pd.unique(df["population"]))
        df = df[df["population"] == pop]
    times = _numeric(path, "timestamps", df["timestamps"]) * _scale(time_unit, "ms")
    ids = _node_ids(path, _numeric(path, "node_ids", df["node_ids"]))
    _check_spikes(path, times)
    return SourceTrains.from_spikes(ids, times, population=pop, format="csv")


def _read_nwb(path: Path, population: str | None, time_unit: str) -> SourceTrains:
    try:
        import pynwb
    except ImportError as err:
        raise ImportError(
            f"Reading the NWB file '{path}' needs pynwb: pip install raster-maker[nwb]"
        ) from err
    try:
        with pynwb.NWBHDF5IO(str(path), "r") as io:
            table = _nwb_units(io.read())
    except Exception as err:  # pynwb and hdmf raise many kinds for a file that is not NWB
        raise ValueError(
            f"Invalid value for 'source': '{path}' is not a readable NWB file ({err}). "
            f"Allowed: {_ALLOWED_FILES}."
        ) from err
    if table is None:
        raise ValueError(
            f"Invalid value for 'source': the NWB file '{path}' has no units table with "
            f"spike_times. Allowed: {_ALLOWED_FILES}."
        )
    data, ends, ids, pops, bmtk = table
    ids = _node_ids(path, ids)
    pop = None
    rows = np.arange(ids.size)
    if pops is not None:
        pop = _pick_population(path, population, pd.unique(pops))
        rows = np.flatnonzero(pops == pop)
    starts = np.concatenate([[0], ends[:-1]])
    counts = ends[rows] - starts[rows]
    spike_rows = np.repeat(rows, counts)
    first = np.repeat(starts[rows], counts)
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    times = data[first + within] * _scale(time_unit, "ms" if bmtk else "s")
    _check_spikes(path, times)
    return SourceTrains.from_spikes(
        ids[spike_rows], times, declared=ids[rows], population=pop, format="nwb"
    )


def _nwb_units(nwb: Any):
    """``(spike times, index ends, node ids, populations or None, written by BMTK)``."""
    units = nwb.units
    if units is None or "spike_times" not in units.colnames:
        return None
    cols = units.colnames
    return (
        np.asarray(units.spike_times.data[:], dtype=np.float64),
        np.asarray(units.spike_times_index.data[:], dtype=np.int64),
        np.asarray(units["node_id"].data[:] if "node_id" in cols else units.id.data[:]),
        np.asarray(units["population"].data[:]).astype(str) if "population" in cols else None,
        bool(_BMTK_NWB.match(str(nwb.session_description))),
    )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _numeric(path: Path, column: str, values: pd.Series) -> np.ndarray:
    arr = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(arr)
    if bad.any():
        raise ValueError(
            f"Invalid value for 'source': column '{column}' of '{path}' holds "
            f"{values.iloc[int(np.flatnonzero(bad)[0])]!r}. Allowed: numbers."
        )
    return arr


def _node_ids(path: Path, ids: np.ndarray) -> np.ndarray:
    ids = np.asarray(ids)
    if ids.dtype.kind == "u":
        return ids.astype(np.uint64)
    bad = (ids < 0) | (ids != np.floor(ids)) if ids.size else np.zeros(0, bool)
    if np.any(bad):
        raise ValueError(
            f"Invalid value for 'source': node id {ids[np.flatnonzero(bad)[0]]!r} in "
            f"'{path}'. Allowed: non-negative integers."
        )
    return ids.astype(np.uint64)


def _check_spikes(path: Path, times: np.ndarray) -> None:
    bad = ~np.isfinite(times)
    if bad.any():
        raise ValueError(
            f"Invalid value for 'source': spike time {times[np.flatnonzero(bad)[0]]} in "
            f"'{path}'. Allowed: finite times."
        )


@register
@dataclass
class Replay(InputModel):
    """Recorded spike trains (SONATA, BMTK CSV or NWB) replayed onto the nodes.

    See :mod:`raster_maker.replay` for the window, tiling and mapping rules.

    Parameters
    ----------
    source : str or path-like
        The spikes file.
    source_population : str, optional
        The population to replay (default: the only one of the file).
    format : {'auto', 'sonata', 'csv', 'nwb'}
        File format (``'auto'``: from the content).
    mapping : {'identity', 'shuffle', 'resample'}
        Which source train each target node replays.
    window_ms : [float, float], optional
        The part ``(w0, w1]`` of the source to replay; default the recorded window of a
        raster_maker file, else ``[0, last spike]``.
    repeat : bool
        Tile copies of the window until ``tstop_ms`` (default); else replay it once.
    time_unit : {'auto', 'ms', 's'}
        Unit of the file's times (see :func:`read_source_trains`).
    transforms : list of dict, optional
        Spike transforms applied in order to every node's train
        (``[{"jitter_ms": 2}, {"keep": 0.5}, {"shift_ms": 5}]``; see
        :mod:`raster_maker.transforms`): what makes trials of a replay differ.

    Examples
    --------
    >>> import numpy as np, raster_maker as rm, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "rec.h5")
    >>> _ = rm.write_spikes(path, {"v1": (np.array([0, 1]), np.array([10.0, 20.0]))})
    >>> res = rm.generate("replay", "v1", [0, 1], 0.0, 20.5, params={"source": path,
    ...                   "window_ms": [0, 20.5], "repeat": False}, seed=1)
    >>> res.spikes["timestamps"].tolist()
    [10.0, 20.0]
    """

    name: ClassVar[str] = "replay"
    source: Any = None
    source_population: str | None = None
    format: str = "auto"
    mapping: str = "identity"
    window_ms: Any = None
    repeat: bool = True
    time_unit: str = "auto"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.source, (str, os.PathLike)) or not str(self.source):
            raise ValueError(
                f"Missing or invalid 'source' for replay: {self.source!r}. Allowed: the path "
                f"of {_ALLOWED_FILES}."
            )
        self.source = os.fspath(self.source)
        if self.source_population is not None and not isinstance(self.source_population, str):
            raise TypeError(
                f"'source_population' must be a string or None, got {self.source_population!r}."
            )
        check_option("format", self.format, FORMATS)
        check_option("mapping", self.mapping, MAPPINGS)
        check_option("time_unit", self.time_unit, TIME_UNITS)
        if not isinstance(self.repeat, (bool, np.bool_)):
            raise TypeError(f"'repeat' must be true or false, got {self.repeat!r}.")
        self.repeat = bool(self.repeat)
        if self.window_ms is not None:
            self.window_ms = _check_window(self.window_ms)

    def read(self) -> SourceTrains:
        """The source trains (read from ``source``), all of them (no window applied).

        Returns
        -------
        SourceTrains
            Times in ms (see :func:`read_source_trains`).

        Raises
        ------
        FileNotFoundError, ValueError, ImportError
            As :func:`read_source_trains`.
        """
        return read_source_trains(self.source, self.source_population, self.format, self.time_unit)

    def plan(self, units: Units, ctx: Context) -> Plan:
        """A :class:`ReplayPlan`: the source window mapped onto ``units`` and tiled.

        The source is read here (not when the model is made), once per plan.

        Parameters
        ----------
        units : Units
            The nodes to generate for (population, sorted node ids, attributes).
        ctx : Context
            The generation: seed, population, window, trial and stream namespace.

        Returns
        -------
        ReplayPlan
            The trains of the window ``window_ms`` (or the default window), one per
            target node as :meth:`source_index` picks them.

        Raises
        ------
        ValueError
            If the source cannot be read, no default window exists, or the mapping
            cannot map the target nodes (see :meth:`source_index`).
        """
        src = self.read()
        w0, w1 = self.window_ms or _default_window(src, self.source)
        trains = src.window(w0, w1)
        index = self.source_index(units.node_ids, trains, ctx)
        return ReplayPlan(units.node_ids, trains, index, (w0, w1), ctx, self.repeat)

    def source_index(self, node_ids: np.ndarray, src: SourceTrains, ctx: Context) -> np.ndarray:
        """The source train (index into ``src.node_ids``) of every target node.

        Parameters
        ----------
        node_ids : ndarray of uint64
            Sorted target node ids.
        src : SourceTrains
            The source trains to pick from.
        ctx : Context
            The generation: ``'shuffle'`` draws from its shared network-level generator,
            ``'resample'`` from each node's network-level stream (the same in every
            trial).

        Returns
        -------
        ndarray of int64
            Aligned with ``node_ids``: positions into ``src.node_ids``.

        Raises
        ------
        ValueError
            ``'identity'`` with a target id the source lacks, ``'shuffle'`` with fewer
            source trains than targets, or ``'resample'`` from a source without trains.
        """
        n_src, n = src.node_ids.size, node_ids.size
        what = f"source '{self.source}'" + (
            f" population '{src.population}'" if src.population else ""
        )
        if self.mapping == "identity":
            pos = np.minimum(np.searchsorted(src.node_ids, node_ids), max(n_src - 1, 0))
            missing = node_ids[(src.node_ids[pos] != node_ids) if n_src else slice(None)]
            if missing.size:
                shown = ", ".join(str(i) for i in missing[:5])
                shown += ", ..." if missing.size > 5 else ""
                raise ValueError(
                    f"Invalid value for 'mapping': 'identity' needs a source train for every "
                    f"target node, but {missing.size} of {n} target node ids are not in the "
                    f"{what} ({shown}; it has {n_src} trains"
                    + (f", ids {src.node_ids[0]}..{src.node_ids[-1]}" if n_src else "")
                    + "). Allowed: target ids among the source's, or mapping 'shuffle' or "
                    "'resample'."
                )
            return pos.astype(np.int64)
        if self.mapping == "shuffle":
            if n_src < n:
                raise ValueError(
                    f"Invalid value for 'mapping': 'shuffle' needs at least as many source "
                    f"trains as target nodes, but the {what} has {n_src} trains for {n} "
                    "nodes. Allowed: a source with >= that many trains, or mapping 'resample'."
                )
            perm = ctx.rng(self.name, "mapping", per_trial=False).permutation(n_src)
            return perm[:n].astype(np.int64)
        if n_src == 0:
            raise ValueError(
                f"Invalid value for 'source': the {what} has no trains, so 'resample' has "
                "nothing to pick from. Allowed: a source with at least one train."
            )
        keys = ctx.node_keys(f"{self.name}:mapping", node_ids, per_trial=False)
        u = uniform(keys, np.zeros(n, dtype=np.uint64), open_zero=False)
        return np.minimum((u * n_src).astype(np.int64), n_src - 1)


def _check_window(window: Any) -> list[float]:
    if isinstance(window, (str, bytes)) or not hasattr(window, "__len__") or len(window) != 2:
        raise ValueError(
            f"Invalid value for 'window_ms': {window!r}. Allowed: [from_ms, to_ms] with "
            "to_ms > from_ms."
        )
    w0 = check_number("window_ms[0]", window[0], units="ms")
    w1 = check_number("window_ms[1]", window[1], units="ms")
    if w1 <= w0:
        raise ValueError(
            f"Invalid value for 'window_ms': [{w0}, {w1}]. Allowed: [from_ms, to_ms] with "
            "to_ms > from_ms."
        )
    return [w0, w1]


def _default_window(src: SourceTrains, path: str) -> tuple[float, float]:
    if src.span_ms is not None:
        return src.span_ms
    last = float(src.times_ms.max()) if src.times_ms.size else 0.0
    if last <= 0.0:
        raise ValueError(
            f"Missing 'window_ms': the source '{path}' has no spike after 0 ms to set the "
            "default window [0, last spike]. Allowed: an explicit [from_ms, to_ms]."
        )
    return 0.0, last


class ReplayPlan(Plan):
    """Source trains (one window of them, tiled) gathered onto the target nodes.

    Parameters
    ----------
    node_ids : ndarray of uint64
        Sorted target node ids.
    trains : SourceTrains
        The source trains, holding only the window's spikes.
    source_index : ndarray of int64
        The train of each target node (index into ``trains.node_ids``).
    window_ms : (float, float)
        The source window ``(w0, w1]``.
    ctx : Context
        The generation (its window).
    repeat : bool
        Tile the window over the generation window, else replay it once.
    """

    def __init__(
        self,
        node_ids: np.ndarray,
        trains: SourceTrains,
        source_index: np.ndarray,
        window_ms: tuple[float, float],
        ctx: Context,
        repeat: bool = True,
    ) -> None:
        self.node_ids = node_ids
        self.trains = trains
        self.source_index = np.asarray(source_index, dtype=np.int64)
        self.w0, self.w1 = window_ms
        self.tstart, self.tstop = ctx.tstart_ms, ctx.tstop_ms
        self.length = self.w1 - self.w0
        duration = self.tstop - self.tstart
        self.copies = max(1, math.ceil(duration / self.length)) if repeat else 1
        rel = trains.times_ms - self.w0
        if repeat:  # copy k of a spike lands inside while rel + k * length < duration
            per_spike = np.maximum(0.0, np.ceil((duration - rel) / self.length))
        else:
            per_spike = (rel < duration).astype(np.float64)
        per_train = np.bincount(
            trains.train_of_spike(), weights=per_spike, minlength=trains.node_ids.size
        )
        self._expected = per_train[self.source_index] if per_train.size else np.zeros(0)
        if self._expected.size and self._expected.max() > MAX_SPIKES_PER_NODE:
            raise ValueError(
                f"Invalid value for 'window_ms': [{self.w0}, {self.w1}] tiled over "
                f"{duration} ms gives a node {self._expected.max():.3g} spikes. Allowed: at "
                f"most {MAX_SPIKES_PER_NODE:.0e} per node; use a longer window or "
                "repeat=false."
            )

    def expected_counts(self) -> np.ndarray:
        """Spike count of each node: known exactly, as replay draws nothing at random.

        Returns
        -------
        ndarray of float
            Aligned with ``node_ids``: the spikes of its train's copies that fall inside
            the generation window (by rounding, a shifted spike may land exactly on
            ``tstart_ms`` or ``tstop_ms``: it is dropped, though counted here).
        """
        return self._expected.copy()

    def draw(self, sl: slice) -> tuple[np.ndarray, np.ndarray]:
        """Spikes of nodes ``node_ids[sl]``: their trains' copies, shifted and clipped.

        Parameters
        ----------
        sl : slice
            Consecutive positions into ``node_ids`` (step 1).

        Returns
        -------
        positions : ndarray of int64
            Index into ``node_ids`` (the whole set) of each spike, non-decreasing.
        times_ms : ndarray of float64
            Spike times (ms) strictly inside ``(tstart_ms, tstop_ms)``, sorted within
            each node.
        """
        idx = self.source_index[sl]
        offsets = self.trains.offsets
        start, count = offsets[idx], offsets[idx + 1] - offsets[idx]
        total = int(count.sum())
        if total == 0:
            return np.zeros(0, np.int64), np.zeros(0)
        first = np.cumsum(count) - count  # where each node's train starts in the gather
        within = np.arange(total) - np.repeat(first, count)
        times = self.trains.times_ms[np.repeat(start, count) + within]
        k = np.arange(self.copies)
        shifts = (self.tstart - self.w0) + k * self.length  # copy 0: exactly tstart - w0
        tiled = times[None, :] + shifts[:, None]
        # node-major output: node r's copy k spike j goes to copies*first_r + k*count_r + j
        dest = (self.copies * np.repeat(first, count) + within)[None, :] + k[:, None] * np.repeat(
            count, count
        )[None, :]
        out = np.empty(tiled.size)
        out[dest.ravel()] = tiled.ravel()
        rows = np.repeat(np.arange(idx.size, dtype=np.int64), self.copies * count)
        inside = (out > self.tstart) & (out < self.tstop)
        return rows[inside] + (sl.start or 0), out[inside]

    def metadata(self, duration_s: float) -> dict[str, Any]:
        """Per-node arrays stored in the file, with each node's source train.

        Parameters
        ----------
        duration_s : float
            Length of the generation window (s), to turn expected counts into rates.

        Returns
        -------
        dict
            ``node_ids``, ``target_rate_hz``, ``source_index`` (index into the source's
            trains) and ``source_node_ids`` (the source node each target replays).
        """
        data = super().metadata(duration_s)
        data["source_index"] = self.source_index
        data["source_node_ids"] = self.trains.node_ids[self.source_index]
        return data

    def derived(self) -> dict[str, Any]:
        """What was read and solved: the source and the window, recorded in the file.

        Returns
        -------
        dict
            ``source_format``, ``source_population``, ``n_source_trains``, ``window_ms``
            (the window used, ``[w0, w1]``) and ``copies`` (tiles of it).
        """
        return {
            "source_format": self.trains.format,
            "source_population": self.trains.population,
            "n_source_trains": int(self.trains.node_ids.size),
            "window_ms": [self.w0, self.w1],
            "copies": int(self.copies),
        }
