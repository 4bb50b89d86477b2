"""``compare``: several scenarios on common random numbers, one Dataset on a ``platform`` dimension.

The statistics are :mod:`mcroi.analysis`'s; this module runs the engine for each scenario and
stacks the results (see :mod:`mcroi.runs` for the folder).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from mcroi import analysis, engine, report
from mcroi import runs as run_folder
from mcroi.analysis import (
    DEFAULT_COVENANT,
    DOMINANCE_ALPHA,
    INDEPENDENT_DRAWS,
    baseline_index,
    capital_summary,
    capital_versus,
    check_covenant,
    combined_sha256,
    platform_labels,
    platform_summary,
    versus,
)
from mcroi.pipeline._simulate import backend_info, load_priors, versions
from mcroi.priors import CONTRACT_VERSION, PriorSet


def compare(
    priors_list: Sequence[str | PriorSet],
    *,
    baseline: str | int | None = None,
    draws: int = 100_000,
    seed: int = 0,
    chunk_size: int = engine.DEFAULT_CHUNK,
    precision: str = "float64",
    independent_draws: int | None = None,
    alpha: float = DOMINANCE_ALPHA,
    on_platform: Callable[[int, str], None] | None = None,
    command: str | None = None,
    covenant: float = DEFAULT_COVENANT,
) -> xr.Dataset:
    """Simulate scenarios on common random numbers and compare them with a baseline.

    Parameters
    ----------
    priors_list
        Two or more priors files, library names or :class:`PriorSet` objects.
    baseline
        The platform to compare against: a platform label (scenario name), the path as given,
        its file stem, or an index; default the first.
    draws, seed, chunk_size, precision
        As :func:`mcroi.simulate`; the same seed for every scenario.
    independent_draws
        Extra draws ``m`` (default ``min(draws, 100_000)``; 0 turns the check off) evaluated for
        every platform at draw indices ``draws .. draws + m - 1`` and not stored. A platform's
        extra draws are independent of the baseline's draws ``0 .. m - 1`` (other counters of the
        keyed generator), so the pair measures the SE of the NPV difference that an
        independent-seed run would have.
    alpha
        Level of the dominance tolerance (:func:`dominance_tolerance`).
    on_platform
        Called as ``on_platform(index, label)`` before each scenario is simulated.
    covenant
        The loan's minimum DSCR: each platform's ``capital`` block counts P(min DSCR < covenant).

    Returns
    -------
    xarray.Dataset
        Every per-draw variable of a simulate run with a leading ``platform`` dimension
        (``(platform, draw)``, ``(platform, draw, year)``, ``inputs`` on ``(platform, draw,
        input)``); ``input`` is the union of the scenarios' inputs (NaN where a scenario lacks
        one) and ``year`` the longest horizon (NaN past a shorter one). ``attrs["summary"]`` and
        ``attrs["manifest"]`` hold JSON text.
    """
    if len(priors_list) < 2:
        raise ValueError(f"compare needs at least two scenarios, got {len(priors_list)}")
    if draws < 2:
        raise ValueError("draws must be >= 2")
    sets = [load_priors(p) for p in priors_list]
    sources = ["" if isinstance(p, PriorSet) else str(p) for p in priors_list]
    labels = platform_labels([ps.name for ps in sets])
    ib = baseline_index(baseline, labels, sources)
    m = min(draws, INDEPENDENT_DRAWS) if independent_draws is None else max(0, int(independent_draws))
    # every platform keeps every draw: refuse before sampling when they (or one chunk) would not fit
    n_inputs = sum(len(ps.names) for ps in sets)
    engine.check_memory(draws, n_inputs, max(ps.horizon_months for ps in sets), precision, chunk_size, total=draws)
    covenant = check_covenant(covenant)

    results, independent = _simulate_each(sets, labels, ib, draws, m, seed, chunk_size, precision, on_platform)
    summary = _summary(sets, labels, ib, results, independent, m, draws, seed, alpha)
    _add_capital(summary, labels, ib, results, covenant)
    settings = {
        "seed": seed,
        "draws": draws,
        "precision": precision,
        "chunk_size": chunk_size,
        "independent_draws": m,
        "dominance_alpha": alpha,
        "covenant": covenant,
    }
    manifest = _manifest(sets, labels, ib, sources, results, settings, command)
    ds = run_folder.compare_dataset(sets, labels, results)
    ds.attrs.update(
        {
            "kind": "compare",
            "scenario": " vs ".join(labels),
            "baseline": labels[ib],
            "seed": seed,
            "draws": draws,
            "precision": precision,
            "contract_version": CONTRACT_VERSION,
            "priors_sha256": manifest["priors_sha256"],
            "mcroi_version": manifest["versions"]["mcroi"],
        }
    )
    ds.attrs["summary"] = run_folder.dumps(summary)
    ds.attrs["manifest"] = run_folder.dumps(manifest)
    return ds


def _simulate_each(
    sets: Sequence[PriorSet],
    labels: Sequence[str],
    ib: int,
    draws: int,
    m: int,
    seed: int,
    chunk_size: int,
    precision: str,
    on_platform: Callable[[int, str], None] | None,
) -> tuple[list[engine.RunArrays], list[dict[str, np.ndarray] | None]]:
    """Each scenario's draws ``0 .. draws - 1``, and (but for the baseline) its independent extra ``m``."""
    results: list[engine.RunArrays] = []
    independent: list[dict[str, np.ndarray] | None] = []
    for i, (ps, label) in enumerate(zip(sets, labels, strict=True)):
        if on_platform is not None:
            on_platform(i, label)
        # every platform runs the same number of draws, so the same compiled chunk shape: XLA may
        # round the last bit of an iterative output (IRR) differently for another shape, and
        # identical scenarios must give identical outputs
        arr = engine.run(ps, draws + m, seed=seed, chunk_size=chunk_size, precision=precision)
        independent.append({k: v[draws:] for k, v in arr.outputs.items()} if m and i != ib else None)
        if m:
            arr = engine.RunArrays(
                arr.names, arr.inputs[:draws], {k: v[:draws] for k, v in arr.outputs.items()}, arr.timings
            )
        results.append(arr)
    return results, independent


