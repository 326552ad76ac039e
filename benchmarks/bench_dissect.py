"""Dissecting a trained-size GRU: time for fixed points + continuation in an
input channel at d = 64 and 256 on CPU, and leading eigenvalues by full
eigendecomposition vs matrix-free restarted Arnoldi.

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
  by jacfwd + LAPACK `eig` of d×d) vs `method="arnoldi"` (Krylov–Schur restarted
  Arnoldi, Krylov dimension 40 and 80, tol 1e-10; JVPs only), warm median time, the
  largest error of the 6 leading eigenvalues against LAPACK's full spectrum, and
  Arnoldi's restarts and JVPs.

`--modes-only` runs the last part alone (no fixed points, no continuation: the stable
point is reached by iterating the map from a trajectory state) and writes
`dissect_modes.*`; `--sizes 64,256,1024` there is a few minutes (dense `eig` at
d = 1024 is timed once).

    python benchmarks/bench_dissect.py [--sizes 64,256] [--starts 1024] [--repeats 3]
        [--memories 2] [--modes-only] [--quick] [--out benchmarks/results]

Writes `dissect.json` and `dissect.md` (or `dissect_modes.*`). Cold − warm is the
compilation (and first-use) cost. Children run with `OPENBLAS_NUM_THREADS=1`: on a
loaded 2-core machine a threaded LAPACK `eig` of 256×256 took 2 s instead of 40 ms
(measured), and the continuation's stability test (one `eig` per point) slowed the
same way.
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


def _network(d):
    import jax
    import jax.numpy as jnp
    import numpy as np

    from gru_bif import dissect as D
    import gru_bif

    if d == 64 and D.shipped_path().exists():
        net, _ = D.load_shipped()
        return net, "shipped torch flip-flop"
    k1, k2 = jax.random.split(jax.random.PRNGKey(d))
    gru = gru_bif.GRU.random(k1, d, 3, scale=1.2, reset="after")
    net = D.TaskNetwork(gru=gru, W_out=jax.random.normal(k2, (3, d)) / np.sqrt(d),
                        b_out=jnp.zeros(3), task="flipflop")
    return net, "random (scale 1.2)"


#: the leading-modes variants timed: (name, keywords of `leading_modes`)
MODES = (("dense", {}), ("arnoldi40", dict(method="arnoldi", krylov_dim=40)),
         ("arnoldi80", dict(method="arnoldi", krylov_dim=80)))


def modes(net, x0, repeats, k=6):
    """Leading `k` modes at `x0` by each of `MODES`: cold and warm (median of `repeats`;
    one for dense at d >= 1024) time, the largest distance of a returned eigenvalue to
    the `k + 1` leading eigenvalues of LAPACK's full spectrum (k + 1: a conjugate pair
    may be cut at k), `complete`, and Arnoldi's restarts and JVP count."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    from gru_bif import dissect as D

    gru = net.gru
    d = gru.hidden_size
    u = jnp.zeros((gru.input_size,), gru.Uh.dtype)
    J = np.asarray(jax.jacfwd(lambda h: gru(0.0, h, u))(jnp.asarray(x0)))
    lam_all = np.linalg.eigvals(J)
    ref = lam_all[np.argsort(-np.abs(1 + lam_all), kind="stable")][: k + 1]
    out = {"max_abs_multiplier": float(np.abs(1 + ref[0])),
           "speed_at_x0": float(np.linalg.norm(np.asarray(gru(0.0, jnp.asarray(x0), u))))}
    for name, kw in MODES:
        kw = {"method": "dense", **kw}
        reps = 1 if (kw["method"] == "dense" and d >= 1024) else repeats
        t0 = time.perf_counter()
        lam, _, complete = D.leading_modes(gru, x0, k=k, **kw)
        cold = time.perf_counter() - t0
        ts = []
        for _ in range(reps):
            t0 = time.perf_counter()
            lam, _, complete = D.leading_modes(gru, x0, k=k, **kw)
            ts.append(time.perf_counter() - t0)
        err = max(float(np.min(np.abs(ref - lv))) for lv in lam)
        row = dict(cold_s=cold, warm_s=_median(ts), repeats=reps, max_error=err,
                   complete=bool(complete))
        if kw["method"] == "arnoldi":
            m = int(min(d, kw["krylov_dim"]))
            r = D._arnoldi(gru, jnp.asarray(x0), u, jax.random.normal(
                jax.random.PRNGKey(0), (d,), gru.Uh.dtype), min(k + 1, d), m,
                jnp.asarray(1e-10, gru.Uh.dtype), 300)
            row.update(restarts=int(r["restarts"]), matvecs=int(r["matvecs"]))
        out[f"modes_{name}"] = row
    return out


