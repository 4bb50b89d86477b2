"""``mcroi verify RUN``: check a run folder against its own manifest, bit for bit.

Exit 0 when everything checked matches, 1 on any difference, 2 when the folder cannot be read
as a run (one line naming the file).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import click

from mcroi.cli._main import UserError, setup_jax, user_errors


def _read_manifest(run: Path) -> dict[str, Any]:
    man = run / "manifest.json"
    if not run.is_dir():
        raise UserError(f"{run}: not a run folder (no such directory)")
    if not man.is_file():
        raise UserError(f"{man}: file not found; a run folder holds manifest.json and results.nc")
    try:
        doc = json.loads(man.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UserError(f"{man}: not valid JSON ({e})") from None
    for key in ("seed", "draws", "precision", "priors", "priors_sha256"):
        if key not in doc:
            raise UserError(f"{man}: {key} = (missing): the manifest lacks a key verify needs")
    if (
        not isinstance(doc["seed"], int)
        or not isinstance(doc["draws"], int)
        or doc["precision"] not in ("float64", "float32")
    ):
        raise UserError(
            f"{man}: seed/draws/precision = {doc['seed']!r}/{doc['draws']!r}/{doc['precision']!r}: not a valid run setting"
        )
    return doc


def _find_file(name: str, run: Path) -> Path | None:
    p = Path(name)
    for cand in (p, run / p, run.parent / p, run.parent.parent / p):
        if cand.is_file():
            return cand
    return None


@click.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--first", type=click.IntRange(min=0), default=1000, show_default=True, help="Check draws 0 .. FIRST-1.")
@click.option(
    "--random",
    "n_random",
    type=click.IntRange(min=0),
    default=1000,
    show_default=True,
    help="Also check this many other draws at random.",
)
@click.option(
    "--check-seed",
    type=click.IntRange(min=0),
    default=None,
    help="Seed that picks the random draws (printed; default: fresh).",
)
@click.option(
    "--embedded", is_flag=True, help="Use only the priors stored in the manifest, even if the priors files exist here."
)
@user_errors
def verify(run: Path, first: int, n_random: int, check_seed: int | None, embedded: bool) -> None:
    """Re-check RUN: priors hash, and recompute draws bit for bit against results.nc."""
    man = _read_manifest(run)
    nc = run / "results.nc"
    if not nc.is_file():
        raise UserError(f"{nc}: file not found; a run folder holds manifest.json and results.nc")
    setup_jax("float64")
    import numpy as np
    import xarray as xr

    from mcroi import analysis, priors

    problems: list[str] = []

    def ok(msg: str) -> None:
        click.echo(f"  ok    {msg}")

    def bad(msg: str) -> None:
        problems.append(msg)
        click.echo(f"  DIFF  {msg}")

    versions = man.get("versions", {})
    click.echo(
        f"{run}: {man['draws']:,} draws, seed {man['seed']}, {man['precision']}, "
        f"mcroi {versions.get('mcroi', '?')}, jax {versions.get('jax', '?')} on {man.get('backend', '?')}"
    )
    # 1. the priors stored in the manifest rebuild to the recorded hash
    ps = priors.from_resolved(man["priors"], man.get("priors_files", ()), where=str(run / "manifest.json"))
    if ps.sha256() == man["priors_sha256"]:
        ok(f"manifest priors hash to the recorded sha256 {man['priors_sha256'][:16]}...")
    else:
        bad(
            f"manifest priors hash to {ps.sha256()[:16]}..., the manifest records {man['priors_sha256'][:16]}... (edited?)"
        )
    # 2. the priors files, where they exist here, still resolve to the same priors
    files = list(man.get("priors_files", []))
    top = _find_file(files[-1], run) if files and not embedded else None
    if embedded:
        ok("priors files not consulted (--embedded): using the priors stored in the manifest")
    elif top is None:
        ok(f"priors file {files[-1] if files else '(none)'} is not here: using the priors stored in the manifest")
    else:
        try:
            sha = priors.load(top).sha256()
        except priors.PriorsError as e:
            bad(f"priors file {top} no longer loads: {e.lines[0]}")
        else:
            if sha == man["priors_sha256"]:
                ok(f"priors file {top} resolves to the same sha256")
            else:
                bad(
                    f"priors file {top} now resolves to sha256 {sha[:16]}..., the run used {man['priors_sha256'][:16]}... (changed since the run)"
                )

    # 3. results.nc
    try:
        ds = xr.load_dataset(nc, engine="h5netcdf")
    except Exception as e:  # noqa: BLE001 - any unreadable file is a user-facing error
        raise UserError(f"{nc}: cannot be read as a run ({type(e).__name__}: {e})") from None
    if ds.attrs.get("priors_sha256", man["priors_sha256"]) != man["priors_sha256"]:
        bad("results.nc attrs priors_sha256 differs from the manifest")
    if "inputs" not in ds:
        click.echo("  note  results.nc holds no per-draw data (summary-only run): draws cannot be recomputed")
        _finish(problems)
        return
    n = int(ds.sizes.get("draw", 0))
    names = [str(x) for x in ds["input"].values]
    if n != man["draws"] or not np.array_equal(ds["draw"].values, np.arange(n)):
        bad(f"results.nc holds draws 0..{n - 1}, the manifest says {man['draws']}")
    if names != ps.names:
        bad(f"results.nc inputs {names[:3]}... differ from the priors' inputs {ps.names[:3]}...")
        _finish(problems)
        return
    ok(f"results.nc: {n:,} draws x {len(names)} inputs, hash attribute matches")

    # 4. recompute draws
    idx, used_seed = analysis.select_indices(n, first, n_random, check_seed)
    if idx.size == 0:
        _finish(problems)
        return
    # each draw is recomputed inside the engine tile that produced it (see docs/reliability.md)
    x, out = analysis.recompute(ps, man["seed"], idx, man["precision"])
    sub = ds.isel(draw=idx)
    stored = {k: sub[k].values for k in out if k in sub}
    cmp = analysis.compare_draws(idx, ps.names, sub["inputs"].values, stored, x, out)
    how = f"first {min(first, n):,} + {idx.size - min(first, n):,} at random (--check-seed {used_seed})"
    n_in = sum(1 for v in cmp.variables if v.startswith("inputs["))
    if cmp.ok:
        ok(
            f"recomputed {idx.size:,} draws ({how}): {n_in} inputs and {len(cmp.variables) - n_in} outputs bit-identical"
        )
    else:
        for m in cmp.mismatches:
            where = (
                f"first at draw {m.first_draw}: stored {m.stored!r}, recomputed {m.recomputed!r}"
                if m.first_draw >= 0
                else m.detail
            )
            bad(f"{m.variable}: {m.n_different} of {m.n_checked} draws differ ({where})")

    # 5. the summary matches the stored draws
    summ = run / "summary.json"
    if summ.is_file():
        from mcroi import analysis, runs
        from mcroi.engine import SCALAR_OUTPUTS

        outputs = {k: ds[k].values for k in SCALAR_OUTPUTS if k in ds}
        if len(outputs) == len(SCALAR_OUTPUTS):
            again = json.loads(
                runs.dumps(analysis.summarize(outputs, list(SCALAR_OUTPUTS), int(ps.horizon_months))["outputs"])
            )
            stored_summary = json.loads(summ.read_text()).get("outputs")
            if _same_json(again, stored_summary):
                ok("summary.json matches the statistics of the stored draws")
            else:
                bad("summary.json differs from the statistics of the stored draws")
    _finish(problems)


def _same_json(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_json(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return bool(a == b)


def _finish(problems: list[str]) -> None:
    if problems:
        click.echo(f"FAILED: {len(problems)} difference(s)", err=True)
        raise SystemExit(1)
    click.echo("verified: every check matched")
