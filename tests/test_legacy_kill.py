"""A SonataWriter killed mid-write leaves the destination as it was; one left open at exit
is written, unless an uncaught exception ends the script."""

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


EXIT_SCRIPT = textwrap.dedent(
    """
    import sys
    from raster_maker.legacy import SonataWriter

    def writer():
        w = SonataWriter(sys.argv[2], ["spikes", "exc_stim"], ["timestamps", "node_ids"],
                         [float, int], overwrite=True)
        w.append_ds([1.0, 2.0], "timestamps")
        w.append_repeat("node_ids", 0, 2)
        return w

    def in_function(end):
        w = writer()  # noqa: F841 - held here while `end` unwinds
        end()

    def fail():
        raise RuntimeError("boom")

    def interrupt():
        raise KeyboardInterrupt

    def exit_1():
        sys.exit(1)

    mode = sys.argv[1]
    if mode == "open-at-exit":
        w = writer()
    elif mode == "open-at-sys-exit-0":
        w = writer()
        sys.exit(0)
    elif mode == "sys-exit-1-in-function":
        in_function(exit_1)
    elif mode == "uncaught-at-top-level":
        w = writer()
        fail()
    elif mode == "uncaught-in-function":
        in_function(fail)
    elif mode == "keyboard-interrupt":
        in_function(interrupt)
    """
)

WRITTEN = "its data were written and the file moved into place"
DISCARDED = "ended the script, so it was discarded"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("mode", "written", "said"),
    [
        ("open-at-exit", True, "was still open at interpreter exit without close()"),
        ("open-at-sys-exit-0", True, "was still open at interpreter exit without close()"),
        ("sys-exit-1-in-function", True, "was garbage-collected without close()"),
        ("uncaught-at-top-level", False, "the uncaught RuntimeError " + DISCARDED),
        ("uncaught-in-function", False, "the uncaught RuntimeError " + DISCARDED),
        ("keyboard-interrupt", False, "the uncaught KeyboardInterrupt " + DISCARDED),
    ],
)
def test_writer_left_open_at_exit(tmp_path, mode, written, said):
    import h5py

    dest = tmp_path / "exc_stim_spikes.h5"
    earlier = b"an earlier spikes file"
    dest.write_bytes(earlier)
    proc = subprocess.run(
        [sys.executable, "-c", EXIT_SCRIPT, mode, str(dest)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "UnclosedWriterWarning" in proc.stderr and said in proc.stderr, proc.stderr
    assert (WRITTEN in proc.stderr) == written
    if written:
        with h5py.File(dest, "r") as h5:
            assert h5["spikes/exc_stim/timestamps"][()].tolist() == [1.0, 2.0]
            assert h5["spikes/exc_stim/node_ids"][()].tolist() == [0, 0]
    else:
        assert dest.read_bytes() == earlier
    assert [p.name for p in tmp_path.iterdir()] == [dest.name]  # no temporary left
