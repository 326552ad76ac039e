"""Dissecting a trained GRU of realistic size (hidden size 64–256): the 3-bit flip-flop
and a sine-wave generator (Sussillo & Barak 2013), trained with PyTorch's
`torch.nn.GRU` or with optax on [`gru_bif.GRU`][], and the library's reading of them:
fixed and slow points found from the network's own trajectories, the attractors that
long simulations reach, and the bifurcations in an input channel that break the task.

This module is long because it is one pipeline (tasks → training → fixed points →
attractors → bifurcations in the inputs → their gradients), whose pieces share the
`TaskNetwork` container and the conventions stated here once.

**Discrete map and ODE.** A discrete GRU step `h⁺ = z ⊙ h + (1 − z) ⊙ ĥ` is the Euler
step (`Δt = 1`) of the ODE `dh/dt = F(h, u) = (1 − z) ⊙ (ĥ − h)` that the library
analyses. The fixed points of the map and the equilibria of the ODE coincide
(`h⁺ = h ⟺ F = 0`), and so do the folds (eigenvalue `λ = 0` of `J = F_h` ⟺ multiplier
`μ = 1 + λ = 1` of the map). Stability differs in general: the ODE's point is stable when
every `Re λ < 0`, the map's when every `|1 + λ| < 1` (a smaller set). `FixedPoints`
reports both counts of unstable modes (`num_unstable` for the ODE, `num_unstable_map`
for the discrete map that a torch user runs); a Hopf point of the ODE (`Re λ = 0`) is
not a Neimark–Sacker point of the map (`|1 + λ| = 1`).

**Tasks.**

- `"flipflop"` (3-bit flip-flop): three input channels carrying ±1 pulses at random
  steps (probability `p_pulse` per channel and step; every channel pulses at step 0 so
  that the target is defined from the start); three outputs hold the sign of their
  channel's last pulse. A perfect network has 8 stable fixed points of the input-free
  dynamics (the memories) and saddles between them.
- `"sine"`: one input channel holding a constant level `u`; for `u = 0` (a fraction
  `p_rest` of the sequences) the target is 0, otherwise `u ∈ [u_min, u_max]` and the
  target is `sin(ω t)` with `ω = omega_gain · u` radians per step, from `h0 = 0`. The
  rest state at `u = 0` and oscillations for `u ≥ u_min` ask for a Hopf point in `u`.
- `"ring"` (angle memory): two input channels carry `(cos θ, sin θ)` of a random angle
  at random steps; two outputs hold those of the last pulse. A perfect network holds a
  continuum of memories; a trained one holds a ring of slow points with a few fixed
  points on it (the paper's approximate continuous attractors, here at any size).

**Training.** [`gru_bif.dissect.train_torch`][] (`torch.nn.GRU` + `torch.nn.Linear`,
Adam, gradient clipping; torch imported inside) and [`gru_bif.dissect.train_optax`][]
(the library's GRU with `reset="after"`, discrete steps, Adam in one compiled
`lax.scan` per chunk). Both return a [`gru_bif.dissect.TaskNetwork`][] and a history.

**Shipped weights** (`gru_bif/data/flipflop_torch_d64.json`, [`gru_bif.dissect.load_shipped`][]):
a torch-trained 3-bit flip-flop with d = 64, made by

    net, hist = train_torch("flipflop", hidden=64, steps=3000, batch=64, T=150,
                            learning_rate=3e-3, seed=0, task_kw={"p_pulse": 0.03})
    net.save("flipflop_torch_d64.json", training={...})   # the record: hist less tensors

(torch 2.13.0+cpu, one thread: 264 s on a shared 2-core machine, load about 5; loss
8.8e-5 over the last 50 steps). Its dissection: 8 stable foci (one per sign pattern,
slowest decay `max Re λ = −6.5e-4`), 12 saddles with one unstable mode, 6 with two and
1 with three (the cube of the flip-flop), and one slow point (speed 2.1e-4) that drifts
into the memory (+,−,+). Measured training times (same machine): `train_torch` d = 64,
T = 100, 45 ms per step (T = 150: ~90 ms); `train_optax` sine d = 16, 1500 steps of 32 ×
80: 11 s with compilation.

A torch-trained sine generator with d = 64 (`gru_bif/data/sine_torch_d64.json`,
`load_shipped("sine_torch_d64")`), made by

    net, hist = train_torch("sine", hidden=64, steps=3000, batch=64, T=150,
                            learning_rate=3e-3, seed=0,
                            task_kw={"omega_gain": 0.2, "u_min": 0.5, "u_max": 1.0,
                                     "p_rest": 0.2})

(periods 31–63 steps in the trained range; torch 2.13.0+cpu, one thread: 437 s on the
shared 2-core machine under load, an identical earlier run 296 s — the same weights bit
for bit; loss 1.2e-2 over the last 50 steps). Its reading: the rest state at u = 0 is
a stable focus (`max Re λ = −1.2e-2`, ODE and map); continued in u it passes a pair of
folds (u = 0.18048 and 0.17945: a thin bistable window) and loses stability at a
supercritical Hopf point u = 0.19848182903 (ω = 0.05288, period 2π/ω = 118.8,
`l1 = −2.16`), below the trained range; the branch of cycles born there reaches
through the trained range (a second, also supercritical Hopf point at u ≈ 1.62 ends
the band of unstable rest states). The map oscillates from u ≈ 0.2 on as
well (u = 0.1: rest; u = 0.2: small oscillation of period 127 steps). The cycle branch
(`hopf_cycles(..., ntst=20, stability=False, detect=False)`, 65 cycles from the Hopf
point to u = 1.05) and the simulated ODE agree on the period to 5e-12 (relative) at
four levels; at u = 0.498, 0.746, 1.022 the periods are 61.215, 40.252, 28.096, while
the discrete map (the torch network) oscillates with periods 61.81, 41.67, 30.44 steps
(targets 63.06, 42.09, 30.75): the ODE's cycles are 1–8 % faster than the map's, more
so at higher frequency.
A setting with slower targets (`omega_gain = 0.1`, T = 250) trained to a similar loss
but its rest state ended at a fold (u = 0.533, no Hopf point): the oscillation there is
not born at a Hopf point.

**Fixed points** ([`gru_bif.dissect.fixed_points`][]): FixedPointFinder's recipe —
minimise `q(h) = ½|F(h)|²` from thousands of states sampled on the network's
trajectories ([`gru_bif.find_slow_points`][], vmapped BFGS), polish the minima with
Newton ([`gru_bif.find_equilibria`][]), keep equilibria (max-norm of `F` below `tol`)
apart from slow points (minima of `q` that are not equilibria, reported with their
speed `|F|`), classify, and give the linearisation's leading modes and the readout's
view of them.

**Leading modes** ([`gru_bif.dissect.leading_modes`][]): the eigenvalues of `J` with
the largest `|1 + λ|`, by a dense `eig` (default) or matrix-free by Arnoldi with
Krylov–Schur restarts on the map's `I + J` (JVPs only, `gru_bif._krylov`), iterated
until their residuals meet a tolerance; `method="auto"` takes Arnoldi from d = 512 on
(timings: `benchmarks/RESULTS.md` §14).
"""

from __future__ import annotations

import json
import math
import pathlib
import time
import warnings
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from ._compile import filter_jit, jit
from ._krylov import krylov_schur
from .branch import SpecialKind
from .continuation import EquilibriumProblem, continuation
from .differentiate import fold_point, hopf_point
from .equilibria import (
    INVALID,
    SADDLE,
    STABLE_FOCUS,
    STABLE_NODE,
    classify_eigenvalues,
    find_equilibria,
    find_slow_points,
    kind_name,
)
from .models.gru import GRU
from .problem import Problem
from .simulate import simulate

__all__ = [
    "TASKS",
    "TaskNetwork",
    "flipflop_batch",
    "sine_batch",
    "ring_batch",
    "task_batch",
    "train_torch",
    "train_optax",
    "trajectory_states",
    "leading_modes",
    "FixedPoints",
    "fixed_points",
    "AttractorCheck",
    "verify_attractors",
    "InputBifurcations",
    "input_bifurcations",
    "bifurcation_gradient",
    "locate_fold",
    "locate_hopf",
    "hopf_cycles",
    "simulated_period",
    "shipped_path",
    "load_shipped",
]

TASKS = ("flipflop", "sine", "ring")
_SPEC = {"flipflop": (3, 3), "sine": (1, 1), "ring": (2, 2)}  # (inputs, outputs)
_DEFAULT_T = {"flipflop": 100, "sine": 100, "ring": 100}
#: each task's keyword arguments (in the batch function's order) and their defaults
_TASK_DEFAULTS = {
    "flipflop": {"p_pulse": 0.05, "bits": 3},
    "sine": {"u_min": 0.25, "u_max": 1.0, "omega_gain": 0.4, "p_rest": 0.2},
    "ring": {"p_pulse": 0.05},
}


