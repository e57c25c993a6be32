"""``raster-maker plot``: the inputs figure (noise trace, z-scores, spectrum, raster, rates),
the assemblies figure of a stimulus population, and the correlation panels."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from . import CLIError

#: Suffixes of the figure files ``--output`` may name (matplotlib's format is the suffix).
FORMATS = (".png", ".pdf", ".svg")

HELP = """\
Draw the figure documenting one population's inputs:
  A  z-scored noise trace (the group's recorded rate profile, else its population rate)
  B  histogram of its z-scores
  C  its power spectrum on log-log axes with the fitted slope (1/f noise: -1)
  D  raster of one functional group with its population rate on a second axis
  E  distribution of the units' firing rates (over --reference-rates if given)

A stimulus population (generator 'stimulus', or a 'layers' input with a stimulus layer)
gets the assemblies figure instead: per assembly its scheduled rate beside its measured
rate (PSTH in --bin-ms bins), and a raster sorted by assembly (--group or
--reference-rates ask for the inputs figure).

With --correlations (the default for the correlated, mip, sip and cpp generators):
  F  mean pairwise spike-count correlation against the counting window (--windows),
     with its confidence interval and spread over pairs
  G  population cross-correlogram pooled over all pairs (correlation units)

  raster-maker plot SPIKES.h5 [--population P] [--group G] [-o FIG.png|pdf|svg]
                    [--reference-rates RATES.txt] [--reference-label LABEL]
                    [--correlations] [--windows MS [MS ...]] [--assemblies] [--layer I]
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``plot`` sub-command to the ``raster-maker`` parser.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The sub-parsers of the main parser; the new parser's ``func`` is :func:`run`.
    """
    p = sub.add_parser(
        "plot",
        help="draw the inputs figure (panels A-E) of a spikes file",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("spikes", metavar="SPIKES.h5", help="SONATA spikes file")
    p.add_argument("--population", metavar="P", help="population (default: the first)")
    p.add_argument("--group", metavar="G", help="functional group key (default: the first)")
    p.add_argument(
        "-o",
        "--output",
        metavar="FIG",
        help="figure file, .png, .pdf or .svg (default: SPIKES with .png)",
    )
    p.add_argument(
        "--reference-rates",
        metavar="FILE",
        help="firing rates (Hz) to compare with in panel E: text (one per line/any "
        "whitespace or commas) or .npy",
    )
    p.add_argument("--reference-label", default="experimental", help="legend label of them")
    p.add_argument("--dpi", type=float, default=150.0, help="resolution of a .png (default 150)")
    p.add_argument(
        "--correlations",
        action="store_true",
        help="add the correlation panels F and G (always for correlated generators)",
    )
    p.add_argument(
        "--windows",
        type=float,
        nargs="+",
        default=[5.0, 20.0, 100.0],
        metavar="MS",
        help="counting windows of panel F (ms), default 5 20 100",
    )
    p.add_argument(
        "--assemblies",
        action="store_true",
        help="the assemblies figure (the default for stimulus populations; an error for others)",
    )
    p.add_argument(
        "--layer",
        type=int,
        metavar="I",
        help="the stimulus layer to draw, for a layers input with several",
    )
    p.add_argument(
        "--bin-ms",
        type=float,
        default=25.0,
        metavar="MS",
        help="bin of the assemblies' measured and scheduled rates (ms), default 25",
    )
    p.set_defaults(func=run)


def _read_rates(path: str) -> np.ndarray:
    if path.endswith(".npy"):
        return np.load(path).ravel()
    text = Path(path).read_text().replace(",", " ")
    try:
        return np.array(text.split(), dtype=np.float64)
    except ValueError:
        raise CLIError(
            f"Invalid value for '--reference-rates': {path!r} holds something other than "
            "numbers. Allowed: a .npy array or text of rates in Hz."
        ) from None


def plot_file(
    spikes: str,
    output: str | None = None,
    population: str | None = None,
    group: str | None = None,
    reference_rates: str | None = None,
    reference_label: str = "experimental",
    dpi: float = 150.0,
    *,
    correlations: bool = False,
    windows_ms: list[float] | None = None,
    assemblies: bool = False,
    layer: int | None = None,
    bin_ms: float = 25.0,
) -> Path:
    """Draw the figure of ``spikes`` into ``output``; returns its path.

    The assemblies figure for a stimulus population (or when ``assemblies``: an error
    without a schedule), else the inputs figure; the correlation panels when
    ``correlations`` or when the population was made by a correlated generator.

    Parameters
    ----------
    spikes : str
        The SONATA spikes file.
    output : str, optional
        The figure file, ending in ``.png``, ``.pdf`` or ``.svg``; default ``spikes``
        with the suffix ``.png``. An existing file is replaced (only once the figure is
        saved whole).
    population : str, optional
        The population to draw (default: the first).
    group : str, optional
        The functional group of the raster (panel D); default the first. Giving it asks
        for the inputs figure of a stimulus population.
    reference_rates : str, optional
        A file of firing rates (Hz) to compare with in panel E: a ``.npy`` array or text
        (numbers separated by whitespace or commas). Giving it asks for the inputs figure
        of a stimulus population.
    reference_label : str
        The legend label of the reference rates.
    dpi : float
        Resolution of a ``.png`` (dots per inch).
    correlations : bool
        Add the correlation panels F and G (always for the correlated, mip, sip and cpp
        generators).
    windows_ms : list of float, optional
        Counting windows of panel F (ms); default those of
        :func:`~raster_maker.plotting.correlation_figure_data`.
    assemblies : bool
        Draw the assemblies figure (the default for a stimulus population; an error for
        a population without a schedule).
    layer : int, optional
        The stimulus layer to draw, for a ``layers`` input with several; implies
        ``assemblies``.
    bin_ms : float
        Bin of the assemblies' measured and scheduled rates (ms).

    Returns
    -------
    pathlib.Path
        The figure file written.

    Raises
    ------
    CLIError
        If ``output`` has another suffix, or ``reference_rates`` holds other than numbers.
    SpikesFileError
        If the spikes file is missing, unreadable or malformed.
    ValueError
        If the assemblies figure is asked for a population without a schedule (the
        message says what is missing).
    """
    out = Path(output) if output else Path(spikes).with_suffix(".png")
    if out.suffix.lower() not in FORMATS:
        raise CLIError(
            f"Invalid value for '--output': {str(out)!r}. Allowed: a file ending in "
            f"{', '.join(FORMATS)}."
        )
    from ..plotting import plot_assemblies, plot_inputs, wants_correlations
    from ..report import has_schedule, load_population_data, read_schedule

    ref = _read_rates(reference_rates) if reference_rates else None
    data = load_population_data(spikes, population)
    assemblies = assemblies or layer is not None
    if assemblies and not has_schedule(data):
        read_schedule(data)  # raises the error that says what is missing
    corr = correlations or wants_correlations(data.provenance)
    corr_kw = {"windows_ms": windows_ms} if windows_ms else {}
    if assemblies or (has_schedule(data) and group is None and ref is None):
        fig = plot_assemblies(
            data, correlations=corr, correlation_kwargs=corr_kw, layer=layer, bin_ms=bin_ms
        )
    else:
        fig = plot_inputs(
            data,
            group=group,
            reference_rates_hz=ref,
            reference_label=reference_label,
            correlations=corr,
            correlation_kwargs=corr_kw,
        )
    from .._atomic import atomic_path

    fmt = Path(out).suffix.lstrip(".").lower() or None
    with atomic_path(out, overwrite=True) as tmp:  # a failed save leaves no half figure
        fig.savefig(tmp, dpi=dpi, format=fmt)
    return out


def run(args: argparse.Namespace) -> int:
    """Draw the figure of ``args.spikes`` and print the path of the file written.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options (``spikes``, ``output``, ``population``, ``group``,
        ``reference_rates``, ``reference_label``, ``dpi``, ``correlations``, ``windows``,
        ``assemblies``, ``layer``, ``bin_ms``); see :func:`plot_file`.

    Returns
    -------
    int
        The exit status (0).
    """
    out = plot_file(
        args.spikes,
        args.output,
        args.population,
        args.group,
        args.reference_rates,
        args.reference_label,
        args.dpi,
        correlations=args.correlations,
        windows_ms=args.windows,
        assemblies=args.assemblies,
        layer=args.layer,
        bin_ms=args.bin_ms,
    )
    print(out)
    return 0
