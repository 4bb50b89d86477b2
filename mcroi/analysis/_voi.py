"""Value of information from stored draws: EVPI and EVPPI, each with a Monte Carlo standard error.

The decision is the one in the run: build or not (net benefits ``[0, NPV]``) for a simulate run,
which platform for a compare run (net benefits ``NPV_d``, optionally with "build nothing" at 0).

* **EVPI** ``= E[max_d NB_d] - max_d E[NB_d]``: the most a committee should pay to learn every
  uncertain input before deciding. Per draw it is ``a_i = max_d NB_di - NB_{d*,i}`` with ``d*`` the
  decision on current information, so the estimate is a plain mean and its SE ``sd(a) / sqrt(n)``.
* **EVPPI** of an input (or a group) ``= E_x[max_d E[NB_d | x]] - max_d E[NB_d]``, estimated by the
  regression method of Strong, Oakley and Brennan (2014, Med Decis Making 34:311): regress each
  decision's incremental net benefit on the input(s), here with a penalized cubic B-spline
  (a P-spline, Eilers and Marx 1996) on the normal scores of the input's ranks, smoothing chosen by
  generalized cross-validation; a group is an additive fit plus the pairwise products of its inputs'
  normal scores. The fitted values, clipped to the range of the values they fit, stand in for
  ``E[NB_d | x]``. Its SE is the bootstrap one
  (Poisson weights on the draws, the smoothing held at its chosen value).

NumPy/SciPy only: no files, no xarray.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.interpolate import BSpline
from scipy.special import ndtri
from scipy.stats import rankdata

#: Input groups: a group holds the inputs whose names start with one of its prefixes.
GROUPS: dict[str, tuple[str, ...]] = {
    "price (level, decline, path)": ("price.",),
    "utilization and demand": ("utilization.", "demand."),
    "throughput and software": ("throughput.", "workload.", "optimization."),
    "power": ("power.",),
    "financing": ("finance.", "debt."),
    "capex": ("capex.", "cluster."),
    "opex": ("opex.",),
    "contract": ("contract.",),
}
#: Spline segments per input (cubic B-splines: segments + 3 basis functions).
SEGMENTS = 12
#: Bootstrap resamples behind each EVPPI's standard error.
N_BOOT = 100
#: Smoothing parameters tried by GCV (times the basis' scale).
LAMBDAS = np.logspace(-6, 4, 21)


@dataclass(frozen=True)
class Value:
    """One value of information in the net benefit's units (USD), with its Monte Carlo SE."""

    name: str
    value: float
    se: float
    inputs: tuple[str, ...] = ()
    r2: float = math.nan
    dof: float = math.nan


@dataclass(frozen=True)
class VoiResult:
    """EVPI, the EVPPI of each input and group, and the decision they are about."""

    decisions: list[str]
    best: str
    expected: dict[str, float]
    evpi: Value
    inputs: list[Value] = field(default_factory=list)
    groups: list[Value] = field(default_factory=list)
    draws: int = 0


