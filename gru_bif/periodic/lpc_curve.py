"""Curves of folds of cycles (limit-point-of-cycles, LPC) in two parameters, and the
switch onto such a curve at a Bautin (generalised Hopf) point.

**Defining system** (minimally augmented, Govaerts 2000; MatCont's LPC curves). Let
`R(y, p1, p2) = 0` be the collocation equations and the phase condition of
`gru_bif.periodic.CollocationProblem`, with `y = (nodes, T)` (`n_y = ntst ncol d + 1`
unknowns and as many equations). A cycle is a fold of cycles in `p1` exactly where the
square Jacobian `M = R_y` is singular (the trivial multiplier 1 turns double). The
curve is the zero set of

    R(y, p1, p2) = 0,    g(y, p1, p2) = 0,    [[M, b], [cᵀ, 0]] [v; g] = [0; 1],

`n_y + 1` equations in `u = (y, p1, p2)`. The engine sees `(y, p1)` as its state and
`p2` as its parameter (pseudo-arclength treats them alike, so the curve may turn in
either parameter): `branch.x[:, :-1]` holds the cycle `(nodes, T)`, `branch.x[:, -1]`
the first parameter and `branch.p` the second. The borders `b`, `c` are the left and
right singular vectors of the smallest singular value of `M` at the current point
(under `stop_gradient`, oriented against the start's, as in
`gru_bif.curves`).

**Derivatives of g.** With `[wᵀ, h] [[M, b], [cᵀ, 0]] = [0, 1]`, `dg = −wᵀ (dM) v`.
The residual returns `g` with exactly this first derivative (the bordered solves are
constants to autodiff, and `−wᵀ R_y(u) v` — one Jacobian-vector product — carries the
derivative), so the engine's dense Jacobian costs one second-order directional
derivative of `R` per column instead of differentiating an LU factorisation of the
`n_y × n_y` matrix. Second derivatives of the residual are therefore not exact (the
engine never takes them).

**Cost.** Each residual evaluation forms `M` densely (`jax.jacfwd`) and takes its SVD:
`O(n_y³)`, with `n_y = ntst ncol d + 1` (321 for the default 40 × 4 mesh in 2-D). Use a
coarser mesh (`ntst = 20`) when the cycles are smooth.

**Start at a Bautin point.** On the centre manifold, `ż = (β + iω) z + c₁ z|z|² +
c₂ z|z|⁴` with `Re c₁ = ω l₁`, `Re c₂ = ω l₂`, so `r' = r (β + ω l₁ r² + ω l₂ r⁴)`.
Cycles `ρ = r²` solve `β + ω l₁ ρ + ω l₂ ρ² = 0`; two of them collide at
`ρ* = −l₁/(2 l₂)` when `β = ω l₁²/(4 l₂)`. So a fold of cycles exists on the side of the
Bautin point along the Hopf curve where `l₁ l₂ < 0`, with root-mean-square amplitude
`a = √(2ρ*) = √(−l₁/l₂)`, at distance `β/β'` in `p1` from the Hopf point. `lpc_from_bautin`
picks that side (the sign of `l₁` on the neighbouring rows of the Hopf curve), a distance
`dp2` (from the wanted amplitude `a` and the slope of `l₁` along the curve), locates the
Hopf point there, continues cycles in `p1` from it through the fold of cycles, and starts
`lpc_curve` from the located fold.

**Not done here:** codim-2 points on the LPC curve (cusp of cycles, the Bautin end
point itself: the curve is meant to be continued away from it; the cycles shrink to a
point there and the collocation system degenerates), mesh adaptation along the curve.

**Derivatives.** Curve points carry implicit derivatives w.r.t. the problem's arguments
(`attach_points`): `(y, p1)` at fixed `p2` solve `R = 0`, `g = 0`, whose Jacobian in
`(y, p1)` is regular at a regular fold of cycles, so `dy = −[R_y R_p1; g_y g_p1]⁻¹ [R_θ;
g_θ] dθ` (`gru_bif.differentiate.equilibrium_points` on this residual; `g_θ = −wᵀ R_yθ v`
comes with `g`'s first derivative).
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._compile import filter_jit, jit
from .._custom_types import Array
from .._linalg import bordered_solve
from .._results import RESULTS
from .._util import stop_gradient_tree
from ..bifurcations.codim2 import hopf_plane, oriented_singular, smallest_singular
from ..branch import Branch, SpecialKind, coefficient_scale, is_degenerate
from ..continuation.api import continuation
from ..curves.base import AbstractCurveProblem, branch_point_genuine, resolve_param2
from ..problem import AbstractParam, Problem
from .collocation import CollocationProblem

_DATA_KEYS = ("p1", "period")


class LPCCurveProblem(AbstractCurveProblem):
    """A curve of folds of cycles of `cycle.problem` in `(problem.param, param2)`, as an
    `AbstractContinuationProblem` (see the module docstring). Usually built by
    `lpc_curve`.

    **Arguments:**

    - `cycle`: the `CollocationProblem` (mesh, `ncol`, phase reference) of the cycles;
        its `problem.param` is the first parameter `p1`.
    - `param2`: the second parameter, an `AbstractParam` of `cycle.problem.args`.
    - `left0`, `right0`: reference orientations of the borders (the singular vectors at
        the start).
    - `stability`: count unstable Floquet multipliers along the curve (one multiplier
        sits at 1 on the curve, so the count is only indicative).
    """

    cycle: CollocationProblem
    param2: AbstractParam = eqx.field(static=True)
    left0: Array
    right0: Array
    stability: bool = eqx.field(static=True, default=False)

    # ------------------------------------------------------------------ layout
    @property
    def n_y(self) -> int:
        """Number of cycle unknowns `(nodes, T)`: `ntst ncol d + 1`."""
        return self.cycle.num_nodes * self.cycle.dim + 1

    def cycle_at(self, p2) -> CollocationProblem:
        """The collocation problem with the second parameter set to `p2`."""
        pr = self.cycle.problem
        return eqx.tree_at(lambda c: c.problem.args, self.cycle, self.param2.set(pr.args, p2))

    def cycle_u(self, u):
        """`(nodes, T, p1)` of a curve point `u = (nodes, T, p1, p2)`: the unknowns of
        `cycle_at(p2)`."""
        return u[:-1]

    def _R(self, y, p1, p2):
        return self.cycle_at(p2).residual(jnp.concatenate([y, p1[None]]))

    def M(self, u):
        """`R_y`: the `(n_y, n_y)` Jacobian of the collocation equations and phase
        condition in `(nodes, T)`."""
        y, p1, p2 = self.split(u)
        return jax.jacfwd(lambda yy: self._R(yy, p1, p2))(y)

    def g(self, u):
        """The test function `g` (see the module docstring), with its exact first
        derivative in `u`."""
        us = jax.lax.stop_gradient(u)
        cp = stop_gradient_tree(self)
        Ms = cp.M(us)
        _, b, c = oriented_singular(Ms, cp.left0, cp.right0)
        g0, v, w, _ = bordered_solve(Ms, b, c)
        g0, v, w = jax.lax.stop_gradient((g0, v, w))
        y, p1, p2 = self.split(u)
        Mv = jax.jvp(lambda yy: self._R(yy, p1, p2), (y,), (v,))[1]
        s = -jnp.dot(w, Mv)
        return g0 + (s - jax.lax.stop_gradient(s))

    # ------------------------------------------------------------------ contract
    def residual(self, u):
        y, p1, p2 = self.split(u)
        return jnp.concatenate([self._R(y, p1, p2), self.g(u)[None]])

    @property
    def data_keys(self):
        return _DATA_KEYS

    @property
    def extra_kinds(self):
        return ()

    def extra_tests(self, u, Hu):
        return jnp.zeros((0,), u.dtype)

    def n_unstable(self, u, Hu):
        if not self.stability:
            return jnp.asarray(-1, jnp.int32)
        from .floquet import count_unstable_multipliers, multipliers_of

        u = jax.lax.stop_gradient(u)
        cp = stop_gradient_tree(self.cycle_at(u[-1]))
        mu = multipliers_of(cp.deflated_monodromy(self.cycle_u(u)))
        return count_unstable_multipliers(jnp.atleast_1d(mu), u.dtype)

    def attach_points(self, X):
        """Curve points `(nodes, T, p1, p2)` with implicit derivatives w.r.t. the
        problem's arguments at fixed `p2` (see the module docstring)."""
        from ..differentiate import equilibrium_points

        return equilibrium_points(self, X)

    def special_data(self, kind, u, Hu, t):
        u = jax.lax.stop_gradient(u)
        y, p1, _ = self.split(u)
        nan = jnp.full((), jnp.nan, u.dtype)
        valid = jnp.where(kind == SpecialKind.BRANCH_POINT, branch_point_genuine(Hu, t),
                          kind != SpecialKind.NONE)
        data = {"p1": p1, "period": jnp.where(kind != SpecialKind.NONE, y[-1], nan)}
        return valid, u, data


