"""Curves of folds of cycles (LPC) in two parameters, against the Bautin normal form
`r' = r (b1 + b2 r² − r⁴)`, `θ' = 1`: folds of cycles on `b1 = −b2²/4` (`b2 > 0`), the
fold cycle a circle of radius² `b2/2` and period `2π`."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

import gru_bif
from gru_bif.models.normal_forms import Bautin, bautin_field
from gru_bif.periodic import cycle_from_hopf, nontrivial_multipliers
from gru_bif.periodic.lpc_curve import LPCCurveProblem, lpc_curve, lpc_parameters

NTST = 10  # circles: 10 × 4 collocation is exact to ~1e-10


def _rows(branch):
    n = int(branch.num_points)
    p1, p2 = lpc_parameters(branch)
    return np.asarray(branch.x[:n]), np.asarray(p1[:n]), np.asarray(p2[:n])


@pytest.fixture(scope="module")
def lpc_setup():
    pr = gru_bif.Problem(bautin_field, {"b1": -0.1, "b2": 0.5}, "b1")
    eq = gru_bif.continuation(pr, jnp.zeros(2), -0.1, p_min=-0.1, p_max=0.1, ds=0.02)
    cp, u0 = cycle_from_hopf(pr, eq, dp=-0.005, ntst=NTST, stability=False, detect=False)
    cycles = gru_bif.continuation(cp, u0[:-1], u0[-1], p_min=-0.1, p_max=-0.001,
                                  ds=0.01, max_steps=40, direction="backward")
    lpc = lpc_curve(cp, cycles, "b2", p_min=0.25, p_max=0.75, ds=0.1, max_steps=12)
    return pr, cp, cycles, lpc


def test_lpc_curve_lies_on_the_analytic_curve(lpc_setup):
    _, cp, cycles, lpc = lpc_setup
    (fold,) = [s for s in cycles.special.to_list() if s["kind"] == "fold_cycle"]
    assert abs(fold["p"] - float(Bautin.fold_cycle_curve(0.5))) < 1e-8
    X, p1, p2 = _rows(lpc)
    # both directions, to both ends of the p2 window, through the start b2 = 0.5
    assert len(p2) >= 10
    assert np.isclose(p2.min(), 0.25) and np.isclose(p2.max(), 0.75)
    assert np.min(np.abs(p2 - 0.5)) < 1e-12
    # on b1 = −b2²/4 everywhere (and not a trivially constant p1)
    np.testing.assert_allclose(p1, np.asarray(Bautin.fold_cycle_curve(p2)), atol=1e-8, rtol=0)
    assert np.ptp(p1) > 0.1
    # the cycles are the double cycles: circles of radius² b2/2, period 2π
    nodes, T, _ = cp.split(jnp.asarray(X))
    r2 = np.sum(np.asarray(nodes) ** 2, axis=-1)
    want = np.broadcast_to((p2 / 2)[:, None], r2.shape)
    # mesh points are superconvergent (O(h^8)); nodes inside intervals O(h^5)
    np.testing.assert_allclose(r2[:, :: cp.ncol], want[:, :: cp.ncol], atol=1e-8)
    np.testing.assert_allclose(r2, want, atol=1e-6)
    np.testing.assert_allclose(np.asarray(T), 2 * math.pi, atol=1e-8)
    assert lpc.special.to_list() == []


def test_lpc_curve_cycles_have_a_double_multiplier_one(lpc_setup):
    """Independent of the bordered test function: the non-trivial multiplier (from the
    monodromy matrix) of the cycles on the curve is 1 (the analytic multiplier
    exp(2π · 2r²(b2 − 2r²)) is 1 exactly at r² = b2/2)."""
    pr, cp, _, lpc = lpc_setup
    X, p1, p2 = _rows(lpc)
    ones = jnp.ones((cp.size - 1,))
    lp = LPCCurveProblem(cp, gru_bif.Param.from_name(pr.args, "b2"), ones, ones)
    for i in (0, len(p2) // 2, len(p2) - 1):
        cpi = lp.cycle_at(jnp.asarray(p2[i]))
        mu = np.asarray(nontrivial_multipliers(cpi, jnp.asarray(X[i])))
        assert abs(mu[0] - 1) < 1e-6


def test_lpc_curve_bad_starts(lpc_setup):
    pr, cp, cycles, _ = lpc_setup
    # a regular cycle of the branch (not a fold): rejected by the singular-value check
    u = jnp.append(cycles.x[1], cycles.p[1])
    with pytest.raises(ValueError, match="σ_min"):
        lpc_curve(cp, u, "b2", p_min=0.2, p_max=0.8)
    with pytest.raises(ValueError, match="shape"):
        lpc_curve(cp, u[:-3], "b2", p_min=0.2, p_max=0.8)
    with pytest.raises(ValueError, match="NaN"):
        lpc_curve(cp, u.at[0].set(jnp.nan), "b2", p_min=0.2, p_max=0.8)
    with pytest.raises(ValueError, match="fold_cycle"):
        lpc_curve(cp, cycles, "b2", index=5, p_min=0.2, p_max=0.8)
    with pytest.raises(ValueError, match="different parameters"):
        lpc_curve(cp, cycles, "b1", p_min=0.2, p_max=0.8)


@pytest.mark.slow
def test_lpc_from_bautin_starts_on_the_analytic_curve():
    from gru_bif.curves import hopf_curve
    from gru_bif.periodic.lpc_curve import lpc_from_bautin

    pr = gru_bif.Problem(bautin_field, {"b1": 0.0, "b2": 0.5}, "b1")
    hopf = hopf_curve(pr, jnp.zeros(2), "b2", p_min=-0.6, p_max=0.6, ds=0.1, max_steps=20)
    assert [s["kind"] for s in hopf.special.to_list()] == ["bautin"]
    # l1 = 2 b2, l2 = −4: the fold of cycles lies on the side b2 > 0, and amplitude a
    # means l1 = −l2 a², i.e. b2 = 2 a² (= 0.18 for a = 0.3, where r² = b2/2 = a²)
    cp, lpc = lpc_from_bautin(pr, hopf, None, "b2", p_min=0.1, p_max=0.3, amplitude=0.3,
                              ntst=NTST, ds=0.1, max_steps=12)
    X, p1, p2 = _rows(lpc)
    assert np.isclose(p2.min(), 0.1) and np.isclose(p2.max(), 0.3)
    np.testing.assert_allclose(p1, np.asarray(Bautin.fold_cycle_curve(p2)), atol=1e-8, rtol=0)
    nodes, _, _ = cp.split(jnp.asarray(X))
    r2 = np.sum(np.asarray(nodes) ** 2, axis=-1)
    want = np.broadcast_to((p2 / 2)[:, None], r2.shape)
    # mesh points are superconvergent (O(h^8)); nodes inside intervals O(h^5)
    np.testing.assert_allclose(r2[:, :: cp.ncol], want[:, :: cp.ncol], atol=1e-8)
    np.testing.assert_allclose(r2, want, atol=1e-6)
    # the start: normal-form prediction b2 = 2 a² (the Bautin normal form is exact here)
    i0 = int(np.argmin(np.abs(p2 - 0.18)))
    assert abs(p2[i0] - 0.18) < 1e-6
    # the wrong side is refused
    with pytest.raises(ValueError, match="other side"):
        lpc_from_bautin(pr, hopf, None, "b2", p_min=0.1, p_max=0.3, dp2=-0.1)


def bautin_me(t, z, a):
    """`r' = r (b1 + m + (b2 − e) r² − r⁴)`: folds of cycles on
    `b1 + m = −(b2 − e)²/4`, radius² `(b2 − e)/2`, period 2π."""
    x1, x2 = z[0], z[1]
    rho = x1**2 + x2**2
    g = a["b1"] + a["m"] + (a["b2"] - a["e"]) * rho - rho**2
    return jnp.stack([g * x1 - x2, x1 + g * x2])


def test_lpc_curve_points_derivatives_closed_form(lpc_setup):
    """Implicit derivatives of LPC-curve points at fixed b2: d b1/dm = −1,
    d b1/de = (b2 − e)/2, dT = 0, d(radius²)/de = −1/2 at the mesh points."""
    import equinox as eqx
    import jax

    pr, cp, _, lpc = lpc_setup
    n = int(lpc.num_points)
    X = jnp.concatenate([lpc.x[:n], lpc.p[:n, None]], axis=1)
    rows = jnp.asarray([0, n // 2, n - 1])
    ones = jnp.ones((cp.size - 1,))

    def points(me):
        args = {"b1": -0.1, "b2": 0.5, "m": me[0], "e": me[1]}
        cpm = eqx.tree_at(lambda c: c.problem, cp, gru_bif.Problem(bautin_me, args, "b1"))
        lp = LPCCurveProblem(cpm, gru_bif.Param.from_name(args, "b2"), ones, ones)
        return lp.attach_points(X[rows])

    J = np.asarray(jax.jacfwd(points)(jnp.zeros(2)))  # (rows, n_u, 2)
    np.testing.assert_allclose(np.asarray(points(jnp.zeros(2))), np.asarray(X[rows]),
                               atol=1e-14)
    b2 = np.asarray(X[rows, -1])
    i_p1, i_T = -2, -3
    np.testing.assert_allclose(J[:, i_p1, 0], -1.0, atol=1e-8)
    np.testing.assert_allclose(J[:, i_p1, 1], b2 / 2, atol=1e-7)
    np.testing.assert_allclose(J[:, i_T, :], 0.0, atol=1e-7)
    nodes = np.asarray(X[rows, : cp.num_nodes * 2]).reshape(len(rows), -1, 2)
    dnodes = J[:, : cp.num_nodes * 2, 1].reshape(len(rows), -1, 2)
    dr2 = 2 * np.sum(nodes * dnodes, axis=-1)[:, :: cp.ncol]
    np.testing.assert_allclose(dr2, -0.5, atol=1e-6)
