"""``raster-maker generate``: write the inputs of a simulation config, or one input directly."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from . import CLIError

logger = logging.getLogger("raster_maker")

HELP = """\
Two ways to call it:

  raster-maker generate CONFIG [--dry-run] [--force] [--only NAME ...]
      Write every input of a BMTK/SONATA simulation config whose module is
      "raster_maker" (e.g. ahead of an MPI run). A file whose recorded provenance
      matches the entry is reused unless --force.

  raster-maker generate --generator NAME --nodes SOURCE --node-set SET --tstop MS -o OUT.h5
                        [--tstart MS] [--seed N] [--param KEY=VALUE ...] [--force]
      One population from a network (a simulation/circuit config or a folder of
      *_nodes.h5 + *_node_types.csv) straight into a SONATA spikes file.
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``generate`` sub-command to the ``raster-maker`` parser.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The sub-parsers of the main parser; the new parser's ``func`` is :func:`run`.
    """
    p = sub.add_parser(
        "generate",
        help="generate input spike files (from a simulation config, or one node set)",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("config", nargs="?", help="simulation config json (config route)")
    p.add_argument("--dry-run", action="store_true", help="list what would be done; write nothing")
    p.add_argument("--force", action="store_true", help="regenerate / overwrite existing files")
    p.add_argument("--only", nargs="+", metavar="NAME", help="only these inputs of the config")
    p.add_argument("--generator", help="generator name (direct route); see --list")
    p.add_argument("--list", action="store_true", help="list the available generators and exit")
    p.add_argument("--nodes", help="network source: config json or folder with *_nodes.h5")
    p.add_argument("--node-set", help="node set name, population name, or a JSON filter")
    p.add_argument("-o", "--output", help="output SONATA spikes file (direct route)")
    p.add_argument("--tstart", type=float, default=0.0, help="start of the window (ms), default 0")
    p.add_argument("--tstop", type=float, help="end of the window (ms)")
    p.add_argument("--seed", type=int, help="root seed (default: drawn and recorded in the file)")
    p.add_argument(
        "--trials",
        type=int,
        help="draw N trials (same rates and assemblies, new spikes), one file each",
    )
    p.add_argument(
        "--redraw-rates",
        action="store_true",
        help="with --trials: draw per-unit rates and assemblies anew in every trial",
    )
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="generator parameter; VALUE is parsed as JSON when it can be (repeatable)",
    )
    p.set_defaults(func=run)


def _parse_params(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise CLIError(f"Invalid --param {pair!r}. Allowed: KEY=VALUE, e.g. rate_hz=10.")
        key, val = pair.split("=", 1)
        try:
            out[key] = json.loads(val)
        except json.JSONDecodeError:
            out[key] = val
    return out


def run(args: argparse.Namespace) -> int:
    """Do what ``raster-maker generate`` was asked: list, one node set, or a config.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options: ``--list`` prints the generators; ``--generator`` runs
        :func:`run_direct`; else the ``config`` goes to :func:`run_config`.

    Returns
    -------
    int
        The exit status (0).

    Raises
    ------
    CLIError
        If neither a config nor ``--generator`` is given.
    """
    if args.list:
        from ..registry import available_generators

        print("\n".join(available_generators()))
        return 0
    if args.generator:
        return run_direct(args)
    if not args.config:
        raise CLIError(
            "give a simulation CONFIG, or --generator with --nodes, --node-set, --tstop and -o"
        )
    return run_config(args.config, dry_run=args.dry_run, force=args.force, only=args.only)


def run_config(config_path: str, *, dry_run: bool = False, force: bool = False, only=None) -> int:
    """Generate every raster_maker input of a simulation config.

    Prints one line per input: its file, or with ``dry_run`` whether each trial's file
    would be reused or generated.

    Parameters
    ----------
    config_path : str
        The simulation config json.
    dry_run : bool, optional
        Only list what would be done; write nothing.
    force : bool, optional
        Regenerate matching files and overwrite any file.
    only : list of str, optional
        Only the inputs of these names.

    Returns
    -------
    int
        The exit status (0; also when the config has no raster_maker input, with a
        warning).

    Raises
    ------
    CLIError
        If a name in ``only`` is not a raster_maker input of the config.
    """
    from ..bmtk_inputs import _matching_file, ensure_input_file, input_request, raster_maker_inputs
    from ..nodesets import load_sim_config

    config = load_sim_config(config_path)
    inputs = raster_maker_inputs(config)
    if only:
        missing = sorted(set(only) - set(inputs))
        if missing:
            raise CLIError(
                f"no raster_maker input named {', '.join(missing)} in {config_path}; "
                f"inputs: {', '.join(inputs) or 'none'}"
            )
        inputs = {k: v for k, v in inputs.items() if k in only}
    if not inputs:
        logger.warning('no inputs with "module": "raster_maker" in %s', config_path)
        return 0
    for name, entry in inputs.items():
        if dry_run:
            req = input_request(config, name, entry, make_followed=False)
            for k in req.trial_indices():
                reuse = not force and _matching_file(req, k)
                action = "reuse" if reuse else "generate"
                print(
                    f"{action:9s} {name}: {req.generator} on '{req.population}' "
                    f"({req.node_ids.size} nodes, {req.tstart_ms:g}-{req.tstop_ms:g} ms, "
                    f"seed {req.seed if req.seed is not None else 'new'}"
                    f"{f', trial {k}' if req.trials else ''}) -> {req.file_for(k)}"
                )
            continue
        path = ensure_input_file(config, name, entry, force=force)
        print(f"{name}: {path}")
    return 0


def run_direct(args: argparse.Namespace) -> int:
    """Generate one node set straight into a file.

    Prints one line per file written (on MPI rank 0 only): spikes, nodes, seed, path.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options: ``generator``, ``nodes``, ``node_set`` (a name or a JSON
        filter), ``output``, ``tstart``, ``tstop``, ``seed``, ``param`` (``KEY=VALUE``
        strings, values parsed as JSON when they can be), ``trials``, ``redraw_rates``,
        ``force``, ``dry_run`` and ``quiet``.

    Returns
    -------
    int
        The exit status (0).

    Raises
    ------
    CLIError
        If ``--nodes``, ``--node-set``, ``-o`` or ``--tstop`` is missing, a ``--param``
        has no ``=``, or ``--redraw-rates`` is given without ``--trials``.
    """
    from ..generate import generate
    from ..nodesets import resolve_node_set

    for opt in ("nodes", "node_set", "output", "tstop"):
        if getattr(args, opt) is None:
            raise CLIError(f"--{opt.replace('_', '-')} is required with --generator")
    node_set: Any = args.node_set
    if node_set.lstrip().startswith("{"):
        node_set = json.loads(node_set)
    nodes = resolve_node_set(args.nodes, node_set)
    if args.dry_run:
        print(
            f"generate {args.generator} on '{nodes.population}' "
            f"({nodes.node_ids.size} nodes) -> {args.output}"
        )
        return 0
    if args.redraw_rates and not args.trials:
        raise CLIError("--redraw-rates needs --trials")
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    results = generate(
        args.generator,
        nodes.population,
        nodes.node_ids,
        args.tstart,
        args.tstop,
        params=_parse_params(args.param),
        seed=args.seed,
        attributes=nodes.attributes,
        output=args.output,
        overwrite=args.force,
        progress=None if not args.quiet else False,
        trials=args.trials,
        redraw_rates=args.redraw_rates,
    )
    from .._mpi import world

    comm = world()
    if comm is None or comm.Get_rank() == 0:
        for res in results if isinstance(results, list) else [results]:
            trial = f", trial {res.trial}" if args.trials else ""
            print(
                f"{res.population}: {res.n_spikes} spikes for {res.n_nodes} nodes "
                f"(seed {res.seed}{trial}) -> {res.path}"
            )
    return 0
