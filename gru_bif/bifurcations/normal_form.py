"""Normal-form coefficients from autodiff multilinear forms (Kuznetsov, *Elements of
Applied Bifurcation Theory*, 3rd ed., §3.5 and §5.4).

`B(u, v)` and `C(u, v, w)` are the second and third derivatives of the vector field at
an equilibrium, computed with nested `jax.jvp`; complex arguments are expanded by
multilinearity into real evaluations."""

import itertools

import jax
import jax.numpy as jnp

from .._linalg import solve


def multilinear(F, x, order: int):
    """The real multilinear form of `order` (2: B, 3: C) of `F` at `x`."""

    def form(*vs):
        g = F
        for v in vs[:-1]:
            g = (lambda g_, v_: lambda y: jax.jvp(g_, (y,), (v_,))[1])(g, v)
        return jax.jvp(g, (x,), (vs[-1],))[1]

    return form


def complex_form(real_form, *vs):
    """Evaluate a real multilinear form on complex vectors by expanding each argument
    into real and imaginary parts."""
    parts = [(v.real, v.imag) for v in vs]
    total = 0.0
    for choice in itertools.product((0, 1), repeat=len(vs)):
        args = [parts[i][c] for i, c in enumerate(choice)]
        factor = 1j ** sum(choice)
        total = total + factor * real_form(*args)
    return total


def fold_coefficient(F, x, J, q):
    """Quadratic normal-form coefficient `a = <p, B(q, q)> / 2` at a fold, with `q` the
    unit right null vector of `J` and `p` the left null vector with `<p, q> = 1`
    (normal form `ξ' = β + a ξ²`)."""
    from .._linalg import null_vector

    q = q / jnp.linalg.norm(q)
    p = null_vector(J.T, q)
    p = p / jnp.dot(p, q)
    B = multilinear(F, x, 2)
    return 0.5 * jnp.dot(p, B(q, q))


def first_lyapunov(F, x, J, omega, q, p):
    """First Lyapunov coefficient `l1` at a Hopf point (Kuznetsov's invariant formula).

    `q`: right eigenvector `J q = iω q`; `p`: left eigenvector `Jᵀ p = −iω p`; they are
    normalised here to `<q, q> = 1`, `<p, q> = 1`. `l1 < 0`: supercritical (a stable
    cycle is born), `l1 > 0`: subcritical."""
    n = x.shape[0]
    q = q / jnp.linalg.norm(q)
    p = p / jnp.conj(jnp.vdot(p, q))
    B = multilinear(F, x, 2)
    C = multilinear(F, x, 3)
    qb = jnp.conj(q)
    Bqqb = complex_form(B, q, qb).real
    Bqq = complex_form(B, q, q)
    a = solve(J, Bqqb)
    Mc = 2j * omega * jnp.eye(n, dtype=jnp.result_type(J.dtype, 1j)) - J
    b = solve(Mc, Bqq.astype(Mc.dtype))
    term = (
        jnp.vdot(p, complex_form(C, q, q, qb))
        - 2 * jnp.vdot(p, complex_form(B, q, a.astype(q.dtype)))
        + jnp.vdot(p, complex_form(B, qb, b))
    )
    return term.real / (2 * omega)
