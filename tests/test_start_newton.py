"""The start of a branch is corrected by a damped Newton (backtracking on the residual
norm): a start far from the equilibrium, or on a limit cycle around it, reaches the
equilibrium instead of diverging."""

import jax.numpy as jnp
import numpy as np
import pytest

import gru_bif

TH = np.pi / 4
R = np.array([[np.cos(TH), -np.sin(TH)], [np.sin(TH), np.cos(TH)]])


def _tanh_field(t, x, a):
    U = jnp.asarray(3 * R)
    return 0.5 * (jnp.tanh(U @ x + jnp.stack([a["b"], 0.0])) - x)


def test_far_start_reaches_the_equilibrium():
    # from x = 0 at b = -1 (residual 0.38) a full Newton step overshoots into the
    # saturated tanh and diverges; the damped start converges
    pr = gru_bif.Problem(_tanh_field, {"b": -1.0}, "b")
    b = gru_bif.continuation(pr, jnp.zeros(2), -1.0, p_min=-1.0, p_max=1.0, ds=0.05)
    x = np.asarray(b.x[0])
    U = 3 * R
    np.testing.assert_allclose(np.tanh(U @ x + np.array([-1.0, 0.0])), x, atol=1e-12)
    assert float(b.p[0]) == -1.0


@pytest.mark.parametrize("scale", [3.0, 4.0])
def test_start_on_a_limit_cycle_reaches_the_equilibrium_inside(scale):
    # U_h = scale R(pi/4), b_h = 0: an unstable focus at h = 0 inside a stable cycle
    gru = gru_bif.GRU(scale * R)
    pr = gru_bif.Problem.from_gru(gru, "bh[0]")
    traj = gru_bif.simulate(pr, x0=jnp.array([0.1, 0.0]), ts=jnp.linspace(0.0, 400.0, 3))
    on_cycle = np.asarray(traj.xs[-1])
    assert np.linalg.norm(on_cycle) > 0.2  # really on the cycle, away from the focus
    b = gru_bif.continuation(pr, on_cycle, 0.0, p_min=-1.0, p_max=1.0, ds=0.05)
    np.testing.assert_allclose(np.asarray(b.x[0]), 0.0, atol=1e-12)
    assert int(b.n_unstable[0]) == 2
