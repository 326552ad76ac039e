"""Periodic orbits by orthogonal collocation (Gauss–Legendre), continued by the same
engine as equilibria.

A periodic orbit of `x' = f(x, p)` with period `T` is a solution of the boundary-value
problem `x'(t) = T f(x(t), p)` on `t ∈ [0, 1]`, `x(0) = x(1)`, plus a phase condition
that picks one of its time shifts. On a mesh `0 = τ₀ < τ₁ < … < τ_N = 1` (`N = ntst`
intervals) the solution is a continuous piecewise polynomial of degree `m = ncol`,
represented by its values at `m + 1` equally spaced nodes per interval (the last node of
an interval is the first of the next, so continuity is built in, and the last node of
the last interval is node 0, so periodicity is built in too). The equations are

- collocation: `x'(c_{jk}) = T f(x(c_{jk}), p)` at the `m` Gauss–Legendre points `c_{jk}`
    of every interval (multiplied by `h_j = τ_{j+1} − τ_j`, AUTO's scaling);
- integral phase condition: `∫₀¹ ⟨x(t), x_ref'(t)⟩ dt = 0` against a fixed reference
    orbit `x_ref` (Gauss quadrature, exact for the piecewise polynomials used).

Unknowns `u = (x at the N m nodes (flattened, node-major), T, p)`: `N m d + 2` numbers,
`N m d + 1` equations — an `AbstractContinuationProblem`. The engine's state is
`u[:-1]` (nodes and period), so `branch.x` rows hold whole orbits: read them with
`CycleBranch`.

**Reference orbit.** The phase condition uses the reference stored in the problem
(`CollocationProblem.reference`, node values on the same mesh), fixed for a whole
continuation run (the engine has no hook to update problem data between steps; AUTO
updates it every step). This works as long as the orbits stay "in phase" with the
reference (a shift that minimises the L2 distance to it is locally unique). For long
runs over large changes of shape, continue in pieces and reset the reference with
`cp.with_reference(u)` (and, at the same time, the mesh with `adapt_mesh`).

**Cost.** The Jacobian is formed by blocks (`linearize`: one small `jacfwd` per mesh
interval) and each Newton step is solved by condensation (`bordered_solve`, see
`gru_bif.collocation.condense`): per-interval eliminations, then a pivoted LU of size
`N d + 2`. Measured on 2 CPU cores (load ~2): one linearisation and solve takes 0.4 ms
on the default 40 × 4 mesh in 2-D and 1.9 ms on 160 × 4, against 3 ms and 54 ms for the
dense Jacobian and LU. Orbits with sharp features or long periods (near a homoclinic
orbit) need more intervals where the orbit moves fast: `continue_cycles` moves and
grows the mesh during a run; with `gru_bif.continuation` use `adapt_mesh` between runs.

**Accuracy.** Collocation at Gauss points is superconvergent: mesh values, the period
and the parameter converge like `h^{2m}`, values inside intervals like `h^{m+1}`
(de Boor & Swartz 1973). With the default `m = 4` and 40 uniform intervals, smooth
cycles of moderate period are accurate to 1e-10 or better at mesh points.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._compile import filter_jit
from .._custom_types import Array, Bool, Float, Int
from ..collocation.condense import condensed_solve
from ..collocation.mesh import MAX_NCOL, basis, block_index, lagrange, node_times, uniform_mesh
from ..branch import SpecialKind
from ..continuation.problems import AbstractContinuationProblem
from ..problem import Problem
from .floquet import (
    chain_product,
    count_unstable_multipliers,
    deflate,
    multipliers_of,
    neimark_sacker_test,
    period_doubling_test,
    transfer_matrices,
)

# --------------------------------------------------------------------------- problem
class CollocationProblem(AbstractContinuationProblem):
    """Periodic orbits of a `gru_bif.Problem` by orthogonal collocation (see the module
    docstring for the equations, the unknowns and the size limits).

    **Arguments:**

    - `problem`: the `gru_bif.Problem` (an autonomous vector field: `f` is evaluated at
        `t = 0`); its `param` is the continuation parameter.
    - `reference`: the reference orbit of the phase condition, node values of shape
        `(ntst * ncol, d)` on `mesh` (usually the start guess itself).
    - `ntst`: number of mesh intervals (default 40).
    - `ncol`: collocation points per interval = polynomial degree, 1 to 7 (default 4).
    - `mesh`: the mesh `0 = τ₀ < … < τ_ntst = 1` (default uniform). An array, so a new
        mesh of the same size does not recompile.
    - `stability`: count unstable Floquet multipliers at every point (`branch.stable`,
        `branch.n_unstable`); an eigen-decomposition of a `(d−1)×(d−1)` matrix per step.
    - `detect`: test for period doubling and Neimark–Sacker bifurcations (only for
        `d ≥ 3`; in the plane neither can happen). Folds of cycles are always detected
        (generic fold test of the engine) and are reported with kind `"fold_cycle"`.
    - `norm`: how the engine measures a step. `"integral"` (default, AUTO's choice):
        the orbit by its integral norm `∫₀¹|δx(t)|² dt` (quadrature weights of the
        nodes on the mesh), the period relatively (`(δT/T)²`) and the parameter as it
        is, so that the number of steps does not grow with `ntst · ncol · d` and a
        period that grows a hundredfold takes a few steps. `"euclidean"`: raw nodal
        values (every node counts as much as the period and the parameter).

    Special points carry the data `period` and the critical multiplier `mu_re`, `mu_im`
    (fold: the non-trivial multiplier nearest +1; period doubling: nearest −1;
    Neimark–Sacker: `e^{iθ}` with `θ > 0`). A Neimark–Sacker flag that turns out to be a
    neutral saddle cycle (real multipliers with product 1) is discarded.

    **Raises:** `ValueError` for `ntst < 2`, `ncol` outside 1..7, `d < 2`, or a
    `reference`/`mesh` of the wrong shape.

    !!! example

        ```python
        cp, u0 = gru_bif.periodic.cycle_from_hopf(problem, branch, dp=1e-3)
        cycles = gru_bif.continuation(cp, u0[:-1], u0[-1], p_min=0, p_max=1, ds=0.05)
        view = gru_bif.periodic.CycleBranch(cp, cycles)
        view.period, view.x_max[:, 0]
        ```
    """

    problem: Problem
    mesh: Float[Array, " ntst+1"]
    reference: Float[Array, "ntst*ncol d"]
    ntst: int = eqx.field(static=True)
    ncol: int = eqx.field(static=True)
    stability: bool = eqx.field(static=True)
    detect: bool = eqx.field(static=True)
    norm: str = eqx.field(static=True)

    def __init__(
        self,
        problem: Problem,
        reference,
        *,
        ntst: int = 40,
        ncol: int = 4,
        mesh=None,
        stability: bool = True,
        detect: bool = True,
        norm: str = "integral",
    ):
        if norm not in ("integral", "euclidean"):
            raise ValueError(f"norm={norm!r}; use 'integral' (default) or 'euclidean'.")
        if not isinstance(problem, Problem):
            raise ValueError(
                f"`problem` must be a gru_bif.Problem; got {type(problem).__name__}."
            )
        ntst, ncol = int(ntst), int(ncol)
        if ntst < 2:
            raise ValueError(f"ntst={ntst}; use at least 2 mesh intervals (e.g. 40).")
        if not 1 <= ncol <= MAX_NCOL:
            raise ValueError(
                f"ncol={ncol}; use 1 to {MAX_NCOL} collocation points per interval "
                "(4 is the usual choice)."
            )
        reference = jnp.asarray(reference)
        if not jnp.issubdtype(reference.dtype, jnp.floating):
            reference = reference.astype(jnp.result_type(float))
        if reference.ndim != 2 or reference.shape[0] != ntst * ncol:
            raise ValueError(
                f"reference has shape {reference.shape}; it must hold the node values "
                f"of the reference orbit, shape (ntst * ncol, d) = ({ntst * ncol}, d). "
                "Sample it at `node_times(mesh, ncol)`."
            )
        if reference.shape[1] < 2:
            raise ValueError(
                f"The state has dimension {reference.shape[1]}; periodic orbits need "
                "d >= 2."
            )
        mesh = uniform_mesh(ntst, reference.dtype) if mesh is None else jnp.asarray(mesh)
        if mesh.shape != (ntst + 1,):
            raise ValueError(
                f"mesh has shape {mesh.shape}; it must have ntst + 1 = {ntst + 1} points "
                "from 0 to 1."
            )
        try:
            m = np.asarray(mesh)
        except Exception:  # traced: no check
            m = None
        if m is not None and (
            abs(m[0]) > 1e-12 or abs(m[-1] - 1) > 1e-12 or np.any(np.diff(m) <= 0)
        ):
            raise ValueError(
                "mesh must increase strictly from 0 to 1; got "
                f"[{m[0]}, ..., {m[-1]}] (min step {np.min(np.diff(m))})."
            )
        self.problem = problem
        self.mesh = mesh
        self.reference = reference
        self.ntst = ntst
        self.ncol = ncol
        self.stability = bool(stability)
        self.detect = bool(detect)
        self.norm = norm

    # ------------------------------------------------------------------ layout
    @property
    def dim(self) -> int:
        """The state dimension `d`."""
        return self.reference.shape[1]

    @property
    def num_nodes(self) -> int:
        """`ntst * ncol`."""
        return self.ntst * self.ncol

    @property
    def size(self) -> int:
        """Length of `u`: `ntst ncol d + 2`."""
        return self.num_nodes * self.dim + 2

    def split(self, u) -> tuple[Array, Array, Array]:
        """`u -> (nodes (ntst*ncol, d), T, p)`. Also accepts the engine's state
        `u[:-1]` (then `p` is NaN)."""
        n = self.num_nodes * self.dim
        if u.shape[-1] == n + 1:
            u = jnp.concatenate([u, jnp.full(u.shape[:-1] + (1,), jnp.nan, u.dtype)], -1)
        if u.shape[-1] != n + 2:
            raise ValueError(
                f"u has length {u.shape[-1]}; this problem's unknowns have length "
                f"{n + 2} (ntst·ncol·d nodes, T, p)."
            )
        X = u[..., :n].reshape(u.shape[:-1] + (self.num_nodes, self.dim))
        return X, u[..., n], u[..., n + 1]

    def pack(self, nodes, period, p) -> Float[Array, " n+2"]:
        """`(nodes (ntst*ncol, d), T, p) -> u`."""
        nodes = jnp.asarray(nodes)
        dt = nodes.dtype
        return jnp.concatenate(
            [nodes.reshape(-1), jnp.reshape(period, (1,)).astype(dt),
             jnp.reshape(p, (1,)).astype(dt)]
        )

    def node_times(self) -> Float[Array, " ntst*ncol"]:
        """Normalised times in `[0, 1)` of the nodes (order of the unknowns)."""
        return node_times(self.mesh, self.ncol)

    def _blocks(self, X):
        return X[block_index(self.ntst, self.ncol)]  # (N, m+1, d)

    def _f(self, xs, p):
        args = self.problem.param.set(self.problem.args, p)
        return jax.vmap(lambda x: self.problem.f(0.0, x, args))(xs)

    def _jac_f(self, xs, p):
        args = self.problem.param.set(self.problem.args, p)
        return jax.vmap(jax.jacfwd(lambda x: self.problem.f(0.0, x, args)))(xs)

    def _basis_arrays(self, dtype):
        _, _, w, L, Ld, Dm, _, _ = basis(self.ncol)
        return (jnp.asarray(w, dtype), jnp.asarray(L, dtype), jnp.asarray(Ld, dtype),
                jnp.asarray(Dm, dtype))

    # ------------------------------------------------------------------ contract
    @property
    def param_name(self) -> str:
        return self.problem.param.label

    @property
    def fold_kind(self) -> SpecialKind:
        return SpecialKind.FOLD_CYCLE

    def residual(self, u):
        """Collocation equations (`ntst ncol d`, interval-major) and the phase
        condition (last)."""
        dtype = u.dtype
        N, m, d = self.ntst, self.ncol, self.dim
        X, T, p = self.split(u)
        w, L, Ld, _ = self._basis_arrays(dtype)
        h = jnp.diff(self.mesh).astype(dtype)
        blocks = self._blocks(X)
        xc = jnp.einsum("kl,jld->jkd", L, blocks)
        dxc = jnp.einsum("kl,jld->jkd", Ld, blocks)
        fc = self._f(xc.reshape(N * m, d), p).reshape(N, m, d).astype(dtype)
        coll = dxc - (h * T)[:, None, None] * fc
        ref = self._blocks(self.reference.astype(dtype))
        dref = jnp.einsum("kl,jld->jkd", Ld, ref)  # h_j x_ref'(c_jk)
        phase = jnp.sum(w[None, :, None] * xc * dref)
        return jnp.concatenate([coll.reshape(-1), phase[None]])

    def state(self, u):
        return u[:-1]

    # ------------------------------------------------------------------ condensed solve
    def linearize(self, u):
        """`(H(u), lin)` with `lin` a `CollocationLinearization`: per mesh interval the
        Jacobian of its collocation equations w.r.t. its `ncol + 1` nodes, the period
        and the parameter (one small `jacfwd` per interval, vmapped), and the phase
        row (linear in the nodes). `O(ntst)` work instead of a dense `O(ntst²)` Jacobian.
        (One nested program, traced once per shape however many places call it.)"""
        return _linearize(self, u)

    def bordered_solve(self, u, lin, w, rhs, with_det: bool = False):
        """Solve `[H_u; wᵀ] x = rhs` by condensation (AUTO's strategy): in every mesh
        interval the collocation equations give its interior nodes and its right node
        in terms of its left node, the period and the parameter (a small solve per
        interval); what remains is one equation per mesh point (`ntst · d`), the phase
        and the bordering row — a system of size `ntst · d + 2`, solved by LU with
        pivoting (stable for the unstable directions of long orbits, unlike chaining
        the intervals). `with_det`: also a scaled determinant with the sign of the
        bordered matrix's (the branch-point test)."""
        from .._linalg import lu_solve_det

        return _condensed_solve(self, lin, w, rhs, with_det)

    def node_weights(self, dtype=None) -> Float[Array, " ntst*ncol"]:
        """Quadrature weights of the nodes for `∫₀¹ g(t) dt` (composite trapezoid on
        the nodes of every interval; they sum to 1)."""
        dtype = dtype or self.mesh.dtype
        h = jnp.diff(self.mesh).astype(dtype)
        m = self.ncol
        w = jnp.broadcast_to((h / m)[:, None], (self.ntst, m))
        w = w.at[:, 0].set((h + jnp.roll(h, 1)) / (2 * m))
        return w.reshape(-1)

    def arclength_weights(self, u):
        """Step-norm weights (see `norm`): node weights for every component, `1/T²`
        for the period, 1 for the parameter."""
        if self.norm == "euclidean":
            return None
        dtype = u.dtype
        _, T, _ = self.split(u)
        wn = jnp.repeat(self.node_weights(dtype), self.dim)
        wT = 1.0 / jnp.maximum(jnp.abs(T), jnp.finfo(dtype).tiny) ** 2
        return jnp.concatenate([wn, jnp.stack([wT, jnp.ones((), dtype)])])

    def system_size(self, n1: int) -> int:
        """The ODE's dimension (see `AbstractContinuationProblem`)."""
        return self.dim

    @property
    def extra_kinds(self) -> tuple:
        if self.detect and self.dim >= 3:
            return (SpecialKind.PERIOD_DOUBLING, SpecialKind.NEIMARK_SACKER)
        return ()

    @property
    def data_keys(self) -> tuple:
        return ("period", "mu_re", "mu_im")

    def monodromy(self, u) -> Float[Array, "d d"]:
        """The monodromy matrix by condensation of the collocation equations (see
        `gru_bif.periodic.floquet`)."""
        return _monodromy(self, u)

    def _monodromy_body(self, u):
        dtype = u.dtype
        N, m, d = self.ntst, self.ncol, self.dim
        X, T, p = self.split(u)
        _, L, Ld, _ = self._basis_arrays(dtype)
        h = jnp.diff(self.mesh).astype(dtype)
        xc = jnp.einsum("kl,jld->jkd", L, self._blocks(X))
        Jc = self._jac_f(xc.reshape(N * m, d), p).reshape(N, m, d, d).astype(dtype)
        return chain_product(transfer_matrices(Jc, h, T, L, Ld))

    def deflated_monodromy(self, u) -> Float[Array, "d-1 d-1"]:
        """The monodromy matrix restricted to the complement of the orbit direction
        `f(x(0))`: its eigenvalues are the `d − 1` non-trivial multipliers."""
        X, _, p = self.split(u)
        v = self._f(X[:1], p)[0].astype(u.dtype)
        return deflate(self.monodromy(u), v)

    def extra_tests(self, u, Hu):
        if not self.extra_kinds:
            return jnp.zeros((0,), u.dtype)
        D = self.deflated_monodromy(u)
        return jnp.stack([period_doubling_test(D), neimark_sacker_test(D)]).astype(u.dtype)

    def n_unstable(self, u, Hu):
        if not self.stability:
            return jnp.asarray(-1, jnp.int32)
        mu = multipliers_of(self.deflated_monodromy(jax.lax.stop_gradient(u)))
        return count_unstable_multipliers(jnp.atleast_1d(mu), u.dtype)

    def special_data(self, kind, u, Hu, t):
        """Located point (no implicit derivatives yet), validity and data: `period`,
        and the critical multiplier `mu_re + i mu_im` (NaN for branch points)."""
        u = jax.lax.stop_gradient(u)
        dtype = u.dtype
        _, T, _ = self.split(u)
        mu = jnp.atleast_1d(multipliers_of(self.deflated_monodromy(u)))
        valid, data = _critical_multiplier_data(kind, mu, T, dtype)
        return valid, u, data

    # ------------------------------------------------------------------ helpers
    def with_reference(self, u) -> "CollocationProblem":
        """A copy whose phase-condition reference is the orbit of `u` (same mesh)."""
        X, _, _ = self.split(jnp.asarray(u))
        return eqx.tree_at(lambda c: c.reference, self, X.astype(self.reference.dtype))

    def evaluate(self, u, t) -> Float[Array, "*t d"]:
        """The orbit of `u` at normalised times `t ∈ [0, 1]` (any shape; taken modulo
        1). Traceable."""
        X, _, _ = self.split(jnp.asarray(u))
        t = jnp.asarray(t, X.dtype) % 1.0
        mesh = self.mesh.astype(X.dtype)
        j = jnp.clip(jnp.searchsorted(mesh, t, side="right") - 1, 0, self.ntst - 1)
        h = jnp.diff(mesh)
        sloc = (t - mesh[j]) / h[j]
        lag = lagrange(sloc, self.ncol)  # t.shape + (m+1,)
        blocks = self._blocks(X)[j]  # t.shape + (m+1, d)
        return jnp.einsum("...l,...ld->...d", lag, blocks)

    def orbit(self, u, n: int = 400) -> tuple[Float[Array, " n"], Float[Array, "n d"]]:
        """`(ts, xs)`: the orbit of `u` at `n` equally spaced physical times
        `ts ∈ [0, T]` (both ends included, so the curve closes)."""
        return _orbit(self, jnp.asarray(u), int(n))

    def interval_samples(self, X, per_interval: int):
        """Values on `per_interval` equally spaced local points of every interval:
        `(N * per_interval, d)`."""
        sloc = jnp.arange(per_interval, dtype=X.dtype) / per_interval
        lag = lagrange(sloc, self.ncol)  # (S, m+1)
        vals = jnp.einsum("sl,jld->jsd", lag, self._blocks(X))
        return vals.reshape(-1, self.dim)

    def collocation_error(self, u) -> Float[Array, ""]:
        """An estimate of the largest error of the orbit between mesh points (max norm,
        in state units): `max_j c_m h_j^{m+1} |x^{(m+1)}|_∞`, with `x^{(m+1)}` (w.r.t.
        normalised time) estimated from the jumps of the piecewise constant `m`-th
        derivative at the mesh points (as AUTO does) and `c_m` the interpolation
        constant of the Gauss points (`≈ 1.2e-4` for `m = 4`). Measured on a 2-D GRU
        cycle it over-estimates the true error by a factor 2–5. Mesh values, the period
        and the parameter are far more accurate (`O(h^{2m})`). If it exceeds what you
        need, increase `ntst` or use `adapt_mesh`."""
        return _max_error(self, jnp.asarray(u))


def _critical_multiplier_data(kind, mu, T, dtype):
    """Validity and data (`period`, critical multiplier `mu_re + i mu_im`) of a located
    cycle point of `kind`, from its non-trivial multipliers `mu` (shared by collocation
    and shooting). Fold: the multiplier nearest +1; PD: nearest −1; NS: the one with
    `Im > 0` nearest the unit circle (invalid — a neutral saddle cycle — if none lies
    within 1e-5 of it)."""
    nan = jnp.full((), jnp.nan, dtype)
    i_fold = jnp.argmin(jnp.abs(mu - 1))
    i_pd = jnp.argmin(jnp.abs(mu + 1))
    ns_score = jnp.where(mu.imag > 1e-8, jnp.abs(jnp.abs(mu) - 1), jnp.inf)
    i_ns = jnp.argmin(ns_score)
    is_fold = (kind == SpecialKind.FOLD) | (kind == SpecialKind.FOLD_CYCLE)
    is_pd = kind == SpecialKind.PERIOD_DOUBLING
    is_ns = kind == SpecialKind.NEIMARK_SACKER
    i = jnp.where(is_fold, i_fold, jnp.where(is_pd, i_pd, i_ns))
    crit = mu[i]
    has = is_fold | is_pd | is_ns
    ns_ok = jnp.isfinite(ns_score[i_ns]) & (ns_score[i_ns] < 1e-5)
    valid = jnp.where(is_ns, ns_ok, True)
    data = {
        "period": jnp.where(kind != SpecialKind.NONE, T, nan).astype(dtype),
        "mu_re": jnp.where(has, crit.real, nan).astype(dtype),
        "mu_im": jnp.where(has, crit.imag, nan).astype(dtype),
    }
    return valid, data


class CollocationLinearization(eqx.Module):
    """The collocation Jacobian by blocks (see `CollocationProblem.linearize`):
    `A` `(ntst, ncol·d, (ncol+1)·d)` w.r.t. each interval's nodes, `aT`, `ap`
    `(ntst, ncol·d)` w.r.t. the period and the parameter, `cX` `(ntst·ncol, d)` the
    phase row."""

    A: Array
    aT: Array
    ap: Array
    cX: Array


@filter_jit
def _monodromy(cp: CollocationProblem, u):
    """`CollocationProblem.monodromy` as one nested program: traced once per shape
    however many places in a program call it."""
    return cp._monodromy_body(u)


@filter_jit
def _linearize(cp: CollocationProblem, u):
    """The body of `CollocationProblem.linearize`, one nested program: traced once per
    shape however many places in a program call it (the corrector, the tangent, the
    test functions)."""
    dtype = u.dtype
    N, m, d = cp.ntst, cp.ncol, cp.dim
    X, T, p = cp.split(u)
    w, L, Ld, _ = cp._basis_arrays(dtype)
    h = jnp.diff(cp.mesh).astype(dtype)
    blocks = cp._blocks(X)

    def local(Y, hj, T, p):
        args = cp.problem.param.set(cp.problem.args, p)
        xc = L @ Y
        fc = jax.vmap(lambda x: cp.problem.f(0.0, x, args))(xc).astype(dtype)
        r = (Ld @ Y - hj * T * fc).reshape(-1)
        return r, r

    jl = jax.vmap(jax.jacfwd(local, argnums=(0, 2, 3), has_aux=True),
                  in_axes=(0, 0, None, None))
    (A, aT, ap), coll = jl(blocks, h, T, p)
    ref = cp._blocks(cp.reference.astype(dtype))
    dref = jnp.einsum("kl,jld->jkd", Ld, ref)
    phase = jnp.sum(w[None, :, None] * jnp.einsum("kl,jld->jkd", L, blocks) * dref)
    cY = jnp.einsum("k,kl,jkd->jld", w, L, dref)  # ∂phase/∂(block nodes)
    cX = jnp.zeros((N * m, d), dtype).at[block_index(N, m)].add(cY)
    H = jnp.concatenate([coll.reshape(-1), phase[None]])
    lin = CollocationLinearization(
        A=A.reshape(N, m * d, (m + 1) * d), aT=aT, ap=ap, cX=cX)
    return H, lin


@filter_jit
def _condensed_solve(cp: CollocationProblem, lin: CollocationLinearization, w, rhs,
                     with_det: bool):
    N, m, d = cp.ntst, cp.ncol, cp.dim
    dtype = rhs.dtype
    nX = N * m * d
    w = w.astype(dtype)
    rows_X = jnp.stack([lin.cX.astype(dtype), w[:nX].reshape(N * m, d)])
    rows_G = jnp.stack([jnp.zeros((2,), dtype), w[nX:]])
    aG = jnp.stack([lin.aT, lin.ap], axis=-1)
    return condensed_solve(lin.A, aG, rows_X, rows_G, rhs, periodic=True,
                           with_det=with_det)


def _error_monitor(cp: CollocationProblem, u):
    """Per interval: error estimate `c_m h^{m+1}|x^{(m+1)}|` and the (m+1)-th derivative
    estimate `|x^{(m+1)}|_∞` (averaged over its two ends)."""
    X, _, _ = cp.split(u)
    m = cp.ncol
    _, _, _, Dm = cp._basis_arrays(X.dtype)
    h = jnp.diff(cp.mesh.astype(X.dtype))
    Dx = jnp.einsum("l,jld->jd", Dm, cp._blocks(X)) / h[:, None] ** m  # x^{(m)} per interval
    jump = Dx - jnp.roll(Dx, 1, axis=0)  # at τ_j: D_j − D_{j−1}
    hmid = (h + jnp.roll(h, 1)) / 2
    e = jnp.max(jnp.abs(jump), axis=-1) / hmid  # ≈ |x^{(m+1)}| at τ_j
    e_int = (e + jnp.roll(e, -1)) / 2  # interval j: ends τ_j, τ_{j+1}
    cm = basis(m)[-1]
    return cm * h ** (m + 1) * e_int, e_int


# --------------------------------------------------------------------------- correction
def correct_cycle(
    cp: CollocationProblem, u0, *, tol=None, max_iter: int = 25
) -> tuple[Float[Array, " n"], Int[Array, ""], Bool[Array, ""]]:
    """Newton's method on the collocation equations at fixed parameter `p = u0[-1]`
    (works as well for a `ShootingProblem`: any periodic-orbit problem with `size`).

    **Returns:** `(u, iterations, converged)`; convergence means `max|Δu| ≤ tol (1 +
    max|u|)` (default `tol` 1e-10 in float64, 1e-5 in float32), as in the continuation
    corrector.
    """
    u0 = jnp.asarray(u0)
    if u0.shape != (cp.size,):
        raise ValueError(
            f"u0 has shape {u0.shape}; this problem's unknowns have shape ({cp.size},) "
            "(ntst·ncol·d nodes, T, p)."
        )
    if tol is None:
        tol = 1e-10 if jnp.finfo(u0.dtype).bits >= 64 else 1e-5
    return _correct(cp, u0, jnp.asarray(tol, u0.dtype), int(max_iter))


@filter_jit
def _correct(cp, u0, tol, max_iter):
    from ..continuation.engine import corrector

    e = jnp.zeros_like(u0).at[-1].set(1.0)
    return corrector(cp, u0, e, u0[-1], tol, max_iter)


@filter_jit
def _orbit(cp, u, n):
    _, T, _ = cp.split(u)
    s = jnp.linspace(0.0, 1.0, n, dtype=u.dtype)
    return s * T, cp.evaluate(u, s)


@filter_jit
def _max_error(cp, u):
    return jnp.max(_error_monitor(cp, u)[0])
