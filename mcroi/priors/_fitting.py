"""Fitting mcroi's families to data: maximum likelihood, ranked by AIC."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from mcroi.priors._priorset import PriorsError


def read_column(file: Path, column: str) -> list[float]:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise PriorsError([f"{file}: cannot be read ({getattr(e, 'strerror', None) or e})"]) from None
    rows = list(csv.reader(text.splitlines()))
    if not rows or column not in rows[0]:
        cols = ", ".join(rows[0][:12]) if rows else "none"
        raise PriorsError([f"{file}: --column = {column!r}: no such column; columns: {cols}"])
    j = rows[0].index(column)
    vals = []
    for n, row in enumerate(rows[1:], start=2):
        cell = row[j].strip() if j < len(row) else ""
        if not cell:
            continue
        try:
            x = float(cell)
        except ValueError:
            raise PriorsError([f"{file}: line {n}: {column} = {cell!r}: not a number"]) from None
        if math.isfinite(x):
            vals.append(x)
    if len(vals) < 3 or min(vals) == max(vals):
        raise PriorsError([f"{file}: --column = {column!r}: needs at least 3 distinct finite numbers, has {len(vals)}"])
    return vals


def fit_families(x: Any) -> list[dict[str, Any]]:
    """Maximum-likelihood fits of mcroi's continuous families to data ``x`` (n,), best AIC first.

    Each result holds ``family``, ``params`` (the TOML parameters), ``k`` (free parameters),
    ``loglik`` and ``aic = 2k - 2 loglik``. Families whose support cannot hold the data are skipped.
    """
    import numpy as np
    from scipy import stats

    x = np.asarray(x, dtype=float)
    lo, hi = float(x.min()), float(x.max())
    span = hi - lo
    out: list[dict[str, Any]] = []

    def add(family: str, params: dict[str, float], k: int, logpdf: Any) -> None:
        ll = float(np.sum(logpdf))
        if math.isfinite(ll):
            out.append({"family": family, "params": params, "k": k, "loglik": ll, "aic": 2 * k - 2 * ll})

    mu, sd = stats.norm.fit(x)
    add("normal", {"mean": mu, "sd": sd}, 2, stats.norm.logpdf(x, mu, sd))
    if lo > 0:
        s, _, scale = stats.lognorm.fit(x, floc=0)
        add("lognormal", {"median": scale, "gsd": math.exp(s)}, 2, stats.lognorm.logpdf(x, s, 0, scale))
    # uniform / triangular / beta: MLE support slightly wider than the data (the MLE on the data's own
    # range puts zero density at the extremes)
    pad = span / (len(x) - 1)
    a, b = lo - pad, hi + pad
    add("uniform", {"min": a, "max": b}, 2, stats.uniform.logpdf(x, a, b - a))
    c, loc, scale = stats.triang.fit(x, floc=a, fscale=b - a)
    add("triangular", {"min": a, "mode": a + c * scale, "max": b}, 3, stats.triang.logpdf(x, c, a, b - a))
    with np.errstate(all="ignore"):
        al, be, _, _ = stats.beta.fit(x, floc=a, fscale=b - a)
    add("beta", {"alpha": al, "beta": be, "min": a, "max": b}, 4, stats.beta.logpdf(x, al, be, a, b - a))
    out.sort(key=lambda r: r["aic"])
    return out


def toml_line(key: str, r: dict[str, Any], source: str) -> str:
    params = ", ".join(f"{k} = {v:.6g}" for k, v in r["params"].items())
    return f'{key} = {{ dist = "{r["family"]}", {params}, source = "{source}" }}'
