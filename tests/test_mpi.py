"""MPI: a 2-rank generation writes exactly the bytes of a 1-rank run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import pytest

from raster_maker.sonata import read_provenance

REPO = Path(__file__).resolve().parents[1]
MPIEXEC = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which("mpiexec")

pytestmark = [
    pytest.mark.mpi,
    pytest.mark.slow,
    pytest.mark.skipif(MPIEXEC is None, reason="no mpiexec (pip install mpich)"),
]


def _generate(out: Path, ranks: int, *extra: str) -> None:
    cmd = [sys.executable, "-m", "raster_maker", "-q", "generate", *extra, "-o", str(out)]
    if ranks > 1:
        cmd = [MPIEXEC, "-n", str(ranks), *cmd]
    subprocess.run(cmd, check=True, timeout=300, cwd=REPO)


def _datasets(path: Path, pop: str) -> dict[str, bytes]:
    with h5py.File(path, "r") as h5:
        return {k: h5["spikes"][pop][k][:].tobytes() for k in ("timestamps", "node_ids")}


@pytest.mark.parametrize(
    ("generator", "node_set", "params"),
    [
        ("functional_groups", "exc_stim", ["--param", "group_by=\"group_id\""]),
        ("rhythmic", "dist_inh_stim", ["--param", "frequency_hz=8"]),
    ],
)
def test_two_ranks_write_the_bytes_of_one(tmp_path, generator, node_set, params):
    args = [
        "--generator", generator, "--nodes", str(REPO / "network"), "--node-set", node_set,
        "--tstop", "5000", "--seed", "7", *params,
    ]
    # small batches, so both ranks really get work
    one, two = tmp_path / "one.h5", tmp_path / "two.h5"
    _generate(one, 1, *args)
    _generate(two, 2, *args)
    assert _datasets(one, node_set) == _datasets(two, node_set)
    assert read_provenance(one, node_set) == read_provenance(two, node_set)


def test_two_ranks_python_api(tmp_path):
    script = tmp_path / "gen.py"
    script.write_text(
        "import sys, numpy as np\n"
        "from raster_maker import generate\n"
        "res = generate('poisson', 'p', np.arange(20000), 0, 2000, params={'rate_hz': 20},\n"
        "               seed=5, output=sys.argv[1], batch_spikes=50_000)\n"
        "assert res.n_spikes > 0 and res.path == sys.argv[1]\n"
    )
    one, two = tmp_path / "one.h5", tmp_path / "two.h5"
    subprocess.run([sys.executable, str(script), str(one)], check=True, timeout=300)
    subprocess.run([MPIEXEC, "-n", "2", sys.executable, str(script), str(two)], check=True, timeout=300)
    assert _datasets(one, "p") == _datasets(two, "p")
