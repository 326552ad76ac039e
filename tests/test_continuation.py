"""Continuation of equilibria: every located point is checked against analytic truth.

Each system below comes with its bifurcation points derived in closed form (in the
docstrings). Located points must agree within 1e-10 (float64, see conftest.py).

Vector fields are module-level functions (a new lambda per call would be a new static
value and recompile); systems that differ only in coefficients share one function and
pass the coefficients through `args`, so they also share compiled code.

Conventions checked here:

- fold coefficient `a = <p, B(q, q)>/2` with `|q| = 1`, `<p, q> = 1` (branch.py). Flipping
  q flips a (and p), so a's sign means something only with q oriented; the orientation
  that makes `a` a property of the fold (not of the direction the branch was traversed)
  is `<p, F_p> > 0`, i.e. ξ' = β + aξ² with β increasing in the parameter. Then
  `a < 0` ⇔ the two equilibria born at the fold exist for p > p_fold (`p − x²`: a = −1,
  as the brief states). In 1-D: `a = sign(F_p) · F_xx / 2`. The magnitude `|a|` is
  checked separately (it does not depend on the orientation).
- first Lyapunov coefficient `l1`: Kuznetsov's n-dimensional formula with `<q, q> = 1`,
  `<p, q> = 1` (the normalisation `first_lyapunov` documents, as in MatCont). For the
  normal form `x' = p x − ω y + s x r²`, `y' = ω x + p y + s y r²` this gives
  `l1 = 2 s / ω`: with `q = (1, −i)/√2`, `C(q, q, q̄) = 4 s q` and `B = 0`, so
  `l1 = Re<p, C(q, q, q̄)>/(2ω) = 2s/ω`. (In Kuznetsov's 2-D convention with the
  complex coordinate `z = x + iy`, i.e. `<q, q> = 1/2`, the same system has
  `l1 = s/ω`; the two differ by the positive factor 2 only.)
"""

import json
import math
import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gru_bif
from gru_bif import RESULTS
from gru_bif.branch import Branch, SpecialKind
from gru_bif.continuation import continuation

TOL = 1e-10
# `<q, q> = 1` normalisation of l1 (see the module docstring): l1 = L1_FACTOR * s / ω
# for the Hopf normal form.
L1_FACTOR = 2.0


# --------------------------------------------------------------------------- helpers
def specials(branch, kind=None):
    """Real special points as (kind, p, x, data) numpy records, sorted by p."""
    n = int(branch.special.count)
    kinds = np.asarray(branch.special.kind)[:n]
    p = np.asarray(branch.special.p)[:n]
    x = np.asarray(branch.special.x)[:n]
    data = {k: np.asarray(v)[:n] for k, v in branch.special.data.items()}
    idx = np.arange(n)
    if kind is not None:
        idx = idx[kinds == int(kind)]
    idx = idx[np.argsort(p[idx], kind="stable")]
    return {
        "kind": kinds[idx],
        "p": p[idx],
        "x": x[idx],
        "index": np.asarray(branch.special.index)[:n][idx],
        "located": np.asarray(branch.special.located)[:n][idx],
        **{k: v[idx] for k, v in data.items()},
    }


def kinds_of(branch):
    n = int(branch.special.count)
    return sorted(int(k) for k in np.asarray(branch.special.kind)[:n])


def rows(branch):
    return branch.trimmed()


def is_result(branch, name):
    return bool(branch.result == getattr(RESULTS, name))


def result_name(branch):
    for name in (
        "successful",
        "reached_parameter_bound",
        "closed_branch",
        "max_steps_reached_continuation",
        "corrector_failed",
        "start_not_converged",
        "singular_start",
        "nonfinite_vector_field",
    ):
        if is_result(branch, name):
            return name
    return "other"


def assert_close(got, want, tol=TOL, what=""):
    got = np.asarray(got, float)
    want = np.asarray(want, float)
    err = np.max(np.abs(got - want)) if got.size else 0.0
    assert got.shape == want.shape and err <= tol, (
        f"{what}: got {got!r}, want {want!r} (max error {err:.3g} > {tol:.1g})"
    )


# --------------------------------------------------------------------------- systems
def poly1(t, x, a):
    """Scalar polynomial `x' = Σ_ij c[i, j] p^i x^j` (i ≤ 2, j ≤ 3), `p = a["p"]`."""
    c = a["c"]
    p = a["p"]
    pp = jnp.stack([jnp.ones_like(p), p, p * p])
    xx = jnp.stack([jnp.ones_like(x[0]), x[0], x[0] ** 2, x[0] ** 3])
    return jnp.array([pp @ c @ xx])


def coeffs(**terms):
    """`coeffs(p1x0=1, p0x2=-1)` -> the c matrix of `p - x²`."""
    c = np.zeros((3, 4))
    for name, v in terms.items():
        i, j = int(name[1]), int(name[3])
        c[i, j] = v
    return c


SADDLE_NODE = coeffs(p1x0=1.0, p0x2=-1.0)  # x' = p − x²
CUBIC = coeffs(p1x0=1.0, p0x1=1.0, p0x3=-1.0 / 3.0)  # x' = p + x − x³/3
TRANSCRITICAL = coeffs(p1x1=1.0, p0x2=-1.0)  # x' = p x − x²
PITCHFORK = coeffs(p1x1=1.0, p0x3=-1.0)  # x' = p x − x³
CIRCLE = coeffs(p0x0=-1.0, p0x2=1.0, p2x0=1.0)  # F = x² + p² − 1
CUSP_B2_1 = coeffs(p1x0=1.0, p0x1=1.0, p0x3=-1.0)  # x' = b1 + b2 x − x³, b2 = 1


def poly_problem(c, p=0.0):
    return gru_bif.Problem(poly1, {"c": jnp.asarray(c), "p": p}, "p")


