"""The replay generator: recorded trains (SONATA, BMTK CSV, NWB) mapped onto a node set.

Sources are real files: written by raster_maker, by BMTK's own ``SpikeTrains`` writers
(``to_csv``, ``to_sonata``, ``to_nwb``) and by pynwb. Statistical bounds are at about
1e-6 per assertion with fixed seeds.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone

import h5py
import numpy as np
import pandas as pd
import pytest
from mpirun import MPIEXEC, run_python
from scipy import stats

import raster_maker.replay  # noqa: F401  (registers 'replay')
from raster_maker import generate, iter_spikes, make_model
from raster_maker.models import Units
from raster_maker.plans import Context
from raster_maker.replay import read_source_trains
from raster_maker.sonata import read_metadata, read_provenance, write_spikes

P = 1e-6
SEED = 8128
REC_IDS = np.arange(300)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A raster_maker file: population 'rec', nodes 0..299 at 15 Hz over (0, 1000) ms."""
    path = tmp_path_factory.mktemp("replay") / "recorded.h5"
    generate("poisson", "rec", REC_IDS, 0.0, 1000.0, params={"rate_hz": 15.0}, seed=5, output=path)
    return path


@pytest.fixture(scope="module")
def bmtk_trains():
    """BMTK SpikeTrains with two populations (v1: nodes 0..39, lgn: nodes 0..9)."""
    from bmtk.utils.reports.spike_trains import SpikeTrains

    rng = np.random.default_rng(3)
    st = SpikeTrains(default_population="v1")
    for pop, n in [("v1", 40), ("lgn", 10)]:
        ids = rng.integers(0, n, 30 * n)
        st.add_spikes(node_ids=ids, timestamps=rng.uniform(0.01, 500.0, ids.size), population=pop)
    return st


def replay(params, ids=REC_IDS, window=(0.0, 1000.0), seed=SEED, **kw):
    return generate("replay", "tgt", ids, *window, params=params, seed=seed, **kw).spikes


def trains(df):
    """{node id: sorted times}."""
    ids, ts = df["node_ids"].to_numpy(), df["timestamps"].to_numpy()
    cut = np.flatnonzero(np.diff(ids.astype(np.int64))) + 1
    parts = zip(np.split(ids, cut), np.split(ts, cut), strict=True)
    return {int(i[0]): t for i, t in parts if i.size}


def file_spikes(path, population):
    """The spikes of one population of a SONATA file, as stored (h5py, not the reader)."""
    with h5py.File(path, "r") as h5:
        grp = h5["spikes"][population]
        return pd.DataFrame(
            {"node_ids": grp["node_ids"][()].astype(np.int64), "timestamps": grp["timestamps"][()]}
        )


def source_trains(path, population):
    """{node id: sorted times} of a SONATA or BMTK CSV file, read independently."""
    if str(path).endswith(".csv"):
        df = pd.read_csv(path, sep=" ", float_precision="round_trip")
        df = df[df["population"] == population]
    else:
        df = file_spikes(path, population)
    return trains(df.sort_values(["node_ids", "timestamps"], kind="stable"))


def datasets(path, pop):
    with h5py.File(path, "r") as h5:
        return {k: h5["spikes"][pop][k][()].tobytes() for k in ("node_ids", "timestamps")}


# -- replay without transforms is the source ------------------------------------------------
def test_identity_replay_of_a_raster_maker_file_is_byte_identical(recorded, tmp_path):
    out = tmp_path / "out.h5"
    res = generate(
        "replay", "rec", REC_IDS, 0.0, 1000.0, params={"source": str(recorded)}, seed=1, output=out
    )
    assert res.n_spikes > 3000
    assert datasets(out, "rec") == datasets(recorded, "rec")
    meta = read_metadata(out, "rec")
    np.testing.assert_array_equal(meta["source_node_ids"], REC_IDS)
    np.testing.assert_array_equal(meta["source_index"], np.arange(REC_IDS.size))
    counts = np.bincount(file_spikes(out, "rec")["node_ids"], minlength=REC_IDS.size)
    np.testing.assert_allclose(meta["target_rate_hz"], counts / 1.0)
    derived = read_provenance(out, "rec")["derived"]
    assert derived["copies"] == 1 and derived["window_ms"] == [0.0, 1000.0]


