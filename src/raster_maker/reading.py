"""Reading SONATA spikes files: the one checked layer every reader goes through.

The API (:func:`read_spikes`, :func:`read_spike_arrays`, :func:`population_names`,
:func:`read_provenance`, :func:`read_metadata`, :func:`to_spike_trains`), the
command line (``stats``, ``plot``, ``inspect``) and generators that replay recorded
trains all read through here, so a file from any tool is checked the same way before
its numbers are used:

* the file exists, is HDF5 and can be read (not truncated, not a directory);
* ``/spikes`` is a group of populations (not the pre-population ``/spikes/gids`` layout);
* each population has 1-D ``timestamps`` (floating point, ``units`` "ms" if given, or
  "s": such times are converted to ms on reading, as every reader here works in ms) and
  ``node_ids`` (integers) of equal length;
* times are finite and >= 0 ms (or >= the recorded ``tstart_ms`` of a window that
  starts before 0); node ids are >= 0 and < 2**63 (a larger uint64 is a negative id
  written as unsigned);
* the ``sorting`` claim is true (``by_time``: times never decrease; ``by_id``: node ids
  never decrease). A file that lies is an error unless the caller passes
  ``check_sorting=False``: readers that trust the label (BMTK's node index, libsonata's
  ``by_time`` search) would silently get the wrong spikes, so the label must be fixed;
  statistics do not depend on the order, so they may opt out;
* the generation record (``raster_maker_*`` attributes) and the metadata under
  ``/raster_maker/<population>`` have the types and shapes their readers rely on.

Everything wrong is a :class:`SpikesFileError` (a ``ValueError``) whose message names the
file, the population, the problem and the fix; a file that cannot be opened at all raises
:class:`SpikesFileUnreadable`, which is also an ``OSError`` (what h5py raised before). BMTK's
own files (string ``sorting``, gzip) read fine: only libsonata cannot open them, which is
:func:`raster_maker.validation.validate_file`'s business. The checks are vectorised
reductions over arrays read once (``min``/``max`` of each, one pass for a sorting claim).
"""

from __future__ import annotations

import contextlib
import json
import numbers
import os
import shlex
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd

__all__ = [
    "SpikesFileError",
    "SpikesFileUnreadable",
    "read_spikes",
    "read_spike_arrays",
    "population_names",
    "read_provenance",
    "read_metadata",
    "to_spike_trains",
    "check_spikes_file",
    # checks shared with raster_maker.validation: each returns (code, message) or None
    "layout_problem",
    "sorting_claim",
    "dataset_problem",
    "units_problem",
    "length_problem",
    "lowest_time_ms",
    "times_problem",
    "node_ids_problem",
    "sorting_problem",
    "damaged_problem",
    "HDF5_ERRORS",
]

#: The labels of SONATA's ``sorting`` enum, in value order (0, 1, 2).
SORTINGS = ("none", "by_id", "by_time")
# labels BMTK's reader also understands ('unknown' is no claim at all)
_BMTK_ALIASES: dict[str, str | None] = {"time": "by_time", "id": "by_id", "unknown": None}
_KINDS = {"timestamps": ("f", "floating point (float64)"), "node_ids": ("ui", "integers (uint64)")}
_MAX_NODE_ID = int(np.iinfo(np.int64).max)
_PREFIX = "raster_maker_"
#: What h5py raises on a damaged file that opened (corrupt headers, truncated data).
HDF5_ERRORS = (OSError, RuntimeError, KeyError)
_DAMAGED_FIX = "Write it again, or copy it again from its source."
_EXAMPLES = 5
Found = tuple[str, str]  # (code, message): what a shared check found


