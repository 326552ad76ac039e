"""`gru-bif dissect`: a trained GRU's fixed and slow points, checked by long
simulations, and the input levels at which its memories are lost
(`gru_bif.dissect`).

    gru-bif dissect MODEL [--task flipflop|sine] [--states N] [--seed K] [--channel I]
                    [--range A B] [--no-verify] [--out dissect.json] [--plot pca.png]
                    [--diagram input.png]

MODEL is a task network saved by `gru_bif.dissect.TaskNetwork.save` (`.json`; the
shipped flip-flop is `gru_bif.dissect.shipped_path()`), or a PyTorch file (`.pt`,
`torch.save` of a dict with the `torch.nn.GRU`'s state dict under `"gru"` and the
`torch.nn.Linear` readout's under `"readout"`; give `--task`).
"""

import json
import pathlib

from .._io import savefig_atomic, write_atomic
from ._common import _setup_jax, check_outputs


def add_parser(sub, common):
    d = sub.add_parser("dissect", parents=[common],
                       help="fixed points and input bifurcations of a trained GRU")
    d.add_argument("model", help="task network (.json from TaskNetwork.save) or PyTorch file (.pt)")
    d.add_argument("--task", default=None, choices=["flipflop", "sine", "ring"],
                   help="the task the network was trained on (needed for a .pt file)")
    d.add_argument("--states", type=int, default=1024,
                   help="starts sampled from the network's own trajectories")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--channel", type=int, default=0, help="input channel to ramp")
    d.add_argument("--range", type=float, nargs=2, default=[-1.0, 1.0], metavar=("A", "B"),
                   help="input levels to continue the stable points over")
    d.add_argument("--no-verify", action="store_true",
                   help="skip the long simulations that check the attractors")
    d.add_argument("--out", default=None, help="write the points and bifurcations as JSON")
    d.add_argument("--plot", default=None, help="fixed points on the trajectories' principal components")
    d.add_argument("--diagram", default=None, help="the memories against the input")
    d.set_defaults(func=cmd_dissect)
    return d


def _load(args):
    from ..dissect import TaskNetwork

    path = pathlib.Path(args.model)
    if not path.exists():
        raise SystemExit(f"error: {path}: no such file")
    if path.suffix == ".json":
        net, _ = TaskNetwork.load(path)
        return net
    if path.suffix in (".pt", ".pth"):
        if args.task is None:
            raise SystemExit("error: a PyTorch file needs --task flipflop or --task sine")
        try:
            import torch
        except ImportError as e:
            raise SystemExit("error: reading a .pt file needs PyTorch (pip install torch)") from e
        data = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(data, dict) or not {"gru", "readout"} <= set(data):
            raise SystemExit(f"error: {path}: expected a dict with 'gru' (a torch.nn.GRU "
                             "state dict) and 'readout' (a torch.nn.Linear state dict)")
        ro = data["readout"]
        return TaskNetwork.from_torch(data["gru"], (ro["weight"], ro["bias"]), args.task)
    raise SystemExit(f"error: {path}: use a .json task network or a .pt PyTorch file")


def cmd_dissect(args) -> int:
    check_outputs(args, figures=("plot", "diagram"))
    if args.states < 2:
        raise SystemExit("error: --states must be at least 2")
    a, b = args.range
    if not a < b:
        raise SystemExit(f"error: --range {a} {b}: the first level must be below the second")
    _setup_jax(args)
    import jax
    import numpy as np

    from .. import dissect

    net = _load(args)
    m = net.gru.input_size
    if not 0 <= args.channel < max(m, 1) or m == 0:
        raise SystemExit(f"error: --channel {args.channel}: this network has {m} input channels")
    states = dissect.trajectory_states(net, jax.random.PRNGKey(args.seed), args.states)
    fps = dissect.fixed_points(net, states)
    print(fps.summary())
    out = {"format": "gru_bif.dissect", "model": str(args.model), "task": net.task,
           "hidden_size": net.gru.hidden_size, "points": []}
    labels, signs = fps.labels(), fps.sign_labels()
    for i in range(int(fps.count)):
        out["points"].append({
            "x": np.asarray(fps.x[i]).tolist(), "type": labels[i],
            "fixed": bool(fps.is_fixed[i]), "speed": float(fps.speed[i]),
            "readout": np.asarray(fps.readout[i]).tolist(), "signs": signs[i],
            "unstable_ode": int(fps.num_unstable[i]),
            "unstable_map": int(fps.num_unstable_map[i]),
        })
    if not args.no_verify:
        check = dissect.verify_attractors(net, fps, states[: min(256, args.states)])
        print(f"long simulations (t = {check.t_long:.3g}): every start ends at a reported "
              f"stable point: {check.all_matched}; the stable points are exactly the "
              f"attractors reached: {check.exact(fps)}")
        out["attractors_exact"] = bool(check.exact(fps))
    bifs = dissect.input_bifurcations(net, fps, args.channel, (a, b), readout=net)
    for line in bifs.descriptions:
        print(line)
    out["bifurcations"] = list(bifs.descriptions)
    out["bifurcation_levels"] = np.asarray(bifs.p).tolist()
    if args.out:
        write_atomic(args.out, json.dumps(out, indent=1, default=float))
        print(f"wrote {args.out}")
    if args.plot or args.diagram:
        import matplotlib

        matplotlib.use("Agg")
        from ..plotting import plot_fixed_points_pca, plot_input_diagram

        if args.plot:
            traj = jax.vmap(net.run)(dissect.task_batch(
                net.task, jax.random.PRNGKey(args.seed + 1), 8,
                dtype=net.gru.Uh.dtype)[0])
            ax = plot_fixed_points_pca(fps, traj)
            savefig_atomic(ax.figure, args.plot, dpi=120, bbox_inches="tight")
            print(f"wrote {args.plot}")
        if args.diagram:
            ax = plot_input_diagram(bifs, net)
            savefig_atomic(ax.figure, args.diagram, dpi=120, bbox_inches="tight")
            print(f"wrote {args.diagram}")
    return 0
