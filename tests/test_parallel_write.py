"""File layout (small files small, big ones streamed in whole chunks) and the parallel MPI write.

The MPI tests need an h5py built against parallel HDF5 (the ``mpio`` driver) and are
skipped elsewhere; CI runs them in a separate environment (``.ci/run``, README "MPI").
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
from mpirun import HAS_MPIO, MPIEXEC, run_python

from raster_maker import generate
from raster_maker.sonata import _CHUNK, SpikesWriter, read_metadata, read_provenance

REPO = Path(__file__).resolve().parents[1]

_MPIO_MARKS = (
    pytest.mark.mpi,
    pytest.mark.slow,
    pytest.mark.skipif(not HAS_MPIO, reason="h5py without the mpio driver (see README, MPI)"),
    pytest.mark.skipif(MPIEXEC is None, reason="no mpiexec"),
)


def needs_mpio(func):
    """Mark a test as one that runs the parallel write under mpiexec."""
    for mark in _MPIO_MARKS:
        func = mark(func)
    return func


def _layout(path: Path, pop: str) -> dict:
    with h5py.File(path, "r") as h5:
        out = {}
        for name in ("timestamps", "node_ids"):
            ds = h5["spikes"][pop][name]
            out[name] = (ds.shape[0], ds.chunks, ds.id.get_storage_size())
        return out


def test_small_population_is_contiguous_and_small(tmp_path):
    out = tmp_path / "small.h5"
    res = generate(
        "poisson", "p", np.arange(100), 0.0, 100.0, params={"rate_hz": 10.0}, seed=3, output=out
    )
    assert 0 < res.n_spikes < 1000
    assert out.stat().st_size < 64 * 1024
    for n, chunks, stored in _layout(out, "p").values():
        assert (n, chunks, stored) == (res.n_spikes, None, 8 * res.n_spikes)


def test_empty_population_and_writer_file_are_small(tmp_path):
    out = tmp_path / "empty.h5"
    res = generate(
        "poisson", "p", np.arange(10), 0.0, 1.0, params={"rate_hz": 0.0}, seed=3, output=out
    )
    assert res.n_spikes == 0
    assert out.stat().st_size < 64 * 1024
    with SpikesWriter(tmp_path / "w.h5") as w:
        w.append("a", np.arange(100), np.linspace(1.0, 2.0, 100))
    assert (tmp_path / "w.h5").stat().st_size < 16 * 1024


@pytest.mark.parametrize("buffer_size", [10, 1000, 5000])
def test_streamed_population_is_whole_chunks(tmp_path, buffer_size):
    """Past the buffer a population streams into chunks, all full but the last."""
    rng = np.random.default_rng(4)
    ids = np.sort(rng.integers(0, 500, 23_456)).astype(np.uint64)
    ts = rng.uniform(0.0, 1000.0, ids.size)
    out = tmp_path / "s.h5"
    with SpikesWriter(out, buffer_size=buffer_size) as w:
        for i in range(0, ids.size, 777):
            w.append("p", ids[i : i + 777], ts[i : i + 777])
    with h5py.File(out, "r") as h5:
        ds = h5["spikes/p/node_ids"]
        chunk = ds.chunks[0]
        assert ds[:].tobytes() == ids.tobytes()
        assert h5["spikes/p/timestamps"][:].tobytes() == ts.tobytes()
        assert ds.id.get_num_chunks() == -(-ids.size // chunk)
        assert ds.id.get_storage_size() == 8 * chunk * ds.id.get_num_chunks()


@pytest.mark.slow
def test_ten_million_spikes_stream_in_full_chunks(tmp_path):
    """~10 M spikes: chunked at the streaming chunk size, every chunk full but the last, and
    the file no bigger than its spikes plus the per-node metadata (layout, not wall time)."""
    out = tmp_path / "big.h5"
    res = generate(
        "poisson",
        "p",
        np.arange(100_000),
        0.0,
        10_000.0,
        params={"rate_hz": 10.0},
        seed=2,
        output=out,
    )
    assert res.n_spikes > 9_900_000
    n_chunks = -(-res.n_spikes // _CHUNK)
    for n, chunks, stored in _layout(out, "p").values():
        assert (n, chunks, stored) == (res.n_spikes, (_CHUNK,), 8 * _CHUNK * n_chunks)
    metadata_bytes = sum(np.asarray(v).nbytes for v in read_metadata(out, "p").values())
    assert out.stat().st_size < 16 * _CHUNK * n_chunks + metadata_bytes + 256 * 1024


# -- the parallel write (parallel HDF5) ----------------------------------------------------

SCRIPT = """
import json, os, sys, numpy as np
from raster_maker import generate
from raster_maker._mpi import world, write_mode
out, n, gen = sys.argv[1], int(sys.argv[2]), sys.argv[3]
params = {"poisson": {"rate_hz": 20.0},
          "rhythmic": {"rates": 10.0, "frequency_hz": 8.0, "depth": 0.5},
          "functional_groups": {"group_size": 50}}[gen]
