"""Small GRUs trained on tasks that need a limit cycle, a line attractor or a ring
attractor (the training experiments of Jordan, Sokół & Park 2021, at a scale that runs on
two CPU cores in about a minute each), and their analysis by the library.

**Model.** A continuous-time GRU ([`gru_bif.GRU`][], `reset="before"`, hidden size 2)
with a linear readout `y = W_out h + b_out`, trained through the **Euler discretisation**
of its ODE, `h_{k+1} = h_k + Δt · f(h_k, u_k)` with `Δt = 1/2` (`Δt = 1` would be the
discrete GRU step itself). The trained ODE `dh/dt = f(h, u)` is what is analysed; the
Euler step is close enough to it at `Δt = 1/2` that the analysis of the ODE explains the
trained behaviour (checked: the ODE's simulated cycle period vs the target's).

**Tasks** (sizes, loss and sequences are ours; the paper's are not known here):

- `"cycle"`: no input; from the fixed start `h0 = (0.5, 0)` produce `y(t) = sin(2πt/10)`
  (period 10 time units, 80 Euler steps = 4 periods); loss: mean squared error.
- `"line"` (remember an analogue value): input `u ∈ {−1, 0, 1}`, pulses at random steps
  (probability 0.08 per step); target: `y = 0.2 · (running sum of the pulses)` clipped to
  [−0.8, 0.8]. A perfect solution holds any value between pulses: a line attractor of
  the input-free dynamics.
- `"ring"` (remember an angle): input `(cos θ, sin θ)` during the first 2 steps, then 0;
  target `(cos θ, sin θ)` after the pulse (the first 4 steps are not scored), 50 steps
  in all. A perfect solution is a ring attractor of the input-free dynamics.

Training: Adam (optax), full-batch on a fixed training set of 256 sequences, in chunks of
steps compiled as one `lax.scan`. The shipped weights (`gru_bif/data/trained_*.json`)
were made by [`gru_bif.trained.train`][] with its defaults (`DEFAULTS`, per task); checkpoints during
training are shipped too, so that the analysis can follow how the fixed points along a
line or ring change as the loss falls.

**Analysis** ([`gru_bif.trained.analyse`][]): fixed points of the input-free ODE
([`gru_bif.find_equilibria`][]), slow points ([`gru_bif.find_slow_points`][]), and for
the memory tasks the *negative claim* quantified: how many isolated fixed points lie
along the approximate line/ring, the gaps between the stored values (readout of the
sinks), the speed along the line/ring between them, and (line task) the continuation of
each memory state in the constant input `u` (the folds bound the inputs it survives).
"""

from __future__ import annotations

import json
import math
import pathlib
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from ._compile import filter_jit, jit
from ._custom_types import Array, Float
from .models.gru import GRU

__all__ = [
    "TASKS",
    "TrainedNetwork",
    "analyse",
    "load",
    "load_shipped",
    "DEFAULTS",
    "make_dataset",
    "save",
    "shipped_path",
    "task_loss",
    "train",
]

TASKS = ("cycle", "line", "ring")
DT = 0.5
"""The Euler step of the training rollouts."""

_SPEC = {
    # task: (input size, output size, sequence length)
    "cycle": (0, 1, 80),
    "line": (1, 1, 60),
    "ring": (2, 2, 50),
}
CYCLE_PERIOD = 10.0
LINE_GAIN = 0.2
LINE_CLIP = 0.8
LINE_PULSE_PROB = 0.08
RING_PULSE_STEPS = 2
RING_SKIP = 4


def _check_task(task: str) -> str:
    if task not in TASKS:
        raise ValueError(f"Unknown task {task!r}; choose one of {TASKS}.")
    return task


