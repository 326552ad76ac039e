"""Continuation under tracing: no retrace/recompile for new values, jax.jit of a
function that calls `continuation`, and jax.vmap over many systems agreeing with a
Python loop."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gru_bif
from gru_bif import RESULTS
from gru_bif.branch import SpecialKind
from gru_bif.continuation import continuation


# --------------------------------------------------------------------------- helpers
def special_list(branch, i=None):
    """[(kind, p, omega, l1, a)] of the real special points, sorted by (p, kind);
    element i of a batched branch if i is given."""
    sp = branch.special
    if i is not None:
        sp = jax.tree.map(lambda a: a[i], sp)
    n = int(sp.count)
    out = [
        (
            int(sp.kind[j]),
            float(sp.p[j]),
            float(sp.data["omega"][j]),
            float(sp.data["l1"][j]),
            float(sp.data["a"][j]),
        )
        for j in range(n)
    ]
    return sorted(out, key=lambda r: (r[1], r[0]))


def assert_same_specials(got, want, what):
    assert [k for k, *_ in got] == [k for k, *_ in want], f"{what}: kinds {got} vs {want}"
    for g, w in zip(got, want):
        assert abs(g[1] - w[1]) <= 1e-10, f"{what}: p {g} vs {w}"
        for gv, wv in zip(g[2:], w[2:]):
            if np.isnan(wv):
                assert np.isnan(gv), f"{what}: {g} vs {w}"
            else:
                assert abs(gv - wv) <= 1e-9 * max(1.0, abs(wv)), f"{what}: {g} vs {w}"


# --------------------------------------------------------------------------- no retrace
TRACES = {"n": 0}


def counted_hopf(t, x, a):
    """The Hopf normal form; counts how often it is traced (Python side effects run
    only while tracing)."""
    TRACES["n"] += 1
    return hopf(t, x, a)


def hopf(t, x, a):
    """Hopf normal form x' = p x − ω y + s x r², y' = ω x + p y + s y r²."""
    r2 = x[0] ** 2 + x[1] ** 2
    p, w, s = a["p"], a["omega"], a["s"]
    return jnp.array(
        [p * x[0] - w * x[1] + s * x[0] * r2, w * x[0] + p * x[1] + s * x[1] * r2]
    )


class _CompileCounter:
    """Counts XLA backend compilations (jax.monitoring) other than those of single
    eager jax.numpy / jax.lax operations (e.g. a dtype conversion seen for the first
    time), which are not recompilations of the continuation."""

    event = "/jax/core/compile/backend_compile_duration"

    def __init__(self):
        self.names = []

    @property
    def n(self):
        return len(self.names)

    def __call__(self, event, duration, **kwargs):
        if event != self.event:
            return
        name = str(kwargs.get("fun_name", ""))
        inner = name[4:-1] if name.startswith("jit(") else name
        if hasattr(jax.lax, inner) or hasattr(jnp, inner):
            return
        self.names.append(name)

    def __enter__(self):
        jax.monitoring.register_event_duration_secs_listener(self)
        return self

    def __exit__(self, *exc):
        jax.monitoring.unregister_event_duration_listener(self)


def test_no_retrace_for_new_values():
    pr1 = gru_bif.Problem(counted_hopf, {"p": 0.0, "omega": 1.0, "s": -1.0}, "p")
    b1 = continuation(pr1, jnp.zeros(2), -0.5, p_min=-0.5, p_max=0.7, ds=0.05)
    jax.block_until_ready(b1)
    assert TRACES["n"] > 0
    n_traces = TRACES["n"]
    pr2 = gru_bif.Problem(counted_hopf, {"p": 3.0, "omega": 2.0, "s": 1.0}, "p")
    with _CompileCounter() as compiles:
        b2 = continuation(
            pr2, jnp.array([1e-3, -2e-3]), -0.3, p_min=-0.4, p_max=0.9, ds=0.03
        )
        jax.block_until_ready(b2)
    # the second call really used its values
    (k1, p1, w1, l1, _), = special_list(b1)
    (k2, p2, w2, l2, _), = special_list(b2)
    assert k1 == k2 == SpecialKind.HOPF and abs(p1) < 1e-10 and abs(p2) < 1e-10
    assert abs(w1 - 1.0) < 1e-10 and abs(w2 - 2.0) < 1e-10
    assert l1 < 0 < l2
    assert float(b2.p[0]) == -0.3 and float(b2.p[int(b2.num_points) - 1]) == 0.9
    assert compiles.n == 0, f"recompiled for new values: {compiles.names}"
    assert TRACES["n"] == n_traces, (
        f"the vector field was traced {TRACES['n'] - n_traces} more time(s) on the "
        "second call (same shapes, new values)"
    )


# --------------------------------------------------------------------------- jit / vmap
def _hopf_branch(args, throw=True):
    pr = gru_bif.Problem(counted_hopf, args, "p")
    return continuation(
        pr, jnp.zeros(2), -0.5, p_min=-0.5, p_max=0.7, ds=0.05, throw=throw
    )


def test_jit_of_continuation():
    args = {"p": 0.0, "omega": 1.7, "s": -0.5}
    eager = _hopf_branch(args)
    jitted = jax.jit(lambda a: _hopf_branch(a))(
        {k: jnp.asarray(v) for k, v in args.items()}
    )
    assert int(jitted.num_points) == int(eager.num_points)
    assert bool(jitted.result == eager.result)
    assert_same_specials(special_list(jitted), special_list(eager), "jit vs eager")
    (k, p, w, l1, _), = special_list(jitted)
    assert k == SpecialKind.HOPF and abs(p) < 1e-10 and abs(w - 1.7) < 1e-10
    n = int(eager.num_points)
    np.testing.assert_allclose(
        np.asarray(jitted.p)[:n], np.asarray(eager.p)[:n], rtol=0, atol=1e-12
    )


def test_vmap_over_args_matches_loop():
    omegas = jnp.array([0.5, 1.0, 2.0, 3.0])
    ss = jnp.array([-1.0, 1.0, -2.0, 0.5])
    batch = jax.vmap(
        lambda w, s: _hopf_branch({"p": 0.0, "omega": w, "s": s}, throw=False)
    )(omegas, ss)
    assert batch.p.shape[0] == 4
    for i in range(4):
        one = _hopf_branch({"p": 0.0, "omega": float(omegas[i]), "s": float(ss[i])})
        assert_same_specials(special_list(batch, i), special_list(one), f"system {i}")
        (k, p, w, l1, _), = special_list(batch, i)
        assert abs(w - float(omegas[i])) < 1e-10 and np.sign(l1) == np.sign(ss[i])


# --------------------------------------------------------------------------- GRUs
def rot(theta):
    return jnp.array(
        [[jnp.cos(theta), -jnp.sin(theta)], [jnp.sin(theta), jnp.cos(theta)]]
    )


N_GRU = 1000


@pytest.fixture(scope="module")
def gru_weights():
    rng = np.random.default_rng(20240611)
    theta = rng.uniform(0.0, math.pi / 2, N_GRU)
    scale = rng.uniform(1.2, 2.0, N_GRU)
    # Uh = 2·scale·R(θ): the origin (bh = 0) is unstable iff 2·scale·cos θ > 2
    Uh = np.stack([2 * s * np.asarray(rot(t)) for t, s in zip(theta, scale)])
    return jnp.asarray(Uh), theta, scale


def gru_branch(Uh):
    g = gru_bif.GRU(Uh)
    pr = gru_bif.Problem.from_gru(g, "bh[0]")
    return continuation(
        pr, jnp.zeros(2), 0.0, p_min=-2.0, p_max=2.0, ds=0.02, direction="both",
        max_steps=300, throw=False,
    )


gru_branch_jit = jax.jit(gru_branch)


@pytest.fixture(scope="module")
def gru_batch(gru_weights):
    Uh, _, _ = gru_weights
    return jax.block_until_ready(jax.jit(jax.vmap(gru_branch))(Uh))


def test_gru_reference_under_jit():
    b = gru_branch_jit(3 * rot(math.pi / 4))
    kinds = [k for k, *_ in special_list(b)]
    assert kinds == [SpecialKind.HOPF] * 2
    ps = [p for _, p, *_ in special_list(b)]
    np.testing.assert_allclose(ps, [-0.359038459564185, 0.359038459564185], atol=1e-10)


def test_vmap_gru_matches_loop(gru_weights, gru_batch):
    Uh, _, _ = gru_weights
    rng = np.random.default_rng(7)
    subset = list(range(20)) + sorted(rng.choice(np.arange(20, N_GRU), 10, replace=False))
    for i in subset:
        one = gru_branch_jit(Uh[i])
        res_i = jax.tree.map(lambda a: a[i], gru_batch.result)
        assert bool(res_i == one.result), i
        assert_same_specials(special_list(gru_batch, i), special_list(one), f"GRU {i}")


def test_vmap_gru_counts_sensible(gru_weights, gru_batch):
    Uh, theta, scale = gru_weights
    b = gru_batch
    assert b.p.shape == (N_GRU, 601)
    res = np.asarray(b.result._value)
    ok = res == np.asarray(RESULTS.reached_parameter_bound._value)
    assert ok.mean() > 0.95, np.unique(res, return_counts=True)
    assert np.all(np.asarray(b.stats["special_dropped"]) == 0)
    kinds = np.asarray(b.special.kind)
    count = np.asarray(b.special.count)
    n_hopf = np.sum(kinds == SpecialKind.HOPF, axis=1)
    n_fold = np.sum(kinds == SpecialKind.FOLD, axis=1)
    n_bp = np.sum(kinds == SpecialKind.BRANCH_POINT, axis=1)
    assert np.all(n_hopf + n_fold + n_bp == count)
    # odd symmetry (h, bh) -> (−h, −bh): special points come in mirrored pairs
    assert np.all(n_hopf % 2 == 0) and np.all(n_fold % 2 == 0), (
        np.unique(n_hopf), np.unique(n_fold)
    )
    p = np.asarray(b.special.p)
    for i in np.flatnonzero(ok):
        ps = np.sort(p[i, : count[i]])
        np.testing.assert_allclose(ps, -ps[::-1], atol=1e-9, err_msg=f"GRU {i}")
    # the branch's unstable count changes by 2 at each Hopf point (2-D, no folds)
    nu = np.asarray(b.n_unstable)
    npts = np.asarray(b.num_points)
    for i in np.flatnonzero(ok & (n_fold == 0) & (n_bp == 0)):
        v = nu[i, : npts[i]]
        changes = np.sum(v[1:] != v[:-1])
        assert changes == n_hopf[i], (i, changes, n_hopf[i])
    # the origin at bh = 0 is unstable iff 2·scale·cos θ > 2: then (no folds) the
    # branch, stable at both ends, has at least two Hopf points
    unstable0 = 2 * scale * np.cos(theta) > 2 + 1e-6
    ends_stable = np.asarray(b.stable)[np.arange(N_GRU), 0] & np.asarray(b.stable)[
        np.arange(N_GRU), npts - 1
    ]
    sel = ok & unstable0 & ends_stable & (n_fold == 0)
    assert sel.sum() > 50
    assert np.all(n_hopf[sel] >= 2)
    assert np.all(n_hopf[ok & ~unstable0 & (n_fold == 0)] % 2 == 0)
    # a mixture: some with and some without Hopf points
    assert 0 < np.sum(n_hopf > 0) < N_GRU
