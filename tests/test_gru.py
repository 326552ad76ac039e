"""The continuous-time GRU: converters reproduce one step of each library exactly
(`h_next − h` equals the vector field), serialisation round-trips bit for bit, and every
bad input raises a ValueError that says what to do."""

import json
import os
import subprocess
import sys

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gru_bif.models.gru import GRU

SIZES = [(1, 1), (3, 2), (6, 4)]  # (d, m)
TOL = 1e-12


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


@eqx.filter_jit
def _batched_field(gru, h, u):
    return jax.vmap(lambda hh, uu: gru(0.0, hh, uu))(h, u)


def _field(gru, h, u):
    """Our vector field at a batch of states and inputs."""
    return np.asarray(_batched_field(gru, jnp.asarray(h), jnp.asarray(u)))


def _states(rng, n, d, m):
    return 1.5 * rng.standard_normal((n, d)), 1.5 * rng.standard_normal((n, m))


# --------------------------------------------------------------------------- construction


def test_random_distribution_and_determinism():
    key = jax.random.key(0)
    g = GRU.random(key, 200, 50, scale=2.0, bias_scale=0.3)
    assert g.hidden_size == 200 and g.input_size == 50 and g.reset == "before"
    assert g.Uh.dtype == jnp.float64
    assert abs(np.std(np.asarray(g.Uh)) - 2.0 / np.sqrt(200)) < 0.01
    assert abs(np.std(np.asarray(g.Wz)) - 1.0 / np.sqrt(50)) < 0.01
    assert abs(np.std(np.asarray(g.bz)) - 0.3) < 0.1
    assert np.all(np.asarray(g.bhh) == 0)
    again = GRU.random(key, 200, 50, scale=2.0, bias_scale=0.3)
    assert all(np.array_equal(getattr(g, f), getattr(again, f)) for f in ("Uh", "Wz", "bz"))
    small = GRU.random(key, 3)
    assert small.input_size == 0 and np.all(np.asarray(small.bz) == 0)  # default biases: 0
    after = GRU.random(key, 3, bias_scale=1.0, reset="after", dtype=jnp.float32)
    assert after.reset == "after" and np.any(np.asarray(after.bhh) != 0)
    assert after.Uh.dtype == jnp.float32


def test_random_vmap_and_jit():
    keys = jax.random.split(jax.random.key(1), 5)
    scales = jnp.linspace(0.5, 2.0, 5)

    def make(k, s):
        return GRU.random(k, 3, 2, scale=s, bias_scale=0.5, reset="after")

    batch = jax.vmap(make)(keys, scales)  # keys and scales both batched
    assert batch.Uh.shape == (5, 3, 3) and batch.Wz.shape == (5, 3, 2)
    one = make(keys[3], scales[3])
    assert np.allclose(batch.Uh[3], one.Uh, atol=0, rtol=1e-15)
    # the batched GRU is usable as a vector field
    h, u = np.ones((5, 3)), np.ones((5, 2))
    out = eqx.filter_jit(jax.vmap(lambda g, hh, uu: g(0.0, hh, uu)))(batch, h, u)
    assert out.shape == (5, 3)
    assert np.allclose(out[3], one(0.0, h[3], u[3]), atol=1e-15)


def test_reset_conventions_differ():
    g = GRU.random(jax.random.key(2), 4, 2, bias_scale=0.5)
    fields = {f: getattr(g, f) for f in ("Wz", "Wr", "Wh", "Uz", "Ur", "Uh", "bz", "br", "bh")}
    before = GRU(**fields, reset="before")
    after = GRU(**fields, reset="after")
    h, u = jnp.linspace(-1, 1, 4), jnp.array([0.3, -0.2])
    assert np.max(np.abs(before(0, h, u) - after(0, h, u))) > 1e-3
    # they agree when U_h is diagonal and b_hh = 0, since then U_h (r ⊙ h) = r ⊙ (U_h h)
    diag = {**fields, "Uh": jnp.diag(jnp.diag(g.Uh))}
    b, a = GRU(**diag, reset="before"), GRU(**diag, reset="after")
    assert np.max(np.abs(b(0, h, u) - a(0, h, u))) < 1e-15
    # reset="before" with r ≡ 1/2 (Ur = 0, br = 0, Wr = 0) halves the recurrent input
    half = GRU(**{**fields, "Ur": 0 * g.Ur, "br": 0 * g.br, "Wr": 0 * g.Wr}, reset="before")
    _, r, hhat = half.gates(h, u)
    assert np.allclose(r, 0.5)
    assert np.allclose(hhat, jnp.tanh(g.Wh @ u + 0.5 * g.Uh @ h + g.bh))