class TrainedNetwork(eqx.Module):
    """A GRU with a linear readout, trained on one of `TASKS`.

    **Fields:** `gru` (a [`gru_bif.GRU`][]), `W_out` `(k, d)`, `b_out` `(k,)`, `task`,
    `dt` (the Euler step of training).
    """

    gru: GRU
    W_out: Float[Array, "k d"]
    b_out: Float[Array, " k"]
    task: str = eqx.field(static=True)
    dt: float = eqx.field(static=True, default=DT)

    def readout(self, h):
        """`W_out h + b_out` (any leading batch axes)."""
        return h @ self.W_out.T + self.b_out

    def rollout(self, inputs, h0):
        """Euler rollout `h_{k+1} = h_k + dt·f(h_k, u_k)`: states after each step,
        shape `(L, d)`, for inputs `(L, m)` and start `h0` `(d,)`."""

        def step(h, u):
            h = h + self.dt * self.gru(0.0, h, u)
            return h, h

        _, hs = jax.lax.scan(step, h0, inputs)
        return hs

    def to_dict(self) -> dict[str, Any]:
        return {
            "gru": self.gru.to_dict(),
            "W_out": np.asarray(self.W_out).tolist(),
            "b_out": np.asarray(self.b_out).tolist(),
            "task": self.task,
            "dt": float(self.dt),
        }

    @classmethod
    def from_dict(cls, d) -> "TrainedNetwork":
        return cls(
            gru=GRU.from_dict(d["gru"]),
            W_out=jnp.asarray(d["W_out"]),
            b_out=jnp.asarray(d["b_out"]),
            task=_check_task(str(d["task"])),
            dt=float(d["dt"]),
        )


# --------------------------------------------------------------------------- data


def make_dataset(task: str, key, num: int = 256, dtype=None):
    """Training sequences: `(inputs (N, L, m), targets (N, L, k), mask (N, L),
    h0 (N, d=2))`; `mask` marks the scored steps."""
    _check_task(task)
    dtype = jnp.result_type(float) if dtype is None else dtype
    m, k, L = _SPEC[task]
    if task == "cycle":
        t = DT * jnp.arange(1, L + 1, dtype=dtype)
        y = jnp.sin(2 * jnp.pi * t / CYCLE_PERIOD)
        inputs = jnp.zeros((1, L, 0), dtype)
        return inputs, y[None, :, None], jnp.ones((1, L), dtype), jnp.array([[0.5, 0.0]], dtype)
    if task == "line":
        k1, k2 = jax.random.split(key)
        on = jax.random.bernoulli(k1, LINE_PULSE_PROB, (num, L))
        sign = jnp.where(jax.random.bernoulli(k2, 0.5, (num, L)), 1.0, -1.0)
        u = (on * sign).astype(dtype)
        y = jnp.clip(LINE_GAIN * jnp.cumsum(u, axis=1), -LINE_CLIP, LINE_CLIP)
        return u[..., None], y[..., None], jnp.ones((num, L), dtype), jnp.zeros((num, 2), dtype)
    theta = jax.random.uniform(key, (num,), dtype, 0.0, 2 * jnp.pi)
    cs = jnp.stack([jnp.cos(theta), jnp.sin(theta)], -1)  # (N, 2)
    pulse = (jnp.arange(L) < RING_PULSE_STEPS).astype(dtype)
    inputs = pulse[None, :, None] * cs[:, None, :]
    targets = jnp.broadcast_to(cs[:, None, :], (num, L, 2))
    mask = jnp.broadcast_to((jnp.arange(L) >= RING_SKIP).astype(dtype), (num, L))
    return inputs, targets, mask, jnp.zeros((num, 2), dtype)


def task_loss(net: TrainedNetwork, data) -> Array:
    """Masked mean squared error of the readout over a dataset from `make_dataset`."""
    inputs, targets, mask, h0 = data
    hs = jax.vmap(net.rollout)(inputs, h0)
    err = jnp.sum((net.readout(hs) - targets) ** 2, axis=-1)
    return jnp.sum(err * mask) / (jnp.sum(mask) * targets.shape[-1])


DEFAULTS = {
    "cycle": {"seed": 2, "learning_rate": 3e-2, "init_scale": 2.0},
    "line": {"seed": 0, "learning_rate": 1e-2, "init_scale": 1.5},
    "ring": {"seed": 0, "learning_rate": 1e-2, "init_scale": 1.5},
}
"""Per-task defaults of `train` (those of the shipped weights). The cycle task depends on
the seed: with these settings seeds 0 and 1 stayed on a plateau (loss 0.38–0.44, no
oscillation) for 1500 steps and seed 2 reached 6e-5."""


def _init(task: str, key, dtype, scale) -> TrainedNetwork:
    m, k, _ = _SPEC[task]
    k1, k2 = jax.random.split(key)
    gru = GRU.random(k1, 2, m, scale=scale, input_scale=1.0, bias_scale=0.1, dtype=dtype)
    W = 0.5 * jax.random.normal(k2, (k, 2), dtype)
    return TrainedNetwork(gru=gru, W_out=W, b_out=jnp.zeros((k,), dtype), task=task)


