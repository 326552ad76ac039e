"""Diagram losses (`gru_bif.losses`) and the optax loop (`gru_bif.training`): zero at
reached targets, gradients against central finite differences and closed forms, vmap,
and a short training run that moves two folds onto targets."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gru_bif
from gru_bif import SpecialKind, losses, training

# Work in progress this session: run with `-m slow` until it is part of the CI budget.
pytestmark = pytest.mark.slow


# ----------------------------------------------------------------- reference systems
def cubic(t, x, a):
    """x' = p + a x − x³/3 + c: folds at p = −c ∓ (2/3) a^{3/2} (a > 0), none for a < 0."""
    return jnp.array([a["p"] + a["a"] * x[0] - x[0] ** 3 / 3 + a["c"]])


def cubic_folds(a, c):
    return np.array([-c - 2 / 3 * a**1.5, -c + 2 / 3 * a**1.5])


def hopf_nf(t, x, a):
    """Hopf normal form with μ = p − c: a supercritical Hopf point at p = c (ω = a["w"]),
    equilibrium x = 0 for every p, Jacobian [[μ, −ω], [ω, μ]] there."""
    mu = a["p"] - a["c"]
    r2 = x[0] ** 2 + x[1] ** 2
    return jnp.array(
        [mu * x[0] - a["w"] * x[1] - x[0] * r2, a["w"] * x[0] + mu * x[1] - x[1] * r2]
    )


def cubic_branch(theta, algorithm=gru_bif.PseudoArclength()):
    pr = gru_bif.Problem(cubic, {"p": -2.0, "a": theta["a"], "c": theta["c"]}, "p")
    b = gru_bif.continuation(
        pr, jnp.array([-2.0]), -2.0, p_min=-2.0, p_max=2.0, ds=0.05, max_steps=200,
        algorithm=algorithm, throw=False,
    )
    return pr, b


def hopf_branch(theta):
    pr = gru_bif.Problem(hopf_nf, {"p": -1.0, "c": theta["c"], "w": theta["w"]}, "p")
    b = gru_bif.continuation(
        pr, jnp.zeros(2), -1.0, p_min=-1.0, p_max=1.0, ds=0.05, max_steps=100, throw=False
    )
    return pr, b


# Evaluated eagerly (the continuation and the loss are each compiled once and shared by
# all tests); gradients are compiled as `jax.jit(jax.grad(...))`.
def hysteresis(theta, targets):
    pr, b = cubic_branch(theta)
    return losses.hysteresis_loss(pr, b, targets[0], targets[1])


def hopf(theta, target):
    pr, b = hopf_branch(theta)
    return losses.hopf_loss(pr, b, target, supercritical=True, l1_margin=3.0)


def th(**kw):
    return {k: jnp.asarray(v, jnp.float64) for k, v in kw.items()}


# ----------------------------------------------------------------- matching (no continuation)
def _fake_branch(kinds, ps):
    sp = [{"kind": k, "p": p, "x": [0.0]} for k, p in zip(kinds, ps)]
    d = {
        "format": "gru_bif.branch", "param": "p", "special_points": sp,
        "points": [{"p": 0.0, "x": [0.0], "stable": True}],
    }
    return gru_bif.Branch.from_dict(d)


def test_match_targets_greedy_one_to_one():
    p = jnp.array([0.9, 0.1, 5.0, 0.0])
    mask = jnp.array([True, True, True, False])
    t = jnp.array([0.0, 1.05, 0.3])
    # nearest pairs first: (t=0.0, p=0.1), (t=1.05, p=0.9); t=0.3 gets what is left
    np.testing.assert_array_equal(losses.match_targets(p, mask, t), [1, 0, 2])
    np.testing.assert_array_equal(
        losses.match_targets(p, mask.at[2].set(False), t), [1, 0, -1]
    )
    a = losses.match_targets(p, mask, t, jnp.array([True, False, True]))
    np.testing.assert_array_equal(a, [1, -1, 0])


def test_distance_terms():
    b = _fake_branch(["fold", "fold", "hopf", "fold"], [0.1, 0.9, 0.5, 3.0])
    # two targets: matched to 0.1 and 0.9; the fold at 3.0 is an extra (nearest target 1)
    t = jnp.array([0.0, 1.0])
    want = 0.1**2 + 0.1**2 + 2.0**2
    np.testing.assert_allclose(losses.bifurcation_distance(b, t, "fold"), want, rtol=1e-12)
    np.testing.assert_allclose(
        losses.bifurcation_distance(b, t, SpecialKind.FOLD, extra_weight=0.0), 0.02, rtol=1e-12
    )
    # one Hopf point, two targets: one matched (0.5 → 0.4), one missing
    np.testing.assert_allclose(
        losses.bifurcation_distance(b, [0.4, -3.0], "hopf", missing_penalty=7.0),
        0.1**2 + 7.0, rtol=1e-12,
    )
    # a masked target counts for nothing
    np.testing.assert_allclose(
        losses.bifurcation_distance(
            b, [0.4, -3.0], "hopf", target_mask=[True, False], missing_penalty=7.0
        ),
        0.1**2, rtol=1e-12,
    )
    with pytest.raises(ValueError, match="kind"):
        losses.bifurcation_distance(b, t, 3.5)
    with pytest.raises(ValueError, match="1-D"):
        losses.bifurcation_distance(b, jnp.zeros((2, 2)), "fold")


