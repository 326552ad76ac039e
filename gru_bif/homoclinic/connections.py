"""The graph of connections of a network: from every saddle, where each branch of its
unstable manifold goes (`connection_graph`, `ConnectionGraph`).

For each saddle `x_i` (hyperbolic, `1 ≤ n_u < d` unstable eigenvalues; sources too with
`sources=True`) the departure directions are

- `n_u = 1`: both branches `±v` of the 1-D unstable manifold (`v` the unstable
    eigenvector, its largest entry positive: branch 0 is `+v`, branch 1 is `−v`);
- `n_u ≥ 2`: `±q_k`, `k = 1 … n_u`, for an orthonormal basis `q_k` of the unstable
    subspace (branch `2k` is `+q_k`, `2k + 1` is `−q_k`) — a sample of the manifold,
    not all of it: connections leaving between these directions can be missed.

From `x_i + eps·v` each trajectory is integrated (one batched Diffrax call) and matched
to the nearest equilibrium if it ends within `match_tol` of one; then, where the target
has fewer unstable directions (the connection persists: a saddle-to-sink orbit),
the connection is polished as an orbit of the heteroclinic BVP
(`gru_bif.homoclinic.heteroclinic`, parameter pinned). Saddle-to-saddle connections
(non-generic at fixed parameters) are reported from the simulation, unpolished.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._custom_types import Array, Bool, Float, Int
from .._results import RESULTS
from ..equilibria import find_equilibria
from ..equilibria.results import Equilibria
from ..models.gru import GRU
from ..problem import Problem
from ..simulate import simulate
from .heteroclinic import _projectors, heteroclinic_problem, orbit_guess_from_trajectory
from .heteroclinic_locate import locate_heteroclinic

__all__ = ["ConnectionGraph", "connection_graph"]


class ConnectionGraph(eqx.Module):
    """Every connection found from the saddles of a network (host-side result: arrays
    of exactly `E` edges, no padding).

    **Fields:**

    - `equilibria` `(K, d)`, `kind` `(K,)` (codes of `gru_bif.EQUILIBRIUM_TYPES`),
        `n_unstable` `(K,)`: the equilibria the edges index.
    - `source`, `target` `(E,)`: equilibrium indices; `target = −1` where the
        trajectory reached no equilibrium (a cycle, infinity, or `t_max` too short).
    - `branch` `(E,)`: which departure direction (module docstring).
    - `times` `(E, n)`, `orbit` `(E, n, d)`: the connection at `n` times (the polished
        BVP orbit, or the simulated trajectory).
    - `residual` `(E,)`: max-norm of the BVP residual of a polished edge (NaN if not
        polished); `end_distance` `(E,)`: distance of the orbit's last point from the
        target; `polished` `(E,)`; `result` `(E,)`: `RESULTS` codes of the polish.
    """

    equilibria: Float[Array, "K d"]
    kind: Int[Array, " K"]
    n_unstable: Int[Array, " K"]
    source: Int[Array, " E"]
    target: Int[Array, " E"]
    branch: Int[Array, " E"]
    times: Float[Array, "E n"]
    orbit: Float[Array, "E n d"]
    residual: Float[Array, " E"]
    end_distance: Float[Array, " E"]
    polished: Bool[Array, " E"]
    result: Int[Array, " E"]

    @property
    def num_edges(self) -> int:
        return int(self.source.shape[0])

    def edges(self) -> list:
        """`[(source, target), …]` of the edges that reached an equilibrium."""
        return [(int(s), int(t)) for s, t in zip(np.asarray(self.source),
                                                 np.asarray(self.target)) if t >= 0]

    def adjacency(self) -> np.ndarray:
        """`(K, K)` counts: `[i, j]` connections from equilibrium `i` to `j`."""
        K = self.equilibria.shape[0]
        M = np.zeros((K, K), int)
        for s, t in self.edges():
            M[s, t] += 1
        return M

    def summary(self) -> str:
        from ..equilibria import kind_name

        kinds = np.asarray(self.kind)
        lines = [f"Connections: {len(self.edges())} of {self.num_edges} branches reach "
                 "an equilibrium"]
        for e in range(self.num_edges):
            s, t = int(self.source[e]), int(self.target[e])
            to = f"{t} ({kind_name(int(kinds[t]))})" if t >= 0 else "none"
            lines.append(f"  {s} ({kind_name(int(kinds[s]))}) branch {int(self.branch[e])}"
                         f" -> {to}  residual {float(self.residual[e]):.1e}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict:
        """JSON form: equilibria and edges (the orbits too, as lists)."""
        return {
            "format": "gru_bif.connection_graph",
            "equilibria": np.asarray(self.equilibria).tolist(),
            "kind": np.asarray(self.kind).tolist(),
            "n_unstable": np.asarray(self.n_unstable).tolist(),
            "edges": [{"source": int(self.source[e]), "target": int(self.target[e]),
                       "branch": int(self.branch[e]),
                       "residual": float(self.residual[e]),
                       "end_distance": float(self.end_distance[e]),
                       "polished": bool(self.polished[e]),
                       "times": np.asarray(self.times[e]).tolist(),
                       "orbit": np.asarray(self.orbit[e]).tolist()}
                      for e in range(self.num_edges)],
        }


def _directions(A, n_u):
    """Unit departure directions (module docstring) of an equilibrium with Jacobian
    `A` and `n_u` unstable eigenvalues."""
    if n_u == 1:
        ev, V = np.linalg.eig(A)
        v = np.real(V[:, int(np.argmax(ev.real))])
        v = v / np.linalg.norm(v)
        v = v * np.sign(v[np.argmax(np.abs(v))])
        return [v, -v]
    _, P_u = _projectors(jnp.asarray(A))
    Q = np.linalg.svd(np.asarray(P_u))[0][:, :n_u]
    return [s * Q[:, k] for k in range(n_u) for s in (1.0, -1.0)]


def connection_graph(problem, equilibria: "Equilibria | None" = None, *, T=None,
                     eps: float = 1e-6, t_max: float = 200.0, num: int = 4001,
                     match_tol: float = 1e-4, polish: bool = True, ntst: int = 40,
                     ncol: int = 4, n_out: int = 400,
                     sources: bool = False) -> ConnectionGraph:
    """Find every connection from the saddles of `problem` (see the module docstring).

    **Arguments:**

    - `problem`: a `gru_bif.Problem` or a `gru_bif.GRU` (no input).
    - `equilibria`: from `gru_bif.find_equilibria` (default: found here with its
        defaults, which needs a GRU or a problem whose state size is known; otherwise
        pass them).
    - `T`: truncation time of the polished orbits (default per edge: from leaving the
        saddle by `10 eps` to arriving within `10 eps` of the target).
    - `eps`: the distance of the starts from the saddle along the departure direction.
    - `t_max`, `num`: length of the simulation and its number of output times.
    - `match_tol`: a trajectory ends at an equilibrium if its last point is within
        `match_tol (1 + |x_j|)` of it.
    - `polish`, `ntst`, `ncol`: polish persistent connections by the BVP (mesh size).
    - `n_out`: points per returned orbit.
    - `sources`: also start from sources (all `n_u = d`).

    **Returns:** a `ConnectionGraph`.

    **Raises:** `ValueError` if `problem` is neither a `Problem` nor a `GRU`, or
    `equilibria` has another dimension.
    """
    if isinstance(problem, GRU):
        problem = Problem.from_gru(problem, "bh[0]")
    if not isinstance(problem, Problem):
        raise ValueError("`problem` must be a gru_bif.Problem or a gru_bif.GRU; got "
                         f"{type(problem).__name__}.")
    if equilibria is None:
        equilibria = find_equilibria(problem)
    valid = np.asarray(equilibria.valid)
    X = np.asarray(equilibria.x)[valid]
    J = np.asarray(equilibria.jacobian)[valid]
    kind = np.asarray(equilibria.kind)[valid]
    ev = np.asarray(equilibria.eigenvalues)[valid]
    K, d = X.shape
    jac = jax.jacfwd(lambda x: problem.f(0.0, x, problem.args))
    if K and jax.eval_shape(jac, jnp.zeros(d)).shape != (d, d):
        raise ValueError(f"equilibria have dimension {d}, not the problem's.")
    n_u = (ev.real > 0).sum(-1)
    hyperbolic = np.min(np.abs(ev.real), axis=-1) > 1e-8 * np.maximum(
        1.0, np.max(np.abs(ev), axis=-1))
    starts, src, br = [], [], []
    for i in range(K):
        if not hyperbolic[i] or n_u[i] == 0 or (n_u[i] == d and not sources):
            continue
        for b, v in enumerate(_directions(J[i], int(n_u[i]))):
            starts.append(X[i] + eps * v)
            src.append(i)
            br.append(b)
    E = len(starts)
    ts = np.linspace(0.0, float(t_max), int(num))
    if E:
        traj = simulate(problem, None, jnp.asarray(np.stack(starts)), jnp.asarray(ts),
                        rtol=1e-10, atol=1e-12, throw=False)
        xs_all = np.asarray(traj.xs)
    else:
        xs_all = np.zeros((0, ts.shape[0], d))
    tgt = np.full(E, -1)
    for e in range(E):
        end = xs_all[e, -1]
        if not np.all(np.isfinite(end)):
            continue
        dist = np.linalg.norm(X - end, axis=-1)
        j = int(np.argmin(dist))
        if j != src[e] and dist[j] < match_tol * (1 + np.linalg.norm(X[j])):
            tgt[e] = j
    times = np.full((E, n_out), np.nan)
    orbits = np.full((E, n_out, d), np.nan)
    residual = np.full(E, np.nan)
    end_d = np.full(E, np.nan)
    polished = np.zeros(E, bool)
    result = np.zeros(E, int)
    for e in range(E):
        i, j = src[e], tgt[e]
        lam_u = float(np.min(ev[i].real[ev[i].real > 0]))
        if j >= 0 and polish and n_u[j] < n_u[i]:
            neg = ev[j].real[ev[j].real < 0]
            lam_s = float(np.max(neg)) if neg.size else -1.0
            orbit_fn, T_e = orbit_guess_from_trajectory(ts, xs_all[e], X[i], X[j], lam_u,
                                                        lam_s, eps, T)
            hp, u0 = heteroclinic_problem(problem, None, orbit_fn, X[i], X[j], None,
                                          None, T_e, ntst=ntst, ncol=ncol)
            sol = locate_heteroclinic(hp, u0, throw=False)
            result[e] = int(np.asarray(sol.result._value))
            if sol.result == RESULTS.successful:
                t_e, x_e = sol.orbit(n_out)
                times[e], orbits[e] = np.asarray(t_e), np.asarray(x_e)
                residual[e] = float(sol.residual)
                end_d[e] = float(np.linalg.norm(x_e[-1] - X[j]))
                polished[e] = True
                continue
        # unpolished: the simulated trajectory, up to its arrival
        xs = xs_all[e]
        stop = xs.shape[0] - 1
        if j >= 0:
            dp = np.linalg.norm(xs - X[j], axis=-1)
            stop = max(int(np.argmax(dp <= max(10 * eps, dp.min()))), 1)
        k = np.linspace(0, stop, n_out)
        times[e] = np.interp(k, np.arange(xs.shape[0]), ts)
        orbits[e] = np.stack([np.interp(k, np.arange(xs.shape[0]), xs[:, c])
                              for c in range(d)], -1)
        end_d[e] = float(np.linalg.norm(orbits[e, -1] - X[j])) if j >= 0 else np.nan
    return ConnectionGraph(
        equilibria=jnp.asarray(X), kind=jnp.asarray(kind), n_unstable=jnp.asarray(n_u),
        source=jnp.asarray(np.asarray(src, int)), target=jnp.asarray(tgt),
        branch=jnp.asarray(np.asarray(br, int)), times=jnp.asarray(times),
        orbit=jnp.asarray(orbits), residual=jnp.asarray(residual),
        end_distance=jnp.asarray(end_d), polished=jnp.asarray(polished),
        result=jnp.asarray(result))