@filter_jit
def _chunk(net, opt_state, data, optimizer, n):
    def body(carry, _):
        net, opt_state = carry
        loss, grads = eqx.filter_value_and_grad(task_loss)(net, data)
        updates, opt_state = optimizer.update(grads, opt_state, eqx.filter(net, eqx.is_array))
        return (eqx.apply_updates(net, updates), opt_state), loss

    (net, opt_state), losses = jax.lax.scan(body, (net, opt_state), None, length=n)
    return net, opt_state, losses


def train(
    task: str,
    *,
    steps: int = 1500,
    seed: int | None = None,
    learning_rate: float | None = None,
    init_scale: float | None = None,
    num_sequences: int = 256,
    checkpoints=(0, 100, 300, 1500),
    chunk: int = 50,
    init: TrainedNetwork | None = None,
    dtype=None,
) -> tuple[TrainedNetwork, dict]:
    """Train a 2-unit GRU with a linear readout on `task` with Adam.

    **Arguments:**

    - `task`: one of `TASKS`.
    - `steps`: optimiser steps (full batch).
    - `seed`: for the initial weights and the training set.
    - `learning_rate`: Adam's step size.
    - `init_scale`: the scale of the random initial recurrent weights
        (`GRU.random(..., scale=init_scale)`).
    (`None`: the task's entry of `DEFAULTS`.)
    - `num_sequences`: size of the fixed training set (the cycle task has one).
    - `checkpoints`: steps at which to keep a copy of the network (those `<= steps`).
    - `chunk`: steps per compiled `lax.scan` call (a checkpoint step must be a
        multiple of it, or 0).
    - `init`: start from this network instead of a random one (e.g. a few more steps
        from the shipped weights).

    **Returns:** `(network, history)`; `history` has `losses` (the loss before each
    step, and at the end), `checkpoints` (list of `{"step", "loss", "network"}`), and
    the settings.

    **Raises:** `ValueError` for an unknown task or bad settings.
    """
    _check_task(task)
    seed = DEFAULTS[task]["seed"] if seed is None else seed
    learning_rate = DEFAULTS[task]["learning_rate"] if learning_rate is None else learning_rate
    init_scale = DEFAULTS[task]["init_scale"] if init_scale is None else init_scale
    steps, chunk = int(steps), int(chunk)
    if steps < 0 or chunk < 1:
        raise ValueError(f"steps={steps} (>= 0) and chunk={chunk} (>= 1).")
    cps = sorted({int(c) for c in checkpoints if int(c) <= steps})
    if any(c % chunk for c in cps):
        raise ValueError(f"checkpoints {cps} must be multiples of chunk={chunk}.")
    if not (learning_rate > 0 and math.isfinite(learning_rate)):
        raise ValueError(f"learning_rate={learning_rate}; it must be positive.")
    dtype = jnp.result_type(float) if dtype is None else dtype
    kinit, kdata = jax.random.split(jax.random.PRNGKey(int(seed)))
    data = make_dataset(task, kdata, int(num_sequences), dtype)
    net = _init(task, kinit, dtype, float(init_scale)) if init is None else init
    if net.task != task:
        raise ValueError(f"`init` was trained on {net.task!r}, not {task!r}.")
    optimizer = optax.adam(learning_rate)
    opt_state = optimizer.init(eqx.filter(net, eqx.is_array))
    losses: list[float] = []
    saved = []
    done = 0
    while True:
        if done in cps:
            saved.append({"step": done, "network": net})
        if done >= steps:
            break
        n = min(chunk, steps - done)
        net, opt_state, ls = _chunk(net, opt_state, data, optimizer, n)
        losses.extend(np.asarray(ls).tolist())
        done += n
    final = float(task_loss(net, data))
    losses.append(final)
    for c in saved:
        c["loss"] = losses[c["step"]]
    history = {
        "task": task, "steps": steps, "seed": int(seed), "learning_rate": learning_rate,
        "init_scale": float(init_scale),
        "num_sequences": int(num_sequences), "optimizer": "adam", "dt": DT,
        "losses": np.asarray(losses), "checkpoints": saved,
    }
    return net, history


# --------------------------------------------------------------------------- files


