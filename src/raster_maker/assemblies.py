"""Assemblies: a node set split into disjoint groups for stimulus protocols.

A stimulus protocol (bursts of one assembly after another, a growing share of assemblies
joining in, ...) first splits the input nodes into assemblies.  The methods follow bmtool's
``bmtool/stimulus/assemblies.py``:

``"random"``
    ``n`` assemblies; each unit joins one with probability ``p_in`` and then picks one of
    the ``n`` uniformly.  bmtool deals a random permutation into equal parts instead; here
    every draw comes from the unit's own counter-based stream (:mod:`raster_maker.streams`,
    counter 0: in or not, counter 1: which assembly), so a node's assembly does not depend
    on the order or the split of the node set, and sizes are multinomial, not equal.
``"by_attribute"``
    One assembly per value of a node attribute (e.g. ``pulse_group_id``; bmtool's
    ``"property"`` method), in sorted order of the values; units whose value is missing
    (NaN/None) join none.  Optional ``p_in`` (the unit's own stream, counter 0).
``"grid"``
    Assemblies by lateral position, as bmtool's ``get_grid_assembly``: equal-width bins of
    the ``x`` and ``y`` attributes (``pos_x``, ``pos_y`` by default, bmtool's columns),
    ``nx`` by ``ny`` bins or bins of ``bin_size``; see :func:`make_assemblies`.
``"lists"``
    Explicit node-id lists.

All of them return an :class:`Assemblies`, which the metadata of an output file can hold
(:meth:`Assemblies.to_metadata`, :meth:`Assemblies.from_metadata`).
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import streams
from ._check import attribute_rows, check_int, check_number, check_option

__all__ = ["METHODS", "Assemblies", "make_assemblies"]

#: The ways :func:`make_assemblies` splits a node set (``spec["method"]``).
METHODS = ("random", "by_attribute", "grid", "lists")

# method -> (required keys, optional keys), besides "method"
_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "random": (("n",), ("p_in", "names")),
    "by_attribute": (("attribute",), ("p_in",)),
    "grid": ((), ("x", "y", "nx", "ny", "bin_size", "bounds", "grid_id", "p_in")),
    "lists": (("assemblies",), ()),
}

_META_KEYS = ("assembly_node_ids", "assembly_index", "assembly_names", "assembly_params")


def _few(values, limit: int = 5) -> str:
    values = list(values)
    shown = ", ".join(str(v) for v in values[:limit])
    return shown + (f", ... ({len(values)} in all)" if len(values) > limit else "")


@dataclass(frozen=True, eq=False)
class Assemblies:
    """Disjoint assemblies of one node set.

    Parameters
    ----------
    node_ids : numpy.ndarray
        The node set: sorted, unique ``uint64`` node ids.
    index : numpy.ndarray
        ``int64``, one per node: the index of the node's assembly in `names`, or -1 for a
        node in no assembly.
    names : list of str
        Assembly names, one per assembly, unique.
    parameters : dict, optional
        JSON-able record of how the assemblies were made (see :meth:`params`).

    Raises
    ------
    TypeError
        If ``node_ids`` is not a 1-D integer array.
    ValueError
        If a node id is negative or the ids are not sorted and unique, ``index`` is not
        one integer per node in -1 .. len(names) - 1, or a name is repeated.

    Examples
    --------
    >>> import numpy as np
    >>> from raster_maker.assemblies import make_assemblies
    >>> asm = make_assemblies({"method": "random", "n": 3}, "exc_stim",
    ...                       np.arange(30, dtype=np.uint64), None, seed=1)
    >>> asm.n, int(asm.sizes().sum())
    (3, 30)
    """

    node_ids: np.ndarray
    index: np.ndarray
    names: list[str]
    parameters: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        ids = _as_node_ids(self.node_ids)
        index = np.asarray(self.index)
        if index.dtype.kind not in "iu" or index.shape != ids.shape:
            raise ValueError(
                f"Invalid 'index': {index.dtype} array of shape {index.shape}. Allowed: an "
                f"integer array with one entry per node ({ids.size})."
            )
        names = [str(name) for name in self.names]
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"Invalid 'names': {_few(dup)} repeated. Allowed: unique names.")
        index = index.astype(np.int64)
        bad = (index < -1) | (index >= len(names))
        if bad.any():
            raise ValueError(
                f"Invalid value in 'index': {int(index[bad][0])}. Allowed: -1 (no assembly) "
                f"or 0 .. {len(names) - 1} ({len(names)} assemblies)."
            )
        object.__setattr__(self, "node_ids", ids)
        object.__setattr__(self, "index", index)
        object.__setattr__(self, "names", names)

    @property
    def n(self) -> int:
        """Number of assemblies."""
        return len(self.names)

    def __repr__(self) -> str:
        n_in = int((self.index >= 0).sum())
        return f"Assemblies(n={self.n}, n_nodes={self.node_ids.size}, n_members={n_in})"

    def _position(self, assembly: int | str) -> int:
        if isinstance(assembly, str):
            if assembly not in self.names:
                raise KeyError(f"No assembly {assembly!r}; assemblies: {_few(self.names, 10)}.")
            return self.names.index(assembly)
        a = check_int("assembly", assembly)
        if not 0 <= a < self.n:
            raise ValueError(
                f"Invalid value for 'assembly': {a}. Allowed: 0 .. {self.n - 1} or a name."
            )
        return a

    def members(self, assembly: int | str) -> np.ndarray:
        """Node ids (sorted ``uint64``) of one assembly, given by index or by name.

        Parameters
        ----------
        assembly : int or str
            Index into ``names`` (0 .. n - 1) or an assembly name.

        Returns
        -------
        numpy.ndarray
            The members' node ids, sorted ``uint64``.

        Raises
        ------
        KeyError
            If the name is not an assembly's (the message lists them).
        TypeError
            If the index is not an integer.
        ValueError
            If the index is out of range.
        """
        return self.node_ids[self.index == self._position(assembly)]

    def sizes(self) -> np.ndarray:
        """Number of members of each assembly (``int64``, in the order of ``names``).

        Returns
        -------
        numpy.ndarray
            ``int64``, one count per assembly.
        """
        return np.bincount(self.index[self.index >= 0], minlength=self.n).astype(np.int64)

    def table(self) -> pd.DataFrame:
        """One row per member: columns ``node_id`` (``uint64``) and ``assembly`` (name).

        Returns
        -------
        pandas.DataFrame
            The nodes in an assembly, in node order (nodes in none are left out).
        """
        inside = self.index >= 0
        names = np.asarray(self.names, dtype=object)
        return pd.DataFrame(
            {"node_id": self.node_ids[inside], "assembly": names[self.index[inside]]}
        )

    def params(self) -> dict:
        """JSON-able record: the normalised spec, ``seed``, ``population`` and ``purpose``.

        Returns
        -------
        dict
            A deep copy (through JSON) of ``parameters``; what it holds is whatever the
            assemblies were built with (:func:`make_assemblies` records the keys above).
        """
        return json.loads(json.dumps(self.parameters))

    def to_metadata(self) -> dict[str, np.ndarray]:
        """Arrays for an output file's metadata.

        Returns
        -------
        dict of str to numpy.ndarray
            ``assembly_node_ids`` (per node), ``assembly_index`` (per node, -1: none),
            ``assembly_names`` (object array of str, per assembly) and ``assembly_params``
            (a one-element object array holding :meth:`params` as json).
        """
        return {
            "assembly_node_ids": self.node_ids.copy(),
            "assembly_index": self.index.copy(),
            "assembly_names": np.asarray(self.names, dtype=object),
            "assembly_params": np.asarray([json.dumps(self.params())], dtype=object),
        }

    @classmethod
    def from_metadata(cls, data: Mapping[str, Any]) -> Assemblies:
        """Rebuild assemblies from :meth:`to_metadata` arrays (e.g. read back from a file).

        Parameters
        ----------
        data : mapping of str to array
            Holds ``assembly_node_ids``, ``assembly_index`` and ``assembly_names`` (bytes
            or str), and optionally ``assembly_params`` (json); other keys are ignored.

        Returns
        -------
        Assemblies
            The assemblies the arrays describe.

        Raises
        ------
        KeyError
            If one of the arrays is missing (the message lists the keys present).
        ValueError
            If the arrays are inconsistent (see the class).
        """
        missing = [key for key in _META_KEYS[:3] if key not in data]
        if missing:
            raise KeyError(
                f"No {', '.join(map(repr, missing))} in the metadata; keys present: "
                f"{_few(sorted(data), 20) or 'none'}."
            )
        names = [v.decode() if isinstance(v, bytes) else str(v) for v in data["assembly_names"]]
        params = {}
        if "assembly_params" in data:
            raw = np.asarray(data["assembly_params"]).reshape(-1)[0]
            params = json.loads(raw.decode() if isinstance(raw, bytes) else str(raw))
        return cls(
            np.asarray(data["assembly_node_ids"]), np.asarray(data["assembly_index"]), names, params
        )


# --------------------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------------------


def _as_node_ids(node_ids: Any) -> np.ndarray:
    arr = np.asarray(node_ids)
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise TypeError(
            f"'node_ids' must be a 1-D integer array, got {arr.dtype} of shape {arr.shape}."
        )
    if arr.dtype.kind == "i" and arr.size and arr.min() < 0:
        raise ValueError(f"Invalid value in 'node_ids': {arr.min()}. Allowed: ids >= 0.")
    ids = arr.astype(np.uint64)
    if ids.size > 1 and not (ids[1:] > ids[:-1]).all():
        raise ValueError("Invalid 'node_ids': not sorted and unique. Allowed: np.unique(ids).")
    return ids


def _check_p_in(value: Any) -> float:
    p = check_number("p_in", value)
    if not 0.0 < p <= 1.0:
        raise ValueError(f"Invalid value for 'p_in': {p}. Allowed: 0 < p_in <= 1.")
    return p


def _check_count(n_assemblies: int, n_units: int, population: str, method: str) -> None:
    if n_assemblies > n_units:
        raise ValueError(
            f"{n_assemblies} assemblies for {n_units} units of population {population!r} "
            f"(method {method!r}). Allowed: at most one assembly per unit."
        )


def _check_keys(spec: Mapping[str, Any], method: str) -> None:
    required, optional = _KEYS[method]
    allowed = ("method", *required, *optional)
    unknown = [key for key in spec if key not in allowed]
    if unknown:
        raise ValueError(
            f"Invalid key(s) {', '.join(map(repr, unknown))} for assembly method {method!r}. "
            f"Allowed: {', '.join(allowed)}."
        )
    missing = [key for key in required if key not in spec]
    if missing:
        raise ValueError(
            f"Assembly method {method!r} needs {', '.join(map(repr, missing))} "
            f"(optional: {', '.join(optional) or 'none'})."
        )


def _column(
    attributes: pd.DataFrame | None,
    name: Any,
    node_ids: np.ndarray,
    key: str,
    method: str,
    population: str,
) -> np.ndarray:
    """The values of attribute `name` (spec key `key`) for `node_ids`."""
    if attributes is None:
        raise ValueError(
            f"Assembly method {method!r} reads node attribute {name!r} ('{key}'), but "
            "attributes=None; pass the node attributes (e.g. NodeSet.attributes)."
        )
    if not isinstance(name, str):
        raise TypeError(f"'{key}' must be an attribute name (str), got {name!r}.")
    if name not in attributes.columns:
        raise KeyError(
            f"Invalid value for '{key}': {name!r} is not a node attribute of population "
            f"{population!r}; attributes: {', '.join(map(str, attributes.columns)) or 'none'}."
        )
    pos = attribute_rows(attributes, node_ids, population)
    return attributes[name].to_numpy()[pos]


# --------------------------------------------------------------------------------------
# methods: each returns (index, names, normalised params, why-empty function)
# --------------------------------------------------------------------------------------


def _membership(keys: np.ndarray, p_in: float) -> np.ndarray:
    """Counter 0 of each unit's stream: is the unit in an assembly (probability p_in)."""
    u = streams.uniform(keys, np.zeros(keys.size, np.uint64), open_zero=False)
    return u < p_in


