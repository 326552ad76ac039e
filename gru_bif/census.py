"""A census of random two-dimensional GRUs: how often each number of fixed points, each
topology and limit cycles occur, as a function of the weight scale (beyond the paper,
which catalogues what a 2-D GRU *can* do; this measures what a random one *does*).

- [`gru_bif.census.census`][]: sample `num_networks` random GRUs per weight scale
  (`gru_bif.GRU.random`, the same standard-normal draw multiplied by each scale), analyse
  them all in one vmapped, compiled call (optionally sharded over a device mesh) and
  return a [`gru_bif.census.CensusTable`][].
- [`gru_bif.census.analyse_networks`][]: the same analysis of any batch of 2-D GRUs.

**What is counted, per network.**

*Fixed points*: [`gru_bif.find_equilibria`][] with a fixed capacity (`max_equilibria`)
from a fixed grid of starts covering (−1, 1)² (every fixed point of a GRU lies there),
root-finding on and accepting by `ĥ(h) − h` (same zeros as the vector field; where the
update gate saturates, `(1 − z)(ĥ − h)` is below any tolerance on whole regions and would
give spurious points), classified by the eigenvalues (closed form, 2×2) of the true
Jacobian divided by the largest `1 − z`. A *topology* is the tuple of counts of each type
(stable node, stable focus, unstable node, unstable focus, saddle, non-hyperbolic).

*Limit cycles* (attracting ones only): the ODE is integrated (Diffrax, Tsit5) from
4 + `repeller_starts` points — the corners of the box [−0.95, 0.95]², and points next to
each repelling node or focus (up to `repeller_starts`, default 2) — to time `t_end`, and
the last `window` time units are examined. A trajectory counts as *on a limit cycle* if over the whole window it stays
farther than `min_distance` from every fixed point and its distance to the nearest fixed
point does not shrink (the minimum over the second half of the window is at least
`1 − decay_tol` times that over the first half), and it still moves (path length over the
window above `min_distance`). In the plane this is the Poincaré–Bendixson criterion: a
bounded trajectory whose ω-limit set contains no equilibrium has a periodic orbit as its
ω-limit set. What a finite-time test can get wrong, and how the defaults guard it: a
trajectory still converging slowly to a weakly stable focus (caught by the no-shrinking
condition unless the decay over the window is below `decay_tol`); a cycle whose period is
longer than half the window, or one that passes within `min_distance` of a fixed point
(e.g. close to a homoclinic or SNIC bifurcation: missed); unstable cycles are never seen.
`no_stable_equilibrium` is reported too: a network all of whose fixed points repel must,
by the same theorem, have an attracting cycle or a heteroclinic cycle between saddles.

Everything is fixed-shape and vmapped over networks; with `mesh=` the batch axis is
sharded over the mesh's `"batch"` axis (`NamedSharding(mesh, PartitionSpec("batch"))`),
which changes no result.

This module is long because the census is one pipeline — sampling networks,
analysing them in batches, tabulating topologies, and reading/writing the tables —
whose pieces share the table's columns; splitting it would scatter one file format.
"""

from __future__ import annotations

import inspect
import json
import math
from typing import Any

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._compile import filter_jit
from ._custom_types import Array, Bool, Float, Int
from .batch import pad_batch, shard_batch
from .distributed import gather
from .equilibria import (
    EQUILIBRIUM_TYPES,
    NON_HYPERBOLIC,
    SADDLE,
    STABLE_FOCUS,
    STABLE_NODE,
    UNSTABLE_FOCUS,
    UNSTABLE_NODE,
    classify_eigenvalues,
    find_equilibria,
)
from .models.gru import GRU, gru_candidate_residual

__all__ = ["CensusTable", "NetworkCensus", "analyse_networks", "census", "topology_name"]

_SHORT = ("sink", "stable focus", "source", "unstable focus", "saddle", "non-hyperbolic")
"""Short names of `gru_bif.EQUILIBRIUM_TYPES`, in the same order (sink: stable node,
source: unstable node)."""


