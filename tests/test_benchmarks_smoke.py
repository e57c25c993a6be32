"""The benchmark harness runs (tiny sizes; it times nothing that a test asserts)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"


@pytest.mark.slow
def test_benchmark_quick_run(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            str(RUN),
            "--quick",
            "--peers",
            "h5py-raw",
            "--json",
            str(tmp_path / "r.json"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    for workload in ("W1", "W2", "W2-sin", "W3"):
        assert workload in out
    targets = json.loads((tmp_path / "r.json").read_text())["targets"]
    (raw,) = [t for t in targets if t["target"].startswith("within 2.5x of h5py-raw")]
    assert raw["status"] in ("PASS", "MISS"), raw  # the raw-write floor ran and was compared
