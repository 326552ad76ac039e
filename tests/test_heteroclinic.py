"""Heteroclinic connections: the damped pendulum θ'' + μθ' + sin θ = τ (the saddle-to-
saddle connection from −π to π exists only on a curve μ(τ) with μ(0) = 0, dμ/dτ(0) = π/4,
orbit ω = 2 cos(θ/2) at τ = 0; the curve checked against an independent shooting with
scipy), a saddle-to-sink orbit against Diffrax, the ring of network 7 (8 connections),
gradients against finite differences, and bad input."""

import json

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

import gru_bif
from gru_bif import Problem
from gru_bif.homoclinic import (
    ConnectionGraph,
    HeteroclinicBranch,
    HeteroclinicProblem,
    connection_graph,
    heteroclinic_from_simulation,
    heteroclinic_point,
    heteroclinic_problem,
    locate_heteroclinic,
    remesh_heteroclinic,
)


# --------------------------------------------------------------------------- truth
def pendulum(t, x, a):
    th, om = x
    return jnp.stack([om, -a["mu"] * om - a["g"] * jnp.sin(th) + a["tau"]])


def _problem(mu=0.05, tau=0.0, g=1.0):
    return Problem(pendulum, {"mu": mu, "tau": tau, "g": g}, "mu")


def shooting_mu(tau, bracket, eps=1e-8):
    """μ of the upper connection between the saddles θ_s − 2π and θ_s, θ_s = π −
    arcsin τ, by shooting (scipy DOP853, rtol 1e-12) and Brent on μ: from `eps` along
    the left saddle's unstable eigenvector, `g(μ) = ω` where θ reaches θ_s (overshoot)
    or `θ − θ_s` where ω first vanishes (fall back); `g` changes sign at the connection."""
    th_s = np.pi - np.arcsin(tau)
    c = np.sqrt(1 - tau * tau)

    def g(mu):
        lam = (-mu + np.sqrt(mu * mu + 4 * c)) / 2
        y0 = [th_s - 2 * np.pi + eps, lam * eps]

        def rhs(t, y):
            return [y[1], -mu * y[1] - np.sin(y[0]) + tau]

        def hit(t, y):
            return y[0] - th_s
        hit.terminal, hit.direction = True, 1

        def stop(t, y):
            return y[1]
        stop.terminal, stop.direction = True, -1
        sol = solve_ivp(rhs, (0, 400), y0, method="DOP853", rtol=1e-12, atol=1e-14,
                        events=(hit, stop))
        if sol.t_events[0].size:
            return sol.y_events[0][0][1]
        return sol.y_events[1][0][0] - th_s

    return brentq(g, *bracket, xtol=1e-14, rtol=1e-14)


@pytest.fixture(scope="module")
def located():
    """The upper connection −π → π located from μ = 0.05 (τ = 0), T = 40."""
    hp, u0 = heteroclinic_from_simulation(_problem(), [-np.pi, 0.0], [np.pi, 0.0],
                                          direction=1, T=40.0, param2="tau", ntst=60)
    return locate_heteroclinic(hp, u0, remesh=1)


# --------------------------------------------------------------------------- tests
def test_pendulum_connection_located_at_mu_zero(located):
    sol = located
    hp = sol.problem
    assert hp.free_parameter and (hp.n_minus, hp.n_plus) == (1, 1)
    assert abs(float(sol.p1)) <= 1e-8
    np.testing.assert_allclose(sol.x_minus, [-np.pi, 0.0], atol=1e-12)
    np.testing.assert_allclose(sol.x_plus, [np.pi, 0.0], atol=1e-12)
    assert float(sol.residual) < 1e-10
    # closed form ω = 2 cos(θ/2). Collocation (ncol = 4) is superconvergent at the
    # mesh points (O(h^8)) and O(h^5) at the interior nodes: measured at ntst = 40, 80,
    # 120: 5.9e-10, 2.4e-12, 1.4e-13 (mesh points), 4.1e-7, 1.3e-8, 1.7e-9 (all nodes);
    # 2.4e-11 and 5.5e-8 at ntst = 60.
    X = hp.split(sol.u)[0]
    err = np.abs(np.asarray(X[:, 1] - 2 * np.cos(X[:, 0] / 2)))
    assert err[:: hp.ncol].max() < 1e-9
    assert err.max() < 5e-7
    # the time course: θ(t) = 4 arctan(e^(t − t0)) − π, i.e. t − log tan((θ + π)/4)
    # is the constant t0 (fitted on the middle of the orbit)
    ts, xs = sol.orbit(401)
    ts, xs = np.asarray(ts), np.asarray(xs)
    mid = np.abs(xs[:, 0]) < 2.5
    t0 = np.mean(ts[mid] - np.log(np.tan((xs[mid, 0] + np.pi) / 4)))
    np.testing.assert_allclose(xs[:, 0], 4 * np.arctan(np.exp(ts - t0)) - np.pi, atol=1e-6)


