"""Period-doubling cascades: branch switching at a located period doubling onto the
doubled cycle, repeated along a cascade, with Feigenbaum's ratios.

**The switch (AUTO's way).** At a period doubling (PD) of a cycle `x(t)` of period `T`
the monodromy matrix `M` has the eigenvalue −1: the linearised flow has a solution
`v(t)` with `v(t + T) = −v(t)` (the critical Floquet eigenfunction). On the doubled
period `2T` the cycle traversed twice, `x₂(t) = x(t mod T)`, solves the collocation
equations too, and `v₂ = (v on [0, T], −v on [T, 2T])` is a periodic solution of its
linearisation: in the doubled problem the PD point is a pitchfork (branch point) whose
new branch leaves along `v₂`. `switch_period_doubling`

1. builds the collocation problem on `[0, 2T]`: the mesh of the located point
    concatenated with itself (`ntst` doubled; the same piecewise polynomial twice);
2. computes `v` exactly in the collocation discretisation: per mesh interval the
    linearised collocation equations give its nodes from its first node (the same
    condensation that gives the monodromy matrix, `gru_bif.periodic.floquet`), so the
    eigenvector of `M` for −1 is carried node by node along the orbit;
3. corrects `x₂ + ε v₂` by Newton with the parameter free and the projection onto
    `v₂` held at `ε` (a pseudo-arclength step off the branch point along `v₂`): the
    result is the doubled cycle at `p ≈ p_PD + O(ε²)` on whichever side it exists
    (the side where the period-`T` cycle is unstable for a supercritical PD).

Its phase condition is automatically transverse: `∫⟨v₂, x₂'⟩ dt = ∫_0^T ⟨v, x'⟩ −
∫_0^T ⟨v, x'⟩ = 0`, so `v₂` is a genuine direction of the doubled problem.

**The cascade.** `period_doubling_cascade` continues a cycle branch (the engine on the
fixed mesh, `gru_bif.continuation`), takes its first period doubling past the start
(located by the engine, kept only if its multiplier is −1 within `multiplier_tol`),
refines it by Newton on the PD defining system `[H(u); det(D(u) + I)] = 0` (`D` the
deflated monodromy matrix; the bordered, condensed solve of the collocation problem with
the test function's gradient as the border — no dense Jacobian), switches to the doubled
cycle and repeats. The mesh doubles with the period at every level, so the resolution
per unit time stays that of the first cycle. Ratios `δ_k = (p_k − p_{k−1}) / (p_{k+1} −
p_k)` tend to Feigenbaum's `δ = 4.6692016…` for a generic (quadratic-map-like) cascade.
"""

import dataclasses
import math
import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._compile import filter_jit
from .._custom_types import Array, Float
from .._results import RESULTS
from ..branch import Branch, SpecialKind, SpecialPoints
from ..collocation.mesh import block_index
from .collocation import CollocationProblem
from .floquet import chain_product, interval_solutions
from .mesh import adapt_mesh
from .views import CycleBranch

__all__ = ["PeriodDoublingCascade", "period_doubling_cascade", "pd_eigenfunction",
           "refine_period_doubling", "switch_period_doubling", "FEIGENBAUM_DELTA"]

#: Feigenbaum's first constant.
FEIGENBAUM_DELTA = 4.669201609102990


# --------------------------------------------------------------------------- eigenfunction
@filter_jit
def _interval_maps(cp: CollocationProblem, u):
    """Per mesh interval, `S_j` `(ncol·d, d)`: the interval's later nodes (`1..ncol`) of
    a solution of the linearised collocation equations, from its first node."""
    dtype = u.dtype
    N, m, d = cp.ntst, cp.ncol, cp.dim
    X, T, p = cp.split(u)
    _, L, Ld, _ = cp._basis_arrays(dtype)
    h = jnp.diff(cp.mesh).astype(dtype)
    xc = jnp.einsum("kl,jld->jkd", L, X[block_index(N, m)])
    Jc = cp._jac_f(xc.reshape(N * m, d), p).reshape(N, m, d, d).astype(dtype)
    eye = jnp.eye(d, dtype=dtype)
    B = Ld[None, :, None, :, None] * eye[None, None, :, None, :] - (
        (h * T)[:, None, None, None, None] * L[None, :, None, :, None]
        * Jc[:, :, :, None, :])
    return interval_solutions(B.reshape(N, m * d, (m + 1) * d), d)


