"""Tests of raster_maker.legacy against faithful copies of the original algorithms."""

# ruff: noqa: NPY002 - these tests reproduce the original's use of numpy's global generator
from __future__ import annotations

import h5py
import numpy as np
import pytest
import scipy.signal as ss
import scipy.stats

from raster_maker import legacy, sonata
from raster_maker.legacy import (
    SonataWriter,
    make_noise,
    make_save_spikes,
    minmax,
    shift_exc_noise,
    zscore,
)

SPIKES = (["timestamps", "node_ids"], [float, np.uint64])


# -- faithful copies of the original module (L5NeuronSimulation/raster_maker.py) ---------
class OriginalSonataWriter:
    def __init__(self, f_name, groups, datasets, types):
        self.file = h5py.File(f_name, "w")
        self.group = self.file
        for group in groups:
            self.group = self.group.create_group(group)
        self.datasets = {}
        for i, ds in enumerate(datasets):
            self.datasets[ds] = self.group.create_dataset(
                ds, data=[], dtype=types[i], chunks=True, maxshape=(None,)
            )

    def append_ds(self, vals, ds):
        length = len(self.datasets[ds])
        self.datasets[ds].resize((length + len(vals),))
        self.datasets[ds][length:] = vals

    def append_repeat(self, ds, val, N):  # noqa: N803
        self.append_ds([val for i in range(N)], ds)

    def close(self):
        self.file.close()


def original_minmax(x):
    return (x - np.min(x)) / (np.max(x) - np.min(x))


def original_make_noise(num_traces=100, num_samples=4999):
    B = [0.049922035, -0.095993537, 0.050612699, -0.004408786]
    A = [1, -2.494956002, 2.017265875, -0.522189400]
    invfn = np.zeros((num_traces, num_samples))
    for i in np.arange(0, num_traces):
        wn = np.random.normal(loc=1, scale=0.5, size=num_samples + 2000)
        invfn[i, :] = original_minmax(ss.lfilter(B, A, wn)[2000:]) + 0.5
    return invfn


def original_shift_exc_noise(ts, nid, seconds, time_shift=4, _k=4):
    # the original hard-codes 4; _k lets the tests apply the same statements with another shift
    h = np.histogram(ts, bins=np.arange(0, seconds * 1000, 1))
    fr_prof = h[0] / (0.001 * (np.max(nid) + 1))
    wrap = fr_prof[-_k:]
    fr_prof[_k:] = fr_prof[0:-_k]
    fr_prof[0:_k] = wrap
    fr_prof = original_minmax(fr_prof) + 0.5
    return fr_prof


def original_make_save_spikes(
    writer, exp, dist, numUnits=100, rateProf=None, start_id=0, start_time=0
):  # noqa: N803
    for i in np.arange(0, numUnits):
        r = rateProf[i, :]
        r[r < 0] = 0
        if exp:
            rate_temp = r * np.exp(dist[i])
        else:
            rate_temp = r * dist[i]
        numbPoints = scipy.stats.poisson(rate_temp / 1000).rvs()  # noqa: N806
        simSpks = np.where(numbPoints > 0)[0]  # noqa: N806
        writer.append_repeat("node_ids", i + start_id, len(simSpks))
        writer.append_ds(simSpks + start_time, "timestamps")


# -- helpers ------------------------------------------------------------------------------
def read_pop(path, pop="exc_stim"):
    with h5py.File(path, "r") as h5:
        grp = h5["spikes"][pop]
        return grp["node_ids"][:], grp["timestamps"][:]


def spike_writer(path, **kw):
    return SonataWriter(path, ["spikes", "exc_stim"], *SPIKES, **kw)


def groups_inputs(n_groups=3, units=20, n_ms=2000, seed=7):
    """Build-script style inputs: per group a noise trace repeated over its units."""
    np.random.seed(seed)
    noise = make_noise(num_traces=n_groups, num_samples=n_ms)
    dists = [np.random.normal(0.5, 0.6, units) for _ in range(n_groups)]
    profs = [np.tile(noise[g], (units, 1)) for g in range(n_groups)]
    return dists, profs


