"""Time a branch of periodic orbits from a Hopf point, cold and warm, by collocation and
by multiple shooting, and check it against the closed form.

Problem: the Hopf normal form `r' = r (p − r²)`, `θ' = 1`, cycles `r = √p` of period
`2π`, started at the Hopf point `p = 0` (`cycle_from_hopf`, dp = 1e-3) and continued to
`p = 1` (collocation: NTST × NCOL mesh; shooting: 4 segments started from the first
collocation cycle, Dopri8, rtol = atol = 1e-12).

Peers, on the same NTST × NCOL mesh (uniform, not adapted: IAD = 0, as gru_bif keeps
its mesh), the same ds = 0.05 and ds_max = 0.2, Newton tolerances EPSL = EPSU = 1e-10
and at most `--steps` + 1 points:

- AUTO (XPPAUT 8) via xpplab: equilibria from p = -0.5 locate the Hopf point, then
  `m.auto.continue_from(hb, "periodic", ...)` (XPPAUT's AUTO "Grab HB → Periodic").
- AUTO-07p via bifpy: an IPS = 1 run locates the Hopf point, then
  `auto.restart(..., ips=IPS_PERIODIC_ORBIT, isw=ISW_HOPF_TO_PERIODIC_ORBIT,
  icu=[1, PERIOD_INDEX], transpile=True)`; every call generates and compiles Fortran.
  bifpy reads AUTO-07p's text output (11 significant digits), so its errors cannot
  fall below ~1e-11.

Both AUTOs start at the Hopf point itself (amplitude 0); gru_bif at p = 0.001. The
equilibrium runs and the Hopf start are excluded from every timing.

- cold: the first periodic-orbit continuation call in a fresh process (gru_bif: trace +
  compile + run; xpplab: the run; bifpy: Fortran generation + build + run; imports
  excluded); warm: the median of `--repeats` further calls (same shapes: no
  recompilation).
- error: the largest |period − 2π| and |max x − √p| over the branch points with
  p ≥ 0.001 (the AUTO Hopf point itself, where max x = 0, is left out: its error is
  only the Hopf location error, amplified by the square root), and the same two errors
  at the end point.
- ratios: peer time / gru_bif collocation time in the same run (> 1: gru_bif faster),
  for the whole call and per continuation step (the tools take different numbers of
  steps to reach p = 1).
- children run with OPENBLAS_NUM_THREADS=1 (see the collocation module's size notes).

    python benchmarks/bench_cycles.py [--quick] [--repeats 5] [--ntst 40] [--ncol 4]
        [--out benchmarks/results]

Writes `cycles.json` and `cycles.md`. A peer that is not installed gets a row saying so.
"""

import argparse
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402


def child(args) -> None:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np

    import gru_bif
    from gru_bif.periodic import (
        CycleBranch,
        cycle_from_hopf,
        shooting_from_collocation,
    )

    def field(t, x, a):
        r2 = x[0] ** 2 + x[1] ** 2
        g = a["p"] - r2
        return jnp.stack([g * x[0] - x[1], x[0] + g * x[1]])

    problem = gru_bif.Problem(field, {"p": -0.5}, "p")
    eq = gru_bif.continuation(problem, jnp.zeros(2), -0.5, p_min=-0.5, p_max=0.5, ds=0.05)
    cp, u0 = cycle_from_hopf(problem, eq, dp=1e-3, ntst=args.ntst, ncol=args.ncol)
    kw = dict(p_min=0.0, p_max=1.0, ds=0.05, ds_max=0.2, max_steps=args.steps,
              direction="forward")

    def run(prob, u):
        br = gru_bif.continuation(prob, u[:-1], u[-1], **kw)
        jax.block_until_ready(br.x)
        return br

    out = {"unknowns": int(cp.size)}
    if args.method == "collocation":
        t0 = time.perf_counter()
        br = run(cp, u0)
        out["cold"] = time.perf_counter() - t0
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            run(cp, u0)
            times.append(time.perf_counter() - t0)
        view = CycleBranch(cp, br)
        t = view.trimmed()
        out["points"] = int(len(t["p"]))
        out["p_end"] = float(t["p"][-1])
        out["period_error"] = float(np.max(np.abs(t["period"] - 2 * math.pi)))
        out["radius_error"] = float(np.max(np.abs(t["x_max"][:, 0] - np.sqrt(t["p"]))))
        out["end_period_error"] = float(abs(t["period"][-1] - 2 * math.pi))
        out["end_radius_error"] = float(abs(t["x_max"][-1, 0] - math.sqrt(t["p"][-1])))
    else:
        from gru_bif.periodic import correct_cycle

        u, _, _ = correct_cycle(cp, u0.at[-1].set(0.05).at[:-2].multiply(math.sqrt(50.0)))
        sp, s0 = shooting_from_collocation(cp, u, segments=4)
        out["unknowns"] = int(sp.size)
        t0 = time.perf_counter()
        br = run(sp, s0)
        out["cold"] = time.perf_counter() - t0
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            run(sp, s0)
            times.append(time.perf_counter() - t0)
        n = int(br.num_points)
        X, T, p = sp.split(jnp.concatenate([br.x[:n], br.p[:n, None]], axis=1))
        out["points"] = n
        out["p_end"] = float(p[-1])
        out["period_error"] = float(jnp.max(jnp.abs(T - 2 * math.pi)))
        out["radius_error"] = float(
            jnp.max(jnp.abs(jnp.linalg.norm(X, axis=-1) - jnp.sqrt(p)[:, None])))
        out["end_period_error"] = float(jnp.abs(T[-1] - 2 * math.pi))
        out["end_radius_error"] = float(
            jnp.max(jnp.abs(jnp.linalg.norm(X[-1], axis=-1) - jnp.sqrt(p[-1]))))
    out["warm"] = C.median(times)
    out["per_step_warm"] = out["warm"] / max(out["points"] - 1, 1)
    out["status"] = "ok"
    print(json.dumps(out))


