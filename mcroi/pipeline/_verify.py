"""``verify``: check a run folder against its own manifest, bit for bit.

The checks, in order: the priors stored in the manifest hash to the recorded sha256; the priors
files, where they are found next to the run, still resolve to it; ``results.nc`` holds the draws
the manifest promises; the draws recomputed in the engine tile that produced them are
bit-identical (a run that keeps every draw stores only its headline outputs: reading it
recomputes every draw and checks it against the sha256 the run recorded, see
:meth:`mcroi.runs.RunFolder.dataset`; ``--sample`` then also recomputes draws tile by tile);
``summary.json`` matches the statistics of the draws. Each check is a
:class:`Check`; :func:`verify` returns them all in a :class:`VerifyReport`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from mcroi import analysis, engine, priors, runs
from mcroi.engine import SCALAR_OUTPUTS


@dataclass(frozen=True)
class Check:
    """One check: ``status`` is ``ok``, ``diff`` (a difference) or ``note`` (nothing to check)."""

    status: str
    message: str


@dataclass
class VerifyReport:
    """What :func:`verify` checked, in order."""

    run: Path
    header: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def problems(self) -> list[Check]:
        return [c for c in self.checks if c.status == "diff"]


class _Recorder:
    def __init__(self, report: VerifyReport, on_check: Callable[[Check], None] | None) -> None:
        self.report, self.on_check = report, on_check

    def __call__(self, status: str, message: str) -> None:
        c = Check(status, message)
        self.report.checks.append(c)
        if self.on_check is not None:
            self.on_check(c)


def _find_file(name: str, run: Path) -> Path | None:
    p = Path(name)
    for cand in (p, run / p, run.parent / p, run.parent.parent / p):
        if cand.is_file():
            return cand
    return None


def _check_priors(man: dict[str, Any], ps: priors.PriorSet, run: Path, embedded: bool, rec: _Recorder) -> None:
    want = man["priors_sha256"]
    if ps.sha256() == want:
        rec("ok", f"manifest priors hash to the recorded sha256 {want[:16]}...")
    else:
        rec("diff", f"manifest priors hash to {ps.sha256()[:16]}..., the manifest records {want[:16]}... (edited?)")
    files = list(man.get("priors_files", []))
    top = _find_file(files[-1], run) if files and not embedded else None
    if embedded:
        rec("ok", "priors files not consulted (--embedded): using the priors stored in the manifest")
        return
    if top is None:
        rec(
            "ok", f"priors file {files[-1] if files else '(none)'} is not here: using the priors stored in the manifest"
        )
        return
    try:
        sha = priors.load(top).sha256()
    except priors.PriorsError as e:
        rec("diff", f"priors file {top} no longer loads: {e.lines[0]}")
        return
    if sha == want:
        rec("ok", f"priors file {top} resolves to the same sha256")
    else:
        rec(
            "diff",
            f"priors file {top} now resolves to sha256 {sha[:16]}..., the run used {want[:16]}... (changed since the run)",
        )


def _check_files(folder: runs.RunFolder, rec: _Recorder) -> None:
    """Every file the run wrote still has the sha256 the manifest recorded; files it did not write are named."""
    recorded = folder.manifest.get("files")
    if not isinstance(recorded, dict):
        rec("note", "the manifest records no file hashes (a run written before mcroi recorded them)")
        return
    now = runs.file_hashes(folder.path)
    changed = sorted(k for k, h in recorded.items() if k in now and now[k] != h)
    missing = sorted(k for k in recorded if k not in now)
    for k in changed:
        rec("diff", f"{k} changed since the run wrote it (sha256 differs)")
    for k in missing:
        rec("diff", f"{k} is missing: the run wrote it")
    if not changed and not missing:
        rec("ok", f"all {len(recorded)} files the run wrote have their recorded sha256")
    added = sorted(k for k in now if k not in recorded)
    if added:
        more = f" and {len(added) - 3} more" if len(added) > 3 else ""
        rec("note", f"files added after the run (not checked): {', '.join(added[:3])}{more}")


def _check_results(man: dict[str, Any], ds: xr.Dataset, ps: priors.PriorSet, rec: _Recorder) -> bool:
    """Whether the stored draws can be recomputed (recording what is wrong with them)."""
    if ds.attrs.get("priors_sha256", man["priors_sha256"]) != man["priors_sha256"]:
        rec("diff", "results.nc attrs priors_sha256 differs from the manifest")
    if "inputs" not in ds:
        rec("diff", "results.nc lacks the variable inputs that every run writes (deleted?): draws cannot be recomputed")
        return False
    n = int(ds.sizes.get("draw", 0))
    names = [str(x) for x in ds["input"].values]
    want = _stored_draws(man)
    if n != want or not np.array_equal(ds["draw"].values, np.arange(n)):
        rec("diff", f"results.nc holds draws 0..{n - 1}, the manifest promises draws 0..{want - 1}")
    if names != engine.stored_names(ps):
        rec("diff", f"results.nc inputs {names[:3]}... differ from the priors' inputs {ps.names[:3]}...")
        return False
    rec("ok", f"results.nc: {n:,} draws x {len(names)} inputs, hash attribute matches")
    return True


def _stored_draws(man: dict[str, Any]) -> int:
    """How many draws results.nc must hold: all of them, or a streamed run's subsample."""
    streaming = man.get("streaming")
    if (
        man.get("keep") == "summary"
        and isinstance(streaming, dict)
        and isinstance(streaming.get("subsample_draws"), int)
    ):
        return int(streaming["subsample_draws"])
    return int(man["draws"])


