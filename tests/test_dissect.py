"""gru_bif.dissect: tasks, training, fixed/slow points from trajectories, attractors,
bifurcations in an input channel (located to 1e-9 against an independent Newton on the
fold's defining system) and their weight gradients (against finite differences)."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gru_bif
from gru_bif import dissect as D
from gru_bif.branch import SpecialKind


# --------------------------------------------------------------------------- helpers


@functools.partial(jax.jit, static_argnums=(4,))
def _fold_newton_step(gru, y, c, base, channel):
    d = gru.hidden_size
    f = lambda h, pp: gru(0.0, h, base.at[channel].set(pp))  # noqa: E731

    def G(y):
        xx, pp, vv = y[:d], y[d], y[d + 1:]
        Jv = jax.jvp(lambda h: f(h, pp), (xx,), (vv,))[1]
        return jnp.concatenate([f(xx, pp), Jv, (c @ vv - 1.0)[None]])

    y = y - jnp.linalg.solve(jax.jacfwd(G)(y), G(y))
    return y, jnp.max(jnp.abs(G(y)))


def _independent_fold(gru, x, p, channel, base, iters=12):
    """Newton on [F(x, p); F_x(x, p) v; c·v − 1] written here from scratch (full
    Jacobian by jacfwd, dense solve), started from the continuation's point."""
    f = lambda h: gru(0.0, h, base.at[channel].set(p))  # noqa: E731
    J = jax.jacfwd(f)(jnp.asarray(x))
    c = jnp.linalg.svd(J)[2][-1]
    y = jnp.concatenate([jnp.asarray(x), jnp.asarray([p]), c])
    for _ in range(iters):
        y, res = _fold_newton_step(gru, y, c, base, channel)
    return float(y[gru.hidden_size]), float(res)


@functools.lru_cache(maxsize=None)
def _small_flipflop():
    net, hist = D.train_optax("flipflop", hidden=12, steps=400, batch=32, T=60,
                              learning_rate=1e-2, seed=0, chunk=200,
                              task_kw={"p_pulse": 0.05})
    return net, hist


# --------------------------------------------------------------------------- tasks


def test_flipflop_batch_holds_the_last_pulse():
    x, y = D.flipflop_batch(jax.random.PRNGKey(0), 4, 50, p_pulse=0.1)
    assert x.shape == y.shape == (4, 50, 3)
    x, y = np.asarray(x), np.asarray(y)
    assert np.all(x[:, 0] != 0)  # every channel pulses at step 0
    for n in range(4):
        for c in range(3):
            last = 0.0
            for t in range(50):
                if x[n, t, c] != 0:
                    last = x[n, t, c]
                assert y[n, t, c] == last
    with pytest.raises(ValueError, match="p_pulse"):
        D.flipflop_batch(jax.random.PRNGKey(0), 4, 50, p_pulse=2.0)


def test_sine_batch_frequency_from_level():
    x, y = D.sine_batch(jax.random.PRNGKey(1), 16, 40, p_rest=0.3)
    x, y = np.asarray(x)[..., 0], np.asarray(y)[..., 0]
    assert np.all(x == x[:, :1])
    t = np.arange(1, 41)
    np.testing.assert_allclose(y, np.sin(0.4 * x[:, :1] * t), atol=1e-12)
    rest = x[:, 0] == 0
    assert np.all(y[rest] == 0)


# --------------------------------------------------------------------------- torch


def test_ring_batch_holds_the_last_angle():
    x, y = D.ring_batch(jax.random.PRNGKey(3), 8, 60, p_pulse=0.1)
    x, y = np.asarray(x), np.asarray(y)
    assert x.shape == y.shape == (8, 60, 2)
    np.testing.assert_allclose(np.linalg.norm(y, axis=-1), 1.0, atol=1e-12)
    for i in range(8):
        last = None
        for t in range(60):
            if np.any(x[i, t] != 0):
                last = x[i, t]
            np.testing.assert_array_equal(y[i, t], last)