def modes_child(d, repeats):
    """`--modes-only`: the leading modes alone, at a stable fixed point reached by
    iterating the discrete map (u = 0) from a trajectory state for 3000 steps and three
    Newton steps (for the random networks, whose biases are zero: h = 0, the point
    `fixed_points` reports)."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    from gru_bif import dissect as D

    net, name = _network(d)
    gru = net.gru
    u = jnp.zeros((gru.input_size,), gru.Uh.dtype)
    h = D.trajectory_states(net, jax.random.PRNGKey(0), 1, n=4, T=200,
                            task_kw={"p_pulse": 0.03})[0]
    step = jax.jit(lambda h: jax.lax.fori_loop(0, 3000, lambda i, h: h + gru(0.0, h, u), h))
    x0 = step(h)
    for _ in range(3):  # Newton polish: F(x0) = 0 to rounding
        J = jax.jacfwd(lambda h: gru(0.0, h, u))(x0)
        x0 = x0 - jnp.linalg.solve(J, gru(0.0, x0, u))
    x0 = jax.block_until_ready(x0)
    out = dict(d=d, network=name)
    out.update(modes(net, x0, repeats))
    out["status"] = "ok"
    return out


def child(d, starts, repeats, memories):
    import jax

    jax.config.update("jax_enable_x64", True)
    import numpy as np

    from gru_bif import dissect as D

    out = dict(d=d, starts=starts)
    net, out["network"] = _network(d)
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
    out.update(modes(net, x0, repeats))
    out["status"] = "ok"
    return out


def _modes_table(rows):
    md = ["Leading 6 modes at a stable point (`leading_modes(k=6)`; warm median; error: "
          "largest distance of a returned eigenvalue to the 7 leading eigenvalues of "
          "LAPACK's full spectrum; Arnoldi: Krylov–Schur, tol = 1e-10, restarts and JVPs "
          "of one run):", "",
          "| d | dense | error | Arnoldi m=40 | error | restarts / JVPs | complete | "
          "Arnoldi m=80 | error | restarts / JVPs | complete |",
          "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["status"] != "ok":
            continue
        dn, a4, a8 = r["modes_dense"], r["modes_arnoldi40"], r["modes_arnoldi80"]
        md.append(f"| {r['d']} | {C.fmt_time(dn['warm_s'])} | {C.fmt_err(dn['max_error'])} | "
                  f"{C.fmt_time(a4['warm_s'])} | {C.fmt_err(a4['max_error'])} | "
                  f"{a4.get('restarts')} / {a4.get('matvecs')} | {a4['complete']} | "
                  f"{C.fmt_time(a8['warm_s'])} | {C.fmt_err(a8['max_error'])} | "
                  f"{a8.get('restarts')} / {a8.get('matvecs')} | {a8['complete']} |")
    return md


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="64,256")
    ap.add_argument("--starts", type=int, default=1024)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--memories", type=int, default=2)
    ap.add_argument("--modes-only", action="store_true",
                    help="only the leading-modes table (writes dissect_modes.*)")
    ap.add_argument("--quick", action="store_true", help="CI smoke run: d = 16, 64 starts")
    ap.add_argument("--out", default=str(C.RESULTS))
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child is not None:
        r = (modes_child(a.child, a.repeats) if a.modes_only
             else child(a.child, a.starts, a.repeats, a.memories))
        print(json.dumps(r))
        return
    sizes = [int(s) for s in a.sizes.split(",")]
    if a.quick:
        sizes, a.starts, a.repeats, a.memories = [16], 64, 1, 1
    script = os.path.abspath(__file__)
    meta = C.machine()
    meta.update(sizes=sizes, starts=a.starts, repeats=a.repeats, memories=a.memories,
                quick=a.quick, modes_only=a.modes_only)
    rows = []
    for d in sizes:
        t0 = time.perf_counter()
        r = C.run_child([script, "--child", str(d), "--starts", str(a.starts), "--repeats",
                         str(a.repeats), "--memories", str(a.memories)]
                        + (["--modes-only"] if a.modes_only else []), timeout=3600,
                        env={"OPENBLAS_NUM_THREADS": "1"})
        r.setdefault("d", d)
        r.setdefault("status", "ok")
        rows.append(r)
        msg = r["status"] if r["status"] != "ok" else (
            f"modes dense {C.fmt_time(r['modes_dense']['warm_s'])}, Arnoldi m=40 "
            f"{C.fmt_time(r['modes_arnoldi40']['warm_s'])}" if a.modes_only else
            f"fixed points {C.fmt_time(r['fixed_warm_s'])}, "
            f"continuation {C.fmt_time(r.get('cont_warm_s'))}")
        print(f"[dissect] d={d}: {msg} ({time.perf_counter() - t0:.0f} s)", flush=True)
    meta["load_average_at_end"] = C.load_average()
    if a.modes_only:
        data = {"benchmark": "dissect_modes", "meta": meta, "rows": rows}
        md = C.header("Dissecting a GRU: leading modes, dense eig vs Krylov–Schur", meta)
        md += _modes_table(rows)
        C.write(a.out, "dissect_modes", data, md)
        print("\n".join(md))
        return
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
    md += [""] + _modes_table(rows)
    C.write(a.out, "dissect", data, md)
    print("\n".join(md))


if __name__ == "__main__":
    main()
