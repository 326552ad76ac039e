"""`find_slow_points`: local minima of the speed `q(x) = |f(x)|²/2` (Sussillo & Barak
2013), both true zeros and "ghosts" where the flow is slow."""

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx

from .._compile import filter_jit
from .._custom_types import Args, Array
from .._results import RESULTS
from ..models.gru import GRU
from ..problem import Problem
from .find import _check_dims, _dedup, _make_guesses, _setup
from .results import SlowPoints, _concrete

# --------------------------------------------------------------------------- slow points


@filter_jit
def _minimise_speed(setup, guesses, solver, max_steps, tol, dedup_tol, capacity):
    f, args = setup.f, setup.args

    def q(y, a):
        v = f(0.0, y, a)
        return 0.5 * jnp.sum(v * v)

    def one(y0):
        sol = optx.minimise(q, solver, y0, args, max_steps=max_steps, throw=False)
        y = sol.value
        qy = q(y, args)
        ok = (
            (sol.result == optx.RESULTS.successful)
            & jnp.all(jnp.isfinite(y))
            & jnp.isfinite(qy)
        )
        return y, qy, ok

    ys, qs, ok = jax.vmap(one)(guesses)
    reps, count, truncated = _dedup(ys, ok, qs, capacity, dedup_tol)
    valid = reps >= 0
    idx = jnp.maximum(reps, 0)
    x = jnp.where(valid[:, None], ys[idx], jnp.nan)
    qv = jnp.where(valid, qs[idx], jnp.nan)
    return SlowPoints(
        x=x,
        q=qv,
        is_fixed_point=valid & (qv < tol),
        valid=valid,
        count=count,
        num_converged=jnp.sum(ok),
        num_starts=jnp.asarray(guesses.shape[0]),
        truncated=truncated,
        result=RESULTS.where(
            count > 0, RESULTS.successful, RESULTS.equilibrium_not_converged
        ),
    )


def find_slow_points(
    problem_or_f: Problem | GRU | Callable,
    args: Args = None,
    guesses: Any = None,
    *,
    key: Array | None = None,
    num_starts: int = 1000,
    box: Any = None,
    solver: optx.AbstractMinimiser | None = None,
    tol: float | None = None,
    max_q: float | None = None,
    max_steps: int = 1000,
    dedup_tol: float = 1e-3,
    max_points: int | None = None,
) -> SlowPoints:
    """Local minima of the speed `q(x) = |f(x)|²/2` (Sussillo & Barak 2013).

    A minimum with `q = 0` is an equilibrium; one with `q > 0` is a *slow point*, where
    trajectories linger (e.g. the ghost of a saddle-node, or a point on a pseudo line
    attractor). Each start runs a quasi-Newton minimiser (default `optx.BFGS`) in one
    vmapped call; points from the same minimum are merged.

    **Arguments:**

    - `problem_or_f`, `args`, `guesses`, `key`, `num_starts`, `box`: as for
        [`gru_bif.find_equilibria`][].
    - `solver`: an optimistix minimiser. Default `optx.BFGS(rtol=1e-10, atol=1e-10)`
        (1e-6 in float32).
    - `tol`: `q` below which a minimum counts as a fixed point (default 1e-16 in
        float64, i.e. |f| ≈ 1.4e-8; 1e-8 in float32).
    - `max_q`: keep only points with `q <= max_q` (default: keep all).
    - `max_steps`: the most minimiser iterations per start.
    - `dedup_tol`: points closer than this (max-norm) are merged, keeping the slowest.
        Slow regions are flat, so minimisers stop at slightly different places; the
        default 1e-3 merges those.
    - `max_points`: `None` returns exactly the points found, sorted by `q` (host side);
        an int gives a fixed capacity for `jit`/`vmap`.

    **Returns:**

    A [`gru_bif.SlowPoints`][].
    """
    setup = _setup(problem_or_f, args, None)
    guesses = _make_guesses(setup, guesses, key, num_starts, box)
    _check_dims(setup, guesses)
    dtype = guesses.dtype
    f64 = jnp.finfo(dtype).bits >= 64
    if solver is None:
        t = 1e-10 if f64 else 1e-6
        solver = optx.BFGS(rtol=t, atol=t)
    elif not isinstance(solver, optx.AbstractMinimiser):
        raise ValueError(
            f"`solver` must be an optimistix minimiser (e.g. optx.BFGS(rtol, atol)); got "
            f"{type(solver).__name__}."
        )
    if int(max_steps) < 1 or not dedup_tol >= 0:
        raise ValueError(
            f"`max_steps` must be >= 1 and `dedup_tol` >= 0; got {max_steps}, {dedup_tol}."
        )
    if tol is None:
        tol = 1e-16 if f64 else 1e-8
    n = guesses.shape[0]
    cap = n if max_points is None else int(max_points)
    if cap < 1:
        raise ValueError(f"`max_points` must be a positive int (or None); got {max_points}.")
    out = _minimise_speed(setup, guesses, solver, int(max_steps), tol, dedup_tol, cap)
    if max_q is not None:
        keep = out.valid & (out.q <= max_q)
        out = eqx.tree_at(
            lambda s: (s.valid, s.is_fixed_point, s.count),
            out,
            (keep, out.is_fixed_point & keep, jnp.sum(keep)),
        )
    if max_points is not None:
        return out
    if not _concrete(out.x):
        raise ValueError(
            "find_slow_points with max_points=None needs concrete values; under "
            "jax.jit/jax.vmap pass max_points=K."
        )
    idx = np.nonzero(np.asarray(out.valid))[0]
    idx = idx[np.argsort(np.asarray(out.q)[idx], kind="stable")]
    k = len(idx)
    return SlowPoints(
        x=jnp.asarray(np.asarray(out.x)[idx]),
        q=jnp.asarray(np.asarray(out.q)[idx]),
        is_fixed_point=jnp.asarray(np.asarray(out.is_fixed_point)[idx]),
        valid=jnp.ones((k,), bool),
        count=jnp.asarray(k),
        num_converged=out.num_converged,
        num_starts=out.num_starts,
        truncated=jnp.asarray(False),
        result=RESULTS.successful if k else RESULTS.equilibrium_not_converged,
    )
