"""Stress analysis from stored draws: outputs with an input held to a percentile band, and reverse
stress by minimum-relative-entropy reweighting (exponential tilting, the SWIM method).

* **Band stress** (@RISK's stress analysis): keep the draws whose input lies between two of its
  own percentiles and describe the outputs over those draws. Every other input keeps the values it
  took in those draws, so correlations with the stressed input are carried along.
* **Reverse stress** (Pesenti, Millossovich and Tsanakas 2019, "Reverse sensitivity testing", the
  SWIM package): among all reweightings of the draws that meet a target on one output, take the
  one closest to the run in relative entropy (Kullback-Leibler). For a probability target
  ``P(Y in A) = q`` the weights are ``q / p`` on ``A`` and ``(1 - q) / (1 - p)`` off it; for a mean
  target ``E[Y] = m`` they are ``exp(lambda Y) / E[exp(lambda Y)]`` with ``lambda`` solving the
  target (exponential tilting). The stressed inputs are the same draws under the new weights.
  Monte Carlo errors: Poisson bootstrap of the draws, the weights re-solved in each resample.

NumPy/SciPy only: no files, no xarray.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mcroi.engine import OUTPUTS

#: Percentiles reported for inputs and outputs.
STRESS_PERCENTILES = (5, 25, 50, 75, 95)
#: The low and high band of the every-input chart (percentiles of each input).
LOW_BAND = (0.0, 10.0)
HIGH_BAND = (90.0, 100.0)
#: Bootstrap resamples behind reverse stress' Monte Carlo errors.
N_BOOT = 100

_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class StressError(ValueError):
    """A stress that cannot be done (a band outside 0..100, an unreachable target): one line
    ``option = value: reason`` naming the option (``band``, ``target``, ``input``, ...) and its value."""

    def __init__(self, option: str, value: Any, reason: str) -> None:
        self.option, self.value, self.reason = option, value, reason
        super().__init__(f"{option} = {value}: {reason}")


# --------------------------------------------------------------------------- band stress


def band_mask(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Draws whose value of ``x`` lies between its ``lo`` and ``hi`` percentiles (0..100), by rank.

    A draw's percentile is ``100 (rank - 1/2) / n`` (ties share their mean rank), so the bands
    ``0:10`` and ``10:20`` split the draws without overlap.
    """
    if not 0 <= lo < hi <= 100:
        raise StressError("band", f"{lo:g}:{hi:g}", "give percentiles 0 <= LO < HI <= 100")
    x = np.asarray(x, dtype=float)
    from scipy.stats import rankdata  # on first use: scipy.stats is slow to import

    pct = 100 * (rankdata(x) - 0.5) / x.size
    return np.asarray((pct >= lo) & (pct <= hi) if hi == 100 else (pct >= lo) & (pct < hi))


def weighted_quantile(x: np.ndarray, q: Sequence[float], w: np.ndarray | None = None) -> np.ndarray:
    """Quantiles ``q`` (0..1) of ``x`` under weights ``w`` (inverted CDF); NaN draws are dropped."""
    x = np.asarray(x, dtype=float)
    w = np.ones_like(x) if w is None else np.asarray(w, dtype=float)
    keep = ~np.isnan(x)
    x, w = x[keep], w[keep]
    if x.size == 0 or w.sum() <= 0:
        return np.full(len(q), math.nan)
    order = np.argsort(x, kind="stable")
    cdf = np.cumsum(w[order])
    cdf /= cdf[-1]
    idx = np.minimum(np.searchsorted(cdf, np.asarray(q, dtype=float) - 1e-12), x.size - 1)
    return np.asarray(x[order][idx])


def describe_weighted(y: np.ndarray, w: np.ndarray | None = None, *, with_mean: bool = True) -> dict[str, float]:
    """Percentiles (and mean, unless ``with_mean`` is False) of ``y`` under weights ``w``."""
    y = np.asarray(y, dtype=float)
    w = np.ones_like(y) if w is None else np.asarray(w, dtype=float)
    qs = weighted_quantile(y, [p / 100 for p in STRESS_PERCENTILES], w)
    out = {f"p{p}": float(v) for p, v in zip(STRESS_PERCENTILES, qs, strict=True)}
    fin = np.isfinite(y)
    # a mean that drops the draws at +-inf (a payback that never happens) would flatter: none then
    if with_mean and not np.isinf(y).any():
        out["mean"] = float(np.average(y[fin], weights=w[fin])) if w[fin].sum() > 0 else math.nan
    return out


