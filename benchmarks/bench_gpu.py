"""The whole suite on one accelerator, in one script, float32 and float64: the run for a
lent GPU (at most ~8 minutes), also runnable on the CPU (`--device cpu`) so that it keeps
working where no GPU is at hand.

Sections (each one child process per dtype, so that one failure or a dtype switch cannot
spoil the others; every section stops adding sizes once its time budget is spent):

1. **diagram** — the reference 2-D GRU (U_h = 3·R(π/4), Hopf at ±0.359038459564185) and
   the cubic fold x' = p + x − x³/3 (folds at ±2/3): cold (first call, compilation
   included) and warm (median), error of every located point.
2. **batch** — N random 2-D GRUs (the family of `bench_batch.py`) in one
   `gru_bif.batched` call: compile, run, diagrams per second.
3. **size** — `GRU.random(key, d, scale=1.5)` for growing d: time per continuation step
   (lean: `stability=False, hopf="off"`) and for `find_equilibria` from 32 starts.
4. **cycles** — the branch of limit cycles from the reference GRU's Hopf point
   (collocation, NTST 20, NCOL 4): cold and warm.
5. **gradients** — gradient of the located Hopf parameter with respect to every weight
   of a d-unit GRU (`bench_gradients.build_gru`) against the time to locate it.
6. **basins** — `gru_bif.attractors.find_attractors` on the four-state machine
   (`U_h = 3·I₂`, fractions ¼ each) for growing numbers of states drawn with
   `sample_box` (default settings; chunks of up to 65,536 states): compile, run, states
   per second, largest deviation of a fraction from ¼ in standard errors.
7. **dissect** — a d-unit GRU (`GRU.random(key(d), d, 3, scale=1.2, reset="after")`,
   as in `bench_dissect.py`): `gru_bif.dissect.fixed_points` from 256 trajectory
   states, then one stable point continued in `u[0]` (`input_bifurcations`,
   `hopf="off"`), cold and warm, and the 6 leading modes dense against Arnoldi.

    python benchmarks/bench_gpu.py [--device gpu|cpu] [--dtypes float32,float64]
        [--quick] [--budget 420] [--out benchmarks/results]

Writes `gpu.json` and `gpu.md` (`gpu_cpu.*` with `--device cpu`). `--quick`: the smallest
sizes only (the CI smoke run).
"""

import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402

HOPF = 0.359038459564185
SIZES = {
    "batch": ([100, 1000], [1000, 10_000, 100_000]),
    "size": ([2, 16], [2, 16, 64, 256, 1024]),
    "gradients": ([2, 16], [2, 16, 64, 256]),
    "basins": ([256], [4096, 65_536, 262_144]),
    "dissect": ([16], [64, 256, 1024]),
}


def _timed(fn, *args, repeats=3):
    """(output, first-call seconds, median warm seconds)."""
    import jax

    t0 = time.perf_counter()
    out = jax.block_until_ready(fn(*args))
    first = time.perf_counter() - t0
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = jax.block_until_ready(fn(*args))
        ts.append(time.perf_counter() - t0)
    return out, first, statistics.median(ts)


def _hopf_gru(p=0.0):
    import numpy as np

    import gru_bif

    c = np.cos(np.pi / 4)
    return gru_bif.GRU(3.0 * np.array([[c, -c], [c, c]]), np.array([p, 0.0]))


def section_diagram(quick, budget):
    import equinox as eqx
    import jax.numpy as jnp
    import numpy as np

    import gru_bif

    rows = []
    gru = _hopf_gru(-1.0)
    problems = {
        "gru": (gru_bif.Problem.from_gru(gru, "bh[0]"), jnp.zeros(2), -1.0, 1.0,
                ("hopf", [-HOPF, HOPF])),
        "cubic": (gru_bif.Problem(lambda t, x, a: a["p"] + x - x ** 3 / 3, {"p": -1.0}, "p"),
                  jnp.array([-2.1038034027355366]), -1.0, 1.0, ("fold", [-2 / 3, 2 / 3])),
    }
    for name, (pr, x0, p0, p1, (kind, truth)) in problems.items():
        fn = eqx.filter_jit(lambda pr, x0: gru_bif.continuation(
            pr, x0, p0, p_min=p0, p_max=p1, ds=0.02, ds_max=0.1, max_steps=400, throw=False))
        b, cold, warm = _timed(fn, pr, x0, repeats=3 if quick else 10)
        k = np.asarray(b.special.kind)
        found = np.sort(np.asarray(b.special.p)[k == gru_bif.SpecialKind.from_label(kind)])
        err = (float(np.max(np.abs(found - np.asarray(truth)))) if found.size == len(truth)
               else float("nan"))
        rows.append(dict(problem=name, cold_s=cold, warm_s=warm, points=int(b.num_points),
                         found=int(found.size), error=err))
    return rows


