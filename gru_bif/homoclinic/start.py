"""Starting homoclinic orbits: from a long-period cycle, and from a Bogdanov–Takens point
by the normal-form predictor; the BT point itself and its normal form.

**Bogdanov–Takens normal form.** At a BT point `(x₀, α₀)` of `x' = F(x, α)`, `α ∈ R²`,
`A = F_x` has a double zero eigenvalue with a Jordan block: `A q₀ = 0`, `A q₁ = q₀`,
`Aᵀ p₁ = 0`, `Aᵀ p₀ = p₁`, normalised `p₀ᵀq₀ = p₁ᵀq₁ = 1`, `p₀ᵀq₁ = p₁ᵀq₀ = 0`. On the
centre manifold the system is smoothly equivalent to

    w₀' = w₁,   w₁' = β₁ + β₂ w₀ + a w₀² + b w₀ w₁,

`a = ½ p₁ᵀB(q₀, q₀)`, `b = p₀ᵀB(q₀, q₀) + p₁ᵀB(q₀, q₁)` (Kuznetsov, *Elements of Applied
Bifurcation Theory*, §8.7), with `x = x₀ + q₀w₀ + q₁w₁ + H₀₀₁₀β₁ + H₀₀₀₁β₂ + …` and
`α = α₀ + K₁₀β₁ + K₀₁β₂ + …`. The linear parts `(H, K)` solve the homological equation
at orders `β₂` (`A H₀₀₀₁ + J₁K₀₁ = 0`, with the solvability conditions of orders `w₀β₂`
and `w₁β₂`) and `β₁` (`A H₀₀₁₀ + J₁K₁₀ = q₁`, the condition of order `w₀β₁` and
`p₀ᵀH₀₀₁₀ = 0`; the remaining freedom moves `α` along the curve at order `β₁`, which
changes the predicted curve only at higher order) — `J₁ = F_α`, `B`, `A₁ = F_{xα}` by
autodiff (`bt_normal_form`).

**Homoclinic predictor.** Scaling `w₀ = (a/b²) X`, `t ↦ (a/b) t` gives `a = b = 1`; with
`β₂ = −ε² a²/b²`, the homoclinic orbit of the scaled form is, to leading order,
`X = ε² U(εs)`, `U(σ) = 6/5 − (21/10) sech²(√(7/5) σ/2)` around the saddle `U = 6/5`, and
the homoclinic curve is `β₁ = −(6/25) β₂² / a` (first-order predictor as in MatCont's
`init_BT_Hom`; Al-Hdaibat, Govaerts, Kuznetsov & Meijer, SIAM J. Appl. Dyn. Syst. 15,
2016).
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx

from .._custom_types import Array, Float
from ..bifurcations.codim2 import bt_coefficients
from ..branch import is_degenerate
from ..problem import AbstractParam, Param, Problem
from .bvp import HomoclinicProblem, homoclinic_problem


def _param(problem: Problem, param2) -> AbstractParam:
    if isinstance(param2, str):
        return Param.from_name(problem.args, param2)
    if not isinstance(param2, AbstractParam):
        raise ValueError(f"param2 must be a name or an AbstractParam; got {param2!r}.")
    return param2


def _field(problem, P2):
    def F(x, alpha):
        args = P2.set(problem.param.set(problem.args, alpha[0]), alpha[1])
        return problem.f(0.0, x, args)

    return F


def _char_coefficients(A):
    """Coefficients `c_k` of `det(λI − A) = λ^d + c_{d−1}λ^{d−1} + … + c_0` by
    Faddeev–LeVerrier (differentiable; small `d`). Returns `(c_0, c_1)`."""
    d = A.shape[0]
    eye = jnp.eye(d, dtype=A.dtype)
    M = jnp.zeros_like(A)
    c = jnp.ones((), A.dtype)
    cs = []
    for k in range(1, d + 1):
        M = A @ M + c * eye
        c = -jnp.trace(A @ M) / k
        cs.append(c)
    # cs[k-1] = c_{d-k}
    return cs[d - 1], cs[d - 2] if d >= 2 else jnp.zeros((), A.dtype)


class BTPoint(eqx.Module):
    """A located Bogdanov–Takens point: `x`, `p1`, `p2`, and `converged`."""

    x: Float[Array, " d"]
    p1: Float[Array, ""]
    p2: Float[Array, ""]
    converged: Array


def locate_bt(problem: Problem, param2, x, p1, p2, *, tol: float = 1e-12,
              max_steps: int = 50) -> BTPoint:
    """Locate a Bogdanov–Takens point from a guess: Newton (optimistix) on
    `F(x, p1, p2) = 0`, `det A = 0`, `c₁(A) = 0` (the two lowest coefficients of the
    characteristic polynomial vanish: a double zero eigenvalue), `A = F_x`.

    **Raises:** `ValueError` for `d < 2` or a non-finite guess.
    """
    P2 = _param(problem, param2)
    x = jnp.asarray(x, jnp.result_type(float))
    if x.ndim != 1 or x.shape[0] < 2:
        raise ValueError(f"x has shape {x.shape}; a BT point needs a state with d >= 2.")
    if not (np.all(np.isfinite(np.asarray(x))) and np.isfinite(p1) and np.isfinite(p2)):
        raise ValueError("The BT guess contains NaN or inf.")
    F = _field(problem, P2)
    d = x.shape[0]

    def G(z, _):
        xx, al = z[:d], z[d:]
        A = jax.jacfwd(F)(xx, al)
        c0, c1 = _char_coefficients(A)
        return jnp.concatenate([F(xx, al), jnp.stack([c0, c1])])

    z0 = jnp.concatenate([x, jnp.asarray([p1, p2], x.dtype)])
    sol = optx.root_find(G, optx.Newton(rtol=tol, atol=tol), z0, max_steps=max_steps,
                         throw=False)
    z = sol.value
    ok = (sol.result == optx.RESULTS.successful) & jnp.all(jnp.isfinite(z))
    return BTPoint(x=z[:d], p1=z[d], p2=z[d + 1], converged=ok)


class BTNormalForm(eqx.Module):
    """Bogdanov–Takens normal-form data (see the module docstring): `a`, `b`; the
    (generalised) eigenvectors `q0, q1, p0, p1`; the parameter map `K10, K01` (`(2,)`,
    in `(p1, p2)`) and the state shifts `H0010, H0001`."""

    x: Float[Array, " d"]
    alpha: Float[Array, " 2"]
    a: Float[Array, ""]
    b: Float[Array, ""]
    q0: Float[Array, " d"]
    q1: Float[Array, " d"]
    p0: Float[Array, " d"]
    p1: Float[Array, " d"]
    K10: Float[Array, " 2"]
    K01: Float[Array, " 2"]
    H0010: Float[Array, " d"]
    H0001: Float[Array, " d"]


def bt_normal_form(problem: Problem, param2, x, p1, p2) -> BTNormalForm:
    """The normal form of a (located) Bogdanov–Takens point `(x, p1, p2)`: `a`, `b` and
    the generalised eigenvectors as for the BT points of fold and Hopf curves
    (`gru_bif.bifurcations.codim2.bt_coefficients`, also behind `gru_bif.bt_normal_form`,
    which reads a curve's special point), and the parameter map `K` and state shifts `H`
    that a homoclinic predictor needs, by autodiff.

    **Raises:** `ValueError` if `F_x` is not (numerically) a double-zero Jordan block.
    """
    P2 = _param(problem, param2)
    F = _field(problem, P2)
    x = jnp.asarray(x, jnp.result_type(float))
    al = jnp.asarray([p1, p2], x.dtype)
    A = np.asarray(jax.jacfwd(F)(x, al))
    d = A.shape[0]
    scale = max(1.0, np.max(np.abs(A)))
    U, sv, Vt = np.linalg.svd(A)
    ev = np.linalg.eigvals(A)
    if sv[-1] > 1e-6 * scale or np.sort(np.abs(ev))[1] > 1e-4 * scale or (
            d >= 2 and sv[-2] < 1e-8 * scale):
        raise ValueError(
            f"F_x at the given point has eigenvalues {ev} and singular values {sv}: not a "
            "Bogdanov–Takens point (double zero eigenvalue with one Jordan block). Locate "
            "it first with `locate_bt`."
        )

    def B(u, v):
        return jax.jvp(lambda y: jax.jvp(lambda z: F(z, al), (y,), (u,))[1], (x,), (v,))[1]

    def A1(u, g):
        return jax.jvp(lambda a_: jax.jvp(lambda z: F(z, a_), (x,), (u,))[1], (al,), (g,))[1]

    # a, b and the generalised eigenvectors (q0 oriented so that a ≥ 0; |q0| = 1,
    # p1·q1 = p0·q0 = 1, p0·q1 = 0): the same computation as the BT points of curves
    a, b, q0j, q1j, p0j, p1j = bt_coefficients(lambda y: F(y, al), x, jnp.asarray(A))
    J1 = jax.jacfwd(lambda a_: F(x, a_))(al)
    eye_d, eye_2 = jnp.eye(d, dtype=x.dtype), jnp.eye(2, dtype=x.dtype)

    def lin(fun):
        """Matrix of a linear functional of z = (H, K) (columns by unit vectors)."""
        return jax.vmap(fun)(jnp.concatenate([jnp.concatenate([eye_d, jnp.zeros((d, 2))], 1),
                                              jnp.concatenate([jnp.zeros((2, d)), eye_2], 1)]))

    def c_q0(z):
        H, K = z[:d], z[d:]
        return p1j @ (B(q0j, H) + A1(q0j, K))

    def c_shift(z):
        H, K = z[:d], z[d:]
        return p0j @ (B(q0j, H) + A1(q0j, K)) + p1j @ (B(q1j, H) + A1(q1j, K))

    top = jnp.concatenate([jnp.asarray(A), J1], axis=1)
    M01 = jnp.concatenate([top, lin(c_q0)[None, :], lin(c_shift)[None, :]], axis=0)
    r01 = jnp.concatenate([jnp.zeros((d,)), jnp.asarray([1.0, 0.0])]).astype(x.dtype)
    z01 = jnp.linalg.solve(M01, r01)
    norm = jnp.concatenate([p0j, jnp.zeros((2,), x.dtype)])
    M10 = jnp.concatenate([top, lin(c_q0)[None, :], norm[None, :]], axis=0)
    r10 = jnp.concatenate([q1j, jnp.zeros((2,), x.dtype)])
    z10 = jnp.linalg.solve(M10, r10)
    return BTNormalForm(x=x, alpha=al, a=a, b=b, q0=q0j, q1=q1j, p0=p0j, p1=p1j,
                        K10=z10[d:], K01=z01[d:], H0010=z10[:d], H0001=z01[:d])


def _newton_equilibrium(F, x, iters: int = 30):
    for _ in range(iters):
        J = jax.jacfwd(F)(x)
        dx = jnp.linalg.solve(J, F(x))
        x = x - dx
        if float(jnp.max(jnp.abs(dx))) < 1e-13 * (1 + float(jnp.max(jnp.abs(x)))):
            break
    return x


def homoclinic_from_bt(problem: Problem, param2, bt, *, eps: float = 0.3,
                       T: "float | None" = None, sigma_T: float = 12.0, ntst: int = 60,
                       ncol: int = 4, floor: float = 0.3) -> tuple[HomoclinicProblem, Array]:
    """A homoclinic orbit guess near a Bogdanov–Takens point (first-order normal-form
    predictor, see the module docstring).

    **Arguments:** `problem` (its `param` is `p1`), `param2`; `bt`: a `BTNormalForm`, or
    a `BTPoint` / tuple `(x, p1, p2)` at a BT point (the normal form is then computed);
    `eps`: the distance along the curve (`β₂ = −ε² a²/b²`; the orbit's size is
    `O(ε²)`); `T`: the truncation time (default: `2 sigma_T / (ε |a/b|)`, i.e. the
    scaled orbit is cut at `|σ| = sigma_T`); `ntst`, `ncol`, `floor`: the mesh (see
    `homoclinic_problem`).

    **Returns:** `(hp, u0)` for `locate_homoclinic` or `gru_bif.continuation`.

    **Raises:** `ValueError` if `b = 0` or `a = 0` (a degenerate BT point) or `eps ≤ 0`.
    """
    P2 = _param(problem, param2)
    if not isinstance(bt, BTNormalForm):
        if isinstance(bt, BTPoint):
            x, p1, p2 = bt.x, bt.p1, bt.p2
        else:
            x, p1, p2 = bt
        bt = bt_normal_form(problem, P2, x, p1, p2)
    if not eps > 0:
        raise ValueError(f"eps={eps}; it must be positive (e.g. 0.1 to 0.5).")
    a, b = float(bt.a), float(bt.b)
    if is_degenerate(a, dtype=np.asarray(bt.a).dtype) or is_degenerate(
        b, dtype=np.asarray(bt.b).dtype
    ):
        raise ValueError(
            f"Degenerate Bogdanov–Takens point: a = {a:.3g}, b = {b:.3g}; the homoclinic "
            "predictor needs a ≠ 0 and b ≠ 0."
        )
    mu, kappa = a / b**2, a / b
    beta2 = -(eps**2) * a**2 / b**2
    beta1 = -(6.0 / 25.0) * beta2**2 / a
    alpha = bt.alpha + beta1 * bt.K10 + beta2 * bt.K01
    if T is None:
        T = 2 * sigma_T / (eps * abs(kappa))
    T = float(T)
    r7 = np.sqrt(7 / 5)
    x0 = bt.x + beta1 * bt.H0010 + beta2 * bt.H0001

    def orbit(s):
        sig = eps * kappa * (s - 0.5) * T
        sech2 = 1 / jnp.cosh(r7 * sig / 2) ** 2
        U = 6 / 5 - 2.1 * sech2
        dU = 2.1 * r7 * sech2 * jnp.tanh(r7 * sig / 2)
        w0 = mu * eps**2 * U
        w1 = mu * kappa * eps**3 * dU
        return x0 + w0[..., None] * bt.q0 + w1[..., None] * bt.q1

    F = _field(problem, P2)
    saddle = _newton_equilibrium(lambda x: F(x, alpha), x0 + mu * eps**2 * 1.2 * bt.q0)
    return homoclinic_problem(problem, P2, orbit, saddle, float(alpha[0]),
                              float(alpha[1]), T, ntst=ntst, ncol=ncol, floor=floor)


# --------------------------------------------------------------------------- from cycles
def _equilibrium_near(F, x, iters: int = 40):
    """Newton from `x` on `F = 0` (host loop); `(x_eq, converged)`."""
    x = jnp.asarray(x)
    for _ in range(iters):
        J = jax.jacfwd(F)(x)
        dx = jnp.linalg.lstsq(J, F(x))[0]
        x = x - dx
        if not bool(jnp.all(jnp.isfinite(x))):
            return x, False
        if float(jnp.max(jnp.abs(dx))) < 1e-12 * (1 + float(jnp.max(jnp.abs(x)))):
            return x, bool(jnp.max(jnp.abs(F(x))) < 1e-8)
    return x, bool(jnp.max(jnp.abs(F(x))) < 1e-8)


def _slowest_point(cp, u, n: int = 4000):
    """Phase `s*` and state of the slowest point of the cycle `u` of `cp`."""
    _, T, p = cp.split(jnp.asarray(u))
    s = jnp.linspace(0.0, 1.0, n, endpoint=False)
    xs = cp.evaluate(u, s)
    fs = jax.vmap(lambda x: cp.problem.F(x, p))(xs)
    i = int(jnp.argmin(jnp.linalg.norm(fs, axis=-1)))
    return float(s[i]), xs[i]


class CycleEnd(eqx.Module):
    """What a long-period cycle approaches (`classify_cycle_end`): `kind` (`"homoclinic"`:
    a hyperbolic saddle sits on the cycle; `"snic"`: a non-hyperbolic equilibrium with a
    zero eigenvalue — a fold of equilibria on the cycle; `"none"`), the equilibrium
    `x_eq`, its `eigenvalues`, the parameter `p`, the `period`, the `distance` from the
    cycle to the equilibrium relative to the cycle's size, and `saddle_quantity`."""

    kind: str = eqx.field(static=True)
    p: float = eqx.field(static=True)
    period: float = eqx.field(static=True)
    x_eq: Array
    eigenvalues: Array
    distance: float = eqx.field(static=True)
    saddle_quantity: float = eqx.field(static=True)


def classify_cycle_end(cp, u, *, zero_tol: float = 1e-2, near: float = 0.05,
                       ghost_tol: float = 0.05) -> CycleEnd:
    """Classify what a (long-period) cycle `u` of the collocation problem `cp` is close
    to. Newton from the slowest point of the cycle to an equilibrium:

    - it converges to an equilibrium within `near` × the cycle's diameter: a saddle
        homoclinic (`"homoclinic"`) when it is hyperbolic with stable and unstable
        eigenvalues; a SNIC (`"snic"`) when its eigenvalue closest to zero is below
        `zero_tol` × the largest modulus (a fold of equilibria on the cycle);
    - it does not converge, but the cycle almost stops there (slowest speed below
        `ghost_tol` × the fastest) and the Jacobian there has an eigenvalue near zero:
        the ghost of a saddle-node just past a SNIC (`"snic"`);
    - otherwise `"none"`.
    """
    u = jnp.asarray(u)
    _, T, p = cp.split(u)
    _, x_slow = _slowest_point(cp, u)
    F = lambda x: cp.problem.F(x, p)  # noqa: E731
    x_eq, ok = _equilibrium_near(F, x_slow)
    orbit = cp.evaluate(u, jnp.linspace(0.0, 1.0, 2000, endpoint=False))
    diam = float(jnp.max(jnp.linalg.norm(orbit - orbit.mean(0), axis=-1)))
    from .bvp import saddle_quantity

    if not ok:
        speeds = jnp.linalg.norm(jax.vmap(F)(orbit), axis=-1)
        ev = np.linalg.eigvals(np.asarray(jax.jacfwd(F)(x_slow)))
        scale = max(1.0, float(np.max(np.abs(ev))))
        ghost = float(jnp.min(speeds)) < ghost_tol * float(jnp.max(speeds))
        kind = "snic" if ghost and np.min(np.abs(ev)) < zero_tol * scale else "none"
        return CycleEnd(kind, float(p), float(T), x_slow, jnp.asarray(ev), 0.0,
                        float("nan"))
    dist = float(jnp.min(jnp.linalg.norm(orbit - x_eq, axis=-1))) / max(diam, 1e-300)
    ev = np.linalg.eigvals(np.asarray(jax.jacfwd(F)(x_eq)))
    re = ev.real
    scale = max(1.0, float(np.max(np.abs(ev))))
    sq = float(saddle_quantity(jnp.asarray(ev)))
    if dist > near:
        kind = "none"
    elif np.min(np.abs(ev)) < zero_tol * scale:
        kind = "snic"
    elif np.any(re > 0) and np.any(re < 0):
        kind = "homoclinic"
    else:
        kind = "none"
    return CycleEnd(kind, float(p), float(T), x_eq, jnp.asarray(ev), dist, sq)


def detect_homoclinic(cycles, *, growth: float = 1.5, **kwargs):
    """Detection on a cycle branch (a `gru_bif.periodic.CycleBranch`): if the period
    grows without bound — the largest period on the branch is at least `growth` times the
    smallest, and is reached at an end of the branch — classify what the cycle of longest
    period approaches (`classify_cycle_end`, keyword arguments passed on).

    **Returns:** `(points, end)`: `points` is a `gru_bif.SpecialPoints` with one entry of
    kind `HOMOCLINIC` (parameter, saddle, data `period` and `saddle_quantity`) when a
    saddle homoclinic is detected, none otherwise; `end` is the `CycleEnd` (also tells a
    SNIC apart) or `None` when the period does not grow.
    """
    from ..branch import SpecialKind, SpecialPoints

    d = cycles.problem.dim
    n = int(cycles.num_points)
    per = np.asarray(cycles.period[:n])
    end = None
    if n >= 2 and np.all(np.isfinite(per)):
        i = int(np.argmax(per))
        if per[i] >= growth * np.min(per) and i in (0, n - 1):
            end = classify_cycle_end(cycles.problem_at(i), cycles.u(i), **kwargs)
    K = 1
    hit = end is not None and end.kind == "homoclinic"
    nan = jnp.full((K,), jnp.nan)
    points = SpecialPoints(
        kind=jnp.asarray([int(SpecialKind.HOMOCLINIC) if hit else 0], jnp.int32),
        p=jnp.asarray([end.p if hit else np.nan]),
        x=jnp.asarray(end.x_eq if hit else np.full((d,), np.nan))[None, :],
        index=jnp.asarray([int(np.argmax(per)) if hit else -1], jnp.int32),
        precision=nan, located=jnp.asarray([False]),
        tangent=jnp.full((K, d + 1), jnp.nan),
        data={"period": jnp.asarray([end.period if hit else np.nan]),
              "saddle_quantity": jnp.asarray([end.saddle_quantity if hit else np.nan])},
        count=jnp.asarray(1 if hit else 0, jnp.int32))
    return points, end


def homoclinic_from_cycle(cp, u, param2, *, T: "float | None" = None, ntst: int = 60,
                          ncol: int = 4, floor: float = 0.3):
    """A homoclinic orbit guess from a long-period cycle `u` of the collocation problem
    `cp` (e.g. the last point of a cycle branch that approaches a saddle): the cycle is
    cut at its slowest point, which becomes both ends of the orbit; the saddle is the
    equilibrium found by Newton from there; `p1` is the cycle's parameter.

    **Arguments:** `param2`: the second parameter (fixed when locating); `T`: the
    truncation time (default: the cycle's period); `ntst`, `ncol`, `floor`: the mesh.

    **Returns:** `(hp, u0)`.

    **Raises:** `ValueError` if no equilibrium is found near the slowest point, or it is
    not a hyperbolic saddle (e.g. a SNIC: a fold of equilibria on the cycle).
    """
    u = jnp.asarray(u)
    _, period, p = cp.split(u)
    s0, x_slow = _slowest_point(cp, u)
    F = lambda x: cp.problem.F(x, p)  # noqa: E731
    x_eq, ok = _equilibrium_near(F, x_slow)
    if not ok:
        raise ValueError(
            "No equilibrium near the slowest point of this cycle: it is not close to a "
            "homoclinic orbit. Continue the cycles further (to a longer period)."
        )
    problem = cp.problem
    P2 = _param(problem, param2)
    T = float(period) if T is None else float(T)
    per = float(period)

    def orbit(s):
        # physical time centred on the excursion: the cut point at both ends
        tau = s0 + (jnp.clip((s - 0.5) * T / per, -0.5, 0.5) + 0.5)
        return cp.evaluate(u, tau % 1.0)

    return homoclinic_problem(problem, P2, orbit, np.asarray(x_eq), float(p),
                              float(P2.get(problem.args)), T, ntst=ntst, ncol=ncol,
                              floor=floor)
