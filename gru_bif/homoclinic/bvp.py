"""The homoclinic boundary-value problem (HomCont / MatCont style), continued by the same
engine as equilibria and cycles.

A homoclinic orbit of `x' = f(x, α)` to a hyperbolic saddle `x_s` is truncated to a
finite interval of length `T` and rescaled to `t ∈ [0, 1]`:

- `x'(t) = T f(x(t), α)` — collocation at Gauss–Legendre points (the basis of
    `gru_bif.collocation.mesh`), `ntst` intervals of degree `ncol`, but with
    `ntst ncol + 1` nodes (no periodic wrap-around);
- `f(x_s, α) = 0` — the saddle is an unknown, solved simultaneously;
- projection boundary conditions (Beyn 1990): `x(0) − x_s` lies in the unstable
    eigenspace and `x(1) − x_s` in the stable eigenspace of `A = f_x(x_s, α)`, written as
    `Q_sᵀ P_s (x(0) − x_s) = 0` (`n_s` equations) and `Q_uᵀ P_u (x(1) − x_s) = 0` (`n_u`
    equations), where `P_s = (I − sign A)/2`, `P_u = (I + sign A)/2` are the spectral
    projectors and `Q_s`, `Q_u` fixed reference bases (left eigenvectors at the start) that
    pick `n_s` resp. `n_u` independent rows. `sign A` is computed by the scaled Newton
    iteration `S ← (cS + (cS)⁻¹)/2` (Higham), a fixed number of steps, so the boundary
    conditions are smooth, differentiable functions of `(x_s, α)` — no eigen-decomposition
    on the differentiated path, and the projectors are exact at every Newton iterate
    (HomCont recomputes them; a Riccati update is not needed);
- the integral phase condition `∫₀¹ ⟨x(t) − x_ref(t), x_ref'(t)⟩ dt = 0` against a fixed
    reference orbit.

Unknowns `u = (nodes ((ntst ncol + 1) d), x_s (d), p1, p2)`; equations `ntst ncol d`
(collocation) `+ d` (saddle) `+ d` (boundary) `+ 1` (phase): one fewer than unknowns. With
`p2` fixed, Newton locates the homoclinic orbit and `p1`; the continuation engine follows
it in `(p1, p2)` with `p2` as its parameter (`branch.p`) — `T` stays fixed (HomCont's
default).

**Truncation error.** The parameter error of the truncated problem decays like
`exp(−2 μ T')` with `μ` the smaller of the leading stable / unstable rates and `T'` the
time spent near the saddle at one end (about `T/2`); measured on the Bogdanov–Takens
normal form below, `T = 60` suffices for 1e-10 at `b2 = −1`.
"""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._compile import filter_jit
from .._custom_types import Array, Float
from ..collocation.condense import condensed_solve
from ..collocation.mesh import MAX_NCOL, basis, lagrange, uniform_mesh
from ..continuation.problems import AbstractContinuationProblem
from ..problem import AbstractParam, Param, Problem

SIGN_ITERATIONS = 40


# --------------------------------------------------------------------------- helpers
@functools.lru_cache(maxsize=64)
def _open_index(ntst: int, ncol: int) -> np.ndarray:
    """`idx[j, l] = j ncol + l`: node of local node `l` of interval `j` (no wrap)."""
    idx = np.arange(ntst)[:, None] * ncol + np.arange(ncol + 1)[None, :]
    idx.setflags(write=False)
    return idx


def open_node_times(mesh, ncol: int) -> Float[Array, " N*ncol+1"]:
    """Normalised times in `[0, 1]` of the `ntst ncol + 1` nodes on `mesh`."""
    mesh = jnp.asarray(mesh)
    h = jnp.diff(mesh)
    frac = jnp.arange(ncol, dtype=mesh.dtype) / ncol
    t = (mesh[:-1, None] + h[:, None] * frac[None, :]).reshape(-1)
    return jnp.concatenate([t, mesh[-1:]])


