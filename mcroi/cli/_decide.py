"""``mcroi voi``, ``mcroi stress``, ``mcroi reverse-stress``, ``mcroi goal``: decision analytics on a run folder.

Each parses its options, calls one function of :mod:`mcroi.pipeline` (which writes its JSON into
the run folder), prints a table (or the JSON with ``--json``) and refreshes the run's report.
A bad option is one line naming it and its value, exit code 2.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from mcroi.cli._main import UserError, setup_jax, user_errors


def _band(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    try:
        lo, hi = (float(v) for v in text.split(":"))
    except ValueError:
        raise UserError(f"--band = {text}: give two percentiles LO:HI, e.g. 0:10 or 90:100") from None
    if not 0 <= lo < hi <= 100:
        raise UserError(f"--band = {text}: give percentiles 0 <= LO < HI <= 100")
    return lo, hi


def _study(text: str) -> tuple[str, float]:
    name, _, sd = text.rpartition(":")
    try:
        value = float(sd)
    except ValueError:
        value = math.nan
    if not name or not value > 0:
        raise UserError(f"--study = {text}: give INPUT:SD with SD > 0, e.g. utilization.steady_state:0.05")
    return name, value


def _refresh_report(run: Path) -> None:
    if (run / "report.html").is_file():
        from mcroi import report

        report.write_html(run, run / "report.html", name=run.name)
        click.echo(f"report updated: {run / 'report.html'}", err=True)


def _emit(doc: dict[str, Any], as_json: bool, table: Callable[[dict[str, Any]], None]) -> None:
    if as_json:
        from mcroi.runs import dumps

        click.echo(dumps(doc))
    else:
        table(doc)


def _money(x: Any) -> str:
    from mcroi.runs import money

    return money(x) if isinstance(x, int | float) and math.isfinite(x) else "n/a"


run_arg = click.argument("run", type=click.Path(path_type=Path))
json_opt = click.option(
    "--json", "as_json", is_flag=True, help="Print the result as JSON (it is also written into RUN)."
)
platform_opt = click.option("--platform", default=None, help="Compare runs: the platform (default: the baseline).")


@click.command()
@run_arg
@click.option("--or-nothing", is_flag=True, help="Compare runs: 'build nothing' (NPV 0) is also a choice.")
@click.option(
    "--folds", type=click.IntRange(min=2), default=5, show_default=True, help="Folds of the cross-fitted decision rule."
)
@click.option(
    "--study",
    "studies",
    multiple=True,
    metavar="INPUT:SD",
    help="Also value a study that measures INPUT with a normal error of SD (input units), e.g. utilization.steady_state:0.05 (EVSI).",
)
@json_opt
@user_errors
def voi(run: Path, or_nothing: bool, folds: int, studies: tuple[str, ...], as_json: bool) -> None:
    """Value of information of RUN's decision: EVPI and EVPPI per input and group, in USD, with SEs."""
    setup_jax("float64")
    from mcroi import pipeline

    doc = pipeline.value_of_information(run, or_nothing=or_nothing, folds=folds, studies=[_study(s) for s in studies])

    def table(d: dict[str, Any]) -> None:
        ev = d["evpi"]
        click.echo(f"decision: {d['decision']}; best on current information: {d['best']}")
        click.echo(
            f"EVPI (learn every input exactly before committing): {_money(ev['value'])} +- {_money(ev['se'])} (SE)"
        )
        click.echo(f"{'EVPPI: learn exactly':48} {'value':>10} {'SE':>10} {'of EVPI':>8}")
        for r in d["groups"] + d["inputs"]:
            share = f"{100 * r['value'] / ev['value']:.0f}%" if ev["value"] > 0 else "n/a"
            name = f"[group] {r['name']}" if r in d["groups"] else r["name"]
            if str(r.get("rule", "")).startswith("its member"):
                name += " (via member)"
            click.echo(f"{name[:48]:48} {_money(r['value']):>10} {_money(r['se']):>10} {share:>8}")
        for st in d.get("studies", []):
            click.echo(
                f"EVSI of a study measuring {st['name']} with error SD {st['error_sd']:g}: "
                f"{_money(st['value'])} +- {_money(st['se'])}"
            )
        click.echo(f"written: {run / 'voi.json'}, {run / 'voi.png'} ({d['runtime_s']} s)")

    _emit(doc, as_json, table)
    _refresh_report(run)