def planar(t, x, a):
    """x' = p x − ω y + s x r², y' = k x + γ p y + s y r² (r² = x² + y²).

    With k = ω, γ = 1 this is the Hopf normal form: J(0) = [[p, −ω], [ω, p]] has
    eigenvalues p ± iω, a Hopf point at p = 0 with frequency ω. With γ = 0, k = −1/ω:
    tr J = p, det J = ωk = −1 < 0 for all p, so the trace (the 2-D Hopf test) crosses
    zero at p = 0 with real eigenvalues ±1: a neutral saddle, not a Hopf point."""
    r2 = x[0] ** 2 + x[1] ** 2
    p, w, s, k, g = a["p"], a["omega"], a["s"], a["k"], a["gamma"]
    return jnp.array(
        [p * x[0] - w * x[1] + s * x[0] * r2, k * x[0] + g * p * x[1] + s * x[1] * r2]
    )


def hopf_problem(omega, s, p=0.0):
    return gru_bif.Problem(
        planar, {"p": p, "omega": omega, "s": s, "k": omega, "gamma": 1.0}, "p"
    )


def hopf3(t, x, a):
    """A 3-D system with a moving equilibrium and p-dependent spectrum.

    In coordinates `y = Qᵀ (x − p v)` (Q orthogonal):

        y1' = μ(p) y1 − ω(p) y2 + s y1 (y1² + y2²) + β y1 y3
        y2' = ω(p) y1 + μ(p) y2 + s y2 (y1² + y2²) + β y2 y3
        y3' = −μ3(p) y3 + κ (y1² + y2²)

    with μ = m0 + m1 p + m2 p², ω = w0 + w1 p, μ3 = 1 + c3 p². The equilibrium is
    `x*(p) = p v` with eigenvalues μ ± iω, −μ3: a Hopf point where μ(p) = 0. The center
    manifold there is y3 = (κ/μ3) r² + O(r⁴), so the reduced system is the Hopf normal
    form with s_eff = s + βκ/μ3 and, for an orthogonal Q, l1 = L1_FACTOR · s_eff / ω.
    (Term by term in Kuznetsov's formula: <p, C(q,q,q̄)> = 4s, B(q, q̄) = (0, 0, 2κ),
    −2<p, B(q, A⁻¹B(q, q̄))> = 4βκ/μ3, B(q, q) = 0.)
    """
    Q, v = a["Q"], a["v"]
    p, s, beta, kappa = a["p"], a["s"], a["beta"], a["kappa"]
    m, wc = a["m"], a["w"]
    y = Q.T @ (x - p * v)
    mu = m[0] + m[1] * p + m[2] * p * p
    w = wc[0] + wc[1] * p
    mu3 = 1.0 + a["c3"] * p * p
    r2 = y[0] ** 2 + y[1] ** 2
    g = jnp.array(
        [
            mu * y[0] - w * y[1] + s * y[0] * r2 + beta * y[0] * y[2],
            w * y[0] + mu * y[1] + s * y[1] * r2 + beta * y[1] * y[2],
            -mu3 * y[2] + kappa * r2,
        ]
    )
    return Q @ g


def lorenz(t, x, a):
    s, b, r = a["sigma"], a["b"], a["r"]
    return jnp.array(
        [s * (x[1] - x[0]), x[0] * (r - x[2]) - x[1], x[0] * x[1] - b * x[2]]
    )


def nan_below_half(t, x, a):
    """x' = p − x for p ≥ 1/2, NaN below."""
    p = a["p"]
    return jnp.array([p - x[0] + jnp.where(p < 0.5, jnp.nan, 0.0)])


def rot(theta):
    return np.array(
        [[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]]
    )


GRU_HOPF = 0.359038459564185
GRU_OMEGA = 0.4981593198


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def saddle_node_both():
    pr = poly_problem(SADDLE_NODE)
    return continuation(
        pr, jnp.array([1.0]), 1.0, p_min=-1, p_max=2, ds=0.05, direction="both",
        max_steps=400,
    )


@pytest.fixture(scope="module")
def gru_branch():
    g = gru_bif.GRU(3 * rot(math.pi / 4))
    pr = gru_bif.Problem.from_gru(g, "bh[0]")
    return continuation(
        pr, jnp.zeros(2), 0.0, p_min=-1, p_max=1, ds=0.02, direction="both"
    )


# --------------------------------------------------------------------------- folds
def check_fold_coefficients(sp, want_a):
    """`want_a`: a under the orientation <p, F_p> > 0 (module docstring)."""
    assert np.all(sp["located"]), sp["located"]
    want_a = np.asarray(want_a, float)
    assert_close(np.abs(sp["a"]), np.abs(want_a), what="|a| (fold coefficient magnitude)")
    assert_close(sp["a"], want_a, what="a (sign: q oriented so that <p, F_p> > 0)")


def check_saddle_node_fold(b):
    sp = specials(b)
    assert list(sp["kind"]) == [SpecialKind.FOLD], b.summary()
    assert_close(sp["p"], [0.0], what="fold p")
    assert_close(sp["x"][:, 0], [0.0], what="fold x")
    assert np.all(np.isnan(sp["omega"])) and np.all(np.isnan(sp["l1"]))
    # F_p = 1, F_xx = −2: a = −1 (the equilibria exist for p > 0)
    check_fold_coefficients(sp, [-1.0])
    assert bool(sp["located"][0]), (
        "fold located to 1e-10 in p and x but flagged located=False "
        f"(precision {float(np.asarray(b.special.precision)[0]):.3g})"
    )


def check_saddle_node_rows(b):
    r = rows(b)
    assert np.all(np.isfinite(r["p"])) and np.all(np.isfinite(r["x"]))
    # every point is an equilibrium: p = x²
    assert_close(r["p"], r["x"][:, 0] ** 2, tol=1e-9, what="branch points on p = x²")
    # f_x = −2x: x > 0 stable (n_unstable 0), x < 0 unstable (n_unstable 1)
    xs = r["x"][:, 0]
    pos, neg = xs > 1e-8, xs < -1e-8
    assert np.all(r["stable"][pos]) and np.all(r["n_unstable"][pos] == 0)
    assert np.all(~r["stable"][neg]) and np.all(r["n_unstable"][neg] == 1)
    # padding beyond num_points
    n = int(b.num_points)
    assert np.all(np.isnan(np.asarray(b.p)[n:]))
    assert np.all(np.asarray(b.n_unstable)[n:] == -1)


