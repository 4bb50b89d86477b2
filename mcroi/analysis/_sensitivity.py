"""Sensitivity of a model output to its inputs: swing, conditional mean, rank regression, Sobol'.

Functional core (no files, no printing, no xarray). Two layers:

* **estimators**: small pure functions over arrays, in the style of SALib's
  (``first_order(fA, fB, fAB)``, ``total_order``, ``conditional_means``, ``rank_regression``);
  each accepts an output ``y`` of shape ``(n,)`` or ``(n, m)`` (e.g. one column per year) and
  returns one value per input (and per trailing column).
* **drivers**: ``swing``, ``conditional``, ``rank``, ``sobol`` take any jittable function of ONE
  draw (a dict of named 0-d inputs; ``None`` means the cashflow contract) and a :class:`PriorSet`,
  build the design in uniform space, and evaluate it with :func:`mcroi.engine.evaluate_inputs`,
  i.e. through the same inverse CDFs and jitted engine as ``simulate``.

Inputs whose prior is a constant have no spread and are left out of every method. Swing and
Sobol' designs move inputs independently (the estimators assume independence): when the priors
hold correlations they are dropped for these two methods and a note says so. Conditional means
and rank regression read Monte Carlo draws, correlations included.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from mcroi import engine
from mcroi.engine import canonicalize_key, name_keys, thread_map, uniforms
from mcroi.priors import Dist, PriorSet

Array = jax.Array
DrawFn = Callable[[Mapping[str, Array]], Any]

R2_WARN = 0.7
CONF = 0.95


@dataclass(frozen=True)
class Result:
    """The outcome of one method for one output.

    ``measures`` maps a measure name to an array of shape (k,) or (k, m) (k inputs, m trailing
    output columns); ``intervals`` maps some of them to their 95 % interval, shape (k, 2) or
    (k, m, 2) with ``[..., 0]`` the lower bound. ``base`` is the reference output (swing: the
    output at every input's median; conditional: the output's mean), shape () or (m,).
    """

    method: str
    names: list[str]
    measures: dict[str, np.ndarray]
    intervals: dict[str, np.ndarray] = field(default_factory=dict)
    base: np.ndarray | float = float("nan")
    notes: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- estimators


def first_order(fA: Array, fB: Array, fAB: Array) -> Array:
    """First-order Sobol' indices, Saltelli et al. (2010), eq. (b) of table 2.

    Parameters
    ----------
    fA, fB : (n, ...) outputs on the two base matrices
    fAB : (k, n, ...) outputs on A with column i taken from B

    Returns
    -------
    (k, ...) ``S1_i = mean(fB (fAB_i - fA)) / V`` with ``V`` the variance of ``[fA; fB]``.
    """
    var = jnp.var(jnp.concatenate([fA, fB]), axis=0)
    return jnp.mean(fB[None] * (fAB - fA[None]), axis=1) / var[None]


def total_order(fA: Array, fB: Array, fAB: Array) -> Array:
    """Total Sobol' indices, Jansen (1999): ``ST_i = mean((fA - fAB_i)^2) / (2 V)``; shapes as :func:`first_order`."""
    var = jnp.var(jnp.concatenate([fA, fB]), axis=0)
    return 0.5 * jnp.mean((fA[None] - fAB) ** 2, axis=1) / var[None]


