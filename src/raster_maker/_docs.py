"""Parameter tables of the registered generators, built from the code for the docs.

A generator's parameters are its dataclass fields (what :func:`raster_maker.make_model`,
the command line's ``--param`` and a BMTK config entry accept); their types and meanings
come from the ``Parameters`` sections of the class docstrings along its MRO (a subclass's
entry wins), read with numpydoc's docscrape. The documentation pages render these rows,
and ``tests/test_docs.py`` checks that every accepted parameter has a documented row and
that no docstring documents a parameter the generator does not accept, so the pages
cannot drift from the code.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any, NamedTuple

__all__ = [
    "ParamRow",
    "accepted_parameters",
    "documented_parameters",
    "parameter_rows",
    "parameter_table_rst",
    "generator_page_rst",
]

_UNIT_SUFFIXES = {"_ms": "ms", "_hz": "Hz", "_s": "s"}
_UNIT_IN_TEXT = re.compile(r"\((ms|Hz|s)\)")


class ParamRow(NamedTuple):
    """One row of a generator's parameter table."""

    name: str
    type: str
    unit: str
    default: str
    meaning: str


def accepted_parameters(cls: type) -> list[str]:
    """The parameter names a generator class accepts, in declaration order.

    Parameters
    ----------
    cls : type
        A registered generator class (a dataclass).

    Returns
    -------
    list of str
        Its dataclass field names (the ``ClassVar`` ``name`` is not one).
    """
    return [f.name for f in dataclasses.fields(cls)]


def documented_parameters(cls: type) -> dict[str, tuple[str, str]]:
    """The ``Parameters`` entries of a class and its bases, subclass first.

    Parameters
    ----------
    cls : type
        Any class with numpydoc docstrings.

    Returns
    -------
    dict
        Parameter name -> (type, description). An entry naming several parameters
        (``mean_hz, sd_hz : float``) gives each of them the same row.
    """
    from numpydoc.docscrape import NumpyDocString

    out: dict[str, tuple[str, str]] = {}
    for klass in cls.__mro__:
        doc = klass.__dict__.get("__doc__")
        if not doc:
            continue
        for p in NumpyDocString(doc)["Parameters"]:
            text = " ".join(" ".join(p.desc).split())
            for name in (n.strip() for n in p.name.split(",")):
                if name and name not in out:
                    out[name] = (p.type, text)
    return out


def _default(field: dataclasses.Field) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return dataclasses.MISSING


def _format_default(value: Any) -> str:
    if value is dataclasses.MISSING:
        return "required"
    if hasattr(value, "params") and callable(value.params) and not isinstance(value, type):
        value = value.params()
    try:
        return json.dumps(value)
    except TypeError:
        return repr(value)


def _unit(name: str, meaning: str) -> str:
    for suffix, unit in _UNIT_SUFFIXES.items():
        if name.endswith(suffix):
            return unit
    found = _UNIT_IN_TEXT.search(meaning)
    return found.group(1) if found else ""


def parameter_rows(cls: type) -> list[ParamRow]:
    """The parameter table of a generator class, one row per accepted parameter.

    Parameters
    ----------
    cls : type
        A registered generator class.

    Returns
    -------
    list of ParamRow
        Name, type, unit (from the name's suffix, else a ``(ms)``/``(Hz)`` in the
        text), default (JSON, ``"required"`` when there is none) and meaning; the class's
        own parameters first, then the inherited ones (spike process, ``transforms``).
        A parameter without a docstring entry has an empty type and
        meaning (the docs test fails on it).
    """
    docs = documented_parameters(cls)
    fields = dataclasses.fields(cls)
    own = [f for f in fields if f.name in cls.__dict__.get("__annotations__", {})]
    rows = []
    for field in own + [f for f in fields if f not in own]:
        typ, meaning = docs.get(field.name, ("", ""))
        rows.append(
            ParamRow(
                field.name,
                typ,
                _unit(field.name, meaning),
                _format_default(_default(field)),
                meaning,
            )
        )
    return rows


def _cell(text: str) -> str:
    return " ".join(text.split()) or " "


def parameter_table_rst(cls: type) -> str:
    """The parameter table of a generator as a reStructuredText list-table.

    Parameters
    ----------
    cls : type
        A registered generator class.

    Returns
    -------
    str
        The table (the descriptions keep their inline reST markup).
    """
    lines = [
        f".. list-table:: Parameters of ``{cls.name}``",
        "   :header-rows: 1",
        "   :widths: 15 15 6 14 50",
        "   :class: raster-maker-params",
        "",
        "   * - name",
        "     - type",
        "     - unit",
        "     - default",
        "     - meaning",
    ]
    for row in parameter_rows(cls):
        lines += [
            f"   * - ``{row.name}``",
            f"     - {_cell(row.type)}",
            f"     - {_cell(row.unit)}",
            f"     - ``{row.default}``",
            f"     - {_cell(row.meaning)}",
        ]
    return "\n".join(lines) + "\n"


def generator_page_rst(name: str, gallery: list[str] | None = None) -> str:
    """A documentation page for one registered generator.

    Parameters
    ----------
    name : str
        The generator's registered name.
    gallery : list of str, optional
        Document names of gallery examples that use it (linked from the page).

    Returns
    -------
    str
        reStructuredText: the class summary, the parameter table and how to call it
        from Python, the command line and a BMTK config.
    """
    from .registry import get_generator

    cls = get_generator(name)
    target = f"{cls.__module__}.{cls.__qualname__}"
    summary = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
    title = f"``{name}``"
    lines = [
        f".. _generator-{name}:",
        "",
        title,
        "=" * len(title),
        "",
        summary,
        "",
        f"Class: :class:`{target}`.",
        "",
        f".. currentmodule:: {cls.__module__}",
        "",
        parameter_table_rst(cls),
        "Every parameter is accepted, with the same name and meaning, by "
        ":func:`raster_maker.generate` (``params=``), by ``raster-maker generate "
        f"--generator {name} --param KEY=VALUE`` and by a BMTK config entry "
        f'``{{"module": "raster_maker", "generator": "{name}", ...}}`` '
        "(see :doc:`/guides/bmtk`).",
        "",
    ]
    if gallery:
        lines += ["Examples", "--------", ""]
        lines += [f"- :doc:`/{doc}`" for doc in gallery]
        lines.append("")
    return "\n".join(lines)
