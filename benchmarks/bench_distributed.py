"""One process against two: the batched entry points under `jax.distributed` on local
CPU processes (gloo collectives on localhost), each process with one CPU device.

Cases (float64):

- `census`: `gru_bif.census.analyse_networks` on N random 2-D GRUs (scale 3, grid 8,
  the default simulation), split over `gru_bif.distributed.global_mesh()`;
- `basins`: `gru_bif.attractors.find_attractors` on N states of the four-sink GRU
  `U_h = 3·I₂` (transient 100, tail 50 time units at 251 samples).

Every run starts fresh processes (1, then 2). Each process times its own calls: *cold*
is the first call (compile + run), *warm* the median of `--repeats` further calls on new
inputs of the same shape; the table gives the slowest process's times (the run ends when
it does), the items per second and the speed-up of two processes over one. The results
of one and two processes are compared and must be equal (`same`).

On a 2-core machine two processes compete for the same cores that one process's XLA
already uses, so the speed-up here says what the runtime costs, not what a cluster gains:
on separate hosts each process has its own cores.

    python benchmarks/bench_distributed.py [--quick] [--sizes 256] [--repeats 2]
        [--out benchmarks/results]

Writes `distributed.json` and `distributed.md`.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402

CASES = ("census", "basins")


def worker(args) -> None:
    import jax

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.config.update("jax_enable_x64", True)
    import numpy as np

    import gru_bif
    from gru_bif import distributed

    distributed.initialize()
    mesh = distributed.global_mesh()
    n = args.n

    if args.case == "census":
        from gru_bif.census import analyse_networks, sample_networks

        def inputs(seed):
            return sample_networks(jax.random.PRNGKey(seed), [3.0], n)

        def run(grus):
            out = analyse_networks(grus, mesh=mesh, grid=8)
            return np.asarray(out.count)
    else:
        import jax.numpy as jnp

        four = gru_bif.GRU(3.0 * jnp.eye(2))

        def inputs(seed):
            return gru_bif.attractors.sample_box(jax.random.PRNGKey(seed), [-1.5, -1.5],
                                                 [1.5, 1.5], n)

        def run(states):
            att = gru_bif.attractors.find_attractors(
                four, None, states, mesh=mesh, t_transient=100.0, t_sample=50.0,
                n_sample=251, chunk_size=n)
            return np.asarray(att.labels)

    t0 = time.perf_counter()
    first = run(inputs(0))
    cold = time.perf_counter() - t0
    warm = []
    for r in range(args.repeats):
        x = inputs(r + 1)
        t0 = time.perf_counter()
        run(x)
        warm.append(time.perf_counter() - t0)
    print(json.dumps({"status": "ok", "process": jax.process_index(),
                      "processes": jax.process_count(), "cold_s": cold,
                      "warm_s": C.median(warm), "result": first.tolist()}), flush=True)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_case(case: str, n: int, procs: int, repeats: int) -> dict:
    script = os.path.abspath(__file__)
    env = C.child_env({"XLA_FLAGS": ""})
    for k in list(env):
        if k.startswith(("GRU_BIF_COORDINATOR", "GRU_BIF_NUM_PROC", "GRU_BIF_PROCESS")):
            env.pop(k)
    if procs > 1:
        env.update(GRU_BIF_COORDINATOR_ADDRESS=f"127.0.0.1:{_port()}",
                   GRU_BIF_NUM_PROCESSES=str(procs))
    cmd = [sys.executable, script, "--worker", "--case", case, "--n", str(n),
           "--repeats", str(repeats)]
    ps = [subprocess.Popen(cmd, env=dict(env, GRU_BIF_PROCESS_ID=str(i)),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
          for i in range(procs)]
    reports = []
    for p in ps:
        try:
            out, err = p.communicate(timeout=1800)
        except subprocess.TimeoutExpired:
            p.kill()
            return {"status": "failed: timed out"}
        lines = [ln for ln in out.splitlines() if ln.startswith("{")]
        if p.returncode != 0 or not lines:
            return {"status": f"failed: {err.strip().splitlines()[-1:]}"}
        reports.append(json.loads(lines[-1]))
    return {"status": "ok", "processes": procs, "n": n,
            "cold_s": max(r["cold_s"] for r in reports),
            "warm_s": max(r["warm_s"] for r in reports),
            "result": reports[0]["result"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--case", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, default=256, help=argparse.SUPPRESS)
    ap.add_argument("--sizes", default="256", help="items per call (comma-separated)")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="64 items, one repeat")
    ap.add_argument("--out", default=str(C.RESULTS))
    args = ap.parse_args()
    if args.worker:
        worker(args)
        return
    sizes = [64] if args.quick else [int(s) for s in args.sizes.split(",")]
    repeats = 1 if args.quick else args.repeats
    meta = C.machine()
    rows = []
    for case in CASES:
        for n in sizes:
            one = run_case(case, n, 1, repeats)
            two = run_case(case, n, 2, repeats)
            row = {"case": case, "n": n, "one": one, "two": two}
            if one["status"] == "ok" and two["status"] == "ok":
                row["same"] = one.pop("result") == two.pop("result")
                row["speedup_warm"] = one["warm_s"] / two["warm_s"]
                row["items_per_s_one"] = n / one["warm_s"]
                row["items_per_s_two"] = n / two["warm_s"]
            rows.append(row)
            print(json.dumps({k: v for k, v in row.items()}, default=str), flush=True)
    meta["load_average_at_end"] = C.load_average()
    md = C.header("One process against two (jax.distributed, local CPU processes)", meta)
    md += ["", "| case | N | 1 process cold | 1 process warm | 2 processes cold | "
           "2 processes warm | items/s (1 → 2) | speed-up | same results |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "speedup_warm" not in r:
            md.append(f"| {r['case']} | {r['n']} | {r['one']['status']} | | "
                      f"{r['two']['status']} | | | | |")
            continue
        md.append(
            f"| {r['case']} | {r['n']} | {C.fmt_time(r['one']['cold_s'])} | "
            f"{C.fmt_time(r['one']['warm_s'])} | {C.fmt_time(r['two']['cold_s'])} | "
            f"{C.fmt_time(r['two']['warm_s'])} | {r['items_per_s_one']:.0f} → "
            f"{r['items_per_s_two']:.0f} | {r['speedup_warm']:.2f}× | "
            f"{'yes' if r['same'] else 'NO'} |")
    C.write(args.out, "distributed", {"machine": meta, "rows": rows}, md)


if __name__ == "__main__":
    main()
