"""Codimension-two points of equilibria: the pieces shared by fold and Hopf curves.

Eigen-free building blocks for the minimally augmented defining systems and their test
functions, and the normal-form coefficients at the codim-2 points (Kuznetsov, *Elements of
Applied Bifurcation Theory*, 3rd ed., §8; Kuznetsov, *Numerical normalization techniques
for all codim 2 bifurcations of equilibria in ODE's*, SIAM J. Numer. Anal. 36, 1999;
Govaerts, *Numerical Methods for Bifurcations of Dynamical Equilibria*, SIAM 2000).

**Adaptive borders.** A minimally augmented system borders a matrix `M` (`F_x` on fold
curves, the bialternate product `2F_x ⊙ I` on Hopf curves) as
`[[M, b], [cᵀ, 0]] [v; g] = [0; 1]` and appends the scalar `g` to `F = 0`. Here the
borders `b`, `c` are the left and right singular vectors of the smallest singular value of
`M` *at the current point*, under `stop_gradient`, each oriented against a fixed
reference (its value at the start of the curve): then `g = ∓σ_min(M)` is the signed
smallest singular value and its derivative (borders frozen) `−bᵀ dM c`; the bordered
matrix is as well conditioned as it can be everywhere along the curve, and the borders
never need to be updated between steps (the engine has no hook for that). The test
functions below use only quantities invariant under the joint sign of `(b, c)`.

**Normal-form conventions** (those of `gru_bif.models.normal_forms` and MatCont):
`⟨u, v⟩ = ūᵀv`; Hopf `Jq = iωq`, `Jᵀp = −iωp`, `⟨q, q⟩ = 1`, `⟨p, q⟩ = 1`,
`l1 = Re G21 / (2ω)`, `l2 = Re G32 / (12ω)` (so `l2 = Re c2 / ω` for
`ż = iωz + c1 z|z|² + c2 z|z|⁴`); Bogdanov–Takens `A q0 = 0`, `A q1 = q0`, `Aᵀ p1 = 0`,
`Aᵀ p0 = p1`, `p0·q0 = p1·q1 = 1`, `p0·q1 = p1·q0 = 0`, `|q0| = 1`, `q0·q1 = 0`,
`a = ½ p1·B(q0, q0)`, `b = p0·B(q0, q0) + p1·B(q0, q1)`, with `q0` oriented so that
`a ≥ 0` (only the sign of `ab` is invariant); cusp `c = ⅙⟨p, C(q,q,q) + 3B(q, h2)⟩`,
`h2 = −A^INV B(q, q)`.
"""

import itertools

import jax
import jax.numpy as jnp
import numpy as np

from .._linalg import null_vector, solve
from .normal_form import multilinear
from .test_functions import bialternate


# --------------------------------------------------------------------------- linear algebra
def smallest_singular(M):
    """`(σ_min, u, v)` of a square `M` (`M v = σ u`), under `stop_gradient` (used to
    choose borders and to orient vectors; never differentiated)."""
    M = jax.lax.stop_gradient(M)
    U, S, Vt = jnp.linalg.svd(M)
    return S[-1], U[:, -1], Vt[-1]


def oriented_singular(M, left0, right0):
    """`smallest_singular(M)` with `u`, `v` each oriented against a fixed reference
    (`u·left0 ≥ 0`, `v·right0 ≥ 0`): then `−uᵀMv` is the *signed* smallest singular
    value, a smooth function along a curve as long as neither vector turns orthogonal
    to its reference (where it flips sign; the engine's branch-point flags there are
    discarded because the defining system is not singular)."""
    s, u, v = smallest_singular(M)
    su = jnp.where(jnp.dot(u, left0) < 0, -1.0, 1.0).astype(u.dtype)
    sv = jnp.where(jnp.dot(v, right0) < 0, -1.0, 1.0).astype(v.dtype)
    return s, su * u, sv * v


