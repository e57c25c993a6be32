"""Tests of raster_maker.legacy: the original module's recorded outputs, and our own rules.

The numbers of the original module (L5NeuronSimulation's raster_maker.py) were recorded once,
outside the project, by running the cases of ``fixtures/legacy/cases.py`` on it (see
``fixtures/legacy/README.md``). Here the same cases run on :mod:`raster_maker.legacy` and
must give the very same arrays.
"""

# ruff: noqa: NPY002 - these tests drive numpy's global generator, as the legacy API does
from __future__ import annotations

import importlib.util
import logging
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.stats

from raster_maker import legacy, sonata
from raster_maker.legacy import (
    SonataWriter,
    UnclosedWriterWarning,
    make_noise,
    make_save_spikes,
    minmax,
    shift_exc_noise,
    zscore,
)

FIXTURES = Path(__file__).parent / "fixtures" / "legacy"
SPIKES = (["timestamps", "node_ids"], [float, np.uint64])


def _load_cases():
    spec = importlib.util.spec_from_file_location("legacy_cases", FIXTURES / "cases.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


cases = _load_cases()


def recorded(fixture: str, case: str) -> dict[str, np.ndarray]:
    """The arrays the original module gave for one case."""
    with np.load(FIXTURES / fixture) as npz:
        return {k.split("/", 1)[1]: npz[k] for k in npz.files if k.split("/", 1)[0] == case}


def assert_same(got: dict, want: dict) -> None:
    assert set(got) == set(want)
    for key, val in want.items():
        val_got = np.asarray(got[key])
        assert val_got.dtype == val.dtype, key
        np.testing.assert_array_equal(val_got, val, err_msg=key)


# -- helpers ------------------------------------------------------------------------------
def read_pop(path, pop="exc_stim"):
    with h5py.File(path, "r") as h5:
        grp = h5["spikes"][pop]
        return grp["node_ids"][:], grp["timestamps"][:]


def spike_writer(path, **kw):
    return SonataWriter(path, ["spikes", "exc_stim"], *SPIKES, **kw)


def temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if ".raster_maker-tmp-" in p.name]


# -- the recorded inputs are the ones the cases make ---------------------------------------
def test_fixture_inputs_are_reproduced():
    assert_same(cases.spike_inputs(), recorded("make_save_spikes.npz", "inputs"))
    assert_same(cases.raster_inputs(), recorded("shift_exc_noise.npz", "inputs"))


# -- normalisations -----------------------------------------------------------------------
def test_minmax_and_zscore_values():
    x = np.array([2.0, 4.0, 6.0, 10.0])
    np.testing.assert_array_equal(minmax(x), [0.0, 0.25, 0.5, 1.0])
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
@pytest.mark.parametrize("name", list(cases.NOISE_CASES))
def test_make_noise_matches_the_original(name):
    # the traces, and the next draw after them: the global stream is consumed identically
    assert_same(cases.noise_case(legacy, name), recorded("make_noise.npz", name))


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
        ({"num_traces": np.arange(500)}, TypeError, r"single number, got shape \(500,\)"),
    ],
)
def test_make_noise_errors(kw, exc, match):
    with pytest.raises(exc, match=match):
        make_noise(**kw)


# -- shift_exc_noise ----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["default", "default_h5py"])
def test_shift_exc_noise_matches_the_original(tmp_path, name):
    case, from_h5py = name.removesuffix("_h5py"), name.endswith("_h5py")
    got = cases.shift_case(legacy, case, tmp_path if from_h5py else None)
    assert got["profile"].shape == (599,)  # edges 0..599: 599 bins
    assert_same(got, recorded("shift_exc_noise.npz", name))


@pytest.mark.parametrize("name", ["time_shift_2", "time_shift_2_h5py"])
def test_shift_exc_noise_honours_the_time_shift_the_original_ignored(name):
    # the original always shifted by 4, whatever time_shift said (the study passes 2)
    want = recorded("shift_exc_noise.npz", name)["profile"]
    raster = cases.raster_inputs()
    ours_4 = shift_exc_noise(raster["ts"], raster["nid"], cases.SHIFT_SECONDS, time_shift=4)
    ours_2 = shift_exc_noise(raster["ts"], raster["nid"], cases.SHIFT_SECONDS, time_shift=2)
    np.testing.assert_array_equal(ours_4, want)
    assert not np.array_equal(ours_2, want)


