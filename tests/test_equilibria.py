"""find_equilibria / classify / find_slow_points against the paper networks (paper.md)
and analytic systems."""

import math
import time

import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx
import pytest

import gru_bif.examples as examples
from gru_bif._results import RESULTS
from gru_bif.equilibria import (
    EQUILIBRIUM_TYPES,
    Equilibria,
    classify,
    find_equilibria,
    find_slow_points,
    kind_name,
)
from gru_bif.models.gru import GRU, gru_candidate_residual, gru_vector_field
from gru_bif.problem import Problem

import networks as nets


def categories(eq: Equilibria) -> dict:
    """Counts of sinks / saddles / sources / non-hyperbolic points."""
    labels = eq.labels
    return {
        "count": len(labels),
        "sinks": sum(lab.startswith("stable") for lab in labels),
        "saddles": sum(lab == "saddle" for lab in labels),
        "sources": sum(lab.startswith("unstable") for lab in labels),
        "non_hyperbolic": sum(lab == "non-hyperbolic" for lab in labels),
    }


# --------------------------------------------------------------------------- paper networks


@pytest.mark.parametrize(
    "name, make",
    [
        ("net1_b0", lambda: nets.net1(0.0)),
        ("net2", nets.net2),
        ("net3", nets.net3),
        ("net5", nets.net5),
        ("net6", nets.net6),
        ("net6_plus5", lambda: nets.net6(1.05)),
        ("net6_minus5", lambda: nets.net6(0.95)),
    ],
)
def test_paper_network_counts(name, make):
    eq = find_equilibria(make())
    assert categories(eq) == nets.TRUTH[name], eq.summary()
    assert int(eq.count) == eq.x.shape[0]
    assert np.all(np.asarray(eq.residual) < 1e-8)
    # Every fixed point of a GRU lies in (-1, 1)^d.
    assert np.all(np.abs(np.asarray(eq.x)) < 1)


def test_net1_locations():
    eq = find_equilibria(nets.net1(0.0))
    stable = np.sort(np.asarray(eq.of_type("stable node"))[:, 0])
    np.testing.assert_allclose(stable, [-nets.BISTABLE_H, nets.BISTABLE_H], atol=5e-6)
    np.testing.assert_allclose(np.asarray(eq.of_type("unstable node")), [[0.0]], atol=1e-12)
    # the stated 5 digits are the fixed point of h = tanh(1.5 h)
    h = float(stable[1])
    assert abs(h - math.tanh(1.5 * h)) < 1e-12


def test_net2_locations():
    eq = find_equilibria(nets.net2())
    sinks = np.asarray(eq.x)[np.asarray(eq.stable)]
    expect = np.array([[sx, sy] for sx in (-1, 1) for sy in (-1, 1)]) * nets.BISTABLE_H
    np.testing.assert_allclose(np.sort(sinks, axis=0), np.sort(expect, axis=0), atol=5e-6)
    np.testing.assert_allclose(np.asarray(eq.of_type("unstable node")), [[0.0, 0.0]], atol=1e-12)
    # the saddles sit at one coordinate 0, the other ±0.85856
    saddles = np.asarray(eq.of_type("saddle"))
    assert np.all(np.min(np.abs(saddles), axis=1) < 1e-12)
    np.testing.assert_allclose(np.max(np.abs(saddles), axis=1), nets.BISTABLE_H, atol=5e-6)
    assert np.all(np.asarray(eq.num_unstable_directions)[np.asarray(eq.kind) == 4] == 1)


def test_net3_unstable_focus():
    eq = find_equilibria(nets.net3())
    assert eq.labels == ["unstable focus"]
    np.testing.assert_allclose(np.asarray(eq.x), [[0.0, 0.0]], atol=1e-12)
    lam = np.asarray(eq.eigenvalues)[0]
    # J_f(0) = (1/2)(U_h/2 − I) = (1/2)(1.5 R(π/6) − I): eigenvalues (1.5 e^{±iπ/6} − 1)/2
    expect = (1.5 * np.exp(1j * np.pi / 6) - 1) / 2
    np.testing.assert_allclose(np.sort_complex(lam), np.sort_complex([expect, expect.conj()]), atol=1e-12)


