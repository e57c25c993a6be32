"""Draw the README's "which model?" figure: the same 10 Hz inputs under six models.

Top: a raster of 40 units per model (1 s). Bottom: the measured pairwise spike-count
correlation against the counting window (``raster_maker.report.count_correlations``),
which is what separates the models: independent Poisson stays at 0; functional groups
share a slow 1/f profile (correlation grows with the window); ``correlated`` is solved
for a target (0.1 at 20 ms); ``mip`` copies spikes of a mother train (correlation =
``p_copy`` at every window); ``sip`` and ``cpp`` add exact coincidences.

Run from the repository root::

    python examples/which_model.py            # writes docs/_static/which_model.png
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import raster_maker as rm  # noqa: E402
from raster_maker.report import count_correlations  # noqa: E402

N, TSTOP, RATE = 200, 20_000.0, 10.0
MODELS = {
    "poisson": ("poisson", {"rate_hz": RATE}),
    "functional_groups": (
        "functional_groups",
        {"group_size": N, "rates": RATE},
    ),
    "correlated (0.1 @ 20 ms)": (
        "correlated",
        {"rate_hz": RATE, "correlation": 0.1, "window_ms": 20.0, "tau_ms": 20.0},
    ),
    "mip (p_copy 0.1)": ("mip", {"rate_hz": RATE, "p_copy": 0.1}),
    "sip (1 Hz coincidences)": ("sip", {"rate_hz": RATE, "coincidence_rate_hz": 1.0}),
    "cpp (amplitudes 1-20)": (
        "cpp",
        {"rate_hz": RATE, "amplitude_distribution": {1: 0.9, 20: 0.1}},
    ),
}
WINDOWS = (2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0)


def main(out: Path) -> Path:
    fig = plt.figure(figsize=(12, 6.5))
    grid = fig.add_gridspec(2, len(MODELS), height_ratios=[1.2, 1.0], hspace=0.45)
    ax_cc = fig.add_subplot(grid[1, :])
    tmp = out.parent / ".which_model"
    tmp.mkdir(parents=True, exist_ok=True)
    for k, (label, (name, params)) in enumerate(MODELS.items()):
        path = tmp / f"{name}.h5"
        rm.generate(
            name, "bg", np.arange(N), 0.0, TSTOP, params=params, seed=3, output=path, overwrite=True
        )
        df = rm.read_spikes(path, "bg")
        ax = fig.add_subplot(grid[0, k])
        sel = (df["node_ids"] < 40) & (df["timestamps"] < 1000.0)
        ax.plot(df["timestamps"][sel], df["node_ids"][sel], "|", ms=3, color=f"C{k}")
        ax.set(title=label, xlabel="time (ms)", xlim=(0, 1000), ylim=(-1, 40))
        ax.title.set_fontsize(9)
        if k == 0:
            ax.set_ylabel("unit")
        else:
            ax.set_yticklabels([])
        cc = count_correlations(path, "bg", windows_ms=WINDOWS, n_pairs=3000)
        ax_cc.errorbar(
            cc["window_ms"],
            cc["mean_correlation"],
            yerr=[cc["mean_correlation"] - cc["ci_low"], cc["ci_high"] - cc["mean_correlation"]],
            marker="o",
            ms=4,
            capsize=2,
            color=f"C{k}",
            label=label,
        )
        path.unlink()
    tmp.rmdir()
    ax_cc.set(
        xscale="log",
        xlabel="counting window (ms)",
        ylabel="mean pairwise count correlation",
        xticks=WINDOWS,
    )
    ax_cc.set_xticklabels([f"{w:g}" for w in WINDOWS])
    ax_cc.axhline(0.0, color="0.6", lw=0.8)
    ax_cc.legend(fontsize="small", ncol=3)
    fig.suptitle(f"Six input models, {N} units at {RATE:g} Hz", fontsize=11)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110, bbox_inches="tight")
    return out


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/_static/which_model.png")
    print(main(target))
