"""The ``raster-maker`` parser as the CLI page shows it.

The parsers' descriptions are plain text laid out for a terminal
(``RawDescriptionHelpFormatter``), not reStructuredText: shown as literal blocks, and the
one-line helps with their reST markup characters escaped, they render as ``--help``
prints them.
"""

from __future__ import annotations

import argparse
import copy
import textwrap

from raster_maker.cli import build_parser


def _literal(text: str | None) -> str | None:
    if not text or not text.strip():
        return text
    return "::\n\n" + textwrap.indent(textwrap.dedent(text).strip("\n"), "    ") + "\n"


def _escape(text: str | None) -> str | None:
    if not text:
        return text
    for ch in ("\\", "*", "`", "|", "_"):
        text = text.replace(ch, "\\" + ch)
    return text


def _fix(parser: argparse.ArgumentParser) -> None:
    if parser.formatter_class is argparse.RawDescriptionHelpFormatter:
        parser.description = _literal(parser.description)
        parser.epilog = _literal(parser.epilog)
    for action in parser._actions:
        action.help = _escape(action.help)
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _fix(sub)
            for choice in action._choices_actions:
                choice.help = _escape(choice.help)


def parser() -> argparse.ArgumentParser:
    """The ``raster-maker`` parser, its texts made safe for reStructuredText."""
    p = copy.deepcopy(build_parser())
    _fix(p)
    return p