@pytest.fixture
def raster():
    rng = np.random.default_rng(2024)
    nid = rng.integers(0, 50, 20000)
    ts = rng.uniform(0, 3000, nid.size)
    return ts, nid


@pytest.mark.parametrize("k", [1, 2, 4, 7, 100, 1499])
def test_shift_exc_noise_shift_as_documented(raster, k):
    """Bins k: hold the profile k bins earlier, bins :k hold its bins [n - 2k, n - k)."""
    ts, nid = raster
    unshifted = shift_exc_noise(ts, nid, 3, time_shift=0)  # min-max is affine-invariant
    n = unshifted.size
    want = minmax(np.concatenate([unshifted[n - 2 * k : n - k], unshifted[: n - k]])) + 0.5
    np.testing.assert_allclose(shift_exc_noise(ts, nid, 3, time_shift=k), want, rtol=0, atol=1e-12)


@pytest.mark.parametrize("k", [-5, 0, 1, 4, 50, 2998, 5000])
def test_shift_exc_noise_circular_is_a_roll(raster, k):
    ts, nid = raster
    unshifted = shift_exc_noise(ts, nid, 3, time_shift=0)
    np.testing.assert_array_equal(
        shift_exc_noise(ts, nid, 3, time_shift=k, circular=True), np.roll(unshifted, k)
    )


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


def test_shift_exc_noise_accepts_lists(raster):
    ts, nid = raster
    np.testing.assert_array_equal(
        shift_exc_noise(list(ts), list(nid), 3), shift_exc_noise(ts, nid, 3)
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
        (([1.0, 2.5], [0, 1], np.ones(9)), {}, TypeError, r"'seconds'.*shape \(9,\)"),
        (([], [0], 1), {}, ValueError, "is constant"),
    ],
)
def test_shift_exc_noise_errors(args, kw, exc, match):
    with pytest.raises(exc, match=match):
        shift_exc_noise(*args, **kw)


# -- make_save_spikes: the original's numbers ---------------------------------------------
def test_scipy_poisson_rvs_consumes_the_global_stream_like_numpy():
    # the original drew scipy.stats.poisson(rate / 1000).rvs() per unit; we draw whole
    # blocks with np.random.poisson: the same values, in the same order
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


@pytest.mark.parametrize("name", list(cases.SPIKE_CASES))
@pytest.mark.parametrize("chunk", [None, 1000])
def test_make_save_spikes_matches_the_original(tmp_path, monkeypatch, name, chunk):
    if chunk:
        monkeypatch.setattr(legacy, "_CHUNK_VALUES", chunk)  # 2 units per block
    want = recorded("make_save_spikes.npz", name)
    assert want["node_ids"].size > 150
    assert_same(cases.spikes_case(legacy, name, tmp_path), want)


def _as_list_of_lists(a):
    return a.tolist()


def _as_list_of_rows(a):
    return list(a)


@pytest.mark.parametrize(
    ("form", "dist", "rate_prof"),
    [
        ("dist (n, 1)", lambda d: d[:, None], None),
        ("dist (n, 1, 1)", lambda d: d[:, None, None], None),
        ("dist list", lambda d: d.tolist(), None),
        ("dist list of 1-element lists", lambda d: d[:, None].tolist(), None),
        ("rateProf list of lists", None, _as_list_of_lists),
        ("rateProf list of arrays", None, _as_list_of_rows),
    ],
)
def test_make_save_spikes_accepts_the_originals_input_forms(tmp_path, form, dist, rate_prof):
    inputs = cases.spike_inputs()
    got = cases.spikes_case(
        legacy,
        "linear",
        tmp_path,
        dist=None if dist is None else dist(inputs["rates"]),
        rate_prof=None if rate_prof is None else rate_prof(inputs["rate_prof"]),
    )
    assert_same(got, recorded("make_save_spikes.npz", "linear"))