def bivector_matrix(v, d: int):
    """The antisymmetric `d×d` matrix `A` of a bivector given in the coordinates of the
    bialternate product (pairs `(i, j)`, `i > j`). For a kernel vector of `2J ⊙ I`,
    `JA + AJᵀ = 0` and the columns of `A` span the invariant plane of `J` whose two
    eigenvalues sum to zero."""
    pairs = [(i, j) for i in range(1, d) for j in range(i)]
    ii = np.asarray([p[0] for p in pairs], np.int32)
    jj = np.asarray([p[1] for p in pairs], np.int32)
    A = jnp.zeros((d, d), v.dtype)
    return A.at[ii, jj].set(v).at[jj, ii].set(-v)


def imag_pairs(J, vectors: bool = False):
    """The eigenvalues of `J` sorted by `score` — the distance `|Re λ|` from the
    imaginary axis of those with `Im λ > 0` (`inf` for the others) — as
    `(ev, score, scale)` with the spectrum's scale; with `vectors=True` also the
    eigenvectors in the same order (columns). Used only at located points."""
    if vectors:
        ev, vecs = jnp.linalg.eig(J)
    else:
        ev, vecs = jnp.linalg.eigvals(J), None
    scale = jnp.maximum(1.0, jnp.max(jnp.abs(ev)))
    score = jnp.where(ev.imag > 1e-7 * scale, jnp.abs(ev.real), jnp.inf)
    order = jnp.argsort(score)
    out = (ev[order], score[order], scale)
    return out + (vecs[:, order],) if vectors else out


def plane_kappa(J, A):
    """`κ = −⟨A, J²A⟩ / ⟨A, A⟩` for the invariant plane `A` (bivector matrix) of `J` with
    eigenvalues `±λ`: `κ = −λ²`, so `κ = ω²` at a Hopf point (`λ = ±iω`), `κ < 0` at a
    neutral saddle (`λ` real) and `κ = 0` at a Bogdanov–Takens point. Eigen-free and
    smooth; invariant under `A → −A`."""
    return -jnp.sum(A * (J @ (J @ A))) / jnp.sum(A * A)


def hopf_vectors(J, A, omega):
    """Right and left eigenvectors `Jq = iωq`, `Jᵀp = −iωp` of the Hopf pair whose plane
    is `A`: `q = Jy + iωy` for the longest column `y` of `A` (in the plane,
    `J² = −ω²`), `p` by one bordered solve. Unnormalised (the formulas normalise)."""
    d = J.shape[0]
    col = jnp.argmax(jnp.sum(A * A, axis=0))
    y = A[:, col]
    cdt = jnp.result_type(J.dtype, 1j)
    q = (J @ y).astype(cdt) + 1j * omega * y.astype(cdt)
    q = q / jnp.linalg.norm(q)
    p = null_vector(J.T.astype(cdt) + 1j * omega * jnp.eye(d, dtype=cdt), q, jnp.conj(q))
    return q, p


# --------------------------------------------------------------------------- forms
def complex_form(F, x, order: int):
    """The complex multilinear form of `order` (2: B, 3: C, 4: D, 5: E) of a real `F` at
    a real `x`, extended C-linearly: every complex argument is split into real and
    imaginary parts and the `2^order` real evaluations are batched with `vmap`."""
    real = multilinear(F, x, order)
    combos = list(itertools.product((0, 1), repeat=order))
    coef = np.asarray([1j ** sum(c) for c in combos])

    def form(*vs):
        parts = [jnp.stack([v.real, v.imag]) for v in vs]
        args = [jnp.stack([parts[k][c[k]] for c in combos]) for k in range(order)]
        vals = jax.vmap(real)(*args)  # (2^order, n)
        return jnp.tensordot(jnp.asarray(coef, jnp.result_type(vals.dtype, 1j)), vals, 1)

    return form


def _ip(p, v):
    return jnp.vdot(p, v)


