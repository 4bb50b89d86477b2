"""``mcroi compare``: scenarios side by side on common random numbers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from mcroi.analysis import DEFAULT_COVENANT
from mcroi.cli._capital import compare_rows as capital_rows
from mcroi.cli._capital import compare_versus_rows as capital_versus_rows
from mcroi.cli._capital import covenant_option
from mcroi.cli._main import UserError, setup_jax, user_errors
from mcroi.runs import format_value, probability_text, usd_small


def _p(d: dict[str, Any] | None) -> str:
    if not d or d.get("p") is None:
        return "n/a"
    return f"{d['p']:.1%}"


def _num(v: Any, key: str) -> str:
    if v is None:  # summary.json writes non-finite numbers as null: payback's means "never"
        return "never" if key == "payback_months" else "n/a"
    return format_value(key, float(v))


def print_comparison(summary: dict[str, Any], title: str) -> None:
    """The side-by-side table: one column per platform, the baseline first."""
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(100, Console().width))
    base = summary["baseline"]
    platforms = [base, *[p for p in summary["platforms"] if p != base]]
    t = Table(title=title, title_justify="left")
    t.add_column("")
    for p in platforms:
        t.add_column(f"{p} (baseline)" if p == base else p, justify="right")

    def row(label: str, fn: Any) -> None:
        t.add_row(label, *(fn(p) for p in platforms))

    def out(key: str, stat: str) -> Any:
        return lambda p: _num(summary["per_platform"][p]["outputs"][key][stat], key)

    row("NPV mean (USD)", out("npv_usd", "mean"))
    row(
        "NPV P5 / P50 / P95",
        lambda p: " / ".join(
            _num(summary["per_platform"][p]["outputs"]["npv_usd"][s], "npv_usd") for s in ("p5", "p50", "p95")
        ),
    )
    row("IRR P50", out("irr_annual", "p50"))
    row("Payback P50 (months)", out("payback_months", "p50"))
    row("ROI multiple P50 (x)", out("roi_multiple", "p50"))
    row("Cost / Mtok P50 (USD)", out("cost_per_mtok_usd", "p50"))
    row("MIRR P50", lambda p: _opt(summary["per_platform"][p]["outputs"], "mirr_annual", "p50"))
    row("Draws without a unique IRR", lambda p: _no_unique_irr(summary["per_platform"][p]["outputs"]))
    row("Year-1 revenue / GPU-hour P50", lambda p: _market(summary["per_platform"][p].get("market_check"), "rev"))
    row("  x the market rent (P50)", lambda p: _market(summary["per_platform"][p].get("market_check"), "ratio"))
    risk = lambda key: lambda p: _p(summary["per_platform"][p]["risk"].get(key))  # noqa: E731
    row("P(NPV < 0)", risk("p_npv_negative"))
    row("P(payback > 24 months)", risk("p_payback_over_24_months"))
    row("P(payback > 36 months)", risk("p_payback_over_36_months"))
    row("NPV VaR 5% (USD)", lambda p: _num(summary["per_platform"][p]["risk"]["var_npv_usd"], "npv_usd"))
    row("NPV CVaR 5% (USD)", lambda p: _num(summary["per_platform"][p]["risk"]["cvar_npv_usd"], "npv_usd"))
    capital_rows(summary, row, base)
    t.add_section()
    vs = summary["vs_baseline"]

    def versus(fn: Any) -> Any:
        return lambda p: "-" if p == base else fn(vs[p])

    row(
        f"P(NPV > {base}'s), same draws",
        versus(lambda v: probability_text(v["p_npv_above_baseline"], int(summary["draws"]))),
    )
    row(
        "NPV difference P5 / P50 / P95",
        versus(lambda v: " / ".join(_num(v["npv_difference_usd"][s], "npv_usd") for s in ("p5", "p50", "p95"))),
    )
    row("ROI multiple ratio P50 [P5, P95]", versus(lambda v: _ratio(v["roi_multiple_ratio"])))
    row("Cost / Mtok ratio P50 [P5, P95]", versus(lambda v: _ratio(v["cost_per_mtok_ratio"])))
    row("NPV first-order dominance", versus(lambda v: _verdict(v["npv_dominance"])))
    row("SE of mean NPV diff: common / indep.", versus(lambda v: _se(v["npv_difference_se"])))
    capital_versus_rows(summary, row, base)
    console.print(t)
    flagged = [p for p in platforms if (summary["per_platform"][p].get("market_check") or {}).get("flagged")]
    if flagged:
        console.print(
            f"! Market check: {', '.join(flagged)} earn more than 2x the market rent per GPU-hour in year 1; "
            "a buyer could rent those GPUs instead, so such a case needs a reason "
            "(scarce capacity, contracted demand, a premium model).",
            markup=False,
        )


def _opt(outputs: dict[str, Any], key: str, stat: str) -> str:
    return _num(outputs[key][stat], key) if key in outputs else "n/a"


def _no_unique_irr(outputs: dict[str, Any]) -> str:
    """Share of draws whose cumulative cash changes sign other than once (the IRR is not one number)."""
    u = outputs.get("irr_unique", {}).get("mean")
    return "n/a" if u is None else f"{1 - float(u):.1%}"


def _market(mc: dict[str, Any] | None, what: str) -> str:
    """The market check's revenue per GPU-hour, or its ratio to the rent flagged with ``!`` above the flag."""
    if not mc or mc.get("revenue_per_gpu_hour_usd") is None:
        return "n/a"
    if what == "rev":
        return usd_small(mc["revenue_per_gpu_hour_usd"]["p50"])
    ratio = mc.get("revenue_to_rent_ratio")
    if ratio is None:
        return "no rent given"
    rent = usd_small(mc["market_gpu_hour_usd"]["p50"])
    return f"{ratio['p50']:.2f}x of {rent}" + (" !" if mc.get("flagged") else "")


