"""The analytic normal forms agree with their own vector fields: every claimed equilibrium
is a zero, every claimed bifurcation has the claimed eigenvalues, and every claimed
normal-form coefficient matches the textbook formula evaluated with JAX derivatives."""

import itertools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gru_bif.models.normal_forms import (
    AbstractNormalForm,
    AnalyticPoint,
    Bautin,
    BogdanovTakens,
    Cusp,
    Hopf,
    Pitchfork,
    SaddleNode,
    Transcritical,
    bautin_field,
    hopf_field,
    saddle_node_field,
)

ALL = (SaddleNode, Transcritical, Pitchfork, Hopf, Cusp, BogdanovTakens, Bautin)

PARAM_SETS = {
    SaddleNode: [{}, {"p": 0.3, "a": -2.0}, {"p": -0.5, "a": 0.5}, {"p": 2.0}],
    Transcritical: [{}, {"p": 0.7}, {"p": 0.0}],
    Pitchfork: [{}, {"p": 0.4}, {"p": -0.4, "s": 1.0}, {"p": 0.4, "s": 1.0}],
    Hopf: [{}, {"p": 0.3, "omega": 2.0}, {"p": -0.2, "s": 1.0}],
    Cusp: [
        {},
        {"b1": 0.1, "b2": 2.0},
        {"b1": -0.3, "b2": 1.0},
        {"b1": 0.5, "b2": -1.0},
        {"b1": 1e-3, "b2": 1e-2},
        {"b1": 5.0, "b2": 3.0},
        {"b1": 0.0, "b2": 0.0},
    ],
    BogdanovTakens: [{}, {"b1": 0.1, "b2": 1.0}, {"b1": -0.2, "b2": 0.3}, {"b1": 1.0}],
    Bautin: [{}, {"b1": 0.1, "b2": -0.3}],
}


# --------------------------------------------------------------------------- helpers


def _f(nf: AbstractNormalForm, params: dict):
    p = {**nf.params, **params}
    return lambda x: nf.vector_field(0.0, x, p)


def _complexify(form):
    """Extend a real multilinear form to complex arguments by multilinearity."""

    def g(*args):
        total = 0
        for choice in itertools.product((0, 1), repeat=len(args)):
            parts = [jnp.asarray(a.imag if c else a.real) for a, c in zip(args, choice)]
            total = total + (1j ** sum(choice)) * np.asarray(form(*parts))
        return total

    return g


def _forms(f, x0):
    def B(u, v):
        return jax.jvp(lambda y: jax.jvp(f, (y,), (u,))[1], (x0,), (v,))[1]

    def C(u, v, w):
        def inner(z):
            return jax.jvp(lambda y: jax.jvp(f, (y,), (u,))[1], (z,), (v,))[1]

        return jax.jvp(inner, (x0,), (w,))[1]

    return _complexify(B), _complexify(C)


def _fold_coefficient(f, x0):
    A = np.asarray(jax.jacfwd(f)(x0))
    w, V = np.linalg.eig(A)
    q = np.real(V[:, np.argmin(np.abs(w))])
    q = q / np.linalg.norm(q)
    wl, W = np.linalg.eig(A.T)
    p = np.real(W[:, np.argmin(np.abs(wl))])
    p = p / (p @ q)
    B, _ = _forms(f, x0)
    return 0.5 * np.real(p @ B(q, q))


