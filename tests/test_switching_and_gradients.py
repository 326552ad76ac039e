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


def _gru_hopf_all(gru):
    """(p, ω, l1) of the Hopf point at b_h[0] > 0: one program for the three."""
    pr = gru_bif.Problem.from_gru(gru, "bh[0]")
    b = gru_bif.continuation(pr, jnp.zeros(2), -1.0, p_min=-1, p_max=1, ds=0.05)
    return jnp.stack([_special(b, SpecialKind.HOPF, f, sign=1.0) for f in ("p", "omega", "l1")])


def test_gru_hopf_gradients_match_finite_differences():
    """Reverse-mode derivatives of the Hopf point's p, ω and l1 with respect to every
    weight of a random 2-D GRU, against central differences of located points."""
    key = jax.random.PRNGKey(3)
    k1, k2 = jax.random.split(key)
    Uh = 3 * _rot(np.pi / 4) + 0.1 * np.asarray(jax.random.normal(k1, (2, 2)))
    Ur = 0.3 * np.asarray(jax.random.normal(k2, (2, 2)))
    gru = gru_bif.GRU(Uh, Ur=Ur, Uz=0.2 * np.eye(2))
    value = jax.jit(_gru_hopf_all)
    assert np.all(np.isfinite(value(gru))) and float(value(gru)[1]) > 0
    jac = jax.jit(jax.jacrev(_gru_hopf_all))(gru)
    eps = 1e-5
    checked = 0
    for name in ("Uh", "Ur", "Uz", "br"):
        W = getattr(gru, name)
        for idx in np.ndindex(W.shape):
            plus = eqx.tree_at(lambda m: getattr(m, name), gru, W.at[idx].add(eps))
            minus = eqx.tree_at(lambda m: getattr(m, name), gru, W.at[idx].add(-eps))
            fd = np.asarray(value(plus) - value(minus)) / (2 * eps)
            gv = np.asarray(getattr(jac, name))[(slice(None),) + idx]
            for field, a, b in zip(("p", "omega", "l1"), gv, fd):
                assert abs(a - b) <= 1e-6 * max(1.0, abs(b)), (field, name, idx, a, b)
            checked += 1
    assert checked == 14


def hopf_shifted(t, x, a):
    """x' = (p − c)x − wy + s x r², y' = wx + (p − c)y + s y r²: Hopf at p = c with
    ω = w and l1 proportional to s."""
    r2 = x[0] ** 2 + x[1] ** 2
    mu = a["p"] - a["c"]
    return jnp.array([mu * x[0] - a["w"] * x[1] + a["s"] * x[0] * r2,
                      a["w"] * x[0] + mu * x[1] + a["s"] * x[1] * r2])


def test_vmapped_gradients_equal_per_system():
    """`vmap(grad(...))` over systems equals the per-system gradients, and both equal
    the closed forms: for L = p + ω + l1 at the Hopf point, dL/dc = 1 and
    dL/ds = l1/s (p = c, ω = w, l1 ∝ s)."""

    def loss(c, w, s):
        pr = gru_bif.Problem(hopf_shifted, {"p": -1.0, "c": c, "w": w, "s": s}, "p")
        b = gru_bif.continuation(pr, jnp.zeros(2), -1.0, p_min=-1, p_max=1, ds=0.05)
        v = jnp.stack([_special(b, SpecialKind.HOPF, f) for f in ("p", "omega", "l1")])
        return jnp.sum(v), v

    cs = jnp.array([-0.3, 0.1, 0.4])
    ws = jnp.array([0.5, 1.0, 2.0])
    ss = jnp.array([-1.0, -0.5, 0.7])
    grad = jax.grad(loss, argnums=(0, 1, 2), has_aux=True)
    g, vals = jax.vmap(grad)(cs, ws, ss)
    np.testing.assert_allclose(vals[:, 0], cs, atol=1e-10)
    np.testing.assert_allclose(vals[:, 1], ws, atol=1e-10)
    single = jax.jit(grad)
    for i in range(3):
        g_i, vals_i = single(cs[i], ws[i], ss[i])
        np.testing.assert_allclose(vals[i], vals_i, rtol=1e-12, atol=1e-14)
        for k in range(3):
            np.testing.assert_allclose(g[k][i], g_i[k], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(g_i[0], 1.0, atol=1e-9)  # dL/dc
        np.testing.assert_allclose(g_i[2], vals_i[2] / ss[i], rtol=1e-8)  # dL/ds


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
    # one assembly: the same statistics as `continuation`, counted the same way
    assert set(b.stats) == set(ref.stats)
    for key in ("steps", "attempts", "rejected", "newton_iterations", "special_dropped"):
        assert int(b.stats[key]) == int(ref.stats[key]), key
    with pytest.raises(ValueError, match="unknown keywords"):
        gru_bif.ContinuationIterator(pr, jnp.array([-2.0]), -1.0, p_min=-1, p_max=1, dss=0.1)