@filter_jit
def _carry(S, v0):
    """Node values `(ntst·ncol, d)` of the linearised solution started at `v0`."""
    d = v0.shape[0]
    m = S.shape[1] // d

    def step(v, Sj):
        later = (Sj @ v).reshape(m, d)
        return later[-1], jnp.concatenate([v[None], later[:-1]])

    end, nodes = jax.lax.scan(step, v0, S)
    return nodes.reshape(-1, d), end


def pd_eigenfunction(cp: CollocationProblem, u) -> tuple[Float[Array, "nodes d"], float]:
    """The critical Floquet eigenfunction `v(t)` of a cycle `u` at (or near) a period
    doubling: node values `(ntst·ncol, d)` on `cp`'s mesh of the solution of the
    (collocation-discretised) linearised equations that starts at the eigenvector of
    the monodromy matrix for the multiplier nearest −1, so that `v(T) = μ v(0)`,
    `μ ≈ −1`. Normalised to unit integral norm `∫₀¹|v|² = 1`.

    **Returns:** `(nodes, mu)` with `mu` the multiplier used (real).

    **Raises:** `ValueError` if no real multiplier lies within 0.1 of −1.
    """
    u = jnp.asarray(u)
    S = _interval_maps(cp, u)
    M = np.asarray(chain_product(S[:, -cp.dim:, :]))
    ev, V = np.linalg.eig(M)
    i = int(np.argmin(np.abs(ev + 1)))
    if abs(ev[i] + 1) > 0.1 or abs(ev[i].imag) > 1e-8:
        raise ValueError(
            f"The cycle has no multiplier near -1 (nearest: {complex(ev[i]):.6g}); "
            "pass a located period-doubling point (kind 'period_doubling')."
        )
    v0 = jnp.asarray(np.real(V[:, i]), u.dtype)
    nodes, _ = _carry(S, v0)
    w = cp.node_weights(u.dtype)
    nrm = jnp.sqrt(jnp.sum(w[:, None] * nodes**2))
    return nodes / nrm, float(ev[i].real)


# --------------------------------------------------------------------------- refinement
def _pd_det(cp, u):
    D = cp.deflated_monodromy(u)
    return jnp.linalg.det(D + jnp.eye(D.shape[0], dtype=D.dtype))


@filter_jit
def _refine(cp, u, tol, max_iter):
    def body(s):
        it, u, _, _ = s
        H, lin = cp.linearize(u)
        g, dg = jax.value_and_grad(lambda uu: _pd_det(cp, uu))(u)
        # scale the extra equation like the residual: the determinant's size is arbitrary
        scale = 1.0 / jnp.maximum(jnp.linalg.norm(dg), jnp.finfo(u.dtype).tiny)
        rhs = jnp.concatenate([H.astype(u.dtype), (g * scale)[None]])
        du = cp.bordered_solve(u, lin, dg * scale, rhs)
        u_new = u - du
        nrm = jnp.max(jnp.abs(du))
        ok = nrm <= tol * (1 + jnp.max(jnp.abs(u_new)))
        return it + 1, u_new, ok, ~jnp.isfinite(nrm)

    def cond(s):
        it, _, ok, fail = s
        return (~ok) & (~fail) & (it < max_iter)

    it, u, ok, _ = jax.lax.while_loop(
        cond, body, (jnp.zeros((), jnp.int32), u, jnp.zeros((), bool), jnp.zeros((), bool)))
    return u, it, ok


