"""``raster-maker inspect``: what a spikes file holds, as a readable table."""

from __future__ import annotations

import argparse
import json
from typing import Any

import h5py

from . import CLIError

HELP = """\
Show the populations of a SONATA spikes file: spike counts, node ids and time range,
the 'sorting' attribute (as stored and its type), dtypes, compression, other attributes
and the raster_maker provenance (generator, seed, window, parameters) if there is one.

  raster-maker inspect SPIKES.h5 [--json]
"""


def register(sub: argparse._SubParsersAction) -> None:
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
    """The result of :func:`~raster_maker.report.describe_file` as aligned text."""
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
    cells = [[_value(p[c]) for c in cols] for p in pops]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(cols)]
    lines.append("")
    lines.append("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    for p in pops:
        extra = {**p["attrs"], **{f"provenance.{k}": v for k, v in p["provenance"].items()}}
        if p["metadata"]:
            extra["metadata"] = p["metadata"]
        if extra:
            lines += ["", f"[{p['population']}]"]
            lines += [f"  {k}: {_value(v)}" for k, v in extra.items()]
    return "\n".join(lines)


def inspect_spikes(path: str, as_json: bool = False) -> str:
    """The text ``raster-maker inspect`` prints."""
    from ..report import describe_file

    with h5py.File(path, "r") as h5:
        if not isinstance(h5.get("spikes"), h5py.Group):
            raise CLIError(
                f"'{path}' is an HDF5 file but not a SONATA spikes file (no /spikes group); "
                f"top-level objects: {', '.join(h5) or 'none'}."
            )
    info = describe_file(path)
    return json.dumps(info, indent=2, default=str) if as_json else format_description(info)


def run(args: argparse.Namespace) -> int:
    print(inspect_spikes(args.spikes, args.json))
    return 0