def conditional_means(
    x: np.ndarray, y: np.ndarray, q: float = 0.1
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Output mean in each input's bottom and top ``q`` fraction of draws (equal-count bins).

    Parameters
    ----------
    x : (n, k) input draws
    y : (n,) or (n, m) output draws
    q : bin share (0.1: deciles)

    Returns
    -------
    low, high : (k,) or (k, m) mean of ``y`` where the input is in its bottom / top bin
    lo_idx, hi_idx : (k, b) row indices of each bin (b = floor(q n))
    """
    n = x.shape[0]
    b = max(1, int(np.floor(q * n)))
    lo_idx, hi_idx = extreme_bins(x, b)
    return y[lo_idx].mean(axis=1), y[hi_idx].mean(axis=1), lo_idx, hi_idx


def extreme_bins(x: np.ndarray, b: int, ordered: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The first and the last ``b`` rows of each column's stable argsort, (k, b) each.

    Exactly ``np.argsort(x, axis=0, kind="stable")[:b].T`` and ``[n - b:].T`` (ties by row index),
    found by selecting each bin with ``np.partition`` and sorting only its ``b`` rows: O(n) a
    column instead of O(n log n), which is most of a million-draw conditional tornado. With
    ``ordered=False`` each bin holds the same rows in ascending row order (no sort by value).
    """
    pairs = [column_bins(x[:, j], b, ordered) for j in range(x.shape[1])]
    if not pairs:
        return np.empty((0, b), np.intp), np.empty((0, b), np.intp)
    return np.stack([lo for lo, _ in pairs]), np.stack([hi for _, hi in pairs])


def column_bins(col: np.ndarray, b: int, ordered: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """One column's bottom and top ``b`` rows of its stable argsort (see :func:`extreme_bins`)."""
    col = np.ascontiguousarray(col)
    n = col.size
    if 2 * b >= n or np.isnan(col).any():
        order = np.argsort(col, kind="stable")  # small, or NaN (sorted last): the plain way
        lo, hi = order[:b], order[n - b :]
        return (lo, hi) if ordered else (np.sort(lo), np.sort(hi))
    v, w = np.partition(col, (b - 1, n - b))[[b - 1, n - b]]
    less, greater = np.flatnonzero(col < v), np.flatnonzero(col > w)
    low = np.concatenate([less, np.flatnonzero(col == v)[: b - less.size]])
    tie = np.flatnonzero(col == w)
    high = np.concatenate([tie[tie.size - (b - greater.size) :], greater])
    if not ordered:
        return np.sort(low), np.sort(high)
    return low[np.argsort(col[low], kind="stable")], high[np.argsort(col[high], kind="stable")]


def _ranks(a: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(a, axis=0)


def _standardize(a: np.ndarray) -> np.ndarray:
    sd = a.std(axis=0)
    return (a - a.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def rank_regression(rx: np.ndarray, ry: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Spearman correlations, standardized rank-regression coefficients and R^2, from ranks.

    Parameters
    ----------
    rx : (n, k) ranks of the inputs
    ry : (n,) or (n, m) ranks of the output

    Returns
    -------
    spearman : (k,) or (k, m)
    srrc : (k,) or (k, m) least-squares coefficients of standardized ry on standardized rx
    r2 : () or (m,) coefficient of determination of that regression
    """
    zx, zy = _standardize(rx), _standardize(ry)
    n = zx.shape[0]
    spearman = zx.T @ zy / n
    coef, *_ = np.linalg.lstsq(zx, zy, rcond=None)
    resid = zy - zx @ coef
    ss_tot = (zy**2).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r2 = np.where(ss_tot > 0, 1 - (resid**2).sum(axis=0) / np.where(ss_tot > 0, ss_tot, 1.0), np.nan)
    return spearman, coef, r2


def _percentile_ci(boot: np.ndarray, conf: float = CONF) -> np.ndarray:
    """(R, ...) bootstrap replicates -> (..., 2) percentile interval."""
    a = (1 - conf) / 2
    lo, hi = np.nanquantile(boot, [a, 1 - a], axis=0)
    return np.stack([lo, hi], axis=-1)


# --------------------------------------------------------------------------- evaluation


def varying(priors: PriorSet) -> list[str]:
    """Names of the inputs that have spread (constants are excluded from sensitivity)."""
    out = []
    for name, d in priors.inputs.items():
        lo, hi = d.support()
        if not d.is_constant and hi > lo:
            out.append(name)
    return out


def make_priors(inputs: Mapping[str, Dist], name: str = "sensitivity") -> PriorSet:
    """A PriorSet over arbitrary input names (for generic functions such as test functions)."""
    return PriorSet(name=name, description="", inputs=dict(inputs))


def independent(priors: PriorSet) -> PriorSet:
    """The same marginals without correlations (what swing and Sobol' designs assume)."""
    return dataclasses.replace(priors, correlations=())


def correlation_note(priors: PriorSet, method: str) -> list[str]:
    if not priors.correlations:
        return []
    pairs = ", ".join(f"{c.a}~{c.b}" for c in priors.correlations)
    return [f"{method}: the priors' correlations ({pairs}) are ignored here; this method assumes independent inputs"]


_CONTRACT_FNS: dict[tuple[str, bool], DrawFn | None] = {}


def contract_fn(priors: PriorSet, with_irr: bool = False) -> DrawFn | None:
    """The cashflow contract as a per-draw function (no IRR solve unless asked: it is the slow part).

    The same function object is returned for the same scenario, so its compiled design step is
    reused (:func:`mcroi.engine.evaluate_inputs` caches by function).
    """
    if with_irr:
        return None
    key = (priors.sha256(), with_irr)
    if key not in _CONTRACT_FNS:
        knots = np.asarray(priors.curve, dtype=float) if priors.curve else None
        horizon = priors.horizon_months
        # batch-capable: designs run it on whole tiles, months-major, as simulate does
        _CONTRACT_FNS[key] = engine.Batched(
            partial(engine.evaluate_batch, horizon=horizon, knots=knots, irr=False, switches=priors.switches),
            key="contract-without-irr",
        )
    return _CONTRACT_FNS[key]


def _select(out: Any, output: str | None) -> np.ndarray:
    if output is None:
        return np.asarray(out)
    if isinstance(out, Mapping):
        return np.asarray(out[output])
    return np.asarray(getattr(out, output))


def evaluate_design(
    fn: DrawFn | None,
    priors: PriorSet,
    u: np.ndarray,
    names: Sequence[str],
    output: str | None = None,
    *,
    chunk_size: int = engine.DEFAULT_CHUNK,
) -> np.ndarray:
    """Evaluate ``fn`` on a design ``u`` (len(names), n) over the named inputs, others at their median.

    ``fn=None`` is the cashflow contract (then ``output`` names one of its outputs; the IRR is
    solved only when ``output == "irr_annual"``). Returns (n,) or (n, m).
    """
    if fn is None:
        fn = contract_fn(priors, with_irr=output == "irr_annual")
    full = np.full((len(priors.names), u.shape[1]), 0.5)
    pos = {n: i for i, n in enumerate(priors.names)}
    for j, name in enumerate(names):
        full[pos[name]] = u[j]
    # the output is picked inside the compiled step, so the others are never computed
    return np.asarray(engine.evaluate_inputs(priors, full, fn=fn, output=output, chunk_size=chunk_size))


def monte_carlo(
    fn: DrawFn | None, priors: PriorSet, n: int, *, key: int | Array, output: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Draws 0..n-1 exactly as ``simulate`` samples them: inputs (n, n_inputs) and output (n, ...)."""
    if fn is None:
        arrays = engine.run(priors, n, seed=key)
        return arrays.inputs, arrays.outputs[output or "npv_usd"]
    keys = name_keys(canonicalize_key(key), priors.names)
    with jax.enable_x64(True):
        u = np.asarray(uniforms(keys, jnp.arange(n, dtype=jnp.int64), jnp.float64))
    ident = {name: (lambda d, name=name: d[name]) for name in priors.names}
    out = engine.evaluate_inputs(priors, u, fn=lambda d: (fn(d), {k: g(d) for k, g in ident.items()}))
    y = _select(out[0], output)
    x = np.stack([np.asarray(out[1][k]) for k in priors.names], axis=1)
    return x, y


def _rng(key: int | Array) -> np.random.Generator:
    data = np.asarray(jax.random.key_data(canonicalize_key(key))).ravel()
    return np.random.default_rng([int(v) for v in data])


# --------------------------------------------------------------------------- methods


def swing(
    fn: DrawFn | None,
    priors: PriorSet,
    *,
    output: str | None = None,
    low: float = 0.1,
    high: float = 0.9,
    base: float = 0.5,
) -> Result:
    """One-at-a-time swing ("Crystal Ball tornado").

    Every input sits at its median (``u = base``); each input in turn moves to its ``low`` and
    ``high`` quantile. Also evaluated: the two midpoints ``(low + base) / 2`` and
    ``(base + high) / 2``; an input whose five outputs are not monotone is flagged
    ``non_monotone`` (its bar hides a turning point).

    Returns
    -------
    Result with measures ``low`` and ``high`` (output at the input's low / high quantile),
    ``width = |high - low|``, ``non_monotone`` (bool), and ``base`` (output at all medians).
    """
    if not 0 < low < base < high < 1:
        raise ValueError("need 0 < low < base < high < 1")
    names = varying(priors)
    ind = independent(priors)
    k = len(names)
    levels = np.array([low, (low + base) / 2, (base + high) / 2, high])
    u = np.full((k, 1 + 4 * k), base)
    for i in range(k):
        u[i, 1 + 4 * i : 5 + 4 * i] = levels
    y = evaluate_design(fn, ind, u, names, output)
    y0 = y[0]
    pts = y[1:].reshape(k, 4, *y.shape[1:])  # (k, 4, ...)
    seq = np.concatenate([pts[:, :2], np.broadcast_to(y0, (k, 1, *y.shape[1:])), pts[:, 2:]], axis=1)
    d = np.diff(seq, axis=1)
    tol = 1e-9 * np.maximum(np.abs(seq).max(axis=1, keepdims=True), 1e-300)
    up, down = (d >= -tol).all(axis=1), (d <= tol).all(axis=1)
    lo_v, hi_v = pts[:, 0], pts[:, 3]
    return Result(
        "swing",
        names,
        {"low": lo_v, "high": hi_v, "width": np.abs(hi_v - lo_v), "non_monotone": ~(up | down)},
        base=y0,
        notes=correlation_note(priors, "swing"),
        info={"low": low, "high": high},
    )


#: From this many draws per bin on, a bin mean's interval is the normal (CLT) one: the percentile
#: bootstrap of a mean of b >= 1,000 iid draws agrees with it to well under its own Monte Carlo
#: noise, and costs n_boot x b gathers per input (half a minute at a million draws).
CLT_BIN = 1000


def _bin_moments(
    x: np.ndarray, cols: list[int], y: np.ndarray, b: int, w: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The bottom and top ``b``-draw bins of each column ``cols`` of ``x`` (:func:`extreme_bins`'
    rows, summed in ascending row order), a column per thread.

    Returns the means of ``y`` in each bin, (k, ...), and the bins' standard deviations (ddof 1)
    of the first ``w`` columns of ``y`` (of ``y`` itself when it is 1-D and ``w == 0``),
    (k, 2, ...) with ``[:, 0]`` the low bin.
    """
    tail = y.shape[1:2] and (w,)

    def one(j: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lo, hi = column_bins(x[:, j], b, ordered=False)
        yl, yh = y[lo], y[hi]
        if b < 2:
            sd = np.full((2, *tail), np.nan)
        elif y.ndim == 1:
            sd = np.array([yl.std(ddof=1), yh.std(ddof=1)])
        else:
            sd = np.stack([yl[:, :w].std(axis=0, ddof=1), yh[:, :w].std(axis=0, ddof=1)])
        return yl.mean(axis=0), yh.mean(axis=0), sd

    parts = thread_map(one, cols)
    if not parts:
        return np.empty((0, *y.shape[1:])), np.empty((0, *y.shape[1:])), np.empty((0, 2, *tail))
    return np.stack([p[0] for p in parts]), np.stack([p[1] for p in parts]), np.stack([p[2] for p in parts])


def _conditional_clt(low: np.ndarray, high: np.ndarray, sd: np.ndarray, b: int) -> dict[str, np.ndarray]:
    """95 % normal intervals of each bin's mean and of their difference (disjoint bins: independent).

    ``low``/``high`` are the bins' means, ``sd`` (k, 2, ...) their standard deviations
    (:func:`_bin_moments`) for the first columns of the means.
    """
    z = float(np.sqrt(2.0) * _erfinv(CONF))
    w = sd.shape[2] if sd.ndim == 3 else None
    ml, mh = (low[:, :w], high[:, :w]) if w is not None else (low, high)
    sl, sh = sd[:, 0] / np.sqrt(b), sd[:, 1] / np.sqrt(b)
    se = np.sqrt(sl**2 + sh**2)
    return {
        "low": np.stack([ml - z * sl, ml + z * sl], axis=-1),
        "high": np.stack([mh - z * sh, mh + z * sh], axis=-1),
        "effect": np.stack([mh - ml - z * se, mh - ml + z * se], axis=-1),
    }


def _erfinv(p: float) -> float:
    from scipy.special import erfinv

    return float(erfinv(p))


def _conditional_bootstrap(
    yb: np.ndarray, lo_idx: np.ndarray, hi_idx: np.ndarray, rng: np.random.Generator, n_boot: int
) -> dict[str, np.ndarray]:
    """Percentile-bootstrap intervals: each bin's rows resampled ``n_boot`` times."""
    b = lo_idx.shape[1]
    bl = np.empty((n_boot, lo_idx.shape[0], *yb.shape[1:]))
    bh = np.empty_like(bl)
    step = max(1, 4_000_000 // b)  # resamples per batch: bounded memory for large runs
    for i in range(lo_idx.shape[0]):
        for r0 in range(0, n_boot, step):
            r1 = min(n_boot, r0 + step)
            pick = rng.integers(0, b, size=(2, r1 - r0, b))
            bl[r0:r1, i] = yb[lo_idx[i][pick[0]]].mean(axis=1)
            bh[r0:r1, i] = yb[hi_idx[i][pick[1]]].mean(axis=1)
    return {"low": _percentile_ci(bl), "high": _percentile_ci(bh), "effect": _percentile_ci(bh - bl)}


def conditional_from_draws(
    x: np.ndarray,
    y: np.ndarray,
    names: Sequence[str],
    *,
    key: int | Array = 0,
    n_boot: int = 200,
    q: float = 0.1,
    first_column_ci: bool = False,
    columns: Sequence[int] | None = None,
) -> Result:
    """Conditional-mean tornado ("@RISK change in output mean") from Monte Carlo draws.

    Parameters
    ----------
    x : (n, k) input draws; y : (n,) or (n, m) output draws
    n_boot : bootstrap resamples (0: no intervals). The bins are fixed by the draws; the means
        are resampled within each bin. Bins of at least :data:`CLT_BIN` draws use the normal
        interval of a mean instead (the same interval, computed in one pass).
    first_column_ci : with a 2-D ``y``, intervals for column 0 only (NaN elsewhere; cheaper)
    columns : the columns of ``x`` that are the inputs ``names`` (default: all, in order); a
        run's stored inputs are read in place instead of copied

    Returns
    -------
    Result with measures ``low``/``high`` (mean output in the input's bottom / top ``q`` bin),
    ``effect = high - low``; intervals for all three; ``base`` = mean of ``y``.
    """
    y = np.asarray(y, float)
    x = np.asarray(x)
    cols = list(range(x.shape[1])) if columns is None else list(columns)
    n = x.shape[0]
    b = max(1, int(np.floor(q * n)))
    intervals: dict[str, np.ndarray] = {}
    yb = y[:, :1] if (first_column_ci and y.ndim == 2) else y
    if b < CLT_BIN:  # small bins: percentile-bootstrap intervals, bins in value order
        low, high, lo_idx, hi_idx = conditional_means(x[:, cols], y, q)
        if n_boot > 0:
            intervals = _conditional_bootstrap(yb, lo_idx, hi_idx, _rng(key), n_boot)
    else:  # normal intervals, from each bin's mean and sd, a column per thread
        low, high, sd = _bin_moments(x, cols, y, b, yb.shape[1] if yb.ndim == 2 else 0)
        if n_boot > 0:
            intervals = _conditional_clt(low, high, sd, b)
    if yb is not y and intervals:  # intervals for the first column only; NaN for the others
        pad = np.full((*low.shape, 2), np.nan)
        intervals = {k: np.concatenate([v, pad[:, 1:]], axis=1) for k, v in intervals.items()}
    return Result(
        "conditional",
        list(names),
        {"low": low, "high": high, "effect": high - low},
        intervals,
        base=y.mean(axis=0),
        info={"q": q, "draws": int(y.shape[0]), "n_boot": n_boot},
    )


def rank_bootstrap(
    rx: np.ndarray, ry: np.ndarray, n_boot: int, rng: np.random.Generator, chunk: int = 8192
) -> tuple[np.ndarray, np.ndarray]:
    """Spearman and SRRC on ``n_boot`` Poisson-bootstrap resamples, ranks held fixed: (n_boot, k, m) each.

    Each resample weighs row ``i`` by an independent Poisson(1) count (the Poisson bootstrap, the
    large-n form of resampling rows with replacement). The weighted means and cross-products of
    the ranks are accumulated over row chunks with one matrix product per chunk, so memory is
    O(n_boot k^2) and no resample is materialized.
    """
    n, k = rx.shape
    ys = ry.reshape(n, -1)
    m = ys.shape[1]
    xc, yc = rx - rx.mean(axis=0), ys - ys.mean(axis=0)  # centred once, for numerical stability
    s0 = np.zeros(n_boot)
    sx, sy, syy = np.zeros((n_boot, k)), np.zeros((n_boot, m)), np.zeros((n_boot, m))
    sxx, sxy = np.zeros((n_boot, k * k)), np.zeros((n_boot, k * m))
    for a in range(0, n, chunk):
        xb, yb = xc[a : a + chunk], yc[a : a + chunk]
        w = rng.poisson(1.0, size=(n_boot, xb.shape[0])).astype(float)
        s0 += w.sum(axis=1)
        sx += w @ xb
        sy += w @ yb
        syy += w @ (yb * yb)
        sxx += w @ (xb[:, :, None] * xb[:, None, :]).reshape(-1, k * k)
        sxy += w @ (xb[:, :, None] * yb[:, None, :]).reshape(-1, k * m)
    mx, my = sx / s0[:, None], sy / s0[:, None]
    cxx = sxx.reshape(n_boot, k, k) / s0[:, None, None] - mx[:, :, None] * mx[:, None, :]
    cxy = sxy.reshape(n_boot, k, m) / s0[:, None, None] - mx[:, :, None] * my[:, None, :]
    sdx = np.sqrt(np.einsum("rii->ri", cxx))
    sdy = np.sqrt(syy / s0[:, None] - my**2)
    with np.errstate(invalid="ignore", divide="ignore"):
        spearman = cxy / (sdx[:, :, None] * sdy[:, None, :])
        beta = np.linalg.solve(cxx, cxy)
        srrc = beta * sdx[:, :, None] / sdy[:, None, :]
    return spearman, srrc


def rank_from_draws(
    x: np.ndarray, y: np.ndarray, names: Sequence[str], *, key: int | Array = 0, n_boot: int = 100
) -> Result:
    """Spearman correlations and standardized rank-regression coefficients (SRRC) with R^2.

    The bootstrap resamples rows with the ranks held fixed (a close approximation for large n), as
    a Poisson bootstrap (:func:`rank_bootstrap`). A note is added when R^2 < 0.7: the ranking
    then misses interactions or non-monotone effects. An infinite output (payback never) ranks
    as the largest value, tied; draws with a NaN output are dropped, and both are said in notes.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    # +inf (a payback that never comes) ranks as the largest value, ties shared; only NaN is dropped
    ok = ~np.isnan(y) if y.ndim == 1 else ~np.isnan(y).any(axis=1)
    x, y = x[ok], y[ok]
    rx, ry = _ranks(x), _ranks(y)
    spearman, srrc, r2 = rank_regression(rx, ry)
    intervals: dict[str, np.ndarray] = {}
    if n_boot > 0:
        bs, bc = rank_bootstrap(rx, ry, n_boot, _rng(key))
        intervals = {
            "spearman": _percentile_ci(bs.reshape(n_boot, *spearman.shape)),
            "srrc": _percentile_ci(bc.reshape(n_boot, *srrc.shape)),
        }
    notes = []
    n_inf, n_nan = int(np.isinf(y).any(axis=-1).sum() if y.ndim > 1 else np.isinf(y).sum()), int((~ok).sum())
    if n_inf:
        notes.append(f"rank: {n_inf:,} draws with an infinite output (never) ranked as its largest value, tied")
    if n_nan:
        notes.append(f"rank: {n_nan:,} draws with an undefined (NaN) output left out")
    r2_min = float(np.nanmin(r2)) if np.size(r2) else float("nan")
    if r2_min < R2_WARN:
        notes.append(
            f"rank: R^2 = {r2_min:.2f} < {R2_WARN}: interactions or non-monotone effects leave much of the output "
            "unexplained; this ranking can mislead (prefer sobol)"
        )
    return Result(
        "rank",
        list(names),
        {"spearman": spearman, "srrc": srrc},
        intervals,
        base=float("nan"),
        notes=notes,
        info={"r2": r2, "dropped_nonfinite": int((~ok).sum()), "n_boot": n_boot},
    )


def conditional(
    fn: DrawFn | None, priors: PriorSet, n: int, *, key: int | Array, output: str | None = None, n_boot: int = 200
) -> Result:
    """:func:`conditional_from_draws` on ``n`` Monte Carlo draws of ``fn`` (as ``simulate`` draws them)."""
    x, y = monte_carlo(fn, priors, n, key=key, output=output)
    names = varying(priors)
    cols = [priors.names.index(k) for k in names]
    return conditional_from_draws(x[:, cols], y, names, key=key, n_boot=n_boot)


def rank(
    fn: DrawFn | None, priors: PriorSet, n: int, *, key: int | Array, output: str | None = None, n_boot: int = 100
) -> Result:
    """:func:`rank_from_draws` on ``n`` Monte Carlo draws of ``fn``."""
    x, y = monte_carlo(fn, priors, n, key=key, output=output)
    names = varying(priors)
    cols = [priors.names.index(k) for k in names]
    return rank_from_draws(x[:, cols], y, names, key=key, n_boot=n_boot)


#: Independent scrambles of the Saltelli design whose spread gives the Sobol' intervals (Owen's
#: randomized QMC): a t-interval over replicates. Resampling the rows of one scrambled design as if
#: they were independent understated the error 2-10x (intervals covered the truth every time).
SOBOL_REPLICATES = 8


def _sobol_indices(y: np.ndarray, n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """S1 and ST from one design's outputs ``y`` (n (k + 2), ...): rows A, B, AB_1 .. AB_k."""
    # centre the output (as SALib does): the Saltelli 2010 S1 estimator's variance grows with the mean
    y = y - y[: 2 * n].mean(axis=0)
    fA, fB = y[:n], y[n : 2 * n]
    fAB = y[2 * n :].reshape(k, n, *y.shape[1:])
    with jax.enable_x64(True), np.errstate(invalid="ignore", divide="ignore"):
        s1 = np.asarray(first_order(jnp.asarray(fA), jnp.asarray(fB), jnp.asarray(fAB)))
        st = np.asarray(total_order(jnp.asarray(fA), jnp.asarray(fB), jnp.asarray(fAB)))
    return s1, st


def saltelli_design(k: int, n: int, *, key: int | Array) -> np.ndarray:
    """Uniforms (k, n (k + 2)) for A, B, AB_1..AB_k from ``n`` scrambled Sobol' points in 2k dims."""
    from scipy.stats import qmc

    rng = _rng(key)
    pts = qmc.Sobol(d=2 * k, scramble=True, rng=rng).random(n)
    pts = np.clip(pts, 2.0**-53, 1 - 2.0**-53)  # open interval for the inverse CDFs
    a, b = pts[:, :k].T, pts[:, k:].T
    out = np.empty((k, n * (k + 2)))
    out[:, :n], out[:, n : 2 * n] = a, b
    for i in range(k):
        block = out[:, (2 + i) * n : (3 + i) * n]
        block[:] = a
        block[i] = b[i]
    return out


def sobol(
    fn: DrawFn | None,
    priors: PriorSet,
    n: int,
    *,
    key: int | Array,
    output: str | None = None,
    n_boot: int = 100,
) -> Result:
    """First-order (Saltelli 2010) and total (Jansen) Sobol' indices with 95 % intervals.

    With ``n_boot > 0`` the ``n`` base points are split over :data:`SOBOL_REPLICATES` independently
    scrambled designs; the indices are the replicates' mean and the interval a t-interval over the
    replicates (randomized QMC; honest coverage, unlike resampling the rows of one design).

    Parameters
    ----------
    fn : per-draw function of a dict of named 0-d inputs (jittable), or None for the contract
    n : base sample size (a power of 2 keeps the Sobol' points balanced); cost is n (k + 2) runs
    key : seed or PRNG key (scrambling and bootstrap)
    n_boot : 0 for no intervals (one design of n points); otherwise intervals from replicates

    Returns
    -------
    Result with measures ``s1``, ``st`` (k,) or (k, m) and their intervals and bootstrap standard
    errors (``info["se"]``).
    """
    names = varying(priors)
    k = len(names)
    key = canonicalize_key(key)
    key_design, _ = jax.random.split(key)
    reps = SOBOL_REPLICATES if n_boot > 0 and n >= SOBOL_REPLICATES * 32 else 1
    m = n // reps
    keys = [key_design] if reps == 1 else list(jax.random.split(key_design, reps))
    u = np.concatenate([saltelli_design(k, m, key=kr) for kr in keys], axis=1)
    y_all = evaluate_design(fn, independent(priors), u, names, output)
    block = m * (k + 2)
    est = [_sobol_indices(y_all[r * block : (r + 1) * block], m, k) for r in range(reps)]
    s1_r, st_r = np.stack([e[0] for e in est]), np.stack([e[1] for e in est])
    s1, st = s1_r.mean(axis=0), st_r.mean(axis=0)
    intervals: dict[str, np.ndarray] = {}
    se: dict[str, np.ndarray] = {}
    if reps > 1:
        from scipy.stats import t as student_t

        half = float(student_t.ppf(0.5 + CONF / 2, reps - 1))
        with np.errstate(invalid="ignore"):
            se = {"s1": s1_r.std(axis=0, ddof=1) / np.sqrt(reps), "st": st_r.std(axis=0, ddof=1) / np.sqrt(reps)}
        intervals = {
            "s1": np.stack([s1 - half * se["s1"], s1 + half * se["s1"]], axis=-1),
            "st": np.stack([st - half * se["st"], st + half * se["st"]], axis=-1),
        }
    y = y_all
    notes = correlation_note(priors, "sobol")
    if not np.all(np.isfinite(y)):
        notes.append("sobol: the output has non-finite values on the design; indices are NaN")
    return Result(
        "sobol",
        names,
        {"s1": s1, "st": st},
        intervals,
        base=0.0,
        notes=notes,
        info={"n": n, "evaluations": int(y.shape[0]), "n_boot": n_boot, "replicates": reps, "se": se},
    )
