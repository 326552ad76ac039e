"""Periodic orbits by collocation: every number is checked against a closed form or an
independent computation written here.

Systems and their truth:

- Hopf normal form `x' = p x − y + s x r²`, `y' = x + p y + s y r²` (`s = −1`, ω = 1):
    `r' = r (p + s r²)`, `θ' = 1`, so for `p > 0` the cycle is the circle `r² = −p/s = p`
    with period exactly `2π`. Its non-trivial Floquet multiplier follows from the radial
    linearisation at `r₀ = √p`: `d/dr [r (p − r²)] = p − 3r₀² = −2p`, so
    `μ = exp(−2p · 2π)`.
- Bautin normal form `r' = r (b1 + b2 r² − r⁴)`, `θ' = 1` (`b2 = 1/2`): cycles
    `r² = (b2 ± √(b2² + 4 b1))/2`, period `2π`; the two collide in a fold of cycles at
    `b1 = −b2²/4`, `r² = b2/2`. Multiplier `exp(2π · 2r²(b2 − 2r²))` (radial
    linearisation `b1 + 3 b2 r² − 5 r⁴ = 2r²(b2 − 2r²)` on the cycle).
- A 3-D "twisted" cycle (`twisted_field` below): the unit circle in the (x, y) plane run
    at `θ' = 1`, whose transverse plane `(u, v) = (r − 1, z)` obeys
    `(u, v)' = κ J (u, v) + R(θ/2) diag(a, b) R(θ/2)ᵀ (u, v)`. In the frame rotating with
    `R(κθ)` the transverse dynamics are diagonal, so the transverse monodromy is
    `R(2πκ) diag(e^{2πa}, e^{2πb})`:
    - `κ = 1/2`, `a = p`, `b = −1`: multipliers `−e^{2πp}`, `−e^{−2π}` — a period
        doubling at `p = 0`;
    - `a = b = p` (the rotation term drops out of `S`), `κ = 0.3`: multipliers
        `e^{2πp} e^{±0.6πi}` — a Neimark–Sacker point at `p = 0` with angle `0.6π`.
- The 2-D GRU with `U_h = 3R(π/6)` (`gru_bif.examples.limit_cycle()`): a stable cycle
    around an unstable focus, period about 22 (paper.md); its period is checked against
    simple shooting with Diffrax written here (1e-8).
"""

import math

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gru_bif
from gru_bif.branch import SpecialKind
from gru_bif.models import Bautin, bautin_field, hopf_field
from gru_bif.periodic import (
    CollocationProblem,
    CycleBranch,
    adapt_mesh,
    correct_cycle,
    cycle_from_hopf,
    cycle_from_simulation,
    floquet_multipliers,
    monodromy,
    monodromy_by_integration,
    node_times,
    nontrivial_multipliers,
    uniform_mesh,
)
from gru_bif.periodic.floquet import (
    neimark_sacker_test,
    period_doubling_test,
    second_compound,
)

TWO_PI = 2 * math.pi


def specials(branch, kind):
    n = int(branch.special.count)
    k = np.asarray(branch.special.kind)[:n]
    idx = np.nonzero(k == int(kind))[0]
    out = {"p": np.asarray(branch.special.p)[:n][idx],
           "x": np.asarray(branch.special.x)[:n][idx],
           "located": np.asarray(branch.special.located)[:n][idx]}
    for name, v in branch.special.data.items():
        out[name] = np.asarray(v)[:n][idx]
    return out


def kinds(branch):
    n = int(branch.special.count)
    return sorted(SpecialKind(int(k)).label for k in np.asarray(branch.special.kind)[:n])


# --------------------------------------------------------------------------- fixtures
def radial_field(t, x, args):
    """`r' = r (b1 + b2 r² + b3 r⁴)`, `θ' = ω` in Cartesian coordinates: the Hopf normal
    form (`b1 = p`, `b2 = s`, `b3 = 0`) and the Bautin normal form (`b3 = −1`, `ω = 1`)
    in one function, so that both share compiled code (checked equal to the library's
    `hopf_field` and `bautin_field` below)."""
    x1, x2 = x[0], x[1]
    rho = x1**2 + x2**2
    g = args["b1"] + args["b2"] * rho + args["b3"] * rho**2
    w = args["omega"]
    return jnp.stack([g * x1 - w * x2, w * x1 + g * x2])


