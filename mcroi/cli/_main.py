"""The ``mcroi`` command line: the imperative shell (read -> compute -> store -> report).

Every user error (bad priors, an existing run folder, a bad option) is one line per problem on
stderr and exit code 2, never a traceback, and nothing half-written is left in ``runs/``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from mcroi.cli._capital import covenant_option, print_capital
from mcroi.cli._errors import EXIT_USAGE as EXIT_USAGE
from mcroi.cli._errors import UserError as UserError
from mcroi.cli._errors import user_errors as user_errors


def setup_jax(precision: str, devices: int | None = None) -> None:
    """Set JAX's precision once, at start-up (the library never changes config on import).

    Also exposes one XLA host device per core (or ``devices``) on CPU-only machines, before JAX's
    backend starts, and turns on the persistent compilation cache in the user's cache folder.
    """
    from mcroi.engine import configure_host_devices, enable_compilation_cache

    configure_host_devices(devices)
    import jax

    jax.config.update("jax_enable_x64", precision == "float64")
    enable_compilation_cache()
    from mcroi import runs

    # reading a run that keeps every draw recomputes them from the seed: show it on a terminal
    runs.set_recompute_progress(lambda draws: Progress(draws, True, "recomputing the draws from the seed"))


#: Subcommands that live in their own modules, imported only when used (fast start-up).
LAZY_COMMANDS: dict[str, str] = {
    "sensitivity": "mcroi.cli._sensitivity:sensitivity",
    "compare": "mcroi.cli._compare:compare",
    "export": "mcroi.cli._export:export",
    "priors": "mcroi.cli._priors:priors",
    "report": "mcroi.cli._report:report",
    "verify": "mcroi.cli._verify:verify",
    "voi": "mcroi.cli._decide:voi",
    "stress": "mcroi.cli._decide:stress",
    "reverse-stress": "mcroi.cli._decide:reverse_stress",
    "goal": "mcroi.cli._decide:goal",
}


class LazyGroup(click.Group):
    """A click group whose extra commands are imported on first use."""

    def _available(self) -> dict[str, str]:
        import importlib.util

        return {k: v for k, v in LAZY_COMMANDS.items() if importlib.util.find_spec(v.split(":")[0]) is not None}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._available()))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        cmd = super().get_command(ctx, name)
        if cmd is not None:
            return cmd
        target = self._available().get(name)
        if target is None:
            return None
        import importlib

        mod, attr = target.split(":")
        return getattr(importlib.import_module(mod), attr)  # type: ignore[no-any-return]

    def invoke(self, ctx: click.Context) -> Any:
        """A bad option or argument is one line (exit 2), like every other user error, not click's
        three lines of usage."""
        try:
            return super().invoke(ctx)
        except click.UsageError as e:
            where = e.ctx.command_path if e.ctx is not None else "mcroi"
            raise UserError(f"{e.format_message()} ({where} -h lists the options)") from None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mcroi")
def main() -> None:
    """mcroi: Monte Carlo risk and sensitivity for AI-factory (GPU cluster) investments."""


class DrawCount(click.ParamType):
    """A positive whole number of draws, written as ``1000000``, ``1e6``, ``1_000_000`` or ``1,000,000``."""

    name = "integer"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            n = value
        else:
            text = str(value).strip().replace("_", "").replace(",", "")
            try:
                x = float(text)
            except ValueError:
                self.fail(f"{value!r} is not a number of draws; give e.g. 1000000 or 1e6", param, ctx)
            if not (math.isfinite(x) and x == int(x)):
                self.fail(f"{value!r} is not a whole number of draws", param, ctx)
            n = int(x)
        if n < 1:
            self.fail(f"{value!r}: give at least 1 draw", param, ctx)
        return n


DRAWS = DrawCount()


#: The outputs of the terminal table, in order (labels from the output registry).
SHOWN = (
    "npv_usd",
    "irr_annual",
    "mirr_annual",
    "payback_months",
    "roi_multiple",
    "net_roi",
    "cost_per_mtok_usd",
    "breakeven_price_usd_per_mtok",
)


def print_summary(summary: Mapping[str, Any], title: str) -> None:
    """The terminal table: mean (where a mean means something), percentiles and the median's MC error.

    The mean of an output whose registry record says it is no headline (the IRR, dominated by a
    few enormous roots; payback, undefined when a draw never pays back) prints as a dash. In a
    terminal narrower than the full table, P5 and P95 are left out instead of wrapping.
    """
    from rich.console import Console
    from rich.table import Table

    from mcroi.engine import OUTPUTS
    from mcroi.runs import format_value, market_check_lines

    console = Console()
    t = Table(title=title, title_justify="left")
    t.add_column("output")
    cols = ("mean", "p5", "p10", "p50", "p90", "p95") if console.width >= 100 else ("mean", "p10", "p50", "p90")
    for c in cols:
        t.add_column(c.upper() if c != "mean" else "mean", justify="right")
    t.add_column("MCSE P50", justify="right")
    for key in SHOWN:
        spec = OUTPUTS[key]
        if key not in summary["outputs"]:  # a run written before contract v2 (no MIRR)
            continue
        row = summary["outputs"][key]
        cells = ["—" if c == "mean" and not spec.mean_is_headline else _cell(key, row[c]) for c in cols]
        mcse = "—" if row.get("p50") is None and key in NEVER_WHEN_NULL else format_value(key, row["mcse_p50"])
        t.add_row(spec.label, *cells, mcse)
    console.print(t)
    r = summary["risk"]
    risk = [
        f"P(NPV < 0) = {r['p_npv_negative']['p']:.2%} (±{r['p_npv_negative']['mcse']:.2%})",
        f"P(no payback in horizon) = {r['p_no_payback_within_horizon']['p']:.2%}",
        f"P(ROI multiple < 1) = {_pct(r['p_roi_multiple_below_1']['p'])}",
        f"NPV VaR {r['var_level']:.0%} = {format_value('npv_usd', r['var_npv_usd'])}",
        f"CVaR {r['var_level']:.0%} (expected shortfall) = {format_value('npv_usd', r['cvar_npv_usd'])}",
    ]
    for line in _fit_lines([risk[:3], risk[3:]], console.width):
        console.print(line, soft_wrap=True)
    for line in [*irr_lines(summary["outputs"]), *market_check_lines(summary.get("market_check"))]:
        console.print(line, markup=False)  # wrapped at the terminal's width
    below = summary["outputs"]["breakeven_price_usd_per_mtok"].get("p5")
    if below is not None and below < 0:
        console.print(
            "Break-even P5 < 0: in those draws input-token revenue alone repays the cluster at a zero output price.",
            soft_wrap=False,
        )


#: Outputs whose only non-finite value is +inf ("never"), which summary.json writes as null.
NEVER_WHEN_NULL = frozenset({"payback_months", "discounted_payback_months"})


def _cell(key: str, v: Any) -> str:
    """A table cell; a payback percentile that JSON wrote as null is a payback that never happens."""
    from mcroi.runs import format_value

    return "never" if v is None and key in NEVER_WHEN_NULL else format_value(key, v)


def irr_lines(outputs: Mapping[str, Any]) -> list[str]:
    """What the IRR row cannot say: the share of draws whose IRR is not one number (the MIRR is)."""
    u = outputs.get("irr_unique", {}).get("mean")
    if u is None or float(u) >= 1.0:
        return []
    return [
        f"IRR: {1 - float(u):.1%} of draws have no unique IRR (their cumulative cash does not change sign "
        "exactly once: it never pays back, or turns negative again); the table shows IRR percentiles, "
        "and the MIRR (at the discount rate) is one rate wherever the cash flow has both signs."
    ]


def _fit_lines(groups: list[list[str]], width: int) -> list[str]:
    """Each group of phrases on one line when it fits ``width``, else one phrase a line."""
    out: list[str] = []
    for g in groups:
        joined = "   ".join(g)
        out += [joined] if len(joined) <= width else g
    return out


def _pct(p: float) -> str:
    return "n/a" if p is None or math.isnan(p) else f"{p:.2%}"


class Progress:
    """A rich progress bar over draws, then the phase that writes the run; silent without a TTY or with --quiet.

    ``total`` None (``--until-mcse``: the number of draws is not known in advance) shows the
    draws done without a bar length or time left.
    """

    def __init__(self, total: int | None, enabled: bool, description: str = "simulating") -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.total = total
        self.description = description
        self._bar: Any = None
        self._sketch: Any = None

    def __enter__(self) -> Progress:
        if self.enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[median]}"),
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(self.description, total=self.total, rate="", median="")
            import time

            self._t0 = time.perf_counter()
        return self

    def __call__(self, done: int, total: int, last: Mapping[str, Any]) -> None:
        if self._bar is None:
            return
        import time

        import numpy as np

        from mcroi.engine import QuantileSketch

        if "median_npv_usd" in last:  # a streaming run reports the running median itself
            med = float(last["median_npv_usd"])
        else:
            if self._sketch is None:
                self._sketch = QuantileSketch()
            self._sketch.add(np.asarray(last["npv_usd"]))
            med = float(self._sketch.quantile(0.5))
        rate = done / max(time.perf_counter() - self._t0, 1e-9)
        self._bar.update(
            self._task,
            completed=done if self.total is None else min(done, self.total),
            rate=f"{rate:,.0f} draws/s",
            median=f"median NPV {med / 1e6:,.1f}M",
        )

    def phase(self, name: str) -> None:
        """Show what the run is doing after its draws (writing files, tornados, the report)."""
        if self._bar is not None:
            self._bar.update(self._task, description=name, rate="", median="")

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def _parse_tolerance(value: str | None) -> float | None:
    """``0.5%`` or ``0.005`` -> 0.005."""
    if value is None:
        return None
    v = value.strip()
    try:
        x = float(v[:-1]) / 100 if v.endswith("%") else float(v)
    except ValueError:
        raise UserError(f"--until-mcse = {value}: not a number; give e.g. 0.5% or 0.005") from None
    if not (0 < x < 1):
        raise UserError(f"--until-mcse = {value}: must be between 0 and 100%; give e.g. 0.5%")
    return x


@main.command()
@click.argument("priors_file", required=False, metavar="[PRIORS]")
@click.option(
    "--draws",
    "-n",
    type=DRAWS,
    default=100_000,
    show_default=True,
    help="Monte Carlo draws (1000000, 1e6 or 1_000_000).",
)
@click.option(
    "--seed",
    type=click.IntRange(0, 2**63 - 1),
    default=0,
    show_default=True,
    help="Seed; draws depend only on seed, input name and draw index.",
)
@click.option(
    "--out",
    "-o",
    type=click.Path(path_type=Path),
    default=None,
    help="Run folder [default: runs/<scenario>-<UTC time>/].",
)
@click.option("--force", is_flag=True, help="Replace an existing run folder.")
@click.option(
    "--chunk-size",
    type=click.IntRange(min=1),
    default=65536,
    show_default=True,
    help="Draws per compiled step, rounded up to a multiple of 1,024 x devices (memory is O(chunk)).",
)
@click.option("--precision", type=click.Choice(["float64", "float32"]), default="float64", show_default=True)
@click.option(
    "--keep",
    type=click.Choice(["draws", "all", "summary"]),
    default="draws",
    show_default=True,
    help="draws: every draw, results.nc stores the headline outputs and the rest is recomputed bit for bit "
    "when read (~64 bytes a draw); all: store every variable (~0.9 KB a draw, readable on any backend); "
    "summary: stream the draws (memory independent of --draws), results.nc keeps the first 10,000.",
)
@click.option(
    "--until-mcse",
    default=None,
    metavar="TOL",
    help="Draw chunks until the MCSEs of NPV mean/P5/P50/P95 (relative to NPV sd) and of P(NPV<0) are below TOL, e.g. 0.5%.",
)
@click.option(
    "--max-draws",
    type=DRAWS,
    default=100_000_000,
    show_default=True,
    help="Cap on draws with --until-mcse.",
)
@click.option(
    "--devices",
    type=click.IntRange(min=1),
    default=None,
    help="Devices to shard draws over [default: all; on CPU one per core].",
)
@click.option(
    "--distributed",
    is_flag=True,
    help="Multi-process run (jax.distributed): each process draws a disjoint range; process 0 writes.",
)
@click.option(
    "--coordinator",
    default=None,
    metavar="HOST:PORT",
    help="Coordinator address for --distributed [env MCROI_COORDINATOR or auto-detected].",
)
@click.option(
    "--num-processes",
    type=click.IntRange(min=1),
    default=None,
    help="Process count for --distributed [env MCROI_NUM_PROCESSES].",
)
@click.option(
    "--process-id",
    type=click.IntRange(min=0),
    default=None,
    help="This process's id for --distributed [env MCROI_PROCESS_ID].",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no table.")
@covenant_option
@user_errors
def simulate(
    priors_file: str | None,
    draws: int,
    seed: int,
    out: Path | None,
    force: bool,
    chunk_size: int,
    precision: str,
    keep: str,
    until_mcse: str | None,
    max_draws: int,
    devices: int | None,
    distributed: bool,
    coordinator: str | None,
    num_processes: int | None,
    process_id: int | None,
    quiet: bool,
    covenant: float,
) -> None:
    """Simulate a scenario (default: the embedded default scenario) and write a run folder."""
    tol = _parse_tolerance(until_mcse)
    if distributed and tol is not None:
        raise UserError(f"--until-mcse = {until_mcse}: not supported with --distributed; give --draws")
    setup_jax(precision, devices)
    from mcroi import pipeline

    pid = 0
    if distributed:
        from mcroi.engine import initialize_distributed

        pid, _ = initialize_distributed(coordinator, num_processes, process_id)
    ps = pipeline.load_priors(priors_file)
    if out is None:
        out = pipeline.default_run_dir(ps)
    total = None if tol is not None else draws  # with --until-mcse the draws needed are not known
    with Progress(total, not quiet and pid == 0) as progress:
        ds = pipeline.simulate(
            ps,
            draws=draws,
            seed=seed,
            chunk_size=chunk_size,
            precision=precision,
            out=out if pid == 0 else None,
            force=force,
            progress=progress,
            on_phase=progress.phase,
            command=pipeline.command_line(),
            keep=keep,
            until_mcse=tol,
            max_draws=max_draws,
            devices=devices,
            distributed=distributed,
            covenant=covenant,
        )
    if ds is None:  # a worker process of a distributed run: process 0 writes
        return
    import json

    summary = json.loads(ds.attrs["summary"])
    if not quiet:
        n = summary["draws"]
        print_summary(summary, f"{ps.name}: {n:,} draws, seed {seed}, {precision}")
        print_capital(summary.get("capital"))
        conv = json.loads(ds.attrs["manifest"]).get("convergence")
        if conv:
            errs = ", ".join(f"{k} {v:.3%}" for k, v in (conv["achieved_mcse"] or {}).items())
            state = "converged" if conv["converged"] else "NOT converged (hit --max-draws)"
            click.echo(f"{state} after {conv['draws']:,} draws: MCSE {errs}")
    click.echo(f"run written to {out}")
