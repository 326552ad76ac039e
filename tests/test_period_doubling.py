"""Period doubling: branch switching onto the doubled cycle and cascades
(`gru_bif.periodic.doubling`).

Truth:

- A Möbius-band cycle with an exact period doubling (`mobius_field`): the unit circle
  `r = 1, z = 0` with `θ' = ω`; in the normal plane `q = (r − 1, z)`, in a frame that
  turns by `θ/2` (half a turn per revolution), `a' = μ a − a³`, `b' = −b`. The
  multipliers are `−e^{μT}` and `−e^{−T}` (`T = 2π/ω`): a period doubling at `μ = 0`
  exactly, and for `μ > 0` the doubled cycle `q = √μ n(θ)` (`n` the frame's first
  axis) has period `2T` exactly and `max z = √μ`.
- Rössler (`a = b = 0.2`) in `c`: the cascade 2.8324, 3.8374, 4.1242, 4.186 (Feigenbaum
  ratios 3.50, ~4.6, → 4.669). Reference: Newton on the period-doubling shooting system
  with Dopri8 at `rtol = atol = 1e-12` (`tests/pd_reference.py`), from the collocation
  result as the starting guess only.
"""

import math

import jax.numpy as jnp
import numpy as np
import pytest

import gru_bif
from gru_bif.branch import SpecialKind
from gru_bif.models import ROSSLER_PARAMS, rossler_field
from gru_bif.periodic import (
    CollocationProblem,
    CycleBranch,
    correct_cycle,
    cycle_from_simulation,
    node_times,
    nontrivial_multipliers,
    pd_eigenfunction,
    period_doubling_cascade,
    switch_period_doubling,
    FEIGENBAUM_DELTA,
)

from pd_reference import shooting_period_doubling

OMEGA = 1.0


def mobius_field(t, x, args):
    mu = args["mu"]
    r = jnp.sqrt(x[0] ** 2 + x[1] ** 2)
    c, s = x[0] / r, x[1] / r
    q = jnp.stack([r - 1.0, x[2]])
    P = jnp.array([[(1 + c) / 2, s / 2], [s / 2, (1 - c) / 2]])  # n nᵀ, n = e^{iθ/2}
    Pq = P @ q
    Jq = jnp.stack([-q[1], q[0]])
    dq = (mu - q @ Pq) * Pq - (q - Pq) + OMEGA / 2 * Jq
    return jnp.stack([dq[0] * c - r * OMEGA * s, dq[0] * s + r * OMEGA * c, dq[1]])


@pytest.fixture(scope="module")
def mobius():
    problem = gru_bif.Problem(mobius_field, {"mu": -0.1}, "mu")
    cp0 = CollocationProblem(problem, jnp.zeros((20 * 4, 3)), ntst=20)
    tt = 2 * math.pi * node_times(cp0.mesh, 4)
    X = jnp.stack([jnp.cos(tt), jnp.sin(tt), 0 * tt], axis=1)
    cp = CollocationProblem(problem, X, ntst=20)
    u, _, ok = correct_cycle(cp, cp.pack(X, 2 * math.pi / OMEGA, -0.1))
    assert ok
    return cp, u


def test_mobius_exact_period_doubling_and_switch(mobius):
    cp, u = mobius
    br = gru_bif.continuation(cp, u[:-1], u[-1], p_min=-0.1, p_max=0.1, ds=0.05,
                              max_steps=10)
    kinds = np.asarray(br.special.kind)[: int(br.special.count)]
    (k,) = np.nonzero(kinds == SpecialKind.PERIOD_DOUBLING)[0]
    assert abs(float(br.special.p[k])) < 1e-9
    # the eigenfunction: v(T) = −v(0), along the Möbius axis n(θ) of the normal plane
    u_pd = jnp.append(br.special.x[k], br.special.p[k])
    V, mu = pd_eigenfunction(cp, u_pd)
    assert abs(mu + 1) < 1e-9
    # switch: the doubled cycle, period 2T exactly, max z = √μ
    cp2, u2 = switch_period_doubling(cp, br, int(k), amplitude=0.05)
    assert cp2.ntst == 2 * cp.ntst
    X2, T2, p2 = cp2.split(u2)
    assert float(p2) > 0
    assert abs(float(T2) - 4 * math.pi / OMEGA) < 1e-10
    view = CycleBranch(cp2, gru_bif.continuation(cp2, u2[:-1], u2[-1], p_min=0.0,
                                                 p_max=0.05, ds=0.01, max_steps=8))
    n = len(view)
    ps = np.asarray(view.p[:n])
    assert ps[-1] == pytest.approx(0.05, abs=1e-12)
    np.testing.assert_allclose(np.asarray(view.period[:n]), 4 * math.pi, atol=1e-9)
    np.testing.assert_allclose(np.asarray(view.x_max[:n, 2]), np.sqrt(ps), rtol=1e-6)
    # the doubled cycle is stable (its multipliers e^{−2μT}, e^{−2T})
    mu2 = np.asarray(nontrivial_multipliers(view.problem_at(n - 1), view.u(n - 1)))
    np.testing.assert_allclose(np.sort(np.abs(mu2)),
                               np.sort([math.exp(-4 * math.pi * 0.05),
                                        math.exp(-4 * math.pi)]), rtol=1e-6, atol=1e-12)