# ----------------------------------------------------------------- values at targets
def test_losses_vanish_at_reached_targets():
    a, c = 1.3, 0.1
    folds = cubic_folds(a, c)
    assert abs(float(hysteresis(th(a=a, c=c), jnp.asarray(folds)))) < 1e-20
    # off target: exactly the squared distances
    np.testing.assert_allclose(
        hysteresis(th(a=a, c=c), jnp.array([-0.5, 0.5])),
        (folds[0] + 0.5) ** 2 + (folds[1] - 0.5) ** 2, rtol=1e-10,
    )
    _, b = cubic_branch(th(a=a, c=c))
    assert abs(float(losses.bifurcation_distance(b, folds[::-1], "fold"))) < 1e-20
    # l1 = −2/ω = −4 for ω = 0.5: below −3 (the margin used by `hopf`), so no l1 term
    assert abs(float(hopf(th(c=0.3, w=0.5), 0.3))) < 1e-20


def test_hopf_measure_closed_form():
    """No Hopf point in range (c = 1.5): along x = 0, ρ = |p − c| / (2 σ_max(J)) · 2 =
    |p − c| / sqrt((p − c)² + ω²), and the measure is their window-weighted soft
    minimum."""
    c, w, width, beta = 1.5, 0.7, 0.2, 0.05
    pr, b = hopf_branch(th(c=c, w=w))
    assert int(jnp.sum(b.special.kind == SpecialKind.HOPF)) == 0
    mu = losses.bifurcation_measure(pr, b, [0.5], "hopf", width=width, temperature=beta)
    n = int(b.num_points)
    p = np.asarray(b.p[:n])
    rho = np.abs(p - c) / np.sqrt((p - c) ** 2 + w**2)
    logw = -0.5 * ((p - 0.5) / width) ** 2
    logw -= np.log(np.sum(np.exp(logw)))
    want = -beta * np.log(np.sum(np.exp(logw - rho / beta)))
    np.testing.assert_allclose(mu, [want], rtol=1e-12)


# ----------------------------------------------------------------- gradients
def _fd(fn, theta, key, eps=1e-6):
    plus = dict(theta, **{key: theta[key] + eps})
    minus = dict(theta, **{key: theta[key] - eps})
    return (fn(plus) - fn(minus)) / (2 * eps)


def test_hysteresis_gradient_matches_fd_and_closed_form():
    theta = th(a=1.3, c=0.1)
    targets = jnp.array([-0.5, 0.5])
    fn = lambda t: hysteresis(t, targets)  # noqa: E731
    g = jax.jit(jax.grad(fn))(theta)
    lo, hi = cubic_folds(1.3, 0.1)
    # d/da: 2(lo + 0.5)(−√a) + 2(hi − 0.5)(√a); d/dc: −2(lo + 0.5) − 2(hi − 0.5)
    ga = 2 * (lo + 0.5) * (-np.sqrt(1.3)) + 2 * (hi - 0.5) * np.sqrt(1.3)
    gc = -2 * (lo + 0.5) - 2 * (hi - 0.5)
    np.testing.assert_allclose(g["a"], ga, rtol=1e-8)
    np.testing.assert_allclose(g["c"], gc, rtol=1e-8)
    for k in theta:
        np.testing.assert_allclose(g[k], _fd(fn, theta, k), rtol=1e-6)


@pytest.mark.slow  # compiling the Hopf point's l1 derivatives takes ~40 s on 2 cores
def test_hopf_loss_gradient_matches_fd():
    theta = th(c=0.25, w=0.8)
    # l1 = −2/ω = −2.5 > −3: the margin term (3 − 2/ω)² is active
    fn = lambda t: hopf(t, 0.4)  # noqa: E731
    g = jax.jit(jax.grad(fn))(theta)
    np.testing.assert_allclose(fn(theta), 0.15**2 + 0.5**2, rtol=1e-8)
    for k in theta:
        np.testing.assert_allclose(g[k], _fd(fn, theta, k), rtol=1e-6)
    np.testing.assert_allclose(g["c"], 2 * (0.25 - 0.4), rtol=1e-8)
    np.testing.assert_allclose(g["w"], 2 * (3 - 2 / 0.8) * 2 / 0.8**2, rtol=1e-7)


