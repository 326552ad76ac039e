"""Gradients of located objects by the implicit function theorem.

The continuation loop is never differentiated (its outputs are computed under
`stop_gradient`). Instead, each reported object — a point of the branch, a fold, a Hopf
point, a branch point — is re-attached to the problem's arguments through its *defining
system* `G(y, θ) = 0`: the forward value is the located `y` (no extra cost), and its
derivative is `dy = −G_y⁻¹ G_θ dθ` (one linear solve per object, only when
differentiated). Forward and reverse mode both work (the rule is a linear JVP, which JAX
transposes), under `jit` and `vmap`.

Defining systems (unknowns → equations):

- equilibrium at fixed `p`: `x` → `F(x, p) = 0`;
- fold: `(x, p, v)` → `F = 0`, `F_x v = 0`, `c·v = 1`;
- Hopf: `(x, p, ω, v_r, v_i)` → `F = 0`, `F_x v_r + ω v_i = 0`, `F_x v_i − ω v_r = 0`,
  `c·v_r = 1`, `c·v_i = 0`;
- branch point: `(x, p, μ, ψ)` → `F + μψ = 0`, `F_xᵀψ = 0`, `ψ·F_p = 0`, `ψ·ψ = 1`
  (μ = 0 at the solution; it makes the system square and regular at a simple BP).

**Degenerate points.** Where a defining system is singular — a fold whose quadratic
coefficient vanishes (the cusp condition), a Hopf point at a Bogdanov–Takens point
(`ω → 0`), a degenerate branch point — the located object is not a differentiable
function of the arguments, and its derivative is NaN, never a silently wrong number.
"Singular" is decided from the LU factorisation of `G_y` that the derivative needs
anyway: the reciprocal condition estimate `min|u_ii| / max|u_ii|` (pivots of the
partially pivoted LU) below [`gru_bif.differentiate.singular_rcond`][] (`eps^(2/3)` of
the dtype: 3.7e-11 in float64, 2.5e-5 in float32). JAX cannot warn from inside compiled
code without a host callback (which this library avoids: callbacks keep programs out of
the persistent compilation cache); [`gru_bif.training.fit`][] warns on the host when a
gradient is non-finite, and a caller of `jax.grad` should check
`jnp.isfinite` of the result. Reverse mode propagates the NaN to every argument the
degenerate point depends on, *even where the loss does not use that point* (JAX
multiplies the NaN derivative by a zero cotangent): drop such a point from the
`Problem`'s range (`p_min`, `p_max`) or from the continuation (`hopf="off"`) if it is
not wanted.

**Near a fold.** Points along a branch are differentiated at *fixed* parameter value
(`dx/dθ = −F_x⁻¹ F_θ`), and `F_x` becomes singular at a fold: these derivatives grow
like `1/sqrt(|p − p_fold|)` (the branch is `x − x_F ≈ ±sqrt((p − p_F)/a)`). They are
correct but useless for optimisation close to a fold — differentiate the located fold
(`branch.special`, `kind == SpecialKind.FOLD`: its `p` and state are regular functions
of the arguments) instead.
"""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np

from ._linalg import SMALL, solve

__all__ = [
    "implicit_root",
    "singular_rcond",
    "equilibrium_points",
    "fold_point",
    "hopf_point",
    "branch_point",
]


def singular_rcond(dtype) -> float:
    """Threshold below which a defining system counts as singular (its located object
    then gets NaN derivatives): `eps^(2/3)` of `dtype` — 3.7e-11 for float64, 2.5e-5
    for float32. Compared with `min|u_ii| / max|u_ii|` over the pivots of the LU
    factorisation (partial pivoting) of the system's Jacobian `G_y`."""
    return float(np.finfo(dtype).eps) ** (2.0 / 3.0)