def _first_lyapunov(f, x0):
    """Kuznetsov's l1 with ⟨q, q⟩ = 1, ⟨p, q⟩ = 1."""
    A = np.asarray(jax.jacfwd(f)(x0))
    n = A.shape[0]
    w, V = np.linalg.eig(A)
    i = np.argmax(w.imag)
    om = w[i].imag
    q = V[:, i] / np.sqrt(np.vdot(V[:, i], V[:, i]))
    wl, W = np.linalg.eig(A.T)
    p = W[:, np.argmin(np.abs(wl + 1j * om))]
    p = p / np.conj(np.vdot(p, q))
    assert abs(np.vdot(p, q) - 1) < 1e-12
    B, C = _forms(f, x0)
    qb = q.conj()
    value = (
        np.vdot(p, C(q, q, qb))
        - 2 * np.vdot(p, B(q, np.linalg.solve(A, B(q, qb))))
        + np.vdot(p, B(qb, np.linalg.solve(2j * om * np.eye(n) - A, B(q, q))))
    )
    return value.real / (2 * om), om


# --------------------------------------------------------------------------- all forms


@pytest.mark.parametrize("cls", ALL)
def test_structure(cls):
    nf = cls()
    assert isinstance(nf, AbstractNormalForm)
    assert nf.param in nf.params
    assert nf.dim == nf.x0.shape[0]
    # vector_field is the module-level function, the same object for every instance
    assert cls(**{k: v + 0.5 for k, v in nf.params.items()}).vector_field is nf.vector_field
    assert nf.vector_field.__module__ == "gru_bif.models.normal_forms"
    # x0 is an equilibrium at the default parameters
    assert np.max(np.abs(nf(0.0, nf.x0))) < 1e-12
    assert np.allclose(nf(0.0, nf.x0 + 0.1), nf.vector_field(0.0, nf.x0 + 0.1, nf.params))


@pytest.mark.parametrize("cls", ALL)
def test_equilibria_are_zeros(cls):
    nf = cls()
    total = 0
    for params in PARAM_SETS[cls]:
        eq = np.asarray(nf.equilibria(params))
        assert eq.ndim == 2 and eq.shape[1] == nf.dim
        f = _f(nf, params)
        found = eq[~np.any(np.isnan(eq), axis=1)]
        total += len(found)
        for x in found:
            assert np.max(np.abs(f(jnp.asarray(x)))) < 1e-12, (cls.__name__, params, x)
    assert total >= len(PARAM_SETS[cls])


@pytest.mark.parametrize("cls", ALL)
def test_special_points(cls):
    nf = cls()
    points = nf.special_points()
    assert points and all(isinstance(pt, AnalyticPoint) for pt in points)
    for pt in points:
        f = _f(nf, pt.params)
        x = jnp.asarray(pt.x)
        if pt.kind == "fold_cycle":
            continue  # checked in test_bautin
        assert np.max(np.abs(f(x))) < 1e-12
        eig = np.linalg.eigvals(np.asarray(jax.jacfwd(f)(x)))
        if pt.kind in ("fold", "branch_point"):
            assert np.min(np.abs(eig)) < 1e-12
        elif pt.kind == "hopf":
            om = pt.data["omega"]
            assert np.allclose(np.sort(eig.imag), [-om, om], atol=1e-12)
            assert np.allclose(eig.real, 0.0, atol=1e-12)
        else:
            raise AssertionError(pt.kind)
        if pt.kind == "fold":
            assert abs(_fold_coefficient(f, x) - pt.data["a"]) < 1e-10
        if pt.kind == "hopf":
            l1, om = _first_lyapunov(f, x)
            assert abs(om - pt.data["omega"]) < 1e-12
            assert abs(l1 - pt.data["l1"]) < 1e-10


def test_vector_field_does_not_retrace():
    @jax.jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def f(x, args):
        return hopf_field(0.0, x, args)

    for nf in (Hopf(), Hopf(p=0.5, omega=2.0), Hopf(s=1.0)):
        f(jnp.ones(2), nf.params)


def test_validation():
    with pytest.raises(ValueError, match="a must be non-zero"):
        SaddleNode(a=0.0)
    with pytest.raises(ValueError, match="s must be non-zero"):
        Pitchfork(s=0.0)
    with pytest.raises(ValueError, match="omega must be non-zero"):
        Hopf(omega=0.0)
    with pytest.raises(ValueError, match="'b1' must be a finite scalar"):
        Cusp(b1=float("nan"))