def radial_problem(b1, b2, b3, omega=1.0):
    args = {"b1": b1, "b2": b2, "b3": b3, "omega": omega}
    return gru_bif.Problem(radial_field, args, "b1")


def test_radial_field_is_the_library_normal_forms():
    rng = np.random.default_rng(1)
    for x in rng.normal(size=(5, 2)):
        x = jnp.asarray(x)
        hopf = hopf_field(0.0, x, {"p": 0.3, "omega": 1.0, "s": -1.0})
        mine = radial_field(0.0, x, {"b1": 0.3, "b2": -1.0, "b3": 0.0, "omega": 1.0})
        np.testing.assert_allclose(mine, hopf, rtol=1e-14)
        bautin = bautin_field(0.0, x, {"b1": -0.1, "b2": 0.5})
        mine = radial_field(0.0, x, {"b1": -0.1, "b2": 0.5, "b3": -1.0, "omega": 1.0})
        np.testing.assert_allclose(mine, bautin, rtol=1e-14)


# Both cycle branches below use these settings (same static values: one compilation).
CYCLE_KW = dict(max_steps=120, direction="backward")


@pytest.fixture(scope="module")
def hopf_cycles():
    """Equilibria of the Hopf normal form (s = −1, ω = 1) through its Hopf point, then
    cycles from it: started at p = 1 (radius 1) and continued down to p = 0.005."""
    problem = radial_problem(-0.5, -1.0, 0.0)
    eq = gru_bif.continuation(problem, jnp.zeros(2), -0.5, p_min=-0.5, p_max=0.5, ds=0.05)
    cp, u0 = cycle_from_hopf(problem, eq, dp=1.0)
    branch = gru_bif.continuation(
        cp, u0[:-1], u0[-1], p_min=0.005, p_max=1.0, ds=0.05, **CYCLE_KW
    )
    return problem, eq, cp, u0, branch


@pytest.fixture(scope="module")
def gru_cycle():
    gru, facts = gru_bif.examples.limit_cycle()
    problem = gru_bif.Problem.from_gru(gru, "bh[0]")
    cp, u0 = cycle_from_simulation(problem, jnp.array([0.1, 0.0]), 200.0, max_period=60.0)
    u, iters, ok = correct_cycle(cp, u0)
    return problem, facts, cp, u0, u, bool(ok)


def twisted_field(t, X, args):
    """See the module docstring: the unit circle with a twisting transverse plane."""
    x, y, z = X[0], X[1], X[2]
    r = jnp.sqrt(x**2 + y**2)
    c, s = x / r, y / r
    p = args["p"]
    a = args["a0"] + args["a1"] * p
    b = args["b0"] + args["b1"] * p
    k = args["kappa"]
    u, v = r - 1.0, z
    m, d = (a + b) / 2, (a - b) / 2
    du = (m + d * c) * u + d * s * v - k * v
    dv = d * s * u + (m - d * c) * v + k * u
    return jnp.stack([du * c - r * s, du * s + r * c, dv])


def twisted_start(args, ntst=20, ncol=4):
    problem = gru_bif.Problem(twisted_field, args, "p")
    t = np.asarray(node_times(uniform_mesh(ntst), ncol))
    nodes = np.stack([np.cos(TWO_PI * t), np.sin(TWO_PI * t), 0 * t], axis=1)
    cp = CollocationProblem(problem, nodes, ntst=ntst, ncol=ncol)
    return problem, cp, cp.pack(jnp.asarray(nodes), TWO_PI, args["p"])


# --------------------------------------------------------------------------- Hopf
def test_hopf_start_guess_is_the_normal_form_cycle(hopf_cycles):
    """For the normal form the amplitude formula is exact: radius √dp, period 2π."""
    _, eq, cp, u0, _ = hopf_cycles
    for dp in (1.0, 0.01):
        _, u = cycle_from_hopf(cp.problem, eq, dp=dp)
        X, T, p = cp.split(u)
        assert float(p) == pytest.approx(dp, abs=1e-14)
        np.testing.assert_allclose(np.linalg.norm(X, axis=1), math.sqrt(dp), atol=1e-12)
        assert float(T) == pytest.approx(TWO_PI, abs=1e-10)
        # the same start from the amplitude
        _, u2 = cycle_from_hopf(cp.problem, eq, amplitude=math.sqrt(dp))
        np.testing.assert_allclose(np.asarray(u2), np.asarray(u), atol=1e-12)