def _check_task(task: str) -> str:
    if task not in TASKS:
        raise ValueError(f"Unknown task {task!r}; choose one of {TASKS}.")
    return task


def _dtype(dtype):
    return jnp.dtype(jnp.result_type(float) if dtype is None else dtype)


# =========================================================================== tasks


def flipflop_batch(key, n: int, T: int, *, p_pulse: float = 0.05, bits: int = 3,
                   dtype=None):
    """A batch of 3-bit flip-flop sequences (Sussillo & Barak 2013).

    **Arguments:**

    - `key`: a JAX PRNG key.
    - `n`, `T`: number of sequences and steps.
    - `p_pulse`: probability of a pulse per channel and step (sign ±1 with equal
        probability). Every channel pulses at step 0, so the target is defined from the
        start. Mean hold: `1/p_pulse` steps.
    - `bits`: number of channels (3 for the classic task).

    **Returns:** `(inputs, targets)`, both of shape `(n, T, bits)`: `targets[:, t, i]`
    is the sign of channel `i`'s last pulse at or before step `t`.
    """
    n, T, bits = int(n), int(T), int(bits)
    if n < 1 or T < 1 or bits < 1 or not 0.0 <= p_pulse <= 1.0:
        raise ValueError(
            f"flipflop_batch: n={n}, T={T}, bits={bits} must be >= 1 and "
            f"p_pulse={p_pulse} in [0, 1].")
    return _flipflop(key, n, T, float(p_pulse), bits, _dtype(dtype))


@filter_jit
def _flipflop(key, n, T, p_pulse, bits, dtype):
    k1, k2 = jax.random.split(key)
    on = jax.random.bernoulli(k1, p_pulse, (n, T, bits)).at[:, 0, :].set(True)
    sign = jnp.where(jax.random.bernoulli(k2, 0.5, (n, T, bits)), 1.0, -1.0)
    inputs = (on * sign).astype(dtype)

    def hold(prev, x):
        cur = jnp.where(x != 0, x, prev)
        return cur, cur

    _, tg = jax.lax.scan(hold, jnp.zeros((n, bits), dtype), jnp.swapaxes(inputs, 0, 1))
    return inputs, jnp.swapaxes(tg, 0, 1)


def sine_batch(key, n: int, T: int, *, u_min: float = 0.25, u_max: float = 1.0,
               omega_gain: float = 0.4, p_rest: float = 0.2, dtype=None):
    """A batch of sine-generator sequences: a constant input level sets the frequency.

    **Arguments:**

    - `key`, `n`, `T`: PRNG key, number of sequences, steps.
    - `u_min`, `u_max`: range of the input levels of oscillating sequences (uniform).
    - `omega_gain`: angular frequency per unit input, radians per step
        (`ω = omega_gain · u`; the defaults give periods of 16–63 steps).
    - `p_rest`: fraction of sequences with input 0 and target 0 (the rest state).

    **Returns:** `(inputs (n, T, 1), targets (n, T, 1))`; the target is
    `sin(ω (t + 1))` after step `t` (the network starts at `h0 = 0`).
    """
    n, T = int(n), int(T)
    if n < 1 or T < 1 or not 0 < u_min < u_max or not 0 <= p_rest <= 1:
        raise ValueError(
            f"sine_batch: n={n}, T={T} must be >= 1, 0 < u_min={u_min} < u_max={u_max}, "
            f"p_rest={p_rest} in [0, 1].")
    return _sine(key, n, T, float(u_min), float(u_max), float(omega_gain), float(p_rest),
                 _dtype(dtype))


@filter_jit
def _sine(key, n, T, u_min, u_max, omega_gain, p_rest, dtype):
    k1, k2 = jax.random.split(key)
    u = jax.random.uniform(k1, (n,), dtype, u_min, u_max)
    u = jnp.where(jax.random.bernoulli(k2, p_rest, (n,)), 0.0, u)
    t = jnp.arange(1, T + 1, dtype=dtype)
    y = jnp.sin(omega_gain * u[:, None] * t[None, :])
    inputs = jnp.broadcast_to(u[:, None, None], (n, T, 1)).astype(dtype)
    return inputs, y[..., None].astype(dtype)


def ring_batch(key, n: int, T: int, *, p_pulse: float = 0.05, dtype=None):
    """A batch of angle-memory sequences (the ring task at any size): two input
    channels carry `(cos θ, sin θ)` of a random angle at random steps (probability
    `p_pulse` per step; a pulse at step 0 so that the target is defined from the
    start), zero otherwise; the two outputs hold `(cos θ, sin θ)` of the last pulse. A
    perfect network holds a continuum of memories (a ring attractor); trained ones hold
    a ring of slow points with a few fixed points on it (the paper's approximate
    continuous attractors).

    **Returns:** `(inputs (n, T, 2), targets (n, T, 2))`.
    """
    n, T = int(n), int(T)
    if n < 1 or T < 1 or not 0.0 <= p_pulse <= 1.0:
        raise ValueError(
            f"ring_batch: n={n}, T={T} must be >= 1 and p_pulse={p_pulse} in [0, 1].")
    return _ring(key, n, T, float(p_pulse), _dtype(dtype))


@filter_jit
def _ring(key, n, T, p_pulse, dtype):
    k1, k2 = jax.random.split(key)
    on = jax.random.bernoulli(k1, p_pulse, (n, T)).at[:, 0].set(True)
    theta = jax.random.uniform(k2, (n, T), dtype, 0.0, 2 * math.pi)
    inputs = (on[..., None] * jnp.stack([jnp.cos(theta), jnp.sin(theta)], -1)).astype(dtype)

    def hold(prev, xs):
        x, pulse = xs
        cur = jnp.where(pulse[:, None], x, prev)
        return cur, cur

    _, tg = jax.lax.scan(hold, jnp.zeros((n, 2), dtype),
                         (jnp.swapaxes(inputs, 0, 1), jnp.swapaxes(on, 0, 1)))
    return inputs, jnp.swapaxes(tg, 0, 1)


_BATCH = {"flipflop": (flipflop_batch, _flipflop), "sine": (sine_batch, _sine),
          "ring": (ring_batch, _ring)}


def task_batch(task: str, key, n: int, T: int | None = None, dtype=None, **task_kw):
    """`flipflop_batch`, `sine_batch` or `ring_batch` by name (`T` defaults to 100)."""
    _check_task(task)
    T = _DEFAULT_T[task] if T is None else T
    return _BATCH[task][0](key, n, T, dtype=dtype, **task_kw)


# =========================================================================== network


class TaskNetwork(eqx.Module):
    """A GRU with a linear readout `y = W_out h + b_out`, run as a *discrete* GRU
    (`h_{t+1} = gru.step(h_t, u_t)`, as torch runs it); its ODE `dh/dt = gru(t, h, u)`
    is what the library analyses.

    **Fields:** `gru` (a [`gru_bif.GRU`][]), `W_out` `(k, d)`, `b_out` `(k,)`, `task`.
    """

    gru: GRU
    W_out: Any
    b_out: Any
    task: str = eqx.field(static=True)

    def readout(self, h):
        """`W_out h + b_out` over any leading axes."""
        return h @ self.W_out.T + self.b_out

    def run(self, inputs, h0=None):
        """Discrete rollout: states after each step, `(T, d)` for inputs `(T, m)`
        (`h0` default zeros)."""
        d = self.gru.hidden_size
        h0 = jnp.zeros((d,), self.gru.Uh.dtype) if h0 is None else h0

        def step(h, u):
            h = self.gru.step(h, u)
            return h, h

        return jax.lax.scan(step, h0, inputs)[1]

    def to_dict(self) -> dict[str, Any]:
        return {"format": "gru_bif.dissect.network", "version": 1, "task": self.task,
                "gru": self.gru.to_dict(), "W_out": np.asarray(self.W_out).tolist(),
                "b_out": np.asarray(self.b_out).tolist()}

    @classmethod
    def from_dict(cls, d, *, source: str = "TaskNetwork.from_dict") -> "TaskNetwork":
        if not isinstance(d, dict) or d.get("format") != "gru_bif.dissect.network":
            raise ValueError(f"{source}: not a gru_bif.dissect.network record.")
        gru = GRU.from_dict(d["gru"], source=source)
        dtype = gru.Uh.dtype
        return cls(gru=gru, W_out=jnp.asarray(d["W_out"], dtype),
                   b_out=jnp.asarray(d["b_out"], dtype), task=_check_task(str(d["task"])))

    @classmethod
    def from_torch(cls, gru_module, readout_module, task: str, *, dtype=None):
        """From a trained `torch.nn.GRU` (or its state dict) and `torch.nn.Linear`
        (or a pair `(weight, bias)` of arrays)."""
        gru = GRU.from_torch(gru_module, dtype=dtype)
        if isinstance(readout_module, tuple):
            W, b = readout_module
        else:
            W, b = readout_module.weight, readout_module.bias
        to_np = lambda a: np.asarray(a.detach().cpu().numpy() if hasattr(a, "detach") else a)  # noqa: E731
        dt = gru.Uh.dtype
        return cls(gru=gru, W_out=jnp.asarray(to_np(W), dt), b_out=jnp.asarray(to_np(b), dt),
                   task=_check_task(task))

    def save(self, path, training: dict | None = None) -> None:
        """Write as JSON (exact round trip), with an optional `training` record."""
        from ._io import write_atomic

        out = self.to_dict()
        if training is not None:
            out["training"] = training
        write_atomic(path, json.dumps(out) + "\n")

    @classmethod
    def load(cls, path) -> tuple["TaskNetwork", dict]:
        """Read a file written by `save`: `(network, training record)`."""
        from ._io import read_json

        d = read_json(path, "a network written by gru_bif.dissect.TaskNetwork.save")
        return cls.from_dict(d, source=str(path)), d.get("training", {})