def _ratio(d: dict[str, Any]) -> str:
    if d.get("p50") is None:
        return "n/a"
    return f"{d['p50']:.3g}x [{d['p5']:.3g}, {d['p95']:.3g}]"


def _verdict(d: dict[str, Any]) -> str:
    return {
        "dominates": "dominates baseline",
        "dominated": "dominated by baseline",
        "indistinguishable": "indistinguishable",
        "neither": "neither (ECDFs cross)",
    }.get(d["verdict"], d["verdict"])


def _se(d: dict[str, Any]) -> str:
    c, i = d.get("se_common"), d.get("se_independent")
    if c is None or i is None:
        return "n/a"
    ratio = d.get("variance_ratio")
    gain = (
        "constant difference"
        if ratio is None and c == 0
        else (f"{ratio:,.1f}x variance reduction" if ratio is not None else "n/a")
    )
    return f"{_num(c, 'npv_usd')} / {_num(i, 'npv_usd')} ({gain})"


def _command(
    scenarios: tuple[str, ...],
    baseline: str,
    draws: int,
    seed: int,
    precision: str,
    chunk: int,
    ind: int | None,
    covenant: float = DEFAULT_COVENANT,
) -> str:
    """The command line that reproduces these draws (without --out/--force)."""
    import shlex

    parts = [
        "mcroi",
        "compare",
        *scenarios,
        "--baseline",
        baseline,
        "--draws",
        str(draws),
        "--seed",
        str(seed),
        "--precision",
        precision,
    ]
    if ind is not None:
        parts += ["--independent-draws", str(ind)]
    if covenant != DEFAULT_COVENANT:
        parts += ["--covenant", f"{covenant:g}"]
    return " ".join(shlex.quote(p) for p in parts)


