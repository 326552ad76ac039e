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
    correct_cycle,
    cycle_from_simulation,
    node_times,
    nontrivial_multipliers,
    pd_eigenfunction,
    period_doubling_cascade,
    refine_period_doubling,
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


@pytest.fixture(scope="module")
def mobius_pd(mobius):
    cp, u = mobius
    u_pd, it, ok = refine_period_doubling(cp, u.at[-1].set(-0.02))
    assert bool(ok)
    return cp.with_reference(u_pd), u_pd


def test_mobius_exact_period_doubling(mobius_pd):
    cp, u_pd = mobius_pd
    _, T, p = cp.split(u_pd)
    assert abs(float(p)) < 1e-10
    assert abs(float(T) - 2 * math.pi / OMEGA) < 1e-10
    # the eigenfunction: v(T) = −v(0), along the frame's first axis (no z at θ = 0)
    V, mu = pd_eigenfunction(cp, u_pd)
    assert abs(mu + 1) < 1e-9
    assert V.shape == (cp.num_nodes, 3)
    with pytest.raises(ValueError, match="period_doubling"):
        switch_period_doubling(cp, u_pd.at[-1].set(-0.1), refine=False)  # not a PD point


def test_mobius_switch_is_exact(mobius_pd):
    cp, u_pd = mobius_pd
    cp2, u2 = switch_period_doubling(cp, u_pd, amplitude=0.1)
    assert cp2.ntst == 2 * cp.ntst
    X2, T2, p2 = cp2.split(u2)
    mu = float(p2)
    # the doubled cycle exists for μ > 0 (supercritical), period 2T, extent √μ in z
    assert 1e-4 < mu < 0.05
    assert abs(float(T2) - 4 * math.pi / OMEGA) < 1e-10
    z = np.asarray(cp2.evaluate(u2, np.linspace(0, 1, 2001)))[:, 2]
    assert np.max(z) == pytest.approx(math.sqrt(mu), rel=1e-7)
    assert np.min(z) == pytest.approx(-math.sqrt(mu), rel=1e-7)
    # stable: multipliers e^{−2μ·2T} and e^{−2T} (the frame turns a full turn in 2T)
    mu2 = np.sort(np.asarray(nontrivial_multipliers(cp2, u2)).real)
    np.testing.assert_allclose(mu2, np.sort([math.exp(-2 * mu * 4 * math.pi),
                                              math.exp(-4 * math.pi)]), rtol=1e-6)


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


def test_rossler_first_period_doubling_and_switch():
    cp, u = _rossler_start(30)
    res = period_doubling_cascade(cp, u, levels=1, p_min=2.0, p_max=3.5, ds=0.05)
    assert res.levels == 1, res.stop_reason
    assert res.p[0] == pytest.approx(2.832445, abs=1e-6)
    assert bool(res.refined[0]) and abs(res.multipliers[0] + 1) < 1e-8
    _check_against_shooting(res, 0, 1e-8, 1e-8)
    # the switch: the doubled cycle just past the PD point, period ≈ 2T, and it is the
    # stable one there (the period-1 cycle has a multiplier below −1)
    view = res.branches[0]
    kinds = np.asarray(view.special.kind)[: int(view.special.count)]
    (k,) = np.nonzero(kinds == SpecialKind.PERIOD_DOUBLING)[0]
    cp2, u2 = switch_period_doubling(cp, view, int(k))
    assert cp2.ntst == 2 * cp.ntst
    assert 0 < float(u2[-1]) - res.p[0] < 0.05
    assert float(u2[-2]) == pytest.approx(2 * res.period[0], rel=1e-3)
    mu2 = np.asarray(nontrivial_multipliers(cp2, u2))
    assert np.max(np.abs(mu2)) < 1
    with pytest.raises(ValueError, match="special points"):
        switch_period_doubling(cp, view, int(view.special.count))
    with pytest.raises(ValueError, match="Period doubling needs d >= 3|CollocationProblem"):
        switch_period_doubling(view, view, 0)


@pytest.mark.slow
def test_rossler_first_two_period_doublings():
    cp, u = _rossler_start(30)
    res = period_doubling_cascade(cp, u, levels=2, p_min=2.0, p_max=4.5, ds=0.05)
    assert res.levels == 2, res.stop_reason
    assert res.p[1] == pytest.approx(3.837358, abs=1e-6)
    assert np.all(res.refined)
    np.testing.assert_allclose(res.multipliers, -1.0, atol=1e-8)
    cp2, u2 = res.starts[0]
    assert cp2.ntst == 2 * res.problems[0].ntst // 2
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
