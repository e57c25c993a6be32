"""Layers (superposed inputs for one population) and trials (repeated draws).

Statistical bounds at about 1e-6 per assertion (fixed seeds).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from raster_maker import generate, make_model
from raster_maker.cli import main
from raster_maker.generate import trial_path
from raster_maker.models import Units
from raster_maker.plans import Context
from raster_maker.sonata import read_metadata, read_provenance, read_spikes

P = 1e-6
SEED = 4242
BASE = {"generator": "poisson", "rate_hz": 5.0}
RHYTHM = {"generator": "rhythmic", "rates": 7.0, "frequency_hz": 6.0, "depth": 0.8}


def _layers(*layers, **extra):
    return {"layers": [dict(layer) for layer in layers], **extra}


def test_superposition_is_the_union_of_the_layers_trains():
    ids = np.arange(60)
    params = _layers(BASE, RHYTHM)
    res = generate("layers", "pop", ids, 0.0, 3000.0, params=params, seed=SEED)
    model = make_model("layers", params)
    units = Units("pop", ids)
    ctx = Context(SEED, "pop", 0.0, 3000.0)
    parts = []
    for i, layer in enumerate(model.models):
        pos, times = layer.build_plan(units, ctx.sub(f"layer{i}/")).draw(slice(0, ids.size))
        parts.append(pd.DataFrame({"node_ids": units.node_ids[pos], "timestamps": times}))
    union = (
        pd.concat(parts)
        .sort_values(["node_ids", "timestamps"], kind="stable")
        .reset_index(drop=True)
    )
    pd.testing.assert_frame_equal(res.spikes, union)
    assert all(len(p) for p in parts)


def test_superposed_rate_is_the_sum_and_recorded_as_the_target(tmp_path):
    ids, tstop = np.arange(200), 5000.0
    path = tmp_path / "l.h5"
    res = generate(
        "layers", "pop", ids, 0.0, tstop, params=_layers(BASE, RHYTHM), seed=SEED, output=path
    )
    mu = ids.size * (5.0 + 7.0) * tstop / 1000.0
    assert stats.poisson.ppf(P / 2, mu) <= res.n_spikes <= stats.poisson.isf(P / 2, mu)
    meta = read_metadata(path, "pop")
    np.testing.assert_allclose(meta["target_rate_hz"], 12.0, rtol=1e-9)
    np.testing.assert_allclose(meta["layer0.target_rate_hz"], 5.0, rtol=1e-9)
    np.testing.assert_allclose(meta["layer1.target_rate_hz"], 7.0, rtol=1e-6)
    prov = read_provenance(path, "pop")
    assert prov["generator"] == "layers"
    layers = prov["params"]["layers"]
    assert [layer["generator"] for layer in layers] == ["poisson", "rhythmic"]
    assert layers[1]["frequency_hz"] == 6.0 and layers[1]["depth"] == 0.8


def test_two_layers_of_one_generator_draw_from_their_own_streams():
    ids = np.arange(50)
    one = generate("layers", "pop", ids, 0.0, 2000.0, params=_layers(BASE), seed=SEED).spikes
    two = generate("layers", "pop", ids, 0.0, 2000.0, params=_layers(BASE, BASE), seed=SEED)
    assert two.n_spikes > len(one)
    counts = two.spikes.groupby(["node_ids", "timestamps"]).size()
    assert counts.max() == 1  # no spike drawn twice
    # layer 0 is the same whatever follows it
    merged = two.spikes.merge(one, how="inner")
    pd.testing.assert_frame_equal(merged.reset_index(drop=True), one.reset_index(drop=True))


@pytest.mark.parametrize(
    ("params", "exc", "match"),
    [
        ({"layers": []}, ValueError, r"Invalid value for 'layers': \[\]\. Allowed: a non-empty"),
        ({"layers": [{"rate_hz": 3}]}, ValueError, r"Invalid layer 0: .*Allowed: a dict with"),
        (
            {"layers": [BASE, {"generator": "layers", "layers": [BASE]}]},
            ValueError,
            r"Invalid layer 1: a layer cannot itself be 'layers'",
        ),
        ({"layers": [{"generator": "nope"}]}, KeyError, r"Layer 0 \(nope\): .*Unknown generator"),
        (
            {"layers": [{"generator": "poisson", "rate": 3}]},
            TypeError,
            r"Layer 0 \(poisson\): Unknown parameter\(s\) 'rate'",
        ),
    ],
)
def test_bad_layers(params, exc, match):
    with pytest.raises(exc, match=match):
        make_model("layers", params)


# -- trials ---------------------------------------------------------------------------------
LEVY = {"rate_hz": {"preset": "lognormal", "mean_hz": 8.0, "sd_hz": 6.0}}


def test_trials_share_rates_and_differ_in_spikes(tmp_path):
    ids = np.arange(300)
    out = tmp_path / "stim.h5"
    results = generate(
        "poisson", "pop", ids, 0.0, 2000.0, params=LEVY, seed=SEED, output=out, trials=3
    )
    assert [r.trial for r in results] == [0, 1, 2]
    paths = [tmp_path / f"stim_trial{k}.h5" for k in range(3)]
    assert [r.path for r in results] == [str(p) for p in paths]
    metas = [read_metadata(p, "pop") for p in paths]
    for meta in metas[1:]:
        np.testing.assert_array_equal(meta["rate_scale_hz"], metas[0]["rate_scale_hz"])
    spikes = [read_spikes(p, "pop")[["node_ids", "timestamps"]] for p in paths]
    assert not spikes[0].equals(spikes[1]) and not spikes[1].equals(spikes[2])
    assert read_provenance(paths[2], "pop")["trial"] == 2
    # trial 0 is the plain draw; trial k alone is the k-th file
    plain = generate("poisson", "pop", ids, 0.0, 2000.0, params=LEVY, seed=SEED)
    pd.testing.assert_frame_equal(plain.spikes, spikes[0])
    alone = generate("poisson", "pop", ids, 0.0, 2000.0, params=LEVY, seed=SEED, trial=2)
    pd.testing.assert_frame_equal(alone.spikes, spikes[2])


def test_redraw_rates_draws_new_rates_per_trial(tmp_path):
    results = generate(
        "poisson",
        "pop",
        np.arange(100),
        0.0,
        500.0,
        params=LEVY,
        seed=SEED,
        output=tmp_path / "r{trial}.h5",
        trials=2,
        redraw_rates=True,
    )
    a, b = (read_metadata(r.path, "pop")["rate_scale_hz"] for r in results)
    assert results[1].path == str(tmp_path / "r1.h5")
    assert not np.array_equal(a, b)


def test_trial_path_pattern():
    assert str(trial_path("in/stim.h5", 3)) == "in/stim_trial3.h5"
    assert str(trial_path("in/stim_{trial}.h5", 3)) == "in/stim_3.h5"


def test_trials_errors(tmp_path):
    with pytest.raises(ValueError, match=r"Invalid value for 'trials': 0"):
        generate("poisson", "pop", [1], 0.0, 10.0, seed=1, trials=0)
    with pytest.raises(ValueError, match=r"Invalid value for 'trial': -1"):
        generate("poisson", "pop", [1], 0.0, 10.0, seed=1, trial=-1)


def test_cli_trials(tmp_path, capsys):
    out = tmp_path / "bg.h5"
    status = main(
        [
            "-q",
            "generate",
            "--generator",
            "poisson",
            "--nodes",
            "network",
            "--node-set",
            "prox_inh_stim",
            "--tstop",
            "500",
            "--seed",
            "3",
            "--param",
            "rate_hz=20",
            "--trials",
            "2",
            "-o",
            str(out),
        ]
    )
    assert status == 0
    assert (tmp_path / "bg_trial0.h5").exists() and (tmp_path / "bg_trial1.h5").exists()
    assert "trial 1" in capsys.readouterr().out


def test_config_trials_make_every_file_and_hand_bmtk_the_chosen_one(tmp_path):
    from raster_maker.bmtk_inputs import ensure_input_file
    from raster_maker.nodesets import load_sim_config

    entry = {
        "input_type": "spikes",
        "module": "raster_maker",
        "generator": "poisson",
        "node_set": "prox_inh_stim",
        "input_file": str(tmp_path / "p.h5"),
        "seed": 2,
        "rate_hz": 10.0,
        "trials": 3,
        "trial": 1,
    }
    conf = load_sim_config("examples/bionet/config.json")
    conf["inputs"] = {"prox": entry}
    path = ensure_input_file(conf, "prox", entry)
    assert path == tmp_path / "p_trial1.h5"
    assert sorted(p.name for p in tmp_path.glob("p_trial*.h5")) == [
        "p_trial0.h5",
        "p_trial1.h5",
        "p_trial2.h5",
    ]
    assert read_provenance(path, "prox_inh_stim")["trial"] == 1
    mtime = path.stat().st_mtime_ns  # reused, not regenerated, the second time
    assert ensure_input_file(conf, "prox", entry) == path
    assert path.stat().st_mtime_ns == mtime
    bad = {**entry, "trial": 3}
    with pytest.raises(
        ValueError, match=r"Invalid value for 'inputs.prox.trial': 3\. Allowed: 0 \.\. 2"
    ):
        ensure_input_file(conf, "prox", bad)


def test_trials_without_a_seed_share_one_drawn_seed():
    results = generate("poisson", "pop", np.arange(50), 0.0, 200.0, params=LEVY, trials=2)
    assert results[0].seed == results[1].seed


def test_missing_attribute_rows_are_a_clear_error():
    attrs = pd.DataFrame({"layer": ["a", "b"]}, index=[0, 1])
    with pytest.raises(ValueError, match=r"1 node\(s\) have no row, e.g\. 2"):
        generate(
            "functional_groups",
            "pop",
            np.arange(3),
            0.0,
            100.0,
            params={"group_by": "layer"},
            attributes=attrs,
            seed=1,
        )


# -- merging the layers' spikes ---------------------------------------------------------------
def _sorted_run(rng, n_nodes, rate, t0=-50.0, t1=3000.0):
    pos = np.repeat(np.arange(n_nodes), rng.poisson(rate, n_nodes))
    t = rng.uniform(t0, t1, pos.size)
    order = np.lexsort((t, pos))
    return pos[order], t[order]


@pytest.mark.parametrize("seed", range(5))
def test_merge_by_position_orders_as_lexsort(seed):
    from raster_maker.plans import merge_by_position

    rng = np.random.default_rng(seed)
    parts = [_sorted_run(rng, 200, r) for r in (30, 3, 0.5)]
    pos, t = merge_by_position(parts)
    all_pos = np.concatenate([p for p, _ in parts])
    all_t = np.concatenate([x for _, x in parts])
    order = np.lexsort((all_t, all_pos))
    np.testing.assert_array_equal(pos, all_pos[order])
    np.testing.assert_array_equal(t, all_t[order])


def test_merge_by_position_orders_times_closer_than_its_key_resolves():
    # positions 2**40 apart leave the key ~1e-6 ms of time resolution: two layers' spikes
    # of one node 1e-9 ms apart tie there (in either order), and exact ties stay in layer
    # order; the check hands the ties to lexsort
    from raster_maker.plans import merge_by_position

    far = 2**40
    a = (np.array([0, 0, far]), np.array([1.0, 2.0 - 1e-9, 4.0]))
    b = (np.array([0, 0, far]), np.array([1.0 + 1e-9, 2.0, 4.0]))
    pos, t = merge_by_position([b, a])
    np.testing.assert_array_equal(pos, [0, 0, 0, 0, far, far])
    np.testing.assert_array_equal(t, [1.0, 1.0 + 1e-9, 2.0 - 1e-9, 2.0, 4.0, 4.0])
