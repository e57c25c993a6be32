"""``raster-maker validate``: check a spikes file (from any tool), optionally against a network."""

from __future__ import annotations

import argparse

HELP = """\
Check a SONATA spikes file and list every problem; exit status 1 if any is an error.

Always: the file opens (not truncated, damaged or a directory), root 'magic'/'version',
/spikes/<population> groups (not the old /spikes/gids layout), timestamps (float, units
"ms") and node_ids (unsigned integers) of equal length, 'sorting' an HDF5 enum that tells
the truth, no compression filter (libsonata readers lack gzip), finite times >= 0 ms (or
>= the recorded start of a window that begins before 0), node ids < 2**63, each node's
times in order, a well-formed generation record (raster_maker_* attributes) and metadata,
and libsonata can read it (if installed). Files written by other tools (e.g. BMTK's
to_sonata, which writes a string 'sorting' and gzip) are checked the same way. Every
problem a reader (stats, plot, inspect, replay) refuses a file for is reported here.

With --config (a SONATA simulation config): every population and node id exists in the
network, times lie in [run.tstart, run.tstop], no time <= 0 (an error for NEST), and the
node ids of an input reading this file lie in its node set.

  raster-maker validate SPIKES.h5 [--config CONFIG] [--strict]
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``validate`` sub-command to the ``raster-maker`` parser.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The sub-parsers of the main parser; the new parser's ``func`` is :func:`run`.
    """
    p = sub.add_parser(
        "validate",
        help="check a spikes file against SONATA (and a simulation config); list every problem",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("spikes", metavar="SPIKES.h5", help="SONATA spikes file")
    p.add_argument("--config", metavar="CONFIG", help="simulation config json to check against")
    p.add_argument("--strict", action="store_true", help="warnings also fail (exit status 1)")
    p.set_defaults(func=run)


def validate_spikes(path: str, config: str | None = None, strict: bool = False) -> tuple[int, str]:
    """Return the exit status and the report ``raster-maker validate`` prints.

    Parameters
    ----------
    path : str
        The spikes file (from any tool).
    config : str, optional
        A SONATA simulation config to check the file against (its network's populations
        and node ids, the run's window, the node sets of inputs reading the file).
    strict : bool
        Warnings fail too (exit status 1), not only errors.

    Returns
    -------
    status : int
        1 if any problem is an error (or, with ``strict``, a warning), else 0.
    text : str
        One line per problem (see :func:`raster_maker.validation.format_problems`) and
        a summary line, or ``'PATH: OK'``.

    See Also
    --------
    raster_maker.validation.validate_file : The problems, as objects.
    """
    from ..validation import format_problems, validate_file

    problems = validate_file(path, config)
    n_err = sum(p.severity == "error" for p in problems)
    n_warn = len(problems) - n_err
    if not problems:
        return 0, f"{path}: OK"
    text = f"{format_problems(problems)}\n{path}: {n_err} error(s), {n_warn} warning(s)"
    return int(n_err > 0 or (strict and n_warn > 0)), text


def run(args: argparse.Namespace) -> int:
    """Print the problems of ``args.spikes``; the exit status says if any is an error.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options (``spikes``, ``config``, ``strict``).

    Returns
    -------
    int
        The exit status of :func:`validate_spikes`: 1 if the file fails, else 0.
    """
    status, text = validate_spikes(args.spikes, args.config, args.strict)
    print(text)
    return status