def test_step_and_field_agree():
    g = GRU.random(jax.random.key(3), 3, 1, bias_scale=0.5, reset="after")
    h, u = jnp.array([0.1, -0.4, 0.9]), jnp.array([0.7])
    assert np.allclose(g.step(h, u) - h, g(0.0, h, u), atol=1e-15)


# --------------------------------------------------------------------------- PyTorch


@pytest.mark.parametrize("d,m", SIZES)
@pytest.mark.parametrize("bias", [True, False])
def test_torch_gru_and_cell(d, m, bias):
    torch = pytest.importorskip("torch")
    torch.manual_seed(10 * d + m)
    rng = np.random.default_rng(d + m)
    h, u = _states(rng, 6, d, m)
    ht, ut = torch.tensor(h), torch.tensor(u)

    gru = torch.nn.GRU(m, d, bias=bias).double()
    if bias:  # make the biases large enough to matter
        with torch.no_grad():
            gru.bias_ih_l0.normal_()
            gru.bias_hh_l0.normal_()
    with torch.no_grad():
        _, h_next = gru(ut[None], ht[None])  # one time step, batch of 6
    expected = (h_next[0] - ht).numpy()
    ours = GRU.from_torch(gru)
    assert ours.reset == "after" and ours.hidden_size == d and ours.input_size == m
    assert np.max(np.abs(_field(ours, h, u) - expected)) < TOL
    # the state dict converts identically
    from_sd = GRU.from_torch(gru.state_dict())
    assert all(np.array_equal(getattr(ours, f), getattr(from_sd, f)) for f in ("Uh", "bz", "bhh"))

    cell = torch.nn.GRUCell(m, d, bias=bias).double()
    with torch.no_grad():
        expected = (cell(ut, ht) - ht).numpy()
    ours = GRU.from_torch(cell)
    assert np.max(np.abs(_field(ours, h, u) - expected)) < TOL
    ours = GRU.from_torch(cell.state_dict())
    assert np.max(np.abs(_field(ours, h, u) - expected)) < TOL


def test_torch_multilayer_pick_layer():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    d, m = 4, 3
    gru = torch.nn.GRU(m, d, num_layers=2).double()
    rng = np.random.default_rng(0)
    h0 = torch.tensor(rng.standard_normal((2, 1, d)))
    u = torch.tensor(rng.standard_normal((1, 1, m)))
    with torch.no_grad():
        _, h_next = gru(u, h0)
    # layer 1's input is layer 0's new state
    layer1 = GRU.from_torch(gru, layer=1)
    assert layer1.input_size == d
    got = layer1(0.0, jnp.asarray(h0[1, 0].numpy()), jnp.asarray(h_next[0, 0].numpy()))
    assert np.max(np.abs(np.asarray(got) - (h_next[1, 0] - h0[1, 0]).numpy())) < TOL
    layer0 = GRU.from_torch(gru.state_dict(), layer=0)
    got = layer0(0.0, jnp.asarray(h0[0, 0].numpy()), jnp.asarray(u[0, 0].numpy()))
    assert np.max(np.abs(np.asarray(got) - (h_next[0, 0] - h0[0, 0]).numpy())) < TOL


def test_torch_float32_and_numpy_state_dict():
    torch = pytest.importorskip("torch")
    cell = torch.nn.GRUCell(2, 3)  # float32
    sd = {k: v.detach().numpy() for k, v in cell.state_dict().items()}
    a, b = GRU.from_torch(cell), GRU.from_torch(sd)
    assert a.Uh.dtype == jnp.float64  # widened exactly
    assert np.array_equal(a.Uh, b.Uh) and np.array_equal(a.Uh, sd["weight_hh"][6:])
    assert GRU.from_torch(cell, dtype=jnp.float32).Uh.dtype == jnp.float32


