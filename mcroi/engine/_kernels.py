"""Compiled kernels of the analysis and report layers: the monthly paths of single draws.

The engine is the one place that compiles; :mod:`mcroi.analysis` and :mod:`mcroi.report` call
these instead of jitting their own functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache, partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from mcroi.engine import _model as model
from mcroi.engine._runner import _Stored
from mcroi.engine._sampling import PRICE_PATH, canonicalize_key, path_keys, path_shocks


def cumulative_cash(
    inputs: np.ndarray,
    names: Sequence[str],
    horizon: int,
    knots: np.ndarray | None = None,
    chunk: int = 4096,
    *,
    switches: Sequence[str] = (),
    seed: int | None = None,
    index: np.ndarray | None = None,
) -> np.ndarray:
    """Cumulative undiscounted cash of each draw by month, capex at month 0.

    Parameters
    ----------
    inputs
        (n, n_inputs) sampled inputs, columns in the order of ``names``.
    names
        Contract input names (the run's ``input`` coordinate).
    horizon
        H, months.
    knots
        The scenario's throughput curve (k, 2) or None.
    switches
        (v2) The scenario's switches that are on.
    seed, index
        (v2) The run's seed and the draws' indices (default 0..n-1): a run with a price path
        (``price.path`` among ``names``) regenerates each draw's path from them.

    Returns
    -------
    numpy.ndarray
        (n, H + 1) USD: ``sum_{k<=m} CF(k)``; column 0 is ``-C``.
    """
    x = np.asarray(inputs)
    n = x.shape[0]
    names = list(names)
    idx = np.arange(n, dtype=np.int64) if index is None else np.asarray(index, np.int64)
    with jax.enable_x64(True):
        pathy = PRICE_PATH in names and seed is not None
        keys = path_keys(canonicalize_key(int(seed)), horizon)[1:] if pathy and seed is not None else None
        static = (
            tuple(names),
            int(horizon),
            None if knots is None else tuple(map(tuple, np.asarray(knots, float).tolist())),
            tuple(sorted(switches)),
        )
        size = min(chunk, n)
        out = np.empty((n, horizon + 1), dtype=np.float64)
        for start in range(0, n, size):
            block, at = x[start : start + size], idx[start : start + size]
            m = block.shape[0]
            if m < size:  # pad so the function compiles once
                block = np.concatenate([block, np.repeat(block[-1:], size - m, axis=0)])
                at = np.concatenate([at, np.repeat(at[-1:], size - m)])
            cum = _cumulative_step(*static)(jnp.asarray(block), None if keys is None else keys, jnp.asarray(at))
            out[start : start + m] = np.asarray(cum)[:m]
    return out


@lru_cache(maxsize=16)
def _cumulative_step(
    names: tuple[str, ...],
    horizon: int,
    knots: tuple[tuple[float, ...], ...] | None,
    switches: tuple[str, ...],
) -> Callable[..., Any]:
    """The monthly paths of a scenario, compiled; its traced program kept on disk like the engine's
    steps (the report's fan chart traced it in every process: a third of a second)."""
    jitted = jax.jit(partial(_cumulative, names=names, horizon=horizon, knots=knots, switches=switches))
    return _Stored(jitted, ("cumulative-cash", names, horizon, knots, switches), None)


def _cumulative(
    x: jax.Array,
    keys: jax.Array | None,
    index: jax.Array,
    names: tuple[str, ...],
    horizon: int,
    knots: tuple[tuple[float, ...], ...] | None,
    switches: tuple[str, ...],
) -> jax.Array:
    k = None if knots is None else np.asarray(knots, float)
    shocks = None if keys is None else path_shocks(keys, index, x.dtype)  # (H, n) each

    def one(row: jax.Array, z: jax.Array | None, w: jax.Array | None) -> jax.Array:
        inp = {name: row[i] for i, name in enumerate(names) if name != PRICE_PATH}
        if z is not None and w is not None:
            inp |= {"price.path.z": z, "price.path.w": w}
        _, mo = model.monthly(inp, horizon, k, switches)
        return jnp.cumsum(mo.cashflow_usd)

    if shocks is None:
        return jax.vmap(lambda r: one(r, None, None))(x)
    return jax.vmap(one, in_axes=(0, 1, 1))(x, shocks["price.path.z"], shocks["price.path.w"])