def test_make_save_spikes_reads_h5py_datasets(tmp_path):
    inputs = cases.spike_inputs()
    with h5py.File(tmp_path / "inputs.h5", "w") as h5:
        h5["rate_prof"], h5["log_rates"] = inputs["rate_prof"], inputs["log_rates"]
    with h5py.File(tmp_path / "inputs.h5", "r") as h5:
        got = cases.spikes_case(
            legacy, "exp", tmp_path, dist=h5["log_rates"], rate_prof=h5["rate_prof"]
        )
    assert_same(got, recorded("make_save_spikes.npz", "exp"))


def test_make_save_spikes_leaves_the_rate_profile_alone(tmp_path):
    prof = cases.spike_inputs()["rate_prof"]
    assert (prof < 0).any()  # the original clipped these in place
    before = prof.copy()
    got = cases.spikes_case(legacy, "linear", tmp_path, rate_prof=prof)
    np.testing.assert_array_equal(prof, before)
    assert_same(got, recorded("make_save_spikes.npz", "linear"))


class ListWriter:
    """The least a writer needs for make_save_spikes: append_ds(vals, ds)."""

    def __init__(self):
        self.data = {"node_ids": [], "timestamps": []}

    def append_ds(self, vals, ds):
        self.data[ds].extend(np.asarray(vals).tolist())


def test_make_save_spikes_works_with_any_writer():
    seed, exp, key, n, start_id, start_time = cases.SPIKE_CASES["exp"]
    inputs = cases.spike_inputs()
    writer = ListWriter()
    np.random.seed(seed)
    make_save_spikes(
        writer, exp, inputs[key], n, inputs["rate_prof"], start_id=start_id, start_time=start_time
    )
    want = recorded("make_save_spikes.npz", "exp")
    np.testing.assert_array_equal(writer.data["node_ids"], want["node_ids"])
    np.testing.assert_array_equal(writer.data["timestamps"], want["timestamps"])


# -- the study's flow: never-closed writers, read back at once, (n, 1) dist ---------------
def _let_go(fname):
    return pytest.warns(
        UnclosedWriterWarning,
        match=rf"{fname}' \(created at .*cases.py:\d+\) was garbage-collected without "
        r"close\(\); its data were written and the file moved into place",
    )


def test_study_flow_matches_the_original(tmp_path):
    files = {key: tmp_path / fname for key, (fname, _) in cases.FLOW_FILES.items()}
    drawn = {}
    np.random.seed(cases.STUDY_SEED + 9)
    with _let_go("exc_stim_spikes.h5"):
        drawn["exc"] = cases.exc_groups(legacy, files["exc"])
    assert files["exc"].exists()  # there as soon as the function has returned
    np.random.seed(cases.STUDY_SEED + 10)
    with _let_go("prox_inh_stim_spikes.h5"):  # reads the excitation file with h5py first
        drawn["prox"] = cases.shifted_inhibition(legacy, files["exc"], files["prox"])
    np.random.seed(cases.STUDY_SEED + 11)
    with _let_go("dist_inh_stim_spikes.h5"):
        drawn["dist"] = cases.rhythmic_inhibition(legacy, files["dist"])

    got = cases.flow_result(tmp_path, drawn)
    want = recorded("study_flow.npz", "flow")
    for key in ("exc_rates", "prox_rates", "dist_rates"):
        # drawn by scipy.stats (levy_stable, truncnorm) from the global stream, not by us:
        # if these differ, scipy's samplers changed, and the fixtures must be re-recorded
        np.testing.assert_array_equal(
            got[key], want[key], err_msg=f"{key}: scipy {scipy.__version__} draws differ"
        )
    assert_same(got, want)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f.name for f in files.values())
    for key, (_, pop) in cases.FLOW_FILES.items():
        with h5py.File(files[key], "r") as h5:
            assert h5.attrs["magic"] == 0x0A7A
            assert sonata.SORTINGS[h5["spikes"][pop].attrs["sorting"]] == "by_id"


