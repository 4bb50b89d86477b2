"""The IRR solver: bracket-safeguarded Newton steps on a log present-value ratio, lane by lane.

A batch of cashflows is laid out (months, lanes). Every lane's arithmetic is elementwise and its
own, so chunk size and device count leave each IRR bit-identical. The steps, in order: scale each
cashflow (:func:`_scaled`), bracket each root (:func:`_bracket`, with a grid scan for the rare
lanes whose NPV has the same sign at both ends, :func:`_scan_for_brackets`), start near the root
(:func:`_duration_guess`), take a few Newton steps on every lane (:func:`_newton_steps`), then
iterate the few lanes that have not converged apart from the rest (:func:`_polish`).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

Array = jax.Array

#: IRR search bracket in x = log(1 + monthly rate): monthly rates from -63 % to +1,909 %.
IRR_X_BRACKET = (-1.0, 3.0)
#: IRR convergence: stop when the bracket or Newton step in x is below this (float64).
IRR_X_TOL = 1e-12
IRR_MAX_ITER = 100
IRR_SCAN_POINTS = 81
#: Newton's error after a step of size s is about C s^2 on the log PV ratio (nearly linear in x)
NEWTON_C = 1000.0


def _log_pv_ratio(pos: Array, neg: Array, x: Array) -> tuple[Array, Array]:
    """``h(x) = log PV(inflows) - log PV(outflows)`` and ``dh/dx`` at monthly log-rates ``x``.

    ``pos``/``neg`` are (months, lanes) inflow/outflow magnitudes. ``h`` has the NPV's roots and
    signs but is nearly linear in ``x`` (a log-sum-exp), so Newton needs a handful of steps.

    The present values are polynomials in ``v = exp(-x)``, evaluated by Horner's rule together
    with their derivatives: one ``exp`` per lane instead of one per lane and month, and only
    elementwise operations, so a lane's result never depends on how many lanes share the batch
    (chunk size and device count leave the IRR bit-identical).
    """
    months = pos.shape[0]
    v = jnp.exp(-x)

    def body(k: int, acc: tuple[Array, Array, Array, Array]) -> tuple[Array, Array, Array, Array]:
        p, dp, q, dq = acc
        m = months - 1 - k
        dp = dp * v + p
        dq = dq * v + q
        p = p * v + jax.lax.dynamic_index_in_dim(pos, m, 0, keepdims=False)
        q = q * v + jax.lax.dynamic_index_in_dim(neg, m, 0, keepdims=False)
        return p, dp, q, dq

    z = jnp.zeros_like(x)
    p, dp, q, dq = jax.lax.fori_loop(0, months, body, (z, z, z, z), unroll=4)
    # d/dx P(exp(-x)) = -v P'(v)
    return jnp.log(p) - jnp.log(q), v * (dq / q - dp / p)


def _npv_sign(c: Array, x: Array) -> Array:
    """Sign of the scaled NPV ``sum_m c_m exp(-m x)`` (c: months x lanes), by Horner's rule."""
    months = c.shape[0]
    v = jnp.exp(-x)

    def body(k: int, p: Array) -> Array:
        return p * v + jax.lax.dynamic_index_in_dim(c, months - 1 - k, 0, keepdims=False)

    return jnp.sign(jax.lax.fori_loop(0, months, body, jnp.zeros_like(x), unroll=4))


def _newton_steps(
    pos: Array, neg: Array, lo: Array, hi: Array, x: Array, lo_positive: Array, steps: int
) -> tuple[Array, Array, Array, Array]:
    """``steps`` Newton iterations kept inside the bracket [lo, hi] (bisection when a step leaves it)."""

    def body(_: int, state: tuple[Array, Array, Array, Array]) -> tuple[Array, Array, Array, Array]:
        lo, hi, x, dx = state
        f, df = _log_pv_ratio(pos, neg, x)
        same_as_lo = (f > 0) == lo_positive
        lo = jnp.where(same_as_lo, x, lo)
        hi = jnp.where(same_as_lo, hi, x)
        x_new = x - f / df
        ok = jnp.isfinite(x_new) & (x_new > lo) & (x_new < hi)
        x_new = jnp.where(ok, x_new, 0.5 * (lo + hi))
        # error bound after the step: Newton converges quadratically (error ~ NEWTON_C * step^2),
        # a bisection step leaves the bracket width
        step = jnp.abs(x_new - x)
        err = jnp.where(ok, jnp.minimum(step, NEWTON_C * step * step), hi - lo)
        dx = jnp.where(f == 0, 0.0, jnp.minimum(err, hi - lo))
        return lo, hi, jnp.where(f == 0, x, x_new), dx

    return jax.lax.fori_loop(0, steps, body, (lo, hi, x, jnp.full_like(x, jnp.inf)))


