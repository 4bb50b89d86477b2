"""Decision analytics on a run folder: value of information, stress, reverse stress, goal seek.

Each function reads a run folder (simulate or compare), computes from its stored draws (goal seek
re-evaluates the same draws in the engine), returns a JSON-able dict and, unless ``write=False``,
merges it into its file in the run folder (``voi.json``, ``stress.json``, ``reverse-stress.json``,
``goal.json``, with ``voi.png`` and ``stress.png``), written atomically; the run's own files are
never touched. Bad options raise :class:`mcroi.analysis.StressError` naming the option and value.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from mcroi import analysis, engine, priors, report, runs
from mcroi.analysis import StressError
from mcroi.engine import OUTPUTS, SCALAR_OUTPUTS

#: Outputs described by stress and reverse stress (those a run holds with a finite draw).
DECISION_OUTPUTS = ("npv_usd", "irr_annual", "payback_months", "roi_multiple", "cost_per_mtok_usd", "min_dscr",
                    "equity_npv_usd")  # fmt: skip
FILES = report.DECISION_FILES


# --------------------------------------------------------------------------- reading


def _open(run: str | Path) -> tuple[runs.RunFolder, xr.Dataset]:
    folder = runs.read_run(run)
    return folder, folder.dataset()


def _platforms(ds: xr.Dataset) -> list[str] | None:
    return [str(p) for p in ds["platform"].values] if "platform" in ds.dims else None


def _select(folder: runs.RunFolder, ds: xr.Dataset, platform: str | None) -> tuple[str | None, xr.Dataset]:
    """The platform's slice of a compare run (default its baseline); a simulate run as it is."""
    names = _platforms(ds)
    if names is None:
        if platform is not None:
            raise StressError("platform", platform, "this is a simulate run; --platform applies to compare runs")
        return None, ds
    want = platform if platform is not None else str(ds.attrs.get("baseline", names[0]))
    if want not in names:
        raise StressError("platform", want, f"not a platform of this run ({', '.join(names)})")
    return want, ds.sel(platform=want)


def _varying(ds: xr.Dataset) -> tuple[list[str], np.ndarray]:
    """The stored inputs that vary over the draws (no NaN), and their draws (n, k)."""
    names = [str(n) for n in ds["input"].values]
    x = ds["inputs"].transpose("draw", "input").values.astype(float)
    keep = [j for j in range(len(names)) if _varies(x[:, j])]
    return [names[j] for j in keep], x[:, keep]


def _varies(col: np.ndarray) -> bool:
    if not np.isfinite(col).all():
        return False
    scale = max(1.0, float(np.abs(col).max()))
    return float(np.ptp(col)) > 1e-12 * scale


def _outputs(ds: xr.Dataset) -> dict[str, np.ndarray]:
    """The decision outputs as every summary counts them (a total-loss IRR is -100 %)."""
    out: dict[str, np.ndarray] = {}
    for k in DECISION_OUTPUTS:
        if k not in ds:
            continue
        v = ds[k].values.astype(float)
        if k in ("irr_annual", "equity_irr_annual"):
            v = np.asarray(engine.irr_for_summaries(v, ds["net_roi"].values, np))
        if k == "min_dscr" and not np.isfinite(v).any():
            continue  # no debt: every draw is +inf
        if k == "equity_npv_usd" and "npv_usd" in out and np.array_equal(v, out["npv_usd"]):
            continue  # no debt: the equity's NPV is the project's
        out[k] = v
    return out


def _mean_ok() -> list[str]:
    return [k for k in DECISION_OUTPUTS if OUTPUTS[k].mean_is_headline]


def _check_input(name: str, names: list[str], what: str = "a varying input of this run", option: str = "input") -> None:
    if name not in names:
        near = ", ".join(names[:8]) + (" ..." if len(names) > 8 else "")
        raise StressError(option, name, f"not {what} (inputs: {near})")


# --------------------------------------------------------------------------- writing


