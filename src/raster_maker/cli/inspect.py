"""``raster-maker inspect``: what a spikes file holds, as a readable table."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

import h5py

from ..reading import SpikesFileError, check_spikes_file, population_names, sorting_claim

HELP = """\
Show the populations of a SONATA spikes file: spike counts, node ids and time range,
the 'sorting' attribute (as stored and its type), dtypes, compression, other attributes
and the raster_maker provenance (generator, seed, window, parameters) if there is one.
A malformed population is described as far as it can be, and what is wrong is printed
as an error line (exit status 1); run 'raster-maker validate' for every problem.

  raster-maker inspect SPIKES.h5 [--json]
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``inspect`` sub-command to the ``raster-maker`` parser.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The sub-parsers of the main parser; the new parser's ``func`` is :func:`run`.
    """
    p = sub.add_parser(
        "inspect",
        help="show the populations, counts, time range, sorting and provenance of a spikes file",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("spikes", metavar="SPIKES.h5", help="SONATA spikes file")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)


def _value(v: Any) -> str:
    if isinstance(v, (dict, list)):
        return json.dumps(v, sort_keys=True)
    return "-" if v is None else str(v)


def format_description(info: dict[str, Any]) -> str:
    """The result of :func:`~raster_maker.report.describe_file` as aligned text.

    Parameters
    ----------
    info : dict
        ``path``, ``attrs`` (the file's attributes) and ``populations``: one dict per
        population (``population``, counts, node-id and time ranges, ``sorting``,
        dtypes, ``compression``; optionally ``attrs``, ``provenance`` and
        ``metadata``). Missing values print as ``-``.

    Returns
    -------
    str
        The file's attributes, a table with one row per population, then per population
        its other attributes, provenance (``provenance.<key>``) and metadata.
    """
    lines = [f"file: {info['path']}"]
    lines += [f"  {k}: {_value(v)}" for k, v in info["attrs"].items()]
    pops = info["populations"]
    if not pops:
        return "\n".join([*lines, "no populations"])
    cols = [
        "population",
        "n_spikes",
        "n_nodes_firing",
        "node_id_min",
        "node_id_max",
        "t_first_ms",
        "t_last_ms",
        "sorting",
        "sorting_type",
        "timestamps_dtype",
        "node_ids_dtype",
        "compression",
    ]
    cells = [[_value(p.get(c)) for c in cols] for p in pops]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(cols)]
    lines.append("")
    lines.append("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    for p in pops:
        prov = p.get("provenance") or {}
        extra = {**p.get("attrs", {}), **{f"provenance.{k}": v for k, v in prov.items()}}
        if p.get("metadata"):
            extra["metadata"] = p["metadata"]
        if extra:
            lines += ["", f"[{p['population']}]"]
            lines += [f"  {k}: {_value(v)}" for k, v in extra.items()]
    return "\n".join(lines)


_FAILURES = (OSError, RuntimeError, KeyError, ValueError, TypeError, AttributeError, IndexError)


def inspect_file(path: str, as_json: bool = False) -> tuple[str, list[SpikesFileError]]:
    """The text ``raster-maker inspect`` prints, and what is wrong with the file.

    Every population is checked by the reading layer; the description covers what can be
    read even when some of it is malformed.

    Parameters
    ----------
    path : str
        The SONATA spikes file.
    as_json : bool, optional
        JSON (with a ``problems`` list) instead of the text table.

    Returns
    -------
    text : str
        The description (:func:`format_description`, or JSON).
    problems : list of SpikesFileError
        What is wrong with the file's populations (empty for a well-formed file).

    Raises
    ------
    SpikesFileError
        The file as a whole cannot be read (missing, not HDF5, truncated, no /spikes).
    """
    from ..report import describe_file

    problems = check_spikes_file(path)
    try:
        info = describe_file(path)
    except _FAILURES:  # something describe_file cannot take apart: say what can be said
        if not problems:
            raise
        info = _outline(path)
    if as_json:
        info["problems"] = [str(p) for p in problems]
        return json.dumps(info, indent=2, default=str), problems
    return format_description(info), problems


def inspect_spikes(path: str, as_json: bool = False) -> str:
    """The text ``raster-maker inspect`` prints (see :func:`inspect_file`).

    Parameters
    ----------
    path : str
        The SONATA spikes file.
    as_json : bool, optional
        JSON instead of the text table.

    Returns
    -------
    str
        The description; the problems :func:`inspect_file` finds are not in it.

    Raises
    ------
    SpikesFileError
        The file as a whole cannot be read.
    """
    return inspect_file(path, as_json)[0]


def _safely(read: Callable[..., Any], *args: Any) -> Any:
    try:
        return read(*args)
    except _FAILURES:
        return None


def _outline(path: str) -> dict[str, Any]:
    """Names, sizes, dtypes and labels of a file whose contents are partly malformed."""
    with h5py.File(path, "r") as h5:
        attrs = _safely(lambda: {k: str(v) for k, v in h5.attrs.items()}) or {}
        spikes = h5["spikes"]
        pops = [_population_outline(spikes[pop], pop) for pop in population_names(path)]
    return {"path": path, "attrs": attrs, "populations": pops}


def _population_outline(grp: h5py.Group, pop: str) -> dict[str, Any]:
    rec: dict[str, Any] = {"population": pop, "attrs": {}, "provenance": {}, "metadata": {}}
    for name in ("timestamps", "node_ids"):
        rec[f"{name}_dtype"] = _safely(_dtype_text, grp.get(name))
    ts = grp.get("timestamps")
    if isinstance(ts, h5py.Dataset):
        rec["n_spikes"] = _safely(len, ts)
        rec["compression"] = _safely(getattr, ts, "compression")
    label, mapping = _safely(sorting_claim, grp) or (None, None)
    rec["sorting"] = label
    rec["sorting_type"] = "enum" if mapping is not None else None
    return rec


def _dtype_text(obj: Any) -> str | None:
    return str(obj.dtype) if isinstance(obj, h5py.Dataset) else None


def run(args: argparse.Namespace) -> int:
    """Print the description of ``args.spikes`` and an error line per problem (stderr).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options (``spikes``, ``json``).

    Returns
    -------
    int
        The exit status: 1 if the file has problems, else 0.
    """
    text, problems = inspect_file(args.spikes, args.json)
    print(text)
    for problem in problems:
        print(f"raster-maker inspect: error: {problem}", file=sys.stderr)
    return 1 if problems else 0