def test_saddle_node_both_directions(saddle_node_both):
    b = saddle_node_both
    assert is_result(b, "reached_parameter_bound"), result_name(b)
    check_saddle_node_rows(b)
    r = rows(b)
    # both ends leave through p_max = 2: x = −√2 and x = +√2, exactly on the bound
    assert r["p"][0] == 2.0 and r["p"][-1] == 2.0, (r["p"][0], r["p"][-1])
    assert_close(sorted([r["x"][0, 0], r["x"][-1, 0]]), [-math.sqrt(2), math.sqrt(2)])
    # the start point (p0 = 1, x0 = 1) is on the branch
    assert np.any(np.all(np.abs(r["x"] - 1.0) < 1e-12, axis=1) & (r["p"] == 1.0))
    check_saddle_node_fold(b)


def test_saddle_node_forward():
    pr = poly_problem(SADDLE_NODE)
    b = continuation(
        pr, jnp.array([1.0]), 1.0, p_min=-1, p_max=2, ds=0.05, direction="forward",
        max_steps=400,
    )
    assert is_result(b, "reached_parameter_bound"), result_name(b)
    r = rows(b)
    assert int(b.special.count) == 0, b.summary()
    assert r["p"][0] == 1.0 and r["p"][-1] == 2.0
    assert np.all(np.diff(r["p"]) > 0)
    assert_close(r["x"][-1], [math.sqrt(2)])
    assert np.all(r["stable"])
    check_saddle_node_rows(b)


def test_saddle_node_backward_passes_fold():
    pr = poly_problem(SADDLE_NODE)
    b = continuation(
        pr, jnp.array([1.0]), 1.0, p_min=-1, p_max=2, ds=0.05, direction="backward",
        max_steps=400,
    )
    assert is_result(b, "reached_parameter_bound"), result_name(b)
    check_saddle_node_rows(b)
    r = rows(b)
    assert r["p"][0] == 1.0 and r["p"][-1] == 2.0
    assert_close(r["x"][-1], [-math.sqrt(2)])
    check_saddle_node_fold(b)


def test_saddle_node_negative_ds_means_backward():
    """The sign of ds picks the direction when direction='forward'."""
    pr = poly_problem(SADDLE_NODE)
    b = continuation(
        pr, jnp.array([1.0]), 1.0, p_min=-1, p_max=2, ds=-0.05, max_steps=400,
    )
    assert_close(rows(b)["x"][-1], [-math.sqrt(2)])
    check_saddle_node_fold(b)


def test_fold_data_independent_of_traversal(saddle_node_both):
    """The same fold reached forwards (from the unstable side) and backwards (from the
    stable side) must carry the same data."""
    pr = poly_problem(SADDLE_NODE)
    kw = dict(p_min=-1, p_max=2, ds=0.05, max_steps=400, direction="backward")
    from_stable = continuation(pr, jnp.array([1.0]), 1.0, **kw)
    from_unstable = continuation(pr, jnp.array([-1.0]), 1.0, **kw)
    a = [
        float(specials(b)["a"][0])
        for b in (saddle_node_both, from_stable, from_unstable)
    ]
    assert max(a) - min(a) <= 1e-12, a
    assert abs(a[0] + 1.0) <= TOL, a


def test_cusp_normal_form_folds():
    """x' = b1 + b2 x − x³ with b2 = 1: f = 0 and f_x = 1 − 3x² = 0 give x = ±1/√3 and
    b1 = x³ − x = ∓2/(3√3). F_b1 = 1, F_xx = −6x, so a = −3x: a = −√3 at
    b1 = −2/(3√3) (x = 1/√3) and +√3 at b1 = +2/(3√3) (x = −1/√3)."""
    pr = poly_problem(CUSP_B2_1)
    b = continuation(
        pr, jnp.array([0.0]), 0.0, p_min=-1, p_max=1, ds=0.05, direction="both",
        max_steps=400,
    )
    assert is_result(b, "reached_parameter_bound"), result_name(b)
    sp = specials(b)
    assert list(sp["kind"]) == [SpecialKind.FOLD] * 2, b.summary()
    c = 2 / (3 * math.sqrt(3))
    assert_close(sp["p"], [-c, c], what="cusp folds b1")
    assert_close(sp["x"][:, 0], [1 / math.sqrt(3), -1 / math.sqrt(3)], what="cusp fold x")
    # the middle branch (|x| < 1/√3) is unstable, the outer ones stable
    r = rows(b)
    xs = r["x"][:, 0]
    inner = np.abs(xs) < 1 / math.sqrt(3) - 1e-6
    outer = np.abs(xs) > 1 / math.sqrt(3) + 1e-6
    assert inner.any() and outer.any()
    assert np.all(~r["stable"][inner]) and np.all(r["stable"][outer])
    check_fold_coefficients(sp, [-math.sqrt(3), math.sqrt(3)])


def test_cubic_folds():
    """x' = p + x − x³/3: f_x = 1 − x² = 0 at x = ±1, p = x³/3 − x = ∓2/3;
    F_p = 1, F_xx = −2x, so a = −x."""
    pr = poly_problem(CUBIC)
    b = continuation(
        pr, jnp.array([0.0]), 0.0, p_min=-1.5, p_max=1.5, ds=0.05, direction="both",
        max_steps=400,
    )
    assert is_result(b, "reached_parameter_bound"), result_name(b)
    sp = specials(b)
    assert list(sp["kind"]) == [SpecialKind.FOLD] * 2, b.summary()
    assert_close(sp["p"], [-2 / 3, 2 / 3], what="cubic folds p")
    assert_close(sp["x"][:, 0], [1.0, -1.0], what="cubic folds x")
    check_fold_coefficients(sp, [-1.0, 1.0])