# --------------------------------------------------------------------------- codim 1


def test_saddle_node():
    nf = SaddleNode()
    assert nf.vector_field is saddle_node_field
    eq = nf.equilibria({"p": 0.25})
    assert np.allclose(eq[:, 0], [0.5, -0.5])
    assert np.all(np.isnan(nf.equilibria({"p": -0.1})))
    # for a < 0 the first equilibrium is stable
    assert nf.jacobian(eq[0], {"p": 0.25})[0, 0] < 0 < nf.jacobian(eq[1], {"p": 0.25})[0, 0]


def test_transcritical_and_pitchfork_exchange_stability():
    tc = Transcritical()
    for p in (-0.5, 0.5):
        slopes = [tc.jacobian(x, {"p": p})[0, 0] for x in tc.equilibria({"p": p})]
        assert (slopes[0] < 0) == (p < 0) and (slopes[1] < 0) == (p > 0)
    pf = Pitchfork()
    eq = pf.equilibria({"p": 0.49})
    assert np.allclose(eq[:, 0], [0.0, 0.7, -0.7])
    assert np.all(np.isnan(pf.equilibria({"p": -0.49})[1:]))
    assert np.allclose(Pitchfork(s=1.0).equilibria({"p": -0.49})[1:, 0], [0.7, -0.7])
    (bp,) = pf.special_points()
    assert bp.kind == "branch_point" and bp.data["c"] == -1.0


def _rk4_flow(f, x, T, n):
    h = T / n

    def body(_, y):
        k1 = f(y)
        k2 = f(y + h / 2 * k1)
        k3 = f(y + h / 2 * k2)
        k4 = f(y + h * k3)
        return y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)

    return jax.lax.fori_loop(0, n, body, x)


@pytest.mark.parametrize("params", [{"p": 0.3}, {"p": 0.2, "omega": 2.5}, {"p": -0.3, "s": 1.0}])
def test_hopf_cycle(params):
    nf = Hopf()
    p = {**nf.params, **params}
    f = _f(nf, params)
    r = float(nf.cycle_radius(params))
    T = float(nf.cycle_period(params))
    assert abs(r - np.sqrt(-p["p"] / p["s"])) < 1e-15
    t = jnp.linspace(0.0, T, 7)
    xs = nf.cycle(t, params)
    assert np.allclose(xs[0], xs[-1], atol=1e-12)  # closes after exactly one period
    for ti, x in zip(t, xs):
        v = f(x)
        assert abs(jnp.dot(x, v)) < 1e-12  # no radial velocity: the circle is invariant
        assert abs(jnp.linalg.norm(v) - abs(p["omega"]) * r) < 1e-12
        dx = jax.jacfwd(lambda s: nf.cycle(s, params))(ti)
        assert np.allclose(dx, v, atol=1e-12)  # cycle(t) solves the ODE
    # the non-trivial multiplier, from a finite difference of the period map
    d = 1e-5
    ends = [_rk4_flow(f, jnp.array([r + s, 0.0]), T, 4000) for s in (d, -d)]
    multiplier = (ends[0][0] - ends[1][0]) / (2 * d)
    m = nf.cycle_multiplier(params)
    assert abs(multiplier - m) < 1e-5 * max(1.0, m)
    # no cycle on the other side
    assert np.isnan(nf.cycle_radius({**params, "p": -p["p"]}))


# --------------------------------------------------------------------------- codim 2


