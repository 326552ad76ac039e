"""Concrete calls run as separate programs (loop, location, data per kind) and give the
branch the single traced program gives; compiled programs are kept on disk across
processes, keyed by a fingerprint of everything that determines them, and a corrupt or
stale file is recompiled, never trusted."""

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
from gru_bif import _programs
from gru_bif.continuation import api

HOPF = 0.359038459564185  # the 2-D GRU with U_h = 3 R(pi/4): Hopf points at b_h[0] = ±HOPF


def _rotation_gru():
    th = np.pi / 4
    R = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    return gru_bif.Problem.from_gru(gru_bif.GRU(3 * R), "bh[0]")


def _cusp_field(t, x, a):
    return jnp.stack([a["p"] + a["q"] * x[0] - x[0] ** 3, -x[1]])


def _fields(branch):
    s = branch.special
    return {
        "x": branch.x, "p": branch.p, "stable": branch.stable, "n_unstable": branch.n_unstable,
        "ds": branch.ds, "newton": branch.newton_iterations, "n": branch.num_points,
        "kind": s.kind, "sp": s.p, "sx": s.x, "index": s.index, "located": s.located,
        "tangent": s.tangent, "count": s.count, **{f"data_{k}": v for k, v in s.data.items()},
        "result": branch.result._value,
    }


@pytest.mark.parametrize("case", ["gru_hopf", "folds_both"])
def test_programs_match_the_single_traced_program(case, monkeypatch):
    if case == "gru_hopf":
        pr, x0, p0, kw = _rotation_gru(), jnp.zeros(2), -1.0, dict(p_min=-1.0, p_max=1.0)
    else:  # an S-shaped branch: two folds, both directions from the middle
        pr = gru_bif.Problem(_cusp_field, {"p": 0.0, "q": 1.0}, "p")
        x0, p0, kw = jnp.zeros(2), 0.0, dict(p_min=-1.0, p_max=1.0, direction="both")
    eager = gru_bif.continuation(pr, x0, p0, ds=0.05, max_steps=200, **kw)
    monkeypatch.setattr(api, "_is_concrete", lambda tree: False)
    traced = gru_bif.continuation(pr, x0, p0, ds=0.05, max_steps=200, **kw)
    a, b = _fields(eager), _fields(traced)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_allclose(np.asarray(a[k]), np.asarray(b[k]), rtol=0, atol=1e-13,
                                   err_msg=k)
    kinds = np.asarray(eager.special.kind)[: int(eager.special.count)]
    if case == "gru_hopf":
        hopf = np.sort(np.asarray(eager.special.p)[: len(kinds)][kinds == gru_bif.SpecialKind.HOPF])
        np.testing.assert_allclose(hopf, [-HOPF, HOPF], atol=1e-14)
    else:  # folds of p = x^3 - x at x = ±1/√3: p = ∓2/(3√3)
        folds = np.sort(np.asarray(eager.special.p)[: len(kinds)][kinds == gru_bif.SpecialKind.FOLD])
        np.testing.assert_allclose(folds, [-2 / (3 * 3**0.5), 2 / (3 * 3**0.5)], atol=1e-12)


def test_fingerprint_sees_code_constants_and_closures():
    def make(c):
        def f(t, x, a):
            return a["p"] - c * x

        return f

    fp = lambda obj: _programs._disk_key("test", obj)  # noqa: E731
    assert fp(make(1.0)) == fp(make(1.0))
    assert fp(make(1.0)) != fp(make(2.0))  # a closure's value is part of the key
    arr = {"w": np.ones(3)}
    assert fp(arr) == fp({"w": np.zeros(3)})  # input arrays: shape and dtype only
    assert fp(arr) != fp({"w": np.ones(4)})

    class Opaque:  # an object the fingerprint cannot see into
        pass

    def g(t, x, a):
        return OPAQUE and x  # noqa: F821 - resolved in the globals below

    g.__globals__["OPAQUE"] = Opaque()
    try:
        assert fp(g) is None  # uncacheable: never looked up on disk
    finally:
        del g.__globals__["OPAQUE"]


SCRIPT = textwrap.dedent(
    """
    import json, sys, warnings
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np
    import gru_bif
    SCALE = {scale}
    def field(t, x, a):
        return jnp.stack([a["p"] + x[0] - SCALE * x[0] ** 3, -x[1]])
    gru_bif.set_program_cache(sys.argv[1])
    compiles = []
    jax.monitoring.register_event_duration_secs_listener(
        lambda e, d, **k: compiles.append(d) if e.endswith("backend_compile_duration") else None)
    pr = gru_bif.Problem(field, {{"p": 0.0}}, "p")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        b = gru_bif.continuation(pr, jnp.zeros(2), 0.0, p_min=-1.0, p_max=1.0, ds=0.05,
                                 max_steps=100, direction="both")
    kinds = np.asarray(b.special.kind)[: int(b.special.count)]
    folds = sorted(np.asarray(b.special.p)[: len(kinds)][kinds == gru_bif.SpecialKind.FOLD].tolist())
    print(json.dumps(dict(folds=folds, big_compiles=sum(d > 0.1 for d in compiles), durations=sorted(compiles)[-6:],
                          warnings=[str(x.message) for x in w])))
    """
)