def evpi(nb: np.ndarray) -> tuple[float, float]:
    """EVPI of net benefits ``nb`` (n draws, D decisions) and its SE (USD).

    ``a_i = max_d nb[i, d] - nb[i, d*]``, ``d* = argmax_d mean(nb[:, d])``; EVPI = mean(a),
    SE = sd(a) / sqrt(n) (iid draws; the choice of ``d*`` is held fixed).
    """
    nb = np.asarray(nb, dtype=float)
    best = int(np.argmax(nb.mean(axis=0)))
    a = nb.max(axis=1) - nb[:, best]
    n = a.size
    return float(a.mean()), float(a.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan


def normal_scores(x: np.ndarray) -> np.ndarray:
    """``ndtri(rank / (n + 1))`` of each column of ``x`` (n,) or (n, k): ties share a score."""
    x = np.asarray(x, dtype=float)
    r = rankdata(x, axis=0) / (x.shape[0] + 1)
    return np.asarray(ndtri(r))


def spline_basis(z: np.ndarray, segments: int = SEGMENTS) -> np.ndarray:
    """Cubic B-spline basis (n, segments + 3) of ``z`` on equally spaced knots over its range."""
    lo, hi = float(z.min()), float(z.max())
    pad = 1e-9 * max(1.0, hi - lo)
    h = (hi - lo + 2 * pad) / segments
    t = lo - pad + h * np.arange(-3, segments + 4)
    return np.asarray(BSpline.design_matrix(z, t, 3).toarray())


def _penalty(k: int) -> np.ndarray:
    d = np.diff(np.eye(k), n=2, axis=0)
    return np.asarray(d.T @ d)


def design(z: np.ndarray, segments: int = SEGMENTS) -> tuple[np.ndarray, np.ndarray]:
    """Regression design for normal scores ``z`` (n, k): bases and their penalty matrix.

    One cubic B-spline basis per column (penalized by squared second differences of its
    coefficients), then, for k > 1, the unpenalized pairwise products ``z_j z_l``. The bases sum
    to one, so the intercept is in their span.
    """
    z = np.atleast_2d(np.asarray(z, dtype=float).T).T
    k = z.shape[1]
    blocks = [spline_basis(z[:, j], segments) for j in range(k)]
    pairs = [z[:, j] * z[:, m] for j in range(k) for m in range(j + 1, k)]
    if pairs:
        blocks.append(np.column_stack(pairs))
    b = np.hstack(blocks)
    pen = np.zeros((b.shape[1], b.shape[1]))
    nb = segments + 3
    for j in range(k):
        pen[j * nb : (j + 1) * nb, j * nb : (j + 1) * nb] = _penalty(nb)
    return b, pen


def _solve(gram: np.ndarray, pen: np.ndarray, lam: float, rhs: np.ndarray) -> np.ndarray:
    """Coefficients of the penalized normal equations (a tiny ridge: additive bases overlap)."""
    a = gram + lam * pen
    a[np.diag_indices_from(a)] += 1e-10 * np.trace(gram) / gram.shape[0]
    return np.asarray(np.linalg.solve(a, rhs))


def fit_smoother(b: np.ndarray, pen: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Penalized least squares of ``y`` (n, m) on ``b`` with the GCV-best smoothing.

    Returns the fitted values (n, m), the chosen lambda and the effective degrees of freedom.
    """
    n = b.shape[0]
    gram, rhs = b.T @ b, b.T @ y
    scale = np.trace(gram) / max(np.trace(pen), 1e-300)
    best = (math.inf, 0.0, 0.0)
    for lam in LAMBDAS * scale:
        a = gram + lam * pen
        a[np.diag_indices_from(a)] += 1e-10 * np.trace(gram) / gram.shape[0]
        coef = np.linalg.solve(a, rhs)
        edf = float(np.trace(np.linalg.solve(a, gram)))
        rss = float(((y - b @ coef) ** 2).sum())
        gcv = n * rss / max(n - edf, 1.0) ** 2
        if gcv < best[0]:
            best = (gcv, float(lam), edf)
    return b @ _solve(gram, pen, best[1], rhs), best[1], best[2]


def _gain(fitted: np.ndarray) -> float:
    """EVPPI from fitted incremental net benefits (n, D - 1) against a reference decision at 0."""
    full = np.column_stack([np.zeros(fitted.shape[0]), fitted])
    return float(full.max(axis=1).mean() - full.mean(axis=0).max())


#: Batches of draws that the bootstrap resamples (blocks of iid draws: the same law as resampling draws).
BATCHES = 100


def _batch_bootstrap(
    b: np.ndarray, pen: np.ndarray, lam: float, y: np.ndarray, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """EVPPI on ``n_boot`` resamples: each of :data:`BATCHES` consecutive blocks of draws gets a
    Poisson(1) weight; the weighted normal equations are sums of per-block Gram matrices."""
    n = b.shape[0]
    edges = np.linspace(0, n, min(BATCHES, n) + 1).astype(int)
    grams = np.stack([b[s:e].T @ b[s:e] for s, e in zip(edges[:-1], edges[1:], strict=True)])
    rhss = np.stack([b[s:e].T @ y[s:e] for s, e in zip(edges[:-1], edges[1:], strict=True)])
    block = np.repeat(np.arange(edges.size - 1), np.diff(edges))
    wb = rng.poisson(1.0, (n_boot, edges.size - 1)).astype(float)
    coefs = [_solve(np.tensordot(w, grams, 1), pen, lam, np.tensordot(w, rhss, 1)) for w in wb]
    d = y.shape[1]
    fitted = (b @ np.hstack(coefs)).reshape(n, n_boot, d)  # one product for every resample
    fitted = np.clip(fitted, y.min(axis=0), y.max(axis=0))
    full = np.concatenate([np.zeros((n, n_boot, 1)), fitted], axis=2)
    w = wb[:, block].T  # (n, n_boot)
    sw = w.sum(axis=0)
    best_each = np.einsum("nr,nr->r", w, full.max(axis=2)) / sw
    best_mean = (np.einsum("nr,nrd->rd", w, full) / sw[:, None]).max(axis=1)
    return np.asarray(best_each - best_mean)


def evppi(
    z: np.ndarray, inc: np.ndarray, *, n_boot: int = N_BOOT, seed: int = 0, segments: int = SEGMENTS
) -> tuple[float, float, float, float]:
    """EVPPI of the input(s) with normal scores ``z`` (n, k) for incremental net benefits ``inc`` (n, D-1).

    ``inc[:, d] = NB_{d+1} - NB_0``. Returns (EVPPI, bootstrap SE, R^2 of the fit, effective
    degrees of freedom). See the module docstring for the method.
    """
    inc = np.asarray(inc, dtype=float).reshape(inc.shape[0], -1)
    b, pen = design(z, segments)
    fitted, lam, edf = fit_smoother(b, pen, inc)
    # a conditional mean lies within the values it averages: a fit that strays outside them (in a
    # sparse tail) is clipped back, so that an alternative no draw favours is never favoured
    fitted = np.clip(fitted, inc.min(axis=0), inc.max(axis=0))
    value = _gain(fitted)
    ss = ((inc - inc.mean(axis=0)) ** 2).sum()
    r2 = float(1 - ((inc - fitted) ** 2).sum() / ss) if ss > 0 else math.nan
    if n_boot < 2:
        return value, math.nan, r2, edf
    boots = _batch_bootstrap(b, pen, lam, inc, n_boot, np.random.default_rng(seed))
    return value, float(np.std(boots, ddof=1)), r2, edf


def group_members(names: Sequence[str], prefixes: Sequence[str]) -> list[str]:
    """The names that start with one of ``prefixes``, in order."""
    return [n for n in names if any(n.startswith(p) for p in prefixes)]


def value_of_information(
    nb: np.ndarray,
    decisions: Sequence[str],
    features: Mapping[str, np.ndarray],
    *,
    groups: Mapping[str, Sequence[str]] | None = None,
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> VoiResult:
    """EVPI and the EVPPI of every input in ``features`` and of every group, with SEs.

    Parameters
    ----------
    nb : (n, D) net benefit of each decision per draw (USD)
    decisions : the D decisions' names
    features : input name -> its values (n,) or (n, k): k columns where the input takes different
        values under different decisions (a compare run's platform-specific inputs)
    groups : group name -> member input names (default :data:`GROUPS` over ``features``);
        groups with fewer than two varying members are left out (their EVPPI is the member's)
    """
    nb = np.asarray(nb, dtype=float)
    means = nb.mean(axis=0)
    base = int(np.argmax(means))
    inc = np.delete(nb, base, axis=1) - nb[:, [base]]
    ev, ev_se = evpi(nb)
    scores = {k: normal_scores(np.asarray(v).reshape(nb.shape[0], -1)) for k, v in features.items()}
    per_input = []
    for i, (name, z) in enumerate(scores.items()):
        v, se, r2, edf = evppi(z, inc, n_boot=n_boot, seed=seed + i)
        per_input.append(Value(name, v, se, (name,), r2, edf))
    if groups is None:
        groups = {g: group_members(list(features), p) for g, p in GROUPS.items()}
    per_group = []
    for j, (g, members) in enumerate(groups.items()):
        present = [m for m in members if m in scores]
        if len(present) < 2:
            continue
        z = np.hstack([scores[m] for m in present])
        v, se, r2, edf = evppi(z, inc, n_boot=n_boot, seed=seed + 1000 + j)
        per_group.append(Value(g, v, se, tuple(present), r2, edf))
    return VoiResult(
        decisions=list(decisions),
        best=str(decisions[base]),
        expected={str(d): float(m) for d, m in zip(decisions, means, strict=True)},
        evpi=Value("all inputs (EVPI)", ev, ev_se),
        inputs=per_input,
        groups=per_group,
        draws=int(nb.shape[0]),
    )
