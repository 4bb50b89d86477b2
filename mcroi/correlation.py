"""Rank correlations -> a valid Gaussian-copula correlation matrix (NumPy only)."""

from __future__ import annotations

import math
import warnings

import numpy as np

from mcroi.priors import PriorsError, PriorSet


class CorrelationRepairWarning(UserWarning):
    """The requested correlations were not positive semi-definite and were repaired."""


def spearman_to_pearson(rho_s: np.ndarray | float) -> np.ndarray:
    """Normal-scores Pearson correlation that gives Spearman ``rho_s`` under a Gaussian copula."""
    return 2.0 * np.sin(np.pi * np.asarray(rho_s, dtype=float) / 6.0)


def nearest_correlation(a: np.ndarray, tol: float = 1e-12, max_iter: int = 1000) -> np.ndarray:
    """Higham's (2002) alternating projections: the nearest correlation matrix in Frobenius norm."""
    y = np.array(a, dtype=float)
    ds = np.zeros_like(y)
    for _ in range(max_iter):
        r = y - ds
        w, v = np.linalg.eigh(r)
        x = (v * np.maximum(w, 0.0)) @ v.T
        ds = x - r
        y_new = x.copy()
        np.fill_diagonal(y_new, 1.0)
        if np.linalg.norm(y_new - y, "fro") <= tol * max(1.0, np.linalg.norm(y, "fro")):
            y = y_new
            break
        y = y_new
    # nudge to strictly positive definite so that a Cholesky factor exists
    w, v = np.linalg.eigh(y)
    if w.min() < 1e-10:
        w = np.maximum(w, 1e-10)
        y = (v * w) @ v.T
        d = np.sqrt(np.diag(y))
        y = y / np.outer(d, d)
    return y


def correlation_matrix(priors: PriorSet) -> np.ndarray:
    """Pearson correlation of the copula's normal scores, over ``priors.names``.

    Raises :class:`PriorsError` for a non-PSD matrix under ``strict = true``; otherwise repairs it
    and warns, listing each changed entry.
    """
    names = priors.names
    pos = {n: i for i, n in enumerate(names)}
    target = np.eye(len(names))
    for c in priors.correlations:
        i, j = pos[c.a], pos[c.b]
        target[i, j] = target[j, i] = c.spearman
    pearson = spearman_to_pearson(target)
    np.fill_diagonal(pearson, 1.0)
    if np.linalg.eigvalsh(pearson).min() > 1e-10:
        return pearson
    fixed = nearest_correlation(pearson)
    fixed_s = 6.0 / math.pi * np.arcsin(fixed / 2.0)
    changes = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            if abs(fixed_s[i, j] - target[i, j]) > 5e-4:
                changes.append(f"{names[i]} ~ {names[j]}: {target[i, j]:+.3f} -> {fixed_s[i, j]:+.3f}")
    file = priors.files[-1] if priors.files else "<priors>"
    if priors.strict:
        raise PriorsError(
            [f"{file}: correlation = {'; '.join(changes)}: the correlations are not positive semi-definite "
             "(strict = true); change them so that they can hold together"]
        )
    warnings.warn(
        f"{file}: correlations are not positive semi-definite; repaired to the nearest correlation matrix: "
        + "; ".join(changes),
        CorrelationRepairWarning,
        stacklevel=2,
    )
    return fixed