def topology_name(counts) -> str:
    """A topology (counts per equilibrium type, in the order of
    `gru_bif.EQUILIBRIUM_TYPES`) as text, e.g. `"4 sinks, 4 saddles, 1 source"`."""
    counts = [int(c) for c in counts]
    if len(counts) != len(EQUILIBRIUM_TYPES):
        raise ValueError(
            f"A topology has {len(EQUILIBRIUM_TYPES)} counts (one per type of "
            f"gru_bif.EQUILIBRIUM_TYPES); got {len(counts)}."
        )
    order = (STABLE_NODE, STABLE_FOCUS, SADDLE, UNSTABLE_NODE, UNSTABLE_FOCUS, NON_HYPERBOLIC)
    parts = []
    for k in order:
        n = counts[k]
        if n:
            name = _SHORT[k]
            if n != 1:
                name = name[:-5] + "foci" if name.endswith("focus") else name + "s"
            parts.append(f"{n} {name}")
    return ", ".join(parts) if parts else "none"


# --------------------------------------------------------------------------- per network


class NetworkCensus(eqx.Module):
    """What [`gru_bif.census.analyse_networks`][] finds for each network of a batch
    (leading axis `N`).

    **Fields:**

    - `count`: number of distinct fixed points, shape `(N,)`.
    - `kind_counts`: fixed points of each type (columns in the order of
        `gru_bif.EQUILIBRIUM_TYPES`), shape `(N, 6)`.
    - `x`: the fixed points, NaN-padded, shape `(N, K, 2)`; `kind`: their type codes
        (−1 for padding), shape `(N, K)`.
    - `truncated`: more fixed points than the capacity `K` (raise `max_equilibria`).
    - `cycle`: an attracting limit cycle was found (criterion in the module docstring).
    - `cycle_starts`: from how many of the simulation starts a cycle was reached.
    - `no_stable_equilibrium`: at least one fixed point and none of them stable.
    - `sim_failed`: an integration failed (e.g. ran out of steps); the cycle test
        ignores that start.
    """

    count: Int[Array, " N"]
    kind_counts: Int[Array, "N 6"]
    x: Float[Array, "N K 2"]
    kind: Int[Array, "N K"]
    truncated: Bool[Array, " N"]
    cycle: Bool[Array, " N"]
    cycle_starts: Int[Array, " N"]
    no_stable_equilibrium: Bool[Array, " N"]
    sim_failed: Bool[Array, " N"]


def _grid(n: int, dtype) -> Array:
    """An `n × n` grid of starts in (−1, 1)² (cell centres)."""
    g = (jnp.arange(n, dtype=dtype) + 0.5) / n * 2.0 - 1.0
    X, Y = jnp.meshgrid(g, g, indexing="ij")
    return jnp.stack([X.ravel(), Y.ravel()], axis=-1)


def _boundary_starts(dtype) -> Array:
    a = 0.95
    pts = [(a, a), (-a, a), (-a, -a), (a, -a)]
    return jnp.asarray(pts, dtype=dtype)


_SOLVER_STEPS = (16, 32)
"""Newton, then Dogleg iterations per start (`find_equilibria`'s `max_steps`)."""


def _classify_true(gru: GRU, x) -> Array:
    """Type code of the fixed point `x` from the true Jacobian `diag(1 − z) J_g` (2×2
    eigenvalues in closed form), divided by the largest `1 − z` so that the
    non-hyperbolic tolerance is relative to the fastest unit's time scale (a positive
    factor changes no type)."""
    J = jax.jacfwd(lambda y: gru(0.0, y))(x)
    z, _, _ = gru.gates(x)
    J = J / jnp.max(1.0 - z)
    tr = J[0, 0] + J[1, 1]
    det = J[0, 0] * J[1, 1] - J[0, 1] * J[1, 0]
    disc = jnp.sqrt((tr * tr - 4.0 * det).astype(jnp.result_type(tr, 1j)))
    eig = jnp.stack([(tr + disc) / 2.0, (tr - disc) / 2.0])
    return classify_eigenvalues(eig)