def second_lyapunov(F, x, J, omega, q, p):
    """First and second Lyapunov coefficients `(l1, l2)` at a Hopf point (Kuznetsov 1999,
    §3.2; the formulas of the Bautin normal form `ẇ = iωw + ½G21 w|w|² + (1/12)G32 w|w|⁴`),
    `l1 = Re G21/(2ω)`, `l2 = Re G32/(12ω)`, with `⟨q, q⟩ = 1`, `⟨p, q⟩ = 1`. All
    derivatives of `F` (up to fifth order) by nested `jax.jvp`. At a Bautin point
    (`l1 = 0`) the sign of `l2` decides the type: `l2 < 0`, a stable outer cycle and a
    fold-of-cycles curve on the side `l1 > 0`."""
    n = x.shape[0]
    cdt = jnp.result_type(J.dtype, 1j)
    q = (q / jnp.linalg.norm(q)).astype(cdt)
    p = (p / jnp.conj(jnp.vdot(p, q))).astype(cdt)
    qb = jnp.conj(q)
    A = J.astype(cdt)
    eye = jnp.eye(n, dtype=cdt)
    B = complex_form(F, x, 2)
    C = complex_form(F, x, 3)
    D = complex_form(F, x, 4)
    E = complex_form(F, x, 5)
    iw = 1j * omega
    h20 = solve(2 * iw * eye - A, B(q, q))
    h11 = -solve(A, B(q, qb))
    r21 = C(q, q, qb) + B(qb, h20) + 2 * B(q, h11)
    G21 = _ip(p, r21)
    h30 = solve(3 * iw * eye - A, C(q, q, q) + 3 * B(q, h20))
    # h21 = (iω − A)^INV (r21 − G21 q) with ⟨p, h21⟩ = 0 (bordered solve)
    Mb = jnp.block([[iw * eye - A, q[:, None]], [jnp.conj(p)[None, :], jnp.zeros((1, 1), cdt)]])
    h21 = solve(Mb, jnp.concatenate([r21 - G21 * q, jnp.zeros((1,), cdt)]))[:n]
    h20b, h21b = jnp.conj(h20), jnp.conj(h21)
    h31 = solve(
        2 * iw * eye - A,
        D(q, q, q, qb) + 3 * C(q, q, h11) + 3 * C(q, qb, h20) + 3 * B(h20, h11)
        + B(qb, h30) + 3 * B(q, h21) - 3 * G21 * h20,
    )
    h22 = -solve(
        A,
        D(q, q, qb, qb) + 4 * C(q, qb, h11) + C(qb, qb, h20) + C(q, q, h20b)
        + 2 * B(h11, h11) + 2 * B(q, h21b) + 2 * B(qb, h21) + B(h20b, h20),
    )
    G32 = _ip(
        p,
        E(q, q, q, qb, qb) + D(q, q, q, h20b) + 3 * D(q, qb, qb, h20)
        + 6 * D(q, q, qb, h11) + C(qb, qb, h30) + 3 * C(q, q, h21b) + 6 * C(q, qb, h21)
        + 3 * C(q, h20b, h20) + 6 * C(q, h11, h11) + 6 * C(qb, h20, h11)
        + 2 * B(qb, h31) + 3 * B(q, h22) + B(h20b, h30) + 3 * B(h21b, h20)
        + 6 * B(h11, h21),
    )
    return G21.real / (2 * omega), G32.real / (12 * omega)


def bt_coefficients(F, x, J):
    """Bogdanov–Takens normal-form coefficients `(a, b)` and the (generalised)
    eigenvectors `(q0, q1, p0, p1)` at a BT point with Jacobian `J` (double zero
    eigenvalue, one Jordan block), normalised as in the module docstring. `q0`, `p1`:
    the singular vectors of `σ_min(J)`; `q1`, `p0`: bordered solves."""
    _, u, v = smallest_singular(J)
    q0 = v / jnp.linalg.norm(v)
    n = J.shape[0]
    dt = J.dtype
    z = jnp.zeros((1, 1), dt)
    # A q1 = q0, q0·q1 = 0
    M1 = jnp.block([[J, u[:, None]], [q0[None, :], z]])
    q1 = solve(M1, jnp.concatenate([q0, jnp.zeros((1,), dt)]))[:n]
    p1 = u / jnp.dot(u, q1)
    # Aᵀ p0 = p1, p0·q1 = 0 (then p0·q0 = p1·q1 = 1)
    M2 = jnp.block([[J.T, q0[:, None]], [q1[None, :], z]])
    p0 = solve(M2, jnp.concatenate([p1, jnp.zeros((1,), dt)]))[:n]
    B = multilinear(F, x, 2)
    Bqq = B(q0, q0)
    a = 0.5 * jnp.dot(p1, Bqq)
    b = jnp.dot(p0, Bqq) + jnp.dot(p1, B(q0, q1))
    s = jnp.where(a < 0, -1.0, 1.0).astype(dt)  # orient q0 so that a ≥ 0
    return s * a, s * b, s * q0, s * q1, s * p0, s * p1