def matrix_sign(A, iterations: int = SIGN_ITERATIONS):
    """`sign(A)` of a real matrix without eigenvalues on the imaginary axis by the
    determinant-scaled Newton iteration (Higham, *Functions of Matrices*, §5.5). A fixed
    number of steps (traceable, differentiable by autodiff)."""
    d = A.shape[0]
    scale = jnp.maximum(jnp.max(jnp.abs(A)), jnp.finfo(A.dtype).tiny)
    S0 = A / scale

    def body(_, S):
        Sinv = jnp.linalg.inv(S)
        _, logdet = jnp.linalg.slogdet(S)
        c = jnp.exp(-logdet / d)
        # scaling only while far from convergence (it would slow the quadratic phase)
        c = jnp.where(jnp.abs(c - 1) > 1e-2, c, 1.0)
        return 0.5 * (c * S + Sinv / c)

    return jax.lax.fori_loop(0, iterations, body, S0)


def spectral_projectors(A):
    """`(P_s, P_u)`: projectors onto the stable and unstable invariant subspaces of `A`
    along each other (`P_s + P_u = I`)."""
    S = matrix_sign(A)
    eye = jnp.eye(A.shape[0], dtype=A.dtype)
    return 0.5 * (eye - S), 0.5 * (eye + S)


def saddle_quantity(eigenvalues) -> Float[Array, ""]:
    """`σ = Re λ_u + Re λ_s` of the leading (closest to the imaginary axis) unstable
    and stable eigenvalues; NaN if either set is empty. `σ < 0`: the cycle born at a
    saddle homoclinic orbit is stable (in the plane)."""
    re = jnp.real(eigenvalues)
    lu = jnp.min(jnp.where(re > 0, re, jnp.inf))
    ls = jnp.max(jnp.where(re < 0, re, -jnp.inf))
    return jnp.where(jnp.isfinite(lu) & jnp.isfinite(ls), lu + ls, jnp.nan)


def _left_bases(A, n_u: int):
    """Real orthonormal bases `(Q_s, Q_u)` of the left stable/unstable subspaces of `A`
    (rows of `P_s` resp. `P_u` span them): from the SVD of the projectors. Host side."""
    P_s, P_u = spectral_projectors(A)
    d = A.shape[0]
    Us, _, _ = jnp.linalg.svd(P_s.T)
    Uu, _, _ = jnp.linalg.svd(P_u.T)
    return Us[:, : d - n_u], Uu[:, :n_u]