def test_hopf_cycles_against_closed_form(hopf_cycles):
    _, _, cp, _, branch = hopf_cycles
    assert branch.stop_reason == "reached parameter bound"
    view = CycleBranch(cp, branch)
    t = view.trimmed()
    n = len(t["p"])
    assert n > 10 and t["p"].min() == pytest.approx(0.005) and t["p"].max() == 1.0
    radius = np.sqrt(t["p"])  # r² = −p/s, s = −1
    r_nodes = np.linalg.norm(np.asarray(view.nodes[:n]), axis=2)
    assert np.max(np.abs(r_nodes - radius[:, None])) < 1e-8
    assert np.max(np.abs(t["period"] - TWO_PI)) < 1e-8
    # the orbit passes through (r, 0) at t = 0 (the reference's phase; the normal form
    # is rotation invariant), so the sampled maximum of x is the radius
    assert np.max(np.abs(t["x_max"][:, 0] - radius)) < 1e-8
    assert np.max(np.abs(t["x_min"][:, 1] + radius)) < 1e-4
    mu = np.asarray(view.multipliers())[:n, 0]
    want = np.exp(-2 * t["p"] * TWO_PI)
    assert np.max(np.abs(mu.imag)) == 0
    assert np.max(np.abs(mu.real / want - 1)) < 1e-8
    assert t["stable"].all() and np.all(np.asarray(branch.n_unstable[:n]) == 0)
    assert kinds(branch) == []  # no folds; d = 2 has no PD / NS tests
    assert cp.extra_kinds == ()
    # the orbit on a fine grid, closed, of length n
    ts, xs = view.orbit(n // 2, 101)
    assert ts.shape == (101,) and xs.shape == (101, 2)
    np.testing.assert_allclose(np.linalg.norm(xs, axis=1), radius[n // 2], atol=1e-6)
    np.testing.assert_allclose(xs[0], xs[-1], atol=1e-12)


def test_floquet_all_multipliers_and_monodromy(hopf_cycles):
    _, _, cp, _, branch = hopf_cycles
    view = CycleBranch(cp, branch)
    u = view.u(5)
    p = float(u[-1])
    mu = np.asarray(floquet_multipliers(cp, u))
    np.testing.assert_allclose(mu, [1.0, math.exp(-4 * math.pi * p)], atol=1e-9)
    # the radial direction is an eigenvector of the monodromy matrix
    M = np.asarray(monodromy(cp, u))
    X, _, _ = cp.split(u)
    x0 = np.asarray(X[0])
    np.testing.assert_allclose(M @ x0, math.exp(-4 * math.pi * p) * x0, atol=1e-9)


# --------------------------------------------------------------------------- Bautin
def test_bautin_fold_of_cycles_on_its_analytic_curve():
    """Subcritical Hopf at b1 = 0 (l1 = 2 b2 > 0); the unstable cycle grows as b1
    decreases, turns at the fold of cycles b1 = −b2²/4 and comes back stable."""
    b2 = 0.5
    nf = Bautin(b1=-0.1, b2=b2)
    problem = radial_problem(-0.1, b2, -1.0)
    eq = gru_bif.continuation(problem, jnp.zeros(2), -0.1, p_min=-0.1, p_max=0.1, ds=0.02)
    with pytest.raises(ValueError, match="other sign"):
        cycle_from_hopf(problem, eq, dp=+0.005, side="given")  # subcritical: b1 < 0
    # the default side="auto" picks the side where the cycles exist
    cp_a, u0_a = cycle_from_hopf(problem, eq, dp=+0.005)
    assert float(u0_a[-1]) == pytest.approx(-0.005)
    cp, u0 = cycle_from_hopf(problem, eq, dp=-0.005)
    np.testing.assert_allclose(np.asarray(u0_a), np.asarray(u0))
    branch = gru_bif.continuation(
        cp, u0[:-1], u0[-1], p_min=-0.1, p_max=-0.001, ds=0.01, **CYCLE_KW
    )
    assert kinds(branch) == ["fold_cycle"]
    fold = specials(branch, SpecialKind.FOLD_CYCLE)
    want = float(Bautin.fold_cycle_curve(b2))
    assert abs(fold["p"][0] - want) < 1e-8
    assert fold["located"][0]
    assert abs(fold["period"][0] - TWO_PI) < 1e-8
    assert abs(fold["mu_re"][0] - 1) < 1e-6 and fold["mu_im"][0] == 0
    X, T, _ = cp.split(jnp.asarray(fold["x"][0]))
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), math.sqrt(b2 / 2), atol=1e-6)
    # radii, stability and multipliers along the branch
    view = CycleBranch(cp, branch)
    t = view.trimmed()
    n = len(t["p"])
    r = np.linalg.norm(np.asarray(view.nodes[:n]), axis=2).mean(axis=1)
    inner = r**2 < b2 / 2
    radii = np.asarray(jax.vmap(lambda b: nf.cycle_radii({"b1": b}))(jnp.asarray(t["p"])))
    want_r = np.where(inner, radii[:, 1], radii[:, 0])
    near_fold = np.abs(r**2 - b2 / 2) < 1e-3  # r(b1) has infinite slope there
    assert np.max(np.abs(r - want_r)[~near_fold]) < 1e-8
    assert np.all(t["stable"] == ~inner)
    mu = np.asarray(view.multipliers())[:n, 0].real
    want_mu = np.exp(TWO_PI * 2 * r**2 * (b2 - 2 * r**2))
    assert np.max(np.abs(mu / want_mu - 1)) < 1e-8


# --------------------------------------------------------------------------- 3-D
def test_period_doubling_and_neimark_sacker_located():
    common = {"p": -0.3, "a0": 0.0, "a1": 1.0}
    pd_args = {**common, "kappa": 0.5, "b0": -1.0, "b1": 0.0}
    ns_args = {**common, "kappa": 0.3, "b0": 0.0, "b1": 1.0}
    # multipliers at the start, against the closed form
    _, cp, u0 = twisted_start(pd_args)
    assert cp.extra_kinds == (SpecialKind.PERIOD_DOUBLING, SpecialKind.NEIMARK_SACKER)
    u, _, ok = correct_cycle(cp, u0)
    assert ok
    mu = np.sort(np.asarray(nontrivial_multipliers(cp, u)).real)
    np.testing.assert_allclose(mu, np.sort([-math.exp(-0.6 * math.pi), -math.exp(-TWO_PI)]),
                               rtol=1e-8, atol=1e-11)
    for args, kind in ((pd_args, SpecialKind.PERIOD_DOUBLING),
                       (ns_args, SpecialKind.NEIMARK_SACKER)):
        _, cp, u0 = twisted_start(args)
        branch = gru_bif.continuation(cp, u0[:-1], u0[-1], p_min=-0.3, p_max=0.3,
                                      ds=0.05, max_steps=60)
        assert kinds(branch) == [kind.label], kinds(branch)
        sp = specials(branch, kind)
        assert abs(sp["p"][0]) < 1e-8 and sp["located"][0]
        assert abs(sp["period"][0] - TWO_PI) < 1e-8
        if kind == SpecialKind.PERIOD_DOUBLING:
            assert abs(sp["mu_re"][0] + 1) < 1e-8 and sp["mu_im"][0] == 0
            unstable_after = 1
        else:
            assert abs(sp["mu_re"][0] - math.cos(0.6 * math.pi)) < 1e-8
            assert abs(sp["mu_im"][0] - math.sin(0.6 * math.pi)) < 1e-8
            unstable_after = 2
        n = int(branch.num_points)
        p = np.asarray(branch.p[:n])
        nu = np.asarray(branch.n_unstable[:n])
        assert np.all(nu[p < -1e-6] == 0) and np.all(nu[p > 1e-6] == unstable_after)


def test_cycle_test_functions_on_matrices():
    rng = np.random.default_rng(0)
    D = jnp.asarray(rng.normal(size=(4, 4)))
    ev = np.linalg.eigvals(np.asarray(D))
    iu, ju = np.triu_indices(4, 1)
    got = np.sort_complex(np.linalg.eigvals(np.asarray(second_compound(D))))
    np.testing.assert_allclose(got, np.sort_complex(ev[iu] * ev[ju]), atol=1e-12)
    assert np.sign(period_doubling_test(D)) == np.sign(np.prod(ev + 1).real)
    assert np.sign(neimark_sacker_test(D)) == np.sign(np.prod(ev[iu] * ev[ju] - 1).real)


# --------------------------------------------------------------------------- GRU
def test_gru_cycle_from_simulation(gru_cycle):
    _, facts, cp, u0, u, ok = gru_cycle
    assert ok
    T = float(u[-2])
    assert abs(T - 22.29) < 0.01 and abs(T - facts["period"]) < 0.5
    assert abs(float(u0[-2]) - T) < 1e-3  # the Poincaré-return estimate
    mu = np.asarray(nontrivial_multipliers(cp, u))
    assert np.all(np.abs(mu) < 1)  # stable
    X, _, p = cp.split(u)
    M_int = np.asarray(monodromy_by_integration(cp.problem, X[0], T, p))
    assert np.max(np.abs(np.asarray(monodromy(cp, u)) - M_int)) < 1e-8
    assert float(cp.collocation_error(u)) < 1e-5


def _shooting_period(problem, x_ref, T0):
    """Simple shooting with Diffrax: unknowns (x0, T), equations φ_T(x0) − x0 = 0 and
    ⟨f(x_ref), x0 − x_ref⟩ = 0; Newton with forward-mode derivatives through the
    solver."""
    f, args = problem.f, problem.args
    d = x_ref.shape[0]
    f_ref = f(0.0, x_ref, args)

    def G(y):
        x0, T = y[:d], y[d]
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(f), diffrax.Dopri8(), 0.0, T, None, x0, args,
            stepsize_controller=diffrax.PIDController(rtol=1e-13, atol=1e-13),
            adjoint=diffrax.ForwardMode(), max_steps=100_000,
        )
        return jnp.concatenate([sol.ys[-1] - x0, jnp.dot(f_ref, x0 - x_ref)[None]])

    @jax.jit
    def newton(y):
        def body(_, y):
            return y - jnp.linalg.solve(jax.jacfwd(G)(y), G(y))
        y = jax.lax.fori_loop(0, 6, body, y)
        return y, G(y)

    y, res = newton(jnp.append(x_ref, T0))
    assert np.max(np.abs(np.asarray(res))) < 1e-10
    return float(y[d])