def _random(spec, ids, attributes, keys, population):
    n = check_int("n", spec["n"], min_value=1)
    p_in = _check_p_in(spec.get("p_in", 1.0))
    names = [str(a) for a in range(n)] if spec.get("names") is None else list(spec["names"])
    if len(names) != n or not all(isinstance(name, str) for name in names):
        raise ValueError(f"Invalid value for 'names': {names!r}. Allowed: {n} strings ('n').")
    if n > ids.size:
        raise ValueError(
            f"Invalid value for 'n': {n} assemblies for {ids.size} units of population "
            f"{population!r}. Allowed: n <= the number of units."
        )
    u = streams.uniform(keys, np.ones(ids.size, np.uint64), open_zero=False)
    choice = np.minimum((u * n).astype(np.int64), n - 1)
    index = np.where(_membership(keys, p_in), choice, -1)

    def why(a: int) -> str:
        return (
            f"none of the {ids.size} units drew it (sizes are multinomial: each unit joins "
            f"with p_in={p_in} and picks one of n={n} uniformly, {ids.size * p_in / n:.2g} "
            "expected per assembly); use fewer assemblies, more units or a larger 'p_in'"
        )

    return index, names, {"n": n, "p_in": p_in, "names": names}, why


def _by_attribute(spec, ids, attributes, keys, population):
    attribute = spec["attribute"]
    values = _column(attributes, attribute, ids, "attribute", "by_attribute", population)
    p_in = _check_p_in(spec.get("p_in", 1.0))
    present = ~pd.isna(values)
    try:
        uniq, codes = np.unique(values[present], return_inverse=True)
    except TypeError:
        kinds = sorted({type(v).__name__ for v in values[present]})
        raise TypeError(
            f"Node attribute {attribute!r} mixes values of types {', '.join(kinds)} that "
            "cannot be sorted into assemblies."
        ) from None
    if not uniq.size:
        raise ValueError(
            f"Node attribute {attribute!r} has no value (all missing) for the "
            f"{ids.size} units of population {population!r}: no assembly to make."
        )
    uniq = uniq.tolist()
    index = np.full(ids.size, -1, dtype=np.int64)
    index[present] = codes.reshape(-1)
    counts = np.bincount(index[present], minlength=len(uniq))
    index[~_membership(keys, p_in)] = -1

    def why(a: int) -> str:
        return (
            f"none of its {counts[a]} units ({attribute}={uniq[a]!r}) was kept with "
            f"p_in={p_in}; raise 'p_in'"
        )

    return index, [str(v) for v in uniq], {"attribute": attribute, "p_in": p_in}, why