# -- normalisations -----------------------------------------------------------------------
def test_minmax_and_zscore_values():
    x = np.array([2.0, 4.0, 6.0, 10.0])
    np.testing.assert_array_equal(minmax(x), original_minmax(x))
    np.testing.assert_array_equal(zscore(x), (x - x.mean()) / x.std(ddof=0))
    np.testing.assert_allclose(zscore(x).std(), 1.0, rtol=1e-12)


@pytest.mark.parametrize("func", [minmax, zscore])
@pytest.mark.parametrize(
    ("x", "match"),
    [([3.0, 3.0], "all equal|standard deviation is 0"), ([1.0, np.nan], "nan"), ([], "empty")],
)
def test_normalisation_errors(func, x, match):
    with pytest.raises(ValueError, match=match):
        func(x)


# -- make_noise ---------------------------------------------------------------------------
@pytest.mark.parametrize(("traces", "samples"), [(100, 4999), (3, 20000), (1, 2), (0, 10)])
def test_make_noise_is_the_original(traces, samples):
    np.random.seed(12345)
    want = original_make_noise(traces, samples)
    after_want = np.random.random()
    np.random.seed(12345)
    got = make_noise(traces, samples)
    assert np.random.random() == after_want  # the global stream is consumed identically
    assert got.shape == (traces, samples)
    np.testing.assert_array_equal(got, want)


def test_make_noise_chunked_is_the_same(monkeypatch):
    np.random.seed(3)
    whole = make_noise(7, 500)
    monkeypatch.setattr(legacy, "_CHUNK_VALUES", 1000)  # one trace per block
    np.random.seed(3)
    np.testing.assert_array_equal(make_noise(7, 500), whole)


def test_make_noise_range():
    np.random.seed(0)
    z = make_noise(5, 3000)
    np.testing.assert_array_equal(z.min(axis=1), 0.5)
    np.testing.assert_array_equal(z.max(axis=1), 1.5)


@pytest.mark.parametrize(
    ("kw", "exc", "match"),
    [
        ({"num_traces": -1}, ValueError, "'num_traces': -1"),
        ({"num_samples": 1}, ValueError, "'num_samples': 1. Allowed: an integer >= 2"),
        ({"num_samples": 10.5}, TypeError, "'num_samples' must be an integer"),
    ],
)
def test_make_noise_errors(kw, exc, match):
    with pytest.raises(exc, match=match):
        make_noise(**kw)


# -- shift_exc_noise ----------------------------------------------------------------------
@pytest.fixture
def raster():
    rng = np.random.default_rng(2024)
    nid = rng.integers(0, 50, 20000)
    ts = rng.uniform(0, 3000, nid.size)
    return ts, nid


def test_shift_exc_noise_default_is_the_original(raster):
    ts, nid = raster
    want = original_shift_exc_noise(ts, nid, 3)
    got = shift_exc_noise(ts, nid, 3)
    assert got.shape == (2999,)  # edges 0..2999: 2999 bins
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(shift_exc_noise(ts, nid, 3, time_shift=4), want)


@pytest.mark.parametrize("k", [1, 2, 7, 100, 1499])
def test_shift_exc_noise_honours_time_shift(raster, k):
    ts, nid = raster
    # the original's statements with k instead of its hard-coded 4
    np.testing.assert_array_equal(
        shift_exc_noise(ts, nid, 3, time_shift=k), original_shift_exc_noise(ts, nid, 3, _k=k)
    )


@pytest.mark.parametrize("k", [-5, 0, 1, 4, 50, 2998, 5000])
def test_shift_exc_noise_circular_is_a_roll(raster, k):
    ts, nid = raster
    counts, _ = np.histogram(ts, bins=np.arange(0, 3000, 1))
    prof = counts / (0.001 * (nid.max() + 1))
    want = original_minmax(np.roll(prof, k)) + 0.5
    np.testing.assert_array_equal(shift_exc_noise(ts, nid, 3, time_shift=k, circular=True), want)


