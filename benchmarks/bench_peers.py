"""One bifurcation diagram, side by side: gru_bif against AUTO (XPPAUT's, via xpplab),
AUTO-07p (via bifpy) and jaxcont, on three problems with known answers.

Problems (each continued from the same start, over the same range, with the same
initial and largest step, ds = 0.02 and ds_max = 0.1):

- `gru`: the 2-D GRU with U_h = 3·R(π/4), U_z = U_r = 0, zero biases but b_h[0] = p,
  p from -1 to 1. Truth: Hopf points at p = ±0.359038459564185 (50-digit reference).
- `cubic`: x' = p + x − x³/3, p from -1 to 1 along the S-shaped branch.
  Truth: folds at p = ±2/3.
- `bruss`: the Brusselator x' = a − (b+1)x + x²y, y' = bx − x²y with a = 1, continued in
  b from 0.5 to 3. Truth: Hopf at b = 1 + a² = 2.

Tools (rows): `gru_bif`; `gru_bif` in a second process that reads JAX's persistent
compilation cache written by a first one; AUTO via `xpplab` (epss=1e-7, epsl=1e-10,
epsu=1e-10); AUTO-07p via `bifpy` (`transpile=True`, same tolerances); `jaxcont`'s public
`continuation()` (events `Fold()`, `Hopf()`, Newton tolerance 1e-10), which builds a new
lambda per call and so recompiles every time; and jaxcont's jitted engine
`pseudo_arclength_scan` called directly (no event detection: timing only).

Every (tool, problem) pair runs in a fresh child process: `cold` is the first call there
(with tracing and compilation for the JAX tools, `.ode` parsing for xpplab, the Fortran
build for bifpy; imports excluded), `warm` the median of `--repeats` further calls.
Ratios are peer time / gru_bif time measured in the same run (> 1: gru_bif faster).

    python benchmarks/bench_peers.py [--repeats 10] [--problems gru,cubic,bruss]
        [--tools gru_bif,gru_bif_cached,xpplab,bifpy,jaxcont,jaxcont_engine]
        [--jaxcont-repeats 2] [--quick] [--out benchmarks/results]

Writes `peers.json` and `peers.md`. A peer that is not installed gets a row saying so.
"""

import argparse
import json
import math
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402

HOPF_GRU = 0.359038459564185
C_GRU = 3 / math.sqrt(2)  # U_h h / 2 with U_h = 3 R(π/4): (C (h1 − h2), C (h1 + h2)) / 2
BRUSS_A = 1.0

PROBLEMS = {
    "gru": dict(
        title="2-D GRU, U_h = 3·R(π/4), p = b_h[0] ∈ [-1, 1]",
        d=2, p0=-1.0, p_end=1.0, x0=[-0.5419000634, -0.9125732794],
        truth=[("hopf", -HOPF_GRU), ("hopf", HOPF_GRU)],
    ),
    "cubic": dict(
        title="cubic fold x' = p + x − x³/3, p ∈ [-1, 1]",
        d=1, p0=-1.0, p_end=1.0, x0=[-2.1038034027],
        truth=[("fold", -2 / 3), ("fold", 2 / 3)],
    ),
    "bruss": dict(
        title=f"Brusselator, a = {BRUSS_A:g}, b ∈ [0.5, 3]",
        d=2, p0=0.5, p_end=3.0, x0=[BRUSS_A, 0.5 / BRUSS_A],
        truth=[("hopf", 1 + BRUSS_A**2)],
    ),
}
DS, DS_MAX, MAX_STEPS = 0.02, 0.1, 200
AUTO_NMX = 1000  # AUTO's step cap (its steps are smaller; the cap is not a cost)
MATCH = 1e-3  # a located point farther than this from the truth counts as missed
TOOLS = ["gru_bif", "gru_bif_cached", "xpplab", "bifpy", "jaxcont", "jaxcont_engine"]
LABELS = {
    "gru_bif": "gru_bif",
    "gru_bif_cached": "gru_bif, 2nd process, persistent cache",
    "xpplab": "AUTO (XPPAUT) via xpplab",
    "bifpy": "AUTO-07p via bifpy (transpile)",
    "jaxcont": "jaxcont continuation()",
    "jaxcont_engine": "jaxcont pseudo_arclength_scan (no events)",
}
PEER_OF = {"xpplab": "xpplab", "bifpy": "bifpy", "jaxcont": "jaxcont",
           "jaxcont_engine": "jaxcont"}


