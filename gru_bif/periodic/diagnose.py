"""Checks of a computed branch of cycles: did it start, did it collapse onto a Hopf
point, is the mesh fine enough — as result codes with messages that say what to change.

The continuation engine knows nothing about cycles, so these checks run on its output
(one compiled call, `vmap`-friendly: fixed shapes, a `RESULTS` code and an index).
"""

import equinox as eqx
import jax
import jax.numpy as jnp

from .._compile import filter_jit
from .._custom_types import Array, Float, Int
from .._results import RESULTS
from ..branch import Branch
from .collocation import CollocationProblem, _max_error
from .views import _view_arrays


class CycleCheck(eqx.Module):
    """The outcome of `check_cycles`.

    **Fields:**

    - `result`: `RESULTS.cycle_start_not_converged` (the branch never started),
        `RESULTS.cycle_collapsed` (the cycles shrank to a point: back at a Hopf point;
        see `collapse_tol`),
        `RESULTS.cycle_mesh_too_coarse` (collocation error above `error_tol`), or else
        the branch's own result (e.g. `reached_parameter_bound`).
    - `index`: the collapse point (the smallest cycle, at the Hopf point), else
        `num_points`. Rows `[0, index)` are distinct genuine cycles.
    - `amplitude`: `(N,)` the largest peak-to-peak extent over the coordinates of each
        cycle (NaN padding).
    - `error`: `(N,)` the collocation error estimate of each cycle (NaN padding).
    - `max_error`: the largest `error` among the genuine cycles.
    """

    result: RESULTS
    index: Int[Array, ""]
    amplitude: Float[Array, " N"]
    error: Float[Array, " N"]
    max_error: Float[Array, ""]

    @property
    def message(self) -> str:
        """The result's message (empty when successful or at the parameter bound)."""
        return RESULTS[self.result]


def check_cycles(
    cp: CollocationProblem,
    branch: Branch,
    *,
    error_tol: float = 1e-6,
    collapse_tol: float = 1e-2,
) -> CycleCheck:
    """Check a branch of cycles computed with `gru_bif.continuation(cp, ...)`.

    **Arguments:**

    - `cp`: the `CollocationProblem`; `branch`: its branch.
    - `error_tol`: the accuracy wanted between mesh points (state units); above it the
        result is `cycle_mesh_too_coarse` (see `CollocationProblem.collocation_error`).
    - `collapse_tol`: the branch has collapsed onto an equilibrium at a point where the
        cycles' extent (largest max − min over the coordinates) has a local minimum
        below `collapse_tol` times the largest extent on the branch (there the branch
        passes through a Hopf point and retraces the same cycles, phase-shifted), or
        where the extent is at round-off level.

    **Returns:** a `CycleCheck`; `check.message` says what to change.
    """
    if not isinstance(cp, CollocationProblem):
        raise ValueError(
            f"`cp` must be the CollocationProblem of the branch; got {type(cp).__name__}."
        )
    if not (error_tol > 0 and collapse_tol > 0):
        raise ValueError(
            f"error_tol={error_tol}, collapse_tol={collapse_tol}; both must be positive."
        )
    return _check(cp, branch, error_tol, collapse_tol)


@filter_jit
def _check(cp, branch, error_tol, collapse_tol):
    dtype = branch.p.dtype
    n = branch.num_points
    rows = jnp.arange(branch.p.shape[0])
    real = rows < n
    _, _, x_min, x_max = _view_arrays(cp, branch.x, 8)
    scale = 1 + jnp.maximum(jnp.max(jnp.abs(x_min), -1), jnp.max(jnp.abs(x_max), -1))
    amp = jnp.max(x_max - x_min, axis=-1)
    amp_r = jnp.where(real, amp, jnp.nan)
    big = jnp.nanmax(amp_r)
    prev = jnp.roll(amp_r, 1)
    nxt = jnp.roll(amp_r, -1)
    interior = (rows > 0) & (rows + 1 < n)
    dip = interior & (amp_r <= prev) & (amp_r <= nxt) & (amp_r < collapse_tol * big)
    tiny = amp_r < 1e3 * jnp.finfo(dtype).eps * scale
    collapsed = real & (dip | tiny)
    index = jnp.where(jnp.any(collapsed), jnp.argmax(collapsed), n).astype(jnp.int32)
    safe = jnp.isfinite(branch.p) & real
    u = jnp.concatenate([branch.x, branch.p[:, None]], axis=1)
    u = jnp.where(safe[:, None], u, cp.pack(cp.reference, 1.0, 0.0).astype(dtype))
    err = jax.vmap(lambda uu: _max_error(cp, uu))(u)
    err = jnp.where(safe, err, jnp.nan)
    good = rows < index
    max_err = jnp.max(jnp.where(good & safe, err, 0.0))
    started = ~(
        (branch.result == RESULTS.start_not_converged)
        | (branch.result == RESULTS.singular_start)
        | (branch.result == RESULTS.nonfinite_vector_field)
    ) | (n > 1)
    result = RESULTS.where(
        ~started,
        RESULTS.cycle_start_not_converged,
        RESULTS.where(
            index < n,
            RESULTS.cycle_collapsed,
            RESULTS.where(max_err > error_tol, RESULTS.cycle_mesh_too_coarse,
                          branch.result),
        ),
    )
    return CycleCheck(result=result, index=index, amplitude=jnp.where(real, amp, jnp.nan),
                      error=err, max_error=max_err)