def _write_json(run: Path, key: str, doc: dict[str, Any], entry: str | None = None) -> Path:
    """Write ``doc`` into ``run/FILES[key]`` atomically; with ``entry``, merged under that key."""
    path = run / FILES[key]
    man = json.loads((run / "manifest.json").read_text())
    if isinstance(man.get("files"), dict) and FILES[key] in man["files"]:
        raise StressError("run", str(run), f"{FILES[key]} is one of the run's own files: not overwritten")
    body = doc
    if entry is not None:
        old: Any = {}
        if path.is_file():
            try:
                old = json.loads(path.read_text())
            except ValueError:
                old = {}
        body = old if isinstance(old, dict) else {}
        body[entry] = doc
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        tmp.write_text(runs.dumps(body))
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _save_png(fig: Any, path: Path) -> None:
    import matplotlib.pyplot as plt

    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        fig.savefig(tmp, format="png", dpi=130)
        tmp.replace(path)
    finally:
        plt.close(fig)
        tmp.unlink(missing_ok=True)


# --------------------------------------------------------------------------- value of information


def _compare_features(ds: xr.Dataset, names: list[str]) -> dict[str, np.ndarray]:
    """Per input, its draws under each platform where it varies; identical rank orders kept once."""
    feats = {}
    for name in [str(n) for n in ds["input"].values]:
        cols: list[np.ndarray] = []
        for p in names:
            col = ds["inputs"].sel(platform=p, input=name).values.astype(float)
            if _varies(col) and not any(np.array_equal(np.argsort(col), np.argsort(c)) for c in cols):
                cols.append(col)
        if cols:
            feats[name] = np.column_stack(cols)
    return feats


def value_of_information(
    run: str | Path,
    *,
    or_nothing: bool = False,
    folds: int = analysis.VOI_FOLDS,
    studies: Sequence[tuple[str, float]] = (),
    write: bool = True,
) -> dict[str, Any]:
    """EVPI and EVPPI per input and per group of the run's decision (see :mod:`mcroi.analysis._voi`).

    A simulate run's decision is build or not (net benefit ``max(NPV, 0)``); a compare run's is
    which platform to build (``or_nothing`` adds "build nothing" at NPV 0). ``studies`` are
    ``(input, error SD)`` pairs: the EVSI of a study that measures the input with that normal error
    (e.g. a load test measuring utilization to +-0.05). Returns the
    ``voi.json`` document; writes it and ``voi.png`` into the run folder unless ``write=False``.
    """
    t0 = time.perf_counter()
    folder, ds = _open(run)
    names = _platforms(ds)
    if names is None:
        npv = ds["npv_usd"].values.astype(float)
        nb, decisions = np.column_stack([np.zeros_like(npv), npv]), ["do not build", "build"]
        feat_names, x = _varying(ds)
        feats = {n: x[:, j] for j, n in enumerate(feat_names)}
        decision = "build or not (net benefit max(NPV, 0))"
    else:
        nb = ds["npv_usd"].transpose("draw", "platform").values.astype(float)
        decisions = list(names)
        if or_nothing:
            nb, decisions = np.column_stack([np.zeros(nb.shape[0]), nb]), ["build nothing", *names]
        feats = _compare_features(ds, names)
        decision = "which platform to build" + (" (or nothing)" if or_nothing else "")
    if not np.isfinite(nb).all():
        raise StressError("run", str(folder.path), "NPV has non-finite draws: value of information needs finite ones")
    for name, sd in studies:
        _check_input(name, list(feats), option="study")
        if not sd > 0:
            raise StressError("study", f"{name}:{sd:g}", "the study's error SD must be > 0")
    res = analysis.value_of_information(nb, decisions, feats, folds=folds)
    doc = _voi_doc(res, decision, folds, time.perf_counter() - t0)
    evppi = {v.name: v.value for v in res.inputs}
    doc["studies"] = []
    for i, (n, sd) in enumerate(studies):
        st = {**asdict(analysis.study_value(nb, feats[n], sd, name=n, seed=i, folds=folds)), "error_sd": sd}
        # a study is worth at most perfect information on what it measures: two estimates within
        # their SEs of each other may cross, the answer may not
        st["value"] = min(st["value"], evppi[n])
        doc["studies"].append(st)
    if write:
        _write_json(folder.path, "voi", doc)
        _save_png(report.voi_figure(doc), folder.path / "voi.png")
    return doc


