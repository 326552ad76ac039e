"""Homoclinic orbits: the projection-BC boundary-value problem against an independent
shooting computation on the Bogdanov–Takens normal form, the BT asymptote, the BT normal
form, two-parameter continuation, detection (saddle loop vs SNIC), bad input, and the
paper's GRU homoclinic example (slow)."""

import json
import subprocess
import sys

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx
import pytest

import gru_bif
from gru_bif import Problem
from gru_bif._results import RESULTS
from gru_bif.homoclinic import (
    HomoclinicBranch,
    bt_normal_form,
    classify_cycle_end,
    homoclinic_from_bt,
    homoclinic_problem,
    locate_bt,
    locate_homoclinic,
    matrix_sign,
    remesh_homoclinic,
    spectral_projectors,
)
from gru_bif.models.normal_forms import bogdanov_takens_field


# --------------------------------------------------------------------------- truth
def _bt_rhs(t, z, args):
    b1, b2, sgn = args
    x, y = z
    return sgn * jnp.stack([y, b1 + b2 * x + x * x + x * y])


@jax.jit
def _landing(z0, b1, b2, sgn):
    """x where the orbit from z0 (forward if sgn = 1, backward if -1) first hits y = 0."""
    event = diffrax.Event(lambda t, y, args, **kw: y[1],
                          root_finder=optx.Newton(rtol=1e-14, atol=1e-14))
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(_bt_rhs), diffrax.Dopri8(), 0.0, 2000.0, 1e-3, z0,
        args=(b1, b2, sgn),
        stepsize_controller=diffrax.PIDController(rtol=1e-13, atol=1e-15),
        event=event, max_steps=400000)
    return sol.ys[-1][0]


def _gap(b1, b2, delta=1e-7):
    """Distance along the section y = 0 (left of the loop) between the saddle's unstable
    manifold (integrated forward) and its stable manifold (backward), started `delta`
    along the eigenvectors of the saddle x+ of x' = y, y' = b1 + b2 x + x² + xy."""
    xs = (-b2 + np.sqrt(b2**2 - 4 * b1)) / 2
    J = np.array([[0.0, 1.0], [b2 + 2 * xs, xs]])
    ev, V = np.linalg.eig(J)
    vu, vs = V[:, np.argmax(ev.real)].real, V[:, np.argmin(ev.real)].real
    vu = vu if vu[0] < 0 else -vu  # leaves to the left, below the axis
    vs = vs if vs[0] < 0 else -vs  # arrives from the left, above the axis
    z = np.array([xs, 0.0])
    return float(_landing(z + delta * vu, b1, b2, 1.0)
                 - _landing(z + delta * vs, b1, b2, -1.0))


def shooting_b1(b2):
    """The homoclinic b1 at b2 by the secant method on the manifold gap (independent of
    the library)."""
    a = -0.24 * b2**2
    b = a * 1.01
    ga, gb = _gap(a, b2), _gap(b, b2)
    for _ in range(50):
        c = b - gb * (b - a) / (gb - ga)
        a, ga, b, gb = b, gb, c, _gap(c, b2)
        if abs(b - a) < 1e-15:
            break
    return b


@pytest.fixture(scope="module")
def bt_problem():
    return Problem(bogdanov_takens_field, {"b1": 0.0, "b2": 0.0}, "b1")


# --------------------------------------------------------------------------- pieces
def test_matrix_sign_gives_the_spectral_projectors():
    rng = np.random.default_rng(0)
    V = rng.normal(size=(4, 4))
    lam = np.array([-2.0, -0.3, 0.7, 1.5])
    A = V @ np.diag(lam) @ np.linalg.inv(V)
    S = np.asarray(matrix_sign(jnp.asarray(A)))
    np.testing.assert_allclose(S, V @ np.diag(np.sign(lam)) @ np.linalg.inv(V), atol=1e-11)
    Ps, Pu = spectral_projectors(jnp.asarray(A))
    Vi = np.linalg.inv(V)
    np.testing.assert_allclose(np.asarray(Ps), V[:, :2] @ Vi[:2], atol=1e-11)
    np.testing.assert_allclose(np.asarray(Pu), V[:, 2:] @ Vi[2:], atol=1e-11)
    # differentiable: d sign(A)[E] by autodiff against central finite differences
    E = rng.normal(size=(4, 4))
    jv = jax.jvp(matrix_sign, (jnp.asarray(A),), (jnp.asarray(E),))[1]
    h = 1e-6
    fd = (np.asarray(matrix_sign(jnp.asarray(A + h * E)))
          - np.asarray(matrix_sign(jnp.asarray(A - h * E)))) / (2 * h)
    np.testing.assert_allclose(np.asarray(jv), fd, atol=1e-7)