def shipped_path(name: str = "flipflop_torch_d64") -> pathlib.Path:
    """Path of shipped weights under `gru_bif/data/` (`<name>.json`)."""
    return pathlib.Path(__file__).parent / "data" / f"{name}.json"


def load_shipped(name: str = "flipflop_torch_d64") -> tuple[TaskNetwork, dict]:
    """The shipped network `name` and its training record (see `shipped_path`)."""
    path = shipped_path(name)
    if not path.exists():
        have = sorted(p.stem for p in path.parent.glob("*.json"))
        raise ValueError(f"No shipped network {name!r}; have {have}.")
    return TaskNetwork.load(path)


# =========================================================================== training


def train_torch(task: str, *, hidden: int = 64, steps: int = 1500, batch: int = 64,
                T: int | None = None, learning_rate: float = 3e-3, seed: int = 0,
                clip: float = 1.0, threads: int | None = 1, log_every: int = 0,
                task_kw: dict | None = None):
    """Train `torch.nn.GRU(m, hidden, batch_first=True)` with a `torch.nn.Linear`
    readout on `task` with Adam (fresh batches every step, mean squared error over all
    steps, `h0 = 0`, gradient norm clipped at `clip`). torch is imported here.

    **Arguments:** `task` (one of `TASKS`), `hidden`, `steps`, `batch`, `T` (sequence
    length; default 100), `learning_rate`, `seed` (torch and data), `clip`, `threads`
    (`torch.set_num_threads`; `None` leaves it), `log_every` (print every k steps),
    `task_kw` (passed to the batch function, e.g. `{"p_pulse": 0.03}`).

    **Returns:** `(network, history)`: a `TaskNetwork` (float64 weights,
    via `GRU.from_torch`) and `{"losses", "seconds", "torch": (gru, linear), ...}`.

    **Raises:** `ValueError` if torch is not installed (`pip install torch`).
    """
    try:
        import torch
    except ImportError as e:  # pragma: no cover
        raise ValueError("train_torch needs PyTorch: pip install torch.") from e
    _check_task(task)
    m, k = _SPEC[task]
    T = _DEFAULT_T[task] if T is None else int(T)
    if threads is not None:
        torch.set_num_threads(int(threads))
    torch.manual_seed(int(seed))
    gru = torch.nn.GRU(m, int(hidden), batch_first=True)
    lin = torch.nn.Linear(int(hidden), k)
    opt = torch.optim.Adam(list(gru.parameters()) + list(lin.parameters()), lr=learning_rate)
    key = jax.random.PRNGKey(int(seed))
    losses = []
    t0 = time.perf_counter()
    for i in range(int(steps)):
        key, sub = jax.random.split(key)
        x, y = task_batch(task, sub, batch, T, dtype=jnp.float32, **(task_kw or {}))
        x = torch.from_numpy(np.array(x))
        y = torch.from_numpy(np.array(y))
        out, _ = gru(x)
        loss = torch.mean((lin(out) - y) ** 2)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(gru.parameters()) + list(lin.parameters()), clip)
        opt.step()
        losses.append(loss.item())
        if log_every and (i % log_every == 0 or i == steps - 1):
            print(f"step {i}: loss {losses[-1]:.3e} ({time.perf_counter() - t0:.1f} s)")
    seconds = time.perf_counter() - t0
    net = TaskNetwork.from_torch(gru, lin, task, dtype=jnp.float64
                                 if jax.config.jax_enable_x64 else None)
    history = {"losses": np.asarray(losses), "seconds": seconds, "torch": (gru, lin),
               "task": task, "hidden": int(hidden), "steps": int(steps), "batch": int(batch),
               "T": T, "learning_rate": learning_rate, "seed": int(seed),
               "task_kw": dict(task_kw or {}), "trainer": f"torch {torch.__version__}"}
    return net, history


def _net_loss(net: TaskNetwork, x, y):
    hs = jax.vmap(net.run)(x)
    return jnp.mean((net.readout(hs) - y) ** 2)


@filter_jit
def _optax_chunk(net, opt_state, key, optimizer, task, n, batch, T, task_kw):
    def body(carry, _):
        net, opt_state, key = carry
        key, sub = jax.random.split(key)
        x, y = _BATCH[task][1](sub, batch, T, *task_kw, net.gru.Uh.dtype)
        loss, grads = eqx.filter_value_and_grad(_net_loss)(net, x, y)
        updates, opt_state = optimizer.update(grads, opt_state, eqx.filter(net, eqx.is_array))
        return (eqx.apply_updates(net, updates), opt_state, key), loss

    (net, opt_state, key), losses = jax.lax.scan(body, (net, opt_state, key), None, length=n)
    return net, opt_state, key, losses


def train_optax(task: str, *, hidden: int = 64, steps: int = 1500, batch: int = 64,
                T: int | None = None, learning_rate: float = 3e-3, seed: int = 0,
                clip: float = 1.0, init_scale: float = 1.0, chunk: int = 100,
                dtype=jnp.float32, task_kw: dict | None = None):
    """Train the library's GRU (`reset="after"`, the torch convention; discrete steps
    `h⁺ = gru.step(h, u)`) with a linear readout on `task`: Adam with gradient
    clipping, fresh batches every step, `chunk` steps per compiled `lax.scan`.

    **Arguments:** as `train_torch`; `init_scale` scales the random recurrent weights
    (`GRU.random(..., scale=init_scale)`); `dtype` of training (default float32; the
    returned network is converted to JAX's default float). `task_kw` entries in the
    batch function's order: flip-flop `{"p_pulse", "bits"}`, sine `{"u_min", "u_max",
    "omega_gain", "p_rest"}`, ring `{"p_pulse"}`.

    **Returns:** `(network, history)` (`history["losses"]`, `history["seconds"]`
    including compilation).
    """
    _check_task(task)
    m, k = _SPEC[task]
    T = _DEFAULT_T[task] if T is None else int(T)
    if int(steps) < 1 or int(chunk) < 1:
        raise ValueError(f"steps={steps} and chunk={chunk} must be >= 1.")
    defaults = _TASK_DEFAULTS[task]
    unknown = set(task_kw or {}) - set(defaults)
    if unknown:
        raise ValueError(f"Unknown task_kw {sorted(unknown)} for {task!r}; use {list(defaults)}.")
    kw = {**defaults, **(task_kw or {})}
    if task == "flipflop" and kw["bits"] != m:
        m = k = int(kw["bits"])
    kw_t = tuple(int(v) if name == "bits" else float(v) for name, v in kw.items())
    key = jax.random.PRNGKey(int(seed))
    k1, k2, key = jax.random.split(key, 3)
    dt = jnp.dtype(dtype)
    gru = GRU.random(k1, int(hidden), m, scale=init_scale, input_scale=1.0, bias_scale=0.0,
                     reset="after", dtype=dt)
    W = jax.random.normal(k2, (k, int(hidden)), dt) / math.sqrt(hidden)
    net = TaskNetwork(gru=gru, W_out=W, b_out=jnp.zeros((k,), dt), task=task)
    optimizer = optax.chain(optax.clip_by_global_norm(clip), optax.adam(learning_rate))
    opt_state = optimizer.init(eqx.filter(net, eqx.is_array))
    losses = []
    t0 = time.perf_counter()
    done = 0
    while done < int(steps):
        n = min(int(chunk), int(steps) - done)
        net, opt_state, key, ls = _optax_chunk(net, opt_state, key, optimizer, task, n,
                                               int(batch), T, kw_t)
        losses.extend(np.asarray(ls).tolist())
        done += n
    seconds = time.perf_counter() - t0
    out_dt = jnp.result_type(float)
    net = jax.tree.map(lambda a: a.astype(out_dt) if eqx.is_inexact_array(a) else a, net)
    history = {"losses": np.asarray(losses), "seconds": seconds, "task": task,
               "hidden": int(hidden), "steps": int(steps), "batch": int(batch), "T": T,
               "learning_rate": learning_rate, "seed": int(seed), "task_kw": kw,
               "trainer": "optax"}
    return net, history