@pytest.mark.parametrize("b2", sorted(nets.NET4_B2))
def test_net4_homoclinic_story(b2):
    eq = find_equilibria(nets.net4(b2))
    assert categories(eq) == nets.NET4_B2[b2], eq.summary()


def test_net4_hopf_between_stated_values():
    # The focus created at the saddle-node is stable before the Hopf (~ -0.713) and
    # unstable after; its real part changes sign in between.
    re = []
    for b2 in (-0.72, -0.705):
        eq = find_equilibria(nets.net4(b2))
        foci = [i for i, lab in enumerate(eq.labels) if "focus" in lab]
        assert len(foci) == 1
        re.append(float(np.real(np.asarray(eq.eigenvalues)[foci[0], 0])))
    assert re[0] < 0 < re[1]


def test_net6_pseudo_line_attractor():
    eq = find_equilibria(nets.net6())
    assert eq.labels == ["non-hyperbolic"]
    np.testing.assert_allclose(np.asarray(eq.x), [[0.0, 0.0]], atol=1e-6)
    # paper.md: eigenvalues 0 along (1, -1) and -1 along (1, 1), of J_f with z = r = 1/2.
    J = np.asarray(eq.jacobian[0])
    np.testing.assert_allclose(np.sort(np.real(np.asarray(eq.eigenvalues[0]))), [-1.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(J @ np.array([1.0, -1.0]), [0.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(J @ np.array([1.0, 1.0]), [-1.0, -1.0], atol=1e-6)
    # J_f = diag(1 - z) J_g with z = 1/2: J_g has eigenvalues 0 and -2.
    args = {"gru": nets.net6(), "u": jnp.zeros(0)}
    Jg = np.asarray(jax.jacfwd(lambda h: gru_candidate_residual(0.0, h, args))(eq.x[0]))
    np.testing.assert_allclose(J, 0.5 * Jg, atol=1e-12)
    np.testing.assert_allclose(np.sort(np.linalg.eigvals(Jg).real), [-2.0, 0.0], atol=1e-6)


def test_net6_pitchfork_variants():
    plus = find_equilibria(nets.net6(1.05))
    sinks = np.asarray(plus.of_type("stable node", "stable focus"))
    # the two sinks lie on the slow line y = -x, symmetric about 0
    np.testing.assert_allclose(sinks[:, 0], -sinks[:, 1], atol=1e-10)
    np.testing.assert_allclose(np.sort(sinks[:, 0]), -np.sort(sinks[:, 0])[::-1], atol=1e-10)


def test_1d_fold_closed_form():
    # h = tanh(1.5 h + b): the fold needs 1.5 sech²(1.5h + b) = 1, i.e. tanh² = 1/3 and
    # (at a fixed point h = tanh) h = ±1/√3, b = ∓(1.5/√3 − artanh(1/√3)).
    bc = nets.FOLD_B
    assert bc == pytest.approx(0.2075, abs=5e-5)
    assert examples.fold_b_1d(3.0) == pytest.approx(bc, rel=1e-14)
    assert examples.FOLD_B_1D == pytest.approx(bc, rel=1e-14)
    h = -nets.FOLD_H
    assert abs(h - math.tanh(1.5 * h + bc)) < 1e-14
    assert abs(1.5 / math.cosh(1.5 * h + bc) ** 2 - 1.0) < 1e-14
    # numerically: three points just below the fold, one just above (both signs of b)
    for sign in (1.0, -1.0):
        below = find_equilibria(nets.net1(sign * bc * (1 - 1e-3)))
        above = find_equilibria(nets.net1(sign * bc * (1 + 1e-3)))
        assert categories(below) == nets.TRUTH["net1_b0"]
        assert categories(above) == nets.TRUTH["net1_beyond_fold"]
        # the survivor is on the side of the bias
        assert np.sign(float(above.x[0, 0])) == sign


def test_examples_match_reference_networks():
    pairs = [
        (examples.saddle_node_1d(0.1)[0], nets.net1(0.1)),
        (examples.four_state_machine()[0], nets.net2()),
        (examples.limit_cycle()[0], nets.net3()),
        (examples.homoclinic(-0.7)[0], nets.net4(-0.7)),
        (examples.eleven_fixed_points()[0], nets.net5()),
        (examples.pseudo_line_attractor(1.05)[0], nets.net6(1.05)),
        (examples.ring(0.0)[0], nets.net2()),
    ]
    for a, b in pairs:
        for field in ("Uh", "bh", "Ur", "br", "Uz", "bz"):
            np.testing.assert_allclose(getattr(a, field), getattr(b, field), atol=1e-15)
    # the facts in gru_bif.examples agree with the reference truth
    assert examples.four_state_machine()[1]["equilibria"] == nets.TRUTH["net2"]
    assert examples.eleven_fixed_points()[1]["equilibria"] == nets.TRUTH["net5"]
    assert examples.pseudo_line_attractor()[1]["equilibria"] == nets.TRUTH["net6"]
    assert examples.saddle_node_1d()[1]["equilibria"] == nets.TRUTH["net1_b0"]
    for b2, truth in nets.NET4_B2.items():
        assert examples.homoclinic(b2)[1]["equilibria"] == truth
    assert set(examples.EXAMPLES) >= {"saddle_node_1d", "four_state_machine", "limit_cycle",
                                      "homoclinic", "eleven_fixed_points",
                                      "pseudo_line_attractor", "ring"}


# --------------------------------------------------------------------------- analytic systems


def poly(t, x, c):
    """x' = c0 + c1 x + c2 x² + c3 x³ (one function for all 1-D normal forms)."""
    return c[0] + c[1] * x + c[2] * x**2 + c[3] * x**3


GUESSES_1D = jnp.linspace(-2.0, 2.0, 41)[:, None]


@pytest.mark.parametrize(
    "coeffs, points, labels",
    [
        ((0.25, 0.0, -1.0, 0.0), [-0.5, 0.5], ["stable node", "unstable node"]),  # fold p - x²
        ((0.0, 1.0, 0.0, -1.0), [-1.0, 1.0, 0.0], ["stable node", "stable node", "unstable node"]),  # pitchfork
        ((0.0, -1.0, 0.0, -1.0), [0.0], ["stable node"]),
        ((0.0, 0.0, 0.0, -1.0), [0.0], ["non-hyperbolic"]),  # x' = -x³
    ],
)
def test_normal_forms_1d(coeffs, points, labels):
    eq = find_equilibria(poly, jnp.array(coeffs), GUESSES_1D)
    # sorted by type then coordinate
    assert eq.labels == labels
    order = np.argsort(points)
    got = np.asarray(eq.x)[:, 0]
    np.testing.assert_allclose(np.sort(got), np.asarray(points)[order], atol=1e-6)


def test_fold_normal_form_no_equilibrium():
    # x' = p - x² with p < 0 has no equilibrium.
    eq = find_equilibria(poly, jnp.array([-0.1, 0.0, -1.0, 0.0]), GUESSES_1D, throw=False)
    assert int(eq.count) == 0 and eq.x.shape == (0, 1)
    assert eq.result == RESULTS.equilibrium_not_converged
    assert "none" in repr(eq)
    with pytest.raises(RuntimeError, match="no equilibrium"):
        find_equilibria(poly, jnp.array([-0.1, 0.0, -1.0, 0.0]), GUESSES_1D)


# --------------------------------------------------------------------------- classify


def test_classify():
    J = jnp.array(
        [
            [[-1.0, 0.0], [0.0, -2.0]],  # stable node
            [[-0.1, 1.0], [-1.0, -0.1]],  # stable focus
            [[1.0, 0.0], [0.0, 2.0]],  # unstable node
            [[0.1, 1.0], [-1.0, 0.1]],  # unstable focus
            [[1.0, 0.0], [0.0, -1.0]],  # saddle
            [[0.0, 1.0], [-1.0, 0.0]],  # centre: non-hyperbolic
            [[0.0, 0.0], [0.0, -1.0]],  # zero eigenvalue
            [[jnp.nan, 0.0], [0.0, 1.0]],  # invalid
        ]
    )
    assert classify(J).tolist() == [0, 1, 2, 3, 4, 5, 5, -1]
    assert [kind_name(k) for k in range(6)] == list(EQUILIBRIUM_TYPES)
    assert kind_name(-1) == "invalid"
    # d = 3: saddle-focus is a saddle; all-negative with a complex pair a stable focus
    J3 = jnp.array(
        [
            [[0.5, 1.0, 0.0], [-1.0, 0.5, 0.0], [0.0, 0.0, -1.0]],
            [[-0.5, 1.0, 0.0], [-1.0, -0.5, 0.0], [0.0, 0.0, -1.0]],
        ]
    )
    assert classify(J3).tolist() == [4, 1]
    with pytest.raises(ValueError, match="shape"):
        classify(jnp.ones((2, 3)))


# --------------------------------------------------------------------------- scale, jit, vmap


def test_ten_thousand_starts_one_call():
    gru = nets.net2()
    key = jax.random.PRNGKey(3)
    find_equilibria(gru, num_starts=10_000, key=key)  # compile
    t0 = time.perf_counter()
    eq = find_equilibria(gru, num_starts=10_000, key=jax.random.PRNGKey(4))
    warm = time.perf_counter() - t0
    assert int(eq.num_starts) == 10_000
    assert int(eq.num_converged) == 10_000
    assert categories(eq) == nets.TRUTH["net2"]
    assert warm < 20.0  # ~0.1 s on a laptop CPU; generous for CI


def test_solver_choice_matters_on_limit_cycle_network():
    # Plain Newton converges from only some random starts; the default chain from all.
    gru = nets.net3()
    t = 1e-10
    newton = find_equilibria(gru, solver=optx.Newton(rtol=t, atol=t), max_steps=256)
    default = find_equilibria(gru)
    assert int(default.num_converged) == 1000
    assert int(newton.num_converged) < 600
    assert newton.labels == default.labels == ["unstable focus"]


def test_padded_under_jit_and_vmap():
    # One jitted, vmapped call over three networks with a fixed capacity of 4:
    # the four-state machine (9 points: truncated) and the two pseudo-line variants.
    Uh = jnp.stack([nets.net2().Uh, nets.net6(1.05).Uh, nets.net6(0.95).Uh])

    @jax.jit
    @jax.vmap
    def solve(Uh):
        eq = find_equilibria(GRU(Uh), max_equilibria=4, throw=False)
        return eq.count, eq.truncated, eq.x, eq.kind, eq.valid

    count, truncated, x, kind, valid = solve(Uh)
    assert count.tolist() == [4, 3, 1]
    assert truncated.tolist() == [True, False, False]
    x, kind, valid = np.asarray(x), np.asarray(kind), np.asarray(valid)
    assert np.all(np.isnan(x[~valid])) and np.all(kind[~valid] == -1)
    # sorted by type: stable first, padding last
    assert kind[1].tolist() == [0, 0, 4, -1]
    assert kind[2].tolist() == [0, -1, -1, -1]
    np.testing.assert_allclose(x[2, 0], [0.0, 0.0], atol=1e-10)


def test_accepts_problem_gru_and_function():
    gru = nets.net2()
    a = find_equilibria(gru)
    b = find_equilibria(Problem.from_gru(gru, "bh[0]"))
    c = find_equilibria(gru_vector_field, {"gru": gru, "u": jnp.zeros(0)}, box=(-1.0, 1.0))
    for other in (b, c):
        np.testing.assert_allclose(np.asarray(other.x), np.asarray(a.x), atol=1e-12)
        assert other.labels == a.labels
    assert a.counts() == {"stable node": 4, "unstable node": 1, "saddle": 4}
    assert "stable node" in repr(a) and "saddle" in a.summary()


def test_bad_inputs():
    gru = nets.net2()
    with pytest.raises(ValueError, match="dimension 3 but the system has dimension 2"):
        find_equilibria(gru, guesses=jnp.zeros((5, 3)))
    with pytest.raises(ValueError, match="NaN or inf"):
        find_equilibria(gru, guesses=jnp.array([[0.1, 0.2], [jnp.nan, 0.0]]))
    with pytest.raises(ValueError, match="carries its own args"):
        find_equilibria(Problem.from_gru(gru, "bh[0]"), {"gru": gru})
    with pytest.raises(ValueError, match="Cannot tell the state dimension"):
        find_equilibria(poly, jnp.zeros(4))
    with pytest.raises(ValueError, match="lo < hi"):
        find_equilibria(gru, box=(1.0, -1.0))
    with pytest.raises(ValueError, match="state of shape"):
        find_equilibria(lambda t, x, a: a @ x, jnp.eye(3), jnp.ones((4, 2)))
    with pytest.raises(ValueError, match="optimistix root finder"):
        find_equilibria(gru, solver="newton")
    with pytest.raises(ValueError, match="max_equilibria"):
        find_equilibria(gru, max_equilibria=0)
    with pytest.raises(ValueError, match="max_equilibria=K"):
        jax.jit(lambda g: find_equilibria(g, num_starts=10).x)(gru)


# --------------------------------------------------------------------------- slow points


def test_slow_point_ghost_beyond_fold():
    # Unit 1 just beyond its fold (b = 1.02 b_c), unit 2 bistable: 3 fixed points
    # (h1 = the surviving stable point, h2 in {-0.859, 0, 0.859}), and next to each a
    # ghost of the saddle-node at h1 ≈ -1/√3: a local minimum of q with q > 0.
    gru = GRU(3.0 * jnp.eye(2), jnp.array([1.02 * nets.FOLD_B, 0.0]))
    sp = find_slow_points(gru, num_starts=200)
    fp = np.asarray(sp.is_fixed_point)
    x = np.asarray(sp.x)
    assert fp.sum() == 3 and (~fp).sum() == 3
    eq = find_equilibria(gru)
    assert categories(eq) == {"count": 3, "sinks": 2, "saddles": 1, "sources": 0, "non_hyperbolic": 0}
    np.testing.assert_allclose(np.sort(x[fp], axis=0), np.sort(np.asarray(eq.x), axis=0), atol=1e-6)
    np.testing.assert_allclose(x[~fp, 0], -nets.FOLD_H, atol=0.02)
    np.testing.assert_allclose(np.sort(x[~fp, 1]), np.sort(np.asarray(eq.x)[:, 1]), atol=1e-4)
    q = np.asarray(sp.q)[~fp]
    assert np.all((q > 0) & (q < 1e-5))
    # sorted by q: the fixed points come first
    assert fp[:3].all()


def test_slow_points_on_pseudo_line_attractor():
    sp = find_slow_points(nets.net6(), num_starts=200)
    x = np.asarray(sp.x)
    assert int(sp.count) >= 1
    # every slow point lies on the slow line y = -x, near the degenerate point
    np.testing.assert_allclose(x[:, 0] + x[:, 1], 0.0, atol=1e-4)
    assert np.all(np.asarray(sp.q) < 1e-10)
    # with a slightly weaker coupling the point at 0 is a hyperbolic sink: found exactly
    sp2 = find_slow_points(nets.net6(0.95), num_starts=200)
    assert int(sp2.count) == 1 and bool(sp2.is_fixed_point[0])
    np.testing.assert_allclose(np.asarray(sp2.x), [[0.0, 0.0]], atol=1e-6)
    assert "fixed point" in repr(sp2)
