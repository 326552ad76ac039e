"""Two-parameter continuation: a fold curve and a Hopf curve of a 2-D GRU, cold (first
call, with compilation) and warm (median of repeated calls with new parameter values,
which reuse the compiled code), and the accuracy of the located Bogdanov–Takens point.

Network 4 of paper.md: U_h = [[3, −1.5], [1.5, 3]], b_h = (b1, b2); p1 = b_h[1] (free),
p2 = b_h[0] ∈ [−0.3, 0.4], started from the fold / Hopf point of the one-parameter branch
in b_h[1] at b_h[0] = 0.1 (the fold next to the Hopf point); ds = 0.01, ds_max = 0.05, max_steps = 400. Each case runs in
a fresh child process (so "cold" includes compilation, as a new process would see it).
"warm" re-runs the same curve with b_h[0]'s start moved by 1e-3 (new values, same
shapes). Per-step time = warm time / accepted steps. The BT row compares the BT point
found on the fold curve with the one found on the Hopf curve (independent defining
systems and test functions).

    python benchmarks/bench_curves.py [--quick] [--repeats 3] [--out benchmarks/results]

`--quick`: the Hopf curve only, max_steps = 100 and one warm repeat (a smoke run). Writes `curves.json` and
`curves.md`.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402


def child(kind: str, repeats: int, max_steps: int) -> dict:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np

    import gru_bif
    from gru_bif.curves import fold_curve, hopf_curve

    Uh = jnp.array([[3.0, -1.5], [1.5, 3.0]])

    def start(b1):
        pr = gru_bif.Problem.from_gru(gru_bif.GRU(Uh, bh=jnp.array([b1, -0.8])), "bh[1]")
        g = jnp.linspace(-0.9, 0.9, 5)
        eq = gru_bif.find_equilibria(pr, guesses=jnp.stack(jnp.meshgrid(g, g), -1).reshape(-1, 2))
        br = gru_bif.continuation(pr, eq.x[0], -0.8, p_min=-0.8, p_max=-0.4, ds=0.01)
        return pr, br

    fn = fold_curve if kind == "fold" else hopf_curve
    kw = dict(p_min=-0.3, p_max=0.4, ds=0.01, ds_max=0.05, max_steps=max_steps)
    def index(br):
        sp = br.special.to_list()
        i_h = [i for i, s in enumerate(sp) if s["kind"] == "hopf"][0]
        if kind == "hopf":
            return i_h
        return min((i for i, s in enumerate(sp) if s["kind"] == "fold"),
                   key=lambda i: abs(sp[i]["p"] - sp[i_h]["p"]))

    pr, br = start(0.1)
    t0 = time.perf_counter()
    c = fn(pr, br, "bh[0]", index=index(br), **kw)
    jax.block_until_ready(c.x)
    cold = time.perf_counter() - t0
    warm = []
    for r in range(repeats):
        pr2, br2 = start(0.1 + 1e-3 * (r + 1))
        t0 = time.perf_counter()
        c2 = fn(pr2, br2, "bh[0]", index=index(br2), **kw)
        jax.block_until_ready(c2.x)
        warm.append(time.perf_counter() - t0)
    steps = int(c.stats["steps"])
    specials = c.special.to_list()
    bt = [s for s in specials if s["kind"] == "bt"]
    return {
        "status": "ok",
        "kind": kind,
        "cold_s": cold,
        "warm_s": float(np.median(warm)),
        "points": int(c.num_points),
        "steps": steps,
        "per_step_s": float(np.median(warm)) / max(steps, 1),
        "newton_iterations": int(c.stats["newton_iterations"]),
        "special": [s["kind"] for s in specials],
        "bt": [{"b1": s["p"], "b2": s["p1"], "a": s["a"], "b": s["b"]} for s in bt],
        "stop_reason": c.stop_reason,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=str(C.RESULTS))
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--max-steps", type=int, default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    max_steps = a.max_steps or (100 if a.quick else 400)
    repeats = 1 if a.quick else a.repeats
    if a.child:
        print(json.dumps(child(a.child, repeats, max_steps)))
        return
    meta = C.machine()
    rows = {}
    for kind in ("fold", "hopf"):
        if a.quick and kind == "fold":
            rows[kind] = {"status": "skipped (--quick)"}
            continue
        rows[kind] = C.run_child(
            [__file__, "--child", kind, "--max-steps", str(max_steps),
             "--repeats", str(repeats)], timeout=1800,
        )
    bts_f, bts_h = rows["fold"].get("bt") or [], rows["hopf"].get("bt") or []
    gap = None
    if bts_f and bts_h:  # each BT of the fold curve against the nearest of the Hopf curve
        gap = max(
            min(max(abs(f["b1"] - h["b1"]), abs(f["b2"] - h["b2"])) for h in bts_h)
            for f in bts_f
        )
    data = {"meta": meta, "max_steps": max_steps, "quick": a.quick, "curves": rows,
            "bt_fold_vs_hopf": gap}
    md = C.header("Two-parameter curves (network 4 of paper.md, float64, CPU)", meta)
    md += [
        "| curve | cold (compile + run) | warm | points | steps | per step | special points |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind, r in rows.items():
        if r.get("status") != "ok":
            md.append(f"| {kind} | {r.get('status')} | | | | | |")
            continue
        md.append(
            f"| {kind} | {C.fmt_time(r['cold_s'])} | {C.fmt_time(r['warm_s'])} | "
            f"{r['points']} | {r['steps']} | {C.fmt_time(r['per_step_s'])} | "
            f"{', '.join(r['special']) or '—'} |"
        )
    md += ["", f"BT points (b1, b2, a, b): fold curve {bts_f}; Hopf curve {bts_h}; largest "
           f"distance between matching points {C.fmt_err(gap)} (independent defining "
           "systems and test functions)."]
    C.write(a.out, "curves", data, md)
    print("\n".join(md))


if __name__ == "__main__":
    main()