# --------------------------------------------------------------------------- problem
class HomoclinicProblem(AbstractContinuationProblem):
    """Homoclinic orbits to a saddle of a `gru_bif.Problem` in two parameters (see the
    module docstring for the equations).

    **Arguments:**

    - `problem`: the `gru_bif.Problem`; its `param` is `p1`, the parameter solved for
        when locating (a free unknown of the BVP).
    - `param2`: the second parameter (a name such as `"b2"` or `"bh[1]"`, or an
        `AbstractParam`): fixed when locating, the engine's continuation parameter when
        continuing.
    - `reference`: the reference orbit of the phase condition, node values of shape
        `(ntst ncol + 1, d)` on `mesh` (usually the start guess).
    - `T`: the truncation time (length of the interval in physical time).
    - `n_unstable`: the number of unstable eigenvalues of the saddle (static).
    - `Q_s`, `Q_u`: reference bases `(d, d − n_u)`, `(d, n_u)` of the left
        stable/unstable subspaces (`homoclinic_problem` computes them from the saddle).
    - `ntst`, `ncol`, `mesh`: as for `CollocationProblem` (mesh on `[0, 1]`).

    `branch.stable` on a continued homoclinic curve means `σ < 0` (the saddle quantity is
    negative, so the cycle born from the loop is stable); `branch.n_unstable` is 1 where
    `σ > 0`. Special points (folds of the curve in `p2`, branch points) carry the data
    `saddle_quantity` and `T`.

    Build it with `homoclinic_problem(...)` or one of the start functions
    (`homoclinic_from_cycle`, `homoclinic_from_bt`).
    """

    problem: Problem
    param2: AbstractParam = eqx.field(static=True)
    mesh: Float[Array, " ntst+1"]
    reference: Float[Array, "nodes d"]
    T: Float[Array, ""]
    Q_s: Float[Array, "d ns"]
    Q_u: Float[Array, "d nu"]
    ntst: int = eqx.field(static=True)
    ncol: int = eqx.field(static=True)
    n_u: int = eqx.field(static=True)

    def __init__(self, problem, param2, reference, T, n_unstable, Q_s, Q_u, *,
                 ntst: int = 60, ncol: int = 4, mesh=None):
        if not isinstance(problem, Problem):
            raise ValueError(
                f"`problem` must be a gru_bif.Problem; got {type(problem).__name__}."
            )
        if isinstance(param2, str):
            param2 = Param.from_name(problem.args, param2)
        elif not isinstance(param2, AbstractParam):
            raise ValueError(
                "`param2` must be a parameter name such as 'b2' or 'bh[1]', or a "
                f"gru_bif.AbstractParam; got {type(param2).__name__}."
            )
        if param2 == problem.param:
            raise ValueError(
                f"param2={param2.label!r} is the problem's own parameter; a homoclinic "
                "curve needs two different parameters."
            )
        ntst, ncol = int(ntst), int(ncol)
        if ntst < 2:
            raise ValueError(f"ntst={ntst}; use at least 2 mesh intervals (e.g. 60).")
        if not 1 <= ncol <= MAX_NCOL:
            raise ValueError(f"ncol={ncol}; use 1 to {MAX_NCOL} (4 is usual).")
        reference = jnp.asarray(reference)
        if not jnp.issubdtype(reference.dtype, jnp.floating):
            reference = reference.astype(jnp.result_type(float))
        if reference.ndim != 2 or reference.shape[0] != ntst * ncol + 1:
            raise ValueError(
                f"reference has shape {reference.shape}; it must hold the node values "
                f"(ntst * ncol + 1, d) = ({ntst * ncol + 1}, d) of the reference orbit."
            )
        d = reference.shape[1]
        n_unstable = int(n_unstable)
        if not 1 <= n_unstable <= d - 1:
            raise ValueError(
                f"n_unstable={n_unstable}: a saddle in dimension {d} needs 1 to {d - 1} "
                "unstable eigenvalues."
            )
        Q_s, Q_u = jnp.asarray(Q_s, reference.dtype), jnp.asarray(Q_u, reference.dtype)
        if Q_s.shape != (d, d - n_unstable) or Q_u.shape != (d, n_unstable):
            raise ValueError(
                f"Q_s, Q_u have shapes {Q_s.shape}, {Q_u.shape}; expected "
                f"{(d, d - n_unstable)}, {(d, n_unstable)}."
            )
        Tc = np.asarray(T, float) if not isinstance(T, jax.core.Tracer) else None
        if Tc is not None and not (np.isfinite(Tc) and Tc > 0):
            raise ValueError(f"T={T}; the truncation time must be positive (e.g. 50).")
        mesh = uniform_mesh(ntst, reference.dtype) if mesh is None else jnp.asarray(mesh)
        if mesh.shape != (ntst + 1,):
            raise ValueError(f"mesh has shape {mesh.shape}; expected ({ntst + 1},).")
        self.problem = problem
        self.param2 = param2
        self.mesh = mesh.astype(reference.dtype)
        self.reference = reference
        self.T = jnp.asarray(T, reference.dtype)
        self.Q_s = Q_s
        self.Q_u = Q_u
        self.ntst = ntst
        self.ncol = ncol
        self.n_u = n_unstable

    # ------------------------------------------------------------------ layout
    @property
    def dim(self) -> int:
        return self.reference.shape[1]

    @property
    def num_nodes(self) -> int:
        return self.ntst * self.ncol + 1

    @property
    def size(self) -> int:
        """Length of `u`: `(ntst ncol + 1) d + d + 2`."""
        return (self.num_nodes + 1) * self.dim + 2

    def split(self, u):
        """`u -> (nodes (ntst ncol + 1, d), x_s (d,), p1, p2)`; also accepts the engine
        state `u[:-1]` (then `p2` is NaN)."""
        n, d = self.num_nodes * self.dim, self.dim
        if u.shape[-1] == self.size - 1:
            u = jnp.concatenate([u, jnp.full(u.shape[:-1] + (1,), jnp.nan, u.dtype)], -1)
        if u.shape[-1] != self.size:
            raise ValueError(
                f"u has length {u.shape[-1]}; this problem's unknowns have length "
                f"{self.size} (nodes, saddle, p1, p2)."
            )
        X = u[..., :n].reshape(u.shape[:-1] + (self.num_nodes, d))
        return X, u[..., n:n + d], u[..., n + d], u[..., n + d + 1]

    def pack(self, nodes, saddle, p1, p2):
        nodes = jnp.asarray(nodes)
        dt = nodes.dtype
        return jnp.concatenate([
            nodes.reshape(-1), jnp.asarray(saddle, dt).reshape(-1),
            jnp.reshape(p1, (1,)).astype(dt), jnp.reshape(p2, (1,)).astype(dt)])

    def args_at(self, p1, p2):
        return self.param2.set(self.problem.param.set(self.problem.args, p1), p2)

    def F(self, x, p1, p2):
        return self.problem.f(0.0, x, self.args_at(p1, p2))

    def node_times(self):
        return open_node_times(self.mesh, self.ncol)

    # ------------------------------------------------------------------ contract
    @property
    def param_name(self) -> str:
        return self.param2.label

    def residual(self, u):
        dtype = u.dtype
        N, m, d = self.ntst, self.ncol, self.dim
        X, xs, p1, p2 = self.split(u)
        _, _, w, L, Ld, _, _, _ = basis(m)
        w, L, Ld = (jnp.asarray(a, dtype) for a in (w, L, Ld))
        h = jnp.diff(self.mesh).astype(dtype)
        idx = _open_index(N, m)
        blocks = X[idx]
        xc = jnp.einsum("kl,jld->jkd", L, blocks)
        dxc = jnp.einsum("kl,jld->jkd", Ld, blocks)
        args = self.args_at(p1, p2)
        f = lambda x: self.problem.f(0.0, x, args)  # noqa: E731
        fc = jax.vmap(f)(xc.reshape(N * m, d)).reshape(N, m, d).astype(dtype)
        coll = dxc - (h * self.T.astype(dtype))[:, None, None] * fc
        ends = self._end_rows(X[0], X[-1], xs, p1, p2)
        ref = self.reference.astype(dtype)[idx]
        rc = jnp.einsum("kl,jld->jkd", L, ref)
        drc = jnp.einsum("kl,jld->jkd", Ld, ref)
        phase = jnp.sum(w[None, :, None] * (xc - rc) * drc)
        return jnp.concatenate([coll.reshape(-1), ends, phase[None]])

    def _end_rows(self, x0, x1, xs, p1, p2):
        """The saddle's equations and the projection boundary conditions: `2d` rows in
        the first and last nodes, the saddle and the parameters."""
        dtype = x0.dtype
        f = lambda x: self.F(x, p1, p2)  # noqa: E731
        eq = f(xs).astype(dtype)
        A = jax.jacfwd(f)(xs).astype(dtype)
        P_s, P_u = spectral_projectors(A)
        bc0 = self.Q_s.astype(dtype).T @ (P_s @ (x0 - xs))
        bc1 = self.Q_u.astype(dtype).T @ (P_u @ (x1 - xs))
        return jnp.concatenate([eq, bc0, bc1])

    def linearize(self, u):
        """`(H(u), lin)`: the residual with its Jacobian by blocks (per mesh interval,
        the end rows in the end nodes, saddle and parameters, the phase row), for the
        condensed solve (`gru_bif.collocation.condense`)."""
        dtype = u.dtype
        N, m, d = self.ntst, self.ncol, self.dim
        X, xs, p1, p2 = self.split(u)
        _, _, w, L, Ld, _, _, _ = basis(m)
        w, L, Ld = (jnp.asarray(a, dtype) for a in (w, L, Ld))
        h = jnp.diff(self.mesh).astype(dtype)
        idx = _open_index(N, m)
        blocks = X[idx]
        T = self.T.astype(dtype)

        def local(Y, hj, p1, p2):
            args = self.args_at(p1, p2)
            fc = jax.vmap(lambda x: self.problem.f(0.0, x, args))(L @ Y).astype(dtype)
            r = (Ld @ Y - hj * T * fc).reshape(-1)
            return r, r

        jl = jax.vmap(jax.jacfwd(local, argnums=(0, 2, 3), has_aux=True),
                      in_axes=(0, 0, None, None))
        (A, a1, a2), coll = jl(blocks, h, p1, p2)
        aG = jnp.concatenate([jnp.zeros((N, m * d, d), dtype), a1[..., None],
                              a2[..., None]], axis=-1)

        def ends(x0, x1, g):
            r = self._end_rows(x0, x1, g[:d], g[d], g[d + 1])
            return r, r

        (e0, e1, eG), end = jax.jacfwd(ends, argnums=(0, 1, 2), has_aux=True)(
            X[0], X[-1], u[(N * m + 1) * d:])
        n_nodes = N * m + 1
        end_X = jnp.zeros((2 * d, n_nodes, d), dtype).at[:, 0].set(e0).at[:, -1].set(e1)
        ref = self.reference.astype(dtype)[idx]
        rc = jnp.einsum("kl,jld->jkd", L, ref)
        drc = jnp.einsum("kl,jld->jkd", Ld, ref)
        xc = jnp.einsum("kl,jld->jkd", L, blocks)
        phase = jnp.sum(w[None, :, None] * (xc - rc) * drc)
        cY = jnp.einsum("k,kl,jkd->jld", w, L, drc)
        cX = jnp.zeros((n_nodes, d), dtype).at[idx].add(cY)
        rows_X = jnp.concatenate([end_X, cX[None]], axis=0)
        rows_G = jnp.concatenate([eG, jnp.zeros((1, d + 2), dtype)], axis=0)
        H = jnp.concatenate([coll.reshape(-1), end, phase[None]])
        return H, (A.reshape(N, m * d, (m + 1) * d), aG, rows_X, rows_G)

    def bordered_solve(self, u, lin, w, rhs, with_det: bool = False):
        """`[H_u; wᵀ] x = rhs` by condensation (`gru_bif.collocation.condense`)."""

        A, aG, rows_X, rows_G = lin
        dtype = rhs.dtype
        n_nodes, d = self.num_nodes, self.dim
        w = w.astype(dtype)
        rows_X = jnp.concatenate([rows_X.astype(dtype), w[: n_nodes * d].reshape(
            1, n_nodes, d)], axis=0)
        rows_G = jnp.concatenate([rows_G.astype(dtype), w[n_nodes * d:][None]], axis=0)
        return condensed_solve(A, aG, rows_X, rows_G, rhs, periodic=False,
                               with_det=with_det)

    def state(self, u):
        return u[:-1]

    @property
    def extra_kinds(self) -> tuple:
        return ()

    def extra_tests(self, u, Hu):
        return jnp.zeros((0,), u.dtype)

    @property
    def data_keys(self) -> tuple:
        return ("saddle_quantity", "T")

    def saddle_eigenvalues(self, u):
        """Eigenvalues of `f_x` at the saddle of `u` (host-side `eig`, not
        differentiated)."""
        _, xs, p1, p2 = self.split(jax.lax.stop_gradient(u))
        A = jax.jacfwd(lambda x: self.F(x, p1, p2))(xs)
        return jnp.linalg.eigvals(A)

    def saddle_quantity(self, u):
        return saddle_quantity(self.saddle_eigenvalues(u)).astype(u.dtype)

    def n_unstable(self, u, Hu):
        sigma = self.saddle_quantity(u)
        return jnp.where(jnp.isfinite(sigma), (sigma > 0).astype(jnp.int32), -1)

    def special_data(self, kind, u, Hu, t):
        u = jax.lax.stop_gradient(u)
        return jnp.asarray(True), u, {
            "saddle_quantity": self.saddle_quantity(u), "T": self.T.astype(u.dtype)}

    # ------------------------------------------------------------------ helpers
    def with_reference(self, u) -> "HomoclinicProblem":
        X, _, _, _ = self.split(jnp.asarray(u))
        return eqx.tree_at(lambda c: c.reference, self, X.astype(self.reference.dtype))

    def evaluate(self, u, t):
        """The orbit of `u` at normalised times `t ∈ [0, 1]` (any shape)."""
        X, _, _, _ = self.split(jnp.asarray(u))
        t = jnp.clip(jnp.asarray(t, X.dtype), 0.0, 1.0)
        mesh = self.mesh.astype(X.dtype)
        j = jnp.clip(jnp.searchsorted(mesh, t, side="right") - 1, 0, self.ntst - 1)
        sloc = (t - mesh[j]) / jnp.diff(mesh)[j]
        lag = lagrange(sloc, self.ncol)
        blocks = X[_open_index(self.ntst, self.ncol)][j]
        return jnp.einsum("...l,...ld->...d", lag, blocks)

    def orbit(self, u, n: int = 600):
        """`(ts, xs)`: the orbit at `n` equally spaced physical times in `[0, T]`."""
        return _orbit(self, jnp.asarray(u), int(n))