# ----------------------------------------------------------------------------- AUTO
DS, DS_MAX = 0.05, 0.2  # gru_bif's ds and ds_max above; AUTO's DS and DSMAX
P_MIN_REPORTED = 1e-3  # errors over points with p >= this (gru_bif starts there)


def _errors(p, period, xmax) -> dict:
    """Branch and end-point errors from per-point p, period and max x."""
    import numpy as np

    p, period, xmax = (np.asarray(v, dtype=float) for v in (p, period, xmax))
    keep = p >= P_MIN_REPORTED
    pk, Tk, xk = p[keep], period[keep], xmax[keep]
    return {
        "points": int(len(p)),
        "p_end": float(p[-1]),
        "period_error": float(np.max(np.abs(Tk - 2 * math.pi))),
        "radius_error": float(np.max(np.abs(xk - np.sqrt(pk)))),
        "end_period_error": float(abs(period[-1] - 2 * math.pi)),
        "end_radius_error": float(abs(xmax[-1] - math.sqrt(p[-1]))),
    }


_ODE = """par p=-0.5
x' = (p - x^2 - y^2)*x - y
y' = x + (p - x^2 - y^2)*y
init x=0, y=0
done
"""


def child_xpplab(args) -> None:
    import xpplab

    m = xpplab.Model.from_text(_ODE)
    tol = dict(epss=1e-7, epsl=1e-10, epsu=1e-10, dsmin=1e-5)
    m.set(p=-0.5, x=0.0, y=0.0)
    # ds = 0.03 so that no equilibrium step lands on the Hopf point p = 0 itself
    d = m.auto.equilibria("p", ds=0.03, dsmax=0.07, nmax=200, npr=10**4, parmin=-0.5,
                          parmax=0.5, **tol)
    hb = d.first("HB")
    settings = dict(ntst=args.ntst, ncol=args.ncol, iad=0, ds=DS, dsmax=DS_MAX,
                    nmax=args.steps + 1, npr=10**4, parmin=-1.0, parmax=1.0, **tol)

    def call():
        return m.auto.continue_from(hb, "periodic", **settings)

    t0 = time.perf_counter()
    o = call()
    cold = time.perf_counter() - t0
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        o = call()
        times.append(time.perf_counter() - t0)
    pts = [q for q in o if q.periodic]
    out = {"unknowns": 2 * (args.ntst * args.ncol + 1) + 2, "cold": cold,
           "warm": C.median(times), "hopf_p": float(hb.value)}
    out.update(_errors([q.value for q in pts], [q.period for q in pts],
                       [q.umax["X"] for q in pts]))
    out["per_step_warm"] = out["warm"] / max(out["points"] - 1, 1)
    out["status"] = "ok"
    print(json.dumps(out))


def _bifpy_field(u, par):
    g = par[0] - u[0] ** 2 - u[1] ** 2
    return [g * u[0] - u[1], u[0] + g * u[1]]


def _bifpy_start(u, par, t):
    u[0] = 0.0
    u[1] = 0.0
    par[0] = -0.5