def _solve_and_rcond(A, b):
    """`(A⁻¹ b, rcond)`, `rcond = min|u_ii| / max|u_ii|` from the pivoted LU of `A`
    (0 for an exactly singular `A`). Tiny systems are solved by the unrolled
    elimination (`_linalg.solve`); their pivots come from one more LAPACK call only
    for the estimate, which is cheap next to the Jacobian evaluations."""
    lu, piv = jsl.lu_factor(A)
    diag = jnp.abs(jnp.diagonal(lu))
    big = jnp.max(diag)
    rcond = jnp.where(big > 0, jnp.min(diag) / jnp.where(big > 0, big, 1.0), 0.0)
    x = solve(A, b) if A.shape[0] <= SMALL else jsl.lu_solve((lu, piv), b)
    return x, rcond


def implicit_root(G, y, theta, aux=None, active=True):
    """Return `y` (a solution of `G(y, θ, aux) = 0`) with derivatives w.r.t. `θ` given by
    the implicit function theorem, `dy = −G_y⁻¹ G_θ dθ`; `y` and `aux` are treated as
    constants. `G` must be a function that closes over no traced values (pass them in
    `aux`). Where `active` is False (padding, or a slot of another kind) the derivative
    is exactly zero — the system is not solved there, so no NaN can leak into gradients
    through `where`. Where `G_y` is numerically singular (reciprocal condition estimate
    below [`gru_bif.differentiate.singular_rcond`][]) the derivative is NaN: the
    implicit function does not exist there (see the module docstring).

    A `jax.custom_jvp`: forward mode evaluates the rule, reverse mode transposes it
    (one solve with `G_yᵀ`); both work under `jit` and `vmap`."""
    aux = jax.lax.stop_gradient(aux)
    return _implicit_root(G, jax.lax.stop_gradient(y), theta, aux, jnp.asarray(active))


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _implicit_root(G, y, theta, aux, active):
    return y


@_implicit_root.defjvp
def _implicit_root_jvp(G, primals, tangents):
    y_out, theta, aux, active = primals
    dtheta = tangents[1]
    # Inactive slots may hold non-finite values (a fold formula at a Hopf point, say):
    # evaluate the linearisation at finite stand-ins there, so that no NaN partial can
    # meet a zero cotangent in reverse mode.
    y = jnp.where(active & jnp.isfinite(y_out), y_out, 0.0)
    aux = jax.tree.map(lambda a: jnp.where(active & jnp.isfinite(a), a, 0.0), aux)

    def solve_active(ops):
        y, aux, theta, dtheta = ops
        Gy = jax.jacfwd(lambda yy: G(yy, theta, aux))(y)
        _, Gt = jax.jvp(lambda th: G(y, th, aux), (theta,), (dtheta,))
        # (only reached for an inactive slot under vmap, where `cond` becomes `select`)
        Gy = jnp.where(active, Gy, jnp.eye(y.shape[0], dtype=Gy.dtype))
        Gt = jnp.where(active, Gt, 0.0)
        dy, rcond = _solve_and_rcond(Gy, Gt)
        # A singular defining system: no derivative exists. Multiplying (rather than
        # selecting) keeps the rule linear in the tangent, so reverse mode transposes
        # it and the NaN reaches the gradient too.
        singular = active & ~(rcond >= singular_rcond(Gy.dtype))
        return (-dy * jnp.where(singular, jnp.nan, 1.0).astype(dy.dtype)).astype(y.dtype)

    def inactive(ops):
        return jnp.zeros_like(ops[0])

    # Padding slots and slots of another kind skip the Jacobian and the solve (a real
    # branch outside `vmap`; under `vmap` both run and `active` selects).
    dy = jax.lax.cond(active, solve_active, inactive, (y, aux, theta, dtheta))
    return y_out, dy


def _split(cp):
    dyn, static = eqx.partition(cp, eqx.is_inexact_array)
    return dyn, static


def equilibrium_points(cp, X):
    """Attach implicit derivatives to the points `X` (rows `(x, p)`) of a branch of
    equilibria, at fixed `p`. NaN rows (padding) stay NaN."""
    dyn, static = _split(cp)

    def G(x, th, p):
        c = eqx.combine(th, static)
        return c.residual(jnp.concatenate([x, p[None]])).astype(x.dtype)

    def one(u):
        p = jax.lax.stop_gradient(u[-1])
        safe = jnp.all(jnp.isfinite(u))
        x0 = jnp.where(safe, u[:-1], 0.0)
        p = jnp.where(safe, p, 0.0)
        x = implicit_root(G, x0, dyn, p, safe)
        return jnp.where(safe, jnp.concatenate([x, p[None]]), u)

    return jax.vmap(one)(X)