def irr_batch(cf: Array, fast_steps: int | None = None, slow_steps: int = 6) -> Array:
    """Monthly IRR of each row of ``cf`` (lanes, months; month 0 first); NaN where none is found.

    Solves ``sum_m cf_m / (1 + i)^m = 0`` for ``x = log(1 + i)`` within ``IRR_X_BRACKET`` (monthly
    rates -63 % .. +1,909 %) by bracket-safeguarded Newton steps on :func:`_log_pv_ratio`. All
    lanes start from a duration estimate of the root and take ``fast_steps``; the few that have
    not converged (error bound in ``x`` above ``IRR_X_TOL``, 1e-6 in float32) are gathered into a
    small buffer and iterated further, so rare hard cashflows do not slow the whole batch. Where the NPV has the same sign at both ends of
    the bracket although the cashflow changes sign, a grid scan brackets the smallest non-negative
    root, else the negative root nearest zero (numpy-financial's choice). NaN where the cashflow never changes sign or no root lies in
    the bracket.
    """
    return irr_months_major(cf.T, fast_steps, slow_steps)


def irr_monthly(cf: Array) -> Array:
    """Monthly IRR of one cashflow vector (month 0 first); see :func:`irr_batch`."""
    return irr_batch(cf[None, :])[0]


class _Bracket(NamedTuple):
    """Per lane: the bracket [lo, hi] in x, the NPV's sign at ``lo`` (True: positive), whether a
    root is bracketed."""

    lo: Array
    hi: Array
    lo_positive: Array
    bracketed: Array


