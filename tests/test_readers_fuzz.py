"""Fuzzing every reader with malformed SONATA spikes files (hypothesis, derandomised).

Each example builds one file: missing or misplaced groups and datasets, wrong dtypes and
shapes, unequal lengths, NaN/inf/negative times, negative or huge node ids, a lying or
foreign ``sorting`` attribute, odd units, gzip, empty and many populations, malformed
generation records and metadata; or no HDF5 at all (truncated, random bytes, empty, a
directory, a symbolic link, a broken one, nothing). Every reading API and command then
either succeeds or fails with :class:`~raster_maker.reading.SpikesFileError` (commands: one
``error:`` line naming the file, exit status != 0, no traceback) and writes nothing else.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import tempfile
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from raster_maker.cli import main
from raster_maker.reading import (
    SpikesFileError,
    SpikesFileUnreadable,
    check_spikes_file,
    population_names,
    read_metadata,
    read_provenance,
    read_spike_arrays,
    read_spikes,
    to_spike_trains,
)
from raster_maker.sonata import SORTING_DTYPE
from raster_maker.validation import validate_file

SETTINGS = dict(
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
NAN = float("nan")

# -- what a file holds ------------------------------------------------------------------
OK = "ok"


def _inject(ts_value: float, id_value: int, **changes):
    """A fault that puts one spike ``(id_value, ts_value)`` among the others."""

    def fault(pop: dict, k: int) -> None:
        k = k % (len(pop["ts"]) + 1)
        pop["ts"].insert(k, ts_value)
        pop["ids"].insert(k, id_value)
        pop.update(changes)

    return fault


def _set(**changes):
    return lambda pop, k: pop.update(changes)


def _drop_id(pop: dict, k: int) -> None:
    if pop["ids"]:
        pop["ids"].pop()
    else:
        pop["ts"].append(1.0)


# one population's possible faults (an example draws up to two; none is a good file)
FAULTS = {
    **{f"ts_{form}": _set(ts_form=form) for form in ("float32", "int64", "str", "2d", "scalar")},
    **{f"ts_{form}": _set(ts_form=form) for form in ("missing", "group")},
    **{f"ids_{form}": _set(ids_form=form) for form in ("int64", "int32", "float64", "str", "bool")},
    **{f"ids_{form}": _set(ids_form=form) for form in ("missing", "group", "2d")},
    "ids_longer": lambda pop, k: pop["ids"].append(3),
    "ids_shorter": _drop_id,
    "empty": lambda pop, k: pop.update(ts=[], ids=[]),
    "nan_time": _inject(float("nan"), 1),
    "inf_time": _inject(float("inf"), 1),
    "minus_inf_time": _inject(-float("inf"), 1),
    "negative_time": _inject(-1.0, 1),
    "tiny_negative_time": _inject(-1e-9, 1),
    "early_window": _inject(-50.0, 1, provenance="early"),  # allowed: window starts at -100
    "zero_time": _inject(0.0, 1),
    "negative_id": _inject(1.0, -1, ids_form="int64"),
    "wrapped_negative_id": _inject(1.0, -1),  # stored as uint64: 2**64 - 1
    "huge_id": _inject(1.0, 2**63),
    "large_id": _inject(1.0, 2**62),  # allowed
    **{f"claims_{label}": _set(sorting="enum", label=label) for label in ("by_id", "by_time")},
    **{f"label_{x}": _set(sorting="str", label=x) for x in ("by_time", "time", "id", "unknown")},
    "label_sideways": _set(sorting="str", label="sideways"),
    "label_bytes": _set(sorting="bytes", label="by_id"),
    "enum_7": _set(sorting="enum7"),
    "sorting_int": _set(sorting="int"),
    "sorting_array": _set(sorting="array"),
    "sorting_absent": _set(sorting="absent"),
    "units_s": _set(units="s"),
    "units_us": _set(units="us"),
    "units_bytes": _set(units=b"ms"),
    "units_absent": _set(units=None),
    "gzip": _set(gzip=True),
    **{
        f"provenance_{bad}": _set(provenance=bad)
        for bad in ("params", "seed", "negative_seed", "window", "tstart_text")
    },
    **{
        f"metadata_{bad}": _set(metadata=bad)
        for bad in ("index_length", "index_range", "profiles", "ids_2d", "group", "rate_nan")
    },
}


@st.composite
def populations(draw, name: str) -> dict:
    n = draw(st.integers(0, 25))
    pop = {
        "name": name,
        "ts": draw(st.lists(st.floats(0.0, 3000.0), min_size=n, max_size=n)),
        "ids": draw(st.lists(st.integers(0, 40), min_size=n, max_size=n)),
        "ts_form": OK,
        "ids_form": OK,
        "order": draw(st.sampled_from([None, "time", "id"])),
        "sorting": OK,  # the label the data really has
        "label": "none",
        "units": "ms",
        "gzip": False,
        "provenance": draw(st.sampled_from([None, OK])),
        "metadata": draw(st.sampled_from([None, OK])),
    }
    for fault in draw(st.lists(st.sampled_from(sorted(FAULTS)), max_size=2)):
        FAULTS[fault](pop, draw(st.integers(0, 30)))
    return pop


@st.composite
def files(draw) -> dict:
    n_pops = draw(st.sampled_from([1, 1, 1, 2, 3, 0, 12]))
    names = [f"p{i}" for i in range(n_pops)]
    if n_pops and draw(st.booleans()):
        names[0] = draw(st.sampled_from(["exc stim", "ünïcode", "x.y"]))
    return {
        "kind": draw(
            st.sampled_from(
                ["h5"] * 24
                + ["truncated", "garbage", "hdf5_garbage", "empty", "directory", "symlink"]
                + ["broken_symlink", "missing"]
            )
        ),
        "root": draw(
            st.sampled_from([OK] * 16 + ["no_spikes", "spikes_dataset", "old_layout", "stray"])
        ),
        "pops": [draw(populations(name)) for name in names],
        "cut": draw(st.floats(0.02, 0.98)),
        "garbage": draw(st.binary(max_size=3000)),
    }


# -- building it ------------------------------------------------------------------------
def _ids_array(values: list[int], form: str) -> np.ndarray:
    big = np.array(values, dtype=object)
    if form in (OK, "2d"):  # a negative id written as unsigned wraps, as a careless writer's
        return np.array([v % 2**64 for v in values], dtype=np.uint64)
    if form == "int64":
        return np.array([min(v, 2**63 - 1) for v in values], dtype=np.int64)
    if form == "int32":
        return np.array([max(min(v, 2**31 - 1), -(2**31)) for v in values], dtype=np.int32)
    if form == "float64":
        return big.astype(np.float64)
    if form == "bool":
        return np.array([v != 0 for v in values], dtype=bool)
    return np.array([str(v).encode() for v in values], dtype="S")


def _ts_array(values: list[float], form: str) -> np.ndarray:
    ts = np.array(values, dtype=np.float64)
    if form == "float32":
        return ts.astype(np.float32)
    if form == "int64":
        return np.nan_to_num(ts, nan=0.0, posinf=0.0, neginf=0.0).astype(np.int64)
    if form == "str":
        return np.array([repr(v).encode() for v in values], dtype="S")
    return ts


def _dataset(grp: h5py.Group, name: str, data: np.ndarray, form: str, gzip: bool) -> None:
    if form == "missing":
        return
    if form == "group":
        grp.create_group(name)
        return
    if form == "2d":
        data = np.stack([data, data])
    if form == "scalar":
        data = data[0] if data.size else np.float64(1.0)
    kw = {"compression": "gzip"} if gzip and np.ndim(data) else {}
    grp.create_dataset(name, data=data, **kw)


def _sorting(grp: h5py.Group, pop: dict, ts: list[float], ids: list[int]) -> None:
    how, label = pop["sorting"], pop["label"]
    if how == OK:  # the label the data really has
        ts = np.asarray(ts, float)
        ids = np.array([v % 2**64 for v in ids], dtype=np.uint64)
        sorted_ts = ts.size < 2 or bool(np.all(ts[1:] >= ts[:-1]))
        sorted_ids = ids.size < 2 or bool(np.all(ids[1:] >= ids[:-1]))
        true = "by_time" if sorted_ts else "by_id" if sorted_ids else "none"
        grp.attrs.create("sorting", ["none", "by_id", "by_time"].index(true), dtype=SORTING_DTYPE)
    elif how == "enum" and label in ("none", "by_id", "by_time"):
        grp.attrs.create("sorting", ["none", "by_id", "by_time"].index(label), dtype=SORTING_DTYPE)
    elif how in ("enum", "enum7"):
        grp.attrs.create("sorting", 7, dtype=SORTING_DTYPE)
    elif how == "str":
        grp.attrs["sorting"] = label
    elif how == "bytes":
        grp.attrs["sorting"] = np.bytes_(label.encode())
    elif how == "int":
        grp.attrs["sorting"] = np.uint8(2)
    elif how == "array":
        grp.attrs["sorting"] = np.array([1, 2], dtype=np.uint8)


def _order(pop: dict) -> tuple[list[float], list[int]]:
    ts, ids = list(pop["ts"]), list(pop["ids"])
    if pop["order"] is None or len(ts) != len(ids):
        return ts, ids
    key = (lambda i: (ts[i] != ts[i], ts[i])) if pop["order"] == "time" else (lambda i: ids[i])
    order = sorted(range(len(ts)), key=key)
    return [ts[i] for i in order], [ids[i] for i in order]


PROVENANCE = {
    "raster_maker_generator": "poisson",
    "raster_maker_params": json.dumps({"rate_hz": 5.0}),
    "raster_maker_seed": "12345678901234567890",
    "raster_maker_tstart_ms": 0.0,
    "raster_maker_tstop_ms": 3000.0,
    "raster_maker_n_nodes": 41,
}
BAD_PROVENANCE = {
    "early": {"raster_maker_tstart_ms": -100.0},
    "params": {"raster_maker_params": "{rate_hz: 5"},
    "seed": {"raster_maker_seed": "abc"},
    "negative_seed": {"raster_maker_seed": -3},
    "window": {"raster_maker_tstart_ms": 10.0, "raster_maker_tstop_ms": 10.0},
    "tstart_text": {"raster_maker_tstart_ms": "soon"},
}


def _metadata(h5: h5py.File, name: str, how: str) -> None:
    grp = h5.require_group("raster_maker").create_group(name)
    ids = np.arange(41, dtype=np.uint64)
    index = (ids % 2).astype(np.int32)
    data = {
        "node_ids": ids,
        "group_index": index,
        "group_keys": np.array(["a", "b"], dtype=h5py.string_dtype()),
        "target_rate_hz": np.full(41, 5.0),
        "profiles": np.ones((2, 30), np.float32),
        "profile_edges_ms": np.linspace(0.0, 3000.0, 31),
    }
    if how == "index_length":
        data["group_index"] = index[:-3]
    elif how == "index_range":
        data["group_index"] = index + 5
    elif how == "profiles":
        data["profiles"] = np.ones((3, 7), np.float32)
    elif how == "ids_2d":
        data["node_ids"] = np.stack([ids, ids])
    elif how == "rate_nan":
        data["target_rate_hz"] = np.full(41, NAN)
    for key, val in data.items():
        grp.create_dataset(key, data=val)
    if how == "group":
        grp.create_group("nested")


def _write_h5(path: Path, spec: dict) -> None:
    with h5py.File(path, "w") as h5:
        root = spec["root"]
        if root == "no_spikes":
            h5.create_dataset("data", data=np.arange(3))
            return
        if root == "spikes_dataset":
            h5.create_dataset("spikes", data=np.arange(3))
            return
        spikes = h5.create_group("spikes")
        if root == "old_layout":
            spikes.create_dataset("gids", data=np.arange(3, dtype=np.uint64))
            spikes.create_dataset("timestamps", data=np.arange(3.0))
            return
        if root == "stray":
            spikes.create_dataset("notes", data=np.arange(2))
        for pop in spec["pops"]:
            grp = spikes.create_group(pop["name"])
            ts, ids = _order(pop)
            _dataset(grp, "timestamps", _ts_array(ts, pop["ts_form"]), pop["ts_form"], pop["gzip"])
            _dataset(
                grp, "node_ids", _ids_array(ids, pop["ids_form"]), pop["ids_form"], pop["gzip"]
            )
            ds = grp.get("timestamps")
            if isinstance(ds, h5py.Dataset) and pop["units"] is not None:
                ds.attrs["units"] = pop["units"]
            _sorting(grp, pop, ts, ids)
            if pop["provenance"] is not None:
                attrs = dict(PROVENANCE, **BAD_PROVENANCE.get(pop["provenance"], {}))
                for key, val in attrs.items():
                    grp.attrs[key] = val
            if pop["metadata"] is not None:
                _metadata(h5, pop["name"], pop["metadata"])


def build(spec: dict, folder: Path) -> Path:
    """The file (or not-a-file) an example describes, in ``folder``."""
    path = folder / "spikes.h5"
    kind = spec["kind"]
    if kind in ("h5", "truncated", "symlink"):
        target = folder / "real.h5" if kind == "symlink" else path
        _write_h5(target, spec)
        if kind == "truncated":
            data = path.read_bytes()
            path.write_bytes(data[: max(1, int(len(data) * spec["cut"]))])
        if kind == "symlink":
            path.symlink_to(target)
    elif kind == "garbage":
        path.write_bytes(spec["garbage"] or b"x")
    elif kind == "hdf5_garbage":
        path.write_bytes(b"\x89HDF\r\n\x1a\n" + spec["garbage"])
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "directory":
        path.mkdir()
    elif kind == "broken_symlink":
        path.symlink_to(folder / "gone.h5")
    return path  # "missing": nothing there


# -- what every reader must do ----------------------------------------------------------
def _documented(call, path: Path):
    """Run ``call()``: it returns, or raises a SpikesFileError naming ``path``."""
    try:
        return call()
    except SpikesFileError as err:
        assert err.path == str(path) and f"'{path}'" in str(err), err
        assert "\n" not in str(err) and err.problem and err.fix and err.code
        return err


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


def _check_command(argv: list[str], path: Path, ok: tuple[int, ...] = (0,)) -> int:
    status, out, err = _run(argv)
    text = out + err
    assert "Traceback" not in text, text
    if status in ok:
        return status
    assert status != 0
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines, f"{argv}: exit status {status} without an error line"
    for line in lines:
        assert line.startswith(f"raster-maker {argv[0]}: error: "), line
        assert str(path) in line, line
    if argv[0] != "inspect":
        assert len(lines) == 1, err
    return status


def _files_in(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def check_api(path: Path, spec: dict) -> None:
    arrays = _documented(lambda: read_spike_arrays(path), path)
    frame = _documented(lambda: read_spikes(path, check_sorting=False), path)
    names = _documented(lambda: population_names(path), path)
    if isinstance(arrays, dict):  # read: everything in it is what the checks promise
        for ids, ts in arrays.values():
            assert ids.dtype == np.uint64 and ts.dtype == np.float64 and ids.shape == ts.shape
            assert np.all(np.isfinite(ts)) and np.all(ids < 2**63)
        assert list(arrays) == names
    if not isinstance(frame, SpikesFileError):
        assert list(frame.columns) == ["population", "node_ids", "timestamps"]
    for pop in spec["pops"]:
        _documented(lambda pop=pop: read_provenance(path, pop["name"]), path)
        _documented(lambda pop=pop: read_metadata(path, pop["name"]), path)
    found = _documented(lambda: check_spikes_file(path), path)
    if isinstance(arrays, SpikesFileError) and not isinstance(arrays, SpikesFileUnreadable):
        # whatever a reader refuses, validate reports as an error
        assert isinstance(found, SpikesFileError) or found
        assert any(p.severity == "error" for p in validate_file(path)), arrays
    if isinstance(arrays, dict) and arrays:
        _documented(lambda: to_spike_trains(path), path)


def check_commands(path: Path, folder: Path) -> None:
    figure = folder / "figure.png"
    before = _files_in(folder)
    _check_command(["stats", str(path)], path)
    status = _check_command(["plot", str(path), "-o", str(figure), "--dpi", "20"], path)
    if status == 0:
        assert figure.stat().st_size > 0
        figure.unlink()
    assert not figure.exists(), "a failed plot left its figure behind"
    _check_command(["inspect", str(path)], path, ok=(0, 1))
    _check_command(["validate", str(path)], path, ok=(0, 1))
    assert _files_in(folder) == before, "a reading command wrote a file"


@contextlib.contextmanager
def _folder():
    folder = Path(tempfile.mkdtemp(prefix="fuzz"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
@settings(max_examples=200, **SETTINGS)
@given(spec=files())
def test_reading_api_on_malformed_files(spec):
    with _folder() as folder:
        path = build(spec, folder)
        before = _files_in(folder)
        check_api(path, spec)
        assert _files_in(folder) == before


@pytest.mark.slow
@settings(max_examples=60, **SETTINGS)
@given(spec=files())
def test_commands_on_malformed_files(spec):
    with _folder() as folder:
        path = build(spec, folder)
        check_commands(path, folder)


def test_fuzz_builder_makes_readable_files_too():
    """The strategies do reach the good path (else the fuzz would test only refusals)."""
    spec = {
        "kind": "h5",
        "root": OK,
        "cut": 0.5,
        "garbage": b"",
        "pops": [
            {
                "name": "p0",
                "ts": [1.0, 2.0, 3.0],
                "ids": [0, 1, 1],
                "ts_form": OK,
                "ids_form": OK,
                "order": None,
                "sorting": OK,
                "label": "none",
                "units": "ms",
                "gzip": True,
                "provenance": OK,
                "metadata": OK,
            }
        ],
    }
    with _folder() as folder:
        path = build(spec, folder)
        assert set(read_spike_arrays(path)) == {"p0"}
        assert read_provenance(path, "p0")["seed"] == 12345678901234567890
        assert read_metadata(path, "p0")["group_index"].size == 41
        check_commands(path, folder)


# -- every fault alone, with the error it must give ----------------------------------------
# the code read_spike_arrays / read_provenance / read_metadata raises (None: the file reads)
EXPECTED = {
    "ts_float32": None,
    "ts_int64": "dtype",
    "ts_str": "dtype",
    "ts_2d": "shape",
    "ts_scalar": "shape",
    "ts_missing": "missing_dataset",
    "ts_group": "missing_dataset",
    "ids_int64": None,
    "ids_int32": None,
    "ids_float64": "dtype",
    "ids_str": "dtype",
    "ids_bool": "dtype",
    "ids_missing": "missing_dataset",
    "ids_group": "missing_dataset",
    "ids_2d": "shape",
    "ids_longer": "shape",
    "ids_shorter": "shape",
    "empty": None,
    "nan_time": "non_finite_time",
    "inf_time": "non_finite_time",
    "minus_inf_time": "non_finite_time",
    "negative_time": "negative_time",
    "tiny_negative_time": "negative_time",
    "early_window": None,
    "zero_time": None,
    "negative_id": "negative_node_id",
    "wrapped_negative_id": "huge_node_id",
    "huge_id": "huge_node_id",
    "large_id": None,
    "claims_by_id": "sorting_false",
    "claims_by_time": "sorting_false",
    "label_by_time": "sorting_false",
    "label_time": "sorting_false",  # BMTK's alias of by_time
    "label_id": "sorting_false",
    "label_unknown": None,  # BMTK's "no claim"
    "label_sideways": "sorting_invalid",
    "label_bytes": "sorting_false",
    "enum_7": "sorting_invalid",
    "sorting_int": "sorting_invalid",
    "sorting_array": "sorting_invalid",
    "sorting_absent": None,
    "units_s": None,  # read and converted to ms (validate still refuses it: BMTK ignores units)
    "units_us": "units",
    "units_bytes": None,
    "units_absent": None,
    "gzip": None,
    **{f"provenance_{bad}": "provenance" for bad in BAD_PROVENANCE if bad != "early"},
    **{f"metadata_{bad}": "metadata" for bad in ("index_length", "index_range", "profiles")},
    **{f"metadata_{bad}": "metadata" for bad in ("ids_2d", "group", "rate_nan")},
}


# validate is stricter than the readers: libsonata knows no BMTK aliases of the labels
VALIDATE_CODE = {"label_time": "sorting_invalid", "label_id": "sorting_invalid"}


def _one_population(fault: str | None = None, **spec) -> dict:
    pop = {
        "name": "p0",
        "ts": [5.0, 1.0, 3.0],  # in neither time nor id order: any order claim is a lie
        "ids": [2, 0, 1],
        "ts_form": OK,
        "ids_form": OK,
        "order": None,
        "sorting": OK,
        "label": "none",
        "units": "ms",
        "gzip": False,
        "provenance": OK,
        "metadata": OK,
    }
    if fault:
        FAULTS[fault](pop, 1)
    return {"kind": "h5", "root": OK, "cut": 0.5, "garbage": b"junk", "pops": [pop], **spec}


def test_every_fault_has_an_expectation():
    assert set(EXPECTED) == set(FAULTS)


def _code(call) -> str | None:
    try:
        call()
    except SpikesFileError as err:
        return err.code
    return None


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_each_fault_alone(fault):
    spec = _one_population(fault)
    with _folder() as folder:
        path = build(spec, folder)
        codes = {
            "spikes": _code(lambda: read_spike_arrays(path)),
            "provenance": _code(lambda: read_provenance(path, "p0")),
            "metadata": _code(lambda: read_metadata(path, "p0")),
        }
        got = [c for c in codes.values() if c] or [None]
        assert got == [EXPECTED[fault]], codes
        if EXPECTED[fault]:  # validate reports it too, in the same words and code
            errors = {p.code for p in validate_file(path) if p.severity == "error"}
            assert VALIDATE_CODE.get(fault, EXPECTED[fault]) in errors
        check_api(path, spec)


@pytest.mark.parametrize(
    ("kind", "root", "code"),
    [
        ("truncated", OK, "unreadable"),
        ("garbage", OK, "unreadable"),
        ("hdf5_garbage", OK, "unreadable"),
        ("empty", OK, "unreadable"),
        ("directory", OK, "unreadable"),
        ("broken_symlink", OK, "unreadable"),
        ("missing", OK, "unreadable"),
        ("symlink", OK, None),
        ("h5", "no_spikes", "no_spikes_group"),
        ("h5", "spikes_dataset", "no_spikes_group"),
        ("h5", "old_layout", "old_layout"),
        ("h5", "stray", None),
    ],
)
def test_each_kind_of_file(kind, root, code):
    spec = _one_population(kind=kind, root=root)
    with _folder() as folder:
        path = build(spec, folder)
        err = _documented(lambda: read_spike_arrays(path), path)
        assert (err.code if isinstance(err, SpikesFileError) else None) == code
        if code == "unreadable":
            assert isinstance(err, SpikesFileUnreadable) and isinstance(err, OSError)
        check_api(path, spec)


@pytest.mark.slow
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_each_fault_through_the_commands(fault):
    with _folder() as folder:
        check_commands(build(_one_population(fault), folder), folder)