def _analyse_one(gru: GRU, guesses, capacity, t_end, window, n_save, min_distance,
                 decay_tol, num_repeller_starts) -> NetworkCensus:
    dtype = guesses.dtype
    # Root-find and decide on ĥ(h) − h (same zeros as the vector field, since 1 − z > 0):
    # where the update gate saturates, |(1 − z)(ĥ − h)| is below any tolerance on whole
    # regions, which would count as spurious "equilibria".
    args = {"gru": gru, "u": jnp.zeros((0,), dtype)}
    eq = find_equilibria(gru_candidate_residual, args, guesses, max_equilibria=capacity,
                         max_steps=_SOLVER_STEPS, throw=False)
    x_safe = jnp.where(eq.valid[:, None], eq.x, 0.0)
    kind = jax.vmap(lambda x: _classify_true(gru, x))(x_safe)
    kind = jnp.where(eq.valid, kind, -1)
    kinds = jnp.arange(len(EQUILIBRIUM_TYPES))
    kind_counts = jnp.sum(
        (kind[:, None] == kinds[None, :]) & eq.valid[:, None], axis=0
    ).astype(jnp.int32)
    count = eq.count.astype(jnp.int32)
    n_stable = kind_counts[STABLE_NODE] + kind_counts[STABLE_FOCUS]

    # simulation starts: the box boundary, and next to the first repelling nodes/foci
    bnd = _boundary_starts(dtype)
    repel = eq.valid & ((kind == UNSTABLE_NODE) | (kind == UNSTABLE_FOCUS))
    order = jnp.argsort(~repel, stable=True)[:num_repeller_starts]
    near = eq.x[order] + jnp.asarray([0.02, 0.013], dtype)
    near = jnp.where(repel[order][:, None], near, bnd[jnp.arange(num_repeller_starts) % 4])
    x0 = jnp.concatenate([bnd, near], axis=0)

    ts = jnp.concatenate([
        jnp.zeros((1,), dtype), jnp.linspace(t_end - window, t_end, n_save, dtype=dtype)
    ])

    def solve(y0):
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(gru), diffrax.Tsit5(), 0.0, t_end, None, y0,
            saveat=diffrax.SaveAt(ts=ts),
            stepsize_controller=diffrax.PIDController(rtol=1e-5, atol=1e-7),
            max_steps=8192, throw=False,
        )
        return sol.ys[1:], sol.result == diffrax.RESULTS.successful

    ys, ok = jax.vmap(solve)(x0)  # (S, T, 2), (S,)
    # distance of every saved state to the nearest fixed point
    diff = ys[:, :, None, :] - jnp.where(eq.valid[:, None], eq.x, jnp.inf)[None, None]
    dist = jnp.min(jnp.linalg.norm(diff, axis=-1), axis=-1)  # (S, T); inf if none
    half = n_save // 2
    d1 = jnp.min(dist[:, :half], axis=1)
    d2 = jnp.min(dist[:, half:], axis=1)
    path = jnp.sum(jnp.linalg.norm(jnp.diff(ys, axis=1), axis=-1), axis=1)
    on_cycle = (
        ok
        & jnp.all(jnp.isfinite(ys), axis=(1, 2))
        & (jnp.minimum(d1, d2) > min_distance)
        & (d2 >= (1.0 - decay_tol) * d1)
        & (path > min_distance)
    )
    return NetworkCensus(
        count=count,
        kind_counts=kind_counts,
        x=eq.x,
        kind=kind,
        truncated=eq.truncated,
        cycle=jnp.any(on_cycle),
        cycle_starts=jnp.sum(on_cycle).astype(jnp.int32),
        no_stable_equilibrium=(count > 0) & (n_stable == 0),
        sim_failed=~jnp.all(ok),
    )



