"""A scaling model for MPI runs, fitted to measurements at 1 and 2 ranks.

Usage::

    python benchmarks/run.py --peers h5py-raw --repeat 5 \\
        --mpi 2 --mpi-python .venv-mpio/bin/python --json results.json
    python benchmarks/scaling.py results.json [--units 10e6 --duration-s 100 --rate-hz 5]

The model, per write path, for ``N`` units, ``S`` spikes and ``P`` ranks::

    T(P) = s0 + c_unit N + max(S / (P r), 16 S / B(P))

- ``c_unit``: the per-unit work every rank repeats (units, plan, metadata), and ``m_unit``
  its memory: measured here by building a plan for 1 M units;
- ``r``: spikes drawn per second by one core: measured here (10 M spikes, one thread);
- ``B(P)``: write bandwidth; ``b`` of one writer from the ``h5py-raw`` rows (a plain
  write with fsync). Gather path: ``B = b`` (rank 0 writes everything). Parallel path:
  ``B = min(P b, B_fs)`` (``--fs-gbps``, the file system's aggregate bandwidth);
- ``s0``: what is left, fitted: the median over the workloads of the measured time minus
  the rest of the model, at 1 rank and at 2 ranks (start-up, file creation and commit on
  rank 0, MPI collectives); the 2-rank value is used for every ``P > 1``.

Memory per rank: ``m_unit N`` plus the spikes in flight (a round of batches, the queue).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time

import numpy as np

BYTES_PER_SPIKE = 16  # uint64 node id + float64 time
IN_FLIGHT_MB = {"parallel": 8 * 0.25e6 * 16 * 3 / 1e6, "gather": 6 * 0.25e6 * 16 / 1e6}


def per_unit_costs(n_units: int = 1_000_000) -> tuple[float, float, float]:
    """(seconds, bytes, metadata bytes) per unit of what every rank does before spikes."""
    from raster_maker.models import Units
    from raster_maker.plans import Context
    from raster_maker.registry import make_model

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    t0 = time.perf_counter()
    units = Units("p", np.arange(n_units), None)
    plan = make_model("poisson", {"rate_hz": 5.0}).build_plan(
        units, Context(1, "p", 0.0, 1000.0, 0)
    )
    meta = plan.metadata(1.0)
    plan.expected_counts()
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    meta_bytes = sum(np.asarray(v).nbytes for v in meta.values() if np.asarray(v).dtype != object)
    return seconds / n_units, max(after - before, 0) / n_units, meta_bytes / n_units


def draw_rate(n_spikes: float = 10e6) -> float:
    """Spikes per second one core draws (W2-like: 10 Hz Poisson, in memory, one thread)."""
    from raster_maker._parallel import ordered_map
    from raster_maker.generate import BATCH_SPIKES, _work
    from raster_maker.models import Units
    from raster_maker.plans import Context
    from raster_maker.registry import make_model

    n_units = int(n_spikes / 100)
    plan = make_model("poisson", {"rate_hz": 10.0}).build_plan(
        Units("p", np.arange(n_units), None), Context(1, "p", 0.0, 10_000.0, 0)
    )
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        draw, batches = _work(plan, BATCH_SPIKES)
        total = sum(ids.size for ids, _ in ordered_map(draw, batches, 1))
        best = min(best, time.perf_counter() - t0)
    return total / best


def _model(path: str, P: int, n: float, S: float, c: float, r: float, b: float, fs: float):
    bw = min(P * b, fs) if path == "parallel" else b
    return c * n, S / (P * r), BYTES_PER_SPIKE * S / bw


def fit(results: dict, c_unit: float, r: float) -> dict:
    """Per write path: ``s0`` at 1 and 2 ranks (median residual over the workloads); one
    writer's bandwidth ``b`` (bytes/s) from the h5py-raw rows."""
    units = {w: d["n_units"] for w, d in results["workloads"].items()}
    raw = [x for x in results.get("rows", []) if x.get("tool") == "h5py-raw" and "wall_s" in x]
    b = statistics.median(BYTES_PER_SPIKE * x["spikes"] / x["wall_s"] for x in raw) if raw else 1e9
    out: dict = {"b_bytes_per_s": b, "paths": {}}
    for path in ("gather", "parallel"):
        rows = [x for x in results.get("mpi", []) if x["path"] == path and x["ranks"] == 2]
        if not rows:
            continue
        res1, res2 = [], []
        for x in rows:
            n, S = units.get(x["workload"], 0), x["spikes"]
            for P, measured, res in ((1, x["one_rank_s"], res1), (2, x["ranks_s"], res2)):
                setup, draw, write = _model(path, P, n, S, c_unit, r, b, float("inf"))
                res.append(measured - setup - max(draw, write))
        out["paths"][path] = {
            "s0_1": statistics.median(res1),
            "s0_P": statistics.median(res2),
            "rows": [(x["workload"], x["one_rank_s"], x["ranks_s"]) for x in rows],
        }
    return out