def _grid_shape(spec) -> tuple[np.ndarray | None, int | None, int | None]:
    grid_id = spec.get("grid_id")
    nx = None if spec.get("nx") is None else check_int("nx", spec["nx"], min_value=1)
    ny = None if spec.get("ny") is None else check_int("ny", spec["ny"], min_value=1)
    if grid_id is not None:
        grid_id = np.asarray(grid_id)
        if grid_id.ndim != 2 or grid_id.dtype.kind not in "iu" or grid_id.size == 0:
            raise TypeError(
                f"'grid_id' must be a 2-D integer array (nx by ny), got {grid_id.dtype} of "
                f"shape {grid_id.shape}."
            )
        if (nx, ny) != (None, None) and (nx, ny) != grid_id.shape:
            raise ValueError(
                f"Invalid value for 'nx'/'ny': ({nx}, {ny}) but 'grid_id' has shape "
                f"{grid_id.shape}. Allowed: the shape of 'grid_id' (or leave nx, ny out)."
            )
        nx, ny = grid_id.shape
    if spec.get("bin_size") is not None:
        if nx is not None or ny is not None:
            raise ValueError(
                "Assembly method 'grid' takes either 'nx'/'ny' (or 'grid_id') or "
                "'bin_size', not both."
            )
    elif nx is None or ny is None:
        raise ValueError(
            f"Assembly method 'grid' needs the number of bins: 'nx' and 'ny' (got nx={nx}, "
            f"ny={ny}), a 'grid_id' array or a 'bin_size'."
        )
    return grid_id, nx, ny


