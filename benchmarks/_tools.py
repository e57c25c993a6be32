"""The tools under test: each one does a workload end to end and leaves a closed SONATA file.

``TOOLS[name]()`` does the tool's imports (not timed) and returns
``run(workload, n_units, seed, path)``, which is timed: rates, profiles, spikes, file.
Every peer gets its best idiomatic route (see README.md, "What each tool does").
"""

# ruff: noqa: NPY002 - BMTK, Elephant and the legacy API draw from numpy's global generator
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from _workloads import POPULATION, Workload

Runner = Callable[[Workload, int, int, str], None]

# The original study's 1/f filter and levy-stable rate parameters (scipy S1, rate = exp(X)).
PINK_B = (0.049922035, -0.095993537, 0.050612699, -0.004408786)
PINK_A = (1, -2.494956002, 2.017265875, -0.522189400)
LEVY = {"alpha": 1.37, "beta": -1.0, "loc": 1.84, "scale": 0.44}


# -- shared helpers for the peers (timed: they are part of the work) -----------------------
def n_ms(wl: Workload) -> int:
    return int(round(wl.tstop_ms))


def groups(wl: Workload, n_units: int) -> list[tuple[int, int]]:
    """(start, stop) of each group of units (the last may be smaller)."""
    size = wl.group_size if wl.kind == "groups" else 100
    return [(s, min(s + size, n_units)) for s in range(0, n_units, size)]


def pink_profiles(n_groups: int, n_samples: int, rng: np.random.Generator) -> np.ndarray:
    """One 1/f profile per group, one value per ms, in [0.5, 1.5] (the original recipe)."""
    import scipy.signal as ss

    wn = rng.normal(1.0, 0.5, size=(n_groups, n_samples + 2000))
    f = ss.lfilter(PINK_B, PINK_A, wn, axis=1)[:, 2000:]
    lo, hi = f.min(axis=1, keepdims=True), f.max(axis=1, keepdims=True)
    return (f - lo) / (hi - lo) + 0.5


def levy_rates(n: int, rng: np.random.Generator) -> np.ndarray:
    from scipy.stats import levy_stable

    return np.exp(levy_stable.rvs(size=n, random_state=rng, **LEVY))


def sin_profile(wl: Workload, t_ms: np.ndarray) -> np.ndarray:
    """Rate in Hz of the W2-sin workload at times ``t_ms``."""
    return wl.rate_hz * (1.0 + wl.depth * np.sin(2 * np.pi * wl.frequency_hz * t_ms / 1000.0))


def write_sonata(path: str, ids: np.ndarray, ts_ms: np.ndarray, sorting: int = 1) -> None:
    """Plain h5py SONATA spikes file (magic, version, units, enum sorting: 1 = by_id)."""
    import h5py

    with h5py.File(path, "w") as h5:
        h5.attrs.create("magic", 0x0A7A, dtype=np.uint32)
        h5.attrs.create("version", np.array([0, 1], dtype=np.uint32))
        grp = h5.create_group(f"spikes/{POPULATION}")
        grp.create_dataset("node_ids", data=ids.astype(np.uint64))
        grp.create_dataset("timestamps", data=ts_ms.astype(np.float64))
        grp["timestamps"].attrs["units"] = "ms"
        enum = h5py.enum_dtype({"none": 0, "by_id": 1, "by_time": 2}, basetype=np.uint8)
        grp.attrs.create("sorting", sorting, dtype=enum)


# -- ours -----------------------------------------------------------------------------------
def ours_call(wl: Workload) -> tuple[str, dict]:
    """The generator and parameters that do workload ``wl`` (shared with _mpi_speedup.py)."""
    if wl.kind == "groups":
        return "functional_groups", {"group_size": wl.group_size}
    if wl.kind == "constant":
        return "poisson", {"rate_hz": wl.rate_hz}
    if wl.kind == "sin":
        return "rhythmic", {"rates": wl.rate_hz, "frequency_hz": wl.frequency_hz, "depth": wl.depth}
    if wl.kind == "stimulus":
        sd = 0.75 * wl.baseline_hz
        return "layers", {
            "layers": [
                {
                    "generator": "poisson",
                    "rate_hz": {"preset": "lognormal", "mean_hz": wl.baseline_hz, "sd_hz": sd},
                },
                {
                    "generator": "stimulus",
                    "assemblies": {"method": "random", "n": wl.n_assemblies},
                    "pattern": "short",
                    "on_ms": 1000.0,
                    "off_ms": 500.0,
                    "burst_hz": wl.rate_hz,
                    "off_hz": 0.0,
                    "silent_hz": 0.0,
                },
            ]
        }
    if wl.kind == "correlated":
        return "correlated", {
            "rate_hz": wl.rate_hz,
            "correlation": wl.correlation,
            "window_ms": wl.window_ms,
        }
    if wl.kind == "cpp":
        return "cpp", {"rate_hz": wl.rate_hz, "amplitude_distribution": _cpp_amplitudes(wl)}
    raise ValueError(
        f"Invalid workload kind {wl.kind!r}. Allowed: groups, constant, sin, stimulus, "
        "correlated, cpp."
    )


