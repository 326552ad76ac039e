"""Fold and Hopf curves in two parameters and their codim-2 points, against analytic
truth (gru_bif.models.normal_forms) and against independent one-parameter location."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gru_bif
from gru_bif import RESULTS
from gru_bif.curves import (
    bt_normal_form,
    curve_parameters,
    fold_curve,
    hopf_curve,
    hopf_frequency,
)
from gru_bif.models.normal_forms import (
    Bautin,
    BogdanovTakens,
    Cusp,
    bautin_field,
    bogdanov_takens_field,
    cusp_field,
)

LOC = 1e-8  # codim-2 points located to this accuracy


def _rows(branch):
    n = int(branch.num_points)
    return np.asarray(branch.x[:n]), np.asarray(branch.p[:n])


def _special(branch, kind):
    return [s for s in branch.special.to_list() if s["kind"] == kind]


# --------------------------------------------------------------------------- cusp
def test_cusp_fold_curve_and_cusp_point():
    nf = Cusp()
    # start on the analytic fold at b2 = 1: x = 1/√3, b1 = −2x³
    x0 = 1 / math.sqrt(3)
    b1, b2 = (float(v) for v in nf.fold_curve(x0))
    pr = gru_bif.Problem(cusp_field, {"b1": b1, "b2": b2}, "b1")
    curve = fold_curve(pr, jnp.array([x0]), "b2", p_min=-1.0, p_max=2.0, ds=0.05,
                       max_steps=200)
    X, P = _rows(curve)
    p1, p2 = np.asarray(curve_parameters(curve)[0][: len(P)]), P
    # both halves of the curve, through the cusp, up to b2 = 2 on both sides
    assert np.isclose(P[0], 2.0) and np.isclose(P[-1], 2.0)
    assert np.min(P) < 1e-2
    # 27 b1² = 4 b2³ and (b1, b2) = (−2x³, 3x²) along the whole curve
    assert np.max(np.abs(27 * p1**2 - 4 * p2**3)) < 1e-10
    b1a, b2a = nf.fold_curve(X[:, 0])
    assert np.max(np.abs(p1 - np.asarray(b1a))) < 1e-10
    assert np.max(np.abs(p2 - np.asarray(b2a))) < 1e-10
    cusps = _special(curve, "cusp")
    assert len(cusps) == 1 and len(curve.special.to_list()) == 1
    truth = nf.codim2_points()[0]
    c = cusps[0]
    assert abs(c["p"] - truth.params["b2"]) < LOC and abs(c["p1"] - truth.params["b1"]) < LOC
    assert abs(c["x"][0]) < LOC
    assert abs(c["c"] - truth.data["c"]) < 1e-8
    assert c["located"]


# --------------------------------------------------------------------------- BT
@pytest.fixture(scope="module")
def bt_curves():
    nf = BogdanovTakens()
    b2 = -1.0
    b1 = float(nf.fold_curve(b2))
    pr = gru_bif.Problem(bogdanov_takens_field, {"b1": b1, "b2": b2}, "b1")
    fold = fold_curve(pr, jnp.array([-b2 / 2, 0.0]), "b2", p_min=-1.5, p_max=1.5,
                      ds=0.05, max_steps=200)
    i_bt = [i for i, s in enumerate(fold.special.to_list()) if s["kind"] == "bt"]
    assert len(i_bt) == 1
    # switching at the BT point onto the Hopf curve (it passes through BT)
    hopf = hopf_curve(pr, fold, "b2", index=i_bt[0], p_min=-1.5, p_max=1.5, ds=0.05,
                      max_steps=200)
    return nf, pr, fold, hopf, i_bt[0]


def test_bt_fold_curve(bt_curves):
    nf, _, fold, _, _ = bt_curves
    X, P = _rows(fold)
    assert np.isclose(P.min(), -1.5) and np.isclose(P.max(), 1.5)
    assert np.max(np.abs(X[:, 2] - np.asarray(nf.fold_curve(P)))) < 1e-10  # b1 = b2²/4
    assert np.max(np.abs(X[:, 0] + P / 2)) < 1e-10 and np.max(np.abs(X[:, 1])) < 1e-12
    (bt,) = _special(fold, "bt")
    truth = nf.codim2_points()[0]
    assert abs(bt["p"]) < LOC and abs(bt["p1"]) < LOC and np.max(np.abs(bt["x"])) < LOC
    assert abs(bt["a"] - truth.data["a"]) < 1e-8 and abs(bt["b"] - truth.data["b"]) < 1e-8
    assert [s["kind"] for s in fold.special.to_list()] == ["bt"]


def test_bt_hopf_curve_from_bt(bt_curves):
    nf, pr, _, hopf, _ = bt_curves
    X, P = _rows(hopf)
    # the Hopf curve b1 = 0 (b2 < 0) continues as the neutral-saddle curve (b2 > 0)
    assert np.isclose(P.min(), -1.5) and np.isclose(P.max(), 1.5)
    assert np.max(np.abs(X[:, 2])) < 1e-12 and np.max(np.abs(X[:, :2])) < 1e-12
    omega = np.asarray(hopf_frequency(pr, "b2", hopf))[: len(P)]
    neg = P < -1e-6
    assert np.allclose(omega[neg], np.sqrt(-P[neg]), atol=1e-12)  # ω = √(−b2)
    assert np.all(np.isnan(omega[P > 1e-6]))  # neutral saddles: no frequency
    (bt,) = _special(hopf, "bt")
    assert abs(bt["p"]) < LOC and abs(bt["p1"]) < LOC
    assert abs(bt["a"] - 1.0) < 1e-8 and abs(bt["b"] - 1.0) < 1e-8


def test_bt_normal_form_data(bt_curves):
    _, pr, fold, _, i = bt_curves
    d = bt_normal_form(pr, "b2", fold, i)
    J, q0, q1, p0, p1 = d["jacobian"], d["q0"], d["q1"], d["p0"], d["p1_vec"]
    assert np.allclose(J @ q0, 0, atol=1e-8) and np.allclose(J @ q1, q0, atol=1e-8)
    assert np.allclose(J.T @ p1, 0, atol=1e-8) and np.allclose(J.T @ p0, p1, atol=1e-8)
    assert np.isclose(p0 @ q0, 1) and np.isclose(p1 @ q1, 1)
    assert abs(p0 @ q1) < 1e-8 and abs(p1 @ q0) < 1e-8
    assert np.isclose(d["a"], 1) and np.isclose(d["b"], 1)


@pytest.mark.slow
def test_hopf_curve_from_one_parameter_branch():
    """Start from the located Hopf point of a one-parameter branch; the BT point is met
    from the Hopf side."""
    nf = BogdanovTakens(b1=-0.5, b2=-1.0)
    pr = gru_bif.Problem(bogdanov_takens_field, dict(nf.params), "b1")
    br = gru_bif.continuation(pr, nf.x0, -0.5, p_min=-1, p_max=0.2, ds=0.05)
    assert [s["kind"] for s in br.special.to_list()] == ["hopf"]
    hopf = hopf_curve(pr, br, "b2", p_min=-2.0, p_max=0.5, ds=0.05, max_steps=200)
    (bt,) = _special(hopf, "bt")
    assert abs(bt["p"]) < LOC and abs(bt["p1"]) < LOC


# --------------------------------------------------------------------------- Bautin
@pytest.mark.slow
def test_bautin_point_and_l2():
    nf = Bautin(b1=0.0, b2=0.5)
    pr = gru_bif.Problem(bautin_field, dict(nf.params), "b1")
    hopf = hopf_curve(pr, jnp.zeros(2), "b2", p_min=-0.6, p_max=0.6, ds=0.05,
                      max_steps=100)
    X, P = _rows(hopf)
    assert np.max(np.abs(X[:, 2] - np.asarray(nf.hopf_curve(P)))) < 1e-12
    (ba,) = _special(hopf, "bautin")
    truth = nf.codim2_points()[0]
    assert abs(ba["p"] - truth.params["b2"]) < LOC and abs(ba["p1"]) < LOC
    assert abs(ba["omega"] - truth.data["omega"]) < 1e-10
    assert abs(ba["l1"]) < 1e-8
    assert abs(ba["l2"] - truth.data["l2"]) < 1e-8  # Kuznetsov's formula: l2 = −4
    assert hopf.special.to_list()[0]["kind"] == "bautin" and len(hopf.special) == 1


# --------------------------------------------------------------------------- bad input
def test_bad_start_raises_and_result_code():
    pr = gru_bif.Problem(cusp_field, {"b1": 0.5, "b2": 1.0}, "b1")
    x = jnp.array([1.2])  # not an equilibrium, not a fold
    with pytest.raises(ValueError, match="not a fold/Hopf point"):
        fold_curve(pr, x, "b2", p_min=-1, p_max=2)
    with pytest.raises(ValueError, match="different parameters"):
        fold_curve(pr, x, "b1", p_min=-1, p_max=2)
    with pytest.raises(ValueError, match="dimension"):
        hopf_curve(pr, x, "b2", p_min=-1, p_max=2)
    # an equilibrium that is not a fold: b1 = 0, x = 1 (F_x = −2)
    with pytest.raises(ValueError, match="smallest singular value"):
        fold_curve(pr, jnp.array([1.0]), "b2", p1=0.0, p_min=-1, p_max=2)



@pytest.mark.slow
def test_bad_start_under_vmap_is_a_result_code():
    pr = gru_bif.Problem(cusp_field, {"b1": 0.0, "b2": 1.0}, "b1")

    def run(x):
        return fold_curve(pr, x, "b2", p_min=-1, p_max=2, ds=0.05, max_steps=20,
                          throw=False).result

    # x = 1 is an equilibrium at b1 = 0 but no fold; x = 1/√3 at b1 = −2/(3√3) is
    res = jax.vmap(run)(jnp.array([[1.0], [1.0]]))
    assert bool(jnp.all(res == RESULTS.curve_start_not_special))


# --------------------------------------------------------------------------- vmap
def scaled_cusp(t, x, a):
    return a["b1"] + a["b2"] * x - a["k"] * x**3


@pytest.mark.slow
def test_vmap_many_systems_equals_one_by_one():
    """x' = b1 + b2 x − k x³ has the fold curve 27 k b1² = 4 b2³; many k in one call."""
    ks = jnp.array([0.5, 1.0, 2.0])

    def one(k):
        x0 = jnp.sqrt(1.0 / (3 * k))  # fold at b2 = 1
        pr = gru_bif.Problem(scaled_cusp, {"b1": -2 * k * x0**3, "b2": 1.0, "k": k}, "b1")
        return fold_curve(pr, x0[None], "b2", p_min=0.2, p_max=1.5, ds=0.05, max_steps=60,
                          direction="forward", throw=False)

    batched = jax.vmap(one)(ks)
    for i, k in enumerate(np.asarray(ks)):
        single = one(jnp.asarray(k))
        n = int(single.num_points)
        assert int(batched.num_points[i]) == n
        assert np.allclose(np.asarray(batched.x[i, :n]), np.asarray(single.x[:n]), atol=1e-12)
        assert np.allclose(np.asarray(batched.p[i, :n]), np.asarray(single.p[:n]), atol=1e-12)
        b1, b2 = np.asarray(single.x[:n, 1]), np.asarray(single.p[:n])
        assert np.max(np.abs(27 * k * b1**2 - 4 * b2**3)) < 1e-10