def _grid_bounds(spec, xy: np.ndarray, ids: np.ndarray) -> np.ndarray:
    bad = ~np.isfinite(xy).all(axis=1)
    if bad.any():
        raise ValueError(f"Node(s) {_few(ids[bad])} have no finite position (x, y).")
    if spec.get("bounds") is None:
        return np.stack([xy.min(axis=0), xy.max(axis=0)], axis=1)
    bounds = np.asarray(spec["bounds"], dtype=np.float64)
    if (
        bounds.shape != (2, 2)
        or not np.isfinite(bounds).all()
        or (bounds[:, 1] <= bounds[:, 0]).any()
    ):
        raise ValueError(
            f"Invalid value for 'bounds': {spec['bounds']!r}. Allowed: "
            "[[min_x, max_x], [min_y, max_y]] with min < max."
        )
    outside = ((xy < bounds[:, 0]) | (xy > bounds[:, 1])).any(axis=1)
    if outside.any():
        raise ValueError(
            f"{int(outside.sum())} unit(s) lie outside 'bounds' {bounds.tolist()}: node id(s) "
            f"{_few(ids[outside])}. Allowed: positions within the bounds (or leave 'bounds' "
            "out to use the extent of the node set)."
        )
    return bounds


def _grid_edges(bounds: np.ndarray, nx, ny, bin_size) -> list[np.ndarray]:
    if bin_size is None:
        return [np.linspace(bounds[d, 0], bounds[d, 1], n + 1) for d, n in enumerate((nx, ny))]
    try:
        sizes = np.broadcast_to(np.asarray(bin_size, dtype=np.float64), (2,))
    except (TypeError, ValueError):
        sizes = np.zeros(2)  # not a number or a pair: rejected below
    if not (np.isfinite(sizes) & (sizes > 0)).all():
        raise ValueError(
            f"Invalid value for 'bin_size': {bin_size!r}. Allowed: a number > 0 or a pair "
            "(x, y) of numbers > 0 (position units)."
        )
    edges = []
    for d in range(2):
        # a whole number of bins up to rounding (1.1 / 0.1 = 11.000000000000002) is exact
        ratio = (bounds[d, 1] - bounds[d, 0]) / sizes[d]
        n = max(1, int(np.ceil(ratio * (1.0 - 1e-12))))
        edges.append(bounds[d, 0] + sizes[d] * np.arange(n + 1))
    return edges


