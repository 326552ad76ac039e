"""Heteroclinic connections: the homoclinic projection-boundary-condition BVP of
`gru_bif.homoclinic.bvp` generalised to an orbit from a saddle `x_−` to another
equilibrium `x_+` (Beyn 1990; HomCont's `IEQUIB = −2`).

On `t ∈ [0, 1]` (physical time `T t`), with `A_± = f_x(x_±, α)`:

- `x'(t) = T f(x(t), α)` — collocation, `ntst ncol + 1` nodes (the homoclinic basis);
- `f(x_−, α) = 0`, `f(x_+, α) = 0` — both equilibria are unknowns;
- `x(0) − x_−` in the unstable eigenspace of `A_−`: `Q_0ᵀ P_s(A_−) (x(0) − x_−) = 0`
    (`d − n_−` rows), and `x(1) − x_+` in the stable eigenspace of `A_+`:
    `Q_1ᵀ P_u(A_+) (x(1) − x_+) = 0` (`n_+` rows), with the spectral projectors of the
    matrix sign function (exact and differentiable at every Newton iterate);
- the integral phase condition against a reference orbit.

`n_∓` are the numbers of unstable eigenvalues of `A_∓`. Unknowns `(nodes, x_−, x_+, p1)`
at fixed `p2` outnumber those equations by `n_− − n_+`:

- **`n_+ = n_−` (e.g. saddle to saddle in the plane): a codimension-one connection.**
    `p1` is solved for (`free_parameter=True`), exactly as for a homoclinic orbit; the
    engine continues the connection in `(p1, p2)` with `p2` as its parameter.
- **`n_+ < n_−` (e.g. saddle to sink): the connection persists** — an orbit, no
    parameter to locate. `p1` is pinned to the problem's own value by one more row
    `p1 − param.get(args) = 0` (a fixed-parameter BVP with the same unknowns, so the
    condensed solve and the engine are unchanged; continuing in `p2` follows the orbit),
    and when `n_− − n_+ > 1` the departure direction within the `n_−`-dimensional
    unstable manifold is fixed by `n_− − n_+ − 1` rows `Dᵀ (x(0) − x_−) = 0` (`D`
    spans the directions of the unstable subspace orthogonal to the start's departure
    direction), one orbit of the family.
- `n_+ > n_−`: codimension ≥ 2, not supported (`ValueError`).

Either way the end rows number `3d`, the problem is `HomoclinicProblem`'s with one more
global block. Truncation error: the orbit's end points are exponentially close
(`exp(−λ T/2)`) to the equilibria; a located `p1` errs like `exp(−2 λ T')` as for
homoclinic orbits (`T'` the time spent near an end).
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._compile import filter_jit, jit
from .._custom_types import Array, Float
from ..collocation.condense import condensed_solve
from ..collocation.mesh import MAX_NCOL, basis, lagrange, uniform_mesh
from ..continuation.problems import AbstractContinuationProblem
from ..problem import AbstractParam, Param, Problem
from ..simulate import simulate
from .bvp import (
    _left_bases,
    _monitor,
    _open_index,
    _orbit,
    equidistributed_mesh,
    open_node_times,
    spectral_projectors,
)

__all__ = ["HeteroclinicProblem", "heteroclinic_problem", "heteroclinic_from_simulation",
           "orbit_guess_from_trajectory"]


def _resolve_param2(problem, param2):
    if param2 is None or isinstance(param2, AbstractParam):
        return param2
    if isinstance(param2, str):
        return Param.from_name(problem.args, param2)
    raise ValueError(
        "`param2` must be None, a parameter name such as 'b2' or 'bh[1]', or a "
        f"gru_bif.AbstractParam; got {type(param2).__name__}."
    )


class HeteroclinicProblem(AbstractContinuationProblem):
    """A connection from the saddle `x_−` to the equilibrium `x_+` of a
    `gru_bif.Problem`, in up to two parameters (equations in the module docstring).

    **Arguments:**

    - `problem`: the `gru_bif.Problem`; its `param` is `p1` (solved for when
        `free_parameter`, pinned otherwise).
    - `param2`: the second parameter (name or `AbstractParam`; the engine's
        continuation parameter), or `None` (then `p2` is a dummy unknown, fixed).
    - `reference`: the phase condition's reference orbit, `(ntst ncol + 1, d)` nodes.
    - `T`: the truncation time.
    - `n_minus`, `n_plus`: the numbers of unstable eigenvalues of `x_−` and `x_+`
        (static; `1 ≤ n_minus`, `n_plus ≤ n_minus`).
    - `Q_0` `(d, d − n_minus)`, `Q_1` `(d, n_plus)`: reference bases of the left
        stable subspace of `A_−` and the left unstable subspace of `A_+`; `D`
        `(d, k)` with `k = n_minus − n_plus − 1` (0 when `free_parameter`): the fixed
        departure-direction rows. `heteroclinic_problem` computes all three.
    - `ntst`, `ncol`, `mesh`: mesh intervals, degree, mesh on `[0, 1]`.

    Unknowns `u = (nodes, x_−, x_+, p1, p2)`; `split`/`pack` convert. A continued
    connection has no stability (`branch.n_unstable` is −1); special points are folds
    of the curve and branch points, with data `T`.
    """

    problem: Problem
    param2: "AbstractParam | None" = eqx.field(static=True)
    mesh: Float[Array, " ntst+1"]
    reference: Float[Array, "nodes d"]
    T: Float[Array, ""]
    Q_0: Float[Array, "d ns"]
    Q_1: Float[Array, "d nu"]
    D: Float[Array, "d k"]
    ntst: int = eqx.field(static=True)
    ncol: int = eqx.field(static=True)
    n_minus: int = eqx.field(static=True)
    n_plus: int = eqx.field(static=True)

    def __init__(self, problem, param2, reference, T, n_minus, n_plus, Q_0, Q_1, D=None,
                 *, ntst: int = 60, ncol: int = 4, mesh=None):
        if not isinstance(problem, Problem):
            raise ValueError(
                f"`problem` must be a gru_bif.Problem; got {type(problem).__name__}.")
        param2 = _resolve_param2(problem, param2)
        if param2 is not None and param2 == problem.param:
            raise ValueError(
                f"param2={param2.label!r} is the problem's own parameter; pass another "
                "parameter (or None).")
        ntst, ncol = int(ntst), int(ncol)
        if ntst < 2 or not 1 <= ncol <= MAX_NCOL:
            raise ValueError(f"ntst={ntst}, ncol={ncol}: use ntst ≥ 2 and 1 ≤ ncol ≤ "
                             f"{MAX_NCOL} (e.g. 60 and 4).")
        reference = jnp.asarray(reference)
        if not jnp.issubdtype(reference.dtype, jnp.floating):
            reference = reference.astype(jnp.result_type(float))
        if reference.ndim != 2 or reference.shape[0] != ntst * ncol + 1:
            raise ValueError(
                f"reference has shape {reference.shape}; expected the node values "
                f"({ntst * ncol + 1}, d) of the reference orbit.")
        d = reference.shape[1]
        n_minus, n_plus = int(n_minus), int(n_plus)
        if n_plus > n_minus:
            raise ValueError(
                f"n_plus={n_plus} > n_minus={n_minus}: a connection from an equilibrium "
                "with fewer unstable directions is of codimension ≥ 2 (not supported); "
                "connect from the equilibrium with more unstable directions.")
        if not 1 <= n_minus <= d or not 0 <= n_plus <= d - 1:
            raise ValueError(
                f"n_minus={n_minus}, n_plus={n_plus}: the source needs 1 to {d} unstable "
                f"eigenvalues and the target 0 to {d - 1}.")
        k = 0 if n_plus == n_minus else n_minus - n_plus - 1
        dt = reference.dtype
        Q_0, Q_1 = jnp.asarray(Q_0, dt), jnp.asarray(Q_1, dt)
        D = jnp.zeros((d, k), dt) if D is None else jnp.asarray(D, dt)
        if Q_0.shape != (d, d - n_minus) or Q_1.shape != (d, n_plus) or D.shape != (d, k):
            raise ValueError(
                f"Q_0, Q_1, D have shapes {Q_0.shape}, {Q_1.shape}, {D.shape}; expected "
                f"{(d, d - n_minus)}, {(d, n_plus)}, {(d, k)}.")
        if not isinstance(T, jax.core.Tracer) and not (np.isfinite(T) and float(T) > 0):
            raise ValueError(f"T={T}; the truncation time must be positive (e.g. 40).")
        mesh = uniform_mesh(ntst, dt) if mesh is None else jnp.asarray(mesh)
        if mesh.shape != (ntst + 1,):
            raise ValueError(f"mesh has shape {mesh.shape}; expected ({ntst + 1},).")
        self.problem, self.param2 = problem, param2
        self.mesh, self.reference = mesh.astype(dt), reference
        self.T = jnp.asarray(T, dt)
        self.Q_0, self.Q_1, self.D = Q_0, Q_1, D
        self.ntst, self.ncol = ntst, ncol
        self.n_minus, self.n_plus = n_minus, n_plus

    # ------------------------------------------------------------------ layout
    @property
    def free_parameter(self) -> bool:
        """Whether `p1` is solved for (`n_plus == n_minus`) or pinned (the orbit
        persists)."""
        return self.n_plus == self.n_minus

    @property
    def dim(self) -> int:
        return self.reference.shape[1]

    @property
    def num_nodes(self) -> int:
        return self.ntst * self.ncol + 1

    @property
    def size(self) -> int:
        """Length of `u`: `(ntst ncol + 3) d + 2`."""
        return (self.num_nodes + 2) * self.dim + 2

    def split(self, u):
        """`u -> (nodes, x_minus, x_plus, p1, p2)`; the engine state `u[:-1]` too
        (`p2` NaN)."""
        n, d = self.num_nodes * self.dim, self.dim
        if u.shape[-1] == self.size - 1:
            u = jnp.concatenate([u, jnp.full(u.shape[:-1] + (1,), jnp.nan, u.dtype)], -1)
        if u.shape[-1] != self.size:
            raise ValueError(f"u has length {u.shape[-1]}; this problem's unknowns have "
                             f"length {self.size} (nodes, x_minus, x_plus, p1, p2).")
        X = u[..., :n].reshape(u.shape[:-1] + (self.num_nodes, d))
        return (X, u[..., n:n + d], u[..., n + d:n + 2 * d], u[..., n + 2 * d],
                u[..., n + 2 * d + 1])

    def pack(self, nodes, x_minus, x_plus, p1, p2):
        nodes = jnp.asarray(nodes)
        dt = nodes.dtype
        return jnp.concatenate([
            nodes.reshape(-1), jnp.asarray(x_minus, dt).reshape(-1),
            jnp.asarray(x_plus, dt).reshape(-1), jnp.reshape(p1, (1,)).astype(dt),
            jnp.reshape(p2, (1,)).astype(dt)])

    def args_at(self, p1, p2):
        args = self.problem.param.set(self.problem.args, p1)
        return args if self.param2 is None else self.param2.set(args, p2)

    def F(self, x, p1, p2):
        return self.problem.f(0.0, x, self.args_at(p1, p2))

    def node_times(self):
        return open_node_times(self.mesh, self.ncol)

    # ------------------------------------------------------------------ contract
    @property
    def param_name(self) -> str:
        return "p2" if self.param2 is None else self.param2.label

    def _collocation(self, X, p1, p2, dtype):
        N, m = self.ntst, self.ncol
        _, _, w, L, Ld, _, _, _ = basis(m)
        w, L, Ld = (jnp.asarray(a, dtype) for a in (w, L, Ld))
        idx = _open_index(N, m)
        blocks = X[idx]
        ref = self.reference.astype(dtype)[idx]
        rc = jnp.einsum("kl,jld->jkd", L, ref)
        drc = jnp.einsum("kl,jld->jkd", Ld, ref)
        xc = jnp.einsum("kl,jld->jkd", L, blocks)
        phase = jnp.sum(w[None, :, None] * (xc - rc) * drc)
        return blocks, L, Ld, w, drc, idx, phase

    def residual(self, u):
        dtype = u.dtype
        N, m, d = self.ntst, self.ncol, self.dim
        X, xm, xp, p1, p2 = self.split(u)
        blocks, L, Ld, _, _, _, phase = self._collocation(X, p1, p2, dtype)
        h = jnp.diff(self.mesh).astype(dtype)
        args = self.args_at(p1, p2)
        xc = jnp.einsum("kl,jld->jkd", L, blocks)
        fc = jax.vmap(lambda x: self.problem.f(0.0, x, args))(
            xc.reshape(N * m, d)).reshape(N, m, d).astype(dtype)
        coll = jnp.einsum("kl,jld->jkd", Ld, blocks) - (
            h * self.T.astype(dtype))[:, None, None] * fc
        ends = self._end_rows(X[0], X[-1], u[self.num_nodes * d:])
        return jnp.concatenate([coll.reshape(-1), ends, phase[None]])

    def _end_rows(self, x0, x1, g):
        """`3d` rows: `f(x_∓) = 0`, the projection boundary conditions, and (orbit
        mode) the direction rows and the pin of `p1`."""
        d, dtype = self.dim, x0.dtype
        xm, xp, p1, p2 = g[:d], g[d:2 * d], g[2 * d], g[2 * d + 1]
        f = lambda x: self.F(x, p1, p2).astype(dtype)  # noqa: E731
        Ps_m, _ = spectral_projectors(jax.jacfwd(f)(xm))
        _, Pu_p = spectral_projectors(jax.jacfwd(f)(xp))
        rows = [f(xm), f(xp), self.Q_0.astype(dtype).T @ (Ps_m @ (x0 - xm)),
                self.Q_1.astype(dtype).T @ (Pu_p @ (x1 - xp))]
        if not self.free_parameter:
            rows.append(self.D.astype(dtype).T @ (x0 - xm))
            pin = p1 - jnp.asarray(self.problem.param.get(self.problem.args), dtype)
            rows.append(pin[None])
        return jnp.concatenate(rows)

    def linearize(self, u):
        """`(H(u), lin)` by blocks for the condensed solve (as
        `HomoclinicProblem.linearize`; globals `(x_−, x_+, p1, p2)`)."""
        dtype = u.dtype
        N, m, d = self.ntst, self.ncol, self.dim
        X, xm, xp, p1, p2 = self.split(u)
        blocks, L, Ld, w, drc, idx, phase = self._collocation(X, p1, p2, dtype)
        h = jnp.diff(self.mesh).astype(dtype)
        T = self.T.astype(dtype)

        def local(Y, hj, p1, p2):
            args = self.args_at(p1, p2)
            fc = jax.vmap(lambda x: self.problem.f(0.0, x, args))(L @ Y).astype(dtype)
            r = (Ld @ Y - hj * T * fc).reshape(-1)
            return r, r

        (A, a1, a2), coll = jax.vmap(jax.jacfwd(local, argnums=(0, 2, 3), has_aux=True),
                                     in_axes=(0, 0, None, None))(blocks, h, p1, p2)
        aG = jnp.concatenate([jnp.zeros((N, m * d, 2 * d), dtype), a1[..., None],
                              a2[..., None]], axis=-1)

        def ends(x0, x1, g):
            r = self._end_rows(x0, x1, g)
            return r, r

        n_nodes = N * m + 1
        (e0, e1, eG), end = jax.jacfwd(ends, argnums=(0, 1, 2), has_aux=True)(
            X[0], X[-1], u[n_nodes * d:])
        end_X = jnp.zeros((3 * d, n_nodes, d), dtype).at[:, 0].set(e0).at[:, -1].set(e1)
        cY = jnp.einsum("k,kl,jkd->jld", w, L, drc)
        cX = jnp.zeros((n_nodes, d), dtype).at[idx].add(cY)
        rows_X = jnp.concatenate([end_X, cX[None]], axis=0)
        rows_G = jnp.concatenate([eG, jnp.zeros((1, 2 * d + 2), dtype)], axis=0)
        H = jnp.concatenate([coll.reshape(-1), end, phase[None]])
        return H, (A.reshape(N, m * d, (m + 1) * d), aG, rows_X, rows_G)

    def bordered_solve(self, u, lin, w, rhs, with_det: bool = False):
        A, aG, rows_X, rows_G = lin
        dtype = rhs.dtype
        nd = self.num_nodes * self.dim
        w = w.astype(dtype)
        rows_X = jnp.concatenate([rows_X.astype(dtype),
                                  w[:nd].reshape(1, self.num_nodes, self.dim)], axis=0)
        rows_G = jnp.concatenate([rows_G.astype(dtype), w[nd:][None]], axis=0)
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
        return ("T",)

    def n_unstable(self, u, Hu):
        return jnp.asarray(-1, jnp.int32)

    def special_data(self, kind, u, Hu, t):
        u = jax.lax.stop_gradient(u)
        return jnp.asarray(True), u, {"T": self.T.astype(u.dtype)}

    # ------------------------------------------------------------------ helpers
    def eigenvalues(self, u):
        """Eigenvalues of `f_x` at `x_−` and at `x_+` (host-side `eig`, not
        differentiated)."""
        _, xm, xp, p1, p2 = self.split(jax.lax.stop_gradient(u))
        jac = jax.jacfwd(lambda x: self.F(x, p1, p2))
        return jnp.linalg.eigvals(jac(xm)), jnp.linalg.eigvals(jac(xp))

    def with_reference(self, u) -> "HeteroclinicProblem":
        X = self.split(jnp.asarray(u))[0]
        return eqx.tree_at(lambda c: c.reference, self, X.astype(self.reference.dtype))

    def evaluate(self, u, t):
        """The orbit of `u` at normalised times `t ∈ [0, 1]` (any shape)."""
        X = self.split(jnp.asarray(u))[0]
        t = jnp.clip(jnp.asarray(t, X.dtype), 0.0, 1.0)
        mesh = self.mesh.astype(X.dtype)
        j = jnp.clip(jnp.searchsorted(mesh, t, side="right") - 1, 0, self.ntst - 1)
        lag = lagrange((t - mesh[j]) / jnp.diff(mesh)[j], self.ncol)
        blocks = X[_open_index(self.ntst, self.ncol)][j]
        return jnp.einsum("...l,...ld->...d", lag, blocks)

    def orbit(self, u, n: int = 600):
        """`(ts, xs)`: the orbit at `n` equally spaced physical times in `[0, T]`."""
        return _orbit(self, jnp.asarray(u), int(n))


# --------------------------------------------------------------------------- building
# compiled once: run eagerly, the sign iteration's loop is re-traced and re-compiled
# at every call (≈ 0.4 s each)
_bases = jit(_left_bases, static_argnums=1)
_projectors = jit(spectral_projectors)


@filter_jit
def _jacobian(f, args, x):
    return jax.jacfwd(lambda y: f(0.0, y, args))(x)


def _dynamic(args):
    """Python floats in `args` would be static under `filter_jit` (a recompile per
    value)."""
    return jax.tree.map(lambda a: jnp.asarray(a) if isinstance(a, float) else a, args)


def _unstable_count(A):
    ev = np.linalg.eigvals(np.asarray(A))
    return int(np.sum(ev.real > 0)), ev


def heteroclinic_problem(problem: Problem, param2, orbit_fn, x_minus, x_plus, p1=None,
                         p2=None, T=40.0, *, ntst: int = 60, ncol: int = 4,
                         floor: float = 0.3):
    """Build a `HeteroclinicProblem` and its start vector `u0` from a guess.

    **Arguments:** `problem`, `param2` (or `None`); `orbit_fn`: the guess as a function
    of normalised time `s ∈ [0, 1]` (vectorised, `(n,) → (n, d)`), leaving `x_minus`
    and arriving at `x_plus` (guesses of the two equilibria); `p1`, `p2`: parameter
    values (default: the problem's); `T`: truncation time; `ntst`, `ncol`, `floor`: the
    mesh, equidistributing AUTO's monitor along the guess (as `homoclinic_problem`).

    The counts `n_∓` of unstable eigenvalues at the guesses decide the mode (module
    docstring); the departure direction for `D` is `orbit_fn(0) − x_minus`.

    **Returns:** `(hp, u0)`.

    **Raises:** `ValueError` if a guess is not finite, `x_minus` is not hyperbolic with
    an unstable eigenvalue, `x_plus` is not hyperbolic, or `n_+ > n_−`.
    """
    param2 = _resolve_param2(problem, param2)
    p1 = float(problem.p) if p1 is None else float(p1)
    p2 = (0.0 if param2 is None else float(param2.get(problem.args))) if p2 is None \
        else float(p2)
    x_minus, x_plus = np.asarray(x_minus, float), np.asarray(x_plus, float)
    if not (np.all(np.isfinite(x_minus)) and np.all(np.isfinite(x_plus))
            and np.isfinite(p1) and np.isfinite(p2)):
        raise ValueError(f"x_minus={x_minus}, x_plus={x_plus}, p1={p1}, p2={p2}: not "
                         "finite.")
    args = problem.param.set(problem.args, p1)
    args = _dynamic(args if param2 is None else param2.set(args, p2))
    A_m = np.asarray(_jacobian(problem.f, args, jnp.asarray(x_minus)))
    A_p = np.asarray(_jacobian(problem.f, args, jnp.asarray(x_plus)))
    n_m, ev_m = _unstable_count(A_m)
    n_p, ev_p = _unstable_count(A_p)
    for name, ev in (("x_minus", ev_m), ("x_plus", ev_p)):
        if np.min(np.abs(ev.real)) < 1e-10 * max(1.0, np.max(np.abs(ev))):
            raise ValueError(f"{name} has eigenvalues {ev}: not hyperbolic. Move the "
                             "parameters away from the fold/Hopf of that equilibrium.")
    if n_m == 0:
        raise ValueError(f"x_minus={x_minus} has eigenvalues {ev_m}: no unstable "
                         "direction to leave along; give a saddle.")
    s_fine = np.linspace(0.0, 1.0, 20 * ntst + 1)
    fine = orbit_fn(jnp.asarray(s_fine))
    deriv = _monitor(problem.f, args, fine, ncol + 1)
    mesh = equidistributed_mesh(np.asarray(deriv) ** (1.0 / (ncol + 1)), ntst, floor)
    nodes = np.asarray(orbit_fn(open_node_times(jnp.asarray(mesh), ncol)))
    Q_0, _ = _bases(jnp.asarray(A_m), n_m)
    _, Q_1 = _bases(jnp.asarray(A_p), n_p)
    D = None
    if n_p < n_m - 1:
        # right unstable subspace of A_−: the column space of P_u
        _, P_u = _projectors(jnp.asarray(A_m))
        U = np.linalg.svd(np.asarray(P_u))[0][:, :n_m]
        c = U.T @ (nodes[0] - x_minus)
        C = np.linalg.svd(np.eye(n_m) - np.outer(c, c) / (c @ c))[0][:, :n_m - n_p - 1]
        D = U @ C
    hp = HeteroclinicProblem(problem, param2, nodes, T, n_m, n_p, Q_0, Q_1, D,
                             ntst=ntst, ncol=ncol, mesh=mesh)
    return hp, hp.pack(jnp.asarray(nodes), x_minus, x_plus, p1, p2)


def _departure(A, n_u, direction):
    """The unit departure vector: `direction` `±1` times the leading unstable
    eigenvector (sign: its largest-magnitude entry positive), or a given vector."""
    if np.ndim(direction) == 0:
        if direction not in (1, -1):
            raise ValueError(f"direction={direction!r}; use +1 or -1 (or a vector).")
        ev, V = np.linalg.eig(np.asarray(A))
        unstable = np.nonzero(ev.real > 0)[0]
        i = unstable[np.argmin(ev.real[unstable])]
        v = np.real(V[:, i])
        v = v / np.linalg.norm(v)
        v = v * np.sign(v[np.argmax(np.abs(v))]) * direction
        return v, float(ev[i].real)
    v = np.asarray(direction, float)
    if v.shape != (A.shape[0],) or not np.linalg.norm(v) > 0:
        raise ValueError(f"direction has shape {v.shape}; give ±1 or a nonzero vector "
                         f"of shape ({A.shape[0]},).")
    ev = np.linalg.eigvals(np.asarray(A))
    return v / np.linalg.norm(v), float(np.min(ev.real[ev.real > 0]))


def orbit_guess_from_trajectory(ts, xs, x_minus, x_plus, lam_u, lam_s, eps, T):
    """A guess `orbit_fn(s)`, `s ∈ [0, 1]`, from a trajectory `xs` (at times `ts`,
    starting `eps` along the unstable direction at `t = 0`): a window of length `T`
    centred where the orbit is farthest from both ends; before `t = 0` the linear
    solution `x_− + (x(0) − x_−) e^{λ_u t}`, after the closest approach to `x_+`
    a linear decay at the rate `λ_s`. With `T=None`, the window runs from where the orbit
    is `10 eps` away from `x_−` to where it first comes within `10 eps` of `x_+` (or
    its closest approach). Returns `(orbit_fn, T)`."""
    ts, xs = np.asarray(ts), np.asarray(xs)
    dm = np.linalg.norm(xs - x_minus, axis=-1)
    dp = np.linalg.norm(xs - x_plus, axis=-1)
    i_c = int(np.argmin(dp))
    t_c = ts[i_c]
    if T is None:
        i_a = int(np.argmax(dm > 10 * eps))
        i_c = i_a + int(np.argmax(dp[i_a:] <= max(10 * eps, float(dp[i_a:].min()))))
        t_a, t_c = ts[i_a], ts[i_c]
        T = float(t_c - t_a)
    else:
        i_mid = int(np.argmax(np.minimum(dm, dp)[: i_c + 1]))
        t_a = ts[i_mid] - 0.5 * float(T)
    d0, dc = xs[0] - x_minus, xs[i_c] - x_plus

    def orbit_fn(s):
        t = t_a + np.asarray(s) * T
        inner = np.stack([np.interp(t, ts[: i_c + 1], xs[: i_c + 1, j])
                          for j in range(xs.shape[1])], -1)
        before = x_minus + d0 * np.exp(lam_u * np.minimum(t, 0.0))[..., None]
        after = x_plus + dc * np.exp(lam_s * np.maximum(t - t_c, 0.0))[..., None]
        out = np.where((t < 0)[..., None], before, np.where((t > t_c)[..., None], after,
                                                             inner))
        return jnp.asarray(out)

    return orbit_fn, float(T)


def heteroclinic_from_simulation(problem: Problem, saddle, target, *, direction=1,
                                 T=None, param2=None, p2=None, eps: float = 1e-7,
                                 t_max: float = 200.0, num: int = 4001,
                                 ntst: int = 60, ncol: int = 4, floor: float = 0.3):
    """Start a connection from a simulated trajectory along the saddle's unstable
    manifold.

    From `saddle + eps·v` (`v` the leading unstable eigenvector times `direction = ±1`,
    or a given vector in the unstable subspace) integrate (Diffrax, `rtol=1e-10`) for
    `t_max` at `num` output times; the guess is a window of length `T` (default: from
    leaving the saddle to the closest approach to `target`), see
    `orbit_guess_from_trajectory`. `target`: a guess of `x_+` (e.g. from
    `gru_bif.find_equilibria`), or `None`: the trajectory's end (a sink).

    **Returns:** `(hp, u0)` from `heteroclinic_problem`; correct with
    `locate_heteroclinic`.
    """
    param2 = _resolve_param2(problem, param2)
    saddle = np.asarray(saddle, float)
    args = problem.args
    if param2 is not None and p2 is not None:
        args = param2.set(args, p2)
    pr = problem.with_args(args)
    A = np.asarray(_jacobian(pr.f, _dynamic(pr.args), jnp.asarray(saddle)))
    n_u, ev = _unstable_count(A)
    if n_u == 0:
        raise ValueError(f"saddle={saddle} has eigenvalues {ev}: no unstable direction.")
    v, lam_u = _departure(A, n_u, direction)
    ts = np.linspace(0.0, float(t_max), int(num))
    traj = simulate(pr, None, jnp.asarray(saddle + eps * v), jnp.asarray(ts), rtol=1e-10,
                    atol=1e-12)
    xs = np.asarray(traj.xs)
    target = xs[-1] if target is None else np.asarray(target, float)
    ev_p = np.linalg.eigvals(np.asarray(_jacobian(pr.f, _dynamic(pr.args),
                                                  jnp.asarray(target))))
    lam_s = float(np.max(ev_p.real[ev_p.real < 0])) if np.any(ev_p.real < 0) else -1.0
    orbit_fn, T = orbit_guess_from_trajectory(ts, xs, saddle, target, lam_u, lam_s, eps, T)
    return heteroclinic_problem(pr, param2, orbit_fn, saddle, target, None,
                                p2, T, ntst=ntst, ncol=ncol, floor=floor)