def _cpp_amplitudes(wl: Workload) -> dict[int, float]:
    """Events of one unit, or of ``event_size`` units with probability ``event_share``."""
    return {1: 1.0 - wl.event_share, wl.event_size: wl.event_share}


def load_ours() -> Runner:
    from raster_maker.generate import generate

    def run(wl: Workload, n_units: int, seed: int, path: str) -> None:
        gen, params = ours_call(wl)
        generate(
            gen,
            POPULATION,
            np.arange(n_units),
            0.0,
            wl.tstop_ms,
            params=params,
            seed=seed,
            output=path,
            overwrite=True,
        )

    return run


# -- a plain h5py write of the same spikes (the floor) ----------------------------------------
def load_h5py_raw() -> Runner:
    """Writes the spikes ours draws (drawn before the clock starts) with plain h5py, then
    fsyncs the file as ours does: what the disk and HDF5 alone cost."""
    import os

    from raster_maker.generate import generate

    spikes: dict = {}

    def prepare(wl: Workload, n_units: int, seed: int) -> None:
        gen, params = ours_call(wl)
        res = generate(
            gen, POPULATION, np.arange(n_units), 0.0, wl.tstop_ms, params=params, seed=seed
        )
        spikes["ids"] = res.spikes["node_ids"].to_numpy(np.uint64)
        spikes["ts"] = res.spikes["timestamps"].to_numpy(np.float64)

    def run(wl: Workload, n_units: int, seed: int, path: str) -> None:
        write_sonata(path, spikes["ids"], spikes["ts"])
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    run.prepare = prepare  # type: ignore[attr-defined]  # called by _child.py, not timed
    return run


# -- BMTK -----------------------------------------------------------------------------------
def load_bmtk() -> Runner:
    from bmtk.utils.reports.spike_trains import PoissonSpikeGenerator

    def run(wl: Workload, n_units: int, seed: int, path: str) -> None:
        if wl.kind not in ("constant", "sin", "groups"):
            raise SkipTool(f"BMTK has no {wl.kind} inputs (the 'bmtool' peer runs W4)")
        psg = PoissonSpikeGenerator(population=POPULATION, seed=seed, output_units="ms")
        t_s = wl.tstop_ms / 1000.0
        if wl.kind == "constant":
            psg.add(node_ids=np.arange(n_units), firing_rate=wl.rate_hz, times=(0.0, t_s))
        elif wl.kind == "sin":
            grid_ms = np.arange(n_ms(wl) + 1, dtype=float)  # rate given at every ms edge
            psg.add(
                node_ids=np.arange(n_units),
                firing_rate=sin_profile(wl, grid_ms),
                times=grid_ms / 1000.0,
            )
        else:  # each unit its own rate array: levy rate x its group's profile
            rng = np.random.default_rng(seed)
            grp = groups(wl, n_units)
            prof = pink_profiles(len(grp), n_ms(wl), rng)
            prof = np.concatenate([prof, prof[:, -1:]], axis=1)  # value at the last edge
            rates = levy_rates(n_units, rng)
            times_s = np.arange(n_ms(wl) + 1) / 1000.0
            for g, (start, stop) in enumerate(grp):
                for i in range(start, stop):
                    psg.add(node_ids=[i], firing_rate=rates[i] * prof[g], times=times_s)
        psg.to_sonata(path)

    return run