def trajectory_states(net: TaskNetwork, key, num: int = 2048, *, n: int = 64,
                      T: int | None = None, noise: float = 0.0, task_kw=None):
    """States sampled on the network's own trajectories: `n` task sequences run
    discretely, `num` states drawn from them (plus Gaussian `noise` of that standard
    deviation) — the starts of FixedPointFinder. Returns `(num, d)`."""
    k1, k2, k3 = jax.random.split(key, 3)
    x, _ = task_batch(net.task, k1, n, T, dtype=net.gru.Uh.dtype, **(task_kw or {}))
    hs = jax.vmap(net.run)(x).reshape(-1, net.gru.hidden_size)
    idx = jax.random.choice(k2, hs.shape[0], (int(num),), replace=hs.shape[0] < num)
    out = hs[idx]
    if noise:
        out = out + noise * jax.random.normal(k3, out.shape, out.dtype)
    return out


# =========================================================================== modes


def _jacobian(gru, x, u):
    return jax.jacfwd(lambda h: gru(0.0, h, u))(x)


@filter_jit
def _jacobians(gru, xs, u):
    return jax.vmap(lambda x: _jacobian(gru, x, u))(xs)


@filter_jit
def _arnoldi(gru, x, u, v0, nev, m, tol, max_restarts):
    """Krylov–Schur (`gru_bif._krylov.krylov_schur`) on the discrete map's Jacobian
    `M = I + J`, matrix-free (one JVP per product, linearised once): the `nev`
    multipliers of largest
    modulus, their Ritz vectors, and the true residuals `‖M y − μ y‖` of the unit Ritz
    vectors (one batched JVP on their real and imaginary parts)."""
    _, jvp = jax.linearize(lambda h: gru(0.0, h, u), x)  # the primal pass once
    mv = lambda v: v + jvp(v)  # noqa: E731
    r = krylov_schur(mv, v0, nev=nev, m=m, tol=tol, max_restarts=max_restarts)
    Y = r["vectors"]
    mvs = jax.vmap(mv, in_axes=1, out_axes=1)
    MY = mvs(Y.real) + 1j * mvs(Y.imag)
    r["true_residuals"] = jnp.linalg.norm(MY - Y * r["values"][None, :], axis=0)
    return r


#: `leading_modes(method="auto")` takes Arnoldi from this hidden size on. Measured
#: (benchmarks/RESULTS.md §14, k = 6, warm calls): dense as fast or faster up to
#: d = 128, Arnoldi 1.7× faster at 256 and 4–5× at 512 and 1024; but its first call
#: compiles (3–7 s there), which about 13 calls repay at d = 512, some 240 at 256.
AUTO_ARNOLDI_MIN_D = 512


def _leading_arnoldi(gru, x, u, k, krylov_dim, key, tol, max_restarts):
    """The `"arnoldi"` branch of `leading_modes`: `(λ, vectors, complete, message)`,
    `message` None when the `k + 1` Ritz pairs converged, else why not."""
    d = gru.hidden_size
    nev = min(k + 1, d)  # one more than asked: `complete` looks at it
    m = int(min(d, krylov_dim or max(4 * k, 40)))
    m = m if m == d else max(m, min(d, nev + 3))
    key = jax.random.PRNGKey(0) if key is None else key
    v0 = jax.random.normal(key, (d,), gru.Uh.dtype)
    args = (gru, jnp.asarray(x, gru.Uh.dtype), u, v0)
    cpu = jax.devices("cpu")[0]
    if jax.default_backend() != "cpu":  # the small Schur step is LAPACK on the CPU
        args = jax.tree.map(lambda a: jax.device_put(a, cpu) if eqx.is_array(a) else a,
                            args)
    with jax.default_device(cpu):
        r = _arnoldi(*args, nev, m, jnp.asarray(tol, gru.Uh.dtype),
                     jnp.asarray(max_restarts))
    mu = np.asarray(r["values"])
    vec = np.asarray(r["vectors"])
    rel = np.asarray(r["true_residuals"]) / np.maximum(np.abs(mu), np.finfo(mu.dtype).tiny)
    ok = bool(r["converged"]) and bool(np.all(rel <= 2 * tol))
    msg = None if ok else (
        f"{int(np.sum(rel > tol))} of {nev} Ritz pairs not converged after "
        f"{int(r['restarts'])} restarts (largest relative residual {float(rel.max()):.1e}"
        f", tol={tol:g})")
    complete = ok and (k == d or bool(np.abs(mu[k]) < 1))
    return mu[:k] - 1.0, vec[:, :k], complete, msg


def leading_modes(gru: GRU, x, *, u=None, k: int = 6, method: str = "dense",
                  krylov_dim: int | None = None, key=None, tol: float | None = None,
                  max_restarts: int = 300):
    """The `k` leading modes of the linearisation at `x`: eigenvalues `λ` of
    `J = F_h(x, u)` with the largest `|1 + λ|` (the discrete map's multipliers; this
    order puts every ODE-unstable mode, `Re λ > 0`, ahead of all stable ones with
    `|1 + λ| < 1`), their eigenvectors, and whether the list is *complete* (the first
    multiplier left out is inside the unit circle, so no unstable mode of the ODE or of
    the map was left out).

    **Arguments:**

    - `gru`, `x` `(d,)`, `u` (input, default zeros).
    - `k`: number of modes.
    - `method`:
        - `"dense"`: Jacobian by `jacfwd`, full `eig` on the host (`O(d³)`).
        - `"arnoldi"`: matrix-free Arnoldi on `M = I + J` (one JVP per product, the
          Jacobian is never formed) with Krylov–Schur restarts (`gru_bif._krylov`; run
          on the CPU backend, whose LAPACK does the small Schur step): Krylov
          dimension `krylov_dim` (default `min(d, max(4k, 40))`), restarted until the
          `k + 1` Ritz pairs of largest `|μ|` have residuals `‖M y − μ y‖ ≤ tol · |μ|`
          (estimated; checked at the end with one product per vector, within
          `2 tol`), or `max_restarts` restarts (then a `RuntimeWarning` and
          `complete = False`). The error of an eigenvalue is about its condition
          number times `tol` (measured on the d = 256 network of
          `benchmarks/RESULTS.md` §14: 2e-11 at `tol = 1e-10`). Like every Krylov
          method it can miss an eigenvalue whose eigenvector is (numerically)
          orthogonal to the start vector.
        - `"auto"`: `"arnoldi"` from `d ≥ AUTO_ARNOLDI_MIN_D` (512) on, falling back
          to `"dense"` when it does not converge; `"dense"` below.
        `benchmarks/bench_dissect.py --modes-only` measures them (`benchmarks/RESULTS.md`).
    - `key`: start vector of Arnoldi (default `PRNGKey(0)`).
    - `tol`, `max_restarts`: convergence of `"arnoldi"` (above); `tol` defaults to
        `1e-10` in float64 and `1e-5` in lower precision.

    **Returns:** `(eigenvalues (k,) complex, eigenvectors (d, k) complex unit, complete)`.
    Eigenvalues are of the ODE's `J` (`μ = 1 + λ` for the map). With `"arnoldi"`,
    `complete` also asks that the `k + 1` Ritz pairs converged.
    """
    u = _input_of(gru, u)
    d = gru.hidden_size
    k = int(min(k, d))
    if method not in ("dense", "arnoldi", "auto"):
        raise ValueError(f"method={method!r}; use 'dense', 'arnoldi' or 'auto'.")
    if tol is None:
        tol = 1e-10 if jnp.dtype(gru.Uh.dtype) == jnp.float64 else 1e-5
    if method == "arnoldi" or (method == "auto" and d >= AUTO_ARNOLDI_MIN_D):
        lam, vec, complete, msg = _leading_arnoldi(gru, x, u, k, krylov_dim, key, tol,
                                                   max_restarts)
        if msg is None:
            return lam, vec, complete
        if method == "arnoldi":
            warnings.warn(f"leading_modes(method='arnoldi'): {msg}; raise max_restarts or "
                          "krylov_dim, or use method='dense'.", RuntimeWarning, stacklevel=2)
            return lam, vec, complete
    J = np.asarray(_jacobians(gru, jnp.asarray(x)[None], u)[0])
    lam, vec = np.linalg.eig(J)
    order = np.argsort(-np.abs(1 + lam), kind="stable")
    lam, vec = lam[order], vec[:, order]
    complete = bool(k == d or np.abs(1 + lam[k]) < 1) if k < d else True
    return lam[:k], vec[:, :k], complete