def test_gru_period_collocation_vs_shooting(gru_cycle):
    problem, _, cp, _, u, _ = gru_cycle
    X, T, _ = cp.split(u)
    T_shoot = _shooting_period(problem, X[0], float(T))
    assert abs(float(T) - T_shoot) < 1e-8


def test_adapt_mesh(gru_cycle):
    _, _, cp, _, u, _ = gru_cycle
    cp2, u2 = adapt_mesh(cp, u)
    assert cp2.ntst == cp.ntst
    h = np.diff(np.asarray(cp2.mesh))
    assert np.all(h > 0) and abs(h.sum() - 1) < 1e-14
    u2, _, ok = correct_cycle(cp2, u2)
    assert ok
    assert abs(float(u2[-2] - u[-2])) < 1e-9
    assert float(cp2.collocation_error(u2)) < float(cp.collocation_error(u))
    # a finer mesh: a larger problem
    cp3, u3 = adapt_mesh(cp, u, ntst=60)
    assert cp3.ntst == 60 and u3.shape == (60 * 4 * 2 + 2,)


@pytest.mark.slow
def test_gru_cycle_continuation(gru_cycle):
    """Cycles of the GRU continued in bh[0]: the system is symmetric under
    (h, bh) → (−h, −bh), so the period is even in bh[0]."""
    _, _, cp, _, u, _ = gru_cycle
    branch = gru_bif.continuation(cp, u[:-1], u[-1], p_min=-0.1, p_max=0.1, ds=0.02,
                                  max_steps=60, direction="both")
    view = CycleBranch(cp, branch)
    t = view.trimmed()
    assert t["stable"].all() and t["p"].min() == pytest.approx(-0.1)
    np.testing.assert_allclose(np.interp(0.05, t["p"], t["period"]),
                               np.interp(-0.05, t["p"], t["period"]), rtol=1e-5)


