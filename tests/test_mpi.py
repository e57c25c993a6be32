"""MPI: a 2-rank generation writes exactly the bytes of a 1-rank run, on every write path.

The gather path runs everywhere; the parallel path (every rank writes its own slices) where
h5py has the mpio driver (CI's .venv-mpio, README "MPI").
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import h5py
import pytest
from mpirun import MPIEXEC, WRITE_PATHS, run_python

from raster_maker.sonata import read_provenance

REPO = Path(__file__).resolve().parents[1]


pytestmark = [
    pytest.mark.mpi,
    pytest.mark.slow,
    pytest.mark.skipif(MPIEXEC is None, reason="no mpiexec (pip install mpich)"),
]


def _generate(out: Path, ranks: int, *extra: str, path: str = "gather") -> None:
    run_python(
        "-m",
        "raster_maker",
        "-q",
        "generate",
        *extra,
        "-o",
        out,
        ranks=ranks,
        write_path=path,
        cwd=REPO,
    )


def _datasets(path: Path, pop: str) -> dict[str, bytes]:
    with h5py.File(path, "r") as h5:
        return {k: h5["spikes"][pop][k][:].tobytes() for k in ("timestamps", "node_ids")}


@pytest.mark.parametrize(
    ("generator", "node_set", "params"),
    [
        ("functional_groups", "exc_stim", ["--param", 'group_by="group_id"']),
        ("rhythmic", "dist_inh_stim", ["--param", "frequency_hz=8"]),
        (
            "stimulus",
            "exc_stim",
            [
                "--param",
                'assemblies={"method": "by_attribute", "attribute": "pulse_group_id", "p_in": 0.8}',
                "--param",
                'pattern="join"',
                "--param",
                "n_steps=4",
                "--param",
                "on_ms=600",
                "--param",
                "off_ms=200",
                "--param",
                "silent_hz=2",
            ],
        ),
        (
            "correlated",
            "exc_stim",
            [
                "--param",
                "correlation=0.1",
                "--param",
                'groups={"by": "group_id"}',
                "--param",
                "correlation_between=0.02",
            ],
        ),
        ("mip", "exc_stim", ["--param", "p_copy=0.2", "--param", 'groups={"by":"pulse_group_id"}']),
        ("sip", "exc_stim", ["--param", "jitter_ms=1.5"]),
        ("cpp", "exc_stim", ["--param", "amplitude_distribution=[0.1,0.5,0.2,0.1,0.1]"]),
        (
            "layers",
            "exc_stim",
            [
                "--param",
                'layers=[{"generator": "poisson", "rate_hz": {"preset": "lognormal", '
                '"mean_hz": 3, "sd_hz": 2}}, {"generator": "functional_groups", '
                '"group_by": "group_id"}]',
                "--param",
                'transforms=[{"jitter_ms": 2.0}]',
            ],
        ),
    ],
)
@pytest.mark.parametrize("path", WRITE_PATHS)
def test_two_ranks_write_the_bytes_of_one(tmp_path, generator, node_set, params, path):
    args = [
        "--generator",
        generator,
        "--nodes",
        str(REPO / "network"),
        "--node-set",
        node_set,
        "--tstop",
        "5000",
        "--seed",
        "7",
        *params,
    ]
    # small batches, so both ranks really get work
    one, two = tmp_path / "one.h5", tmp_path / "two.h5"
    _generate(one, 1, *args)
    _generate(two, 2, *args, path=path)
    assert _datasets(one, node_set) == _datasets(two, node_set)
    assert read_provenance(one, node_set) == read_provenance(two, node_set)


@pytest.mark.parametrize("path", WRITE_PATHS)
def test_two_ranks_python_api(tmp_path, path):
    script = tmp_path / "gen.py"
    script.write_text(
        "import sys, numpy as np\n"
        "from raster_maker import generate\n"
        "res = generate('poisson', 'p', np.arange(20000), 0, 2000, params={'rate_hz': 20},\n"
        "               seed=5, output=sys.argv[1], batch_spikes=50_000)\n"
        "assert res.n_spikes > 0 and res.path == sys.argv[1]\n"
    )
    one, two = tmp_path / "one.h5", tmp_path / "two.h5"
    run_python(script, one)
    run_python(script, two, ranks=2, write_path=path)
    assert _datasets(one, "p") == _datasets(two, "p")


@pytest.mark.neuron
def test_bionet_under_mpi_generates_once_and_matches_serial(tmp_path):
    """The config route under ``mpiexec -n 2`` with bionet: rank 0 writes, same result as 1 rank."""
    import json

    from simulation import BIONET_CONFIG, run_bionet, write_config

    inputs = json.loads(BIONET_CONFIG.read_text())["inputs"]
    runs = {}
    for label, launcher in (("serial", ()), ("mpi", (MPIEXEC, "-n", "2"))):
        folder = tmp_path / label
        folder.mkdir()
        cfg = write_config(
            BIONET_CONFIG,
            folder / "config.json",
            manifest={"$INPUT_DIR": folder / "inputs", "$OUTPUT_DIR": folder / "output"},
            inputs=inputs,
            run={"tstop": 1000.0},
        )
        env = {
            "NEURON_INIT_MPI": "1",
            "MPI_LIB_NRN_PATH": str(Path(sys.prefix) / "lib" / "libmpi.so.12"),
        }
        spikes = run_bionet(cfg, env=env if launcher else None, launcher=launcher, timeout=240)
        runs[label] = spikes.sort_values(["node_ids", "timestamps"]).reset_index(drop=True)
        assert sorted(p.name for p in (folder / "inputs").iterdir()) == [
            "dist_inh_stim_spikes.h5",
            "exc_stim_spikes.h5",
            "prox_inh_stim_spikes.h5",
        ]
    assert len(runs["serial"]) > 0
    assert runs["serial"][["node_ids", "timestamps"]].equals(
        runs["mpi"][["node_ids", "timestamps"]]
    )
    for name in ("exc_stim", "prox_inh_stim", "dist_inh_stim"):
        a = _datasets(tmp_path / "serial" / "inputs" / f"{name}_spikes.h5", name)
        b = _datasets(tmp_path / "mpi" / "inputs" / f"{name}_spikes.h5", name)
        assert a == b


def test_context_map_shares_items_among_three_ranks(tmp_path):
    # equal-shape arrays travel in one buffer collective, anything else pickled; a rank
    # may hold no item (2 items, 3 ranks); every rank gets every result, in order
    script = tmp_path / "map.py"
    script.write_text(
        "import numpy as np\n"
        "from mpi4py import MPI\n"
        "from raster_maker.plans import Context\n"
        "comm = MPI.COMM_WORLD\n"
        "ctx = Context(1, 'p', 0.0, 1.0, comm=comm, threads=1)\n"
        "for n in (0, 1, 2, 7):\n"
        "    arrays = ctx.map(lambda i: np.full(3, i, dtype=np.float64), range(n))\n"
        "    assert [a.tolist() for a in arrays] == [[i] * 3 for i in range(n)], arrays\n"
        "    objs = ctx.map(lambda i: {'i': i, 'sq': i * i}, range(n))\n"
        "    assert objs == [{'i': i, 'sq': i * i} for i in range(n)], objs\n"
        "    mixed = ctx.map(lambda i: np.arange(i), range(n))  # shapes differ: pickled\n"
        "    assert [m.tolist() for m in mixed] == [list(range(i)) for i in range(n)]\n"
        "print('ok', comm.Get_rank())\n"
    )
    out = subprocess.run(
        [MPIEXEC, "-n", "3", sys.executable, str(script)],
        check=True,
        timeout=300,
        capture_output=True,
        text=True,
    )
    assert out.stdout.count("ok") == 3  # every rank got there (lines may interleave)


@pytest.mark.parametrize("path", WRITE_PATHS)
def test_functional_groups_on_three_ranks_match_one(tmp_path, path):
    # the groups' profiles are computed a third per rank and gathered: same bytes
    script = tmp_path / "fg.py"
    script.write_text(
        "import sys, numpy as np\n"
        "from raster_maker import generate\n"
        "generate('functional_groups', 'p', np.arange(2300), 0, 3000,\n"
        "         params={'group_size': 100}, seed=4, output=sys.argv[1],\n"
        "         batch_spikes=20_000)\n"
    )
    one, three = tmp_path / "one.h5", tmp_path / "three.h5"
    run_python(script, one)
    run_python(script, three, ranks=3, write_path=path)
    assert _datasets(one, "p") == _datasets(three, "p")
    with h5py.File(one, "r") as a, h5py.File(three, "r") as b:
        meta_a, meta_b = a["raster_maker/p"], b["raster_maker/p"]
        for key in ("profiles", "target_rate_hz", "rate_scale_hz"):
            assert meta_a[key][:].tobytes() == meta_b[key][:].tobytes(), key
