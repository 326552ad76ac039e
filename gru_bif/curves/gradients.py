"""Implicit derivatives of points on fold / Hopf curves and of their codim-2 points.

Like `gru_bif.differentiate` for one-parameter branches: the continuation loop is not
differentiated; each reported object is re-attached to the problem's arguments through
its defining system with `gru_bif.differentiate.implicit_root` (`dy = −G_y⁻¹ G_θ dθ`,
NaN where `G_y` is numerically singular). The borders `b`, `c` of the minimally
augmented systems are the singular vectors of the smallest singular value at the
located point, frozen (passed as constants): at a regular root the derivative does not
depend on the choice of borders.

Defining systems (unknowns → equations), `J = F_x`, `Bm = 2J ⊙ I` (bialternate):

- point of a fold curve, at fixed `p2`: `(x, p1)` → `F = 0`, `g_fold = 0`, with `g_fold`
  from `[[J, b], [cᵀ, 0]] [v; g] = [0; 1]`;
- point of a Hopf curve, at fixed `p2`: `(x, p1)` → `F = 0`, `g_hopf = 0` (same bordering
  of `Bm`);
- cusp: `(x, p1, p2)` → `F = 0`, `g_fold = 0`, `w·B(v, v) = 0` (`v`, `w`: right and left
  null vectors of `J` from the bordered solves);
- Bogdanov–Takens (on fold and Hopf curves alike): `(x, p1, p2)` → `F = 0`,
  `g_fold = 0`, `w·v = 0`;
- Bautin: `(x, p1, p2)` → `F = 0`, `g_hopf = 0`, `l1 = 0` (`ω² = κ` and the eigenvectors
  from the kernel of the bordered `Bm`, as in `gru_bif.bifurcations.codim2`);
- zero-Hopf (on fold and Hopf curves alike): `(x, p1, p2)` → `F = 0`, `g_fold = 0`,
  `g_hopf = 0` (borders of `Bm` from its smallest singular pair, which at a zero-Hopf
  point belongs to the pair `±iω`).

- double Hopf (d ≥ 4): `(x, p1, p2, ω1, q1, ω2, q2)` → `F = 0`, `J q_k = iω_k q_k`,
  `c_k·Re q_k = 1`, `c_k·Im q_k = 0` (k = 1, 2; `c_k` frozen): the two imaginary pairs
  with their eigenvectors, a regular system at a generic double-Hopf point (distinct
  `ω1 ≠ ω2`); only `(x, p1, p2)` is returned.

The normal-form coefficients in `special.data` (`a`, `b`, `c`, `l1`, `l2`, `omega`) are
constants too; `data["p1"]` carries the derivative of the point's `p1`.

At a degenerate codim-2 point (e.g. a cusp whose cubic coefficient vanishes, or where
the curve is tangent to the test function's zero set) the augmented system is singular
and the derivative is NaN, never a silently wrong number.
"""

import equinox as eqx
import jax
import jax.numpy as jnp

from .._linalg import bordered_solve
from ..differentiate import implicit_root
from ..bifurcations.codim2 import (
    bivector_matrix,
    hopf_vectors,
    imag_pairs,
    plane_kappa,
    smallest_singular,
)
from ..bifurcations.normal_form import first_lyapunov, multilinear
from ..bifurcations.test_functions import bialternate

__all__ = ["curve_points", "codim2_point"]


def _bordered(M, b, c):
    """`(v, w, g)` of `gru_bif._linalg.bordered_solve`; zero borders are
    `implicit_root`'s stand-ins in inactive slots: they are replaced by `e₀` so that the
    bordered matrix stays regular there too (no NaN partial may meet a zero cotangent)."""
    dt = M.dtype
    e0 = jnp.zeros((M.shape[0],), dt).at[0].set(1.0)
    b = jnp.where(jnp.any(b != 0), b.astype(dt), e0)
    c = jnp.where(jnp.any(c != 0), c.astype(dt), e0)
    g, v, w, _ = bordered_solve(M, b, c)
    return v, w, g


def _split(cp):
    return eqx.partition(cp, eqx.is_inexact_array)


def _F(static, th, x, p1, p2):
    return eqx.combine(th, static).F(x, p1, p2)


