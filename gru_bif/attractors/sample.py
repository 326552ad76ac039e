"""The analysis of one sample (vmapped over chunks): integrate past the transient,
then recognise a fixed point (slow tail, Newton polish), a cycle (returns through a
section, polished period) or another attractor (a tail that does not shrink)."""

import functools
from collections.abc import Callable
from typing import Any

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import numpy as np

from .._compile import filter_jit
from .._custom_types import Array

from .results import ASSIGNED, CYCLE, ESCAPED, FIXED_POINT, INTEGRATION_FAILED, NOT_CONVERGED, OTHER

# --------------------------------------------------------------------------- per sample


class _Settings(eqx.Module):
    t_transient: float = eqx.field(static=True)
    t_sample: float = eqx.field(static=True)
    n_sample: int = eqx.field(static=True)
    n_orbit: int = eqx.field(static=True)
    rtol: float = eqx.field(static=True)
    atol: float = eqx.field(static=True)
    max_steps: int = eqx.field(static=True)
    escape_radius: float = eqx.field(static=True)
    fp_tol: float = eqx.field(static=True)
    fp_radius: float = eqx.field(static=True)
    newton_tol: float = eqx.field(static=True)
    newton_steps: int = eqx.field(static=True)
    return_tol: float = eqx.field(static=True)
    decay_tol: float = eqx.field(static=True)
    dedup_tol: float = eqx.field(static=True)
    cycle_tol: float = eqx.field(static=True)
    other_tol: float = eqx.field(static=True)
    hyperbolic_tol: float = eqx.field(static=True)
    capacity: int = eqx.field(static=True)
    solver: Any = eqx.field(static=True)


class _Sample(eqx.Module):
    status: Array  # kind code, or -1
    reason: Array
    point: Array  # (d,)
    orbit: Array  # (M, d)
    period: Array
    features: Array  # (4d,)
    final: Array  # (d,)


def _hermite(ts, xs, fs, t):
    """Cubic Hermite interpolation of samples `xs` (derivatives `fs`) at times `t`."""
    i = jnp.clip(jnp.searchsorted(ts, t, side="right") - 1, 0, ts.shape[0] - 2)
    h = (ts[i + 1] - ts[i])[:, None]
    s = ((t - ts[i]) / (ts[i + 1] - ts[i]))[:, None]
    h00 = 2 * s**3 - 3 * s**2 + 1
    h10 = s**3 - 2 * s**2 + s
    h01 = -2 * s**3 + 3 * s**2
    h11 = s**3 - s**2
    return h00 * xs[i] + h10 * h * fs[i] + h01 * xs[i + 1] + h11 * h * fs[i + 1]


def _newton(F, y, steps):
    """Damped Newton steps on `F`: each step is the largest of `1, 1/2, …, 1/32` of the
    Newton step that lowers the max-norm residual (no step if none does). A full step
    overshoots from a state still some way off a weakly attracting point, where the
    vector field is far from linear; the halvings keep the step on course."""
    alphas = 0.5 ** jnp.arange(6, dtype=y.dtype)

    def body(_, y):
        fy = F(y)
        jac = jax.jacfwd(F)(y)
        sol = lx.linear_solve(lx.MatrixLinearOperator(jac), fy, lx.LU(), throw=False)
        cands = y[None, :] - alphas[:, None] * sol.value[None, :]
        res = jax.vmap(lambda c: jnp.max(jnp.abs(F(c))))(cands)
        good = jnp.isfinite(res) & (res < jnp.max(jnp.abs(fy)))
        k = jnp.argmax(good)
        return jnp.where(good[k], cands[k], y)

    return jax.lax.fori_loop(0, steps, body, y)


class _Frozen(eqx.Module):
    """The vector field, set to zero outside the ball `max|x| <= radius`: a trajectory
    that escapes stops there (cheaper to compile than a Diffrax event)."""

    f: Callable
    radius: float = eqx.field(static=True)

    def __call__(self, t, y, args):
        v = self.f(t, y, args)
        if not np.isfinite(self.radius):
            return v
        return jnp.where(jnp.max(jnp.abs(y)) > self.radius, jnp.zeros_like(v), v)


