"""Floquet multipliers of periodic orbits: the monodromy matrix by condensation of the
collocation equations (as AUTO does), its deflation by the trivial multiplier, and the
eigenvalue-free test functions of cycle bifurcations.

**Monodromy by condensation.** On mesh interval `j` the linearised collocation equations
of `y' = T f_x(x(t)) y` read `B_j [δx_{j,0}; …; δx_{j,m}] = 0` with

    B_j[k, l] = L_l'(c_k) I − h_j T L_l(c_k) f_x(x(c_k))       (k = 1..m, l = 0..m),

`L_l` the Lagrange basis of the interval's `m + 1` nodes and `c_k` the Gauss points. The
`m` block rows determine the `m` later nodes from the first: `[δx_{j,1..m}] =
−B_j[:, 1:]⁻¹ B_j[:, 0] δx_{j,0}`, so the transfer matrix of the interval is the last
block row of that product, and the monodromy matrix is `M = M_{N−1} ⋯ M_1 M_0`. This is
exactly the collocation approximation of the fundamental solution over one period (no
integration, no extra accuracy knob: it inherits the collocation's superconvergence at
mesh points, error `O(h^{2m})`). `monodromy_by_integration` computes the same matrix by
integrating the variational equation with Diffrax, as an independent check.

**Deflation.** `M f(x(0)) = f(x(0))` (the trivial multiplier 1, the orbit's own
direction). With `Q` an orthonormal basis of `f(x(0))^⊥` (one Householder reflection),
`D = Qᵀ M Q` has the `d − 1` non-trivial multipliers as eigenvalues (exactly, when
`M f = f`; to the collocation accuracy otherwise). Test functions use `D`, so the trivial
multiplier never pollutes them:

- period doubling (a multiplier −1): `det(D + I) = ∏ (μᵢ + 1)`;
- Neimark–Sacker (a pair `e^{±iθ}`): `det(D ⊙ D − I) = ∏_{i<j} (μᵢμⱼ − 1)` with `D ⊙ D`
    the second compound matrix (all 2×2 minors; eigenvalues `μᵢμⱼ`, `i < j`). It also
    vanishes at a "neutral saddle cycle" (real `μᵢμⱼ = 1`); such points are discarded
    when located.
- fold of cycles (a second multiplier +1) is the engine's generic fold test (the
    parameter component of the tangent).

Both determinants are invariant under the choice of `Q` (a similarity), so they are
continuous along a branch. In the plane (`d = 2`) the non-trivial multiplier is
`exp(∫ div f dt) > 0`: there is no period doubling or Neimark–Sacker, and no tests.

Eigenvalues (`jnp.linalg.eigvals`, under `stop_gradient`) only count unstable
multipliers and label located points.
"""

import functools

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._compile import filter_jit
from .._custom_types import Array, Float


# --------------------------------------------------------------------------- condensation
def transfer_matrices(
    Jc: Float[Array, "N m d d"],
    h: Float[Array, " N"],
    T,
    L: Float[Array, "m m1"],
    Ld: Float[Array, "m m1"],
) -> Float[Array, "N d d"]:
    """Transfer matrices `M_j` of the linearised collocation equations over each mesh
    interval (see the module docstring). `Jc[j, k]` is `f_x` at collocation point `k` of
    interval `j`, `h` the interval lengths on `[0, 1]`, `T` the period, `L`/`Ld` the
    Lagrange basis values / derivatives (w.r.t. the local variable) at the Gauss
    points."""
    N, m, d, _ = Jc.shape
    eye = jnp.eye(d, dtype=Jc.dtype)
    # B[j, k, :, l, :] = Ld[k, l] I − h_j T L[k, l] Jc[j, k]
    B = Ld[None, :, None, :, None] * eye[None, None, :, None, :] - (
        (h * T)[:, None, None, None, None]
        * L[None, :, None, :, None]
        * Jc[:, :, :, None, :]
    )
    return interval_solutions(B.reshape(N, m * d, (m + 1) * d), d)[:, -d:, :]


