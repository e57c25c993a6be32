"""Resolve SONATA node sets to one population and its node ids.

bmtk's own node-set filtering (``SimNetwork.get_node_set``) silently selects nothing for
filters on text columns under pandas 3, so this module reads the nodes files itself (with
h5py) and filters with pandas.

A node set can be given as

* the name of a node set defined in the config's ``node_sets_file`` or inline ``node_sets``
  block (a SONATA node-set json: a dict of attribute filters, optionally with ``population``
  and ``node_id`` keys, or a compound node set, i.e. a list of node-set names);
* a bare population name;
* a dict filter on node or node-type attributes: scalar values (equality), lists (any of),
  ``{"$gt"|"$gte"|"$lt"|"$lte"|"$eq"|"$ne": v}`` comparisons, ``{"$regex": "..."}`` (full
  match), ``node_id`` lists and ``population`` (a name or a list of names);
* a list of any of the above (union; all parts must lie in the same population).

A dict filter may also hold ``"connected_to": "<population>"`` (or a list of populations):
it keeps the nodes that are the source of at least one edge whose target population is
(one of) the given one(s), e.g. ``{"population": "exc_stim", "connected_to": "target"}``
keeps the virtual nodes that drive the modelled population.  The edges are read (with h5py)
from the SONATA edge files of the network: the config's ``networks.edges`` entries, or the
``*_edges.h5`` files of a network directory.

Input node sets must select nodes of exactly one population: a filter matching nodes in
several populations is an error that lists the populations it matches.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd

__all__ = [
    "NodeSet",
    "NodeSetError",
    "load_sim_config",
    "list_populations",
    "load_population",
    "resolve_node_set",
    "open_network",
    "population_node_ids",
]

_OPERATORS = ("$gt", "$gte", "$lt", "$lte", "$eq", "$ne", "$regex")


class NodeSetError(KeyError, ValueError):
    """An unknown node-set or population name.

    Subclasses both :class:`KeyError` and :class:`ValueError`, so either can be caught.  Its
    ``str()`` is the plain message (not the quoted repr :class:`KeyError` would give).
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True, eq=False)
class NodeSet:
    """A resolved node set: nodes of one population.

    Parameters
    ----------
    population : str
        Name of the node population.
    node_ids : numpy.ndarray
        Node ids (``uint64``), sorted ascending and unique.
    attributes : pandas.DataFrame
        One row per node, indexed by ``node_id`` in the order of `node_ids`.  Columns are the
        per-node attributes of the nodes h5 file merged with the node-type attributes of the
        ``*_node_types.csv`` file (per-node values win), including ``node_type_id``,
        ``pop_name``, ``model_type``, ...
    name : str or None, optional
        The node-set name, or a json representation of the filter it was resolved from.
    """

    population: str
    node_ids: np.ndarray
    attributes: pd.DataFrame
    name: str | None = None

    def __len__(self) -> int:
        return int(self.node_ids.size)

    def __repr__(self) -> str:
        return f"NodeSet(population={self.population!r}, n_nodes={len(self)}, name={self.name!r})"


# --------------------------------------------------------------------------------------
# configs
# --------------------------------------------------------------------------------------


def _config_parser_class():
    from bmtk.utils.sonata.config.sonata_config import ConfigParser

    class _Parser(ConfigParser):
        """bmtk's parser, but node sets are loaded by us (relative paths, inline merge) and
        relative paths are taken relative to the json file that holds them (SONATA rule)."""

        def parse(self, cfg_obj):
            if isinstance(cfg_obj, (str, os.PathLike)):
                # bmtk opens the file without closing it (ResourceWarning): read it here
                path = os.path.abspath(os.fspath(cfg_obj))
                with open(path) as fh:
                    cfg_obj = json.load(fh)
                cfg_obj["config_path"] = path
                cfg_obj["config_dir"] = os.path.dirname(path)
            conf = super().parse(cfg_obj)
            base = os.path.dirname(conf["config_path"])
            _absolutize_paths(conf, base)
            return conf

        def _post_process(self, conf, manifest):
            node_sets_file = conf.pop("node_sets_file", None)
            super()._post_process(conf, manifest)
            if node_sets_file is not None:
                conf["node_sets_file"] = node_sets_file

    return _Parser


