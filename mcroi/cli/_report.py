"""``mcroi report RUN``: the investment-committee page of a run folder."""

from __future__ import annotations

from pathlib import Path

import click

from mcroi.cli._main import UserError, setup_jax, user_errors


@click.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.option(
    "--out", "-o", type=click.Path(path_type=Path), default=None, help="HTML file [default: RUN/report.html]."
)
@user_errors
def report(run: Path, out: Path | None) -> None:
    """Write one self-contained HTML report (inline CSS and SVG, no network) for a run folder."""
    from mcroi import runs

    runs.read_run(run)
    if out is not None and out.is_dir():
        raise UserError(f"{out}: --out = {out}: is a folder; give a file name such as {out / 'report.html'}")
    setup_jax("float64")
    from mcroi import report

    path = report.write_html(run, out)
    click.echo(f"report written to {path}")
