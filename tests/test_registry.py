"""The generator registry: built-ins, third-party entry points, clear errors; the progress bar."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest
from scipy import stats

import raster_maker as rm
from raster_maker import registry
from raster_maker.models import Block, RateModel


@dataclass
class Burst(RateModel):
    """A third-party model: every unit fires at 50 Hz for the whole window."""

    name: ClassVar[str] = "burst"

    def blocks(self, units, tstart_ms, tstop_ms, seed):
        grid = rm.Constant(1.0).evaluate(tstart_ms, tstop_ms, self.dt_ms)
        yield Block(units.node_ids, np.full(units.node_ids.size, 50.0), grid)


class _EntryPoint:
    name = "burst"
    value = "thirdparty.models:Burst"

    def load(self):
        return Burst


class _BrokenEntryPoint:
    name = "broken"
    value = "missing.module:Thing"

    def load(self):
        raise ImportError("No module named 'missing'")


@pytest.fixture
def plugins(monkeypatch):
    saved = dict(registry._REGISTRY)
    monkeypatch.setattr(registry, "_entry_points_loaded", False)
    monkeypatch.setattr(
        registry, "entry_points", lambda group: [_EntryPoint(), _BrokenEntryPoint()]
    )
    yield
    registry._REGISTRY.clear()
    registry._REGISTRY.update(saved)


def test_entry_point_generators_are_found(plugins, caplog):
    with caplog.at_level(logging.WARNING, logger="raster_maker"):
        names = rm.available_generators()
    assert "burst" in names and "functional_groups" in names
    assert "could not load generator entry point 'missing.module:Thing'" in caplog.text
    res = rm.generate("burst", "p", np.arange(10), 0.0, 1000.0, seed=1)
    mu = 10 * 50.0 * 1.0  # 10 units x 50 Hz x 1 s
    assert stats.poisson.ppf(1e-6, mu) <= res.n_spikes <= stats.poisson.isf(1e-6, mu)


def test_unknown_generator_lists_the_available():
    with pytest.raises(KeyError, match="Unknown generator 'nope'. Available: .*functional_groups"):
        registry.get_generator("nope")


def test_name_clash_is_refused():
    with pytest.raises(ValueError, match="'poisson' is already registered"):
        registry.register(Burst, name="poisson")


def test_progress_bar_only_when_asked(capsys):
    rm.generate("poisson", "p", np.arange(100), 0.0, 1000.0, seed=1, progress=True)
    assert "generating p" in capsys.readouterr().err
    rm.generate("poisson", "p", np.arange(100), 0.0, 1000.0, seed=1)  # not a terminal: none
    assert "generating" not in capsys.readouterr().err
