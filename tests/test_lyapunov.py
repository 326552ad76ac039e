"""Lyapunov spectra (`gru_bif.chaos`): reference systems with known spectra, gradients
against closed forms and finite differences, jit/vmap, chaos maps, bad inputs.

Known answers:

- Lorenz (σ, ρ, β) = (10, 28, 8/3): (0.9056, 0, −14.5723) (Sprott 2003; Viswanath 1998),
    and the sum is the constant trace −(σ + 1 + β) exactly, at any horizon.
- Hopf normal form r' = r(p − r²), θ' = ω: the cycle r = √p has exponents (0, −2p).
- A linear system x' = A x: the sorted real parts of A's eigenvalues, and for a simple
    real leading eigenvalue dλ1/dA = w vᵀ / (wᵀ v) (w, v its left and right eigenvectors).
- A stable equilibrium: the real parts of the Jacobian's eigenvalues.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gru_bif
from gru_bif.chaos import (
    LORENZ_PARAMS,
    LORENZ_SPECTRUM,
    RESULTS,
    chaos_map,
    largest_lyapunov,
    lorenz_field,
    lyapunov_spectrum,
)
from gru_bif.models import hopf_field

SIGMA, RHO, BETA = LORENZ_PARAMS["sigma"], LORENZ_PARAMS["rho"], LORENZ_PARAMS["beta"]
TRACE = -(SIGMA + 1 + BETA)
# one static configuration for every Lorenz run (compiled once for the module)
LORENZ_KW = dict(t_transient=100.0, t_total=1000.0, dt_reorth=0.5, dt0=0.01)


def linear_field(t, x, A):
    return A @ x


def _lorenz_args(rho=RHO, dtype=float):
    return {"sigma": jnp.asarray(SIGMA, dtype), "rho": jnp.asarray(rho, dtype),
            "beta": jnp.asarray(BETA, dtype)}


@pytest.fixture(scope="module")
def lorenz():
    return lyapunov_spectrum(lorenz_field, jnp.array([1.0, 1.0, 1.0]), _lorenz_args(),
                             **LORENZ_KW)


def test_lorenz_spectrum(lorenz):
    lam, err = np.asarray(lorenz.exponents), np.asarray(lorenz.error)
    assert lorenz.successful
    # At T = 1000 the statistical error of λ1 is about 0.01 (batch means; three starts
    # differ by up to 0.01): 0.05 is five such errors. λ3's error is of the same size.
    assert abs(lam[0] - LORENZ_SPECTRUM[0]) < 0.05
    assert abs(lam[1]) < 0.01
    assert abs(lam[2] - LORENZ_SPECTRUM[2]) < 0.05
    # the estimate is honest: within 5 of its own error scale of the published values
    assert np.all(np.abs(lam - np.array(LORENZ_SPECTRUM)) < 5 * err + 1e-3)
    assert np.all(err > 0) and np.all(err < 0.03)
    # the sum is the trace, whatever the horizon: only integration error remains
    assert abs(float(lorenz.sum) - TRACE) < 1e-3
    assert abs(float(lorenz.sum) - TRACE) < 1e-6  # measured 7e-8 at dt0 = 0.01
    assert np.all(np.diff(lam) < 0)  # sorted descending
    # running estimates: fixed shape, last row is the result
    assert lorenz.history.shape == (2000, 3) and lorenz.times.shape == (2000,)
    np.testing.assert_allclose(lorenz.history[-1], lam, rtol=1e-12)
    assert float(lorenz.times[-1]) == pytest.approx(1000.0)
    # Kaplan–Yorke dimension 2 + λ1/|λ3| ≈ 2.062
    assert float(lorenz.kaplan_yorke_dimension) == pytest.approx(2.062, abs=0.005)


def test_lorenz_other_start_and_jit(lorenz):
    """jit around the front door; another start on the attractor agrees within errors;
    and a stable equilibrium (ρ = 10) gives the real parts of its eigenvalues."""
    f = jax.jit(lambda x0, args: lyapunov_spectrum(lorenz_field, x0, args, **LORENZ_KW))
    s = f(jnp.array([-5.0, 0.0, 30.0]), _lorenz_args())
    assert s.successful
    tol = 5 * np.sqrt(np.asarray(s.error) ** 2 + np.asarray(lorenz.error) ** 2)
    assert np.all(np.abs(np.asarray(s.exponents - lorenz.exponents)) < tol)
    assert abs(float(s.sum) - TRACE) < 1e-6

    rho = 10.0
    c = np.sqrt(BETA * (rho - 1))
    eq = np.array([c, c, rho - 1])
    J = np.array([[-SIGMA, SIGMA, 0], [rho - eq[2], -1, -eq[0]], [eq[1], eq[0], -BETA]])
    truth = np.sort(np.linalg.eigvals(J).real)[::-1]  # (-0.685, -0.685, -12.30)
    s = f(jnp.asarray(eq + 0.5), _lorenz_args(rho))
    np.testing.assert_allclose(s.exponents, truth, atol=2e-3)
    assert np.all(np.abs(np.asarray(s.exponents) - truth) < 3 * np.asarray(s.error) + 1e-3)


HOPF_KW = dict(t_transient=30.0, t_total=400.0, dt_reorth=1.0, dt0=0.05, t_align=20.0)


def _hopf_args(p):
    return {"p": jnp.asarray(p, float), "omega": 1.0, "s": -1.0}


def test_hopf_limit_cycle():
    """r' = r(p − r²), θ' = ω: the cycle r = √p has exponents 0 and −2p."""
    p = 0.5
    s = lyapunov_spectrum(hopf_field, jnp.array([0.1, 0.0]), _hopf_args(p), **HOPF_KW)
    lam, err = np.asarray(s.exponents), np.asarray(s.error)
    # t_align = 20 turns the frame onto the cycle's Floquet directions before counting:
    # no O(1/T) bias left (without it: 4e-3 at T = 400, which `error` reports)
    np.testing.assert_allclose(lam, [0.0, -2 * p], atol=1e-6)
    assert np.all(err < 1e-6)
    np.testing.assert_allclose(s.x_final @ s.x_final, p, rtol=1e-6)  # on the cycle


def test_vmap_over_parameters_and_states_equals_loop():
    ps = jnp.array([0.3, 0.8])
    x0s = jnp.array([[0.2, 0.0], [0.0, -0.5]])
    batched = jax.vmap(
        lambda p, x: lyapunov_spectrum(hopf_field, x, _hopf_args(p), **HOPF_KW))(ps, x0s)
    assert batched.exponents.shape == (2, 2) and batched.history.shape == (2, 400, 2)
    for i in range(2):  # the same program as test_hopf_limit_cycle's (no recompilation)
        one = lyapunov_spectrum(hopf_field, x0s[i], _hopf_args(ps[i]), **HOPF_KW)
        np.testing.assert_allclose(batched.exponents[i], one.exponents, rtol=1e-10,
                                   atol=1e-12)
        np.testing.assert_allclose(batched.error[i], one.error, rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(one.exponents, [0.0, -2 * ps[i]], atol=1e-6)
    assert np.all(np.asarray(batched.successful))


def _linear_A():
    V = np.array([[1.0, 0.4, -0.3], [0.2, 1.0, 0.5], [-0.1, 0.3, 1.0]])
    return V @ np.diag([-0.5, -1.0, -3.0]) @ np.linalg.inv(V)


LIN_KW = dict(t_transient=0.0, t_total=200.0, dt_reorth=0.5, dt0=0.05)


def test_linear_spectrum_and_gradient():
    A = jnp.asarray(_linear_A())

    def lam1(A):  # the full spectrum as aux: one compiled program for everything here
        s = lyapunov_spectrum(linear_field, jnp.zeros(3), A, **LIN_KW)
        return s.exponents[0], s.exponents

    value_and_grad = jax.jit(jax.value_and_grad(lam1, has_aux=True))
    (_, spectrum), g = value_and_grad(A)
    np.testing.assert_allclose(spectrum, [-0.5, -1.0, -3.0], atol=5e-3)

    # dλ1/dA = w vᵀ / (wᵀ v) for the leading eigenvalue -0.5
    evals, V = np.linalg.eig(_linear_A())
    i = np.argmax(evals.real)
    evalsT, W = np.linalg.eig(_linear_A().T)
    w = W[:, np.argmin(np.abs(evalsT - evals[i]))].real
    v = V[:, i].real
    analytic = np.outer(w, v) / (w @ v)
    g = np.asarray(g)
    # finite-horizon estimate: (λ1 T + log|c(A)|)/T, so its gradient is dλ1/dA + O(1/T)
    np.testing.assert_allclose(g, analytic, atol=2e-2)
    # ... and exactly the derivative of the computed (finite-T) function: central FD
    h = 1e-5
    for (r, c) in [(0, 0), (0, 2), (1, 0), (2, 1)]:
        E = jnp.zeros((3, 3)).at[r, c].set(h)
        fd = (float(value_and_grad(A + E)[0][0]) - float(value_and_grad(A - E)[0][0])) / (2 * h)
        assert g[r, c] == pytest.approx(fd, rel=1e-6, abs=1e-8)


def test_largest_lyapunov_is_the_first_exponent():
    """`largest_lyapunov` (k = 1: one tangent vector) is λ1 of the linear system."""
    A = jnp.asarray(_linear_A())
    lam = largest_lyapunov(linear_field, jnp.zeros(3), A, **LIN_KW)
    assert lam.shape == () and float(lam) == pytest.approx(-0.5, abs=5e-3)
    with pytest.raises(ValueError, match="k=1"):
        largest_lyapunov(linear_field, jnp.zeros(3), A, k=2, **LIN_KW)


def test_chaos_map_lorenz():
    """ρ = 10: stable equilibria (λ1 < 0); 28: chaos; 99.65 and 160: periodic windows;
    350: the stable cycle beyond ρ ≈ 313."""
    problem = gru_bif.Problem(lorenz_field, LORENZ_PARAMS, "rho")
    rhos = jnp.array([10.0, 28.0, 99.65, 160.0, 350.0])
    cmap = chaos_map(problem, jnp.array([1.0, 1.0, 1.0]), rhos, t_total=300.0,
                     chunk_size=2)
    assert cmap.exponents.shape == (5, 1) and cmap.error.shape == (5, 1)
    assert cmap.x_final.shape == (5, 3)
    np.testing.assert_array_equal(cmap.chaotic, [False, True, False, False, False])
    assert np.all(np.asarray(cmap.successful))
    assert float(cmap.largest[0]) < -0.5
    assert abs(float(cmap.largest[1]) - 0.9056) < 0.1
    assert np.all(np.abs(np.asarray(cmap.largest[2:])) < 0.02)


@pytest.mark.slow
def test_chaos_map_plain_field_equals_problem():
    problem = gru_bif.Problem(lorenz_field, LORENZ_PARAMS, "rho")
    rhos = jnp.array([10.0, 28.0, 160.0])
    kw = dict(t_total=50.0, t_transient=20.0)
    cmap = chaos_map(problem, jnp.array([1.0, 1.0, 1.0]), rhos, chunk_size=2, **kw)
    grid = {"sigma": jnp.full(3, SIGMA), "rho": rhos, "beta": jnp.full(3, BETA)}
    cmap2 = chaos_map(lorenz_field, jnp.array([1.0, 1.0, 1.0]), grid, chunk_size=None,
                      **kw)
    np.testing.assert_allclose(cmap2.exponents, cmap.exponents, rtol=1e-10, atol=1e-12)


def test_float32_lorenz():
    """float32: the exponents agree statistically, the sum to ~1e-4 (measured 4e-4)."""
    s = lyapunov_spectrum(lorenz_field, jnp.array([1.0, 1.0, 1.0], jnp.float32),
                          _lorenz_args(dtype=jnp.float32), **LORENZ_KW)
    assert s.exponents.dtype == jnp.float32 and s.successful
    assert abs(float(s.exponents[0]) - LORENZ_SPECTRUM[0]) < 0.05
    assert abs(float(s.exponents[1])) < 0.01
    assert abs(float(s.exponents[2]) - LORENZ_SPECTRUM[2]) < 0.05
    assert abs(float(s.sum) - TRACE) < 1e-3


def test_gru_field():
    """A GRU as `field` equals `gru_vector_field` with args {"gru", "u"}."""
    gru = gru_bif.GRU.random(jax.random.key(3), 3, scale=1.5)
    kw = dict(t_transient=0.0, t_total=10.0, dt_reorth=1.0, dt0=0.1, k=1)
    x0 = jnp.array([0.1, -0.2, 0.3])
    a = lyapunov_spectrum(gru, x0, **kw)
    b = lyapunov_spectrum(gru_bif.gru_vector_field, x0,
                          {"gru": gru, "u": jnp.zeros((0,))}, **kw)
    np.testing.assert_allclose(a.exponents, b.exponents, rtol=1e-12)


@pytest.mark.slow
def test_gru_weight_gradient():
    """λ1 of a GRU has finite gradients with respect to every weight, equal to central
    finite differences of the same finite-horizon function."""
    gru = gru_bif.GRU.random(jax.random.key(3), 3, scale=1.5)
    kw = dict(t_transient=20.0, t_total=20.0, dt_reorth=1.0, dt0=0.1)
    x0 = jnp.array([0.1, -0.2, 0.3])
    lam1 = lambda net: largest_lyapunov(net, x0, **kw)  # noqa: E731
    g = jax.grad(lam1)(gru)
    assert np.all(np.isfinite(np.asarray(g.Uh))) and np.any(np.asarray(g.Uh) != 0)
    h = 1e-6
    for (r, c) in [(0, 0), (1, 2)]:
        up = gru_bif.GRU(gru.Uh.at[r, c].add(h), gru.bh, Uz=gru.Uz, Ur=gru.Ur, bz=gru.bz,
                         br=gru.br)
        dn = gru_bif.GRU(gru.Uh.at[r, c].add(-h), gru.bh, Uz=gru.Uz, Ur=gru.Ur, bz=gru.bz,
                         br=gru.br)
        fd = (float(lam1(up)) - float(lam1(dn))) / (2 * h)
        assert float(g.Uh[r, c]) == pytest.approx(fd, rel=1e-5, abs=1e-8)


def test_throw_false_reports_failure():
    """A trajectory that blows up (x' = x², x0 = 1) gives a result code, not an error."""
    blowup = lambda t, x, args: x**2  # noqa: E731
    s = lyapunov_spectrum(blowup, jnp.array([1.0]), t_transient=0.0, t_total=4.0,
                          dt_reorth=1.0, dt0=0.01, throw=False)
    assert not s.successful
    assert s.result == RESULTS.lyapunov_nonfinite
    with pytest.raises(Exception, match="NaN or inf"):
        lyapunov_spectrum(blowup, jnp.array([1.0]), t_transient=0.0, t_total=4.0,
                          dt_reorth=1.0, dt0=0.01)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(x0=[np.nan, 1.0, 1.0]), "NaN or inf"),
        (dict(x0=[1.0, 1.0]), "system's dimension"),
        (dict(x0=[[1.0, 1.0, 1.0]]), r"shape \(d,\)"),
        (dict(t_total=0.0), "t_total"),
        (dict(t_total=-5.0), "t_total"),
        (dict(k=4), "1 ≤ k ≤ d = 3"),
        (dict(k=0), "1 ≤ k ≤ d = 3"),
        (dict(dt_reorth=2000.0), "dt_reorth"),
        (dict(dt0=0.0), "dt0"),
        (dict(t_transient=-1.0), "t_transient"),
        (dict(t_align=float("nan")), "t_align"),
    ],
)
def test_bad_inputs(kwargs, match):
    call = dict(x0=[1.0, 1.0, 1.0], t_total=10.0)
    call.update(kwargs)
    x0 = call.pop("x0")
    with pytest.raises(ValueError, match=match):
        lyapunov_spectrum(lorenz_field, jnp.asarray(x0), LORENZ_PARAMS, **call)