def flow_derivative_norm(F, xs, order: int):
    """`|d^k x/dt^k|` along the flow of `x' = F(x)` at the points `xs` (`(n, d)`), by
    nested Lie derivatives with forward-mode autodiff (`k = order`)."""
    def lie(g):
        return lambda x: jax.jvp(g, (x,), (F(x),))[1]

    g = lambda x: x  # noqa: E731
    for _ in range(order):
        g = lie(g)
    return jnp.linalg.norm(jax.vmap(g)(xs), axis=-1)


@filter_jit
def _monitor(f, args, xs, order: int):
    return flow_derivative_norm(lambda x: f(0.0, x, args), xs, order)


@filter_jit
def _orbit(hp, u, n: int):
    s = jnp.linspace(0.0, 1.0, n, dtype=u.dtype)
    return s * hp.T.astype(u.dtype), hp.evaluate(u, s)


@filter_jit
def _sigma_batch(hp, x, p):
    u = jnp.concatenate([x, p[:, None]], axis=-1)
    fin = jnp.all(jnp.isfinite(u), axis=-1)
    safe = jnp.where(fin[:, None], u, jnp.nan_to_num(u[0]))
    sig = jax.vmap(hp.saddle_quantity)(safe)
    return jnp.where(fin, sig, jnp.nan)