comm = world()
res = generate(gen, "p", np.arange(n), 0.0, 2000.0, params=params, seed=11, output=out,
               batch_spikes=20_000, sorting=os.environ.get("SORTING", "by_id"))
rank = 0 if comm is None else comm.Get_rank()
mode = "serial" if comm is None else write_mode(comm, os.environ.get("SORTING", "by_id"), 1e9)
with open(f"{out}.rank{rank}.json", "w") as fh:  # one file per rank: stdout interleaves
    json.dump({"rank": rank, "n": res.n_spikes, "path": res.path, "mode": mode}, fh)
"""


def _run(tmp_path: Path, out: Path, ranks: int, n: int, gen: str, mode: str, **env) -> list:
    import json

    script = tmp_path / "gen.py"
    script.write_text(SCRIPT)
    run_python(script, out, n, gen, ranks=ranks, write_path=mode, **env)
    return [json.loads(Path(f"{out}.rank{r}.json").read_text()) for r in range(ranks)]


def _contents(path: Path) -> dict:
    with h5py.File(path, "r") as h5:
        grp = h5["spikes/p"]
        return {
            "node_ids": grp["node_ids"][:].tobytes(),
            "timestamps": grp["timestamps"][:].tobytes(),
            "sorting": int(grp.attrs["sorting"]),
            "units": grp["timestamps"].attrs["units"],
            "root": (int(h5.attrs["magic"]), list(h5.attrs["version"])),
            "provenance": read_provenance(path, "p"),
            "metadata": {k: np.asarray(v).tolist() for k, v in read_metadata(path, "p").items()},
        }


@pytest.mark.parametrize(
    ("gen", "n"), [("poisson", 3000), ("rhythmic", 2500), ("functional_groups", 1200)]
)
@pytest.mark.parametrize("mode", ["parallel", "gather"])
@needs_mpio
def test_two_ranks_write_the_datasets_of_one(tmp_path, gen, n, mode):
    one, two = tmp_path / "one.h5", tmp_path / "two.h5"
    (serial,) = _run(tmp_path, one, 1, n, gen, mode)
    ranks = _run(tmp_path, two, 2, n, gen, mode)
    assert sorted(r["rank"] for r in ranks) == [0, 1]
    assert {r["mode"] for r in ranks} == {mode}
    assert {r["n"] for r in ranks} == {serial["n"]} and serial["n"] > 0
    assert {r["path"] for r in ranks} == {str(two)}
    assert _contents(one) == _contents(two)
    assert not list(tmp_path.glob(".two.h5.raster_maker-tmp-*"))


@needs_mpio
def test_parallel_write_falls_back_for_by_time(tmp_path):
    one, two = tmp_path / "one.h5", tmp_path / "two.h5"
    _run(tmp_path, one, 1, 2000, "poisson", "parallel", SORTING="by_time")
    ranks = _run(tmp_path, two, 2, 2000, "poisson", "parallel", SORTING="by_time")
    assert {r["mode"] for r in ranks} == {"gather"}
    assert _contents(one) == _contents(two)
    assert _contents(two)["sorting"] == 2


KILL_JOB = """
import os, sys, numpy as np
from raster_maker import generate
from raster_maker._mpi import world
comm = world()
with open(sys.argv[2] + f".rank{comm.Get_rank()}", "w") as fh:
    fh.write(str(os.getpid()))
generate('poisson', 'p', np.arange(200_000), 0, 20_000, params={'rate_hz': 20}, seed=1,
         output=sys.argv[1], overwrite=True, progress=False)
"""


@pytest.mark.parametrize("victim", [0, 1])
@needs_mpio
def test_sigkill_of_one_rank_leaves_no_file(tmp_path, victim):
    dest = tmp_path / "spikes.h5"
    script = tmp_path / "job.py"
    script.write_text(KILL_JOB)
    pids = tmp_path / "pid"
    proc = subprocess.Popen(
        [MPIEXEC, "-n", "2", sys.executable, str(script), str(dest), str(pids)],
        start_new_session=True,
        env={**os.environ, "RASTER_MAKER_MPI_WRITE": "parallel"},
    )
    try:
        deadline = time.monotonic() + 120
        tmp_glob = f".{dest.name}.raster_maker-tmp-*"
        while not any(t.stat().st_size > 20_000_000 for t in tmp_path.glob(tmp_glob)):
            assert proc.poll() is None, "the job ended before it could be killed"
            assert time.monotonic() < deadline, "the job never started writing"
            time.sleep(0.02)
        os.kill(int(Path(f"{pids}.rank{victim}").read_text()), signal.SIGKILL)
        proc.wait(timeout=60)  # the launcher takes the other rank down
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode != 0
    assert not dest.exists()