def test_shift_exc_noise_original_quirk_differs_from_roll(raster):
    ts, nid = raster
    quirk = shift_exc_noise(ts, nid, 3)
    roll = shift_exc_noise(ts, nid, 3, circular=True)
    # the two share the normalisation here, so bins 4: agree and only the first 4 differ
    np.testing.assert_array_equal(quirk[4:], roll[4:])
    assert not np.array_equal(quirk[:4], roll[:4])


def test_shift_exc_noise_zero_shift_is_unshifted(raster):
    ts, nid = raster
    np.testing.assert_array_equal(
        shift_exc_noise(ts, nid, 3, time_shift=0),
        shift_exc_noise(ts, nid, 3, time_shift=0, circular=True),
    )


@pytest.mark.parametrize(
    ("args", "kw", "exc", "match"),
    [
        (([1.0, 2.5], [], 1), {}, ValueError, "'nid': an empty array"),
        (([1.0, 2.5], [-1, 0], 1), {}, ValueError, "'nid': -1. Allowed: node ids >= 0"),
        (([1.0, np.nan], [0, 1], 1), {}, ValueError, "'ts': nan"),
        (([1.0, 2.5], [0, 1], 0.001), {}, ValueError, "'seconds': 0.001 s"),
        (([1.0, 2.5], [0, 1], 1), {"time_shift": -1}, ValueError, "'time_shift': -1"),
        (([1.0, 2.5], [0, 1], 1), {"time_shift": 500}, ValueError, "time_shift <= 499"),
        (([1.0, 2.5], [0, 1], 1), {"time_shift": 1.5}, TypeError, "'time_shift' must be an int"),
        (([], [0], 1), {}, ValueError, "is constant"),
    ],
)
def test_shift_exc_noise_errors(args, kw, exc, match):
    with pytest.raises(exc, match=match):
        shift_exc_noise(*args, **kw)


# -- make_save_spikes: the very numbers of the original -----------------------------------
def test_scipy_poisson_rvs_consumes_the_global_stream_like_numpy():
    rng = np.random.default_rng(5)
    lam = rng.uniform(0, 0.05, (30, 800))
    lam[3, :] = 0
    lam[4, ::7] = 12.0  # the other branch (PTRS) of the legacy sampler
    np.random.seed(99)
    per_unit = np.stack([scipy.stats.poisson(lam[i]).rvs() for i in range(lam.shape[0])])
    after_scipy = np.random.random()
    np.random.seed(99)
    whole = np.random.poisson(lam)
    assert np.random.random() == after_scipy
    np.testing.assert_array_equal(whole, per_unit)


@pytest.mark.parametrize("exp", [True, False])
@pytest.mark.parametrize("chunk", [None, 3000])
def test_make_save_spikes_is_the_original(tmp_path, monkeypatch, exp, chunk):
    if chunk:
        monkeypatch.setattr(legacy, "_CHUNK_VALUES", chunk)  # 1 unit per block
    np.random.seed(31)
    noise = make_noise(4, 2500)
    prof = np.repeat(noise, 10, axis=0) * 20 - 14  # 40 units, some negative rates
    assert (prof < 0).any()
    dist = np.random.normal(0.5, 0.6, 40) if exp else np.random.uniform(0, 3, 40)
    kwargs = {"numUnits": 37, "start_id": 5, "start_time": 100}

    np.random.seed(2)
    ref = OriginalSonataWriter(tmp_path / "orig.h5", ["spikes", "exc_stim"], *SPIKES)
    original_make_save_spikes(ref, exp, dist, rateProf=prof.copy(), **kwargs)
    ref.close()
    after_ref = np.random.random()

    np.random.seed(2)
    prof_before = prof.copy()
    with spike_writer(tmp_path / "new.h5") as w:
        make_save_spikes(w, exp, dist, rateProf=prof, **kwargs)
    assert np.random.random() == after_ref
    np.testing.assert_array_equal(prof, prof_before)  # not clipped in place

    want_ids, want_ts = read_pop(tmp_path / "orig.h5")
    got_ids, got_ts = read_pop(tmp_path / "new.h5")
    assert want_ids.size > 500
    np.testing.assert_array_equal(got_ids, want_ids)
    np.testing.assert_array_equal(got_ts, want_ts)
    assert got_ids.dtype == np.uint64 and got_ts.dtype == np.float64