def test_cusp():
    nf = Cusp()
    # the fold curve: singular Jacobian and zero residual, and 27 b1² = 4 b2³
    for x in np.linspace(-1.5, 1.5, 13):
        b1, b2 = nf.fold_curve(x)
        assert abs(27 * b1**2 - 4 * b2**3) < 1e-12
        f = _f(nf, {"b1": b1, "b2": b2})
        xx = jnp.array([x])
        assert abs(f(xx)[0]) < 1e-12
        assert abs(jax.jacfwd(f)(xx)[0, 0]) < 1e-12
    # number of equilibria from the sign of the discriminant
    for b1, b2 in [(0.1, 1.0), (0.5, 1.0), (-0.1, 2.0), (1.0, -1.0)]:
        n = int(np.sum(~np.isnan(nf.equilibria({"b1": b1, "b2": b2})[:, 0])))
        assert n == (3 if 4 * b2**3 > 27 * b1**2 else 1)
    # the cusp point
    (cp,) = nf.codim2_points()
    f = _f(nf, cp.params)
    d = lambda g: jax.grad(lambda s: g(s))  # noqa: E731
    scalar = lambda s: f(jnp.array([s]))[0]  # noqa: E731
    assert scalar(0.0) == 0 and d(scalar)(0.0) == 0 and d(d(scalar))(0.0) == 0
    assert d(d(d(scalar)))(0.0) / 6 == cp.data["c"]
    assert np.all(nf.equilibria(cp.params) == 0)  # a triple root


def test_cusp_equilibria_traceable():
    nf = Cusp()
    b1 = jnp.linspace(-1.0, 1.0, 9)
    eq = jax.jit(jax.vmap(lambda b: nf.equilibria({"b1": b})))(b1)
    assert eq.shape == (9, 3, 1)
    for b, e in zip(b1, eq):
        for x in e[~jnp.isnan(e[:, 0])]:
            assert abs(nf(0.0, x, {"b1": b, "b2": 1.0})[0]) < 1e-12


def test_bogdanov_takens():
    nf = BogdanovTakens()
    for b2 in (-1.0, -0.3, 0.4, 2.0):
        # fold curve: the double equilibrium has a singular Jacobian
        b1 = float(nf.fold_curve(b2))
        f = _f(nf, {"b1": b1, "b2": b2})
        x = jnp.array([-b2 / 2, 0.0])
        assert np.max(np.abs(f(x))) < 1e-12
        assert abs(jnp.linalg.det(jax.jacfwd(f)(x))) < 1e-12
        eq = nf.equilibria({"b1": b1, "b2": b2})
        assert np.allclose(eq[0], eq[1]) and np.allclose(eq[0], x)
        # hopf curve: zero trace, positive determinant, only for b2 < 0
        h = nf.hopf_curve(b2)
        if b2 < 0:
            J = jax.jacfwd(_f(nf, {"b1": float(h), "b2": b2}))(jnp.zeros(2))
            assert abs(jnp.trace(J)) < 1e-15 and jnp.linalg.det(J) > 0
            assert nf.homoclinic_curve(b2) == -6 / 25 * b2**2
        else:
            assert np.isnan(h) and np.isnan(nf.homoclinic_curve(b2))
    # saddle and anti-saddle
    eq = nf.equilibria()
    dets = [jnp.linalg.det(nf.jacobian(x)) for x in eq]
    assert dets[0] < 0 < dets[1]
    # the BT point: nilpotent Jacobian, and the normal-form coefficients a, b
    (bt,) = nf.codim2_points()
    f = _f(nf, bt.params)
    x = jnp.asarray(bt.x)
    A = np.asarray(jax.jacfwd(f)(x))
    assert np.allclose(A, [[0.0, 1.0], [0.0, 0.0]])  # so q0 = p0 = e1, q1 = p1 = e2
    q0, q1, p0, p1 = np.eye(2)[0], np.eye(2)[1], np.eye(2)[0], np.eye(2)[1]
    B, _ = _forms(f, x)
    a = 0.5 * np.real(p1 @ B(q0, q0))
    b = np.real(p0 @ B(q0, q0) + p1 @ B(q0, q1))
    assert (a, b) == (bt.data["a"], bt.data["b"])


