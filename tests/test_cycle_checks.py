"""Hard cases of cycle branches reported by result codes and messages: collapse onto a
Hopf point, a mesh too coarse for the requested accuracy, a start that does not
converge, and a degenerate Hopf point (`l1 = 0`).

Truth: the Hopf normal form `r' = r (b1 − r²)`, `θ' = 1`, whose cycles `r = √b1` shrink
to the Hopf point at `b1 = 0` (extent `2√b1`); the Bautin normal form
`r' = r (b1 + b2 r² − r⁴)` at `b2 = 0`, whose Hopf point has `l1 = 0` exactly, and
whose cycles there are `r⁴ = b1`.
"""

import math

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import pytest

import gru_bif
from gru_bif._results import RESULTS
from gru_bif.periodic import check_cycles, correct_cycle, cycle_from_hopf


def radial_field(t, x, args):
    x1, x2 = x[0], x[1]
    rho = x1**2 + x2**2
    g = args["b1"] + args["b2"] * rho + args["b3"] * rho**2
    return jnp.stack([g * x1 - x2, x1 + g * x2])


def equilibria(b2, b3):
    problem = gru_bif.Problem(radial_field, {"b1": -0.5, "b2": b2, "b3": b3}, "b1")
    eq = gru_bif.continuation(problem, jnp.zeros(2), -0.5, p_min=-0.5, p_max=0.5,
                              ds=0.05)
    return problem, eq


@pytest.fixture(scope="module")
def collapsing():
    problem, eq = equilibria(-1.0, 0.0)
    cp, u0 = cycle_from_hopf(problem, eq, dp=0.02, ntst=10)
    branch = gru_bif.continuation(cp, u0[:-1], u0[-1], p_min=-0.1, p_max=0.1, ds=0.02,
                                  ds_max=0.02, max_steps=16, direction="backward")
    return cp, u0, branch


def test_collapse_onto_the_hopf_point(collapsing):
    cp, _, branch = collapsing
    check = check_cycles(cp, branch, error_tol=1e-5, collapse_tol=0.05)
    n = int(branch.num_points)
    assert check.result == RESULTS.cycle_collapsed
    assert "returned to a Hopf point" in check.message
    i = int(check.index)
    assert 0 < i < n - 1
    p = np.asarray(branch.p[:n])
    # the collapse point is the smallest cycle, next to b1 = 0, and the branch turns there
    assert abs(p[i]) < 2e-3 and p[i + 1] > p[i] and p[i - 1] > p[i]
    np.testing.assert_allclose(np.asarray(check.amplitude[:i]), 2 * np.sqrt(p[:i]),
                               rtol=1e-6)
    assert float(check.max_error) < 1e-5


def test_mesh_too_coarse_is_reported(collapsing):
    cp, _, branch = collapsing
    check = check_cycles(cp, branch, error_tol=1e-14, collapse_tol=1e-12)
    assert check.result == RESULTS.cycle_mesh_too_coarse
    assert "increase `ntst`" in check.message
    assert float(check.max_error) > 1e-14
    with pytest.raises(ValueError, match="positive"):
        check_cycles(cp, branch, error_tol=0.0)


def test_start_not_converged(collapsing):
    cp, _, branch = collapsing
    # the engine's code for a start where Newton failed, on a one-point branch
    failed = eqx.tree_at(lambda b: (b.result, b.num_points), branch,
                         (RESULTS.start_not_converged, jnp.asarray(1, jnp.int32)))
    check = check_cycles(cp, failed)
    assert check.result == RESULTS.cycle_start_not_converged
    assert "smaller `dp`" in check.message


def test_degenerate_hopf_point():
    problem, eq = equilibria(0.0, -1.0)  # Bautin normal form at b2 = 0: l1 = 0
    n = int(eq.special.count)
    assert n >= 1 and abs(float(eq.special.data["l1"][0])) < 1e-10
    with pytest.raises(ValueError, match="degenerate.*each sign"):
        cycle_from_hopf(problem, eq, dp=0.01)
    # with both dp and amplitude the start is possible: r⁴ = b1 on this side
    cp, u0 = cycle_from_hopf(problem, eq, dp=1e-4, amplitude=0.1, ntst=10)
    u, _, ok = correct_cycle(cp, u0)
    assert ok
    X = np.asarray(cp.split(u)[0])
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1e-4 ** 0.25, rtol=1e-6)
    assert abs(float(u[-2]) - 2 * math.pi) < 1e-6


def test_cycle_pictures(collapsing):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gru_bif.periodic import CycleBranch
    from gru_bif.plotting import plot_cycle_branch, plot_cycles, plot_period

    cp, _, branch = collapsing
    view = CycleBranch(cp, branch)
    n = int(branch.num_points)
    p = np.asarray(branch.p[:n])
    ax = plot_cycle_branch(view, 0)
    lines = [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 1]
    assert len(lines) == 2 and all(ln.get_linestyle() == "-" for ln in lines)  # stable
    ymax = np.asarray(lines[0].get_ydata())
    np.testing.assert_allclose(ymax, np.sqrt(p), rtol=1e-3)  # max x = radius √b1
    assert ax.get_xlabel() == "b1"
    ax = plot_period(view)
    (line,) = [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 1]
    np.testing.assert_allclose(np.asarray(line.get_ydata()), 2 * math.pi, rtol=1e-6)
    ax = plot_cycles(view, (0, 1), every=2)
    assert len(ax.get_lines()) == (n + 1) // 2 + int(branch.special.count)
    with pytest.raises(ValueError, match="coords"):
        plot_cycles(view, (0, 0))
    with pytest.raises(ValueError, match="CycleBranch"):
        plot_period(branch)
    plt.close("all")