def test_closed_branch_circle():
    """F(x, p) = x² + p² − 1: the unit circle, a closed curve with folds at p = ±1,
    x = 0. F_p = 2p, F_xx = 2: a = sign(p) (the circle lies at p > −1 and p < 1)."""
    pr = poly_problem(CIRCLE)
    b = continuation(
        pr, jnp.array([1.0]), 0.0, p_min=-3, p_max=3, ds=0.05, max_steps=400
    )
    assert is_result(b, "closed_branch"), result_name(b)
    sp = specials(b)
    assert list(sp["kind"]) == [SpecialKind.FOLD] * 2, b.summary()
    assert_close(sp["p"], [-1.0, 1.0], what="circle folds p")
    assert_close(sp["x"][:, 0], [0.0, 0.0], what="circle folds x")
    r = rows(b)
    assert_close(r["x"][:, 0] ** 2 + r["p"] ** 2, np.ones_like(r["p"]), tol=1e-9,
                 what="points on the circle")
    # went once around: both signs of x and p visited, ended near the start
    assert r["x"][:, 0].min() < -0.99 and r["p"].min() < -0.99 and r["p"].max() > 0.99
    assert np.hypot(r["x"][-1, 0] - 1.0, r["p"][-1]) < 0.5
    check_fold_coefficients(sp, [-1.0, 1.0])


# --------------------------------------------------------------------------- branch points
@pytest.mark.parametrize("c", [TRANSCRITICAL, PITCHFORK], ids=["transcritical", "pitchfork"])
def test_branch_point_on_trivial_branch(c):
    """x' = p x − x² and x' = p x − x³: on x = 0 the augmented Jacobian [F_x F_p] =
    [p 0] drops rank at p = 0: a branch point."""
    pr = poly_problem(c)
    b = continuation(
        pr, jnp.array([0.0]), -0.5, p_min=-1, p_max=1, ds=0.05, direction="both",
        max_steps=400,
    )
    assert is_result(b, "reached_parameter_bound"), result_name(b)
    sp = specials(b)
    assert list(sp["kind"]) == [SpecialKind.BRANCH_POINT], b.summary()
    assert_close(sp["p"], [0.0], what="branch point p")
    assert_close(sp["x"][:, 0], [0.0], what="branch point x")
    assert np.all(sp["located"])
    r = rows(b)
    assert np.all(r["x"] == 0.0)
    assert r["p"][0] == -1.0 and r["p"][-1] == 1.0
    # stable for p < 0, unstable for p > 0
    assert np.all(r["stable"][r["p"] < -1e-8]) and np.all(~r["stable"][r["p"] > 1e-8])


# --------------------------------------------------------------------------- Hopf
@pytest.mark.parametrize("s", [-1.0, 1.0])
@pytest.mark.parametrize("omega", [1.0, 2.5, 0.3])
def test_hopf_normal_form(s, omega):
    """J(0) = [[p, −ω], [ω, p]]: eigenvalues p ± iω, Hopf at p = 0 with frequency ω;
    l1 = L1_FACTOR · s/ω (module docstring)."""
    pr = hopf_problem(omega, s)
    b = continuation(pr, jnp.zeros(2), -0.5, p_min=-0.5, p_max=0.7, ds=0.05)
    assert is_result(b, "reached_parameter_bound"), result_name(b)
    sp = specials(b)
    assert list(sp["kind"]) == [SpecialKind.HOPF], b.summary()
    assert_close(sp["p"], [0.0], what="Hopf p")
    assert_close(sp["x"], [[0.0, 0.0]], what="Hopf x")
    assert_close(sp["omega"], [omega], what="Hopf omega")
    assert np.all(sp["located"])
    assert np.sign(sp["l1"][0]) == np.sign(s), sp["l1"]
    assert_close(sp["l1"], [L1_FACTOR * s / omega], what="l1 (<q, q> = 1)")
    assert np.isnan(sp["a"][0])
    # the criticality follows the sign of s
    rec = b.special.to_list()[0]
    assert rec["criticality"] == ("supercritical" if s < 0 else "subcritical")
    r = rows(b)
    assert np.all(r["n_unstable"][r["p"] < -1e-8] == 0)
    assert np.all(r["n_unstable"][r["p"] > 1e-8] == 2)


def test_neutral_saddle_not_reported_as_hopf():
    """planar with γ = 0, k = −1: tr J = p crosses zero, det J = −1 throughout."""
    pr = gru_bif.Problem(
        planar, {"p": 0.0, "omega": 1.0, "s": -1.0, "k": -1.0, "gamma": 0.0}, "p"
    )
    b = continuation(pr, jnp.zeros(2), -0.5, p_min=-0.5, p_max=0.7, ds=0.05)
    assert is_result(b, "reached_parameter_bound"), result_name(b)
    assert SpecialKind.HOPF not in kinds_of(b), b.summary()
    assert kinds_of(b) == [], b.summary()
    r = rows(b)
    assert np.all(r["n_unstable"] == 1)  # a saddle throughout


def _orthogonal_3():
    m = np.array([[0.3, -1.2, 0.7], [0.9, 0.4, -0.5], [-0.2, 0.8, 1.1]])
    q, _ = np.linalg.qr(m)
    return q


def hopf3_args(**kw):
    args = dict(
        Q=np.eye(3), v=np.zeros(3), p=0.0, s=-1.0, beta=0.0, kappa=0.0,
        m=np.array([0.0, 1.0, 0.0]), w=np.array([1.0, 0.0]), c3=0.0,
    )
    args.update(kw)
    return args


def test_hopf_3d_trivial():
    """The 2-D normal form (μ = p, ω = 1, s = −1) plus a decoupled z' = −z: Hopf at
    p = 0, ω = 1, l1 = L1_FACTOR · (−1)."""
    pr = gru_bif.Problem(hopf3, hopf3_args(), "p")
    b = continuation(pr, jnp.zeros(3), -0.5, p_min=-0.5, p_max=0.5, ds=0.05)
    assert is_result(b, "reached_parameter_bound"), result_name(b)
    sp = specials(b)
    assert list(sp["kind"]) == [SpecialKind.HOPF], b.summary()
    assert_close(sp["p"], [0.0], what="Hopf p")
    assert_close(sp["x"], [[0.0, 0.0, 0.0]], what="Hopf x")
    assert_close(sp["omega"], [1.0], what="omega")
    assert_close(sp["l1"], [-L1_FACTOR], what="l1")