def test_bogdanov_takens_hopf_coefficient_along_curve():
    nf = BogdanovTakens()
    for b2 in (-0.25, -1.0, -4.0):
        (hopf, _) = nf.special_points({"b2": b2})
        l1, om = _first_lyapunov(_f(nf, hopf.params), jnp.asarray(hopf.x))
        assert abs(om - np.sqrt(-b2)) < 1e-12
        assert abs(l1 - hopf.data["l1"]) < 1e-10 * max(1.0, abs(l1))


def test_bautin():
    nf = Bautin()
    assert nf.vector_field is bautin_field
    for params in ({"b1": -0.05, "b2": 0.5}, {"b1": 0.2, "b2": -0.3}, {"b1": 0.1, "b2": 0.5}):
        p = {**nf.params, **params}
        f = _f(nf, params)
        radii = np.asarray(nf.cycle_radii(params))
        for k, r in enumerate(radii):
            if np.isnan(r):
                continue
            for th in np.linspace(0, 2 * np.pi, 5):
                x = jnp.array([r * np.cos(th), r * np.sin(th)])
                v = f(x)
                assert abs(jnp.dot(x, v)) < 1e-12  # invariant circle
                assert abs(jnp.linalg.norm(v) - r) < 1e-12  # angular speed 1: period 2π
            rho = r**2
            assert abs(p["b1"] + p["b2"] * rho - rho**2) < 1e-12
        # number of cycles
        disc = p["b2"] ** 2 + 4 * p["b1"]
        expected = 2 if (disc > 0 and p["b1"] < 0 and p["b2"] > 0) else (1 if p["b1"] > 0 else 0)
        assert int(np.sum(~np.isnan(radii))) == expected
    # outer stable, inner unstable
    mult = nf.cycle_multipliers({"b1": -0.05, "b2": 0.5})
    assert mult[0] < 1 < mult[1]
    # the fold of cycles: the two radii meet
    fc, hopf = nf.special_points()
    assert fc.kind == "fold_cycle" and hopf.kind == "hopf"
    r_out, r_in = np.asarray(nf.cycle_radii(fc.params))
    assert abs(r_out - r_in) < 1e-12 and abs(r_out - fc.data["radius"]) < 1e-12
    assert fc.params["b1"] == float(nf.fold_cycle_curve(fc.params["b2"]))
    assert np.isclose(nf.cycle_multipliers(fc.params)[0], 1.0)
    # Hopf: l1 = 2 b2; at the Bautin point l1 = 0
    for b2 in (-0.7, 0.3, 0.0):
        (pt,) = [q for q in nf.special_points({"b2": b2}) if q.kind == "hopf"]
        l1, om = _first_lyapunov(_f(nf, pt.params), jnp.asarray(pt.x))
        assert abs(l1 - 2 * b2) < 1e-12 and abs(om - 1) < 1e-12
    (gh,) = nf.codim2_points()
    assert gh.kind == "bautin" and gh.data["l1"] == 0 and gh.data["l2"] < 0
    # exact cycle solution
    t = jnp.linspace(0, 1, 4)
    xs = nf.cycle(t, {"b1": -0.05})
    dx = jax.vmap(jax.jacfwd(lambda s: nf.cycle(s, {"b1": -0.05})))(t)
    assert np.allclose(dx, jax.vmap(_f(nf, {"b1": -0.05}))(xs), atol=1e-12)


def test_hopf_l1_scaling():
    # l1 = 2 s / ω in the ⟨q,q⟩ = 1 normalisation, for several ω and s
    for om, s in [(1.0, -1.0), (2.0, 1.0), (0.5, -3.0)]:
        args = {"p": 0.0, "omega": om, "s": s}
        l1, w = _first_lyapunov(lambda x: hopf_field(0.0, x, args), jnp.zeros(2))
        assert abs(l1 - 2 * s / om) < 1e-12 and abs(w - om) < 1e-12