def test_torch_errors():
    torch = pytest.importorskip("torch")
    sd = {k: v.detach().clone() for k, v in torch.nn.GRU(2, 3).double().state_dict().items()}
    with pytest.raises(ValueError, match="bidirectional"):
        GRU.from_torch(torch.nn.GRU(2, 3, bidirectional=True))
    with pytest.raises(ValueError, match="bidirectional"):
        GRU.from_torch(torch.nn.GRU(2, 3, bidirectional=True).state_dict())
    with pytest.raises(ValueError, match=r"more than one layer.*layer=k"):
        GRU.from_torch(torch.nn.GRU(2, 3, num_layers=2))
    with pytest.raises(ValueError, match=r"more than one layer.*layer=k"):
        GRU.from_torch(torch.nn.GRU(2, 3, num_layers=2).state_dict())
    with pytest.raises(ValueError, match="layer=2 is not in the state dict"):
        GRU.from_torch(torch.nn.GRU(2, 3, num_layers=2), layer=2)
    with pytest.raises(ValueError, match="GRUCell has a single layer"):
        GRU.from_torch(torch.nn.GRUCell(2, 3), layer=1)
    with pytest.raises(ValueError, match="expects a torch.nn.GRU.*got a LSTM"):
        GRU.from_torch(torch.nn.LSTM(2, 3))
    with pytest.raises(ValueError, match=r"lacks \['weight_hh_l0'\]"):
        GRU.from_torch({k: v for k, v in sd.items() if k != "weight_hh_l0"})
    with pytest.raises(ValueError, match=r"lacks \['bias_hh_l0'\].*bias=False"):
        GRU.from_torch({k: v for k, v in sd.items() if k != "bias_hh_l0"})
    match = r"unknown state-dict keys \['rnn.bias_hh_l0'.*k.removeprefix\('rnn.'\)"
    with pytest.raises(ValueError, match=match):
        GRU.from_torch({"rnn." + k: v for k, v in sd.items()})
    with pytest.raises(ValueError, match=r"unknown state-dict keys \['foo'\]"):
        GRU.from_torch({**sd, "foo": sd["bias_ih_l0"]})
    with pytest.raises(ValueError, match="mixes GRUCell keys"):
        GRU.from_torch({**sd, "weight_hh": sd["weight_hh_l0"]})
    bad = dict(sd)
    bad["weight_hh_l0"] = sd["weight_hh_l0"].clone()
    bad["weight_hh_l0"][0, 0] = float("nan")
    with pytest.raises(ValueError, match="'weight_hh_l0' contains 1 NaN or inf"):
        GRU.from_torch(bad)
    with pytest.raises(ValueError, match=r"'weight_hh_l0' has shape \(9, 4\); expected \(3 d, d\)"):
        GRU.from_torch({**sd, "weight_hh_l0": torch.zeros(9, 4)})
    with pytest.raises(ValueError, match=r"'weight_ih_l0' has shape \(6, 2\)"):
        GRU.from_torch({**sd, "weight_ih_l0": torch.zeros(6, 2)})
    with pytest.raises(ValueError, match=r"'bias_ih_l0' has shape \(8,\); expected \(9,\)"):
        GRU.from_torch({**sd, "bias_ih_l0": torch.zeros(8)})
    with pytest.raises(ValueError, match="layer must be at least 0"):
        GRU.from_torch(sd, layer=-1)


def test_torch_not_imported_at_import_time():
    code = "import sys, gru_bif.models.gru; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ})


# --------------------------------------------------------------------------- Equinox


@eqx.filter_jit
def _equinox_step(cell, u, h):
    return jax.vmap(cell)(u, h)