def _mean_is_headline(name: str) -> bool:
    return OUTPUTS[name].mean_is_headline if name in OUTPUTS else True


def band_stress(
    x: np.ndarray, outputs: Mapping[str, np.ndarray], lo: float, hi: float, *, mean_ok: Sequence[str] = ()
) -> dict[str, Any]:
    """Outputs over all draws and over the draws with ``x`` in its ``lo:hi`` percentile band.

    Returns ``{"draws": k, "outputs": {name: {"all": stats, "band": stats, "mcse_p50": float}},
    "p_npv_negative": {"all", "band", "mcse"}}`` (the last where ``npv_usd`` is given). The mean
    is given only for the outputs in ``mean_ok`` (never for the IRR).
    """
    mask = band_mask(x, lo, hi)
    k = int(mask.sum())
    res: dict[str, Any] = {"band": [lo, hi], "draws": k, "outputs": {}}
    for name, y in outputs.items():
        y = np.asarray(y, dtype=float)
        allst = describe_weighted(y, with_mean=name in mean_ok)
        band = describe_weighted(y[mask], with_mean=name in mean_ok)
        res["outputs"][name] = {"all": allst, "band": band, "mcse_p50": _median_mcse(y[mask])}
    if "npv_usd" in outputs:
        neg = np.asarray(outputs["npv_usd"], dtype=float) < 0
        p = float(neg[mask].mean()) if k else math.nan
        res["p_npv_negative"] = {"all": float(neg.mean()), "band": p, "mcse": math.sqrt(p * (1 - p) / max(k, 1))}
    return res


def _median_mcse(y: np.ndarray) -> float:
    y = y[~np.isnan(y)]
    n = y.size
    if n < 10:
        return math.nan
    s = math.sqrt(0.25 / n)
    lo, hi = (float(v) for v in np.quantile(y, [0.5 - s, 0.5 + s], method="inverted_cdf"))
    return 0.5 * (hi - lo) if math.isfinite(lo) and math.isfinite(hi) else math.nan


def every_band(
    x: np.ndarray, names: Sequence[str], y: np.ndarray, *, low: tuple[float, float] = LOW_BAND,
    high: tuple[float, float] = HIGH_BAND,
) -> list[dict[str, Any]]:  # fmt: skip
    """For each input (a column of ``x``), the percentiles of ``y`` in its low and its high band."""
    out = []
    y = np.asarray(y, dtype=float)
    for j, name in enumerate(names):
        col = np.asarray(x[:, j], dtype=float)
        lo, hi = band_mask(col, *low), band_mask(col, *high)
        out.append({
            "input": name,
            "low": describe_weighted(y[lo]),
            "high": describe_weighted(y[hi]),
            "low_draws": int(lo.sum()),
            "high_draws": int(hi.sum()),
        })  # fmt: skip
    return out


# --------------------------------------------------------------------------- reverse stress


_TARGET = re.compile(
    r"^\s*(?:(?P<fn>mean|median|p\d{1,2}(?:\.\d+)?)\s*\(\s*(?P<y1>[\w.]+)\s*\)"
    r"|P\s*\(\s*(?P<y2>[\w.]+)\s*(?P<op><=|>=|<|>)\s*(?P<c>[-+0-9.eE_]+[kMB%]?)\s*\))"
    r"\s*(?P<rel><=|>=|==|=)\s*(?P<t>[-+0-9.eE_]+[kMB%]?)\s*$"
)
_SUFFIX = {"%": 0.01, "k": 1e3, "M": 1e6, "B": 1e9}


@dataclass(frozen=True)
class Target:
    """A target on a statistic of one output: ``kind`` is ``prob``, ``mean`` or ``quantile``.

    ``prob``: ``P(output op threshold) rel value``; ``quantile``: the ``level`` quantile of the output
    ``rel value``; ``mean``: its mean ``rel value``. ``text`` is the target as given.
    """

    text: str
    kind: str
    output: str
    value: float
    rel: str = "="
    op: str = "<"
    threshold: float = math.nan
    level: float = math.nan

    def statistic(self, y: np.ndarray, w: np.ndarray | None = None) -> float:
        """The statistic of draws ``y`` (under weights ``w``)."""
        y = np.asarray(y, dtype=float)
        w = np.ones_like(y) if w is None else w
        if self.kind == "prob":
            return float(np.sum(w * _OPS[self.op](y, self.threshold)) / np.sum(w))
        if self.kind == "quantile":
            return float(weighted_quantile(y, [self.level], w)[0])
        fin = np.isfinite(y)
        return float(np.sum(w[fin] * y[fin]) / np.sum(w[fin]))

    def label(self) -> str:
        return self.text.strip()


