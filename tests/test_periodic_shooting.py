"""Multiple shooting (`ShootingProblem`) against collocation and closed forms, and a
period doubling of the Rössler system located by both against an independent
reference written here.

Truth:

- Hopf normal form `r' = r (b1 − r²)`, `θ' = ω`: the circle `r² = b1`, period `2π/ω`,
    non-trivial multiplier `exp(−2 b1 · 2π/ω)`.
- The 2-D GRU limit cycle (`U_h = 3R(π/6)`): collocation's period and multiplier (two
    independent discretisations must agree to 1e-8), and the monodromy matrix from
    Diffrax's variational equation (`monodromy_by_integration`).
- Rössler (`a = b = 0.2`): the first period doubling near `c = 2.8324`. Reference: a
    secant search on `c` for `μ(c) = −1`, where at each `c` the cycle is found by simple
    shooting written here (Newton on `φ_T(x0) − x0` and a Poincaré section, derivatives
    by forward mode through Diffrax) and `μ` is the smallest eigenvalue of the monodromy
    matrix of the variational equation.
"""

import math

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gru_bif
from gru_bif.branch import SpecialKind
from gru_bif.models import ROSSLER_PARAMS, rossler_field
from gru_bif.periodic import (
    CollocationProblem,
    ShootingProblem,
    correct_cycle,
    cycle_from_simulation,
    monodromy_by_integration,
    node_times,
    nontrivial_multipliers,
    shooting_from_collocation,
    shooting_multipliers,
    uniform_mesh,
)

TWO_PI = 2 * math.pi


def radial_field(t, x, args):
    x1, x2 = x[0], x[1]
    rho = x1**2 + x2**2
    g = args["b1"] + args["b2"] * rho
    w = args["omega"]
    return jnp.stack([g * x1 - w * x2, w * x1 + g * x2])


@pytest.fixture(scope="module")
def gru_cycle():
    gru, _ = gru_bif.examples.limit_cycle()
    problem = gru_bif.Problem.from_gru(gru, "bh[0]")
    cp, u0 = cycle_from_simulation(problem, jnp.array([0.1, 0.0]), 200.0, max_period=60.0)
    u, _, ok = correct_cycle(cp, u0)
    assert ok
    return cp, u


def test_gru_shooting_agrees_with_collocation(gru_cycle):
    cp, u = gru_cycle
    segments = 3
    sp, s0 = shooting_from_collocation(cp, u, segments=segments)
    assert sp.size == segments * 2 + 2
    s, _, ok = correct_cycle(sp, s0)
    assert ok
    assert abs(float(s[-2] - u[-2])) < 1e-8
    mu_s = np.asarray(shooting_multipliers(sp, s))
    mu_c = np.asarray(nontrivial_multipliers(cp, u))
    assert abs(mu_s[0] - mu_c[0]) < 1e-8 and 0 < mu_s[0].real < 1
    X, T, p = sp.split(s)
    M_int = np.asarray(monodromy_by_integration(sp.problem, X[0], T, p))
    # the monodromy from the engine's Jacobian blocks (as in the continuation loop)
    M_blocks = np.asarray(
        jax.jit(lambda v: sp._monodromy_from_jacobian(jax.jacfwd(sp.residual)(v)))(s)
    )
    assert np.max(np.abs(M_blocks - M_int)) < 1e-8
    # the orbit closes and passes through every segment start
    ts, xs = sp.orbit(s, 7)
    assert abs(float(ts[-1]) - float(T)) < 1e-14
    np.testing.assert_allclose(xs[-1], X[0], atol=1e-9)


def hopf_shooting(segments):
    omega = 1.3
    args = {"b1": 0.3, "b2": -1.0, "omega": omega}
    problem = gru_bif.Problem(radial_field, args, "b1")
    r = math.sqrt(0.3)
    phase = np.arange(segments) / segments
    starts = np.stack([r * np.cos(TWO_PI * phase), r * np.sin(TWO_PI * phase)], axis=1)
    return problem, omega, r, ShootingProblem(problem, starts), starts


def test_hopf_simple_shooting_closed_form():
    problem, omega, r, sp, starts = hopf_shooting(1)
    s, _, ok = correct_cycle(sp, sp.pack(jnp.asarray(starts) * 1.01, 4.9, 0.3))
    assert ok
    assert abs(float(s[-2]) - TWO_PI / omega) < 1e-10
    X, _, _ = sp.split(s)
    np.testing.assert_allclose(np.linalg.norm(np.asarray(X), axis=1), r, atol=1e-10)
    mu = np.asarray(shooting_multipliers(sp, s))
    assert abs(mu[0] - math.exp(-2 * 0.3 * TWO_PI / omega)) < 1e-10
    # collocation on the same cycle: the same period
    t = np.asarray(node_times(uniform_mesh(20), 4))
    nodes = np.stack([r * np.cos(TWO_PI * t), r * np.sin(TWO_PI * t)], axis=1)
    cp = CollocationProblem(problem, nodes, ntst=20, ncol=4)
    u, _, ok = correct_cycle(cp, cp.pack(jnp.asarray(nodes), TWO_PI / omega, 0.3))
    assert ok and abs(float(u[-2] - s[-2])) < 1e-10