def predict(
    model: dict,
    costs: tuple[float, float, float],
    r: float,
    ranks: list[int],
    n_units: float,
    n_spikes: float,
    fs_bytes_per_s: float,
) -> list[dict]:
    c_unit, m_unit, meta_unit = costs
    b = model["b_bytes_per_s"]
    out = []
    for path, fitted in model["paths"].items():
        for P in ranks:
            setup, draw, write = _model(path, P, n_units, n_spikes, c_unit, r, b, fs_bytes_per_s)
            setup += max(fitted["s0_P"], 0.0) + meta_unit * n_units / b  # rank 0's metadata
            total = setup + max(draw, write)
            parts = {"per-unit setup": setup, "drawing": draw, "write bandwidth": write}
            out.append(
                {
                    "path": path,
                    "ranks": P,
                    "time_s": total,
                    "draw_s": draw,
                    "write_s": write,
                    "setup_s": setup,
                    "memory_mb_per_rank": m_unit * n_units / 1e6 + IN_FLIGHT_MB[path],
                    "file_gb": (BYTES_PER_SPIKE * n_spikes + meta_unit * n_units) / 1e9,
                    "limit": max(parts, key=parts.get),
                }
            )
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("results", help="JSON of benchmarks/run.py --mpi 2 --peers h5py-raw")
    p.add_argument("--units", type=float, default=10e6)
    p.add_argument("--duration-s", type=float, default=100.0)
    p.add_argument("--rate-hz", type=float, default=5.0)
    p.add_argument("--ranks", default="8,64,512")
    p.add_argument(
        "--fs-gbps",
        type=float,
        default=20.0,
        help="aggregate bandwidth of the file system the parallel path writes to (GB/s)",
    )
    args = p.parse_args(argv)
    with open(args.results) as fh:
        results = json.load(fh)
    costs = per_unit_costs()
    r = draw_rate()
    model = fit(results, costs[0], r)
    if not model["paths"]:
        print("no --mpi 2 rows in the results: nothing to fit", file=sys.stderr)
        return 1
    n_spikes = args.units * args.duration_s * args.rate_hz
    print(
        f"measured here: per unit {costs[0] * 1e9:.0f} ns, {costs[1]:.0f} B in memory, "
        f"{costs[2]:.0f} B of metadata; one core draws {r / 1e6:.1f} M spikes/s; "
        f"one writer {model['b_bytes_per_s'] / 1e9:.2f} GB/s (h5py-raw)"
    )
    for path, fitted in model["paths"].items():
        print(
            f"  {path}: s0 {fitted['s0_1']:.3f} s at 1 rank, {fitted['s0_P']:.3f} s at 2 ranks "
            f"(from {', '.join(f'{w} {a:.3f}->{b:.3f} s' for w, a, b in fitted['rows'])})"
        )
    print(
        f"prediction: {args.units:.3g} units x {args.duration_s:g} s x {args.rate_hz:g} Hz = "
        f"{n_spikes:.3g} spikes; file system {args.fs_gbps:g} GB/s"
    )
    print(
        f"  {'path':<9} {'ranks':>5} {'time s':>9} {'draw s':>8} {'write s':>8} {'setup s':>8} "
        f"{'MB/rank':>8} {'file GB':>8}  limited by"
    )
    rows = predict(
        model,
        costs,
        r,
        [int(x) for x in args.ranks.split(",")],
        args.units,
        n_spikes,
        args.fs_gbps * 1e9,
    )
    for row in rows:
        print(
            f"  {row['path']:<9} {row['ranks']:>5} {row['time_s']:>9.1f} {row['draw_s']:>8.1f} "
            f"{row['write_s']:>8.1f} {row['setup_s']:>8.1f} {row['memory_mb_per_rank']:>8.0f} "
            f"{row['file_gb']:>8.1f}  {row['limit']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