def _number(text: str) -> float:
    text = text.replace("_", "")
    mult = _SUFFIX.get(text[-1], 1.0) if text else 1.0
    return float(text[:-1] if text[-1] in _SUFFIX else text) * mult


def parse_target(text: str) -> Target:
    """``"P(npv_usd < 0) = 20%"``, ``"P(min_dscr < 1.2) <= 5%"``, ``"median(irr_annual) = 15%"``,
    ``"mean(npv_usd) = 50M"``, ``"p10(npv_usd) >= 0"``; numbers may end in ``%``, ``k``, ``M``, ``B``.

    Raises :class:`StressError` (one line) when the text is not such a target.
    """
    m = _TARGET.match(text)
    if m is None:
        raise StressError(
            "target", text, "write e.g. 'P(npv_usd < 0) = 20%', 'median(irr_annual) = 15%' or 'mean(npv_usd) = 50M'"
        )
    rel = "=" if m["rel"] in ("=", "==") else m["rel"]
    value = _number(m["t"])
    if m["y2"]:
        if not 0 <= value <= 1:
            raise StressError("target", text, "a probability must be between 0 and 1 (0 % and 100 %)")
        return Target(text, "prob", m["y2"], value, rel, m["op"], _number(m["c"]))
    fn = m["fn"]
    if fn == "mean":
        return Target(text, "mean", m["y1"], value, rel)
    level = 0.5 if fn == "median" else float(fn[1:]) / 100
    if not 0 < level < 1:
        raise StressError("target", text, "a percentile must be between 0 and 100")
    return Target(text, "quantile", m["y1"], value, rel, level=level)