def test_the_recorded_window_of_a_raster_maker_file_is_the_default(tmp_path):
    # recorded over (-200, 800): replayed onto the same window, nothing moves
    src = tmp_path / "neg.h5"
    ids = np.arange(50)
    generate("poisson", "p", ids, -200.0, 800.0, params={"rate_hz": 20}, seed=2, output=src)
    df = generate("replay", "p", ids, -200.0, 800.0, params={"source": str(src)}, seed=3).spikes
    with h5py.File(src, "r") as h5:
        np.testing.assert_array_equal(df["timestamps"], h5["spikes/p/timestamps"][()])
        np.testing.assert_array_equal(df["node_ids"], h5["spikes/p/node_ids"][()])
    assert (df["timestamps"] < 0).any()


def test_a_subset_of_nodes_replays_their_own_trains(recorded):
    ids = np.array([0, 17, 18, 250, 299])
    df = replay({"source": str(recorded)}, ids=ids)
    src = source_trains(recorded, "rec")
    got = trains(df)
    assert got.keys() == {i for i in ids.tolist() if i in src}
    for node, t in got.items():
        np.testing.assert_array_equal(t, src[node])


def test_a_plain_sonata_file_default_window_is_zero_to_the_last_spike(tmp_path):
    # no provenance: the window is (0, last spike]; a spike at 0 is not replayed
    path = tmp_path / "plain.h5"
    ids = np.array([4, 4, 9, 9, 2])
    ts = np.array([0.0, 7.25, 0.5, 99.875, 50.0])
    write_spikes(path, {"x": (ids, ts)})
    df = replay({"source": str(path), "repeat": False}, ids=[2, 4, 9], window=(0.0, 200.0))
    assert {k: v.tolist() for k, v in trains(df).items()} == {
        2: [50.0],
        4: [7.25],
        9: [0.5, 99.875],
    }
    # repeated, the window (0, 99.875] tiles; its last spike is where the next copy starts
    df = replay({"source": str(path)}, ids=[9], window=(0.0, 300.0))
    np.testing.assert_array_equal(
        df["timestamps"], [0.5, 99.875, 0.5 + 99.875, 2 * 99.875, 0.5 + 2 * 99.875, 3 * 99.875]
    )


def test_a_file_written_by_bmtks_to_sonata_replays(bmtk_trains, tmp_path):
    path = tmp_path / "bmtk.h5"
    bmtk_trains.to_sonata(str(path))  # gzip, BMTK's own sorting attribute
    src = source_trains(path, "v1")
    df = replay(
        {"source": str(path), "source_population": "v1", "repeat": False},
        ids=np.arange(40),
        window=(0.0, 600.0),
    )
    got = trains(df)
    assert got.keys() == src.keys()
    for node, t in got.items():
        np.testing.assert_array_equal(t, src[node])


# -- BMTK CSV ---------------------------------------------------------------------------------
def test_a_bmtk_csv_replays_exactly(bmtk_trains, tmp_path):
    path = tmp_path / "spikes.csv"
    bmtk_trains.to_csv(str(path))
    assert path.read_text().splitlines()[0] == "timestamps population node_ids"
    for pop, n in [("v1", 40), ("lgn", 10)]:
        src = read_source_trains(path, pop)
        assert src.format == "csv" and src.population == pop
        df = replay(
            {"source": str(path), "source_population": pop, "repeat": False},
            ids=np.arange(n),
            window=(0.0, 600.0),
        )
        expected = source_trains(path, pop)
        got = trains(df)
        assert got.keys() == expected.keys()
        for node, t in got.items():
            np.testing.assert_array_equal(t, expected[node])  # round-trip float parsing
    with pytest.raises(ValueError, match=r"Missing 'source_population'.*2 populations.*v1, lgn"):
        read_source_trains(path)
    with pytest.raises(ValueError, match=r"'source_population': 'v2' is not in .*v1, lgn"):
        read_source_trains(path, "v2")