def test_pendulum_mu_gradient(located):
    """dμ/dτ at τ = 0 is π/4 (Melnikov: μ ∫ω² dt = 2πτ, ∫ω² = 8 on the separatrix);
    dμ/dg at τ = 0.2 (through `args`) against central differences of located μ."""
    sol = located
    grad_tau = jax.grad(lambda tau: heteroclinic_point(
        sol.problem, sol.u.at[-1].set(tau))[-2])(sol.p2)
    assert abs(float(grad_tau) - np.pi / 4) < 1e-9
    h = 1e-4
    mus = [float(locate_heteroclinic(sol.problem, sol.u.at[-1].set(s)).p1)
           for s in (h, -h)]
    assert abs((mus[0] - mus[1]) / (2 * h) - float(grad_tau)) < 1e-7
    # a parameter that enters only through args: the gravity g, at τ = 0.2
    sol2 = locate_heteroclinic(sol.problem, sol.u.at[-1].set(0.2), remesh=1)
    hp2, args = sol2.problem, sol2.problem.problem.args
    dg = jax.grad(lambda a: heteroclinic_point(hp2, sol2.u, args=a)[-2])(args)["g"]

    def mu_at(g):
        # the saddles move with g: θ_s = π − arcsin(τ / g)
        hp_g = eqx.tree_at(lambda c: c.problem.args, hp2, dict(args, g=jnp.asarray(g)))
        _, xm, xp, p1, p2 = hp_g.split(sol2.u)
        th = np.pi - np.arcsin(0.2 / g)
        u = hp_g.pack(hp_g.split(sol2.u)[0], jnp.array([th - 2 * np.pi, 0.0]),
                      jnp.array([th, 0.0]), p1, p2)
        return float(locate_heteroclinic(hp_g, u).p1)

    fd = (mu_at(1 + h) - mu_at(1 - h)) / (2 * h)
    assert abs(float(dg) - fd) < 1e-6 * max(1.0, abs(fd))
    assert abs(float(dg)) > 1e-3


def test_pendulum_connection_in_tau_against_shooting(located):
    """Locate the connection at τ = 0.1 and 0.25 (natural-parameter steps from τ = 0)
    and compare μ(τ) with shooting."""
    sol = located
    u = sol.u
    for tau in (0.1, 0.25):
        s = locate_heteroclinic(sol.problem, u.at[-1].set(tau))
        u = s.u
        th = np.pi - np.arcsin(tau)
        np.testing.assert_allclose(s.x_plus, [th, 0.0], atol=1e-12)
        np.testing.assert_allclose(s.x_minus, [th - 2 * np.pi, 0.0], atol=1e-12)
        ref = shooting_mu(tau, (float(s.p1) - 0.02, float(s.p1) + 0.02))
        assert abs(float(s.p1) - ref) < 1e-9, (tau, float(s.p1), ref)