class SpikesFileError(ValueError):
    """A spikes file that is missing, unreadable or malformed.

    The message is one line: ``Spikes file 'PATH', population 'P': PROBLEM FIX``.

    Parameters
    ----------
    path : str or path-like
        The file.
    problem : str
        What is wrong, with the offending values and what is allowed.
    population : str, optional
        The population concerned (None for the whole file).
    code : str
        A short stable name of the problem, the same as the ``code`` of a
        :class:`raster_maker.validation.Problem` (e.g. ``'non_finite_time'``).
    fix : str, optional
        What to do about it (default: run ``raster-maker validate PATH`` for every problem).

    Attributes
    ----------
    path, population, problem, code, fix
        As given.

    Examples
    --------
    >>> try:  # doctest: +SKIP
    ...     read_spikes("foreign.h5")
    ... except SpikesFileError as err:
    ...     print(err.population, err.code)
    exc non_finite_time
    """

    def __init__(
        self,
        path: str | os.PathLike,
        problem: str,
        population: str | None = None,
        code: str = "malformed",
        fix: str | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self.problem = _one_line(problem)
        self.population = population
        self.code = code
        self.fix = _one_line(fix) if fix is not None else validate_hint(self.path)
        where = f"Spikes file '{self.path}'"
        if population is not None:
            where += f", population '{population}'"
        super().__init__(f"{where}: {self.problem} {self.fix}")

    def __reduce__(self):  # picklable (errors cross MPI ranks)
        return type(self), (self.path, self.problem, self.population, self.code, self.fix)


class SpikesFileUnreadable(SpikesFileError, OSError):
    """A :class:`SpikesFileError` for a file that cannot be opened or read as HDF5.

    Also an ``OSError``, as h5py's own error was, so existing ``except OSError`` still works.

    Parameters
    ----------
    path : str or path-like
        The file.
    problem : str
        What is wrong (missing, a directory, not HDF5, truncated, damaged).
    population : str, optional
        The population concerned (None for the whole file).
    code : str
        A short stable name of the problem (``'unreadable'`` for every failure to read).
    fix : str, optional
        What to do about it (default: run ``raster-maker validate PATH``).

    Examples
    --------
    >>> try:
    ...     read_spikes("no_such_file.h5")
    ... except OSError as err:
    ...     print(type(err).__name__, err.code)
    SpikesFileUnreadable unreadable
    """


class _UnknownPopulation(KeyError):
    """A population asked for that the file does not have (an argument error)."""


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def validate_hint(path: str) -> str:
    """The default fix: run ``raster-maker validate`` on the file for every problem."""
    return f"Run `raster-maker validate {shlex.quote(path)}` for every problem."


def _bmtk_hint(path: str) -> str:
    return (
        "Convert it with BMTK: raster_maker.sonata.from_spike_trains("
        f"bmtk.utils.reports.spike_trains.SpikeTrains.load({path!r}), 'fixed.h5')."
    )


def _sorting_hint(path: str) -> str:
    return (
        "Rewrite it with a true label: raster_maker.write_spikes('fixed.h5', "
        f"raster_maker.read_spikes({path!r}, check_sorting=False)); or read it with "
        "check_sorting=False when the order does not matter."
    )


def _examples(values: np.ndarray) -> str:
    shown = ", ".join(
        f"{v:g}" if isinstance(v, float) else str(v) for v in values[:_EXAMPLES].tolist()
    )
    return shown + (", ..." if values.size > _EXAMPLES else "")


# -- opening ---------------------------------------------------------------------------
@contextlib.contextmanager
def _hdf5_errors(path: str, population: str | None = None) -> Iterator[None]:
    """Turn HDF5's errors on a damaged file (truncated, corrupt objects) into ours."""
    try:
        yield
    except (SpikesFileError, _UnknownPopulation):
        raise
    except HDF5_ERRORS as err:
        raise SpikesFileUnreadable(
            path, damaged_problem(err), population, "unreadable", _DAMAGED_FIX
        ) from err


def damaged_problem(err: BaseException) -> str:
    """What an HDF5 error on a file that opened says: the file is damaged.

    Parameters
    ----------
    err : BaseException
        The error HDF5 (h5py) raised while reading the file; its first argument is quoted.

    Returns
    -------
    str
        One sentence for :class:`SpikesFileUnreadable`'s ``problem``.

    Examples
    --------
    >>> print(damaged_problem(OSError("Can't read data")))
    HDF5 cannot read it (Can't read data); the file is damaged (truncated or corrupt).
    """
    text = _one_line(err.args[0] if err.args else err)
    return f"HDF5 cannot read it ({text}); the file is damaged (truncated or corrupt)."


@contextlib.contextmanager
def _open(path: str | os.PathLike) -> Iterator[h5py.File]:
    """Open a spikes file for reading; every failure is a :class:`SpikesFileUnreadable`."""
    name = os.fspath(path)
    p = Path(name)
    if p.is_dir():
        raise SpikesFileUnreadable(
            name,
            "it is a directory. Allowed: a SONATA spikes file (HDF5).",
            code="unreadable",
            fix="Give the path of the spikes file itself.",
        )
    if not p.exists():
        what = f"a broken symbolic link (to '{os.readlink(name)}')" if p.is_symlink() else ""
        raise SpikesFileUnreadable(
            name,
            f"no such file{': ' + what if what else ''}.",
            code="unreadable",
            fix="Check the path.",
        )
    try:
        h5 = h5py.File(name, "r")
    except OSError as err:
        raise SpikesFileUnreadable(
            name, _open_problem(err), code="unreadable", fix=_open_fix(err)
        ) from err
    with h5, _hdf5_errors(name):
        yield h5


def _open_problem(err: OSError) -> str:
    text = _one_line(err.args[0] if err.args else err)
    text = text.removeprefix("Unable to synchronously open file ").removeprefix(
        "Unable to open file "
    )
    if "signature not found" in text:
        return "it is not an HDF5 file (no HDF5 signature). Allowed: a SONATA spikes file (HDF5)."
    if "truncated" in text:
        return f"it is truncated (HDF5: {text.strip('()')})."
    return f"HDF5 cannot open it ({text})."


def _open_fix(err: OSError) -> str:
    text = str(err)
    if "signature not found" in text:
        return "Check the path: this is not a spikes file."
    if "truncated" in text:
        return _DAMAGED_FIX
    return "Check the path and its permissions."


def layout_problem(h5: h5py.File) -> Found | None:
    """No ``/spikes`` group, or the old layout with ``/spikes/timestamps`` and no populations.

    Parameters
    ----------
    h5 : h5py.File
        The file, open for reading.

    Returns
    -------
    tuple of (str, str) or None
        ``(code, message)`` with code ``'no_spikes_group'`` or ``'old_layout'``; None if
        ``/spikes`` is a group of populations.
    """
    spikes = h5.get("spikes")
    if not isinstance(spikes, h5py.Group):
        what = "No group '/spikes'" if spikes is None else "'/spikes' is not a group"
        return (
            "no_spikes_group",
            f"{what} (the file holds: {', '.join(h5) or 'nothing'}). Allowed: a SONATA spikes "
            "file, with /spikes/<population>/timestamps and node_ids.",
        )
    if isinstance(spikes.get("timestamps"), h5py.Dataset):
        return (
            "old_layout",
            "'/spikes' holds 'timestamps' itself: the old SONATA layout without populations. "
            "Allowed: /spikes/<population>/timestamps and node_ids.",
        )
    return None


def _spikes_group(h5: h5py.File, path: str) -> h5py.Group:
    found = layout_problem(h5)
    if found:
        code, problem = found
        fix = (
            _bmtk_hint(path)
            if code == "old_layout"
            else "Check the path: this HDF5 file is not a spikes file."
        )
        raise SpikesFileError(path, problem, code=code, fix=fix)
    return h5["spikes"]


def _populations(spikes: h5py.Group) -> list[str]:
    return [name for name, obj in spikes.items() if isinstance(obj, h5py.Group)]


# -- checks shared with validation ------------------------------------------------------
def dataset_problem(grp: h5py.Group, name: str, population: str) -> Found | None:
    """A missing, non-1-D or wrongly typed ``timestamps`` or ``node_ids`` dataset.

    Parameters
    ----------
    grp : h5py.Group
        The population's group, ``/spikes/<population>``.
    name : {'timestamps', 'node_ids'}
        The dataset to check: timestamps must be floating point, node ids integers.
    population : str
        The population's name, for the message.

    Returns
    -------
    tuple of (str, str) or None
        ``(code, message)`` with code ``'missing_dataset'``, ``'shape'`` or ``'dtype'``;
        None if the dataset is fine.
    """
    kinds, allowed = _KINDS[name]
    obj = grp.get(name)
    if not isinstance(obj, h5py.Dataset):
        what = f"No dataset '{name}'" if obj is None else f"'{name}' is not a dataset"
        return (
            "missing_dataset",
            f"{what} in /spikes/{population}; a population needs 'timestamps' and 'node_ids'.",
        )
    if obj.shape is None or obj.ndim != 1:
        return "shape", f"'{name}' has shape {obj.shape}. Allowed: 1-D."
    if obj.dtype.kind not in kinds:
        return "dtype", f"'{name}' has dtype {obj.dtype}. Allowed: {allowed}."
    return None


def time_scale(timestamps: h5py.Dataset) -> float | None:
    """Factor from the timestamps' ``units`` to ms: 1 for ``'ms'`` (or none), 1000 for
    ``'s'``, None for anything else."""
    units = timestamps.attrs.get("units")
    if units is None:
        return 1.0
    if isinstance(units, bytes):
        units = units.decode(errors="replace")
    return {"ms": 1.0, "s": 1000.0}.get(str(units).strip())


def units_problem(timestamps: h5py.Dataset, *, allow_seconds: bool = True) -> Found | None:
    """``units`` of the timestamps other than ``'ms'`` (or ``'s'`` if ``allow_seconds``).

    A missing ``units`` means ms. Readers here convert seconds; ``validate`` does not allow
    them (``allow_seconds=False``), because BMTK ignores ``units`` and reads every time as ms.

    Parameters
    ----------
    timestamps : h5py.Dataset
        The population's ``timestamps`` dataset (only its ``units`` attribute is read).
    allow_seconds : bool
        Accept ``'s'`` too (default), as the readers here do.

    Returns
    -------
    tuple of (str, str) or None
        ``('units', message)``, or None if the units are allowed.
    """
    scale = time_scale(timestamps)
    if scale == 1.0 or (scale is not None and allow_seconds):
        return None
    units = timestamps.attrs.get("units")
    if scale is not None:
        return (
            "units",
            f"Invalid value for 'units' of 'timestamps': {units!r}. Allowed: 'ms' (BMTK ignores "
            "'units' and reads every time as ms; write the times in ms).",
        )
    return "units", f"Invalid value for 'units' of 'timestamps': {units!r}. Allowed: 'ms' or 's'."


def length_problem(timestamps: h5py.Dataset, node_ids: h5py.Dataset) -> Found | None:
    """``timestamps`` and ``node_ids`` of different lengths.

    Parameters
    ----------
    timestamps, node_ids : h5py.Dataset
        The population's two 1-D datasets (only their shapes are read).

    Returns
    -------
    tuple of (str, str) or None
        ``('shape', message)``, or None if they have one node id per timestamp.
    """
    if timestamps.shape == node_ids.shape:
        return None
    return (
        "shape",
        f"'timestamps' has {timestamps.shape[0]} entries but 'node_ids' {node_ids.shape[0]}. "
        "Allowed: one node id per timestamp.",
    )


def lowest_time_ms(grp: h5py.Group) -> float:
    """The earliest time allowed: 0 ms, or the recorded ``tstart_ms`` if that is earlier.

    Parameters
    ----------
    grp : h5py.Group
        The population's group, ``/spikes/<population>``; its ``raster_maker_tstart_ms``
        attribute is used if it is a finite number.

    Returns
    -------
    float
        The lowest time allowed, in ms (<= 0).
    """
    raw = grp.attrs.get(_PREFIX + "tstart_ms")
    if isinstance(raw, np.ndarray) and raw.size == 1:
        raw = raw.reshape(-1)[0]
    if not _is_real(raw) or not np.isfinite(value := float(raw)):
        return 0.0
    return min(0.0, value)


def times_problem(timestamps: np.ndarray, lowest_ms: float = 0.0) -> Found | None:
    """Times that are not finite, or earlier than ``lowest_ms``.

    Parameters
    ----------
    timestamps : ndarray
        The spike times, in ms.
    lowest_ms : float
        The earliest time allowed, in ms (see :func:`lowest_time_ms`).

    Returns
    -------
    tuple of (str, str) or None
        ``(code, message)`` with code ``'non_finite_time'`` or ``'negative_time'``; None
        if every time is finite and >= ``lowest_ms``.

    Examples
    --------
    >>> times_problem(np.array([1.0, -2.0]))[0]
    'negative_time'
    >>> times_problem(np.array([1.0, 2.0])) is None
    True
    """
    n = timestamps.size
    if n == 0:
        return None
    lo, hi = timestamps.min(), timestamps.max()  # NaN and inf show in these two
    if np.isfinite(lo) and np.isfinite(hi) and lo >= lowest_ms:
        return None
    bad = ~np.isfinite(timestamps)
    if bad.any():
        first = int(np.argmax(bad))
        return (
            "non_finite_time",
            f"{int(bad.sum())} of {n} timestamps are not finite "
            f"({_examples(timestamps[bad])}; the first is spike {first}). "
            "Allowed: finite times in ms.",
        )
    early = timestamps < lowest_ms
    allowed = (
        "times >= 0 ms"
        if lowest_ms == 0.0
        else f"times >= {lowest_ms:g} ms (the recorded window start tstart_ms)"
    )
    return (
        "negative_time",
        f"{int(early.sum())} of {n} timestamps are before {lowest_ms:g} ms "
        f"({_examples(timestamps[early])}). Allowed: {allowed}.",
    )


def node_ids_problem(node_ids: np.ndarray) -> Found | None:
    """Negative node ids, or ids of 2**63 and more (negative ids written as unsigned).

    Parameters
    ----------
    node_ids : ndarray
        The node ids as stored (any integer dtype).

    Returns
    -------
    tuple of (str, str) or None
        ``(code, message)`` with code ``'negative_node_id'`` or ``'huge_node_id'``; None if
        every id is in 0 .. 2**63 - 1.

    Examples
    --------
    >>> node_ids_problem(np.array([3, -1]))[0]
    'negative_node_id'
    """
    if node_ids.size == 0:
        return None
    if node_ids.dtype.kind == "i" and node_ids.min() < 0:
        neg = node_ids < 0
        return (
            "negative_node_id",
            f"{int(neg.sum())} node ids are negative "
            f"({_examples(np.unique(node_ids[neg]))}). Allowed: >= 0.",
        )
    if node_ids.dtype.kind == "u" and node_ids.dtype.itemsize == 8:
        if int(node_ids.max()) > _MAX_NODE_ID:
            huge = node_ids > _MAX_NODE_ID
            return (
                "huge_node_id",
                f"{int(huge.sum())} node ids are >= 2**63 ({_examples(np.unique(node_ids[huge]))}"
                "): negative ids written as unsigned? Allowed: 0 <= node id < 2**63.",
            )
    return None


def sorting_claim(grp: h5py.Group) -> tuple[str | None, dict[str, int] | None]:
    """The ``sorting`` label as stored, and the enum's mapping if it is an HDF5 enum.

    The label of an enum is its member's name (or the number, if no member has it); of a
    string, the string; else its text.

    Parameters
    ----------
    grp : h5py.Group
        The population's group, ``/spikes/<population>``.

    Returns
    -------
    label : str or None
        The claimed order (None without a ``sorting`` attribute). It is returned as
        stored: it need not be SONATA's (see :func:`sorting_problem`).
    mapping : dict of {str: int} or None
        The enum's names and values, or None if the attribute is not an HDF5 enum.
    """
    if "sorting" not in grp.attrs:
        return None, None
    raw = grp.attrs["sorting"]
    mapping = h5py.check_enum_dtype(grp.attrs.get_id("sorting").dtype)
    if mapping is not None:
        value = np.asarray(raw).reshape(-1)
        if value.size != 1:
            return _one_line(str(raw)), mapping
        names = {v: k for k, v in mapping.items()}
        return names.get(int(value[0]), str(int(value[0]))), mapping
    if isinstance(raw, bytes):
        return raw.decode(errors="replace"), None
    return (raw if isinstance(raw, str) else _one_line(str(raw))[:80]), None


def sorting_problem(
    label: str | None, node_ids: np.ndarray, timestamps: np.ndarray
) -> Found | None:
    """A ``sorting`` label that is not SONATA's, or that the spikes' order contradicts.

    Parameters
    ----------
    label : str or None
        The claimed order (see :func:`sorting_claim`); None and ``'none'`` claim nothing.
    node_ids : ndarray
        The node ids, in file order.
    timestamps : ndarray
        The spike times in ms, in file order.

    Returns
    -------
    tuple of (str, str) or None
        ``(code, message)`` with code ``'sorting_invalid'`` (a label other than
        ``'none'``, ``'by_id'``, ``'by_time'``) or ``'sorting_false'`` (the first spike
        out of order); None if the claim holds.

    Examples
    --------
    >>> sorting_problem("by_time", np.array([0, 1]), np.array([5.0, 2.0]))[0]
    'sorting_false'
    >>> sorting_problem("by_id", np.array([0, 1]), np.array([5.0, 2.0])) is None
    True
    """
    if label is None or label == "none":
        return None
    if label not in SORTINGS:
        return (
            "sorting_invalid",
            f"Invalid value for 'sorting': {label!r}. Allowed: {', '.join(SORTINGS)}.",
        )
    keys = timestamps if label == "by_time" else node_ids
    if keys.size < 2:
        return None
    down = keys[1:] < keys[:-1]
    if not down.any():
        return None
    k = int(np.argmax(down))
    what = f"timestamp {keys[k + 1]:g}" if label == "by_time" else f"node id {keys[k + 1]}"
    before = f"{keys[k]:g}" if label == "by_time" else f"{keys[k]}"
    return (
        "sorting_false",
        f"'sorting' says {label} but {what} (spike {k + 1}) comes after {before}.",
    )


# -- spikes ----------------------------------------------------------------------------
def _read_population(
    grp: h5py.Group,
    path: str,
    population: str,
    check_sorting: bool,
    scale_to_ms: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(node_ids uint64, timestamps float64)`` of one population, checked; the times
    scaled to ms by their ``units`` label, or by ``scale_to_ms`` when given."""

    def fail(found: Found) -> SpikesFileError:
        code, message = found
        fix = _sorting_hint(path) if code.startswith("sorting") else None
        return SpikesFileError(path, message, population, code, fix)

    with _hdf5_errors(path, population):
        for name in ("timestamps", "node_ids"):
            found = dataset_problem(grp, name, population)
            if found:
                raise fail(found)
        ts_ds, ids_ds = grp["timestamps"], grp["node_ids"]
        # a scale given by the caller stands for the label, even one we do not know
        found = (units_problem(ts_ds) if scale_to_ms is None else None) or length_problem(
            ts_ds, ids_ds
        )
        if found:
            raise fail(found)
        label = sorting_claim(grp)[0]
        label = _BMTK_ALIASES.get(label, label) if label is not None else None
        lowest = lowest_time_ms(grp)
        scale = time_scale(ts_ds) if scale_to_ms is None else scale_to_ms
        ts, ids = ts_ds[()], ids_ds[()]
    ts = ts.astype(np.float64, copy=False)
    if scale != 1.0:  # times in seconds: every reader here works in ms
        ts = ts * scale
    found = times_problem(ts, lowest) or node_ids_problem(ids)
    if not found and check_sorting:
        found = sorting_problem(label, ids, ts)
    if found:
        raise fail(found)
    return ids.astype(np.uint64, copy=False), ts


def read_spike_arrays(
    path: str | os.PathLike,
    population: str | None = None,
    *,
    check_sorting: bool = True,
    scale_to_ms: float | None = None,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Read spikes as arrays, checked: ``{population: (node_ids, timestamps_ms)}``.

    Parameters
    ----------
    path : str or path-like
        A SONATA spikes file, written by raster_maker or any other tool.
    population : str, optional
        Only this population (default: all of them, in the order HDF5 lists them: by name).
    check_sorting : bool
        Check that the ``sorting`` attribute tells the truth (default). False accepts a
        file whose label lies or is not SONATA's (for readers that ignore the order).
    scale_to_ms : float, optional
        Multiply the stored times by this to get ms, whatever their ``units`` label says
        (1 to take them as they are); default: by the label (seconds are converted).

    Returns
    -------
    dict
        ``node_ids`` as uint64 and ``timestamps_ms`` as float64, in file order.

    Raises
    ------
    SpikesFileError
        The file is missing, unreadable or malformed (see the module docstring).
    KeyError
        ``population`` is not in the file (the message lists those that are).

    Examples
    --------
    >>> ids, ts = read_spike_arrays("inputs.h5", "exc_stim")["exc_stim"]  # doctest: +SKIP
    """
    name = os.fspath(path)
    with _open(name) as h5:
        spikes = _spikes_group(h5, name)
        pops = _populations(spikes)
        if population is not None:
            if population not in pops:
                have = ", ".join(pops) or "none"
                raise _UnknownPopulation(
                    f"No population '{population}' in '{name}'; it has: {have}."
                )
            pops = [population]
        return {p: _read_population(spikes[p], name, p, check_sorting, scale_to_ms) for p in pops}


def read_spikes(
    path: str | os.PathLike, population: str | None = None, *, check_sorting: bool = True
) -> pd.DataFrame:
    """Read spikes into a DataFrame with columns ``population``, ``node_ids``, ``timestamps``.

    Parameters
    ----------
    path : str or path-like
        A SONATA spikes file, written by raster_maker or any other tool.
    population : str, optional
        Only this population (default: all of them).
    check_sorting : bool
        Check that the ``sorting`` attribute tells the truth (default); see
        :func:`read_spike_arrays`.

    Returns
    -------
    DataFrame
        ``population`` (object), ``node_ids`` (uint64), ``timestamps`` (float64, ms), in
        file order, populations one after the other.

    Raises
    ------
    SpikesFileError
        The file is missing, unreadable or malformed (see :mod:`raster_maker.reading`).
    KeyError
        If ``population`` is not in the file (the message lists those that are).

    Examples
    --------
    >>> df = read_spikes("inputs.h5", "exc_stim")  # doctest: +SKIP
    >>> df.groupby("node_ids").size()  # doctest: +SKIP
    """
    arrays = read_spike_arrays(path, population, check_sorting=check_sorting)
    names = np.array(list(arrays), dtype=object)
    counts = [ids.size for ids, _ in arrays.values()]
    if len(arrays) == 1:
        ((ids, ts),) = arrays.values()
    else:
        ids = np.concatenate([a[0] for a in arrays.values()] or [np.zeros(0, np.uint64)])
        ts = np.concatenate([a[1] for a in arrays.values()] or [np.zeros(0)])
    return pd.DataFrame({"population": np.repeat(names, counts), "node_ids": ids, "timestamps": ts})


def population_names(path: str | os.PathLike) -> list[str]:
    """Names of the populations in a SONATA spikes file (HDF5 lists them by name).

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    list of str
        Empty for a ``/spikes`` group without populations.

    Raises
    ------
    SpikesFileError
        The file is missing, unreadable, has no ``/spikes`` group or the old layout.

    Examples
    --------
    >>> population_names("inputs.h5")  # doctest: +SKIP
    ['exc_stim', 'prox_inh_stim']
    """
    name = os.fspath(path)
    with _open(name) as h5:
        return _populations(_spikes_group(h5, name))


def to_spike_trains(path: str | os.PathLike):
    """Load a spikes file as BMTK's ``SpikeTrains`` (for ``to_csv``, ``to_nwb``, plotting).

    The file is checked first (as :func:`read_spike_arrays`, the ``sorting`` claim
    included: BMTK's node index trusts it), then BMTK reads it.

    Parameters
    ----------
    path : str or path-like
        A SONATA spikes file.

    Returns
    -------
    bmtk.utils.reports.spike_trains.SpikeTrains
        BMTK's spike trains of every population in the file.

    Raises
    ------
    SpikesFileError
        The file is missing, unreadable or malformed.

    Examples
    --------
    >>> to_spike_trains("inputs.h5").to_csv("inputs.csv")  # doctest: +SKIP
    """
    from bmtk.utils.reports.spike_trains import SpikeTrains

    read_spike_arrays(path)
    return SpikeTrains.load(os.fspath(path), file_type="sonata")


# -- generation record and metadata -----------------------------------------------------
def _group(h5: h5py.File, root: str, population: str) -> h5py.Group | None:
    parent = h5.get(root)
    obj = parent.get(population) if isinstance(parent, h5py.Group) else None
    return obj if isinstance(obj, h5py.Group) else None


def _decode(val: Any) -> Any:
    if isinstance(val, bytes):
        return val.decode(errors="replace")
    if isinstance(val, np.generic):
        return val.item()
    return val


def read_provenance(path: str | os.PathLike, population: str) -> dict[str, Any]:
    """The generation record of one population (empty if another tool wrote it).

    Keys lose their ``raster_maker_`` prefix; ``params`` is decoded from JSON and
    ``seed`` is an int.

    Parameters
    ----------
    path : str or path-like
    population : str

    Returns
    -------
    dict
        Empty if the file has no such population or no record.

    Raises
    ------
    SpikesFileError
        The file is missing or unreadable, or the record is malformed (``params`` not
        JSON, ``seed`` not an integer >= 0, a window that is not ``tstart_ms < tstop_ms``).

    Examples
    --------
    >>> read_provenance("inputs.h5", "exc_stim")["seed"]  # doctest: +SKIP
    1
    """
    name = os.fspath(path)
    with _open(name) as h5, _hdf5_errors(name, population):
        grp = _group(h5, "spikes", population)
        if grp is None:
            return {}
        attrs = {
            k[len(_PREFIX) :]: _decode(v) for k, v in grp.attrs.items() if k.startswith(_PREFIX)
        }
    return _checked_provenance(name, population, attrs)


def _checked_provenance(path: str, population: str, rec: dict[str, Any]) -> dict[str, Any]:
    def fail(problem: str) -> SpikesFileError:
        return SpikesFileError(
            path,
            f"the generation record is malformed: {problem}",
            population,
            "provenance",
            "Generate the file again; a record written by raster_maker has the right types.",
        )

    for key in ("params", "derived"):
        if key not in rec:
            continue
        try:
            rec[key] = json.loads(rec[key])
        except (TypeError, ValueError):
            raise fail(f"'{_PREFIX}{key}' is {_short(rec[key])}. Allowed: a JSON text.") from None
    for key in ("seed", "n_nodes", "trial"):
        if key in rec:
            count = _as_count(rec[key])
            if count is None:
                raise fail(f"'{_PREFIX}{key}' is {_short(rec[key])}. Allowed: an integer >= 0.")
            rec[key] = count
    for key in ("tstart_ms", "tstop_ms"):
        val = rec.get(key)
        if val is not None and not (_is_real(val) and np.isfinite(val)):
            raise fail(f"'{_PREFIX}{key}' is {_short(val)}. Allowed: a finite number of ms.")
    if "tstart_ms" in rec and "tstop_ms" in rec and not rec["tstart_ms"] < rec["tstop_ms"]:
        raise fail(
            f"the window is tstart_ms={rec['tstart_ms']} to tstop_ms={rec['tstop_ms']}. "
            "Allowed: tstart_ms < tstop_ms."
        )
    return rec


def _short(val: Any) -> str:
    text = _one_line(repr(val))
    return text if len(text) <= 60 else text[:57] + "..."


def _is_real(val: Any) -> bool:
    return isinstance(val, numbers.Real) and not isinstance(val, bool)


def _as_count(val: Any) -> int | None:
    """``val`` as an int >= 0 (seeds are stored as decimal text), or None."""
    if isinstance(val, str):
        return int(val) if val.isdecimal() and val.isascii() else None
    if isinstance(val, numbers.Integral) and not isinstance(val, bool):
        return int(val) if int(val) >= 0 else None
    if _is_real(val) and np.isfinite(val) and float(val).is_integer() and val >= 0:
        return int(val)
    return None


def read_metadata(
    path: str | os.PathLike, population: str, keys: Iterable[str] | None = None
) -> dict[str, np.ndarray]:
    """Per-node metadata stored by the generator (rates, groups, profiles), if any.

    Parameters
    ----------
    path : str or path-like
    population : str
    keys : iterable of str, optional
        Read only these datasets (those the file has), e.g. ``["node_ids"]`` without
        the profiles; default all.

    Returns
    -------
    dict of ndarray
        The datasets of ``/raster_maker/<population>`` (strings decoded); empty if none.

    Raises
    ------
    SpikesFileError
        The file is missing or unreadable, or the metadata that readers rely on is
        malformed: ``node_ids`` not 1-D integers >= 0; ``group_index`` or
        ``target_rate_hz`` not one per node; groups out of range; rates not finite >= 0;
        ``profiles`` not one row per group and one column per ``profile_edges_ms`` bin.

    Examples
    --------
    >>> read_metadata("inputs.h5", "exc_stim")["target_rate_hz"]  # doctest: +SKIP
    """
    name = os.fspath(path)
    out: dict[str, Any] = {}
    with _open(name) as h5, _hdf5_errors(name, population):
        grp = _group(h5, "raster_maker", population)
        if grp is None:
            return {}
        wanted = None if keys is None else set(keys)
        for key, obj in grp.items():
            if wanted is not None and key not in wanted:
                continue
            if not isinstance(obj, h5py.Dataset):
                raise _metadata_error(name, population, f"'{key}' is not a dataset")
            out[key] = _dataset_value(obj)
    problem = _metadata_problem(out)
    if problem:
        raise _metadata_error(name, population, problem)
    return out


def _dataset_value(ds: h5py.Dataset) -> Any:
    val = ds[()]
    if ds.dtype.kind == "O":
        if isinstance(val, np.ndarray):
            val = np.array([_decode(v) for v in val.reshape(-1)], dtype=object).reshape(val.shape)
        else:
            val = _decode(val)
    return val


def _metadata_error(path: str, population: str, problem: str) -> SpikesFileError:
    return SpikesFileError(
        path,
        f"the metadata /raster_maker/{population} is malformed: {problem}.",
        population,
        "metadata",
        "Generate the file again, or delete that group to read the spikes alone.",
    )


def _metadata_problem(meta: Mapping[str, Any]) -> str | None:
    """What is wrong with the metadata the statistics and the figure rely on, if anything."""
    arrays = {k: np.asarray(v) for k, v in meta.items() if not isinstance(v, h5py.Empty)}
    empty = [k for k, v in meta.items() if isinstance(v, h5py.Empty)]
    known = {"node_ids", "group_index", "group_keys", "target_rate_hz", "profiles"}
    if set(empty) & (known | {"profile_edges_ms"}):
        return f"'{sorted(set(empty) & known)[0]}' is an empty dataset"
    ids = arrays.get("node_ids")
    if ids is not None:
        if ids.ndim != 1 or ids.dtype.kind not in "ui":
            return f"'node_ids' has shape {ids.shape} and dtype {ids.dtype}; allowed: 1-D integers"
        if ids.size and ids.dtype.kind == "i" and ids.min() < 0:
            return f"'node_ids' holds {ids.min()}; allowed: node ids >= 0"
        for key in ("group_index", "target_rate_hz"):
            if key in arrays and arrays[key].shape != ids.shape:
                return (
                    f"'{key}' has shape {arrays[key].shape} but 'node_ids' {ids.shape}; "
                    "allowed: one entry per node"
                )
    rate = arrays.get("target_rate_hz")
    if rate is not None:
        if rate.dtype.kind not in "uif" or not (rate.size == 0 or _finite_nonneg(rate)):
            return "'target_rate_hz' holds values that are not finite numbers >= 0 Hz"
    keys = arrays.get("group_keys")
    if keys is not None and keys.ndim != 1:
        return f"'group_keys' has shape {keys.shape}; allowed: 1-D"
    n_groups = keys.size if keys is not None else 1
    index = arrays.get("group_index")
    if index is not None and index.size:
        if index.dtype.kind not in "ui" or index.min() < 0 or index.max() >= n_groups:
            return (
                f"'group_index' holds values outside 0..{n_groups - 1} (or not integers); "
                f"allowed: positions in the {n_groups} group_keys"
            )
    return _profiles_problem(arrays, n_groups if keys is not None else None)


def _profiles_problem(arrays: dict[str, np.ndarray], n_groups: int | None) -> str | None:
    if "profiles" not in arrays or "profile_edges_ms" not in arrays:
        return None
    prof, edges = arrays["profiles"], arrays["profile_edges_ms"]
    if edges.ndim != 1 or edges.size < 2 or edges.dtype.kind not in "uif":
        return f"'profile_edges_ms' has shape {edges.shape}; allowed: 1-D, at least 2 edges"
    if not (np.all(np.isfinite(edges)) and np.all(np.diff(edges) > 0)):
        return "'profile_edges_ms' is not finite and increasing"
    rows = n_groups if n_groups is not None else prof.shape[0] if prof.ndim == 2 else -1
    if prof.shape != (rows, edges.size - 1) or prof.dtype.kind not in "uif":
        return (
            f"'profiles' has shape {prof.shape}; allowed: ({rows}, {edges.size - 1}), one row "
            "per group and one column per bin of profile_edges_ms"
        )
    if prof.size and not _finite_nonneg(prof):
        return "'profiles' holds values that are not finite numbers >= 0"
    return None


def _finite_nonneg(x: np.ndarray) -> bool:
    lo, hi = x.min(), x.max()
    return bool(np.isfinite(lo) and np.isfinite(hi) and lo >= 0)


# -- everything at once -----------------------------------------------------------------
def check_spikes_file(
    path: str | os.PathLike, *, check_sorting: bool = True
) -> list[SpikesFileError]:
    """Check every population of a file, without raising for what is wrong inside.

    Parameters
    ----------
    path : str or path-like
    check_sorting : bool
        Check the ``sorting`` claims (default).

    Returns
    -------
    list of SpikesFileError
        The first problem of each population's spikes, generation record and metadata
        (empty for a good file). :func:`raster_maker.validation.validate_file` lists
        every problem, including those only some readers care about.

    Raises
    ------
    SpikesFileError
        The file as a whole cannot be read: missing, not HDF5, truncated, no ``/spikes``.

    Examples
    --------
    >>> for err in check_spikes_file("foreign.h5"):  # doctest: +SKIP
    ...     print(err)
    """
    pops = population_names(path)
    found: list[SpikesFileError] = []
    for pop in pops:
        for reader in (
            lambda p: read_spike_arrays(path, p, check_sorting=check_sorting),
            lambda p: read_provenance(path, p),
            lambda p: read_metadata(path, p),
        ):
            try:
                reader(pop)
            except SpikesFileError as err:
                found.append(err)
                if isinstance(err, SpikesFileUnreadable):
                    break
    return found
