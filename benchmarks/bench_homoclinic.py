"""Time homoclinic location on the Bogdanov–Takens normal form x' = y,
y' = b1 + b2 x + x² + x y (the homoclinic b1 at fixed b2), cold and warm, and a short
two-parameter continuation of the curve.

- cold: first `locate_homoclinic` call in this process (trace + compile + run; the BT
  predictor's own setup excluded);
- warm: median over calls at other b2 values (same shapes: no recompilation);
- accuracy: |b1 − b1_shooting|, the reference computed once by an independent shooting
  on the saddle's manifolds (diffrax Dopri8, rtol 1e-13, secant on b1; the computation
  of tests/test_homoclinic.py) and stored below;
- continuation: the curve from b2 = −0.16 to −0.6 on the engine (cold and warm).

Peer: AUTO-07p's HomCont via bifpy (IPS = 9, `transpile=True`: every call generates and
compiles Fortran), in a fresh child process per run. It starts from the same
Bogdanov–Takens predictor orbit as gru_bif (`homoclinic_from_bt`, eps = 0.4, so
b2 = −0.16, T = PAR(11) = 60 fixed, passed as AUTO's `dat` starting orbit; AUTO corrects
it in its first step), continues the curve in (b1, b2) with NUNSTAB = NSTAB = 1,
IEQUIB = 1 (the saddle solved along), ISTART = 5, NCOL = 4, mesh adaptation IAD = 3,
EPSL = EPSU = 1e-10, and writes UZR points at b2 = −0.2, −0.49, −0.5 (EPSS = 1e-12, so
they are located on b2 to rounding); its b1 there is compared with the same shooting
reference. Two runs:

- `curve`: NTST = 30, stopped at b2 = −0.6 (UZSTOP): the same curve, mesh size and
  range as gru_bif's continuation row; ratios AUTO / gru_bif (cold, warm, per step);
- `accuracy`: NTST = 60 (the mesh of the locate rows), on to b2 = −1.0 (UZSTOP), so all
  four reference b2 values are hit.

cold: the first call in the child (Fortran build included, imports excluded); warm: the
median of further calls. bifpy reads AUTO-07p's text output (11 significant digits):
its errors cannot fall below ~1e-12 here.

    python benchmarks/bench_homoclinic.py [--quick] [--out benchmarks/results]

Writes `homoclinic.json` and `homoclinic.md` under `--out`.
"""

import argparse
import pathlib
import statistics
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from _common import load_average, machine, write  # noqa: E402

# b2 -> homoclinic b1 by independent shooting (see the module docstring)
SHOOTING = {
    -0.2: -0.00937364877678988,
    -0.49: -0.0543789259079398,
    -0.5: -0.05655517074985944,
    -1.0: -0.21360219841632416,
}


T_TRUNC = 60.0
AUTO_RUNS = {  # name -> (NTST, b2 where AUTO stops)
    "curve": (30, -0.6),
    "accuracy": (60, -1.0),
}


def _bifpy_field(u, par):
    return [u[1], par[0] + par[1] * u[0] + u[0] ** 2 + u[0] * u[1]]


def child_bifpy(args) -> None:
    """One AUTO-07p HomCont run (see the module docstring), timed cold and warm; prints
    one JSON line."""
    import json

    import numpy as np
    from bifpy import auto

    start = np.load(args.start)
    t, X = start["t"], start["X"]
    p1, p2, xs = float(start["p1"]), float(start["p2"]), start["xs"]

    def stpnt(u, par, tt):
        par[0], par[1] = p1, p2
        par[10] = T_TRUNC
        par[11], par[12] = float(xs[0]), float(xs[1])

    ntst, stop = AUTO_RUNS[args.run]
    settings = dict(
        ips=auto.IPS_HOMCONT, ndim=2, npar=13, nmx=400, ntst=ntst, ncol=4, iad=3, ilp=0,
        isp=0, iads=1, itmx=9, itnw=7, nwtn=3, jac=0, ds=-0.02, dsmin=1e-6, dsmax=0.5,
        rl0=-10.0, rl1=10.0, a0=-1e300, a1=1e300, epsl=1e-10, epsu=1e-10, epss=1e-12,
        npr=10**4, nunstab=1, nstab=1, iequib=1, itwist=0, istart=5)
    uz = [b for b in SHOOTING if b > stop]

    def call():
        return auto.run(_bifpy_field, stpnt, settings, icu=[1, 2], dat=(t, X),
                        uzr={2: uz}, uzstop={2: stop}, transpile=True)

    t0 = time.perf_counter()
    r = call()
    cold = time.perf_counter() - t0
    warm = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        r = call()
        warm.append(time.perf_counter() - t0)
    pts = [q for b in r.branches for q in b.points]
    errors = {}
    for q in pts:
        if q.point_type.name == "USER_SPECIFIED_VALUE":
            b1, b2 = float(q.all_parameters[0]), float(q.all_parameters[1])
            ref = min(SHOOTING, key=lambda k: abs(k - b2))
            if abs(b2 - ref) < 1e-9:
                errors[str(ref)] = abs(b1 - SHOOTING[ref])
    print(json.dumps({
        "status": "ok", "ntst": ntst, "ncol": 4, "b2_end": float(pts[-1].all_parameters[1]),
        "points": len(pts), "cold_s": cold, "warm_s": statistics.median(warm),
        "warm_per_step_ms": 1e3 * statistics.median(warm) / max(len(pts) - 1, 1),
        "abs_error_vs_shooting": errors}))