def test_ring_task_trains_to_an_approximate_ring_attractor():
    """The ring task at d = 32 (optax, about 15 s): the trained network's fixed points
    sit on the readout's unit circle, sinks and saddles alternating — a ring of
    fixed and slow points, not a continuum (the paper's approximate continuous
    attractor)."""
    net, hist = D.train_optax("ring", hidden=32, steps=1500, batch=32, T=80,
                              learning_rate=1e-2)
    losses = np.asarray(hist["losses"])
    assert np.mean(losses[-50:]) < 0.05 * np.mean(losses[:50])
    st = D.trajectory_states(net, jax.random.PRNGKey(1), 1024, n=64, T=100, noise=0.01)
    fps = D.fixed_points(net, st)
    c = int(fps.count)
    fixed = [i for i in range(c) if not bool(fps.slow[i])]
    stable = [i for i in fixed if bool(fps.stable[i])]
    saddles = [i for i in fixed if int(fps.num_unstable[i]) == 1]
    assert len(stable) >= 2 and len(saddles) >= 1
    for i in stable + saddles:
        assert abs(np.linalg.norm(np.asarray(net.readout(fps.x[i]))) - 1) < 0.25


def test_from_torch_reproduces_torch_steps():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    g = torch.nn.GRU(3, 10, batch_first=True).double()
    lin = torch.nn.Linear(10, 3).double()
    net = D.TaskNetwork.from_torch(g, lin, "flipflop", dtype=jnp.float64)
    x, _ = D.flipflop_batch(jax.random.PRNGKey(2), 2, 30, dtype=jnp.float64)
    with torch.no_grad():
        out, _ = g(torch.from_numpy(np.array(x)))
        y_t = lin(out).numpy()
    hs = jax.vmap(net.run)(x)
    np.testing.assert_allclose(np.asarray(hs), out.numpy(), rtol=0, atol=1e-13)
    np.testing.assert_allclose(np.asarray(net.readout(hs)), y_t, rtol=0, atol=1e-13)
    # the ODE's vector field is the discrete step's increment
    h = hs[0, 5]
    np.testing.assert_allclose(net.gru(0.0, h, x[0, 6]), net.gru.step(h, x[0, 6]) - h,
                               atol=1e-15)


def test_train_torch_small_runs():
    pytest.importorskip("torch")
    net, hist = D.train_torch("flipflop", hidden=8, steps=5, batch=4, T=20)
    assert net.gru.hidden_size == 8 and net.gru.reset == "after"
    assert len(hist["losses"]) == 5 and np.all(np.isfinite(hist["losses"]))


# --------------------------------------------------------------------------- pipeline


@pytest.mark.slow
def test_small_flipflop_pipeline_truths():
    """On a small optax-trained net: every reported fixed point has |F| below tol, slow
    points are reported as slow with their speed, and long simulations from the task's
    states end at reported stable points."""
    net, hist = _small_flipflop()
    assert hist["losses"][-20:].mean() < hist["losses"][:20].mean()
    states = D.trajectory_states(net, jax.random.PRNGKey(3), 512, n=32, T=60)
    fps = D.fixed_points(net, states, tol=1e-10)
    c = int(fps.count)
    assert c >= 1 and int(np.sum(np.asarray(fps.stable))) >= 1
    x = np.asarray(fps.x)[:c]
    F = np.asarray(jax.vmap(lambda h: net.gru(0.0, h, fps.input))(jnp.asarray(x)))
    fixed = np.asarray(fps.is_fixed)[:c]
    assert np.all(np.max(np.abs(F[fixed]), axis=1) < 1e-10)
    # slow points: not equilibria, reported with their speed
    slow = ~fixed
    np.testing.assert_allclose(np.asarray(fps.speed)[:c], np.linalg.norm(F, axis=1),
                               rtol=1e-12)
    if slow.any():
        assert np.all(np.asarray(fps.speed)[:c][slow] > 1e-10)
    # unstable-mode counts agree with the kinds
    nu = np.asarray(fps.num_unstable)[:c]
    assert np.all(nu[np.asarray(fps.stable)[:c]] == 0)
    assert np.all(nu[np.asarray(fps.saddles)[:c]] >= 1)
    # discrete map: stable map ⇒ stable ODE (|1+λ|<1 ⇒ Re λ<0)
    assert np.all(np.asarray(fps.num_unstable_map)[:c] >= nu)
    # end states of task sequences, then held without input
    xs, _ = D.flipflop_batch(jax.random.PRNGKey(4), 16, 60)
    ends = jax.vmap(net.run)(xs)[:, -1]
    chk = D.verify_attractors(net, fps, ends, match_tol=1e-5)
    assert chk.all_matched, np.asarray(chk.final_speed)
    assert np.all(np.asarray(chk.final_speed) < 1e-6)
    text = fps.summary()
    assert "starts" in text