def _newton_branch(theta, b):
    """The branch points of `b` recomputed for `theta` at the same parameter values."""
    n = int(b.num_points)
    p = np.asarray(b.p[:n])
    x = np.asarray(b.x[:n, 0]).copy()
    for _ in range(50):
        F = p + theta["a"] * x - x**3 / 3 + theta["c"]
        x = x - F / (theta["a"] - x**2)
    X = np.asarray(b.x).copy()
    X[:n, 0] = x
    return eqx.tree_at(lambda bb: bb.x, b, jnp.asarray(X))


def test_measure_gradient_at_fixed_samples():
    """No folds (a < 0). The measure's gradient is its derivative at the branch points'
    fixed parameter values: compare with finite differences of the measure evaluated on
    the same samples, re-solved exactly for the perturbed arguments."""
    targets = jnp.array([-0.5, 0.7])
    theta = th(a=-0.3, c=0.1)

    @jax.jit
    def measure(t):
        pr, b = cubic_branch(t)
        return losses.bifurcation_measure(pr, b, targets, "fold")

    _, b0 = cubic_branch(theta)
    assert int(jnp.sum(b0.special.kind == SpecialKind.FOLD)) == 0

    def measure_fixed(t):
        pr = gru_bif.Problem(cubic, {"p": -2.0, "a": t["a"], "c": t["c"]}, "p")
        return losses.bifurcation_measure(pr, _newton_branch(t, b0), targets, "fold")

    mu = measure(theta)
    np.testing.assert_allclose(measure_fixed(theta), mu, rtol=1e-12)
    assert np.all((np.asarray(mu) > 0) & (np.asarray(mu) < 1))
    J = jax.jacrev(measure)(theta)
    for k in theta:
        np.testing.assert_allclose(J[k], _fd(measure_fixed, theta, k), rtol=1e-6)
    # the loss uses the measure for targets without a fold: 2 · missing_penalty + Σ μ
    pr, b = cubic_branch(theta)
    np.testing.assert_allclose(
        losses.hysteresis_loss(pr, b, *targets), 2.0 + jnp.sum(mu), rtol=1e-12
    )


def test_vmapped_losses_equal_per_system():
    """Two systems with folds (one matched exactly, one off), one without (measure)."""
    thetas = th(a=[1.3, 0.8, -0.2], c=[0.1, -0.2, 0.0])
    targets = jnp.array([-0.5, 0.5])
    vals = jax.jit(jax.vmap(lambda t: hysteresis(t, targets)))(thetas)
    for i in range(3):
        one = {k: v[i] for k, v in thetas.items()}
        np.testing.assert_allclose(vals[i], hysteresis(one, targets), rtol=1e-10)
    assert np.all(np.isfinite(np.asarray(vals))) and vals[2] > 2.0


# ----------------------------------------------------------------- training
def test_fit_moves_folds_onto_targets():
    """From a = −0.3 (no folds) to two folds at (−0.3, 0.7) in ≤ 30 steps: the measure
    creates the folds, the distance term places them."""
    targets = jnp.array([-0.3, 0.7])
    fn = lambda t: hysteresis(t, targets)  # noqa: E731
    res = training.fit(fn, th(a=-0.3, c=0.1), optax.sgd(0.1, momentum=0.5), steps=30)
    assert res.num_steps <= 30 and res.stop_reason != "nonfinite"
    assert res.losses[0] > 2.0 and res.best_loss < 1e-6
    p = res.best_params
    np.testing.assert_allclose(cubic_folds(float(p["a"]), float(p["c"])), targets, atol=1e-3)
    _, b = cubic_branch(p)
    got = np.sort(np.asarray(b.special.p)[np.asarray(b.special.kind) == SpecialKind.FOLD])
    np.testing.assert_allclose(got, targets, atol=1e-3)


def test_fit_state_target_and_nonfinite():
    def loss(params, state):
        v = jnp.sum((params["w"] - 2.0) ** 2)
        return jnp.where(state == 3, jnp.nan, v), state + 1  # poisoned at the 4th call

    res = training.fit(loss, {"w": jnp.zeros(2)}, optax.sgd(0.25), steps=10, state=jnp.asarray(0))
    assert res.stop_reason == "nonfinite" and res.num_steps == 3 and int(res.state) == 3
    np.testing.assert_allclose(res.losses[:3], [8.0, 2.0, 0.5])
    assert np.isnan(res.losses[3]) and res.best_loss == 0.5 and res.best_step == 2
    stopped = training.fit(
        lambda p: jnp.sum((p["w"] - 2.0) ** 2), {"w": jnp.zeros(2)}, optax.sgd(0.25),
        steps=50, target_loss=1e-6,
    )
    assert stopped.stop_reason == "target_loss" and stopped.num_steps < 50
    assert stopped.best_loss <= 1e-6
    with pytest.raises(ValueError, match="steps"):
        training.fit(lambda p: p, jnp.zeros(()), optax.sgd(0.1), steps=-1)