# -- Elephant -------------------------------------------------------------------------------
def load_elephant() -> Runner:
    import neo
    import quantities as pq
    from elephant.spike_train_generation import (
        NonStationaryPoissonProcess,
        StationaryPoissonProcess,
        compound_poisson_process,
        single_interaction_process,
    )

    def signal(rate_hz: np.ndarray):
        return neo.AnalogSignal(rate_hz * pq.Hz, sampling_period=1 * pq.ms, t_start=0 * pq.ms)

    def run(wl: Workload, n_units: int, seed: int, path: str) -> None:
        np.random.seed(seed)  # Elephant draws from numpy's global generator
        if wl.kind == "stimulus":
            raise SkipTool("Elephant has no stimulus protocols (the 'bmtool' peer runs W4)")
        if wl.kind == "correlated":  # equivalent work: SIP with count correlation ~ rc / r
            trains = single_interaction_process(
                rate=wl.rate_hz * pq.Hz,
                coincidence_rate=wl.correlation * wl.rate_hz * pq.Hz,
                t_stop=wl.tstop_ms * pq.ms,
                n_spiketrains=n_units,
                coincidences="stochastic",
            )
            trains = [t.magnitude for t in trains]
        elif wl.kind == "cpp":
            amps = np.zeros(n_units + 1)
            for j, p in _cpp_amplitudes(wl).items():
                amps[min(j, n_units)] += p
            trains = compound_poisson_process(
                rate=wl.rate_hz * pq.Hz, amplitude_distribution=amps, t_stop=wl.tstop_ms * pq.ms
            )
            trains = [t.rescale(pq.ms).magnitude for t in trains]
        elif wl.kind == "constant":  # one process, n trains (faster than a process per unit)
            proc = StationaryPoissonProcess(
                rate=wl.rate_hz * pq.Hz, t_start=0 * pq.ms, t_stop=wl.tstop_ms * pq.ms
            )
            trains = proc.generate_n_spiketrains(n_units, as_array=True)
        elif wl.kind == "sin":
            bins_ms = np.arange(n_ms(wl)) + 0.5  # rate per 1 ms sample, at its centre
            proc = NonStationaryPoissonProcess(signal(sin_profile(wl, bins_ms)))
            trains = proc.generate_n_spiketrains(n_units, as_array=True)
        else:  # rates differ per unit: a process per unit
            rng = np.random.default_rng(seed)
            grp = groups(wl, n_units)
            prof = pink_profiles(len(grp), n_ms(wl), rng)
            rates = levy_rates(n_units, rng)
            trains = []
            for g, (start, stop) in enumerate(grp):
                for i in range(start, stop):
                    proc = NonStationaryPoissonProcess(signal(rates[i] * prof[g]))
                    trains.append(proc.generate_spiketrain(as_array=True))
        counts = np.fromiter((t.size for t in trains), dtype=np.int64, count=len(trains))
        ids = np.repeat(np.arange(n_units, dtype=np.uint64), counts)
        ts = np.concatenate(trains) if trains else np.empty(0)
        write_sonata(path, ids, ts)

    return run


# -- our legacy API (the original's API, vectorised) and the original itself ------------------
def _legacy_driver(writer_cls, make_noise, make_save_spikes) -> Runner:
    """The documented build-script recipe: per group of 100, a profile repeated over its units."""

    def run(wl: Workload, n_units: int, seed: int, path: str) -> None:
        from scipy.stats import levy_stable

        if wl.kind not in ("constant", "sin", "groups"):
            raise SkipTool(f"the original API has no {wl.kind} inputs")
        np.random.seed(seed)
        writer = writer_cls(
            path, ["spikes", POPULATION], ["timestamps", "node_ids"], [np.float64, np.uint64]
        )
        steps = n_ms(wl)
        const = sin_row = None
        if wl.kind == "sin":
            sin_row = sin_profile(wl, np.arange(steps) + 0.5) / wl.rate_hz
        for start, stop in groups(wl, n_units):
            k = stop - start
            if wl.kind == "groups":
                noise = make_noise(1, steps)
                levy = levy_stable.rvs(size=k, **LEVY)
                make_save_spikes(
                    writer, True, levy, numUnits=k, rateProf=np.tile(noise, (k, 1)), start_id=start
                )
            else:
                if const is None:
                    const = np.full(k, wl.rate_hz)
                row = sin_row if sin_row is not None else np.ones(steps)
                make_save_spikes(
                    writer,
                    False,
                    const[:k],
                    numUnits=k,
                    rateProf=np.tile(row, (k, 1)),
                    start_id=start,
                )
        writer.close()

    return run


