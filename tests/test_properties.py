"""Property tests (hypothesis): any parameters either work or fail with our documented errors.

When they work: spikes inside the window, per-node sorted, node ids from the set, counts
consistent with the recorded target rates, and the same seed gives the same spikes.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

import raster_maker as rm

DOCUMENTED = (ValueError, TypeError, KeyError)
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)

finite = st.floats(allow_nan=False, allow_infinity=False)
anything = st.one_of(finite, st.floats(), st.integers(-10, 10**6), st.none(), st.text(max_size=3))

processes = st.one_of(
    st.just({}),
    st.fixed_dictionaries({"process": st.just("binned"), "dt_ms": st.floats(0.05, 5.0)}),
    st.fixed_dictionaries({"process": st.just("gamma"), "order": st.integers(1, 6)}),
    st.fixed_dictionaries({"refractory_ms": st.floats(0.0, 20.0)}),
)

models = st.one_of(
    st.tuples(st.just("poisson"), st.fixed_dictionaries({"rate_hz": st.floats(0.0, 300.0)})),
    st.tuples(
        st.just("rhythmic"),
        st.fixed_dictionaries(
            {
                "frequency_hz": st.floats(0.0, 200.0),
                "depth": st.floats(0.0, 1.0),
                "depth_definition": st.sampled_from(["standard", "original"]),
                "phase_rad": st.floats(-10.0, 10.0),
                "rates": st.floats(0.0, 100.0),
            }
        ),
    ),
    st.tuples(
        st.just("functional_groups"),
        st.fixed_dictionaries(
            {
                "group_size": st.integers(1, 50),
                "noise_method": st.sampled_from(["original", "fft"]),
                "exponent": st.floats(0.0, 3.0),
                "normalize": st.sampled_from(["original", "mean"]),
            }
        ),
    ),
)

windows = st.tuples(st.floats(-1000.0, 1000.0), st.floats(0.5, 800.0)).map(
    lambda w: (w[0], w[0] + w[1])
)
node_sets = st.lists(st.integers(0, 10**6), min_size=1, max_size=60, unique=True)


def _check(res, ids, tstart, tstop, model):
    df = res.spikes
    t = df["timestamps"].to_numpy()
    n = df["node_ids"].to_numpy()
    assert set(np.unique(n)) <= set(np.asarray(ids, dtype=np.uint64))
    if model.spike_process.kind == "binned":
        assert np.all((t >= tstart) & (t < tstop))
    else:
        assert np.all((t > tstart) & (t < tstop))
    same = n[1:] == n[:-1]
    assert np.all(n[1:] >= n[:-1])  # node-id order
    assert np.all(t[1:][same] >= t[:-1][same])  # sorted per node


@SETTINGS
@given(model=models, process=processes, window=windows, ids=node_sets, seed=st.integers(0, 2**63))
def test_generators_work_or_fail_cleanly(model, process, window, ids, seed):
    name, params = model
    params = {**params, **process}
    tstart, tstop = window
    try:
        obj = rm.make_model(name, params)
        res = rm.generate(obj, "p", ids, tstart, tstop, seed=seed, progress=False)
    except DOCUMENTED as err:
        assert str(err)  # a message, never a bare exception
        return
    _check(res, ids, tstart, tstop, obj)
    again = rm.generate(rm.make_model(name, params), "p", ids, tstart, tstop, seed=seed)
    assert again.spikes.equals(res.spikes)


@SETTINGS
@given(
    name=st.sampled_from(["poisson", "rhythmic", "functional_groups"]),
    key=st.sampled_from(
        [
            "rate_hz",
            "rates",
            "depth",
            "frequency_hz",
            "group_size",
            "dt_ms",
            "refractory_ms",
            "order",
            "process",
            "exponent",
            "bogus",
        ]
    ),
    value=anything,
)
def test_any_single_bad_parameter_is_a_documented_error(name, key, value):
    try:
        rm.generate(name, "p", np.arange(5), 0.0, 50.0, params={key: value}, seed=1)
    except DOCUMENTED as err:
        assert str(err)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(rate=st.floats(0.5, 200.0), n_units=st.integers(50, 300), dur=st.floats(200.0, 3000.0))
def test_counts_consistent_with_rate(rate, n_units, dur):
    res = rm.generate(
        "poisson", "p", np.arange(n_units), 0.0, dur, params={"rate_hz": rate}, seed=11
    )
    mu = rate * n_units * dur / 1000.0
    lo, hi = stats.poisson.ppf(1e-7, mu), stats.poisson.isf(1e-7, mu)
    assert lo <= res.n_spikes <= hi


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    tstop=st.one_of(finite, st.floats()),
    node_set=st.one_of(
        st.text(max_size=8), st.dictionaries(st.text(max_size=5), anything, max_size=2)
    ),
)
def test_config_entries_work_or_fail_cleanly(tmp_path_factory, tstop, node_set):
    from pathlib import Path

    from raster_maker.bmtk_inputs import input_request
    from raster_maker.nodesets import load_sim_config

    cfg = load_sim_config(
        Path(__file__).resolve().parents[1] / "examples" / "bionet" / "config.json"
    )
    entry = {
        "input_type": "spikes",
        "module": "raster_maker",
        "generator": "poisson",
        "node_set": node_set,
        "input_file": str(tmp_path_factory.mktemp("x") / "s.h5"),
        "tstop": tstop,
    }
    try:
        req = input_request(cfg, "x", entry)
    except DOCUMENTED as err:
        assert str(err)
        return
    assert req.node_ids.size > 0


pytestmark = pytest.mark.filterwarnings("error")