# --------------------------------------------------------------------------- JSON
def test_json_round_trip_keeps_codim2_data(bt_curves):
    _, _, fold, _, _ = bt_curves
    back = gru_bif.Branch.from_json(fold.to_json())
    assert back.special.to_list() == fold.special.to_list()
    assert back.special.to_list()[0]["kind"] == "bt" and "a" in back.special.to_list()[0]


# --------------------------------------------------------------------------- GRU
def _net(b1, b2):
    Uh = jnp.array([[3.0, -1.5], [1.5, 3.0]])
    return gru_bif.GRU(Uh, bh=jnp.array([b1, b2]))


def _one_parameter(b1):
    """Network 4 at b_h[0] = b1, continued in b_h[1] from −0.8 (independent of curves)."""
    pr = gru_bif.Problem.from_gru(_net(b1, -0.8), "bh[1]")
    g = jnp.linspace(-0.9, 0.9, 5)
    eq = gru_bif.find_equilibria(pr, guesses=jnp.stack(jnp.meshgrid(g, g), -1).reshape(-1, 2))
    assert int(eq.count) == 1  # b2 = −0.8 lies below the saddle-node: one equilibrium
    return pr, gru_bif.continuation(pr, eq.x[0], -0.8, p_min=-0.8, p_max=-0.4, ds=0.01)