# =========================================================================== fixed points


class FixedPoints(eqx.Module):
    """Fixed and slow points of a GRU at a constant input, with their linearisations
    ([`gru_bif.dissect.fixed_points`][]). Capacity `K` (`max_points`), NaN-padded,
    `count` real rows; fixed points first (stable, then by number of unstable modes),
    then slow points by speed.

    **Fields:**

    - `x` `(K, d)`: the points; `valid` `(K,)`; `count`.
    - `is_fixed` `(K,)`: an equilibrium (max-norm of `F` below `tol` after Newton);
        otherwise a *slow point*: a local minimum of `q = ½|F|²` that is no equilibrium.
    - `speed` `(K,)`: `|F(x)|` (2-norm), the speed of the ODE there (per step of the map).
    - `kind` `(K,)`: type of the ODE's linearisation, index into
        `gru_bif.EQUILIBRIUM_TYPES` (for slow points: of the linearisation there).
    - `num_unstable` `(K,)`: eigenvalues with `Re λ > 0` (the ODE's unstable modes).
    - `num_unstable_map` `(K,)`: multipliers with `|1 + λ| > 1` (the discrete map's).
    - `eigenvalues` `(K, n)` complex, `eigenvectors` `(K, d, n)` complex: the `n` leading
        modes (largest `|1 + λ|`, see [`gru_bif.dissect.leading_modes`][]).
    - `readout` `(K, k)`: `W_out x + b_out`; `mode_readout` `(K, k, n)`: `W_out v` of each
        leading eigenvector (how the readout sees the mode).
    - `input` `(m,)`: the constant input; `num_samples`: starts minimised;
        `num_minima`: distinct minima of `q` found.
    """

    x: Any
    valid: Any
    is_fixed: Any
    speed: Any
    kind: Any
    num_unstable: Any
    num_unstable_map: Any
    eigenvalues: Any
    eigenvectors: Any
    readout: Any
    mode_readout: Any
    input: Any
    count: Any
    num_samples: Any
    num_minima: Any

    @property
    def stable(self):
        """Stable equilibria of the ODE (fixed points, every `Re λ < 0`)."""
        return self.valid & self.is_fixed & (self.num_unstable == 0) & (
            (self.kind == STABLE_NODE) | (self.kind == STABLE_FOCUS))

    @property
    def saddles(self):
        return self.valid & self.is_fixed & (self.kind == SADDLE)

    @property
    def slow(self):
        return self.valid & ~self.is_fixed

    def labels(self) -> list[str]:
        """`"stable node"`, `"saddle (2 unstable)"`, `"slow point (speed 3e-4)"`, ..."""
        out = []
        for i in range(int(self.count)):
            name = kind_name(int(self.kind[i]))
            if not bool(self.is_fixed[i]):
                out.append(f"slow point (speed {float(self.speed[i]):.2g}, {name})")
            elif name == "saddle":
                out.append(f"saddle ({int(self.num_unstable[i])} unstable)")
            else:
                out.append(name)
        return out

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for i in range(int(self.count)):
            name = kind_name(int(self.kind[i])) if bool(self.is_fixed[i]) else "slow point"
            if name == "saddle":
                name = f"saddle ({int(self.num_unstable[i])} unstable)"
            out[name] = out.get(name, 0) + 1
        return out

    def sign_labels(self) -> list[str]:
        """The readout's sign pattern of each point, e.g. `"(+,−,+)"`."""
        r = np.asarray(self.readout)
        return ["(" + ",".join("+" if v > 0 else "−" for v in r[i]) + ")"
                for i in range(int(self.count))]

    def summary(self) -> str:
        lines = [f"{int(self.count)} points from {int(self.num_samples)} starts: "
                 f"{self.counts()}"]
        signs = self.sign_labels()
        for i, lab in enumerate(self.labels()):
            lam = np.asarray(self.eigenvalues[i])
            lines.append(f"  {i:3d} {lab:34s} readout {signs[i]}  "
                         f"|F| {float(self.speed[i]):.2e}  max Re λ {lam.real.max():+.3e}  "
                         f"unstable ODE/map {int(self.num_unstable[i])}/"
                         f"{int(self.num_unstable_map[i])}")
        return "\n".join(lines)


def _input_of(gru, u):
    if u is None:
        return jnp.zeros((gru.input_size,), gru.Uh.dtype)
    u = jnp.asarray(u, gru.Uh.dtype)
    if u.shape != (gru.input_size,):
        raise ValueError(f"Input `u` has shape {u.shape}; this GRU expects ({gru.input_size},).")
    return u


def _readout_arrays(readout, gru):
    if readout is None:
        return np.zeros((0, gru.hidden_size)), np.zeros((0,))
    if isinstance(readout, TaskNetwork):
        return np.asarray(readout.W_out), np.asarray(readout.b_out)
    W, b = readout
    return np.asarray(W), np.asarray(b)


def _pad_rows(a):
    """Repeat rows up to a power of two (at least 16): the solvers compile once per
    number of starts, so few distinct sizes keep repeated calls warm."""
    a = np.asarray(a)
    n = max(16, 1 << (max(len(a), 1) - 1).bit_length())
    return np.concatenate([a, np.repeat(a[:1], n - len(a), axis=0)]) if n > len(a) else a