# ----------------------------------------------------------------------------- children
def _time_calls(call, repeats):
    t0 = time.perf_counter()
    out = call()
    cold = time.perf_counter() - t0
    warm = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = call()
        warm.append(time.perf_counter() - t0)
    return out, cold, warm


def _child_gru_bif(name, spec, repeats, cache):
    import jax

    jax.config.update("jax_enable_x64", True)
    if cache:
        jax.config.update("jax_compilation_cache_dir", cache)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    import jax.numpy as jnp
    import numpy as np

    import gru_bif

    t0 = time.perf_counter()
    if name == "gru":
        th = np.pi / 4
        R = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
        pr = gru_bif.Problem.from_gru(gru_bif.GRU(3 * R), "bh[0]")
    elif name == "cubic":
        pr = gru_bif.Problem(_cubic_jax, {"p": spec["p0"]}, "p")
    else:
        pr = gru_bif.Problem(_bruss_jax, {"a": BRUSS_A, "b": spec["p0"]}, "b")
    x0 = jnp.asarray(spec["x0"])
    lo, hi = sorted((spec["p0"], spec["p_end"]))
    setup = time.perf_counter() - t0

    def call():
        b = gru_bif.continuation(
            pr, x0, spec["p0"], p_min=lo, p_max=hi, ds=DS, ds_max=DS_MAX,
            max_steps=MAX_STEPS, throw=False,
        )
        return jax.block_until_ready(b)

    try:  # repeated calls first with the quick programs alone (no warm program)
        gru_bif.set_compile_mode(warm=False)
    except TypeError:  # a version without warm programs
        pass
    b, cold, warm = _time_calls(call, repeats)
    # then the system's warm program (gru_bif._programs.warm: one program with XLA's
    # full pipeline, compiled in the background once repeated calls earn it),
    # forced whatever the machine's load, waited for, and timed
    warm_program = None
    P = getattr(gru_bif, "_programs", None)
    if P is not None and hasattr(P, "warm"):
        gru_bif.set_compile_mode(warm=True)
        P.spare_core = lambda: True
        P.AMORTIZE_S = 0.0  # at once (not after a second of calls)
        call()
        call()
        P.wait()
        _, _, warm_program = _time_calls(call, repeats)
    kinds = {int(gru_bif.SpecialKind.HOPF): "hopf", int(gru_bif.SpecialKind.FOLD): "fold",
             int(gru_bif.SpecialKind.BRANCH_POINT): "branch_point"}
    n = int(b.special.count)
    located = [(kinds.get(int(k), str(int(k))), float(p))
               for k, p in zip(np.asarray(b.special.kind)[:n], np.asarray(b.special.p)[:n])]
    return dict(setup_s=setup, cold_s=cold, warm=warm, warm_program=warm_program,
                points=int(b.num_points), located=located, stop=str(b.result))


def _cubic_jax(t, x, args):
    return args["p"] + x - x**3 / 3


def _bruss_jax(t, x, args):
    import jax.numpy as jnp

    a, b = args["a"], args["b"]
    return jnp.stack([a - (b + 1) * x[0] + x[0] ** 2 * x[1], b * x[0] - x[0] ** 2 * x[1]])


_ODE = {
    "gru": """par p={p0}, c={c}
h1' = (tanh(c*(h1-h2)/2 + p) - h1)/2
h2' = (tanh(c*(h1+h2)/2) - h2)/2
init h1={x0[0]}, h2={x0[1]}
done
""",
    "cubic": """par p={p0}
x' = p + x - x^3/3
init x={x0[0]}
done
""",
    "bruss": """par a={a}, b={p0}
x' = a - (b+1)*x + x^2*y
y' = b*x - x^2*y
init x={x0[0]}, y={x0[1]}
done
""",
}
_XPP_PAR = {"gru": "p", "cubic": "p", "bruss": "b"}
_AUTO_KIND = {"HB": "hopf", "LP": "fold", "BP": "branch_point"}


