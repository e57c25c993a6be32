"""A SonataWriter killed mid-write leaves the destination as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from raster_maker.legacy import SonataWriter

    w = SonataWriter(sys.argv[1], ["spikes", "exc_stim"], ["timestamps", "node_ids"],
                     [float, np.uint64], overwrite=sys.argv[2] == "1", buffer_size=1000)
    told = False
    for k in range(10**9):
        w.append_ds(np.arange(500.0) + 500 * k, "timestamps")
        w.append_repeat("node_ids", k, 500)
        if not told and w.datasets["timestamps"].shape[0] > 0:
            w.file.flush()  # the blocks are in the temporary file on disk
            print("ready", flush=True)
            told = True
        time.sleep(0.001)
    """
)


def _kill_while_writing(dest, overwrite):
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(dest), "1" if overwrite else "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.strip() == "ready", proc.stderr.read()
        temps = [p for p in dest.parent.iterdir() if p.name.startswith(f".{dest.name}")]
        assert len(temps) == 1 and temps[0].stat().st_size > 0  # writing under a temp name
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.slow
def test_kill_leaves_no_file(tmp_path):
    dest = tmp_path / "exc_stim_spikes.h5"
    _kill_while_writing(dest, overwrite=False)
    assert not dest.exists()


@pytest.mark.slow
def test_kill_leaves_earlier_file_untouched(tmp_path):
    dest = tmp_path / "exc_stim_spikes.h5"
    earlier = os.urandom(4096) + b"an earlier spikes file"
    dest.write_bytes(earlier)
    _kill_while_writing(dest, overwrite=True)
    assert dest.read_bytes() == earlier
