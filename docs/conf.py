"""Sphinx configuration of the raster_maker documentation.

Build (from the repository root, after ``pip install -e '.[docs]'``)::

    sphinx-build -W --keep-going -n -b html docs docs/_build/html

Generated at build time (git-ignored): ``docs/api/index.rst`` and
``docs/api/raster_maker.*.rst`` (one page per public module),
``docs/generators/<name>.rst`` (one page per registered generator, its parameter table
made by :mod:`raster_maker._docs` from the code) and ``docs/auto_examples`` (the gallery,
executed from ``examples/gallery``).
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("agg")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE / "_ext"))

import raster_maker  # noqa: E402
from raster_maker import _docs  # noqa: E402
from raster_maker.registry import available_generators  # noqa: E402

project = "raster_maker"
author = "raster_maker developers"
copyright = "raster_maker developers"
release = raster_maker.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "sphinxarg.ext",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = [
    "_build",
    "**.ipynb_checkpoints",
    "auto_examples/**/*.py",
    "auto_examples/**/*.ipynb",
    "auto_examples/**/*.zip",
]

# -- broken links are errors ----------------------------------------------------------
# -n (nitpicky) makes every unresolved cross-reference a warning, -W makes warnings
# errors. Objects of other packages (no intersphinx: the build must work offline) and
# the type words of numpydoc ("optional", "array-like") are not targets.
nitpicky = True
nitpick_ignore_regex = [
    (
        r"py:.*",
        r"(np|numpy|pd|pandas|h5py|scipy|matplotlib|bmtk|libsonata|mpi4py|pynwb|"
        r"collections|typing|os|pathlib|argparse|concurrent|dataclasses|enum|io|"
        r"logging|types|builtins|_io)(\..*)?",
    ),
    (
        r"py:class",
        r"(optional|default.*|array[-_ ]like|.*-like|callable|path|PATH|"
        r"Figure|Axes|DataFrame|Series|Generator|SeedSequence|ndarray|"
        r"NDArray|ArrayLike|Path|PathLike|Any|Callable|Iterable|Iterator|"
        r"Mapping|Sequence|Literal|Self|NamedTuple|Event|Lock)",
    ),
    # private bases shown by :show-inheritance: are not documented
    (r"py:class", r"raster_maker\.(\w+\.)*_\w+(\.\w+)*"),
]

# -- autodoc / autosummary ------------------------------------------------------------
autosummary_generate = False  # the module pages below list and document every name
autosummary_imported_members = False
autosummary_ignore_module_all = False
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # the numpydoc Parameters section says it, with units
autodoc_inherit_docstrings = True
add_module_names = False

# -- numpydoc, and its validation of the public API -------------------------------------
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = False
numpydoc_xref_param_type = False
numpydoc_validate = True
# What a public name must have: a docstring (GL08), every parameter documented (PR01),
# no parameter documented that does not exist (PR02), a type for each (PR04), a Returns
# section when it returns something (RT01), a summary (SS01/ES01 are not required) and
# well formed sections (GL06/GL07: unknown or mis-ordered sections).
numpydoc_validation_checks = {"GL06", "GL07", "GL08", "PR01", "PR02", "PR04", "RT01", "SS01"}
# Every public name passes; only dunder and private members (dataclass machinery) are
# not checked.
numpydoc_validation_exclude = {
    r"\.__\w+__$",
    r"\._\w+$",
}

# -- the gallery -------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": [str(ROOT / "examples" / "gallery")],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py|/_",
    "abort_on_example_error": False,  # report every broken example, then fail (-W)
    "only_warn_on_example_error": False,
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": False,
    "plot_gallery": "True",
    "min_reported_time": 1,
    "show_memory": False,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "default_thumb_file": None,
}

# -- html --------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"raster_maker {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 7,
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars = {"index": []}
html_show_sourcelink = False

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
suppress_warnings = ["myst.xref_missing"] if os.environ.get("RM_DOCS_LAX") else []

# warnings from the documented code (e.g. numpydoc's "Unknown section") are build warnings
warnings.filterwarnings("default", module="numpydoc")


# -- one page per registered generator -----------------------------------------------------
def _gallery_uses(name: str) -> list[str]:
    """Gallery documents whose script names (or that mention) the generator."""
    out = []
    for path in sorted((ROOT / "examples" / "gallery").rglob("plot_*.py")):
        text = path.read_text()
        if name in path.stem or f'"{name}"' in text or f"'{name}'" in text:
            rel = path.relative_to(ROOT / "examples" / "gallery").with_suffix("")
            out.append(f"auto_examples/{rel.as_posix()}")
    return out


def write_generator_pages(app=None) -> None:
    """Write ``docs/generators/<name>.rst`` for every registered generator."""
    out = HERE / "generators"
    keep = {"index.rst"}
    names = available_generators()
    for old in out.glob("*.rst"):
        if old.name not in keep and old.stem not in names:
            old.unlink()
    for name in names:
        text = _docs.generator_page_rst(name, _gallery_uses(name))
        page = out / f"{name}.rst"
        if not page.exists() or page.read_text() != text:
            page.write_text(text)


# -- the API reference: every public module, found in the package ----------------------------
def public_modules() -> list[str]:
    """Every public module of the package (no leading underscore), sorted."""
    import pkgutil

    found = []
    for info in pkgutil.walk_packages(raster_maker.__path__, "raster_maker."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        found.append(info.name)
    return sorted(found)


def _public_names(modname: str) -> tuple[list[str], list[str], list[str]]:
    """Classes, exceptions and functions a module defines and makes public."""
    import importlib
    import inspect

    mod = importlib.import_module(modname)
    names = getattr(mod, "__all__", None)
    if names is None:
        names = [n for n in vars(mod) if not n.startswith("_")]
    classes, exceptions, functions = [], [], []
    for name in names:
        obj = getattr(mod, name, None)
        if getattr(obj, "__module__", None) != modname:
            continue  # re-exported: documented where it is defined
        if inspect.isclass(obj):
            (exceptions if issubclass(obj, BaseException) else classes).append(name)
        elif inspect.isfunction(obj):
            functions.append(name)
    return classes, exceptions, functions


def _public_data(modname: str) -> list[tuple[str, bool]]:
    """Constants a module assigns at its top level and lists in ``__all__``.

    Each as ``(name, documented)``: documented when the source gives it a doc comment
    (``#: ...`` above it, or a string below it), which autodoc shows.
    """
    import ast
    import importlib

    from sphinx.pycode import ModuleAnalyzer

    mod = importlib.import_module(modname)
    tree = ast.parse(Path(mod.__file__).read_text())
    assigned = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        assigned.update(t.id for t in targets if isinstance(t, ast.Name))
    docs = ModuleAnalyzer.for_module(modname).find_attr_docs()
    return [(n, ("", n) in docs) for n in getattr(mod, "__all__", ()) if n in assigned]


def _data_entry(modname: str, name: str, documented: bool) -> list[str]:
    """An entry for one constant (so ``:data:`` references to it resolve).

    autodoc would describe a constant without a doc comment by its type's docstring
    (``tuple``, ``dict``), so such a constant gets its value only.
    """
    if documented:
        return [f".. autodata:: {name}", ""]
    import importlib

    value = " ".join(repr(getattr(importlib.import_module(modname), name)).split())
    if len(value) > 200:
        value = value[:197] + "..."
    return [f".. py:data:: {name}", f"   :value: {value}", ""]


def _module_page(modname: str) -> str:
    classes, exceptions, functions = _public_names(modname)
    data = _public_data(modname)
    title = modname
    lines = [title, "=" * len(title), "", f".. automodule:: {modname}", "   :no-members:", ""]
    if classes or exceptions or functions:
        lines += [f".. currentmodule:: {modname}", "", ".. autosummary::", "   :nosignatures:", ""]
        lines += [f"   {n}" for n in classes + exceptions + functions]
        lines.append("")
    for name in classes + exceptions:
        lines += [f".. autoclass:: {name}", "   :members:", "   :show-inheritance:", ""]
    for name in functions:
        lines += [f".. autofunction:: {name}", ""]
    if data:
        lines += [f".. currentmodule:: {modname}", ""]
    for name, documented in data:
        lines += _data_entry(modname, name, documented)
    return "\n".join(lines)


def _write(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def write_api_pages(app=None) -> None:
    """Write ``docs/api/index.rst`` and one page per public module under ``docs/api/``."""
    modules = public_modules()
    api = HERE / "api"
    for old in api.glob("raster_maker.*.rst"):
        if old.stem not in modules:
            old.unlink()
    for modname in modules:
        _write(api / f"{modname}.rst", _module_page(modname))
    lines = [
        ".. _api:",
        "",
        "API reference",
        "=============",
        "",
        "Every public module of the package, generated from the numpydoc docstrings. The",
        "names most scripts need are importable from the package itself",
        "(:doc:`raster_maker </api/package>`); each is documented in the module that",
        "defines it. Generators are listed with their parameter tables under",
        ":doc:`/generators/index`.",
        "",
        ".. toctree::",
        "   :maxdepth: 1",
        "",
        "   package",
    ] + [f"   {name}" for name in modules]
    _write(api / "index.rst", "\n".join(lines) + "\n")


def write_optional_pages() -> None:
    """List the guide pages that exist yet (pages of generators still being written)."""
    pages = [name for name in ("correlated",) if (HERE / f"{name}.md").exists()]
    lines = [".. toctree::", "   :maxdepth: 1", ""] + [f"   /{name}" for name in pages]
    _write(HERE / "guides" / "optional_pages.inc", "\n".join(lines) + "\n" if pages else "")


write_api_pages()  # before the sources are read
# numpydoc would check a constant against its value's type docstring (tuple, dict): the
# constants' doc comments are not numpydoc docstrings, so they are not validated
numpydoc_validation_exclude |= {
    "^" + re.escape(f"{mod}.{name}") + "$"
    for mod in public_modules()
    for name, _ in _public_data(mod)
}
write_optional_pages()
write_generator_pages()


def setup(app):
    app.connect("builder-inited", write_generator_pages)
