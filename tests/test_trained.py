"""Trained networks: the shipped weights load, the analysis numbers the report quotes are
recomputed (and checked against independent computations), and retraining lowers the
loss."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gru_bif
from gru_bif import trained as T


@pytest.fixture(scope="module")
def shipped():
    return {task: T.load_shipped(task) for task in T.TASKS}


class _Analyses(dict):
    """Analyses computed on first use (each costs a few compilations)."""

    def __init__(self, shipped):
        super().__init__()
        self.shipped = shipped

    def __missing__(self, task):
        self[task] = T.analyse(self.shipped[task][0])
        return self[task]


@pytest.fixture(scope="module")
def analysed(shipped):
    return _Analyses(shipped)


def test_shipped_weights_load_and_round_trip(shipped, tmp_path):
    for task, (net, rec) in shipped.items():
        assert net.task == task and net.gru.hidden_size == 2
        assert net.gru.input_size == {"cycle": 0, "line": 1, "ring": 2}[task]
        assert [c["step"] for c in rec["checkpoints"]] == [0, 100, 300, 1500]
        # the recorded final loss is the loss of the shipped weights on the training set
        data = T.make_dataset(task, jax.random.split(
            jax.random.PRNGKey(rec["training"]["seed"]))[1], rec["training"]["num_sequences"])
        assert abs(float(T.task_loss(net, data)) - rec["training"]["final_loss"]) < 1e-12
        T.save(tmp_path / "n.json", net)
        back, _ = T.load(tmp_path / "n.json")
        for a, b in zip(jax.tree.leaves(net), jax.tree.leaves(back)):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    with pytest.raises(ValueError, match="Unknown task"):
        T.shipped_path("spiral")


@pytest.mark.slow
def test_cycle_network(shipped, analysed):
    a = analysed["cycle"]
    # the numbers of the report
    assert a["counts"] == {"unstable focus": 1}
    assert abs(a["period"] - 10.997) < 0.01          # target 10 (Euler Δt = 1/2 vs ODE)
    assert abs(a["amplitude"] - 0.643) < 0.01
    # independent: the cycle by collocation from the simulated orbit has the same period
    net, _ = shipped["cycle"]
    pr = gru_bif.Problem(lambda t, h, p: net.gru(t, h), {"p": 0.0}, "p")
    cp, u = gru_bif.periodic.cycle_from_simulation(pr, jnp.array([0.5, 0.0]), 200.0,
                                                   max_period=30.0, samples=3001)
    assert abs(float(u[-2]) - a["period"]) < 1e-3 * a["period"]
    # and the single fixed point is a true zero of the vector field
    x = jnp.asarray(a["fixed_points"][0])
    assert float(jnp.max(jnp.abs(net.gru(0.0, x)))) < 1e-10


@pytest.mark.slow
def test_line_network(shipped, analysed):
    a = analysed["line"]
    net, _ = shipped["line"]
    assert a["counts"] == {"stable node": 2, "saddle": 1}
    np.testing.assert_allclose(a["sink_values"], [-0.42964, 0.45317], atol=2e-5)
    assert abs(a["max_gap"] - 0.88282) < 1e-4
    assert a["speed_on_manifold"]["median"] < 5e-3
    # readouts recomputed independently from the fixed points
    sinks = [x for x, t in zip(a["fixed_points"], a["types"]) if t == "stable node"]
    y = sorted(float(net.W_out[0] @ jnp.asarray(x) + net.b_out[0]) for x in sinks)
    np.testing.assert_allclose(y, a["sink_values"], atol=1e-12)
    # two folds in the input; at each the Jacobian of the field has a zero eigenvalue
    folds = a["input_folds"]
    assert len(folds) == 2 and folds[0] < 0 < folds[1] and max(map(abs, folds)) < 0.01
    for p in folds:
        eq = gru_bif.find_equilibria(net.gru, jnp.array([p + 1e-4 * np.sign(p)]))
        # past the fold the sink on that side is gone: fewer fixed points than at u = 0
        assert int(eq.count) == 1


def test_ring_network(analysed):
    a = analysed["ring"]
    assert a["counts"] == {"stable node": 2, "saddle": 1}
    np.testing.assert_allclose(sorted(a["sink_angles_deg"]), [172.486, 294.179], atol=0.01)
    assert abs(a["max_gap_deg"] - 238.31) < 0.01
    assert a["speed_on_manifold"]["median"] < 5e-3
    assert abs(a["ring_radius"] - 0.942) < 0.01
    assert json.dumps(a)  # JSON-ready


def test_retraining_lowers_the_loss():
    net, hist = T.train("line", steps=100, chunk=50, checkpoints=(0, 100))
    losses = hist["losses"]
    assert len(losses) == 101
    assert losses[-1] < 0.7 * losses[0]  # 0.143 -> 0.085 (seed 0)
    assert [c["step"] for c in hist["checkpoints"]] == [0, 100]
    with pytest.raises(ValueError, match="multiples"):
        T.train("line", steps=100, chunk=50, checkpoints=(30,))