def section_batch(quick, budget):
    import jax.numpy as jnp
    import numpy as np

    import bench_batch as BB
    import gru_bif

    rows = []
    t_start = time.perf_counter()

    def one(w):
        gru = gru_bif.GRU(w["Uh"], w["bh"], Uz=w["Uz"], Ur=w["Ur"], bz=w["bz"], br=w["br"])
        b = gru_bif.continuation(gru_bif.Problem.from_gru(gru, "bh[0]"), w["x0"], BB.P0,
                                 p_min=BB.P0, p_max=BB.P1, ds=BB.DS, ds_max=BB.DS_MAX,
                                 max_steps=BB.MAX_STEPS, throw=False)
        hopf = b.special.kind == gru_bif.SpecialKind.HOPF
        return dict(n_hopf=jnp.sum(hopf), ok=b.num_points > 1)

    run = gru_bif.batched(one)
    for n in SIZES["batch"][0 if quick else 1]:
        if time.perf_counter() - t_start > budget:
            rows.append(dict(n=n, status="skipped: section time budget spent"))
            continue
        w = {k: jnp.asarray(v) for k, v in BB.random_grus(n).items()}
        t0 = time.perf_counter()
        compiled = run.lower(w).compile()
        compile_s = time.perf_counter() - t0
        out, first, warm = _timed(compiled, w, repeats=1 if n >= 100_000 else 3)
        rows.append(dict(n=n, compile_s=compile_s, run_s=warm, diagrams_per_s=n / warm,
                         started=float(np.mean(out["ok"])),
                         hopf_per_diagram=float(np.mean(out["n_hopf"]))))
    return rows


def section_size(quick, budget):
    import equinox as eqx
    import jax
    import jax.numpy as jnp

    import gru_bif

    rows = []
    t_start = time.perf_counter()
    for d in SIZES["size"][0 if quick else 1]:
        if time.perf_counter() - t_start > budget:
            rows.append(dict(d=d, status="skipped: section time budget spent"))
            continue
        gru = gru_bif.GRU.random(jax.random.PRNGKey(0), d, scale=1.5)
        if d > 1:
            gru = eqx.tree_at(lambda g: g.bh, gru, gru.bh.at[0].set(-1.0))
        # the start h = 0 is not an equilibrium at b_h[0] = -1: start from one
        eq = gru_bif.find_equilibria(gru, None, jnp.zeros((1, d)))
        x0 = eq.x[0]
        fn = eqx.filter_jit(lambda g, x0: gru_bif.continuation(
            gru_bif.Problem.from_gru(g, "bh[0]"), x0, -1.0, p_min=-1.0, p_max=1.0,
            ds=0.05, max_steps=100, stability=False, hopf="off", throw=False))
        b, cold, warm = _timed(fn, gru, x0)
        steps = max(int(b.stats["steps"]), 1)
        starts = jax.random.uniform(jax.random.PRNGKey(1), (32, d), minval=-1, maxval=1)
        feq = eqx.filter_jit(lambda g, s: gru_bif.find_equilibria(g, None, s,
                                                                   max_equilibria=8).x)
        _, eq_cold, eq_warm = _timed(feq, gru, starts)
        rows.append(dict(d=d, cold_s=cold, step_s=warm / steps, steps=steps,
                         equilibria_cold_s=eq_cold, equilibria_s=eq_warm))
    return rows


def section_cycles(quick, budget):
    import equinox as eqx
    import jax.numpy as jnp
    import numpy as np

    import gru_bif
    from gru_bif.periodic import cycle_from_hopf

    pr = gru_bif.Problem.from_gru(_hopf_gru(0.0), "bh[0]")
    eq = gru_bif.continuation(pr, jnp.zeros(2), 0.0, p_min=0.0, p_max=1.0, ds=0.05)
    cp, u0 = cycle_from_hopf(pr, eq, dp=-1e-3, ntst=20, ncol=4)

    fn = eqx.filter_jit(lambda cp, u0: gru_bif.continuation(
        cp, u0[:-1], u0[-1], p_min=-0.9, p_max=HOPF, ds=-0.02, ds_max=0.05,
        max_steps=60 if quick else 200, throw=False))
    b, cold, warm = _timed(fn, cp, u0, repeats=2 if quick else 5)
    n = int(b.num_points)
    return [dict(problem="gru cycles from Hopf", ntst=20, ncol=4, unknowns=int(u0.shape[0]),
                 points=n, cold_s=cold, warm_s=warm, per_point_s=warm / max(n, 1),
                 p_end=float(np.asarray(b.p)[n - 1]))]


