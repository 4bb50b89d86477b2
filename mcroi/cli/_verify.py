"""``mcroi verify RUN``: check a run folder against its own manifest, bit for bit.

Exit 0 when everything checked matches, 1 on any difference, 2 when the folder cannot be read
as a run (one line naming the file).
"""

from __future__ import annotations

from pathlib import Path

import click

from mcroi.cli._main import UserError, setup_jax, user_errors

MARKS = {"ok": "ok  ", "diff": "DIFF", "note": "note"}


@click.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.option(
    "--sample",
    type=click.IntRange(min=0),
    default=None,
    help="Recompute only N draws (half from draw 0, half at random) for a quick check [default: every draw].",
)
@click.option("--first", type=click.IntRange(min=0), default=None, help="Recompute draws 0 .. FIRST-1 (with --random).")
@click.option(
    "--random",
    "n_random",
    type=click.IntRange(min=0),
    default=None,
    help="Also recompute this many other draws at random.",
)
@click.option(
    "--check-seed",
    type=click.IntRange(0, 2**63 - 1),
    default=None,
    help="Seed that picks the random draws (printed; default: fresh).",
)
@click.option(
    "--embedded", is_flag=True, help="Use only the priors stored in the manifest, even if the priors files exist here."
)
@user_errors
def verify(
    run: Path, sample: int | None, first: int | None, n_random: int | None, check_seed: int | None, embedded: bool
) -> None:
    """Re-check RUN: file hashes, priors hash, every draw recomputed bit for bit, and summary.json."""
    if sample is not None and (first is not None or n_random is not None):
        raise UserError("--sample N is a shorthand for --first and --random: give one or the other")
    setup_jax("float64")
    from mcroi import pipeline

    def show(c: pipeline.Check) -> None:
        click.echo(f"  {MARKS[c.status]}  {c.message}")

    report = pipeline.verify(
        run,
        sample=sample,
        first=first,
        n_random=n_random,
        check_seed=check_seed,
        embedded=embedded,
        on_header=click.echo,
        on_check=show,
    )
    if report.problems:
        click.echo(f"FAILED: {len(report.problems)} difference(s)", err=True)
        raise SystemExit(1)
    click.echo("verified: every check matched")
