"""The census of random 2-D GRUs: counts and types against closed forms (decoupled
networks), against independent per-network `find_equilibria`, the cycle test on known
networks, JSON, and sharding over 8 host devices (in a subprocess)."""

import itertools
import json
import os
import pathlib
import subprocess
import sys
import textwrap

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gru_bif
from gru_bif import census as C
from gru_bif.equilibria import EQUILIBRIUM_TYPES
from gru_bif.examples import fold_b_1d, four_state_machine, limit_cycle

SINK = EQUILIBRIUM_TYPES.index("stable node")
SADDLE = EQUILIBRIUM_TYPES.index("saddle")
SOURCE = EQUILIBRIUM_TYPES.index("unstable node")

DIAG_S = (1.5, 3.0, 5.0)
DIAG_B = (0.0, 0.1, 0.5)


def _stack(grus):
    return jax.tree.map(lambda *a: jnp.stack(a), *grus)


def _one_d(s, b):
    """(stable, unstable) fixed points of h' = (tanh(s h / 2 + b) − h)/2, closed form:
    three (2 stable, 1 unstable) iff s/2 > 1 and |b| < b_c(s) (examples.fold_b_1d)."""
    if s / 2 > 1 and abs(b) < fold_b_1d(s):
        return 2, 1
    return 1, 0


def _diagonal_cases():
    cases = []
    for (s1, b1), (s2, b2) in itertools.combinations(itertools.product(DIAG_S, DIAG_B), 2):
        cases.append((s1, b1, s2, b2))
    rng = np.random.default_rng(0)
    idx = rng.choice(len(cases), size=10, replace=False)
    return [cases[i] for i in idx] + [(3.0, 0.0, 3.0, 0.0), (5.0, 0.1, 3.0, -0.1)]


DIAG = _diagonal_cases()


@pytest.fixture(scope="module")
def analysed():
    diag = [gru_bif.GRU(jnp.diag(jnp.array([s1, s2])), jnp.array([b1, b2]))
            for s1, b1, s2, b2 in DIAG]
    rnd = C.sample_networks(jax.random.PRNGKey(3), [4.0], 6)
    rnd_list = [jax.tree.map(lambda a: a[i], rnd) for i in range(6)]
    known = [limit_cycle()[0], four_state_machine()[0]]
    grus = diag + rnd_list + known
    res = C.analyse_networks(_stack(grus))
    return grus, res


def test_diagonal_networks_match_closed_form(analysed):
    grus, res = analysed
    for i, (s1, b1, s2, b2) in enumerate(DIAG):
        st1, un1 = _one_d(s1, b1)
        st2, un2 = _one_d(s2, b2)
        expect = np.zeros(6, int)
        expect[SINK] = st1 * st2
        expect[SADDLE] = st1 * un2 + un1 * st2
        expect[SOURCE] = un1 * un2
        assert res.count[i] == (st1 + un1) * (st2 + un2), (s1, b1, s2, b2)
        np.testing.assert_array_equal(res.kind_counts[i], expect, err_msg=str(DIAG[i]))
        assert not res.cycle[i]  # decoupled units: a gradient-like flow, no cycle
    # the four-state machine among them: 4 sinks, 4 saddles, 1 source
    assert (3.0, 0.0, 3.0, 0.0) in DIAG


def test_random_networks_match_independent_find_equilibria(analysed):
    grus, res = analysed
    n0 = len(DIAG)
    for i in range(n0, n0 + 6):
        eq = gru_bif.find_equilibria(grus[i], num_starts=2000, key=jax.random.PRNGKey(i))
        assert res.count[i] == int(eq.count)
        got = sorted(EQUILIBRIUM_TYPES[k] for k in res.kind[i] if k >= 0)
        assert got == sorted(eq.labels)
        x = res.x[i][res.kind[i] >= 0]
        # every census point is one of the independent ones
        d = np.abs(x[:, None, :] - np.asarray(eq.x)[None]).max(-1).min(1)
        assert np.all(d < 1e-7)


def test_cycle_detection_on_known_networks(analysed):
    grus, res = analysed
    lc, fsm = len(grus) - 2, len(grus) - 1
    assert res.cycle[lc] and res.cycle_starts[lc] >= 4  # U_h = 3 R(π/6): a stable cycle
    assert res.no_stable_equilibrium[lc] and res.count[lc] == 1
    assert not res.cycle[fsm] and res.count[fsm] == 9
    assert not res.sim_failed.any() and not res.truncated.any()


