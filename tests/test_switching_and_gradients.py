"""Branch switching against the analytic branches, and implicit gradients of located
points against closed-form derivatives and central finite differences."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gru_bif
from gru_bif import SpecialKind


def pitchfork(t, x, a):
    return jnp.array([(a["p"] - a["c"]) * x[0] - x[0] ** 3])


def transcritical(t, x, a):
    return jnp.array([(a["p"] - a["c"]) * x[0] - x[0] ** 2])


def cubic(t, x, a):
    return jnp.array([a["p"] + a["a"] * x[0] - x[0] ** 3 / 3])


def rows(b):
    n = int(b.num_points)
    return np.asarray(b.p[:n]), np.asarray(b.x[:n])


def test_pitchfork_switching_reaches_both_halves():
    pr = gru_bif.Problem(pitchfork, {"p": -1.0, "c": 0.0}, "p")
    bs = gru_bif.bifurcation_diagram(pr, jnp.array([0.0]), -1.0, p_min=-1, p_max=1, ds=0.05)
    assert len(bs) == 2
    p, x = rows(bs[1])
    # the switched branch is x² = p: both halves, ending at p = 1 on both sides
    np.testing.assert_allclose(x[:, 0] ** 2, p, atol=1e-9)
    assert x[:, 0].max() > 0.99 and x[:, 0].min() < -0.99
    # stability: the new branch is stable (supercritical pitchfork), the trivial one
    # unstable for p > 0
    n = int(bs[1].num_points)
    away = np.abs(x[:, 0]) > 1e-3
    assert np.all(np.asarray(bs[1].stable[:n])[away])


def test_transcritical_switching():
    pr = gru_bif.Problem(transcritical, {"p": -1.0, "c": 0.0}, "p")
    b0 = gru_bif.continuation(pr, jnp.array([0.0]), -1.0, p_min=-1, p_max=1, ds=0.05)
    i = int(np.argmax(np.asarray(b0.special.kind) == SpecialKind.BRANCH_POINT))
    b1 = gru_bif.switch_branch(pr, b0, i, p_min=-1, p_max=1, ds=0.05)
    p, x = rows(b1)
    np.testing.assert_allclose(x[:, 0], p, atol=1e-9)  # the other branch is x = p
    assert p.min() < -0.99 and p.max() > 0.99
    with pytest.raises(ValueError, match="branch point"):
        gru_bif.switch_branch(pr, b0, 5, p_min=-1, p_max=1)


# ----------------------------------------------------------------------- gradients
def _special(b, kind, field="p", sign=None):
    sel = b.special.kind == kind
    if sign is not None:
        sel = sel & (jnp.sign(b.special.p) == sign)
    v = b.special.p if field == "p" else b.special.data[field]
    return jnp.sum(jnp.where(sel, v, 0.0))


def test_fold_gradient_closed_form():
    """Folds of x' = p + a x − x³/3 at p = ∓(2/3) a^{3/2}: dp/da = ∓√a."""

    def fold_p(a, sign):
        pr = gru_bif.Problem(cubic, {"p": -2.0, "a": a}, "p")
        b = gru_bif.continuation(pr, jnp.array([-2.0]), -2.0, p_min=-2, p_max=2, ds=0.05)
        return _special(b, SpecialKind.FOLD, sign=sign)

    a = 1.3
    for sign in (-1.0, 1.0):
        p = fold_p(a, sign)
        np.testing.assert_allclose(p, sign * 2 / 3 * a**1.5, atol=1e-10)
        g = jax.grad(fold_p)(a, sign)
        np.testing.assert_allclose(g, sign * np.sqrt(a), rtol=1e-8)
        # forward mode agrees
        _, t = jax.jvp(lambda aa: fold_p(aa, sign), (a,), (1.0,))
        np.testing.assert_allclose(t, g, rtol=1e-10)


def test_fold_coefficient_gradient():
    """a = −x at the folds of x' = p + a x − x³/3 (x = ±√a; F_xx = −2x, F_p = 1):
    at the lower fold (p < 0, x = √a): coefficient −√a, derivative −1/(2√a)."""

    def coeff(a):
        pr = gru_bif.Problem(cubic, {"p": -2.0, "a": a}, "p")
        b = gru_bif.continuation(pr, jnp.array([-2.0]), -2.0, p_min=-2, p_max=2, ds=0.05)
        return _special(b, SpecialKind.FOLD, "a", sign=-1.0)

    a = 1.3
    np.testing.assert_allclose(coeff(a), -np.sqrt(a), atol=1e-10)
    np.testing.assert_allclose(jax.grad(coeff)(a), -0.5 / np.sqrt(a), rtol=1e-7)


def test_branch_point_gradient():
    """The pitchfork of x' = (p − c) x − x³ sits at p = c: dp/dc = 1."""

    def bp(c):
        pr = gru_bif.Problem(pitchfork, {"p": -1.0, "c": c}, "p")
        b = gru_bif.continuation(pr, jnp.array([0.0]), -1.0, p_min=-1, p_max=1, ds=0.05)
        return _special(b, SpecialKind.BRANCH_POINT)

    np.testing.assert_allclose(bp(0.2), 0.2, atol=1e-10)
    np.testing.assert_allclose(jax.grad(bp)(0.2), 1.0, rtol=1e-8)