def tilt_weights(y: np.ndarray, target: Target, base: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Minimum-relative-entropy weights (mean 1 under ``base``) that meet ``target`` on ``y``, and lambda.

    ``base`` are prior weights of the draws (a bootstrap's; default 1). Probability and quantile
    targets put the two constant weights of the SWIM solution on the event and its complement
    (``lambda`` is the log-odds ratio); a mean target tilts exponentially (``lambda`` in 1/units of
    ``y``). Raises :class:`StressError` when no reweighting of these draws meets the target.
    """
    y = np.asarray(y, dtype=float)
    base = np.ones_like(y) if base is None else np.asarray(base, dtype=float)
    if target.kind == "mean":
        return _mean_tilt(y, target, base)
    if target.kind == "prob":
        event, q = _OPS[target.op](y, target.threshold), target.value
    else:  # the level quantile at c: P(Y <= c) = level
        event, q = y <= target.value, target.level
    p = float(np.sum(base * event) / np.sum(base))
    if not (0 < p < 1 and 0 < q < 1):
        raise StressError(
            "target",
            target.label(),
            f"unreachable by reweighting: {100 * p:.4g} % of the draws are in the event and the target needs "
            f"{100 * q:.4g} % (both must be strictly between 0 and 100 %)",
        )
    w = np.where(event, q / p, (1 - q) / (1 - p))
    return w, math.log(q * (1 - p) / (p * (1 - q)))


def _mean_tilt(y: np.ndarray, target: Target, base: np.ndarray) -> tuple[np.ndarray, float]:
    if not np.isfinite(y).all():
        raise StressError(
            "target", target.label(), f"{target.output} has non-finite draws; a mean target needs finite ones"
        )
    mu = float(np.average(y, weights=base))
    sd = float(np.sqrt(np.average((y - mu) ** 2, weights=base)))
    lo, hi = float(y[base > 0].min()), float(y[base > 0].max())
    if sd == 0 or not lo < target.value < hi:
        raise StressError(
            "target",
            target.label(),
            "unreachable by reweighting: the mean of a reweighting lies strictly between the smallest and "
            f"largest draw ({lo:.6g} .. {hi:.6g})",
        )
    s = (y - mu) / sd

    def gap(lam: float) -> float:
        t = lam * s
        e = base * np.exp(t - t.max())
        return float(np.sum(e * s) / np.sum(e)) - (target.value - mu) / sd

    a, b = -1.0, 1.0
    while gap(a) > 0:
        a *= 2
    while gap(b) < 0:
        b *= 2
    from scipy.optimize import brentq

    lam = brentq(gap, a, b, xtol=1e-14, rtol=1e-13, maxiter=400)
    e = np.exp(lam * s - (lam * s).max())
    w = e / (np.sum(base * e) / np.sum(base))
    return w, lam / sd


@dataclass
class ReverseStress:
    """A reverse stress: the weights, the stressed inputs and outputs, and their Monte Carlo errors."""

    target: Target
    lam: float
    ess: float
    draws: int
    achieved: float
    inputs: list[dict[str, Any]] = field(default_factory=list)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    weights: np.ndarray | None = None


def _input_row(name: str, x: np.ndarray, w: np.ndarray) -> dict[str, Any]:
    mean, sd = float(np.mean(x)), float(np.std(x))
    smean = float(np.average(x, weights=w))
    return {
        "input": name,
        "mean": mean,
        "sd": sd,
        "stressed_mean": smean,
        "shift_sd": (smean - mean) / sd if sd > 0 else 0.0,
        "base": describe_weighted(x, with_mean=False),
        "stressed": describe_weighted(x, w, with_mean=False),
    }


def _boot_errors(
    x: np.ndarray, y: np.ndarray, target: Target, outs: Mapping[str, np.ndarray], n_boot: int, seed: int
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Bootstrap SEs: of each input's stressed mean shift (in its SDs), and of each output's stressed stats."""
    rng = np.random.default_rng(seed)
    k = x.shape[1]
    shifts = np.empty((n_boot, k))
    ostats: dict[str, list[list[float]]] = {n: [] for n in outs}
    for r in range(n_boot):
        b = rng.poisson(1.0, y.size).astype(float)
        w, _ = tilt_weights(y, target, b)
        bw = b * w
        m0 = (b @ x) / b.sum()
        sd = np.sqrt((b @ (x - m0) ** 2) / b.sum())
        shifts[r] = np.where(sd > 0, ((bw @ x) / bw.sum() - m0) / np.where(sd > 0, sd, 1.0), 0.0)
        for n, v in outs.items():
            d = describe_weighted(v, bw, with_mean=_mean_is_headline(n))
            ostats[n].append([d[f"p{p}"] for p in STRESS_PERCENTILES] + [d.get("mean", math.nan)])
    return shifts.std(axis=0, ddof=1), {n: _finite_sd(np.asarray(v)) for n, v in ostats.items()}


def _finite_sd(a: np.ndarray) -> np.ndarray:
    """Column SDs over the finite entries of ``a`` (NaN where fewer than two)."""
    out = np.full(a.shape[1], math.nan)
    for j in range(a.shape[1]):
        col = a[:, j][np.isfinite(a[:, j])]
        if col.size >= 2:
            out[j] = float(col.std(ddof=1))
    return out


def reverse_stress(
    x: np.ndarray,
    names: Sequence[str],
    outputs: Mapping[str, np.ndarray],
    target: Target,
    *,
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> ReverseStress:
    """Reweight the draws to meet ``target`` (on ``outputs[target.output]``) and describe the result.

    Parameters
    ----------
    x : (n, k) input draws, columns named by ``names``
    outputs : output name -> (n,) draws; must hold ``target.output``
    n_boot : bootstrap resamples for the Monte Carlo errors (0: none)

    Returns a :class:`ReverseStress`: per input its mean, SD, stressed mean, the shift in SDs and
    its bootstrap SE, and percentiles before and after; per output the stressed percentiles and
    mean with bootstrap SEs; the effective sample size ``(sum w)^2 / sum w^2``.
    """
    y = np.asarray(outputs[target.output], dtype=float)
    w, lam = tilt_weights(y, target)
    x = np.asarray(x, dtype=float)
    rs = ReverseStress(target, lam, float(w.sum() ** 2 / np.sum(w**2)), int(y.size), target.statistic(y, w))
    rs.weights = w
    rs.inputs = [_input_row(n, x[:, j], w) for j, n in enumerate(names)]
    for n, v in outputs.items():
        m = _mean_is_headline(n)
        rs.outputs[n] = {"base": describe_weighted(v, with_mean=m), "stressed": describe_weighted(v, w, with_mean=m)}
    if n_boot >= 2:
        se_shift, se_out = _boot_errors(x, y, target, outputs, n_boot, seed)
        for row, se in zip(rs.inputs, se_shift, strict=True):
            row["shift_sd_se"] = float(se)
        for n, se in se_out.items():
            keys = [f"p{p}" for p in STRESS_PERCENTILES] + ["mean"]
            rs.outputs[n]["stressed_se"] = {k: float(s) for k, s in zip(keys, se, strict=True)}
    return rs
