"""Check a SONATA spikes file, written by raster_maker or any other tool.

Against the SONATA spike-file layout (as libsonata reads it):

* root attributes ``magic`` (0x0A7A) and ``version``;
* ``/spikes/<population>/timestamps`` (float, ``units="ms"``) and ``node_ids``
  (unsigned integers), 1-D and of equal length;
* ``sorting`` an HDF5 enum (none=0, by_id=1, by_time=2) that tells the truth;
* no compression filter (libsonata's wheels have no gzip), finite times >= 0 ms (or >= the
  recorded ``tstart_ms`` of a window starting before 0), node ids >= 0 and < 2**63, the
  times of each node in order, and libsonata can open and read it (when installed).

The pre-population layout (``/spikes/timestamps`` directly) is an error, and the generation
record and metadata are checked as the readers check them. The checks the reading layer
also makes (:mod:`raster_maker.reading`) are its own functions, so ``validate`` reports
every problem a reader refuses a file for, in the same words; a damaged file (HDF5 cannot
read a part of it) is an ``unreadable`` problem, never an exception.

With a simulation config, against the network and the run: every population exists,
every node id exists in its population, every time lies inside ``[run.tstart,
run.tstop]``, no time is <= 0 (NEST rejects them; an error when the config's
``target_simulator`` is NEST, a warning otherwise) and, for an input of the config that
reads this file, every node id lies in the input's node set.

:func:`validate_file` returns every problem found, it raises for none of them.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from .reading import (
    HDF5_ERRORS,
    SpikesFileError,
    _examples,  # one way of listing offending values, shared with the reading layer
    _populations,
    damaged_problem,
    dataset_problem,
    layout_problem,
    length_problem,
    lowest_time_ms,
    node_ids_problem,
    read_metadata,
    read_provenance,
    sorting_claim,
    sorting_problem,
    times_problem,
    units_problem,
)
from .sonata import MAGIC, SORTINGS

__all__ = ["Problem", "validate_file", "format_problems", "SEVERITIES"]

#: The severities of a :class:`Problem`, most severe first.
SEVERITIES = ("error", "warning")


@dataclass(frozen=True)
class Problem:
    """One problem of a spikes file.

    The fields are also the attributes of the same names. ``str(problem)`` reads
    ``"<severity>: [<population>] <code>: <message>"``.

    Parameters
    ----------
    severity : {'error', 'warning'}
        An error makes the file unusable for some reader or simulator; a warning is
        allowed but worth knowing.
    population : str or None
        The spikes population concerned (None for the whole file).
    code : str
        A short stable name, e.g. ``'sorting_false'``, ``'unknown_node_ids'``.
    message : str
        What is wrong, with the offending values and what is allowed.
    """

    severity: str
    population: str | None
    code: str
    message: str

    def __str__(self) -> str:
        where = f"[{self.population}] " if self.population is not None else ""
        return f"{self.severity}: {where}{self.code}: {self.message}"


def format_problems(problems: list[Problem]) -> str:
    """One line per problem, errors first.

    Parameters
    ----------
    problems : list of Problem
        The problems (e.g. from :func:`validate_file`).

    Returns
    -------
    str
        ``str(problem)`` of each, errors before warnings (otherwise in the given order),
        joined by newlines; empty for no problem.
    """
    order = sorted(problems, key=lambda p: SEVERITIES.index(p.severity))
    return "\n".join(str(p) for p in order)


# -- layout ----------------------------------------------------------------------------
def _sorting_label(grp: h5py.Group, pop: str, out: list[Problem]) -> str | None:
    """The ``sorting`` label whatever its type, reporting a missing or non-enum attribute."""
    label, mapping = sorting_claim(grp)
    if label is None:
        out.append(
            Problem(
                "warning", pop, "sorting_missing", "No 'sorting' attribute; readers assume 'none'."
            )
        )
        return None
    if mapping is not None:
        if mapping != {s: i for i, s in enumerate(SORTINGS)}:
            out.append(
                Problem(
                    "error",
                    pop,
                    "sorting_enum",
                    f"The 'sorting' enum maps {mapping}; SONATA's is none=0, by_id=1, by_time=2.",
                )
            )
        return label
    raw = grp.attrs["sorting"]
    out.append(
        Problem(
            "error",
            pop,
            "sorting_not_enum",
            f"'sorting' is stored as {type(raw).__name__} {label!r}, not an HDF5 enum "
            "(uint8: none=0, by_id=1, by_time=2): libsonata readers cannot read it. "
            "Rewrite it with raster_maker.sonata.from_spike_trains.",
        )
    )
    return label


def _found(severity: str, pop: str | None, found: tuple[str, str] | None) -> list[Problem]:
    """A shared check's finding (see :mod:`raster_maker.reading`) as a Problem list."""
    return [] if found is None else [Problem(severity, pop, *found)]


