"""The 'stimulus' generator: assemblies driven by bmtool's patterns or an explicit schedule.

Each pattern's schedule is checked by hand against bmtool's meaning (which assembly does
what when); the spikes against the schedule (Poisson bounds per assembly and epoch, ramps
linear, join steps binomial); a pattern against the same rows given as a schedule
(identical spikes); order, subsets, batches and trials; and every bad input.

Statistical assertions have a fixed seed and a bound derived from the distribution at about
1e-6 per assertion.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

import raster_maker as rm
import raster_maker.stimulus  # noqa: F401  (registers 'stimulus' until the registry imports it)
from raster_maker.models import Units
from raster_maker.sonata import read_metadata, read_provenance
from raster_maker.stimulus import (
    EPOCHS,
    PATTERNS,
    ScheduleGrid,
    Stimulus,
    assembly_table,
    schedule_table,
)
from raster_maker.traces import PiecewiseLinearGrid

REPO = Path(__file__).resolve().parents[1]

P = 1e-6
Z = stats.norm.isf(P / 2)
SEED = 4242
POP = "thalamus"


def rand(n, **kw):
    return {"method": "random", "n": n, **kw}


def gen(params, ids, tstart=0.0, tstop=3000.0, attributes=None, **kw):
    return rm.generate(
        "stimulus", POP, ids, tstart, tstop, params=params, seed=SEED, attributes=attributes, **kw
    )


def rows_of(table, assembly, step=None):
    """(start, stop, from, to, epoch) rows of one assembly (and step) of a schedule table."""
    sel = table["assembly"] == assembly
    if step is not None:
        sel &= table["step"] == step
    cols = ["start_ms", "stop_ms", "from_hz", "to_hz", "epoch"]
    return [tuple(r) for r in table.loc[sel, cols].itertuples(index=False)]


def table_for(params, n_units=60, tstart=0.0, tstop=3000.0):
    return schedule_table(params, Units(POP, np.arange(n_units)), tstart, tstop, SEED)


def assert_poisson(count, mu, what):
    lo, hi = stats.poisson.ppf(P / 2, mu), stats.poisson.isf(P / 2, mu)
    assert lo <= count <= hi, f"{what}: {count} spikes, expected {mu:.1f} ([{lo}, {hi}])"


# -- each pattern's schedule means what bmtool's pattern means ------------------------------
BASE = {"on_ms": 100.0, "off_ms": 50.0, "burst_hz": 40.0, "off_hz": 5.0, "silent_hz": 2.0}


def test_long_one_assembly_per_cycle_in_turn():
    t = table_for({"assemblies": rand(3), "pattern": "long", **BASE}, tstop=450.0)
    # cycles at 0, 150, 300 (the last on-period ends at 400 <= 450): assembly c % 3 bursts
    assert rows_of(t, "0") == [
        (0.0, 100.0, 40.0, 40.0, "burst"),
        (100.0, 150.0, 2.0, 2.0, "silent"),
        (150.0, 250.0, 5.0, 5.0, "off"),
        (250.0, 300.0, 2.0, 2.0, "silent"),
        (300.0, 400.0, 5.0, 5.0, "off"),
        (400.0, 450.0, 2.0, 2.0, "silent"),
    ]
    for a, t0 in (("1", 150.0), ("2", 300.0)):
        assert [r[:2] for r in rows_of(t, a) if r[4] == "burst"] == [(t0, t0 + 100.0)]


def test_short_each_assembly_bursts_in_turn_inside_every_on_period():
    t = table_for({"assemblies": rand(3), "pattern": "short", **BASE, "on_ms": 90.0}, tstop=300)
    for p, a in enumerate("012"):  # slots of 30 ms in both on-periods (0 and 140 ms)
        bursts = [r[:2] for r in rows_of(t, a) if r[4] == "burst"]
        assert bursts == [(30.0 * p, 30.0 * p + 30), (140 + 30.0 * p, 140 + 30.0 * p + 30)]
    assert rows_of(t, "1")[:3] == [
        (0.0, 30.0, 5.0, 5.0, "off"),
        (30.0, 60.0, 40.0, 40.0, "burst"),
        (60.0, 90.0, 5.0, 5.0, "off"),
    ]
    # bmtool: ceil(n_rounds * k) slots; slot j goes to position j % k: 1.5 rounds of 2
    t = table_for(
        {"assemblies": rand(2), "pattern": "short", **BASE, "on_ms": 90.0, "n_rounds": 1.5},
        tstop=90.0,
    )
    assert [r[:2] for r in rows_of(t, "0") if r[4] == "burst"] == [(0.0, 30.0), (60.0, 90.0)]
    assert [r[:2] for r in rows_of(t, "1") if r[4] == "burst"] == [(30.0, 60.0)]


def test_ramp_holds_ramps_and_holds_in_the_driven_assembly():
    params = {"assemblies": rand(2), "pattern": "ramp", **BASE}
    params.update(ramp_start_hz=10.0, ramp_end_hz=70.0, ramp_on_ms=20.0, ramp_off_ms=80.0)
    t = table_for(params, tstop=250.0)
    assert rows_of(t, "0") == [
        (0.0, 20.0, 10.0, 10.0, "burst"),
        (20.0, 80.0, 10.0, 70.0, "ramp"),
        (80.0, 100.0, 70.0, 70.0, "burst"),
        (100.0, 150.0, 2.0, 2.0, "silent"),
        (150.0, 250.0, 5.0, 5.0, "off"),
    ]
    assert rows_of(t, "1")[0] == (0.0, 100.0, 5.0, 5.0, "off")
    assert rows_of(t, "1")[2][:3] == (150.0, 170.0, 10.0)
    # defaults: from off_hz up to burst_hz over the whole on-period
    t = table_for({"assemblies": rand(1), "pattern": "ramp", **BASE}, tstop=100.0)
    assert rows_of(t, "0") == [(0.0, 100.0, 5.0, 40.0, "ramp")]


@pytest.mark.parametrize("pattern", ["join", "quit"])
def test_join_and_quit_steps(pattern):
    params = {"assemblies": rand(2), "pattern": pattern, **BASE, "n_steps": 4}
    t = table_for(params, n_units=200, tstop=250.0)
    # recruitment offsets linspace(0, 100, 4, endpoint=False) = 0, 25, 50, 75 ms
    for s in range(4):
        d = 25.0 * s if pattern == "join" else 75.0 - 25.0 * s
        first, then = (("silent", 2.0), ("burst", 40.0))[:: 1 if pattern == "join" else -1]
        want = [(d, 100.0, then[1], then[1], then[0])]
        if d > 0:
            want.insert(0, (0.0, d, first[1], first[1], first[0]))
        assert rows_of(t, "0", s)[: len(want)] == want
        assert rows_of(t, "1", s)[0] == (0.0, 100.0, 5.0, 5.0, "off")  # not driven: off_hz
        assert rows_of(t, "1", s)[2][4] == (first if d > 0 else then)[0]  # cycle 1: driven
    assert set(t["key"]) == {f"{a}/step {s}" for a in "01" for s in range(4)}


def test_fade_drives_pairs_in_turn():
    params = {"assemblies": rand(4), "pattern": "fade", **BASE, "ramp_on_ms": 10.0}
    params.update(fade_out_start_hz=30.0, fade_out_end_hz=3.0, fade_in_start_hz=1.0)
    t = table_for(params, tstop=450.0)
    assert rows_of(t, "0")[:2] == [
        (0.0, 10.0, 30.0, 30.0, "burst"),
        (10.0, 100.0, 30.0, 3.0, "ramp"),
    ]
    assert rows_of(t, "1")[:2] == [
        (0.0, 10.0, 1.0, 1.0, "burst"),
        (10.0, 100.0, 1.0, 40.0, "ramp"),  # fade-in ends at burst_hz by default
    ]
    for a in "23":
        assert rows_of(t, a)[0] == (0.0, 100.0, 5.0, 5.0, "off")
        assert rows_of(t, a)[2][4] == "burst"  # cycle 1 (150 ms): pair (2, 3)
    assert rows_of(t, "0")[5][:2] == (300.0, 310.0)  # cycle 2: pair (0, 1) again


def test_loop_follows_the_knots_in_turn():
    params = {"assemblies": rand(2), "pattern": "loop", **BASE}
    params.update(loop_times_ms=[20.0, 60.0], loop_rates_hz=[10.0, 50.0])
    t = table_for(params, tstop=300.0)
    assert rows_of(t, "0")[:3] == [
        (0.0, 20.0, 10.0, 10.0, "burst"),
        (20.0, 60.0, 10.0, 50.0, "ramp"),
        (60.0, 100.0, 50.0, 50.0, "burst"),
    ]
    assert rows_of(t, "1")[2] == (150.0, 170.0, 10.0, 10.0, "burst")
    # only rates: knots spread evenly over the on-period
    params = {"assemblies": rand(1), "pattern": "loop", **BASE, "loop_rates_hz": [0.0, 20, 0]}
    assert rows_of(table_for(params, tstop=100.0), "0") == [
        (0.0, 50.0, 0.0, 20.0, "ramp"),
        (50.0, 100.0, 20.0, 0.0, "ramp"),
    ]


def test_start_cycles_order_and_clipping():
    params = {"assemblies": rand(3), "pattern": "long", **BASE, "start_ms": 120.0}
    params.update(n_cycles=2, assembly_order=["2", 0])
    t = table_for(params, tstop=1000.0)
    assert rows_of(t, "2")[:2] == [(0.0, 120.0, 2.0, 2.0, "silent"), (120.0, 220, 40, 40, "burst")]
    assert rows_of(t, "0")[3] == (270.0, 370.0, 40.0, 40.0, "burst")
    assert rows_of(t, "0")[4] == (370.0, 1000.0, 2.0, 2.0, "silent")  # after n_cycles: silent
    assert {r[4] for r in rows_of(t, "1")} == {"silent", "off"}  # not in the order: never driven
    # a window starting inside a ramp: the row is cut and its rate interpolated
    params = {"assemblies": rand(1), "pattern": "ramp", **BASE, "start_ms": 0.0}
    assert rows_of(table_for(params, tstart=25.0, tstop=100.0), "0") == [
        (25.0, 100.0, 13.75, 40.0, "ramp")
    ]
    # default n_cycles: the on-periods that end by tstop (bmtool's get_stim_cycle)
    t = table_for({"assemblies": rand(1), "pattern": "long", **BASE}, tstop=250.0)
    assert [r[:2] for r in rows_of(t, "0") if r[4] == "burst"] == [(0.0, 100.0), (150.0, 250.0)]


def test_schedule_covers_the_window_for_every_group():
    params = {"assemblies": rand(3, p_in=0.8), "pattern": "join", "n_steps": 3, **BASE}
    t = table_for(params, n_units=300, tstart=-40.0, tstop=777.0)
    assert set(t["epoch"]) <= set(EPOCHS)
    assert (
        t["group"].nunique() == 3 * 3 + 1 and (t.loc[t["key"] == "none", "epoch"] == "silent").all()
    )
    for _, rows in t.groupby("group"):
        start, stop = rows["start_ms"].to_numpy(), rows["stop_ms"].to_numpy()
        assert start[0] == -40.0 and stop[-1] == 777.0
        np.testing.assert_array_equal(start[1:], stop[:-1])
        assert np.all(stop > start)


# -- the spikes follow the schedule ---------------------------------------------------------
def spikes_by_row(res, sched):
    """Observed spikes and expected count of every schedule row (all units of its group)."""
    ids = res.spikes["node_ids"].to_numpy()
    times = res.spikes["timestamps"].to_numpy()
    pos = np.searchsorted(sched.assemblies.node_ids, ids)
    g = sched.group[pos]
    r = sched.rows
    first = np.searchsorted(r["group"], np.arange(sched.n_groups))
    k = np.empty(ids.size, dtype=np.int64)
    for grp in range(sched.n_groups):
        sel = g == grp
        n_rows = int((r["group"] == grp).sum())
        starts = r["start_ms"][first[grp] : first[grp] + n_rows]
        k[sel] = first[grp] + np.searchsorted(starts, times[sel], side="right") - 1
    observed = np.bincount(k, minlength=r["group"].size)
    n_units = np.bincount(sched.group, minlength=sched.n_groups)[r["group"]]
    mean_hz = 0.5 * (r["from_hz"] + r["to_hz"])
    expected = n_units * mean_hz * (r["stop_ms"] - r["start_ms"]) / 1000.0
    return observed, expected


PATTERN_PARAMS = {
    "short": {"n_rounds": 2},
    "long": {},
    "ramp": {"ramp_on_ms": 200.0, "ramp_off_ms": 700.0, "ramp_start_hz": 60.0},
    "join": {"n_steps": 4, "ramp_on_ms": 100.0},
    "quit": {"n_steps": 4, "ramp_off_ms": 800.0},
    "fade": {"ramp_on_ms": 300.0},
    "loop": {"loop_times_ms": [0.0, 300.0, 500.0], "loop_rates_hz": [10.0, 60.0, 25.0]},
}


@pytest.mark.parametrize("pattern", list(PATTERN_PARAMS))
def test_each_assemblys_rate_in_each_epoch_matches_the_schedule(pattern):
    params = {
        "assemblies": rand(4, p_in=0.9),
        "pattern": pattern,
        "on_ms": 1000.0,
        "off_ms": 500.0,
        "start_ms": 250.0,
        "burst_hz": 30.0,
        "off_hz": 6.0,
        "silent_hz": 2.0,
        **PATTERN_PARAMS[pattern],
    }
    ids = np.arange(5, 5 + 3 * 800, 3)
    res = gen(params, ids, 0.0, 6500.0)
    sched = Stimulus(**params).schedule_for(Units(POP, ids), 0.0, 6500.0, SEED)
    observed, expected = spikes_by_row(res, sched)
    names = np.asarray(sched.group_assembly, dtype=object)[sched.rows["group"]]
    frame = pd.DataFrame(
        {"assembly": names, "epoch": sched.rows["epoch"], "obs": observed, "mu": expected}
    ).fillna({"assembly": "none"})
    sums = frame.groupby(["assembly", "epoch"])[["obs", "mu"]].sum()
    assert {"burst", "off", "silent"} <= set(frame["epoch"])
    for (assembly, epoch), row in sums.iterrows():
        assert_poisson(row["obs"], row["mu"], f"{pattern}: assembly {assembly}, {epoch}")


@pytest.mark.parametrize(
    ("start_hz", "end_hz", "ramp_on", "ramp_off"), [(0.0, 100.0, 0.0, 1000.0), (80, 10, 200, 800)]
)
def test_ramps_are_linear(start_hz, end_hz, ramp_on, ramp_off):
    params = {"assemblies": rand(1), "pattern": "ramp", "on_ms": 1000.0, "off_ms": 0.0}
    params.update(ramp_start_hz=start_hz, ramp_end_hz=end_hz)
    params.update(ramp_on_ms=ramp_on, ramp_off_ms=ramp_off)
    n_units, n_cycles = 500, 6
    res = gen(params, np.arange(n_units), 0.0, 1000.0 * n_cycles)
    phase = res.spikes["timestamps"].to_numpy() % 1000.0
    edges = np.arange(ramp_on, ramp_off + 1e-9, 10.0)
    counts = np.histogram(phase, edges)[0].astype(float)
    x = 0.5 * (edges[1:] + edges[:-1])
    slope_hz_per_ms = (end_hz - start_hz) / (ramp_off - ramp_on)
    mean = n_units * n_cycles * 0.01 * (start_hz + slope_hz_per_ms * (x - ramp_on))
    xc = (x - x.mean()) / (x.max() - x.min())
    design = np.column_stack([np.ones_like(xc), xc, xc**2 - np.mean(xc**2)])
    coef = np.linalg.lstsq(design, counts, rcond=None)[0]
    pinv = np.linalg.pinv(design)
    cov = pinv @ np.diag(mean) @ pinv.T  # Poisson counts: variance = mean
    se = np.sqrt(np.diag(cov))
    want_slope = n_units * n_cycles * 0.01 * slope_hz_per_ms * (x.max() - x.min())
    assert abs(coef[1] - want_slope) <= Z * se[1], (coef[1], want_slope, se[1])
    assert abs(coef[2]) <= Z * se[2], (coef[2], se[2])  # no curvature: linear
    assert abs(coef[0] - mean.mean()) <= Z * se[0]


def test_join_steps_are_binomial_and_per_unit():
    ids = np.arange(6000)
    params = {"assemblies": rand(2), "pattern": "join", "n_steps": 5}
    table = assembly_table(params, Units(POP, ids), SEED)
    assert list(table.columns) == ["node_id", "assembly", "step"]
    for name, members in table.groupby("assembly"):
        counts = np.bincount(members["step"], minlength=5)
        lo, hi = (
            stats.binom.ppf(P / 2, len(members), 0.2),
            stats.binom.isf(P / 2, len(members), 0.2),
        )
        assert np.all((lo <= counts) & (counts <= hi)), (name, counts, lo, hi)
    # a unit's step is its own: the same in a subset, in another order, in another assembly split
    sub = ids[::7][::-1]
    again = assembly_table(params, Units(POP, sub), SEED).set_index("node_id")
    np.testing.assert_array_equal(
        again.loc[np.sort(sub).astype(np.uint64), "step"],
        table.set_index("node_id").loc[np.sort(sub).astype(np.uint64), "step"],
    )
    other = assembly_table({**params, "assemblies": rand(3)}, Units(POP, ids), SEED)
    np.testing.assert_array_equal(other["step"], table["step"])
    # the share of driven units grows by one step every 200 ms of the on-period
    res = gen({**params, "on_ms": 1000.0, "off_ms": 0.0, "burst_hz": 20.0}, ids, 0.0, 2000.0)
    df = res.spikes
    step = table.set_index("node_id").loc[df["node_ids"].to_numpy(), "step"].to_numpy()
    assembly = table.set_index("node_id").loc[df["node_ids"].to_numpy(), "assembly"].to_numpy()
    t = df["timestamps"].to_numpy()
    for c, a in enumerate("01"):
        for k in range(5):
            window = (t >= 1000 * c + 200 * k) & (t < 1000 * c + 200 * (k + 1)) & (assembly == a)
            joined = (table["assembly"] == a) & (table["step"] <= k)
            assert_poisson(int(window.sum()), joined.sum() * 20.0 * 0.2, f"cycle {c}, step {k}")
            assert np.all(step[window] <= k)  # silent_hz = 0: no unit fires before its step


# -- a pattern is its schedule ---------------------------------------------------------------
def test_a_pattern_and_its_rows_written_by_hand_give_identical_spikes(tmp_path):
    base = {"assemblies": rand(2), **BASE}
    rows = [
        {"assembly": "0", "start_ms": 0, "stop_ms": 100, "rate_hz": 40.0},
        {"assembly": 1, "start_ms": 0, "stop_ms": 100, "rate_hz": 5.0, "epoch": "off"},
        {"assembly": "0", "start_ms": 150, "stop_ms": 250, "rate_hz": 5.0, "epoch": "off"},
        {"assembly": "1", "start_ms": 150, "stop_ms": 250, "from_hz": 40.0, "to_hz": 40.0},
    ]
    ids = np.arange(400)
    a = gen({**base, "pattern": "long"}, ids, 0.0, 300.0, output=tmp_path / "a.h5")
    b = gen(
        {**base, "pattern": "schedule", "schedule": rows}, ids, 0, 300, output=tmp_path / "b.h5"
    )
    assert a.n_spikes == b.n_spikes > 0
    sa, sb = (rm.read_spikes(r.path, POP) for r in (a, b))
    pd.testing.assert_frame_equal(sa, sb)
    ma, mb = (read_metadata(r.path, POP) for r in (a, b))
    for key in [k for k in ma if k.startswith(("schedule_", "assembly_", "group_"))]:
        if key != "assembly_params":
            np.testing.assert_array_equal(ma[key], mb[key], err_msg=key)


@pytest.mark.parametrize("pattern", list(PATTERN_PARAMS))
def test_every_pattern_equals_its_schedule(pattern):
    params = {"assemblies": rand(4, p_in=0.9), "pattern": pattern, **BASE}
    params.update(PATTERN_PARAMS[pattern], on_ms=1000.0, off_ms=500.0, start_ms=-300.0)
    units = Units(POP, np.arange(0, 1000, 3))
    model = rm.make_model("stimulus", params)
    explicit = model.as_schedule(units, 0.0, 4000.0, SEED)
    assert explicit.pattern == "schedule"
    # the explicit rows survive JSON (a config file) unchanged
    params = json.loads(json.dumps(explicit.params()))
    explicit = rm.make_model("stimulus", params)
    a = rm.generate(model, POP, units.node_ids, 0.0, 4000.0, seed=SEED)
    b = rm.generate(explicit, POP, units.node_ids, 0.0, 4000.0, seed=SEED)
    assert a.n_spikes > 0
    pd.testing.assert_frame_equal(a.spikes, b.spikes)
    ta = model.schedule_for(units, 0.0, 4000.0, SEED).table()
    tb = explicit.schedule_for(units, 0.0, 4000.0, SEED).table()
    pd.testing.assert_frame_equal(ta, tb)


# -- reproducibility -------------------------------------------------------------------------
@pytest.mark.parametrize("pattern", ["long", "join"])
def test_a_nodes_assembly_and_spikes_do_not_depend_on_order_subset_or_batches(pattern):
    params = {"assemblies": rand(3), "pattern": pattern, **BASE, "n_steps": 3}
    params.update(on_ms=400.0, off_ms=100.0)
    ids = np.arange(0, 1800, 3)
    full = gen(params, ids, 0.0, 2500.0).spikes
    assert len(full) > 1000
    shuffled = np.random.default_rng(0).permutation(ids)
    pd.testing.assert_frame_equal(gen(params, shuffled, 0.0, 2500.0).spikes, full)
    pd.testing.assert_frame_equal(gen(params, ids, 0.0, 2500.0, batch_spikes=37).spikes, full)
    sub = ids[::5]
    part = gen(params, sub[::-1], 0.0, 2500.0).spikes
    pd.testing.assert_frame_equal(
        part, full[full["node_ids"].isin(sub)].reset_index(drop=True), check_dtype=True
    )
    whole = assembly_table(params, Units(POP, ids), SEED).set_index("node_id")
    some = assembly_table(params, Units(POP, sub), SEED).set_index("node_id")
    pd.testing.assert_frame_equal(some, whole.loc[some.index])


def test_trials_share_assemblies_and_schedule_and_differ_in_spikes(tmp_path):
    params = {"assemblies": rand(3, p_in=0.8), "pattern": "quit", "n_steps": 4, **BASE}
    res = gen(params, np.arange(300), 0.0, 1000.0, trials=3, output=tmp_path / "s.h5")
    metas = [read_metadata(r.path, POP) for r in res]
    keys = [k for k in metas[0] if k.startswith(("assembly_", "schedule_", "group_"))]
    assert "assembly_index" in keys and "schedule_epoch" in keys
    for meta in metas[1:]:
        for key in keys:
            np.testing.assert_array_equal(meta[key], metas[0][key], err_msg=key)
    trains = [rm.read_spikes(r.path, POP)["timestamps"].to_numpy() for r in res]
    assert all(t.size > 0 for t in trains)
    assert not np.array_equal(trains[0], trains[1]) and not np.array_equal(trains[1], trains[2])


# -- metadata and the API tables --------------------------------------------------------------
def test_metadata_holds_assemblies_schedule_and_derived(tmp_path):
    params = {"assemblies": rand(3, p_in=0.7), "pattern": "join", "n_steps": 2, **BASE}
    ids = np.arange(10, 610, 2)
    res = gen(params, ids, -50.0, 700.0, output=tmp_path / "s.h5")
    meta = read_metadata(res.path, POP)
    table = schedule_table(params, Units(POP, ids), -50.0, 700.0, SEED)
    for col in ("group", "start_ms", "stop_ms", "from_hz", "to_hz", "epoch"):
        np.testing.assert_array_equal(meta[f"schedule_{col}"], table[col].to_numpy(), err_msg=col)
    np.testing.assert_array_equal(
        meta["group_keys"], table.drop_duplicates("group").sort_values("group")["key"]
    )
    members = assembly_table(params, Units(POP, ids), SEED)
    index = meta["assembly_index"]
    np.testing.assert_array_equal(meta["assembly_node_ids"], ids)
    np.testing.assert_array_equal(meta["assembly_names"][index[index >= 0]], members["assembly"])
    np.testing.assert_array_equal(meta["assembly_step"][index >= 0], members["step"])
    # each unit's block is its assembly and step (the last block holds the units in none)
    np.testing.assert_array_equal(
        meta["group_index"], np.where(index >= 0, 2 * index + meta["assembly_step"], 6)
    )
    derived = read_provenance(res.path, POP)["derived"]
    assert derived["n_assemblies"] == 3 and derived["n_cycles"] == 5
    assert sum(derived["assembly_sizes"].values()) + derived["n_unassigned"] == ids.size
    # the target rate is the scheduled mean of the unit's group
    durations = table["stop_ms"] - table["start_ms"]
    integral = (0.5 * (table["from_hz"] + table["to_hz"]) * durations).groupby(table["group"]).sum()
    np.testing.assert_allclose(
        meta["target_rate_hz"], integral.to_numpy()[meta["group_index"]] / 750
    )


def test_in_layers_the_stimulus_keeps_its_schedule_under_its_layer(tmp_path):
    stim = {"generator": "stimulus", "assemblies": rand(3), "pattern": "long", **BASE}
    layers = [{"generator": "poisson", "rate_hz": 1.0}, stim]
    ids = np.arange(200)
    res = rm.generate(
        "layers",
        POP,
        ids,
        0.0,
        600.0,
        params={"layers": layers},
        seed=SEED,
        output=tmp_path / "l.h5",
    )
    meta = read_metadata(res.path, POP)
    assert "layer1.schedule_epoch" in meta and "layer1.assembly_index" in meta
    own = {k: v for k, v in stim.items() if k != "generator"}
    members = assembly_table(own, Units(POP, ids), SEED, namespace="layer1/")
    index = meta["layer1.assembly_index"]
    np.testing.assert_array_equal(meta["layer1.assembly_names"][index], members["assembly"])
    plain = assembly_table(own, Units(POP, ids), SEED)  # its own streams: another draw
    assert not np.array_equal(plain["assembly"], members["assembly"])


def test_schedule_grid_is_exact_with_steps():
    start, stop = [-10.0, 40.0, 90.0, 150.0], [40.0, 90.0, 150.0, 200.0]
    r0, r1 = [0.0, 30.0, 12.0, 12.0], [0.0, 5.0, 12.0, 0.0]
    grid = ScheduleGrid(start, stop, r0, r1)
    assert grid.knots()[0].tolist() == [-10.0, 40.0, 40.0, 90.0, 90.0, 150.0, 200.0]

    def rate(t):
        k = np.searchsorted(start, t, side="right") - 1
        w = (t - np.take(start, k)) / (np.take(stop, k) - np.take(start, k))
        return np.take(r0, k) + (np.take(r1, k) - np.take(r0, k)) * w

    t = np.linspace(-10.0, 200.0, 57)
    want = [integrate.quad(rate, -10.0, x, points=[40, 90, 150], limit=200)[0] / 1000 for x in t]
    np.testing.assert_allclose(grid.integral(t), want, rtol=1e-12, atol=1e-12)
    assert grid.total == pytest.approx(0.5 * 35 * 50 / 1000 + 12 * 60 / 1000 + 6 * 50 / 1000)
    v = np.linspace(0.0, grid.total, 101)[1:-1]
    np.testing.assert_allclose(grid.integral(grid.invert(v)), v, rtol=0, atol=1e-12)
    assert np.all(grid.invert(v) >= 40.0)  # nothing in the silent first row
    np.testing.assert_allclose(
        grid.bin_means([-10.0, 40.0, 90.0, 150.0, 200.0]), [0.0, 17.5, 12.0, 6.0], atol=1e-12
    )
    # without steps it is the plain piecewise-linear grid
    plain = PiecewiseLinearGrid([0.0, 50.0, 100.0], [5.0, 25.0, 0.0], 0.0, 100.0)
    same = ScheduleGrid([0.0, 50.0], [50.0, 100.0], [5.0, 25.0], [25.0, 0.0])
    np.testing.assert_array_equal(same.knots()[0], plain.knots()[0])
    np.testing.assert_array_equal(same.invert(v[v < 1]), plain.invert(v[v < 1]))


def test_patterns_listed_and_registered():
    assert set(PATTERNS) == {"short", "long", "ramp", "join", "quit", "fade", "loop", "schedule"}
    assert rm.get_generator("stimulus") is Stimulus
    assert "stimulus" in rm.available_generators()


# -- bad input ---------------------------------------------------------------------------------
IDS = np.arange(20)
OK = {"assemblies": rand(2)}


def overlapping():
    rows = [
        {"assembly": "1", "start_ms": 0, "stop_ms": 50, "rate_hz": 10},
        {"assembly": 1, "start_ms": 40, "stop_ms": 60, "rate_hz": 5},
    ]
    return {**OK, "pattern": "schedule", "schedule": rows}


def one_row(**row):
    return {**OK, "pattern": "schedule", "schedule": [{"assembly": 0, **row}]}


ATTRS = pd.DataFrame({"pop_name": ["dend", "apic"] * 10}, index=IDS)
BAD = [
    ("overlapping rows", overlapping(), ValueError,
     r"Overlapping schedule rows for assembly '1': \[0, 50\) ms and \[40, 60\) ms \(rows 0 and 1"),
    ("ramp offset outside the on-period",
     {**OK, "pattern": "ramp", "on_ms": 100, "ramp_off_ms": 150}, ValueError,
     r"'ramp_off_ms': 150.0 ms.*0 <= ramp_on_ms <= ramp_off_ms <= on_ms \(100.0 ms\)"),
    ("negative ramp offset", {**OK, "ramp_on_ms": -5}, ValueError, r"'ramp_on_ms': -5.0"),
    ("ramp on after off", {**OK, "ramp_on_ms": 600, "ramp_off_ms": 500}, ValueError,
     r"'ramp_on_ms': 600.0 ms \(ramp_on_ms=600.0, ramp_off_ms=500.0\)"),
    ("negative burst rate", {**OK, "burst_hz": -1}, ValueError,
     r"'burst_hz': -1.0 Hz. Allowed: >= 0"),
    ("negative row rate", one_row(start_ms=0, stop_ms=5, rate_hz=-2), ValueError,
     r"'schedule\[0\].rate_hz': -2.0 Hz"),
    ("negative fade rate", {**OK, "fade_in_end_hz": -3}, ValueError, r"'fade_in_end_hz': -3.0"),
    ("row times do not increase", one_row(start_ms=50, stop_ms=50, rate_hz=1), ValueError,
     r"'schedule\[0\]': start_ms=50, stop_ms=50. Allowed: stop_ms > start_ms"),
    ("loop times do not increase", {**OK, "pattern": "loop", "loop_times_ms": [0, 50, 40],
     "loop_rates_hz": [1, 2, 3]}, ValueError,
     r"'loop_times_ms': not strictly increasing at index 2"),
    ("loop knot outside the on-period", {**OK, "on_ms": 100, "loop_times_ms": [0, 120]},
     ValueError, r"'loop_times_ms': knots from 0 to 120 ms.*0 .. on_ms \(100 ms\)"),
    ("row without a rate", one_row(start_ms=0, stop_ms=5), ValueError,
     r"either 'rate_hz' or both 'from_hz' and 'to_hz'"),
    ("row with an unknown key", one_row(start_ms=0, stop_ms=5, rate_hz=1, rate=2), ValueError,
     r"unknown key\(s\) 'rate'.*Allowed keys: assembly, start_ms"),
    ("row step out of range", one_row(start_ms=0, stop_ms=5, rate_hz=1, step=20), ValueError,
     r"'schedule\[0\].step': 20. Allowed: 0 .. 19"),
    ("row epoch unknown", one_row(start_ms=0, stop_ms=5, rate_hz=1, epoch="on"), ValueError,
     r"'schedule\[0\].epoch': 'on'. Allowed: 'silent', 'off', 'burst', 'ramp'"),
    ("unknown assembly name in a row", one_row(start_ms=0, stop_ms=5, rate_hz=1) | {
        "schedule": [{"assembly": "A", "start_ms": 0, "stop_ms": 5, "rate_hz": 1}]}, ValueError,
     r"'schedule\[0\].assembly': 'A' is not an assembly. Allowed: a name \('0', '1'\) or an index "
     r"0 .. 1"),
    ("assembly index out of range", {**OK, "assembly_order": [0, 2]}, ValueError,
     r"'assembly_order\[1\]': 2 is not an assembly"),
    ("assembly named twice", {**OK, "assembly_order": [0, "0"]}, ValueError,
     r"names an assembly twice"),
    ("unknown attribute", {"assemblies": {"method": "by_attribute", "attribute": "layer"}},
     KeyError, r"'layer' is not a node attribute.*attributes: pop_name"),
    ("empty assembly", {"assemblies": {"method": "lists", "assemblies": [[0, 1], []]}},
     ValueError, r"Assembly '1' of population 'thalamus' is empty"),
    ("more assemblies than units", {"assemblies": rand(21)}, ValueError,
     r"'n': 21 assemblies for 20 units"),
    ("unknown pattern", {**OK, "pattern": "burst"}, ValueError,
     r"'pattern': 'burst'. Allowed: 'short', 'long', 'ramp', 'join', 'quit', 'fade', 'loop', "
     r"'schedule'"),
    ("on_ms <= 0", {**OK, "on_ms": 0}, ValueError, r"'on_ms': 0.0 ms. Allowed: > 0"),
    ("negative off_ms", {**OK, "off_ms": -1}, ValueError, r"'off_ms': -1.0 ms. Allowed: >= 0"),
    ("no assemblies", {"pattern": "long"}, ValueError,
     r"Missing or invalid 'assemblies'.*methods: random, by_attribute, grid, lists"),
    ("unknown assembly method", {"assemblies": {"method": "pairs"}}, ValueError,
     r"'assemblies\['method'\]': 'pairs'. Allowed: 'random'"),
    ("schedule with another pattern", {**OK, "schedule": []}, ValueError,
     r"'schedule' with pattern='long'. Allowed: None"),
    ("empty schedule", {**OK, "pattern": "schedule", "schedule": []}, ValueError,
     r"Invalid value for 'schedule': \[\]. Allowed: a non-empty list"),
    ("fade with one assembly", {**OK, "pattern": "fade", "assembly_order": [1]}, ValueError,
     r"at least 2 assemblies for pattern 'fade'"),
    ("n_cycles < 1", {**OK, "n_cycles": 0}, ValueError, r"'n_cycles': 0. Allowed: an integer >= 1"),
    ("cycles far too short", {**OK, "on_ms": 1e-3, "off_ms": 0}, ValueError,
     r"'on_ms' \+ 'off_ms': 0.001 ms makes 100000000 cycles.*at most 100000"),
    ("n_rounds <= 0", {**OK, "pattern": "short", "n_rounds": 0}, ValueError, r"'n_rounds': 0.0"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("params", "error", "match"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_bad_input_is_a_clear_error(params, error, match):
    with pytest.raises(error, match=match):
        rm.generate("stimulus", POP, IDS, 0.0, 100_000.0, params=params, seed=1, attributes=ATTRS)


def test_bad_types_are_type_errors():
    with pytest.raises(TypeError, match=r"'schedule\[0\]' must be a dict"):
        Stimulus(**OK, pattern="schedule", schedule=[("0", 0, 10, 5)])
    with pytest.raises(TypeError, match=r"'assembly_order\[0\]' must be an assembly name"):
        Stimulus(**OK, assembly_order=[1.5])
    with pytest.raises(TypeError, match=r"'model' must be a Stimulus or a dict"):
        schedule_table("long", Units(POP, IDS), 0.0, 10.0, 1)


# -- the example ---------------------------------------------------------------------------------
def test_protocol_example_generates_and_draws(tmp_path):
    import importlib.util

    example = REPO / "examples" / "protocols"
    config = json.loads((example / "config.json").read_text())
    config["manifest"]["$BASE_DIR"] = str(example)
    config["manifest"]["$INPUT_DIR"] = str(tmp_path / "inputs")
    config["manifest"]["$OUTPUT_DIR"] = str(tmp_path / "bionet")
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    spec = importlib.util.spec_from_file_location("run_protocol", example / "run_protocol.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    figure = script.main(path)
    assert figure == tmp_path / "protocol.png" and figure.stat().st_size > 10_000
    spikes, assemblies, schedule = script.read_protocol(
        str(tmp_path / "inputs" / "exc_stim_spikes.h5")
    )
    assert assemblies.n == 9 and assemblies.node_ids.size == 1000 and (assemblies.index >= 0).all()
    bursts = schedule[schedule["epoch"] == "burst"]
    assert bursts["assembly"].tolist() == ["0", "1", "2", "3"]
    assert bursts["start_ms"].tolist() == [500.0, 2000.0, 3500.0, 5000.0]


def test_no_on_period_in_the_window_warns_and_stays_silent(caplog):
    # an on-period longer than the window never ends inside it: the user is told why the
    # assemblies only fire at silent_hz, and nothing fires at burst_hz
    params = {
        "assemblies": rand(2),
        "pattern": "short",
        "on_ms": 5000.0,
        "off_ms": 500.0,
        "burst_hz": 80.0,
        "silent_hz": 0.0,
    }
    with caplog.at_level(logging.WARNING, logger="raster_maker"):
        res = gen(params, np.arange(20), tstop=1000.0)
    assert res.n_spikes == 0
    msg = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("no on-period of 5000 ms" in m and "silent_hz" in m for m in msg), msg
