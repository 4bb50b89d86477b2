"""``mcroi priors``: list, show, check and fit priors (the imperative shell over mcroi.priors).

Library layers (files under ``platforms/``, ``workloads/``, ``curves/``, ``markets/``, ``finance/``
and ``optimization/`` of the priors library) are pieces of a scenario, not scenarios: ``check`` and
``show`` validate them as layers (every value they give must be valid; inputs they leave to other
layers are not missing). ``--partial`` does the same for any file.
"""

from __future__ import annotations

import csv
import math
import tomllib
from pathlib import Path
from typing import Any

import click

from mcroi.cli import UserError, setup_jax, user_errors
from mcroi.priors import PriorSet, library_root, load, resolve_path

#: Top-level folders of the library that hold layers rather than complete scenarios.
LAYER_DIRS = ("platforms", "workloads", "curves", "markets", "finance", "optimization")


def is_layer(path: Path) -> bool:
    """Whether ``path`` is a layer of the shipped library (validated with ``partial=True``)."""
    try:
        rel = path.resolve().relative_to(library_root().resolve())
    except ValueError:
        return False
    return len(rel.parts) > 1 and rel.parts[0] in LAYER_DIRS


def _load(name: str, partial: bool | None) -> tuple[PriorSet, Path, bool]:
    path = resolve_path(name)
    if not path.exists():
        raise UserError(f"{name}: no such priors file or library name; see `mcroi priors list`")
    part = is_layer(path) if partial is None else partial
    return load(path, partial=part), path, part


