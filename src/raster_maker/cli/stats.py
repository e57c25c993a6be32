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

  raster-maker stats SPIKES.h5 [--population P ...] [--json] [--rhythm-hz F]
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "stats",
        help="rates vs targets, ISI CV, Fano factor, spectra, rhythm depth, cross-correlation lags",
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
    p.set_defaults(func=run)


def spike_stats_text(
    path: str,
    populations: list[str] | None = None,
    as_json: bool = False,
    **kwargs,
) -> str:
    """The text ``raster-maker stats`` prints."""
    import pandas as pd

    from ..report import stats_report

    report = stats_report(path, populations=populations, **kwargs)
    if as_json:
        return json.dumps(report, indent=2)
    with pd.option_context(
        "display.width", 200, "display.max_columns", 50, "display.float_format", "{:.4g}".format
    ):
        stats = pd.DataFrame(report["stats"]).set_index(["population", "group"])
        text = stats.T.to_string()
        if report["cross_correlations"]:
            text += "\n\ncross-correlation\n"
            text += pd.DataFrame(report["cross_correlations"]).to_string(index=False)
    return text


def run(args: argparse.Namespace) -> int:
    print(
        spike_stats_text(
            args.spikes,
            args.population,
            args.json,
            rhythm_hz=args.rhythm_hz,
            fano_window_ms=args.fano_window_ms,
            max_lag_ms=args.max_lag_ms,
        )
    )
    return 0