def test_mobius_cascade_one_level(mobius):
    cp, u = mobius
    res = period_doubling_cascade(cp, u, levels=1, p_min=-0.1, p_max=0.1, ds=0.05)
    assert res.levels == 1 and res.stop_reason == ""
    assert abs(res.p[0]) < 1e-10
    assert res.period[0] == pytest.approx(2 * math.pi, abs=1e-10)
    assert abs(res.multipliers[0] + 1) < 1e-9
    assert res.delta.shape == (0,)
    with pytest.raises(ValueError, match="period_doubling"):
        # row 0 of the start is no PD point: no multiplier near −1
        switch_period_doubling(cp, u, refine=False)


def _rossler_start(ntst):
    problem = gru_bif.Problem(rossler_field, {**ROSSLER_PARAMS, "c": 2.5}, "c")
    cp, u0 = cycle_from_simulation(problem, jnp.array([1.0, 1.0, 0.0]), 300.0,
                                   max_period=20.0, ntst=ntst)
    u, _, ok = correct_cycle(cp, u0)
    assert ok
    return cp, u


def _check_against_shooting(res, k, tol_p, tol_T):
    cp, u = res.problems[k], res.points[k]
    X, T, p = cp.split(u)
    _, Ts, ps, r, mus = shooting_period_doubling(
        rossler_field, dict(ROSSLER_PARAMS), "c", X[0], T, p)
    assert r < 1e-9
    assert np.min(np.abs(mus + 1)) < 1e-8
    assert abs(float(p) - ps) < tol_p, (k, float(p), ps)
    assert abs(float(T) - Ts) < tol_T, (k, float(T), Ts)
    return ps


def test_rossler_first_two_period_doublings():
    cp, u = _rossler_start(30)
    res = period_doubling_cascade(cp, u, levels=2, p_min=2.0, p_max=4.5, ds=0.05)
    assert res.levels == 2, res.stop_reason
    assert res.p[0] == pytest.approx(2.832445, abs=1e-6)
    assert res.p[1] == pytest.approx(3.837358, abs=1e-6)
    assert np.all(res.refined)
    np.testing.assert_allclose(res.multipliers, -1.0, atol=1e-8)
    # the switch: the doubled cycle starts past the PD point with period ≈ 2T
    cp2, u2 = res.starts[0]
    assert cp2.ntst == 2 * res.problems[0].ntst
    assert 0 < float(u2[-1]) - res.p[0] < 0.05
    assert float(u2[-2]) == pytest.approx(2 * res.period[0], rel=1e-2)
    assert res.period[1] == pytest.approx(2 * res.period[0], rel=0.05)
    for k in range(2):
        _check_against_shooting(res, k, 1e-8, 1e-8)


@pytest.mark.slow
def test_rossler_cascade_feigenbaum():
    cp, u = _rossler_start(30)
    res = period_doubling_cascade(cp, u, levels=4, p_min=2.0, p_max=4.5, ds=0.05)
    assert res.levels == 4, res.stop_reason
    d = res.delta
    assert d.shape == (2,)
    # the ratios approach Feigenbaum's δ: the first (3.50) is far, the second within 10 %
    assert abs(d[1] - FEIGENBAUM_DELTA) < abs(d[0] - FEIGENBAUM_DELTA)
    assert abs(d[1] - FEIGENBAUM_DELTA) < 0.1 * FEIGENBAUM_DELTA
    np.testing.assert_allclose(res.period / res.period[0], [1, 2, 4, 8], rtol=0.05)
    for k in range(4):
        _check_against_shooting(res, k, 1e-8, 1e-7)
