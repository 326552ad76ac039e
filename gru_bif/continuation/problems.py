"""Continuation problems: "a residual and a Jacobian" that the engine continues.

The engine continues the zero set of `H(u) = 0`, `H: R^{n+1} → R^n`, whatever `u` means;
the last component of `u` is the continuation parameter (for reporting). Generic test
functions (fold: the parameter component of the tangent; branch point: the determinant of
the augmented Jacobian) come from the engine; a problem adds its own (e.g. Hopf for
equilibria) and says how to compute stability and the data of its special points.

To continue a new kind of solution, subclass `AbstractContinuationProblem` and implement
its abstract methods; see `EquilibriumProblem` for an example.
"""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp

from .._custom_types import Array
from ..bifurcations.normal_form import first_lyapunov, fold_coefficient
from ..bifurcations.test_functions import (
    count_unstable,
    count_unstable_jacobian,
    hopf_test_bialternate,
    hopf_test_eigen,
)
from ..branch import SpecialKind
from ..problem import Problem


class AbstractContinuationProblem(eqx.Module):
    """The contract between a solution type and the continuation engine.

    - `residual(u)`: `H(u)`, shape `(n,)`, `u` of shape `(n + 1,)`.
    - `state(u)` / `param(u)`: the reported state and parameter value.
    - `extra_kinds`: static tuple of `SpecialKind`s of the problem's own test functions.
    - `extra_tests(u, Hu)`: their values (shape `(len(extra_kinds),)`); a special point
        is flagged where one changes sign between two steps.
    - `n_unstable(u, Hu)`: number of unstable directions (-1 if not computed).
    - `special_data(kind, u, Hu, t)`: `(valid, u, data)` at a located point: `valid`
        says whether the point is real (e.g. False for a neutral saddle flagged by the
        Hopf test), `u` the point (with implicit derivatives attached, if the problem
        supports them), `data` a dict of scalars (NaN where not applicable), same keys
        always.
    - `attach_points(X)`: the branch's points with implicit derivatives (optional).
    - `linearize(u)` → `(H(u), lin)` and `bordered_solve(u, lin, w, rhs, with_det)`: the
        residual with a linearisation object, and the solve of `[H_u; wᵀ] x = rhs` (with
        a scaled determinant whose sign is that of the bordered matrix, for the branch-
        point test). Optional: the default is the dense Jacobian (`jax.jacfwd`) and one
        LU. A boundary-value problem condenses its mesh instead (`O(ntst)` work, not
        `O(ntst³)`). `lin` is what `tests_and_stability` and `special_data` receive as
        `Hu` (the dense `H_u` by default).
    - `arclength_weights(u)`: per-component weights `w` of the norm `|v|² = Σ w_i v_i²`
        in which steps (and tangents) are measured at the point `u` (optional; default
        `None`, the Euclidean norm). A boundary-value problem returns quadrature
        weights here, so that a step measures the orbit by its integral norm (AUTO's
        choice) and the number of steps does not grow with the mesh.
    - `system_size(n1)`: the size of the underlying system, for choosing how its
        programs compile (`gru_bif._compile`): the number of unknowns `n1` by default;
        a problem that discretises orbits of an ODE says the ODE's dimension (its
        operations are many and small, like a small system's).
    """

    @abc.abstractmethod
    def residual(self, u: Array) -> Array: ...

    @abc.abstractmethod
    def state(self, u: Array) -> Array: ...

    @abc.abstractmethod
    def extra_tests(self, u: Array, Hu: Array) -> Array: ...

    @abc.abstractmethod
    def n_unstable(self, u: Array, Hu: Array) -> Array: ...

    @abc.abstractmethod
    def special_data(self, kind, u: Array, Hu: Array, t: Array):
        """`(valid, u_located, data)` for a point of `kind` located at `u` (tangent `t`,
        linearisation `Hu`). `kind` is a traced int (every kind's data computed, the
        right one selected) or a plain `int` (a program for that kind alone: only its
        data need be computed). `data` has exactly the keys `data_keys`."""

    def tests_and_stability(self, u: Array, Hu: Array) -> tuple[Array, Array]:
        """`(extra_tests(u, Hu), n_unstable(u, Hu))` — what the engine evaluates at every
        point. Override to share work between the two (e.g. one eigen-decomposition)."""
        return self.extra_tests(u, Hu), self.n_unstable(u, Hu)

    def linearize(self, u: Array):
        """`(H(u), H_u)`: the residual and its dense Jacobian (forward mode)."""

        def fn(v):
            # the state's dtype rules (float32 x0 with float64 args runs in float32)
            r = self.residual(v).astype(v.dtype)
            return r, r

        J, H = jax.jacfwd(fn, has_aux=True)(u)
        return H, J

    def bordered_solve(self, u: Array, lin, w: Array, rhs: Array, with_det: bool = False):
        """Solve `[H_u; wᵀ] x = rhs` with `lin = H_u` from `linearize`. Returns `x`, or
        `(x, det_value)` with `with_det` (see `gru_bif._linalg.lu_solve_det`)."""
        from .._linalg import lu_solve_det, solve

        A = jnp.concatenate([lin, w[None, :].astype(lin.dtype)], axis=0)
        if with_det:
            return lu_solve_det(A, rhs)
        return solve(A, rhs)

    def arclength_weights(self, u: Array) -> "Array | None":
        """Weights of the step norm at `u` (see the class docstring); `None`: Euclidean."""
        return None

    def system_size(self, n1: int) -> int:
        """The size of the underlying system (see the class docstring)."""
        return n1

    def attach_points(self, X: Array) -> Array:
        """Attach derivatives w.r.t. the problem's arguments to branch points `X`
        (default: none — the points are constants)."""
        return jax.lax.stop_gradient(X)

    @property
    @abc.abstractmethod
    def extra_kinds(self) -> tuple: ...

    @property
    @abc.abstractmethod
    def data_keys(self) -> tuple: ...

    @property
    @abc.abstractmethod
    def param_name(self) -> str: ...

    def param(self, u: Array) -> Array:
        return u[-1]

    @property
    def fold_kind(self) -> SpecialKind:
        """The label of a fold of this kind of solution (`FOLD` for equilibria; a
        periodic-orbit problem says `FOLD_CYCLE`)."""
        return SpecialKind.FOLD


