"""Chaos maps: the largest Lyapunov exponents over a grid of parameters (or of networks),
in one compiled, vmapped call, with a "chaotic" mask that accounts for the convergence
estimate. Each grid point runs `gru_bif.chaos.lyapunov_spectrum`.
"""

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._compile import filter_jit
from .._custom_types import Array, Bool, Float
from ..models.gru import GRU, gru_vector_field
from ..problem import Problem
from .._results import RESULTS
from ..simulate import resolve_field
from .lyapunov import _is_concrete, lyapunov_spectrum


class ChaosMap(eqx.Module):
    """The result of [`gru_bif.chaos.chaos_map`][]: Lyapunov exponents over a grid of
    parameters.

    **Fields:**

    - `grid`: what was mapped over: the parameter values (shape `(N,)`) for a `Problem`,
        the inputs `u` (`(N, m)`) for a GRU, else the batched `args` pytree.
    - `exponents`: the `k` largest exponents at each grid point, shape `(N, k)`.
    - `error`: their convergence estimates, shape `(N, k)`.
    - `chaotic`: `λ1 − n_sigma · error1 > threshold` and the computation succeeded,
        shape `(N,)`.
    - `x_final`: the final states, shape `(N, d)`.
    - `result`: a [`gru_bif.RESULTS`][] code per grid point, shape `(N,)`.
    - `threshold`, `n_sigma`: the criterion used for `chaotic`.
    """

    grid: Any
    exponents: Float[Array, "N k"]
    error: Float[Array, "N k"]
    chaotic: Bool[Array, " N"]
    x_final: Float[Array, "N d"]
    result: RESULTS
    threshold: float = eqx.field(static=True)
    n_sigma: float = eqx.field(static=True)

    @property
    def largest(self) -> Float[Array, " N"]:
        """`λ1` at each grid point."""
        return self.exponents[:, 0]

    @property
    def successful(self) -> Bool[Array, " N"]:
        return self.result == RESULTS.successful


