"""Fold and Hopf curves in two parameters, continued by the same engine as equilibria.

A curve of folds (or Hopf points) of `x' = F(x, p1, p2)` is the zero set of a
*minimally augmented* system (Govaerts 2000; MatCont):

- fold: `F(x, p1, p2) = 0`, `g(x, p1, p2) = 0` with `g` from
    `[[F_x, b], [cᵀ, 0]] [v; g] = [0; 1]` (`g = 0` exactly where `F_x` is singular);
- Hopf: `F = 0`, `g = 0` with the same bordering of the bialternate product
    `2F_x ⊙ I` (eigenvalues `λᵢ + λⱼ`; singular where two eigenvalues of `F_x` sum to
    zero). The frequency is not an unknown: `ω² = κ` is read off the kernel of the
    bialternate product (`gru_bif.bifurcations.codim2.plane_kappa`), and where `κ`
    turns negative the same curve continues as a curve of *neutral saddles* (real
    eigenvalues `±μ`). Its size is `d(d−1)/2`: for `d` up to about 12.

The engine sees the unknowns `u = (x, p1, p2)`: its "state" is `(x, p1)` and its scalar
parameter is `p2` (pseudo-arclength treats them alike, so the curve may turn in either
parameter). So the returned `Branch` has `branch.x[:, :d]` the equilibrium,
`branch.x[:, d]` the first parameter and `branch.p` the second; the same holds for
`branch.special` (`special.x[:, d]`, also in `special.data["p1"]`). The borders `b`,
`c` are the singular vectors of the smallest singular value at the current point (see
`gru_bif.bifurcations.codim2`), so no border update between steps is needed.

**Codim-2 points** are zeros of test functions, flagged in the loop and located after it
by the engine (Illinois search along the curve, every evaluation a Newton correction):

| curve | kind | test function | data |
|---|---|---|---|
| fold | `cusp` | fold coefficient `u·B(v,v)` (oriented) | `c` (cubic coefficient) |
| fold | `bt` (d ≥ 2) | `u·v` (left·right null vector) | `a`, `b` |
| fold | `zero_hopf` (d ≥ 3) | `det(2F_x ⊙ I)` | `omega` |
| Hopf | `bt` | `κ = ω²` | `a`, `b` |
| Hopf | `bautin` | `l1` (where `κ > 0`) | `omega`, `l1`, `l2` |
| Hopf | `zero_hopf` (d ≥ 3) | `det F_x` | `omega` |
| Hopf | `double_hopf` (d ≥ 4) | determinant of the bordered `2F_x ⊙ I` | `omega`, `omega2` |

Every special point also carries `p1`. `l2` is computed by Kuznetsov's formula
(derivatives of `F` up to fifth order by nested `jax.jvp`). Flags that turn out not to be
the codim-2 point at the located point (a zero-Hopf flag at a BT point, a neutral-saddle
pair instead of a Hopf pair, a cusp flag where the curve's normal turned by 90°) are
discarded. Points where the curve's own defining system is singular (its augmented
Jacobian changes the sign of its determinant, e.g. crossing or degenerate curves) are
reported with kind `branch_point`; the continuation steps over them (pseudo-arclength
does not solve at the singular point itself) or, failing that, stops with
`RESULTS.corrector_failed` and a warning — never silently. Turning points of the curve in
`p2` are not reported (they are geometry, not bifurcations).

**Implicit gradients.** Curve points (at fixed `p2`) and cusp, Bogdanov–Takens, Bautin
and zero-Hopf points are differentiable functions of every leaf of `problem.args`, by
the implicit function theorem on their defining systems
(`gru_bif.curves.gradients`); double-Hopf points and the normal-form
coefficients in `special.data` (other than `p1`) are constants.

**Not done here:** bounds on `p1` (the engine stops on `p2 ∉ [p_min, p_max]` and after
`max_steps`; pick `max_steps`/`ds_max` for the window you want, or clip when plotting).

This module is long because fold and Hopf curves share their front doors, start
checks and codim-2 post-processing (l2 at Bautin points, BT data); each problem is
short, and the shared contract lives in `base.py`, their gradients in `gradients.py`.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._compile import filter_jit
from .._custom_types import Array
from .._linalg import bordered_solve, lu_solve_det
from .._results import RESULTS
from .._util import concrete, stop_gradient_tree
from ..bifurcations.codim2 import (
    bt_coefficients,
    cusp_coefficient,
    fold_curve_tests,
    hopf_plane,
    hopf_vectors,
    imag_pairs,
    oriented_singular,
    second_lyapunov,
    smallest_singular,
)
from ..bifurcations.normal_form import first_lyapunov, multilinear
from ..bifurcations.test_functions import bialternate, count_unstable_jacobian, scaled_det
from ..branch import Branch, SpecialKind
from ..continuation.api import continuation
from ..problem import AbstractParam, Problem
from .base import AbstractCurveProblem, branch_point_genuine, resolve_param2
from .gradients import codim2_point, curve_points

_DATA_KEYS = ("p1", "a", "b", "c", "omega", "omega2", "l1", "l2")


class _AbstractEquilibriumCurve(AbstractCurveProblem):
    """Shared plumbing of fold and Hopf curves: `u = (x, p1, p2)`."""

    problem: eqx.AbstractVar[Problem]
    param2: eqx.AbstractVar[AbstractParam]
    dim: eqx.AbstractVar[int]
    stability: eqx.AbstractVar[bool]

    def F(self, x, p1, p2):
        """The vector field at `(x, p1, p2)` (time 0)."""
        args = self.param2.set(self.problem.param.set(self.problem.args, p1), p2)
        return self.problem.f(0.0, x, args)

    @property
    def n_y(self) -> int:
        return self.dim

    def jac_x(self, u):
        x, p1, p2 = self.split(u)
        return jax.jacfwd(lambda y: self.F(y, p1, p2))(x)

    @property
    def data_keys(self):
        return _DATA_KEYS

    def n_unstable(self, u, Hu):
        if not self.stability:
            return jnp.asarray(-1, jnp.int32)
        J = jax.lax.stop_gradient(Hu[: self.dim, : self.dim])
        return count_unstable_jacobian(J)

    def _Fx_at(self, u):
        x, p1, p2 = self.split(u)
        return lambda y: self.F(y, p1, p2)

    def _attach_codim2(self, u, kind, pairs):
        """`u` of a located codim-2 point with implicit derivatives w.r.t. the problem's
        arguments (`gru_bif.curves.gradients.codim2_point`) for the kinds in
        `pairs` (`(SpecialKind, name)`); other kinds stay constant."""
        out = jax.lax.stop_gradient(u)
        for k, name in pairs:
            act = kind == k
            out = jnp.where(act, codim2_point(self, u, name, act), out)
        return out


class FoldCurveProblem(_AbstractEquilibriumCurve):
    """A curve of folds (saddle-nodes) of `problem` in `(problem.param, param2)`, as an
    `AbstractContinuationProblem` (see the module docstring). Usually built by
    `fold_curve`.

    **Arguments:**

    - `problem`: the `gru_bif.Problem`; its `param` is the first parameter `p1`.
    - `param2`: the second parameter (a name such as `"bh[1]"` or an `AbstractParam`).
    - `normal0`: `(2,)` the curve's normal in the parameter plane at the start (orients
        the cusp test; any vector not orthogonal to the normal works).
    - `stability`: count unstable eigenvalues along the curve.
    """

    problem: Problem
    param2: AbstractParam = eqx.field(static=True)
    normal0: Array
    left0: Array
    right0: Array
    dim: int = eqx.field(static=True)
    stability: bool = eqx.field(static=True, default=True)

    def residual(self, u):
        x, p1, p2 = self.split(u)
        J = self.jac_x(u)
        _, b, c = oriented_singular(J, self.left0, self.right0)
        g, *_ = bordered_solve(J, b, c)
        return jnp.concatenate([self.F(x, p1, p2), g[None]])

    def attach_points(self, X):
        """Curve points `(x, p1, p2)` with implicit derivatives w.r.t. the problem's args
        (at fixed `p2`; `gru_bif.curves.gradients.curve_points`)."""
        return curve_points(self, X, "fold")

    @property
    def extra_kinds(self):
        k = (SpecialKind.CUSP,)
        if self.dim >= 2:
            k += (SpecialKind.BT,)
        if self.dim >= 3:
            k += (SpecialKind.ZERO_HOPF,)
        return k

    def extra_tests(self, u, Hu):
        d = self.dim
        x = u[:d]
        J = Hu[:d, :d]
        Fp = Hu[:d, d : d + 2]
        return fold_curve_tests(
            self._Fx_at(u), x, J, Fp, self.normal0, self.left0, self.right0, d
        )

    def special_data(self, kind, u, Hu, t):
        cp = stop_gradient_tree(self)
        u = jax.lax.stop_gradient(u)
        d = self.dim
        x, p1, _ = cp.split(u)
        J = cp.jac_x(u)
        F = cp._Fx_at(u)
        dt = u.dtype
        nan = jnp.full((), jnp.nan, dt)
        scale = jnp.maximum(1.0, jnp.max(jnp.abs(J)))
        _, uu, vv = oriented_singular(J, self.left0, self.right0)
        data = {k: nan for k in _DATA_KEYS}
        data["p1"] = p1
        is_cusp = kind == SpecialKind.CUSP
        is_bt = kind == SpecialKind.BT
        is_zh = kind == SpecialKind.ZERO_HOPF
        # cusp: the fold coefficient itself must vanish (not the orienting factor)
        Bvv = multilinear(F, x, 2)(vv, vv)
        a_raw = jnp.dot(uu, Bvv)
        cusp_ok = jnp.abs(a_raw) <= 1e-6 * jnp.maximum(1.0, jnp.linalg.norm(Bvv))
        c = cusp_coefficient(F, x, J)
        data["c"] = jnp.where(is_cusp, c, nan)
        valid = jnp.where(is_cusp, cusp_ok, kind != SpecialKind.NONE)
        valid = jnp.where(kind == SpecialKind.BRANCH_POINT, branch_point_genuine(Hu, t), valid)
        if d >= 2:
            a, b, *_ = bt_coefficients(F, x, J)
            data["a"] = jnp.where(is_bt, a, nan)
            data["b"] = jnp.where(is_bt, b, nan)
            valid = jnp.where(is_bt, jnp.abs(jnp.dot(uu, vv)) <= 1e-6, valid)
        if d >= 3:
            ev, score, sc = imag_pairs(J)
            zh_ok = (score[0] < 1e-6 * sc) & (jnp.abs(jnp.dot(uu, vv)) > 1e-6)
            data["omega"] = jnp.where(is_zh & zh_ok, ev[0].imag, nan).astype(dt)
            valid = jnp.where(is_zh, zh_ok, valid)
        del scale
        pairs = [(SpecialKind.CUSP, "cusp")]
        if d >= 2:
            pairs.append((SpecialKind.BT, "bt"))
        if d >= 3:
            pairs.append((SpecialKind.ZERO_HOPF, "zero_hopf"))
        u_att = self._attach_codim2(u, kind, pairs)
        data["p1"] = u_att[d]
        return valid, u_att, data


class HopfCurveProblem(_AbstractEquilibriumCurve):
    """A curve of Hopf points of `problem` in `(problem.param, param2)` (continuing as a
    curve of neutral saddles past Bogdanov–Takens points), as an
    `AbstractContinuationProblem` (see the module docstring). Usually built by
    `hopf_curve`. Needs `d ≥ 2`.

    **Arguments:** `problem`, `param2`, `stability` as for `FoldCurveProblem`.
    """

    problem: Problem
    param2: AbstractParam = eqx.field(static=True)
    left0: Array
    right0: Array
    dim: int = eqx.field(static=True)
    stability: bool = eqx.field(static=True, default=True)

    def __check_init__(self):
        if self.dim < 2:
            raise ValueError(
                f"A Hopf curve needs a state of dimension ≥ 2; this one has {self.dim}."
            )

    def residual(self, u):
        x, p1, p2 = self.split(u)
        J = self.jac_x(u)
        Bm = bialternate(J)
        _, b, c = oriented_singular(Bm, self.left0, self.right0)
        g, *_ = bordered_solve(Bm, b, c)
        return jnp.concatenate([self.F(x, p1, p2), g[None]])

    def attach_points(self, X):
        """Curve points `(x, p1, p2)` with implicit derivatives w.r.t. the problem's args
        (at fixed `p2`; `gru_bif.curves.gradients.curve_points`)."""
        return curve_points(self, X, "hopf")

    @property
    def extra_kinds(self):
        k = (SpecialKind.BT, SpecialKind.BAUTIN)
        if self.dim >= 3:
            k += (SpecialKind.ZERO_HOPF,)
        if self.dim >= 4:
            k += (SpecialKind.DOUBLE_HOPF,)
        return k

    def _l1(self, u, J, A, kappa):
        pos = kappa > 0
        omega = jnp.sqrt(jnp.where(pos, kappa, 1.0))
        q, p = hopf_vectors(J, A, omega)
        x = u[: self.dim]
        l1 = first_lyapunov(self._Fx_at(u), x, J, omega, q, p)
        return jnp.where(pos, l1, jnp.nan), omega, q, p

    def extra_tests(self, u, Hu):
        d = self.dim
        J = Hu[:d, :d]
        Bm, _, _, _, A, kappa = hopf_plane(J)
        _, ub, vb = oriented_singular(Bm, self.left0, self.right0)
        l1, *_ = self._l1(u, J, A, kappa)
        out = [kappa, l1]
        if d >= 3:
            out.append(scaled_det(J))
        if d >= 4:
            n = Bm.shape[0]
            Mb = jnp.block([[Bm, ub[:, None]], [vb[None, :], jnp.zeros((1, 1), Bm.dtype)]])
            _, det = lu_solve_det(Mb, jnp.zeros((n + 1,), Bm.dtype).at[n].set(1.0))
            out.append(det)
        return jnp.stack(out).astype(u.dtype)

    def special_data(self, kind, u, Hu, t):
        cp = stop_gradient_tree(self)
        u = jax.lax.stop_gradient(u)
        d = self.dim
        x, p1, _ = cp.split(u)
        J = cp.jac_x(u)
        F = cp._Fx_at(u)
        dt = u.dtype
        nan = jnp.full((), jnp.nan, dt)
        _, _, _, _, A, kappa = hopf_plane(J)
        scale = jnp.maximum(1.0, jnp.max(jnp.abs(J)))
        data = {k: nan for k in _DATA_KEYS}
        data["p1"] = p1
        is_bt = kind == SpecialKind.BT
        is_ba = kind == SpecialKind.BAUTIN
        is_zh = kind == SpecialKind.ZERO_HOPF
        is_dh = kind == SpecialKind.DOUBLE_HOPF
        hopf_like = kappa > 1e-8 * scale**2
        l1, omega, q, p = cp._l1(u, J, A, kappa)
        data["omega"] = jnp.where((is_ba | is_zh | is_dh) & hopf_like, omega, nan)
        a, b, *_ = bt_coefficients(F, x, J)
        data["a"] = jnp.where(is_bt, a, nan)
        data["b"] = jnp.where(is_bt, b, nan)

        # l2 (fifth derivatives) is added after the loop by `_with_l2`, compiled only
        # when a Bautin point was found
        data["l1"] = jnp.where(is_ba, l1, nan)
        valid = jnp.where(is_ba, hopf_like, kind != SpecialKind.NONE)
        valid = jnp.where(kind == SpecialKind.BRANCH_POINT, branch_point_genuine(Hu, t), valid)
        valid = jnp.where(is_zh, hopf_like, valid)
        if d >= 4:
            ev, score, sc = imag_pairs(J)
            # two imaginary pairs: one at ω (the curve's), another on the axis
            other = jnp.where(jnp.abs(ev[0].imag - omega) < jnp.abs(ev[1].imag - omega), 1, 0)
            dh_ok = hopf_like & (score[other] < 1e-6 * sc) & (score[1 - other] < 1e-6 * sc)
            data["omega2"] = jnp.where(is_dh & dh_ok, ev[other].imag, nan).astype(dt)
            valid = jnp.where(is_dh, dh_ok, valid)
        pairs = [(SpecialKind.BT, "bt"), (SpecialKind.BAUTIN, "bautin")]
        if d >= 3:
            pairs.append((SpecialKind.ZERO_HOPF, "zero_hopf"))
        if d >= 4:
            pairs.append((SpecialKind.DOUBLE_HOPF, "double_hopf"))
        u_att = self._attach_codim2(u, kind, pairs)
        data["p1"] = u_att[d]
        return valid, u_att, data


# --------------------------------------------------------------------------- front doors
_CODIM2_KINDS = (
    SpecialKind.CUSP, SpecialKind.BT, SpecialKind.BAUTIN, SpecialKind.ZERO_HOPF,
    SpecialKind.DOUBLE_HOPF,
)
_START_KINDS = {
    "fold": (SpecialKind.FOLD, SpecialKind.CUSP, SpecialKind.BT),
    "hopf": (SpecialKind.HOPF, SpecialKind.BT, SpecialKind.BAUTIN),
}


def _start_point(problem, start, param2, kind: str, index, p1, p2):
    """`(x, p1, p2)` from a Branch special point or from arrays."""
    if isinstance(start, Branch):
        sp = start.special
        kinds = np.asarray(sp.kind)
        n = int(sp.count)
        allowed = _START_KINDS[kind]
        if index is None:
            cands = [i for i in range(n) if int(kinds[i]) in allowed]
            if not cands:
                raise ValueError(
                    f"The branch has no special point of kind "
                    f"{[k.label for k in allowed]} to start a {kind} curve from; its "
                    f"special points are {[SpecialKind(int(k)).label for k in kinds[:n]]}."
                )
            index = cands[0]
        if not 0 <= index < n or int(kinds[index]) not in allowed:
            got = SpecialKind(int(kinds[index])).label if 0 <= index < n else "none"
            raise ValueError(
                f"special point {index} has kind {got!r}; a {kind} curve starts from "
                f"{[k.label for k in allowed]}. Pick another `index`."
            )
        xs = jnp.asarray(sp.x[index])
        pp = sp.p[index]
        if int(kinds[index]) in _CODIM2_KINDS:  # a point of a curve: x = (x, p1), p = p2
            return xs[:-1], xs[-1], pp
        return xs, pp, param2.get(problem.args) if p2 is None else p2
    x = jnp.asarray(start)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.result_type(float))
    if x.ndim == 0:
        x = x[None]
    if x.ndim != 1:
        raise ValueError(
            f"The start state must have shape (d,); got {x.shape}. To compute curves of "
            "many systems, jax.vmap over fold_curve / hopf_curve."
        )
    p1 = problem.p if p1 is None else p1
    p2 = param2.get(problem.args) if p2 is None else p2
    return x, p1, p2


def _curve(kind, problem, start, param2, index, p1, p2, throw, stability, kwargs):
    if not isinstance(problem, Problem):
        raise ValueError(
            f"`problem` must be a gru_bif.Problem; got {type(problem).__name__}."
        )
    param2 = resolve_param2(problem, param2)
    x, p1, p2 = _start_point(problem, start, param2, kind, index, p1, p2)
    dt = x.dtype
    p1 = jnp.asarray(p1, dt)
    p2 = jnp.asarray(p2, dt)
    d = x.shape[0]
    out = jax.eval_shape(lambda y: problem.F(y, problem.p), x)
    if out.shape != (d,):
        raise ValueError(
            f"The vector field returns shape {out.shape} for a state of shape ({d},); "
            "give the start state of the right length."
        )
    u0 = jnp.concatenate([x, p1[None], p2[None]])
    m = d if kind == "fold" else d * (d - 1) // 2
    if kind == "hopf" and d < 2:
        raise ValueError("A Hopf curve needs a state of dimension ≥ 2; this one has 1.")
    ones = jnp.ones((max(m, 1),), dt)
    if kind == "fold":
        base = FoldCurveProblem(problem, param2, jnp.zeros((2,), dt), ones, ones, d, stability)
    else:
        base = HopfCurveProblem(problem, param2, ones, ones, d, stability)
    ok, normal0, left0, right0 = _start_check(base, u0, kind)
    base = eqx.tree_at(lambda c: (c.left0, c.right0), base, (left0, right0))
    if kind == "fold":
        base = eqx.tree_at(lambda c: c.normal0, base, normal0)
    okc = concrete(ok)
    if okc is not None and not bool(okc):
        F = np.asarray(base.F(x, p1, p2))
        raise ValueError(
            f"{RESULTS[RESULTS.curve_start_not_special]} At x = {np.asarray(x)}, "
            f"p1 = {float(p1)}, p2 = {float(p2)}: max|F| = {np.max(np.abs(F)):.3g}."
        )
    kwargs.setdefault("direction", "both")
    branch = continuation(base, u0[:-1], u0[-1], throw=throw, **kwargs)
    if okc is None:  # traced: report a bad start as a result code
        result = RESULTS.where(ok, branch.result, RESULTS.curve_start_not_special)
        branch = eqx.tree_at(lambda b: b.result, branch, result)
    if kind == "hopf":
        branch = _with_l2(base, branch)
    return branch


@filter_jit
def _l2_at(cp, u):
    """`(l1, l2)` at a Hopf point `u = (x, p1, p2)` of the curve problem `cp`."""
    J = cp.jac_x(u)
    _, _, _, _, A, kappa = hopf_plane(J)
    omega = jnp.sqrt(jnp.abs(kappa))
    q, p = hopf_vectors(J, A, omega)
    return second_lyapunov(cp._Fx_at(u), u[: cp.dim], J, omega, q, p)


def _with_l2(cp, branch: Branch) -> Branch:
    """Fill `data["l2"]` at the Bautin points of a Hopf curve (Kuznetsov's formula with
    derivatives up to fifth order: compiled only when a Bautin point is present, or
    inside the caller's trace under `jit`/`vmap`)."""
    sp = branch.special
    # l2 is a constant (no implicit derivatives): the points may carry tangents
    U = jax.lax.stop_gradient(jnp.concatenate([sp.x, sp.p[:, None]], axis=1))
    is_ba = sp.kind == SpecialKind.BAUTIN
    kinds = concrete(sp.kind)
    if kinds is not None and np.ndim(kinds) == 1:
        if not np.any(kinds == int(SpecialKind.BAUTIN)):
            return branch
        l2 = np.full(kinds.shape, np.nan)
        for i in np.nonzero(kinds == int(SpecialKind.BAUTIN))[0]:
            l2[i] = float(_l2_at(stop_gradient_tree(cp), U[i])[1])
        l2 = jnp.asarray(l2, U.dtype)
    else:
        safe = jnp.where(is_ba[:, None] & jnp.isfinite(U), U, 0.0)
        _, l2 = jax.vmap(lambda u: _l2_at(stop_gradient_tree(cp), u))(safe)
        l2 = jnp.where(is_ba, l2, jnp.nan)
    data = dict(sp.data, l2=l2)
    return eqx.tree_at(lambda b: b.special.data, branch, data)


@filter_jit
def _start_check(cp, u0, kind):
    """Whether `u0` is (close to) a fold / Hopf point; the fold curve's normal in the
    parameter plane and the reference orientations of the borders (one small program:
    op by op it took 1.4 s of a first Hopf curve)."""
    x, p1, p2 = cp.split(u0)
    Fv = cp.F(x, p1, p2)
    J = cp.jac_x(u0)
    scale = jnp.maximum(1.0, jnp.max(jnp.abs(J)))
    M = J if kind == "fold" else bialternate(J)
    s, left0, right0 = smallest_singular(M)
    normal0 = None
    if kind == "fold":
        grad = jax.jacfwd(lambda pp: cp.F(x, pp[0], pp[1]))(jnp.stack([p1, p2]))
        n = left0 @ grad
        normal0 = n / jnp.maximum(jnp.linalg.norm(n), jnp.finfo(n.dtype).tiny)
    fscale = jnp.maximum(1.0, jnp.max(jnp.abs(x)))
    ok = (jnp.max(jnp.abs(Fv)) <= 1e-4 * fscale) & (s <= 1e-3 * scale)
    ok = ok & jnp.all(jnp.isfinite(u0))
    return ok, normal0, left0, right0


def fold_curve(
    problem: Problem,
    start,
    param2,
    *,
    index: "int | None" = None,
    p1=None,
    p2=None,
    p_min,
    p_max,
    stability: bool = True,
    throw: bool = True,
    **kwargs,
) -> Branch:
    """Continue a curve of folds in two parameters, detecting and locating cusp,
    Bogdanov–Takens and (d ≥ 3) zero-Hopf points.

    **Arguments:**

    - `problem`: a `gru_bif.Problem`; its `param` is the first parameter `p1`.
    - `start`: a `Branch` with a located fold (a one-parameter branch of `problem`; or a
        curve `Branch` with a `cusp`/`bt` point), or a state `x` of shape `(d,)` at a fold
        (then `p1`, `p2` give the parameter values, by default those in `problem.args`).
    - `param2`: the second parameter: a name (`"b2"`, `"bh[1]"`, `"Uh[0,1]"`) or an
        `AbstractParam`.
    - `index`: which special point of `start` (default: the first fold).
    - `p_min`, `p_max`: range of the second parameter; the curve stops when it leaves.
    - `stability`: count unstable eigenvalues along the curve (`branch.n_unstable`).
    - `throw`: as for `continuation`; under `jax.vmap` pass `throw=False` and read
        `branch.result` (a bad start gives `RESULTS.curve_start_not_special`).
    - `**kwargs`: passed on to `gru_bif.continuation` (`ds`, `ds_max`, `max_steps`,
        `direction` — default `"both"` —, `tol`, `max_special_points`, ...).

    **Returns:** a `Branch` whose rows are `(x, p1)` in `branch.x` and `p2` in `branch.p`;
    special points of kind `cusp`, `bt`, `zero_hopf` (and `branch_point` where the
    defining system is singular) with `data["p1"]` and their coefficients (see the
    module docstring).

    **Raises:** `ValueError` if the start is not a fold (`F` or `σ_min(F_x)` not small),
    or for bad names and shapes.

    !!! example

        ```python
        pr = gru_bif.Problem(cusp_field, {"b1": -1.0, "b2": 1.0}, "b1")
        br = gru_bif.continuation(pr, [1.2], -1.0, p_min=-2, p_max=2, ds=0.05)
        curve = fold_curve(pr, br, "b2", p_min=-1, p_max=2, ds=0.05)
        curve.special.to_list()   # a cusp at b1 = b2 = 0
        ```
    """
    return _curve("fold", problem, start, param2, index, p1, p2, throw, stability,
                  dict(kwargs, p_min=p_min, p_max=p_max))


def hopf_curve(
    problem: Problem,
    start,
    param2,
    *,
    index: "int | None" = None,
    p1=None,
    p2=None,
    p_min,
    p_max,
    stability: bool = True,
    throw: bool = True,
    **kwargs,
) -> Branch:
    """Continue a curve of Hopf points in two parameters (past a Bogdanov–Takens point
    it continues as the curve of neutral saddles), detecting and locating
    Bogdanov–Takens, Bautin and (d ≥ 3) zero-Hopf, (d ≥ 4) double-Hopf points.

    Arguments as for `fold_curve`; `start` is a `Branch` with a located Hopf point, or a
    curve `Branch` with a `bt` point (switching from a fold curve onto the Hopf curve at
    a Bogdanov–Takens point: the Hopf curve passes through it), or a state `x`.

    **Returns:** a `Branch` as for `fold_curve`, with special points `bt` (`a`, `b`),
    `bautin` (`omega`, `l1`, `l2`), `zero_hopf`, `double_hopf` (`omega`, `omega2`), all
    with `p1`. The frequency along the curve is `hopf_frequency(problem, param2, branch)`.

    **Raises:** `ValueError` if `d < 2` or the start is not a Hopf (or BT) point.
    """
    return _curve("hopf", problem, start, param2, index, p1, p2, throw, stability,
                  dict(kwargs, p_min=p_min, p_max=p_max))


def hopf_frequency(problem: Problem, param2, branch: Branch) -> Array:
    """`ω = √κ` at every point of a Hopf curve `branch` (NaN on its neutral-saddle part
    and in padding)."""
    param2 = resolve_param2(problem, param2)
    d = branch.x.shape[1] - 1
    m = jnp.ones((d * (d - 1) // 2,), branch.x.dtype)
    cp = HopfCurveProblem(problem, param2, m, m, d, False)
    U = jnp.concatenate([branch.x, branch.p[:, None]], axis=1)

    def one(u):
        ok = jnp.all(jnp.isfinite(u))
        J = cp.jac_x(jnp.where(ok, u, 0.0))
        kappa = hopf_plane(J)[-1]
        return jnp.where(ok & (kappa > 0), jnp.sqrt(jnp.where(kappa > 0, kappa, 1.0)), jnp.nan)

    return jax.vmap(one)(U)


def curve_parameters(branch: Branch) -> tuple[Array, Array]:
    """`(p1, p2)` along a fold/Hopf curve `branch` (NaN-padded)."""
    return branch.x[:, -1], branch.p


def bt_normal_form(problem: Problem, param2, branch: Branch, index: int) -> dict:
    """Everything known at a located Bogdanov–Takens point `branch.special[index]` of a
    fold or Hopf curve (host side): `x`, `p1`, `p2`, the coefficients `a`, `b` and the
    generalised eigenvectors `q0, q1` (`J q0 = 0`, `J q1 = q0`) and `p0, p1_vec`
    (`Jᵀ p1 = 0`, `Jᵀ p0 = p1`), normalised as in `gru_bif.bifurcations.codim2` — the
    data a homoclinic-curve predictor needs."""
    if int(branch.special.kind[index]) != SpecialKind.BT:
        raise ValueError(
            f"special point {index} is not a Bogdanov–Takens point (kind "
            f"{SpecialKind(int(branch.special.kind[index])).label})."
        )
    param2 = resolve_param2(problem, param2)
    xs = jnp.asarray(branch.special.x[index])
    d = xs.shape[0] - 1
    x, p1, p2 = xs[:d], xs[d], branch.special.p[index]
    if d < 2:
        raise ValueError("A Bogdanov–Takens point needs d ≥ 2.")
    m = jnp.ones((d * (d - 1) // 2,), xs.dtype)
    cp = HopfCurveProblem(problem, param2, m, m, d, False)
    u = jnp.concatenate([x, p1[None], p2[None]])
    J = cp.jac_x(u)
    a, b, q0, q1, p0, pp1 = bt_coefficients(cp._Fx_at(u), x, J)
    return {
        "x": np.asarray(x), "p1": float(p1), "p2": float(p2), "a": float(a), "b": float(b),
        "q0": np.asarray(q0), "q1": np.asarray(q1), "p0": np.asarray(p0),
        "p1_vec": np.asarray(pp1), "jacobian": np.asarray(J),
    }
