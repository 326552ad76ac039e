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

Where a defining system is singular (a cusp on a fold, a Bogdanov–Takens point, a
degenerate branch point) the gradient does not exist: the solve then returns non-finite
values (NaN/inf), never a silently wrong number. Near a fold, gradients of *branch
points* `x(p)` grow like `1/sqrt(|p − p_fold|)`: differentiate the located fold instead.
"""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp

from ._linalg import solve


def implicit_root(G, y, theta, aux=None, active=True):
    """Return `y` (a solution of `G(y, θ, aux) = 0`) with derivatives w.r.t. `θ` given by
    the implicit function theorem; `y` and `aux` are treated as constants. `G` must be a
    function that closes over no traced values (pass them in `aux`). Where `active` is
    False (padding, or a slot of another kind) the derivative is exactly zero — the
    system is not solved there, so no NaN can leak into gradients through `where`."""
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
    Gy = jax.jacfwd(lambda yy: G(yy, theta, aux))(y)
    _, Gt = jax.jvp(lambda th: G(y, th, aux), (theta,), (dtheta,))
    eye = jnp.eye(y.shape[0], dtype=Gy.dtype)
    Gy = jnp.where(active, Gy, eye)
    Gt = jnp.where(active, Gt, 0.0)
    dy = -solve(Gy, Gt)
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
        F = cc.residual(uu)
        _, vjp = jax.vjp(cc.residual, uu)
        (JTs,) = vjp(s)  # [F_xᵀ ψ; F_pᵀ ψ]
        return jnp.concatenate(
            [F + mu * s, JTs[:n], JTs[n:], (jnp.dot(s, s) - 1)[None]]
        ).astype(y.dtype)

    y0 = jnp.concatenate([u, jnp.zeros((1,), u.dtype), psi.astype(u.dtype)])
    y = implicit_root(G, y0, dyn, None, active)
    return y[: n + 1]
