"""The reading layer: what each reader accepts, refuses, and how it says so."""

from __future__ import annotations

import contextlib
import io
import os
import pickle

import h5py
import numpy as np
import pandas as pd
import pytest

import raster_maker as rm
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
from raster_maker.sonata import SORTING_DTYPE, from_spike_trains, write_spikes
from raster_maker.validation import validate_file


def _raw(path, ids, ts, *, sorting="none", pop="p", attrs=None):
    """A spikes file written dataset by dataset, so it can hold anything."""
    with h5py.File(path, "w") as h5:
        grp = h5.create_group(f"spikes/{pop}")
        grp.create_dataset("node_ids", data=np.asarray(ids))
        grp.create_dataset("timestamps", data=np.asarray(ts, dtype=np.float64))
        grp["timestamps"].attrs["units"] = "ms"
        if sorting is not None:
            grp.attrs.create(
                "sorting", ("none", "by_id", "by_time").index(sorting), dtype=SORTING_DTYPE
            )
        for key, val in (attrs or {}).items():
            grp.attrs[key] = val
    return path


def _run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in argv])
    return status, out.getvalue(), err.getvalue()


# -- the three messages of the issue -------------------------------------------------------
QUOTED = {
    # was "cannot convert float NaN to integer"
    "nan": (
        [0, 1, 2, 3, 4],
        [1.0, 2.0, np.nan, 4.0, 5.0],
        r"1 of 5 timestamps are not finite \(nan; the first is spike 2\)\. "
        r"Allowed: finite times in ms\.",
    ),
    # was "All arrays must be of the same length"
    "lengths": (
        np.arange(5, dtype=np.uint64),
        [1.0, 2.0, 3.0],
        r"'timestamps' has 3 entries but 'node_ids' 5\. Allowed: one node id per timestamp\.",
    ),
    # was a figure without a word
    "negative_ids": (
        np.array([-1, 2, -3, 4, 5]),
        [1.0, 2.0, 3.0, 4.0, 5.0],
        r"2 node ids are negative \(-3, -1\)\. Allowed: >= 0\.",
    ),
}


@pytest.mark.parametrize("case", sorted(QUOTED))
def test_the_quoted_cases_name_the_problem(tmp_path, case):
    ids, ts, problem = QUOTED[case]
    path = _raw(tmp_path / f"{case}.h5", ids, ts)
    with pytest.raises(SpikesFileError, match=problem) as info:
        read_spikes(path)
    err = info.value
    assert (err.path, err.population) == (str(path), "p")
    assert str(err).startswith(f"Spikes file '{path}', population 'p': ")
    assert str(err).endswith(f"Run `raster-maker validate {path}` for every problem.")
    figure = tmp_path / "figure.png"
    for argv in (["stats", path], ["plot", path, "-o", figure]):
        status, out, errors = _run(argv)
        assert status == 2 and not out and not figure.exists()
        (line,) = errors.splitlines()
        assert line == f"raster-maker {argv[0]}: error: {err}"


# -- the error type ------------------------------------------------------------------------
def test_error_type_attributes_and_pickling(tmp_path):
    err = SpikesFileError(tmp_path / "a b.h5", "bad\nthing.", "exc", "non_finite_time")
    assert isinstance(err, ValueError) and not isinstance(err, OSError)
    assert (err.path, err.population, err.problem, err.code) == (
        str(tmp_path / "a b.h5"),
        "exc",
        "bad thing.",
        "non_finite_time",
    )
    assert f"`raster-maker validate '{tmp_path / 'a b.h5'}'`" in str(err)  # shell-quoted
    again = pickle.loads(pickle.dumps(err))  # crosses MPI ranks
    assert type(again) is SpikesFileError and str(again) == str(err)
    assert again.code == err.code and again.fix == err.fix
    unreadable = SpikesFileUnreadable("x.h5", "it is a directory.", code="unreadable", fix="f.")
    assert isinstance(unreadable, OSError) and isinstance(unreadable, SpikesFileError)
    assert (
        str(pickle.loads(pickle.dumps(unreadable))) == "Spikes file 'x.h5': it is a directory. f."
    )


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda p: p.write_bytes(b"not hdf5 at all"), r"it is not an HDF5 file"),
        (lambda p: p.mkdir(), r"it is a directory"),
        (lambda p: None, r"no such file"),
        (
            lambda p: p.symlink_to(p.parent / "gone.h5"),
            r"a broken symbolic link \(to '.*gone\.h5'\)",
        ),
    ],
    ids=["not-hdf5", "directory", "missing", "broken-link"],
)
def test_unreadable_files_are_oserrors_too(tmp_path, make, match):
    path = tmp_path / "s.h5"
    make(path)
    for read in (read_spikes, population_names, lambda p: read_provenance(p, "p")):
        with pytest.raises(SpikesFileUnreadable, match=match) as info:
            read(path)
        assert isinstance(info.value, OSError) and info.value.code == "unreadable"


