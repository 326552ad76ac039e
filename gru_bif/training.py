"""A small optax training loop for diagram losses.

Diagram losses jump when bifurcations appear or vanish, and a continuation can fail for
a bad iterate; [`gru_bif.training.fit`][] therefore keeps the best iterate, stops (rather
than stepping into NaN) when a loss or gradient is not finite, and can carry a state
between steps (e.g. the start point of the continuation, updated from each branch).
"""

import time
import warnings
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from ._compile import filter_jit

__all__ = ["FitResult", "fit"]


class FitResult(eqx.Module):
    """What [`gru_bif.training.fit`][] returns.

    **Fields:**

    - `params`: the parameters after the last step taken.
    - `best_params`: the parameters with the lowest loss seen.
    - `best_loss`, `best_step`: that loss and the number of steps taken before it.
    - `losses`: NumPy array: the loss before each step, and at the final parameters.
    - `num_steps`: steps taken.
    - `stop_reason`: `"steps"` (all steps taken), `"target_loss"` (reached), or
        `"nonfinite"` (a non-finite loss or gradient at `params`; no step was taken from
        there, since the same inputs would give the same failure).
    - `state`: the carried state at `params` (`None` if none).
    - `wall_time`: seconds, compilation included.
    """

    params: Any
    best_params: Any
    best_loss: float
    best_step: int
    losses: np.ndarray
    num_steps: int
    stop_reason: str
    state: Any
    wall_time: float


def _strong(tree):
    """Drop weak types, so that the first step's outputs (strongly typed) do not
    trigger a second compilation."""
    return jax.tree.map(
        lambda x: jnp.asarray(x, dtype=x.dtype) if eqx.is_array(x) else x, tree
    )


def _all_finite(tree) -> jax.Array:
    leaves = [jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(tree) if eqx.is_inexact_array(x)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.asarray(True)


@filter_jit
def _step(loss_fn, optimizer, has_state, params, opt_state, state):
    if has_state:
        (loss, new_state), grads = eqx.filter_value_and_grad(loss_fn, has_aux=True)(
            params, state
        )
    else:
        loss, grads = eqx.filter_value_and_grad(loss_fn)(params)
        new_state = state
    ok = jnp.isfinite(loss) & _all_finite(grads)
    updates, new_opt = optimizer.update(grads, opt_state, eqx.filter(params, eqx.is_inexact_array))
    new_params = eqx.apply_updates(params, updates)
    return loss, ok, (new_params, new_opt, new_state)


def fit(
    loss_fn: Callable,
    params,
    optimizer: optax.GradientTransformation,
    *,
    steps: int,
    state=None,
    target_loss: float | None = None,
    callback: Callable | None = None,
    print_every: int | None = None,
) -> FitResult:
    """Minimise `loss_fn` over `params` with an optax optimiser (one compiled
    value-and-gradient step, called from a Python loop).

    **Arguments:**

    - `loss_fn`: `loss_fn(params) -> scalar`, or, with `state`,
        `loss_fn(params, state) -> (scalar, new_state)`. Differentiated with
        `eqx.filter_value_and_grad`: the floating-point arrays of `params` are trained
        (a `gru_bif.GRU`, a dict of arrays, ...). Define it once: a new function per
        call recompiles.
    - `params`: the initial parameters (any pytree / `equinox.Module`).
    - `optimizer`: e.g. `optax.adam(1e-2)`. Adam's normalised steps suit diagram losses
        (whose gradients vary by orders of magnitude between the phase where the
        bifurcation measure creates points and the phase where distances place them).
    - `steps`: the most optimiser steps.
    - `state`: optional state carried from step to step, e.g. the continuation's start
        point (return `jax.lax.stop_gradient(branch.x[0])` as the new state).
    - `target_loss`: stop once the loss is at or below this value.
    - `callback`: called as `callback(step, loss, params)` after each evaluation (host
        side; e.g. progress printing or logging).
    - `print_every`: print `step, loss, best loss, seconds` every this many steps (and
        at the last one); `None`: silent.

    **Returns:** a [`gru_bif.training.FitResult`][]. The loss is evaluated once more at
    the final parameters (with the same compiled step; its update is discarded).

    A non-finite loss or gradient stops the loop with a `UserWarning` saying which: a
    NaN gradient with a finite loss usually means a located point whose defining system
    is singular (a fold with vanishing quadratic coefficient — the cusp condition —, a
    Hopf point at a Bogdanov–Takens point, a degenerate branch point; see
    `gru_bif.differentiate`); a non-finite loss, a continuation that failed (read
    `branch.result`) or a cycle that was lost (`gru_bif.losses.cycle_period_loss`).

    **Raises:** `ValueError` for `steps < 0` or `print_every < 1`.
    """
    if int(steps) < 0:
        raise ValueError(f"steps={steps}; it must be >= 0.")
    if print_every is not None and int(print_every) < 1:
        raise ValueError(f"print_every={print_every}; use a positive integer or None.")
    has_state = state is not None
    t0 = time.perf_counter()
    params, state = _strong(params), _strong(state)
    opt_state = optimizer.init(eqx.filter(params, eqx.is_inexact_array))
    losses = []
    best_loss, best_step, best_params = np.inf, 0, params
    reason = "steps"
    k = 0
    while True:
        loss, ok, new = _step(loss_fn, optimizer, has_state, params, opt_state, state)
        loss = float(loss)
        losses.append(loss)
        if callback is not None:
            callback(k, loss, params)
        if np.isfinite(loss) and loss < best_loss:
            best_loss, best_step, best_params = loss, k, params
        if print_every is not None and (k % int(print_every) == 0 or k == int(steps)):
            print(
                f"step {k:5d}  loss {loss:.6e}  best {best_loss:.6e}  "
                f"({time.perf_counter() - t0:.1f} s)",
                flush=True,
            )
        if not bool(ok):
            reason = "nonfinite"
            what = (
                "the loss is not finite (a failed continuation — read branch.result — "
                "or a cycle lost by cycle_period_loss?)"
                if not np.isfinite(loss)
                else "the gradient is not finite: the loss depends on a located point "
                "whose defining system is singular (a degenerate fold — the cusp "
                "condition —, a Hopf point at a Bogdanov–Takens point, a degenerate "
                "branch point), where no derivative exists"
            )
            warnings.warn(
                f"gru_bif.training.fit stopped at step {k}: {what}. The best parameters "
                f"so far (loss {best_loss:.6g} at step {best_step}) are in "
                "`best_params`; restart from them with a smaller learning rate, or "
                "change the targets so that the degenerate point is avoided.",
                stacklevel=2,
            )
            break
        if target_loss is not None and loss <= target_loss:
            reason = "target_loss"
            break
        if k == int(steps):
            break
        params, opt_state, state = new
        k += 1
    return FitResult(
        params=params,
        best_params=best_params,
        best_loss=float(best_loss),
        best_step=int(best_step),
        losses=np.asarray(losses),
        num_steps=k,
        stop_reason=reason,
        state=state if has_state else None,
        wall_time=time.perf_counter() - t0,
    )
