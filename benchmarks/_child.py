"""Measurements in a fresh process: ``python _child.py '<json list of specs>'``.

Imports the tool (not timed), records the peak RSS so far (the baseline), times the run
(rates, spikes, closed SONATA file), records the peak RSS again, then counts the spikes in
the file it wrote (not timed) and prints one JSON line on stdout.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _tools import TOOLS, SkipTool  # noqa: E402
from _workloads import POPULATION, workload_from_dict  # noqa: E402


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (MB)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024.0 / (1024.0 if sys.platform == "darwin" else 1.0)  # bytes on macOS


def count_spikes(path: str) -> tuple[int, float, float]:
    """Spikes in the written file, and the first and last timestamp (checks it is readable)."""
    import h5py
    import numpy as np

    with h5py.File(path, "r") as h5:
        grp = h5["spikes"][POPULATION]
        n = grp["node_ids"].shape[0]
        if grp["timestamps"].shape[0] != n:
            raise ValueError(f"{path}: {n} node_ids but {grp['timestamps'].shape[0]} timestamps")
        ts = grp["timestamps"]
        lo = hi = float("nan")
        if n:
            lo, hi = np.inf, -np.inf
            step = 1 << 22
            for s in range(0, n, step):
                part = ts[s : s + step]
                lo, hi = min(lo, float(part.min())), max(hi, float(part.max()))
    return int(n), float(lo), float(hi)


def measure(spec: dict) -> dict:
    out = {
        "tool": spec["tool"],
        "workload": spec["workload"]["name"],
        "seed": spec["seed"],
        "n_units_run": spec["n_units"],
    }
    try:
        run = TOOLS[spec["tool"]]()
    except (SkipTool, ImportError) as err:
        out["skipped"] = str(err)
        return out
    import h5py  # noqa: F401 - imported before the baseline, as every tool needs it

    wl = workload_from_dict(spec["workload"])
    prepare = getattr(run, "prepare", None)  # untimed set-up (the raw write's spikes)
    if prepare is not None:
        prepare(wl, spec["n_units"], spec["seed"])
    gc.collect()
    base = peak_rss_mb()
    t0 = time.perf_counter()
    try:
        run(wl, spec["n_units"], spec["seed"], spec["path"])
    except SkipTool as err:  # the tool has no such workload: reported, not an error
        out["skipped"] = str(err)
        return out
    wall = time.perf_counter() - t0
    peak = peak_rss_mb()
    n, lo, hi = count_spikes(spec["path"])
    out.update(
        wall_s=wall,
        spikes=n,
        t_first_ms=lo,
        t_last_ms=hi,
        baseline_mb=base,
        peak_mb=peak,
        delta_mb=max(0.0, peak - base),
        file_mb=os.path.getsize(spec["path"]) / 1e6,
    )
    return out


def main(argv: list[str]) -> int:
    specs = json.loads(argv[0])
    for spec in specs if isinstance(specs, list) else [specs]:
        try:
            out = measure(spec)
        except Exception as err:  # reported in the table, never fatal for the whole run
            out = {
                "tool": spec["tool"],
                "workload": spec["workload"]["name"],
                "error": f"{type(err).__name__}: {err}",
                "traceback": traceback.format_exc(),
            }
        finally:
            if os.path.exists(spec["path"]):
                os.remove(spec["path"])
        print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
