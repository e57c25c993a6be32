"""The benchmark workloads: what every tool is asked to produce, at full and --quick size."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

POPULATION = "bench"


@dataclass(frozen=True)
class Workload:
    """One unit of work, the same for every tool.

    ``kind`` says how rates are built: ``'groups'`` (units in groups of ``group_size``
    sharing a 1/f profile, levy-exp rates), ``'constant'`` (every unit at ``rate_hz``),
    ``'sin'`` (``rate_hz * (1 + depth * sin(2 pi f t))``), ``'stimulus'`` (a bmtool-style
    protocol: ``n_assemblies`` random assemblies bursting in turn at ``rate_hz`` inside
    1 s on / 0.5 s off periods, the 'short' pattern, plus a lognormal baseline of mean
    ``baseline_hz``), ``'correlated'`` (``rate_hz`` with a pairwise count correlation of
    ``correlation`` at ``window_ms``; peers do equivalent work with exact synchrony) or
    ``'cpp'`` (compound Poisson: events of 1 unit, or of ``event_size`` units with
    probability ``event_share``).
    """

    name: str
    kind: str
    n_units: int
    tstop_ms: float
    rate_hz: float = 10.0
    group_size: int = 100
    frequency_hz: float = 8.0
    depth: float = 0.5
    n_assemblies: int = 10
    baseline_hz: float = 2.0
    correlation: float = 0.1
    window_ms: float = 20.0
    event_size: int = 100
    event_share: float = 0.1
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
    "W4": Workload("W4", "stimulus", 10_000, 30_000.0, rate_hz=50.0, peer_subsample=10),
    "W5": Workload("W5", "correlated", 10_000, 10_000.0, rate_hz=10.0),
    "W5-cpp": Workload("W5-cpp", "cpp", 10_000, 10_000.0, rate_hz=10.0),
}

# --quick: same shapes, tiny sizes, so the whole harness runs in seconds
QUICK = {
    "W1": replace(FULL["W1"], n_units=200, tstop_ms=1_000.0),
    "W2": replace(FULL["W2"], n_units=1_000, tstop_ms=1_000.0),
    "W2-sin": replace(FULL["W2-sin"], n_units=1_000, tstop_ms=1_000.0),
    "W3": replace(FULL["W3"], n_units=10_000, tstop_ms=1_000.0),
    "W4": replace(FULL["W4"], n_units=300, tstop_ms=3_000.0, peer_subsample=1),
    "W5": replace(FULL["W5"], n_units=300, tstop_ms=1_000.0),
    "W5-cpp": replace(FULL["W5-cpp"], n_units=300, tstop_ms=1_000.0, event_size=10),
}


def workload_from_dict(d: dict) -> Workload:
    return Workload(**d)