@filter_jit
def _analyse_batch(grus, guesses, capacity, t_end, window, n_save, min_distance, decay_tol,
                   num_repeller_starts):
    return jax.vmap(
        lambda g: _analyse_one(g, guesses, capacity, t_end, window, n_save, min_distance,
                               decay_tol, num_repeller_starts)
    )(grus)


def _batch_size(grus: GRU) -> int:
    if not isinstance(grus, GRU):
        raise ValueError(
            f"analyse_networks expects a batch of gru_bif.GRU (a GRU whose arrays have a "
            f"leading batch axis, e.g. jax.vmap(lambda k: GRU.random(k, 2))(keys)); got "
            f"{type(grus).__name__}."
        )
    if grus.Uh.ndim != 3 or grus.Uh.shape[1:] != (2, 2):
        raise ValueError(
            f"analyse_networks needs a batch of 2-D GRUs: Uh of shape (N, 2, 2); got "
            f"{grus.Uh.shape}. (A single GRU: add a batch axis with "
            "jax.tree.map(lambda a: a[None], gru).)"
        )
    if grus.Wz.shape[-1]:
        raise ValueError(
            f"analyse_networks analyses autonomous GRUs (input size 0); got input size "
            f"{grus.Wz.shape[-1]}. Fold a constant input into the biases first."
        )
    return int(grus.Uh.shape[0])


def _check_mesh(mesh):
    from jax.sharding import Mesh

    if mesh is None:
        return 1
    if not isinstance(mesh, Mesh):
        raise ValueError(
            f"`mesh` must be a jax.sharding.Mesh with an axis named 'batch'; got "
            f"{type(mesh).__name__}. Build one with "
            "Mesh(np.array(jax.devices()), ('batch',))."
        )
    if "batch" not in mesh.axis_names:
        raise ValueError(
            f"`mesh` has axes {mesh.axis_names}; the census shards its batch over an axis "
            "named 'batch': Mesh(np.array(jax.devices()), ('batch',))."
        )
    return int(mesh.shape["batch"])


