"""Where the first call's time goes: every entry point split into trace / lower /
compile / run, cold in a fresh process, warm, and in a new process with the persistent
compilation cache (and gru_bif's exported programs) written by an earlier one.

Entry points (all float64, 2-D systems, 2 cores):

- `continuation`: the 2-D GRU with `U_h = 3·R(π/4)`, `b_h[0] ∈ [-1, 1]` (Hopf points at
  ±0.359038459564185, located);
- `find_equilibria`: the same GRU at `b_h[0] = 0`, 64 starts;
- `gradient`: `jax.grad` of the located Hopf parameter with respect to every weight;
- `gradient_jit`: the same, `jax.jit(jax.grad(...))` (as in a training step);
- `hopf_curve`: the Hopf curve of that GRU in `(b_h[0], b_h[1])`;
- `cycles`: `continue_cycles` from the Hopf point of the Stuart–Landau oscillator to
  `p = 1` (adaptive mesh, located end);
- `homoclinic`: `locate_homoclinic` on the Bogdanov–Takens normal form at `b2 = −0.5`.

The split comes from JAX's own monitoring events (`jaxpr_trace`, `jaxpr_to_mlir_module`,
`backend_compile`, summed over every program an entry point compiles); *other* is the
rest of the first call (Python work, the run itself). *warm* is the median of repeated
calls with new values (no recompilation).

    python benchmarks/bench_latency.py [--only continuation,cycles] [--repeats 10]
        [--compile-mode auto|fast|optimized|xla] [--out benchmarks/results]

`--compile-mode` runs the children with `GRU_BIF_COMPILE` set so (see
`gru_bif._compile`; default `auto`, the library's default) and writes `latency.*` for
`auto`, `latency_<mode>.*` for the others. Writes `latency.json` and `latency.md`. Each entry point runs in three fresh processes:
no cache; cache written; cache read.
"""

import argparse
import pathlib
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from _common import RESULTS, fmt_time, header, machine, median, run_child, write  # noqa: E402

ENTRIES = ("continuation", "find_equilibria", "gradient", "gradient_jit", "hopf_curve",
           "cycles", "homoclinic")

CHILD_SETUP = r"""
import json, os, sys, time
t_jax = time.perf_counter()
import jax
t_jax = time.perf_counter() - t_jax
jax.config.update("jax_enable_x64", True)
cache = os.environ.get("BENCH_CACHE")
if cache:
    jax.config.update("jax_compilation_cache_dir", os.path.join(cache, "xla"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
events = {"trace": 0.0, "lower": 0.0, "compile": 0.0, "programs": 0}
NAMES = {"/jax/core/compile/jaxpr_trace_duration": "trace",
         "/jax/core/compile/jaxpr_to_mlir_module_duration": "lower",
         "/jax/core/compile/backend_compile_duration": "compile"}
def listener(event, duration, **kw):
    key = NAMES.get(event)
    if key:
        events[key] += duration
        if key == "compile":
            events["programs"] += 1
jax.monitoring.register_event_duration_secs_listener(listener)
t_imp = time.perf_counter()
import jax.numpy as jnp, numpy as np
import gru_bif
t_imp = time.perf_counter() - t_imp
if cache and hasattr(gru_bif, "set_program_cache"):
    gru_bif.set_program_cache(os.path.join(cache, "programs"))
"""