@pytest.mark.slow
def test_fold_location_and_gradient_small():
    """The first fold of a memory in input channel 0: the continuation's value agrees
    with an independent Newton on the fold's defining system to 1e-9, and its gradient
    w.r.t. the weights with central finite differences."""
    net, _ = _small_flipflop()
    states = D.trajectory_states(net, jax.random.PRNGKey(3), 512, n=32, T=60)
    fps = D.fixed_points(net, states)
    bifs = D.input_bifurcations(net, fps, 0, (-2.0, 2.0), hopf="off")
    K = np.asarray(bifs.kind)
    rows, sides = np.nonzero(K == int(SpecialKind.FOLD))
    assert len(rows) >= 1, bifs.descriptions
    assert any("lost at u[0]" in s for s in bifs.descriptions)
    r, s = int(rows[0]), int(sides[0])
    p_cont = float(bifs.p[r, s])
    p_ind, res = _independent_fold(net.gru, bifs.x[r, s], p_cont, 0, bifs.base)
    assert res < 1e-12
    assert abs(p_cont - p_ind) <= 1e-9
    # locate_fold (the module's own Newton) agrees too
    _, p_lf, _, res_lf = D.locate_fold(net.gru, bifs.x[r, s], p_cont, 0, u=bifs.base)
    assert abs(p_lf - p_ind) <= 1e-10 and res_lf < 1e-12

    g = D.bifurcation_gradient(net.gru, bifs, r, s)
    assert np.all(np.isfinite(np.asarray(g.Uh)))
    eps = 1e-6
    gU = np.asarray(g.Uh)
    checks = [("bh", (int(np.argmax(np.abs(np.asarray(g.bh)))),)),
              ("Uh", np.unravel_index(int(np.argmax(np.abs(gU))), gU.shape)),
              ("Wz", (0, 0))]
    for name, ij in checks:
        vals = []
        for sgn in (1, -1):
            leaf = getattr(net.gru, name)
            gp = __import__("equinox").tree_at(lambda m: getattr(m, name), net.gru,
                                               leaf.at[ij].add(sgn * eps))
            vals.append(_independent_fold(gp, bifs.x[r, s], p_cont, 0, bifs.base)[0])
        fd = (vals[0] - vals[1]) / (2 * eps)
        an = float(np.asarray(getattr(g, name))[ij])
        assert abs(fd - an) <= 1e-6 * max(1.0, abs(an)), (name, ij, fd, an)


def test_leading_modes_dense_and_arnoldi_agree():
    gru = gru_bif.GRU.random(jax.random.PRNGKey(5), 48, 3, scale=1.2, reset="after")
    x = jnp.zeros(48)
    lam_d, vec_d, ok_d = D.leading_modes(gru, x, k=4, method="dense")
    lam_a, vec_a, ok_a = D.leading_modes(gru, x, k=4, method="arnoldi", krylov_dim=48)
    # a full Krylov space: exact up to rounding
    np.testing.assert_allclose(np.sort_complex(lam_a), np.sort_complex(lam_d), atol=1e-8)
    J = jax.jacfwd(lambda h: gru(0.0, h, jnp.zeros(3)))(x)
    np.testing.assert_allclose(np.asarray(J) @ vec_d, vec_d * lam_d, atol=1e-10)
    with pytest.raises(ValueError, match="method"):
        D.leading_modes(gru, x, method="lanczos")


# --------------------------------------------------------------------------- shipped


@pytest.fixture(scope="module")
def shipped():
    if not D.shipped_path().exists():
        pytest.skip("no shipped flip-flop weights")
    return D.load_shipped()


def _shipped_analysis(net, num, n_seq):
    states = D.trajectory_states(net, jax.random.PRNGKey(0), num, n=64, T=200,
                                 noise=0.02, task_kw={"p_pulse": 0.03})
    fps = D.fixed_points(net, states)
    xs, _ = D.flipflop_batch(jax.random.PRNGKey(7), n_seq, 200, p_pulse=0.03)
    ends = jax.vmap(net.run)(xs)[:, -1]
    chk = D.verify_attractors(net, fps, ends, match_tol=1e-5)
    return fps, chk