def _child_xpplab(name, spec, repeats):
    import xpplab

    lo, hi = sorted((spec["p0"], spec["p_end"]))
    text = _ODE[name].format(p0=spec["p0"], c=repr(C_GRU), x0=spec["x0"], a=BRUSS_A)
    init = {f"h{i + 1}" if name == "gru" else "xy"[i]: v for i, v in enumerate(spec["x0"])}
    settings = dict(ds=DS, dsmax=DS_MAX, dsmin=1e-5, nmax=AUTO_NMX, npr=10 * AUTO_NMX,
                    parmin=lo, parmax=hi, epss=1e-7, epsl=1e-10, epsu=1e-10)
    t0 = time.perf_counter()
    m = xpplab.Model.from_text(text)
    setup = time.perf_counter() - t0

    def call():
        m.auto.reset()
        m.set(**{_XPP_PAR[name]: spec["p0"]}, **init)
        return m.auto.equilibria(_XPP_PAR[name], **settings)

    d, cold, warm = _time_calls(call, repeats)
    located = [(_AUTO_KIND[pt.type], float(pt.value)) for pt in d.special()
               if pt.type in _AUTO_KIND]
    return dict(setup_s=setup, cold_s=cold, warm=warm, points=len(d), located=located)


def _bifpy_gru(u, par):
    import numpy as np

    return [(np.tanh(C_GRU * (u[0] - u[1]) / 2 + par[0]) - u[0]) / 2,
            (np.tanh(C_GRU * (u[0] + u[1]) / 2) - u[1]) / 2]


def _bifpy_cubic(u, par):
    return [par[0] + u[0] - u[0] ** 3 / 3]


def _bifpy_bruss(u, par):
    a, b = par[1], par[0]
    return [a - (b + 1) * u[0] + u[0] ** 2 * u[1], b * u[0] - u[0] ** 2 * u[1]]


def _child_bifpy(name, spec, repeats):
    from bifpy import auto

    func = {"gru": _bifpy_gru, "cubic": _bifpy_cubic, "bruss": _bifpy_bruss}[name]
    x0, p0 = spec["x0"], spec["p0"]

    def stpnt(u, par, t):
        for i, v in enumerate(x0):
            u[i] = v
        par[0] = p0
        if name == "bruss":
            par[1] = BRUSS_A

    lo, hi = sorted((spec["p0"], spec["p_end"]))
    settings = dict(
        ips=auto.IPS_EQUILIBRIUM, ndim=spec["d"], npar=2 if name == "bruss" else 1,
        nmx=AUTO_NMX, ilp=1, isp=1, iads=1, itmx=9, itnw=5, nwtn=3, jac=0,
        ds=DS, dsmin=1e-5, dsmax=DS_MAX, rl0=lo, rl1=hi, a0=-1e300, a1=1e300,
        epsl=1e-10, epsu=1e-10, epss=1e-7, npr=10 * AUTO_NMX,
    )

    def call():
        return auto.run(func, stpnt, settings, icu=[1], transpile=True)

    r, cold, warm = _time_calls(call, repeats)
    kinds = {"HOPF_BIFURCATION": "hopf", "FOLD": "fold", "BRANCH_POINT": "branch_point"}
    located, points = [], 0
    for br in r.branches:
        points += len(br.points)
        located += [(kinds[p.point_type.name], float(p.parameters[0]))
                    for p in br.points if p.point_type.name in kinds]
    return dict(setup_s=0.0, cold_s=cold, warm=warm, points=points, located=located)


def _jc_gru(u, p, args=None):
    import jax.numpy as jnp

    return jnp.stack([(jnp.tanh(C_GRU * (u[0] - u[1]) / 2 + p) - u[0]) / 2,
                      (jnp.tanh(C_GRU * (u[0] + u[1]) / 2) - u[1]) / 2])


def _jc_cubic(u, p, args=None):
    return p + u - u**3 / 3


def _jc_bruss(u, p, args=None):
    import jax.numpy as jnp

    a, b = BRUSS_A, p
    return jnp.stack([a - (b + 1) * u[0] + u[0] ** 2 * u[1], b * u[0] - u[0] ** 2 * u[1]])


def _jc_gru2(u, p):
    return _jc_gru(u, p)


def _jc_cubic2(u, p):
    return _jc_cubic(u, p)


def _jc_bruss2(u, p):
    return _jc_bruss(u, p)


