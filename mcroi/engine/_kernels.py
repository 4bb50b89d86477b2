"""Compiled kernels of the analysis and report layers: the monthly paths of single draws.

The engine is the one place that compiles; :mod:`mcroi.analysis` and :mod:`mcroi.report` call
these instead of jitting their own functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from mcroi.engine import _model as model


def cumulative_cash(
    inputs: np.ndarray,
    names: Sequence[str],
    horizon: int,
    knots: np.ndarray | None = None,
    chunk: int = 4096,
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

    Returns
    -------
    numpy.ndarray
        (n, H + 1) USD: ``sum_{k<=m} CF(k)``; column 0 is ``-C``.
    """
    x = np.asarray(inputs)
    n = x.shape[0]
    names = list(names)
    with jax.enable_x64(True):
        static = (
            tuple(names),
            int(horizon),
            None if knots is None else tuple(map(tuple, np.asarray(knots, float).tolist())),
        )
        size = min(chunk, n)
        out = np.empty((n, horizon + 1), dtype=np.float64)
        for start in range(0, n, size):
            block = x[start : start + size]
            m = block.shape[0]
            if m < size:  # pad so the function compiles once
                block = np.concatenate([block, np.repeat(block[-1:], size - m, axis=0)])
            out[start : start + m] = np.asarray(_cumulative_jit(jnp.asarray(block), *static))[:m]
    return out


@partial(jax.jit, static_argnums=(1, 2, 3))
def _cumulative_jit(
    x: jax.Array, names: tuple[str, ...], horizon: int, knots: tuple[tuple[float, ...], ...] | None
) -> jax.Array:
    k = None if knots is None else np.asarray(knots, float)

    def one(row: jax.Array) -> jax.Array:
        inp = {name: row[i] for i, name in enumerate(names)}
        _, mo = model.monthly(inp, horizon, k)
        return jnp.cumsum(mo.cashflow_usd)

    return jax.vmap(one)(x)