# --------------------------------------------------------------------------- front doors
@filter_jit
def _start_check(lp: LPCCurveProblem, u0):
    """`(max|R|, σ_min/σ_max of M, left, right)` at the start point."""
    y, p1, p2 = lp.split(u0)
    R = lp._R(y, p1, p2)
    M = lp.M(u0)
    s, left, right = smallest_singular(M)
    smax = jnp.linalg.norm(M, ord=2)
    return jnp.max(jnp.abs(R)), s / smax, left, right


def lpc_curve(
    cp: CollocationProblem,
    start,
    param2,
    *,
    index: "int | None" = None,
    p_min,
    p_max,
    stability: bool = False,
    throw: bool = True,
    start_tol: float = 1e-6,
    **kwargs,
) -> Branch:
    """Continue a curve of folds of cycles (LPC) in two parameters.

    **Arguments:**

    - `cp`: the `CollocationProblem` of the cycles; `cp.problem.param` is the first
        parameter `p1`, and the value of `param2` in `cp.problem.args` is the start's `p2`.
    - `start`: a cycle `Branch` of `cp` with a located `fold_cycle` point, or the
        unknowns `(nodes, T, p1)` of a fold of cycles (shape `(cp.size,)`).
    - `param2`: the second parameter: a name (`"b2"`, `"bh[1]"`) or an `AbstractParam`.
    - `index`: which special point of `start` (default: the first `fold_cycle`).
    - `p_min`, `p_max`: range of the second parameter; the curve stops when it leaves.
    - `stability`: count unstable multipliers along the curve (indicative only).
    - `throw`: as for `continuation`.
    - `start_tol`: the start must have `σ_min(M) ≤ start_tol σ_max(M)` (and a collocation
        residual below `start_tol`).
    - `**kwargs`: passed on to `gru_bif.continuation` (`ds`, `ds_max`, `max_steps`,
        `direction` — default `"both"` —, `tol`, ...).

    **Returns:** a `Branch` whose rows are `(nodes, T, p1)` in `branch.x` and `p2` in
    `branch.p` (`lpc_parameters(branch)` gives `(p1, p2)`; `branch.x[i]` are the
    unknowns `(nodes, T, p1)` of `cp`, so `cp.orbit(branch.x[i])` draws the fold cycle;
    for its multipliers use the problem at `p2`, `LPCCurveProblem.cycle_at(p2)`).
    Special points: only `branch_point` where the defining system is singular.

    **Raises:** `ValueError` if the start is not a fold of cycles, or for bad input.

    The start check runs on the host (concrete values), so `lpc_curve` itself is not
    meant to be traced (`jit`/`vmap`); the continuation inside it is compiled.
    """
    if not isinstance(cp, CollocationProblem):
        raise ValueError(
            f"`cp` must be a gru_bif.periodic.CollocationProblem; got {type(cp).__name__}."
        )
    param2 = resolve_param2(cp.problem, param2)
    if isinstance(start, Branch):
        sp = start.special
        n = int(sp.count)
        kinds = np.asarray(sp.kind)[:n]
        if index is None:
            cands = [i for i in range(n) if int(kinds[i]) == SpecialKind.FOLD_CYCLE]
            if not cands:
                raise ValueError(
                    "The branch has no `fold_cycle` point to start an LPC curve from; its "
                    f"special points are {[SpecialKind(int(k)).label for k in kinds]}. "
                    "Continue the cycles over a range that contains a fold of cycles."
                )
            index = cands[0]
        if not 0 <= index < n or int(kinds[index]) != SpecialKind.FOLD_CYCLE:
            raise ValueError(
                f"special point {index} is not a `fold_cycle` point (special points: "
                f"{[SpecialKind(int(k)).label for k in kinds]}); pick another `index`."
            )
        if sp.x.shape[-1] != cp.size - 1:
            raise ValueError(
                f"The branch's rows have length {sp.x.shape[-1]}, but `cp` has "
                f"{cp.size - 1} cycle unknowns: pass the problem the branch was computed "
                "with."
            )
        u = jnp.append(jnp.asarray(sp.x[index]), sp.p[index])
    else:
        u = jnp.asarray(start)
        if not jnp.issubdtype(u.dtype, jnp.floating):
            u = u.astype(jnp.result_type(float))
        if u.shape != (cp.size,):
            raise ValueError(
                f"start has shape {u.shape}; give a cycle Branch or the unknowns "
                f"(nodes, T, p1) of shape ({cp.size},)."
            )
    if not bool(jnp.all(jnp.isfinite(u))):
        raise ValueError("The start point contains NaN or inf.")
    dt = u.dtype
    p2 = jnp.asarray(param2.get(cp.problem.args), dt)
    u0 = jnp.append(u, p2)
    ones = jnp.ones((cp.num_nodes * cp.dim + 1,), dt)
    lp = LPCCurveProblem(cp, param2, ones, ones, bool(stability))
    res, ratio, left0, right0 = _start_check(lp, u0)
    if float(res) > start_tol or float(ratio) > start_tol:
        raise ValueError(
            f"{RESULTS[RESULTS.curve_start_not_special]} At p1 = {float(u[-1])}, "
            f"p2 = {float(p2)}: max|R| = {float(res):.3g}, σ_min/σ_max of the cycle "
            f"Jacobian = {float(ratio):.3g} (need ≤ {start_tol:g}): start from a located "
            "`fold_cycle` point."
        )
    lp = eqx.tree_at(lambda c: (c.left0, c.right0), lp, (left0, right0))
    kwargs.setdefault("direction", "both")
    return continuation(lp, u0[:-1], u0[-1], p_min=p_min, p_max=p_max, throw=throw,
                        stability=stability, **kwargs)