def _grid(spec, ids, attributes, keys, population):
    x_name, y_name = spec.get("x", "pos_x"), spec.get("y", "pos_y")
    x = _column(attributes, x_name, ids, "x", "grid", population)
    y = _column(attributes, y_name, ids, "y", "grid", population)
    try:
        xy = np.stack([x, y], axis=1).astype(np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"Node attributes {x_name!r}, {y_name!r} must be numbers.") from None
    grid_id, nx, ny = _grid_shape(spec)
    p_in = _check_p_in(spec.get("p_in", 1.0))
    bounds = _grid_bounds(spec, xy, ids)
    edges = _grid_edges(bounds, nx, ny, spec.get("bin_size"))
    nx, ny = edges[0].size - 1, edges[1].size - 1
    if grid_id is None:
        _check_count(nx * ny, ids.size, population, "grid")  # before allocating the grid
        grid_id = np.arange(nx * ny).reshape(nx, ny)
    # bmtool: np.digitize on the inner edges; a point on max_x/max_y is in the last bin
    bx = np.digitize(xy[:, 0], edges[0][1:-1])
    by = np.digitize(xy[:, 1], edges[1][1:-1])
    labels, cell_assembly = np.unique(grid_id, return_inverse=True)
    cell_assembly = cell_assembly.reshape(grid_id.shape)
    index = cell_assembly[bx, by].astype(np.int64)
    counts = np.bincount(index, minlength=labels.size)
    index[~_membership(keys, p_in)] = -1

    def why(a: int) -> str:
        cells = np.argwhere(cell_assembly == a)
        i, j = cells[0]
        where = (
            f"x in [{edges[0][i]:g}, {edges[0][i + 1]:g}], y in [{edges[1][j]:g}, "
            f"{edges[1][j + 1]:g}]"
            + (f" and {len(cells) - 1} more cell(s)" if len(cells) > 1 else "")
        )
        if counts[a] == 0:
            return (
                f"no unit lies in its cell ({where}); use fewer or larger bins ('nx'/'ny' or "
                "'bin_size') or check 'bounds'"
            )
        return f"none of its {counts[a]} units ({where}) was kept with p_in={p_in}; raise 'p_in'"

    params = {
        "x": x_name,
        "y": y_name,
        "nx": nx,
        "ny": ny,
        "bin_size": None if spec.get("bin_size") is None else np.asarray(spec["bin_size"]).tolist(),
        "bounds": bounds.tolist(),
        "grid_id": grid_id.tolist(),
        "p_in": p_in,
    }
    return index, [str(v) for v in labels.tolist()], params, why


