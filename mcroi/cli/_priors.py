"""``mcroi priors``: list, show, check and fit priors (the imperative shell over mcroi.priors).

Library layers (files under ``platforms/``, ``workloads/``, ``curves/``, ``markets/``, ``finance/``
and ``optimization/`` of the priors library) are pieces of a scenario, not scenarios: ``check`` and
``show`` validate them as layers (every value they give must be valid; inputs they leave to other
layers are not missing). ``--partial`` does the same for any file.
"""

from __future__ import annotations

from pathlib import Path

import click

from mcroi.cli._main import UserError, setup_jax, user_errors
from mcroi.priors import (
    PriorSet,
    describe_file,
    fit_families,
    is_layer,
    library_root,
    load,
    read_column,
    resolve_path,
    toml_line,
)
from mcroi.runs import quantity


def _load(name: str, partial: bool | None) -> tuple[PriorSet, Path, bool]:
    path = resolve_path(name)
    if not path.exists():
        raise UserError(f"{name}: no such priors file or library name; see `mcroi priors list`")
    part = is_layer(path) if partial is None else partial
    return load(path, partial=part), path, part


@click.group()
def priors() -> None:
    """List, show, check and fit priors (the shipped library and your own files)."""


@priors.command("list")
@click.option(
    "--layers/--no-layers", default=True, show_default=True, help="Include library layers, not only scenarios."
)
def list_cmd(layers: bool) -> None:
    """List the shipped priors library: scenarios (runnable) and layers (to extend)."""
    root = library_root()
    rows = []
    for p in sorted(root.rglob("*.toml")):
        kind, desc = describe_file(p)
        if kind == "layer" and not layers:
            continue
        rows.append((str(p.relative_to(root).with_suffix("")), kind, desc))
    width = max((len(r[0]) for r in rows), default=10)
    click.echo(f"priors library: {root}")
    for name, kind, desc in rows:
        click.echo(f"  {name:<{width}}  {kind:<8}  {desc[:100]}")
    click.echo(
        "Run a scenario by name, e.g. `mcroi simulate scenarios/claims/gb200-15x-uncertain`; "
        "inspect one with `mcroi priors show NAME`."
    )


def _quantiles(ps: PriorSet) -> dict[str, tuple[float, float, float]]:
    """P10, P50, P90 of each input's marginal through the sampler's own inverse CDFs."""
    setup_jax("float64")
    import jax.numpy as jnp

    from mcroi.priors import ppf

    u = jnp.asarray([0.1, 0.5, 0.9], jnp.float64)
    out = {}
    for name, d in ps.inputs.items():
        q = [float(x) for x in ppf(d, u)]
        out[name] = (q[0], q[1], q[2])
    return out


@priors.command("show")
@click.argument("name")
@click.option("--partial/--full", default=None, help="Validate as a layer (default: automatic for library layers).")
@user_errors
def show(name: str, partial: bool | None) -> None:
    """Show the resolved priors of NAME (a file or library name) with P10/P50/P90 and sources."""
    ps, path, part = _load(name, partial)
    click.echo(f"{ps.name}: {ps.description}" if ps.description else ps.name)
    click.echo(f"  file: {path}{'  (layer, validated partially)' if part else ''}")
    click.echo(f"  layers: {' <- '.join(ps.files)}")
    click.echo(f"  horizon: {ps.horizon_months} months   sha256: {ps.sha256()[:16]}")
    qs = _quantiles(ps)
    w = max((len(n) for n in ps.inputs), default=10)
    click.echo(f"  {'input':<{w}}  {'P10':>10} {'P50':>10} {'P90':>10}  distribution / source")
    for n, d in ps.inputs.items():
        p10, p50, p90 = qs[n]
        click.echo(f"  {n:<{w}}  {quantity(p10):>10} {quantity(p50):>10} {quantity(p90):>10}  {d.describe()}")
        click.echo(f"  {'':<{w}}  {'':>32}  source: {d.source or 'NONE'}   [{d.file or 'default'}]")
    if ps.curve:
        knots = ", ".join(f"[{x:g}, {y:g}]" for x, y in ps.curve)
        click.echo(f"  throughput.curve (tok/s/user -> output tok/s/GPU): {knots}")
        click.echo(f"    source: {ps.curve_source or 'NONE'}")
    for c in ps.correlations:
        click.echo(f"  correlation: {c.a} ~ {c.b}: Spearman {c.spearman:+.2f}")
    _repair_notes(ps)


def _repair_notes(ps: PriorSet) -> None:
    from mcroi.priors import repair_notes

    notes = repair_notes(ps)
    if notes:
        click.echo(
            "  note: the correlations are not positive semi-definite; sampling repairs them "
            "(Spearman, requested -> used): " + "; ".join(notes)
        )


@priors.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--partial/--full",
    default=None,
    help="Validate as a layer: values must be valid, missing inputs are allowed "
    "(default: automatic for files under the library's layer folders).",
)
@user_errors
def check(file: Path, partial: bool | None) -> None:
    """Validate a priors FILE (one line per problem, exit 2 if any)."""
    ps, path, part = _load(str(file), partial)
    sampled = [n for n, d in ps.inputs.items() if not d.is_constant]
    unsourced = [n for n, d in ps.inputs.items() if not d.is_constant and not d.source]
    kind = "layer" if part else "scenario"
    click.echo(
        f"ok: {path} ({kind} {ps.name!r}: {len(ps.inputs)} inputs, {len(sampled)} uncertain, "
        f"{len(ps.correlations)} correlations{', a throughput curve' if ps.curve else ''})"
    )
    for n in unsourced:
        click.echo(f'  warning: {n} is uncertain but names no source; add source = "..."')
    _repair_notes(ps)


# --------------------------------------------------------------------------- fit


@priors.command("fit")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--column", "-c", required=True, help="The CSV column to fit.")
@click.option("--key", default="group.input", show_default=True, help="The input name to write in the TOML lines.")
@user_errors
def fit(file: Path, column: str, key: str) -> None:
    """Fit mcroi's families to a CSV column by maximum likelihood; print them by AIC with TOML lines.

    The empirical family (the data itself) is printed last: it has no AIC (as many parameters as
    values) and is the honest choice when no family fits.
    """
    import numpy as np

    x = read_column(file, column)
    results = fit_families(np.asarray(x))
    best = results[0]["aic"]
    click.echo(
        f"{file} column {column!r}: n = {len(x)}, min {min(x):.4g}, median {float(np.median(x)):.4g}, max {max(x):.4g}"
    )
    click.echo(f"  {'family':<11} {'AIC':>10} {'dAIC':>8}  TOML")
    for r in results:
        src = f"ML fit to {file.name} column {column} (n = {len(x)}, AIC {r['aic']:.1f})"
        click.echo(f"  {r['family']:<11} {r['aic']:>10.1f} {r['aic'] - best:>8.1f}  {toml_line(key, r, src)}")
    click.echo(
        f'  {"empirical":<11} {"-":>10} {"-":>8}  {key} = {{ dist = "empirical", file = "{file.name}", column = "{column}", source = "..." }}'
    )
    click.echo(
        "dAIC < 2: about as good as the best; > 10: clearly worse. Paths in empirical are relative to the priors file."
    )


__all__ = ["priors"]
