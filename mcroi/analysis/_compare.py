"""Platform comparison on common random numbers.

Every scenario is simulated with the same seed. Draw ``i`` of input ``x`` depends only on
``(seed, x, i)`` (:mod:`mcroi.sampling`), so an input that two scenarios share gets identical
draws in both: shared market assumptions cancel in paired differences, and what is left is the
platforms' difference.

The statistics are small NumPy functions of per-draw arrays (``a`` is a platform, ``b`` the
baseline, both shape (draws,), paired by draw index). :func:`compare` runs the engine and puts
everything on a ``platform`` dimension; it writes nothing (see :mod:`mcroi.compare_store`).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mcroi.analysis import _summaries as summarize
from mcroi.engine import SCALAR_OUTPUTS, stored_names
from mcroi.priors import DERIVED, INPUTS, PriorSet

#: Default significance level of the first-order dominance tolerance.
DOMINANCE_ALPHA = 0.05
#: Payback thresholds (months) whose exceedance probability is reported per platform.
PAYBACK_THRESHOLDS = (24, 36)
#: Percentiles of paired differences and ratios.
PAIRED_PERCENTILES = (5, 50, 95)
#: At most this many extra draws per platform are evaluated for the independent-draws check.
INDEPENDENT_DRAWS = 100_000


# --------------------------------------------------------------------------- statistics (NumPy only)


def prob_greater(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """P(a > b) on paired draws.

    Parameters
    ----------
    a, b
        Shape (n,), paired by draw index. NaN pairs count as "not greater".

    Returns
    -------
    dict
        ``p`` = (number of draws with ``a > b``) / n, its binomial ``mcse``, and ``p_tie``
        (share of draws with ``a == b``, e.g. 1 for identical scenarios).
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    out = summarize.probability(a > b)
    out["p_tie"] = float((a == b).mean()) if a.size else math.nan
    return out


def describe_paired(x: np.ndarray, percentiles: Sequence[int] = PAIRED_PERCENTILES) -> dict[str, float]:
    """Mean, sd, MCSE of the mean and percentiles of a per-draw statistic (NaN draws dropped).

    Returns ``n_valid`` as well: the number of draws that entered (a ratio is NaN where the
    baseline's value is zero or undefined).
    """
    x = np.asarray(x, dtype=float).ravel()
    valid = x[~np.isnan(x)]
    finite = valid[np.isfinite(valid)]
    out: dict[str, float] = {"n_valid": float(valid.size), **summarize.moments(finite)}
    qs = summarize.quantile(valid, [p / 100 for p in percentiles]) if valid.size else [math.nan] * len(percentiles)
    for p, v in zip(percentiles, qs, strict=True):
        out[f"p{p}"] = float(v)
    return out


def paired_ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-draw ratio ``a / b``; NaN where either is NaN or infinite, or ``b`` is zero."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    ok = np.isfinite(a) & np.isfinite(b) & (b != 0)
    out = np.full(a.shape, np.nan)
    np.divide(a, b, out=out, where=ok)
    return out


