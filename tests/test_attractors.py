"""Attractors from samples (gru_bif.attractors): basin fractions against closed forms,
recognition of fixed points and cycles, global continuation tied to located
bifurcations, basin maps, chunk independence and bad inputs."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import brentq

import gru_bif
from gru_bif.attractors import (
    LABEL_REASONS,
    basin_fractions,
    basin_map,
    continue_attractors,
    find_attractors,
    orbit_distance,
    sample_box,
)
from gru_bif.models.normal_forms import bautin_field, hopf_field

# one set of settings for every test: the per-sample program compiles once per field
# (chunks of 256 states: every call below reuses one chunk shape)
FAST = dict(t_transient=100.0, t_sample=50.0, n_sample=401, chunk_size=256)


def bistable(t, x, args):
    return x - x**3


def bistable_p(t, x, args):
    return args["p"] + x - x**3


def within_3se(f, se, exact):
    return abs(f - exact) <= 3 * max(se, 1e-12)


# ---------------------------------------------------------------- 1-D bistable


@pytest.fixture(scope="module")
def bistable_run():
    a, b = -1.0, 2.0
    X = sample_box(jax.random.PRNGKey(1), [a], [b], 2000)
    X = X.at[0].set(0.0)  # exactly on the repeller
    return a, b, X, find_attractors(bistable, None, X, **FAST)


def test_bistable_fractions_closed_form(bistable_run):
    a, b, X, att = bistable_run
    assert int(att.count) == 2
    assert att.kind_names == ["fixed point", "fixed point"]
    x = np.asarray(att.x)[:2, 0]
    i_plus = int(np.argmax(x))
    np.testing.assert_allclose(np.sort(x), [-1.0, 1.0], atol=1e-12)
    exact = (b - 0.0) / (b - a)  # the basin of +1 is (0, b]
    f = float(att.fractions[i_plus])
    se = float(att.standard_errors[i_plus])
    assert se == pytest.approx(math.sqrt(f * (1 - f) / 2000))
    assert within_3se(f, se, exact), (f, se, exact)
    # exactly: every sample goes to sign(x0)
    lab = np.asarray(att.labels)
    np.testing.assert_array_equal(x[lab[1:]], np.sign(np.asarray(X[1:, 0])))
    assert np.all(np.asarray(att.reason[1:]) == 0)
    # the sample on the repeller is in no basin
    assert lab[0] == -1
    assert LABEL_REASONS[int(att.reason[0])] == "unstable_equilibrium"
    # eigenvalues of the sinks: f'(±1) = −2
    np.testing.assert_allclose(np.real(np.asarray(att.eigenvalues)[:2, 0]), -2.0, atol=1e-9)
    # matched to the equilibria
    eq = gru_bif.find_equilibria(bistable, None, jnp.array([[-0.9], [0.1], [1.2]]))
    att_eq = find_attractors(bistable, None, X[:256], equilibria=eq, **FAST)
    ei = np.asarray(att_eq.equilibrium_index)[: int(att_eq.count)]
    np.testing.assert_allclose(np.asarray(eq.x)[ei], np.asarray(att_eq.x)[: int(att_eq.count)])
    # the helper agrees
    fr, se2 = basin_fractions(lab, 2)
    np.testing.assert_allclose(fr, np.asarray(att.fractions)[:2])
    np.testing.assert_allclose(se2, np.asarray(att.standard_errors)[:2])


def test_json_round_trip(bistable_run):
    import json

    from gru_bif.attractors import Attractors

    att = bistable_run[3]
    text = json.dumps(att.to_dict())
    back = Attractors.from_dict(json.loads(text))
    for a, b in zip(jax.tree.leaves(att), jax.tree.leaves(back)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    with pytest.raises(ValueError, match="gru_bif.attractors"):
        Attractors.from_dict({"format": "gru_bif.branch"})


def test_chunk_size_independence(bistable_run):
    a, b, X, att = bistable_run
    att2 = find_attractors(bistable, None, X, **{**FAST, "chunk_size": 700})
    np.testing.assert_array_equal(np.asarray(att.labels), np.asarray(att2.labels))
    np.testing.assert_array_equal(np.asarray(att.x), np.asarray(att2.x))
    np.testing.assert_array_equal(np.asarray(att.fractions), np.asarray(att2.fractions))


def test_sample_box_per_item_seeds():
    key = jax.random.PRNGKey(3)
    big = sample_box(key, [-1.0, 0.0], [1.0, 2.0], 50)
    small = sample_box(key, [-1.0, 0.0], [1.0, 2.0], 20)
    np.testing.assert_array_equal(np.asarray(big[:20]), np.asarray(small))
    assert np.all(np.asarray(big)[:, 1] >= 0) and np.all(np.asarray(big)[:, 0] <= 1)


@pytest.mark.slow
def test_escape_label():
    def blowup(t, x, args):
        return x**2 - 1.0

    att = find_attractors(blowup, None, jnp.array([[0.0], [2.0]]), escape_radius=1e3, **FAST)
    assert int(att.labels[0]) == 0 and int(att.count) == 1  # the sink at −1
    assert LABEL_REASONS[int(att.reason[1])] == "escaped"


# ---------------------------------------------------------------- global continuation: fold


def test_fold_death_tied_to_located_fold():
    problem = gru_bif.Problem(bistable_p, {"p": 0.0}, "p")
    X = sample_box(jax.random.PRNGKey(2), [-2.0], [2.0], 300)
    gc = continue_attractors(problem, np.linspace(0.0, 0.6, 5), X, **FAST)
    assert gc.num_attractors == 2
    deaths = [e for e in gc.events if e.event == "death"]
    assert len(deaths) == 1 and not [e for e in gc.events if e.event == "birth"]
    e = deaths[0]
    p_star = 2.0 / (3.0 * math.sqrt(3.0))
    assert e.attractor_kind == "fixed point" and e.tied_to == "fold" and e.located
    assert min(e.p_exists, e.p_gone) < p_star < max(e.p_exists, e.p_gone)
    assert abs(e.p - p_star) <= 1e-9, e.p - p_star
    assert abs(e.x[0] + 1 / math.sqrt(3.0)) <= 1e-6
    # the survivor takes the whole box beyond the fold; fractions sum to one
    np.testing.assert_allclose(gc.fractions.sum(axis=1) + gc.unlabelled, 1.0)
    assert gc.fractions[-1].max() == 1.0
    assert "fold at p" in gc.summary()
    assert gc.to_dict()["events"][0]["tied_to"] == "fold"


# ---------------------------------------------------------------- decoupled 2-D GRU


A_DIAG = (3.0, 4.0)
B = (0.1, -0.2)


def middle_root(a, b):
    """The middle root of tanh(a h / 2 + b) = h (r = σ(0) = 1/2): the 1-D basin
    boundary."""
    g = lambda h: math.tanh(0.5 * a * h + b) - h  # noqa: E731
    # it lies between the critical points of g, where (a/2) sech²(a h/2 + b) = 1
    c = math.atanh(math.sqrt(1 - 2 / a))
    lo, hi = (-c - b) / (0.5 * a), (c - b) / (0.5 * a)
    return brentq(g, lo, hi, xtol=1e-15)


def test_decoupled_gru_fractions_are_products():
    gru = gru_bif.GRU(jnp.diag(jnp.array(A_DIAG)), jnp.array(B))  # U_z = U_r = 0
    N = 2000
    X = sample_box(jax.random.PRNGKey(4), [-1.0, -1.0], [1.0, 1.0], N)
    att = find_attractors(gru, None, X, **FAST)
    assert int(att.count) == 4
    m = [middle_root(a, b) for a, b in zip(A_DIAG, B)]
    up = [(1.0 - mi) / 2.0 for mi in m]  # 1-D fraction above the middle root
    xa = np.asarray(att.x)[:4]
    for i in range(4):
        s = xa[i] > np.asarray(m)
        exact = np.prod([up[j] if s[j] else 1 - up[j] for j in range(2)])
        f, se = float(att.fractions[i]), float(att.standard_errors[i])
        assert within_3se(f, se, exact), (i, f, se, exact)
    # labels exactly: the side of each coordinate's middle root
    lab = np.asarray(att.labels)
    side = np.asarray(X) > np.asarray(m)
    np.testing.assert_array_equal(xa[lab] > np.asarray(m), side)


@pytest.fixture(scope="module")
def gru_basin_map():
    gru = gru_bif.GRU(jnp.diag(jnp.array(A_DIAG)), jnp.array(B))
    return basin_map(gru, None, [-1, -1], [1, 1], shape=(16, 15), **FAST)


def test_basin_map_decoupled_gru(gru_basin_map):
    bm = gru_basin_map
    assert bm.labels.shape == (15, 16)
    m = [middle_root(a, b) for a, b in zip(A_DIAG, B)]
    att = bm.attractors
    xa = np.asarray(att.x)
    X, Y = np.meshgrid(np.asarray(bm.x), np.asarray(bm.y))
    lab = np.asarray(bm.labels)
    np.testing.assert_array_equal(xa[lab][..., 0] > m[0], X > m[0])
    np.testing.assert_array_equal(xa[lab][..., 1] > m[1], Y > m[1])


def slow_atan(t, x, args):
    return -1e-3 * jnp.arctan(x)


def test_weakly_attracting_point_by_damped_newton():
    """x' = −10⁻³ atan x: the sink at 0 attracts at rate 10⁻³ (a trained memory's
    rate). After t = 100 every state is still near its start (|x| ≥ 1.4), where the full
    Newton step on atan overshoots (it diverges from |x| > 1.39); the damped steps reach
    0 (16 of them from |x| = 2.4), and `fp_radius` decides whether so far a tail counts
    as converged."""
    X = sample_box(jax.random.PRNGKey(11), [1.5], [2.5], 64)
    kw = dict(t_transient=100.0, t_sample=10.0, n_sample=101, chunk_size=64)
    strict = find_attractors(slow_atan, None, X, **kw)
    assert int(strict.count) == 0
    assert set(np.asarray(strict.reason).tolist()) == {LABEL_REASONS.index("not_converged")}
    att = find_attractors(slow_atan, None, X, fp_tol=2e-3, fp_radius=1.0, newton_steps=16, **kw)
    assert int(att.count) == 1 and att.kind_names == ["fixed point"]
    assert abs(float(att.x[0, 0])) <= 1e-12
    assert np.all(np.asarray(att.labels) == 0)


# ---------------------------------------------------------------- cycles


HOPF_ARGS = {"p": jnp.asarray(1.0), "omega": jnp.asarray(2.0), "s": jnp.asarray(-1.0)}
HOPF = gru_bif.Problem(hopf_field, {"p": -0.45, "omega": 2.0, "s": -1.0}, "p")


def test_hopf_normal_form_cycle():
    X = sample_box(jax.random.PRNGKey(5), [-2.0, -2.0], [2.0, 2.0], 200)
    X = X.at[0].set(0.0)  # exactly on the unstable focus
    att = find_attractors(HOPF.with_p(1.0), None, X, **FAST)
    assert int(att.count) == 1 and att.kind_names == ["cycle"]
    assert abs(float(att.period[0]) - 2 * math.pi / 2.0) <= 1e-6
    radius = np.linalg.norm(np.asarray(att.orbit[0]), axis=1)
    np.testing.assert_allclose(radius, 1.0, atol=1e-6)  # r² = −p/s
    lab = np.asarray(att.labels)
    assert lab[0] == -1 and LABEL_REASONS[int(att.reason[0])] == "unstable_equilibrium"
    assert np.all(lab[1:] == 0)
    assert float(att.fractions[0]) == pytest.approx(199 / 200)
    # the orbit distance is phase independent
    o = np.asarray(att.orbit[0])
    assert float(orbit_distance(o, np.roll(o, 17, axis=0))) == 0.0


def test_hopf_birth_tied_to_located_hopf():
    X = sample_box(jax.random.PRNGKey(6), [-1.0, -1.0], [1.0, 1.0], 200)
    gc = continue_attractors(HOPF, [-0.45, -0.15, 0.15, 0.45], X, **FAST)
    kinds = [int(k) for k in gc.kind]
    assert sorted(kinds) == [0, 1]  # a fixed point, then a cycle
    ev = {(e.event, e.attractor_kind): e for e in gc.events}
    birth = ev[("birth", "cycle")]
    death = ev[("death", "fixed point")]
    for e in (birth, death):
        assert e.tied_to == "hopf" and e.located
        assert abs(e.p - 0.0) <= 1e-9, e.p
    assert (birth.p_exists, birth.p_gone) == (0.15, -0.15)


def test_cycle_birth_tied_to_located_fold_of_cycles():
    """Bautin normal form r' = r(b1 + r² − r⁴): the large stable cycle r² = (1 +
    √(1 + 4 b1))/2 is born at the fold of cycles b1 = −1/4; the origin dies at the
    subcritical Hopf point b1 = 0."""
    prob = gru_bif.Problem(bautin_field, {"b1": -0.4, "b2": 1.0}, "b1")
    X = sample_box(jax.random.PRNGKey(8), [-1.5, -1.5], [1.5, 1.5], 256)
    gc = continue_attractors(prob, [-0.4, -0.2, 0.1], X, **FAST)
    ev = {(e.event, e.attractor_kind): e for e in gc.events}
    birth = ev[("birth", "cycle")]
    assert birth.tied_to == "fold_cycle" and birth.located
    assert abs(birth.p - (-0.25)) <= 1e-9, birth.p
    # a point of the fold's cycle, on the circle r² = 1/2
    assert abs(np.hypot(*birth.x) - math.sqrt(0.5)) <= 1e-6
    death = ev[("death", "fixed point")]
    assert death.tied_to == "hopf" and abs(death.p) <= 1e-9


def test_cycle_birth_tied_to_located_homoclinic_orbit():
    """Bogdanov–Takens normal form x' = y, y' = b1 − x/4 + x² − x y: the stable cycle
    around the unstable focus dies in a saddle loop, located against an independent
    shooting of the saddle's manifolds (tests/homoclinic_reference.py)."""
    from homoclinic_reference import REFERENCE

    def bt(t, x, args):
        return jnp.stack([x[1], args["b1"] - 0.25 * x[0] + x[0] ** 2 - x[0] * x[1]])

    prob = gru_bif.Problem(bt, {"b1": -0.01}, "b1")
    X = sample_box(jax.random.PRNGKey(10), [-0.15, -0.05], [0.15, 0.05], 256)
    kw = dict(t_transient=300.0, t_sample=100.0, n_sample=1001, chunk_size=256)
    gc = continue_attractors(prob, [-0.016, -0.012, -0.008], X, **kw)
    births = [e for e in gc.events if e.attractor_kind == "cycle" and e.event == "birth"]
    assert len(births) == 1
    e = births[0]
    assert e.tied_to == "homoclinic" and e.located
    assert (e.p_exists, e.p_gone) == (-0.012, -0.016)
    assert abs(e.p - REFERENCE["bt"][0]) <= 1e-9, e.p - REFERENCE["bt"][0]