def _lists(spec, ids, attributes, keys, population):
    lists = spec["assemblies"]
    if isinstance(lists, Mapping):
        names, groups = [str(k) for k in lists], list(lists.values())
    elif isinstance(lists, (list, tuple)):
        names, groups = [str(a) for a in range(len(lists))], list(lists)
    else:
        raise TypeError(
            f"'assemblies' must be a list of node-id lists or a dict name -> node ids, "
            f"got {type(lists).__name__}."
        )
    if not groups:
        raise ValueError("Invalid value for 'assemblies': empty. Allowed: at least one list.")
    index = np.full(ids.size, -1, dtype=np.int64)
    for a, (name, group) in enumerate(zip(names, groups, strict=True)):
        members = np.asarray(group).reshape(-1)
        if members.size and (members.dtype.kind not in "iu" or members.min() < 0):
            raise TypeError(
                f"Assembly {name!r} in 'assemblies' must list node ids (integers >= 0), "
                f"got {_few(members)}."
            )
        members = np.unique(members.astype(np.uint64))
        pos = np.searchsorted(ids, members)
        found = (pos < ids.size) & (ids[np.minimum(pos, ids.size - 1)] == members)
        if not found.all():
            raise ValueError(
                f"Assembly {name!r} lists node id(s) {_few(np.unique(members[~found]))} that "
                f"are not in the node set of population {population!r} ({ids.size} nodes)."
            )
        taken = pos[index[pos] >= 0]
        if taken.size:
            others = sorted({names[i] for i in index[taken]})
            raise ValueError(
                f"Node id(s) {_few(np.unique(ids[taken]))} are in assembly {name!r} and in "
                f"{', '.join(map(repr, others))}. Allowed: disjoint assemblies."
            )
        index[pos] = a
    params = {"assemblies": {n: ids[index == a].tolist() for a, n in enumerate(names)}}
    if not isinstance(lists, Mapping):
        params["assemblies"] = list(params["assemblies"].values())

    def why(a: int) -> str:
        return "its list of node ids is empty"

    return index, names, params, why


_METHODS: dict[str, Callable] = {
    "random": _random,
    "by_attribute": _by_attribute,
    "grid": _grid,
    "lists": _lists,
}


# --------------------------------------------------------------------------------------
# public function
# --------------------------------------------------------------------------------------


