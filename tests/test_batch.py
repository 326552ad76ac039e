"""`gru_bif.batched`: a function of one system over a batch, on one device and sharded
over 8 simulated CPU devices (a subprocess with
XLA_FLAGS=--xla_force_host_platform_device_count=8); sharded results equal unsharded
ones and equal the per-system results."""

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gru_bif

ROOT = pathlib.Path(__file__).resolve().parents[1]


def hopf_p(gru):
    """Located Hopf parameters of one 2-D GRU diagram in b_h[0] ∈ [-1, 1] (NaN-padded)."""
    pr = gru_bif.Problem.from_gru(gru, "bh[0]")
    b = gru_bif.continuation(pr, jnp.zeros(2), -1.0, p_min=-1.0, p_max=1.0, ds=0.05,
                             max_steps=200, max_special_points=4, throw=False)
    is_hopf = b.special.kind == gru_bif.SpecialKind.HOPF
    return jnp.where(is_hopf, b.special.p, jnp.nan), b.result._value


def rotation_grus(angles):
    """U_h = 3·R(θ): Hopf points at ±p*(θ) (rotation family of paper.md)."""
    c, s = jnp.cos(angles), jnp.sin(angles)
    Uh = 3.0 * jnp.stack([jnp.stack([c, -s], -1), jnp.stack([s, c], -1)], -2)
    return jax.vmap(lambda U: gru_bif.GRU(U, jnp.zeros(2)))(Uh)


def test_batched_equals_per_system_and_pads():
    grus = rotation_grus(jnp.linspace(0.6, 0.9, 3))
    ps, codes = gru_bif.batched(hopf_p)(grus)
    assert ps.shape == (3, 4)
    for i in range(3):
        gi = jax.tree.map(lambda a: a[i], grus)
        pi, ci = hopf_p(gi)
        np.testing.assert_allclose(ps[i], pi, rtol=0, atol=1e-12, equal_nan=True)
    # the reference GRU of the benchmarks (θ = π/4): Hopf at ±0.359038459564185
    g = rotation_grus(jnp.array([jnp.pi / 4]))
    p, _ = gru_bif.batched(hopf_p)(g)
    got = np.sort(np.asarray(p[0])[np.isfinite(p[0])])
    np.testing.assert_allclose(got, [-0.359038459564185, 0.359038459564185], atol=1e-12)


def test_chunked_equals_one_vmap():
    """`chunk_size` (consecutive chunks, the last one short) gives the same results as
    one vmap over the whole batch; a shared argument stays shared."""
    grus = rotation_grus(jnp.linspace(0.6, 0.9, 5))
    ps, codes = gru_bif.batched(hopf_p)(grus)
    pc, cc = gru_bif.batched(hopf_p, chunk_size=2)(grus)
    np.testing.assert_allclose(pc, ps, rtol=0, atol=1e-12, equal_nan=True)
    np.testing.assert_array_equal(cc, codes)
    out = gru_bif.batched(lambda x, y: x * y, in_axes=(0, None), chunk_size=2)(
        jnp.arange(5.0), 2.0)
    np.testing.assert_array_equal(out, [0.0, 2.0, 4.0, 6.0, 8.0])
    with pytest.raises(ValueError, match="chunk_size"):
        gru_bif.batched(hopf_p, chunk_size=0)


def test_batched_shared_arguments_and_bad_input():
    f = lambda x, y: x * y
    out = gru_bif.batched(f, in_axes=(0, None))(jnp.arange(3.0), 2.0)
    np.testing.assert_array_equal(out, [0.0, 2.0, 4.0])
    mesh = jax.sharding.Mesh(np.array(jax.devices()), ("batch",))
    with pytest.raises(ValueError, match="disagree on the batch size"):
        gru_bif.batched(f, mesh=mesh)(jnp.arange(3.0), jnp.arange(4.0))
    with pytest.raises(ValueError, match="0 or None"):
        gru_bif.batched(f, in_axes=1)
    with pytest.raises(TypeError, match="jax.sharding.Mesh"):
        gru_bif.batched(f, mesh="cpu")
    with pytest.raises(ValueError, match="not an axis"):
        gru_bif.batched(f, mesh=mesh, axis_name="x")


SCRIPT = textwrap.dedent(
    """
    import json, sys
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp, numpy as np
    from jax.sharding import Mesh
    sys.path.insert(0, sys.argv[1])
    import gru_bif
    from test_batch import hopf_p, rotation_grus
    grus = rotation_grus(jnp.linspace(0.5, 1.0, 11))      # 11: not a multiple of 8
    mesh = Mesh(np.array(jax.devices()), ("batch",))
    run = gru_bif.batched(hopf_p, mesh=mesh)
    sharded, codes = run(grus)
    plain, codes1 = gru_bif.batched(hopf_p)(grus)
    eq = lambda g: gru_bif.find_equilibria(g, None, jnp.array([[0.5, 0.5], [-0.5, -0.5]]),
                                           max_equilibria=4).x
    run_eq = gru_bif.batched(eq, mesh=mesh)
    xs = run_eq(grus)
    xs1 = gru_bif.batched(eq)(grus)
    print(json.dumps(dict(devices=len(jax.devices()), n=int(sharded.shape[0]),
        diff=float(np.nanmax(np.abs(np.asarray(sharded) - np.asarray(plain)))),
        same_nan=bool(np.array_equal(np.isnan(sharded), np.isnan(plain))),
        codes=np.asarray(codes).tolist() == np.asarray(codes1).tolist(),
        eq_diff=float(np.nanmax(np.abs(np.asarray(xs) - np.asarray(xs1)))),
        eq_same_nan=bool(np.array_equal(np.isnan(xs), np.isnan(xs1))),
        modes=[run.mode_used, run_eq.mode_used],
        hopfs=int(np.isfinite(np.asarray(sharded)).sum()))))
    """
)


def test_sharded_over_eight_simulated_devices(tmp_path):
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8",
               JAX_PLATFORMS="cpu")
    script = tmp_path / "sharded.py"
    script.write_text(SCRIPT)
    proc = subprocess.run([sys.executable, str(script), str(ROOT / "tests")], env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert res["devices"] == 8
    assert res["n"] == 11
    assert res["same_nan"] and res["diff"] <= 1e-12
    assert res["codes"]
    assert res["eq_same_nan"] and res["eq_diff"] <= 1e-12
    # continuation runs per device (shard_map); find_equilibria's lineax solves cannot
    # be traced under shard_map and fall back to the partitioned jit
    assert res["modes"] == ["shard_map", "jit"]
    assert res["hopfs"] >= 11  # every network of the family has Hopf points in range