def cusp_coefficient(F, x, J):
    """Cubic coefficient `c = ⅙⟨p, C(q,q,q) + 3B(q, h2)⟩` at a cusp (`|q| = 1`,
    `⟨p, q⟩ = 1`, `h2 = −J^INV B(q, q)` by a bordered solve). Invariant under
    `q → −q`. `c < 0`: the three equilibria inside the cusp are stable–saddle–stable
    along the centre direction (as for `x' = b1 + b2 x − x³`, `c = −1`)."""
    _, u, v = smallest_singular(J)
    q = v / jnp.linalg.norm(v)
    p = u / jnp.dot(u, q)
    n = J.shape[0]
    dt = J.dtype
    B = multilinear(F, x, 2)
    C = multilinear(F, x, 3)
    Mb = jnp.block([[J, p[:, None]], [q[None, :], jnp.zeros((1, 1), dt)]])
    h2 = solve(Mb, jnp.concatenate([-B(q, q), jnp.zeros((1,), dt)]))[:n]
    return (jnp.dot(p, C(q, q, q)) + 3 * jnp.dot(p, B(q, h2))) / 6


# --------------------------------------------------------------------------- tests
def fold_curve_tests(F, x, J, Fp, normal0, left0, right0, dim: int):
    """Test functions along a fold curve (`u`, `v`: left/right singular vectors of
    `σ_min(F_x)`, each oriented against `left0`, `right0` — at a fold `σ = 0` and the
    SVD's pairing of their signs is arbitrary):

    - cusp: `(u·B(v, v)) · (uᵀF_p · normal0)` — the fold coefficient, oriented by the
        curve's normal in the parameter plane (`uᵀF_p`, never zero on a regular fold
        curve) against its value at the start; a zero of the second factor (the curve
        turned by 90°) is discarded when the point is located;
    - Bogdanov–Takens (`d ≥ 2`): `u·v` (zero when the zero eigenvalue becomes double;
        a sign flip of the orientation is discarded on location, where `|u·v|` is not
        small);
    - zero-Hopf (`d ≥ 3`): the scaled determinant of `2F_x ⊙ I` (zero when another pair
        of eigenvalues sums to zero; its zero at BT is discarded on location).

    The cusp test is invariant under the sign of `u` and of `v`. Returns one value per
    test: `[cusp, bt (d ≥ 2), zero_hopf (d ≥ 3)]`."""
    _, u, v = oriented_singular(J, left0, right0)
    B = multilinear(F, x, 2)
    cusp = jnp.dot(u, B(v, v)) * jnp.dot(u @ Fp, normal0)
    out = [cusp]
    if dim >= 2:
        out.append(jnp.dot(u, v))
    if dim >= 3:
        from .test_functions import scaled_det

        out.append(scaled_det(bialternate(J)))
    return jnp.stack(out)


def hopf_plane(J):
    """`(Bm, σ, ub, vb, A, κ)` on a Hopf curve: the bialternate product `Bm = 2J ⊙ I`,
    its smallest singular triple (the borders), the bivector matrix `A` of its kernel
    vector and `κ = ω²` (`d ≥ 2`)."""
    d = J.shape[0]
    Bm = bialternate(J)
    s, ub, vb = smallest_singular(Bm)
    A = bivector_matrix(vb.astype(J.dtype), d)
    kappa = plane_kappa(jax.lax.stop_gradient(J), A)
    return Bm, s, ub, vb, A, kappa