def _check_fold(net, bifs, r, s):
    p = float(bifs.p[r, s])
    p_ind, res = _independent_fold(net.gru, bifs.x[r, s], p, 0, bifs.base)
    assert res < 1e-11 and abs(p - p_ind) <= 1e-9, (p, p_ind, res)
    g = D.bifurcation_gradient(net.gru, bifs, r, s)
    gb = np.asarray(g.bh)
    j = int(np.argmax(np.abs(gb)))
    eps = 1e-6
    vals = [_independent_fold(
        __import__("equinox").tree_at(lambda m: m.bh, net.gru, net.gru.bh.at[j].add(e)),
        bifs.x[r, s], p, 0, bifs.base)[0] for e in (eps, -eps)]
    fd = (vals[0] - vals[1]) / (2 * eps)
    assert abs(fd - gb[j]) <= 1e-5 * max(1.0, abs(gb[j])), (fd, gb[j])


def test_shipped_flipflop_d64(shipped):
    """The shipped torch-trained 3-bit flip-flop (d = 64): 8 stable memories with all
    sign patterns, saddles between them (Newton between the memories), every long
    simulation from a task state ends at one of them, and the fold where a memory is
    lost in input channel 0 is located to 1e-9 with its weight gradient."""
    net, rec = shipped
    assert net.gru.hidden_size == 64 and net.gru.reset == "after"
    fps, chk = _shipped_analysis(net, 256, 24)
    st = np.asarray(fps.stable)
    assert int(st.sum()) == 8, fps.summary()
    assert len({lab for lab, s in zip(fps.sign_labels(), st) if s}) == 8
    assert int(np.asarray(fps.saddles).sum()) >= 7, fps.summary()
    c = int(fps.count)
    fixed = np.asarray(fps.is_fixed)[:c]
    assert np.all(np.asarray(fps.speed)[:c][fixed] < 1e-9)
    assert chk.all_matched, np.asarray(chk.reached)
    # a "−" memory of bit 0 is lost when u[0] is raised
    minus = [i for i, lab in enumerate(fps.sign_labels()) if st[i] and lab.startswith("(−")]
    bifs = D.input_bifurcations(net, fps, 0, (-0.5, 0.5), points=minus[:1], hopf="off")
    assert int(bifs.kind[0, 0]) == int(SpecialKind.FOLD), bifs.descriptions
    assert 0 < float(bifs.p[0, 0]) < 0.5
    _check_fold(net, bifs, 0, 0)


@pytest.mark.slow
def test_shipped_flipflop_d64_full(shipped):
    """As above from 2048 trajectory states: the full cube of the 3-bit flip-flop
    (8 memories, 12 saddles with one unstable mode, 6 with two, 1 with three), each
    memory reached by simulations from task states, and the folds of every memory."""
    net, _ = shipped
    fps, chk = _shipped_analysis(net, 2048, 64)
    assert int(np.asarray(fps.stable).sum()) == 8
    sad = np.asarray(fps.saddles)
    nu = np.asarray(fps.num_unstable)
    assert [int(np.sum(sad & (nu == k))) for k in (1, 2, 3)] == [12, 6, 1], fps.summary()
    assert chk.exact(fps), np.asarray(chk.stable_reached)
    # slow points (if any) are not fixed points and drift into a memory
    for i in np.nonzero(np.asarray(fps.slow))[0]:
        assert float(fps.speed[i]) > 1e-8
        assert int(chk.slow_destination[i]) >= 0
    bifs = D.input_bifurcations(net, fps, 0, (-1.5, 1.5), hopf="off")
    rows, sides = np.nonzero(np.asarray(bifs.kind) == int(SpecialKind.FOLD))
    assert len(rows) >= 8, bifs.descriptions
    for r, s in zip(rows[:3], sides[:3]):
        _check_fold(net, bifs, int(r), int(s))


# --------------------------------------------------------------------------- sine