@pytest.mark.parametrize("d,m", SIZES)
@pytest.mark.parametrize("use_bias", [True, False])
def test_equinox_cell(d, m, use_bias):
    # the cell's structure without running its initialiser; then our own random weights
    # (equinox's default biases are small, and these make every term matter)
    cell = eqx.filter_eval_shape(eqx.nn.GRUCell, m, d, use_bias, key=jax.random.key(0))
    rng = np.random.default_rng(d * m)
    new = [jnp.asarray(rng.standard_normal(s)) for s in ((3 * d, m), (3 * d, d))]
    cell = eqx.tree_at(lambda c: (c.weight_ih, c.weight_hh), cell, tuple(new))
    if use_bias:
        new = [jnp.asarray(rng.standard_normal(s)) for s in ((3 * d,), (d,))]
        cell = eqx.tree_at(lambda c: (c.bias, c.bias_n), cell, tuple(new))
    h, u = _states(rng, 5, d, m)
    expected = np.asarray(_equinox_step(cell, jnp.asarray(u), jnp.asarray(h))) - h
    ours = GRU.from_equinox(cell)
    assert ours.reset == "after"
    assert np.max(np.abs(_field(ours, h, u) - expected)) < TOL


def test_equinox_vmapped_cells_and_errors():
    key = jax.random.key(0)
    shape = eqx.filter_eval_shape(eqx.nn.GRUCell, 2, 3, key=key)  # no initialiser run
    rng = np.random.default_rng(0)
    leaves = (lambda c: (c.weight_ih, c.weight_hh, c.bias, c.bias_n))
    stacked = eqx.tree_at(
        leaves, shape, tuple(jnp.asarray(rng.standard_normal((4, *x.shape))) for x in leaves(shape))
    )
    batch = jax.vmap(GRU.from_equinox)(stacked)  # traced cells convert too
    assert batch.Uh.shape == (4, 3, 3)
    cell1 = eqx.tree_at(leaves, shape, tuple(x[1] for x in leaves(stacked)))
    assert np.array_equal(batch.Uz[1], GRU.from_equinox(cell1).Uz)
    with pytest.raises(ValueError, match="expects an equinox.nn.GRUCell; got a LSTMCell"):
        GRU.from_equinox(eqx.filter_eval_shape(eqx.nn.LSTMCell, 2, 3, key=key))
    bad = eqx.tree_at(lambda c: c.bias_n, cell1, cell1.bias_n.at[1].set(jnp.inf))
    with pytest.raises(ValueError, match="'bias_n' contains 1 NaN or inf"):
        GRU.from_equinox(bad)


# --------------------------------------------------------------------------- Keras


def _keras_step(kernel, recurrent_kernel, bias, reset_after, x, h):
    """Keras' GRUCell.call (keras/src/layers/rnn/gru.py), in NumPy, row vectors."""
    d = recurrent_kernel.shape[0]
    if bias is None:
        b_i, b_h = np.zeros(3 * d), np.zeros(3 * d)
    elif reset_after:
        b_i, b_h = bias[0], bias[1]
    else:
        b_i, b_h = bias, np.zeros(3 * d)
    x_z, x_r, x_h = np.split(x @ kernel + b_i, 3, axis=-1)
    rk = recurrent_kernel
    rec_z = h @ rk[:, :d] + (b_h[:d] if reset_after else 0)
    rec_r = h @ rk[:, d : 2 * d] + (b_h[d : 2 * d] if reset_after else 0)
    z = _sigmoid(x_z + rec_z)
    r = _sigmoid(x_r + rec_r)
    if reset_after:
        rec_h = r * (h @ rk[:, 2 * d :] + b_h[2 * d :])
    else:
        rec_h = (r * h) @ rk[:, 2 * d :]
    hh = np.tanh(x_h + rec_h)
    return z * h + (1 - z) * hh