def fixed_points(
    gru: "GRU | TaskNetwork",
    states,
    *,
    u=None,
    readout=None,
    tol: float = 1e-10,
    slow_speed: float = 1e-2,
    max_steps: int = 500,
    dedup_tol: float = 1e-3,
    merge_tol: float = 1e-3,
    num_modes: int = 6,
    modes: str = "dense",
    between: tuple = (0.5, 0.35, 0.65),
    max_points: int = 128,
) -> FixedPoints:
    """Fixed and slow points from states on the network's trajectories
    (FixedPointFinder's recipe, Sussillo & Barak 2013, in JAX).

    1. From every state minimise `q(h) = ½|F(h, u)|²` ([`gru_bif.find_slow_points`][],
       vmapped BFGS); merge minima closer than `dedup_tol`.
    2. Polish the minima with `speed ≤ slow_speed` by Newton ([`gru_bif.find_equilibria`][]
       on `ĥ − h`, then on `F`): an equilibrium is a point with max-norm of `F` below
       `tol`. A minimum within `merge_tol` (max-norm) of an equilibrium is that
       equilibrium; one that is not is a **slow point** and reported with its speed
       `|F|` — never as a fixed point.
    3. Classify each point from the ODE's Jacobian, count unstable modes of the ODE and
       of the discrete map, and give the leading modes and the readout's view.

    **Arguments:**

    - `gru`: a [`gru_bif.GRU`][] or a `TaskNetwork` (then its readout is used).
    - `states` `(N, d)`: starts, e.g. [`gru_bif.dissect.trajectory_states`][].
    - `u`: the constant input (default zeros).
    - `readout`: `(W_out, b_out)` or a `TaskNetwork` (default: none, or the network's).
    - `tol`: max-norm of `F` below which a point is an equilibrium.
    - `slow_speed`: minima of `q` faster than this are dropped.
    - `max_steps`: BFGS iterations per start.
    - `dedup_tol`, `merge_tol`: see above.
    - `num_modes`: leading modes kept; `modes`: `"dense"`, `"arnoldi"` or `"auto"` (see
        `leading_modes`; the counts of unstable modes always come from the full
        spectrum, dense).
    - `between`: after the first pass, Newton also starts at these fractions of the
        way between every pair of stable equilibria found (all equilibria if fewer
        than two are stable), where the saddles between memories lie: trajectories
        pass them quickly, so few sampled states are near them. `()` turns this off.
    - `max_points`: capacity of the result.

    **Returns:** a [`gru_bif.dissect.FixedPoints`][] (host side: concrete values).

    **Raises:** `ValueError` for states of the wrong shape, or more points than
    `max_points` (raise it).
    """
    if isinstance(gru, TaskNetwork):
        readout = gru if readout is None else readout
        gru = gru.gru
    d = gru.hidden_size
    u = _input_of(gru, u)
    states = jnp.asarray(states, gru.Uh.dtype)
    if states.ndim != 2 or states.shape[1] != d:
        raise ValueError(f"`states` must have shape (N, {d}); got {states.shape}.")
    slow = find_slow_points(gru, u if gru.input_size else None, guesses=states,
                            max_steps=max_steps, dedup_tol=dedup_tol,
                            max_q=0.5 * slow_speed**2)
    xs = np.asarray(slow.x)
    uu = u if gru.input_size else None
    found = find_equilibria(gru, uu, guesses=_pad_rows(xs if len(xs) else np.asarray(states[:1])),
                            tol=tol, throw=False)
    eq = np.asarray(found.x)[np.asarray(found.valid)]
    if between and len(eq) > 1:
        # saddles lie between the attractors: Newton from points on the segments
        # between every pair of equilibria found (trajectories rarely linger there)
        st = np.asarray(found.stable)[np.asarray(found.valid)]
        a = eq[st] if st.sum() > 1 else eq
        i, j = np.triu_indices(len(a), 1)
        seg = np.concatenate([a[i] + t * (a[j] - a[i]) for t in between])
        more = find_equilibria(gru, uu, guesses=_pad_rows(seg), tol=tol, throw=False)
        new = np.asarray(more.x)[np.asarray(more.valid)]
        if len(new):
            dmin = np.max(np.abs(new[:, None, :] - eq[None]), axis=-1).min(axis=1)
            eq = np.concatenate([eq, new[dmin > 1e-6]])
    # minima explained by an equilibrium vs slow points
    if len(eq) and len(xs):
        dist = np.max(np.abs(xs[:, None, :] - eq[None, :, :]), axis=-1).min(axis=1)
    else:
        dist = np.full((len(xs),), np.inf)
    slow_x = xs[dist > merge_tol]
    pts = np.concatenate([eq, slow_x]) if len(slow_x) else eq
    is_fixed = np.arange(len(pts)) < len(eq)
    K = int(max_points)
    if len(pts) > K:
        raise ValueError(f"fixed_points found {len(pts)} points (> max_points={K}); "
                         f"pass max_points={len(pts)} or more.")
    W, b = _readout_arrays(readout, gru)
    n = int(min(num_modes, d))
    if len(pts):
        J = np.asarray(_jacobians(gru, jnp.asarray(pts), u))
        lam_all = np.linalg.eigvals(J)
        kind = np.asarray(classify_eigenvalues(jnp.asarray(lam_all)))
        n_ode = np.sum(lam_all.real > 0, axis=1)
        n_map = np.sum(np.abs(1 + lam_all) > 1, axis=1)
        speed = np.linalg.norm(np.asarray(jax.vmap(lambda h: gru(0.0, h, u))(jnp.asarray(pts))),
                               axis=1)
        lams, vecs = [], []
        for i in range(len(pts)):
            if modes == "dense":
                lam, vec = np.linalg.eig(J[i])
                o = np.argsort(-np.abs(1 + lam), kind="stable")[:n]
                lams.append(lam[o])
                vecs.append(vec[:, o])
            else:
                lam, vec, _ = leading_modes(gru, pts[i], u=u, k=n, method=modes)
                lams.append(lam)
                vecs.append(vec)
        # order: fixed (stable first, then by unstable count), then slow by speed
        stable_first = np.where(is_fixed, np.where(n_ode == 0, 0, 1), 2)
        order = np.lexsort((speed, n_ode, stable_first))
    else:
        J = lam_all = kind = n_ode = n_map = speed = np.zeros((0,))
        lams, vecs, order = [], [], np.zeros((0,), int)

    def pad(a, shape, fill, dtype):
        out = np.full((K, *shape), fill, dtype)
        if len(order):
            out[: len(order)] = np.asarray(a)[order]
        return jnp.asarray(out)

    cdt = np.result_type(np.asarray(states).dtype, np.complex64)
    k_out = W.shape[0]
    lam_arr = np.array(lams, cdt).reshape(len(pts), n)
    vec_arr = np.array(vecs, cdt).reshape(len(pts), d, n)
    ro = pts @ W.T + b if len(pts) else np.zeros((0, k_out))
    mro = np.einsum("kd,idn->ikn", W, vec_arr) if len(pts) else np.zeros((0, k_out, n))
    dt = np.asarray(states).dtype
    return FixedPoints(
        x=pad(pts, (d,), np.nan, dt),
        valid=pad(np.ones(len(pts), bool), (), False, bool),
        is_fixed=pad(is_fixed, (), False, bool),
        speed=pad(speed, (), np.nan, dt),
        kind=pad(kind, (), INVALID, np.int32),
        num_unstable=pad(n_ode, (), -1, np.int32),
        num_unstable_map=pad(n_map, (), -1, np.int32),
        eigenvalues=pad(lam_arr, (n,), np.nan, cdt),
        eigenvectors=pad(vec_arr, (d, n), np.nan, cdt),
        readout=pad(ro, (k_out,), np.nan, dt),
        mode_readout=pad(mro, (k_out, n), np.nan, cdt),
        input=u,
        count=jnp.asarray(len(pts)),
        num_samples=jnp.asarray(states.shape[0]),
        num_minima=jnp.asarray(len(xs)),
    )


# =========================================================================== attractors


class AttractorCheck(eqx.Module):
    """Where long simulations of the ODE end ([`gru_bif.dissect.verify_attractors`][]).

    **Fields:**

    - `final` `(N, d)`: the state at `t_long` from each start; `final_speed` `(N,)`: `|F|`.
    - `reached` `(N,)`: index (into the `FixedPoints`) of the stable fixed point the
        start ended at (within `match_tol`), `-1` if none.
    - `stable_reached` `(K,)`: how many starts ended at each point.
    - `slow_destination` `(K,)`: for each slow point, the stable fixed point that a
        simulation started on it reaches (`-1`: none, or not a slow point);
        `slow_drift` `(K,)`: its distance travelled.
    - `t_long`: the simulated time.
    """

    final: Any
    final_speed: Any
    reached: Any
    stable_reached: Any
    slow_destination: Any
    slow_drift: Any
    t_long: float = eqx.field(static=True)

    @property
    def all_matched(self) -> bool:
        return bool(np.all(np.asarray(self.reached) >= 0))

    def exact(self, fps: FixedPoints) -> bool:
        """Every start reached a reported stable point, and every reported stable point
        was reached: the stable fixed points are exactly the attractors found."""
        st = np.asarray(fps.stable)
        return self.all_matched and bool(np.all(np.asarray(self.stable_reached)[st] > 0))


def _match(points, targets, tol):
    if len(targets) == 0:
        return np.full((len(points),), -1)
    dist = np.max(np.abs(points[:, None, :] - targets[None]), axis=-1)
    j = np.argmin(dist, axis=1)
    return np.where(dist[np.arange(len(points)), j] <= tol, j, -1)


def verify_attractors(gru: "GRU | TaskNetwork", fps: FixedPoints, starts, *,
                      u=None, t_long: float | None = None, match_tol: float = 1e-4,
                      rtol: float = 1e-8, atol: float = 1e-10) -> AttractorCheck:
    """Simulate the ODE ([`gru_bif.simulate`][]) for `t_long` from each start (e.g. the
    states a task leaves the network in) and from each slow point of `fps`, and report
    which stable fixed point each ends at (max-norm distance ≤ `match_tol`).

    `t_long` must be long against the slowest decay time `1/|max Re λ|` of the stable
    points (trained memories are often weakly attracting: `max Re λ ≈ −1e-3` is
    common, and the discrete map converges just as slowly, `μ = 1 + λ`). Default
    (`None`): `25 / min |max Re λ|` over the stable points of `fps` (a decay by
    `e^-25`), within `[1e3, 1e5]`. The cost grows with `t_long`: the fast modes
    (`Re λ ≈ −1`) bound the explicit solver's step.

    A slow point "drifts" when its simulation ends at a stable fixed point elsewhere:
    the memory it stood for is kept only for a time of order `distance / speed`.
    """
    if isinstance(gru, TaskNetwork):
        gru = gru.gru
    u = _input_of(gru, fps.input if u is None else u)
    starts = jnp.asarray(starts, gru.Uh.dtype)
    K = int(fps.x.shape[0])
    c = int(fps.count)
    x = np.asarray(fps.x)
    st = np.asarray(fps.stable)
    slow_idx = np.nonzero(np.asarray(fps.slow))[0]
    all_starts = jnp.concatenate([starts, jnp.asarray(x[slow_idx])]) if len(slow_idx) else starts
    if t_long is None:
        lam = np.asarray(fps.eigenvalues)[st]
        rate = np.min(-lam.real.max(axis=1)) if len(lam) else 1e-3
        t_long = float(np.clip(25.0 / max(rate, 1e-12), 1e3, 1e5))
    ts = jnp.asarray([0.0, float(t_long)], gru.Uh.dtype)
    tr = simulate(gru, u if gru.input_size else None, all_starts, ts, rtol=rtol, atol=atol,
                  max_steps=2**16)
    final = np.asarray(tr.xs[:, -1])
    speed = np.linalg.norm(np.asarray(jax.vmap(lambda h: gru(0.0, h, u))(jnp.asarray(final))),
                           axis=1)
    stable_idx = np.nonzero(st[:c])[0]
    m = _match(final, x[stable_idx], match_tol)
    reached = np.where(m >= 0, stable_idx[np.maximum(m, 0)] if len(stable_idx) else -1, -1)
    N = starts.shape[0]
    counts = np.zeros((K,), np.int32)
    for r in reached[:N]:
        if r >= 0:
            counts[r] += 1
    dest = np.full((K,), -1, np.int32)
    drift = np.full((K,), np.nan)
    for j, i in enumerate(slow_idx):
        dest[i] = reached[N + j]
        drift[i] = np.max(np.abs(final[N + j] - x[i]))
    return AttractorCheck(final=jnp.asarray(final[:N]), final_speed=jnp.asarray(speed[:N]),
                          reached=jnp.asarray(reached[:N]), stable_reached=jnp.asarray(counts),
                          slow_destination=jnp.asarray(dest), slow_drift=jnp.asarray(drift),
                          t_long=float(t_long))


