"""Implicit-function-theorem derivatives of located homoclinic orbits
(`gru_bif.homoclinic.homoclinic_point` / `homoclinic_values`) on the Bogdanov–Takens
normal form with an extra coefficient, `x' = y`, `y' = b1 + b2 x + a x² + x y`:
against central finite differences of re-located orbits, the BT asymptote
`b1 ≈ −(6/25) b2² / a`, closed forms for the saddle and the saddle quantity, and
forward against reverse mode."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gru_bif import Problem
from gru_bif._results import RESULTS
from gru_bif.homoclinic import (
    homoclinic_from_bt,
    homoclinic_point,
    homoclinic_values,
    locate_homoclinic,
)


def bt_a(t, z, args):
    """The BT normal form with a coefficient `a` on `x²` (`a = 1`: Kuznetsov's form)."""
    x, y = z[0], z[1]
    return jnp.stack([y, args["b1"] + args["b2"] * x + args["a"] * x**2 + x * y])


def _locate(b2, a=1.0):
    pr = Problem(bt_a, {"b1": 0.0, "b2": 0.0, "a": a}, "b1")
    hp, u0 = homoclinic_from_bt(pr, "b2", (jnp.zeros(2), 0.0, 0.0),
                                eps=float(np.sqrt(-b2)), T=60.0, ntst=60)
    sol = locate_homoclinic(hp, u0.at[-1].set(b2), remesh=1)
    assert sol.result == RESULTS.successful
    return sol


def _relocated(hp, u, b2=None, a=None):
    """Re-locate on the same mesh and truncation (the same discrete problem), from `u`,
    at another `b2` and/or `a`: the finite-difference truth."""
    if a is not None:
        args = dict(hp.problem.args)
        args["a"] = jnp.asarray(a)
        hp = eqx.tree_at(lambda h: h.problem.args, hp, args)
    if b2 is not None:
        u = u.at[-1].set(b2)
    sol = locate_homoclinic(hp, u, tol=1e-13)
    assert sol.result == RESULTS.successful
    return sol


# jitted once per problem structure (the same compilation serves every location below)
@eqx.filter_jit
def _grad_p2(hp, u):
    """Reverse mode: d(p1, σ, x_s[0])/dp2, one gradient each."""
    def g(which):
        def fn(b2):
            v = homoclinic_values(hp, u.at[-1].set(b2))
            return (v.p1, v.saddle_quantity, v.saddle[0])[which]
        return jax.grad(fn)(u[-1])
    return jnp.stack([g(0), g(1), g(2)])


@eqx.filter_jit
def _jvp_p2(hp, u):
    """Forward mode: the same three derivatives from one JVP."""
    def fn(b2):
        v = homoclinic_values(hp, u.at[-1].set(b2))
        return jnp.stack([v.p1, v.saddle_quantity, v.saddle[0]])
    return jax.jvp(fn, (u[-1],), (jnp.ones((), u.dtype),))[1]


@pytest.fixture(scope="module")
def sol():
    return _locate(-0.5)


def test_dp1_dp2_against_finite_differences(sol):
    hp, u = sol.problem, sol.u
    rev = np.asarray(_grad_p2(hp, u))
    fwd = np.asarray(_jvp_p2(hp, u))
    np.testing.assert_allclose(fwd, rev, rtol=1e-10, atol=1e-13)  # forward = reverse
    h = 1e-4
    sp, sm = _relocated(hp, u, b2=-0.5 + h), _relocated(hp, u, b2=-0.5 - h)
    fd = [(float(sp.p1) - float(sm.p1)) / (2 * h),
          (float(sp.saddle_quantity) - float(sm.saddle_quantity)) / (2 * h),
          (float(sp.saddle[0]) - float(sm.saddle[0])) / (2 * h)]
    np.testing.assert_allclose(rev, fd, rtol=1e-6)
    # closed forms: the saddle is x+ = (−b2 + √(b2² − 4 b1))/2 on y = 0 and σ = tr f_x = x+,
    # so dx+/db2 = (−1 + (b2 − 2 db1/db2)/√(b2² − 4 b1))/2 with the IFT slope db1/db2
    b1, b2 = float(sol.p1), -0.5
    dxp = (-1 + (b2 - 2 * rev[0]) / np.sqrt(b2**2 - 4 * b1)) / 2
    np.testing.assert_allclose(rev[1:], [dxp, dxp], rtol=1e-10)
    # jit: the values are the located ones
    v = eqx.filter_jit(homoclinic_values)(hp, u)
    assert float(v.p1) == float(sol.p1)
    np.testing.assert_allclose(float(v.saddle_quantity), float(sol.saddle_quantity),
                               rtol=1e-13)


def test_dp1_dp2_near_bt_follows_the_asymptote():
    """db1/db2 → −(12/25) b2 as b2 → 0⁻: the relative deviation is O(|b2|)."""
    dev = []
    for b2 in (-0.2, -0.05):
        s = _locate(b2)
        slope = float(_grad_p2(s.problem, s.u)[0])
        dev.append(abs(slope / (-12 / 25 * b2) - 1))
    assert dev[1] < 0.02, dev  # measured 0.0089 (b2 = −0.05), 0.035 (b2 = −0.2)
    assert dev[1] < dev[0] / 2.5, dev  # shrinks about linearly (b2 ratio 4)


def test_gradient_wrt_args_leaf(sol):
    """dp1/da for the coefficient `a` of x² (a leaf of `args`), reverse and forward,
    against central differences of re-located orbits; the entries `b1` (= p1, solved
    for) and `b2` (= p2, set from u) of `args` get exactly zero."""
    hp, u = sol.problem, sol.u
    args = hp.problem.args

    @jax.jit
    def rev(args):
        return jax.grad(lambda a: homoclinic_values(hp, u, args=a).p1)(args)

    g = rev(args)
    assert float(g["b1"]) == 0.0 and float(g["b2"]) == 0.0
    da = {k: jnp.zeros_like(v) for k, v in args.items()}
    da["a"] = jnp.ones_like(args["a"])
    fwd = jax.jvp(lambda a: homoclinic_point(hp, u, args=a)[-2], (args,), (da,))[1]
    np.testing.assert_allclose(float(fwd), float(g["a"]), rtol=1e-10)
    # jacfwd (vmap over tangents of the forward rule) gives the same whole gradient
    jf = jax.jacfwd(lambda a: homoclinic_point(hp, u, args=a)[-2])(args)
    for k in args:
        np.testing.assert_allclose(float(jf[k]), float(g[k]), rtol=1e-10, atol=1e-15)
    h = 1e-4
    fd = (float(_relocated(hp, u, a=1 + h).p1) - float(_relocated(hp, u, a=1 - h).p1)) / (
        2 * h)
    np.testing.assert_allclose(float(g["a"]), fd, rtol=1e-6)
    # roughly the asymptote's b1 ≈ −(6/25) b2²/a  ⇒  db1/da ≈ (6/25) b2² (loose here)
    assert 0.5 * 0.06 < float(g["a"]) < 1.5 * 0.06


def test_projector_bases_and_truncation(sol):
    """The fixed bases Q_s, Q_u only select rows of the projection conditions (the
    projectors themselves are recomputed from the saddle), so p1 does not depend on
    them; dp1/dT (the truncation sensitivity) is exponentially small at T = 60."""
    hp, u = sol.problem, sol.u
    g = eqx.filter_grad(lambda h: homoclinic_point(h, u)[-2])(hp)
    assert float(jnp.max(jnp.abs(g.Q_s))) < 1e-10
    assert float(jnp.max(jnp.abs(g.Q_u))) < 1e-10
    assert abs(float(g.T)) < 1e-8
    # the whole-problem gradient carries the args leaf too, equal to the args gradient
    assert float(g.problem.args["a"]) == pytest.approx(0.0499658, rel=1e-5)


def test_bad_input(sol):
    hp, u = sol.problem, sol.u
    with pytest.raises(ValueError, match="unknowns have shape"):
        homoclinic_point(hp, u[:-1])
    with pytest.raises(ValueError, match="structure"):
        homoclinic_values(hp, u, args={"b1": 0.0})
    with pytest.raises(ValueError, match="HomoclinicProblem"):
        homoclinic_point(hp.problem, u)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:continuation stopped early")  # max_steps is the plan
def test_gru_homoclinic_gradient_wrt_weights():
    """The paper's network 4 (homoclinic at bh[1] ≈ −0.7046 for bh[0] = 0.1): dp1 w.r.t.
    every weight in one reverse pass, against central differences of re-located orbits
    for one entry of each weight array; both bh entries (p1 and p2) get zero."""
    import gru_bif
    from gru_bif.homoclinic import homoclinic_from_cycle
    from gru_bif.periodic import CycleBranch, cycle_from_hopf
    from gru_bif.reproduce import net_homoclinic

    pr = gru_bif.Problem.from_gru(net_homoclinic(-0.72), "bh[1]")
    eq = gru_bif.continuation(pr, jnp.array([0.735, 0.35]), -0.72, p_min=-0.8,
                              p_max=-0.69, ds=0.002)
    cp, u0 = cycle_from_hopf(pr, eq, dp=1e-3)
    br = gru_bif.continuation(cp, u0[:-1], u0[-1], p_min=-0.72, p_max=-0.69, ds=0.02,
                              ds_max=0.5, max_steps=150, throw=False)
    view = CycleBranch(cp, br)
    hp, uh = homoclinic_from_cycle(cp, view.u(len(view) - 1), "bh[0]")
    sol = locate_homoclinic(hp, uh, remesh=1)
    hp, u = sol.problem, sol.u
    g = jax.jit(jax.grad(lambda a: homoclinic_values(hp, u, args=a).p1))(hp.problem.args)
    paths, tdef = jax.tree_util.tree_flatten_with_path(hp.problem.args)
    leaves = [leaf for _, leaf in paths]
    gl = jax.tree.leaves(g)
    h = 1e-5
    checked = []
    for i, (path, leaf) in enumerate(paths):
        name = jax.tree_util.keystr(path)
        leaf = jnp.asarray(leaf)
        if leaf.ndim == 0 or leaf.size == 0 or name.endswith(".bh"):
            continue  # static flags, the empty input, and bh (= p1, p2: overwritten)
        idx = (0,) * leaf.ndim

        def p1_at(step):
            new = list(leaves)
            new[i] = leaf.at[idx].add(step)
            h2 = eqx.tree_at(lambda q: q.problem.args, hp, jax.tree.unflatten(tdef, new))
            return float(_relocated(h2, u).p1)

        fd = (p1_at(h) - p1_at(-h)) / (2 * h)
        np.testing.assert_allclose(float(jnp.asarray(gl[i])[idx]), fd, rtol=1e-6,
                                   err_msg=name)
        checked.append(name)
    assert len(checked) >= 5, checked
    np.testing.assert_array_equal(np.asarray(g["gru"].bh), [0.0, 0.0])
