"""The ``raster-maker`` command line: one sub-command per module in this package.

Each sub-command module defines ``register(subparsers)`` (adds its parser and sets
``func``) and a function doing the work; :func:`main` only parses and dispatches, so
tests call ``main([...])``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from .. import __version__
from ..reading import SpikesFileError

__all__ = ["main", "build_parser", "SUBCOMMANDS"]

#: The subcommands of ``raster-maker``.
SUBCOMMANDS = ("generate", "inspect", "validate", "stats", "plot")


class CLIError(Exception):
    """An error the command line reports as one clear line and exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    """The ``raster-maker`` argument parser, with every sub-command that is installed.

    Returns
    -------
    argparse.ArgumentParser
        Global options ``--version``, ``-q``/``--quiet`` and ``-v``/``--verbose``, and one
        sub-parser per module of :data:`SUBCOMMANDS` (registered by its ``register``).
    """
    parser = argparse.ArgumentParser(
        prog="raster-maker",
        description=(
            "Make, inspect and check input spike rasters (SONATA spikes.h5) for BMTK networks."
        ),
    )
    parser.add_argument("--version", action="version", version=f"raster-maker {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors; no progress bar")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as err:
            if err.name != f"{__name__}.{name}":
                raise
            continue  # a sub-command not built yet
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    User errors (a bad option or parameter, a missing or malformed file, an unknown
    name) are printed to stderr as one line, ``raster-maker <command>: error: ...``.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 for a user error or no sub-command (the help is printed), or
        the sub-command's own status (``validate`` returns 1 for an invalid file).

    Examples
    --------
    >>> import contextlib, io
    >>> from raster_maker.cli import main
    >>> out = io.StringIO()
    >>> with contextlib.redirect_stdout(out):
    ...     status = main(["generate", "--list"])
    >>> status, "poisson" in out.getvalue().split()
    (0, True)
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.ERROR if args.quiet else logging.DEBUG if args.verbose else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("raster_maker").setLevel(level)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (CLIError, SpikesFileError, OSError, KeyError, ValueError, TypeError) as err:
        # a malformed spikes file is a SpikesFileError (a ValueError) naming the file, the
        # population, the problem and the fix: one line, like every other user error
        msg = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"raster-maker {args.command}: error: {_one_line(msg)}", file=sys.stderr)
        return 2


def _one_line(msg: object) -> str:
    return " ".join(str(msg).split())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