def test_a_headerless_two_column_csv_is_timestamps_then_node_ids(tmp_path):
    path = tmp_path / "two.csv"
    path.write_text("1.5 3\n0.25 3\n8.0 1\n")
    src = read_source_trains(path, format="csv")
    assert src.node_ids.tolist() == [1, 3]
    assert src.times_ms.tolist() == [8.0, 0.25, 1.5]


# -- NWB --------------------------------------------------------------------------------------
def _nwb_file(path, units):
    pynwb = pytest.importorskip(
        "pynwb", reason="pynwb not installed (pip install raster-maker[nwb])"
    )
    nwb = pynwb.NWBFile(
        session_description="replay test",
        identifier="replay-test",
        session_start_time=datetime(2024, 1, 1, tzinfo=timezone.utc),
    )
    for unit_id, times_s in units.items():
        nwb.add_unit(id=unit_id, spike_times=np.asarray(times_s, dtype=np.float64))
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


def test_an_nwb_units_table_replays_in_ms(tmp_path):
    units = {0: [0.0015, 0.25, 0.5], 2: [], 5: [0.125]}  # seconds, as NWB stores them
    path = _nwb_file(tmp_path / "units.nwb", units)
    src = read_source_trains(path)
    assert src.format == "nwb"
    assert src.node_ids.tolist() == [0, 2, 5]  # the silent unit 2 is a (empty) train
    df = replay({"source": str(path), "repeat": False}, ids=[0, 2, 5], window=(0.0, 600.0))
    got = trains(df)
    assert got.keys() == {0, 5}
    np.testing.assert_allclose(got[0], [1.5, 250.0, 500.0], rtol=1e-15)
    np.testing.assert_allclose(got[5], [125.0], rtol=1e-15)
    ms = read_source_trains(path, time_unit="ms")
    np.testing.assert_array_equal(ms.times_ms, [0.0015, 0.25, 0.5, 0.125])


def test_bmtks_to_nwb_stores_ms_and_populations(bmtk_trains, tmp_path):
    pytest.importorskip("pynwb", reason="pynwb not installed (pip install raster-maker[nwb])")
    path = tmp_path / "bmtk.nwb"
    bmtk_trains.to_nwb(str(path))
    ref = tmp_path / "ref.csv"
    bmtk_trains.to_csv(str(ref))
    for pop in ["v1", "lgn"]:
        src = read_source_trains(path, pop)
        assert src.format == "nwb" and src.population == pop
        expected = source_trains(ref, pop)
        assert src.node_ids.tolist() == sorted(expected)
        for i, node in enumerate(src.node_ids.tolist()):
            train = src.times_ms[src.offsets[i] : src.offsets[i + 1]]
            np.testing.assert_array_equal(train, expected[node])


def test_nwb_without_pynwb_asks_for_the_extra(tmp_path, monkeypatch):
    path = tmp_path / "fake.nwb"
    with h5py.File(path, "w") as h5:
        h5.attrs["nwb_version"] = "2.7.0"
        h5.create_group("units")
    monkeypatch.setitem(sys.modules, "pynwb", None)  # as if not installed
    with pytest.raises(ImportError, match=r"pip install raster-maker\[nwb\]"):
        replay({"source": str(path)})


def test_an_hdf5_file_that_only_looks_like_nwb_is_refused(tmp_path):
    pytest.importorskip("pynwb", reason="pynwb not installed (pip install raster-maker[nwb])")
    path = tmp_path / "fake.nwb"
    with h5py.File(path, "w") as h5:
        h5.attrs["nwb_version"] = "2.7.0"
        h5.create_group("units")
    with pytest.raises(ValueError, match=r"'.*fake\.nwb' is not a readable NWB file .*Allowed: "):
        replay({"source": str(path)})
    with pytest.raises(ValueError, match=r"'.*fake\.nwb' is not a readable NWB file"):
        read_source_trains(tmp_path / "fake.nwb", format="nwb")