def section_gradients(quick, budget):
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import numpy as np

    import bench_gradients as BG
    import gru_bif

    rows = []
    t_start = time.perf_counter()
    for d in SIZES["gradients"][0 if quick else 1]:
        if time.perf_counter() - t_start > budget:
            rows.append(dict(d=d, status="skipped: section time budget spent"))
            continue
        gru = BG.build_gru(d)
        x0 = jnp.zeros(d)

        def hopf_p(g):
            b = gru_bif.continuation(gru_bif.Problem.from_gru(g, "bh[0]"), x0, 0.0,
                                     p_min=0.0, p_max=1.0, ds=0.05, max_steps=100,
                                     stability=False, max_special_points=2, throw=False)
            hopf = b.special.kind == gru_bif.SpecialKind.HOPF
            first = jnp.argmax(hopf)
            return jnp.where(hopf[first], b.special.p[first], jnp.nan)

        p, loc_cold, loc_warm = _timed(eqx.filter_jit(hopf_p), gru)
        g, grad_cold, grad_warm = _timed(eqx.filter_jit(eqx.filter_grad(hopf_p)), gru)
        finite = all(bool(np.all(np.isfinite(x))) for x in jax.tree.leaves(g))
        rows.append(dict(d=d, hopf_p=float(p), locate_s=loc_warm, gradient_s=grad_warm,
                         ratio=grad_warm / loc_warm, locate_cold_s=loc_cold,
                         gradient_cold_s=grad_cold, gradient_finite=finite))
    return rows


def section_basins(quick, budget):
    import jax
    import numpy as np

    import gru_bif
    from gru_bif.attractors import find_attractors, sample_box

    four = gru_bif.GRU(3.0 * np.eye(2))
    rows = []
    t_start = time.perf_counter()
    for n in SIZES["basins"][0 if quick else 1]:
        if time.perf_counter() - t_start > budget:
            rows.append(dict(n=n, status="skipped: section time budget spent"))
            continue
        chunk = min(n, 65_536)
        X = sample_box(jax.random.PRNGKey(n), [-1.5, -1.5], [1.5, 1.5], n)
        att, cold, warm = _timed(
            lambda X: find_attractors(four, None, X, chunk_size=chunk), X, repeats=1)
        k = int(att.count)
        f = np.asarray(att.fractions)[:k]
        se = np.asarray(att.standard_errors)[:k]
        rows.append(dict(n=n, chunk=chunk, attractors=k, cold_s=cold, run_s=warm,
                         states_per_s=n / warm,
                         max_se_from_quarter=float(np.max(np.abs(f - 0.25) / se))))
    return rows