def analyse_networks(
    grus: GRU,
    *,
    grid: int = 16,
    max_equilibria: int = 16,
    t_end: float = 300.0,
    window: float = 150.0,
    samples: int = 101,
    min_distance: float = 0.02,
    decay_tol: float = 0.02,
    repeller_starts: int = 2,
    mesh=None,
) -> NetworkCensus:
    """Fixed points, their types, and attracting limit cycles of a batch of 2-D GRUs.

    **Arguments:**

    - `grus`: a batched `gru_bif.GRU` (every array with a leading batch axis `N`),
        hidden size 2, no input; e.g. `jax.vmap(lambda k: GRU.random(k, 2))(keys)`.
    - `grid`: starts for the fixed-point search on a `grid × grid` lattice of (−1, 1)².
    - `max_equilibria`: capacity per network (a 2-D GRU has at most 9 fixed points with
        `U_r = 0`; 11 are known with a reset gate).
    - `t_end`, `window`, `samples`: integration time, the final window examined for the
        cycle test, and the number of states saved over it.
    - `min_distance`, `decay_tol`: the cycle criterion's distances (module docstring).
    - `repeller_starts`: simulation starts placed next to repelling nodes/foci.
    - `mesh`: optional `jax.sharding.Mesh` with an axis `"batch"`: the networks are
        split over it (`NamedSharding(mesh, PartitionSpec("batch"))`; the batch is
        padded to a multiple of its size and the padding dropped). Results are the same
        as without it.

    **Returns:** a [`gru_bif.census.NetworkCensus`][] (NumPy arrays, batch axis first).

    **Raises:** `ValueError` for a batch that is not of 2-D autonomous GRUs, non-finite
    weights, a bad mesh, or bad settings.
    """
    n = _batch_size(grus)
    if n == 0:
        raise ValueError("analyse_networks got an empty batch (N = 0).")
    if int(grid) < 2 or int(max_equilibria) < 1 or int(repeller_starts) < 0:
        raise ValueError(
            f"grid={grid} (needs >= 2), max_equilibria={max_equilibria} (>= 1), "
            f"repeller_starts={repeller_starts} (0..8)."
        )
    if int(repeller_starts) > 8:
        raise ValueError(f"repeller_starts={repeller_starts}; use at most 8.")
    if not (0 < window < t_end) or int(samples) < 4:
        raise ValueError(
            f"Need 0 < window < t_end and samples >= 4; got window={window}, t_end={t_end}, "
            f"samples={samples}."
        )
    if not (min_distance > 0 and 0 <= decay_tol < 1):
        raise ValueError(
            f"Need min_distance > 0 and 0 <= decay_tol < 1; got {min_distance}, {decay_tol}."
        )
    leaves = [np.asarray(x) for x in jax.tree.leaves(eqx.filter(grus, eqx.is_array))]
    bad = [i for i in range(n) if not all(np.all(np.isfinite(a[i])) for a in leaves)]
    if bad:
        raise ValueError(
            f"Networks {bad[:5]}{'...' if len(bad) > 5 else ''} have NaN or inf weights."
        )
    n_dev = _check_mesh(mesh)
    dtype = grus.Uh.dtype
    guesses = _grid(int(grid), dtype)
    if mesh is not None:
        n_pad = -(-n // n_dev) * n_dev - n
        arrays, static = eqx.partition(grus, eqx.is_array)
        arrays = shard_batch(jax.tree.map(lambda a: pad_batch(a, n_pad), arrays), mesh,
                             axis_name="batch")
        grus = eqx.combine(arrays, static)
    out = _analyse_batch(
        grus, guesses, int(max_equilibria), float(t_end), float(window), int(samples),
        float(min_distance), float(decay_tol), int(repeller_starts),
    )
    # several processes: every process gets the whole batch's results
    return jax.tree.map(lambda a: a[:n], gather(out))


# --------------------------------------------------------------------------- the table


class CensusTable(eqx.Module):
    """The result of [`gru_bif.census.census`][]: per weight scale, the per-network
    findings and their frequencies (host-side NumPy arrays).

    **Fields:**

    - `scales`: the weight scales, shape `(S,)`.
    - `num_networks`: networks per scale `N`.
    - `bias_scale`, `fixed_gates`, `seed`: how the networks were drawn.
    - `count`: fixed points per network, shape `(S, N)`.
    - `kind_counts`: per type (order of `gru_bif.EQUILIBRIUM_TYPES`), shape `(S, N, 6)`.
    - `cycle`, `no_stable_equilibrium`, `truncated`, `sim_failed`: shape `(S, N)`.
    - `settings`: the analysis settings (dict).

    **Methods:** `count_fractions()`, `topology_fractions()`, `cycle_fraction()`,
    `summary()`, `to_json()` / `from_json()`, `to_dict()`.
    """

    scales: np.ndarray
    num_networks: int
    bias_scale: float
    fixed_gates: bool
    seed: int
    count: np.ndarray
    kind_counts: np.ndarray
    cycle: np.ndarray
    no_stable_equilibrium: np.ndarray
    truncated: np.ndarray
    sim_failed: np.ndarray
    settings: dict

    def count_fractions(self) -> dict[int, np.ndarray]:
        """`{k: fraction of networks with exactly k fixed points, per scale (S,)}` for
        every k that occurs."""
        ks = sorted(set(np.unique(self.count).tolist()))
        return {int(k): np.mean(self.count == k, axis=1) for k in ks}

    def topology_fractions(self) -> dict[str, np.ndarray]:
        """`{topology name: fraction of networks per scale (S,)}`, most frequent overall
        first."""
        S, N = self.count.shape
        cache: dict[tuple, str] = {}
        names = np.empty((S, N), dtype=object)
        for s in range(S):
            for i in range(N):
                key = tuple(int(c) for c in self.kind_counts[s, i])
                if key not in cache:
                    cache[key] = topology_name(key)
                names[s, i] = cache[key]
        uniq, tot = np.unique(names.astype(str), return_counts=True)
        order = np.argsort(-tot, kind="stable")
        return {str(uniq[j]): np.mean(names.astype(str) == uniq[j], axis=1) for j in order}

    def cycle_fraction(self) -> np.ndarray:
        """Fraction of networks with an attracting limit cycle, per scale (S,)."""
        return np.mean(self.cycle, axis=1)

    def no_stable_fraction(self) -> np.ndarray:
        """Fraction of networks none of whose fixed points is stable, per scale (S,)."""
        return np.mean(self.no_stable_equilibrium, axis=1)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the settings, the per-network arrays, and the fractions."""
        return {
            "format": "gru_bif.census",
            "version": 1,
            "scales": self.scales.tolist(),
            "num_networks": int(self.num_networks),
            "bias_scale": float(self.bias_scale),
            "fixed_gates": bool(self.fixed_gates),
            "seed": int(self.seed),
            "settings": dict(self.settings),
            "count": self.count.tolist(),
            "kind_counts": self.kind_counts.tolist(),
            "cycle": self.cycle.tolist(),
            "no_stable_equilibrium": self.no_stable_equilibrium.tolist(),
            "truncated": self.truncated.tolist(),
            "sim_failed": self.sim_failed.tolist(),
            "types": list(EQUILIBRIUM_TYPES),
            "fractions": {
                "count": {str(k): v.tolist() for k, v in self.count_fractions().items()},
                "topology": {k: v.tolist() for k, v in self.topology_fractions().items()},
                "cycle": self.cycle_fraction().tolist(),
                "no_stable_equilibrium": self.no_stable_fraction().tolist(),
            },
        }

    def to_json(self, path=None, indent: int | None = None) -> str:
        """The table as JSON text (written to `path` too if given); `from_json` reads
        it back exactly."""
        from ._io import write_atomic

        text = json.dumps(self.to_dict(), indent=indent)
        if path is not None:
            write_atomic(path, text + "\n")
        return text

    @classmethod
    def from_json(cls, text_or_path) -> "CensusTable":
        """Inverse of `to_json` (JSON text or a path to a file)."""
        from ._io import read_json

        text = str(text_or_path)
        what = "a census table (written by CensusTable.to_json)"
        if not text.lstrip().startswith(("{", "[")):
            src = text
            d = read_json(text, what)
        else:
            src = "census JSON"
            try:
                d = json.loads(text)
            except json.JSONDecodeError as e:
                raise ValueError(f"{src}: not valid JSON ({e.msg}); expected {what}.") from e
        if not isinstance(d, dict) or d.get("format") != "gru_bif.census":
            fmt = d.get("format") if isinstance(d, dict) else type(d).__name__
            raise ValueError(
                f"{src}: not a census table: format {fmt!r} (expected 'gru_bif.census')."
            )
        try:
            return cls._from_fields(d)
        except KeyError as e:
            raise ValueError(f"{src}: no {e.args[0]!r} entry; expected {what}.") from e
        except (TypeError, ValueError) as e:
            raise ValueError(f"{src}: an entry has the wrong type or shape ({e}); "
                             f"expected {what}.") from e

    @classmethod
    def _from_fields(cls, d: dict) -> "CensusTable":
        return cls(
            scales=np.asarray(d["scales"], float),
            num_networks=int(d["num_networks"]),
            bias_scale=float(d["bias_scale"]),
            fixed_gates=bool(d["fixed_gates"]),
            seed=int(d["seed"]),
            count=np.asarray(d["count"], int),
            kind_counts=np.asarray(d["kind_counts"], int),
            cycle=np.asarray(d["cycle"], bool),
            no_stable_equilibrium=np.asarray(d["no_stable_equilibrium"], bool),
            truncated=np.asarray(d["truncated"], bool),
            sim_failed=np.asarray(d["sim_failed"], bool),
            settings=dict(d["settings"]),
        )

    def summary(self, top: int = 6) -> str:
        """A text table: per scale, the distribution of fixed-point counts, the most
        frequent topologies and the cycle fraction."""
        cf = self.count_fractions()
        tf = self.topology_fractions()
        names = list(tf)[:top]
        head = ["scale"] + [f"#fp={k}" for k in cf] + ["cycle", "no stable"]
        lines = [
            f"Census of {self.num_networks} random 2-D GRUs per scale "
            f"(bias scale {self.bias_scale:g}, "
            f"{'z = r = 1/2' if self.fixed_gates else 'random gates'}, seed {self.seed})",
            "  ".join(f"{h:>9}" for h in head),
        ]
        for s, sc in enumerate(self.scales):
            vals = [f"{sc:>9.3g}"] + [f"{cf[k][s]:>9.3f}" for k in cf]
            vals += [f"{self.cycle_fraction()[s]:>9.3f}", f"{self.no_stable_fraction()[s]:>9.3f}"]
            lines.append("  ".join(vals))
        lines.append("most frequent topologies (fraction per scale):")
        for nm in names:
            lines.append(f"  {nm:<40} " + " ".join(f"{v:.3f}" for v in tf[nm]))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


def sample_networks(key, scales, num_networks: int, *, bias_scale: float = 0.5,
                    fixed_gates: bool = False, dtype=None) -> GRU:
    """The census's networks: `num_networks` independent draws of `GRU.random(key_i, 2,
    scale=1, bias_scale=bias_scale)`, each multiplied (recurrent weights only) by every
    scale, as one batched GRU of leading size `len(scales) · num_networks` (scale-major).
    Using the same draws at every scale makes the curves over the scale smooth.
    With `fixed_gates=True`, `U_z = U_r = 0` and `b_z = b_r = 0` (z = r = 1/2)."""
    scales = jnp.asarray(scales, dtype=dtype)
    keys = jax.random.split(key, int(num_networks))
    base = jax.vmap(
        lambda k: GRU.random(k, 2, scale=1.0, bias_scale=bias_scale, dtype=dtype)
    )(keys)

    def at_scale(s):
        g = eqx.tree_at(lambda g: (g.Uh, g.Uz, g.Ur), base, (s * base.Uh, s * base.Uz, s * base.Ur))
        if fixed_gates:
            z = jnp.zeros_like
            g = eqx.tree_at(lambda g: (g.Uz, g.Ur, g.bz, g.br), g,
                            (z(g.Uz), z(g.Ur), z(g.bz), z(g.br)))
        return g

    stacked = jax.vmap(at_scale)(scales)
    total = int(scales.shape[0]) * int(num_networks)
    return jax.tree.map(
        lambda a: a.reshape((total,) + a.shape[2:]) if eqx.is_array(a) else a, stacked
    )


def census(
    scales=(0.5, 1.0, 2.0, 3.0, 4.0, 6.0),
    num_networks: int = 200,
    *,
    seed: int = 0,
    bias_scale: float = 0.5,
    fixed_gates: bool = False,
    mesh=None,
    checkpoint_dir=None,
    chunk_size: int = 1000,
    progress=None,
    **analysis,
) -> CensusTable:
    """Sample random 2-D GRUs at each weight scale and tabulate their fixed points,
    topologies and attracting limit cycles.

    **Arguments:**

    - `scales`: the weight scales `s` (recurrent weights `U_h, U_z, U_r` with entries
        `N(0, s²/2)`, as `gru_bif.GRU.random(key, 2, scale=s)`).
    - `num_networks`: networks per scale (the same draws at every scale).
    - `seed`: the `jax.random.PRNGKey` seed.
    - `bias_scale`: biases `N(0, bias_scale²)` (with zero biases `h = 0` is always a
        fixed point).
    - `fixed_gates`: `U_z = U_r = 0, b_z = b_r = 0` (z = r = 1/2, the setting of the
        paper's topology catalogue) instead of random gates.
    - `mesh`: optional `jax.sharding.Mesh` with a `"batch"` axis to shard the networks
        over (same results); over several processes, `gru_bif.distributed.global_mesh()`
        after `gru_bif.distributed.initialize()`.
    - `checkpoint_dir`: optional folder: the networks are analysed in chunks of
        `chunk_size` (all scales in one sequence), each written there when done
        (`gru_bif.distributed.run_chunks`); a run killed mid-way and started again
        with the same folder and settings reads the finished chunks instead of
        computing them. A folder of another run is refused.
    - `progress`: optional `progress(done_chunks, total_chunks, computed)` (with
        `checkpoint_dir`).
    - `**analysis`: passed to [`gru_bif.census.analyse_networks`][] (`grid`,
        `max_equilibria`, `t_end`, `window`, ...).

    **Returns:** a [`gru_bif.census.CensusTable`][].

    !!! example

        ```python
        table = gru_bif.census.census(scales=[1, 2, 4], num_networks=100)
        print(table.summary()); table.to_json("census.json")
        ```
    """
    scales_np = np.asarray(scales, dtype=float).reshape(-1)
    if scales_np.size == 0 or not np.all(np.isfinite(scales_np)) or np.any(scales_np < 0):
        raise ValueError(f"`scales` must be finite, non-negative numbers; got {scales}.")
    if int(num_networks) < 1:
        raise ValueError(f"`num_networks` must be >= 1; got {num_networks}.")
    if not (math.isfinite(bias_scale) and bias_scale >= 0):
        raise ValueError(f"`bias_scale` must be finite and >= 0; got {bias_scale}.")
    n = int(num_networks)
    grus = sample_networks(jax.random.PRNGKey(int(seed)), scales_np, n,
                           bias_scale=float(bias_scale), fixed_gates=bool(fixed_gates))
    if checkpoint_dir is None:
        res = analyse_networks(grus, mesh=mesh, **analysis)
    else:
        from .distributed import run_chunks

        config = {"kind": "census", "scales": scales_np.tolist(), "num_networks": n,
                  "seed": int(seed), "bias_scale": float(bias_scale),
                  "fixed_gates": bool(fixed_gates), "analysis": analysis,
                  "dtype": str(grus.Uh.dtype)}
        res = run_chunks(
            lambda g: analyse_networks(g, mesh=mesh, **analysis),
            scales_np.size * n,
            lambda a, b: (jax.tree.map(lambda x: x[a:b] if eqx.is_array(x) else x, grus),),
            chunk_size=int(chunk_size), out_dir=checkpoint_dir, config=config,
            progress=progress,
        )
    S = scales_np.size

    def per_scale(a):
        return np.asarray(a).reshape((S, n) + np.shape(a)[1:])

    defaults = {
        k: v.default for k, v in inspect.signature(analyse_networks).parameters.items()
        if v.default is not inspect.Parameter.empty and k != "mesh"
    }
    defaults.update({k: v for k, v in analysis.items()})
    return CensusTable(
        scales=scales_np,
        num_networks=n,
        bias_scale=float(bias_scale),
        fixed_gates=bool(fixed_gates),
        seed=int(seed),
        count=per_scale(res.count),
        kind_counts=per_scale(res.kind_counts),
        cycle=per_scale(res.cycle),
        no_stable_equilibrium=per_scale(res.no_stable_equilibrium),
        truncated=per_scale(res.truncated),
        sim_failed=per_scale(res.sim_failed),
        settings={k: (float(v) if isinstance(v, float) else v) for k, v in defaults.items()},
    )
