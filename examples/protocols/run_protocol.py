#!/usr/bin/env python
"""A thalamic assembly protocol in the bmtool style: ``python run_protocol.py [config.json]``.

``config.json`` is the bionet example's network with a layered ``exc_stim`` input: a
lognormal baseline by ``pop_name`` (bmtool's shell input) plus 9 random assemblies driven
by long bursts (1 s on, 0.5 s off, one assembly per cycle). This script makes the config's
inputs exactly as ``raster-maker generate config.json`` does (or reuses them when the files'
provenance matches), reads the assemblies and the schedule back from the spikes file and
draws the raster sorted by assembly over each assembly's scheduled and measured rate into
``output/protocols/protocol.png``. The network itself runs with
``python examples/bionet/run_bionet.py examples/protocols/config.json``.
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import raster_maker as rm  # noqa: E402
import raster_maker.stimulus  # noqa: E402, F401  (registers the 'stimulus' generator)
from raster_maker.assemblies import Assemblies  # noqa: E402
from raster_maker.cli import main as raster_maker_cli  # noqa: E402
from raster_maker.nodesets import load_sim_config  # noqa: E402

HERE = Path(__file__).resolve().parent
POPULATION = "exc_stim"
LAYER = "layer1."  # the stimulus is layer 1 of the layered input: its arrays are layer1.*
BIN_MS = 50.0


def generate_inputs(config: Path) -> None:
    """Make (or reuse) every raster_maker input of the config."""
    status = raster_maker_cli(["-q", "generate", str(config)])
    if status:
        raise SystemExit(status)


def read_protocol(path: str) -> tuple[pd.DataFrame, Assemblies, pd.DataFrame]:
    """Spikes, assemblies and schedule (one row per assembly and interval) from the file."""
    spikes = rm.read_spikes(path, POPULATION)
    meta = rm.read_metadata(path, POPULATION)
    layer = {key[len(LAYER) :]: val for key, val in meta.items() if key.startswith(LAYER)}
    assemblies = Assemblies.from_metadata(layer)
    keys = np.asarray(layer["group_keys"], dtype=object)
    schedule = pd.DataFrame(
        {
            "assembly": keys[layer["schedule_group"]],
            **{k: layer[f"schedule_{k}"] for k in ("start_ms", "stop_ms", "from_hz", "to_hz")},
            "epoch": layer["schedule_epoch"],
        }
    )
    return spikes, assemblies, schedule


def measured_rates(spikes, assemblies, tstart, tstop) -> tuple[np.ndarray, np.ndarray]:
    """Mean rate (Hz) per assembly in bins of BIN_MS: bin edges and (assemblies x bins)."""
    edges = np.arange(tstart, tstop + BIN_MS / 2, BIN_MS)
    pos = np.searchsorted(assemblies.node_ids, spikes["node_ids"].to_numpy())
    which = assemblies.index[pos]
    rates = np.zeros((assemblies.n, edges.size - 1))
    for a in range(assemblies.n):
        counts = np.histogram(spikes["timestamps"].to_numpy()[which == a], edges)[0]
        rates[a] = counts / (assemblies.sizes()[a] * BIN_MS / 1000.0)
    return edges, rates


def plot(spikes, assemblies, schedule, tstart, tstop, out: Path) -> None:
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(10, 8), sharex=True, gridspec_kw={"height_ratios": [3, 2]}
    )
    colors = plt.cm.tab10(np.arange(assemblies.n) % 10)
    # raster: units sorted by assembly (then node id); units in no assembly last
    order = np.lexsort((assemblies.node_ids, np.where(assemblies.index < 0, 99, assemblies.index)))
    row = np.empty(order.size, dtype=np.int64)
    row[order] = np.arange(order.size)
    pos = np.searchsorted(assemblies.node_ids, spikes["node_ids"].to_numpy())
    which = assemblies.index[pos]
    top.scatter(spikes["timestamps"], row[pos], s=0.5, c=colors[which], marker="|", linewidths=0.5)
    bounds = np.cumsum(assemblies.sizes())
    for a, (lo, hi) in enumerate(zip(np.r_[0, bounds[:-1]], bounds, strict=True)):
        top.axhline(hi - 0.5, color="0.8", lw=0.5)
        top.text(tstop, (lo + hi) / 2, f" {assemblies.names[a]}", va="center", fontsize=8)
    top.set(ylabel="unit (sorted by assembly)", ylim=(-0.5, order.size - 0.5))
    top.set_title(f"{POPULATION}: baseline + long bursts, {assemblies.n} assemblies")
    # scheduled rate (lines) and measured rate (steps) per assembly
    edges, rates = measured_rates(spikes, assemblies, tstart, tstop)
    for a, name in enumerate(assemblies.names):
        rows = schedule[schedule["assembly"] == name]
        t = np.column_stack([rows["start_ms"], rows["stop_ms"]]).ravel()
        r = np.column_stack([rows["from_hz"], rows["to_hz"]]).ravel()
        bottom.plot(t, r, color=colors[a], lw=1.5, label=f"assembly {name}")
        bottom.stairs(rates[a], edges, color=colors[a], alpha=0.4)
    top_hz = max(schedule[["from_hz", "to_hz"]].to_numpy().max(), rates.max())
    bottom.set(xlabel="time (ms)", ylabel="rate (Hz)", xlim=(tstart, tstop), ylim=(0, 1.5 * top_hz))
    bottom.set_title("scheduled stimulus rate (lines; the baseline adds to it) and measured rate")
    bottom.legend(ncol=5, fontsize=7, loc="upper right")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)


def main(config: Path) -> Path:
    generate_inputs(config)
    conf = load_sim_config(config)
    path = conf["inputs"][POPULATION]["input_file"]
    tstart, tstop = conf["run"].get("tstart", 0.0), conf["run"]["tstop"]
    spikes, assemblies, schedule = read_protocol(path)
    out = Path(path).parent.parent / "protocol.png"
    plot(spikes, assemblies, schedule, tstart, tstop, out)
    print(f"{len(spikes)} spikes of {assemblies.node_ids.size} units; figure: {out}")
    return out


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "config.json")
