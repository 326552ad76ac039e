"""Network size: GRUs of d units, d = 2 … 256 (512, 1024 with `--full`): time per
continuation step, equilibrium finding, memory, and the step time against the dense LU
flop count.

For each d (in its own child process): `GRU.random(key(d), d, scale=1.5)` with reset
"before", zero biases; parameter b_h[0] ∈ [-1, 1].

- Equilibrium finding: `find_equilibria(problem, num_starts=--starts)` at p = -1: the
  first call (cold, with compilation) and the median of warm calls.
- Continuation from the first equilibrium found, ds = 0.05, ds_max = 0.2, max_steps =
  200, through `jax.jit(lambda gru, x0: continuation(...))` so that compilation
  (`lower` + `compile`) is timed apart; per step = warm run time / accepted steps
  (`branch.stats["steps"]`; the location of special points after the loop is included).
  Two variants: `default` (stability and Hopf test on: for d > 12 each is an
  eigen-decomposition per point) and `lean` (`stability=False, hopf="off"`).
- Efficiency: each Newton iteration and each new point costs one Jacobian (d + 1 JVPs)
  and one LU of the (d + 1) × (d + 1) bordered matrix. `LU/step` = (Newton iterations +
  steps) / steps; the LU flop count is (d + 1)³/3 multiply-adds = 2(d + 1)³/3 flops;
  `GFLOP/s` = LU/step × 2(d + 1)³/3 / step time (LU work only, so a lower bound on what the
  machine does); `t_LU` is a measured `jax.scipy.linalg.lu_factor` of that size (inside a
  compiled loop, so without per-call dispatch), and
  `step / LU` = step time / (LU/step × t_LU) says how many times the pure LU cost a step
  takes (1 would be ideal).
- Memory: XLA's `memory_analysis()` of the compiled continuation (temporaries + output)
  and the child's peak resident set size.

    python benchmarks/bench_size.py [--sizes 2,8,32,64,128,256] [--full] [--starts 32]
        [--repeats 3] [--quick] [--out benchmarks/results]

Writes `size.json` and `size.md`.
"""

import argparse
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402

DS, DS_MAX, MAX_STEPS = 0.05, 0.2, 200