def fold_point(cp, u, v, active=True):
    """Implicit derivatives of a located fold `u = (x, p)` with null vector `v`."""
    dyn, static = _split(cp)
    n = u.shape[0] - 1
    c = jax.lax.stop_gradient(v / jnp.dot(v, v))

    def G(y, th, c):
        cc = eqx.combine(th, static)
        x, p, w = y[:n], y[n], y[n + 1 :]
        uu = jnp.concatenate([x, p[None]])
        F = cc.residual(uu)
        Jw = jax.jvp(lambda xx: cc.residual(jnp.concatenate([xx, p[None]])), (x,), (w,))[1]
        return jnp.concatenate([F, Jw, (jnp.dot(c, w) - 1)[None]]).astype(y.dtype)

    y0 = jnp.concatenate([u, v / jnp.dot(c, v)])
    y = implicit_root(G, y0, dyn, c, active)
    return y[: n + 1], y[n + 1 :]


def hopf_point(cp, u, omega, q, active=True):
    """Implicit derivatives of a located Hopf point `u = (x, p)` with frequency `omega`
    and eigenvector `q` (`J q = iω q`). Returns `(u, omega, q)`."""
    dyn, static = _split(cp)
    n = u.shape[0] - 1
    qr, qi = q.real.astype(u.dtype), q.imag.astype(u.dtype)
    # normalise so that c·v_r = 1, c·v_i = 0 with c = stop_gradient(v_r)
    c = jax.lax.stop_gradient(qr)
    z = jnp.dot(c, qr) + 1j * jnp.dot(c, qi)
    qn = (qr + 1j * qi) / z
    qr, qi = qn.real.astype(u.dtype), qn.imag.astype(u.dtype)

    def G(y, th, c):
        cc = eqx.combine(th, static)
        x, p, w = y[:n], y[n], y[n + 1]
        vr, vi = y[n + 2 : 2 * n + 2], y[2 * n + 2 :]
        Fx = lambda xx: cc.residual(jnp.concatenate([xx, p[None]]))  # noqa: E731
        F = Fx(x)
        Jvr = jax.jvp(Fx, (x,), (vr,))[1]
        Jvi = jax.jvp(Fx, (x,), (vi,))[1]
        return jnp.concatenate(
            [F, Jvr + w * vi, Jvi - w * vr, (jnp.dot(c, vr) - 1)[None], jnp.dot(c, vi)[None]]
        ).astype(y.dtype)

    y0 = jnp.concatenate([u, omega[None].astype(u.dtype), qr, qi])
    y = implicit_root(G, y0, dyn, c, active)
    return y[: n + 1], y[n + 1], y[n + 2 : 2 * n + 2] + 1j * y[2 * n + 2 :]


def branch_point(cp, u, psi, active=True):
    """Implicit derivatives of a located simple branch point `u = (x, p)` with left null
    vector `psi` of `F_x`."""
    dyn, static = _split(cp)
    n = u.shape[0] - 1
    psi = psi / jnp.linalg.norm(psi)

    def G(y, th, _):
        cc = eqx.combine(th, static)
        x, p, mu, s = y[:n], y[n], y[n + 1], y[n + 2 :]
        uu = jnp.concatenate([x, p[None]])
        F, vjp = jax.vjp(cc.residual, uu)
        # (the residual may compute in a wider dtype than the state: float64 args
        # with a float32 branch)
        (JTs,) = vjp(s.astype(F.dtype))  # [F_xᵀ ψ; F_pᵀ ψ]
        return jnp.concatenate(
            [F + mu * s, JTs[:n], JTs[n:], (jnp.dot(s, s) - 1)[None]]
        ).astype(y.dtype)

    y0 = jnp.concatenate([u, jnp.zeros((1,), u.dtype), psi.astype(u.dtype)])
    y = implicit_root(G, y0, dyn, None, active)
    return y[: n + 1]