def test_topology_name():
    assert C.topology_name([4, 0, 1, 0, 4, 0]) == "4 sinks, 4 saddles, 1 source"
    assert C.topology_name([0, 0, 0, 1, 0, 0]) == "1 unstable focus"
    assert C.topology_name([0, 2, 0, 0, 1, 0]) == "2 stable foci, 1 saddle"
    with pytest.raises(ValueError, match="6 counts"):
        C.topology_name([1, 2])


def test_table_fractions_and_json():
    tab = C.CensusTable(
        scales=np.array([1.0, 2.0]), num_networks=2, bias_scale=0.5, fixed_gates=False,
        seed=0, count=np.array([[1, 1], [3, 1]]),
        kind_counts=np.array([[[1, 0, 0, 0, 0, 0]] * 2,
                              [[2, 0, 0, 0, 1, 0], [1, 0, 0, 0, 0, 0]]]),
        cycle=np.array([[False, False], [True, False]]),
        no_stable_equilibrium=np.zeros((2, 2), bool), truncated=np.zeros((2, 2), bool),
        sim_failed=np.zeros((2, 2), bool), settings={"grid": 16})
    cf = tab.count_fractions()
    np.testing.assert_allclose(cf[1], [1.0, 0.5])
    np.testing.assert_allclose(cf[3], [0.0, 0.5])
    tf = tab.topology_fractions()
    assert list(tf)[0] == "1 sink"
    np.testing.assert_allclose(tf["2 sinks, 1 saddle"], [0.0, 0.5])
    np.testing.assert_allclose(tab.cycle_fraction(), [0.0, 0.5])
    back = C.CensusTable.from_json(tab.to_json())
    for f in ("scales", "count", "kind_counts", "cycle"):
        np.testing.assert_array_equal(getattr(back, f), getattr(tab, f))
    assert json.loads(tab.to_json())["fractions"]["cycle"] == [0.0, 0.5]
    assert "scale" in tab.summary()


def test_bad_input():
    g3 = jax.vmap(lambda k: gru_bif.GRU.random(k, 3))(jax.random.split(jax.random.PRNGKey(0), 2))
    with pytest.raises(ValueError, match="2-D GRUs"):
        C.analyse_networks(g3)
    with pytest.raises(ValueError, match="batch of gru_bif.GRU"):
        C.analyse_networks(jnp.zeros((2, 2)))
    g2 = C.sample_networks(jax.random.PRNGKey(0), [1.0], 2)
    with pytest.raises(ValueError, match="axis named 'batch'"):
        C.analyse_networks(g2, mesh=jax.sharding.Mesh(np.array(jax.devices()[:1]), ("x",)))
    with pytest.raises(ValueError, match="window"):
        C.analyse_networks(g2, window=500.0)
    with pytest.raises(ValueError, match="scales"):
        C.census(scales=[-1.0])
    bad = eqx.tree_at(lambda g: g.bh, g2, g2.bh.at[1, 0].set(jnp.nan))
    with pytest.raises(ValueError, match="NaN"):
        C.analyse_networks(bad)


SHARD_SCRIPT = textwrap.dedent("""
    import jax, numpy as np
    jax.config.update("jax_enable_x64", True)
    from jax.sharding import Mesh
    from gru_bif import census as C
    assert len(jax.devices()) == 8, jax.devices()
    mesh = Mesh(np.array(jax.devices()), ("batch",))
    kw = dict(scales=(2.0, 5.0), num_networks=5, seed=1)   # 10 networks: padded to 16
    g = C.sample_networks(jax.random.PRNGKey(1), kw["scales"], 5)
    r1 = C.analyse_networks(g)
    r2 = C.analyse_networks(g, mesh=mesh)
    for f in ("count", "kind_counts", "kind", "cycle", "cycle_starts", "truncated"):
        np.testing.assert_array_equal(getattr(r1, f), getattr(r2, f), err_msg=f)
    np.testing.assert_allclose(r1.x, r2.x, rtol=0, atol=1e-12)
    a = C.census(mesh=mesh, **kw)                  # the public front door, sharded
    np.testing.assert_array_equal(a.count.ravel(), r1.count)
    np.testing.assert_array_equal(a.cycle.ravel(), r1.cycle)
    print("DEVICES", len(jax.devices()), "COUNTS", r1.count.tolist())
""")


def test_sharded_census_equals_unsharded():
    env = dict(os.environ)
    env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8")
    env["JAX_PLATFORMS"] = "cpu"
    root = pathlib.Path(__file__).resolve().parent.parent
    proc = subprocess.run([sys.executable, "-c", SHARD_SCRIPT], env=env, cwd=root,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "DEVICES 8" in proc.stdout
