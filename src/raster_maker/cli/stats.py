"""``raster-maker stats``: numbers that show the inputs are what was asked for."""

from __future__ import annotations

import argparse
import json

HELP = """\
Statistics per population (group "all") and per functional group: spike count, realised
vs target rate (target from the recorded provenance), rate distribution, ISI CV, Fano
factor, population-rate power-spectrum slope (and of the recorded noise profile),
modulation depth at the rhythm frequency; then the lag of the peak cross-correlation
of every pair of populations (positive: the second follows the first).

Then, per population: pairwise spike-count correlations at several counting windows
(mean over a sample of pairs of the units that fire, its spread over pairs and a
confidence interval from a jackknife over time blocks), and the synchrony (complexity)
distribution: the fraction of bins in which c units spike, beside what independent units
would give. For a stimulus population (generator 'stimulus', or a 'layers' input with a
stimulus layer): measured against scheduled rate of each assembly in each epoch, with
Poisson bounds (probability 1e-6 outside).

  raster-maker stats SPIKES.h5 [--population P ...] [--json] [--rhythm-hz F]
                     [--windows MS [MS ...]] [--pairs N] [--complexity-bin-ms MS]
                     [--assemblies]
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``stats`` sub-command to the ``raster-maker`` parser.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The sub-parsers of the main parser; the new parser's ``func`` is :func:`run`.
    """
    p = sub.add_parser(
        "stats",
        help="rates vs targets, ISI CV, Fano factor, spectra, rhythm depth, cross-correlation "
        "lags, pairwise correlations, synchrony, stimulus epochs",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("spikes", metavar="SPIKES.h5", help="SONATA spikes file")
    p.add_argument("--population", nargs="+", metavar="P", help="only these populations")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.add_argument(
        "--rhythm-hz",
        type=float,
        metavar="F",
        help="measure modulation depth at F Hz (default: the recorded rhythm)",
    )
    p.add_argument(
        "--fano-window-ms",
        type=float,
        default=100.0,
        metavar="MS",
        help="counting window of the Fano factor (ms), default 100",
    )
    p.add_argument(
        "--max-lag-ms",
        type=float,
        default=100.0,
        metavar="MS",
        help="largest cross-correlation lag searched (ms), default 100",
    )
    p.add_argument(
        "--windows",
        type=float,
        nargs="+",
        default=[5.0, 20.0, 100.0],
        metavar="MS",
        help="counting windows of the pairwise spike-count correlations (ms), default 5 20 100",
    )
    p.add_argument(
        "--pairs",
        type=int,
        default=2000,
        metavar="N",
        help="pairs of units sampled for the correlations (all pairs if fewer), default 2000",
    )
    p.add_argument(
        "--complexity-bin-ms",
        type=float,
        default=1.0,
        metavar="MS",
        help="bin of the synchrony (complexity) distribution (ms), default 1",
    )
    p.add_argument(
        "--assemblies",
        action="store_true",
        help="only the assembly/epoch table of stimulus populations (an error for a "
        "population without a stimulus schedule)",
    )
    p.set_defaults(func=run)


def _table(df, **kw) -> str:
    import pandas as pd

    with pd.option_context(
        "display.width",
        200,
        "display.max_columns",
        50,
        "display.max_rows",
        40,
        "display.float_format",
        "{:.4g}".format,
    ):
        return df.to_string(**kw)


def _sections(report: dict) -> list[str]:
    import pandas as pd

    out = []
    if report.get("stats"):
        out.append(_table(pd.DataFrame(report["stats"]).set_index(["population", "group"]).T))
    if report.get("cross_correlations"):
        cc = pd.DataFrame(report["cross_correlations"])
        out.append("cross-correlation\n" + _table(cc, index=False))
    if report.get("count_correlations"):
        df = pd.DataFrame(report["count_correlations"])
        conf = df["confidence"].iloc[0]
        out.append(
            f"pairwise spike-count correlations (mean over pairs; {100 * conf:g}% CI by "
            "jackknife over time blocks)\n" + _table(df.drop(columns=["confidence"]), index=False)
        )
    if report.get("complexity"):
        df = pd.DataFrame(report["complexity"])
        for pop, rows in df.groupby("population", sort=False):
            seen = rows[(rows["n_bins"] > 0) | (rows["independent_probability"] >= 1e-4)]
            out.append(
                f"synchrony of {pop}: fraction of bins in which c units spike "
                f"({int(rows['n_bins'].sum())} bins)\n"
                + _table(seen.drop(columns=["population"]), index=False)
            )
    if report.get("assembly_epochs"):
        df = pd.DataFrame(report["assembly_epochs"])
        if df["layer"].isna().all():
            df = df.drop(columns=["layer"])
        out.append(
            "stimulus: measured vs scheduled rate per assembly and epoch (bounds: P = 1e-6)\n"
            + _table(df, index=False)
        )
    return out


def spike_stats_text(
    path: str,
    populations: list[str] | None = None,
    as_json: bool = False,
    **kwargs,
) -> str:
    """The text ``raster-maker stats`` prints.

    Parameters
    ----------
    path : str
        The SONATA spikes file.
    populations : list of str, optional
        Only these populations (default all).
    as_json : bool, optional
        The report as JSON instead of tables.
    **kwargs
        Passed to :func:`~raster_maker.report.stats_report` (``rhythm_hz``,
        ``fano_window_ms``, ``max_lag_ms``, ``windows_ms``, ``n_pairs``,
        ``complexity_bin_ms``, ...).

    Returns
    -------
    str
        The tables (statistics per population and group, cross-correlation lags,
        pairwise count correlations, synchrony, stimulus epochs), separated by blank
        lines; or the JSON of the report.
    """
    from ..report import stats_report

    report = stats_report(path, populations=populations, **kwargs)
    if as_json:
        return json.dumps(report, indent=2)
    return "\n\n".join(_sections(report))


def assembly_text(path: str, populations: list[str] | None = None, as_json: bool = False) -> str:
    """The text ``raster-maker stats --assemblies`` prints (only the stimulus epochs).

    Parameters
    ----------
    path : str
        The SONATA spikes file.
    populations : list of str, optional
        Only these populations (default all).
    as_json : bool, optional
        JSON (``{"path", "assembly_epochs"}``) instead of the table.

    Returns
    -------
    str
        The measured against scheduled rate of each assembly in each epoch, for every
        stimulus schedule (every layer that has one).

    Raises
    ------
    ValueError
        If a selected population has no stimulus schedule (the message says what is
        missing).
    """
    from ..report import _load_all, _records, assembly_epoch_stats, read_schedule, schedule_layers

    rows = []
    for data in _load_all(path, populations):
        prefixes = schedule_layers(data.metadata)
        if not prefixes:
            read_schedule(data)  # raises the error that says what is missing
        for prefix in prefixes:
            layer = int(prefix[5:-1]) if prefix else None
            rows += _records(assembly_epoch_stats(data, layer=layer))
    report = {"path": str(path), "assembly_epochs": rows}
    if as_json:
        return json.dumps(report, indent=2)
    return "\n\n".join(_sections(report))


def run(args: argparse.Namespace) -> int:
    """Print the statistics of ``args.spikes`` (or only its stimulus epochs).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options (``spikes``, ``population``, ``json``, ``assemblies``,
        ``rhythm_hz``, ``fano_window_ms``, ``max_lag_ms``, ``windows``, ``pairs``,
        ``complexity_bin_ms``).

    Returns
    -------
    int
        The exit status (0).
    """
    if args.assemblies:
        print(assembly_text(args.spikes, args.population, args.json))
        return 0
    print(
        spike_stats_text(
            args.spikes,
            args.population,
            args.json,
            rhythm_hz=args.rhythm_hz,
            fano_window_ms=args.fano_window_ms,
            max_lag_ms=args.max_lag_ms,
            windows_ms=args.windows,
            n_pairs=args.pairs,
            complexity_bin_ms=args.complexity_bin_ms,
        )
    )
    return 0
