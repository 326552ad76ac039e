"""`CycleBranch`: a per-point view of a branch of cycles (period, extent, stability,
collocation errors and the orbits themselves), for diagrams, tables and JSON."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._compile import filter_jit
from .._custom_types import Array, Bool, Float, Int
from ..branch import Branch, SpecialPoints
from .collocation import CollocationProblem
from .floquet import nontrivial_multipliers
from .mesh import with_mesh


class CycleBranch(eqx.Module):
    """A per-point view of a branch of cycles, for bifurcation diagrams: period and
    extent of every cycle against the parameter, and the orbits themselves.

    Made by `gru_bif.periodic.continue_cycles` (the adaptive front door: every row on
    its own mesh, `end` and `stop_reason` filled in), or from a fixed-mesh run as
    `CycleBranch(problem, branch)` (the output of `gru_bif.continuation` on a
    `CollocationProblem`).

    **Arguments:** `problem`: the `CollocationProblem` that was continued; `branch`:
    the `gru_bif.Branch`; `samples_per_interval`: points per mesh interval used for the
    minima and maxima (default 8); `meshes`: `(N, ntst + 1)` the mesh of every row
    (default: the problem's mesh for all); `special_meshes`: the same for the special
    points; `errors`: `(N,)` relative collocation error estimates; `end`, `stop_reason`: how the
    branch ended (see `continue_cycles`).

    **Fields** (capacity `N` of the branch, NaN-padded; `num_points` real rows):

    - `p`: `(N,)` parameter values; `period`: `(N,)` periods;
    - `x_min`, `x_max`: `(N, d)` minimum and maximum of each coordinate over the cycle
        (plot `x_max[:, i]` and `x_min[:, i]` against `p` in a bifurcation diagram);
    - `nodes`: `(N, ntst * ncol, d)` node values of each orbit, on `meshes[i]`;
    - `stable`, `n_unstable`: from the Floquet multipliers;
    - `errors`: `(N,)` the relative collocation error estimate of every cycle,
        `collocation_error / (1 + max|x|)` (NaN if unknown);
    - `special`: the branch's special points (their `x` rows are `(nodes, T)`; their
        orbits: `view.special_orbit(k)`);
    - `end`: a `CycleEnd` record (kind `"hopf"`, `"homoclinic"`, `"snic"`,
        `"period_bound"`, …, with the located parameter) or `None`;
        `stop_reason`: one line saying why the branch stopped.
    """

    problem: CollocationProblem
    p: Float[Array, " N"]
    period: Float[Array, " N"]
    x_min: Float[Array, "N d"]
    x_max: Float[Array, "N d"]
    nodes: Float[Array, "N nodes d"]
    meshes: Float[Array, "N ntst+1"]
    stable: Bool[Array, " N"]
    n_unstable: Int[Array, " N"]
    errors: Float[Array, " N"]
    num_points: Int[Array, ""]
    special: SpecialPoints
    special_meshes: Float[Array, "K ntst+1"]
    param_name: str = eqx.field(static=True)
    end: object = eqx.field(static=True, default=None)
    stop_reason: str = eqx.field(static=True, default="")

    def __init__(self, problem: CollocationProblem, branch: Branch, *,
                 samples_per_interval: int = 8, meshes=None, special_meshes=None,
                 errors=None, end=None, stop_reason: str = ""):
        if not isinstance(problem, CollocationProblem):
            raise ValueError(
                "`problem` must be the CollocationProblem that was continued; got "
                f"{type(problem).__name__}."
            )
        if not isinstance(branch, Branch):
            raise ValueError(
                f"`branch` must be a gru_bif.Branch; got {type(branch).__name__}."
            )
        n_state = problem.num_nodes * problem.dim + 1
        if branch.x.ndim != 2 or branch.x.shape[-1] != n_state:
            raise ValueError(
                f"branch.x rows have length {branch.x.shape[-1]}, but this problem's "
                f"state (nodes and period) has length {n_state}: pass the problem the "
                "branch was computed with (a branch of equilibria cannot be viewed as "
                "cycles)."
            )
        N = branch.x.shape[0]
        dt = branch.x.dtype
        if meshes is None:
            meshes = jnp.broadcast_to(problem.mesh.astype(dt), (N, problem.ntst + 1))
        if special_meshes is None:
            K = branch.special.p.shape[0]
            special_meshes = jnp.broadcast_to(problem.mesh.astype(dt),
                                              (K, problem.ntst + 1))
        X, T, x_min, x_max = _view_arrays(problem, branch.x, int(samples_per_interval))
        self.problem = problem
        self.p = branch.p
        self.period = T
        self.x_min = x_min
        self.x_max = x_max
        self.nodes = X
        self.meshes = jnp.asarray(meshes, dt)
        self.stable = branch.stable
        self.n_unstable = branch.n_unstable
        self.errors = (jnp.full((N,), jnp.nan, dt) if errors is None
                       else jnp.asarray(errors, dt))
        self.num_points = branch.num_points
        self.special = branch.special
        self.special_meshes = jnp.asarray(special_meshes, dt)
        self.param_name = branch.param_name
        self.end = end
        self.stop_reason = str(stop_reason)

    def __len__(self) -> int:
        return int(self.num_points)

    def problem_at(self, i: int) -> CollocationProblem:
        """The problem on row `i`'s mesh, with row `i` as phase reference (use it with
        `view.u(i)` in any `problem` method)."""
        cp = eqx.tree_at(lambda c: c.mesh, self.problem, self.meshes[i])
        return eqx.tree_at(lambda c: c.reference, cp,
                           self.nodes[i].astype(self.problem.reference.dtype))

    def special_problem(self, k: int) -> CollocationProblem:
        """The problem on special point `k`'s mesh."""
        return eqx.tree_at(lambda c: c.mesh, self.problem, self.special_meshes[k])

    def u(self, i: int) -> Float[Array, " n"]:
        """The unknowns `(nodes, T, p)` of point `i` (for `view.problem_at(i)`)."""
        return self.problem.pack(self.nodes[i], self.period[i], self.p[i])

    def orbit(self, i: int, n: int = 400) -> tuple[Float[Array, " n"], Float[Array, "n d"]]:
        """`(ts, xs)`: cycle `i` at `n` equally spaced times in `[0, T]`."""
        return self.problem_at(i).orbit(self.u(i), n)

    def orbits(self, n: int = 200) -> Float[Array, "N n d"]:
        """Every cycle at `n` equally spaced phases (NaN rows for padding)."""
        return _orbits_batch(self.problem, self.meshes, self.nodes, self.period, self.p,
                             int(n))

    def special_orbit(self, k: int, n: int = 400):
        """`(ts, xs)`: the orbit of special point `k`."""
        u = jnp.append(self.special.x[k], self.special.p[k])
        return self.special_problem(k).orbit(u, n)

    def amplitude(self) -> Float[Array, " N"]:
        """`(N,)` the largest extent `max_i (x_max − x_min)_i` of every cycle."""
        return jnp.max(self.x_max - self.x_min, axis=-1)

    def multipliers(self) -> Array:
        """`(N, d − 1)` non-trivial Floquet multipliers of every cycle (complex, by
        decreasing modulus; NaN rows for padding). Host-side eigenvalues."""
        n = int(self.num_points)
        out = np.full((self.p.shape[0], self.problem.dim - 1), np.nan + 0j)
        if n:
            mu = _multipliers_batch(self.problem, self.meshes, self.nodes, self.period,
                                    self.p)
            out[:n] = np.asarray(mu)[:n]
        return jnp.asarray(out)

    def trimmed(self) -> dict[str, np.ndarray]:
        """NumPy copies of the real rows: `p`, `period`, `x_min`, `x_max`, `stable`,
        `errors`."""
        n = int(self.num_points)
        return {
            "p": np.asarray(self.p[:n]),
            "period": np.asarray(self.period[:n]),
            "x_min": np.asarray(self.x_min[:n]),
            "x_max": np.asarray(self.x_max[:n]),
            "stable": np.asarray(self.stable[:n]),
            "errors": np.asarray(self.errors[:n]),
        }