@pytest.mark.parametrize("d,m", SIZES)
@pytest.mark.parametrize("reset_after", [True, False])
def test_keras_equations(d, m, reset_after):
    rng = np.random.default_rng(100 * d + m)
    kernel = rng.standard_normal((m, 3 * d))
    rk = rng.standard_normal((d, 3 * d)) / np.sqrt(d)
    bias = rng.standard_normal((2, 3 * d) if reset_after else (3 * d,))
    h, u = _states(rng, 5, d, m)
    for b in (bias, None):
        ours = GRU.from_keras(kernel, rk, b, reset_after=reset_after)
        assert ours.reset == ("after" if reset_after else "before")
        expected = _keras_step(kernel, rk, b, reset_after, u, h) - h
        assert np.max(np.abs(_field(ours, h, u) - expected)) < TOL


@pytest.mark.parametrize("reset_after", [True, False])
def test_keras_real(reset_after):
    os.environ.setdefault("KERAS_BACKEND", "jax")
    keras = pytest.importorskip("keras")
    d, m = 3, 2
    layer = keras.layers.GRU(d, reset_after=reset_after, return_state=True, dtype="float64")
    layer.build((None, None, m))
    rng = np.random.default_rng(7)
    layer.set_weights([rng.standard_normal(w.shape) for w in layer.get_weights()])
    h, u = _states(rng, 4, d, m)
    floatx = keras.config.floatx()
    keras.config.set_floatx("float64")  # else Keras rounds the NumPy inputs to float32
    try:
        _, h_next = layer(u[:, None, :], initial_state=[h])
    finally:
        keras.config.set_floatx(floatx)
    expected = np.asarray(h_next) - h
    # Keras 3 (JAX backend) evaluates `tanh` of a float64 tensor in float32
    # (`keras.ops.tanh(np.float64(...)).dtype == float32`), so only ~1e-7 agreement is
    # possible here; exactness is checked against Keras' equations in test_keras_equations.
    from_arrays = GRU.from_keras(*layer.get_weights(), reset_after=reset_after)
    for ours in (GRU.from_keras(layer), from_arrays):
        assert np.max(np.abs(_field(ours, h, u) - expected)) < 1e-6


def test_keras_errors():
    d, m = 3, 2
    rng = np.random.default_rng(0)
    k, rk = rng.standard_normal((m, 3 * d)), rng.standard_normal((d, 3 * d))
    b2, b1 = rng.standard_normal((2, 3 * d)), rng.standard_normal(3 * d)
    with pytest.raises(ValueError, match="reset_after=False layer; pass reset_after=False"):
        GRU.from_keras(k, rk, b1)
    with pytest.raises(ValueError, match="reset_after=True layer; pass reset_after=True"):
        GRU.from_keras(k, rk, b2, reset_after=False)
    with pytest.raises(ValueError, match=r"'bias' has shape \(4,\); expected \(2, 9\)"):
        GRU.from_keras(k, rk, np.zeros(4))
    with pytest.raises(ValueError, match=r"'recurrent_kernel' has shape \(9, 3\); expected \(d, 3"):
        GRU.from_keras(k, rk.T, b2)
    with pytest.raises(ValueError, match=r"'kernel' has shape \(9, 2\); expected \(m, 3 d\)"):
        GRU.from_keras(k.T, rk, b2)
    with pytest.raises(ValueError, match="'kernel' contains 1 NaN"):
        GRU.from_keras(np.where(k == k[0, 0], np.nan, k), rk, b2)
    with pytest.raises(ValueError, match="pass kernel, recurrent_kernel and bias"):
        GRU.from_keras(k)

    class FakeLayer:  # duck-typed like a Keras layer
        reset_after = True

        def __init__(self, weights, act="sigmoid"):
            self.weights_ = weights
            self.recurrent_activation = type("f", (), {"__name__": act})()

        def get_weights(self):
            return self.weights_

    assert GRU.from_keras(FakeLayer([k, rk, b2])).reset == "after"
    with pytest.raises(ValueError, match="recurrent_activation is 'hard_sigmoid'"):
        GRU.from_keras(FakeLayer([k, rk, b2], act="hard_sigmoid"))
    with pytest.raises(ValueError, match="has 0 weight arrays.*Build it first"):
        GRU.from_keras(FakeLayer([]))


# --------------------------------------------------------------------------- Flax