@pytest.mark.slow
def test_pendulum_connection_curve_against_shooting(located):
    """Continue the connection in (μ, τ) on the engine and compare μ(τ) with shooting."""
    sol = located
    curve = gru_bif.continuation(sol.problem.with_reference(sol.u), sol.u[:-1],
                                 sol.u[-1], p_min=-0.05, p_max=0.3, ds=0.05, ds_max=0.2,
                                 max_steps=60)
    view = HeteroclinicBranch(sol.problem, curve)
    n = len(view)
    tau, mu = np.asarray(view.p2[:n]), np.asarray(view.p1[:n])
    assert tau.max() >= 0.29 and np.all(np.diff(mu) * np.diff(tau) > 0)
    # the saddles follow sin θ = τ
    np.testing.assert_allclose(np.asarray(view.x_plus[:n, 0]), np.pi - np.arcsin(tau),
                               atol=1e-10)
    for k in (n // 3, n - 1):
        ref = shooting_mu(tau[k], (mu[k] - 0.02, mu[k] + 0.02))
        assert abs(mu[k] - ref) < 1e-8, (tau[k], mu[k], ref)


def test_saddle_to_sink_orbit_against_simulation():
    """At μ = 1 the left branch of the saddle at π's unstable manifold spirals into the
    focus at 0: an orbit (no parameter), compared with Diffrax from the eigenvector."""
    pr = _problem(mu=1.0)
    hp, u0 = heteroclinic_from_simulation(pr, [np.pi, 0.0], [0.0, 0.0], direction=-1,
                                          ntst=80)
    assert not hp.free_parameter and (hp.n_minus, hp.n_plus) == (1, 0)
    sol = locate_heteroclinic(hp, u0, remesh=1)
    assert float(sol.p1) == 1.0  # pinned
    np.testing.assert_allclose(sol.x_plus, [0.0, 0.0], atol=1e-12)
    assert float(sol.residual) < 1e-10
    # reference: from 1e-9 along the unstable eigenvector (θ decreasing)
    lam = (-1 + np.sqrt(5)) / 2
    v = -np.array([1.0, lam]) / np.hypot(1.0, lam)
    eps = 1e-9
    ref = diffrax.diffeqsolve(
        diffrax.ODETerm(pendulum), diffrax.Dopri8(), 0.0, 120.0, 1e-3,
        jnp.asarray(np.array([np.pi, 0.0]) + eps * v), args=pr.args,
        saveat=diffrax.SaveAt(dense=True),
        stepsize_controller=diffrax.PIDController(rtol=1e-13, atol=1e-15),
        max_steps=100000)
    # align the times where θ = π/2 (BVP orbit and reference)
    ts, xs = (np.asarray(a) for a in sol.orbit(4001))
    t_b = np.interp(-np.pi / 2, -xs[:, 0], ts)  # θ decreasing through π/2
    t_r = 0.0
    tt = np.linspace(0, 120, 24001)
    th = np.asarray(jax.vmap(ref.evaluate)(jnp.asarray(tt)))[:, 0]
    t_r = np.interp(-np.pi / 2, -th[: np.argmax(th < 0)], tt[: np.argmax(th < 0)])
    for _ in range(3):  # Newton on θ_ref(t) = π/2
        x = np.asarray(ref.evaluate(t_r))
        t_r -= (x[0] - np.pi / 2) / x[1]
    s = ts - t_b + t_r
    keep = s >= 0
    xr = np.asarray(jax.vmap(ref.evaluate)(jnp.asarray(s[keep])))
    err = np.max(np.abs(xr - xs[keep]))
    assert err < 1e-6, err


def test_ring_connection_graph():
    """Network 7 (the ring, U_h = 3·I₂): 4 saddles, 4 sinks, 8 connections, each saddle
    joined to its two neighbouring sinks."""
    gru, _ = gru_bif.examples.ring()
    pr = Problem.from_gru(gru, "bh[0]")
    eq = gru_bif.find_equilibria(pr)
    assert eq.counts() == {"stable node": 4, "saddle": 4, "unstable node": 1}
    g = connection_graph(pr, eq)
    assert isinstance(g, ConnectionGraph)
    edges = g.edges()
    assert len(edges) == 8 == g.num_edges
    X = np.asarray(g.equilibria)
    kinds = [gru_bif.equilibria.kind_name(int(k)) for k in np.asarray(g.kind)]
    saddles = [i for i, k in enumerate(kinds) if k == "saddle"]
    sinks = [i for i, k in enumerate(kinds) if k == "stable node"]
    angle = np.arctan2(X[:, 1], X[:, 0])
    for s in saddles:
        targets = sorted(t for (a, t) in edges if a == s)
        # the two sinks nearest in angle around the ring
        gap = np.abs(np.angle(np.exp(1j * (angle[sinks] - angle[s]))))
        nearest = sorted(np.asarray(sinks)[np.argsort(gap)[:2]].tolist())
        assert targets == nearest
        assert np.allclose(np.sort(gap)[:2], np.pi / 4, atol=1e-6)
    assert bool(np.all(np.asarray(g.polished)))
    assert float(np.max(g.residual)) < 1e-10
    # each orbit leaves its saddle and ends at its sink
    for e, (s, t) in enumerate(edges):
        assert np.linalg.norm(np.asarray(g.orbit[e, 0]) - X[s]) < 1e-4
        assert np.linalg.norm(np.asarray(g.orbit[e, -1]) - X[t]) < 1e-4
    d = g.to_dict()
    assert len(d["edges"]) == 8 and d["format"] == "gru_bif.connection_graph"
    assert "8 of 8" in g.summary()


def test_plot_connection_graph(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from gru_bif.plotting import plot_connection_graph

    gru, _ = gru_bif.examples.ring()
    pr = Problem.from_gru(gru, "bh[0]")
    g = connection_graph(pr, polish=False)
    ax = plot_connection_graph(g, portrait=pr)
    assert len(ax.lines) >= 8
    ax.figure.savefig(tmp_path / "ring.png")


def test_bad_input():
    pr = _problem()
    # a sink as the source
    with pytest.raises(ValueError, match="no unstable direction"):
        heteroclinic_problem(pr, None, lambda s: jnp.zeros((s.shape[0], 2)),
                             [0.0, 0.0], [np.pi, 0.0])
    # saddle to source: codimension ≥ 2
    pr_neg = _problem(mu=-0.5)
    with pytest.raises(ValueError, match="codimension"):
        heteroclinic_problem(pr_neg, None, lambda s: jnp.zeros((s.shape[0], 2)),
                             [np.pi, 0.0], [0.0, 0.0])
    with pytest.raises(ValueError, match="param2"):
        HeteroclinicProblem(pr, "mu", jnp.zeros((5, 2)), 10.0, 1, 1, jnp.zeros((2, 1)),
                            jnp.zeros((2, 1)), ntst=2, ncol=2)
    with pytest.raises(ValueError, match="direction"):
        heteroclinic_from_simulation(pr, [np.pi, 0.0], [0.0, 0.0], direction=2)
    with pytest.raises(ValueError, match="GRU"):
        connection_graph(lambda t, x, a: x)


def test_remesh_keeps_solution(located):
    sol = located
    hp2, u2 = remesh_heteroclinic(sol.problem, sol.u, T=44.0)
    sol2 = locate_heteroclinic(hp2, u2)
    assert float(sol2.T) == 44.0 and abs(float(sol2.p1)) <= 1e-8
    d = json.loads(json.dumps(sol2.to_dict()))
    assert d["free_parameter"] and d["message"] == "" and d["T"] == 44.0


# --------------------------------------------------------------------------- 3-D
def bistable3(t, x, a):
    """x' = a x − x³, y' = a y − y³, z' = −z: at a = 1 the origin has a 2-D unstable
    manifold (the plane z = 0), sinks at (±1, ±1, 0), saddles with one zero coordinate."""
    return jnp.stack([a["a"] * x[0] - x[0] ** 3, a["a"] * x[1] - x[1] ** 3, -x[2]])


@pytest.mark.slow
def test_two_dimensional_unstable_manifold_direction_row():
    """Origin (n_− = 2) to the sink (1, 1, 0) (n_+ = 0): one direction row keeps the
    departure along (1, 1, 0), so x = y = 1/√(1 + C e^(−2t)), z = 0."""
    pr = Problem(bistable3, {"a": 1.0}, "a")
    hp, u0 = heteroclinic_from_simulation(pr, [0.0, 0.0, 0.0], [1.0, 1.0, 0.0],
                                          direction=np.array([1.0, 1.0, 0.0]), ntst=40)
    assert (hp.n_minus, hp.n_plus) == (2, 0) and hp.D.shape == (3, 1)
    sol = locate_heteroclinic(hp, u0)
    X = np.asarray(sol.problem.split(sol.u)[0])
    assert np.max(np.abs(X[:, 0] - X[:, 1])) < 1e-12 and np.max(np.abs(X[:, 2])) < 1e-12
    ts, xs = (np.asarray(a) for a in sol.orbit(401))
    mid = (xs[:, 0] > 0.05) & (xs[:, 0] < 0.95)
    # 1/x² − 1 = C e^(−2t): log(1/x² − 1) + 2t is constant
    c = np.log(1 / xs[mid, 0] ** 2 - 1) + 2 * ts[mid]
    assert np.ptp(c) < 1e-5


@pytest.mark.slow
def test_connection_graph_three_dimensions():
    """4 saddles (one unstable direction) × 2 branches, and the origin (two) × 4
    directions ±q_k: 12 connections, all polished."""
    pr = Problem(bistable3, {"a": 1.0}, "a")
    eq = gru_bif.find_equilibria(pr, box=(-1.5 * np.ones(3), 1.5 * np.ones(3)))
    assert int(eq.count) == 9
    g = connection_graph(pr, eq)
    assert len(g.edges()) == 12 == g.num_edges
    assert bool(np.all(np.asarray(g.polished)))
    assert float(np.max(g.residual)) < 1e-10
    n_u = np.asarray(g.n_unstable)
    for s, t in g.edges():
        assert n_u[t] < n_u[s]


@pytest.mark.slow
def test_saddle_to_sink_orbit_continued():
    """A persistent orbit continued in τ on the engine: μ stays pinned, the sink follows
    θ = arcsin τ."""
    pr = _problem(mu=1.0)
    hp, u0 = heteroclinic_from_simulation(pr, [np.pi, 0.0], [0.0, 0.0], direction=-1,
                                          param2="tau", ntst=60)
    sol = locate_heteroclinic(hp, u0)
    c = gru_bif.continuation(sol.problem.with_reference(sol.u), sol.u[:-1], sol.u[-1],
                             p_min=-0.1, p_max=0.5, ds=0.05, ds_max=0.2, max_steps=60)
    v = HeteroclinicBranch(sol.problem, c)
    n = len(v)
    tau = np.asarray(v.p2[:n])
    assert tau.max() >= 0.5 - 1e-12
    np.testing.assert_array_equal(np.asarray(v.p1[:n]), 1.0)
    np.testing.assert_allclose(np.asarray(v.x_plus[:n, 0]), np.arcsin(tau), atol=1e-12)