CASES = {
    "continuation": r"""
th = np.pi / 4
R = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
pr = gru_bif.Problem.from_gru(gru_bif.GRU(3 * R), "bh[0]")
def call(i):
    return gru_bif.continuation(pr, jnp.zeros(2), -1.0 + 1e-3 * (i % 3), p_min=-1.0,
                                p_max=1.0, ds=0.05, max_steps=200)
def check(b):
    hopf = np.sort(np.asarray(b.special.p)[np.asarray(b.special.kind) == 2])
    return float(np.max(np.abs(hopf - np.array([-0.359038459564185, 0.359038459564185]))))
""",
    "find_equilibria": r"""
pr = gru_bif.Problem.from_gru(gru_bif.GRU(np.array([[2.0, 0.5], [-0.3, 2.2]])), "bh[0]")
def call(i):
    return gru_bif.find_equilibria(pr, key=jax.random.key(i), num_starts=64)
def check(e):
    return float(len(e.x) - 3)  # three equilibria at b_h[0] = 0
""",
    "gradient": r"""
th = np.pi / 4
R = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
def hopf_p(Uh):
    pr = gru_bif.Problem.from_gru(gru_bif.GRU(Uh), "bh[0]")
    b = gru_bif.continuation(pr, jnp.zeros(2), 0.0, p_min=0.0, p_max=1.0, ds=0.05,
                             max_steps=100, stability=False)
    hopf = b.special.kind == gru_bif.SpecialKind.HOPF
    return jnp.sum(jnp.where(hopf, b.special.p, 0.0))
grad = jax.grad(hopf_p)
def call(i):
    return grad(jnp.asarray(3 * R) * (1 + 1e-4 * (i % 3)))
def check(g):
    return float(np.all(np.isfinite(np.asarray(g))) - 1)
""",
    "hopf_curve": r"""
th = np.pi / 4
R = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
pr = gru_bif.Problem.from_gru(gru_bif.GRU(3 * R), "bh[0]")
eq = gru_bif.continuation(pr, jnp.zeros(2), 0.0, p_min=0.0, p_max=1.0, ds=0.05)
def call(i):
    return gru_bif.hopf_curve(pr, eq, "bh[1]", p_min=-1.0, p_max=1.0, max_steps=100)
def check(c):
    return 0.0
""",
    "cycles": r"""
from gru_bif.periodic import continue_cycles, cycle_from_hopf
from gru_bif.models.normal_forms import hopf_field
problem = gru_bif.Problem(hopf_field, {"p": -0.5, "omega": 1.0, "s": -1.0}, "p")
eq = gru_bif.continuation(problem, jnp.zeros(2), -0.5, p_min=-0.5, p_max=0.5, ds=0.05)
cp, u0 = cycle_from_hopf(problem, eq, dp=1e-3, ntst=20, ncol=4)
def call(i):
    return continue_cycles(cp, u0, p_min=0.0, p_max=1.0 - 1e-3 * (i % 3), max_steps=60)
def check(br):
    t = np.asarray(br.period)[: br.num_points]
    return float(np.max(np.abs(t - 2 * np.pi)))
""",
    "homoclinic": r"""
from gru_bif.homoclinic import homoclinic_from_bt, locate_homoclinic
from gru_bif.models.normal_forms import bogdanov_takens_field
pr = gru_bif.Problem(bogdanov_takens_field, {"b1": 0.0, "b2": 0.0}, "b1")
hp, u0 = homoclinic_from_bt(pr, "b2", (jnp.zeros(2), 0.0, 0.0), eps=0.5 ** 0.5, T=60.0,
                            ntst=60)
u0 = u0.at[-1].set(-0.5)
def call(i):
    return locate_homoclinic(hp, u0.at[-1].set(-0.5 + 1e-4 * (i % 3)))
def check(s):
    # b1 = -(6/25) b2^2 + O(b2^3) near the BT point (closed-form leading term)
    return float(abs(float(s.p1) + 6 / 25 * 0.25) )
""",
}

# the same gradient, jitted as in a training step
CASES["gradient_jit"] = CASES["gradient"].replace("grad = jax.grad(hopf_p)",
                                                  "grad = jax.jit(jax.grad(hopf_p))")
assert CASES["gradient_jit"] != CASES["gradient"]

CHILD_RUN = r"""
t_setup = time.perf_counter()
# the quick programs' warm time first: nothing compiling in the background meanwhile
# (no recompilation after a call, no warm program after the first call)
P = getattr(gru_bif, "_programs", None)
background = P is not None and hasattr(P, "warm")
if background:
    settle, warm_of = P.settle, P.warm
    P.settle = lambda *a: None
before = dict(events)
t0 = time.perf_counter()
out = jax.block_until_ready(call(0))
first = time.perf_counter() - t0
split = {k: events[k] - before[k] for k in ("trace", "lower", "compile", "programs")}
if background:
    P.warm = lambda *a, **k: None
warm = []
for i in range(1, {repeats} + 1):
    t0 = time.perf_counter()
    jax.block_until_ready(call(i))
    warm.append(time.perf_counter() - t0)
# the warm program (gru_bif._programs.warm: repeated calls of a system, compiled in the
# background with XLA's full pipeline): forced to compile whatever the machine's load
# (the heuristic `spare_core` is not what is measured), waited for, then timed
warm_program_s = None
if background:
    P.settle, P.warm = settle, warm_of
    P.spare_core = lambda: True
    P.AMORTIZE_S = 0.0  # at once (not after a second of calls)
    # what the background made: warm programs, and quick programs recompiled
    ready = lambda: (sum(getattr(k[0], "__name__", "") == "_whole_program" for k in P._memory)
                     + getattr(P, "_upgraded", 0))
    before_w = ready()
    P.settle(0.0)  # what the calls so far earned
    jax.block_until_ready(call(0))
    jax.block_until_ready(call(0))  # asked for a second time: compiles in the background
    P.wait()
    if ready() > before_w:
        ws = []
        for i in range(1, {repeats} + 1):
            t0 = time.perf_counter()
            jax.block_until_ready(call(i))
            ws.append(time.perf_counter() - t0)
        warm_program_s = sorted(ws)[len(ws) // 2]
print(json.dumps(dict(import_jax_s=t_jax, import_gru_bif_s=t_imp, first_s=first,
                      trace_s=split["trace"], lower_s=split["lower"],
                      compile_s=split["compile"], programs=split["programs"],
                      warm_s=sorted(warm)[len(warm) // 2], warm_program_s=warm_program_s,
                      check=check(out))))
"""


