"""Runs beyond one process (`gru_bif.distributed`): results independent of chunking and
of the number of processes, chunked runs that resume after an error or a kill, and two
local CPU processes under `jax.distributed` (gloo collectives on localhost) giving the
same diagrams, census, basins and chaos map as one."""

import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import textwrap
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gru_bif import distributed

REPO = pathlib.Path(__file__).resolve().parents[1]


def _draws(keys):
    """A per-item computation whose result depends on the item's key only."""
    return {"x": jax.vmap(lambda k: jax.random.normal(k, (3,)))(keys),
            "n": jnp.arange(keys.shape[0])[:, None] * 0 + 1}


def _inputs(start, stop):
    return (distributed.item_keys(jax.random.PRNGKey(7), start, stop),)


def test_results_do_not_depend_on_chunking(tmp_path):
    whole = _draws(*_inputs(0, 10))
    for chunk in (1, 3, 7, 10, 25):
        out = distributed.run_chunks(_draws, 10, _inputs, chunk_size=chunk)
        np.testing.assert_array_equal(out["x"], np.asarray(whole["x"]))
    out = distributed.run_chunks(_draws, 10, _inputs, chunk_size=4, out_dir=tmp_path / "a")
    np.testing.assert_array_equal(out["x"], np.asarray(whole["x"]))
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [
        "chunk_000000.npz", "chunk_000001.npz", "chunk_000002.npz", "manifest.json"]


def test_a_run_stopped_by_an_error_resumes(tmp_path):
    calls = []

    def counted(keys):
        calls.append(int(keys.shape[0]))
        return _draws(keys)

    class Stop(Exception):
        pass

    def stop_after_two(done, total, computed):
        if done == 2:
            raise Stop

    with pytest.raises(Stop):
        distributed.run_chunks(counted, 11, _inputs, chunk_size=3, out_dir=tmp_path,
                               progress=stop_after_two)
    assert calls == [3, 3]
    calls.clear()
    seen = []
    out = distributed.run_chunks(counted, 11, _inputs, chunk_size=3, out_dir=tmp_path,
                                 progress=lambda d, t, c: seen.append((d, t, c)))
    assert calls == [3, 2]  # only the two missing chunks were computed
    assert seen == [(1, 4, False), (2, 4, False), (3, 4, True), (4, 4, True)]
    np.testing.assert_array_equal(out["x"], np.asarray(_draws(*_inputs(0, 11))["x"]))
    # everything on disk: nothing computed, the structure recovered without a run
    calls.clear()
    again = distributed.run_chunks(counted, 11, _inputs, chunk_size=3, out_dir=tmp_path)
    assert calls == [] or calls == [1]  # at most an abstract / one-item call
    np.testing.assert_array_equal(again["x"], out["x"])


def test_a_folder_of_another_run_is_refused_and_damaged_chunks_recomputed(tmp_path):
    distributed.run_chunks(_draws, 6, _inputs, chunk_size=3, out_dir=tmp_path,
                           config={"seed": 7})
    with pytest.raises(ValueError, match="another run"):
        distributed.run_chunks(_draws, 6, _inputs, chunk_size=3, out_dir=tmp_path,
                               config={"seed": 8})
    with pytest.raises(ValueError, match="another run"):
        distributed.run_chunks(_draws, 6, _inputs, chunk_size=2, out_dir=tmp_path,
                               config={"seed": 7})
    (tmp_path / "chunk_000001.npz").write_bytes(b"garbage")
    calls = []
    out = distributed.run_chunks(lambda k: (calls.append(1), _draws(k))[1], 6, _inputs,
                                 chunk_size=3, out_dir=tmp_path, config={"seed": 7})
    assert len(calls) == 1  # the damaged chunk only
    np.testing.assert_array_equal(out["x"], np.asarray(_draws(*_inputs(0, 6))["x"]))
    with pytest.raises(ValueError, match="num_items"):
        distributed.run_chunks(_draws, 0, _inputs, chunk_size=3)