# ---------------------------------------------------------------- other attractors


def torus(t, x, args):
    """Two uncoupled Hopf oscillators, frequencies 1 and √2: a quasi-periodic 2-torus
    (radii 1) attracts everything but the invariant planes."""

    def osc(u, v, w):
        r2 = u * u + v * v
        return jnp.stack([u - w * v - u * r2, w * u + v - v * r2])

    return jnp.concatenate([osc(x[0], x[1], 1.0), osc(x[2], x[3], math.sqrt(2.0))])


def test_quasi_periodic_torus_is_one_other_attractor():
    X = sample_box(jax.random.PRNGKey(7), [-1.0] * 4, [1.0] * 4, 256)
    att = find_attractors(torus, None, X, **FAST)
    assert int(att.count) == 1 and att.kind_names == ["other"]
    assert float(att.fractions[0]) == 1.0
    # the signature: each coordinate ~ cos on the unit circle (mean 0, std 1/√2)
    feats = np.asarray(att.features[0])
    np.testing.assert_allclose(feats[:4], 0.0, atol=0.05)
    np.testing.assert_allclose(feats[4:8], 1 / math.sqrt(2.0), atol=0.02)
    # its tail lies on the torus
    o = np.asarray(att.orbit[0])
    np.testing.assert_allclose(np.hypot(o[:, 0], o[:, 1]), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.hypot(o[:, 2], o[:, 3]), 1.0, atol=1e-6)
    # a basin map on a slice of the 4-D state space (x0, x2), the others from `base`
    bm = basin_map(torus, None, [-1, -1], [1, 1], shape=(16, 16), axes=(0, 2),
                   base=[9.0, 0.5, 9.0, 0.5], **FAST)
    assert int(bm.attractors.count) == 1 and np.all(np.asarray(bm.labels) == 0)
    np.testing.assert_array_equal(np.asarray(bm.attractors.final_state).shape, (256, 4))
    with pytest.raises(ValueError, match="base"):
        basin_map(torus, None, [-1, -1], [1, 1], base=[0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="give `base`"):
        basin_map(torus, None, [-1, -1], [1, 1])


@pytest.mark.slow
def test_lorenz_is_one_chaotic_attractor():
    def lorenz(t, x, args):
        return jnp.stack([10 * (x[1] - x[0]), x[0] * (28 - x[2]) - x[1],
                          x[0] * x[1] - 8 / 3 * x[2]])

    X = sample_box(jax.random.PRNGKey(8), [-10.0, -10.0, 10.0], [10.0, 10.0, 30.0], 32)
    # statistics of a chaotic tail converge slowly: over 100 time units one orbit of 32
    # stayed long enough on one wing to look like another attractor (it depends on the
    # last bits of the integration); over 200 they agree
    att = find_attractors(lorenz, None, X, t_transient=50.0, t_sample=200.0,
                          n_sample=4001, max_steps=2**17, rtol=1e-6, atol=1e-8)
    assert int(att.count) == 1 and att.kind_names == ["other"]
    # a chaotic tail's extremes fluctuate: one may look as if it still shrinks
    assert float(att.fractions[0]) >= 0.9
    assert set(att.reason_counts()) <= {"assigned", "not_converged"}
    assert 22 < float(att.x[0, 2]) < 25  # the mean of z on the Lorenz attractor


# ---------------------------------------------------------------- plots


def test_plots_smoke(tmp_path, gru_basin_map):
    import matplotlib

    matplotlib.use("Agg")
    from gru_bif.plotting import plot_basin_fractions, plot_basin_map

    problem = gru_bif.Problem(bistable_p, {"p": 0.0}, "p")
    X = sample_box(jax.random.PRNGKey(2), [-2.0], [2.0], 300)
    gc = continue_attractors(problem, [0.0, 0.3, 0.6], X, tie=False, **FAST)
    ax = plot_basin_fractions(gc, show_errors=True)
    ax.figure.savefig(tmp_path / "fractions.png")
    ax = plot_basin_map(gru_basin_map)
    ax.figure.savefig(tmp_path / "map.png")
    assert (tmp_path / "map.png").stat().st_size > 0


# ---------------------------------------------------------------- bad inputs


def test_bad_inputs():
    with pytest.raises(ValueError, match="NaN or inf"):
        find_attractors(bistable, None, jnp.array([[0.1], [jnp.nan]]))
    with pytest.raises(ValueError, match=r"shape \(N, d\)"):
        find_attractors(bistable, None, jnp.array([0.1, 0.2]))
    with pytest.raises(ValueError, match=r"shape \(N, d\)"):
        find_attractors(bistable, None, jnp.zeros((0, 1)))
    with pytest.raises(ValueError, match="dimension"):
        find_attractors(hopf_field, HOPF_ARGS, jnp.zeros((4, 3)))
    with pytest.raises(ValueError, match="initial states"):
        find_attractors(bistable, None, None)
    with pytest.raises(ValueError, match="n_sample"):
        find_attractors(bistable, None, jnp.ones((2, 1)), n_sample=3)
    with pytest.raises(ValueError, match="at least 2 points"):
        basin_map(hopf_field, HOPF_ARGS, [-1, -1], [1, 1], shape=(0, 5))
    with pytest.raises(ValueError, match="lo < hi"):
        basin_map(hopf_field, HOPF_ARGS, [1, -1], [-1, 1])
    with pytest.raises(ValueError, match="base"):
        basin_map(hopf_field, HOPF_ARGS, [-1, -1], [1, 1], axes=(0, 2))
    with pytest.raises(ValueError, match="lo < hi"):
        sample_box(jax.random.PRNGKey(0), [1.0], [0.0], 5)
    problem = gru_bif.Problem(bistable_p, {"p": 0.0}, "p")
    with pytest.raises(ValueError, match="strictly monotone"):
        continue_attractors(problem, [0.0, 0.0, 1.0], jnp.ones((2, 1)))
    with pytest.raises(ValueError, match="at least two"):
        continue_attractors(problem, [0.0], jnp.ones((2, 1)))
    with pytest.raises(ValueError, match="gru_bif.Problem"):
        continue_attractors(bistable_p, [0.0, 1.0], jnp.ones((2, 1)))


def test_cli_basins(tmp_path, capsys):
    """`gru-bif basins` on the four-sink GRU (U_h = 3·I): four attractors, one per
    quadrant, equal fractions by symmetry; the JSON and the picture are written."""
    import json

    from gru_bif.cli import main

    model = tmp_path / "four.json"
    gru_bif.GRU(3.0 * jnp.eye(2)).save(model)
    with pytest.raises(SystemExit, match="--axes"):
        main(["basins", str(model), "--axes", "0", "0"])
    out, fig = tmp_path / "b.json", tmp_path / "b.png"
    assert main(["basins", str(model), "--grid", "12", "12", "--t-transient", "50",
                 "--out", str(out), "--plot", str(fig)]) == 0
    assert "Attractors: 4" in capsys.readouterr().out
    data = json.loads(out.read_text())
    labels = np.asarray(data["labels"])
    assert labels.shape == (12, 12)
    x, y = np.meshgrid(data["x"], data["y"])
    att = np.asarray([a["x"] for a in data["attractors"]["attractors"]])
    assert att.shape == (4, 2)
    # every grid state ends at the sink of its own quadrant (no state lies on an axis)
    quadrant = np.stack([np.sign(x), np.sign(y)], -1)
    np.testing.assert_array_equal(np.sign(att[labels]), quadrant)
    assert fig.stat().st_size > 0