def _voi_doc(res: analysis.VoiResult, decision: str, folds: int, seconds: float) -> dict[str, Any]:
    def row(v: analysis.Value) -> dict[str, Any]:
        return {k: (list(x) if isinstance(x, tuple) else x) for k, x in asdict(v).items()}

    return {
        "decision": decision,
        "decisions": res.decisions,
        "best": res.best,
        "expected_npv_usd": res.expected,
        "draws": res.draws,
        "evpi": row(res.evpi),
        "inputs": sorted((row(v) for v in res.inputs), key=lambda r: -r["value"]),
        "groups": sorted((row(v) for v in res.groups), key=lambda r: -r["value"]),
        "folds": folds,
        "runtime_s": round(seconds, 2),
        "method": (
            "EVPI = E[max_d NB_d] - max_d E[NB_d] over the stored draws, SE = sd / sqrt(n). EVPPI: E[NB | input] learned "
            "by the regression method of Strong, Oakley and Brennan (2014), a penalized cubic spline on the input's normal "
            "rank scores (GCV; groups additive plus pairwise products), and the value of the decision rule it implies "
            f"measured on the observed net benefits with {folds}-fold cross-fitting, SE = sd / sqrt(n). Net benefit is "
            "NPV; all values in USD."
        ),
    }


# --------------------------------------------------------------------------- stress


def stress(
    run: str | Path,
    *,
    input: str | None = None,
    band: tuple[float, float] | None = None,
    platform: str | None = None,
    write: bool = True,
) -> dict[str, Any]:
    """Outputs with ``input`` held to its ``band`` percentiles (e.g. ``(0, 10)``), and every input's
    low and high band for the chart. Returns the ``stress.json`` document (bands merged with earlier
    calls' when written); writes it and ``stress.png`` unless ``write=False``."""
    folder, ds_all = _open(run)
    label, ds = _select(folder, ds_all, platform)
    names, x = _varying(ds)
    outs = _outputs(ds)
    doc: dict[str, Any] = {"platform": label, "low": list(analysis.LOW_BAND), "high": list(analysis.HIGH_BAND)}
    doc["all"] = analysis.describe_weighted(outs["npv_usd"])
    doc["every"] = analysis.every_band(x, names, outs["npv_usd"])
    bands = {}
    if input is not None:
        _check_input(input, names)
        lo, hi = band if band is not None else analysis.LOW_BAND
        key = f"{input} in its {lo:g}-{hi:g} percentile band" + (f" ({label})" if label else "")
        bands[key] = analysis.band_stress(x[:, names.index(input)], outs, lo, hi, mean_ok=_mean_ok())
    if write:
        path = folder.path / FILES["stress"]
        old = _read_json(path)
        doc["bands"] = {**(old.get("bands", {}) if isinstance(old, dict) else {}), **bands}
        _write_json(folder.path, "stress", doc)
        _save_png(report.stress_figure(doc), folder.path / "stress.png")
    else:
        doc["bands"] = bands
    doc["this"] = next(iter(bands), None)
    return doc


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text()) if path.is_file() else {}
    except ValueError:
        return {}


# --------------------------------------------------------------------------- reverse stress


def reverse_stress(
    run: str | Path, target: str, *, platform: str | None = None, n_boot: int = 100, write: bool = True
) -> dict[str, Any]:
    """Reweight the stored draws, as little as possible, to meet ``target`` (e.g. ``"P(npv_usd < 0) = 20%"``).

    Returns the entry (stressed inputs in SDs and percentiles, reweighted outputs, effective
    sample size, bootstrap SEs) and merges it into ``reverse-stress.json`` unless ``write=False``.
    """
    t = analysis.parse_target(target)
    folder, ds_all = _open(run)
    label, ds = _select(folder, ds_all, platform)
    names, x = _varying(ds)
    outs = _outputs(ds)
    if t.output not in outs:
        if t.output in names:
            outs[t.output] = x[:, names.index(t.output)]
        else:
            raise StressError("target", target, f"{t.output} is not an output or varying input of this run")
    rs = analysis.reverse_stress(x, names, outs, t, n_boot=n_boot)
    doc = {
        "target": t.label(),
        "platform": label,
        "lambda": rs.lam,
        "ess": rs.ess,
        "draws": rs.draws,
        "achieved": rs.achieved,
        "inputs": rs.inputs,
        "outputs": rs.outputs,
        "n_boot": n_boot,
    }
    if write:
        _write_json(folder.path, "reverse", doc, entry=t.label() + (f" ({label})" if label else ""))
    return doc