def refine_period_doubling(cp: CollocationProblem, u, *, tol=None, max_iter: int = 12):
    """Newton on the period-doubling defining system `[H(u); det(D(u) + I)] = 0` (the
    collocation equations with the parameter free and the deflated monodromy matrix's
    multiplier −1), from a point near it (e.g. a located special point). Each step is
    one condensed bordered solve of the collocation problem, bordered by the
    determinant's gradient (reverse mode through the monodromy's condensation).

    **Returns:** `(u, iterations, converged)`; convergence: `max|Δu| ≤ tol (1 +
    max|u|)` (default `tol` 1e-12 in float64, 1e-5 in float32).
    """
    u = jnp.asarray(u)
    if u.shape != (cp.size,):
        raise ValueError(
            f"u has shape {u.shape}; this problem's unknowns have shape ({cp.size},).")
    if tol is None:
        tol = 1e-12 if jnp.finfo(u.dtype).bits >= 64 else 1e-5
    return _refine(cp, u, jnp.asarray(tol, u.dtype), int(max_iter))


# --------------------------------------------------------------------------- switch
def _doubled_problem(cp: CollocationProblem, X) -> CollocationProblem:
    mesh = cp.mesh
    mesh2 = jnp.concatenate([mesh[:-1] / 2, 0.5 + mesh / 2])
    return CollocationProblem(cp.problem, jnp.concatenate([X, X]), ntst=2 * cp.ntst,
                              ncol=cp.ncol, mesh=mesh2, stability=cp.stability,
                              detect=cp.detect, norm=cp.norm)


@filter_jit
def _switch_correct(cp2, u_guess, w, c, tol, max_iter):
    from ..continuation.engine import corrector

    return corrector(cp2, u_guess, w, c, tol, max_iter)


def _point_of(cp, branch_or_cycles, index):
    """`(cp_at_point, u)` of special point `index` of a branch / cycle view (or of a
    given `u`)."""
    if isinstance(branch_or_cycles, CycleBranch):
        view = branch_or_cycles
        n = int(view.special.count)
        if not 0 <= index < n:
            raise ValueError(f"index={index}; the branch has {n} special points.")
        kind = SpecialKind(int(view.special.kind[index]))
        if kind != SpecialKind.PERIOD_DOUBLING:
            raise ValueError(f"special point {index} is a {kind.label}, not a "
                             "period_doubling.")
        return (view.special_problem(index),
                jnp.append(view.special.x[index], view.special.p[index]))
    if isinstance(branch_or_cycles, Branch):
        sp = branch_or_cycles.special
        n = int(sp.count)
        if not 0 <= index < n:
            raise ValueError(f"index={index}; the branch has {n} special points.")
        kind = SpecialKind(int(sp.kind[index]))
        if kind != SpecialKind.PERIOD_DOUBLING:
            raise ValueError(f"special point {index} is a {kind.label}, not a "
                             "period_doubling.")
        return cp, jnp.append(sp.x[index], sp.p[index])
    u = jnp.asarray(branch_or_cycles)
    if u.shape != (cp.size,):
        raise ValueError(
            f"Pass a Branch or CycleBranch and the index of its period doubling, or the "
            f"point u itself (shape ({cp.size},)); got shape {u.shape}.")
    return cp, u


