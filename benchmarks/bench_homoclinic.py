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

bifpy's HomCont comparison is not implemented (the JSON says so whether or not bifpy is
installed).

    python benchmarks/bench_homoclinic.py [--quick] [--out benchmarks/results]

Writes `homoclinic.json` and `homoclinic.md` under `--out`.
"""

import argparse
import importlib.util
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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats, no continuation")
    ap.add_argument("--out", default=str(pathlib.Path(__file__).resolve().parent / "results"))
    ap.add_argument("--ntst", type=int, default=60)
    args = ap.parse_args(argv)

    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

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
    if importlib.util.find_spec("bifpy") is None:
        res["bifpy"] = "not installed: HomCont comparison skipped"
    else:
        res["bifpy"] = ("installed, but a HomCont (IPS=9) comparison is not implemented "
                        "yet: skipped")
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
    md += ["", f"bifpy HomCont: {res['bifpy']}"]
    write(args.out, "homoclinic", res, md)
    print("\n".join(md))


if __name__ == "__main__":
    main()