def test_truncated_file(tmp_path):
    good = write_spikes(tmp_path / "good.h5", {"p": ([0, 1], [1.0, 2.0])})
    data = good.read_bytes()
    cut = tmp_path / "cut.h5"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(SpikesFileUnreadable, match=r"'.*cut\.h5': .*truncated"):
        read_spikes(cut)


def test_unreadable_permissions(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    path = write_spikes(tmp_path / "locked.h5", {"p": ([0], [1.0])})
    path.chmod(0)
    try:
        with pytest.raises(SpikesFileUnreadable, match="locked.h5"):
            read_spikes(path)
    finally:
        path.chmod(0o644)


# -- what is read ----------------------------------------------------------------------------
def test_frame_and_arrays(tmp_path):
    path = write_spikes(
        tmp_path / "s.h5",
        {"b": ([3, 1], [2.0, 1.0]), "a": ([0], [5.0]), "silent": ([], [])},
    )
    df = read_spikes(path)
    assert df["population"].tolist() == ["a", "b", "b"]  # HDF5 lists groups by name
    assert df.dtypes.tolist() == [np.dtype(object), np.uint64, np.float64]
    assert isinstance(df.index, pd.RangeIndex)
    arrays = read_spike_arrays(path)
    assert list(arrays) == population_names(path) == ["a", "b", "silent"]
    assert arrays["b"][0].tolist() == [3, 1] and arrays["b"][1].tolist() == [2.0, 1.0]
    assert read_spikes(path, "silent").shape == (0, 3)
    with pytest.raises(KeyError, match=r"No population 'c' in '.*s\.h5'; it has: a, b, silent\."):
        read_spikes(path, "c")


def test_signed_ids_and_narrow_dtypes_are_accepted(tmp_path):
    with h5py.File(tmp_path / "s.h5", "w") as h5:
        h5.create_dataset("spikes/p/node_ids", data=np.array([0, 7], np.int32))
        h5.create_dataset("spikes/p/timestamps", data=np.array([1.5, 2.5], np.float32))
    ids, ts = read_spike_arrays(tmp_path / "s.h5")["p"]  # no sorting, no units: ms, no claim
    assert ids.dtype == np.uint64 and ids.tolist() == [0, 7]
    assert ts.dtype == np.float64 and ts.tolist() == [1.5, 2.5]


def test_a_file_without_populations(tmp_path):
    with rm.SpikesWriter(tmp_path / "none.h5"):
        pass
    assert population_names(tmp_path / "none.h5") == []
    df = read_spikes(tmp_path / "none.h5")
    assert df.shape == (0, 3) and df["node_ids"].dtype == np.uint64


def test_not_a_spikes_file(tmp_path):
    with h5py.File(tmp_path / "other.h5", "w") as h5:
        h5["data"] = np.arange(3)
    for read in (population_names, read_spikes):
        with pytest.raises(SpikesFileError, match=r"No group '/spikes' \(the file holds: data\)"):
            read(tmp_path / "other.h5")


def test_old_layout_gives_the_conversion(tmp_path):
    with h5py.File(tmp_path / "old.h5", "w") as h5:
        h5["spikes/gids"] = np.array([0, 1], np.uint64)
        h5["spikes/timestamps"] = np.array([1.0, 2.0])
    with pytest.raises(SpikesFileError, match=r"old SONATA layout.*SpikeTrains\.load") as info:
        read_spikes(tmp_path / "old.h5")
    assert info.value.code == "old_layout"
    assert "old_layout" in {p.code for p in validate_file(tmp_path / "old.h5")}


# -- times -----------------------------------------------------------------------------------
def test_times_before_zero_only_inside_a_recorded_window(tmp_path):
    res = rm.generate(
        "poisson", "p", np.arange(20), -200.0, 100.0, seed=1, output=tmp_path / "g.h5"
    )
    ts = read_spikes(res.path)["timestamps"].to_numpy()
    assert ts.min() < 0  # the window starts at -200 ms: fine
    codes = {p.code for p in validate_file(res.path)}
    assert "negative_time" not in codes  # (libsonata itself refuses any time < 0)
    path = _raw(tmp_path / "foreign.h5", [0, 1], [-0.5, 3.0])
    with pytest.raises(SpikesFileError, match=r"1 of 2 timestamps are before 0 ms \(-0\.5\)"):
        read_spikes(path)
    early = _raw(
        tmp_path / "early.h5", [0, 1], [-150.0, 3.0], attrs={"raster_maker_tstart_ms": -100.0}
    )
    with pytest.raises(SpikesFileError, match=r"before -100 ms.*recorded window start"):
        read_spikes(early)


@pytest.mark.parametrize(
    ("ids", "match"),
    [
        (
            np.array([0, 2**64 - 1], np.uint64),
            r"1 node ids are >= 2\*\*63 \(18446744073709551615\)",
        ),
        (np.array([0, 2**62], np.uint64), None),
    ],
)
def test_node_ids_of_2_63_and_more(tmp_path, ids, match):
    path = _raw(tmp_path / "s.h5", ids, [1.0, 2.0])
    if match is None:
        assert read_spike_arrays(path)["p"][0].tolist() == ids.tolist()
    else:
        with pytest.raises(SpikesFileError, match=match):
            read_spikes(path)


def test_times_in_seconds_are_read_in_ms_and_other_units_refused(tmp_path):
    path = _raw(tmp_path / "s.h5", [0], [1.5])
    with h5py.File(path, "a") as h5:
        h5["spikes/p/timestamps"].attrs["units"] = "s"
    assert read_spikes(path)["timestamps"].tolist() == [1500.0]
    with h5py.File(path, "a") as h5:
        h5["spikes/p/timestamps"].attrs["units"] = "us"
    with pytest.raises(
        SpikesFileError, match=r"'units' of 'timestamps': 'us'\. Allowed: 'ms' or 's'"
    ):
        read_spikes(path)


# -- the sorting claim -----------------------------------------------------------------------
def test_a_lying_sorting_claim_is_an_error_with_the_fix(tmp_path):
    path = _raw(
        tmp_path / "lie.h5", np.array([0, 1, 2], np.uint64), [3.0, 1.0, 2.0], sorting="by_time"
    )
    with pytest.raises(SpikesFileError) as info:
        read_spikes(path)
    err = info.value
    assert err.code == "sorting_false"
    assert "'sorting' says by_time but timestamp 1 (spike 1) comes after 3." in err.problem
    assert "check_sorting=False" in err.fix and "write_spikes" in err.fix
    with pytest.raises(SpikesFileError, match="says by_time"):
        to_spike_trains(path)  # BMTK's index would trust the label
    # the fix, as the message gives it
    df = read_spikes(path, check_sorting=False)
    assert df["timestamps"].tolist() == [3.0, 1.0, 2.0]
    fixed = write_spikes(tmp_path / "fixed.h5", df)
    assert read_spikes(fixed)["timestamps"].tolist() == [3.0, 1.0, 2.0]
    assert validate_file(fixed) == []


def test_true_claims_and_bmtk_labels(tmp_path):
    ids = np.array([0, 0, 1, 2], np.uint64)
    assert (
        len(read_spikes(_raw(tmp_path / "a.h5", ids, [5.0, 6.0, 1.0, 2.0], sorting="by_id"))) == 4
    )
    assert (
        len(
            read_spikes(_raw(tmp_path / "b.h5", ids[::-1], [1.0, 2.0, 2.0, 3.0], sorting="by_time"))
        )
        == 4
    )
    path = _raw(tmp_path / "c.h5", ids, [5.0, 6.0, 1.0, 2.0], sorting=None)
    for label, ok in (
        ("by_id", True),
        ("id", True),
        ("unknown", True),
        ("time", False),
        ("up", False),
    ):
        with h5py.File(path, "a") as h5:
            h5["spikes/p"].attrs["sorting"] = label  # a string, as BMTK writes it
        if ok:
            assert len(read_spikes(path)) == 4
        else:
            with pytest.raises(SpikesFileError, match="sorting"):
                read_spikes(path)
            assert len(read_spikes(path, check_sorting=False)) == 4


def test_bmtk_files_read_as_bmtk_reads_them(tmp_path):
    from bmtk.utils.reports.spike_trains import PoissonSpikeGenerator

    psg = PoissonSpikeGenerator(population="bg", seed=3)
    psg.add(node_ids=range(20), firing_rate=15.0, times=(0.0, 1.0))
    psg.to_sonata(str(tmp_path / "bmtk.h5"))  # string 'sorting', gzip
    ours = read_spikes(tmp_path / "bmtk.h5")
    theirs = psg.to_dataframe()
    assert sorted(zip(ours["node_ids"], ours["timestamps"], strict=True)) == sorted(
        zip(theirs["node_ids"].astype(np.uint64), theirs["timestamps"], strict=True)
    )
    fixed = from_spike_trains(to_spike_trains(tmp_path / "bmtk.h5"), tmp_path / "fixed.h5")
    assert len(read_spikes(fixed)) == len(ours)


# -- the generation record and the metadata --------------------------------------------------
def test_provenance_types_and_malformed_records(tmp_path):
    res = rm.generate(
        "poisson", "p", np.arange(5), 0.0, 100.0, seed=2**64 - 5, output=tmp_path / "g.h5"
    )
    prov = read_provenance(res.path, "p")
    assert prov["seed"] == 2**64 - 5 and isinstance(prov["params"], dict)
    assert read_provenance(res.path, "nope") == {}
    bad = {
        "raster_maker_params": (
            "{rate",
            r"'raster_maker_params' is '\{rate'\. Allowed: a JSON text",
        ),
        "raster_maker_seed": ("-4", r"'raster_maker_seed' is '-4'\. Allowed: an integer >= 0"),
        "raster_maker_tstop_ms": (-1.0, r"tstart_ms=0\.0 to tstop_ms=-1\.0\. Allowed: tstart_ms <"),
    }
    for key, (value, match) in bad.items():
        path = _raw(
            tmp_path / f"{key}.h5", [0], [1.0], attrs={"raster_maker_tstart_ms": 0.0, key: value}
        )
        with pytest.raises(SpikesFileError, match=match) as info:
            read_provenance(path, "p")
        assert info.value.code == "provenance" and info.value.population == "p"
        assert len(read_spikes(path)) == 1  # the spikes themselves are fine


def test_metadata_that_readers_rely_on(tmp_path):
    res = rm.generate(
        "functional_groups",
        "p",
        np.arange(40),
        0.0,
        200.0,
        params={"group_size": 10},
        seed=1,
        output=tmp_path / "g.h5",
    )
    meta = read_metadata(res.path, "p")
    assert meta["group_keys"].dtype == object and isinstance(meta["group_keys"][0], str)
    assert read_metadata(res.path, "nope") == {}
    some = read_metadata(res.path, "p", keys=["node_ids", "absent"])  # only what is asked
    assert list(some) == ["node_ids"] and np.array_equal(some["node_ids"], meta["node_ids"])
    with h5py.File(res.path, "a") as h5:
        del h5["raster_maker/p/group_index"]
        h5["raster_maker/p/group_index"] = np.zeros(39, np.int32)
    with pytest.raises(
        SpikesFileError, match=r"'group_index' has shape \(39,\) but 'node_ids' \(40,\)"
    ):
        read_metadata(res.path, "p")
    status, _, err = _run(["stats", res.path])
    assert status == 2 and "group_index" in err and str(res.path) in err


# -- all at once, and the commands -----------------------------------------------------------
def test_check_spikes_file_lists_each_population(tmp_path):
    path = tmp_path / "s.h5"
    with h5py.File(path, "w") as h5:
        h5.create_dataset("spikes/good/node_ids", data=np.array([0], np.uint64))
        h5.create_dataset("spikes/good/timestamps", data=np.array([1.0]))
        h5.create_dataset("spikes/nan/node_ids", data=np.array([0], np.uint64))
        h5.create_dataset("spikes/nan/timestamps", data=np.array([np.nan]))
        h5.create_dataset("spikes/short/node_ids", data=np.array([0, 1], np.uint64))
        h5.create_dataset("spikes/short/timestamps", data=np.array([1.0]))
    found = check_spikes_file(path)
    assert [(e.population, e.code) for e in found] == [
        ("nan", "non_finite_time"),
        ("short", "shape"),
    ]
    status, out, err = _run(["inspect", path])  # describes what it can, says what is wrong
    assert status == 1
    assert "good" in out and "nan" in out and "short" in out
    assert err.splitlines() == [f"raster-maker inspect: error: {e}" for e in found]
    status, out, _ = _run(["inspect", "--json", path])
    assert status == 1 and len(__import__("json").loads(out)["problems"]) == 2


def test_inspect_outlines_a_file_describe_cannot_take_apart(tmp_path):
    path = tmp_path / "s.h5"
    with h5py.File(path, "w") as h5:
        h5.create_group("spikes/p/timestamps")  # a group where a dataset belongs
        h5.create_dataset("spikes/p/node_ids", data=np.array([0], np.uint64))
        h5.create_dataset("spikes/q/node_ids", data=np.array([0], np.uint64))
        h5.create_dataset("spikes/q/timestamps", data=np.array([1.0]))
    status, out, err = _run(["inspect", path])
    assert status == 1 and "Traceback" not in out + err
    assert "uint64" in out  # what could be read of p, and q
    (line,) = err.splitlines()
    assert "population 'p': 'timestamps' is not a dataset in /spikes/p" in line


def test_commands_on_an_unreadable_file(tmp_path):
    path = tmp_path / "junk.h5"
    path.write_bytes(b"junk")
    for command in ("stats", "plot", "inspect"):
        status, out, err = _run([command, path])
        assert status == 2 and not out
        assert err == (
            f"raster-maker {command}: error: Spikes file '{path}': it is not an HDF5 file "
            "(no HDF5 signature). Allowed: a SONATA spikes file (HDF5). Check the path: this "
            "is not a spikes file.\n"
        )