def save(path, net: TrainedNetwork, history: dict | None = None) -> None:
    """Write a trained network (and its training history, losses subsampled to at most
    ~300 values) as JSON."""
    out = {"format": "gru_bif.trained", "version": 1, "network": net.to_dict()}
    if history is not None:
        losses = np.asarray(history["losses"])
        every = max(1, len(losses) // 300)
        out["training"] = {
            k: history[k] for k in ("task", "steps", "seed", "learning_rate", "init_scale",
                                    "num_sequences", "optimizer", "dt")
        }
        out["training"]["loss_steps"] = list(range(0, len(losses), every))
        out["training"]["losses"] = losses[::every].tolist()
        out["training"]["final_loss"] = float(losses[-1])
        out["checkpoints"] = [
            {"step": c["step"], "loss": float(c["loss"]), "network": c["network"].to_dict()}
            for c in history["checkpoints"]
        ]
    from ._io import write_atomic

    write_atomic(path, json.dumps(out) + "\n")


def load(path) -> tuple[TrainedNetwork, dict]:
    """Read a file written by `save`: `(network, record)` where `record` holds the
    `training` settings and losses and the `checkpoints` (networks rebuilt). A file
    that is not such a record is a `ValueError` naming the file and the entry."""
    from ._io import read_json

    what = "a trained network (written by gru_bif.trained.save)"
    d = read_json(path, what)
    if not isinstance(d, dict) or d.get("format") != "gru_bif.trained":
        fmt = d.get("format") if isinstance(d, dict) else type(d).__name__
        raise ValueError(f"{path}: not a gru_bif.trained file (format {fmt!r}).")
    try:
        net = TrainedNetwork.from_dict(d["network"])
        rec = {"training": d.get("training", {}), "checkpoints": [
            {"step": c["step"], "loss": c["loss"],
             "network": TrainedNetwork.from_dict(c["network"])}
            for c in d.get("checkpoints", [])
        ]}
    except KeyError as e:
        raise ValueError(f"{path}: no {e.args[0]!r} entry; expected {what}.") from e
    except (TypeError, ValueError, AttributeError) as e:
        raise ValueError(f"{path}: an entry has the wrong type or shape ({e}); "
                         f"expected {what}.") from e
    return net, rec


def shipped_path(task: str) -> pathlib.Path:
    """Path of the shipped weights for `task` (`gru_bif/data/trained_<task>.json`)."""
    return pathlib.Path(__file__).parent / "data" / f"trained_{_check_task(task)}.json"


def load_shipped(task: str) -> tuple[TrainedNetwork, dict]:
    """The shipped trained network for `task` and its record (see `load`)."""
    return load(shipped_path(task))


# --------------------------------------------------------------------------- analysis


def _angle_gaps(angles) -> np.ndarray:
    a = np.sort(np.mod(np.asarray(angles), 2 * np.pi))
    if len(a) == 0:
        return np.array([2 * np.pi])
    return np.diff(np.concatenate([a, a[:1] + 2 * np.pi]))


def analyse(net: TrainedNetwork, *, num_starts: int = 256, seed: int = 0) -> dict:
    """The library's reading of a trained network: fixed points of the input-free ODE,
    slow points, and per task:

    - `"cycle"`: the attracting cycle of the ODE (simulated from the training start for
      300 time units; period from the last 100), vs the target period 10; the type of
      the fixed point(s) inside.
    - `"line"`: the sinks and saddles, their readouts (the values the network can hold
      indefinitely), the largest gap between held values over the trained range
      [−0.8, 0.8], the speed `|f|` along the line (on the states visited while holding,
      i.e. between pulses in test sequences), and the folds of each sink's branch of
      equilibria under a constant input `u` (continuation in `u[0]`).
    - `"ring"`: sinks and saddles, their angles `atan2` of the readout, the largest gap
      between sink angles, the speed along the ring.

    Returns plain floats/lists (JSON-ready).
    """
    from .continuation import continuation
    from .equilibria import find_equilibria, find_slow_points
    from .problem import Problem
    from .simulate import simulate

    gru = net.gru
    m = gru.input_size
    dtype = gru.Uh.dtype
    u0 = jnp.zeros((m,), dtype)
    eq = find_equilibria(gru, u0 if m else None, num_starts=num_starts,
                         key=jax.random.PRNGKey(seed))
    x = np.asarray(eq.x)
    labels = eq.labels
    out: dict[str, Any] = {
        "task": net.task,
        "fixed_points": x.tolist(),
        "types": labels,
        "counts": eq.counts(),
        "num_fixed_points": int(eq.count),
    }
    slow = find_slow_points(gru, u0 if m else None, num_starts=64, max_steps=300,
                            key=jax.random.PRNGKey(seed + 1))
    sv = np.asarray(slow.valid)
    out["slow_points"] = {
        "x": np.asarray(slow.x)[sv].tolist(),
        "speed": np.sqrt(2 * np.asarray(slow.q)[sv]).tolist(),
        "is_fixed_point": np.asarray(slow.is_fixed_point)[sv].tolist(),
    }
    f = jit(jax.vmap(lambda h: gru(0.0, h, u0 if m else None)))
    sinks = np.array([xi for xi, lab in zip(x, labels) if lab in ("stable node", "stable focus")])
    saddles = np.array([xi for xi, lab in zip(x, labels) if lab == "saddle"])
    out["num_sinks"] = int(len(sinks))
    out["num_saddles"] = int(len(saddles))

    if net.task == "cycle":
        ts = jnp.linspace(0.0, 300.0, 6001, dtype=dtype)
        tr = simulate(gru, None, jnp.array([0.5, 0.0], dtype), ts)
        y = np.asarray(net.readout(tr.xs))[:, 0]
        tt = np.asarray(ts)
        sel = tt >= 200.0
        s = y[sel] - 0.5 * (y[sel].max() + y[sel].min())
        idx = np.nonzero((s[:-1] < 0) & (s[1:] >= 0))[0]
        tc = tt[sel][idx] - s[idx] * (tt[sel][idx + 1] - tt[sel][idx]) / (s[idx + 1] - s[idx])
        period = float(np.diff(tc).mean()) if len(tc) > 1 else float("nan")
        speed_tail = float(np.max(np.linalg.norm(np.asarray(f(tr.xs[sel])), axis=1)))
        out.update(
            period=period, target_period=CYCLE_PERIOD,
            amplitude=float(0.5 * (y[sel].max() - y[sel].min())),
            cycle_speed_min=speed_tail,
            orbit=np.asarray(tr.xs)[sel][::5].tolist(),
        )
        return out

    # memory tasks: the states visited while holding (test sequences, u = 0 steps)
    data = make_dataset(net.task, jax.random.PRNGKey(seed + 7), 256, dtype)
    inputs, targets, mask, h0 = data
    hs = np.asarray(jax.vmap(net.rollout)(inputs, h0))
    quiet = np.all(np.asarray(inputs) == 0, axis=-1) & (np.asarray(mask) > 0)
    held = hs[quiet]
    speeds = np.linalg.norm(np.asarray(f(jnp.asarray(held))), axis=1)
    out["test_loss"] = float(task_loss(net, data))
    out["speed_on_manifold"] = {
        "median": float(np.median(speeds)), "max": float(np.max(speeds)),
        "min": float(np.min(speeds)),
    }
    if net.task == "line":
        yv = np.sort(np.asarray(net.readout(jnp.asarray(sinks)))[:, 0]) if len(sinks) else np.array([])
        ys = np.asarray(net.readout(jnp.asarray(saddles)))[:, 0] if len(saddles) else np.array([])
        inside = np.concatenate([[-LINE_CLIP], yv[(yv > -LINE_CLIP) & (yv < LINE_CLIP)], [LINE_CLIP]])
        out.update(
            sink_values=yv.tolist(), saddle_values=np.sort(ys).tolist(),
            max_gap=float(np.max(np.diff(inside))),
            trained_range=[-LINE_CLIP, LINE_CLIP],
        )
        # continuation of each sink in the constant input u: its folds bound the inputs
        # under which that memory state survives
        folds = []
        pr = Problem.from_gru(gru, "u[0]")
        for s in sinks:
            br = continuation(pr, jnp.asarray(s), 0.0, p_min=-1.0, p_max=1.0, ds=0.02,
                              direction="both", throw=False)
            folds += [sp["p"] for sp in br.special.to_list() if sp["kind"] == "fold"]
        out["input_folds"] = sorted(set(round(v, 10) for v in folds))
        return out
    # ring
    ang = lambda pts: np.arctan2(*np.asarray(net.readout(jnp.asarray(pts))).T[::-1])  # noqa: E731
    sa = np.sort(np.mod(ang(sinks), 2 * np.pi)) if len(sinks) else np.array([])
    da = np.sort(np.mod(ang(saddles), 2 * np.pi)) if len(saddles) else np.array([])
    gaps = _angle_gaps(sa)
    out.update(
        sink_angles_deg=np.degrees(sa).tolist(), saddle_angles_deg=np.degrees(da).tolist(),
        max_gap_deg=float(np.degrees(gaps.max())),
        ring_radius=float(np.median(np.linalg.norm(np.asarray(net.readout(jnp.asarray(held))), axis=1))),
    )
    return out
