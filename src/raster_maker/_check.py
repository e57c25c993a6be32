"""Validation helpers that speak with one voice.

Every error names the parameter, the offending value and what is allowed.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = [
    "check_option",
    "check_number",
    "check_rates",
    "check_window",
    "check_int",
]


def check_option(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``allowed``, else raise ``ValueError``."""
    allowed = list(allowed)
    if value not in allowed:
        listed = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"Invalid value for '{name}': {value!r}. Allowed: {listed}.")
    return value


def check_number(
    name: str,
    value: Any,
    *,
    min_value: float | None = None,
    max_value: float | None = None,
    strict_min: bool = False,
    units: str = "",
) -> float:
    """Return ``value`` as a finite float within bounds, else raise.

    Raises
    ------
    TypeError
        If ``value`` is not a real number.
    ValueError
        If it is NaN, infinite or out of bounds.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"'{name}' must be a real number, got {type(value).__name__} {value!r}.")
    value = float(value)
    unit = f" {units}" if units else ""
    if not np.isfinite(value):
        raise ValueError(f"Invalid value for '{name}': {value}. Allowed: a finite number{unit}.")
    if min_value is not None:
        if strict_min and value <= min_value:
            raise ValueError(f"Invalid value for '{name}': {value}{unit}. Allowed: > {min_value}.")
        if not strict_min and value < min_value:
            raise ValueError(f"Invalid value for '{name}': {value}{unit}. Allowed: >= {min_value}.")
    if max_value is not None and value > max_value:
        raise ValueError(f"Invalid value for '{name}': {value}{unit}. Allowed: <= {max_value}.")
    return value


def check_int(name: str, value: Any, *, min_value: int | None = None) -> int:
    """Return ``value`` as an int (>= ``min_value``), else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"'{name}' must be an integer, got {type(value).__name__} {value!r}.")
    value = int(value)
    if min_value is not None and value < min_value:
        raise ValueError(
            f"Invalid value for '{name}': {value}. Allowed: an integer >= {min_value}."
        )
    return value


def check_rates(name: str, values: Any, *, units: str = "Hz") -> np.ndarray:
    """Return ``values`` as a float64 array of finite, non-negative rates, else raise."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size and np.isfinite(arr.max()) and arr.min() >= 0:  # NaN fails both: the common
        return arr  # case costs two reductions and no temporaries
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        first = arr.reshape(-1)[np.flatnonzero(bad.reshape(-1))[0]]
        raise ValueError(
            f"Invalid value in '{name}': {first} ({int(bad.sum())} bad of {arr.size}). "
            f"Allowed: finite values >= 0 {units}."
        )
    return arr


def check_window(tstart_ms: Any, tstop_ms: Any) -> tuple[float, float]:
    """Validate a time window in ms and return it as floats."""
    tstart = check_number("tstart_ms", tstart_ms, units="ms")
    tstop = check_number("tstop_ms", tstop_ms, units="ms")
    if tstop <= tstart:
        raise ValueError(
            f"Invalid time window: tstop_ms={tstop} <= tstart_ms={tstart}. "
            "Allowed: tstop_ms > tstart_ms."
        )
    return tstart, tstop


def attribute_rows(attributes: Any, node_ids: Any, population: str | None = None) -> np.ndarray:
    """The row of each node id in ``attributes`` (a DataFrame indexed by node id).

    Parameters
    ----------
    attributes : pandas.DataFrame
        Node attributes, one row per node id.
    node_ids : array_like of int
        The nodes whose rows are wanted.
    population : str, optional
        Named in the error.

    Returns
    -------
    ndarray of int
        Positions into ``attributes``, aligned with ``node_ids``.

    Raises
    ------
    ValueError
        If the index is not node ids (integers), repeats one, or lacks a row of
        ``node_ids`` (the message shows a few).
    """
    import pandas as pd

    node_ids = np.asarray(node_ids)
    raw = np.asarray(attributes.index)
    try:  # integers, or whole numbers stored otherwise (never truncated: 1.7 is no id)
        as_int = raw.astype(np.int64)
        index = pd.Index(as_int) if np.array_equal(as_int, raw) else None
    except (TypeError, ValueError, OverflowError):
        index = None
    if index is None:
        problem = "its index is not node ids (integers)"
    elif not index.is_unique:
        problem = "its index repeats node ids"
    else:
        pos = index.get_indexer(node_ids.astype(np.int64))
        lost = node_ids[pos < 0]
        if not lost.size:
            return pos
        shown = ", ".join(str(int(i)) for i in lost[:5])
        problem = f"{lost.size} node(s) have no row, e.g. {shown}"
    where = f" for population '{population}'" if population is not None else ""
    raise ValueError(
        f"Invalid 'attributes'{where}: {problem}. Allowed: one row per node id (e.g. "
        "NodeSet.attributes)."
    )
