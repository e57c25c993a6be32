"""Safe with data: killed processes, full disks and failing writes never touch the destination."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
from mpirun import MPIEXEC, WRITE_PATHS

from raster_maker import generate
from raster_maker.sonata import SpikesWriter, write_spikes

# A generation big enough to take seconds: 200k units x 20 s x 20 Hz (~80 M spikes).
BIG_JOB = (
    "import sys, numpy as np\n"
    "from raster_maker import generate\n"
    "generate('poisson', 'p', np.arange(200_000), 0, 20_000, params={'rate_hz': 20}, seed=1,\n"
    "         output=sys.argv[1], overwrite=True, progress=False)\n"
)


def _temporaries(dest: Path) -> list[Path]:
    return sorted(dest.parent.glob(f".{dest.name}.raster_maker-tmp-*"))


def _kill_when_writing(cmd: list[str], dest: Path, timeout: float = 60.0, env=None) -> None:
    proc = subprocess.Popen(cmd, start_new_session=True, env=env)
    try:
        deadline = time.monotonic() + timeout
        while not any(t.stat().st_size > 1_000_000 for t in _temporaries(dest) if t.exists()):
            assert proc.poll() is None, "the job ended before it could be killed"
            assert time.monotonic() < deadline, "the job never started writing"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _overwrite_with_spikes(dest: Path, n_units: int) -> None:
    """Replace ``dest`` with n_units x 10 s x 10 Hz of spikes (16 bytes each)."""
    generate(
        "poisson",
        "p",
        np.arange(n_units),
        0,
        10_000,
        params={"rate_hz": 10},
        seed=1,
        output=dest,
        overwrite=True,
        progress=False,
    )


def _earlier_file(dest: Path) -> bytes:
    write_spikes(dest, {"p": (np.array([1, 2]), np.array([3.0, 4.0]))})
    return dest.read_bytes()


@pytest.mark.slow
@pytest.mark.parametrize("earlier", [False, True], ids=["no-earlier-file", "earlier-file-kept"])
def test_sigkill_during_generation(tmp_path, earlier):
    dest = tmp_path / "spikes.h5"
    before = _earlier_file(dest) if earlier else None
    script = tmp_path / "job.py"
    script.write_text(BIG_JOB)
    _kill_when_writing([sys.executable, str(script), str(dest)], dest)
    if earlier:
        assert dest.read_bytes() == before
    else:
        assert not dest.exists()
    left = _temporaries(dest)
    assert left  # the killed job's temporary ...
    generate("poisson", "p", np.arange(10), 0, 100, seed=1, output=dest, overwrite=True)
    assert not any(t.exists() for t in left)  # ... is cleaned up by the next write there


@pytest.mark.slow
@pytest.mark.mpi
@pytest.mark.skipif(MPIEXEC is None, reason="no mpiexec")
@pytest.mark.parametrize("path", WRITE_PATHS)
def test_sigkill_during_mpi_generation(tmp_path, path):
    dest = tmp_path / "spikes.h5"
    before = _earlier_file(dest)
    script = tmp_path / "job.py"
    script.write_text(BIG_JOB)
    _kill_when_writing(
        [MPIEXEC, "-n", "2", sys.executable, str(script), str(dest)],
        dest,
        env={**os.environ, "RASTER_MAKER_MPI_WRITE": path},
    )
    assert dest.read_bytes() == before


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs (needs root and mount rights; skipped elsewhere)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    res = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True
    )
    if res.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {res.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_full_disk_leaves_destination_untouched(small_disk):
    dest = small_disk / "spikes.h5"
    before = _earlier_file(dest)
    with pytest.raises(OSError, match="GB free"):  # ~32 MB expected, 2 MB: refused at once
        _overwrite_with_spikes(dest, n_units=20_000)
    assert dest.read_bytes() == before
    assert _temporaries(dest) == []


def test_disk_filling_up_while_writing_leaves_destination_untouched(small_disk):
    # the writer itself (no expected count to check first) runs into the full disk
    dest = small_disk / "spikes.h5"
    before = _earlier_file(dest)
    rng = np.random.default_rng(1)
    with pytest.raises(OSError) as err:
        with SpikesWriter(dest, overwrite=True) as writer:
            for start in range(0, 2_000_000, 250_000):  # 32 MB into 2 MB
                ids = np.repeat(np.arange(start // 100, start // 100 + 2500), 100)
                writer.append("p", ids, np.sort(rng.uniform(0, 1e4, ids.size)))
    assert err.value.errno == errno.ENOSPC  # the disk's own error, not another
    assert dest.read_bytes() == before
    assert _temporaries(dest) == []  # and the space is given back


def test_failing_write_leaves_destination_untouched(tmp_path, monkeypatch):
    dest = tmp_path / "spikes.h5"
    before = _earlier_file(dest)
    calls = {"n": 0}
    real = h5py.Dataset.__setitem__

    def failing(self, key, val):
        calls["n"] += 1
        if calls["n"] > 2:
            raise OSError(errno.ENOSPC, "No space left on device (simulated)")
        return real(self, key, val)

    monkeypatch.setattr(h5py.Dataset, "__setitem__", failing)
    with pytest.raises(OSError, match="No space left"):
        _overwrite_with_spikes(dest, n_units=50_000)
    monkeypatch.undo()
    assert dest.read_bytes() == before
    assert _temporaries(dest) == []


def test_existing_destination_refused(tmp_path):
    dest = tmp_path / "spikes.h5"
    before = _earlier_file(dest)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        generate("poisson", "p", np.arange(10), 0, 100, seed=1, output=dest)
    with pytest.raises(FileExistsError, match="Refusing to overwrite"):
        SpikesWriter(dest)
    assert dest.read_bytes() == before


def test_destination_appearing_meanwhile_is_not_clobbered(tmp_path):
    dest = tmp_path / "spikes.h5"
    writer = SpikesWriter(dest)
    writer.append("p", [0], [1.0])
    dest.write_bytes(b"written by someone else meanwhile")
    with pytest.raises(FileExistsError, match="appeared while it was being written"):
        writer.close()
    assert dest.read_bytes() == b"written by someone else meanwhile"
    assert _temporaries(dest) == []