def _describe_file(path: Path) -> tuple[str, str]:
    """(kind, one-line description) of a library file, without validating it."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return "?", "(unreadable)"
    desc = ""
    sc = doc.get("scenario", {})
    if isinstance(sc, dict):
        desc = str(sc.get("description", ""))
    if not desc:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("#"):
                desc = line.lstrip("# ").strip()
                break
    return ("layer" if is_layer(path) else "scenario"), desc


@click.group()
def priors() -> None:
    """List, show, check and fit priors (the shipped library and your own files)."""


@priors.command("list")
@click.option("--layers/--no-layers", default=True, show_default=True, help="Include library layers, not only scenarios.")
def list_cmd(layers: bool) -> None:
    """List the shipped priors library: scenarios (runnable) and layers (to extend)."""
    root = library_root()
    rows = []
    for p in sorted(root.rglob("*.toml")):
        kind, desc = _describe_file(p)
        if kind == "layer" and not layers:
            continue
        rows.append((str(p.relative_to(root).with_suffix("")), kind, desc))
    width = max((len(r[0]) for r in rows), default=10)
    click.echo(f"priors library: {root}")
    for name, kind, desc in rows:
        click.echo(f"  {name:<{width}}  {kind:<8}  {desc[:100]}")
    click.echo("Run a scenario by name, e.g. `mcroi simulate scenarios/claims/gb200-15x-uncertain`; "
               "inspect one with `mcroi priors show NAME`.")


def _quantiles(ps: PriorSet) -> dict[str, tuple[float, float, float]]:
    """P10, P50, P90 of each input's marginal through the sampler's own inverse CDFs."""
    setup_jax("float64")
    import jax.numpy as jnp

    from mcroi.distributions import ppf

    u = jnp.asarray([0.1, 0.5, 0.9], jnp.float64)
    out = {}
    for name, d in ps.inputs.items():
        q = [float(x) for x in ppf(d, u)]
        out[name] = (q[0], q[1], q[2])
    return out


def _num(x: float) -> str:
    if math.isnan(x):
        return "nan"
    a = abs(x)
    if a != 0 and (a >= 1e6 or a < 1e-3):
        return f"{x:.3g}"
    return f"{x:,.4g}"


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
        click.echo(f"  {n:<{w}}  {_num(p10):>10} {_num(p50):>10} {_num(p90):>10}  {d.describe()}")
        click.echo(f"  {'':<{w}}  {'':>32}  source: {d.source or 'NONE'}   [{d.file or 'default'}]")
    if ps.curve:
        knots = ", ".join(f"[{x:g}, {y:g}]" for x, y in ps.curve)
        click.echo(f"  throughput.curve (tok/s/user -> output tok/s/GPU): {knots}")
        click.echo(f"    source: {ps.curve_source or 'NONE'}")
    for c in ps.correlations:
        click.echo(f"  correlation: {c.a} ~ {c.b}: Spearman {c.spearman:+.2f}")
    _repair_notes(ps)


def _repair_notes(ps: PriorSet) -> None:
    from mcroi.correlation import repair_notes

    notes = repair_notes(ps)
    if notes:
        click.echo("  note: the correlations are not positive semi-definite; sampling repairs them "
                   "(Spearman, requested -> used): " + "; ".join(notes))


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
        click.echo(f"  warning: {n} is uncertain but names no source; add source = \"...\"")
    _repair_notes(ps)


# --------------------------------------------------------------------------- fit


def _read_column(file: Path, column: str) -> list[float]:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"{file}: cannot be read ({getattr(e, 'strerror', None) or e})") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows or column not in rows[0]:
        cols = ", ".join(rows[0][:12]) if rows else "none"
        raise UserError(f"{file}: --column = {column!r}: no such column; columns: {cols}")
    j = rows[0].index(column)
    vals = []
    for n, row in enumerate(rows[1:], start=2):
        cell = row[j].strip() if j < len(row) else ""
        if not cell:
            continue
        try:
            x = float(cell)
        except ValueError:
            raise UserError(f"{file}: line {n}: {column} = {cell!r}: not a number") from None
        if math.isfinite(x):
            vals.append(x)
    if len(vals) < 3 or min(vals) == max(vals):
        raise UserError(f"{file}: --column = {column!r}: needs at least 3 distinct finite numbers, has {len(vals)}")
    return vals


def fit_families(x: Any) -> list[dict[str, Any]]:
    """Maximum-likelihood fits of mcroi's continuous families to data ``x`` (n,), best AIC first.

    Each result holds ``family``, ``params`` (the TOML parameters), ``k`` (free parameters),
    ``loglik`` and ``aic = 2k - 2 loglik``. Families whose support cannot hold the data are skipped.
    """
    import numpy as np
    from scipy import stats

    x = np.asarray(x, dtype=float)
    lo, hi = float(x.min()), float(x.max())
    span = hi - lo
    out: list[dict[str, Any]] = []

    def add(family: str, params: dict[str, float], k: int, logpdf: Any) -> None:
        ll = float(np.sum(logpdf))
        if math.isfinite(ll):
            out.append({"family": family, "params": params, "k": k, "loglik": ll, "aic": 2 * k - 2 * ll})

    mu, sd = stats.norm.fit(x)
    add("normal", {"mean": mu, "sd": sd}, 2, stats.norm.logpdf(x, mu, sd))
    if lo > 0:
        s, _, scale = stats.lognorm.fit(x, floc=0)
        add("lognormal", {"median": scale, "gsd": math.exp(s)}, 2, stats.lognorm.logpdf(x, s, 0, scale))
    # uniform / triangular / beta: MLE support slightly wider than the data (the MLE on the data's own
    # range puts zero density at the extremes)
    pad = span / (len(x) - 1)
    a, b = lo - pad, hi + pad
    add("uniform", {"min": a, "max": b}, 2, stats.uniform.logpdf(x, a, b - a))
    c, loc, scale = stats.triang.fit(x, floc=a, fscale=b - a)
    add("triangular", {"min": a, "mode": a + c * scale, "max": b}, 3, stats.triang.logpdf(x, c, a, b - a))
    with np.errstate(all="ignore"):
        al, be, _, _ = stats.beta.fit(x, floc=a, fscale=b - a)
    add("beta", {"alpha": al, "beta": be, "min": a, "max": b}, 4, stats.beta.logpdf(x, al, be, a, b - a))
    out.sort(key=lambda r: r["aic"])
    return out


def _toml_line(key: str, r: dict[str, Any], source: str) -> str:
    params = ", ".join(f"{k} = {v:.6g}" for k, v in r["params"].items())
    return f'{key} = {{ dist = "{r["family"]}", {params}, source = "{source}" }}'


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

    x = _read_column(file, column)
    results = fit_families(np.asarray(x))
    best = results[0]["aic"]
    click.echo(f"{file} column {column!r}: n = {len(x)}, min {min(x):.4g}, median {float(np.median(x)):.4g}, max {max(x):.4g}")
    click.echo(f"  {'family':<11} {'AIC':>10} {'dAIC':>8}  TOML")
    for r in results:
        src = f"ML fit to {file.name} column {column} (n = {len(x)}, AIC {r['aic']:.1f})"
        click.echo(f"  {r['family']:<11} {r['aic']:>10.1f} {r['aic'] - best:>8.1f}  {_toml_line(key, r, src)}")
    click.echo(f'  {"empirical":<11} {"-":>10} {"-":>8}  {key} = {{ dist = "empirical", file = "{file.name}", column = "{column}", source = "..." }}')
    click.echo("dAIC < 2: about as good as the best; > 10: clearly worse. Paths in empirical are relative to the priors file.")


__all__ = ["priors", "fit_families", "is_layer", "LAYER_DIRS"]
