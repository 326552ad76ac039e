"""Gradient of a located Hopf point with respect to *all* weights of a d-unit GRU, against
the cost of locating it.

For each d, a GRU (reset "before", no input) whose recurrent matrix is block-diagonal
with 2×2 scaled rotations — the first block 3·R(π/4), which gives a Hopf point in b_h[0]
near 0.359, the others 1.5·R(θ_k) (stable foci) — plus a small random coupling in U_h
and small random U_z, U_r, so that every weight matters. The branch of equilibria is
continued in b_h[0] from the exact equilibrium h = 0 at b_h[0] = 0 to 1 (`ds = 0.05`,
`stability=False`), which detects and locates the Hopf point.

- **locate**: `eqx.filter_jit` of `continuation(...)` (the forward call: continuation,
  detection, location and the Hopf data ω, l1);
- **gradient**: `eqx.filter_jit(eqx.filter_grad(loss))` with `loss = p_Hopf`: the same
  forward call plus the implicit-function-theorem adjoint of the located point (one
  linear solve with the Hopf defining system, size 3d + 2), w.r.t. every weight
  (3d² + 4d floats).

Times are warm (best and median of `--repeats` calls, `jax.block_until_ready`; the
ratio uses the best, which other load on the machine disturbs least); compilation (first
call minus best warm) is reported apart. Each size runs with `max_special_points` 16 (the
default) and 2: outside `vmap` the implicit adjoint skips padding slots and slots of
another kind (a `lax.cond` in `gru_bif.differentiate.implicit_root`), so the capacity
should cost little; under `vmap` every slot's system is solved. The gradient is checked
against central
finite differences (step 1e-4) on a few random weights. Target: gradient / locate ≤ 2.

    python benchmarks/bench_gradients.py [--quick] [--sizes 2,16,64,256] [--repeats 5]
        [--max-special-points 16,2] [--dtypes float64,float32] [--out DIR]

float32 rows cast the weights to float32 (x64 stays on) and report the gradient's error
against the float64 gradient of the same network. `--quick`: d = 2, K = 16, float64,
2 repeats. Writes `gradients.json` and `gradients.md` under `--out`
(default `benchmarks/results/`).
"""

import argparse
import json
import os
import pathlib
import platform
import statistics
import time


