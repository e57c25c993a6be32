"""The benchmark workloads: what every tool is asked to produce, at full and --quick size."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

POPULATION = "bench"


@dataclass(frozen=True)
class Workload:
    """One unit of work, the same for every tool.

    ``kind`` says how rates are built: ``'groups'`` (units in groups of ``group_size``
    sharing a 1/f profile, levy-exp rates), ``'constant'`` (every unit at ``rate_hz``) or
    ``'sin'`` (``rate_hz * (1 + depth * sin(2 pi f t))``).
    """

    name: str
    kind: str
    n_units: int
    tstop_ms: float
    rate_hz: float = 10.0
    group_size: int = 100
    frequency_hz: float = 8.0
    depth: float = 0.5
    # peers run on n_units // peer_subsample units and are extrapolated linearly (1 = full)
    peer_subsample: int = 1

    def as_dict(self) -> dict:
        return asdict(self)


FULL = {
    "W1": Workload("W1", "groups", 5_800, 30_000.0, group_size=100),
    "W2": Workload("W2", "constant", 100_000, 10_000.0, rate_hz=10.0),
    "W2-sin": Workload(
        "W2-sin", "sin", 100_000, 10_000.0, rate_hz=10.0, frequency_hz=8.0, depth=0.5
    ),
    "W3": Workload("W3", "constant", 1_000_000, 10_000.0, rate_hz=5.0, peer_subsample=20),
}

# --quick: same shapes, tiny sizes, so the whole harness runs in seconds
QUICK = {
    "W1": replace(FULL["W1"], n_units=200, tstop_ms=1_000.0),
    "W2": replace(FULL["W2"], n_units=1_000, tstop_ms=1_000.0),
    "W2-sin": replace(FULL["W2-sin"], n_units=1_000, tstop_ms=1_000.0),
    "W3": replace(FULL["W3"], n_units=10_000, tstop_ms=1_000.0),
}


def workload_from_dict(d: dict) -> Workload:
    return Workload(**d)