def _analyse_one(f, args, x0, s: _Settings) -> _Sample:
    dtype = x0.dtype
    d = x0.shape[0]
    ts = s.t_transient + jnp.linspace(0.0, s.t_sample, s.n_sample, dtype=dtype)
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(_Frozen(f, s.escape_radius)),
        s.solver,
        t0=jnp.zeros((), dtype),
        t1=ts[-1],
        dt0=None,
        y0=x0,
        args=args,
        saveat=diffrax.SaveAt(ts=ts),
        stepsize_controller=diffrax.PIDController(rtol=s.rtol, atol=s.atol),
        max_steps=s.max_steps,
        throw=False,
    )
    X = sol.ys
    ok = (sol.result == diffrax.RESULTS.successful) & jnp.all(jnp.isfinite(X))
    escaped = ok & (jnp.max(jnp.abs(X[-1])) > s.escape_radius)
    ok = ok & ~escaped
    X = jnp.where(ok, X, x0[None, :])

    def F(y):
        return f(0.0, y, args)

    FX = jax.vmap(F)(X)
    t_rel = ts - ts[0]
    x_end = X[-1]
    scale = 1.0 + jnp.max(jnp.abs(x_end))
    speed_end = jnp.max(jnp.abs(FX[-1]))

    # ---- fixed point: slow at the end, Newton converges nearby
    x_star = _newton(F, x_end, s.newton_steps)
    res_star = jnp.max(jnp.abs(F(x_star)))
    moved = jnp.max(jnp.abs(x_star - x_end))
    is_fp = (
        ok
        & (speed_end <= s.fp_tol)
        & (res_star <= s.newton_tol)
        & (moved <= s.fp_radius * scale)
    )

    # ---- cycle: two returns to the first tail state through its Poincaré section
    x_ref = X[0]
    f_ref = FX[0]
    g = (X - x_ref) @ f_ref
    dist = jnp.sqrt(jnp.sum((X - x_ref) ** 2, axis=1))
    diam = jnp.max(dist)
    k = jnp.arange(s.n_sample - 1)
    cross = (g[:-1] < 0) & (g[1:] >= 0) & (dist[:-1] < 0.25 * diam)
    i1 = jnp.argmax(cross)
    has1 = cross[i1]
    cross2 = cross & (k > i1)
    i2 = jnp.argmax(cross2)
    has2 = cross2[i2]

    def ret(i):
        den = g[i + 1] - g[i]
        frac = jnp.where(den != 0, -g[i] / jnp.where(den != 0, den, 1.0), 0.0)
        t = t_rel[i] + frac * (t_rel[i + 1] - t_rel[i])
        xr = X[i] + frac * (X[i + 1] - X[i])
        return t, jnp.sqrt(jnp.sum((xr - x_ref) ** 2))

    t1, miss1 = ret(i1)
    t2, miss2 = ret(i2)
    # the whole tail repeats after the period (a chaotic tail can shadow an unstable
    # cycle for two turns, never for the whole tail)
    T_est = jnp.where(has2, t2 / 2, t_rel[-1])
    shifted = _hermite(t_rel, X, FX, jnp.minimum(t_rel + T_est, t_rel[-1]))
    inside = t_rel + T_est <= t_rel[-1]
    repeat = jnp.max(jnp.where(inside, jnp.sqrt(jnp.sum((shifted - X) ** 2, axis=1)), 0.0))
    is_cycle = (
        ok
        & ~is_fp
        & has1
        & has2
        & (miss1 <= s.return_tol * diam)
        & (miss2 <= s.return_tol * diam)
        & (jnp.abs(t2 - 2 * t1) <= 0.05 * t1)
        & (repeat <= s.return_tol * diam)
        & (diam > 0)
    )
    period = jnp.where(is_cycle, t2 / 2, jnp.nan)
    T_safe = jnp.where(is_cycle, t2 / 2, t_rel[-1])
    phases = jnp.arange(s.n_orbit, dtype=dtype) * (T_safe / s.n_orbit)
    cyc_orbit = _hermite(t_rel, X, FX, phases)

    # ---- another attractor: stationary (not shrinking) tail
    half = s.n_sample // 2
    ext1 = jnp.max(jnp.max(X[:half], 0) - jnp.min(X[:half], 0))
    ext2 = jnp.max(jnp.max(X[half:], 0) - jnp.min(X[half:], 0))
    stationary = ext2 >= (1.0 - s.decay_tol) * ext1
    # ... and recurrent: the last state lies in the box of the first half (widened by
    # `decay_tol` of its extent), which a slow monotone drift leaves
    lo1, hi1 = jnp.min(X[:half], 0), jnp.max(X[:half], 0)
    pad = s.decay_tol * ext1
    recurrent = jnp.all((x_end >= lo1 - pad) & (x_end <= hi1 + pad))
    is_other = ok & ~is_fp & ~is_cycle & stationary & recurrent & (speed_end > s.fp_tol)
    features = jnp.concatenate(
        [jnp.mean(X, 0), jnp.std(X, 0), jnp.quantile(X, 0.05, axis=0),
         jnp.quantile(X, 0.95, axis=0)]
    )
    sub = jnp.linspace(0, s.n_sample - 1, s.n_orbit).astype(jnp.int32)
    status = jnp.where(
        is_fp, FIXED_POINT, jnp.where(is_cycle, CYCLE, jnp.where(is_other, OTHER, -1))
    )
    reason = jnp.where(
        status >= 0,
        ASSIGNED,
        jnp.where(escaped, ESCAPED, jnp.where(ok, NOT_CONVERGED, INTEGRATION_FAILED)),
    )
    point = jnp.where(is_fp, x_star, jnp.where(is_cycle, x_ref, features[:d]))
    orbit = jnp.where(
        is_fp,
        jnp.broadcast_to(x_star, (s.n_orbit, d)),
        jnp.where(is_cycle, cyc_orbit, X[sub]),
    )
    final = jnp.where(ok, x_end, jnp.nan)
    return _Sample(
        status=status.astype(jnp.int32),
        reason=reason.astype(jnp.int32),
        point=point,
        orbit=orbit,
        period=period,
        features=features,
        final=final,
    )


