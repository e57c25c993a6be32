"""Check a SONATA spikes file, written by raster_maker or any other tool.

Against the SONATA spike-file layout (as libsonata reads it):

* root attributes ``magic`` (0x0A7A) and ``version``;
* ``/spikes/<population>/timestamps`` (float, ``units="ms"``) and ``node_ids``
  (unsigned integers), 1-D and of equal length;
* ``sorting`` an HDF5 enum (none=0, by_id=1, by_time=2) that tells the truth;
* no compression filter (libsonata's wheels have no gzip), finite times, the times of each
  node in order, and libsonata can open and read it (when libsonata is installed).

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

from .sonata import MAGIC, SORTINGS

__all__ = ["Problem", "validate_file", "format_problems", "SEVERITIES"]

SEVERITIES = ("error", "warning")
_EXAMPLES = 5


@dataclass(frozen=True)
class Problem:
    """One problem of a spikes file.

    Attributes
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
    """One line per problem, errors first."""
    order = sorted(problems, key=lambda p: SEVERITIES.index(p.severity))
    return "\n".join(str(p) for p in order)


def _examples(values: np.ndarray) -> str:
    shown = ", ".join(
        f"{v:g}" if isinstance(v, float) else str(v) for v in values[:_EXAMPLES].tolist()
    )
    return shown + (", ..." if values.size > _EXAMPLES else "")


# -- layout ----------------------------------------------------------------------------
def _sorting_label(grp: h5py.Group, pop: str, out: list[Problem]) -> str | None:
    """The ``sorting`` label whatever its type, reporting a missing or non-enum attribute."""
    if "sorting" not in grp.attrs:
        out.append(
            Problem(
                "warning", pop, "sorting_missing", "No 'sorting' attribute; readers assume 'none'."
            )
        )
        return None
    raw = grp.attrs["sorting"]
    mapping = h5py.check_enum_dtype(grp.attrs.get_id("sorting").dtype)
    if mapping is not None:
        names = {v: k for k, v in mapping.items()}
        label = names.get(int(raw), str(int(raw)))
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
    label = raw.decode() if isinstance(raw, bytes) else str(raw)
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


def _check_sorting_truth(
    label: str | None, ids: np.ndarray, ts: np.ndarray, pop: str
) -> list[Problem]:
    if label is None:
        return []
    if label not in SORTINGS:
        return [
            Problem(
                "error",
                pop,
                "sorting_invalid",
                f"Invalid value for 'sorting': {label!r}. Allowed: {', '.join(SORTINGS)}.",
            )
        ]
    if label == "by_time" and ts.size > 1 and np.any(ts[1:] < ts[:-1]):
        k = int(np.argmax(ts[1:] < ts[:-1]))
        return [
            Problem(
                "error",
                pop,
                "sorting_false",
                f"'sorting' says by_time but timestamp {ts[k + 1]:g} (spike {k + 1}) comes "
                f"after {ts[k]:g}.",
            )
        ]
    if label == "by_id" and ids.size > 1 and np.any(ids[1:] < ids[:-1]):
        k = int(np.argmax(ids[1:] < ids[:-1]))
        return [
            Problem(
                "error",
                pop,
                "sorting_false",
                f"'sorting' says by_id but node id {ids[k + 1]} (spike {k + 1}) comes "
                f"after {ids[k]}.",
            )
        ]
    return []


def _check_dataset(grp: h5py.Group, name: str, kinds: str, pop: str, out: list[Problem]) -> bool:
    if name not in grp or not isinstance(grp[name], h5py.Dataset):
        out.append(
            Problem(
                "error",
                pop,
                "missing_dataset",
                f"No dataset '{name}' in /spikes/{pop}; a population needs "
                "'timestamps' and 'node_ids'.",
            )
        )
        return False
    ds = grp[name]
    if ds.ndim != 1:
        out.append(Problem("error", pop, "shape", f"'{name}' has shape {ds.shape}. Allowed: 1-D."))
        return False
    if ds.dtype.kind not in kinds:
        allowed = "floating point (float64)" if kinds == "f" else "integers (uint64)"
        out.append(
            Problem("error", pop, "dtype", f"'{name}' has dtype {ds.dtype}. Allowed: {allowed}.")
        )
        return False
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
    ok_ts = _check_dataset(grp, "timestamps", "f", pop, out)
    ok_ids = _check_dataset(grp, "node_ids", "ui", pop, out)
    label = _sorting_label(grp, pop, out)
    if not (ok_ts and ok_ids):
        return out, None
    ts_ds, ids_ds = grp["timestamps"], grp["node_ids"]
    units = ts_ds.attrs.get("units")
    units = units.decode() if isinstance(units, bytes) else units
    if units is None:
        out.append(
            Problem(
                "error",
                pop,
                "units_missing",
                "'timestamps' has no 'units' attribute (libsonata requires it). Allowed: 'ms'.",
            )
        )
    elif units != "ms":
        out.append(
            Problem(
                "error",
                pop,
                "units",
                f"Invalid value for 'units' of 'timestamps': {units!r}. Allowed: 'ms'.",
            )
        )
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
    if ts_ds.shape != ids_ds.shape:
        out.append(
            Problem(
                "error",
                pop,
                "shape",
                f"'timestamps' has {ts_ds.shape[0]} entries but 'node_ids' "
                f"{ids_ds.shape[0]}. Allowed: one node id per timestamp.",
            )
        )
        return out, None
    ts, ids = ts_ds[:].astype(np.float64), ids_ds[:]
    bad = ~np.isfinite(ts)
    if bad.any():
        out.append(
            Problem(
                "error",
                pop,
                "non_finite_time",
                f"{int(bad.sum())} timestamps are not finite ({_examples(ts[bad])}).",
            )
        )
    if ids.dtype.kind == "i" and np.any(ids < 0):
        out.append(
            Problem(
                "error",
                pop,
                "negative_node_id",
                f"{int((ids < 0).sum())} node ids are negative "
                f"({_examples(np.unique(ids[ids < 0]))}). Allowed: >= 0.",
            )
        )
    out += _check_sorting_truth(label, ids, ts, pop)
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
        if "spikes" not in h5 or not isinstance(h5["spikes"], h5py.Group):
            out.append(
                Problem(
                    "error",
                    None,
                    "no_spikes_group",
                    f"No group '/spikes' in '{path}'; it has: {', '.join(h5) or 'nothing'}.",
                )
            )
            return out, {}
        pops = [p for p in h5["spikes"] if isinstance(h5["spikes"][p], h5py.Group)]
        if not pops:
            out.append(Problem("warning", None, "no_populations", "'/spikes' holds no population."))
        for pop in pops:
            problems, data = _check_population(h5["spikes"][pop], pop)
            out += problems
            if data is not None:
                spikes[pop] = data
    out += _check_libsonata(path, list(spikes))
    return out, spikes


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
    problems, spikes = _check_layout(path)
    if config is not None:
        problems += _check_against_config(path, config, spikes)
    return problems