def _masked(cp, active):
    """`cp` whose array leaves carry gradients only where `active` (elsewhere they are
    `stop_gradient`ed, so a NaN cotangent from an inapplicable formula is selected away
    instead of multiplied by zero)."""
    dyn, static = eqx.partition(cp, eqx.is_inexact_array)
    dyn = jax.tree.map(lambda a: jnp.where(active, a, jax.lax.stop_gradient(a)), dyn)
    return eqx.combine(dyn, static)


class EquilibriumProblem(AbstractContinuationProblem):
    """Equilibria `F(x, p) = 0` of a `Problem`, `u = (x, p)`.

    **Arguments:**

    - `problem`: the `gru_bif.Problem`.
    - `hopf`: detect Hopf points (`"auto"`: bialternate product for d ≤ 12, eigenvalue
        test above; `"bialternate"`; `"eigen"`; `"off"`).
    - `stability`: count unstable eigenvalues at every point (an eigen-decomposition per
        step, under `stop_gradient`); turn off for throughput.
    """

    problem: Problem
    hopf: str = eqx.field(static=True, default="auto")
    stability: bool = eqx.field(static=True, default=True)

    def __check_init__(self):
        if self.hopf not in ("auto", "bialternate", "eigen", "off"):
            raise ValueError(
                f"hopf={self.hopf!r}; use 'auto', 'bialternate', 'eigen' or 'off'."
            )

    @property
    def param_name(self) -> str:
        return self.problem.param.label

    def residual(self, u):
        return self.problem.F(u[:-1], u[-1])

    def state(self, u):
        return u[:-1]

    def _F_at(self, p):
        return lambda x: self.problem.F(x, p)

    @property
    def extra_kinds(self):
        return () if self.hopf == "off" else (SpecialKind.HOPF,)

    @property
    def data_keys(self):
        return ("omega", "l1", "a")

    def _hopf_mode(self, d):
        if self.hopf == "auto":
            return "bialternate" if d <= 12 else "eigen"
        return self.hopf

    def extra_tests(self, u, Hu):
        J = Hu[:, :-1]
        d = J.shape[0]
        mode = self._hopf_mode(d)
        if mode == "off":
            return jnp.zeros((0,), u.dtype)
        if mode == "bialternate":
            return hopf_test_bialternate(J)[None]
        ev = jnp.linalg.eigvals(jax.lax.stop_gradient(J))
        return hopf_test_eigen(ev, u.dtype)[None]

    def n_unstable(self, u, Hu):
        if not self.stability:
            return jnp.asarray(-1, jnp.int32)
        J = jax.lax.stop_gradient(Hu[:, :-1])
        return count_unstable_jacobian(J)

    def tests_and_stability(self, u, Hu):
        J = Hu[:, :-1]
        if self.stability and J.shape[0] > 2 and self._hopf_mode(J.shape[0]) == "eigen":
            # one eigen-decomposition for both the Hopf test and the stability count
            ev = jnp.linalg.eigvals(jax.lax.stop_gradient(J))
            return hopf_test_eigen(ev, u.dtype)[None], count_unstable(ev, u.dtype)
        return self.extra_tests(u, Hu), self.n_unstable(u, Hu)

    def attach_points(self, X):
        """Branch points `(x, p)` with implicit derivatives w.r.t. the problem's args
        (at fixed p)."""
        from ..differentiate import equilibrium_points

        return equilibrium_points(self, X)

    def special_data(self, kind, u, Hu, t):
        """Located point with implicit derivatives, validity and data. Fold: the
        coefficient `a`. Hopf: `omega`, `l1`, and validity (a neutral saddle — real
        eigenvalues ±κ — also zeroes the Hopf test and is discarded). Branch point: no
        data. `u`, `Hu`, `t` come from the (non-differentiated) loop; the returned point
        and data are differentiable w.r.t. `self.problem.args`."""
        from .._linalg import null_vector
        from ..differentiate import branch_point, fold_point, hopf_point

        u = jax.lax.stop_gradient(u)
        Hs = jax.lax.stop_gradient(Hu)
        t = jax.lax.stop_gradient(t)
        Js = Hs[:, :-1]
        nan = jnp.full((), jnp.nan, u.dtype)
        d = u.shape[0] - 1
        is_f = kind == SpecialKind.FOLD
        is_h = kind == SpecialKind.HOPF
        is_bp = kind == SpecialKind.BRANCH_POINT
        # a plain int: compute only what that kind needs
        static = isinstance(kind, int)
        need_f, need_h, need_bp = (
            (bool(is_f), bool(is_h), bool(is_bp)) if static else (True, True, True)
        )

        def jac_at(cp, uu):
            return jax.jacfwd(cp.residual)(uu)

        # Each kind's data is computed with a copy of the problem whose arguments carry
        # gradients only where that kind applies: a slot of another kind (or padding)
        # may be singular for this kind's formulas, and must not leak NaN into gradients.
        out_u = u
        data = {"omega": nan, "l1": nan, "a": nan}
        valid = jnp.asarray(True)
        if need_f:
            cp_f = _masked(self, is_f)
            # fold: null vector = state part of the tangent
            u_f, v_f = fold_point(cp_f, u, t[:-1] / jnp.linalg.norm(t[:-1]), is_f)
            H_f = jac_at(cp_f, u_f)
            a = fold_coefficient(
                lambda x: cp_f.problem.F(x, u_f[-1]), u_f[:-1], H_f[:, :-1], v_f, H_f[:, -1]
            )
            data["a"] = jnp.where(is_f, a, nan)
            out_u = jnp.where(is_f, u_f, out_u)
        if need_h and d >= 2 and SpecialKind.HOPF in self.extra_kinds:
            ev, vecs = jnp.linalg.eig(Js)
            scale = jnp.maximum(1.0, jnp.max(jnp.abs(ev)))
            # the eigenvalue with Im > 0 closest to the imaginary axis
            score = jnp.where(ev.imag > 1e-8 * scale, jnp.abs(ev.real), jnp.inf)
            i = jnp.argmin(score)
            ok_h = jnp.isfinite(score[i]) & (score[i] < 1e-5 * scale)
            omega0 = jnp.where(ok_h, ev[i].imag, 1.0)
            q0 = jnp.where(ok_h, vecs[:, i], jnp.ones((d,), vecs.dtype))
            cp_h = _masked(self, is_h & ok_h)
            u_h, omega, q = hopf_point(cp_h, u, omega0, q0, is_h & ok_h)
            H_h = jac_at(cp_h, u_h)
            J_h = H_h[:, :-1]
            cdt = q.dtype
            # left eigenvector Jᵀp = −iω p: the left null vector of Jᵀ + iω is q̄,
            # so the bordering column is conj(q̄) = q
            pl = null_vector(
                J_h.T.astype(cdt) + 1j * omega * jnp.eye(d, dtype=cdt), q, jnp.conj(q)
            )
            l1 = first_lyapunov(
                lambda x: cp_h.problem.F(x, u_h[-1]), u_h[:-1], J_h, omega, q, pl
            )
            data["omega"] = jnp.where(is_h & ok_h, omega, nan).astype(u.dtype)
            data["l1"] = jnp.where(is_h & ok_h, l1, nan).astype(u.dtype)
            out_u = jnp.where(is_h, u_h, out_u)
            valid = jnp.where(is_h, ok_h, valid)
        if need_bp:
            # branch point: left null vector of F_x
            psi = jnp.linalg.svd(Js.T)[2][-1]  # ψᵀ F_x = 0 (forward value only)
            u_bp = branch_point(_masked(self, is_bp), u, psi, is_bp)
            out_u = jnp.where(is_bp, u_bp, out_u)
        return valid, out_u, data