def test_hopf_3d_rotated_moving_equilibrium():
    """μ = (p − 1/2)(p + 3/2), ω = 1 + p, μ3 = 1 + p², Q a fixed rotation, v ≠ 0:
    Hopf at p = 1/2, x = v/2, ω = 3/2, l1 = L1_FACTOR (s + βκ/μ3)/ω with μ3 = 5/4."""
    Q = _orthogonal_3()
    v = np.array([1.0, -2.0, 0.5])
    s, beta, kappa = -1.0, 1.0, 0.5
    args = hopf3_args(
        Q=Q, v=v, s=s, beta=beta, kappa=kappa, m=np.array([-0.75, 1.0, 1.0]),
        w=np.array([1.0, 1.0]), c3=1.0,
    )
    pr = gru_bif.Problem(hopf3, args, "p")
    p0 = -0.9
    b = continuation(pr, p0 * v, p0, p_min=p0, p_max=1.0, ds=0.05)
    assert is_result(b, "reached_parameter_bound"), result_name(b)
    sp = specials(b)
    assert list(sp["kind"]) == [SpecialKind.HOPF], b.summary()
    pH = 0.5
    wH = 1.0 + pH
    mu3 = 1.0 + pH**2
    assert_close(sp["p"], [pH], what="Hopf p")
    assert_close(sp["x"], [pH * v], what="Hopf x")
    assert_close(sp["omega"], [wH], what="omega")
    assert_close(sp["l1"], [L1_FACTOR * (s + beta * kappa / mu3) / wH], what="l1")
    r = rows(b)
    assert_close(r["x"], r["p"][:, None] * v[None, :], tol=1e-9, what="x*(p) = p v")
    assert np.all(r["n_unstable"][r["p"] < pH - 1e-8] == 0)
    assert np.all(r["n_unstable"][r["p"] > pH + 1e-8] == 2)


def _lorenz_l1_reference(x, sigma, b, r):
    """Kuznetsov's l1 formula (<q,q> = 1, <p,q> = 1) with the Lorenz system's exact
    bilinear form, in NumPy (independent of the library's autodiff forms). Lorenz is
    quadratic, so C = 0."""
    J = np.array(
        [[-sigma, sigma, 0.0], [r - x[2], -1.0, -x[0]], [x[1], x[0], -b]]
    )

    def B(u, v):
        return np.array(
            [0.0 * u[0], -(u[0] * v[2] + u[2] * v[0]), u[0] * v[1] + u[1] * v[0]]
        )

    ev, vecs = np.linalg.eig(J)
    i = np.argmax(ev.imag)
    w = ev[i].imag
    q = vecs[:, i] / np.linalg.norm(vecs[:, i])
    evl, vecl = np.linalg.eig(J.T)
    j = np.argmin(np.abs(evl - np.conj(ev[i])))
    p = vecl[:, j]
    p = p / np.conj(np.vdot(p, q))
    qb = np.conj(q)
    a = np.linalg.solve(J, B(q, qb).real)
    bb = np.linalg.solve(2j * w * np.eye(3) - J, B(q, q))
    term = -2 * np.vdot(p, B(q, a)) + np.vdot(p, B(qb, bb))
    return term.real / (2 * w)


def test_lorenz_hopf_on_C_plus():
    """C± = (±√(b(r−1)), ±√(b(r−1)), r−1). Characteristic polynomial
    λ³ + (σ+b+1)λ² + b(r+σ)λ + 2bσ(r−1); λ = ±iω requires ω² = b(r+σ) and
    (σ+b+1) b (r+σ) = 2bσ(r−1), i.e. r_H = σ(σ+b+3)/(σ−b−1) = 470/19 for σ = 10,
    b = 8/3, with ω² = b(r_H+σ) = 1760/19. Subcritical (l1 > 0)."""
    sigma, bb = 10.0, 8.0 / 3.0
    pr = gru_bif.Problem(lorenz, {"sigma": sigma, "b": bb, "r": 10.0}, "r")
    r0 = 10.0
    c = math.sqrt(bb * (r0 - 1))
    br = continuation(
        pr, jnp.array([c, c, r0 - 1]), r0, p_min=10.0, p_max=30.0, ds=0.2
    )
    assert is_result(br, "reached_parameter_bound"), result_name(br)
    sp = specials(br)
    assert list(sp["kind"]) == [SpecialKind.HOPF], br.summary()
    rH = sigma * (sigma + bb + 3) / (sigma - bb - 1)
    assert abs(rH - 470 / 19) < 1e-13
    wH = math.sqrt(bb * (rH + sigma))
    assert abs(wH**2 - 1760 / 19) < 1e-12
    assert_close(sp["p"], [rH], tol=TOL * rH, what="Lorenz r_H")
    cH = math.sqrt(bb * (rH - 1))
    assert_close(sp["x"], [[cH, cH, rH - 1]], tol=1e-9, what="C+ at r_H")
    assert_close(sp["omega"], [wH], tol=TOL * wH, what="Lorenz omega")
    assert sp["l1"][0] > 0, "the Lorenz Hopf bifurcation of C± is subcritical"
    ref = _lorenz_l1_reference(sp["x"][0], sigma, bb, rH)
    assert_close(sp["l1"], [ref], tol=1e-10 * max(1.0, abs(ref)), what="Lorenz l1")
    r = rows(br)
    assert np.all(r["stable"][r["p"] < rH - 1e-8])
    assert np.all(r["n_unstable"][r["p"] > rH + 1e-8] == 2)
    assert r["p"][0] == 10.0 and r["p"][-1] == 30.0