# =========================================================================== bifurcations


class InputBifurcations(eqx.Module):
    """The first bifurcation met by each stable fixed point when one input channel is
    ramped up and down ([`gru_bif.dissect.input_bifurcations`][]).

    **Fields** (`M` = number of points continued; side 0 = increasing input,
    side 1 = decreasing):

    - `point` `(M,)`: index of the point in the `FixedPoints`.
    - `p` `(M, 2)`: the input level of the first fold or Hopf point on each side (NaN:
        none in the range); `kind` `(M, 2)`: its `gru_bif.SpecialKind` value (0: none).
    - `x` `(M, 2, d)`: the state there; `omega` `(M, 2)`: Hopf frequency (NaN for folds).
    - `branches`: the `gru_bif.Branch` of each point and side (list of pairs).
    - `channel`, `base` (the input vector the channel is added to), `labels` (the
        readout sign pattern of each point), `descriptions` (one sentence per found
        bifurcation: which task behaviour it breaks).
    """

    point: Any
    p: Any
    kind: Any
    x: Any
    omega: Any
    branches: list
    base: Any
    channel: int = eqx.field(static=True)
    labels: tuple = eqx.field(static=True)
    descriptions: tuple = eqx.field(static=True)


def _problem(gru, channel, base):
    return Problem.from_gru(gru, f"u[{channel}]", u=base)


def input_bifurcations(gru: "GRU | TaskNetwork", fps: FixedPoints, channel: int,
                       p_range=(-1.5, 1.5), *, u=None, points=None, ds: float = 0.02,
                       max_steps: int = 400, readout=None, hopf: str = "auto",
                       task: str | None = None) -> InputBifurcations:
    """Continue every stable fixed point of `fps` in input channel `channel`
    ([`gru_bif.continuation`][] on `Problem.from_gru(gru, f"u[{channel}]", u=...)`)
    in both directions over `p_range`, and return the first fold or Hopf point on each
    side: where the memory vanishes (fold: it merges with a saddle) or loses stability
    (Hopf: an oscillation starts), located to near machine precision.

    **Arguments:** `gru` (a GRU or `TaskNetwork`), `fps`, `channel`, `p_range`
    (`(lo, hi)`, containing `u[channel]` of `fps.input`), `u` (the other channels; default
    `fps.input`), `points` (indices to continue; default the stable ones), `ds`,
    `max_steps`, `hopf` (passed on), `readout`, `task` (for the sentences; default the
    network's).

    **Returns:** an [`gru_bif.dissect.InputBifurcations`][].
    """
    if isinstance(gru, TaskNetwork):
        task = gru.task if task is None else task
        readout = gru if readout is None else readout
        gru = gru.gru
    m = gru.input_size
    if not 0 <= int(channel) < m:
        raise ValueError(f"channel={channel}; this GRU has input channels 0..{m - 1}.")
    channel = int(channel)
    base = _input_of(gru, fps.input if u is None else u)
    p0 = float(base[channel])
    lo, hi = (float(v) for v in p_range)
    if not lo < p0 < hi:
        raise ValueError(f"p_range={p_range} must contain the input's level u[{channel}] = {p0}.")
    idx = (np.nonzero(np.asarray(fps.stable))[0] if points is None
           else np.asarray(points, int))
    pr = _problem(gru, channel, base)
    d = gru.hidden_size
    M = len(idx)
    P = np.full((M, 2), np.nan)
    KD = np.zeros((M, 2), np.int32)
    X = np.full((M, 2, d), np.nan)
    OM = np.full((M, 2), np.nan)
    branches = []
    W, b = _readout_arrays(readout, gru)
    labels = tuple(fps.sign_labels()[i] if W.shape[0] else f"#{i}" for i in idx)
    desc = []
    for r, i in enumerate(idx):
        pair = []
        for s, direction in enumerate(("forward", "backward")):
            br = continuation(pr, np.asarray(fps.x[i]), p0, p_min=lo, p_max=hi, ds=ds,
                              max_steps=max_steps, direction=direction, hopf=hopf,
                              throw=False)
            pair.append(br)
            sp = br.special
            kinds = np.asarray(sp.kind)[: int(sp.count)]
            for j, kd in enumerate(kinds):
                if kd in (int(SpecialKind.FOLD), int(SpecialKind.HOPF)):
                    P[r, s] = float(sp.p[j])
                    KD[r, s] = int(kd)
                    X[r, s] = np.asarray(sp.x[j])
                    if kd == int(SpecialKind.HOPF):
                        OM[r, s] = float(sp.data["omega"][j])
                    break
        branches.append(tuple(pair))
        for s in range(2):
            if KD[r, s] == 0:
                continue
            what = "memory" if task == "flipflop" else "state"
            side = "raised" if s == 0 else "lowered"
            if KD[r, s] == int(SpecialKind.FOLD):
                desc.append(f"{what} {i} {labels[r]} lost at u[{channel}] = {P[r, s]:.10g} "
                            f"(fold: it merges with a saddle when u[{channel}] is {side})")
            elif bool(fps.stable[i]):
                desc.append(f"{what} {i} {labels[r]} loses stability at u[{channel}] = "
                            f"{P[r, s]:.10g} (Hopf: an oscillation of period "
                            f"{2 * np.pi / OM[r, s]:.4g} starts when u[{channel}] is {side})")
            else:
                desc.append(f"{what} {i} {labels[r]} ({kind_name(int(fps.kind[i]))}) has a "
                            f"Hopf point at u[{channel}] = {P[r, s]:.10g} (period "
                            f"{2 * np.pi / OM[r, s]:.4g}): a branch of cycles starts there")
    return InputBifurcations(point=jnp.asarray(idx), p=jnp.asarray(P), kind=jnp.asarray(KD),
                             x=jnp.asarray(X), omega=jnp.asarray(OM), branches=branches,
                             base=base, channel=channel, labels=labels,
                             descriptions=tuple(desc))


def hopf_cycles(gru: "GRU | TaskNetwork", bifs: InputBifurcations, row: int, side: int, *,
                p_min: float, p_max: float, dp: float = 1e-3, max_steps: int = 60,
                which: int = 0, ntst: int = 40, ncol: int = 4, stability: bool = True,
                detect: bool = True, **kwargs):
    """The branch of cycles born at a Hopf point on the branch `bifs.branches[row][side]`
    (the `which`-th Hopf point along it, default the first; it need not be the first
    bifurcation `bifs.p[row, side]`, e.g. when a pair of folds comes before it):
    [`gru_bif.periodic.cycle_from_hopf`][] there, then
    [`gru_bif.periodic.continue_cycles`][] over `[p_min, p_max]` (extra keywords passed
    on). `ntst`, `ncol`, `stability` (Floquet multipliers at every cycle) and `detect`
    (folds, period doublings and Neimark–Sacker points of cycles) go to
    `cycle_from_hopf`. Returns the `CycleBranch` (`.p`, `.period`, `.orbit(i)`, `.end`).

    `stability=False, detect=False` skip the Floquet multipliers and the detection of
    cycle bifurcations: at d = 64 (the shipped sine generator) 10 steps then take about
    30 s with compilation; with multipliers on, a short branch (ntst = 10, 6 cycles)
    took 16 s."""
    from .periodic import continue_cycles, cycle_from_hopf

    if isinstance(gru, TaskNetwork):
        gru = gru.gru
    br = bifs.branches[row][side]
    sp = br.special
    hopfs = [j for j in range(int(sp.count)) if int(sp.kind[j]) == int(SpecialKind.HOPF)]
    if not hopfs:
        raise ValueError(f"bifs has no Hopf point on the branch of row {row}, side {side}; "
                         f"its first bifurcations are {np.asarray(bifs.kind).tolist()} "
                         "(1 = fold, 2 = Hopf).")
    if not 0 <= int(which) < len(hopfs):
        raise ValueError(f"which={which}; that branch has {len(hopfs)} Hopf point(s).")
    pr = _problem(gru, bifs.channel, bifs.base)
    cp, u0 = cycle_from_hopf(pr, br, hopfs[int(which)], dp=dp, ntst=ntst, ncol=ncol,
                             stability=stability, detect=detect)
    return continue_cycles(cp, u0, p_min=p_min, p_max=p_max, max_steps=max_steps, **kwargs)