def test_bad_inputs_fields_and_maps():
    problem = gru_bif.Problem(lorenz_field, LORENZ_PARAMS, "rho")
    with pytest.raises(ValueError, match="args=None"):
        lyapunov_spectrum(problem, jnp.ones(3), LORENZ_PARAMS, t_total=10.0)
    with pytest.raises(ValueError, match="vector field f"):
        lyapunov_spectrum(42, jnp.ones(3), t_total=10.0)
    with pytest.raises(ValueError, match="Python number"):
        jax.jit(lambda T: lyapunov_spectrum(lorenz_field, jnp.ones(3), LORENZ_PARAMS,
                                            t_total=T))(10.0)
    with pytest.raises(ValueError, match=r"shape \(N,\)"):
        chaos_map(problem, jnp.ones(3), jnp.ones((2, 2)), t_total=10.0)
    with pytest.raises(ValueError, match="N = 3"):
        chaos_map(problem, jnp.ones((2, 3)), jnp.ones(3), t_total=10.0)
    with pytest.raises(ValueError, match="leading batch axis"):
        chaos_map(lorenz_field, jnp.ones(3), {"sigma": jnp.ones(2), "rho": jnp.ones(3),
                                              "beta": 1.0}, t_total=10.0)
    gru = gru_bif.GRU.random(jax.random.key(0), 2, input_size=1)
    with pytest.raises(ValueError, match="input size 1"):
        lyapunov_spectrum(gru, jnp.zeros(2), t_total=10.0)