def _flax_params(rng, d, m):
    def dense(i, o, bias):
        out = {"kernel": rng.standard_normal((i, o)) / np.sqrt(max(i, 1))}
        if bias:
            out["bias"] = rng.standard_normal(o)
        return out

    return {
        "ir": dense(m, d, True),
        "iz": dense(m, d, True),
        "in": dense(m, d, True),
        "hr": dense(d, d, False),
        "hz": dense(d, d, False),
        "hn": dense(d, d, True),
    }


def _flax_step(p, x, h):
    """flax.linen.GRUCell.__call__ (flax/linen/recurrent.py), in NumPy."""

    def dense(name, v):
        return v @ p[name]["kernel"] + p[name].get("bias", 0)

    r = _sigmoid(dense("ir", x) + dense("hr", h))
    z = _sigmoid(dense("iz", x) + dense("hz", h))
    n = np.tanh(dense("in", x) + r * dense("hn", h))
    return (1 - z) * n + z * h


@pytest.mark.parametrize("d,m", SIZES)
def test_flax_equations(d, m):
    rng = np.random.default_rng(d * 7 + m)
    params = _flax_params(rng, d, m)
    h, u = _states(rng, 5, d, m)
    expected = _flax_step(params, u, h) - h
    for p in (params, {"params": params}):
        ours = GRU.from_flax(p)
        assert ours.reset == "after"
        assert np.max(np.abs(_field(ours, h, u) - expected)) < TOL


def test_flax_real():
    nn = pytest.importorskip("flax.linen")
    d, m = 3, 2
    cell = nn.GRUCell(features=d, param_dtype=jnp.float64, dtype=jnp.float64)
    rng = np.random.default_rng(3)
    h, u = _states(rng, 4, d, m)
    variables = cell.init(jax.random.key(0), jnp.asarray(h), jnp.asarray(u))
    variables = jax.tree.map(lambda a: jnp.asarray(rng.standard_normal(a.shape)), variables)
    h_next, _ = cell.apply(variables, jnp.asarray(h), jnp.asarray(u))
    ours = GRU.from_flax(variables)
    assert np.max(np.abs(_field(ours, h, u) - (np.asarray(h_next) - h))) < TOL


def test_flax_errors():
    rng = np.random.default_rng(0)
    p = _flax_params(rng, 3, 2)
    with pytest.raises(ValueError, match=r"unknown entries \['extra'\] and lacks \['hz'\]"):
        GRU.from_flax({**{k: v for k, v in p.items() if k != "hz"}, "extra": {}})
    match = r"entry 'hr' has \['bias', 'kernel'\]; expected exactly \['kernel'\]"
    with pytest.raises(ValueError, match=match):
        GRU.from_flax({**p, "hr": {**p["hr"], "bias": np.zeros(3)}})
    with pytest.raises(ValueError, match=r"'iz/kernel' has shape \(3, 2\); expected \(2, 3\)"):
        GRU.from_flax({**p, "iz": {**p["iz"], "kernel": p["iz"]["kernel"].T}})
    with pytest.raises(ValueError, match=r"'hn/bias' has shape \(4,\)"):
        GRU.from_flax({**p, "hn": {**p["hn"], "bias": np.zeros(4)}})
    with pytest.raises(ValueError, match="'in/bias' contains 1 NaN"):
        GRU.from_flax({**p, "in": {**p["in"], "bias": np.array([0.0, np.inf, 1.0])}})
    with pytest.raises(ValueError, match="expects the GRUCell's parameter dict"):
        GRU.from_flax([1, 2])


# --------------------------------------------------------------------------- serialisation


def _bitwise_equal(a: GRU, b: GRU) -> bool:
    fields = ("Wz", "Wr", "Wh", "Uz", "Ur", "Uh", "bz", "br", "bh", "bhh")
    return a.reset == b.reset and all(
        np.asarray(getattr(a, f)).dtype == np.asarray(getattr(b, f)).dtype
        and np.asarray(getattr(a, f)).shape == np.asarray(getattr(b, f)).shape
        and np.asarray(getattr(a, f)).tobytes() == np.asarray(getattr(b, f)).tobytes()
        for f in fields
    )