def _abs(path: Any, base: str) -> Any:
    if not isinstance(path, str) or not path or "$" in path:
        return path
    if os.path.isabs(path):
        return os.path.normpath(path)
    return os.path.normpath(os.path.join(base, path))


def _absolutize_paths(conf: dict, base: str) -> None:
    networks = conf.get("networks")
    if isinstance(networks, dict):
        for kind, keys in (
            ("nodes", ("nodes_file", "node_types_file")),
            ("edges", ("edges_file", "edge_types_file")),
        ):
            for entry in networks.get(kind, []) or []:
                if isinstance(entry, dict):
                    for key in keys:
                        if key in entry:
                            entry[key] = _abs(entry[key], base)
    components = conf.get("components")
    if isinstance(components, dict):
        for key, val in components.items():
            if isinstance(val, str):
                components[key] = _abs(val, base)
            elif isinstance(val, list):
                components[key] = [_abs(v, base) for v in val]
    if "node_sets_file" in conf:
        conf["node_sets_file"] = _abs(conf["node_sets_file"], base)
    output = conf.get("output")
    if isinstance(output, dict):
        # bmtk takes a relative output_dir relative to the working directory: only tidy up
        # absolute paths
        for key, val in output.items():
            if isinstance(val, str) and os.path.isabs(val):
                output[key] = os.path.normpath(val)
    inputs = conf.get("inputs")
    if isinstance(inputs, dict):
        for entry in inputs.values():
            if isinstance(entry, dict) and "input_file" in entry:
                entry["input_file"] = _abs(entry["input_file"], base)


def _finish_config(conf: dict, config_path: str | None) -> dict:
    node_sets: dict = {}
    ns_file = conf.get("node_sets_file")
    if ns_file:
        if not os.path.isfile(ns_file):
            raise FileNotFoundError(f"node_sets_file {ns_file} (from {config_path}) not found")
        with open(ns_file) as fh:
            node_sets.update(json.load(fh))
    inline = conf.get("node_sets")
    if isinstance(inline, dict):
        node_sets.update(inline)  # inline definitions win over the file
    conf["node_sets"] = node_sets
    conf["_config_path"] = config_path
    return conf