def _child_jaxcont(name, spec, repeats, engine):
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    import jaxcont as jc

    x0 = jnp.asarray(spec["x0"])
    if engine:
        from jaxcont.core.scan_continuation import pseudo_arclength_scan

        f2 = {"gru": _jc_gru2, "cubic": _jc_cubic2, "bruss": _jc_bruss2}[name]
        a = [jnp.asarray(v) for v in (spec["p0"], spec["p_end"], DS, 1e-5, DS_MAX, 1e-10)]

        def call():
            r = pseudo_arclength_scan(f2, x0, *a, MAX_STEPS, jnp.asarray(20))
            return jax.block_until_ready(r)

        r, cold, warm = _time_calls(call, repeats)
        return dict(setup_s=0.0, cold_s=cold, warm=warm, points=int(r.n_valid),
                    located=None)
    f = {"gru": _jc_gru, "cubic": _jc_cubic, "bruss": _jc_bruss}[name]
    pr = jc.bif_problem(f, x0, spec["p0"])
    settings = jc.ContinuationPar(ds=DS, ds_max=DS_MAX, ds_min=1e-5, newton_tol=1e-10,
                                  max_steps=MAX_STEPS)
    events = [jc.Fold(), jc.Hopf()] if spec["d"] >= 2 else [jc.Fold()]

    def call():
        r = jc.continuation(pr, p_span=(spec["p0"], spec["p_end"]), settings=settings,
                            events=events)
        jax.block_until_ready(r.branch.params)
        return r

    r, cold, warm = _time_calls(call, repeats)
    located = [(str(e.kind), float(e.p)) for e in r.events
               if str(e.kind) in ("hopf", "fold")]
    return dict(setup_s=0.0, cold_s=cold, warm=warm, points=len(r.branch.params),
                located=located)


def child_main(a):
    spec = PROBLEMS[a.problem]
    if a.child in ("gru_bif", "gru_bif_cached"):
        out = _child_gru_bif(a.problem, spec, a.repeats, a.cache)
    elif a.child == "xpplab":
        out = _child_xpplab(a.problem, spec, a.repeats)
    elif a.child == "bifpy":
        out = _child_bifpy(a.problem, spec, a.repeats)
    else:
        out = _child_jaxcont(a.problem, spec, a.repeats, engine=a.child == "jaxcont_engine")
    print(json.dumps(out))


# ----------------------------------------------------------------------------- parent
def accuracy(located, truth):
    """Per true point: the error of the nearest located point of the same kind; NaN
    (missed) if there is none within `MATCH`."""
    if located is None:
        return None, None, None
    errors = []
    for kind, p in truth:
        e = min((abs(q - p) for k, q in located if k == kind), default=float("inf"))
        errors.append(e if e <= MATCH else float("nan"))
    found = {k: sum(1 for kk, _ in located if kk == k) for k in {k for k, _ in truth}}
    max_err = max(errors) if all(e == e for e in errors) else float("nan")
    return errors, max_err, found


