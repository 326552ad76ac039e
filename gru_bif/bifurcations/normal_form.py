"""Normal-form coefficients from autodiff multilinear forms (Kuznetsov, *Elements of
Applied Bifurcation Theory*, 3rd ed., §3.5 and §5.4).

`B(u, v)` and `C(u, v, w)` are the second and third derivatives of the vector field at
an equilibrium, computed with nested `jax.jvp`. Complex arguments are expanded into real
ones by symmetry and multilinearity, and all real evaluations of one form are batched
with `vmap` (one trace per form keeps compile time low)."""

import jax
import jax.numpy as jnp

from .._linalg import null_vector, solve


def multilinear(F, x, order: int):
    """The real symmetric multilinear form of `order` (2: B, 3: C) of `F` at `x`."""

    def form(*vs):
        # tangents in the state's dtype (a float32 problem under jax_enable_x64 meets
        # float64 intermediates, e.g. a frequency computed in float64)
        vs = [v.astype(x.dtype) for v in vs]
        g = F
        for v in vs[:-1]:
            g = (lambda g_, v_: lambda y: jax.jvp(g_, (y,), (v_,))[1])(g, v)
        return jax.jvp(g, (x,), (vs[-1],))[1]

    return form


def _batched(form, *vs):
    """Evaluate `form` on stacked real arguments (each of shape (k, n))."""
    return jax.vmap(form)(*vs)


def fold_coefficient(F, x, J, q, Fp):
    """Quadratic normal-form coefficient `a = <p, B(q, q)> / 2` at a fold, with `q` the
    unit right null vector of `J` and `p` the left null vector with `<p, q> = 1`, both
    oriented so that `<p, F_p> > 0` (normal form `ξ' = β + a ξ²` with `β` increasing
    with the parameter). So the two equilibria exist where `(p − p_fold)·a < 0`: `a < 0`
    means they exist above the fold."""
    q = q / jnp.linalg.norm(q)
    p = null_vector(J.T, q, q)  # left null vector; Jᵀ's left null vector is q
    p = p / jnp.dot(p, q)
    flip = jnp.where(jnp.dot(p, Fp) < 0, -1.0, 1.0).astype(q.dtype)
    q, p = flip * q, flip * p
    B = multilinear(F, x, 2)
    return 0.5 * jnp.dot(p, B(q, q))


def first_lyapunov(F, x, J, omega, q, p):
    """First Lyapunov coefficient `l1` at a Hopf point (Kuznetsov's invariant formula)

        l1 = Re[<p, C(q,q,q̄)> − 2<p, B(q, J⁻¹B(q,q̄))> + <p, B(q̄, (2iω − J)⁻¹B(q,q))>] / (2ω)

    `q`: right eigenvector `J q = iω q`; `p`: left eigenvector `Jᵀ p = −iω p`; they are
    normalised here to `<q, q> = 1`, `<p, q> = 1`. `l1 < 0`: supercritical (a stable
    cycle is born), `l1 > 0`: subcritical. For `ż = (β + iω) z + c₁ z|z|²`, l1 = Re c₁/ω."""
    n = x.shape[0]
    q = q / jnp.linalg.norm(q)
    p = p / jnp.conj(jnp.vdot(p, q))
    a, b = q.real, q.imag
    B = multilinear(F, x, 2)
    C = multilinear(F, x, 3)
    # stage 1: B(a,a), B(b,b), B(a,b)
    B1 = _batched(B, jnp.stack([a, b, a]), jnp.stack([a, b, b]))
    Baa, Bbb, Bab = B1[0], B1[1], B1[2]
    Bqqb = Baa + Bbb  # B(q, q̄), real
    Bqq = (Baa - Bbb) + 2j * Bab  # B(q, q)
    r = solve(J, Bqqb)  # J⁻¹ B(q, q̄)
    cdt = jnp.result_type(J.dtype, 1j)
    Mc = 2j * omega * jnp.eye(n, dtype=cdt) - J.astype(cdt)
    c = solve(Mc, Bqq.astype(cdt))
    cr, ci = c.real, c.imag
    # stage 2: B(a,r), B(b,r), B(a,cr), B(b,ci), B(a,ci), B(b,cr)
    B2 = _batched(B, jnp.stack([a, b, a, b, a, b]), jnp.stack([r, r, cr, ci, ci, cr]))
    Bqr = B2[0] + 1j * B2[1]  # B(q, r)
    Bqbc = (B2[2] + B2[3]) + 1j * (B2[4] - B2[5])  # B(q̄, c)
    # C(q, q, q̄) = C(a,a,a) + C(a,b,b) + i (C(a,a,b) + C(b,b,b))
    C1 = _batched(C, jnp.stack([a, a, a, b]), jnp.stack([a, b, a, b]), jnp.stack([a, b, b, b]))
    Cqqqb = (C1[0] + C1[1]) + 1j * (C1[2] + C1[3])
    term = jnp.vdot(p, Cqqqb) - 2 * jnp.vdot(p, Bqr) + jnp.vdot(p, Bqbc)
    return term.real / (2 * omega)
