"""The same draws again, with one input shifted: common random numbers for goal seek.

A run's draw ``i`` depends only on (seed, input name, ``i``), so the engine can evaluate draws
``0 .. n - 1`` again with every input and price-path shock exactly as the run drew them, except
one input moved by ``shift`` (added to every draw, or multiplied into it). The shift is an
argument of the compiled step, so a search over it compiles once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from mcroi.engine import _model as model
from mcroi.engine._runner import PRECISIONS, TILE, _remember, _tile_evaluator
from mcroi.engine._sampling import run_keys
from mcroi.priors import PriorSet

Array = jax.Array

#: How a shift moves the input: ``add`` (x + shift) or ``scale`` (x * shift).
SHIFT_MODES = ("add", "scale")
_SHIFT_STEPS: dict[tuple[Any, ...], Any] = {}


def _build(priors: PriorSet, name: str, mode: str, outputs: tuple[str, ...], chunk: int, dtype: Any) -> Any:
    knots = np.asarray(priors.curve, dtype=float) if priors.curve else None
    irr = any(o in ("irr_annual", "equity_irr_annual") for o in outputs)

    def step(keys: Array, start: Array, shift: Array) -> dict[str, Array]:
        def fn(inp: Any) -> Any:
            moved = dict(inp)
            s = shift.astype(inp[name].dtype)
            moved[name] = inp[name] + s if mode == "add" else inp[name] * s
            return model.evaluate_batch(moved, priors.horizon_months, knots, irr=irr, switches=priors.switches)

        one_tile = _tile_evaluator(priors, fn, dtype)
        idx = start + jnp.arange(chunk, dtype=start.dtype)
        _, out = jax.lax.map(lambda t: one_tile(keys, t), idx.reshape(chunk // TILE, TILE))
        return {k: getattr(out, k).reshape(chunk, *getattr(out, k).shape[2:]) for k in outputs}

    return jax.jit(step)


def shifted_outputs(
    priors: PriorSet,
    seed: int,
    draws: int,
    name: str,
    shift: float,
    outputs: Sequence[str],
    *,
    mode: str = "add",
    precision: str = "float64",
) -> dict[str, np.ndarray]:
    """Outputs of draws ``0 .. draws - 1`` of a run (``priors``, ``seed``) with input ``name`` shifted.

    Parameters
    ----------
    name
        One of the priors' inputs (constant or not).
    shift
        Added to the input in every draw (``mode="add"``) or multiplied into it (``"scale"``).
    outputs
        Fields of :class:`~mcroi.engine.Outputs` to return, (draws,) or (draws, years) each; the
        IRR is solved only when one of them is an IRR.

    The compiled step is kept per (scenario, input, mode, outputs, precision), so repeated calls
    with other shifts reuse it.
    """
    if name not in priors.inputs:
        raise ValueError(f"{name} is not an input of scenario {priors.name}")
    if mode not in SHIFT_MODES:
        raise ValueError(f"mode must be one of {', '.join(SHIFT_MODES)}, got {mode!r}")
    dtype = PRECISIONS[precision]
    with jax.enable_x64(True):
        chunk = TILE * max(1, min(16, -(-draws // TILE)))
        key = (priors.sha256(), name, mode, tuple(outputs), chunk, jnp.dtype(dtype).name)
        step = _remember(_SHIFT_STEPS, key, lambda: _build(priors, name, mode, tuple(outputs), chunk, dtype))
        keys = run_keys(priors, int(seed))
        s = jnp.asarray(shift, jnp.float64)
        pieces = [step(keys, jnp.asarray(a, jnp.int64), s) for a in range(0, draws, chunk)]
        return {k: np.concatenate([np.asarray(p[k]) for p in pieces])[:draws] for k in outputs}