# --------------------------------------------------------------------------- bad input
def test_bad_input_messages(hopf_cycles):
    problem, eq, cp, u0, _ = hopf_cycles
    nodes = cp.reference
    with pytest.raises(ValueError, match="ntst=1"):
        CollocationProblem(problem, nodes, ntst=1)
    with pytest.raises(ValueError, match="ncol=9"):
        CollocationProblem(problem, nodes, ncol=9)
    with pytest.raises(ValueError, match=r"\(ntst \* ncol, d\)"):
        CollocationProblem(problem, nodes[:10])
    with pytest.raises(ValueError, match="d >= 2"):
        CollocationProblem(problem, nodes[:, :1])
    with pytest.raises(ValueError, match="mesh must increase"):
        CollocationProblem(problem, nodes, mesh=jnp.linspace(0, 2, 41))
    with pytest.raises(ValueError, match="Give `dp`"):
        cycle_from_hopf(problem, eq)
    with pytest.raises(ValueError, match="not a Hopf point"):
        cycle_from_hopf(problem, eq, 5, dp=0.01)
    with pytest.raises(ValueError, match="other sign"):
        cycle_from_hopf(problem, eq, dp=-0.01, side="given")
    # problem and branch must belong together
    other = gru_bif.Problem(problem.f, {**problem.args, "zz": 1.0}, "zz")
    with pytest.raises(ValueError, match="continued in"):
        cycle_from_hopf(other, eq, dp=0.01)
    with pytest.raises(ValueError, match="shape"):
        correct_cycle(cp, u0[:-1])