def test_study_flow_files_read_by_bmtk_and_libsonata(tmp_path):
    import libsonata
    from bmtk.utils.reports.spike_trains import SpikeTrains

    path = tmp_path / "exc_stim_spikes.h5"
    np.random.seed(cases.STUDY_SEED + 9)
    with _let_go("exc_stim_spikes.h5"):
        cases.exc_groups(legacy, path)
    want = recorded("study_flow.npz", "flow")
    want_ids, want_ts = want["exc_node_ids"], want["exc_timestamps"]

    pop = libsonata.SpikeReader(str(path))["exc_stim"]
    got = np.array(pop.get(), dtype=[("id", np.int64), ("t", np.float64)])
    np.testing.assert_array_equal(got["id"], want_ids)
    np.testing.assert_array_equal(got["t"], want_ts)
    assert pop.sorting == "by_id"

    trains = SpikeTrains.load(str(path))
    assert list(trains.populations) == ["exc_stim"]
    df = trains.to_dataframe(populations="exc_stim", with_population_col=False)
    df = df.sort_values(["node_ids", "timestamps"], kind="stable")
    np.testing.assert_array_equal(df["node_ids"].to_numpy(np.int64), want_ids)
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
        (_bad(rateProf=np.ones(50)), ValueError, r"'rateProf': shape \(50,\) .* numUnits=4"),
        (_bad(rateProf=np.ones((3, 50))), ValueError, r"'rateProf': shape \(3, 50\).*at least"),
        (_bad(rateProf=np.ones((4, 5, 2))), ValueError, r"'rateProf': shape \(4, 5, 2\)"),
        (_bad(rateProf=[[1.0] * 50] * 3 + [[1.0]]), ValueError, r"'rateProf': \[\[1.0,"),
        (_bad(rateProf=_nan_at((4, 50), (2, 7))), ValueError, r"'rateProf': nan \(unit 2, bin 7\)"),
        (_bad(rateProf=_nan_at((4, 50), (3, 0), np.inf)), ValueError, "'rateProf': inf"),
        (_bad(dist=np.zeros(3)), ValueError, "'dist': 3 values for numUnits=4"),
        (_bad(dist=None), ValueError, "'dist': None"),
        (_bad(dist=3.0), ValueError, r"shape for 'dist': 3.0. Allowed: .*\(numUnits, 1\)"),
        (_bad(dist=np.ones((4, 2))), ValueError, r"shape for 'dist': shape \(4, 2\)"),
        (_bad(dist=np.ones((1, 4))), ValueError, r"shape for 'dist': shape \(1, 4\)"),
        (_bad(dist=[[0.0], [0.0, 1.0], [0.0], [0.0]]), ValueError, "value for 'dist': \\[\\["),
        (_bad(dist=np.zeros((3, 1))), ValueError, r"'dist': 3 values for numUnits=4"),
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


BIG = np.arange(5000.0)


@pytest.mark.parametrize(
    "kw",
    [
        _bad(dist=BIG.reshape(1000, 5)),
        _bad(dist=BIG[:9, None], numUnits=10, rateProf=np.ones((10, 5))),
        _bad(rateProf=BIG),
        _bad(rateProf=BIG.reshape(2, 50, 50)),
        _bad(numUnits=BIG.astype(int)),
        _bad(exp=BIG),
        _bad(start_time=BIG),
    ],
)
def test_make_save_spikes_errors_never_print_a_whole_array(kw):
    with pytest.raises((TypeError, ValueError), match=r"shape \(\d+[,\d ]*\)") as info:
        make_save_spikes(ListWriter(), **kw)
    message = str(info.value)
    assert len(message) < 300 and "\n" not in message and "..." in message


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


def test_writer_append_errors_never_print_a_whole_array(tmp_path):
    with spike_writer(tmp_path / "a.h5") as w:
        with pytest.raises(ValueError, match=r"'val': shape \(5000,\) \[0.0, 1.0, 2.0, 3.0, ...\]"):
            w.append_repeat("node_ids", BIG, 2)
        with pytest.raises(ValueError, match=r"shape \(2, 2500\)"):
            w.append_ds(BIG.reshape(2, 2500), "timestamps")


# -- a writer never closed ------------------------------------------------------------------
def _append_some(w, n=3):
    w.append_ds(np.arange(float(n)), "timestamps")
    w.append_repeat("node_ids", 7, n)


