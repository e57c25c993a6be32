"""The bad-input matrix: each row is a clear error naming parameter, value and what is allowed."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

import raster_maker as rm
from raster_maker import nodesets
from raster_maker.cli import main

REPO = Path(__file__).resolve().parents[1]
NETWORK = REPO / "network"
IDS = np.arange(20)


def _gen(generator="poisson", **kw):
    args = dict(population="p", node_ids=IDS, tstart_ms=0.0, tstop_ms=100.0, seed=1)
    args.update(kw)
    return rm.generate(generator, **args)


def _config(tmp_path, entry):
    cfg = json.loads((REPO / "examples" / "bionet" / "config.json").read_text())
    cfg["manifest"]["$BASE_DIR"] = str(REPO / "examples" / "bionet")
    cfg["manifest"]["$INPUT_DIR"] = str(tmp_path)
    cfg["inputs"] = {"exc": entry}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    return path


def _entry(**drop_or_set):
    entry = {
        "input_type": "spikes",
        "module": "raster_maker",
        "generator": "poisson",
        "node_set": "exc_stim",
        "input_file": "$INPUT_DIR/exc.h5",
        "seed": 1,
    }
    for k, v in drop_or_set.items():
        if v is None:
            entry.pop(k)
        else:
            entry[k] = v
    return entry


def _existing_population(tmp_path):
    with rm.SpikesWriter(tmp_path / "s.h5") as w:
        _gen(output=w)
        _gen(output=w)


def _corrupted(tmp_path, command):
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00garbage" * 100)
    return main([command, str(bad)])


def _not_sonata(tmp_path, command):
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as h5:
        h5["data"] = np.arange(3)
    return main([command, str(other)])


def _legacy_unknown_dataset(tmp_path):
    with rm.SonataWriter(
        tmp_path / "l.h5", ["spikes", "p"], ["timestamps", "node_ids"], [float, np.uint64]
    ) as w:
        w.append_ds([1.0], "times")


def _legacy_negative_repeat(tmp_path):
    with rm.SonataWriter(
        tmp_path / "l.h5", ["spikes", "p"], ["timestamps", "node_ids"], [float, np.uint64]
    ) as w:
        w.append_repeat("node_ids", 3, -1)


def _legacy_no_rate_profile(tmp_path):
    with rm.SonataWriter(
        tmp_path / "l.h5", ["spikes", "p"], ["timestamps", "node_ids"], [float, np.uint64]
    ) as w:
        rm.make_save_spikes(w, False, np.ones(3), numUnits=3)


# (id, callable(tmp_path), exception, message pattern)
MATRIX = [
    (
        "negative rate",
        lambda t: _gen(params={"rate_hz": -1.0}),
        ValueError,
        r"'rate_hz': -1\.0.*>= 0",
    ),
    (
        "NaN rate",
        lambda t: _gen(params={"rate_hz": float("nan")}),
        ValueError,
        r"'rate_hz': nan.*finite",
    ),
    (
        "infinite rate",
        lambda t: _gen(params={"rate_hz": float("inf")}),
        ValueError,
        r"'rate_hz': inf.*finite",
    ),
    ("negative profile", lambda t: rm.FromArray([1.0, -2.0]), ValueError, r"'values': -2\.0.*>= 0"),
    ("NaN profile", lambda t: rm.FromArray([1.0, np.nan]), ValueError, r"'values': nan.*finite"),
    (
        "infinite profile",
        lambda t: rm.FromCallable(lambda x: np.full_like(x, np.inf)).evaluate(0, 10),
        ValueError,
        r"profile function values.*inf.*finite",
    ),
    (
        "tstop <= tstart",
        lambda t: _gen(tstart_ms=100.0, tstop_ms=100.0),
        ValueError,
        r"tstop_ms=100\.0 <= tstart_ms=100\.0",
    ),
    ("dt <= 0", lambda t: _gen(params={"dt_ms": 0.0}), ValueError, r"'dt_ms': 0\.0.*> 0"),
    (
        "dt so small the grid would not fit in memory",
        lambda t: _gen(params={"dt_ms": 1e-12}),
        ValueError,
        r"'dt_ms': 1e-12 ms makes 1e\+14 bins.*Allowed: at most",
    ),
    (
        "rate so high a train would not fit in memory",
        lambda t: _gen(params={"rate_hz": 1e12}),
        ValueError,
        r"expect 1e\+11 spikes.*Allowed: at most 1e\+08 per unit",
    ),
    (
        "refractory too long for the rate",
        lambda t: _gen(params={"rate_hz": 200.0, "refractory_ms": 5.0}),
        ValueError,
        r"'refractory_ms': 5\.0 ms is too long for a rate of 200 Hz.*< 1000 / rate_hz = 5 ms",
    ),
    (
        "unknown generator",
        lambda t: _gen("pink_noise"),
        KeyError,
        r"Unknown generator 'pink_noise'\. Available: functional_groups, .*poisson",
    ),
    (
        "unknown generator parameter",
        lambda t: _gen(params={"rate": 5}),
        TypeError,
        r"Unknown parameter\(s\) 'rate'.*Allowed: .*rate_hz",
    ),
    (
        "unknown population",
        lambda t: nodesets.resolve_node_set(NETWORK, {"population": "excit"}),
        ValueError,
        r"excit.*exc_stim",
    ),
    (
        "unknown node set",
        lambda t: nodesets.resolve_node_set(NETWORK, "exc"),
        KeyError,
        r"No node set 'exc'.*available node sets:.*populations:.*exc_stim",
    ),
    (
        "empty node set",
        lambda t: _gen(node_ids=np.array([], dtype=int)),
        ValueError,
        r"Empty node set for population 'p'",
    ),
    (
        "population already in the output file",
        _existing_population,
        ValueError,
        r"Population 'p' is already in",
    ),
    (
        "config input misses a field",
        lambda t: main(["generate", str(_config(t, _entry(node_set=None)))]),
        SystemExit,
        None,
    ),
    ("corrupted HDF5 to inspect", lambda t: _corrupted(t, "inspect"), SystemExit, None),
    ("corrupted HDF5 to validate", lambda t: _corrupted(t, "validate"), SystemExit, None),
    ("corrupted HDF5 to plot", lambda t: _corrupted(t, "plot"), SystemExit, None),
    ("non-SONATA HDF5 to inspect", lambda t: _not_sonata(t, "inspect"), SystemExit, None),
    ("non-SONATA HDF5 to validate", lambda t: _not_sonata(t, "validate"), SystemExit, None),
    ("non-SONATA HDF5 to plot", lambda t: _not_sonata(t, "plot"), SystemExit, None),
    (
        "legacy writer unknown dataset",
        _legacy_unknown_dataset,
        KeyError,
        r"'times'.*timestamps.*node_ids",
    ),
    ("legacy writer negative repeat", _legacy_negative_repeat, ValueError, r"-1"),
    (
        "legacy make_save_spikes without rateProf",
        lambda t: _legacy_no_rate_profile(t),
        ValueError,
        r"rateProf",
    ),
    ("negative seed", lambda t: _gen(seed=-3), ValueError, r"'seed': -3.*>= 0"),
    (
        "bad sorting",
        lambda t: rm.SpikesWriter(t / "x.h5", sorting="time"),
        ValueError,
        r"'sorting': 'time'. Allowed: 'none', 'by_id', 'by_time'",
    ),
]


@pytest.mark.parametrize(
    ("case", "exc", "match"), [(m[1], m[2], m[3]) for m in MATRIX], ids=[m[0] for m in MATRIX]
)
def test_bad_input(tmp_path, capsys, case, exc, match):
    if exc is SystemExit:  # command-line rows: exit status 2 and one clear error line
        status = case(tmp_path)
        out = capsys.readouterr()
        assert status != 0
        text = out.out + out.err
        assert "error" in text.lower() and "Traceback" not in text
        return
    with pytest.raises(exc, match=match):
        case(tmp_path)