def switch_period_doubling(
    cp: CollocationProblem,
    branch_or_cycles,
    index: int = 0,
    *,
    amplitude: float = 0.05,
    refine: bool = True,
    tol=None,
    max_iter: int = 25,
) -> tuple[CollocationProblem, Float[Array, " n"]]:
    """Switch from a located period doubling onto the branch of doubled cycles (module
    docstring).

    **Arguments:**

    - `cp`: the `CollocationProblem` of the branch (for a `CycleBranch`, its own
        problem on the point's mesh is used).
    - `branch_or_cycles`, `index`: a `gru_bif.Branch` (from `gru_bif.continuation` on
        `cp`) or a `CycleBranch`, and the index of its period-doubling special point;
        or the point `u = (nodes, T, p)` itself (then `index` is ignored).
    - `amplitude`: the size of the step off the branch point along the critical
        eigenfunction, relative to the orbit's root-mean-square extent (default 0.05);
        the doubled cycle is found `O(amplitude²)` away in the parameter.
    - `refine`: first refine the point by Newton on the PD defining system
        (`refine_period_doubling`).
    - `tol`, `max_iter`: of the corrector (as `correct_cycle`).

    **Returns:** `(cp2, u2)`: the problem on the doubled period (`2 ntst` intervals,
    mesh concatenated twice, phase reference the doubled start) and the corrected
    doubled cycle (period ≈ `2T`, parameter slightly past the PD point on the side
    where the doubled cycles exist).

    **Raises:** `ValueError` for a special point of another kind, a point without a
    multiplier near −1, or `d < 3`; `RuntimeError` if the corrector fails (try a
    smaller `amplitude`).
    """
    if not isinstance(cp, CollocationProblem):
        raise ValueError(f"`cp` must be a CollocationProblem; got {type(cp).__name__}.")
    if cp.dim < 3:
        raise ValueError(f"Period doubling needs d >= 3; this problem has d = {cp.dim}.")
    if not amplitude > 0:
        raise ValueError(f"amplitude={amplitude}; it must be positive (e.g. 0.05).")
    cp, u = _point_of(cp, branch_or_cycles, int(index))
    cp = cp.with_reference(u)
    if refine:
        u_r, _, ok = refine_period_doubling(cp, u)
        if bool(ok):
            u = u_r
    dtype = u.dtype
    X, T, p = cp.split(u)
    V, _ = pd_eigenfunction(cp, u)
    cp2 = _doubled_problem(cp, X)
    X2 = jnp.concatenate([X, X])
    V2 = jnp.concatenate([V, -V])
    w_nodes = cp2.node_weights(dtype)
    mean = jnp.sum(w_nodes[:, None] * X2, 0)
    rms = jnp.sqrt(jnp.sum(w_nodes[:, None] * (X2 - mean) ** 2))
    eps = amplitude * rms
    # the border: the integral-norm projection onto v₂ (nodes only)
    w = jnp.concatenate([(w_nodes[:, None] * V2).reshape(-1), jnp.zeros((2,), dtype)])
    u_base = cp2.pack(X2, 2 * T, p)
    u_guess = cp2.pack(X2 + eps * V2, 2 * T, p)
    c = jnp.dot(w, u_base) + eps * jnp.sum(w_nodes[:, None] * V2**2)
    if tol is None:
        tol = 1e-10 if jnp.finfo(dtype).bits >= 64 else 1e-5
    u2, _, ok = _switch_correct(cp2, u_guess, w, c, jnp.asarray(tol, dtype), int(max_iter))
    if not bool(ok) or not bool(jnp.all(jnp.isfinite(u2))):
        raise RuntimeError(
            f"The doubled cycle did not converge from amplitude={amplitude}; try a "
            "smaller amplitude (or refine the period-doubling point first).")
    return cp2.with_reference(u2), u2


