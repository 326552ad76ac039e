"""Dissecting a trained-size GRU: time for fixed points + continuation in an
input channel at d = 64 and 256 on CPU, and leading eigenvalues by full
eigendecomposition vs matrix-free Arnoldi.

For each d (in its own child process, float64):

- the network: d = 64 the shipped torch-trained 3-bit flip-flop
  (`gru_bif/data/flipflop_torch_d64.json`); other sizes `GRU.random(key(d), d, 3,
  scale=1.2, reset="after")` with a random readout (`--trained-only` skips them);
- fixed points: `gru_bif.dissect.fixed_points` from `--starts` states sampled on 64
  flip-flop sequences of 200 steps (FixedPointFinder's recipe: vmapped BFGS on q,
  Newton polish, saddles from Newton between the attractors, classification, leading
  modes); cold (first call, compilation included) and warm (median of `--repeats`);
- continuation: `input_bifurcations` of the first `--memories` stable points in u[0]
  over [-1.5, 1.5] (both directions, ds = 0.02, at most 400 steps each), cold and warm;
- leading modes at the first stable point: `leading_modes(method="dense")` (Jacobian
  by jacfwd + LAPACK `eig` of d×d) vs `method="arnoldi"` (Krylov dimension 40 and 80;
  JVPs only), warm median time, and the largest error of the 6 leading eigenvalues
  against the dense ones.

    python benchmarks/bench_dissect.py [--sizes 64,256] [--starts 1024] [--repeats 3]
        [--memories 2] [--quick] [--out benchmarks/results]

Writes `dissect.json` and `dissect.md`. Cold − warm is the compilation (and first-use)
cost. Children run with `OPENBLAS_NUM_THREADS=1`: on a loaded 2-core machine a threaded
LAPACK `eig` of 256×256 took 2 s instead of 40 ms (measured), and the continuation's
stability test (one `eig` per point) slowed the same way.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402


def _median(xs):
    return sorted(xs)[len(xs) // 2]


def child(d, starts, repeats, memories):
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np

    from gru_bif import dissect as D
    import gru_bif

    out = dict(d=d, starts=starts)
    if d == 64 and D.shipped_path().exists():
        net, _ = D.load_shipped()
        out["network"] = "shipped torch flip-flop"
    else:
        k1, k2 = jax.random.split(jax.random.PRNGKey(d))
        gru = gru_bif.GRU.random(k1, d, 3, scale=1.2, reset="after")
        net = D.TaskNetwork(gru=gru, W_out=jax.random.normal(k2, (3, d)) / np.sqrt(d),
                            b_out=jnp.zeros(3), task="flipflop")
        out["network"] = "random (scale 1.2)"
    states = D.trajectory_states(net, jax.random.PRNGKey(0), starts, n=64, T=200,
                                 noise=0.02, task_kw={"p_pulse": 0.03})
    states = jax.block_until_ready(states)

    def timed(fn):
        t0 = time.perf_counter()
        r = fn()
        cold = time.perf_counter() - t0
        ts = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            r = fn()
            ts.append(time.perf_counter() - t0)
        return r, cold, _median(ts)

    fps, out["fixed_cold_s"], out["fixed_warm_s"] = timed(lambda: D.fixed_points(net, states))
    out["counts"] = fps.counts()
    st = np.nonzero(np.asarray(fps.stable))[0]
    pts = st[:memories]
    out["continued"] = int(len(pts))
    if len(pts):
        bifs, out["cont_cold_s"], out["cont_warm_s"] = timed(
            lambda: D.input_bifurcations(net, fps, 0, (-1.5, 1.5), points=pts, hopf="off"))
        out["branch_points"] = int(sum(int(b.num_points) for pair in bifs.branches
                                       for b in pair))
        out["bifurcations"] = list(bifs.descriptions)
    x0 = fps.x[int(st[0]) if len(st) else 0]
    lam_d, _, _ = D.leading_modes(net.gru, x0, k=6, method="dense")
    for name, kw in (("dense", {}), ("arnoldi40", dict(method="arnoldi", krylov_dim=40)),
                     ("arnoldi80", dict(method="arnoldi", krylov_dim=80))):
        kw = {"method": "dense", **kw}
        (lam, _, complete), cold, warm = timed(lambda: D.leading_modes(net.gru, x0, k=6, **kw))
        err = max(float(np.min(np.abs(lam_d - lv))) for lv in lam)
        out[f"modes_{name}"] = dict(cold_s=cold, warm_s=warm, max_error=err,
                                    complete=bool(complete))
    out["status"] = "ok"
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="64,256")
    ap.add_argument("--starts", type=int, default=1024)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--memories", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="CI smoke run: d = 16, 64 starts")
    ap.add_argument("--out", default=str(C.RESULTS))
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child is not None:
        print(json.dumps(child(a.child, a.starts, a.repeats, a.memories)))
        return
    sizes = [int(s) for s in a.sizes.split(",")]
    if a.quick:
        sizes, a.starts, a.repeats, a.memories = [16], 64, 1, 1
    script = os.path.abspath(__file__)
    meta = C.machine()
    meta.update(sizes=sizes, starts=a.starts, repeats=a.repeats, memories=a.memories,
                quick=a.quick)
    rows = []
    for d in sizes:
        t0 = time.perf_counter()
        r = C.run_child([script, "--child", str(d), "--starts", str(a.starts), "--repeats",
                         str(a.repeats), "--memories", str(a.memories)], timeout=3600,
                        env={"OPENBLAS_NUM_THREADS": "1"})
        r.setdefault("d", d)
        r.setdefault("status", "ok")
        rows.append(r)
        msg = r["status"] if r["status"] != "ok" else (
            f"fixed points {C.fmt_time(r['fixed_warm_s'])}, "
            f"continuation {C.fmt_time(r.get('cont_warm_s'))}")
        print(f"[dissect] d={d}: {msg} ({time.perf_counter() - t0:.0f} s)", flush=True)
    meta["load_average_at_end"] = C.load_average()
    data = {"benchmark": "dissect", "meta": meta, "rows": rows}
    md = C.header("Dissecting a GRU: fixed points, continuation in an input, leading modes",
                  meta)
    md += [f"Fixed points from {a.starts} trajectory states; continuation of "
           f"{a.memories} stable point(s) in u[0] over [-1.5, 1.5], both directions. "
           "Cold: first call (compilation included); warm: median of repeats.", "",
           "| d | network | points found | fixed points cold | warm | continuation cold | "
           "warm | branch points |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["status"] != "ok":
            md.append(f"| {r['d']} | {r['status']} |" + " |" * 6)
            continue
        md.append(f"| {r['d']} | {r['network']} | {r['counts']} | "
                  f"{C.fmt_time(r['fixed_cold_s'])} | {C.fmt_time(r['fixed_warm_s'])} | "
                  f"{C.fmt_time(r.get('cont_cold_s'))} | {C.fmt_time(r.get('cont_warm_s'))} | "
                  f"{r.get('branch_points', '—')} |")
    md += ["", "Leading 6 modes at a stable point (warm median; error: largest distance of a "
           "returned eigenvalue to the dense spectrum):", "",
           "| d | dense | error | Arnoldi m=40 | error | complete | Arnoldi m=80 | error | "
           "complete |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["status"] != "ok":
            continue
        dn, a4, a8 = r["modes_dense"], r["modes_arnoldi40"], r["modes_arnoldi80"]
        md.append(f"| {r['d']} | {C.fmt_time(dn['warm_s'])} | {C.fmt_err(dn['max_error'])} | "
                  f"{C.fmt_time(a4['warm_s'])} | {C.fmt_err(a4['max_error'])} | "
                  f"{a4['complete']} | {C.fmt_time(a8['warm_s'])} | "
                  f"{C.fmt_err(a8['max_error'])} | {a8['complete']} |")
    C.write(a.out, "dissect", data, md)
    print("\n".join(md))


if __name__ == "__main__":
    main()