def check_residual_shape(cp: "AbstractContinuationProblem", d: int, dtype) -> None:
    """Check that `cp.residual` can be evaluated at `u = (x, p)` with a state `x` of
    length `d` and returns shape `(d,)`: a `ValueError` at once (not a shape error from
    deep inside the compiled loop) that names the length the start state must have where
    the problem knows it (a GRU problem: its hidden size). Costs one abstract evaluation
    (`eqx.filter_eval_shape`), no computation."""
    from .. import _programs

    try:  # checked once per problem structure and shapes (a trace costs milliseconds)
        leaves, dyn_def, stat = _programs._split(cp)
        key = (_programs._memory_key(type(cp), leaves, dyn_def, stat), d, jnp.dtype(dtype).str)
        hash(key)
    except TypeError:
        key = None
    if key is not None and key in _SHAPES_CHECKED:
        return
    _check_residual_shape(cp, d, dtype)
    if key is not None:
        if len(_SHAPES_CHECKED) > 4096:
            _SHAPES_CHECKED.clear()
        _SHAPES_CHECKED.add(key)


_SHAPES_CHECKED: set = set()


def _check_residual_shape(cp, d: int, dtype) -> None:
    inner = cp.problem if isinstance(cp, EquilibriumProblem) else None
    known = inner.state_size if inner is not None else None
    what = "The vector field" if inner is not None else "The problem's residual"
    need = (
        f"x0 must have length d = {known} (the state dimension of this problem)"
        if known is not None
        else "x0 must have the system's dimension d"
    )
    u = jax.ShapeDtypeStruct((d + 1,), dtype)
    try:
        out = eqx.filter_eval_shape(lambda c, uu: c.residual(uu), cp, u)
    except Exception as e:  # noqa: BLE001 - any failure to evaluate is the user's shape
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ValueError(
            f"{what} cannot be evaluated at a state of shape ({d},) "
            f"({type(e).__name__}: {msg.rstrip('.')}); {need}."
        ) from e
    shape = getattr(out, "shape", None)
    if shape != (d,) or (known is not None and known != d):
        if known is None and shape is not None and len(shape) == 1:
            need += f" (dx/dt has {shape[0]} entries: is d = {shape[0]}?)"
        elif known is None:
            need += ", and the vector field must return dx/dt, an array of shape (d,)"
        raise ValueError(f"{what} returns shape {shape} at a state of shape ({d},); {need}.")