def equidistributed_mesh(monitor, ntst: int, floor: float = 0.3):
    """A mesh on `[0, 1]` that equidistributes `monitor` (values at equally spaced
    times, e.g. `|x^{(m+1)}|^{1/(m+1)}`, AUTO's choice) plus `floor ×` its mean (so that
    the slow ends near the saddle keep some intervals). NumPy, host side."""
    th = np.asarray(monitor, float)
    th = 0.5 * (th[1:] + th[:-1])
    th = th + floor * th.mean() + 1e-300
    C = np.concatenate([[0.0], np.cumsum(th)])
    t = np.linspace(0.0, 1.0, th.shape[0] + 1)
    mesh = np.interp(np.linspace(0.0, C[-1], ntst + 1), C, t)
    mesh[0], mesh[-1] = 0.0, 1.0
    return mesh


def homoclinic_problem(problem: Problem, param2, orbit_fn, saddle, p1, p2, T, *,
                       ntst: int = 60, ncol: int = 4, floor: float = 0.3):
    """Build a `HomoclinicProblem` and its start vector `u0` from a guess.

    **Arguments:**

    - `problem`, `param2`: the system, its free parameter `p1` (`problem.param`) and the
        second parameter.
    - `orbit_fn`: a guess of the orbit, a function of normalised time `s ∈ [0, 1]`
        (vectorised, `(n,) -> (n, d)`), starting and ending near the saddle.
    - `saddle`, `p1`, `p2`: guesses of the saddle and the parameter values.
    - `T`: the truncation time.
    - `ntst`, `ncol`: mesh intervals and degree; the mesh equidistributes AUTO's error
        monitor `|x^(ncol+1)|^(1/(ncol+1))` along the guess (plus `floor` × its mean),
        with the derivatives taken exactly along the flow by autodiff.

    **Returns:** `(hp, u0)`.

    **Raises:** `ValueError` if the saddle guess has NaN/inf, or the Jacobian there has no
    unstable or no stable eigenvalue (not a saddle: move closer to the homoclinic orbit or
    give the right equilibrium).
    """
    saddle = np.asarray(saddle, float)
    if not np.all(np.isfinite(saddle)) or not np.isfinite(p1) or not np.isfinite(p2):
        raise ValueError(f"The saddle guess {saddle} or p1={p1}, p2={p2} is not finite.")
    hp_tmp_param2 = param2 if not isinstance(param2, str) else Param.from_name(
        problem.args, param2)
    args = hp_tmp_param2.set(problem.param.set(problem.args, p1), p2)
    A = np.asarray(jax.jacfwd(lambda x: problem.f(0.0, x, args))(jnp.asarray(saddle)))
    ev = np.linalg.eigvals(A)
    n_u = int(np.sum(ev.real > 0))
    if n_u == 0 or n_u == A.shape[0] or np.min(np.abs(ev.real)) < 1e-10 * max(
            1.0, np.max(np.abs(ev))):
        raise ValueError(
            f"The equilibrium {saddle} at p1={p1}, p2={p2} has eigenvalues {ev}: not a "
            "hyperbolic saddle, so no homoclinic orbit to it can be computed. Give a "
            "saddle (e.g. from gru_bif.find_equilibria), or move the parameters away "
            "from a fold/SNIC."
        )
    s_fine = np.linspace(0.0, 1.0, 20 * ntst + 1)
    fine = orbit_fn(jnp.asarray(s_fine))
    # AUTO's monitor |x^(m+1)|^(1/(m+1)), evaluated exactly along the flow (autodiff)
    # Python floats in args would be static under filter_jit (a recompile per value)
    args_dyn = jax.tree.map(lambda a: jnp.asarray(a) if isinstance(a, float) else a, args)
    deriv = _monitor(problem.f, args_dyn, fine, ncol + 1)
    mesh = equidistributed_mesh(np.asarray(deriv) ** (1.0 / (ncol + 1)), ntst, floor)
    t_nodes = np.asarray(open_node_times(jnp.asarray(mesh), ncol))
    nodes = np.asarray(orbit_fn(jnp.asarray(t_nodes)))
    Q_s, Q_u = _left_bases(jnp.asarray(A), n_u)
    hp = HomoclinicProblem(problem, hp_tmp_param2, nodes, T, n_u, Q_s, Q_u,
                           ntst=ntst, ncol=ncol, mesh=mesh)
    return hp, hp.pack(jnp.asarray(nodes), saddle, p1, p2)


