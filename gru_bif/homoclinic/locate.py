"""Located homoclinic orbits: `locate_homoclinic` (Newton on the boundary-value problem
of `gru_bif.homoclinic.bvp` at fixed `p2`), its result `HomoclinicSolution`, the
per-point view `HomoclinicBranch` of a continued curve of homoclinic orbits, and its
JSON form."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from .._compile import filter_jit
from .._custom_types import Array, Float, Int
from .._results import RESULTS
from ..continuation.engine import corrector
from .bvp import HomoclinicProblem, _sigma_batch, remesh_homoclinic, saddle_quantity
from .differentiate import homoclinic_values


class HomoclinicSolution(eqx.Module):
    """A located homoclinic orbit.

    **Fields:** `u` (the unknowns), `p1`, `p2`, `saddle` (`(d,)`), `eigenvalues` of the
    saddle, `saddle_quantity` (`σ`), `T`, `end_distance` (max of `|x(0) − x_s|`,
    `|x(1) − x_s|`), `amplitude` (max `|x(t) − x_s|`), `iterations`, `result`
    (`RESULTS`).
    """

    problem: HomoclinicProblem
    u: Float[Array, " n"]
    p1: Float[Array, ""]
    p2: Float[Array, ""]
    saddle: Float[Array, " d"]
    eigenvalues: Array
    saddle_quantity: Float[Array, ""]
    end_distance: Float[Array, ""]
    amplitude: Float[Array, ""]
    iterations: Int[Array, ""]
    result: RESULTS

    @property
    def T(self):
        return self.problem.T

    def orbit(self, n: int = 600):
        return self.problem.orbit(self.u, n)

    def values(self, args=None):
        """`p1`, saddle, nodes, eigenvalues and saddle quantity as differentiable
        functions of the arguments (`args`, default the problem's own) and `p2`, by the
        implicit function theorem: `gru_bif.homoclinic.homoclinic_values(self.problem,
        self.u, args=args)`."""
        return homoclinic_values(self.problem, self.u, args=args)

    def to_dict(self) -> dict:
        ev = np.asarray(self.eigenvalues)
        return {
            "p1": float(self.p1), "p2": float(self.p2),
            "param1": self.problem.problem.param.label,
            "param2": self.problem.param2.label,
            "saddle": [float(v) for v in np.asarray(self.saddle)],
            "saddle_eigenvalues": [[float(e.real), float(e.imag)] for e in ev],
            "saddle_quantity": float(self.saddle_quantity),
            "T": float(self.T),
            "end_distance": float(self.end_distance),
            "amplitude": float(self.amplitude),
            "iterations": int(self.iterations),
            "message": RESULTS[self.result] if self.result != RESULTS.successful else "",
        }


def locate_homoclinic(hp: HomoclinicProblem, u0, *, tol=None, max_iter: int = 30,
                      throw: bool = True, end_tolerance: float = 0.05, remesh: int = 0,
                      ) -> HomoclinicSolution:
    """Newton's method (the continuation engine's corrector) on the homoclinic BVP at
    fixed `p2 = u0[-1]`, solving for the orbit, the saddle and `p1`.

    **Arguments:** `hp`, `u0` from `homoclinic_problem` or a start function; `tol` the
    Newton tolerance (`max|Δu| ≤ tol (1 + max|u|)`, default 1e-11 in float64);
    `end_tolerance`: the largest acceptable `|x(0) − x_s|`, `|x(1) − x_s|` as a fraction
    of the orbit's amplitude (larger means the truncation `T` is too short); `remesh`:
    after convergence, this many rounds of `remesh_homoclinic` (a mesh adapted to the
    solution instead of the guess) and Newton again — use 1 when the guess came from a
    predictor or from a continued curve far from where its mesh was made; `throw`:
    raise on failure (read `.result` otherwise). The solution's `problem` is the last
    (remeshed) problem.

    **Returns:** a `HomoclinicSolution`; `result` is one of `successful`,
    `homoclinic_not_converged`, `homoclinic_no_saddle`, `homoclinic_truncation_too_short`,
    `homoclinic_collapsed`.

    **Raises:** `ValueError` for a `u0` of the wrong shape or with NaN/inf;
    `RuntimeError` (with the result's message) when `throw=True` and the result is not
    `successful`. Host-side front door (it checks values and may re-mesh): to batch,
    `jax.vmap` the jitted core `_locate` instead.
    """
    u0 = jnp.asarray(u0)
    if u0.shape != (hp.size,):
        raise ValueError(
            f"u0 has shape {u0.shape}; this problem's unknowns have shape ({hp.size},)."
        )
    if not bool(jnp.all(jnp.isfinite(u0))):
        raise ValueError("u0 contains NaN or inf; start from a finite guess.")
    if tol is None:
        tol = 1e-11 if jnp.finfo(u0.dtype).bits >= 64 else 1e-5
    sol = _locate(hp, u0, jnp.asarray(tol, u0.dtype), int(max_iter),
                  jnp.asarray(end_tolerance, u0.dtype))
    for _ in range(int(remesh)):
        if sol.result != RESULTS.successful:
            break
        hp, u1 = remesh_homoclinic(hp, sol.u)
        sol = _locate(hp, u1, jnp.asarray(tol, u0.dtype), int(max_iter),
                      jnp.asarray(end_tolerance, u0.dtype))
    if throw and sol.result != RESULTS.successful:
        raise RuntimeError(RESULTS[sol.result] + f" (p1 = {float(sol.p1)}, p2 = "
                           f"{float(sol.p2)}, |x(end) − x_s| = {float(sol.end_distance):.3g}"
                           f", amplitude {float(sol.amplitude):.3g})")
    return sol


@filter_jit
def _locate(hp, u0, tol, max_iter, end_tol):
    e = jnp.zeros_like(u0).at[-1].set(1.0)
    u, it, ok = corrector(hp, u0, e, u0[-1], tol, max_iter)
    return _solution(hp, u, it, ok, end_tol)


def _solution(hp, u, it, ok, end_tol):
    X, xs, p1, p2 = hp.split(u)
    safe = jnp.where(jnp.all(jnp.isfinite(u)), u, jnp.zeros_like(u))
    ev = hp.saddle_eigenvalues(safe)
    re = jnp.real(ev)
    scale = jnp.maximum(1.0, jnp.max(jnp.abs(ev)))
    n_u = jnp.sum(re > 0)
    saddle_ok = (n_u == hp.n_u) & (jnp.min(jnp.abs(re)) > 1e-8 * scale)
    end = jnp.maximum(jnp.linalg.norm(X[0] - xs), jnp.linalg.norm(X[-1] - xs))
    amp = jnp.max(jnp.linalg.norm(X - xs, axis=-1))
    collapsed = amp < 1e3 * jnp.finfo(u.dtype).eps ** 0.5 * (1 + jnp.max(jnp.abs(xs)))
    short = end > end_tol * amp
    result = RESULTS.where(
        ~ok, RESULTS.homoclinic_not_converged,
        RESULTS.where(~saddle_ok, RESULTS.homoclinic_no_saddle,
                      RESULTS.where(collapsed, RESULTS.homoclinic_collapsed,
                                    RESULTS.where(short,
                                                  RESULTS.homoclinic_truncation_too_short,
                                                  RESULTS.successful))))
    return HomoclinicSolution(
        problem=hp, u=u, p1=p1, p2=p2, saddle=xs, eigenvalues=ev,
        saddle_quantity=saddle_quantity(ev).astype(u.dtype), end_distance=end,
        amplitude=amp, iterations=it, result=result)


# --------------------------------------------------------------------------- branch view
class HomoclinicBranch(eqx.Module):
    """A per-point view of a continued homoclinic curve (`gru_bif.continuation` on a
    `HomoclinicProblem`).

    **Fields** (capacity `N`, NaN-padded; `num_points` real rows): `p1`, `p2` `(N,)`;
    `saddle` `(N, d)`; `saddle_quantity` `(N,)` (σ; < 0: a stable cycle is born);
    `nodes` `(N, ntst ncol + 1, d)`; `special`: the branch's special points.
    """

    problem: HomoclinicProblem
    p1: Float[Array, " N"]
    p2: Float[Array, " N"]
    saddle: Float[Array, "N d"]
    saddle_quantity: Float[Array, " N"]
    nodes: Float[Array, "N nodes d"]
    num_points: Int[Array, ""]
    special: object
    param_names: tuple = eqx.field(static=True)

    def __init__(self, problem: HomoclinicProblem, branch):
        if not isinstance(problem, HomoclinicProblem):
            raise ValueError("`problem` must be the HomoclinicProblem that was continued.")
        if branch.x.shape[-1] != problem.size - 1:
            raise ValueError(
                f"branch.x rows have length {branch.x.shape[-1]}, this problem's state "
                f"has length {problem.size - 1}: pass the problem the branch came from."
            )
        X, xs, p1, _ = problem.split(branch.x)
        self.problem = problem
        self.p1 = p1
        self.p2 = branch.p
        self.saddle = xs
        self.nodes = X
        self.num_points = branch.num_points
        self.saddle_quantity = _sigma_batch(problem, branch.x, branch.p)
        self.special = branch.special
        self.param_names = (problem.problem.param.label, problem.param2.label)

    def __len__(self):
        return int(self.num_points)

    def u(self, i: int):
        return self.problem.pack(self.nodes[i], self.saddle[i], self.p1[i], self.p2[i])

    def orbit(self, i: int, n: int = 600):
        return self.problem.orbit(self.u(i), n)

    def trimmed(self) -> dict:
        n = int(self.num_points)
        return {"p1": np.asarray(self.p1[:n]), "p2": np.asarray(self.p2[:n]),
                "saddle": np.asarray(self.saddle[:n]),
                "saddle_quantity": np.asarray(self.saddle_quantity[:n])}




def homoclinic_curve_to_dict(view: HomoclinicBranch, branch, located=None) -> dict:
    """The JSON of a continued homoclinic curve, in the shape of `Branch.to_dict()`:
    `param` (= `p2`, the engine's parameter), `param1`, and `points` with `p` (p2),
    `p1`, `x` (the saddle), `saddle_quantity`, `stable` (σ < 0) and `n_unstable`;
    `special_points` as for any branch (their `x` is the saddle too); optionally the
    located start (`located`, a `HomoclinicSolution`). The orbits themselves are not
    written (save `branch` as `.npz` for them)."""
    d = branch.to_dict()
    t = view.trimmed()
    for i, pt in enumerate(d["points"]):
        pt["p1"] = float(t["p1"][i])
        pt["x"] = [float(v) for v in t["saddle"][i]]
        pt["saddle_quantity"] = float(t["saddle_quantity"][i])
    hp = view.problem
    n = hp.num_nodes * hp.dim
    for sp in d["special_points"]:
        full = sp["x"]
        sp["p1"] = float(full[n + hp.dim])
        sp["x"] = [float(v) for v in full[n:n + hp.dim]]
    d["format"] = "gru_bif.homoclinic_curve"
    d["param1"] = view.param_names[0]
    d["T"] = float(hp.T)
    if located is not None:
        d["located"] = located.to_dict()
    return d
