"""Diagram losses (`gru_bif.losses`), the optax loop (`gru_bif.training`) and the
implicit derivatives behind them (`gru_bif.differentiate`): zero at reached targets,
gradients against central finite differences and closed forms, forward = reverse mode,
vmap = per system, NaN (never a wrong number) at degenerate points, and a short training
run that moves two folds onto targets. The default tests compile one continuation and
its gradient per reference system (about a minute of CPU); the `slow` ones add the
Hopf point's l1 derivatives, forward = reverse mode on a random GRU and on a branch
point, the measure's Jacobian, vmap, and a fold through a Bogdanov–Takens point."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gru_bif
from gru_bif import SpecialKind, losses, training



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
    # at the target: l1 = −2/ω = −4 for ω = 0.5 is below −3 (the margin), so no l1 term
    assert abs(float(hopf(th(c=0.3, w=0.5), 0.3))) < 1e-20
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


@pytest.mark.slow  # ~20 s: jacrev of the measure through the branch points
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


@pytest.mark.slow  # compiles the vmapped continuation and loss
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
def test_fit_moves_folds_onto_targets(capsys):
    """From a = −0.3 (no folds) to two folds at (−0.3, 0.7) in ≤ 30 steps: the measure
    creates the folds, the distance term places them."""
    targets = jnp.array([-0.3, 0.7])
    fn = lambda t: hysteresis(t, targets)  # noqa: E731
    res = training.fit(
        fn, th(a=-0.3, c=0.1), optax.sgd(0.1, momentum=0.5), steps=30, print_every=10
    )
    out = capsys.readouterr().out
    assert out.count("step") >= 2 and "loss" in out
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

    with pytest.warns(UserWarning, match="loss is not finite"):
        res = training.fit(
            loss, {"w": jnp.zeros(2)}, optax.sgd(0.25), steps=10, state=jnp.asarray(0)
        )
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
    with pytest.raises(ValueError, match="print_every"):
        training.fit(lambda p: p, jnp.zeros(()), optax.sgd(0.1), steps=1, print_every=0)
    # a finite loss with a NaN gradient: the message points at degenerate points
    sq = lambda p: jnp.sqrt(jnp.sum(p["w"] ** 2))  # noqa: E731  (NaN gradient at 0)
    with pytest.warns(UserWarning, match="gradient is not finite"):
        r = training.fit(sq, {"w": jnp.zeros(2)}, optax.sgd(0.1), steps=5)
    assert r.stop_reason == "nonfinite" and r.num_steps == 0 and r.best_loss == 0.0


# ----------------------------------------------------------------- degenerate points
def quartic(t, x, a):
    """x' = p + a x − x⁴: one fold, at x = (a/4)^{1/3}, p = −3a x/4 (dp/da = −x). At
    a = 0 it sits at x = 0 with F_xx = 0 — the fold's quadratic coefficient vanishes (the
    cusp condition) and its defining system is singular: no derivative."""
    return jnp.array([a["p"] + a["a"] * x[0] - x[0] ** 4])


def _quartic_fold(a):
    pr = gru_bif.Problem(quartic, {"p": 2.0, "a": a}, "p")
    b = gru_bif.continuation(pr, jnp.array([-1.19]), 2.0, p_min=-2, p_max=2, ds=-0.05)
    sel = b.special.kind == SpecialKind.FOLD
    return jnp.sum(jnp.where(sel, b.special.p, 0.0)), jnp.sum(sel)


def test_degenerate_fold_gradient_is_nan_not_wrong():
    value = lambda a: _quartic_fold(a)[0]  # noqa: E731
    grad = jax.jit(jax.grad(value))
    for a in (0.3, 1e-3):
        x = (a / 4) ** (1 / 3)
        np.testing.assert_allclose(value(a), -0.75 * a * x, atol=1e-12)
        np.testing.assert_allclose(grad(a), -x, rtol=1e-8)
        np.testing.assert_allclose(jax.jvp(value, (a,), (1.0,))[1], -x, rtol=1e-8)
    # at a = 0 the fold is still detected and located (p = 0) ...
    p0, count = _quartic_fold(0.0)
    assert int(count) == 1 and abs(float(p0)) < 1e-12
    # ... but its derivative does not exist: NaN in both modes
    assert np.isnan(float(grad(0.0)))
    assert np.isnan(float(jax.jvp(value, (0.0,), (1.0,))[1]))


def test_implicit_root_singular_system():
    """y² = θ at θ = 0: dy/dθ = 1/(2y) does not exist at y = 0. At θ = 4 (y = 2) it is
    1/4; a singular system gives NaN, an inactive slot an exact zero."""
    from gru_bif.differentiate import implicit_root, singular_rcond

    G = lambda y, th, aux: y**2 - th  # noqa: E731
    f = lambda th, y, active=True: implicit_root(G, y, th, None, active)[0]  # noqa: E731
    np.testing.assert_allclose(jax.grad(f)(4.0, jnp.array([2.0])), 0.25, rtol=1e-14)
    assert np.isnan(float(jax.grad(f)(0.0, jnp.array([0.0]))))
    # 2-D: y1² = θ, y2 = y1 + θ: the zero pivot shows against the unit one
    G2 = lambda y, th, aux: jnp.stack([y[0] ** 2 - th, y[1] - y[0] - th])  # noqa: E731
    g2 = jax.jacfwd(lambda th, y: implicit_root(G2, y, th, None))
    np.testing.assert_allclose(g2(4.0, jnp.array([2.0, 6.0])), [0.25, 1.25], rtol=1e-14)
    assert np.all(np.isnan(np.asarray(g2(1e-30, jnp.array([1e-15, 1e-15])))))
    assert float(jax.grad(f)(0.0, jnp.array([0.0]), False)) == 0.0
    assert singular_rcond(jnp.float64) == pytest.approx(np.finfo(np.float64).eps ** (2 / 3))


def bt(t, x, a):
    """Bogdanov–Takens normal form x' = y, y' = β1 + β2 y + x² − x y. Equilibria
    (±sqrt(−β1), 0): a fold at β1 = 0 (x = 0) for every β2 — a Bogdanov–Takens point
    when β2 = 0 (J nilpotent). The fold curve is smooth through it: dp_fold/dβ2 = 0."""
    return jnp.array([x[1], a["p"] + a["b2"] * x[1] + x[0] ** 2 - x[0] * x[1]])


@pytest.mark.slow  # ~20 s: a 2-D continuation and its gradient
def test_fold_through_bogdanov_takens_point_stays_finite():
    """No false alarm: the fold's defining system is regular at a BT point."""

    def fold(b2):
        pr = gru_bif.Problem(bt, {"p": -1.0, "b2": b2}, "p")
        b = gru_bif.continuation(pr, jnp.array([-1.0, 0.0]), -1.0, p_min=-1, p_max=1,
                                 ds=0.05, hopf="off")
        sel = b.special.kind == SpecialKind.FOLD
        return jnp.sum(jnp.where(sel, b.special.p, 0.0))

    np.testing.assert_allclose(fold(0.0), 0.0, atol=1e-12)
    g = jax.grad(fold)(0.0)
    assert np.isfinite(float(g)) and abs(float(g)) < 1e-8