def _check_draws(
    man: dict[str, Any],
    ds: xr.Dataset,
    ps: priors.PriorSet,
    first: int,
    n_random: int,
    check_seed: int | None,
    rec: _Recorder,
) -> None:
    n = int(ds.sizes["draw"])
    idx, used_seed = analysis.select_indices(n, first, n_random, check_seed)
    if idx.size == 0:
        rec("note", "no draw recomputed (a sample of 0)")
        return
    # each draw is recomputed inside the engine tile that produced it (see docs/reliability.md)
    x, out = analysis.recompute(ps, man["seed"], idx, man["precision"])
    sub = ds.isel(draw=idx)
    stored = {k: sub[k].values for k in out if k in sub}
    cmp = analysis.compare_draws(idx, engine.stored_names(ps), sub["inputs"].values, stored, x, out)
    how = (
        "every stored draw"
        if idx.size == n
        else f"first {min(first, n):,} + {idx.size - min(first, n):,} at random (--check-seed {used_seed})"
    )
    n_in = sum(1 for v in cmp.variables if v.startswith("inputs["))
    if cmp.ok:
        rec(
            "ok",
            f"recomputed {idx.size:,} draws ({how}): {n_in} inputs and {len(cmp.variables) - n_in} outputs bit-identical",
        )
        return
    for m in cmp.mismatches:
        where = (
            f"first at draw {m.first_draw}: stored {m.stored!r}, recomputed {m.recomputed!r}"
            if m.first_draw >= 0
            else m.detail
        )
        rec("diff", f"{m.variable}: {m.n_different} of {m.n_checked} draws differ ({where})")


def _sample(n: int, sample: int | None, first: int | None, n_random: int | None) -> tuple[int, int]:
    """``(first, n_random)`` of the draws to recompute: every draw unless a sample is asked for."""
    if sample is not None:
        return sample - sample // 2, sample // 2
    if first is None and n_random is None:
        return n, 0
    return first or 0, n_random or 0


