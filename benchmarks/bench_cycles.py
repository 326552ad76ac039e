"""Time a branch of periodic orbits from a Hopf point, cold and warm, by collocation and
by multiple shooting, and check it against the closed form.

Problem: the Hopf normal form `r' = r (p − r²)`, `θ' = 1`, cycles `r = √p` of period
`2π`, started at the Hopf point `p = 0` (`cycle_from_hopf`, dp = 1e-3) and continued to
`p = 1` (collocation: NTST × NCOL mesh; shooting: 4 segments started from the first
collocation cycle, Dopri8, rtol = atol = 1e-12).

- cold: the first continuation call in a fresh process (trace + compile + run; imports
  excluded); warm: the median of `--repeats` further calls (same shapes: no
  recompilation).
- error: the largest |period − 2π| and |max x − √p| over the branch.
- children run with OPENBLAS_NUM_THREADS=1 (see the collocation module's size notes).

    python benchmarks/bench_cycles.py [--quick] [--repeats 5] [--ntst 40] [--ncol 4]
        [--out benchmarks/results]

Writes `cycles.json` and `cycles.md`. AUTO (xpplab / bifpy) on the same mesh is not
driven yet (its periodic-orbit run, IPS = 2 from the Hopf point, needs the `.ode` /
`c.*` constants that bench_peers.py writes for equilibria extended by NTST/NCOL and
ISW); that row is reported as not implemented.
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
    out["warm"] = C.median(times)
    out["per_step_warm"] = out["warm"] / max(out["points"] - 1, 1)
    out["status"] = "ok"
    print(json.dumps(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats and steps")
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
        child(args)
        return
    meta = C.machine()
    rows = {}
    for method in ("collocation", "shooting"):
        rows[method] = C.run_child(
            [os.path.abspath(__file__), "--child", "1", "--method", method,
             "--repeats", str(args.repeats), "--ntst", str(args.ntst), "--ncol",
             str(args.ncol), "--steps", str(args.steps)],
            # one BLAS thread: on a shared CPU a multithreaded LAPACK LU of the
            # collocation Jacobian can be 50x slower (see gru_bif.periodic.collocation)
            env={"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})
    for peer in ("xpplab", "bifpy"):
        why = C.peer_status(peer)
        rows[peer] = {"status": why or "installed; periodic-orbit run not implemented yet"}
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
        "| method | unknowns | points | p reached | cold | warm | warm / step | "
        "max period error | max radius error |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in rows.items():
        if r.get("status") != "ok":
            md.append(f"| {name} | — | — | — | — | — | — | — | {r.get('status')} |")
            continue
        md.append(
            f"| {name} | {r['unknowns']} | {r['points']} | {r['p_end']:.3g} | "
            f"{C.fmt_time(r['cold'])} | {C.fmt_time(r['warm'])} | "
            f"{C.fmt_time(r['per_step_warm'])} | {C.fmt_err(r['period_error'])} | "
            f"{C.fmt_err(r['radius_error'])} |")
    C.write(args.out, "cycles", data, md)
    print("\n".join(md))


if __name__ == "__main__":
    main()
