"""Input models: one contract for every registered generator, then each model's own promise
(rhythmic depth, inhibition following excitation, functional groups), and bad inputs.

Statistical bounds are at about 1e-6 per assertion (fixed seeds; see test_processes.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats
from sources import replay_source

from raster_maker import generate, make_model
from raster_maker.models import FunctionalGroups, RateModel, Units
from raster_maker.registry import available_generators, get_generator, register
from raster_maker.sonata import read_metadata, read_provenance, read_spikes

P = 1e-6
Z = stats.norm.isf(P / 2)
SEED = 777


def _followed_spikes():
    rng = np.random.default_rng(SEED)  # any excitatory raster will do for the contract
    return np.sort(rng.uniform(-50.0, 1500.0, 4000))


# parameters a generator cannot run without; every other parameter keeps its default
REQUIRED_PARAMS = {
    "shifted_inhibition": lambda: {"follow": {"timestamps_ms": _followed_spikes(), "n_units": 50}},
    "stimulus": lambda: {
        "assemblies": {"method": "random", "n": 3},
        "pattern": "short",
        "on_ms": 200.0,
        "off_ms": 100.0,
        "off_hz": 5.0,
        "silent_hz": 1.0,
    },
    "replay": lambda: {"source": replay_source(), "mapping": "resample"},
    "cpp": lambda: {"amplitude_distribution": [0.1, 0.5, 0.2, 0.1, 0.1]},
    "layers": lambda: {
        "layers": [
            {"generator": "poisson", "rate_hz": {"preset": "lognormal", "mean_hz": 3, "sd_hz": 2}},
            {"generator": "rhythmic", "rates": 5.0, "frequency_hz": 4.0},
        ]
    },
}
# generators whose total count is not Poisson given the recorded targets (shared
# fluctuations or shared events make it overdispersed); they state their own bounds
NOT_POISSON_TOTAL = {"mip", "sip", "cpp"}


def is_rate_model(name):
    return issubclass(get_generator(name), RateModel)


def params_for(name):
    return REQUIRED_PARAMS.get(name, dict)()


GENERATORS = available_generators()


def test_builtin_generators_are_registered():
    assert {"poisson", "functional_groups", "shifted_inhibition", "rhythmic"} <= set(GENERATORS)


# -- the contract ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", GENERATORS)
@pytest.mark.parametrize(("tstart", "tstop"), [(0.0, 1500.0), (-200.0, 800.0), (250.0, 1250.5)])
def test_generator_contract(name, tstart, tstop, tmp_path):
    node_ids = np.array([3, 0, 7, 250, 11, 12, 13, 5000, 2**40] + list(range(300, 500)))
    res = generate(name, "stim", node_ids, tstart, tstop, params=params_for(name), seed=SEED)
    df = res.spikes
    ids, ts = df["node_ids"].to_numpy(), df["timestamps"].to_numpy()
    assert res.n_spikes == ids.size > 0
    assert res.seed == SEED and res.n_nodes == node_ids.size
    assert np.all((ts > tstart) & (ts < tstop))
    if tstart >= 0:
        assert np.all(ts > 0)  # NEST refuses spike times <= 0
    assert set(np.unique(ids)) <= set(node_ids.tolist())
    assert np.all(np.diff(ids.astype(np.int64)) >= 0)  # node-id order ...
    same = ids[1:] == ids[:-1]
    assert np.all(np.diff(ts)[same] >= 0)  # ... sorted within each node
    # same seed, same spikes
    again = generate(name, "stim", node_ids, tstart, tstop, params=params_for(name), seed=SEED)
    pd.testing.assert_frame_equal(again.spikes, df)

    # written to a file: provenance recorded, and the count matches the recorded targets
    path = tmp_path / "out.h5"
    res = generate(
        name, "stim", node_ids, tstart, tstop, params=params_for(name), seed=SEED, output=path
    )
    assert res.path == str(path)
    back = read_spikes(path, "stim")
    np.testing.assert_array_equal(back["node_ids"].to_numpy(), ids)
    np.testing.assert_array_equal(back["timestamps"].to_numpy(), ts)
    prov = read_provenance(path, "stim")
    assert prov["generator"] == name
    assert prov["seed"] == SEED
    assert prov["tstart_ms"] == tstart and prov["tstop_ms"] == tstop
    assert prov["n_nodes"] == node_ids.size
    assert isinstance(prov["params"], dict)
    if is_rate_model(name):
        assert "process" in prov["params"]
    assert make_model(name, params_for(name)).params().keys() == prov["params"].keys()
    meta = read_metadata(path, "stim")
    np.testing.assert_array_equal(meta["node_ids"], np.sort(node_ids))
    target = meta["target_rate_hz"]
    assert np.all(np.isfinite(target) & (target >= 0))
    if name in NOT_POISSON_TOTAL:
        return
    # the default process is Poisson: given the profiles, the total count is Poisson
    mu = target.sum() * (tstop - tstart) / 1000.0
    lo, hi = stats.poisson.ppf(P / 2, mu), stats.poisson.isf(P / 2, mu)
    assert lo <= ids.size <= hi


@pytest.mark.parametrize("name", [g for g in GENERATORS if is_rate_model(g)])
@pytest.mark.parametrize("process", [{"process": "gamma", "order": 3}, {"refractory_ms": 2.0}])
def test_generator_contract_other_processes(name, process):
    params = {**params_for(name), **process}
    node_ids = np.arange(100)
    res = generate(name, "stim", node_ids, 0.0, 1000.0, params=params, seed=SEED)
    ids, ts = res.spikes["node_ids"].to_numpy(), res.spikes["timestamps"].to_numpy()
    assert np.all((ts > 0.0) & (ts < 1000.0))
    assert np.all(np.diff(ids.astype(np.int64)) >= 0)
    d = np.diff(ts)[ids[1:] == ids[:-1]]
    assert np.all(d > 0)
    if "refractory_ms" in process:
        assert d.min() >= 2.0


def test_unknown_generator_lists_the_available_ones():
    with pytest.raises(KeyError, match=r"Unknown generator 'poison'. Available: .*poisson"):
        get_generator("poison")
    with pytest.raises(
        KeyError, match=r"Unknown generator 'poison'. Available: .*functional_groups"
    ):
        generate("poison", "p", [0], 0.0, 10.0, seed=1)


def test_unknown_generator_parameter_lists_the_allowed_ones():
    with pytest.raises(
        TypeError, match=r"Unknown parameter\(s\) 'rate' for generator 'poisson'.*rate_hz"
    ):
        generate("poisson", "p", [0], 0.0, 10.0, params={"rate": 5.0}, seed=1)


def test_register_refuses_a_second_class_under_a_taken_name():
    class Other(FunctionalGroups):
        name = "poisson"

    with pytest.raises(ValueError, match=r"A generator named 'poisson' is already registered"):
        register(Other)

    class Nameless:
        pass

    with pytest.raises(ValueError, match=r"Generator class Nameless has no 'name'"):
        register(Nameless)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"node_ids": []}, ValueError, r"Empty node set for population 'p'"),
        ({"node_ids": [1, 1]}, ValueError, r"'node_ids' of population 'p' contain duplicates"),
        ({"node_ids": [-1, 2]}, ValueError, r"'node_ids' must be non-negative integers"),
        ({"node_ids": [0.5]}, ValueError, r"'node_ids' must be non-negative integers"),
        ({"tstop": 0.0}, ValueError, r"tstop_ms=0.0 <= tstart_ms=0.0"),
        ({"tstop": -5.0}, ValueError, r"tstop_ms=-5.0 <= tstart_ms=0.0"),
        ({"tstop": float("nan")}, ValueError, r"'tstop_ms': nan"),
        ({"params": {"rate_hz": -1.0}}, ValueError, r"'rate_hz': -1.0"),
        ({"params": {"rate_hz": float("nan")}}, ValueError, r"'rate_hz': nan"),
        ({"params": {"rate_hz": float("inf")}}, ValueError, r"'rate_hz': inf"),
        ({"params": {"dt_ms": 0.0}}, ValueError, r"'dt_ms': 0.0 ms. Allowed: > 0"),
        ({"params": {"dt_ms": -1.0}}, ValueError, r"'dt_ms': -1.0"),
        ({"params": {"process": "burst"}}, ValueError, r"'process': 'burst'. Allowed"),
        (
            {"params": {"refractory_ms": 200.0}},
            ValueError,
            r"'refractory_ms': 200.0 ms is too long",
        ),
        ({"params": {"profile": [1, 2]}}, TypeError, r"'profile' must be a raster_maker Profile"),
        ({"seed": -3}, ValueError, r"'seed': -3"),
    ],
)
def test_bad_inputs_are_refused_clearly(kwargs, exc, match):
    args = {"node_ids": [0, 1], "tstop": 100.0, "params": {}, "seed": 1, **kwargs}
    with pytest.raises(exc, match=match):
        generate(
            "poisson",
            "p",
            args["node_ids"],
            0.0,
            args["tstop"],
            params=args["params"],
            seed=args["seed"],
        )


@pytest.mark.parametrize(
    ("name", "params", "exc", "match"),
    [
        ("rhythmic", {"depth": 1.5}, ValueError, r"'depth': 1.5"),
        ("rhythmic", {"frequency_hz": -8.0}, ValueError, r"'frequency_hz': -8.0"),
        ("rhythmic", {"rates": -2.0}, ValueError, r"'rate_hz': -2.0"),
        ("functional_groups", {"group_size": 0}, ValueError, r"'group_size': 0"),
        ("functional_groups", {"exponent": 2.0}, ValueError, r"'exponent': 2.0 with method"),
        ("functional_groups", {"group_by": "layer"}, KeyError, r"Cannot group by 'layer'"),
        ("shifted_inhibition", {}, ValueError, r"Missing or invalid 'follow'"),
        ("shifted_inhibition", {"follow": {"x": 1}}, ValueError, r"Invalid 'follow'.*Allowed keys"),
        (
            "shifted_inhibition",
            {"follow": {"timestamps_ms": [1.0], "n_units": 1}, "lag_ms": -2.0},
            ValueError,
            r"'lag_ms': -2.0",
        ),
    ],
)
def test_bad_model_parameters_are_refused(name, params, exc, match):
    with pytest.raises(exc, match=match):
        generate(name, "p", [0, 1], 0.0, 100.0, params=params, seed=1)


def test_units_normalise_node_ids():
    u = Units("p", np.array([5, 1, 3], dtype=np.int32))
    assert u.node_ids.dtype == np.uint64 and u.node_ids.tolist() == [1, 3, 5]
    with pytest.raises(ValueError, match=r"Invalid population ''"):
        Units("", np.array([1]))


# -- rhythmic: the requested depth in the spike-phase histogram ---------------------------
@pytest.mark.parametrize(
    ("depth", "definition", "standard"),
    [(0.5, "standard", 0.5), (0.9, "standard", 0.9), (0.25, "original", 1 / 3)],
)
def test_rhythmic_phase_histogram_shows_the_depth(depth, definition, standard):
    f, n_bins = 8.0, 24
    res = generate(
        "rhythmic",
        "osc",
        np.arange(500),
        0.0,
        10_000.0,  # 80 whole cycles
        params={"frequency_hz": f, "depth": depth, "depth_definition": definition, "rates": 10.0},
        seed=SEED,
    )
    phase = np.mod(2 * np.pi * f * res.spikes["timestamps"].to_numpy() / 1000.0, 2 * np.pi)
    counts, edges = np.histogram(phase, bins=n_bins, range=(0, 2 * np.pi))
    # the model averaged over each phase bin (and the 1 ms grid shrinks the depth by
    # sinc(pi f dt) = 0.99989, negligible): a * (1 + m * <sin>_bin)
    w = np.diff(edges)
    sin_avg = (np.cos(edges[:-1]) - np.cos(edges[1:])) / w
    shrink = np.sinc(f * 1.0 / 1000.0)

    def model(s, a, m):
        return a * (1 + m * shrink * s)

    (a, m), cov = optimize.curve_fit(
        model, sin_avg, counts, p0=(counts.mean(), 0.5), sigma=np.sqrt(counts), absolute_sigma=True
    )
    se = np.sqrt(cov[1, 1])
    assert 0 < se < 0.02
    assert abs(m - standard) < Z * se
    # the fit is good: Pearson chi-square with n_bins - 2 degrees of freedom
    chi2 = np.sum((counts - model(sin_avg, a, m)) ** 2 / model(sin_avg, a, m))
    assert chi2 < stats.chi2.isf(P, n_bins - 2)


# -- shifted inhibition follows excitation --------------------------------------------------
def _population_rate(ts, tstop):
    return np.histogram(ts, bins=np.arange(0.0, tstop + 1.0, 1.0))[0].astype(float)


@pytest.mark.parametrize("lag", [2.0, 5.0])
def test_shifted_inhibition_cross_correlation_peaks_at_the_lag(lag, tmp_path):
    tstop = 10_000.0
    exc_path = tmp_path / "exc.h5"
    generate("functional_groups", "exc", np.arange(1000), 0.0, tstop, seed=SEED, output=exc_path)
    exc = read_spikes(exc_path, "exc")["timestamps"].to_numpy()
    follow = {"spikes_file": str(exc_path), "population": "exc"}
    if lag == 5.0:  # the in-memory route too
        follow = {"timestamps_ms": exc, "n_units": 1000}
    inh = (
        generate(
            "shifted_inhibition",
            "inh",
            np.arange(500),
            0.0,
            tstop,
            params={"follow": follow, "lag_ms": lag},
            seed=SEED + 1,
        )
        .spikes["timestamps"]
        .to_numpy()
    )
    x = _population_rate(exc, tstop)
    y = _population_rate(inh, tstop)
    x, y = x - x.mean(), y - y.mean()
    lags = np.arange(-20, 21)
    cc = np.array(
        [
            np.dot(x[max(0, -k) : x.size - max(0, k)], y[max(0, k) : y.size - max(0, -k)])
            for k in lags
        ]
    )
    cc /= np.sqrt(np.dot(x, x) * np.dot(y, y))
    assert lags[np.argmax(cc)] == lag  # inhibition lags excitation by `lag` ms
    # the peak stands out: the exc Poisson noise carried into the inh profile makes a
    # sharp peak on top of the slow 1/f correlation. Its height above the mean of the two
    # neighbours, against the sd of the correlation at lags with no such component
    # (~1/sqrt(n) for weakly correlated series; the slow part moves little per ms)
    i = np.flatnonzero(lags == lag)[0]
    excess = cc[i] - 0.5 * (cc[i - 1] + cc[i + 1])
    assert excess > Z * np.sqrt(2.0 / x.size)


# -- functional groups ----------------------------------------------------------------------
def test_functional_groups_share_a_profile_per_group(tmp_path):
    path = tmp_path / "fg.h5"
    ids = np.arange(250)
    generate("functional_groups", "exc", ids, 0.0, 2000.0, seed=SEED, output=path)
    meta = read_metadata(path, "exc")
    np.testing.assert_array_equal(meta["group_index"], ids // 100)
    assert list(meta["group_keys"]) == ["0", "1", "2"]
    prof = meta["profiles"]
    assert prof.shape == (3, 2000)
    assert np.all((prof >= 0.5 - 1e-6) & (prof <= 1.5 + 1e-6))
    assert not np.allclose(prof[0], prof[1])


def test_functional_groups_by_attribute():
    attrs = pd.DataFrame({"layer": ["L2", "L4", "L2", "L5", "L4"]}, index=np.arange(5))
    model = make_model("functional_groups", {"group_by": "layer"})
    blocks = list(model.blocks(Units("exc", np.arange(5), attrs), 0.0, 500.0, SEED))
    assert [b.key for b in blocks] == ["L2", "L4", "L5"]
    assert [b.node_ids.tolist() for b in blocks] == [[0, 2], [1, 4], [3]]


@pytest.mark.parametrize(
    ("generator", "params"),
    [
        ("functional_groups", {"group_by": "layer"}),
        ("correlated", {"rate_hz": 10.0, "correlation": 0.1, "groups": {"by": "layer"}}),
    ],
)
def test_bytes_attribute_values_group_as_their_text(generator, params, tmp_path):
    # h5py gives SONATA strings as bytes: b"L2/3\xc3\xa9" is the group "L2/3é" (not
    # "b'L2/3\\xc3\\xa9'", and no decoding error), with the same streams, so the same
    # spikes and group names as the str values
    layers = ["L2/3é", "L4", "L2/3é", "L5", "L4", "L2/3é"]
    runs = []
    for values in (layers, [s.encode() for s in layers]):
        attrs = pd.DataFrame({"layer": values}, index=np.arange(6))
        out = tmp_path / f"{type(values[0]).__name__}.h5"
        generate(
            generator,
            "exc",
            np.arange(6),
            0.0,
            2000.0,
            params=params,
            seed=SEED,
            attributes=attrs,
            output=out,
        )
        runs.append((read_spikes(out, "exc"), read_metadata(out, "exc")))
    (spikes_str, meta_str), (spikes_bytes, meta_bytes) = runs
    pd.testing.assert_frame_equal(spikes_str, spikes_bytes)
    assert sorted(meta_bytes["group_keys"]) == ["L2/3é", "L4", "L5"]
    assert list(meta_bytes["group_keys"]) == list(meta_str["group_keys"])