def make_assemblies(
    spec: dict,
    population: str,
    node_ids: np.ndarray,
    attributes: pd.DataFrame | None,
    seed: int | None,
    purpose: str = "assemblies",
) -> Assemblies:
    """Split a node set into disjoint assemblies.

    Parameters
    ----------
    spec : dict
        ``spec["method"]`` and the method's parameters:

        ``"random"``
            ``n`` (int >= 1) assemblies; optional ``p_in`` (probability that a unit is in
            an assembly, default 1) and ``names`` (``n`` strings; default ``"0"`` ..).
            Unit ``i`` is in one if ``u0 < p_in`` and then joins assembly
            ``floor(u1 * n)``, ``u0``, ``u1`` being counters 0 and 1 of its own stream
            (:func:`raster_maker.streams.node_keys` of `seed`, `population`, `purpose`).
            So a node's assembly is the same whatever the order or subset of the node set
            it is drawn in, and the sizes are multinomial (about ``N p_in / n`` each, not
            equal as in bmtool's ``assign_assembly``, which deals a permutation).
        ``"by_attribute"``
            ``attribute``: a node attribute; one assembly per value, sorted by value and
            named ``str(value)``; a missing value (NaN/None) joins none.  Optional ``p_in``
            (counter 0 of the unit's stream, as above).  bmtool's ``"property"`` method
            keeps ``int(size * p)`` units of each group instead.
        ``"grid"``
            Lateral position bins, as bmtool's ``get_grid_assembly``: attributes ``x``,
            ``y`` (default ``"pos_x"``, ``"pos_y"``, bmtool's columns); ``nx``, ``ny``
            equal-width bins between ``bounds`` ``[[min_x, max_x], [min_y, max_y]]`` (bmtool's
            ``grid_size``; default: the extent of the node set), or bins of ``bin_size``
            (a number or an (x, y) pair, from min_x/min_y; the last bin may reach past
            max), and optional ``grid_id`` (an ``nx`` by ``ny`` integer array: the assembly
            label of each cell, cells with one label form one assembly; bmtool's
            ``grid_id``, default ``arange(nx * ny).reshape(nx, ny)``, i.e. cell (i, j) is
            assembly ``i * ny + j``).  Assemblies are ordered by label and named
            ``str(label)``.  Bins are bmtool's (``np.digitize`` on the inner edges of
            ``linspace(min, max, n + 1)``, so a unit on an inner edge goes to the upper bin
            and one on ``max`` to the last bin), except that bmtool stretches the last
            edge by 1 (um), silently puts units below ``min`` into the first bin and fails
            with an IndexError past ``max + 1``: here a unit outside ``bounds`` is an error.
            Optional ``p_in`` (counter 0 of the unit's stream).  With the default bounds,
            bins follow the extent of the given node set: pass ``bounds`` so that a
            node's assembly does not depend on the subset.
        ``"lists"``
            ``assemblies``: a list of node-id lists (named ``"0"``, ``"1"``, ..) or a dict
            name -> node ids.  The lists must be disjoint and within `node_ids`.
    population : str
        Name of the node population (keys the random streams; named in errors).
    node_ids : numpy.ndarray
        The node set: sorted, unique node ids (``uint64``).
    attributes : pandas.DataFrame or None
        Node attributes indexed by node id (e.g. ``NodeSet.attributes``);
        needed by ``"by_attribute"`` and ``"grid"``.
    seed : int or None
        Seed of the membership streams (None draws one; it is recorded in
        :meth:`Assemblies.params`).
    purpose : str, optional
        Names the stream family, so that several independent assembly draws of one
        population can share a seed.

    Returns
    -------
    Assemblies

    Raises
    ------
    ValueError
        For an unknown method (the message lists the methods), unknown or missing spec
        keys, ``n < 1`` or more assemblies than units, ``p_in`` outside (0, 1], an empty
        assembly (named, with the reason), units outside the grid ``bounds``, or node-id
        lists with ids outside the node set or in two lists.
    KeyError
        For a node attribute the population lacks (the message lists its attributes).
    TypeError
        For a spec that is not a dict or parameters of the wrong type.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> ids = np.arange(6, dtype=np.uint64)
    >>> attrs = pd.DataFrame({"pulse_group_id": [0, 1, 0, 1, 2, 2]}, index=ids.astype(np.int64))
    >>> asm = make_assemblies({"method": "by_attribute", "attribute": "pulse_group_id"},
    ...                       "exc_stim", ids, attrs, seed=0)
    >>> asm.names, asm.members("2").tolist()
    (['0', '1', '2'], [4, 5])
    """
    if not isinstance(spec, Mapping):
        raise TypeError(f"'spec' must be a dict with a 'method' key, got {type(spec).__name__}.")
    method = check_option("method", spec.get("method"), METHODS)
    _check_keys(spec, method)
    if not isinstance(population, str):
        raise TypeError(f"'population' must be a str, got {population!r}.")
    ids = _as_node_ids(node_ids)
    seed = streams.normalize_seed(seed)
    keys = streams.node_keys(seed, population, purpose, ids)
    index, names, params, why = _METHODS[method](spec, ids, attributes, keys, population)
    _check_count(len(names), ids.size, population, method)
    sizes = np.bincount(index[index >= 0], minlength=len(names))
    empty = np.flatnonzero(sizes == 0)
    if empty.size:
        listed = _few([names[a] for a in empty])
        raise ValueError(
            f"Assembly {names[empty[0]]!r} of population {population!r} is empty: "
            f"{why(int(empty[0]))}." + (f" Empty assemblies: {listed}." if empty.size > 1 else "")
        )
    record = {
        "method": method,
        **params,
        "seed": seed,
        "population": population,
        "purpose": purpose,
    }
    return Assemblies(ids, index, names, _jsonable(record))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, numbers.Integral):
        return int(value)
    return value