# --------------------------------------------------------------------------- location
@filter_jit
def _evaluate_shifted(hp, u, s, T_new, shift):
    tau = jnp.clip(s * T_new - shift, 0.0, hp.T) / hp.T
    return hp.evaluate(u, tau)


def remesh_homoclinic(hp: HomoclinicProblem, u, *, ntst: "int | None" = None,
                      T=None, floor: float = 0.3):
    """Rebuild the problem around a solution `u` (e.g. a point of a continued curve, whose
    shape has drifted from the mesh it started on): a new mesh equidistributing the
    error monitor along the orbit, optionally a new `ntst` and a new truncation time `T` (the orbit
    is kept centred: the extra time is added, or removed, equally at both ends, where the
    orbit rests near the saddle), the phase reference reset to the orbit and the
    projection bases recomputed at its saddle.

    **Returns:** `(hp_new, u_new)`; correct `u_new` with `locate_homoclinic`.
    """
    u = jnp.asarray(u)
    X, xs, p1, p2 = hp.split(u)
    T_old = float(hp.T)
    T_new = T_old if T is None else float(T)
    shift = 0.5 * (T_new - T_old)

    def orbit_fn(s):
        return _evaluate_shifted(hp, u, s, jnp.asarray(T_new), jnp.asarray(shift))

    return homoclinic_problem(hp.problem, hp.param2, orbit_fn, np.asarray(xs), float(p1),
                              float(p2), T_new, ntst=hp.ntst if ntst is None else ntst,
                              ncol=hp.ncol, floor=floor)
