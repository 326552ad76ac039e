"""Trajectories of a vector field with Diffrax, batched over initial conditions.

`simulate(f, args, x0, ts)` integrates `x' = f(t, x, args)` from one initial condition
(`x0` of shape `(d,)`) or from many (`(N, d)`, vmapped) and returns the states at the
chosen output times `ts`.
"""

from collections.abc import Callable
from typing import Any

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._compile import filter_jit
from ._custom_types import Args, Array, Bool, Float
from .models.gru import GRU, gru_vector_field
from .problem import Problem


class Trajectory(eqx.Module):
    """The result of [`gru_bif.simulate`][].

    **Fields:**

    - `ts`: the output times, shape `(T,)`.
    - `xs`: the states at `ts`: shape `(T, d)` for one initial condition, `(N, T, d)`
        for a batch of `N`. Entries after a failed integration are `inf`/`NaN` (Diffrax's
        convention).
    - `result`: a `diffrax.RESULTS` code, shape `()` or `(N,)`: `diffrax.RESULTS.successful`
        where the integration reached `ts[-1]`.
    - `num_steps`: accepted plus rejected solver steps, shape `()` or `(N,)`.
    """

    ts: Float[Array, " T"]
    xs: Float[Array, "*N T d"]
    result: diffrax.RESULTS
    num_steps: Array

    @property
    def successful(self) -> Bool[Array, "*N"]:
        """`True` where the integration reached the last output time."""
        return self.result == diffrax.RESULTS.successful

    @property
    def batched(self) -> bool:
        """Whether this holds a batch of trajectories (`xs` has shape `(N, T, d)`)."""
        return self.xs.ndim == 3


def _is_concrete(x) -> bool:
    return not isinstance(x, jax.core.Tracer)


def resolve_field(field: Any, args: Args) -> tuple[Callable, Args]:
    """Turn a `gru_bif.Problem`, a `gru_bif.GRU` or a plain `f(t, x, args)` into
    `(f, args)`.

    A `Problem` carries its args (`args` must be `None`); a GRU becomes
    `gru_bif.gru_vector_field` with args `{"gru": gru, "u": u}` (`args` is the constant
    input `u`, `None` for a GRU without inputs), so gradients reach every weight.
    """
    if isinstance(field, Problem):
        if args is not None:
            raise ValueError(
                "`args` was given together with a gru_bif.Problem, which carries its own "
                "args; pass `args=None` (or pass `problem.f` and your args instead)."
            )
        return field.f, field.args
    if isinstance(field, GRU):
        m = field.input_size
        if args is None:
            if m:
                raise ValueError(
                    f"This GRU has input size {m}; pass its constant input u of shape "
                    f"({m},) as `args`."
                )
            u = jnp.zeros((0,), field.Uh.dtype)
        else:
            u = jnp.asarray(args)
            if u.shape != (m,):
                raise ValueError(
                    f"`args` is the GRU's constant input u; this GRU expects shape ({m},), "
                    f"got shape {u.shape}."
                )
        return gru_vector_field, {"gru": field, "u": u}
    if not callable(field):
        raise ValueError(
            "`field` must be a vector field f(t, x, args), a gru_bif.GRU or a "
            f"gru_bif.Problem; got {type(field).__name__}."
        )
    return field, args