def load_sim_config(path) -> dict:
    """Load a SONATA simulation (or circuit) config with all variables resolved.

    Manifest variables (``$BASE_DIR``, ``${configdir}``, ``${workingdir}``, ...) are resolved
    with bmtk's parser; a ``"network"``/``"simulation"`` entry naming another json file is
    merged in.  Relative paths of ``networks`` (nodes/edges files), ``components``,
    ``node_sets_file`` and ``inputs[*].input_file`` are made absolute relative to the json
    file that contains them.  The node sets of ``node_sets_file`` and an inline
    ``node_sets`` block are merged into ``conf["node_sets"]`` (inline wins).

    Parameters
    ----------
    path : str or os.PathLike
        Path of the config json.

    Returns
    -------
    dict
        The merged config (keys such as ``networks``, ``run``, ``inputs``, ``node_sets``,
        ``components``, ``manifest``), plus ``_config_path`` (absolute path of `path`).

    Raises
    ------
    FileNotFoundError
        If `path` or the ``node_sets_file`` does not exist.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"config file {path} not found")
    conf = dict(_config_parser_class()().parse(str(path)))
    return _finish_config(conf, str(path))


def _config_from_dict(config: dict) -> dict:
    if "_config_path" in config:
        return config
    conf = dict(_config_parser_class()().parse(dict(config)))
    return _finish_config(conf, config.get("config_path"))


# --------------------------------------------------------------------------------------
# sources: config / directory / dict
# --------------------------------------------------------------------------------------


class _Source:
    """Node files, node sets and a label of whatever ``source`` was given."""

    def __init__(self, source):
        self.node_sets: dict = {}
        self.files: list[tuple[str, str | None]] = []  # (nodes_file, node_types_file)
        self._cache: dict[str, pd.DataFrame] = {}
        self.edge_files: list[str] | None = None  # None: the source names no edge files
        self._edge_pops: list[_EdgePopulation] | None = None
        self._connected: dict[tuple[str, str], np.ndarray | None] = {}
        if isinstance(source, _Source):
            self.__dict__.update(source.__dict__)
            return
        if isinstance(source, dict):
            conf = _config_from_dict(source)
            self.label = conf.get("_config_path") or "<config dict>"
            self._from_config(conf)
            return
        path = Path(source).resolve()
        self.label = str(path)
        if path.is_dir():
            self._from_directory(path)
        elif path.is_file() and path.suffix == ".json":
            self._from_config(load_sim_config(path))
            return  # _from_config listed the populations
        elif path.is_file() and path.suffix in (".h5", ".hdf5"):
            types = _guess_types_file(path)
            self.files = [(str(path), types)]
        elif not path.exists():
            raise FileNotFoundError(f"{path} does not exist")
        else:
            raise ValueError(
                f"cannot read nodes from {path}: expected a config json, a "
                "network directory or a nodes h5 file"
            )
        self.populations = self._list_populations()

    def _from_config(self, conf: dict) -> None:
        self.config = conf
        self.node_sets = dict(conf.get("node_sets") or {})
        networks = conf.get("networks") or {}
        for entry in networks.get("nodes", []) or []:
            self.files.append((entry["nodes_file"], entry.get("node_types_file")))
        self.edge_files = [
            entry["edges_file"]
            for entry in networks.get("edges", []) or []
            if isinstance(entry, dict) and "edges_file" in entry
        ]
        if not self.files:
            raise ValueError(f"{self.label} defines no node files (networks.nodes is empty)")
        self.populations = self._list_populations()

    def _from_directory(self, path: Path) -> None:
        nodes = sorted(path.glob("*_nodes.h5")) + sorted(path.glob("*_nodes.hdf5"))
        if not nodes:
            raise ValueError(f"no *_nodes.h5 files in directory {path}")
        self.files = [(str(p), _guess_types_file(p)) for p in nodes]
        edges = sorted(path.glob("*_edges.h5")) + sorted(path.glob("*_edges.hdf5"))
        self.edge_files = [str(p) for p in edges]
        ns_file = path / "node_sets.json"
        if ns_file.is_file():
            with open(ns_file) as fh:
                self.node_sets = json.load(fh)

    def _list_populations(self) -> dict[str, tuple[str, str | None]]:
        pops: dict[str, tuple[str, str | None]] = {}
        for nodes_file, types_file in self.files:
            if not os.path.isfile(nodes_file):
                raise FileNotFoundError(f"nodes file {nodes_file} (from {self.label}) not found")
            with h5py.File(nodes_file, "r") as fh:
                names = list(fh["nodes"].keys()) if "nodes" in fh else []
            for name in names:
                if name in pops and pops[name][0] != nodes_file:
                    raise ValueError(
                        f"population {name!r} is defined in both {pops[name][0]} and {nodes_file}"
                    )
                pops[name] = (nodes_file, types_file)
        return pops

    def available(self) -> str:
        sets = ", ".join(sorted(self.node_sets)) or "(none)"
        pops = ", ".join(sorted(self.populations)) or "(none)"
        return f"available node sets: {sets}; populations: {pops}"

    def population_frame(self, population: str) -> pd.DataFrame:
        if population not in self._cache:
            if population not in self.populations:
                raise NodeSetError(
                    f"No population {population!r} in {self.label}; " + self.available()
                )
            nodes_file, types_file = self.populations[population]
            self._cache[population] = _read_population(nodes_file, types_file, population)
        return self._cache[population]

    def edge_populations(self) -> list[_EdgePopulation]:
        if self._edge_pops is None:
            if self.edge_files is None:
                raise ValueError(
                    f"'connected_to' needs the network's edge files, but {self.label} is a "
                    "nodes file; give a config json or a network directory instead"
                )
            self._edge_pops = [
                ep for path in self.edge_files for ep in _list_edge_populations(path)
            ]
        return self._edge_pops

    def connected_sources(self, source_pop: str, target_pop: str) -> np.ndarray | None:
        """Sorted unique ids of `source_pop` nodes with an edge into `target_pop`, or None
        if no edge population goes from `source_pop` to `target_pop`."""
        key = (source_pop, target_pop)
        if key not in self._connected:
            parts = [
                _unique_source_ids(ep)
                for ep in self.edge_populations()
                if ep.source == source_pop and ep.target == target_pop
            ]
            self._connected[key] = np.unique(np.concatenate(parts)) if parts else None
        return self._connected[key]


def _guess_types_file(nodes_file: Path) -> str | None:
    name = nodes_file.name
    for suffix in ("_nodes.h5", "_nodes.hdf5", ".h5", ".hdf5"):
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            for cand in (f"{stem}_node_types.csv", f"{stem}_types.csv"):
                if (nodes_file.parent / cand).is_file():
                    return str(nodes_file.parent / cand)
            break
    return None


# --------------------------------------------------------------------------------------
# reading nodes
# --------------------------------------------------------------------------------------


def _read_dataset(ds: h5py.Dataset) -> np.ndarray:
    if h5py.check_string_dtype(ds.dtype) is not None:
        return np.asarray(ds.asstr()[()], dtype=object)
    return ds[()]


def _read_group(group: h5py.Group, n_rows: int) -> dict[str, np.ndarray]:
    cols: dict[str, np.ndarray] = {}
    library = group.get("@library")
    for key, item in group.items():
        if key == "@library":
            continue
        if isinstance(item, h5py.Dataset):
            vals = _read_dataset(item)
            if vals.ndim != 1 or vals.shape[0] != n_rows:
                continue
            if library is not None and key in library:
                vals = _read_dataset(library[key])[vals.astype(np.int64)]
            cols[key] = vals
        elif isinstance(item, h5py.Group) and key == "dynamics_params":
            for sub_key, sub in item.items():
                if isinstance(sub, h5py.Dataset):
                    vals = _read_dataset(sub)
                    if vals.ndim == 1 and vals.shape[0] == n_rows:
                        cols[f"dynamics_params.{sub_key}"] = vals
    return cols


def _read_population(nodes_file: str, types_file: str | None, population: str) -> pd.DataFrame:
    with h5py.File(nodes_file, "r") as fh:
        grp = fh["nodes"][population]
        type_ids = grp["node_type_id"][()]
        n = type_ids.shape[0]
        node_ids = grp["node_id"][()] if "node_id" in grp else np.arange(n)
        node_ids = np.asarray(node_ids, dtype=np.uint64)
        group_ids = grp["node_group_id"][()] if "node_group_id" in grp else np.zeros(n, int)
        group_index = grp["node_group_index"][()] if "node_group_index" in grp else np.arange(n)
        frames = []
        for gid in np.unique(group_ids):
            mask = group_ids == gid
            key = str(int(gid))
            if key in grp and isinstance(grp[key], h5py.Group):
                g = grp[key]
                sizes = [
                    ds.shape[0]
                    for ds in g.values()
                    if isinstance(ds, h5py.Dataset) and ds.ndim == 1
                ]
                n_rows = max(sizes) if sizes else 0
                cols = _read_group(g, n_rows)
            else:
                cols = {}
            idx = group_index[mask].astype(np.int64)
            frame = pd.DataFrame(
                {k: v[idx] for k, v in cols.items()}, index=pd.Index(node_ids[mask], name="node_id")
            )
            frames.append(frame)
    df = pd.concat(frames) if len(frames) > 1 else frames[0]
    df = df.reindex(node_ids)  # original order, also when several groups interleave
    df.index = pd.Index(node_ids, name="node_id", dtype=np.uint64)
    df.insert(0, "node_type_id", np.asarray(type_ids, dtype=np.int64))

    if types_file is not None:
        if not os.path.isfile(types_file):
            raise FileNotFoundError(f"node types file {types_file} not found")
        types = pd.read_csv(types_file, sep=" ", quotechar='"', skipinitialspace=True)
        if "node_type_id" not in types.columns:
            raise ValueError(f"{types_file} has no node_type_id column")
        types = types.drop_duplicates("node_type_id").set_index("node_type_id")
        missing = set(np.unique(type_ids)) - set(types.index)
        if missing:
            raise ValueError(
                f"node_type_id(s) {sorted(missing)} of population {population!r} "
                f"are not in {types_file}"
            )
        for col in types.columns:
            if col in df.columns:
                continue  # per-node values override node-type values
            df[col] = types[col].reindex(df["node_type_id"].to_numpy()).to_numpy()
    order = np.argsort(df.index.to_numpy(), kind="stable")
    df = df.iloc[order]
    if df.index.has_duplicates:
        raise ValueError(f"population {population!r} in {nodes_file} has duplicate node ids")
    return df


# --------------------------------------------------------------------------------------
# reading edges (for the 'connected_to' filter)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _EdgePopulation:
    path: str
    name: str
    source: str
    target: str


def _node_population_attr(ds: h5py.Dataset, path: str, name: str) -> str:
    value = ds.attrs.get("node_population")
    if value is None:
        raise ValueError(
            f"edge population {name!r} in {path}: {ds.name} has no 'node_population' "
            "attribute (required by SONATA), so its node population is unknown"
        )
    if isinstance(value, np.ndarray):
        value = value.reshape(-1)[0]
    return value.decode() if isinstance(value, bytes) else str(value)


def _list_edge_populations(path: str) -> list[_EdgePopulation]:
    if not os.path.isfile(path):
        raise FileNotFoundError(f"edges file {path} not found")
    out = []
    with h5py.File(path, "r") as fh:
        edges = fh.get("edges")
        for name, grp in edges.items() if isinstance(edges, h5py.Group) else ():
            if not isinstance(grp, h5py.Group) or "source_node_id" not in grp:
                continue
            source = _node_population_attr(grp["source_node_id"], path, name)
            target = _node_population_attr(grp["target_node_id"], path, name)
            out.append(_EdgePopulation(path, name, source, target))
    return out


_EDGE_CHUNK = 1 << 22


def _unique_source_ids(ep: _EdgePopulation) -> np.ndarray:
    """Unique source node ids of one edge population, read in chunks."""
    with h5py.File(ep.path, "r") as fh:
        ds = fh["edges"][ep.name]["source_node_id"]
        parts = [
            np.unique(ds[start : start + _EDGE_CHUNK])
            for start in range(0, ds.shape[0], _EDGE_CHUNK)
        ]
    if not parts:
        return np.empty(0, dtype=np.uint64)
    return np.unique(np.concatenate(parts)).astype(np.uint64)


def _connected_mask(src: _Source, pop: str, df: pd.DataFrame, targets: list[str]):
    """Mask of `pop`'s nodes with an edge into one of `targets`, or None if no edge
    population goes from `pop` to any of them."""
    found = [src.connected_sources(pop, target) for target in targets]
    ids = [i for i in found if i is not None]
    if not ids:
        return None
    return df.index.isin(np.concatenate(ids))


def _connected_targets(src: _Source, value, name: str) -> list[str]:
    targets = _as_list(value)
    if not targets or not all(isinstance(t, str) for t in targets):
        raise TypeError(
            f"Node set {name}: 'connected_to' must be a population name or a list of "
            f"names, not {value!r}"
        )
    edge_targets = {ep.target for ep in src.edge_populations()}
    unknown = [t for t in targets if t not in src.populations and t not in edge_targets]
    if unknown:
        raise NodeSetError(
            f"Node set {name}: invalid value for 'connected_to': "
            f"{', '.join(map(repr, unknown))} is not a population of {src.label}; "
            f"node populations: {', '.join(sorted(src.populations)) or '(none)'}; targets "
            f"of edges: {', '.join(sorted(edge_targets)) or '(none)'}"
        )
    return targets


def _no_edges_detail(src: _Source, pops: list[str], targets: list[str]) -> str:
    files = ", ".join(src.edge_files or []) or "(none)"
    froms = sorted({ep.source for ep in src.edge_populations() if ep.target in targets})
    into = ", ".join(map(repr, targets))
    return (
        f"no edges from population {', '.join(map(repr, pops))} to population {into} "
        f"(edges into {into} come from: {', '.join(map(repr, froms)) or 'no population'}; "
        f"edge files: {files})"
    )


# --------------------------------------------------------------------------------------
# public functions
# --------------------------------------------------------------------------------------


def list_populations(source) -> dict[str, str]:
    """List the node populations of a network.

    Parameters
    ----------
    source : str, os.PathLike or dict
        A simulation or circuit config json, a network directory holding ``*_nodes.h5`` (and
        ``*_node_types.csv``), a nodes h5 file, or an already loaded config dict.

    Returns
    -------
    dict of str to str
        Population name -> path of the nodes h5 file that holds it.
    """
    src = _Source(source)
    return {name: files[0] for name, files in src.populations.items()}


def load_population(source, population: str) -> pd.DataFrame:
    """Read all nodes of one population with node-type attributes merged.

    Parameters
    ----------
    source : str, os.PathLike or dict
        See :func:`list_populations`.
    population : str
        Population name.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``node_id`` (sorted ascending); see ``NodeSet.attributes``.
    """
    return _Source(source).population_frame(population).copy()


def open_network(source) -> _Source:
    """A reusable handle on a network: each nodes file is read at most once through it.

    Pass it as ``source`` to :func:`resolve_node_set`, :func:`load_population` or
    :func:`population_node_ids` when resolving several things against one network.

    Parameters
    ----------
    source : str, os.PathLike, dict or network handle
        A simulation or circuit config json, a network directory, a nodes h5 file, an
        already loaded config dict, or a handle from this function (as for
        :func:`resolve_node_set`).

    Returns
    -------
    object
        The handle (of a private type): the network's node files, node sets and a cache
        of the node tables read so far.

    Raises
    ------
    FileNotFoundError
        If ``source`` is a path that does not exist.
    ValueError
        If ``source`` is neither a config json, a network directory nor a nodes h5 file,
        or names no node files.
    """
    return _Source(source)


def population_node_ids(source) -> dict[str, np.ndarray]:
    """The sorted node ids of every population (``node_id`` datasets, or their default).

    Parameters
    ----------
    source : str, os.PathLike, dict or network handle
        The network (as for :func:`resolve_node_set`; a handle from :func:`open_network`
        reuses the node tables it has read).

    Returns
    -------
    dict of str to ndarray of int64
        Population name -> its node ids, sorted.

    Raises
    ------
    FileNotFoundError
        If ``source`` is a path that does not exist.
    ValueError
        If ``source`` is neither a config json, a network directory nor a nodes h5 file,
        or names no node files.
    """
    src = source if isinstance(source, _Source) else _Source(source)
    return {
        pop: np.sort(src.population_frame(pop).index.to_numpy().astype(np.int64))
        for pop in src.populations
    }


def resolve_node_set(source, node_set) -> NodeSet:
    """Resolve a node set to one population and its sorted node ids.

    Parameters
    ----------
    source : str, os.PathLike or dict
        A simulation or circuit config json, a network directory (a ``node_sets.json`` in it
        is used), a nodes h5 file, or an already loaded config dict (e.g. from
        :func:`load_sim_config`).
    node_set : str, dict, list or NodeSet
        A node-set name (from the config's ``node_sets_file``/``node_sets``), a population
        name, a dict filter, or a list of these (union).  See the module docstring.

    Returns
    -------
    NodeSet

    Raises
    ------
    NodeSetError
        (a :class:`KeyError` and :class:`ValueError`) if a name is neither a node set nor a
        population; the message lists the available node sets and populations.
    ValueError
        If the selection is empty (the message names the filter), spans several populations
        (the message lists them), or is malformed.
    """
    if isinstance(node_set, NodeSet):
        return node_set
    src = _Source(source)
    return _resolve(src, node_set, name=None, stack=())


def _label(node_set) -> str:
    if isinstance(node_set, str):
        return node_set
    try:
        return json.dumps(node_set, sort_keys=True, default=str)
    except TypeError:
        return repr(node_set)


def _make(src: _Source, population: str, mask, name: str) -> NodeSet:
    df = src.population_frame(population)
    sel = df[np.asarray(mask, dtype=bool)] if mask is not None else df
    sel = sel.copy()
    return NodeSet(
        population=population,
        node_ids=sel.index.to_numpy(dtype=np.uint64),
        attributes=sel,
        name=name,
    )


def _resolve(src: _Source, node_set, name: str | None, stack: tuple) -> NodeSet:
    if isinstance(node_set, NodeSet):
        return node_set
    if isinstance(node_set, str):
        if node_set in stack:
            raise ValueError(
                f"node set {node_set!r} in {src.label} refers to itself "
                f"({' -> '.join(stack + (node_set,))})"
            )
        if node_set in src.node_sets:
            return _resolve(src, src.node_sets[node_set], name=node_set, stack=stack + (node_set,))
        if node_set in src.populations:
            return _make(src, node_set, None, name or node_set)
        raise NodeSetError(f"No node set {node_set!r} in {src.label}; " + src.available())
    if isinstance(node_set, dict):
        return _resolve_filter(src, node_set, name or _label(node_set))
    if isinstance(node_set, (list, tuple)):
        return _resolve_compound(src, list(node_set), name or _label(node_set), stack)
    raise TypeError(
        f"node_set must be a name, a dict filter or a list, not {type(node_set).__name__}"
    )


def _resolve_compound(src, parts: list, name: str, stack: tuple) -> NodeSet:
    if not parts:
        raise ValueError(f"compound node set {name} is empty")
    resolved = [_resolve(src, part, None, stack) for part in parts]
    pops = sorted({ns.population for ns in resolved})
    if len(pops) > 1:
        raise ValueError(
            f"node set {name} spans several populations ({', '.join(pops)}); an "
            "input node set must select nodes of a single population"
        )
    pop = pops[0]
    ids = np.unique(np.concatenate([ns.node_ids for ns in resolved]))
    df = src.population_frame(pop)
    mask = df.index.isin(ids)
    if not mask.any():
        raise ValueError(f"node set {name} selects no nodes")
    return _make(src, pop, mask, name)


def _as_list(value) -> list:
    if isinstance(value, (list, tuple, set, np.ndarray, pd.Index, pd.Series)):
        return list(value)
    return [value]


def _condition(series: pd.Series, value) -> np.ndarray:
    if isinstance(value, dict):
        unknown = set(value) - set(_OPERATORS)
        if unknown:
            raise ValueError(
                f"unknown operator(s) {sorted(unknown)} in filter {value!r}; "
                f"supported: {', '.join(_OPERATORS)}"
            )
        mask = np.ones(len(series), dtype=bool)
        for op, arg in value.items():
            if op == "$regex":
                pattern = re.compile(arg)
                mask &= series.map(
                    lambda v, p=pattern: isinstance(v, str) and p.fullmatch(v) is not None
                ).to_numpy(dtype=bool)
                continue
            numeric = pd.to_numeric(series, errors="coerce") if op not in ("$eq", "$ne") else series
            cmp = {
                "$gt": numeric.gt,
                "$gte": numeric.ge,
                "$lt": numeric.lt,
                "$lte": numeric.le,
                "$eq": numeric.eq,
                "$ne": numeric.ne,
            }[op]
            mask &= cmp(arg).fillna(False).to_numpy(dtype=bool)
        return mask
    values = _as_list(value)
    return series.isin(values).to_numpy(dtype=bool)


def _resolve_filter(src: _Source, filt: dict, name: str) -> NodeSet:
    filt = dict(filt)
    pop_filter = filt.pop("population", filt.pop("populations", None))
    if pop_filter is None:
        candidates = sorted(src.populations)
    else:
        candidates = [str(p) for p in _as_list(pop_filter)]
        unknown = [p for p in candidates if p not in src.populations]
        if unknown:
            raise NodeSetError(
                f"Node set {name}: no population {', '.join(map(repr, unknown))} "
                f"in {src.label}; " + src.available()
            )
    node_id_filter = filt.pop("node_id", filt.pop("node_ids", None))
    connected_to = filt.pop("connected_to", None)
    targets = None if connected_to is None else _connected_targets(src, connected_to, name)

    matches: dict[str, np.ndarray] = {}
    missing_attrs: dict[str, list[str]] = {}
    no_edges: list[str] = []
    for pop in candidates:
        df = src.population_frame(pop)
        mask = np.ones(len(df), dtype=bool)
        if node_id_filter is not None:
            ids = np.asarray(_as_list(node_id_filter), dtype=np.int64)
            mask &= df.index.isin(ids.astype(np.uint64))
        if targets is not None:
            connected = _connected_mask(src, pop, df, targets)
            if connected is None:
                no_edges.append(pop)
                continue
            mask &= connected
        for key, value in filt.items():
            if key not in df.columns:
                missing_attrs.setdefault(pop, []).append(key)
                mask[:] = False
                break
            mask &= _condition(df[key], value)
        if mask.any():
            matches[pop] = mask

    if not matches:
        detail = ""
        if missing_attrs:
            detail = "; " + "; ".join(
                f"population {pop!r} has no attribute {', '.join(map(repr, keys))}"
                for pop, keys in sorted(missing_attrs.items())
            )
        if no_edges:
            detail += "; " + _no_edges_detail(src, no_edges, targets or [])
        raise ValueError(
            f"Node set {name} selects no nodes in {src.label} (searched "
            f"populations: {', '.join(candidates)}){detail}"
        )
    if len(matches) > 1:
        listing = ", ".join(f"{pop} ({int(mask.sum())} nodes)" for pop, mask in matches.items())
        raise ValueError(
            f"Node set {name} matches nodes in several populations: {listing}; an "
            "input node set must select a single population (add a "
            "'population' key)"
        )
    ((pop, mask),) = matches.items()
    return _make(src, pop, mask, name)
