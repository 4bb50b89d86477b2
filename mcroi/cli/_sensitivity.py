"""``mcroi sensitivity``: every tornado flavour for one output, with intervals, plus Sobol' indices."""

from __future__ import annotations

from pathlib import Path

import click

from mcroi.analysis import METHODS
from mcroi.cli._main import UserError, setup_jax, user_errors
from mcroi.engine import SCALAR_OUTPUTS


def _methods(value: str) -> list[str]:
    out = [m.strip() for m in value.split(",") if m.strip()]
    bad = [m for m in out if m not in METHODS]
    if bad or not out:
        raise UserError(
            f"--method = {value}: unknown method {', '.join(bad) or '(none)'}; choose from {','.join(METHODS)}"
        )
    return out


@click.command()
@click.argument("source", required=False, metavar="[PRIORS_OR_RUN]")
@click.option(
    "--output", "output", default="npv_usd", show_default=True, help=f"Scalar output: {', '.join(SCALAR_OUTPUTS)}."
)
@click.option(
    "--method", "method", default="swing,conditional,rank,sobol", show_default=True, help="Comma-separated methods."
)
@click.option(
    "--draws",
    "-n",
    type=click.IntRange(min=100),
    default=20_000,
    show_default=True,
    help="Monte Carlo draws for conditional and rank (ignored for a run folder: its draws are used).",
)
@click.option(
    "--sobol-n",
    type=click.IntRange(min=64),
    default=4096,
    show_default=True,
    help="Sobol' base sample size N (cost N x (inputs + 2) model runs; a power of 2).",
)
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=0, show_default=True)
@click.option("--low", type=click.FloatRange(1, 49), default=10.0, show_default=True, help="Swing low percentile.")
@click.option("--high", type=click.FloatRange(51, 99), default=90.0, show_default=True, help="Swing high percentile.")
@click.option(
    "--bootstrap",
    "n_boot",
    type=click.IntRange(min=0),
    default=200,
    show_default=True,
    help="Bootstrap resamples (0: no intervals).",
)
@click.option(
    "--out",
    "-o",
    type=click.Path(path_type=Path),
    default=None,
    help="Output folder [default: <run>/sensitivity-<output> for a run, runs/sensitivity-<scenario>-<output>].",
)
@click.option("--no-plots", is_flag=True, help="Write sensitivity.nc and the table only.")
@user_errors
def sensitivity(
    source: str | None,
    output: str,
    method: str,
    draws: int,
    sobol_n: int,
    seed: int,
    low: float,
    high: float,
    n_boot: int,
    out: Path | None,
    no_plots: bool,
) -> None:
    """Rank the inputs that decide OUTPUT (default npv_usd) by swing, conditional mean, rank and Sobol'.

    PRIORS_OR_RUN is a priors file or library name (default: the default scenario), or a run folder
    written by `mcroi simulate` (its draws feed conditional and rank; its manifest's priors feed
    swing and sobol).
    """
    import numpy as np

    from mcroi import pipeline, runs

    methods = _methods(method)
    if output not in SCALAR_OUTPUTS:
        raise UserError(f"--output = {output}: not a scalar output; choose from {', '.join(SCALAR_OUTPUTS)}")
    setup_jax("float64")
    x = y = None
    run_dir = Path(source) if source and Path(source).is_dir() else None
    if run_dir is not None:
        ps, x, outs, _ = pipeline.load_sensitivity_run(run_dir)
        y = np.column_stack([outs[output], outs[pipeline.PER_YEAR]])
        src = f"run folder {run_dir} ({x.shape[0]:,} draws) and its manifest's priors"
        default_out = run_dir / f"sensitivity-{output}"
    else:
        ps = pipeline.load_priors(source)
        src = f"priors {ps.files[0] if ps.files else ps.name}"
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in ps.name)
        default_out = Path("runs") / f"sensitivity-{safe}-{output}"
    out = out or default_out
    if out.exists() and not (out.is_dir() and (out / "sensitivity.nc").is_file() and not runs.is_run_folder(out)):
        raise UserError(
            f"{out}: --out exists and is not an earlier `mcroi sensitivity` output; sensitivity writes a folder "
            "of its own (default RUN/sensitivity-OUTPUT): choose a new --out"
        )
    try:
        c = pipeline.compute_sensitivity(
            ps,
            methods,
            output,
            draws=draws,
            seed=seed,
            sobol_n=sobol_n,
            n_boot=n_boot,
            x=x,
            y=y,
            low=low / 100,
            high=high / 100,
            on_method=lambda name: click.echo(f"  {name} ...", err=True),
        )
    except ValueError as e:
        raise UserError(f"{source or 'default'}: --output = {output}: {e}") from None
    click.echo("  writing sensitivity.nc and the charts ...", err=True)
    ds = pipeline.write_sensitivity(c, out, ps.name, src, plots=not no_plots)

    from rich.console import Console
    from rich.table import Table

    header, rows = pipeline.ranking_table(ds)
    t = Table(title=f"{ps.name}: what drives {output} ({c.units}); 95 % intervals in brackets", title_justify="left")
    for h in header:
        t.add_column(h, justify="left" if h == "input" else "right", no_wrap=True)
    for r in rows:
        t.add_row(*r)
    need = sum(max(len(h), *(len(r[j]) for r in rows)) + 3 for j, h in enumerate(header)) + 1
    console = Console(width=max(need, Console().width))
    console.print(t)
    for n in c.notes:
        console.print(f"note: {n}")
    click.echo(f"sensitivity written to {out}")
    if run_dir is not None and not no_plots and (run_dir / "report.html").is_file() and out.parent == run_dir:
        from mcroi import report

        report.write_html(run_dir, run_dir / "report.html", name=run_dir.name)
        click.echo(f"report updated with these tornados: {run_dir / 'report.html'}")
