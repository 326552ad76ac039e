"""Leading eigenpairs of a large real operator, matrix-free: Arnoldi with Krylov–Schur
restarting (Stewart 2001, "A Krylov–Schur algorithm for large eigenproblems"; the
restart that ARPACK's implicit restarts are equivalent to, and what SLEPc and
ArnoldiMethod.jl use), in JAX and traceable (fixed sizes, `lax` loops: it runs inside
`jit`).

**Method.** A Krylov decomposition `A V_m = V_m H + v_{m+1} bᵀ` (`V` orthonormal, `H`
m × m) is grown by Arnoldi steps (classical Gram–Schmidt twice) to dimension `m`. The
wanted eigenvalues are those of largest modulus. At a restart `H` gets a complex Schur
form `H = Z T Zᴴ` sorted by decreasing `|θ|`: LAPACK's real Schur form
(`lax.linalg.schur`), its 2 × 2 blocks made triangular by one plane rotation each
(scipy's `rsf2csf`), then Givens swaps of neighbouring diagonal entries (LAPACK
`ztrexc`'s rotation) in phases of odd–even transposition sort. The leading `p ≈ (m +
nev) / 2` Schur vectors span an invariant subspace of `H`, closed under conjugation once
no conjugate pair is cut in two (`p` or `p + 1` vectors, whichever basis is cleanly
conjugate-closed), so it has a *real* orthonormal basis `Q` (the eigenvectors of
`Re(Z_p Z_pᴴ)` with eigenvalue 1). The decomposition is compressed to
`A (V Q) = (V Q)(Qᵀ H Q) + v_{m+1} (bᵀ Q)` and grown again from `p`. Everything the
operator touches stays real; only the small `m × m` step is complex. `Qᵀ H Q` is a
general `p × p` block, not triangular (a Krylov decomposition in Stewart's sense; the
kept subspace is the Krylov–Schur one, equivalently ARPACK's with exact shifts).

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


def _grow(matvec, V, B, start, stop):
    """Arnoldi steps `j = start, …, stop − 1` on the Krylov decomposition `(V, B)`:
    `V (d, m+1)` with columns `0..start` set, `B (m+1, m)`. A breakdown (the new vector
    vanishes: an invariant subspace) continues with a fixed irregular vector made
    orthogonal to `V`, and a zero in `B` (the decomposition stays exact)."""
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

        def fresh(_):  # a deterministic, irregular vector (no PRNG to compile)
            i = jnp.arange(w.shape[0], dtype=w.dtype)
            r = jnp.cos(2.399963 * (i + 1) * (j + 1) + jnp.sqrt(i + j + 2.0))
            r, _ = orth(V, r / jnp.linalg.norm(r), mask)
            return r / jnp.linalg.norm(r)

        w = jax.lax.cond(broke, fresh, lambda _: w / jnp.where(nrm > 0, nrm, 1.0), None)
        B = B.at[:, j].set(h[: B.shape[0]])
        B = B.at[j + 1, j].set(jnp.where(broke, 0.0, nrm))
        V = V.at[:, j + 1].set(w)
        return V, B

    return jax.lax.fori_loop(start, stop, body, (V, B))


def _rotate(T, Z, act, x1, x2):
    """Apply disjoint plane rotations to the Schur pair `(T, Z)`: for every `i` with
    `act[i]`, `G = [[c, −s̄], [s, c̄]]` on indices `(i, i + 1)` with first column
    `(c, s) = (x1, x2) / ‖(x1, x2)‖`: `T ← Gᴴ T G`, `Z ← Z G`. The pairs must not
    overlap; they are applied at once by shifted copies (no gather)."""
    cdt = T.dtype
    r = jnp.sqrt(jnp.abs(x1) ** 2 + jnp.abs(x2) ** 2)
    act = act & (r > 0)
    rs = jnp.where(act, r, 1.0)
    cc = jnp.where(act, x1 / rs, 1.0).astype(cdt)
    ss = jnp.where(act, x2 / rs, 0.0).astype(cdt)
    one, zero, no = jnp.ones((1,), cdt), jnp.zeros((1,), cdt), jnp.zeros((1,), bool)
    f, s = jnp.concatenate([act, no]), jnp.concatenate([no, act])  # first / second of a pair
    cf, sf = jnp.concatenate([cc, one]), jnp.concatenate([ss, zero])
    cs, s_s = jnp.concatenate([one, cc]), jnp.concatenate([zero, ss])
    ar = jnp.where(f, jnp.conj(cf), jnp.where(s, cs, 1.0))
    br1 = jnp.where(f, jnp.conj(sf), 0.0)  # times row i + 1
    br0 = jnp.where(s, -s_s, 0.0)          # times row i − 1
    ac = jnp.where(f, cf, jnp.where(s, jnp.conj(cs), 1.0))
    bc1 = jnp.where(f, sf, 0.0)
    bc0 = jnp.where(s, -jnp.conj(s_s), 0.0)

    def cols(A):
        nxt = jnp.concatenate([A[:, 1:], A[:, :1]], axis=1)
        prv = jnp.concatenate([A[:, -1:], A[:, :-1]], axis=1)
        return A * ac[None, :] + nxt * bc1[None, :] + prv * bc0[None, :]

    nxt = jnp.concatenate([T[1:], T[:1]], axis=0)
    prv = jnp.concatenate([T[-1:], T[:-1]], axis=0)
    return cols(ar[:, None] * T + br1[:, None] * nxt + br0[:, None] * prv), cols(Z), f, s


def _sorted_schur(H):
    """Complex Schur form `H = Z T Zᴴ` (`T` upper triangular) with the diagonal of `T` in
    decreasing modulus. LAPACK's real Schur form (`lax.linalg.schur`, CPU), then phases
    of disjoint plane rotations (`_rotate`) on neighbours `(k, k + 1)`, each rotation's
    first column the eigenvector `[t, μ − a]` of the 2 × 2 block `[[a, t], [c, e]]` for
    the eigenvalue `μ` that is to come first:

    - phase 0 makes the form complex (scipy's `rsf2csf`): every 2 × 2 block (`c ≠ 0`,
      a conjugate pair) gets `μ = (a + e)/2 + i √(−disc)` first, `μ̄` second;
    - then odd–even transposition sort (LAPACK `ztrexc`'s swap: `μ = e`, `c = 0`) until
      sorted (at most `m` phases)."""
    m = H.shape[0]
    cdt = jnp.result_type(H.dtype, jnp.complex64)
    R, Zr = jax.lax.linalg.schur(H)
    parity = jnp.arange(m - 1) % 2

    def unsorted(c):
        q, T, _ = c
        dg = jnp.abs(jnp.diagonal(T))
        return (q == 0) | ((q <= m) & jnp.any(dg[1:] > dg[:-1]))

    def phase(c):
        q, T, Z = c
        dg = jnp.diagonal(T)
        a, e, t, c = dg[:-1], dg[1:], jnp.diagonal(T, 1), jnp.diagonal(T, -1)
        disc = (0.5 * (a.real - e.real)) ** 2 + (t * c).real
        mu = 0.5 * (a + e) + 1j * jnp.sqrt(jnp.maximum(-disc, 0.0))
        first = jnp.where(q == 0, mu, e)
        second = jnp.where(q == 0, jnp.conj(mu), a)
        act = jnp.where(q == 0, c != 0,
                        (parity == (q + 1) % 2) & (jnp.abs(e) > jnp.abs(a)))
        T, Z, f, s = _rotate(T, Z, act, t, first - a)
        # the new diagonal exactly, and the rounding below it removed
        fx = jnp.concatenate([first, first[-1:]])
        sx = jnp.concatenate([second[:1], second])
        dg = jnp.where(f, fx, jnp.where(s, sx, jnp.diagonal(T)))
        return q + 1, jnp.triu(T, 1) + jnp.diag(dg), Z

    _, T, Z = jax.lax.while_loop(unsorted, phase,
                                 (jnp.asarray(0), R.astype(cdt), Zr.astype(cdt)))
    return T, Z


def _schur_ritz(T, Z, b, nev):
    """The `nev` leading Ritz pairs from the sorted Schur form: values `diag(T)[:nev]`,
    unit coordinate vectors `Z u` (`u` the eigenvectors of the triangular `T`, by
    back substitution as in LAPACK `ztrevc`) and residual estimates `|bᵀ Z u|`."""
    m = T.shape[0]
    theta = jnp.diagonal(T)[:nev]
    i = jnp.arange(nev)[:, None, None]
    r, c = jnp.arange(m)[None, :, None], jnp.arange(m)[None, None, :]
    smin = jnp.maximum(jnp.finfo(T.dtype).eps * jnp.max(jnp.abs(T)),
                       jnp.finfo(T.dtype).tiny)
    A = T[None] - theta[:, None, None] * jnp.eye(m, dtype=T.dtype)[None]
    A = jnp.where((r < i) & (c < i), A, jnp.eye(m, dtype=T.dtype)[None])
    dA = jnp.diagonal(A, axis1=1, axis2=2)
    A = A + jax.vmap(jnp.diag)(jnp.where(jnp.abs(dA) < smin, smin - dA, 0.0))
    rhs = jnp.where(jnp.arange(m)[None, :] < jnp.arange(nev)[:, None], -T[:, :nev].T, 0.0)
    x = jax.scipy.linalg.solve_triangular(A, rhs[..., None], lower=False)[..., 0]
    u = x + jnp.eye(nev, m, dtype=T.dtype)
    u = u / jnp.linalg.norm(u, axis=1, keepdims=True)
    S = Z @ u.T
    return theta, S, jnp.abs(b.astype(S.dtype) @ S)


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


def krylov_schur(matvec, v0, *, nev: int, m: int, tol, max_restarts):
    """The `nev` eigenpairs of largest modulus of the real linear operator `matvec`
    (`(d,) → (d,)`, called on one vector at a time) by Krylov–Schur (module docstring).
    Traceable: `nev`, `m` are Python ints, `tol` and `max_restarts` may be traced.

    - `v0` `(d,)`: start vector (its dtype sets the arithmetic).
    - `m`: Krylov dimension, `nev + 3 ≤ m ≤ d` (`m = d`: one pass, the whole space).
    - `tol`: relative residual `‖A y − θ y‖ ≤ tol · |θ|` for convergence.

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
    dt = v0.dtype
    p0 = max(nev + 1, min((m + nev) // 2, m - 2))  # keep half (measured: fewest JVPs)
    cdt = jnp.result_type(dt, jnp.complex64)
    V = jnp.zeros((d, m + 1), dt).at[:, 0].set(v0 / jnp.linalg.norm(v0))
    B = jnp.zeros((m + 1, m), dt)
    T = Z = jnp.zeros((m, m), cdt)

    # one loop body (traced once): grow from p to m, Schur form, test; compress unless
    # converged or out of restarts (then the uncompressed decomposition is kept)
    def body(c):
        V, B, p, _, _, it, matvecs, _ = c
        V, B = _grow(matvec, V, B, p, m)
        T, Z = _sorted_schur(B[:m, :m])
        theta, _, res = _schur_ritz(T, Z, B[m], nev)
        conv = jnp.all(res <= tol * jnp.abs(theta))
        matvecs = matvecs + (m - p)
        Q, q = _real_basis(Z, p0)
        Vn = jnp.zeros_like(V).at[:, :m].set(V[:, :m] @ Q)
        Vn = Vn.at[:, q].set(V[:, m])
        Bn = jnp.zeros_like(B).at[:m, :m].set(Q.T @ B[:m, :m] @ Q)
        Bn = Bn.at[q, :].set(B[m, :] @ Q)
        stop = conv | (it >= max_restarts) | (m == d)  # m = d: the whole space, exact
        V, B, p = jax.lax.cond(stop, lambda: (V, B, p), lambda: (Vn, Bn, q))
        return V, B, p, T, Z, it + 1, matvecs, stop

    c = (V, B, jnp.asarray(0), T, Z, jnp.asarray(0), jnp.asarray(0), jnp.asarray(False))
    V, B, _, T, Z, it, matvecs, _ = jax.lax.while_loop(lambda c: ~c[-1], body, c)
    theta, S, res = _schur_ritz(T, Z, B[m], nev)
    return {"values": theta, "vectors": V[:, :m].astype(S.dtype) @ S, "residuals": res,
            "converged": jnp.all(res <= tol * jnp.abs(theta)), "restarts": it - 1,
            "matvecs": matvecs, "ritz": jnp.diagonal(T)}