def section_dissect(quick, budget):
    import jax
    import jax.numpy as jnp
    import numpy as np

    import gru_bif
    from gru_bif import dissect as D

    rows = []
    t_start = time.perf_counter()
    for d in SIZES["dissect"][0 if quick else 1]:
        if time.perf_counter() - t_start > budget:
            rows.append(dict(d=d, status="skipped: section time budget spent"))
            continue
        k1, k2 = jax.random.split(jax.random.PRNGKey(d))
        gru = gru_bif.GRU.random(k1, d, 3, scale=1.2, reset="after")
        net = D.TaskNetwork(gru=gru, W_out=jax.random.normal(k2, (3, d)) / np.sqrt(d),
                            b_out=jnp.zeros(3), task="flipflop")
        states = jax.block_until_ready(D.trajectory_states(
            net, jax.random.PRNGKey(0), 256, n=64, T=200, noise=0.02,
            task_kw={"p_pulse": 0.03}))
        row = dict(d=d)
        t0 = time.perf_counter()
        fps = D.fixed_points(net, states)
        row["fixed_cold_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        fps = D.fixed_points(net, states)
        row["fixed_s"] = time.perf_counter() - t0
        st = np.nonzero(np.asarray(fps.stable))[0]
        row["stable"] = int(len(st))
        row["points"] = int(fps.count)
        if len(st):
            for name in ("cont_cold_s", "cont_s"):
                t0 = time.perf_counter()
                bifs = D.input_bifurcations(net, fps, 0, (-1.5, 1.5), points=st[:1],
                                            hopf="off")
                row[name] = time.perf_counter() - t0
            row["branch_points"] = int(sum(int(b.num_points) for pair in bifs.branches
                                           for b in pair))
            x0 = fps.x[int(st[0])]
            lam_d = None
            for method in ("dense", "arnoldi"):
                D.leading_modes(gru, x0, k=6, method=method)
                t0 = time.perf_counter()
                lam, _, _ = D.leading_modes(gru, x0, k=6, method=method)
                row[f"modes_{method}_s"] = time.perf_counter() - t0
                if lam_d is None:
                    lam_d = lam
                else:
                    row["arnoldi_error"] = max(float(np.min(np.abs(lam_d - v))) for v in lam)
        rows.append(row)
    return rows


SECTIONS = {
    "diagram": section_diagram,
    "batch": section_batch,
    "size": section_size,
    "cycles": section_cycles,
    "gradients": section_gradients,
    "basins": section_basins,
    "dissect": section_dissect,
}


def child(section, dtype, quick, budget):
    import jax

    jax.config.update("jax_enable_x64", dtype == "float64")
    t0 = time.perf_counter()
    try:
        rows = SECTIONS[section](quick, budget)
        status = "ok"
    except Exception as e:  # noqa: BLE001 — reported as a row, the others still run
        rows, status = [], f"failed: {type(e).__name__}: {str(e)[:300]}"
    dev = jax.devices()[0]
    print(json.dumps(dict(section=section, dtype=dtype, status=status, rows=rows,
                          seconds=time.perf_counter() - t0,
                          device=f"{dev.platform}: {getattr(dev, 'device_kind', '')}"),
                     default=C._jsonable))


def markdown(res, meta):
    md = C.header(f"The suite on one device ({res['device']})", meta)
    for sec in res["sections"]:
        md += [f"## {sec['section']} ({sec['dtype']}): {sec['status']}, "
               f"{sec.get('seconds', float('nan')):.1f} s", ""]
        rows = sec.get("rows") or []
        if not rows:
            md.append("")
            continue
        keys = list(dict.fromkeys(k for r in rows for k in r))
        md += ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
        for r in rows:
            cells = []
            for k in keys:
                v = r.get(k, "")
                if isinstance(v, float):
                    v = (C.fmt_time(v) if k.endswith("_s") and not k.endswith("per_s") else
                         C.fmt_err(v) if k == "error" else f"{v:.4g}")
                cells.append(str(v))
            md.append("| " + " | ".join(cells) + " |")
        md.append("")
    return md


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="gpu", choices=["gpu", "cpu"])
    ap.add_argument("--dtypes", default="float32,float64")
    ap.add_argument("--sections", default=",".join(SECTIONS))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--budget", type=float, default=420.0,
                    help="total seconds; split evenly over sections and dtypes")
    ap.add_argument("--out", default=str(C.RESULTS))
    ap.add_argument("--child", nargs=2, metavar=("SECTION", "DTYPE"))
    a = ap.parse_args()
    if a.child:
        child(a.child[0], a.child[1], a.quick, a.budget)
        return
    sections = a.sections.split(",")
    dtypes = a.dtypes.split(",")
    per = a.budget / (len(sections) * len(dtypes))
    env = {"JAX_PLATFORMS": "cuda" if a.device == "gpu" else "cpu"}
    results = []
    for dtype in dtypes:
        for sec in sections:
            t0 = time.perf_counter()
            r = C.run_child([__file__, "--child", sec, dtype, "--budget", str(per)]
                            + (["--quick"] if a.quick else []), env=env,
                            timeout=max(4 * per, 120))
            r.setdefault("section", sec)
            r.setdefault("dtype", dtype)
            results.append(r)
            print(f"[gpu] {sec} {dtype}: {r.get('status')} in {time.perf_counter() - t0:.1f} s",
                  flush=True)
    device = next((r["device"] for r in results if "device" in r), a.device)
    meta = C.machine(",".join(dtypes))
    res = dict(meta=meta, device=device, quick=a.quick, sections=results)
    stem = "gpu" if a.device == "gpu" else "gpu_cpu"
    C.write(a.out, stem, res, markdown(res, meta))
    print(f"[gpu] wrote {a.out}/{stem}.json and {stem}.md")
    sys.exit(0 if all(r.get("status") == "ok" for r in results) else 1)


if __name__ == "__main__":
    main()
