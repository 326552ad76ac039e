"""Implicit derivatives of cycles (`gru_bif.periodic.differentiate`) against closed
forms and central finite differences.

Truth:

- Hopf normal form `r' = r (b1 + b2 r²)`, `θ' = ω` (`b2 < 0`): the cycle `r² = −b1/b2`,
    period `2π/ω`, non-trivial multiplier `exp(−2 b1 · 2π/ω)` (radial linearisation
    `b1 + 3 b2 r² = −2 b1`). So `dT/dω = −2π/ω²`, `d r/d b2 = r/(2|b2|)`,
    `d r/d b1 = 1/(2 √(−b1 b2))`, `dμ/dω = μ 4π b1/ω²`, `dμ/d b1 = −μ 4π/ω`.
- Bautin normal form `r' = r (b1 + b2 r² − r⁴)`: fold of cycles at `b1 = −b2²/4`, so
    `d b1/d b2 = −b2/2` at the located fold.
- The twisted 3-D cycle of test_periodic.py with `a = a0 + a1 p`, `κ = 1/2`: period
    doubling where `a = 0`, `p = −a0/a1`: `dp/da0 = −1/a1`, `dp/da1 = a0/a1²`.
- The 2-D GRU limit cycle (`U_h = 3R(π/6)`): period, extent and multiplier against
    central finite differences of re-corrected cycles in `U_h[0, 1]` and `b_z[1]`.
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gru_bif
from gru_bif.branch import SpecialKind
from gru_bif.periodic import (
    CollocationProblem,
    correct_cycle,
    cycle_amplitude,
    cycle_bifurcation_point,
    cycle_extrema,
    cycle_from_simulation,
    cycle_multipliers,
    cycle_period,
    node_times,
    uniform_mesh,
)

TWO_PI = 2 * math.pi


def radial_field(t, x, args):
    x1, x2 = x[0], x[1]
    rho = x1**2 + x2**2
    g = args["b1"] + args["b2"] * rho + args["b3"] * rho**2
    w = args["omega"]
    return jnp.stack([g * x1 - w * x2, w * x1 + g * x2])


def circle(ntst, ncol, r):
    t = np.asarray(node_times(uniform_mesh(ntst), ncol))
    return np.stack([r * np.cos(TWO_PI * t), r * np.sin(TWO_PI * t)], axis=1)


def with_args(cp, args):
    return eqx.tree_at(lambda c: c.problem.args, cp, args)


def test_hopf_normal_form_derivatives_closed_form():
    b1, b2, w = 0.3, -0.8, 1.3
    args = {"b1": b1, "b2": b2, "b3": 0.0, "omega": w}
    problem = gru_bif.Problem(radial_field, args, "b1")
    r = math.sqrt(-b1 / b2)
    nodes = circle(20, 4, r)
    cp = CollocationProblem(problem, nodes, ntst=20, ncol=4)
    u, _, ok = correct_cycle(cp, cp.pack(jnp.asarray(nodes), TWO_PI / w, b1))
    assert ok

    @jax.jit
    def quantities(a, p):
        c = with_args(cp, a)
        uu = u.at[-1].set(p)
        return jnp.stack([cycle_period(c, uu), cycle_amplitude(c, uu, 0),
                          cycle_multipliers(c, uu)[0].real])

    T, amp, mu = quantities(args, b1)
    assert abs(float(T) - TWO_PI / w) < 1e-10
    assert abs(float(amp) - r) < 1e-10
    mu_true = math.exp(-2 * b1 * TWO_PI / w)
    assert abs(float(mu) - mu_true) < 1e-10
    Ja, Jp = jax.jacfwd(quantities, argnums=(0, 1))(args, jnp.asarray(b1))
    assert abs(float(Ja["omega"][0]) + TWO_PI / w**2) < 1e-9
    assert abs(float(Ja["b2"][0])) < 1e-9  # the period does not depend on b2
    assert abs(float(Ja["b2"][1]) - r / (2 * abs(b2))) < 1e-8
    assert abs(float(Jp[1]) - 1 / (2 * math.sqrt(-b1 * b2))) < 1e-8
    assert abs(float(Ja["omega"][2]) - mu_true * 2 * TWO_PI * b1 / w**2) < 1e-9
    assert abs(float(Jp[2]) + mu_true * 2 * TWO_PI / w) < 1e-8
    # `b1` is the continuation parameter: its value in args is overridden by u[-1]
    assert float(Ja["b1"][0]) == 0.0
    # reverse mode agrees with forward mode
    g = jax.grad(lambda a: quantities(a, b1)[1])(args)
    assert abs(float(g["b2"]) - float(Ja["b2"][1])) < 1e-12


def test_bautin_fold_of_cycles_derivative():
    """The located fold of cycles moves with b2 as b1 = −b2²/4."""
    b2 = 0.5
    args = {"b1": -0.06, "b2": b2, "b3": -1.0, "omega": 1.0}
    problem = gru_bif.Problem(radial_field, args, "b1")
    r = math.sqrt(b2 / 2)
    nodes = circle(10, 4, r)
    cp = CollocationProblem(problem, nodes, ntst=10, ncol=4)
    u0 = cp.pack(jnp.asarray(nodes), TWO_PI, -(b2**2) / 4 + 1e-4)

    # the function returns the point it is given, with derivatives: locate it first
    u_fold = _fold_newton(cp, u0)
    assert abs(float(u_fold[-1]) + b2**2 / 4) < 1e-9

    def fold_p(a):
        return cycle_bifurcation_point(with_args(cp, a), u_fold, "fold_cycle")[-1]

    d = jax.jit(jax.grad(fold_p))(args)
    assert abs(float(d["b2"]) + b2 / 2) < 1e-7


def _fold_newton(cp, u0):
    """Newton on [H(u); det-free fold condition] written here: the fold of cycles is
    where H_(orbit,T) is singular; solve [H; σ] = 0 with σ the smallest singular value
    sign-fixed by the bordered determinant (as in the library, but iterated here)."""
    from gru_bif.periodic.differentiate import _fold_borders

    u = u0
    for _ in range(12):
        psi, phi = _fold_borders(cp, u)

        def G(uu):
            J = jax.jacfwd(cp.residual)(uu)[:, :-1]
            n = J.shape[0]
            A = jnp.block([[J, psi[:, None]], [phi[None, :], jnp.zeros((1, 1))]])
            g = jnp.linalg.solve(A, jnp.zeros(n + 1).at[-1].set(1.0))[-1]
            return jnp.append(cp.residual(uu), g)

        du = jnp.linalg.solve(jax.jacfwd(G)(u), G(u))
        u = u - du
        if float(jnp.max(jnp.abs(du))) < 1e-12:
            break
    return u


def twisted_field(t, X, args):
    x, y, z = X[0], X[1], X[2]
    r = jnp.sqrt(x**2 + y**2)
    c, s = x / r, y / r
    p = args["p"]
    a = args["a0"] + args["a1"] * p
    b = args["b0"] + args["b1"] * p
    k = args["kappa"]
    u, v = r - 1.0, z
    m, d = (a + b) / 2, (a - b) / 2
    du = (m + d * c) * u + d * s * v - k * v
    dv = d * s * u + (m - d * c) * v + k * u
    return jnp.stack([du * c - r * s, du * s + r * c, dv])


def test_period_doubling_point_derivative():
    a0, a1 = 0.02, 0.5
    p_pd = -a0 / a1
    args = {"p": p_pd, "a0": a0, "a1": a1, "b0": -1.0, "b1": 0.0, "kappa": 0.5}
    problem = gru_bif.Problem(twisted_field, args, "p")
    t = np.asarray(node_times(uniform_mesh(12), 4))
    nodes = np.stack([np.cos(TWO_PI * t), np.sin(TWO_PI * t), 0 * t], axis=1)
    cp = CollocationProblem(problem, nodes, ntst=12, ncol=4)
    u, _, ok = correct_cycle(cp, cp.pack(jnp.asarray(nodes), TWO_PI, p_pd))
    assert ok

    @jax.jit
    def pd(a):
        uu = cycle_bifurcation_point(with_args(cp, a), u, SpecialKind.PERIOD_DOUBLING)
        return uu[-1], cycle_multipliers(with_args(cp, a), uu)

    p, mu = pd(args)
    assert abs(float(p) - p_pd) < 1e-12
    assert np.min(np.abs(np.asarray(mu) + 1)) < 1e-9
    J = jax.jacfwd(lambda a: pd(a)[0])(args)
    assert abs(float(J["a0"]) + 1 / a1) < 1e-8
    assert abs(float(J["a1"]) - a0 / a1**2) < 1e-8
    with pytest.raises(ValueError, match="use 'fold_cycle'"):
        cycle_bifurcation_point(cp, u, SpecialKind.HOPF)


def test_gru_cycle_derivatives_against_finite_differences():
    gru, _ = gru_bif.examples.limit_cycle()
    problem = gru_bif.Problem.from_gru(gru, "bh[0]")
    cp, u0 = cycle_from_simulation(problem, jnp.array([0.1, 0.0]), 200.0,
                                   max_period=60.0, ntst=30)
    u, _, ok = correct_cycle(cp, u0, tol=1e-13)
    assert ok

    @jax.jit
    def quantities(g):
        c = eqx.tree_at(lambda c: c.problem.args["gru"], cp, g)
        lo, hi = cycle_extrema(c, u, 1)
        return jnp.stack([cycle_period(c, u), hi, lo, cycle_multipliers(c, u)[0].real])

    J = jax.jacfwd(quantities)(gru)

    @jax.jit
    def recorrect(g):
        c = eqx.tree_at(lambda c: c.problem.args["gru"], cp, g)
        uu, _, ok = correct_cycle(c, u, tol=1e-13)
        lo, hi = cycle_extrema(c, uu, 1)
        mu = gru_bif.periodic.nontrivial_multipliers(c, uu)[0].real
        return jnp.stack([uu[-2], hi, lo, mu]), ok

    h = 1e-5
    for leaf, idx in ((lambda g: g.Uh, (0, 1)), (lambda g: g.bz, (1,))):
        def shifted(s):
            return eqx.tree_at(leaf, gru, leaf(gru).at[idx].add(s))

        (qp, okp), (qm, okm) = recorrect(shifted(h)), recorrect(shifted(-h))
        assert okp and okm
        fd = (np.asarray(qp) - np.asarray(qm)) / (2 * h)
        ad = np.asarray(leaf(J))[(slice(None),) + idx]
        np.testing.assert_allclose(ad, fd, rtol=1e-6, atol=1e-9)
