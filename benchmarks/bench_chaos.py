"""Lyapunov spectra and chaos maps (`gru_bif.chaos`): compile time apart from run time,
and the accuracy against the published Lorenz spectrum.

Cases (float64, each in a fresh child process):

- `spectrum`: the full Lorenz spectrum at σ = 10, ρ = 28, β = 8/3 from (1, 1, 1):
    t_transient = 100, t_total = 1000, dt_reorth = 0.5, fixed Tsit5 steps of 0.01
    (110,000 steps of the 12-dimensional variational system). Error against
    (0.9056, 0, −14.5723) and of the sum against −(σ + 1 + β).
- `lorenz_map`: λ1 over 64 values of ρ ∈ [0, 200] (σ, β classic), one vmapped call
    (`chaos_map`, chunks of 64): t_transient = 100, t_total = 500.
- `rossler_map`: λ1 over 64 values of c ∈ [2, 6] of the Rössler system (a = b = 0.2):
    t_transient = 200, t_total = 1000, dt_reorth = 1, fixed steps of 0.02.

*compile* is JAX's own trace + lower + XLA compile time of the first call (monitoring
events, summed over its programs); *cold* the whole first call; *warm* the median of
`--repeats` further calls with new values (new start state or grid shifted by 1e-6, the
same shapes: no recompilation), with `jax.block_until_ready`.

    python benchmarks/bench_chaos.py [--quick] [--repeats 3] [--float32]
        [--out benchmarks/results]

`--quick`: t_total ÷ 5 and 8 grid points, one warm repeat (a smoke run). Writes
`chaos.json` and `chaos.md`.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402

CASES = ("spectrum", "lorenz_map", "rossler_map")


def child(case: str, repeats: int, quick: bool, float32: bool) -> dict:
    import jax

    if not float32:
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
    from gru_bif.chaos import (
        LORENZ_PARAMS, LORENZ_SPECTRUM, chaos_map, lorenz_field, lyapunov_spectrum)
    from gru_bif.models import ROSSLER_PARAMS, rossler_field

    dtype = jnp.float32 if float32 else jnp.float64
    scale = 5 if quick else 1
    n = 8 if quick else 64
    row = {"case": case, "status": "ok"}
    if case == "spectrum":
        kw = dict(t_transient=100.0 / scale, t_total=1000.0 / scale, dt_reorth=0.5, dt0=0.01)
        args = {k: jnp.asarray(v, dtype) for k, v in LORENZ_PARAMS.items()}

        def call(i):
            return lyapunov_spectrum(lorenz_field, jnp.array([1.0, 1.0, 1.0 + 1e-3 * i], dtype),
                                     args, **kw)

        def summary(s):
            lam = np.asarray(s.exponents, float)
            trace = -(LORENZ_PARAMS["sigma"] + 1 + LORENZ_PARAMS["beta"])
            return {"exponents": lam.tolist(), "error_estimate": np.asarray(s.error).tolist(),
                    "abs_error_vs_published": np.abs(lam - np.array(LORENZ_SPECTRUM)).tolist(),
                    "sum_error": abs(float(s.sum) - trace),
                    "kaplan_yorke": float(s.kaplan_yorke_dimension),
                    "solver_steps": int(s.num_steps)}

        row.update(kw, points=1, system="lorenz")
    else:
        if case == "lorenz_map":
            problem = gru_bif.Problem(
                lorenz_field, {k: jnp.asarray(v, dtype) for k, v in LORENZ_PARAMS.items()},
                "rho")
            grid = jnp.linspace(0.0, 200.0, n, dtype=dtype)
            x0 = jnp.array([1.0, 1.0, 1.0], dtype)
            kw = dict(t_transient=100.0 / scale, t_total=500.0 / scale, dt_reorth=0.5,
                      dt0=0.01)
        else:
            problem = gru_bif.Problem(
                rossler_field, {k: jnp.asarray(v, dtype) for k, v in ROSSLER_PARAMS.items()},
                "c")
            grid = jnp.linspace(2.0, 6.0, n, dtype=dtype)
            x0 = jnp.array([1.0, 1.0, 0.0], dtype)
            kw = dict(t_transient=200.0 / scale, t_total=1000.0 / scale, dt_reorth=1.0,
                      dt0=0.02)

        def call(i):
            return chaos_map(problem, x0, grid + 1e-6 * i, chunk_size=n, **kw)

        def summary(m):
            lam = np.asarray(m.largest, float)
            chaotic = np.asarray(m.chaotic)
            g = np.asarray(grid, float)
            return {"grid": g.tolist(), "lambda1": lam.tolist(),
                    "error": np.asarray(m.error[:, 0], float).tolist(),
                    "chaotic": chaotic.tolist(), "num_chaotic": int(chaotic.sum()),
                    "num_failed": int((~np.asarray(m.successful)).sum()),
                    "max_lambda1": float(np.nanmax(lam)),
                    "argmax": float(g[int(np.nanargmax(lam))])}

        row.update(kw, points=n, system=case.split("_")[0], param=problem.param.label,
                   grid_range=[float(grid[0]), float(grid[-1])])

    before = dict(events)
    t0 = time.perf_counter()
    out = jax.block_until_ready(call(0))
    cold = time.perf_counter() - t0
    split = {k: events[k] - before[k] for k in events}
    warm = []
    for i in range(1, repeats + 1):
        t0 = time.perf_counter()
        jax.block_until_ready(call(i))
        warm.append(time.perf_counter() - t0)
    row.update(
        cold_s=cold,
        compile_s=split["trace"] + split["lower"] + split["compile"],
        trace_s=split["trace"], lower_s=split["lower"], xla_compile_s=split["compile"],
        programs=split["programs"],
        warm_s=float(np.median(warm)),
        warm_per_point_s=float(np.median(warm)) / row["points"],
        **summary(out),
    )
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--float32", action="store_true")
    ap.add_argument("--only", default=",".join(CASES))
    ap.add_argument("--out", default=str(C.RESULTS))
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    repeats = 1 if a.quick else a.repeats
    if a.child:
        print(json.dumps(child(a.child, repeats, a.quick, a.float32)))
        return
    meta = C.machine("float32" if a.float32 else "float64")
    rows = {}
    for case in a.only.split(","):
        cmd = [__file__, "--child", case, "--repeats", str(repeats)]
        cmd += ["--quick"] if a.quick else []
        cmd += ["--float32"] if a.float32 else []
        rows[case] = C.run_child(cmd, timeout=1800)
        print(f"{case}: {rows[case].get('status')} cold {C.fmt_time(rows[case].get('cold_s'))}"
              f" warm {C.fmt_time(rows[case].get('warm_s'))}", flush=True)
    data = {"meta": meta, "quick": a.quick, "cases": rows}
    md = C.header("Lyapunov spectra and chaos maps (`bench_chaos.py`)", meta)
    md += [
        "| case | grid points | t_total | compile | cold (first call) | warm | warm per point |",
        "|---|---|---|---|---|---|---|",
    ]
    for case, r in rows.items():
        if r.get("status") != "ok":
            md.append(f"| {case} | {r.get('status')} | | | | | |")
            continue
        md.append(
            f"| {case} | {r['points']} | {r['t_total']:g} | {C.fmt_time(r['compile_s'])} | "
            f"{C.fmt_time(r['cold_s'])} | {C.fmt_time(r['warm_s'])} | "
            f"{C.fmt_time(r['warm_per_point_s'])} |"
        )
    s = rows.get("spectrum", {})
    if s.get("status") == "ok":
        lam, err = s["exponents"], s["error_estimate"]
        md += [
            "",
            "Lorenz spectrum: " + ", ".join(f"{x:.4f} ± {e:.4f}" for x, e in zip(lam, err))
            + " (published 0.9056, 0, −14.5723); |error| "
            + ", ".join(C.fmt_err(x) for x in s["abs_error_vs_published"])
            + f"; sum − trace {C.fmt_err(s['sum_error'])}; Kaplan–Yorke dimension "
            f"{s['kaplan_yorke']:.4f}.",
        ]
    for case in ("lorenz_map", "rossler_map"):
        r = rows.get(case, {})
        if r.get("status") == "ok":
            md += ["", f"{case}: {r['num_chaotic']} of {r['points']} grid points chaotic "
                   f"({r['param']} ∈ [{r['grid_range'][0]:g}, {r['grid_range'][1]:g}]); "
                   f"largest λ1 = {r['max_lambda1']:.4f} at {r['param']} = {r['argmax']:.4g}; "
                   f"{r['num_failed']} failed."]
    C.write(a.out, "chaos", data, md)
    print("\n".join(md))
    if any(r.get("status") != "ok" for r in rows.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
