"""Figures of `gru-bif reproduce` beyond the hand-built networks: the census of random
2-D GRUs (`fig_census`) and the trained networks (`fig_trained`). Registered in
`gru_bif.reproduce.FIGURES`."""

import pathlib

import numpy as np

from .._io import write_atomic
from ..plotting import plot_phase_portrait
from ._common import _row, _save

RETRAIN = {"on": False}
"""Set by `gru_bif.reproduce.run(..., retrain=True)`: `fig_trained` trains the networks
again (about a minute per task on 2 cores) instead of loading the shipped weights."""

CENSUS_SCALES = (1.0, 2.0, 3.0, 4.0, 6.0, 8.0)
CENSUS_N = 80


def fig_census(out: pathlib.Path) -> dict:
    import matplotlib.pyplot as plt

    from .. import census as C

    name = "fig_census"
    tabs = {
        "random gates": C.census(CENSUS_SCALES, CENSUS_N, seed=0),
        "z = r = 1/2": C.census(CENSUS_SCALES, CENSUS_N, seed=0, fixed_gates=True),
    }
    for label, tab in tabs.items():
        write_atomic(out / f"census_{'random' if 'random' in label else 'fixed'}_gates.json",
                     tab.to_json())
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    tr = tabs["random gates"]
    cf = tr.count_fractions()
    bottom = np.zeros(len(tr.scales))
    for k, v in cf.items():
        axes[0].bar(range(len(tr.scales)), v, bottom=bottom, label=f"{k} fixed point(s)")
        bottom += v
    axes[0].set_xticks(range(len(tr.scales)), [f"{s:g}" for s in tr.scales])
    axes[0].set_xlabel("weight scale s")
    axes[0].set_ylabel("fraction of networks")
    axes[0].set_title(f"number of fixed points ({CENSUS_N} random 2-D GRUs per scale)",
                      fontsize=9)
    axes[0].legend(fontsize=7)
    tf = tr.topology_fractions()
    for nm in list(tf)[:6]:
        axes[1].plot(tr.scales, tf[nm], marker="o", label=nm)
    axes[1].set_xlabel("weight scale s")
    axes[1].set_title("most frequent topologies (random gates)", fontsize=9)
    axes[1].legend(fontsize=7)
    for label, tab in tabs.items():
        axes[2].plot(tab.scales, tab.cycle_fraction(), marker="o", label=f"limit cycle ({label})")
        axes[2].plot(tab.scales, np.mean(tab.kind_counts[..., 0] + tab.kind_counts[..., 1] > 1,
                                         axis=-1), marker="s", ls="--",
                     label=f"multistable ({label})")
    axes[2].set_xlabel("weight scale s")
    axes[2].set_title("attracting limit cycles and multistability", fontsize=9)
    axes[2].legend(fontsize=7)
    fig.tight_layout()
    files = [_save(fig, out, name)]

    rows = []
    tf_ = tabs["z = r = 1/2"]
    mx_fixed = int(tf_.count.max())
    mx_rand = int(tr.count.max())
    rows.append(_row(
        name, "with U_r = 0 a 2-D GRU has at most 9 fixed points (census, z = r = 1/2)",
        "≤ 9 (11 needs the reset gate)",
        f"max {mx_fixed} over {tf_.count.size} networks (z = r = 1/2); max {mx_rand} over "
        f"{tr.count.size} with random gates", mx_fixed <= 9,
        max_fixed_gates=mx_fixed, max_random_gates=mx_rand))
    # index theory: on the attracting square, sinks + sources + foci − saddles = 1
    ok_all, n_h = True, 0
    for tab in tabs.values():
        kc = tab.kind_counts.reshape(-1, 6)
        hyper = (kc[:, 5] == 0) & ~tab.truncated.reshape(-1)
        n_h += int(hyper.sum())
        idx = kc[:, 0] + kc[:, 1] + kc[:, 2] + kc[:, 3] - kc[:, 4]
        ok_all &= bool(np.all(idx[hyper] == 1))
    rows.append(_row(
        name, "fixed-point census consistent with index theory: #nodes + #foci − #saddles = 1 "
        "(the square is forward-invariant), so counts are odd",
        "(elementary; not stated)", f"holds for all {n_h} hyperbolic networks" if ok_all
        else "violated", ok_all, hyperbolic_networks=n_h))
    cyc = {k: t.cycle_fraction() for k, t in tabs.items()}
    rows.append(_row(
        name, "stable limit cycles occur in random 2-D GRUs, more often at larger weights",
        "stable limit cycles exist",
        "; ".join(f"{k}: " + ", ".join(f"{v:.3f}" for v in f) for k, f in cyc.items())
        + " at s = " + ", ".join(f"{s:g}" for s in CENSUS_SCALES) + " *(simulation "
        "criterion, census docstring)*", bool(cyc["random gates"][-1] > 0),
        cycle_fraction={k: v for k, v in cyc.items()}))
    multi = np.mean(tr.kind_counts[..., 0] + tr.kind_counts[..., 1] > 1, axis=-1)
    rows.append(_row(
        name, "multistability (≥ 2 stable fixed points) with various topologies",
        "multi-stable dynamics with various topologies",
        "fraction multistable " + ", ".join(f"{v:.3f}" for v in multi)
        + f"; {len(tf)} distinct topologies (random gates)", bool(multi[-1] > 0),
        multistable=multi, topologies={k: v for k, v in list(tf.items())[:10]}))
    return {"files": files, "rows": rows}