def ecdf_gaps(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """``(max_x F_a(x) - F_b(x), max_x F_b(x) - F_a(x))`` of the empirical CDFs (NaN dropped).

    Both are >= 0 (the ECDFs agree below every sample). Evaluated at every sample point of
    both, where the supremum of a difference of step functions is attained.
    """
    a = np.sort(np.asarray(a, dtype=float)[~np.isnan(a)])
    b = np.sort(np.asarray(b, dtype=float)[~np.isnan(b)])
    if a.size == 0 or b.size == 0:
        return math.nan, math.nan
    grid = np.concatenate([a, b])
    fa = np.searchsorted(a, grid, side="right") / a.size
    fb = np.searchsorted(b, grid, side="right") / b.size
    d = fa - fb
    return max(float(d.max()), 0.0), max(float(-d.min()), 0.0)


def dominance_tolerance(n_a: int, n_b: int, alpha: float = DOMINANCE_ALPHA) -> float:
    """ECDF gap allowed as Monte Carlo noise: the one-sided two-sample KS critical value.

    ``sqrt(ln(1/alpha) (n_a + n_b) / (2 n_a n_b))`` (Smirnov's asymptotic bound
    ``P(sup(F_a - F_b) > t) <= exp(-2 t^2 n_a n_b / (n_a + n_b))`` for independent samples of one
    distribution). Common draws correlate the two samples positively, which narrows the ECDF
    difference, so on paired draws this tolerance is conservative.
    """
    if n_a < 1 or n_b < 1:
        return math.nan
    return math.sqrt(math.log(1 / alpha) * (n_a + n_b) / (2 * n_a * n_b))


def dominance(a: np.ndarray, b: np.ndarray, alpha: float = DOMINANCE_ALPHA) -> dict[str, Any]:
    """First-order stochastic dominance of ``a`` over ``b`` (higher is better, e.g. NPV).

    ``a`` dominates ``b`` when ``F_a(x) <= F_b(x)`` for every ``x``: at every threshold, ``a`` is
    at most as likely to fall below it. On samples the inequality is checked up to
    :func:`dominance_tolerance`:

    * ``"dominates"``: ``max(F_a - F_b) <= tol`` and ``max(F_b - F_a) > tol``
    * ``"dominated"``: the same with ``a`` and ``b`` swapped
    * ``"indistinguishable"``: both gaps within ``tol``
    * ``"neither"``: both gaps beyond ``tol`` (the ECDFs cross)
    """
    na = int(np.count_nonzero(~np.isnan(np.asarray(a, dtype=float))))
    nb = int(np.count_nonzero(~np.isnan(np.asarray(b, dtype=float))))
    worse, better = ecdf_gaps(a, b)
    tol = dominance_tolerance(na, nb, alpha)
    if math.isnan(tol):
        verdict = "undefined"
    elif worse <= tol and better > tol:
        verdict = "dominates"
    elif better <= tol and worse > tol:
        verdict = "dominated"
    elif worse <= tol and better <= tol:
        verdict = "indistinguishable"
    else:
        verdict = "neither"
    return {
        "verdict": verdict,
        "dominates": verdict == "dominates",
        "dominated": verdict == "dominated",
        "max_cdf_excess": worse,
        "max_cdf_deficit": better,
        "tolerance": tol,
        "alpha": alpha,
    }


def variance_reduction(
    a: np.ndarray,
    b: np.ndarray,
    a_independent: np.ndarray | None = None,
    b_independent: np.ndarray | None = None,
) -> dict[str, float]:
    """Standard error of the mean of ``a - b`` with common draws vs independent draws.

    Parameters
    ----------
    a, b
        Paired draws (common random numbers), shape (n,).
    a_independent, b_independent
        Optional draws of the same two scenarios that are independent of each other, shape (m,)
        (e.g. ``a`` at draws ``0 .. m-1`` and ``b`` at draws ``n .. n+m-1``).

    Returns
    -------
    dict
        ``se_common = sd(a - b) / sqrt(n)``; ``se_independent = sqrt((var a + var b) / n)`` (the
        exact SE for independent draws, from the same samples); ``se_independent_run =
        sd(a_ind - b_ind) / sqrt(n)`` (measured on the independent draws, scaled to ``n``) and
        ``m``; ``variance_ratio = se_independent**2 / se_common**2``: how many independent draws
        each common draw is worth for this difference (inf when the difference is constant).
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    n = a.size
    out: dict[str, float] = {"n": float(n)}
    if n < 2:
        return {**out, "se_common": math.nan, "se_independent": math.nan, "variance_ratio": math.nan}
    se_c = float(np.std(a - b, ddof=1)) / math.sqrt(n)
    se_i = math.sqrt((float(np.var(a, ddof=1)) + float(np.var(b, ddof=1))) / n)
    out["se_common"] = se_c
    out["se_independent"] = se_i
    if a_independent is not None and b_independent is not None:
        d = np.asarray(a_independent, dtype=float) - np.asarray(b_independent, dtype=float)
        d = d[np.isfinite(d)]
        out["m_independent_run"] = float(d.size)
        out["se_independent_run"] = float(np.std(d, ddof=1)) / math.sqrt(n) if d.size > 1 else math.nan
    if se_c > 0:
        out["variance_ratio"] = (se_i / se_c) ** 2
    else:
        out["variance_ratio"] = math.inf if se_i > 0 else math.nan
    return out


def payback_risk(payback_months: np.ndarray, thresholds: Sequence[int] = PAYBACK_THRESHOLDS) -> dict[str, Any]:
    """P(payback > t months) for each threshold; "never" (+inf) counts as beyond every ``t``."""
    x = np.asarray(payback_months, dtype=float)
    return {f"p_payback_over_{t}_months": summarize.probability(~(x <= t)) for t in thresholds}


def versus(
    out: Mapping[str, np.ndarray],
    base: Mapping[str, np.ndarray],
    *,
    alpha: float = DOMINANCE_ALPHA,
    out_independent: Mapping[str, np.ndarray] | None = None,
    base_independent: Mapping[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Every paired statistic of one platform against the baseline (dicts of (draws,) arrays)."""
    npv, npv_b = np.asarray(out["npv_usd"], float), np.asarray(base["npv_usd"], float)
    return {
        "p_npv_above_baseline": prob_greater(npv, npv_b),
        "npv_difference_usd": describe_paired(npv - npv_b),
        "roi_multiple_ratio": describe_paired(paired_ratio(out["roi_multiple"], base["roi_multiple"])),
        "cost_per_mtok_ratio": describe_paired(paired_ratio(out["cost_per_mtok_usd"], base["cost_per_mtok_usd"])),
        "npv_dominance": dominance(npv, npv_b, alpha),
        "npv_difference_se": variance_reduction(
            npv,
            npv_b,
            None if out_independent is None else out_independent["npv_usd"],
            None if base_independent is None else base_independent["npv_usd"],
        ),
    }


def platform_summary(outputs: Mapping[str, np.ndarray], horizon_months: int) -> dict[str, Any]:
    """simulate's summary of one platform plus P(payback > 24 / 36 months)."""
    s = summarize.summarize(outputs, list(SCALAR_OUTPUTS), horizon_months)
    s["risk"].update(payback_risk(outputs["payback_months"]))
    return s


# --------------------------------------------------------------------------- the API


def platform_labels(names: Sequence[str]) -> list[str]:
    """Unique labels from scenario names: a repeated name gets ``-2``, ``-3``, ..."""
    seen: dict[str, int] = {}
    labels = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        labels.append(n if seen[n] == 1 else f"{n}-{seen[n]}")
    return labels


def _stem(path: str) -> str:
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name else name


def baseline_index(baseline: str | int | None, labels: Sequence[str], sources: Sequence[str]) -> int:
    if baseline is None:
        return 0
    if isinstance(baseline, int):
        if not 0 <= baseline < len(labels):
            raise ValueError(f"baseline = {baseline}: no such scenario index; give 0 .. {len(labels) - 1}")
        return baseline
    for i, (lab, src) in enumerate(zip(labels, sources, strict=True)):
        if baseline in (lab, src) or (src and _stem(src) == baseline):
            return i
    raise ValueError(f"baseline = {baseline!r}: not one of the scenarios; give one of {', '.join(labels)}")


def union_inputs(prior_sets: Sequence[PriorSet]) -> list[str]:
    """The names of every scenario's stored inputs (the priors' and the derived ones), in contract order."""
    present = {n for ps in prior_sets for n in stored_names(ps)}
    return [n for n in (*INPUTS, *DERIVED) if n in present]  # derived ones after, as a run keeps them


def combined_sha256(hashes: Sequence[str]) -> str:
    """One hash over the scenarios' priors hashes, in platform order."""
    return hashlib.sha256(json.dumps(list(hashes)).encode()).hexdigest()