def _median(xs):
    return sorted(xs)[len(xs) // 2]


def child(d, starts, repeats, variants):
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import jax.scipy.linalg as jsl
    import numpy as np

    import gru_bif

    out = dict(d=d)
    gru = gru_bif.GRU.random(jax.random.key(d), d, scale=1.5)
    problem = gru_bif.Problem.from_gru(gru, "bh[0]").with_p(-1.0)

    # equilibria
    def find():
        eq = gru_bif.find_equilibria(problem, num_starts=starts, key=jax.random.key(1))
        return jax.block_until_ready(eq)

    t0 = time.perf_counter()
    eq = find()
    out["equilibria_cold_s"] = time.perf_counter() - t0
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        eq = find()
        ts.append(time.perf_counter() - t0)
    out["equilibria_warm_s"] = _median(ts)
    out["equilibria_found"] = int(eq.count)
    out["equilibria_starts"] = starts
    x0 = eq.x[0]

    # dense LU reference, timed inside one compiled loop (no per-call dispatch)
    A = jax.random.normal(jax.random.key(0), (d + 1, d + 1)) + (d + 1) * jnp.eye(d + 1)
    k_lu = max(10, min(2000, int(3e8 / (d + 1) ** 3)))

    @jax.jit
    def lu_loop(A):
        # each LU depends on the previous one (no hoisting); the scalar update is O(d²)
        return jax.lax.fori_loop(
            0, k_lu, lambda i, M: M + 1e-14 * jsl.lu_factor(M)[0][0, 0], A
        )

    jax.block_until_ready(lu_loop(A))
    ts = []
    for _ in range(3):
        t0 = time.perf_counter()
        jax.block_until_ready(lu_loop(A))
        ts.append(time.perf_counter() - t0)
    out["lu_s"] = _median(ts) / k_lu

    for name, kw in variants.items():
        def run(g, x, kw=kw):
            pr = gru_bif.Problem.from_gru(g, "bh[0]")
            b = gru_bif.continuation(pr, x, -1.0, p_min=-1.0, p_max=1.0, ds=DS,
                                     ds_max=DS_MAX, max_steps=MAX_STEPS, throw=False, **kw)
            return b

        g = problem.args["gru"]
        fn = jax.jit(run)
        t0 = time.perf_counter()
        lowered = fn.lower(g, x0)
        t_lower = time.perf_counter() - t0
        t0 = time.perf_counter()
        compiled = lowered.compile()
        t_compile = time.perf_counter() - t0
        ts = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            b = jax.block_until_ready(compiled(g, x0))
            ts.append(time.perf_counter() - t0)
        steps = int(b.stats["steps"])
        newton = int(b.stats["newton_iterations"])
        try:
            ma = compiled.memory_analysis()
            mem = int(ma.temp_size_in_bytes + ma.output_size_in_bytes)
        except Exception:
            mem = None
        t = _median(ts)
        lu_per_step = (newton + steps) / max(steps, 1)
        flops = 2 * (d + 1) ** 3 / 3
        out[name] = dict(
            lower_s=t_lower, compile_s=t_compile, run_s=t, steps=steps,
            attempts=int(b.stats["attempts"]), newton_iterations=newton,
            special=int(b.special.count), result=str(b.result),
            step_s=t / max(steps, 1), lu_per_step=lu_per_step,
            gflops=lu_per_step * flops / (t / max(steps, 1)) / 1e9,
            step_over_lu=(t / max(steps, 1)) / (lu_per_step * out["lu_s"]),
            xla_bytes=mem,
        )
    out["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="2,8,32,64,128,256")
    ap.add_argument("--full", action="store_true", help="add d = 512, 1024")
    ap.add_argument("--starts", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="CI smoke run: d = 2, 4 starts")
    ap.add_argument("--out", default=str(C.RESULTS))
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--variants", default="default,lean", help=argparse.SUPPRESS)
    a = ap.parse_args()
    all_variants = {"default": {}, "lean": dict(stability=False, hopf="off")}
    if a.child is not None:
        v = {k: all_variants[k] for k in a.variants.split(",")}
        print(json.dumps(child(a.child, a.starts, a.repeats, v)))
        return
    sizes = [int(s) for s in a.sizes.split(",")] + ([512, 1024] if a.full else [])
    variants = "default,lean"
    if a.quick:
        sizes, a.starts, a.repeats, variants = [2], 4, 1, "default"
    script = os.path.abspath(__file__)
    meta = C.machine()
    meta.update(sizes=sizes, starts=a.starts, repeats=a.repeats, ds=DS, ds_max=DS_MAX,
                max_steps=MAX_STEPS, quick=a.quick)
    rows = []
    for d in sizes:
        t0 = time.perf_counter()
        r = C.run_child([script, "--child", str(d), "--starts", str(a.starts),
                         "--repeats", str(a.repeats), "--variants", variants], timeout=3600)
        r.setdefault("d", d)
        r.setdefault("status", "ok")
        rows.append(r)
        msg = r["status"] if r["status"] != "ok" else (
            f"step {C.fmt_time(r['default']['step_s'])}, "
            f"equilibria {C.fmt_time(r['equilibria_warm_s'])}")
        print(f"[size] d={d}: {msg} ({time.perf_counter() - t0:.0f} s)", flush=True)
    meta["load_average_at_end"] = C.load_average()
    data = {"benchmark": "size", "meta": meta, "rows": rows}
    md = C.header("Network size: continuation step and equilibrium finding", meta)
    md += [f"Equilibria: `find_equilibria` from {a.starts} random starts. Continuation: "
           "b_h[0] from -1 to 1; per step = run time / accepted steps (location "
           "included). LU/step: LU factorisations per step; GFLOP/s counts only that LU "
           "work (2(d+1)³/3 flops each); step / LU: step time over the same number of "
           "measured standalone LUs.", "",
           "| d | equilibria (warm) | equilibria (cold) | variant | compile | steps | "
           "per step | LU/step | t_LU | GFLOP/s | step / LU | XLA memory | peak RSS |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["status"] != "ok":
            md.append(f"| {r['d']} | {r['status']} |" + " |" * 11)
            continue
        for name in variants.split(","):
            v = r[name]
            mem = f"{v['xla_bytes'] / 2**20:.1f} MiB" if v["xla_bytes"] else "—"
            md.append(
                f"| {r['d']} | {C.fmt_time(r['equilibria_warm_s'])} "
                f"({r['equilibria_found']} found) | {C.fmt_time(r['equilibria_cold_s'])} | "
                f"{name} | {C.fmt_time(v['lower_s'] + v['compile_s'])} | {v['steps']} | "
                f"{C.fmt_time(v['step_s'])} | {v['lu_per_step']:.1f} | "
                f"{C.fmt_time(r['lu_s'])} | {v['gflops']:.3g} | {v['step_over_lu']:.3g} | "
                f"{mem} | {r['peak_rss_bytes'] / 2**20:.0f} MiB |")
    md += ["", "default: stability and Hopf test on; lean: `stability=False, hopf=\"off\"`."]
    C.write(a.out, "size", data, md)
    print("\n".join(md))


if __name__ == "__main__":
    main()
