"""Tests for raster_maker.assemblies (node sets split into disjoint assemblies)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from raster_maker.assemblies import METHODS, Assemblies, make_assemblies

REPO = Path(__file__).resolve().parents[1]
POP = "exc_stim"
ALPHA = 1e-6  # per assertion

# a large node set with gaps in the ids, so ids and positions differ
IDS = np.arange(3, 3 + 2 * 20_000, 2, dtype=np.uint64)


def _binom_range(n: int, p: float) -> tuple[float, float]:
    """Two-sided acceptance range of a Binomial(n, p) count at ALPHA."""
    return stats.binom.ppf(ALPHA / 2, n, p), stats.binom.isf(ALPHA / 2, n, p)


def _attributes(ids: np.ndarray, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "pos_x": rng.uniform(0.0, 1000.0, ids.size),
            "pos_y": rng.uniform(0.0, 500.0, ids.size),
            "pulse_group_id": rng.integers(0, 10, ids.size),
            "pop_name": np.where(rng.random(ids.size) < 0.7, "dend", "apic"),
        },
        index=pd.Index(ids.astype(np.int64), name="node_id"),
    )


ATTRS = _attributes(IDS)


def _make(spec, ids=IDS, attrs=ATTRS, seed=11, **kw):
    return make_assemblies(spec, POP, ids, attrs, seed, **kw)


def _assignment(asm: Assemblies) -> dict[int, str | None]:
    names = np.asarray(asm.names + [None], dtype=object)  # index -1 -> None
    return dict(zip(asm.node_ids.tolist(), names[asm.index].tolist(), strict=True))


# --------------------------------------------------------------------------------------
# random: statistics and stream identity
# --------------------------------------------------------------------------------------

SPECS_WITH_P_IN = {
    "random": {"method": "random", "n": 7},
    "by_attribute": {"method": "by_attribute", "attribute": "pulse_group_id"},
    "grid": {"method": "grid", "nx": 4, "ny": 3},
}


@pytest.mark.parametrize("method", sorted(SPECS_WITH_P_IN))
@pytest.mark.parametrize("p_in", [0.05, 0.3, 0.9])
def test_p_in_membership_is_binomial(method, p_in):
    asm = _make({**SPECS_WITH_P_IN[method], "p_in": p_in})
    lo, hi = _binom_range(IDS.size, p_in)
    assert lo <= (asm.index >= 0).sum() <= hi


def test_p_in_one_puts_every_unit_in_an_assembly():
    for spec in SPECS_WITH_P_IN.values():
        asm = _make(spec)
        assert (asm.index >= 0).all()
        assert asm.sizes().sum() == IDS.size


@pytest.mark.parametrize("p_in", [1.0, 0.4])
def test_random_assembly_choice_is_uniform(p_in):
    asm = _make({"method": "random", "n": 7, "p_in": p_in})
    sizes = asm.sizes()
    assert stats.chisquare(sizes).pvalue > ALPHA
    # each assembly holds Binomial(N, p_in / n) units
    lo, hi = _binom_range(IDS.size, p_in / 7)
    assert ((lo <= sizes) & (sizes <= hi)).all()


def test_random_membership_and_choice_are_independent():
    """Counter 0 (in or not) and counter 1 (which assembly) of a stream are independent:
    the chosen assembly of the units left out (read with p_in=1) is uniform as well."""
    full = _make({"method": "random", "n": 5})
    part = _make({"method": "random", "n": 5, "p_in": 0.5})
    inside = part.index >= 0
    assert (full.index[inside] == part.index[inside]).all()
    out_sizes = np.bincount(full.index[~inside], minlength=5)
    assert stats.chisquare(out_sizes).pvalue > ALPHA


@pytest.mark.parametrize("method", sorted(SPECS_WITH_P_IN))
def test_assembly_does_not_depend_on_subset_or_split(method):
    spec = {**SPECS_WITH_P_IN[method], "p_in": 0.6}
    if method == "grid":  # bins of the extent of the node set: fix them
        spec["bounds"] = [[0.0, 1000.0], [0.0, 500.0]]
    full = _assignment(_make(spec))
    # three interleaved parts, made in a scrambled order, each part on its own
    rng = np.random.default_rng(3)
    part_of = rng.integers(0, 3, IDS.size)
    merged: dict[int, str | None] = {}
    for part in (2, 0, 1):
        ids = IDS[part_of == part]
        merged.update(_assignment(_make(spec, ids=ids, attrs=ATTRS.iloc[::-1])))
    assert merged == full


@pytest.mark.parametrize("method", ["random", "by_attribute"])
def test_assembly_of_a_subset_matches_the_whole(method):
    """Every 7th unit on its own (2858 units: an empty assembly would take a miracle)."""
    spec = {**SPECS_WITH_P_IN[method], "p_in": 0.8}
    subset = IDS[::7]
    whole = _assignment(_make(spec))
    assert _assignment(_make(spec, ids=subset)) == {i: whole[i] for i in subset.tolist()}


def test_seed_and_purpose_give_independent_draws():
    n = 4
    base = _make({"method": "random", "n": n})
    lo, hi = _binom_range(IDS.size, 1 / n)
    for other in (
        _make({"method": "random", "n": n}, seed=12),
        _make({"method": "random", "n": n}, purpose="assemblies:trial2"),
        make_assemblies({"method": "random", "n": n}, "inh_stim", IDS, None, 11),
    ):
        assert lo <= (other.index == base.index).sum() <= hi
    again = _make({"method": "random", "n": n})
    assert np.array_equal(again.index, base.index)


def test_random_names_and_no_seed():
    asm = _make({"method": "random", "n": 3, "names": ["a", "b", "c"]})
    assert asm.names == ["a", "b", "c"]
    drawn = make_assemblies({"method": "random", "n": 3}, POP, IDS, None, None)
    seed = drawn.params()["seed"]
    assert isinstance(seed, int)
    again = make_assemblies({"method": "random", "n": 3}, POP, IDS, None, seed)
    assert np.array_equal(drawn.index, again.index)


# --------------------------------------------------------------------------------------
# by_attribute, grid, lists
# --------------------------------------------------------------------------------------


def test_by_attribute_one_assembly_per_sorted_value():
    ids = np.array([2, 3, 5, 8, 13, 21], dtype=np.uint64)
    attrs = pd.DataFrame(
        {"group": [30, 10, 20, 10, np.nan, 30], "pop_name": ["b", "a", "c", "a", "b", "c"]},
        index=ids.astype(np.int64),
    )
    asm = make_assemblies({"method": "by_attribute", "attribute": "group"}, POP, ids, attrs, 0)
    assert asm.names == ["10.0", "20.0", "30.0"]
    assert [asm.members(a).tolist() for a in range(3)] == [[3, 8], [5], [2, 21]]
    assert asm.index.tolist() == [2, 0, 1, 0, -1, 2]  # NaN: no assembly
    by_name = make_assemblies(
        {"method": "by_attribute", "attribute": "pop_name"}, POP, ids, attrs, 0
    )
    assert by_name.names == ["a", "b", "c"]
    assert by_name.members("b").tolist() == [2, 13]


def test_by_attribute_on_the_example_network():
    from raster_maker.nodesets import resolve_node_set

    folder = REPO / "network"
    ns = resolve_node_set(folder, {"population": "exc_stim", "connected_to": "target"})
    if "pulse_group_id" not in ns.attributes:
        pytest.skip("example network built without pulse_group_id")
    asm = make_assemblies(
        {"method": "by_attribute", "attribute": "pulse_group_id"},
        ns.population,
        ns.node_ids,
        ns.attributes,
        1,
    )
    expected = ns.attributes["pulse_group_id"].to_numpy()
    assert asm.names == [str(v) for v in sorted(set(expected))]
    assert [asm.names[i] for i in asm.index] == [str(v) for v in expected]
    grid = make_assemblies(
        {"method": "grid", "nx": 2, "ny": 2}, ns.population, ns.node_ids, ns.attributes, 1
    )
    assert grid.sizes().sum() == len(ns)


def _grid_points():
    """Points on a 4 x 2 grid over x in [0, 100], y in [0, 50], one per cell plus edges.

    x edges 0, 25, 50, 75, 100; y edges 0, 25, 50; cell (i, j) is assembly i * 2 + j.
    """
    points = [  # (x, y, expected assembly)
        (12.0, 12.0, 0),
        (12.0, 37.0, 1),
        (37.0, 12.0, 2),
        (37.0, 37.0, 3),
        (62.0, 12.0, 4),
        (62.0, 37.0, 5),
        (87.0, 12.0, 6),
        (87.0, 37.0, 7),
        (0.0, 0.0, 0),  # the lower corner
        (25.0, 0.0, 2),  # an inner edge belongs to the upper bin (np.digitize, as bmtool)
        (24.999, 25.0, 1),
        (100.0, 50.0, 7),  # the upper corner is in the last bin
        (75.0, 24.999, 6),
    ]
    ids = np.arange(10, 10 + len(points), dtype=np.uint64)
    attrs = pd.DataFrame(
        {"pos_x": [p[0] for p in points], "pos_y": [p[1] for p in points]},
        index=ids.astype(np.int64),
    )
    return ids, attrs, np.array([p[2] for p in points])


def test_grid_bins_like_bmtool():
    ids, attrs, expected = _grid_points()
    spec = {"method": "grid", "nx": 4, "ny": 2}
    asm = make_assemblies(spec, POP, ids, attrs, 0)  # default bounds: the extent
    assert asm.names == [str(k) for k in range(8)]
    assert asm.index.tolist() == expected.tolist()
    bounded = make_assemblies({**spec, "bounds": [[0, 100], [0, 50]]}, POP, ids, attrs, 0)
    assert bounded.index.tolist() == expected.tolist()
    sized = make_assemblies({"method": "grid", "bin_size": [25, 25]}, POP, ids, attrs, 0)
    assert sized.index.tolist() == expected.tolist()
    params = sized.params()
    assert (params["nx"], params["ny"], params["bounds"]) == (4, 2, [[0.0, 100.0], [0.0, 50.0]])


def test_grid_custom_columns_and_grid_id():
    ids, attrs, expected = _grid_points()
    attrs = attrs.rename(columns={"pos_x": "x", "pos_y": "y"})
    # bmtool's grid_id: labels per cell; cells sharing a label form one assembly
    grid_id = [[5, 5], [5, 5], [1, 2], [3, 3]]
    asm = make_assemblies(
        {"method": "grid", "x": "x", "y": "y", "grid_id": grid_id}, POP, ids, attrs, 0
    )
    assert asm.names == ["1", "2", "3", "5"]
    label = np.array(grid_id).reshape(-1)[expected]
    assert [asm.names[i] for i in asm.index] == [str(v) for v in label]


def test_lists_dict_and_list():
    ids = np.array([1, 4, 6, 9, 12], dtype=np.uint64)
    asm = make_assemblies(
        {"method": "lists", "assemblies": {"left": [9, 1], "right": [12]}}, POP, ids, None, 0
    )
    assert asm.names == ["left", "right"]
    assert asm.members("left").tolist() == [1, 9]
    assert asm.index.tolist() == [0, -1, -1, 0, 1]
    assert asm.params()["assemblies"] == {"left": [1, 9], "right": [12]}
    plain = make_assemblies({"method": "lists", "assemblies": [[4], [6, 12]]}, POP, ids, None, 0)
    assert plain.names == ["0", "1"]
    assert plain.sizes().tolist() == [1, 2]


# --------------------------------------------------------------------------------------
# the Assemblies object
# --------------------------------------------------------------------------------------


def test_assemblies_accessors():
    asm = _make({"method": "random", "n": 3, "p_in": 0.5})
    assert asm.n == 3
    table = asm.table()
    assert list(table.columns) == ["node_id", "assembly"]
    assert len(table) == asm.sizes().sum() == (asm.index >= 0).sum()
    assert table["node_id"].is_monotonic_increasing
    for a, name in enumerate(asm.names):
        members = asm.members(a)
        assert np.array_equal(members, asm.members(name))
        assert members.dtype == np.uint64
        assert np.array_equal(table.loc[table["assembly"] == name, "node_id"], members)
    params = asm.params()
    assert json.loads(json.dumps(params)) == params
    assert params == {
        "method": "random",
        "n": 3,
        "p_in": 0.5,
        "names": ["0", "1", "2"],
        "seed": 11,
        "population": POP,
        "purpose": "assemblies",
    }


@pytest.mark.parametrize(
    "spec",
    [
        {"method": "random", "n": 4, "p_in": 0.7},
        {"method": "grid", "nx": 2, "ny": 3, "p_in": 0.5},
        {"method": "by_attribute", "attribute": "pop_name"},
    ],
)
def test_metadata_round_trip_through_a_spikes_file(tmp_path, spec):
    from raster_maker.sonata import SpikesWriter, read_metadata

    asm = _make(spec)
    path = tmp_path / "spikes.h5"
    with SpikesWriter(path) as writer:
        writer.append(POP, [3, 5], [1.0, 2.0])
        writer.add_metadata(POP, asm.to_metadata())
    back = Assemblies.from_metadata(read_metadata(path, POP))
    assert np.array_equal(back.node_ids, asm.node_ids)
    assert np.array_equal(back.index, asm.index)
    assert back.names == asm.names
    assert back.params() == asm.params()


# --------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------

SMALL = np.arange(6, dtype=np.uint64)
SMALL_ATTRS = pd.DataFrame(
    {"pos_x": [0.0, 1, 2, 3, 4, 5], "pos_y": [0.0, 5, 1, 4, 2, 3], "g": [0, 0, 1, 1, 2, 2]},
    index=SMALL.astype(np.int64),
)

ERRORS = [
    ({"method": "kmeans"}, ValueError, r"'method': 'kmeans'\. Allowed: 'random', 'by_attribute'"),
    ({"n": 2}, ValueError, r"'method': None\. Allowed: 'random'"),
    ({"method": "random", "n": 0}, ValueError, r"'n': 0\. Allowed: an integer >= 1"),
    ({"method": "random", "n": 2.5}, TypeError, r"'n' must be an integer, got float 2\.5"),
    ({"method": "random"}, ValueError, r"'random' needs 'n' \(optional: p_in, names\)"),
    ({"method": "random", "n": 2, "pin": 0.5}, ValueError, r"Invalid key\(s\) 'pin'.*Allowed"),
    ({"method": "random", "n": 2, "p_in": 0}, ValueError, r"'p_in': 0\.0\. Allowed: 0 < p_in <= 1"),
    ({"method": "random", "n": 2, "p_in": 1.5}, ValueError, r"'p_in': 1\.5\. Allowed: 0 < p_in"),
    ({"method": "random", "n": 2, "p_in": "x"}, TypeError, r"'p_in' must be a real number"),
    ({"method": "random", "n": 7}, ValueError, r"'n': 7 assemblies for 6 units.*n <= the"),
    ({"method": "random", "n": 2, "names": ["a"]}, ValueError, r"'names': \['a'\]\. Allowed: 2"),
    ({"method": "random", "n": 2, "names": ["a", "a"]}, ValueError, r"'names': a repeated"),
    (
        {"method": "by_attribute", "attribute": "colour"},
        KeyError,
        r"'colour' is not a node attribute of population 'exc_stim'; attributes: pos_x, pos_y, g",
    ),
    (
        {"method": "by_attribute", "attribute": "g", "p_in": 1e-9},
        ValueError,
        r"Assembly '0' of population 'exc_stim' is empty: none of its 2 units \(g=0\) was "
        r"kept with p_in=1e-09; raise 'p_in'",
    ),
    ({"method": "grid"}, ValueError, r"'grid' needs the number of bins: 'nx' and 'ny'"),
    ({"method": "grid", "nx": 2, "ny": 2, "bin_size": 1}, ValueError, r"not both"),
    ({"method": "grid", "bin_size": -1}, ValueError, r"'bin_size': -1\. Allowed: a number > 0"),
    ({"method": "grid", "nx": 2, "ny": 1, "x": "g", "y": "nope"}, KeyError, r"'y'.*'nope'"),
    (
        {"method": "grid", "nx": 3, "ny": 3},
        ValueError,
        r"9 assemblies for 6 units of population 'exc_stim' \(method 'grid'\)",
    ),
    (
        {"method": "grid", "nx": 2, "ny": 2, "bounds": [[0, 20], [0, 10]]},
        ValueError,
        r"Assembly '2' of population 'exc_stim' is empty: no unit lies in its cell \(x in "
        r"\[10, 20\], y in \[0, 5\]\)",
    ),
    (
        {"method": "grid", "nx": 2, "ny": 2, "bounds": [[0, 4], [0, 5]]},
        ValueError,
        r"1 unit\(s\) lie outside 'bounds' \[\[0\.0, 4\.0\], \[0\.0, 5\.0\]\]: node id\(s\) 5",
    ),
    ({"method": "grid", "nx": 2, "ny": 2, "bounds": [[1, 0], [0, 5]]}, ValueError, r"min < max"),
    ({"method": "grid", "grid_id": [[0, 1]], "nx": 2}, ValueError, r"'grid_id' has shape \(1, 2\)"),
    ({"method": "grid", "grid_id": [0, 1]}, TypeError, r"'grid_id' must be a 2-D integer array"),
    (
        {"method": "lists", "assemblies": [[0, 1], [9, 1, 2, 8]]},
        ValueError,
        r"Assembly '1' lists node id\(s\) 8, 9 that are not in the node set",
    ),
    (
        {"method": "lists", "assemblies": {"a": [0, 1, 2], "b": [3], "c": [2, 1]}},
        ValueError,
        r"Node id\(s\) 1, 2 are in assembly 'c' and in 'a'\. Allowed: disjoint",
    ),
    (
        {"method": "lists", "assemblies": {"a": [0], "b": []}},
        ValueError,
        r"Assembly 'b' .* is empty: its list of node ids is empty",
    ),
    ({"method": "lists", "assemblies": 3}, TypeError, r"'assemblies' must be a list"),
    ({"method": "lists", "assemblies": [[0.5]]}, TypeError, r"must list node ids"),
    (
        {"method": "lists", "assemblies": [[0], [1], [2], [3], [4], [5], []]},
        ValueError,
        r"7 assemblies for 6 units",
    ),
]


@pytest.mark.parametrize("spec, error, match", ERRORS)
def test_errors(spec, error, match):
    with pytest.raises(error, match=match):
        make_assemblies(spec, POP, SMALL, SMALL_ATTRS, 0)


def test_random_empty_assembly_says_why():
    ids = np.arange(40, dtype=np.uint64)
    # 40 units into 30 assemblies: at least 10 assemblies are empty, whatever the draw
    with pytest.raises(
        ValueError,
        match=r"is empty: none of the 40 units drew it \(sizes are "
        r"multinomial.*use fewer assemblies.*Empty assemblies: ",
    ):
        make_assemblies({"method": "random", "n": 30}, POP, ids, None, 0)


def test_other_errors():
    with pytest.raises(TypeError, match=r"'spec' must be a dict with a 'method' key, got list"):
        make_assemblies(["random"], POP, SMALL, None, 0)
    with pytest.raises(
        ValueError,
        match=r"reads node attribute 'g' \('attribute'\), but "
        r"attributes=None",
    ):
        make_assemblies({"method": "by_attribute", "attribute": "g"}, POP, SMALL, None, 0)
    with pytest.raises(ValueError, match=r"'node_ids': not sorted and unique"):
        make_assemblies({"method": "random", "n": 1}, POP, SMALL[::-1], None, 0)
    with pytest.raises(TypeError, match=r"'node_ids' must be a 1-D integer array"):
        make_assemblies({"method": "random", "n": 1}, POP, SMALL.astype(float), None, 0)
    with pytest.raises(ValueError, match=r"'attributes' for population .*1 node\(s\) have no row"):
        make_assemblies(
            {"method": "by_attribute", "attribute": "g"},
            POP,
            np.arange(7, dtype=np.uint64),
            SMALL_ATTRS,
            0,
        )
    nan_pos = SMALL_ATTRS.assign(pos_x=[0.0, np.nan, 1, 2, 3, 4])
    with pytest.raises(ValueError, match=r"Node\(s\) 1 have no finite position"):
        make_assemblies({"method": "grid", "nx": 1, "ny": 1}, POP, SMALL, nan_pos, 0)
    no_values = SMALL_ATTRS.assign(g=np.nan)
    with pytest.raises(ValueError, match=r"'g' has no value \(all missing\)"):
        make_assemblies({"method": "by_attribute", "attribute": "g"}, POP, SMALL, no_values, 0)
    mixed = SMALL_ATTRS.assign(g=pd.Series([1, "a", 1, "a", 2, 2], dtype=object).to_numpy())
    with pytest.raises(TypeError, match=r"mixes values of types int, str"):
        make_assemblies({"method": "by_attribute", "attribute": "g"}, POP, SMALL, mixed, 0)


def test_accessor_and_metadata_errors():
    asm = make_assemblies(
        {"method": "lists", "assemblies": {"a": [0], "b": [1]}}, POP, SMALL, None, 0
    )
    with pytest.raises(KeyError, match=r"No assembly 'c'; assemblies: a, b"):
        asm.members("c")
    with pytest.raises(ValueError, match=r"'assembly': 2\. Allowed: 0 \.\. 1 or a name"):
        asm.members(2)
    with pytest.raises(KeyError, match=r"No 'assembly_index' in the metadata; keys present: "):
        Assemblies.from_metadata({"assembly_node_ids": SMALL, "assembly_names": ["a"]})
    with pytest.raises(ValueError, match=r"Invalid value in 'index': 2\. Allowed: -1"):
        Assemblies(SMALL, np.array([0, 1, 2, -1, -1, -1]), ["a", "b"])


def test_methods_listed():
    assert METHODS == ("random", "by_attribute", "grid", "lists")


def test_grid_bin_size_rounding_makes_no_extra_bin():
    # 1.1 / 0.1 = 11.000000000000002: still 11 bins, the last one holding x = 1.1
    ids = np.arange(11, dtype=np.uint64)
    x = np.round(np.arange(11) * 0.1 + 0.05, 2)
    x[-1] = 1.1
    attrs = pd.DataFrame({"pos_x": x, "pos_y": np.zeros(11)}, index=ids.astype(np.int64))
    spec = {"method": "grid", "bin_size": [0.1, 1.0], "bounds": [[0.0, 1.1], [0.0, 1.0]]}
    asm = make_assemblies(spec, POP, ids, attrs, 0)
    assert (asm.params()["nx"], asm.params()["ny"]) == (11, 1)
    assert asm.index.tolist() == list(range(11))