@click.command()
@run_arg
@click.option("--input", "input_name", default=None, help="The input to hold to a band (a name from the run's inputs).")
@click.option("--band", default=None, help="Percentile band LO:HI of the input, e.g. 0:10 (default 0:10).")
@platform_opt
@json_opt
@user_errors
def stress(run: Path, input_name: str | None, band: str | None, platform: str | None, as_json: bool) -> None:
    """Outputs of RUN with an input held to a percentile band; a chart of every input's low and high band."""
    b = _band(band)
    if b is not None and input_name is None:
        raise UserError(f"--band = {band}: give --input NAME as well")
    from mcroi import pipeline

    doc = pipeline.stress(run, input=input_name, band=b, platform=platform)

    def table(d: dict[str, Any]) -> None:
        from mcroi.runs import format_value

        key = d.get("this")
        if key:
            e = d["bands"][key]
            click.echo(f"{key}: {e['draws']:,} draws")
            click.echo(f"{'output':22} {'P50 all':>12} {'P50 band':>12} {'P5 band':>12} {'P95 band':>12}")
            for o, s in e["outputs"].items():
                cells = [
                    format_value(o, v) for v in (s["all"]["p50"], s["band"]["p50"], s["band"]["p5"], s["band"]["p95"])
                ]
                click.echo(f"{o:22} " + " ".join(f"{c:>12}" for c in cells))
            neg = e.get("p_npv_negative")
            if neg:
                click.echo(
                    f"P(NPV < 0): {100 * neg['all']:.2f}% all draws, {100 * neg['band']:.2f}% +- {100 * neg['mcse']:.2f}% in the band"
                )
        click.echo(f"written: {run / 'stress.json'}, {run / 'stress.png'} (every input's low and high band)")

    _emit(doc, as_json, table)
    _refresh_report(run)


@click.command("reverse-stress")
@run_arg
@click.option(
    "--target", required=True, help="e.g. 'P(npv_usd < 0) = 20%', 'mean(npv_usd) = 50M', 'p5(npv_usd) = -20M'."
)
@platform_opt
@click.option("--boot", type=click.IntRange(min=0), default=100, show_default=True, help="Bootstrap resamples.")
@json_opt
@user_errors
def reverse_stress(run: Path, target: str, platform: str | None, boot: int, as_json: bool) -> None:
    """Reweight RUN's draws as little as possible to meet TARGET: what the inputs look like then."""
    from mcroi import pipeline

    doc = pipeline.reverse_stress(run, target, platform=platform, n_boot=boot)

    def table(d: dict[str, Any]) -> None:
        click.echo(f"{d['target']}: effective sample size {d['ess']:,.0f} of {d['draws']:,} draws")
        click.echo(f"{'input':36} {'mean shift (SD)':>16} {'SE':>6} {'P50 run':>11} {'P50 stressed':>13}")
        for r in sorted(d["inputs"], key=lambda r: -abs(r["shift_sd"])):
            se = r.get("shift_sd_se", math.nan)
            click.echo(
                f"{r['input'][:36]:36} {r['shift_sd']:>+16.3f} {se:>6.3f} {r['base']['p50']:>11.4g} {r['stressed']['p50']:>13.4g}"
            )
        click.echo(f"written: {run / 'reverse-stress.json'}")

    _emit(doc, as_json, table)
    _refresh_report(run)


@click.command()
@run_arg
@click.option("--input", "input_name", required=True, help="The input to move (a name from the run's priors).")
@click.option(
    "--target",
    required=True,
    help="e.g. 'P(npv_usd < 0) <= 10%', 'P(min_dscr < 1.2) <= 5%', 'median(irr_annual) = 15%'.",
)
@click.option(
    "--mode",
    type=click.Choice(["auto", "add", "scale"]),
    default="auto",
    show_default=True,
    help="add: shift every draw of the input by one amount; scale: multiply them (auto: scale for an uncertain positive input).",
)
@platform_opt
@json_opt
@user_errors
def goal(run: Path, input_name: str, target: str, mode: str, platform: str | None, as_json: bool) -> None:
    """The value of an input at which TARGET holds, on RUN's own draws (common random numbers)."""
    setup_jax("float64")
    from mcroi import pipeline

    doc = pipeline.goal_seek(run, input_name, target, platform=platform, mode=mode)

    def table(d: dict[str, Any]) -> None:
        click.echo(
            f"{d['target']} holds with {d['input']} {d['feasible']} {d['value']:.6g} (+- {d['se_value']:.2g} Monte Carlo SE); "
            f"the run has {d['base_value']:.6g} (values are the input's median; mode {d['mode']}, shift {d['shift']:.6g})"
        )
        click.echo(
            f"statistic: {d['base_statistic']:.4g} in the run, {d['statistic']:.4g} at the answer (SE {d['se_statistic']:.2g}); "
            f"{d['evaluations']} re-evaluations of {d['draws']:,} draws in {d['runtime_s']} s"
        )
        if d.get("note"):
            click.echo(f"note: {d['note']}")
        click.echo(f"written: {run / 'goal.json'}")

    _emit(doc, as_json, table)
    _refresh_report(run)
