"""Time one bifurcation diagram: the 2-D GRU with U_h = 3·R(π/4), b_h[0] = p ∈ [-1, 1]
(two Hopf points at ±0.359038459564185).

Reports, in one run:
- cold: first call in a fresh process (trace + compile + run), import excluded;
- warm: median of repeated calls with new start values (no recompilation);
- cached: first call in a *new* process that reuses JAX's persistent compilation cache
  written by the first process;
- accuracy of the located Hopf points against the 50-digit reference.

    python benchmarks/bench_diagram.py [--repeats 20] [--float32] [--out benchmarks/results]

Writes `diagram.json` and `diagram.md` under `--out`.
"""

import argparse
import json
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
import time

HOPF_REF = 0.359038459564185

CHILD = r"""
import sys, time, json
t_import = time.perf_counter()
import jax
if not {float32}:
    jax.config.update("jax_enable_x64", True)
if {cache!r}:
    jax.config.update("jax_compilation_cache_dir", {cache!r})
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
import jax.numpy as jnp, numpy as np
import gru_bif
t_import = time.perf_counter() - t_import
th = np.pi / 4
R = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
pr = gru_bif.Problem.from_gru(gru_bif.GRU(3 * R), "bh[0]")
def run(p0):
    b = gru_bif.continuation(pr, jnp.zeros(2), p0, p_min=-1.0, p_max=1.0, ds=0.05, max_steps=200)
    return jax.block_until_ready(b)
t0 = time.perf_counter(); b = run(-1.0); cold = time.perf_counter() - t0
warm = []
for i in range({repeats}):
    t0 = time.perf_counter(); b = run(-1.0 + 1e-3 * (i % 3)); warm.append(time.perf_counter() - t0)
hopf = np.sort(np.asarray(b.special.p)[np.asarray(b.special.kind) == 2])
err = float(np.max(np.abs(hopf - np.array([-{ref}, {ref}])))) if len(hopf) == 2 else float("nan")
print(json.dumps(dict(import_s=t_import, cold_s=cold, warm_s=sorted(warm)[len(warm)//2],
                      warm_min_s=min(warm), points=int(b.num_points), hopf_error=err,
                      n_hopf=len(hopf))))
"""


def child(repeats, float32, cache):
    code = CHILD.format(repeats=repeats, float32=float32, cache=cache or "", ref=HOPF_REF)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={**os.environ, "JAX_PLATFORMS": os.environ.get("JAX_PLATFORMS", "cpu")},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--float32", action="store_true")
    ap.add_argument("--quick", action="store_true", help="3 repeats, no separate no-cache process (CI smoke run)")
    ap.add_argument("--out", default=str(pathlib.Path(__file__).parent / "results"))
    a = ap.parse_args()
    repeats = 3 if a.quick else a.repeats
    with tempfile.TemporaryDirectory() as tmp:
        # run_all --quick shares one cache between all scripts through the environment
        cache = os.environ.get("JAX_COMPILATION_CACHE_DIR") if a.quick else None
        cache = cache or tmp
        first = child(repeats, a.float32, cache)
        second = child(repeats, a.float32, cache)
    # --quick: the first process (which only adds writing the cache) stands in for a
    # process without cache, saving one compilation
    nocache = first if a.quick else child(repeats, a.float32, None)
    import jax

    res = {
        "benchmark": "diagram_gru2d",
        "machine": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "jax": jax.__version__,
        "dtype": "float32" if a.float32 else "float64",
        "date": time.strftime("%Y-%m-%d"),
        "points": first["points"],
        "hopf_error": first["hopf_error"],
        "import_s": first["import_s"],
        "cold_s": nocache["cold_s"],
        "cold_cache_written_s": first["cold_s"],
        "cold_from_cache_s": second["cold_s"],
        "warm_median_s": nocache["warm_s"],
        "warm_min_s": nocache["warm_min_s"],
    }
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "diagram.json").write_text(json.dumps(res, indent=1))
    md = [
        f"# 2-D GRU diagram ({res['dtype']}, {res['cores']} cores, jax {res['jax']}, {res['date']})",
        "",
        "| measure | value |",
        "|---|---|",
        f"| points on the branch | {res['points']} |",
        f"| Hopf location error | {res['hopf_error']:.2e} |",
        f"| import gru_bif (with jax) | {res['import_s']:.2f} s |",
        f"| cold (trace + compile + run) | {res['cold_s']:.2f} s |",
        f"| new process, persistent cache | {res['cold_from_cache_s']:.2f} s |",
        f"| warm, median | {1e3 * res['warm_median_s']:.2f} ms |",
        f"| warm, best | {1e3 * res['warm_min_s']:.2f} ms |",
    ]
    (out / "diagram.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