def test_make_save_spikes_works_with_the_original_writer(tmp_path):
    np.random.seed(4)
    prof = np.tile(make_noise(1, 1000), (5, 1)) * 30
    ref = OriginalSonataWriter(tmp_path / "orig.h5", ["spikes", "exc_stim"], *SPIKES)
    make_save_spikes(ref, False, np.ones(5), numUnits=5, rateProf=prof)
    ref.close()
    ids, ts = read_pop(tmp_path / "orig.h5")
    assert ids.size == ts.size > 0


# -- a build script, read back by BMTK and libsonata ---------------------------------------
def write_groups(path, dists, profs, units):
    with SonataWriter(
        path, ["spikes", "exc_stim"], ["timestamps", "node_ids"], [float, np.uint64]
    ) as w:
        for g, (dist, prof) in enumerate(zip(dists, profs, strict=True)):
            make_save_spikes(w, True, dist, numUnits=units, rateProf=prof, start_id=g * units)


def expected_groups(dists, profs, units, seed):
    """The stated semantics, written out unit by unit."""
    np.random.seed(seed)
    ids, ts = [], []
    for g, (dist, prof) in enumerate(zip(dists, profs, strict=True)):
        for i in range(units):
            rate = np.clip(prof[i], 0, None) * np.exp(dist[i])
            t = np.flatnonzero(np.random.poisson(rate / 1000) > 0)
            ids.append(np.full(t.size, g * units + i, np.uint64))
            ts.append(t.astype(np.float64))
    return np.concatenate(ids), np.concatenate(ts)


def test_build_script_groups_read_by_bmtk_and_libsonata(tmp_path):
    import libsonata
    from bmtk.utils.reports.spike_trains import SpikeTrains

    units = 20
    dists, profs = groups_inputs(units=units)
    path = tmp_path / "exc_stim_spikes.h5"
    np.random.seed(100)
    write_groups(path, dists, profs, units)
    want_ids, want_ts = expected_groups(dists, profs, units, seed=100)

    ids, ts = read_pop(path)
    np.testing.assert_array_equal(ids, want_ids)
    np.testing.assert_array_equal(ts, want_ts)
    assert set(np.unique(ids)) <= set(range(3 * units)) and np.unique(ids).size > 50
    assert ts.min() >= 0 and ts.max() < 2000 and np.all(ts == np.round(ts))
    with h5py.File(path, "r") as h5:
        assert h5.attrs["magic"] == 0x0A7A
        grp = h5["spikes/exc_stim"]
        assert grp["timestamps"].attrs["units"] == "ms"
        assert h5py.check_enum_dtype(grp.attrs.get_id("sorting").dtype) is not None
        assert sonata.SORTINGS[grp.attrs["sorting"]] == sonata.sort_order_of(ids, ts) == "by_id"

    pop = libsonata.SpikeReader(str(path))["exc_stim"]
    got = np.array(pop.get(), dtype=[("id", np.uint64), ("t", np.float64)])
    np.testing.assert_array_equal(got["id"], want_ids)
    np.testing.assert_array_equal(got["t"], want_ts)
    assert pop.sorting == "by_id"

    trains = SpikeTrains.load(str(path))
    assert list(trains.populations) == ["exc_stim"]
    df = trains.to_dataframe(populations="exc_stim", with_population_col=False)
    df = df.sort_values(["node_ids", "timestamps"], kind="stable")
    np.testing.assert_array_equal(df["node_ids"].to_numpy(np.uint64), want_ids)
    np.testing.assert_array_equal(df["timestamps"].to_numpy(np.float64), want_ts)


def test_empty_population_read_by_bmtk_and_libsonata(tmp_path):
    import libsonata
    from bmtk.utils.reports.spike_trains import SpikeTrains

    path = tmp_path / "empty.h5"
    with spike_writer(path) as w:
        make_save_spikes(w, False, np.zeros(4), numUnits=4, rateProf=np.ones((4, 100)))
        make_save_spikes(w, True, [], numUnits=0, rateProf=np.ones((0, 100)))
    ids, ts = read_pop(path)
    assert ids.size == ts.size == 0
    pop = libsonata.SpikeReader(str(path))["exc_stim"]
    assert list(pop.get()) == []
    trains = SpikeTrains.load(str(path))
    assert trains.n_spikes(population="exc_stim") == 0


