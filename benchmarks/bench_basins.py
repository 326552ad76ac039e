"""States per second for basins of attraction: `gru_bif.attractors.find_attractors` on
2-D GRUs, on the CPU, compilation timed apart from the run.

Cases (float64, states drawn uniformly from (−1, 1)² with `sample_box`, the default
settings of `find_attractors`: transient 200, tail 100 time units sampled at 1001 times,
Tsit5 with rtol 1e-8 / atol 1e-10, chunks of 4096 states):

- `fixed_points`: the four-state machine `U_h = 3·I₂` (four sinks, fractions ¼ each by
  symmetry);
- `cycle`: the limit-cycle network `U_h = 3·R(π/6)` (one attracting cycle; its period
  polished by Newton on the return time).

Each case runs with the default settings at every size, and with a lighter tail
(*light*: transient 100, tail 50 time units at 251 samples) at the largest size: the
cost is mostly the tail (saving `n_sample` states inside the adaptive solve).

Each case and size runs in a fresh process: *cold* is the first call (trace + compile +
run), *compile* the backend compilation time JAX reports for it (summed over its
programs), *warm* the median of `--repeats` further calls with new states of the same
shape (no recompilation); *states/s* = N / warm.

    python benchmarks/bench_basins.py [--quick] [--sizes 1024,4096] [--repeats 3]
        [--out benchmarks/results]

Writes `basins.json` and `basins.md`.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402

CASES = ("fixed_points", "cycle")
# find_attractors settings: the defaults, and a lighter tail (periods up to 25)
SETTINGS = {
    "default": {},
    "light": {"t_transient": 100.0, "t_sample": 50.0, "n_sample": 251},
}


def child(args) -> None:
    import jax

    jax.config.update("jax_enable_x64", True)
    compile_s = [0.0]

    def listener(event, duration, **kw):
        if event == "/jax/core/compile/backend_compile_duration":
            compile_s[0] += duration

    jax.monitoring.register_event_duration_secs_listener(listener)
    import math

    import jax.numpy as jnp

    import gru_bif
    from gru_bif.attractors import find_attractors, sample_box

    if args.case == "fixed_points":
        gru = gru_bif.GRU(3.0 * jnp.eye(2))
    else:
        c, s = math.cos(math.pi / 6), math.sin(math.pi / 6)
        gru = gru_bif.GRU(3.0 * jnp.array([[c, -s], [s, c]]))
    n = args.n

    def run(seed):
        X = sample_box(jax.random.PRNGKey(seed), [-1.0, -1.0], [1.0, 1.0], n)
        X.block_until_ready()
        t = time.perf_counter()
        att = find_attractors(gru, None, X, **SETTINGS[args.settings])
        jax.block_until_ready(att)
        return time.perf_counter() - t, att

    cold, att = run(0)
    cold_compile = compile_s[0]
    warm = [run(seed)[0] for seed in range(1, args.repeats + 1)]
    w = C.median(warm)
    print(json.dumps({
        "status": "ok",
        "n": n,
        "cold": cold,
        "compile": cold_compile,
        "warm": w,
        "states_per_second": n / w,
        "attractors": int(att.count),
        "kinds": att.kind_names,
        "fractions": [float(v) for v in att.fractions[: int(att.count)]],
        "unlabelled": float(att.unlabelled_fraction),
        "period": [float(v) for v in att.period[: int(att.count)]],
    }))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one small size, one repeat")
    ap.add_argument("--sizes", default="1024,4096")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=str(C.RESULTS))
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--case", default="fixed_points", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, default=1024, help=argparse.SUPPRESS)
    ap.add_argument("--settings", default="default", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    sizes = [256] if args.quick else [int(s) for s in args.sizes.split(",")]
    if args.quick:
        args.repeats = 1
    meta = C.machine()
    rows = []
    variants = [(c, n, "default") for c in CASES for n in sizes]
    if not args.quick:
        variants += [(c, max(sizes), "light") for c in CASES]
    for case, n, settings in variants:
        t0 = time.perf_counter()
        r = C.run_child(
            [os.path.abspath(__file__), "--child", "1", "--case", case, "--n", str(n),
             "--repeats", str(args.repeats), "--settings", settings],
            env={"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})
        r.update(case=case, n=n, settings=settings)
        rows.append(r)
        print(f"[basins] {case:12s} {settings:8s} N={n:6d} {str(r.get('status'))[:40]:8s} cold "
              f"{C.fmt_time(r.get('cold'))}, warm {C.fmt_time(r.get('warm'))}, "
              f"{r.get('states_per_second', float('nan')):.0f} states/s "
              f"({time.perf_counter() - t0:.1f} s)", flush=True)
    meta["load_average_at_end"] = C.load_average()
    data = {"meta": meta, "rows": rows}
    md = C.header("Basins of attraction: find_attractors on 2-D GRUs (CPU)", meta)
    md += [
        "States uniform in (−1, 1)²; default settings (transient 200, tail 100 at 1001 "
        "samples, Tsit5 rtol 1e-8 / atol 1e-10, chunks of 4096). cold: first call in a "
        "fresh process; compile: XLA backend compilation within it; warm: median of "
        f"{args.repeats} calls with new states. Load at end: "
        f"{meta['load_average_at_end']} (shared machine: timings are noisy).",
        "",
        "Settings *light*: transient 100, tail 50 at 251 samples (periods up to 25).",
        "",
        "| case | settings | N | cold | compile | warm | states/s | attractors | fractions |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r.get("status") != "ok":
            md.append(f"| {r['case']} | {r['settings']} | {r['n']} | {r.get('status')} "
                      "| | | | | |")
            continue
        kinds = ", ".join(r["kinds"])
        fr = ", ".join(f"{v:.3f}" for v in r["fractions"])
        md.append(
            f"| {r['case']} | {r['settings']} | {r['n']} | {C.fmt_time(r['cold'])} | "
            f"{C.fmt_time(r['compile'])} | {C.fmt_time(r['warm'])} | "
            f"{r['states_per_second']:.0f} | {r['attractors']} ({kinds}) | {fr} |")
    C.write(args.out, "basins", data, md)
    print("\n".join(md))


if __name__ == "__main__":
    main()
