"""Derivatives of located homoclinic orbits by the implicit function theorem.

A located homoclinic orbit `u = (nodes, x_s, p1, p2)` solves the truncated BVP of
`HomoclinicProblem.residual` at fixed `p2`:

    H(y; p2, θ) = 0,   y = (nodes, x_s, p1),

(collocation, `f(x_s) = 0`, the projection boundary conditions, the phase condition;
`θ` = every array leaf of the problem: the `Problem`'s `args`, and `T`, the mesh, the
phase reference and the bases `Q_s`, `Q_u`). Where `H_y` is invertible — the regular
homoclinic orbits that Newton converges to — `y` is a smooth function of `(p2, θ)` and

    dy = −H_y⁻¹ (H_{p2} dp2 + H_θ dθ),

one linear solve per tangent (`gru_bif.differentiate.implicit_root`, a `custom_jvp`;
reverse mode is JAX's transposition of the rule). The Newton iteration that found `u`
is never differentiated: pass a converged solution (`locate_homoclinic(...).u`, a row
of a continued curve) and the functions return the same values with derivatives
attached. `jit`, `grad`, `jvp` and `vmap` all work.

**Projectors.** The spectral projectors `P_s`, `P_u` of the boundary conditions are *not*
frozen: `HomoclinicProblem.residual` recomputes them from `A = f_x(x_s, α)` (the matrix
sign function, a fixed number of scaled Newton steps) at every evaluation, so `H_y` and
`H_θ` contain their derivatives with respect to the saddle `x_s`, `p1` and the
arguments — the derivative is that of the truncated BVP whose end points lie *exactly*
in the moving eigenspaces. The fixed bases `Q_s`, `Q_u` only pick independent rows of
`P_s (x(0) − x_s) = 0`, `P_u (x(1) − x_s) = 0`, so the solution does not depend on them
(their derivative is zero up to rounding). The truncation time `T` is a leaf like any
other: `dp1/dT` is the (exponentially small) truncation sensitivity.

The saddle quantity `σ = Re λ_u + Re λ_s` is differentiated through the eigenvalues of
`f_x(x_s(θ), α(θ))` by first-order perturbation theory (`dλ = wᴴ dA v / wᴴ v`, the
eigen-decomposition itself under `stop_gradient`): simple leading eigenvalues needed
(a saddle with a double leading eigenvalue has no derivative of σ in general).
"""

import equinox as eqx
import jax
import jax.numpy as jnp

from .._custom_types import Array, Float
from ..differentiate import implicit_root
from .bvp import HomoclinicProblem, saddle_quantity

__all__ = ["HomoclinicPoint", "homoclinic_point", "homoclinic_values"]


def _check(hp, u):
    if not isinstance(hp, HomoclinicProblem):
        raise ValueError(
            f"`hp` must be a HomoclinicProblem; got {type(hp).__name__}. Use the "
            "solution's `sol.problem` (the problem after any re-mesh)."
        )
    u = jnp.asarray(u)
    if u.shape != (hp.size,):
        raise ValueError(
            f"u has shape {u.shape}; this problem's unknowns have shape ({hp.size},) "
            "(nodes, saddle, p1, p2). For a curve row use `HomoclinicBranch.u(i)`."
        )
    if not jnp.issubdtype(u.dtype, jnp.floating):
        u = u.astype(jnp.result_type(float))
    return u


def _with_args(hp, args):
    if args is None:
        return hp
    old = jax.tree.structure(hp.problem.args)
    new = jax.tree.structure(args)
    if old != new:
        raise ValueError(
            "`args` must have the structure of the problem's args "
            f"({old}); got {new}."
        )
    return eqx.tree_at(lambda h: h.problem.args, hp, args)