def _run(tmp_path, cache, scale=1.0):
    script = tmp_path / f"field_{scale}.py"
    script.write_text(SCRIPT.format(scale=scale))
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    out = subprocess.run([sys.executable, str(script), str(cache)], capture_output=True,
                         text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    import json

    return json.loads(out.stdout.strip().splitlines()[-1])


def test_programs_persist_across_processes_and_corrupt_files_are_recompiled(tmp_path):
    cache = tmp_path / "programs"
    exact = 2 / (3 * 3**0.5)  # folds of p = x^3 - x
    first = _run(tmp_path, cache)
    files = sorted(pathlib.Path(cache).glob("*.prog"))
    assert first["big_compiles"] >= 2 and len(files) >= 2
    np.testing.assert_allclose(first["folds"], [-exact, exact], atol=1e-12)

    second = _run(tmp_path, cache)  # a new process: programs loaded, nothing compiled
    assert second["big_compiles"] == 0, second
    assert second["folds"] == first["folds"]

    # another constant in the user's code: another program, not the stored one
    other = _run(tmp_path, cache, scale=2.0)
    assert other["big_compiles"] >= 1
    np.testing.assert_allclose(other["folds"], [-exact / 2**0.5, exact / 2**0.5], atol=1e-12)

    for f in files:  # corrupt every stored program: each is recompiled, with a warning
        data = bytearray(f.read_bytes())
        data[-100:] = b"\0" * 100
        f.write_bytes(bytes(data))
    third = _run(tmp_path, cache)
    assert third["folds"] == first["folds"]
    assert third["big_compiles"] >= 2
    assert any("recompiling a cached program" in w for w in third["warnings"])


def test_location_and_data_programs_are_shared_across_branches():
    # a second branch of the same system with another max_steps, range and direction
    # compiles only its loop: location and per-kind data programs are reused
    pr = gru_bif.Problem(_cusp_field, {"p": 0.0, "q": 1.0}, "p")
    gru_bif.continuation(pr, jnp.zeros(2), 0.0, p_min=-1.0, p_max=1.0, ds=0.05,
                         max_steps=150, direction="both")
    names = []

    def spy(fn, leaves, dyn_def, stat, name, background=False, small=None, **kw):
        key = _programs._memory_key(fn, leaves, dyn_def, stat,
                                    _programs._options_of(leaves, small))
        if key not in _programs._memory and key not in _programs._pending:
            names.append(fn.__name__)
        return original(fn, leaves, dyn_def, stat, name, background, small, **kw)

    original = _programs._program
    _programs._program = spy
    try:
        b = gru_bif.continuation(pr, jnp.zeros(2), 0.0, p_min=-0.9, p_max=0.8, ds=0.04,
                                 max_steps=120)
    finally:
        _programs._program = original
    kinds = np.asarray(b.special.kind)[: int(b.special.count)]
    assert list(kinds) == [gru_bif.SpecialKind.FOLD]  # the upper fold, located again
    assert names == ["_loop_program"], names


def test_a_system_called_again_runs_as_one_warm_program(monkeypatch):
    """The second call of a system compiles its warm program in the background
    (`gru_bif._programs.warm`); once ready, calls with new parameter values run it —
    no quick program is called — with the same results as the quick programs (1e-13)
    and the folds of p = x³ − q x at p = ∓2q/3·√(q/3); mode "fast" has none."""
    from gru_bif import _compile

    monkeypatch.setattr(_programs, "spare_core", lambda: True)
    monkeypatch.setattr(_programs, "AMORTIZE_S", 0.0)  # at once, not after 1 s of calls
    assert _compile.warm_options() is None  # the suite turns them off (conftest)
    monkeypatch.setattr(_compile, "_warm", _compile._warm)  # restored after the test
    gru_bif.set_compile_mode(warm=True)
    kw = dict(p_min=-1.0, p_max=1.0, ds=0.05, max_steps=200)

    def run(q):
        pr = gru_bif.Problem(_cusp_field, {"p": -1.0, "q": q}, "p")
        return gru_bif.continuation(pr, jnp.array([1.2, 0.0]), -1.0, **kw)

    quick = run(1.0)
    run(1.2)  # called again: the warm program compiles in the background
    _programs.wait()

    def refuse(*a, **k):
        raise AssertionError("a quick program ran instead of the warm one")

    with monkeypatch.context() as m:
        m.setattr(_programs, "compiled", refuse)
        warm, warm_q = run(1.0), run(1.5)
    a, b = _fields(quick), _fields(warm)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_allclose(np.asarray(a[k]), np.asarray(b[k]), rtol=0, atol=1e-13,
                                   err_msg=k)
    kinds = np.asarray(warm_q.special.kind)[: int(warm_q.special.count)]
    folds = np.sort(np.asarray(warm_q.special.p)[: len(kinds)][kinds == gru_bif.SpecialKind.FOLD])
    exact = 2 * 1.5 / 3 * (1.5 / 3) ** 0.5
    np.testing.assert_allclose(folds, [-exact, exact], atol=1e-13)
    try:
        gru_bif.set_compile_mode("fast")
        assert _compile.warm_options() is None
    finally:
        gru_bif.set_compile_mode("auto")
    assert _compile.warm_options() == ()
    gru_bif.set_compile_mode(warm=False)
    assert _compile.warm_options() is None


def _tiered(x, n):
    # a small program: a loop of tiny operations (module level: keyed by identity)
    return jax.lax.fori_loop(0, n, lambda i, y: jnp.sin(y) + 0.1 * i, x)


def test_quick_programs_that_ran_twice_are_recompiled_after_the_call(monkeypatch):
    """Tiered compilation (`gru_bif._programs.settle`): a program compiled with the
    quickest pipeline keeps its lowered module; once it has run twice, `settle` (called
    as entry points return) recompiles it at optimisation level 1 in the background and
    swaps the executable in — same results; nothing before it has run twice, nothing in
    mode "fast" or with warm programs off."""
    from gru_bif import _compile

    if jax.default_backend() != "cpu":
        pytest.skip("compile options are CPU-only")
    monkeypatch.setattr(_compile, "_warm", True)
    monkeypatch.setattr(_programs, "spare_core", lambda: True)
    monkeypatch.setattr(_programs, "AMORTIZE_S", 0.0)  # at once, not after 1 s of calls
    x = np.linspace(0.0, 1.0, 5)
    first = _programs.compiled(_tiered, x, 7, small=True)
    leaves, dyn_def, stat = _programs._split((x, 7))
    key = _programs._memory_key(_tiered, leaves, dyn_def, stat,
                                _programs._options_of(leaves, True))
    program = _programs._memory[key]
    assert program.lowered is not None
    assert program.upgrade == tuple(_compile.compile_options(False).items())
    quick = program.executable
    done = _programs._upgraded
    _programs.settle(0.0)
    _programs.wait()
    assert program.executable is quick  # ran in one call only: not yet
    second = _programs.compiled(_tiered, x + 1.0, 7, small=True)
    _programs.settle(0.0)
    _programs.wait()
    assert _programs._upgraded == done + 1
    assert program.executable is not quick and program.lowered is None
    third = _programs.compiled(_tiered, x + 1.0, 7, small=True)
    np.testing.assert_allclose(np.asarray(third), np.asarray(second), rtol=1e-14, atol=0)
    ref = x
    for i in range(7):
        ref = np.sin(ref) + 0.1 * i
    np.testing.assert_allclose(np.asarray(first), ref, rtol=1e-14, atol=0)
    assert _compile.upgrade_options(tuple(_compile.compile_options(True).items())) is not None
    try:
        gru_bif.set_compile_mode("fast")
        assert _compile.upgrade_options(tuple(_compile.compile_options(True).items())) is None
    finally:
        gru_bif.set_compile_mode("auto")
    gru_bif.set_compile_mode(warm=False)
    assert _compile.upgrade_options(tuple(_compile.compile_options(True).items())) is None
    assert isinstance(_programs._idle_cores(), (float, type(None)))


def test_compile_modes_give_the_same_points_and_are_validated():
    """gru_bif compiles its programs with per-program XLA options (`gru_bif._compile`):
    every mode finds the same folds (p = x − x³ has them at ±2/(3√3)); a bad mode is
    refused with the list of modes; nested use under a user's jit carries no options."""
    from gru_bif import _compile

    exact = 2 / (3 * 3**0.5)

    def field(t, x, a):
        return jnp.stack([a["p"] + x[0] - x[0] ** 3, -x[1]])

    pr = gru_bif.Problem(field, {"p": 0.0}, "p")
    folds = {}
    try:
        for mode in ("auto", "fast", "optimized", "xla"):
            gru_bif.set_compile_mode(mode)
            assert gru_bif.compile_mode() == mode
            if jax.default_backend() == "cpu":
                # (small programs, others): level 0 is the quickest pipeline
                levels = {"auto": (0, 1), "fast": (0, 0), "optimized": (1, 1),
                          "xla": (None, None)}[mode]
                got = tuple(_compile.compile_options(small).get(
                    "xla_backend_optimization_level") for small in (True, False))
                assert got == levels
            b = gru_bif.continuation(pr, jnp.zeros(2), 0.0, p_min=-1.0, p_max=1.0,
                                     ds=0.05, max_steps=100, direction="both")
            k = np.asarray(b.special.kind)[: int(b.special.count)]
            folds[mode] = np.sort(np.asarray(b.special.p)[: len(k)][k == gru_bif.SpecialKind.FOLD])
            np.testing.assert_allclose(folds[mode], [-exact, exact], atol=1e-14)
        # a jitted gru_bif function inside a user's jit: no options on the nested call
        from gru_bif import _linalg

        f = jax.jit(lambda A, b: _linalg.solve(A, b))
        np.testing.assert_allclose(f(jnp.eye(3) * 2.0, jnp.ones(3)), 0.5 * np.ones(3))
    finally:
        gru_bif.set_compile_mode("auto")
    with pytest.raises(ValueError, match="auto, fast, optimized, xla"):
        gru_bif.set_compile_mode("quick")
