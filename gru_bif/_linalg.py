"""Small dense linear algebra shared by the solvers.

Continuation needs a solve *and* the sign of the determinant of the same bordered
matrix (the branch-point test), which lineax does not expose; so the bordered solves of
the continuation loop go through one LU factorisation here. Everything else uses lineax.
"""

import jax.numpy as jnp
import jax.scipy.linalg as jsl

from ._compile import jit


#: Systems up to this size are solved by Gaussian elimination written out in JAX
#: operations (partial pivoting, unrolled at trace time) instead of a LAPACK call:
#: XLA runs a LAPACK call per matrix (a loop over the batch under `vmap`), which for
#: tiny systems costs far more than the arithmetic (measured for this project: 3×3
#: elimination 2–3× faster per branch; batched, the gap is larger still).
SMALL = 8


@jit
def _eliminate(A, b):
    """Gauss-Jordan elimination with partial pivoting on a small dense `A` (n ≤ SMALL).
    Returns `(x, sign(det A), mean log|pivot|)`; a zero pivot gives non-finite `x`.
    Whole-matrix operations only (a row permutation by gather, a rank-one update per
    column, no back substitution): fewer operations for XLA to compile than the
    row-by-row form, and as fast or faster, batched too. `b` is carried separately from
    `A` so that the map `b ↦ x` stays visibly linear to JAX (reverse mode transposes it,
    e.g. in implicit gradients).

    A nested `jit`: JAX traces (and differentiates, batches and lowers) it once per
    shape and transformation, not at every call site; XLA inlines it again. The
    unrolled pivots otherwise took ~35 ms of tracing per call site under `jacfwd` and
    `vmap` (1.8 s of a Hopf curve's first call)."""
    n = A.shape[0]
    dtype = jnp.result_type(A.dtype, b.dtype)
    M = A.astype(dtype)
    b = b.astype(dtype)
    rows = jnp.arange(n)
    real = jnp.real(jnp.zeros((), dtype)).dtype
    sign = jnp.ones((), real)
    logabs = jnp.zeros((), real)
    for k in range(n):
        mag = jnp.where(rows >= k, jnp.abs(M[:, k]), -1.0)
        p = jnp.argmax(mag)
        perm = jnp.where(rows == k, p, jnp.where(rows == p, k, rows))
        M, b = M[perm], b[perm]
        sign = jnp.where(p != k, -sign, sign)
        piv = M[k, k]
        if not jnp.iscomplexobj(piv):
            sign = sign * jnp.sign(piv)
        logabs = logabs + jnp.log(jnp.abs(piv))
        factors = jnp.where(rows != k, M[:, k] / piv, 0.0)
        M = M - factors[:, None] * M[k][None, :]
        b = b - factors * b[k]
    return b / jnp.diagonal(M), sign, logabs / n


def _lu_det(lu, piv):
    """The scaled determinant (see `lu_solve_det`) of an LU factorisation."""
    diag = jnp.diagonal(lu)
    n = lu.shape[0]
    swaps = jnp.sum(piv != jnp.arange(n))
    sign = jnp.prod(jnp.sign(diag)) * jnp.where(swaps % 2 == 0, 1.0, -1.0)
    return sign * jnp.exp(jnp.mean(jnp.log(jnp.abs(diag))))


def lu_solve_det(A, b):
    """Solve `A x = b` and return `(x, det_value)` from one LU factorisation.

    `det_value` is `sign(det A) · exp(mean(log|diag U|))`: a continuous function with the
    sign of `det A` that vanishes with it, but does not over- or underflow for large
    matrices (a scaled determinant, used as a test function)."""
    if A.shape[0] <= SMALL and not jnp.iscomplexobj(A):
        x, sign, meanlog = _eliminate(A, b)
        return x, sign * jnp.exp(meanlog)
    lu, piv = jsl.lu_factor(A)
    return jsl.lu_solve((lu, piv), b), _lu_det(lu, piv)


def bordered_solve(M, b, c):
    """The bordered system of a (nearly) singular square `M` with borders `b`, `c`:

        [[M, b], [cᵀ, 0]] [v; g] = [0; 1],     [[Mᵀ, c], [bᵀ, 0]] [w; g] = [0; 1]

    (the second is the transpose of the first, so both give the same `g`). `g` vanishes
    exactly where `M` is singular, and then `v`, `w` are its right and left null vectors
    (Govaerts' minimally augmented systems; MatCont, BifurcationKit). Returns
    `(g, v, w, det)` with `det` the scaled determinant of the bordered matrix (see
    `lu_solve_det`). One factorisation for both solves; differentiable in `M`, `b`, `c`.
    The one bordered solve of the fold, Hopf and fold-of-cycles curves and of their
    implicit gradients."""
    n = M.shape[0]
    dt = M.dtype
    Mb = jnp.block(
        [[M, b.astype(dt)[:, None]], [c.astype(dt)[None, :], jnp.zeros((1, 1), dt)]]
    )
    rhs = jnp.zeros((n + 1,), dt).at[n].set(1.0)
    if n + 1 <= SMALL and not jnp.iscomplexobj(Mb):
        s, sign, meanlog = _eliminate(Mb, rhs)
        t = _eliminate(Mb.T, rhs)[0]
        det = sign * jnp.exp(meanlog)
    else:
        lu, piv = jsl.lu_factor(Mb)
        s = jsl.lu_solve((lu, piv), rhs)
        t = jsl.lu_solve((lu, piv), rhs, trans=1)
        det = _lu_det(lu, piv)
    return s[n], s[:n], t[:n], det


def solve(A, b):
    """Dense solve `A x = b` by LU with partial pivoting; `A` square, `b` a vector.

    Measured here: a lineax LU solve of a 3×3 system costs 5.3 µs inside a compiled
    loop, a direct LAPACK LU 1.3 µs (the continuation loop does several per step), so
    the hot path calls the factorisation directly; lineax is used where operators
    matter (matrix-free Jacobians, structured solvers)."""
    if A.shape[0] <= SMALL:
        return _eliminate(A, b)[0]
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
