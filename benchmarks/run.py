"""Benchmark raster_maker against BMTK, Elephant and the legacy API on the same work.

Usage::

    python benchmarks/run.py [--workloads W1,...,W5-cpp]
                             [--peers all|none|bmtk,elephant,legacy,bmtool,h5py-raw]
                             [--repeat N] [--quick] [--full-peers] [--json out.json]

Every (tool, workload, repeat) runs in a fresh Python process so that timings and peak
memory of one tool do not pollute another's. See benchmarks/README.md for how to read
the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from _tools import PEERS, TOOLS, peer_units  # noqa: E402
from _workloads import FULL, QUICK  # noqa: E402

# The targets for our generators (checked at full size; never fail the run).
TARGETS = [
    ("W1", "wall <= 0.15 s", lambda r: r["wall_s"], lambda v: v <= 0.15, "{:.3f} s"),
    (
        "W2",
        "throughput >= 50 M spikes/s",
        lambda r: r["rate"] / 1e6,
        lambda v: v >= 50,
        "{:.1f} M/s",
    ),
    (
        "W2-sin",
        "throughput >= 40 M spikes/s",
        lambda r: r["rate"] / 1e6,
        lambda v: v >= 40,
        "{:.1f} M/s",
    ),
    ("W3", "wall <= 1.5 s", lambda r: r["wall_s"], lambda v: v <= 1.5, "{:.2f} s"),
    ("W4", "wall < 1 s", lambda r: r["wall_s"], lambda v: v < 1.0, "{:.2f} s"),
    (
        "W5",
        "throughput >= 10 M spikes/s",
        lambda r: r["rate"] / 1e6,
        lambda v: v >= 10,
        "{:.1f} M/s",
    ),
    (
        "W3",
        "peak memory <= 300 MB (whole process)",
        lambda r: r["peak_mb"],
        lambda v: v <= 300,
        "{:.0f} MB",
    ),
]
# (workload, peer, x): the peer's wall / ours >= x (x < 1: ours within 1/x of the peer)
RATIO_TARGETS = [
    ("W1", "original", 40.0),
    ("W1", "legacy", 20.0),
    ("W2", "bmtk", 100.0),
    ("W2", "h5py-raw", 1 / 2.5),
    ("W4", "bmtool", 100.0),
]
# MPI: N ranks against 1 rank with 1 thread, per write path (run.py --mpi N)
MPI_TARGETS = {
    ("W1", "parallel"): 1.8,
    ("W2-sin", "parallel"): 1.8,
    ("W1", "gather"): 1.5,
    ("W2-sin", "gather"): 1.5,
}


# -- running the children ---------------------------------------------------------------------
def run_child(specs: list[dict], timeout: float) -> list[dict]:
    """Run specs in one fresh interpreter; one result dict per spec."""
    cmd = [sys.executable, os.path.join(HERE, "_child.py"), json.dumps(specs)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return [_failed(s, f"timeout after {timeout:.0f} s") for s in specs]
    results = []
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            results.append(json.loads(line))
    if len(results) < len(specs):
        tail = (proc.stderr or "").strip().splitlines()[-1:] or [f"exit code {proc.returncode}"]
        results += [_failed(s, f"child died: {tail[0]}") for s in specs[len(results) :]]
    return results


def _failed(spec: dict, why: str) -> dict:
    return {"tool": spec["tool"], "workload": spec["workload"]["name"], "error": why}


def plan(args) -> list[tuple[object, str, int]]:
    """(workload, tool, units to run) in the order they are measured."""
    sizes = QUICK if args.quick else FULL
    out = []
    for name in args.workloads:
        wl = sizes[name]
        out.append((wl, "ours", wl.n_units))
        for tool in args.peers:  # the raw write is a floor, not a peer: always in full
            out.append((wl, tool, peer_units(wl, args.full_peers or tool == "h5py-raw")))
    return out


def measure_all(args, outdir: str) -> list[dict]:
    jobs = plan(args)
    seeds = [int(s) for s in _seeds(args.seed, max(args.repeat, args.peer_repeat))]
    runs: list[dict] = []

    def spec(wl, tool, n, r):
        path = os.path.join(outdir, f"{tool}_{wl.name}_{r}.h5")
        return {
            "tool": tool,
            "workload": wl.as_dict(),
            "n_units": n,
            "seed": seeds[r],
            "path": path,
        }

    if args.isolation in ("tool", "single"):  # shared processes: fast, for --quick
        by_tool: dict[str, list[dict]] = {}
        for wl, tool, n in jobs:
            reps = args.repeat if tool == "ours" else args.peer_repeat
            key = tool if args.isolation == "tool" else "all tools"
            by_tool.setdefault(key, []).extend(spec(wl, tool, n, r) for r in range(reps))
        for tool, specs in by_tool.items():
            _log(f"{tool}: {len(specs)} run(s) in one process")
            for res in run_child(specs, args.timeout * len(specs)):
                res["shared_process"] = True
                runs.append(res)
        return runs
    for wl, tool, n in jobs:
        reps = args.repeat if tool == "ours" else args.peer_repeat
        for r in range(reps):
            t0 = time.perf_counter()
            (res,) = run_child([spec(wl, tool, n, r)], args.timeout)
            runs.append(res)
            _log(
                f"[{wl.name}] {tool} {r + 1}/{reps}: {_status(res)} "
                f"({time.perf_counter() - t0:.1f} s with start-up)"
            )
            if "skipped" in res or "error" in res:
                break  # the next repeats would fail the same way
    return runs


def _seeds(seed: int, n: int) -> list[int]:
    import numpy as np

    return list(np.random.SeedSequence(seed).generate_state(n, dtype=np.uint32))


def _status(res: dict) -> str:
    if "skipped" in res:
        return "skipped: " + res["skipped"]
    if "error" in res:
        return "ERROR: " + res["error"]
    return f"{res['wall_s']:.3f} s, {res['spikes']:,} spikes, +{res['delta_mb']:.0f} MB"


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- summarising ------------------------------------------------------------------------------
def summarise(args, runs: list[dict]) -> list[dict]:
    sizes = QUICK if args.quick else FULL
    rows = []
    for wl, tool, n in plan(args):
        mine = [r for r in runs if r["tool"] == tool and r["workload"] == wl.name]
        ok = [r for r in mine if "wall_s" in r]
        row = {
            "workload": wl.name,
            "tool": tool,
            "n_units": wl.n_units,
            "n_units_run": n,
            "repeats": len(ok),
            "shared_process": any(r.get("shared_process") for r in mine),
        }
        if not ok:
            bad = mine[0] if mine else {"error": "not run"}
            row["note"] = (
                ("skipped: " + bad["skipped"]) if "skipped" in bad else bad.get("error", "?")
            )
            rows.append(row)
            continue
        wall = statistics.median(r["wall_s"] for r in ok)
        spikes = statistics.median(r["spikes"] for r in ok)
        delta = max(r["delta_mb"] for r in ok)
        base = statistics.median(r["baseline_mb"] for r in ok)
        factor = sizes[wl.name].n_units / n
        row.update(
            measured={
                "wall_s": wall,
                "spikes": spikes,
                "delta_mb": delta,
                "walls_s": [r["wall_s"] for r in ok],
            },
            extrapolated=factor != 1,
            factor=factor,
            wall_s=wall * factor,
            spikes=spikes * factor,
            delta_mb=delta * factor,
            baseline_mb=base,
            peak_mb=base + delta * factor,
            t_first_ms=min(r["t_first_ms"] for r in ok),
            t_last_ms=max(r["t_last_ms"] for r in ok),
        )
        row["rate"] = row["spikes"] / row["wall_s"] if row["wall_s"] > 0 else float("inf")
        if factor != 1:
            row["note"] = (
                f"EXTRAPOLATED x{factor:g} from {n:,} units "
                f"(measured {wall:.3g} s, {spikes:,.0f} spikes, +{delta:.0f} MB)"
            )
        rows.append(row)
    for row in rows:
        ours = next(
            (r for r in rows if r["workload"] == row["workload"] and r["tool"] == "ours"), None
        )
        if ours and "wall_s" in ours and "wall_s" in row:
            row["vs_ours"] = row["wall_s"] / ours["wall_s"]
    return rows


def check_targets(rows: list[dict]) -> list[dict]:
    out = []
    find = {(r["workload"], r["tool"]): r for r in rows}
    for wl, what, get, ok, fmt in TARGETS:
        r = find.get((wl, "ours"))
        if r is None or "wall_s" not in r:
            out.append({"workload": wl, "target": what, "value": "not run", "status": "n/a"})
            continue
        v = get(r)
        out.append(
            {
                "workload": wl,
                "target": what,
                "value": fmt.format(v),
                "status": "PASS" if ok(v) else "MISS",
            }
        )
    for wl, peer, times in RATIO_TARGETS:
        what = (
            f">= {times:g}x faster than {peer}"
            if times >= 1
            else f"within {1 / times:g}x of {peer}"
        )
        r = find.get((wl, peer))
        if r is None or "vs_ours" not in r:
            out.append({"workload": wl, "target": what, "value": "peer not run", "status": "n/a"})
            continue
        v = r["vs_ours"]
        label = f"{v:.1f}x" if times >= 1 else f"ours takes {1 / v:.2f}x its time"
        label += " (peer extrapolated)" if r.get("extrapolated") else ""
        out.append(
            {
                "workload": wl,
                "target": what,
                "value": label,
                "status": "PASS" if v >= times else "MISS",
            }
        )
    return out


# -- printing ---------------------------------------------------------------------------------
def _fmt_count(x: float) -> str:
    return f"{x / 1e6:.2f} M" if x >= 1e6 else f"{x:,.0f}"


def _fmt_rate(x: float) -> str:
    return f"{x / 1e6:.2f} M/s" if x >= 1e5 else f"{x / 1e3:.1f} k/s"


def table(rows: list[dict], repeat: int, peer_repeat: int) -> str:
    head = [
        "workload",
        "tool",
        "units",
        "spikes",
        "wall s",
        "spikes/s",
        "peak MB (+run)",
        "peak MB (total)",
        "baseline MB",
        "vs ours",
        "note",
    ]
    lines = []
    for r in rows:
        if "wall_s" not in r:
            lines.append(
                [
                    r["workload"],
                    r["tool"],
                    f"{r['n_units']:,}",
                    "-",
                    "-",
                    "-",
                    "-",
                    "-",
                    "-",
                    "-",
                    r.get("note", ""),
                ]
            )
            continue
        x = "~" if r["extrapolated"] else ""
        shared = "*" if r["shared_process"] else ""
        lines.append(
            [
                r["workload"],
                r["tool"],
                f"{r['n_units']:,}",
                x + _fmt_count(r["spikes"]),
                f"{x}{r['wall_s']:.3f}",
                x + _fmt_rate(r["rate"]),
                f"{x}{r['delta_mb']:.0f}{shared}",
                f"{x}{r['peak_mb']:.0f}{shared}",
                f"{r['baseline_mb']:.0f}",
                "1 (ref)" if r["tool"] == "ours" else f"{x}{r['vs_ours']:.1f}x",
                r.get("note", ""),
            ]
        )
    widths = [max(len(str(c)) for c in col) for col in zip(head, *lines, strict=False)]
    out = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)).rstrip()]
    out.append("  ".join("-" * w for w in widths))
    prev = None
    for ln in lines:
        if prev is not None and ln[0] != prev:
            out.append("")
        prev = ln[0]
        out.append("  ".join(str(c).ljust(w) for c, w in zip(ln, widths, strict=True)).rstrip())
    out.append("")
    out.append(
        f"wall s: median of {repeat} run(s) for ours, {peer_repeat} for peers; end to end "
        "(rates, spikes, closed SONATA file), imports excluded."
    )
    out.append(
        "peak MB (+run): peak RSS of the run minus the peak after imports; total: whole "
        "process. vs ours: tool's wall / ours (>1: ours is faster)."
    )
    if any(r.get("extrapolated") for r in rows):
        out.append(
            "~ EXTRAPOLATED linearly from a subsample of the units (see note); "
            "use --full-peers to measure in full."
        )
    if any(r.get("shared_process") for r in rows):
        out.append(
            "* runs shared a process (--isolation tool/single): memory is the growth of "
            "the high-water mark, an underestimate after a bigger run."
        )
    return "\n".join(out)


def targets_text(targets: list[dict], quick: bool) -> str:
    out = ["Targets (ours)" + ("  [--quick sizes: indicative only]" if quick else "")]
    for t in targets:
        out.append(f"  {t['status']:<5} {t['workload']:<7} {t['target']:<40} {t['value']}")
    return "\n".join(out)


def environment() -> dict:
    def ver(dist):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    try:
        commit = subprocess.run(
            ["git", "-C", HERE, "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = None
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "loadavg": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "commit": commit,
        "versions": {
            d: ver(d)
            for d in (
                "raster-maker",
                "numpy",
                "scipy",
                "h5py",
                "pandas",
                "bmtk",
                "elephant",
                "neo",
                "quantities",
            )
        },
        "threads_env": {
            k: os.environ.get(k)
            for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
        },
    }


# -- command line -----------------------------------------------------------------------------
def parse_args(argv: list[str] | None):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--workloads",
        default="W1,W2,W2-sin,W3,W4,W5,W5-cpp",
        help="comma-separated, from: " + ", ".join(FULL) + " (default: all)",
    )
    p.add_argument(
        "--peers",
        default="all",
        help="all (= "
        + ",".join(PEERS)
        + "), none, or a comma-separated list of "
        + ", ".join(t for t in TOOLS if t != "ours")
        + " (default: all)",
    )
    p.add_argument(
        "--repeat", type=int, default=5, help="runs of ours per workload (median; default 5)"
    )
    p.add_argument(
        "--peer-repeat",
        type=int,
        default=None,
        help="runs of each peer per workload (default: --repeat)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes, one run each, one process: checks the harness in seconds",
    )
    p.add_argument(
        "--full-peers",
        action="store_true",
        help="run peers on all units of W3 instead of the 1/20 subsample (minutes, GBs)",
    )
    p.add_argument(
        "--isolation",
        choices=("run", "tool", "single"),
        default=None,
        help="'run': a fresh process per (tool, workload, repeat) (default); "
        "'tool': one per tool; 'single': one for everything (default with --quick)",
    )
    p.add_argument("--seed", type=int, default=20240601, help="root seed of the runs' seeds")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds per run before giving up")
    p.add_argument("--outdir", default=None, help="where files are written (default: a temp dir)")
    p.add_argument("--json", default=None, help="write environment, rows and targets here")
    p.add_argument(
        "--mpi",
        type=int,
        default=0,
        metavar="N",
        help="also time W1, W2, W2-sin, W3 (those selected) under mpiexec -n N against one "
        "rank with one thread, for each write path this interpreter has (0: skip)",
    )
    p.add_argument(
        "--mpi-python",
        default=None,
        help="interpreter for the --mpi runs (default: this one); one whose h5py has the mpio "
        "driver (.venv-mpio/bin/python) also times the parallel write path",
    )
    args = p.parse_args(argv)
    args.workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    unknown = [w for w in args.workloads if w not in FULL]
    if unknown:
        p.error(f"Invalid workload(s) {', '.join(unknown)}. Allowed: {', '.join(FULL)}.")
    if args.peers == "all":
        args.peers = list(PEERS)
    elif args.peers == "none":
        args.peers = []
    else:
        args.peers = [t.strip() for t in args.peers.split(",") if t.strip()]
        bad = [t for t in args.peers if t not in TOOLS or t == "ours"]
        if bad:
            p.error(
                f"Invalid peer(s) {', '.join(bad)}. Allowed: all, none, or "
                + ", ".join(t for t in TOOLS if t != "ours")
                + "."
            )
    if args.repeat < 1:
        p.error(f"Invalid value for --repeat: {args.repeat}. Allowed: >= 1.")
    if args.peer_repeat is None:
        args.peer_repeat = 1 if args.quick else args.repeat
    if args.peer_repeat < 1:
        p.error(f"Invalid value for --peer-repeat: {args.peer_repeat}. Allowed: >= 1.")
    if args.quick and args.repeat == p.get_default("repeat"):
        args.repeat = 1
    if args.isolation is None:
        args.isolation = "single" if args.quick else "run"
    return args


MPI_WORKLOADS = ("W1", "W2", "W2-sin", "W3")


def _python_has_mpio(python: str) -> bool:
    code = "import h5py, sys; sys.exit(0 if h5py.get_config().mpi else 1)"
    return subprocess.run([python, "-c", code], capture_output=True, check=False).returncode == 0


def mpi_speedup(
    ranks: int, repeat: int, workloads: list[str], quick: bool = False, python: str | None = None
) -> tuple[str, list[dict]]:
    """Median wall of each workload on ``ranks`` MPI ranks, per write path, vs one rank with
    one thread (the same interpreter). Returns the text and the rows."""
    python = python or sys.executable
    mpiexec = shutil.which("mpiexec", path=os.path.dirname(python)) or shutil.which("mpiexec")
    if mpiexec is None:
        return "MPI: no mpiexec (pip install mpich mpi4py); skipped", []
    paths = ["gather"] + (["parallel"] if _python_has_mpio(python) else [])
    script = os.path.join(HERE, "_mpi_speedup.py")
    folder = tempfile.mkdtemp(prefix="raster_maker_mpi_")
    rows = []
    try:
        for name in [w for w in workloads if w in MPI_WORKLOADS]:
            out = os.path.join(folder, f"{name}.h5")
            base = [python, script, name, out, "1"] + (["--quick"] if quick else [])
            walls: dict[str, list[float]] = {"1 rank": [], **{p: [] for p in paths}}
            spikes = 0
            for _ in range(repeat):
                for label in walls:
                    cmd = base if label == "1 rank" else [mpiexec, "-n", str(ranks), *base]
                    env = {**os.environ, "RASTER_MAKER_MPI_WRITE": "gather"}
                    if label != "1 rank":
                        env["RASTER_MAKER_MPI_WRITE"] = label
                    res = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
                    rec = json.loads(res.stdout.strip().splitlines()[-1])
                    if label != "1 rank" and rec["mode"] != label:
                        raise RuntimeError(f"{name}: asked for the {label} path, ran {rec['mode']}")
                    walls[label].append(rec["wall_s"])
                    spikes = rec["spikes"]
            one = statistics.median(walls["1 rank"])
            for p in paths:
                many = statistics.median(walls[p])
                target = MPI_TARGETS.get((name, p))
                rows.append(
                    {
                        "workload": name,
                        "path": p,
                        "ranks": ranks,
                        "spikes": spikes,
                        "one_rank_s": one,
                        "ranks_s": many,
                        "speedup": one / many,
                        "walls_one_s": walls["1 rank"],
                        "walls_ranks_s": walls[p],
                        "target": target,
                        "status": "n/a"
                        if target is None or ranks != 2
                        else ("PASS" if one / many >= target else "MISS"),
                    }
                )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    lines = [
        f"MPI, {ranks} ranks vs 1 rank with 1 thread (median of {repeat}; {python}):",
        f"  {'workload':<8} {'path':<9} {'spikes':>10} {'1 rank s':>9} {f'{ranks} ranks s':>10} "
        f"{'speed-up':>8}  target",
    ]
    for r in rows:
        tgt = "" if r["target"] is None else f">= {r['target']:g}x {r['status']}"
        lines.append(
            f"  {r['workload']:<8} {r['path']:<9} {_fmt_count(r['spikes']):>10} "
            f"{r['one_rank_s']:>9.3f} {r['ranks_s']:>10.3f} {r['speedup']:>7.2f}x  {tgt}"
        )
    if "parallel" not in paths:
        lines.append(
            "  (parallel path not run: this interpreter's h5py has no mpio driver; "
            "pass --mpi-python .venv-mpio/bin/python, see README 'MPI')"
        )
    return "\n".join(lines), rows


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    env = environment()
    outdir = args.outdir or tempfile.mkdtemp(prefix="raster_maker_bench_")
    os.makedirs(outdir, exist_ok=True)
    print(
        f"raster_maker benchmark{' (--quick sizes)' if args.quick else ''}: "
        f"commit {env['commit']}, python {env['python']}, numpy {env['versions']['numpy']}, "
        f"bmtk {env['versions']['bmtk']}, elephant {env['versions']['elephant']}, "
        f"{env['cpus']} CPUs, load {', '.join(f'{x:.2f}' for x in env['loadavg'] or [])}",
        flush=True,
    )
    t0 = time.perf_counter()
    try:
        runs = measure_all(args, outdir)
    finally:
        if args.outdir is None:
            shutil.rmtree(outdir, ignore_errors=True)
    rows = summarise(args, runs)
    targets = check_targets(rows)
    print()
    print(table(rows, args.repeat, args.peer_repeat))
    print()
    print(targets_text(targets, args.quick))
    mpi_rows: list[dict] = []
    if args.mpi:
        text, mpi_rows = mpi_speedup(
            args.mpi, args.repeat, args.workloads, quick=args.quick, python=args.mpi_python
        )
        print()
        print(text)
    print(f"\n(total {time.perf_counter() - t0:.1f} s)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(
                {
                    "environment": env,
                    "args": {k: v for k, v in vars(args).items()},
                    "workloads": {
                        w: (QUICK if args.quick else FULL)[w].as_dict() for w in args.workloads
                    },
                    "rows": rows,
                    "targets": targets,
                    "runs": runs,
                    "mpi": mpi_rows,
                },
                fh,
                indent=1,
                default=str,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