@click.command()
@click.argument("scenarios", nargs=-1, required=True, metavar="A.toml B.toml [C.toml ...]")
@click.option(
    "--baseline",
    "-b",
    default=None,
    help="Scenario to compare against: its name, path or file stem [default: the first].",
)
@click.option(
    "--draws",
    "-n",
    type=click.IntRange(min=2),
    default=100_000,
    show_default=True,
    help="Monte Carlo draws per scenario.",
)
@click.option(
    "--seed", type=click.IntRange(0, 2**63 - 1), default=0, show_default=True, help="Seed shared by every scenario."
)
@click.option(
    "--out",
    "-o",
    type=click.Path(path_type=Path),
    default=None,
    help="Run folder [default: runs/compare-<names>-<UTC time>/].",
)
@click.option("--force", is_flag=True, help="Replace an existing run folder.")
@click.option(
    "--chunk-size",
    type=click.IntRange(min=1),
    default=65536,
    show_default=True,
    help="Draws per compiled step, rounded up to a multiple of 1,024 x devices.",
)
@click.option("--precision", type=click.Choice(["float64", "float32"]), default="float64", show_default=True)
@click.option(
    "--independent-draws",
    type=click.IntRange(min=0),
    default=None,
    help="Extra draws per platform for the independent-draws SE check [default: min(draws, 100000); 0: off].",
)
@click.option(
    "--keep",
    type=click.Choice(["draws", "all"]),
    default="draws",
    show_default=True,
    help="draws: results.nc stores each platform's headline outputs and the rest is recomputed bit for bit "
    "when read; all: store every variable (readable on any backend).",
)
@click.option("--no-plots", is_flag=True, help="Skip the figures.")
@click.option("--quiet", "-q", is_flag=True, help="No table.")
@covenant_option
@user_errors
def compare(
    scenarios: tuple[str, ...],
    baseline: str | None,
    draws: int,
    seed: int,
    out: Path | None,
    force: bool,
    chunk_size: int,
    precision: str,
    independent_draws: int | None,
    keep: str,
    no_plots: bool,
    quiet: bool,
    covenant: float,
) -> None:
    """Compare two or more scenarios (platforms) on common random numbers.

    Every scenario is simulated with the same seed, and an input with the same name gets the
    same draws in all of them, so shared market assumptions cancel in the paired statistics.
    """
    from mcroi import analysis, pipeline, priors, runs

    if len(scenarios) < 2:
        raise UserError(
            f"scenarios = {' '.join(scenarios)}: compare needs at least two priors files; give A.toml B.toml"
        )
    for s in scenarios:
        if not priors.resolve_path(s).exists():
            raise UserError(f"{s}: no such priors file or library scenario; check the path")
    setup_jax(precision)
    sets = [pipeline.load_priors(s) for s in scenarios]
    labels = analysis.platform_labels([ps.name for ps in sets])
    try:
        ib = analysis.baseline_index(baseline, labels, list(scenarios))
    except ValueError as e:
        raise UserError(f"--{e}") from None
    out = out or runs.compare_run_dir(labels)
    runs.prepare(out, force)

    def status(i: int, label: str) -> None:
        if not quiet:
            click.echo(f"simulating {label} ({i + 1}/{len(sets)}), {draws:,} draws ...", err=True)

    ds = pipeline.compare(
        list(scenarios),
        baseline=ib,
        draws=draws,
        seed=seed,
        chunk_size=chunk_size,
        precision=precision,
        independent_draws=independent_draws,
        on_platform=status,
        command=_command(scenarios, labels[ib], draws, seed, precision, chunk_size, independent_draws, covenant),
        covenant=covenant,
    )
    pipeline.write_compare(ds, out, force=force, plots=not no_plots, keep=keep)
    if not quiet:
        summary = json.loads(ds.attrs["summary"])
        print_comparison(summary, f"{' vs '.join(labels)}: {draws:,} common draws, seed {seed}, {precision}")
    click.echo(f"run written to {out}")