def _check_dataset(grp: h5py.Group, name: str, pop: str, out: list[Problem]) -> bool:
    found = _found("error", pop, dataset_problem(grp, name, pop))
    if found:
        out += found
        return False
    ds = grp[name]
    compression = _compression(ds)
    if compression:
        out.append(
            Problem(
                "error",
                pop,
                "compression",
                f"'{name}' is compressed ({compression}): libsonata readers "
                "(Neurodamus, ...) built without that filter cannot read it. "
                "Allowed: no compression.",
            )
        )
    return True


def _compression(ds: h5py.Dataset) -> str | None:
    """Name of a compression filter on ``ds`` that needs a plugin (gzip, lzf, blosc...)."""
    if ds.compression and ds.compression != "szip":
        return str(ds.compression)
    plist = ds.id.get_create_plist()
    for i in range(plist.get_nfilters()):
        code, _, _, fname = plist.get_filter(i)
        if code == 1 or code > 6:
            return fname.decode(errors="replace") if isinstance(fname, bytes) else str(code)
    return None


def _check_population(grp: h5py.Group, pop: str) -> tuple[list[Problem], Any]:
    out: list[Problem] = []
    ok_ts = _check_dataset(grp, "timestamps", pop, out)
    ok_ids = _check_dataset(grp, "node_ids", pop, out)
    label = _sorting_label(grp, pop, out)
    if not (ok_ts and ok_ids):
        return out, None
    ts_ds, ids_ds = grp["timestamps"], grp["node_ids"]
    if "units" not in ts_ds.attrs:
        out.append(
            Problem(
                "error",
                pop,
                "units_missing",
                "'timestamps' has no 'units' attribute (libsonata requires it). Allowed: 'ms'.",
            )
        )
    out += _found("error", pop, units_problem(ts_ds, allow_seconds=False))
    if ts_ds.dtype != np.float64:
        out.append(
            Problem(
                "warning",
                pop,
                "dtype",
                f"'timestamps' has dtype {ts_ds.dtype}; SONATA writers use float64.",
            )
        )
    if ids_ds.dtype.kind == "i":
        out.append(
            Problem(
                "warning",
                pop,
                "dtype",
                f"'node_ids' has dtype {ids_ds.dtype}; SONATA specifies uint64.",
            )
        )
    mismatch = _found("error", pop, length_problem(ts_ds, ids_ds))
    if mismatch:
        return out + mismatch, None
    ts, ids = ts_ds[:].astype(np.float64), ids_ds[:]
    out += _found("error", pop, times_problem(ts, lowest_time_ms(grp)))
    out += _found("error", pop, node_ids_problem(ids))
    out += _found("error", pop, sorting_problem(label, ids, ts))
    out += _check_node_order(ids, ts, pop)
    return out, (ids.astype(np.int64), ts)


