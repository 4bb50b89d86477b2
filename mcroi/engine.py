"""The one place that jits, vmaps and chunks.

A run is evaluated in fixed-size chunks of draw indices: the last chunk is padded (and its
padding dropped), so the step compiles once per run and working memory is O(chunk). Only the
per-draw outputs grow with the number of draws. No Python loop over draws.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from mcroi import model
from mcroi.priors import PriorSet
from mcroi.sampling import canonicalize_key, copula_factor, name_keys, transform, uniforms

Array = jax.Array
DEFAULT_CHUNK = 65536
#: Chunks are padded to a multiple of this many lanes, so every draw goes through the same
#: vectorized code path (a remainder loop could round differently and break bit-identity).
LANE_MULTIPLE = 128
PRECISIONS = {"float64": jnp.float64, "float32": jnp.float32}

#: progress(done_draws, total_draws, last_chunk_outputs)
ProgressFn = Callable[[int, int, Mapping[str, np.ndarray]], None]


@dataclass
class RunArrays:
    """What the engine hands to the store: host arrays, draws first."""

    names: list[str]
    inputs: np.ndarray  # (draws, n_inputs)
    outputs: dict[str, np.ndarray]  # scalar outputs (draws,), annual (draws, years)
    timings: dict[str, float] = field(default_factory=dict)


def batch_function(priors: PriorSet) -> Callable[[Mapping[str, Array]], model.Outputs]:
    """The contract for a batch of draws (dict of (n,) arrays) with this scenario's constants bound."""
    knots = np.asarray(priors.curve, dtype=float) if priors.curve else None
    return partial(model.evaluate_batch, horizon=priors.horizon_months, knots=knots)


def _lanes(n: int) -> int:
    """``n`` rounded up to a multiple of :data:`LANE_MULTIPLE`."""
    return -(-n // LANE_MULTIPLE) * LANE_MULTIPLE


def _check_precision(precision: str) -> Any:
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    return PRECISIONS[precision]


def make_step(
    priors: PriorSet,
    chunk: int,
    dtype: Any,
    batch_fn: Callable[[Mapping[str, Array]], Any] | None = None,
) -> Callable[[Array, Array], tuple[Array, Any]]:
    """A jitted ``step(keys, start) -> (inputs (n_inputs, chunk), outputs)`` for one chunk.

    ``batch_fn`` maps a dict of (chunk,) input arrays to outputs (default: the contract).
    """
    fn = batch_fn or batch_function(priors)
    factor = copula_factor(priors)
    chol = None if factor is None else jnp.asarray(factor)

    @jax.jit
    def step(keys: Array, start: Array) -> tuple[Array, Any]:
        idx = start + jnp.arange(chunk, dtype=start.dtype)
        u = uniforms(keys, idx, dtype)
        inp = transform(priors, u, chol)
        out = fn(inp)
        return jnp.stack([inp[n] for n in priors.names]), out

    return step


def run(
    priors: PriorSet,
    draws: int,
    *,
    seed: int | Array = 0,
    chunk_size: int = DEFAULT_CHUNK,
    precision: str = "float64",
    progress: ProgressFn | None = None,
) -> RunArrays:
    """Sample every input and evaluate the contract for draws ``0 .. draws - 1``.

    The draws depend only on ``(seed, input name, draw index)``, never on ``chunk_size``.
    """
    if draws < 1:
        raise ValueError("draws must be >= 1")
    if chunk_size < 1:
        raise ValueError("chunk_size must be >= 1")
    dtype = _check_precision(precision)
    with jax.enable_x64(True):
        t0 = time.perf_counter()
        chunk = _lanes(min(chunk_size, draws))
        keys = name_keys(canonicalize_key(seed), priors.names)
        step = make_step(priors, chunk, dtype)
        n_in = len(priors.names)
        inputs = np.empty((draws, n_in), dtype=dtype)
        outputs: dict[str, np.ndarray] | None = None
        t_compile = 0.0
        for start in range(0, draws, chunk):
            t = time.perf_counter()
            inp, out = step(keys, jnp.asarray(start, jnp.int64))
            n = min(chunk, draws - start)
            inp_h = np.asarray(inp)[:, :n].T
            out_h = {k: np.asarray(v)[:n] for k, v in out._asdict().items()}
            if start == 0:
                t_compile = time.perf_counter() - t
            if outputs is None:
                outputs = {k: np.empty((draws, *v.shape[1:]), dtype=v.dtype) for k, v in out_h.items()}
            inputs[start : start + n] = inp_h
            for k, v in out_h.items():
                outputs[k][start : start + n] = v
            if progress is not None:
                progress(start + n, draws, out_h)
        assert outputs is not None
        total = time.perf_counter() - t0
    return RunArrays(
        names=list(priors.names),
        inputs=inputs,
        outputs=outputs,
        timings={"first_chunk_incl_compile_s": t_compile, "engine_s": total},
    )


def evaluate_inputs(
    priors: PriorSet,
    u: np.ndarray,
    fn: Callable[[Mapping[str, Array]], Any] | None = None,
    *,
    chunk_size: int = DEFAULT_CHUNK,
    precision: str = "float64",
) -> Any:
    """Evaluate ``fn`` on a design of uniforms ``u`` (n_inputs, n).

    ``fn`` is a function of ONE draw (a dict of 0-d arrays), vmapped here; None means the
    contract (evaluated batch-wise).

    For designs that are not plain Monte Carlo (Sobol', Saltelli, swing points): the uniforms go
    through the same copula and inverse CDFs as :func:`run`. Returns a pytree of host arrays
    with leading dimension ``n``.
    """
    dtype = _check_precision(precision)
    batch_fn = batch_function(priors) if fn is None else jax.vmap(fn)
    u = np.asarray(u)
    n = u.shape[1]
    with jax.enable_x64(True):
        factor = copula_factor(priors)
        chol = None if factor is None else jnp.asarray(factor)
        chunk = _lanes(min(chunk_size, n))

        @jax.jit
        def step(uc: Array) -> Any:
            return batch_fn(transform(priors, uc, chol))

        pieces = []
        for start in range(0, n, chunk):
            block = u[:, start : start + chunk]
            m = block.shape[1]
            if m < chunk:  # pad so the step compiles once
                block = np.concatenate([block, np.full((block.shape[0], chunk - m), 0.5)], axis=1)
            out = step(jnp.asarray(block, dtype))
            pieces.append(jax.tree.map(lambda a, m=m: np.asarray(a)[:m], out))
    return jax.tree.map(lambda *xs: np.concatenate(xs), *pieces)