def test_a_killed_run_resumes(tmp_path):
    """SIGKILL mid-run (no clean-up of any kind), then the same call finishes the work
    and computes only the chunks that were not written."""
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(REPO / "tests")!r})
        import jax
        jax.config.update("jax_enable_x64", True)
        from test_distributed import _draws, _inputs
        from gru_bif import distributed
        distributed.run_chunks(_draws, 40, _inputs, chunk_size=2, out_dir={str(tmp_path / "run")!r},
                               progress=lambda d, t, c: time.sleep(0.3))
    """))
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, str(script)], env=env)
    manifest = tmp_path / "run" / "manifest.json"
    deadline = time.time() + 240
    while time.time() < deadline:
        if manifest.exists() and len(json.loads(manifest.read_text())["chunks"]) >= 3:
            break
        if proc.poll() is not None:
            pytest.fail("the run ended before it could be killed")
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    written = len(json.loads(manifest.read_text())["chunks"])
    assert 3 <= written < 20
    calls = []
    out = distributed.run_chunks(lambda k: (calls.append(1), _draws(k))[1], 40, _inputs,
                                 chunk_size=2, out_dir=tmp_path / "run")
    assert len(calls) == 20 - written
    np.testing.assert_array_equal(out["x"], np.asarray(_draws(*_inputs(0, 40))["x"]))


def test_initialize_without_a_cluster_is_one_process(monkeypatch):
    for var in ("GRU_BIF_COORDINATOR_ADDRESS", "GRU_BIF_COORDINATOR", "JAX_COORDINATOR_ADDRESS",
                "SLURM_JOB_ID", "OMPI_COMM_WORLD_SIZE"):
        monkeypatch.delenv(var, raising=False)
    assert distributed.cluster_environment() is None
    assert distributed.initialize() is False
    monkeypatch.setenv("SLURM_JOB_ID", "1")
    monkeypatch.setenv("SLURM_NTASKS", "4")
    assert distributed.cluster_environment() == {"auto": "slurm"}
    monkeypatch.delenv("SLURM_JOB_ID")
    monkeypatch.setenv("GRU_BIF_COORDINATOR_ADDRESS", "host:1234")
    with pytest.raises(ValueError, match="NUM_PROCESSES"):
        distributed.cluster_environment()
    with pytest.raises(ValueError, match="together"):
        distributed.initialize("host:1234")
    with pytest.raises(ValueError, match="process_id=3"):
        distributed.initialize("host:1234", 2, 3)


_TWO = """
import os, sys
import jax
jax.config.update("jax_cpu_collectives_implementation", "gloo")
jax.config.update("jax_enable_x64", True)
import numpy as np
import jax.numpy as jnp
import gru_bif
from gru_bif import distributed

distributed.initialize()
out_path = sys.argv[1]
mesh = distributed.global_mesh()

def diagram(gru):
    br = gru_bif.continuation(gru_bif.Problem.from_gru(gru, "bh[0]"), jnp.zeros(2), -1.0,
                              p_min=-1, p_max=1, ds=0.05, max_steps=200, throw=False)
    return br.special.p, br.special.kind, br.num_points

# the paper's rotation network at five gains: Hopf points where the gain allows
c, s = np.cos(np.pi / 4), np.sin(np.pi / 4)
R = jnp.asarray([[c, -s], [s, c]])
grus = jax.vmap(lambda g: gru_bif.GRU(Uh=g * R, Uz=jnp.zeros((2, 2)), Ur=jnp.zeros((2, 2)),
                                      bz=jnp.zeros(2), br=jnp.zeros(2), bh=jnp.zeros(2)))(
    jnp.asarray([2.5, 3.0, 3.2, 3.5, 5.0]))
p, kind, npts = gru_bif.batched(diagram, mesh=mesh)(grus)
table = gru_bif.census.census(scales=[1.0, 3.0], num_networks=3, mesh=mesh, grid=4,
                              t_end=60.0, window=30.0, samples=16, chunk_size=2,
                              checkpoint_dir=os.path.join(os.path.dirname(out_path), "ck"))
states = gru_bif.attractors.sample_box(jax.random.PRNGKey(1), [-1.0, -1.0], [1.0, 1.0], 48)
att = gru_bif.attractors.find_attractors(gru_bif.GRU(3.0 * jnp.eye(2)), None, states,
                                         mesh=mesh, t_transient=40.0, t_sample=20.0,
                                         n_sample=201, chunk_size=32)
