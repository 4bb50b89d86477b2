"""The one place that jits, vmaps and chunks.

A run is evaluated in fixed-size chunks of draw indices: the last chunk is padded (and its
padding dropped), so the step compiles once per run and working memory is O(chunk). Only the
per-draw outputs grow with the number of draws. No Python loop over draws: the contract runs on
a whole tile of draws at once (:func:`mcroi.engine.evaluate_batch`); per-draw functions given to
:func:`evaluate_inputs` are vmapped.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, cast

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from mcroi.engine import _model as model
from mcroi.engine._devices import local_devices, program_dir, read_program, source_digest, write_program
from mcroi.engine._guards import NumericReport, check_numeric, merge_numeric
from mcroi.engine._outputs import SCALAR_OUTPUTS, irr_for_summaries
from mcroi.engine._sampling import (
    PRICE_PATH,
    add_path_draws,
    copula_factor,
    derived_names,
    run_keys,
    stored_names,
    transform,
    uniforms,
)
from mcroi.engine._sketch import QuantileSketch, RunStream, npv_errors
from mcroi.priors import PriorSet

Array = jax.Array
DEFAULT_CHUNK = 65536
#: Draws whose inputs and outputs a ``keep="summary"`` run still keeps (for fan charts).
SUBSAMPLE = 10_000
PRECISIONS = {"float64": jnp.float64, "float32": jnp.float32}

#: progress(done_draws, total_draws, last): ``last`` holds the last chunk's outputs, or only
#: ``median_npv_usd`` (the running median of all draws so far) when the run streams.
ProgressFn = Callable[[int, int, Mapping[str, np.ndarray | float]], None]


@dataclass
class RunArrays:
    """What the engine hands to the store: host arrays, draws first.

    With ``keep="draws"`` the arrays hold every draw. With ``keep="summary"`` they hold only the
    fixed subsample (the first ``subsample`` draws of the range) and ``stream`` holds the
    streaming summary of all draws.
    """

    names: list[str]
    inputs: np.ndarray  # (draws or subsample, n_inputs)
    outputs: dict[str, np.ndarray]  # scalar outputs (draws,), annual (draws, years)
    timings: dict[str, float] = field(default_factory=dict)
    stream: RunStream | None = None
    draws: int = 0  # draws evaluated
    start: int = 0  # first draw index
    keep: str = "draws"
    errors: dict[str, float] | None = None  # achieved MCSEs (convergence stopping)
    converged: bool | None = None
    devices: int = 1
    numeric: NumericReport | None = None  # the numeric guard over every draw of a streamed run


def batch_function(priors: PriorSet) -> Callable[[Mapping[str, Array]], model.Outputs]:
    """The contract for a batch of draws (dict of (n,) arrays) with this scenario's constants bound."""
    knots = np.asarray(priors.curve, dtype=float) if priors.curve else None
    return partial(model.evaluate_batch, horizon=priors.horizon_months, knots=knots, switches=priors.switches)


def _check_precision(precision: str) -> Any:
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    return PRECISIONS[precision]


#: Lanes evaluated together by one compiled kernel (see :func:`make_step`); chunks are rounded up
#: to a multiple of ``TILE`` x devices so that a draw's arithmetic never depends on the chunk size.
TILE = 1024


def make_mesh(devices: int | Sequence[Any] | None = None) -> Mesh:
    """A 1-D mesh named ``"draw"`` over this process's devices (all by default)."""
    devs = list(devices) if isinstance(devices, Sequence) else local_devices(devices)
    return Mesh(np.array(devs), ("draw",))


def _chunk_stats(out: Any, idx: Array, stop: Array, horizon: int, sharded: bool) -> dict[str, Array]:
    """Streaming statistics of one chunk, reduced on the device (only these travel to the host).

    Per scalar output, :func:`_output_stats`; under ``"_risk"``, :func:`_risk_stats`. Lanes at or
    past ``stop`` (padding) are ignored. :meth:`mcroi.engine.RunStream.add_stats` adds them up.
    """
    sketch = QuantileSketch()

    def total(x: Array) -> Array:
        return jax.lax.psum(x, "draw") if sharded else x

    valid = idx < stop
    stats = {k: _output_stats(_summarized(out, k), valid, sketch, total) for k in SCALAR_OUTPUTS}
    stats["_risk"] = _risk_stats(out, valid, horizon, total)
    return stats