def _borders(M):
    _, u, v = smallest_singular(M)  # M v = σ u
    return u, v


def curve_points(cp, X, kind: str):
    """Attach implicit derivatives (at fixed `p2`) to the rows `X = (x, p1, p2)` of a
    fold (`kind="fold"`) or Hopf (`kind="hopf"`) curve of the curve problem `cp`. NaN
    rows (padding) stay NaN."""
    dyn, static = _split(cp)
    d = cp.dim

    def G(y, th, aux):
        p2, b, c = aux
        x, p1 = y[:d], y[d]
        Fx = lambda xx: _F(static, th, xx, p1, p2)  # noqa: E731
        J = jax.jacfwd(Fx)(x)
        M = J if kind == "fold" else bialternate(J)
        _, _, g = _bordered(M, b, c)
        return jnp.concatenate([Fx(x), g[None]]).astype(y.dtype)

    X = jax.lax.stop_gradient(X)
    rows_ok = jnp.all(jnp.isfinite(X), axis=1)
    # Padding rows are linearised at the first real row (a regular point of the curve)
    # and their result discarded: under `vmap` both sides of `implicit_root`'s `cond`
    # run, and a stand-in at the origin may be a singular point of the system.
    first = X[jnp.argmax(rows_ok)]
    first = jnp.where(jnp.isfinite(first), first, 0.0)

    def one(u, safe):
        us = jnp.where(safe, u, first)
        x, p1, p2 = us[:d], us[d], us[d + 1]
        J = jax.lax.stop_gradient(jax.jacfwd(lambda xx: cp.F(xx, p1, p2))(x))
        M = J if kind == "fold" else bialternate(J)
        b, c = _borders(M)
        y = implicit_root(G, us[: d + 1], dyn, (p2, b, c), jnp.any(rows_ok))
        return jnp.where(safe, jnp.concatenate([y, p2[None]]), u)

    return jax.vmap(one)(X, rows_ok)


def _at(static, th, y, d):
    """`(F(·, p1, p2), x, F_x)` at the first `d + 2` unknowns `(x, p1, p2)` of `y`."""
    x, p1, p2 = y[:d], y[d], y[d + 1]
    Fx = lambda xx: _F(static, th, xx, p1, p2)  # noqa: E731
    return Fx, x, jax.jacfwd(Fx)(x)


def _fold_parts(static, th, y, d, bf, cf):
    Fx, x, J = _at(static, th, y, d)
    v, w, g = _bordered(J, bf, cf)
    return Fx, x, J, v, w, g


def _cusp_G(static, d):
    def G(y, th, aux):
        bf, cf = aux
        Fx, x, J, v, w, g = _fold_parts(static, th, y, d, bf, cf)
        a = jnp.dot(w, multilinear(Fx, x, 2)(v, v))
        return jnp.concatenate([Fx(x), g[None], a[None]]).astype(y.dtype)

    return G


def _bt_G(static, d):
    def G(y, th, aux):
        bf, cf = aux
        Fx, x, J, v, w, g = _fold_parts(static, th, y, d, bf, cf)
        return jnp.concatenate([Fx(x), g[None], jnp.dot(w, v)[None]]).astype(y.dtype)

    return G


def _zh_G(static, d):
    def G(y, th, aux):
        bf, cf, bh, ch = aux
        Fx, x, J, v, w, g = _fold_parts(static, th, y, d, bf, cf)
        _, _, gh = _bordered(bialternate(J), bh, ch)
        return jnp.concatenate([Fx(x), g[None], gh[None]]).astype(y.dtype)

    return G


def _bautin_G(static, d):
    def G(y, th, aux):
        bh, ch = aux
        Fx, x, J = _at(static, th, y, d)
        vb, _, gh = _bordered(bialternate(J), bh, ch)
        A = bivector_matrix(vb, d)
        kappa = plane_kappa(J, A)
        omega = jnp.sqrt(jnp.where(kappa > 0, kappa, 1.0))  # κ > 0 at a Bautin point
        q, p = hopf_vectors(J, A, omega)
        l1 = first_lyapunov(Fx, x, J, omega, q, p)
        return jnp.concatenate([Fx(x), gh[None], l1[None]]).astype(y.dtype)

    return G