# --------------------------------------------------------------------------- goal seek


def _scenario_priors(folder: runs.RunFolder, label: str | None) -> priors.PriorSet:
    doc = folder.priors_doc(label)
    if doc is None:
        raise StressError("run", str(folder.path), "the manifest lacks the resolved priors goal seek re-evaluates")
    return priors.from_resolved(doc, where=str(folder.path / "manifest.json"))


def goal_seek(
    run: str | Path,
    input: str,
    target: str,
    *,
    platform: str | None = None,
    mode: str = "auto",
    write: bool = True,
) -> dict[str, Any]:
    """The value of ``input`` at which ``target`` holds (e.g. ``"P(npv_usd < 0) <= 10%"``), solved on the
    run's own draws re-evaluated with the input shifted (common random numbers), with its MC error.

    ``mode``: ``add`` moves every draw of the input by the same amount, ``scale`` multiplies them
    (the spread moves with the level, and a positive input stays positive); ``auto``: ``scale`` for an
    uncertain input whose draws are all positive, else ``add`` (for a constant both are the same).
    Returns the entry and merges it into ``goal.json`` unless ``write=False``.
    """
    t0 = time.perf_counter()
    t = analysis.parse_target(target)
    if t.output not in SCALAR_OUTPUTS:
        raise StressError("target", target, f"{t.output} is not a scalar output ({', '.join(DECISION_OUTPUTS)}, ...)")
    folder, ds_all = _open(run)
    label, ds = _select(folder, ds_all, platform)
    ps = _scenario_priors(folder, label)
    _check_input(input, list(ps.names), "an input of this scenario's priors")
    man = folder.manifest
    n = int(ds.sizes["draw"])
    if mode not in ("auto", *engine.SHIFT_MODES):
        raise StressError("mode", mode, "give add, scale or auto")
    want = [t.output, "net_roi"] if t.output in ("irr_annual", "equity_irr_annual") else [t.output]

    def evaluate(shift: float) -> np.ndarray:
        out = engine.shifted_outputs(ps, int(man["seed"]), n, input, shift, want, mode=mode, precision=man["precision"])
        y = out[t.output].astype(float)
        return np.asarray(engine.irr_for_summaries(y, out["net_roi"], np)) if len(want) == 2 else y

    x = ds["inputs"].sel(input=input).values.astype(float)
    if mode == "auto":
        mode = "scale" if _varies(x) and bool((x > 0).all()) else "add"
    res = analysis.goal_seek(evaluate, t, input_name=input, x=x, mode=mode)
    stored = t.statistic(_stored_output(ds, t.output))
    doc = {**asdict(res), "platform": label, "draws": n, "stored_statistic": stored}
    doc["runtime_s"] = round(time.perf_counter() - t0, 2)
    if not math.isclose(res.base_statistic, stored, rel_tol=1e-9, abs_tol=1e-12 * max(1.0, abs(stored))):
        doc["note"] = f"re-evaluated statistic {res.base_statistic!r} differs from the stored draws' {stored!r}"
    if write:
        _write_json(folder.path, "goal", doc, entry=f"{input}: {t.label()}" + (f" ({label})" if label else ""))
    return doc


def _stored_output(ds: xr.Dataset, name: str) -> np.ndarray:
    v = ds[name].values.astype(float)
    if name in ("irr_annual", "equity_irr_annual"):
        return np.asarray(engine.irr_for_summaries(v, ds["net_roi"].values, np))
    return v