def irr_months_major(cf: Array, fast_steps: int | None = None, slow_steps: int = 6) -> Array:
    """:func:`irr_batch` of ``cf`` laid out (months, lanes)."""
    dtype = cf.dtype
    n = cf.shape[1]
    tol = IRR_X_TOL if dtype == jnp.float64 else 1e-6
    if fast_steps is None:  # measured: the fewest steps after which almost every lane has converged
        fast_steps = 5 if dtype == jnp.float64 else 4
    c, pos, neg = _scaled(cf)
    buf = min(n, max(64, n // 16))  # lanes iterated together once they are set apart from the rest
    br = _bracket(c, pos, neg, buf)
    x0 = _duration_guess(pos, neg, br.lo, br.hi)
    lo, hi, x, dx = _newton_steps(pos, neg, br.lo, br.hi, x0, br.lo_positive, fast_steps)
    x = _polish(pos, neg, br._replace(lo=lo, hi=hi), x, dx, tol, slow_steps, buf)
    return jnp.where(br.bracketed, jnp.expm1(x), jnp.nan)


def _scaled(cf: Array) -> tuple[Array, Array, Array]:
    """Each lane's cashflow divided by its largest magnitude, and its inflows and outflows (>= 0)."""
    scale = jnp.max(jnp.abs(cf), axis=0, keepdims=True)
    c = cf / jnp.where(scale > 0, scale, 1.0)
    return c, jnp.maximum(c, 0.0), jnp.maximum(-c, 0.0)


def _bracket(c: Array, pos: Array, neg: Array, buf: int) -> _Bracket:
    """Bracket each lane's root: ``IRR_X_BRACKET`` where the NPV changes sign across it, else a grid
    scan's sign change; ``bracketed`` is False where the cashflow never changes sign or no root is found."""
    dtype, n = c.dtype, c.shape[1]
    lo = jnp.full((n,), IRR_X_BRACKET[0], dtype)
    hi = jnp.full((n,), IRR_X_BRACKET[1], dtype)
    s_lo, s_hi = _npv_sign(c, lo), _npv_sign(c, hi)
    changes_sign = (jnp.max(pos, axis=0) > 0) & (jnp.max(neg, axis=0) > 0)
    bracketed = changes_sign & (s_lo * s_hi < 0)
    return _scan_for_brackets(pos, neg, _Bracket(lo, hi, s_lo > 0, bracketed), changes_sign, buf)


def _scan_for_brackets(pos: Array, neg: Array, br: _Bracket, changes_sign: Array, buf: int) -> _Bracket:
    """Rare lanes whose NPV has the same sign at both ends though the cashflow changes sign (an
    even number of roots in the bracket): scan a grid for the sign change of the root
    numpy-financial reports (the smallest non-negative rate, else the negative one nearest 0),
    ``buf`` lanes at a time."""
    n = pos.shape[1]
    grid = jnp.linspace(IRR_X_BRACKET[0], IRR_X_BRACKET[1], IRR_SCAN_POINTS, dtype=pos.dtype)
    needs_scan = changes_sign & ~br.bracketed

    ScanState = tuple[Array, Array, Array, Array, Array, Array]

    def unscanned(state: ScanState) -> Array:
        todo, rounds = state[4], state[5]
        return jnp.any(todo) & (rounds < n // buf + 1)

    def scan(state: ScanState) -> ScanState:
        lo, hi, lo_pos, brk, todo, rounds = state
        (idx,) = jnp.nonzero(todo, size=buf, fill_value=n)
        take = jnp.minimum(idx, n - 1)
        found, k, h_k = _grid_bracket(pos[:, take], neg[:, take], grid)
        upd = jnp.where(idx < n, idx, n)
        lo = lo.at[upd].set(jnp.where(found, grid[k], lo[take]), mode="drop")
        hi = hi.at[upd].set(jnp.where(found, grid[k + 1], hi[take]), mode="drop")
        lo_pos = lo_pos.at[upd].set(jnp.where(found, h_k > 0, lo_pos[take]), mode="drop")
        brk = brk.at[upd].set(found, mode="drop")
        todo = todo.at[upd].set(False, mode="drop")
        return lo, hi, lo_pos, brk, todo, rounds + 1

    lo, hi, lo_positive, bracketed, _, _ = jax.lax.while_loop(
        unscanned, scan, (br.lo, br.hi, br.lo_positive, br.bracketed, needs_scan, jnp.asarray(0))
    )
    return _Bracket(lo, hi, lo_positive, bracketed)


def _grid_bracket(p: Array, q: Array, grid: Array) -> tuple[Array, Array, Array]:
    """For lanes of inflows ``p`` and outflows ``q`` (months, lanes): whether the log PV ratio
    changes sign on ``grid``, the cell ``k`` (``grid[k] .. grid[k + 1]``) of numpy-financial's
    root, and the ratio at ``grid[k]``."""
    lanes = p.shape[1]
    h = jax.vmap(lambda g: _log_pv_ratio(p, q, jnp.full((lanes,), g, p.dtype))[0])(grid)  # (grid, lanes)
    change = jnp.sign(h[:-1]) * jnp.sign(h[1:]) < 0
    mid = 0.5 * (grid[:-1] + grid[1:])
    # numpy-financial's choice: the smallest non-negative rate, else the negative one nearest 0
    score = jnp.where(change, jnp.where(mid >= 0, mid, 100.0 - mid)[:, None], jnp.inf)
    k = jnp.argmin(score, axis=0)
    found = jnp.isfinite(jnp.min(score, axis=0))
    return found, k, jnp.take_along_axis(h, k[None], axis=0)[0]


def _duration_guess(pos: Array, neg: Array, lo: Array, hi: Array) -> Array:
    """A start near the root: the rate at which the inflows, discounted from their mean month,
    equal the outflows discounted from theirs (exact for one inflow and one outflow); the
    bracket's midpoint where that falls outside it."""
    m = jnp.arange(pos.shape[0], dtype=pos.dtype)[:, None]
    p_sum, q_sum = jnp.sum(pos, axis=0), jnp.sum(neg, axis=0)
    gap = jnp.sum(m * pos, axis=0) / jnp.where(p_sum > 0, p_sum, 1.0) - jnp.sum(m * neg, axis=0) / jnp.where(
        q_sum > 0, q_sum, 1.0
    )
    guess = jnp.log(jnp.where(p_sum > 0, p_sum, 1.0) / jnp.where(q_sum > 0, q_sum, 1.0)) / jnp.where(gap > 0, gap, 1.0)
    x0 = jnp.where((gap > 0) & jnp.isfinite(guess), guess, 0.01)
    return jnp.where((x0 > lo) & (x0 < hi), x0, 0.5 * (lo + hi))


def _polish(pos: Array, neg: Array, br: _Bracket, x: Array, dx: Array, tol: float, slow_steps: int, buf: int) -> Array:
    """Iterate the bracketed lanes whose error bound ``dx`` is still above ``tol``, ``buf`` at a
    time and ``slow_steps`` Newton steps a round, apart from the converged rest; returns x."""
    n = pos.shape[1]

    def pending(state: tuple[Array, Array, Array, Array, Array]) -> Array:
        lo, hi, x, dx, rounds = state
        return jnp.any(br.bracketed & (dx > tol)) & (rounds < IRR_MAX_ITER // slow_steps + n // buf + 1)

    def more(state: tuple[Array, Array, Array, Array, Array]) -> tuple[Array, Array, Array, Array, Array]:
        lo, hi, x, dx, rounds = state
        (idx,) = jnp.nonzero(br.bracketed & (dx > tol), size=buf, fill_value=n)
        take = jnp.minimum(idx, n - 1)
        l2, h2, x2, d2 = _newton_steps(
            pos[:, take], neg[:, take], lo[take], hi[take], x[take], br.lo_positive[take], slow_steps
        )
        keep = idx < n  # drop the fill lanes
        upd = jnp.where(keep, idx, n)  # out-of-range indices are dropped by mode="drop"
        return (
            lo.at[upd].set(l2, mode="drop"),
            hi.at[upd].set(h2, mode="drop"),
            x.at[upd].set(x2, mode="drop"),
            dx.at[upd].set(d2, mode="drop"),
            rounds + 1,
        )

    _, _, x, _, _ = jax.lax.while_loop(pending, more, (br.lo, br.hi, x, dx, jnp.asarray(0)))
    return x