@pytest.mark.slow
def test_gru_fold_and_hopf_curves_against_one_parameter_location():
    """Network 4 of paper.md: fold and Hopf curves in (p1, p2) = (b_h[1], b_h[0]). At
    fixed p2 = b1 the curve (whose end is placed exactly on the bound p2 = b1) must pass
    through the fold / Hopf point located by the one-parameter engine at that b1; the
    two curves meet at one BT point near (b_h[0], b_h[1]) = (0.033, −0.688)."""
    pr, br = _one_parameter(0.1)
    sp = br.special.to_list()
    i_h = [i for i, s in enumerate(sp) if s["kind"] == "hopf"][0]
    # the fold that creates the saddle and the node near −0.728 (next to the Hopf point)
    i_f = min((i for i, s in enumerate(sp) if s["kind"] == "fold"),
              key=lambda i: abs(sp[i]["p"] - sp[i_h]["p"]))
    kw = dict(ds=0.02, max_steps=200)
    fold = fold_curve(pr, br, "bh[0]", index=i_f, p_min=-0.1, p_max=0.3, **kw)
    hopf = hopf_curve(pr, br, "bh[0]", index=i_h, p_min=-0.1, p_max=0.3, **kw)
    (bt_f,) = _special(fold, "bt")
    (bt_h,) = _special(hopf, "bt")
    assert abs(bt_f["p"] - bt_h["p"]) < LOC and abs(bt_f["p1"] - bt_h["p1"]) < LOC
    assert abs(bt_f["p"] - 0.033) < 0.005 and abs(bt_f["p1"] + 0.688) < 0.005
    assert np.isclose(bt_f["a"], bt_h["a"], rtol=1e-6)
    assert np.isclose(bt_f["b"], bt_h["b"], rtol=1e-6)

    for kind, fn in (("fold", fold_curve), ("hopf", hopf_curve)):
        for b1 in (0.0, 0.06, 0.2):
            if kind == "hopf" and b1 < bt_f["p"]:
                continue  # no Hopf point there: the curve is a neutral-saddle curve
            lo, hi = min(b1, 0.1), max(b1, 0.1)
            curve = fn(pr, br, "bh[0]", index=i_f if kind == "fold" else i_h, p_min=lo,
                       p_max=hi, **kw)
            X, P = _rows(curve)
            ends = [X[j, 2] for j in (0, len(P) - 1) if abs(P[j] - b1) < 1e-14]
            _, one = _one_parameter(b1)
            located = [s["p"] for s in one.special.to_list() if s["kind"] == kind]
            assert located and ends, (kind, b1)
            err = min(abs(p - q) for p in located for q in ends)
            assert err < 1e-8, (kind, b1, located, ends)