def child_bifpy(args) -> None:
    from bifpy import auto

    eq = dict(ips=auto.IPS_EQUILIBRIUM, ndim=2, npar=1, nmx=200, ilp=1, isp=1, iads=1,
              itmx=9, itnw=5, nwtn=3, jac=0, ds=0.03, dsmin=1e-5, dsmax=0.07,
              rl0=-0.5, rl1=0.5, a0=-1e300, a1=1e300, epsl=1e-10, epsu=1e-10,
              epss=1e-7, npr=10**4)
    r = auto.run(_bifpy_field, _bifpy_start, eq, icu=[1], transpile=True)
    hopf = next(q for b in r.branches for q in b.points
                if q.point_type.name == "HOPF_BIFURCATION")
    po = dict(eq, ips=auto.IPS_PERIODIC_ORBIT, npar=auto.PERIOD_INDEX, ntst=args.ntst,
              ncol=args.ncol, iad=0, ds=DS, dsmax=DS_MAX, rl0=-1.0, rl1=1.0,
              nmx=args.steps + 1)

    def call():
        return auto.restart(_bifpy_field, po, icu=[1, auto.PERIOD_INDEX],
                            restart_point=hopf, isw=auto.ISW_HOPF_TO_PERIODIC_ORBIT,
                            source_ips=auto.IPS_EQUILIBRIUM, transpile=True)

    t0 = time.perf_counter()
    o = call()
    cold = time.perf_counter() - t0
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        o = call()
        times.append(time.perf_counter() - t0)
    pts = [q for b in o.branches for q in b.points]
    out = {"unknowns": 2 * (args.ntst * args.ncol + 1) + 2, "cold": cold,
           "warm": C.median(times), "hopf_p": float(hopf.parameters[0])}
    out.update(_errors([q.parameters[0] for q in pts], [q.parameters[1] for q in pts],
                       [q.state[0] for q in pts]))
    out["per_step_warm"] = out["warm"] / max(out["points"] - 1, 1)
    out["status"] = "ok"
    print(json.dumps(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="fewer repeats and steps, no shooting row (CI smoke run)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--ntst", type=int, default=40)
    ap.add_argument("--ncol", type=int, default=4)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--out", default=str(C.RESULTS))
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--method", default="collocation", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.quick:
        args.repeats, args.steps = 2, 20
    if args.child:
        {"xpplab": child_xpplab, "bifpy": child_bifpy}.get(args.method, child)(args)
        return
    meta = C.machine()
    rows = {}
    for method in ("collocation", "shooting", "xpplab", "bifpy"):
        why = C.peer_status(method) if method in C.PEERS else None
        if args.quick and method == "shooting":
            why = "skipped (--quick: its compilation alone takes most of a minute)"
        if why:
            rows[method] = {"status": why}
            continue
        t0 = time.perf_counter()
        rows[method] = C.run_child(
            [os.path.abspath(__file__), "--child", "1", "--method", method,
             "--repeats", str(args.repeats), "--ntst", str(args.ntst), "--ncol",
             str(args.ncol), "--steps", str(args.steps)],
            # one BLAS thread: on a shared CPU a multithreaded LAPACK LU of the
            # collocation Jacobian can be 50x slower (see gru_bif.periodic.collocation)
            env={"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})
        r = rows[method]
        print(f"[cycles] {method:11s} {str(r.get('status'))[:50]:10s} cold "
              f"{C.fmt_time(r.get('cold'))}, warm {C.fmt_time(r.get('warm'))} "
              f"({time.perf_counter() - t0:.1f} s)", flush=True)
    ref = rows.get("collocation", {})
    for name, r in rows.items():
        if name != "collocation" and r.get("status") == "ok" and ref.get("status") == "ok":
            r["cold_ratio"] = r["cold"] / ref["cold"]
            r["warm_ratio"] = r["warm"] / ref["warm"]
            r["per_step_warm_ratio"] = r["per_step_warm"] / ref["per_step_warm"]
    meta["load_average_at_end"] = C.load_average()
    data = {"meta": meta, "ntst": args.ntst, "ncol": args.ncol, "steps": args.steps,
            "rows": rows}
    md = C.header("Periodic-orbit branch from a Hopf point (Hopf normal form)", meta)
    md += [
        f"Cycles r = √p, period 2π, continued from p = 0.001 to 1 (at most {args.steps} "
        f"steps); collocation NTST = {args.ntst}, NCOL = {args.ncol}; shooting 4 "
        "segments (Dopri8, tol 1e-12). Load at end: "
        f"{meta['load_average_at_end']} (shared machine: timings are noisy).",
        "",
        "Errors: largest over the points with p ≥ 0.001 / at the end point. Ratios: "
        "peer / gru_bif collocation, same run (> 1: gru_bif faster); AUTO unknowns: "
        "mesh values (NTST·NCOL + 1)·d + T + p.",
        "",
        "| method | unknowns | points | p reached | cold | warm | warm / step | "
        "cold ratio | warm ratio | per-step ratio | period error (max / end) | "
        "radius error (max / end) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    labels = {"collocation": "gru_bif collocation", "shooting": "gru_bif shooting",
              "xpplab": "AUTO (XPPAUT) via xpplab", "bifpy": "AUTO-07p via bifpy"}
    for name, r in rows.items():
        if r.get("status") != "ok":
            md.append(f"| {labels[name]} | {r.get('status')} |" + " |" * 10)
            continue
        md.append(
            f"| {labels[name]} | {r['unknowns']} | {r['points']} | {r['p_end']:.3g} | "
            f"{C.fmt_time(r['cold'])} | {C.fmt_time(r['warm'])} | "
            f"{C.fmt_time(r['per_step_warm'])} | {C.fmt_ratio(r.get('cold_ratio'))} | "
            f"{C.fmt_ratio(r.get('warm_ratio'))} | "
            f"{C.fmt_ratio(r.get('per_step_warm_ratio'))} | "
            f"{C.fmt_err(r['period_error'])} / {C.fmt_err(r['end_period_error'])} | "
            f"{C.fmt_err(r['radius_error'])} / {C.fmt_err(r['end_radius_error'])} |")
    C.write(args.out, "cycles", data, md)
    print("\n".join(md))


if __name__ == "__main__":
    main()