def _eig_G(J, yk, ck, d):
    """`J q = iω q` and the normalisation of `q`, in real form, for `yk = (ω, Re q, Im q)`."""
    w, qr, qi = yk[0], yk[1 : d + 1], yk[d + 1 :]
    return jnp.concatenate([J @ qr + w * qi, J @ qi - w * qr,
                            (jnp.dot(ck, qr) - 1)[None], jnp.dot(ck, qi)[None]])


def _dh_G(static, d):
    def G(y, th, aux):
        c1, c2 = aux
        Fx, x, J = _at(static, th, y, d)
        m = 2 * d + 1
        y1, y2 = y[d + 2 : d + 2 + m], y[d + 2 + m :]
        return jnp.concatenate(
            [Fx(x), _eig_G(J, y1, c1, d), _eig_G(J, y2, c2, d)]
        ).astype(y.dtype)

    return G


def _two_pairs(J):
    """Frequency, eigenvector (normalised: `c·Re q = 1`, `c·Im q = 0` with `c` the
    real part before normalisation) and `c` of the two eigenvalues with `Im λ > 0`
    nearest the imaginary axis; finite stand-ins where there are fewer."""
    d = J.shape[0]
    ev, score, _, vecs = imag_pairs(J, vectors=True)
    out = []
    for k in range(2):
        ok = jnp.isfinite(score[k])
        omega = jnp.where(ok, ev[k].imag, 1.0 + k)
        q = jnp.where(ok, vecs[:, k], jnp.ones((d,), vecs.dtype))
        c = jnp.where(jnp.dot(q.real, q.real) > 1e-12, q.real, jnp.ones((d,), q.real.dtype))
        q = q / (jnp.dot(c, q.real) + 1j * jnp.dot(c, q.imag))
        out.append((omega, q, c))
    return out


def codim2_point(cp, u, kind: str, active=True):
    """`u = (x, p1, p2)` of a located codim-2 point of kind `"cusp"`, `"bt"`, `"bautin"`,
    `"zero_hopf"` or `"double_hopf"` of the curve problem `cp`, with implicit derivatives w.r.t. `cp`'s
    arguments (see the module docstring for the defining systems). `active`: whether the
    slot holds a point of this kind (elsewhere the derivative is exactly zero)."""
    dyn, static = _split(cp)
    d = cp.dim
    u = jax.lax.stop_gradient(u)
    ok = active & jnp.all(jnp.isfinite(u))
    us = jnp.where(ok, u, 0.0)
    x, p1, p2 = us[:d], us[d], us[d + 1]
    J = jax.lax.stop_gradient(jax.jacfwd(lambda xx: cp.F(xx, p1, p2))(x))
    if kind in ("cusp", "bt", "zero_hopf"):
        bf, cf = _borders(J)
    if kind in ("bautin", "zero_hopf"):
        bh, ch = _borders(bialternate(J))
    if kind == "cusp":
        G, aux = _cusp_G(static, d), (bf, cf)
    elif kind == "bt":
        G, aux = _bt_G(static, d), (bf, cf)
    elif kind == "zero_hopf":
        G, aux = _zh_G(static, d), (bf, cf, bh, ch)
    elif kind == "bautin":
        G, aux = _bautin_G(static, d), (bh, ch)
    elif kind == "double_hopf":
        (w1, q1, c1), (w2, q2, c2) = _two_pairs(J)
        dt = us.dtype
        ext = [us]
        for w, q in ((w1, q1), (w2, q2)):
            ext += [w[None].astype(dt), q.real.astype(dt), q.imag.astype(dt)]
        y = implicit_root(_dh_G(static, d), jnp.concatenate(ext), dyn,
                          (c1.astype(dt), c2.astype(dt)), ok)
        return jnp.where(ok, y[: d + 2], u)
    else:
        raise ValueError(
            f"kind={kind!r}; use 'cusp', 'bt', 'bautin', 'zero_hopf' or 'double_hopf'."
        )
    y = implicit_root(G, us, dyn, aux, ok)
    return jnp.where(ok, y, u)
