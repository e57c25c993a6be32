"""The documentation cannot drift from the code.

- every registered generator's parameter table (what its docs page shows, built by
  raster_maker._docs from the code) lists exactly the parameters the generator accepts
  (make_model / --param / BMTK config keys), each with a type and a meaning, and no
  docstring documents a parameter the generator does not take;
- the example gallery has a script for every registered generator.

Building the site itself (warnings as errors, the gallery executed) is CI's job
(``sphinx-build -W --keep-going -n -b html docs docs/_build/html``).
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

import raster_maker
from raster_maker import _docs
from raster_maker.registry import available_generators, get_generator, make_model

pytest.importorskip("numpydoc")

GALLERY = Path(__file__).resolve().parents[1] / "examples" / "gallery"


def _all_generators() -> list[str]:
    # the docs import every public module (API pages), so every built-in registers
    for info in pkgutil.walk_packages(raster_maker.__path__, "raster_maker."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            importlib.import_module(info.name)
    return available_generators()


GENERATORS = _all_generators()


@pytest.mark.parametrize("name", GENERATORS)
def test_parameter_table_matches_accepted_parameters(name):
    cls = get_generator(name)
    rows = _docs.parameter_rows(cls)
    table = _docs.parameter_table_rst(cls)
    page = _docs.generator_page_rst(name)
    accepted = set(_docs.accepted_parameters(cls))
    for row in rows:
        assert row.type.strip(), f"{name}: parameter {row.name!r} has no type in the docstring"
        assert row.meaning.strip(), f"{name}: parameter {row.name!r} has no meaning"
        assert f"``{row.name}``" in table
    assert table in page
    stale = set(_docs.documented_parameters(cls)) - accepted
    assert not stale, f"{name}: docstring documents parameters it does not accept: {stale}"


@pytest.mark.parametrize("name", GENERATORS)
def test_make_model_names_the_parameters_it_takes(name):
    # (accepted_parameters and make_model read the same dataclass fields: this checks the
    # error message a user sees, not the documentation)
    cls = get_generator(name)
    accepted = _docs.accepted_parameters(cls)
    with pytest.raises(TypeError, match="Allowed: " + ", ".join(sorted(accepted)) + r"\."):
        make_model(name, {"no_such_parameter_xyz": 1})


def test_units_and_defaults_come_from_the_code():
    rows = {r.name: r for r in _docs.parameter_rows(get_generator("rhythmic"))}
    assert rows["frequency_hz"].unit == "Hz"
    assert rows["frequency_hz"].default == "8.0"
    assert rows["dt_ms"].unit == "ms"
    assert list(rows)[0] == "frequency_hz"  # the generator's own parameters come first


def test_gallery_covers_every_generator():
    stems = [p.stem for p in GALLERY.rglob("plot_*.py")]
    missing = [g for g in GENERATORS if not any(g in s for s in stems)]
    assert not missing, f"no gallery script examples/gallery/**/plot_*<name>*.py for {missing}"


def test_gallery_scripts_have_a_title_docstring():
    for path in GALLERY.rglob("plot_*.py"):
        text = path.read_text()
        assert text.startswith('"""'), f"{path.name}: sphinx-gallery needs a docstring title"
        title = text[3:].lstrip().splitlines()
        assert len(title) > 1 and set(title[1].strip()) == {"="}, path.name