def lpc_parameters(branch: Branch) -> tuple[Array, Array]:
    """`(p1, p2)` along an LPC curve `branch` (NaN-padded)."""
    return branch.x[:, -1], branch.p


# --------------------------------------------------------------------------- Bautin
def _hopf_l1_rows(problem, param2, curve: Branch):
    """`l1` at every row of a Hopf curve (NaN where not a Hopf point / padding)."""
    from ..curves.equilibrium import HopfCurveProblem

    d = curve.x.shape[1] - 1
    m = jnp.ones((d * (d - 1) // 2,), curve.x.dtype)
    hp = HopfCurveProblem(problem, param2, m, m, d, False)
    U = jnp.concatenate([curve.x, curve.p[:, None]], axis=1)

    @jit
    def all_rows(U):
        def one(u):
            ok = jnp.all(jnp.isfinite(u))
            u = jnp.where(ok, u, 0.0)
            J = hp.jac_x(u)
            _, _, _, _, A, kappa = hopf_plane(J)
            l1, *_ = hp._l1(u, J, A, kappa)
            return jnp.where(ok, l1, jnp.nan)

        return jax.vmap(one)(U)

    return np.asarray(all_rows(U))


def lpc_from_bautin(
    problem: Problem,
    hopf_curve: Branch,
    index: "int | None",
    param2,
    *,
    p_min,
    p_max,
    amplitude: float = 0.1,
    dp2: "float | None" = None,
    ntst: int = 40,
    ncol: int = 4,
    cycle_steps: int = 200,
    **kwargs,
) -> tuple[CollocationProblem, Branch]:
    """Switch onto the curve of folds of cycles that emanates from a Bautin point of a
    Hopf curve, and continue it (see the module docstring).

    **Arguments:**

    - `problem`: the `gru_bif.Problem` of the Hopf curve (`problem.param` is `p1`).
    - `hopf_curve`: the Hopf curve `Branch` (from `gru_bif.curves.hopf_curve`)
        with a located `bautin` point (its `l2` is used).
    - `index`: which special point (default, `None`: the first `bautin` point).
    - `param2`: the curve's second parameter (the one `hopf_curve` was continued in).
    - `p_min`, `p_max`: range of `p2` for the LPC curve.
    - `amplitude`: root-mean-square amplitude (≈ radius) of the fold cycle to start
        from; sets `dp2 = |l2| amplitude² / |dl1/dp2|` (normal form, see above). Smaller
        stays closer to the normal form, larger gives a better conditioned cycle.
    - `dp2`: or the distance in `p2` from the Bautin point directly (its sign must be the
        side where `l1 l2 < 0`).
    - `ntst`, `ncol`: the collocation mesh.
    - `cycle_steps`: `max_steps` of the one-parameter cycle continuation that locates the
        first fold of cycles.
    - `**kwargs`: passed on to `lpc_curve` (`ds`, `max_steps`, `direction`, ...).

    **Returns:** `(cp, lpc)`: the `CollocationProblem` of the cycles (at the start's
    `p2`) and the LPC curve `Branch` (as `lpc_curve` returns it).

    **Raises:** `ValueError` if the point is not a Bautin point, if `l1` does not change
    sign along the curve there, if `dp2` is on the wrong side, or if no fold of cycles is
    found (try another `amplitude`).
    """
    from .start import cycle_from_hopf

    param2 = resolve_param2(problem, param2)
    sp = hopf_curve.special
    n = int(sp.count)
    kinds = np.asarray(sp.kind)[:n]
    if index is None:
        cands = [i for i in range(n) if int(kinds[i]) == SpecialKind.BAUTIN]
        if not cands:
            raise ValueError(
                "The Hopf curve has no `bautin` point; its special points are "
                f"{[SpecialKind(int(k)).label for k in kinds]}."
            )
        index = cands[0]
    if not 0 <= index < n or int(kinds[index]) != SpecialKind.BAUTIN:
        raise ValueError(
            f"special point {index} is not a `bautin` point (special points: "
            f"{[SpecialKind(int(k)).label for k in kinds]})."
        )
    if not (amplitude > 0 and math.isfinite(amplitude)):
        raise ValueError(f"amplitude={amplitude}; it must be positive and finite.")
    xs = np.asarray(sp.x[index])
    d = xs.shape[0] - 1
    xB, p1B, p2B = xs[:d], float(xs[d]), float(sp.p[index])
    l2 = float(sp.data["l2"][index])
    omega_b = float(sp.data["omega"][index]) if "omega" in sp.data else float("nan")
    if not math.isfinite(l2) or is_degenerate(
        l2, coefficient_scale("l2", {"omega": omega_b}), xs.dtype
    ):
        raise ValueError(f"The Bautin point has l2 = {l2}: it is degenerate.")

    # the side where l1 l2 < 0, from the neighbouring rows of the Hopf curve
    rows = int(hopf_curve.num_points)
    l1 = _hopf_l1_rows(problem, param2, hopf_curve)[:rows]
    X = np.asarray(hopf_curve.x)[:rows]
    P = np.asarray(hopf_curve.p)[:rows]
    good = np.isfinite(l1) & (np.abs(P - p2B) > 1e-12 * (1 + abs(p2B)))
    side = None
    for sgn in (1.0, -1.0):
        cand = np.nonzero(good & (np.sign(P - p2B) == sgn))[0]
        if cand.size:
            j = cand[np.argmin(np.abs(P[cand] - p2B))]
            if l1[j] * l2 < 0:
                side = (sgn, j)
                break
    if side is None:
        raise ValueError(
            "No side of the Bautin point along the Hopf curve has l1·l2 < 0 on the "
            "neighbouring rows; continue the Hopf curve across the Bautin point "
            "(direction='both') and retry."
        )
    sgn, j = side
    slope = l1[j] / (P[j] - p2B)
    if dp2 is None:
        dp2 = sgn * abs(l2) * amplitude**2 / abs(slope)
    elif not math.isfinite(dp2) or dp2 * sgn <= 0:
        raise ValueError(
            f"dp2={dp2}: the fold of cycles exists on the other side of the Bautin point "
            f"(where l1·l2 < 0); use a dp2 of sign {'+' if sgn > 0 else '-'}."
        )
    p2 = p2B + dp2
    # Hopf point at p2: predicted along the curve, then located on equilibria in p1
    frac = dp2 / (P[j] - p2B)
    xg = xB + frac * (X[j, :d] - xB)
    p1g = p1B + frac * (X[j, d] - p1B)
    pr2 = problem.with_args(param2.set(problem.args, jnp.asarray(p2, X.dtype)))
    width = 10 * abs(p1g - p1B) + 1e-3 * (1 + abs(p1g))
    eq = continuation(pr2, jnp.asarray(xg, X.dtype), p1g, p_min=p1g - width,
                      p_max=p1g + width, ds=width / 20, direction="both", max_steps=80)
    hs = eq.special.to_list()
    hopfs = [k for k, s in enumerate(hs) if s["kind"] == "hopf"]
    if not hopfs:
        raise ValueError(
            f"No Hopf point found at p2 = {p2} within p1 ∈ [{p1g - width}, "
            f"{p1g + width}]; try a smaller `amplitude` or `dp2`."
        )
    h = min(hopfs, key=lambda k: abs(hs[k]["p"] - p1g))
    l1h = float(hs[h]["l1"])
    omega = float(hs[h]["omega"])
    p1H = float(hs[h]["p"])
    # first cycle at a quarter of the LPC amplitude √(−l1/l2), on the side of small cycles
    a_lpc = math.sqrt(max(-l1h / l2, 0.0))
    if not a_lpc > 0:
        raise ValueError(
            f"At p2 = {p2} the Hopf point has l1 = {l1h}, of the same sign as l2 = {l2}: "
            "no fold of cycles near it; try a smaller `amplitude` or `dp2`."
        )
    a0 = a_lpc / 4
    cp, u0 = cycle_from_hopf(pr2, eq, h, amplitude=a0, ntst=ntst, ncol=ncol,
                             stability=False, detect=False)
    dp = float(u0[-1]) - p1H
    dbeta = -omega * l1h * a0**2 / (2 * dp)  # from cycle_from_hopf's amplitude relation
    delta = omega * l1h**2 / (4 * l2 * dbeta)  # p1_LPC − p1_H (normal form)
    lo, hi = sorted((p1H, p1H + 3 * delta))
    # arclength runs mostly along the nodes: the inner cycle grows from a0 to a_lpc,
    # i.e. by about √(nodes) (a_lpc − a0) in the engine's norm; ~10 steps for that
    ds = math.copysign(0.1 * a_lpc * math.sqrt(cp.num_nodes), delta)
    cycles = continuation(cp, u0[:-1], u0[-1], p_min=lo, p_max=hi, ds=ds,
                          ds_max=4 * abs(ds), max_steps=int(cycle_steps),
                          direction="forward", stability=False)
    cs = cycles.special.to_list()
    folds = [k for k, s in enumerate(cs) if s["kind"] == "fold_cycle" and s["located"]]
    if not folds:
        raise ValueError(
            f"No fold of cycles located on the cycles from the Hopf point at p1 = {p1H}, "
            f"p2 = {p2} (continued over p1 ∈ [{lo}, {hi}]; special points "
            f"{[s['kind'] for s in cs]}); try another `amplitude` or more `cycle_steps`."
        )
    kwargs.setdefault("direction", "both")
    lpc = lpc_curve(cp, cycles, param2, index=folds[0], p_min=p_min, p_max=p_max, **kwargs)
    return cp, lpc