def _same_json(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_json(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return bool(a == b)


def _check_summary(folder: runs.RunFolder, ds: xr.Dataset, ps: priors.PriorSet, rec: _Recorder) -> None:
    if folder.summary is None:
        return
    if folder.manifest.get("keep") == "summary":
        rec(
            "note",
            f"summary.json streams all {folder.manifest['draws']:,} draws and results.nc keeps "
            f"{ds.sizes['draw']:,}: the summary is not recomputed from the kept draws",
        )
        return
    outputs = {k: ds[k].values for k in SCALAR_OUTPUTS if k in ds}
    if len(outputs) != len(SCALAR_OUTPUTS):
        return
    summary = analysis.summarize(outputs, list(SCALAR_OUTPUTS), int(ps.horizon_months))
    names = [str(x) for x in ds["input"].values]
    if "market_check" in folder.summary:  # else a summary written before the market check: plain statistics
        summary = analysis.finish_summary(summary, names, np.asarray(ds["inputs"].values))
    full = json.loads(runs.dumps(summary))
    keys = [k for k in ("outputs", "risk", "draws", "market_check") if k in full]
    differ = [k for k in keys if not _same_json(full[k], folder.summary.get(k))]
    if "capital" in folder.summary and "annual_dscr" in ds:  # at the covenant the manifest records
        covenant = folder.manifest.get("covenant", analysis.DEFAULT_COVENANT)
        cap = analysis.capital_summary({**outputs, "annual_dscr": ds["annual_dscr"].values}, covenant)
        differ += [] if _same_json(json.loads(runs.dumps(cap)), folder.summary["capital"]) else ["capital"]
    if not differ:
        rec("ok", "summary.json (statistics and risk) matches the stored draws")
    else:
        rec("diff", f"summary.json differs from the stored draws in: {', '.join(differ)}")


def verify(
    run: str | Path,
    *,
    sample: int | None = None,
    first: int | None = None,
    n_random: int | None = None,
    check_seed: int | None = None,
    embedded: bool = False,
    on_header: Callable[[str], None] | None = None,
    on_check: Callable[[Check], None] | None = None,
) -> VerifyReport:
    """Check the run folder ``run`` against its own manifest; see the module docstring.

    Parameters
    ----------
    run
        A folder written by ``mcroi simulate``.
    sample
        Recompute only ``sample`` draws, a quick check: the first half of them from draw 0 on,
        the rest at random (picked with ``check_seed``). Default: every stored draw.
    first, n_random, check_seed
        Or choose the sample exactly: draws ``0 .. first - 1`` and ``n_random`` others picked with
        ``check_seed`` (default: a fresh seed, reported in the check's message).
    embedded
        Use only the priors stored in the manifest, even where the priors files exist.
    on_header
        Called with the one-line description of the run before the checks start.
    on_check
        Called with each :class:`Check` as soon as it is made (progress for long checks).

    Raises
    ------
    mcroi.runs.RunFolderError
        When the folder cannot be read as a run (one line naming the file).
    mcroi.PriorsError
        When the manifest's stored priors are malformed.
    """
    folder = runs.read_run(run)
    man = folder.manifest
    if folder.kind != "simulate":
        raise runs.RunFolderError(
            f"{folder.path}: a compare run; verify checks simulate runs: verify each scenario's own simulate run"
        )
    if not isinstance(man.get("priors_sha256"), str):
        raise runs.RunFolderError(
            f"{folder.path / 'manifest.json'}: priors_sha256 = (missing): the manifest lacks a key verify needs"
        )
    versions = man.get("versions", {})
    header = (
        f"{folder.path}: {man['draws']:,} draws, seed {man['seed']}, {man['precision']}, "
        f"mcroi {versions.get('mcroi', '?')}, jax {versions.get('jax', '?')} on {man.get('backend', '?')}"
    )
    report = VerifyReport(folder.path, header)
    if on_header is not None:
        on_header(header)
    rec = _Recorder(report, on_check)
    ps = priors.from_resolved(man["priors"], man.get("priors_files", ()), where=str(folder.path / "manifest.json"))
    _check_priors(man, ps, folder.path, embedded, rec)
    _check_files(folder, rec)
    try:
        ds = folder.dataset()
    except runs.RunFolderError as e:
        rec("diff", str(e).removeprefix(f"{folder.results_path}: "))
        return report
    if _check_results(man, ds, ps, rec):
        if folder.recomputed is not None:
            r = folder.recomputed
            rec(
                "ok",
                f"recomputed all {r['draws']:,} draws from the seed: {r['stored']} stored outputs bit-identical, "
                f"{r['variables']} per-draw variables match the sha256 the run recorded",
            )
        if folder.recomputed is None or (sample, first, n_random) != (None, None, None):
            # a stored run: recompute its draws; a recomputed one: a sample asked for, by the tile route
            head, rand = _sample(int(ds.sizes["draw"]), sample, first, n_random)
            _check_draws(man, ds, ps, head, rand, check_seed, rec)
        _check_summary(folder, ds, ps, rec)
    return report