@filter_jit
def _analyse_chunk(f, args, X0, s: _Settings) -> _Sample:
    return jax.vmap(lambda x0: _analyse_one(f, args, x0, s))(X0)




def _chunk(n: int, chunk_size: "int | None") -> int:
    """The compiled chunk shape: the states split into `ceil(n / chunk_size)` equal
    chunks, each rounded up to a multiple of 128 (a power of two, at least 16, below
    that), so that few shapes compile and little padding is integrated."""
    n_chunks = 1 if chunk_size is None else -(-n // int(chunk_size))
    per = -(-n // n_chunks)
    if per <= 128:
        return max(16, 1 << (per - 1).bit_length())
    return -(-per // 128) * 128


def _analyse_samples(f, args, states, s: _Settings, chunk_size, mesh=None) -> _Sample:
    """Integrate and examine every state, in chunks (see `_chunk`), each chunk split
    over the devices of `mesh` when one is given (gathered on every process). Padding
    rows (copies of the last state) get the status `-1` and are never grouped."""
    N = states.shape[0]
    c = _chunk(N, chunk_size)
    n_pad = -(-N // c) * c
    if n_pad > N:
        states = jnp.concatenate([states, jnp.repeat(states[-1:], n_pad - N, axis=0)])
    if mesh is None:
        run = functools.partial(_analyse_chunk, f, args, s=s)
    else:
        sharded = _sharded_analysis(f, s, mesh)

        def run(X0):
            return jax.tree.map(jnp.asarray, sharded(args, X0))

    parts = [run(states[i:i + c]) for i in range(0, n_pad, c)]
    out = parts[0] if len(parts) == 1 else jax.tree.map(
        lambda *a: jnp.concatenate(a, axis=0), *parts
    )
    if n_pad > N:
        status = jnp.where(jnp.arange(n_pad) < N, out.status, -1)
        out = eqx.tree_at(lambda o: o.status, out, status)
    return out


_SHARDED: dict = {}


def _sharded_analysis(f, s: _Settings, mesh):
    """`gru_bif.batched` of one sample's analysis over `mesh`, the field's args shared
    (`in_axes=(None, 0)`), kept per `(f, settings, mesh)` so that repeated calls reuse
    its compiled program instead of retracing a fresh closure."""
    from ..batch import batched

    key = (f, s, mesh)
    try:
        run = _SHARDED.get(key)
    except TypeError:  # unhashable settings: no reuse
        key, run = None, None
    if run is None:
        run = batched(lambda a, x0: _analyse_one(f, a, x0, s), mesh=mesh, in_axes=(None, 0))
        if key is not None:
            _SHARDED[key] = run
    return run