lorenz = gru_bif.Problem(gru_bif.chaos.lorenz_field, gru_bif.chaos.LORENZ_PARAMS, "rho")
cmap = gru_bif.chaos.chaos_map(lorenz, jnp.ones(3), jnp.linspace(10.0, 40.0, 5), mesh=mesh,
                               t_transient=5.0, t_total=20.0)
if jax.process_index() == 0:
    np.savez(out_path, lyap=np.asarray(cmap.exponents), p=np.asarray(p), kind=np.asarray(kind), npts=np.asarray(npts),
             count=table.count, kinds=table.kind_counts, cycle=table.cycle,
             labels=np.asarray(att.labels), fractions=np.asarray(att.fractions),
             n_att=np.asarray(att.count))
print("processes", jax.process_count(), flush=True)
"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_give_the_results_of_one(tmp_path):
    script = tmp_path / "two.py"
    script.write_text(_TWO)
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("GRU_BIF_COORDINATOR", "GRU_BIF_NUM_PROC", "GRU_BIF_PROCESS",
                                 "JAX_COORDINATOR", "SLURM_", "OMPI_"))}
    base.update(PYTHONPATH=str(REPO), XLA_FLAGS="", OPENBLAS_NUM_THREADS="1")
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    r = subprocess.run([sys.executable, str(script), str(tmp_path / "one" / "out.npz")],
                       env=base, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0 and "processes 1" in r.stdout, r.stderr[-3000:]
    port = _free_port()
    env = dict(base, GRU_BIF_COORDINATOR_ADDRESS=f"127.0.0.1:{port}", GRU_BIF_NUM_PROCESSES="2")
    procs = [subprocess.Popen([sys.executable, str(script), str(tmp_path / "two" / "out.npz")],
                              env=dict(env, GRU_BIF_PROCESS_ID=str(i)), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0 and "processes 2" in out, err[-3000:]
    one, two = np.load(tmp_path / "one" / "out.npz"), np.load(tmp_path / "two" / "out.npz")
    for key in one.files:
        if key == "lyap":
            # λ1 on Lorenz's chaotic attractor: the one- and two-process programs are
            # compiled apart (vmap vs shard_map), and chaos amplifies their last-bit
            # differences by up to e^(λ1 t) ≈ 7e7 over t = 20 (seen: 5e-12 relative
            # with XLA's default pipeline, 1e-5 with optimisation level 1, which
            # rounds a few operations differently in the two programs)
            np.testing.assert_allclose(one[key], two[key], rtol=1e-4, err_msg=key)
        else:
            np.testing.assert_array_equal(one[key], two[key], err_msg=key)
    # the diagrams are real: the gain-3 network's Hopf points at ±0.359038459564185
    # (bench_peers' 50-digit reference), and a symmetric pair for gains 3.2 and 3.5
    kinds, p = one["kind"], one["p"]
    np.testing.assert_allclose(np.sort(p[1][kinds[1] == 2]),
                               [-0.359038459564185, 0.359038459564185], atol=1e-12)
    for row in (2, 3):
        hopf = np.sort(p[row][kinds[row] == 2])
        assert hopf.size == 2 and abs(hopf[0] + hopf[1]) < 1e-10, hopf
    # U_h = 3·I: four sinks, one per quadrant of the sampled box
    assert int(one["n_att"]) == 4 and np.all(one["labels"] >= 0)


def test_cli_census_checkpoint_and_process_options(tmp_path, capsys):
    from gru_bif.cli import main

    with pytest.raises(SystemExit, match="together"):
        main(["census", "--coordinator", "127.0.0.1:1", "--num-networks", "2"])
    args = ["census", "--scales", "1", "3", "--num-networks", "3", "--grid", "4",
            "--checkpoint", str(tmp_path / "ck"), "--chunk-size", "4",
            "--out", str(tmp_path / "c.json")]
    assert main(args) == 0
    first = capsys.readouterr()
    assert "chunk 2/2 computed" in first.err and "Census of 3" in first.out
    assert main(args) == 0  # again: every chunk read from the folder, the same table
    second = capsys.readouterr()
    assert "chunk 1/2 read" in second.err and "chunk 2/2 read" in second.err
    assert first.out == second.out
