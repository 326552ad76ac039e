"""Mesh adaptation of cycles: moving (and resizing) a collocation mesh so that it
equidistributes the collocation error, as AUTO does. The basis and the meshes
themselves are in `gru_bif.collocation.mesh`."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from .._compile import filter_jit
from .._custom_types import Array, Float
from ..collocation.mesh import node_times
from .collocation import CollocationProblem, _error_monitor


def with_mesh(cp: CollocationProblem, mesh) -> CollocationProblem:
    """`cp` on another mesh of the same size (traceable; no checks)."""
    return eqx.tree_at(lambda c: c.mesh, cp, mesh)


def adapt_mesh(
    cp: CollocationProblem, u, *, ntst: "int | None" = None, floor: float = 0.05
) -> tuple[CollocationProblem, Float[Array, " n"]]:
    """Move (and optionally resize) the mesh so that it equidistributes the collocation
    error, and re-interpolate the solution on it (AUTO's strategy).

    The monitor `θ = |x^{(m+1)}|^{1/(m+1)}` (estimated from jumps of the `m`-th
    derivative, piecewise constant on the old mesh) plus `floor × mean(θ)` (so slow
    parts keep some intervals) is integrated; the new mesh points split its integral
    into `ntst` equal parts, so that `h_j θ_j` — the local error to the power
    `1/(m+1)` — is about the same on every interval.

    **Arguments:** `cp`, `u`: a problem and a solution of it (e.g. a row of a cycle
    branch, `jnp.append(branch.x[i], branch.p[i])`); `ntst`: the new number of intervals
    (default: unchanged — then the result reuses compiled code); `floor`: see above.

    **Returns:** `(cp_new, u_new)`: the problem on the new mesh with the phase reference
    reset to the re-interpolated orbit, and that orbit (not yet corrected: pass it to
    `correct_cycle` or straight to `gru_bif.continuation`).
    """
    if not hasattr(u, "shape"):
        u = np.asarray(u)
    ntst_new = cp.ntst if ntst is None else int(ntst)
    if ntst_new < 2:
        raise ValueError(f"ntst={ntst_new}; use at least 2 mesh intervals.")
    if not floor > 0:
        raise ValueError(f"floor={floor}; it must be positive (e.g. 0.05).")
    if u.shape != (cp.size,):
        raise ValueError(
            f"u has shape {u.shape}; this problem's unknowns have shape ({cp.size},)."
        )
    new_mesh, X_new, u_new = _adapt(cp, u, ntst_new, np.asarray(floor, u.dtype))
    cp_new = CollocationProblem(
        cp.problem,
        X_new,
        ntst=ntst_new,
        ncol=cp.ncol,
        mesh=new_mesh,
        stability=cp.stability,
        detect=cp.detect,
        norm=cp.norm,
    )
    return cp_new, u_new


@filter_jit(small=True)
def _adapt(cp, u, ntst_new, floor):
    _, deriv = _error_monitor(cp, u)
    theta = deriv ** (1.0 / (cp.ncol + 1))
    theta = theta + floor * jnp.mean(theta) + jnp.finfo(u.dtype).tiny
    mesh = cp.mesh.astype(u.dtype)
    C = jnp.concatenate([jnp.zeros((1,), u.dtype), jnp.cumsum(theta * jnp.diff(mesh))])
    targets = jnp.linspace(0.0, 1.0, ntst_new + 1, dtype=u.dtype) * C[-1]
    new_mesh = jnp.interp(targets, C, mesh).at[0].set(0.0).at[-1].set(1.0)
    t_new = node_times(new_mesh, cp.ncol)
    X_new = cp.evaluate(u, t_new)
    _, T, p = cp.split(u)
    return new_mesh, X_new, cp.pack(X_new, T, p)