def test_gru_reference(gru_branch):
    b = gru_branch
    assert is_result(b, "reached_parameter_bound"), result_name(b)
    assert kinds_of(b) == [SpecialKind.HOPF] * 2, b.summary()
    sp = specials(b)
    assert_close(sp["p"], [-GRU_HOPF, GRU_HOPF], what="GRU Hopf points")
    assert_close(sp["omega"], [GRU_OMEGA] * 2, tol=1e-9, what="GRU omega")
    assert np.all(sp["l1"] < 0), sp["l1"]
    assert np.all(sp["located"])
    # odd symmetry (h, bh) -> (−h, −bh): the two Hopf points mirror each other
    assert_close(sp["x"][0], -sp["x"][1], what="mirror states")
    assert_close(sp["l1"][0], sp["l1"][1], tol=1e-10 * abs(sp["l1"][0]), what="l1 mirror")
    # stability: stable before the first Hopf, unstable between, stable after
    r = rows(b)
    order = np.argsort(r["p"])
    p, stable = r["p"][order], r["stable"][order]
    assert np.all(np.diff(r["p"]) > 0), "the GRU branch is a graph over bh[0] (no folds)"
    assert np.all(stable[p < -GRU_HOPF - 1e-8])
    assert np.all(~stable[(p > -GRU_HOPF + 1e-8) & (p < GRU_HOPF - 1e-8)])
    assert np.all(stable[p > GRU_HOPF + 1e-8])
    assert r["p"][0] == -1.0 and r["p"][-1] == 1.0


# --------------------------------------------------------------------------- stopping
def test_stops_exactly_on_p_min():
    pr = poly_problem(SADDLE_NODE)
    b = continuation(
        pr, jnp.array([-1.0]), 1.0, p_min=0.3, p_max=2, ds=0.07, direction="forward",
        max_steps=400,
    )
    # forward = increasing p at the start, also on the unstable branch x < 0
    r = rows(b)
    assert r["p"][1] > r["p"][0]
    assert r["p"][-1] == 2.0
    b = continuation(
        pr, jnp.array([1.0]), 1.0, p_min=0.3, p_max=2, ds=0.07, direction="backward",
        max_steps=400,
    )
    r = rows(b)
    assert is_result(b, "reached_parameter_bound"), result_name(b)
    assert r["p"][-1] == 0.3, r["p"][-1]
    assert_close(r["x"][-1], [math.sqrt(0.3)], what="x at p_min")
    assert np.all(r["p"][:-1] > 0.3)


@pytest.mark.slow  # its own compilation (max_steps is static): ~10 s
def test_max_steps_reached():
    pr = poly_problem(SADDLE_NODE)
    with pytest.warns(UserWarning, match="max_steps"):
        b = continuation(
            pr, jnp.array([1.0]), 1.0, p_min=-1, p_max=2, ds=0.05, max_steps=5
        )
    assert is_result(b, "max_steps_reached_continuation"), result_name(b)
    assert int(b.num_points) == 6
    assert b.x.shape == (6, 1)
    r = rows(b)
    assert np.all(r["p"] < 2.0) and np.all(np.isfinite(r["p"]))


def test_max_steps_reached_small_ds_no_recompile():
    """Same static settings as the other 1-D tests, but a step too small to leave the
    range within max_steps."""
    pr = poly_problem(SADDLE_NODE)
    with pytest.warns(UserWarning, match="max_steps"):
        b = continuation(
            pr, jnp.array([1.0]), 1.0, p_min=-1, p_max=2, ds=1e-4, ds_max=1e-4,
            max_steps=400,
        )
    assert is_result(b, "max_steps_reached_continuation"), result_name(b)
    assert int(b.num_points) == 401


# --------------------------------------------------------------------------- bad input
def test_bad_static_input_raises_value_error():
    pr = poly_problem(SADDLE_NODE)
    x0 = jnp.array([1.0])
    kw = dict(p_min=-1, p_max=2, ds=0.05)
    with pytest.raises(ValueError, match="p0"):
        continuation(pr, x0, 3.0, **kw)
    with pytest.raises(ValueError, match="ds"):
        continuation(pr, x0, 1.0, p_min=-1, p_max=2, ds=0.0)
    with pytest.raises(ValueError, match="p_min"):
        continuation(pr, x0, 1.0, p_min=2, p_max=-1, ds=0.05)
    with pytest.raises(ValueError, match="shape"):
        continuation(pr, jnp.array([1.0, 2.0]), 1.0, **kw)
    with pytest.raises(ValueError, match="NaN"):
        continuation(pr, jnp.array([jnp.nan]), 1.0, **kw)
    with pytest.raises(ValueError, match="direction"):
        continuation(pr, x0, 1.0, direction="sideways", **kw)
    with pytest.raises(ValueError, match="max_steps"):
        continuation(pr, x0, 1.0, max_steps=0, **kw)
    with pytest.raises(ValueError, match="Unknown parameter"):
        gru_bif.Problem(poly1, {"c": jnp.asarray(SADDLE_NODE), "p": 0.0}, "q")


def test_start_not_near_equilibrium():
    """x' = p − x² has no equilibrium at p = −1."""
    pr = poly_problem(SADDLE_NODE)
    kw = dict(p_min=-1, p_max=2, ds=0.05, max_steps=400)
    b = continuation(pr, jnp.array([1.0]), -1.0, throw=False, **kw)
    assert b.result == RESULTS.start_not_converged
    # the given start is kept (not Newton's diverged iterate), and nothing else
    assert int(b.num_points) == 1
    np.testing.assert_array_equal(b.x[0], [1.0])
    assert float(b.p[0]) == -1.0
    with pytest.raises(Exception, match="start point") as e:
        b = continuation(pr, jnp.array([1.0]), -1.0, **kw)
        jax.block_until_ready(b)
    assert "start point" in str(e.value)


def test_nonfinite_vector_field_mid_branch():
    pr = gru_bif.Problem(nan_below_half, {"p": 1.0}, "p")
    b = continuation(
        pr, jnp.array([1.0]), 1.0, p_min=0.0, p_max=1.0, ds=-0.05, throw=False
    )
    assert b.result == RESULTS.nonfinite_vector_field, result_name(b)
    r = rows(b)
    assert np.all(np.isfinite(r["p"])) and np.all(r["p"] >= 0.5)
    assert r["p"].min() < 0.5 + 1e-3
    assert_close(r["x"][:, 0], r["p"], tol=1e-9, what="points on x = p")