# -- statistics ---------------------------------------------------------------------------
@pytest.mark.parametrize("rate_hz", [10.0, 200.0])
def test_realised_rate_within_bounds(tmp_path, rate_hz):
    units, n_ms = 200, 10_000
    np.random.seed(8)
    with spike_writer(tmp_path / "s.h5") as w:
        make_save_spikes(
            w, False, np.full(units, rate_hz), numUnits=units, rateProf=np.ones((units, n_ms))
        )
    ids, ts = read_pop(tmp_path / "s.h5")
    n_bins = units * n_ms
    # one spike per 1 ms bin with a count > 0: Binomial(n_bins, 1 - exp(-rate/1000)),
    # a little below Poisson(n_bins * rate/1000) (visibly so at 200 Hz)
    p = -np.expm1(-rate_hz / 1000)
    lo, hi = scipy.stats.binom.ppf([1e-6, 1 - 1e-6], n_bins, p)
    assert lo <= ids.size <= hi
    if rate_hz == 200.0:
        assert ids.size < scipy.stats.poisson.ppf(1e-6, n_bins * rate_hz / 1000)
    # no bin holds two spikes of one unit
    assert np.unique(ids.astype(np.float64) * n_ms + ts).size == ids.size


# -- make_save_spikes: bad inputs ---------------------------------------------------------
GOOD = {"exp": True, "dist": np.zeros(4), "numUnits": 4, "rateProf": np.ones((4, 50))}


def _bad(**kw):
    return {**GOOD, **kw}


def _nan_at(shape, idx, val=np.nan):
    a = np.ones(shape)
    a[idx] = val
    return a


@pytest.mark.parametrize(
    ("kw", "exc", "match"),
    [
        (_bad(rateProf=None), ValueError, "'rateProf' is required.*Got None"),
        (_bad(rateProf=np.ones(50)), ValueError, r"'rateProf': \(50,\) with numUnits=4"),
        (_bad(rateProf=np.ones((3, 50))), ValueError, r"'rateProf': \(3, 50\).*at least numUnits"),
        (_bad(rateProf=np.ones((4, 5, 2))), ValueError, r"'rateProf': \(4, 5, 2\)"),
        (_bad(rateProf=_nan_at((4, 50), (2, 7))), ValueError, r"'rateProf': nan \(unit 2, bin 7\)"),
        (_bad(rateProf=_nan_at((4, 50), (3, 0), np.inf)), ValueError, "'rateProf': inf"),
        (_bad(dist=np.zeros(3)), ValueError, "'dist': 3 values for numUnits=4"),
        (_bad(dist=None), ValueError, "'dist': None"),
        (_bad(dist=[0, 0, np.nan, 0]), ValueError, r"'dist': nan \(unit 2\)"),
        (_bad(dist=[0, -np.inf, 0, 0]), ValueError, r"'dist': -inf \(unit 1\)"),
        (_bad(dist=[0, 0, 0, 800.0]), ValueError, "overflows np.exp"),
        (_bad(exp=False, dist=[1, -1, 1, 1]), ValueError, r"'dist': -1 \(unit 1\) with exp=False"),
        (
            _bad(exp=False, dist=[1, 1, 1, 1e300], rateProf=_nan_at((4, 5), (3, 1), 1e300)),
            ValueError,
            "Invalid rate for unit 3: inf Hz",
        ),
        (_bad(numUnits=-1), ValueError, "'numUnits': -1. Allowed: an integer >= 0"),
        (_bad(numUnits=2.0), TypeError, "'numUnits' must be an integer"),
        (_bad(exp="yes"), TypeError, "'exp' must be a bool"),
        (_bad(start_id=-3), ValueError, "'start_id': -3"),
        (_bad(start_time=np.nan), ValueError, "'start_time': nan"),
    ],
)
def test_make_save_spikes_bad_inputs(tmp_path, kw, exc, match):
    np.random.seed(1)
    state = np.random.get_state()[1].copy()
    with spike_writer(tmp_path / "s.h5") as w:
        with pytest.raises(exc, match=match):
            make_save_spikes(w, **kw)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # nothing drawn
    ids, ts = read_pop(tmp_path / "s.h5")
    assert ids.size == ts.size == 0  # nothing appended


