"""The core SONATA spikes writer: every reader (BMTK, libsonata) gets the same spikes back."""

from __future__ import annotations

import h5py
import libsonata
import numpy as np
import pandas as pd
import pytest
from bmtk.utils.reports.spike_trains import PoissonSpikeGenerator, SpikeTrains

from raster_maker.sonata import (
    SORTING_DTYPE,
    SpikesWriter,
    from_spike_trains,
    read_spikes,
    to_spike_trains,
    write_spikes,
)

RNG = np.random.default_rng(12)
SPIKES = {
    "exc": (RNG.integers(0, 50, 3000), RNG.uniform(0.1, 1000.0, 3000)),
    "inh": (RNG.integers(0, 7, 200), RNG.uniform(0.1, 1000.0, 200)),
    "silent": (np.zeros(0, int), np.zeros(0)),
}


def _as_set(ids, ts):
    return sorted(zip(np.asarray(ids, np.uint64).tolist(), np.asarray(ts).tolist(), strict=True))


def _write(path, sorting, max_sort_in_memory=8_000_000, chunk=777):
    with SpikesWriter(
        path, sorting=sorting, max_sort_in_memory=max_sort_in_memory, buffer_size=1000
    ) as w:
        for pop, (ids, ts) in SPIKES.items():
            w.add_population(pop)
            for i in range(0, ids.size, chunk):  # appended in chunks of any size
                w.append(pop, ids[i : i + chunk], ts[i : i + chunk])
    return path


@pytest.mark.parametrize("out_of_core", [False, True], ids=["in-memory", "out-of-core"])
@pytest.mark.parametrize("sorting", ["none", "by_id", "by_time"])
def test_every_reader_gets_the_same_spikes(tmp_path, sorting, out_of_core):
    path = _write(tmp_path / "s.h5", sorting, max_sort_in_memory=500 if out_of_core else 10**9)
    reader = libsonata.SpikeReader(str(path))
    assert sorted(reader.get_population_names()) == sorted(SPIKES)
    bmtk = SpikeTrains.load(str(path))
    ours = read_spikes(path)
    for pop, (ids, ts) in SPIKES.items():
        want = _as_set(ids, ts)
        got = reader[pop].get()
        assert (_as_set(*zip(*got, strict=True)) if got else []) == want
        df = bmtk.to_dataframe(populations=pop)
        assert _as_set(df["node_ids"], df["timestamps"]) == want
        mine = ours[ours["population"] == pop]
        assert _as_set(mine["node_ids"], mine["timestamps"]) == want
        with h5py.File(path, "r") as h5:
            grp = h5["spikes"][pop]
            label = ["none", "by_id", "by_time"][int(grp.attrs["sorting"])]
            assert h5py.check_enum_dtype(
                grp.attrs.get_id("sorting").dtype
            ) == h5py.check_enum_dtype(SORTING_DTYPE)
            assert grp["timestamps"].dtype == np.float64 and grp["node_ids"].dtype == np.uint64
            assert grp["timestamps"].attrs["units"] == "ms"
            assert grp["timestamps"].compression is None
            t, n = grp["timestamps"][:], grp["node_ids"][:]
        if sorting != "none":
            assert label == sorting or (n.size == 0)
        if label == "by_time":
            assert np.all(np.diff(t) >= 0)
        if label == "by_id":
            assert np.all(np.diff(n.astype(np.int64)) >= 0)
        assert reader[pop].sorting == label  # libsonata agrees on the (true) label


def test_root_attributes(tmp_path):
    path = _write(tmp_path / "s.h5", "none")
    with h5py.File(path, "r") as h5:
        assert h5.attrs["magic"] == 0x0A7A and h5.attrs["magic"].dtype == np.uint32
        assert list(h5.attrs["version"]) == [0, 1]


def test_truthful_label_for_unsorted_appends(tmp_path):
    path = write_spikes(tmp_path / "s.h5", {"p": ([2, 0, 1], [1.0, 3.0, 5.0])})  # by time only
    with h5py.File(path, "r") as h5:
        assert int(h5["spikes/p"].attrs["sorting"]) == 2
    path = write_spikes(tmp_path / "t.h5", {"p": ([2, 0, 1], [1.0, 5.0, 3.0])})  # no order
    with h5py.File(path, "r") as h5:
        assert int(h5["spikes/p"].attrs["sorting"]) == 0
    path = write_spikes(tmp_path / "u.h5", {"p": ([2, 1, 0], [1.0, 2.0, 3.0])}, sorting="by_id")
    assert read_spikes(path)["node_ids"].tolist() == [0, 1, 2]  # asked order always holds


def test_compression_only_when_asked(tmp_path):
    with SpikesWriter(tmp_path / "g.h5", compression="gzip") as w:
        w.append("p", [1], [1.0])
    with h5py.File(tmp_path / "g.h5", "r") as h5:
        assert h5["spikes/p/timestamps"].compression == "gzip"


def test_bmtk_round_trip_makes_libsonata_readable(tmp_path):
    psg = PoissonSpikeGenerator(population="bg")
    psg.add(node_ids=range(20), firing_rate=15.0, times=(0.0, 1.0))
    psg.to_sonata(str(tmp_path / "bmtk.h5"))
    with pytest.raises(RuntimeError):  # BMTK's own file: string sorting, gzip
        libsonata.SpikeReader(str(tmp_path / "bmtk.h5"))["bg"].get()
    fixed = from_spike_trains(to_spike_trains(tmp_path / "bmtk.h5"), tmp_path / "fixed.h5")
    got = libsonata.SpikeReader(str(fixed))["bg"].get()
    df = psg.to_dataframe()
    assert _as_set(*zip(*got, strict=True)) == _as_set(df["node_ids"], df["timestamps"])


def test_dataframe_input_and_errors(tmp_path):
    df = pd.DataFrame(
        {"population": ["a", "a", "b"], "node_ids": [0, 1, 0], "timestamps": [1.0, 2.0, 3.0]}
    )
    path = write_spikes(tmp_path / "d.h5", df)
    assert sorted(read_spikes(path)["population"].unique()) == ["a", "b"]
    with pytest.raises(KeyError, match="No population 'c'.*it has: a, b"):
        read_spikes(path, "c")
    with SpikesWriter(tmp_path / "e.h5") as w:
        with pytest.raises(ValueError, match="equal length"):
            w.append("p", [0, 1], [1.0])
        with pytest.raises(ValueError, match="Invalid timestamp nan"):
            w.append("p", [0], [np.nan])
        with pytest.raises(ValueError, match="Invalid node id -1"):
            w.append("p", [-1], [1.0])
        with pytest.raises(ValueError, match="Invalid population name 'a/b'"):
            w.add_population("a/b")