def build_gru(d, seed=0):
    import numpy as np

    import gru_bif

    rng = np.random.default_rng(seed)

    def rot(s, th):
        return s * np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])

    Uh = np.zeros((d, d))
    Uh[:2, :2] = rot(3.0, np.pi / 4)
    for k in range(1, d // 2):
        Uh[2 * k : 2 * k + 2, 2 * k : 2 * k + 2] = rot(1.5, rng.uniform(0.3, 1.2))
    if d % 2:
        Uh[-1, -1] = 0.5
    Uh += 0.05 / np.sqrt(d) * rng.standard_normal((d, d))
    Uz = 0.1 / np.sqrt(d) * rng.standard_normal((d, d))
    Ur = 0.1 / np.sqrt(d) * rng.standard_normal((d, d))
    return gru_bif.GRU(Uh, Uz=Uz, Ur=Ur)


def run_size(d, repeats, fd_entries, max_special_points, seed=0, dtype="float64",
             reference=None):
    """One row. `dtype="float32"` casts the weights (x64 stays on, so the float64
    gradient `reference` of the same network can be compared)."""
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import numpy as np

    import gru_bif

    gru = build_gru(d, seed)
    gru = jax.tree.map(lambda a: a.astype(dtype) if eqx.is_inexact_array(a) else a, gru)
    x0 = jnp.zeros(d, dtype)
    p0 = jnp.zeros((), dtype)

    def diagram(gru):
        pr = gru_bif.Problem.from_gru(gru, "bh[0]")
        return gru_bif.continuation(
            pr, x0, p0, p_min=0.0, p_max=1.0, ds=0.05, max_steps=100,
            stability=False, max_special_points=max_special_points, throw=False,
        )

    def hopf_p(gru):
        b = diagram(gru)
        hopf = b.special.kind == gru_bif.SpecialKind.HOPF
        first = jnp.argmax(hopf)
        return jnp.where(hopf[first], b.special.p[first], jnp.nan)

    locate = eqx.filter_jit(diagram)
    grad = eqx.filter_jit(eqx.filter_grad(hopf_p))
    value = eqx.filter_jit(hopf_p)

    def timed(fn, n):
        ts = []
        out = None
        for _ in range(n):
            t0 = time.perf_counter()
            out = jax.block_until_ready(fn(gru))
            ts.append(time.perf_counter() - t0)
        return out, ts

    b, (first_locate,) = timed(locate, 1)
    _, warm_locate = timed(locate, repeats)
    g, (first_grad,) = timed(grad, 1)
    _, warm_grad = timed(grad, repeats)
    kinds = np.asarray(b.special.kind)
    hopf_ps = np.asarray(b.special.p)[kinds == gru_bif.SpecialKind.HOPF]
    n_weights = sum(int(np.size(x)) for x in jax.tree.leaves(eqx.filter(gru, eqx.is_inexact_array)))

    # central finite differences on a few random entries of Uh, Uz, Ur and bh
    rng = np.random.default_rng(seed + 1)
    errs = []
    eps = 1e-4  # the located point is exact to ~1e-13: 1e-6 would leave ~1e-7 noise
    names = ("Uh", "Uz", "Ur", "bh")
    # (float32: central differences are noise-dominated; compare with float64 instead)
    for i in range(fd_entries if dtype == "float64" else 0):
        name = names[i % len(names)]
        W = getattr(gru, name)
        idx = tuple(int(rng.integers(0, n)) for n in W.shape)
        if name == "bh" and i < len(names):
            idx = (0,)
        plus = eqx.tree_at(lambda m: getattr(m, name), gru, W.at[idx].add(eps))
        minus = eqx.tree_at(lambda m: getattr(m, name), gru, W.at[idx].add(-eps))
        fd = (float(value(plus)) - float(value(minus))) / (2 * eps)
        gv = float(getattr(g, name)[idx])
        errs.append(abs(gv - fd) / max(abs(fd), 1e-3))
    vs_ref = None
    if reference is not None:
        flat = lambda t: np.concatenate(  # noqa: E731
            [np.ravel(np.asarray(x, np.float64)) for x in jax.tree.leaves(eqx.filter(t, eqx.is_inexact_array))]
        )
        g_ref = flat(reference)
        vs_ref = float(np.max(np.abs(flat(g) - g_ref)) / np.max(np.abs(g_ref)))
    med_l, med_g = statistics.median(warm_locate), statistics.median(warm_grad)
    best_l, best_g = min(warm_locate), min(warm_grad)
    return g, {
        "d": d,
        "dtype": dtype,
        "grad_error_vs_float64": vs_ref,
        "max_special_points": max_special_points,
        "weights": n_weights,
        "hopf_p": [float(v) for v in hopf_ps],
        "points": int(b.num_points),
        "locate_warm_s": med_l,
        "locate_warm_min_s": min(warm_locate),
        "grad_warm_s": med_g,
        "grad_warm_min_s": min(warm_grad),
        "ratio": best_g / best_l,
        "ratio_median": med_g / med_l,
        "locate_compile_s": first_locate - best_l,
        "grad_compile_s": first_grad - best_g,
        "fd_max_rel_error": max(errs) if errs else None,
        "fd_entries": len(errs),
        "grad_finite": bool(all(np.all(np.isfinite(np.asarray(x))) for x in jax.tree.leaves(g))),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="2,16,64,256")
    ap.add_argument("--quick", action="store_true",
                    help="d = 2, K = 16, float64 only, 2 repeats, no finite "
                         "differences (CI smoke run)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--fd-entries", type=int, default=4)
    ap.add_argument(
        "--max-special-points", default="16,2",
        help="capacities of branch.special to compare (16 is continuation's default)",
    )
    ap.add_argument("--dtypes", default="float64,float32",
                    help="float32 rows cast the weights and compare the gradient with "
                         "the float64 one of the same network")
    ap.add_argument("--out", default=str(pathlib.Path(__file__).parent / "results"))
    a = ap.parse_args()
    sizes = [2] if a.quick else [int(s) for s in a.sizes.split(",")]
    capacities = [16] if a.quick else [int(k) for k in a.max_special_points.split(",")]
    dtypes = ["float64"] if a.quick else a.dtypes.split(",")
    repeats = 2 if a.quick else a.repeats
    if a.quick:
        a.fd_entries = 0  # (the finite-difference check compiles a third program)

    import jax

    jax.config.update("jax_enable_x64", True)  # float32 rows cast their own weights
    rows = []
    for d in sizes:
        for K in capacities:
            ref = None
            for dtype in dtypes:
                g, r = run_size(d, repeats, a.fd_entries, K, dtype=dtype,
                                reference=ref if dtype != "float64" else None)
                if dtype == "float64":
                    ref = g
                rows.append(r)
                err = (f"FD rel. error {r['fd_max_rel_error'] or float('nan'):.1e}"
                       if dtype == "float64"
                       else f"vs float64 {r['grad_error_vs_float64']:.1e}")
                print(
                    f"d={d:4d} K={K:2d} {dtype} weights={r['weights']:7d}  "
                    f"locate {1e3 * r['locate_warm_min_s']:9.2f} ms  "
                    f"gradient {1e3 * r['grad_warm_min_s']:9.2f} ms  ratio {r['ratio']:.2f}  "
                    f"(compile {r['locate_compile_s']:.1f} s / {r['grad_compile_s']:.1f} s; "
                    f"{err})",
                    flush=True,
                )
    res = {
        "benchmark": "gradients_hopf_gru",
        "machine": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "backend": jax.default_backend(),
        "device": str(jax.devices()[0]),
        "jax": jax.__version__,
        "dtypes": dtypes,
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "repeats": repeats,
        "target_ratio": 2.0,
        "rows": rows,
    }
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gradients.json").write_text(json.dumps(res, indent=1))
    md = [
        f"# Gradient of a located Hopf point w.r.t. all GRU weights "
        f"({res['backend']}, {res['cores']} cores, jax {res['jax']}, {res['date']})",
        "",
        f"Best of {repeats} warm calls (medians in the JSON; the best is the least "
        "disturbed by other load); compilation apart. *locate*: the continuation call "
        "that finds and locates the Hopf point; *gradient*: the same call plus the "
        "implicit adjoint, w.r.t. every weight. *K*: `max_special_points` (the capacity "
        "of `branch.special`; 16 is the default). Target ratio ≤ 2. *error*: float64 "
        "rows, the largest relative error against central differences (step 1e-4) on "
        f"{a.fd_entries} weights; float32 rows, max |g32 − g64| / max |g64| over all "
        "weights of the same network.",
        "",
        "| d | dtype | K | weights | Hopf b_h[0] | points | locate (ms) | gradient (ms) | "
        "ratio | compile locate / gradient (s) | error |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        hp = ", ".join(f"{v:.6f}" for v in r["hopf_p"])
        err = r["fd_max_rel_error"] if r["dtype"] == "float64" else r["grad_error_vs_float64"]
        err = float("nan") if err is None else err
        md.append(
            f"| {r['d']} | {r['dtype']} | {r['max_special_points']} | {r['weights']} | "
            f"{hp} | {r['points']} | {1e3 * r['locate_warm_min_s']:.2f} | "
            f"{1e3 * r['grad_warm_min_s']:.2f} | {r['ratio']:.2f} | "
            f"{r['locate_compile_s']:.1f} / {r['grad_compile_s']:.1f} | "
            f"{err:.1e} |"
        )
    md.append("")
    md.append(f"Load average at the end: {res['load_average_at_end']}.")
    (out / "gradients.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