def _summarized(out: Any, k: str) -> Array:
    """Output ``k`` of a chunk as the summaries count it (:func:`~mcroi.engine.irr_for_summaries`)."""
    if k == "irr_annual":
        return irr_for_summaries(out.irr_annual.astype(jnp.float64), out.net_roi, jnp)
    return getattr(out, k)


def _count(mask: Array, total: Callable[[Array], Array]) -> Array:
    """How many lanes of ``mask`` are set (summed over devices by ``total``), as float64."""
    return total(jnp.sum(mask.astype(jnp.int64))).astype(jnp.float64)


def _output_stats(x: Array, valid: Array, sketch: QuantileSketch, total: Callable[[Array], Array]) -> Array:
    """One scalar output's statistics over the ``valid`` lanes, laid out as ``add_stats`` reads them.

    The counts of lanes, NaN and inf; the count, mean and sum of squared deviations of finite
    values; the count of finite values past the sketch's range; then the sketch's bin counts
    (:meth:`~mcroi.engine.QuantileSketch.slots`, computed in float64).
    """
    nslots = sketch.counts.size
    x = x.astype(jnp.float64)
    nan, inf = jnp.isnan(x), jnp.isinf(x)
    fin = valid & ~nan & ~inf
    slot = sketch.slots(x, jnp)
    slot = jnp.where(valid & ~nan, slot, nslots)  # dropped
    counts = jnp.zeros((nslots + 1,), jnp.int32).at[slot].add(1)[:nslots]
    c = total(jnp.sum(fin.astype(jnp.int64)))
    mean = total(jnp.sum(jnp.where(fin, x, 0.0))) / jnp.maximum(c, 1).astype(jnp.float64)
    m2 = total(jnp.sum(jnp.where(fin, (x - mean) ** 2, 0.0)))
    head = [
        _count(valid, total),
        _count(valid & nan, total),
        _count(valid & inf, total),
        c.astype(jnp.float64),
        mean,
        m2,
        _count(valid & jnp.isfinite(x) & (jnp.abs(x) > sketch.max_abs), total),
    ]
    return jnp.concatenate([jnp.stack(head), total(counts).astype(jnp.float64)])


def _risk_stats(out: Any, valid: Array, horizon: int, total: Callable[[Array], Array]) -> Array:
    """Hits and trials of the risk probabilities: NPV < 0, no payback within the horizon, ROI
    multiple < 1 (of the draws where it is defined)."""
    npv, pb, roi = out.npv_usd, out.payback_months, out.roi_multiple
    roi_ok = valid & ~jnp.isnan(roi)
    return jnp.stack(
        [
            _count(valid & (npv < 0), total),
            _count(valid, total),
            _count(valid & ~(pb <= horizon), total),
            _count(valid, total),
            _count(roi_ok & (roi < 1), total),
            _count(roi_ok, total),
        ]
    )