# ----------------------------------------------------------------- forward = reverse
def pitchfork(t, x, a):
    """x' = (p − c) x − b x³: a branch point at p = c (dp/dc = 1); trivial branch x = 0."""
    return jnp.array([(a["p"] - a["c"]) * x[0] - a["b"] * x[0] ** 3])


@pytest.mark.slow  # ~35 s: jacrev and jacfwd each compile the continuation
def test_branch_point_forward_reverse_closed_form():
    def bp(theta):
        pr = gru_bif.Problem(pitchfork, {"p": -1.0, "c": theta[0], "b": theta[1]}, "p")
        b = gru_bif.continuation(pr, jnp.array([0.0]), -1.0, p_min=-1, p_max=1, ds=0.05)
        sel = b.special.kind == SpecialKind.BRANCH_POINT
        return jnp.stack([jnp.sum(jnp.where(sel, b.special.p, 0.0)), jnp.sum(sel)])

    theta = jnp.array([0.2, 1.5])
    np.testing.assert_allclose(bp(theta), [0.2, 1.0], atol=1e-10)
    Jr = jax.jacrev(bp)(theta)
    Jf = jax.jacfwd(bp)(theta)
    np.testing.assert_allclose(Jr[0], [1.0, 0.0], atol=1e-10)
    np.testing.assert_allclose(Jf, Jr, atol=1e-12)


