"""The inspect / validate / stats / plot sub-commands, through ``main(argv)``."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from raster_maker.cli import CLIError, main  # noqa: E402
from raster_maker.cli.plot import _read_rates  # noqa: E402
from raster_maker.generate import generate  # noqa: E402

COMMANDS = ("inspect", "validate", "stats", "plot")


@pytest.fixture(scope="module")
def spikes(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "fg.h5"
    generate(
        "functional_groups",
        "exc",
        np.arange(200),
        0.0,
        2000.0,
        params={"group_size": 100},
        seed=7,
        output=path,
    )
    return path


@pytest.fixture(scope="module")
def bmtk_file(tmp_path_factory):
    from bmtk.utils.reports.spike_trains import PoissonSpikeGenerator

    path = tmp_path_factory.mktemp("cli") / "bmtk.h5"
    psg = PoissonSpikeGenerator(population="x", seed=1)
    psg.add(node_ids=range(10), firing_rate=10.0, times=(0.0, 1.0))
    psg.to_sonata(str(path))
    return path


@pytest.mark.parametrize("command", COMMANDS)
def test_help_is_clear(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert f"raster-maker {command} SPIKES.h5" in out  # a usage example
    assert "SPIKES.h5" in out.split("\n\n")[0]  # the usage line names the input


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_is_explained(command):
    from raster_maker.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for action in sub.choices[command]._actions:
        assert action.help, f"{command} {action.option_strings or action.dest} has no help"


def test_top_level_help_lists_commands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in COMMANDS:
        assert command in out


def test_inspect_table(spikes, capsys):
    assert main(["inspect", str(spikes)]) == 0
    out = capsys.readouterr().out
    header, row = out.split("\n\n")[1].splitlines()[:2]
    assert header.split()[:3] == ["population", "n_spikes", "n_nodes_firing"]
    assert row.split()[0] == "exc" and "by_id" in row and "enum" in row
    assert "provenance.generator: functional_groups" in out
    assert "provenance.seed: 7" in out


def test_inspect_lists_only_populations(spikes, tmp_path, capsys):
    # a stray dataset under /spikes is not a population (the readers skip it too)
    import shutil

    import h5py

    path = tmp_path / "stray.h5"
    shutil.copy(spikes, path)
    with h5py.File(path, "a") as h5:
        h5["spikes"]["extra"] = np.arange(3)
    assert main(["inspect", "--json", str(path)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert [p["population"] for p in info["populations"]] == ["exc"]


def test_inspect_json_of_bmtk_file(bmtk_file, capsys):
    assert main(["inspect", "--json", str(bmtk_file)]) == 0
    info = json.loads(capsys.readouterr().out)
    (pop,) = info["populations"]
    assert pop["sorting_type"] == "str" and pop["compression"] == "gzip"
    assert pop["provenance"] == {}


def test_validate_exit_status(spikes, bmtk_file, capsys):
    assert main(["validate", str(spikes)]) == 0
    assert capsys.readouterr().out.strip().endswith(": OK")
    assert main(["validate", str(bmtk_file)]) == 1
    out = capsys.readouterr().out
    assert "sorting_not_enum" in out and "compression" in out
    assert "error(s)" in out.splitlines()[-1]


def test_validate_strict_fails_on_warnings(tmp_path, capsys):
    import h5py

    path = tmp_path / "nosort.h5"
    with h5py.File(path, "w") as h5:
        h5.create_dataset("spikes/p/node_ids", data=np.array([0], np.uint64))
        h5.create_dataset("spikes/p/timestamps", data=np.array([1.0])).attrs["units"] = "ms"
    assert main(["validate", str(path)]) == 0
    assert main(["validate", "--strict", str(path)]) == 1
    assert "sorting_missing" in capsys.readouterr().out


def test_stats_json_matches_api(spikes, capsys):
    from raster_maker.report import spike_stats

    assert main(["stats", "--json", str(spikes)]) == 0
    rep = json.loads(capsys.readouterr().out)
    api = spike_stats(spikes)
    assert [r["n_spikes"] for r in rep["stats"]] == api["n_spikes"].tolist()
    assert rep["cross_correlations"] == []


def test_stats_table(spikes, capsys):
    assert main(["stats", str(spikes), "--rhythm-hz", "8"]) == 0
    out = capsys.readouterr().out
    assert "target_rate_hz" in out and "modulation_depth" in out


@pytest.mark.parametrize("suffix", [".png", ".pdf", ".svg"])
def test_plot_writes_each_format(spikes, tmp_path, suffix, capsys):
    out = tmp_path / f"fig{suffix}"
    assert main(["plot", str(spikes), "--group", "1", "-o", str(out)]) == 0
    assert out.stat().st_size > 1000
    assert capsys.readouterr().out.strip() == str(out)


def test_plot_reference_rates(spikes, tmp_path):
    ref = tmp_path / "rates.txt"
    ref.write_text("1.5, 2.0\n3.5 8\n")
    fig = tmp_path / "f.png"
    assert main(["plot", str(spikes), "--reference-rates", str(ref), "-o", str(fig)]) == 0
    assert fig.exists()
    assert _read_rates(str(ref)).tolist() == [1.5, 2.0, 3.5, 8.0]
    ref.write_text("1.5, fast\n")
    with pytest.raises(CLIError, match="'--reference-rates'.*Allowed: a .npy array"):
        _read_rates(str(ref))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["plot", "{spikes}", "-o", "fig.h5"], "Invalid value for '--output': 'fig.h5'. Allowed"),
        (["plot", "{spikes}", "--group", "9"], "No group '9' in population 'exc'; groups: 0, 1"),
        (["stats", "{spikes}", "--population", "nope"], "No population 'nope'"),
        (["inspect", "missing.h5"], "missing.h5"),
    ],
)
def test_clean_errors(spikes, argv, message, capsys):
    argv = [a.format(spikes=spikes) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"raster-maker {argv[0]}: error:" in err and message in err