def make_step(
    priors: PriorSet,
    chunk: int,
    dtype: Any,
    batch_fn: Callable[[Mapping[str, Array]], Any] | None = None,
    mesh: Mesh | None = None,
    stats: bool = False,
) -> Callable[..., Any]:
    """A jitted ``step(keys, start) -> (inputs (chunk, n_inputs), outputs)`` for one chunk.

    ``batch_fn`` maps a dict of (chunk,) input arrays to outputs (default: the contract). With a
    ``mesh`` the chunk is split over its devices (``chunk`` must be a multiple of their number):
    device ``d`` evaluates draws ``start + d * chunk / D + (0 .. chunk / D - 1)`` on its own
    (``shard_map``), so a draw's value never depends on the device count. With ``stats`` (the
    contract only) the step is ``step(keys, start, stop)`` and also returns the chunk's streaming
    statistics (:func:`_chunk_stats`), reduced on the device.
    """
    one_tile = _tile_evaluator(priors, batch_fn or batch_function(priors), dtype)
    ndev = 1 if mesh is None else mesh.devices.size
    if chunk % ndev:
        raise ValueError(f"chunk ({chunk}) must be a multiple of the device count ({ndev})")
    local = chunk // ndev
    tile = TILE if local % TILE == 0 else local
    n_stored = len(stored_names(priors))

    def evaluate(keys: Array, start: Array) -> tuple[Array, Any, Array]:
        """This device's draws of the chunk: inputs (local, n_inputs), outputs, draw indices."""
        offset = start if mesh is None else start + jax.lax.axis_index("draw").astype(start.dtype) * local
        idx = offset + jnp.arange(local, dtype=start.dtype)
        # Evaluate in fixed tiles of TILE lanes: every draw then runs through the same compiled
        # kernel at the same lane position (its index mod TILE), whatever the chunk size or
        # device count, so XLA's vectorization and thread split cannot change its last bit.
        tiles_in, tiles_out = jax.lax.map(lambda t: one_tile(keys, t), idx.reshape(local // tile, tile))
        stacked = tiles_in.reshape(local, n_stored)  # draws first, as the host keeps them
        out = jax.tree.map(lambda a: a.reshape(local, *a.shape[2:]), tiles_out)
        return stacked, out, idx

    def block(keys: Array, start: Array) -> tuple[Array, Any]:
        stacked, out, _ = evaluate(keys, start)
        return stacked, out

    def block_with_stats(keys: Array, start: Array, stop: Array) -> tuple[Array, Any, dict[str, Array]]:
        stacked, out, idx = evaluate(keys, start)
        return stacked, out, _chunk_stats(out, idx, stop, priors.horizon_months, mesh is not None)

    step: Callable[..., Any] = block_with_stats if stats else block
    if mesh is None:
        return jax.jit(step)
    in_specs, out_specs = _step_specs(stats)
    return jax.jit(jax.shard_map(step, mesh=mesh, in_specs=in_specs, out_specs=out_specs, check_vma=False))


def _tile_evaluator(
    priors: PriorSet, fn: Callable[[Mapping[str, Array]], Any], dtype: Any
) -> Callable[[Array, Array], tuple[Array, Any]]:
    """``one_tile(keys, idx) -> (inputs (tile, n_stored), fn(inputs))``: sample draws ``idx`` and evaluate.

    ``keys`` holds the inputs' keys, then (v2) :func:`path_keys`. The stored inputs are the
    priors' inputs, then (v2) the default month and the price path's mean log (an output).
    """
    chol = copula_factor(priors)
    n_in = len(priors.names)
    derived = derived_names(priors)
    # constants ignore their uniform: hash only the inputs that vary (their draws are unchanged,
    # each input's uniforms depend on its own key only)
    drawn = [i for i, d in enumerate(priors.inputs.values()) if not d.is_constant]

    def one_tile(keys: Array, idx: Array) -> tuple[Array, Any]:
        hashed = uniforms(keys[np.asarray(drawn, dtype=int)], idx, dtype)
        row = {i: j for j, i in enumerate(drawn)}
        half = jnp.full(idx.shape, 0.5, dtype)
        u = jnp.stack([hashed[row[i]] if i in row else half for i in range(n_in)])
        inp = transform(priors, u, chol)
        if derived:
            add_path_draws(priors, inp, keys[n_in:], idx, dtype)
        # materialize the inputs once: otherwise XLA fuses their inverse CDFs into every consumer
        # and recomputes them (about a fifth of the step's time)
        inp = jax.lax.optimization_barrier(inp)
        out = fn(inp)
        cols = [inp[n] for n in priors.names]
        cols += [out.price_path_log_mean if n == PRICE_PATH else inp[n] for n in derived]
        return jnp.stack(cols, axis=1), out

    return one_tile


#: Compiled steps kept for reuse within a process: :func:`run`'s and :func:`evaluate_inputs`'.
_STEPS: dict[tuple[Any, ...], Callable[..., Any]] = {}
_DESIGN_STEPS: dict[tuple[Any, ...], Callable[..., Any]] = {}


def design_cache_size() -> int:
    """How many compiled :func:`evaluate_inputs` steps this process keeps for reuse (at most 8).

    A call with the same scenario, function object, output, chunk, precision and devices as an
    earlier one reuses its step; passing a new function object each time compiles each time.
    """
    return len(_DESIGN_STEPS)


def clear_caches() -> None:
    """Drop every compiled step kept for reuse (:func:`run`'s and :func:`evaluate_inputs`'), and
    the memory they hold; the next call compiles afresh."""
    _STEPS.clear()
    _DESIGN_STEPS.clear()


def _remember(cache: dict[tuple[Any, ...], Callable[..., Any]], key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
    """``cache[key]``, built on first use; at most 8 entries (the oldest is dropped)."""
    if key not in cache:
        if len(cache) >= 8:
            cache.pop(next(iter(cache)))
        cache[key] = build()
    return cache[key]


def _cached_step(priors: PriorSet, chunk: int, dtype: Any, mesh: Mesh | None, stats: bool) -> Callable[..., Any]:
    """:func:`make_step` for the contract, reused across runs of the same scenario in a process,
    and across processes on this machine (:class:`_Stored`)."""
    devs = () if mesh is None else tuple(d.id for d in mesh.devices.flat)
    key = (priors.sha256(), chunk, jnp.dtype(dtype).name, devs, stats)
    specs = _step_specs(stats)
    return _remember(
        _STEPS,
        key,
        lambda: _Stored(make_step(priors, chunk, dtype, mesh=mesh, stats=stats), ("run", *key), mesh, specs),
    )


def _step_specs(stats: bool) -> tuple[Any, Any]:
    """(in_specs, out_specs) of :func:`make_step`'s shard_map: the keys and indices replicated,
    the draws split over the mesh, the chunk's statistics reduced (replicated)."""
    if stats:
        return (P(), P(), P()), (P("draw"), P("draw"), P())
    return (P(), P()), (P("draw"), P("draw"))


class _Stored:
    """A jitted step whose traced program is kept on disk (:func:`~mcroi.engine._devices.program_dir`).

    Tracing and lowering the contract takes about 0.7 s of Python for every process that runs
    it, before the persistent compilation cache can even be asked. The first process exports the
    traced step (``jax.export``, StableHLO) under a name hashed from ``key``, the arguments'
    shapes, the backend and :func:`~mcroi.engine._devices.source_digest`; a later process
    deserializes it (milliseconds) and calls it, so XLA compiles (or loads) the same program and
    every draw has the same bits. Without a program folder, in a multi-process run, or if
    anything about storing fails, it is the jitted step itself.
    """

    def __init__(
        self, jitted: Callable[..., Any], key: tuple[Any, ...], mesh: Mesh | None, specs: tuple[Any, Any] = ((), ())
    ) -> None:
        """``specs``: the shard_map's (in_specs, out_specs) of a step over ``mesh``."""
        self.jitted, self.key, self.mesh, self.specs = jitted, key, mesh, specs
        self.fns: dict[tuple[Any, ...], Callable[..., Any]] = {}  # per shapes of the arguments

    def __call__(self, *args: Any) -> Any:
        shapes = _shapes(args)
        fn = self.fns.get(shapes)
        if fn is None:
            stored = self._stored(args, shapes)
            if stored is not None:
                try:
                    out = stored(*args)
                except Exception:  # an unreadable program: trace as if none were stored
                    pass
                else:
                    self.fns[shapes] = stored
                    return out
            fn = self.fns[shapes] = self.jitted
        return fn(*args)

    def _stored(self, args: tuple[Any, ...], shapes: tuple[Any, ...]) -> Callable[..., Any] | None:
        if program_dir() is None or jax.process_count() > 1:
            return None
        try:
            from jax import export

            _register_serialization(export)
            backend = (jax.default_backend(), jax.devices()[0].device_kind, jax.config.jax_enable_x64)
            ident = repr((self.key, shapes, backend, source_digest()))
            name = hashlib.sha256(ident.encode()).hexdigest()[:40] + ".jaxexport"
            exp = _deserialize(export, read_program(name))
            if exp is None:  # none stored yet, or a damaged file: trace, and store it (again)
                exp = export.export(cast(Any, self.jitted))(*args)
                write_program(name, bytes(exp.serialize()))
            mesh = self.mesh
            if mesh is None:
                return jax.jit(exp.call)
            ins, outs = (
                jax.tree.map(lambda p: NamedSharding(mesh, p), s, is_leaf=lambda x: isinstance(x, P))
                for s in self.specs
            )
            return jax.jit(exp.call, in_shardings=ins, out_shardings=outs)
        except Exception:  # no flatbuffers, an unreadable file, a step export cannot take
            return None


def _shapes(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """The arguments' tree structure, shapes and dtypes: what a traced program is specialized to."""
    return (str(jax.tree.structure(args)), *((tuple(a.shape), str(a.dtype)) for a in jax.tree.leaves(args)))


def _deserialize(export: Any, blob: bytes | None) -> Any:
    """The ``jax.export.Exported`` stored in ``blob``; None for no blob or one that does not read."""
    if blob is None:
        return None
    try:
        return export.deserialize(bytearray(blob))
    except Exception:  # flatbuffers raise several kinds of error on a damaged file
        return None


def _register_serialization(export: Any) -> None:
    """Let ``jax.export`` store the contract's output NamedTuple (once per process; the engine's
    step and the swing's may get here at once, from two threads)."""
    with _REGISTERING:
        if model.Outputs not in _SERIALIZABLE:
            export.register_namedtuple_serialization(model.Outputs, serialized_name="mcroi.engine.Outputs")
            _SERIALIZABLE.append(model.Outputs)


_SERIALIZABLE: list[type] = []
_REGISTERING = threading.Lock()


def fetch_rows(dst: np.ndarray, arr: Array, at: int, m: int) -> None:
    """Copy rows ``0 .. m - 1`` of a (possibly sharded) device array ``arr`` into ``dst[at : at + m]``.

    One device shard at a time: on the CPU a shard's buffer is read in place, so each row is
    copied once, straight into the host array (gathering the sharded array first would copy it
    twice). :func:`run` files each chunk's kept draws this way.
    """
    for shard in arr.addressable_shards:
        rows = shard.index[0] if shard.index else slice(None)
        lo = rows.start or 0
        hi = arr.shape[0] if rows.stop is None else rows.stop
        k = min(hi, m) - lo
        if k > 0:
            dst[at + lo : at + lo + k] = np.asarray(shard.data)[:k]


def host_rows(arr: Array, m: int) -> np.ndarray:
    """Rows ``0 .. m - 1`` of a (possibly sharded) device array as a new host array (see :func:`fetch_rows`)."""
    out = np.empty((m, *arr.shape[1:]), dtype=arr.dtype)
    fetch_rows(out, arr, 0, m)
    return out


def _round_up(x: int, m: int) -> int:
    return -(-x // m) * m


def run(
    priors: PriorSet,
    draws: int,
    *,
    seed: int | Array = 0,
    chunk_size: int = DEFAULT_CHUNK,
    precision: str = "float64",
    progress: ProgressFn | None = None,
    keep: str = "draws",
    subsample: int = SUBSAMPLE,
    until_mcse: float | None = None,
    start: int = 0,
    devices: int | Sequence[Any] | None = None,
) -> RunArrays:
    """Sample every input and evaluate the contract for draws ``start .. start + draws - 1``.

    The draws depend only on ``(seed, input name, draw index)``, never on ``chunk_size`` or the
    number of devices.

    Parameters
    ----------
    keep
        ``"draws"``: return every draw. ``"summary"``: stream every draw into a
        :class:`~mcroi.engine.RunStream` and keep only the first ``subsample`` draws' inputs and
        outputs (memory O(chunk + subsample), not O(draws)).
    until_mcse
        Stop after the first chunk at which the MCSEs of NPV's mean, P5, P50, P95 (relative to
        NPV's standard deviation) and of P(NPV < 0) are all below this; ``draws`` is then the cap.
    devices
        Device count (or devices) the draw axis is sharded over; None means all local devices.
    """
    _check_run_arguments(draws, chunk_size, keep, until_mcse)
    dtype = _check_precision(precision)
    with jax.enable_x64(True):
        t0 = time.perf_counter()
        mesh = make_mesh(devices)
        ndev = mesh.devices.size
        chunk = _round_up(min(chunk_size, draws), ndev * TILE)
        keys = run_keys(priors, seed)
        names = stored_names(priors)
        want_stream = keep == "summary" or until_mcse is not None
        kept = draws if keep == "draws" else min(subsample, draws)
        grow = keep == "draws" and until_mcse is not None  # cap may be huge: grow lists instead
        loop = _ChunkLoop(
            t0=t0,
            step=_cached_step(priors, chunk, dtype, mesh if ndev > 1 else None, want_stream),
            keys=keys,
            start=start,
            draws=draws,
            chunk=chunk,
            kept=_KeptDraws.allocate(kept, len(names), dtype, grow),
            stream=RunStream(tuple(SCALAR_OUTPUTS), priors.horizon_months) if want_stream else None,
            progress=progress,
            until_mcse=until_mcse,
            guard_names=names if kept < draws else None,
        )
        loop.run_chunks()
        return loop.finish(names, keep, ndev)


def _check_run_arguments(draws: int, chunk_size: int, keep: str, until_mcse: float | None) -> None:
    """Refuse arguments :func:`run` cannot honour (ValueError)."""
    if draws < 1:
        raise ValueError("draws must be >= 1")
    if chunk_size < 1:
        raise ValueError("chunk_size must be >= 1")
    if keep not in ("draws", "summary"):
        raise ValueError(f"keep must be 'draws' or 'summary', got {keep!r}")
    if until_mcse is not None and not until_mcse > 0:
        raise ValueError("until_mcse must be > 0")


@dataclass
class _KeptDraws:
    """The draws a run keeps on the host, inputs and every output.

    Arrays preallocated for ``kept`` draws, or, when the number of draws is open (``grow``: every
    draw kept, but the run may stop early on convergence with a huge cap), a list of chunks per
    array, joined at the end.
    """

    kept: int
    grow: bool
    inputs: np.ndarray | list[np.ndarray]
    outputs: dict[str, Any] | None = None  # arrays, or lists of chunks when growing

    @classmethod
    def allocate(cls, kept: int, n_inputs: int, dtype: Any, grow: bool) -> _KeptDraws:
        return cls(kept, grow, [] if grow else np.empty((kept, n_inputs), dtype=dtype))

    def file(self, inp: Array, out: Any, done: int, n: int) -> None:
        """File a chunk of ``n`` draws after ``done`` filed ones: all of them when growing, else
        those that fit in ``kept``. Only these draws travel to the host."""
        if self.outputs is None:
            self.outputs = {
                k: [] if self.grow else np.empty((self.kept, *v.shape[1:]), dtype=v.dtype)
                for k, v in out._asdict().items()
            }
        m = n if self.grow else min(n, self.kept - done)
        if m <= 0:
            return
        if isinstance(self.inputs, list):
            self.inputs.append(host_rows(inp, m))
            for k, v in out._asdict().items():
                self.outputs[k].append(host_rows(v, m))
        else:
            fetch_rows(self.inputs, inp, done, m)
            for k, v in out._asdict().items():
                fetch_rows(self.outputs[k], v, done, m)

    def arrays(self, done: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The kept inputs and outputs of a run that evaluated ``done`` draws."""
        assert self.outputs is not None, "no chunk was filed"
        if isinstance(self.inputs, list):
            return np.concatenate(self.inputs), {k: np.concatenate(v) for k, v in self.outputs.items()}
        if done < self.kept:  # stopped early: trim the preallocated arrays
            return self.inputs[:done], {k: v[:done] for k, v in self.outputs.items()}
        return self.inputs, self.outputs


@dataclass
class _ChunkLoop:
    """The chunks of one :func:`run`, evaluated in order until the range is done or converged.

    Each chunk is dispatched before the previous one is filed, so the device works while the
    host files, streams and reports.
    """

    t0: float  # when the run began (its wall time is the engine's)
    step: Callable[..., Any]
    keys: Array
    start: int
    draws: int
    chunk: int
    kept: _KeptDraws
    stream: RunStream | None  # with a stream, the step also returns the chunk's statistics
    progress: ProgressFn | None
    until_mcse: float | None
    done: int = 0  # draws evaluated so far
    t_compile: float = 0.0  # the first chunk's wall time, its compilation included
    errors: dict[str, float] | None = None
    converged: bool | None = None
    guard_names: list[str] | None = None  # with a stream that keeps a subsample: guard every chunk
    numeric: NumericReport | None = None

    def __post_init__(self) -> None:
        self.stop = self.start + self.draws  # one past the last draw index
        self._stop_index = jnp.asarray(self.stop, jnp.int64)

    def run_chunks(self) -> None:
        """Evaluate chunk after chunk from ``start`` until the range is done or the run has converged."""
        t = time.perf_counter()
        pending = self._dispatch(self.start)
        s = self.start
        while True:
            res = jax.block_until_ready(pending)
            if s == self.start:
                self.t_compile = time.perf_counter() - t
            nxt = s + self.chunk
            if nxt < self.stop:  # keep the device busy while the host files this chunk
                pending = self._dispatch(nxt)
            self._file_chunk(res, min(self.chunk, self.stop - s))
            if self._has_converged() or nxt >= self.stop:
                return
            s = nxt

    def finish(self, names: list[str], keep: str, devices: int) -> RunArrays:
        """The run's result: the kept draws, the stream, how it stopped, and its timings."""
        inputs, outputs = self.kept.arrays(self.done)
        total = time.perf_counter() - self.t0
        return RunArrays(
            names=names,
            inputs=inputs,
            outputs=outputs,
            timings={"first_chunk_incl_compile_s": self.t_compile, "engine_s": total},
            stream=self.stream,
            draws=self.done,
            start=self.start,
            keep=keep,
            errors=self.errors,
            converged=self.converged,
            devices=devices,
            numeric=self.numeric,
        )

    def _dispatch(self, s: int) -> Any:
        if self.stream is not None:
            return self.step(self.keys, jnp.asarray(s, jnp.int64), self._stop_index)
        return self.step(self.keys, jnp.asarray(s, jnp.int64))

    def _file_chunk(self, res: tuple[Any, ...], n: int) -> None:
        """Stream a finished chunk of ``n`` draws, file its kept draws, report progress."""
        if self.stream is not None:
            self.stream.add_stats(jax.tree.map(np.asarray, res[2]))
        if self.guard_names is not None:  # the kept subsample is not every draw: guard this chunk
            outs = {k: host_rows(v, n) for k, v in res[1]._asdict().items()}
            part = check_numeric(self.guard_names, host_rows(res[0], n), outs)
            self.numeric = merge_numeric(self.numeric, part, self.start + self.done)
        self.kept.file(res[0], res[1], self.done, n)
        self.done += n
        self._report_progress(n)

    def _report_progress(self, n: int) -> None:
        if self.progress is None:
            return
        if self.stream is not None:
            median = float(self.stream.outputs["npv_usd"].sketch.quantile(0.5))
            self.progress(self.done, self.draws, {"median_npv_usd": median})
        else:  # draws mode: this chunk's outputs are rows done - n .. done - 1
            assert self.kept.outputs is not None
            self.progress(
                self.done, self.draws, {k: v[self.done - n : self.done] for k, v in self.kept.outputs.items()}
            )

    def _has_converged(self) -> bool:
        """Whether the run may stop: with ``until_mcse``, all of NPV's MCSEs are at or below it."""
        if self.until_mcse is None or self.stream is None:
            return False
        self.errors = npv_errors(self.stream)
        self.converged = all(math.isfinite(e) and e <= self.until_mcse for e in self.errors.values())
        return self.converged


def _design_step(
    priors: PriorSet, fn: Callable[..., Any] | None, output: str | None, chunk: int, dtype: Any, mesh: Mesh | None
) -> Callable[..., Any]:
    """The jitted ``step(u) -> outputs`` of :func:`evaluate_inputs`, reused across calls.

    Keyed by the scenario, the function object (so pass the same function to reuse its compiled
    step), the selected output, chunk, precision and devices.
    """
    devs = () if mesh is None else tuple(d.id for d in mesh.devices.flat)
    key = (priors.sha256(), fn, output, chunk, jnp.dtype(dtype).name, devs)

    def build() -> Callable[..., Any]:
        step = _build_design_step(priors, fn, output, chunk, dtype, mesh)
        name = "contract" if fn is None else fn.key if isinstance(fn, Batched) else ""
        if not name:  # a function of the caller's: no stable name to store its program under
            return step
        key = ("design", name, priors.sha256(), output, chunk, jnp.dtype(dtype).name, devs)
        return _Stored(step, key, mesh, DESIGN_SPECS)

    return _remember(_DESIGN_STEPS, key, build)


@dataclass(frozen=True, eq=False)
class Batched:
    """A draw function that also takes a whole batch: a dict of (n,) arrays -> outputs led by n.

    :func:`evaluate_inputs` calls it on each tile as is instead of vmapping it, which lets it
    lay its work out for the batch (the contract runs months-major). Called on one draw (0-d
    arrays) it must give that draw's outputs, so it still serves wherever a per-draw function
    is expected. Compared (and cached) by identity.
    """

    fn: Callable[[Mapping[str, Array]], Any]
    #: A name for ``fn`` that is the same in every process (e.g. ``"stacked:npv_usd"``), under
    #: which its traced design step may be stored on disk (:class:`_Stored`); "" never stores it.
    #: Give one only to a function fully determined by the scenario, this name and mcroi's code.
    key: str = ""

    def __call__(self, inp: Mapping[str, Array]) -> Any:
        return self.fn(inp)


def _build_design_step(
    priors: PriorSet, fn: Callable[..., Any] | None, output: str | None, chunk: int, dtype: Any, mesh: Mesh | None
) -> Callable[..., Any]:
    if fn is None:
        batch_fn = batch_function(priors)
    else:
        batch_fn = fn.fn if isinstance(fn, Batched) else jax.vmap(fn)
    chol = copula_factor(priors)
    n_in = len(priors.names)
    ndev = 1 if mesh is None else mesh.devices.size
    local = chunk // ndev
    tile = TILE if local % TILE == 0 else local

    def one_tile(uc: Array) -> Any:
        # inputs materialized once, as in :func:`make_step`: fused into a (months, draws)
        # consumer, an inverse CDF would be recomputed for every month
        out = batch_fn(jax.lax.optimization_barrier(transform(priors, uc, chol)))
        if output is None:
            return out
        return out[output] if isinstance(out, Mapping) else getattr(out, output)

    def block(u: Array) -> Any:
        # the same fixed tiles as :func:`make_step`: a design point's outputs equal simulate's
        # for the same input values, whatever the design size
        tiles = jnp.moveaxis(u.reshape(n_in, local // tile, tile), 1, 0)
        out = jax.lax.map(one_tile, tiles)
        return jax.tree.map(lambda a: a.reshape(local, *a.shape[2:]), out)

    if mesh is None:
        return jax.jit(block)
    in_specs, out_specs = DESIGN_SPECS
    return jax.jit(jax.shard_map(block, mesh=mesh, in_specs=in_specs, out_specs=out_specs, check_vma=False))


#: (in_specs, out_specs) of a design step over a mesh: the design's points split, as its outputs.
DESIGN_SPECS = ((P(None, "draw"),), P("draw"))


def evaluate_inputs(
    priors: PriorSet,
    u: np.ndarray,
    fn: Callable[[Mapping[str, Array]], Any] | None = None,
    *,
    output: str | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    precision: str = "float64",
    devices: int | Sequence[Any] | None = None,
) -> Any:
    """Evaluate ``fn`` on a design of uniforms ``u`` (n_inputs, n).

    ``fn`` is a function of ONE draw (a dict of 0-d arrays), vmapped here, or a
    :class:`Batched` function, called on each tile as is; None means the contract (evaluated
    batch-wise). ``output`` selects one field of the result (an attribute of
    the contract's outputs, or a key of a dict) inside the compiled step, so the others are
    never computed.

    For designs that are not plain Monte Carlo (Sobol', Saltelli, swing points): the uniforms go
    through the same copula and inverse CDFs as :func:`run`, in the same fixed tiles, sharded
    over all local devices. The compiled step is cached per (scenario, ``fn`` object, output,
    chunk). Returns a pytree of host arrays with leading dimension ``n``.
    """
    dtype = _check_precision(precision)
    u = np.asarray(u)
    n_in, n = u.shape
    with jax.enable_x64(True):
        mesh = make_mesh(devices)
        ndev = mesh.devices.size
        chunk = _round_up(min(chunk_size, n), ndev * TILE)
        step = _design_step(priors, fn, output, chunk, dtype, mesh if ndev > 1 else None)
        pieces = []
        pending: tuple[Any, int] | None = None
        for start in range(0, n, chunk):
            m = min(chunk, n - start)
            if m == chunk:
                block = np.asarray(u[:, start : start + m], dtype=jnp.dtype(dtype))
            else:
                block = np.full((n_in, chunk), 0.5, dtype=jnp.dtype(dtype))  # padding: inputs at their medians
                block[:, :m] = u[:, start : start + m]
            out = step(jnp.asarray(block))  # dispatched: runs while the host fetches the previous chunk
            if pending is not None:
                pieces.append(jax.tree.map(lambda a, m=pending[1]: np.asarray(a)[:m], pending[0]))
            pending = (out, m)
        assert pending is not None
        pieces.append(jax.tree.map(lambda a, m=pending[1]: np.asarray(a)[:m], pending[0]))
    return jax.tree.map(lambda *xs: np.concatenate(xs), *pieces)
