"""Leading eigenpairs of a large real operator, matrix-free: Arnoldi with Krylov–Schur
restarting (Stewart 2001, "A Krylov–Schur algorithm for large eigenproblems"; the
restart that ARPACK's implicit restarts are equivalent to, and what SLEPc and
ArnoldiMethod.jl use), in JAX and traceable (fixed sizes, `lax` loops: it runs inside
`jit`).

**Method.** A Krylov decomposition `A V_m = V_m H + v_{m+1} bᵀ` (`V` orthonormal, `H`
m × m) is grown by Arnoldi steps (classical Gram–Schmidt twice) to dimension `m`. The
wanted eigenvalues are those of largest modulus. At a restart the complex Schur form
`H = Z T Zᴴ` (LAPACK, `lax.linalg.schur`) is reordered by Givens swaps of neighbouring
diagonal entries (odd–even transposition sort, LAPACK `ztrexc`'s rotation) so that the
`p` wanted Ritz values lead; their Schur vectors span an invariant subspace of `H`,
closed under conjugation once a conjugate pair is never cut in two (`p` or `p + 1`
vectors, whichever basis is cleanly conjugate-closed), so it has a *real* orthonormal
basis `Q` (the eigenvectors of `Re(Z_p Z_pᴴ)` with eigenvalue 1). The decomposition is
compressed to `A (V Q) = (V Q)(Qᵀ H Q) + v_{m+1} (bᵀ Q)` and grown again from `p`.
Everything the operator touches stays real; only the small `m × m` step is complex.
`Qᵀ H Q` is a general `p × p` block, not triangular (a Krylov decomposition in Stewart's
sense; the kept subspace is the Krylov–Schur one).

**Convergence.** The Ritz pair `(θ, V s)` (`s` a unit eigenvector of `H`) has residual
`‖A V s − θ V s‖ = |bᵀ s|`; the run stops when the `nev` wanted pairs have
`|bᵀ s| ≤ tol · |θ|`, or after `max_restarts` restarts. The caller gets the estimates
and can check them with true products.

`lax.linalg.schur` is implemented on CPU only (as is `jnp.linalg.eig` on most jaxlib
builds): run this on the CPU backend.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def _grow(matvec, V, B, start, stop, key):
    """Arnoldi steps `j = start, …, stop − 1` on the Krylov decomposition `(V, B)`:
    `V (d, m+1)` with columns `0..start` set, `B (m+1, m)`. A breakdown (the new vector
    vanishes: an invariant subspace) continues with a random vector orthogonal to `V`
    and a zero in `B` (the decomposition stays exact)."""
    n1 = V.shape[1]
    tiny = jnp.finfo(V.dtype).eps

    def orth(V, w, mask):
        h = jnp.zeros((n1,), V.dtype)
        for _ in range(2):  # classical Gram–Schmidt twice ("twice is enough")
            c = (V.T @ w) * mask
            w = w - V @ c
            h = h + c
        return w, h

    def body(j, c):
        V, B = c
        mask = (jnp.arange(n1) <= j).astype(V.dtype)
        w0 = matvec(V[:, j])
        w, h = orth(V, w0, mask)
        nrm = jnp.linalg.norm(w)
        broke = nrm <= 1e3 * tiny * jnp.maximum(jnp.linalg.norm(w0), tiny)

        def fresh(_):
            r = jax.random.normal(jax.random.fold_in(key, j), w.shape, w.dtype)
            r, _ = orth(V, r / jnp.linalg.norm(r), mask)
            return r / jnp.linalg.norm(r)

        w = jax.lax.cond(broke, fresh, lambda _: w / jnp.where(nrm > 0, nrm, 1.0), None)
        B = B.at[:, j].set(h[: B.shape[0]])
        B = B.at[j + 1, j].set(jnp.where(broke, 0.0, nrm))
        V = V.at[:, j + 1].set(w)
        return V, B

    return jax.lax.fori_loop(start, stop, body, (V, B))


def _sorted_schur(H):
    """Complex Schur form `H = Z T Zᴴ` with the diagonal of `T` in decreasing modulus:
    LAPACK's unordered form, then `m` phases of odd–even transposition sort, each phase
    a set of disjoint Givens swaps applied at once (ztrexc's rotation: the first column
    of `G` is the eigenvector `[t, b − a]` of the 2 × 2 block `[[a, t], [0, b]]` for `b`)."""
    m = H.shape[0]
    cdt = jnp.result_type(H.dtype, jnp.complex64)
    T, Z = jax.lax.linalg.schur(H.astype(cdt))
    idx = jnp.arange(m)

    def phase(q, c):
        T, Z = c
        dg = jnp.diagonal(T)
        a, b, t = dg[:-1], dg[1:], jnp.diagonal(T, 1)
        x2 = b - a
        r = jnp.sqrt(jnp.abs(t) ** 2 + jnp.abs(x2) ** 2)
        act = ((jnp.arange(m - 1) % 2) == (q % 2)) & (jnp.abs(b) > jnp.abs(a)) & (r > 0)
        rs = jnp.where(act, r, 1.0)
        cc = jnp.where(act, t / rs, 1.0).astype(cdt)
        ss = jnp.where(act, x2 / rs, 0.0).astype(cdt)
        f = jnp.concatenate([act, jnp.zeros((1,), bool)])      # i is first of a swap
        s = jnp.concatenate([jnp.zeros((1,), bool), act])      # i is second of a swap
        cf = jnp.concatenate([cc, jnp.ones((1,), cdt)])
        sf = jnp.concatenate([ss, jnp.zeros((1,), cdt)])
        cs = jnp.concatenate([jnp.ones((1,), cdt), cc])
        s_s = jnp.concatenate([jnp.zeros((1,), cdt), ss])
        p = jnp.where(f, idx + 1, jnp.where(s, idx - 1, idx))
        # rows: Gᴴ T; columns: (·) G and Z G, with G = [[c, −s̄], [s, c̄]] on each pair
        ar = jnp.where(f, jnp.conj(cf), jnp.where(s, cs, 1.0))
        br = jnp.where(f, jnp.conj(sf), jnp.where(s, -s_s, 0.0))
        ac = jnp.where(f, cf, jnp.where(s, jnp.conj(cs), 1.0))
        bc = jnp.where(f, sf, jnp.where(s, -jnp.conj(s_s), 0.0))
        T = ar[:, None] * T + br[:, None] * T[p, :]
        T = T * ac[None, :] + T[:, p] * bc[None, :]
        Z = Z * ac[None, :] + Z[:, p] * bc[None, :]
        # the swapped diagonal exactly, and the rounding below it removed
        T = jnp.triu(T)
        T = T.at[idx, idx].set(jnp.where(f | s, dg[p], jnp.diagonal(T)))
        return T, Z

    return jax.lax.fori_loop(0, m, phase, (T, Z))


def _real_basis(Z, p):
    """A real orthonormal basis `(m, m)` (columns past the kept ones zero) of the span of
    the first `p` or `p + 1` Schur vectors `Z`, whichever is closed under conjugation
    (the other cuts a conjugate pair): the eigenvectors of `Re(Z_q Z_qᴴ)` (the
    orthogonal projector onto that real subspace) with eigenvalue 1. Returns
    `(Q, number of columns)`."""
    m = Z.shape[0]

    def proj(q):
        Zq = Z * (jnp.arange(m) < q)[None, :]
        P = (Zq @ jnp.conj(Zq).T).real
        return jnp.linalg.eigh(0.5 * (P + P.T))

    w0, U0 = proj(p)
    w1, U1 = proj(p + 1)
    off = lambda w: jnp.max(jnp.minimum(jnp.abs(w), jnp.abs(1.0 - w)))  # noqa: E731
    take1 = off(w1) < off(w0)
    w = jnp.where(take1, w1, w0)[::-1]
    U = jnp.where(take1, U1, U0)[:, ::-1]
    keep = w > 0.5
    return U * keep[None, :].astype(U.dtype), jnp.sum(keep)


def _ritz(B, nev):
    """The `nev` Ritz pairs of largest modulus: values `(nev,)`, unit coordinate
    vectors `(m, nev)` and residual estimates `|bᵀ s|`, plus all `m` Ritz values sorted."""
    m = B.shape[1]
    theta, S = jnp.linalg.eig(B[:m, :m])
    order = jnp.argsort(-jnp.abs(theta), stable=True)
    theta, S = theta[order], S[:, order]
    S = S / jnp.linalg.norm(S, axis=0, keepdims=True)
    res = jnp.abs(B[m, :].astype(S.dtype) @ S)
    return theta[:nev], S[:, :nev], res[:nev], theta


def krylov_schur(matvec, v0, *, nev: int, m: int, tol, max_restarts: int, key=None):
    """The `nev` eigenpairs of largest modulus of the real linear operator `matvec`
    (`(d,) → (d,)`, called on one vector at a time) by Krylov–Schur (module docstring).
    Traceable: `nev`, `m`, `max_restarts` are Python ints, `tol` may be traced.

    - `v0` `(d,)`: start vector (its dtype sets the arithmetic).
    - `m`: Krylov dimension, `nev + 3 ≤ m ≤ d` (`m = d`: one pass, the whole space).
    - `tol`: relative residual `‖A y − θ y‖ ≤ tol · |θ|` for convergence.
    - `key`: PRNG key for the vectors that continue a breakdown.

    Returns a dict: `values (nev,)` complex (largest modulus first), `vectors (d, nev)`
    complex unit Ritz vectors, `residuals (nev,)` (estimates `|bᵀ s|`), `converged`
    (all `nev` within `tol`), `restarts`, `matvecs`, and `ritz (m,)` (every Ritz value
    of the last decomposition, sorted).
    """
    d = v0.shape[0]
    nev, m = int(nev), int(m)
    if not (1 <= nev <= m <= d and (m == d or m >= nev + 3)):
        raise ValueError(f"krylov_schur needs nev + 3 <= m <= d (or m = d); got "
                         f"nev={nev}, m={m}, d={d}.")
    key = jax.random.PRNGKey(0) if key is None else key
    dt = v0.dtype
    p0 = max(nev + 1, min((m + nev) // 2, m - 2))
    V = jnp.zeros((d, m + 1), dt).at[:, 0].set(v0 / jnp.linalg.norm(v0))
    B = jnp.zeros((m + 1, m), dt)
    V, B = _grow(matvec, V, B, 0, m, key)

    def done(B):
        theta, _, res, _ = _ritz(B, nev)
        return jnp.all(res <= tol * jnp.abs(theta))

    def cond(c):
        _, B, it, _ = c
        return (it < max_restarts) & ~done(B)

    def body(c):
        V, B, it, matvecs = c
        _, Z = _sorted_schur(B[:m, :m])
        Q, p = _real_basis(Z, p0)
        Vn = jnp.zeros_like(V).at[:, :m].set(V[:, :m] @ Q)
        Vn = Vn.at[:, p].set(V[:, m])
        Bn = jnp.zeros_like(B).at[:m, :m].set(Q.T @ B[:m, :m] @ Q)
        Bn = Bn.at[p, :].set(B[m, :] @ Q)
        Vn, Bn = _grow(matvec, Vn, Bn, p, m, jax.random.fold_in(key, it + 1))
        return Vn, Bn, it + 1, matvecs + (m - p)

    if m < d:
        V, B, it, matvecs = jax.lax.while_loop(
            cond, body, (V, B, jnp.asarray(0), jnp.asarray(m)))
    else:  # the whole space: the first pass is exact
        it, matvecs = jnp.asarray(0), jnp.asarray(m)
    theta, S, res, ritz = _ritz(B, nev)
    return {"values": theta, "vectors": V[:, :m].astype(S.dtype) @ S, "residuals": res,
            "converged": jnp.all(res <= tol * jnp.abs(theta)), "restarts": it,
            "matvecs": matvecs, "ritz": ritz}