# --------------------------------------------------------------------------- cascade
@dataclasses.dataclass(frozen=True)
class PeriodDoublingCascade:
    """The result of `period_doubling_cascade`.

    - `p`: `(K,)` the parameter values of the successive period doublings (refined on
        their defining systems); `period`: `(K,)` the period of the cycle that doubles
        at each (≈ `2^k T₀`);
    - `points`: the `K` located points `u = (nodes, T, p)` and `problems` their
        `CollocationProblem`s (period `2^k`-fold; each point refined on the level's
        mesh with every interval halved, `2^{k+1} ntst` intervals);
    - `branches`: the `CycleBranch` of every level (level `k`: the period-`2^k` cycles,
        from the start or the switch up to a bit past the PD point);
    - `starts`: the `(cp, u)` of every doubled cycle after a switch;
    - `multipliers`: `(K,)` the critical multiplier at each located point (≈ −1);
    - `refined`: `(K,)` whether the Newton refinement converged;
    - `delta`: `(K−2,)` Feigenbaum ratios `(p_k − p_{k−1}) / (p_{k+1} − p_k)`;
    - `stop_reason`: why the cascade stopped before `levels` (empty if it did not).
    """

    p: np.ndarray
    period: np.ndarray
    points: tuple
    problems: tuple
    branches: tuple
    starts: tuple
    multipliers: np.ndarray
    refined: np.ndarray
    stop_reason: str = ""

    @property
    def delta(self) -> np.ndarray:
        p = np.asarray(self.p)
        if len(p) < 3:
            return np.zeros((0,))
        return (p[1:-1] - p[:-2]) / (p[2:] - p[1:-1])

    @property
    def levels(self) -> int:
        return len(self.p)

    def summary(self) -> str:
        lines = [f"{'k':>2}  {'p_k':>18}  {'period':>12}  {'delta_k':>10}"]
        d = self.delta
        for k, (pk, Tk) in enumerate(zip(self.p, self.period)):
            dk = f"{d[k - 1]:10.5f}" if 1 <= k <= len(d) else " " * 10
            lines.append(f"{k + 1:>2}  {pk:18.12f}  {Tk:12.6f}  {dk}")
        if self.stop_reason:
            lines.append(f"stopped: {self.stop_reason}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """A JSON-ready dict: `p`, `period`, `delta`, `multipliers`, `stop_reason`."""
        return {"p": [float(v) for v in self.p], "period": [float(v) for v in self.period],
                "delta": [float(v) for v in self.delta],
                "multipliers": [float(v) for v in self.multipliers],
                "stop_reason": self.stop_reason}


def _join(pieces) -> Branch:
    """One `Branch` from consecutive runs (each run's first row repeats the previous
    run's last; special points re-indexed)."""
    if len(pieces) == 1:
        return pieces[0]
    rows = {k: [] for k in ("x", "p", "stable", "n_unstable", "ds", "newton_iterations")}
    sps, offset = [], 0
    for j, br in enumerate(pieces):
        n = int(br.num_points)
        s0 = 0 if j == 0 else 1
        for key in rows:
            rows[key].append(np.asarray(getattr(br, key))[s0:n])
        sp = br.special
        c = int(sp.count)
        if c:
            sps.append((sp, c, offset - s0))
        offset += n - s0
    cat = {k: np.concatenate(v) for k, v in rows.items()}
    first = pieces[0].special
    if sps:
        def spcat(get):
            return np.concatenate([np.asarray(get(sp))[:c] for sp, c, _ in sps])

        special = SpecialPoints(
            kind=jnp.asarray(spcat(lambda s: s.kind)), p=jnp.asarray(spcat(lambda s: s.p)),
            x=jnp.asarray(spcat(lambda s: s.x)),
            index=jnp.asarray(np.concatenate(
                [np.asarray(sp.index)[:c] + off for sp, c, off in sps])),
            precision=jnp.asarray(spcat(lambda s: s.precision)),
            located=jnp.asarray(spcat(lambda s: s.located)),
            tangent=jnp.asarray(spcat(lambda s: s.tangent)),
            data={k: jnp.asarray(np.concatenate([np.asarray(sp.data[k])[:c]
                                                 for sp, c, _ in sps])) for k in first.data},
            count=jnp.asarray(sum(c for _, c, _ in sps), jnp.int32))
    else:
        special = first
    last = pieces[-1]
    return Branch(x=jnp.asarray(cat["x"]), p=jnp.asarray(cat["p"]),
                  stable=jnp.asarray(cat["stable"]), n_unstable=jnp.asarray(cat["n_unstable"]),
                  ds=jnp.asarray(cat["ds"]), newton_iterations=jnp.asarray(
                      cat["newton_iterations"]),
                  num_points=jnp.asarray(len(cat["p"]), jnp.int32), special=special,
                  result=last.result, stats=last.stats, param_name=last.param_name)


def _halved(cp: CollocationProblem, u):
    """`(cp_fine, u_fine)`: the same cycle on the mesh with every interval halved."""
    from .adaptive import _refine_exact

    X, T, p = cp.split(u)
    fine, vals = _refine_exact(cp, X, cp.mesh, 2)
    cp_f = CollocationProblem(cp.problem, vals, ntst=2 * cp.ntst, ncol=cp.ncol, mesh=fine,
                              stability=cp.stability, detect=cp.detect, norm=cp.norm)
    return cp_f, cp_f.pack(vals, T, p)


def _first_pd(branch: Branch, p_start: float, sign: float, tol: float):
    sp = branch.special
    best = None
    for k in range(int(sp.count)):
        if SpecialKind(int(sp.kind[k])) != SpecialKind.PERIOD_DOUBLING:
            continue
        if not bool(sp.located[k]):
            continue
        mu = complex(float(sp.data["mu_re"][k]), float(sp.data["mu_im"][k]))
        pk = float(sp.p[k])
        if abs(mu + 1) > tol or sign * (pk - p_start) <= 0:
            continue
        if best is None or sign * (pk - float(sp.p[best])) < 0:
            best = k
    return best


def period_doubling_cascade(
    cp: CollocationProblem,
    u0,
    *,
    levels: int = 4,
    p_min,
    p_max,
    direction: str = "forward",
    ds: float = 0.05,
    ds_max: float = 0.2,
    max_steps: int = 120,
    chunk: int = 12,
    amplitude: float = 0.05,
    multiplier_tol: float = 1e-6,
    adapt: bool = True,
    tol=None,
) -> PeriodDoublingCascade:
    """Follow a period-doubling cascade: continue the cycles of `u0`, locate their first
    period doubling, switch onto the doubled cycles, and repeat `levels` times (module
    docstring).

    **Arguments:**

    - `cp`, `u0`: a `CollocationProblem` (`d ≥ 3`) and a cycle of it (e.g. from
        `cycle_from_simulation` or a `continue_cycles` row); the mesh should resolve the
        first cycle well — it is doubled with the period at every level.
    - `levels`: how many period doublings to locate.
    - `p_min`, `p_max`: the parameter range; `direction`: `"forward"` or `"backward"`,
        the way to go from `u0` to the first PD point.
    - `ds`, `ds_max`, `max_steps`: continuation steps of each level (in the problem's
        integral norm; the step is scaled down with the spacing of the cascade).
    - `chunk`: a level is continued in compiled runs of this many steps (one program
        per mesh size), and stops with the run that locates its period doubling.
    - `amplitude`: of each switch (`switch_period_doubling`).
    - `multiplier_tol`: a located PD point is used only if its multiplier is −1 within
        this.
    - `adapt`: move the mesh at the start of every level so that it equidistributes
        the collocation error on the level's first cycle (`adapt_mesh`; same `ntst`).
    - `tol`: Newton tolerance of the continuation.

    **Returns:** a `PeriodDoublingCascade` (`p`, `period`, `delta`, the branches, …).
    Fewer than `levels` points are returned, with `stop_reason`, if a level finds no
    period doubling in the range or a switch fails.

    **Raises:** `ValueError` for bad arguments.
    """
    from ..continuation.api import continuation

    if not isinstance(cp, CollocationProblem):
        raise ValueError(f"`cp` must be a CollocationProblem; got {type(cp).__name__}.")
    if cp.dim < 3 or not cp.detect:
        raise ValueError("A period-doubling cascade needs d >= 3 and detect=True; got "
                         f"d = {cp.dim}, detect = {cp.detect}.")
    if direction not in ("forward", "backward"):
        raise ValueError(f"direction={direction!r}; use 'forward' or 'backward'.")
    if int(levels) < 1:
        raise ValueError(f"levels={levels}; use at least 1.")
    u = jnp.asarray(u0)
    if u.shape != (cp.size,):
        raise ValueError(f"u0 has shape {u.shape}; this problem's unknowns have shape "
                         f"({cp.size},).")
    p_min, p_max = float(p_min), float(p_max)
    if not p_min <= float(u[-1]) <= p_max:
        raise ValueError(f"u0's parameter {float(u[-1])} lies outside [{p_min}, {p_max}].")
    sign = 1.0 if direction == "forward" else -1.0
    ps, Ts, pts, cps, views, starts, mus, refined = [], [], [], [], [], [], [], []
    stop = ""
    cur_ds, cur_ds_max = float(ds), float(ds_max)
    for level in range(int(levels)):
        if adapt:
            cp, u = adapt_mesh(cp, u)
        p_start = float(u[-1])
        lo, hi = (p_start, p_max) if sign > 0 else (p_min, p_start)
        pieces, k, steps, u_run = [], None, 0, u
        while steps < int(max_steps):
            cp = cp.with_reference(u_run)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a chunk that used its steps: expected
                br = continuation(cp, u_run[:-1], u_run[-1], p_min=lo, p_max=hi,
                                  ds=sign * cur_ds, ds_max=cur_ds_max,
                                  max_steps=int(chunk), tol=tol, max_special_points=4,
                                  throw=False)
            n = int(br.num_points)
            pieces.append(br)
            steps += max(n - 1, 1)
            k = _first_pd(br, p_start, sign, multiplier_tol)
            if k is not None or n < 2 or br.result != RESULTS.max_steps_reached_continuation:
                break
            u_run = jnp.append(br.x[n - 1], br.p[n - 1])
            if np.isfinite(float(br.ds[n - 1])):
                cur_ds = min(abs(float(br.ds[n - 1])), cur_ds_max)
        br = _join(pieces)
        views.append(CycleBranch(cp, br))
        if k is None:
            stop = (f"level {level + 1}: no period doubling found between "
                    f"{p_start:.10g} and the end of the branch at "
                    f"{float(br.p[int(br.num_points) - 1]):.10g}")
            break
        k = _first_pd(br, p_start, sign, multiplier_tol)
        u_pd = jnp.append(br.special.x[k], br.special.p[k])
        u_r, _, ok = refine_period_doubling(cp, u_pd)
        if bool(ok) and abs(float(u_r[-1]) - float(u_pd[-1])) < 1e-4 * (
                1 + abs(float(u_pd[-1]))):
            u_pd = u_r
        # the reported point: refined again on the mesh with every interval halved (the
        # same piecewise polynomial to start), to `2^-2m` of the discretisation error
        cp_f, u_f = _halved(cp, u_pd)
        u_fr, _, ok_f = refine_period_doubling(cp_f, u_f)
        if bool(ok_f) and abs(float(u_fr[-1]) - float(u_pd[-1])) < 1e-4 * (
                1 + abs(float(u_pd[-1]))):
            cp_f, u_f = cp_f.with_reference(u_fr), u_fr
        refined.append(bool(ok) and bool(ok_f))
        _, T, p = cp_f.split(u_f)
        ps.append(float(p))
        Ts.append(float(T))
        pts.append(u_f)
        cps.append(cp_f)
        mus.append(float(np.real(_crit(cp_f, u_f))))
        if level == int(levels) - 1:
            break
        # the switch: the doubled cycle must start well before the next PD point,
        # ~gap/δ further on: shrink the amplitude (the offset in p goes like its square)
        amp, cp2 = amplitude, None
        limit = abs(ps[-1] - ps[-2]) / (4 * FEIGENBAUM_DELTA) if len(ps) >= 2 else np.inf
        for _ in range(4):
            try:
                cp2, u2 = switch_period_doubling(cp, u_pd, amplitude=amp, refine=False)
            except (ValueError, RuntimeError) as e:
                stop = f"level {level + 1}: switch failed: {e}"
                cp2 = None
                break
            off = abs(float(u2[-1]) - float(u_pd[-1]))
            if off <= limit:
                break
            amp *= 0.8 * math.sqrt(limit / off)
        if cp2 is None:
            break
        side = np.sign(float(u2[-1]) - float(p))
        if side != sign:
            stop = (f"level {level + 1}: the doubled cycles lie on the other side "
                    f"(p = {float(u2[-1]):.10g}): a subcritical period doubling")
            break
        starts.append((cp2, u2))
        cp, u = cp2, u2
        # the cascade's spacing shrinks by ~δ per level: so does the step
        if len(ps) >= 2:
            gap = abs(ps[-1] - ps[-2])
            cur_ds = min(cur_ds, gap / 20)
            cur_ds_max = min(cur_ds_max, gap / 5)
    return PeriodDoublingCascade(
        p=np.asarray(ps), period=np.asarray(Ts), points=tuple(pts), problems=tuple(cps),
        branches=tuple(views), starts=tuple(starts), multipliers=np.asarray(mus),
        refined=np.asarray(refined, bool), stop_reason=stop)


@filter_jit
def _crit_jit(cp, u):
    from .floquet import multipliers_of

    return jnp.atleast_1d(multipliers_of(cp.deflated_monodromy(u)))


def _crit(cp, u):
    mu = np.asarray(_crit_jit(cp, u))
    return mu[np.argmin(np.abs(mu + 1))]