def _net4_outputs(gru, x0):
    """Fold and Hopf points of the paper's network 4 (perturbed), continued in b_h[1]:
    [p_fold (first), p_Hopf, ω, l1, x_0 of branch point 3, x_1 of branch point 12]."""
    pr = gru_bif.Problem.from_gru(gru, "bh[1]")
    # from the (unstable) focus at b_h[1] = −0.70: down through the Hopf point (≈ −0.713)
    # to the fold (≈ −0.728) where it meets the saddle, and up to −0.6
    b = gru_bif.continuation(pr, x0, -0.70, p_min=-0.85, p_max=-0.6, ds=0.01,
                             max_steps=60, direction="both")
    f = b.special.kind == SpecialKind.FOLD
    f = f & (jnp.cumsum(f) == 1)
    h = b.special.kind == SpecialKind.HOPF
    h = h & (jnp.cumsum(h) == 1)
    pick = lambda m, v: jnp.sum(jnp.where(m, v, 0.0))  # noqa: E731
    sp = b.special
    return jnp.stack([
        pick(f, sp.p), pick(h, sp.p), pick(h, sp.data["omega"]), pick(h, sp.data["l1"]),
        b.x[3, 0], b.x[12, 1],
    ])


@pytest.mark.slow  # two compilations of continuation + all implicit rules (~60 s)
def test_random_gru_forward_reverse_and_fd():
    """Equilibria, fold, Hopf p, ω and l1 of a randomly perturbed 2-D GRU: reverse mode
    (jacrev) = forward mode (jacfwd) to 1e-9, and both = central finite differences
    (relative error ≤ 1e-6) for every weight."""
    import tests.networks as nets  # noqa: F401  (paper network 4, written independently)

    k1, k2, k3 = jax.random.split(jax.random.PRNGKey(7), 3)
    base = nets.net4(-0.70)
    gru = eqx.tree_at(
        lambda m: (m.Uh, m.Ur, m.Uz),
        base,
        (base.Uh + 0.01 * jax.random.normal(k1, (2, 2)),
         0.05 * jax.random.normal(k2, (2, 2)), 0.3 * jax.random.normal(k3, (2, 2))),
    )
    eq = gru_bif.find_equilibria(gru)
    focus = [i for i, t in enumerate(eq.types) if "focus" in t]
    assert len(focus) == 1, eq.types
    x0 = jnp.asarray(eq.x[focus[0]])
    out = _net4_outputs(gru, x0)
    assert np.all(np.isfinite(np.asarray(out))) and float(out[0]) < float(out[1])
    Jr = jax.jacrev(_net4_outputs)(gru, x0)
    Jf = jax.jacfwd(_net4_outputs)(gru, x0)
    # Branch rows are differentiated at their fixed parameter values, but the
    # continuation's step positions move with the weights: their finite differences
    # re-solve F(x, p_i) = 0 by Newton at the unperturbed p_i instead.
    pr0 = gru_bif.Problem.from_gru(gru, "bh[1]")
    b0 = gru_bif.continuation(pr0, x0, -0.70, p_min=-0.85, p_max=-0.6, ds=0.01,
                              max_steps=60, direction="both")
    rows = [(3, 0), (12, 1)]

    def at_fixed_p(g):
        pr = gru_bif.Problem.from_gru(g, "bh[1]")
        out = []
        for i, c in rows:
            x, p = b0.x[i], b0.p[i]
            for _ in range(30):
                x = x - jnp.linalg.solve(jax.jacfwd(pr.F)(x, p), pr.F(x, p))
            out.append(x[c])
        return jnp.stack(out)

    eps = 1e-5
    for name in ("Uh", "Ur", "Uz", "bh", "br", "bz"):
        r, f = getattr(Jr, name), getattr(Jf, name)
        np.testing.assert_allclose(r, f, rtol=1e-9, atol=1e-9 * float(np.max(np.abs(r))))
        W = getattr(gru, name)
        for idx in np.ndindex(W.shape):
            plus = eqx.tree_at(lambda m: getattr(m, name), gru, W.at[idx].add(eps))
            minus = eqx.tree_at(lambda m: getattr(m, name), gru, W.at[idx].add(-eps))
            fd = (_net4_outputs(plus, x0) - _net4_outputs(minus, x0))[:4] / (2 * eps)
            fd = np.concatenate([fd, (at_fixed_p(plus) - at_fixed_p(minus)) / (2 * eps)])
            got = r[(slice(None),) + idx]
            np.testing.assert_allclose(got, fd, rtol=1e-6, atol=1e-6 * np.max(np.abs(fd)))