# -- window and tiling ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("window_ms", "gen_window", "repeat"),
    [
        ([100.0, 337.5], (0.0, 1000.0), True),
        ([100.0, 337.5], (0.0, 1000.0), False),
        ([0.0, 1000.0], (-250.0, 2600.0), True),
        ([412.0, 415.0], (10.0, 30.5), True),
    ],
)
def test_the_window_tiles_the_generation(recorded, window_ms, gen_window, repeat, tmp_path):
    w0, w1 = window_ms
    tstart, tstop = gen_window
    length = w1 - w0
    params = {"source": str(recorded), "window_ms": window_ms, "repeat": repeat}
    out = tmp_path / "tiled.h5"
    res = generate("replay", "tgt", REC_IDS, tstart, tstop, params=params, seed=1, output=out)
    df = file_spikes(out, "tgt")
    src = source_trains(recorded, "rec")
    copies = int(np.ceil((tstop - tstart) / length)) if repeat else 1
    got = trains(df)
    n_expected = np.zeros(REC_IDS.size)
    for node in REC_IDS.tolist():
        s = src.get(node, np.zeros(0))
        s = s[(s > w0) & (s <= w1)]  # the window is (w0, w1]
        want = np.concatenate([s + ((tstart - w0) + k * length) for k in range(copies)])
        want = want[(want > tstart) & (want < tstop)]
        n_expected[node] = want.size
        np.testing.assert_array_equal(got.get(node, np.zeros(0)), want)
    meta = read_metadata(out, "tgt")
    np.testing.assert_allclose(meta["target_rate_hz"] * (tstop - tstart) / 1000.0, n_expected)
    assert res.n_spikes == n_expected.sum() > 0


def test_a_tiny_window_tiled_over_a_long_run_is_refused(recorded):
    t = source_trains(recorded, "rec")[0][0]
    with pytest.raises(ValueError, match=r"'window_ms'.*Allowed: at most 1e\+08 per node"):
        replay({"source": str(recorded), "window_ms": [t - 1e-6, t]}, window=(0.0, 1e6))


# -- mappings ---------------------------------------------------------------------------------
def _multiset(trains_by_node):
    return sorted(tuple(t.tolist()) for t in trains_by_node.values())


def test_shuffle_is_a_permutation_of_the_source_trains(recorded):
    ids = np.arange(1000, 1300)  # none of them is a source id
    df = replay({"source": str(recorded), "mapping": "shuffle"}, ids=ids)
    src = source_trains(recorded, "rec")
    assert _multiset(trains(df)) == _multiset(src)  # every train used exactly once
    model = make_model("replay", {"source": str(recorded), "mapping": "shuffle"})
    ctx = Context(SEED, "tgt", 0.0, 1000.0)
    index = model.source_index(ids.astype(np.uint64), model.read(), ctx)
    assert sorted(index.tolist()) == list(range(300))
    assert not np.array_equal(index, np.arange(300))
    # network-level: the same in every trial, another with another seed
    again = model.source_index(ids.astype(np.uint64), model.read(), Context(SEED, "tgt", 0, 1, 3))
    np.testing.assert_array_equal(again, index)
    other = model.source_index(ids.astype(np.uint64), model.read(), Context(SEED + 1, "tgt", 0, 1))
    assert not np.array_equal(other, index)


def test_shuffle_draws_uniform_permutations(recorded):
    model = make_model("replay", {"source": str(recorded), "mapping": "shuffle"})
    src = model.read()
    ids = np.arange(10, dtype=np.uint64)
    first = np.array(
        [model.source_index(ids, src, Context(s, "tgt", 0.0, 1.0))[0] for s in range(6000)]
    )
    observed = np.bincount(first, minlength=300)
    assert stats.chisquare(observed).pvalue > P