def _check_node_order(ids: np.ndarray, ts: np.ndarray, pop: str) -> list[Problem]:
    """Times of each node must not decrease in file order (VecStim plays them in order)."""
    if ids.size < 2:
        return []
    order = np.argsort(ids, kind="stable")
    sid, sts = ids[order], ts[order]
    back = (sid[1:] == sid[:-1]) & (sts[1:] < sts[:-1])
    if not back.any():
        return []
    nodes = np.unique(sid[1:][back])
    return [
        Problem(
            "error",
            pop,
            "unsorted_node_times",
            f"The times of {nodes.size} node(s) are out of order in the file "
            f"(node ids {_examples(nodes)}). Allowed: each node's times non-decreasing.",
        )
    ]


@contextlib.contextmanager
def _quiet_stderr():
    """Silence C-level stderr (HDF5's diagnostics) while libsonata tries a file."""
    try:
        fd = os.dup(2)
    except OSError:  # pragma: no cover - no stderr at all
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(fd, 2)
        os.close(fd)


def _check_libsonata(path: str, pops: list[str]) -> list[Problem]:
    try:
        import libsonata
    except ImportError:
        return []
    out = []
    with _quiet_stderr():
        try:
            reader = libsonata.SpikeReader(path)
        except Exception as err:  # noqa: BLE001 - libsonata raises bare RuntimeErrors
            return [Problem("error", None, "libsonata", f"libsonata cannot open the file: {err}")]
        for pop in pops:
            try:
                sp = reader[pop]
                sp.get(node_ids=[])
                sp.get_dict()  # numpy arrays: reads everything without a tuple per spike
            except Exception as err:  # noqa: BLE001
                out.append(
                    Problem(
                        "error", pop, "libsonata", f"libsonata cannot read the population: {err}"
                    )
                )
    return out


def _check_layout(path: str) -> tuple[list[Problem], dict[str, Any]]:
    out: list[Problem] = []
    spikes: dict[str, Any] = {}
    try:
        h5 = h5py.File(path, "r")
    except OSError as err:
        return [Problem("error", None, "unreadable", f"Cannot open '{path}' as HDF5: {err}")], {}
    with h5:
        magic = h5.attrs.get("magic")
        if magic is None:
            out.append(
                Problem(
                    "warning",
                    None,
                    "magic_missing",
                    f"No root attribute 'magic' (SONATA: uint32 {int(MAGIC):#x}).",
                )
            )
        elif int(np.asarray(magic).ravel()[0]) != int(MAGIC):
            out.append(
                Problem(
                    "error",
                    None,
                    "magic",
                    f"Invalid value for root attribute 'magic': {magic}. Allowed: {int(MAGIC):#x}.",
                )
            )
        if "version" not in h5.attrs:
            out.append(
                Problem(
                    "warning",
                    None,
                    "version_missing",
                    "No root attribute 'version' (SONATA: uint32 [0, 1]).",
                )
            )
        layout = _found("error", None, layout_problem(h5))
        if layout:
            return out + layout, {}
        pops = _populations(h5["spikes"])
        if not pops:
            out.append(Problem("warning", None, "no_populations", "'/spikes' holds no population."))
        for pop in pops:
            try:
                problems, data = _check_population(h5["spikes"][pop], pop)
            except HDF5_ERRORS as err:  # a damaged file: report it, don't crash
                problems, data = [Problem("error", pop, "unreadable", damaged_problem(err))], None
            else:
                problems += _check_records(path, pop)
            out += problems
            if data is not None:
                spikes[pop] = data
    out += _check_libsonata(path, list(spikes))
    return out, spikes


def _check_records(path: str, pop: str) -> list[Problem]:
    """The generation record and metadata, as the readers check them."""
    out = []
    for read in (read_provenance, read_metadata):
        try:
            read(path, pop)
        except SpikesFileError as err:
            out.append(Problem("error", pop, err.code, err.problem))
    return out


# -- network ---------------------------------------------------------------------------
def _same_file(a: Any, b: str) -> bool:
    try:
        return isinstance(a, str) and os.path.samefile(a, b)
    except OSError:
        return False