def load_legacy() -> Runner:
    try:
        from raster_maker.legacy import SonataWriter, make_noise, make_save_spikes
    except ImportError as err:  # being written in parallel: skip, do not fail
        raise SkipTool(f"raster_maker.legacy does not import yet ({err})") from None
    return _legacy_driver(SonataWriter, make_noise, make_save_spikes)


# -- bmtool's stimulus module (W4) ------------------------------------------------------------
def load_bmtool() -> Runner:
    """bmtool 0.8.7's StimulusBuilder route: its own assemblies, pattern and baseline code.

    bmtool pins neuron==8.2.4 and pulls pandas 3, which breaks BMTK's node filters, so it is
    installed without its dependencies (``pip install --no-deps bmtool==0.8.7``); its
    stimulus module needs only numpy and BMTK. The builder is made without a config (its
    ``nodes`` table is the benchmark's units), then ``create_assemblies``,
    ``generate_background`` and ``generate_stimulus`` run as a user's script calls them;
    they write two files (baseline and stimulus), ours writes one layered population.
    """
    import os

    import pandas as pd

    try:
        from bmtool.stimulus.core import StimulusBuilder
    except ImportError as err:
        raise SkipTool(f"bmtool is not installed (pip install --no-deps bmtool): {err}") from None

    def run(wl: Workload, n_units: int, seed: int, path: str) -> None:
        if wl.kind != "stimulus":
            raise SkipTool(f"bmtool has no {wl.kind} inputs")
        sb = StimulusBuilder.__new__(StimulusBuilder)
        sb.config, sb.assemblies, sb.net_seed, sb.psg_seed = None, {}, seed, seed
        sb.rng = np.random.default_rng(seed)
        sb.nodes = {POPULATION: pd.DataFrame({"pop_name": "bench"}, index=np.arange(n_units))}
        sb.create_assemblies("stim", POPULATION, method="random", n_assemblies=wl.n_assemblies)
        t_s = wl.tstop_ms / 1000.0
        params = {"bench": {"mean_firing_rate": wl.baseline_hz, "stdev": 0.75 * wl.baseline_hz}}
        base = path + ".baseline.h5"
        sb.generate_background(base, POPULATION, params, t_start=0.0, t_stop=t_s)
        sb.generate_stimulus(
            path,
            "short",
            "stim",
            population=POPULATION,
            firing_rate=(0.0, wl.rate_hz, 0.0),
            on_time=1.0,
            off_time=0.5,
            t_start=0.0,
            t_stop=t_s,
        )
        os.remove(base)  # the stimulus file stands for both in the spike count

    return run


ORIGINAL_ENV = "RASTER_MAKER_ORIGINAL"  # path of the original module, for the 'original' peer


def load_original() -> Runner:
    """The original module itself, loaded from the file named by $RASTER_MAKER_ORIGINAL."""
    import importlib.util
    import os

    path = os.environ.get(ORIGINAL_ENV, "")
    if not path:
        raise SkipTool(
            f"set {ORIGINAL_ENV} to the original module's file (raster_maker.py of "
            "github.com/aaberbach/L5NeuronSimulation) to time it"
        )
    if not os.path.isfile(path):
        raise SkipTool(f"{ORIGINAL_ENV}={path!r} is not a file")
    spec = importlib.util.spec_from_file_location("raster_maker_original", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ImportError as err:  # it imports matplotlib, bmtk, pandas and statsmodels at the top
        raise SkipTool(f"the original module {path} does not import here: {err}") from None
    return _legacy_driver(module.SonataWriter, module.make_noise, module.make_save_spikes)


class SkipTool(Exception):
    """A tool that cannot run here (missing module); reported, not fatal."""


TOOLS: dict[str, Callable[[], Runner]] = {
    "ours": load_ours,
    "bmtk": load_bmtk,
    "elephant": load_elephant,
    "legacy": load_legacy,
    "original": load_original,
    "h5py-raw": load_h5py_raw,
    "bmtool": load_bmtool,
}
PEERS = ("bmtk", "elephant", "legacy", "bmtool")  # what --peers all means ('original' is opt-in)


def peer_units(wl: Workload, full_peers: bool) -> int:
    """Units a peer runs: all of them, or the documented subsample (at least one)."""
    if full_peers or wl.peer_subsample <= 1:
        return wl.n_units
    return max(1, math.ceil(wl.n_units / wl.peer_subsample))