@pytest.mark.slow
def test_hopf_shooting_continuation():
    """The shooting problem on the continuation engine: radius √b1, period 2π/ω."""
    problem, omega, r, sp, starts = hopf_shooting(2)
    s, _, ok = correct_cycle(sp, sp.pack(jnp.asarray(starts), 4.9, 0.3))
    assert ok
    branch = gru_bif.continuation(sp, s[:-1], s[-1], p_min=0.3, p_max=0.6, ds=0.1,
                                  max_steps=6, direction="forward")
    n = int(branch.num_points)
    assert n >= 3 and bool(branch.stable[:n].all())
    Xs, Ts, ps = sp.split(jnp.concatenate([branch.x[:n], branch.p[:n, None]], axis=1))
    np.testing.assert_allclose(np.asarray(Ts), TWO_PI / omega, atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(np.asarray(Xs), axis=-1),
                               np.sqrt(np.asarray(ps))[:, None] * np.ones((1, 2)),
                               atol=1e-9)


def test_shooting_bad_input(gru_cycle):
    cp, u = gru_cycle
    with pytest.raises(ValueError, match=r"\(segments, d\)"):
        ShootingProblem(cp.problem, jnp.zeros((3,)))
    with pytest.raises(ValueError, match="d >= 2"):
        ShootingProblem(cp.problem, jnp.zeros((3, 1)))
    with pytest.raises(ValueError, match="mesh must increase"):
        ShootingProblem(cp.problem, jnp.zeros((2, 2)), mesh=jnp.array([0.0, 0.7, 0.5]))
    with pytest.raises(ValueError, match="NaN"):
        ShootingProblem(cp.problem, jnp.full((2, 2), jnp.nan))
    with pytest.raises(ValueError, match="segments=0"):
        shooting_from_collocation(cp, u, segments=0)


# --------------------------------------------------------------------------- Rössler
def _reference_mu(c_values, x0, T0):
    """For each `c`: the cycle by simple shooting written here, then the smallest real
    Floquet multiplier of its integrated monodromy matrix."""
    args0 = dict(ROSSLER_PARAMS)
    f_ref = np.asarray(rossler_field(0.0, x0, {**args0, "c": c_values[0]}))

    @jax.jit
    def cycle(c, y):
        args = {**args0, "c": c}

        def G(y):
            sol = diffrax.diffeqsolve(
                diffrax.ODETerm(rossler_field), diffrax.Dopri8(), 0.0, y[3], None, y[:3],
                args, stepsize_controller=diffrax.PIDController(rtol=1e-13, atol=1e-13),
                adjoint=diffrax.ForwardMode(), max_steps=100_000,
            )
            return jnp.concatenate([sol.ys[-1] - y[:3], jnp.dot(f_ref, y[:3] - x0)[None]])

        def body(_, y):
            return y - jnp.linalg.solve(jax.jacfwd(G)(y), G(y))

        y = jax.lax.fori_loop(0, 8, body, y)
        return y, jnp.max(jnp.abs(G(y)))

    y = jnp.append(x0, T0)
    out = []
    for c in c_values:
        y, res = cycle(c, y)
        assert float(res) < 1e-10
        problem = gru_bif.Problem(rossler_field, {**args0, "c": c}, "c")
        M = np.asarray(monodromy_by_integration(problem, y[:3], y[3], c))
        out.append(float(np.min(np.linalg.eigvals(M).real)))
    return out, y


@pytest.mark.slow
def test_rossler_period_doubling_collocation_and_shooting():
    problem = gru_bif.Problem(rossler_field, {**ROSSLER_PARAMS, "c": 2.7}, "c")
    cp, u0 = cycle_from_simulation(problem, jnp.array([1.0, 1.0, 0.0]), 300.0,
                                   max_period=20.0, ntst=30)
    u, _, ok = correct_cycle(cp, u0)
    assert ok
    branch = gru_bif.continuation(cp, u[:-1], u[-1], p_min=2.7, p_max=2.95, ds=0.05,
                                  max_steps=20, direction="forward")
    sp_ = branch.special
    kinds = np.asarray(sp_.kind)[: int(sp_.count)]
    (k,) = np.nonzero(kinds == SpecialKind.PERIOD_DOUBLING)[0]
    c_pd = float(sp_.p[k])
    assert bool(sp_.located[k])
    assert abs(float(sp_.data["mu_re"][k]) + 1) < 1e-8
    assert abs(c_pd - 2.8324) < 1e-3
    # independent reference: secant on μ(c) + 1 = 0 with integrated monodromy matrices
    u_pd = jnp.append(sp_.x[k], sp_.p[k])
    X, T, _ = cp.split(u_pd)
    cs = [c_pd - 2e-3, c_pd + 2e-3]
    mus, y = _reference_mu(cs, X[0], T)
    for _ in range(4):
        c_new = cs[-1] - (mus[-1] + 1) * (cs[-1] - cs[-2]) / (mus[-1] - mus[-2])
        m_new, y = _reference_mu([c_new], y[:3], y[3])
        cs.append(c_new)
        mus.append(m_new[0])
    assert abs(mus[-1] + 1) < 1e-9
    assert abs(c_pd - cs[-1]) < 1e-7
    assert abs(float(T) - float(y[3])) < 1e-7
    # shooting at the located point: the multiplier −1 again
    sp, s0 = shooting_from_collocation(cp, u_pd, segments=2)
    s, _, ok = correct_cycle(sp, s0)
    assert ok and abs(float(s[-2] - T)) < 1e-8
    mu = np.asarray(shooting_multipliers(sp, s))
    assert np.min(np.abs(mu + 1)) < 1e-7
    # shooting continuation detects the same period doubling
    sb = gru_bif.continuation(sp, s[:-1], c_pd - 0.02, p_min=c_pd - 0.03,
                              p_max=c_pd + 0.03, ds=0.02, max_steps=6,
                              direction="forward")
    kinds = np.asarray(sb.special.kind)[: int(sb.special.count)]
    (k,) = np.nonzero(kinds == SpecialKind.PERIOD_DOUBLING)[0]
    assert abs(float(sb.special.p[k]) - c_pd) < 1e-7