def test_plots(lorenz, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gru_bif.plotting import plot_chaos_map, plot_lyapunov_history
    from gru_bif.chaos import ChaosMap

    ax = plot_lyapunov_history(lorenz)
    assert len(ax.lines) == 3
    ok = jnp.array([True, True, False])
    cmap = ChaosMap(grid=jnp.array([10.0, 28.0, 40.0]),
                    exponents=jnp.array([[-0.5], [0.9], [jnp.nan]]),
                    error=jnp.array([[1e-3], [1e-2], [jnp.nan]]),
                    chaotic=jnp.array([False, True, False]), x_final=jnp.zeros((3, 3)),
                    result=jax.vmap(lambda o: RESULTS.where(
                        o, RESULTS.successful, RESULTS.lyapunov_nonfinite))(ok),
                    threshold=0.0, n_sigma=3.0)
    ax = plot_chaos_map(cmap, xlabel="ρ")
    ax.figure.savefig(tmp_path / "map.png")
    with pytest.raises(ValueError, match="one-dimensional"):
        plot_chaos_map(cmap, grid=jnp.zeros((3, 2)))
    plt.close("all")


@pytest.mark.slow
@pytest.mark.parametrize("d, lam1, ky", [(3, 0.054, (2.02, 2.12)), (4, 0.118, (2.2, 2.8))])
def test_chaotic_gru(d, lam1, ky):
    """The GRUs found by the chaos-map search: λ1 ≈ 0.054 (3 units) and 0.118 (4 units)
    at t_total = 10,000 from several starts; at t_total = 1000 with steps of 0.02 the
    estimate carries ~0.01."""
    from gru_bif.chaos import CHAOTIC_GRU_X0, chaotic_gru

    gru = chaotic_gru(d)
    assert gru.hidden_size == d and gru.reset == "before" and gru.input_size == 0
    s = lyapunov_spectrum(gru, jnp.asarray(CHAOTIC_GRU_X0[d]), t_transient=500.0,
                          t_total=1000.0, dt_reorth=1.0, dt0=0.02)
    lam, err = np.asarray(s.exponents), np.asarray(s.error)
    assert lam[0] - 3 * err[0] > 0.0 and abs(lam[0] - lam1) < 0.4 * lam1
    assert abs(lam[1]) < 0.02  # the flow direction
    assert np.all(lam[2:] < -0.1) and float(s.sum) < 0
    assert ky[0] < float(s.kaplan_yorke_dimension) < ky[1]
    with pytest.raises(ValueError, match="hidden_size 3 and 4"):
        chaotic_gru(5)


@pytest.mark.slow
def test_chaos_map_over_grus_and_inputs():
    """The search's use: a batch of random GRUs through `gru_vector_field`, and a GRU's
    constant input as the grid; both equal one-by-one spectra."""
    keys = jax.random.split(jax.random.key(0), 3)
    grus = jax.vmap(lambda k: gru_bif.GRU.random(k, 3, scale=3.0))(keys)
    kw = dict(t_transient=10.0, t_total=20.0, dt_reorth=1.0, dt0=0.1)
    x0 = jnp.array([0.1, 0.2, -0.1])
    cmap = chaos_map(gru_bif.gru_vector_field, x0, {"gru": grus, "u": jnp.zeros((3, 0))},
                     chunk_size=2, **kw)
    assert cmap.exponents.shape == (3, 1) and np.all(np.asarray(cmap.successful))
    gru1 = jax.tree_util.tree_map(lambda a: a[1], grus)
    one = lyapunov_spectrum(gru1, x0, k=1, **kw)
    np.testing.assert_allclose(cmap.exponents[1], one.exponents, rtol=1e-10)

    gru = gru_bif.GRU.random(jax.random.key(1), 3, input_size=1, scale=3.0)
    us = jnp.array([[-0.5], [0.0], [0.5]])
    cmap = chaos_map(gru, x0, us, k=3, **kw)
    assert cmap.exponents.shape == (3, 3)
    one = lyapunov_spectrum(gru, x0, us[2], **kw)
    np.testing.assert_allclose(cmap.exponents[2], one.exponents, rtol=1e-10)
