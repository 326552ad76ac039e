"""Test functions for equilibrium bifurcations that avoid eigen-decompositions where
possible (bialternate product for Hopf), plus eigenvalue-based versions for large d."""

import functools

import jax.numpy as jnp
import numpy as np


@functools.lru_cache(maxsize=64)
def _bialternate_index(n: int):
    """Static gather indices for the bialternate product `2A ⊙ I` (Govaerts' rule).

    Rows and columns are pairs (p, q) with p > q. Returns index arrays `(ia, ja, sign)`
    of shape (m, m, 3): each entry of the result is a sum of up to three signed entries
    of A (sign 0 for padding)."""
    pairs = [(p, q) for p in range(1, n) for q in range(p)]
    m = len(pairs)
    ia = np.zeros((m, m, 3), np.int32)
    ja = np.zeros((m, m, 3), np.int32)
    sg = np.zeros((m, m, 3), np.float64)
    for row, (p, q) in enumerate(pairs):
        for col, (r, s) in enumerate(pairs):
            terms = []
            if r == q:
                terms.append((-1.0, p, s))
            if r != p and s == q:
                terms.append((1.0, p, r))
            if r == p and s == q:
                terms.append((1.0, p, p))
                terms.append((1.0, q, q))
            if r == p and s != q:
                terms.append((1.0, q, s))
            if s == p:
                terms.append((-1.0, q, r))
            for k, (sign, i, j) in enumerate(terms):
                ia[row, col, k], ja[row, col, k], sg[row, col, k] = i, j, sign
    return ia, ja, sg


def bialternate(A):
    """The bialternate product `2A ⊙ I` of a square matrix `A` (n ≥ 2), of size
    n(n−1)/2, whose eigenvalues are the sums λᵢ + λⱼ (i < j) of A's. Its determinant
    vanishes at a Hopf point (and at a neutral saddle)."""
    n = A.shape[-1]
    ia, ja, sg = _bialternate_index(n)
    return jnp.sum(A[ia, ja] * jnp.asarray(sg, A.dtype), axis=-1)


def scaled_det(M):
    """`sign(det M) · |det M|^(1/m)`: continuous, vanishing with det M, no overflow."""
    m = M.shape[-1]
    sign, logabs = jnp.linalg.slogdet(M)
    return sign * jnp.exp(logabs / m)


def hopf_test_bialternate(J):
    """Hopf test function from the bialternate product (eigenvalue-free)."""
    if J.shape[-1] < 2:
        return jnp.ones((), J.dtype)
    if J.shape[-1] == 2:
        return jnp.trace(J)
    return scaled_det(bialternate(J))


def hopf_test_eigen(eigvals, dtype):
    """Hopf test from eigenvalues: has the sign of ∏_{i<j}(λᵢ + λⱼ) (the bialternate
    determinant) and magnitude min |λᵢ + λⱼ|; O(d²), for large d."""
    n = eigvals.shape[-1]
    if n < 2:
        return jnp.ones((), dtype)
    iu, ju = np.triu_indices(n, 1)
    s = eigvals[iu] + eigvals[ju]
    total_angle = jnp.sum(jnp.angle(s))
    sign = jnp.sign(jnp.cos(total_angle))
    return (sign * jnp.min(jnp.abs(s))).astype(dtype)


def count_unstable(eigvals, dtype):
    """Number of eigenvalues with positive real part (a small tolerance relative to the
    spectrum's scale absorbs round-off)."""
    eps = jnp.finfo(dtype).eps
    scale = jnp.maximum(1.0, jnp.max(jnp.abs(eigvals)))
    return jnp.sum(eigvals.real > 100 * eps * scale).astype(jnp.int32)


def count_unstable_jacobian(J):
    """Number of eigenvalues of `J` with positive real part. For d ≤ 2 in closed form
    (trace and determinant: no LAPACK call, which matters under `vmap`), else from
    `eigvals`."""
    d = J.shape[-1]
    dtype = J.dtype
    eps = jnp.finfo(dtype).eps
    if d == 1:
        return (J[0, 0] > 100 * eps * jnp.maximum(1.0, jnp.abs(J[0, 0]))).astype(jnp.int32)
    if d == 2:
        tr = J[0, 0] + J[1, 1]
        det = J[0, 0] * J[1, 1] - J[0, 1] * J[1, 0]
        scale = jnp.maximum(1.0, jnp.max(jnp.abs(J)))
        tol = 100 * eps * scale
        return jnp.where(
            det < -tol * scale, 1, jnp.where(tr > tol, jnp.where(det > tol * scale, 2, 1), 0)
        ).astype(jnp.int32)
    return count_unstable(jnp.linalg.eigvals(J), dtype)
