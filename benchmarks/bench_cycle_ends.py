"""A cycle branch to its homoclinic end, side by side with AUTO: AUTO's own demo `ab`.

Problem: `x' = −x + D(1−x)e^y`, `y' = −y + D·B(1−x)e^y − β y`, `B = 14`, `β = 2`. The
branch of cycles born at the Hopf point `D = 0.1309` grows in period and ends at a
saddle homoclinic orbit near `D = 0.10551`. Truth: the homoclinic `D` by shooting along
the saddle's manifolds and bisection (`tests/homoclinic_reference.py`, diffrax, not
gru_bif), computed in the parent process.

- gru_bif: `continue_cycles` with its defaults (mesh moved every 5 steps, `ntst` 40
  doubled up to 160 where the relative error tolerance 1e-5 needs it, integral-norm
  steps, the homoclinic orbit located at the end), started by `cycle_from_hopf`
  (dp = −1.5e-4).
- AUTO (XPPAUT 8) via xpplab: `continue_from(HB, "periodic")` with adaptive mesh
  (IAD = 3), NTST = 40, NCOL = 4, ds = 0.002, dsmax = 0.05, EPSL = EPSU = 1e-7, at most
  `--auto-steps` points. AUTO does not locate the homoclinic orbit: its "end" is the
  cycle of largest period.

Columns: steps, cold (first call in a fresh process: gru_bif's compile included,
imports and the equilibrium run excluded), warm (median of `--repeats` further calls),
period reached, the parameter at the end and its error against the shooting truth.

    python benchmarks/bench_cycle_ends.py [--quick] [--repeats 3] [--out benchmarks/results]

Writes `cycle_ends.json` and `cycle_ends.md`.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402

_ODE = """par D=0, B=14, beta=2
x' = -x + D*(1-x)*exp(y)
y' = -y + D*B*(1-x)*exp(y) - beta*y
init x=0, y=0
done
"""


def child_gru_bif(args) -> None:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np

    import gru_bif
    from gru_bif.periodic import continue_cycles, cycle_from_hopf

    def field(t, x, a):
        e = jnp.exp(x[1])
        return jnp.array([-x[0] + a["D"] * (1 - x[0]) * e,
                          -x[1] + a["D"] * a["B"] * (1 - x[0]) * e - a["beta"] * x[1]])

    pr = gru_bif.Problem(field, {"D": 0.0, "B": 14.0, "beta": 2.0}, "D")
    eq = gru_bif.continuation(pr, jnp.zeros(2), 0.0, p_min=0, p_max=0.15, ds=0.01,
                              max_steps=1000)
    k = [i for i, s in enumerate(eq.special.to_list()) if s["kind"] == "hopf"][0]
    cp, u0 = cycle_from_hopf(pr, eq, k, dp=-1.5e-4)

    def call():
        return continue_cycles(cp, u0, p_min=0.0, p_max=0.15)

    t0 = time.perf_counter()
    view = call()
    cold = time.perf_counter() - t0
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        view = call()
        times.append(time.perf_counter() - t0)
    n = len(view)
    per = np.asarray(view.period[:n])
    end = view.end
    print(json.dumps({
        "status": "ok", "steps": n - 1, "cold": cold, "warm": C.median(times) if times else None,
        "period_reached": float(np.max(per)), "p_last_cycle": float(view.p[n - 1]),
        "p_end": float(end.p) if end is not None else None,
        "end_kind": end.kind if end is not None else None,
        "located": bool(end is not None and end.located),
        "ntst_final": int(view.problem.ntst),
        "max_rel_error": float(np.nanmax(np.asarray(view.errors[:n]))),
        "special_points": int(view.special.count),
    }))


def child_xpplab(args) -> None:
    import xpplab

    m = xpplab.Model.from_text(_ODE)
    tol = dict(epss=1e-7, epsl=1e-7, epsu=1e-7, dsmin=1e-5)
    d = m.auto.equilibria("D", ds=0.01, dsmax=0.1, nmax=2000, npr=10**4, parmin=0.0,
                          parmax=0.15, **tol)
    hb = d.first("HB")
    settings = dict(ntst=40, ncol=4, iad=3, ds=0.002, dsmax=0.05, nmax=args.auto_steps,
                    npr=10**4, parmin=0.0, parmax=0.15, **tol)

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
    per = [q.period for q in pts]
    i = max(range(len(per)), key=lambda k: per[k])
    lp = [q for q in o if getattr(q, "type", "") == "LP"]
    print(json.dumps({
        "status": "ok", "steps": len(pts) - 1, "cold": cold, "warm": C.median(times) if times else None,
        "period_reached": float(per[i]), "p_last_cycle": float(pts[-1].value),
        "p_end": float(pts[i].value), "end_kind": "longest cycle", "located": False,
        "ntst_final": 40, "max_rel_error": None, "special_points": len(lp),
    }))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="cold calls only, no warm repeat (CI smoke run)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--auto-steps", type=int, default=500)
    ap.add_argument("--out", default=str(C.RESULTS))
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.quick:
        args.repeats = 0
    if args.child:
        {"gru_bif": child_gru_bif, "xpplab": child_xpplab}[args.child](args)
        return
    import jax

    jax.config.update("jax_enable_x64", True)
    sys.path.insert(0, str(C.HERE.parent / "tests"))
    from homoclinic_reference import compute

    p_ref, _ = compute("ab")
    meta = C.machine()
    rows = {}
    for method in ("gru_bif", "xpplab"):
        why = C.peer_status(method) if method in C.PEERS else None
        if why:
            rows[method] = {"status": why}
            continue
        rows[method] = C.run_child(
            [os.path.abspath(__file__), "--child", method, "--repeats", str(args.repeats),
             "--auto-steps", str(args.auto_steps)],
            env={"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})
        r = rows[method]
        if r.get("status") == "ok":
            r["error"] = abs(r["p_end"] - p_ref)
        print(f"[cycle ends] {method}: {json.dumps(r)[:200]}", flush=True)
    ref = rows.get("gru_bif", {})
    r = rows.get("xpplab", {})
    if r.get("status") == "ok" and ref.get("status") == "ok":
        r["cold_ratio"] = r["cold"] / ref["cold"]
        if r["warm"] and ref["warm"]:
            r["warm_ratio"] = r["warm"] / ref["warm"]
    meta["load_average_at_end"] = C.load_average()
    data = {"meta": meta, "p_reference": p_ref, "rows": rows}
    md = C.header("A cycle branch to its homoclinic end (AUTO's demo `ab`)", meta)
    md += [
        f"Truth: D_hom = {p_ref:.15g} (shooting on the saddle's manifolds). Load at end: "
        f"{meta['load_average_at_end']} (shared machine: timings are noisy). Ratios: "
        "AUTO / gru_bif, same run (> 1: gru_bif faster).",
        "",
        "| method | steps | cold | warm | cold ratio | warm ratio | period reached | "
        "end | D at the end | error | ntst | special points |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    labels = {"gru_bif": "gru_bif continue_cycles", "xpplab": "AUTO (XPPAUT) via xpplab"}
    for name, r in rows.items():
        if r.get("status") != "ok":
            md.append(f"| {labels[name]} | {r.get('status')} |" + " |" * 10)
            continue
        md.append(
            f"| {labels[name]} | {r['steps']} | {C.fmt_time(r['cold'])} | "
            f"{C.fmt_time(r['warm'])} | {C.fmt_ratio(r.get('cold_ratio'))} | "
            f"{C.fmt_ratio(r.get('warm_ratio'))} | {r['period_reached']:.4g} | "
            f"{r['end_kind']}{' (located)' if r['located'] else ''} | {r['p_end']:.12g} | "
            f"{C.fmt_err(r['error'])} | {r['ntst_final']} | {r['special_points']} |")
    C.write(args.out, "cycle_ends", data, md)
    print("\n".join(md))


if __name__ == "__main__":
    main()