def test_nonfinite_vector_field_at_start():
    pr = gru_bif.Problem(nan_below_half, {"p": 1.0}, "p")
    b = continuation(
        pr, jnp.array([0.2]), 0.2, p_min=0.0, p_max=1.0, ds=-0.05, throw=False
    )
    assert b.result == RESULTS.nonfinite_vector_field, result_name(b)


def test_float32_state_with_too_small_tol_warns():
    """float32 x0 (with float64 enabled and the default float64 args): the branch runs
    in x0's dtype and tol=1e-12 is raised to the float32 default with a warning."""
    pr = poly_problem(SADDLE_NODE)
    with pytest.warns(UserWarning, match="tol"):
        b = continuation(
            pr, jnp.array([1.0], jnp.float32), 1.0, p_min=-1, p_max=2, ds=0.05,
            direction="backward", max_steps=400, tol=1e-12,
        )
    assert b.x.dtype == jnp.float32
    sp = specials(b)
    assert list(sp["kind"]) == [SpecialKind.FOLD]
    assert abs(sp["p"][0]) < 1e-5 and abs(sp["x"][0, 0]) < 1e-3
    assert abs(sp["a"][0] + 1) < 1e-3


def test_float32_args_and_state_warns():
    """Everything float32 (args given as float32 arrays)."""
    pr = gru_bif.Problem(
        poly1,
        {"c": jnp.asarray(SADDLE_NODE, jnp.float32), "p": jnp.float32(0.0)},
        "p",
    )
    with pytest.warns(UserWarning, match="tol"):
        b = continuation(
            pr, jnp.array([1.0], jnp.float32), 1.0, p_min=-1, p_max=2, ds=0.05,
            direction="backward", max_steps=400, tol=1e-12,
        )
    assert b.x.dtype == jnp.float32 and b.p.dtype == jnp.float32
    sp = specials(b)
    assert list(sp["kind"]) == [SpecialKind.FOLD]
    assert abs(sp["p"][0]) < 1e-5 and abs(sp["x"][0, 0]) < 1e-3
    assert abs(sp["a"][0] + 1) < 1e-3


def _gru_hopf_value(gru, dt):
    pr = gru_bif.Problem.from_gru(gru, "bh[0]")
    b = continuation(pr, jnp.zeros(2, dt), jnp.zeros((), dt), p_min=0.0, p_max=1.0,
                     ds=0.05, stability=False)
    sel = b.special.kind == SpecialKind.HOPF
    return jnp.sum(jnp.where(sel, b.special.p + b.special.data["l1"], 0.0))


_R45 = np.array([[1.0, -1.0], [1.0, 1.0]]) / np.sqrt(2)


def test_float32_gru_hopf_under_x64():
    """A float32 GRU with float64 enabled (U_h = 3·R(π/4)): the branch and the Hopf data
    stay float32 (the input `u` takes the weights' dtype, normal-form tangents the
    state's), and the Hopf point is the known 0.359038459564185 to float32 accuracy."""
    gru = gru_bif.GRU(3 * _R45, dtype=jnp.float32)
    pr = gru_bif.Problem.from_gru(gru, "bh[0]")
    b = continuation(pr, jnp.zeros(2, jnp.float32), jnp.float32(0.0), p_min=0.0,
                     p_max=1.0, ds=0.05, stability=False)
    assert b.x.dtype == jnp.float32 and b.special.data["l1"].dtype == jnp.float32
    sp = specials(b)
    assert list(sp["kind"]) == [SpecialKind.HOPF]
    assert abs(sp["p"][0] - 0.359038459564185) < 1e-5
    assert np.isfinite(sp["l1"][0]) and sp["l1"][0] < 0  # supercritical (paper.md)


@pytest.mark.slow  # three gradient compilations (~1 min on 2 cores)
def test_float32_gru_gradient_under_x64():
    """Implicit gradients of a float32 GRU's Hopf data (float64 enabled) are float32
    and agree with the float64 ones; a float32 branch of a float64 network (mixed
    precision) differentiates too."""
    import equinox as eqx

    out = {}
    for dt in (jnp.float64, jnp.float32):
        gru = gru_bif.GRU(3 * _R45 + 0.1, Uz=0.2 * _R45, dtype=dt)
        v, g = eqx.filter_value_and_grad(_gru_hopf_value)(gru, dt)
        assert v.dtype == dt and g.Uh.dtype == dt
        out[dt] = (float(v), np.asarray(g.Uh, np.float64))
    v64, g64 = out[jnp.float64]
    v32, g32 = out[jnp.float32]
    assert np.isfinite(v64) and abs(v32 - v64) < 1e-5 * max(1.0, abs(v64))
    assert np.max(np.abs(g32 - g64)) < 1e-4 * np.max(np.abs(g64))
    gru = gru_bif.GRU(3 * _R45 + 0.1, Uz=0.2 * _R45)
    v, g = eqx.filter_value_and_grad(_gru_hopf_value)(gru, jnp.float32)
    assert abs(float(v) - v64) < 1e-5 and np.all(np.isfinite(g.Uh))


_FLOAT32_SCRIPT = textwrap.dedent(
    """
    import math, warnings, json
    import jax, jax.numpy as jnp, numpy as np
    assert not jax.config.jax_enable_x64
    import gru_bif
    from gru_bif.continuation import continuation

    def f(t, x, a):
        return jnp.array([a["p"] - x[0] ** 2])

    pr = gru_bif.Problem(f, {"p": 0.0}, "p")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        b = continuation(pr, jnp.array([1.0]), 1.0, p_min=-1, p_max=2, ds=0.05,
                         direction="both", tol=1e-12)
    g = gru_bif.GRU(3 * np.array([[1.0, -1.0], [1.0, 1.0]]) / math.sqrt(2))
    bg = continuation(gru_bif.Problem.from_gru(g, "bh[0]"), jnp.zeros(2), 0.0,
                      p_min=-1, p_max=1, ds=0.02, direction="both")
    n = int(bg.special.count)
    print(json.dumps({
        "warnings": [str(x.message) for x in w],
        "dtype": str(b.x.dtype),
        "kinds": [int(k) for k in np.asarray(b.special.kind)[: int(b.special.count)]],
        "p": float(b.special.p[0]), "x": float(b.special.x[0, 0]),
        "a": float(b.special.data["a"][0]),
        "gru_kinds": [int(k) for k in np.asarray(bg.special.kind)[:n]],
        "gru_p": sorted(float(v) for v in np.asarray(bg.special.p)[:n]),
        "gru_omega": [float(v) for v in np.asarray(bg.special.data["omega"])[:n]],
    }))
    """
)