def _check_against_config(path: str, config: Any, spikes: dict[str, Any]) -> list[Problem]:
    from .nodesets import load_sim_config, open_network, population_node_ids, resolve_node_set

    try:
        conf = config if isinstance(config, dict) else load_sim_config(config)
        source = open_network(conf)  # every nodes file read once, for all the checks below
        network = population_node_ids(source)
    except Exception as err:  # noqa: BLE001 - report, don't crash, whatever is wrong
        return [Problem("error", None, "config", f"Cannot read the network of {config}: {err}")]
    run = conf.get("run") or {}
    tstart, tstop = float(run.get("tstart", 0.0)), run.get("tstop")
    nest = str(conf.get("target_simulator", "")).upper() == "NEST"
    out: list[Problem] = []
    for pop, (ids, ts) in spikes.items():
        if pop not in network:
            out.append(
                Problem(
                    "error",
                    pop,
                    "unknown_population",
                    f"No node population '{pop}' in the network; it has: "
                    f"{', '.join(network) or 'none'}.",
                )
            )
        else:
            missing = np.unique(ids[~np.isin(ids, network[pop])])
            if missing.size:
                out.append(
                    Problem(
                        "error",
                        pop,
                        "unknown_node_ids",
                        f"{missing.size} node id(s) are not in population '{pop}' "
                        f"({_examples(missing)}); it has {network[pop].size} nodes.",
                    )
                )
        low = ts < tstart
        high = ts > float(tstop) if tstop is not None else np.zeros(ts.size, bool)
        if low.any() or high.any():
            out.append(
                Problem(
                    "error",
                    pop,
                    "outside_run_window",
                    f"{int(low.sum() + high.sum())} spike(s) outside the run window "
                    f"[{tstart:g}, {tstop}] ms ({_examples(ts[low | high])}).",
                )
            )
        nonpos = ts <= 0
        if nonpos.any():
            out.append(
                Problem(
                    "error" if nest else "warning",
                    pop,
                    "nonpositive_time",
                    f"{int(nonpos.sum())} spike(s) at time <= 0 ms "
                    f"({_examples(ts[nonpos])}); NEST rejects them. Allowed: > 0 ms.",
                )
            )
    for name, inp in (conf.get("inputs") or {}).items():
        if not isinstance(inp, dict) or not _same_file(inp.get("input_file"), path):
            continue
        try:
            ns = resolve_node_set(source, inp.get("node_set"))
        except Exception as err:  # noqa: BLE001
            out.append(Problem("error", None, "config", f"Input '{name}': {err}"))
            continue
        if ns.population in spikes:
            ids = spikes[ns.population][0]
            outside = np.unique(ids[~np.isin(ids, ns.node_ids.astype(np.int64))])
            if outside.size:
                out.append(
                    Problem(
                        "error",
                        ns.population,
                        "outside_node_set",
                        f"{outside.size} node id(s) are not in node set "
                        f"{inp.get('node_set')!r} of input '{name}' "
                        f"({_examples(outside)}).",
                    )
                )
    return out


def validate_file(path: str | os.PathLike, config: Any = None) -> list[Problem]:
    """Check a spikes file against the SONATA layout and, optionally, a simulation config.

    Parameters
    ----------
    path : str or path-like
        The spikes file (from any tool).
    config : str, path-like or dict, optional
        A SONATA simulation config (path, or a dict from
        :func:`raster_maker.nodesets.load_sim_config`): also check node ids against the
        network, times against the run window and the inputs that read this file.

    Returns
    -------
    list of Problem
        Every problem found (empty for a good file). See the module docstring for what
        is checked; ``Problem.code`` names the check.

    Examples
    --------
    >>> for p in validate_file("inputs.h5", "config.json"):  # doctest: +SKIP
    ...     print(p)
    """
    path = os.fspath(path)
    if not Path(path).is_file():
        return [Problem("error", None, "unreadable", f"No such file: '{path}'.")]
    try:
        problems, spikes = _check_layout(path)
    except HDF5_ERRORS as err:  # damaged beyond its populations (root attributes, /spikes)
        problems, spikes = [Problem("error", None, "unreadable", damaged_problem(err))], {}
    if config is not None:
        problems += _check_against_config(path, config, spikes)
    return problems