def test_make_save_spikes_needs_a_writer():
    with pytest.raises(TypeError, match="'writer' must have an append_ds"):
        make_save_spikes(None, **GOOD)


# -- SonataWriter -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("types", "want"),
    [
        ([np.float64, np.uint64], ("f8", "u8")),
        ([float, int], ("f8", "i8")),
        (["float64", "uint64"], ("f8", "u8")),
        (["f8", "u8"], ("f8", "u8")),
        ([np.dtype("f4"), "i4"], ("f4", "i4")),
    ],
)
def test_writer_accepts_type_forms(tmp_path, types, want):
    with SonataWriter(tmp_path / "a.h5", ["g"], ["t", "n"], types) as w:
        w.append_ds([1, 2], "t")
        w.append_repeat("n", 3, 2)
        assert isinstance(w.file, h5py.File) and w.group.name == "/g"
        assert set(w.datasets) == {"t", "n"}
    with h5py.File(tmp_path / "a.h5", "r") as h5:
        assert (h5["g/t"].dtype.str[1:], h5["g/n"].dtype.str[1:]) == want
        np.testing.assert_array_equal(h5["g/n"][:], [3, 3])
        assert "magic" not in h5.attrs  # not a SONATA spikes layout


def test_writer_nested_groups_and_order(tmp_path):
    with SonataWriter(tmp_path / "a.h5", ["a", "b", "c"], ["x"], ["f8"], buffer_size=5) as w:
        assert w.group.name == "/a/b/c"
        for k in range(4):
            w.append_ds(np.arange(3) + 3 * k, "x")
    with h5py.File(tmp_path / "a.h5", "r") as h5:
        np.testing.assert_array_equal(h5["a/b/c/x"][:], np.arange(12))


def test_writer_buffers_and_flushes_in_blocks(tmp_path):
    path = tmp_path / "a.h5"
    w = spike_writer(path, buffer_size=100)
    w.append_ds(np.arange(60.0), "timestamps")
    assert w.datasets["timestamps"].shape == (0,)  # buffered
    w.append_ds(np.arange(60.0, 120.0), "timestamps")
    assert w.datasets["timestamps"].shape == (120,)  # one block written
    w.append_repeat("node_ids", 7, 250)  # split into buffer-sized pieces
    assert w.datasets["node_ids"].shape == (200,)
    assert not path.exists()  # nothing at the destination before close
    w.append_repeat("node_ids", 7, 0)
    w.append_ds(np.arange(120.0, 250.0), "timestamps")
    w.close()
    ids, ts = read_pop(path)
    np.testing.assert_array_equal(ts, np.arange(250.0))
    np.testing.assert_array_equal(ids, np.full(250, 7))
    assert list(tmp_path.iterdir()) == [path]  # no temporary left


@pytest.mark.parametrize(
    ("ids", "ts"),
    [
        ([0, 1, 1, 2], [1.0, 2.0, 2.0, 5.0]),
        ([0, 0, 1, 2], [5.0, 1.0, 2.0, 0.0]),
        ([1, 0, 1, 2], [5.0, 1.0, 2.0, 0.0]),
        ([3], [1.0]),
        ([], []),
    ],
)
@pytest.mark.parametrize("buffer_size", [1, 2, 100])
def test_writer_sorting_attribute_tells_the_truth(tmp_path, ids, ts, buffer_size):
    path = tmp_path / "a.h5"
    with spike_writer(path, buffer_size=buffer_size) as w:
        for i, t in zip(ids, ts, strict=True):
            w.append_repeat("node_ids", i, 1)
            w.append_ds([t], "timestamps")
    with h5py.File(path, "r") as h5:
        label = sonata.SORTINGS[h5["spikes/exc_stim"].attrs["sorting"]]
    assert label == sonata.sort_order_of(np.array(ids, np.uint64), np.array(ts, np.float64))


