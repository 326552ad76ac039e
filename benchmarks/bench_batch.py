"""Many diagrams in one call: N random 2-D GRUs continued in b_h[0] ∈ [-1, 1] by one
`gru_bif.batched(diagram)` call (jit of vmap) with events located (`throw=False`),
against AUTO (xpplab) doing the same diagrams one after another; and the same batch
sharded over 1, 2, 4, 8 simulated CPU devices with `gru_bif.batched(diagram, mesh=mesh)`.

The GRUs (reset "before"): U_h = s·R(θ) with s ~ N(3.25, 0.4²) clipped to [2.5, 4],
θ ~ N(π/4, 0.15²) clipped to [π/6, π/3]; U_z, U_r
with entries N(0, 0.3²); b_z, b_r, b_h[1] ~ N(0, 0.1²); b_h[0] = p is the parameter.
Each branch starts at p = -1 from the state reached by integrating from h = 0 (prepared
in NumPy, not timed; Newton corrects it), ds = 0.05, ds_max = 0.5, max_steps = 200.
About 60 % have Hopf points (mostly two), about 25 % folds.

Reported per N and device count: compile time (`lower` + `compile`, apart), the median
run time of `--repeats` calls, diagrams per second, time per diagram and its ratio to
xpplab's per-diagram time measured in the same run on the first `--xpp` of the same GRUs
(their Hopf points are compared with gru_bif's as a check). Devices: each device count
runs in its own process with `XLA_FLAGS=--xla_force_host_platform_device_count=n`; the
mesh is `Mesh(devices, ("batch",))` and `gru_bif.batched` shards the batch axis over it.

    python benchmarks/bench_batch.py [--sizes 10,100,1000,10000] [--full] [--devices 1,2,4,8]
        [--repeats 3] [--xpp 20] [--shard-map] [--quick] [--out benchmarks/results]

`--full` adds N = 100,000 (timed once). `--chunk 1000` (default; 0: off) adds rows with
`gru_bif.batched(..., chunk_size=1000)` where each device holds more than 2,000 systems. `--shard-map` adds, on more than one device,
`gru_bif.batched(..., mode="jit")` (one partitioned jitted call) next to the default
per-device loops. Writes `batch.json` and `batch.md`.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402

P0, P1, DS, DS_MAX, MAX_STEPS = -1.0, 1.0, 0.05, 0.5, 200


def random_grus(n, seed=0):
    """Weights of `n` 2-D GRUs as a dict of NumPy arrays with a leading batch axis, and
    `x0`: a start state at p = -1 (300 explicit Euler steps of size 0.5 from h = 0, done
    here in NumPy, not timed; where that ends on a cycle the start fails, reported as
    `started` < 100 %)."""
    import numpy as np

    # one draw of shape (n, 22), so the first k GRUs are the same for every n
    z = np.random.default_rng(seed).standard_normal((n, 22))
    s = np.clip(3.25 + 0.4 * z[:, 0], 2.5, 4.0)
    th = np.clip(np.pi / 4 + 0.15 * z[:, 1], np.pi / 6, np.pi / 3)
    c, sn = np.cos(th), np.sin(th)
    Uh = s[:, None, None] * np.stack([np.stack([c, -sn], -1), np.stack([sn, c], -1)], -2)
    Uz = 0.3 * z[:, 2:6].reshape(n, 2, 2)
    Ur = 0.3 * z[:, 6:10].reshape(n, 2, 2)
    bz = 0.1 * z[:, 10:12]
    br = 0.1 * z[:, 12:14]
    bh = np.stack([np.full(n, P0), 0.1 * z[:, 14]], -1)

    def sig(x):
        return 1 / (1 + np.exp(-x))

    h = np.zeros((n, 2))
    for _ in range(300):
        z = sig(np.einsum("nij,nj->ni", Uz, h) + bz)
        r = sig(np.einsum("nij,nj->ni", Ur, h) + br)
        hh = np.tanh(np.einsum("nij,nj->ni", Uh, r * h) + bh)
        h = h + 0.5 * (1 - z) * (hh - h)
    return dict(Uh=Uh, Uz=Uz, Ur=Ur, bz=bz, br=br, bh=bh, x0=h)


# ----------------------------------------------------------------------------- children
def child_jax(sizes, repeats, seed, shard_map=False, chunk=0):
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np
    from jax.sharding import Mesh

    import gru_bif

    devices = jax.devices()
    mesh = Mesh(np.array(devices), ("batch",))

    def one(w):
        gru = gru_bif.GRU(w["Uh"], w["bh"], Uz=w["Uz"], Ur=w["Ur"], bz=w["bz"], br=w["br"])
        pr = gru_bif.Problem.from_gru(gru, "bh[0]")
        b = gru_bif.continuation(pr, w["x0"], P0, p_min=P0, p_max=P1, ds=DS,
                                 ds_max=DS_MAX, max_steps=MAX_STEPS, throw=False)
        hopf = b.special.kind == gru_bif.SpecialKind.HOPF
        fold = b.special.kind == gru_bif.SpecialKind.FOLD
        # return what a census needs; the whole Branch works too (bigger transfer)
        return dict(hopf_p=jnp.where(hopf, b.special.p, jnp.nan), n_hopf=jnp.sum(hopf),
                    fold_p=jnp.where(fold, b.special.p, jnp.nan), n_fold=jnp.sum(fold),
                    ok=b.num_points > 1, steps=b.stats["steps"])

    # the library's batched entry point: jit(vmap) on one device; with a mesh, every
    # device runs its own vmapped loop (shard_map), or, mode "jit", XLA partitions the
    # batch of one jitted vmapped call (loops advance in lockstep across devices)
    if len(devices) == 1:
        modes = {"jit": gru_bif.batched(one)}
    else:
        modes = {"shard_map": gru_bif.batched(one, mesh=mesh, mode="shard_map")}
        if shard_map:
            modes["jit"] = gru_bif.batched(one, mesh=mesh, mode="jit")
    if chunk:
        # the same, each device's batch in consecutive chunks (cache-sized on a CPU)
        first = next(iter(modes))
        modes[f"{first}, chunks of {chunk}"] = gru_bif.batched(
            one, mesh=None if len(devices) == 1 else mesh,
            mode="auto" if len(devices) == 1 else "shard_map", chunk_size=chunk)
    rows = []
    for n, (mode, fn) in [(n, m) for n in sizes for m in modes.items()]:
        if "chunks" in mode and n <= 2 * chunk * len(devices):
            continue
        n_pad = -(-n // len(devices)) * len(devices)
        w = {k: jnp.asarray(v) for k, v in random_grus(n, seed).items()}
        t0 = time.perf_counter()
        out = jax.block_until_ready(fn(w))  # first call: trace, compile, run
        t_first = time.perf_counter() - t0
        times = []
        for _ in range(repeats if n < 100_000 else 1):
            t0 = time.perf_counter()
            out = jax.block_until_ready(fn(w))
            times.append(time.perf_counter() - t0)
        t_lower, t_compile = 0.0, max(t_first - min(times), 0.0)
        ok = np.asarray(out["ok"])[:n]
        nh = np.asarray(out["n_hopf"])[:n]
        steps = np.asarray(out["steps"])[:n]
        hp = np.asarray(out["hopf_p"])[: min(n, 200)]
        fp = np.asarray(out["fold_p"])[: min(n, 200)]
        rows.append(dict(n=n, mode=mode, n_padded=n_pad, devices=len(devices), lower_s=t_lower,
                         compile_s=t_compile, run_s=sorted(times)[len(times) // 2],
                         run_all_s=times, started=float(ok.mean()),
                         mean_hopf=float(nh.mean()),
                         mean_fold=float(np.asarray(out["n_fold"])[:n].mean()),
                         mean_steps=float(steps.mean()),
                         max_steps=int(steps.max()),
                         started_list=ok[:200].tolist(),
                         hopf_p=[sorted(x for x in r if x == x) for r in hp.tolist()],
                         fold_p=[sorted(x for x in r if x == x) for r in fp.tolist()]))
        print(f"[batch child] N={n} devices={len(devices)} {mode} compile {t_compile:.2f} s "
              f"run {rows[-1]['run_s']:.3f} s", file=sys.stderr, flush=True)
    return rows


_XPP = """par p=-1
par a11=1,a12=0,a21=0,a22=1
par z11=0,z12=0,z21=0,z22=0,r11=0,r12=0,r21=0,r22=0,bz1=0,bz2=0,br1=0,br2=0,bh2=0
zz1=1/(1+exp(-(z11*h1+z12*h2+bz1)))
zz2=1/(1+exp(-(z21*h1+z22*h2+bz2)))
rr1=1/(1+exp(-(r11*h1+r12*h2+br1)))
rr2=1/(1+exp(-(r21*h1+r22*h2+br2)))
h1' = (1-zz1)*(tanh(a11*rr1*h1+a12*rr2*h2+p) - h1)
h2' = (1-zz2)*(tanh(a21*rr1*h1+a22*rr2*h2+bh2) - h2)
init h1=0, h2=0
done
"""


def child_xpp(k, seed):
    import xpplab

    w = random_grus(k, seed)
    m = xpplab.Model.from_text(_XPP)
    times, hopf, fold, started = [], [], [], []
    for i in range(k):
        vals = {"p": P0, "h1": w["x0"][i, 0], "h2": w["x0"][i, 1], "bh2": w["bh"][i, 1]}
        for a in range(2):
            for b in range(2):
                vals[f"a{a + 1}{b + 1}"] = w["Uh"][i, a, b]
                vals[f"z{a + 1}{b + 1}"] = w["Uz"][i, a, b]
                vals[f"r{a + 1}{b + 1}"] = w["Ur"][i, a, b]
            vals[f"bz{a + 1}"] = w["bz"][i, a]
            vals[f"br{a + 1}"] = w["br"][i, a]
        t0 = time.perf_counter()
        m.auto.reset()
        m.set(**{key: float(v) for key, v in vals.items()})
        try:
            d = m.auto.equilibria("p", ds=DS, dsmax=DS_MAX, dsmin=1e-5, nmax=MAX_STEPS,
                                  npr=10 * MAX_STEPS, parmin=P0, parmax=P1, epss=1e-7,
                                  epsl=1e-10, epsu=1e-10)
            hopf.append(sorted(float(pt.value) for pt in d.special("HB")))
            fold.append(sorted(float(pt.value) for pt in d.special("LP")))
            started.append(len(d) > 2)
        except Exception:
            hopf.append(None)
            fold.append(None)
            started.append(False)
        times.append(time.perf_counter() - t0)
    return dict(k=k, per_diagram_s=sorted(times)[len(times) // 2], times=times, hopf_p=hopf,
                fold_p=fold, started=started)


# ----------------------------------------------------------------------------- parent
def compare(row, xp):
    """Hopf points and folds of gru_bif vs xpplab on the GRUs where both started."""
    same, diffs, k, only_xpp, only_gb = 0, [], 0, 0, 0
    for i, (h_x, f_x, s_x) in enumerate(zip(xp["hopf_p"], xp["fold_p"], xp["started"])):
        if i >= len(row["hopf_p"]):
            break
        s_g = row["started_list"][i]
        only_xpp += s_x and not s_g
        only_gb += s_g and not s_x
        if not (s_x and s_g):
            continue
        k += 1
        h_g, f_g = row["hopf_p"][i], row["fold_p"][i]
        if len(h_g) == len(h_x) and len(f_g) == len(f_x):
            d = [abs(a - b) for a, b in zip(h_g + f_g, h_x + f_x)]
            if all(x < 1e-4 for x in d):
                same += 1
                diffs += d
    return dict(compared=k, same=same, max_diff=max(diffs) if diffs else None,
                started_only_xpplab=only_xpp, started_only_gru_bif=only_gb)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10,100,1000,10000")
    ap.add_argument("--full", action="store_true", help="add N = 100,000")
    ap.add_argument("--devices", default="1,2,4,8")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--xpp", type=int, default=20, help="diagrams AUTO (xpplab) computes")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--shard-map", action="store_true",
                    help="on more than one device, also time gru_bif.batched(mode='jit') "
                         "next to the default per-device loops (mode 'shard_map')")
    ap.add_argument("--chunk", type=int, default=1000,
                    help="also time gru_bif.batched(..., chunk_size=CHUNK) where N > 2·CHUNK "
                         "per device (0: off)")
    ap.add_argument("--quick", action="store_true", help="CI smoke run: N = 8, 1 repeat, 1 and 2 devices")
    ap.add_argument("--out", default=str(C.RESULTS))
    ap.add_argument("--child", choices=["jax", "xpp"], help=argparse.SUPPRESS)
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")] + ([100_000] if a.full else [])
    if a.quick:
        sizes, a.repeats, a.xpp, a.devices = [8], 1, 4, "1,2"
    if a.child == "jax":
        print(json.dumps({"rows": child_jax(sizes, a.repeats, a.seed, a.shard_map,
                                            a.chunk)}))
        return
    if a.child == "xpp":
        print(json.dumps(child_xpp(a.xpp, a.seed)))
        return

    script = os.path.abspath(__file__)
    meta = C.machine()
    meta.update(sizes=sizes, repeats=a.repeats, ds=DS, ds_max=DS_MAX, max_steps=MAX_STEPS,
                quick=a.quick)
    base = [script, "--sizes", ",".join(map(str, sizes)), "--repeats", str(a.repeats),
            "--xpp", str(a.xpp), "--seed", str(a.seed), "--chunk", str(a.chunk)] + (
                ["--shard-map"] if a.shard_map else [])
    status = C.peer_status("xpplab")
    xpp = C.run_child(base + ["--child", "xpp"]) if status is None else {"status": status}
    print(f"[batch] xpplab: {xpp.get('status', 'ok')} "
          f"{C.fmt_time(xpp.get('per_diagram_s'))} per diagram", flush=True)
    runs = {}
    for nd in [int(x) for x in a.devices.split(",")]:
        env = {"XLA_FLAGS": f"--xla_force_host_platform_device_count={nd}"}
        res = C.run_child(base + ["--child", "jax"], env=env, timeout=3600)
        if "status" in res:
            runs[nd] = {"status": res["status"], "rows": []}
        else:
            runs[nd] = {"status": "ok", "rows": res["rows"]}
        for r in runs[nd]["rows"]:
            print(f"[batch] devices={nd} N={r['n']} {r['mode']}: compile {r['compile_s']:.2f} s, "
                  f"run {C.fmt_time(r['run_s'])}", flush=True)
    per_xpp = xpp.get("per_diagram_s")
    check = None
    for nd, run in runs.items():
        for r in run["rows"]:
            r["diagrams_per_s"] = r["n"] / r["run_s"]
            r["per_diagram_s"] = r["run_s"] / r["n"]
            r["speedup_vs_xpplab"] = per_xpp / r["per_diagram_s"] if per_xpp else None
            r["xpplab_time_for_n_s"] = per_xpp * r["n"] if per_xpp else None
            if "hopf_p" in xpp and (check is None or check["compared"] < xpp["k"]):
                check = compare(r, xpp)  # from the first row with enough GRUs
            for key in ("hopf_p", "fold_p", "started_list"):
                r[key] = r[key][:5]  # keep the JSON small
    one = {r["n"]: r for r in runs.get(1, {}).get("rows", []) if r["mode"] == "jit"}
    for nd, run in runs.items():
        for r in run["rows"]:
            r1 = one.get(r["n"])
            r["speedup_vs_1_device"] = r1["run_s"] / r["run_s"] if r1 else None
    meta["load_average_at_end"] = C.load_average()
    data = {"benchmark": "batch", "meta": meta, "xpplab": xpp, "hopf_check": check,
            "runs": {str(k): v for k, v in runs.items()}}
    md = C.header("Many diagrams in one vmapped call (random 2-D GRUs)", meta)
    if per_xpp:
        md += [f"AUTO (xpplab), one diagram after another: {C.fmt_time(per_xpp)} per "
               f"diagram (median of {xpp['k']}).", ""]
    else:
        md += [f"AUTO (xpplab): {xpp.get('status')}.", ""]
    if check:
        md += [f"Check against xpplab on the first {xpp['k']} GRUs: both started on "
               f"{check['compared']}; the same Hopf points and folds (within 1e-4) on "
               f"{check['same']} of them, largest difference {C.fmt_err(check['max_diff'])}; "
               f"only xpplab started on {check['started_only_xpplab']}, only gru_bif on "
               f"{check['started_only_gru_bif']}.", ""]
    md += ["| devices | mode | N | compile | run (median) | diagrams/s | per diagram | "
           "vs xpplab | vs 1 device | started | Hopf, folds / diagram | steps (mean) |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for nd, run in runs.items():
        if run["status"] != "ok":
            md.append(f"| {nd} | {run['status']} | | | | | | | | | | |")
        for r in run["rows"]:
            md.append(
                f"| {nd} | {r['mode']} | {r['n']} | {C.fmt_time(r['lower_s'] + r['compile_s'])} | "
                f"{C.fmt_time(r['run_s'])} | {r['diagrams_per_s']:.0f} | "
                f"{C.fmt_time(r['per_diagram_s'])} | {C.fmt_ratio(r['speedup_vs_xpplab'])} | "
                f"{C.fmt_ratio(r['speedup_vs_1_device'])} | {r['started']:.0%} | "
                f"{r['mean_hopf']:.2f}, {r['mean_fold']:.2f} | {r['mean_steps']:.0f} |")
    md += ["", "compile = first call − fastest warm call (trace, lower and XLA compile; once "
           "per N and device count); "
           "vs xpplab = xpplab's per-diagram time / gru_bif's (> 1: gru_bif faster); "
           "mode = that of `gru_bif.batched(f, mesh=...)`: jit = one jitted vmapped call "
           "(sharded input on more than one device), shard_map = every device runs its "
           "own vmapped loop; simulated devices share the same CPU cores; runs with "
           "N = 100,000 are timed once."]
    C.write(a.out, "batch", data, md)
    print("\n".join(md))


if __name__ == "__main__":
    main()