@pytest.mark.slow
def test_sine_generator_hopf_and_cycle_period():
    """A small sine generator (optax, d = 16): at a level inside the trained range its
    one equilibrium is a saddle-focus inside the oscillation; continued in the input it
    has a Hopf point (located, to 1e-9 against the Hopf system's Newton), and the
    continued cycles' period agrees with the period of simulated cycles."""
    net, hist = D.train_optax("sine", hidden=16, steps=1500, batch=32, T=80,
                              learning_rate=1e-2, seed=0, chunk=250)
    assert hist["losses"][-50:].mean() < 1e-2
    x, _ = D.sine_batch(jax.random.PRNGKey(3), 8, 100, u_min=0.6, u_max=0.6001, p_rest=0.0)
    states = jax.vmap(net.run)(x).reshape(-1, 16)
    fps = D.fixed_points(net, states, u=jnp.asarray([0.6]), slow_speed=1e-3)
    idx = np.nonzero(np.asarray(fps.is_fixed))[0]
    bifs = D.input_bifurcations(net, fps, 0, (-0.5, 1.5), points=idx, ds=0.01)
    hop = np.nonzero(np.asarray(bifs.kind) == int(SpecialKind.HOPF))
    assert len(hop[0]) >= 1, bifs.descriptions
    r, s = int(hop[0][0]), int(hop[1][0])
    p_h = float(bifs.p[r, s])
    # the Hopf point solves its defining system: J has eigenvalues ±iω there
    J = jax.jacfwd(lambda h: net.gru(0.0, h, jnp.asarray([p_h])))(bifs.x[r, s])
    lam = np.linalg.eigvals(np.asarray(J))
    om = float(bifs.omega[r, s])
    assert np.min(np.abs(lam - 1j * om)) < 1e-8
    assert np.max(np.abs(net.gru(0.0, bifs.x[r, s], jnp.asarray([p_h])))) < 1e-10
    lo, hi = (p_h - 0.05, p_h + 1e-3) if s == 0 else (p_h - 1e-3, p_h + 0.05)
    view = D.hopf_cycles(net, bifs, r, s, p_min=lo, p_max=hi, max_steps=5)
    assert len(view) >= 3
    i = len(view) - 1
    p_c, T_c = float(view.p[i]), float(view.period[i])
    x_c = np.asarray(view.orbit(i)[1])[0]
    T_s = D.simulated_period(net.gru, jnp.asarray([p_c]), jnp.asarray(x_c),
                             t_end=60 * T_c, t_keep=20 * T_c)
    assert abs(T_s - T_c) < 1e-4 * T_c, (p_c, T_s, T_c)


@pytest.fixture(scope="module")
def shipped_sine():
    if not D.shipped_path("sine_torch_d64").exists():
        pytest.skip("no shipped sine weights")
    return D.load_shipped("sine_torch_d64")


def test_shipped_sine_d64_hopf_and_cycle_period(shipped_sine):
    """The shipped torch-trained sine generator (d = 64): its rest state at u = 0 is a
    stable focus (ODE and map); continued in u it passes a pair of folds and then loses
    stability at a supercritical Hopf point below the trained range (located to 1e-9
    against `locate_hopf`'s Newton on the Hopf system); the cycles born there have the
    period of simulated cycles."""
    net, rec = shipped_sine
    assert net.task == "sine" and net.gru.hidden_size == 64
    assert rec["trainer"].startswith("torch") and rec["final_loss"] < 0.02
    h_rest = net.run(jnp.zeros((600, 1)))[-1]
    fps = D.fixed_points(net, h_rest[None], u=jnp.asarray([0.0]))
    assert int(fps.count) == 1 and bool(fps.stable[0])
    assert int(fps.num_unstable[0]) == 0 and int(fps.num_unstable_map[0]) == 0
    bifs = D.input_bifurcations(net, fps, 0, (-0.05, 0.25), ds=0.02)
    sp = bifs.branches[0][0].special
    hopf = [j for j in range(int(sp.count)) if int(sp.kind[j]) == int(SpecialKind.HOPF)]
    assert hopf, bifs.descriptions
    k = hopf[0]
    p_h, om, l1 = float(sp.p[k]), float(sp.data["omega"][k]), float(sp.data["l1"][k])
    assert 0.15 < p_h < rec["task_kw"]["u_min"]  # below the trained range [0.5, 1]
    assert l1 < 0  # supercritical: stable cycles beyond it
    _, p_n, om_n, _, res = D.locate_hopf(net, sp.x[k], p_h, om, 0, u=bifs.base)
    assert res < 1e-12 and abs(p_n - p_h) < 1e-9 and abs(om_n - om) < 1e-9
    # Floquet multipliers on (at this size they once stalled the compiled loop: the
    # batched interval solves, now one interval at a time)
    view = D.hopf_cycles(net, bifs, 0, 0, p_min=p_h - 1e-3, p_max=p_h + 0.02, ntst=10,
                         detect=False, max_steps=6)
    assert len(view) >= 3
    # just past a supercritical Hopf point the cycles are stable: 63 non-trivial
    # multipliers inside the unit circle
    mu = np.asarray(view.multipliers())[len(view) - 1]
    assert mu.shape == (63,) and np.max(np.abs(mu)) < 1
    i = len(view) - 1
    p_c, T_c = float(view.p[i]), float(view.period[i])
    assert p_c > p_h
    x_c = np.asarray(view.orbit(i)[1])[0]
    T_s = D.simulated_period(net.gru, jnp.asarray([p_c]), jnp.asarray(x_c),
                             t_end=40 * T_c, t_keep=20 * T_c, num=40001)
    assert abs(T_s - T_c) < 1e-6 * T_c, (p_c, T_s, T_c)