def test_resample_picks_source_trains_uniformly_from_each_nodes_own_stream(recorded, tmp_path):
    model = make_model("replay", {"source": str(recorded), "mapping": "resample"})
    src = model.read()
    ids = np.arange(60_000, dtype=np.uint64)
    index = model.source_index(ids, src, Context(SEED, "tgt", 0.0, 1.0))
    assert stats.chisquare(np.bincount(index, minlength=300)).pvalue > P
    # each node's pick is its own: alone, in a subset, in any trial
    np.testing.assert_array_equal(
        model.source_index(ids[[5, 77, 59_999]], src, Context(SEED, "tgt", 0.0, 1.0, 2)),
        index[[5, 77, 59_999]],
    )
    # through generate: every node replays the train it picked, as the metadata says
    out_ids, out = np.arange(500), tmp_path / "resampled.h5"
    params = {"source": model.source, "mapping": "resample"}
    generate("replay", "tgt", out_ids, 0.0, 1000.0, params=params, seed=SEED, output=out)
    np.testing.assert_array_equal(read_metadata(out, "tgt")["source_index"], index[:500])
    np.testing.assert_array_equal(read_metadata(out, "tgt")["source_node_ids"], index[:500])
    src_by_node = source_trains(recorded, "rec")
    got = trains(file_spikes(out, "tgt"))
    assert len(got) > 400
    for node in out_ids.tolist():
        want = src_by_node.get(int(index[node]), np.zeros(0))  # source ids are 0..299
        np.testing.assert_array_equal(got.get(node, np.zeros(0)), want)


def test_identity_needs_every_target_id_in_the_source(recorded):
    ids = np.concatenate([np.arange(10), [300, 301, 5000]])
    with pytest.raises(
        ValueError,
        match=r"'identity' needs a source train for every target node, but 3 of 13 target "
        r"node ids are not in the source .* population 'rec' \(300, 301, 5000; it has 300 "
        r"trains, ids 0\.\.299\)\. Allowed: .*'shuffle' or 'resample'",
    ):
        replay({"source": str(recorded)}, ids=ids)


def test_identity_counts_a_raster_maker_files_silent_nodes_as_trains(tmp_path):
    path = tmp_path / "quiet.h5"
    ids = np.arange(20)
    generate("poisson", "q", ids, 0.0, 100.0, params={"rate_hz": 3.0}, seed=4, output=path)
    silent = set(ids.tolist()) - set(file_spikes(path, "q")["node_ids"].tolist())
    assert silent  # some nodes never fired, yet the file declares them
    df = replay({"source": str(path)}, ids=ids, window=(0.0, 100.0))
    assert set(trains(df)) == set(ids.tolist()) - silent


def test_shuffle_needs_as_many_source_trains_as_targets(recorded):
    with pytest.raises(
        ValueError,
        match=r"'shuffle' needs at least as many source trains as target nodes, but the "
        r"source .* has 300 trains for 301 nodes",
    ):
        replay({"source": str(recorded), "mapping": "shuffle"}, ids=np.arange(301))


# -- transforms, trials, reproducibility ------------------------------------------------------
def test_trials_replay_the_same_trains_and_transforms_make_them_differ(recorded):
    base = {"source": str(recorded), "mapping": "resample"}
    pd.testing.assert_frame_equal(replay(base, trial=1), replay(base))
    jit = {**base, "transforms": [{"jitter_ms": 2.0}]}
    a, b = replay(jit), replay(jit, trial=1)
    np.testing.assert_array_equal(a["node_ids"], replay(base)["node_ids"])  # counts kept
    assert not np.array_equal(a["timestamps"], b["timestamps"])
    plain = trains(replay(base))
    worst = max(np.abs(trains(a)[n] - t).max() for n, t in plain.items())
    assert 1.0 < worst <= 2.0