def _run_bifpy(starts: dict, repeats: int, quick: bool) -> dict:
    """AUTO-07p HomCont rows, each in a fresh child process."""
    import tempfile

    import numpy as np

    import _common as C

    why = C.peer_status("bifpy")
    if why:
        return {"status": why}
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (ntst, _) in AUTO_RUNS.items():
            if quick and name == "curve":
                out[name] = {"status": "skipped (--quick)"}
                continue
            path = f"{tmp}/{name}.npz"
            np.savez(path, **starts[ntst])
            out[name] = C.run_child(
                [str(pathlib.Path(__file__).resolve()), "--child", "bifpy", "--run", name,
                 "--start", path, "--repeats", str(repeats)], timeout=600)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats, no continuation")
    ap.add_argument("--out", default=str(pathlib.Path(__file__).resolve().parent / "results"))
    ap.add_argument("--ntst", type=int, default=60)
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--run", default="curve", help=argparse.SUPPRESS)
    ap.add_argument("--start", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--repeats", type=int, default=3, help="warm repeats of the AUTO runs")
    args = ap.parse_args(argv)
    if args.child:
        child_bifpy(args)
        return

    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np

    import gru_bif
    from gru_bif import Problem
    from gru_bif.homoclinic import HomoclinicBranch, homoclinic_from_bt, locate_homoclinic
    from gru_bif.models.normal_forms import bogdanov_takens_field

    info = machine()
    pr = Problem(bogdanov_takens_field, {"b1": 0.0, "b2": 0.0}, "b1")
    bt = (jnp.zeros(2), 0.0, 0.0)
    starts = {}
    for b2 in SHOOTING:
        hp, u0 = homoclinic_from_bt(pr, "b2", bt, eps=float((-b2) ** 0.5), T=60.0,
                                    ntst=args.ntst)
        starts[b2] = (hp, u0.at[-1].set(b2))

    def solve(b2):
        hp, u0 = starts[b2]
        t = time.perf_counter()
        sol = locate_homoclinic(hp, u0)
        jax.block_until_ready(sol.u)
        return time.perf_counter() - t, sol

    order = list(SHOOTING)
    cold, sol = solve(order[0])
    warm, errs = [], {}
    reps = 1 if args.quick else 3
    for _ in range(reps):
        for b2 in order:
            dt, sol = solve(b2)
            warm.append(dt)
    # accuracy after one re-mesh (the recommended use)
    t = time.perf_counter()
    for b2 in order:
        hp, u0 = starts[b2]
        s = locate_homoclinic(hp, u0, remesh=1)
        errs[b2] = abs(float(s.p1) - SHOOTING[b2])
    t_remesh = (time.perf_counter() - t) / len(order)

    res = {
        "machine": info,
        "problem": "Bogdanov–Takens normal form, homoclinic b1 at fixed b2",
        "ntst": args.ntst, "ncol": 4, "T": 60.0,
        "unknowns": int(starts[order[0]][0].size),
        "locate_cold_s": cold,
        "locate_warm_median_s": statistics.median(warm),
        "locate_with_remesh_mean_s": t_remesh,
        "abs_error_vs_shooting": {str(k): v for k, v in errs.items()},
        "newton_iterations": int(sol.iterations),
    }
    if not args.quick:
        hp, u0 = homoclinic_from_bt(pr, "b2", bt, eps=0.4, T=60.0, ntst=30)
        s = locate_homoclinic(hp, u0)
        hp = s.problem.with_reference(s.u)
        times = []
        for _ in range(2):
            t = time.perf_counter()
            br = gru_bif.continuation(hp, s.u[:-1], s.u[-1], p_min=-0.6, p_max=0.0,
                                      ds=-0.3, ds_max=3.0, max_steps=60)
            jax.block_until_ready(br.x)
            times.append(time.perf_counter() - t)
        res["continuation"] = {
            "range_b2": [-0.6, float(s.p2)], "ntst": 30,
            "points": int(br.num_points), "cold_s": times[0], "warm_s": times[1],
            "warm_per_step_ms": 1e3 * times[1] / max(int(br.num_points) - 1, 1),
            "sigma_end": float(HomoclinicBranch(hp, br).trimmed()["saddle_quantity"][-1]),
        }
    # AUTO-07p HomCont: the same BT predictor orbit, on the two meshes of AUTO_RUNS
    auto_starts = {}
    for ntst, _ in AUTO_RUNS.values():
        hp, u0 = homoclinic_from_bt(pr, "b2", bt, eps=0.4, T=T_TRUNC, ntst=ntst)
        X, xs, p1, p2 = hp.split(u0)
        auto_starts[ntst] = dict(t=np.asarray(hp.node_times()), X=np.asarray(X),
                                 xs=np.asarray(xs), p1=float(p1), p2=float(p2))
    res["bifpy"] = _run_bifpy(auto_starts, 1 if args.quick else args.repeats, args.quick)
    cur, ref = res["bifpy"].get("curve", {}), res.get("continuation")
    if cur.get("status") == "ok" and ref:
        cur["cold_ratio"] = cur["cold_s"] / ref["cold_s"]
        cur["warm_ratio"] = cur["warm_s"] / ref["warm_s"]
        cur["per_step_ratio"] = cur["warm_per_step_ms"] / ref["warm_per_step_ms"]
    res["load_average_at_end"] = load_average()

    md = [
        "# Homoclinic location (BT normal form)",
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores, load at start "
        f"{info['load_average_at_start']}, at end {res['load_average_at_end']} "
        "(shared machine: timings are noisy).",
        "",
        f"Unknowns: {res['unknowns']} (ntst = {args.ntst}, ncol = 4, d = 2), T = 60.",
        "",
        "| what | time |",
        "|---|---|",
        f"| locate, cold (trace + compile + run) | {cold:.2f} s |",
        f"| locate, warm (median of {len(warm)}) | {1e3 * res['locate_warm_median_s']:.0f} ms |",
        f"| locate + 1 re-mesh + locate (mean) | {res['locate_with_remesh_mean_s']:.2f} s |",
    ]
    if "continuation" in res:
        c = res["continuation"]
        md += [f"| continuation b2 ∈ [−0.6, {c['range_b2'][1]:.2f}], {c['points']} points, "
               f"ntst 30: cold | {c['cold_s']:.1f} s |",
               f"| same, warm | {c['warm_s']:.1f} s ({c['warm_per_step_ms']:.0f} ms/step) |"]
    md += ["", "| b2 | abs. error of b1 vs shooting (after one re-mesh) |", "|---|---|"]
    md += [f"| {k} | {v:.1e} |" for k, v in errs.items()]
    md += ["", "## AUTO-07p HomCont via bifpy (IPS = 9)", ""]
    b = res["bifpy"]
    if "status" in b:
        md.append(f"bifpy HomCont: {b['status']}")
    else:
        md += ["Same BT predictor start (b2 = −0.16, T = 60), IAD = 3, EPSL = EPSU = 1e-10; "
               "ratios AUTO / gru_bif continuation row, same run (> 1: gru_bif faster).",
               "",
               "| run | ntst | points | b2 reached | cold | warm | warm / step | cold ratio | "
               "warm ratio | per-step ratio | abs. error of b1 vs shooting |",
               "|---|---|---|---|---|---|---|---|---|---|---|"]
        for name, r in b.items():
            if r.get("status") != "ok":
                md.append(f"| {name} | {r.get('status')} |" + " |" * 9)
                continue

            def ratio(k):
                return f"{r[k]:.3g}×" if k in r else "—"

            errs = ", ".join(f"{k}: {v:.1e}" for k, v in r["abs_error_vs_shooting"].items())
            md.append(
                f"| {name} | {r['ntst']} | {r['points']} | {r['b2_end']:.3g} | "
                f"{r['cold_s']:.2f} s | {1e3 * r['warm_s']:.0f} ms | "
                f"{r['warm_per_step_ms']:.1f} ms | {ratio('cold_ratio')} | "
                f"{ratio('warm_ratio')} | {ratio('per_step_ratio')} | {errs} |")
    write(args.out, "homoclinic", res, md)
    print("\n".join(md))


if __name__ == "__main__":
    main()
