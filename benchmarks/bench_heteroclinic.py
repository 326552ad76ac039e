"""Heteroclinic connections (`gru_bif.homoclinic.heteroclinic`): compile time apart from
run time, and accuracy against closed forms and independent shooting.

Cases (float64, each in a fresh child process):

- `pendulum`: the damped pendulum θ'' + μθ' + sin θ = τ; the saddle-to-saddle connection
    from −π to π located at τ = 0 (μ = 0 exactly) by `locate_heteroclinic` from a start
    simulated at μ = 0.05 (T = 40, ntst = 60, ncol = 4; building the start excluded).
    Warm: the median of `--repeats` locations at τ = 1e-3 i (same shapes). Accuracy:
    |μ(0)|, the orbit's largest deviation from the closed form ω = 2 cos(θ/2) at the mesh
    points, |μ(0.1) − μ_shooting(0.1)| (scipy DOP853 + Brent, tests/test_heteroclinic.py),
    and |dμ/dτ(0) − π/4| (implicit derivative).
- `ring`: `connection_graph` of network 7 (the ring, U_h = 3·I₂: 4 saddles, 4 sinks),
    equilibria found beforehand (excluded): simulation of the 8 branches, matching and a
    BVP polish of each (ntst = 40); cold, and warm (median of repeats).
- `curve`: the connection continued in (μ, τ) on the engine from τ = 0 to 0.3
    (`gru_bif.continuation`, ds = 0.05, ds_max = 0.2); cold, warm, per step; |μ − μ_shooting|
    at the last point.

*compile* is JAX's trace + lower + XLA compile time of the first call (monitoring events);
*cold* the whole first call; *warm* the median of further calls with `jax.block_until_ready`.

    python benchmarks/bench_heteroclinic.py [--quick] [--repeats 3] [--out benchmarks/results]

`--quick`: one warm repeat, the curve to τ = 0.1. Writes `heteroclinic.json` and
`heteroclinic.md`.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402

CASES = ("pendulum", "ring", "curve")
HERE = os.path.dirname(os.path.abspath(__file__))


def _shooting():
    sys.path.insert(0, os.path.join(HERE, "..", "tests"))
    from test_heteroclinic import shooting_mu

    return shooting_mu


def child(case: str, repeats: int, quick: bool) -> dict:
    import jax

    jax.config.update("jax_enable_x64", True)
    events = {"trace": 0.0, "lower": 0.0, "compile": 0.0, "programs": 0}
    names = {"/jax/core/compile/jaxpr_trace_duration": "trace",
             "/jax/core/compile/jaxpr_to_mlir_module_duration": "lower",
             "/jax/core/compile/backend_compile_duration": "compile"}

    def listener(event, duration, **kw):
        key = names.get(event)
        if key:
            events[key] += duration
            if key == "compile":
                events["programs"] += 1

    jax.monitoring.register_event_duration_secs_listener(listener)
    import jax.numpy as jnp
    import numpy as np

    import gru_bif
    from gru_bif.homoclinic import (HeteroclinicBranch, connection_graph,
                                    heteroclinic_from_simulation, heteroclinic_point,
                                    locate_heteroclinic)

    def pendulum(t, x, a):
        return jnp.stack([x[1], -a["mu"] * x[1] - a["g"] * jnp.sin(x[0]) + a["tau"]])

    row = {"case": case, "status": "ok"}
    if case in ("pendulum", "curve"):
        pr = gru_bif.Problem(pendulum, {"mu": 0.05, "tau": 0.0, "g": 1.0}, "mu")
        hp, u0 = heteroclinic_from_simulation(pr, [-np.pi, 0.0], [np.pi, 0.0], direction=1,
                                              T=40.0, param2="tau", ntst=60)
    if case == "pendulum":
        def call(i):
            return locate_heteroclinic(hp, u0.at[-1].set(1e-3 * i))

        def summary(sol):
            X = sol.problem.split(sol.u)[0]
            err = np.abs(np.asarray(X[:, 1] - 2 * np.cos(X[:, 0] / 2)))
            s1 = locate_heteroclinic(sol.problem, sol.u.at[-1].set(0.1))
            ref = _shooting()(0.1, (float(s1.p1) - 0.02, float(s1.p1) + 0.02))
            g = jax.grad(lambda tau: heteroclinic_point(
                sol.problem, sol.u.at[-1].set(tau))[-2])(sol.p2)
            return {"mu_at_0": float(sol.p1), "iterations": int(sol.iterations),
                    "closed_form_error_mesh": float(err[::sol.problem.ncol].max()),
                    "closed_form_error_nodes": float(err.max()),
                    "mu_at_0.1": float(s1.p1), "shooting_at_0.1": ref,
                    "shooting_error": abs(float(s1.p1) - ref),
                    "dmu_dtau_error": abs(float(g) - np.pi / 4)}

        row.update(T=40.0, ntst=60, ncol=4)
    elif case == "ring":
        gru, _ = gru_bif.examples.ring()
        prr = gru_bif.Problem.from_gru(gru, "bh[0]")
        eq = gru_bif.find_equilibria(prr)

        def call(i):
            return connection_graph(prr, eq, eps=1e-6 * (1 + 1e-3 * i))

        def summary(g):
            return {"equilibria": eq.counts(), "edges": len(g.edges()),
                    "branches": g.num_edges, "graph": g.edges(),
                    "max_residual": float(np.nanmax(np.asarray(g.residual))),
                    "polished": int(np.asarray(g.polished).sum())}

        row.update(ntst=40, ncol=4)
    else:
        sol = locate_heteroclinic(hp, u0)
        p_max = 0.1 if quick else 0.3

        def call(i):
            return gru_bif.continuation(
                sol.problem.with_reference(sol.u), sol.u[:-1], sol.u[-1] + 1e-6 * i,
                p_min=-0.05, p_max=p_max, ds=0.05, ds_max=0.2, max_steps=80)

        def summary(curve):
            view = HeteroclinicBranch(sol.problem, curve)
            n = len(view)
            tau, mu = float(view.p2[n - 1]), float(view.p1[n - 1])
            ref = _shooting()(tau, (mu - 0.02, mu + 0.02))
            return {"points": n, "tau_end": tau, "mu_end": mu, "shooting_end": ref,
                    "shooting_error": abs(mu - ref)}

        row.update(p_max=p_max)

    before = dict(events)
    t0 = time.perf_counter()
    out = jax.block_until_ready(call(0))
    cold = time.perf_counter() - t0
    split = {k: events[k] - before[k] for k in events}
    warm = []
    for i in range(1, repeats + 1):
        t0 = time.perf_counter()
        jax.block_until_ready(call(i))
        warm.append(time.perf_counter() - t0)
    row.update(cold_s=cold, compile_s=split["trace"] + split["lower"] + split["compile"],
               programs=split["programs"], warm_s=float(np.median(warm)), **summary(out))
    if case == "curve":
        row["warm_per_step_s"] = row["warm_s"] / max(row["points"] - 1, 1)
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", default=",".join(CASES))
    ap.add_argument("--out", default=str(C.RESULTS))
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    repeats = 1 if a.quick else a.repeats
    if a.child:
        print(json.dumps(child(a.child, repeats, a.quick)))
        return
    meta = C.machine("float64")
    rows = {}
    for case in a.only.split(","):
        cmd = [__file__, "--child", case, "--repeats", str(repeats)]
        cmd += ["--quick"] if a.quick else []
        rows[case] = C.run_child(cmd, timeout=1800)
        print(f"{case}: {rows[case].get('status')} cold {C.fmt_time(rows[case].get('cold_s'))}"
              f" warm {C.fmt_time(rows[case].get('warm_s'))}", flush=True)
    data = {"meta": meta, "quick": a.quick, "cases": rows}
    md = C.header("Heteroclinic connections (`bench_heteroclinic.py`)", meta)
    md += ["| case | compile | cold (first call) | warm | accuracy |", "|---|---|---|---|---|"]
    for case, r in rows.items():
        if r.get("status") != "ok":
            md.append(f"| {case} | {r.get('status')} | | | |")
            continue
        if case == "pendulum":
            acc = (f"|μ(0)| {C.fmt_err(abs(r['mu_at_0']))}; closed form (mesh points) "
                   f"{C.fmt_err(r['closed_form_error_mesh'])}; μ(0.1) vs shooting "
                   f"{C.fmt_err(r['shooting_error'])}; dμ/dτ vs π/4 "
                   f"{C.fmt_err(r['dmu_dtau_error'])}")
        elif case == "ring":
            acc = (f"{r['edges']} of {r['branches']} branches connected, "
                   f"{r['polished']} polished, max residual {C.fmt_err(r['max_residual'])}")
        else:
            acc = (f"{r['points']} points to τ = {r['tau_end']:.3f}, "
                   f"{C.fmt_time(r['warm_per_step_s'])}/step; μ vs shooting "
                   f"{C.fmt_err(r['shooting_error'])}")
        md.append(f"| {case} | {C.fmt_time(r['compile_s'])} | {C.fmt_time(r['cold_s'])} | "
                  f"{C.fmt_time(r['warm_s'])} | {acc} |")
    C.write(a.out, "heteroclinic", data, md)
    print("\n".join(md))
    if any(r.get("status") != "ok" for r in rows.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
