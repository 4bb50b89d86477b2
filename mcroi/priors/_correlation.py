"""Rank correlations -> a valid Gaussian-copula correlation matrix (NumPy only, no JAX).

A ``[[correlation]]`` entry asks for a Spearman rank correlation between two inputs. Under a
Gaussian copula the normal scores need Pearson ``rho = 2 sin(pi * rho_s / 6)`` to produce Spearman
``rho_s`` (Kruskal 1958), and because the copula acts on the uniforms before the inverse CDFs,
every marginal stays exactly as specified. The requested pairs may not hold together (the matrix
is not positive semi-definite): then it is repaired to the nearest correlation matrix (Higham
2002) with a :class:`CorrelationRepairWarning` that lists each changed entry, or refused under
``strict = true``. :func:`check` is what the priors reader and ``mcroi priors check`` call, so a
refusal surfaces when the file is loaded, not when it is sampled.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np

from mcroi.priors._priorset import Correlation, PriorsError, PriorSet

#: Smallest eigenvalue accepted as positive definite (a Cholesky factor must exist).
EIG_TOL = 1e-10
#: A repaired Spearman entry that moved by more than this is reported as changed.
REPORT_TOL = 5e-4


class CorrelationRepairWarning(UserWarning):
    """The requested correlations were not positive semi-definite and were repaired."""


def spearman_to_pearson(rho_s: np.ndarray | float) -> np.ndarray:
    """Normal-scores Pearson correlation that gives Spearman ``rho_s`` under a Gaussian copula.

    Elementwise ``2 sin(pi rho_s / 6)``; maps [-1, 1] onto [-1, 1], 0 to 0 and +-1 to +-1.
    """
    return 2.0 * np.sin(np.pi * np.asarray(rho_s, dtype=float) / 6.0)


def pearson_to_spearman(rho: np.ndarray | float) -> np.ndarray:
    """Inverse of :func:`spearman_to_pearson`: ``(6 / pi) arcsin(rho / 2)``."""
    return 6.0 / math.pi * np.arcsin(np.asarray(rho, dtype=float) / 2.0)


def nearest_correlation(a: np.ndarray, tol: float = 1e-12, max_iter: int = 1000) -> np.ndarray:
    """Nearest correlation matrix to symmetric ``a`` (k, k) in Frobenius norm.

    Higham's (2002) alternating projections with Dykstra's correction, then a nudge of the
    smallest eigenvalues up to ``EIG_TOL`` (and a rescale to unit diagonal) so that a Cholesky
    factor exists.
    """
    y = np.array(a, dtype=float)
    ds = np.zeros_like(y)
    for _ in range(max_iter):
        r = y - ds
        w, v = np.linalg.eigh(r)
        x = (v * np.maximum(w, 0.0)) @ v.T
        ds = x - r
        y_new = x.copy()
        np.fill_diagonal(y_new, 1.0)
        done = np.linalg.norm(y_new - y, "fro") <= tol * max(1.0, float(np.linalg.norm(y, "fro")))
        y = y_new
        if done:
            break
    w, v = np.linalg.eigh(y)
    if w.min() < EIG_TOL:
        y = (v * np.maximum(w, EIG_TOL)) @ v.T
        d = np.sqrt(np.diag(y))
        y = y / np.outer(d, d)
    return 0.5 * (y + y.T)


def target_spearman(names: Sequence[str], correlations: Sequence[Correlation]) -> np.ndarray:
    """The requested Spearman matrix (k, k) over ``names`` (identity where unspecified)."""
    pos = {n: i for i, n in enumerate(names)}
    target = np.eye(len(names))
    for c in correlations:
        i, j = pos[c.a], pos[c.b]
        target[i, j] = target[j, i] = c.spearman
    return target


def repair(names: Sequence[str], correlations: Sequence[Correlation]) -> tuple[np.ndarray, list[str]]:
    """Pearson matrix of the copula's normal scores (k, k), and the list of repaired entries.

    The list is empty when the requested correlations are positive definite as given; otherwise
    each entry reads ``"a ~ b: +0.900 -> +0.712"`` (Spearman, requested -> achievable).
    """
    target = target_spearman(names, correlations)
    pearson = spearman_to_pearson(target)
    np.fill_diagonal(pearson, 1.0)
    if np.linalg.eigvalsh(pearson).min() > EIG_TOL:
        return pearson, []
    fixed = nearest_correlation(pearson)
    fixed_s = pearson_to_spearman(fixed)
    changes = [
        f"{names[i]} ~ {names[j]}: {target[i, j]:+.3f} -> {fixed_s[i, j]:+.3f}"
        for i in range(len(names))
        for j in range(i + 1, len(names))
        if abs(fixed_s[i, j] - target[i, j]) > REPORT_TOL
    ]
    if not changes:  # moved by less than the report tolerance everywhere: still say so
        changes = ["(every entry moved by less than 0.0005)"]
    return fixed, changes


def check(names: Sequence[str], correlations: Sequence[Correlation], file: str, strict: bool) -> list[str]:
    """Problems with the correlations as one line each (``PriorsError`` format).

    Under ``strict`` a matrix that is not positive definite is an error; otherwise it is not (the
    sampler repairs it and warns) and the list is empty. Only the inputs named by a correlation
    enter the matrix, so this is cheap for any scenario.
    """
    if not correlations:
        return []
    used = [n for n in names if any(n in (c.a, c.b) for c in correlations)]
    _, changes = repair(used, correlations)
    if changes and strict:
        return [
            f"{file}: correlation = {'; '.join(changes)}: the correlations are not positive semi-definite "
            "and strict = true refuses to repair them; change them so that they can hold together "
            "(the values after -> are the nearest that can), or remove strict"
        ]
    return []


def repair_notes(priors: PriorSet) -> list[str]:
    """The entries a non-strict repair would change (empty when none); for ``mcroi priors check``."""
    if not priors.correlations:
        return []
    used = [n for n in priors.names if any(n in (c.a, c.b) for c in priors.correlations)]
    return repair(used, priors.correlations)[1]


def correlation_matrix(priors: PriorSet) -> np.ndarray:
    """Pearson correlation (n_inputs, n_inputs) of the copula's normal scores, over ``priors.names``.

    Raises
    ------
    PriorsError
        For a matrix that is not positive semi-definite under ``strict = true``.

    Warns
    -----
    CorrelationRepairWarning
        When it repairs such a matrix, listing each changed entry.
    """
    names = priors.names
    file = priors.files[-1] if priors.files else "<priors>"
    lines = check(names, priors.correlations, file, priors.strict)
    if lines:
        raise PriorsError(lines)
    matrix, changes = repair(names, priors.correlations)
    if changes:
        warnings.warn(
            f"{file}: correlations are not positive semi-definite; repaired to the nearest correlation matrix "
            "(Spearman, requested -> used): " + "; ".join(changes),
            CorrelationRepairWarning,
            stacklevel=2,
        )
    return matrix
