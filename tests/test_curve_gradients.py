"""Implicit derivatives of fold/Hopf curve points and of codim-2 points (cusp, BT,
Bautin, zero-Hopf, double Hopf) w.r.t. the problem's arguments, against closed forms on normal forms with
extra coefficients; forward against reverse mode.

Default tests linearise at the analytic points (what the engine hands to
`attach_points` / `special_data`); the `slow` tests differentiate end to end through
`fold_curve` / `hopf_curve`."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gru_bif
from gru_bif.curves.gradients import codim2_point, curve_points
from gru_bif.curves import FoldCurveProblem, HopfCurveProblem, fold_curve, hopf_curve
from gru_bif.problem import Param

TOL = 1e-9


def cusp_k(t, x, a):
    """`x' = b1 + e + b2 x − k x³`: fold curve `27 k (b1 + e)² = 4 b2³`, cusp at
    `b1 = −e`, `b2 = 0`, `x = 0`."""
    return a["b1"] + a["e"] + a["b2"] * x - a["k"] * x**3


def bt_ce(t, z, a):
    """`x' = y`, `y' = b1 + b2 x + c x² + x y + e y`: fold `b1 = b2²/(4c)`
    (`x = −b2/(2c)`), Hopf `x = −e`, `b1 = b2 e − c e²` (`b2 < 2ce`), BT at
    `x = −e`, `b1 = c e²`, `b2 = 2ce`."""
    x, y = z[0], z[1]
    return jnp.stack([y, a["b1"] + a["b2"] * x + a["c"] * x**2 + x * y + a["e"] * y])


def bautin_me(t, z, a):
    """Bautin normal form with `r' = r (b1 + m + (b2 − e) r² − r⁴)`: Hopf curve
    `b1 = −m` at the origin (`l1 ∝ b2 − e`), Bautin point `b1 = −m`, `b2 = e`."""
    x1, x2 = z[0], z[1]
    rho = x1**2 + x2**2
    g = a["b1"] + a["m"] + (a["b2"] - a["e"]) * rho - rho**2
    return jnp.stack([g * x1 - x2, x1 + g * x2])


def _cp(kind, field, args, d):
    pr = gru_bif.Problem(field, args, "b1")
    p2 = Param.from_name(pr.args, "b2")
    if kind == "fold":
        ones = jnp.ones((d,))
        return FoldCurveProblem(pr, p2, jnp.zeros((2,)), ones, ones, d, False)
    ones = jnp.ones((d * (d - 1) // 2,))
    return HopfCurveProblem(pr, p2, ones, ones, d, False)


def _both_modes(f, args):
    """`(jacfwd, jacrev)` of `f` at `args`, as dicts of numpy arrays."""
    jf = jax.jit(jax.jacfwd(f))(args)
    jr = jax.jit(jax.jacrev(f))(args)
    return ({k: np.asarray(v) for k, v in jf.items()}, {k: np.asarray(v) for k, v in jr.items()})


def _check(jac, truth):
    for k, want in truth.items():
        np.testing.assert_allclose(jac[k], want, rtol=1e-8, atol=TOL, err_msg=k)


# --------------------------------------------------------------------------- cusp
CUSP = {"b1": 0.0, "b2": 0.0, "k": 2.0, "e": 0.3}


def test_cusp_fold_curve_points_closed_form():
    k, e = CUSP["k"], CUSP["e"]
    b2 = np.array([1.0, 0.5, 0.5, 2.0])
    x = np.array([1, 1, -1, -1]) * np.sqrt(b2 / (3 * k))
    b1 = -(2 / 3) * b2 * x - e
    X = jnp.asarray(np.stack([x, b1, b2], 1))
    X = jnp.concatenate([X, jnp.full((1, 3), jnp.nan)])  # a padding row stays NaN

    def f(a):
        return curve_points(_cp("fold", cusp_k, a, 1), X, "fold")

    out = np.asarray(f(CUSP))
    np.testing.assert_array_equal(out[:4], np.asarray(X[:4]))
    assert np.all(np.isnan(out[4]))
    jf, jr = _both_modes(lambda a: f(a)[:4], CUSP)
    # at fixed b2: x = ±sqrt(b2/(3k)) → dx/dk = −x/(2k); b1 + e = −(2/3) b2 x
    zero = np.zeros_like(x)
    truth = {
        "k": np.stack([-x / (2 * k), (b1 + e) / (2 * k) * -1, zero], 1),
        "e": np.stack([zero, -np.ones_like(x), zero], 1),
        "b1": np.zeros((4, 3)), "b2": np.zeros((4, 3)),
    }
    _check(jf, truth)
    _check(jr, truth)


def test_cusp_point_closed_form_and_degenerate_curve_point():
    u = jnp.array([0.0, -CUSP["e"], 0.0])

    def f(a):
        return codim2_point(_cp("fold", cusp_k, a, 1), u, "cusp")

    np.testing.assert_array_equal(np.asarray(f(CUSP)), np.asarray(u))
    jf, jr = _both_modes(f, CUSP)
    # the cusp (x, b1, b2) = (0, −e, 0) does not depend on k
    truth = {"k": np.zeros(3), "e": np.array([0.0, -1.0, 0.0]), "b1": np.zeros(3),
             "b2": np.zeros(3)}
    _check(jf, truth)
    _check(jr, truth)
    # at the cusp the curve turns in b2: the point at fixed b2 is not a regular
    # function of the arguments — NaN, not a wrong number
    g = jax.jit(jax.jacfwd(lambda a: curve_points(_cp("fold", cusp_k, a, 1), u[None], "fold")))(CUSP)
    assert np.all(np.isnan(np.asarray(g["k"])[0, :2]))


def test_inactive_cusp_slot_has_zero_derivative():
    u = jnp.array([0.4, -0.5, 1.0])  # a fold point, not a cusp: slot inactive
    g = jax.jit(jax.jacrev(lambda a: codim2_point(_cp("fold", cusp_k, a, 1), u, "cusp", False)))(CUSP)
    for v in g.values():
        np.testing.assert_array_equal(np.asarray(v), 0.0)


# --------------------------------------------------------------------------- BT
BT = {"b1": 0.0, "b2": 0.0, "c": 1.5, "e": 0.2}


@pytest.mark.slow
def test_bt_fold_and_hopf_curve_points_closed_form():
    c, e = BT["c"], BT["e"]
    # fold curve at b2 = −0.7: x = −b2/(2c), b1 = b2²/(4c)
    b2 = -0.7
    Xf = jnp.array([[-b2 / (2 * c), 0.0, b2**2 / (4 * c), b2]])
    jf, jr = _both_modes(lambda a: curve_points(_cp("fold", bt_ce, a, 2), Xf, "fold")[0], BT)
    truth = {"c": np.array([b2 / (2 * c**2), 0.0, -(b2**2) / (4 * c**2), 0.0]),
             "e": np.zeros(4), "b1": np.zeros(4), "b2": np.zeros(4)}
    _check(jf, truth)
    _check(jr, truth)
    # Hopf curve at b2 = −0.5 (< 2ce): x = −e, b1 = b2 e − c e²
    b2 = -0.5
    Xh = jnp.array([[-e, 0.0, b2 * e - c * e**2, b2]])
    jf, jr = _both_modes(lambda a: curve_points(_cp("hopf", bt_ce, a, 2), Xh, "hopf")[0], BT)
    truth = {"c": np.array([0.0, 0.0, -(e**2), 0.0]),
             "e": np.array([-1.0, 0.0, b2 - 2 * c * e, 0.0]),
             "b1": np.zeros(4), "b2": np.zeros(4)}
    _check(jf, truth)
    _check(jr, truth)


@pytest.mark.parametrize("curve", ["fold", pytest.param("hopf", marks=pytest.mark.slow)])
def test_bt_point_closed_form(curve):
    c, e = BT["c"], BT["e"]
    u = jnp.array([-e, 0.0, c * e**2, 2 * c * e])
    jf, jr = _both_modes(lambda a: codim2_point(_cp(curve, bt_ce, a, 2), u, "bt"), BT)
    # (x, y, b1, b2) = (−e, 0, c e², 2ce)
    truth = {"c": np.array([0.0, 0.0, e**2, 2 * e]),
             "e": np.array([-1.0, 0.0, 2 * c * e, 2 * c]),
             "b1": np.zeros(4), "b2": np.zeros(4)}
    _check(jf, truth)
    _check(jr, truth)


# --------------------------------------------------------------------------- Bautin
BA = {"b1": 0.0, "b2": 0.0, "m": 0.25, "e": -0.4}


@pytest.mark.slow
def test_bautin_point_and_hopf_curve_closed_form():
    m, e = BA["m"], BA["e"]
    u = jnp.array([0.0, 0.0, -m, e])
    jf, jr = _both_modes(lambda a: codim2_point(_cp("hopf", bautin_me, a, 2), u, "bautin"), BA)
    truth = {"m": np.array([0.0, 0.0, -1.0, 0.0]), "e": np.array([0.0, 0.0, 0.0, 1.0]),
             "b1": np.zeros(4), "b2": np.zeros(4)}
    _check(jf, truth)
    _check(jr, truth)
    Xh = jnp.array([[0.0, 0.0, -m, 0.7]])
    jf, jr = _both_modes(lambda a: curve_points(_cp("hopf", bautin_me, a, 2), Xh, "hopf")[0], BA)
    truth = {"m": np.array([0.0, 0.0, -1.0, 0.0]), "e": np.zeros(4), "b1": np.zeros(4),
             "b2": np.zeros(4)}
    _check(jf, truth)
    _check(jr, truth)


# --------------------------------------------------------------------------- end to end
def _fwd_rev(out, args):
    """Forward tangents (one per leaf) and reverse mode (by transposing the same
    linearisation: one trace of the continuation)."""
    y, f_jvp = jax.linearize(out, args)
    f_vjp = jax.linear_transpose(f_jvp, args)
    keys = sorted(args)
    fwd = {k: np.asarray(f_jvp({kk: jnp.asarray(float(kk == k)) for kk in keys})) for k in keys}
    m = y.shape[0]
    rev_rows = [f_vjp(jnp.eye(m, dtype=y.dtype)[i])[0] for i in range(m)]
    rev = {k: np.array([float(r[k]) for r in rev_rows]) for k in keys}
    return np.asarray(y), fwd, rev


@pytest.mark.slow
def test_end_to_end_bt_fold_curve():
    c, e = BT["c"], BT["e"]
    b2s = 2 * c * e - 1.0

    def out(a):
        pr = gru_bif.Problem(bt_ce, dict(a, b1=b2s**2 / (4 * c), b2=b2s), "b1")
        br = fold_curve(pr, jnp.array([-b2s / (2 * c), 0.0]), "b2", p_min=b2s,
                        p_max=b2s + 2.0, ds=0.05, max_steps=60, direction="forward")
        return jnp.concatenate([br.x[5], br.p[5][None], br.special.x[0],
                                br.special.p[0][None], br.special.data["p1"][:1]])

    y, fwd, rev = _fwd_rev(out, BT)
    x5, b25 = y[0], y[3]
    np.testing.assert_allclose(y[4:8], [-e, 0.0, c * e**2, 2 * c * e], atol=1e-9)
    truth_c = [b25 / (2 * c**2), 0.0, -(b25**2) / (4 * c**2), 0.0, 0.0, 0.0, e**2, 2 * e, e**2]
    truth_e = [0.0, 0.0, 0.0, 0.0, -1.0, 0.0, 2 * c * e, 2 * c, 2 * c * e]
    for jac in (fwd, rev):
        np.testing.assert_allclose(jac["c"], truth_c, rtol=1e-8, atol=TOL)
        np.testing.assert_allclose(jac["e"], truth_e, rtol=1e-8, atol=TOL)


@pytest.mark.slow
def test_end_to_end_cusp_and_bautin():
    k, e = CUSP["k"], CUSP["e"]
    x0 = float(np.sqrt(1 / (3 * k)))

    def out_cusp(a):
        b1 = -(2 / 3) * x0 - a["e"]
        pr = gru_bif.Problem(cusp_k, dict(a, b1=b1), "b1")
        br = fold_curve(pr, jnp.array([x0]), "b2", p1=b1, p2=1.0, p_min=-0.5, p_max=1.5,
                        ds=0.05, max_steps=100)
        return jnp.concatenate([br.x[0], br.p[:1], br.special.x[0], br.special.p[:1]])

    y, fwd, rev = _fwd_rev(out_cusp, CUSP)
    x, b1 = y[0], y[1]
    for jac in (fwd, rev):
        np.testing.assert_allclose(jac["k"], [-x / (2 * k), -(b1 + e) / (2 * k), 0, 0, 0, 0],
                                   rtol=1e-8, atol=TOL)
        np.testing.assert_allclose(jac["e"], [0, -1, 0, 0, -1, 0], atol=TOL)

    m, eb = BA["m"], BA["e"]

    def out_bautin(a):
        pr = gru_bif.Problem(bautin_me, dict(a, b1=-m, b2=eb - 0.5), "b1")
        br = hopf_curve(pr, jnp.zeros(2), "b2", p_min=eb - 0.5, p_max=eb + 0.5, ds=0.05,
                        max_steps=40, direction="forward")
        return jnp.concatenate([br.special.x[0], br.special.p[:1]])

    y, fwd, rev = _fwd_rev(out_bautin, BA)
    np.testing.assert_allclose(y, [0, 0, -m, eb], atol=1e-9)
    for jac in (fwd, rev):
        np.testing.assert_allclose(jac["m"], [0, 0, -1, 0], atol=TOL)
        np.testing.assert_allclose(jac["e"], [0, 0, 0, 1], atol=TOL)


# --------------------------------------------------------------- zero-Hopf, double Hopf
def zero_hopf_c(t, z, a):
    """An oscillator on top of a fold: `z' = b2 − z²`, and in the plane `(x, y)` the
    rate `μ = b1 − c + z`, frequency `w`. Fold curve `b2 = 0` (z = 0, eigenvalues 0 and
    `b1 − c ± iw`), zero-Hopf at `b1 = c`, `b2 = 0`."""
    x, y, zz = z[0], z[1], z[2]
    mu = a["b1"] - a["c"] + zz
    r2 = x**2 + y**2
    return jnp.stack([mu * x - a["w"] * y - x * r2, a["w"] * x + mu * y - y * r2,
                      a["b2"] - zz**2])


def double_hopf_k(t, z, a):
    """Two oscillators at the origin: rates `μ1 = b1 − a`, `μ2 = b2 − b + k b1`,
    frequencies 1 and `w2`. Hopf curves `b1 = a` and `b2 = b − k b1`; double Hopf at
    `b1 = a`, `b2 = b − k a` (ω = 1 and w2)."""
    x1, y1, x2, y2 = z[0], z[1], z[2], z[3]
    m1 = a["b1"] - a["a"]
    m2 = a["b2"] - a["b"] + a["k"] * a["b1"]
    r1, r2 = x1**2 + y1**2, x2**2 + y2**2
    return jnp.stack([m1 * x1 - y1 - x1 * r1, x1 + m1 * y1 - y1 * r1,
                      m2 * x2 - a["w2"] * y2 - x2 * r2, a["w2"] * x2 + m2 * y2 - y2 * r2])


ZH = {"b1": 0.0, "b2": 0.0, "c": 0.2, "w": 1.3}
DH = {"b1": 0.0, "b2": 0.0, "a": 0.1, "b": 0.3, "k": 0.5, "w2": 1.7}


@pytest.mark.parametrize("curve", [pytest.param("fold", marks=pytest.mark.slow), "hopf"])
def test_zero_hopf_point_closed_form(curve):
    """(x, b1, b2) of the zero-Hopf point: d b1/dc = 1, everything else constant."""
    u = jnp.array([0.0, 0.0, 0.0, ZH["c"], 0.0])

    def f(args):
        return codim2_point(_cp(curve, zero_hopf_c, args, 3), u, "zero_hopf")

    jf, jr = _both_modes(f, ZH)
    for jac in (jf, jr):
        _check(jac, {"c": np.array([0, 0, 0, 1.0, 0]), "w": np.zeros(5),
                     "b1": np.zeros(5), "b2": np.zeros(5)})


def test_double_hopf_point_closed_form():
    """(b1, b2) of the double-Hopf point `(a, b − k a)`: derivatives w.r.t. a, b, k."""
    a, b, k = DH["a"], DH["b"], DH["k"]
    u = jnp.array([0.0, 0.0, 0.0, 0.0, a, b - k * a])

    def f(args):
        return codim2_point(_cp("hopf", double_hopf_k, args, 4), u, "double_hopf")[4:]

    jf, jr = _both_modes(f, DH)
    for jac in (jf, jr):
        _check(jac, {"a": np.array([1.0, -k]), "b": np.array([0.0, 1.0]),
                     "k": np.array([0.0, -a]), "w2": np.zeros(2)})


@pytest.mark.slow  # two curve compilations and a gradient (~1.5 min on 2 quiet cores)
def test_zero_hopf_and_double_hopf_detected_on_curves():
    """End to end: the fold curve of `zero_hopf_c` meets its zero-Hopf point, the Hopf
    curve `b1 = a` of `double_hopf_k` its double-Hopf point, each located with its
    frequencies; and the double-Hopf point's b2 differentiates as `b − k a`."""
    # the fold curve is b2 = 0: continue it in b1 (the engine parameter), b2 solved for
    pr = gru_bif.Problem(zero_hopf_c, dict(ZH, b1=-0.5), "b2")
    fc = fold_curve(pr, jnp.zeros(3), "b1", p1=0.0, p2=-0.5, p_min=-1.0, p_max=1.0,
                    ds=0.05, max_steps=100)
    zh = [s for s in fc.special.to_list() if s["kind"] == "zero_hopf"]
    assert len(zh) == 1, fc.special.to_list()
    assert abs(zh[0]["p"] - ZH["c"]) < 1e-8 and abs(zh[0]["p1"]) < 1e-8
    assert abs(zh[0]["omega"] - ZH["w"]) < 1e-8

    def dh_b2(args):
        pr = gru_bif.Problem(double_hopf_k, args, "b1")
        hc = hopf_curve(pr, jnp.zeros(4), "b2", p1=args["a"], p2=-0.5, p_min=-1.0,
                        p_max=1.0, ds=0.05, max_steps=100)
        sel = hc.special.kind == gru_bif.SpecialKind.DOUBLE_HOPF
        return (jnp.sum(jnp.where(sel, hc.special.p, 0.0)), jnp.sum(sel),
                jnp.sum(jnp.where(sel, hc.special.data["omega2"], 0.0)))

    (v, (n, w2)), g = jax.value_and_grad(lambda a: (lambda r: (r[0], r[1:]))(dh_b2(a)),
                                         has_aux=True)(dict(DH, b1=DH["a"]))
    assert int(n) == 1
    assert abs(float(v) - (DH["b"] - DH["k"] * DH["a"])) < 1e-8
    assert abs(float(w2) - DH["w2"]) < 1e-8 or abs(float(w2) - 1.0) < 1e-8
    np.testing.assert_allclose([g["b"], g["k"]], [1.0, -DH["a"]], atol=1e-8)
