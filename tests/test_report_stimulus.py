"""Stimulus files in the report, the figure and the CLI: measured vs scheduled rate per
assembly and epoch (stimulus files and stimulus layers of a ``layers`` input)."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from scipy import stats  # noqa: E402

import raster_maker.stimulus  # noqa: E402,F401  (registers the 'stimulus' generator)
from raster_maker.cli import main  # noqa: E402
from raster_maker.generate import generate  # noqa: E402
from raster_maker.plotting import assembly_figure_data, plot_assemblies  # noqa: E402
from raster_maker.report import (  # noqa: E402
    assembly_epoch_stats,
    load_population_data,
    read_schedule,
    stats_report,
)
from raster_maker.sonata import SpikesWriter, read_metadata  # noqa: E402

P = 1e-6  # per-assertion false-failure probability of the statistical bounds
T_MS = 6000.0
LONG = {
    "assemblies": {"method": "random", "n": 3},
    "pattern": "long",
    "on_ms": 500,
    "off_ms": 250,
    "burst_hz": 40,
    "off_hz": 5,
    "silent_hz": 1,
}
RAMP = {
    "assemblies": {"method": "random", "n": 2},
    "pattern": "ramp",
    "on_ms": 1000,
    "off_ms": 500,
    "ramp_start_hz": 5,
    "ramp_end_hz": 60,
    "ramp_on_ms": 200,
    "ramp_off_ms": 800,
    "off_hz": 2,
    "silent_hz": 1,
}
JOIN = {
    "assemblies": {"method": "random", "n": 2, "p_in": 0.8},
    "pattern": "join",
    "n_steps": 3,
    "on_ms": 900,
    "off_ms": 300,
    "burst_hz": 30,
    "off_hz": 3,
    "silent_hz": 2,
}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("stim")
    out = {}
    for name, params, seed in (("long", LONG, 3), ("ramp", RAMP, 4), ("join", JOIN, 5)):
        out[name] = d / f"{name}.h5"
        generate(
            "stimulus",
            "thal",
            np.arange(300),
            0.0,
            T_MS,
            params=params,
            seed=seed,
            output=out[name],
        )
    out["layers"] = d / "layers.h5"
    layers = [{"generator": "poisson", "rate_hz": 3.0}, {"generator": "stimulus", **LONG}]
    generate(
        "layers",
        "thal",
        np.arange(300),
        0.0,
        T_MS,
        params={"layers": layers},
        seed=6,
        output=out["layers"],
    )
    out["two"] = d / "two.h5"
    two = [{"generator": "stimulus", **LONG}, {"generator": "stimulus", **RAMP}]
    generate(
        "layers",
        "thal",
        np.arange(200),
        0.0,
        T_MS,
        params={"layers": two},
        seed=7,
        output=out["two"],
    )
    out["poisson"] = d / "poisson.h5"
    generate(
        "poisson",
        "p",
        np.arange(20),
        0.0,
        1000.0,
        params={"rate_hz": 5.0},
        seed=8,
        output=out["poisson"],
    )
    return out


def _naive_counts(path, prefix=""):
    """Spikes per (assembly, epoch), one boolean mask per schedule row (no shared code)."""
    data = load_population_data(path)
    meta = read_metadata(path, "thal")
    ids = meta["node_ids"]
    group = meta[prefix + "group_index"]
    asm = dict(
        zip(meta[prefix + "assembly_node_ids"], meta[prefix + "assembly_index"], strict=True)
    )
    names = list(meta[prefix + "assembly_names"])
    counts: dict[tuple[str, str], int] = {}
    for g, t0, t1, epoch in zip(
        meta[prefix + "schedule_group"],
        meta[prefix + "schedule_start_ms"],
        meta[prefix + "schedule_stop_ms"],
        meta[prefix + "schedule_epoch"],
        strict=True,
    ):
        members = ids[group == g]
        if members.size == 0:
            continue
        a = asm[members[0]]
        key = ("none" if a < 0 else names[a], str(epoch))
        sel = np.isin(data.node_ids, members) & (data.timestamps_ms >= t0)
        sel &= data.timestamps_ms < t1
        counts[key] = counts.get(key, 0) + int(sel.sum())
    return counts


@pytest.mark.parametrize(
    ("name", "prefix"), [("long", ""), ("ramp", ""), ("join", ""), ("layers", "layer1.")]
)
def test_measured_rates_within_poisson_bounds(files, name, prefix):
    df = assembly_epoch_stats(files[name])
    # each row: the summed count is Poisson, bounds at P (two-sided)
    assert df["within_bounds"].all(), df
    lo = stats.poisson.ppf(P / 2, df["expected_spikes"])
    hi = stats.poisson.ppf(1 - P / 2, df["expected_spikes"])
    assert ((df["n_spikes"] >= lo) & (df["n_spikes"] <= hi)).all()
    unit_s = df["n_units"] * df["duration_ms"] / 1000.0
    assert np.allclose(df["lower_hz"], lo / unit_s) and np.allclose(df["upper_hz"], hi / unit_s)
    assert np.allclose(df["measured_rate_hz"], df["n_spikes"] / unit_s)
    # the counts are those of a plain row-by-row count
    naive = _naive_counts(files[name], prefix)
    mine = {(r.assembly, r.epoch): r.n_spikes for r in df.itertuples()}
    assert mine == naive


@pytest.mark.parametrize("name", ["long", "ramp", "join", "layers"])
def test_epochs_cover_the_window_and_the_record(files, name):
    df = assembly_epoch_stats(files[name])
    data = load_population_data(files[name])
    meta = data.metadata
    asm = np.asarray([n for n in df["assembly"]])
    # every spike is in one row; every unit spends the whole window in some epoch
    assert df["n_spikes"].sum() == data.timestamps_ms.size
    names = list(meta["layer1.assembly_names" if name == "layers" else "assembly_names"])
    index = meta["layer1.assembly_index" if name == "layers" else "assembly_index"]
    for a in np.unique(asm):
        rows = df[asm == a]
        members = index == (names.index(a) if a != "none" else -1)
        assert (rows["n_units"] * rows["duration_ms"]).sum() == pytest.approx(members.sum() * T_MS)
        # the schedule integrates to the targets the generator recorded
        target = meta["target_rate_hz"][members].sum() * T_MS / 1000.0
        assert rows["expected_spikes"].sum() == pytest.approx(target, rel=1e-9)


def test_scheduled_rates_per_epoch(files):
    df = assembly_epoch_stats(files["long"])
    assert list(df["assembly"]) == ["0"] * 3 + ["1"] * 3 + ["2"] * 3
    assert list(df["epoch"][:3]) == ["burst", "off", "silent"]
    rate = df.groupby("epoch")["scheduled_rate_hz"].agg(["min", "max"])
    assert rate.loc["burst"].tolist() == [40.0, 40.0]
    assert rate.loc["off"].tolist() == [5.0, 5.0]
    assert rate.loc["silent"].tolist() == [1.0, 1.0]
    assert (df["baseline_hz"] == 0).all() and df["layer"].isna().all()
    ramp = assembly_epoch_stats(files["ramp"]).set_index(["assembly", "epoch"])
    # ramp rows go linearly 5 -> 60 Hz: mean 32.5
    assert ramp.xs("ramp", level="epoch")["scheduled_rate_hz"].tolist() == [32.5, 32.5]
    join = assembly_epoch_stats(files["join"])
    assert "none" in set(join["assembly"])  # p_in = 0.8: units in no assembly
    none = join[join["assembly"] == "none"]
    assert none["epoch"].tolist() == ["silent"] and none["scheduled_rate_hz"].iloc[0] == 2.0


def test_layers_add_their_targets(files):
    df = assembly_epoch_stats(files["layers"])
    assert (df["layer"] == 1).all()
    assert np.allclose(df["baseline_hz"], 3.0)  # the poisson layer, 3 Hz for every unit
    burst = df[df["epoch"] == "burst"]
    assert np.allclose(burst["scheduled_rate_hz"], 43.0)


def test_two_stimulus_layers(files):
    with pytest.raises(ValueError, match="several stimulus layers \\(0, 1\\); choose one"):
        assembly_epoch_stats(files["two"])
    a = assembly_epoch_stats(files["two"], layer=0)
    b = assembly_epoch_stats(files["two"], layer=1)
    assert set(a["layer"]) == {0} and set(b["layer"]) == {1}
    assert "ramp" in set(b["epoch"]) and "ramp" not in set(a["epoch"])
    assert a["within_bounds"].all() and b["within_bounds"].all()
    rep = stats_report(files["two"])
    assert {r["layer"] for r in rep["assembly_epochs"]} == {0, 1}


def test_hand_built_file_without_generator(tmp_path):
    """The reader needs only the documented keys: rows in any order, a ramp, no
    assembly_node_ids, groups of one assembly with different schedules."""
    path = tmp_path / "fake.h5"
    ids = np.arange(6, dtype=np.uint64)
    # groups: 0 = 'A/step 0' (units 0, 1), 1 = 'A/step 1' (unit 2), 2 = 'none' (units 3-5)
    group_index = np.array([0, 0, 1, 2, 2, 2])
    rows = pd.DataFrame(
        [  # group, start, stop, from, to, epoch; not sorted
            (1, 0.0, 500.0, 0.0, 0.0, "silent"),
            (0, 500.0, 1000.0, 20.0, 20.0, "burst"),
            (2, 0.0, 1000.0, 4.0, 4.0, "silent"),
            (0, 0.0, 500.0, 10.0, 30.0, "ramp"),
            (1, 500.0, 1000.0, 20.0, 20.0, "burst"),
        ],
        columns=["g", "t0", "t1", "f0", "f1", "epoch"],
    )
    spikes = {0: [100.0, 600.0, 700.0], 1: [499.9], 2: [200.0, 500.0], 3: [1.0], 5: [999.0]}
    with SpikesWriter(path) as w:
        for unit, ts in spikes.items():
            w.append("x", [unit] * len(ts), ts)
        w.add_metadata(
            "x",
            {
                "node_ids": ids[::-1],  # metadata order need not be sorted
                "target_rate_hz": np.zeros(6),
                "group_index": group_index[::-1],
                "group_keys": np.array(["A/step 0", "A/step 1", "none"], dtype=object),
                "assembly_index": np.array([0, 0, 0, -1, -1, -1])[::-1],
                "assembly_names": np.array(["A"], dtype=object),
                "schedule_group": rows["g"].to_numpy(),
                "schedule_start_ms": rows["t0"].to_numpy(),
                "schedule_stop_ms": rows["t1"].to_numpy(),
                "schedule_from_hz": rows["f0"].to_numpy(),
                "schedule_to_hz": rows["f1"].to_numpy(),
                "schedule_epoch": rows["epoch"].to_numpy(dtype=object),
            },
        )
    df = assembly_epoch_stats(path).set_index(["assembly", "epoch"])
    assert list(df.index) == [("A", "burst"), ("A", "ramp"), ("A", "silent"), ("none", "silent")]
    assert df["n_spikes"].tolist() == [3, 2, 1, 2]
    assert df["n_units"].tolist() == [3, 2, 1, 3]
    # burst: 3 units x 0.5 s at 20 Hz; ramp: 2 units x 0.5 s at (10 + 30) / 2
    assert df["expected_spikes"].tolist() == pytest.approx([30.0, 20.0, 0.0, 12.0])
    assert df["duration_ms"].tolist() == pytest.approx([500.0, 500.0, 500.0, 1000.0])
    assert df.loc[("A", "silent"), "within_bounds"] == False  # noqa: E712  (1 spike at 0 Hz)
    sched = read_schedule(path)
    assert sched.group_assembly.tolist() == [0, 0, -1]
    # bin means of the ramp are exact: mean of a linear rate over each bin
    edges = np.array([0.0, 250.0, 500.0, 750.0, 1000.0])
    assert sched.bin_means_hz(edges)[0].tolist() == pytest.approx([15.0, 25.0, 20.0, 20.0])


def test_bin_means_integrate_the_schedule(files):
    sched = read_schedule(files["ramp"])
    edges = np.linspace(0.0, T_MS, 241)
    means = sched.bin_means_hz(edges)
    fine = np.linspace(0.0, T_MS, 240 * 400 + 1)
    mid = 0.5 * (fine[1:] + fine[:-1])
    for g in range(len(sched.group_keys)):
        sel = sched.group == g
        r = np.searchsorted(sched.start_ms[sel], mid, side="right") - 1
        x = (mid - sched.start_ms[sel][r]) / (sched.stop_ms[sel][r] - sched.start_ms[sel][r])
        rate = sched.from_hz[sel][r] + x * (sched.to_hz[sel][r] - sched.from_hz[sel][r])
        # midpoint rule is exact for a linear rate within each fine bin
        assert means[g] == pytest.approx(rate.reshape(240, 400).mean(axis=1), rel=1e-9)


def test_figure_numbers_match_the_table(files):
    for name in ("long", "join", "layers"):
        d = assembly_figure_data(files[name], bin_ms=50.0, units_per_assembly=10)
        df = assembly_epoch_stats(files[name]).groupby("assembly", sort=False).sum()
        assert d.names == list(df.index)
        widths_s = np.diff(d.edges_ms) / 1000.0
        total = d.n_units * (d.measured_hz * widths_s).sum(axis=1)
        assert total == pytest.approx(df["n_spikes"].to_numpy(), rel=1e-9)
        expected = d.n_units * (d.scheduled_hz * widths_s).sum(axis=1)
        assert expected == pytest.approx(df["expected_spikes"].to_numpy(), rel=1e-9)
        # raster: at most 10 units per assembly, rows grouped by assembly in order
        rows_per = np.diff(d.raster_bounds)
        assert (rows_per == np.minimum(d.n_units, 10)).all()
        assert (np.diff(d.raster_assembly[np.argsort(d.raster_rows, kind="stable")]) >= 0).all()
        assert np.all(d.raster_rows < d.raster_bounds[d.raster_assembly + 1])
        assert np.all(d.raster_rows >= d.raster_bounds[d.raster_assembly])


def test_plot_assemblies(files):
    fig = plot_assemblies(files["long"], bin_ms=50.0)
    labels = [ax.get_label() for ax in fig.axes]
    assert labels == ["rate:0", "rate:1", "rate:2", "raster"]
    rate = fig.axes[0]
    assert len(rate.patches) == 2  # measured and scheduled stairs
    raster = fig.axes[-1]
    assert [t.get_text() for t in raster.get_yticklabels()] == ["0", "1", "2"]
    fig.canvas.draw()
    fig = plot_assemblies(files["join"], max_panels=2, correlations=True)
    labels = [ax.get_label() for ax in fig.axes]
    assert labels == ["rate:0", "rate:1", "raster", "F", "G"]
    assert "first 2 of 3 assemblies" in fig.get_suptitle()


def test_no_schedule_is_a_clear_error(files):
    with pytest.raises(ValueError, match="No stimulus schedule in population 'p'"):
        assembly_epoch_stats(files["poisson"])
    with pytest.raises(ValueError, match="Invalid value for 'layer': 1.*leave 'layer' out"):
        assembly_epoch_stats(files["long"], layer=1)
    with pytest.raises(ValueError, match="Invalid value for 'layer': 3. Allowed: .*: 0, 1"):
        read_schedule(files["two"], layer=3)
    with pytest.raises(ValueError, match="No stimulus schedule"):
        stats_report(files["poisson"], assemblies=True)
    assert stats_report(files["poisson"])["assembly_epochs"] == []


def test_missing_schedule_key(tmp_path):
    path = tmp_path / "partial.h5"
    with SpikesWriter(path) as w:
        w.append("x", [0], [1.0])
        w.add_metadata(
            "x",
            {
                "node_ids": np.array([0], np.uint64),
                "group_index": [0],
                "group_keys": np.array(["a"], dtype=object),
                "schedule_group": [0],
                "schedule_start_ms": [0.0],
            },
        )
    with pytest.raises(KeyError, match="No 'schedule_stop_ms' in the metadata of 'x'"):
        read_schedule(path)


# -- the command line ------------------------------------------------------------------
def test_stats_prints_the_epochs(files, capsys):
    assert main(["stats", str(files["long"])]) == 0
    out = capsys.readouterr().out
    assert "stimulus: measured vs scheduled rate per assembly and epoch" in out
    assert "within_bounds" in out
    assert main(["stats", "--json", str(files["layers"])]) == 0
    rep = json.loads(capsys.readouterr().out)
    api = assembly_epoch_stats(files["layers"])
    assert [r["n_spikes"] for r in rep["assembly_epochs"]] == api["n_spikes"].tolist()
    assert rep["stats"] and rep["count_correlations"]


def test_stats_assemblies_only(files, capsys):
    assert main(["stats", "--assemblies", "--json", str(files["long"])]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert set(rep) == {"path", "assembly_epochs"} and len(rep["assembly_epochs"]) == 9
    assert main(["stats", "--assemblies", str(files["poisson"])]) == 2
    err = capsys.readouterr().err
    assert err.startswith("raster-maker stats: error: No stimulus schedule in population 'p'")
    assert len(err.strip().splitlines()) == 1  # one line, no traceback


def test_plot_command(files, tmp_path, capsys):
    out = tmp_path / "stim.png"
    assert main(["plot", str(files["long"]), "-o", str(out), "--bin-ms", "100"]) == 0
    assert out.stat().st_size > 1000
    out2 = tmp_path / "layer.png"
    assert main(["plot", str(files["two"]), "--layer", "1", "-o", str(out2)]) == 0
    capsys.readouterr()
    assert main(["plot", str(files["poisson"]), "--assemblies", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "raster-maker plot: error: No stimulus schedule" in err
    assert len(err.strip().splitlines()) == 1
    assert main(["plot", str(files["two"]), "-o", str(out)]) == 2
    assert "several stimulus layers" in capsys.readouterr().err
