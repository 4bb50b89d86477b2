"""Verification core: rebuild a run's priors from its manifest and recompute chosen draws.

A draw depends only on (seed, input name, draw index) and the resolved priors, so any subset of
draws can be recomputed on its own: the uniforms of the chosen indices go through the same
copula, inverse CDFs and contract as in :func:`mcroi.engine.run`, and in float64 on one backend
the result is bit-identical to what the run stored. No file access here (see ``cli_verify``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from mcroi import engine
from mcroi.priors import PriorSet


def select_indices(
    draws: int, first: int = 1000, n_random: int = 1000, rng_seed: int | None = None
) -> tuple[np.ndarray, int]:
    """The draws to check: ``0 .. first-1`` plus ``n_random`` distinct others at random.

    Returns the sorted indices (int64) and the seed that chose them (print it to repeat a check).
    """
    if rng_seed is None:
        rng_seed = int(np.random.SeedSequence().entropy % 2**63)  # type: ignore[operator]
    head = np.arange(min(first, draws), dtype=np.int64)
    rest = draws - head.size
    k = min(n_random, rest)
    rng = np.random.default_rng(rng_seed)
    tail = head.size + rng.choice(rest, size=k, replace=False).astype(np.int64) if k else np.zeros(0, np.int64)
    return np.sort(np.concatenate([head, tail])), rng_seed


def recompute(
    priors: PriorSet,
    seed: int,
    index: np.ndarray,
    precision: str = "float64",
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Inputs (k, n_inputs) and outputs (k, ...) of the draws at absolute indices ``index`` (k,).

    Each requested draw is recomputed inside its own engine tile (``engine.TILE`` draws starting
    at a multiple of ``TILE``) by the engine's own compiled step, so it runs through exactly the
    kernel, at exactly the lane, that produced it in the run.
    """
    index = np.asarray(index, dtype=np.int64)
    k = index.size
    if k == 0:
        return np.zeros((0, len(engine.stored_names(priors)))), {}
    tile = engine.TILE
    starts = np.unique(index // tile) * tile
    with jax.enable_x64(True):
        step = _tile_step(priors, precision)
        keys = engine.run_keys(priors, int(seed))
        xs = np.empty((k, len(engine.stored_names(priors))))
        outs: dict[str, np.ndarray] = {}
        for s0 in starts:
            sel = np.nonzero((index >= s0) & (index < s0 + tile))[0]
            x, out = step(keys, jnp.asarray(int(s0), jnp.int64))
            x = np.asarray(x)
            xs[sel] = x[index[sel] - s0]
            for name, v in out._asdict().items():
                v = np.asarray(v)
                if name not in outs:
                    outs[name] = np.empty((k, *v.shape[1:]), dtype=v.dtype)
                outs[name][sel] = v[index[sel] - s0]
    return xs.astype(engine.PRECISIONS[precision]), outs


_FNS: dict[tuple[str, str], Any] = {}


def _tile_step(priors: PriorSet, precision: str) -> Any:
    """The engine's step for one tile on one device; cached per scenario and precision."""
    cache_key = (priors.sha256(), precision)
    if cache_key not in _FNS:
        if len(_FNS) > 8:
            _FNS.clear()
        _FNS[cache_key] = engine.make_step(priors, engine.TILE, engine.PRECISIONS[precision])
    return _FNS[cache_key]


@dataclass
class Mismatch:
    """One variable whose recomputed values differ from the stored ones."""

    variable: str
    n_different: int
    n_checked: int
    first_draw: int
    stored: float
    recomputed: float
    detail: str = ""


@dataclass
class Comparison:
    """Result of a bit-for-bit comparison over the checked draws."""

    n_draws: int
    variables: list[str] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches


def same_bits(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise: identical bit patterns, or both NaN (any payload). Shapes must match."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype:
        return np.zeros(a.shape, dtype=bool)
    ia = a.view(np.dtype(f"u{a.dtype.itemsize}"))
    ib = b.view(np.dtype(f"u{b.dtype.itemsize}"))
    return (ia == ib) | (np.isnan(a) & np.isnan(b))


def compare_draws(
    index: np.ndarray,
    names: Sequence[str],
    stored_inputs: np.ndarray,
    stored_outputs: Mapping[str, np.ndarray],
    inputs: np.ndarray,
    outputs: Mapping[str, np.ndarray],
) -> Comparison:
    """Compare stored and recomputed draws bit for bit, per input and per output."""
    res = Comparison(n_draws=int(np.asarray(index).size))

    def one(var: str, s: np.ndarray, r: np.ndarray) -> None:
        res.variables.append(var)
        if s.shape != r.shape:
            res.mismatches.append(
                Mismatch(var, res.n_draws, res.n_draws, -1, math.nan, math.nan, f"shape {s.shape} vs {r.shape}")
            )
            return
        if s.dtype != r.dtype:
            res.mismatches.append(
                Mismatch(var, res.n_draws, res.n_draws, -1, math.nan, math.nan, f"dtype {s.dtype} vs {r.dtype}")
            )
            return
        eq = same_bits(s, r)
        if eq.all():
            return
        bad_rows = ~eq.reshape(eq.shape[0], -1).all(axis=1)
        row = int(np.flatnonzero(bad_rows)[0])
        col = int(np.flatnonzero(~eq.reshape(eq.shape[0], -1)[row])[0])
        sv = float(s.reshape(s.shape[0], -1)[row, col])
        rv = float(r.reshape(r.shape[0], -1)[row, col])
        res.mismatches.append(Mismatch(var, int(bad_rows.sum()), res.n_draws, int(np.asarray(index)[row]), sv, rv))

    for j, name in enumerate(names):
        one(f"inputs[{name}]", np.asarray(stored_inputs)[:, j], np.asarray(inputs)[:, j])
    for name, r in outputs.items():
        if name not in stored_outputs:
            res.mismatches.append(
                Mismatch(name, res.n_draws, res.n_draws, -1, math.nan, math.nan, "missing from results.nc")
            )
            continue
        one(name, np.asarray(stored_outputs[name]), np.asarray(r))
    return res