def _null_vectors(J):
    _, _, vt = np.linalg.svd(J)
    return vt[-1]


def bifurcation_gradient(gru: GRU, bifs: InputBifurcations, row: int, side: int) -> GRU:
    """Gradient of the input level of a located fold or Hopf point
    (`bifs.p[row, side]`) with respect to every weight of `gru`: a `GRU` of gradients.

    Uses the library's implicit gradients ([`gru_bif.differentiate`][]: the fold's
    defining system `F = 0, F_x v = 0, c·v = 1`, or the Hopf point's), one linear solve
    of size `2d + 2` (fold) or `3d + 2` (Hopf); see README "Gradients".
    """
    if isinstance(gru, TaskNetwork):
        gru = gru.gru
    kd = int(bifs.kind[row, side])
    if kd not in (int(SpecialKind.FOLD), int(SpecialKind.HOPF)):
        raise ValueError(f"bifs has no fold or Hopf point at row {row}, side {side}.")
    x = jnp.asarray(bifs.x[row, side])
    p = jnp.asarray(bifs.p[row, side])
    uu = jnp.concatenate([x, p[None]])
    channel, base = bifs.channel, bifs.base
    J = np.asarray(_jacobian(gru, x, base.at[channel].set(p)))
    if kd == int(SpecialKind.FOLD):
        v = jnp.asarray(_null_vectors(J))

        def level(g):
            cp = EquilibriumProblem(_problem(g, channel, base), hopf="off", stability=False)
            return fold_point(cp, uu, v)[0][-1]
    else:
        om = float(bifs.omega[row, side])
        lam, vec = np.linalg.eig(J)
        j = int(np.argmin(np.abs(lam - 1j * om)))
        q = jnp.asarray(vec[:, j])

        def level(g):
            cp = EquilibriumProblem(_problem(g, channel, base), hopf="off", stability=False)
            return hopf_point(cp, uu, jnp.asarray(om, x.dtype), q)[0][-1]

    return jax.grad(level)(gru)


def _newton_system(G, y, tol, max_iter):
    """Plain Newton on the square system `G(y) = 0` (dense Jacobian by `jacfwd`) until
    its max-norm falls below `tol`: `(y, residual)`."""
    step = jit(lambda y: y - jnp.linalg.solve(jax.jacfwd(G)(y), G(y)))
    res = jit(lambda y: jnp.max(jnp.abs(G(y))))
    for _ in range(int(max_iter)):
        y = step(y)
        if float(res(y)) < tol:
            break
    return y, float(res(y))


def locate_fold(gru: GRU, x, p, channel: int, *, u=None, tol: float = 1e-13,
                max_iter: int = 30):
    """Newton on the fold's defining system `F(x, p) = 0`, `F_x v = 0`, `c·v = 1` (from
    a guess `(x, p)`, `v` the smallest right singular vector there). Returns
    `(x, p, v, residual)`. An independent check of the continuation's location."""
    if isinstance(gru, TaskNetwork):
        gru = gru.gru
    base = _input_of(gru, u)
    d = gru.hidden_size
    x = jnp.asarray(x)
    J = np.asarray(_jacobian(gru, x, base.at[channel].set(p)))
    v = _null_vectors(J)
    c = jnp.asarray(v)
    y = jnp.concatenate([x, jnp.asarray([p], x.dtype), jnp.asarray(v)])

    def G(y):
        xx, pp, vv = y[:d], y[d], y[d + 1:]
        f = lambda h: gru(0.0, h, base.at[channel].set(pp))  # noqa: E731
        return jnp.concatenate([f(xx), jax.jvp(f, (xx,), (vv,))[1],
                                (jnp.dot(c, vv) - 1.0)[None]])

    y, r = _newton_system(G, y, tol, max_iter)
    return y[:d], float(y[d]), y[d + 1:], r


def locate_hopf(gru: GRU, x, p, omega, channel: int, *, u=None, tol: float = 1e-13,
                max_iter: int = 30):
    """Newton on the Hopf point's defining system `F(x, p) = 0`, `F_x a = −ω b`,
    `F_x b = ω a`, `c·a = 1`, `c·b = 0` (unknowns `x, p, ω, a, b`: `3d + 2` equations;
    `a + ib` the eigenvector of `iω`, `c` its real part at the guess), from a guess
    `(x, p, ω)`, e.g. `bifs.x[r, s], bifs.p[r, s], bifs.omega[r, s]`. Returns
    `(x, p, omega, q, residual)` (`q = a + ib`, residual the max-norm of the system).
    An independent check of the continuation's location, as `locate_fold` for folds."""
    if isinstance(gru, TaskNetwork):
        gru = gru.gru
    base = _input_of(gru, u)
    d = gru.hidden_size
    x = jnp.asarray(x)
    om = float(omega)
    J = np.asarray(_jacobian(gru, x, base.at[channel].set(p)))
    lam, vec = np.linalg.eig(J)
    q = vec[:, int(np.argmin(np.abs(lam - 1j * om)))]
    c = q.real / np.dot(q.real, q.real)
    q = q / (np.dot(c, q.real) + 1j * np.dot(c, q.imag))  # c·a = 1, c·b = 0
    c = jnp.asarray(c, x.dtype)
    y = jnp.concatenate([x, jnp.asarray([p, om], x.dtype), jnp.asarray(q.real, x.dtype),
                         jnp.asarray(q.imag, x.dtype)])

    def G(y):
        xx, pp, w, a, b = y[:d], y[d], y[d + 1], y[d + 2:2 * d + 2], y[2 * d + 2:]
        f = lambda h: gru(0.0, h, base.at[channel].set(pp))  # noqa: E731
        Ja = jax.jvp(f, (xx,), (a,))[1]
        Jb = jax.jvp(f, (xx,), (b,))[1]
        return jnp.concatenate([f(xx), Ja + w * b, Jb - w * a,
                                jnp.stack([jnp.dot(c, a) - 1.0, jnp.dot(c, b)])])

    y, r = _newton_system(G, y, tol, max_iter)
    return (y[:d], float(y[d]), float(y[d + 1]), y[d + 2:2 * d + 2] + 1j * y[2 * d + 2:], r)


# =========================================================================== cycles


def simulated_period(gru: GRU, u, x0, *, t_end: float = 2000.0, t_keep: float = 500.0,
                     num: int = 20001, coord: int | None = None) -> float:
    """Period of the attracting cycle reached from `x0` at constant input `u`: the ODE
    simulated to `t_end`, mean time between upward crossings of the mean of one
    coordinate (default: the one that varies most) over the last `t_keep` time units,
    crossing times by linear interpolation. NaN if it does not oscillate."""
    if isinstance(gru, TaskNetwork):
        gru = gru.gru
    u = _input_of(gru, u)
    ts = jnp.linspace(0.0, float(t_end), int(num), dtype=gru.Uh.dtype)
    tr = simulate(gru, u if gru.input_size else None, jnp.asarray(x0), ts, rtol=1e-10,
                  atol=1e-12)
    t = np.asarray(ts)
    xs = np.asarray(tr.xs)
    sel = t >= t_end - t_keep
    if coord is None:
        coord = int(np.argmax(np.ptp(xs[sel], axis=0)))
    y = xs[sel, coord]
    if np.ptp(y) < 1e-6:
        return float("nan")
    s = y - 0.5 * (y.max() + y.min())
    tt = t[sel]
    i = np.nonzero((s[:-1] < 0) & (s[1:] >= 0))[0]
    tc = tt[i] - s[i] * (tt[i + 1] - tt[i]) / (s[i + 1] - s[i])
    return float(np.diff(tc).mean()) if len(tc) > 2 else float("nan")