@pytest.mark.slow  # a fresh interpreter and two compilations: ~25 s
def test_float32_subprocess():
    """A real float32 run (x64 off): fold of p − x² and the GRU's Hopf points to
    float32 accuracy; a too-small tol is raised with a warning."""
    out = subprocess.run(
        [sys.executable, "-c", _FLOAT32_SCRIPT],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "JAX_ENABLE_X64": "0", "JAX_PLATFORMS": "cpu"},
    )
    assert out.returncode == 0, out.stderr[-3000:]
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["dtype"] == "float32"
    assert any("tol" in w for w in res["warnings"]), res["warnings"]
    assert res["kinds"] == [int(SpecialKind.FOLD)]
    assert abs(res["p"]) < 1e-5 and abs(res["x"]) < 1e-3 and abs(res["a"] + 1) < 1e-3
    assert res["gru_kinds"] == [int(SpecialKind.HOPF)] * 2
    assert np.allclose(res["gru_p"], [-GRU_HOPF, GRU_HOPF], atol=1e-4)
    assert np.allclose(res["gru_omega"], GRU_OMEGA, atol=1e-4)


# --------------------------------------------------------------------------- serialisation
def test_json_round_trip(gru_branch, tmp_path):
    b = gru_branch
    text = b.to_json()
    d = json.loads(text)
    assert d["format"] == "gru_bif.branch" and d["param"] == "bh[0]"
    assert d["num_points"] == int(b.num_points)
    assert [s["kind"] for s in d["special_points"]] == ["hopf", "hopf"]
    for s in d["special_points"]:
        assert set(s) >= {"kind", "p", "x", "omega", "l1", "criticality"}
        assert "a" not in s
    b2 = Branch.from_json(text)
    path = tmp_path / "branch.json"
    b.to_json(path)
    b3 = Branch.from_json(str(path))
    t = b.trimmed()
    for other in (b2, b3):
        t2 = other.trimmed()
        for k in ("p", "x", "stable", "n_unstable"):
            assert np.array_equal(t[k], t2[k]), k
        assert other.param_name == "bh[0]"
        assert other.stop_reason == b.stop_reason
        n = int(b.special.count)
        assert int(other.special.count) == n
        assert np.array_equal(np.asarray(other.special.kind)[:n], np.asarray(b.special.kind)[:n])
        assert np.array_equal(np.asarray(other.special.p)[:n], np.asarray(b.special.p)[:n])
        assert np.array_equal(np.asarray(other.special.x)[:n], np.asarray(b.special.x)[:n])
        for k in ("omega", "l1"):
            assert np.array_equal(
                np.asarray(other.special.data[k])[:n], np.asarray(b.special.data[k])[:n]
            ), k
        assert other.to_json() == text


def test_json_round_trip_fold_data(saddle_node_both):
    b = saddle_node_both
    d = json.loads(b.to_json())
    (s,) = d["special_points"]
    assert s["kind"] == "fold" and s["a"] == float(b.special.data["a"][0])
    assert "omega" not in s and "l1" not in s
    b2 = Branch.from_json(b.to_json())
    assert float(b2.special.data["a"][0]) == float(b.special.data["a"][0])
    assert np.array_equal(b2.trimmed()["x"], b.trimmed()["x"])


def test_npz_round_trip_bitwise(gru_branch, tmp_path):
    b = gru_branch
    path = tmp_path / "branch.npz"
    b.save_npz(path)
    b2 = Branch.load_npz(path)
    leaves1, tree1 = jax.tree_util.tree_flatten(b)
    leaves2, tree2 = jax.tree_util.tree_flatten(b2)
    assert tree1 == tree2
    for l1, l2 in zip(leaves1, leaves2):
        a1, a2 = np.asarray(l1), np.asarray(l2)
        assert a1.dtype == a2.dtype and a1.shape == a2.shape
        assert a1.tobytes() == a2.tobytes()
    assert b2.param_name == b.param_name
    assert bool(b2.result == b.result)


def hopf_plus_stable(t, x, a):
    """Hopf normal form (ω = 1, subcritical s = +1) in (x0, x1), coupled one way into 12
    stable directions x_k' = −k x_k + x0²: 14-D, Hopf at p = 0 with ω = 1."""
    p = a["p"]
    r2 = x[0] ** 2 + x[1] ** 2
    head = jnp.array([p * x[0] - x[1] + x[0] * r2, x[0] + p * x[1] + x[1] * r2])
    k = jnp.arange(1, x.shape[0] - 1, dtype=x.dtype)
    return jnp.concatenate([head, -k * x[2:] + x[0] ** 2])


@pytest.mark.parametrize("hopf", ["auto", "bialternate"])
def test_hopf_and_stability_above_twelve_states(hopf):
    """d = 14 > 12: "auto" uses the eigenvalue Hopf test, sharing one eigen-decomposition
    with the stability count; the bialternate product gives the same answer."""
    pr = gru_bif.Problem(hopf_plus_stable, {"p": -0.5}, "p")
    b = continuation(pr, jnp.zeros(14), -0.5, p_min=-0.5, p_max=0.5, ds=0.05, hopf=hopf)
    sp = b.special
    n = int(sp.count)
    kinds = [int(k) for k in sp.kind[:n]]
    assert kinds == [SpecialKind.HOPF]
    assert abs(float(sp.p[0])) <= 1e-10
    assert float(sp.data["omega"][0]) == pytest.approx(1.0, abs=1e-9)
    nu = np.asarray(b.n_unstable[: int(b.num_points)])
    p = np.asarray(b.p[: int(b.num_points)])
    assert np.all(nu[p < -1e-6] == 0) and np.all(nu[p > 1e-6] == 2)