def child(entry: str, repeats: int, cache: "str | None", mode: str = "auto") -> dict:
    code = CHILD_SETUP + CASES[entry] + CHILD_RUN.replace("{repeats}", str(repeats))
    env = {"BENCH_CACHE": cache} if cache else {"BENCH_CACHE": ""}
    env["GRU_BIF_COMPILE"] = mode
    return run_child(["-c", code], env=env)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=",".join(ENTRIES))
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--quick", action="store_true",
                    help="CI smoke run: continuation and homoclinic only, 2 repeats, no "
                         "cache processes")
    ap.add_argument("--compile-mode", choices=("auto", "fast", "optimized", "xla"),
                    default="auto")
    ap.add_argument("--out", default=str(RESULTS))
    a = ap.parse_args(argv)
    mode = a.compile_mode
    repeats = 2 if a.quick else a.repeats
    entries = a.only.split(",")
    if a.quick and a.only == ",".join(ENTRIES):
        entries = ["continuation", "homoclinic"]
    rows = {}
    for entry in entries:
        cold = child(entry, repeats, None, mode)
        row = {"cold": cold}
        if not a.quick:
            with tempfile.TemporaryDirectory() as tmp:
                row["cache_written"] = child(entry, repeats, tmp, mode)
                row["cache_read"] = child(entry, repeats, tmp, mode)
        rows[entry] = row
        print(entry, {k: v.get("first_s", v.get("status")) for k, v in row.items()},
              flush=True)
    meta = machine()
    title = "Latency: where the first call's time goes" + (
        "" if mode == "auto" else f" (GRU_BIF_COMPILE={mode})")
    md = header(title, meta) + [
        "Seconds of the first call in a fresh process, split by JAX's monitoring events "
        "(summed over every program compiled); *other* = Python work and the run. "
        "`import gru_bif` excludes `import jax`; *overlap*: compilations ran in parallel "
        "(their sum exceeds the first call). *new process, cache*: the first call in a "
        "process that finds the persistent compilation cache and gru_bif's exported "
        "programs written by an earlier process. *warm*: later calls with new values "
        "(the quick programs of the first call); *warm program*: the same once what "
        "gru_bif compiles in the background for repeated calls is ready — the system's "
        "warm program (one program, XLA's full pipeline: `gru_bif._programs.warm`) or "
        "quick programs recompiled at optimisation level 1 (`gru_bif._programs.settle`); "
        "— where an entry point has neither.",
        "",
        "| entry point | import gru_bif | trace | lower | compile | other | first call "
        "| programs | warm | warm program | new process, cache: first call "
        "(trace / compile) | check |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for entry, row in rows.items():
        c = row["cold"]
        if "first_s" not in c:
            md.append(f"| {entry} | {c.get('status')} |" + " |" * 10)
            continue
        other = c["first_s"] - c["trace_s"] - c["lower_s"] - c["compile_s"]
        # negative: compilations overlapped (a location program compiles on the other
        # core while the loop compiles), so their sum exceeds the wall time
        r = row.get("cache_read", {})
        cached = (f"{fmt_time(r['first_s'])} ({fmt_time(r['trace_s'])} / "
                  f"{fmt_time(r['compile_s'])})" if "first_s" in r else
                  r.get("status", "—"))
        md.append(
            f"| {entry} | {fmt_time(c['import_gru_bif_s'])} | {fmt_time(c['trace_s'])} | "
            f"{fmt_time(c['lower_s'])} | {fmt_time(c['compile_s'])} | "
            f"{fmt_time(other) if other >= 0 else 'overlap'} | "
            f"**{fmt_time(c['first_s'])}** | {c['programs']} | {fmt_time(c['warm_s'])} | "
            f"{fmt_time(c['warm_program_s']) if c.get('warm_program_s') else '—'} | "
            f"{cached} | {c['check']:.1e} |"
        )
    import_jax = median([r["cold"]["import_jax_s"] for r in rows.values()
                         if "import_jax_s" in r["cold"]])
    md += ["", f"`import jax` alone: {fmt_time(import_jax)} (median over the processes)."]
    write(a.out, "latency" if mode == "auto" else f"latency_{mode}",
          {"machine": meta, "compile_mode": mode, "entries": rows}, md)
    print("\n".join(md))


if __name__ == "__main__":
    main()