def test_writer_refuses_existing_file_unless_overwrite(tmp_path):
    path = tmp_path / "a.h5"
    path.write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="Refusing to overwrite existing file"):
        spike_writer(path)
    assert path.read_bytes() == b"precious"
    with spike_writer(path, overwrite=True) as w:
        w.append_ds([1.0], "timestamps")
        w.append_repeat("node_ids", 0, 1)
        assert path.read_bytes() == b"precious"  # replaced only on close
    assert read_pop(path)[1].tolist() == [1.0]


def test_writer_unequal_lengths_fail_at_close(tmp_path):
    path = tmp_path / "a.h5"
    w = spike_writer(path)
    w.append_ds([1.0, 2.0], "timestamps")
    w.append_repeat("node_ids", 0, 1)
    with pytest.raises(ValueError, match="has 1 node_ids but 2 timestamps"):
        w.close()
    assert list(tmp_path.iterdir()) == []


def test_writer_context_manager_discards_on_error(tmp_path):
    path = tmp_path / "a.h5"
    with pytest.raises(RuntimeError, match="boom"):
        with spike_writer(path) as w:
            w.append_ds([1.0], "timestamps")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_writer_unknown_dataset(tmp_path):
    with spike_writer(tmp_path / "a.h5") as w:
        with pytest.raises(
            KeyError, match="No dataset 'spikes' in this writer; it has: timestamps, node_ids"
        ):
            w.append_ds([1.0], "spikes")
        with pytest.raises(KeyError, match="No dataset 'ids'"):
            w.append_repeat("ids", 1, 2)


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (
            lambda w: w.append_repeat("node_ids", 1, -2),
            ValueError,
            "'N': -2. Allowed: an integer >= 0",
        ),
        (lambda w: w.append_repeat("node_ids", 1, 2.5), TypeError, "'N' must be an integer"),
        (lambda w: w.append_repeat("node_ids", [1, 2], 2), ValueError, "'val'.*a single number"),
        (lambda w: w.append_repeat("node_ids", -1, 2), ValueError, "'node_ids' \\(uint64\\): -1"),
        (lambda w: w.append_ds([1.5], "node_ids"), ValueError, "'node_ids' \\(uint64\\): 1.5"),
        (lambda w: w.append_ds([[1.0]], "timestamps"), ValueError, r"shape \(1, 1\)"),
        (lambda w: w.append_ds(["a"], "timestamps"), TypeError, "dtype <U1"),
    ],
)
def test_writer_bad_appends(tmp_path, call, exc, match):
    with spike_writer(tmp_path / "a.h5") as w:
        with pytest.raises(exc, match=match):
            call(w)


@pytest.mark.parametrize(
    ("args", "exc", "match"),
    [
        ((["spikes", "p"], ["t", "n"], [float]), ValueError, "'types'.*one type per dataset"),
        ((["spikes", "p"], ["t"], ["words"]), TypeError, "dataset 't': 'words'"),
        ((["spikes", "p"], ["t"], [str]), TypeError, "dataset 't'"),
        ((["spikes", "p"], ["t", "t"], [float, float]), ValueError, "repeats a name"),
        ((["spi/kes"], ["t"], [float]), ValueError, "'groups': 'spi/kes'"),
        (("spikes", ["t"], [float]), TypeError, "'groups' must be a list"),
        ((["spikes"], [], []), ValueError, "'datasets': \\[\\]"),
    ],
)
def test_writer_bad_layout(tmp_path, args, exc, match):
    with pytest.raises(exc, match=match):
        SonataWriter(tmp_path / "a.h5", *args)
    assert list(tmp_path.iterdir()) == []


def test_writer_closed_is_final(tmp_path):
    w = spike_writer(tmp_path / "a.h5")
    assert w.close() == tmp_path / "a.h5"
    assert w.close() == tmp_path / "a.h5"  # idempotent
    with pytest.raises(ValueError, match="the writer is closed"):
        w.append_ds([1.0], "timestamps")


def test_writer_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        spike_writer(tmp_path / "no" / "a.h5")