def test_bt_normal_form_of_the_normal_form(bt_problem):
    bt = locate_bt(bt_problem, "b2", jnp.array([0.05, -0.02]), 0.01, -0.03)
    assert bool(bt.converged)
    np.testing.assert_allclose([float(bt.p1), float(bt.p2)], [0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(np.asarray(bt.x), [0.0, 0.0], atol=1e-12)
    nf = bt_normal_form(bt_problem, "b2", bt.x, bt.p1, bt.p2)
    np.testing.assert_allclose([float(nf.a), float(nf.b)], [1.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(np.asarray(nf.K10), [1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(np.asarray(nf.K01), [0.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(np.asarray(nf.H0001), [0.0, 0.0], atol=1e-12)


@pytest.mark.slow
def test_bt_normal_form_scaled_system():
    """x = c X, y = c Y (coordinates scaled by c), time scaled by k: the normal form
    coefficients transform as a → a/(c k²)·c² …; we check the invariant combination
    that decides the homoclinic curve instead: the homoclinic b1 of the scaled system
    equals that of the original (same parameters)."""
    c, k = 2.0, 0.5

    def f(t, z, p):
        X, Y = z / c
        return c * k * jnp.stack([Y, p["b1"] + p["b2"] * X + X * X + X * Y])

    pr = Problem(f, {"b1": 0.0, "b2": 0.0}, "b1")
    nf = bt_normal_form(pr, "b2", jnp.zeros(2), 0.0, 0.0)
    # predicted curve direction: b1 = -(6/25) b2² / a in normal-form parameters mapped by K
    hp, u0 = homoclinic_from_bt(pr, "b2", nf, eps=0.45, T=60 / k, ntst=60)
    sol = locate_homoclinic(hp, u0.at[-1].set(-0.2), remesh=1)
    assert abs(float(sol.p1) - (-0.00937364877678988)) < 1e-8
    np.testing.assert_allclose(np.asarray(sol.saddle) / c,
                               [(0.2 + np.sqrt(0.04 - 4 * float(sol.p1))) / 2, 0.0],
                               atol=1e-12)


# --------------------------------------------------------------------------- accuracy
@pytest.mark.parametrize("b2", [-0.2, -0.5, -1.0])
def test_bt_homoclinic_matches_shooting(bt_problem, b2):
    truth = shooting_b1(b2)
    hp, u0 = homoclinic_from_bt(bt_problem, "b2", (jnp.zeros(2), 0.0, 0.0),
                                eps=float(np.sqrt(-b2)), T=60.0, ntst=60)
    sol = locate_homoclinic(hp, u0.at[-1].set(b2), remesh=1)
    assert sol.result == RESULTS.successful
    assert float(sol.p2) == b2
    assert abs(float(sol.p1) - truth) < 1e-8, (float(sol.p1), truth)
    # the saddle is x+ and the saddle quantity is the trace there, x+ (closed forms)
    xp = (-b2 + np.sqrt(b2**2 - 4 * float(sol.p1))) / 2
    np.testing.assert_allclose(np.asarray(sol.saddle), [xp, 0.0], atol=1e-12)
    np.testing.assert_allclose(float(sol.saddle_quantity), xp, atol=1e-12)


def test_bt_homoclinic_asymptote(bt_problem):
    """b1 = -(6/25) b2² + O(|b2|³): the relative deviation shrinks like |b2|."""
    dev = []
    for b2 in (-0.08, -0.02):
        hp, u0 = homoclinic_from_bt(bt_problem, "b2", (jnp.zeros(2), 0.0, 0.0),
                                    eps=float(np.sqrt(-b2)), ntst=60)
        sol = locate_homoclinic(hp, u0.at[-1].set(b2), remesh=1)
        dev.append(abs(float(sol.p1) / b2**2 + 6 / 25))
    assert dev[1] < 0.1 * 0.02  # |b1/b2² + 6/25| = O(|b2|) with a modest constant
    assert dev[1] < dev[0] / 2.5  # and it shrinks about linearly (b2 ratio 4)


@pytest.mark.slow
def test_bt_homoclinic_continuation(bt_problem):
    """Continue the curve in (b1, b2) on the engine; the end point (exactly at the
    bound b2 = -0.6), re-meshed and re-located, agrees with shooting; the saddle
    quantity along the curve is the trace at the saddle (= x+), positive here."""
    hp, u0 = homoclinic_from_bt(bt_problem, "b2", (jnp.zeros(2), 0.0, 0.0), eps=0.4,
                                T=60.0, ntst=30)
    sol = locate_homoclinic(hp, u0)
    hp = sol.problem.with_reference(sol.u)
    br = gru_bif.continuation(hp, sol.u[:-1], sol.u[-1], p_min=-0.6, p_max=0.0,
                              ds=-0.3, ds_max=3.0, max_steps=60)
    assert br.result == RESULTS.reached_parameter_bound
    view = HomoclinicBranch(hp, br)
    d = view.trimmed()
    assert d["p2"][-1] == -0.6
    xp = (-d["p2"] + np.sqrt(d["p2"] ** 2 - 4 * d["p1"])) / 2
    np.testing.assert_allclose(d["saddle_quantity"], xp, atol=1e-10)
    assert np.all(~np.asarray(br.stable[: len(view)]))  # σ > 0: unstable cycles born
    # along the curve b1 ≈ -(6/25) b2² to within 5 % of b2² (the curve is real)
    assert np.all(np.abs(d["p1"] / d["p2"] ** 2 + 0.24) < 0.05)
    hp2, u2 = remesh_homoclinic(hp, view.u(len(view) - 1), ntst=60)
    end = locate_homoclinic(hp2, u2, remesh=1)
    assert abs(float(end.p1) - shooting_b1(-0.6)) < 1e-8


# --------------------------------------------------------------------------- detection
def test_snic_cycle_is_told_apart():
    """x' = x(1 − r²) − y(μ − x), y' = y(1 − r²) + x(μ − x): on r = 1, θ' = μ − cos θ,
    a saddle-node on the invariant circle at μ = 1. For μ slightly above 1 the cycle is
    the unit circle with period 2π/√(μ² − 1) (closed form); classify → "snic"."""
    from gru_bif.periodic import CollocationProblem, correct_cycle, node_times

    def f(t, z, p):
        x, y = z
        r2 = x * x + y * y
        return jnp.stack([x * (1 - r2) - y * (p["mu"] - x), y * (1 - r2) + x * (p["mu"] - x)])

    mu = 1.02
    om = np.sqrt(mu**2 - 1)
    per = 2 * np.pi / om
    k = np.sqrt((mu - 1) / (mu + 1))
    # mesh: half uniform in time, half uniform in angle (the fast passage near θ = π)
    th_j = np.linspace(-np.pi, np.pi, 61)
    s_arc = np.arctan(np.tan(th_j / 2) / k) * 2 / om / per + 0.5
    mesh = 0.5 * np.linspace(0, 1, 61) + 0.5 * s_arc
    mesh[0], mesh[-1] = 0.0, 1.0
    s = np.asarray(node_times(jnp.asarray(mesh), 4))
    th = 2 * np.arctan(k * np.tan(om * (s - 0.5) * per / 2))
    nodes = np.stack([np.cos(th), np.sin(th)], -1)
    pr = Problem(f, {"mu": mu}, "mu")
    cp = CollocationProblem(pr, nodes, ntst=60, mesh=mesh)
    u, _, ok = correct_cycle(cp, cp.pack(jnp.asarray(nodes), per, mu))
    assert bool(ok)
    assert abs(float(cp.split(u)[1]) - per) < 1e-3 * per
    end = classify_cycle_end(cp, u)
    assert end.kind == "snic"


# --------------------------------------------------------------------------- bad input
def test_bad_input(bt_problem):
    orbit = lambda s: jnp.stack([jnp.cos(2 * jnp.pi * s), jnp.sin(2 * jnp.pi * s)], -1)  # noqa
    # the node x− is not a saddle
    with pytest.raises(ValueError, match="not a hyperbolic saddle"):
        homoclinic_problem(bt_problem, "b2", orbit, [-0.5 - np.sqrt(0.25 + 0.2), 0.0],
                           -0.05, -0.5, 40.0, ntst=10)
    with pytest.raises(ValueError, match="two different parameters"):
        homoclinic_problem(bt_problem, "b1", orbit, [1.0, 0.0], -0.05, -0.5, 40.0)
    with pytest.raises(ValueError, match="positive"):
        homoclinic_from_bt(bt_problem, "b2", (jnp.zeros(2), 0.0, 0.0), eps=-1.0)
    with pytest.raises(ValueError, match="Bogdanov"):
        bt_normal_form(bt_problem, "b2", jnp.array([1.0, 0.0]), -0.05, -0.5)


def test_result_codes(bt_problem):
    b2 = -0.5
    # truncation too short: T = 6 leaves the ends far from the saddle
    hp, u0 = homoclinic_from_bt(bt_problem, "b2", (jnp.zeros(2), 0.0, 0.0),
                                eps=float(np.sqrt(-b2)), T=6.0, ntst=60)
    sol = locate_homoclinic(hp, u0.at[-1].set(b2), throw=False)
    assert sol.result == RESULTS.homoclinic_truncation_too_short
    assert "Increase `T`" in RESULTS[sol.result]
    # a guess far from any homoclinic orbit: Newton fails (or finds no saddle)
    hp, u0 = homoclinic_from_bt(bt_problem, "b2", (jnp.zeros(2), 0.0, 0.0),
                                eps=float(np.sqrt(-b2)), T=60.0, ntst=60)
    X, xs, p1, p2 = hp.split(u0)
    bad = hp.pack(X * 5.0 + 3.0, xs, p1 + 3.0, p2)
    sol = locate_homoclinic(hp, bad, throw=False, max_iter=8)
    assert sol.result in (RESULTS.homoclinic_not_converged, RESULTS.homoclinic_no_saddle,
                          RESULTS.homoclinic_collapsed)
    with pytest.raises(RuntimeError, match="homoclinic"):
        locate_homoclinic(hp, bad, max_iter=8)
    with pytest.raises(ValueError, match="NaN"):
        locate_homoclinic(hp, u0.at[0].set(jnp.nan))
    with pytest.raises(ValueError, match="shape"):
        locate_homoclinic(hp, u0[:-3])


# --------------------------------------------------------------------------- GRU (slow)
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:continuation stopped early")  # max_steps is the plan
def test_gru_homoclinic_from_cycles():
    """The paper's network 4: cycles from the supercritical Hopf near -0.713 grow into a
    saddle loop near -0.705; detection on the cycle branch, location by the BVP, and
    agreement with an independent simulation bisection."""
    from gru_bif.homoclinic import detect_homoclinic, homoclinic_from_cycle
    from gru_bif.periodic import CycleBranch, cycle_from_hopf
    from gru_bif.reproduce import net_homoclinic
    from gru_bif.reproduce.homoclinic_network import _homoclinic_by_simulation

    pr = gru_bif.Problem.from_gru(net_homoclinic(-0.72), "bh[1]")
    eq = gru_bif.continuation(pr, jnp.array([0.735, 0.35]), -0.72, p_min=-0.8,
                              p_max=-0.69, ds=0.002)
    cp, u0 = cycle_from_hopf(pr, eq, dp=1e-3)
    br = gru_bif.continuation(cp, u0[:-1], u0[-1], p_min=-0.72, p_max=-0.69, ds=0.02,
                              ds_max=0.5, max_steps=150, throw=False)
    view = CycleBranch(cp, br)
    points, end = detect_homoclinic(view)
    assert end.kind == "homoclinic" and int(points.count) == 1
    assert points.to_list()[0]["kind"] == "homoclinic"
    hp, uh = homoclinic_from_cycle(cp, view.u(len(view) - 1), "bh[0]")
    sol = locate_homoclinic(hp, uh, remesh=1)
    lo, hi = _homoclinic_by_simulation()
    assert lo - 1e-6 <= float(sol.p1) <= hi + 1e-6, (float(sol.p1), lo, hi)
    assert round(float(sol.p1), 3) == -0.705
    assert float(sol.saddle_quantity) < 0  # a stable cycle is born (the paper's)
    np.testing.assert_allclose(np.asarray(sol.saddle), np.asarray(end.x_eq), atol=1e-4)


@pytest.mark.slow
def test_cli_homoclinic(tmp_path):
    sysfile = tmp_path / "bt.py"
    sysfile.write_text(
        "import jax.numpy as jnp\n"
        "PARAMS = {'b1': 0.0, 'b2': 0.0}\n"
        "X0 = [0.0, 0.0]\n"
        "def vector_field(t, x, p):\n"
        "    return jnp.array([x[1], p['b1'] + p['b2'] * x[0] + x[0]**2 + x[0] * x[1]])\n")
    out = tmp_path / "hom.json"
    r = subprocess.run(
        [sys.executable, "-m", "gru_bif.cli", "homoclinic", str(sysfile), "--params",
         "b1", "b2", "--from-bt", "0", "0", "--to", "-0.5", "--eps", "0.4", "--ntst", "30",
         "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    d = json.loads(out.read_text())
    assert d["param"] == "b2" and d["param1"] == "b1"
    p2 = np.array([pt["p"] for pt in d["points"]])
    p1 = np.array([pt["p1"] for pt in d["points"]])
    assert p2.min() == pytest.approx(-0.5)
    assert np.all(np.abs(p1 / p2**2 + 0.24) < 0.05)
    assert all("saddle_quantity" in pt for pt in d["points"])


def test_plots(bt_problem, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gru_bif.plotting import plot_homoclinic_curve, plot_homoclinic_orbit

    b2 = -0.5
    hp, u0 = homoclinic_from_bt(bt_problem, "b2", (jnp.zeros(2), 0.0, 0.0),
                                eps=float(np.sqrt(-b2)), T=60.0, ntst=60)
    sol = locate_homoclinic(hp, u0.at[-1].set(b2))
    ax = plot_homoclinic_orbit(sol)
    line = ax.get_lines()[0]
    xy = np.stack([line.get_xdata(), line.get_ydata()], -1)
    # the loop starts and ends at the saddle (within the truncation)
    assert np.linalg.norm(xy[0] - np.asarray(sol.saddle)) < 1e-3
    assert np.linalg.norm(xy[-1] - np.asarray(sol.saddle)) < 1e-3
    assert "saddle" in [t.get_text() for t in ax.get_legend().get_texts()]
    # a two-point "curve" branch from the solution, drawn dashed (σ > 0 here)
    from gru_bif.branch import Branch

    br = Branch.from_dict({"format": "gru_bif.branch", "version": 1, "param": "b2",
                           "num_points": 2, "stop_reason": "reached parameter bound",
                           "points": [{"p": b2, "x": [float(v) for v in sol.u[:-1]],
                                       "stable": False, "n_unstable": 1}] * 2,
                           "special_points": [], "stats": {}})
    view = HomoclinicBranch(sol.problem, br)
    ax2 = plot_homoclinic_curve(view)
    assert ax2.get_lines()[0].get_linestyle() == "--"
    ax2.figure.savefig(tmp_path / "c.png")
    plt.close("all")
