"""The bad-input matrix: each row is a clear error naming parameter, value and what is allowed."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
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


def _stim(**params):
    return {"assemblies": {"method": "random", "n": 2}, **params}


def _garbage_text(tmp_path):
    (tmp_path / "notes.txt").write_text("these are not spikes\n")
    return str(tmp_path / "notes.txt")


def _small_source(tmp_path):
    rm.write_spikes(tmp_path / "rec.h5", {"rec": (np.arange(5), np.full(5, 10.0))})
    return str(tmp_path / "rec.h5")


def _schedule(assembly, start, stop):
    row = {"assembly": assembly, "start_ms": start, "stop_ms": stop, "rate_hz": 10}
    return _stim(pattern="schedule", schedule=[row])


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
        r"Unknown generator 'pink_noise'\. Available: .*functional_groups, .*poisson",
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
    # -- stimulus ------------------------------------------------------------------------
    (
        "stimulus overlapping schedule rows",
        lambda t: _gen(
            "stimulus",
            params=_stim(
                pattern="schedule",
                schedule=[
                    {"assembly": "0", "start_ms": 0, "stop_ms": 50, "rate_hz": 10},
                    {"assembly": 0, "start_ms": 40, "stop_ms": 60, "rate_hz": 5},
                ],
            ),
        ),
        ValueError,
        r"Overlapping schedule rows for assembly '0': \[0, 50\) ms and \[40, 60\) ms",
    ),
    (
        "stimulus schedule times that do not increase",
        lambda t: _gen("stimulus", params=_schedule("1", 50, 20)),
        ValueError,
        r"'schedule\[0\]': start_ms=50, stop_ms=20. Allowed: stop_ms > start_ms",
    ),
    (
        "stimulus unknown assembly",
        lambda t: _gen("stimulus", params=_schedule("A", 0, 20)),
        ValueError,
        r"'schedule\[0\].assembly': 'A' is not an assembly. Allowed: a name \('0', '1'\)",
    ),
    (
        "stimulus ramp offsets outside the on-period",
        lambda t: _gen("stimulus", params=_stim(pattern="ramp", on_ms=50, ramp_off_ms=80)),
        ValueError,
        r"'ramp_off_ms': 80.0 ms.*0 <= ramp_on_ms <= ramp_off_ms <= on_ms \(50.0 ms\)",
    ),
    (
        "stimulus negative rate",
        lambda t: _gen("stimulus", params=_stim(off_hz=-2)),
        ValueError,
        r"'off_hz': -2.0 Hz. Allowed: >= 0",
    ),
    (
        "stimulus unknown pattern",
        lambda t: _gen("stimulus", params=_stim(pattern="burst")),
        ValueError,
        r"'pattern': 'burst'. Allowed: 'short', 'long', 'ramp', 'join', 'quit', 'fade', 'loop'",
    ),
    (
        "stimulus on_ms <= 0",
        lambda t: _gen("stimulus", params=_stim(on_ms=0)),
        ValueError,
        r"'on_ms': 0.0 ms. Allowed: > 0",
    ),
    (
        "stimulus more assemblies than units",
        lambda t: _gen("stimulus", params={"assemblies": {"method": "random", "n": 21}}),
        ValueError,
        r"'n': 21 assemblies for 20 units",
    ),
    (
        "stimulus empty assembly",
        lambda t: _gen(
            "stimulus", params={"assemblies": {"method": "lists", "assemblies": [[0], []]}}
        ),
        ValueError,
        r"Assembly '1' of population 'p' is empty",
    ),
    (
        "stimulus unknown attribute",
        lambda t: _gen(
            "stimulus",
            params={"assemblies": {"method": "by_attribute", "attribute": "layer"}},
            attributes=pd.DataFrame({"pop_name": ["a"] * 20}, index=IDS),
        ),
        KeyError,
        r"'layer' is not a node attribute of population 'p'; attributes: pop_name",
    ),
    (
        "rates by attribute with a value without entry",
        lambda t: _gen(
            params={"rate_hz": {"by": "pop_name", "values": {"a": 3.0}}},
            attributes=pd.DataFrame({"pop_name": ["a"] * 10 + ["b"] * 10}, index=IDS),
        ),
        ValueError,
        r"pop_name.*'b'",
    ),
    # -- layers, transforms, replay --------------------------------------------------------
    (
        "layers empty",
        lambda t: _gen("layers", params={"layers": []}),
        ValueError,
        r"Invalid value for 'layers': \[\]",
    ),
    (
        "unknown transform",
        lambda t: _gen(params={"transforms": [{"jitter": 2}]}),
        ValueError,
        r"Invalid transform 'jitter'\. Allowed: jitter_ms, keep, shift_ms",
    ),
    (
        "keep outside [0, 1]",
        lambda t: _gen(params={"transforms": [{"keep": 1.5}]}),
        ValueError,
        r"'keep': 1\.5\. Allowed: <= 1\.0",
    ),
    (
        "jitter longer than the window",
        lambda t: _gen(params={"transforms": [{"jitter_ms": 500.0}]}),
        ValueError,
        r"'jitter_ms': 500\.0 ms\. Allowed: shorter than the window \(100\.0 ms\)",
    ),
    (
        "replay source missing",
        lambda t: _gen("replay", params={"source": str(t / "nope.h5")}),
        FileNotFoundError,
        r"'source': '.*nope\.h5' does not exist.*Allowed: a SONATA spikes file",
    ),
    (
        "replay source not spikes",
        lambda t: _gen("replay", params={"source": _garbage_text(t)}),
        ValueError,
        r"cannot read '.*notes\.txt' as a spikes file.*Allowed: a SONATA .*BMTK CSV .*NWB",
    ),
    (
        "replay identity with too few trains",
        lambda t: _gen("replay", params={"source": _small_source(t)}),
        ValueError,
        r"'identity' needs a source train for every target node, but 15 of 20 .*Allowed: ",
    ),
    (
        "replay shuffle with too few trains",
        lambda t: _gen("replay", params={"source": _small_source(t), "mapping": "shuffle"}),
        ValueError,
        r"'shuffle' needs at least as many source trains as target nodes, but .* 5 trains",
    ),
    (
        "mip p_copy outside (0, 1]",
        lambda t: _gen("mip", params={"p_copy": 1.5}),
        ValueError,
        r"'p_copy': 1\.5\. Allowed: <= 1",
    ),
    (
        "sip coincidence rate above the rate",
        lambda t: _gen("sip", params={"rate_hz": 5.0, "coincidence_rate_hz": 6.0}),
        ValueError,
        r"'coincidence_rate_hz': 6\.0 Hz\. Allowed: 0 \.\. rate_hz \(5\.0 Hz\)",
    ),
    (
        "cpp amplitude distribution not summing to 1",
        lambda t: _gen("cpp", params={"amplitude_distribution": [0.2, 0.7]}),
        ValueError,
        r"'amplitude_distribution': it sums to 0\.9\. Allowed: .*summing to 1",
    ),
    (
        "cpp amplitude above the group size",
        lambda t: _gen("cpp", params={"amplitude_distribution": {21: 1.0}}),
        ValueError,
        r"events of 21 units, but group 'all' has only 20 units",
    ),
    (
        "cpp amplitude distribution all at 0",
        lambda t: _gen("cpp", params={"amplitude_distribution": [1.0]}),
        ValueError,
        r"A\[0\] = 1, so no event would involve any unit",
    ),
    (
        "correlated correlation outside [0, 1)",
        lambda t: _gen("correlated", params={"correlation": 1.0}),
        ValueError,
        r"'correlation': 1\.0\. Allowed: 0 <= correlation < 1",
    ),
    (
        "correlated target above the reachable maximum",
        lambda t: _gen(
            "correlated",
            params={"rate_hz": 0.01, "window_ms": 5.0, "tau_ms": 0.1, "correlation": 0.5},
        ),
        ValueError,
        r"'correlation': 0\.5\. Allowed: 0 <= correlation <= 0\.0749485, the largest reachable",
    ),
    (
        "correlated window not a multiple of dt",
        lambda t: _gen("correlated", params={"window_ms": 2.5}),
        ValueError,
        r"'window_ms': 2\.5 ms\. Allowed: a positive multiple of dt_ms = 1\.0 ms",
    ),
    (
        "correlated tau <= 0",
        lambda t: _gen("correlated", params={"tau_ms": 0.0}),
        ValueError,
        r"'tau_ms': 0\.0 ms\. Allowed: > 0",
    ),
    (
        "correlated between above within",
        lambda t: _gen(
            "correlated",
            params={"correlation": 0.1, "correlation_between": 0.2, "groups": {"by": "layer"}},
            attributes=pd.DataFrame({"layer": ["a", "b"] * 10}, index=IDS),
        ),
        ValueError,
        r"'correlation_between': 0\.2\. Allowed: 0 <= correlation_between <= correlation = 0\.1",
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


# -- requests that cannot fit: refused before anything is drawn or written --------------------
def test_a_rate_typo_that_would_fill_the_disk_is_refused_before_writing(tmp_path):
    # 1e7 Hz (for 10 Hz) passes the per-unit cap (1e8 spikes) but not the disk: 1e13
    # spikes, 160 TB
    out = tmp_path / "typo.h5"
    with pytest.raises(OSError, match=r"expects 1e\+13 spikes .* more than the .* GB free"):
        rm.generate("poisson", "p", np.arange(100_000), 0, 10_000, params={"rate_hz": 1e7},
                 seed=1, output=out)  # fmt: skip
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_spikes_that_cannot_fit_in_memory_are_refused_before_drawing():
    with pytest.raises(ValueError, match=r"in memory: more than half .*write them to a file"):
        rm.generate("poisson", "p", np.arange(100_000), 0, 10_000, params={"rate_hz": 1e6},
                 seed=1)  # fmt: skip