def homoclinic_point(hp: HomoclinicProblem, u, *, args=None) -> Float[Array, " n"]:
    """The located homoclinic orbit `u = (nodes, x_s, p1, p2)` with implicit derivatives
    of `(nodes, x_s, p1)` w.r.t. every array leaf of `hp` (in particular
    `hp.problem.args`) and w.r.t. `p2 = u[-1]` (if it carries derivatives).

    **Arguments:**

    - `hp`: the `HomoclinicProblem` `u` solves (`sol.problem` — after a re-mesh it is
        not the one passed to `locate_homoclinic`).
    - `u`: a converged solution (`sol.u`; not checked: a non-converged `u` gives wrong
        derivatives). Only its last entry `p2` is differentiated through; the rest is
        treated as a constant (the derivatives come from the IFT).
    - `args`: optional replacement for `hp.problem.args` (same pytree structure; the
        usual way to differentiate w.r.t. the arguments: `jax.grad(lambda a:
        homoclinic_point(hp, u, args=a)[-2])(hp.problem.args)`). The values must be
        those `u` was located at. The entries of `args` that are `p1` and `p2` are
        overwritten by the BVP (their derivative is zero).

    **Returns:** `u` with derivatives attached (`p1 = u[-2]`; `hp.split(u)` for the
    rest). Where the BVP Jacobian is numerically singular (a degenerate orbit, e.g. at
    an inclination flip or a non-hyperbolic saddle) the derivative is NaN (see
    `gru_bif.differentiate`).

    **Raises:** `ValueError` for an `hp` that is not a `HomoclinicProblem`, a `u` of the
    wrong shape, or `args` of another structure.
    """
    u = _check(hp, u)
    hp = _with_args(hp, args)
    dyn, static = eqx.partition(hp, eqx.is_inexact_array)

    def G(y, theta, aux):
        d, p2 = theta
        c = eqx.combine(d, static)
        return c.residual(jnp.concatenate([y, p2[None]])).astype(y.dtype)

    p2 = u[-1]
    y = implicit_root(G, u[:-1], (dyn, p2), None)
    return jnp.concatenate([y, p2[None]])


class HomoclinicPoint(eqx.Module):
    """The quantities of a located homoclinic orbit as differentiable functions (see
    `homoclinic_values`): `u`, `p1`, `p2`, `saddle` `(d,)`, `nodes`
    `(ntst ncol + 1, d)`, `eigenvalues` of `f_x` at the saddle (complex, `(d,)`),
    `saddle_quantity` (`σ`)."""

    u: Float[Array, " n"]
    p1: Float[Array, ""]
    p2: Float[Array, ""]
    saddle: Float[Array, " d"]
    nodes: Float[Array, "nodes d"]
    eigenvalues: Array
    saddle_quantity: Float[Array, ""]


def _eigvals_first_order(A):
    """Eigenvalues of `A` whose derivatives are `wᴴ dA v / wᴴ v` (the eigen-decomposition
    under `stop_gradient`; simple eigenvalues)."""
    cdt = jnp.result_type(A.dtype, jnp.complex64)
    As = jax.lax.stop_gradient(A)
    lam, V = jnp.linalg.eig(As)
    W = jnp.linalg.inv(V)  # rows: left eigenvectors, W V = I
    dA = (A - As).astype(cdt)
    return lam + jnp.einsum("ij,jk,ki->i", W, dA, V)


def homoclinic_values(hp: HomoclinicProblem, u, *, args=None) -> HomoclinicPoint:
    """`p1`, the saddle, the orbit's nodes, the saddle's eigenvalues and the saddle
    quantity `σ` of the located homoclinic orbit `u`, all differentiable w.r.t. the array
    leaves of `hp` (or `args`, replacing `hp.problem.args`) and `p2 = u[-1]`, by the
    implicit function theorem on the BVP (`homoclinic_point`) and, for the eigenvalues,
    first-order perturbation theory.

    Example — the slope of the homoclinic curve and the sensitivity of `p1` to every
    weight::

        sol = locate_homoclinic(hp, u0, remesh=1)
        dp1_dp2 = jax.grad(lambda b2: homoclinic_values(
            sol.problem, sol.u.at[-1].set(b2)).p1)(sol.p2)
        g = jax.grad(lambda a: homoclinic_values(sol.problem, sol.u, args=a).p1)(
            sol.problem.problem.args)

    **Raises:** as `homoclinic_point`.
    """
    u = homoclinic_point(hp, u, args=args)
    hp = _with_args(hp, args)
    X, xs, p1, p2 = hp.split(u)
    A = jax.jacfwd(lambda x: hp.F(x, p1, p2))(xs)
    ev = _eigvals_first_order(A)
    return HomoclinicPoint(u=u, p1=p1, p2=p2, saddle=xs, nodes=X, eigenvalues=ev,
                           saddle_quantity=saddle_quantity(ev).astype(u.dtype))