def test_unclosed_writer_is_written_when_let_go(tmp_path):
    path = tmp_path / "a.h5"

    def build():  # the study's habit: make a writer, fill it, return without close()
        _append_some(spike_writer(path, buffer_size=2), n=5)

    with pytest.warns(UnclosedWriterWarning, match=r"without close\(\); its data were written"):
        build()
    ids, ts = read_pop(path)  # complete as soon as build() has returned
    np.testing.assert_array_equal(ts, np.arange(5.0))
    np.testing.assert_array_equal(ids, np.full(5, 7))
    with h5py.File(path, "r") as h5:  # closed as by close(): the SONATA attributes are there
        assert h5.attrs["magic"] == 0x0A7A
    assert temporaries(tmp_path) == []


def test_unclosed_writer_warning_points_at_the_caller(tmp_path):
    with pytest.warns(UnclosedWriterWarning) as record:
        spike_writer(tmp_path / "a.h5")  # made and dropped on this line
    assert Path(record[0].filename).name == "test_legacy.py"
    assert f"test_legacy.py:{record[0].lineno})" in str(record[0].message)


def test_unclosed_writer_let_go_while_an_exception_is_in_flight_is_discarded(tmp_path):
    path = tmp_path / "a.h5"
    path.write_bytes(b"earlier")

    def fail():
        w = spike_writer(path, overwrite=True)
        _append_some(w)
        try:
            raise RuntimeError("boom")
        finally:
            del w  # let go while RuntimeError propagates

    with pytest.warns(
        UnclosedWriterWarning, match="RuntimeError was in flight, so it was discarded"
    ):
        with pytest.raises(RuntimeError, match="boom"):
            fail()
    assert path.read_bytes() == b"earlier"
    assert temporaries(tmp_path) == []


def test_unclosed_writer_let_go_after_a_caught_exception_is_written(tmp_path):
    # documented: once handled, the exception is no longer in flight; the writer is let go
    # after the handler and keeps what was appended before the exception, as the original
    path = tmp_path / "a.h5"

    def fail():
        w = spike_writer(path)
        _append_some(w)
        raise RuntimeError("boom")

    with pytest.warns(UnclosedWriterWarning, match="its data were written"):
        try:
            fail()
        except RuntimeError:
            pass
    assert read_pop(path)[1].tolist() == [0.0, 1.0, 2.0]


def test_unclosed_writer_made_while_handling_an_exception_is_written(tmp_path):
    path = tmp_path / "a.h5"

    def build():
        _append_some(spike_writer(path))

    with pytest.warns(UnclosedWriterWarning, match="its data were written"):
        try:
            raise KeyError("handled")
        except KeyError:
            build()  # the KeyError being handled did not unwind through build()
    assert read_pop(path)[1].size == 3


def test_unclosed_writer_that_cannot_be_written_is_discarded(tmp_path):
    path = tmp_path / "a.h5"

    def build():
        w = spike_writer(path)
        w.append_ds([1.0, 2.0], "timestamps")
        w.append_repeat("node_ids", 0, 1)

    with pytest.warns(UnclosedWriterWarning, match="writing it failed .*1 node_ids but 2 times"):
        build()
    assert list(tmp_path.iterdir()) == []


def test_closed_or_aborted_writers_do_not_warn(tmp_path):
    with spike_writer(tmp_path / "a.h5") as w:
        _append_some(w)
    w = spike_writer(tmp_path / "b.h5")
    w.close()
    w = spike_writer(tmp_path / "c.h5")
    w.abort()
    del w
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.h5", "b.h5"]


def test_core_spikes_writer_let_go_is_still_discarded(tmp_path, caplog):
    # the shared mixin commits only writers that ask for it (the legacy SonataWriter)
    path = tmp_path / "core.h5"

    def build():
        sonata.SpikesWriter(path).append("p", [0, 1], [1.0, 2.0])

    with caplog.at_level(logging.WARNING, logger="raster_maker"):
        build()
    assert "was never closed; discarding it" in caplog.text
    assert list(tmp_path.iterdir()) == []