def interval_solutions(B: Float[Array, "N md md1"], d: int) -> Float[Array, "N md d"]:
    """`S_j = −B_j[:, d:]⁻¹ B_j[:, :d]` for every mesh interval: the interval's later
    nodes from its first, one interval at a time (`lax.map`). A batched LAPACK solve
    inside a compiled loop can deadlock jaxlib 0.10.2's CPU thread pool when two run
    at once (each thread waits on sub-tasks that only the other, blocked, thread could
    run): a 64-unit GRU's cycle branch and a Rössler cascade stalled that way on 2
    cores. Unbatched calls run inline."""
    return jax.lax.map(lambda b: -jnp.linalg.solve(b[:, d:], b[:, :d]), B)


def chain_product(Ms: Float[Array, "N d d"]) -> Float[Array, "d d"]:
    """`M_{N−1} ⋯ M_1 M_0` by pairwise (tree) multiplication: `log₂ N` batched matmuls
    instead of `N` sequential ones."""
    N, d, _ = Ms.shape
    eye = jnp.eye(d, dtype=Ms.dtype)
    while N > 1:
        if N % 2:
            Ms = jnp.concatenate([Ms, eye[None]], axis=0)
            N += 1
        Ms = Ms[1::2] @ Ms[0::2]
        N //= 2
    return Ms[0]


def complement_basis(v: Float[Array, " d"]) -> Float[Array, "d d-1"]:
    """An orthonormal basis of `v^⊥` (the last `d − 1` columns of the Householder
    reflection that maps `v` to a multiple of `e₀`). Safe for `v = 0`."""
    d = v.shape[0]
    nv = jnp.linalg.norm(v)
    v = v / jnp.where(nv > 0, nv, 1.0)
    s = jnp.where(v[0] >= 0, 1.0, -1.0).astype(v.dtype)
    w = v.at[0].add(s)
    ww = jnp.dot(w, w)
    H = jnp.eye(d, dtype=v.dtype) - 2.0 * jnp.outer(w, w) / jnp.where(ww > 0, ww, 1.0)
    return H[:, 1:]


def deflate(M: Float[Array, "d d"], v: Float[Array, " d"]) -> Float[Array, "d-1 d-1"]:
    """`D = Qᵀ M Q` with `Q` an orthonormal basis of `v^⊥`, `v = f(x(0))`: the
    monodromy matrix without its trivial multiplier."""
    Q = complement_basis(v)
    return Q.T @ M @ Q


@functools.lru_cache(maxsize=32)
def _pairs(n: int):
    iu, ju = np.triu_indices(n, 1)
    return iu.astype(np.int32), ju.astype(np.int32)


def second_compound(D: Float[Array, "n n"]) -> Float[Array, "k k"]:
    """The second compound matrix of `D` (all 2×2 minors, `k = n(n−1)/2`); its
    eigenvalues are the products `μᵢμⱼ`, `i < j`, of `D`'s eigenvalues."""
    iu, ju = _pairs(D.shape[0])
    a = D[iu[:, None], iu[None, :]]
    b = D[ju[:, None], ju[None, :]]
    c = D[iu[:, None], ju[None, :]]
    e = D[ju[:, None], iu[None, :]]
    return a * b - c * e


def _scaled_det(A):
    """`sign(det A) · |det A|^(1/k)`: vanishes with `det A`, no over- or underflow."""
    k = A.shape[-1]
    sign, logabs = jnp.linalg.slogdet(A)
    return sign * jnp.exp(logabs / k)


def period_doubling_test(D: Float[Array, "n n"]) -> Float[Array, ""]:
    """Sign of `∏(μᵢ + 1)` over the non-trivial multipliers: changes sign where a real
    multiplier crosses −1."""
    return _scaled_det(D + jnp.eye(D.shape[0], dtype=D.dtype))


def neimark_sacker_test(D: Float[Array, "n n"]) -> Float[Array, ""]:
    """Sign of `∏_{i<j}(μᵢμⱼ − 1)` over the non-trivial multipliers: changes sign where a
    complex pair crosses the unit circle (or at a neutral saddle cycle, real
    `μᵢμⱼ = 1`). Needs `n = d − 1 ≥ 2`."""
    C = second_compound(D)
    return _scaled_det(C - jnp.eye(C.shape[0], dtype=C.dtype))