@filter_jit
def _view_arrays(problem: CollocationProblem, x, samples: int):
    X, T, _ = problem.split(x)
    fine = jax.vmap(lambda xx: problem.interval_samples(xx, samples))(X)
    return X, T, jnp.min(fine, axis=1), jnp.max(fine, axis=1)


@filter_jit
def _orbits_batch(problem, meshes, nodes, period, p, n):
    s = jnp.linspace(0.0, 1.0, n, dtype=p.dtype)
    u = jax.vmap(problem.pack)(nodes, period, p)
    return jax.vmap(lambda m, uu: with_mesh(problem, m).evaluate(uu, s))(meshes, u)


@filter_jit
def _multipliers_batch(problem: CollocationProblem, meshes, nodes, period, p):
    safe = jnp.isfinite(p) & jnp.isfinite(period)
    u = jax.vmap(problem.pack)(
        jnp.where(safe[:, None, None], nodes, problem.reference.astype(nodes.dtype)),
        jnp.where(safe, period, 1.0),
        jnp.where(safe, p, 0.0),
    )
    meshes = jnp.where(safe[:, None], meshes, problem.mesh.astype(meshes.dtype))
    # padding rows (NaN) are replaced by the reference orbit: no NaN reaches LAPACK
    def one(m, uu):
        return nontrivial_multipliers(with_mesh(problem, m), uu)

    # row by row: batched LAPACK solves can deadlock jaxlib 0.10.2's CPU thread pool
    # (see `floquet.interval_solutions`)
    return jax.lax.map(lambda a: one(*a), (meshes, u))
