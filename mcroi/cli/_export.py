"""``mcroi export``: percentile tables of a run for budgeting tools."""

from __future__ import annotations

from pathlib import Path

import click

from mcroi.cli._main import UserError, setup_jax, user_errors


@click.command()
@click.argument("run", type=click.Path(path_type=Path), metavar="RUN")
@click.option(
    "--format", "-f", "fmt", default="csv", show_default=True, help="One of the export formats: csv, json, xlsx."
)
@click.option(
    "--percentiles", "-p", default="5,10,50,90,95", show_default=True, help="Comma-separated percentiles (0..100)."
)
@click.option(
    "--out", "-o", default=None, help="Output file [default: RUN/export.<format>]; '-' writes csv/json to stdout."
)
@user_errors
def export(run: Path, fmt: str, percentiles: str, out: str | None) -> None:
    """Export a run's means and percentiles as tidy rows (scenario, metric, period, statistic, value, unit).

    Works on runs of `mcroi simulate` and `mcroi compare`. Per-year line items (revenue, energy,
    other opex, tax, cash flow, output tokens) come with their own percentiles; a percentile of a
    sum is not the sum of percentiles.
    """
    setup_jax("float64")  # a run that keeps every draw recomputes them when read
    from mcroi import runs

    fmt = fmt.lower()
    if fmt not in runs.FORMATS:
        raise UserError(f"--format = {fmt}: unknown format; give one of {', '.join(runs.FORMATS)}")
    try:
        pcts = runs.parse_percentiles(percentiles)
    except ValueError as e:
        raise UserError(str(e)) from None
    runs.read_run(run)
    if out == "-" and runs.EXPORT_FORMATS[fmt].text is None:
        raise UserError(f"--out = -: {fmt} cannot go to stdout; give a file name such as budget.{fmt}")
    result = runs.export(run, fmt, out, pcts)
    if out == "-":
        click.echo(result, nl=False)
    else:
        click.echo(f"exported to {result}")
