"""Period-doubling cascades (`gru_bif.periodic.period_doubling_cascade`): compile time
apart from run time, and the located period doublings against an independent
computation.

Case (float64, in a fresh child process): the Rössler system (a = b = 0.2) in c, from
its period-1 cycle at c = 2.5 (`cycle_from_simulation`, ntst = 30, ncol = 4): `levels`
period doublings (default 3: c ≈ 2.8324, 3.8374, 4.1242; the mesh doubles with the
period, 30 → 60 → 120 intervals, each point refined on the mesh halved once more), each
located by the engine, refined on its defining system, then switched onto the doubled
cycle. Reference: Newton on the period-doubling shooting system
(`φ_T(x0) = x0`, a Poincaré section, `det(M + I) = 0`) with Dopri8 at
rtol = atol = 1e-12 (`tests/pd_reference.py`), from the collocation result.

*compile* is JAX's own trace + lower + XLA compile time of the first call (monitoring
events, summed over its programs); *cold* the whole first call; *warm* the median of
`--repeats` further calls from a start cycle perturbed by 1e-9 (the same shapes: no
recompilation).

    python benchmarks/bench_doubling.py [--quick] [--levels 3] [--repeats 2]
        [--out benchmarks/results]

`--quick`: one level (the first PD point only), one warm repeat, no reference (a smoke
run). Writes `doubling.json` and `doubling.md`.
"""

import argparse
import json
import os
import pathlib
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402

TESTS = pathlib.Path(__file__).resolve().parents[1] / "tests"


def child(levels: int, repeats: int, quick: bool) -> dict:
    import jax

    jax.config.update("jax_enable_x64", True)
    events = {"trace": 0.0, "lower": 0.0, "compile": 0.0, "programs": 0}
    names = {"/jax/core/compile/jaxpr_trace_duration": "trace",
             "/jax/core/compile/jaxpr_to_mlir_module_duration": "lower",
             "/jax/core/compile/backend_compile_duration": "compile"}

    def listener(event, duration, **kw):
        key = names.get(event)
        if key:
            events[key] += duration
            if key == "compile":
                events["programs"] += 1

    jax.monitoring.register_event_duration_secs_listener(listener)
    import jax.numpy as jnp
    import numpy as np

    import gru_bif
    from gru_bif.models import ROSSLER_PARAMS, rossler_field
    from gru_bif.periodic import correct_cycle, cycle_from_simulation, period_doubling_cascade

    problem = gru_bif.Problem(rossler_field, {**ROSSLER_PARAMS, "c": 2.5}, "c")
    cp, u0 = cycle_from_simulation(problem, jnp.array([1.0, 1.0, 0.0]), 300.0,
                                   max_period=20.0, ntst=30)
    u, _, ok = correct_cycle(cp, u0)
    if not bool(ok):
        return {"status": "start cycle did not converge"}
    u = jax.block_until_ready(u)

    def call(i):
        return period_doubling_cascade(cp, u.at[0].add(1e-9 * i), levels=levels,
                                       p_min=2.0, p_max=4.5, ds=0.05)

    before = dict(events)
    t0 = time.perf_counter()
    res = call(0)
    cold = time.perf_counter() - t0
    split = {k: events[k] - before[k] for k in events}
    warm = []
    for i in range(1, repeats + 1):
        t0 = time.perf_counter()
        call(i)
        warm.append(time.perf_counter() - t0)
    row = {"status": "ok" if res.levels == levels else f"stopped: {res.stop_reason}",
           "system": "rossler", "levels": levels, "found": res.levels,
           "ntst": [int(c.ntst) // 2 for c in res.problems],
           "ntst_refined": [int(c.ntst) for c in res.problems],
           "p": [float(v) for v in res.p], "period": [float(v) for v in res.period],
           "delta": [float(v) for v in res.delta],
           "multipliers": [float(v) for v in res.multipliers],
           "cold_s": cold, "compile_s": split["trace"] + split["lower"] + split["compile"],
           "trace_s": split["trace"], "lower_s": split["lower"],
           "xla_compile_s": split["compile"], "programs": split["programs"],
           "warm_s": float(np.median(warm))}
    if not quick:
        sys.path.insert(0, str(TESTS))
        from pd_reference import shooting_period_doubling

        errs, refs = [], []
        for cpk, uk in zip(res.problems, res.points):
            X, T, p = cpk.split(uk)
            _, Ts, ps, r, _ = shooting_period_doubling(
                rossler_field, dict(ROSSLER_PARAMS), "c", X[0], T, p)
            refs.append(ps)
            errs.append(abs(float(p) - ps))
        row.update(reference_p=refs, p_error=errs, max_p_error=max(errs))
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--levels", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--out", default=str(C.RESULTS))
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    levels = 1 if a.quick else a.levels
    repeats = 1 if a.quick else a.repeats
    if a.child:
        print(json.dumps(child(levels, repeats, a.quick)))
        return
    meta = C.machine("float64")
    cmd = [__file__, "--child", "--levels", str(levels), "--repeats", str(repeats)]
    cmd += ["--quick"] if a.quick else []
    r = C.run_child(cmd, timeout=1800)
    print(f"rossler: {r.get('status')} cold {C.fmt_time(r.get('cold_s'))} "
          f"warm {C.fmt_time(r.get('warm_s'))}", flush=True)
    data = {"meta": meta, "quick": a.quick, "rows": {"rossler": r}}
    md = C.header("Period-doubling cascades (`bench_doubling.py`)", meta)
    md += ["| system | levels | ntst per level (refined on) | compile | cold (first call) | warm | "
           "max error vs shooting |", "|---|---|---|---|---|---|---|"]
    if r.get("status") == "ok":
        md.append(f"| Rössler (c) | {r['levels']} | {', '.join(map(str, r['ntst']))} "
                  f"({', '.join(map(str, r['ntst_refined']))}) | "
                  f"{C.fmt_time(r['compile_s'])} | {C.fmt_time(r['cold_s'])} | "
                  f"{C.fmt_time(r['warm_s'])} | {C.fmt_err(r.get('max_p_error'))} |")
        md += ["", "PD points c_k: " + ", ".join(f"{v:.10f}" for v in r["p"])
               + "; Feigenbaum ratios: " + (", ".join(f"{v:.4f}" for v in r["delta"])
                                            or "(none: fewer than 3 levels)") + "."]
    else:
        md.append(f"| Rössler (c) | {r.get('status')} | | | | | |")
    C.write(a.out, "doubling", data, md)
    print("\n".join(md))
    if r.get("status") != "ok":
        sys.exit(1)


if __name__ == "__main__":
    main()