def test_simulation_that_settles_on_an_equilibrium(gru_cycle):
    gru, _ = gru_bif.examples.four_state_machine()  # four sinks, no cycle
    problem = gru_bif.Problem.from_gru(gru, "bh[0]")
    with pytest.raises(ValueError, match="equilibrium"):
        cycle_from_simulation(problem, jnp.array([0.1, 0.0]), 200.0, max_period=60.0)


@pytest.mark.slow
def test_cycle_from_hopf_on_a_gru():
    """The paper's homoclinic GRU has a supercritical Hopf point near bh[1] = −0.713,
    where the drift of the equilibrium and dβ/dp are not trivial: the start's amplitude
    must agree with the corrected cycle's to O(amplitude²), and dβ/dp with a finite
    difference of the eigenvalues."""
    from gru_bif.periodic.start import _hopf_geometry

    gru, _ = gru_bif.examples.homoclinic(b2=-0.8)
    problem = gru_bif.Problem.from_gru(gru, "bh[1]")
    x0 = gru_bif.find_equilibria(problem.f, problem.args, jnp.zeros((1, 2))).x[0]
    # the branch folds at −0.514 and −0.728 before it meets the Hopf point
    eq = gru_bif.continuation(problem, x0, -0.8, p_min=-0.8, p_max=-0.4, ds=0.01,
                              max_steps=400)
    hopf = specials(eq, SpecialKind.HOPF)
    assert abs(hopf["p"][0] + 0.713) < 1e-3 and hopf["l1"][0] < 0
    x_h, p_h = hopf["x"][0], hopf["p"][0]
    omega, _, dbeta, _, _ = _hopf_geometry(problem, x_h, p_h, hopf["omega"][0])
    assert abs(omega - hopf["omega"][0]) < 1e-10

    def re_lambda(p):
        xp = gru_bif.find_equilibria(problem.f, problem.with_p(p).args, x_h[None]).x[0]
        ev = np.linalg.eigvals(np.asarray(jax.jacfwd(lambda x: problem.F(x, p))(xp)))
        return ev.real.max()

    h = 1e-5
    assert abs((re_lambda(p_h + h) - re_lambda(p_h - h)) / (2 * h) - dbeta) < 1e-6

    def rms(X):
        X = np.asarray(X)
        return np.sqrt(np.mean(np.sum((X - X.mean(0)) ** 2, axis=1)))

    errors = []
    for dp in (1e-4, 4e-4):  # supercritical: cycles where the focus is unstable
        cp, u0 = cycle_from_hopf(problem, eq, dp=dp)
        u, _, ok = correct_cycle(cp, u0)
        assert ok
        errors.append(rms(cp.split(u)[0]) / rms(cp.split(u0)[0]) - 1)
    assert abs(errors[0]) < 1e-3
    assert 3 < errors[1] / errors[0] < 5  # O(amplitude²) = O(dp)