def test_shipped_sine_d64_from_torch_module(shipped_sine):
    """A torch.nn.GRU built from the shipped weights converts back to the same GRU, and
    the torch network's own steps (float64) are the library's discrete map; in its
    trained range it oscillates with about the trained period."""
    torch = pytest.importorskip("torch")
    net, rec = shipped_sine
    g = net.gru
    cat = lambda *a: torch.from_numpy(np.concatenate([np.asarray(x) for x in a]))  # noqa: E731
    mod = torch.nn.GRU(1, 64, batch_first=True).double()
    with torch.no_grad():  # torch's gate order r, z, n
        mod.weight_ih_l0.copy_(cat(g.Wr, g.Wz, g.Wh))
        mod.weight_hh_l0.copy_(cat(g.Ur, g.Uz, g.Uh))
        mod.bias_ih_l0.copy_(cat(g.br, g.bz, g.bh))
        mod.bias_hh_l0.copy_(cat(np.zeros(64), np.zeros(64), g.bhh))
    g2 = gru_bif.GRU.from_torch(mod, dtype=jnp.float64)
    for f in ("Wz", "Wr", "Wh", "Uz", "Ur", "Uh", "bz", "br", "bh", "bhh"):
        np.testing.assert_array_equal(np.asarray(getattr(g2, f)), np.asarray(getattr(g, f)))
    u = 0.75
    x = np.full((1, 400, 1), u)
    with torch.no_grad():
        out, _ = mod(torch.from_numpy(x))
    hs = net.run(jnp.asarray(x[0]))
    np.testing.assert_allclose(np.asarray(hs), out.numpy()[0], rtol=0, atol=1e-12)
    y = np.asarray(net.readout(hs))[200:, 0]
    s = y - 0.5 * (y.max() + y.min())
    i = np.nonzero((s[:-1] < 0) & (s[1:] >= 0))[0]
    period = np.diff(i - s[i] / (s[i + 1] - s[i])).mean()
    target = 2 * np.pi / (rec["task_kw"]["omega_gain"] * u)
    assert abs(period - target) < 0.05 * target, (period, target)


def test_cli_dissect_bad_input(tmp_path):
    from gru_bif.cli import main

    with pytest.raises(SystemExit, match="no such file"):
        main(["dissect", str(tmp_path / "none.json")])
    with pytest.raises(SystemExit, match="--task"):
        (tmp_path / "m.pt").write_bytes(b"")
        main(["dissect", str(tmp_path / "m.pt")])
    with pytest.raises(SystemExit, match="--range"):
        main(["dissect", str(tmp_path / "none.json"), "--range", "1", "0"])


@pytest.mark.slow
def test_cli_dissect_shipped_flipflop(tmp_path, capsys):
    """`gru-bif dissect` on the shipped flip-flop: 8 memories, exactly the attractors of
    long simulations, each lost at a fold in u[0] between −0.1 and 0.1."""
    import json

    from gru_bif.cli import main
    from gru_bif.dissect import shipped_path

    out = tmp_path / "d.json"
    assert main(["dissect", str(shipped_path()), "--states", "256", "--range", "-0.1", "0.1",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "the stable points are exactly the attractors reached: True" in printed
    data = json.loads(out.read_text())
    stable = [p for p in data["points"] if p["type"].startswith("stable") and p["fixed"]]
    assert len(stable) == 8 and len({p["signs"] for p in stable}) == 8
    assert len(data["bifurcations"]) == 8 and all("fold" in s for s in data["bifurcations"])