@pytest.mark.parametrize("mapping", ["identity", "resample"])
def test_replayed_trains_do_not_depend_on_order_subset_batches_or_threads(recorded, mapping):
    params = {
        "source": str(recorded),
        "mapping": mapping,
        "window_ms": [150.0, 650.0],
        "transforms": [{"jitter_ms": 3.0}, {"keep": 0.7}],
    }
    ids = np.arange(0, 300, 2)
    full = replay(params, ids=ids, window=(0.0, 1700.0))
    assert len(full) > 1000
    pd.testing.assert_frame_equal(replay(params, ids=ids[::-1], window=(0.0, 1700.0)), full)
    by_node = trains(full)
    for node in [0, 148, 298]:
        alone = trains(replay(params, ids=[node], window=(0.0, 1700.0)))
        np.testing.assert_array_equal(alone[node], by_node[node])
    bigger = replay(params, ids=REC_IDS, window=(0.0, 1700.0))
    sub = bigger[bigger["node_ids"].isin(ids)].reset_index(drop=True)
    pd.testing.assert_frame_equal(sub, full)
    for batch in [1, 7, 10**9]:
        pd.testing.assert_frame_equal(
            replay(params, ids=ids, window=(0.0, 1700.0), batch_spikes=batch), full
        )
    model = make_model("replay", params)
    for threads in [1, 2]:
        parts = list(
            iter_spikes(
                model, Units("tgt", ids), 0.0, 1700.0, SEED, batch_spikes=200, threads=threads
            )
        )
        assert len(parts) > 2
        np.testing.assert_array_equal(np.concatenate([p[1] for p in parts]), full["timestamps"])


def test_shuffle_does_not_depend_on_batches_or_threads(recorded):
    params = {"source": str(recorded), "mapping": "shuffle"}
    ids = np.arange(500, 800)
    full = replay(params, ids=ids)
    for batch in [1, 50, 10**9]:
        pd.testing.assert_frame_equal(replay(params, ids=ids, batch_spikes=batch), full)
    model = make_model("replay", params)
    parts = list(
        iter_spikes(model, Units("tgt", ids), 0.0, 1000.0, SEED, batch_spikes=300, threads=2)
    )
    np.testing.assert_array_equal(np.concatenate([p[1] for p in parts]), full["timestamps"])


@pytest.mark.mpi
@pytest.mark.slow
@pytest.mark.skipif(MPIEXEC is None, reason="no mpiexec (pip install mpich)")
def test_two_ranks_write_the_bytes_of_one(recorded, tmp_path):
    script = tmp_path / "gen.py"
    script.write_text(
        "import sys, numpy as np\n"
        "import raster_maker.replay\n"
        "from raster_maker import generate\n"
        "generate('replay', 'p', np.arange(1000, 1300), 0, 3000,\n"
        "         params={'source': sys.argv[2], 'mapping': 'shuffle',\n"
        "                 'transforms': [{'jitter_ms': 2.0}, {'keep': 0.8}]},\n"
        "         seed=5, output=sys.argv[1], batch_spikes=1000)\n"
    )
    one, two = tmp_path / "one.h5", tmp_path / "two.h5"
    run_python(script, one, recorded)
    run_python(script, two, recorded, ranks=2)
    assert datasets(one, "p") == datasets(two, "p")