def chaos_map(
    field: Callable | GRU | Problem,
    x0: Any,
    grid: Any,
    *,
    k: int = 1,
    threshold: float = 0.0,
    n_sigma: float = 3.0,
    chunk_size: int | None = 256,
    mesh=None,
    **kwargs,
) -> ChaosMap:
    """Lyapunov exponents over a grid of parameters, in one compiled, vmapped call
    (processed `chunk_size` grid points at a time, to bound memory).

    **Arguments:**

    - `field`: a vector field `f(t, x, args)`, a `gru_bif.GRU` or a `gru_bif.Problem`.
    - `x0`: the initial state, shape `(d,)` (the same for every grid point) or `(N, d)`
        (one per grid point).
    - `grid`: for a `Problem`: the values of its parameter, shape `(N,)`; for a GRU: its
        constant inputs, shape `(N, m)`; for a plain field: the `args` pytree with a
        leading axis of size `N` on every leaf (e.g. `{"rho": rhos, "sigma":
        jnp.full(N, 10.0), ...}`, or a `jax.vmap`-built batch of `GRU`s inside
        `{"gru": grus, "u": us}` for `gru_bif.gru_vector_field`).
    - `k`: exponents per grid point (default 1, the largest).
    - `threshold`, `n_sigma`: a grid point is `chaotic` where
        `λ1 − n_sigma · error1 > threshold` (the error estimate keeps a limit cycle's
        `λ1 ≈ 0 + O(1/T)` from counting as chaos).
    - `chunk_size`: grid points per vmapped batch (`jax.lax.map(..., batch_size=...)`);
        `None` for all at once.
    - `mesh`: optional `jax.sharding.Mesh` (e.g. `gru_bif.distributed.global_mesh()`
        over several processes): the grid is split over its devices (`gru_bif.batched`,
        each device in chunks of `chunk_size`); the results are gathered on every
        process and equal one process's.
    - `**kwargs`: passed to [`gru_bif.chaos.lyapunov_spectrum`][] (`t_transient`,
        `t_total`, `dt_reorth`, `dt0`, `solver`, ...). `throw` defaults to `False` here;
        failures show in `result` (and `chaotic` is `False` there).

    **Returns:** a [`gru_bif.chaos.ChaosMap`][].

    !!! example

        ```python
        problem = gru_bif.Problem(lorenz_field, LORENZ_PARAMS, "rho")
        cmap = chaos_map(problem, jnp.ones(3), jnp.linspace(0.0, 200.0, 64))
        cmap.grid[cmap.chaotic]
        ```
    """
    kwargs.setdefault("throw", False)
    if isinstance(field, Problem):
        values = jnp.asarray(grid)
        if values.ndim != 1:
            raise ValueError(
                f"For a Problem, `grid` holds values of its parameter "
                f"{field.param.label!r}: shape (N,); got shape {values.shape}."
            )
        f, base, param, batch = field.f, field.args, field.param, values
    elif isinstance(field, GRU):
        us = jnp.asarray(grid)
        if us.ndim != 2 or us.shape[1] != field.input_size:
            raise ValueError(
                f"For a GRU, `grid` holds constant inputs of shape (N, "
                f"{field.input_size}); got shape {us.shape}."
            )
        f, base, param, batch = gru_vector_field, field, _GRU_INPUT, us
    else:
        f, _ = resolve_field(field, None)
        f, base, param, batch = f, None, None, grid
    leaves = jax.tree_util.tree_leaves(batch)
    sizes = {jnp.shape(leaf)[0] if jnp.ndim(leaf) else None for leaf in leaves}
    if not leaves or len(sizes) != 1 or None in sizes:
        raise ValueError(
            "`grid` must be the args pytree with a leading batch axis of one common "
            f"size N on every leaf; got leading sizes {sorted(map(str, sizes))}."
        )
    n = sizes.pop()
    if n == 0:
        raise ValueError("`grid` is empty; pass at least one grid point.")
    x0 = jnp.asarray(x0)
    if not jnp.issubdtype(x0.dtype, jnp.inexact):
        x0 = x0.astype(jnp.result_type(float))
    if x0.ndim == 1:
        x0s = jnp.broadcast_to(x0, (n, x0.shape[0]))
    elif x0.ndim == 2 and x0.shape[0] == n:
        x0s = x0
    else:
        raise ValueError(
            f"`x0` must have shape (d,) or (N, d) with N = {n} grid points; got {x0.shape}."
        )
    if _is_concrete(x0s) and not np.all(np.isfinite(np.asarray(x0s))):
        raise ValueError("`x0` contains NaN or inf; pass finite initial states.")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
        raise ValueError(f"`chunk_size` must be a positive int or None; got {chunk_size!r}.")
    # (`lyapunov_spectrum` validates the rest while `_chaos_map` traces it)
    chunk = None if chunk_size is None else min(chunk_size, n)
    if mesh is None:
        lam, err, xf, result = _chaos_map(f, base, param, batch, x0s, k, chunk, kwargs)
    else:
        out = _sharded_map(f, param, k, chunk, kwargs, mesh)(base, batch, x0s)
        lam, err, xf, result = jax.tree.map(jnp.asarray, out)
    ok = result == RESULTS.successful
    chaotic = ok & (lam[:, 0] - n_sigma * jnp.nan_to_num(err[:, 0], nan=jnp.inf) > threshold)
    return ChaosMap(grid=grid, exponents=lam, error=err, chaotic=chaotic, x_final=xf,
                    result=result, threshold=float(threshold), n_sigma=float(n_sigma))


class _GruInput(eqx.Module):
    """Marks a GRU chaos map: the grid holds the GRU's inputs."""


_GRU_INPUT = _GruInput()


def _grid_args(base, param, item):
    if param is None:
        return item
    if isinstance(param, _GruInput):
        return {"gru": base, "u": item}
    return param.set(base, item)


@filter_jit
def _chaos_map(f, base, param, batch, x0s, k, chunk, kwargs):
    def one(item):
        a, x = item
        s = lyapunov_spectrum(f, x, _grid_args(base, param, a), k=k, **kwargs)
        return s.exponents, s.error, s.x_final, s.result

    return jax.lax.map(one, (batch, x0s), batch_size=chunk)


_SHARDED: dict = {}


def _sharded_map(f, param, k, chunk, kwargs, mesh):
    """`gru_bif.batched` of one grid point's spectrum over `mesh` (the base args shared,
    `in_axes=(None, 0, 0)`), kept per field, parameter, settings and mesh so that
    repeated calls reuse its compiled program instead of retracing a fresh closure."""
    from ..batch import batched

    try:
        key = (f, param, k, chunk, tuple(sorted(kwargs.items())), mesh)
        run = _SHARDED.get(key)
    except TypeError:  # unhashable settings (e.g. a solver instance): no reuse
        key, run = None, None
    if run is None:
        def one(base, a, x):
            s = lyapunov_spectrum(f, x, _grid_args(base, param, a), k=k, **kwargs)
            return s.exponents, s.error, s.x_final, s.result

        run = batched(one, mesh=mesh, chunk_size=chunk, in_axes=(None, 0, 0))
        if key is not None:
            _SHARDED[key] = run
    return run
