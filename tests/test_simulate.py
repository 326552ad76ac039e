"""simulate(): exact linear solutions, batches, the GRU limit cycle, bad input."""

import diffrax
import jax.numpy as jnp
import numpy as np
import pytest

import networks as nets
from gru_bif.problem import Problem
from gru_bif.simulate import Trajectory, simulate

A = jnp.array([[-0.1, 1.0], [-1.0, -0.1]])


def linear(t, x, a):
    return a @ x


def exact(x0, ts, decay=0.1, omega=1.0):
    """x(t) = exp(A t) x0 for A = [[-decay, omega], [-omega, -decay]], in closed form."""
    t = np.asarray(ts)[:, None]
    x0 = np.asarray(x0)
    c, s = np.cos(omega * t), np.sin(omega * t)
    return np.exp(-decay * t) * np.hstack([c * x0[0] + s * x0[1], -s * x0[0] + c * x0[1]])


TS = jnp.linspace(0.0, 10.0, 101)


def test_linear_exact_single_and_batch():
    x0 = jnp.array([1.0, 0.0])
    traj = simulate(linear, A, x0, TS)
    assert isinstance(traj, Trajectory)
    assert traj.xs.shape == (101, 2) and not traj.batched
    assert bool(traj.successful)
    np.testing.assert_allclose(traj.xs, exact(x0, TS), atol=1e-7)

    x0s = jnp.array([[1.0, 0.0], [0.0, 2.0], [-0.5, 0.3]])
    batch = simulate(linear, A, x0s, TS)
    assert batch.xs.shape == (3, 101, 2) and batch.batched
    assert batch.successful.shape == (3,) and bool(jnp.all(batch.successful))
    for i in range(3):
        np.testing.assert_allclose(batch.xs[i], exact(x0s[i], TS), atol=1e-7)
    np.testing.assert_allclose(batch.ts, TS)


def test_stiff_solver():
    a = jnp.array([[-1000.0, 0.0], [0.0, -0.5]])
    x0 = jnp.array([1.0, 1.0])
    ts = jnp.linspace(0.0, 2.0, 5)
    traj = simulate(linear, a, x0, ts, stiff=True)
    expect = np.exp(np.asarray(ts)[:, None] * np.array([-1000.0, -0.5]))
    np.testing.assert_allclose(traj.xs, expect, atol=1e-7)
    assert int(traj.num_steps) < 500  # an explicit solver needs thousands here


def period_from_crossings(x, ts):
    """Mean period from upward zero crossings of x (linear interpolation)."""
    idx = np.nonzero((x[:-1] < 0) & (x[1:] >= 0))[0]
    tc = ts[idx] - x[idx] * (ts[idx + 1] - ts[idx]) / (x[idx + 1] - x[idx])
    return np.diff(tc)


def test_gru_limit_cycle_period():
    # paper.md: U_h = 3 R(π/6) has a stable limit cycle of period about 22, reached
    # from inside (near the unstable focus) and from outside.
    gru = nets.net3()
    ts = jnp.linspace(0.0, 300.0, 1201)
    traj = simulate(gru, None, jnp.array([[0.05, 0.0], [1.2, 1.2]]), ts, rtol=1e-6, atol=1e-9)
    xs = np.asarray(traj.xs)
    t = np.asarray(ts)
    late = t > 150.0
    periods = []
    for i in range(2):
        p = period_from_crossings(xs[i, late, 0], t[late])
        assert len(p) >= 5
        assert np.std(p) < 0.05
        periods.append(np.mean(p))
        # on the cycle the state stays away from the unstable focus
        r = np.linalg.norm(xs[i, late], axis=1)
        assert r.min() > 0.2
    assert periods[0] == pytest.approx(nets.LIMIT_CYCLE_PERIOD, abs=1.0)
    assert periods[0] == pytest.approx(periods[1], abs=0.05)
    # same orbit from both sides: same amplitude
    amp = [np.max(np.abs(xs[i, late, 0])) for i in range(2)]
    assert amp[0] == pytest.approx(amp[1], abs=1e-3)


def test_problem_and_gru_inputs_agree():
    # (the same shapes and tolerances as the limit-cycle test: no recompilation)
    gru = nets.net2()
    x0 = jnp.array([[0.3, -0.2], [-0.1, -0.4]])
    ts = jnp.linspace(0.0, 300.0, 1201)
    a = simulate(gru, None, x0, ts, rtol=1e-6, atol=1e-9)
    b = simulate(Problem.from_gru(gru, "bh[0]"), None, x0, ts, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(a.xs, b.xs, atol=1e-12)
    # each converges to the sink of its quadrant
    h = nets.BISTABLE_H
    np.testing.assert_allclose(a.xs[:, -1], [[h, -h], [-h, -h]], atol=1e-5)


def test_failure_is_a_result_code():
    traj = simulate(linear, A, jnp.array([1.0, 0.0]), TS, max_steps=3, throw=False)
    assert traj.result != diffrax.RESULTS.successful
    assert not bool(traj.successful)


def test_bad_inputs():
    with pytest.raises(ValueError, match="NaN or inf"):
        simulate(linear, A, jnp.array([jnp.nan, 0.0]), TS)
    with pytest.raises(ValueError, match=r"batch rows \[1\]"):
        simulate(linear, A, jnp.array([[0.0, 0.0], [jnp.inf, 0.0]]), TS)
    with pytest.raises(ValueError, match="shape"):
        simulate(linear, A, jnp.zeros((2, 2, 2)), TS)
    with pytest.raises(ValueError, match="system's dimension"):
        simulate(linear, A, jnp.zeros(3), TS)
    with pytest.raises(ValueError, match="strictly increasing"):
        simulate(linear, A, jnp.zeros(2), jnp.array([0.0, 1.0, 0.5]))
    with pytest.raises(ValueError, match="at least two"):
        simulate(linear, A, jnp.zeros(2), jnp.array([1.0]))
    with pytest.raises(ValueError, match="carries its own args"):
        simulate(Problem.from_gru(nets.net2(), "bh[0]"), {"x": 1}, jnp.zeros(2), TS)
    with pytest.raises(ValueError, match="expects shape"):
        simulate(nets.net2(), jnp.ones(3), jnp.zeros(2), TS)