def simulate(
    f: Callable | GRU | Problem,
    args: Args = None,
    x0: Any = None,
    ts: Any = None,
    *,
    solver: diffrax.AbstractSolver | None = None,
    stiff: bool = False,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    dt0: float | None = None,
    max_steps: int = 2**16,
    throw: bool = True,
) -> Trajectory:
    """Integrate `x' = f(t, x, args)` and return the states at the times `ts`.

    **Arguments:**

    - `f`: a vector field `f(t, x, args)` (Diffrax's signature), a `gru_bif.GRU` (then
        `args` is its constant input `u`, or `None` for a GRU without inputs), or a
        `gru_bif.Problem` (then `args` must be `None`).
    - `args`: passed to `f`.
    - `x0`: the initial state, shape `(d,)`, or a batch of initial states, shape
        `(N, d)` (integrated in one vmapped call).
    - `ts`: the output times, shape `(T,)`, strictly monotone; the integration runs
        from `ts[0]` to `ts[-1]` and `x0` is the state at `ts[0]`.
    - `solver`: any Diffrax solver. Default: `diffrax.Tsit5()`, or `diffrax.Kvaerno5()`
        (implicit, for stiff systems) when `stiff=True`.
    - `stiff`: choose the default implicit solver.
    - `rtol`, `atol`: tolerances of the adaptive step-size controller
        (`diffrax.PIDController`). In float32 use looser ones (e.g. `1e-5`, `1e-7`).
    - `dt0`: the first step size; `None` lets Diffrax choose.
    - `max_steps`: the most steps per trajectory.
    - `throw`: raise if any trajectory fails (e.g. runs out of `max_steps`). Under
        `jax.vmap` pass `throw=False` and read `Trajectory.result` instead.

    **Returns:**

    A [`gru_bif.Trajectory`][] with `xs` of shape `(T, d)` or `(N, T, d)`.

    **Raises:**

    `ValueError` for an initial state of the wrong shape or with NaN/inf entries, output
    times that are not a strictly monotone 1-D array of at least two times, or a vector
    field whose output shape differs from the state's.

    !!! example

        ```python
        gru = gru_bif.GRU(3 * rotation(jnp.pi / 6))
        traj = gru_bif.simulate(gru, None, jnp.array([0.1, 0.0]), jnp.linspace(0, 200, 2001))
        traj.xs.shape  # (2001, 2)
        ```
    """
    f, args = resolve_field(f, args)
    if x0 is None or ts is None:
        raise ValueError(
            "simulate needs an initial state `x0` (shape (d,) or (N, d)) and output "
            "times `ts` (shape (T,)), e.g. simulate(f, args, x0, jnp.linspace(0, 10, 101))."
        )
    x0 = jnp.asarray(x0)
    if not jnp.issubdtype(x0.dtype, jnp.inexact):
        x0 = x0.astype(jnp.result_type(float))
    ts = jnp.asarray(ts)
    if not jnp.issubdtype(ts.dtype, jnp.floating):
        ts = ts.astype(x0.dtype)
    if x0.ndim not in (1, 2):
        raise ValueError(
            f"`x0` must have shape (d,) or (N, d) for a batch; got shape {x0.shape}."
        )
    if x0.shape[-1] == 0:
        raise ValueError(f"`x0` has a zero-length state dimension (shape {x0.shape}).")
    if ts.ndim != 1 or ts.shape[0] < 2:
        raise ValueError(
            f"`ts` must be a 1-D array of at least two output times; got shape {ts.shape}."
        )
    if _is_concrete(ts):
        dts = np.diff(np.asarray(ts))
        if not (np.all(dts > 0) or np.all(dts < 0)):
            raise ValueError(
                "`ts` must be strictly increasing (or strictly decreasing, to integrate "
                f"backwards in time); got {np.asarray(ts)}."
            )
        if not np.all(np.isfinite(np.asarray(ts))):
            raise ValueError("`ts` contains NaN or inf; pass finite output times.")
    if _is_concrete(x0):
        bad = ~np.isfinite(np.asarray(x0))
        if bad.any():
            rows = np.unique(np.nonzero(bad)[0]).tolist() if x0.ndim == 2 else []
            where = f" (batch rows {rows[:10]}{'...' if len(rows) > 10 else ''})" if rows else ""
            raise ValueError(
                f"`x0` contains NaN or inf{where}; pass finite initial states."
            )
    # Check the vector field's output shape once, on abstract values.
    d = x0.shape[-1]
    x_struct = jax.ShapeDtypeStruct((d,), x0.dtype)
    try:
        out = jax.eval_shape(lambda x: f(ts[0], x, args), x_struct)
    except Exception as e:  # a shape mismatch inside f (e.g. a matmul)
        raise ValueError(
            f"The vector field cannot be evaluated at a state of shape ({d},): "
            f"{str(e).rstrip('.')}. "
            "Check that `x0` has the system's dimension."
        ) from e
    if getattr(out, "shape", None) != (d,):
        raise ValueError(
            f"The vector field returns shape {getattr(out, 'shape', None)} for a state "
            f"of shape ({d},); `x0` must have the system's dimension."
        )
    if solver is None:
        solver = diffrax.Kvaerno5() if stiff else diffrax.Tsit5()
    return _simulate(f, args, x0, ts, solver, rtol, atol, dt0, max_steps, throw)


@filter_jit
def _simulate(f, args, x0, ts, solver, rtol, atol, dt0, max_steps, throw) -> Trajectory:
    term = diffrax.ODETerm(f)
    controller = diffrax.PIDController(rtol=rtol, atol=atol)
    saveat = diffrax.SaveAt(ts=ts)

    def solve_one(y0):
        sol = diffrax.diffeqsolve(
            term,
            solver,
            t0=ts[0],
            t1=ts[-1],
            dt0=dt0,
            y0=y0,
            args=args,
            saveat=saveat,
            stepsize_controller=controller,
            max_steps=max_steps,
            throw=throw,
        )
        return sol.ys, sol.result, sol.stats["num_steps"]

    if x0.ndim == 1:
        xs, result, num_steps = solve_one(x0)
    else:
        xs, result, num_steps = jax.vmap(solve_one)(x0)
    return Trajectory(ts=ts, xs=xs, result=result, num_steps=num_steps)