def multipliers_of(D: Float[Array, "n n"]) -> Array:
    """Eigenvalues of the deflated monodromy `D` (complex, shape `(n,)`), under
    `stop_gradient`; `n = 1` needs no eigen-decomposition."""
    D = jax.lax.stop_gradient(D)
    if D.shape[0] == 1:
        return D[0].astype(jnp.result_type(D.dtype, jnp.complex64))
    return jnp.linalg.eigvals(D)


def count_unstable_multipliers(mu: Array, dtype) -> Array:
    """Number of multipliers outside the unit circle (a relative tolerance of
    `1000 eps` absorbs round-off)."""
    eps = jnp.finfo(dtype).eps
    return jnp.sum(jnp.abs(mu) > 1 + 1000 * eps).astype(jnp.int32)


# --------------------------------------------------------------------------- public
@filter_jit
def monodromy(cp, u) -> Float[Array, "d d"]:
    """The monodromy matrix `M` (`d × d`) of the collocation solution `u` of the
    `CollocationProblem` `cp`, by condensation of the collocation equations (see the
    module docstring). Traceable; its eigenvalues are the Floquet multipliers."""
    return cp.monodromy(u)


@filter_jit
def floquet_multipliers(cp, u) -> Array:
    """All `d` Floquet multipliers (complex) of the cycle `u`, sorted by decreasing
    modulus. One of them is the trivial multiplier (≈ 1, to the collocation accuracy).
    Computed with `jnp.linalg.eigvals` of the monodromy matrix (not differentiable)."""
    mu = jnp.linalg.eigvals(jax.lax.stop_gradient(cp.monodromy(u)))
    return mu[jnp.argsort(-jnp.abs(mu))]


@filter_jit
def nontrivial_multipliers(cp, u) -> Array:
    """The `d − 1` non-trivial Floquet multipliers (complex) of the cycle `u`: the
    eigenvalues of the monodromy matrix deflated by the orbit direction `f(x(0))`,
    sorted by decreasing modulus. The cycle is stable when all have modulus < 1."""
    mu = multipliers_of(cp.deflated_monodromy(u))
    mu = jnp.atleast_1d(mu)
    return mu[jnp.argsort(-jnp.abs(mu))]


def monodromy_by_integration(
    problem,
    x0: Float[Array, " d"],
    period,
    p=None,
    *,
    rtol: float = 1e-11,
    atol: float = 1e-13,
    max_steps: int = 100_000,
    solver: "diffrax.AbstractSolver | None" = None,
) -> Float[Array, "d d"]:
    """The monodromy matrix by integrating the variational equation

        x' = f(x, p),  Φ' = f_x(x, p) Φ,  Φ(0) = I,   over [0, period],

    with Diffrax (default `Dopri8`, tolerances `rtol`/`atol`). `x0` must lie on the
    cycle. An independent check of `monodromy` (which uses no integration); more costly,
    and less accurate for strongly unstable cycles (the integration error is amplified
    by the largest multiplier).

    **Arguments:** `problem`: a `gru_bif.Problem`; `x0`: a point on the cycle; `period`:
    the period; `p`: the parameter value (default `problem.p`).
    """
    x0 = jnp.asarray(x0)
    p = problem.p if p is None else p
    solver = diffrax.Dopri8() if solver is None else solver
    return _monodromy_integrate(problem, x0, jnp.asarray(period, x0.dtype),
                                jnp.asarray(p, x0.dtype), rtol, atol, max_steps, solver)


@filter_jit
def _monodromy_integrate(problem, x0, period, p, rtol, atol, max_steps, solver):
    d = x0.shape[0]
    args = problem.param.set(problem.args, p)

    def rhs(t, y, args):
        x, Phi = y
        fx = problem.f(t, x, args)
        J = jax.jacfwd(lambda z: problem.f(t, z, args))(x)
        return fx, J @ Phi

    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(rhs),
        solver,
        t0=0.0,
        t1=period,
        dt0=None,
        y0=(x0, jnp.eye(d, dtype=x0.dtype)),
        args=args,
        stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
        max_steps=max_steps,
    )
    return sol.ys[1][-1]