def fig_trained(out: pathlib.Path) -> dict:
    import jax
    import jax.numpy as jnp
    import matplotlib.pyplot as plt

    from .. import trained as T
    from ..equilibria import find_equilibria

    name = "fig_trained"
    nets, recs = {}, {}
    for task in T.TASKS:
        if RETRAIN["on"]:
            net, hist = T.train(task)
            T.save(out / f"trained_{task}.json", net, hist)
            net, rec = T.load(out / f"trained_{task}.json")
        else:
            net, rec = T.load_shipped(task)
        nets[task], recs[task] = net, rec
    res = {task: T.analyse(net) for task, net in nets.items()}
    # fixed points during training (checkpoints)
    evol = {}
    for task in ("line", "ring"):
        evol[task] = []
        for c in recs[task]["checkpoints"]:
            g = c["network"].gru
            eq = find_equilibria(g, jnp.zeros((g.input_size,)), num_starts=256)
            evol[task].append((c["step"], c["loss"], eq.counts()))

    fig, axes = plt.subplots(2, 3, figsize=(15, 9))
    for ax, task in zip(axes[0], T.TASKS):
        tr = recs[task]["training"]
        ax.semilogy(tr["loss_steps"], tr["losses"])
        ax.set_xlabel("Adam step")
        ax.set_ylabel("training loss")
        ax.set_title(f"{task} task: learning curve", fontsize=9)
    for ax, task in zip(axes[1], T.TASKS):
        net = nets[task]
        g = net.gru
        u = jnp.zeros((g.input_size,)) if g.input_size else None
        plot_phase_portrait(g, u, ax=ax, xlim=(-1.1, 1.1), legend=True)
        a = res[task]
        if task == "cycle":
            orb = np.asarray(a["orbit"])
            ax.plot(orb[:, 0], orb[:, 1], color="tab:red", lw=2, zorder=4)
            ax.set_title(f"cycle: unstable focus, stable cycle T = {a['period']:.2f} "
                         "(target 10)", fontsize=9)
        else:
            data = T.make_dataset(task, jax.random.PRNGKey(7), 64)
            hs = np.asarray(jax.vmap(net.rollout)(data[0], data[3]))
            ax.plot(hs[..., 0].ravel(), hs[..., 1].ravel(), ".", ms=1.5, color="tab:red",
                    alpha=0.4, zorder=3)
            ax.set_title(f"{task}: {a['num_sinks']} sinks, {a['num_saddles']} saddle(s); "
                         "red: states visited on test trials", fontsize=9)
    fig.tight_layout()
    files = [_save(fig, out, name)]

    a = res["cycle"]
    rows = [_row(
        name, "a GRU trained to oscillate has a stable limit cycle (around an unstable focus)",
        "trained limit cycle [known]",
        f"{a['counts']}; stable cycle of period {a['period']:.3f} (target 10 in the Euler-"
        f"trained discretisation Δt = 1/2), amplitude {a['amplitude']:.3f} *(simulation)*; "
        f"final loss {recs['cycle']['training']['final_loss']:.3g}",
        a["counts"] == {"unstable focus": 1} and abs(a["period"] - 10) < 2,
        period=a["period"], counts=a["counts"])]
    a = res["line"]
    rows.append(_row(
        name, "trained on an analogue-memory task, the GRU has no line attractor: isolated "
        "fixed points and slow drift between them",
        "unable to train continuous attractors",
        f"{a['counts']}; values held indefinitely only at y = "
        + ", ".join(f"{v:+.3f}" for v in a["sink_values"])
        + f" (largest gap {a['max_gap']:.3f} of the trained range [−0.8, 0.8]); median speed "
        f"on the held states {a['speed_on_manifold']['median']:.2e}; the memory states "
        "survive a constant input only for u ∈ ["
        + ", ".join(f"{v:+.4f}" for v in a["input_folds"]) + "] (folds, continuation in u)",
        a["num_sinks"] < 5 and a["speed_on_manifold"]["median"] > 0,
        **{k: a[k] for k in ("counts", "sink_values", "max_gap", "input_folds")},
        speed=a["speed_on_manifold"]))
    a = res["ring"]
    rows.append(_row(
        name, "trained to remember an angle, the GRU has no ring attractor: few sinks on an "
        "approximate ring, slow drift between them",
        "unable to train continuous attractors",
        f"{a['counts']}; sinks at angles " + ", ".join(f"{v:.1f}°" for v in a["sink_angles_deg"])
        + f" (largest gap {a['max_gap_deg']:.1f}°), ring radius {a['ring_radius']:.3f}; median "
        f"speed on the ring {a['speed_on_manifold']['median']:.2e}; test loss "
        f"{a['test_loss']:.3g}", a["num_sinks"] < 5,
        **{k: a[k] for k in ("counts", "sink_angles_deg", "max_gap_deg")},
        speed=a["speed_on_manifold"]))
    for task in ("line", "ring"):
        txt = "; ".join(f"step {s}: loss {l:.3g}, " + ", ".join(
            f"{n} {k}" for k, n in c.items()) for s, l, c in evol[task])
        rows.append(_row(
            name, f"{task} task: fixed points during training (shipped checkpoints)",
            "never a continuum", txt,
            all(sum(c.values()) < 10 for _, _, c in evol[task]),
            checkpoints=[{"step": s, "loss": l, "counts": c} for s, l, c in evol[task]]))
    return {"files": files, "rows": rows}