@pytest.mark.parametrize("suffix", [".json", ".npz"])
@pytest.mark.parametrize(
    "make",
    [
        lambda k: GRU.random(k, 4, 3, bias_scale=0.7),
        lambda k: GRU.random(k, 3, 0, bias_scale=0.7, reset="after"),
        lambda k: GRU.random(k, 2, 1, bias_scale=0.7, reset="after", dtype=jnp.float32),
        # awkward floats: 1/3, −0.0, a subnormal, huge and tiny magnitudes
        lambda k: GRU(
            jnp.array([[1 / 3, -0.0], [1e-300, 2.0**-1074]]), bh=jnp.array([np.pi, -1e300])
        ),
    ],
)
def test_save_load_exact(tmp_path, suffix, make):
    g = make(jax.random.key(5))
    path = tmp_path / f"gru{suffix}"
    g.save(path)
    back = GRU.load(path)
    assert _bitwise_equal(g, back)
    assert GRU.load(str(path)).hidden_size == g.hidden_size
    # the dict is JSON-ready and round-trips too
    d = json.loads(json.dumps(g.to_dict()))
    assert d["format"] == "gru_bif.GRU" and d["version"] == 1 and d["reset"] == g.reset
    assert _bitwise_equal(g, GRU.from_dict(d))


def test_serialisation_errors(tmp_path):
    g = GRU.random(jax.random.key(0), 2, 1)
    with pytest.raises(ValueError, match=r"unknown file suffix '.txt'.*use '.json' or '.npz'"):
        g.save(tmp_path / "gru.txt")
    with pytest.raises(ValueError, match=r"unknown file suffix '.pkl'"):
        GRU.load(tmp_path / "gru.pkl")
    d = g.to_dict()
    with pytest.raises(ValueError, match="'format' is 'other'"):
        GRU.from_dict({**d, "format": "other"})
    with pytest.raises(ValueError, match="format version 99 is not supported"):
        GRU.from_dict({**d, "version": 99})
    with pytest.raises(ValueError, match=r"unknown keys \['extra'\], missing keys \['Uh'\]"):
        GRU.from_dict({**{k: v for k, v in d.items() if k != "Uh"}, "extra": 1})
    with pytest.raises(ValueError, match=r"'Uz' has shape \(3, 3\); expected \(2, 2\)"):
        GRU.from_dict({**d, "Uz": np.zeros((3, 3)).tolist()})
    with pytest.raises(ValueError, match="'bz' contains 1 NaN"):
        GRU.from_dict({**d, "bz": [0.0, float("nan")]})
    with pytest.raises(ValueError, match="Unknown reset convention 'sideways'"):
        GRU.from_dict({**d, "reset": "sideways"})


# --------------------------------------------------------------------------- validation


def test_constructor_and_random_errors():
    key = jax.random.key(0)
    with pytest.raises(ValueError, match="hidden_size must be at least 1; got 0"):
        GRU.random(key, 0)
    with pytest.raises(ValueError, match="hidden_size must be an int; got 2.5"):
        GRU.random(key, 2.5)
    with pytest.raises(ValueError, match="input_size must be at least 0"):
        GRU.random(key, 2, -1)
    with pytest.raises(ValueError, match="scale must be finite and non-negative; got -1.0"):
        GRU.random(key, 2, scale=-1.0)
    with pytest.raises(ValueError, match="bias_scale must be finite"):
        GRU.random(key, 2, bias_scale=float("inf"))
    with pytest.raises(ValueError, match="Unknown reset convention 'middle'"):
        GRU.random(key, 2, reset="middle")
    with pytest.raises(ValueError, match="Uh must be a square"):
        GRU(jnp.zeros((2, 3)))
    with pytest.raises(ValueError, match="GRU weight 'Uh' contains 1 NaN"):
        GRU(jnp.array([[0.0, jnp.nan], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="bhh .* is only used with reset='after'"):
        GRU(jnp.eye(2), bhh=jnp.ones(2))
    with pytest.raises(ValueError, match="input size 2; pass an input u"):
        GRU.random(key, 3, 2)(0.0, jnp.zeros(3))