def run_tool(tool, name, repeats, script):
    peer = PEER_OF.get(tool)
    status = C.peer_status(peer) if peer else None
    if status:
        return {"tool": tool, "status": status}
    args = [script, "--child", tool, "--problem", name, "--repeats", str(repeats)]
    if tool == "gru_bif_cached":
        with tempfile.TemporaryDirectory() as cache:
            first = C.run_child(args + ["--cache", cache])
            res = C.run_child(args + ["--cache", cache]) if "status" not in first else first
            if "status" not in res:
                res["cold_cache_written_s"] = first["cold_s"]
    else:
        res = C.run_child(args)
    res["tool"] = tool
    res.setdefault("status", "ok")
    if res["status"] == "ok":
        warm = res.pop("warm")
        res["warm_s"] = C.median(warm)
        res["warm_min_s"] = min(warm) if warm else float("nan")
        res["repeats"] = len(warm)
        wp = res.pop("warm_program", None)
        if wp:
            res["warm_program_s"] = C.median(wp)
        errors, max_err, found = accuracy(res["located"], PROBLEMS[name]["truth"])
        res.update(errors=errors, max_error=max_err, found=found)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--jaxcont-repeats", type=int, default=2,
                    help="warm repeats of jaxcont's public call (each recompiles: 3-15 s)")
    ap.add_argument("--problems", default=",".join(PROBLEMS))
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--quick", action="store_true",
                    help="CI smoke run: GRU only, 2 repeats, no cache row, jaxcont engine only")
    ap.add_argument("--out", default=str(C.RESULTS))
    ap.add_argument("--child", choices=TOOLS, help=argparse.SUPPRESS)
    ap.add_argument("--problem", choices=list(PROBLEMS), help=argparse.SUPPRESS)
    ap.add_argument("--cache", default="", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        return child_main(a)

    problems = a.problems.split(",")
    tools = a.tools.split(",")
    repeats = a.repeats
    skipped = {}
    if a.quick:
        problems, repeats = ["gru"], 2
        for t in ("gru_bif_cached", "jaxcont"):
            if t in tools:
                skipped[t] = "skipped (--quick)"
    script = os.path.abspath(__file__)
    meta = C.machine()
    meta.update(ds=DS, ds_max=DS_MAX, max_steps=MAX_STEPS, repeats=repeats,
                jaxcont_repeats=a.jaxcont_repeats, quick=a.quick)
    results = {}
    for name in problems:
        rows = []
        for tool in tools:
            if tool in skipped:
                rows.append({"tool": tool, "status": skipped[tool]})
                continue
            r = repeats if tool != "jaxcont" else min(repeats, a.jaxcont_repeats)
            t0 = time.perf_counter()
            row = run_tool(tool, name, r, script)
            print(f"[peers] {name:6s} {tool:15s} {row['status'][:60]:12s} "
                  f"cold {C.fmt_time(row.get('cold_s'))}, warm {C.fmt_time(row.get('warm_s'))}, "
                  f"err {C.fmt_err(row.get('max_error'))} ({time.perf_counter() - t0:.1f} s)",
                  flush=True)
            rows.append(row)
        ref = next((r for r in rows if r["tool"] == "gru_bif" and r["status"] == "ok"), None)
        for r in rows:
            if ref and r["status"] == "ok" and r["tool"] != "gru_bif":
                r["warm_ratio"] = r["warm_s"] / ref["warm_s"]
                r["cold_ratio"] = r["cold_s"] / ref["cold_s"]
                if ref.get("warm_program_s"):
                    r["warm_program_ratio"] = r["warm_s"] / ref["warm_program_s"]
        results[name] = {"title": PROBLEMS[name]["title"],
                         "truth": PROBLEMS[name]["truth"], "rows": rows}
    meta["load_average_at_end"] = C.load_average()
    data = {"benchmark": "peers", "meta": meta, "problems": results}
    md = C.header("One diagram, side by side", meta) + [
        "Cold: first call in a fresh process (compile / parse / build included, imports "
        "excluded). Warm: median of repeated calls (gru_bif: with the quick programs of "
        "its first call). Warm program: gru_bif's repeated calls once the system's warm "
        "program (one program, XLA's full pipeline, compiled in the background after a "
        "second call) is ready. Ratio: peer time / gru_bif time (> 1 means gru_bif is "
        "faster). Error: largest |p_found − p_true| over the known points of the "
        "problem.", ""]
    for name, res in results.items():
        md += [f"## {res['title']}", "",
               "| tool | cold | warm (median) | warm program | warm ratio | ratio vs warm "
               "program | cold ratio | points | found | error |",
               "|---|---|---|---|---|---|---|---|---|---|"]
        for r in res["rows"]:
            label = LABELS[r["tool"]]
            if r["status"] != "ok":
                md.append(f"| {label} | {r['status']} | | | | | | | | |")
                continue
            found = ("no events" if r["found"] is None
                     else ", ".join(f"{v} {k}" for k, v in sorted(r["found"].items())))
            md.append(
                f"| {label} | {C.fmt_time(r['cold_s'])} | {C.fmt_time(r['warm_s'])} | "
                f"{C.fmt_time(r['warm_program_s']) if r.get('warm_program_s') else '—'} | "
                f"{C.fmt_ratio(r.get('warm_ratio'))} | "
                f"{C.fmt_ratio(r.get('warm_program_ratio'))} | "
                f"{C.fmt_ratio(r.get('cold_ratio'))} | "
                f"{r['points']} | {found} | {C.fmt_err(r['max_error'])} |")
        md.append("")
    C.write(a.out, "peers", data, md)
    print("\n".join(md))


if __name__ == "__main__":
    main()