# -- bad input --------------------------------------------------------------------------------
def _garbage(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("these are not spikes\n1 2 3\n")
    return str(path)


def _hdf5_without_spikes(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as h5:
        h5["data"] = np.arange(3)
    return str(path)


def _bad_csv(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("timestamps population node_ids\n1.0 v1 0\nsoon v1 1\n")
    return str(path)


def _two_populations(tmp_path):
    path = tmp_path / "two.h5"
    write_spikes(path, {"a": ([0], [1.0]), "b": ([1], [2.0])})
    return str(path)


BAD = [
    (
        "missing source file",
        lambda t: {"source": str(t / "nope.h5")},
        FileNotFoundError,
        r"'source': '.*nope\.h5' does not exist.*Allowed: a SONATA spikes file",
    ),
    (
        "text file that is not spikes",
        lambda t: {"source": _garbage(t)},
        ValueError,
        r"cannot read '.*notes\.txt' as a spikes file \(it starts with 'these are not spikes'\)"
        r"\. Allowed: a SONATA .*BMTK CSV .*NWB",
    ),
    (
        "HDF5 that is neither SONATA nor NWB",
        lambda t: {"source": _hdf5_without_spikes(t)},
        ValueError,
        r"'.*other\.h5' is an HDF5 file with neither /spikes nor an NWB units table "
        r"\(it holds: data\)",
    ),
    (
        "SONATA forced on a text file",
        lambda t: {"source": _garbage(t), "format": "sonata"},
        ValueError,
        r"'.*notes\.txt'.*is not an HDF5 file.*Allowed: a SONATA",
    ),
    (
        "CSV with a bad time",
        lambda t: {"source": _bad_csv(t)},
        ValueError,
        r"column 'timestamps' of '.*bad\.csv' holds 'soon'\. Allowed: numbers",
    ),
    (
        "ambiguous population",
        lambda t: {"source": _two_populations(t)},
        ValueError,
        r"Missing 'source_population': .* has 2 populations\. Allowed: one of a, b",
    ),
    (
        "unknown population",
        lambda t: {"source": _two_populations(t), "source_population": "c"},
        ValueError,
        r"'source_population': 'c' is not in .*Allowed: a, b",
    ),
    ("no source", lambda t: {}, ValueError, r"Missing or invalid 'source' for replay: None"),
    (
        "unknown format",
        lambda t: {"source": "x.h5", "format": "parquet"},
        ValueError,
        r"'format': 'parquet'\. Allowed: 'auto', 'sonata', 'csv', 'nwb'",
    ),
    (
        "unknown mapping",
        lambda t: {"source": "x.h5", "mapping": "random"},
        ValueError,
        r"'mapping': 'random'\. Allowed: 'identity', 'shuffle', 'resample'",
    ),
    (
        "window backwards",
        lambda t: {"source": "x.h5", "window_ms": [50, 10]},
        ValueError,
        r"'window_ms': \[50\.0, 10\.0\]\. Allowed: \[from_ms, to_ms\] with to_ms > from_ms",
    ),
    (
        "window not a pair",
        lambda t: {"source": "x.h5", "window_ms": 100},
        ValueError,
        r"'window_ms': 100\. Allowed: \[from_ms, to_ms\]",
    ),
    (
        "repeat not a bool",
        lambda t: {"source": "x.h5", "repeat": "yes"},
        TypeError,
        r"'repeat' must be true or false, got 'yes'",
    ),
]


@pytest.mark.parametrize(("params", "exc", "match"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input(tmp_path, params, exc, match):
    with pytest.raises(exc, match=match):
        replay(params(tmp_path), ids=np.arange(2), window=(0.0, 10.0))


def test_a_source_without_spikes_after_zero_needs_a_window(tmp_path):
    path = tmp_path / "early.h5"
    write_spikes(path, {"x": ([0, 1], [0.0, 0.0])})
    with pytest.raises(ValueError, match=r"Missing 'window_ms': .* no spike after 0 ms"):
        replay({"source": str(path)}, ids=[0, 1])
    # (-10, 0] tiled from 0: copy 0 lands at 10 ms, copy 1 on tstop (dropped)
    df = replay({"source": str(path), "window_ms": [-10, 0]}, ids=[0, 1], window=(0.0, 20.0))
    assert df["node_ids"].tolist() == [0, 1] and df["timestamps"].tolist() == [10.0, 10.0]


@pytest.mark.parametrize("label", ["s", "sec"])  # one the readers know, one they do not
def test_time_unit_names_the_unit_whatever_the_files_label(tmp_path, label):
    path = tmp_path / "sec.h5"
    with h5py.File(path, "w") as h5:
        grp = h5.create_group("spikes/p")
        grp["node_ids"] = np.array([0, 1, 2], np.uint64)
        grp.create_dataset("timestamps", data=np.array([0.1, 0.2, 0.3])).attrs["units"] = label
    # the stored values exactly (ms) or times 1000 (s), never scaled and scaled back
    stored = np.array([0.1, 0.2, 0.3])
    expect = {"s": stored * 1000.0, "ms": stored}
    if label == "s":  # the label decides only when it is known
        expect["auto"] = stored * 1000.0
    for unit, times in expect.items():
        res = generate(
            "replay",
            "p",
            np.arange(3),
            0.0,
            1000.0,
            seed=1,
            params={
                "source": str(path),
                "time_unit": unit,
                "window_ms": [0, 1000],
                "repeat": False,
            },
        )
        np.testing.assert_array_equal(res.spikes["timestamps"], times)