def _summary(
    sets: Sequence[PriorSet],
    labels: Sequence[str],
    ib: int,
    results: Sequence[engine.RunArrays],
    independent: Sequence[dict[str, np.ndarray] | None],
    m: int,
    draws: int,
    seed: int,
    alpha: float,
) -> dict[str, Any]:
    """Each platform's own statistics and its paired comparison with the baseline."""
    base_out = results[ib].outputs
    base_ind = {k: v[:m] for k, v in base_out.items()} if m else None
    per_platform = {}
    vs = {}
    for i, (ps, label, arr) in enumerate(zip(sets, labels, results, strict=True)):
        one = analysis.finish_summary(platform_summary(arr.outputs, ps.horizon_months), arr.names, arr.inputs)
        per_platform[label] = {"scenario": ps.name, **one}
        if i != ib:
            vs[label] = versus(
                arr.outputs, base_out, alpha=alpha, out_independent=independent[i], base_independent=base_ind
            )
    return {
        "kind": "compare",
        "draws": draws,
        "seed": seed,
        "baseline": labels[ib],
        "platforms": list(labels),
        "per_platform": per_platform,
        "vs_baseline": vs,
    }


def _add_capital(
    summary: dict[str, Any], labels: Sequence[str], ib: int, results: Sequence[engine.RunArrays], covenant: float
) -> None:
    """Each platform's capital block (DSCR, equity) and its paired equity statistics against the baseline."""
    for i, (label, arr) in enumerate(zip(labels, results, strict=True)):
        summary["per_platform"][label]["capital"] = capital_summary(arr.outputs, covenant)
        if i != ib:
            summary["vs_baseline"][label]["capital"] = capital_versus(arr.outputs, results[ib].outputs)


def _manifest(
    sets: Sequence[PriorSet],
    labels: Sequence[str],
    ib: int,
    sources: Sequence[str],
    results: Sequence[engine.RunArrays],
    settings: dict[str, Any],
    command: str | None,
) -> dict[str, Any]:
    """What a compare run records: its settings and every scenario's resolved priors and hash."""
    hashes = [ps.sha256() for ps in sets]
    draws, seed, precision = settings["draws"], settings["seed"], settings["precision"]
    return {
        "kind": "compare",
        "command": command or f"mcroi.compare(draws={draws}, seed={seed}, precision={precision!r})",
        **settings,
        "contract_version": CONTRACT_VERSION,
        "versions": versions(),
        **backend_info(),
        "baseline": labels[ib],
        "platforms": list(labels),
        "priors_sha256": combined_sha256(hashes),
        "scenarios": [
            {
                "platform": label,
                "scenario": ps.name,
                "source": src,
                "priors_files": list(ps.files),
                "priors_sha256": h,
                "priors": ps.resolved(),
                "timings_s": arr.timings,
            }
            for label, ps, src, h, arr in zip(labels, sets, sources, hashes, results, strict=True)
        ],
    }


def write_compare(
    ds: xr.Dataset, out: str | Path, *, force: bool = False, plots: bool = True, keep: str = "draws"
) -> Path:
    """Write a compare Dataset as a run folder at ``out``, with its plots and report unless ``plots=False``."""

    def extra(tmp: Path, body: xr.Dataset, summary: dict[str, Any]) -> None:
        if plots:
            report.compare_plots(body, summary["baseline"], tmp / "plots")
            report.write_html(tmp, tmp / "report.html", name=Path(out).name, dataset=body)

    return run_folder.write_compare(ds, out, force=force, extra=extra, keep=keep)
