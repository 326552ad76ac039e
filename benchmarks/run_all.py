"""Run every benchmark script and collect their JSON and Markdown in one folder.

    python benchmarks/run_all.py            # the full suite, into benchmarks/results/
                                            # (bench_batch with --shard-map)
    python benchmarks/run_all.py --full     # also the largest sizes (N = 100k, d = 512, 1024)
    python benchmarks/run_all.py --quick    # CI smoke run: tiny sizes, few repeats,
                                            # into benchmarks/results/quick/
    python benchmarks/run_all.py --only peers,batch --out /tmp/bench

Scripts run one after another (so that they do not time each other). In `--quick` mode
the numbers only show that the scripts work: two scripts run at once (`--jobs`), and one
persistent compilation cache (a fresh temporary folder) is shared by the scripts'
processes, so a program compiled by one script is not compiled again by another. Peers that are not installed
get rows saying so; a failing script is reported and the others still run (exit status
1 at the end).
"""

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
SCRIPTS = {
    "diagram": "bench_diagram.py",
    "peers": "bench_peers.py",
    "batch": "bench_batch.py",
    "size": "bench_size.py",
    "gradients": "bench_gradients.py",
    "cycles": "bench_cycles.py",
    "cycle_ends": "bench_cycle_ends.py",
    "homoclinic": "bench_homoclinic.py",
    "curves": "bench_curves.py",
    "latency": "bench_latency.py",
    "chaos": "bench_chaos.py",
    "basins": "bench_basins.py",
    "distributed": "bench_distributed.py",
    "heteroclinic": "bench_heteroclinic.py",
    "dissect": "bench_dissect.py",
    "doubling": "bench_doubling.py",
}
OUTPUTS = {name: name for name in SCRIPTS}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--only", default=",".join(SCRIPTS))
    ap.add_argument("--jobs", type=int, default=0,
                    help="scripts run at once (default 1; 2 with --quick)")
    ap.add_argument("--out", default=None,
                    help="default benchmarks/results (benchmarks/results/quick with --quick)")
    a = ap.parse_args()
    out = a.out or str(HERE / "results" / ("quick" if a.quick else ""))
    names = a.only.split(",")
    if a.quick and a.only == ",".join(SCRIPTS):
        # one process against two starts four JAX processes per case: its quick check
        # is tests/test_distributed.py; ask for it with --only distributed
        names.remove("distributed")
    if a.quick:
        # two at a time: the longest (curves) first, and the diagram script before
        # bench_peers so that its compiled GRU program is in the shared cache by then
        order = ["curves", "diagram", "cycles", "size", "peers", "batch", "gradients",
                 "homoclinic", "heteroclinic", "latency", "chaos", "doubling", "basins",
                 "dissect", "distributed"]
        names = sorted(names, key=lambda n: order.index(n) if n in order else len(order))
    env = {**os.environ, "JAX_PLATFORMS": os.environ.get("JAX_PLATFORMS", "cpu")}
    failed = []
    t_all = time.perf_counter()
    with tempfile.TemporaryDirectory() as cache:
        if a.quick:
            # quick numbers only show that the scripts work: compile with less LLVM
            # optimisation (about a quarter less compile time)
            quick_flags = "--xla_backend_optimization_level=0"
            env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " " + quick_flags).strip()
            env["BENCH_EXTRA_XLA_FLAGS"] = quick_flags
            env["JAX_COMPILATION_CACHE_DIR"] = cache
            env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
            env["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "0"
        jobs = a.jobs or (2 if a.quick else 1)
        procs = []

        def start(name):
            cmd = [sys.executable, str(HERE / SCRIPTS[name]), "--out", out]
            if a.quick:
                cmd.append("--quick")
            if a.full and name in ("batch", "size"):
                cmd.append("--full")
            if name == "batch" and not a.quick:
                cmd.append("--shard-map")
            print(f"== {name}: {' '.join(cmd[1:])}", flush=True)
            log = tempfile.TemporaryFile("w+") if jobs > 1 else None
            p = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT if log else None)
            return name, p, log, time.perf_counter()

        def finish(item):
            name, p, log, t0 = item
            rc = p.wait()
            if log is not None:
                log.seek(0)
                sys.stdout.write(log.read())
                log.close()
            print(f"== {name}: exit {rc} in {time.perf_counter() - t0:.1f} s", flush=True)
            if rc != 0 or not (pathlib.Path(out) / f"{OUTPUTS[name]}.json").exists():
                failed.append(name)

        def finish_one():
            # whichever script ends first (not the oldest): keeps `jobs` scripts busy
            while True:
                for i, item in enumerate(procs):
                    if item[1].poll() is not None:
                        finish(procs.pop(i))
                        return
                time.sleep(0.1)

        for name in names:
            if len(procs) >= jobs:
                finish_one()
            procs.append(start(name))
        while procs:
            finish_one()
    print(f"== all done in {time.perf_counter() - t_all:.1f} s; results in {out}"
          + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