def test_branch_points_gradient_at_fixed_p():
    """Points of the branch x(p) of x' = p + a x − x³/3 on its lower part: implicit
    derivative dx/da = −x / (a − x²) at fixed p."""

    def xs(a):
        pr = gru_bif.Problem(cubic, {"p": -2.0, "a": a}, "p")
        b = gru_bif.continuation(pr, jnp.array([-2.0]), -2.0, p_min=-2, p_max=-1.5, ds=0.05)
        return b.x[:, 0]

    a = 1.3
    x = xs(a)
    J = jax.jacfwd(xs)(a)
    n = int(np.sum(np.isfinite(np.asarray(x))))
    x = np.asarray(x[:n])
    np.testing.assert_allclose(np.asarray(J[:n]), -x / (a - x**2), rtol=1e-8)


def _rot(th):
    return np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])


def _gru_hopf(gru, field):
    pr = gru_bif.Problem.from_gru(gru, "bh[0]")
    b = gru_bif.continuation(pr, jnp.zeros(2), -1.0, p_min=-1, p_max=1, ds=0.05)
    return _special(b, SpecialKind.HOPF, field, sign=1.0)


@pytest.mark.parametrize("field", ["p", "omega", "l1"])
def test_gru_hopf_gradients_match_finite_differences(field):
    key = jax.random.PRNGKey(3)
    k1, k2 = jax.random.split(key)
    Uh = 3 * _rot(np.pi / 4) + 0.1 * np.asarray(jax.random.normal(k1, (2, 2)))
    Ur = 0.3 * np.asarray(jax.random.normal(k2, (2, 2)))
    gru = gru_bif.GRU(Uh, Ur=Ur, Uz=0.2 * np.eye(2))
    g = jax.grad(_gru_hopf)(gru, field)
    eps = 1e-5
    checked = 0
    for name in ("Uh", "Ur", "Uz", "br"):
        W = getattr(gru, name)
        for idx in np.ndindex(W.shape):
            plus = eqx.tree_at(lambda m: getattr(m, name), gru, W.at[idx].add(eps))
            minus = eqx.tree_at(lambda m: getattr(m, name), gru, W.at[idx].add(-eps))
            fd = (_gru_hopf(plus, field) - _gru_hopf(minus, field)) / (2 * eps)
            gv = getattr(g, name)[idx]
            assert abs(gv - fd) <= 1e-6 * max(1.0, abs(fd)), (name, idx, float(gv), float(fd))
            checked += 1
    assert checked == 14


def test_vmapped_gradients_equal_per_system():
    thetas = jnp.array([np.pi / 4, np.pi / 3.5, np.pi / 4.5])

    def loss(theta):
        R = jnp.array([[jnp.cos(theta), -jnp.sin(theta)], [jnp.sin(theta), jnp.cos(theta)]])
        return _gru_hopf(gru_bif.GRU(3 * R), "p")

    gv = jax.vmap(jax.grad(loss))(thetas)
    for i, th in enumerate(thetas):
        np.testing.assert_allclose(gv[i], jax.grad(loss)(th), rtol=1e-10)


# ----------------------------------------------------------------------- algorithms
def cubic1(t, x, a):
    return jnp.array([a["p"] + x[0] - x[0] ** 3 / 3])


def test_secant_predictor_and_natural_continuation():
    pr = gru_bif.Problem(cubic1, {"p": -1.0}, "p")
    sec = gru_bif.continuation(
        pr, jnp.array([-2.0]), -1.0, p_min=-1, p_max=1, ds=0.05,
        algorithm=gru_bif.PseudoArclength(secant=True),
    )
    folds = np.sort(np.asarray(sec.special.p)[np.asarray(sec.special.kind) == SpecialKind.FOLD])
    np.testing.assert_allclose(folds, [-2 / 3, 2 / 3], atol=1e-10)
    # natural continuation cannot pass the fold at p = 2/3 on the lower branch: it stops
    # there with a result code (and a warning), having gone monotonically in p
    with pytest.warns(UserWarning, match="stopped early"):
        nat = gru_bif.continuation(
            pr, jnp.array([-2.0]), -1.0, p_min=-1, p_max=1, ds=0.05, algorithm=gru_bif.Natural()
        )
    assert nat.result == gru_bif.RESULTS.corrector_failed
    p, x = rows(nat)
    assert np.all(np.diff(p) > 0) and p[-1] < 2 / 3 and p[-1] > 0.6


def test_manual_stepping_matches_continuation():
    pr = gru_bif.Problem(cubic1, {"p": -1.0}, "p")
    it = gru_bif.ContinuationIterator(pr, jnp.array([-2.0]), -1.0, p_min=-1, p_max=1, ds=0.05)
    steps = 0
    for state in it:
        steps += 1
        assert np.isfinite(np.asarray(state.u)).all()
    b = it.branch()
    ref = gru_bif.continuation(pr, jnp.array([-2.0]), -1.0, p_min=-1, p_max=1, ds=0.05)
    assert steps >= int(ref.num_points) - 1
    np.testing.assert_allclose(rows(b)[0], rows(ref)[0], atol=1e-12)
    np.testing.assert_allclose(
        np.sort(np.asarray(b.special.p)[: int(b.special.count)]),
        np.sort(np.asarray(ref.special.p)[: int(ref.special.count)]),
        atol=1e-12,
    )
