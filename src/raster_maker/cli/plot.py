"""``raster-maker plot``: the inputs figure (noise trace, z-scores, spectrum, raster, rates)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from . import CLIError

FORMATS = (".png", ".pdf", ".svg")

HELP = """\
Draw the figure documenting one population's inputs:
  A  z-scored noise trace (the group's recorded rate profile, else its population rate)
  B  histogram of its z-scores
  C  its power spectrum on log-log axes with the fitted slope (1/f noise: -1)
  D  raster of one functional group with its population rate on a second axis
  E  distribution of the units' firing rates (over --reference-rates if given)

  raster-maker plot SPIKES.h5 [--population P] [--group G] [-o FIG.png|pdf|svg]
                    [--reference-rates RATES.txt] [--reference-label LABEL]
"""


def register(sub: argparse._SubParsersAction) -> None:
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
) -> Path:
    """Draw the inputs figure of ``spikes`` into ``output``; returns its path."""
    out = Path(output) if output else Path(spikes).with_suffix(".png")
    if out.suffix.lower() not in FORMATS:
        raise CLIError(
            f"Invalid value for '--output': {str(out)!r}. Allowed: a file ending in "
            f"{', '.join(FORMATS)}."
        )
    from ..plotting import plot_inputs

    ref = _read_rates(reference_rates) if reference_rates else None
    fig = plot_inputs(
        spikes, population, group, reference_rates_hz=ref, reference_label=reference_label
    )
    fig.savefig(out, dpi=dpi)
    return out


def run(args: argparse.Namespace) -> int:
    out = plot_file(
        args.spikes,
        args.output,
        args.population,
        args.group,
        args.reference_rates,
        args.reference_label,
        args.dpi,
    )
    print(out)
    return 0
